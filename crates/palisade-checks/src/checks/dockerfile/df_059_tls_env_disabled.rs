//! PAL-DF-059: TLS verification disabled through environment variables.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, DfCx, Hit};
#[allow(unused_imports)]
use crate::dockerfile::{Dockerfile, split_image};
use palisade_core::findings::misconfig::Severity;

pub struct TlsEnvDisabled;

static META: CheckMeta = CheckMeta {
    id: "PAL-DF-059",
    title: "TLS verification disabled through environment variables",
    severity: Severity::High,
    groups: &["dockerfile"],
    rationale: "PYTHONHTTPSVERIFY=0, NODE_TLS_REJECT_UNAUTHORIZED=0, GIT_SSL_NO_VERIFY and similar turn off certificate checks for every process in the image.",
    remediation: "Remove the variable; install the right CA certificates instead.",
    references: &["CWE-295"],
    peers: &[
        "checkov:CKV2_DOCKER_6",
        "checkov:CKV2_DOCKER_12",
        "checkov:CKV2_DOCKER_13",
        "checkov:CKV2_DOCKER_14",
    ],
    ..CheckMeta::DF
};

impl Check for TlsEnvDisabled {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn dockerfile(&self, df: &Dockerfile, cx: &DfCx<'_>, out: &mut Vec<Hit>) {
        let bad = |k: &str, v: &str| match k {
            "PYTHONHTTPSVERIFY" | "NODE_TLS_REJECT_UNAUTHORIZED" => v == "0",
            "GIT_SSL_NO_VERIFY" => !v.is_empty() && v != "0" && v != "false",
            "NPM_CONFIG_STRICT_SSL" | "npm_config_strict_ssl" => v == "false",
            _ => false,
        };
        for i in &df.instructions {
            if i.kw == "ENV" || i.kw == "ARG" {
                if let Some((k, _)) = i.pairs.iter().find(|(k, v)| bad(k, v.as_deref().unwrap_or(""))) {
                    out.push(Hit::pos(i.line, i.col, format!("{k} disables TLS certificate verification")));
                }
            } else if i.kw == "RUN" && !i.onbuild {
                for c in i.commands() {
                    if let Some(w) = c.iter().find(|w| w.split_once('=').is_some_and(|(k, v)| bad(k, v))) {
                        out.push(Hit::pos(
                            i.line,
                            i.col,
                            format!("{w} disables TLS certificate verification"),
                        ));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::TlsEnvDisabled as C;

    const FAIL: &str = r#"FROM node:22
ENV NODE_TLS_REJECT_UNAUTHORIZED=0
"#;
    const PASS: &str = r#"FROM node:22
ENV NODE_ENV=production
"#;

    crate::testutil::fixture_tests!(dockerfile, C, pass: PASS, fail: FAIL);
}
