//! PAL-DF-026: yarn install without cleaning the cache.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, DfCx, Hit};
#[allow(unused_imports)]
use crate::dockerfile::{Dockerfile, split_image};
use palisade_core::findings::misconfig::Severity;

pub struct YarnCache;

static META: CheckMeta = CheckMeta {
    id: "PAL-DF-026",
    title: "yarn install without cleaning the cache",
    severity: Severity::Info,
    groups: &["dockerfile"],
    rationale: "The yarn cache left in a layer bloats the image.",
    remediation: "Run yarn cache clean in the same RUN.",
    references: &["hadolint DL3060"],
    peers: &["hadolint:DL3060"],
    ..CheckMeta::DF
};

impl Check for YarnCache {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn dockerfile(&self, df: &Dockerfile, cx: &DfCx<'_>, out: &mut Vec<Hit>) {
        for i in df.all("RUN") {
            let cmds: Vec<Vec<String>> = i.commands().iter().map(|c| norm(c)).collect();
            if cmds.iter().any(|c| is(c, "yarn") && matches!(sub(c), Some("install") | None))
                && !i.raw.contains("yarn cache clean")
            {
                out.push(Hit::pos(i.line, i.col, "yarn install without yarn cache clean"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::YarnCache as C;

    const FAIL: &str = r#"FROM node:22
RUN yarn install
"#;
    const PASS: &str = r#"FROM node:22
RUN yarn install && yarn cache clean
"#;

    crate::testutil::fixture_tests!(dockerfile, C, pass: PASS, fail: FAIL);
}
