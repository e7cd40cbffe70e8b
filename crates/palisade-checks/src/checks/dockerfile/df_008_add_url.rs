//! PAL-DF-008: ADD downloads from a remote URL without a checksum.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, DfCx, Hit};
#[allow(unused_imports)]
use crate::dockerfile::{Dockerfile, split_image};
use palisade_core::findings::misconfig::Severity;

pub struct AddUrl;

static META: CheckMeta = CheckMeta {
    id: "PAL-DF-008",
    title: "ADD downloads from a remote URL without a checksum",
    severity: Severity::Medium,
    groups: &["dockerfile"],
    rationale: "ADD <url> fetches content without integrity verification at build time.",
    remediation: "Use ADD --checksum=sha256:<hash> <url>, or download with curl and verify the checksum.",
    references: &["CIS Docker 4.9"],
    peers: &["checkov:CKV_DOCKER_4"],
    ..CheckMeta::DF
};

impl Check for AddUrl {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn dockerfile(&self, df: &Dockerfile, cx: &DfCx<'_>, out: &mut Vec<Hit>) {
        for a in df.all("ADD") {
            let srcs = &a.words[..a.words.len().saturating_sub(1)];
            if srcs.iter().any(|s| s.starts_with("http://") || s.starts_with("https://"))
                && a.flag("checksum").is_none()
            {
                out.push(Hit::pos(a.line, a.col, "ADD downloads a URL without --checksum; pin the checksum"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::AddUrl as C;

    const FAIL: &str = r#"FROM alpine:3.20
ADD https://example.com/tool.bin /usr/bin/tool
"#;
    const PASS: &str = r#"FROM alpine:3.20
ADD --checksum=sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa https://example.com/tool.bin /usr/bin/tool
"#;

    crate::testutil::fixture_tests!(dockerfile, C, pass: PASS, fail: FAIL);
}
