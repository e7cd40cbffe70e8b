//! PAL-DF-003: Base image not pinned by digest.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, DfCx, Hit};
#[allow(unused_imports)]
use crate::dockerfile::{Dockerfile, split_image};
use palisade_core::findings::misconfig::Severity;

pub struct FromNoDigest;

static META: CheckMeta = CheckMeta {
    id: "PAL-DF-003",
    title: "Base image not pinned by digest",
    severity: Severity::Low,
    groups: &["dockerfile"],
    rationale: "Tags are mutable; only a digest pins the exact base image that was reviewed and scanned.",
    remediation: "Use FROM image:tag@sha256:<digest> (tools like Renovate keep digests fresh).",
    references: &["SLSA build integrity"],
    peers: &[],
    ..CheckMeta::DF
};

impl Check for FromNoDigest {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn dockerfile(&self, df: &Dockerfile, cx: &DfCx<'_>, out: &mut Vec<Hit>) {
        for s in &df.stages {
            let is_stage = df.stages[..s.index].iter().any(|p| p.alias.as_deref() == Some(s.image.as_str()));
            if !s.image.contains("@sha256:") && s.image != "scratch" && !is_stage {
                out.push(Hit::pos(
                    s.line,
                    s.col,
                    format!("FROM {} is not pinned by digest; append @sha256:<digest>", s.image),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::FromNoDigest as C;

    const FAIL: &str = r#"FROM ubuntu:24.04
"#;
    const PASS: &str = r#"FROM ubuntu:24.04@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
"#;

    crate::testutil::fixture_tests!(dockerfile, C, pass: PASS, fail: FAIL);
}
