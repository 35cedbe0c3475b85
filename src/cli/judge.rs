//! `ftprep judge SPEC --in CONVERSATIONS`: the rubric's judge over
//! conversations, resumable, checked first against the spec's own
//! calibration examples.
//!
//! The order of a run: compile the spec (nothing is sent for a spec with
//! errors); resolve the judges from `--model` or the configuration's
//! `judge` role, and read their keys; lock the run's directory, so two
//! processes never write one journal; judge the calibration examples and
//! stop if a verdict is wrong (unless `--accept-calibration`); judge the
//! conversations; write the judgments, in input order, atomically, from
//! the journal. Running the same command again resumes: nothing finished
//! is sent again.

use super::exit;
use super::output::{AtomicFile, Output, write_atomic};
use crate::compile::{compile, read_source};
use crate::flows::calibrate;
use crate::flows::conversations::{self, Conversation};
use crate::flows::judge::{JudgeSpec, Unit, jobs, judgment, units};
use crate::llm::config::{ModelSpec, ProjectConfig, Role};
use crate::llm::engine::cost::{TokenCount, count_input};
use crate::llm::engine::progress::human_duration;
use crate::llm::engine::store::{Cache, CacheMode, Journal};
use crate::llm::engine::{Engine, Report, RunSettings, Stop, Target};
use clap::Args;
use std::path::{Path, PathBuf};

#[derive(Debug, Args, Clone)]
pub struct JudgeArgs {
    /// The spec whose rubric judges.
    #[arg(value_name = "SPEC")]
    pub spec: PathBuf,

    /// Conversations to judge, JSON Lines: `{"id", "messages": [...]}`.
    #[arg(
        long = "in",
        value_name = "FILE",
        required_unless_present = "calibrate"
    )]
    pub input: Option<PathBuf>,

    /// Where to write the judgments [default: the run's directory,
    /// judgments.jsonl].
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// A judge: a model configured in ftprep.toml, or `openai:MODEL` /
    /// `anthropic:MODEL`. Repeatable; replaces the configuration's
    /// `judge` role.
    #[arg(long = "model", value_name = "MODEL")]
    pub models: Vec<String>,

    /// Judge each conversation this many times with each judge.
    #[arg(long, default_value_t = 1, value_name = "K")]
    pub samples: u32,

    /// The project configuration [default: the ftprep.toml beside the
    /// spec or in a directory above it].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// The run's name: its directory is `<runs dir>/<name>` [default:
    /// `judge-<input file name>`].
    #[arg(long, value_name = "NAME")]
    pub run: Option<String>,

    /// Send nothing: print the calls, cache hits, tokens, cost and time.
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

    /// Only judge the spec's calibration examples and compare.
    #[arg(long, conflicts_with = "no_calibrate")]
    pub calibrate: bool,

    /// Skip the calibration check that starts every run.
    #[arg(long)]
    pub no_calibrate: bool,

    /// Go on although the judge got a calibration verdict wrong.
    #[arg(long)]
    pub accept_calibration: bool,

    /// Ask again the calls that finished as ERROR in an earlier run of
    /// this run.
    #[arg(long)]
    pub retry_errors: bool,

    /// Show no progress, only the summary.
    #[arg(long, short)]
    pub quiet: bool,

    /// The run's directory, when another command runs this one as a step
    /// of its own run (`pilot`).
    #[arg(skip)]
    pub run_dir: Option<PathBuf>,
}

/// Exit status of an interrupted run, as shells report Ctrl-C.
const INTERRUPTED: u8 = 130;

pub fn run(args: JudgeArgs, out: &Output) -> u8 {
    run_ref(&args, out)
}

/// [`run`], for a command that runs a judge as one of its steps.
pub(super) fn run_ref(args: &JudgeArgs, out: &Output) -> u8 {
    match judge(args, out) {
        Ok(code) => code,
        Err(Failure {
            message,
            help,
            code,
        }) => {
            out.error(&message, help.as_deref());
            code
        }
    }
}

/// Why the command stopped early.
pub(super) struct Failure {
    pub message: String,
    pub help: Option<String>,
    pub code: u8,
}

impl Failure {
    pub(super) fn usage(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            help: None,
            code: exit::USAGE,
        }
    }

    fn help(mut self, help: impl Into<String>) -> Failure {
        self.help = Some(help.into());
        self
    }
}

fn judge(args: &JudgeArgs, out: &Output) -> Result<u8, Failure> {
    if args.samples == 0 {
        return Err(Failure::usage("--samples must be at least 1"));
    }
    if let Some(cost) = args.max_cost.filter(|c| !c.is_finite() || *c < 0.0) {
        return Err(Failure::usage(format!(
            "--max-cost {cost} is not an amount of dollars"
        )));
    }
    let Prepared {
        spec,
        judge_spec,
        config,
        engine,
    } = prepare(
        &args.spec,
        args.config.as_deref(),
        &args.models,
        !args.dry_run,
        out,
    )?;
    let spec = &*spec;

    // The run's directory, journal and cache.
    let name = match (&args.run, &args.input) {
        (Some(name), _) => name.clone(),
        (None, Some(input)) if !args.calibrate => format!(
            "judge-{}",
            input
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "input".into())
        ),
        (None, _) => format!("calibrate-{}", judge_spec.spec_id),
    };
    check_run_name(&name)?;
    let run_dir = args
        .run_dir
        .clone()
        .unwrap_or_else(|| config.run.dir.join(&name));
    let cache = cache_mode(&config, args.no_cache, args.refresh);
    std::fs::create_dir_all(&run_dir)
        .map_err(|e| Failure::usage(format!("cannot create {}: {e}", run_dir.display())))?;
    let _lock = lock_run(&run_dir)?;
    let mut journal = Journal::open_with(&run_dir.join("journal.jsonl"), !args.retry_errors)
        .map_err(|e| {
            Failure::usage(format!(
                "cannot read the journal in {}: {e}",
                run_dir.display()
            ))
        })?;
    if journal.dropped > 0 {
        out.stderr(&format!(
            "note: {} in {} was cut off by an earlier stop and is dropped; its call is sent again\n",
            crate::diagnostics::plural(journal.dropped, "journal line"),
            run_dir.display()
        ));
    }

    // The conversations.
    let input = match (&args.input, args.calibrate) {
        (Some(path), false) => Some(Input::open(path, out)?),
        _ => None,
    };

    if args.dry_run {
        return dry_run(
            args,
            &engine,
            &judge_spec,
            spec,
            input.as_ref(),
            &journal,
            &cache,
            out,
        );
    }

    let settings = |label: &str, total: usize| RunSettings {
        label: label.to_string(),
        total: total as u64,
        cache: cache.clone(),
        max_cost: args.max_cost,
        quiet: args.quiet,
    };
    let accept = judge_spec.accept().map_err(Failure::usage)?;

    // The calibration check.
    if !args.no_calibrate {
        let examples = calibrate::conversations(spec);
        if examples.is_empty() {
            out.stderr("note: the spec has no calibration examples to check the judge against\n");
        } else {
            let calls = count_calls(&judge_spec, engine.targets().len(), examples.len(), 1);
            let report = engine
                .run(
                    &mut journal,
                    jobs(
                        &judge_spec,
                        &engine,
                        units(examples.iter().cloned(), engine.targets().len(), 1),
                    ),
                    accept.clone(),
                    &settings("calibration", calls),
                )
                .map_err(Failure::usage)?;
            if let Some(code) = stopped(&report, args, out) {
                return Ok(code);
            }
            let results = calibration_results(&engine, &judge_spec, spec, &examples, &journal)?;
            out.stdout(&calibrate::render(&results));
            write_atomic(
                &run_dir.join("calibration.json"),
                format!(
                    "{}\n",
                    serde_json::to_string_pretty(&results).unwrap_or_default()
                )
                .as_bytes(),
            )
            .map_err(|e| Failure::usage(format!("cannot write the calibration results: {e}")))?;
            let wrong: Vec<&str> = results
                .iter()
                .filter(|r| !r.verdicts_hold())
                .map(|r| r.judge.as_str())
                .collect();
            if !wrong.is_empty() && !args.accept_calibration {
                return Err(Failure {
                    message: format!(
                        "{} gave a verdict the spec's authors did not on its calibration examples",
                        wrong.iter().map(|j| format!("`{j}`")).collect::<Vec<_>>().join(", ")
                    ),
                    help: Some("read the disagreements above: fix the question wording or the examples, choose another judge, or go on with --accept-calibration".into()),
                    code: exit::SPEC_ERRORS,
                });
            }
        }
    }
    if args.calibrate {
        return Ok(exit::OK);
    }

    // The conversations.
    let Some(input) = input else {
        return Err(Failure::usage("--in names no conversations"));
    };
    let calls = count_calls(
        &judge_spec,
        engine.targets().len(),
        input.len(),
        args.samples,
    );
    let report = engine
        .run(
            &mut journal,
            jobs(
                &judge_spec,
                &engine,
                units(input.conversations()?, engine.targets().len(), args.samples),
            ),
            accept,
            &settings("judge", calls),
        )
        .map_err(Failure::usage)?;

    // The judgments, in input order, from the journal.
    let out_path = args
        .out
        .clone()
        .unwrap_or_else(|| run_dir.join("judgments.jsonl"));
    let (written, missing) = write_judgments(
        &engine,
        &judge_spec,
        &input,
        args.samples,
        &journal,
        &out_path,
    )?;
    summarise(&engine, &report, written, missing, &out_path, out);
    if let Some(code) = stopped(&report, args, out) {
        return Ok(code);
    }
    Ok(if missing > 0 {
        exit::SPEC_ERRORS
    } else {
        exit::OK
    })
}

/// What a judge run and `ftprep cache why` both start from.
pub(super) struct Prepared {
    pub spec: std::sync::Arc<crate::model::Spec>,
    pub judge_spec: JudgeSpec,
    pub config: ProjectConfig,
    pub engine: Engine,
}

/// Compiles the spec (as `build` would: nothing is sent for a spec with
/// errors), loads the configuration and resolves the judges, with their
/// keys when `with_keys` (a dry run needs none).
pub(super) fn prepare(
    spec_path: &Path,
    config_path: Option<&Path>,
    models: &[String],
    with_keys: bool,
    out: &Output,
) -> Result<Prepared, Failure> {
    let source = read_source(spec_path, &super::display_name(spec_path)).map_err(|e| match e {
        crate::compile::ReadError::Io(e) => {
            Failure::usage(format!("cannot read {}: {e}", spec_path.display()))
        }
        crate::compile::ReadError::NotUtf8(_) => Failure {
            message: format!("{} is not UTF-8", spec_path.display()),
            help: Some("run `ftprep check` on it for the place".into()),
            code: exit::SPEC_ERRORS,
        },
    })?;
    let compilation = compile(source);
    let Some(spec) = compilation.clean_spec().cloned() else {
        out.compilation(&compilation);
        return Err(Failure {
            message: "nothing judged: fix the spec's errors first".into(),
            help: None,
            code: exit::SPEC_ERRORS,
        });
    };
    let file_name = spec_path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let judge_spec = JudgeSpec::from_spec(&spec, &file_name, &compilation.source.text)
        .map_err(Failure::usage)?;
    let config = load_config(spec_path, config_path, out)?;
    let cli: Vec<ModelSpec> = models
        .iter()
        .map(|m| ModelSpec::from_cli(m))
        .collect::<Result<_, _>>()
        .map_err(config_failure)?;
    let selected = config.select(Role::Judge, &cli).map_err(config_failure)?;
    let mut targets = Vec::new();
    for model in &selected {
        let key = if with_keys {
            model.api_key().map_err(config_failure)?
        } else {
            None
        };
        targets.push(Target::from_model(model, &config.retries, key));
    }
    Ok(Prepared {
        spec,
        judge_spec,
        config,
        engine: Engine::new(targets),
    })
}

pub(super) fn config_failure(e: crate::llm::config::ConfigError) -> Failure {
    Failure {
        message: e.message,
        help: e.help,
        code: exit::USAGE,
    }
}

/// An exclusive lock on the run's directory, held while the run goes.
pub(super) fn lock_run(dir: &Path) -> Result<std::fs::File, Failure> {
    let path = dir.join("lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| Failure::usage(format!("cannot open {}: {e}", path.display())))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(Failure::usage(format!(
            "another ftprep is running the run in {}",
            dir.display()
        ))
        .help("wait for it to finish, or give this run another name with --run")),
        Err(std::fs::TryLockError::Error(e)) => Err(Failure::usage(format!(
            "cannot lock {}: {e}",
            path.display()
        ))),
    }
}

/// The conversations of `--in`: checked once, then read again, one at a
/// time, each time the run needs them (see `flows::conversations`).
pub(super) struct Input {
    path: PathBuf,
    scan: conversations::Scan,
}

impl Input {
    /// Checks every line of `path`, reporting those that cannot be judged.
    pub(super) fn open(path: &Path, out: &Output) -> Result<Input, Failure> {
        let scan = conversations::scan(std::io::BufReader::new(Input::file(path)?))
            .map_err(|e| Failure::usage(format!("cannot read {}: {e}", path.display())))?;
        for bad in scan.bad.iter().take(20) {
            out.stderr(&format!(
                "warning: {}:{}: not judged: {}\n",
                path.display(),
                bad.line,
                bad.why
            ));
        }
        if scan.bad.len() > 20 {
            out.stderr(&format!(
                "warning: … and {} more lines not judged\n",
                scan.bad.len() - 20
            ));
        }
        if scan.good == 0 {
            return Err(Failure {
                message: format!("{} has no conversation to judge", path.display()),
                help: Some("each line is `{\"id\": \"...\", \"messages\": [{\"role\": \"user\", \"content\": \"...\"}, {\"role\": \"assistant\", ...}]}`".into()),
                code: exit::SPEC_ERRORS,
            });
        }
        Ok(Input {
            path: path.to_path_buf(),
            scan,
        })
    }

    fn file(path: &Path) -> Result<std::fs::File, Failure> {
        std::fs::File::open(path)
            .map_err(|e| Failure::usage(format!("cannot read {}: {e}", path.display())))
    }

    pub(super) fn len(&self) -> usize {
        self.scan.good
    }

    /// The conversations, read again from the file.
    pub(super) fn conversations(&self) -> Result<impl Iterator<Item = Conversation> + '_, Failure> {
        let file = Input::file(&self.path)?;
        Ok(conversations::stream(
            std::io::BufReader::new(file),
            &self.scan,
        ))
    }
}

fn count_calls(spec: &JudgeSpec, judges: usize, conversations: usize, samples: u32) -> usize {
    let per = if spec.per_question() {
        spec.question_ids.len()
    } else {
        1
    };
    conversations * judges * samples as usize * per
}

fn calibration_results(
    engine: &Engine,
    judge_spec: &JudgeSpec,
    spec: &crate::model::Spec,
    examples: &[Conversation],
    journal: &Journal,
) -> Result<Vec<calibrate::JudgeResult>, Failure> {
    let mut reader = journal
        .reader()
        .map_err(|e| Failure::usage(format!("cannot read the journal: {e}")))?;
    let mut results = Vec::new();
    for (judge, target) in engine.targets().iter().enumerate() {
        let mut lines = Vec::new();
        for conversation in examples {
            let unit = Unit {
                conversation: std::sync::Arc::new(conversation.clone()),
                transcript: crate::flows::judge::conversation_transcript(conversation),
                facts: std::sync::Arc::new(crate::flows::judge::conversation_facts(conversation)),
                judge,
                sample: 0,
            };
            lines.push(
                judgment(judge_spec, engine, &mut reader, &unit)
                    .map_err(|e| Failure::usage(format!("cannot read the journal: {e}")))?,
            );
        }
        results.push(calibrate::compare(spec, judge_spec, &target.id, &lines));
    }
    Ok(results)
}

fn write_judgments(
    engine: &Engine,
    spec: &JudgeSpec,
    input: &Input,
    samples: u32,
    journal: &Journal,
    path: &Path,
) -> Result<(usize, usize), Failure> {
    use std::io::Write;
    let journal_error = |e: std::io::Error| Failure::usage(format!("cannot read the journal: {e}"));
    let write_error =
        |e: std::io::Error| Failure::usage(format!("cannot write {}: {e}", path.display()));
    let mut reader = journal.reader().map_err(journal_error)?;
    // Written to a temporary file beside `path` and renamed over it once
    // whole: a kill leaves the old judgments, never half of the new.
    let mut file = AtomicFile::create(path).map_err(write_error)?;
    let (mut written, mut missing) = (0, 0);
    for unit in units(input.conversations()?, engine.targets().len(), samples) {
        match judgment(spec, engine, &mut reader, &unit).map_err(journal_error)? {
            Some(line) => {
                serde_json::to_writer(&mut file, &line).map_err(|e| write_error(e.into()))?;
                file.write_all(b"\n").map_err(write_error)?;
                written += 1;
            }
            None => missing += 1,
        }
    }
    file.commit().map_err(write_error)?;
    Ok((written, missing))
}

fn summarise(
    engine: &Engine,
    report: &Report,
    written: usize,
    missing: usize,
    path: &Path,
    out: &Output,
) {
    let c = &report.counters;
    let cost = match c.cost {
        Some(cost) => format!("${cost:.4}"),
        None => "cost unknown (no prices in the configuration)".into(),
    };
    out.stderr(&format!(
        "wrote {} to {} ({} sent, {} from the cache, {} resumed; {} retries; {} ERROR; {} input and {} output tokens, {cost})\n",
        crate::diagnostics::plural(written, "judgment"),
        path.display(),
        c.sent,
        c.from_cache,
        c.from_journal,
        c.retries,
        c.unusable,
        c.usage.input_tokens,
        c.usage.output_tokens,
    ));
    if engine.targets().len() > 1 {
        for (target, (usage, cost)) in engine.targets().iter().zip(&report.by_target) {
            out.stderr(&format!(
                "  {}: {} input and {} output tokens, {}\n",
                target.id,
                usage.input_tokens,
                usage.output_tokens,
                match cost {
                    Some(cost) => format!("${cost:.4}"),
                    None => "cost unknown".into(),
                }
            ));
        }
    }
    if missing > 0 {
        out.stderr(&format!(
            "note: {} not finished: run the same command again to finish them (nothing finished is sent again)\n",
            crate::diagnostics::plural(missing, "judgment")
        ));
    }
}

/// The project configuration of a spec (the file beside it or above it, or
/// `--config`), its warnings printed.
pub(super) fn load_config(
    spec: &Path,
    explicit: Option<&Path>,
    out: &Output,
) -> Result<ProjectConfig, Failure> {
    let config = ProjectConfig::discover(spec, explicit).map_err(|d| Failure {
        message: format!(
            "the configuration has errors:\n{}",
            d.render(out.render_options())
        ),
        help: None,
        code: exit::USAGE,
    })?;
    if !config.warnings.is_empty() {
        out.stderr(&config.warnings.render(out.render_options()));
    }
    Ok(config)
}

/// Whether a run reads and writes the configuration's response cache:
/// `--no-cache` does neither, `--refresh` only writes.
pub(super) fn cache_mode(config: &ProjectConfig, no_cache: bool, refresh: bool) -> CacheMode {
    let path = match &config.run.cache {
        crate::llm::config::Cache::File(path) => Some(path.clone()),
        crate::llm::config::Cache::Off => None,
    };
    CacheMode {
        path: path.filter(|_| !no_cache),
        read: !no_cache && !refresh,
        write: !no_cache,
    }
}

/// A run's name, checked: it names a directory of the runs directory.
pub(super) fn check_run_name(name: &str) -> Result<(), Failure> {
    if name.is_empty() || name.contains(['/', '\\']) || name == "." || name == ".." {
        return Err(Failure::usage(format!(
            "`{name}` cannot name a run: use letters, digits, `-` and `_`"
        )));
    }
    Ok(())
}

/// The exit code when the run was stopped, after saying why.
fn stopped(report: &Report, args: &JudgeArgs, out: &Output) -> Option<u8> {
    stopped_with(report, args.run.is_some(), out)
}

/// [`stopped`], for any command with a `--run`.
pub(super) fn stopped_with(report: &Report, named: bool, out: &Output) -> Option<u8> {
    let stop = report.stop.as_ref()?;
    let resume = format!(
        "run the same command to resume{}",
        if named {
            ""
        } else {
            " (the run is named after the input; --run names it)"
        }
    );
    let (code, help) = match stop {
        Stop::Interrupted => (INTERRUPTED, resume),
        Stop::QuotaExhausted { .. } => (
            exit::SPEC_ERRORS,
            format!("add credit or raise the quota, then {resume}"),
        ),
        Stop::Fatal {
            status: 401 | 403, ..
        } => (
            exit::SPEC_ERRORS,
            "check the key in the variable the configuration names".to_string(),
        ),
        Stop::Fatal { status: 404, .. } => (
            exit::SPEC_ERRORS,
            "check the model's name and the base URL".to_string(),
        ),
        Stop::Fatal { .. } => (
            exit::SPEC_ERRORS,
            format!("fix what the provider says, then {resume}"),
        ),
        Stop::Failing { .. } => (
            exit::SPEC_ERRORS,
            format!("check the server, then {resume}"),
        ),
        Stop::MaxCost { .. } => (
            exit::SPEC_ERRORS,
            format!("raise --max-cost to go on, then {resume}"),
        ),
        Stop::Journal(_) => (
            exit::USAGE,
            "check the disk the run directory is on".to_string(),
        ),
    };
    out.error(&format!("stopped: {stop}"), Some(&help));
    Some(code)
}

/// What a run would send, and what it would cost, without sending it.
#[allow(clippy::too_many_arguments)]
fn dry_run(
    args: &JudgeArgs,
    engine: &Engine,
    judge_spec: &JudgeSpec,
    spec: &crate::model::Spec,
    input: Option<&Input>,
    journal: &Journal,
    cache: &CacheMode,
    out: &Output,
) -> Result<u8, Failure> {
    let cache = match (&cache.path, cache.read) {
        (Some(path), true) => Cache::open(path).ok(),
        _ => None,
    };
    #[derive(Default)]
    struct Totals {
        calls: u64,
        journal: u64,
        cached: u64,
        input: u64,
        exact: bool,
        output: u64,
    }
    let mut per_target: Vec<Totals> = engine
        .targets()
        .iter()
        .map(|_| Totals {
            exact: true,
            ..Totals::default()
        })
        .collect();
    let examples = if args.no_calibrate {
        Vec::new()
    } else {
        calibrate::conversations(spec)
    };
    // A judge's answer: about 60 tokens of evidence and answer a question,
    // at most `max_tokens`.
    let per_question_output = 60u64;
    let judges = engine.targets().len();
    let conversations: Box<dyn Iterator<Item = Conversation>> = match input {
        Some(input) if !args.calibrate => Box::new(input.conversations()?),
        _ => Box::new(std::iter::empty()),
    };
    let plan =
        units(examples.into_iter(), judges, 1).chain(units(conversations, judges, args.samples));
    {
        for job in jobs(judge_spec, engine, plan) {
            let target = &engine.targets()[job.target];
            let totals = &mut per_target[job.target];
            totals.calls += 1;
            let key = engine.key(&job);
            if journal.contains(&key.key) {
                totals.journal += 1;
                continue;
            }
            if cache.as_ref().is_some_and(|c| c.get(&key.key).is_some()) {
                totals.cached += 1;
                continue;
            }
            let TokenCount { tokens, exact } =
                count_input(target.dialect.name(), &target.endpoint.model, &job.request);
            totals.input += tokens;
            totals.exact &= exact;
            let questions = if judge_spec.per_question() {
                1
            } else {
                judge_spec.question_ids.len() as u64
            };
            totals.output += (questions * per_question_output)
                .min(u64::from(target.endpoint.sampling.max_tokens));
        }
    }
    let mut text = String::from("dry run: nothing is sent\n");
    let mut total_cost = Some(0.0);
    for (target, t) in engine.targets().iter().zip(&per_target) {
        let to_send = t.calls - t.journal - t.cached;
        let usage = crate::llm::chat::Usage {
            input_tokens: t.input,
            cached_input_tokens: 0,
            output_tokens: t.output,
        };
        let cost = crate::llm::engine::cost::cost(target.prices.as_ref(), &usage);
        total_cost = match (total_cost, cost) {
            (Some(a), Some(b)) => Some(a + b),
            _ => None,
        };
        let limits = &target.limits;
        // The least time the limits allow: by requests, by tokens, and by
        // concurrency at a guessed two seconds a call.
        let mut minutes: f64 = to_send as f64 * 2.0 / 60.0 / f64::from(limits.concurrency.max(1));
        if let Some(rpm) = limits.requests_per_minute {
            minutes = minutes.max(to_send as f64 / f64::from(rpm.max(1)));
        }
        if let Some(tpm) = limits.tokens_per_minute {
            minutes = minutes.max((t.input + t.output) as f64 / tpm.max(1) as f64);
        }
        if let Some(itpm) = limits.input_tokens_per_minute {
            minutes = minutes.max(t.input as f64 / itpm.max(1) as f64);
        }
        if let Some(otpm) = limits.output_tokens_per_minute {
            minutes = minutes.max(t.output as f64 / otpm.max(1) as f64);
        }
        text.push_str(&format!(
            "  {}: {} calls: {} finished in this run, {} in the cache, {} to send\n    input {} tokens ({}), output about {} tokens (estimated), {}\n    about {} at concurrency {}{}\n",
            target.id,
            t.calls,
            t.journal,
            t.cached,
            to_send,
            t.input,
            if t.exact { "counted with the model's tokenizer" } else { "estimated: a token per four bytes" },
            t.output,
            match cost {
                Some(c) => format!("${c:.4}"),
                None => "cost unknown (no prices in the configuration)".into(),
            },
            human_duration(std::time::Duration::from_secs_f64(minutes * 60.0)),
            limits.concurrency,
            if limits.requests_per_minute.is_some() || limits.tokens_per_minute.is_some() {
                " and the configured rate limits"
            } else {
                ", at two seconds a call"
            },
        ));
    }
    if let Some(cost) = total_cost {
        text.push_str(&format!("  total: about ${cost:.4}\n"));
    }
    out.stdout(&text);
    Ok(exit::OK)
}
