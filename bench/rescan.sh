#!/usr/bin/env bash
# Re-match benchmark (issue 18): an image store of 10,000 images, made from the real inventories of the
# fixture images (bookworm, bullseye, app) with varied package versions and stored with their CycloneDX
# SBOMs, matched once against DB 1, then `palisade rescan` against DB 2 (a DB update: DB 1 is the same
# advisories less every 20th advisory file of each archive, so DB 2 adds about 5% of the advisories), timed with
# GNU time (wall seconds, peak RSS) on SQLite and on a private PostgreSQL cluster. Store size per image from
# the SQLite file and from pg_database_size. Beside it, Trivy: `trivy image --input` of each fixture image
# from a warm cache (its per-image re-match of a cached image) against a Trivy DB built from the same OSV
# archives by ../shared/tools/trivy-db/build-trivy-db.sh, extrapolated to 10,000 images. Prints a markdown
# table.
#
#   cargo build --release -p palisade-store --example fill && bash bench/rescan.sh     # IMAGES=10000 by default
#
# The rescan is timed on the release `fill rescan` driver: `Store::rematch`, the whole of what `palisade
# rescan -f json` does, without the rest of the CLI (so the benchmark needs only that small release build).
# The inventories are made by `palisade scan image` (debug build is fine; PALISADE=... to choose).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
IMAGES=${IMAGES:-10000}
SHARED=${SHARED:-$here/../shared}
ADV=$SHARED/data/advisories
FIX=${PALISADE_FIXTURES:-$here/.fixtures}
PAL=${PALISADE:-$here/target/release/palisade}
[ -x "$PAL" ] || PAL=$here/target/debug/palisade
FILL=${FILL:-$here/target/release/examples/fill}
for f in "$PAL" "$FILL"; do [ -x "$f" ] || { echo "no $f: build it first (see the head of this script)" >&2; exit 1; }; done
[ -d "$ADV" ] || { echo "skipped: no advisories at $ADV" >&2; exit 0; }
for i in bookworm bullseye app; do [ -d "$FIX/$i.oci" ] || { echo "skipped: no $FIX/$i.oci (.ci/fixtures.sh)" >&2; exit 0; }; done
OUT=$(mktemp -d /tmp/palisade-rescan.XXXXXX)
chmod 711 "$OUT"   # the PostgreSQL cluster runs as postgres under it
PGPID=
cleanup() {
  if [ -n "$PGPID" ]; then runuser -u postgres -- "$PGBIN/pg_ctl" -D "$OUT/pg/data" -m immediate stop >/dev/null 2>&1 || true; fi
  rm -rf "$OUT"
}
trap cleanup EXIT
export TRIVY_NO_PROGRESS=true

measure() { # measure NAME CMD...: prints "seconds maxrss_kb"
  local name=$1; shift
  /usr/bin/time -f '%e %M' -o "$OUT/$name.time" "$@" >"$OUT/$name.out" 2>"$OUT/$name.err" || {
    echo "failed: $*" >&2; tail -5 "$OUT/$name.err" >&2; return 1; }
  tail -n1 "$OUT/$name.time"
}
kv() { sed -n "s/^$2=//p" "$OUT/$1.out"; }
mb() { echo $(($1 / 1024)); }

# 1. Real inventories of the fixture images.
reports=()
for i in bookworm bullseye app; do
  "$PAL" --quiet scan image --input "$FIX/$i.oci" --scanners vuln --allow-missing-db -f json -o "$OUT/$i.json" \
    --db "$OUT/none.db" >/dev/null 2>&1 || true
  [ -s "$OUT/$i.json" ] || { echo "could not inventory $i" >&2; exit 1; }
  reports+=("$OUT/$i.json")
done

# 2. DB 2 from every advisory archive; DB 1 from the same less every 20th advisory file.
mkdir -p "$OUT/adv1" "$OUT/adv2"
for a in "$ADV"/*.tar.gz "$ADV"/debian/*.tar.gz; do tar xzf "$a" -C "$OUT/adv2"; done
cp -a "$OUT/adv2/." "$OUT/adv1/"
find "$OUT/adv1" -type f \( -name '*.json' -o -name '*.yaml' \) | sort | awk 'NR % 20 == 0' | xargs -r rm -f
"$PAL" --quiet db build --from "$OUT"/adv1/* --db "$OUT/db1.db" --allow-errors --force
"$PAL" --quiet db build --from "$OUT"/adv2/* --db "$OUT/db2.db" --allow-errors --force
adv1=$("$PAL" db info --db "$OUT/db1.db" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["advisories"])')
adv2=$("$PAL" db info --db "$OUT/db2.db" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["advisories"])')

# 3. SQLite.
SQ=$OUT/store.db
measure fill-sqlite "$FILL" fill "$SQ" "$OUT/db1.db" "$IMAGES" "${reports[@]}" >/dev/null
read -r sq_s sq_kb <<<"$(measure rescan-sqlite "$FILL" rescan "$SQ" "$OUT/db2.db")"
sq_size=$(( $(stat -c %s "$SQ") + $(stat -c %s "$SQ-wal" 2>/dev/null || echo 0) ))
sq_changed=$(python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print(len([c for c in s["changed"] if c["new"] or c["fixed"]]), s["changed_keys"], s["package_keys"], s["packages_matched"])' "$OUT/rescan-sqlite.out")
read -r sq_imgs sq_keys sq_allkeys sq_pkgs <<<"$sq_changed"
read -r sq0_s sq0_kb <<<"$(measure rescan0-sqlite "$FILL" rescan "$SQ" "$OUT/db2.db")"

# 4. PostgreSQL: a private cluster on a free port.
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
pg_row="| PostgreSQL | not measured: no PostgreSQL binaries | | | |"
if [ -n "$PGBIN" ]; then
  mkdir -p "$OUT/pg"; chown postgres:postgres "$OUT/pg"
  runuser -u postgres -- "$PGBIN/initdb" -D "$OUT/pg/data" -A trust -U postgres --no-sync -E UTF8 >/dev/null
  PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$OUT/pg/data" -l "$OUT/pg/log" -w start \
    -o "-p $PORT -k $OUT/pg -h 127.0.0.1 -c shared_buffers=128MB" >/dev/null
  PGPID=1
  URL="postgres://postgres@127.0.0.1:$PORT/postgres"
  measure fill-pg "$FILL" fill "$URL" "$OUT/db1.db" "$IMAGES" "${reports[@]}" >/dev/null
  read -r pg_s pg_kb <<<"$(measure rescan-pg "$FILL" rescan "$URL" "$OUT/db2.db")"
  read -r pg0_s pg0_kb <<<"$(measure rescan0-pg "$FILL" rescan "$URL" "$OUT/db2.db")"
  pg_size=$(runuser -u postgres -- "$PGBIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -tAc "select pg_database_size('postgres')")
  pg_row="| PostgreSQL | $pg_s s | $(mb "$pg_kb") MB | $(( pg_size / IMAGES / 1024 )) KiB | $pg0_s s, $(mb "$pg0_kb") MB |"
fi

# 5. Trivy from its cache, against a Trivy DB of the same OSV archives (skipped when it cannot be built).
trivy_row="| Trivy (cache warm, per image × $IMAGES) | not measured | | | |"
# TRIVY_CACHE=DIR reuses a cache where build-trivy-db.sh already wrote the DB (it installs Go and compiles).
TC=${TRIVY_CACHE:-$OUT/trivy}
if command -v trivy >/dev/null && [ -f "$SHARED/tools/trivy-db/build-trivy-db.sh" ] \
   && { [ -f "$TC/db/trivy.db" ] || bash "$SHARED/tools/trivy-db/build-trivy-db.sh" "$TC" >"$OUT/trivy-db.log" 2>&1; }; then
  python3 "$here/bench/trivy-empty-java-db.py" "$TC/java-db"
  total=0; n=0; maxkb=0
  for i in bookworm bullseye app; do
    T=(trivy --cache-dir "$TC" --quiet image --input "$FIX/$i.oci" --scanners vuln --offline-scan \
       --skip-db-update --skip-java-db-update -f json)
    measure "trivy-warm-$i" "${T[@]}" >/dev/null
    read -r s kb <<<"$(measure "trivy-$i" "${T[@]}")"
    total=$(python3 -c "print($total + $s)"); n=$((n + 1)); [ "$kb" -gt "$maxkb" ] && maxkb=$kb
  done
  per=$(python3 -c "print(f'{$total / $n:.2f}')")
  trivy_row="| Trivy (cached, $per s per image × $IMAGES, one process per image) | $(python3 -c "print(f'{$total / $n * $IMAGES:.0f}')") s | $(mb "$maxkb") MB | | |"
fi

echo "Palisade $("$PAL" --version | cut -d' ' -f2) (rescan: $FILL), $(nproc) cores; $IMAGES images from ${#reports[@]} fixture inventories,"
echo "$(kv fill-sqlite packages_per_image) packages per image, $(kv fill-sqlite distinct_packages) distinct packages, $sq_allkeys package keys;"
echo "DB 1 $adv1 advisories -> DB 2 $adv2 advisories: $sq_keys package keys changed, $sq_pkgs packages re-matched, $sq_imgs images changed."
echo "SBOM (CycloneDX JSON) $(( $(kv fill-sqlite sbom_bytes_per_image) / 1024 )) KiB per image before compression."
echo
echo "| store | rescan after the DB update | peak RSS | store size per image | rescan again, nothing changed |"
echo "|---|---|---|---|---|"
echo "| SQLite | $sq_s s | $(mb "$sq_kb") MB | $(( sq_size / IMAGES / 1024 )) KiB | $sq0_s s, $(mb "$sq0_kb") MB |"
echo "$pg_row"
echo "$trivy_row"
echo
echo "Goal: <= 10 s and <= 200 MB on 2 cores. First match of the whole store (every distinct package):"
echo "SQLite $(kv fill-sqlite first_match_seconds) s$( [ -f "$OUT/fill-pg.out" ] && echo ", PostgreSQL $(kv fill-pg first_match_seconds) s")."
