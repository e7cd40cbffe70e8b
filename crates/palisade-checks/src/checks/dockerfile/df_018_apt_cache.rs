//! PAL-DF-018: apt-get lists not cleaned or update used alone.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, DfCx, Hit};
#[allow(unused_imports)]
use crate::dockerfile::{Dockerfile, split_image};
use palisade_core::findings::misconfig::Severity;

pub struct AptCache;

static META: CheckMeta = CheckMeta {
    id: "PAL-DF-018",
    title: "apt-get lists not cleaned or update used alone",
    severity: Severity::Low,
    groups: &["dockerfile"],
    rationale: "apt lists left in a layer bloat the image; an apt-get update in its own RUN is cached and later installs use stale indexes.",
    remediation: "Run apt-get update && apt-get install ... && rm -rf /var/lib/apt/lists/* in one RUN.",
    references: &["hadolint DL3009"],
    peers: &["hadolint:DL3009", "checkov:CKV_DOCKER_5"],
    ..CheckMeta::DF
};

impl Check for AptCache {
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
            let clean = i.raw.contains("/var/lib/apt/lists");
            if update && !install {
                out.push(Hit::pos(
                    i.line,
                    i.col,
                    "apt-get update in a RUN without install: the cache goes stale; combine them",
                ));
            } else if install && update && !clean {
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
    use super::AptCache as C;
    use crate::testutil::df_hits;

    const FAIL: &str = r#"FROM debian:12
RUN apt-get update && apt-get install -y curl
"#;
    const PASS: &str = r#"FROM debian:12
RUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*
"#;

    #[test]
    fn fires_on_fail_fixture() {
        assert!(!df_hits(&C, FAIL).is_empty());
    }

    #[test]
    fn silent_on_pass_fixture() {
        assert!(df_hits(&C, PASS).is_empty(), "{:?}", df_hits(&C, PASS));
    }
}
