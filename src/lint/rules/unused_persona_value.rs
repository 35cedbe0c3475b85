use super::*;

pub struct UnusedPersonaValue;

static META: RuleMeta = RuleMeta {
    code: "FT705",
    name: "unused-persona-value",
    group: Group::Generation,
    level: Level::Warning,
    summary: "A flaw or trait value that no persona can get",
    explanation: r#"# FT705 unused-persona-value

**What it does.** Reports what the persona draw can never pick: a trait
value or a flaw with weight 0, and, with `flaw_free 1`, every flaw at
once (no persona has a flaw).

**Why it matters.** Flaws are how simulated users stop being ideal:
people who minimise, ramble, or say "yes, but". A flaw written out with
its `about` and `play` text and then never drawn costs review time and
suggests a diversity the data does not have; `flaw_free 1` usually means
the share was meant as a fraction of flawed personas. The method's origin
kept about 20% of personas flaw-free.

**Bad**
```ftprep
personas {
  flaw_free 1.0
  flaws communication "Communication" {
    flaw vague "Vague about what happened" weight 1 { play "Leave out who and when." }
  }
}
```

**Good**
```ftprep
personas {
  flaw_free 0.2
  flaws communication "Communication" {
    flaw vague "Vague about what happened" weight 1 { play "Leave out who and when." }
  }
}
```
"#,
};

impl Rule for UnusedPersonaValue {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        let Some(personas) = &cx.spec.personas else {
            return;
        };
        let flaws: Vec<&crate::model::Flaw> =
            personas.flaw_kinds.iter().flat_map(|k| &k.flaws).collect();
        let all_flaw_free = personas
            .flaw_free
            .as_ref()
            .filter(|f| f.units >= crate::score::SCALE);
        if let Some(share) = all_flaw_free
            && !flaws.is_empty()
        {
            let mut finding = cx
                .finding(
                    &META,
                    format!(
                        "`flaw_free {}` leaves {} unused: no persona has a flaw",
                        share.raw,
                        plural(flaws.len(), "flaw")
                    ),
                )
                .at(share.span, "every persona is flaw-free");
            for f in flaws.iter().take(3) {
                finding = finding.also(f.id.span, "never drawn");
            }
            out.push(finding.help(
                "`flaw_free` is the share of personas with no flaw (the method suggests about 0.2); lower it, or remove the flaws",
            ));
        } else {
            for f in &flaws {
                if f.weight.units == 0 {
                    out.push(
                        cx.finding(
                            &META,
                            format!("flaw `{}` has weight 0: no persona gets it", f.id.name),
                        )
                        .at(f.weight.span, "never drawn")
                        .help("give the flaw a share of the flawed personas, or remove it"),
                    );
                }
            }
        }
        for t in &personas.traits {
            for v in &t.values {
                if v.weight.units == 0 {
                    out.push(
                        cx.finding(
                            &META,
                            format!(
                                "trait value `{}.{}` has weight 0: no persona gets it",
                                t.id.name, v.id.name
                            ),
                        )
                        .at(v.weight.span, "never drawn")
                        .help("give the value a share of the personas, or remove it"),
                    );
                }
            }
        }
    }
}
