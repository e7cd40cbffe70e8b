"""Evaluate Rego jobs with real OPA (PyPI opa-golib-python-bindings) for the differential test.

stdin: {"groups": {GROUP: [[path, source], ...]}, "jobs": [{"id", "group", "query", "input", "data"}]}
stdout: {ID: {"value": VALUE} | {"undefined": true} | {"error": TEXT}}, plus {"_load": {GROUP: TEXT}}
for groups whose modules OPA does not load and {"_timing": {ID: SECONDS}} (each evaluation call). Exit 3 when the bindings cannot be imported.
"""
import json
import sys
import time

try:
    from opa_bindings import OpaEngine, OpaUndefinedError
except Exception as e:  # the bindings are optional: the test skips
    print(f"opa_bindings unavailable: {e}", file=sys.stderr)
    sys.exit(3)

req = json.load(sys.stdin)
out = {"_load": {}}
engines = {}


def engine_for(group, data):
    key = (group, json.dumps(data, sort_keys=True) if data else "")
    if key in engines:
        return engines[key]
    e = OpaEngine()
    try:
        for path, src in req["groups"][group]:
            e.add_policy(path, src)
        if data:
            e.add_data(data)
    except Exception as ex:
        out["_load"][group] = str(ex)
        e = None
    engines[key] = e
    return e


# Seconds each job's evaluation took (the bindings' call: input marshalling, OPA's evaluation, the result).
timing = {}

for job in req["jobs"]:
    e = engine_for(job["group"], job.get("data"))
    if e is None:
        out[job["id"]] = {"error": "load: " + out["_load"].get(job["group"], "")}
        continue
    started = time.perf_counter()
    try:
        out[job["id"]] = {"value": e.eval_document(job["query"], job["input"])}
    except OpaUndefinedError:
        out[job["id"]] = {"undefined": True}
    except Exception as ex:
        out[job["id"]] = {"error": str(ex)}
    timing[job["id"]] = time.perf_counter() - started

out["_timing"] = timing

json.dump(out, sys.stdout)
