//! `syntax::parse_on` cuts a large file in two and parses the halves on two
//! threads. It must give exactly the tree and diagnostics of `parse`, for
//! every shipped spec and fixture, and for files built to put the cut in
//! awkward places.

mod common;

#[path = "../benches/support/mod.rs"]
mod support;

use ftprep::parallel::Helper;
use ftprep::syntax::{parse, parse_on};

fn assert_same(name: &str, text: &str, helper: &Helper) {
    let whole = format!("{:#?}", parse(text));
    let split = format!("{:#?}", parse_on(helper, text));
    assert!(whole == split, "{name}: parse_on differs from parse");
}

/// A spec's top-level blocks, each with the comments and blank lines that
/// precede it, so they can be put together in another order.
fn blocks(text: &str) -> Vec<String> {
    let parsed = parse(text);
    let mut out = Vec::new();
    let mut start = 0;
    for item in &parsed.file.items {
        let end = item.span().end;
        out.push(text[start..end].to_string());
        start = end;
    }
    out
}

#[test]
fn every_spec_and_fixture_parses_the_same_in_two_halves() {
    let helper = Helper::start();
    let mut files = common::shipped_specs();
    for kind in ["valid", "invalid", "lint", "precision", "format", "score"] {
        files.extend(common::fixtures(kind));
    }
    for path in files {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue; // the non-UTF-8 fixture never reaches the parser
        };
        assert_same(&common::relative(&path), &text, &helper);
        // Doubled, so that small fixtures are large enough to be cut too.
        let twice = format!("{text}\n{text}");
        assert_same(&common::relative(&path), &twice, &helper);
    }
    assert_same("generated", &support::generated_spec(10), &helper);
}

#[test]
fn reordered_blocks_put_the_cut_everywhere() {
    let helper = Helper::start();
    let mut rng = common::Rng(0x9E37_79B9_7F4A_7C15);
    for path in common::shipped_specs() {
        let text = std::fs::read_to_string(&path).expect("a shipped spec");
        let mut parts = blocks(&text);
        for round in 0..12 {
            for i in (1..parts.len()).rev() {
                parts.swap(i, rng.below(i + 1));
            }
            let name = format!("{} (order {round})", common::relative(&path));
            assert_same(&name, &parts.concat(), &helper);
        }
    }
}

#[test]
fn headers_over_several_lines_junk_and_comments_near_the_cut() {
    let helper = Helper::start();
    let therapy = std::fs::read_to_string(common::root().join("specs/therapy.ftprep"))
        .expect("the therapy spec");
    let parts = blocks(&therapy);
    let middle = parts.len() / 2;
    let inserts = [
        // A header split over lines right after a top-level block.
        "\ncalibration extra\n  \"Split header\"\n  expect pass\n{\n  user \"hi\"\n}\n",
        // A comment after the closing brace, then a block.
        "} # a stray brace with a comment\nexpert late \"Late\" { focus \"x\" }\n",
        // An unreadable line whose `#` hides a `{` from a brace count.
        "\nthis is not a block # {\n",
        // A junk line opening a group over several lines.
        "\nnonsense {\n  still nonsense\n}\n",
        // An unterminated string.
        "\ndomain broken { title \"no end }\n",
    ];
    for (n, insert) in inserts.iter().enumerate() {
        for at in [middle.saturating_sub(1), middle, middle + 1] {
            let mut text = parts[..at].concat();
            text.push_str(insert);
            text.push_str(&parts[at..].concat());
            assert_same(&format!("insert {n} before block {at}"), &text, &helper);
        }
    }
}
