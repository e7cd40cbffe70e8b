#!/usr/bin/env bash
# Fails when generated documentation is stale: regenerate it into a temp dir and compare with docs/.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=target/debug/palisade
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if "$bin" checks --help >/dev/null 2>&1; then
  "$bin" checks docs --output "$tmp/checks"
  if ! diff -r "$tmp/checks" docs/checks >/dev/null; then
    echo "docs/checks is stale: run '$bin checks docs --output docs/checks' and commit" >&2
    diff -r "$tmp/checks" docs/checks | head -20 >&2
    exit 1
  fi
fi
echo "generated docs are current"
