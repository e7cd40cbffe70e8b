//! PAL-DF-066: Credentials embedded in a URL.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, DfCx, Hit};
#[allow(unused_imports)]
use crate::dockerfile::{Dockerfile, split_image};
use palisade_core::findings::misconfig::Severity;

pub struct UrlCredentials;

static META: CheckMeta = CheckMeta {
    id: "PAL-DF-066",
    title: "Credentials embedded in a URL",
    severity: Severity::High,
    groups: &["dockerfile"],
    rationale: "user:password@host URLs in RUN/ADD end up in the image history and build logs.",
    remediation: "Use BuildKit secret mounts or netrc files mounted as secrets.",
    references: &["CWE-798"],
    peers: &[],
    ..CheckMeta::DF
};

impl Check for UrlCredentials {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn dockerfile(&self, df: &Dockerfile, cx: &DfCx<'_>, out: &mut Vec<Hit>) {
        for i in df.instructions.iter().filter(|i| matches!(i.kw, "RUN" | "ADD" | "ENV" | "ARG")) {
            let text = format!("{} {}", i.raw, i.words.join(" "));
            let found = text.split_whitespace().any(|w| {
                let Some((_, rest)) = w.split_once("://") else { return false };
                let auth = rest.split('/').next().unwrap_or("");
                auth.split_once('@').is_some_and(|(cred, _)| {
                    cred.contains(':') && !cred.ends_with(':') && !cred.contains('$')
                })
            });
            if found {
                out.push(Hit::pos(
                    i.line,
                    i.col,
                    "a URL embeds credentials (user:password@host); use a secret mount",
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::UrlCredentials as C;

    const FAIL: &str = r#"FROM alpine:3.20
RUN git clone https://bob:s3cret@git.example.com/repo.git
"#;
    const PASS: &str = r#"FROM alpine:3.20
RUN git clone https://git.example.com/repo.git
"#;

    crate::testutil::fixture_tests!(dockerfile, C, pass: PASS, fail: FAIL);
}
