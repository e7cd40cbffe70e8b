//! Cluster posture, read offline from what a cluster is made of:
//!
//! - [`rbac`]: effective permissions per subject from Roles, ClusterRoles (aggregation included) and their
//!   bindings, `who-can`/`can` queries, and risk findings each with the binding chain that grants it;
//! - [`node`]: the CIS Kubernetes Benchmark's node checks (worker and control plane) on a node's file tree;
//! - [`cluster`]: relational checks across a cluster dump and the versions of the cluster's own components;
//! - [`compliance`]: framework mappings (data files) judged against scan, cluster and node results.
//!
//! Everything starts from a [`palisade_checks::dump::Dump`] (a `kubectl get -A -o yaml` dump, `-o json`
//! lists or manifest directories) or a directory tree: no API server is needed, or contacted.

pub mod cluster;
pub mod compliance;
pub mod node;
pub mod rbac;
pub mod report;

pub use palisade_core::Severity;
