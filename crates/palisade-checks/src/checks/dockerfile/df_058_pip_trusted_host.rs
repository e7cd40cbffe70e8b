//! PAL-DF-058: pip --trusted-host disables TLS verification.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, DfCx, Hit};
#[allow(unused_imports)]
use crate::dockerfile::{Dockerfile, split_image};
use palisade_core::findings::misconfig::Severity;

pub struct PipTrustedHost;

static META: CheckMeta = CheckMeta {
    id: "PAL-DF-058",
    title: "pip --trusted-host disables TLS verification",
    severity: Severity::High,
    groups: &["dockerfile"],
    rationale: "--trusted-host lets pip accept plain HTTP or invalid certificates for that host.",
    remediation: "Remove --trusted-host (and PIP_TRUSTED_HOST); fix the index certificate instead.",
    references: &["CWE-295"],
    peers: &["checkov:CKV2_DOCKER_4", "checkov:CKV2_DOCKER_5"],
    ..CheckMeta::DF
};

impl Check for PipTrustedHost {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn dockerfile(&self, df: &Dockerfile, cx: &DfCx<'_>, out: &mut Vec<Hit>) {
        for (i, w) in run_cmds(df) {
            if (is(&w, "pip") || is(&w, "pip3") || w.iter().any(|x| x == "pip"))
                && has_opt(&w, &["--trusted-host"])
            {
                out.push(Hit::pos(i.line, i.col, "pip --trusted-host disables TLS verification"));
            }
        }
        for i in df.instructions.iter().filter(|i| i.kw == "ENV" || i.kw == "ARG") {
            if i.pairs.iter().any(|(k, _)| k == "PIP_TRUSTED_HOST") {
                out.push(Hit::pos(i.line, i.col, "PIP_TRUSTED_HOST disables TLS verification for pip"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::PipTrustedHost as C;

    const FAIL: &str = r#"FROM python:3.12
RUN pip install --trusted-host pypi.example flask==3.0.3
"#;
    const PASS: &str = r#"FROM python:3.12
RUN pip install flask==3.0.3
"#;

    crate::testutil::fixture_tests!(dockerfile, C, pass: PASS, fail: FAIL);
}
