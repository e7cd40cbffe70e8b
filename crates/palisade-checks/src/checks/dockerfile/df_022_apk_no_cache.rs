//! PAL-DF-022: apk add without --no-cache.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, DfCx, Hit};
#[allow(unused_imports)]
use crate::dockerfile::{Dockerfile, split_image};
use palisade_core::findings::misconfig::Severity;

pub struct ApkNoCache;

static META: CheckMeta = CheckMeta {
    id: "PAL-DF-022",
    title: "apk add without --no-cache",
    severity: Severity::Low,
    groups: &["dockerfile"],
    rationale: "The apk index cache left in the layer bloats the image.",
    remediation: "Use apk add --no-cache.",
    references: &["hadolint DL3019"],
    peers: &["hadolint:DL3019"],
    ..CheckMeta::DF
};

impl Check for ApkNoCache {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn dockerfile(&self, df: &Dockerfile, cx: &DfCx<'_>, out: &mut Vec<Hit>) {
        for (i, w) in run_cmds(df) {
            if is(&w, "apk") && sub(&w) == Some("add") && !has_opt(&w, &["--no-cache"]) {
                out.push(Hit::pos(i.line, i.col, "apk add without --no-cache"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ApkNoCache as C;

    const FAIL: &str = r#"FROM alpine:3.20
RUN apk add curl=8.9.0-r0
"#;
    const PASS: &str = r#"FROM alpine:3.20
RUN apk add --no-cache curl=8.9.0-r0
"#;

    crate::testutil::fixture_tests!(dockerfile, C, pass: PASS, fail: FAIL);
}
