//! The word lists the wording rules use, kept as data files in
//! `src/lint/words/` (one entry per line, `#` comments) so they can be
//! reviewed and extended without touching rule code.

use std::sync::OnceLock;

/// A set of words as a sorted list: building it from a (mostly sorted)
/// file is one pass, and a lookup is a binary search.
#[derive(Debug, Default)]
pub struct WordSet(Vec<&'static str>);

impl WordSet {
    pub fn contains(&self, word: &str) -> bool {
        self.0.binary_search(&word).is_ok()
    }

    pub fn iter(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.0.iter().copied()
    }
}

impl FromIterator<&'static str> for WordSet {
    fn from_iter<I: IntoIterator<Item = &'static str>>(entries: I) -> Self {
        let mut words: Vec<&'static str> = entries.into_iter().collect();
        words.sort_unstable();
        words.dedup();
        WordSet(words)
    }
}

/// Entries borrow from the embedded files: building the lists allocates
/// nothing per word, which matters in a process that lives milliseconds.
pub struct Words {
    pub verbs: WordSet,
    pub abstract_qualities: WordSet,
    pub abstract_verbs: WordSet,
    /// Single words and phrases.
    pub vague: Vec<&'static str>,
    pub vague_exceptions: Vec<&'static str>,
    pub scale: Vec<&'static str>,
    pub absence: WordSet,
    pub stopwords: WordSet,
}

/// The entries of a list file. Entries are written in lowercase (a test
/// checks), since the rules compare them with lowercased words.
fn entries(text: &'static str) -> impl Iterator<Item = &'static str> {
    text.lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
}

impl Words {
    pub fn get() -> &'static Words {
        static WORDS: OnceLock<Words> = OnceLock::new();
        WORDS.get_or_init(|| Words {
            verbs: entries(include_str!("words/verbs.txt")).collect(),
            abstract_qualities: entries(include_str!("words/abstract.txt")).collect(),
            abstract_verbs: entries(include_str!("words/abstract_verbs.txt")).collect(),
            vague: entries(include_str!("words/vague.txt")).collect(),
            vague_exceptions: entries(include_str!("words/vague_exceptions.txt")).collect(),
            scale: entries(include_str!("words/scale.txt")).collect(),
            absence: entries(include_str!("words/absence.txt")).collect(),
            stopwords: entries(include_str!("words/stopwords.txt")).collect(),
        })
    }

    /// `word` is a verb: in the list, or an inflection of one
    /// (`names`, `named`, `naming`, `apologises`).
    pub fn is_verb(&self, word: &str) -> bool {
        self.base_verb(word).is_some()
    }

    /// The listed base form of a verb or of one of its inflections.
    pub fn base_verb(&self, word: &str) -> Option<String> {
        let w = word.to_lowercase();
        if self.verbs.contains(&w) {
            return Some(w);
        }
        let candidates = [
            w.strip_suffix("ies").map(|s| format!("{s}y")),
            w.strip_suffix("es").map(str::to_string),
            w.strip_suffix('s').map(str::to_string),
            w.strip_suffix("ied").map(|s| format!("{s}y")),
            w.strip_suffix("ed").map(str::to_string),
            w.strip_suffix('d').map(str::to_string),
            w.strip_suffix("ing").map(str::to_string),
            w.strip_suffix("ing").map(|s| format!("{s}e")),
        ];
        candidates
            .into_iter()
            .flatten()
            .find(|c| self.verbs.contains(c))
    }
}

#[cfg(test)]
mod tests {
    use super::Words;

    #[test]
    fn entries_are_lowercase_single_spaced_words() {
        let w = Words::get();
        let lists: [(&str, Vec<&str>); 8] = [
            ("verbs", w.verbs.iter().collect()),
            ("abstract", w.abstract_qualities.iter().collect()),
            ("abstract_verbs", w.abstract_verbs.iter().collect()),
            ("vague", w.vague.clone()),
            ("vague_exceptions", w.vague_exceptions.clone()),
            ("scale", w.scale.clone()),
            ("absence", w.absence.iter().collect()),
            ("stopwords", w.stopwords.iter().collect()),
        ];
        for (name, entries) in lists {
            assert!(!entries.is_empty(), "{name}.txt has no entries");
            for entry in entries {
                assert_eq!(
                    entry,
                    entry.to_lowercase(),
                    "{name}.txt: write `{entry}` in lowercase"
                );
                assert_eq!(
                    entry,
                    entry.split_whitespace().collect::<Vec<_>>().join(" "),
                    "{name}.txt: `{entry}` must be words separated by single spaces"
                );
            }
        }
    }
}
