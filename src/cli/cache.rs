//! `ftprep cache`: the response cache shared by every run.
//!
//! `ftprep cache stats` says where it is and what it holds. `ftprep cache
//! why SPEC --in FILE` takes the calls a judge run of those conversations
//! would make, finds which the cache would answer, and for each that it
//! would not, the entry nearest to it and the parts of the key in which
//! they differ (see `crate::llm::engine::key` for what a key holds): after
//! an edit of the spec, "412 calls miss: the system prompt differs" says
//! the misses are the edit, not a cache that was thrown away.

use super::exit;
use super::judge::{Failure, Input, Prepared, prepare};
use super::output::Output;
use crate::flows::judge::{jobs, units};
use crate::llm::config::ProjectConfig;
use crate::llm::engine::store::{Cache, differing_parts};
use clap::{Args, Subcommand};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub struct CacheArgs {
    #[command(subcommand)]
    pub command: CacheCommand,
}

#[derive(Debug, Subcommand)]
pub enum CacheCommand {
    /// Where the cache is and how much it holds.
    Stats {
        /// The project configuration [default: the ftprep.toml of the
        /// current directory or one above it].
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// Which calls of a judge run the cache would answer, and why the
    /// others miss.
    Why {
        /// The spec whose rubric judges.
        #[arg(value_name = "SPEC")]
        spec: PathBuf,
        /// The conversations, as `ftprep judge --in` takes them.
        #[arg(long = "in", value_name = "FILE")]
        input: PathBuf,
        /// The judges, as `ftprep judge --model` takes them.
        #[arg(long = "model", value_name = "MODEL")]
        models: Vec<String>,
        #[arg(long, default_value_t = 1, value_name = "K")]
        samples: u32,
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
}

pub fn run(args: CacheArgs, out: &Output) -> u8 {
    let result = match args.command {
        CacheCommand::Stats { config } => stats(config.as_deref(), out),
        CacheCommand::Why {
            spec,
            input,
            models,
            samples,
            config,
        } => why(&spec, &input, &models, samples, config.as_deref(), out),
    };
    match result {
        Ok(code) => code,
        Err(Failure {
            message,
            help,
            code,
        }) => {
            out.error(&message, help.as_deref());
            code
        }
    }
}

fn cache_path(config: &ProjectConfig) -> Result<PathBuf, Failure> {
    match &config.run.cache {
        crate::llm::config::Cache::File(path) => Ok(path.clone()),
        crate::llm::config::Cache::Off => Err(Failure {
            message: "the cache is off in the configuration".into(),
            help: Some("set `cache` under `[run]` in ftprep.toml to a file to use one".into()),
            code: exit::USAGE,
        }),
    }
}

fn stats(config: Option<&Path>, out: &Output) -> Result<u8, Failure> {
    let config = ProjectConfig::discover(Path::new("-"), config).map_err(|d| Failure {
        message: format!(
            "the configuration has errors:\n{}",
            d.render(out.render_options())
        ),
        help: None,
        code: exit::USAGE,
    })?;
    let path = cache_path(&config)?;
    if !path.exists() {
        out.stdout(&format!(
            "cache: {} (empty: no run has written it yet)\n",
            path.display()
        ));
        return Ok(exit::OK);
    }
    let cache = Cache::open(&path).map_err(Failure::usage)?;
    let bytes: u64 = ["", "-wal", "-shm"]
        .iter()
        .filter_map(|suffix| std::fs::metadata(format!("{}{suffix}", path.display())).ok())
        .map(|m| m.len())
        .sum();
    out.stdout(&format!(
        "cache: {}\n  {} answers, {:.1} MB on disk\n",
        path.display(),
        cache.len(),
        bytes as f64 / 1e6
    ));
    Ok(exit::OK)
}

fn why(
    spec: &Path,
    input: &Path,
    models: &[String],
    samples: u32,
    config: Option<&Path>,
    out: &Output,
) -> Result<u8, Failure> {
    let Prepared {
        judge_spec,
        config,
        engine,
        ..
    } = prepare(spec, config, models, false, out)?;
    let path = cache_path(&config)?;
    let input = Input::open(input, out)?;
    let cache = if path.exists() {
        Some(Cache::open(&path).map_err(Failure::usage)?)
    } else {
        None
    };
    let (mut calls, mut hits) = (0usize, 0usize);
    // The sets of differing parts, with how many calls have each and the
    // first call's label.
    let mut reasons: BTreeMap<Vec<&'static str>, (usize, String)> = BTreeMap::new();
    let mut nothing_near = (0usize, String::new());
    let judges = engine.targets().len();
    for job in jobs(
        &judge_spec,
        &engine,
        units(input.conversations()?, judges, samples.max(1)),
    ) {
        calls += 1;
        let key = engine.key(&job);
        let Some(cache) = &cache else {
            nothing_near.0 += 1;
            continue;
        };
        if cache.get(&key.key).is_some() {
            hits += 1;
            continue;
        }
        match cache.nearest(&key.parts) {
            Some((nearest, _)) => {
                let entry = reasons
                    .entry(differing_parts(&key.parts, &nearest))
                    .or_insert_with(|| (0, job.tag.clone()));
                entry.0 += 1;
            }
            None => {
                if nothing_near.0 == 0 {
                    nothing_near.1 = job.tag.clone();
                }
                nothing_near.0 += 1;
            }
        }
    }
    let mut text = format!(
        "cache: {}\n{} of {} calls would be answered from the cache\n",
        path.display(),
        hits,
        calls
    );
    let mut reasons: Vec<_> = reasons.into_iter().collect();
    reasons.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.0.cmp(&b.0)));
    for (parts, (n, example)) in reasons {
        text.push_str(&format!(
            "  {n} miss: the nearest entry differs in the {} (for example {example})\n",
            crate::lint::rules::and_list(&parts.iter().map(|p| p.to_string()).collect::<Vec<_>>())
        ));
    }
    if nothing_near.0 > 0 {
        text.push_str(&format!(
            "  {} miss: no entry has the same conversation or system prompt{}\n",
            nothing_near.0,
            if nothing_near.1.is_empty() {
                String::new()
            } else {
                format!(" (for example {})", nothing_near.1)
            }
        ));
    }
    out.stdout(&text);
    Ok(exit::OK)
}
