#!/usr/bin/env python3
"""Per-package licence comparison of a Palisade JSON report and a Trivy JSON report (`--scanners license`).

Each side is reduced to, per package, the set of licence ids it names: Palisade's SPDX expressions are split
into their ids (operators dropped, `WITH` exceptions kept out), Trivy's `Licenses[].Name` are taken as they
are. Prints a markdown summary (packages on each side, same set, differing) and the differing packages.

    python3 bench/compare_licenses.py palisade.json trivy.json
"""
import json
import re
import sys


def palisade(path):
    out = {}
    for f in json.load(open(path)).get("licenses", []):
        if f.get("source") != "package" or not f.get("package"):
            continue
        ids = out.setdefault(f["package"], set())
        expr = f.get("expression")
        if not expr:
            ids.add("?" + f["raw"])
            continue
        toks = re.split(r"[()\s]+", expr)
        skip = False
        for t in toks:
            if not t or t in ("AND", "OR"):
                continue
            if t == "WITH":
                skip = True
                continue
            if skip:
                skip = False
                continue
            ids.add(t)
    return out


def trivy(path):
    out = {}
    for res in json.load(open(path)).get("Results", []) or []:
        for l in res.get("Licenses") or []:
            if l.get("PkgName"):
                out.setdefault(l["PkgName"], set()).add(l["Name"])
    return out


def main():
    p, t = palisade(sys.argv[1]), trivy(sys.argv[2])
    names = sorted(set(p) | set(t))
    same = [n for n in names if p.get(n) == t.get(n)]
    diff = [n for n in names if p.get(n) != t.get(n)]
    print(f"| packages with licences | Palisade {len(p)} | Trivy {len(t)} | same set {len(same)} | differ {len(diff)} |")
    print("|---|---|---|---|---|")
    print()
    print("| package | only Palisade | only Trivy |")
    print("|---|---|---|")
    for n in diff:
        a, b = p.get(n, set()), t.get(n, set())
        print(f"| {n} | {', '.join(sorted(a - b)) or '-'} | {', '.join(sorted(b - a)) or '-'} |")


if __name__ == "__main__":
    main()
