//! `ftprep rules [--format json]` and `ftprep explain CODE`.

use super::exit;
use super::output::Output;
use crate::lint::find_rule;
use crate::lint::rules::RULES;
use clap::{Args, ValueEnum};

#[derive(Debug, Args)]
pub struct RulesArgs {
    #[arg(long, value_enum, default_value_t = RulesFormat::Human)]
    pub format: RulesFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RulesFormat {
    Human,
    Json,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// A rule's code (`FT203`) or name (`compound-question`).
    #[arg(value_name = "CODE")]
    pub code: String,
}

pub fn list(args: RulesArgs, out: &Output) -> u8 {
    match args.format {
        RulesFormat::Json => {
            let rules: Vec<&crate::lint::RuleMeta> = RULES.iter().map(|r| r.meta()).collect();
            let mut text = serde_json::to_string_pretty(&rules).unwrap_or_default();
            text.push('\n');
            out.stdout(&text);
        }
        RulesFormat::Human => {
            let mut text = String::new();
            let mut group = "";
            for rule in RULES.iter().map(|r| r.meta()) {
                if rule.group.as_str() != group {
                    group = rule.group.as_str();
                    text.push_str(&format!("\n{group}\n"));
                }
                text.push_str(&format!(
                    "  {:<6} {:<24} {:<8} {}\n",
                    rule.code,
                    rule.name,
                    rule.level.as_str(),
                    rule.summary
                ));
            }
            text.push_str("\n`ftprep explain CODE` explains a rule, with examples.\n");
            out.stdout(text.trim_start());
        }
    }
    exit::OK
}

pub fn explain(args: ExplainArgs, out: &Output) -> u8 {
    match find_rule(&args.code) {
        Some(rule) => {
            out.stdout(&rule.explain());
            exit::OK
        }
        None => {
            let names: Vec<String> = RULES
                .iter()
                .flat_map(|r| [r.meta().code.to_string(), r.meta().name.to_string()])
                .collect();
            let hint = crate::model::nearest(&args.code, &names)
                .map(|n| format!("did you mean `{n}`? "))
                .unwrap_or_default();
            out.error(
                &format!("no lint rule is called `{}`", args.code),
                Some(&format!("{hint}`ftprep rules` lists every rule")),
            );
            exit::USAGE
        }
    }
}
