//! PAL-DF-030: WORKDIR is relative.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, DfCx, Hit};
#[allow(unused_imports)]
use crate::dockerfile::{Dockerfile, split_image};
use palisade_core::findings::misconfig::Severity;

pub struct RelativeWorkdir;

static META: CheckMeta = CheckMeta {
    id: "PAL-DF-030",
    title: "WORKDIR is relative",
    severity: Severity::Low,
    groups: &["dockerfile"],
    rationale: "A relative WORKDIR depends on the previous WORKDIR and is easy to get wrong.",
    remediation: "Use an absolute path in WORKDIR.",
    references: &["hadolint DL3000"],
    peers: &["hadolint:DL3000", "checkov:CKV_DOCKER_10"],
    ..CheckMeta::DF
};

impl Check for RelativeWorkdir {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn dockerfile(&self, df: &Dockerfile, cx: &DfCx<'_>, out: &mut Vec<Hit>) {
        for w in df.all("WORKDIR") {
            let p = w.words.first().map(String::as_str).unwrap_or("");
            let p = p.trim_matches('"');
            if !(p.starts_with('/') || p.starts_with('$') || p.as_bytes().get(1) == Some(&b':')) {
                out.push(Hit::pos(w.line, w.col, format!("WORKDIR {p} is relative; use an absolute path")));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RelativeWorkdir as C;

    const FAIL: &str = r#"FROM alpine:3.20
WORKDIR app
"#;
    const PASS: &str = r#"FROM alpine:3.20
WORKDIR /app
"#;

    crate::testutil::fixture_tests!(dockerfile, C, pass: PASS, fail: FAIL);
}
