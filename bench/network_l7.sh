#!/usr/bin/env bash
# L7 inspection benchmark (debug build unless PALISADE points elsewhere): HTTP requests per second and
# latency through `palisade network inspect` (NFQUEUE) against the same server without it, in the same
# run, and the DLP/WAF scan rate in MB/s.
#
# Two network namespaces joined by a veth pair; busybox httpd (one process per connection, no keep-alive)
# in the server namespace on two ports: 8080 goes through NFQUEUE (`--queue-bypass`) to the inspector with
# an L7 policy (HTTP paths, protocol per port, card/SSN/SQLi/XSS sensors), 8081 goes direct. Load from
# `hey` (Debian package) in the client namespace: N requests at concurrency 1 (added latency per request)
# and at concurrency C (throughput). Every request opens a connection, so each one costs the inspector a
# flow setup, protocol detection, the L7 checks and the DLP scan of the request and the response.
# The DLP rate is `palisade network dlp --summary --repeat 3` over a synthetic 32 MB HTTP-like corpus
# (form bodies, JSON, log lines; one card number, SSN, IBAN, e-mail and SQLi string per 4 KB).
# With valgrind installed, also the DLP instructions per byte (callgrind), which do not depend on the
# machine's load (CALLGRIND=0 skips it). Prints markdown tables. Needs root, ip, iptables, busybox, hey.
#
#   cargo build -p palisade && bash bench/network_l7.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${PALISADE:-target/debug/palisade}
n=${REQUESTS:-2000}
c=${CONCURRENCY:-8}
[ -x "$bin" ] || { echo "no $bin: cargo build -p palisade first" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "skipped: needs root" >&2; exit 0; }
command -v hey >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq hey >/dev/null; }
tag=l7b$$
cns=${tag}c sns=${tag}s
work=$(mktemp -d)
pids=()
cleanup() {
  # Each server runs in a session of its own (setsid): its process group goes, forked children included.
  for p in "${pids[@]}"; do kill -- "-$p" 2>/dev/null || kill "$p" 2>/dev/null || true; done
  ip netns del "$cns" 2>/dev/null || true
  ip netns del "$sns" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
ip netns add "$cns"; ip netns add "$sns"
ip link add "${tag}a" type veth peer name "${tag}b"
ip link set "${tag}a" netns "$cns"; ip link set "${tag}b" netns "$sns"
ip -n "$cns" addr add 10.250.9.1/24 dev "${tag}a"; ip -n "$sns" addr add 10.250.9.2/24 dev "${tag}b"
for ns in "$cns" "$sns"; do ip -n "$ns" link set lo up; done
ip -n "$cns" link set "${tag}a" up; ip -n "$sns" link set "${tag}b" up
mkdir -p "$work/www/api"; head -c 2048 /dev/zero | tr '\0' 'x' > "$work/www/api/item"
queue=$(( $$ % 60000 + 10 ))
ip netns exec "$sns" iptables -A INPUT -p tcp --dport 8080 -j NFQUEUE --queue-num "$queue" --queue-bypass
ip netns exec "$sns" iptables -A OUTPUT -p tcp --sport 8080 -j NFQUEUE --queue-num "$queue" --queue-bypass
cat > "$work/l7.yaml" <<YAML
workloads:
  - name: bench/web
    addresses: [10.250.9.2/32]
    mode: protect
    ports: { "8080": [http] }
    http: { methods: [GET], paths: ["/api/*"] }
    dlp: { card: drop, ssn: alert, sqli: drop, xss: alert }
YAML
for port in 8080 8081; do
  setsid ip netns exec "$sns" busybox httpd -f -p "$port" -h "$work/www" & pids+=($!)
done
setsid ip netns exec "$sns" "$bin" network inspect --queue "$queue" --rules "$work/l7.yaml" --metrics-addr 127.0.0.1:9464 \
  >"$work/alerts" 2>"$work/inspect.err" & pids+=($!)
for _ in $(seq 100); do
  ip netns exec "$sns" awk '{print $1}' /proc/net/netfilter/nfnetlink_queue 2>/dev/null | grep -qx "$queue" && break
  sleep 0.1
done
sleep 0.5

# hey's summary: requests/sec, average and p50/p99 latency in ms.
run_hey() {
  ip netns exec "$cns" hey -n "$n" -c "$1" -disable-keepalive "http://10.250.9.2:$2/api/item" >"$work/hey.out" 2>&1
  awk '/Requests\/sec/ {rps=$2} /Average:/ {avg=$2*1000} / 50% in/ {p50=$3*1000} / 99% in/ {p99=$3*1000}
       /^  \[200\]/ {ok=$2} END {printf "%.0f|%.2f|%.2f|%.2f|%s", rps, avg, p50, p99, ok}' "$work/hey.out"
}
echo "| path | concurrency | requests/s | avg ms | p50 ms | p99 ms | 200 responses |"
echo "|---|---|---|---|---|---|---|"
for conc in 1 "$c"; do
  direct=$(run_hey "$conc" 8081); inspected=$(run_hey "$conc" 8080)
  IFS='|' read -r dr da d50 d99 dok <<<"$direct"
  IFS='|' read -r ir ia i50 i99 iok <<<"$inspected"
  echo "| direct | $conc | $dr | $da | $d50 | $d99 | $dok |"
  echo "| inspected | $conc | $ir | $ia | $i50 | $i99 | $iok |"
  awk -v dr="$dr" -v ir="$ir" -v da="$da" -v ia="$ia" -v c="$conc" \
    'BEGIN {printf "| ratio (inspected/direct) | %s | %.2f | +%.2f ms | | | |\n", c, ir/dr, ia-da}'
done
ip netns exec "$sns" curl -s http://127.0.0.1:9464/metrics >"$work/metrics"
awk -v reqs="$((2 * n))" '/^palisade_l7_inspect_seconds_sum/ {sum=$2} /^palisade_l7_inspect_seconds_count/ {cnt=$2}
  END {printf "\ninspector: %d packets judged (%.1f per request), %.1f us of user-space work per packet on average\n",
       cnt, cnt/reqs, sum/cnt*1e6}' "$work/metrics"
blocked=$(ip netns exec "$cns" curl -s -o /dev/null -w '%{http_code}' --max-time 2 http://10.250.9.2:8080/admin || true)
echo
echo "forbidden path through the inspector: HTTP status ${blocked:-000} (000 = dropped)"

python3 - "$work/corpus.txt" <<'PY'
import random, sys
random.seed(7)
words = "the order item price customer shipping address token session cart update status ok".split()
chunks = []
size = 0
while size < 32 * 1024 * 1024:
    body = " ".join(random.choice(words) for _ in range(600))
    block = (f'POST /api/orders HTTP/1.1\r\nHost: shop.example\r\nContent-Type: application/json\r\n\r\n'
             f'{{"note":"{body}","email":"jane.doe@example.org","card":"4111 1111 1111 1111",'
             f'"ssn":"123-45-6789","iban":"DE89370400440532013000","q":"1\' OR \'1\'=\'1"}}\n')
    chunks.append(block)
    size += len(block)
open(sys.argv[1], "w").write("".join(chunks))
PY
echo
echo "| DLP/WAF sensors | corpus | rate |"
echo "|---|---|---|"
for sensors in card,ssn,iban,email card,ssn,iban,email,sqli,xss card,ssn,iban,email,sqli,xss,secret; do
  rate=$("$bin" network dlp --summary --repeat 3 --sensors "$sensors" "$work/corpus.txt" 2>&1 | sed -n 's/.*: \([0-9.]*\) MB\/s.*/\1/p')
  echo "| $sensors | 32 MB synthetic HTTP | $rate MB/s |"
done
# Instructions per byte (callgrind; independent of the machine's load): the same corpus cut to 2 MB, minus a
# run on an empty file (start-up and pattern compilation).
if command -v valgrind >/dev/null && [ "${CALLGRIND:-1}" != 0 ]; then
  head -c 2000000 "$work/corpus.txt" >"$work/c2m.txt"
  count() { valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" "$bin" network dlp --summary --sensors "$1" "$2" 2>&1 |
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p'; }
  echo
  echo "| DLP/WAF sensors | instructions per byte (callgrind) |"
  echo "|---|---|"
  for sensors in card,ssn,iban,email card,ssn,iban,email,sqli,xss card,ssn,iban,email,sqli,xss,secret; do
    full=$(count "$sensors" "$work/c2m.txt"); empty=$(count "$sensors" /dev/null)
    awk -v f="$full" -v e="$empty" -v s="$sensors" 'BEGIN {printf "| %s | %.1f |\n", s, (f-e)/2000000}'
  done
fi
echo
echo "binary: $bin ($(file -b "$bin" | cut -d, -f1)); $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
