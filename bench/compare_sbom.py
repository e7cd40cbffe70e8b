#!/usr/bin/env python3
"""Compare the components of two CycloneDX SBOMs as (name, version, purl type).

Usage: compare_sbom.py REFERENCE.json CANDIDATE.json [--label L]
Prints counts per purl type and lists reference components missing from the candidate.
"""
import json
import sys
from collections import Counter


def purl_type(purl):
    if not purl or not purl.startswith("pkg:"):
        return None
    return purl[4:].split("/", 1)[0]


def components(path):
    doc = json.load(open(path))
    out = set()
    stack = list(doc.get("components", []))
    while stack:
        c = stack.pop()
        stack.extend(c.get("components", []))
        t = purl_type(c.get("purl"))
        if t:
            name = c.get("name", "")
            if c.get("group") and t in ("maven",):
                name = f"{c['group']}:{name}"
            elif c.get("group") and t in ("npm", "golang", "composer"):
                name = f"{c['group']}/{name}"
            out.add((name, c.get("version", ""), t))
    return out


def main():
    args = sys.argv[1:]
    label = ""
    if "--label" in args:
        i = args.index("--label")
        label = args[i + 1]
        del args[i : i + 2]
    ref, cand = components(args[0]), components(args[1])
    missing = sorted(ref - cand)
    extra = sorted(cand - ref)
    rt, ct = Counter(t for _, _, t in ref), Counter(t for _, _, t in cand)
    types = sorted(set(rt) | set(ct))
    print(f"\n#### {label}\n")
    print("| purl type | trivy | palisade | trivy-only | palisade-only |")
    print("|---|---|---|---|---|")
    for t in types:
        print(f"| {t} | {rt[t]} | {ct[t]} | {sum(1 for m in missing if m[2] == t)} | {sum(1 for m in extra if m[2] == t)} |")
    for m in missing[:50]:
        print(f"- missing from palisade: {m}")
    for m in extra[:20]:
        print(f"- only in palisade: {m}")


if __name__ == "__main__":
    main()
