//! `ftprep judge`: the rubric's judge over conversations, on the engine.
//!
//! In: a spec without errors (its evaluation prompt, per-question prompts
//! and the judge's JSON Schema are emitted in memory, exactly as `ftprep
//! build` writes them), conversations, the judges (engine targets) and how
//! many samples of each. Out: judgment lines that `ftprep score` reads, one
//! per conversation, judge and sample, in input order.
//!
//! A conversation is sent with the evaluation prompt as the system message
//! and its transcript, in the prompt's own `[U1] user:` / `[A1] assistant:`
//! format, as the user message; with `judge { calls per_question }`, once
//! per question with that question's prompt, and the answers merged into
//! one line. Every answer is validated against its schema here, whatever
//! the provider promised: an answer that is not JSON, breaks the schema or
//! leaves questions out is asked again, then recorded as ERROR answers with
//! the reason. Nothing is ever scored as YES or NO that the judge did not
//! say, except what the program decides itself:
//!
//! - a question with `min_turns N`, on a conversation with fewer than N
//!   exchanges ([`Facts::turns`]), is not asked: no call for it per
//!   question; in the single prompt it is marked as not asked, and
//!   whatever the judge says for it is replaced by
//!   `{"answer": "na", "not_asked": "min_turns", "evidence": ...}`;
//! - a question with `decide` is never asked of a model: its answer is the
//!   expression on the conversation's facts, `{"answer": "yes" | "no",
//!   "decided": "program", "evidence": ...}`, the evidence naming the
//!   facts used;
//! - the facts the asked questions name (`facts words, ...`) are given to
//!   the judge in a block before the transcript ([`Facts::render`]).
//!
//! The user message is then, each part only when it has lines (the format
//! is in docs/judge.md, "What the program decides"):
//!
//! ```text
//! Not asked for this conversation (any answer to it is replaced): CN3 (needs 2 exchanges, the conversation has 1)
//! Decided by the program (any answer to it is replaced): W1
//!
//! Facts computed by the program (exact, do not re-count):
//! - Exchanges: 1
//!
//! [U1] user: ...
//! ```
//!
//! A conversation none of this touches is sent as its transcript alone.

use super::conversations::Conversation;
use crate::emit::context::{label_messages, transcript};
use crate::facts::{Decide, FactKind, Facts, Node};
use crate::llm::chat::{ChatRequest, ChatResponse, Message, OutputSchema, Role};
use crate::llm::engine::store::{Entry, JournalReader, Unusable};
use crate::llm::engine::{Accept, Engine, Job};
use crate::model::Spec;
use crate::score::{Answer, ScoringRubric};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

/// What the judge needs from a compiled spec.
pub struct JudgeSpec {
    pub spec_id: String,
    pub spec_sha256: String,
    /// The evaluation prompt (`prompts/evaluation-prompt.md`).
    pub evaluation_prompt: Arc<str>,
    /// With `calls per_question`: each question's id and prompt, in
    /// rubric order; empty otherwise.
    pub question_prompts: Vec<(String, Arc<str>)>,
    /// The judge's output schema (`judge-output.schema.json`).
    pub schema: Arc<Value>,
    /// Each question's schema, keyed by the question's id.
    pub question_schemas: HashMap<String, Arc<Value>>,
    pub rubric: ScoringRubric,
    /// Question ids in scoring order (gate first).
    pub question_ids: Vec<String>,
    /// What the program decides of each question, as `question_ids`.
    pub rules: Vec<Rule>,
}

/// What the program computes for one question (`min_turns`, `facts`,
/// `decide`).
#[derive(Debug, Clone, Default)]
pub struct Rule {
    pub min_turns: Option<u32>,
    pub facts: Vec<FactKind>,
    pub decide: Option<Decide>,
}

/// What happens to one question for one conversation.
#[derive(Debug, Clone, PartialEq)]
pub enum Disposition {
    /// Sent to the judge.
    Ask,
    /// Not asked: the conversation has `has` exchanges, fewer than `needs`.
    NotAsked { needs: u32, has: u32 },
    /// Decided in code: the answer and the facts it used.
    Decided { yes: bool, evidence: String },
}

/// A number as the evidence shows it: whole numbers without decimals.
fn number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x:.2}")
    }
}

/// The evidence of a decided answer: "decided by the program:
/// assistant_words_max = 163, not < 150" for one comparison; for more,
/// the expression, its value and every variable used.
pub fn decided_evidence(decide: &Decide, facts: &Facts, yes: bool) -> String {
    let value = |var: &str| match facts.var(var) {
        Some(v) => number(v),
        None => "none".to_string(),
    };
    match decide.root() {
        Node::Compare {
            var,
            op,
            value: bound,
        } => format!(
            "decided by the program: {var} = {}, {}{} {}",
            value(var),
            if yes { "" } else { "not " },
            op.symbol(),
            number(*bound)
        ),
        _ => {
            let used: Vec<String> = decide
                .used()
                .iter()
                .map(|v| format!("{v} = {}", value(v)))
                .collect();
            format!(
                "decided by the program: `{decide}` is {} ({})",
                if yes { "true" } else { "false" },
                used.join(", ")
            )
        }
    }
}

/// The evidence of a question not asked.
fn not_asked_evidence(needs: u32, has: u32) -> String {
    format!(
        "not asked by the program: it needs {needs} exchanges (min_turns {needs}), the conversation has {has}"
    )
}

/// The name of the whole answer's schema, as providers are told it.
const SCHEMA_NAME: &str = "judge_answers";

impl JudgeSpec {
    /// Emits the spec's judge artifacts in memory.
    pub fn from_spec(spec: &Spec, file_name: &str, text: &str) -> Result<JudgeSpec, String> {
        let artifacts =
            crate::emit::emit(spec, file_name, text, &crate::emit::Templates::embedded())
                .map_err(|e| e.message)?;
        let find = |path: &str| -> Result<String, String> {
            artifacts
                .iter()
                .find(|a| a.path == path)
                .map(|a| a.contents.clone())
                .ok_or_else(|| format!("the build has no {path}"))
        };
        let schema: Value = serde_json::from_str(&find("judge-output.schema.json")?)
            .map_err(|e| format!("the emitted schema is not JSON: {e}"))?;
        let rubric = spec.rubric.scoring();
        let question_ids: Vec<String> = rubric.questions().map(|q| q.id.clone()).collect();
        let mut question_schemas = HashMap::new();
        for id in &question_ids {
            let property = schema
                .pointer(&format!("/properties/{id}"))
                .cloned()
                .ok_or_else(|| format!("the emitted schema has no question `{id}`"))?;
            question_schemas.insert(
                id.clone(),
                Arc::new(json!({
                    "type": "object",
                    "properties": { id: property },
                    "required": [id],
                    "additionalProperties": false,
                })),
            );
        }
        let rules = question_ids
            .iter()
            .map(|id| {
                spec.rubric
                    .questions
                    .iter()
                    .find(|q| q.id.name == *id)
                    .map(|q| Rule {
                        min_turns: q.min_turns,
                        facts: q.facts.clone(),
                        decide: q.decide.as_ref().map(|(d, _)| d.clone()),
                    })
                    .unwrap_or_default()
            })
            .collect();
        let mut question_prompts = Vec::new();
        if spec.judge.per_question {
            for id in &question_ids {
                question_prompts
                    .push((id.clone(), find(&format!("prompts/judge/{id}.md"))?.into()));
            }
        }
        Ok(JudgeSpec {
            spec_id: spec.domain.id.name.clone(),
            spec_sha256: crate::emit::sha256_hex(text.as_bytes()),
            evaluation_prompt: find("prompts/evaluation-prompt.md")?.into(),
            question_prompts,
            schema: Arc::new(schema),
            question_schemas,
            rubric,
            question_ids,
            rules,
        })
    }

    pub fn per_question(&self) -> bool {
        !self.question_prompts.is_empty()
    }

    /// What happens to each question (as `question_ids`) for a
    /// conversation with these facts.
    pub fn dispositions(&self, facts: &Facts) -> Vec<Disposition> {
        self.rules
            .iter()
            .map(|rule| {
                if let Some(decide) = &rule.decide {
                    let yes = decide.eval_facts(facts);
                    return Disposition::Decided {
                        yes,
                        evidence: decided_evidence(decide, facts, yes),
                    };
                }
                match rule.min_turns {
                    Some(needs) if facts.turns < needs => Disposition::NotAsked {
                        needs,
                        has: facts.turns,
                    },
                    _ => Disposition::Ask,
                }
            })
            .collect()
    }

    /// The user message: the marks of the questions not sent, the facts
    /// the asked questions name, then the transcript.
    fn user_message(
        &self,
        transcript: &Arc<str>,
        facts: &Facts,
        dispositions: &[Disposition],
        asked: &[usize],
        marks: bool,
    ) -> Arc<str> {
        let mut head = String::new();
        if marks {
            let mut not_asked = Vec::new();
            let mut decided = Vec::new();
            for (i, d) in dispositions.iter().enumerate() {
                let id = &self.question_ids[i];
                match d {
                    Disposition::Ask => {}
                    Disposition::NotAsked { needs, has } => not_asked.push(format!(
                        "{id} (needs {needs} exchanges, the conversation has {has})"
                    )),
                    Disposition::Decided { .. } => decided.push(id.clone()),
                }
            }
            if !not_asked.is_empty() {
                head.push_str(&format!(
                    "Not asked for this conversation (any answer to it is replaced): {}\n",
                    not_asked.join(", ")
                ));
            }
            if !decided.is_empty() {
                head.push_str(&format!(
                    "Decided by the program (any answer to it is replaced): {}\n",
                    decided.join(", ")
                ));
            }
            if !head.is_empty() {
                head.push('\n');
            }
        }
        let mut kinds: Vec<FactKind> = asked
            .iter()
            .flat_map(|&i| self.rules[i].facts.iter().copied())
            .collect();
        kinds.sort();
        kinds.dedup();
        let block = facts.render(&kinds);
        if !block.is_empty() {
            head.push_str(&block);
            head.push('\n');
        }
        if head.is_empty() {
            return Arc::clone(transcript);
        }
        head.push_str(transcript);
        head.into()
    }

    /// The calls that judge one conversation once: one, or one per
    /// question asked, each with the question it asks (`None` for all).
    pub fn requests(
        &self,
        transcript: &Arc<str>,
        facts: &Facts,
        sample: u32,
    ) -> Vec<(Option<&str>, ChatRequest)> {
        let dispositions = self.dispositions(facts);
        let asked: Vec<usize> = (0..dispositions.len())
            .filter(|&i| dispositions[i] == Disposition::Ask)
            .collect();
        if !self.per_question() {
            let user = Message {
                role: Role::User,
                content: self.user_message(transcript, facts, &dispositions, &asked, true),
            };
            return vec![(
                None,
                ChatRequest {
                    messages: vec![
                        Message {
                            role: Role::System,
                            content: Arc::clone(&self.evaluation_prompt),
                        },
                        user,
                    ],
                    schema: Some(OutputSchema {
                        name: SCHEMA_NAME.into(),
                        schema: Arc::clone(&self.schema),
                    }),
                    sample,
                },
            )];
        }
        self.question_prompts
            .iter()
            .enumerate()
            .filter(|(i, _)| dispositions[*i] == Disposition::Ask)
            .map(|(i, (id, prompt))| {
                let user = Message {
                    role: Role::User,
                    content: self.user_message(transcript, facts, &dispositions, &[i], false),
                };
                (
                    Some(id.as_str()),
                    ChatRequest {
                        messages: vec![
                            Message {
                                role: Role::System,
                                content: Arc::clone(prompt),
                            },
                            user,
                        ],
                        schema: Some(OutputSchema {
                            name: format!("judge_answer_{id}"),
                            schema: Arc::clone(&self.question_schemas[id]),
                        }),
                        sample,
                    },
                )
            })
            .collect()
    }

    /// The check of every answer: JSON, against the schema it was asked
    /// with, every question present.
    pub fn accept(&self) -> Result<Arc<Accept>, String> {
        let mut validators: HashMap<String, jsonschema::Validator> = HashMap::new();
        let compile = |schema: &Value| {
            jsonschema::validator_for(schema)
                .map_err(|e| format!("the judge schema does not compile: {e}"))
        };
        validators.insert(SCHEMA_NAME.into(), compile(&self.schema)?);
        for (id, schema) in &self.question_schemas {
            validators.insert(format!("judge_answer_{id}"), compile(schema)?);
        }
        Ok(Arc::new(
            move |request: &ChatRequest, response: &ChatResponse| {
                let Some(schema) = &request.schema else {
                    return Ok(());
                };
                let Some(validator) = validators.get(&schema.name) else {
                    return Err((
                        Unusable::BreaksSchema,
                        format!("no schema `{}`", schema.name),
                    ));
                };
                let value = parse_answer(&response.text)?;
                check_against(validator, &value)
            },
        ))
    }
}

/// The JSON value of an answer's text: the text itself, or the JSON in it
/// (a fenced block, or the first balanced object), for servers that write
/// prose around it.
fn parse_answer(text: &str) -> Result<Value, (Unusable, String)> {
    if let Ok(value) = serde_json::from_str::<Value>(text.trim()) {
        return Ok(value);
    }
    let found = crate::score::judgment::extract_json(text)
        .and_then(|json| serde_json::from_str::<Value>(json).ok());
    found.ok_or_else(|| {
        let start: String = text.trim().chars().take(80).collect();
        (
            Unusable::NotJson,
            format!("the answer is not JSON (it starts `{start}`)"),
        )
    })
}

fn check_against(
    validator: &jsonschema::Validator,
    value: &Value,
) -> Result<(), (Unusable, String)> {
    let mut missing = Vec::new();
    let mut other = None;
    for error in validator.iter_errors(value) {
        match error.kind() {
            jsonschema::error::ValidationErrorKind::Required { property }
                if error.instance_path().as_str().is_empty() =>
            {
                missing.push(property.as_str().unwrap_or("?").to_string());
            }
            _ => {
                if other.is_none() {
                    other = Some(format!("{} at `{}`", error, error.instance_path()));
                }
            }
        }
    }
    if !missing.is_empty() {
        return Err((
            Unusable::MissingQuestions,
            format!("the answer leaves out {}", missing.join(", ")),
        ));
    }
    match other {
        Some(detail) => Err((
            Unusable::BreaksSchema,
            format!("the answer breaks the schema: {detail}"),
        )),
        None => Ok(()),
    }
}

/// The transcript of a conversation in the evaluation prompt's format.
pub fn conversation_transcript(conversation: &Conversation) -> Arc<str> {
    let turns = label_messages(conversation.messages.iter().map(|m| {
        let role = match m.role.as_str() {
            "assistant" => crate::syntax::ast::Role::Assistant,
            "system" => crate::syntax::ast::Role::System,
            _ => crate::syntax::ast::Role::User,
        };
        (role, m.content.as_str())
    }));
    transcript(&turns).into()
}

/// The facts of a conversation ([`crate::facts::facts`]).
pub fn conversation_facts(conversation: &Conversation) -> Facts {
    let messages: Vec<(&str, &str)> = conversation
        .messages
        .iter()
        .map(|m| (m.role.as_str(), m.content.as_str()))
        .collect();
    crate::facts::facts(&messages)
}

/// One judgment to write: a conversation, a judge, a sample.
#[derive(Debug, Clone)]
pub struct Unit {
    pub conversation: Arc<Conversation>,
    pub transcript: Arc<str>,
    /// The conversation's facts, computed once.
    pub facts: Arc<Facts>,
    /// Index of the judge among the engine's targets.
    pub judge: usize,
    pub sample: u32,
}

/// Every unit of a run, in output order: conversation, then judge, then
/// sample. The conversations are taken one at a time, so a run holds only
/// those whose calls are under way.
pub fn units(
    conversations: impl Iterator<Item = Conversation>,
    judges: usize,
    samples: u32,
) -> impl Iterator<Item = Unit> {
    conversations.flat_map(move |conversation| {
        let transcript = conversation_transcript(&conversation);
        let facts = Arc::new(conversation_facts(&conversation));
        let conversation = Arc::new(conversation);
        (0..judges).flat_map(move |judge| {
            let transcript = Arc::clone(&transcript);
            let facts = Arc::clone(&facts);
            let conversation = Arc::clone(&conversation);
            (0..samples).map(move |sample| Unit {
                conversation: Arc::clone(&conversation),
                transcript: Arc::clone(&transcript),
                facts: Arc::clone(&facts),
                judge,
                sample,
            })
        })
    })
}

/// The engine's jobs for `units`.
pub fn jobs<'a>(
    spec: &'a JudgeSpec,
    engine: &'a Engine,
    units: impl Iterator<Item = Unit> + 'a,
) -> impl Iterator<Item = Job> + 'a {
    units.flat_map(move |unit| {
        let judge = &engine.targets()[unit.judge].id;
        spec.requests(&unit.transcript, &unit.facts, unit.sample)
            .into_iter()
            .map(|(question, request)| Job {
                tag: tag(&unit.conversation.id, judge, unit.sample, question),
                target: unit.judge,
                request,
            })
            .collect::<Vec<_>>()
    })
}

fn tag(id: &str, judge: &str, sample: u32, question: Option<&str>) -> String {
    match question {
        Some(q) => format!("{id} · {judge} · sample {sample} · {q}"),
        None => format!("{id} · {judge} · sample {sample}"),
    }
}

/// The judgment line of a unit, from the journal, or `None` when one of
/// its calls is not finished.
pub fn judgment(
    spec: &JudgeSpec,
    engine: &Engine,
    reader: &mut JournalReader<'_>,
    unit: &Unit,
) -> std::io::Result<Option<Value>> {
    let target = &engine.targets()[unit.judge];
    let mut answers = serde_json::Map::new();
    let mut usage = crate::llm::chat::Usage::default();
    let mut latency_ms = 0u64;
    let mut cached = true;
    let mut errors = Vec::new();
    let dispositions = spec.dispositions(&unit.facts);
    let asked: Vec<&str> = spec
        .question_ids
        .iter()
        .zip(&dispositions)
        .filter(|(_, d)| **d == Disposition::Ask)
        .map(|(id, _)| id.as_str())
        .collect();
    for (question, request) in spec.requests(&unit.transcript, &unit.facts, unit.sample) {
        let key = engine.key(&Job {
            tag: String::new(),
            target: unit.judge,
            request,
        });
        let Some(entry) = reader.get(&key.key)? else {
            return Ok(None);
        };
        let questions = match question {
            Some(q) => vec![q],
            None => asked.clone(),
        };
        record(&mut answers, &mut errors, &questions, &entry);
        usage.add(entry.response.usage);
        latency_ms = latency_ms.max(entry.latency_ms);
        cached &= entry.source == crate::llm::engine::store::Source::Cache;
    }
    // What the program decided replaces whatever the judge said of it.
    for (id, d) in spec.question_ids.iter().zip(&dispositions) {
        let answer = match d {
            Disposition::Ask => continue,
            Disposition::NotAsked { needs, has } => json!({
                "answer": "na",
                "not_asked": "min_turns",
                "evidence": not_asked_evidence(*needs, *has),
            }),
            Disposition::Decided { yes, evidence } => json!({
                "answer": if *yes { "yes" } else { "no" },
                "decided": "program",
                "evidence": evidence,
            }),
        };
        answers.insert(id.clone(), answer);
    }
    // In rubric order, as the scorer reads fastest.
    let answers: serde_json::Map<String, Value> = spec
        .question_ids
        .iter()
        .filter_map(|id| answers.remove(id).map(|a| (id.clone(), a)))
        .collect();
    let mut line = json!({
        "id": unit.conversation.id,
        "judge": target.id,
        "sample": unit.sample,
        "answers": answers,
        "spec_sha256": spec.spec_sha256,
        "usage": {
            "input_tokens": usage.input_tokens,
            "cached_input_tokens": usage.cached_input_tokens,
            "output_tokens": usage.output_tokens,
        },
        "latency_ms": latency_ms,
        "cached": cached,
    });
    if !errors.is_empty() {
        line["errors"] = Value::Array(errors);
    }
    Ok(Some(line))
}

/// Adds one call's answers to a judgment line: its questions' answers, or
/// an ERROR answer for each with the reason.
fn record(
    answers: &mut serde_json::Map<String, Value>,
    errors: &mut Vec<Value>,
    asked: &[&str],
    entry: &Entry,
) {
    let value = match &entry.unusable {
        None => parse_answer(&entry.response.text).ok(),
        Some(_) => None,
    };
    match value {
        Some(Value::Object(mut object)) => {
            for &id in asked {
                if let Some(answer) = object.remove(id) {
                    answers.insert(id.to_string(), answer);
                }
            }
        }
        _ => {
            let (class, detail) = match &entry.unusable {
                Some(u) => (u.class.as_str(), u.detail.as_str()),
                None => ("not_json", "the answer is not a JSON object"),
            };
            for id in asked {
                answers.insert(id.to_string(), json!({"answer": "ERROR", "error": class}));
            }
            let raw: String = entry.response.text.chars().take(2000).collect();
            errors.push(json!({
                "questions": asked,
                "class": class,
                "detail": detail,
                "raw": raw,
            }));
        }
    }
}

/// A judgment line's answers in scoring order, as `ftprep score` reads
/// them (for the calibration check).
pub fn answers_of(spec: &JudgeSpec, line: &Value) -> Vec<Answer> {
    spec.question_ids
        .iter()
        .map(|id| {
            if line.pointer(&format!("/answers/{id}/not_asked")).is_some() {
                return Answer::NotAsked;
            }
            let answer = line.pointer(&format!("/answers/{id}/answer"));
            match answer {
                Some(Value::Bool(true)) => Answer::Yes,
                Some(Value::Bool(false)) => Answer::No,
                Some(Value::String(s)) if s.eq_ignore_ascii_case("yes") => Answer::Yes,
                Some(Value::String(s)) if s.eq_ignore_ascii_case("no") => Answer::No,
                Some(Value::String(s)) if s.eq_ignore_ascii_case("na") => Answer::Na,
                Some(Value::String(s)) if s.eq_ignore_ascii_case("error") => Answer::Error,
                None => Answer::Omitted,
                _ => Answer::Error,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fixture spec: E2 `min_turns 2`, R2 `decide
    /// "assistant_words_max < 150"` with `facts words`, R1 `facts turns,
    /// longest`; per question, or single when `single`.
    fn spec(single: bool) -> JudgeSpec {
        let mut text = include_str!("../../tests/fixtures/judge/facts.ftprep").to_string();
        if single {
            text = text.replace("calls    per_question", "calls    single");
        }
        let compilation =
            crate::compile::compile(crate::source::SourceFile::new("facts.ftprep", text.clone()));
        let spec = compilation.clean_spec().expect("the fixture compiles");
        JudgeSpec::from_spec(spec, "facts.ftprep", &text).unwrap()
    }

    fn one_exchange() -> Facts {
        crate::facts::facts(&[
            ("user", "My order arrived broken."),
            ("assistant", "I'm sorry it arrived broken."),
        ])
    }

    #[test]
    fn per_question_sends_no_call_for_a_question_not_asked_or_decided() {
        let spec = spec(false);
        let transcript: Arc<str> = "[U1] user: My order arrived broken.".into();
        let requests = spec.requests(&transcript, &one_exchange(), 0);
        let ids: Vec<&str> = requests.iter().filter_map(|(q, _)| *q).collect();
        assert_eq!(ids, ["S1", "S2", "E1", "R1"]);
        // R1's facts, before the transcript; none for the others.
        let user = |q: &str| {
            let (_, r) = requests.iter().find(|(id, _)| *id == Some(q)).unwrap();
            r.messages[1].content.to_string()
        };
        assert_eq!(
            user("R1"),
            "Facts computed by the program (exact, do not re-count):\n- Exchanges: 1\n\
             - Longest message: assistant, turn 1 (5 words)\n\n[U1] user: My order arrived broken."
        );
        assert_eq!(user("S1"), "[U1] user: My order arrived broken.");
        // With two exchanges E2 is asked.
        let two = crate::facts::facts(&[
            ("user", "a"),
            ("assistant", "b"),
            ("user", "c"),
            ("assistant", "d"),
        ]);
        assert_eq!(spec.requests(&transcript, &two, 0).len(), 5);
    }

    #[test]
    fn the_single_prompt_marks_what_it_does_not_ask() {
        let spec = spec(true);
        let transcript: Arc<str> = "[U1] user: My order arrived broken.".into();
        let requests = spec.requests(&transcript, &one_exchange(), 0);
        assert_eq!(requests.len(), 1);
        assert_eq!(
            requests[0].1.messages[1].content.as_ref(),
            "Not asked for this conversation (any answer to it is replaced): E2 (needs 2 exchanges, the conversation has 1)\n\
             Decided by the program (any answer to it is replaced): R2\n\n\
             Facts computed by the program (exact, do not re-count):\n- Exchanges: 1\n\
             - Longest message: assistant, turn 1 (5 words)\n\n[U1] user: My order arrived broken."
        );
    }

    #[test]
    fn decided_answers_state_the_facts_they_used() {
        let spec = spec(false);
        let d = spec.dispositions(&one_exchange());
        assert_eq!(d[3], Disposition::NotAsked { needs: 2, has: 1 });
        assert_eq!(
            d[5],
            Disposition::Decided {
                yes: true,
                evidence: "decided by the program: assistant_words_max = 5, < 150".into()
            }
        );
        let long = "word ".repeat(163);
        let facts = crate::facts::facts(&[("user", "hi"), ("assistant", long.as_str())]);
        let decide = Decide::parse("assistant_words_max < 150").unwrap();
        assert_eq!(
            decided_evidence(&decide, &facts, decide.eval_facts(&facts)),
            "decided by the program: assistant_words_max = 163, not < 150"
        );
        let decide = Decide::parse("turns >= 2 or ratio < 2").unwrap();
        assert_eq!(
            decided_evidence(&decide, &facts, decide.eval_facts(&facts)),
            "decided by the program: `turns >= 2 or ratio < 2` is false (turns = 1, ratio = 163)"
        );
    }

    fn validator() -> jsonschema::Validator {
        jsonschema::validator_for(&json!({
            "type": "object",
            "properties": {
                "S1": {"type": "object", "properties": {"answer": {"type": "boolean"}}, "required": ["answer"], "additionalProperties": false},
                "C1": {"type": "object", "properties": {"answer": {"type": "boolean"}}, "required": ["answer"], "additionalProperties": false}
            },
            "required": ["S1", "C1"],
            "additionalProperties": false
        }))
        .unwrap()
    }

    #[test]
    fn answers_are_classified_by_what_is_wrong_with_them() {
        let v = validator();
        assert!(
            check_against(
                &v,
                &json!({"S1": {"answer": true}, "C1": {"answer": false}})
            )
            .is_ok()
        );
        let (class, detail) = check_against(&v, &json!({"S1": {"answer": true}})).unwrap_err();
        assert_eq!(class, Unusable::MissingQuestions);
        assert!(detail.contains("C1"), "{detail}");
        let (class, _) = check_against(
            &v,
            &json!({"S1": {"answer": "yes"}, "C1": {"answer": true}}),
        )
        .unwrap_err();
        assert_eq!(class, Unusable::BreaksSchema);
        assert_eq!(parse_answer("Sure! {\"a\": 1}").unwrap(), json!({"a": 1}));
        assert_eq!(
            parse_answer("```json\n{\"a\": 2}\n```").unwrap(),
            json!({"a": 2})
        );
        assert_eq!(parse_answer("no idea").unwrap_err().0, Unusable::NotJson);
        assert_eq!(
            parse_answer("{\"S1\": {\"ans").unwrap_err().0,
            Unusable::NotJson
        );
    }
}
