//! PAL-DF-028: apt-get allows unauthenticated packages.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, DfCx, Hit};
#[allow(unused_imports)]
use crate::dockerfile::{Dockerfile, split_image};
use palisade_core::findings::misconfig::Severity;

pub struct AptUnauthenticated;

static META: CheckMeta = CheckMeta {
    id: "PAL-DF-028",
    title: "apt-get allows unauthenticated packages",
    severity: Severity::High,
    groups: &["dockerfile"],
    rationale: "--allow-unauthenticated / --force-yes install packages whose signatures failed, defeating repository signing.",
    remediation: "Remove the flag and fix the repository key.",
    references: &["CWE-347"],
    peers: &["checkov:CKV2_DOCKER_7", "checkov:CKV2_DOCKER_8"],
    ..CheckMeta::DF
};

impl Check for AptUnauthenticated {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn dockerfile(&self, df: &Dockerfile, cx: &DfCx<'_>, out: &mut Vec<Hit>) {
        for (i, w) in run_cmds(df) {
            if (is(&w, "apt-get") || is(&w, "apt"))
                && has_opt(&w, &["--allow-unauthenticated", "--force-yes", "--allow-insecure-repositories"])
            {
                out.push(Hit::pos(i.line, i.col, "apt-get installs unauthenticated packages"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::AptUnauthenticated as C;

    const FAIL: &str = r#"FROM debian:12
RUN apt-get install -y --allow-unauthenticated curl
"#;
    const PASS: &str = r#"FROM debian:12
RUN apt-get install -y curl
"#;

    crate::testutil::fixture_tests!(dockerfile, C, pass: PASS, fail: FAIL);
}
