//! Cargo: the `license` and `license-file` of the `Cargo.toml` of crate sources found in the tree, for the
//! `Cargo.lock` packages of the same name and version (neither `Cargo.lock` nor an auditable binary carries
//! licences).
//!
//! Crate sources are the registry's unpacked crates (`…/.cargo/registry/src/<index>/<name>-<version>/`,
//! also inside an image) and vendored crates (`…/vendor/<dir>/`, as `cargo vendor` writes them). Their
//! `Cargo.toml` is the normalised one Cargo publishes: `[package]` `name`, `version` and `license` are
//! plain strings. `license-file` names a file of the crate, matched as a licence text by the sink.

use serde::{Deserialize, Serialize};

/// What a crate declares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrateLicense {
    pub name: String,
    pub version: String,
    /// The SPDX expression of `license`, as written.
    pub license: Option<String>,
    /// `license-file`, relative to the crate directory.
    pub license_file: Option<String>,
}

/// Is `path` the manifest of a crate source (registry or vendored)?
pub fn is_crate_manifest(path: &str) -> bool {
    let Some(dir) = path.strip_suffix("/Cargo.toml") else { return false };
    let Some((parent, _crate_dir)) = dir.rsplit_once('/') else { return false };
    // `<index>` directory of the registry's `src`, or a `vendor` directory.
    let in_registry = parent.rsplit_once('/').is_some_and(|(p, _index)| {
        p.ends_with("/registry/src") || p == "registry/src" || p.ends_with(".cargo/registry/src")
    });
    let vendored = parent == "vendor" || parent.ends_with("/vendor");
    in_registry || vendored
}

#[derive(Deserialize)]
struct Manifest {
    package: Option<Package>,
}

#[derive(Deserialize)]
struct Package {
    name: Option<toml::Value>,
    version: Option<toml::Value>,
    license: Option<toml::Value>,
    #[serde(rename = "license-file")]
    license_file: Option<toml::Value>,
}

fn string(v: Option<toml::Value>) -> Option<String> {
    v.and_then(|v| v.as_str().map(|s| s.trim().to_string())).filter(|s| !s.is_empty())
}

/// Read a crate's `Cargo.toml`. `Ok(None)` when it declares no `[package]` with a name and version (a
/// virtual workspace manifest) or no licence at all; an error for a file that is not TOML.
pub fn parse(text: &str) -> Result<Option<CrateLicense>, String> {
    let m: Manifest = toml::from_str(text).map_err(|e| format!("invalid Cargo.toml: {}", e.message()))?;
    let Some(p) = m.package else { return Ok(None) };
    let (Some(name), Some(version)) = (string(p.name), string(p.version)) else { return Ok(None) };
    let license = string(p.license);
    let license_file = string(p.license_file);
    if license.is_none() && license_file.is_none() {
        return Ok(None);
    }
    Ok(Some(CrateLicense { name, version, license, license_file }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crate_manifests() {
        let c = parse(include_str!("../tests/fixtures/cargo/Cargo.toml")).unwrap().unwrap();
        assert_eq!(c.name, "serde");
        assert_eq!(c.version, "1.0.228");
        assert_eq!(c.license.as_deref(), Some("MIT OR Apache-2.0"));
        assert_eq!(c.license_file, None);
        let f =
            parse("[package]\nname = \"x\"\nversion = \"0.1.0\"\nlicense-file = \"LICENSE.txt\"\n").unwrap();
        assert_eq!(f.unwrap().license_file.as_deref(), Some("LICENSE.txt"));
        assert_eq!(parse("[workspace]\nmembers = [\"a\"]\n").unwrap(), None);
        assert_eq!(parse("[package]\nname = \"x\"\nversion = \"1.0.0\"\n").unwrap(), None);
        let e = parse("[package\nname = 1").unwrap_err();
        assert!(e.starts_with("invalid Cargo.toml"), "{e}");
    }

    #[test]
    fn where_crate_sources_are() {
        assert!(is_crate_manifest(
            "root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/serde-1.0.228/Cargo.toml"
        ));
        assert!(is_crate_manifest(
            "usr/local/cargo/registry/src/index.crates.io-6f17d22bba15001f/libc-0.2.1/Cargo.toml"
        ));
        assert!(is_crate_manifest("app/vendor/serde/Cargo.toml"));
        assert!(is_crate_manifest("vendor/serde/Cargo.toml"));
        assert!(!is_crate_manifest("app/Cargo.toml"));
        assert!(!is_crate_manifest("app/crates/core/Cargo.toml"));
        assert!(!is_crate_manifest("app/vendor/serde/src/Cargo.toml"));
    }
}
