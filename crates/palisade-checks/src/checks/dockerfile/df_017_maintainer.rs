//! PAL-DF-017: MAINTAINER is deprecated.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, DfCx, Hit};
#[allow(unused_imports)]
use crate::dockerfile::{Dockerfile, split_image};
use palisade_core::findings::misconfig::Severity;

pub struct Maintainer;

static META: CheckMeta = CheckMeta {
    id: "PAL-DF-017",
    title: "MAINTAINER is deprecated",
    severity: Severity::Info,
    groups: &["dockerfile"],
    rationale: "MAINTAINER is deprecated; labels carry the same information in a standard way.",
    remediation: "Replace MAINTAINER with LABEL org.opencontainers.image.authors=\"...\".",
    references: &["hadolint DL4000"],
    peers: &["hadolint:DL4000", "checkov:CKV_DOCKER_6"],
    ..CheckMeta::DF
};

impl Check for Maintainer {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn dockerfile(&self, df: &Dockerfile, cx: &DfCx<'_>, out: &mut Vec<Hit>) {
        for m in df.all("MAINTAINER") {
            out.push(Hit::pos(
                m.line,
                m.col,
                "MAINTAINER is deprecated; use LABEL org.opencontainers.image.authors",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Maintainer as C;

    const FAIL: &str = r#"FROM alpine:3.20
MAINTAINER a@b.c
"#;
    const PASS: &str = r#"FROM alpine:3.20
LABEL org.opencontainers.image.authors=a@b.c
"#;

    crate::testutil::fixture_tests!(dockerfile, C, pass: PASS, fail: FAIL);
}
