//! PAL-DF-061: Package signature checks disabled (apk, rpm, yum, dnf).

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, DfCx, Hit};
#[allow(unused_imports)]
use crate::dockerfile::{Dockerfile, split_image};
use palisade_core::findings::misconfig::Severity;

pub struct SignatureChecksOff;

static META: CheckMeta = CheckMeta {
    id: "PAL-DF-061",
    title: "Package signature checks disabled (apk, rpm, yum, dnf)",
    severity: Severity::High,
    groups: &["dockerfile"],
    rationale: "--allow-untrusted, --nogpgcheck, --nosignature and --nodigest install packages without verifying who built them.",
    remediation: "Remove the flag and import the repository's signing key.",
    references: &["CWE-347"],
    peers: &["checkov:CKV2_DOCKER_9", "checkov:CKV2_DOCKER_10", "checkov:CKV2_DOCKER_11"],
    ..CheckMeta::DF
};

impl Check for SignatureChecksOff {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn dockerfile(&self, df: &Dockerfile, cx: &DfCx<'_>, out: &mut Vec<Hit>) {
        for (i, w) in run_cmds(df) {
            let bad = (is(&w, "apk") && has_opt(&w, &["--allow-untrusted"]))
                || ((is(&w, "yum") || is(&w, "dnf") || is(&w, "microdnf") || is(&w, "tdnf"))
                    && has_opt(&w, &["--nogpgcheck"]))
                || (is(&w, "rpm")
                    && has_opt(&w, &["--nosignature", "--nodigest", "--nodeps"])
                    && has_opt(&w, &["--nosignature", "--nodigest"]))
                || (is(&w, "zypper") && has_opt(&w, &["--no-gpg-checks"]));
            if bad {
                out.push(Hit::pos(
                    i.line,
                    i.col,
                    format!("{} installs packages without signature verification", w[0]),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::SignatureChecksOff as C;

    const FAIL: &str = r#"FROM alpine:3.20
RUN apk add --no-cache --allow-untrusted /tmp/x.apk
"#;
    const PASS: &str = r#"FROM alpine:3.20
RUN apk add --no-cache curl=8.9.0-r0
"#;

    crate::testutil::fixture_tests!(dockerfile, C, pass: PASS, fail: FAIL);
}
