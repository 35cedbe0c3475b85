//! Facts about a conversation that the program computes instead of asking
//! a model: words, exchanges, length ratios, the longest message.
//!
//! Why it exists: a judge model miscounts words and turns, so a rubric
//! question can ask for computed facts (`facts words`), which are given to
//! the judge as stated facts, or be decided wholly in code (`decide
//! "assistant_words_max < 150"`), never sent to a model. The generator
//! checks its length rules with the same counts. There is one definition
//! of a word, [`word_count`], used everywhere.
//!
//! In: a conversation as (role, text) pairs; a `decide` expression's text;
//! length rules. Out: [`Facts`] (with [`Facts::var`] for `decide`'s
//! variables and [`Facts::render`] for the judge's block), [`Decide`]
//! (parsed, printable, evaluable) or a located [`DecideError`], and
//! [`Breach`]es of the length rules.
//!
//! # Words
//!
//! A word is a maximal run of alphanumeric characters (`char::is_alphanumeric`,
//! so any script), where a single `'`, `’` or `-` between two alphanumeric
//! characters joins them: "don't", "well-being" and "l’heure" are one word
//! each; "--", "'" and "..." are none; "a--b" is two.
//!
//! # Exchanges
//!
//! Messages are read in order; roles other than `user` and `assistant`
//! (ASCII case ignored), such as `system`, are skipped. Exchange `k` (from 1)
//! begins at the `k`-th user message that follows an assistant message (or
//! the first user message), and holds the user messages up to the next
//! assistant message and the assistant messages after them. Assistant
//! messages before the first user message belong to turn 0, which is not an
//! exchange. `turns` counts the exchanges that have an assistant reply.
//!
//! # The facts block
//!
//! [`Facts::render`] writes, for the requested kinds, in this order:
//!
//! ```text
//! Facts computed by the program (exact, do not re-count):
//! - Exchanges: 2
//! - Words per message:
//!   - turn 1: user 12, assistant 18
//!   - turn 2: user 7, assistant 15
//! - Words in total: user 19, assistant 33
//! - Assistant words per user word:
//!   - turn 1: 1.50
//!   - turn 2: 2.14
//!   - overall: 1.74
//! - Longest message: assistant, turn 1 (18 words)
//! ```
//!
//! (`turns` gives the first bullet, `words` the next two, `ratio` the
//! fourth, `longest` the last; ratios with two decimals; an exchange whose
//! user message has no words shows "n/a".)

use serde::{Serialize, Serializer};
use std::fmt::{self, Write as _};

/// `'`, `’` or `-`: joins two alphanumeric characters into one word.
fn is_joiner(c: char) -> bool {
    matches!(c, '\'' | '\u{2019}' | '-')
}

/// The words of a text, as slices of it (see the module's definition).
pub fn words(text: &str) -> Words<'_> {
    Words { text, pos: 0 }
}

/// The iterator of [`words`].
#[derive(Debug, Clone)]
pub struct Words<'a> {
    text: &'a str,
    pos: usize,
}

/// The character at byte `i` of `text` and its length; ASCII without
/// decoding.
#[inline]
fn char_at(text: &str, i: usize) -> Option<(char, usize)> {
    let b = *text.as_bytes().get(i)?;
    if b < 0x80 {
        return Some((char::from(b), 1));
    }
    let c = text.get(i..)?.chars().next()?;
    Some((c, c.len_utf8()))
}

#[inline]
fn is_word_char(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphanumeric()
    } else {
        c.is_alphanumeric()
    }
}

impl<'a> Iterator for Words<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let text = self.text;
        let bytes = text.as_bytes();
        let mut i = self.pos;
        // ASCII that is not a letter or digit, by bytes; then the first
        // alphanumeric character.
        while bytes
            .get(i)
            .is_some_and(|b| b.is_ascii() && !b.is_ascii_alphanumeric())
        {
            i += 1;
        }
        let start = loop {
            let Some((c, len)) = char_at(text, i) else {
                self.pos = text.len();
                return None;
            };
            if is_word_char(c) {
                break i;
            }
            i += len;
        };
        let mut end = start;
        loop {
            // A run of ASCII letters and digits, the common case, by bytes.
            while bytes.get(end).is_some_and(u8::is_ascii_alphanumeric) {
                end += 1;
            }
            let Some((c, len)) = char_at(text, end) else {
                break;
            };
            if is_word_char(c) {
                end += len;
            } else if is_joiner(c)
                && char_at(text, end + len).is_some_and(|(next, _)| is_word_char(next))
            {
                // The joiner stays in the word, with what follows it.
                end += len;
            } else {
                break;
            }
        }
        self.pos = end;
        text.get(start..end)
    }
}

/// The number of words of a text.
pub fn word_count(text: &str) -> u32 {
    let mut n = 0u32;
    for _ in words(text) {
        n = n.saturating_add(1);
    }
    n
}

/// The role of a message, for facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Assistant,
}

impl Role {
    /// `user` or `assistant`, ASCII case ignored; `None` for anything else.
    pub fn parse(role: &str) -> Option<Role> {
        if role.eq_ignore_ascii_case("user") {
            Some(Role::User)
        } else if role.eq_ignore_ascii_case("assistant") {
            Some(Role::Assistant)
        } else {
            None
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }
}

/// The kinds of fact a question can ask for (`facts turns, words, ratio,
/// longest`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FactKind {
    Turns,
    Words,
    Ratio,
    Longest,
}

impl FactKind {
    pub const ALL: [FactKind; 4] = [
        FactKind::Turns,
        FactKind::Words,
        FactKind::Ratio,
        FactKind::Longest,
    ];

    pub fn name(self) -> &'static str {
        match self {
            FactKind::Turns => "turns",
            FactKind::Words => "words",
            FactKind::Ratio => "ratio",
            FactKind::Longest => "longest",
        }
    }

    pub fn parse(name: &str) -> Option<FactKind> {
        FactKind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// [`FactKind::name`].
    pub fn as_str(self) -> &'static str {
        self.name()
    }
}

/// The words of one message and the exchange it belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct MessageFacts {
    pub role: Role,
    /// The exchange, from 1; 0 before the first user message.
    pub turn: u32,
    pub words: u32,
}

/// One exchange: its user and assistant words.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ExchangeFacts {
    pub turn: u32,
    pub user_words: u32,
    pub assistant_words: u32,
    /// Whether an assistant message answers it.
    pub complete: bool,
    /// Assistant words per user word: for a complete exchange whose user
    /// messages have words.
    pub ratio: Option<f64>,
}

/// The words of one role's messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct RoleFacts {
    pub messages: u32,
    pub total: u64,
    pub min: Option<u32>,
    pub max: Option<u32>,
}

impl RoleFacts {
    fn add(&mut self, words: u32) {
        self.messages += 1;
        self.total += u64::from(words);
        self.min = Some(self.min.map_or(words, |m| m.min(words)));
        self.max = Some(self.max.map_or(words, |m| m.max(words)));
    }
}

/// The longest message (the first of equals).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Longest {
    pub role: Role,
    pub turn: u32,
    pub words: u32,
}

/// The facts of a conversation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Facts {
    /// Exchanges with an assistant reply.
    pub turns: u32,
    pub messages: Vec<MessageFacts>,
    pub exchanges: Vec<ExchangeFacts>,
    /// Assistant words in total per user word in total.
    pub ratio: Option<f64>,
    /// The largest per-exchange ratio.
    pub ratio_max: Option<f64>,
    pub longest: Option<Longest>,
    pub user: RoleFacts,
    pub assistant: RoleFacts,
}

/// The facts of a conversation of (role, text) pairs.
pub fn facts<R: AsRef<str>, T: AsRef<str>>(conversation: &[(R, T)]) -> Facts {
    let counts: Vec<(Role, u32)> = conversation
        .iter()
        .filter_map(|(role, text)| {
            Role::parse(role.as_ref()).map(|r| (r, word_count(text.as_ref())))
        })
        .collect();
    Facts::from_counts(&counts)
}

fn ratio(assistant: u64, user: u64) -> Option<f64> {
    (user > 0).then(|| assistant as f64 / user as f64)
}

impl Facts {
    /// The facts of messages already counted: (role, words) in order.
    pub fn from_counts(messages: &[(Role, u32)]) -> Facts {
        let mut out = Facts {
            turns: 0,
            messages: Vec::with_capacity(messages.len()),
            exchanges: Vec::new(),
            ratio: None,
            ratio_max: None,
            longest: None,
            user: RoleFacts::default(),
            assistant: RoleFacts::default(),
        };
        let mut previous: Option<Role> = None;
        for &(role, words) in messages {
            if role == Role::User && previous != Some(Role::User) {
                let turn = out.exchanges.len() as u32 + 1;
                out.exchanges.push(ExchangeFacts {
                    turn,
                    user_words: 0,
                    assistant_words: 0,
                    complete: false,
                    ratio: None,
                });
            }
            previous = Some(role);
            let turn = out.exchanges.len() as u32;
            if let Some(exchange) = out.exchanges.last_mut() {
                match role {
                    Role::User => exchange.user_words = exchange.user_words.saturating_add(words),
                    Role::Assistant => {
                        exchange.assistant_words = exchange.assistant_words.saturating_add(words);
                        exchange.complete = true;
                    }
                }
            }
            match role {
                Role::User => out.user.add(words),
                Role::Assistant => out.assistant.add(words),
            }
            if out.longest.is_none_or(|l| words > l.words) {
                out.longest = Some(Longest { role, turn, words });
            }
            out.messages.push(MessageFacts { role, turn, words });
        }
        for exchange in &mut out.exchanges {
            if exchange.complete {
                out.turns += 1;
                exchange.ratio = ratio(
                    u64::from(exchange.assistant_words),
                    u64::from(exchange.user_words),
                );
                if let Some(r) = exchange.ratio {
                    out.ratio_max = Some(out.ratio_max.map_or(r, |m: f64| m.max(r)));
                }
            }
        }
        out.ratio = ratio(out.assistant.total, out.user.total);
        out
    }

    /// The value of a `decide` variable ([`Decide::variables`]); `None` for
    /// an unknown name, and for a minimum, maximum or ratio that does not
    /// exist (no message of that role, no user words).
    pub fn var(&self, name: &str) -> Option<f64> {
        let f = |x: Option<u32>| x.map(f64::from);
        match name {
            "turns" => Some(f64::from(self.turns)),
            "user_words_total" => Some(self.user.total as f64),
            "assistant_words_total" => Some(self.assistant.total as f64),
            "user_words_max" => f(self.user.max),
            "user_words_min" => f(self.user.min),
            "assistant_words_max" => f(self.assistant.max),
            "assistant_words_min" => f(self.assistant.min),
            "ratio" => self.ratio,
            "ratio_max" => self.ratio_max,
            "longest_words" => self.longest.map(|l| f64::from(l.words)),
            _ => None,
        }
    }

    /// The block of stated facts a judge is given, for the requested kinds
    /// (in canonical order, repeats ignored); empty when none is requested.
    /// The format is in the module's documentation.
    pub fn render(&self, kinds: &[FactKind]) -> String {
        let want = |k: FactKind| kinds.contains(&k);
        if !FactKind::ALL.into_iter().any(want) {
            return String::new();
        }
        let mut out = String::from("Facts computed by the program (exact, do not re-count):\n");
        if want(FactKind::Turns) {
            let _ = writeln!(out, "- Exchanges: {}", self.turns);
        }
        if want(FactKind::Words) {
            out.push_str("- Words per message:");
            if self.messages.is_empty() {
                out.push_str(" none (no messages)");
            }
            out.push('\n');
            let mut i = 0;
            while i < self.messages.len() {
                let turn = self.messages[i].turn;
                if turn == 0 {
                    out.push_str("  - before the first user message: ");
                } else {
                    let _ = write!(out, "  - turn {turn}: ");
                }
                let mut first = true;
                while i < self.messages.len() && self.messages[i].turn == turn {
                    let m = self.messages[i];
                    if !first {
                        out.push_str(", ");
                    }
                    let _ = write!(out, "{} {}", m.role.name(), m.words);
                    first = false;
                    i += 1;
                }
                out.push('\n');
            }
            let _ = writeln!(
                out,
                "- Words in total: user {}, assistant {}",
                self.user.total, self.assistant.total
            );
        }
        if want(FactKind::Ratio) {
            out.push_str("- Assistant words per user word:\n");
            for e in self.exchanges.iter().filter(|e| e.complete) {
                match e.ratio {
                    Some(r) => {
                        let _ = writeln!(out, "  - turn {}: {r:.2}", e.turn);
                    }
                    None => {
                        let _ = writeln!(
                            out,
                            "  - turn {}: n/a (the user message has no words)",
                            e.turn
                        );
                    }
                }
            }
            match self.ratio {
                Some(r) => {
                    let _ = writeln!(out, "  - overall: {r:.2}");
                }
                None => out.push_str("  - overall: n/a (no user words)\n"),
            }
        }
        if want(FactKind::Longest) {
            match self.longest {
                Some(l) if l.turn == 0 => {
                    let _ = writeln!(
                        out,
                        "- Longest message: {}, before the first user message ({} words)",
                        l.role.name(),
                        l.words
                    );
                }
                Some(l) => {
                    let _ = writeln!(
                        out,
                        "- Longest message: {}, turn {} ({} words)",
                        l.role.name(),
                        l.turn,
                        l.words
                    );
                }
                None => out.push_str("- Longest message: none (no messages)\n"),
            }
        }
        out
    }
}

// ---------------------------------------------------------------------------
// decide

/// The variables a `decide` expression may use, as [`Facts::var`] reads them.
const VARIABLES: &[&str] = &[
    "turns",
    "user_words_total",
    "assistant_words_total",
    "user_words_max",
    "user_words_min",
    "assistant_words_max",
    "assistant_words_min",
    "ratio",
    "ratio_max",
    "longest_words",
];

/// Parentheses nest at most this deep.
pub const MAX_DEPTH: usize = 32;

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

impl Op {
    pub fn symbol(self) -> &'static str {
        match self {
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Eq => "==",
            Op::Ne => "!=",
        }
    }

    fn apply(self, a: f64, b: f64) -> bool {
        match self {
            Op::Lt => a < b,
            Op::Le => a <= b,
            Op::Gt => a > b,
            Op::Ge => a >= b,
            Op::Eq => a == b,
            Op::Ne => a != b,
        }
    }
}

/// A node of a parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Compare {
        var: &'static str,
        op: Op,
        value: f64,
    },
    And(Vec<Node>),
    Or(Vec<Node>),
}

/// A parsed `decide` expression: `VAR OP NUMBER` comparisons joined by
/// `and` and `or` (`and` binds tighter), with parentheses.
///
/// A comparison whose variable has no value (an absent maximum, a ratio
/// without user words) is false, whatever its operator.
#[derive(Debug, Clone, PartialEq)]
pub struct Decide {
    root: Node,
}

/// Why an expression does not parse: a byte range of the expression, a
/// message, and what to write instead when the program can tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecideError {
    pub offset: usize,
    pub len: usize,
    pub message: String,
    pub hint: Option<String>,
}

impl fmt::Display for DecideError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at byte {})", self.message, self.offset)?;
        if let Some(hint) = &self.hint {
            write!(f, "; {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for DecideError {}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Tok<'a> {
    Ident(&'a str),
    Number(f64),
    Op(Op),
    Open,
    Close,
    End,
}

#[derive(Debug, Clone, Copy)]
struct Token<'a> {
    tok: Tok<'a>,
    offset: usize,
    len: usize,
}

fn error(
    offset: usize,
    len: usize,
    message: impl Into<String>,
    hint: Option<String>,
) -> DecideError {
    DecideError {
        offset,
        len,
        message: message.into(),
        hint,
    }
}

const EXAMPLE: &str = "for example `assistant_words_max < 150 and turns >= 2`";

fn lex(text: &str) -> Result<Vec<Token<'_>>, DecideError> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < text.len() {
        let Some(c) = text[i..].chars().next() else {
            break;
        };
        let start = i;
        if c.is_whitespace() {
            i += c.len_utf8();
            continue;
        }
        let two = bytes.get(i + 1).copied();
        let mut op = |o: Op, len: usize| {
            out.push(Token {
                tok: Tok::Op(o),
                offset: start,
                len,
            });
            len
        };
        match c {
            '(' => {
                out.push(Token {
                    tok: Tok::Open,
                    offset: start,
                    len: 1,
                });
                i += 1;
            }
            ')' => {
                out.push(Token {
                    tok: Tok::Close,
                    offset: start,
                    len: 1,
                });
                i += 1;
            }
            '<' if two == Some(b'=') => i += op(Op::Le, 2),
            '>' if two == Some(b'=') => i += op(Op::Ge, 2),
            '=' if two == Some(b'=') => i += op(Op::Eq, 2),
            '!' if two == Some(b'=') => i += op(Op::Ne, 2),
            '<' => i += op(Op::Lt, 1),
            '>' => i += op(Op::Gt, 1),
            '=' => {
                return Err(error(
                    start,
                    1,
                    "`=` is not a comparison",
                    Some("write `==` to compare for equality".into()),
                ));
            }
            '&' | '|' => {
                let len = if two == Some(c as u8) { 2 } else { 1 };
                let word = if c == '&' { "and" } else { "or" };
                return Err(error(
                    start,
                    len,
                    format!("`{}` is not an operator here", &text[start..start + len]),
                    Some(format!("write `{word}`")),
                ));
            }
            c if c.is_ascii_digit() || c == '.' || c == '-' || c == '+' => {
                let mut end = i + 1;
                while end < text.len() && (bytes[end].is_ascii_digit() || bytes[end] == b'.') {
                    end += 1;
                }
                let literal = &text[i..end];
                // Digits with at most one inner `.`, after an optional sign.
                let digits = literal.strip_prefix(['-', '+']).unwrap_or(literal);
                let value = literal.parse::<f64>().ok().filter(|v| {
                    v.is_finite() && !digits.starts_with('.') && !digits.ends_with('.')
                });
                match value {
                    Some(v) => out.push(Token {
                        tok: Tok::Number(v),
                        offset: i,
                        len: end - i,
                    }),
                    None => {
                        return Err(error(
                            i,
                            end - i,
                            format!("`{literal}` is not a number"),
                            Some("write a number such as `150`, `1.5` or `-2`".into()),
                        ));
                    }
                }
                i = end;
            }
            c if c.is_alphabetic() || c == '_' => {
                let mut end = i;
                for (off, d) in text[i..].char_indices() {
                    if d.is_alphanumeric() || d == '_' {
                        end = i + off + d.len_utf8();
                    } else {
                        break;
                    }
                }
                out.push(Token {
                    tok: Tok::Ident(&text[i..end]),
                    offset: i,
                    len: end - i,
                });
                i = end;
            }
            c => {
                return Err(error(
                    start,
                    c.len_utf8(),
                    format!("unexpected character `{c}`"),
                    Some(format!(
                        "an expression compares variables with numbers, {EXAMPLE}"
                    )),
                ));
            }
        }
    }
    out.push(Token {
        tok: Tok::End,
        offset: text.len(),
        len: 0,
    });
    Ok(out)
}

/// The known variable nearest to `name`, when it is near enough.
fn nearest(name: &str) -> Option<&'static str> {
    VARIABLES
        .iter()
        .map(|v| (strsim::damerau_levenshtein(name, v), *v))
        .filter(|&(d, v)| d <= (v.len() / 3).max(2) || v.contains(name) || name.contains(v))
        .min_by_key(|&(d, _)| d)
        .map(|(_, v)| v)
}

struct Parser<'a> {
    tokens: Vec<Token<'a>>,
    at: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Token<'a> {
        self.tokens[self.at.min(self.tokens.len() - 1)]
    }

    fn bump(&mut self) -> Token<'a> {
        let t = self.peek();
        if self.at < self.tokens.len() - 1 {
            self.at += 1;
        }
        t
    }

    fn keyword(&self, word: &str) -> bool {
        matches!(self.peek().tok, Tok::Ident(w) if w == word)
    }

    fn or(&mut self, depth: usize) -> Result<Node, DecideError> {
        let mut parts = Vec::new();
        loop {
            // `(a or b) or c` is `a or b or c`: one flat list, so that
            // printing and parsing again gives the same tree.
            match self.and(depth)? {
                Node::Or(inner) => parts.extend(inner),
                node => parts.push(node),
            }
            if !self.keyword("or") {
                break;
            }
            self.bump();
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Node::Or(parts)
        })
    }

    fn and(&mut self, depth: usize) -> Result<Node, DecideError> {
        let mut parts = Vec::new();
        loop {
            match self.atom(depth)? {
                Node::And(inner) => parts.extend(inner),
                node => parts.push(node),
            }
            if !self.keyword("and") {
                break;
            }
            self.bump();
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Node::And(parts)
        })
    }

    fn atom(&mut self, depth: usize) -> Result<Node, DecideError> {
        let t = self.bump();
        match t.tok {
            Tok::Open => {
                if depth >= MAX_DEPTH {
                    return Err(error(
                        t.offset,
                        1,
                        format!("parentheses nest deeper than {MAX_DEPTH}"),
                        None,
                    ));
                }
                let inner = self.or(depth + 1)?;
                let close = self.bump();
                if close.tok != Tok::Close {
                    return Err(self.unexpected(
                        close,
                        "`)`",
                        Some(format!("close the `(` at byte {}", t.offset)),
                    ));
                }
                Ok(inner)
            }
            Tok::Ident(name) => self.compare(t, name),
            Tok::Number(_) => Err(error(
                t.offset,
                t.len,
                "expected a variable, found a number",
                Some("write the variable first, as in `turns >= 2`".into()),
            )),
            _ => Err(self.unexpected(t, "a comparison such as `turns >= 2`", None)),
        }
    }

    fn compare(&mut self, t: Token<'a>, name: &str) -> Result<Node, DecideError> {
        let Some(var) = VARIABLES.iter().find(|v| **v == name).copied() else {
            let (message, hint) = if name == "and" || name == "or" {
                (
                    format!("expected a comparison before `{name}`"),
                    "a comparison such as `turns >= 2` goes on each side".to_string(),
                )
            } else {
                let hint = match nearest(name) {
                    Some(v) => format!("did you mean `{v}`?"),
                    None => format!("the variables are {}", list(VARIABLES)),
                };
                (format!("unknown variable `{name}`"), hint)
            };
            return Err(error(t.offset, t.len, message, Some(hint)));
        };
        let op_token = self.bump();
        let Tok::Op(op) = op_token.tok else {
            return Err(self.unexpected(
                op_token,
                "a comparison operator (`<`, `<=`, `>`, `>=`, `==`, `!=`)",
                Some(format!(
                    "compare `{var}` with a number, as in `{var} < 150`"
                )),
            ));
        };
        let number = self.bump();
        let Tok::Number(value) = number.tok else {
            let hint = match number.tok {
                Tok::Ident(other) if VARIABLES.contains(&other) => {
                    Some("a variable is compared with a number, not with another variable".into())
                }
                _ => None,
            };
            return Err(self.unexpected(number, "a number", hint));
        };
        Ok(Node::Compare { var, op, value })
    }

    fn unexpected(&self, t: Token<'a>, expected: &str, hint: Option<String>) -> DecideError {
        let found = match t.tok {
            Tok::End => "the end of the expression".to_string(),
            Tok::Ident(w) => format!("`{w}`"),
            Tok::Number(_) => "a number".to_string(),
            Tok::Op(o) => format!("`{}`", o.symbol()),
            Tok::Open => "`(`".to_string(),
            Tok::Close => "`)`".to_string(),
        };
        let hint = hint.or_else(|| match t.tok {
            Tok::Ident(w) if w.eq_ignore_ascii_case("and") || w.eq_ignore_ascii_case("or") => {
                Some(format!("write `{}` in lower case", w.to_ascii_lowercase()))
            }
            _ => None,
        });
        error(
            t.offset,
            t.len,
            format!("expected {expected}, found {found}"),
            hint,
        )
    }
}

fn list(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Decide {
    /// Parses an expression; errors carry a byte range of `text`.
    pub fn parse(text: &str) -> Result<Decide, DecideError> {
        let tokens = lex(text)?;
        if tokens.len() == 1 {
            return Err(error(
                0,
                text.len(),
                "empty expression",
                Some(format!("write a comparison, {EXAMPLE}")),
            ));
        }
        let mut parser = Parser { tokens, at: 0 };
        let root = parser.or(0)?;
        let rest = parser.peek();
        if rest.tok != Tok::End {
            let hint = match rest.tok {
                Tok::Close => Some("this `)` closes nothing".to_string()),
                Tok::Ident(w) if w.eq_ignore_ascii_case("and") || w.eq_ignore_ascii_case("or") => {
                    Some(format!("write `{}` in lower case", w.to_ascii_lowercase()))
                }
                _ => Some("join comparisons with `and` or `or`".to_string()),
            };
            return Err(parser.unexpected(rest, "`and`, `or` or the end of the expression", hint));
        }
        Ok(Decide { root })
    }

    /// Evaluates the expression with the variables `vars` gives (a variable
    /// without a value makes its comparison false).
    pub fn eval(&self, vars: &dyn Fn(&str) -> Option<f64>) -> bool {
        fn eval(node: &Node, vars: &dyn Fn(&str) -> Option<f64>) -> bool {
            match node {
                Node::Compare { var, op, value } => vars(var)
                    .filter(|v| !v.is_nan())
                    .is_some_and(|v| op.apply(v, *value)),
                Node::And(parts) => parts.iter().all(|p| eval(p, vars)),
                Node::Or(parts) => parts.iter().any(|p| eval(p, vars)),
            }
        }
        eval(&self.root, vars)
    }

    /// Evaluates the expression on a conversation's facts.
    pub fn eval_facts(&self, facts: &Facts) -> bool {
        self.eval(&|name| facts.var(name))
    }

    /// The variables an expression may use.
    pub fn variables() -> &'static [&'static str] {
        VARIABLES
    }

    /// The parsed tree.
    pub fn root(&self) -> &Node {
        &self.root
    }

    /// The variables this expression uses, in order of first use.
    pub fn used(&self) -> Vec<&'static str> {
        fn walk(node: &Node, out: &mut Vec<&'static str>) {
            match node {
                Node::Compare { var, .. } => {
                    if !out.contains(var) {
                        out.push(var);
                    }
                }
                Node::And(parts) | Node::Or(parts) => parts.iter().for_each(|p| walk(p, out)),
            }
        }
        let mut out = Vec::new();
        walk(&self.root, &mut out);
        out
    }
}

impl std::str::FromStr for Decide {
    type Err = DecideError;
    fn from_str(s: &str) -> Result<Decide, DecideError> {
        Decide::parse(s)
    }
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Node::Compare { var, op, value } => write!(f, "{var} {} {value}", op.symbol()),
            Node::And(parts) => {
                for (i, p) in parts.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" and ")?;
                    }
                    match p {
                        Node::Or(_) => write!(f, "({p})")?,
                        _ => write!(f, "{p}")?,
                    }
                }
                Ok(())
            }
            Node::Or(parts) => {
                for (i, p) in parts.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" or ")?;
                    }
                    write!(f, "{p}")?;
                }
                Ok(())
            }
        }
    }
}

/// The canonical text: single spaces around operators and keywords, numbers
/// as Rust prints them (`150`, `1.5`), parentheses only around an `or`
/// inside an `and`. It parses back to the same tree.
impl fmt::Display for Decide {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.root.fmt(f)
    }
}

impl Serialize for Decide {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

// ---------------------------------------------------------------------------
// length rules

/// The generator's length rules for one exchange.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LengthRules {
    /// Assistant words per user word: the target range (min, max) and the
    /// hard limit.
    pub ratio: Option<(f64, f64, Option<f64>)>,
    /// The user's words per message, inclusive (from the writing style).
    pub user_words: Option<(u32, u32)>,
}

/// A length rule an exchange breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BreachKind {
    /// Hard: the ratio exceeds the limit.
    RatioOverLimit,
    /// Soft: the ratio is outside the target range but within the limit.
    RatioOutsideTarget,
    /// Hard: the user message's words are outside the style's range.
    UserWordsOutside,
}

impl BreachKind {
    /// Whether the breach breaks a rule (`limit`, the user's word range)
    /// rather than missing a target. The breach policy (`retry`, `record`)
    /// applies to hard breaches; soft ones are only recorded.
    pub fn is_hard(self) -> bool {
        !matches!(self, BreachKind::RatioOutsideTarget)
    }

    /// Whether it is the user's message that breaks the rule (not the
    /// assistant's reply).
    pub fn is_user(self) -> bool {
        matches!(self, BreachKind::UserWordsOutside)
    }
}

/// A broken length rule, with what was measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Breach {
    pub kind: BreachKind,
    pub detail: String,
}

/// The length rules an exchange breaks. A ratio over the limit is reported
/// as that alone (not also as outside the target). With no user words, the
/// ratio of a non-empty reply counts as infinite; an empty reply to an
/// empty message breaks no ratio rule. A target range given upside down is
/// read the right way up.
pub fn check_exchange(rules: &LengthRules, user_text: &str, assistant_text: &str) -> Vec<Breach> {
    let user = word_count(user_text);
    let assistant = word_count(assistant_text);
    let mut out = Vec::new();
    if let Some((lo, hi)) = rules.user_words {
        let (lo, hi) = (lo.min(hi), lo.max(hi));
        if user < lo || user > hi {
            out.push(Breach {
                kind: BreachKind::UserWordsOutside,
                detail: format!("the user message has {user} words, outside {lo}..{hi}"),
            });
        }
    }
    if let Some((min, max, limit)) = rules.ratio
        && !(user == 0 && assistant == 0)
    {
        let (min, max) = if min <= max { (min, max) } else { (max, min) };
        let r = if user == 0 {
            f64::INFINITY
        } else {
            f64::from(assistant) / f64::from(user)
        };
        let measured = if user == 0 {
            format!("{assistant} assistant words for a user message without words")
        } else {
            format!("{assistant} assistant words for {user} user words (ratio {r:.2})")
        };
        if let Some(limit) = limit.filter(|&l| r > l) {
            out.push(Breach {
                kind: BreachKind::RatioOverLimit,
                detail: format!("{measured}, over the limit {limit:.2}"),
            });
        } else if r < min || r > max {
            out.push(Breach {
                kind: BreachKind::RatioOutsideTarget,
                detail: format!("{measured}, outside the target {min:.2}..{max:.2}"),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_follow_the_definition() {
        assert_eq!(word_count(""), 0);
        assert_eq!(word_count("  ... -- ' ’ "), 0);
        assert_eq!(word_count("Hello, world!"), 2);
        assert_eq!(word_count("don't well-being l’heure"), 3);
        assert_eq!(word_count("a--b"), 2);
        assert_eq!(word_count("'quoted' -dash- end-"), 3);
        assert_eq!(word_count("re-re-read 3.5 x2"), 4);
        assert_eq!(word_count("Straße 東京 мир"), 3);
        let w: Vec<&str> = words("It's   the user’s—turn, isn't-it?").collect();
        assert_eq!(w, ["It's", "the", "user’s", "turn", "isn't-it"]);
    }

    fn conversation() -> Vec<(&'static str, &'static str)> {
        vec![
            ("system", "You are kind and brief."),
            ("user", "I can't sleep at all lately."), // 6
            (
                "assistant",
                "That sounds exhausting. What keeps you up at night?",
            ), // 9
            ("user", "Work."),                        // 1
            ("assistant", "Tell me more about work."), // 5
            ("assistant", "Only if you want to."),    // 5
            ("user", "Deadlines, mostly, and my manager."), // 5
        ]
    }

    #[test]
    fn facts_of_a_conversation() {
        let f = facts(&conversation());
        assert_eq!(f.turns, 2);
        assert_eq!(f.exchanges.len(), 3);
        assert!(!f.exchanges[2].complete);
        assert_eq!(f.exchanges[0].ratio, Some(1.5));
        assert_eq!(f.exchanges[1].ratio, Some(10.0));
        assert_eq!(f.ratio_max, Some(10.0));
        assert_eq!(
            f.user,
            RoleFacts {
                messages: 3,
                total: 12,
                min: Some(1),
                max: Some(6)
            }
        );
        assert_eq!(f.assistant.total, 19);
        assert_eq!(
            f.longest,
            Some(Longest {
                role: Role::Assistant,
                turn: 1,
                words: 9
            })
        );
        assert_eq!(f.var("turns"), Some(2.0));
        assert_eq!(f.var("ratio"), Some(19.0 / 12.0));
        assert_eq!(f.var("assistant_words_min"), Some(5.0));
        assert_eq!(f.var("longest_words"), Some(9.0));
        assert_eq!(f.var("nope"), None);
        for v in Decide::variables() {
            assert!(f.var(v).is_some(), "{v}");
        }
        let empty = facts::<&str, &str>(&[]);
        assert_eq!(empty.turns, 0);
        assert_eq!(empty.var("assistant_words_max"), None);
        assert_eq!(empty.var("ratio"), None);
        assert_eq!(empty.var("user_words_total"), Some(0.0));
        let greeting = facts(&[("assistant", "Hi there"), ("user", "hello")]);
        assert_eq!(greeting.messages[0].turn, 0);
        assert_eq!(greeting.turns, 0);
    }

    #[test]
    fn the_facts_block() {
        let f = facts(&conversation());
        let all = f.render(&[
            FactKind::Longest,
            FactKind::Ratio,
            FactKind::Words,
            FactKind::Turns,
            FactKind::Turns,
        ]);
        assert_eq!(
            all,
            "Facts computed by the program (exact, do not re-count):\n\
             - Exchanges: 2\n\
             - Words per message:\n\
             \x20 - turn 1: user 6, assistant 9\n\
             \x20 - turn 2: user 1, assistant 5, assistant 5\n\
             \x20 - turn 3: user 5\n\
             - Words in total: user 12, assistant 19\n\
             - Assistant words per user word:\n\
             \x20 - turn 1: 1.50\n\
             \x20 - turn 2: 10.00\n\
             \x20 - overall: 1.58\n\
             - Longest message: assistant, turn 1 (9 words)\n"
        );
        assert_eq!(f.render(&[]), "");
        assert_eq!(
            f.render(&[FactKind::Turns]),
            "Facts computed by the program (exact, do not re-count):\n- Exchanges: 2\n"
        );
        let silent = facts(&[("user", "..."), ("assistant", "Take your time.")]);
        assert!(
            silent
                .render(&[FactKind::Ratio])
                .contains("turn 1: n/a (the user message has no words)")
        );
        assert_eq!(FactKind::parse("longest"), Some(FactKind::Longest));
        assert_eq!(FactKind::parse("long"), None);
    }

    fn vars(name: &str) -> Option<f64> {
        match name {
            "turns" => Some(3.0),
            "assistant_words_max" => Some(140.0),
            "ratio" => Some(1.6),
            _ => None,
        }
    }

    #[test]
    fn decide_parses_and_evaluates() {
        let d = Decide::parse("assistant_words_max < 150").unwrap();
        assert!(d.eval(&vars));
        assert_eq!(d.to_string(), "assistant_words_max < 150");
        let d = Decide::parse("turns>=2 and(ratio<=1.5 or assistant_words_max!=140)").unwrap();
        assert!(!d.eval(&vars));
        assert_eq!(
            d.to_string(),
            "turns >= 2 and (ratio <= 1.5 or assistant_words_max != 140)"
        );
        // `and` binds tighter.
        let d = Decide::parse("turns == 1 and ratio > 1 or turns == 3").unwrap();
        assert!(d.eval(&vars));
        assert_eq!(d.to_string(), "turns == 1 and ratio > 1 or turns == 3");
        let d = Decide::parse("((turns > -1.5))").unwrap();
        assert_eq!(d.to_string(), "turns > -1.5");
        assert!(d.eval(&vars));
        // An absent value makes a comparison false, `!=` included.
        let d = Decide::parse("ratio_max != 1").unwrap();
        assert!(!d.eval(&vars));
        assert!(
            Decide::parse("ratio_max != 1 or turns == 3")
                .unwrap()
                .eval(&vars)
        );
        for text in [
            "turns >= 2 and (ratio <= 1.5 or ratio_max > 2) and longest_words < 300",
            "(turns < 1 or turns > 5) and ratio == 1",
        ] {
            let d = Decide::parse(text).unwrap();
            let again = Decide::parse(&d.to_string()).unwrap();
            assert_eq!(d, again);
            assert_eq!(d.to_string(), text);
        }
        assert_eq!(
            Decide::parse("turns < 1 and ratio > 2").unwrap().used(),
            ["turns", "ratio"]
        );
        let nested =
            Decide::parse("(turns < 1 and ratio > 2) and (ratio < 5 or (turns > 1 or turns < 0))")
                .unwrap();
        assert_eq!(
            nested.to_string(),
            "turns < 1 and ratio > 2 and (ratio < 5 or turns > 1 or turns < 0)"
        );
        assert_eq!(Decide::parse(&nested.to_string()).unwrap(), nested);
        let f = facts(&conversation());
        assert!(
            Decide::parse("turns == 2 and ratio_max >= 10")
                .unwrap()
                .eval_facts(&f)
        );
    }

    fn err(text: &str) -> DecideError {
        Decide::parse(text).unwrap_err()
    }

    #[test]
    fn decide_errors_are_located() {
        let e = err("assistant_word_max < 150");
        assert_eq!((e.offset, e.len), (0, 18));
        assert_eq!(e.message, "unknown variable `assistant_word_max`");
        assert_eq!(
            e.hint.as_deref(),
            Some("did you mean `assistant_words_max`?")
        );
        let e = err("turns >= 2 and colour < 3");
        assert_eq!((e.offset, e.len), (15, 6));
        assert!(e.hint.unwrap().starts_with("the variables are `turns`"));
        let e = err("turns = 2");
        assert_eq!((e.offset, e.len), (6, 1));
        assert_eq!(
            e.hint.as_deref(),
            Some("write `==` to compare for equality")
        );
        let e = err("turns > 2 && ratio < 1");
        assert_eq!((e.offset, e.len), (10, 2));
        assert_eq!(e.hint.as_deref(), Some("write `and`"));
        let e = err("turns > 2 AND ratio < 1");
        assert_eq!((e.offset, e.len), (10, 3));
        assert_eq!(e.hint.as_deref(), Some("write `and` in lower case"));
        let e = err("(turns > 2");
        assert_eq!((e.offset, e.len), (10, 0));
        assert_eq!(e.message, "expected `)`, found the end of the expression");
        let e = err("turns > 2)");
        assert_eq!((e.offset, e.len), (9, 1));
        let e = err("turns >");
        assert_eq!((e.offset, e.len), (7, 0));
        assert_eq!(
            e.message,
            "expected a number, found the end of the expression"
        );
        let e = err("turns 2");
        assert_eq!((e.offset, e.len), (6, 1));
        let e = err("150 > turns");
        assert_eq!((e.offset, e.len), (0, 3));
        let e = err("turns > 1.2.3");
        assert_eq!((e.offset, e.len), (8, 5));
        let e = err("turns > ratio");
        assert_eq!((e.offset, e.len), (8, 5));
        assert!(e.hint.unwrap().contains("not with another variable"));
        let e = err("  ");
        assert_eq!((e.offset, e.len), (0, 2));
        let e = err("turns > 2 and");
        assert_eq!((e.offset, e.len), (13, 0));
        let e = err("turns > 2 or and ratio < 1");
        assert_eq!((e.offset, e.len), (13, 3));
        // Non-ASCII: offsets are bytes.
        let e = err("tûrns > 2");
        assert_eq!((e.offset, e.len), (0, 6));
        let e = err("turns > 2 § 3");
        assert_eq!((e.offset, e.len), (10, 2));
        let deep = format!("{}turns > 1{}", "(".repeat(40), ")".repeat(40));
        let e = err(&deep);
        assert_eq!(e.offset, MAX_DEPTH);
        assert!(Decide::parse(&format!("{}turns > 1{}", "(".repeat(30), ")".repeat(30))).is_ok());
        assert_eq!(err("turns > .5").offset, 8);
        assert_eq!(err("turns > 5.").offset, 8);
        assert_eq!(err("turns > -").offset, 8);
    }

    #[test]
    fn length_rules() {
        let rules = LengthRules {
            ratio: Some((1.0, 1.5, Some(2.0))),
            user_words: Some((3, 20)),
        };
        assert!(check_exchange(&rules, "one two three four", "a b c d e").is_empty());
        let b = check_exchange(&rules, "one two three four", "a b c d e f g h i");
        assert_eq!(b.len(), 1);
        assert_eq!(b[0].kind, BreachKind::RatioOverLimit);
        assert!(b[0].kind.is_hard());
        assert_eq!(
            b[0].detail,
            "9 assistant words for 4 user words (ratio 2.25), over the limit 2.00"
        );
        let b = check_exchange(&rules, "one two three four", "a b c d e f g");
        assert_eq!(b[0].kind, BreachKind::RatioOutsideTarget);
        assert!(!b[0].kind.is_hard());
        let b = check_exchange(&rules, "hi", "a");
        assert_eq!(
            b.iter().map(|b| b.kind).collect::<Vec<_>>(),
            [BreachKind::UserWordsOutside]
        );
        let b = check_exchange(&rules, "", "hello");
        assert_eq!(b.len(), 2);
        assert_eq!(b[1].kind, BreachKind::RatioOverLimit);
        assert_eq!(
            check_exchange(
                &LengthRules {
                    ratio: Some((1.0, 1.5, None)),
                    user_words: None
                },
                "",
                ""
            )
            .len(),
            0
        );
        let upside = LengthRules {
            ratio: Some((1.5, 1.0, None)),
            user_words: Some((20, 3)),
        };
        assert!(check_exchange(&upside, "one two three four", "a b c d e").is_empty());
        assert!(check_exchange(&LengthRules::default(), "", "x").is_empty());
    }
}
