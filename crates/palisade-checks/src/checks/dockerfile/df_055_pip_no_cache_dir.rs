//! PAL-DF-055: pip install without --no-cache-dir.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, DfCx, Hit};
#[allow(unused_imports)]
use crate::dockerfile::{Dockerfile, split_image};
use palisade_core::findings::misconfig::Severity;

pub struct PipNoCacheDir;

static META: CheckMeta = CheckMeta {
    id: "PAL-DF-055",
    title: "pip install without --no-cache-dir",
    severity: Severity::Low,
    groups: &["dockerfile"],
    rationale: "The pip cache left in a layer bloats the image.",
    remediation: "Add --no-cache-dir (or set PIP_NO_CACHE_DIR=1).",
    references: &["hadolint DL3042"],
    peers: &["hadolint:DL3042"],
    ..CheckMeta::DF
};

impl Check for PipNoCacheDir {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn dockerfile(&self, df: &Dockerfile, cx: &DfCx<'_>, out: &mut Vec<Hit>) {
        let env_off = df
            .instructions
            .iter()
            .any(|i| i.kw == "ENV" && i.pairs.iter().any(|(k, _)| k == "PIP_NO_CACHE_DIR"));
        if env_off {
            return;
        }
        for (i, w) in run_cmds(df) {
            if (is(&w, "pip") || is(&w, "pip3") || (w.len() > 2 && w[1] == "-m" && w[2].starts_with("pip")))
                && w.iter().any(|x| x == "install")
                && !has_opt(&w, &["--no-cache-dir"])
            {
                out.push(Hit::pos(i.line, i.col, "pip install without --no-cache-dir"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::PipNoCacheDir as C;

    const FAIL: &str = r#"FROM python:3.12
RUN pip install flask==3.0.3
"#;
    const PASS: &str = r#"FROM python:3.12
RUN pip install --no-cache-dir flask==3.0.3
"#;

    crate::testutil::fixture_tests!(dockerfile, C, pass: PASS, fail: FAIL);
}
