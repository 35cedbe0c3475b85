//! `ftprep generate SPEC --n 100 [--seed S]`: conversations planned from
//! the spec's taxonomy and personas, written by the models of the
//! `generate` and `simulate_user` roles, resumable.
//!
//! The order of a run: compile the spec (nothing is sent for a spec with
//! errors) and emit its prompts; plan N items (seeded, stratified: the same
//! seed gives the same plan on every machine); resolve the models and read
//! their keys; lock the run's directory; run the conversations on the
//! engine, each call journaled as it is answered; write the conversations
//! in plan order, atomically, with the coverage report and the diversity
//! audit. Running the same command again replays what the journal holds
//! and sends only the rest.

use super::exit;
use super::judge::{Failure, lock_run, stopped_with};
use super::output::{Output, write_atomic};
use crate::compile::{compile, read_source};
use crate::flows::generate::{Generation, NotFinished, Roles, Script, accept, output_line};
use crate::flows::scripts::{self, Prompts};
use crate::generate::{audit, coverage, plan};
use crate::llm::config::{ModelSpec, ProjectConfig, Role};
use crate::llm::engine::store::Journal;
use crate::llm::engine::{Engine, RunSettings, Target};
use clap::Args;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, Args, Clone)]
pub struct GenerateArgs {
    /// The spec whose taxonomy, personas and prompts to generate from.
    #[arg(value_name = "SPEC")]
    pub spec: PathBuf,

    /// Conversations to generate.
    #[arg(long, default_value_t = 100, value_name = "N")]
    pub n: usize,

    /// The plan's seed: the same seed gives the same plan (cells, personas,
    /// turn counts, the simulated user's behaviour each turn) everywhere.
    #[arg(long, default_value_t = 1, value_name = "S")]
    pub seed: u64,

    /// Where to write the conversations [default: the run's directory,
    /// conversations.jsonl].
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// The assistant's model (the `generate` role): a model configured in
    /// ftprep.toml, or `openai:MODEL` / `anthropic:MODEL`.
    #[arg(long = "model", value_name = "MODEL")]
    pub model: Option<String>,

    /// The simulated user's model (the `simulate_user` role) [default: the
    /// role's model, else the assistant's].
    #[arg(long = "user-model", value_name = "MODEL")]
    pub user_model: Option<String>,

    /// The project configuration [default: the ftprep.toml beside the
    /// spec or in a directory above it].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// The run's name: its directory is `<runs dir>/<name>` [default:
    /// `generate-<spec id>-s<seed>`].
    #[arg(long, value_name = "NAME")]
    pub run: Option<String>,

    /// Plan, and print the coverage and the calls, sending nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Stop before the cost, counting calls in flight at their most,
    /// could pass this many US dollars.
    #[arg(long, value_name = "USD")]
    pub max_cost: Option<f64>,

    /// Neither read nor write the response cache.
    #[arg(long, conflicts_with = "refresh")]
    pub no_cache: bool,

    /// Send every call again and write the answers to the cache.
    #[arg(long)]
    pub refresh: bool,

    /// Ask again the calls that finished as ERROR in an earlier run.
    #[arg(long)]
    pub retry_errors: bool,

    /// Show no progress, only the summary.
    #[arg(long, short)]
    pub quiet: bool,
}

pub fn run(args: GenerateArgs, out: &Output) -> u8 {
    match generate(&args, None, out) {
        Ok(outcome) => outcome.code,
        Err(failure) => {
            out.error(&failure.message, failure.help.as_deref());
            failure.code
        }
    }
}

/// What a generation run did, for `pilot`.
pub(super) struct Outcome {
    pub code: u8,
    pub written: usize,
    pub unfinished: usize,
    pub out_path: PathBuf,
}

/// Runs `args`; `run_dir` overrides the run's directory (a pilot's step).
pub(super) fn generate(
    args: &GenerateArgs,
    run_dir: Option<&Path>,
    out: &Output,
) -> Result<Outcome, Failure> {
    if args.n == 0 {
        return Err(Failure::usage("--n must be at least 1"));
    }
    if let Some(cost) = args.max_cost.filter(|c| !c.is_finite() || *c < 0.0) {
        return Err(Failure::usage(format!(
            "--max-cost {cost} is not an amount of dollars"
        )));
    }
    if let Some(out_path) = &args.out {
        let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        };
        if same(out_path, &args.spec) {
            return Err(Failure::usage(format!(
                "--out {} is the spec: the conversations would overwrite it",
                out_path.display()
            )));
        }
    }
    let source = read_source(&args.spec, &super::display_name(&args.spec)).map_err(|e| {
        Failure::usage(match e {
            crate::compile::ReadError::Io(e) => format!("cannot read {}: {e}", args.spec.display()),
            crate::compile::ReadError::NotUtf8(_) => {
                format!("{} is not UTF-8", args.spec.display())
            }
        })
    })?;
    let compilation = compile(source);
    let Some(spec) = compilation.clean_spec().cloned() else {
        out.compilation(&compilation);
        return Err(Failure {
            message: "nothing generated: fix the spec's errors first".into(),
            help: None,
            code: exit::SPEC_ERRORS,
        });
    };
    let file_name = args
        .spec
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let prompts = prompts(&spec, &file_name, &compilation.source.text)?;

    // The plan.
    let input = scripts::plan_input(&spec);
    let plan = plan::plan(&input, args.n, args.seed);
    let coverage = coverage::coverage(&input, &plan);
    let scripts: Vec<Script> = plan
        .items
        .iter()
        .map(|item| scripts::script(&spec, &input, &prompts, item, args.seed))
        .collect();

    let config = super::judge::load_config(&args.spec, args.config.as_deref(), out)?;
    let name = args
        .run
        .clone()
        .unwrap_or_else(|| format!("generate-{}-s{}", spec.domain.id.name, args.seed));
    super::judge::check_run_name(&name)?;
    let run_dir = run_dir
        .map(Path::to_path_buf)
        .unwrap_or_else(|| config.run.dir.join(&name));
    let simulate = scripts::simulates(&spec);
    let (engine, roles) = engine(&config, args, simulate, !args.dry_run)?;

    if args.dry_run {
        out.stdout(&coverage.render());
        let calls: u64 = Generation::new(&scripts, roles).least_calls();
        out.stdout(&format!(
            "\n{} planned: {} at the least{}; nothing sent (--dry-run)\n",
            crate::diagnostics::plural(scripts.len(), "conversation"),
            crate::diagnostics::plural(calls as usize, "call"),
            if simulate {
                " (one per message; a length breach asks again)"
            } else {
                ""
            }
        ));
        return Ok(Outcome {
            code: exit::OK,
            written: 0,
            unfinished: scripts.len(),
            out_path: run_dir.join("conversations.jsonl"),
        });
    }

    std::fs::create_dir_all(&run_dir)
        .map_err(|e| Failure::usage(format!("cannot create {}: {e}", run_dir.display())))?;
    let _lock = lock_run(&run_dir)?;
    let write = |name: &str, text: String| {
        write_atomic(&run_dir.join(name), text.as_bytes())
            .map_err(|e| Failure::usage(format!("cannot write {name}: {e}")))
    };
    write(
        "plan.json",
        format!(
            "{}\n",
            serde_json::to_string_pretty(&plan).unwrap_or_default()
        ),
    )?;
    write("coverage.txt", coverage.render())?;
    write("coverage.json", coverage.to_json())?;
    let mut journal = Journal::open_with(&run_dir.join("journal.jsonl"), !args.retry_errors)
        .map_err(|e| {
            Failure::usage(format!(
                "cannot read the journal in {}: {e}",
                run_dir.display()
            ))
        })?;
    let cache = super::judge::cache_mode(&config, args.no_cache, args.refresh);
    let mut generation = Generation::new(&scripts, roles);
    let settings = RunSettings {
        label: "generate".into(),
        total: generation.least_calls(),
        cache,
        max_cost: args.max_cost,
        quiet: args.quiet,
    };
    let report = engine
        .run_source(&mut journal, &mut generation, accept(), &settings)
        .map_err(Failure::usage)?;

    // The conversations, in plan order.
    let models = [
        engine.targets()[roles.assistant].id.clone(),
        engine.targets()[roles.user].id.clone(),
    ];
    let mut text = String::new();
    let mut finished = Vec::new();
    let mut unfinished = 0;
    let mut errors = Vec::new();
    for (script, result) in scripts.iter().zip(generation.into_results()) {
        match result {
            Ok(generated) => {
                text.push_str(&output_line(script, &generated, &models).to_string());
                text.push('\n');
                finished.push(
                    generated
                        .messages
                        .iter()
                        .map(|(role, t)| (role.as_str().to_string(), t.clone()))
                        .collect::<Vec<_>>(),
                );
            }
            Err(NotFinished::Pending) => unfinished += 1,
            Err(NotFinished::Error { class, detail }) => {
                errors.push(format!("{}: {} ({detail})", script.id, class.as_str()))
            }
        }
    }
    let out_path = args
        .out
        .clone()
        .unwrap_or_else(|| run_dir.join("conversations.jsonl"));
    write_atomic(&out_path, text.as_bytes())
        .map_err(|e| Failure::usage(format!("cannot write {}: {e}", out_path.display())))?;
    let audit = audit::audit(&finished);
    write("audit.txt", audit.render())?;
    write("audit.json", audit.to_json())?;

    let c = &report.counters;
    let cost = match c.cost {
        Some(cost) => format!("${cost:.4}"),
        None => "cost unknown (no prices in the configuration)".into(),
    };
    out.stderr(&format!(
        "wrote {} to {} ({} sent, {} from the cache, {} resumed; {} retries; {} input and {} output tokens, {cost})\n",
        crate::diagnostics::plural(finished.len(), "conversation"),
        out_path.display(),
        c.sent,
        c.from_cache,
        c.from_journal,
        c.retries,
        c.usage.input_tokens,
        c.usage.output_tokens,
    ));
    if !args.quiet {
        out.stderr(&format!(
            "coverage and audit: {} and {}\n",
            run_dir.join("coverage.txt").display(),
            run_dir.join("audit.txt").display()
        ));
        if audit.has_warnings() {
            out.stderr(&audit.render());
        }
    }
    for error in errors.iter().take(10) {
        out.stderr(&format!("ERROR {error}\n"));
    }
    if errors.len() > 10 {
        out.stderr(&format!("... and {} more ERROR\n", errors.len() - 10));
    }
    if !errors.is_empty() {
        out.stderr("note: conversations that ended in ERROR are left out; --retry-errors asks their calls again\n");
    }
    if unfinished > 0 {
        out.stderr(&format!(
            "note: {} not finished: run the same command again to finish them (nothing finished is sent again)\n",
            crate::diagnostics::plural(unfinished, "conversation")
        ));
    }
    if let Some(code) = stopped_with(&report, args.run.is_some(), out) {
        return Ok(Outcome {
            code,
            written: finished.len(),
            unfinished,
            out_path,
        });
    }
    Ok(Outcome {
        code: if unfinished > 0 || !errors.is_empty() {
            exit::SPEC_ERRORS
        } else {
            exit::OK
        },
        written: finished.len(),
        unfinished: unfinished + errors.len(),
        out_path,
    })
}

/// The emitted prompts a run uses.
fn prompts(spec: &crate::model::Spec, file_name: &str, text: &str) -> Result<Prompts, Failure> {
    let artifacts = crate::emit::emit(spec, file_name, text, &crate::emit::Templates::embedded())
        .map_err(|e| Failure::usage(e.message))?;
    let find = |path: &str| -> Arc<str> {
        artifacts
            .iter()
            .find(|a| a.path == path)
            .map(|a| Arc::from(a.contents.as_str()))
            .unwrap_or_else(|| Arc::from(""))
    };
    Ok(Prompts {
        assistant: find("prompts/assistant.md"),
        user_simulator: find("prompts/user-simulator.md"),
        generation: find("prompts/generation-prompt.md"),
    })
}

/// The engine's targets: the assistant's model and the simulated user's
/// (one target when they are the same model, so its limits are shared).
fn engine(
    config: &ProjectConfig,
    args: &GenerateArgs,
    simulate: bool,
    with_keys: bool,
) -> Result<(Engine, Roles), Failure> {
    let cli = |m: &Option<String>| -> Result<Vec<ModelSpec>, Failure> {
        m.iter()
            .map(|m| ModelSpec::from_cli(m))
            .collect::<Result<_, _>>()
            .map_err(super::judge::config_failure)
    };
    let assistant = config
        .select(Role::Generate, &cli(&args.model)?)
        .map_err(super::judge::config_failure)?;
    let assistant = assistant
        .into_iter()
        .next()
        .ok_or_else(|| Failure::usage("no model is set to generate"))?;
    let user = if !simulate {
        assistant.clone()
    } else if args.user_model.is_some() {
        config
            .select(Role::SimulateUser, &cli(&args.user_model)?)
            .map_err(super::judge::config_failure)?
            .into_iter()
            .next()
            .unwrap_or_else(|| assistant.clone())
    } else if args.model.is_some() {
        // `--model` alone sets both sides.
        assistant.clone()
    } else {
        config
            .select(Role::SimulateUser, &[])
            .ok()
            .and_then(|m| m.into_iter().next())
            .unwrap_or_else(|| assistant.clone())
    };
    let target = |model: &crate::llm::config::Model| -> Result<Target, Failure> {
        let key = if with_keys {
            model.api_key().map_err(super::judge::config_failure)?
        } else {
            None
        };
        Ok(Target::from_model(model, &config.retries, key))
    };
    let mut targets = vec![target(&assistant)?];
    let roles = if user.id == assistant.id {
        Roles {
            assistant: 0,
            user: 0,
        }
    } else {
        targets.push(target(&user)?);
        Roles {
            assistant: 0,
            user: 1,
        }
    };
    Ok((Engine::new(targets), roles))
}
