//! PAL-DF-035: COPY with several sources to a destination without a trailing /.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, DfCx, Hit};
#[allow(unused_imports)]
use crate::dockerfile::{Dockerfile, split_image};
use palisade_core::findings::misconfig::Severity;

pub struct CopyMultiDest;

static META: CheckMeta = CheckMeta {
    id: "PAL-DF-035",
    title: "COPY with several sources to a destination without a trailing /",
    severity: Severity::Low,
    groups: &["dockerfile"],
    rationale: "With more than one source the destination must be a directory ending in /; otherwise the build fails.",
    remediation: "End the destination with /.",
    references: &["hadolint DL3021"],
    peers: &["hadolint:DL3021"],
    ..CheckMeta::DF
};

impl Check for CopyMultiDest {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn dockerfile(&self, df: &Dockerfile, cx: &DfCx<'_>, out: &mut Vec<Hit>) {
        for i in df.all("COPY").chain(df.all("ADD")) {
            if i.words.len() > 2 {
                let dest = i.words.last().map(String::as_str).unwrap_or("");
                if !dest.ends_with('/') && !dest.starts_with('$') {
                    out.push(Hit::pos(
                        i.line,
                        i.col,
                        format!("{} with several sources needs a destination ending in / (got {dest})", i.kw),
                    ));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::CopyMultiDest as C;

    const FAIL: &str = r#"FROM alpine:3.20
COPY a b /app
"#;
    const PASS: &str = r#"FROM alpine:3.20
COPY a b /app/
"#;

    crate::testutil::fixture_tests!(dockerfile, C, pass: PASS, fail: FAIL);
}
