//! Reading conversations to judge: the generations format `ftprep score`
//! reads (`{"id": ..., "messages": [{"role", "content"}, ...]}` per line),
//! with every line that cannot be judged reported by number and kind, not
//! skipped in silence.

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

/// Reads every line. An id seen twice is a bad line (the second): the
/// judgments of both would be one record, and only one was meant.
pub fn read(input: impl BufRead) -> std::io::Result<Read> {
    let mut out = Read::default();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (n, line) in input.lines().enumerate() {
        let number = n + 1;
        let line = line?;
        let line = if number == 1 {
            line.trim_start_matches('\u{feff}')
        } else {
            &line
        };
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let parsed = parse_generation(line).and_then(|(id, messages)| {
            // A conversation to judge needs what the judge reads: a user
            // and an assistant turn, none empty.
            check_turns(&messages).map(|()| (id, messages))
        });
        match parsed {
            Ok((id, messages)) => {
                if let Some(first) = seen.get(&id) {
                    out.bad.push(BadLine {
                        line: number,
                        why: format!("id `{id}` is also on line {first}; ids must be unique"),
                    });
                    continue;
                }
                seen.insert(id.clone(), number);
                out.conversations.push(Conversation {
                    id,
                    messages,
                    line: number,
                });
            }
            Err(why) => out.bad.push(BadLine {
                line: number,
                why: describe(&why),
            }),
        }
    }
    Ok(out)
}

fn describe(why: &Invalid) -> String {
    format!("{} ({})", why, why.kind())
}

#[cfg(test)]
mod tests {
    use super::*;

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
