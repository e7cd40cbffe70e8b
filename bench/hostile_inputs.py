#!/usr/bin/env python3
"""Generate the memory cases of issue 11 (hostile input) into a directory, for bench/hostile-memory.sh.

Usage: hostile_inputs.py DIR CASE SCALE

SCALE 1.0 is the size the issue gives (3M tar entries, 1M dpkg packages, 100k Pods, 1M CycloneDX
components, 2M SPDX relationships, 200 MB of one-line YAML); smaller scales keep the same shape.
Each case prints the command arguments (after `palisade`) that scan it, one per line, `{db}` standing for
the vulnerability DB.
"""

import hashlib
import json
import os
import subprocess
import sys
import zlib


def tar_header(name: str, size: int = 0, typeflag: bytes = b"0") -> bytes:
    h = bytearray(512)
    h[0 : len(name)] = name.encode()
    h[100:108] = b"0000644\0"
    h[108:116] = b"0000000\0"
    h[116:124] = b"0000000\0"
    h[124:136] = b"%011o\0" % size
    h[136:148] = b"%011o\0" % 0
    h[148:156] = b" " * 8
    h[156:157] = typeflag
    h[257:263] = b"ustar\0"
    h[263:265] = b"00"
    h[148:156] = b"%06o\0 " % sum(h)
    return bytes(h)


def blob(dirp: str, data: bytes) -> str:
    d = hashlib.sha256(data).hexdigest()
    with open(os.path.join(dirp, "blobs", "sha256", d), "wb") as f:
        f.write(data)
    return d


def oci_entries(out: str, scale: float) -> list[str]:
    """An OCI layout whose one gzip layer holds N empty files (3M at scale 1: a 26 MB image)."""
    n = int(3_000_000 * scale)
    lay = os.path.join(out, "entries.oci")
    os.makedirs(os.path.join(lay, "blobs", "sha256"), exist_ok=True)
    tmp = os.path.join(lay, "layer.tmp")
    raw = hashlib.sha256()
    comp = zlib.compressobj(1, zlib.DEFLATED, 31)
    with open(tmp, "wb") as f:
        chunk = []
        for i in range(n):
            chunk.append(tar_header(f"d{i // 10000}/f{i}"))
            if len(chunk) == 4096:
                b = b"".join(chunk)
                raw.update(b)
                f.write(comp.compress(b))
                chunk = []
        b = b"".join(chunk) + b"\0" * 1024
        raw.update(b)
        f.write(comp.compress(b))
        f.write(comp.flush())
    data = open(tmp, "rb").read()
    os.remove(tmp)
    layer = blob(lay, data)
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {},
            "rootfs": {"type": "layers", "diff_ids": ["sha256:" + raw.hexdigest()]},
        }
    ).encode()
    cfg = blob(lay, config)
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:" + cfg, "size": len(config)},
            "layers": [
                {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": "sha256:" + layer, "size": len(data)}
            ],
        }
    ).encode()
    man = blob(lay, manifest)
    index = {
        "schemaVersion": 2,
        "manifests": [
            {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": "sha256:" + man,
                "size": len(manifest),
                "annotations": {"org.opencontainers.image.ref.name": "latest"},
            }
        ],
    }
    open(os.path.join(lay, "index.json"), "w").write(json.dumps(index))
    open(os.path.join(lay, "oci-layout"), "w").write('{"imageLayoutVersion":"1.0.0"}')
    return [f"scan image --input {lay} --scanners secret,package --format json -o /dev/null"]


def dpkg_stanza(i: int) -> str:
    """About 96 bytes: 1M of them make the 96 MB status file of the issue."""
    return f"Package: p{i}\nStatus: install ok installed\nArchitecture: amd64\nSource: s{i // 4}\nVersion: 1.{i}-1\n\n"


def write_rootfs(out: str, name: str, n: int, pad: int = 0) -> str:
    root = os.path.join(out, name)
    os.makedirs(os.path.join(root, "var/lib/dpkg"), exist_ok=True)
    os.makedirs(os.path.join(root, "etc"), exist_ok=True)
    open(os.path.join(root, "etc/os-release"), "w").write('ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n')
    with open(os.path.join(root, "var/lib/dpkg/status"), "w") as f:
        buf = []
        for i in range(n):
            buf.append(dpkg_stanza(i))
            if len(buf) == 10000:
                f.write("".join(buf))
                buf = []
        f.write("".join(buf))
        left = pad
        block = "#" * (1 << 20)
        while left > 0:
            f.write(block[: min(left, len(block))])
            left -= len(block)
    return root


def dpkg(out: str, scale: float) -> list[str]:
    """A rootfs whose dpkg status lists N packages (1M at scale 1: 96 MB), scanned with table output."""
    root = write_rootfs(out, "dpkg-root", int(1_000_000 * scale))
    return [f"scan rootfs {root} --scanners vuln,package --db {{db}} --format table -o /dev/null"]


def pods(out: str, scale: float) -> list[str]:
    """N privileged Pods in one YAML stream (100k at scale 1: 15 MB)."""
    p = os.path.join(out, "pods.yaml")
    with open(p, "w") as f:
        for i in range(int(100_000 * scale)):
            f.write(
                f"---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: pod-{i}\n  namespace: default\nspec:\n"
                f"  containers:\n  - name: c\n    image: nginx:1.27\n    securityContext:\n      privileged: true\n"
                f"    ports:\n    - containerPort: 80\n"
            )
    return [f"scan config {p} --format json -o /dev/null"]


def git_big(out: str, scale: float) -> list[str]:
    """A git repository whose history holds a blob object declaring 4 GiB (its data is short) beside a
    commit with a secret; `scan repo --history`."""
    repo = os.path.join(out, "bigobj.git")
    env = dict(os.environ, GIT_AUTHOR_NAME="a", GIT_AUTHOR_EMAIL="a@b", GIT_COMMITTER_NAME="a", GIT_COMMITTER_EMAIL="a@b")
    run = lambda *a, **k: subprocess.run(["git", "-C", repo, *a], check=True, env=env, capture_output=True, **k)
    os.makedirs(repo, exist_ok=True)
    subprocess.run(["git", "init", "-q", "-b", "main", repo], check=True)
    open(os.path.join(repo, "creds.txt"), "w").write("aws_access_key_id = AKIAZ7Y6X5W4V3U2T3S4\n")
    run("add", "creds.txt")
    run("commit", "-q", "-m", "secret")
    # A loose object whose header declares 4 GiB; the data is 1 MiB of zeros.
    body = b"\0" * (1 << 20)
    raw = b"blob 4294967296\0" + body
    oid = hashlib.sha1(raw).hexdigest()
    d = os.path.join(repo, ".git", "objects", oid[:2])
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, oid[2:]), "wb") as f:
        f.write(zlib.compress(raw))
    tree = run("mktree", "--missing", input=f"100644 blob {oid}\thuge.bin\n".encode()).stdout.decode().strip()
    head = run("rev-parse", "HEAD").stdout.decode().strip()
    commit = run("commit-tree", tree, "-p", head, "-m", "huge", ).stdout.decode().strip()
    run("update-ref", "refs/heads/main", commit)
    open(os.path.join(repo, "later.txt"), "w").write("ok\n")
    run("add", "later.txt")
    return [f"scan repo {repo} --history --scanners secret --format json -o /dev/null"]


def cyclonedx(out: str, scale: float) -> list[str]:
    """A CycloneDX JSON document with N components (1M at scale 1)."""
    p = os.path.join(out, "bom.cdx.json")
    with open(p, "w") as f:
        f.write('{"bomFormat":"CycloneDX","specVersion":"1.6","version":1,"components":[')
        n = int(1_000_000 * scale)
        for i in range(n):
            f.write(
                ("," if i else "")
                + json.dumps({"type": "library", "bom-ref": f"pkg:npm/p{i}@1.0.{i}", "name": f"p{i}", "version": f"1.0.{i}", "purl": f"pkg:npm/p{i}@1.0.{i}"})
            )
        f.write("]}")
    return [f"scan sbom {p} --db {{db}} --format json -o /dev/null"]


def spdx(out: str, scale: float) -> list[str]:
    """An SPDX 2.3 JSON document with 1,000 packages and N relationships (2M at scale 1)."""
    p = os.path.join(out, "doc.spdx.json")
    pk = 1000
    with open(p, "w") as f:
        f.write('{"spdxVersion":"SPDX-2.3","dataLicense":"CC0-1.0","SPDXID":"SPDXRef-DOCUMENT","name":"x",')
        f.write('"documentNamespace":"https://example.org/x","creationInfo":{"created":"2026-01-01T00:00:00Z","creators":["Tool: gen"]},"packages":[')
        f.write(",".join(json.dumps({"SPDXID": f"SPDXRef-p{i}", "name": f"p{i}", "versionInfo": "1.0.0", "downloadLocation": "NOASSERTION",
                                     "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": f"pkg:npm/p{i}@1.0.0"}]}) for i in range(pk)))
        f.write('],"relationships":[')
        n = int(2_000_000 * scale)
        for i in range(n):
            f.write(("," if i else "") + json.dumps({"spdxElementId": f"SPDXRef-p{i % pk}", "relationshipType": "DEPENDS_ON", "relatedSpdxElement": f"SPDXRef-p{(i * 7 + 1) % pk}"}))
        f.write("]}")
    return [f"scan sbom {p} --db {{db}} --format json -o /dev/null"]


def one_line_yaml(out: str, scale: float) -> list[str]:
    """One line of YAML (200 MB at scale 1): a flow sequence of short scalars."""
    p = os.path.join(out, "oneline.yaml")
    n = int(200_000_000 * scale)
    with open(p, "w") as f:
        f.write("items: [")
        item = "abc, " * 200_000
        left = n
        while left > 0:
            f.write(item[: min(left, len(item))])
            left -= len(item)
        f.write("x]\n")
    return [f"scan config {p} --format json -o /dev/null"]


def stdin_zero(out: str, scale: float) -> list[str]:
    """`scan config -` fed from /dev/zero."""
    return ["scan config - --format json -o /dev/null < /dev/zero"]


CASES = {
    "oci-entries": oci_entries,
    "dpkg": dpkg,
    "pods": pods,
    "git-4gib": git_big,
    "cyclonedx": cyclonedx,
    "spdx": spdx,
    "oneline-yaml": one_line_yaml,
    "stdin-zero": stdin_zero,
}

if __name__ == "__main__":
    out, case, scale = sys.argv[1], sys.argv[2], float(sys.argv[3])
    for line in CASES[case](out, scale):
        print(line)
