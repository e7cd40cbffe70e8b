//! Compliance framework mappings.
