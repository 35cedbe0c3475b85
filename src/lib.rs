//! ftprep: a compiler for fine-tuning preparation specs.
//!
//! ```text
//!  .ftprep text ──syntax──▶ ast::File ──model──▶ Spec ──checks──▶ Spec + diagnostics
//!                                                  │                    │
//!                                                  └──score (calibration)┘
//!                                                                        │
//!                                             emit (templates) ◀─────────┘──▶ artifacts
//! ```
//!
//! Each stage reads the output of the one before and pushes diagnostics
//! instead of stopping at the first problem. The CLI only wires stages
//! together; see `ARCHITECTURE.md` for where each piece lives.

// pest is built without its `std` feature (see Cargo.toml), and its derive
// then names `alloc` paths.
extern crate alloc;

pub mod cli;
pub mod compile;
pub mod diagnostics;
pub mod emit;
pub mod facts;
pub mod flows;
pub mod format;
pub mod lint;
pub mod llm;
pub mod lsp;
pub mod model;
pub mod score;
pub mod source;
pub mod syntax;
