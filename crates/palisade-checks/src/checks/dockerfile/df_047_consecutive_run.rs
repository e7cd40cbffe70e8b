//! PAL-DF-047: Consecutive RUN instructions.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, DfCx, Hit};
#[allow(unused_imports)]
use crate::dockerfile::{Dockerfile, split_image};
use palisade_core::findings::misconfig::Severity;

pub struct ConsecutiveRun;

static META: CheckMeta = CheckMeta {
    id: "PAL-DF-047",
    title: "Consecutive RUN instructions",
    severity: Severity::Info,
    groups: &["dockerfile"],
    rationale: "Each RUN adds a layer; consecutive RUNs can usually be merged.",
    remediation: "Merge consecutive RUN instructions with &&.",
    references: &["hadolint DL3059"],
    peers: &["hadolint:DL3059"],
    ..CheckMeta::DF
};

impl Check for ConsecutiveRun {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn dockerfile(&self, df: &Dockerfile, cx: &DfCx<'_>, out: &mut Vec<Hit>) {
        let list: Vec<_> = df.instructions.iter().filter(|i| !i.onbuild).collect();
        for w in list.windows(2) {
            if w[0].kw == "RUN"
                && w[1].kw == "RUN"
                && w[0].stage == w[1].stage
                && w[0].flags.is_empty()
                && w[1].flags.is_empty()
            {
                out.push(Hit::pos(
                    w[1].line,
                    w[1].col,
                    "consecutive RUN instructions; consider merging them",
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ConsecutiveRun as C;

    const FAIL: &str = r#"FROM alpine:3.20
RUN echo a
RUN echo b
"#;
    const PASS: &str = r#"FROM alpine:3.20
RUN echo a && echo b
"#;

    crate::testutil::fixture_tests!(dockerfile, C, pass: PASS, fail: FAIL);
}
