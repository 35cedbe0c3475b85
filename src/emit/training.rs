//! The training system prompt: the short system message `ftprep score
//! --keep` puts first in every conversation of the training set, so the
//! model is trained with the prompt it will be run with, not the long
//! prompts that generated the data.

use crate::model::Spec;

/// Where a spec's training system prompt comes from, for the manifest.
pub const TRAINING_PROMPT_SOURCE: &str = "domain";

/// The training system prompt of a spec: for now, derived from its domain
/// block's `role` and `audience`.
pub fn training_system_prompt(spec: &Spec) -> String {
    // TODO(lead): prefer generation.training
    let role = spec.domain.role.value.trim();
    let audience = spec.domain.audience.value.trim();
    format!("You are {role}. You are talking with {audience}.")
}
