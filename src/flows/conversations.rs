//! Reading conversations to judge: the generations format `ftprep score`
//! reads (`{"id": ..., "messages": [{"role", "content"}, ...]}` per line),
//! with every line that cannot be judged reported by number and kind, not
//! skipped in silence.
//!
//! A file is read twice rather than held: [`scan`] checks every line and
//! keeps only which lines are good (and the ids, to find one used twice);
//! [`stream`] reads the good lines again, one at a time, as the judge needs
//! them, so a run's memory does not grow with its input.

use crate::score::keep::{Invalid, Message, check_turns, parse_generation};
use std::collections::HashMap;
use std::io::BufRead;

/// One conversation to judge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversation {
    pub id: String,
    pub messages: Vec<Message>,
    /// Its line in the input, from 1.
    pub line: usize,
}

/// A line that cannot be judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    pub line: usize,
    pub why: String,
}

/// The conversations of a file, and its lines that are not one.
#[derive(Debug, Default)]
pub struct Read {
    pub conversations: Vec<Conversation>,
    pub bad: Vec<BadLine>,
}

/// What a first reading of a file found: how many conversations, which
/// lines hold them, and the lines that cannot be judged.
#[derive(Debug, Default)]
pub struct Scan {
    pub good: usize,
    /// For each line, from the first: whether it is a conversation.
    lines: Vec<bool>,
    pub bad: Vec<BadLine>,
}

/// Reads every line of `input` and keeps which are conversations. An id
/// seen twice is a bad line (the second): the judgments of both would be
/// one record, and only one was meant.
pub fn scan(input: impl BufRead) -> std::io::Result<Scan> {
    let mut out = Scan::default();
    let mut seen: HashMap<String, usize> = HashMap::new();
    each_line(input, |number, parsed| {
        out.lines.resize(number, false);
        match parsed {
            Some(Ok((id, _))) => {
                if let Some(first) = seen.get(&id) {
                    out.bad.push(BadLine {
                        line: number,
                        why: format!("id `{id}` is also on line {first}; ids must be unique"),
                    });
                    return;
                }
                seen.insert(id, number);
                out.lines[number - 1] = true;
                out.good += 1;
            }
            Some(Err(why)) => out.bad.push(BadLine {
                line: number,
                why: describe(&why),
            }),
            None => {}
        }
    })?;
    Ok(out)
}

/// The conversations `scan` found, read again from `input` one at a time.
/// A line that reads differently the second time (the file changed
/// between the readings) is skipped: the judge never sees a line the scan
/// did not check.
pub fn stream<'s>(
    input: impl BufRead + 's,
    scan: &'s Scan,
) -> impl Iterator<Item = Conversation> + 's {
    input
        .lines()
        .enumerate()
        .filter(move |(n, _)| scan.lines.get(*n).copied().unwrap_or(false))
        .filter_map(|(n, line)| {
            let line = line.ok()?;
            let (id, messages) = parse_line(n + 1, &line)?.ok()?;
            Some(Conversation {
                id,
                messages,
                line: n + 1,
            })
        })
}

/// Calls `each` with every line's number (from 1) and what it holds:
/// `None` for a blank line.
fn each_line(
    input: impl BufRead,
    mut each: impl FnMut(usize, Option<Result<(String, Vec<Message>), Invalid>>),
) -> std::io::Result<()> {
    for (n, line) in input.lines().enumerate() {
        let line = line?;
        each(n + 1, parse_line(n + 1, &line));
    }
    Ok(())
}

/// A line's conversation, `None` when it is blank.
fn parse_line(number: usize, line: &str) -> Option<Result<(String, Vec<Message>), Invalid>> {
    let line = if number == 1 {
        line.trim_start_matches('\u{feff}')
    } else {
        line
    };
    let line = line.trim_end_matches('\r');
    if line.trim().is_empty() {
        return None;
    }
    Some(parse_generation(line).and_then(|(id, messages)| {
        // A conversation to judge needs what the judge reads: a user and
        // an assistant turn, none empty.
        check_turns(&messages).map(|()| (id, messages))
    }))
}

/// Reads every line into memory (for small inputs: the calibration
/// examples, tests).
pub fn read(input: impl BufRead) -> std::io::Result<Read> {
    let mut out = Read::default();
    let mut seen: HashMap<String, usize> = HashMap::new();
    each_line(input, |number, parsed| match parsed {
        Some(Ok((id, messages))) => {
            if let Some(first) = seen.get(&id) {
                out.bad.push(BadLine {
                    line: number,
                    why: format!("id `{id}` is also on line {first}; ids must be unique"),
                });
                return;
            }
            seen.insert(id.clone(), number);
            out.conversations.push(Conversation {
                id,
                messages,
                line: number,
            });
        }
        Some(Err(why)) => out.bad.push(BadLine {
            line: number,
            why: describe(&why),
        }),
        None => {}
    })?;
    Ok(out)
}

fn describe(why: &Invalid) -> String {
    format!("{} ({})", why, why.kind())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scan_and_a_stream_find_what_a_reading_finds() {
        let input = "{\"id\": \"a\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}, {\"role\": \"assistant\", \"content\": \"hello\"}]}\n\
                     bad\n\
                     {\"id\": \"b\", \"messages\": [{\"role\": \"user\", \"content\": \"x\"}, {\"role\": \"assistant\", \"content\": \"y\"}]}\n";
        let scan = scan(input.as_bytes()).unwrap();
        assert_eq!(scan.good, 2);
        assert_eq!(scan.bad.len(), 1);
        let streamed: Vec<Conversation> = stream(input.as_bytes(), &scan).collect();
        assert_eq!(streamed, read(input.as_bytes()).unwrap().conversations);
    }

    #[test]
    fn good_lines_are_read_and_bad_ones_reported() {
        let input = "\u{feff}{\"id\": \"a\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}, {\"role\": \"assistant\", \"content\": \"hello\"}]}\r\n\
                     \n\
                     not json\n\
                     {\"id\": \"b\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}\n\
                     {\"id\": \"a\", \"messages\": [{\"role\": \"user\", \"content\": \"x\"}, {\"role\": \"assistant\", \"content\": \"y\"}]}\n";
        let read = read(input.as_bytes()).unwrap();
        assert_eq!(read.conversations.len(), 1);
        assert_eq!(read.conversations[0].id, "a");
        let lines: Vec<usize> = read.bad.iter().map(|b| b.line).collect();
        assert_eq!(lines, vec![3, 4, 5]);
        assert!(
            read.bad[1].why.contains("no_assistant_turn"),
            "{:?}",
            read.bad
        );
        assert!(read.bad[2].why.contains("line 1"));
    }
}
