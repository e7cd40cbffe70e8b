//! Findings of the secret scanner (filled in by its issue).
