//! PAL-DF-053: apt-get install without --no-install-recommends.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, DfCx, Hit};
#[allow(unused_imports)]
use crate::dockerfile::{Dockerfile, split_image};
use palisade_core::findings::misconfig::Severity;

pub struct AptNoRecommends;

static META: CheckMeta = CheckMeta {
    id: "PAL-DF-053",
    title: "apt-get install without --no-install-recommends",
    severity: Severity::Info,
    groups: &["dockerfile"],
    rationale: "Recommended packages bloat the image and add attack surface.",
    remediation: "Add --no-install-recommends.",
    references: &["hadolint DL3015"],
    peers: &["hadolint:DL3015"],
    ..CheckMeta::DF
};

impl Check for AptNoRecommends {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn dockerfile(&self, df: &Dockerfile, cx: &DfCx<'_>, out: &mut Vec<Hit>) {
        for (i, w) in run_cmds(df) {
            if is(&w, "apt-get")
                && sub(&w) == Some("install")
                && !has_opt(&w, &["--no-install-recommends"])
                && !w.iter().any(|x| x.contains("Install-Recommends=false"))
            {
                out.push(Hit::pos(i.line, i.col, "apt-get install without --no-install-recommends"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::AptNoRecommends as C;

    const FAIL: &str = r#"FROM debian:12
RUN apt-get install -y curl=7.88.1-10
"#;
    const PASS: &str = r#"FROM debian:12
RUN apt-get install -y --no-install-recommends curl=7.88.1-10
"#;

    crate::testutil::fixture_tests!(dockerfile, C, pass: PASS, fail: FAIL);
}
