//! The shared facts module: what the program counts in a conversation
//! rather than asking a model.
//!
//! This first version holds what the compiler needs: [`word_count`], the
//! one definition of a word, and [`Decide`], the expression a rubric
//! question's `decide` is written in (parsed when the spec compiles,
//! evaluated on a conversation's facts). The facts of a conversation
//! themselves (`Facts`, length rules) are added beside them by the
//! generation work; keep the API of `Decide` and `word_count` as it is.
//!
//! # Words
//!
//! A word is a maximal run of alphanumeric characters (`char::is_alphanumeric`,
//! so any script counts), where a single `'`, `’` or `-` between two
//! alphanumeric characters joins them: "don't", "well-being" and "l’été"
//! are one word each; "--" or a quote around a word is not part of it.
//!
//! # `decide` expressions
//!
//! ```text
//! expr       = and_expr ("or" and_expr)*
//! and_expr   = atom ("and" atom)*
//! atom       = "(" expr ")" | VAR OP NUMBER
//! OP         = "<" | "<=" | ">" | ">=" | "==" | "!="
//! NUMBER     = digits ("." digits)?
//! ```
//!
//! `and` binds tighter than `or`. The variables are listed by
//! [`Decide::variables`]. A variable the conversation has no value for
//! (the ratio of a conversation whose user wrote no words) makes its
//! comparison false.

use std::fmt;

/// The number of words in `text` (see the module documentation).
pub fn word_count(text: &str) -> u32 {
    let mut count: u32 = 0;
    let mut in_word = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_alphanumeric() {
            if !in_word {
                count = count.saturating_add(1);
                in_word = true;
            }
        } else if in_word
            && matches!(c, '\'' | '’' | '-')
            && chars.peek().is_some_and(|n| n.is_alphanumeric())
        {
            // A joiner inside a word: the word goes on.
        } else {
            in_word = false;
        }
    }
    count
}

/// The variables a `decide` expression may compare, with what each is.
pub const VARIABLES: &[(&str, &str)] = &[
    ("turns", "user–assistant exchanges in the conversation"),
    ("user_words_total", "words of all user messages together"),
    (
        "assistant_words_total",
        "words of all assistant messages together",
    ),
    ("user_words_max", "words of the longest user message"),
    ("user_words_min", "words of the shortest user message"),
    (
        "assistant_words_max",
        "words of the longest assistant message",
    ),
    (
        "assistant_words_min",
        "words of the shortest assistant message",
    ),
    (
        "ratio",
        "assistant words total ÷ user words total (no value when the user wrote no words)",
    ),
    (
        "ratio_max",
        "the largest assistant ÷ user word ratio of one exchange",
    ),
    (
        "longest_words",
        "words of the longest message, whoever wrote it",
    ),
];

static NAMES: [&str; 10] = [
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
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Eq => "==",
            Op::Ne => "!=",
        }
    }

    fn apply(self, left: f64, right: f64) -> bool {
        match self {
            Op::Lt => left < right,
            Op::Le => left <= right,
            Op::Gt => left > right,
            Op::Ge => left >= right,
            Op::Eq => left == right,
            Op::Ne => left != right,
        }
    }
}

/// A parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// `VAR OP NUMBER`; `number` keeps how it was written.
    Compare {
        var: &'static str,
        op: Op,
        value: f64,
        number: String,
    },
    And(Vec<Expr>),
    Or(Vec<Expr>),
}

impl Expr {
    fn eval(&self, vars: &dyn Fn(&str) -> Option<f64>) -> bool {
        match self {
            Expr::Compare { var, op, value, .. } => vars(var).is_some_and(|v| op.apply(v, *value)),
            Expr::And(parts) => parts.iter().all(|p| p.eval(vars)),
            Expr::Or(parts) => parts.iter().any(|p| p.eval(vars)),
        }
    }

    fn collect_vars(&self, out: &mut Vec<&'static str>) {
        match self {
            Expr::Compare { var, .. } => {
                if !out.contains(var) {
                    out.push(var);
                }
            }
            Expr::And(parts) | Expr::Or(parts) => parts.iter().for_each(|p| p.collect_vars(out)),
        }
    }

    /// Writes the expression; `nested` parenthesises an `or` inside an `and`.
    fn write(&self, f: &mut fmt::Formatter<'_>, inside_and: bool) -> fmt::Result {
        match self {
            Expr::Compare {
                var, op, number, ..
            } => write!(f, "{var} {} {number}", op.as_str()),
            Expr::And(parts) => {
                for (i, p) in parts.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" and ")?;
                    }
                    p.write(f, true)?;
                }
                Ok(())
            }
            Expr::Or(parts) => {
                if inside_and {
                    f.write_str("(")?;
                }
                for (i, p) in parts.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" or ")?;
                    }
                    p.write(f, false)?;
                }
                if inside_and {
                    f.write_str(")")?;
                }
                Ok(())
            }
        }
    }
}

/// A question's `decide` expression, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct Decide {
    expr: Expr,
}

/// Why an expression does not parse: a byte range of the expression's
/// text, a message, and a hint when there is one to give.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecideError {
    pub offset: usize,
    pub len: usize,
    pub message: String,
    pub hint: Option<String>,
}

/// Parentheses nested deeper than any expression needs.
const MAX_DEPTH: usize = 32;

impl Decide {
    /// Parses an expression.
    pub fn parse(text: &str) -> Result<Decide, DecideError> {
        let tokens = lex(text)?;
        let mut parser = Parser {
            tokens,
            at: 0,
            end: text.len(),
        };
        if parser.tokens.is_empty() {
            return Err(DecideError {
                offset: 0,
                len: text.len(),
                message: "the expression is empty".into(),
                hint: Some(
                    "write a comparison of a counted fact with a number, such as `assistant_words_max < 150`"
                        .into(),
                ),
            });
        }
        let expr = parser.or_expr(0)?;
        if let Some(token) = parser.peek() {
            let hint = match token.kind {
                Kind::Close => Some("this `)` closes no `(`: remove it".to_string()),
                _ => Some("join comparisons with `and` or `or`".to_string()),
            };
            return Err(DecideError {
                offset: token.start,
                len: token.len,
                message: format!(
                    "expected `and`, `or` or the end, found {}",
                    token.describe()
                ),
                hint,
            });
        }
        Ok(Decide { expr })
    }

    /// Evaluates the expression with the conversation's facts: `vars`
    /// gives a variable's value, or `None` when the conversation has none
    /// (that comparison is then false).
    pub fn eval(&self, vars: &dyn Fn(&str) -> Option<f64>) -> bool {
        self.expr.eval(vars)
    }

    /// Every variable an expression may use.
    pub fn variables() -> &'static [&'static str] {
        &NAMES
    }

    /// The variables this expression uses, in the order they first appear.
    pub fn used_variables(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        self.expr.collect_vars(&mut out);
        out
    }

    /// The parsed expression.
    pub fn expr(&self) -> &Expr {
        &self.expr
    }
}

impl fmt::Display for Decide {
    /// The expression in canonical form: single spaces, parentheses only
    /// where `or` sits inside `and`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.expr.write(f, false)
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Word(String),
    Number(String),
    Op(Op),
    Open,
    Close,
}

#[derive(Debug, Clone)]
struct Token {
    kind: Kind,
    start: usize,
    len: usize,
}

impl Token {
    fn describe(&self) -> String {
        match &self.kind {
            Kind::Word(w) => format!("`{w}`"),
            Kind::Number(n) => format!("`{n}`"),
            Kind::Op(op) => format!("`{}`", op.as_str()),
            Kind::Open => "`(`".into(),
            Kind::Close => "`)`".into(),
        }
    }
}

fn lex(text: &str) -> Result<Vec<Token>, DecideError> {
    let mut tokens = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let start = i;
        let token = |kind: Kind, len: usize| Token { kind, start, len };
        match b {
            b' ' | b'\t' | b'\n' | b'\r' => {
                i += 1;
                continue;
            }
            b'(' => {
                tokens.push(token(Kind::Open, 1));
                i += 1;
            }
            b')' => {
                tokens.push(token(Kind::Close, 1));
                i += 1;
            }
            b'<' | b'>' | b'=' | b'!' => {
                let two = bytes.get(i + 1) == Some(&b'=');
                let op = match (b, two) {
                    (b'<', true) => Op::Le,
                    (b'<', false) => Op::Lt,
                    (b'>', true) => Op::Ge,
                    (b'>', false) => Op::Gt,
                    (b'=', true) => Op::Eq,
                    (b'!', true) => Op::Ne,
                    (b'=', false) => {
                        return Err(DecideError {
                            offset: start,
                            len: 1,
                            message: "`=` is not an operator".into(),
                            hint: Some("compare for equality with `==`".into()),
                        });
                    }
                    _ => {
                        return Err(DecideError {
                            offset: start,
                            len: 1,
                            message: "`!` is not an operator".into(),
                            hint: Some(
                                "write `!=` for \"not equal\", or turn the comparison around (`x >= 3` for \"not below 3\")"
                                    .into(),
                            ),
                        });
                    }
                };
                let len = if two { 2 } else { 1 };
                tokens.push(token(Kind::Op(op), len));
                i += len;
            }
            b'&' | b'|' => {
                let len = if bytes.get(i + 1) == Some(&b) { 2 } else { 1 };
                let word = if b == b'&' { "and" } else { "or" };
                return Err(DecideError {
                    offset: start,
                    len,
                    message: format!("`{}` is not an operator", &text[start..start + len]),
                    hint: Some(format!("join comparisons with the word `{word}`")),
                });
            }
            b'0'..=b'9' => {
                while i < bytes.len() && bytes[i].is_ascii_digit() {
                    i += 1;
                }
                if bytes.get(i) == Some(&b'.') && bytes.get(i + 1).is_some_and(u8::is_ascii_digit) {
                    i += 1;
                    while i < bytes.len() && bytes[i].is_ascii_digit() {
                        i += 1;
                    }
                }
                tokens.push(token(Kind::Number(text[start..i].to_string()), i - start));
            }
            _ if b.is_ascii_alphabetic() || b == b'_' => {
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                tokens.push(token(Kind::Word(text[start..i].to_string()), i - start));
            }
            _ => {
                let c = text[start..].chars().next().unwrap_or('?');
                let hint = match c {
                    '-' => "numbers are counts and ratios, never negative".to_string(),
                    '.' => "write a decimal with a digit before the point, such as `0.5`".to_string(),
                    '%' => "a ratio is written as a number, such as `1.5` for 150%".to_string(),
                    _ => "an expression holds variables, numbers, comparison operators, `and`, `or` and parentheses".to_string(),
                };
                return Err(DecideError {
                    offset: start,
                    len: c.len_utf8(),
                    message: format!("unexpected `{c}`"),
                    hint: Some(hint),
                });
            }
        }
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
    /// The length of the text, where "the end" is.
    end: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        token
    }

    fn at_word(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token { kind: Kind::Word(w), .. }) if w == word)
    }

    fn end_error(&self, message: &str, hint: &str) -> DecideError {
        DecideError {
            offset: self.end,
            len: 0,
            message: message.to_string(),
            hint: Some(hint.to_string()),
        }
    }

    fn or_expr(&mut self, depth: usize) -> Result<Expr, DecideError> {
        let mut parts = vec![self.and_expr(depth)?];
        while self.at_word("or") {
            self.at += 1;
            parts.push(self.and_expr(depth)?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Expr::Or(parts)
        })
    }

    fn and_expr(&mut self, depth: usize) -> Result<Expr, DecideError> {
        let mut parts = vec![self.atom(depth)?];
        while self.at_word("and") {
            self.at += 1;
            parts.push(self.atom(depth)?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Expr::And(parts)
        })
    }

    fn atom(&mut self, depth: usize) -> Result<Expr, DecideError> {
        let Some(token) = self.next() else {
            return Err(self.end_error(
                "the expression ends where a comparison was expected",
                "finish it with a comparison such as `turns >= 2`",
            ));
        };
        match token.kind {
            Kind::Open => {
                if depth >= MAX_DEPTH {
                    return Err(DecideError {
                        offset: token.start,
                        len: 1,
                        message: format!("parentheses are nested more than {MAX_DEPTH} deep"),
                        hint: Some("simplify the expression".into()),
                    });
                }
                let inner = self.or_expr(depth + 1)?;
                match self.next() {
                    Some(Token {
                        kind: Kind::Close, ..
                    }) => Ok(inner),
                    Some(other) => Err(DecideError {
                        offset: other.start,
                        len: other.len,
                        message: format!("expected `)`, found {}", other.describe()),
                        hint: Some(
                            "close the parenthesis, or join the comparisons with `and` or `or`"
                                .into(),
                        ),
                    }),
                    None => Err(DecideError {
                        offset: token.start,
                        len: 1,
                        message: "this `(` is never closed".into(),
                        hint: Some("add a `)` after the comparisons it groups".into()),
                    }),
                }
            }
            Kind::Word(word) => {
                let Some(var) = NAMES.iter().copied().find(|n| *n == word) else {
                    let message = if word == "and" || word == "or" {
                        format!("`{word}` needs a comparison before it")
                    } else {
                        format!("unknown variable `{word}`")
                    };
                    return Err(DecideError {
                        offset: token.start,
                        len: token.len,
                        message,
                        hint: Some(variable_hint(&word)),
                    });
                };
                let op = match self.next() {
                    Some(Token {
                        kind: Kind::Op(op), ..
                    }) => op,
                    Some(other) => {
                        return Err(DecideError {
                            offset: other.start,
                            len: other.len,
                            message: format!(
                                "expected a comparison operator after `{var}`, found {}",
                                other.describe()
                            ),
                            hint: Some(
                                "compare with `<`, `<=`, `>`, `>=`, `==` or `!=`, as in `turns >= 2`"
                                    .into(),
                            ),
                        });
                    }
                    None => {
                        return Err(self.end_error(
                            &format!("`{var}` is not compared with anything"),
                            "compare it with a number, as in `turns >= 2`",
                        ));
                    }
                };
                match self.next() {
                    Some(Token {
                        kind: Kind::Number(number),
                        ..
                    }) => {
                        let value = number.parse::<f64>().unwrap_or(f64::NAN);
                        Ok(Expr::Compare {
                            var,
                            op,
                            value,
                            number,
                        })
                    }
                    Some(other) => {
                        let hint = match other.kind {
                            Kind::Word(_) => {
                                "a comparison has a variable on the left and a number on the right; two variables cannot be compared"
                            }
                            _ => "write a number after the operator, such as `150` or `1.5`",
                        };
                        Err(DecideError {
                            offset: other.start,
                            len: other.len,
                            message: format!(
                                "expected a number after `{}`, found {}",
                                op.as_str(),
                                other.describe()
                            ),
                            hint: Some(hint.into()),
                        })
                    }
                    None => Err(self.end_error(
                        &format!("`{var} {}` has no number", op.as_str()),
                        "write the number to compare with, such as `150`",
                    )),
                }
            }
            Kind::Number(number) => Err(DecideError {
                offset: token.start,
                len: token.len,
                message: format!("a comparison starts with a variable, not `{number}`"),
                hint: Some("write the variable first, as in `assistant_words_max < 150`".into()),
            }),
            Kind::Op(op) => Err(DecideError {
                offset: token.start,
                len: token.len,
                message: format!("`{}` needs a variable before it", op.as_str()),
                hint: Some(variable_hint("")),
            }),
            Kind::Close => Err(DecideError {
                offset: token.start,
                len: 1,
                message: "expected a comparison, found `)`".into(),
                hint: Some("an empty `()` or a `)` that closes nothing: remove it".into()),
            }),
        }
    }
}

/// "did you mean `x`?", or the list of variables.
fn variable_hint(word: &str) -> String {
    let lower = word.to_ascii_lowercase();
    let limit = (word.chars().count() / 3).clamp(1, 5);
    let near = NAMES
        .iter()
        .map(|n| (strsim::damerau_levenshtein(&lower, n), *n))
        .filter(|(d, _)| *d <= limit)
        .min();
    match near {
        Some((_, n)) if !word.is_empty() => format!("did you mean `{n}`?"),
        _ => format!(
            "the variables are {}",
            NAMES
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, f64)]) -> impl Fn(&str) -> Option<f64> {
        let owned: Vec<(String, f64)> = pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect();
        move |name: &str| owned.iter().find(|(k, _)| k == name).map(|(_, v)| *v)
    }

    #[test]
    fn words_are_runs_of_letters_and_digits_joined_by_apostrophes_and_hyphens() {
        assert_eq!(word_count(""), 0);
        assert_eq!(word_count("   \n"), 0);
        assert_eq!(word_count("Hello, world!"), 2);
        assert_eq!(word_count("don't stop"), 2);
        assert_eq!(word_count("it’s a well-being check"), 4);
        assert_eq!(word_count("'quoted' -- dash - here"), 3);
        assert_eq!(word_count("trailing- 'x"), 2);
        assert_eq!(word_count("über café 東京 3.5"), 5);
        assert_eq!(word_count("a--b"), 2);
    }

    #[test]
    fn comparisons_evaluate_against_the_facts() {
        let d = Decide::parse("assistant_words_max < 150").unwrap();
        assert!(d.eval(&vars(&[("assistant_words_max", 149.0)])));
        assert!(!d.eval(&vars(&[("assistant_words_max", 150.0)])));
        for (text, expected) in [
            ("turns <= 3", true),
            ("turns >= 4", false),
            ("turns == 3", true),
            ("turns != 3", false),
            ("turns > 2", true),
        ] {
            let d = Decide::parse(text).unwrap();
            assert_eq!(d.eval(&vars(&[("turns", 3.0)])), expected, "{text}");
        }
    }

    #[test]
    fn and_binds_tighter_than_or_and_parentheses_group() {
        let facts = vars(&[("turns", 1.0), ("ratio", 3.0), ("ratio_max", 1.0)]);
        // turns >= 2 or (ratio < 2 and ratio_max < 2): false or (false and true).
        let d = Decide::parse("turns >= 2 or ratio < 2 and ratio_max < 2").unwrap();
        assert!(!d.eval(&facts));
        // (turns >= 2 or ratio > 2) and ratio_max < 2: true.
        let d = Decide::parse("(turns >= 2 or ratio > 2) and ratio_max < 2").unwrap();
        assert!(d.eval(&facts));
        assert_eq!(d.to_string(), "(turns >= 2 or ratio > 2) and ratio_max < 2");
        assert_eq!(d.used_variables(), ["turns", "ratio", "ratio_max"]);
        let d = Decide::parse("turns  >=2   or ((ratio<1.5))").unwrap();
        assert_eq!(d.to_string(), "turns >= 2 or ratio < 1.5");
    }

    #[test]
    fn a_variable_without_a_value_makes_its_comparison_false() {
        let d = Decide::parse("ratio <= 2").unwrap();
        assert!(!d.eval(&vars(&[])));
        let d = Decide::parse("ratio <= 2 or turns == 1").unwrap();
        assert!(d.eval(&vars(&[("turns", 1.0)])));
    }

    fn error(text: &str) -> DecideError {
        Decide::parse(text).expect_err(text)
    }

    #[test]
    fn errors_point_at_the_offending_text() {
        let e = error("asistant_words_max < 150");
        assert_eq!((e.offset, e.len), (0, 18));
        assert_eq!(e.message, "unknown variable `asistant_words_max`");
        assert_eq!(
            e.hint.as_deref(),
            Some("did you mean `assistant_words_max`?")
        );

        let e = error("turns = 3");
        assert_eq!((e.offset, e.len), (6, 1));
        assert!(e.hint.unwrap().contains("=="));

        let e = error("turns > 2 && ratio < 2");
        assert_eq!((e.offset, e.len), (10, 2));
        assert!(e.hint.unwrap().contains("`and`"));

        let e = error("150 > assistant_words_max");
        assert_eq!((e.offset, e.len), (0, 3));

        let e = error("turns >");
        assert_eq!((e.offset, e.len), (7, 0));

        let e = error("(turns > 2");
        assert_eq!((e.offset, e.len), (0, 1));
        assert_eq!(e.message, "this `(` is never closed");

        let e = error("turns > 2)");
        assert_eq!((e.offset, e.len), (9, 1));

        let e = error("turns > ratio");
        assert_eq!((e.offset, e.len), (8, 5));

        let e = error("turns 2");
        assert_eq!((e.offset, e.len), (6, 1));

        let e = error("turns > 2 ratio < 1");
        assert_eq!((e.offset, e.len), (10, 5));

        let e = error("   ");
        assert_eq!(e.message, "the expression is empty");

        let e = error("turns > -1");
        assert_eq!((e.offset, e.len), (8, 1));

        let e = error("turns > 2 and");
        assert_eq!((e.offset, e.len), (13, 0));

        let e = error("ratio < 1.5 é");
        assert_eq!((e.offset, e.len), (12, 2));
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let text = format!("{}turns > 1{}", "(".repeat(1000), ")".repeat(1000));
        let e = error(&text);
        assert_eq!(e.offset, MAX_DEPTH);
        let text = format!("{}turns > 1{}", "(".repeat(10), ")".repeat(10));
        assert!(Decide::parse(&text).is_ok());
    }

    #[test]
    fn every_listed_variable_parses() {
        assert_eq!(Decide::variables().len(), VARIABLES.len());
        for ((name, _), listed) in VARIABLES.iter().zip(Decide::variables()) {
            assert_eq!(name, listed);
            assert!(Decide::parse(&format!("{name} >= 0")).is_ok());
        }
    }
}
