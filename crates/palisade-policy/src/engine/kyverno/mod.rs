//! Kyverno
