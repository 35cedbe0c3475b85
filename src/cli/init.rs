//! `ftprep init DOMAIN`: a starter spec that compiles cleanly, to edit.
//!
//! The starter (`starter.ftprep`) is neutral: its title, role and audience
//! name the domain, and every text specific to a domain is a placeholder
//! in angle brackets. It passes every lint rule, so the first warning a
//! user sees comes from their own edit.

use super::exit;
use super::output::Output;
use clap::Args;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The domain id: letters, digits and `_`, starting with a letter.
    #[arg(value_name = "DOMAIN")]
    pub domain: String,

    /// Where to write the spec (`-`: standard output) [default:
    /// DOMAIN.ftprep].
    #[arg(long, short, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

const STARTER: &str = include_str!("starter.ftprep");

/// The starter for `domain`: `{{domain}}` is the id, `{{title}}` the id in
/// words with a capital (`Tenant intake`), `{{words}}` in words.
pub fn starter(domain: &str) -> String {
    let words = domain.replace('_', " ").trim().to_string();
    let mut chars = words.chars();
    let title = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    };
    STARTER
        .replace("{{domain}}", domain)
        .replace("{{title}}", &title)
        .replace("{{words}}", &words)
}

pub fn run(args: InitArgs, out: &Output) -> u8 {
    let valid = args
        .domain
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic())
        && args
            .domain
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        out.error(
            &format!("`{}` is not a valid domain id", args.domain),
            Some("use letters, digits and `_`, starting with a letter, such as `customer_support`"),
        );
        return exit::USAGE;
    }
    let text = starter(&args.domain);
    let path = args
        .out
        .unwrap_or_else(|| PathBuf::from(format!("{}.ftprep", args.domain)));
    if path.as_os_str() == "-" {
        out.stdout(&text);
        return exit::OK;
    }
    if path.exists() {
        out.error(
            &format!("{} already exists; not overwriting it", path.display()),
            Some("choose another file with --out, or move the existing one"),
        );
        return exit::USAGE;
    }
    if let Err(e) = write_new(&path, &text) {
        out.error(&format!("cannot write {}: {e}", path.display()), None);
        return exit::USAGE;
    }
    out.stderr(&format!(
        "wrote {}: edit it, then run `ftprep build {}`\n",
        path.display(),
        path.display()
    ));
    exit::OK
}

/// Writes a new file whole or not at all: a temporary file beside it,
/// then a link that fails if the file appeared since the check.
fn write_new(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut builder = tempfile::Builder::new();
    let prefix = format!(".ftprep-{}-", std::process::id());
    builder.prefix(&prefix).suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o644));
    }
    let mut temp = builder.tempfile_in(dir)?;
    temp.write_all(text.as_bytes())?;
    temp.as_file().sync_all()?;
    temp.persist_noclobber(path).map_err(|e| e.error)?;
    Ok(())
}
