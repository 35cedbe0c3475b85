//! Reading `ftprep.toml`: its text in, the resolved settings and every
//! diagnostic out.
//!
//! The text is parsed into toml's spanned document tree and walked by
//! hand rather than deserialized with serde, because serde stops at the
//! first problem and knows neither where a key was written nor which key
//! a misspelt one was near. Walking, each problem is reported where it is
//! and reading goes on, as a spec's diagnostics are.
//!
//! The order: TOML syntax (when it is broken nothing else is reported,
//! since a half-read file would come back as a cascade of missing keys),
//! then each `[models.ID]` in the file's order, then `[roles]` (which
//! name models, so come after them), `[retries]` and `[run]`. A model
//! with errors is left out of the result but still counts as configured,
//! so a role naming it does not add an "unknown model" to its errors.

use super::spec::{ProviderHelp, provider_help};
use super::{
    Cache, Dialect, Env, KeySource, Limits, MAX_SECONDS, Model, ModelSpec, Prices, Retries, Role,
    Roles, RunSettings, Sampling, StructuredOutput,
};
use crate::diagnostics::{Diagnostic, Diagnostics, Severity};
use crate::source::{SourceFile, Span};
use indexmap::IndexMap;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::de::{DeTable, DeValue};

/// What reading a file gave.
pub(super) struct Read {
    /// `None` when the TOML itself is broken.
    pub config: Option<Resolved>,
    pub diagnostics: Diagnostics,
    /// Values to mask in the text diagnostics show, because they may be a
    /// key written where it does not belong.
    pub redact: Vec<Span>,
}

pub(super) struct Resolved {
    pub models: IndexMap<String, Model>,
    pub roles: Roles,
    pub retries: Retries,
    pub run: RunSettings,
}

/// A setting: its key, what it takes, and a line that sets it well.
#[derive(Clone, Copy)]
struct Key {
    name: &'static str,
    takes: &'static str,
    example: &'static str,
}

const fn key(name: &'static str, takes: &'static str, example: &'static str) -> Key {
    Key {
        name,
        takes,
        example,
    }
}

const WHOLE: &str = "a whole number of at least 1";
const PRICE: &str = "a price in US dollars per million tokens, 0 or more";

const ROOT_KEYS: &[Key] = &[
    key(
        "models",
        "a table of models, one `[models.ID]` each",
        "[models.mini]",
    ),
    key("roles", "a table", "[roles]"),
    key("retries", "a table", "[retries]"),
    key("run", "a table", "[run]"),
];

const PROVIDER: Key = key(
    "provider",
    "\"openai\" or \"anthropic\"",
    "provider = \"openai\"",
);
const MODEL: Key = key(
    "model",
    "the model's name, as the provider spells it",
    "model = \"gpt-4o-mini\"",
);
const BASE_URL: Key = key(
    "base_url",
    "an http:// or https:// URL",
    "base_url = \"http://localhost:8000/v1\"",
);
const API_KEY_ENV: Key = key(
    "api_key_env",
    "the name of the environment variable that holds the key",
    "api_key_env = \"OPENAI_API_KEY\"",
);
const TEMPERATURE: Key = key("temperature", "a number from 0 to 2", "temperature = 0.0");
const TOP_P: Key = key("top_p", "a number above 0 and at most 1", "top_p = 1.0");
const MAX_TOKENS: Key = key("max_tokens", WHOLE, "max_tokens = 4096");
const SEED: Key = key("seed", "a whole number", "seed = 7");
const STOP: Key = key(
    "stop",
    "a list of one to four non-empty strings",
    "stop = [\"\\n\\n\"]",
);
const TIMEOUT: Key = key(
    "timeout_seconds",
    "a number of seconds above 0 and at most 86400",
    "timeout_seconds = 120",
);
const STRUCTURED_OUTPUT: Key = key(
    "structured_output",
    "\"json_schema\", \"tool\" or \"prompt\"",
    "structured_output = \"json_schema\"",
);
const LIMITS: Key = key("limits", "a table", "[models.ID.limits]");
const PRICES: Key = key("prices", "a table", "[models.ID.prices]");

const MODEL_KEYS: &[Key] = &[
    PROVIDER,
    MODEL,
    BASE_URL,
    API_KEY_ENV,
    TEMPERATURE,
    TOP_P,
    MAX_TOKENS,
    SEED,
    STOP,
    TIMEOUT,
    STRUCTURED_OUTPUT,
    LIMITS,
    PRICES,
];

const CONCURRENCY: Key = key("concurrency", WHOLE, "concurrency = 8");
const RPM: Key = key("requests_per_minute", WHOLE, "requests_per_minute = 500");
const TPM: Key = key("tokens_per_minute", WHOLE, "tokens_per_minute = 200000");
const ITPM: Key = key(
    "input_tokens_per_minute",
    WHOLE,
    "input_tokens_per_minute = 200000",
);
const OTPM: Key = key(
    "output_tokens_per_minute",
    WHOLE,
    "output_tokens_per_minute = 50000",
);
const LIMIT_KEYS: &[Key] = &[CONCURRENCY, RPM, TPM, ITPM, OTPM];

const INPUT: Key = key("input", PRICE, "input = 0.15");
const CACHED_INPUT: Key = key("cached_input", PRICE, "cached_input = 0.075");
const OUTPUT: Key = key("output", PRICE, "output = 0.60");
const BATCH_DISCOUNT: Key = key(
    "batch_discount",
    "a fraction from 0 to 1, the share of the price taken off",
    "batch_discount = 0.5",
);
const PRICE_KEYS: &[Key] = &[INPUT, CACHED_INPUT, OUTPUT, BATCH_DISCOUNT];

const JUDGE: Key = key(
    "judge",
    "a model, or a list of models",
    "judge = [\"mini\"]",
);
const GENERATE: Key = key("generate", "one model", "generate = \"mini\"");
const SIMULATE_USER: Key = key("simulate_user", "one model", "simulate_user = \"mini\"");
const CRITIQUE: Key = key("critique", "one model", "critique = \"mini\"");
const ROLE_KEYS: &[Key] = &[JUDGE, GENERATE, SIMULATE_USER, CRITIQUE];

const MAX_ATTEMPTS: Key = key("max_attempts", WHOLE, "max_attempts = 6");
const MAX_ELAPSED: Key = key(
    "max_elapsed_seconds",
    "a number of seconds above 0 and at most 86400",
    "max_elapsed_seconds = 600",
);
const UNUSABLE_RETRIES: Key = key(
    "unusable_retries",
    "a whole number, 0 or more",
    "unusable_retries = 2",
);
const RETRY_KEYS: &[Key] = &[MAX_ATTEMPTS, MAX_ELAPSED, UNUSABLE_RETRIES];

const DIR: Key = key("dir", "a directory", "dir = \"runs\"");
const CACHE: Key = key("cache", "a file, or \"off\"", "cache = \"cache.sqlite\"");
const RUN_KEYS: &[Key] = &[DIR, CACHE];

/// The kinds of table the file has.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Root,
    Model,
    Limits,
    Prices,
    Roles,
    Retries,
    Run,
}

impl Kind {
    const ALL: [Kind; 7] = [
        Kind::Root,
        Kind::Model,
        Kind::Limits,
        Kind::Prices,
        Kind::Roles,
        Kind::Retries,
        Kind::Run,
    ];

    fn keys(self) -> &'static [Key] {
        match self {
            Kind::Root => ROOT_KEYS,
            Kind::Model => MODEL_KEYS,
            Kind::Limits => LIMIT_KEYS,
            Kind::Prices => PRICE_KEYS,
            Kind::Roles => ROLE_KEYS,
            Kind::Retries => RETRY_KEYS,
            Kind::Run => RUN_KEYS,
        }
    }

    /// The table's header, for a model `id` where it has one.
    fn header(self, id: &str) -> String {
        match self {
            Kind::Root => "the top level".into(),
            Kind::Model => format!("[models.{id}]"),
            Kind::Limits => format!("[models.{id}.limits]"),
            Kind::Prices => format!("[models.{id}.prices]"),
            Kind::Roles => "[roles]".into(),
            Kind::Retries => "[retries]".into(),
            Kind::Run => "[run]".into(),
        }
    }
}

/// One `key = value` of a table.
struct Entry<'t, 'i> {
    key: &'t str,
    key_span: Span,
    value: &'t DeValue<'i>,
    span: Span,
}

/// A table, its entries in the file's order.
struct Table<'t, 'i> {
    kind: Kind,
    /// The model the table belongs to, for headers in messages.
    id: String,
    /// The header (or the inline table) that opens it.
    span: Span,
    entries: Vec<Entry<'t, 'i>>,
}

fn span(range: std::ops::Range<usize>) -> Span {
    Span::new(range.start, range.end)
}

impl<'t, 'i> Table<'t, 'i> {
    fn new(kind: Kind, id: &str, span: Span, table: &'t DeTable<'i>) -> Self {
        let mut entries: Vec<Entry<'t, 'i>> = table
            .iter()
            .map(|(k, v)| Entry {
                key: k.get_ref().as_ref(),
                key_span: self::span(k.span()),
                value: v.get_ref(),
                span: self::span(v.span()),
            })
            .collect();
        entries.sort_by_key(|e| (e.key_span.start, e.key_span.end));
        Table {
            kind,
            id: id.to_string(),
            span,
            entries,
        }
    }

    fn get(&self, name: &str) -> Option<&Entry<'t, 'i>> {
        self.entries.iter().find(|e| e.key == name)
    }

    fn header(&self) -> String {
        self.kind.header(&self.id)
    }
}

/// A TOML type with its article, for "takes X, not Y".
fn type_name(value: &DeValue<'_>) -> &'static str {
    match value {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date-time",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

fn integer_value(value: &DeValue<'_>) -> Option<i128> {
    match value {
        DeValue::Integer(i) => i128::from_str_radix(i.as_str(), i.radix()).ok(),
        _ => None,
    }
}

fn float_value(value: &DeValue<'_>) -> Option<f64> {
    match value {
        DeValue::Float(f) => Some(f.as_str().parse::<f64>().unwrap_or(f64::NAN)),
        DeValue::Integer(_) => integer_value(value).map(|i| i as f64),
        _ => None,
    }
}

/// Names of keys that hold secrets, in any table: their values are masked
/// and the key is refused.
fn is_secret_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    matches!(
        name.as_str(),
        "api_key" | "apikey" | "key" | "token" | "secret" | "password" | "authorization"
    ) || ["_key", "_token", "_secret", "_password", "-key", "-token"]
        .iter()
        .any(|end| name.ends_with(end))
}

/// The dialect a model's table names, for help texts; OpenAI's when it
/// names none.
fn table_dialect(table: &Table) -> Dialect {
    match table.get(PROVIDER.name).map(|e| e.value) {
        Some(DeValue::String(s)) => Dialect::from_name(s).unwrap_or(Dialect::OpenAi),
        _ => Dialect::OpenAi,
    }
}

fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

struct Reader<'e> {
    diagnostics: Diagnostics,
    redact: Vec<Span>,
    /// The file's text, for what values look like as written.
    text: &'e str,
    env: Env<'e>,
    /// Where relative paths start: the file's directory.
    base: &'e Path,
}

pub(super) fn read(source: &SourceFile, base: &Path, env: Env) -> Read {
    let text = source.text.as_str();
    let mut reader = Reader {
        diagnostics: Diagnostics::new(),
        redact: Vec::new(),
        text,
        env,
        base,
    };
    let (root, errors) = DeTable::parse_recoverable(text);
    if !errors.is_empty() {
        // The parser recovers and goes on, and what follows a broken line
        // (an array never closed) can fail on every later line: one error
        // a line says what is wrong without the cascade.
        let mut lines = HashSet::new();
        for error in &errors {
            let at = error.span().map_or(0, |s| s.start);
            if lines.insert(source.line_index.line_of(at)) {
                reader.syntax_error(error);
            }
        }
        return Read {
            config: None,
            diagnostics: reader.diagnostics,
            redact: reader.redact,
        };
    }
    let root = Table::new(Kind::Root, "", Span::point(0), root.get_ref());
    let config = reader.root(&root);
    Read {
        config: Some(config),
        diagnostics: reader.diagnostics,
        redact: reader.redact,
    }
}

impl<'e> Reader<'e> {
    fn push(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    fn errors(&self) -> usize {
        self.diagnostics.count(Severity::Error)
    }

    fn raw(&self, span: Span) -> &'e str {
        self.text.get(span.range()).unwrap_or("")
    }

    fn syntax_error(&mut self, error: &toml::de::Error) {
        let at = error.span().map_or(Span::point(0), span);
        let message = error.message().lines().next().unwrap_or("").trim();
        let diagnostic = if message.starts_with("duplicate key") {
            let key = self.raw(at).trim();
            let line_start = self
                .text
                .get(..at.start)
                .and_then(|before| before.rfind('\n'))
                .map_or(0, |i| i + 1);
            let line = self
                .text
                .get(line_start..)
                .and_then(|rest| rest.lines().next())
                .unwrap_or("")
                .trim();
            // `[models.mini]`, or `[[runs]]` for an array of tables.
            let close = if line.starts_with("[[") { "]]" } else { "]" };
            let header = line
                .starts_with('[')
                .then(|| line.find(close).map(|end| &line[..end + close.len()]))
                .flatten();
            match header {
                Some(header) => Diagnostic::error(
                    "config-syntax",
                    format!("the table `{header}` is written twice"),
                )
                .at(at, "opened again here")
                .help("a table is opened once: put all its settings under the first header"),
                None => Diagnostic::error("config-syntax", format!("`{key}` is written twice"))
                    .at(at, "written again here")
                    .help("a key is written once in a table: keep one of the two"),
            }
        } else if message.starts_with("invalid basic string")
            || message.starts_with("invalid literal string")
        {
            Diagnostic::error("config-syntax", "this string has no closing quote")
                .at(at, "the line ends here")
                .help("close the string on the same line; for text over several lines use `\"\"\"`")
        } else if message.starts_with("missing comma between array elements") {
            Diagnostic::error("config-syntax", "this array is not closed, or its elements have no comma between them")
                .at(at, "expected `,` or `]`")
                .help("close the array with `]` where it ends (is one missing on a line above?), and put a comma between its elements")
        } else if message.starts_with("string values must be quoted") {
            Diagnostic::error(
                "config-syntax",
                "a value is missing, or is text without quotes",
            )
            .at(at, "expected a value")
            .help("put text in quotes, such as `model = \"gpt-4o-mini\"`")
        } else {
            Diagnostic::error(
                "config-syntax",
                format!("this is not valid TOML: {message}"),
            )
            .at(at, "here")
            .help("ftprep.toml is TOML; https://toml.io describes its syntax")
        };
        self.push(diagnostic);
    }

    /// Reports every key of `table` that it does not take.
    fn check_keys(&mut self, table: &Table) {
        let names: Vec<String> = table
            .kind
            .keys()
            .iter()
            .map(|k| k.name.to_string())
            .collect();
        for entry in &table.entries {
            if names.iter().any(|n| n == entry.key) {
                continue;
            }
            if is_secret_name(entry.key) {
                self.redact.push(entry.span);
                self.push(
                    Diagnostic::error(
                        "config-key-in-file",
                        format!("`{}` would put a secret in ftprep.toml", entry.key),
                    )
                    .at(entry.key_span, "keys are read from the environment only")
                    .also(entry.span, "masked here; remove it from the file")
                    .help(format!(
                        "remove the line and put the key in an environment variable (`export {}=...`); a model whose key is in another variable names it with `api_key_env`",
                        table_dialect(table).api_key_env()
                    )),
                );
                continue;
            }
            let mut diagnostic = Diagnostic::error(
                "config-unknown-key",
                if table.kind == Kind::Root {
                    format!("`{}` is not a setting of ftprep.toml", entry.key)
                } else {
                    format!("`{}` is not a setting of `{}`", entry.key, table.header())
                },
            )
            .at(entry.key_span, "unknown key");
            let elsewhere = Kind::ALL
                .into_iter()
                .filter(|k| *k != table.kind)
                .find(|k| k.keys().iter().any(|key| key.name == entry.key));
            diagnostic = match (crate::model::nearest(entry.key, &names), elsewhere) {
                (Some(near), _) => diagnostic.help(format!("did you mean `{near}`?")),
                (None, Some(kind)) => {
                    let id = if table.id.is_empty() { "ID" } else { &table.id };
                    diagnostic.help(format!("`{}` belongs in `{}`", entry.key, kind.header(id)))
                }
                (None, None) => diagnostic.help(format!(
                    "{} takes {}",
                    if table.kind == Kind::Root {
                        "the top level".to_string()
                    } else {
                        format!("`{}`", table.header())
                    },
                    names
                        .iter()
                        .map(|n| format!("`{n}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            };
            self.push(diagnostic);
        }
    }

    /// "`max_tokens` takes a whole number of at least 1, not a string".
    fn wrong_type(&mut self, entry: &Entry, key: &Key, takes: &str) {
        let found = type_name(entry.value);
        let unquoted = match entry.value {
            DeValue::String(s) => {
                let s = s.trim();
                (!s.is_empty() && (s.parse::<f64>().is_ok() || s == "true" || s == "false"))
                    .then(|| s.to_string())
            }
            _ => None,
        };
        let help = match unquoted {
            Some(text) => format!("write it without quotes: `{} = {text}`", key.name),
            None if takes.starts_with("a table, `") => format!(
                "write it as a table: its settings under a header {}",
                takes.trim_start_matches("a table, ")
            ),
            None => format!("write it as `{}`", key.example),
        };
        self.push(
            Diagnostic::error(
                "config-wrong-type",
                format!("`{}` takes {takes}, not {found}", key.name),
            )
            .at(entry.span, format!("this is {found}"))
            .help(help),
        );
    }

    fn out_of_range(&mut self, entry: &Entry, key: &Key, takes: &str, label: String) {
        self.push(
            Diagnostic::error(
                "config-out-of-range",
                format!("`{}` takes {takes}", key.name),
            )
            .at(entry.span, label)
            .help(format!("a valid setting is `{}`", key.example)),
        );
    }

    fn string<'t>(&mut self, table: &'t Table<'t, '_>, key: &Key) -> Option<(&'t str, Span)> {
        let entry = table.get(key.name)?;
        match entry.value {
            DeValue::String(s) => Some((s.as_ref(), entry.span)),
            _ => {
                self.wrong_type(entry, key, key.takes);
                None
            }
        }
    }

    /// A list of one to `most` non-empty strings; empty when absent or
    /// wrong (the error is reported).
    fn strings(&mut self, table: &Table, key: &Key, most: usize) -> Vec<String> {
        let Some(entry) = table.get(key.name) else {
            return Vec::new();
        };
        let items = match entry.value {
            DeValue::Array(items) => items,
            _ => {
                self.wrong_type(entry, key, key.takes);
                return Vec::new();
            }
        };
        let strings: Option<Vec<String>> = items
            .iter()
            .map(|item| match item.get_ref() {
                DeValue::String(s) if !s.is_empty() => Some(s.to_string()),
                _ => None,
            })
            .collect();
        match strings {
            Some(strings) if !strings.is_empty() && strings.len() <= most => strings,
            _ => {
                self.out_of_range(
                    entry,
                    key,
                    key.takes,
                    "not one to four non-empty strings".into(),
                );
                Vec::new()
            }
        }
    }

    /// A whole number from `min` to `max`.
    fn integer(&mut self, table: &Table, key: &Key, min: i128, max: i128) -> Option<i128> {
        let entry = table.get(key.name)?;
        if !matches!(entry.value, DeValue::Integer(_)) {
            self.wrong_type(entry, key, key.takes);
            return None;
        }
        let raw = self.raw(entry.span);
        match integer_value(entry.value) {
            Some(v) if v < min => {
                let label = if min == 0 {
                    format!("`{raw}` is negative")
                } else {
                    format!("`{raw}` is below {min}")
                };
                self.out_of_range(entry, key, key.takes, label);
                None
            }
            Some(v) if v <= max => Some(v),
            _ => {
                self.out_of_range(entry, key, key.takes, format!("`{raw}` is too large"));
                None
            }
        }
    }

    /// A number (integer or float) that `check` accepts; `check` returns
    /// the label for one it does not.
    fn number(
        &mut self,
        table: &Table,
        key: &Key,
        takes: &str,
        check: impl Fn(f64) -> Option<&'static str>,
    ) -> Option<f64> {
        let entry = table.get(key.name)?;
        let Some(value) = float_value(entry.value) else {
            self.wrong_type(entry, key, takes);
            return None;
        };
        let raw = self.raw(entry.span);
        let problem = if value.is_finite() {
            check(value)
        } else {
            Some("not a finite number")
        };
        match problem {
            None => Some(value),
            Some(problem) => {
                self.out_of_range(entry, key, takes, format!("`{raw}` is {problem}"));
                None
            }
        }
    }

    fn seconds(&mut self, table: &Table, key: &Key) -> Option<Duration> {
        let value = self.number(table, key, key.takes, |v| {
            if v <= 0.0 {
                Some("not above 0")
            } else if v > MAX_SECONDS {
                Some("more than a day")
            } else {
                None
            }
        })?;
        Duration::try_from_secs_f64(value).ok()
    }

    fn price(&mut self, table: &Table, key: &Key) -> Option<f64> {
        self.number(table, key, key.takes, |v| (v < 0.0).then_some("negative"))
    }

    /// A sub-table; a value of another type is reported.
    fn table<'t, 'i>(
        &mut self,
        parent: &Table<'t, 'i>,
        key: &Key,
        kind: Kind,
    ) -> Option<Table<'t, 'i>> {
        let entry = parent.get(key.name)?;
        match entry.value {
            DeValue::Table(t) => Some(Table::new(kind, &parent.id, entry.span, t)),
            _ => {
                let takes = if kind == Kind::Limits || kind == Kind::Prices {
                    format!("a table, `{}`", kind.header(&parent.id))
                } else {
                    format!("a table, `{}`", kind.header(""))
                };
                self.wrong_type(entry, key, &takes);
                None
            }
        }
    }

    fn root(&mut self, root: &Table) -> Resolved {
        self.check_keys(root);
        let mut models = IndexMap::new();
        let mut defined = Vec::new();
        if let Some(entry) = root.get("models") {
            match entry.value {
                DeValue::Table(table) => {
                    let table = Table::new(Kind::Root, "", entry.span, table);
                    for model in &table.entries {
                        defined.push(model.key.to_string());
                        if let Some(resolved) = self.model(model) {
                            models.insert(model.key.to_string(), resolved);
                        }
                    }
                }
                _ => self.push(
                    Diagnostic::error(
                        "config-wrong-type",
                        format!(
                            "`models` takes a table of models, not {}",
                            type_name(entry.value)
                        ),
                    )
                    .at(entry.span, format!("this is {}", type_name(entry.value)))
                    .help("write each model as a table: a header such as `[models.mini]`, then its settings on the lines below"),
                ),
            }
        }
        let roles = match self.table(root, &ROOT_KEYS[1], Kind::Roles) {
            Some(table) => self.roles(&table, &models, &defined),
            None => Roles::default(),
        };
        let retries = match self.table(root, &ROOT_KEYS[2], Kind::Retries) {
            Some(table) => self.retries(&table),
            None => Retries::default(),
        };
        let run = self.table(root, &ROOT_KEYS[3], Kind::Run);
        let run = self.run(run.as_ref());
        Resolved {
            models,
            roles,
            retries,
            run,
        }
    }

    fn model(&mut self, entry: &Entry) -> Option<Model> {
        let id = entry.key;
        let before = self.errors();
        let DeValue::Table(table) = entry.value else {
            self.push(
                Diagnostic::error(
                    "config-wrong-type",
                    format!(
                        "`models.{id}` takes a table of settings, not {}",
                        type_name(entry.value)
                    ),
                )
                .at(entry.span, format!("this is {}", type_name(entry.value)))
                .help(format!(
                    "write the model as a table: `[models.{id}]`, then `provider = \"openai\"` and `model = \"...\"` on the lines below"
                )),
            );
            return None;
        };
        let valid_id = !id.is_empty()
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !valid_id {
            self.push(
                Diagnostic::error(
                    "config-bad-model-id",
                    format!("`{id}` cannot be a model's id"),
                )
                .at(entry.key_span, "not a model id")
                .help("a model's id is letters, digits, `_` and `-`, such as `mini` or `gpt-4o`: `--model ID` and roles name it"),
            );
        }
        let table = Table::new(Kind::Model, id, entry.span, table);
        self.check_keys(&table);

        let dialect = match self.string(&table, &PROVIDER) {
            Some((name, at)) => match Dialect::from_name(name) {
                Some(dialect) => Some(dialect),
                None => {
                    self.push(
                        Diagnostic::error(
                            "config-unknown-provider",
                            format!("`{name}` is not a provider"),
                        )
                        .at(at, "unknown provider")
                        .help(provider_help(name, ProviderHelp::File)),
                    );
                    None
                }
            },
            None => None,
        };
        let model = match self.string(&table, &MODEL) {
            Some((name, at)) if name.trim().is_empty() => {
                self.push(
                    Diagnostic::error("config-empty-value", "`model` names no model")
                        .at(at, "empty")
                        .help("write the provider's name for the model, such as `model = \"gpt-4o-mini\"`"),
                );
                None
            }
            Some((name, _)) => Some(name.to_string()),
            None => None,
        };
        self.missing(
            &table,
            &[
                (
                    &PROVIDER,
                    "add `provider = \"openai\"` (any OpenAI-compatible server) or `provider = \"anthropic\"`".into(),
                ),
                (
                    &MODEL,
                    "add the provider's name for the model, such as `model = \"gpt-4o-mini\"`".into(),
                ),
            ],
        );
        let file_url = self.base_url(&table);
        let key_var = self.api_key_env(&table);
        let max_temperature = dialect.map_or(2.0, Dialect::max_temperature);
        let temperature_takes = match dialect {
            Some(Dialect::Anthropic) => "a number from 0 to 1 for anthropic",
            _ => TEMPERATURE.takes,
        };
        let temperature = self.number(&table, &TEMPERATURE, temperature_takes, |v| {
            if v < 0.0 {
                Some("negative")
            } else if v > max_temperature {
                Some(if max_temperature == 1.0 {
                    "above 1"
                } else {
                    "above 2"
                })
            } else {
                None
            }
        });
        let top_p = self.number(&table, &TOP_P, TOP_P.takes, |v| {
            if v <= 0.0 {
                Some("not above 0")
            } else if v > 1.0 {
                Some("above 1")
            } else {
                None
            }
        });
        let max_tokens = self
            .integer(&table, &MAX_TOKENS, 1, u32::MAX as i128)
            .map(|v| v as u32);
        let stop = self.strings(&table, &STOP, 4);
        let mut seed = self
            .integer(&table, &SEED, i64::MIN as i128, i64::MAX as i128)
            .map(|v| v as i64);
        if let (Some(Dialect::Anthropic), Some(entry)) = (dialect, table.get(SEED.name))
            && seed.is_some()
        {
            self.push(
                Diagnostic::warning(
                    "config-unsupported-setting",
                    format!("anthropic takes no seed; `seed` is ignored for `{id}`"),
                )
                .at(
                    entry.key_span.to(entry.span),
                    "the Messages API has no seed",
                )
                .help("remove the line: Anthropic's answers cannot be made repeatable with a seed"),
            );
            seed = None;
        }
        let timeout = self.seconds(&table, &TIMEOUT);
        let structured_output = match self.string(&table, &STRUCTURED_OUTPUT) {
            Some((name, at)) => match StructuredOutput::from_name(name) {
                Some(s) => Some(s),
                None => {
                    let names: Vec<String> = StructuredOutput::ALL
                        .iter()
                        .map(|s| s.name().to_string())
                        .collect();
                    let help = match crate::model::nearest(name, &names) {
                        Some(near) => format!("did you mean `{near}`?"),
                        None => "write `json_schema` (the API's structured output), `tool` (a tool call) or `prompt` (the schema in the prompt only, for servers with neither)".into(),
                    };
                    self.push(
                        Diagnostic::error(
                            "config-bad-value",
                            format!("`{name}` is not a way to get structured output"),
                        )
                        .at(at, "unknown")
                        .help(help),
                    );
                    None
                }
            },
            None => None,
        };
        let limits = match self.table(&table, &LIMITS, Kind::Limits) {
            Some(limits) => self.limits(&limits),
            None => Limits::default(),
        };
        let prices = match self.table(&table, &PRICES, Kind::Prices) {
            Some(prices) => self.prices(&prices),
            None => None,
        };

        let dialect = dialect?;
        let model = model?;
        let base_url = match &file_url {
            Some((url, _)) => url.clone(),
            None => {
                let var = dialect.base_url_env();
                match base_url_from_env(dialect, (self.env)(var).as_deref()) {
                    Ok(url) => url,
                    Err(problem) => {
                        self.push(
                            Diagnostic::error(
                                "config-base-url",
                                format!("`{id}` takes its URL from ${var}, which {problem}"),
                            )
                            .at(table.span, format!("no `base_url`: ${var} is used"))
                            .help(format!(
                                "fix or unset {var}, or set `base_url` in `[models.{id}]`"
                            )),
                        );
                        return None;
                    }
                }
            }
        };
        let key = match key_var {
            Some((var, _)) => KeySource {
                var: Some(var),
                required: true,
            },
            // A URL of another server in the file, and no variable named:
            // the provider's key is not sent to it.
            None if file_url
                .as_ref()
                .is_some_and(|(u, _)| u != dialect.official_base_url()) =>
            {
                KeySource {
                    var: None,
                    required: false,
                }
            }
            None => KeySource {
                var: Some(dialect.api_key_env().to_string()),
                required: base_url == dialect.official_base_url(),
            },
        };
        if let (Some((url, at)), true) = (&file_url, key.required) {
            self.insecure_url(url, *at);
        }
        if self.errors() > before || !valid_id {
            return None;
        }
        Some(Model {
            id: id.to_string(),
            dialect,
            model,
            base_url,
            key,
            sampling: Sampling {
                temperature,
                top_p,
                max_tokens: max_tokens.unwrap_or(super::DEFAULT_MAX_TOKENS),
                seed,
                stop,
            },
            structured_output: structured_output
                .unwrap_or_else(|| dialect.default_structured_output()),
            timeout: timeout.unwrap_or(super::DEFAULT_TIMEOUT),
            limits,
            prices,
        })
    }

    /// One diagnostic for the keys `table` cannot do without and lacks,
    /// each given with its help.
    fn missing(&mut self, table: &Table, wanted: &[(&Key, String)]) {
        let absent: Vec<&(&Key, String)> = wanted
            .iter()
            .filter(|(key, _)| table.get(key.name).is_none())
            .collect();
        if absent.is_empty() {
            return;
        }
        let names: Vec<String> = absent
            .iter()
            .map(|(k, _)| format!("`{}`", k.name))
            .collect();
        let helps: Vec<&str> = absent.iter().map(|(_, help)| help.as_str()).collect();
        self.push(
            Diagnostic::error(
                "config-missing-key",
                format!("`{}` has no {}", table.header(), names.join(" and no ")),
            )
            .at(
                table.span,
                format!(
                    "{} {} needed here",
                    names.join(" and "),
                    if names.len() == 1 { "is" } else { "are" }
                ),
            )
            .help(helps.join("; ")),
        );
    }

    /// `base_url`, checked and without a trailing `/`, with warnings for
    /// the paths that lead to a 404.
    fn base_url(&mut self, table: &Table) -> Option<(String, Span)> {
        let (url, at) = self.string(table, &BASE_URL)?;
        let dialect = table.get(PROVIDER.name).and_then(|e| match e.value {
            DeValue::String(s) => Dialect::from_name(s),
            _ => None,
        });
        match check_url(url) {
            Err(problem) => {
                self.push(
                    Diagnostic::error("config-base-url", format!("`base_url` {problem}"))
                        .at(at, "not a usable URL")
                        .help(format!(
                            "write the server's URL, such as `{}`",
                            BASE_URL.example
                        )),
                );
                None
            }
            Ok(url) => {
                let path = url_path(&url);
                match dialect {
                    Some(Dialect::OpenAi) if path.is_empty() => self.push(
                        Diagnostic::warning(
                            "config-suspicious-url",
                            "this `base_url` has no path; OpenAI-compatible servers usually serve the API under `/v1`",
                        )
                        .at(at, "requests go to this URL + `/chat/completions`")
                        .help(format!("if the server's API is under `/v1`, write `base_url = \"{url}/v1\"`")),
                    ),
                    Some(Dialect::Anthropic) if path.ends_with("/v1") => self.push(
                        Diagnostic::warning(
                            "config-suspicious-url",
                            "this `base_url` ends in `/v1`, and anthropic adds `/v1/messages` itself",
                        )
                        .at(at, "requests go to this URL + `/v1/messages`")
                        .help(format!(
                            "write the URL without `/v1`: `base_url = \"{}\"`",
                            url.trim_end_matches("/v1")
                        )),
                    ),
                    _ => {}
                }
                Some((url, at))
            }
        }
    }

    /// A warning when a key would go over plain HTTP to another machine.
    fn insecure_url(&mut self, url: &str, at: Span) {
        if !url.starts_with("http://") || is_loopback(url) {
            return;
        }
        self.push(
            Diagnostic::warning(
                "config-insecure-url",
                "the key would be sent unencrypted: this `base_url` is `http://` on another machine",
            )
            .at(at, "plain HTTP")
            .help("use `https://`, or leave out `api_key_env` if the server needs no key"),
        );
    }

    fn api_key_env(&mut self, table: &Table) -> Option<(String, Span)> {
        let (name, at) = self.string(table, &API_KEY_ENV)?;
        if is_env_name(name) {
            return Some((name.to_string(), at));
        }
        // Whatever it is, it may be the key itself: never show it.
        self.redact.push(at);
        let looks_like_key = name.len() >= 20 || name.starts_with("sk-");
        let diagnostic = if looks_like_key {
            Diagnostic::error(
                "config-key-in-file",
                "`api_key_env` holds what looks like a key, not the name of a variable",
            )
            .at(at, "masked; a key is never written in ftprep.toml")
            .help(format!(
                "put the key in an environment variable (`export {var}=...`) and name that variable here: `api_key_env = \"{var}\"`",
                var = table_dialect(table).api_key_env()
            ))
        } else {
            Diagnostic::error(
                "config-bad-value",
                "`api_key_env` takes the name of an environment variable",
            )
            .at(at, "not a variable's name (masked, in case it is a key)")
            .help("a variable's name is letters, digits and `_`, not starting with a digit, such as `api_key_env = \"OPENAI_API_KEY\"`")
        };
        self.push(diagnostic);
        None
    }

    fn limits(&mut self, table: &Table) -> Limits {
        self.check_keys(table);
        let u32_max = u32::MAX as i128;
        let u64_max = u64::MAX as i128;
        let mut limits = Limits::default();
        if let Some(v) = self.integer(table, &CONCURRENCY, 1, u32_max) {
            limits.concurrency = v as u32;
        }
        limits.requests_per_minute = self.integer(table, &RPM, 1, u32_max).map(|v| v as u32);
        limits.tokens_per_minute = self.integer(table, &TPM, 1, u64_max).map(|v| v as u64);
        limits.input_tokens_per_minute = self.integer(table, &ITPM, 1, u64_max).map(|v| v as u64);
        limits.output_tokens_per_minute = self.integer(table, &OTPM, 1, u64_max).map(|v| v as u64);
        limits
    }

    fn prices(&mut self, table: &Table) -> Option<Prices> {
        self.check_keys(table);
        let input = self.price(table, &INPUT);
        let cached_input = self.price(table, &CACHED_INPUT);
        let output = self.price(table, &OUTPUT);
        let batch_discount = self.number(table, &BATCH_DISCOUNT, BATCH_DISCOUNT.takes, |v| {
            if v < 0.0 {
                Some("negative")
            } else if v > 1.0 {
                Some("above 1")
            } else {
                None
            }
        });
        let wanted: Vec<(&Key, String)> = [&INPUT, &OUTPUT]
            .into_iter()
            .map(|key| {
                (
                    key,
                    format!(
                        "add the price per million {} tokens, such as `{}`",
                        key.name, key.example
                    ),
                )
            })
            .collect();
        self.missing(table, &wanted);
        let (input, output) = (input?, output?);
        Some(Prices {
            input,
            cached_input: cached_input.unwrap_or(input),
            output,
            batch_discount: batch_discount.unwrap_or(0.5),
        })
    }

    fn roles(
        &mut self,
        table: &Table,
        models: &IndexMap<String, Model>,
        defined: &[String],
    ) -> Roles {
        self.check_keys(table);
        let mut roles = Roles::default();
        for role in Role::ALL {
            let key = ROLE_KEYS
                .iter()
                .find(|k| k.name == role.key())
                .copied()
                .unwrap_or(JUDGE);
            let Some(entry) = table.get(key.name) else {
                continue;
            };
            let refs: Vec<(&str, Span)> = match entry.value {
                DeValue::String(s) => vec![(s.as_ref(), entry.span)],
                DeValue::Array(items) if role.takes_several() => {
                    let mut refs = Vec::new();
                    for item in items.iter() {
                        let at = span(item.span());
                        match item.get_ref() {
                            DeValue::String(s) => refs.push((s.as_ref(), at)),
                            other => self.push(
                                Diagnostic::error(
                                    "config-wrong-type",
                                    format!(
                                        "`{}` lists models by name, and this is {}",
                                        key.name,
                                        type_name(other)
                                    ),
                                )
                                .at(at, format!("this is {}", type_name(other)))
                                .help(format!(
                                    "write each model's id in quotes, such as `{}`",
                                    key.example
                                )),
                            ),
                        }
                    }
                    if items.is_empty() {
                        self.push(
                            Diagnostic::error(
                                "config-empty-value",
                                format!("`{}` lists no model", key.name),
                            )
                            .at(entry.span, "empty")
                            .help(format!(
                                "name a model, such as `{}`, or remove the line",
                                key.example
                            )),
                        );
                    }
                    refs
                }
                DeValue::Array(_) => {
                    self.push(
                        Diagnostic::error(
                            "config-wrong-type",
                            format!("`{}` takes one model, not a list", key.name),
                        )
                        .at(entry.span, "a list")
                        .help(format!(
                            "write it as `{}`; only `judge` takes several",
                            key.example
                        )),
                    );
                    continue;
                }
                _ => {
                    self.wrong_type(entry, &key, key.takes);
                    continue;
                }
            };
            let mut resolved: Vec<(Model, Span)> = Vec::new();
            for (name, at) in refs {
                let Some(model) = self.role_model(name, at, models, defined) else {
                    continue;
                };
                if let Some((_, first)) = resolved.iter().find(|(m, _)| m.id == model.id) {
                    let first = *first;
                    self.push(
                        Diagnostic::error(
                            "config-duplicate-model",
                            format!("`{}` lists `{}` twice", key.name, model.id),
                        )
                        .at(at, "listed again")
                        .also(first, "first listed here")
                        .help("list each model once"),
                    );
                    continue;
                }
                resolved.push((model, at));
            }
            let mut resolved = resolved.into_iter().map(|(m, _)| m);
            match role {
                Role::Judge => roles.judge = resolved.collect(),
                Role::Generate => roles.generate = resolved.next(),
                Role::SimulateUser => roles.simulate_user = resolved.next(),
                Role::Critique => roles.critique = resolved.next(),
            }
        }
        roles
    }

    /// The model a role names, as `--model` would: a configured id or
    /// `provider:model`.
    fn role_model(
        &mut self,
        name: &str,
        at: Span,
        models: &IndexMap<String, Model>,
        defined: &[String],
    ) -> Option<Model> {
        let spec = match super::spec::parse(name, ProviderHelp::File) {
            Ok(spec) => spec,
            Err(error) => {
                let mut diagnostic =
                    Diagnostic::error(error.code, error.message).at(at, "not a model");
                diagnostic.help = error.help;
                self.push(diagnostic);
                return None;
            }
        };
        match spec {
            ModelSpec::Configured(id) => {
                if let Some(model) = models.get(&id) {
                    return Some(model.clone());
                }
                if defined.contains(&id) {
                    // Configured with errors, which are reported already.
                    return None;
                }
                let help = match crate::model::nearest(&id, defined) {
                    Some(near) => format!("did you mean `{near}`?"),
                    None if defined.is_empty() => format!(
                        "configure it under `[models.{id}]`, or name a provider's model, such as `\"openai:{id}\"`"
                    ),
                    None => format!(
                        "the configured models are {}; a provider's model is named with its provider, such as `\"openai:{id}\"`",
                        defined
                            .iter()
                            .map(|k| format!("`{k}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
                self.push(
                    Diagnostic::error(
                        "config-unknown-model",
                        format!("no model `{id}` is configured"),
                    )
                    .at(at, "no `[models.ID]` has this id")
                    .help(help),
                );
                None
            }
            ModelSpec::Direct { dialect, model } => {
                let var = dialect.base_url_env();
                match base_url_from_env(dialect, (self.env)(var).as_deref()) {
                    Ok(url) => Some(Model::direct(dialect, &model, url)),
                    Err(problem) => {
                        self.push(
                            Diagnostic::error(
                                "config-base-url",
                                format!("`{name}` takes its URL from ${var}, which {problem}"),
                            )
                            .at(at, format!("${var} is used for this model"))
                            .help(format!(
                                "fix or unset {var}, or configure the model under `[models.ID]` with a `base_url`"
                            )),
                        );
                        None
                    }
                }
            }
        }
    }

    fn retries(&mut self, table: &Table) -> Retries {
        self.check_keys(table);
        let mut retries = Retries::default();
        if let Some(v) = self.integer(table, &MAX_ATTEMPTS, 1, u32::MAX as i128) {
            retries.max_attempts = v as u32;
        }
        if let Some(v) = self.seconds(table, &MAX_ELAPSED) {
            retries.max_elapsed = v;
        }
        if let Some(v) = self.integer(table, &UNUSABLE_RETRIES, 0, u32::MAX as i128) {
            retries.unusable_retries = v as u32;
        }
        retries
    }

    fn run(&mut self, table: Option<&Table>) -> RunSettings {
        let mut dir = None;
        let mut cache = None;
        if let Some(table) = table {
            self.check_keys(table);
            dir = self.path(table, &DIR);
            cache = match table.get(CACHE.name).map(|e| e.value) {
                Some(DeValue::String(s)) if s.as_ref() == "off" => Some(Cache::Off),
                _ => self.path(table, &CACHE).map(Cache::File),
            };
        }
        let dir = dir.unwrap_or_else(|| self.base.join("runs"));
        let cache = match cache {
            Some(cache) => cache,
            None => default_cache(self.env, None, &mut self.diagnostics),
        };
        RunSettings { dir, cache }
    }

    /// A path setting: `~/` is the home directory, and a relative path
    /// starts at the file's directory.
    fn path(&mut self, table: &Table, key: &Key) -> Option<PathBuf> {
        let (text, at) = self.string(table, key)?;
        if text.trim().is_empty() {
            self.push(
                Diagnostic::error(
                    "config-empty-value",
                    format!("`{}` names no path", key.name),
                )
                .at(at, "empty")
                .help(if key.name == CACHE.name {
                    format!(
                        "write a file, such as `{}`, or `cache = \"off\"` for no cache",
                        key.example
                    )
                } else {
                    format!("write a path, such as `{}`", key.example)
                }),
            );
            return None;
        }
        if let Some(rest) = text.strip_prefix("~/") {
            return match (self.env)("HOME").filter(|h| !h.is_empty()) {
                Some(home) => Some(PathBuf::from(home).join(rest)),
                None => {
                    self.push(
                        Diagnostic::error(
                            "config-bad-value",
                            format!(
                                "`{}` starts at the home directory, and HOME is not set",
                                key.name
                            ),
                        )
                        .at(at, "`~` is $HOME")
                        .help("write the whole path, or set HOME"),
                    );
                    None
                }
            };
        }
        let path = Path::new(text);
        Some(if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.base.join(path)
        })
    }
}

/// The cache when none is set, or [`Cache::Off`] with a warning when no
/// cache directory is known.
pub(super) fn default_cache(env: Env, at: Option<Span>, diagnostics: &mut Diagnostics) -> Cache {
    match super::default_cache_path(env) {
        Some(path) => Cache::File(path),
        None => {
            let mut warning = Diagnostic::warning(
                "config-no-cache",
                "responses are not cached: neither XDG_CACHE_HOME nor HOME is set",
            )
            .help(
                "set HOME (or XDG_CACHE_HOME), or `cache = \"PATH\"` under `[run]` in ftprep.toml",
            );
            if let Some(at) = at {
                warning = warning.at(at, "");
            }
            diagnostics.push(warning);
            Cache::Off
        }
    }
}

/// `$OPENAI_BASE_URL` and `$ANTHROPIC_BASE_URL`, in [`Dialect::ALL`]'s
/// order.
pub(super) fn env_base_urls(env: Env) -> [Option<String>; 2] {
    Dialect::ALL.map(|d| env(d.base_url_env()))
}

/// The URL for a model with no `base_url`: the variable's value when set
/// (and not empty, as an unset variable exported empty often is), else
/// the provider's own server.
pub(super) fn base_url_from_env(dialect: Dialect, value: Option<&str>) -> Result<String, String> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        Some(url) => check_url(url),
        None => Ok(dialect.official_base_url().to_string()),
    }
}

/// A URL requests can be built on, without its trailing `/`; or what is
/// wrong with it, in words that do not repeat it (it may hold a password).
fn check_url(url: &str) -> Result<String, String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    let Some(rest) = rest else {
        return Err("does not start with `http://` or `https://`".into());
    };
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("has a space or a control character in it".into());
    }
    let host = rest.split('/').next().unwrap_or("");
    if host.is_empty() {
        return Err("names no host after `://`".into());
    }
    if url.contains('?') || url.contains('#') {
        return Err("has a query or a fragment (`?`, `#`), to which no path can be added".into());
    }
    Ok(url.trim_end_matches('/').to_string())
}

/// The path of a checked URL: `/v1` for `http://host:8000/v1`.
fn url_path(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.find('/').map_or("", |i| &rest[i..])
}

fn is_loopback(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split('/').next().unwrap_or("");
    let host = authority.rsplit('@').next().unwrap_or(authority);
    let host = if host.starts_with('[') {
        host.split(']').next().map_or(host, |h| &h[1..])
    } else {
        host.split(':').next().unwrap_or(host)
    };
    host == "localhost" || host == "::1" || host.starts_with("127.") || host.ends_with(".localhost")
}

/// The file as diagnostics show it: the values at `spans`, and whatever
/// else looks like a key, masked with `*` byte for byte, so every span
/// still points at the same line and column.
pub(super) fn redacted(source: &SourceFile, spans: &[Span]) -> SourceFile {
    let mut bytes = source.text.as_bytes().to_vec();
    let mut mask = |range: std::ops::Range<usize>| {
        for b in bytes.get_mut(range).into_iter().flatten() {
            if !matches!(b, b'"' | b'\'' | b'\n' | b'\r' | b' ' | b'\t') {
                *b = b'*';
            }
        }
    };
    for s in spans {
        mask(s.range());
    }
    let text = source.text.as_str();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        // `api_key = "..."`, `[x] token = ...`: mask the value of a key
        // whose name says it is secret, even where the TOML is broken.
        if let Some(eq) = line.find('=') {
            let name = line[..eq].trim().trim_matches(['"', '\'']);
            let name = name
                .rsplit('.')
                .next()
                .unwrap_or(name)
                .trim()
                .trim_matches(['"', '\'']);
            if is_secret_name(name) {
                mask(offset + eq + 1..offset + line.len());
            }
        }
        offset += line.len();
    }
    // Keys written anywhere else: OpenAI's, Anthropic's and OpenRouter's
    // start `sk-`, Groq's `gsk_`.
    for prefix in ["sk-", "gsk_"] {
        for (at, _) in text.match_indices(prefix) {
            let starts_word = text[..at]
                .chars()
                .next_back()
                .is_none_or(|c| !c.is_ascii_alphanumeric());
            let len = text[at..]
                .bytes()
                .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
                .count();
            if starts_word && len >= prefix.len() + 16 {
                mask(at..at + len);
            }
        }
    }
    // Every masked range starts and ends between characters (at a span of
    // the parser, a line's end or an ASCII byte), and within it every
    // byte of a multi-byte character becomes `*`: the text stays UTF-8.
    let text = String::from_utf8(bytes)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
    let mut shown = SourceFile::new(source.name.clone(), text);
    shown.style = source.style;
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            check_url("http://localhost:8000/v1/").unwrap(),
            "http://localhost:8000/v1"
        );
        assert!(check_url("localhost:8000").is_err());
        assert!(check_url("https:///v1").is_err());
        assert!(check_url("https://h/v1?x=1").is_err());
        assert!(check_url("https://h /v1").is_err());
        assert_eq!(url_path("http://h:1/v1"), "/v1");
        assert_eq!(url_path("http://h:1"), "");
        for local in [
            "http://localhost:8000/v1",
            "http://127.0.0.1/v1",
            "http://[::1]:8080/v1",
        ] {
            assert!(is_loopback(local), "{local}");
        }
        for remote in [
            "http://10.0.0.5:8000/v1",
            "http://gpu-box/v1",
            "http://localhost.evil.com/v1",
        ] {
            assert!(!is_loopback(remote), "{remote}");
        }
    }

    #[test]
    fn redaction_keeps_every_offset() {
        let text = "api_key = \"sk-proj-abcdefghijklmnopqrstuvwxyz\"\nmodel = \"x\" # sk-ant-0123456789abcdefghij\nnote = \"ünï sk-short\"\n";
        let source = SourceFile::new("f", text);
        let shown = redacted(&source, &[]);
        assert_eq!(shown.text.len(), text.len());
        assert!(!shown.text.contains("sk-proj"), "{}", shown.text);
        assert!(!shown.text.contains("sk-ant"), "{}", shown.text);
        assert!(shown.text.contains("model = \"x\""), "{}", shown.text);
        // Too short to be a key: left alone.
        assert!(shown.text.contains("sk-short"), "{}", shown.text);
        for (a, b) in text.lines().zip(shown.text.lines()) {
            assert_eq!(a.len(), b.len());
        }
    }
}
