//! A generator of large, valid specs for benchmarks: `generated_spec(k)`
//! grows linearly with `k` (k = 1 is about the size of a real spec);
//! `near_duplicate_spec(n)` has `n` questions that nearly all look alike.
//! Each benchmark and test that includes this file uses some of them.

#![allow(dead_code)]

use std::fmt::Write;

pub fn generated_spec(k: usize) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "domain generated {{\n  title \"Generated domain\"\n  role \"a helpful assistant for generated tasks\"\n  audience \"people who send generated requests\"\n}}\n"
    );
    for f in 0..k {
        let _ = writeln!(
            s,
            "framework f{f} \"Framework {f}\" {{\n  about \"A framework about topic {f}.\"\n  principle \"Principle one of framework {f}.\"\n  principle \"Principle two of framework {f}.\""
        );
        for t in 0..3 {
            let _ = writeln!(
                s,
                "  technique t{t} \"Technique {t} of {f}\" {{\n    when \"the user raises issue {t} of topic {f}\"\n    example {{\n      user      \"I have problem {t} with topic {f} and I do not know what to do about it.\"\n      assistant \"That sounds difficult. Let us look at problem {t} together: what have you tried so far?\"\n    }}"
            );
            if t > 0 {
                let _ = writeln!(
                    s,
                    "    instead_of f{f}.t0 when \"the user already tried technique zero\""
                );
            }
            let _ = writeln!(s, "  }}");
        }
        let _ = writeln!(s, "}}\n");
    }
    for i in 0..3 * k {
        let _ = writeln!(
            s,
            "failure fm{i} \"Failure mode {i}\" {{\n  about \"Assistants sometimes do bad thing {i}, which hurts the user.\"\n  example \"An example of bad thing {i} in a reply.\"\n  source \"A study of failure {i}\"\n}}\n"
        );
    }
    let _ = writeln!(s, "always {{");
    for i in 0..8 * k {
        let _ = writeln!(
            s,
            "  a{i} \"Do observable thing {i} in every reply\" guards fm{}",
            i % (3 * k)
        );
    }
    let _ = writeln!(s, "}}\n\nnever {{");
    for i in 0..10 * k {
        let _ = writeln!(
            s,
            "  n{i} \"Do harmful thing {i}\" guards fm{}",
            i % (3 * k)
        );
    }
    let _ = writeln!(s, "}}\n");

    // Rubric: a four-question gate and 4k categories of four questions.
    let categories = 4 * k;
    let mut ids = Vec::new();
    let _ = writeln!(
        s,
        "rubric {{\n  threshold 0.75\n  define \"reply\" \"the assistant's message\"\n  gate safety \"Safety\" {{"
    );
    for q in 0..4 {
        let _ = writeln!(
            s,
            "    S{q} \"Does the response avoid harmful thing {q}?\" checks never.n{q}"
        );
        ids.push(format!("S{q}"));
    }
    let _ = writeln!(s, "  }}");
    let base = 1_000_000_000 / categories as u64;
    let last = 1_000_000_000 - base * (categories as u64 - 1);
    for c in 0..categories {
        let units = if c + 1 == categories { last } else { base };
        let _ = writeln!(s, "  category c{c} \"Category {c}\" weight 0.{units:09} {{");
        for q in 0..4 {
            let n = c * 4 + q;
            let _ = writeln!(
                s,
                "    C{c}Q{q} \"Does the response do observable thing {n} for the user?\" checks always.a{}",
                n % (8 * k)
            );
            ids.push(format!("C{c}Q{q}"));
        }
        let _ = writeln!(s, "  }}");
    }
    let _ = writeln!(s, "}}\n");

    for (name, expect, gate, quality) in [
        ("strong", "pass", "yes", "yes"),
        ("weak", "fail", "yes", "no"),
        ("unsafe", "gate_fail", "no", "yes"),
    ] {
        let _ = writeln!(
            s,
            "calibration {name} \"A {name} response\" expect {expect} {{\n  user \"Please help me with my problem.\"\n  assistant \"Here is a {name} reply to the problem.\"\n  answers {{"
        );
        for id in &ids {
            let answer = if id.starts_with('S') { gate } else { quality };
            let _ = writeln!(s, "    {id} {answer} \"The reply is {name} on {id}.\"");
        }
        let _ = writeln!(s, "  }}\n}}\n");
    }
    for i in 0..4 * k {
        let _ = writeln!(
            s,
            "fewshot ex{i} \"Example {i}\" {{\n  shows f{}.t0, always.a{}\n  why \"It shows technique zero and anchor {i}.\"\n  user \"I need help with situation {i}.\"\n  assistant \"I hear that situation {i} is hard. What would help most right now?\"\n}}\n",
            i % k,
            i % (8 * k)
        );
    }
    let _ = writeln!(
        s,
        "generation {{\n  turns 3..6\n  length \"two to four sentences\"\n  scenario \"a generated situation\"\n}}\n\njudge {{\n  evidence first\n  calls single\n}}"
    );
    s
}

/// A spec whose rubric has `n` questions written from one template with a
/// few words varied, so that most pairs look alike: what the similarity
/// rules must report as groups rather than pair by pair.
pub fn near_duplicate_spec(n: usize) -> String {
    const VERBS: &[&str] = &["acknowledge", "name", "restate", "mention"];
    const OBJECTS: &[&str] = &["problem", "issue", "concern", "complaint", "request"];
    const WHEN: &[&str] = &["first", "early", "promptly"];
    let mut s = generated_spec(1);
    let rubric = s.find("rubric {").expect("a rubric");
    let end = s[rubric..]
        .find("\n}\n")
        .map(|e| rubric + e + 3)
        .expect("its end");
    let mut questions = String::new();
    let mut ids = Vec::new();
    let per = 4;
    let categories = n.div_ceil(per);
    let base = 1_000_000_000 / categories as u64;
    let last = 1_000_000_000 - base * (categories as u64 - 1);
    let _ = writeln!(
        questions,
        "rubric {{\n  threshold 0.75\n  gate safety \"Safety\" {{\n    S0 \"Does the response avoid harmful thing 0?\" checks never.n0\n  }}"
    );
    ids.push("S0".to_string());
    for c in 0..categories {
        let units = if c + 1 == categories { last } else { base };
        let _ = writeln!(
            questions,
            "  category c{c} \"Category {c}\" weight 0.{units:09} {{"
        );
        for q in 0..per.min(n - c * per) {
            let i = c * per + q;
            let _ = writeln!(
                questions,
                "    Q{i} \"Does the response {} the customer's {} {} in the reply?\" checks always.a{}",
                VERBS[i % VERBS.len()],
                OBJECTS[(i / VERBS.len()) % OBJECTS.len()],
                WHEN[(i / 20) % WHEN.len()],
                i % 8
            );
            ids.push(format!("Q{i}"));
        }
        let _ = writeln!(questions, "  }}");
    }
    let _ = writeln!(questions, "}}");
    s.replace_range(rubric..end, &questions);
    // The calibration examples answer every question.
    let calibration = s.find("calibration ").expect("calibration");
    let fewshot = s.find("fewshot ").expect("few-shot examples");
    let mut examples = String::new();
    for (name, expect, gate, quality) in [
        ("strong", "pass", "yes", "yes"),
        ("weak", "fail", "yes", "no"),
        ("unsafe", "gate_fail", "no", "yes"),
    ] {
        let _ = writeln!(
            examples,
            "calibration {name} \"A {name} response\" expect {expect} {{\n  user \"Please help me with my problem.\"\n  assistant \"Here is a {name} reply to the problem.\"\n  answers {{"
        );
        for id in &ids {
            let answer = if id.starts_with('S') { gate } else { quality };
            let _ = writeln!(
                examples,
                "    {id} {answer} \"The reply is {name} on {id}.\""
            );
        }
        let _ = writeln!(examples, "  }}\n}}\n");
    }
    s.replace_range(calibration..fewshot, &examples);
    s
}
