//! R `renv.lock` (JSON): `Packages.<name>` with `Package`, `Version` and `Source` (`Repository` with
//! `Repository: "CRAN"` or a repository URL, `Bioconductor`, `GitHub`, `Local`, ...).
//!
//! CRAN and other repository packages are CRAN-ecosystem packages. GitHub/GitLab packages say where they
//! come from in the purl qualifier `vcs_url` (`RemoteUsername`/`RemoteRepo`/`RemoteSha`); `Local` packages
//! are the project's own and skipped. The lockfile records `Requirements` (package names) where renv ≥ 0.17
//! writes them: they become the dependency graph. It does not say which packages are direct.

use super::lang_common::{PackageSet, purl, wants_name};
use crate::{Input, Output, ParseError, Parser};
use palisade_artifact::FileMeta;
use palisade_core::{Ecosystem, Package, package::build_purl};
use serde::Deserialize;
use std::collections::BTreeMap;

/// Parser for `renv.lock` (id `renv-lock`).
pub struct RenvLock;

#[derive(Deserialize)]
struct Lock {
    #[serde(rename = "R")]
    r: Option<serde_json::Value>,
    #[serde(rename = "Packages", default)]
    packages: BTreeMap<String, Entry>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Entry {
    #[serde(rename = "Package")]
    package: Option<String>,
    #[serde(rename = "Version")]
    version: Option<String>,
    #[serde(rename = "Source")]
    source: Option<String>,
    #[serde(rename = "RemoteHost")]
    remote_host: Option<String>,
    #[serde(rename = "RemoteUsername")]
    remote_user: Option<String>,
    #[serde(rename = "RemoteRepo")]
    remote_repo: Option<String>,
    #[serde(rename = "RemoteSha")]
    remote_sha: Option<String>,
    #[serde(rename = "Requirements")]
    requirements: Vec<String>,
}

impl Parser for RenvLock {
    fn id(&self) -> &'static str {
        "renv-lock"
    }

    fn file_names(&self) -> &'static [&'static str] {
        &["renv.lock"]
    }

    fn wants(&self, meta: &FileMeta) -> bool {
        wants_name(meta, self.file_names())
    }

    fn parse(&self, input: &Input, out: &mut Output) -> Result<(), ParseError> {
        let lock: Lock = serde_json::from_slice(input.data)?;
        if lock.r.is_none() && lock.packages.is_empty() {
            return Err(ParseError::new("no `R` or `Packages`: not a renv.lock"));
        }
        let versions: BTreeMap<&str, &str> = lock
            .packages
            .iter()
            .filter_map(|(k, e)| Some((e.package.as_deref().unwrap_or(k), e.version.as_deref()?)))
            .collect();
        let mut set = PackageSet::new();
        for (key, e) in &lock.packages {
            let name = e.package.as_deref().unwrap_or(key);
            let Some(version) = e.version.as_deref() else {
                out.warnings.push(format!("package {name}: no Version; skipped"));
                continue;
            };
            let source = e.source.as_deref().unwrap_or("");
            if source == "Local" {
                continue;
            }
            let mut pkg = Package::new(Ecosystem::Cran, name, version, input.location(), self.id());
            if matches!(source, "GitHub" | "GitLab" | "Bitbucket")
                && let (Some(user), Some(repo)) = (&e.remote_user, &e.remote_repo)
            {
                let host = e.remote_host.as_deref().unwrap_or("api.github.com");
                let host = if host.contains("github") { "github.com" } else { host };
                let mut vcs = format!("git+https://{host}/{user}/{repo}.git");
                if let Some(sha) = &e.remote_sha {
                    vcs = format!("{vcs}#{sha}");
                }
                pkg.purl = build_purl(Ecosystem::Cran, name, version, &[("vcs_url", &vcs)]);
                pkg.metadata.insert("vcs_url".into(), vcs);
            }
            pkg.metadata.insert("source".into(), source.to_string());
            pkg.dependencies = e
                .requirements
                .iter()
                .filter_map(|r| versions.get(r.as_str()).map(|v| purl(Ecosystem::Cran, r, v)))
                .collect();
            set.add(pkg);
        }
        out.packages.extend(set.into_packages());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parsers::lang_common::testing::{get, no_panic_on_truncation, run};

    const LOCK: &[u8] = include_bytes!("../../tests/fixtures/r/renv.lock");

    #[test]
    fn cran_github_and_local() {
        let out = run(&RenvLock, "renv.lock", LOCK).unwrap();
        let names: Vec<String> = out.packages.iter().map(|p| format!("{}@{}", p.name, p.version)).collect();
        assert_eq!(names, ["R6@2.5.1", "cli@3.6.2", "glue@1.7.0", "rlang@1.1.3"]);
        assert_eq!(get(&out, "rlang", "1.1.3").purl, "pkg:cran/rlang@1.1.3");
        assert_eq!(get(&out, "cli", "3.6.2").dependencies, ["pkg:cran/R6@2.5.1"]);
        assert!(
            get(&out, "glue", "1.7.0").metadata["vcs_url"]
                .starts_with("git+https://github.com/tidyverse/glue.git#")
        );
    }

    #[test]
    fn malformed() {
        assert!(run(&RenvLock, "renv.lock", b"{}").is_err());
        assert!(run(&RenvLock, "renv.lock", b"hello").is_err());
    }

    #[test]
    fn truncated_input_does_not_panic() {
        no_panic_on_truncation(&RenvLock, "renv.lock", LOCK);
    }
}
