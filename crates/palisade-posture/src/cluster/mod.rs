//! Cluster scan: relational checks across a dump and the cluster's own component versions.
