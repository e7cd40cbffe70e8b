//! Empty: only the dependency graph matters.
