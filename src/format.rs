//! The formatter: syntax tree → the one canonical layout of a spec.
//!
//! In: source text. Out: the same spec laid out canonically, or the syntax
//! diagnostics when the file cannot be read (a file with syntax errors is
//! never rewritten: what the parser skipped would be lost).
//!
//! The layout, documented in docs/language.md ("Formatting"):
//!
//! * two spaces per nesting level; one item per line; `{` ends the line of
//!   its block's header and `}` stands on a line of its own (an empty block
//!   is `{}`);
//! * exactly one blank line between top-level blocks; inside a block, a
//!   blank line the author left between two items is kept (several become
//!   one), none directly after `{` or before `}`;
//! * columns are aligned in runs of consecutive lines (a blank line ends a
//!   run) where that helps reading: the keys of `domain` properties, the
//!   roles of conversation turns, the ids of anchors, and the ids and
//!   answers of `answers` blocks;
//! * lists are written `a, b, c`; quoted strings are kept exactly as
//!   written (escapes included); text blocks are re-indented two spaces
//!   deeper than the line they start on, keeping the indentation of their
//!   lines relative to one another, so their value does not change;
//! * comments stay where they were: a comment on a line of its own stays
//!   on its own line before the item that followed it, at that item's
//!   indentation; a comment at the end of a line stays at the end of the
//!   line, two spaces after the code; trailing blanks in a comment are
//!   dropped.
//!
//! Formatting is idempotent, and the resolved model of the formatted text
//! is the model of the original (tests/format.rs checks both).

use crate::diagnostics::Diagnostics;
use crate::source::Span;
use crate::syntax::{self, ast::*};

/// Formats a spec. `Err` carries the syntax diagnostics of a file that
/// cannot be formatted.
pub fn format_source(source: &str) -> Result<String, Diagnostics> {
    let parsed = syntax::parse(source);
    if parsed.diagnostics.has_errors() {
        return Err(parsed.diagnostics);
    }
    let mut printer = Printer::new(source, &parsed.file.comments);
    printer.file(&parsed.file);
    Ok(printer.finish())
}

const INDENT: usize = 2;

/// What lines align with one another: keyword–value settings with
/// settings, conversation turns with turns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Align {
    Setting,
    Turn,
    /// The ids of weighted items: values, flaws, trajectories, behaviours.
    Id,
    /// The references of `words` rules.
    Reference,
}

fn setting(key: &Keyword, span: Span) -> Option<(Align, usize, Span)> {
    Some((Align::Setting, key.kind.as_str().len(), span))
}

struct Printer<'a> {
    src: &'a str,
    comments: &'a [Comment],
    /// The first comment not yet written.
    next_comment: usize,
    out: String,
    /// The source offset just past the last thing written.
    last_end: usize,
    /// Nothing has been written in the current block yet.
    block_start: bool,
    /// The next thing written at the top level needs a blank line first.
    blank_pending: bool,
}

/// A line of output before it is written: its text (which may span lines
/// when it holds a text block) and the source it came from.
struct Line {
    text: String,
    span: Span,
}

impl<'a> Printer<'a> {
    fn new(src: &'a str, comments: &'a [Comment]) -> Self {
        Printer {
            src,
            comments,
            next_comment: 0,
            out: String::with_capacity(src.len() + src.len() / 8),
            last_end: 0,
            block_start: true,
            blank_pending: false,
        }
    }

    fn finish(mut self) -> String {
        // Comments after the last block.
        self.comments_before(usize::MAX, 0);
        let trimmed = self.out.trim_end_matches('\n').len();
        self.out.truncate(trimmed);
        if !self.out.is_empty() {
            self.out.push('\n');
        }
        self.out
    }

    // ------------------------------------------------------------------
    // Layout primitives
    // ------------------------------------------------------------------

    /// Whether the source between `from` and `to` holds a blank line.
    fn blank_between(&self, from: usize, to: usize) -> bool {
        let gap = self.src.get(from..to).unwrap_or("");
        let mut newlines = 0;
        for c in gap.chars() {
            match c {
                '\n' => {
                    newlines += 1;
                    if newlines >= 2 {
                        return true;
                    }
                }
                ' ' | '\t' | '\r' => {}
                // Another token: only the gap after it counts.
                _ => newlines = 0,
            }
        }
        false
    }

    /// Writes the blank line that goes before something starting at
    /// `start`, if any.
    fn separate(&mut self, start: usize) {
        let blank = if self.blank_pending {
            true
        } else {
            !self.block_start && self.blank_between(self.last_end, start)
        };
        if blank && !self.out.is_empty() && !self.out.ends_with("\n\n") {
            self.out.push('\n');
        }
        self.blank_pending = false;
        self.block_start = false;
    }

    fn indent(&mut self, indent: usize) {
        for _ in 0..indent {
            self.out.push(' ');
        }
    }

    /// Writes, each on its own line, the comments that start before `pos`.
    fn comments_before(&mut self, pos: usize, indent: usize) {
        while let Some(comment) = self.comments.get(self.next_comment) {
            if comment.span.start >= pos {
                break;
            }
            self.separate(comment.span.start);
            self.indent(indent);
            self.out.push('#');
            self.out.push_str(comment.text.trim_end());
            self.out.push('\n');
            self.last_end = comment.span.end;
            self.next_comment += 1;
        }
    }

    /// Where `span` ends once the blanks and comments at its end are left
    /// out. (A grammar rule that ends in an optional part, such as an
    /// answer's reason, takes the trivia before the part it did not find.)
    fn tight_end(&self, span: Span) -> usize {
        let mut end = span.end.min(self.src.len());
        loop {
            let trimmed = self.src[span.start..end].trim_end().len() + span.start;
            end = trimmed;
            // The comment whose text the trimmed span ends in, if any.
            let i = self.comments.partition_point(|c| c.span.end < end);
            let ends_comment = self
                .comments
                .get(i)
                .filter(|c| c.span.start < end && c.span.start >= span.start)
                .map(|c| c.span.start);
            match ends_comment {
                Some(start) => end = start,
                None => return end,
            }
        }
    }

    /// Writes the line `make` lays out (it reads the printer, so it cannot
    /// be built while the printer is borrowed to write).
    fn put(&mut self, indent: usize, make: impl FnOnce(&Self) -> Line) {
        let line = make(self);
        self.line(indent, line);
    }

    /// Writes one line: the comments before it, the line, and the comments
    /// inside its source or after it on the same source line.
    fn line(&mut self, indent: usize, line: Line) {
        let line = Line {
            span: Span::new(line.span.start, self.tight_end(line.span)),
            ..line
        };
        self.comments_before(line.span.start, indent);
        self.separate(line.span.start);
        self.indent(indent);
        self.out.push_str(&line.text);
        self.last_end = self.last_end.max(line.span.end);
        self.trailing(line.span.end);
        self.out.push('\n');
    }

    /// Writes a block: `header {`, its body, `}`. `header_end` is where the
    /// header's last token ends, `end` where the block ends (after `}`).
    fn block(
        &mut self,
        indent: usize,
        header: String,
        start: usize,
        header_end: usize,
        end: usize,
        body: impl FnOnce(&mut Self, usize),
    ) {
        let open = syntax::open_brace_after(self.src, header_end).unwrap_or(header_end);
        let close = end.saturating_sub(1);
        // Blank between the braces: no items and no comments.
        let empty = self
            .src
            .get(open + 1..close)
            .is_some_and(|s| s.trim().is_empty());
        if empty {
            self.line(
                indent,
                Line {
                    text: format!("{header} {{}}"),
                    span: Span::new(start, end),
                },
            );
            return;
        }
        self.line(
            indent,
            Line {
                text: format!("{header} {{"),
                span: Span::new(start, open + 1),
            },
        );
        self.block_start = true;
        body(self, indent + INDENT);
        self.comments_before(close, indent + INDENT);
        self.block_start = false;
        self.indent(indent);
        self.out.push('}');
        self.last_end = end;
        self.trailing(end);
        self.out.push('\n');
    }

    /// Ends the line just written with a comment, if one belongs there:
    /// the first comment inside its source (before `end`) or after it on
    /// the same source line. Any others are written on lines of their own
    /// before whatever comes next, at its indentation.
    fn trailing(&mut self, end: usize) {
        if let Some(comment) = self.comments.get(self.next_comment) {
            let inside = comment.span.start < end;
            let same_line = self
                .src
                .get(end..comment.span.start)
                .is_some_and(|gap| !gap.contains('\n') && gap.trim().is_empty());
            if inside || same_line {
                self.out.push_str("  #");
                self.out.push_str(comment.text.trim_end());
                self.last_end = self.last_end.max(comment.span.end);
                self.next_comment += 1;
            }
        }
    }

    // ------------------------------------------------------------------
    // Tokens
    // ------------------------------------------------------------------

    fn raw(&self, span: Span) -> &'a str {
        self.src.get(span.range()).unwrap_or("")
    }

    /// A text value at a line of indentation `indent`.
    fn text(&self, text: &Text, indent: usize) -> String {
        match text.style {
            TextStyle::Quoted => self.raw(text.span).to_string(),
            TextStyle::Block => {
                let inner = " ".repeat(indent + INDENT);
                let mut out = String::from("\"\"\"\n");
                for line in text.value.split('\n') {
                    if !line.is_empty() {
                        out.push_str(&inner);
                        out.push_str(line);
                    }
                    out.push('\n');
                }
                out.push_str(&inner);
                out.push_str("\"\"\"");
                out
            }
        }
    }

    fn references(&self, refs: &[Reference]) -> String {
        refs.iter()
            .map(|r| self.raw(r.span))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn idents(names: &[Ident]) -> String {
        names
            .iter()
            .map(|n| n.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn allow(&self, allow: &Allow, indent: usize) -> Line {
        let mut text = format!("allow {}", allow.code.text);
        if let Some(reason) = &allow.reason {
            text.push(' ');
            text.push_str(&self.text(reason, indent));
        }
        Line {
            text,
            span: allow.span,
        }
    }

    /// `key value`, the key padded to `width`.
    fn property(&self, p: &Property, indent: usize, width: usize) -> Line {
        Line {
            text: format!(
                "{:<width$} {}",
                p.key.kind.as_str(),
                self.text(&p.value, indent)
            ),
            span: p.span,
        }
    }

    fn turn(&self, t: &Turn, indent: usize, width: usize) -> Line {
        Line {
            text: format!("{:<width$} {}", t.role.as_str(), self.text(&t.text, indent)),
            span: t.span,
        }
    }

    // ------------------------------------------------------------------
    // Runs of aligned lines
    // ------------------------------------------------------------------

    /// For each element, the width of its key column: the longest key of
    /// its run. A run is a stretch of consecutive elements of one kind
    /// (`key` gives the kind, the key's width and the element's span) with
    /// no blank line between them; `None` elements are not aligned.
    fn run_widths<T>(
        &self,
        items: &[T],
        key: impl Fn(&T) -> Option<(Align, usize, Span)>,
    ) -> Vec<usize> {
        let mut widths = vec![0; items.len()];
        let mut start = 0;
        while start < items.len() {
            let Some((kind, _, _)) = key(&items[start]) else {
                start += 1;
                continue;
            };
            let mut end = start + 1;
            while end < items.len() {
                let (Some((_, _, prev)), Some((next_kind, _, next))) =
                    (key(&items[end - 1]), key(&items[end]))
                else {
                    break;
                };
                if next_kind != kind || self.blank_between(prev.end, next.start) {
                    break;
                }
                end += 1;
            }
            let width = items[start..end]
                .iter()
                .filter_map(|i| key(i).map(|(_, w, _)| w))
                .max()
                .unwrap_or(0);
            for w in &mut widths[start..end] {
                *w = width;
            }
            start = end;
        }
        widths
    }

    // ------------------------------------------------------------------
    // The file and its blocks
    // ------------------------------------------------------------------

    fn file(&mut self, file: &File) {
        for item in &file.items {
            self.item(item);
            self.blank_pending = true;
        }
    }

    fn item(&mut self, item: &Item) {
        match item {
            Item::Domain(d) => self.domain(d),
            Item::Framework(f) => self.framework(f),
            Item::Failure(f) => self.failure(f),
            Item::Anchors(a) => self.anchors(a),
            Item::Rubric(r) => self.rubric(r),
            Item::Calibration(e) | Item::FewShot(e) => self.example_block(e),
            Item::Generation(g) => self.generation(g),
            Item::Judge(j) => self.judge(j),
            Item::Expert(e) => self.expert(e),
            Item::Lint(l) => self.lint(l),
            Item::Taxonomy(t) => self.taxonomy(t),
            Item::Personas(p) => self.personas(p),
            Item::UserSimulator(u) => self.user_simulator(u),
        }
    }

    fn domain(&mut self, d: &Domain) {
        let header = format!("domain {}", d.id.name);
        self.block(
            0,
            header,
            d.span.start,
            d.id.span.end,
            d.span.end,
            |p, indent| {
                let widths = p.run_widths(&d.properties, |prop| setting(&prop.key, prop.span));
                for (prop, width) in d.properties.iter().zip(widths) {
                    p.put(indent, |p| p.property(prop, indent, width));
                }
            },
        );
    }

    /// `keyword value`, the keyword padded to `width`.
    fn setting(&self, keyword: &str, value: &str, width: usize, span: Span) -> Line {
        Line {
            text: format!("{keyword:<width$} {value}"),
            span,
        }
    }

    fn framework(&mut self, f: &Framework) {
        let header = format!("framework {} {}", f.id.name, self.text(&f.title, 0));
        self.block(
            0,
            header,
            f.span.start,
            f.title.span.end,
            f.span.end,
            |p, indent| {
                let widths = p.run_widths(&f.items, |item| match item {
                    FrameworkItem::Property(prop) => setting(&prop.key, prop.span),
                    _ => None,
                });
                for (item, width) in f.items.iter().zip(widths) {
                    match item {
                        FrameworkItem::Property(prop) => {
                            p.put(indent, |p| p.property(prop, indent, width))
                        }
                        FrameworkItem::Technique(t) => p.technique(t, indent),
                        FrameworkItem::Allow(a) => p.put(indent, |p| p.allow(a, indent)),
                    }
                }
            },
        );
    }

    fn technique(&mut self, t: &Technique, indent: usize) {
        let header = format!("technique {} {}", t.id.name, self.text(&t.title, indent));
        self.block(
            indent,
            header,
            t.span.start,
            t.title.span.end,
            t.span.end,
            |p, indent| {
                let widths = p.run_widths(&t.items, |item| match item {
                    TechniqueItem::Property(prop) => setting(&prop.key, prop.span),
                    TechniqueItem::Example(e) => match &e.body {
                        ExampleBody::Text(_) => setting(&e.keyword, e.span),
                        ExampleBody::Conversation(_) => None,
                    },
                    _ => None,
                });
                for (item, width) in t.items.iter().zip(widths) {
                    match item {
                        TechniqueItem::Property(prop) => {
                            p.put(indent, |p| p.property(prop, indent, width))
                        }
                        TechniqueItem::Example(e) => p.example(e, indent, width),
                        TechniqueItem::InsteadOf(i) => {
                            let line = Line {
                                text: format!(
                                    "instead_of {} when {}",
                                    p.raw(i.target.span),
                                    p.text(&i.when, indent)
                                ),
                                span: i.span,
                            };
                            p.line(indent, line);
                        }
                        TechniqueItem::Allow(a) => p.put(indent, |p| p.allow(a, indent)),
                    }
                }
            },
        );
    }

    fn example(&mut self, e: &Example, indent: usize, width: usize) {
        match &e.body {
            ExampleBody::Text(text) => {
                let value = self.text(text, indent);
                self.put(indent, |p| p.setting("example", &value, width, e.span));
            }
            ExampleBody::Conversation(c) => {
                self.block(
                    indent,
                    "example".to_string(),
                    e.span.start,
                    e.keyword.span.end,
                    e.span.end,
                    |p, indent| p.turns(&c.turns, indent),
                );
            }
        }
    }

    fn turns(&mut self, turns: &[Turn], indent: usize) {
        let widths = self.run_widths(turns, |t| {
            Some((Align::Turn, t.role.as_str().len(), t.span))
        });
        for (turn, width) in turns.iter().zip(widths) {
            self.put(indent, |p| p.turn(turn, indent, width));
        }
    }

    fn failure(&mut self, f: &Failure) {
        let header = format!("failure {} {}", f.id.name, self.text(&f.title, 0));
        self.block(
            0,
            header,
            f.span.start,
            f.title.span.end,
            f.span.end,
            |p, indent| {
                let widths = p.run_widths(&f.items, |item| match item {
                    FailureItem::Property(prop) => setting(&prop.key, prop.span),
                    FailureItem::Example(e) => match &e.body {
                        ExampleBody::Text(_) => setting(&e.keyword, e.span),
                        ExampleBody::Conversation(_) => None,
                    },
                    FailureItem::Allow(_) => None,
                });
                for (item, width) in f.items.iter().zip(widths) {
                    match item {
                        FailureItem::Property(prop) => {
                            p.put(indent, |p| p.property(prop, indent, width))
                        }
                        FailureItem::Example(e) => p.example(e, indent, width),
                        FailureItem::Allow(a) => p.put(indent, |p| p.allow(a, indent)),
                    }
                }
            },
        );
    }

    fn anchors(&mut self, block: &AnchorBlock) {
        let header = block.polarity.as_str().to_string();
        self.block(
            0,
            header,
            block.span.start,
            block.keyword.span.end,
            block.span.end,
            |p, indent| {
                let widths = p.run_widths(&block.anchors, |a| {
                    Some((Align::Setting, a.id.name.len(), a.span))
                });
                for (anchor, width) in block.anchors.iter().zip(widths) {
                    let mut text = format!(
                        "{:<width$} {}",
                        anchor.id.name,
                        p.text(&anchor.text, indent)
                    );
                    let mut end = anchor.text.span.end;
                    if let Some(kw) = anchor.guards_keyword {
                        text.push_str(" guards");
                        end = kw.span.end;
                        if let Some(last) = anchor.guards.last() {
                            text.push(' ');
                            text.push_str(&Self::idents(&anchor.guards));
                            end = last.span.end;
                        }
                    }
                    p.line(
                        indent,
                        Line {
                            text,
                            span: Span::new(anchor.span.start, end),
                        },
                    );
                    for allow in &anchor.allows {
                        p.put(indent + INDENT, |p| p.allow(allow, indent + INDENT));
                    }
                }
            },
        );
    }

    fn rubric(&mut self, r: &Rubric) {
        self.block(
            0,
            "rubric".to_string(),
            r.span.start,
            r.keyword.span.end,
            r.span.end,
            |p, indent| {
                for item in &r.items {
                    match item {
                        RubricItem::Threshold(t) => {
                            p.put(indent, |p| p.setting("threshold", &t.value.raw, 0, t.span))
                        }
                        RubricItem::Define(d) => p.put(indent, |p| p.define(d, indent)),
                        RubricItem::Group(g) => p.group(g, indent),
                        RubricItem::Allow(a) => p.put(indent, |p| p.allow(a, indent)),
                    }
                }
            },
        );
    }

    fn define(&self, d: &Define, indent: usize) -> Line {
        Line {
            text: format!(
                "define {} {}",
                self.text(&d.term, indent),
                self.text(&d.meaning, indent)
            ),
            span: d.span,
        }
    }

    fn group(&mut self, g: &Group, indent: usize) {
        let mut header = format!(
            "{} {} {}",
            g.keyword.kind.as_str(),
            g.id.name,
            self.text(&g.title, indent)
        );
        let mut header_end = g.title.span.end;
        if let Some((_, weight)) = &g.weight {
            header.push_str(" weight ");
            header.push_str(&weight.raw);
            header_end = weight.span.end;
        }
        self.block(
            indent,
            header,
            g.span.start,
            header_end,
            g.span.end,
            |p, indent| {
                for item in &g.items {
                    match item {
                        GroupItem::AllNa(a) => p.put(indent, |p| {
                            p.setting("all_na", a.policy.kind.as_str(), 0, a.span)
                        }),
                        GroupItem::Question(q) => p.question(q, indent),
                        GroupItem::Allow(a) => p.put(indent, |p| p.allow(a, indent)),
                    }
                }
            },
        );
    }

    fn question(&mut self, q: &Question, indent: usize) {
        let mut text = format!("{} {}", q.id.name, self.text(&q.text, indent));
        let mut end = q.text.span.end;
        if let Some(kw) = q.checks_keyword {
            text.push_str(" checks");
            end = kw.span.end;
            if let Some(last) = q.checks.last() {
                text.push(' ');
                text.push_str(&self.references(&q.checks));
                end = last.span.end;
            }
        }
        let Some(body) = &q.body else {
            self.line(
                indent,
                Line {
                    text,
                    span: Span::new(q.span.start, end),
                },
            );
            return;
        };
        self.block(
            indent,
            text,
            q.span.start,
            end,
            body.span.end,
            |p, indent| {
                let widths = p.run_widths(&body.items, |item| match item {
                    QuestionItem::When(prop) | QuestionItem::Decide(prop) => {
                        setting(&prop.key, prop.span)
                    }
                    QuestionItem::Na { keyword, span, .. }
                    | QuestionItem::Facts { keyword, span, .. } => setting(keyword, *span),
                    QuestionItem::MinTurns(m) => setting(&m.keyword, m.span),
                    _ => None,
                });
                for (item, width) in body.items.iter().zip(widths) {
                    let line = match item {
                        QuestionItem::Define(d) => p.define(d, indent),
                        QuestionItem::When(prop) | QuestionItem::Decide(prop) => {
                            p.property(prop, indent, width)
                        }
                        QuestionItem::Na { value, span, .. } => {
                            p.setting("na", value.kind.as_str(), width, *span)
                        }
                        QuestionItem::MinTurns(m) => {
                            p.setting("min_turns", &m.value.raw, width, m.span)
                        }
                        QuestionItem::Facts { names, span, .. } => {
                            let names: Vec<&str> = names.iter().map(|n| n.kind.as_str()).collect();
                            p.setting("facts", &names.join(", "), width, *span)
                        }
                        QuestionItem::Allow(a) => p.allow(a, indent),
                    };
                    p.line(indent, line);
                }
            },
        );
    }

    fn example_block(&mut self, e: &ExampleBlock) {
        let mut header = format!(
            "{} {} {}",
            e.keyword.kind.as_str(),
            e.id.name,
            self.text(&e.title, 0)
        );
        let mut header_end = e.title.span.end;
        if let Some((_, verdict)) = &e.expect {
            header.push_str(" expect ");
            header.push_str(verdict.kind.as_str());
            header_end = verdict.span.end;
        }
        self.block(
            0,
            header,
            e.span.start,
            header_end,
            e.span.end,
            |p, indent| {
                let widths = p.run_widths(&e.items, |item| match item {
                    ExampleItem::Turn(t) => Some((Align::Turn, t.role.as_str().len(), t.span)),
                    ExampleItem::Shows(s) => setting(&s.keyword, s.span),
                    ExampleItem::Why(prop) => setting(&prop.key, prop.span),
                    _ => None,
                });
                for (item, width) in e.items.iter().zip(widths) {
                    match item {
                        ExampleItem::Turn(t) => p.put(indent, |p| p.turn(t, indent, width)),
                        ExampleItem::Answers(a) => p.answers(a, indent),
                        ExampleItem::Shows(s) => {
                            let targets = p.references(&s.targets);
                            let line = if targets.is_empty() {
                                p.setting("shows", "", 0, s.span)
                            } else {
                                p.setting("shows", &targets, width, s.span)
                            };
                            let line = Line {
                                text: line.text.trim_end().to_string(),
                                ..line
                            };
                            p.line(indent, line);
                        }
                        ExampleItem::Why(prop) => {
                            p.put(indent, |p| p.property(prop, indent, width))
                        }
                        ExampleItem::Allow(a) => p.put(indent, |p| p.allow(a, indent)),
                    }
                }
            },
        );
    }

    fn answers(&mut self, a: &Answers, indent: usize) {
        self.block(
            indent,
            "answers".to_string(),
            a.span.start,
            a.keyword.span.end,
            a.span.end,
            |p, indent| {
                let ids = p.run_widths(&a.answers, |x| {
                    Some((Align::Setting, x.question.name.len(), x.span))
                });
                let values = p.run_widths(&a.answers, |x| {
                    Some((Align::Setting, x.value.kind.as_str().len(), x.span))
                });
                for ((answer, id_width), value_width) in a.answers.iter().zip(ids).zip(values) {
                    let text = match &answer.reason {
                        Some(reason) => format!(
                            "{:<id_width$} {:<value_width$} {}",
                            answer.question.name,
                            answer.value.kind.as_str(),
                            p.text(reason, indent)
                        ),
                        None => format!(
                            "{:<id_width$} {}",
                            answer.question.name,
                            answer.value.kind.as_str()
                        ),
                    };
                    p.line(
                        indent,
                        Line {
                            text,
                            span: answer.span,
                        },
                    );
                }
            },
        );
    }

    fn generation(&mut self, g: &Generation) {
        self.block(
            0,
            "generation".to_string(),
            g.span.start,
            g.keyword.span.end,
            g.span.end,
            |p, indent| {
                let widths = p.run_widths(&g.items, |item| match item {
                    GenerationItem::Turns(t) => setting(&t.keyword, t.span),
                    GenerationItem::Ratio(r) => setting(&r.keyword, r.span),
                    GenerationItem::Mode { keyword, span, .. }
                    | GenerationItem::Breach { keyword, span, .. } => setting(keyword, *span),
                    GenerationItem::Property(prop) => setting(&prop.key, prop.span),
                });
                for (item, width) in g.items.iter().zip(widths) {
                    let line = match item {
                        GenerationItem::Turns(t) => {
                            let value = match &t.max {
                                Some(max) => format!("{}..{}", t.min.raw, max.raw),
                                None => t.min.raw.clone(),
                            };
                            p.setting("turns", &value, width, t.span)
                        }
                        GenerationItem::Ratio(r) => {
                            let mut value = format!("{}..{}", r.min.raw, r.max.raw);
                            if let Some((_, limit)) = &r.limit {
                                value.push_str(" limit ");
                                value.push_str(&limit.raw);
                            }
                            p.setting("ratio", &value, width, r.span)
                        }
                        GenerationItem::Mode { value, span, .. } => {
                            p.setting("mode", value.kind.as_str(), width, *span)
                        }
                        GenerationItem::Breach { value, span, .. } => {
                            p.setting("breach", value.kind.as_str(), width, *span)
                        }
                        GenerationItem::Property(prop) => p.property(prop, indent, width),
                    };
                    p.line(indent, line);
                }
            },
        );
    }

    fn judge(&mut self, j: &Judge) {
        self.block(
            0,
            "judge".to_string(),
            j.span.start,
            j.keyword.span.end,
            j.span.end,
            |p, indent| {
                let widths = p.run_widths(&j.items, |item| match item {
                    JudgeItem::Evidence { keyword, span, .. }
                    | JudgeItem::Calls { keyword, span, .. }
                    | JudgeItem::Aggregate { keyword, span, .. } => setting(keyword, *span),
                    JudgeItem::Property(prop) => setting(&prop.key, prop.span),
                });
                for (item, width) in j.items.iter().zip(widths) {
                    let line = match item {
                        JudgeItem::Evidence { value, span, .. } => {
                            p.setting("evidence", value.kind.as_str(), width, *span)
                        }
                        JudgeItem::Calls { value, span, .. } => {
                            p.setting("calls", value.kind.as_str(), width, *span)
                        }
                        JudgeItem::Aggregate { value, span, .. } => {
                            p.setting("aggregate", value.kind.as_str(), width, *span)
                        }
                        JudgeItem::Property(prop) => p.property(prop, indent, width),
                    };
                    p.line(indent, line);
                }
            },
        );
    }

    fn expert(&mut self, e: &Expert) {
        let header = format!("expert {} {}", e.id.name, self.text(&e.name, 0));
        self.block(
            0,
            header,
            e.span.start,
            e.name.span.end,
            e.span.end,
            |p, indent| {
                let widths = p.run_widths(&e.properties, |prop| setting(&prop.key, prop.span));
                for (prop, width) in e.properties.iter().zip(widths) {
                    p.put(indent, |p| p.property(prop, indent, width));
                }
            },
        );
    }

    fn lint(&mut self, l: &Lint) {
        self.block(
            0,
            "lint".to_string(),
            l.span.start,
            l.keyword.span.end,
            l.span.end,
            |p, indent| {
                for item in &l.items {
                    let line = match item {
                        LintItem::Allow(a) => p.allow(a, indent),
                        LintItem::Level {
                            keyword,
                            code,
                            span,
                        } => p.setting(keyword.kind.as_str(), &code.text, 0, *span),
                        LintItem::Bound {
                            name,
                            min,
                            max,
                            span,
                        } => {
                            let value = match max {
                                Some(max) => format!("{}..{}", min.raw, max.raw),
                                None => min.raw.clone(),
                            };
                            p.setting(&name.name, &value, 0, *span)
                        }
                    };
                    p.line(indent, line);
                }
            },
        );
    }

    // ------------------------------------------------------------------
    // The data to generate
    // ------------------------------------------------------------------

    /// `keyword id "text" weight N`, the id padded to `width`.
    fn weighted(
        &self,
        keyword: &Keyword,
        id: &Ident,
        text: &Text,
        weight: &Number,
        indent: usize,
        width: usize,
    ) -> String {
        format!(
            "{} {:<width$} {} weight {}",
            keyword.kind.as_str(),
            id.name,
            self.text(text, indent),
            weight.raw
        )
    }

    /// A weighted item with an optional body: a value or a flaw.
    #[allow(clippy::too_many_arguments)]
    fn weighted_item(
        &mut self,
        keyword: &Keyword,
        id: &Ident,
        text: &Text,
        weight: &Number,
        body: Option<&Body>,
        span: Span,
        indent: usize,
        width: usize,
    ) {
        let header = self.weighted(keyword, id, text, weight, indent, width);
        let Some(body) = body else {
            self.line(
                indent,
                Line {
                    text: header,
                    span: Span::new(span.start, weight.span.end),
                },
            );
            return;
        };
        self.block(
            indent,
            header,
            span.start,
            weight.span.end,
            body.span.end,
            |p, indent| {
                let widths = p.run_widths(&body.items, |item| match item {
                    BodyItem::Property(prop) => setting(&prop.key, prop.span),
                    BodyItem::Allow(_) => None,
                });
                for (item, width) in body.items.iter().zip(widths) {
                    match item {
                        BodyItem::Property(prop) => {
                            p.put(indent, |p| p.property(prop, indent, width))
                        }
                        BodyItem::Allow(a) => p.put(indent, |p| p.allow(a, indent)),
                    }
                }
            },
        );
    }

    fn weighted_line(&mut self, w: &WeightedLine, indent: usize, width: usize) {
        self.put(indent, |p| Line {
            text: p.weighted(&w.keyword, &w.id, &w.text, &w.weight, indent, width),
            span: w.span,
        });
    }

    fn taxonomy(&mut self, t: &Taxonomy) {
        self.block(
            0,
            "taxonomy".to_string(),
            t.span.start,
            t.keyword.span.end,
            t.span.end,
            |p, indent| {
                let widths = p.run_widths(&t.items, |item| match item {
                    TaxonomyItem::EdgeCases(n) => setting(&n.keyword, n.span),
                    TaxonomyItem::EdgeCase(prop) => setting(&prop.key, prop.span),
                    _ => None,
                });
                for (item, width) in t.items.iter().zip(widths) {
                    match item {
                        TaxonomyItem::EdgeCases(n) => p.put(indent, |p| {
                            p.setting("edge_cases", &n.value.raw, width, n.span)
                        }),
                        TaxonomyItem::EdgeCase(prop) => {
                            p.put(indent, |p| p.property(prop, indent, width))
                        }
                        TaxonomyItem::Dimension(d) => p.dimension(d, indent),
                        TaxonomyItem::Allow(a) => p.put(indent, |p| p.allow(a, indent)),
                    }
                }
            },
        );
    }

    /// A taxonomy `dimension` or a persona `trait`.
    fn dimension(&mut self, d: &Dimension, indent: usize) {
        let header = format!(
            "{} {} {}",
            d.keyword.kind.as_str(),
            d.id.name,
            self.text(&d.title, indent)
        );
        self.block(
            indent,
            header,
            d.span.start,
            d.title.span.end,
            d.span.end,
            |p, indent| {
                let widths = p.run_widths(&d.items, |item| match item {
                    DimensionItem::Value(v) => Some((Align::Id, v.id.name.len(), v.span)),
                    DimensionItem::Allow(_) => None,
                });
                for (item, width) in d.items.iter().zip(widths) {
                    match item {
                        DimensionItem::Value(v) => p.weighted_item(
                            &v.keyword,
                            &v.id,
                            &v.text,
                            &v.weight,
                            v.body.as_ref(),
                            v.span,
                            indent,
                            width,
                        ),
                        DimensionItem::Allow(a) => p.put(indent, |p| p.allow(a, indent)),
                    }
                }
            },
        );
    }

    fn personas(&mut self, personas: &Personas) {
        self.block(
            0,
            "personas".to_string(),
            personas.span.start,
            personas.keyword.span.end,
            personas.span.end,
            |p, indent| {
                let widths = p.run_widths(&personas.items, |item| match item {
                    PersonasItem::Trajectory(w) => Some((Align::Id, w.id.name.len(), w.span)),
                    _ => None,
                });
                for (item, width) in personas.items.iter().zip(widths) {
                    match item {
                        PersonasItem::FlawFree(n) => {
                            p.put(indent, |p| p.setting("flaw_free", &n.value.raw, 0, n.span))
                        }
                        PersonasItem::Trait(d) => p.dimension(d, indent),
                        PersonasItem::Flaws(k) => p.flaw_kind(k, indent),
                        PersonasItem::Trajectory(w) => p.weighted_line(w, indent, width),
                        PersonasItem::Allow(a) => p.put(indent, |p| p.allow(a, indent)),
                    }
                }
            },
        );
    }

    fn flaw_kind(&mut self, k: &FlawKind, indent: usize) {
        let header = format!("flaws {} {}", k.id.name, self.text(&k.title, indent));
        self.block(
            indent,
            header,
            k.span.start,
            k.title.span.end,
            k.span.end,
            |p, indent| {
                let widths = p.run_widths(&k.items, |item| match item {
                    FlawKindItem::Flaw(f) => Some((Align::Id, f.id.name.len(), f.span)),
                    FlawKindItem::Allow(_) => None,
                });
                for (item, width) in k.items.iter().zip(widths) {
                    match item {
                        FlawKindItem::Flaw(f) => p.weighted_item(
                            &f.keyword,
                            &f.id,
                            &f.title,
                            &f.weight,
                            f.body.as_ref(),
                            f.span,
                            indent,
                            width,
                        ),
                        FlawKindItem::Allow(a) => p.put(indent, |p| p.allow(a, indent)),
                    }
                }
            },
        );
    }

    fn user_simulator(&mut self, u: &UserSimulator) {
        self.block(
            0,
            "user_simulator".to_string(),
            u.span.start,
            u.keyword.span.end,
            u.span.end,
            |p, indent| {
                let widths = p.run_widths(&u.items, |item| match item {
                    SimulatorItem::Behaviour(w) => Some((Align::Id, w.id.name.len(), w.span)),
                    SimulatorItem::Words(w) => {
                        Some((Align::Reference, w.target.span.len(), w.span))
                    }
                    SimulatorItem::Property(prop) => setting(&prop.key, prop.span),
                    SimulatorItem::Allow(_) => None,
                });
                for (item, width) in u.items.iter().zip(widths) {
                    match item {
                        SimulatorItem::Behaviour(w) => p.weighted_line(w, indent, width),
                        SimulatorItem::Words(w) => p.put(indent, |p| Line {
                            text: format!(
                                "words {:<width$} {}..{}",
                                p.raw(w.target.span),
                                w.min.raw,
                                w.max.raw
                            ),
                            span: w.span,
                        }),
                        SimulatorItem::Property(prop) => {
                            p.put(indent, |p| p.property(prop, indent, width))
                        }
                        SimulatorItem::Allow(a) => p.put(indent, |p| p.allow(a, indent)),
                    }
                }
            },
        );
    }
}
