//! `ftprep score --scoring FILE JUDGMENTS...`: verdicts, a summary, a
//! report, a spot-check and a training set from judged data.
//!
//! The order of a run, each step before the next can harm anything:
//! 1. the file names: no output may be an input or another output, and at
//!    most one output goes to standard output (`-`);
//! 2. the scoring config and the templates are read;
//! 3. the judgments are scored, verdicts and rejects written as they come,
//!    every output file to a temporary file ([`super::output_set`]);
//! 4. with no record scored, the run stops and writes nothing;
//! 5. the summary, report, spot-check and training set are written, then
//!    every output file is renamed into place at once.

use super::exit;
use super::output::Output;
use super::output_set::{self, PendingFile, Role};
use crate::compile::{compile, read_source};
use crate::emit::Templates;
use crate::score::html::Report;
use crate::score::keep::{self, Pairing, Problem, Sinks};
use crate::score::report::{self, Summary, count, short_hash};
use crate::score::run::{self, Input, Options, Outputs, Rejected};
use crate::score::training::{Shaping, Slicing};
use crate::score::{Aggregate, ScoringFile};
use clap::Args;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::cell::RefCell;
use std::collections::HashSet;
use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;

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

    /// How the judgments of a record are combined: `majority` (per
    /// question, the answer most judgments gave), `unanimous` (per
    /// question, the worst) or `strictest` (the worst verdict of the
    /// judgments scored one by one). Default: the spec's `judge {
    /// aggregate ... }`, else majority.
    #[arg(long, value_name = "POLICY", value_enum)]
    pub aggregate: Option<Policy>,

    /// Exit 1 when any line is rejected or was judged with another spec.
    #[arg(long)]
    pub strict: bool,

    /// Write one verdict per record, as JSON Lines (`-`: standard output).
    #[arg(long, value_name = "FILE")]
    pub verdicts: Option<PathBuf>,

    /// Write the summary as JSON (`-`: standard output).
    #[arg(long, value_name = "FILE")]
    pub summary: Option<PathBuf>,

    /// Write a self-contained HTML report (`-`: standard output).
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,

    /// Render the report with the `report.html.j2` of this directory
    /// instead of the embedded one.
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,

    /// Write every rejected line with its reason, as JSON Lines (`-`:
    /// standard output).
    #[arg(long, value_name = "FILE")]
    pub rejects: Option<PathBuf>,

    /// Write a markdown spot-check of N records (with --seed).
    #[arg(long, value_name = "N")]
    pub sample: Option<usize>,

    /// The seed of the spot-check's sampling, and of the training set's
    /// split and slices.
    #[arg(long, default_value_t = 1, value_name = "S")]
    pub seed: u64,

    /// Where the spot-check goes (`-`: standard output).
    #[arg(long, value_name = "FILE", default_value = "spot-check.md")]
    pub sample_out: PathBuf,

    /// The generated conversations, JSON Lines with `id` and `messages`.
    #[arg(long, value_name = "FILE")]
    pub generations: Option<PathBuf>,

    /// Write the passing conversations as chat fine-tuning JSONL (needs
    /// --generations); a manifest is written beside it.
    #[arg(long, value_name = "FILE", requires = "generations")]
    pub keep: Option<PathBuf>,

    /// Keep the conversations' own messages: do not put the training
    /// system prompt first.
    #[arg(long, requires = "keep", conflicts_with = "system_prompt")]
    pub no_system_prompt: bool,

    /// The training system prompt, read from a file (a build's
    /// prompts/training-system.md, say) instead of derived from the spec;
    /// needed when --scoring is a scoring.toml.
    #[arg(long, value_name = "FILE", requires = "keep")]
    pub system_prompt: Option<PathBuf>,

    /// Cut each kept conversation into slices that end with an assistant
    /// turn: the whole conversation (or its last window within
    /// --max-tokens) and up to --slices − 1 more, at cut points drawn
    /// with --seed.
    #[arg(long, requires = "keep")]
    pub slice: bool,

    /// With --slice: the most tokens a slice may hold, estimated as a
    /// token per four bytes of text, three per message and three per
    /// conversation.
    #[arg(long, value_name = "N", requires = "slice")]
    pub max_tokens: Option<u64>,

    /// With --slice: the most slices one conversation becomes, its final
    /// one included.
    #[arg(long, value_name = "K", default_value_t = 3, requires = "slice")]
    pub slices: usize,

    /// The share of conversations set aside as a validation set, by a
    /// hash of --seed and the id (0: none).
    #[arg(long, value_name = "SHARE", default_value_t = 0.0, requires = "keep")]
    pub validation: f64,

    /// Where the validation set goes. Default: the --keep name with
    /// `.validation` before its extension (train.validation.jsonl).
    #[arg(long, value_name = "FILE", requires = "keep")]
    pub keep_validation: Option<PathBuf>,

    /// Write preference pairs, as DPO JSONL: in each scenario, the best
    /// passing conversation against the worst, when their scores differ
    /// by more than --pair-margin.
    #[arg(long, value_name = "FILE", requires = "keep")]
    pub pairs: Option<PathBuf>,

    /// Where the validation set's pairs go. Default: the --pairs name
    /// with `.validation` before its extension.
    #[arg(long, value_name = "FILE", requires = "pairs")]
    pub pairs_validation: Option<PathBuf>,

    /// With --pairs: how far apart the two scores of a pair must be (more
    /// than this).
    #[arg(long, value_name = "MARGIN", default_value = "0.1", requires = "pairs")]
    pub pair_margin: String,
}

/// `train.jsonl` → `train.validation.jsonl`; `train` → `train.validation`.
fn validation_name(path: &Path) -> PathBuf {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        let mut p = path.as_os_str().to_os_string();
        p.push(".validation");
        return PathBuf::from(p);
    };
    let renamed = match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => format!("{stem}.validation.{ext}"),
        _ => format!("{name}.validation"),
    };
    path.with_file_name(renamed)
}

/// The validation set's file, when the set is split.
fn validation_path(args: &ScoreArgs) -> Option<PathBuf> {
    let keep = args.keep.as_deref()?;
    (args.validation > 0.0).then(|| {
        args.keep_validation
            .clone()
            .unwrap_or_else(|| validation_name(keep))
    })
}

/// The validation set's pairs' file, when pairs are written and the set
/// is split.
fn pairs_validation_path(args: &ScoreArgs) -> Option<PathBuf> {
    let pairs = args.pairs.as_deref()?;
    (args.validation > 0.0).then(|| {
        args.pairs_validation
            .clone()
            .unwrap_or_else(|| validation_name(pairs))
    })
}

/// The training-set options that cannot be checked by clap alone.
fn check_training(args: &ScoreArgs) -> Result<Option<i64>, (String, String)> {
    if !(0.0..1.0).contains(&args.validation) {
        return Err((
            "--validation is a share between 0 and 1, such as 0.1".into(),
            "give the share of conversations to set aside for validation; 0 sets none aside".into(),
        ));
    }
    for (flag, given) in [
        ("--keep-validation", args.keep_validation.is_some()),
        ("--pairs-validation", args.pairs_validation.is_some()),
    ] {
        if given && args.validation == 0.0 {
            return Err((
                format!(
                    "{flag} names a validation file, but no conversation is set aside for validation"
                ),
                "add --validation SHARE, such as --validation 0.1".into(),
            ));
        }
    }
    if args.slice && args.slices == 0 {
        return Err((
            "--slices is at least 1: the final slice is always written".into(),
            "give the most slices one conversation may become, such as --slices 3".into(),
        ));
    }
    if args.max_tokens == Some(0) {
        return Err((
            "--max-tokens 0 leaves no room for any message".into(),
            "give the context length of the model to be trained, such as --max-tokens 4096".into(),
        ));
    }
    if args.pairs.is_none() {
        return Ok(None);
    }
    match crate::score::parse_decimal(args.pair_margin.trim()) {
        Some(units) if (0..=crate::score::SCALE).contains(&units) => Ok(Some(units)),
        _ => Err((
            format!(
                "--pair-margin {} is not a score difference between 0 and 1",
                args.pair_margin
            ),
            "give a decimal such as 0.1: a pair's two scores must differ by more than it".into(),
        )),
    }
}

/// `--aggregate`: the policies of [`Aggregate`], as clap lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Policy {
    Strictest,
    Majority,
    Unanimous,
}

impl From<Policy> for Aggregate {
    fn from(policy: Policy) -> Aggregate {
        match policy {
            Policy::Strictest => Aggregate::Strictest,
            Policy::Majority => Aggregate::Majority,
            Policy::Unanimous => Aggregate::Unanimous,
        }
    }
}

fn is_stdout(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// An output's destination.
enum Sink {
    Stdout(io::BufWriter<io::Stdout>),
    File(PendingFile),
}

impl Sink {
    fn create(path: &Path) -> io::Result<Sink> {
        if is_stdout(path) {
            Ok(Sink::Stdout(io::BufWriter::new(io::stdout())))
        } else {
            PendingFile::create(path).map(Sink::File)
        }
    }
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Sink::Stdout(w) => w.write(buf),
            Sink::File(f) => f.write(buf),
        }
    }
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            Sink::Stdout(w) => w.write_all(buf),
            Sink::File(f) => f.write_all(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Sink::Stdout(w) => w.flush(),
            Sink::File(f) => f.flush(),
        }
    }
}

/// A reader that hashes what it reads: the manifest's hash of each input
/// is of the bytes scored, read once.
struct Hashing<R> {
    inner: R,
    hasher: Rc<RefCell<Sha256>>,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.borrow_mut().update(&buf[..n]);
        Ok(n)
    }
}

/// A writer that hashes and counts the lines of what it writes: the
/// training set's manifest describes exactly the bytes written.
struct Counting<'a, W> {
    inner: &'a mut W,
    hasher: Sha256,
    lines: u64,
}

impl<W: Write> Write for Counting<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.lines += buf[..n].iter().filter(|&&b| b == b'\n').count() as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The manifest's path: beside the training set.
fn manifest_path(keep: &Path) -> PathBuf {
    let mut path = keep.as_os_str().to_os_string();
    path.push(".manifest.json");
    PathBuf::from(path)
}

/// Step 1: refuses outputs that are inputs, outputs that are one file,
/// and more than one output on standard output.
fn check_files(args: &ScoreArgs) -> Result<(), (String, String)> {
    let mut inputs = vec![Role {
        what: if args.scoring.extension().is_some_and(|e| e == "ftprep") {
            "the spec".into()
        } else {
            "the scoring config".into()
        },
        path: &args.scoring,
        rename: None,
    }];
    for path in args.inputs.iter().filter(|p| !is_stdout(p)) {
        inputs.push(Role {
            what: "the judgments".into(),
            path,
            rename: None,
        });
    }
    if let Some(path) = &args.generations {
        if is_stdout(path) {
            return Err((
                "--generations cannot be standard input".into(),
                "name the generations file: it is read twice, to find ids whose conversations differ".into(),
            ));
        }
        inputs.push(Role {
            what: "the generations".into(),
            path,
            rename: None,
        });
    }
    if let Some(path) = &args.system_prompt {
        inputs.push(Role {
            what: "the system prompt".into(),
            path,
            rename: None,
        });
    }
    let manifest = args.keep.as_deref().map(manifest_path);
    let validation = validation_path(args);
    let pairs_validation = pairs_validation_path(args);
    let mut outputs: Vec<(&str, &Path)> = Vec::new();
    for (what, path) in [
        ("--verdicts", args.verdicts.as_deref()),
        ("--rejects", args.rejects.as_deref()),
        ("--summary", args.summary.as_deref()),
        ("--report", args.report.as_deref()),
        (
            "--sample-out",
            args.sample.map(|_| args.sample_out.as_path()),
        ),
        ("--keep", args.keep.as_deref()),
        ("the training set's manifest", manifest.as_deref()),
        (
            if args.keep_validation.is_some() {
                "--keep-validation"
            } else {
                "the validation set"
            },
            validation.as_deref(),
        ),
        ("--pairs", args.pairs.as_deref()),
        (
            if args.pairs_validation.is_some() {
                "--pairs-validation"
            } else {
                "the validation pairs"
            },
            pairs_validation.as_deref(),
        ),
    ] {
        if let Some(path) = path {
            outputs.push((what, path));
        }
    }
    if args.keep.as_deref().is_some_and(is_stdout) {
        return Err((
            "--keep cannot write to standard output".into(),
            "name a file, such as train.jsonl: its manifest is written beside it".into(),
        ));
    }
    for (flag, path) in [
        ("--keep-validation", args.keep_validation.as_deref()),
        ("--pairs", args.pairs.as_deref()),
        ("--pairs-validation", args.pairs_validation.as_deref()),
    ] {
        if path.is_some_and(is_stdout) {
            return Err((
                format!("{flag} cannot write to standard output"),
                "name a file: the training set's manifest describes it".into(),
            ));
        }
    }
    let on_stdout: Vec<&str> = outputs
        .iter()
        .filter(|(_, p)| is_stdout(p))
        .map(|(w, _)| *w)
        .collect();
    if on_stdout.len() > 1 {
        return Err((
            format!(
                "{} and {} both write to standard output (`-`)",
                on_stdout[..on_stdout.len() - 1].join(", "),
                on_stdout[on_stdout.len() - 1]
            ),
            "only one output can go to standard output; name a file for the others".into(),
        ));
    }
    let files: Vec<Role> = outputs
        .iter()
        .filter(|(_, p)| !is_stdout(p))
        .map(|(what, path)| Role {
            what: what.to_string(),
            path,
            rename: match *what {
                "the training set's manifest" => Some(
                    "name another file for --keep: its manifest is that name with .manifest.json added"
                        .to_string(),
                ),
                "the validation set" => Some(
                    "name the validation set with --keep-validation FILE, or another file for --keep"
                        .to_string(),
                ),
                "the validation pairs" => Some(
                    "name the validation pairs with --pairs-validation FILE, or another file for --pairs"
                        .to_string(),
                ),
                _ => None,
            },
        })
        .collect();
    output_set::check_outputs(&inputs, &files).map_err(|c| (c.message, c.help))
}

/// The spec's training system prompt, and where it came from.
type SpecPrompt = (String, &'static str);

/// The scoring config and its bytes, from scoring.toml or from the spec,
/// and, from a spec, its training system prompt.
fn read_scoring(
    args: &ScoreArgs,
    out: &Output,
) -> Result<(ScoringFile, Vec<u8>, Option<SpecPrompt>), u8> {
    if args.scoring.extension().is_some_and(|e| e == "ftprep") {
        let source = read_source(&args.scoring, &super::display_name(&args.scoring))
            .map_err(|e| out.read_error(e, &args.scoring))?;
        let compilation = compile(source);
        let Some(spec) = compilation.clean_spec() else {
            out.compilation(&compilation);
            out.stderr("error: the spec has errors; fix them before scoring with it\n");
            return Err(exit::SPEC_ERRORS);
        };
        let sha = crate::emit::sha256_hex(compilation.source.text.as_bytes());
        let file = crate::emit::scoring_file(spec, &sha);
        let bytes = file.to_toml().into_bytes();
        let prompt = crate::emit::training::training_system_prompt(spec);
        let source = crate::emit::training::training_prompt_source(spec);
        return Ok((file, bytes, Some((prompt, source))));
    }
    let bytes = std::fs::read(&args.scoring).map_err(|e| {
        out.error(
            &format!("cannot read {}: {e}", args.scoring.display()),
            None,
        );
        exit::USAGE
    })?;
    let text = String::from_utf8_lossy(&bytes);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    match ScoringFile::parse(text) {
        Ok(f) => Ok((f, bytes, None)),
        Err(e) => {
            out.error(
                &format!(
                    "{} is not a valid scoring.toml: {e}",
                    args.scoring.display()
                ),
                Some("pass the scoring.toml that `ftprep build` wrote, or the spec itself"),
            );
            Err(exit::USAGE)
        }
    }
}

pub fn run(args: ScoreArgs, out: &Output) -> u8 {
    if !(0.0..=1.0).contains(&args.target) {
        out.error("--target is a rate between 0 and 1, such as 0.70", None);
        return exit::USAGE;
    }
    let pair_margin = match check_training(&args) {
        Ok(margin) => margin,
        Err((message, help)) => {
            out.error(&message, Some(&help));
            return exit::USAGE;
        }
    };
    if let Err((message, help)) = check_files(&args) {
        out.error(&message, Some(&help));
        return exit::USAGE;
    }
    // Before any thread starts, and before any temporary file exists.
    output_set::handle_signals();
    match score(&args, pair_margin, out) {
        Ok(code) | Err(code) => code,
    }
}

/// The training system prompt, and where it came from.
struct SystemPrompt {
    text: String,
    source: &'static str,
    path: Option<String>,
}

/// The training system prompt of `--keep`: from --system-prompt, else
/// the spec's; `None` with --no-system-prompt.
fn system_prompt(
    args: &ScoreArgs,
    from_spec: Option<SpecPrompt>,
    out: &Output,
) -> Result<Option<SystemPrompt>, u8> {
    if args.keep.is_none() || args.no_system_prompt {
        return Ok(None);
    }
    if let Some(path) = &args.system_prompt {
        let bytes = std::fs::read(path).map_err(|e| {
            out.error(&format!("cannot read {}: {e}", path.display()), None);
            exit::USAGE
        })?;
        let text = String::from_utf8(bytes).map_err(|_| {
            out.error(
                &format!("--system-prompt {} is not UTF-8 text", path.display()),
                None,
            );
            exit::USAGE
        })?;
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text).trim_end();
        if text.trim().is_empty() {
            out.error(
                &format!("--system-prompt {} is empty", path.display()),
                Some("write the training system prompt in it, or keep the conversations as they are with --no-system-prompt"),
            );
            return Err(exit::USAGE);
        }
        return Ok(Some(SystemPrompt {
            text: text.to_string(),
            source: "file",
            path: Some(super::display_name(path)),
        }));
    }
    match from_spec {
        Some((text, source)) => Ok(Some(SystemPrompt {
            text,
            source,
            path: None,
        })),
        None => {
            out.error(
                "--keep puts the spec's training system prompt first in every conversation, but a scoring.toml holds no spec to take it from",
                Some("pass the spec itself as --scoring, name the prompt with --system-prompt FILE (a build's prompts/training-system.md), or keep the conversations' own messages with --no-system-prompt"),
            );
            Err(exit::USAGE)
        }
    }
}

/// Everything after the checks; `Err` is an exit code after an error
/// message, with every temporary file removed as its owner drops.
fn score(args: &ScoreArgs, pair_margin: Option<i64>, out: &Output) -> Result<u8, u8> {
    let (file, scoring_bytes, spec_prompt) = read_scoring(args, out)?;
    let prompt = system_prompt(args, spec_prompt, out)?;
    let shaping = Shaping {
        system_prompt: prompt.as_ref().map(|p| p.text.clone()),
        seed: args.seed,
        validation: args.validation,
        slicing: args.slice.then_some(Slicing {
            max_tokens: args.max_tokens,
            slices: args.slices,
        }),
        pair_margin,
    };
    let rubric = file.rubric().map_err(|e| {
        out.error(&format!("{}: {e}", args.scoring.display()), None);
        exit::USAGE
    })?;
    let templates = match &args.templates {
        Some(dir) => Templates::from_dir(dir).map_err(|e| {
            out.error(&e.message, e.help.as_deref());
            exit::USAGE
        })?,
        None => Templates::embedded(),
    };
    let io_error = |what: &str, e: io::Error| {
        out.error(&format!("{what}: {e}"), None);
        exit::USAGE
    };

    // The judgments, hashed as they are read when a manifest needs it.
    let mut inputs = Vec::new();
    let mut hashers = Vec::new();
    let mut stdin_used = false;
    for path in &args.inputs {
        let hasher = Rc::new(RefCell::new(Sha256::new()));
        let reader: Box<dyn Read> = if is_stdout(path) {
            if stdin_used {
                out.error("standard input (`-`) is given twice", None);
                return Err(exit::USAGE);
            }
            stdin_used = true;
            Box::new(io::stdin())
        } else {
            match std::fs::File::open(path) {
                Ok(f) => Box::new(f),
                Err(e) => return Err(io_error(&format!("cannot read {}", path.display()), e)),
            }
        };
        let reader: Box<dyn Read> = if args.keep.is_some() {
            Box::new(Hashing {
                inner: reader,
                hasher: Rc::clone(&hasher),
            })
        } else {
            reader
        };
        hashers.push(hasher);
        inputs.push(Input {
            name: if is_stdout(path) {
                "<stdin>".into()
            } else {
                super::display_name(path)
            },
            reader: Box::new(BufReader::with_capacity(1 << 16, reader)),
        });
    }

    // What interrupted runs left where this one writes.
    let manifest = args.keep.as_deref().map(manifest_path);
    let validation = validation_path(args);
    let pairs_validation = pairs_validation_path(args);
    let file_outputs: Vec<&Path> = [
        args.verdicts.as_deref(),
        args.rejects.as_deref(),
        args.summary.as_deref(),
        args.report.as_deref(),
        args.sample.map(|_| args.sample_out.as_path()),
        args.keep.as_deref(),
        manifest.as_deref(),
        validation.as_deref(),
        args.pairs.as_deref(),
        pairs_validation.as_deref(),
    ]
    .into_iter()
    .flatten()
    .filter(|p| !is_stdout(p))
    .collect();
    let mut cleaned_dirs = HashSet::new();
    for path in &file_outputs {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let Ok(dir) = std::fs::canonicalize(dir) else {
            continue;
        };
        if !cleaned_dirs.insert(dir.clone()) {
            continue;
        }
        let cleaned = output_set::clean_leftovers(&dir);
        if cleaned.removed > 0 {
            out.stderr(&format!(
                "note: removed {} left in {} by an interrupted run\n",
                count(cleaned.removed as u64, "temporary file", "temporary files"),
                dir.display()
            ));
        }
        if !cleaned.completed.is_empty() {
            let names: Vec<String> = cleaned
                .completed
                .iter()
                .map(|p| p.display().to_string())
                .collect();
            out.stderr(&format!(
                "note: finished the commit of an interrupted run, which had written {}\n",
                names.join(", ")
            ));
        }
    }

    // Step 3: score, writing verdicts and rejects as they come.
    let create = |path: &Path| {
        Sink::create(path).map_err(|e| io_error(&format!("cannot write {}", path.display()), e))
    };
    let mut verdicts = args.verdicts.as_deref().map(create).transpose()?;
    let mut rejects = args.rejects.as_deref().map(create).transpose()?;
    let mut rejected_shown = 0usize;
    let mut reject_error = None;
    let mut on_reject = |r: &Rejected| {
        // Every rejected line is reported: all of them on standard error,
        // or the first few there and all of them in --rejects.
        if rejects.is_none() || rejected_shown < 10 {
            out.stderr(&format!("{}:{}: rejected: {}\n", r.file, r.line, r.reason));
            rejected_shown += 1;
        }
        if let Some(f) = rejects.as_mut() {
            let result = serde_json::to_writer(&mut *f, r)
                .map_err(io::Error::from)
                .and_then(|_| f.write_all(b"\n"));
            if let Err(e) = result {
                reject_error.get_or_insert(e);
            }
        }
    };
    // The command line overrides the spec, which overrides the default.
    let aggregate = args
        .aggregate
        .map(Aggregate::from)
        .or(file.aggregate)
        .unwrap_or_default();
    let options = Options {
        sample: args.sample.map(|n| (n, args.seed)),
        collect_passing: args.keep.is_some(),
        collect_scores: args.pairs.is_some(),
        grouped: args.grouped,
        spec_sha256: Some(file.spec_sha256.clone()),
        aggregate,
    };
    let outputs = run::run(
        &rubric,
        inputs,
        &options,
        verdicts.as_mut().map(|v| v as &mut dyn Write),
        &mut on_reject,
    )
    .map_err(|e| io_error("cannot read the judgments", e))?;
    if let Some(e) = reject_error {
        return Err(io_error("cannot write the rejects", e));
    }
    let stats = &outputs.stats;
    if let Some(path) = &args.rejects {
        let hidden =
            stats.rejected_lines as usize - rejected_shown.min(stats.rejected_lines as usize);
        if hidden > 0 {
            out.stderr(&format!(
                "... and {} more in {}\n",
                count(hidden as u64, "rejected line", "rejected lines"),
                if is_stdout(path) {
                    "the rejects on standard output".to_string()
                } else {
                    path.display().to_string()
                }
            ));
        }
    }
    for m in &outputs.spec_mismatches {
        out.stderr(&format!(
            "warning: {}: {} judged with another spec (spec_sha256 {}, not {} of `{}`)\n  help: score them with the scoring.toml built from the spec they were judged with, or judge them again with this spec's evaluation prompt\n",
            m.file,
            count(m.lines, "line was", "lines were"),
            short_hash(&m.spec_sha256),
            short_hash(&file.spec_sha256),
            file.spec
        ));
    }

    // Step 4: nothing scored, nothing written.
    if stats.records == 0 {
        no_records(&outputs, out);
        return Err(exit::SPEC_ERRORS);
    }

    // Step 5.
    let summary = Summary::new(
        &rubric,
        stats,
        args.target,
        aggregate,
        &outputs.spec_mismatches,
    );
    let to_stdout = [&args.verdicts, &args.rejects, &args.summary, &args.report]
        .into_iter()
        .flatten()
        .any(|p| is_stdout(p))
        || (args.sample.is_some() && is_stdout(&args.sample_out));
    let terminal = report::terminal(&summary);
    // The table goes where it does not mix with an output.
    if to_stdout {
        out.stderr(&terminal);
    } else {
        out.stdout(&terminal);
    }
    let mut finished: Vec<Sink> = Vec::new();
    finished.extend(verdicts);
    finished.extend(rejects);
    if let Some(path) = &args.summary {
        let mut sink = create(path)?;
        let mut text = serde_json::to_string_pretty(&summary).unwrap_or_default();
        text.push('\n');
        sink.write_all(text.as_bytes())
            .map_err(|e| io_error(&format!("cannot write {}", path.display()), e))?;
        finished.push(sink);
    }
    if let Some(path) = &args.report {
        let title = format!("Scoring report: {}", file.spec);
        let html = templates
            .render_report(&Report::new(&summary, &file, &title))
            .map_err(|e| {
                out.error(&e.message, e.help.as_deref());
                exit::USAGE
            })?;
        let mut sink = create(path)?;
        sink.write_all(html.as_bytes())
            .map_err(|e| io_error(&format!("cannot write {}", path.display()), e))?;
        finished.push(sink);
    }

    // The generations: read once for the spot-check's conversations and
    // the lines to keep, and once more to write them.
    let scanned = match &args.generations {
        Some(path) if args.keep.is_some() || args.sample.is_some() => {
            let wanted: HashSet<String> = outputs
                .samples
                .iter()
                .flatten()
                .map(|s| s.id.clone())
                .collect();
            let reader = std::fs::File::open(path)
                .map_err(|e| io_error(&format!("cannot read {}", path.display()), e))?;
            let mut on_problem = |line: u64, problem: Problem| {
                let text = match problem {
                    Problem::Invalid(why) => format!("skipped: {why}"),
                    Problem::Conflict { id, first_line } => format!(
                        "`{id}` has other messages than on line {first_line}: neither is kept, since which one was judged is not known"
                    ),
                };
                out.stderr(&format!("{}:{line}: {text}\n", path.display()));
            };
            let pairing = pair_margin.map(|margin| Pairing {
                scores: &outputs.scores,
                system_prompt: shaping.system_prompt.as_deref(),
                margin,
            });
            let scanned = keep::scan(
                &mut BufReader::with_capacity(1 << 16, reader),
                &outputs.passing,
                &wanted,
                pairing.as_ref(),
                &mut on_problem,
            )
            .map_err(|e| io_error(&format!("cannot read {}", path.display()), e))?;
            Some(scanned)
        }
        _ => None,
    };
    if let Some(n) = args.sample {
        let text = report::spot_check(
            &rubric,
            aggregate,
            &outputs.samples,
            n,
            scanned.as_ref().map(|s| &s.conversations),
        );
        let mut sink = create(&args.sample_out)?;
        sink.write_all(text.as_bytes())
            .map_err(|e| io_error(&format!("cannot write {}", args.sample_out.display()), e))?;
        finished.push(sink);
    }
    if let (Some(keep_path), Some(generations), Some(scanned), Some(manifest_path)) =
        (&args.keep, &args.generations, &scanned, &manifest)
    {
        let reader = std::fs::File::open(generations)
            .map_err(|e| io_error(&format!("cannot read {}", generations.display()), e))?;
        fn counting(sink: &mut Sink) -> Counting<'_, Sink> {
            Counting {
                inner: sink,
                hasher: Sha256::new(),
                lines: 0,
            }
        }
        let mut train_sink = create(keep_path)?;
        let mut validation_sink = validation.as_deref().map(create).transpose()?;
        let mut pairs_sink = args.pairs.as_deref().map(create).transpose()?;
        let mut pairs_validation_sink = pairs_validation.as_deref().map(create).transpose()?;
        let mut train = counting(&mut train_sink);
        let mut validation_out = validation_sink.as_mut().map(counting);
        let mut pairs_out = pairs_sink.as_mut().map(counting);
        let mut pairs_validation_out = pairs_validation_sink.as_mut().map(counting);
        let mut too_long_shown = 0usize;
        let mut on_too_long = |line: u64, id: &str, tokens: u64| {
            // The manifest lists them all.
            too_long_shown += 1;
            if too_long_shown > 10 {
                return;
            }
            out.stderr(&format!(
                "{}:{line}: skipped: `{id}` passed, but its last exchange is about {tokens} tokens with the system prompt, over --max-tokens {}, so no slice can keep its final turn\n",
                generations.display(),
                args.max_tokens.unwrap_or(0)
            ));
        };
        let written = keep::write(
            &mut BufReader::with_capacity(1 << 16, reader),
            scanned,
            &shaping,
            Sinks {
                train: &mut train,
                validation: validation_out.as_mut().map(|w| w as &mut dyn Write),
                pairs: pairs_out.as_mut().map(|w| w as &mut dyn Write),
                pairs_validation: pairs_validation_out.as_mut().map(|w| w as &mut dyn Write),
            },
            &mut on_too_long,
        )
        .map_err(|e| io_error(&format!("cannot join {}", generations.display()), e))?;
        let described = |path: &Path, c: Counting<'_, Sink>| {
            json!({
                "path": super::display_name(path),
                "sha256": hex(&c.hasher.finalize()),
                "lines": c.lines,
            })
        };
        let training_set = described(keep_path, train);
        let validation_set = validation
            .as_deref()
            .zip(validation_out)
            .map(|(p, c)| described(p, c));
        let pairs_set = args
            .pairs
            .as_deref()
            .zip(pairs_out)
            .map(|(p, c)| described(p, c));
        let pairs_validation_set = pairs_validation
            .as_deref()
            .zip(pairs_validation_out)
            .map(|(p, c)| described(p, c));
        finished.push(train_sink);
        finished.extend(validation_sink);
        finished.extend(pairs_sink);
        finished.extend(pairs_validation_sink);
        let c = &scanned.counts;
        let too_long = written.too_long.len() as u64;
        let kept = c.kept - too_long;
        let mut manifest = json!({
            "ftprep_version": env!("CARGO_PKG_VERSION"),
            "spec": file.spec,
            "spec_sha256": file.spec_sha256,
            "scoring": super::display_name(&args.scoring),
            "scoring_sha256": crate::emit::sha256_hex(&scoring_bytes),
            "judgments": args.inputs.iter().zip(&hashers).map(|(p, h)| json!({
                "path": if is_stdout(p) { "<stdin>".to_string() } else { super::display_name(p) },
                "sha256": hex(&h.borrow().clone().finalize()),
            })).collect::<Vec<_>>(),
            "generations": {
                "path": super::display_name(generations),
                "sha256": scanned.sha256,
                "lines": scanned.lines,
            },
            "training_set": training_set,
            "judges": stats.judges.keys().collect::<Vec<_>>(),
            "records": stats.records,
            "passed": stats.passed,
            "kept": kept,
            "dropped": c.dropped,
            "invalid_generations": c.invalid,
            "invalid_by_kind": c.invalid_by_kind,
            "passing_without_generation": c.missing,
            "duplicate_generations": c.duplicates,
            "conflicting_generations": c.conflicting.len(),
            "conflicting_ids": c.conflicting,
            "too_long": too_long,
            "too_long_ids": written.too_long,
            "system_prompt": match &prompt {
                Some(p) => json!({
                    "source": p.source,
                    "path": p.path,
                    "sha256": crate::emit::sha256_hex(p.text.as_bytes()),
                    "text": p.text,
                    "leading_system_message": "replaced",
                    "replaced": written.system_replaced,
                    "added": written.system_added,
                }),
                None => json!({
                    "source": "none",
                    "note": "--no-system-prompt: the conversations' own messages, as they are",
                }),
            },
            "split": {
                "validation": args.validation,
                "seed": args.seed,
                "by": "conversation id: SHA-256 of \"ftprep-split\", a zero byte, the seed (8 bytes, little-endian) and the id; its first 8 bytes (big-endian) below validation × 2^64 go to validation",
                "train_conversations": written.train_conversations,
                "validation_conversations": written.validation_conversations,
            },
            "slicing": match &shaping.slicing {
                Some(s) => json!({
                    "enabled": true,
                    "seed": args.seed,
                    "max_tokens": s.max_tokens,
                    "slices_per_conversation": s.slices,
                    "token_estimate": "a token per 4 bytes of UTF-8 text (rounded up), 3 per message, 3 per conversation",
                    "conversations": written.train_conversations + written.validation_conversations,
                    "sliced": written.sliced,
                    "lines": written.train_lines + written.validation_lines,
                    "cut_points_over_limit": written.slices_over_limit,
                }),
                None => json!({"enabled": false}),
            },
        });
        if let Some(object) = manifest.as_object_mut() {
            if let Some(v) = validation_set {
                object.insert("validation_set".into(), v);
            }
            if let (Some(set), Some(counts), Some(margin)) =
                (pairs_set, &scanned.pair_counts, pair_margin)
            {
                let mut pairs = json!({
                    "format": "DPO JSONL, TRL's conversational preference form: prompt, chosen, rejected (message lists), with ids, scores and verdicts",
                    "margin": crate::score::format_decimal(margin).parse::<f64>().unwrap_or(0.0),
                    "group_by": "the line's `group`, else its `scenario`, else its plan's `cell` and `persona`; then the opening (the messages up to the first user message)",
                    "set": set,
                    "counts": counts,
                    "train": written.pairs_train,
                    "validation": written.pairs_validation,
                    "without_shared_prompt": written.pairs_without_prompt,
                    "over_max_tokens": written.pairs_over_max_tokens,
                });
                if let (Some(v), Some(o)) = (pairs_validation_set, pairs.as_object_mut()) {
                    o.insert("validation_set".into(), v);
                }
                object.insert("pairs".into(), pairs);
            }
        }
        let mut sink = create(manifest_path)?;
        let mut text = serde_json::to_string_pretty(&manifest).unwrap_or_default();
        text.push('\n');
        sink.write_all(text.as_bytes())
            .map_err(|e| io_error("cannot write the manifest", e))?;
        finished.push(sink);
        let mut parts = vec![format!("{} without a usable generation", c.missing)];
        if !c.conflicting.is_empty() {
            parts.push(format!(
                "{} with conflicting generations",
                c.conflicting.len()
            ));
        }
        if too_long > 10 {
            out.stderr(&format!(
                "... and {} more too long to slice, listed in the manifest's too_long_ids\n",
                too_long - 10
            ));
        }
        if too_long > 0 {
            parts.push(format!("{too_long} too long to slice"));
        }
        out.stderr(&format!(
            "kept {} of {}{} ({})\n",
            kept,
            count(stats.passed, "passing record", "passing records"),
            if validation.is_some() {
                String::new()
            } else {
                format!(" in {}", keep_path.display())
            },
            parts.join(", ")
        ));
        if let Some(v) = &validation {
            out.stderr(&format!(
                "  {} in {}, {} in {}\n",
                count(written.train_conversations, "conversation", "conversations"),
                keep_path.display(),
                written.validation_conversations,
                v.display()
            ));
        }
        if shaping.slicing.is_some() {
            out.stderr(&format!(
                "  sliced into {} ({} cut into more than one)\n",
                count(
                    written.train_lines + written.validation_lines,
                    "line",
                    "lines"
                ),
                count(written.sliced, "conversation", "conversations"),
            ));
        }
        if let (Some(path), Some(counts)) = (&args.pairs, &scanned.pair_counts) {
            out.stderr(&format!(
                "  {} in {} from {} of {}\n",
                count(
                    written.pairs_train + written.pairs_validation,
                    "preference pair",
                    "preference pairs"
                ),
                path.display(),
                count(counts.sets, "set", "sets"),
                count(counts.scenarios, "scenario", "scenarios"),
            ));
        }
    }

    // Every output complete: flush standard output, replace the files.
    let mut files = Vec::new();
    for sink in finished {
        match sink {
            Sink::Stdout(mut w) => w
                .flush()
                .map_err(|e| io_error("cannot write to standard output", e))?,
            Sink::File(f) => files.push(f),
        }
    }
    let written: Vec<String> = files
        .iter()
        .map(|f| f.path().display().to_string())
        .collect();
    if let Err(e) = output_set::commit(files) {
        let what = match &e.path {
            Some(p) => format!("cannot write {}", p.display()),
            None => "cannot prepare the outputs".to_string(),
        };
        out.error(&format!("{what}: {}", e.error), None);
        if !e.replaced.is_empty() {
            let names: Vec<String> = e.replaced.iter().map(|p| p.display().to_string()).collect();
            out.stderr(&format!(
                "  note: {} had already been replaced; the other outputs were not\n",
                names.join(", ")
            ));
        }
        return Err(exit::USAGE);
    }
    if !written.is_empty() {
        out.stderr(&format!("wrote {}\n", and_list(&written)));
    }

    if args.strict {
        let mismatched: u64 = outputs.spec_mismatches.iter().map(|m| m.lines).sum();
        let mut problems = Vec::new();
        if stats.rejected_lines > 0 {
            problems.push(format!(
                "{} rejected",
                count(stats.rejected_lines, "line", "lines")
            ));
        }
        if mismatched > 0 {
            problems.push(format!(
                "{} judged with another spec",
                count(mismatched, "line", "lines")
            ));
        }
        if !problems.is_empty() {
            out.stderr(&format!("error: {} (--strict)\n", problems.join(", ")));
            return Ok(exit::SPEC_ERRORS);
        }
    }
    Ok(exit::OK)
}

/// `a`, `a and b`, `a, b and c`.
fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// Says why no record was scored, and what to do.
fn no_records(outputs: &Outputs, out: &Output) {
    let stats = &outputs.stats;
    let nothing = "no output file was written, so earlier ones are unchanged";
    if stats.rejected_lines == 0 {
        out.error(
            &if stats.lines == 0 {
                "no record was scored: the judgments are empty".to_string()
            } else {
                format!(
                    "no record was scored: the judgments hold only blank lines ({})",
                    stats.lines
                )
            },
            Some(&format!(
                "pass the JSON Lines files the judge wrote, one judgment per line; {nothing}"
            )),
        );
        return;
    }
    let kinds: Vec<String> = stats
        .rejected_by_kind
        .iter()
        .map(|(k, n)| format!("{k} {n}"))
        .collect();
    let mismatched: u64 = outputs.spec_mismatches.iter().map(|m| m.lines).sum();
    let wrong_questions: u64 = ["unknown_question", "missing_answer"]
        .iter()
        .filter_map(|k| stats.rejected_by_kind.get(k))
        .sum();
    let help = if mismatched > 0 {
        format!(
            "{} judged with another spec (see the warning above): score them with the scoring.toml of the spec they were judged with; {nothing}",
            count(mismatched, "line was", "lines were")
        )
    } else if wrong_questions * 2 > stats.rejected_lines {
        format!(
            "most lines answer questions this rubric does not have, or leave out ones it does: were they judged with another spec? Score them with the scoring.toml of the spec they were judged with; {nothing}"
        )
    } else {
        format!("the reasons of the rejected lines are above; {nothing}")
    };
    out.error(
        &format!(
            "no record was scored: {} rejected ({})",
            if stats.rejected_lines == 1 {
                "the only judgment line was".to_string()
            } else {
                format!("all {} judgment lines were", stats.rejected_lines)
            },
            kinds.join(", ")
        ),
        Some(&help),
    );
}
