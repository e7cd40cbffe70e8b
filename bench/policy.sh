#!/usr/bin/env bash
# Policy engine benchmark: one bundle of Pod Security "restricted" (as a Kyverno podSecurity rule), every
# gatekeeper-library general template with its first suite constraint, and the ValidatingAdmissionPolicies of
# the VAP corpus, evaluated on the 4,537 Pod Security admission fixture Pods with `palisade policy eval
# --timings` (one thread): compile time, p50/p99/max per object, objects per second, peak RSS; then each
# language alone. Prints a markdown table.
#
# Needs ../shared/data (k8s/psa-testdata.tar.gz, policy/*.tar.gz) and a release build:
#   cargo build --release && bash bench/policy.sh
# Then real OPA beside regorus on the Rego part (every gatekeeper general template on the Pods its constraint
# selects), through the differential test's harness (PyPI opa-golib-python-bindings, tests/opa_eval.py), built
# in release: per-Pod p50/p99 of both and the ratio of their totals. OPA's calls go through the bindings' JSON
# marshalling, which its times include. Skipped when python3 cannot import the bindings.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${PALISADE:-target/release/palisade}
data=${DATA:-../shared/data}
for f in "$data/k8s/psa-testdata.tar.gz" "$data/policy/gatekeeper-general.tar.gz" "$data/policy/vap-cel.tar.gz"; do
  [ -f "$f" ] || { echo "skipped: $f is absent" >&2; exit 0; }
done
[ -x "$bin" ] || { echo "no $bin: cargo build --release first" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar xzf "$data/k8s/psa-testdata.tar.gz" -C "$work"
tar xzf "$data/policy/gatekeeper-general.tar.gz" -C "$work"
tar xzf "$data/policy/vap-cel.tar.gz" -C "$work"
pods=$(find "$work/pod-security-admission" -name '*.yaml' -path '*testdata*' | wc -l)

python3 bench/policy_bundle.py "$work" "$work/b"

row() { # label bundle-dir
  local out="$work/out.json" tfile="$work/time.txt" err="$work/err.txt"
  /usr/bin/time -f '%M' -o "$tfile" "$bin" policy eval --bundle "$2" "$work/pod-security-admission" \
    --timings --format json >"$out" 2>"$err" || true
  local t rss
  t=$(grep '^timings:' "$err" | head -1)
  rss=$(( $(tail -1 "$tfile") / 1024 ))
  # timings: compiled N policies in X ms; M objects on one thread in S s: p50 A µs, p99 B µs, max C µs, R objects/s
  python3 - "$1" "$t" "$rss" <<'PY'
import re, sys
label, t, rss = sys.argv[1], sys.argv[2], sys.argv[3]
m = re.search(r"compiled (\d+) policies in ([\d.]+) ms; (\d+) objects on one thread in ([\d.]+) s: p50 (\d+) µs, p99 (\d+) µs, max (\d+) µs, (\d+) objects/s", t)
if not m:
    print(f"| {label} | (no timings: {t!r}) |||||||")
else:
    p, c, o, s, p50, p99, mx, r = m.groups()
    print(f"| {label} | {p} | {c} ms | {o} | {p50} µs | {p99} µs | {mx} µs | {r} | {rss} MB |")
PY
}
echo "Policy evaluation on $pods PSA fixture files ($(nproc) cores, $(uname -m)); one evaluation thread."
echo
echo "| bundle | policies | compile | objects | p50 | p99 | max | objects/s | peak RSS |"
echo "|---|---|---|---|---|---|---|---|---|"
row "whole bundle" "$work/b"
row "gatekeeper general (Rego)" "$work/b/gatekeeper"
row "PSS restricted (Kyverno podSecurity)" "$work/b/kyverno"
row "VAP corpus (CEL)" "$work/b/vap"

echo
if python3 -c 'import opa_bindings' 2>/dev/null; then
  line=$(cargo test -q --release -p palisade-policy --test opa_differential -- --nocapture 2>/dev/null | grep '^timing:' || true)
  echo "Rego beside OPA (release, one evaluation at a time each): ${line#timing: }"
else
  echo "Rego beside OPA: skipped (pip install --ignore-requires-python opa-golib-python-bindings)"
fi
