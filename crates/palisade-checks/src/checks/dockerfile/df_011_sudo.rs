//! PAL-DF-011: sudo used in RUN.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, DfCx, Hit};
#[allow(unused_imports)]
use crate::dockerfile::{Dockerfile, split_image};
use palisade_core::findings::misconfig::Severity;

pub struct Sudo;

static META: CheckMeta = CheckMeta {
    id: "PAL-DF-011",
    title: "sudo used in RUN",
    severity: Severity::Medium,
    groups: &["dockerfile"],
    rationale: "sudo in an image has unpredictable TTY and signal behaviour and suggests the image ships sudo for runtime escalation.",
    remediation: "Run the step as root (USER root) before switching to the app user, or use gosu for runtime drops.",
    references: &["hadolint DL3004"],
    peers: &["hadolint:DL3004", "checkov:CKV2_DOCKER_1"],
    ..CheckMeta::DF
};

impl Check for Sudo {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn dockerfile(&self, df: &Dockerfile, cx: &DfCx<'_>, out: &mut Vec<Hit>) {
        for i in df.all("RUN") {
            if i.commands().iter().any(|c| c.first().is_some_and(|w| basename(w) == "sudo")) {
                out.push(Hit::pos(i.line, i.col, "RUN uses sudo; run the step as root instead"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Sudo as C;

    const FAIL: &str = r#"FROM debian:12
RUN sudo apt-get update
"#;
    const PASS: &str = r#"FROM debian:12
RUN apt-get update
"#;

    crate::testutil::fixture_tests!(dockerfile, C, pass: PASS, fail: FAIL);
}
