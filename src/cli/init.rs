//! `ftprep init DOMAIN`: a starter spec that compiles cleanly, to edit;
//! `ftprep init --config`: a commented starter `ftprep.toml`.
//!
//! The starter (`starter.ftprep`) is neutral: its title, role and audience
//! name the domain, and every text specific to a domain is a placeholder
//! in angle brackets. It passes every lint rule, so the first warning a
//! user sees comes from their own edit. The configuration starter
//! (`ftprep.toml`) names an OpenAI and an Anthropic model and fills every
//! role; it loads without a diagnostic. Neither replaces an existing file.

use super::exit;
use super::output::Output;
use crate::llm::config::FILE_NAME;
use clap::Args;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The domain id: letters, digits and `_`, starting with a letter.
    #[arg(value_name = "DOMAIN", required_unless_present = "config")]
    pub domain: Option<String>,

    /// Where to write the spec (`-`: standard output) [default:
    /// DOMAIN.ftprep]. With `--config` alone, where to write ftprep.toml.
    #[arg(long, short, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Write a commented starter ftprep.toml (models and roles for the
    /// LLM commands): beside the spec, or alone without DOMAIN.
    #[arg(long)]
    pub config: bool,
}

/// The commented starter `ftprep.toml`.
pub const CONFIG_STARTER: &str = include_str!("ftprep.toml");

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
    let Some(domain) = &args.domain else {
        // `--config` alone: only ftprep.toml.
        let path = args.out.unwrap_or_else(|| PathBuf::from(FILE_NAME));
        if path.as_os_str() == "-" {
            out.stdout(CONFIG_STARTER);
            return exit::OK;
        }
        return match write_all(&[(&path, CONFIG_STARTER)], out) {
            Ok(()) => {
                out.stderr(&format!(
                    "wrote {}: edit its models and roles; keys are read from OPENAI_API_KEY and ANTHROPIC_API_KEY\n",
                    path.display()
                ));
                exit::OK
            }
            Err(code) => code,
        };
    };
    let valid = domain
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic())
        && domain
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        let help = if args.config && domain.ends_with(".toml") {
            "`--config` takes no file: `ftprep init --config --out FILE` writes the configuration to FILE"
        } else {
            "use letters, digits and `_`, starting with a letter, such as `customer_support`"
        };
        out.error(&format!("`{domain}` is not a valid domain id"), Some(help));
        return exit::USAGE;
    }
    let text = starter(domain);
    let path = args
        .out
        .unwrap_or_else(|| PathBuf::from(format!("{domain}.ftprep")));
    if path.as_os_str() == "-" {
        if args.config {
            out.error(
                "`--out -` prints one file, and `--config` with a domain asks for two",
                Some("print the spec with `ftprep init DOMAIN --out -` and the configuration with `ftprep init --config --out -`"),
            );
            return exit::USAGE;
        }
        out.stdout(&text);
        return exit::OK;
    }
    let config_path = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.join(FILE_NAME),
        _ => PathBuf::from(FILE_NAME),
    };
    let mut files: Vec<(&Path, &str)> = vec![(&path, &text)];
    if args.config {
        files.push((&config_path, CONFIG_STARTER));
    }
    if let Err(code) = write_all(&files, out) {
        return code;
    }
    let config_note = if args.config {
        format!(" (models and roles in {})", config_path.display())
    } else {
        String::new()
    };
    out.stderr(&format!(
        "wrote {}{config_note}: edit it, then run `ftprep build {}`\n",
        path.display(),
        path.display()
    ));
    exit::OK
}

/// Writes each new file, or none when one of them exists already.
fn write_all(files: &[(&Path, &str)], out: &Output) -> Result<(), u8> {
    for (i, (path, _)) in files.iter().enumerate() {
        if path.exists() {
            let (also, help) = match (files.len(), i) {
                (1, _) => (
                    "",
                    "choose another file with --out, or move the existing one",
                ),
                (_, 0) => (
                    "; nothing was written",
                    "choose another file with --out, or move the existing one",
                ),
                _ => (
                    "; nothing was written",
                    "leave out --config to keep it and write only the spec, or move it",
                ),
            };
            out.error(
                &format!(
                    "{} already exists; not overwriting it{also}",
                    path.display()
                ),
                Some(help),
            );
            return Err(exit::USAGE);
        }
    }
    for (path, text) in files {
        if let Err(e) = write_new(path, text) {
            out.error(&format!("cannot write {}: {e}", path.display()), None);
            return Err(exit::USAGE);
        }
    }
    Ok(())
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
