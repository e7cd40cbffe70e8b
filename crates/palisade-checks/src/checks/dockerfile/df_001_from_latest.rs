//! PAL-DF-001: Base image uses the latest tag.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, DfCx, Hit};
#[allow(unused_imports)]
use crate::dockerfile::{Dockerfile, split_image};
use palisade_core::findings::misconfig::Severity;

pub struct FromLatest;

static META: CheckMeta = CheckMeta {
    id: "PAL-DF-001",
    title: "Base image uses the latest tag",
    severity: Severity::Medium,
    groups: &["dockerfile"],
    rationale: "latest moves: builds are not reproducible and may silently pick up a broken or compromised base.",
    remediation: "Pin the base image to a version tag (and ideally a digest).",
    references: &["hadolint DL3007"],
    peers: &["hadolint:DL3007", "checkov:CKV_DOCKER_7"],
    ..CheckMeta::DF
};

impl Check for FromLatest {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn dockerfile(&self, df: &Dockerfile, cx: &DfCx<'_>, out: &mut Vec<Hit>) {
        for s in &df.stages {
            let (_, _, tag, digest) = split_image(&s.image);
            if tag.as_deref() == Some("latest") && digest.is_none() {
                out.push(Hit::pos(s.line, s.col, format!("FROM {} uses :latest; pin a version", s.image)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::FromLatest as C;

    const FAIL: &str = r#"FROM ubuntu:latest
"#;
    const PASS: &str = r#"FROM ubuntu:24.04
"#;

    crate::testutil::fixture_tests!(dockerfile, C, pass: PASS, fail: FAIL);
}
