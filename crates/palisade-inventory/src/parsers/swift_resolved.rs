//! Swift Package Manager `Package.resolved`, versions 1, 2 and 3.
//!
//! * v1: `object.pins[]` with `package`, `repositoryURL` and `state.{version, revision, branch}`.
//! * v2/v3: `pins[]` with `identity`, `kind`, `location` and the same `state`.
//!
//! The package name is the repository location without scheme, user and `.git` (`github.com/apple/swift-nio`),
//! as OSV's SwiftURL ecosystem and the `swift` purl type name packages. A pin on a branch or revision has no
//! version: it is reported without one, its revision in metadata `revision`. Local (`fileSystem`) pins are
//! the project's own and are skipped. The file does not record direct dependencies or the graph.

use super::lang_common::{PackageSet, wants_name};
use crate::{Input, Output, ParseError, Parser};
use palisade_artifact::FileMeta;
use palisade_core::{Ecosystem, Package};
use serde::Deserialize;

/// Parser for `Package.resolved` (id `swift-package-resolved`).
pub struct SwiftPackageResolved;

#[derive(Deserialize)]
struct Resolved {
    version: Option<u32>,
    object: Option<Pins>,
    #[serde(default)]
    pins: Vec<Pin>,
}

#[derive(Deserialize)]
struct Pins {
    #[serde(default)]
    pins: Vec<Pin>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Pin {
    package: Option<String>,
    #[serde(rename = "repositoryURL")]
    repository_url: Option<String>,
    location: Option<String>,
    kind: Option<String>,
    state: State,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct State {
    version: Option<String>,
    revision: Option<String>,
    branch: Option<String>,
}

/// `https://github.com/apple/swift-nio.git` and `git@github.com:apple/swift-nio.git` → `github.com/apple/swift-nio`.
fn package_name(url: &str) -> String {
    let s = url.trim();
    let s = s.split_once("://").map_or(s, |(_, rest)| rest);
    let s = s.rsplit_once('@').map_or(s, |(_, host)| host);
    let s = s.replacen(':', "/", 1);
    let s = s.trim_end_matches('/');
    s.strip_suffix(".git").unwrap_or(s).to_string()
}

impl Parser for SwiftPackageResolved {
    fn id(&self) -> &'static str {
        "swift-package-resolved"
    }

    fn file_names(&self) -> &'static [&'static str] {
        &["Package.resolved"]
    }

    fn wants(&self, meta: &FileMeta) -> bool {
        wants_name(meta, self.file_names())
    }

    fn parse(&self, input: &Input, out: &mut Output) -> Result<(), ParseError> {
        let resolved: Resolved = serde_json::from_slice(input.data)?;
        let version =
            resolved.version.ok_or_else(|| ParseError::new("no `version`: not a Package.resolved"))?;
        let pins = match (version, resolved.object) {
            (1, Some(o)) => o.pins,
            (1, None) => return Err(ParseError::new("version 1 without `object.pins`")),
            (2 | 3, _) => resolved.pins,
            (v, _) => return Err(ParseError::new(format!("unsupported Package.resolved version {v}"))),
        };
        let mut set = PackageSet::new();
        for pin in pins {
            if pin.kind.as_deref() == Some("fileSystem") || pin.kind.as_deref() == Some("localSourceControl")
            {
                continue;
            }
            let Some(url) = pin.location.as_deref().or(pin.repository_url.as_deref()) else {
                out.warnings
                    .push(format!("pin {:?} has no location; skipped", pin.package.unwrap_or_default()));
                continue;
            };
            let name = package_name(url);
            let version = pin.state.version.clone().unwrap_or_default();
            let mut pkg = Package::new(Ecosystem::Swift, &name, &version, input.location(), self.id());
            if let Some(r) = pin.state.revision {
                pkg.metadata.insert("revision".into(), r);
            }
            if let Some(b) = pin.state.branch {
                pkg.metadata.insert("branch".into(), b);
            }
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

    const V1: &[u8] = include_bytes!("../../tests/fixtures/swift/Package.resolved.v1");
    const V2: &[u8] = include_bytes!("../../tests/fixtures/swift/Package.resolved.v2");
    const V3: &[u8] = include_bytes!("../../tests/fixtures/swift/Package.resolved.v3");

    #[test]
    fn versions_1_2_3() {
        for (data, label) in [(V1, "v1"), (V2, "v2"), (V3, "v3")] {
            let out = run(&SwiftPackageResolved, "Package.resolved", data).unwrap();
            let names: Vec<String> =
                out.packages.iter().map(|p| format!("{}@{}", p.name, p.version)).collect();
            assert_eq!(
                names,
                [
                    "github.com/apple/swift-log@1.5.3",
                    "github.com/apple/swift-nio@2.62.0",
                    "github.com/example/edge@"
                ],
                "{label}"
            );
            let nio = get(&out, "github.com/apple/swift-nio", "2.62.0");
            assert_eq!(nio.purl, "pkg:swift/github.com/apple/swift-nio@2.62.0", "{label}");
            assert!(get(&out, "github.com/example/edge", "").metadata.contains_key("revision"), "{label}");
        }
        assert_eq!(package_name("git@github.com:apple/swift-nio.git"), "github.com/apple/swift-nio");
    }

    #[test]
    fn malformed() {
        assert!(run(&SwiftPackageResolved, "Package.resolved", b"{}").is_err());
        assert!(run(&SwiftPackageResolved, "Package.resolved", b"{\"version\": 9, \"pins\": []}").is_err());
        assert!(run(&SwiftPackageResolved, "Package.resolved", b"{\"version\": 1}").is_err());
    }

    #[test]
    fn truncated_input_does_not_panic() {
        no_panic_on_truncation(&SwiftPackageResolved, "Package.resolved", V2);
    }
}
