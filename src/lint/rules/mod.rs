//! Every lint rule, one file each, and the registry.
//!
//! Adding a rule: write `rules/<name>.rs` with its `META` and check, add a
//! `mod` line and a `RULES` entry below, add `tests/fixtures/lint/<CODE>/`
//! with `fires.ftprep` and `quiet.ftprep`, and accept the snapshot. The
//! tests check every registered rule has an explanation and fixtures.

pub(crate) use super::{Context, Group, Level, Rule, RuleMeta};
pub(crate) use crate::diagnostics::{Diagnostic, plural};
pub(crate) use crate::source::Span;

pub mod unused_suppression;

mod always_count;
mod category_count;
mod category_size;
mod fewshot_count;
mod never_count;
mod question_count;
mod threshold_range;

mod absence_outside_gate;
mod compound_question;
mod inverted_polarity;
mod not_yes_no;
mod presence_in_gate;
mod scaled_wording;
mod turn_label_id;
mod vague_wording;

mod abstract_anchor;
mod anchor_not_verb;

mod contradictory_anchors;
mod duplicate_anchors;
mod indistinct_calibration;
mod similar_questions;

mod unbalanced_weights;
mod zero_weight;

mod calibration_coverage;
mod fewshot_fails_rubric;
mod missing_example;
mod missing_reasoning;
mod unchecked_anchor;
mod unchecked_failure;
mod unguarded_failure;

mod conversation_budget;
mod dominant_value;
mod draw_weights_sum;
mod min_turns_unreachable;
mod single_value;
mod unplayable_flaw;
mod unused_persona_value;
mod zero_draw_weight;

/// Every rule, in code order.
pub static RULES: &[&dyn Rule] = &[
    &unused_suppression::UnusedSuppression,
    &question_count::QuestionCount,
    &category_count::CategoryCount,
    &category_size::CategorySize,
    &always_count::AlwaysCount,
    &never_count::NeverCount,
    &fewshot_count::FewShotCount,
    &threshold_range::ThresholdRange,
    &not_yes_no::NotYesNo,
    &scaled_wording::ScaledWording,
    &compound_question::CompoundQuestion,
    &vague_wording::VagueWording,
    &absence_outside_gate::AbsenceOutsideGate,
    &presence_in_gate::PresenceInGate,
    &inverted_polarity::InvertedPolarity,
    &turn_label_id::TurnLabelId,
    &abstract_anchor::AbstractAnchor,
    &anchor_not_verb::AnchorNotVerb,
    &similar_questions::SimilarQuestions,
    &duplicate_anchors::DuplicateAnchors,
    &contradictory_anchors::ContradictoryAnchors,
    &indistinct_calibration::IndistinctCalibration,
    &unbalanced_weights::UnbalancedWeights,
    &zero_weight::ZeroWeight,
    &unguarded_failure::UnguardedFailure,
    &unchecked_failure::UncheckedFailure,
    &unchecked_anchor::UncheckedAnchor,
    &missing_example::MissingExample,
    &calibration_coverage::CalibrationCoverage,
    &missing_reasoning::MissingReasoning,
    &fewshot_fails_rubric::FewShotFailsRubric,
    &draw_weights_sum::DrawWeightsSum,
    &zero_draw_weight::ZeroDrawWeight,
    &single_value::SingleValue,
    &dominant_value::DominantValue,
    &unused_persona_value::UnusedPersonaValue,
    &unplayable_flaw::UnplayableFlaw,
    &conversation_budget::ConversationBudget,
    &min_turns_unreachable::MinTurnsUnreachable,
];

/// The span of a block's opening keyword, from the block's span.
pub(crate) fn keyword_span(block: Span, keyword: &str) -> Span {
    Span::new(block.start, block.start + keyword.len())
}

/// A count against a `(min, max)` bound: `Some("fewer than 4")`.
pub(crate) fn out_of_bounds(count: u64, (min, max): (u64, u64)) -> Option<String> {
    if count < min {
        Some(format!("fewer than {min}"))
    } else if count > max {
        Some(format!("more than {max}"))
    } else {
        None
    }
}

/// `a`, `a and b`, `a, b and c`.
pub(crate) fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// The members of a group of look-alikes for a message: every one for a
/// small group, the first few and a count for a large one.
pub(crate) fn member_list(names: &[String]) -> String {
    const SHOWN: usize = 8;
    if names.len() <= SHOWN + 1 {
        return and_list(names);
    }
    format!(
        "{} and {} more",
        names[..SHOWN].join(", "),
        names.len() - SHOWN
    )
}

/// A set of weighted items one of which is drawn each time: a taxonomy
/// dimension, a persona trait pool, all the flaws together, the
/// trajectories, the behaviours. The FT7xx rules read them alike.
pub(crate) struct Draw<'a> {
    pub kind: DrawKind,
    /// `dimension `topic``, `the flaws`: how messages name the set.
    pub name: String,
    /// Where a finding about the whole set points: the id of a dimension
    /// or trait, or the block's keyword.
    pub span: Span,
    /// Each item's reference (`topic.work`, `minimises`) and weight.
    pub items: Vec<(String, &'a crate::model::Decimal)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DrawKind {
    Dimension,
    Trait,
    Flaws,
    Trajectories,
    Behaviours,
}

/// Every draw the spec declares, in source order of the blocks.
pub(crate) fn draws(spec: &crate::model::Spec) -> Vec<Draw<'_>> {
    let mut out = Vec::new();
    if let Some(t) = &spec.taxonomy {
        for d in &t.dimensions {
            out.push(dimension_draw(DrawKind::Dimension, "dimension", d));
        }
    }
    if let Some(p) = &spec.personas {
        for d in &p.traits {
            out.push(dimension_draw(DrawKind::Trait, "trait", d));
        }
        let flaws: Vec<_> = p
            .flaw_kinds
            .iter()
            .flat_map(|k| &k.flaws)
            .map(|f| (f.id.name.clone(), &f.weight))
            .collect();
        if let Some(first) = p.flaw_kinds.first() {
            out.push(Draw {
                kind: DrawKind::Flaws,
                name: "the flaws".to_string(),
                span: keyword_span(first.span, "flaws"),
                items: flaws,
            });
        }
        if !p.trajectories.is_empty() {
            out.push(Draw {
                kind: DrawKind::Trajectories,
                name: "the trajectories".to_string(),
                span: keyword_span(p.trajectories[0].span, "trajectory"),
                items: p
                    .trajectories
                    .iter()
                    .map(|t| (t.id.name.clone(), &t.weight))
                    .collect(),
            });
        }
    }
    if let Some(u) = &spec.user_simulator
        && !u.behaviours.is_empty()
    {
        out.push(Draw {
            kind: DrawKind::Behaviours,
            name: "the behaviours".to_string(),
            span: keyword_span(u.behaviours[0].span, "behaviour"),
            items: u
                .behaviours
                .iter()
                .map(|b| (b.id.name.clone(), &b.weight))
                .collect(),
        });
    }
    out
}

fn dimension_draw<'a>(kind: DrawKind, word: &str, d: &'a crate::model::Dimension) -> Draw<'a> {
    Draw {
        kind,
        name: format!("{word} `{}`", d.id.name),
        span: d.id.span,
        items: d
            .values
            .iter()
            .map(|v| (format!("{}.{}", d.id.name, v.id.name), &v.weight))
            .collect(),
    }
}
