//! PAL-DF-002: Base image has no tag.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, DfCx, Hit};
#[allow(unused_imports)]
use crate::dockerfile::{Dockerfile, split_image};
use palisade_core::findings::misconfig::Severity;

pub struct FromUntagged;

static META: CheckMeta = CheckMeta {
    id: "PAL-DF-002",
    title: "Base image has no tag",
    severity: Severity::Medium,
    groups: &["dockerfile"],
    rationale: "An untagged image means latest, with the same reproducibility and supply-chain problems.",
    remediation: "Add an explicit version tag to FROM.",
    references: &["hadolint DL3006"],
    peers: &["hadolint:DL3006", "checkov:CKV_DOCKER_7"],
    ..CheckMeta::DF
};

impl Check for FromUntagged {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn dockerfile(&self, df: &Dockerfile, cx: &DfCx<'_>, out: &mut Vec<Hit>) {
        for s in &df.stages {
            let (_, _, tag, digest) = split_image(&s.image);
            if tag.is_none()
                && digest.is_none()
                && s.image != "scratch"
                && !df.stages[..s.index].iter().any(|p| p.alias.as_deref() == Some(s.image.as_str()))
                && !s.image.is_empty()
            {
                out.push(Hit::pos(s.line, s.col, format!("FROM {} has no tag; pin a version", s.image)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::FromUntagged as C;

    const FAIL: &str = r#"FROM ubuntu
"#;
    const PASS: &str = r#"FROM ubuntu:24.04 AS base
FROM base
"#;

    crate::testutil::fixture_tests!(dockerfile, C, pass: PASS, fail: FAIL);
}
