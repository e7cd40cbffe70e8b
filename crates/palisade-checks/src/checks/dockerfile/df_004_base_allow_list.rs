//! PAL-DF-004: Base image not in the allow-list.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, DfCx, Hit};
#[allow(unused_imports)]
use crate::dockerfile::{Dockerfile, split_image};
use palisade_core::findings::misconfig::Severity;

pub struct BaseAllowList;

static META: CheckMeta = CheckMeta {
    id: "PAL-DF-004",
    title: "Base image not in the allow-list",
    severity: Severity::Medium,
    groups: &["dockerfile"],
    rationale: "Base images outside the approved list skip the organisation's hardening, patching and scanning.",
    remediation: "Build FROM an image listed in allowed_base_images (or an allowed registry).",
    references: &["hadolint DL3026"],
    peers: &["hadolint:DL3026"],
    ..CheckMeta::DF
};

impl Check for BaseAllowList {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn dockerfile(&self, df: &Dockerfile, cx: &DfCx<'_>, out: &mut Vec<Hit>) {
        let allowed: Vec<&String> =
            cx.opts.allowed_base_images.iter().chain(cx.opts.allowed_registries.iter()).collect();
        if allowed.is_empty() {
            return;
        }
        for s in &df.stages {
            let is_stage = df.stages[..s.index].iter().any(|p| p.alias.as_deref() == Some(s.image.as_str()));
            if is_stage || s.image == "scratch" {
                continue;
            }
            let (reg, path, _, _) = split_image(&s.image);
            let reg = if reg.is_empty() { "docker.io".to_string() } else { reg };
            let path =
                if reg == "docker.io" && !path.contains('/') { format!("library/{path}") } else { path };
            let full = format!("{reg}/{path}");
            if !allowed.iter().any(|a| {
                let a = a.trim_end_matches('/');
                full == a || full.starts_with(&format!("{a}/")) || (a.contains(':') && s.image.starts_with(a))
            }) {
                out.push(Hit::pos(s.line, s.col, format!("base image {full} is not in the allow-list")));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::BaseAllowList as C;
    use crate::testutil::df_hits;

    const FAIL: &str = r#"FROM evil.io/base:1
"#;
    const PASS: &str = r#"FROM docker.io/library/debian:12
"#;

    #[test]
    fn fires_on_fail_fixture() {
        let opts = crate::options::CheckOptions {
            allowed_base_images: vec!["docker.io/library/debian".into()],
            ..Default::default()
        };
        assert!(!crate::testutil::df_hits_opts(&C, FAIL, &opts).is_empty());
        assert!(crate::testutil::df_hits_opts(&C, PASS, &opts).is_empty());
        assert!(df_hits(&C, FAIL).is_empty());
    }

    #[test]
    fn silent_on_pass_fixture() {
        assert!(df_hits(&C, PASS).is_empty(), "{:?}", df_hits(&C, PASS));
    }
}
