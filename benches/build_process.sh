#!/usr/bin/env bash
# Whole-process timings of ftprep on the shipped specs, with hyperfine
# (Debian: apt install hyperfine; or cargo install hyperfine --locked, which
# needs hyperfine --version 1.20.0 on a Rust older than 1.97).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { echo "hyperfine is not installed" >&2; exit 2; }
cargo build --release --locked
out="${TMPDIR:-/tmp}/ftprep-bench"
for spec in specs/*.ftprep; do
  target/release/ftprep build "$spec" --out "$out/$(basename "$spec" .ftprep)" >/dev/null 2>&1
done
args=(-N --warmup 10 --runs 300 'target/release/ftprep --version')
for spec in specs/*.ftprep; do
  name=$(basename "$spec" .ftprep)
  args+=("target/release/ftprep check $spec" "target/release/ftprep build $spec --out $out/$name")
done
hyperfine "${args[@]}"
