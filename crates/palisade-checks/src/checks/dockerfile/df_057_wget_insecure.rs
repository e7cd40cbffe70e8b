//! PAL-DF-057: wget with certificate checks disabled.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, DfCx, Hit};
#[allow(unused_imports)]
use crate::dockerfile::{Dockerfile, split_image};
use palisade_core::findings::misconfig::Severity;

pub struct WgetInsecure;

static META: CheckMeta = CheckMeta {
    id: "PAL-DF-057",
    title: "wget with certificate checks disabled",
    severity: Severity::High,
    groups: &["dockerfile"],
    rationale: "wget --no-check-certificate accepts any certificate, so the download can be replaced by a man in the middle.",
    remediation: "Remove --no-check-certificate; install the right CA certificates instead.",
    references: &["CWE-295"],
    peers: &["checkov:CKV2_DOCKER_3"],
    ..CheckMeta::DF
};

impl Check for WgetInsecure {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn dockerfile(&self, df: &Dockerfile, cx: &DfCx<'_>, out: &mut Vec<Hit>) {
        for (i, w) in run_cmds(df) {
            if is(&w, "wget") && has_opt(&w, &["--no-check-certificate"]) {
                out.push(Hit::pos(i.line, i.col, "wget --no-check-certificate disables TLS verification"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::WgetInsecure as C;

    const FAIL: &str = r#"FROM alpine:3.20
RUN wget --no-check-certificate https://x.example
"#;
    const PASS: &str = r#"FROM alpine:3.20
RUN wget -q https://x.example
"#;

    crate::testutil::fixture_tests!(dockerfile, C, pass: PASS, fail: FAIL);
}
