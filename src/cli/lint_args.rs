//! Flags shared by `check` and `build`: lint levels and how many
//! diagnostics to report.

use crate::lint::LintOptions;
use clap::Args;

#[derive(Debug, Args, Default, Clone)]
pub struct LintArgs {
    /// Report a rule (code or name) as an error; `--deny warnings` makes
    /// every warning an error. Repeatable.
    #[arg(long, value_name = "CODE")]
    pub deny: Vec<String>,

    /// Report a rule as a warning. Repeatable.
    #[arg(long, value_name = "CODE")]
    pub warn: Vec<String>,

    /// Turn a rule off. Repeatable.
    #[arg(long, value_name = "CODE")]
    pub allow: Vec<String>,

    /// Report at most N diagnostics per file, errors first (0: all).
    #[arg(long, value_name = "N", default_value_t = crate::diagnostics::DEFAULT_MAX_DIAGNOSTICS)]
    pub max_diagnostics: usize,
}

impl LintArgs {
    pub fn options(&self) -> Result<LintOptions, String> {
        let options = LintOptions {
            deny: self.deny.clone(),
            warn: self.warn.clone(),
            allow: self.allow.clone(),
        };
        crate::lint::config::check_options(&options)?;
        Ok(options)
    }
}
