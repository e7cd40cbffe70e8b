//! End to end through [`Inventory`]: one package per package whatever the number of files naming it, and
//! the root projects named from the manifests beside their lockfiles.

use palisade_artifact::{FileMeta, FileSink};
use palisade_core::{Ecosystem, Package, Scope, Warnings};
use palisade_inventory::{Inventory, InventoryResult};

fn fixture(rel: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{rel}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Feed `(path, layer, content)` files and finish, keeping the files `live` says survive.
fn inventory(files: &[(&str, u32, &[u8])], live: impl Fn(&str, Option<u32>) -> bool) -> InventoryResult {
    let inv = Inventory::new(None);
    let w = Warnings::new();
    for (path, layer, data) in files {
        let mode = if path.contains("/bin/") { 0o755 } else { 0o644 };
        let meta = FileMeta { path, size: data.len() as u64, mode, layer: Some(*layer) };
        assert!(inv.wants(&meta), "{path} not wanted");
        inv.accept(&meta, data, &w);
    }
    assert!(w.is_empty(), "{:?}", w.into_vec());
    inv.finish(live)
}

fn all(files: &[(&str, u32, &[u8])]) -> InventoryResult {
    inventory(files, |_, _| true)
}

fn one<'a>(ps: &'a [Package], eco: Ecosystem, name: &str) -> &'a Package {
    let found: Vec<&Package> = ps.iter().filter(|p| p.ecosystem == eco && p.name == name).collect();
    assert_eq!(found.len(), 1, "{name}: {found:#?}");
    found[0]
}

fn paths(p: &Package) -> Vec<&str> {
    p.locations.iter().map(|l| l.path.as_str()).collect()
}

#[test]
fn npm_lockfile_and_node_modules_are_one_package_and_the_manifest_names_the_project() {
    let ms = fixture("npm/node_modules/ms/package.json");
    let res = all(&[
        ("app/package-lock.json", 1, &fixture("npm/package-lock-v3.json")),
        ("app/node_modules/ms/package.json", 1, &ms),
        ("app/package.json", 1, br#"{"name": "fixture-app", "version": "1.0.0", "license": "ISC"}"#),
    ]);
    // ms 2.1.3: installed and locked, one package; the installed file is the primary location.
    let ms = res.packages.iter().find(|p| p.name == "ms" && p.version == "2.1.3").unwrap();
    assert_eq!(paths(ms), ["app/node_modules/ms/package.json", "app/package-lock.json"]);
    assert_eq!(ms.found_by, "npm-package-json");
    // Dev in the lockfile, but installed: it ships, so required.
    assert_eq!(ms.scope, Scope::Required);
    assert_eq!(ms.direct, Some(true), "the lockfile says direct");
    assert_eq!(ms.licenses, ["MIT"]);
    // The nested ms 2.0.0 is another version, another package.
    assert_eq!(res.packages.iter().filter(|p| p.name == "ms").count(), 2);
    assert_eq!(res.packages.len(), 5, "as many packages as the lockfile has");
    // The project is no package; the lockfile and its package.json are its locations.
    assert!(!res.packages.iter().any(|p| p.name == "fixture-app"));
    assert_eq!(res.projects.len(), 1);
    let root = &res.projects[0];
    assert_eq!(root.purl, "pkg:npm/fixture-app@1.0.0");
    assert_eq!(paths(root), ["app/package-lock.json", "app/package.json"]);
    assert_eq!(root.licenses, ["ISC"]);
    assert_eq!(root.dependencies.len(), 4);
}

#[test]
fn lockfiles_that_do_not_name_their_project_are_named_by_the_manifest() {
    let yarn = fixture("yarn/yarn-v1.lock");
    let pnpm = fixture("pnpm/pnpm-lock-pnpm9.yaml");
    let poetry = fixture("python/poetry-v1.lock");
    let res = all(&[
        ("web/yarn.lock", 1, &yarn),
        ("web/package.json", 1, br#"{"name": "web", "version": "2.0.0"}"#),
        // A manifest without a version: the project has none either.
        ("ui/pnpm-lock.yaml", 1, &pnpm),
        ("ui/package.json", 1, br#"{"name": "@acme/ui"}"#),
        ("api/poetry.lock", 1, &poetry),
        ("api/pyproject.toml", 1, b"[tool.poetry]\nname = \"Api_Server\"\nversion = \"0.4.0\"\n"),
        // No manifest beside this lockfile: its project has no name and is not reported.
        ("orphan/yarn.lock", 1, &yarn),
        // A manifest without a lockfile names nothing.
        ("lonely/package.json", 1, br#"{"name": "lonely", "version": "1.0.0"}"#),
    ]);
    let projects: Vec<(&str, Vec<&str>)> = res.projects.iter().map(|p| (p.purl.as_str(), paths(p))).collect();
    assert_eq!(
        projects,
        [
            ("pkg:npm/%40acme/ui", vec!["ui/pnpm-lock.yaml", "ui/package.json"]),
            ("pkg:npm/web@2.0.0", vec!["web/yarn.lock", "web/package.json"]),
            ("pkg:pypi/api-server@0.4.0", vec!["api/poetry.lock", "api/pyproject.toml"]),
        ]
    );
    // The pnpm importer's dependencies survive the naming.
    assert!(!res.projects[0].dependencies.is_empty());
    // The two yarn.lock files name the same packages: one package each, both lockfiles as locations.
    let debug = one(&res.packages, Ecosystem::Npm, "debug");
    assert_eq!(paths(debug), ["orphan/yarn.lock", "ui/pnpm-lock.yaml", "web/yarn.lock"]);
}

#[test]
fn a_stale_lockfile_keeps_its_own_name_and_the_manifest_is_not_its_location() {
    let lock = br#"{"lockfileVersion": 3, "packages": {"": {"name": "web", "version": "1.0.0"}}}"#;
    let res = all(&[
        ("web/package-lock.json", 1, lock),
        ("web/package.json", 2, br#"{"name": "web", "version": "2.0.0"}"#),
        // Another directory: a renamed project.
        (
            "api/package-lock.json",
            1,
            br#"{"lockfileVersion": 3, "packages": {"": {"name": "old-api", "version": "1.0.0"}}}"#,
        ),
        ("api/package.json", 1, br#"{"name": "api", "version": "1.0.0"}"#),
    ]);
    let projects: Vec<(&str, Vec<&str>)> = res.projects.iter().map(|p| (p.purl.as_str(), paths(p))).collect();
    assert_eq!(
        projects,
        [
            ("pkg:npm/old-api@1.0.0", vec!["api/package-lock.json"]),
            ("pkg:npm/web@1.0.0", vec!["web/package-lock.json"])
        ]
    );
}

#[test]
fn a_manifest_deleted_by_a_later_layer_names_nothing() {
    let yarn = fixture("yarn/yarn-v1.lock");
    let res = inventory(
        &[("web/yarn.lock", 1, &yarn), ("web/package.json", 1, br#"{"name": "web", "version": "2.0.0"}"#)],
        |path, _| path != "web/package.json",
    );
    assert!(res.projects.is_empty());
    assert!(!res.packages.is_empty());
}

#[test]
fn installed_python_metadata_and_pins_are_one_package() {
    let django = b"Metadata-Version: 2.1\nName: Django\nVersion: 2.2\nLicense: BSD\n\n";
    let requests = b"Metadata-Version: 2.1\nName: requests\nVersion: 2.19.0\n\n";
    let res = all(&[
        ("usr/local/lib/python3.11/site-packages/Django-2.2.dist-info/METADATA", 1, django),
        ("usr/local/lib/python3.11/site-packages/requests-2.19.0.dist-info/METADATA", 1, requests),
        ("app/requirements.txt", 2, b"django==2.2.0\nrequests==2.19.0\nurllib3==1.23\n"),
    ]);
    let names: Vec<String> = res.packages.iter().map(|p| format!("{} {}", p.name, p.version)).collect();
    assert_eq!(names, ["Django 2.2", "requests 2.19.0", "urllib3 1.23"]);
    let django = one(&res.packages, Ecosystem::PyPI, "Django");
    assert_eq!(
        paths(django),
        ["usr/local/lib/python3.11/site-packages/Django-2.2.dist-info/METADATA", "app/requirements.txt"]
    );
    assert_eq!((django.locations[0].layer, django.locations[1].layer), (Some(1), Some(2)));
    assert_eq!(django.found_by, "python-dist-info");
}

#[test]
fn cargo_lock_and_its_auditable_binary_are_one_project_with_one_set_of_packages() {
    let lock = br#"version = 4

[[package]]
name = "auditable-hello"
version = "0.3.1"
dependencies = ["itoa"]

[[package]]
name = "itoa"
version = "1.0.18"
source = "registry+https://github.com/rust-lang/crates.io-index"
"#;
    let res = all(&[
        ("src/hello/Cargo.lock", 1, lock),
        ("usr/local/bin/auditable-hello", 2, &fixture("rust-auditable/auditable-hello")),
    ]);
    let itoa = one(&res.packages, Ecosystem::Cargo, "itoa");
    assert_eq!(paths(itoa), ["usr/local/bin/auditable-hello", "src/hello/Cargo.lock"]);
    assert_eq!(itoa.direct, Some(true));
    assert_eq!(res.projects.len(), 1, "{:#?}", res.projects);
    let root = &res.projects[0];
    assert_eq!(root.purl, "pkg:cargo/auditable-hello@0.3.1");
    assert_eq!(paths(root), ["usr/local/bin/auditable-hello", "src/hello/Cargo.lock"]);
    assert!(root.is_binary_main(), "the binary's metadata survives the merge");
    assert_eq!(root.dependencies, ["pkg:cargo/itoa@1.0.18"]);
}

#[test]
fn go_mod_and_go_binary_share_their_modules() {
    let go_mod = b"module example.com/hello\n\ngo 1.19\n\nrequire (\n\texample.com/greet v1.2.3\n\tgolang.org/x/text v0.3.0 // indirect\n)\n";
    let res = all(&[
        ("src/hello/go.mod", 1, go_mod),
        ("usr/local/bin/hello", 2, &fixture("go/hello-linux-amd64")),
        ("usr/local/bin/hello-copy", 3, &fixture("go/hello-linux-amd64")),
    ]);
    let greet = one(&res.packages, Ecosystem::Golang, "example.com/greet");
    assert_eq!(paths(greet), ["usr/local/bin/hello", "usr/local/bin/hello-copy", "src/hello/go.mod"]);
    assert_eq!(greet.direct, Some(true), "go.mod says direct");
    assert_eq!(greet.found_by, "go-binary");
    let stdlib = one(&res.packages, Ecosystem::Golang, "stdlib");
    assert_eq!(stdlib.locations.len(), 2);
    // Two projects: go.mod's module (no version) and the binaries' main module ((devel)), which is one
    // project found in two binaries.
    let projects: Vec<(&str, usize)> =
        res.projects.iter().map(|p| (p.purl.as_str(), p.locations.len())).collect();
    assert_eq!(projects, [("pkg:golang/example.com/hello", 1), ("pkg:golang/example.com/hello@(devel)", 2)]);
}
