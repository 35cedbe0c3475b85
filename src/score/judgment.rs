//! Reading one line of judged data: a judge's answers to a rubric.
//!
//! Accepted forms (documented in docs/scoring.md):
//!
//! ```text
//! {"id": "c1", "answers": {"S1": true, "CP1": "no", "CR1": "NA"}}
//! {"id": "c1", "answers": {"CP1": {"evidence": "A2: ...", "answer": true}}}
//! {"id": "c1", "judge": "gpt-x", "response": "```json\n{\"S1\": true, ...}\n```"}
//! ```
//!
//! Parsing fills a caller-owned answer slot per question (no allocation per
//! answer), so a run over millions of lines costs one pass of the JSON
//! parser per line.

use super::Answer;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

/// The rubric's questions, for looking answers up by id.
#[derive(Debug, Clone)]
pub struct QuestionIndex {
    ids: Vec<String>,
    by_id: HashMap<String, usize>,
    conditional: Vec<bool>,
    /// The question after the last one found: judges usually answer in
    /// rubric order, so it is tried before the hash map.
    hint: std::cell::Cell<usize>,
}

impl QuestionIndex {
    pub fn new(rubric: &super::ScoringRubric) -> Self {
        let ids: Vec<String> = rubric.questions().map(|q| q.id.clone()).collect();
        let by_id = ids
            .iter()
            .enumerate()
            .map(|(i, id)| (id.clone(), i))
            .collect();
        QuestionIndex {
            conditional: rubric.questions().map(|q| q.conditional).collect(),
            ids,
            by_id,
            hint: std::cell::Cell::new(0),
        }
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    pub fn id(&self, i: usize) -> &str {
        &self.ids[i]
    }

    pub fn ids(&self) -> &[String] {
        &self.ids
    }

    /// The index of question `id`. Judges usually answer in rubric order,
    /// so the first unanswered slot is tried before the hash map.
    fn find(&self, id: &str) -> Option<usize> {
        let hint = self.hint.get();
        let found = if self.ids.get(hint).is_some_and(|h| h == id) {
            Some(hint)
        } else {
            self.by_id.get(id).copied()
        };
        if let Some(i) = found {
            self.hint.set(i + 1);
        }
        found
    }
}

/// Why a line was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// Not a JSON object, or not one of the accepted forms.
    Malformed(String),
    /// No `id`.
    MissingId,
    /// An `id` that is not a non-empty string or a whole number: how it
    /// was written.
    InvalidId(String),
    /// Neither `answers` nor `response`.
    NoAnswers,
    /// `response` text without a JSON object in it.
    NoJsonInResponse,
    UnknownQuestion(String),
    DuplicateAnswer(String),
    /// An answer that is not true/false/YES/NO/NA/ERROR.
    NotAnAnswer {
        question: String,
        found: String,
    },
    /// Unconditional questions left out.
    MissingAnswers(Vec<String>),
    /// N/A for a question that always applies.
    NotApplicable(String),
}

impl Rejection {
    /// A short machine-readable kind, for the rejects file and the summary.
    pub fn kind(&self) -> &'static str {
        match self {
            Rejection::Malformed(_) => "malformed",
            Rejection::MissingId => "missing_id",
            Rejection::InvalidId(_) => "invalid_id",
            Rejection::NoAnswers => "no_answers",
            Rejection::NoJsonInResponse => "no_json_in_response",
            Rejection::UnknownQuestion(_) => "unknown_question",
            Rejection::DuplicateAnswer(_) => "duplicate_answer",
            Rejection::NotAnAnswer { .. } => "not_an_answer",
            Rejection::MissingAnswers(_) => "missing_answer",
            Rejection::NotApplicable(_) => "na_not_allowed",
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rejection::Malformed(e) => f.write_str(e),
            Rejection::MissingId => f.write_str("no `id`"),
            Rejection::InvalidId(found) => write!(
                f,
                "`id` is {found}: an id is a non-empty string or a whole number"
            ),
            Rejection::NoAnswers => f.write_str("neither `answers` nor `response`"),
            Rejection::NoJsonInResponse => f.write_str("`response` holds no JSON object"),
            Rejection::UnknownQuestion(q) => write!(f, "unknown question `{q}`"),
            Rejection::DuplicateAnswer(q) => write!(f, "question `{q}` is answered twice"),
            Rejection::NotAnAnswer { question, found } => {
                write!(
                    f,
                    "`{question}`: {found} is not true, false, YES, NO, NA or ERROR"
                )
            }
            Rejection::MissingAnswers(qs) => {
                write!(
                    f,
                    "no answer for `{}`, which always applies",
                    qs.join("`, `")
                )
            }
            Rejection::NotApplicable(q) => {
                write!(f, "`{q}` always applies and cannot be answered NA")
            }
        }
    }
}

/// A parsed judgment: its id, its judge, its answers (one per question, in
/// rubric order, in the buffer the caller passed).
/// Borrowed from the line when it has no escapes, so that a run of
/// judgments of one id allocates nothing for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judgment<'a> {
    pub id: Cow<'a, str>,
    pub judge: Option<Cow<'a, str>>,
    /// The class of each ERROR answer that gives one (`"error"` beside
    /// `"answer": "ERROR"`), in the order written. Empty, and not
    /// allocated, for a line without them.
    pub error_classes: Vec<String>,
}

/// Parses one line into `answers` (resized to the question count).
/// `spec_sha256` receives the line's `spec_sha256` when it has one, even
/// when the line is rejected: a line judged with another spec is usually
/// rejected for its answers, and the hash says why.
pub fn parse_line<'a>(
    line: &'a str,
    index: &QuestionIndex,
    answers: &mut Vec<Answer>,
    slots: &mut Vec<Option<Answer>>,
    spec_sha256: &mut Option<Cow<'a, str>>,
) -> Result<Judgment<'a>, Rejection> {
    *spec_sha256 = None;
    slots.clear();
    slots.resize(index.len(), None);
    index.hint.set(0);
    let mut problem: Option<Rejection> = None;
    let mut error_classes = Vec::new();
    let top = {
        let mut de = serde_json::Deserializer::from_str(line);
        let seed = LineSeed {
            index,
            slots,
            problem: &mut problem,
            classes: &mut error_classes,
        };
        let top = seed.deserialize(&mut de).map_err(malformed)?;
        de.end().map_err(malformed)?;
        top
    };
    *spec_sha256 = top.spec_sha256;
    if let Some(problem) = problem {
        return Err(problem);
    }
    let id = match top.id {
        None => return Err(Rejection::MissingId),
        Some(IdValue::Invalid(found)) => return Err(Rejection::InvalidId(found)),
        Some(IdValue::Id(id)) if id.trim().is_empty() => {
            return Err(Rejection::InvalidId(if id.is_empty() {
                "empty".into()
            } else {
                "blank".into()
            }));
        }
        Some(IdValue::Id(id)) => id,
    };
    let judge = match top.judge {
        None => None,
        Some(IdValue::Id(judge)) => Some(judge),
        Some(IdValue::Invalid(found)) => {
            return Err(Rejection::Malformed(format!(
                "`judge` is {found}: a judge is named by a string"
            )));
        }
    };
    match (top.had_answers, top.response) {
        (true, _) => {}
        (false, Some(text)) => {
            let json = extract_json(&text).ok_or(Rejection::NoJsonInResponse)?;
            fill_from_response(json, index, slots, &mut error_classes)?;
        }
        (false, None) => return Err(Rejection::NoAnswers),
    }
    answers.clear();
    let mut missing = Vec::new();
    for (i, slot) in slots.iter().enumerate() {
        match slot {
            Some(Answer::Na) if !index.conditional[i] => {
                return Err(Rejection::NotApplicable(index.id(i).to_string()));
            }
            Some(answer) => answers.push(*answer),
            None if index.conditional[i] => answers.push(Answer::Omitted),
            None => {
                missing.push(index.id(i).to_string());
                answers.push(Answer::Omitted);
            }
        }
    }
    if !missing.is_empty() {
        return Err(Rejection::MissingAnswers(missing));
    }
    Ok(Judgment {
        id,
        judge,
        error_classes,
    })
}

fn malformed(e: serde_json::Error) -> Rejection {
    use serde_json::error::Category;
    Rejection::Malformed(match e.classify() {
        Category::Syntax | Category::Eof => format!("not valid JSON ({e})"),
        Category::Data | Category::Io => format!("not a judgment object ({e})"),
    })
}

/// The answers object inside a judge's raw text: either the answers map
/// itself or `{"answers": {...}}`.
fn fill_from_response(
    json: &str,
    index: &QuestionIndex,
    slots: &mut [Option<Answer>],
    classes: &mut Vec<String>,
) -> Result<(), Rejection> {
    let mut problem = None;
    let mut de = serde_json::Deserializer::from_str(json);
    let seed = ResponseSeed {
        index,
        slots,
        problem: &mut problem,
        classes,
    };
    seed.deserialize(&mut de)
        .map_err(|e| Rejection::Malformed(format!("in `response`: {e}")))?;
    match problem {
        Some(p) => Err(p),
        None => Ok(()),
    }
}

/// The JSON object in a judge's reply: a fenced code block if there is
/// one, otherwise the first balanced `{...}` in the prose.
pub fn extract_json(text: &str) -> Option<&str> {
    let mut rest = text;
    while let Some(start) = rest.find("```") {
        let after = &rest[start + 3..];
        let body_start = after.find('\n').map(|n| n + 1).unwrap_or(0);
        let Some(end) = after[body_start..].find("```") else {
            break;
        };
        let body = after[body_start..body_start + end].trim();
        if body.starts_with('{') {
            return Some(body);
        }
        rest = &after[body_start + end + 3..];
    }
    let start = text.find('{')?;
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in text[start..].char_indices() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(&text[start..start + i + 1]);
                }
            }
            _ => {}
        }
    }
    None
}

/// What the top level of a line holds, besides the answers filled in.
struct Top<'de> {
    id: Option<IdValue<'de>>,
    judge: Option<IdValue<'de>>,
    spec_sha256: Option<Cow<'de, str>>,
    had_answers: bool,
    response: Option<String>,
}

struct LineSeed<'a> {
    index: &'a QuestionIndex,
    slots: &'a mut [Option<Answer>],
    problem: &'a mut Option<Rejection>,
    classes: &'a mut Vec<String>,
}

impl<'de> DeserializeSeed<'de> for LineSeed<'_> {
    type Value = Top<'de>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Top<'de>, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for LineSeed<'_> {
    type Value = Top<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object with `id` and `answers` or `response`")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Top<'de>, A::Error> {
        let mut top = Top {
            id: None,
            judge: None,
            spec_sha256: None,
            had_answers: false,
            response: None,
        };
        while let Some(key) = map.next_key::<Key<'de>>()?.map(|k| k.0) {
            match key.as_ref() {
                "id" => top.id = Some(map.next_value::<IdValue<'de>>()?),
                "judge" => top.judge = map.next_value::<Option<IdValue<'de>>>()?,
                "spec_sha256" => top.spec_sha256 = Some(map.next_value::<Sha256Value<'de>>()?.0),
                "response" => top.response = map.next_value::<Option<String>>()?,
                "answers" => {
                    top.had_answers = true;
                    map.next_value_seed(AnswersSeed {
                        index: self.index,
                        slots: &mut *self.slots,
                        problem: &mut *self.problem,
                        classes: &mut *self.classes,
                    })?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(top)
    }
}

/// The object a judge replies with: the answers map, or an object holding
/// it under `answers`.
struct ResponseSeed<'a> {
    index: &'a QuestionIndex,
    slots: &'a mut [Option<Answer>],
    problem: &'a mut Option<Rejection>,
    classes: &'a mut Vec<String>,
}

impl<'de> DeserializeSeed<'de> for ResponseSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ResponseSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object of answers")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<Key<'de>>()?.map(|k| k.0) {
            if key == "answers" {
                map.next_value_seed(AnswersSeed {
                    index: self.index,
                    slots: &mut *self.slots,
                    problem: &mut *self.problem,
                    classes: &mut *self.classes,
                })?;
                continue;
            }
            let value = map.next_value::<AnswerValue>()?;
            record(
                self.index,
                self.slots,
                self.problem,
                self.classes,
                &key,
                value,
            );
        }
        Ok(())
    }
}

struct AnswersSeed<'a> {
    index: &'a QuestionIndex,
    slots: &'a mut [Option<Answer>],
    problem: &'a mut Option<Rejection>,
    classes: &'a mut Vec<String>,
}

impl<'de> DeserializeSeed<'de> for AnswersSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for AnswersSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object mapping question ids to answers")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<Key<'de>>()?.map(|k| k.0) {
            let value = map.next_value::<AnswerValue>()?;
            record(
                self.index,
                self.slots,
                self.problem,
                self.classes,
                &key,
                value,
            );
        }
        Ok(())
    }
}

/// Stores one answer, or the first problem with it.
fn record(
    index: &QuestionIndex,
    slots: &mut [Option<Answer>],
    problem: &mut Option<Rejection>,
    classes: &mut Vec<String>,
    key: &str,
    value: AnswerValue,
) {
    if problem.is_some() {
        return;
    }
    let Some(i) = index.find(key) else {
        *problem = Some(Rejection::UnknownQuestion(key.to_string()));
        return;
    };
    let (answer, class) = match value {
        AnswerValue::Answer(a, class) => (a, class),
        AnswerValue::Invalid(found) => {
            *problem = Some(Rejection::NotAnAnswer {
                question: key.to_string(),
                found,
            });
            return;
        }
    };
    if slots[i].is_some() {
        *problem = Some(Rejection::DuplicateAnswer(key.to_string()));
        return;
    }
    slots[i] = Some(answer);
    if let (Answer::Error, Some(class)) = (answer, class) {
        classes.push(class);
    }
}

/// An object key, borrowed from the line unless it has escapes. (serde's
/// own `Cow<str>` always allocates: it never borrows.)
struct Key<'de>(Cow<'de, str>);

impl<'de> serde::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_string())))
            }
        }
        d.deserialize_str(V)
    }
}

/// An `id` (or a judge's name) as written: a string, borrowed when it
/// can be, or a whole number kept as written; anything else (`1.0`,
/// `true`, `null`, a list) is kept as a description, for the rejection.
enum IdValue<'de> {
    Id(Cow<'de, str>),
    Invalid(String),
}

impl<'de> serde::Deserialize<'de> for IdValue<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = IdValue<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or a whole number")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<IdValue<'de>, E> {
                Ok(IdValue::Id(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<IdValue<'de>, E> {
                Ok(IdValue::Id(Cow::Owned(v.to_string())))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<IdValue<'de>, E> {
                Ok(IdValue::Id(Cow::Owned(v.to_string())))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<IdValue<'de>, E> {
                Ok(IdValue::Id(Cow::Owned(v.to_string())))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<IdValue<'de>, E> {
                // `{:?}` keeps the decimal point: `1.0`, not `1`.
                Ok(IdValue::Invalid(format!("{v:?}")))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<IdValue<'de>, E> {
                Ok(IdValue::Invalid(v.to_string()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<IdValue<'de>, E> {
                Ok(IdValue::Invalid("null".into()))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<IdValue<'de>, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(IdValue::Invalid("a list".into()))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<IdValue<'de>, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(IdValue::Invalid("an object".into()))
            }
        }
        d.deserialize_any(V)
    }
}

/// A `spec_sha256`: a string, borrowed when it can be.
struct Sha256Value<'de>(Cow<'de, str>);

impl<'de> serde::Deserialize<'de> for Sha256Value<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Sha256Value<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("`spec_sha256` as a string of hexadecimal digits")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Sha256Value(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Sha256Value(Cow::Owned(v.to_string())))
            }
        }
        d.deserialize_str(V)
    }
}

/// One answer as written: a boolean, a string, `null` (N/A), or an object
/// with `answer` (and `evidence`, which scoring ignores, and, beside an
/// ERROR, `error`: the class of the failure, such as `"timeout"`; or
/// `not_asked`, the reason the program did not ask it, which makes it
/// [`Answer::NotAsked`] whatever `answer` says).
enum AnswerValue {
    Answer(Answer, Option<String>),
    Invalid(String),
}

fn answer_from_str(s: &str) -> Option<Answer> {
    let t = s.trim();
    Some(
        if t.eq_ignore_ascii_case("yes") || t.eq_ignore_ascii_case("true") {
            Answer::Yes
        } else if t.eq_ignore_ascii_case("no") || t.eq_ignore_ascii_case("false") {
            Answer::No
        } else if t.eq_ignore_ascii_case("na") || t.eq_ignore_ascii_case("n/a") {
            Answer::Na
        } else if t.eq_ignore_ascii_case("error") {
            Answer::Error
        } else {
            return None;
        },
    )
}

impl<'de> serde::Deserialize<'de> for AnswerValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = AnswerValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an answer")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<AnswerValue, E> {
                Ok(AnswerValue::Answer(
                    if v { Answer::Yes } else { Answer::No },
                    None,
                ))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<AnswerValue, E> {
                Ok(match answer_from_str(v) {
                    Some(a) => AnswerValue::Answer(a, None),
                    None => AnswerValue::Invalid(format!("\"{v}\"")),
                })
            }
            fn visit_unit<E: de::Error>(self) -> Result<AnswerValue, E> {
                Ok(AnswerValue::Answer(Answer::Na, None))
            }
            fn visit_none<E: de::Error>(self) -> Result<AnswerValue, E> {
                Ok(AnswerValue::Answer(Answer::Na, None))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<AnswerValue, E> {
                Ok(AnswerValue::Invalid(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<AnswerValue, E> {
                Ok(AnswerValue::Invalid(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<AnswerValue, E> {
                Ok(AnswerValue::Invalid(v.to_string()))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<AnswerValue, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(AnswerValue::Invalid("a list".into()))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<AnswerValue, A::Error> {
                let mut answer = None;
                let mut class = None;
                // `not_asked`: the program did not ask the question, and
                // why; the only reason is `min_turns`.
                let mut not_asked: Option<Result<(), String>> = None;
                while let Some(key) = map.next_key::<Key<'de>>()?.map(|k| k.0) {
                    match key.as_ref() {
                        "answer" => answer = Some(map.next_value::<AnswerValue>()?),
                        "not_asked" => {
                            not_asked = Some(match map.next_value::<serde_json::Value>()? {
                                serde_json::Value::String(s) if s == "min_turns" => Ok(()),
                                other => Err(format!(
                                    "`not_asked` {other} (the reason is \"min_turns\")"
                                )),
                            })
                        }
                        // The class of a failure is a string; anything
                        // else there is read as no class, not a reason to
                        // lose the line.
                        "error" => {
                            class = match map.next_value::<serde_json::Value>()? {
                                serde_json::Value::String(s) => Some(s),
                                _ => None,
                            }
                        }
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(match (not_asked, answer) {
                    (Some(Err(found)), _) => AnswerValue::Invalid(found),
                    (Some(Ok(())), _) => AnswerValue::Answer(Answer::NotAsked, None),
                    (None, Some(AnswerValue::Answer(a, _))) => AnswerValue::Answer(a, class),
                    (None, Some(invalid)) => invalid,
                    (None, None) => AnswerValue::Invalid("an object without `answer`".into()),
                })
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::{NaPolicy, ScoredCategory, ScoredQuestion, ScoringRubric};

    fn index() -> QuestionIndex {
        let q = |id: &str, conditional| ScoredQuestion {
            id: id.into(),
            conditional,
            na: NaPolicy::Drop,
        };
        QuestionIndex::new(&ScoringRubric {
            threshold: 750_000_000,
            gate_id: "g".into(),
            gate: vec![q("S1", false)],
            categories: vec![ScoredCategory {
                id: "c".into(),
                weight: 1_000_000_000,
                all_na: Default::default(),
                questions: vec![q("C1", false), q("C2", true)],
            }],
        })
    }

    fn parse(line: &str) -> Result<(Judgment<'_>, Vec<Answer>), Rejection> {
        let mut answers = Vec::new();
        let mut slots = Vec::new();
        let mut spec = None;
        parse_line(line, &index(), &mut answers, &mut slots, &mut spec).map(|j| (j, answers))
    }

    use Answer::*;

    #[test]
    fn every_accepted_form() {
        let (j, a) =
            parse(r#"{"id": "x", "answers": {"S1": true, "C1": "no", "C2": "NA"}}"#).unwrap();
        assert_eq!(j.id, "x");
        assert_eq!(a, [Yes, No, Na]);
        let (_, a) = parse(r#"{"id": 7, "answers": {"S1": {"evidence": "A1: hi", "answer": true}, "C1": "ERROR"}}"#).unwrap();
        assert_eq!(a, [Yes, Error, Omitted]);
        let (j, a) = parse(
            r#"{"id": "y", "judge": "m", "response": "Sure.\n```json\n{\"S1\": \"Yes\", \"C1\": false, \"C2\": null}\n```\nDone."}"#,
        )
        .unwrap();
        assert_eq!(j.judge.as_deref(), Some("m"));
        assert_eq!(a, [Yes, No, Na]);
        let (_, a) = parse(r#"{"id": "z", "response": "My answers: {\"answers\": {\"S1\": \"no\", \"C1\": \"yes\"}} end"}"#).unwrap();
        assert_eq!(a, [No, Yes, Omitted]);
    }

    #[test]
    fn every_rejection() {
        let kind = |line: &str| parse(line).unwrap_err().kind();
        assert_eq!(kind("not json"), "malformed");
        assert_eq!(
            kind(r#"{"answers": {"S1": true, "C1": true}}"#),
            "missing_id"
        );
        assert_eq!(kind(r#"{"id": "x"}"#), "no_answers");
        assert_eq!(
            kind(r#"{"id": "x", "response": "no idea"}"#),
            "no_json_in_response"
        );
        assert_eq!(
            kind(r#"{"id": "x", "answers": {"S1": true, "C1": true, "Q9": true}}"#),
            "unknown_question"
        );
        assert_eq!(
            kind(r#"{"id": "x", "answers": {"S1": true, "S1": false, "C1": true}}"#),
            "duplicate_answer"
        );
        assert_eq!(
            kind(r#"{"id": "x", "answers": {"S1": 1, "C1": true}}"#),
            "not_an_answer"
        );
        assert_eq!(
            kind(r#"{"id": "x", "answers": {"S1": "maybe", "C1": true}}"#),
            "not_an_answer"
        );
        assert_eq!(
            kind(r#"{"id": "x", "answers": {"S1": true}}"#),
            "missing_answer"
        );
        assert_eq!(
            kind(r#"{"id": "x", "answers": {"S1": true, "C1": "na"}}"#),
            "na_not_allowed"
        );
    }

    /// An id is a non-empty string or a whole number: `7` and `"7"` are the
    /// same id, and `1.0` (which would be `"1"` or `"1.0"` depending on who
    /// reads it), `""`, `"  "`, `true` and `null` are rejected.
    #[test]
    fn ids_are_non_empty_strings_or_whole_numbers() {
        let ok = |line: &str| parse(line).map(|(j, _)| j.id.into_owned());
        let answers = r#""answers": {"S1": true, "C1": true}"#;
        assert_eq!(ok(&format!(r#"{{"id": 7, {answers}}}"#)), Ok("7".into()));
        assert_eq!(ok(&format!(r#"{{"id": -3, {answers}}}"#)), Ok("-3".into()));
        assert_eq!(ok(&format!(r#"{{"id": "7", {answers}}}"#)), Ok("7".into()));
        for (id, found) in [
            ("1.0", "1.0"),
            ("2.5e3", "2500.0"),
            (r#""""#, "empty"),
            (r#""  ""#, "blank"),
            ("true", "true"),
            ("null", "null"),
            ("[1]", "a list"),
            (r#"{"a": 1}"#, "an object"),
        ] {
            let rejection = parse(&format!(r#"{{"id": {id}, {answers}}}"#)).unwrap_err();
            assert_eq!(rejection, Rejection::InvalidId(found.into()), "{id}");
            assert_eq!(rejection.kind(), "invalid_id");
        }
        assert_eq!(
            parse(&format!(r#"{{"id": 1.0, {answers}}}"#))
                .unwrap_err()
                .to_string(),
            "`id` is 1.0: an id is a non-empty string or a whole number"
        );
        let rejection = parse(&format!(r#"{{"id": "x", "judge": 1.5, {answers}}}"#)).unwrap_err();
        assert_eq!(
            rejection.to_string(),
            "`judge` is 1.5: a judge is named by a string"
        );
    }

    #[test]
    fn the_spec_hash_is_read_from_accepted_and_rejected_lines() {
        let index = index();
        let (mut answers, mut slots, mut spec) = (Vec::new(), Vec::new(), None);
        let line = r#"{"id": "x", "spec_sha256": "abc", "answers": {"S1": true, "C1": true}}"#;
        assert!(parse_line(line, &index, &mut answers, &mut slots, &mut spec).is_ok());
        assert_eq!(spec.as_deref(), Some("abc"));
        let line = r#"{"spec_sha256": "def", "id": "x", "answers": {"Q9": true}}"#;
        assert!(parse_line(line, &index, &mut answers, &mut slots, &mut spec).is_err());
        assert_eq!(spec.as_deref(), Some("def"));
        let line = r#"{"id": "x", "answers": {"S1": true, "C1": true}}"#;
        assert!(parse_line(line, &index, &mut answers, &mut slots, &mut spec).is_ok());
        assert_eq!(spec, None);
        let line = r#"{"id": "x", "spec_sha256": 5, "answers": {"S1": true, "C1": true}}"#;
        let rejection = parse_line(line, &index, &mut answers, &mut slots, &mut spec).unwrap_err();
        assert_eq!(rejection.kind(), "malformed");
        assert!(
            rejection.to_string().contains("`spec_sha256` as a string"),
            "{rejection}"
        );
    }

    /// The line `ftprep judge` writes: a sample number, token usage,
    /// latency, whether the cache answered, and beside an ERROR the class
    /// of the failure. None of it is a reason to reject the line, whatever
    /// its value; only the classes are read.
    #[test]
    fn the_fields_of_a_judging_run_are_accepted() {
        let line = r#"{"id": "c1", "judge": "gpt-x", "sample": 2, "answers": {"S1": {"evidence": "A1: 'sorry'", "answer": true}, "C1": {"answer": "ERROR", "error": "timeout"}, "C2": "ERROR"}, "spec_sha256": "abc", "usage": {"input_tokens": 1800, "output_tokens": 320}, "latency_ms": 1234, "cached": true}"#;
        let (j, a) = parse(line).unwrap();
        assert_eq!(j.judge.as_deref(), Some("gpt-x"));
        assert_eq!(a, [Yes, Error, Error]);
        assert_eq!(j.error_classes, ["timeout"]);
        for odd in [
            r#""sample": "two", "usage": null, "latency_ms": "slow", "cached": "yes""#,
            r#""sample": null, "usage": [1, 2], "latency_ms": -1.5, "cached": null"#,
        ] {
            let line = format!(r#"{{"id": "c1", {odd}, "answers": {{"S1": true, "C1": true}}}}"#);
            assert!(parse(&line).is_ok(), "{line}");
        }
        // A class that is not a string is no class; a class beside an
        // answer that is not ERROR is not read.
        let (j, a) = parse(r#"{"id": "c1", "answers": {"S1": {"answer": "ERROR", "error": {"code": 429}}, "C1": {"answer": true, "error": "stale"}}}"#).unwrap();
        assert_eq!(a, [Error, Yes, Omitted]);
        assert!(j.error_classes.is_empty());
        // In a judge's raw text too.
        let (j, _) = parse(r#"{"id": "c1", "response": "```json\n{\"S1\": {\"answer\": \"ERROR\", \"error\": \"refused\"}, \"C1\": true}\n```"}"#).unwrap();
        assert_eq!(j.error_classes, ["refused"]);
    }

    #[test]
    fn json_is_found_in_prose_and_fences() {
        assert_eq!(extract_json("a {\"x\": \"}\"} b"), Some("{\"x\": \"}\"}"));
        assert_eq!(extract_json("```\n{\"a\": 1}\n```"), Some("{\"a\": 1}"));
        assert_eq!(
            extract_json("```text\nhi\n```\n{\"b\": 2}"),
            Some("{\"b\": 2}")
        );
        assert_eq!(extract_json("none"), None);
    }
}
