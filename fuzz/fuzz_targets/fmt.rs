//! `ftprep fmt` on any text: the formatter either refuses it (syntax
//! errors) or formats it so that formatting again changes nothing and the
//! result still parses without errors.
#![no_main]

use ftprep::format::format_source;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(formatted) = format_source(text) {
        let again = format_source(&formatted).expect("formatted text parses");
        assert_eq!(again, formatted, "formatting is not idempotent");
    }
});
