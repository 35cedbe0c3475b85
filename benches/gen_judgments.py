#!/usr/bin/env python3
"""Writes N judgment lines for the returns spec (tests/fixtures/score/spec.ftprep)
in the plain answers form, for the scoring benchmark:

    python3 benches/gen_judgments.py 1000000 > /tmp/judgments.jsonl
"""
import json
import random
import sys

QUESTIONS = ["S1", "S2", "S3", "AK1", "AK2", "AK3", "AK4", "RS1", "RS2", "RS3",
             "RS4", "CL1", "CL2", "CL3", "CL4"]
CONDITIONAL = {"AK4", "RS2", "CL2", "CL3"}


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    rng = random.Random(42)
    out = sys.stdout
    for i in range(n):
        answers = {}
        for q in QUESTIONS:
            if q in CONDITIONAL and rng.random() < 0.3:
                answers[q] = "NA"
            else:
                answers[q] = rng.random() < (0.97 if q.startswith("S") else 0.8)
        out.write(json.dumps({"id": f"c{i}", "answers": answers}, separators=(",", ":")))
        out.write("\n")


if __name__ == "__main__":
    main()
