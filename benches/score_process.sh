#!/usr/bin/env bash
# Whole-process timing of `ftprep score` on 1,000,000 generated judgment
# lines, against the Python baseline doing the same scoring.
#   benches/score_process.sh [LINES]
# Needs python3 and GNU time (/usr/bin/time, Debian package `time`).
set -euo pipefail
cd "$(dirname "$0")/.."
lines="${1:-1000000}"
work="${TMPDIR:-/tmp}/ftprep-score-bench"
mkdir -p "$work"
cargo build --release --locked
target/release/ftprep build tests/fixtures/score/spec.ftprep --out "$work/out" >/dev/null
[ -s "$work/judgments-$lines.jsonl" ] || python3 benches/gen_judgments.py "$lines" >"$work/judgments-$lines.jsonl"
input="$work/judgments-$lines.jsonl"
echo "input: $lines lines, $(du -h "$input" | cut -f1)"
run() {
  local name="$1"; shift
  for _ in 1 2 3; do
    /usr/bin/time -f "$name: %e s wall, %U s user, %M KB peak" "$@" >/dev/null
  done
}
run "ftprep score --grouped" target/release/ftprep score --grouped --scoring "$work/out/scoring.toml" "$input"
run "ftprep score" target/release/ftprep score --scoring "$work/out/scoring.toml" "$input"
run "python baseline" python3 benches/score_baseline.py "$input"
