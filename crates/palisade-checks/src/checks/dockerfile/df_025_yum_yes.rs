//! PAL-DF-025: yum, dnf or zypper install without -y / non-interactive.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, DfCx, Hit};
#[allow(unused_imports)]
use crate::dockerfile::{Dockerfile, split_image};
use palisade_core::findings::misconfig::Severity;

pub struct YumYes;

static META: CheckMeta = CheckMeta {
    id: "PAL-DF-025",
    title: "yum, dnf or zypper install without -y / non-interactive",
    severity: Severity::Low,
    groups: &["dockerfile"],
    rationale: "Without -y (zypper: -n) the build waits for confirmation and fails or hangs.",
    remediation: "Add -y (zypper: --non-interactive).",
    references: &["hadolint DL3030", "hadolint DL3034", "hadolint DL3038"],
    peers: &["hadolint:DL3030", "hadolint:DL3034", "hadolint:DL3038"],
    ..CheckMeta::DF
};

impl Check for YumYes {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn dockerfile(&self, df: &Dockerfile, cx: &DfCx<'_>, out: &mut Vec<Hit>) {
        for (i, w) in run_cmds(df) {
            let bad = ((is(&w, "yum") || is(&w, "dnf") || is(&w, "microdnf"))
                && matches!(sub(&w), Some("install" | "groupinstall" | "localinstall"))
                && !has_opt(&w, &["-y", "--assumeyes"]))
                || (is(&w, "zypper")
                    && matches!(sub(&w), Some("install" | "in"))
                    && !has_opt(&w, &["-n", "--non-interactive", "-y", "--no-confirm"]));
            if bad {
                out.push(Hit::pos(i.line, i.col, format!("{} install without -y", w[0])));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::YumYes as C;

    const FAIL: &str = r#"FROM fedora:40
RUN dnf install httpd
"#;
    const PASS: &str = r#"FROM fedora:40
RUN dnf install -y httpd && dnf clean all
"#;

    crate::testutil::fixture_tests!(dockerfile, C, pass: PASS, fail: FAIL);
}
