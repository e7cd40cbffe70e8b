#!/usr/bin/env bash
# Admission webhook benchmark: `palisade admission serve` pinned to one core, load from `hey` (Debian
# package) on the other, over HTTPS. Bundle: Pod Security "restricted" (Kyverno podSecurity), 20 Rego
# (gatekeeper-library general templates with their first suite constraint) and 10 CEL
# (ValidatingAdmissionPolicies of the VAP corpus); body: an AdmissionReview of a Deployment written by
# `kubectl create deployment --dry-run=client`. Rows: 1,000 requests/s for 20 s (p50/p99, errors), then
# saturation (no rate limit), then peak RSS. Latency is given as hey sees it and as the server's own
# histogram says (body read to response, including the wait for an evaluation slot). hey's rate limit
# fires every worker's ticker together, so W workers send bursts of W requests: the 1,000/s row uses
# WORKERS=4 by default (WORKERS=20 shows what bursts of 20 do to the tail). Prints a markdown table.
#
#   cargo build --release && bash bench/admission.sh
# Kyverno publishes p99 of 80-182 ms at 50 virtual users for 16 PSS policies; their figure includes the API
# server, ours is the webhook alone over loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${PALISADE:-target/release/palisade}
data=${DATA:-../shared/data}
secs=${SECS:-20}
[ -x "$bin" ] || { echo "no $bin: cargo build --release first" >&2; exit 1; }
command -v hey >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq hey >/dev/null; }
for f in "$data/policy/gatekeeper-general.tar.gz" "$data/policy/vap-cel.tar.gz"; do
  [ -f "$f" ] || { echo "skipped: $f is absent" >&2; exit 0; }
done
work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
tar xzf "$data/policy/gatekeeper-general.tar.gz" -C "$work"
tar xzf "$data/policy/vap-cel.tar.gz" -C "$work"
python3 bench/policy_bundle.py "$work" "$work/b" 20 10
python3 - "$work" crates/palisade-admission/tests/fixtures/objects/deployment.json <<'PY'
import json, sys
work, deployment = sys.argv[1], sys.argv[2]
obj = json.load(open(deployment))
review = {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
    "uid": "bench", "kind": {"group": "apps", "version": "v1", "kind": "Deployment"},
    "resource": {"group": "apps", "version": "v1", "resource": "deployments"},
    "namespace": "prod", "name": "web", "operation": "CREATE",
    "userInfo": {"username": "ci", "groups": ["system:authenticated"]}, "object": obj, "dryRun": False}}
json.dump(review, open(f"{work}/body.json", "w"))
PY
taskset -c 0 "$bin" admission serve --bundle "$work/b" --self-signed "$work/certs" --listen 127.0.0.1:0 \
  >"$work/server.out" 2>"$work/server.err" &
pid=$!
for _ in $(seq 100); do grep -q 'listening on' "$work/server.out" 2>/dev/null && break; sleep 0.1; done
port=$(grep -o 'https://127.0.0.1:[0-9]*' "$work/server.out" | sed 's/.*://')
[ -n "$port" ] || { echo "server did not start:" >&2; cat "$work/server.err" >&2; exit 1; }
url="https://127.0.0.1:$port/validate"
# -host: hey 0.1.4 sends the URL's host:port as the TLS server name, which is not a valid SNI name.
load() { taskset -c 1 hey -z "${secs}s" -host localhost -m POST -T application/json -D "$work/body.json" "$@" "$url"; }
metrics() { curl -s --cacert "$work/certs/ca.crt" "https://localhost:$port/metrics" >"$work/$1.prom"; }
# Server-side p50/p99 of one row, from the review_duration_seconds histogram before and after it (bucket
# upper bounds: the time from reading the body to the response, without the client and TLS).
server_pct() {
  python3 - "$work/$1.prom" "$work/$2.prom" <<'PY'
import re, sys
def buckets(path):
    b = {}
    for line in open(path):
        m = re.match(r'palisade_admission_review_duration_seconds_bucket\{le="([^"]+)"\} (\d+)', line)
        if m:
            b[float("inf") if m.group(1) == "+Inf" else float(m.group(1))] = int(m.group(2))
    return b
a, b = buckets(sys.argv[1]), buckets(sys.argv[2])
les = sorted(b)
counts = [b[le] - a.get(le, 0) for le in les]
total = counts[-1] if counts else 0
def q(p):
    for le, c in zip(les, counts):
        if total and c >= p * total:
            return "≤ %.2f ms" % (le * 1000) if le != float("inf") else "> max bucket"
    return "-"
print(q(0.5), "/", q(0.99))
PY
}
load -c 10 -q 20 >/dev/null # warm-up
metrics m0
rate=$(load -c ${WORKERS:-4} -q $((1000 / ${WORKERS:-4})))
metrics m1
sat=$(load -c 50)
metrics m2
rss=$(awk '/VmHWM/ {print int($2/1024)}' "/proc/$pid/status")
# Non-200 responses plus transport errors: `[code] N responses` and `[N] error text` lines.
errors() {
  echo "$1" | awk '/Status code distribution/ {m=1; next} /Error distribution/ {m=2; next}
    m == 1 && $1 ~ /^\[[0-9]+\]$/ && $1 != "[200]" {s += $2}
    m == 2 && $1 ~ /^\[[0-9]+\]$/ {gsub(/[][]/, "", $1); s += $1}
    END {print s+0}'
}
pct() { echo "$1" | awk -v p="$2" '$1 == p"%" && $2 == "in" {printf "%.2f ms", $3 * 1000}'; }
rps() { echo "$1" | awk '/Requests\/sec/ {printf "%.0f", $2}'; }
echo "Admission webhook, one server core ($(uname -m)), hey on the other core, HTTPS on loopback; $(ls "$work/b/gatekeeper" | wc -l | awk '{print $1/2}') Rego, $(ls "$work/b/vap" | wc -l) CEL, 1 Kyverno podSecurity policy; Deployment body."
echo
echo "| load | requests/s | p50 (client) | p99 (client) | server p50 / p99 | non-200 | peak RSS |"
echo "|---|---|---|---|---|---|---|"
echo "| 1,000/s target (${WORKERS:-4} workers) | $(rps "$rate") | $(pct "$rate" 50) | $(pct "$rate" 99) | $(server_pct m0 m1) | $(errors "$rate") | |"
echo "| saturation (50 workers) | $(rps "$sat") | $(pct "$sat" 50) | $(pct "$sat" 99) | $(server_pct m1 m2) | $(errors "$sat") | $rss MB |"
