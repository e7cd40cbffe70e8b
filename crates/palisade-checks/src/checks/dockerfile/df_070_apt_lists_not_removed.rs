//! PAL-DF-070: apt lists not removed after install.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, DfCx, Hit};
#[allow(unused_imports)]
use crate::dockerfile::{Dockerfile, split_image};
use palisade_core::findings::misconfig::Severity;

pub struct AptListsNotRemoved;

static META: CheckMeta = CheckMeta {
    id: "PAL-DF-070",
    title: "apt lists not removed after install",
    severity: Severity::Low,
    groups: &["dockerfile"],
    rationale: "apt package lists left in the layer add tens of megabytes to the image.",
    remediation: "End the RUN with rm -rf /var/lib/apt/lists/*.",
    references: &["hadolint DL3009"],
    peers: &["hadolint:DL3009"],
    ..CheckMeta::DF
};

impl Check for AptListsNotRemoved {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn dockerfile(&self, df: &Dockerfile, cx: &DfCx<'_>, out: &mut Vec<Hit>) {
        for i in df.all("RUN") {
            let cmds: Vec<Vec<String>> = i.commands().iter().map(|c| norm(c)).collect();
            let update = cmds.iter().any(|c| (is(c, "apt-get") || is(c, "apt")) && sub(c) == Some("update"));
            let install = cmds.iter().any(|c| {
                (is(c, "apt-get") || is(c, "apt"))
                    && matches!(sub(c), Some("install" | "upgrade" | "dist-upgrade"))
            });
            if update && install && !i.raw.contains("/var/lib/apt/lists") {
                out.push(Hit::pos(
                    i.line,
                    i.col,
                    "apt lists are not removed; end the RUN with rm -rf /var/lib/apt/lists/*",
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::AptListsNotRemoved as C;

    const FAIL: &str = r#"FROM debian:12
RUN apt-get update && apt-get install -y curl
"#;
    const PASS: &str = r#"FROM debian:12
RUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*
"#;

    crate::testutil::fixture_tests!(dockerfile, C, pass: PASS, fail: FAIL);
}
