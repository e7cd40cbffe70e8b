//! PAL-DF-054: apk add without version pins.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, DfCx, Hit};
#[allow(unused_imports)]
use crate::dockerfile::{Dockerfile, split_image};
use palisade_core::findings::misconfig::Severity;

pub struct ApkPin;

static META: CheckMeta = CheckMeta {
    id: "PAL-DF-054",
    title: "apk add without version pins",
    severity: Severity::Low,
    groups: &["dockerfile"],
    rationale: "Unpinned packages make builds unreproducible.",
    remediation: "Pin versions: apk add pkg=1.2.3-r0.",
    references: &["hadolint DL3018"],
    peers: &["hadolint:DL3018"],
    ..CheckMeta::DF
};

impl Check for ApkPin {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn dockerfile(&self, df: &Dockerfile, cx: &DfCx<'_>, out: &mut Vec<Hit>) {
        for (i, w) in run_cmds(df) {
            if is(&w, "apk")
                && sub(&w) == Some("add")
                && packages(&w, "add")
                    .iter()
                    .any(|p| !p.contains('=') && !p.ends_with(".apk") && !p.starts_with('.'))
            {
                out.push(Hit::pos(i.line, i.col, "apk add without pinned versions (pkg=version)"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ApkPin as C;

    const FAIL: &str = r#"FROM alpine:3.20
RUN apk add --no-cache curl
"#;
    const PASS: &str = r#"FROM alpine:3.20
RUN apk add --no-cache curl=8.9.0-r0
"#;

    crate::testutil::fixture_tests!(dockerfile, C, pass: PASS, fail: FAIL);
}
