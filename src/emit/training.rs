//! The training system prompt: the short system message `ftprep score
//! --keep` puts first in every conversation of the training set, so the
//! model is trained with the prompt it will be run with, not the long
//! prompts that generated the data.

use crate::model::Spec;

/// Where a spec's training system prompt comes from, for the manifest:
/// `generation.training` when the spec has one, else `domain`.
pub fn training_prompt_source(spec: &Spec) -> &'static str {
    if spec.generation.training.is_some() {
        "generation.training"
    } else {
        "domain"
    }
}

/// The training system prompt of a spec: its `generation { training
/// "..." }`, or one sentence from the domain block's `role` and
/// `audience`. Short on purpose: the fine-tuned model is to behave well
/// without the long prompts the data was generated with. The artifact
/// `prompts/training-system.md` is this text.
pub fn training_system_prompt(spec: &Spec) -> String {
    match &spec.generation.training {
        Some(t) => t.value.trim().to_string(),
        None => format!(
            "You are {}. You are talking with {}.",
            spec.domain.role.value.trim().trim_end_matches('.'),
            spec.domain.audience.value.trim().trim_end_matches('.')
        ),
    }
}
