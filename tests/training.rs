//! `ftprep score --keep` as a training set: the training system prompt,
//! the train/validation split, slicing and preference pairs, on the
//! judged set of tests/fixtures/training (see its make_fixture.py for
//! what each conversation is for).

mod common;

use assert_cmd::Command;
use common::{root, settings};
use serde_json::Value;
use sha2::Digest;
use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

/// The spec's training system prompt: "You are {role}. You are talking
/// with {audience}."
const PROMPT: &str = "You are a patient support agent for an online shop who handles returns, refunds and replacements. You are talking with customers who write in by chat about an order that went wrong.";

/// The ids whose record passes (tr-a3 fails, tr-c2 fails the gate).
const PASSING: [&str; 9] = [
    "tr-a1", "tr-a2", "tr-b1", "tr-b2", "tr-c1", "tr-d1", "tr-d2", "tr-e1", "tr-l1",
];

fn workspace() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    fs::copy(
        root().join("tests/fixtures/score/spec.ftprep"),
        tmp.path().join("spec.ftprep"),
    )
    .unwrap();
    for name in ["generations.jsonl", "judgments.jsonl"] {
        fs::copy(
            root().join("tests/fixtures/training").join(name),
            tmp.path().join(name),
        )
        .unwrap();
    }
    tmp
}

fn score(dir: &Path, args: &[&str]) -> (String, String, i32) {
    let out = Command::cargo_bin("ftprep")
        .unwrap()
        .current_dir(dir)
        .arg("score")
        .args(args)
        .output()
        .unwrap();
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
        out.status.code().unwrap_or(-1),
    )
}

const BASE: [&str; 6] = [
    "--scoring",
    "spec.ftprep",
    "judgments.jsonl",
    "--generations",
    "generations.jsonl",
    "--keep",
];

fn lines(path: &Path) -> Vec<Value> {
    fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn read(dir: &Path, name: &str) -> String {
    fs::read_to_string(dir.join(name)).unwrap()
}

/// The generations by id.
fn generations(dir: &Path) -> BTreeMap<String, Vec<Value>> {
    lines(&dir.join("generations.jsonl"))
        .into_iter()
        .map(|g| {
            (
                g["id"].as_str().unwrap().to_string(),
                g["messages"].as_array().unwrap().clone(),
            )
        })
        .collect()
}

/// The id a written line comes from: the one passing conversation
/// holding all its assistant messages.
fn id_of(messages: &[Value], generations: &BTreeMap<String, Vec<Value>>) -> String {
    let ids: Vec<&String> = generations
        .iter()
        .filter(|(id, _)| PASSING.contains(&id.as_str()))
        .filter(|(_, own)| {
            messages
                .iter()
                .filter(|m| m["role"] == "assistant")
                .all(|m| own.contains(m))
        })
        .map(|(id, _)| id)
        .collect();
    assert_eq!(ids.len(), 1, "one conversation per line: {ids:?}");
    ids[0].clone()
}

/// The estimate the slicing documents: a token per four bytes of text
/// (rounded up), three per message, three per conversation.
fn tokens(messages: &[Value]) -> u64 {
    3 + messages
        .iter()
        .map(|m| 3 + (m["content"].as_str().unwrap().len() as u64).div_ceil(4))
        .sum::<u64>()
}

/// The documented split, computed here on its own: the first 8 bytes of
/// SHA-256("ftprep-split", 0, seed as 8 little-endian bytes, id), big-endian,
/// below share × 2⁶⁴.
fn in_validation(seed: u64, id: &str, share: f64) -> bool {
    let mut hasher = sha2::Sha256::new();
    hasher.update(b"ftprep-split\0");
    hasher.update(seed.to_le_bytes());
    hasher.update(id.as_bytes());
    let digest = hasher.finalize();
    let h = u64::from_be_bytes(digest[..8].try_into().unwrap());
    (h as f64) < share * 18_446_744_073_709_551_616.0
}

fn sha256(text: &str) -> String {
    sha2::Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

const FULL: [&str; 12] = [
    "train.jsonl",
    "--validation",
    "0.25",
    "--seed",
    "7",
    "--slice",
    "--max-tokens",
    "200",
    "--slices",
    "3",
    "--pairs",
    "pairs.jsonl",
];

#[test]
fn the_training_set_is_shaped_split_sliced_and_paired() {
    let tmp = workspace();
    let dir = tmp.path();
    let args: Vec<&str> = BASE.iter().chain(&FULL).copied().collect();
    let (_, stderr, code) = score(dir, &args);
    assert_eq!(code, 0, "{stderr}");

    let generations = generations(dir);
    let train = lines(&dir.join("train.jsonl"));
    let validation = lines(&dir.join("train.validation.jsonl"));

    // Each line: the prompt, then a window of its conversation that opens
    // with the user and ends with the assistant, within the limit.
    let mut slices: BTreeMap<String, Vec<Vec<Value>>> = BTreeMap::new();
    let mut sides: BTreeMap<String, &str> = BTreeMap::new();
    for (side, set) in [("train", &train), ("validation", &validation)] {
        for line in set.iter() {
            let messages = line["messages"].as_array().unwrap();
            assert_eq!(messages[0]["role"], "system");
            assert_eq!(messages[0]["content"], PROMPT);
            assert_eq!(messages[1]["role"], "user");
            assert_eq!(messages.last().unwrap()["role"], "assistant");
            assert!(tokens(messages) <= 200, "{}", tokens(messages));
            let id = id_of(messages, &generations);
            let own: Vec<&Value> = generations[&id]
                .iter()
                .filter(|m| m["role"] != "system")
                .collect();
            let window = &messages[1..];
            assert!(
                own.windows(window.len())
                    .any(|w| w.iter().copied().eq(window.iter())),
                "{id}: a slice is a run of the conversation's own messages"
            );
            if let Some(before) = sides.insert(id.clone(), side) {
                assert_eq!(before, side, "{id} is in both sets");
            }
            slices.entry(id).or_default().push(messages.clone());
        }
    }
    // Every passing conversation, each on the side the split rule says.
    assert_eq!(slices.keys().collect::<Vec<_>>(), PASSING);
    for id in PASSING {
        let expected = if in_validation(7, id, 0.25) {
            "validation"
        } else {
            "train"
        };
        assert_eq!(sides[id], expected, "{id}");
        // Its final turn is kept, in its last slice.
        let last_slice = slices[id].last().unwrap();
        assert_eq!(last_slice.last(), generations[id].last(), "{id}");
        assert!(slices[id].len() <= 3, "{id}");
    }
    assert!(
        sides.values().any(|s| *s == "validation") && sides.values().any(|s| *s == "train"),
        "the fixture's seed puts conversations on both sides"
    );
    // The own system message of tr-e1 is replaced.
    let all = read(dir, "train.jsonl") + &read(dir, "train.validation.jsonl");
    assert!(!all.contains("synthetic training data"));
    // tr-l1 (8 exchanges) does not fit: three windows of two exchanges.
    assert_eq!(slices["tr-l1"].len(), 3);
    assert!(slices["tr-l1"].iter().all(|s| s.len() == 5));

    let manifest: Value = serde_json::from_str(&read(dir, "train.jsonl.manifest.json")).unwrap();
    assert_eq!(manifest["kept"], 9);
    assert_eq!(manifest["system_prompt"]["text"], PROMPT);
    assert_eq!(manifest["system_prompt"]["sha256"], sha256(PROMPT));
    assert_eq!(manifest["system_prompt"]["replaced"], 1);
    assert_eq!(manifest["system_prompt"]["added"], 8);
    let split = &manifest["split"];
    assert_eq!(
        split["train_conversations"].as_u64().unwrap()
            + split["validation_conversations"].as_u64().unwrap(),
        9
    );
    assert_eq!(manifest["training_set"]["lines"], train.len());
    assert_eq!(manifest["validation_set"]["lines"], validation.len());
    assert_eq!(
        manifest["training_set"]["sha256"],
        sha256(&read(dir, "train.jsonl"))
    );
    assert_eq!(
        manifest["slicing"]["lines"].as_u64().unwrap(),
        (train.len() + validation.len()) as u64
    );

    // Pairs: a1 over a3 (one opening, users diverging after the first
    // answer: the prompt is the opening), and c1 over c2, which fails the
    // gate (they share their first exchange: the prompt runs to the
    // user's second message). c1 is in the validation set, so that pair
    // is too.
    let pairs = lines(&dir.join("pairs.jsonl"));
    let validation_pairs = lines(&dir.join("pairs.validation.jsonl"));
    let ids = |set: &[Value]| -> Vec<(String, String)> {
        set.iter()
            .map(|p| {
                (
                    p["ids"]["chosen"].as_str().unwrap().to_string(),
                    p["ids"]["rejected"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    assert!(in_validation(7, "tr-c1", 0.25) && !in_validation(7, "tr-a1", 0.25));
    assert_eq!(ids(&pairs), [("tr-a1".into(), "tr-a3".into())]);
    assert_eq!(ids(&validation_pairs), [("tr-c1".into(), "tr-c2".into())]);
    for (pair, prompt_len) in [(&pairs[0], 2), (&validation_pairs[0], 4)] {
        let prompt = pair["prompt"].as_array().unwrap();
        assert_eq!(prompt.len(), prompt_len);
        assert_eq!(prompt[0]["content"], PROMPT);
        assert_eq!(prompt.last().unwrap()["role"], "user");
        for side in ["chosen", "rejected"] {
            let rest = pair[side].as_array().unwrap();
            assert_eq!(rest[0]["role"], "assistant");
            assert_eq!(rest.last().unwrap()["role"], "assistant");
            // prompt + completion is the whole conversation, prompt first.
            let id = pair["ids"][side].as_str().unwrap();
            let mut whole = vec![serde_json::json!({"role": "system", "content": PROMPT})];
            whole.extend(generations[id].iter().cloned());
            let joined: Vec<Value> = prompt.iter().chain(rest).cloned().collect();
            assert_eq!(joined, whole, "{id}");
        }
    }
    assert_eq!(validation_pairs[0]["verdicts"]["rejected"], "gate_fail");
    assert_eq!(
        manifest["pairs"]["counts"],
        serde_json::json!({"conversations": 10, "ungrouped": 1, "scenarios": 5, "sets": 6,
            "sets_of_one": 3, "no_passing": 0, "within_margin": 1, "pairs": 2})
    );

    // Byte for byte the same in another directory.
    let again = workspace();
    let (_, _, code) = score(again.path(), &args);
    assert_eq!(code, 0);
    for name in [
        "train.jsonl",
        "train.validation.jsonl",
        "pairs.jsonl",
        "pairs.validation.jsonl",
        "train.jsonl.manifest.json",
    ] {
        assert_eq!(read(dir, name), read(again.path(), name), "{name}");
    }

    let said: String = stderr
        .lines()
        .filter(|l| l.starts_with("kept") || l.starts_with("  ") || l.starts_with("wrote"))
        .map(|l| format!("{l}\n"))
        .collect();
    settings("training").bind(|| {
        insta::assert_snapshot!("said", said);
        insta::assert_snapshot!("train.jsonl", read(dir, "train.jsonl"));
        insta::assert_snapshot!(
            "train.validation.jsonl",
            read(dir, "train.validation.jsonl")
        );
        insta::assert_snapshot!("pairs.jsonl", read(dir, "pairs.jsonl"));
        insta::assert_snapshot!(
            "pairs.validation.jsonl",
            read(dir, "pairs.validation.jsonl")
        );
        insta::assert_snapshot!("manifest.json", read(dir, "train.jsonl.manifest.json"));
    });
}

/// Appending conversations moves none of the earlier ones: the split and
/// the slices of an id depend on the seed and the id alone.
#[test]
fn growing_the_generations_keeps_each_conversation_where_it_was() {
    let tmp = workspace();
    let dir = tmp.path();
    let args: Vec<&str> = BASE.iter().chain(&FULL).copied().collect();
    assert_eq!(score(dir, &args).2, 0);
    let before = (
        read(dir, "train.jsonl"),
        read(dir, "train.validation.jsonl"),
    );

    let mut generations = read(dir, "generations.jsonl");
    let mut judgments = read(dir, "judgments.jsonl");
    let first_judgment = judgments.lines().next().unwrap().to_string();
    for k in 0..12 {
        let id = format!("tr-new-{k}");
        generations.push_str(&format!(
            "{{\"id\": \"{id}\", \"messages\": [{{\"role\": \"user\", \"content\": \"new question {k}\"}}, {{\"role\": \"assistant\", \"content\": \"new answer {k}\"}}]}}\n"
        ));
        judgments.push_str(&first_judgment.replace("tr-a1", &id));
        judgments.push('\n');
    }
    fs::write(dir.join("generations.jsonl"), generations).unwrap();
    fs::write(dir.join("judgments.jsonl"), judgments).unwrap();
    assert_eq!(score(dir, &args).2, 0);
    let after = (
        read(dir, "train.jsonl"),
        read(dir, "train.validation.jsonl"),
    );
    let old = |text: &str| -> String {
        text.lines()
            .filter(|l| !l.contains("new answer"))
            .map(|l| format!("{l}\n"))
            .collect()
    };
    assert_eq!(old(&after.0), before.0);
    assert_eq!(old(&after.1), before.1);
    // And the new ones are split too.
    let new_in_validation = after.1.matches("new answer").count();
    assert_eq!(
        new_in_validation,
        (0..12)
            .filter(|k| in_validation(7, &format!("tr-new-{k}"), 0.25))
            .count()
    );
}

#[test]
fn the_system_prompt_comes_from_the_spec_a_file_or_nowhere() {
    let tmp = workspace();
    let dir = tmp.path();
    Command::cargo_bin("ftprep")
        .unwrap()
        .current_dir(dir)
        .args(["build", "spec.ftprep", "--out", "out"])
        .assert()
        .success();
    let from_toml = |extra: &[&str]| {
        let mut args = vec![
            "--scoring",
            "out/scoring.toml",
            "judgments.jsonl",
            "--generations",
            "generations.jsonl",
            "--keep",
            "t.jsonl",
        ];
        args.extend_from_slice(extra);
        score(dir, &args)
    };
    // A scoring.toml holds no domain to derive the prompt from.
    let (_, refused, code) = from_toml(&[]);
    assert_eq!(code, 2);
    assert!(!dir.join("t.jsonl").exists(), "nothing is written");

    fs::write(dir.join("prompt.md"), "You are the returns desk.\n\n").unwrap();
    let (_, stderr, code) = from_toml(&["--system-prompt", "prompt.md"]);
    assert_eq!(code, 0, "{stderr}");
    for line in lines(&dir.join("t.jsonl")) {
        assert_eq!(line["messages"][0]["content"], "You are the returns desk.");
    }
    let manifest: Value = serde_json::from_str(&read(dir, "t.jsonl.manifest.json")).unwrap();
    assert_eq!(manifest["system_prompt"]["source"], "file");
    assert_eq!(manifest["system_prompt"]["path"], "prompt.md");

    // --no-system-prompt: the conversations as they are.
    let (_, stderr, code) = from_toml(&["--no-system-prompt"]);
    assert_eq!(code, 0, "{stderr}");
    let generations = generations(dir);
    let kept: Vec<Value> = lines(&dir.join("t.jsonl"));
    assert_eq!(kept.len(), PASSING.len());
    for (line, id) in kept.iter().zip(PASSING) {
        assert_eq!(
            line["messages"].as_array().unwrap(),
            &generations[id],
            "{id}"
        );
    }
    let manifest: Value = serde_json::from_str(&read(dir, "t.jsonl.manifest.json")).unwrap();
    assert_eq!(manifest["system_prompt"]["source"], "none");

    let (_, both, code) = from_toml(&["--no-system-prompt", "--system-prompt", "prompt.md"]);
    assert_eq!(code, 2);
    assert!(both.contains("cannot be used with"), "{both}");
    settings("training").bind(|| insta::assert_snapshot!("scoring-toml-without-prompt", refused));
}

#[test]
fn a_conversation_whose_last_exchange_is_over_the_limit_is_reported_and_not_kept() {
    let tmp = workspace();
    let dir = tmp.path();
    let mut args: Vec<&str> = BASE.to_vec();
    args.extend(["train.jsonl", "--slice", "--max-tokens", "100"]);
    let (_, stderr, code) = score(dir, &args);
    assert_eq!(code, 0, "{stderr}");
    let manifest: Value = serde_json::from_str(&read(dir, "train.jsonl.manifest.json")).unwrap();
    let too_long = manifest["too_long"].as_u64().unwrap();
    assert!(too_long > 0);
    assert_eq!(
        manifest["kept"].as_u64().unwrap()
            + manifest["passing_without_generation"].as_u64().unwrap()
            + manifest["conflicting_generations"].as_u64().unwrap()
            + too_long,
        manifest["passed"].as_u64().unwrap()
    );
    for line in lines(&dir.join("train.jsonl")) {
        assert!(tokens(line["messages"].as_array().unwrap()) <= 100);
    }
    let said: String = stderr
        .lines()
        .filter(|l| l.starts_with("generations.jsonl:") || l.starts_with("kept"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(said.lines().count() as u64, too_long + 1);
    settings("training").bind(|| insta::assert_snapshot!("too-long", said));
}

#[test]
fn bad_training_options_are_refused_before_anything_is_written() {
    let tmp = workspace();
    let dir = tmp.path();
    let mut said = String::new();
    for extra in [
        &["train.jsonl", "--validation", "1"][..],
        &["train.jsonl", "--keep-validation", "v.jsonl"],
        &["train.jsonl", "--pairs", "p.jsonl", "--pair-margin", "2"],
        &[
            "train.jsonl",
            "--pairs",
            "p.jsonl",
            "--pair-margin",
            "a lot",
        ],
        &["train.jsonl", "--slice", "--slices", "0"],
        &["train.jsonl", "--slice", "--max-tokens", "0"],
        &["train.jsonl", "--pairs", "generations.jsonl"],
        &[
            "train.jsonl",
            "--validation",
            "0.1",
            "--pairs",
            "train.validation.jsonl",
        ],
        &["train.jsonl", "--pairs", "-"],
    ] {
        let args: Vec<&str> = BASE.iter().chain(extra).copied().collect();
        let (_, stderr, code) = score(dir, &args);
        assert_eq!(code, 2, "{extra:?}: {stderr}");
        said.push_str(&format!(
            "$ score ... --keep {}\n{stderr}\n",
            extra.join(" ")
        ));
    }
    // clap's own: a setting without what it needs.
    for extra in [
        &["train.jsonl", "--max-tokens", "100"][..],
        &["--pairs", "p.jsonl"],
    ] {
        let args: Vec<&str> = BASE[..5].iter().chain(extra).copied().collect();
        let (_, stderr, code) = score(dir, &args);
        assert_eq!(code, 2, "{extra:?}: {stderr}");
        assert!(
            stderr.contains("required arguments were not provided"),
            "{stderr}"
        );
    }
    let names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !["spec.ftprep", "generations.jsonl", "judgments.jsonl"].contains(&n.as_str()))
        .collect();
    assert!(names.is_empty(), "{names:?}");
    settings("training").bind(|| insta::assert_snapshot!("refused", said));
}
