//! `ftprep compare RUN_A RUN_B`: two scored runs side by side, as text or
//! JSON on standard output. A run is the verdicts file `ftprep score
//! --verdicts` wrote, or a directory holding one as `verdicts.jsonl`. No
//! model is called and nothing is written: the comparison is computed in
//! [`crate::score::compare`].

use super::exit;
use super::output::Output;
use crate::score::compare::{self, Run};
use clap::{Args, ValueEnum};
use std::io::BufReader;
use std::path::{Path, PathBuf};

/// The name of a run directory's verdicts file.
pub const VERDICTS_FILE: &str = "verdicts.jsonl";

/// Lines of a run reported as skipped before the rest are counted.
const SHOWN_SKIPPED: usize = 10;

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The run to compare against (a base model, say): a verdicts file
    /// from `ftprep score --verdicts`, or a directory holding one as
    /// verdicts.jsonl.
    #[arg(value_name = "RUN_A")]
    pub run_a: PathBuf,

    /// The run compared (a fine-tuned model, say); every difference is
    /// B − A.
    #[arg(value_name = "RUN_B")]
    pub run_b: PathBuf,

    /// How the comparison is printed.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// The verdicts file a RUN argument names.
fn verdicts_path(run: &Path) -> PathBuf {
    if run.is_dir() {
        run.join(VERDICTS_FILE)
    } else {
        run.to_path_buf()
    }
}

fn read(label: &str, run: &Path, out: &Output) -> Result<Run, u8> {
    let path = verdicts_path(run);
    let name = super::display_name(&path);
    let file = std::fs::File::open(&path).map_err(|e| {
        let help = if run.is_dir() {
            format!(
                "a run directory holds the verdicts as {VERDICTS_FILE} (`ftprep score --verdicts {}`); or name the verdicts file itself",
                super::display_name(&path)
            )
        } else {
            "name the verdicts file `ftprep score --verdicts FILE` wrote, or a directory holding it as verdicts.jsonl".to_string()
        };
        out.error(&format!("{label}: cannot read {name}: {e}"), Some(&help));
        exit::USAGE
    })?;
    let run =
        compare::read_run(&name, &mut BufReader::with_capacity(1 << 16, file)).map_err(|e| {
            out.error(&format!("{label}: cannot read {name}: {e}"), None);
            exit::USAGE
        })?;
    for s in run.skipped.iter().take(SHOWN_SKIPPED) {
        out.stderr(&format!("{name}:{}: skipped: {}\n", s.line, s.reason));
    }
    if run.skipped.len() > SHOWN_SKIPPED {
        out.stderr(&format!(
            "{name}: ... and {} more lines skipped\n",
            run.skipped.len() - SHOWN_SKIPPED
        ));
    }
    if run.records.is_empty() {
        out.error(
            &format!(
                "{label}: {name} holds no verdict{}",
                if run.skipped.is_empty() {
                    String::new()
                } else {
                    format!(" ({} skipped)", run.skipped.len())
                }
            ),
            Some("compare reads the verdict lines `ftprep score --verdicts FILE` writes, one record per line"),
        );
        return Err(exit::USAGE);
    }
    Ok(run)
}

pub fn run(args: CompareArgs, out: &Output) -> u8 {
    let a = match read("A", &args.run_a, out) {
        Ok(run) => run,
        Err(code) => return code,
    };
    let b = match read("B", &args.run_b, out) {
        Ok(run) => run,
        Err(code) => return code,
    };
    let mut comparison = compare::compare(&a, &b);
    let (pa, pb) = (verdicts_path(&args.run_a), verdicts_path(&args.run_b));
    if let (Ok(x), Ok(y)) = (std::fs::canonicalize(&pa), std::fs::canonicalize(&pb))
        && x == y
    {
        comparison.warnings.insert(
            0,
            "A and B are the same file: every difference is zero".into(),
        );
    }
    out.stdout(&match args.format {
        Format::Text => compare::render_text(&comparison),
        Format::Json => compare::render_json(&comparison),
    });
    exit::OK
}
