//! PAL-DF-046: COPY of the entire filesystem of another stage.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, DfCx, Hit};
#[allow(unused_imports)]
use crate::dockerfile::{Dockerfile, split_image};
use palisade_core::findings::misconfig::Severity;

pub struct CopyRootFs;

static META: CheckMeta = CheckMeta {
    id: "PAL-DF-046",
    title: "COPY of the entire filesystem of another stage",
    severity: Severity::Medium,
    groups: &["dockerfile"],
    rationale: "COPY --from=stage / / copies everything, including package databases and secrets, defeating multi-stage minimisation.",
    remediation: "Copy only the artifacts the final image needs.",
    references: &["hadolint DL3067"],
    peers: &["hadolint:DL3067"],
    ..CheckMeta::DF
};

impl Check for CopyRootFs {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn dockerfile(&self, df: &Dockerfile, cx: &DfCx<'_>, out: &mut Vec<Hit>) {
        for i in df.all("COPY") {
            if i.flag("from").is_some() && i.words.first().is_some_and(|s| s == "/") {
                out.push(Hit::pos(
                    i.line,
                    i.col,
                    "COPY --from copies the whole filesystem; copy only what is needed",
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::CopyRootFs as C;

    const FAIL: &str = r#"FROM alpine:3.20 AS b
FROM scratch
COPY --from=b / /
"#;
    const PASS: &str = r#"FROM alpine:3.20 AS b
FROM scratch
COPY --from=b /app /app
"#;

    crate::testutil::fixture_tests!(dockerfile, C, pass: PASS, fail: FAIL);
}
