//! PAL-DF-056: yum/dnf/zypper caches not cleaned.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, DfCx, Hit};
#[allow(unused_imports)]
use crate::dockerfile::{Dockerfile, split_image};
use palisade_core::findings::misconfig::Severity;

pub struct YumClean;

static META: CheckMeta = CheckMeta {
    id: "PAL-DF-056",
    title: "yum/dnf/zypper caches not cleaned",
    severity: Severity::Low,
    groups: &["dockerfile"],
    rationale: "Package manager caches left in a layer bloat the image.",
    remediation: "End the RUN with yum clean all / dnf clean all / zypper clean.",
    references: &["hadolint DL3032", "hadolint DL3036", "hadolint DL3040"],
    peers: &["hadolint:DL3032", "hadolint:DL3036", "hadolint:DL3040"],
    ..CheckMeta::DF
};

impl Check for YumClean {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn dockerfile(&self, df: &Dockerfile, cx: &DfCx<'_>, out: &mut Vec<Hit>) {
        for i in df.all("RUN") {
            let cmds: Vec<Vec<String>> = i.commands().iter().map(|c| norm(c)).collect();
            for tool in ["yum", "dnf", "microdnf", "zypper"] {
                let installs = cmds
                    .iter()
                    .any(|c| is(c, tool) && matches!(sub(c), Some("install" | "in" | "update" | "upgrade")));
                let cleans = cmds.iter().any(|c| is(c, tool) && sub(c) == Some("clean"))
                    || i.raw.contains("/var/cache/");
                if installs && !cleans {
                    out.push(Hit::pos(i.line, i.col, format!("{tool} install without {tool} clean all")));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::YumClean as C;

    const FAIL: &str = r#"FROM fedora:40
RUN dnf install -y httpd
"#;
    const PASS: &str = r#"FROM fedora:40
RUN dnf install -y httpd && dnf clean all
"#;

    crate::testutil::fixture_tests!(dockerfile, C, pass: PASS, fail: FAIL);
}
