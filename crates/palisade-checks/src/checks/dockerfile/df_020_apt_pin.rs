//! PAL-DF-020: apt-get install without version pins.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, DfCx, Hit};
#[allow(unused_imports)]
use crate::dockerfile::{Dockerfile, split_image};
use palisade_core::findings::misconfig::Severity;

pub struct AptPin;

static META: CheckMeta = CheckMeta {
    id: "PAL-DF-020",
    title: "apt-get install without version pins",
    severity: Severity::Low,
    groups: &["dockerfile"],
    rationale: "Unpinned packages make builds unreproducible.",
    remediation: "Pin versions: apt-get install pkg=1.2.3-1.",
    references: &["hadolint DL3008"],
    peers: &["hadolint:DL3008"],
    ..CheckMeta::DF
};

impl Check for AptPin {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn dockerfile(&self, df: &Dockerfile, cx: &DfCx<'_>, out: &mut Vec<Hit>) {
        for (i, w) in run_cmds(df) {
            if is(&w, "apt-get")
                && sub(&w) == Some("install")
                && packages(&w, "install").iter().any(|p| !p.contains('=') && !p.ends_with(".deb"))
            {
                out.push(Hit::pos(i.line, i.col, "apt-get install without pinned versions (pkg=version)"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::AptPin as C;

    const FAIL: &str = r#"FROM debian:12
RUN apt-get install -y curl
"#;
    const PASS: &str = r#"FROM debian:12
RUN apt-get install -y curl=7.88.1-10
"#;

    crate::testutil::fixture_tests!(dockerfile, C, pass: PASS, fail: FAIL);
}
