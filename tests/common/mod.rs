//! Helpers shared by the integration tests.
#![allow(dead_code)]

use ftprep::compile::{Compilation, ReadError, compile, source_from_bytes};
use ftprep::diagnostics::Diagnostics;
use ftprep::diagnostics::render::{RenderOptions, render_all};
use std::path::{Path, PathBuf};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `*.ftprep` files of a directory under the repository root, sorted.
pub fn ftprep_files(dir: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
        .unwrap_or_else(|e| panic!("cannot read {dir}: {e}"))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "ftprep"))
        .collect();
    files.sort();
    files
}

pub fn shipped_specs() -> Vec<PathBuf> {
    ftprep_files("specs")
}

pub fn fixtures(kind: &str) -> Vec<PathBuf> {
    ftprep_files(&format!("tests/fixtures/{kind}"))
}

/// The path as diagnostics show it: relative to the repository root.
pub fn relative(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

/// Compiles a file the way the CLI does, a non-UTF-8 file included.
pub fn compile_path(path: &Path) -> Compilation {
    let bytes = std::fs::read(path).unwrap();
    match source_from_bytes(&relative(path), bytes) {
        Ok(source) => compile(source),
        Err(ReadError::NotUtf8(boxed)) => {
            let (source, diagnostic) = *boxed;
            let mut diagnostics = Diagnostics::new();
            diagnostics.push(diagnostic);
            Compilation {
                syntax: ftprep::syntax::parse("").file,
                spec: None,
                source,
                diagnostics,
            }
        }
        Err(ReadError::Io(e)) => panic!("{e}"),
    }
}

/// Diagnostics as plain text at a fixed width: what snapshots hold.
pub fn render(compilation: &Compilation) -> String {
    render_all(
        &compilation.diagnostics,
        &compilation.source,
        RenderOptions::plain(),
    )
}

/// insta settings storing snapshots in `snapshots/<group>/`.
pub fn settings(group: &str) -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(root().join("snapshots").join(group));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings
}

/// A small deterministic generator (xorshift64*), so failures reproduce.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}
