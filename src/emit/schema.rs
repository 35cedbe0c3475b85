//! `judge-output.schema.json`: the shape of the judge's answer object, as
//! JSON Schema (draft 2020-12). It is written to be accepted as-is by LLM
//! structured-output modes: every property required, no additional
//! properties, and `evidence` ordered before `answer` so a model writes
//! its evidence first.
//!
//! The schema is typed rather than built as a `serde_json::Value`: a value
//! tree of the therapy spec's schema took 0.1 ms and 116 KB of heap to
//! build, for a 14 KB file. Fields serialise in the order they are
//! declared, which is the order of the file.

use crate::model::Spec;
use serde::Serialize;
use serde::ser::SerializeMap;

const EVIDENCE: &str = "The words of the conversation that decide the answer, quoted with turn labels (A2: \"...\"), or a note that there are none.";

pub fn judge_output_schema(spec: &Spec) -> String {
    let questions = &spec.rubric.questions;
    let schema = Schema {
        schema: "https://json-schema.org/draft/2020-12/schema",
        title: format!("{} judge output", spec.domain.id.name),
        description: format!(
            "Answers of an LLM judge to the {} rubric questions of `{}`. YES is always the desired answer.",
            questions.len(),
            spec.domain.id.name
        ),
        kind: "object",
        properties: Properties(spec),
        required: questions.iter().map(|q| q.id.name.as_str()).collect(),
        additional_properties: false,
    };
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

#[derive(Serialize)]
struct Schema<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    title: String,
    description: String,
    #[serde(rename = "type")]
    kind: &'static str,
    properties: Properties<'a>,
    required: Vec<&'a str>,
    #[serde(rename = "additionalProperties")]
    additional_properties: bool,
}

/// One property per question, keyed by its id, in the rubric's order.
struct Properties<'a>(&'a Spec);

impl Serialize for Properties<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let spec = self.0;
        let mut map = serializer.serialize_map(Some(spec.rubric.questions.len()))?;
        for q in &spec.rubric.questions {
            let kind = if q.is_conditional() {
                AnswerKind::YesNoOrNa
            } else {
                AnswerKind::YesNo
            };
            if spec.judge.evidence_first {
                map.serialize_entry(
                    &q.id.name,
                    &EvidenceFirst {
                        kind: "object",
                        description: &q.text.value,
                        properties: EvidenceAndAnswer {
                            evidence: Evidence {
                                kind: "string",
                                description: EVIDENCE,
                            },
                            answer: Answer {
                                description: kind.description(),
                                kind,
                            },
                        },
                        required: ["evidence", "answer"],
                        additional_properties: false,
                    },
                )?;
            } else {
                // Without an evidence field, the answer itself carries the
                // question.
                map.serialize_entry(
                    &q.id.name,
                    &Answer {
                        description: &q.text.value,
                        kind,
                    },
                )?;
            }
        }
        map.end()
    }
}

#[derive(Serialize)]
struct EvidenceFirst<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    description: &'a str,
    properties: EvidenceAndAnswer<'a>,
    required: [&'static str; 2],
    #[serde(rename = "additionalProperties")]
    additional_properties: bool,
}

#[derive(Serialize)]
struct EvidenceAndAnswer<'a> {
    evidence: Evidence,
    answer: Answer<'a>,
}

#[derive(Serialize)]
struct Evidence {
    #[serde(rename = "type")]
    kind: &'static str,
    description: &'static str,
}

#[derive(Serialize)]
struct Answer<'a> {
    description: &'a str,
    #[serde(flatten)]
    kind: AnswerKind,
}

/// The answer's type: a boolean, or for a conditional question a boolean
/// or the string "NA".
#[derive(Clone, Copy)]
enum AnswerKind {
    YesNo,
    YesNoOrNa,
}

impl AnswerKind {
    fn description(self) -> &'static str {
        match self {
            AnswerKind::YesNo => "true for YES, false for NO",
            AnswerKind::YesNoOrNa => {
                "true for YES, false for NO, \"NA\" when the question does not apply"
            }
        }
    }
}

impl Serialize for AnswerKind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        match self {
            AnswerKind::YesNo => map.serialize_entry("type", "boolean")?,
            AnswerKind::YesNoOrNa => map.serialize_entry(
                "anyOf",
                &(
                    Type { kind: "boolean" },
                    NaString {
                        kind: "string",
                        values: ["NA"],
                    },
                ),
            )?,
        }
        map.end()
    }
}

#[derive(Serialize)]
struct Type {
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Serialize)]
struct NaString {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(rename = "enum")]
    values: [&'static str; 1],
}
