//! PAL-DF-010: Pipe in RUN without pipefail.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, DfCx, Hit};
#[allow(unused_imports)]
use crate::dockerfile::{Dockerfile, split_image};
use palisade_core::findings::misconfig::Severity;

pub struct Pipefail;

static META: CheckMeta = CheckMeta {
    id: "PAL-DF-010",
    title: "Pipe in RUN without pipefail",
    severity: Severity::Low,
    groups: &["dockerfile"],
    rationale: "Without pipefail a failing command on the left of a pipe is ignored and the build goes on with a broken result.",
    remediation: "Add SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"] before the RUN, or start the command with set -o pipefail.",
    references: &["hadolint DL4006"],
    peers: &["hadolint:DL4006"],
    ..CheckMeta::DF
};

impl Check for Pipefail {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn dockerfile(&self, df: &Dockerfile, cx: &DfCx<'_>, out: &mut Vec<Hit>) {
        let mut pipefail: Vec<bool> = vec![false; df.stages.len() + 1];
        for i in &df.instructions {
            let st = i.stage.map_or(0, |s| s + 1);
            if i.kw == "SHELL" {
                if let Some(p) = pipefail.get_mut(st) {
                    *p = i.words.iter().any(|w| w.contains("pipefail"));
                }
                continue;
            }
            if i.kw != "RUN" || i.onbuild || i.exec_form {
                continue;
            }
            let piped = i.pipelines().iter().any(|p| p.len() > 1);
            if piped && !pipefail.get(st).copied().unwrap_or(false) && !i.raw.contains("pipefail") {
                out.push(Hit::pos(
                    i.line,
                    i.col,
                    "RUN uses a pipe without pipefail; set SHELL with -o pipefail",
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Pipefail as C;

    const FAIL: &str = r#"FROM alpine:3.20
RUN wget -O - https://x | tar xz
"#;
    const PASS: &str = r#"FROM alpine:3.20
SHELL ["/bin/ash", "-eo", "pipefail", "-c"]
RUN wget -O - https://x | tar xz
"#;

    crate::testutil::fixture_tests!(dockerfile, C, pass: PASS, fail: FAIL);
}
