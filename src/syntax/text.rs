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
/// - the smallest indentation among non-blank lines is removed from every
///   line; blank lines become empty;
/// - `\r\n` becomes `\n`; nothing is unescaped.
pub fn dedent_block(raw: &str) -> String {
    let inner = raw
        .strip_prefix("\"\"\"")
        .and_then(|s| s.strip_suffix("\"\"\""))
        .unwrap_or(raw);
    let normalised = inner.replace("\r\n", "\n");
    let mut lines: Vec<&str> = normalised.split('\n').collect();
    if lines.len() == 1 {
        return lines[0].to_string();
    }
    // Text on the opening line stays as written; a blank opening line goes.
    let first = lines.remove(0);
    let keep_first = !first.trim().is_empty();
    if lines.last().is_some_and(|l| l.trim().is_empty()) {
        lines.pop();
    }
    let indent = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start_matches([' ', '\t']).len())
        .min()
        .unwrap_or(0);
    let mut out: Vec<String> = Vec::with_capacity(lines.len() + 1);
    if keep_first {
        out.push(first.trim_start().to_string());
    }
    for line in lines {
        if line.trim().is_empty() {
            out.push(String::new());
        } else {
            out.push(line[indent..].to_string());
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

    #[test]
    fn dedent_removes_common_indentation() {
        let raw = "\"\"\"\n    user: hi\n      assistant: hello\n\n    end\n    \"\"\"";
        assert_eq!(dedent_block(raw), "user: hi\n  assistant: hello\n\nend");
        assert_eq!(dedent_block("\"\"\"one line\"\"\""), "one line");
        assert_eq!(
            dedent_block("\"\"\"first\n  second\n  \"\"\""),
            "first\nsecond"
        );
        assert_eq!(dedent_block("\"\"\"\r\n  a\r\n  \"\"\""), "a");
    }
}
