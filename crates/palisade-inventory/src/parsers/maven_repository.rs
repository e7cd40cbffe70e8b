//! POMs of a Maven repository in the scanned tree (`~/.m2/repository`, Debian's `/usr/share/maven-repo`,
//! any `GROUP/PATH/ARTIFACT/VERSION/ARTIFACT-VERSION.pom` layout), and the transitive dependencies of the
//! tree's `pom.xml` files resolved from them without network.
//!
//! The parser only reads each repository POM (with the `pom.xml` reader of [`super::maven_pom`]); it reports
//! no package by itself. After the walk, [`transitive`] walks the dependency graph of each `pom.xml` from
//! its direct dependencies, breadth first, as Maven does: a dependency's POM is found by its coordinates
//! (the repository's version directory, or the version the POM states), completed from its parents and
//! imported BOMs; its `compile` and `runtime` dependencies are followed, `test`, `provided`, `system` and
//! `<optional>` ones are not; `<exclusions>` apply below the dependency that declares them (`*` for any);
//! the root POM's `dependencyManagement` overrides the version of a transitive dependency; the nearest
//! declaration of a groupId:artifactId wins (the first at the same depth), and the graph records the
//! version that won. A transitive dependency takes the scope of the direct one it comes through (a test
//! dependency's dependencies are dev). The walk stops [`MAX_DEPTH`] levels deep and after
//! [`MAX_TRANSITIVE`] packages per `pom.xml` (warned); a cycle ends at a package already seen. A dependency
//! whose POM is not in the repository is listed in one warning per `pom.xml`: its own dependencies are
//! unknown. With no repository in the tree, only the declared dependencies are reported, as before.

use super::lang_common::{MAX_FILE_SIZE, file_name};
use super::maven_pom::{Coords, Managed, Poms, is_range, read_pom};
use crate::{Input, Output, ParseError, Parser};
use palisade_artifact::FileMeta;
use palisade_core::{Ecosystem, Location, Package, Scope};
use std::collections::{BTreeMap, HashSet, VecDeque};

/// Parser for POMs in a Maven repository layout (id `maven-repository-pom`).
pub struct MavenRepositoryPom;

/// Dependencies followed at most this many levels below the project.
pub const MAX_DEPTH: usize = 32;

/// Transitive dependencies resolved at most per `pom.xml`.
pub const MAX_TRANSITIVE: usize = 10_000;

/// The version directory of a repository POM path (`.../ARTIFACT/VERSION/ARTIFACT-VERSION.pom`), `None` when
/// the path is not in that layout.
pub fn version_dir(path: &str) -> Option<&str> {
    let mut parts = path.rsplit('/');
    let file = parts.next()?;
    let version = parts.next()?;
    let artifact = parts.next()?;
    let stem = file.strip_suffix(".pom")?;
    let rest = stem.strip_prefix(artifact)?.strip_prefix('-')?;
    // `1.0-SNAPSHOT/x-1.0-20240101.120000-1.pom`: a timestamped snapshot of the directory's version.
    let snapshot = version
        .strip_suffix("-SNAPSHOT")
        .is_some_and(|base| rest.strip_prefix(base).is_some_and(|r| r.starts_with('-')));
    (rest == version || snapshot).then_some(version)
}

impl Parser for MavenRepositoryPom {
    fn id(&self) -> &'static str {
        "maven-repository-pom"
    }

    fn wants(&self, meta: &FileMeta) -> bool {
        meta.size <= MAX_FILE_SIZE
            && file_name(meta.path).ends_with(".pom")
            && version_dir(meta.path).is_some()
    }

    fn parse(&self, input: &Input, out: &mut Output) -> Result<(), ParseError> {
        out.repository_pom = Some(read_pom(input.text()?)?);
        Ok(())
    }
}

/// One dependency whose own dependencies are still to be read.
pub(crate) struct Node {
    pub coords: Coords,
    /// The scope of the direct dependency it comes through.
    pub scope: Scope,
    /// Exclusions from the project down to here.
    pub exclusions: Vec<(String, String)>,
    pub depth: usize,
}

fn excluded(exclusions: &[(String, String)], group: &str, artifact: &str) -> bool {
    exclusions.iter().any(|(g, a)| (g == "*" || g == group) && (a == "*" || a == artifact))
}

/// Add the transitive dependencies of one `pom.xml` to `packages` (keyed by groupId:artifactId, holding its
/// direct dependencies on entry), and the graph edges to every package read. `root_managed`: the project's
/// managed versions; `direct`: its direct dependencies in declaration order.
pub(crate) fn transitive(
    poms: &Poms,
    location: &Location,
    root_managed: &Managed,
    direct: Vec<Node>,
    packages: &mut BTreeMap<(String, String), Package>,
    warnings: &mut Vec<String>,
) {
    if !poms.has_repository() {
        return;
    }
    let mut queue: VecDeque<Node> = direct.into();
    let mut missing = Vec::new();
    let mut unresolved = HashSet::new();
    let mut added = 0;
    let mut too_deep = false;
    while let Some(node) = queue.pop_front() {
        let (group, artifact, version) = &node.coords;
        if version.is_empty() {
            continue;
        }
        let Some((path, pom)) = poms.by_coords(&node.coords) else {
            missing.push(format!("{group}:{artifact}:{version}"));
            continue;
        };
        let mut ignored = Vec::new();
        let eff = poms.effective(path, pom, &mut ignored);
        let own_managed = poms.managed(&eff, 0, &mut ignored);
        let mut edges = Vec::new();
        for (g, a, d) in eff.declared().into_iter().flatten() {
            let mgmt = own_managed.get(&(g.clone(), a.clone()));
            let scope =
                if d.scope.is_empty() { mgmt.map(|m| m.1.as_str()).unwrap_or("") } else { d.scope.as_str() };
            if matches!(scope, "test" | "provided" | "system" | "import")
                || d.optional == "true"
                || excluded(&node.exclusions, &g, &a)
            {
                continue;
            }
            let key = (g.clone(), a.clone());
            if let Some(seen) = packages.get(&key) {
                edges.push(seen.purl.clone());
                continue;
            }
            // The project's dependencyManagement wins, then the version the dependency's POM gives.
            let raw = match root_managed.get(&key) {
                Some((v, _)) if !v.is_empty() => Ok(v.clone()),
                _ if !d.version.is_empty() => eff.interpolate(&d.version),
                _ => eff.interpolate(mgmt.map(|m| m.0.as_str()).unwrap_or("")),
            };
            let dep_version = match raw {
                Ok(v) if !v.is_empty() && !is_range(&v) => v,
                _ => {
                    if unresolved.insert(key.clone()) {
                        warnings.push(format!(
                            "transitive dependency {g}:{a} (of {group}:{artifact}:{version}): version not resolved from the repository; reported without a version"
                        ));
                    }
                    String::new()
                }
            };
            if added >= MAX_TRANSITIVE {
                warnings.push(format!(
                    "more than {MAX_TRANSITIVE} transitive dependencies; the rest are not listed"
                ));
                queue.clear();
                break;
            }
            added += 1;
            let name = format!("{g}:{a}");
            let mut pkg = Package::new(Ecosystem::Maven, &name, &dep_version, location.clone(), "maven-pom");
            pkg.direct = Some(false);
            pkg.scope = node.scope;
            pkg.metadata.insert("maven_required_by".into(), format!("{group}:{artifact}:{version}"));
            if !scope.is_empty() {
                pkg.metadata.insert("maven_scope".into(), scope.to_string());
            }
            edges.push(pkg.purl.clone());
            packages.insert(key, pkg);
            if node.depth >= MAX_DEPTH {
                too_deep = true;
                continue;
            }
            let mut exclusions = node.exclusions.clone();
            exclusions.extend(d.exclusions.iter().cloned());
            queue.push_back(Node {
                coords: (g, a, dep_version),
                scope: node.scope,
                exclusions,
                depth: node.depth + 1,
            });
        }
        if let Some(pkg) = packages.get_mut(&(group.clone(), artifact.clone())) {
            edges.sort();
            edges.dedup();
            pkg.dependencies = edges;
        }
    }
    if too_deep {
        warnings.push(format!("dependencies nested more than {MAX_DEPTH} levels deep are not followed"));
    }
    if !missing.is_empty() {
        missing.sort();
        missing.dedup();
        let shown: Vec<&str> = missing.iter().take(5).map(String::as_str).collect();
        warnings.push(format!(
            "{} dependencies have no POM in the Maven repository of the scanned tree, so their own dependencies are unknown: {}{}",
            missing.len(),
            shown.join(", "),
            if missing.len() > shown.len() { ", ..." } else { "" }
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parsers::lang_common::testing::{no_panic_on_truncation, run};
    use crate::parsers::maven_pom::{MavenPom, Pom, resolve};
    use std::path::Path;

    fn pom(path: &str, data: &[u8]) -> (String, Option<u32>, Pom) {
        (path.to_string(), None, run(&MavenPom, path, data).unwrap().pom.unwrap())
    }

    fn repo_pom(path: &str, data: &[u8]) -> (String, Pom) {
        let meta = FileMeta { path, size: data.len() as u64, mode: 0o644, layer: None };
        assert!(MavenRepositoryPom.wants(&meta), "{path}");
        (path.to_string(), run(&MavenRepositoryPom, path, data).unwrap().repository_pom.unwrap())
    }

    #[test]
    fn repository_layout() {
        assert_eq!(version_dir("r/org/x/lib/1.2/lib-1.2.pom"), Some("1.2"));
        assert_eq!(version_dir("r/x/lib/debian/lib-debian.pom"), Some("debian"));
        assert_eq!(version_dir("r/x/lib/1.0-SNAPSHOT/lib-1.0-20240101.120000-3.pom"), Some("1.0-SNAPSHOT"));
        for p in ["lib-1.2.pom", "x/lib/1.2/other-1.2.pom", "x/lib/1.2/lib-1.3.pom", "x/lib/1.2/lib-1.2.jar"]
        {
            assert_eq!(version_dir(p), None, "{p}");
        }
    }

    /// Every file under `dir`, relative to `root`.
    fn files(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                files(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                out.push((rel, std::fs::read(&p).unwrap()));
            }
        }
    }

    /// The project of tests/fixtures/generated/maven against the tree `mvn dependency:tree` printed for it
    /// from the repository mvn built (tree.txt): same packages, versions, direct flags, scopes and edges.
    #[test]
    fn transitive_dependencies_as_mvn_resolves_them() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/generated/maven");
        let mut all = Vec::new();
        files(&root, &root, &mut all);
        let repository: Vec<(String, Pom)> =
            all.iter().filter(|(p, _)| p.ends_with(".pom")).map(|(p, d)| repo_pom(p, d)).collect();
        assert!(repository.len() > 100, "{}", repository.len());
        let project = [pom("pom.xml", &std::fs::read(root.join("pom.xml")).unwrap())];
        let results = resolve(&project, &repository);
        let (_, _, out) = &results[0];
        assert!(out.warnings.is_empty(), "{:?}", out.warnings);
        // tree.txt: `+- group:artifact:jar:version:scope`, two characters of indentation per level.
        let tree = std::fs::read_to_string(root.join("tree.txt")).unwrap();
        let mut stack: Vec<String> = Vec::new();
        let mut expected = Vec::new();
        for line in tree.lines().skip(1) {
            let start = line.find(|c: char| c.is_ascii_alphanumeric()).unwrap();
            let level = (start - 3) / 3;
            let f: Vec<&str> = line[start..].split(':').collect();
            let (name, version, scope) = (format!("{}:{}", f[0], f[1]), f[3], f[4]);
            stack.truncate(level);
            expected.push((
                name.clone(),
                version.to_string(),
                level == 0,
                scope == "test",
                stack.last().cloned(),
            ));
            stack.push(format!("pkg:maven/{}/{}@{version}", f[0], f[1]));
        }
        assert_eq!(out.packages.len(), expected.len(), "{:#?}", out.packages);
        for (name, version, direct, dev, parent) in expected {
            let p = out.packages.iter().find(|p| p.name == name).unwrap_or_else(|| panic!("{name} missing"));
            assert_eq!((p.version.as_str(), p.direct), (version.as_str(), Some(direct)), "{name}");
            assert_eq!(p.scope == Scope::Dev, dev, "{name}");
            if let Some(parent) = parent {
                let from = out.packages.iter().find(|q| q.purl == parent).unwrap();
                assert!(from.dependencies.contains(&p.purl), "{parent} -> {}", p.purl);
            }
        }
        let resolver = out.packages.iter().find(|p| p.name.ends_with(":maven-resolver-util")).unwrap();
        assert_eq!(resolver.scope, Scope::Optional, "comes through the optional maven-resolver-impl");
        // The project lists only its declared dependencies.
        assert_eq!(out.projects[0].package.dependencies.len(), 5);
    }

    fn small_pom(group: &str, artifact: &str, version: &str, body: &str) -> String {
        format!(
            "<project><groupId>{group}</groupId><artifactId>{artifact}</artifactId><version>{version}</version>{body}</project>"
        )
    }

    fn dep(group: &str, artifact: &str, version: &str, extra: &str) -> String {
        format!(
            "<dependency><groupId>{group}</groupId><artifactId>{artifact}</artifactId><version>{version}</version>{extra}</dependency>"
        )
    }

    #[test]
    fn cycles_exclusions_management_and_missing_poms() {
        let root = small_pom(
            "app",
            "app",
            "1",
            &format!(
                "<dependencyManagement><dependencies>{}</dependencies></dependencyManagement><dependencies>{}{}</dependencies>",
                dep("x", "c", "9", ""),
                dep(
                    "x",
                    "a",
                    "1",
                    "<exclusions><exclusion><groupId>x</groupId><artifactId>d</artifactId></exclusion></exclusions>"
                ),
                dep("x", "gone", "1", "")
            ),
        );
        let deps = |list: &[String]| format!("<dependencies>{}</dependencies>", list.concat());
        let repo = [
            ("a", "1", deps(&[dep("x", "b", "1", "")])),
            (
                "b",
                "1",
                deps(&[
                    dep("x", "c", "1", ""),
                    dep("x", "d", "1", ""),
                    dep("x", "t", "1", "<scope>test</scope>"),
                ]),
            ),
            // c depends back on a: a cycle.
            ("c", "9", deps(&[dep("x", "a", "1", ""), dep("x", "o", "1", "<optional>true</optional>")])),
        ];
        let repository: Vec<(String, Pom)> = repo
            .iter()
            .map(|(a, v, body)| {
                repo_pom(
                    &format!(".m2/repository/x/{a}/{v}/{a}-{v}.pom"),
                    small_pom("x", a, v, body).as_bytes(),
                )
            })
            .collect();
        let results = resolve(&[pom("pom.xml", root.as_bytes())], &repository);
        let (_, _, out) = &results[0];
        let got: Vec<String> =
            out.packages.iter().map(|p| format!("{}@{} {:?}", p.name, p.version, p.direct)).collect();
        assert_eq!(
            got,
            ["x:a@1 Some(true)", "x:b@1 Some(false)", "x:c@9 Some(false)", "x:gone@1 Some(true)"]
        );
        let c = out.packages.iter().find(|p| p.name == "x:c").unwrap();
        assert_eq!(c.dependencies, ["pkg:maven/x/a@1"], "the cycle is an edge, not a new package");
        assert_eq!(out.warnings.len(), 1, "{:?}", out.warnings);
        assert!(
            out.warnings[0].contains("1 dependencies have no POM") && out.warnings[0].contains("x:gone:1")
        );
    }

    #[test]
    fn depth_limit() {
        let chain: Vec<(String, Pom)> = (0..MAX_DEPTH + 5)
            .map(|i| {
                let body =
                    format!("<dependencies>{}</dependencies>", dep("x", &format!("n{}", i + 1), "1", ""));
                repo_pom(
                    &format!("r/x/n{i}/1/n{i}-1.pom"),
                    small_pom("x", &format!("n{i}"), "1", &body).as_bytes(),
                )
            })
            .collect();
        let root = small_pom(
            "app",
            "app",
            "1",
            &format!("<dependencies>{}</dependencies>", dep("x", "n0", "1", "")),
        );
        let results = resolve(&[pom("pom.xml", root.as_bytes())], &chain);
        let (_, _, out) = &results[0];
        assert_eq!(out.packages.len(), MAX_DEPTH + 1);
        assert!(out.warnings.iter().any(|w| w.contains("levels deep")), "{:?}", out.warnings);
    }

    #[test]
    fn malformed_repository_pom_is_an_error_and_truncation_does_not_panic() {
        assert!(run(&MavenRepositoryPom, "r/x/a/1/a-1.pom", b"<settings/>").is_err());
        let data =
            small_pom("x", "a", "1", &format!("<dependencies>{}</dependencies>", dep("x", "b", "1", "")));
        no_panic_on_truncation(&MavenRepositoryPom, "r/x/a/1/a-1.pom", data.as_bytes());
    }
}
