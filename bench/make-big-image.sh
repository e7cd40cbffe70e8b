#!/usr/bin/env bash
# Makes $FIX/big.docker.tar: the app image plus a layer of ~1 GB of incompressible files, for the
# "RSS stays flat with image size" measurement. Cached.
set -euo pipefail
FIX=$1
[ -f "$FIX/big.docker.tar" ] && exit 0
tmp=$(mktemp -d "$FIX/big.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/layer/data"
for i in $(seq 1 16); do head -c 64M /dev/urandom >"$tmp/layer/data/blob-$i.bin"; done
cp -a "$FIX/app.oci" "$tmp/big.oci"
tar -C "$tmp/layer" -cf "$tmp/layer.tar" .
umoci raw add-layer --image "$tmp/big.oci:latest" --history.created_by "1 GiB of data" "$tmp/layer.tar"
skopeo copy -q "oci:$tmp/big.oci:latest" "docker-archive:$FIX/big.docker.tar:palisade-fixture/big:latest"
