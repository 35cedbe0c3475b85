use super::*;

pub struct MinTurnsUnreachable;

static META: RuleMeta = RuleMeta {
    code: "FT708",
    name: "min-turns-unreachable",
    group: Group::Generation,
    level: Level::Warning,
    summary: "A question whose `min_turns` is above the generation's most exchanges, so it is never asked",
    explanation: r#"# FT708 min-turns-unreachable

**What it does.** Reports a question whose `min_turns` is larger than the
most exchanges `generation` gives a conversation (the high end of
`turns`).

**Why it matters.** A question with `min_turns N` is decided N/A by the
program, without a judge, for every conversation with fewer than N
exchanges. If no generated conversation is that long, the question is
never asked of the generated data: its category scores as if it did not
exist, and the pilot's pass rate says nothing about what it checks. Either
the question needs fewer earlier turns than written, or the conversations
should be longer.

**Bad**
```ftprep
generation { turns 1..3 }
CN3 "Does the response refer back to something the user said earlier?" { min_turns 4 }
```

**Good**
```ftprep
generation { turns 2..5 }
CN3 "Does the response refer back to something the user said earlier?" { min_turns 2 }
```
"#,
};

impl Rule for MinTurnsUnreachable {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        let generation = &cx.spec.generation;
        for q in &cx.spec.rubric.questions {
            let Some(min) = q.min_turns else { continue };
            if min <= generation.turns_max {
                continue;
            }
            out.push(
                cx.finding(
                    &META,
                    format!(
                        "question `{}` is never asked of generated conversations: it needs {}, and `turns` gives at most {}",
                        q.id.name,
                        plural(min as usize, "exchange"),
                        generation.turns_max
                    ),
                )
                .at(q.id.span, format!("min_turns {min}"))
                .also(generation.turns_span, "the most exchanges generated")
                .help(format!(
                    "lower `min_turns` to at most {}, or raise the high end of `turns` to {min} or more",
                    generation.turns_max
                )),
            );
        }
    }
}
