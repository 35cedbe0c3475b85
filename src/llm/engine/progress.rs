//! What a run shows while it goes: on a terminal, a progress bar with the
//! calls done and to do, their rate, the time left, tokens, cost so far,
//! cache hits, retries and errors (indicatif); elsewhere (CI logs, pipes)
//! the same figures as one plain line every ten seconds. Both go to
//! standard error.

use crate::llm::chat::Usage;
use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The figures of a run so far.
#[derive(Debug, Clone, Default)]
pub struct Counters {
    /// Calls of the plan.
    pub total: u64,
    /// Finished: sent, or taken from the journal or the cache.
    pub done: u64,
    pub from_journal: u64,
    pub from_cache: u64,
    pub sent: u64,
    pub retries: u64,
    /// Calls finished as ERROR: no usable answer after every attempt.
    pub unusable: u64,
    pub usage: Usage,
    /// Known when every model that was called has prices.
    pub cost: Option<f64>,
}

/// Shows [`Counters`] as they change.
pub struct Progress {
    label: String,
    started: Instant,
    bar: Option<indicatif::ProgressBar>,
    plain: Mutex<Instant>,
    quiet: bool,
}

/// How often a plain progress line is printed.
const PLAIN_EVERY: Duration = Duration::from_secs(10);

impl Progress {
    /// `quiet` shows nothing at all: the caller reports.
    pub fn new(label: &str, total: u64, quiet: bool) -> Progress {
        let terminal = std::io::stderr().is_terminal() && !quiet;
        let bar = terminal.then(|| {
            let bar = indicatif::ProgressBar::new(total);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{prefix} [{bar:30}] {pos}/{len} {per_sec} eta {eta} {msg}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            bar.set_prefix(label.to_string());
            bar.enable_steady_tick(Duration::from_millis(250));
            bar
        });
        Progress {
            label: label.to_string(),
            started: Instant::now(),
            bar,
            plain: Mutex::new(Instant::now()),
            quiet,
        }
    }

    /// Shows the counters: on the bar at once, as a plain line at most
    /// every ten seconds.
    pub fn update(&self, counters: &Counters) {
        if let Some(bar) = &self.bar {
            bar.set_length(counters.total);
            bar.set_position(counters.done);
            bar.set_message(details(counters));
            return;
        }
        if self.quiet {
            return;
        }
        let mut last = self.plain.lock().unwrap_or_else(|e| e.into_inner());
        if last.elapsed() >= PLAIN_EVERY {
            *last = Instant::now();
            self.line(&self.status(counters));
        }
    }

    /// Prints a message above the bar (a retry the user should know of).
    pub fn note(&self, message: &str) {
        match &self.bar {
            Some(bar) => bar.println(message),
            None if !self.quiet => self.line(message),
            None => {}
        }
    }

    /// Ends the bar and prints the summary line.
    pub fn finish(&self, counters: &Counters) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        if self.quiet {
            return;
        }
        self.line(&format!(
            "{} in {}",
            self.status(counters),
            human_duration(self.started.elapsed())
        ));
    }

    fn status(&self, c: &Counters) -> String {
        let elapsed = self.started.elapsed().as_secs_f64().max(1e-3);
        let rate = c.sent as f64 / elapsed;
        let left = c.total.saturating_sub(c.done);
        let eta = if rate > 0.0 && left > 0 {
            format!(
                ", about {} left",
                human_duration(Duration::from_secs_f64(left as f64 / rate))
            )
        } else {
            String::new()
        };
        format!(
            "{}: {}/{} calls ({:.1}/s{eta}), {}",
            self.label,
            c.done,
            c.total,
            rate,
            details(c)
        )
    }

    fn line(&self, text: &str) {
        let mut stderr = std::io::stderr().lock();
        let _ = writeln!(stderr, "{text}");
    }
}

fn details(c: &Counters) -> String {
    let cost = match c.cost {
        Some(cost) => format!("${cost:.4}"),
        None => "cost unknown".to_string(),
    };
    format!(
        "{} in / {} out tokens, {cost}, {} cached, {} resumed, {} retries, {} errors",
        c.usage.input_tokens,
        c.usage.output_tokens,
        c.from_cache,
        c.from_journal,
        c.retries,
        c.unusable
    )
}

/// `2m14s`, `850ms`.
pub fn human_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let s = d.as_secs();
    match s {
        0..=59 => format!("{:.1}s", d.as_secs_f64()),
        60..=3599 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(human_duration(Duration::from_millis(850)), "850ms");
        assert_eq!(human_duration(Duration::from_millis(3400)), "3.4s");
        assert_eq!(human_duration(Duration::from_secs(134)), "2m14s");
        assert_eq!(human_duration(Duration::from_secs(7300)), "2h01m");
    }
}
