//! PAL-DF-014: Invalid EXPOSE port.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, DfCx, Hit};
#[allow(unused_imports)]
use crate::dockerfile::{Dockerfile, split_image};
use palisade_core::findings::misconfig::Severity;

pub struct InvalidExpose;

static META: CheckMeta = CheckMeta {
    id: "PAL-DF-014",
    title: "Invalid EXPOSE port",
    severity: Severity::Low,
    groups: &["dockerfile"],
    rationale: "Ports must be 0-65535 (optionally /tcp or /udp); invalid values fail at run time.",
    remediation: "Fix the port number.",
    references: &["hadolint DL3011"],
    peers: &["hadolint:DL3011"],
    ..CheckMeta::DF
};

impl Check for InvalidExpose {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn dockerfile(&self, df: &Dockerfile, cx: &DfCx<'_>, out: &mut Vec<Hit>) {
        for e in df.all("EXPOSE") {
            for p in &e.words {
                let n = p.split('/').next().unwrap_or("");
                if n.starts_with('$') {
                    continue;
                }
                let ok = n.split('-').all(|x| x.parse::<u32>().is_ok_and(|v| v <= 65535));
                if !ok {
                    out.push(Hit::pos(e.line, e.col, format!("EXPOSE {p} is not a valid port")));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::InvalidExpose as C;

    const FAIL: &str = r#"FROM alpine:3.20
EXPOSE 80000
"#;
    const PASS: &str = r#"FROM alpine:3.20
EXPOSE 8080/tcp
"#;

    crate::testutil::fixture_tests!(dockerfile, C, pass: PASS, fail: FAIL);
}
