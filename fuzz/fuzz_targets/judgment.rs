//! One line of judged data, as `ftprep score` reads it, against the
//! therapy spec's rubric: parsing never panics, and a line it accepts
//! scores.
#![no_main]

use ftprep::compile::compile;
use ftprep::emit::scoring_file;
use ftprep::score::ScoringRubric;
use ftprep::score::judgment::{QuestionIndex, parse_line};
use ftprep::source::SourceFile;
use libfuzzer_sys::fuzz_target;

fn therapy() -> (ScoringRubric, QuestionIndex) {
    let text = include_str!("../../specs/therapy.ftprep");
    let compilation = compile(SourceFile::new("therapy.ftprep", text));
    let spec = compilation.clean_spec().expect("the therapy spec compiles");
    let rubric = scoring_file(spec, "")
        .rubric()
        .expect("its scoring file reads");
    let index = QuestionIndex::new(&rubric);
    (rubric, index)
}

thread_local! {
    // The index keeps a lookup hint in a `Cell`, so it is one per thread.
    static RUBRIC: (ScoringRubric, QuestionIndex) = therapy();
}

fuzz_target!(|data: &[u8]| {
    let Ok(line) = std::str::from_utf8(data) else {
        return;
    };
    RUBRIC.with(|(rubric, index)| {
        let (mut answers, mut slots, mut sha) = (Vec::new(), Vec::new(), None);
        if parse_line(line, index, &mut answers, &mut slots, &mut sha).is_ok() {
            let _ = rubric.score(&answers);
        }
    });
});
