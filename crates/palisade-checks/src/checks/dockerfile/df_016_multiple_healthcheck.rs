//! PAL-DF-016: Multiple HEALTHCHECK instructions in a stage.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, DfCx, Hit};
#[allow(unused_imports)]
use crate::dockerfile::{Dockerfile, split_image};
use palisade_core::findings::misconfig::Severity;

pub struct MultipleHealthcheck;

static META: CheckMeta = CheckMeta {
    id: "PAL-DF-016",
    title: "Multiple HEALTHCHECK instructions in a stage",
    severity: Severity::Low,
    groups: &["dockerfile"],
    rationale: "Only the last HEALTHCHECK takes effect; earlier ones are dead code.",
    remediation: "Keep one HEALTHCHECK per stage.",
    references: &["hadolint DL3012"],
    peers: &["hadolint:DL3012"],
    ..CheckMeta::DF
};

impl Check for MultipleHealthcheck {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn dockerfile(&self, df: &Dockerfile, cx: &DfCx<'_>, out: &mut Vec<Hit>) {
        for s in &df.stages {
            let hc: Vec<_> = df.stage_instrs(s.index).filter(|i| i.kw == "HEALTHCHECK").collect();
            for h in hc.iter().skip(1) {
                out.push(Hit::pos(h.line, h.col, "more than one HEALTHCHECK in this stage; keep one"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::MultipleHealthcheck as C;

    const FAIL: &str = r#"FROM alpine:3.20
HEALTHCHECK CMD true
HEALTHCHECK CMD false
"#;
    const PASS: &str = r#"FROM alpine:3.20
HEALTHCHECK CMD true
"#;

    crate::testutil::fixture_tests!(dockerfile, C, pass: PASS, fail: FAIL);
}
