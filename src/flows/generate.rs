//! Conversations from scripts, on the engine: a simulated user and the
//! assistant taking turns, or one call writing a whole conversation.
//!
//! In: [`Script`]s, one per conversation to generate, each already holding
//! its prompts (the caller fills them from the spec, the plan's cell and
//! persona: see `crate::cli::generate`), and the engine's targets for the
//! two roles. Out: [`Generated`] conversations in script order, with what
//! produced them, and the scripts left unfinished.
//!
//! A conversation's next call is known only once its last one is answered,
//! so this is a [`JobSource`]: the engine asks for jobs and reports each
//! finished call. Every call is in the run's journal the moment it is
//! answered, so a conversation is saved after every exchange; a resumed
//! run asks for the same calls again, finds them in the journal, replays
//! them without a request, and carries on from the first call the journal
//! lacks. A request is built only from the script and the answers before
//! it, never from the clock or a random draw, which is what makes the
//! replay exact.

use crate::facts::{Breach, LengthRules, check_exchange, word_count};
use crate::llm::chat::{ChatRequest, ChatResponse, Message, OutputSchema, Role, Usage};
use crate::llm::engine::store::{Entry, Unusable};
use crate::llm::engine::{Accept, Job, JobSource, Next};
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::sync::Arc;

/// How many times an answer that breaks a hard length rule is asked again
/// (with a note of the rule) before it is kept and recorded.
pub const BREACH_RETRIES: u32 = 2;

/// The name of the whole-conversation schema, as providers see it.
pub const CONVERSATION_SCHEMA: &str = "conversation";

/// What a length breach does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BreachPolicy {
    /// Ask again with a note of the rule, up to [`BREACH_RETRIES`] times,
    /// then keep the last answer and record the breach.
    Retry,
    /// Keep the answer and record the breach.
    Record,
}

/// How one conversation is produced.
#[derive(Debug, Clone)]
pub enum Mode {
    /// Two models: the user simulator and the assistant, each with its own
    /// system prompt, each call given the whole history.
    Simulate {
        /// The simulator's system prompt: persona, scenario, how to write.
        user_system: Arc<str>,
        /// For each exchange, what the simulated user does in it (the
        /// behaviour drawn for that turn and its length), added to the
        /// simulator's system prompt for that call.
        turn_notes: Vec<Arc<str>>,
    },
    /// One call writes the whole conversation as JSON, which is parsed and
    /// checked into messages.
    Whole {
        /// The generation prompt.
        system: Arc<str>,
        /// The request: the scenario card, the id, the number of exchanges.
        request: Arc<str>,
    },
}

/// One conversation to generate.
#[derive(Debug, Clone)]
pub struct Script {
    pub id: String,
    /// User–assistant exchanges.
    pub exchanges: u32,
    /// The assistant's system prompt (simulate mode).
    pub assistant_system: Arc<str>,
    pub mode: Mode,
    pub rules: LengthRules,
    pub breach: BreachPolicy,
    /// What produced it (cell, persona, seed, index), copied into the
    /// output line's `plan`.
    pub plan: Value,
    /// The item's index in its plan: its calls are samples of their own.
    pub sample_base: u64,
}

/// The engine's targets for the two roles.
#[derive(Debug, Clone, Copy)]
pub struct Roles {
    pub assistant: usize,
    pub user: usize,
}

/// A breach of a length rule that was kept.
#[derive(Debug, Clone, Serialize)]
pub struct KeptBreach {
    /// The exchange, from 1.
    pub exchange: u32,
    #[serde(flatten)]
    pub breach: Breach,
    /// Answers asked again because of it before this one was kept.
    pub retries: u32,
}

/// A finished conversation.
#[derive(Debug, Clone)]
pub struct Generated {
    pub messages: Vec<(Role, String)>,
    pub breaches: Vec<KeptBreach>,
    /// What its calls used, per role: assistant (or the whole-conversation
    /// writer), then user simulator.
    pub usage: [Usage; 2],
    pub calls: u32,
}

/// Why a conversation did not finish.
#[derive(Debug, Clone, PartialEq)]
pub enum NotFinished {
    /// A call was left unfinished: the run stopped, or every retry failed.
    /// A run of the same command carries on from it.
    Pending,
    /// A call finished without a usable answer (ERROR): its class and
    /// detail. `--retry-errors` asks it again.
    Error { class: Unusable, detail: String },
}

/// Where a conversation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// The simulated user writes the next message.
    User { retry: u32 },
    /// The assistant answers.
    Assistant { retry: u32 },
    /// One call writes it all.
    Whole { retry: u32 },
}

struct Conversation {
    step: Step,
    messages: Vec<(Role, Arc<str>)>,
    /// The breach that made the current step ask again, for its note.
    last_breach: Option<Breach>,
    kept: Vec<KeptBreach>,
    usage: [Usage; 2],
    calls: u32,
    end: Option<Result<(), NotFinished>>,
}

/// The conversations of a run, as a [`JobSource`].
pub struct Generation<'s> {
    scripts: &'s [Script],
    roles: Roles,
    conversations: Vec<Conversation>,
    /// Conversations whose next call can be asked, in the order their
    /// last call was answered. A started conversation is always taken
    /// before a new one, so the engine's bound on jobs held also bounds
    /// the conversations half-done; among those, first answered is first
    /// asked, so they all move on together and the gate stays full to
    /// the end (with the last-answered first, the first 64 conversations
    /// of 100 ran to their end while 36 waited, then those 36 ran with
    /// 28 places empty: 1.19 times the ideal, against 1.08).
    ready: VecDeque<usize>,
    /// Index of the next script not yet started.
    next_new: usize,
}

impl<'s> Generation<'s> {
    pub fn new(scripts: &'s [Script], roles: Roles) -> Generation<'s> {
        let conversations = scripts
            .iter()
            .map(|s| Conversation {
                step: match s.mode {
                    Mode::Simulate { .. } => Step::User { retry: 0 },
                    Mode::Whole { .. } => Step::Whole { retry: 0 },
                },
                messages: Vec::new(),
                last_breach: None,
                kept: Vec::new(),
                usage: [Usage::default(); 2],
                calls: 0,
                end: if s.exchanges == 0 { Some(Ok(())) } else { None },
            })
            .collect();
        Generation {
            scripts,
            roles,
            conversations,
            ready: VecDeque::new(),
            next_new: 0,
        }
    }

    /// The calls a run of every script makes at the least: one per message
    /// in simulate mode, one per conversation in whole mode.
    pub fn least_calls(&self) -> u64 {
        self.scripts
            .iter()
            .map(|s| match s.mode {
                Mode::Simulate { .. } => 2 * u64::from(s.exchanges),
                Mode::Whole { .. } => 1,
            })
            .sum()
    }

    /// Each script's conversation, or why it did not finish.
    pub fn into_results(self) -> Vec<Result<Generated, NotFinished>> {
        self.conversations
            .into_iter()
            .map(|c| match c.end {
                Some(Ok(())) => Ok(Generated {
                    messages: c
                        .messages
                        .into_iter()
                        .map(|(r, t)| (r, t.to_string()))
                        .collect(),
                    breaches: c.kept,
                    usage: c.usage,
                    calls: c.calls,
                }),
                Some(Err(e)) => Err(e),
                None => Err(NotFinished::Pending),
            })
            .collect()
    }

    fn job(&self, index: usize) -> Job {
        let script = &self.scripts[index];
        let conversation = &self.conversations[index];
        // Two items of a plan can have the same cell and persona, and so
        // the same requests: they are still two samples, so each item's
        // calls are samples of their own (a distinct cache key, and with a
        // fixed `seed`, a distinct seed), and an answer asked again after
        // a breach is another sample again.
        let sample = |retry: u32| {
            (script.sample_base as u32)
                .wrapping_mul(BREACH_RETRIES + 1)
                .wrapping_add(retry)
        };
        let exchange = exchange_of(&conversation.messages);
        let note = conversation.last_breach.as_ref().map(breach_note);
        match (conversation.step, &script.mode) {
            (
                Step::User { retry },
                Mode::Simulate {
                    user_system,
                    turn_notes,
                },
            ) => {
                let mut system = user_system.to_string();
                if let Some(turn) = turn_notes.get(exchange as usize) {
                    system.push_str("\n\n");
                    system.push_str(turn);
                }
                if let Some(note) = note {
                    system.push_str("\n\n");
                    system.push_str(&note);
                }
                let mut messages = vec![Message::new(Role::System, system)];
                // The simulator plays the user: the conversation is shown
                // to it with the roles swapped, and it writes the next
                // "assistant" message, which is the user's.
                if conversation.messages.is_empty() {
                    messages.push(Message::new(
                        Role::User,
                        "Write your first message to the assistant now.",
                    ));
                }
                for (role, text) in &conversation.messages {
                    let swapped = match role {
                        Role::User => Role::Assistant,
                        _ => Role::User,
                    };
                    messages.push(Message::new(swapped, Arc::clone(text)));
                }
                Job {
                    tag: format!("{} / exchange {} / user", script.id, exchange + 1),
                    target: self.roles.user,
                    request: ChatRequest {
                        messages,
                        schema: None,
                        sample: sample(retry),
                    },
                }
            }
            (Step::Assistant { retry }, _) => {
                let mut system = script.assistant_system.to_string();
                if let Some(note) = note {
                    system.push_str("\n\n");
                    system.push_str(&note);
                }
                let mut messages = vec![Message::new(Role::System, system)];
                for (role, text) in &conversation.messages {
                    messages.push(Message::new(*role, Arc::clone(text)));
                }
                Job {
                    tag: format!("{} / exchange {} / assistant", script.id, exchange + 1),
                    target: self.roles.assistant,
                    request: ChatRequest {
                        messages,
                        schema: None,
                        sample: sample(retry),
                    },
                }
            }
            (Step::Whole { retry }, Mode::Whole { system, request }) => {
                let mut system = system.to_string();
                if let Some(note) = note {
                    system.push_str("\n\n");
                    system.push_str(&note);
                }
                Job {
                    tag: format!("{} / whole", script.id),
                    target: self.roles.assistant,
                    request: ChatRequest {
                        messages: vec![
                            Message::new(Role::System, system),
                            Message::new(Role::User, Arc::clone(request)),
                        ],
                        schema: Some(OutputSchema {
                            name: CONVERSATION_SCHEMA.into(),
                            schema: Arc::new(conversation_schema(script.exchanges)),
                        }),
                        sample: sample(retry),
                    },
                }
            }
            // A script's steps follow its mode; see `Generation::new`.
            (Step::User { .. }, Mode::Whole { .. })
            | (Step::Whole { .. }, Mode::Simulate { .. }) => {
                unreachable!("a step of the other mode")
            }
        }
    }

    fn answered(&mut self, index: usize, entry: &Entry) {
        let script = &self.scripts[index];
        let conversation = &mut self.conversations[index];
        conversation.calls += 1;
        let slot = match conversation.step {
            Step::User { .. } => 1,
            _ => 0,
        };
        conversation.usage[slot].add(entry.response.usage);
        if let Some(unusable) = &entry.unusable {
            conversation.end = Some(Err(NotFinished::Error {
                class: unusable.class,
                detail: unusable.detail.clone(),
            }));
            return;
        }
        let text: Arc<str> = Arc::from(entry.response.text.trim());
        match conversation.step {
            Step::User { retry } => {
                let exchange = exchange_of(&conversation.messages) + 1;
                let breach = check_exchange(&script.rules, &text, "")
                    .into_iter()
                    .find(|b| b.kind.is_hard() && b.kind.is_user());
                if let Some(breach) = breach {
                    if script.breach == BreachPolicy::Retry && retry < BREACH_RETRIES {
                        conversation.last_breach = Some(breach);
                        conversation.step = Step::User { retry: retry + 1 };
                        return;
                    }
                    conversation.kept.push(KeptBreach {
                        exchange,
                        breach,
                        retries: retry,
                    });
                }
                conversation.last_breach = None;
                conversation.messages.push((Role::User, text));
                conversation.step = Step::Assistant { retry: 0 };
            }
            Step::Assistant { retry } => {
                // The exchange this reply completes, from 1.
                let exchange = exchange_of(&conversation.messages) + 1;
                let user = conversation
                    .messages
                    .last()
                    .map(|(_, t)| Arc::clone(t))
                    .unwrap_or_else(|| Arc::from(""));
                let breaches: Vec<Breach> = check_exchange(&script.rules, &user, &text)
                    .into_iter()
                    .filter(|b| !b.kind.is_user())
                    .collect();
                let hard = breaches.iter().find(|b| b.kind.is_hard());
                if let Some(hard) = hard
                    && script.breach == BreachPolicy::Retry
                    && retry < BREACH_RETRIES
                {
                    conversation.last_breach = Some(hard.clone());
                    conversation.step = Step::Assistant { retry: retry + 1 };
                    return;
                }
                conversation
                    .kept
                    .extend(breaches.into_iter().map(|breach| KeptBreach {
                        exchange,
                        breach,
                        retries: retry,
                    }));
                conversation.last_breach = None;
                conversation.messages.push((Role::Assistant, text));
                if exchange >= script.exchanges {
                    conversation.end = Some(Ok(()));
                } else {
                    conversation.step = Step::User { retry: 0 };
                }
            }
            Step::Whole { retry } => {
                // The answer passed `accept`, so it parses.
                let messages = match parse_conversation(&text, script.exchanges) {
                    Ok(messages) => messages,
                    Err(detail) => {
                        conversation.end = Some(Err(NotFinished::Error {
                            class: Unusable::BadConversation,
                            detail,
                        }));
                        return;
                    }
                };
                let mut breaches = Vec::new();
                for (i, pair) in messages.chunks(2).enumerate() {
                    if let [(_, user), (_, assistant)] = pair {
                        breaches.extend(
                            check_exchange(&script.rules, user, assistant)
                                .into_iter()
                                .map(|b| (i as u32 + 1, b)),
                        );
                    }
                }
                let hard = breaches.iter().find(|(_, b)| b.kind.is_hard());
                if let Some((_, hard)) = hard
                    && script.breach == BreachPolicy::Retry
                    && retry < BREACH_RETRIES
                {
                    conversation.last_breach = Some(hard.clone());
                    conversation.step = Step::Whole { retry: retry + 1 };
                    return;
                }
                conversation.kept = breaches
                    .into_iter()
                    .map(|(exchange, breach)| KeptBreach {
                        exchange,
                        breach,
                        retries: retry,
                    })
                    .collect();
                conversation.messages = messages
                    .into_iter()
                    .map(|(r, t)| (r, Arc::from(t)))
                    .collect();
                conversation.end = Some(Ok(()));
            }
        }
    }
}

impl JobSource for Generation<'_> {
    fn next(&mut self) -> Next {
        if let Some(index) = self.ready.pop_front() {
            return Next::Job(index as u64, self.job(index));
        }
        while self.next_new < self.scripts.len() {
            let index = self.next_new;
            self.next_new += 1;
            if self.conversations[index].end.is_none() {
                return Next::Job(index as u64, self.job(index));
            }
        }
        let in_flight = self.conversations.iter().any(|c| c.end.is_none());
        if in_flight { Next::Wait } else { Next::Done }
    }

    fn finished(&mut self, token: u64, entry: Option<Box<Entry>>) {
        let index = token as usize;
        if index >= self.conversations.len() {
            return;
        }
        match entry {
            None => self.conversations[index].end = Some(Err(NotFinished::Pending)),
            Some(entry) => {
                self.answered(index, &entry);
                if self.conversations[index].end.is_none() {
                    self.ready.push_back(index);
                }
            }
        }
    }
}

/// Exchanges with an assistant answer so far.
fn exchange_of(messages: &[(Role, Arc<str>)]) -> u32 {
    messages
        .iter()
        .filter(|(r, _)| *r == Role::Assistant)
        .count() as u32
}

/// What a request asked again says about the breach of its last answer.
fn breach_note(breach: &Breach) -> String {
    format!(
        "Your previous answer broke a length rule ({}). Write it again within the rule.",
        breach.detail
    )
}

/// The schema of a whole conversation of `exchanges` exchanges: a list of
/// exchanges, each a user message and the assistant's reply, so that the
/// roles alternate by construction (a list of messages with a `role`
/// each lets a model write two user messages in a row, and the schema
/// cannot forbid it).
pub fn conversation_schema(exchanges: u32) -> Value {
    let n = u64::from(exchanges);
    json!({
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "exchanges": {
                "type": "array",
                "minItems": n,
                "maxItems": n,
                "items": {
                    "type": "object",
                    "properties": {
                        "user": {"type": "string"},
                        "assistant": {"type": "string"}
                    },
                    "required": ["user", "assistant"],
                    "additionalProperties": false
                }
            }
        },
        "required": ["id", "exchanges"],
        "additionalProperties": false
    })
}

/// What a whole-conversation request adds to the generation prompt: the
/// answer's form, which the schema above enforces.
pub const WHOLE_FORMAT: &str = "Reply with one JSON object in this form, instead of the output format above: {\"id\": \"<the id>\", \"exchanges\": [{\"user\": \"<the user's message>\", \"assistant\": \"<the assistant's reply>\"}, ...]}, one entry per exchange, in order.";

/// The messages of a whole-conversation answer, checked: `exchanges`
/// exchanges, none with an empty message.
pub fn parse_conversation(text: &str, exchanges: u32) -> Result<Vec<(Role, String)>, String> {
    let value: Value = serde_json::from_str(text.trim())
        .ok()
        .or_else(|| {
            crate::score::judgment::extract_json(text).and_then(|j| serde_json::from_str(j).ok())
        })
        .ok_or_else(|| "the answer is not JSON".to_string())?;
    let list = value
        .get("exchanges")
        .and_then(Value::as_array)
        .ok_or("the answer has no `exchanges` list")?;
    if list.len() != exchanges as usize {
        return Err(format!(
            "the conversation has {} exchanges; {exchanges} were asked for",
            list.len()
        ));
    }
    let mut out = Vec::with_capacity(2 * list.len());
    for (i, exchange) in list.iter().enumerate() {
        for (field, role) in [("user", Role::User), ("assistant", Role::Assistant)] {
            let content = exchange
                .get(field)
                .and_then(Value::as_str)
                .unwrap_or("")
                .trim();
            if content.is_empty() {
                return Err(format!("exchange {} has no {field} message", i + 1));
            }
            out.push((role, content.to_string()));
        }
    }
    Ok(out)
}

/// The check of every answer of a generation run: a turn has text; a whole
/// conversation parses into the exchanges it was asked for.
pub fn accept() -> Arc<Accept> {
    Arc::new(
        |request: &ChatRequest, response: &ChatResponse| match &request.schema {
            Some(schema) if schema.name == CONVERSATION_SCHEMA => {
                let exchanges = schema
                    .schema
                    .pointer("/properties/exchanges/minItems")
                    .and_then(Value::as_u64)
                    .unwrap_or(0);
                parse_conversation(&response.text, exchanges as u32)
                    .map(|_| ())
                    .map_err(|detail| (Unusable::BadConversation, detail))
            }
            _ if response.text.trim().is_empty() => {
                Err((Unusable::Empty, "the answer has no text".into()))
            }
            _ => Ok(()),
        },
    )
}

/// The output line of a finished conversation: a generations line that
/// `judge` and `score` read, with what produced it.
pub fn output_line(script: &Script, generated: &Generated, models: &[String; 2]) -> Value {
    let mut plan = script.plan.clone();
    if let Value::Object(map) = &mut plan {
        let mode = match script.mode {
            Mode::Simulate { .. } => "simulate",
            Mode::Whole { .. } => "whole",
        };
        map.insert("mode".into(), json!(mode));
        let models = match script.mode {
            Mode::Simulate { .. } => json!({"assistant": models[0], "user": models[1]}),
            Mode::Whole { .. } => json!({"writer": models[0]}),
        };
        map.insert("models".into(), models);
        let usage = |u: &Usage| json!({"input_tokens": u.input_tokens, "cached_input_tokens": u.cached_input_tokens, "output_tokens": u.output_tokens});
        map.insert(
            "usage".into(),
            match script.mode {
                Mode::Simulate { .. } => json!({
                    "assistant": usage(&generated.usage[0]),
                    "user": usage(&generated.usage[1]),
                    "calls": generated.calls,
                }),
                Mode::Whole { .. } => {
                    json!({"writer": usage(&generated.usage[0]), "calls": generated.calls})
                }
            },
        );
        if !generated.breaches.is_empty() {
            map.insert("breaches".into(), json!(generated.breaches));
        }
        let words: Vec<u32> = generated
            .messages
            .iter()
            .map(|(_, t)| word_count(t))
            .collect();
        map.insert("words".into(), json!(words));
    }
    json!({
        "id": script.id,
        "messages": generated
            .messages
            .iter()
            .map(|(role, content)| json!({
                "role": role.as_str(),
                "content": content
            }))
            .collect::<Vec<_>>(),
        "plan": plan,
    })
}
