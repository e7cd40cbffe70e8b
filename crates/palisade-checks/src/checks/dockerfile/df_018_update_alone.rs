//! PAL-DF-018: Package index update in a RUN without install.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, DfCx, Hit};
#[allow(unused_imports)]
use crate::dockerfile::{Dockerfile, split_image};
use palisade_core::findings::misconfig::Severity;

pub struct UpdateAlone;

static META: CheckMeta = CheckMeta {
    id: "PAL-DF-018",
    title: "Package index update in a RUN without install",
    severity: Severity::Low,
    groups: &["dockerfile"],
    rationale: "An apt-get/apk/yum update in its own RUN is cached as a layer; later installs then use stale package indexes.",
    remediation: "Update and install in the same RUN: apt-get update && apt-get install -y ...",
    references: &["hadolint DL3009", "Docker best practices: apt-get"],
    peers: &["checkov:CKV_DOCKER_5"],
    ..CheckMeta::DF
};

impl Check for UpdateAlone {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn dockerfile(&self, df: &Dockerfile, cx: &DfCx<'_>, out: &mut Vec<Hit>) {
        for i in df.all("RUN") {
            let cmds: Vec<Vec<String>> = i.commands().iter().map(|c| norm(c)).collect();
            let pm = |c: &Vec<String>| {
                ["apt-get", "apt", "apk", "yum", "dnf", "microdnf", "zypper"].iter().any(|t| is(c, t))
            };
            let update = cmds
                .iter()
                .any(|c| pm(c) && matches!(sub(c), Some("update" | "makecache" | "refresh" | "ref")));
            let install = cmds.iter().any(|c| {
                pm(c)
                    && matches!(
                        sub(c),
                        Some("install" | "add" | "upgrade" | "dist-upgrade" | "full-upgrade" | "in")
                    )
            }) || cmds
                .iter()
                .any(|c| is(c, "apk") && has_opt(c, &["--update"]) && !packages(c, "add").is_empty());
            if update && !install {
                out.push(Hit::pos(i.line, i.col, "package index update without an install in the same RUN: the cache goes stale; combine them"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::UpdateAlone as C;

    const FAIL: &str = r#"FROM debian:12
RUN apt-get update
RUN apt-get install -y curl
"#;
    const PASS: &str = r#"FROM debian:12
RUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*
"#;

    crate::testutil::fixture_tests!(dockerfile, C, pass: PASS, fail: FAIL);
}
