//! The LLM layer: calling models, separate from the compiler.
//!
//! ```text
//!  flows (judge, ...)  ──Job──▶  engine  ──ChatRequest──▶  provider dialect  ──HTTP──▶  model
//!        ▲                         │ journal, cache, limits, retries, cost
//!        └──────── journal lines ──┘
//! ```
//!
//! `config` reads the project file (`ftprep.toml`) and `--model`, and
//! resolves each model to every setting a request needs (plain parsing, no
//! runtime). `chat` is what a call is, whatever the provider; `provider`
//! holds the dialects (OpenAI's Chat Completions, Anthropic's Messages);
//! `engine` runs a plan of calls and knows nothing about rubrics. The
//! compiler's commands (`build`, `check`, `fmt`, `lsp`) never reach the
//! engine, and so never start its runtime.

pub mod chat;
pub mod config;
pub mod engine;
pub mod provider;
