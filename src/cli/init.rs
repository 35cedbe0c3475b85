//! `ftprep init DOMAIN`: a starter spec that compiles cleanly, to edit.

use super::exit;
use super::output::Output;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The domain id: letters, digits and `_`, starting with a letter.
    #[arg(value_name = "DOMAIN")]
    pub domain: String,

    /// Where to write the spec [default: DOMAIN.ftprep].
    #[arg(long, short, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

const STARTER: &str = include_str!("starter.ftprep");

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
    let path = args
        .out
        .unwrap_or_else(|| PathBuf::from(format!("{}.ftprep", args.domain)));
    if path.exists() {
        out.error(
            &format!("{} already exists; not overwriting it", path.display()),
            Some("choose another file with --out, or move the existing one"),
        );
        return exit::USAGE;
    }
    let text = STARTER.replace("{{domain}}", &args.domain);
    // `create_new` refuses to replace a file that appeared since the check.
    let result = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .and_then(|mut file| std::io::Write::write_all(&mut file, text.as_bytes()));
    if let Err(e) = result {
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
