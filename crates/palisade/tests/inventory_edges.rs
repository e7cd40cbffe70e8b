//! Issue 13, end to end: the inventory's cross-file rules run by the real binary on a real tree. A shrinkwrap
//! hides the `package-lock.json` beside it; requirements files follow `-r` / `-c` inside the tree; manifests
//! Palisade does not read are listed as not inventoried (JSON field and table note); a file with a lockfile
//! name that is not that format is a warning naming it.

use std::path::Path;
use std::process::{Command, Output};

fn palisade(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_palisade")).args(args).current_dir(cwd).output().unwrap()
}

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let lock = |dep: &str, v: &str| {
        format!(
            r#"{{"name":"web","version":"1.0.0","lockfileVersion":3,"packages":{{"":{{"name":"web","version":"1.0.0","dependencies":{{"{dep}":"*"}}}},"node_modules/{dep}":{{"version":"{v}"}}}}}}"#
        )
    };
    write(root, "web/package-lock.json", &lock("left-pad", "1.0.0"));
    write(root, "web/npm-shrinkwrap.json", &lock("ms", "2.1.3"));
    write(
        root,
        "py/requirements.txt",
        "-r base/common.txt\n-c constraints.txt\nrequests\nflask==3.0.0\n-r missing.txt\n",
    );
    write(root, "py/base/common.txt", "-r ../requirements.txt\nclick==8.1.7\n");
    write(root, "py/constraints.txt", "requests==2.31.0\nunused==1.0\n");
    write(root, "java/build.gradle", "plugins { id 'java' }\n");
    write(root, "rs/Cargo.toml", "[package]\nname = \"x\"\nversion = \"0.1.0\"\n");
    write(root, "go/go.mod", "<html><body>404</body></html>\n");
    dir
}

#[test]
fn cross_file_rules_in_the_json_report() {
    let dir = project();
    let out = palisade(&["scan", "fs", ".", "--scanners", "secret", "--format", "json"], dir.path());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut packages: Vec<String> = report["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            format!(
                "{}@{} {}",
                p["name"].as_str().unwrap(),
                p["version"].as_str().unwrap(),
                p["locations"][0]["path"].as_str().unwrap()
            )
        })
        .collect();
    packages.sort();
    assert_eq!(
        packages,
        [
            "click@8.1.7 py/base/common.txt",
            "flask@3.0.0 py/requirements.txt",
            "ms@2.1.3 web/npm-shrinkwrap.json",
            "requests@2.31.0 py/requirements.txt",
        ]
    );
    let unread: Vec<(&str, &str)> = report["not_inventoried"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| (n["path"].as_str().unwrap(), n["format"].as_str().unwrap()))
        .collect();
    assert_eq!(
        unread,
        [
            ("java/build.gradle", "Gradle build script"),
            ("rs/Cargo.toml", "Cargo manifest without Cargo.lock")
        ]
    );
    let warnings: Vec<String> =
        report["warnings"].as_array().unwrap().iter().map(|w| w.to_string()).collect();
    assert!(
        warnings.iter().any(|w| w.contains("go/go.mod") && w.contains("unknown directive")),
        "{warnings:?}"
    );
    assert!(warnings.iter().any(|w| w.contains("py/missing.txt") && w.contains("not found")), "{warnings:?}");
}

#[test]
fn not_inventoried_in_the_table() {
    let dir = project();
    let out = palisade(&["scan", "fs", ".", "--scanners", "secret"], dir.path());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("Not inventoried: 2 manifests"), "{table}");
    assert!(table.contains("java/build.gradle: Gradle build script"), "{table}");
}

/// Formats read across files: a child POM completed from its parent and a BOM in the tree; a `go.sum` adding
/// the indirect modules of a Go 1.16 `go.mod`.
#[test]
fn poms_and_go_sums_across_files() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../palisade-inventory/tests/fixtures");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for rel in
        ["maven/pom.xml", "maven/app/pom.xml", "maven/bom/pom.xml", "go/go116/go.mod", "go/go116/go.sum"]
    {
        write(root, rel, &std::fs::read_to_string(fixtures.join(rel)).unwrap());
    }
    let out = palisade(&["scan", "fs", ".", "--scanners", "secret", "--format", "json"], root);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let find = |name: &str| -> Vec<String> {
        report["packages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["name"] == name)
            .map(|p| {
                format!("{} {}", p["version"].as_str().unwrap(), p["locations"][0]["path"].as_str().unwrap())
            })
            .collect()
    };
    assert_eq!(find("com.fasterxml.jackson.core:jackson-databind"), ["2.15.2 maven/app/pom.xml"]);
    assert_eq!(find("org.apache.commons:commons-lang3"), ["3.12.0 maven/app/pom.xml"]);
    assert_eq!(find("gopkg.in/yaml.v3"), ["v0.0.0-20210107192922-496545a6307b go/go116/go.sum"]);
    assert_eq!(find("github.com/stretchr/testify"), ["v1.7.0 go/go116/go.mod"]);
    let projects: Vec<&str> =
        report["projects"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert!(
        projects.contains(&"com.example:app") && projects.contains(&"example.com/legacy"),
        "{projects:?}"
    );
}

/// The lockfiles written by the real package managers (palisade-inventory's tests/fixtures/generated), all at
/// once: every one read without a warning, the Maven project's transitive dependencies resolved from the
/// local repository in the tree, the binary `bun.lockb` listed as not inventoried.
#[test]
fn lockfiles_written_by_the_real_tools() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../palisade-inventory/tests/fixtures/generated");
    let out = palisade(&["scan", "fs", ".", "--scanners", "secret", "--format", "json"], &root);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let warnings = report["warnings"].as_array().map(Vec::len).unwrap_or(0);
    assert_eq!(warnings, 0, "{}", report["warnings"]);
    let packages = report["packages"].as_array().unwrap();
    let count = |eco: &str| packages.iter().filter(|p| p["ecosystem"] == eco).count();
    // npm: the 10 of the npm project (one package whatever the number of lockfiles naming it).
    assert_eq!(count("npm"), 10);
    assert_eq!(count("golang"), 3);
    assert_eq!(count("hex"), 2);
    assert_eq!(count("maven"), 15);
    let lang3 = packages.iter().find(|p| p["name"] == "org.apache.commons:commons-lang3").unwrap();
    assert_eq!((lang3["version"].as_str(), lang3["direct"].as_bool()), (Some("debian"), Some(false)));
    assert_eq!(lang3["locations"][0]["path"], "maven/pom.xml");
    let listed: Vec<&str> =
        report["not_inventoried"].as_array().unwrap().iter().map(|n| n["path"].as_str().unwrap()).collect();
    assert_eq!(listed, ["bun-binary/bun.lockb"]);
}
