//! PAL-DF-023: pip install without version pins.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, DfCx, Hit};
#[allow(unused_imports)]
use crate::dockerfile::{Dockerfile, split_image};
use palisade_core::findings::misconfig::Severity;

pub struct PipPin;

static META: CheckMeta = CheckMeta {
    id: "PAL-DF-023",
    title: "pip install without version pins",
    severity: Severity::Low,
    groups: &["dockerfile"],
    rationale: "Unpinned Python packages make builds unreproducible and open the door to dependency confusion.",
    remediation: "Pin versions (pkg==1.2.3) or install from a locked requirements file.",
    references: &["hadolint DL3013"],
    peers: &["hadolint:DL3013"],
    ..CheckMeta::DF
};

impl Check for PipPin {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn dockerfile(&self, df: &Dockerfile, cx: &DfCx<'_>, out: &mut Vec<Hit>) {
        for (i, w) in run_cmds(df) {
            if (is(&w, "pip") || is(&w, "pip3") || (w.len() > 2 && w[1] == "-m" && w[2].starts_with("pip")))
                && packages(&w, "install").iter().any(|p| {
                    !p.contains("==")
                        && !p.contains('@')
                        && !p.contains('/')
                        && !p.ends_with(".whl")
                        && *p != "."
                        && !p.starts_with('.')
                })
                && !has_opt(&w, &["-r", "--requirement", "-c", "--constraint"])
            {
                out.push(Hit::pos(i.line, i.col, "pip install without pinned versions (pkg==version)"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::PipPin as C;

    const FAIL: &str = r#"FROM python:3.12
RUN pip install --no-cache-dir flask
"#;
    const PASS: &str = r#"FROM python:3.12
RUN pip install --no-cache-dir flask==3.0.3
"#;

    crate::testutil::fixture_tests!(dockerfile, C, pass: PASS, fail: FAIL);
}
