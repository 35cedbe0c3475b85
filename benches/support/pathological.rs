//! Generators of hostile specs, for the recovery benchmark
//! (`benches/recovery.rs`) and the hang bound (`tests/hostile.rs`): each
//! kind is a pattern that once made error recovery backtrack, repeated up
//! to about `size` bytes, so time should grow linearly with `size`.

use std::fmt::Write;

/// The kinds of hostile input, by name.
pub const KINDS: &[&str] = &[
    "comment-braces",
    "string-braces",
    "junk-braces",
    "junk-lines",
    "unclosed-blocks",
    "deep-nesting",
    "escaped-quotes",
    "unclosed-text-blocks",
    "long-string",
];

/// About `size` bytes of the hostile input `kind`.
pub fn hostile(kind: &str, size: usize) -> String {
    let mut s = String::with_capacity(size + 256);
    match kind {
        // An unclosed `{` in a junk line, then `{` in comments: each one
        // used to double the parse's work.
        "comment-braces" => {
            s.push_str("never {\n  a \"x\" guards b{{\n}\n");
            while s.len() < size {
                s.push_str("# { { { } {\n");
            }
        }
        // Braces inside strings, quoted and unterminated, in junk lines.
        "string-braces" => {
            s.push_str("always {\n");
            while s.len() < size {
                s.push_str("  a \"{ {\" b{ \"} {\n  c \"x\" \"{\" { \"}\n");
            }
            s.push_str("}\n");
        }
        // Lines no block can read, with unbalanced groups.
        "junk-braces" => {
            s.push_str("rubric {\n");
            let mut i = 0;
            while s.len() < size {
                let _ = writeln!(s, "  ?? {{ {i} {{ ]] }} ((");
                i += 1;
            }
            s.push_str("}\n");
        }
        // Many separate broken lines in one block: each is explained on its
        // own.
        "junk-lines" => {
            s.push_str("rubric {\n");
            let mut i = 0;
            while s.len() < size {
                let _ = writeln!(s, "  ?? broken line {i}");
                i += 1;
            }
            s.push_str("}\n");
        }
        // Blocks that never close, each with a broken line.
        "unclosed-blocks" => {
            let mut i = 0;
            while s.len() < size {
                let _ = writeln!(s, "failure f{i} \"F\" {{\n  about \"x\"\n  ??? {{\n");
                i += 1;
            }
        }
        // Nesting to just under the limit, over and over.
        "deep-nesting" => {
            while s.len() < size {
                s.push_str("rubric {\n");
                s.push_str(&"{".repeat(60));
                s.push_str(" x ");
                s.push_str(&"}".repeat(60));
                s.push_str("\n}\n");
            }
        }
        // One line of escaped quotes with no closing one: every `"` after a
        // `\` could start a string that runs to the end of the line.
        "escaped-quotes" => {
            s.push_str("always {\n  a ");
            while s.len() < size {
                s.push_str("\"\\\"\\\"{");
            }
            s.push_str("\n}\n");
        }
        // `"""` openers with no closer, in junk lines.
        "unclosed-text-blocks" => {
            s.push_str("always {\n");
            while s.len() < size {
                s.push_str("  ? \"\"\" { \"\n");
            }
            s.push_str("}\n");
        }
        // One string of `size` bytes, in an otherwise valid domain block.
        "long-string" => {
            s.push_str("domain d {\n  title \"");
            while s.len() < size {
                s.push_str("a long title { with } braces and \\\"escapes\\\" ");
            }
            s.push_str("\"\n}\n");
        }
        _ => panic!("unknown hostile kind {kind}"),
    }
    s
}
