//! PAL-DF-051: World-writable permissions set.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, DfCx, Hit};
#[allow(unused_imports)]
use crate::dockerfile::{Dockerfile, split_image};
use palisade_core::findings::misconfig::Severity;

pub struct WorldWritable;

static META: CheckMeta = CheckMeta {
    id: "PAL-DF-051",
    title: "World-writable permissions set",
    severity: Severity::Medium,
    groups: &["dockerfile"],
    rationale: "chmod 777 / o+w lets any process (or user) in the container modify the files, including injected code.",
    remediation: "Grant the minimum: e.g. chmod 755 for directories, 644 for files, owned by the app user.",
    references: &["CWE-732"],
    peers: &[],
    ..CheckMeta::DF
};

impl Check for WorldWritable {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn dockerfile(&self, df: &Dockerfile, cx: &DfCx<'_>, out: &mut Vec<Hit>) {
        for (i, w) in run_cmds(df) {
            if is(&w, "chmod")
                && w.iter().skip(1).any(|m| {
                    let m = m.as_str();
                    (m.len() >= 3
                        && m.len() <= 4
                        && m.bytes().all(|b| b.is_ascii_digit())
                        && matches!(m.as_bytes()[m.len() - 1], b'2' | b'3' | b'6' | b'7'))
                        || ((m.contains("o+") || m.contains("a+") || m.starts_with("+")) && m.contains('w'))
                })
            {
                out.push(Hit::pos(
                    i.line,
                    i.col,
                    "chmod makes files world-writable; use the minimum permissions",
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::WorldWritable as C;

    const FAIL: &str = r#"FROM alpine:3.20
RUN chmod -R 777 /app
"#;
    const PASS: &str = r#"FROM alpine:3.20
RUN chmod -R 755 /app
"#;

    crate::testutil::fixture_tests!(dockerfile, C, pass: PASS, fail: FAIL);
}
