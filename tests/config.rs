//! `ftprep.toml` and `--model`: every diagnostic kind as a fixture with its
//! rendered snapshot, the starter `ftprep init --config` writes, the
//! environment's defaults (injected, never the process's own), finding
//! the file beside a spec, and keys that are never shown.

mod common;

use assert_cmd::Command;
use common::{relative, root, settings};
use ftprep::diagnostics::render::RenderOptions;
use ftprep::llm::config::{
    Cache, ConfigDiagnostics, Dialect, ModelSpec, ProjectConfig, Role, StructuredOutput,
};
use predicates::prelude::*;
use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// An environment of `pairs` only, and a home directory so the default
/// cache resolves the same on every machine.
fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let mut map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    map.entry("HOME".into())
        .or_insert_with(|| "/home/user".into());
    move |name: &str| map.get(name).cloned()
}

fn fixtures() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(root().join("tests/fixtures/config"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

fn load(
    path: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<ProjectConfig, ConfigDiagnostics> {
    let text = fs::read_to_string(path).unwrap();
    ProjectConfig::parse_str(Path::new(&relative(path)), &text, env)
}

fn parse(
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<ProjectConfig, ConfigDiagnostics> {
    ProjectConfig::parse_str(Path::new("proj/ftprep.toml"), text, env)
}

fn starter() -> String {
    fs::read_to_string(root().join("src/cli/ftprep.toml")).unwrap()
}

/// Each fixture's diagnostics, as a terminal shows them. A fixture named
/// `warning-*` loads, with warnings; every other one fails to.
#[test]
fn every_fixture_renders_its_diagnostics() {
    let env = env(&[]);
    let mut expected = std::collections::BTreeSet::new();
    let files = fixtures();
    assert!(files.len() >= 12, "{files:?}");
    for path in files {
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        let report = match load(&path, &env) {
            Ok(config) => {
                assert!(stem.starts_with("warning-"), "{stem} loaded without errors");
                assert!(!config.warnings.is_empty(), "{stem} has no warnings");
                config.warnings
            }
            Err(report) => {
                assert!(!stem.starts_with("warning-"), "{stem}:\n{report}");
                assert!(report.has_errors());
                report
            }
        };
        let rendered = report.render(RenderOptions::plain());
        // Every diagnostic points into the file, at its line and column.
        for d in report.diagnostics.iter() {
            assert!(
                d.primary_span().is_some(),
                "{stem}: {} has no location",
                d.code
            );
            assert!(d.help.is_some(), "{stem}: {} has no help", d.code);
        }
        expected.insert(format!("{stem}.snap"));
        settings("config").bind(|| insta::assert_snapshot!(stem, rendered));
    }
    let on_disk: std::collections::BTreeSet<String> = fs::read_dir(root().join("snapshots/config"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".snap") && !n.starts_with("starter") && !n.starts_with("env-"))
        .collect();
    let stale: Vec<&String> = on_disk.difference(&expected).collect();
    assert!(
        stale.is_empty(),
        "snapshots of fixtures that are gone: {stale:?}"
    );
}

fn codes(report: &ConfigDiagnostics) -> Vec<&'static str> {
    report.diagnostics.iter().map(|d| d.code).collect()
}

/// The kinds the issue asks for, each found where it is written.
#[test]
fn each_fixture_reports_its_kind() {
    let env = env(&[]);
    let expect = |name: &str, code: &str, count: usize| {
        let path = root().join("tests/fixtures/config").join(name);
        let report = match load(&path, &env) {
            Ok(config) => config.warnings,
            Err(report) => report,
        };
        let n = codes(&report).iter().filter(|c| **c == code).count();
        assert_eq!(n, count, "{name}: {code}\n{report}");
    };
    expect("unknown-key.toml", "config-unknown-key", 7);
    expect("wrong-type.toml", "config-wrong-type", 9);
    expect("unknown-provider.toml", "config-unknown-provider", 6);
    expect("unknown-model.toml", "config-unknown-model", 2);
    expect("unknown-model.toml", "config-unknown-provider", 1);
    expect("unknown-model.toml", "config-out-of-range", 1);
    expect("unknown-model.toml", "config-bad-model-name", 1);
    expect("out-of-range.toml", "config-out-of-range", 15);
    expect(
        "warning-seed-on-anthropic.toml",
        "config-unsupported-setting",
        1,
    );
    expect("syntax-error.toml", "config-syntax", 4);
    expect("missing-key.toml", "config-missing-key", 2);
    expect("missing-key.toml", "config-empty-value", 1);
    expect("bad-value.toml", "config-bad-value", 2);
    expect("bad-value.toml", "config-base-url", 2);
    expect("bad-value.toml", "config-bad-model-id", 1);
    expect("bad-value.toml", "config-empty-value", 2);
    expect("key-in-file.toml", "config-key-in-file", 2);
    expect("duplicate-judge.toml", "config-duplicate-model", 1);
    expect("empty-judge.toml", "config-empty-value", 1);
    expect("warning-url.toml", "config-suspicious-url", 2);
    expect("warning-url.toml", "config-insecure-url", 1);
}

#[test]
fn a_did_you_mean_for_misspelt_keys_and_the_right_table_for_misplaced_ones() {
    let report = load(
        &root().join("tests/fixtures/config/unknown-key.toml"),
        &env(&[]),
    )
    .unwrap_err();
    let help = |key: &str| {
        report
            .diagnostics
            .iter()
            .find(|d| d.message.starts_with(&format!("`{key}`")))
            .and_then(|d| d.help.clone())
            .unwrap_or_else(|| panic!("no diagnostic for {key}"))
    };
    assert_eq!(help("model"), "did you mean `models`?");
    assert_eq!(help("temprature"), "did you mean `temperature`?");
    assert_eq!(
        help("concurrency"),
        "`concurrency` belongs in `[models.mini.limits]`"
    );
    assert_eq!(
        help("request_per_minute"),
        "did you mean `requests_per_minute`?"
    );
    assert_eq!(help("judges"), "did you mean `judge`?");
    assert!(
        help("colour").contains("`provider`, `model`"),
        "{}",
        help("colour")
    );
}

/// A key written into the file is never shown: not in a message, not in
/// the excerpt of the line, not in the report's source text.
#[test]
fn a_key_in_the_file_is_masked_everywhere() {
    let path = root().join("tests/fixtures/config/key-in-file.toml");
    let text = fs::read_to_string(&path).unwrap();
    let keys = [
        "Xy7mN2pQ9rT4vW8zA1bC3dE5fG6hJ0kL",
        "Qw3eR5tY7uI9oP1aS2dF4gH6jK8lZ0x",
    ];
    for key in keys {
        assert!(text.contains(key));
    }
    let report = load(&path, &env(&[])).unwrap_err();
    let rendered = report.render(RenderOptions::plain());
    let debug = format!("{report:?}");
    let json = ftprep::diagnostics::formats::json(&[ftprep::diagnostics::formats::FileReport {
        file: &report.source,
        diagnostics: &report.diagnostics,
    }]);
    for key in keys {
        for (what, shown) in [("rendered", &rendered), ("debug", &debug), ("json", &json)] {
            assert!(!shown.contains(key), "{what} shows the key:\n{shown}");
            assert!(
                !shown.contains(&key[..8]),
                "{what} shows part of the key:\n{shown}"
            );
        }
    }
    // The masked line keeps its columns: the excerpt still lines up.
    let masked = format!(
        "api_key = \"{}\"",
        "*".repeat("sk-proj-".len() + keys[0].len())
    );
    assert!(rendered.contains(&masked), "{rendered}");
    assert_eq!(report.source.text.len(), text.len());

    // Also when the TOML around it is broken.
    let broken = "[models.mini]\napi_key = \"sk-proj-Xy7mN2pQ9rT4vW8zA1bC3dE5fG6hJ0kL\nmodel = \n";
    let report = parse(broken, &env(&[])).unwrap_err();
    assert!(codes(&report).contains(&"config-syntax"));
    let rendered = report.render(RenderOptions::plain());
    assert!(!rendered.contains("Xy7mN2pQ"), "{rendered}");
}

/// The key is read when asked for, by name; a resolved model, in any
/// form it can be logged or written in, holds the variable's name only.
#[test]
fn a_model_holds_the_name_of_its_key_never_the_key() {
    let key = "sk-proj-SECRETSECRETSECRETSECRET";
    let env = env(&[("OPENAI_API_KEY", key)]);
    let config = parse(&starter(), &env).unwrap();
    let mini = &config.models["mini"];
    let secret = mini.api_key_with(&env).unwrap().unwrap();
    assert_eq!(secret.expose(), key);
    for shown in [
        format!("{config:?}"),
        format!("{mini:?}"),
        serde_json::to_string(mini).unwrap(),
        format!("{secret:?} {secret}"),
    ] {
        assert!(!shown.contains("SECRET"), "{shown}");
    }
    assert!(
        serde_json::to_string(mini)
            .unwrap()
            .contains("\"OPENAI_API_KEY\"")
    );
    // And the error for a missing key names the variable.
    let sonnet = &config.models["sonnet"];
    let error = sonnet.api_key_with(&env).unwrap_err();
    assert_eq!(error.code, "config-missing-api-key");
    assert_eq!(
        error.message,
        "model `sonnet` needs an API key, and ANTHROPIC_API_KEY is not set"
    );
}

#[test]
fn the_starter_loads_cleanly_with_every_role_filled() {
    let config = parse(&starter(), &env(&[])).unwrap();
    assert!(config.warnings.is_empty(), "{}", config.warnings);
    assert_eq!(config.models.keys().collect::<Vec<_>>(), ["mini", "sonnet"]);
    let mini = &config.models["mini"];
    assert_eq!(mini.dialect, Dialect::OpenAi);
    assert_eq!(mini.base_url, "https://api.openai.com/v1");
    assert_eq!(mini.key.var.as_deref(), Some("OPENAI_API_KEY"));
    assert!(mini.key.required);
    assert_eq!(mini.sampling.temperature, Some(0.0));
    assert_eq!(mini.structured_output, StructuredOutput::JsonSchema);
    let prices = mini.prices.as_ref().unwrap();
    assert_eq!(
        (prices.input, prices.cached_input, prices.output),
        (0.40, 0.10, 1.60)
    );
    assert_eq!(prices.batch_discount, 0.5);
    // 1M uncached input, 1M cached input and 0.5M output tokens.
    assert!((prices.cost(1_000_000, 1_000_000, 500_000) - 1.30).abs() < 1e-9);
    assert!((prices.batch_cost(1_000_000, 1_000_000, 500_000) - 0.65).abs() < 1e-9);
    let sonnet = &config.models["sonnet"];
    assert_eq!(sonnet.dialect, Dialect::Anthropic);
    assert_eq!(sonnet.base_url, "https://api.anthropic.com");
    assert_eq!(sonnet.structured_output, StructuredOutput::Tool);
    assert_eq!(sonnet.limits.concurrency, 4);
    for role in Role::ALL {
        assert!(!config.role(role).is_empty(), "{role:?}");
    }
    assert_eq!(config.role(Role::Critique)[0].id, "sonnet");
    assert_eq!(config.run.dir, Path::new("proj/runs"));
    assert_eq!(
        config.run.cache,
        Cache::File(PathBuf::from("/home/user/.cache/ftprep/cache.sqlite"))
    );
    assert_eq!(config.retries.max_attempts, 6);
    assert_eq!(config.retries.max_elapsed, Duration::from_secs(600));
    assert_eq!(config.retries.unusable_retries, 2);
    // The local server in the comments loads too, and sends no key.
    let uncommented = starter()
        .replace("# [models.local]", "[models.local]")
        .replace(
            "# provider = \"openai\"\n# base_url",
            "provider = \"openai\"\nbase_url",
        )
        .replace("# model = \"llama3.1:8b\"", "model = \"llama3.1:8b\"")
        .replace(
            "# structured_output = \"prompt\"",
            "structured_output = \"prompt\"",
        );
    let config = parse(&uncommented, &env(&[("OPENAI_API_KEY", "sk-x")])).unwrap();
    let local = &config.models["local"];
    assert_eq!(local.base_url, "http://localhost:11434/v1");
    assert_eq!(local.key.var, None);
    assert_eq!(
        local
            .api_key_with(&env(&[("OPENAI_API_KEY", "sk-x")]))
            .unwrap(),
        None
    );
    assert_eq!(local.structured_output, StructuredOutput::Prompt);
    settings("config").bind(|| insta::assert_snapshot!("starter", starter()));
}

/// A model with only the settings it cannot do without gets every default.
#[test]
fn defaults() {
    let config = parse(
        "[models.m]\nprovider = \"openai\"\nmodel = \"gpt-4o-mini\"\n",
        &env(&[]),
    )
    .unwrap();
    let m = &config.models["m"];
    assert_eq!(m.sampling.temperature, None);
    assert_eq!(m.sampling.top_p, None);
    assert_eq!(m.sampling.seed, None);
    assert_eq!(m.sampling.max_tokens, 4096);
    assert!(m.sampling.stop.is_empty());
    assert_eq!(m.timeout, Duration::from_secs(120));
    assert_eq!(m.limits.concurrency, 8);
    assert_eq!(m.limits.requests_per_minute, None);
    assert_eq!(m.limits.tokens_per_minute, None);
    assert_eq!(m.prices, None);
    assert!(config.roles.judge.is_empty());
    // Prices: cached input at the input price when not given.
    let config = parse(
        "[models.m]\nprovider = \"anthropic\"\nmodel = \"claude-haiku-4-5\"\nseed = 1\ntimeout_seconds = 2.5\n[models.m.prices]\ninput = 1\noutput = 5\n",
        &env(&[]),
    )
    .unwrap();
    let m = &config.models["m"];
    assert_eq!(m.prices.as_ref().unwrap().cached_input, 1.0);
    assert_eq!(m.sampling.seed, None, "a seed is dropped for anthropic");
    assert_eq!(m.timeout, Duration::from_millis(2500));
    assert_eq!(codes(&config.warnings), ["config-unsupported-setting"]);
}

#[test]
fn without_a_file_the_providers_variables_decide() {
    let spec = |s: &str| ModelSpec::from_cli(s).unwrap();
    // Nothing set: the official servers, and a key is needed.
    let none = ProjectConfig::without_file_with(&env(&[]));
    let m = none.model(&spec("openai:gpt-4o-mini")).unwrap();
    assert_eq!(m.id, "openai:gpt-4o-mini");
    assert_eq!(m.model, "gpt-4o-mini");
    assert_eq!(m.base_url, "https://api.openai.com/v1");
    assert_eq!(m.key.var.as_deref(), Some("OPENAI_API_KEY"));
    assert!(m.key.required);
    let error = m.api_key_with(&env(&[])).unwrap_err();
    assert!(error.help.unwrap().contains("export OPENAI_API_KEY="));
    let a = none.model(&spec("anthropic:claude-sonnet-4-5")).unwrap();
    assert_eq!(a.base_url, "https://api.anthropic.com");
    assert_eq!(a.key.var.as_deref(), Some("ANTHROPIC_API_KEY"));
    assert_eq!(a.structured_output, StructuredOutput::Tool);

    // A local server through the SDK's variables: its key is optional.
    let vars = env(&[
        ("OPENAI_BASE_URL", "http://localhost:8000/v1/"),
        ("ANTHROPIC_BASE_URL", "https://proxy.example.com"),
        ("ANTHROPIC_API_KEY", "sk-ant-k"),
    ]);
    let local = ProjectConfig::without_file_with(&vars);
    let m = local.model(&spec("openai:llama3.1:8b")).unwrap();
    assert_eq!(m.base_url, "http://localhost:8000/v1");
    assert_eq!(m.model, "llama3.1:8b");
    assert!(!m.key.required);
    assert_eq!(m.api_key_with(&vars).unwrap(), None);
    let a = local.model(&spec("anthropic:claude-sonnet-4-5")).unwrap();
    assert_eq!(a.base_url, "https://proxy.example.com");
    assert_eq!(a.api_key_with(&vars).unwrap().unwrap().expose(), "sk-ant-k");

    // A broken variable is an error that does not repeat its value.
    let bad = ProjectConfig::without_file_with(&env(&[(
        "OPENAI_BASE_URL",
        "ftp://user:hunter2@host/v1",
    )]));
    let error = bad.model(&spec("openai:gpt-4o")).unwrap_err();
    assert_eq!(error.code, "config-base-url");
    assert_eq!(
        error.message,
        "$OPENAI_BASE_URL does not start with `http://` or `https://`"
    );
    assert!(!format!("{error:?}").contains("hunter2"));

    // A configured name needs a file.
    let error = none.model(&spec("mini")).unwrap_err();
    assert_eq!(error.code, "config-unknown-model");
    assert!(
        error.help.unwrap().contains("no ftprep.toml was found"),
        "{}",
        error.message
    );
    // No cache directory at all: caching is off, with a warning.
    let homeless = ProjectConfig::without_file_with(&|_| None);
    assert_eq!(homeless.run.cache, Cache::Off);
    assert_eq!(codes(&homeless.warnings), ["config-no-cache"]);
    let xdg = ProjectConfig::without_file_with(&env(&[("XDG_CACHE_HOME", "/var/cache")]));
    assert_eq!(
        xdg.run.cache,
        Cache::File(PathBuf::from("/var/cache/ftprep/cache.sqlite"))
    );
}

/// Where each configured model's URL and key come from.
#[test]
fn configured_urls_and_keys() {
    let text = r#"
[models.env]
provider = "openai"
model = "a"

[models.local]
provider = "openai"
model = "b"
base_url = "http://localhost:8000/v1"

[models.groq]
provider = "openai"
model = "c"
base_url = "https://api.groq.com/openai/v1"
api_key_env = "GROQ_API_KEY"

[models.official]
provider = "openai"
model = "d"
base_url = "https://api.openai.com/v1/"
"#;
    let vars = env(&[
        ("OPENAI_BASE_URL", "http://gpu-box:8000/v1"),
        ("OPENAI_API_KEY", "sk-openai"),
    ]);
    let config = parse(text, &vars).unwrap();
    let m = |id: &str| &config.models[id];
    // No base_url: the variable, and the SDK's key with it, optional.
    assert_eq!(m("env").base_url, "http://gpu-box:8000/v1");
    assert_eq!(m("env").key.var.as_deref(), Some("OPENAI_API_KEY"));
    assert!(!m("env").key.required);
    // Another server named in the file: OpenAI's key is not sent to it.
    assert_eq!(m("local").key.var, None);
    assert_eq!(m("local").api_key_with(&vars).unwrap(), None);
    // A variable named: required.
    assert_eq!(m("groq").key.var.as_deref(), Some("GROQ_API_KEY"));
    let error = m("groq").api_key_with(&vars).unwrap_err();
    assert!(error.message.contains("GROQ_API_KEY is not set"), "{error}");
    assert!(!format!("{error:?}").contains("sk-openai"));
    // The official server written out: its key, required.
    assert_eq!(m("official").base_url, "https://api.openai.com/v1");
    assert!(m("official").key.required);

    // The variable broken, for a model that uses it: an error at the model.
    let report = parse(text, &env(&[("OPENAI_BASE_URL", "not a url")])).unwrap_err();
    assert_eq!(codes(&report), ["config-base-url"]);
    settings("config")
        .bind(|| insta::assert_snapshot!("env-base-url", report.render(RenderOptions::plain())));
}

#[test]
fn model_names_on_the_command_line() {
    let config = parse(&starter(), &env(&[])).unwrap();
    let spec = |s: &str| ModelSpec::from_cli(s).unwrap();
    assert_eq!(config.model(&spec("mini")).unwrap().model, "gpt-4.1-mini");
    let direct = config.model(&spec("openai:gpt-4o")).unwrap();
    assert_eq!(direct.id, "openai:gpt-4o");
    assert_eq!(direct.prices, None);
    let error = config.model(&spec("mnii")).unwrap_err();
    assert_eq!(error.message, "no model `mnii` is configured");
    assert_eq!(error.help.as_deref(), Some("did you mean `mini`?"));
    let error = config.model(&spec("claude-opus-4-1")).unwrap_err();
    let help = error.help.unwrap();
    assert!(help.contains("`mini`, `sonnet`"), "{help}");
    assert!(
        help.contains("`--model anthropic:claude-opus-4-1`"),
        "{help}"
    );

    // --model replaces a role's models; a role without one is an error.
    let judges = config.select(Role::Judge, &[]).unwrap();
    assert_eq!(
        judges.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(),
        ["mini"]
    );
    let judges = config
        .select(Role::Judge, &[spec("sonnet"), spec("openai:gpt-4o")])
        .unwrap();
    assert_eq!(
        judges.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(),
        ["sonnet", "openai:gpt-4o"]
    );
    let error = config
        .select(Role::Critique, &[spec("sonnet"), spec("mini")])
        .unwrap_err();
    assert_eq!(error.code, "config-too-many-models");
    let error = config
        .select(Role::Judge, &[spec("mini"), spec("mini")])
        .unwrap_err();
    assert_eq!(error.code, "config-duplicate-model");
    let none = ProjectConfig::without_file_with(&env(&[]));
    let error = none.select(Role::SimulateUser, &[]).unwrap_err();
    assert_eq!(error.message, "no model is set to simulate the user");
    assert!(error.help.unwrap().contains("ftprep init --config"));
    // A role may name a provider's model directly.
    let config = parse(
        "[roles]\njudge = \"anthropic:claude-haiku-4-5\"\n",
        &env(&[]),
    )
    .unwrap();
    assert_eq!(config.role(Role::Judge)[0].id, "anthropic:claude-haiku-4-5");
}

#[test]
fn found_beside_the_spec_or_above_it_up_to_the_repository() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    let specs = repo.join("specs/support");
    fs::create_dir_all(&specs).unwrap();
    fs::create_dir(repo.join(".git")).unwrap();
    let spec = specs.join("support.ftprep");
    fs::write(&spec, "").unwrap();
    // Above the repository: never found.
    fs::write(tmp.path().join("ftprep.toml"), "").unwrap();
    assert_eq!(ProjectConfig::find(&spec, None), None);
    // At the repository's root.
    fs::write(repo.join("ftprep.toml"), "").unwrap();
    assert_eq!(
        ProjectConfig::find(&spec, None),
        Some(repo.join("ftprep.toml"))
    );
    // Nearer the spec wins; `..` in the spec's path is read lexically.
    fs::write(repo.join("specs/ftprep.toml"), "").unwrap();
    assert_eq!(
        ProjectConfig::find(&spec, None),
        Some(repo.join("specs/ftprep.toml"))
    );
    let dotted = repo.join("specs/support/../support/support.ftprep");
    assert_eq!(
        ProjectConfig::find(&dotted, None),
        Some(repo.join("specs/ftprep.toml"))
    );
    // A directory named ftprep.toml is not a file.
    fs::create_dir(specs.join("ftprep.toml")).unwrap();
    assert_eq!(
        ProjectConfig::find(&spec, None),
        Some(repo.join("specs/ftprep.toml"))
    );
    // --config wins, and a missing one is an error when loaded.
    let missing = tmp.path().join("nope.toml");
    assert_eq!(
        ProjectConfig::find(&spec, Some(&missing)),
        Some(missing.clone())
    );
    let report = ProjectConfig::load_with(&missing, &env(&[])).unwrap_err();
    assert_eq!(codes(&report), ["config-unreadable"]);
    // As shown, without this machine's path or its system's words.
    let reason = fs::read(&missing).unwrap_err().to_string();
    let rendered = report
        .render(RenderOptions::plain())
        .replace(&missing.display().to_string(), "<dir>/nope.toml")
        .replace(&reason, "<the system's reason>");
    assert!(rendered.contains("ftprep init --config"), "{rendered}");
    settings("config").bind(|| insta::assert_snapshot!("env-unreadable", rendered));
    // discover: found and loaded; or the defaults without one.
    fs::write(
        repo.join("specs/ftprep.toml"),
        "[models.m]\nprovider = \"openai\"\nmodel = \"x\"\n",
    )
    .unwrap();
    let config = ProjectConfig::discover_with(&spec, None, &env(&[])).unwrap();
    assert_eq!(config.path, Some(repo.join("specs/ftprep.toml")));
    assert!(config.models.contains_key("m"));
    fs::remove_file(repo.join("specs/ftprep.toml")).unwrap();
    fs::remove_file(repo.join("ftprep.toml")).unwrap();
    let config = ProjectConfig::discover_with(&spec, None, &env(&[])).unwrap();
    assert_eq!(config.path, None);
    // This repository has no ftprep.toml, and its root ends the search:
    // a path relative to the current directory works.
    assert_eq!(
        ProjectConfig::find(Path::new("specs/therapy.ftprep"), None),
        None
    );
}

#[test]
fn a_file_that_is_not_utf8_is_a_diagnostic() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("ftprep.toml");
    fs::write(&path, b"[models.m]\nmodel = \"caf\xe9\"\n").unwrap();
    let report = ProjectConfig::load_with(&path, &env(&[])).unwrap_err();
    assert_eq!(codes(&report), ["invalid-utf8"]);
    let rendered = report.render(RenderOptions::plain());
    assert!(rendered.contains("save ftprep.toml as UTF-8"), "{rendered}");
    // A byte-order mark is not part of the text.
    fs::write(
        &path,
        b"\xEF\xBB\xBF[models.m]\nprovider = \"openai\"\nmodel = \"x\"\n",
    )
    .unwrap();
    assert!(ProjectConfig::load_with(&path, &env(&[])).is_ok());
}

/// No input makes loading or rendering panic: every prefix of every
/// fixture and of the starter, and a few hostile texts.
#[test]
fn no_prefix_of_any_file_panics() {
    let env = env(&[]);
    let mut texts: Vec<String> = fixtures()
        .iter()
        .map(|p| fs::read_to_string(p).unwrap())
        .collect();
    texts.push(starter());
    let mut loaded = 0;
    for text in &texts {
        let cuts: Vec<usize> = (0..=text.len())
            .filter(|&i| text.is_char_boundary(i))
            .collect();
        for (n, &cut) in cuts.iter().enumerate() {
            let result = parse(&text[..cut], &env);
            // Rendering is the slow part: every 5th prefix, and the last.
            if n % 5 == 0 || cut == text.len() {
                let report = match &result {
                    Ok(config) => &config.warnings,
                    Err(report) => report,
                };
                let _ = report.render(RenderOptions::plain());
            }
            loaded += usize::from(result.is_ok());
        }
    }
    assert!(loaded > 0);
    for hostile in [
        "[models.\"\"]\nprovider = \"openai\"\nmodel = \"x\"\n",
        "models = []\nroles = 1\nretries = \"x\"\nrun = true\n",
        "[models.m]\nprovider = \"openai\"\nmodel = \"x\"\nmax_tokens = 0x7fffffffffffffff\ntimeout_seconds = 5e-324\nseed = -9223372036854775808\n",
        "[roles]\njudge = [[\"a\"], {x = 1}]\n",
        "\u{feff}\r\n[run]\r\ncache = \"~/c\"\r\n",
        "[models.m]\nprovider = \"openai\"\nmodel = \"x\"\nbase_url = \"http://ünï.example/v1\"\n",
    ] {
        let result = parse(hostile, &env);
        let report = match &result {
            Ok(config) => &config.warnings,
            Err(report) => report,
        };
        let _ = report.render(RenderOptions::plain());
    }
}

fn ftprep(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("ftprep").unwrap();
    cmd.current_dir(dir);
    cmd
}

#[test]
fn init_config_writes_the_starter_and_never_overwrites_it() {
    let tmp = tempfile::tempdir().unwrap();
    ftprep(tmp.path())
        .args(["init", "--config"])
        .assert()
        .success()
        .stderr(predicate::str::contains("wrote ftprep.toml"));
    let path = tmp.path().join("ftprep.toml");
    let written = fs::read_to_string(&path).unwrap();
    assert_eq!(written, starter());
    let config = ProjectConfig::load_with(&path, &env(&[])).unwrap();
    assert!(config.warnings.is_empty());

    // A second run leaves the (edited) file alone.
    fs::write(&path, "# mine\n").unwrap();
    ftprep(tmp.path())
        .args(["init", "--config"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "ftprep.toml already exists; not overwriting it",
        ));
    assert_eq!(fs::read_to_string(&path).unwrap(), "# mine\n");

    // --out names the file; - prints it.
    ftprep(tmp.path())
        .args(["init", "--config", "--out", "other.toml"])
        .assert()
        .success();
    assert_eq!(
        fs::read_to_string(tmp.path().join("other.toml")).unwrap(),
        starter()
    );
    let printed = ftprep(tmp.path())
        .args(["init", "--config", "--out", "-"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(String::from_utf8(printed).unwrap(), starter());

    // Neither a domain nor --config: clap's usage error.
    ftprep(tmp.path()).args(["init"]).assert().code(2);
    // A file given to --config, as if it took one.
    ftprep(tmp.path())
        .args(["init", "--config", "x.toml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("ftprep init --config --out FILE"));
}

#[test]
fn init_domain_with_config_writes_both_side_by_side() {
    let tmp = tempfile::tempdir().unwrap();
    fs::create_dir(tmp.path().join("specs")).unwrap();
    ftprep(tmp.path())
        .args([
            "init",
            "support",
            "--config",
            "--out",
            "specs/support.ftprep",
        ])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "wrote specs/support.ftprep (models and roles in specs/ftprep.toml)",
        ));
    assert_eq!(
        fs::read_to_string(tmp.path().join("specs/ftprep.toml")).unwrap(),
        starter()
    );
    // The spec finds it.
    let spec = tmp.path().join("specs/support.ftprep");
    fs::create_dir(tmp.path().join(".git")).unwrap();
    assert_eq!(
        ProjectConfig::find(&spec, None),
        Some(tmp.path().join("specs/ftprep.toml"))
    );

    // ftprep.toml exists: neither file is written.
    ftprep(tmp.path())
        .args(["init", "other", "--config", "--out", "specs/other.ftprep"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("nothing was written"))
        .stderr(predicate::str::contains("leave out --config"));
    assert!(!tmp.path().join("specs/other.ftprep").exists());
    // Two files cannot both go to standard output.
    ftprep(tmp.path())
        .args(["init", "support", "--config", "--out", "-"])
        .assert()
        .code(2)
        .stdout(predicate::str::is_empty());
}

/// docs/configuration.md lists every code the configuration can report,
/// so a user can look each one up.
#[test]
fn every_code_is_documented() {
    let docs = fs::read_to_string(root().join("docs/configuration.md")).unwrap();
    let mut sources = String::new();
    for file in [
        "config.rs",
        "config/read.rs",
        "config/spec.rs",
        "config/secret.rs",
    ] {
        sources += &fs::read_to_string(root().join("src/llm").join(file)).unwrap();
    }
    let mut codes: Vec<&str> = sources
        .match_indices("\"config-")
        .map(|(at, _)| {
            let rest = &sources[at + 1..];
            &rest[..rest.find('"').unwrap()]
        })
        .collect();
    codes.sort();
    codes.dedup();
    assert!(codes.len() >= 20, "{codes:?}");
    let missing: Vec<&&str> = codes
        .iter()
        .filter(|c| !docs.contains(&format!("`{c}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "not in docs/configuration.md: {missing:?}"
    );
}

/// Seeded mutations of the starter and the fixtures (characters that
/// mean something to TOML, inserted, deleted and swapped) load or fail
/// with diagnostics, never a panic, and render.
#[test]
fn mutated_files_never_panic() {
    let env = env(&[("OPENAI_BASE_URL", "http://localhost:8000/v1")]);
    let mut texts: Vec<String> = fixtures()
        .iter()
        .map(|p| fs::read_to_string(p).unwrap())
        .collect();
    texts.push(starter());
    let alphabet: Vec<char> = "[]{}=\",'.#\n\\ :-_0123456789e+aé\u{feff}\r"
        .chars()
        .collect();
    let mut rng = common::Rng(0x5eed_c0f1);
    let mut failed = 0;
    for case in 0..3000 {
        let mut chars: Vec<char> = texts[case % texts.len()].chars().collect();
        for _ in 0..1 + rng.below(4) {
            let at = rng.below(chars.len() + 1);
            match rng.below(3) {
                0 => chars.insert(at, alphabet[rng.below(alphabet.len())]),
                1 if at < chars.len() => {
                    chars.remove(at);
                }
                _ if at < chars.len() => chars[at] = alphabet[rng.below(alphabet.len())],
                _ => {}
            }
        }
        let text: String = chars.into_iter().collect();
        let report = match parse(&text, &env) {
            Ok(config) => config.warnings,
            Err(report) => {
                failed += 1;
                report
            }
        };
        if case % 10 == 0 {
            let _ = report.render(RenderOptions::plain());
        }
    }
    // The mutations are not all harmless: most break something.
    assert!(failed > 1000, "{failed}");
}

#[test]
fn stop_sequences_are_a_short_list_of_strings() {
    let config = parse(
        "[models.m]\nprovider = \"openai\"\nmodel = \"x\"\nstop = [\"\\n\\n\", \"User:\"]\n",
        &env(&[]),
    )
    .unwrap();
    assert_eq!(config.models["m"].sampling.stop, ["\n\n", "User:"]);
    for bad in [
        "stop = \"x\"",
        "stop = []",
        "stop = [\"\"]",
        "stop = [1]",
        "stop = [\"a\", \"b\", \"c\", \"d\", \"e\"]",
    ] {
        let text = format!("[models.m]\nprovider = \"openai\"\nmodel = \"x\"\n{bad}\n");
        let report = parse(&text, &env(&[]))
            .err()
            .unwrap_or_else(|| panic!("{bad} was accepted"));
        let codes = codes(&report);
        assert!(
            codes.contains(&"config-out-of-range") || codes.contains(&"config-wrong-type"),
            "{bad}: {codes:?}"
        );
    }
}
