#!/usr/bin/env bash
# Builds the real-input fixtures the integration tests and benchmarks use, into $FIXTURES (default .fixtures/).
# Cached: a fixture is rebuilt only when missing. Needs root (debootstrap), network to the Debian mirror, npm,
# pip and cargo registries. Safe to re-run.
#
#   rootfs-bookworm/, rootfs-bullseye/        debootstrap --variant=minbase root filesystems
#   <name>.oci/  <name>.docker.tar  <name>.oci.tar   the same as OCI layout, docker-archive and oci-archive
#   app.*                                     bookworm + layer 2 (npm, PyPI, Cargo deps; old pins)
#                                             + layer 3 deleting app/old/package-lock.json and the SSH key
#                                             app/old/deploy_key that layer 2 added (whiteouts)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
FIX=${FIXTURES:-$here/.fixtures}
MIRROR=${DEBIAN_MIRROR:-$( (cat /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list 2>/dev/null || true) | grep -E "^(URIs:|deb )" | grep -oE "https?://[^ ]+/debian/?" | grep -v security | head -n1 || true)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
mkdir -p "$FIX"
log() { printf '[fixtures] %s\n' "$*" >&2; }

need() { command -v "$1" >/dev/null 2>&1; }
if ! need debootstrap || ! need umoci || ! need skopeo; then
  log "installing debootstrap umoci skopeo"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap umoci skopeo >/dev/null
fi

# rootfs_to_image NAME ROOTFS: single-layer image in OCI layout, docker-archive and oci-archive forms.
pack_images() {
  local name=$1
  skopeo copy -q "oci:$FIX/$name.oci:latest" "docker-archive:$FIX/$name.docker.tar:palisade-fixture/$name:latest"
  skopeo copy -q "oci:$FIX/$name.oci:latest" "oci-archive:$FIX/$name.oci.tar:latest"
}

add_layer() { # add_layer LAYOUT DIR HISTORY
  local tmp; tmp=$(mktemp "$FIX/layer.XXXXXX.tar")
  tar --sort=name --numeric-owner --mtime='2024-01-01' -C "$2" -cf "$tmp" .
  umoci raw add-layer --image "$1:latest" --history.created_by "$3" "$tmp"
  rm -f "$tmp"
}

for suite in bookworm bullseye; do
  root=$FIX/rootfs-$suite
  if [ ! -f "$root/.done" ]; then
    log "debootstrap $suite from $MIRROR"
    rm -rf "$root"
    debootstrap --variant=minbase "$suite" "$root" "$MIRROR" >"$FIX/debootstrap-$suite.log" 2>&1 \
      || { log "debootstrap $suite failed, see $FIX/debootstrap-$suite.log"; tail -5 "$FIX/debootstrap-$suite.log" >&2; exit 1; }
    rm -rf "$root/var/cache/apt/archives/"*.deb "$root/proc/"* "$root/sys/"* "$root/dev/"* 2>/dev/null || true
    touch "$root/.done"
  fi
  if [ ! -f "$FIX/$suite.docker.tar" ]; then
    log "packing $suite images"
    rm -rf "$FIX/$suite.oci"
    umoci init --layout "$FIX/$suite.oci"
    umoci new --image "$FIX/$suite.oci:latest"
    add_layer "$FIX/$suite.oci" "$root" "debootstrap --variant=minbase $suite"
    umoci config --image "$FIX/$suite.oci:latest" --config.cmd bash --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
    pack_images "$suite"
  fi
done

# The app image: real packages from the registries, pinned old.
app=$FIX/app-src
if [ ! -f "$app/.done" ]; then
  log "installing app dependencies (npm, PyPI, Cargo)"
  rm -rf "$app" && mkdir -p "$app/l2/app/web" "$app/l2/app/rust/src" "$app/l2/app/old" "$app/l3/app/old"
  (cd "$app/l2/app/web" && npm init -y >/dev/null && npm install --no-audit --no-fund --silent lodash@4.17.15 express@4.16.0 minimist@1.2.0 >/dev/null)
  pip install -q --no-deps --no-compile --target "$app/l2/usr/local/lib/python3.11/site-packages" django==2.2.0 requests==2.19.0 urllib3==1.23 pyyaml==5.3.1 2>/dev/null \
    || pip install -q --no-deps --no-compile --target "$app/l2/usr/local/lib/python3.11/site-packages" django==2.2.0 requests==2.19.0 urllib3==1.23
  printf 'django==2.2.0\nrequests==2.19.0\nurllib3==1.23\n' >"$app/l2/app/requirements.txt"
  cat >"$app/l2/app/rust/Cargo.toml" <<'TOML'
[package]
name = "fixture-app"
version = "0.1.0"
edition = "2021"

[dependencies]
time = "=0.1.43"
smallvec = "=1.6.0"

# Its own workspace: the fixture tree may sit inside another Cargo workspace.
[workspace]
TOML
  echo 'fn main() {}' >"$app/l2/app/rust/src/main.rs"
  (cd "$app/l2/app/rust" && cargo generate-lockfile -q)
  # A lockfile that layer 3 deletes: its packages must not be reported.
  cat >"$app/l2/app/old/package-lock.json" <<'JSON'
{"name":"old","version":"1.0.0","lockfileVersion":3,"requires":true,
 "packages":{"":{"name":"old","version":"1.0.0","dependencies":{"left-pad":"1.1.0"}},
 "node_modules/left-pad":{"version":"1.1.0","resolved":"https://registry.npmjs.org/left-pad/-/left-pad-1.1.0.tgz"}}}
JSON
  touch "$app/l3/app/old/.wh.package-lock.json"
  touch "$app/.done"
fi
# A private key that layer 2 adds and layer 3 deletes: still in the image, and must be reported as such.
if [ ! -f "$app/l2/app/old/deploy_key" ]; then
  command -v ssh-keygen >/dev/null || { apt-get update -qq && apt-get install -y -qq openssh-client >/dev/null; }
  ssh-keygen -q -t ed25519 -N '' -C fixture -f "$app/l2/app/old/deploy_key"
  rm -f "$app/l2/app/old/deploy_key.pub"
  touch "$app/l3/app/old/.wh.deploy_key"
  rm -rf "$FIX/app.oci" "$FIX/app.docker.tar" "$FIX/app.oci.tar" "$FIX/big.docker.tar"
fi
if [ ! -f "$FIX/app.docker.tar" ]; then
  log "packing app images"
  rm -rf "$FIX/app.oci"
  cp -a "$FIX/bookworm.oci" "$FIX/app.oci"
  add_layer "$FIX/app.oci" "$app/l2" "COPY app/ and site-packages (npm, PyPI, Cargo)"
  add_layer "$FIX/app.oci" "$app/l3" "RUN rm /app/old/package-lock.json"
  umoci config --image "$FIX/app.oci:latest" --config.user 1000 --config.exposedports 8080/tcp --config.workingdir /app \
    --config.cmd node --config.label org.opencontainers.image.title=palisade-fixture-app
  pack_images app
fi
log "fixtures ready in $FIX"
ls -la "$FIX" >&2
