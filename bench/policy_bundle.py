#!/usr/bin/env python3
"""Build the benchmark policy bundle shared by bench/policy.sh and bench/admission.sh.

    python3 bench/policy_bundle.py WORK OUT [MAX_REGO MAX_CEL]

WORK holds the unpacked corpora (gatekeeper-general/, vap-cel/); OUT receives gatekeeper/ (each
library/general template with its first suite constraint), vap/ (the ValidatingAdmissionPolicy files of the
VAP corpus) and kyverno/pss-restricted.yaml (Pod Security "restricted" as a Kyverno podSecurity rule).
MAX_REGO and MAX_CEL cap how many templates and VAP files are taken (default: all).
"""
import os
import shutil
import sys

import yaml

PSS = """apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {name: pss-restricted}
spec:
  validationFailureAction: Enforce
  rules:
    - name: restricted
      match: {any: [{resources: {kinds: [Pod]}}]}
      validate:
        podSecurity: {level: restricted, version: latest}
"""


def main():
    work, out = sys.argv[1], sys.argv[2]
    max_rego = int(sys.argv[3]) if len(sys.argv) > 3 else 10**9
    max_cel = int(sys.argv[4]) if len(sys.argv) > 4 else 10**9
    for d in ("gatekeeper", "vap", "kyverno"):
        os.makedirs(os.path.join(out, d), exist_ok=True)
    general = os.path.join(work, "gatekeeper-general/library/general")
    n = 0
    for name in sorted(os.listdir(general)):
        suite = os.path.join(general, name, "suite.yaml")
        if not os.path.isfile(suite) or n == max_rego:
            continue
        test = yaml.safe_load(open(suite))["tests"][0]
        shutil.copy(os.path.join(general, name, test["template"]), f"{out}/gatekeeper/{name}-template.yaml")
        shutil.copy(os.path.join(general, name, test["constraint"]), f"{out}/gatekeeper/{name}-constraint.yaml")
        n += 1
    m = 0
    for root, _, files in sorted(os.walk(os.path.join(work, "vap-cel/test"))):
        for f in sorted(files):
            text = open(os.path.join(root, f)).read()
            if "kind: ValidatingAdmissionPolicy" in text and m < max_cel:
                m += 1
                shutil.copy(os.path.join(root, f), f"{out}/vap/{m:02d}-{f}")
    with open(os.path.join(out, "kyverno/pss-restricted.yaml"), "w") as fh:
        fh.write(PSS)


if __name__ == "__main__":
    main()
