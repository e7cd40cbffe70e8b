//! PAL-DF-027: curl with TLS verification disabled.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, DfCx, Hit};
#[allow(unused_imports)]
use crate::dockerfile::{Dockerfile, split_image};
use palisade_core::findings::misconfig::Severity;

pub struct CurlInsecure;

static META: CheckMeta = CheckMeta {
    id: "PAL-DF-027",
    title: "curl with TLS verification disabled",
    severity: Severity::High,
    groups: &["dockerfile"],
    rationale: "curl -k/--insecure accepts any certificate, so the download can be replaced by a man in the middle.",
    remediation: "Remove -k/--insecure; install the right CA certificates instead.",
    references: &["CWE-295"],
    peers: &["checkov:CKV2_DOCKER_2"],
    ..CheckMeta::DF
};

impl Check for CurlInsecure {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn dockerfile(&self, df: &Dockerfile, cx: &DfCx<'_>, out: &mut Vec<Hit>) {
        for (i, w) in run_cmds(df) {
            if is(&w, "curl") && has_opt(&w, &["-k", "--insecure"]) {
                out.push(Hit::pos(i.line, i.col, "curl -k/--insecure disables TLS verification"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::CurlInsecure as C;

    const FAIL: &str = r#"FROM alpine:3.20
RUN curl -k https://x.example -o /x
"#;
    const PASS: &str = r#"FROM alpine:3.20
RUN curl -f https://x.example -o /x
"#;

    crate::testutil::fixture_tests!(dockerfile, C, pass: PASS, fail: FAIL);
}
