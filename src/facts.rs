//! TEMPORARY stand-in for the facts module (replaced at merge).
pub fn word_count(text: &str) -> u32 {
    text.split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '-'))
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .count() as u32
}
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LengthRules {
    pub ratio: Option<(f64, f64, Option<f64>)>,
    pub user_words: Option<(u32, u32)>,
}
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BreachKind {
    RatioOverLimit,
    RatioOutsideTarget,
    UserWordsOutside,
}
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Breach {
    pub kind: BreachKind,
    pub detail: String,
}
impl BreachKind {
    pub fn is_hard(self) -> bool {
        !matches!(self, BreachKind::RatioOutsideTarget)
    }
}
pub fn check_exchange(rules: &LengthRules, user: &str, assistant: &str) -> Vec<Breach> {
    let (u, a) = (word_count(user), word_count(assistant));
    let mut out = Vec::new();
    if let Some((min, max)) = rules.user_words {
        if u < min || u > max {
            out.push(Breach {
                kind: BreachKind::UserWordsOutside,
                detail: format!("{u} user words"),
            });
        }
    }
    if let Some((_, _, Some(limit))) = rules.ratio {
        if u > 0 && f64::from(a) / f64::from(u) > limit {
            out.push(Breach {
                kind: BreachKind::RatioOverLimit,
                detail: format!("{a}/{u}"),
            });
        }
    }
    out
}
impl BreachKind {
    pub fn is_user(self) -> bool {
        matches!(self, BreachKind::UserWordsOutside)
    }
}
