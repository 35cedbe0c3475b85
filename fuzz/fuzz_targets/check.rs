//! `ftprep check` on any bytes: compiling never panics, every label is
//! inside the text, rendering the diagnostics never panics, and a spec
//! without errors emits its artifacts. Run with `-timeout=1`, so that an
//! input taking over a second (recovery that backtracks) is a failure too.
#![no_main]

use ftprep::compile::{ReadError, compile, source_from_bytes};
use ftprep::diagnostics::render::{RenderOptions, render_all};
use ftprep::emit::{Templates, emit};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let source = match source_from_bytes("fuzz.ftprep", data.to_vec()) {
        Ok(source) => source,
        Err(ReadError::NotUtf8(boxed)) => {
            assert!(boxed.1.primary_span().is_some());
            return;
        }
        Err(ReadError::Io(_)) => unreachable!("no I/O here"),
    };
    let len = source.text.len();
    let compilation = compile(source);
    for diagnostic in compilation.diagnostics.iter() {
        for label in &diagnostic.labels {
            assert!(label.span.start <= label.span.end && label.span.end <= len);
        }
    }
    let _ = render_all(
        &compilation.diagnostics,
        &compilation.source,
        RenderOptions::plain(),
    );
    if let Some(spec) = compilation.clean_spec() {
        emit(
            spec,
            "fuzz.ftprep",
            &compilation.source.text,
            &Templates::embedded(),
        )
        .expect("a clean spec emits");
    }
});
