//! `judge-output.schema.json`: the shape of the judge's answer object, as
//! JSON Schema (draft 2020-12). It is written to be accepted as-is by LLM
//! structured-output modes: every property required, no additional
//! properties, and `evidence` ordered before `answer` so a model writes
//! its evidence first.

use crate::model::Spec;
use serde_json::{Map, Value, json};

pub fn judge_output_schema(spec: &Spec) -> String {
    let evidence_first = spec.judge.evidence_first;
    let mut properties = Map::new();
    let mut required = Vec::new();
    for q in &spec.rubric.questions {
        let answer = if q.is_conditional() {
            json!({
                "description": "true for YES, false for NO, \"NA\" when the question does not apply",
                "anyOf": [
                    { "type": "boolean" },
                    { "type": "string", "enum": ["NA"] }
                ]
            })
        } else {
            json!({
                "description": "true for YES, false for NO",
                "type": "boolean"
            })
        };
        let value = if evidence_first {
            json!({
                "type": "object",
                "description": q.text.value,
                "properties": {
                    "evidence": {
                        "type": "string",
                        "description": "The words of the conversation that decide the answer, quoted with turn labels (A2: \"...\"), or a note that there are none."
                    },
                    "answer": answer
                },
                "required": ["evidence", "answer"],
                "additionalProperties": false
            })
        } else {
            let mut answer = answer;
            if let Some(object) = answer.as_object_mut() {
                object.insert("description".into(), Value::String(q.text.value.clone()));
            }
            answer
        };
        properties.insert(q.id.name.clone(), value);
        required.push(Value::String(q.id.name.clone()));
    }
    let schema = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": format!("{} judge output", spec.domain.id.name),
        "description": format!(
            "Answers of an LLM judge to the {} rubric questions of `{}`. YES is always the desired answer.",
            spec.rubric.questions.len(),
            spec.domain.id.name
        ),
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false
    });
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}
