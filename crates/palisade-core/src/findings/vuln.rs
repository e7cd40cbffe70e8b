//! Findings of the vuln scanner (filled in by its issue).
