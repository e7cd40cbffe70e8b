-- Schema 2: the work queue `palisade watch` replicas share, and leases for jobs only one replica should run.

-- One row per image (platform manifest digest) to scan. `watch` replicas claim pending rows (PostgreSQL:
-- `FOR UPDATE SKIP LOCKED`, so two replicas never claim the same row; SQLite: one writer at a time), mark
-- them done or failed, and a claim older than the stale limit (a replica that died) is claimed again.
-- Done rows stay, so a digest enqueued again while or after it is scanned is not scanned twice.
CREATE TABLE scan_queue (
    digest TEXT PRIMARY KEY,
    repository TEXT NOT NULL,
    -- JSON array of the repository's tags standing for the digest.
    tags TEXT NOT NULL,
    platform TEXT,
    -- pending | claimed | done | failed
    state TEXT NOT NULL,
    claimed_by TEXT,
    claimed_at TEXT,
    attempts BIGINT NOT NULL DEFAULT 0,
    error TEXT,
    enqueued_at TEXT NOT NULL
);
CREATE INDEX scan_queue_state ON scan_queue (state, enqueued_at);

-- A named job held by one replica until `until` (RFC 3339 text, ordered as time).
CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    until TEXT NOT NULL
);
