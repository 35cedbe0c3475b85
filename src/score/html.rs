//! The context of the HTML report (`score --report`): the summary in the
//! words and shapes the page shows, for the `report.html.j2` template.
//!
//! In: a [`Summary`] and the [`ScoringFile`] it was scored with (for the
//! questions' text and the groups' titles). Out: a serialisable
//! [`Report`]. The geometry of the inline SVG charts is computed here and
//! handed over as formatted numbers, so the template is markup only and
//! the page is the same byte for byte on every machine; the HTML escaping
//! is minijinja's. The context is documented in docs/templates.md.

use super::ScoringFile;
use super::report::{Summary, percent, short_hash};
use super::run::SpecMismatch;
use super::stats::{UNCLASSIFIED, thresholds};
use serde::Serialize;

/// The width of a 100% bar, in pixels.
const BAR: f64 = 400.0;
/// The most characters of a question's text beside its bar (the whole
/// text is in the tooltip).
const LABEL_CHARS: usize = 56;
const ROW: f64 = 24.0;
/// The most characters of a judge's name beside its bar.
const JUDGE_LABEL_CHARS: usize = 22;

#[derive(Debug, Serialize)]
pub struct Report {
    pub title: String,
    /// The spec's domain id.
    pub spec: String,
    pub records: u64,
    pub lines: u64,
    pub valid: u64,
    pub rejected: u64,
    pub blank: u64,
    pub judgments: u64,
    pub repeated_records: u64,
    pub pass: u64,
    pub fail: u64,
    pub gate_fail: u64,
    pub judge_errors: u64,
    /// ERROR answers by class, most frequent first (empty when no line
    /// gives a class).
    pub error_classes: Vec<ErrorClass>,
    pub unanswered_records: u64,
    /// Questions the program did not ask, one sentence each ("CN3 on 12
    /// records (fewer exchanges than its min_turns)").
    pub not_asked: Vec<String>,
    /// `majority`, `unanimous` or `strictest`.
    pub aggregate: &'static str,
    pub mean_score: Option<String>,
    pub pass_rate: PassRate,
    pub questions: Chart<QuestionRow>,
    pub categories: Chart<CategoryRow>,
    /// Each judge's judgments scored alone (no rows when no line names a
    /// judge).
    pub judges: Chart<JudgeRow>,
    pub agreement: AgreementTable,
    pub gate: Gate,
    pub rejections: Vec<RejectionRow>,
    pub heatmap: Heatmap,
    pub spec_mismatches: Vec<Mismatch>,
    pub findings: Vec<FindingText>,
}

/// A horizontal bar chart: its size and rows.
#[derive(Debug, Serialize)]
pub struct Chart<T> {
    pub width: String,
    pub height: String,
    /// Where bars start.
    pub bar_x: String,
    /// The width of a 100% bar.
    pub bar_max: String,
    pub rows: Vec<T>,
}

/// Where one row of a chart is drawn.
#[derive(Debug, Serialize)]
pub struct RowGeometry {
    /// The top of the bar, and the baseline of its text.
    pub y: String,
    pub text_y: String,
    pub bar_width: String,
    /// Where the value is written, after the bar.
    pub value_x: String,
}

#[derive(Debug, Serialize)]
pub struct PassRate {
    /// `60.0%`, or `none` without records.
    pub rate: Option<String>,
    pub target: String,
    /// `47.4%..71.4%`.
    pub interval: Option<String>,
    /// `above`, `below` or `undecided`.
    pub comparison: &'static str,
    pub records_needed: Option<u64>,
    pub bar_width: String,
    pub interval_x1: Option<String>,
    pub interval_x2: Option<String>,
    pub target_x: String,
    pub ticks: Vec<Tick>,
}

#[derive(Debug, Serialize)]
pub struct Tick {
    pub x: String,
    pub label: String,
}

#[derive(Debug, Serialize)]
pub struct QuestionRow {
    pub id: String,
    pub text: String,
    /// The text cut to fit beside the bar.
    pub label: String,
    pub group: String,
    pub group_title: String,
    pub in_gate: bool,
    /// `96.7%`, or none when no record answered it YES or NO.
    pub yes_rate: Option<String>,
    pub yes: u64,
    pub no: u64,
    pub na: u64,
    pub omitted: u64,
    pub error: u64,
    #[serde(flatten)]
    pub geometry: RowGeometry,
}

#[derive(Debug, Serialize)]
pub struct CategoryRow {
    pub id: String,
    pub title: String,
    /// `30%`.
    pub weight: String,
    /// `0.8153`, or none when every record dropped the category.
    pub mean: Option<String>,
    pub records: u64,
    #[serde(flatten)]
    pub geometry: RowGeometry,
}

#[derive(Debug, Serialize)]
pub struct ErrorClass {
    pub class: String,
    pub answers: u64,
}

#[derive(Debug, Serialize)]
pub struct JudgeRow {
    pub name: String,
    /// The name cut to fit beside the bar (the whole name is in the
    /// tooltip and the table).
    pub label: String,
    pub judgments: u64,
    pub passed: u64,
    /// `61.7%`.
    pub pass_rate: Option<String>,
    /// `49.0%..72.9%`.
    pub interval: Option<String>,
    pub errors: u64,
    /// The 95% interval's ends on the bar's scale, and the target's.
    pub interval_x1: Option<String>,
    pub interval_x2: Option<String>,
    pub target_x: String,
    /// The interval's height (the bar's middle), and the target line's
    /// ends, a little beyond the bar.
    pub whisker_y: String,
    pub target_y1: String,
    pub target_y2: String,
    #[serde(flatten)]
    pub geometry: RowGeometry,
}

/// How the judgments of records agree, per question.
#[derive(Debug, Serialize)]
pub struct AgreementTable {
    /// The mean of the questions' Fleiss' kappa, `0.90`.
    pub kappa: Option<String>,
    /// The share of record–question pairs with split votes, `5.3%`.
    pub disagreement: Option<String>,
    pub rows: Vec<AgreementRow>,
}

#[derive(Debug, Serialize)]
pub struct AgreementRow {
    pub id: String,
    /// Records with two votes or more on the question.
    pub records: u64,
    pub disagreement: Option<String>,
    pub agreement: Option<String>,
    pub kappa: Option<String>,
    /// Kappa below the weak-agreement threshold, over enough records for
    /// the finding.
    pub weak: bool,
}

#[derive(Debug, Serialize)]
pub struct Gate {
    pub id: String,
    pub title: String,
    pub failures: Vec<GateFailure>,
}

#[derive(Debug, Serialize)]
pub struct GateFailure {
    pub id: String,
    pub text: String,
    pub records: u64,
}

#[derive(Debug, Serialize)]
pub struct RejectionRow {
    pub kind: String,
    /// What was wrong with lines of this kind.
    pub meaning: Vec<Segment>,
    pub lines: u64,
}

#[derive(Debug, Serialize)]
pub struct Heatmap {
    pub size: String,
    pub labels: Vec<HeatmapLabel>,
    pub cells: Vec<HeatmapCell>,
}

#[derive(Debug, Serialize)]
pub struct HeatmapLabel {
    pub id: String,
    /// The row label's baseline, and the column label's anchor.
    pub row_y: String,
    pub column_x: String,
    pub column_y: String,
}

#[derive(Debug, Serialize)]
pub struct HeatmapCell {
    pub x: String,
    pub y: String,
    pub size: String,
    pub fill: String,
    pub first: String,
    pub second: String,
    /// `phi 0.42`, or why there is none.
    pub value: String,
}

#[derive(Debug, Serialize)]
pub struct Mismatch {
    pub file: String,
    pub lines: u64,
    /// The first twelve characters of the other hash.
    pub spec_sha256: String,
}

/// A finding, its text split at backticks: `code` parts are names to type.
#[derive(Debug, Serialize)]
pub struct FindingText {
    pub kind: &'static str,
    pub message: Vec<Segment>,
    pub action: Vec<Segment>,
}

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Segment {
    pub text: String,
    pub code: bool,
}

/// Splits text at backticks: "use `define`" is "use " and the code "define".
/// An unpaired backtick stays as text.
pub fn segments(text: &str) -> Vec<Segment> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find('`') {
        let Some(len) = rest[start + 1..].find('`') else {
            break;
        };
        if start > 0 {
            out.push(Segment {
                text: rest[..start].to_string(),
                code: false,
            });
        }
        out.push(Segment {
            text: rest[start + 1..start + 1 + len].to_string(),
            code: true,
        });
        rest = &rest[start + 2 + len..];
    }
    if !rest.is_empty() {
        out.push(Segment {
            text: rest.to_string(),
            code: false,
        });
    }
    out
}

/// `text` cut to `max` characters, with an ellipsis when it was cut.
fn clip(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_string(),
        Some((end, _)) => format!("{}…", text[..end].trim_end()),
    }
}

/// A finding's message opens a sentence on the page (on the terminal, a
/// list item that stays lower case).
fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn px(x: f64) -> String {
    format!("{x:.1}")
}

fn row(k: usize, share: f64, bar_x: f64) -> RowGeometry {
    let y = 4.0 + k as f64 * ROW;
    RowGeometry {
        y: px(y),
        text_y: px(y + 13.0),
        bar_width: px(share.clamp(0.0, 1.0) * BAR),
        value_x: px(bar_x + share.clamp(0.0, 1.0) * BAR + 6.0),
    }
}

fn chart<T>(rows: Vec<T>, bar_x: f64) -> Chart<T> {
    Chart {
        width: px(bar_x + BAR + 90.0),
        height: px(8.0 + rows.len() as f64 * ROW),
        bar_x: px(bar_x),
        bar_max: px(BAR),
        rows,
    }
}

/// What each kind of rejected line means, as docs/scoring.md says.
fn rejection_meaning(kind: &str) -> &'static str {
    match kind {
        "malformed" => "not JSON, not an object, or not UTF-8",
        "missing_id" => "no `id`",
        "invalid_id" => "an `id` that is not a non-empty string or a whole number",
        "no_answers" => "neither `answers` nor `response`",
        "no_json_in_response" => "`response` holds no JSON object",
        "unknown_question" => "an answer for a question the rubric does not have",
        "duplicate_answer" => "a question answered twice in one line",
        "not_an_answer" => "an answer that is not true, false, YES, NO, NA or ERROR",
        "missing_answer" => "no answer for a question that always applies",
        "na_not_allowed" => "N/A for a question that always applies",
        _ => "",
    }
}

impl Report {
    pub fn new(s: &Summary, file: &ScoringFile, title: &str) -> Report {
        let group_title = |group: &str| -> String {
            if group == file.gate.id {
                return file.gate.title.clone();
            }
            file.categories
                .iter()
                .find(|c| c.id == group)
                .map(|c| c.title.clone())
                .unwrap_or_default()
        };
        let text_of = |id: &str| {
            file.questions
                .get(id)
                .map(|q| q.text.clone())
                .unwrap_or_default()
        };

        // The pass rate on a 600-pixel track from x = 20, with an axis.
        let track = |v: f64| 20.0 + v.clamp(0.0, 1.0) * 600.0;
        let pass_rate = PassRate {
            rate: s.pass_rate.map(percent),
            target: percent(s.target),
            interval: s
                .interval
                .as_ref()
                .map(|i| format!("{}..{}", percent(i.low), percent(i.high))),
            comparison: s.comparison,
            records_needed: s.records_needed,
            bar_width: px(s.pass_rate.unwrap_or(0.0) * 600.0),
            interval_x1: s.interval.as_ref().map(|i| px(track(i.low))),
            interval_x2: s.interval.as_ref().map(|i| px(track(i.high))),
            target_x: px(track(s.target)),
            ticks: (0..=4)
                .map(|k| Tick {
                    x: px(track(k as f64 / 4.0)),
                    label: format!("{}%", k * 25),
                })
                .collect(),
        };

        let question_bar_x = 420.0;
        let questions = s
            .questions
            .iter()
            .enumerate()
            .map(|(k, (id, q))| {
                let text = text_of(id);
                QuestionRow {
                    id: id.clone(),
                    label: clip(&text, LABEL_CHARS),
                    text,
                    group: q.group.clone(),
                    group_title: group_title(&q.group),
                    in_gate: q.group == s.gate,
                    yes_rate: q.yes_rate.map(percent),
                    yes: q.yes,
                    no: q.no,
                    na: q.na,
                    omitted: q.omitted,
                    error: q.error,
                    geometry: row(k, q.yes_rate.unwrap_or(0.0), question_bar_x),
                }
            })
            .collect();

        let category_bar_x = 260.0;
        let categories = file
            .categories
            .iter()
            .enumerate()
            .map(|(k, c)| {
                let summary = s.categories.get(&c.id);
                let mean = summary.and_then(|c| c.mean);
                CategoryRow {
                    id: c.id.clone(),
                    title: c.title.clone(),
                    weight: format!("{}%", (c.weight * 1000.0).round() / 10.0),
                    mean: mean.map(|m| format!("{m:.4}")),
                    records: summary.map(|c| c.records).unwrap_or(0),
                    geometry: row(k, mean.unwrap_or(0.0), category_bar_x),
                }
            })
            .collect();

        let judge_bar_x = 170.0;
        let judges = s
            .per_judge
            .iter()
            .enumerate()
            .map(|(k, (name, j))| {
                let at = |v: f64| px(judge_bar_x + v.clamp(0.0, 1.0) * BAR);
                let mut geometry = row(k, j.pass_rate.unwrap_or(0.0), judge_bar_x);
                let top = 4.0 + k as f64 * ROW;
                // The value goes after the track, clear of the interval's
                // whisker and the target line.
                geometry.value_x = px(judge_bar_x + BAR + 8.0);
                JudgeRow {
                    name: name.clone(),
                    label: clip(name, JUDGE_LABEL_CHARS),
                    judgments: j.judgments,
                    passed: j.passed,
                    pass_rate: j.pass_rate.map(percent),
                    interval: j
                        .interval
                        .as_ref()
                        .map(|i| format!("{}..{}", percent(i.low), percent(i.high))),
                    errors: j.errors,
                    interval_x1: j.interval.as_ref().map(|i| at(i.low)),
                    interval_x2: j.interval.as_ref().map(|i| at(i.high)),
                    target_x: at(s.target),
                    whisker_y: px(top + 9.0),
                    target_y1: px(top - 2.0),
                    target_y2: px(top + 20.0),
                    geometry,
                }
            })
            .collect();
        let agreement = AgreementTable {
            kappa: s.fleiss_kappa.map(|k| format!("{k:.2}")),
            disagreement: s.judge_disagreement.map(percent),
            rows: s
                .judge_agreement
                .iter()
                .map(|(id, a)| AgreementRow {
                    id: id.clone(),
                    records: a.records,
                    disagreement: a.disagreement.map(percent),
                    agreement: a.agreement.map(percent),
                    kappa: a.kappa.map(|k| format!("{k:.2}")),
                    weak: a.records >= thresholds::MIN_RECORDS
                        && a.kappa.is_some_and(|k| k < thresholds::WEAK_KAPPA),
                })
                .collect(),
        };
        let mut error_classes: Vec<ErrorClass> = s
            .judge_errors_by_class
            .iter()
            .map(|(class, n)| ErrorClass {
                class: class.clone(),
                answers: *n,
            })
            .collect();
        error_classes.sort_by(|a, b| b.answers.cmp(&a.answers).then(a.class.cmp(&b.class)));
        if error_classes.iter().all(|c| c.class == UNCLASSIFIED) {
            error_classes.clear();
        }

        let gate = Gate {
            id: file.gate.id.clone(),
            title: file.gate.title.clone(),
            failures: s
                .gate_failures
                .iter()
                .map(|(id, n)| GateFailure {
                    id: id.clone(),
                    text: text_of(id),
                    records: *n,
                })
                .collect(),
        };

        let ids: Vec<&String> = s.questions.keys().collect();
        let (cell, margin) = (18.0, 90.0);
        let at = |k: usize| margin + k as f64 * cell;
        let heatmap = Heatmap {
            size: px(margin + cell * ids.len() as f64 + 10.0),
            labels: ids
                .iter()
                .enumerate()
                .map(|(k, id)| HeatmapLabel {
                    id: id.to_string(),
                    row_y: px(at(k) + 13.0),
                    column_x: px(at(k) + 4.0),
                    column_y: px(margin - 4.0),
                })
                .collect(),
            cells: ids
                .iter()
                .enumerate()
                .flat_map(|(i, a)| ids.iter().enumerate().map(move |(j, b)| (i, a, j, b)))
                .map(|(i, a, j, b)| {
                    let phi = s
                        .phi_matrix
                        .get(i)
                        .and_then(|r| r.get(j))
                        .copied()
                        .flatten();
                    HeatmapCell {
                        x: px(at(j)),
                        y: px(at(i)),
                        size: px(cell),
                        fill: match phi {
                            Some(p) if p >= 0.0 => {
                                format!("rgb(255,{0},{0})", (255.0 * (1.0 - p)).round() as u8)
                            }
                            Some(p) => {
                                format!("rgb({0},{0},255)", (255.0 * (1.0 + p)).round() as u8)
                            }
                            None => "#d8dce3".to_string(),
                        },
                        first: a.to_string(),
                        second: b.to_string(),
                        value: phi
                            .map(|p| format!("phi {p:.2}"))
                            .unwrap_or_else(|| "too few records answered both".into()),
                    }
                })
                .collect(),
        };

        Report {
            title: title.to_string(),
            spec: file.spec.clone(),
            records: s.records,
            lines: s.lines.total,
            valid: s.lines.valid,
            rejected: s.lines.rejected,
            blank: s.lines.blank,
            judgments: s.judgments,
            repeated_records: s.repeated_records,
            pass: s.verdicts.pass,
            fail: s.verdicts.fail,
            gate_fail: s.verdicts.gate_fail,
            judge_errors: s.judge_errors,
            error_classes,
            unanswered_records: s.unanswered_records,
            not_asked: super::report::not_asked_lines(s),
            aggregate: s.aggregate,
            mean_score: s.mean_score.map(|m| format!("{m:.4}")),
            pass_rate,
            questions: chart(questions, question_bar_x),
            categories: chart(categories, category_bar_x),
            judges: chart(judges, judge_bar_x),
            agreement,
            gate,
            rejections: s
                .rejected_by_kind
                .iter()
                .map(|(kind, n)| RejectionRow {
                    kind: kind.clone(),
                    meaning: segments(rejection_meaning(kind)),
                    lines: *n,
                })
                .collect(),
            heatmap,
            spec_mismatches: s
                .spec_mismatches
                .iter()
                .map(|m: &SpecMismatch| Mismatch {
                    file: m.file.clone(),
                    lines: m.lines,
                    spec_sha256: short_hash(&m.spec_sha256),
                })
                .collect(),
            findings: s
                .findings
                .iter()
                .map(|f| FindingText {
                    kind: f.kind,
                    message: segments(&capitalised(&f.message)),
                    action: segments(&f.action),
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_split_at_backticks() {
        let s = |text: &str, code: bool| Segment {
            text: text.into(),
            code,
        };
        assert_eq!(
            segments("define terms with `define`, or `x`."),
            [
                s("define terms with ", false),
                s("define", true),
                s(", or ", false),
                s("x", true),
                s(".", false)
            ]
        );
        assert_eq!(segments("`a`"), [s("a", true)]);
        assert_eq!(segments("an odd ` tick"), [s("an odd ` tick", false)]);
        assert!(segments("").is_empty());
    }
}
