#!/usr/bin/env bash
# Events per second through the official Falco rulesets (stable, then all three stacked, then with
# Palisade's rules) on one core, as markdown tables. Usage: bench/falco_rules.sh [EVENTS] [--release]
# Default: the dev profile with palisade-runtime itself at opt-level 3 (dependencies at the dev profile's
# opt-level 1), which needs no release build of the whole dependency tree.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-200000}
if [[ "${2:-}" == "--release" ]]; then
  cargo build -q --release -p palisade-runtime --example falco_rules_bench
  exec taskset -c 0 target/release/examples/falco_rules_bench "$n"
fi
cargo build -q --config 'profile.dev.package.palisade-runtime.opt-level=3' -p palisade-runtime --example falco_rules_bench
exec taskset -c 0 target/debug/examples/falco_rules_bench "$n"
