#!/usr/bin/env bash
# Runs each fuzz target for SECONDS (default 600), one at a time, and appends a summary line per
# target to fuzz/results.log. Needs a nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`).
# Crashing inputs land in fuzz/artifacts/<target>/ and become regression tests in the crate.
set -uo pipefail
cd "$(dirname "$0")"
seconds=${SECONDS_PER_TARGET:-600}
targets=${*:-pickle gguf safetensors notebook zip_walk protobuf encoded}
python3 make_seeds.py
for target in $targets; do
  log="logs/$target.log"
  mkdir -p logs "corpus/$target"
  cargo +nightly fuzz run -a "$target" "corpus/$target" -- \
    -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=65536 -timeout=10 -print_final_stats=1 \
    >"$log" 2>&1
  status=$?
  runs=$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}')
  crashes=$(ls "artifacts/$target" 2>/dev/null | wc -l)
  echo "$(date -u +%FT%TZ) $target seconds=$seconds exit=$status executions=${runs:-?} artifacts=$crashes" >> results.log
done
