#!/usr/bin/env bash
# Overhead of the runtime agent (eBPF sensor) on a syscall-heavy workload: stress-ng's open, exec and sock
# stressors (file opens, process spawns, TCP connect/accept on loopback) run as an unprivileged user, with and
# without `palisade runtime agent` recording every event, alternating rounds. Prints a markdown table:
# slowdown of each stressor, events per second the agent handled, events dropped, agent CPU and peak RSS.
#
# Needs root (to load the sensor), stress-ng and setpriv. Usage: bench/runtime.sh [ROUNDS] [SECONDS]
# PALISADE=path/to/palisade picks the binary (default target/release/palisade, else target/debug/palisade).
#
# `bench/runtime.sh cpu [ROUNDS]`: the slowdown as the workload's own CPU time per operation (exec, open, sock
# stressors, a fixed number of operations each) without and with the agent, which a loaded machine does not
# distort the way it distorts ops/s; the agent's CPU apart.
#
# `bench/runtime.sh cpu` takes AGENT=record (default: `--record`, every event) or AGENT=rules (Falco's stable
# rules and Palisade's, no recording: what the kernel filter leaves; needs ../shared/data/runtime/falco-rules.tar.gz).
#
# `bench/runtime.sh ops [ROUNDS]`: the same measure on tight loops of single syscalls (bench/sensor_ops.c,
# built with gcc): open+close of a file no rule reads (by absolute and by relative name), of /etc/hostname, a
# write open, a loopback
# connect+accept, getpid; CPU ns per operation with no agent, the agent with the stable + Palisade rules,
# and the agent recording everything, modes alternating within each round (medians).
#
# `bench/runtime.sh cost [ROUNDS]`: the sensor's cost inside the workload measured directly: the kernel's
# accounting of its BPF programs' run time (kernel.bpf_stats_enabled) during each stressor, as a share of
# the workload's CPU time, with the agent running the stable + Palisade rules (needs bpftool).
#
# `bench/runtime.sh enforce [ROUNDS] [EXECS]`: latency enforcement adds to an allowed exec and an allowed open
# (p50/p99), measured inside a runc busybox container on an overlay root by bench/enforce_latency.c (built
# static with gcc): EXECS fork+exec+wait of /bin/true and 20 x EXECS open+close of /etc/passwd, with no
# agent, with the agent's sensor only, with `--enforce` and deny rules for that container that never match,
# and with `--enforce --profiles` in protect mode (the workload's profile learned first in a short discover
# run, so every exec and open goes through the fanotify permission path, the profile and the zero-drift
# check, and is allowed); the agent's CPU during each. Needs root, runc, busybox, overlayfs and gcc (static
# glibc). Run it on a release build (PALISADE=target/release/palisade).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
secs=${2:-20}
bin=${PALISADE:-target/release/palisade}
[ -x "$bin" ] || bin=target/debug/palisade
[ "$(id -u)" = 0 ] || { echo "bench/runtime.sh: needs root" >&2; exit 2; }

enforce_bench() { # [ROUNDS] [EXECS]
  local rounds=${1:-3} n_exec=${2:-500} n_open
  agent_pid= id= merged=
  n_open=$((n_exec * 20))
  for t in runc busybox gcc python3; do
    command -v "$t" >/dev/null || { echo "bench/runtime.sh enforce: $t not installed" >&2; exit 2; }
  done
  tmp=$(mktemp -d)
  local port=$((20000 + RANDOM % 20000))
  trap '[ -n "$agent_pid" ] && kill "$agent_pid" 2>/dev/null; [ -n "${id:-}" ] && runc delete --force "$id" >/dev/null 2>&1; [ -n "${merged:-}" ] && umount -l "$merged" 2>/dev/null; rm -rf "$tmp"' EXIT
  gcc -O2 -static bench/enforce_latency.c -o "$tmp/lat"
  # the image: the overlay's lower layer; every run gets a fresh upper layer (zero drift judges overlays)
  local root=$tmp/image
  mkdir -p "$root"/{bin,proc,sys,dev,etc,tmp}
  cp "$(command -v busybox)" "$root/bin/busybox"
  # applets as hard links: each program's executable path is its own, as learned and as judged
  for a in sh sleep true; do ln "$root/bin/busybox" "$root/bin/$a"; done
  cp "$tmp/lat" "$root/lat"
  echo "root:x:0:0:root:/root:/bin/sh" >"$root/etc/passwd"
  bundle() { # DIR EXECS OPENS
    mkdir -p "$1" && (cd "$1" && runc spec)
    python3 - "$1/config.json" "$tmp/merged" "$2" "$3" <<'PY'
import json, sys
path, root, n_exec, n_open = sys.argv[1:]
spec = json.load(open(path))
spec["process"]["terminal"] = False
spec["process"]["args"] = ["sh", "-c", f"while [ ! -e /go ]; do sleep 0.1; done; /lat exec {n_exec}; /lat open {n_open}"]
spec["root"] = {"path": root, "readonly": False}
# the workload Image/palisade.bench/lat, whose profile the protect runs use
spec["annotations"] = {"io.containerd.image.name": "palisade.bench/lat:1"}
json.dump(spec, open(path, "w"))
PY
  }
  bundle "$tmp/bundle" "$n_exec" "$n_open"
  mkdir -p "$tmp/merged"
  mount_root() {
    rm -rf "$tmp/upper" "$tmp/work"; mkdir -p "$tmp/upper" "$tmp/work"
    mount -t overlay overlay -o "lowerdir=$root,upperdir=$tmp/upper,workdir=$tmp/work" "$tmp/merged"
    merged=$tmp/merged
  }
  unmount_root() { umount "$tmp/merged"; merged=; }
  start_agent() { # ARGS...
    "$bin" runtime agent --containers-only --metrics-addr "127.0.0.1:$port" "$@" >/dev/null 2>"$tmp/agent.err" &
    agent_pid=$!
    for _ in $(seq 240); do grep -q "sensor started" "$tmp/agent.err" 2>/dev/null && break; sleep 0.5; done
  }
  stop_agent() { kill -TERM "$agent_pid"; wait "$agent_pid" || true; agent_pid=; }

  # learn the workload's profile in discover mode (one run of the same container), then protect it
  mount_root
  start_agent --profiles "$tmp/profiles" --mode discover
  id="pal-bench-$$-learn"
  (cd "$tmp/bundle" && runc run "$id" >"$tmp/out" 2>&1) &
  local learn_pid=$!
  sleep 1.5; touch "$tmp/merged/go"; wait "$learn_pid"
  runc delete --force "$id" >/dev/null 2>&1 || true; id=
  stop_agent
  unmount_root
  ls "$tmp"/profiles/*.yaml >/dev/null 2>&1 || { cat "$tmp/agent.err" "$tmp/out" >&2; echo "no profile learned" >&2; exit 1; }
  "$bin" profile mode --state "$tmp/profiles/modes.yaml" --workload Image/palisade.bench/lat protect >/dev/null

  cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
  declare -A res cpu
  local modes=(none sensor rules protect)
  for r in $(seq "$rounds"); do
    for mode in "${modes[@]}"; do
      id="pal-bench-$$-$r-$mode"
      mount_root
      case $mode in
        sensor) start_agent ;;
        rules) start_agent --enforce --deny-exec "/nonexistent@$id" --deny-write "/nonexistent@$id" \
          --output "file:$tmp/alerts-rules.jsonl" ;;
        protect) start_agent --enforce --profiles "$tmp/profiles" --output "file:$tmp/alerts-protect.jsonl" ;;
      esac
      (cd "$tmp/bundle" && runc run "$id" >"$tmp/out" 2>&1) &
      local runc_pid=$!
      if [ "$mode" = rules ] || [ "$mode" = protect ]; then
        for _ in $(seq 240); do grep -q "watching container $id" "$tmp/agent.err" && break; sleep 0.25; done
        grep -q "watching container $id" "$tmp/agent.err" || { cat "$tmp/agent.err" "$tmp/out" >&2; echo "container $id not watched" >&2; exit 1; }
      else
        sleep 1
      fi
      local c0=0 c1=0 t0 t1
      [ -n "$agent_pid" ] && c0=$(cpu_ticks "$agent_pid")
      t0=$(date +%s.%N)
      touch "$tmp/merged/go"
      wait "$runc_pid"
      t1=$(date +%s.%N)
      [ -n "$agent_pid" ] && c1=$(cpu_ticks "$agent_pid")
      [ -n "$agent_pid" ] && stop_agent
      runc delete --force "$id" >/dev/null 2>&1 || true
      id=
      unmount_root
      [ "$(wc -l <"$tmp/out")" -ge 2 ] || { cat "$tmp/out" >&2; echo "the workload failed ($mode)" >&2; exit 1; }
      res[$mode,exec]="${res[$mode,exec]:-}$(sed -n 1p "$tmp/out");"
      res[$mode,open]="${res[$mode,open]:-}$(sed -n 2p "$tmp/out");"
      cpu[$mode]="${cpu[$mode]:-} $(awk -v c=$((c1 - c0)) -v h="$(getconf CLK_TCK)" -v t="$(echo "$t1 - $t0" | bc)" 'BEGIN {printf "%.1f", c / h / t * 100}')"
      echo "round $r $mode done (load $(cut -d' ' -f1 /proc/loadavg))" >&2
    done
  done
  # median over the rounds of each column (1: p50, 2: p99)
  med() { echo "$1" | tr ';' '\n' | awk -v c="$2" 'NF {print $c}' | sort -g | awk '{v[NR] = $1} END {if (NR) print v[int((NR + 1) / 2)]; else print "n/a"}'; }
  echo "Binary: \`$bin\`; $rounds rounds (median shown), $n_exec execs and $n_open opens a round, in a runc busybox container on an overlay root; $(nproc) CPUs ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), load average $(cut -d' ' -f1 /proc/loadavg) at the end"
  echo
  echo "| operation (µs) | no agent p50 / p99 | sensor p50 / p99 | deny rules (protect) p50 / p99 | profile + zero drift (protect) p50 / p99 | added by protect vs no agent p50 / p99 |"
  echo "|---|---|---|---|---|---|"
  for op in exec open; do
    local cells="" m p50 p99 n50 n99
    for m in "${modes[@]}"; do
      p50=$(med "${res[$m,$op]}" 1); p99=$(med "${res[$m,$op]}" 2)
      cells="$cells $p50 / $p99 |"
    done
    n50=$(med "${res[none,$op]}" 1); n99=$(med "${res[none,$op]}" 2)
    p50=$(med "${res[protect,$op]}" 1); p99=$(med "${res[protect,$op]}" 2)
    echo "| allowed $op |$cells $(awk -v a="$p50" -v b="$n50" 'BEGIN {printf "%.1f", a - b}') / $(awk -v a="$p99" -v b="$n99" 'BEGIN {printf "%.1f", a - b}') |"
  done
  echo
  echo "| agent CPU during the workload (% of one core, median) | value |"
  echo "|---|---|"
  echo "| sensor only | $(med "$(echo ${cpu[sensor]} | tr ' ' ';')" 1) |"
  echo "| sensor + enforcement, deny rules | $(med "$(echo ${cpu[rules]} | tr ' ' ';')" 1) |"
  echo "| sensor + enforcement, profile + zero drift | $(med "$(echo ${cpu[protect]} | tr ' ' ';')" 1) |"
  echo
  echo "Alerts raised in the protect runs (everything timed was allowed): $(cat "$tmp"/alerts-protect.jsonl 2>/dev/null | wc -l)"
  [ -s "$tmp/alerts-protect.jsonl" ] && python3 -c '
import collections, json, sys
seen = collections.Counter()
for line in open(sys.argv[1]):
    a = json.loads(line)
    f = a["output_fields"]
    seen[(a["rule"], f.get("palisade.reason") or "", f.get("fd.name") or f.get("proc.exepath") or "")] += 1
for (rule, reason, path), n in sorted(seen.items()):
    print(f"- {n} x {rule} ({reason}) {path}")
' "$tmp/alerts-protect.jsonl"
  true
}
# The agent in the background on 127.0.0.1:$port with ARGS (stderr in $tmp/agent.err), $agent_pid set, once
# its sensor runs on eBPF.
start_agent_bg() {
  "$bin" runtime agent --metrics-addr "127.0.0.1:$port" "$@" 2>"$tmp/agent.err" >/dev/null &
  agent_pid=$!
  for _ in $(seq 360); do grep -q "sensor started" "$tmp/agent.err" 2>/dev/null && break; sleep 0.5; done
  grep -q "source ebpf" "$tmp/agent.err" || { cat "$tmp/agent.err" >&2; echo "agent did not start with eBPF" >&2; exit 1; }
}
# Median of the whitespace-separated numbers in $1.
med() { echo "$1" | tr ' ' '\n' | awk 'NF' | sort -g | awk '{v[NR] = $1} END {if (NR) print v[int((NR + 1) / 2)]; else print "n/a"}'; }
# stress-ng's files go on a private tmpfs: on this machine's ext4 disk the same 30,000 open operations took
# 1.9 to 5.9 s of system time from run to run (journal and O_DIRECT writes), on tmpfs 3.8 to 4.2 s. The
# sensor's cost is per syscall, so a faster file system makes its share larger, not smaller.
scratch_fs() { # DIR: a tmpfs mounted there (unmounted by the caller's trap), world-writable
  mkdir -p "$1"
  mount -t tmpfs -o size=1g,mode=1777 palisade-bench "$1" || chmod 1777 "$1"
}
falco_rules() { # DIR: extract Falco's stable rules there
  local tarball=../shared/data/runtime/falco-rules.tar.gz
  [ -f "$tarball" ] || tarball=/work/shared/data/runtime/falco-rules.tar.gz
  [ -f "$tarball" ] || { echo "bench/runtime.sh: falco-rules.tar.gz not found" >&2; exit 2; }
  tar -xzf "$tarball" -O falco-rules/rules/falco_rules.yaml >"$1/falco_rules.yaml"
}
ops_bench() { # [ROUNDS]
  # CPU time per operation of tight single-syscall loops (bench/sensor_ops.c), without the agent, with the
  # agent running the stable + Palisade rules (the kernel filter on) and with it recording every event.
  local rounds=${1:-5}
  command -v gcc >/dev/null || { echo "bench/runtime.sh ops: gcc not installed" >&2; exit 2; }
  tmp=$(mktemp -d)
  agent_pid=
  trap '[ -n "$agent_pid" ] && kill "$agent_pid" 2>/dev/null; rm -rf "$tmp"' EXIT
  gcc -O2 bench/sensor_ops.c -o "$tmp/ops"
  falco_rules "$tmp"
  local port=$((20000 + RANDOM % 20000))
  declare -A n=([getpid]=200000 [open-tmp]=100000 [open-etc]=100000 [open-write]=100000 [open-rel]=100000 [connect]=3000)
  local modes=(getpid open-tmp open-etc open-write open-rel connect)
  declare -A res
  for r in $(seq "$rounds"); do
    for agent in none rules record; do
      local args=()
      case $agent in
        rules) args=(--rules "$tmp/falco_rules.yaml" --palisade-rules --output "file:$tmp/alerts.jsonl") ;;
        record) args=(--record "$tmp/events.jsonl") ;;
      esac
      if [ "$agent" != none ]; then
        start_agent_bg "${args[@]}"
      fi
      for m in "${modes[@]}"; do
        res[$agent,$m]="${res[$agent,$m]:-} $(cd "$tmp" && ./ops "$m" "${n[$m]}" | awk '{print $3}')"
      done
      if [ -n "$agent_pid" ]; then kill -TERM "$agent_pid"; wait "$agent_pid" || true; agent_pid=; fi
      rm -f "$tmp/events.jsonl"
    done
    echo "round $r done (load $(cut -d' ' -f1 /proc/loadavg))" >&2
  done
  echo "Binary: \`$bin\`; $rounds rounds, medians; $(nproc) CPUs, load average $(cut -d' ' -f1 /proc/loadavg) at the end"
  echo
  echo "| loop (ops a run) | CPU ns/op, no agent | agent with rules | slowdown | agent recording everything | slowdown |"
  echo "|---|---|---|---|---|---|"
  for m in "${modes[@]}"; do
    local a b c
    a=$(med "${res[none,$m]}"); b=$(med "${res[rules,$m]}"); c=$(med "${res[record,$m]}")
    echo "| $m (${n[$m]}) | $a | $b | $(awk -v a="$a" -v b="$b" 'BEGIN {printf "%+.1f %%", (b / a - 1) * 100}') | $c | $(awk -v a="$a" -v b="$c" 'BEGIN {printf "%+.1f %%", (b / a - 1) * 100}') |"
  done
}
cpu_bench() { # [ROUNDS]
  # The workload's own CPU time (user + sys of stress-ng and every process it waited for, from
  # /usr/bin/time) for a fixed number of operations, without and with the agent, rounds alternating.
  # CPU time per operation does not count time spent waiting for a core, so unlike ops/s it stays
  # meaningful on a loaded machine; it includes what the sensor adds in the workload's own context
  # (tracepoint and cgroup_skb programs, ring-buffer writes). The agent's user-space work runs in its own
  # process and is reported apart (% of one core while the workload ran).
  local rounds=${1:-5}
  command -v stress-ng >/dev/null || { echo "bench/runtime.sh cpu: stress-ng not installed" >&2; exit 2; }
  [ -x /usr/bin/time ] || { echo "bench/runtime.sh cpu: /usr/bin/time not installed (package time)" >&2; exit 2; }
  tmp=$(mktemp -d)
  chmod 1777 "$tmp"
  agent_pid=
  trap '[ -n "$agent_pid" ] && kill "$agent_pid" 2>/dev/null; umount "$tmp/fs" 2>/dev/null; rm -rf "$tmp"' EXIT
  scratch_fs "$tmp/fs"
  local port=$((20000 + RANDOM % 20000))
  local agent_args=(--record "$tmp/events.jsonl")
  if [ "${AGENT:-record}" = rules ]; then
    falco_rules "$tmp"
    agent_args=(--rules "$tmp/falco_rules.yaml" --palisade-rules --output "file:$tmp/alerts.jsonl")
  fi
  declare -A ops=([exec]=200 [open]=100000 [sock]=2000)
  declare -A res
  local agent_cpu=""
  run_all() { # $1: without|with
    for s in exec open sock; do
      /usr/bin/time -f "%U %S" -o "$tmp/time" setpriv --reuid=65534 --regid=65534 --clear-groups \
        stress-ng "--$s" 1 "--$s-ops" "${ops[$s]}" --sock-port $((port + 1)) --temp-path "$tmp/fs" -q >/dev/null 2>&1
      res[$1,$s]="${res[$1,$s]:-} $(awk -v n="${ops[$s]}" '{printf "%.2f", ($1 + $2) / n * 1e6}' "$tmp/time")"
    done
  }
  for r in $(seq "$rounds"); do
    run_all without
    start_agent_bg "${agent_args[@]}"
    local c0 c1 t0 t1
    c0=$(awk '{print $14 + $15}' "/proc/$agent_pid/stat"); t0=$(date +%s.%N)
    run_all with
    c1=$(awk '{print $14 + $15}' "/proc/$agent_pid/stat"); t1=$(date +%s.%N)
    agent_cpu="$agent_cpu $(awk -v c=$((c1 - c0)) -v h="$(getconf CLK_TCK)" -v t="$(echo "$t1 - $t0" | bc)" 'BEGIN {printf "%.1f", c / h / t * 100}')"
    kill -TERM "$agent_pid"; wait "$agent_pid" || true; agent_pid=
    rm -f "$tmp/events.jsonl"
    echo "round $r done (load $(cut -d' ' -f1 /proc/loadavg))" >&2
  done
  echo "Binary: \`$bin\`; agent ${AGENT:-record}; $rounds rounds, medians; $(nproc) CPUs, load average $(cut -d' ' -f1 /proc/loadavg) at the end"
  echo
  echo "| stressor (ops a phase) | workload CPU µs/op without | with the agent | slowdown (CPU per op) |"
  echo "|---|---|---|---|"
  for s in exec open sock; do
    local a b
    a=$(med "${res[without,$s]}"); b=$(med "${res[with,$s]}")
    echo "| $s (${ops[$s]}) | $a | $b | $(awk -v a="$a" -v b="$b" 'BEGIN {printf "%+.1f %%", (b / a - 1) * 100}') |"
  done
  echo
  echo "Agent CPU while the workload ran (% of one core, median): $(med "$agent_cpu")"
}
cost_bench() { # [ROUNDS]
  # What the sensor costs inside the workload, measured directly instead of as a with/without difference
  # (which the per-round spread of stress-ng, ±8 % here, hides): the kernel's own accounting of the time its
  # BPF programs ran (kernel.bpf_stats_enabled; every program of the node, so an upper bound) during a
  # fixed number of stress-ng operations, against the workload's CPU time, with the agent running the stable
  # and Palisade rules. The syscall-tracepoint entry cost every syscall pays (getpid loop, `ops`) is
  # apart. Needs root, bpftool and stress-ng.
  local rounds=${1:-3}
  for t in stress-ng bpftool; do
    command -v "$t" >/dev/null || { echo "bench/runtime.sh cost: $t not installed" >&2; exit 2; }
  done
  tmp=$(mktemp -d)
  chmod 1777 "$tmp"
  agent_pid=
  local stats_before
  stats_before=$(sysctl -n kernel.bpf_stats_enabled)
  trap '[ -n "$agent_pid" ] && kill "$agent_pid" 2>/dev/null; sysctl -qw kernel.bpf_stats_enabled='"$stats_before"'; umount "$tmp/fs" 2>/dev/null; rm -rf "$tmp"' EXIT
  scratch_fs "$tmp/fs"
  falco_rules "$tmp"
  local port=$((20000 + RANDOM % 20000))
  start_agent_bg --rules "$tmp/falco_rules.yaml" --palisade-rules --output "file:$tmp/alerts.jsonl"
  prog_ns() { bpftool prog show | awk '{for (i = 1; i < NF; i++) if ($i == "run_time_ns") s += $(i + 1)} END {printf "%d", s}'; }
  declare -A ops=([exec]=400 [open]=100000 [sock]=2000)
  declare -A share per_op
  for r in $(seq "$rounds"); do
    for s in exec open sock; do
      sysctl -qw kernel.bpf_stats_enabled=1
      local b0 b1
      b0=$(prog_ns)
      /usr/bin/time -f "%U %S" -o "$tmp/time" setpriv --reuid=65534 --regid=65534 --clear-groups \
        stress-ng "--$s" 1 "--$s-ops" "${ops[$s]}" --sock-port $((port + 1)) --temp-path "$tmp/fs" -q >/dev/null 2>&1
      b1=$(prog_ns)
      sysctl -qw kernel.bpf_stats_enabled=0
      share[$s]="${share[$s]:-} $(awk -v b=$((b1 - b0)) '{printf "%.2f", b / (($1 + $2) * 1e9) * 100}' "$tmp/time")"
      per_op[$s]="${per_op[$s]:-} $(awk -v b=$((b1 - b0)) -v n="${ops[$s]}" 'BEGIN {printf "%.0f", b / n}')"
    done
    echo "round $r done (load $(cut -d' ' -f1 /proc/loadavg))" >&2
  done
  echo "Binary: \`$bin\`; agent with the stable + Palisade rules; $rounds rounds, medians; $(nproc) CPUs, load average $(cut -d' ' -f1 /proc/loadavg) at the end"
  echo
  echo "| stressor (ops a run) | BPF program time per op | share of the workload's CPU time |"
  echo "|---|---|---|"
  for s in exec open sock; do
    echo "| $s (${ops[$s]}) | $(med "${per_op[$s]}") ns | $(med "${share[$s]}") % |"
  done
}
if [ "${1:-}" = cost ]; then
  shift
  cost_bench "$@"
  exit 0
fi
if [ "${1:-}" = enforce ]; then
  shift
  enforce_bench "$@"
  exit 0
fi
if [ "${1:-}" = ops ]; then
  shift
  ops_bench "$@"
  exit 0
fi
if [ "${1:-}" = cpu ]; then
  shift
  cpu_bench "$@"
  exit 0
fi

command -v stress-ng >/dev/null || { echo "bench/runtime.sh: stress-ng not installed (apt-get install stress-ng)" >&2; exit 2; }
tmp=$(mktemp -d)
agent_pid=
cleanup() { [ -n "$agent_pid" ] && kill "$agent_pid" 2>/dev/null; umount "$tmp/fs" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
chmod 1777 "$tmp"
scratch_fs "$tmp/fs"
port=$((20000 + RANDOM % 20000))

workload() { # $1: yaml output
  setpriv --reuid=65534 --regid=65534 --clear-groups \
    stress-ng --open 1 --exec 1 --sock 1 --sock-port $((port + 1)) -t "${secs}s" --temp-path "$tmp/fs" \
    --metrics-brief --yaml "$1" >/dev/null 2>&1
}

rate() { # $1: yaml, $2: stressor -> bogo ops/s (real time)
  awk -v s="$2" '$0 ~ "stressor: "s"$" {f=1} f && /bogo-ops-per-second-real-time/ {print $2; exit}' "$1"
}

metric() { # $1: metric name prefix -> sum over its series
  curl -s "http://127.0.0.1:$port/metrics" | awk -v m="$1" 'index($0, m) == 1 {s += $NF} END {printf "%d", s}'
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

declare -A base with
events_total=0 kdrops=0 qdrops=0 cpu_total=0 wall_total=0 rss_max=0 rss_end=0 anon_end=0
for r in $(seq "$rounds"); do
  workload "$tmp/base.yaml"
  start_agent_bg --record "$tmp/events.jsonl"
  e0=$(metric palisade_runtime_events_total); c0=$(cpu_ticks "$agent_pid"); t0=$(date +%s.%N)
  workload "$tmp/with.yaml"
  sleep 1
  e1=$(metric palisade_runtime_events_total); c1=$(cpu_ticks "$agent_pid"); t1=$(date +%s.%N)
  dk=$(metric 'palisade_runtime_drops_total{source="kernel"}'); dq=$(metric 'palisade_runtime_drops_total{source="queue"}')
  rss=$(awk '/VmHWM/ {print $2}' "/proc/$agent_pid/status")
  rss_now=$(awk '/VmRSS/ {print $2}' "/proc/$agent_pid/status")
  anon_now=$(awk '/RssAnon/ {print $2}' "/proc/$agent_pid/status")
  kill -TERM "$agent_pid"; wait "$agent_pid" || true; agent_pid=
  rm -f "$tmp/events.jsonl"
  for s in open exec sock; do
    base[$s]="${base[$s]:-} $(rate "$tmp/base.yaml" $s)"
    with[$s]="${with[$s]:-} $(rate "$tmp/with.yaml" $s)"
  done
  events_total=$((events_total + e1 - e0)); kdrops=$((kdrops + dk)); qdrops=$((qdrops + dq))
  cpu_total=$((cpu_total + c1 - c0))
  wall_total=$(echo "$wall_total + $t1 - $t0" | bc)
  [ "$rss" -gt "$rss_max" ] && rss_max=$rss
  [ "$rss_now" -gt "$rss_end" ] && rss_end=$rss_now
  [ "$anon_now" -gt "$anon_end" ] && anon_end=$anon_now
  echo "round $r done" >&2
done

hz=$(getconf CLK_TCK)
mean() { echo "$@" | tr ' ' '\n' | awk 'NF {s += $1; n++} END {if (n) printf "%.1f", s / n; else print "n/a"}'; }
echo "Binary: \`$bin\`; $rounds rounds of ${secs}s; $(nproc) CPUs, load average $(cut -d' ' -f1 /proc/loadavg) at the end; stress-ng $(stress-ng --version | awk '{print $3}')"
echo
echo "| stressor | ops/s without agent | ops/s with agent | slowdown |"
echo "|---|---|---|---|"
for s in open exec sock; do
  b=$(mean ${base[$s]}); w=$(mean ${with[$s]})
  slow=$(awk -v b="$b" -v w="$w" 'BEGIN {if (b > 0) printf "%.1f %%", (b - w) / b * 100; else print "n/a"}')
  echo "| $s | $b | $w | $slow |"
done
echo
echo "| agent | value |"
echo "|---|---|"
echo "| events/s handled (whole node) | $(awk -v e="$events_total" -v t="$wall_total" 'BEGIN {printf "%.0f", e / t}') |"
echo "| events dropped in the kernel (ring buffer full) | $kdrops |"
echo "| events dropped at the queue (consumer behind) | $qdrops |"
echo "| agent CPU (% of one core) | $(awk -v c="$cpu_total" -v h="$hz" -v t="$wall_total" 'BEGIN {printf "%.1f", c / h / t * 100}') |"
echo "| agent RSS after the workload (largest of the rounds) | $((rss_end / 1024)) MiB |"
echo "| of which anonymous (heap, queue, caches; the rest is the mapped binary and ring buffer) | $((anon_end / 1024)) MiB |"
echo "| agent peak RSS (includes loading the programs) | $((rss_max / 1024)) MiB |"
