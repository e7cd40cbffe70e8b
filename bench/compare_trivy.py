#!/usr/bin/env python3
"""Compare a Trivy JSON report with a Palisade JSON report of the same input: packages and vulnerabilities.

Usage: compare_trivy.py TRIVY.json PALISADE.json [--label L] [--details]

Both reports must list packages (Trivy `--list-all-pkgs`, Palisade `--scanners vuln,package`).

Packages are compared per purl type as (name, version): npm scoped names as `@scope/name`, PyPI names PEP 503
normalised and versions without trailing `.0` release segments (PEP 440: `2.2.0` is `2.2`), Debian versions
with their epoch (`1:2.38.1-5`). Trivy's `Relationship: root` packages are counted
apart, as Palisade's `projects` are: both are the project a lockfile or binary belongs to, not dependencies.

A vulnerability finding is (vulnerability, purl type, package name, version). A Trivy finding is matched when
its id is the Palisade finding's id or one of its aliases. `entries` counts every finding as reported (a
package found at two paths is reported twice by Trivy); `distinct` counts distinct findings.

Prints markdown tables, and with --details every difference.
"""
import json
import re
import sys
from collections import Counter, defaultdict

TRIVY_TYPES = {
    "debian": "deb", "ubuntu": "deb", "alpine": "apk",
    "node-pkg": "npm", "npm": "npm", "yarn": "npm", "pnpm": "npm", "bun": "npm",
    "python-pkg": "pypi", "pip": "pypi", "pipenv": "pypi", "poetry": "pypi", "uv": "pypi",
    "cargo": "cargo", "rustbinary": "cargo", "rust-binary": "cargo",
    "gobinary": "golang", "gomod": "golang",
    "jar": "maven", "pom": "maven", "gradle": "maven",
    "gemspec": "gem", "bundler": "gem", "composer": "composer", "composer-vendor": "composer",
    "nuget": "nuget", "dotnet-core": "nuget", "packages-props": "nuget",
}


def pep503(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def key_name(ptype, name):
    return pep503(name) if ptype == "pypi" else name


def key_version(ptype, version):
    if ptype != "pypi":
        return version
    m = re.match(r"v?(\d+(?:\.\d+)*)(.*)", version.strip().lower())
    if not m:
        return version
    release = m.group(1).split(".")
    while len(release) > 1 and int(release[-1]) == 0:
        release.pop()
    return ".".join(release) + m.group(2)


def purl_type(purl):
    if purl and purl.startswith("pkg:"):
        return purl[4:].split("/", 1)[0]
    return None


def trivy_version(p, ptype):
    v = p.get("Version", "")
    if ptype == "deb":
        if p.get("Release"):
            v = f"{v}-{p['Release']}"
        if p.get("Epoch"):
            v = f"{p['Epoch']}:{v}"
    return v


def load_trivy(path):
    doc = json.load(open(path))
    pkgs, roots, vulns = [], [], []
    for r in doc.get("Results") or []:
        rtype = TRIVY_TYPES.get(r.get("Type", ""), r.get("Type", ""))
        for p in r.get("Packages") or []:
            t = purl_type((p.get("Identifier") or {}).get("PURL")) or rtype
            entry = (t, key_name(t, p["Name"]), key_version(t, trivy_version(p, t)),
                     p.get("FilePath") or r.get("Target"))
            (roots if p.get("Relationship") == "root" else pkgs).append(entry)
        for v in r.get("Vulnerabilities") or []:
            t = purl_type((v.get("PkgIdentifier") or {}).get("PURL")) or rtype
            ver = key_version(t, v.get("InstalledVersion", ""))
            vulns.append((v["VulnerabilityID"], t, key_name(t, v["PkgName"]), ver, v.get("PkgPath") or r.get("Target")))
    return pkgs, roots, vulns


def load_palisade(path):
    doc = json.load(open(path))
    pkgs, roots, vulns = [], [], []
    for p in doc.get("packages") or []:
        t = p["ecosystem"]
        pkgs.append((t, key_name(t, p["name"]), key_version(t, p["version"]),
                     ",".join(l["path"] for l in p.get("locations", []))))
    for p in doc.get("projects") or []:
        t = p["ecosystem"]
        roots.append((t, key_name(t, p["name"]), key_version(t, p["version"]),
                      ",".join(l["path"] for l in p.get("locations", []))))
    for v in doc.get("vulnerabilities") or []:
        t = v["ecosystem"]
        ids = [v["id"], *v.get("aliases", [])]
        vulns.append((ids, t, key_name(t, v["package_name"]), key_version(t, v["package_version"]),
                      ",".join(l["path"] for l in v.get("locations", []))))
    return pkgs, roots, vulns


def main():
    args = sys.argv[1:]
    label, details = "", False
    if "--label" in args:
        i = args.index("--label")
        label = args[i + 1]
        del args[i: i + 2]
    if "--details" in args:
        args.remove("--details")
        details = True
    t_pkgs, t_roots, t_vulns = load_trivy(args[0])
    p_pkgs, p_roots, p_vulns = load_palisade(args[1])

    print(f"\n#### {label}\n")
    print("Packages (entries as listed; distinct (name, version) in brackets when fewer):\n")
    print("| purl type | trivy | palisade | trivy-only | palisade-only | trivy roots | palisade projects |")
    print("|---|---|---|---|---|---|---|")
    t_set = defaultdict(set)
    p_set = defaultdict(set)
    for t, n, v, _ in t_pkgs:
        t_set[t].add((n, v))
    for t, n, v, _ in p_pkgs:
        p_set[t].add((n, v))
    tc, pc = Counter(e[0] for e in t_pkgs), Counter(e[0] for e in p_pkgs)
    trc, prc = Counter(e[0] for e in t_roots), Counter(e[0] for e in p_roots)
    types = sorted(set(tc) | set(pc) | set(trc) | set(prc))

    def fmt(n, distinct):
        return f"{n}" if n == distinct else f"{n} [{distinct}]"

    for ty in types:
        print(f"| {ty} | {fmt(tc[ty], len(t_set[ty]))} | {fmt(pc[ty], len(p_set[ty]))} | "
              f"{len(t_set[ty] - p_set[ty])} | {len(p_set[ty] - t_set[ty])} | {trc[ty]} | {prc[ty]} |")
    print(f"| **all** | {fmt(len(t_pkgs), sum(len(s) for s in t_set.values()))} | "
          f"{fmt(len(p_pkgs), sum(len(s) for s in p_set.values()))} | "
          f"{sum(len(t_set[t] - p_set[t]) for t in types)} | {sum(len(p_set[t] - t_set[t]) for t in types)} | "
          f"{len(t_roots)} | {len(p_roots)} |")

    # Vulnerabilities.
    t_keys = Counter((i, t, n, v) for i, t, n, v, _ in t_vulns)
    p_entries = Counter()
    p_by_pkg = defaultdict(list)  # (t, n, v) -> [set of ids]
    for ids, t, n, v, _ in p_vulns:
        p_entries[(ids[0], t, n, v)] += 1
        p_by_pkg[(t, n, v)].append(set(ids))
    matched_p = set()
    t_only = []
    for (i, t, n, v) in t_keys:
        hit = next((k for k, ids in enumerate(p_by_pkg.get((t, n, v), [])) if i in ids), None)
        if hit is None:
            t_only.append((i, t, n, v))
        else:
            matched_p.add((t, n, v, hit))
    p_only = []
    for ids, t, n, v, _ in p_vulns:
        lst = p_by_pkg[(t, n, v)]
        k = lst.index(set(ids))
        if (t, n, v, k) not in matched_p and (ids[0], t, n, v) not in p_only:
            p_only.append((ids[0], t, n, v))
    print("\nVulnerability findings (vulnerability, package, version):\n")
    print("| purl type | trivy entries | trivy distinct | palisade entries | palisade distinct | both | trivy-only | palisade-only |")
    print("|---|---|---|---|---|---|---|---|")
    vtypes = sorted({k[1] for k in t_keys} | {k[1] for k in p_entries})
    tot = [0] * 7
    for ty in vtypes:
        te = sum(c for k, c in t_keys.items() if k[1] == ty)
        td = sum(1 for k in t_keys if k[1] == ty)
        pe = sum(c for k, c in p_entries.items() if k[1] == ty)
        pd = sum(1 for k in p_entries if k[1] == ty)
        to = sum(1 for k in t_only if k[1] == ty)
        po = sum(1 for k in p_only if k[1] == ty)
        both = td - to
        row = [te, td, pe, pd, both, to, po]
        tot = [a + b for a, b in zip(tot, row)]
        print(f"| {ty} | " + " | ".join(map(str, row)) + " |")
    print("| **all** | " + " | ".join(map(str, tot)) + " |")

    if details:
        print()
        for ty in types:
            for n, v in sorted(t_set[ty] - p_set[ty]):
                paths = sorted({p for t, nn, vv, p in t_pkgs if (t, nn, vv) == (ty, n, v)})
                print(f"- package only in trivy: {ty} {n} {v} ({', '.join(paths)})")
            for n, v in sorted(p_set[ty] - t_set[ty]):
                paths = sorted({p for t, nn, vv, p in p_pkgs if (t, nn, vv) == (ty, n, v)})
                print(f"- package only in palisade: {ty} {n} {v} ({', '.join(paths)})")
        for e in t_roots:
            print(f"- trivy root: {e[0]} {e[1]} {e[2]} ({e[3]})")
        for e in p_roots:
            print(f"- palisade project: {e[0]} {e[1]} {e[2]} ({e[3]})")
        for k, c in sorted(t_keys.items()):
            if c > 1:
                print(f"- trivy reports {k} {c} times")
        for k, c in sorted(p_entries.items()):
            if c > 1:
                print(f"- palisade reports {k} {c} times")
        for k in sorted(t_only):
            print(f"- finding only in trivy: {k}")
        for k in sorted(p_only):
            print(f"- finding only in palisade: {k}")


if __name__ == "__main__":
    main()
