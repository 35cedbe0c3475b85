//! No input makes the compiler panic: truncations of every spec and random
//! byte mutations each end in diagnostics or in a clean compile that emits,
//! and the formatter either refuses them or formats them idempotently.

mod common;

use common::Rng;
use ftprep::compile::{ReadError, compile, source_from_bytes};
use ftprep::emit::{Templates, emit};

/// Compiles bytes and checks the invariants: every diagnostic points
/// inside the text; a clean compile has a spec that emits.
fn compile_bytes(bytes: Vec<u8>, what: &str) {
    let source = match source_from_bytes("input.ftprep", bytes) {
        Ok(source) => source,
        Err(ReadError::NotUtf8(boxed)) => {
            assert!(boxed.1.primary_span().is_some());
            return;
        }
        Err(ReadError::Io(e)) => panic!("{e}"),
    };
    let len = source.text.len();
    if let Ok(formatted) = ftprep::format::format_source(&source.text) {
        let again = ftprep::format::format_source(&formatted)
            .unwrap_or_else(|_| panic!("{what}: the formatted text does not parse"));
        assert_eq!(again, formatted, "{what}: formatting is not idempotent");
    }
    let compilation = compile(source);
    for diagnostic in compilation.diagnostics.iter() {
        for label in &diagnostic.labels {
            assert!(
                label.span.start <= label.span.end && label.span.end <= len,
                "{what}: label {:?} outside the text ({len} bytes) in `{}`",
                label.span,
                diagnostic.message
            );
        }
    }
    // Rendering must not panic either.
    let _ = common::render(&compilation);
    if !compilation.diagnostics.has_errors() {
        let spec = compilation
            .spec
            .as_ref()
            .unwrap_or_else(|| panic!("{what}: no errors but no spec"));
        emit(
            spec,
            "input.ftprep",
            &compilation.source.text,
            &Templates::embedded(),
        )
        .unwrap_or_else(|e| panic!("{what}: emit failed: {e}"));
    }
}

fn corpus() -> Vec<(String, Vec<u8>)> {
    common::shipped_specs()
        .into_iter()
        .chain(common::fixtures("valid"))
        .map(|p| (common::relative(&p), std::fs::read(&p).unwrap()))
        .collect()
}

#[test]
fn every_prefix_compiles_or_reports() {
    for (name, bytes) in corpus() {
        let stride = (bytes.len() / 150).max(1);
        let mut end = 0;
        while end <= bytes.len() {
            compile_bytes(bytes[..end].to_vec(), &format!("{name}[..{end}]"));
            end += stride;
        }
    }
}

#[test]
fn random_mutations_compile_or_report() {
    const INTERESTING: &[u8] = b"{}\"#.,\n \\x9_\xff\xc3";
    let mut rng = Rng(0x5eed_f00d_dead_beef);
    for (name, original) in corpus() {
        for round in 0..150 {
            let mut bytes = original.clone();
            for _ in 0..1 + rng.below(4) {
                let at = rng.below(bytes.len() + 1);
                match rng.below(4) {
                    0 if at < bytes.len() => {
                        bytes.remove(at);
                    }
                    1 => bytes.insert(at, INTERESTING[rng.below(INTERESTING.len())]),
                    2 if at < bytes.len() => bytes[at] = rng.next() as u8,
                    _ => {
                        // Duplicate a slice: repeated blocks and ids.
                        let end = (at + rng.below(200)).min(bytes.len());
                        let slice = bytes[at..end].to_vec();
                        let to = rng.below(bytes.len() + 1);
                        bytes.splice(to..to, slice);
                    }
                }
            }
            compile_bytes(bytes, &format!("{name} mutation {round}"));
        }
    }
}

#[test]
fn pathological_inputs() {
    compile_bytes("{".repeat(100_000).into_bytes(), "deep braces");
    compile_bytes("}".repeat(10_000).into_bytes(), "closing braces");
    compile_bytes("\"".repeat(10_001).into_bytes(), "quotes");
    compile_bytes("\"\"\"".as_bytes().to_vec(), "open text block");
    compile_bytes(b"domain x {".to_vec(), "open domain");
    compile_bytes(vec![0u8; 1000], "zero bytes");
    compile_bytes(
        "rubric { threshold 0.75 }\n".repeat(1000).into_bytes(),
        "many rubrics",
    );
    compile_bytes(
        "domain d { title \"\\u{D800}\" role \"\\u{}\" audience \"\\u{110000\" }".into(),
        "bad unicode escapes",
    );
}
