//! PAL-DF-031: cd used in RUN instead of WORKDIR.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, DfCx, Hit};
#[allow(unused_imports)]
use crate::dockerfile::{Dockerfile, split_image};
use palisade_core::findings::misconfig::Severity;

pub struct CdInRun;

static META: CheckMeta = CheckMeta {
    id: "PAL-DF-031",
    title: "cd used in RUN instead of WORKDIR",
    severity: Severity::Info,
    groups: &["dockerfile"],
    rationale: "cd only affects one RUN; WORKDIR is clearer and applies to the following instructions.",
    remediation: "Use WORKDIR to change directory.",
    references: &["hadolint DL3003"],
    peers: &["hadolint:DL3003"],
    ..CheckMeta::DF
};

impl Check for CdInRun {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn dockerfile(&self, df: &Dockerfile, cx: &DfCx<'_>, out: &mut Vec<Hit>) {
        for (i, w) in run_cmds(df) {
            if is(&w, "cd") {
                out.push(Hit::pos(i.line, i.col, "use WORKDIR instead of cd"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::CdInRun as C;

    const FAIL: &str = r#"FROM alpine:3.20
RUN cd /tmp && make
"#;
    const PASS: &str = r#"FROM alpine:3.20
WORKDIR /tmp
RUN make
"#;

    crate::testutil::fixture_tests!(dockerfile, C, pass: PASS, fail: FAIL);
}
