//! The lockfiles written by the real package managers (tests/fixtures/generated, see its README.md), read
//! through [`Inventory`] as a directory scan reads them: package counts, names, versions, dev/optional
//! scopes, direct flags and graph edges where the format records them.

use palisade_artifact::{FileMeta, FileSink};
use palisade_core::{Package, Scope, Warnings};
use palisade_inventory::{Inventory, InventoryResult};
use std::path::Path;

/// Every file of the fixture project `name` that the inventory wants, fed as a scan of that directory.
fn scan(name: &str) -> InventoryResult {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/generated").join(name);
    let mut files = Vec::new();
    walk(&root, &root, &mut files);
    let inv = Inventory::new(None);
    let w = Warnings::new();
    for (path, data) in &files {
        let meta = FileMeta { path, size: data.len() as u64, mode: 0o644, layer: None };
        if inv.wants(&meta) {
            inv.accept(&meta, data, &w);
        }
    }
    assert!(w.is_empty(), "{name}: {:?}", w.into_vec());
    let res = inv.finish(|_, _| true);
    assert!(res.warnings.is_empty(), "{name}: {:?}", res.warnings);
    res
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            walk(root, &p, out);
        } else {
            out.push((
                p.strip_prefix(root).unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            ));
        }
    }
}

fn pkg<'a>(res: &'a InventoryResult, name: &str, version: &str) -> &'a Package {
    let found: Vec<&Package> =
        res.packages.iter().filter(|p| p.name == name && p.version == version).collect();
    assert_eq!(found.len(), 1, "{name}@{version}: {:#?}", res.packages);
    found[0]
}

fn names(res: &InventoryResult) -> Vec<String> {
    res.packages.iter().map(|p| format!("{}@{}", p.name, p.version)).collect()
}

fn depends(res: &InventoryResult, from: (&str, &str), to: &str) -> bool {
    pkg(res, from.0, from.1).dependencies.iter().any(|d| d == to)
}

/// The npm project: `debug` 2.6.9 with its own `ms` 2.0.0, `ms` ^2.1.3, dev `is-odd` 3.0.1, optional `is-even`.
const NPM_PACKAGES: [&str; 10] = [
    "debug@2.6.9",
    "is-buffer@1.1.6",
    "is-even@1.0.0",
    "is-number@3.0.0",
    "is-number@6.0.0",
    "is-odd@0.1.2",
    "is-odd@3.0.1",
    "kind-of@3.2.2",
    "ms@2.0.0",
    "ms@2.1.3",
];

fn npm_project(name: &str, scopes: bool, direct: bool, project: bool) -> InventoryResult {
    let res = scan(name);
    assert_eq!(names(&res), NPM_PACKAGES, "{name}");
    assert!(depends(&res, ("debug", "2.6.9"), "pkg:npm/ms@2.0.0"), "{name}");
    assert!(depends(&res, ("is-odd", "0.1.2"), "pkg:npm/is-number@3.0.0"), "{name}");
    assert!(depends(&res, ("is-odd", "3.0.1"), "pkg:npm/is-number@6.0.0"), "{name}");
    if scopes {
        assert_eq!(pkg(&res, "is-odd", "3.0.1").scope, Scope::Dev, "{name}");
        assert_eq!(pkg(&res, "is-number", "6.0.0").scope, Scope::Dev, "{name}");
        assert_eq!(pkg(&res, "kind-of", "3.2.2").scope, Scope::Optional, "{name}");
        assert_eq!(pkg(&res, "ms", "2.0.0").scope, Scope::Required, "{name}");
    }
    if direct {
        for (n, v, d) in [
            ("debug", "2.6.9", true),
            ("ms", "2.1.3", true),
            ("ms", "2.0.0", false),
            ("kind-of", "3.2.2", false),
        ] {
            assert_eq!(pkg(&res, n, v).direct, Some(d), "{name}: {n}");
        }
    }
    if project {
        let p: Vec<&str> = res.projects.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(p, ["palisade-npm-fixture"], "{name}");
    }
    res
}

#[test]
fn npm_v3() {
    npm_project("npm", true, true, true);
}

#[test]
fn pnpm_9() {
    npm_project("pnpm", true, true, true);
}

#[test]
fn pnpm_workspace() {
    let res = npm_project("pnpm-workspace", false, true, false);
    let mut projects: Vec<(&str, Vec<&str>)> = res
        .projects
        .iter()
        .map(|p| (p.name.as_str(), p.dependencies.iter().map(String::as_str).collect()))
        .collect();
    projects.sort();
    assert_eq!(
        projects,
        [
            ("@fixture/app", vec!["pkg:npm/is-even@1.0.0"]),
            ("@fixture/lib", vec!["pkg:npm/debug@2.6.9", "pkg:npm/ms@2.1.3"]),
            ("palisade-pnpm-workspace", vec!["pkg:npm/is-odd@3.0.1"]),
        ]
    );
    // The root's dev dependency is dev; the app's is-even is required (the workspace member ships it).
    assert_eq!(pkg(&res, "is-odd", "3.0.1").scope, Scope::Dev);
    assert_eq!(pkg(&res, "is-even", "1.0.0").scope, Scope::Required);
}

#[test]
fn yarn_classic() {
    // yarn.lock v1 records neither direct nor dev dependencies: package.json beside it tells.
    let res = npm_project("yarn-classic", true, true, true);
    assert_eq!(res.projects[0].dependencies.len(), 4);
}

#[test]
fn yarn_berry() {
    // Berry lists the workspace's dependencies (dev ones included, without saying which) and marks optional
    // ones; package.json beside it tells which are dev.
    let res = npm_project("yarn-berry", true, true, true);
    assert_eq!(pkg(&res, "is-even", "1.0.0").scope, Scope::Optional);
}

#[test]
fn bun_text_lockfile() {
    npm_project("bun", true, true, false);
}

#[test]
fn bun_binary_lockfile_is_listed_as_not_inventoried() {
    let res = scan("bun-binary");
    assert!(res.packages.is_empty());
    let listed: Vec<(&str, &str)> =
        res.not_inventoried.iter().map(|n| (n.path.as_str(), n.format.as_str())).collect();
    assert_eq!(listed, [("bun.lockb", "bun binary lockfile (bun.lockb)")]);
    assert!(res.not_inventoried[0].hint.contains("--save-text-lockfile"));
}

/// The Python project: `click`, `requests[socks]`, `tomli` for Python < 3.11, extra `yaml`, dev group `dev`.
fn python_common(res: &InventoryResult, name: &str) {
    for n in ["click", "requests", "pysocks", "urllib3", "certifi", "idna", "charset-normalizer", "tomli"] {
        assert!(res.packages.iter().any(|p| p.name == n && p.scope == Scope::Required), "{name}: {n}");
    }
    for n in ["pytest", "pluggy", "iniconfig"] {
        assert!(res.packages.iter().filter(|p| p.name == n).all(|p| p.scope == Scope::Dev), "{name}: {n}");
    }
}

#[test]
fn uv_lock() {
    // uv resolved two forks (Python < 3.10 and >= 3.10): both versions of the forked packages are locked.
    let res = scan("uv");
    assert_eq!(res.packages.len(), 26, "{:?}", names(&res));
    python_common(&res, "uv");
    assert_eq!(pkg(&res, "pyyaml", "6.0.4").scope, Scope::Optional);
    assert_eq!(pkg(&res, "click", "8.5.1").direct, Some(true));
    assert_eq!(pkg(&res, "urllib3", "2.8.0").direct, Some(false));
    assert!(depends(&res, ("requests", "2.34.2"), "pkg:pypi/pysocks@1.7.1"), "the socks extra is an edge");
    assert!(depends(&res, ("requests", "2.34.2"), "pkg:pypi/urllib3@2.8.0"));
    assert_eq!(res.projects.len(), 1);
    assert_eq!(res.projects[0].name, "palisade-py-fixture");
}

#[test]
fn pylock_from_uv() {
    let res = scan("pylock");
    let uv = scan("uv");
    assert_eq!(names(&res), names(&uv), "the export locks what uv.lock does");
    // pylock.toml does not say what is direct: pyproject.toml beside it does (both forks' versions).
    for (n, v, direct) in [
        ("click", "8.1.8", true),
        ("click", "8.5.1", true),
        ("pytest", "9.2.0", true),
        ("urllib3", "2.8.0", false),
    ] {
        assert_eq!(pkg(&res, n, v).direct, Some(direct), "{n}@{v}");
    }
}

#[test]
fn pdm_lock() {
    // PDM locks one resolution for every Python the project allows.
    let res = scan("pdm");
    assert_eq!(res.packages.len(), 17, "{:?}", names(&res));
    python_common(&res, "pdm");
    // pdm.lock names groups without saying which are extras: a non-default group is not required.
    assert_ne!(pkg(&res, "pyyaml", "6.0.3").scope, Scope::Required);
    assert!(depends(&res, ("requests", "2.32.5"), "pkg:pypi/pysocks@1.7.1"));
    // Direct from pyproject.toml (pdm.lock does not say).
    assert_eq!(pkg(&res, "requests", "2.32.5").direct, Some(true));
    assert_eq!(pkg(&res, "pyyaml", "6.0.3").direct, Some(true));
    assert_eq!(pkg(&res, "pluggy", "1.6.0").direct, Some(false));
}

#[test]
fn poetry_lock() {
    let res = scan("poetry");
    assert_eq!(res.packages.len(), 17, "{:?}", names(&res));
    python_common(&res, "poetry");
    assert_eq!(pkg(&res, "pyyaml", "6.0.3").scope, Scope::Optional);
    assert!(depends(&res, ("requests", "2.32.5"), "pkg:pypi/urllib3@2.6.3"));
    assert_eq!(res.projects[0].name, "palisade-py-fixture");
    assert_eq!(pkg(&res, "tomli", "2.5.0").direct, Some(true));
    assert_eq!(pkg(&res, "pytest", "8.4.2").direct, Some(true));
    assert_eq!(pkg(&res, "urllib3", "2.6.3").direct, Some(false));
}

#[test]
fn poetry_lock_of_poetry_tables() {
    // [tool.poetry.dependencies] with an extra (httpx[http2]), a marker, an optional dependency behind the
    // extra `pretty`, a `test` group and an optional `docs` group.
    let res = scan("poetry-legacy");
    assert_eq!(res.packages.len(), 26, "{:?}", names(&res));
    for (n, v, scope) in [
        ("httpx", "0.27.2", Scope::Required),
        ("h2", "4.3.0", Scope::Required),
        ("importlib-metadata", "8.7.1", Scope::Required),
        ("rich", "13.9.4", Scope::Optional),
        // Needed by rich (extra `pretty`) and by pytest (group `test`): Poetry writes `optional = false`
        // with a `main` marker `extra == "pretty"`.
        ("pygments", "2.21.0", Scope::Optional),
        ("pytest-timeout", "2.4.0", Scope::Dev),
        ("markdown", "3.9", Scope::Dev),
    ] {
        assert_eq!(pkg(&res, n, v).scope, scope, "{n}");
    }
    assert!(depends(&res, ("httpx", "0.27.2"), "pkg:pypi/h2@4.3.0"), "the http2 extra is an edge");
    assert_eq!(res.projects[0].name, "palisade-poetry-legacy");
    // Direct from [tool.poetry.*dependencies] (`python` is no package).
    let direct: Vec<&str> =
        res.packages.iter().filter(|p| p.direct == Some(true)).map(|p| p.name.as_str()).collect();
    assert_eq!(direct, ["httpx", "importlib-metadata", "markdown", "pytest-timeout", "rich"]);
}

#[test]
fn uv_workspace() {
    let res = scan("uv-workspace");
    assert_eq!(
        names(&res),
        ["attrs@26.1.0", "mccabe@0.7.0", "python-dateutil@4.0.0", "six@1.16.0", "tzdata@2026.6"]
    );
    let mut projects: Vec<(&str, &str, usize)> =
        res.projects.iter().map(|p| (p.name.as_str(), p.version.as_str(), p.dependencies.len())).collect();
    projects.sort();
    assert_eq!(projects, [("palisade-uv-workspace", "1.0.0", 3), ("worker", "0.3.0", 3)]);
    assert_eq!(pkg(&res, "mccabe", "0.7.0").scope, Scope::Dev);
    // tzdata is the member's extra `tz`, but python-dateutil 4 requires it: required.
    assert_eq!(pkg(&res, "tzdata", "2026.6").scope, Scope::Required);
    assert!(depends(&res, ("python-dateutil", "4.0.0"), "pkg:pypi/tzdata@2026.6"));
}

#[test]
fn pylock_of_a_uv_workspace() {
    // The member is an editable directory entry: the project's own code, not a package.
    let res = scan("pylock-workspace");
    assert_eq!(names(&res), names(&scan("uv-workspace")));
}

fn go_module(name: &str) {
    let res = scan(name);
    assert_eq!(
        names(&res),
        ["go.etcd.io/bbolt@v1.3.6", "golang.org/x/sys@v0.3.0", "gopkg.in/yaml.v3@v3.0.1"]
    );
    assert_eq!(pkg(&res, "go.etcd.io/bbolt", "v1.3.6").direct, Some(true), "{name}");
    // Required `// indirect` in go.mod; `## explicit` in vendor/modules.txt does not make it direct.
    assert_eq!(pkg(&res, "golang.org/x/sys", "v0.3.0").direct, Some(false), "{name}");
    assert_eq!(res.projects[0].name, "example.com/palisade/gofixture");
}

#[test]
fn go_1_19_module_with_vendor() {
    go_module("go119");
}

#[test]
fn go_1_16_module_with_go_sum_and_vendor() {
    // go.sum is read (go 1.16: go.mod may lack indirect requirements) without a warning; here `go get` wrote
    // every module of the build into go.mod, and x/sys v0.0.0-2020... and check.v1 are in go.sum by their
    // go.mod alone (read for the module graph, not built in): nothing more is listed.
    go_module("go116");
}

#[test]
fn mix_lock_git_dependencies() {
    let res = scan("mix");
    let got: Vec<(&str, &str, &str)> = res
        .packages
        .iter()
        .map(|p| (p.name.as_str(), p.version.as_str(), p.metadata.get("vcs_url").map_or("", String::as_str)))
        .collect();
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!((got[0].0, got[0].1), ("json_lite", ""));
    assert!(got[0].2.ends_with("/json_lite#ef2c50d41207bf51a31a76cdd147a93deceea587"), "{got:?}");
    assert_eq!((got[1].0, got[1].1), ("plug_lite", ""));
}

#[test]
fn maven_pom_with_a_local_repository() {
    // The transitive dependencies come from the POMs of .m2/repository (checked against mvn's tree in
    // parsers/maven_repository.rs); here: through the whole inventory, no warning.
    let res = scan("maven");
    assert_eq!(res.packages.len(), 15, "{:?}", names(&res));
    assert_eq!(res.packages.iter().filter(|p| p.direct == Some(true)).count(), 5);
    assert_eq!(pkg(&res, "org.apache.commons:commons-lang3", "debian").direct, Some(false));
    assert!(depends(
        &res,
        ("org.apache.httpcomponents:httpclient", "4.5.14"),
        "pkg:maven/commons-codec/commons-codec@debian"
    ));
}
