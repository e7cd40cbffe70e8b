//! PAL-DF-015: No HEALTHCHECK.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, DfCx, Hit};
#[allow(unused_imports)]
use crate::dockerfile::{Dockerfile, split_image};
use palisade_core::findings::misconfig::Severity;

pub struct NoHealthcheck;

static META: CheckMeta = CheckMeta {
    id: "PAL-DF-015",
    title: "No HEALTHCHECK",
    severity: Severity::Low,
    groups: &["dockerfile"],
    rationale: "Without a HEALTHCHECK the engine cannot detect a hung container (Kubernetes uses probes instead).",
    remediation: "Add HEALTHCHECK CMD <command> to the final stage (or HEALTHCHECK NONE to state that none is wanted).",
    references: &["CIS Docker 4.6"],
    peers: &["checkov:CKV_DOCKER_2", "hadolint:DL3057"],
    ..CheckMeta::DF
};

impl Check for NoHealthcheck {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn dockerfile(&self, df: &Dockerfile, cx: &DfCx<'_>, out: &mut Vec<Hit>) {
        if df.stages.is_empty() || df.all("HEALTHCHECK").next().is_some() {
            return;
        }
        if let Some(s) = df.final_stage() {
            out.push(Hit::pos(s.line, s.col, "no HEALTHCHECK instruction; add one"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::NoHealthcheck as C;

    const FAIL: &str = r#"FROM alpine:3.20
"#;
    const PASS: &str = r#"FROM alpine:3.20
HEALTHCHECK CMD wget -q --spider http://localhost/ || exit 1
"#;

    crate::testutil::fixture_tests!(dockerfile, C, pass: PASS, fail: FAIL);
}
