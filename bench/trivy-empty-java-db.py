#!/usr/bin/env python3
"""Write an empty Trivy Java index DB (the trivy-java-db schema, no rows) into DIR.

Trivy refuses to scan jars offline without its Java index (sha1 -> Maven coordinates), which can only be
downloaded. With an empty one, jars are identified from their own manifests, as Palisade does.
Usage: trivy-empty-java-db.py CACHE_DIR/java-db
"""
import datetime, json, os, sqlite3, sys
d = sys.argv[1]; os.makedirs(d, exist_ok=True); p = os.path.join(d, "trivy-java.db")
if os.path.exists(p): os.remove(p)
c = sqlite3.connect(p)
c.executescript("""
CREATE TABLE artifacts(id INTEGER PRIMARY KEY, group_id TEXT, artifact_id TEXT);
CREATE TABLE indices(artifact_id INTEGER, version TEXT, sha1 BLOB, archive_type TEXT,
                     FOREIGN KEY (artifact_id) REFERENCES artifacts(id));
CREATE UNIQUE INDEX artifacts_idx ON artifacts(artifact_id, group_id);
CREATE INDEX indices_artifact_idx ON indices(artifact_id);
CREATE UNIQUE INDEX indices_sha1_idx ON indices(sha1);
""")
c.commit(); c.close()
now = datetime.datetime.now(datetime.timezone.utc)
ts = lambda t: t.strftime("%Y-%m-%dT%H:%M:%S.000000Z")
json.dump({"Version": 1, "NextUpdate": ts(now + datetime.timedelta(days=3650)), "UpdatedAt": ts(now),
           "DownloadedAt": ts(now)}, open(os.path.join(d, "metadata.json"), "w"))
