//! Completion: keywords valid at the cursor, ids after the words that take
//! references, question ids and `yes`/`no`/`na` in `answers` blocks.
//!
//! The context comes from a scan of the text before the cursor (strings,
//! text blocks and comments skipped, braces tracked), not from the syntax
//! tree: while a line is being typed the tree does not hold it yet.
//!
//! That scan reads the text the request was made against, so the word an
//! item replaces is always the one under the cursor, even when the last
//! compilation is of an older text (the keystroke before). Only what is
//! offered comes from that compilation: the ids the spec declares, and the
//! questions already answered in an `answers` block. An id declared in the
//! last keystrokes is offered once its compilation lands.

use super::index::SymbolKind;
use super::view::View;
use crate::lint::config::BOUND_NAMES;
use crate::lint::rules::RULES;
use crate::source::Span;
use lsp_types::{CompletionItem, CompletionItemKind, CompletionTextEdit, TextEdit};

/// The kind of block the cursor is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Block {
    Top,
    Domain,
    Framework,
    Technique,
    Conversation,
    Failure,
    Anchors,
    Rubric,
    Group,
    QuestionBody,
    Example,
    Answers,
    Generation,
    Judge,
    Expert,
    Lint,
    Taxonomy,
    /// A taxonomy dimension or a persona trait: its values.
    Dimension,
    /// The body of a value: `subtopic`, `about`.
    ValueBody,
    Personas,
    FlawKind,
    /// The body of a flaw: `about`, `play`.
    FlawBody,
    UserSimulator,
}

/// A token of the text before the cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word(String),
    Text,
    Comma,
}

/// What the scan found about the cursor's surroundings.
#[derive(Debug)]
pub struct Context {
    pub block: Block,
    /// Tokens of the current item, before the word being typed.
    tokens: Vec<Token>,
    /// The word being typed (letters, digits, `_`, `.`, `-`) and its span.
    pub prefix: String,
    pub prefix_span: Span,
    /// The cursor is inside a string, a text block or a comment.
    pub in_literal: bool,
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-'
}

fn block_of(keyword: &str, enclosing: Block) -> Option<Block> {
    Some(match keyword {
        "domain" => Block::Domain,
        "framework" => Block::Framework,
        "technique" => Block::Technique,
        "example" => Block::Conversation,
        "failure" => Block::Failure,
        "always" | "never" if enclosing == Block::Top => Block::Anchors,
        "rubric" => Block::Rubric,
        "gate" | "category" => Block::Group,
        "calibration" | "fewshot" => Block::Example,
        "answers" => Block::Answers,
        "generation" => Block::Generation,
        "judge" => Block::Judge,
        "expert" => Block::Expert,
        "lint" => Block::Lint,
        "taxonomy" => Block::Taxonomy,
        "dimension" | "trait" => Block::Dimension,
        "value" if enclosing == Block::Dimension => Block::ValueBody,
        "personas" => Block::Personas,
        "flaws" => Block::FlawKind,
        "flaw" if enclosing == Block::FlawKind => Block::FlawBody,
        "user_simulator" => Block::UserSimulator,
        _ => return None,
    })
}

/// Scans `text` up to `offset`.
pub fn context(text: &str, offset: usize) -> Context {
    let offset = offset.min(text.len());
    let bytes = text.as_bytes();
    let mut stack = vec![Block::Top];
    // Words since the last brace: the block a `{` opens is named by the
    // last block keyword among them.
    let mut since_brace: Vec<String> = Vec::new();
    let mut tokens: Vec<Token> = Vec::new();
    let mut in_literal = false;
    let mut i = 0;
    while i < offset {
        let b = bytes[i];
        match b {
            b'#' => {
                let end = text[i..].find('\n').map(|n| i + n).unwrap_or(text.len());
                if end >= offset {
                    in_literal = true;
                    break;
                }
                i = end;
            }
            b'"' if text[i..].starts_with("\"\"\"") => {
                let end = text[i + 3..].find("\"\"\"").map(|n| i + 3 + n + 3);
                match end {
                    Some(end) if end <= offset => {
                        tokens.push(Token::Text);
                        i = end;
                    }
                    _ => {
                        in_literal = true;
                        break;
                    }
                }
            }
            b'"' => {
                // A quoted string runs to its closing quote or the end of
                // the line.
                let mut j = i + 1;
                let mut closed = false;
                while j < bytes.len() && bytes[j] != b'\n' {
                    if bytes[j] == b'\\' {
                        j += 2;
                        continue;
                    }
                    if bytes[j] == b'"' {
                        closed = true;
                        break;
                    }
                    j += 1;
                }
                let end = if closed { j + 1 } else { j.min(bytes.len()) };
                if end > offset || (!closed && end == offset) {
                    in_literal = true;
                    break;
                }
                tokens.push(Token::Text);
                i = end;
            }
            b'{' => {
                let top = *stack.last().unwrap_or(&Block::Top);
                let named = since_brace.iter().rev().find_map(|w| block_of(w, top));
                let block = match (named, top) {
                    (Some(b), _) => b,
                    (None, Block::Group) => Block::QuestionBody,
                    (None, _) => top,
                };
                stack.push(block);
                since_brace.clear();
                tokens.clear();
                i += 1;
            }
            b'}' => {
                if stack.len() > 1 {
                    stack.pop();
                }
                since_brace.clear();
                tokens.clear();
                i += 1;
            }
            b'\n' => {
                tokens.clear();
                i += 1;
            }
            b',' => {
                tokens.push(Token::Comma);
                i += 1;
            }
            _ if is_word_byte(b) => {
                let start = i;
                while i < offset && is_word_byte(bytes[i]) {
                    i += 1;
                }
                if i == offset {
                    // The word being typed.
                    let prefix = text[start..offset].to_string();
                    return Context {
                        block: *stack.last().unwrap_or(&Block::Top),
                        tokens,
                        prefix,
                        prefix_span: Span::new(start, offset),
                        in_literal: false,
                    };
                }
                let word = text[start..i].to_string();
                since_brace.push(word.clone());
                tokens.push(Token::Word(word));
            }
            _ => i += 1,
        }
    }
    Context {
        block: *stack.last().unwrap_or(&Block::Top),
        tokens,
        prefix: String::new(),
        prefix_span: Span::point(offset),
        in_literal,
    }
}

/// Keywords that start an item in `block`.
pub fn item_keywords(block: Block) -> &'static [&'static str] {
    match block {
        Block::Top => &[
            "domain",
            "framework",
            "failure",
            "always",
            "never",
            "rubric",
            "calibration",
            "fewshot",
            "generation",
            "judge",
            "expert",
            "lint",
            "taxonomy",
            "personas",
            "user_simulator",
        ],
        Block::Domain => &["title", "role", "audience", "about"],
        Block::Framework => &["about", "principle", "technique", "allow"],
        Block::Technique => &["about", "when", "example", "instead_of", "allow"],
        Block::Conversation => &["user", "assistant", "system"],
        Block::Failure => &["about", "example", "source", "allow"],
        Block::Anchors => &[],
        Block::Rubric => &["threshold", "define", "gate", "category", "allow"],
        Block::Group => &["all_na", "allow"],
        Block::QuestionBody => &[
            "when",
            "na",
            "define",
            "min_turns",
            "facts",
            "decide",
            "allow",
        ],
        Block::Example => &[
            "user",
            "assistant",
            "system",
            "answers",
            "shows",
            "why",
            "allow",
        ],
        Block::Answers => &[],
        Block::Generation => &[
            "turns",
            "mode",
            "ratio",
            "breach",
            "length",
            "format",
            "escalation",
            "scenario",
            "note",
            "training",
        ],
        Block::Judge => &["evidence", "calls", "aggregate", "note"],
        Block::Expert => &["perspective", "focus"],
        Block::Lint => &["allow", "deny", "warn"],
        Block::Taxonomy => &["edge_cases", "edge_case", "dimension", "allow"],
        Block::Dimension => &["value", "allow"],
        Block::ValueBody => &["subtopic", "about", "allow"],
        Block::Personas => &["flaw_free", "trait", "flaws", "trajectory", "allow"],
        Block::FlawKind => &["flaw", "allow"],
        Block::FlawBody => &["about", "play", "allow"],
        Block::UserSimulator => &["behaviour", "words", "note", "allow"],
    }
}

/// The facts a question may ask for, as `facts` lists them.
const FACTS: &[&str] = &["turns", "words", "ratio", "longest"];

/// Completions at `offset` of the request's text.
pub fn complete(view: &View, offset: usize) -> Vec<CompletionItem> {
    let cx = context(view.text(), offset);
    if cx.in_literal {
        return Vec::new();
    }
    let mut out = Completions {
        view,
        range: cx.prefix_span,
        items: Vec::new(),
    };
    let last_word = |tokens: &[Token]| match tokens.last() {
        Some(Token::Word(w)) => Some(w.clone()),
        _ => None,
    };
    // The keyword that starts the list the cursor is in: `checks a, b, |`.
    let list_keyword = {
        let mut k = cx.tokens.len();
        // Skip `ref ,` pairs back to the keyword.
        let is_list = |w: &str| matches!(w, "checks" | "guards" | "shows" | "facts");
        while k >= 2
            && cx.tokens[k - 1] == Token::Comma
            && matches!(&cx.tokens[k - 2], Token::Word(w) if !is_list(w))
        {
            k -= 2;
        }
        match cx.tokens.get(k.wrapping_sub(1)) {
            Some(Token::Word(w)) if is_list(w) => Some(w.clone()),
            _ => None,
        }
    };
    let previous = last_word(&cx.tokens);

    if let Some(keyword) = list_keyword {
        match keyword.as_str() {
            "checks" => {
                out.symbols(&[SymbolKind::Always, SymbolKind::Never], true);
                out.symbols(&[SymbolKind::Failure], true);
            }
            "guards" => out.symbols(&[SymbolKind::Failure], false),
            "facts" => return out.values(FACTS, &cx.prefix),
            _ => {
                out.symbols(&[SymbolKind::Technique], true);
                out.symbols(&[SymbolKind::Always, SymbolKind::Never], true);
            }
        }
        return out.filtered(&cx.prefix);
    }
    match previous.as_deref() {
        Some("instead_of") => {
            out.symbols(&[SymbolKind::Technique], true);
            return out.filtered(&cx.prefix);
        }
        Some("na") => return out.values(&["drop", "yes", "no"], &cx.prefix),
        Some("all_na") => return out.values(&["drop", "full_credit"], &cx.prefix),
        Some("expect") => return out.values(&["pass", "fail", "gate_fail"], &cx.prefix),
        Some("mode") => return out.values(&["simulate", "whole"], &cx.prefix),
        Some("breach") => return out.values(&["retry", "record"], &cx.prefix),
        Some("words") if cx.block == Block::UserSimulator => {
            out.symbols(&[SymbolKind::DimensionValue], true);
            return out.filtered(&cx.prefix);
        }
        Some("evidence") => return out.values(&["first", "none"], &cx.prefix),
        Some("calls") => return out.values(&["single", "per_question"], &cx.prefix),
        Some("aggregate") => {
            return out.values(&["strictest", "majority", "unanimous"], &cx.prefix);
        }
        Some("allow" | "deny" | "warn") => {
            for rule in RULES.iter().map(|r| r.meta()) {
                out.push(
                    rule.code,
                    CompletionItemKind::CONSTANT,
                    &format!("{} ({}): {}", rule.name, rule.level.as_str(), rule.summary),
                );
            }
            if previous.as_deref() == Some("deny") {
                out.push(
                    "warnings",
                    CompletionItemKind::CONSTANT,
                    "make every warning an error",
                );
            }
            return out.filtered(&cx.prefix);
        }
        _ => {}
    }
    if cx.block == Block::Answers {
        match cx.tokens.as_slice() {
            [] => {
                // Questions not answered yet in this block first, in
                // rubric order.
                let answered = answered_here(view, offset);
                for (_, s) in view.doc.index.of_kind(SymbolKind::Question) {
                    if !answered.contains(&s.name) {
                        out.push(&s.name, CompletionItemKind::FIELD, &s.detail);
                    }
                }
            }
            [Token::Word(_)] => return out.values(&["yes", "no", "na"], &cx.prefix),
            _ => {}
        }
        return out.filtered(&cx.prefix);
    }
    // After the text of an item, the words that may follow it.
    if cx.tokens.last() == Some(&Token::Text) {
        let first = match cx.tokens.first() {
            Some(Token::Word(w)) => w.as_str(),
            _ => "",
        };
        let follow: &[&str] = match (cx.block, first) {
            (Block::Anchors, _) => &["guards", "allow"],
            (Block::Group, _) => &["checks"],
            (_, "calibration") => &["expect"],
            (_, "category" | "value" | "flaw" | "trajectory" | "behaviour") => &["weight"],
            _ => &[],
        };
        if !follow.is_empty() {
            return out.values(follow, &cx.prefix);
        }
    }
    // `ratio 1.0..1.5 |`: the hard limit may follow the range.
    if let [Token::Word(first), Token::Word(_)] = cx.tokens.as_slice()
        && first == "ratio"
    {
        return out.values(&["limit"], &cx.prefix);
    }
    if cx.tokens.is_empty() {
        for keyword in item_keywords(cx.block) {
            out.push(keyword, CompletionItemKind::KEYWORD, "");
        }
        if cx.block == Block::Lint {
            for (name, what) in BOUND_NAMES {
                out.push(name, CompletionItemKind::PROPERTY, what);
            }
        }
    }
    out.filtered(&cx.prefix)
}

/// The question ids answered in the `answers` block around `offset`, as
/// the last compilation has it (the block grown or shrunk with the edits
/// since).
fn answered_here(view: &View, offset: usize) -> Vec<String> {
    use crate::syntax::ast::{ExampleItem, Item};
    for item in &view.doc.compilation.syntax.items {
        if let Item::Calibration(e) | Item::FewShot(e) = item {
            for i in &e.items {
                if let ExampleItem::Answers(a) = i
                    && let span = view.outline_span(a.span)
                    && span.start <= offset
                    && offset <= span.end
                {
                    return a.answers.iter().map(|x| x.question.name.clone()).collect();
                }
            }
        }
    }
    Vec::new()
}

struct Completions<'v> {
    view: &'v View<'v>,
    /// The word being typed, in the request's text.
    range: Span,
    items: Vec<CompletionItem>,
}

impl Completions<'_> {
    fn push(&mut self, label: &str, kind: CompletionItemKind, detail: &str) {
        if self.items.iter().any(|i| i.label == label) {
            return;
        }
        let n = self.items.len();
        self.items.push(CompletionItem {
            label: label.to_string(),
            kind: Some(kind),
            detail: (!detail.is_empty()).then(|| detail.to_string()),
            // Keep the order given here (rubric order, declaration order).
            sort_text: Some(format!("{n:05}")),
            text_edit: Some(CompletionTextEdit::Edit(TextEdit {
                range: self.view.range(self.range),
                new_text: label.to_string(),
            })),
            ..CompletionItem::default()
        });
    }

    /// Symbols of `kinds`, by their reference (`always.x`) when `dotted`,
    /// else by their name.
    fn symbols(&mut self, kinds: &[SymbolKind], dotted: bool) {
        let found: Vec<(String, String, SymbolKind)> = self
            .view
            .doc
            .index
            .symbols
            .iter()
            .filter(|s| kinds.contains(&s.kind))
            .map(|s| {
                let label = match (dotted, s.kind) {
                    (true, SymbolKind::Failure) => format!("failure.{}", s.name),
                    (true, _) => s.reference.clone(),
                    (false, _) => s.name.clone(),
                };
                (label, s.detail.clone(), s.kind)
            })
            .collect();
        for (label, detail, kind) in found {
            let item_kind = match kind {
                SymbolKind::Technique => CompletionItemKind::METHOD,
                SymbolKind::Failure => CompletionItemKind::EVENT,
                SymbolKind::DimensionValue => CompletionItemKind::ENUM_MEMBER,
                _ => CompletionItemKind::REFERENCE,
            };
            self.push(&label, item_kind, &detail);
        }
    }

    fn values(mut self, values: &[&str], prefix: &str) -> Vec<CompletionItem> {
        for v in values {
            self.push(v, CompletionItemKind::KEYWORD, "");
        }
        self.filtered(prefix)
    }

    /// Items that start with what has been typed (all of them when nothing
    /// has).
    fn filtered(self, prefix: &str) -> Vec<CompletionItem> {
        let lower = prefix.to_ascii_lowercase();
        self.items
            .into_iter()
            .filter(|i| {
                i.label.to_ascii_lowercase().starts_with(&lower)
                    || i.label
                        .split('.')
                        .next_back()
                        .is_some_and(|last| last.to_ascii_lowercase().starts_with(&lower))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The context at the `|` of `text`.
    fn at(text: &str) -> Context {
        let offset = text.find('|').expect("a cursor");
        context(&text.replace('|', ""), offset)
    }

    #[test]
    fn blocks_are_tracked_through_strings_comments_and_text_blocks() {
        let cx = at("rubric {\n  gate safety \"Safety {\" {\n    # a { comment\n    |");
        assert_eq!(cx.block, Block::Group);
        let cx = at("rubric { gate s \"S\" { S1 \"Q?\" { |");
        assert_eq!(cx.block, Block::QuestionBody);
        let cx = at("domain d {\n  about \"\"\"\n  { }\n  \"\"\"\n  |");
        assert_eq!(cx.block, Block::Domain);
        let cx = at("calibration c \"C\" expect pass {\n  answers {\n    S1 yes \"x\"\n  }\n  |");
        assert_eq!(cx.block, Block::Example);
        // `always` names an anchor block only at the top level.
        let cx = at("fewshot f \"F\" {\n  shows always.x\n  answers {\n    |");
        assert_eq!(cx.block, Block::Answers);
    }

    /// The labels offered at the `|` of `text`.
    fn labels(text: &str) -> Vec<String> {
        use crate::lsp::document::{Document, Text};
        use std::str::FromStr;
        let offset = text.find('|').expect("a cursor");
        let uri = lsp_types::Uri::from_str("file:///t.ftprep").unwrap();
        let text = Text::new(&uri, 1, text.replace('|', ""));
        let doc = Document::compile(uri, &text);
        complete(&View::new(&doc, &text), offset)
            .into_iter()
            .map(|item| item.label)
            .collect()
    }

    #[test]
    fn the_judge_block_offers_aggregate_and_its_policies() {
        let settings = labels("judge {\n  evidence first\n  |\n}\n");
        assert!(settings.contains(&"aggregate".to_string()), "{settings:?}");
        assert_eq!(
            labels("judge {\n  aggregate |\n}\n"),
            ["strictest", "majority", "unanimous"]
        );
        assert_eq!(labels("judge {\n  aggregate u|\n}\n"), ["unanimous"]);
    }

    #[test]
    fn the_new_blocks_offer_their_items_and_values() {
        let cx = at("taxonomy {\n  dimension topic \"T\" {\n    value a \"A\" weight 1 {\n      |");
        assert_eq!(cx.block, Block::ValueBody);
        let cx = at("personas {\n  flaws c \"C\" {\n    flaw f \"F\" weight 1 {\n      |");
        assert_eq!(cx.block, Block::FlawBody);
        let cx = at("personas {\n  trait age \"Age\" {\n    |");
        assert_eq!(cx.block, Block::Dimension);
        assert_eq!(
            labels("user_simulator {\n  |\n}\n"),
            ["behaviour", "words", "note", "allow"]
        );
        assert_eq!(
            labels("rubric { gate s \"S\" { S1 \"Q?\" { facts words, |"),
            ["turns", "words", "ratio", "longest"]
        );
        assert_eq!(labels("generation {\n  mode |\n}\n"), ["simulate", "whole"]);
        assert_eq!(
            labels("generation {\n  breach re|\n}\n"),
            ["retry", "record"]
        );
        assert_eq!(labels("generation {\n  ratio 1.0..1.5 |\n}\n"), ["limit"]);
        assert_eq!(
            labels("personas {\n  trajectory calm \"Calm\" |\n}\n"),
            ["weight"]
        );
        let spec = "taxonomy {\n  dimension style \"S\" {\n    value terse \"T\" weight 0.5\n    value verbose \"V\" weight 0.5\n  }\n}\nuser_simulator {\n  words st|\n}\n";
        assert_eq!(labels(spec), ["style.terse", "style.verbose"]);
        let spec = "taxonomy {\n  dimension style \"S\" {\n    value terse \"T\" weight 0.5\n    value verbose \"V\" weight 0.5\n  }\n}\nuser_simulator {\n  words style.v|\n}\n";
        assert_eq!(labels(spec), ["style.verbose"]);
    }

    #[test]
    fn literals_and_the_word_being_typed() {
        assert!(at("domain d {\n  title \"a | b\"").in_literal);
        assert!(at("domain d {\n  title \"unterminated |").in_literal);
        assert!(at("# a comment |").in_literal);
        assert!(at("domain d { about \"\"\"\n  text |").in_literal);
        assert!(!at("domain d {\n  title \"done\" |").in_literal);
        let cx = at("rubric { gate s \"S\" { S1 \"Q?\" checks always.na|");
        assert_eq!(cx.prefix, "always.na");
        assert_eq!(cx.tokens.last(), Some(&Token::Word("checks".into())));
        let cx = at("rubric { gate s \"S\" { S1 \"Q?\" checks always.a, |");
        assert_eq!(
            cx.tokens[cx.tokens.len() - 3..],
            [
                Token::Word("checks".into()),
                Token::Word("always.a".into()),
                Token::Comma
            ]
        );
    }
}
