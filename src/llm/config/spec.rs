//! Naming a model: `--model mini` (a model the file configures) or
//! `--model openai:gpt-4o-mini` (a provider's model, with every default).
//! Roles under `[roles]` name models the same way.

use super::{ConfigError, Dialect};
use std::fmt;
use std::str::FromStr;

/// A model as named on the command line or under `[roles]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ModelSpec {
    /// The id of a `[models.ID]` table.
    Configured(String),
    /// `PROVIDER:MODEL`. The model is everything after the first `:`, so
    /// `openai:llama3.1:8b` names Ollama's `llama3.1:8b`.
    Direct { dialect: Dialect, model: String },
}

impl ModelSpec {
    /// Reads `--model`'s argument.
    pub fn from_cli(text: &str) -> Result<ModelSpec, ConfigError> {
        parse(text, ProviderHelp::Cli)
    }
}

/// Reads a model's name, from the command line or a role (`place` says
/// which, for the wording of errors).
pub(super) fn parse(text: &str, place: ProviderHelp) -> Result<ModelSpec, ConfigError> {
    let text = text.trim();
    let (this, configured) = match place {
        ProviderHelp::Cli => ("`--model`", "`--model mini`"),
        ProviderHelp::File => ("a role", "`\"mini\"`"),
    };
    let Some((provider, model)) = text.split_once(':') else {
        if text.is_empty() {
            return Err(ConfigError::new(
                "config-bad-model-name",
                format!("{this} names no model"),
                format!(
                    "write a configured model's id, such as {configured}, or a provider and a model, such as `openai:gpt-4o-mini`"
                ),
            ));
        }
        return Ok(ModelSpec::Configured(text.to_string()));
    };
    let dialect = match Dialect::from_name(provider) {
        Some(dialect) => dialect,
        None if provider.is_empty() => {
            return Err(ConfigError::new(
                "config-unknown-provider",
                format!("`{text}` names a model and no provider"),
                "write the provider before the colon: `openai:MODEL` or `anthropic:MODEL`",
            ));
        }
        None => {
            return Err(ConfigError::new(
                "config-unknown-provider",
                format!("`{provider}` is not a provider"),
                provider_help(provider, place),
            ));
        }
    };
    if model.is_empty() {
        return Err(ConfigError::new(
            "config-bad-model-name",
            format!("`{text}` names a provider and no model"),
            format!(
                "write the model after the colon, such as `{provider}:{}`",
                example_model(dialect)
            ),
        ));
    }
    Ok(ModelSpec::Direct {
        dialect,
        model: model.to_string(),
    })
}

impl FromStr for ModelSpec {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ModelSpec::from_cli(s)
    }
}

impl fmt::Display for ModelSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ModelSpec::Configured(id) => f.write_str(id),
            ModelSpec::Direct { dialect, model } => write!(f, "{dialect}:{model}"),
        }
    }
}

pub(super) fn example_model(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::OpenAi => "gpt-4o-mini",
        Dialect::Anthropic => "claude-sonnet-4-5",
    }
}

/// Where the help for an unknown provider is shown.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum ProviderHelp {
    Cli,
    File,
}

/// Servers and services that speak one of the two APIs, with the URL each
/// serves it at and the variable its key usually lives in.
const KNOWN: &[(&str, &str, &str, Option<&str>)] = &[
    // (name, what it is, base_url, key variable)
    ("vllm", "vLLM", "http://localhost:8000/v1", None),
    ("ollama", "Ollama", "http://localhost:11434/v1", None),
    (
        "llamacpp",
        "llama.cpp's server",
        "http://localhost:8080/v1",
        None,
    ),
    (
        "llama.cpp",
        "llama.cpp's server",
        "http://localhost:8080/v1",
        None,
    ),
    (
        "llama-cpp",
        "llama.cpp's server",
        "http://localhost:8080/v1",
        None,
    ),
    ("lmstudio", "LM Studio", "http://localhost:1234/v1", None),
    (
        "openrouter",
        "OpenRouter",
        "https://openrouter.ai/api/v1",
        Some("OPENROUTER_API_KEY"),
    ),
    (
        "together",
        "Together",
        "https://api.together.xyz/v1",
        Some("TOGETHER_API_KEY"),
    ),
    (
        "groq",
        "Groq",
        "https://api.groq.com/openai/v1",
        Some("GROQ_API_KEY"),
    ),
];

/// The help for a provider that is not `openai` or `anthropic`: the
/// right spelling, or how to reach a known server through the OpenAI
/// dialect.
pub(super) fn provider_help(provider: &str, place: ProviderHelp) -> String {
    let lower = provider.to_ascii_lowercase();
    if let Some(dialect) = Dialect::from_name(&lower) {
        return format!("write it in lower case: `{dialect}`");
    }
    if lower == "claude" {
        return "Claude is served by `anthropic`".into();
    }
    if let Some((_, what, url, var)) = KNOWN.iter().find(|(name, ..)| *name == lower) {
        return match (place, var) {
            (ProviderHelp::File, Some(var)) => format!(
                "{what} speaks the OpenAI API: `provider = \"openai\"`, `base_url = \"{url}\"`, `api_key_env = \"{var}\"`"
            ),
            (ProviderHelp::File, None) => format!(
                "{what} speaks the OpenAI API: `provider = \"openai\"`, `base_url = \"{url}\"`"
            ),
            (ProviderHelp::Cli, Some(var)) => format!(
                "{what} speaks the OpenAI API: write `--model openai:MODEL` with OPENAI_BASE_URL={url} and its key in OPENAI_API_KEY (or configure it in ftprep.toml, with api_key_env = \"{var}\")"
            ),
            (ProviderHelp::Cli, None) => format!(
                "{what} speaks the OpenAI API: write `--model openai:MODEL` with OPENAI_BASE_URL={url}"
            ),
        };
    }
    let names: Vec<String> = Dialect::ALL.iter().map(|d| d.name().to_string()).collect();
    match crate::model::nearest(&lower, &names) {
        Some(near) => format!("did you mean `{near}`?"),
        None => "the providers are `openai` (any OpenAI-compatible Chat Completions server) and `anthropic` (the Messages API)".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn direct(dialect: Dialect, model: &str) -> ModelSpec {
        ModelSpec::Direct {
            dialect,
            model: model.into(),
        }
    }

    #[test]
    fn provider_and_model_or_a_configured_id() {
        assert_eq!(
            ModelSpec::from_cli("openai:gpt-4o-mini").unwrap(),
            direct(Dialect::OpenAi, "gpt-4o-mini")
        );
        assert_eq!(
            ModelSpec::from_cli("anthropic:claude-sonnet-4-5").unwrap(),
            direct(Dialect::Anthropic, "claude-sonnet-4-5")
        );
        // Only the first colon separates: Ollama's tags keep theirs.
        assert_eq!(
            ModelSpec::from_cli("openai:llama3.1:8b").unwrap(),
            direct(Dialect::OpenAi, "llama3.1:8b")
        );
        assert_eq!(
            ModelSpec::from_cli("openai:meta-llama/Llama-3.1-8B-Instruct").unwrap(),
            direct(Dialect::OpenAi, "meta-llama/Llama-3.1-8B-Instruct")
        );
        assert_eq!(
            ModelSpec::from_cli(" mini ").unwrap(),
            ModelSpec::Configured("mini".into())
        );
        for text in ["mini", "openai:llama3.1:8b", "anthropic:claude-haiku-4-5"] {
            assert_eq!(ModelSpec::from_cli(text).unwrap().to_string(), text);
        }
        let parsed: ModelSpec = "openai:gpt-4o".parse().unwrap();
        assert_eq!(parsed, direct(Dialect::OpenAi, "gpt-4o"));
    }

    #[test]
    fn bad_names_say_how_to_write_them() {
        let error = |text: &str| ModelSpec::from_cli(text).unwrap_err();
        let e = error("opnai:gpt-4o");
        assert_eq!(e.code, "config-unknown-provider");
        assert_eq!(e.message, "`opnai` is not a provider");
        assert_eq!(e.help.as_deref(), Some("did you mean `openai`?"));
        let e = error("OpenAI:gpt-4o");
        assert_eq!(e.help.as_deref(), Some("write it in lower case: `openai`"));
        let e = error("ollama:llama3.1");
        assert!(
            e.help
                .as_deref()
                .unwrap()
                .contains("OPENAI_BASE_URL=http://localhost:11434/v1"),
            "{e:?}"
        );
        let e = error("groq:llama-3.1-8b-instant");
        assert!(e.help.as_deref().unwrap().contains("GROQ_API_KEY"), "{e:?}");
        assert!(error("claude:opus").help.unwrap().contains("anthropic"));
        assert_eq!(error("openai:").code, "config-bad-model-name");
        assert!(
            error("openai:")
                .help
                .unwrap()
                .contains("openai:gpt-4o-mini")
        );
        assert_eq!(error(":gpt-4o").code, "config-unknown-provider");
        assert_eq!(error("").code, "config-bad-model-name");
        assert_eq!(error("   ").code, "config-bad-model-name");
        let e = error("xyzzy:model");
        assert!(e.help.unwrap().contains("the providers are"));
    }
}
