//! PAL-DF-033: Stage name is not lowercase.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, DfCx, Hit};
#[allow(unused_imports)]
use crate::dockerfile::{Dockerfile, split_image};
use palisade_core::findings::misconfig::Severity;

pub struct StageNameCasing;

static META: CheckMeta = CheckMeta {
    id: "PAL-DF-033",
    title: "Stage name is not lowercase",
    severity: Severity::Info,
    groups: &["dockerfile"],
    rationale: "BuildKit treats stage names case-insensitively and warns on mixed case; duplicate names (rejected by the parser) are reported as parse errors.",
    remediation: "Use lowercase stage names.",
    references: &["BuildKit check StageNameCasing"],
    peers: &["checkov:CKV_DOCKER_11"],
    ..CheckMeta::DF
};

impl Check for StageNameCasing {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn dockerfile(&self, df: &Dockerfile, cx: &DfCx<'_>, out: &mut Vec<Hit>) {
        for s in &df.stages {
            if let Some(a) = s.alias.as_deref().filter(|a| a.chars().any(|c| c.is_ascii_uppercase())) {
                out.push(Hit::pos(s.line, s.col, format!("stage name {a} is not lowercase")));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::StageNameCasing as C;

    const FAIL: &str = r#"FROM alpine:3.20 AS Build
"#;
    const PASS: &str = r#"FROM alpine:3.20 AS build
"#;

    crate::testutil::fixture_tests!(dockerfile, C, pass: PASS, fail: FAIL);
}
