//! No input makes a command slow: each hostile input of
//! `benches/support/pathological.rs`, at 256 KB, is checked, formatted and
//! its diagnostics rendered well within a generous bound. The bound only
//! catches a hang (recovery that backtracks takes minutes or hours at this
//! size, and a quadratic pass tens of seconds); the figures themselves,
//! at 10 KB to 1 MB in a release build, come from `benches/recovery.rs`.
//! A debug build on a busy two-core machine took over 30 s for the 1 MB
//! junk lines that a release build reads in a fraction of a second, so
//! the test does not use 1 MB.

#[path = "../benches/support/pathological.rs"]
mod pathological;

mod common;

use ftprep::compile::compile;
use ftprep::source::SourceFile;
use std::sync::mpsc;
use std::time::Duration;

/// Far above any figure in docs/performance.md, even for a debug build on
/// a busy machine.
const HANG: Duration = Duration::from_secs(30);

fn within_bound(what: String, work: impl FnOnce() + Send + 'static) {
    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || {
        work();
        let _ = done.send(());
    });
    match finished.recv_timeout(HANG) {
        Ok(()) => {}
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("{what} took over {HANG:?}"),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("{what} panicked"),
    }
}

#[test]
fn hostile_inputs_are_checked_formatted_and_rendered_without_hanging() {
    for kind in pathological::KINDS {
        let text = pathological::hostile(kind, 256 * 1024);
        within_bound(format!("{kind} (256 KB)"), move || {
            let _ = ftprep::format::format_source(&text);
            let compilation = compile(SourceFile::new("hostile.ftprep", text));
            let _ = common::render(&compilation);
        });
    }
}

#[test]
fn a_ten_megabyte_string_is_read_in_one_pass() {
    let text = pathological::hostile("long-string", 10_000_000);
    within_bound("a 10 MB string".into(), move || {
        let compilation = compile(SourceFile::new("hostile.ftprep", text));
        let _ = common::render(&compilation);
    });
}
