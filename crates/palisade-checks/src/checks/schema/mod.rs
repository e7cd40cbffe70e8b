//! Schema checks (`PAL-SCH-nnn`): Kubernetes objects validated against the API schema of the targeted
//! Kubernetes version (see [`crate::schema`]).

pub mod sch_001_api_schema;
