//! PAL-DF-029: Password set in the image (chpasswd).

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, DfCx, Hit};
#[allow(unused_imports)]
use crate::dockerfile::{Dockerfile, split_image};
use palisade_core::findings::misconfig::Severity;

pub struct Chpasswd;

static META: CheckMeta = CheckMeta {
    id: "PAL-DF-029",
    title: "Password set in the image (chpasswd)",
    severity: Severity::Medium,
    groups: &["dockerfile"],
    rationale: "Passwords set at build time are baked into every container and visible in the image history.",
    remediation: "Do not set passwords in images; use key-based access outside the container or runtime secrets.",
    references: &["CWE-798"],
    peers: &["checkov:CKV2_DOCKER_17"],
    ..CheckMeta::DF
};

impl Check for Chpasswd {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn dockerfile(&self, df: &Dockerfile, cx: &DfCx<'_>, out: &mut Vec<Hit>) {
        for (i, w) in run_cmds(df) {
            if is(&w, "chpasswd")
                || (is(&w, "passwd") && w.len() > 1)
                || is(&w, "usermod") && has_opt(&w, &["-p", "--password"])
            {
                out.push(Hit::pos(i.line, i.col, "a password is set at build time"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Chpasswd as C;

    const FAIL: &str = r#"FROM debian:12
RUN echo 'root:toor' | chpasswd
"#;
    const PASS: &str = r#"FROM debian:12
RUN useradd -u 10001 app
"#;

    crate::testutil::fixture_tests!(dockerfile, C, pass: PASS, fail: FAIL);
}
