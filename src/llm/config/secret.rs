//! API keys: read from the environment when a request is made, held in a
//! [`Secret`] that cannot be printed by accident.
//!
//! A key is never written to the journal, the cache, a manifest, a log or
//! an error message. `Secret` has no `Serialize`, and its `Debug` and
//! `Display` print `***`, so a key inside any struct that is logged or
//! formatted stays hidden; the only way to the text is
//! [`Secret::expose`], at the one place that builds the request header.
//! Errors about keys name the variable, never its value.

use super::{ConfigError, Env, Model};
use std::fmt;

/// A key (or any other secret text).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(text: impl Into<String>) -> Self {
        Secret(text.into())
    }

    /// The key itself, for the request header and nothing else.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// The key of `model`, read through `env`. Surrounding whitespace (the
/// newline of `$(cat key.txt)`) is dropped; what is left must be text an
/// HTTP header can carry, so a bad key fails here, by name, rather than
/// in the HTTP library with who knows what in the message.
pub(super) fn read_key(model: &Model, env: Env) -> Result<Option<Secret>, ConfigError> {
    let Some(var) = &model.key.var else {
        return Ok(None);
    };
    let value = env(var).unwrap_or_default();
    let key = value.trim();
    if key.is_empty() {
        if !model.key.required {
            return Ok(None);
        }
        let state = if value.is_empty() {
            "is not set"
        } else {
            "holds only spaces"
        };
        let help = if *var == model.dialect.api_key_env() {
            format!(
                "export {var}=... with a key from the provider's console; a server that needs no key is named with `base_url`"
            )
        } else {
            format!("export {var}=... with the key, or name another variable with `api_key_env`")
        };
        return Err(ConfigError::new(
            "config-missing-api-key",
            format!("model `{}` needs an API key, and {var} {state}", model.id),
            help,
        ));
    }
    if !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ConfigError::new(
            "config-bad-api-key",
            format!(
                "{var} holds a character an HTTP header cannot carry (a space, a control character or a letter outside ASCII)"
            ),
            format!("set {var} to the key alone, as the provider's console shows it"),
        ));
    }
    Ok(Some(Secret(key.to_string())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::{config, config::Dialect};

    #[test]
    fn a_secret_prints_as_stars_however_it_is_formatted() {
        let key = "sk-proj-0123456789abcdefghij";
        let secret = Secret::new(key);
        #[derive(Debug)]
        #[allow(dead_code)]
        struct Request {
            url: &'static str,
            key: Secret,
            maybe: Option<Secret>,
        }
        let request = Request {
            url: "https://api.openai.com/v1",
            key: secret.clone(),
            maybe: Some(secret.clone()),
        };
        for text in [
            format!("{secret}"),
            format!("{secret:?}"),
            format!("{secret:#?}"),
            format!("{secret:>40}"),
            format!("{request:?}"),
            format!("{request:#?}"),
        ] {
            assert!(!text.contains(key), "{text}");
            assert!(!text.contains("sk-"), "{text}");
            assert!(text.contains("***"), "{text}");
        }
        assert_eq!(secret.expose(), key);
    }

    fn model(var: Option<&str>, required: bool) -> Model {
        let spec = config::ModelSpec::from_cli("openai:gpt-4o-mini").unwrap();
        let mut model = config::ProjectConfig::without_file_with(&|_| None)
            .model(&spec)
            .unwrap();
        model.key = config::KeySource {
            var: var.map(str::to_string),
            required,
        };
        model
    }

    #[test]
    fn keys_are_trimmed_checked_and_never_echoed() {
        let m = model(Some("OPENAI_API_KEY"), true);
        let key = |value: &'static str| {
            move |name: &str| (name == "OPENAI_API_KEY").then(|| value.to_string())
        };
        let got = m.api_key_with(&key("  sk-abc123\n")).unwrap().unwrap();
        assert_eq!(got.expose(), "sk-abc123");

        for bad in ["sk-abc 123", "sk-ünïcode", "sk-abc\u{7}"] {
            let error = m.api_key_with(&key(bad)).unwrap_err();
            assert_eq!(error.code, "config-bad-api-key");
            let shown = format!("{error} {:?} {:?}", error.help, error);
            assert!(!shown.contains("sk-"), "{shown}");
        }

        let missing = m.api_key_with(&|_| None).unwrap_err();
        assert_eq!(missing.code, "config-missing-api-key");
        assert!(missing.message.contains("OPENAI_API_KEY is not set"));
        let blank = m.api_key_with(&key("   ")).unwrap_err();
        assert!(blank.message.contains("holds only spaces"), "{blank}");
    }

    #[test]
    fn an_optional_key_may_be_missing_and_no_variable_means_no_key() {
        let optional = model(Some("OPENAI_API_KEY"), false);
        assert_eq!(optional.api_key_with(&|_| None).unwrap(), None);
        let present = optional
            .api_key_with(&|_| Some("sk-local".into()))
            .unwrap()
            .unwrap();
        assert_eq!(present.expose(), "sk-local");
        let none = model(None, false);
        assert_eq!(none.api_key_with(&|_| Some("sk-x".into())).unwrap(), None);
        assert_eq!(none.dialect, Dialect::OpenAi);
    }
}
