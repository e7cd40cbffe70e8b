//! PAL-DF-012: Secret in ENV or ARG.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, DfCx, Hit};
#[allow(unused_imports)]
use crate::dockerfile::{Dockerfile, split_image};
use palisade_core::findings::misconfig::Severity;

pub struct SecretInEnvArg;

static META: CheckMeta = CheckMeta {
    id: "PAL-DF-012",
    title: "Secret in ENV or ARG",
    severity: Severity::High,
    groups: &["dockerfile"],
    rationale: "ENV and ARG values are stored in the image config and history, visible to anyone who can pull the image.",
    remediation: "Use BuildKit secrets (RUN --mount=type=secret) and inject runtime secrets at deploy time.",
    references: &["hadolint DL3064", "CIS Docker 4.10"],
    peers: &["hadolint:DL3064"],
    ..CheckMeta::DF
};

impl Check for SecretInEnvArg {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn dockerfile(&self, df: &Dockerfile, cx: &DfCx<'_>, out: &mut Vec<Hit>) {
        for i in df.instructions.iter().filter(|i| i.kw == "ENV" || i.kw == "ARG") {
            for (k, v) in &i.pairs {
                let has_value = v.as_deref().is_some_and(|v| !v.is_empty() && !v.starts_with('$'));
                if secret_like(k) && (has_value || i.kw == "ARG") {
                    out.push(Hit::pos(
                        i.line,
                        i.col,
                        format!(
                            "{} {k} holds a secret in the image metadata; use a BuildKit secret mount",
                            i.kw
                        ),
                    ));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::SecretInEnvArg as C;

    const FAIL: &str = r#"FROM alpine:3.20
ENV API_KEY=abc123
"#;
    const PASS: &str = r#"FROM alpine:3.20
ENV LOG_LEVEL=debug
"#;

    crate::testutil::fixture_tests!(dockerfile, C, pass: PASS, fail: FAIL);
}
