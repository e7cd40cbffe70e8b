//! PAL-DF-006: USER is not numeric.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, DfCx, Hit};
#[allow(unused_imports)]
use crate::dockerfile::{Dockerfile, split_image};
use palisade_core::findings::misconfig::Severity;

pub struct NonNumericUser;

static META: CheckMeta = CheckMeta {
    id: "PAL-DF-006",
    title: "USER is not numeric",
    severity: Severity::Info,
    groups: &["dockerfile"],
    rationale: "Kubernetes runAsNonRoot can only verify numeric users; a user name may also map to UID 0.",
    remediation: "Use a numeric UID (USER 10001).",
    references: &["hadolint DL3066"],
    peers: &["hadolint:DL3066"],
    ..CheckMeta::DF
};

impl Check for NonNumericUser {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn dockerfile(&self, df: &Dockerfile, cx: &DfCx<'_>, out: &mut Vec<Hit>) {
        for u in df.all("USER") {
            let user = u.words.first().map(|s| s.split(':').next().unwrap_or("")).unwrap_or("");
            if !user.is_empty()
                && !user.chars().all(|c| c.is_ascii_digit())
                && !user.starts_with('$')
                && user != "root"
            {
                out.push(Hit::pos(u.line, u.col, format!("USER {user} is not numeric; use a UID")));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::NonNumericUser as C;

    const FAIL: &str = r#"FROM alpine:3.20
USER app
"#;
    const PASS: &str = r#"FROM alpine:3.20
USER 10001
"#;

    crate::testutil::fixture_tests!(dockerfile, C, pass: PASS, fail: FAIL);
}
