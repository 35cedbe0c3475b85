//! Lint configuration: count bounds and thresholds (the method's numbers
//! by default), rule levels, and suppressions, resolved from the spec's
//! `lint` block and the command line.

use super::{Level, ResolvedSuppression, Settings, find_rule};
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::model::Spec;
use crate::score::{SCALE, format_decimal, parse_decimal};
use std::collections::HashMap;

/// Bounds the count and similarity rules check against. Each can be set in
/// the spec's `lint` block: `questions 12..20`, `similarity 0.7`.
#[derive(Debug, Clone, PartialEq)]
pub struct Bounds {
    /// Questions in the rubric, gate included (FT101).
    pub questions: (u64, u64),
    /// Groups, the gate counted as one (FT102).
    pub categories: (u64, u64),
    /// Questions in each weighted category (FT103).
    pub category_size: (u64, u64),
    /// ALWAYS anchors (FT104).
    pub always: (u64, u64),
    /// NEVER anchors (FT105).
    pub never: (u64, u64),
    /// Few-shot examples (FT106).
    pub fewshots: (u64, u64),
    /// The pass threshold, in units of 10⁻⁹ (FT107).
    pub threshold: (i64, i64),
    /// The largest ratio between two questions' effective weights (FT501).
    pub weight_ratio: f64,
    /// Jaccard similarity of content words above which two questions or
    /// two anchors look like duplicates (FT401, FT402).
    pub similarity: f64,
    /// Similarity above which an ALWAYS and a NEVER anchor contradict
    /// (FT403).
    pub contradiction: f64,
    /// The share of its dimension above which one value dominates it, in
    /// units of 10⁻⁹ (FT704).
    pub dominant_share: i64,
    /// The most words a generated conversation may run to (FT707).
    pub conversation_words: u64,
}

impl Default for Bounds {
    fn default() -> Self {
        Bounds {
            questions: (15, 20),
            categories: (4, 6),
            category_size: (3, 4),
            always: (6, 10),
            never: (8, 12),
            fewshots: (3, 5),
            threshold: (700_000_000, 800_000_000),
            weight_ratio: 3.0,
            similarity: 0.6,
            contradiction: 0.75,
            dominant_share: 800_000_000,
            conversation_words: 6_000,
        }
    }
}

/// The bound settings a `lint` block accepts, with what they take.
pub const BOUND_NAMES: &[(&str, &str)] = &[
    ("questions", "a range of counts, such as `15..20`"),
    ("categories", "a range of counts, such as `4..6`"),
    ("category_size", "a range of counts, such as `3..4`"),
    ("always", "a range of counts, such as `6..10`"),
    ("never", "a range of counts, such as `8..12`"),
    ("fewshots", "a range of counts, such as `3..5`"),
    ("threshold", "a range of decimals, such as `0.70..0.80`"),
    ("weight_ratio", "a number of at least 1, such as `3`"),
    ("similarity", "a decimal between 0 and 1, such as `0.6`"),
    ("contradiction", "a decimal between 0 and 1, such as `0.75`"),
    ("dominant_share", "a decimal between 0 and 1, such as `0.8`"),
    (
        "conversation_words",
        "a whole number of words, such as `6000`",
    ),
];

/// Level overrides from the command line.
#[derive(Debug, Clone, Default)]
pub struct LintOptions {
    pub deny: Vec<String>,
    pub warn: Vec<String>,
    pub allow: Vec<String>,
}

fn unknown_code(code: &str, span: crate::source::Span) -> Diagnostic {
    let names: Vec<String> = super::rules::RULES
        .iter()
        .flat_map(|r| [r.meta().code.to_string(), r.meta().name.to_string()])
        .collect();
    let diagnostic = Diagnostic::error("unknown-lint", format!("no lint rule is called `{code}`"))
        .at(span, "unknown rule");
    match crate::model::nearest(code, &names) {
        Some(near) => diagnostic.help(format!(
            "did you mean `{near}`? `ftprep rules` lists every rule"
        )),
        None => diagnostic.help("`ftprep rules` lists every rule with its code and name"),
    }
}

/// Resolves levels, bounds and suppressions; reports bad directives.
pub fn resolve(spec: &Spec, options: &LintOptions, diagnostics: &mut Diagnostics) -> Settings {
    let directives = &spec.lint;
    let mut levels: HashMap<&'static str, Level> = HashMap::new();
    let mut deny_warnings = false;

    for setting in &directives.levels {
        if setting.code.text == "warnings" {
            if setting.deny {
                deny_warnings = true;
            } else {
                diagnostics.push(
                    Diagnostic::error("invalid-lint-setting", "`warn warnings` has no effect")
                        .at(setting.span, "warnings are warnings already")
                        .help("write `deny warnings` to make every warning an error"),
                );
            }
            continue;
        }
        match find_rule(&setting.code.text) {
            Some(rule) => {
                levels.insert(
                    rule.code,
                    if setting.deny {
                        Level::Error
                    } else {
                        Level::Warning
                    },
                );
            }
            None => diagnostics.push(unknown_code(&setting.code.text, setting.code.span)),
        }
    }

    // The command line wins over the spec; an unknown code there is a
    // usage error reported by the CLI before linting, so skip it here.
    for (list, level) in [
        (&options.warn, Level::Warning),
        (&options.deny, Level::Error),
        (&options.allow, Level::Allow),
    ] {
        for code in list {
            if code == "warnings" {
                if level == Level::Error {
                    deny_warnings = true;
                }
                continue;
            }
            if let Some(rule) = find_rule(code) {
                levels.insert(rule.code, level);
            }
        }
    }

    let bounds = resolve_bounds(spec, diagnostics);

    let mut suppressions = Vec::new();
    for s in &directives.suppressions {
        let rule = find_rule(&s.code.text);
        if rule.is_none() {
            diagnostics.push(unknown_code(&s.code.text, s.code.span));
        }
        let has_reason = s
            .reason
            .as_ref()
            .is_some_and(|r| !r.value.trim().is_empty());
        if !has_reason {
            diagnostics.push(
                Diagnostic::error(
                    "suppression-without-reason",
                    format!("`allow {}` gives no reason", s.code.text),
                )
                .at(s.span, "a suppression needs a reason")
                .help(format!(
                    "say why the rule does not apply here: `allow {} \"...\"`",
                    s.code.text
                )),
            );
        }
        suppressions.push(ResolvedSuppression {
            rule,
            scope: s.scope,
            span: s.span,
        });
    }

    Settings {
        bounds,
        levels,
        deny_warnings,
        suppressions,
    }
}

fn resolve_bounds(spec: &Spec, diagnostics: &mut Diagnostics) -> Bounds {
    let mut bounds = Bounds::default();
    let names: Vec<String> = BOUND_NAMES.iter().map(|(n, _)| n.to_string()).collect();
    for b in &spec.lint.bounds {
        let name = b.name.name.as_str();
        let Some((_, takes)) = BOUND_NAMES.iter().find(|(n, _)| *n == name) else {
            let diagnostic = Diagnostic::error(
                "unknown-lint-setting",
                format!("`{name}` is not a lint setting"),
            )
            .at(b.name.span, "unknown setting");
            diagnostics.push(match crate::model::nearest(name, &names) {
                Some(near) => diagnostic.help(format!("did you mean `{near}`?")),
                None => diagnostic.help(format!(
                    "the settings are {}",
                    BOUND_NAMES
                        .iter()
                        .map(|(n, _)| format!("`{n}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            });
            continue;
        };
        let invalid = |diagnostics: &mut Diagnostics| {
            diagnostics.push(
                Diagnostic::error("invalid-lint-setting", format!("`{name}` takes {takes}"))
                    .at(b.span, "not a valid value")
                    .help(format!("write it as `{name}` followed by {takes}")),
            );
        };
        let count = |n: &crate::syntax::ast::Number| n.raw.parse::<u64>().ok();
        let decimal = |n: &crate::syntax::ast::Number| parse_decimal(&n.raw);
        match name {
            "questions" | "categories" | "category_size" | "always" | "never" | "fewshots" => {
                let min = count(&b.min);
                let max = b.max.as_ref().map(count).unwrap_or(min);
                match (min, max) {
                    (Some(min), Some(max)) if min > max => {
                        diagnostics.push(reversed_range(name, b));
                    }
                    (Some(min), Some(max)) => {
                        let slot = match name {
                            "questions" => &mut bounds.questions,
                            "categories" => &mut bounds.categories,
                            "category_size" => &mut bounds.category_size,
                            "always" => &mut bounds.always,
                            "never" => &mut bounds.never,
                            _ => &mut bounds.fewshots,
                        };
                        *slot = (min, max);
                    }
                    _ => invalid(diagnostics),
                }
            }
            "threshold" => {
                let min = decimal(&b.min);
                let max = b.max.as_ref().map(decimal).unwrap_or(min);
                match (min, max) {
                    (Some(min), Some(max)) if min > max && min <= SCALE => {
                        diagnostics.push(reversed_range(name, b));
                    }
                    (Some(min), Some(max)) if max <= SCALE => bounds.threshold = (min, max),
                    _ => invalid(diagnostics),
                }
            }
            _ => {
                let value = decimal(&b.min).filter(|_| b.max.is_none());
                match (name, value) {
                    ("weight_ratio", Some(v)) if v >= SCALE => {
                        bounds.weight_ratio = v as f64 / SCALE as f64
                    }
                    ("similarity", Some(v)) if v > 0 && v <= SCALE => {
                        bounds.similarity = v as f64 / SCALE as f64
                    }
                    ("contradiction", Some(v)) if v > 0 && v <= SCALE => {
                        bounds.contradiction = v as f64 / SCALE as f64
                    }
                    ("dominant_share", Some(v)) if v > 0 && v < SCALE => bounds.dominant_share = v,
                    ("conversation_words", _) => match count(&b.min).filter(|_| b.max.is_none()) {
                        Some(n) if n > 0 => bounds.conversation_words = n,
                        _ => invalid(diagnostics),
                    },
                    _ => invalid(diagnostics),
                }
            }
        }
    }
    bounds
}

/// A range written high to low, such as `questions 20..15`.
fn reversed_range(name: &str, b: &crate::model::LintBound) -> Diagnostic {
    let high = &b.min.raw;
    let low = b.max.as_ref().map_or(high, |n| &n.raw);
    Diagnostic::error(
        "invalid-lint-setting",
        format!("the range of `{name}` runs from high to low"),
    )
    .at(b.span, "its low end is above its high end")
    .help(format!("write the low end first: `{name} {low}..{high}`"))
}

/// `0.70..0.80` for messages: at least two decimal places.
pub fn decimal_range(range: (i64, i64)) -> String {
    let show = |units: i64| {
        let text = format_decimal(units);
        match text.split_once('.') {
            Some((_, frac)) if frac.len() >= 2 => text,
            Some(_) => format!("{text}0"),
            None => format!("{text}.00"),
        }
    };
    format!("{}..{}", show(range.0), show(range.1))
}

/// Validates command-line codes before anything runs.
pub fn check_options(options: &LintOptions) -> Result<(), String> {
    for code in options
        .deny
        .iter()
        .chain(&options.warn)
        .chain(&options.allow)
    {
        if code == "warnings" {
            continue;
        }
        if find_rule(code).is_none() {
            let names: Vec<String> = super::rules::RULES
                .iter()
                .flat_map(|r| [r.meta().code.to_string(), r.meta().name.to_string()])
                .collect();
            let hint = crate::model::nearest(code, &names)
                .map(|n| format!(" (did you mean `{n}`?)"))
                .unwrap_or_default();
            return Err(format!(
                "no lint rule is called `{code}`{hint}; `ftprep rules` lists them"
            ));
        }
    }
    Ok(())
}
