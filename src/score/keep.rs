//! Joining verdicts with the generated conversations: the training set
//! (`--keep`) and the conversations of the spot-check.
//!
//! A generations line is `{"id": ..., "messages": [{"role": "user" |
//! "assistant" | "system", "content": "..."}, ...]}`; other fields are
//! ignored.

use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::io::{self, BufRead, Write};

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Message {
    pub role: String,
    pub content: String,
}

#[derive(Deserialize)]
struct GenerationLine {
    id: serde_json::Value,
    messages: Vec<Message>,
}

/// Why a generations line cannot be used.
fn check(line: &str) -> Result<(String, Vec<Message>), String> {
    let parsed: GenerationLine =
        serde_json::from_str(line).map_err(|e| format!("not a generation: {e}"))?;
    let id = match parsed.id {
        serde_json::Value::String(s) => s,
        serde_json::Value::Number(n) => n.to_string(),
        other => return Err(format!("`id` is {other}, not a string or a number")),
    };
    if parsed.messages.is_empty() {
        return Err("`messages` is empty".into());
    }
    for m in &parsed.messages {
        if !matches!(m.role.as_str(), "user" | "assistant" | "system") {
            return Err(format!(
                "role `{}` is not user, assistant or system",
                m.role
            ));
        }
    }
    Ok((id, parsed.messages))
}

/// Counts of a training-set join.
#[derive(Debug, Clone, Default, Serialize)]
pub struct KeepCounts {
    pub kept: u64,
    /// Generations whose record did not pass (or was never scored).
    pub dropped: u64,
    /// Generations lines that are not valid generations.
    pub invalid: u64,
    /// Passing records with no generation in the file.
    pub missing: u64,
    /// Generations of a passing id seen again after the first (not kept twice).
    pub duplicates: u64,
}

/// Writes, for every generation whose id passed, `{"messages": [...]}` and
/// nothing else, in the order of the generations file.
pub fn keep(
    generations: &mut dyn BufRead,
    passing: &HashSet<String>,
    out: &mut dyn Write,
    on_invalid: &mut dyn FnMut(u64, &str),
) -> io::Result<KeepCounts> {
    let mut counts = KeepCounts::default();
    let mut written: HashSet<String> = HashSet::new();
    let mut line = String::new();
    let mut number = 0u64;
    loop {
        line.clear();
        if generations.read_line(&mut line)? == 0 {
            break;
        }
        number += 1;
        if line.trim().is_empty() {
            continue;
        }
        match check(line.trim_end()) {
            Ok((id, messages)) => {
                if !passing.contains(&id) {
                    counts.dropped += 1;
                } else if written.contains(&id) {
                    counts.duplicates += 1;
                } else {
                    serde_json::to_writer(&mut *out, &serde_json::json!({ "messages": messages }))?;
                    out.write_all(b"\n")?;
                    counts.kept += 1;
                    written.insert(id);
                }
            }
            Err(reason) => {
                counts.invalid += 1;
                on_invalid(number, &reason);
            }
        }
    }
    counts.missing = passing.iter().filter(|id| !written.contains(*id)).count() as u64;
    Ok(counts)
}

/// The conversations of the given ids, for the spot-check.
pub fn conversations(
    generations: &mut dyn BufRead,
    wanted: &HashSet<String>,
) -> io::Result<HashMap<String, Vec<(String, String)>>> {
    let mut out = HashMap::new();
    let mut line = String::new();
    loop {
        line.clear();
        if generations.read_line(&mut line)? == 0 {
            break;
        }
        if let Ok((id, messages)) = check(line.trim_end())
            && wanted.contains(&id)
            && !out.contains_key(&id)
        {
            out.insert(
                id,
                messages.into_iter().map(|m| (m.role, m.content)).collect(),
            );
        }
    }
    Ok(out)
}
