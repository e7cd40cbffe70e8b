#!/usr/bin/env bash
# Signature verification timing (issue 17): a local docker-registry (Debian package) on a free port, one
# image pushed with skopeo from .fixtures/app.oci, signed with a fresh key (tag format, then referrers), and
# verified N times by `crates/palisade-signing/examples/verify_bench.rs`: uncached with a new client per call
# (what one `palisade verify` does), uncached with one reused client (the webhook), and from the
# (digest, policy) cache. Targets: cached < 1 ms, uncached from the local registry < 50 ms. Prints a
# markdown table. Built in the dev profile (dependencies at opt-level 1): read the figures as upper bounds.
# Keyless: when node and @sigstore/mock + @sigstore/sign are installed ($PALISADE_NPM_SIGSTORE, default
# /work/corpus/npm-sigstore), a third image is signed by sigstore-js against the mock Fulcio/Rekor
# (crates/palisade/tests/fixtures/sigstore-mock/sign.js), its bundle attached as a referrer, and verified
# against the mock's trusted root (certificate chain, SCT, log checkpoint and SET, identity) the same way.
#
#   bash bench/signing.sh            # N=50 by default
set -euo pipefail
cd "$(dirname "$0")/.."
n=${N:-50}
command -v skopeo >/dev/null && [ -x /usr/bin/docker-registry ] || { echo "skipped: skopeo or docker-registry missing" >&2; exit 0; }
[ -d .fixtures/app.oci ] || { echo "skipped: .fixtures/app.oci is absent (bash .ci/fixtures.sh)" >&2; exit 0; }
cargo build -q -p palisade --bin palisade
cargo build -q -p palisade-signing --example verify_bench
work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf 'version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s/data\nhttp:\n  addr: 127.0.0.1:%s\n' "$work" "$port" >"$work/config.yml"
/usr/bin/docker-registry serve "$work/config.yml" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 50); do (echo >/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break; sleep 0.1; done
skopeo copy -q --dest-tls-verify=false oci:.fixtures/app.oci:latest "docker://127.0.0.1:$port/app:v1"
export PALISADE_PASSWORD=bench
target/debug/palisade keygen --output-key-prefix "$work/k" 2>/dev/null
for format in tag referrers; do
  repo="app-$format"
  skopeo copy -q --dest-tls-verify=false oci:.fixtures/app.oci:latest "docker://127.0.0.1:$port/$repo:v1"
  pinned=$(target/debug/palisade sign "127.0.0.1:$port/$repo:v1" --key "$work/k.key" --format "$format" --insecure 2>/dev/null)
  echo
  echo "### $format format ($pinned)"
  echo
  target/debug/examples/verify_bench "$pinned" "$work/k.pub" "$n" --insecure
done

npm_dir=${PALISADE_NPM_SIGSTORE:-/work/corpus/npm-sigstore}
if command -v node >/dev/null && [ -d "$npm_dir/node_modules/@sigstore/mock" ]; then
  repo=app-keyless
  skopeo copy -q --dest-tls-verify=false oci:.fixtures/app.oci:latest "docker://127.0.0.1:$port/$repo:v1"
  digest=$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://127.0.0.1:$port/$repo:v1")
  subject=https://github.com/acme/app/.github/workflows/ci.yml@refs/heads/main
  issuer=https://token.actions.githubusercontent.com
  printf '{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"127.0.0.1:%s/%s","digest":{"sha256":"%s"}}],"predicateType":"https://sigstore.dev/cosign/sign/v1","predicate":{}}' \
    "$port" "$repo" "${digest#sha256:}" >"$work/statement.json"
  printf '{"cases":[{"name":"sign","kind":"dsse","file":"%s","payloadType":"application/vnd.in-toto+json","subject":"%s","issuer":"%s","ca":"main"}]}' \
    "$work/statement.json" "$subject" "$issuer" >"$work/spec.json"
  NODE_PATH="$npm_dir/node_modules" node crates/palisade/tests/fixtures/sigstore-mock/sign.js "$work/spec.json" "$work/mock"
  echo
  echo "### keyless (referrer bundle by sigstore-js, 127.0.0.1:$port/$repo@$digest)"
  echo
  target/debug/examples/verify_bench "127.0.0.1:$port/$repo@$digest" --keyless "$work/mock/trusted_root.json" "$subject" "$issuer" "$n" \
    --insecure --push-bundle "$work/mock/sign.bundle.json"
else
  echo "keyless rows skipped: node or $npm_dir/node_modules/@sigstore/mock missing" >&2
fi
