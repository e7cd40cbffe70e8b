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
# Then image facts (`IMAGES=0` skips them): a second server judges the same Deployment running an image
# by digest whose CI report it holds (`--image-reports`; after the first request its decisions are cached)
# at 1,000/s; and, when Debian's `docker-registry` and `skopeo` and the fixture images (`.fixtures/`, made
# by .ci/fixtures.sh) are there, the first sight of images it never saw with `--scan-images` and a 2 s
# budget: each first request must be answered within the budget (the scan goes on in the background).
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
[ "${IMAGES:-1}" = 1 ] || exit 0
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=

# Cached image facts: the Deployment's image named by digest, its CI report in --image-reports.
digest=sha256:$(printf bench | sha256sum | cut -d' ' -f1)
mkdir -p "$work/reports"
python3 - "$work" "$digest" <<'PY'
import json, sys
work, digest = sys.argv[1], sys.argv[2]
body = json.load(open(f"{work}/body.json"))
body["request"]["object"]["spec"]["template"]["spec"]["containers"][0]["image"] = f"registry.example/shop/web@{digest}"
json.dump(body, open(f"{work}/body-digest.json", "w"))
report = {"schema_version": 1, "artifact": {"kind": "image", "name": "registry.example/shop/web:1",
          "repo_digests": [f"registry.example/shop/web@{digest}"]}, "packages": [], "vulnerabilities": []}
json.dump(report, open(f"{work}/reports/web.json", "w"))
PY
start() { # extra args...
  taskset -c 0 "$bin" admission serve --bundle "$work/b" --self-signed "$work/certs" --listen 127.0.0.1:0 "$@" \
    >"$work/server.out" 2>"$work/server.err" &
  pid=$!
  for _ in $(seq 100); do grep -q 'listening on' "$work/server.out" 2>/dev/null && break; sleep 0.1; done
  port=$(grep -o 'https://127.0.0.1:[0-9]*' "$work/server.out" | sed 's/.*://')
  [ -n "$port" ] || { echo "server did not start:" >&2; cat "$work/server.err" >&2; exit 1; }
  url="https://127.0.0.1:$port/validate"
}
: >"$work/server.out"
start --image-reports "$work/reports" --unknown-image deny
loadd() { taskset -c 1 hey -z "${secs}s" -host localhost -m POST -T application/json -D "$work/body-digest.json" "$@" "$url"; }
taskset -c 1 hey -n 20 -c 1 -host localhost -m POST -T application/json -D "$work/body-digest.json" "$url" >/dev/null
metrics m3
cached=$(loadd -c ${WORKERS:-4} -q $((1000 / ${WORKERS:-4})))
metrics m4
rss2=$(awk '/VmHWM/ {print int($2/1024)}' "/proc/$pid/status")
hits=$(awk '/^palisade_admission_image_facts_total\{outcome="cached"\}/ {print $2}' "$work/m4.prom")
echo "| 1,000/s, cached image facts ($hits cache hits) | $(rps "$cached") | $(pct "$cached" 50) | $(pct "$cached" 99) | $(server_pct m3 m4) | $(errors "$cached") | $rss2 MB |"
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=

# First sight: images never seen, scanned in the background, each request answered within the budget.
if ! command -v docker-registry >/dev/null || ! command -v skopeo >/dev/null || [ ! -d .fixtures/app.oci ]; then
  echo
  echo "First sight: skipped (needs docker-registry, skopeo and .fixtures/*.oci)."
  exit 0
fi
rport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$work/registry"
printf 'version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' \
  "$work/registry" "$rport" >"$work/registry.yml"
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
rpid=$!
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; kill "$rpid" 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$rport/v2/" >/dev/null && break; sleep 0.1; done
images=()
for f in .fixtures/*.oci; do
  name=$(basename "$f" .oci)
  skopeo copy -q --dest-tls-verify=false "oci:$f" "docker://127.0.0.1:$rport/bench/$name:1"
  images+=("127.0.0.1:$rport/bench/$name:1")
done
dbarg=()
[ -n "${DB:-}" ] && dbarg=(--db "$DB")
export PALISADE_CACHE_DIR="$work/first-sight-cache" # no layer cache from earlier runs: a true first sight
start --scan-images --insecure --budget 2s --unknown-image warn --image-scanners vuln --image-cache "$work/scans" "${dbarg[@]}"
echo
echo "First sight of ${#images[@]} images never seen (\`--scan-images\`, \`--budget 2s\`), one request each, then the same again after their scans:"
echo
echo "| image | first request | answer | request after the scan | answer |"
echo "|---|---|---|---|---|"
ask() { # image -> "seconds allowed-or-warning"
  python3 - "$work/body.json" "$1" >"$work/body-img.json" <<'PY'
import json, sys
body = json.load(open(sys.argv[1]))
body["request"]["object"]["spec"]["template"]["spec"]["containers"][0]["image"] = sys.argv[2]
json.dump(body, open("/dev/stdout", "w"))
PY
  curl -s -o "$work/answer.json" -w '%{time_total}' --cacert "$work/certs/ca.crt" -H 'Content-Type: application/json' \
    --data-binary "@$work/body-img.json" "https://localhost:$port/validate"
}
verdict() { # was the image judged from a scan, or given the unknown-image warning?
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["response"]; w=" ".join(r.get("warnings") or []); print("unscanned (warned)" if "unscanned-image" in w else "judged from its scan")' "$work/answer.json"
}
for img in "${images[@]}"; do
  t1=$(ask "$img"); v1=$(verdict)
  # Ask again every half second until the background scan has answered (at most 5 minutes).
  t2=-; v2="not scanned within 5 minutes"
  for _ in $(seq 600); do
    sleep 0.5
    t=$(ask "$img"); v=$(verdict)
    if [ "$v" != "unscanned (warned)" ]; then t2=$t; v2=$v; break; fi
  done
  printf '| %s | %.2f s | %s | %s s | %s |\n' "${img#*/}" "$t1" "$v1" "$t2" "$v2"
done
