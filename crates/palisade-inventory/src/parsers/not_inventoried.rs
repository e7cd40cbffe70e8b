//! Manifests Palisade does not read: build scripts and dependency manifests whose packages are only known
//! once a lockfile Palisade reads is written beside them (`build.gradle`, a `Cargo.toml` without a
//! `Cargo.lock`, a `Gemfile` without `Gemfile.lock`, a `*.csproj` without `packages.lock.json`, ...), and
//! lockfiles of formats it does not read (bun's binary `bun.lockb`).
//!
//! The parser reads nothing from the file: it records the format and which lockfiles would cover it. After
//! the walk, [`resolve`] lists each manifest with no covering lockfile read in its directory (or, for
//! formats with workspaces, in a directory above) as "not inventoried" in the report
//! (`ScanReport::not_inventoried`), once per file. Manifests of installed dependencies and toolchains (under
//! `node_modules/`, `vendor/`, `site-packages/`, a module or registry cache, `~/.cargo`, `~/.pyenv`, a
//! `python3.x` library, `usr/lib/`, `usr/share/`, ...) are not the project's and are not listed.

use super::lang_common::{MAX_FILE_SIZE, file_name};
use crate::{Input, Output, ParseError, Parser, parent_dir};
use palisade_artifact::FileMeta;
use palisade_core::NotInventoried;
use std::collections::HashSet;

/// Parser for manifests of formats the inventory does not read (id `not-inventoried`).
pub struct NotInventoriedManifest;

/// What the parser records for one manifest.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Unread {
    pub format: String,
    pub hint: String,
    /// Lockfile names that, read in the same directory (or above when `ancestors`), cover this manifest.
    pub covered_by: Vec<String>,
    pub ancestors: bool,
}

/// One kind of manifest: how it is recognised, what covers it, and the hint.
struct Kind {
    matches: fn(&str) -> bool,
    format: &'static str,
    covered_by: &'static [&'static str],
    ancestors: bool,
    hint: &'static str,
}

const KINDS: &[Kind] = &[
    Kind {
        matches: |n| n == "build.gradle" || n == "build.gradle.kts",
        format: "Gradle build script",
        covered_by: &["gradle.lockfile"],
        ancestors: true,
        hint: "enable Gradle dependency locking and run `gradle dependencies --write-locks` to write gradle.lockfile",
    },
    Kind {
        matches: |n| n == "build.sbt",
        format: "sbt build definition",
        covered_by: &[],
        ancestors: false,
        hint: "Palisade does not read sbt builds; scan the built jars instead",
    },
    Kind {
        matches: |n| n == "Cargo.toml",
        format: "Cargo manifest without Cargo.lock",
        covered_by: &["Cargo.lock"],
        ancestors: true,
        hint: "run `cargo generate-lockfile` to write Cargo.lock",
    },
    Kind {
        matches: |n| n == "Gemfile" || n == "gems.rb",
        format: "Bundler Gemfile without Gemfile.lock",
        covered_by: &["Gemfile.lock", "gems.locked"],
        ancestors: false,
        hint: "run `bundle lock` to write Gemfile.lock",
    },
    Kind {
        matches: |n| n == "composer.json",
        format: "Composer manifest without composer.lock",
        covered_by: &["composer.lock"],
        ancestors: false,
        hint: "run `composer update --lock` to write composer.lock",
    },
    Kind {
        matches: |n| n == "Pipfile",
        format: "Pipfile without Pipfile.lock",
        covered_by: &["Pipfile.lock"],
        ancestors: false,
        hint: "run `pipenv lock` to write Pipfile.lock",
    },
    Kind {
        matches: |n| n == "setup.py",
        format: "setuptools setup.py",
        covered_by: &[
            "requirements.txt",
            "poetry.lock",
            "uv.lock",
            "pdm.lock",
            "pylock.toml",
            "Pipfile.lock",
        ],
        ancestors: false,
        hint: "pin the dependencies in a lockfile (`uv export --format pylock.toml`, `pip freeze > requirements.txt`)",
    },
    Kind {
        matches: |n| n.ends_with(".csproj") || n.ends_with(".fsproj") || n.ends_with(".vbproj"),
        format: ".NET project without a NuGet lockfile",
        covered_by: &["packages.lock.json", "project.assets.json", "packages.config"],
        ancestors: false,
        hint: "set RestorePackagesWithLockFile to true and restore to write packages.lock.json",
    },
    Kind {
        matches: |n| n == "pubspec.yaml",
        format: "Dart pubspec.yaml without pubspec.lock",
        covered_by: &["pubspec.lock"],
        ancestors: false,
        hint: "run `dart pub get` to write pubspec.lock",
    },
    Kind {
        matches: |n| n == "Package.swift",
        format: "Swift package manifest without Package.resolved",
        covered_by: &["Package.resolved"],
        ancestors: false,
        hint: "run `swift package resolve` to write Package.resolved",
    },
    Kind {
        matches: |n| n == "Podfile",
        format: "CocoaPods Podfile without Podfile.lock",
        covered_by: &["Podfile.lock"],
        ancestors: false,
        hint: "run `pod install` to write Podfile.lock",
    },
    Kind {
        matches: |n| n == "mix.exs",
        format: "Mix project without mix.lock",
        covered_by: &["mix.lock"],
        ancestors: true,
        hint: "run `mix deps.get` to write mix.lock",
    },
    Kind {
        matches: |n| n == "conanfile.txt" || n == "conanfile.py",
        format: "Conan recipe without conan.lock",
        covered_by: &["conan.lock"],
        ancestors: false,
        hint: "run `conan lock create` to write conan.lock",
    },
    Kind {
        matches: |n| n == "stack.yaml",
        format: "Stack project without stack.yaml.lock",
        covered_by: &["stack.yaml.lock"],
        ancestors: false,
        hint: "run `stack build --dry-run` to write stack.yaml.lock",
    },
    Kind {
        matches: |n| n == "Project.toml",
        format: "Julia project without Manifest.toml",
        covered_by: &["Manifest.toml"],
        ancestors: false,
        hint: "run `julia --project -e 'using Pkg; Pkg.instantiate()'` to write Manifest.toml",
    },
    Kind {
        // A dump of bun's in-memory lockfile whose layout follows bun's internal structs; bun writes the text
        // `bun.lock` by default since 1.2 and converts a `bun.lockb` to it.
        matches: |n| n == "bun.lockb",
        format: "bun binary lockfile (bun.lockb)",
        covered_by: &["bun.lock"],
        ancestors: false,
        hint: "Palisade reads bun's text lockfile: run `bun install --save-text-lockfile` to write bun.lock",
    },
    Kind {
        matches: |n| n == "Gopkg.toml",
        format: "Go dep manifest (Gopkg.toml)",
        covered_by: &["go.mod"],
        ancestors: false,
        hint: "Palisade reads go.mod, not dep; migrate with `go mod init`",
    },
    Kind {
        matches: |n| n == "environment.yml" || n == "environment.yaml",
        format: "conda environment file",
        covered_by: &[],
        ancestors: false,
        hint: "Palisade does not read conda environments",
    },
];

/// Directory names under which manifests belong to installed dependencies, toolchains or caches, not to a
/// project.
const DEPENDENCY_DIRS: &[&str] = &[
    "node_modules",
    "vendor",
    "site-packages",
    "dist-packages",
    ".m2",
    ".cargo",
    ".rustup",
    ".pyenv",
    ".gradle",
    ".nuget",
    "gems",
    "rustlib",
    "registry",
    "mod",
];

/// System locations where manifests come with installed software (`usr/lib/google-cloud-sdk/...`, a Python's
/// own test suite): not the scanned project's.
const SYSTEM_PREFIXES: &[&str] =
    &["usr/lib/", "usr/lib64/", "usr/share/", "usr/local/lib/", "lib/", "var/lib/"];

fn kind_of(path: &str) -> Option<&'static Kind> {
    if SYSTEM_PREFIXES.iter().any(|p| path.starts_with(p)) {
        return None;
    }
    let dir = parent_dir(path);
    let installed = dir.split('/').any(|seg| {
        DEPENDENCY_DIRS.contains(&seg) || seg.starts_with("python2") || seg.starts_with("python3")
    });
    if installed {
        return None;
    }
    let name = file_name(path);
    KINDS.iter().find(|k| (k.matches)(name))
}

impl Parser for NotInventoriedManifest {
    fn id(&self) -> &'static str {
        "not-inventoried"
    }

    fn wants(&self, meta: &FileMeta) -> bool {
        meta.size <= MAX_FILE_SIZE && kind_of(meta.path).is_some()
    }

    fn parse(&self, input: &Input, out: &mut Output) -> Result<(), ParseError> {
        let Some(kind) = kind_of(input.path) else { return Ok(()) };
        out.not_inventoried = Some(Unread {
            format: kind.format.into(),
            hint: kind.hint.into(),
            covered_by: kind.covered_by.iter().map(|s| s.to_string()).collect(),
            ancestors: kind.ancestors,
        });
        Ok(())
    }
}

/// The manifests no lockfile read covers, sorted by path. `files` are the live results: path, layer, output.
pub fn resolve<'a>(
    files: impl Iterator<Item = (&'a str, Option<u32>, &'a Output)> + Clone,
) -> Vec<NotInventoried> {
    // Files that gave packages or projects: the lockfiles read.
    let read: HashSet<(&str, &str)> = files
        .clone()
        .filter(|(_, _, o)| !o.packages.is_empty() || !o.projects.is_empty() || o.requirements.is_some())
        .map(|(p, _, _)| (parent_dir(p), file_name(p)))
        .collect();
    let covered = |dir: &str, unread: &Unread| {
        let mut d = Some(dir);
        while let Some(dir) = d {
            if unread.covered_by.iter().any(|name| read.contains(&(dir, name.as_str()))) {
                return true;
            }
            if !unread.ancestors || dir.is_empty() {
                return false;
            }
            d = Some(parent_dir(dir));
        }
        false
    };
    let mut out: Vec<NotInventoried> = files
        .filter_map(|(path, layer, o)| {
            let u = o.not_inventoried.as_ref()?;
            (!covered(parent_dir(path), u)).then(|| NotInventoried {
                path: path.to_string(),
                layer,
                format: u.format.clone(),
                hint: u.hint.clone(),
            })
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parsers::lang_common::testing::run;

    #[test]
    fn wants_project_manifests_only() {
        let meta = |path| FileMeta { path, size: 100, mode: 0o644, layer: None };
        for p in [
            "app/build.gradle",
            "build.gradle.kts",
            "svc/Cargo.toml",
            "src/App/App.csproj",
            "Gemfile",
            "web/bun.lockb",
        ] {
            assert!(NotInventoriedManifest.wants(&meta(p)), "{p}");
        }
        for p in
            ["app/node_modules/x/Cargo.toml", "vendor/foo/composer.json", "app/settings.gradle", "Cargo.lock"]
        {
            assert!(!NotInventoriedManifest.wants(&meta(p)), "{p}");
        }
    }

    #[test]
    fn listed_unless_a_lockfile_covers_it() {
        let manifest = |path: &str| (path.to_string(), run(&NotInventoriedManifest, path, b"").unwrap());
        let mut lock = Output::default();
        lock.packages.push(palisade_core::Package::new(
            palisade_core::Ecosystem::Cargo,
            "serde",
            "1.0.0",
            palisade_core::Location::new("ws/Cargo.lock", None),
            "cargo-lock",
        ));
        let files = [
            manifest("ws/Cargo.toml"),
            manifest("ws/crates/a/Cargo.toml"),
            manifest("lone/Cargo.toml"),
            manifest("app/build.gradle"),
            ("ws/Cargo.lock".to_string(), lock),
        ];
        let got = resolve(files.iter().map(|(p, o)| (p.as_str(), None, o)));
        let paths: Vec<(&str, &str)> = got.iter().map(|n| (n.path.as_str(), n.format.as_str())).collect();
        assert_eq!(
            paths,
            [
                ("app/build.gradle", "Gradle build script"),
                ("lone/Cargo.toml", "Cargo manifest without Cargo.lock")
            ]
        );
    }
}
