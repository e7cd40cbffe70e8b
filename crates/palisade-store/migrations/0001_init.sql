-- Palisade image store, schema 1. The same statements run on SQLite and PostgreSQL: only TEXT, BIGINT and
-- BYTEA columns (SQLite stores a BYTEA value as the blob it is given), keys computed by Palisade (no
-- autoincrement), times as RFC 3339 text, JSON as text.

-- One row per image: a platform's manifest digest (never an index), `id` derived from it.
CREATE TABLE images (
    id BIGINT PRIMARY KEY,
    digest TEXT NOT NULL,
    platform TEXT NOT NULL,
    repository TEXT NOT NULL,
    created TEXT,
    labels TEXT NOT NULL,
    base_image TEXT,
    layers TEXT NOT NULL,
    os TEXT,
    package_count BIGINT NOT NULL,
    scanned_at TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    -- The vulnerability DB version the image was last matched against (NULL: never matched).
    db_version TEXT,
    critical BIGINT NOT NULL DEFAULT 0,
    high BIGINT NOT NULL DEFAULT 0,
    medium BIGINT NOT NULL DEFAULT 0,
    low BIGINT NOT NULL DEFAULT 0,
    unknown BIGINT NOT NULL DEFAULT 0,
    fixable BIGINT NOT NULL DEFAULT 0,
    UNIQUE (digest)
);

-- Tags pointing at an image, per repository; a tag moved to another digest keeps its old row until pruned.
CREATE TABLE tags (
    repository TEXT NOT NULL,
    tag TEXT NOT NULL,
    image_id BIGINT NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    seen_at TEXT NOT NULL,
    PRIMARY KEY (repository, tag, image_id)
);

-- The SBOM of each image, once, zstd-compressed.
CREATE TABLE sboms (
    image_id BIGINT PRIMARY KEY REFERENCES images (id) ON DELETE CASCADE,
    format TEXT NOT NULL,
    raw_size BIGINT NOT NULL,
    data BYTEA NOT NULL
);

-- Distinct matchable packages over all images. `ecosystem` and `name` are the vulnerability DB's match keys
-- (OS packages by source package and release); `data` holds what matching needs (package and OS, JSON).
CREATE TABLE packages (
    id BIGINT PRIMARY KEY,
    ecosystem TEXT NOT NULL,
    name TEXT NOT NULL,
    purl TEXT NOT NULL,
    data TEXT NOT NULL,
    -- 0 until matched once.
    matched BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX packages_key ON packages (ecosystem, name);

CREATE TABLE image_packages (
    image_id BIGINT NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    package_id BIGINT NOT NULL,
    PRIMARY KEY (image_id, package_id)
);
CREATE INDEX image_packages_package ON image_packages (package_id);

-- What the vulnerability DB said about each (ecosystem, name) at the last match.
CREATE TABLE advisory_fingerprints (
    ecosystem TEXT NOT NULL,
    name TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    db_version TEXT NOT NULL,
    PRIMARY KEY (ecosystem, name)
);

-- Current match results of each distinct package.
CREATE TABLE package_findings (
    package_id BIGINT NOT NULL,
    vuln_id TEXT NOT NULL,
    severity TEXT NOT NULL,
    status TEXT NOT NULL,
    fixed_version TEXT,
    title TEXT,
    PRIMARY KEY (package_id, vuln_id)
);

-- Scan results per (image, DB version): counts, and what changed against the previous match.
CREATE TABLE scan_results (
    image_id BIGINT NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    db_version TEXT NOT NULL,
    matched_at TEXT NOT NULL,
    critical BIGINT NOT NULL,
    high BIGINT NOT NULL,
    medium BIGINT NOT NULL,
    low BIGINT NOT NULL,
    unknown BIGINT NOT NULL,
    fixable BIGINT NOT NULL,
    new_findings BIGINT NOT NULL,
    fixed_findings BIGINT NOT NULL,
    PRIMARY KEY (image_id, db_version)
);

-- Every (image, vulnerability, package) ever found: first seen, fixed, reappeared.
CREATE TABLE finding_history (
    image_id BIGINT NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    vuln_id TEXT NOT NULL,
    purl TEXT NOT NULL,
    severity TEXT NOT NULL,
    state TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    fixed_at TEXT,
    reappeared_at TEXT,
    PRIMARY KEY (image_id, vuln_id, purl)
);

-- Decisions and waivers: a vulnerability accepted, waived or marked not affected, for one image digest or
-- every image ('*'), optionally one package, until an optional expiry.
CREATE TABLE decisions (
    id TEXT PRIMARY KEY,
    scope TEXT NOT NULL,
    vuln_id TEXT NOT NULL,
    purl TEXT,
    decision TEXT NOT NULL,
    reason TEXT NOT NULL,
    author TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT
);

-- Retention and size bounds (see palisade_store::Retention).
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
