//! The word lists the wording rules use, kept as data files in
//! `src/lint/words/` (one entry per line, `#` comments) so they can be
//! reviewed and extended without touching rule code.

use std::collections::HashSet;
use std::sync::OnceLock;

pub struct Words {
    pub verbs: HashSet<String>,
    pub abstract_qualities: HashSet<String>,
    pub abstract_verbs: HashSet<String>,
    /// Single words and phrases.
    pub vague: Vec<String>,
    pub vague_exceptions: Vec<String>,
    pub scale: Vec<String>,
    pub absence: HashSet<String>,
    pub stopwords: HashSet<String>,
}

fn entries(text: &'static str) -> impl Iterator<Item = String> {
    text.lines()
        .map(|l| l.split('#').next().unwrap_or("").trim().to_lowercase())
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
