//! Decoding text literals: escapes in quoted strings, indentation in text
//! blocks.

use crate::diagnostics::Diagnostic;
use crate::source::Span;

/// Decodes the escapes of a quoted string. `raw` includes the quotes and
/// starts at byte `offset` of the file. Unknown escapes are reported and
/// kept literally, so one bad escape does not hide the rest of the file.
pub fn decode_string(raw: &str, offset: usize, errors: &mut Vec<Diagnostic>) -> String {
    let inner = raw
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(raw);
    if !inner.contains('\\') {
        return inner.to_string();
    }
    let base = offset + 1;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some((_, e)) = chars.next() else {
            out.push('\\');
            break;
        };
        match e {
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            '"' => out.push('"'),
            '\\' => out.push('\\'),
            'u' => match decode_unicode_escape(&inner[i..]) {
                Some((ch, len)) => {
                    out.push(ch);
                    // Skip the rest of `\u{...}` (we consumed `\u` already).
                    let mut consumed = 2;
                    while consumed < len {
                        if let Some((_, c)) = chars.next() {
                            consumed += c.len_utf8();
                        } else {
                            break;
                        }
                    }
                }
                None => {
                    let end = inner[i..]
                        .find('}')
                        .map(|p| i + p + 1)
                        .unwrap_or(i + 2)
                        .min(inner.len());
                    errors.push(
                        Diagnostic::error("invalid-escape", "invalid unicode escape")
                            .at(Span::new(base + i, base + end), "not a unicode escape")
                            .help("write a unicode escape as `\\u{1F600}`: 1 to 6 hex digits in braces, naming a valid character"),
                    );
                    out.push_str(&inner[i..end]);
                    while let Some(&(j, _)) = chars.peek() {
                        if j >= end {
                            break;
                        }
                        chars.next();
                    }
                }
            },
            other => {
                let len = 1 + other.len_utf8();
                errors.push(
                    Diagnostic::error("invalid-escape", format!("unknown escape `\\{other}`"))
                        .at(Span::new(base + i, base + i + len), "unknown escape")
                        .help("the escapes are \\\" \\\\ \\n \\t \\r and \\u{...}; write `\\\\` for a backslash"),
                );
                out.push('\\');
                out.push(other);
            }
        }
    }
    out
}

/// Decodes `\u{XXXX}` at the start of `s`; returns the char and the byte
/// length of the escape.
fn decode_unicode_escape(s: &str) -> Option<(char, usize)> {
    let rest = s.strip_prefix("\\u{")?;
    let close = rest.find('}')?;
    let hex = &rest[..close];
    if hex.is_empty() || hex.len() > 6 {
        return None;
    }
    let value = u32::from_str_radix(hex, 16).ok()?;
    let ch = char::from_u32(value)?;
    Some((ch, 3 + close + 1))
}

/// The value of a `"""` text block: the lines between the delimiters with
/// their common indentation removed.
///
/// Rules (documented in docs/language.md):
/// - a line break right after the opening `"""` is not part of the text;
/// - the last line, when it holds only the indentation of the closing
///   `"""`, is not part of the text (so the text does not end in a newline);
/// - the indentation every non-blank line starts with, character for
///   character, is removed from every line; blank lines become empty;
/// - `\r\n` becomes `\n`; nothing is unescaped.
///
/// A tab is never taken for some number of spaces: a line indented with a
/// tab where the others use spaces (or the reverse) would keep stray
/// indentation on every other line, so it is reported. `raw` starts at
/// byte `offset` of the file.
pub fn dedent_block(raw: &str, offset: usize, errors: &mut Vec<Diagnostic>) -> String {
    let inner = raw
        .strip_prefix("\"\"\"")
        .and_then(|s| s.strip_suffix("\"\"\""))
        .unwrap_or(raw);
    let base = offset + (raw.len() - inner.len()).min(3);
    // Each line with where it starts in `inner`; a `\r` before the line
    // break is not part of the line.
    let mut lines: Vec<(usize, &str)> = Vec::new();
    let mut at = 0;
    for line in inner.split('\n') {
        lines.push((at, line.strip_suffix('\r').unwrap_or(line)));
        at += line.len() + 1;
    }
    if lines.len() == 1 {
        return lines[0].1.to_string();
    }
    // Text on the opening line stays as written; a blank opening line goes.
    let (_, first) = lines.remove(0);
    let keep_first = !first.trim().is_empty();
    if lines.last().is_some_and(|(_, l)| l.trim().is_empty()) {
        lines.pop();
    }
    let indentation =
        |line: &str| -> usize { line.len() - line.trim_start_matches([' ', '\t']).len() };
    let mut written = lines
        .iter()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|&(start, l)| (start, &l[..indentation(l)]));
    let common = match written.next() {
        None => 0,
        Some((_, model)) => {
            let mut common = model.len();
            for (start, indent) in written {
                let shared = model
                    .bytes()
                    .zip(indent.bytes())
                    .take_while(|(a, b)| a == b)
                    .count();
                if shared < common.min(indent.len()) {
                    let (found, expected) = if indent.as_bytes()[shared] == b'\t' {
                        ("a tab", "spaces")
                    } else {
                        ("a space", "a tab")
                    };
                    let at = base + start + shared;
                    errors.push(
                        Diagnostic::error(
                            "mixed-indentation",
                            format!("this line of a text block is indented with {found} where the lines before it use {expected}"),
                        )
                        .at(Span::new(at, at + 1), found.to_string())
                        .help("indent every line of a text block the same way, with spaces only (or tabs only): ftprep removes the indentation the lines share, character for character"),
                    );
                    return dedent(keep_first, first, &lines, 0);
                }
                common = common.min(shared);
            }
            common
        }
    };
    dedent(keep_first, first, &lines, common)
}

fn dedent(keep_first: bool, first: &str, lines: &[(usize, &str)], common: usize) -> String {
    let mut out: Vec<&str> = Vec::with_capacity(lines.len() + 1);
    if keep_first {
        out.push(first.trim_start());
    }
    for (_, line) in lines {
        if line.trim().is_empty() {
            out.push("");
        } else {
            out.push(&line[common..]);
        }
    }
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(raw: &str) -> (String, Vec<Diagnostic>) {
        let mut errors = Vec::new();
        let value = decode_string(raw, 0, &mut errors);
        (value, errors)
    }

    #[test]
    fn escapes() {
        assert_eq!(decode(r#""a\"b\\c\nd\u{e9}""#).0, "a\"b\\c\nd\u{e9}");
        let (value, errors) = decode(r#""x\qy""#);
        assert_eq!(value, "x\\qy");
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].primary_span(), Some(Span::new(2, 4)));
        let (_, errors) = decode(r#""\u{110000}""#);
        assert_eq!(errors.len(), 1);
    }

    fn dedent(raw: &str) -> String {
        let mut errors = Vec::new();
        let value = dedent_block(raw, 0, &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        value
    }

    #[test]
    fn dedent_removes_common_indentation() {
        let raw = "\"\"\"\n    user: hi\n      assistant: hello\n\n    end\n    \"\"\"";
        assert_eq!(dedent(raw), "user: hi\n  assistant: hello\n\nend");
        assert_eq!(dedent("\"\"\"one line\"\"\""), "one line");
        assert_eq!(dedent("\"\"\"first\n  second\n  \"\"\""), "first\nsecond");
        assert_eq!(dedent("\"\"\"\r\n  a\r\n  \"\"\""), "a");
        // Tabs alone, and the same mix on every line, are consistent.
        assert_eq!(dedent("\"\"\"\n\t\ta\n\t\t\tb\n\t\"\"\""), "a\n\tb");
        assert_eq!(dedent("\"\"\"\n\t  a\n\t    b\n\"\"\""), "a\n  b");
        // A blank line's whitespace does not count.
        assert_eq!(dedent("\"\"\"\n  a\n\t\n  b\n\"\"\""), "a\n\nb");
    }

    #[test]
    fn a_tab_among_spaces_is_reported_where_it_is() {
        let raw = "\"\"\"\n    user: hi\n\tassistant: hello\n    \"\"\"";
        let mut errors = Vec::new();
        let value = dedent_block(raw, 10, &mut errors);
        assert_eq!(errors.len(), 1);
        // The tab: 10 + `"""` + the line break + "    user: hi\n".
        let tab = 10 + 3 + 1 + 13;
        assert_eq!(&raw[tab - 10..tab - 10 + 1], "\t");
        assert_eq!(errors[0].primary_span(), Some(Span::new(tab, tab + 1)));
        // Nothing is removed rather than the wrong amount.
        assert_eq!(value, "    user: hi\n\tassistant: hello");
        // Deeper indentation may use anything after the shared part.
        let mut errors = Vec::new();
        dedent_block("\"\"\"\n  a\n  \tb\n\"\"\"", 0, &mut errors);
        assert!(errors.is_empty());
        // The reverse: a space where the first line has a tab.
        let mut errors = Vec::new();
        dedent_block("\"\"\"\n\ta\n b\n\"\"\"", 0, &mut errors);
        assert_eq!(errors.len(), 1);
    }
}
