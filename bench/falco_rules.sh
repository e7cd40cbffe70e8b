#!/usr/bin/env bash
# Events per second through the official Falco rulesets (stable, then all three stacked, then with
# Palisade's rules) on one thread. Prints markdown tables. Usage: bench/falco_rules.sh [EVENTS] [--debug]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-200000}
profile=(--release)
[[ "${2:-}" == "--debug" ]] && profile=()
exec taskset -c 0 cargo run -q "${profile[@]}" -p palisade-runtime --example falco_rules_bench -- "$n"
