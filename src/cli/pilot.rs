//! `ftprep pilot SPEC [--n 100]`: the method's loop in one run directory:
//! the build, the judge checked against the calibration examples, the
//! conversations generated, judged and scored, the report, and what to do
//! next.
//!
//! Each step is the command a user would run, on its own journal inside
//! the pilot's directory, so running the same `pilot` again resumes at
//! whatever step stopped: finished calls are replayed from the journals,
//! nothing is paid twice, and the cheap steps (build, score) simply run
//! again.
//!
//! ```text
//! runs/pilot-therapy-s1/
//!   build/            the artifacts (prompts, scoring.toml, schema)
//!   generate/         the generation run: plan, coverage, audit, journal
//!   judge/            the judge run: calibration, journal
//!   conversations.jsonl  judgments.jsonl  verdicts.jsonl
//!   summary.json  report.html  spot-check.md
//! ```

use super::exit;
use super::generate::{GenerateArgs, generate};
use super::judge::{Failure, JudgeArgs};
use super::output::{Output, write_atomic};
use super::score::ScoreArgs;
use crate::compile::{compile, read_source};
use clap::{Args, Parser};
use serde_json::Value;
use std::path::{Path, PathBuf};

#[derive(Debug, Args, Clone)]
pub struct PilotArgs {
    /// The spec to pilot.
    #[arg(value_name = "SPEC")]
    pub spec: PathBuf,

    /// Conversations to generate and judge.
    #[arg(long, default_value_t = 100, value_name = "N")]
    pub n: usize,

    /// The plan's seed.
    #[arg(long, default_value_t = 1, value_name = "S")]
    pub seed: u64,

    /// The pass rate to reach.
    #[arg(long, default_value_t = 0.70, value_name = "RATE")]
    pub target: f64,

    /// The assistant's model (the `generate` role).
    #[arg(long = "model", value_name = "MODEL")]
    pub model: Option<String>,

    /// The simulated user's model (the `simulate_user` role).
    #[arg(long = "user-model", value_name = "MODEL")]
    pub user_model: Option<String>,

    /// A judge (the `judge` role); repeatable.
    #[arg(long = "judge", value_name = "MODEL")]
    pub judges: Vec<String>,

    /// The project configuration.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// The run's name [default: `pilot-<spec id>-s<seed>`].
    #[arg(long, value_name = "NAME")]
    pub run: Option<String>,

    /// Stop before the cost of each step could pass this many US dollars.
    #[arg(long, value_name = "USD")]
    pub max_cost: Option<f64>,

    /// Go on although the judge got a calibration verdict wrong.
    #[arg(long)]
    pub accept_calibration: bool,

    /// Neither read nor write the response cache.
    #[arg(long)]
    pub no_cache: bool,

    /// Show no progress, only the summaries.
    #[arg(long, short)]
    pub quiet: bool,
}

pub fn run(args: PilotArgs, out: &Output) -> u8 {
    match pilot(&args, out) {
        Ok(code) => code,
        Err(failure) => {
            out.error(&failure.message, failure.help.as_deref());
            failure.code
        }
    }
}

/// Parses a step's command line, as a user would type it.
fn step_args<T: Args>(argv: Vec<String>) -> Result<T, Failure> {
    #[derive(Parser)]
    struct Step<T: Args> {
        #[command(flatten)]
        args: T,
    }
    Step::<T>::try_parse_from(std::iter::once("ftprep".to_string()).chain(argv))
        .map(|s| s.args)
        .map_err(|e| Failure::usage(format!("a pilot step's arguments: {e}")))
}

fn path(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

fn pilot(args: &PilotArgs, out: &Output) -> Result<u8, Failure> {
    // The build: the artifacts the steps use, kept with the run.
    let source = read_source(&args.spec, &super::display_name(&args.spec)).map_err(|_| {
        Failure::usage(format!("cannot read {} as UTF-8 text", args.spec.display()))
    })?;
    let compilation = compile(source);
    let Some(spec) = compilation.clean_spec().cloned() else {
        out.compilation(&compilation);
        return Err(Failure {
            message: "nothing run: fix the spec's errors first".into(),
            help: None,
            code: exit::SPEC_ERRORS,
        });
    };
    let config = super::judge::load_config(&args.spec, args.config.as_deref(), out)?;
    let name = args
        .run
        .clone()
        .unwrap_or_else(|| format!("pilot-{}-s{}", spec.domain.id.name, args.seed));
    super::judge::check_run_name(&name)?;
    let dir = config.run.dir.join(&name);
    let file_name = args
        .spec
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let artifacts = crate::emit::emit(
        &spec,
        &file_name,
        &compilation.source.text,
        &crate::emit::Templates::embedded(),
    )
    .map_err(|e| Failure::usage(e.message))?;
    for artifact in &artifacts {
        write_atomic(
            &dir.join("build").join(&artifact.path),
            artifact.contents.as_bytes(),
        )
        .map_err(|e| Failure::usage(format!("cannot write {}: {e}", artifact.path)))?;
    }
    out.stderr(&format!(
        "pilot {}: 1/4 built the artifacts into {}\n",
        name,
        dir.join("build").display()
    ));

    let common = |argv: &mut Vec<String>| {
        if let Some(config) = &args.config {
            argv.extend(["--config".into(), path(config)]);
        }
        if let Some(cost) = args.max_cost {
            argv.extend(["--max-cost".into(), cost.to_string()]);
        }
        if args.no_cache {
            argv.push("--no-cache".into());
        }
        if args.quiet {
            argv.push("--quiet".into());
        }
    };
    let judge_argv = |extra: &[String]| {
        let mut argv = vec![path(&args.spec)];
        for judge in &args.judges {
            argv.extend(["--model".into(), judge.clone()]);
        }
        common(&mut argv);
        argv.extend(extra.iter().cloned());
        argv
    };

    // 2. The judge against the calibration examples.
    out.stderr(&format!(
        "pilot {name}: 2/4 the judge against the calibration examples\n"
    ));
    let mut calibrate: JudgeArgs = step_args(judge_argv(&["--calibrate".into()]))?;
    calibrate.run_dir = Some(dir.join("judge"));
    calibrate.accept_calibration = args.accept_calibration;
    let code = super::judge::run_ref(&calibrate, out);
    if code != exit::OK {
        out.stderr(
            "pilot: stopped at the calibration check (2/4); run the same command to resume\n",
        );
        return Ok(code);
    }

    // 3. The conversations.
    out.stderr(&format!(
        "pilot {name}: 3/4 generating {} conversations\n",
        args.n
    ));
    let mut argv = vec![
        path(&args.spec),
        "--n".into(),
        args.n.to_string(),
        "--seed".into(),
        args.seed.to_string(),
        "--out".into(),
        path(&dir.join("conversations.jsonl")),
    ];
    if let Some(model) = &args.model {
        argv.extend(["--model".into(), model.clone()]);
    }
    if let Some(model) = &args.user_model {
        argv.extend(["--user-model".into(), model.clone()]);
    }
    common(&mut argv);
    let generate_args: GenerateArgs = step_args(argv)?;
    let generated = generate(&generate_args, Some(&dir.join("generate")), out)?;
    if generated.code != exit::OK && generated.written == 0 {
        out.stderr("pilot: stopped at generation (3/4); run the same command to resume\n");
        return Ok(generated.code);
    }
    if generated.unfinished > 0 {
        out.stderr(&format!(
            "pilot: going on with the {} conversations written; {} are not (run the same command later to add them)\n",
            generated.written, generated.unfinished
        ));
    }

    // 4. The judge, then the score.
    out.stderr(&format!("pilot {name}: 4/4 judging and scoring them\n"));
    let mut judge: JudgeArgs = step_args(judge_argv(&[
        "--in".into(),
        path(&generated.out_path),
        "--out".into(),
        path(&dir.join("judgments.jsonl")),
        "--no-calibrate".into(),
    ]))?;
    judge.run_dir = Some(dir.join("judge"));
    let code = super::judge::run_ref(&judge, out);
    if code != exit::OK && !dir.join("judgments.jsonl").is_file() {
        out.stderr("pilot: stopped at judging (4/4); run the same command to resume\n");
        return Ok(code);
    }
    let score: ScoreArgs = step_args(vec![
        "--scoring".into(),
        path(&dir.join("build/scoring.toml")),
        path(&dir.join("judgments.jsonl")),
        "--target".into(),
        args.target.to_string(),
        "--generations".into(),
        path(&generated.out_path),
        "--verdicts".into(),
        path(&dir.join("verdicts.jsonl")),
        "--summary".into(),
        path(&dir.join("summary.json")),
        "--report".into(),
        path(&dir.join("report.html")),
        "--sample".into(),
        "10".into(),
        "--seed".into(),
        args.seed.to_string(),
        "--sample-out".into(),
        path(&dir.join("spot-check.md")),
    ])?;
    let scored = super::score::run(score, out);
    if scored != exit::OK {
        return Ok(scored);
    }
    let summary: Value = std::fs::read_to_string(dir.join("summary.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(Value::Null);
    out.stdout(&conclusion(
        &spec,
        &args.spec,
        &compilation.source.text,
        &summary,
        args,
        &dir,
    ));
    Ok(exit::OK)
}

/// The pilot's last words: the pass rate against the target, the
/// questions failed most and what they check, and the next action.
fn conclusion(
    spec: &crate::model::Spec,
    spec_path: &Path,
    spec_text: &str,
    summary: &Value,
    args: &PilotArgs,
    dir: &Path,
) -> String {
    let mut out = String::new();
    let rate = summary.get("pass_rate").and_then(Value::as_f64);
    let records = summary.get("valid").and_then(Value::as_u64).unwrap_or(0);
    let low = summary.pointer("/interval/low").and_then(Value::as_f64);
    let high = summary.pointer("/interval/high").and_then(Value::as_f64);
    let comparison = summary
        .get("comparison")
        .and_then(Value::as_str)
        .unwrap_or("undecided");
    out.push_str(&format!("\n== Pilot {} ==\n\n", dir.display()));
    match (rate, low, high) {
        (Some(rate), Some(low), Some(high)) => out.push_str(&format!(
            "Pass rate {:.1}% of {records} (95% interval {:.1}% to {:.1}%) against the target {:.0}%: {}.\n",
            rate * 100.0,
            low * 100.0,
            high * 100.0,
            args.target * 100.0,
            match comparison {
                "above" => "above it",
                "below" => "below it",
                _ => "not yet decided, the interval holds the target",
            }
        )),
        _ => out.push_str("No conversation was scored.\n"),
    }
    // The questions answered YES least often.
    let mut questions: Vec<(&str, f64)> = summary
        .get("questions")
        .and_then(Value::as_object)
        .map(|qs| {
            qs.iter()
                .filter_map(|(id, q)| Some((id.as_str(), q.get("yes_rate")?.as_f64()?)))
                .filter(|(_, rate)| *rate < 1.0)
                .collect()
        })
        .unwrap_or_default();
    questions.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(b.0)));
    if !questions.is_empty() {
        out.push_str("\nFailed most:\n");
        let index = crate::source::LineIndex::new(spec_text);
        for (id, rate) in questions.iter().take(5) {
            let Some(q) = spec
                .rubric
                .question_index(id)
                .map(|i| &spec.rubric.questions[i])
            else {
                continue;
            };
            let line = index.line_of(q.span.start) + 1;
            out.push_str(&format!(
                "  {id}  YES {:.0}%  {}:{line}  {}\n",
                rate * 100.0,
                spec_path.display(),
                q.text.value
            ));
            for (target, _) in &q.checks {
                match target {
                    crate::model::CheckTarget::Anchor(a) => {
                        let anchor = &spec.anchors[*a];
                        out.push_str(&format!(
                            "      checks {}: {}\n",
                            anchor.reference(),
                            anchor.text.value
                        ));
                        for (f, _) in &anchor.guards {
                            out.push_str(&format!(
                                "      guards failure {}: {}\n",
                                spec.failures[*f].id.name, spec.failures[*f].title.value
                            ));
                        }
                    }
                    crate::model::CheckTarget::Failure(f) => out.push_str(&format!(
                        "      checks failure {}: {}\n",
                        spec.failures[*f].id.name, spec.failures[*f].title.value
                    )),
                }
            }
        }
    }
    out.push_str("\nNext: ");
    out.push_str(&match comparison {
        "above" => format!(
            "the pilot passes. Read {} to confirm the verdicts, then scale out: `ftprep generate {} --n 2000 --seed {}`.\n",
            dir.join("spot-check.md").display(),
            spec_path.display(),
            args.seed + 1
        ),
        "below" => format!(
            "read the failures in {} and fix the spec where they point: the guidance the generation prompts give for the questions above, or the questions' wording if the verdicts are wrong. Then run a new pilot: `ftprep pilot {} --seed {}`.\n",
            dir.join("report.html").display(),
            spec_path.display(),
            args.seed + 1
        ),
        _ => format!(
            "too few conversations to decide whether the target is met: run a larger pilot, `ftprep pilot {} --n {}`.\n",
            spec_path.display(),
            args.n * 2
        ),
    });
    out
}
