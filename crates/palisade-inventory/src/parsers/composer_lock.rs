//! `composer.lock` (PHP Composer, JSON): `packages` (run time) and `packages-dev` (dev).
//!
//! Each package has `name` (`vendor/name`), `version` as Composer writes it (`7.8.1`, `v1.29.0`), a
//! `license` array and `require`, whose package names (not `php`, `ext-*`, `lib-*` platform requirements)
//! are resolved to the locked versions. Local `path` packages (the project's own code) are skipped. The
//! lockfile does not say which packages are direct.

use super::lang_common::{PackageSet, purl, wants_name};
use crate::{Input, Output, ParseError, Parser};
use palisade_artifact::FileMeta;
use palisade_core::{Ecosystem, Package, Scope};
use serde::Deserialize;
use std::collections::BTreeMap;

/// Parser for `composer.lock` (id `composer-lock`).
pub struct ComposerLock;

#[derive(Deserialize)]
struct Lock {
    packages: Option<Vec<Locked>>,
    #[serde(default, rename = "packages-dev")]
    packages_dev: Option<Vec<Locked>>,
}

#[derive(Deserialize)]
struct Locked {
    name: String,
    version: String,
    #[serde(default)]
    license: Vec<String>,
    #[serde(default)]
    require: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    dist: Option<Dist>,
}

#[derive(Deserialize)]
struct Dist {
    #[serde(default, rename = "type")]
    kind: Option<String>,
}

impl Parser for ComposerLock {
    fn id(&self) -> &'static str {
        "composer-lock"
    }

    fn file_names(&self) -> &'static [&'static str] {
        &["composer.lock"]
    }

    fn wants(&self, meta: &FileMeta) -> bool {
        wants_name(meta, self.file_names())
    }

    fn parse(&self, input: &Input, out: &mut Output) -> Result<(), ParseError> {
        let lock: Lock = serde_json::from_slice(input.data)?;
        if lock.packages.is_none() && lock.packages_dev.is_none() {
            return Err(ParseError::new("no `packages` or `packages-dev`: not a composer.lock"));
        }
        let prod = lock.packages.unwrap_or_default();
        let dev = lock.packages_dev.unwrap_or_default();
        let versions: BTreeMap<String, &str> =
            prod.iter().chain(&dev).map(|p| (p.name.to_ascii_lowercase(), p.version.as_str())).collect();
        let mut set = PackageSet::new();
        for (list, scope) in [(&prod, Scope::Required), (&dev, Scope::Dev)] {
            for p in list {
                if p.dist.as_ref().and_then(|d| d.kind.as_deref()) == Some("path") {
                    continue;
                }
                let mut pkg =
                    Package::new(Ecosystem::Composer, &p.name, &p.version, input.location(), self.id());
                pkg.scope = scope;
                pkg.licenses = p.license.clone();
                for req in p.require.keys().filter(|r| r.contains('/')) {
                    if let Some((name, v)) = versions.get_key_value(&req.to_ascii_lowercase()) {
                        pkg.dependencies.push(purl(Ecosystem::Composer, name, v));
                    }
                }
                set.add(pkg);
            }
        }
        out.packages.extend(set.into_packages());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parsers::lang_common::testing::{get, no_panic_on_truncation, run};

    const LOCK: &[u8] = include_bytes!("../../tests/fixtures/composer/composer.lock");

    #[test]
    fn packages_and_dev() {
        let out = run(&ComposerLock, "composer.lock", LOCK).unwrap();
        assert_eq!(out.packages.len(), 6);
        let guzzle = get(&out, "guzzlehttp/guzzle", "7.8.1");
        assert_eq!(guzzle.purl, "pkg:composer/guzzlehttp/guzzle@7.8.1");
        assert_eq!(guzzle.licenses, ["MIT"]);
        assert_eq!(guzzle.dependencies, ["pkg:composer/guzzlehttp/psr7@2.6.2"]);
        assert_eq!(get(&out, "phpunit/phpunit", "10.5.20").scope, Scope::Dev);
        assert_eq!(
            get(&out, "phpunit/phpunit", "10.5.20").dependencies,
            ["pkg:composer/sebastian/diff@5.1.1"]
        );
        assert_eq!(get(&out, "symfony/polyfill-php80", "v1.29.0").scope, Scope::Required);
        assert!(!out.packages.iter().any(|p| p.name == "acme/internal"));
    }

    #[test]
    fn malformed() {
        assert!(run(&ComposerLock, "composer.lock", b"{}").is_err());
        assert!(run(&ComposerLock, "composer.lock", b"{\"packages\": [{\"name\": \"a/b\"}]}").is_err());
        assert!(run(&ComposerLock, "composer.lock", b"{\"packages\": {}}").is_err());
    }

    #[test]
    fn truncated_input_does_not_panic() {
        no_panic_on_truncation(&ComposerLock, "composer.lock", LOCK);
    }
}
