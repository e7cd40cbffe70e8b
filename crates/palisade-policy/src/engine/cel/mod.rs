//! CEL policies: Kubernetes `ValidatingAdmissionPolicy` (+ bindings) and Kyverno `ValidatingPolicy`.
pub mod library;
