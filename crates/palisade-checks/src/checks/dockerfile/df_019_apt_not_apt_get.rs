//! PAL-DF-019: apt used instead of apt-get.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, DfCx, Hit};
#[allow(unused_imports)]
use crate::dockerfile::{Dockerfile, split_image};
use palisade_core::findings::misconfig::Severity;

pub struct AptNotAptGet;

static META: CheckMeta = CheckMeta {
    id: "PAL-DF-019",
    title: "apt used instead of apt-get",
    severity: Severity::Low,
    groups: &["dockerfile"],
    rationale: "apt's CLI is not stable for scripts and prints warnings; apt-get is meant for non-interactive use.",
    remediation: "Use apt-get (or apt-cache).",
    references: &["hadolint DL3027"],
    peers: &["hadolint:DL3027", "checkov:CKV_DOCKER_9"],
    ..CheckMeta::DF
};

impl Check for AptNotAptGet {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn dockerfile(&self, df: &Dockerfile, cx: &DfCx<'_>, out: &mut Vec<Hit>) {
        for (i, w) in run_cmds(df) {
            if is(&w, "apt")
                && matches!(
                    sub(&w),
                    Some("install" | "update" | "upgrade" | "remove" | "dist-upgrade" | "full-upgrade")
                )
            {
                out.push(Hit::pos(i.line, i.col, "use apt-get instead of apt in scripts"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::AptNotAptGet as C;

    const FAIL: &str = r#"FROM debian:12
RUN apt install -y curl
"#;
    const PASS: &str = r#"FROM debian:12
RUN apt-get install -y curl
"#;

    crate::testutil::fixture_tests!(dockerfile, C, pass: PASS, fail: FAIL);
}
