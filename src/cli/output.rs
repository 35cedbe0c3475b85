//! Writing to the terminal and to disk: diagnostics on stderr, and files
//! written atomically (a temporary file in the target directory, then a
//! rename) so an interrupted build never leaves a half-written artifact.

use super::ColorChoice;
use crate::compile::{Compilation, ReadError};
use crate::diagnostics::render::{RenderOptions, render_all, summary_line};
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::source::SourceFile;
use std::io::{IsTerminal, Write};
use std::path::Path;

pub struct Output {
    color: bool,
}

impl Output {
    pub fn new(choice: ColorChoice) -> Self {
        let color = match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
            }
        };
        Output { color }
    }

    pub fn render_options(&self) -> RenderOptions {
        RenderOptions {
            color: self.color,
            width: 100,
        }
    }

    /// Prints the diagnostics of a file and a summary line.
    pub fn diagnostics(&self, diagnostics: &Diagnostics, file: &SourceFile) {
        let mut text = render_all(diagnostics, file, self.render_options());
        if let Some(summary) = summary_line(diagnostics, &file.name) {
            let prefix = if diagnostics.has_errors() {
                "error"
            } else {
                "warning"
            };
            text.push_str(&format!("{prefix}: {summary}\n"));
        }
        self.stderr(&text);
    }

    pub fn compilation(&self, compilation: &Compilation) {
        self.diagnostics(&compilation.diagnostics, &compilation.source);
    }

    /// An error that is not about a spec's text (I/O, usage).
    pub fn error(&self, message: &str, help: Option<&str>) {
        let mut text = format!("error: {message}\n");
        if let Some(help) = help {
            text.push_str(&format!("  help: {help}\n"));
        }
        self.stderr(&text);
    }

    pub fn stderr(&self, text: &str) {
        let mut stderr = std::io::stderr().lock();
        let _ = stderr.write_all(text.as_bytes());
        let _ = stderr.flush();
    }

    pub fn stdout(&self, text: &str) {
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(text.as_bytes());
        let _ = stdout.flush();
    }

    /// Reports a spec that could not be read. Returns the exit code.
    pub fn read_error(&self, error: ReadError, path: &Path) -> u8 {
        match error {
            ReadError::Io(e) => {
                self.error(&format!("cannot read {}: {e}", path.display()), None);
                super::exit::USAGE
            }
            ReadError::NotUtf8(boxed) => {
                let (file, diagnostic) = *boxed;
                let mut diagnostics = Diagnostics::new();
                diagnostics.push(diagnostic);
                self.diagnostics(&diagnostics, &file);
                super::exit::SPEC_ERRORS
            }
        }
    }

    /// Reports a single diagnostic that has no spans.
    pub fn plain_diagnostic(&self, diagnostic: &Diagnostic) {
        self.error(&diagnostic.message, diagnostic.help.as_deref());
    }
}

/// Writes `contents` to `path` atomically: a temporary file in the same
/// directory, flushed, then renamed over the target.
pub fn write_atomic(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir)?;
    let mut builder = tempfile::Builder::new();
    builder.prefix(".ftprep-").suffix(".tmp");
    // A temporary file is private (0600); give the result the permissions
    // of the file it replaces, or those of an ordinary new file.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let permissions = match std::fs::metadata(path) {
            Ok(existing) => existing.permissions(),
            Err(_) => std::fs::Permissions::from_mode(0o644),
        };
        builder.permissions(permissions);
    }
    let mut temp = builder.tempfile_in(dir)?;
    temp.write_all(contents)?;
    temp.as_file().sync_all()?;
    temp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// A file written in full before it replaces anything: writes go to a
/// temporary file beside the target, and `commit` renames it into place.
/// Dropped without `commit` (an error part-way), the target is untouched.
pub struct AtomicFile {
    path: std::path::PathBuf,
    writer: std::io::BufWriter<tempfile::NamedTempFile>,
}

impl AtomicFile {
    pub fn create(path: &Path) -> std::io::Result<AtomicFile> {
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        std::fs::create_dir_all(dir)?;
        let mut builder = tempfile::Builder::new();
        builder.prefix(".ftprep-").suffix(".tmp");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let permissions = match std::fs::metadata(path) {
                Ok(existing) => existing.permissions(),
                Err(_) => std::fs::Permissions::from_mode(0o644),
            };
            builder.permissions(permissions);
        }
        let temp = builder.tempfile_in(dir)?;
        Ok(AtomicFile {
            path: path.to_path_buf(),
            writer: std::io::BufWriter::with_capacity(1 << 16, temp),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn commit(self) -> std::io::Result<()> {
        let temp = self.writer.into_inner().map_err(|e| e.into_error())?;
        temp.as_file().sync_all()?;
        temp.persist(&self.path).map_err(|e| e.error)?;
        Ok(())
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.writer.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.writer.flush()
    }
}
