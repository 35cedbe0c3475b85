use super::*;

pub struct UnplayableFlaw;

static META: RuleMeta = RuleMeta {
    code: "FT706",
    name: "unplayable-flaw",
    group: Group::Generation,
    level: Level::Warning,
    summary: "A flaw without `play` text, which the simulated user cannot act out",
    explanation: r#"# FT706 unplayable-flaw

**What it does.** Reports a `flaw` with no `play` text.

**Why it matters.** The simulated user's prompt tells it how to play each
flaw its persona has, in the second person, turn by turn. A title and an
`about` describe the flaw to a reader; without `play` the simulator gets
only the title, and a model asked to be "vague" or "resistant" with no
instruction plays it as a polite, cooperative user with a word of
reluctance, which is the data the flaw was meant to avoid.

**Bad**
```ftprep
flaw yes_but "Meets each suggestion with a reason it will not work" weight 0.2 {
  about "Often exhausted rather than stubborn."
}
```

**Good**
```ftprep
flaw yes_but "Meets each suggestion with a reason it will not work" weight 0.2 {
  about "Often exhausted rather than stubborn."
  play  "Answer each suggestion with 'yes, but' and one concrete reason it won't work for you."
}
```
"#,
};

impl Rule for UnplayableFlaw {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        let Some(personas) = &cx.spec.personas else {
            return;
        };
        for flaw in personas.flaw_kinds.iter().flat_map(|k| &k.flaws) {
            let playable = flaw
                .play
                .as_ref()
                .is_some_and(|p| !p.value.trim().is_empty());
            if playable {
                continue;
            }
            out.push(
                cx.finding(
                    &META,
                    format!("flaw `{}` has no `play` text: the simulated user is not told how to act it out", flaw.id.name),
                )
                .at(flaw.id.span, "no `play`")
                .help("add `play \"...\"` in its body: an instruction to the simulated user, in the second person, such as \"Answer each suggestion with 'yes, but' and a reason.\""),
            );
        }
    }
}
