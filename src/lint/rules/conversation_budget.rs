use super::*;
use crate::score::SCALE;

pub struct ConversationBudget;

static META: RuleMeta = RuleMeta {
    code: "FT707",
    name: "conversation-over-budget",
    group: Group::Generation,
    level: Level::Warning,
    summary: "The turn range and the simulator's length rules let a conversation run past 6,000 words",
    explanation: r#"# FT707 conversation-over-budget

**What it does.** Computes the longest conversation the spec's length
rules allow and reports it when it is over the budget (6,000 words, set
with `conversation_words` in the `lint` block):

```text
longest = turns max × (user max + assistant max)
user max      = the highest `words` maximum of the user simulator
assistant max = user max × the ratio's `limit` (its high end without one)
```

With no `ratio`, only the user's words are counted. A spec whose user
simulator has no `words` rule has no length rules, and the rule is quiet.

**Why it matters.** In `simulate` mode both models read the whole
conversation so far at every turn, and the judge reads all of it: a
conversation of 6 exchanges where a verbose user writes 150 words and the
assistant may answer with twice as many runs to 2,700 words; at 20
exchanges it is 9,000, past what small models (8,000 tokens, about 6,000
words) hold beside their prompt. The last turns are then written and judged
from a truncated or overflowing context, or not at all.

**Bad**
```ftprep
generation { turns 4..20  ratio 1.0..1.5 limit 2.0 }
user_simulator { words style.verbose 60..150 }
```

**Good**
```ftprep
generation { turns 3..8  ratio 1.0..1.5 limit 2.0 }
user_simulator { words style.verbose 60..150 }
```
"#,
};

impl Rule for ConversationBudget {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        let spec = cx.spec;
        let Some(simulator) = &spec.user_simulator else {
            return;
        };
        // The longest user message any style allows (the first, on a tie).
        let Some(longest) = simulator
            .words
            .iter()
            .reduce(|best, r| if r.max > best.max { r } else { best })
        else {
            return;
        };
        let generation = &spec.generation;
        let user = u64::from(longest.max);
        let cap = generation
            .ratio
            .as_ref()
            .map(|r| r.limit.as_ref().unwrap_or(&r.max));
        let assistant = cap.map_or(0, |c| {
            (u128::from(user) * c.units.max(0) as u128 / SCALE as u128) as u64
        });
        let turns = u64::from(generation.turns_max);
        let total = turns * (user + assistant);
        let budget = cx.bounds.conversation_words;
        if total <= budget {
            return;
        }
        let target = spec
            .words_target(longest)
            .map(|(d, v)| format!("{}.{}", d.id.name, v.id.name))
            .unwrap_or_default();
        let breakdown = match cap {
            Some(c) => format!(
                "{turns} exchanges × ({user} user words for `{target}` + {assistant} assistant words at ratio {})",
                c.raw
            ),
            None => format!("{turns} exchanges × {user} user words for `{target}`"),
        };
        let mut finding = cx
            .finding(
                &META,
                format!(
                    "a conversation can run to {total} words, over the {budget}-word budget: {breakdown}"
                ),
            )
            .at(
                generation.turns_span,
                format!("up to {turns} exchanges"),
            )
            .also(longest.span, format!("up to {user} words a message"));
        if let (Some(rule), Some(c)) = (&generation.ratio, cap) {
            finding = finding.also(rule.span, format!("up to {} × the user's words", c.raw));
        }
        out.push(finding.help(format!(
            "both models read the whole conversation at every turn, and the judge reads all of it: keep turns × (user + assistant words) within {budget} by lowering the high end of `turns`, the longest `words` range or the ratio's limit, or raise `conversation_words` in the `lint` block for models with a longer context"
        )));
    }
}
