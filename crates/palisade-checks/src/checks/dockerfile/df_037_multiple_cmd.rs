//! PAL-DF-037: Multiple CMD or ENTRYPOINT in a stage.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, DfCx, Hit};
#[allow(unused_imports)]
use crate::dockerfile::{Dockerfile, split_image};
use palisade_core::findings::misconfig::Severity;

pub struct MultipleCmd;

static META: CheckMeta = CheckMeta {
    id: "PAL-DF-037",
    title: "Multiple CMD or ENTRYPOINT in a stage",
    severity: Severity::Low,
    groups: &["dockerfile"],
    rationale: "Only the last CMD/ENTRYPOINT of a stage takes effect; earlier ones are dead code.",
    remediation: "Keep one CMD and one ENTRYPOINT per stage.",
    references: &["hadolint DL4003", "hadolint DL4004"],
    peers: &["hadolint:DL4003", "hadolint:DL4004"],
    ..CheckMeta::DF
};

impl Check for MultipleCmd {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn dockerfile(&self, df: &Dockerfile, cx: &DfCx<'_>, out: &mut Vec<Hit>) {
        for s in &df.stages {
            for kw in ["CMD", "ENTRYPOINT"] {
                let v: Vec<_> = df.stage_instrs(s.index).filter(|i| i.kw == kw).collect();
                for i in v.iter().skip(1) {
                    out.push(Hit::pos(
                        i.line,
                        i.col,
                        format!("more than one {kw} in this stage; only the last one counts"),
                    ));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::MultipleCmd as C;

    const FAIL: &str = r#"FROM alpine:3.20
CMD ["a"]
CMD ["b"]
"#;
    const PASS: &str = r#"FROM alpine:3.20
ENTRYPOINT ["a"]
CMD ["b"]
"#;

    crate::testutil::fixture_tests!(dockerfile, C, pass: PASS, fail: FAIL);
}
