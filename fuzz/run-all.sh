#!/usr/bin/env bash
# Runs every fuzz target for SECONDS (default 3600) at once, each from its committed seeds plus its working
# corpus (fuzz/corpus/TARGET, not committed), and prints one line per target: runs, coverage, corpus size,
# peak RSS, and whether it found anything (a crash, timeout or out-of-memory leaves a file under
# fuzz/artifacts/TARGET). Usage: fuzz/run-all.sh [SECONDS] [TARGET...]
# Needs cargo-fuzz; on stable Rust, RUSTC_BOOTSTRAP=1 and no sanitizer (see docs/fuzzing.md).
set -euo pipefail
cd "$(dirname "$0")"
secs=${1:-3600}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(layer os_packages lockfiles yaml dockerfile sbom osv_import)
export RUSTC_BOOTSTRAP=1
# Build once, then start the binaries themselves: `cargo fuzz run` would build again per target, and seven
# builds at once wait on one another's locks.
[ -n "${SKIP_BUILD:-}" ] || cargo fuzz build -s none -O   # SKIP_BUILD=1: run the binaries as built
bin=target/x86_64-unknown-linux-gnu/release
mkdir -p logs
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t"
  # Low priority: the runs use what the machine leaves idle.
  nice -n 19 "$bin/$t" "corpus/$t" "seeds/$t" \
    -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="artifacts/$t/" >"logs/$t.log" 2>&1 &
done
wait || true
printf '| Target | Runs | Coverage (edges) | Corpus | Peak RSS | Findings |\n|---|---|---|---|---|---|\n'
for t in "${targets[@]}"; do
  log="logs/$t.log"
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo '?')
  corp=$(grep -o 'corp: [0-9]*/[0-9]*[a-zA-Z]*' "$log" | tail -1 | cut -d' ' -f2 || echo '?')
  rss=$(grep -o 'stat::peak_rss_mb: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
  found=$(find "artifacts/$t" -type f | wc -l)
  printf '| `%s` | %s | %s | %s | %s MB | %s |\n' "$t" "$runs" "$cov" "$corp" "$rss" "$found"
done
