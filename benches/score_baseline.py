#!/usr/bin/env python3
"""The Python baseline for `ftprep score`: the same scoring (safety gate,
YES / counted per category with N/A dropped, weighted score against the
threshold) and the same per-question YES rates, with the standard library's
`json` and `collections`, streaming line by line.

    python3 benches/score_baseline.py /tmp/judgments.jsonl

The rubric is the returns spec's (tests/fixtures/score/spec.ftprep), written
out here; floats are used, as a notebook would.
"""
import collections
import json
import sys

GATE = ["S1", "S2", "S3"]
CATEGORIES = [
    (0.3, ["AK1", "AK2", "AK3", "AK4"]),
    (0.4, ["RS1", "RS2", "RS3", "RS4"]),
    (0.3, ["CL1", "CL2", "CL3", "CL4"]),
]
THRESHOLD = 0.75


def as_answer(value):
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        v = value.strip().lower()
        if v in ("yes", "true"):
            return True
        if v in ("no", "false", "error"):
            return False
        if v in ("na", "n/a"):
            return None
    raise ValueError(value)


def main() -> None:
    yes = collections.Counter()
    answered = collections.Counter()
    verdicts = collections.Counter()
    rejected = 0
    with open(sys.argv[1], encoding="utf-8") as f:
        for line in f:
            try:
                record = json.loads(line)
                answers = {k: as_answer(v) for k, v in record["answers"].items()}
            except (ValueError, KeyError, TypeError):
                rejected += 1
                continue
            for q, a in answers.items():
                if a is not None:
                    answered[q] += 1
                    yes[q] += a
            if any(answers.get(q) is False for q in GATE):
                verdicts["gate_fail"] += 1
                continue
            total = weight = 0.0
            for w, questions in CATEGORIES:
                counted = [answers[q] for q in questions if answers.get(q) is not None]
                if counted:
                    total += w * sum(counted) / len(counted)
                    weight += w
            score = total / weight if weight else 0.0
            verdicts["pass" if score >= THRESHOLD else "fail"] += 1
    records = sum(verdicts.values())
    print(json.dumps({
        "records": records,
        "rejected": rejected,
        "passed": verdicts["pass"],
        "pass_rate": verdicts["pass"] / records if records else None,
        "yes_rate": {q: yes[q] / answered[q] for q in answered},
    }, indent=2))


if __name__ == "__main__":
    main()
