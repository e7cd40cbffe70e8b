//! PAL-DF-021: apt-get install without -y.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, DfCx, Hit};
#[allow(unused_imports)]
use crate::dockerfile::{Dockerfile, split_image};
use palisade_core::findings::misconfig::Severity;

pub struct AptYes;

static META: CheckMeta = CheckMeta {
    id: "PAL-DF-021",
    title: "apt-get install without -y",
    severity: Severity::Info,
    groups: &["dockerfile"],
    rationale: "Without -y the build waits for confirmation and fails or hangs.",
    remediation: "Add -y (or --yes / --assume-yes).",
    references: &["hadolint DL3014"],
    peers: &["hadolint:DL3014"],
    ..CheckMeta::DF
};

impl Check for AptYes {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn dockerfile(&self, df: &Dockerfile, cx: &DfCx<'_>, out: &mut Vec<Hit>) {
        for (i, w) in run_cmds(df) {
            if is(&w, "apt-get")
                && sub(&w) == Some("install")
                && !has_opt(&w, &["-y", "--yes", "--assume-yes", "-qq"])
            {
                out.push(Hit::pos(i.line, i.col, "apt-get install without -y"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::AptYes as C;

    const FAIL: &str = r#"FROM debian:12
RUN apt-get install curl
"#;
    const PASS: &str = r#"FROM debian:12
RUN apt-get install -qy curl
"#;

    crate::testutil::fixture_tests!(dockerfile, C, pass: PASS, fail: FAIL);
}
