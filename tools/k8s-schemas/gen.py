#!/usr/bin/env python3
"""Regenerate crates/palisade-checks/schemas/k8s-1.NN.json.gz from the k8s-openapi crate.

k8s-openapi carries the Kubernetes API types of several minor versions, one version per build (cargo
feature `v1_NN`), with schemars JSON Schemas generated from the upstream OpenAPI documents. For each
version this script lists the resource types of that version in k8s-openapi's source, builds a tiny dumper
with that feature, and converts the schemas to Palisade's compact form (see
crates/palisade-checks/src/schema/mod.rs): descriptions dropped, `$ref`s kept as definition names.

Usage: python3 tools/k8s-schemas/gen.py 34 35 36 37   (needs cargo and crates.io)
"""
import glob, gzip, json, os, re, subprocess, sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
K8S_OPENAPI = "0.29.0"
OUT = os.path.join(ROOT, "crates", "palisade-checks", "schemas")


def crate_src():
    subprocess.run(["cargo", "fetch", "--manifest-path", os.path.join(HERE, "dumper", "Cargo.toml")], check=True)
    home = os.environ.get("CARGO_HOME", os.path.expanduser("~/.cargo"))
    hits = glob.glob(os.path.join(home, "registry", "src", "*", f"k8s-openapi-{K8S_OPENAPI}", "src"))
    if not hits:
        sys.exit("k8s-openapi source not found")
    return hits[0]


def resources(src, minor):
    """(rust path, apiVersion, kind) of every resource type of this version."""
    base = os.path.join(src, f"v1_{minor}")
    out = []
    for f in sorted(glob.glob(os.path.join(base, "**", "*.rs"), recursive=True)):
        text = open(f).read()
        for m in re.finditer(r'impl crate::Resource for (\w+) \{\s*const API_VERSION: &\'static str = "([^"]+)";\s*const GROUP: &\'static str = "[^"]*";\s*const KIND: &\'static str = "([^"]+)";', text):
            rel = os.path.relpath(f, base)[:-3].split(os.sep)
            mod = "::".join(rel[:-1])
            out.append((f"k8s_openapi::{mod}::{m.group(1)}", m.group(2), m.group(3)))
    return out


def compact(s):
    """schemars JSON Schema -> compact node."""
    if s is True or s == {}:
        return {"t": "any"}
    if "$ref" in s:
        return {"$": s["$ref"].rsplit("/", 1)[1]}
    if s.get("x-kubernetes-int-or-string"):
        return {"t": "ios"}
    n = {}
    t = s.get("type")
    if isinstance(t, list):
        t = [x for x in t if x != "null"]
        t = t[0] if len(t) == 1 else None
    if t:
        n["t"] = t
    if "format" in s:
        n["f"] = s["format"]
    if "properties" in s:
        n["p"] = {k: compact(v) for k, v in s["properties"].items()}
    if s.get("required"):
        n["r"] = s["required"]
    if "items" in s:
        n["i"] = compact(s["items"])
    if "additionalProperties" in s:
        ap = s["additionalProperties"]
        n["a"] = compact(ap) if isinstance(ap, dict) else {"t": "any"} if ap else {"t": "none"}
    if s.get("x-kubernetes-preserve-unknown-fields"):
        n["u"] = True
    if "enum" in s:
        n["e"] = s["enum"]
    if "oneOf" in s or "anyOf" in s:
        n = {"t": "any"}
    if not n:
        n = {"t": "any"}
    return n


def main():
    minors = [int(a) for a in sys.argv[1:]] or [34, 35, 36, 37]
    src = crate_src()
    os.makedirs(OUT, exist_ok=True)
    for minor in minors:
        res = resources(src, minor)
        lines = ["pub fn dump(g: &mut schemars::SchemaGenerator) -> Vec<(&'static str, &'static str, schemars::Schema)> {", "    vec!["]
        for path, api, kind in res:
            lines.append(f'        ("{api}", "{kind}", g.subschema_for::<{path}>()),')
        lines += ["    ]", "}"]
        open(os.path.join(HERE, "dumper", "src", "types.rs"), "w").write("\n".join(lines) + "\n")
        raw = subprocess.run(
            ["cargo", "run", "--quiet", "--manifest-path", os.path.join(HERE, "dumper", "Cargo.toml"),
             "--no-default-features", "--features", f"k8s-openapi/v1_{minor}"],
            check=True, capture_output=True).stdout
        d = json.loads(raw)
        kinds = {f'{api}/{kind}': s["$ref"].rsplit("/", 1)[1] for api, kind, s in d["kinds"]}
        defs = {k: compact(v) for k, v in sorted(d["defs"].items())}
        doc = {"version": f"1.{minor}", "source": f"k8s-openapi {K8S_OPENAPI} (feature v1_{minor}, schemars)",
               "kinds": dict(sorted(kinds.items())), "defs": defs}
        data = json.dumps(doc, separators=(",", ":"), sort_keys=True).encode()
        path = os.path.join(OUT, f"k8s-1.{minor}.json.gz")
        with open(path, "wb") as f:
            f.write(gzip.compress(data, 9, mtime=0))
        print(f"1.{minor}: {len(kinds)} kinds, {len(defs)} definitions, {len(data)} bytes, {os.path.getsize(path)} gzipped")


if __name__ == "__main__":
    main()
