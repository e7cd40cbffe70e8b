//! PAL-DF-069: RUN with insecure security mode or host network.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, DfCx, Hit};
#[allow(unused_imports)]
use crate::dockerfile::{Dockerfile, split_image};
use palisade_core::findings::misconfig::Severity;

pub struct InsecureEntitlement;

static META: CheckMeta = CheckMeta {
    id: "PAL-DF-069",
    title: "RUN with insecure security mode or host network",
    severity: Severity::High,
    groups: &["dockerfile"],
    rationale: "RUN --security=insecure runs the step privileged and --network=host shares the builder's network.",
    remediation: "Remove --security=insecure and --network=host from RUN.",
    references: &["BuildKit docs: RUN --security"],
    peers: &[],
    ..CheckMeta::DF
};

impl Check for InsecureEntitlement {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn dockerfile(&self, df: &Dockerfile, cx: &DfCx<'_>, out: &mut Vec<Hit>) {
        for i in df.all("RUN") {
            if i.flag("security") == Some(Some("insecure")) || i.flag("network") == Some(Some("host")) {
                out.push(Hit::pos(
                    i.line,
                    i.col,
                    "RUN uses --security=insecure or --network=host; remove it",
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::InsecureEntitlement as C;

    const FAIL: &str = r#"FROM alpine:3.20
RUN --security=insecure mount -t tmpfs none /mnt
"#;
    const PASS: &str = r#"FROM alpine:3.20
RUN --mount=type=cache,target=/var/cache/apk apk add --no-cache curl=8.9.0-r0
"#;

    crate::testutil::fixture_tests!(dockerfile, C, pass: PASS, fail: FAIL);
}
