#!/usr/bin/env bash
# Peak RSS of the debug binary on the memory cases of issue 11 (hostile input), each generated in a temp dir.
# Usage: bench/hostile-memory.sh [SCALE] [CASE...]
#   SCALE 1 = the sizes of the issue (3M tar entries, 1M dpkg packages, 100k Pods, ...); default 0.1.
#   PALISADE=path/to/binary (default target/debug/palisade); EXTRA="--memory-limit 1GiB" adds global flags.
#   CAP_MB (default 6000): every run is under `prlimit --as` of this many MB so a case cannot take the machine.
# Prints one line per case: name, exit code, peak RSS (MB), wall seconds, last stderr line.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${PALISADE:-$here/../target/debug/palisade}
scale=${1:-0.1}
shift || true
cases=("$@")
[ ${#cases[@]} -eq 0 ] && cases=(oci-entries dpkg pods git-4gib cyclonedx spdx oneline-yaml stdin-zero)
tmp=$(mktemp -d /tmp/hostile-memory.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
db=$tmp/vuln.db
"$bin" -q db build --db "$db" --from "$here/../crates/palisade-vulndb/tests/fixtures/feed/osv" >/dev/null 2>&1 \
  || { echo "db build failed" >&2; exit 1; }
cap=$(( ${CAP_MB:-6000} * 1024 * 1024 ))
printf '%-14s %5s %9s %8s  %s\n' case exit rss_mb seconds "last stderr line"
for c in "${cases[@]}"; do
  d=$tmp/$c
  mkdir -p "$d"
  args=$(python3 "$here/hostile_inputs.py" "$d" "$c" "$scale") || { echo "$c: generation failed"; continue; }
  while IFS= read -r a; do
    a=${a//\{db\}/$db}
    start=$(date +%s.%N)
    # shellcheck disable=SC2086
    eval "/usr/bin/time -f '%M' -o '$d/time' prlimit --as=$cap '$bin' --no-progress ${EXTRA:-} $a" \
      >"$d/out" 2>"$d/err"
    rc=$?
    end=$(date +%s.%N)
    rss=$(( $(tail -1 "$d/time") / 1024 ))
    last=$(grep -v '^Command exited' "$d/err" | tail -1 | cut -c1-110)
    printf '%-14s %5s %9s %8.1f  %s\n' "$c" "$rc" "$rss" "$(echo "$end - $start" | bc)" "$last"
  done <<<"$args"
  rm -rf "$d"
done
