//! The LLM layer: what ftprep needs to ask language models to judge,
//! generate, simulate users and critique.
//!
//! `config` reads the project file (`ftprep.toml`) and `--model`, and
//! resolves each model to every setting a request needs. It is plain
//! parsing, with no async runtime, so the compiler path can use it.

pub mod config;
