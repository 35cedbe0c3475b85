//! The generation library: everything `ftprep generate` and `ftprep pilot`
//! decide in code, before and after the model calls.
//!
//! It is pure and synchronous: no model calls, no I/O, and no dependency on
//! the compiler's model (`crate::model`). Its inputs are plain strings and
//! weights in units of 1e-9, which the generate flow converts the spec into,
//! so the planning rules can be tested and benchmarked on their own.
//!
//! ```text
//!  PlanInput, N, seed ──plan──▶ Plan (cells, personas, turns) ──coverage──▶ Coverage
//!                                  │ behaviour_for(seed, index, turn)
//!                                  ▼
//!                       (the flow generates conversations)
//!                                  │
//!  [(role, text)] per conversation ┴──audit──▶ Audit (findings + figures)
//! ```
//!
//! - [`rng`]: SplitMix64, the same draws on every machine;
//!   `Rng::for_item(seed, index, stream)`.
//! - [`plan`]: stratified cells, per-item personas, turns and behaviours.
//! - [`coverage`]: sampled against declared shares, cells hit.
//! - [`audit`]: repeated phrases, identical openings and closings, length
//!   ratios, near-duplicate conversations.
//!
//! Facts computed from a conversation (word counts, ratios, `decide`) live
//! in `crate::facts`, which the judge uses as well.

pub mod audit;
pub mod coverage;
pub mod plan;
pub mod rng;

pub use audit::{Audit, Conversation, Finding, Severity, audit};
pub use coverage::{Coverage, coverage};
pub use plan::{
    Cell, DimensionIn, FlawIn, Item, Persona, Plan, PlanInput, ValueIn, WeightedIn, behaviour_for,
    plan,
};
pub use rng::Rng;
