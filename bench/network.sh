#!/usr/bin/env bash
# Throughput cost of the container firewall (L4 enforcement with nftables in the pods' network namespaces):
# iperf3 (Debian) between two network namespaces joined by a veth pair, with no firewall, with the firewall in
# monitor mode and in protect mode on both pods (client: egress to the server's port allowed; server: ingress
# to it allowed; each ruleset also carries EXTRA unrelated allow rules, as a learned profile would), rounds
# alternating so load on the machine hits every mode alike. Prints a markdown table: median throughput per
# mode and its ratio to no firewall (goal: protect within 10%). Monitor and protect run as `firewall apply`
# installs them by default: no per-packet set update, conntrack accounting on (bytes per flow come from
# conntrack); protect-flowset adds the ruleset's own per-flow set (--flow-counters) with accounting off.
# Accounting is a per-namespace switch that stays on once set, so `none` and protect-flowset turn it off
# first, and the default modes check that `apply` turned it on.
#
# Needs root, ip, nft and iperf3 (apt-get install iperf3 nftables). Usage: bench/network.sh [ROUNDS] [SECONDS] [EXTRA]
# PALISADE=path/to/palisade picks the binary (default target/release/palisade, else target/debug/palisade).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
secs=${2:-5}
extra=${3:-20}
bin=${PALISADE:-target/release/palisade}
[ -x "$bin" ] || bin=target/debug/palisade
[ "$(id -u)" = 0 ] || { echo "bench/network.sh: needs root" >&2; exit 2; }
for t in ip nft iperf3 python3; do
  command -v $t >/dev/null || { echo "bench/network.sh: $t not installed (apt-get install iproute2 nftables iperf3)" >&2; exit 2; }
done
tag="palbench$$"
a="$tag-a" b="$tag-b"
tmp=$(mktemp -d)
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
  ip netns del "$a" 2>/dev/null || true
  ip netns del "$b" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

ip netns add "$a"; ip netns add "$b"
ip -n "$a" link add eth0 type veth peer name eth0 netns "$b"
ip -n "$a" addr add 10.78.0.1/24 dev eth0; ip -n "$b" addr add 10.78.0.2/24 dev eth0
for n in "$a" "$b"; do ip -n "$n" link set eth0 up; ip -n "$n" link set lo up; done

# Rules: the one that matters last, behind EXTRA unrelated ones (the worst place for a linear ruleset).
rules() { # $1: direction, $2: peer, $3: port
  echo "rules:"
  for i in $(seq "$extra"); do
    echo "  - {direction: $1, peer: {cidr: 172.16.$((i / 250)).$((i % 250))/32}, protocol: tcp, ports: [{first: $((1000 + i)), last: $((1000 + i))}]}"
  done
  echo "  - {direction: $1, peer: {cidr: $2/32}, protocol: tcp, ports: [{first: $3, last: $3}]}"
}
rules egress 10.78.0.2 5201 >"$tmp/client.yaml"
rules ingress 10.78.0.1 5201 >"$tmp/server.yaml"

ip netns exec "$b" iperf3 -s -B 10.78.0.2 -p 5201 >/dev/null 2>&1 &
server_pid=$!
sleep 1

acct() { # $1: 0|1 in both namespaces
  for n in "$a" "$b"; do ip netns exec "$n" sysctl -qw net.netfilter.nf_conntrack_acct="$1"; done
}
firewall() { # $1: none|monitor|protect|protect-flowset
  case "$1" in
    none)
      acct 0
      "$bin" network firewall remove --netns "/run/netns/$a" 2>/dev/null
      "$bin" network firewall remove --netns "/run/netns/$b" 2>/dev/null ;;
    protect-flowset)
      acct 0
      "$bin" network firewall apply --netns "/run/netns/$a" --rules "$tmp/client.yaml" --mode protect --flow-counters 2>/dev/null
      "$bin" network firewall apply --netns "/run/netns/$b" --rules "$tmp/server.yaml" --mode protect --flow-counters 2>/dev/null ;;
    *)
      "$bin" network firewall apply --netns "/run/netns/$a" --rules "$tmp/client.yaml" --mode "$1" 2>/dev/null
      "$bin" network firewall apply --netns "/run/netns/$b" --rules "$tmp/server.yaml" --mode "$1" 2>/dev/null
      for n in "$a" "$b"; do
        [ "$(ip netns exec "$n" sysctl -n net.netfilter.nf_conntrack_acct)" = 1 ] \
          || { echo "bench/network.sh: firewall apply left conntrack accounting off in $n" >&2; exit 1; }
      done ;;
  esac
}

# A check that the default firewall still counts bytes per flow (from conntrack): a short run, then
# firewall status; first, so that the conntrack table holds no earlier connection of the same class.
firewall protect
ip netns exec "$a" iperf3 -c 10.78.0.2 -p 5201 -t 1 -J >"$tmp/lean-check.json"
"$bin" network firewall status --netns "/run/netns/$a" --format json >"$tmp/lean-status.json"

modes="none monitor protect protect-flowset"
for r in $(seq "$rounds"); do
  for m in $modes; do
    firewall "$m"
    ip netns exec "$a" iperf3 -c 10.78.0.2 -p 5201 -t "$secs" -J >"$tmp/$m-$r.json"
  done
done
# A check that protect mode really enforces: a port outside the rules is refused.
firewall protect
if ip netns exec "$a" iperf3 -c 10.78.0.2 -p 5202 -t 1 >/dev/null 2>&1; then
  echo "bench/network.sh: protect mode let port 5202 through" >&2; exit 1
fi
firewall none

python3 - "$tmp" "$rounds" "$secs" "$extra" <<'PY'
import json, statistics, sys
tmp, rounds, secs, extra = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
def gbps(mode):
    out = []
    for r in range(1, rounds + 1):
        d = json.load(open(f"{tmp}/{mode}-{r}.json"))
        out.append(d["end"]["sum_received"]["bits_per_second"] / 1e9)
    return out
base = statistics.median(gbps("none"))
print(f"iperf3, one TCP stream between two network namespaces (veth), {rounds} rounds x {secs}s, "
      f"{int(extra) + 1} allow rules per pod; median of the rounds\n")
print("| firewall | Gbit/s (median) | min-max | vs none |")
print("|---|---|---|---|")
label = {"none": "none", "monitor": "monitor (default: conntrack accounting)",
         "protect": "protect (default: conntrack accounting)",
         "protect-flowset": "protect, `--flow-counters` (per-flow set)"}
for mode in ("none", "monitor", "protect", "protect-flowset"):
    v = gbps(mode)
    print(f"| {label[mode]} | {statistics.median(v):.2f} | {min(v):.2f}-{max(v):.2f} | {statistics.median(v) / base:.1%} |")
PY
python3 - "$tmp" <<'PY'
import json, sys
tmp = sys.argv[1]
s = json.load(open(f"{tmp}/lean-status.json"))
sent = json.load(open(f"{tmp}/lean-check.json"))["end"]["sum_sent"]["bytes"]
flows = [f for f in s.get("flows", []) if f.get("port") == 5201]
counted = sum(f.get("bytes", 0) for f in flows)
print(f"\nprotect (default) bytes per flow from {s.get('flows_from', '?')}: {counted} bytes counted for "
      f"port 5201 after a 1 s run that sent {sent} bytes ({counted / max(sent, 1):.1%})")
PY
