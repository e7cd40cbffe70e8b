//! Findings of the misconfig scanner (filled in by its issue).
