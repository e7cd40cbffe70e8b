//! NuGet central package management, `Directory.Packages.props`:
//! `<PackageVersion Include="Newtonsoft.Json" Version="13.0.3" />` sets the version of a package the projects
//! below it reference; `<GlobalPackageReference Include=... Version=... />` adds a package to every project.
//!
//! The entries are declarations (what the projects may use), so every package is direct. A version range
//! (`[1.0,2.0)`) or an MSBuild property (`$(JsonVersion)`) is not one version: the package is reported
//! without a version and with a warning. `Update=` items change an entry declared elsewhere and are read the
//! same way.

use super::lang_common::{PackageSet, wants_name};
use super::nuget_xml::elements;
use crate::{Input, Output, ParseError, Parser};
use palisade_artifact::FileMeta;
use palisade_core::{Ecosystem, Package};

/// Parser for `Directory.Packages.props` (id `nuget-central-versions`).
pub struct NugetCentralVersions;

impl Parser for NugetCentralVersions {
    fn id(&self) -> &'static str {
        "nuget-central-versions"
    }

    fn file_names(&self) -> &'static [&'static str] {
        &["Directory.Packages.props"]
    }

    fn wants(&self, meta: &FileMeta) -> bool {
        wants_name(meta, self.file_names())
    }

    fn parse(&self, input: &Input, out: &mut Output) -> Result<(), ParseError> {
        let mut set = PackageSet::new();
        for (element, attrs) in
            elements(input.text()?, "Project", &["PackageVersion", "GlobalPackageReference"])?
        {
            let Some(id) = attrs.get("Include").or_else(|| attrs.get("Update")).map(|s| s.trim()) else {
                out.warnings.push(format!("<{element}> without Include; skipped"));
                continue;
            };
            let raw = attrs.get("Version").map(|v| v.trim()).unwrap_or("");
            let version =
                if raw.is_empty() || raw.contains("$(") || raw.starts_with('[') || raw.starts_with('(') {
                    out.warnings.push(format!(
                        "{id}: version {raw:?} is not one version; reported without a version"
                    ));
                    ""
                } else {
                    raw
                };
            let mut pkg = Package::new(Ecosystem::Nuget, id, version, input.location(), self.id());
            pkg.direct = Some(true);
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

    const PROPS: &[u8] = include_bytes!("../../tests/fixtures/dotnet/Directory.Packages.props");

    #[test]
    fn central_versions() {
        let out = run(&NugetCentralVersions, "Directory.Packages.props", PROPS).unwrap();
        let names: Vec<String> = out.packages.iter().map(|p| format!("{}@{}", p.name, p.version)).collect();
        assert_eq!(
            names,
            [
                "Microsoft.Extensions.Logging@8.0.0",
                "Nerdbank.GitVersioning@3.6.133",
                "Newtonsoft.Json@13.0.3",
                "Serilog@"
            ]
        );
        assert_eq!(get(&out, "Newtonsoft.Json", "13.0.3").direct, Some(true));
        assert_eq!(out.warnings.len(), 1, "{:?}", out.warnings);
    }

    #[test]
    fn malformed() {
        assert!(run(&NugetCentralVersions, "Directory.Packages.props", b"<packages/>").is_err());
        assert!(run(&NugetCentralVersions, "Directory.Packages.props", b"hello").is_err());
    }

    #[test]
    fn truncated_input_does_not_panic() {
        no_panic_on_truncation(&NugetCentralVersions, "Directory.Packages.props", PROPS);
    }
}
