//! Go `vendor/modules.txt`: the modules copied into a project's `vendor/` directory by `go mod vendor`.
//!
//! `# module version` starts a module (`# module version => replacement version` when replaced: the
//! replacement is what was vendored, `# module version => ./local` a local copy, kept at the required version
//! with metadata `replaced_by_path`); `## explicit` (Go 1.14+) marks a module the `go.mod` requires, directly
//! or with `// indirect` (from Go 1.17 every module of the build is required so), which modules.txt does not
//! say: `direct` stays unknown here and comes from the `go.mod` beside it. Package lines (no `#`) name the packages vendored from the module above and are
//! not needed here. A `# module` line without a version is a `replace` with no requirement and is skipped.

use super::lang_common::{MAX_FILE_SIZE, PackageSet};
use crate::{Input, Output, ParseError, Parser};
use palisade_artifact::FileMeta;
use palisade_core::{Ecosystem, Package};

/// Parser for `vendor/modules.txt` (id `go-vendor-modules`).
pub struct GoVendorModules;

impl Parser for GoVendorModules {
    fn id(&self) -> &'static str {
        "go-vendor-modules"
    }

    fn wants(&self, meta: &FileMeta) -> bool {
        meta.size <= MAX_FILE_SIZE
            && (meta.path == "vendor/modules.txt" || meta.path.ends_with("/vendor/modules.txt"))
            && !meta.path.contains("pkg/mod/")
    }

    fn parse(&self, input: &Input, out: &mut Output) -> Result<(), ParseError> {
        let text = input.text()?;
        let mut set = PackageSet::new();
        let mut current: Option<Package> = None;
        let mut saw_module = false;
        for (n, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.starts_with("## ") {
                continue;
            }
            if let Some(rest) = line.strip_prefix("# ") {
                set.add_opt(current.take());
                saw_module = true;
                let fields: Vec<&str> = rest.split_whitespace().collect();
                let pkg = match fields.as_slice() {
                    [module, version] => {
                        Some(Package::new(Ecosystem::Golang, *module, *version, input.location(), self.id()))
                    }
                    [module, version, "=>", new, new_version] => {
                        let mut p =
                            Package::new(Ecosystem::Golang, *new, *new_version, input.location(), self.id());
                        p.metadata.insert("replaces".into(), (*module).to_string());
                        let _ = version;
                        Some(p)
                    }
                    [module, version, "=>", dir] => {
                        let mut p =
                            Package::new(Ecosystem::Golang, *module, *version, input.location(), self.id());
                        p.metadata.insert("replaced_by_path".into(), (*dir).to_string());
                        Some(p)
                    }
                    // `# module => replacement`: a replace without a requirement.
                    [_, "=>", ..] => None,
                    _ => {
                        out.warnings.push(format!("line {}: unreadable module line; skipped", n + 1));
                        None
                    }
                };
                current = pkg;
                continue;
            }
            if !line.is_empty() && !saw_module {
                return Err(ParseError::new(format!(
                    "line {}: package line before any `# module` line",
                    n + 1
                )));
            }
        }
        set.add_opt(current.take());
        if !saw_module && !text.trim().is_empty() {
            return Err(ParseError::new("no `# module version` line: not a vendor/modules.txt"));
        }
        out.packages.extend(set.into_packages());
        Ok(())
    }
}

trait AddOpt {
    fn add_opt(&mut self, p: Option<Package>);
}

impl AddOpt for PackageSet {
    fn add_opt(&mut self, p: Option<Package>) {
        if let Some(p) = p {
            self.add(p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parsers::lang_common::testing::{get, no_panic_on_truncation, run};

    const MODULES: &[u8] = include_bytes!("../../tests/fixtures/go/vendor/modules.txt");

    #[test]
    fn vendored_modules() {
        let out = run(&GoVendorModules, "app/vendor/modules.txt", MODULES).unwrap();
        let names: Vec<String> = out.packages.iter().map(|p| format!("{}@{}", p.name, p.version)).collect();
        assert_eq!(
            names,
            [
                "github.com/example/fork@v1.0.1",
                "github.com/pkg/errors@v0.9.1",
                "golang.org/x/sys@v0.15.0",
                "golang.org/x/text@v0.14.0"
            ]
        );
        // `## explicit` is not "direct": go.mod alone says which requirements are `// indirect`.
        assert_eq!(get(&out, "github.com/pkg/errors", "v0.9.1").direct, None);
        assert_eq!(get(&out, "golang.org/x/text", "v0.14.0").direct, None);
        assert_eq!(
            get(&out, "github.com/example/fork", "v1.0.1").metadata["replaces"],
            "github.com/example/orig"
        );
        assert!(out.warnings.is_empty());
    }

    #[test]
    fn malformed() {
        assert!(run(&GoVendorModules, "vendor/modules.txt", b"hello world\n").is_err());
    }

    #[test]
    fn truncated_input_does_not_panic() {
        no_panic_on_truncation(&GoVendorModules, "vendor/modules.txt", MODULES);
    }
}
