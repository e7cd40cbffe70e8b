//! PAL-DF-038: Both wget and curl used.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, DfCx, Hit};
#[allow(unused_imports)]
use crate::dockerfile::{Dockerfile, split_image};
use palisade_core::findings::misconfig::Severity;

pub struct WgetAndCurl;

static META: CheckMeta = CheckMeta {
    id: "PAL-DF-038",
    title: "Both wget and curl used",
    severity: Severity::Info,
    groups: &["dockerfile"],
    rationale: "Installing two downloaders adds size and attack surface.",
    remediation: "Use one of wget or curl.",
    references: &["hadolint DL4001"],
    peers: &["hadolint:DL4001"],
    ..CheckMeta::DF
};

impl Check for WgetAndCurl {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn dockerfile(&self, df: &Dockerfile, cx: &DfCx<'_>, out: &mut Vec<Hit>) {
        let cmds = run_cmds(df);
        let curl = cmds.iter().find(|(_, w)| is(w, "curl"));
        let wget = cmds.iter().find(|(_, w)| is(w, "wget"));
        if let (Some(_), Some((i, _))) = (curl, wget) {
            out.push(Hit::pos(i.line, i.col, "both wget and curl are used; pick one"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::WgetAndCurl as C;

    const FAIL: &str = r#"FROM alpine:3.20
RUN curl -fo a https://x
RUN wget -q https://y
"#;
    const PASS: &str = r#"FROM alpine:3.20
RUN curl -fo a https://x
"#;

    crate::testutil::fixture_tests!(dockerfile, C, pass: PASS, fail: FAIL);
}
