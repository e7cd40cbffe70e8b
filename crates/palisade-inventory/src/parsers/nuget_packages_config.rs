//! NuGet `packages.config` (the pre-PackageReference format of .NET Framework projects):
//! `<packages><package id="Newtonsoft.Json" version="13.0.1" targetFramework="net472" /></packages>`.
//!
//! Every `package` is a package the project installed (the format has no graph: transitive packages are
//! listed too, so `direct` stays unknown). `developmentDependency="true"` gives [`Scope::Dev`]. A `package`
//! without an `id` or `version` is a warning.

use super::lang_common::{PackageSet, wants_name};
use super::nuget_xml::elements;
use crate::{Input, Output, ParseError, Parser};
use palisade_artifact::FileMeta;
use palisade_core::{Ecosystem, Package, Scope};

/// Parser for `packages.config` (id `nuget-packages-config`).
pub struct NugetPackagesConfig;

impl Parser for NugetPackagesConfig {
    fn id(&self) -> &'static str {
        "nuget-packages-config"
    }

    fn file_names(&self) -> &'static [&'static str] {
        &["packages.config"]
    }

    fn wants(&self, meta: &FileMeta) -> bool {
        wants_name(meta, self.file_names())
    }

    fn parse(&self, input: &Input, out: &mut Output) -> Result<(), ParseError> {
        let mut set = PackageSet::new();
        for (_, attrs) in elements(input.text()?, "packages", &["package"])? {
            let (Some(id), Some(version)) = (attrs.get("id"), attrs.get("version")) else {
                out.warnings.push(format!("<package> without id or version ({attrs:?}); skipped"));
                continue;
            };
            let mut pkg =
                Package::new(Ecosystem::Nuget, id.trim(), version.trim(), input.location(), self.id());
            if attrs.get("developmentDependency").is_some_and(|d| d.eq_ignore_ascii_case("true")) {
                pkg.scope = Scope::Dev;
            }
            if let Some(tf) = attrs.get("targetFramework") {
                pkg.metadata.insert("target_framework".into(), tf.clone());
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

    const CONFIG: &[u8] = include_bytes!("../../tests/fixtures/dotnet/packages.config");

    #[test]
    fn installed_packages() {
        let out = run(&NugetPackagesConfig, "packages.config", CONFIG).unwrap();
        assert_eq!(out.packages.len(), 3);
        assert_eq!(get(&out, "Newtonsoft.Json", "13.0.1").purl, "pkg:nuget/Newtonsoft.Json@13.0.1");
        assert_eq!(get(&out, "StyleCop.Analyzers", "1.1.118").scope, Scope::Dev);
        assert_eq!(out.warnings.len(), 1);
    }

    #[test]
    fn malformed() {
        assert!(run(&NugetPackagesConfig, "packages.config", b"<configuration/>").is_err());
        assert!(run(&NugetPackagesConfig, "packages.config", b"hello").is_err());
        assert!(run(&NugetPackagesConfig, "packages.config", b"<packages><package id='a'").is_err());
    }

    #[test]
    fn truncated_input_does_not_panic() {
        no_panic_on_truncation(&NugetPackagesConfig, "packages.config", CONFIG);
    }
}
