//! The project configuration: `ftprep.toml`, and models named with
//! `--model`.
//!
//! Models are named in a project file beside the spec, never in the spec,
//! so a spec reads the same whoever judges it. The file names each model
//! (`[models.ID]`: provider, URL, model, sampling, limits, prices), which
//! models play each role (judge, generate, simulate the user, critique),
//! how calls are retried and where runs and the cache live. Everything is
//! described in `docs/configuration.md`.
//!
//! In: the file's text (or none), the `--model` arguments, and the
//! environment, read through an [`Env`] lookup so that tests never touch
//! the process's own. Out: a [`ProjectConfig`] whose [`Model`]s have every
//! setting filled in, or [`ConfigDiagnostics`] located in the file and
//! rendered like a spec's.
//!
//! Keys are never in the file: a model names the environment variable that
//! holds its key, and [`Model::api_key`] reads it when a request is made,
//! as a [`Secret`] that prints as `***`. The text diagnostics show has
//! whatever looks like a key masked (see `read::redact`).

mod read;
mod secret;
mod spec;

pub use secret::Secret;
pub use spec::ModelSpec;

use crate::diagnostics::render::{RenderOptions, render_all, summary_line};
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::source::SourceFile;
use indexmap::IndexMap;
use serde::Serialize;
use std::fmt;
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

/// The name of the project file.
pub const FILE_NAME: &str = "ftprep.toml";

/// How the configuration reads an environment variable: `None` when it is
/// unset. [`process_env`] reads the process's environment; tests pass a
/// closure over a fixed table.
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The process's environment. A value that is not UTF-8 is read with
/// U+FFFD in place of its bad bytes, so it fails validation instead of
/// being taken for unset.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var_os(name).map(|v| v.to_string_lossy().into_owned())
}

/// Which API a model speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Dialect {
    /// OpenAI's Chat Completions API, which OpenAI, vLLM, llama.cpp's
    /// server, Ollama, OpenRouter, Together and Groq all serve.
    #[serde(rename = "openai")]
    OpenAi,
    /// Anthropic's Messages API.
    #[serde(rename = "anthropic")]
    Anthropic,
}

impl Dialect {
    pub const ALL: [Dialect; 2] = [Dialect::OpenAi, Dialect::Anthropic];

    /// As written in `provider = "..."` and `--model PROVIDER:MODEL`.
    pub fn name(self) -> &'static str {
        match self {
            Dialect::OpenAi => "openai",
            Dialect::Anthropic => "anthropic",
        }
    }

    pub fn from_name(name: &str) -> Option<Dialect> {
        Dialect::ALL.into_iter().find(|d| d.name() == name)
    }

    /// The provider's own server, as its official SDK has it: requests go
    /// to `{base_url}/chat/completions` and `{base_url}/v1/messages`.
    pub fn official_base_url(self) -> &'static str {
        match self {
            Dialect::OpenAi => "https://api.openai.com/v1",
            Dialect::Anthropic => "https://api.anthropic.com",
        }
    }

    /// The variable the official SDK reads a base URL from.
    pub fn base_url_env(self) -> &'static str {
        match self {
            Dialect::OpenAi => "OPENAI_BASE_URL",
            Dialect::Anthropic => "ANTHROPIC_BASE_URL",
        }
    }

    /// The variable the official SDK reads the key from.
    pub fn api_key_env(self) -> &'static str {
        match self {
            Dialect::OpenAi => "OPENAI_API_KEY",
            Dialect::Anthropic => "ANTHROPIC_API_KEY",
        }
    }

    pub fn default_structured_output(self) -> StructuredOutput {
        match self {
            Dialect::OpenAi => StructuredOutput::JsonSchema,
            Dialect::Anthropic => StructuredOutput::Tool,
        }
    }

    /// The highest temperature the API accepts.
    pub fn max_temperature(self) -> f64 {
        match self {
            Dialect::OpenAi => 2.0,
            Dialect::Anthropic => 1.0,
        }
    }

    /// Whether requests can carry a sampling seed.
    pub fn supports_seed(self) -> bool {
        matches!(self, Dialect::OpenAi)
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How a model is made to answer in the judge's JSON schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StructuredOutput {
    /// The API's own structured output: the schema goes with the request
    /// and the server holds the answer to it (OpenAI's `response_format`).
    JsonSchema,
    /// A tool whose input is the schema, which the model is made to call
    /// (Anthropic's usual way; OpenAI-compatible servers with tools).
    Tool,
    /// The schema in the prompt only, for servers that support neither;
    /// the answer is checked against it afterwards.
    Prompt,
}

impl StructuredOutput {
    pub const ALL: [StructuredOutput; 3] = [
        StructuredOutput::JsonSchema,
        StructuredOutput::Tool,
        StructuredOutput::Prompt,
    ];

    pub fn name(self) -> &'static str {
        match self {
            StructuredOutput::JsonSchema => "json_schema",
            StructuredOutput::Tool => "tool",
            StructuredOutput::Prompt => "prompt",
        }
    }

    pub fn from_name(name: &str) -> Option<StructuredOutput> {
        StructuredOutput::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// The request settings that, with the model, its server and the prompt,
/// decide what comes back. A cache key needs these; it needs none of
/// [`Limits`], the timeout or [`Prices`], which change only how fast or
/// how dear the answer is.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sampling {
    /// `None`: not sent, the server's default. Reasoning models accept no
    /// other, so nothing is assumed.
    pub temperature: Option<f64>,
    /// `None`: not sent.
    pub top_p: Option<f64>,
    pub max_tokens: u32,
    /// `None` for Anthropic, which takes no seed.
    pub seed: Option<i64>,
    /// Sequences that end the answer where they first appear (OpenAI's
    /// `stop`, Anthropic's `stop_sequences`); empty: none sent.
    pub stop: Vec<String>,
}

/// How hard a model's server may be pressed. `None`: no limit but the
/// server's own (its 429 answers).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Limits {
    /// Requests in flight at once.
    pub concurrency: u32,
    pub requests_per_minute: Option<u32>,
    /// Input and output tokens together, as OpenAI counts them.
    pub tokens_per_minute: Option<u64>,
    /// Input tokens, as Anthropic counts them.
    pub input_tokens_per_minute: Option<u64>,
    /// Output tokens, as Anthropic counts them.
    pub output_tokens_per_minute: Option<u64>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            concurrency: DEFAULT_CONCURRENCY,
            requests_per_minute: None,
            tokens_per_minute: None,
            input_tokens_per_minute: None,
            output_tokens_per_minute: None,
        }
    }
}

/// Requests in flight at once unless `limits.concurrency` says otherwise.
pub const DEFAULT_CONCURRENCY: u32 = 8;
/// Tokens a response may have unless `max_tokens` says otherwise: room for
/// a judge's answer with evidence for twenty questions.
pub const DEFAULT_MAX_TOKENS: u32 = 4096;
/// How long one request may take unless `timeout_seconds` says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);
/// The longest `timeout_seconds` and `retries.max_elapsed_seconds`: a day.
pub const MAX_SECONDS: f64 = 86_400.0;

/// Prices in US dollars per million tokens.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Prices {
    pub input: f64,
    /// Input read from the provider's prompt cache; `input` when unset.
    pub cached_input: f64,
    pub output: f64,
    /// The fraction taken off for batch requests: 0.5 pays half.
    pub batch_discount: f64,
}

impl Prices {
    /// The price of a call in dollars: `input` counts the input tokens not
    /// read from the cache, `cached_input` those that were.
    pub fn cost(&self, input: u64, cached_input: u64, output: u64) -> f64 {
        (input as f64 * self.input
            + cached_input as f64 * self.cached_input
            + output as f64 * self.output)
            / 1_000_000.0
    }

    /// [`Prices::cost`] of a batch request.
    pub fn batch_cost(&self, input: u64, cached_input: u64, output: u64) -> f64 {
        self.cost(input, cached_input, output) * (1.0 - self.batch_discount)
    }
}

/// Where a model's key comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeySource {
    /// The variable to read; `None`: no key is sent.
    pub var: Option<String>,
    /// Whether a request without a key is an error (rather than a request
    /// to a server that needs none).
    pub required: bool,
}

/// A model with every setting resolved.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Model {
    /// The name it goes by: its `[models.ID]` id, or `openai:gpt-4o-mini`
    /// for a model named by provider and model.
    pub id: String,
    #[serde(rename = "provider")]
    pub dialect: Dialect,
    /// The model's name, as the provider spells it.
    pub model: String,
    /// Without a trailing `/`.
    pub base_url: String,
    #[serde(rename = "api_key_env")]
    pub key: KeySource,
    #[serde(flatten)]
    pub sampling: Sampling,
    pub structured_output: StructuredOutput,
    #[serde(rename = "timeout_seconds", serialize_with = "seconds")]
    pub timeout: Duration,
    pub limits: Limits,
    pub prices: Option<Prices>,
}

fn seconds<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

impl Model {
    /// `provider:model` with every default, its URL from `base_url` (the
    /// provider's variable, else its own server).
    fn direct(dialect: Dialect, model: &str, base_url: String) -> Model {
        let official = base_url == dialect.official_base_url();
        Model {
            id: format!("{dialect}:{model}"),
            dialect,
            model: model.to_string(),
            base_url,
            key: KeySource {
                var: Some(dialect.api_key_env().to_string()),
                required: official,
            },
            sampling: Sampling {
                temperature: None,
                top_p: None,
                max_tokens: DEFAULT_MAX_TOKENS,
                seed: None,
                stop: Vec::new(),
            },
            structured_output: dialect.default_structured_output(),
            timeout: DEFAULT_TIMEOUT,
            limits: Limits::default(),
            prices: None,
        }
    }

    /// The key, read from the environment now: `None` when the model
    /// needs none.
    pub fn api_key(&self) -> Result<Option<Secret>, ConfigError> {
        self.api_key_with(&process_env)
    }

    /// [`Model::api_key`] through `env`.
    pub fn api_key_with(&self, env: Env) -> Result<Option<Secret>, ConfigError> {
        secret::read_key(self, env)
    }
}

/// What a model is asked to do. Every command that calls models reads its
/// models from one role, so they share one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Answers the rubric; one model or several.
    Judge,
    /// Writes training examples.
    Generate,
    /// Plays the user in generated conversations.
    SimulateUser,
    /// Reviews examples as an expert would.
    Critique,
}

impl Role {
    pub const ALL: [Role; 4] = [
        Role::Judge,
        Role::Generate,
        Role::SimulateUser,
        Role::Critique,
    ];

    /// As written under `[roles]`.
    pub fn key(self) -> &'static str {
        match self {
            Role::Judge => "judge",
            Role::Generate => "generate",
            Role::SimulateUser => "simulate_user",
            Role::Critique => "critique",
        }
    }

    /// Whether the role takes a list of models.
    pub fn takes_several(self) -> bool {
        matches!(self, Role::Judge)
    }

    /// The role in words, for messages: "no model is set to judge".
    fn verb(self) -> &'static str {
        match self {
            Role::Judge => "judge",
            Role::Generate => "generate",
            Role::SimulateUser => "simulate the user",
            Role::Critique => "critique",
        }
    }
}

/// How calls are retried. Counted per call.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Retries {
    /// Attempts at a call that failed on the way (429, 5xx, a timeout, a
    /// reset connection), the first included.
    pub max_attempts: u32,
    /// No retry starts after this long since the call's first attempt.
    #[serde(rename = "max_elapsed_seconds", serialize_with = "seconds")]
    pub max_elapsed: Duration,
    /// How many times a response that came back but cannot be used (a
    /// refusal, cut off, not JSON, breaking the schema) is asked again.
    pub unusable_retries: u32,
}

impl Default for Retries {
    fn default() -> Self {
        Retries {
            max_attempts: 6,
            max_elapsed: Duration::from_secs(600),
            unusable_retries: 2,
        }
    }
}

/// Where runs and the response cache are written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunSettings {
    /// Each run writes `<dir>/<name>/`. Relative to the configuration
    /// file's directory (the current directory without one).
    pub dir: PathBuf,
    pub cache: Cache,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cache {
    /// No cache: every call goes to the server.
    Off,
    /// An SQLite file.
    File(PathBuf),
}

/// The default cache: `$XDG_CACHE_HOME/ftprep/cache.sqlite`, else
/// `~/.cache/ftprep/cache.sqlite` (`%LOCALAPPDATA%\ftprep\cache.sqlite`
/// on Windows without `HOME`). `None` when none of those is set.
pub fn default_cache_path(env: Env) -> Option<PathBuf> {
    let absolute = |var: &str| env(var).map(PathBuf::from).filter(|p| p.is_absolute());
    let dir = absolute("XDG_CACHE_HOME")
        .or_else(|| absolute("HOME").map(|home| home.join(".cache")))
        .or_else(|| absolute("LOCALAPPDATA"))?;
    Some(dir.join("ftprep").join("cache.sqlite"))
}

/// Why a model cannot be used: a bad `--model`, a role nothing fills, a
/// key that is not set. Never holds a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// A stable code, as diagnostics have: `config-missing-api-key`.
    pub code: &'static str,
    pub message: String,
    /// How to fix it, in one sentence.
    pub help: Option<String>,
}

impl ConfigError {
    fn new(code: &'static str, message: impl Into<String>, help: impl Into<String>) -> Self {
        ConfigError {
            code,
            message: message.into(),
            help: Some(help.into()),
        }
    }

    /// As a diagnostic with no location, for the renderer.
    pub fn to_diagnostic(&self) -> Diagnostic {
        let diagnostic = Diagnostic::error(self.code, self.message.clone());
        match &self.help {
            Some(help) => diagnostic.help(help.clone()),
            None => diagnostic,
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConfigError {}

/// The diagnostics of a configuration file, with the file they point into
/// (its text as shown: what looks like a key is masked).
#[derive(Debug, Clone)]
pub struct ConfigDiagnostics {
    pub source: SourceFile,
    pub diagnostics: Diagnostics,
}

impl ConfigDiagnostics {
    fn empty(name: &str) -> Self {
        ConfigDiagnostics {
            source: SourceFile::new(name, ""),
            diagnostics: Diagnostics::new(),
        }
    }

    pub fn has_errors(&self) -> bool {
        self.diagnostics.has_errors()
    }

    pub fn is_empty(&self) -> bool {
        self.diagnostics.is_empty()
    }

    /// Every diagnostic as a terminal shows it, then a summary line
    /// (`error: ftprep.toml: 2 errors`), as `ftprep check` prints a spec's.
    pub fn render(&self, options: RenderOptions) -> String {
        let mut text = render_all(&self.diagnostics, &self.source, options);
        if let Some(summary) = summary_line(&self.diagnostics, &self.source.name) {
            let prefix = if self.has_errors() {
                "error"
            } else {
                "warning"
            };
            text.push_str(&format!("{prefix}: {summary}\n"));
        }
        text
    }
}

impl fmt::Display for ConfigDiagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(RenderOptions::plain()))
    }
}

/// The models of each role, resolved.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Roles {
    pub judge: Vec<Model>,
    pub generate: Option<Model>,
    pub simulate_user: Option<Model>,
    pub critique: Option<Model>,
}

/// The project configuration: `ftprep.toml` read and resolved, or the
/// defaults when there is none.
#[derive(Debug, Clone)]
pub struct ProjectConfig {
    /// The file, as found or given; `None` without one.
    pub path: Option<PathBuf>,
    /// The configured models by id, in the file's order.
    pub models: IndexMap<String, Model>,
    pub roles: Roles,
    pub retries: Retries,
    pub run: RunSettings,
    /// What the file has that works but is probably not what was meant
    /// (a seed for Anthropic): print these before going on.
    pub warnings: ConfigDiagnostics,
    /// `$OPENAI_BASE_URL` and `$ANTHROPIC_BASE_URL` as they were when the
    /// configuration was loaded, for models named on the command line.
    env_base_urls: [Option<String>; 2],
}

impl ProjectConfig {
    /// The configuration file for a spec: `explicit` (`--config FILE`) if
    /// given, else the first `ftprep.toml` in the spec's directory or a
    /// parent of it, stopping at a repository's root (a directory with a
    /// `.git`), so a file outside the project never applies to it. `-`
    /// (standard input) searches from the current directory.
    pub fn find(spec: &Path, explicit: Option<&Path>) -> Option<PathBuf> {
        if let Some(path) = explicit {
            return Some(path.to_path_buf());
        }
        let start = if spec.as_os_str() == "-" || spec.as_os_str().is_empty() {
            Path::new(".")
        } else if spec.is_dir() {
            spec
        } else {
            match spec.parent() {
                Some(dir) if !dir.as_os_str().is_empty() => dir,
                _ => Path::new("."),
            }
        };
        let cwd = std::env::current_dir().ok();
        let absolute = normalize(&std::path::absolute(start).ok()?);
        for dir in absolute.ancestors() {
            let candidate = dir.join(FILE_NAME);
            if candidate.is_file() {
                // As the user would write it: relative to the current
                // directory when it is inside it.
                let shown = cwd
                    .as_ref()
                    .and_then(|cwd| candidate.strip_prefix(normalize(cwd)).ok())
                    .map(Path::to_path_buf)
                    .unwrap_or(candidate);
                return Some(shown);
            }
            if dir.join(".git").exists() {
                break;
            }
        }
        None
    }

    /// [`ProjectConfig::find`], then [`ProjectConfig::load`], or the
    /// defaults when there is no file.
    pub fn discover(spec: &Path, explicit: Option<&Path>) -> Result<Self, ConfigDiagnostics> {
        Self::discover_with(spec, explicit, &process_env)
    }

    pub fn discover_with(
        spec: &Path,
        explicit: Option<&Path>,
        env: Env,
    ) -> Result<Self, ConfigDiagnostics> {
        match Self::find(spec, explicit) {
            Some(path) => Self::load_with(&path, env),
            None => Ok(Self::without_file_with(env)),
        }
    }

    /// Reads and resolves a configuration file. `Err` holds every error
    /// (and warning) found; `Ok` may still carry warnings.
    pub fn load(path: &Path) -> Result<Self, ConfigDiagnostics> {
        Self::load_with(path, &process_env)
    }

    pub fn load_with(path: &Path, env: Env) -> Result<Self, ConfigDiagnostics> {
        let name = path.to_string_lossy().into_owned();
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) => {
                let mut report = ConfigDiagnostics::empty(&name);
                report.diagnostics.push(
                    Diagnostic::error("config-unreadable", format!("cannot read {name}: {e}"))
                        .help(if e.kind() == std::io::ErrorKind::NotFound {
                            "check the path given to --config, or run `ftprep init --config` to write a starter"
                        } else {
                            "check that the file is readable"
                        }),
                );
                return Err(report);
            }
        };
        match crate::compile::source_from_bytes(&name, bytes) {
            Ok(source) => Self::from_source(path, source, env),
            Err(crate::compile::ReadError::NotUtf8(boxed)) => {
                let (source, diagnostic) = *boxed;
                let mut diagnostic = diagnostic;
                diagnostic.help = Some(
                    "save ftprep.toml as UTF-8 (most editors offer \"UTF-8\" under \"Save with encoding\")".into(),
                );
                let source = read::redacted(&source, &[]);
                let mut diagnostics = Diagnostics::new();
                diagnostics.push(diagnostic);
                Err(ConfigDiagnostics {
                    source,
                    diagnostics,
                })
            }
            Err(crate::compile::ReadError::Io(e)) => {
                let mut report = ConfigDiagnostics::empty(&name);
                report.diagnostics.push(Diagnostic::error(
                    "config-unreadable",
                    format!("cannot read {name}: {e}"),
                ));
                Err(report)
            }
        }
    }

    /// Resolves configuration text as if read from `path` (which names it
    /// in diagnostics and anchors its relative paths).
    pub fn parse_str(path: &Path, text: &str, env: Env) -> Result<Self, ConfigDiagnostics> {
        let source = SourceFile::new(path.to_string_lossy().into_owned(), text);
        Self::from_source(path, source, env)
    }

    fn from_source(path: &Path, source: SourceFile, env: Env) -> Result<Self, ConfigDiagnostics> {
        let base = path.parent().unwrap_or(Path::new("")).to_path_buf();
        let read = read::read(&source, &base, env);
        let report = ConfigDiagnostics {
            source: read::redacted(&source, &read.redact),
            diagnostics: read.diagnostics,
        };
        match read.config {
            Some(config) if !report.has_errors() => Ok(ProjectConfig {
                path: Some(path.to_path_buf()),
                models: config.models,
                roles: config.roles,
                retries: config.retries,
                run: config.run,
                warnings: report,
                env_base_urls: read::env_base_urls(env),
            }),
            _ => Err(report),
        }
    }

    /// The configuration without a file: no configured models or roles,
    /// so models come from `--model PROVIDER:MODEL`, with the providers'
    /// variables for URLs and keys.
    pub fn without_file() -> Self {
        Self::without_file_with(&process_env)
    }

    pub fn without_file_with(env: Env) -> Self {
        let mut warnings = ConfigDiagnostics::empty("<environment>");
        let cache = read::default_cache(env, None, &mut warnings.diagnostics);
        ProjectConfig {
            path: None,
            models: IndexMap::new(),
            roles: Roles::default(),
            retries: Retries::default(),
            run: RunSettings {
                dir: PathBuf::from("runs"),
                cache,
            },
            warnings,
            env_base_urls: read::env_base_urls(env),
        }
    }

    /// The models of a role, as configured: empty when none is set.
    pub fn role(&self, role: Role) -> &[Model] {
        match role {
            Role::Judge => &self.roles.judge,
            Role::Generate => self.roles.generate.as_slice(),
            Role::SimulateUser => self.roles.simulate_user.as_slice(),
            Role::Critique => self.roles.critique.as_slice(),
        }
    }

    /// The model `spec` names: a configured model, or a provider's model
    /// with every default.
    pub fn model(&self, spec: &ModelSpec) -> Result<Model, ConfigError> {
        match spec {
            ModelSpec::Configured(id) => self
                .models
                .get(id)
                .cloned()
                .ok_or_else(|| self.unknown_model(id)),
            ModelSpec::Direct { dialect, model } => {
                let index = Dialect::ALL.iter().position(|d| d == dialect).unwrap_or(0);
                let env = self.env_base_urls[index].as_deref();
                let base_url = read::base_url_from_env(*dialect, env).map_err(|problem| {
                    ConfigError::new(
                        "config-base-url",
                        format!("${} {problem}", dialect.base_url_env()),
                        format!(
                            "set it to the server's URL, such as `{}`, or unset it to use {}",
                            dialect.official_base_url(),
                            dialect.official_base_url()
                        ),
                    )
                })?;
                Ok(Model::direct(*dialect, model, base_url))
            }
        }
    }

    /// The models a command uses for `role`: those named with `--model`
    /// if any, else the role's. An error when that leaves none, or more
    /// than one for a role that takes one.
    pub fn select(&self, role: Role, cli: &[ModelSpec]) -> Result<Vec<Model>, ConfigError> {
        if cli.is_empty() {
            let models = self.role(role);
            if models.is_empty() {
                let file = match &self.path {
                    Some(path) => {
                        format!("set `{}` under `[roles]` in {}", role.key(), path.display())
                    }
                    None => format!(
                        "set `{}` under `[roles]` in an ftprep.toml beside the spec (`ftprep init --config` writes a starter)",
                        role.key()
                    ),
                };
                return Err(ConfigError::new(
                    "config-no-model",
                    format!("no model is set to {}", role.verb()),
                    format!("pass `--model openai:MODEL` or `--model anthropic:MODEL`, or {file}"),
                ));
            }
            return Ok(models.to_vec());
        }
        if cli.len() > 1 && !role.takes_several() {
            return Err(ConfigError::new(
                "config-too-many-models",
                format!(
                    "`--model` names {} models, and one model is used to {}",
                    cli.len(),
                    role.verb()
                ),
                "pass `--model` once",
            ));
        }
        let mut models: Vec<Model> = Vec::with_capacity(cli.len());
        for spec in cli {
            let model = self.model(spec)?;
            if models.iter().any(|m| m.id == model.id) {
                return Err(ConfigError::new(
                    "config-duplicate-model",
                    format!("`--model {}` is given twice", model.id),
                    "name each model once",
                ));
            }
            models.push(model);
        }
        Ok(models)
    }

    fn unknown_model(&self, id: &str) -> ConfigError {
        let ids: Vec<String> = self.models.keys().cloned().collect();
        let provider = if id.starts_with("claude") {
            Dialect::Anthropic
        } else {
            Dialect::OpenAi
        };
        let help = match (crate::model::nearest(id, &ids), &self.path) {
            (Some(near), _) => format!("did you mean `{near}`?"),
            (None, Some(path)) if ids.is_empty() => format!(
                "{} configures no models: name one by provider, such as `--model {provider}:{id}`",
                path.display()
            ),
            (None, Some(path)) => format!(
                "{} configures {}; a model it does not configure is named by provider, such as `--model {provider}:{id}`",
                path.display(),
                ids.iter()
                    .map(|id| format!("`{id}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            (None, None) => format!(
                "no ftprep.toml was found beside the spec, so a model is named by provider, such as `--model {provider}:{id}`"
            ),
        };
        ConfigError::new(
            "config-unknown-model",
            format!("no model `{id}` is configured"),
            help,
        )
    }
}

/// `a/b/../c` as `a/c`, without asking the file system (which would also
/// resolve symbolic links, and so change which directories are parents).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}
