//! `ftprep build SPEC... [--out DIR] [--check] [--templates DIR]`.

use super::lint_args::LintArgs;
use super::output::{Output, write_atomic};
use super::{display_name, exit};
use crate::compile::{self, read_source};
use crate::diagnostics::plural;
use crate::emit::{self, Artifact, Templates};
use clap::Args;
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub struct BuildArgs {
    /// The specs to compile (files, or directories to search for
    /// `.ftprep` files).
    #[arg(required = true, value_name = "SPEC")]
    pub specs: Vec<PathBuf>,

    /// Where to write the artifacts [default: out/<domain id>]; with
    /// several specs, each goes to DIR/<domain id>.
    #[arg(long, short, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// Write nothing; compare the artifacts on disk with what the spec
    /// gives, print a diff of the stale ones and exit 1 if any.
    #[arg(long)]
    pub check: bool,

    /// Override embedded templates with the `*.j2` files of DIR.
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,

    #[command(flatten)]
    pub lint: LintArgs,
}

pub fn run(args: BuildArgs, out: &Output) -> u8 {
    let options = match args.lint.options() {
        Ok(o) => o,
        Err(message) => {
            out.error(&message, None);
            return exit::USAGE;
        }
    };
    let specs = match super::spec_files(&args.specs) {
        Ok(specs) => specs,
        Err(message) => {
            out.error(
                &message,
                Some("pass spec files or directories holding them"),
            );
            return exit::USAGE;
        }
    };
    // A broken `--templates` directory is reported after the first spec's
    // own diagnostics: a broken spec is the first thing to fix.
    let templates = args.templates.as_deref().map(Templates::from_dir);
    let several = args.specs.len() > 1 || args.specs.iter().any(|p| p.is_dir());
    let mut code = exit::OK;
    // Where each domain's artifacts went, so that two specs of one domain
    // cannot overwrite each other's.
    let mut written: Vec<(String, PathBuf)> = Vec::new();
    for path in &specs {
        let spec_code = build_one(
            &args,
            path,
            several,
            &templates,
            &options,
            &mut written,
            out,
        );
        code = code.max(spec_code);
        if spec_code == exit::USAGE {
            break;
        }
    }
    code
}

/// Builds one spec. Returns its exit code.
fn build_one(
    args: &BuildArgs,
    path: &Path,
    several: bool,
    templates: &Option<Result<Templates, emit::EmitError>>,
    options: &crate::lint::LintOptions,
    written: &mut Vec<(String, PathBuf)>,
    out: &Output,
) -> u8 {
    let source = match read_source(path, &display_name(path)) {
        Ok(source) => source,
        Err(error) => return out.read_error(error, path),
    };
    let mut compilation = compile::compile_with(source, options);
    compilation.diagnostics.limit(args.lint.max_diagnostics);
    out.compilation(&compilation);
    let Some(spec) = compilation.clean_spec() else {
        out.stderr(&format!(
            "error: no artifacts written for {}: fix the errors above first\n",
            path.display()
        ));
        return exit::SPEC_ERRORS;
    };
    let templates = match templates {
        Some(Ok(t)) => Ok(t.clone()),
        Some(Err(e)) => Err(e.clone()),
        None => Ok(Templates::embedded()),
    };
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let artifacts =
        match templates.and_then(|t| emit::emit(spec, &file_name, &compilation.source.text, &t)) {
            Ok(a) => a,
            Err(e) => {
                out.error(&e.message, e.help.as_deref());
                return exit::USAGE;
            }
        };
    let id = &spec.domain.id.name;
    let dir = match (&args.out, several) {
        (Some(dir), false) => dir.clone(),
        (Some(dir), true) => dir.join(id),
        (None, _) => Path::new("out").join(id),
    };
    if let Some((_, first)) = written.iter().find(|(other, _)| other == id) {
        out.error(
            &format!(
                "{} and {} both declare `domain {id}`: their artifacts would overwrite each other in {}",
                first.display(),
                path.display(),
                dir.display()
            ),
            Some("give each spec its own domain id, or build them one at a time with `--out`"),
        );
        return exit::USAGE;
    }
    written.push((id.clone(), path.to_path_buf()));
    let leftovers = leftover_judge_prompts(&dir, &artifacts);
    let code = if args.check {
        check(&dir, &artifacts, &leftovers, out)
    } else {
        write(&dir, &artifacts, &leftovers, out)
    };
    // The process exits soon. Freeing the syntax tree, the model and the
    // artifacts one allocation at a time would only delay that (measured:
    // a tenth of a millisecond), so they are left to the operating system,
    // as clang's driver leaves its own.
    std::mem::forget(compilation);
    std::mem::forget(artifacts);
    code
}

/// Per-question judge prompts on disk that this build does not produce
/// (for example after switching to `calls single`). They are never
/// deleted: ftprep only touches the files it writes.
fn leftover_judge_prompts(dir: &Path, artifacts: &[Artifact]) -> Vec<PathBuf> {
    let judge_dir = dir.join("prompts").join("judge");
    let Ok(entries) = std::fs::read_dir(&judge_dir) else {
        return Vec::new();
    };
    let mut leftovers: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .filter(|p| {
            let relative = format!(
                "prompts/judge/{}",
                p.file_name()
                    .map(|n| n.to_string_lossy())
                    .unwrap_or_default()
            );
            !artifacts.iter().any(|a| a.path == relative)
        })
        .collect();
    leftovers.sort();
    leftovers
}

fn target(dir: &Path, artifact: &Artifact) -> PathBuf {
    let mut path = dir.to_path_buf();
    for part in artifact.path.split('/') {
        path.push(part);
    }
    path
}

fn write(dir: &Path, artifacts: &[Artifact], leftovers: &[PathBuf], out: &Output) -> u8 {
    let mut changed = 0;
    let mut buffer = [0u8; 16 * 1024];
    for artifact in artifacts {
        let path = target(dir, artifact);
        if holds(&path, artifact.contents.as_bytes(), &mut buffer) {
            continue;
        }
        if let Err(e) = write_atomic(&path, artifact.contents.as_bytes()) {
            out.error(&format!("cannot write {}: {e}", path.display()), None);
            return exit::USAGE;
        }
        changed += 1;
    }
    for path in leftovers {
        out.stderr(&format!(
            "warning: {} was not produced by this build (left in place; delete it if it is stale)\n",
            path.display()
        ));
    }
    let unchanged = artifacts.len() - changed;
    let detail = if unchanged == 0 {
        String::new()
    } else {
        format!(", {unchanged} unchanged")
    };
    out.stderr(&format!(
        "wrote {} to {} ({changed} changed{detail})\n",
        plural(artifacts.len(), "file"),
        dir.display()
    ));
    exit::OK
}

/// Whether the file at `path` holds exactly `expected`. It is read in
/// pieces through one buffer: at the end of most builds nothing changed,
/// and reading every artifact whole would grow the heap by all of them.
fn holds(path: &Path, expected: &[u8], buffer: &mut [u8]) -> bool {
    use std::io::{ErrorKind, Read};
    let Ok(mut file) = std::fs::File::open(path) else {
        return false;
    };
    if file.metadata().map(|m| m.len()).ok() != Some(expected.len() as u64) {
        return false;
    }
    let mut at = 0;
    loop {
        match file.read(buffer) {
            Ok(0) => return at == expected.len(),
            Ok(n) => {
                if expected.get(at..at + n) != Some(&buffer[..n]) {
                    return false;
                }
                at += n;
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
}

fn check(dir: &Path, artifacts: &[Artifact], leftovers: &[PathBuf], out: &Output) -> u8 {
    let mut stale = 0;
    for artifact in artifacts {
        let path = target(dir, artifact);
        let shown = path.display().to_string();
        match std::fs::read(&path) {
            Ok(bytes) if bytes == artifact.contents.as_bytes() => {}
            Ok(bytes) => {
                stale += 1;
                let old = String::from_utf8_lossy(&bytes);
                let diff = similar::TextDiff::from_lines(old.as_ref(), artifact.contents.as_str());
                out.stdout(
                    &diff
                        .unified_diff()
                        .context_radius(3)
                        .header(
                            &format!("{shown} (on disk)"),
                            &format!("{shown} (from the spec)"),
                        )
                        .to_string(),
                );
            }
            Err(_) => {
                stale += 1;
                out.stdout(&format!("missing: {shown}\n"));
            }
        }
    }
    for path in leftovers {
        out.stderr(&format!(
            "warning: {} is not produced by this spec (ftprep never deletes files)\n",
            path.display()
        ));
    }
    if stale > 0 {
        out.stderr(&format!(
            "error: {} in {} out of date with the spec: run `ftprep build` to update\n",
            plural(stale, "artifact"),
            dir.display()
        ));
        exit::SPEC_ERRORS
    } else {
        out.stderr(&format!(
            "{} in {} up to date\n",
            plural(artifacts.len(), "artifact"),
            dir.display()
        ));
        exit::OK
    }
}

#[cfg(test)]
mod tests {
    use super::holds;

    #[test]
    fn holds_compares_the_whole_file_through_a_small_buffer() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("artifact.md");
        let contents: Vec<u8> = (0..40_000u32).map(|i| b'a' + (i % 26) as u8).collect();
        std::fs::write(&path, &contents).expect("written");
        let mut buffer = [0u8; 4096];
        assert!(holds(&path, &contents, &mut buffer));
        let mut last_byte_differs = contents.clone();
        *last_byte_differs.last_mut().expect("not empty") = b'!';
        assert!(!holds(&path, &last_byte_differs, &mut buffer));
        assert!(!holds(&path, &contents[..contents.len() - 1], &mut buffer));
        assert!(!holds(
            &path,
            &[contents.as_slice(), b"x"].concat(),
            &mut buffer
        ));
        assert!(!holds(&dir.path().join("missing.md"), b"", &mut buffer));
    }
}
