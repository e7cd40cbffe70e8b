//! PAL-DF-007: ADD used to copy local files.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, DfCx, Hit};
#[allow(unused_imports)]
use crate::dockerfile::{Dockerfile, split_image};
use palisade_core::findings::misconfig::Severity;

pub struct AddLocal;

static META: CheckMeta = CheckMeta {
    id: "PAL-DF-007",
    title: "ADD used to copy local files",
    severity: Severity::Medium,
    groups: &["dockerfile"],
    rationale: "ADD auto-extracts archives and can fetch URLs; COPY is explicit and predictable for local files.",
    remediation: "Use COPY for local files and directories.",
    references: &["CIS Docker 4.9", "hadolint DL3020"],
    peers: &["hadolint:DL3020", "checkov:CKV_DOCKER_4"],
    ..CheckMeta::DF
};

impl Check for AddLocal {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn dockerfile(&self, df: &Dockerfile, cx: &DfCx<'_>, out: &mut Vec<Hit>) {
        for a in df.all("ADD") {
            let srcs = &a.words[..a.words.len().saturating_sub(1)];
            let archive = |s: &str| {
                [".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".txz", ".tbz2"]
                    .iter()
                    .any(|e| s.ends_with(e))
            };
            if srcs
                .iter()
                .any(|s| !s.contains("://") && !s.starts_with("git@") && !archive(s) && !s.starts_with("<<"))
            {
                out.push(Hit::pos(a.line, a.col, "ADD copies local files; use COPY"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::AddLocal as C;

    const FAIL: &str = r#"FROM alpine:3.20
ADD . /app
"#;
    const PASS: &str = r#"FROM alpine:3.20
COPY . /app
"#;

    crate::testutil::fixture_tests!(dockerfile, C, pass: PASS, fail: FAIL);
}
