//! PAL-DF-071: yum, dnf, microdnf or zypper install without version pins.
//!
//! yum, dnf and microdnf take a version as `name-version` or `name-version-release` (`curl-7.76.1`,
//! `nginx-1:1.20.1-14.el9`); zypper as `name=version` (or `>=`, `<`). A name whose last part only looks like a
//! number (`java-11-openjdk`) is not a pin. Local `.rpm` files, URLs, paths and `@group`s are not judged.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, DfCx, Hit};
#[allow(unused_imports)]
use crate::dockerfile::{Dockerfile, split_image};
use palisade_core::findings::misconfig::Severity;

pub struct RpmPin;

static META: CheckMeta = CheckMeta {
    id: "PAL-DF-071",
    title: "yum, dnf or zypper install without version pins",
    severity: Severity::Low,
    groups: &["dockerfile"],
    rationale: "Unpinned packages make builds unreproducible: the image gets whatever the repository holds on the day of the build.",
    remediation: "Pin versions: yum/dnf install pkg-1.2.3 (or pkg-1.2.3-1.el9), zypper install pkg=1.2.3.",
    references: &["hadolint DL3033", "hadolint DL3041", "hadolint DL3037"],
    peers: &["hadolint:DL3033", "hadolint:DL3041", "hadolint:DL3037"],
    ..CheckMeta::DF
};

impl Check for RpmPin {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn dockerfile(&self, df: &Dockerfile, cx: &DfCx<'_>, out: &mut Vec<Hit>) {
        for (i, w) in run_cmds(df) {
            let tool = ["yum", "dnf", "microdnf", "zypper"].into_iter().find(|t| is(&w, t));
            let Some(tool) = tool else { continue };
            let Some(subcmd) = sub(&w).filter(|s| *s == "install" || (tool == "zypper" && *s == "in")) else {
                continue;
            };
            let unpinned: Vec<&str> = packages(&w, subcmd)
                .into_iter()
                .filter(|p| judged(p) && !if tool == "zypper" { zypper_pinned(p) } else { rpm_pinned(p) })
                .collect();
            if !unpinned.is_empty() {
                out.push(Hit::pos(
                    i.line,
                    i.col,
                    format!("{tool} {subcmd} without pinned versions: {}", unpinned.join(", ")),
                ));
            }
        }
    }
}

/// A package name to judge: not a local file, URL, path, group or shell variable.
fn judged(p: &str) -> bool {
    !(p.ends_with(".rpm") || p.contains('/') || p.starts_with('@') || p.starts_with('$') || p.contains("${"))
}

/// `name-version` or `name-version-release`: the version starts with a digit (after an optional `epoch:`),
/// and a release, when there is one, holds a digit.
fn rpm_pinned(p: &str) -> bool {
    let parts: Vec<&str> = p.split('-').collect();
    let version = |s: &str| s.chars().next().is_some_and(|c| c.is_ascii_digit());
    match parts.as_slice() {
        [_, .., last] if parts.len() >= 2 && version(last) => true,
        [_, .., v, release] if parts.len() >= 3 => version(v) && release.chars().any(|c| c.is_ascii_digit()),
        _ => false,
    }
}

/// zypper: `name=version`, `name>=version`, `name<version`.
fn zypper_pinned(p: &str) -> bool {
    p.contains(['=', '<', '>'])
}

#[cfg(test)]
mod tests {
    use super::RpmPin as C;
    use crate::testutil::df_hits;

    const FAIL: &str = r#"FROM rockylinux:9
RUN dnf install -y --setopt=tsflags=nodocs curl-7.76.1 nginx
"#;
    const PASS: &str = r#"FROM rockylinux:9
RUN dnf install -y curl-7.76.1 nginx-1:1.20.1-14.el9 java-11-openjdk-11.0.20.0.8-1.el9 ./local.rpm @development
"#;

    crate::testutil::fixture_tests!(dockerfile, C, pass: PASS, fail: FAIL);

    #[test]
    fn tools_and_version_syntax() {
        let run = |cmd: &str| df_hits(&C, &format!("FROM registry.access.redhat.com/ubi9\nRUN {cmd}\n"));
        assert_eq!(run("yum -y install java-11-openjdk").len(), 1);
        assert_eq!(run("microdnf install python3-pip").len(), 1);
        assert_eq!(run("zypper --non-interactive in curl").len(), 1);
        assert!(run("zypper install -y curl=8.0.1").is_empty());
        assert!(run("yum install -y https://example.com/epel-release-latest-9.noarch.rpm").is_empty());
        assert!(run("yum clean all && dnf update -y").is_empty());
        let h = run("yum install -y epel-release-9-7.el9 python3 git");
        assert_eq!(h.len(), 1);
        assert!(h[0].message.contains("python3, git") && !h[0].message.contains("epel"), "{}", h[0].message);
    }
}
