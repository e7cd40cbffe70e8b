#!/usr/bin/env bash
# RustSec agreement: the advisories `palisade scan fs --scanners vuln` reports for a real Cargo.lock with old
# pins (bench/cargo-audit/) against those `cargo audit` reports, both offline on the same RustSec snapshot.
#
#   bench/cargo-audit.sh [LOCKFILE_DIR]
#
# Palisade reads the OSV export in ../shared/data/advisories/osv-rustsec.tar.gz (rustsec/advisory-db branch
# `osv` at 7fa931cb, generated from `main` at bf5c0d24). cargo audit cannot read OSV: it loads the advisory-db
# git repository in its own format (crates/<name>/RUSTSEC-*.md with a TOML front matter). So it is pointed
# (`--db DIR --no-fetch`) at a checkout of rustsec/advisory-db `main` at bf5c0d24, the commit the OSV snapshot
# was exported from, cloned from RUSTSEC_GIT (a local clone or mirror; default: the mirror the `fetch` tool
# writes). Ids are compared on RUSTSEC ids (Palisade reports a CVE as the primary id when there is one and
# keeps the RUSTSEC id in `aliases`). Exit status 1 when the sets differ.
# Needs: cargo-audit (installed with `cargo install cargo-audit --locked` if absent), python3.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
LOCKDIR=${1:-$here/bench/cargo-audit}
OUT=${BENCH_OUT:-$here/target/bench}/cargo-audit
SHARED=${SHARED:-$here/../shared}
RUSTSEC_GIT=${RUSTSEC_GIT:-/work/.mirror/rustsec+advisory-db/repo}
RUSTSEC_COMMIT=${RUSTSEC_COMMIT:-bf5c0d245a92671908518d7e765914d437954ed6}
mkdir -p "$OUT"
[ -f "$LOCKDIR/Cargo.lock" ] || { echo "no Cargo.lock in $LOCKDIR" >&2; exit 2; }
command -v cargo-audit >/dev/null || cargo install -q cargo-audit --locked
(cd "$here" && cargo build --release -q -p palisade)
PAL=$here/target/release/palisade

# cargo audit's database: a work tree of advisory-db at the commit the OSV export was made from.
ADB=$OUT/advisory-db
if [ "$(git -C "$ADB" rev-parse HEAD 2>/dev/null)" != "$RUSTSEC_COMMIT" ]; then
  rm -rf "$ADB"
  [ -d "$RUSTSEC_GIT" ] || { echo "no rustsec/advisory-db clone at $RUSTSEC_GIT (set RUSTSEC_GIT)" >&2; exit 2; }
  git clone -q --no-checkout "$RUSTSEC_GIT" "$ADB"
  git -C "$ADB" checkout -q "$RUSTSEC_COMMIT"
fi

# Palisade's database: the RustSec OSV export only.
"$PAL" --quiet db build --from "$SHARED/data/advisories/osv-rustsec.tar.gz" --db "$OUT/rustsec.db"
"$PAL" scan fs "$LOCKDIR" --scanners vuln,package --db "$OUT/rustsec.db" --format json --quiet >"$OUT/palisade.json"
# cargo audit exits 1 when it finds vulnerabilities; only a missing/unreadable report is an error.
cargo audit --db "$ADB" --no-fetch --stale --json --file "$LOCKDIR/Cargo.lock" >"$OUT/cargo-audit.json" \
  2>"$OUT/cargo-audit.err" || true
[ -s "$OUT/cargo-audit.json" ] || { cat "$OUT/cargo-audit.err" >&2; exit 2; }

python3 - "$OUT/palisade.json" "$OUT/cargo-audit.json" "$ADB" <<'EOF'
import json, sys, pathlib
pal = json.load(open(sys.argv[1])); aud = json.load(open(sys.argv[2])); adb = pathlib.Path(sys.argv[3])

def rustsec_ids(f):
    return {i for i in [f["id"], *f.get("aliases", [])] if i.startswith("RUSTSEC-")}

p = {}  # RUSTSEC id -> {"crate version"}
for f in pal.get("vulnerabilities", []):
    for i in rustsec_ids(f):
        p.setdefault(i, set()).add(f'{f["package_name"]} {f["package_version"]}')
a, kind = {}, {}
for v in aud.get("vulnerabilities", {}).get("list", []):
    a.setdefault(v["advisory"]["id"], set()).add(f'{v["package"]["name"]} {v["package"]["version"]}')
    kind[v["advisory"]["id"]] = "vulnerability"
for k, ws in (aud.get("warnings") or {}).items():
    for w in ws:
        adv = w.get("advisory")
        if adv:
            a.setdefault(adv["id"], set()).add(f'{w["package"]["name"]} {w["package"]["version"]}')
            kind[adv["id"]] = w.get("kind", k)

n_pkgs = len(pal.get("packages", []))
print(f"Cargo.lock: {n_pkgs} packages; cargo audit loaded {(aud.get('database') or {}).get('advisory-count', '?')} "
      f"advisories from {adb}")
print(f"palisade: {len(p)} RUSTSEC ids; cargo audit: {len(a)} RUSTSEC ids "
      f"({sum(1 for k in kind.values() if k == 'vulnerability')} vulnerabilities, "
      f"{sum(1 for k in kind.values() if k != 'vulnerability')} warnings); both: {len(p.keys() & a.keys())}")
print()
print("| RUSTSEC id | crate | cargo audit kind | palisade | cargo audit |")
print("|---|---|---|---|---|")
for i in sorted(p.keys() | a.keys()):
    pkgs = ", ".join(sorted(p.get(i, set()) | a.get(i, set())))
    print(f"| {i} | {pkgs} | {kind.get(i, '-')} | {'yes' if i in p else 'NO'} | {'yes' if i in a else 'NO'} |")
only_p, only_a = sorted(p.keys() - a.keys()), sorted(a.keys() - p.keys())
pkg_diff = sorted(i for i in p.keys() & a.keys() if p[i] != a[i])
print()
for i in pkg_diff:
    print(f"{i}: different crates: palisade {sorted(p[i])}, cargo audit {sorted(a[i])}")
print(f"only palisade: {only_p or 'none'}")
print(f"only cargo audit: {only_a or 'none'}")
for i in only_p + only_a:
    md = next(adb.glob(f"**/{i}.md"), None)
    if md:
        head = md.read_text().split("```", 2)[1] if "```" in md.read_text() else ""
        info = [l for l in head.splitlines() if l.split("=")[0].strip() in
                ("informational", "withdrawn", "patched", "unaffected", "package", "os", "arch")]
        print(f"  {i}: {'; '.join(l.strip() for l in info)}")
sys.exit(1 if only_p or only_a or pkg_diff else 0)
EOF
