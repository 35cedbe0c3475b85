//! `ftprep score --scoring FILE JUDGMENTS...`: verdicts, a summary, a
//! report, a spot-check and a training set from judged data.

use super::exit;
use super::output::{AtomicFile, Output};
use crate::compile::{compile, read_source};
use crate::score::ScoringFile;
use crate::score::keep::{self, KeepCounts};
use crate::score::report::{self, Summary};
use crate::score::run::{self, Input, Options, Rejected};
use clap::Args;
use serde_json::json;
use std::collections::HashSet;
use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub struct ScoreArgs {
    /// The scoring config: a `scoring.toml` from `ftprep build`, or the
    /// spec itself.
    #[arg(long, value_name = "FILE")]
    pub scoring: PathBuf,

    /// Judgment files, JSON Lines; `-` reads standard input.
    #[arg(required = true, value_name = "JUDGMENTS")]
    pub inputs: Vec<PathBuf>,

    /// The pass rate to compare against.
    #[arg(long, default_value_t = 0.70, value_name = "RATE")]
    pub target: f64,

    /// The judgments of each id are on adjacent lines (as one judging run
    /// writes them): score in constant memory. Without it, judgments of an
    /// id may be anywhere (one file per judge, say) and each id is held in
    /// memory until the end.
    #[arg(long)]
    pub grouped: bool,

    /// Exit 1 when any line is rejected.
    #[arg(long)]
    pub strict: bool,

    /// Write one verdict per record, as JSON Lines.
    #[arg(long, value_name = "FILE")]
    pub verdicts: Option<PathBuf>,

    /// Write the summary as JSON.
    #[arg(long, value_name = "FILE")]
    pub summary: Option<PathBuf>,

    /// Write a self-contained HTML report.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,

    /// Write every rejected line with its reason, as JSON Lines.
    #[arg(long, value_name = "FILE")]
    pub rejects: Option<PathBuf>,

    /// Write a markdown spot-check of N records (with --seed).
    #[arg(long, value_name = "N")]
    pub sample: Option<usize>,

    /// The seed of the spot-check's sampling.
    #[arg(long, default_value_t = 1, value_name = "S")]
    pub seed: u64,

    /// Where the spot-check goes.
    #[arg(long, value_name = "FILE", default_value = "spot-check.md")]
    pub sample_out: PathBuf,

    /// The generated conversations, JSON Lines with `id` and `messages`.
    #[arg(long, value_name = "FILE")]
    pub generations: Option<PathBuf>,

    /// Write the passing conversations as chat fine-tuning JSONL (needs
    /// --generations); a manifest is written beside it.
    #[arg(long, value_name = "FILE", requires = "generations")]
    pub keep: Option<PathBuf>,
}

fn sha256_file(path: &Path) -> Option<String> {
    std::fs::read(path)
        .ok()
        .map(|b| crate::emit::sha256_hex(&b))
}

pub fn run(args: ScoreArgs, out: &Output) -> u8 {
    if !(0.0..=1.0).contains(&args.target) {
        out.error("--target is a rate between 0 and 1, such as 0.70", None);
        return exit::USAGE;
    }
    // The scoring config, from scoring.toml or from the spec.
    let is_spec = args.scoring.extension().is_some_and(|e| e == "ftprep");
    let (file, scoring_bytes) = if is_spec {
        let source = match read_source(&args.scoring, &super::display_name(&args.scoring)) {
            Ok(s) => s,
            Err(e) => return out.read_error(e, &args.scoring),
        };
        let compilation = compile(source);
        let Some(spec) = compilation.clean_spec() else {
            out.compilation(&compilation);
            out.stderr("error: the spec has errors; fix them before scoring with it\n");
            return exit::SPEC_ERRORS;
        };
        let sha = crate::emit::sha256_hex(compilation.source.text.as_bytes());
        let file = crate::emit::scoring_file(spec, &sha);
        let bytes = file.to_toml().into_bytes();
        (file, bytes)
    } else {
        let bytes = match std::fs::read(&args.scoring) {
            Ok(b) => b,
            Err(e) => {
                out.error(
                    &format!("cannot read {}: {e}", args.scoring.display()),
                    None,
                );
                return exit::USAGE;
            }
        };
        let text = String::from_utf8_lossy(&bytes);
        match ScoringFile::parse(&text) {
            Ok(f) => (f, bytes),
            Err(e) => {
                out.error(
                    &format!(
                        "{} is not a valid scoring.toml: {e}",
                        args.scoring.display()
                    ),
                    Some("pass the scoring.toml that `ftprep build` wrote, or the spec itself"),
                );
                return exit::USAGE;
            }
        }
    };
    let rubric = match file.rubric() {
        Ok(r) => r,
        Err(e) => {
            out.error(&format!("{}: {e}", args.scoring.display()), None);
            return exit::USAGE;
        }
    };

    let mut inputs = Vec::new();
    let mut stdin_used = false;
    for path in &args.inputs {
        if path.as_os_str() == "-" {
            if stdin_used {
                out.error("standard input (`-`) is given twice", None);
                return exit::USAGE;
            }
            stdin_used = true;
            inputs.push(Input {
                name: "<stdin>".into(),
                reader: Box::new(BufReader::with_capacity(1 << 16, std::io::stdin())),
            });
        } else {
            match std::fs::File::open(path) {
                Ok(f) => inputs.push(Input {
                    name: super::display_name(path),
                    reader: Box::new(BufReader::with_capacity(1 << 16, f)),
                }),
                Err(e) => {
                    out.error(&format!("cannot read {}: {e}", path.display()), None);
                    return exit::USAGE;
                }
            }
        }
    }

    let io_error = |e: std::io::Error, what: &str| {
        out.error(&format!("{what}: {e}"), None);
        exit::USAGE
    };

    let mut verdicts = match args.verdicts.as_deref().map(AtomicFile::create).transpose() {
        Ok(v) => v,
        Err(e) => return io_error(e, "cannot write the verdicts"),
    };
    let mut rejects_file = match args.rejects.as_deref().map(AtomicFile::create).transpose() {
        Ok(v) => v,
        Err(e) => return io_error(e, "cannot write the rejects"),
    };
    let mut rejected_shown = 0usize;
    let mut reject_error = None;
    let mut on_reject = |r: &Rejected| {
        // Every rejected line is reported: all of them on standard error,
        // or the first few there and all of them in --rejects.
        if rejects_file.is_none() || rejected_shown < 10 {
            out.stderr(&format!("{}:{}: rejected: {}\n", r.file, r.line, r.reason));
            rejected_shown += 1;
        }
        if let Some(f) = rejects_file.as_mut() {
            let result = serde_json::to_writer(&mut *f, r)
                .map_err(std::io::Error::from)
                .and_then(|_| f.write_all(b"\n"));
            if let Err(e) = result {
                reject_error.get_or_insert(e);
            }
        }
    };
    let options = Options {
        sample: args.sample.map(|n| (n, args.seed)),
        collect_passing: args.keep.is_some(),
        grouped: args.grouped,
    };
    let outputs = match run::run(
        &rubric,
        inputs,
        &options,
        verdicts.as_mut().map(|v| v as &mut dyn Write),
        &mut on_reject,
    ) {
        Ok(o) => o,
        Err(e) => return io_error(e, "cannot read the judgments"),
    };
    if let Some(e) = reject_error {
        return io_error(e, "cannot write the rejects");
    }
    if let Some(f) = &rejects_file {
        let hidden = outputs.stats.rejected_lines as usize
            - rejected_shown.min(outputs.stats.rejected_lines as usize);
        if hidden > 0 {
            out.stderr(&format!(
                "... and {hidden} more rejected lines in {}\n",
                f.path().display()
            ));
        }
    }
    for (file, path) in [(verdicts, &args.verdicts), (rejects_file, &args.rejects)] {
        if let (Some(f), Some(path)) = (file, path)
            && let Err(e) = f.commit()
        {
            return io_error(e, &format!("cannot write {}", path.display()));
        }
    }

    let summary = Summary::new(&rubric, &outputs.stats, args.target);
    out.stdout(&report::terminal(&summary));
    if let Some(path) = &args.summary {
        let mut text = serde_json::to_string_pretty(&summary).unwrap_or_default();
        text.push('\n');
        if let Err(e) = super::output::write_atomic(path, text.as_bytes()) {
            return io_error(e, &format!("cannot write {}", path.display()));
        }
    }
    if let Some(path) = &args.report {
        let title = format!("Scoring report: {}", file.spec);
        if let Err(e) = super::output::write_atomic(path, report::html(&summary, &title).as_bytes())
        {
            return io_error(e, &format!("cannot write {}", path.display()));
        }
    }
    if let Some(n) = args.sample {
        let wanted: HashSet<String> = outputs
            .samples
            .iter()
            .flatten()
            .map(|s| s.id.clone())
            .collect();
        let conversations = match &args.generations {
            Some(path) => match std::fs::File::open(path) {
                Ok(f) => match keep::conversations(&mut BufReader::new(f), &wanted) {
                    Ok(c) => c,
                    Err(e) => return io_error(e, &format!("cannot read {}", path.display())),
                },
                Err(e) => return io_error(e, &format!("cannot read {}", path.display())),
            },
            None => Default::default(),
        };
        let text = report::spot_check(&rubric, &outputs.samples, n, &conversations);
        if let Err(e) = super::output::write_atomic(&args.sample_out, text.as_bytes()) {
            return io_error(e, &format!("cannot write {}", args.sample_out.display()));
        }
    }
    if let (Some(keep_path), Some(generations)) = (&args.keep, &args.generations) {
        let reader = match std::fs::File::open(generations) {
            Ok(f) => f,
            Err(e) => return io_error(e, &format!("cannot read {}", generations.display())),
        };
        let mut file_out = match AtomicFile::create(keep_path) {
            Ok(f) => f,
            Err(e) => return io_error(e, &format!("cannot write {}", keep_path.display())),
        };
        let mut on_invalid = |line: u64, reason: &str| {
            out.stderr(&format!(
                "{}:{line}: skipped: {reason}\n",
                generations.display()
            ));
        };
        let counts: KeepCounts = match keep::keep(
            &mut BufReader::new(reader),
            &outputs.passing,
            &mut file_out,
            &mut on_invalid,
        ) {
            Ok(c) => c,
            Err(e) => return io_error(e, &format!("cannot join {}", generations.display())),
        };
        if let Err(e) = file_out.commit() {
            return io_error(e, &format!("cannot write {}", keep_path.display()));
        }
        let manifest = json!({
            "ftprep_version": env!("CARGO_PKG_VERSION"),
            "spec": file.spec,
            "spec_sha256": file.spec_sha256,
            "scoring": super::display_name(&args.scoring),
            "scoring_sha256": crate::emit::sha256_hex(&scoring_bytes),
            "judgments": args.inputs.iter().map(|p| json!({
                "path": super::display_name(p),
                "sha256": if p.as_os_str() == "-" { None } else { sha256_file(p) },
            })).collect::<Vec<_>>(),
            "generations": { "path": super::display_name(generations), "sha256": sha256_file(generations) },
            "judges": outputs.stats.judges.keys().collect::<Vec<_>>(),
            "records": outputs.stats.records,
            "passed": outputs.stats.passed,
            "kept": counts.kept,
            "dropped": counts.dropped,
            "invalid_generations": counts.invalid,
            "passing_without_generation": counts.missing,
            "duplicate_generations": counts.duplicates,
        });
        let mut manifest_path = keep_path.clone().into_os_string();
        manifest_path.push(".manifest.json");
        let mut text = serde_json::to_string_pretty(&manifest).unwrap_or_default();
        text.push('\n');
        if let Err(e) = super::output::write_atomic(Path::new(&manifest_path), text.as_bytes()) {
            return io_error(e, "cannot write the manifest");
        }
        out.stderr(&format!(
            "kept {} conversations in {} ({} dropped, {} passing without a generation)\n",
            counts.kept,
            keep_path.display(),
            counts.dropped,
            counts.missing
        ));
    }
    if args.strict && outputs.stats.rejected_lines > 0 {
        out.stderr(&format!(
            "error: {} lines rejected (--strict)\n",
            outputs.stats.rejected_lines
        ));
        return exit::SPEC_ERRORS;
    }
    exit::OK
}
