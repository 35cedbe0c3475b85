//! `scoring.toml`: a rubric's scoring semantics, written by `ftprep build`
//! and read back by anything that scores judged data without the spec.
//!
//! The schema is documented in `docs/artifacts.md`. Weights and the
//! threshold are written as TOML floats with at most nine decimal places;
//! reading rounds them back to units of 10⁻⁹, which recovers the written
//! decimal exactly, so scoring from this file is as exact as from the spec.

use super::{
    Aggregate, AllNaPolicy, NaPolicy, SCALE, ScoredCategory, ScoredQuestion, ScoringRubric,
};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// The version of the `scoring.toml` schema this build writes and reads.
pub const SCORING_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScoringFile {
    pub version: u32,
    /// The spec's domain id.
    pub spec: String,
    /// SHA-256 of the spec's text: its bytes, less a byte-order mark,
    /// with lone CR line breaks read as LF.
    pub spec_sha256: String,
    pub threshold: f64,
    /// How the judgments of a record are combined, when the spec says
    /// (`judge { aggregate ... }`); `score` takes `majority` otherwise.
    /// Written only when set, so a spec without it has the same file as
    /// before the setting existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggregate: Option<Aggregate>,
    pub gate: GateEntry,
    pub categories: Vec<CategoryEntry>,
    /// Every question by id, gate first, in rubric order.
    pub questions: IndexMap<String, QuestionEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GateEntry {
    pub id: String,
    pub title: String,
    pub questions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryEntry {
    pub id: String,
    pub title: String,
    pub weight: f64,
    /// What the category scores when all its questions were dropped.
    pub all_na: AllNaPolicy,
    pub questions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuestionEntry {
    pub text: String,
    /// The id of the gate or category the question belongs to.
    pub group: String,
    /// When the question applies; absent for a question that always does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<String>,
    /// What N/A counts as; present for conditional questions only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub na: Option<NaPolicy>,
}

/// Why a `scoring.toml` cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Rounds a float from the file back to units of 10⁻⁹.
fn units(value: f64, what: &str) -> Result<i64, ConfigError> {
    if !(0.0..=1.0).contains(&value) {
        return Err(ConfigError(format!(
            "{what} {value} is not between 0 and 1"
        )));
    }
    Ok((value * SCALE as f64).round() as i64)
}

/// Writes a unit count as the float that reads back to it.
pub fn units_to_f64(units: i64) -> f64 {
    // Parsing the shortest decimal gives the float nearest to it, which
    // `units` rounds back exactly.
    super::format_decimal(units).parse().unwrap_or(0.0)
}

impl ScoringFile {
    pub fn parse(text: &str) -> Result<ScoringFile, ConfigError> {
        let file: ScoringFile = toml::from_str(text).map_err(|e| ConfigError(e.to_string()))?;
        if file.version != SCORING_VERSION {
            return Err(ConfigError(format!(
                "scoring.toml version {} is not supported (this ftprep reads version {SCORING_VERSION}); rebuild it with this ftprep",
                file.version
            )));
        }
        Ok(file)
    }

    pub fn to_toml(&self) -> String {
        toml::to_string(self).unwrap_or_default()
    }

    /// The rubric this file describes, checked for consistency.
    pub fn rubric(&self) -> Result<ScoringRubric, ConfigError> {
        let question = |id: &String| -> Result<ScoredQuestion, ConfigError> {
            let entry = self.questions.get(id).ok_or_else(|| {
                ConfigError(format!(
                    "question `{id}` is listed in a group but not under [questions]"
                ))
            })?;
            Ok(ScoredQuestion {
                id: id.clone(),
                conditional: entry.when.is_some(),
                na: entry.na.unwrap_or_default(),
            })
        };
        let gate = self
            .gate
            .questions
            .iter()
            .map(question)
            .collect::<Result<_, _>>()?;
        let mut categories = Vec::new();
        for c in &self.categories {
            categories.push(ScoredCategory {
                id: c.id.clone(),
                weight: units(c.weight, "weight")?,
                all_na: c.all_na,
                questions: c.questions.iter().map(question).collect::<Result<_, _>>()?,
            });
        }
        let rubric = ScoringRubric {
            threshold: units(self.threshold, "threshold")?,
            gate_id: self.gate.id.clone(),
            gate,
            categories,
        };
        if rubric.question_count() != self.questions.len() {
            return Err(ConfigError(
                "[questions] lists a question that no group contains".to_string(),
            ));
        }
        Ok(rubric)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize, Deserialize)]
    struct Weight {
        w: f64,
    }

    #[test]
    fn decimals_survive_the_float_round_trip() {
        let cases = [
            ("0.1", "0.1"),
            ("0.3", "0.3"),
            ("0.333333333", "0.333333333"),
            ("0.05", "0.05"),
            ("1", "1.0"),
            ("0.123456789", "0.123456789"),
            ("0.000000001", "0.000000001"),
        ];
        for (raw, written) in cases {
            let u = super::super::parse_decimal(raw).unwrap();
            let text = toml::to_string(&Weight { w: units_to_f64(u) }).unwrap();
            assert_eq!(text.trim(), format!("w = {written}"), "{raw}");
            let back: Weight = toml::from_str(&text).unwrap();
            assert_eq!(units(back.w, "w").unwrap(), u, "{raw}");
        }
    }
}
