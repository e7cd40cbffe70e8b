//! PAL-DF-013: Port 22 exposed.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, DfCx, Hit};
#[allow(unused_imports)]
use crate::dockerfile::{Dockerfile, split_image};
use palisade_core::findings::misconfig::Severity;

pub struct ExposeSsh;

static META: CheckMeta = CheckMeta {
    id: "PAL-DF-013",
    title: "Port 22 exposed",
    severity: Severity::Medium,
    groups: &["dockerfile"],
    rationale: "Shipping an SSH server in a container adds an unmanaged remote-access path.",
    remediation: "Remove EXPOSE 22 and the SSH server; use docker exec / kubectl exec.",
    references: &["CIS Docker 4.x"],
    peers: &["checkov:CKV_DOCKER_1"],
    ..CheckMeta::DF
};

impl Check for ExposeSsh {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn dockerfile(&self, df: &Dockerfile, cx: &DfCx<'_>, out: &mut Vec<Hit>) {
        for e in df.all("EXPOSE") {
            if e.words.iter().any(|p| p.split('/').next().is_some_and(|n| n == "22")) {
                out.push(Hit::pos(e.line, e.col, "EXPOSE 22 exposes SSH; remove it"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ExposeSsh as C;

    const FAIL: &str = r#"FROM alpine:3.20
EXPOSE 22
"#;
    const PASS: &str = r#"FROM alpine:3.20
EXPOSE 8080
"#;

    crate::testutil::fixture_tests!(dockerfile, C, pass: PASS, fail: FAIL);
}
