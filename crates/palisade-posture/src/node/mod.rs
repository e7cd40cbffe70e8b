//! CIS Kubernetes Benchmark node checks.
