//! Explaining unreadable lines.
//!
//! The grammar turns any line it cannot read into a `junk` node. Here each
//! junk node is parsed again with the item rule of the block it sits in;
//! the failure of that parse says what was expected at the exact spot, and
//! the word found there is compared with the expected keywords to suggest a
//! fix.

use super::parse::Junk;
use super::{Rule, SpecParser};
use crate::diagnostics::Diagnostic;
use crate::source::Span;
use pest::Parser;
use pest::error::{ErrorVariant, InputLocation};

pub fn explain_junk(source: &str, junk: &[Junk]) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    // A broken block swallows the lines after it; once a junk's re-parse ran
    // past the start of the next junk, that next junk is the same mistake.
    let mut covered_until = 0usize;
    let quotes = TripleQuotes::new(source);
    for item in junk {
        if item.span.start < covered_until {
            continue;
        }
        // From a text block that ran on into the next one, every later
        // `"""` opens where it should close: what follows are echoes.
        if let Some(diagnostic) = misclosed_text_block(source, &quotes, item.span.start) {
            out.push(diagnostic);
            break;
        }
        let (diagnostic, reach) = explain_one(source, item);
        covered_until = covered_until.max(reach).max(item.span.end);
        out.push(diagnostic);
    }
    out
}

/// Parses `rest` with the item rule of `junk`'s block, reading no more of
/// it than the answer needs.
///
/// pest reads its whole input when it reports a failure (it finds the
/// failing line's start by walking back from the end), so a re-parse given
/// the rest of the file would make a file of broken lines quadratic. The
/// parse is tried on a prefix, doubled until the failure lies well inside
/// it: a parse that failed before reaching a prefix's end never saw the
/// cut, so its answer is the one the whole rest would give.
fn reparse<'s>(
    junk: &Junk,
    rest: &'s str,
) -> Result<pest::iterators::Pairs<'s, Rule>, pest::error::Error<Rule>> {
    /// Lookahead reads at most a few characters past a failure.
    const MARGIN: usize = 16;
    let mut cut = junk.span.len() + 256;
    loop {
        let whole = cut >= rest.len();
        let end = if whole {
            rest.len()
        } else {
            // A char boundary at or after `cut`.
            (cut..rest.len())
                .find(|&i| rest.is_char_boundary(i))
                .unwrap_or(rest.len())
        };
        pest::set_error_detail(true);
        let result = SpecParser::parse(junk.expected, &rest[..end]);
        pest::set_error_detail(false);
        let settled = match &result {
            _ if end == rest.len() => true,
            Ok(_) => false,
            Err(error) => {
                let at = match error.location {
                    InputLocation::Pos(p) => p,
                    InputLocation::Span((s, _)) => s,
                };
                at + MARGIN < end
            }
        };
        if settled {
            return result;
        }
        cut = end * 2;
    }
}

fn explain_one(source: &str, junk: &Junk) -> (Diagnostic, usize) {
    let start = junk.span.start;
    let rest = &source[start..];
    if let Some(diagnostic) = unterminated_string(source, junk.span) {
        return (diagnostic, junk.span.end);
    }
    let error = match reparse(junk, rest) {
        Err(error) => error,
        Ok(_) => {
            // The item parses on its own: the line is unreadable only where it
            // stands (for example a question outside any category).
            let diagnostic = Diagnostic::error("syntax-error", "unexpected text")
                .at(junk.span, "not expected here")
                .help(context_help(junk));
            return (diagnostic, junk.span.end);
        }
    };
    let at = match error.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    let position = start + at;
    let mut expected: Vec<String> = Vec::new();
    if let ErrorVariant::ParsingError { positives, .. } = &error.variant {
        for rule in positives {
            if let Some(name) = describe_rule(*rule) {
                push_unique(&mut expected, name);
            }
        }
    }
    // Literal tokens are not rules, so pest reports them only as expected
    // tokens: keywords (the literal inside each `kw_*` rule) and punctuation
    // (`{`, `,`, `..`). Whitespace, comment starts and quote characters are
    // noise here; strings are already named by the `string` rule.
    if let Some(attempts) = error.parse_attempts() {
        let tokens: Vec<String> = attempts
            .expected_tokens()
            .iter()
            .map(|t| t.to_string())
            .collect();
        for token in &tokens {
            if token.chars().all(is_id_char) && !token.is_empty() {
                push_unique(&mut expected, format!("`{token}`"));
            }
        }
        for token in &tokens {
            let noise = token.trim().is_empty() || token == "#" || token.starts_with('"');
            if !noise && !token.chars().any(|c| c.is_alphanumeric()) {
                push_unique(&mut expected, format!("`{token}`"));
            }
        }
    }
    if position >= source.len() && expected.iter().any(|e| e == "`}`") {
        return (unclosed_block(source, junk), source.len());
    }
    let (found_span, found) = found_at(source, position);
    let message = if expected.is_empty() {
        format!("unexpected {found}")
    } else {
        format!("expected {}, found {found}", join_alternatives(&expected))
    };
    let label = if found_span.is_empty() {
        "expected here".to_string()
    } else {
        "unexpected".to_string()
    };
    let mut diagnostic = Diagnostic::error("syntax-error", message).at(found_span, label);
    if position != start && junk.expected != Rule::top_item {
        diagnostic = diagnostic.also(Span::point(start), "in the item that starts here");
    }
    let word = source[found_span.range()].to_string();
    // The list's keyword may stand before the item the parser gave up on
    // (`checks ask_who, ...` leaves `ask_who` to be read as a new item).
    let line_start = source[..start].rfind('\n').map_or(0, |n| n + 1);
    let help = reference_list_help(&source[line_start..position], &source[position..])
        .or_else(|| comment_help(&source[position..]))
        .or_else(|| percent_help(source, position))
        .or_else(|| range_help(source, position))
        .or_else(|| hyphen_help(source, position))
        .or_else(|| suggestion(&word, &expected))
        .or_else(|| expected_help(&expected))
        .unwrap_or_else(|| context_help(junk));
    diagnostic = diagnostic.help(help);
    (diagnostic, position.max(junk.span.end))
}

/// Keywords followed by a text, which may be a `"""` block.
const TEXT_KEYWORDS: &[&str] = &[
    "title",
    "role",
    "audience",
    "about",
    "principle",
    "when",
    "example",
    "source",
    "user",
    "assistant",
    "system",
    "why",
    "length",
    "format",
    "escalation",
    "scenario",
    "note",
    "perspective",
    "focus",
    "edge_case",
    "subtopic",
    "play",
    "training",
    "decide",
];

/// A text block whose closing `"""` was mistyped (`""`), so that the `"""`
/// opening the next text block closed it instead: the lines of that next
/// block then read as items. Recognised from the junk at `junk_start`: the
/// last `"""` before it ends a line that starts with a text keyword
/// (`assistant """`), the way a block opens, not the way one closes.
fn misclosed_text_block(
    source: &str,
    quotes: &TripleQuotes,
    junk_start: usize,
) -> Option<Diagnostic> {
    let close = quotes.last_before(junk_start)?;
    let line_start = source[..close].rfind('\n').map_or(0, |n| n + 1);
    let keyword = source[line_start..close].trim();
    let rest_of_line = &source[close + 3..];
    let rest_of_line = &rest_of_line[..rest_of_line.find('\n').unwrap_or(rest_of_line.len())];
    if !TEXT_KEYWORDS.contains(&keyword) || !rest_of_line.trim().is_empty() {
        return None;
    }
    let open = quotes.last_before(close)?;
    let line_of = |at: usize| source[..at].matches('\n').count() + 1;
    let mut diagnostic =
        Diagnostic::error("syntax-error", "a text block runs on into the next one")
            .at(
                Span::new(close, close + 3),
                format!(
                    "this `\"\"\"` closes the text block opened on line {}",
                    line_of(open)
                ),
            )
            .also(Span::new(open, open + 3), "the text block opened here");
    // A line of quotes inside the block is the closing `"""` mistyped.
    let mut at = open + 3;
    let mut mistyped = None;
    for line in source[open + 3..close].split_inclusive('\n') {
        let quotes = line.trim();
        if !quotes.is_empty() && quotes.chars().all(|c| c == '"') && quotes != "\"\"\"" {
            let start = at + (line.len() - line.trim_start().len());
            mistyped = Some(Span::new(start, start + quotes.len()));
            break;
        }
        at += line.len();
    }
    let help = match mistyped {
        Some(span) => {
            diagnostic = diagnostic.also(span, "meant to close it?");
            format!(
                "close the text block with `\"\"\"` on line {}; until then, every later `\"\"\"` closes a block where it was meant to open one",
                line_of(span.start)
            )
        }
        None => format!(
            "close the text block opened on line {} with `\"\"\"` before the next one opens; until then, every later `\"\"\"` closes a block where it was meant to open one",
            line_of(open)
        ),
    };
    Some(diagnostic.help(help))
}

/// Every place a `"""` starts, overlapping ones included, so that "the last
/// `"""` before this junk" is a binary search rather than a scan back over
/// the file from every junk node (quadratic in a file of broken lines).
struct TripleQuotes(Vec<usize>);

impl TripleQuotes {
    fn new(source: &str) -> Self {
        let bytes = source.as_bytes();
        let starts = memchr::memchr_iter(b'"', bytes)
            .filter(|&i| bytes[i..].starts_with(b"\"\"\""))
            .collect();
        TripleQuotes(starts)
    }

    /// The start of the last `"""` that ends at or before `end`, as
    /// `source[..end].rfind("\"\"\"")` finds it.
    fn last_before(&self, end: usize) -> Option<usize> {
        let fits = self.0.partition_point(|&start| start + 3 <= end);
        fits.checked_sub(1).map(|i| self.0[i])
    }
}

/// A `"` on the junk line with no closing quote before the end of the line.
fn unterminated_string(source: &str, span: Span) -> Option<Diagnostic> {
    let line_end = source[span.start..]
        .find('\n')
        .map(|p| span.start + p)
        .unwrap_or(source.len());
    let line = &source[span.start..line_end];
    let mut in_string = false;
    let mut opened_at = 0;
    let mut chars = line.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' if in_string => {
                chars.next();
            }
            '"' if !in_string && line[i..].starts_with("\"\"\"") => return None,
            '"' => {
                in_string = !in_string;
                opened_at = i;
            }
            '#' if !in_string => break,
            _ => {}
        }
    }
    in_string.then(|| {
        let open = span.start + opened_at;
        Diagnostic::error("syntax-error", "unterminated string")
            .at(Span::new(open, line_end), "this string has no closing `\"`")
            .help("close the string with `\"` on the same line; for text over several lines use a `\"\"\"` text block")
    })
}

/// A block whose closing `}` never comes: point at where it opens.
fn unclosed_block(source: &str, junk: &Junk) -> Diagnostic {
    unclosed_brace(source, junk.span.start)
}

/// A `{` that no `}` closes (or a block starting at `open` that does not
/// end): point at the line that opens the block.
pub fn unclosed_brace(source: &str, open: usize) -> Diagnostic {
    let line_start = source[..open].rfind('\n').map(|n| n + 1).unwrap_or(0);
    let line_end = open + first_line_len(&source[open..]);
    let line = &source[line_start..line_end];
    let indent = line.len() - line.trim_start().len();
    let start = line_start + indent;
    let keyword: String = source[start..]
        .chars()
        .take_while(|&c| is_id_char(c))
        .collect();
    let what = if keyword.is_empty() {
        "this block".to_string()
    } else {
        format!("this `{keyword}` block")
    };
    let opened = Span::new(start, line_start + line.trim_end().len());
    Diagnostic::error(
        "syntax-error",
        "a block is not closed before the end of the file",
    )
    .at(
        opened,
        format!("{what}, or a block inside it, has no closing `}}`"),
    )
    .also(end_of_file(source), "the file ends here")
    .help(
        "add the missing `}`: every `{` needs one, and blocks close in the reverse order they open",
    )
}

/// The last character of the file that is not blank, where "the file
/// ends here" points.
fn end_of_file(source: &str) -> Span {
    let end = source.trim_end().len();
    let last = source[..end].chars().next_back().map_or(0, char::len_utf8);
    Span::new(end - last, end)
}

fn first_line_len(text: &str) -> usize {
    text.find('\n').unwrap_or(text.len())
}

/// A character of an id or keyword.
fn is_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

fn push_unique(list: &mut Vec<String>, item: String) {
    if !list.contains(&item) {
        list.push(item);
    }
}

/// `a`, `a or b`, `a, b or c`.
fn join_alternatives(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// What stands at `position`: a word, a string, a character or the end.
fn found_at(source: &str, position: usize) -> (Span, String) {
    let rest = &source[position.min(source.len())..];
    let Some(first) = rest.chars().next() else {
        return (Span::point(source.len()), "end of file".to_string());
    };
    if first.is_alphanumeric() || first == '_' {
        let len = rest
            .char_indices()
            .find(|&(_, c)| !(c.is_alphanumeric() || c == '_' || c == '.'))
            .map(|(i, _)| i)
            .unwrap_or(rest.len());
        let word = &rest[..len];
        return (Span::new(position, position + len), format!("`{word}`"));
    }
    if first == '"' {
        let len = rest.find('\n').unwrap_or(rest.len()).max(1);
        let close = rest[1..].find('"').map(|p| p + 2).unwrap_or(len).min(len);
        return (
            Span::new(position, position + close),
            "a string".to_string(),
        );
    }
    (
        Span::new(position, position + first.len_utf8()),
        format!("`{first}`"),
    )
}

/// "did you mean `technique`?" when the word found is one typo away from
/// an expected keyword.
fn suggestion(word: &str, expected: &[String]) -> Option<String> {
    if word.is_empty() {
        return None;
    }
    expected
        .iter()
        .filter_map(|e| e.strip_prefix('`').and_then(|e| e.strip_suffix('`')))
        .filter(|e| e.chars().all(|c| c.is_alphanumeric() || c == '_'))
        .map(|e| (strsim::damerau_levenshtein(word, e), e))
        .filter(|&(d, e)| d > 0 && d <= 2 && d < e.len())
        .min()
        .map(|(_, e)| format!("did you mean `{e}`?"))
}

/// A hint for a `checks`, `guards` or `shows` list written the way another
/// of them is: `checks` and `shows` take dotted references, `guards` takes
/// bare failure-mode ids. `before` is the line up to the error and `after`
/// the file from there.
fn reference_list_help(before: &str, after: &str) -> Option<String> {
    let is_word = is_id_char;
    let word_at = |text: &str| -> String { text.chars().take_while(|&c| is_word(c)).collect() };
    let found = word_at(after);
    let (keyword, list) = ["checks", "guards", "shows"]
        .iter()
        .filter_map(|k| {
            let at = before.rmatch_indices(k).find(|&(i, _)| {
                !before[..i].ends_with(is_word)
                    && before[i + k.len()..].starts_with(char::is_whitespace)
            })?;
            Some((*k, &before[at.0 + k.len()..]))
        })
        .min_by_key(|(_, list)| list.len())?;
    // Still inside the list: ids, dots, commas and spaces since the keyword.
    if !list
        .chars()
        .all(|c| is_word(c) || c == '.' || c == ',' || c.is_whitespace())
    {
        return None;
    }
    let bare = list
        .split(|c: char| c == ',' || c.is_whitespace())
        .chain(std::iter::once(found.as_str()))
        .find(|item| !item.is_empty() && !item.contains('.') && item.starts_with(is_word));
    // `guards failure.x`: the parser stops at the dot.
    let prefixed = after
        .strip_prefix('.')
        .map(word_at)
        .filter(|id| !id.is_empty());
    Some(match (keyword, bare) {
        ("guards", _) => match prefixed {
            Some(id) => format!(
                "`guards` names failure modes by their id alone: write `guards {id}`, without the prefix"
            ),
            None => "`guards` names failure modes by their id alone, separated by commas: `guards toxic_positivity, armchair_diagnosis`".to_string(),
        },
        ("checks", Some(id)) => format!(
            "`checks` takes dotted references: write `always.{id}`, `never.{id}` or `failure.{id}`, whichever `{id}` is, and separate references with commas"
        ),
        ("checks", None) => "`checks` takes dotted references separated by commas: `always.<id>` and `never.<id>` for anchors, `failure.<id>` for failure modes".to_string(),
        (_, Some(id)) => format!(
            "`shows` takes dotted references: a technique as `<framework>.{id}`, an anchor as `always.{id}` or `never.{id}`, separated by commas"
        ),
        _ => "`shows` takes dotted references separated by commas: techniques as `<framework>.<technique>`, anchors as `always.<id>` or `never.<id>`".to_string(),
    })
}

/// `ask-who` where an id was expected: ids join words with `_`.
fn hyphen_help(source: &str, position: usize) -> Option<String> {
    let is_word = is_id_char;
    if !source[position..].starts_with('-') {
        return None;
    }
    let start = source[..position]
        .rfind(|c: char| !is_word(c))
        .map_or(0, |i| i + 1);
    let end = source[position..]
        .find(|c: char| !(is_word(c) || c == '-'))
        .map_or(source.len(), |i| position + i);
    let written = &source[start..end];
    if start == position || !written.ends_with(is_word) {
        return None;
    }
    Some(format!(
        "ids join words with `_`, not `-`: write `{}`",
        written.replace('-', "_")
    ))
}

/// `// ...` or `/* ... */`, as in other languages.
fn comment_help(rest: &str) -> Option<String> {
    (rest.starts_with("//") || rest.starts_with("/*"))
        .then(|| "comments start with `#` and run to the end of the line: write `# ...`".into())
}

/// The number written just before `position` (digits and a decimal point).
fn number_before(source: &str, position: usize) -> Option<&str> {
    let start = source[..position]
        .rfind(|c: char| !(c.is_ascii_digit() || c == '.'))
        .map_or(0, |i| i + 1);
    let number = &source[start..position];
    number
        .starts_with(|c: char| c.is_ascii_digit())
        .then_some(number)
}

/// `weight 40%` or `threshold 75%`: weights and thresholds are fractions.
fn percent_help(source: &str, position: usize) -> Option<String> {
    if !source[position..].starts_with('%') {
        return None;
    }
    let number = number_before(source, position)?;
    let percent = crate::score::parse_decimal(number)?;
    // Hundredths of the number, in the 10⁻⁹ units decimals are read in.
    let fraction = crate::score::format_decimal(percent / 100);
    let fraction = match fraction.split_once('.') {
        Some((_, digits)) if digits.len() >= 2 => fraction,
        Some(_) => format!("{fraction}0"),
        None => format!("{fraction}.00"),
    };
    Some(format!(
        "weights and thresholds are fractions of 1, not percentages: write `{fraction}` for {number}%"
    ))
}

/// `turns 2-5` or `questions 15-20`: a range is written with `..`.
fn range_help(source: &str, position: usize) -> Option<String> {
    let after = source[position..].strip_prefix('-')?;
    let low = number_before(source, position)?;
    let high_len = after
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(after.len());
    let high = &after[..high_len];
    if high.is_empty() || after[high_len..].starts_with(is_id_char) {
        return None;
    }
    Some(format!(
        "a range is written with `..`: write `{low}..{high}`"
    ))
}

/// A hint for the common single expectations.
fn expected_help(expected: &[String]) -> Option<String> {
    let first = expected.first()?.as_str();
    let only = expected.len() == 1;
    Some(match first {
        "a string" if only => "write the text in double quotes (`\"...\"`), or as a `\"\"\"` block for several lines".to_string(),
        "a number" if only => "write a decimal number such as `0.25`".to_string(),
        "`weight`" if only => "give it its share after the text: `weight 0.25`".to_string(),
        "`expect`" if only => "say what the example should score before its `{`: `expect pass`, `expect fail` or `expect gate_fail`".to_string(),
        "an identifier" => "an id is a name of letters, digits and `_`, starting with a letter, such as `name_emotion`".to_string(),
        _ => return None,
    })
}

fn context_help(junk: &Junk) -> String {
    match junk.expected {
        Rule::top_item => "a spec is made of top-level blocks: domain, framework, failure, always, never, rubric, calibration, fewshot, generation, judge, expert, lint, taxonomy, personas, user_simulator".to_string(),
        _ => {
            let article = if junk.block.starts_with(['a', 'e', 'i', 'o']) {
                "an"
            } else {
                "a"
            };
            format!(
                "see docs/language.md for what {article} `{}` block may contain",
                junk.block
            )
        }
    }
}

/// The human name of a grammar rule, used in "expected ..." messages.
///
/// The match is exhaustive, so a new grammar rule cannot be added without
/// deciding how errors name it.
pub fn describe_rule(rule: Rule) -> Option<String> {
    let keyword = |k: &str| Some(format!("`{k}`"));
    match rule {
        Rule::EOI => Some("end of file".into()),
        Rule::COMMENT => None,
        Rule::ident => Some("an identifier".into()),
        Rule::reference => Some("a dotted reference such as `never.diagnose`".into()),
        Rule::number => Some("a number".into()),
        Rule::string | Rule::text_block => Some("a string".into()),
        Rule::kw_domain => keyword("domain"),
        Rule::kw_title => keyword("title"),
        Rule::kw_role => keyword("role"),
        Rule::kw_audience => keyword("audience"),
        Rule::kw_about => keyword("about"),
        Rule::kw_framework => keyword("framework"),
        Rule::kw_principle => keyword("principle"),
        Rule::kw_technique => keyword("technique"),
        Rule::kw_when => keyword("when"),
        Rule::kw_example => keyword("example"),
        Rule::kw_instead_of => keyword("instead_of"),
        Rule::kw_failure => keyword("failure"),
        Rule::kw_source => keyword("source"),
        Rule::kw_always => keyword("always"),
        Rule::kw_never => keyword("never"),
        Rule::kw_guards => keyword("guards"),
        Rule::kw_rubric => keyword("rubric"),
        Rule::kw_threshold => keyword("threshold"),
        Rule::kw_define => keyword("define"),
        Rule::kw_gate => keyword("gate"),
        Rule::kw_category => keyword("category"),
        Rule::kw_weight => keyword("weight"),
        Rule::kw_all_na => keyword("all_na"),
        Rule::kw_full_credit => keyword("full_credit"),
        Rule::kw_drop => keyword("drop"),
        Rule::kw_checks => keyword("checks"),
        Rule::kw_na => keyword("na"),
        Rule::kw_yes => keyword("yes"),
        Rule::kw_no => keyword("no"),
        Rule::kw_calibration => keyword("calibration"),
        Rule::kw_expect => keyword("expect"),
        Rule::kw_pass => keyword("pass"),
        Rule::kw_fail => keyword("fail"),
        Rule::kw_gate_fail => keyword("gate_fail"),
        Rule::kw_answers => keyword("answers"),
        Rule::kw_user => keyword("user"),
        Rule::kw_assistant => keyword("assistant"),
        Rule::kw_system => keyword("system"),
        Rule::kw_fewshot => keyword("fewshot"),
        Rule::kw_shows => keyword("shows"),
        Rule::kw_why => keyword("why"),
        Rule::kw_generation => keyword("generation"),
        Rule::kw_turns => keyword("turns"),
        Rule::kw_length => keyword("length"),
        Rule::kw_format => keyword("format"),
        Rule::kw_escalation => keyword("escalation"),
        Rule::kw_scenario => keyword("scenario"),
        Rule::kw_judge => keyword("judge"),
        Rule::kw_evidence => keyword("evidence"),
        Rule::kw_first => keyword("first"),
        Rule::kw_none => keyword("none"),
        Rule::kw_calls => keyword("calls"),
        Rule::kw_single => keyword("single"),
        Rule::kw_per_question => keyword("per_question"),
        Rule::kw_aggregate => keyword("aggregate"),
        Rule::kw_strictest => keyword("strictest"),
        Rule::kw_majority => keyword("majority"),
        Rule::kw_unanimous => keyword("unanimous"),
        Rule::kw_note => keyword("note"),
        Rule::kw_expert => keyword("expert"),
        Rule::kw_perspective => keyword("perspective"),
        Rule::kw_focus => keyword("focus"),
        Rule::kw_lint => keyword("lint"),
        Rule::kw_allow => keyword("allow"),
        Rule::kw_warn => keyword("warn"),
        Rule::kw_deny => keyword("deny"),
        Rule::kw_taxonomy => keyword("taxonomy"),
        Rule::kw_edge_cases => keyword("edge_cases"),
        Rule::kw_edge_case => keyword("edge_case"),
        Rule::kw_dimension => keyword("dimension"),
        Rule::kw_value => keyword("value"),
        Rule::kw_subtopic => keyword("subtopic"),
        Rule::kw_personas => keyword("personas"),
        Rule::kw_flaw_free => keyword("flaw_free"),
        Rule::kw_trait => keyword("trait"),
        Rule::kw_flaws => keyword("flaws"),
        Rule::kw_flaw => keyword("flaw"),
        Rule::kw_play => keyword("play"),
        Rule::kw_trajectory => keyword("trajectory"),
        Rule::kw_user_simulator => keyword("user_simulator"),
        Rule::kw_behaviour => keyword("behaviour"),
        Rule::kw_words => keyword("words"),
        Rule::kw_mode => keyword("mode"),
        Rule::kw_simulate => keyword("simulate"),
        Rule::kw_whole => keyword("whole"),
        Rule::kw_ratio => keyword("ratio"),
        Rule::kw_limit => keyword("limit"),
        Rule::kw_breach => keyword("breach"),
        Rule::kw_retry => keyword("retry"),
        Rule::kw_record => keyword("record"),
        Rule::kw_training => keyword("training"),
        Rule::kw_min_turns => keyword("min_turns"),
        Rule::kw_facts => keyword("facts"),
        Rule::kw_decide => keyword("decide"),
        Rule::kw_longest => keyword("longest"),
        Rule::lint => keyword("lint"),
        Rule::allow => keyword("allow"),
        Rule::lint_code => Some("a lint rule code such as `FT203`".into()),
        Rule::lint_item | Rule::lint_level | Rule::lint_bound => None,
        Rule::file | Rule::top_item => Some("a top-level block".into()),
        Rule::domain => keyword("domain"),
        Rule::framework => keyword("framework"),
        Rule::technique => keyword("technique"),
        Rule::failure => keyword("failure"),
        Rule::always_block => keyword("always"),
        Rule::never_block => keyword("never"),
        Rule::rubric => keyword("rubric"),
        Rule::gate => keyword("gate"),
        Rule::category => keyword("category"),
        Rule::calibration => keyword("calibration"),
        Rule::fewshot => keyword("fewshot"),
        Rule::generation => keyword("generation"),
        Rule::judge => keyword("judge"),
        Rule::expert => keyword("expert"),
        Rule::anchor => Some("an anchor (`id \"text\"`)".into()),
        Rule::question | Rule::group_item => Some("a question (`ID \"text\"`)".into()),
        Rule::answer => Some("an answer (`ID yes|no|na \"reason\"`)".into()),
        Rule::conversation => Some("a conversation `{ user \"...\" assistant \"...\" }`".into()),
        Rule::turn => Some("a turn (`user`, `assistant` or `system`)".into()),
        Rule::example => keyword("example"),
        Rule::instead_of => keyword("instead_of"),
        Rule::guards => keyword("guards"),
        Rule::threshold => keyword("threshold"),
        Rule::define => keyword("define"),
        Rule::all_na => keyword("all_na"),
        Rule::checks => keyword("checks"),
        Rule::question_body => Some("`{`".into()),
        Rule::applies => keyword("when"),
        Rule::na_policy => keyword("na"),
        Rule::answers => keyword("answers"),
        Rule::shows => keyword("shows"),
        Rule::why => keyword("why"),
        Rule::turns => keyword("turns"),
        Rule::evidence => keyword("evidence"),
        Rule::calls => keyword("calls"),
        Rule::aggregate => keyword("aggregate"),
        Rule::taxonomy => keyword("taxonomy"),
        Rule::personas => keyword("personas"),
        Rule::user_simulator => keyword("user_simulator"),
        Rule::edge_cases => keyword("edge_cases"),
        Rule::dimension => keyword("dimension"),
        Rule::dimension_value | Rule::dimension_item => keyword("value"),
        Rule::value_body | Rule::flaw_body => Some("`{`".into()),
        Rule::flaw_free => keyword("flaw_free"),
        Rule::trait_pool => keyword("trait"),
        Rule::flaw_kind => keyword("flaws"),
        Rule::flaw | Rule::flaw_kind_item => Some("a flaw (`flaw id \"title\" weight 0.2`)".into()),
        Rule::trajectory => keyword("trajectory"),
        Rule::behaviour => keyword("behaviour"),
        Rule::words => keyword("words"),
        Rule::mode => keyword("mode"),
        Rule::ratio => keyword("ratio"),
        Rule::breach => keyword("breach"),
        Rule::min_turns => keyword("min_turns"),
        Rule::facts => keyword("facts"),
        Rule::fact_name => None,
        Rule::decide => keyword("decide"),
        Rule::property_domain
        | Rule::framework_item
        | Rule::property_framework
        | Rule::technique_item
        | Rule::property_technique
        | Rule::failure_item
        | Rule::property_failure
        | Rule::rubric_item
        | Rule::question_item
        | Rule::example_item
        | Rule::generation_item
        | Rule::property_generation
        | Rule::judge_item
        | Rule::property_judge
        | Rule::property_expert
        | Rule::taxonomy_item
        | Rule::property_taxonomy
        | Rule::value_item
        | Rule::property_value
        | Rule::personas_item
        | Rule::flaw_item
        | Rule::property_flaw
        | Rule::simulator_item
        | Rule::property_simulator => None,
        Rule::junk | Rule::top_junk | Rule::junk_group | Rule::junk_string => None,
        Rule::WHITESPACE | Rule::ident_char | Rule::text => None,
    }
}

#[cfg(test)]
mod tests {
    use super::{TripleQuotes, hyphen_help, reference_list_help};

    #[test]
    fn a_hyphenated_id_gets_its_underscore_spelling() {
        let text = "  ask-who-first \"Ask\"";
        assert_eq!(
            hyphen_help(text, 5).as_deref(),
            Some("ids join words with `_`, not `-`: write `ask_who_first`")
        );
        // A hyphen that does not join two words, or no hyphen at all.
        assert_eq!(hyphen_help("  - \"x\"", 2), None);
        assert_eq!(hyphen_help("  ask- \"x\"", 5), None);
        assert_eq!(hyphen_help("  ask \"x\"", 5), None);
    }

    #[test]
    fn a_text_block_closed_by_the_next_opener_is_recognised() {
        let text =
            "  assistant \"\"\"\n    Hi.\n    \"\"\n  user \"ok\"\n  assistant \"\"\"\n    Next.\n";
        let misclosed_text_block =
            |text: &str, at: usize| super::misclosed_text_block(text, &TripleQuotes::new(text), at);
        let junk = text.find("Next").unwrap();
        let found = misclosed_text_block(text, junk).expect("recognised");
        assert_eq!(
            found.primary_span().map(|s| &text[s.range()]),
            Some("\"\"\"")
        );
        assert!(found.help.as_deref().unwrap_or("").contains("on line 3"));
        // A block whose last line ends in text and its `"""` is closed
        // properly: junk after it is an error of its own.
        let text = "  about \"\"\"\n    Some text\n    end\"\"\"\n  oops\n";
        assert!(misclosed_text_block(text, text.find("oops").unwrap()).is_none());
        let text = "  about \"\"\"\n    Some text\n    \"\"\"\n  oops\n";
        assert!(misclosed_text_block(text, text.find("oops").unwrap()).is_none());
        // No text block before the junk.
        assert!(misclosed_text_block("  oops\n", 2).is_none());
    }

    #[test]
    fn reference_lists_written_the_wrong_way_get_a_hint() {
        let help = |before: &str, after: &str| reference_list_help(before, after);
        assert!(
            help("  S1 \"Text?\" checks blame", ", never.x")
                .unwrap()
                .contains("`never.blame`")
        );
        assert!(
            help("  ask \"Ask\" guards failure", ".late_reply")
                .unwrap()
                .contains("`guards late_reply`")
        );
        assert!(
            help("  shows ", "acknowledge, always.x")
                .unwrap()
                .contains("`<framework>.acknowledge`")
        );
        // The keyword inside a string, or a list already closed, is not a list.
        assert_eq!(help("  S1 \"Does it shows x\" ", "{"), None);
        assert_eq!(help("  S1 \"Text?\" checks always.a {", "when"), None);
        // A word that only ends like a keyword is not one.
        assert_eq!(help("  rechecks a", ","), None);
    }
}
