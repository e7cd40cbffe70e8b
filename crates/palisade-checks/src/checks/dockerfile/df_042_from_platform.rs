//! PAL-DF-042: FROM --platform pinned to a constant.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, DfCx, Hit};
#[allow(unused_imports)]
use crate::dockerfile::{Dockerfile, split_image};
use palisade_core::findings::misconfig::Severity;

pub struct FromPlatform;

static META: CheckMeta = CheckMeta {
    id: "PAL-DF-042",
    title: "FROM --platform pinned to a constant",
    severity: Severity::Info,
    groups: &["dockerfile"],
    rationale: "A constant --platform breaks multi-platform builds; use $BUILDPLATFORM/$TARGETPLATFORM if needed.",
    remediation: "Remove --platform or use a build variable.",
    references: &["hadolint DL3029"],
    peers: &["hadolint:DL3029"],
    ..CheckMeta::DF
};

impl Check for FromPlatform {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn dockerfile(&self, df: &Dockerfile, cx: &DfCx<'_>, out: &mut Vec<Hit>) {
        for s in &df.stages {
            if let Some(p) = s.platform.as_deref().filter(|p| !p.contains('$')) {
                out.push(Hit::pos(
                    s.line,
                    s.col,
                    format!("FROM --platform={p} pins the platform; use $BUILDPLATFORM or drop it"),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::FromPlatform as C;

    const FAIL: &str = r#"FROM --platform=linux/amd64 alpine:3.20
"#;
    const PASS: &str = r#"FROM --platform=$BUILDPLATFORM alpine:3.20
"#;

    crate::testutil::fixture_tests!(dockerfile, C, pass: PASS, fail: FAIL);
}
