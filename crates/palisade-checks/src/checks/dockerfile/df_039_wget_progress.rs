//! PAL-DF-039: wget without a quiet/progress option.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, DfCx, Hit};
#[allow(unused_imports)]
use crate::dockerfile::{Dockerfile, split_image};
use palisade_core::findings::misconfig::Severity;

pub struct WgetProgress;

static META: CheckMeta = CheckMeta {
    id: "PAL-DF-039",
    title: "wget without a quiet/progress option",
    severity: Severity::Info,
    groups: &["dockerfile"],
    rationale: "wget's default progress bar floods build logs.",
    remediation: "Use wget -q, -nv or --progress=dot:giga.",
    references: &["hadolint DL3047"],
    peers: &["hadolint:DL3047"],
    ..CheckMeta::DF
};

impl Check for WgetProgress {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn dockerfile(&self, df: &Dockerfile, cx: &DfCx<'_>, out: &mut Vec<Hit>) {
        for (i, w) in run_cmds(df) {
            if is(&w, "wget") && !has_opt(&w, &["-q", "--quiet", "-nv", "--no-verbose", "--progress"]) {
                out.push(Hit::pos(i.line, i.col, "wget without -q/-nv/--progress"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::WgetProgress as C;

    const FAIL: &str = r#"FROM alpine:3.20
RUN wget https://x.example/a
"#;
    const PASS: &str = r#"FROM alpine:3.20
RUN wget -q https://x.example/a
"#;

    crate::testutil::fixture_tests!(dockerfile, C, pass: PASS, fail: FAIL);
}
