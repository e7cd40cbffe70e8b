//! PAL-DF-060: Package manager or git configured to skip TLS verification.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, DfCx, Hit};
#[allow(unused_imports)]
use crate::dockerfile::{Dockerfile, split_image};
use palisade_core::findings::misconfig::Severity;

pub struct StrictSslOff;

static META: CheckMeta = CheckMeta {
    id: "PAL-DF-060",
    title: "Package manager or git configured to skip TLS verification",
    severity: Severity::High,
    groups: &["dockerfile"],
    rationale: "npm/yarn strict-ssl false, git http.sslVerify false or yum sslverify=false accept any certificate for package downloads.",
    remediation: "Remove the setting; install the right CA certificates instead.",
    references: &["CWE-295"],
    peers: &["checkov:CKV2_DOCKER_15", "checkov:CKV2_DOCKER_16"],
    ..CheckMeta::DF
};

impl Check for StrictSslOff {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn dockerfile(&self, df: &Dockerfile, cx: &DfCx<'_>, out: &mut Vec<Hit>) {
        for i in df.all("RUN") {
            let raw = i.raw.to_ascii_lowercase();
            let hit = raw.contains("strict-ssl false")
                || raw.contains("strict-ssl=false")
                || raw.contains("sslverify false")
                || raw.contains("sslverify=false")
                || raw.contains("sslverify=0")
                || raw.contains("http.sslverify false");
            if hit {
                out.push(Hit::pos(
                    i.line,
                    i.col,
                    "TLS verification is turned off in package manager or git configuration",
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::StrictSslOff as C;

    const FAIL: &str = r#"FROM node:22
RUN npm config set strict-ssl false
"#;
    const PASS: &str = r#"FROM node:22
RUN npm config set fund false
"#;

    crate::testutil::fixture_tests!(dockerfile, C, pass: PASS, fail: FAIL);
}
