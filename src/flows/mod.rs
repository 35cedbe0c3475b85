//! The method's loop, as flows on the engine: each turns a spec and its
//! inputs into a plan of model calls (`crate::llm::engine::Job`s) and the
//! journal's answers into outputs. The engine below them knows nothing
//! about rubrics; the flows know nothing about HTTP.

pub mod calibrate;
pub mod conversations;
pub mod generate;
pub mod judge;
pub mod scripts;
