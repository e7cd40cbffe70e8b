//! PAL-DF-032: COPY to a relative destination without WORKDIR.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, DfCx, Hit};
#[allow(unused_imports)]
use crate::dockerfile::{Dockerfile, split_image};
use palisade_core::findings::misconfig::Severity;

pub struct CopyRelativeNoWorkdir;

static META: CheckMeta = CheckMeta {
    id: "PAL-DF-032",
    title: "COPY to a relative destination without WORKDIR",
    severity: Severity::Low,
    groups: &["dockerfile"],
    rationale: "Without WORKDIR the relative destination depends on the base image's working directory.",
    remediation: "Set WORKDIR first or use an absolute destination.",
    references: &["hadolint DL3045"],
    peers: &["hadolint:DL3045"],
    ..CheckMeta::DF
};

impl Check for CopyRelativeNoWorkdir {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn dockerfile(&self, df: &Dockerfile, cx: &DfCx<'_>, out: &mut Vec<Hit>) {
        for s in &df.stages {
            let mut has_wd = false;
            for i in df.stage_instrs(s.index) {
                if i.kw == "WORKDIR" {
                    has_wd = true;
                }
                if i.kw == "COPY" && !has_wd {
                    let dest = i.words.last().map(String::as_str).unwrap_or("");
                    let dest = dest.trim_matches('"');
                    if !(dest.starts_with('/')
                        || dest.starts_with('$')
                        || dest.as_bytes().get(1) == Some(&b':'))
                    {
                        out.push(Hit::pos(i.line, i.col, format!("COPY to relative {dest} without WORKDIR")));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::CopyRelativeNoWorkdir as C;

    const FAIL: &str = r#"FROM alpine:3.20
COPY a.txt data/
"#;
    const PASS: &str = r#"FROM alpine:3.20
WORKDIR /app
COPY a.txt data/
"#;

    crate::testutil::fixture_tests!(dockerfile, C, pass: PASS, fail: FAIL);
}
