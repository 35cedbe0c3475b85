//! Reading the wording of questions and anchors.
//!
//! The wording rules work on *masked* text: quoted phrases and
//! parenthesised asides are blanked out (same length, so byte offsets stay
//! valid), because a scale word inside a quoted phrase the response must
//! contain, or a negation in "(not a canned template)", says nothing about
//! how the question itself is built.

use super::words::Words;
use crate::source::Span;

/// A word of a text: its byte range in the text and its lowercase form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    pub start: usize,
    pub end: usize,
    pub lower: String,
}

/// Blanks out quoted phrases ('...', "...", ‘...’, “...”) and
/// parenthesised asides, keeping every byte offset. An apostrophe inside a
/// word (user's, don't) is not a quote.
pub fn mask(text: &str) -> String {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut out: Vec<u8> = text.as_bytes().to_vec();
    let blank = |from: usize, to: usize, out: &mut Vec<u8>| {
        for b in out.iter_mut().take(to).skip(from) {
            *b = b' ';
        }
    };
    let mut i = 0;
    while i < chars.len() {
        let (at, c) = chars[i];
        let prev = if i == 0 { ' ' } else { chars[i - 1].1 };
        let closer = match c {
            '"' => Some('"'),
            '“' => Some('”'),
            '‘' => Some('’'),
            '\'' if !prev.is_alphanumeric() => Some('\''),
            '(' => Some(')'),
            _ => None,
        };
        if let Some(closer) = closer {
            // Find the closing mark; a closing apostrophe must not be
            // followed by a letter (that would be "user's").
            let mut j = i + 1;
            let mut found = None;
            while j < chars.len() {
                let (_, d) = chars[j];
                let next = chars.get(j + 1).map(|x| x.1).unwrap_or(' ');
                if d == closer && !(closer == '\'' && next.is_alphanumeric()) {
                    found = Some(j);
                    break;
                }
                j += 1;
            }
            if let Some(j) = found {
                let end = chars[j].0 + chars[j].1.len_utf8();
                blank(at, end, &mut out);
                i = j + 1;
                continue;
            }
        }
        i += 1;
    }
    // Only ASCII bytes were replaced by spaces inside valid UTF-8 runs that
    // were blanked whole, so the result is valid UTF-8.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// The words of a text: letters and digits, with inner hyphens and
/// apostrophes (`4-7-8`, `user's`).
pub fn words(text: &str) -> Vec<Word> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    let bytes_end = text.len();
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let inner_joiner = (c == '-' || c == '\'' || c == '’')
            && start.is_some()
            && chars.peek().is_some_and(|n| n.1.is_alphanumeric());
        if c.is_alphanumeric() || inner_joiner {
            if start.is_none() {
                start = Some(i);
            }
        } else if let Some(s) = start.take() {
            out.push(word(text, s, i));
        }
    }
    if let Some(s) = start {
        out.push(word(text, s, bytes_end));
    }
    out
}

fn word(text: &str, start: usize, end: usize) -> Word {
    let raw = &text[start..end];
    let mut lower = raw.to_lowercase();
    if lower.contains('’') {
        lower = lower.replace('’', "'");
    }
    Word { start, end, lower }
}

/// Auxiliary verbs that open a yes/no question.
pub const AUXILIARIES: &[&str] = &[
    "does", "do", "did", "is", "are", "was", "were", "has", "have", "had", "can", "could", "will",
    "would", "should", "may", "might", "must", "shall",
];

/// Nouns and gerunds that make "avoid X" a double negative.
const NEGATIVE_NOUNS: &[&str] = &[
    "omission",
    "omissions",
    "omitting",
    "missing",
    "failing",
    "lacking",
    "skipping",
    "neglecting",
];

/// The structure of a question as the wording rules need it.
#[derive(Debug, Clone)]
pub struct QuestionShape {
    /// The masked text.
    pub masked: String,
    pub words: Vec<Word>,
    /// Index (in `words`) of the first word of the main clause, after a
    /// conditional lead-in.
    pub clause_start: usize,
    /// Index of the opening auxiliary, when the clause opens with one.
    pub auxiliary: Option<usize>,
    /// Index of the main verb (or of `not`/`never`), when found.
    pub main_verb: Option<usize>,
}

impl QuestionShape {
    pub fn new(text: &str, words_list: &Words) -> Self {
        let masked = mask(text);
        let words = words(&masked);
        let mut clause_start = 0;
        // A lead-in ("If the user ..., does ...", "As a hematologist, does
        // ...", "Excluding the table, is ...") ends at the first comma
        // followed by an auxiliary, where the main clause starts.
        if words
            .first()
            .is_some_and(|w| !AUXILIARIES.contains(&w.lower.as_str()))
        {
            for (i, w) in words.iter().enumerate().skip(1) {
                let before = &masked[words[i - 1].end..w.start];
                if before.contains(',') && AUXILIARIES.contains(&w.lower.as_str()) {
                    clause_start = i;
                    break;
                }
            }
        }
        let auxiliary = words
            .get(clause_start)
            .filter(|w| AUXILIARIES.contains(&w.lower.as_str()))
            .map(|_| clause_start);
        let main_verb = auxiliary.and_then(|a| {
            words
                .iter()
                .enumerate()
                .skip(a + 1)
                .take(8)
                .find(|(_, w)| {
                    words_list.verbs.contains(&w.lower) || w.lower == "not" || w.lower == "never"
                })
                .map(|(i, _)| i)
        });
        QuestionShape {
            masked,
            words,
            clause_start,
            auxiliary,
            main_verb,
        }
    }

    /// The main clause is phrased for absence: its main verb is "avoid",
    /// "refrain", "not", "never" ..., or it asks whether the response is
    /// "free of/from" something.
    pub fn is_absence(&self, words_list: &Words) -> bool {
        if let Some(v) = self.main_verb {
            let w = &self.words[v].lower;
            let next = self.words.get(v + 1).map(|w| w.lower.as_str());
            // "avoid omission of ...", "avoid missing ...": a double
            // negative, which asks for presence.
            if w == "avoid" && next.is_some_and(|n| NEGATIVE_NOUNS.contains(&n)) {
                return false;
            }
            if words_list.absence.contains(w) {
                return true;
            }
            // "have no ...", "contain no ...".
            if matches!(w.as_str(), "have" | "has" | "contain" | "include") && next == Some("no") {
                return true;
            }
            // "Does the response stay clear of ...", "keep away from".
            let next = self.words.get(v + 1).map(|w| w.lower.as_str());
            if (w == "stay" || w == "keep") && matches!(next, Some("clear" | "away" | "free")) {
                return true;
            }
        }
        let Some(a) = self.auxiliary else {
            return false;
        };
        // "Is the response free of ...", "Is it without ...": only with a
        // copula, so "Does it follow up without being asked" stays presence.
        if !matches!(self.words[a].lower.as_str(), "is" | "are" | "was" | "were") {
            return false;
        }
        // "Are there no ...?"
        if self.words.get(a + 1).is_some_and(|w| w.lower == "there")
            && self.words.get(a + 2).is_some_and(|w| w.lower == "no")
        {
            return true;
        }
        // "Is the response free of/from ...", before any comma; "Is it
        // without ..." right after a short subject. "Are the sentences
        // concise without wordiness?" is presence with a modifier.
        let clause_end = self.masked[self.words[a].end..]
            .find(',')
            .map(|p| self.words[a].end + p)
            .unwrap_or(self.masked.len());
        let in_clause: Vec<&Word> = self
            .words
            .iter()
            .skip(a + 1)
            .take_while(|w| w.start < clause_end)
            .collect();
        // "free of" as the predicate of a short subject ("Is the generated
        // text free of ..."), not a second predicate after "and" ("Are all
        // sentences correct and free from errors?").
        let free_of = in_clause
            .iter()
            .take(4)
            .take_while(|w| w.lower != "and")
            .zip(in_clause.iter().skip(1))
            .any(|(w, next)| w.lower == "free" && matches!(next.lower.as_str(), "of" | "from"));
        let without = in_clause.iter().take(3).any(|w| w.lower == "without");
        free_of || without
    }

    pub fn span_of(&self, base: Span, word: usize) -> Span {
        let w = &self.words[word];
        Span::new(base.start + w.start, base.start + w.end)
    }
}

/// Content tokens for similarity: lowercase, stop words dropped, stemmed.
pub fn content_stems(text: &str, words_list: &Words) -> Vec<String> {
    use rust_stemmers::{Algorithm, Stemmer};
    thread_local! {
        static STEMMER: Stemmer = Stemmer::create(Algorithm::English);
    }
    let mut out: Vec<String> = words(text)
        .into_iter()
        .filter(|w| !words_list.stopwords.contains(&w.lower))
        .map(|w| {
            STEMMER.with(|s| match s.stem(&w.lower) {
                // Most words are their own stem: keep the string we have.
                std::borrow::Cow::Borrowed(stem) if stem.len() == w.lower.len() => w.lower,
                stem => stem.into_owned(),
            })
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Finds `phrase` (lowercase words separated by spaces) in `words` as
/// consecutive words; returns the index of its first word.
pub fn find_phrase(words: &[Word], phrase: &str) -> Vec<usize> {
    // Called for every question and every listed phrase: no allocation
    // unless the phrase is found.
    let mut parts = phrase.split_whitespace();
    let Some(first) = parts.next() else {
        return Vec::new();
    };
    (0..words.len())
        .filter(|&i| {
            words[i].lower == first
                && parts
                    .clone()
                    .enumerate()
                    .all(|(k, p)| words.get(i + 1 + k).is_some_and(|w| w.lower == p))
        })
        .collect()
}

/// Where each byte of a quoted string's decoded value sits in the spec:
/// `map[i]` is the source offset of decoded byte `i` (and `map[len]` the
/// closing quote), so a word found in the value can be labelled in the
/// file even when escapes (`\"`, `\u{e9}`) make the two differ. Text
/// blocks, whose indentation is removed, give `None`.
pub fn source_map(text: &crate::syntax::ast::Text, source: &str) -> Option<Vec<usize>> {
    use crate::syntax::ast::TextStyle;
    if text.style != TextStyle::Quoted {
        return None;
    }
    let raw = source.get(text.span.range())?;
    let inner = raw.strip_prefix('"')?.strip_suffix('"')?;
    let base = text.span.start + 1;
    let mut map = Vec::with_capacity(text.value.len() + 1);
    let mut chars = inner.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        let decoded_len = if c == '\\' {
            match chars.next() {
                Some((_, 'u')) => {
                    // `\u{...}`: one decoded char for the whole escape.
                    let mut hex = String::new();
                    for (_, d) in chars.by_ref() {
                        if d == '}' {
                            break;
                        }
                        if d != '{' {
                            hex.push(d);
                        }
                    }
                    u32::from_str_radix(&hex, 16)
                        .ok()
                        .and_then(char::from_u32)
                        .map(char::len_utf8)
                        .unwrap_or(0)
                }
                Some((_, 'n' | 't' | 'r' | '"' | '\\')) => 1,
                Some((_, other)) => 1 + other.len_utf8(),
                None => 1,
            }
        } else {
            c.len_utf8()
        };
        map.extend(std::iter::repeat_n(base + at, decoded_len));
    }
    map.push(base + inner.len());
    (map.len() == text.value.len() + 1).then_some(map)
}

/// The byte span in the spec of word `i` through word `j` (inclusive) of a
/// text value, or the whole value when it cannot be mapped.
pub fn value_words_span(
    text: &crate::syntax::ast::Text,
    source: &str,
    words: &[Word],
    i: usize,
    j: usize,
) -> Span {
    match source_map(text, source) {
        Some(map) => Span::new(map[words[i].start], map[words[j].end]),
        None => text.span,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masking_keeps_offsets_and_skips_apostrophes() {
        let text = "Does the user's reply say 'at least' (not a template)?";
        let masked = mask(text);
        assert_eq!(masked.len(), text.len());
        assert!(masked.contains("user's"));
        assert!(!masked.contains("at least"));
        assert!(!masked.contains("template"));
    }

    #[test]
    fn question_shape_finds_the_main_verb_after_a_lead_in() {
        let w = Words::get();
        let q = QuestionShape::new(
            "If the user mentions self-harm, does the response give a crisis line?",
            w,
        );
        assert_eq!(q.words[q.main_verb.unwrap()].lower, "give");
        let q = QuestionShape::new("Does the response avoid naming a diagnosis?", w);
        assert!(q.is_absence(w));
        let q = QuestionShape::new("Is the response free of jargon?", w);
        assert!(q.is_absence(w));
        let q = QuestionShape::new("Does the response follow up without being asked?", w);
        assert!(!q.is_absence(w));
    }

    #[test]
    fn escaped_strings_map_back_to_the_file() {
        let source = r#"x "say \"hi\" \u{e9}t\u{e9} now""#;
        let start = source.find('"').unwrap();
        let value = crate::syntax::ast::Text {
            value: "say \"hi\" \u{e9}t\u{e9} now".to_string(),
            style: crate::syntax::ast::TextStyle::Quoted,
            span: Span::new(start, source.len()),
        };
        let ws = words(&value.value);
        let now = ws.iter().position(|w| w.lower == "now").unwrap();
        let span = value_words_span(&value, source, &ws, now, now);
        assert_eq!(&source[span.range()], "now");
        let ete = ws.iter().position(|w| w.lower == "\u{e9}t\u{e9}").unwrap();
        let span = value_words_span(&value, source, &ws, ete, ete);
        assert_eq!(&source[span.range()], r"\u{e9}t\u{e9}");
    }

    #[test]
    fn words_keep_inner_hyphens() {
        let ws: Vec<String> = words("the 4-7-8 pattern, user's")
            .into_iter()
            .map(|w| w.lower)
            .collect();
        assert_eq!(ws, ["the", "4-7-8", "pattern", "user's"]);
    }
}
