#!/usr/bin/env bash
# Builds the fuzz targets' seed corpora (fuzz/seeds/TARGET/) from the repository's own test fixtures.
# The targets that pick a file name from the first byte get that byte prepended (index in the target's
# NAMES list). Re-run after changing a NAMES list; the result is committed (a few hundred KB).
set -euo pipefail
cd "$(dirname "$0")"
root=..
inv=$root/crates/palisade-inventory/tests/fixtures
out=seeds
rm -rf "$out"
mkdir -p "$out"/{layer,os_packages,lockfiles,yaml,dockerfile,sbom,osv_import}

# seed TARGET INDEX FILE: the file's bytes behind one selector byte.
seed() {
  local target=$1 index=$2 file=$3
  local name
  name=$(printf '%02d-%s' "$index" "$(basename "$file")")
  { printf "\\$(printf '%03o' "$index")"; cat "$file"; } > "$out/$target/$name"
}

# os_packages: indices follow NAMES in fuzz_targets/os_packages.rs.
seed os_packages 0 "$inv/dpkg/status"
for f in "$inv"/dpkg/status.d/*; do seed os_packages 1 "$f"; done
seed os_packages 2 "$inv/apk/installed"
seed os_packages 3 "$inv/rpm/rpmdb.sqlite"
seed os_packages 4 "$inv/rpm/Packages"
printf 'ID=debian\nVERSION_ID="12"\n' > /tmp/palisade-seed-os-release
seed os_packages 6 /tmp/palisade-seed-os-release
rm -f /tmp/palisade-seed-os-release

# lockfiles: indices follow NAMES in fuzz_targets/lockfiles.rs.
seed lockfiles 0 "$inv/cargo/Cargo-v4.lock"
seed lockfiles 0 "$inv/cargo/Cargo-v1.lock"
seed lockfiles 1 "$inv/npm/package-lock-v3.json"
seed lockfiles 1 "$inv/npm/package-lock-v1.json"
seed lockfiles 3 "$inv/yarn/yarn-v1.lock"
seed lockfiles 3 "$inv/yarn/yarn-berry.lock"
seed lockfiles 4 "$inv/pnpm/pnpm-lock-pnpm9.yaml"
seed lockfiles 4 "$inv/pnpm/pnpm-lock-v5-peers.yaml"
seed lockfiles 5 "$inv/python/poetry-v2.lock"
seed lockfiles 6 "$inv/python/uv.lock"
seed lockfiles 7 "$inv/python/Pipfile.lock"
seed lockfiles 8 "$inv/python/requirements.txt"
for f in "$inv"/composer/composer.lock "$inv"/ruby/Gemfile.lock "$inv"/go/src/go.mod; do
  [ -f "$f" ] || continue
  case $f in
    *composer.lock) seed lockfiles 9 "$f" ;;
    *Gemfile.lock) seed lockfiles 10 "$f" ;;
    *go.mod) seed lockfiles 11 "$f" ;;
  esac
done

# sbom: the CycloneDX and SPDX JSON fixtures as they are.
cp "$inv"/sbom/*.json "$out/sbom/"

# osv_import: an even first byte reads JSON, an odd one YAML.
for f in "$root"/crates/palisade-vulndb/tests/fixtures/feed/osv/*; do
  case $f in
    *.json) seed osv_import 0 "$f" ;;
    *.yaml) seed osv_import 1 "$f" ;;
  esac
done

# yaml and dockerfile: small fixtures of the checks.
find "$root/crates/palisade-checks/tests/fixtures" -name '*.yaml' -size -4k | sort | head -40 |
  while read -r f; do cp "$f" "$out/yaml/$(basename "$(dirname "$f")")-$(basename "$f")"; done
find "$root/crates" -path '*fixtures*' -iname 'Dockerfile*' -size -4k | sort | head -30 |
  while read -r f; do cp "$f" "$out/dockerfile/$(basename "$(dirname "$f")")-$(basename "$f")"; done

# layer: tiny layers in each container format the reader takes (tar, gzip, zstd), with a whiteout,
# a hard link and a symlink, built from a scratch directory.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/rootfs/etc" "$tmp/rootfs/var/lib/dpkg" "$tmp/rootfs/app"
printf 'ID=alpine\n' > "$tmp/rootfs/etc/os-release"
cp "$inv/dpkg/status" "$tmp/rootfs/var/lib/dpkg/status"
printf 'aws_secret_access_key = "not-a-key"\n' > "$tmp/rootfs/app/.env"
ln -s ../etc/os-release "$tmp/rootfs/app/link"
ln "$tmp/rootfs/app/.env" "$tmp/rootfs/app/hard"
: > "$tmp/rootfs/app/.wh.gone"
tar --sort=name --owner=0 --group=0 --mtime=@0 -C "$tmp/rootfs" -cf "$out/layer/plain.tar" .
gzip -9n < "$out/layer/plain.tar" > "$out/layer/layer.tar.gz"
if command -v zstd >/dev/null; then zstd -q -19 < "$out/layer/plain.tar" > "$out/layer/layer.tar.zst"; fi

du -sh "$out"/* | sed 's/^/seeds: /'
