//! Stage 4: model → artifacts.
//!
//! In: a [`Spec`] without errors. Out: the files of a build, as
//! `(relative path, contents)` pairs in a fixed order; writing them is the
//! CLI's job. Markdown artifacts come from minijinja templates embedded in
//! the binary (overridable with `--templates DIR`), rendered with strict
//! undefined behaviour so a template naming a missing value is an error,
//! never an empty string. `scoring.toml` and the JSON Schema are built with
//! serde, not templates: machines read them.

pub mod context;
mod schema;
pub mod training;

use crate::model::Spec;
use crate::score::config::{
    CategoryEntry, GateEntry, QuestionEntry, SCORING_VERSION, ScoringFile, units_to_f64,
};
use indexmap::IndexMap;
use minijinja::value::{Serde, Value};
use minijinja::{Environment, UndefinedBehavior, context, syntax::SyntaxConfig};
use std::collections::BTreeMap;
use std::path::Path;

/// The embedded templates, by name.
pub const TEMPLATES: &[(&str, &str)] = &[
    ("macros.j2", include_str!("templates/macros.j2")),
    (
        "evaluation-prompt.md.j2",
        include_str!("templates/evaluation-prompt.md.j2"),
    ),
    (
        "generation-prompt.md.j2",
        include_str!("templates/generation-prompt.md.j2"),
    ),
    ("assistant.md.j2", include_str!("templates/assistant.md.j2")),
    (
        "user-simulator.md.j2",
        include_str!("templates/user-simulator.md.j2"),
    ),
    (
        "training-system.md.j2",
        include_str!("templates/training-system.md.j2"),
    ),
    (
        "judge-question.md.j2",
        include_str!("templates/judge-question.md.j2"),
    ),
    (
        "domain-frameworks.md.j2",
        include_str!("templates/domain-frameworks.md.j2"),
    ),
    (
        "evaluation-rubric.md.j2",
        include_str!("templates/evaluation-rubric.md.j2"),
    ),
    (REPORT_TEMPLATE, include_str!("templates/report.html.j2")),
];

/// The template of `ftprep score --report`, the one HTML template: it is
/// rendered by `score`, never by a build.
pub const REPORT_TEMPLATE: &str = "report.html.j2";

/// The template of the per-question judge prompts, rendered only for specs
/// whose judge makes one call per question.
const JUDGE_QUESTION_TEMPLATE: &str = "judge-question.md.j2";

/// One output file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    /// Relative to the output directory, with `/` separators.
    pub path: String,
    pub contents: String,
}

/// Why the artifacts could not be produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmitError {
    pub message: String,
    pub help: Option<String>,
}

impl std::fmt::Display for EmitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Templates in use: the embedded ones, some possibly overridden.
#[derive(Debug, Clone, Default)]
pub struct Templates {
    overrides: BTreeMap<String, String>,
}

impl Templates {
    /// The embedded templates only.
    pub fn embedded() -> Self {
        Templates::default()
    }

    /// Reads every `*.j2` file of `dir` whose name matches an embedded
    /// template; other files are an error, so a typo in a file name does
    /// not silently fall back to the embedded template.
    pub fn from_dir(dir: &Path) -> Result<Self, EmitError> {
        let entries = std::fs::read_dir(dir).map_err(|e| EmitError {
            message: format!("cannot read the templates directory {}: {e}", dir.display()),
            help: None,
        })?;
        let mut overrides = BTreeMap::new();
        let mut names: Vec<_> = entries.filter_map(|e| e.ok()).map(|e| e.path()).collect();
        names.sort();
        for path in names {
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            if !name.ends_with(".j2") {
                continue;
            }
            if !TEMPLATES.iter().any(|(n, _)| *n == name) {
                let known: Vec<&str> = TEMPLATES.iter().map(|(n, _)| *n).collect();
                return Err(EmitError {
                    message: format!("{} does not override any template", path.display()),
                    help: Some(format!("template files are named {}", known.join(", "))),
                });
            }
            let source = std::fs::read_to_string(&path).map_err(|e| EmitError {
                message: format!("cannot read {}: {e}", path.display()),
                help: None,
            })?;
            overrides.insert(name.to_string(), source);
        }
        Ok(Templates { overrides })
    }

    /// Renders the HTML report of `ftprep score` from `context` (a
    /// [`crate::score::html::Report`]).
    pub fn render_report(&self, context: &impl serde::Serialize) -> Result<String, EmitError> {
        let env = self.clone().environment()?;
        let template = env.get_template(REPORT_TEMPLATE).map_err(template_error)?;
        let text = template
            .render(Value::from(Serde(context)))
            .map_err(template_error)?;
        Ok(finish(text))
    }

    /// The environment with the user's templates compiled (so that a broken
    /// one is reported even by a run that does not render it) and the
    /// embedded ones compiled when first rendered: most specs never render
    /// the per-question judge prompt, and only `score` renders the report.
    fn environment(self) -> Result<Environment<'static>, EmitError> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        let syntax = SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .build()
            .map_err(template_error)?;
        env.set_syntax(syntax);
        // Prompts are markdown, not HTML; the report is HTML, escaped.
        env.set_auto_escape_callback(|name| {
            if name.ends_with(".html.j2") {
                minijinja::AutoEscape::Html
            } else {
                minijinja::AutoEscape::None
            }
        });
        env.add_filter("sentence", sentence);
        env.add_filter("fence", fence);
        // A user's template is compiled now, so that one with a syntax
        // error is reported even by a build that does not render it.
        for (name, source) in self.overrides {
            env.add_template_owned(name, source)
                .map_err(template_error)?;
        }
        env.set_loader(|name| {
            Ok(TEMPLATES
                .iter()
                .find(|(embedded, _)| *embedded == name)
                .map(|(_, source)| source.to_string()))
        });
        Ok(env)
    }
}

/// Wraps text in a markdown code fence longer than any run of backticks
/// inside it, so a code block in a user's example cannot end the fence:
/// `{{ c.transcript | fence("text") }}`.
fn fence(text: String, language: String) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    let ticks = "`".repeat(longest.max(2) + 1);
    format!("{ticks}{language}\n{text}\n{ticks}")
}

/// Ends a fragment of user text with a full stop unless it already ends
/// with punctuation: `{{ t.when | sentence }}`.
pub(crate) fn sentence(text: String) -> String {
    let trimmed = text.trim_end();
    // Look through closing quotes and brackets: `... 'wrong'` needs a full
    // stop, `... "Go home."` does not.
    let last = trimmed.chars().rev().find(|c| !"\"')]»”’".contains(*c));
    match last {
        None => trimmed.to_string(),
        Some(c) if ".!?:;…".contains(c) => trimmed.to_string(),
        Some(_) => format!("{trimmed}."),
    }
}

fn template_error(error: minijinja::Error) -> EmitError {
    use minijinja::ErrorKind;
    // What to do next depends on what went wrong: a syntax error is fixed
    // in the template, a missing name by reading the documented context.
    let help = match error.kind() {
        ErrorKind::SyntaxError | ErrorKind::BadEscape | ErrorKind::UnknownBlock => {
            "fix the template's syntax: minijinja follows Jinja2 (https://docs.rs/minijinja/latest/minijinja/syntax/)"
        }
        ErrorKind::UndefinedError => {
            "templates render with strict undefined values: every name must exist in the context documented in docs/templates.md"
        }
        ErrorKind::UnknownFilter
        | ErrorKind::UnknownTest
        | ErrorKind::UnknownFunction
        | ErrorKind::UnknownMethod => {
            "templates have minijinja's built-in filters, tests and functions and the two docs/templates.md adds (`sentence`, `fence`)"
        }
        ErrorKind::TemplateNotFound | ErrorKind::BadInclude => {
            "templates can import or include only the embedded templates listed in docs/templates.md"
        }
        _ => "see docs/templates.md for the context and filters templates can use",
    };
    let mut message = format!("template error: {error}");
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        message.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    EmitError {
        message,
        help: Some(help.to_string()),
    }
}

/// Produces every artifact of a build, in a fixed order.
pub fn emit(
    spec: &Spec,
    file_name: &str,
    source: &str,
    templates: &Templates,
) -> Result<Vec<Artifact>, EmitError> {
    let env = templates.clone().environment()?;
    let sha256 = sha256_hex(source.as_bytes());
    let context = context::build(spec, file_name, &sha256);
    // Serialised once: a minijinja value shares its data between renders.
    let base = Value::from(Serde(&context));
    let render = |path: String, template: &str, context: Value| -> Result<Artifact, EmitError> {
        let template = env.get_template(template).map_err(template_error)?;
        let text = template.render(context).map_err(template_error)?;
        Ok(Artifact {
            path,
            contents: finish(text),
        })
    };
    let mut artifacts = vec![
        render(
            "prompts/evaluation-prompt.md".into(),
            "evaluation-prompt.md.j2",
            base.clone(),
        )?,
        render(
            "prompts/generation-prompt.md".into(),
            "generation-prompt.md.j2",
            base.clone(),
        )?,
    ];
    artifacts.push(render(
        "prompts/assistant.md".into(),
        "assistant.md.j2",
        base.clone(),
    )?);
    artifacts.push(render(
        "prompts/user-simulator.md".into(),
        "user-simulator.md.j2",
        base.clone(),
    )?);
    artifacts.push(render(
        "prompts/training-system.md".into(),
        "training-system.md.j2",
        base.clone(),
    )?);
    if spec.judge.per_question {
        for q in &context.rubric.questions {
            artifacts.push(render(
                format!("prompts/judge/{}.md", q.id),
                JUDGE_QUESTION_TEMPLATE,
                context! { question => Serde(q), ..base.clone() },
            )?);
        }
    }
    artifacts.push(render(
        "reference/domain-frameworks.md".into(),
        "domain-frameworks.md.j2",
        base.clone(),
    )?);
    artifacts.push(render(
        "reference/evaluation-rubric.md".into(),
        "evaluation-rubric.md.j2",
        base,
    )?);
    artifacts.push(Artifact {
        path: "scoring.toml".into(),
        contents: scoring_toml(spec, file_name, &sha256),
    });
    artifacts.push(Artifact {
        path: "judge-output.schema.json".into(),
        contents: schema::judge_output_schema(spec),
    });
    Ok(artifacts)
}

/// Exactly one newline at the end, none of the template's trailing blank
/// lines.
fn finish(mut text: String) -> String {
    let trimmed = text.trim_end().len();
    text.truncate(trimmed);
    text.push('\n');
    text
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The scoring file of a spec.
pub fn scoring_file(spec: &Spec, sha256: &str) -> ScoringFile {
    let rubric = &spec.rubric;
    let mut questions = IndexMap::new();
    for q in &rubric.questions {
        questions.insert(
            q.id.name.clone(),
            QuestionEntry {
                text: q.text.value.clone(),
                group: spec.group(q.group).id.name.clone(),
                when: q.condition.as_ref().map(|c| c.value.clone()),
                na: q.condition.as_ref().map(|_| q.na),
            },
        );
    }
    let ids = |group: &crate::model::Group| -> Vec<String> {
        group
            .questions
            .iter()
            .map(|&i| rubric.questions[i].id.name.clone())
            .collect()
    };
    ScoringFile {
        version: SCORING_VERSION,
        spec: spec.domain.id.name.clone(),
        spec_sha256: sha256.to_string(),
        threshold: units_to_f64(rubric.threshold.units),
        aggregate: spec.judge.aggregate,
        gate: GateEntry {
            id: rubric.gate.id.name.clone(),
            title: rubric.gate.title.value.clone(),
            questions: ids(&rubric.gate),
        },
        categories: rubric
            .categories
            .iter()
            .map(|c| CategoryEntry {
                id: c.id.name.clone(),
                title: c.title.value.clone(),
                weight: units_to_f64(c.weight.as_ref().map(|w| w.units).unwrap_or(0)),
                all_na: c.all_na,
                questions: ids(c),
            })
            .collect(),
        questions,
    }
}

fn scoring_toml(spec: &Spec, file_name: &str, sha256: &str) -> String {
    let header = format!(
        "# Scoring configuration for `{}`, generated by ftprep from {file_name}.\n\
         # Edit the spec and rebuild rather than this file. Schema: docs/artifacts.md.\n\
         # A response passes when no gate question is answered NO and the weighted\n\
         # score (sum of weight x YES/answered per category) is at least `threshold`.\n\n",
        spec.domain.id.name
    );
    header + &scoring_file(spec, sha256).to_toml()
}

#[cfg(test)]
mod tests {
    use super::{fence, sentence};

    #[test]
    fn fences_outgrow_the_backticks_inside() {
        assert_eq!(fence("a".into(), "text".into()), "```text\na\n```");
        assert_eq!(
            fence("see ```diff\n-x\n```".into(), "text".into()),
            "````text\nsee ```diff\n-x\n```\n````"
        );
    }

    #[test]
    fn sentence_adds_a_full_stop_only_where_missing() {
        assert_eq!(sentence("Name the emotion".into()), "Name the emotion.");
        assert_eq!(sentence("Name it.".into()), "Name it.");
        assert_eq!(sentence("Never say 'wrong'".into()), "Never say 'wrong'.");
        assert_eq!(sentence("Say \"Go home.\"".into()), "Say \"Go home.\"");
        assert_eq!(sentence("Why?  ".into()), "Why?");
        assert_eq!(sentence("".into()), "");
    }
}
