//! Maven `pom.xml`: the dependencies a Maven project declares, resolved without network.
//!
//! Each `pom.xml` is read into a [`Pom`] (coordinates, parent, properties, `dependencyManagement`,
//! dependencies with their scope and optional flag); after the walk [`resolve`] completes every POM from the
//! others found in the scanned tree: the parent named by `<parent>` (at `relativePath`, `../pom.xml` by
//! default, or else by its coordinates anywhere in the tree) gives its properties, managed versions and
//! inherited dependencies; `${...}` references are expanded (`project.version`, `project.groupId`,
//! `project.parent.version`, user properties, recursively); a dependency without a version takes the one its
//! `dependencyManagement` (own or inherited) gives; a BOM imported with scope `import` is applied when it is
//! in the tree. A dependency whose version still cannot be resolved (a parent or BOM only in a remote
//! repository) is reported without a version, with a warning naming the POM and the dependency.
//!
//! Parents and BOMs are also found by their coordinates in a Maven repository inside the tree. Transitive
//! dependencies need the dependencies' own POMs: they are resolved when the tree holds a Maven repository
//! (see [`super::maven_repository`]); otherwise only the declared (direct) dependencies are known. Scopes: `test` and `provided` are [`Scope::Dev`] (not shipped at run time),
//! `<optional>true</optional>` is [`Scope::Optional`], others `Required`. Each POM's own coordinates are a
//! root project depending on what it declares. POMs under `.m2/repository/` or `target/` belong to
//! dependencies or build output and are not read.

use super::lang_common::{MAX_FILE_SIZE, file_name, purl};
use crate::{Input, Output, ParseError, Parser, Project, parent_dir};
use palisade_artifact::FileMeta;
use palisade_core::{Ecosystem, Location, Package, Scope};
use quick_xml::events::Event;
use std::collections::{BTreeMap, HashMap};

/// Parser for `pom.xml` (id `maven-pom`).
pub struct MavenPom;

/// One declared dependency, as written.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Dep {
    pub group: String,
    pub artifact: String,
    pub version: String,
    pub scope: String,
    pub optional: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// `<exclusions>`: (groupId, artifactId), `*` for any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclusions: Vec<(String, String)>,
}

/// A POM as written, before inheritance and interpolation.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Pom {
    pub group: String,
    pub artifact: String,
    pub version: String,
    pub parent: Option<(String, String, String)>,
    /// `<relativePath>` of the parent (`None`: the default `../pom.xml`).
    pub parent_path: Option<String>,
    pub properties: BTreeMap<String, String>,
    pub managed: Vec<Dep>,
    pub dependencies: Vec<Dep>,
}

impl Parser for MavenPom {
    fn id(&self) -> &'static str {
        "maven-pom"
    }

    fn wants(&self, meta: &FileMeta) -> bool {
        meta.size <= MAX_FILE_SIZE
            && file_name(meta.path) == "pom.xml"
            && !meta.path.contains(".m2/repository/")
            && !meta.path.contains("/target/")
            && !meta.path.starts_with("target/")
    }

    fn parse(&self, input: &Input, out: &mut Output) -> Result<(), ParseError> {
        out.pom = Some(read_pom(input.text()?)?);
        Ok(())
    }
}

/// Read the parts of a POM used here. Elements are matched by their path from `<project>`.
pub(crate) fn read_pom(text: &str) -> Result<Pom, ParseError> {
    let mut reader = quick_xml::Reader::from_str(text);
    let mut path: Vec<String> = Vec::new();
    let mut pom = Pom::default();
    let mut dep = Dep::default();
    let mut saw_project = false;
    // Text of the current element: text, CDATA and entity references arrive as separate events.
    let mut text = String::new();
    loop {
        let event = reader
            .read_event()
            .map_err(|e| ParseError::new(format!("invalid XML at byte {}: {e}", reader.buffer_position())))?;
        match event {
            Event::Start(e) => {
                let name = e.local_name().as_ref().to_string();
                if path.is_empty() {
                    if name != "project" {
                        return Err(ParseError::new(format!("root element is <{name}>, not <project>")));
                    }
                    saw_project = true;
                }
                path.push(name);
                if path.len() > 64 {
                    return Err(ParseError::new("elements nested deeper than 64 levels"));
                }
                if path.last().is_some_and(|n| n == "dependency") {
                    dep = Dep::default();
                }
                if path.ends_with(&["dependency".to_string(), "exclusions".into(), "exclusion".into()]) {
                    dep.exclusions.push(Default::default());
                }
                text.clear();
            }
            Event::Empty(e) if path.is_empty() => {
                let name = e.local_name().as_ref().to_string();
                return Err(ParseError::new(format!("root element is <{name}/>, an empty element")));
            }
            Event::End(_) => {
                set_value(&mut pom, &mut dep, &path, std::mem::take(&mut text).trim().to_string());
                let p: Vec<&str> = path.iter().map(String::as_str).collect();
                match p.as_slice() {
                    ["project", "dependencies", "dependency"] => {
                        pom.dependencies.push(std::mem::take(&mut dep))
                    }
                    ["project", "dependencyManagement", "dependencies", "dependency"] => {
                        pom.managed.push(std::mem::take(&mut dep))
                    }
                    _ => {}
                }
                path.pop();
            }
            Event::Text(t) => text.push_str(&t.xml10_content()),
            Event::CData(t) => text.push_str(t.as_ref()),
            Event::GeneralRef(r) => {
                let raw: &str = &r;
                if let Ok(v) = quick_xml::escape::unescape(&format!("&{raw};")) {
                    text.push_str(&v);
                }
            }
            Event::Eof => break,
            _ => {}
        }
        if text.len() > 1 << 20 {
            return Err(ParseError::new(format!("text of <{}> over 1 MiB", path.join("/"))));
        }
    }
    if !saw_project {
        return Err(ParseError::new("no <project> element: not a Maven POM"));
    }
    Ok(pom)
}

fn set_value(pom: &mut Pom, dep: &mut Dep, path: &[String], value: String) {
    if value.is_empty() {
        return;
    }
    let p: Vec<&str> = path.iter().map(String::as_str).collect();
    let dep_field = |dep: &mut Dep, field: &str, value: String| match field {
        "groupId" => dep.group = value,
        "artifactId" => dep.artifact = value,
        "version" => dep.version = value,
        "scope" => dep.scope = value,
        "optional" => dep.optional = value,
        "type" => dep.kind = value,
        _ => {}
    };
    match p.as_slice() {
        ["project", "groupId"] => pom.group = value,
        ["project", "artifactId"] => pom.artifact = value,
        ["project", "version"] => pom.version = value,
        ["project", "parent", field] => {
            let parent = pom.parent.get_or_insert_with(Default::default);
            match *field {
                "groupId" => parent.0 = value,
                "artifactId" => parent.1 = value,
                "version" => parent.2 = value,
                "relativePath" => pom.parent_path = Some(value),
                _ => {}
            }
        }
        ["project", "properties", key] => {
            pom.properties.insert((*key).to_string(), value);
        }
        ["project", "dependencies", "dependency", field]
        | ["project", "dependencyManagement", "dependencies", "dependency", field] => {
            dep_field(dep, field, value)
        }
        ["project", "dependencies", "dependency", "exclusions", "exclusion", field]
        | [
            "project",
            "dependencyManagement",
            "dependencies",
            "dependency",
            "exclusions",
            "exclusion",
            field,
        ] => {
            if let Some(last) = dep.exclusions.last_mut() {
                match *field {
                    "groupId" => last.0 = value,
                    "artifactId" => last.1 = value,
                    _ => {}
                }
            }
        }
        _ => {}
    }
}

/// Parents followed at most this deep (a cycle or a hostile chain stops here).
const MAX_PARENTS: usize = 32;

/// BOM imports followed at most this deep (a BOM importing a BOM ...).
const MAX_IMPORTS: usize = 8;

/// Maven coordinates (groupId, artifactId, version).
pub(crate) type Coords = (String, String, String);

/// Managed versions: (groupId, artifactId) → (version, scope).
pub(crate) type Managed = BTreeMap<(String, String), (String, String)>;

/// A POM with everything inherited, before interpolation.
pub(crate) struct Effective<'a> {
    chain: Vec<&'a Pom>,
}

impl Effective<'_> {
    fn group(&self) -> &str {
        self.chain
            .iter()
            .find_map(|p| Some(p.group.as_str()).filter(|g| !g.is_empty()))
            .or_else(|| self.chain[0].parent.as_ref().map(|p| p.0.as_str()))
            .unwrap_or("")
    }

    fn version(&self) -> &str {
        let own = &self.chain[0];
        if !own.version.is_empty() {
            return &own.version;
        }
        own.parent.as_ref().map(|p| p.2.as_str()).unwrap_or("")
    }

    /// Expand `${...}` references; `None` names the first reference left unresolved.
    pub(crate) fn interpolate(&self, value: &str) -> Result<String, String> {
        let mut out = value.to_string();
        for _ in 0..16 {
            let Some(start) = out.find("${") else { return Ok(out) };
            let Some(len) = out[start..].find('}') else { return Ok(out) };
            let key = out[start + 2..start + len].to_string();
            let replacement = self.property(&key).ok_or_else(|| format!("${{{key}}}"))?;
            out.replace_range(start..start + len + 1, &replacement);
        }
        Err(format!("{value} (references nested too deeply)"))
    }

    fn property(&self, key: &str) -> Option<String> {
        let own = self.chain[0];
        let parent = own.parent.as_ref();
        match key {
            "project.version" | "pom.version" | "version" => return Some(self.version().to_string()),
            "project.groupId" | "pom.groupId" | "groupId" => return Some(self.group().to_string()),
            "project.artifactId" | "pom.artifactId" | "artifactId" => return Some(own.artifact.clone()),
            "project.parent.version" | "parent.version" => return parent.map(|p| p.2.clone()),
            "project.parent.groupId" | "parent.groupId" => return parent.map(|p| p.0.clone()),
            _ => {}
        }
        self.chain.iter().find_map(|p| p.properties.get(key).cloned())
    }

    /// The declared dependencies, own first, then inherited (a child's declaration of the same
    /// groupId:artifactId wins), with interpolated coordinates (`Err`: the coordinates as written, unresolved).
    pub(crate) fn declared(&self) -> Vec<Result<(String, String, &Dep), &Dep>> {
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        for p in &self.chain {
            for d in &p.dependencies {
                match (self.interpolate(&d.group), self.interpolate(&d.artifact)) {
                    (Ok(g), Ok(a)) if !g.is_empty() && !a.is_empty() => {
                        if seen.insert((g.clone(), a.clone())) {
                            out.push(Ok((g, a, d)));
                        }
                    }
                    _ => out.push(Err(d)),
                }
            }
        }
        out
    }
}

/// Every POM of the scanned tree: the live `pom.xml` files (by path and by coordinates) and the POMs of a
/// Maven repository layout in the tree (by coordinates, see [`super::maven_repository`]).
pub(crate) struct Poms<'a> {
    by_path: HashMap<&'a str, &'a Pom>,
    tree: HashMap<Coords, (&'a str, &'a Pom)>,
    repository: HashMap<Coords, (&'a str, &'a Pom)>,
}

impl<'a> Poms<'a> {
    fn new(poms: &'a [(String, Option<u32>, Pom)], repository: &'a [(String, Pom)]) -> Self {
        let coords = |pom: &Pom, version: &str| {
            let group = if pom.group.is_empty() {
                pom.parent.as_ref().map(|p| p.0.clone()).unwrap_or_default()
            } else {
                pom.group.clone()
            };
            (group, pom.artifact.clone(), version.to_string())
        };
        let own_version = |pom: &Pom| {
            if pom.version.is_empty() {
                pom.parent.as_ref().map(|p| p.2.clone()).unwrap_or_default()
            } else {
                pom.version.clone()
            }
        };
        let mut tree = HashMap::new();
        for (path, _, pom) in poms {
            tree.entry(coords(pom, &own_version(pom))).or_insert((path.as_str(), pom));
        }
        let mut repo = HashMap::new();
        for (path, pom) in repository {
            // The version directory names the coordinates the POM is fetched by (Debian's `debian` alias
            // directories hold the POM of the real version); its own version is a second key.
            let dir_version = super::maven_repository::version_dir(path).unwrap_or_default();
            repo.entry(coords(pom, dir_version)).or_insert((path.as_str(), pom));
            repo.entry(coords(pom, &own_version(pom))).or_insert((path.as_str(), pom));
        }
        Poms { by_path: poms.iter().map(|(p, _, pom)| (p.as_str(), pom)).collect(), tree, repository: repo }
    }

    /// Whether the tree holds a Maven repository (transitive dependencies are resolved only then).
    pub(crate) fn has_repository(&self) -> bool {
        !self.repository.is_empty()
    }

    /// The POM with these coordinates: a `pom.xml` of the tree first, then the repository.
    pub(crate) fn by_coords(&self, coords: &Coords) -> Option<(&'a str, &'a Pom)> {
        self.tree.get(coords).or_else(|| self.repository.get(coords)).copied()
    }

    /// The parent of the POM at `path`: at `relativePath` (`../pom.xml` by default) when that POM has the
    /// parent's artifactId, or else by its coordinates in the tree or the repository.
    fn parent_of(&self, path: &str, pom: &Pom) -> Option<(&'a str, &'a Pom)> {
        let coords = pom.parent.as_ref()?;
        let rel = pom.parent_path.as_deref().unwrap_or("../pom.xml");
        let rel = if rel.ends_with(".xml") {
            rel.to_string()
        } else {
            format!("{}/pom.xml", rel.trim_end_matches('/'))
        };
        if let Some(candidate) = join(parent_dir(path), &rel)
            && let Some((&key, &p)) = self.by_path.get_key_value(candidate.as_str())
            && p.artifact == coords.1
        {
            return Some((key, p));
        }
        self.by_coords(coords)
    }

    /// The POM and its parents. A parent that cannot be found, a loop or a chain over [`MAX_PARENTS`] is a
    /// warning; the chain found so far is used.
    pub(crate) fn effective(&self, path: &'a str, pom: &'a Pom, warnings: &mut Vec<String>) -> Effective<'a> {
        let mut chain = vec![pom];
        let mut cur = (path, pom);
        while let Some(next) = self.parent_of(cur.0, cur.1) {
            if chain.len() >= MAX_PARENTS || chain.iter().any(|p| std::ptr::eq(*p, next.1)) {
                warnings.push("parent POM chain loops or is too deep; cut".into());
                return Effective { chain };
            }
            chain.push(next.1);
            cur = next;
        }
        if let Some((g, a, v)) = &chain.last().and_then(|p| p.parent.as_ref()) {
            warnings.push(format!(
                "parent {g}:{a}:{v} is not in the scanned tree: its properties and managed versions are unknown"
            ));
        }
        Effective { chain }
    }

    /// Managed versions: own first, then each parent's, with BOMs imported (scope `import`) from the tree or
    /// the repository where they are declared.
    pub(crate) fn managed(&self, eff: &Effective, depth: usize, warnings: &mut Vec<String>) -> Managed {
        let mut managed = Managed::new();
        for p in &eff.chain {
            for m in &p.managed {
                let (Ok(g), Ok(a)) = (eff.interpolate(&m.group), eff.interpolate(&m.artifact)) else {
                    continue;
                };
                if m.scope == "import" && m.kind == "pom" {
                    let Ok(v) = eff.interpolate(&m.version) else { continue };
                    if depth >= MAX_IMPORTS {
                        warnings
                            .push(format!("imported BOM {g}:{a}:{v}: BOM imports nested too deeply; cut"));
                        continue;
                    }
                    match self.by_coords(&(g.clone(), a.clone(), v.clone())) {
                        Some((path, bom)) => {
                            let bom_eff = self.effective(path, bom, &mut Vec::new());
                            for (k, val) in self.managed(&bom_eff, depth + 1, warnings) {
                                managed.entry(k).or_insert(val);
                            }
                        }
                        None => warnings.push(format!("imported BOM {g}:{a}:{v} is not in the scanned tree")),
                    }
                    continue;
                }
                let v = eff.interpolate(&m.version).unwrap_or_default();
                managed.entry((g, a)).or_insert((v, m.scope.clone()));
            }
        }
        managed
    }
}

/// Complete every POM from the others in the tree (see the module doc). `poms`: path, layer and POM of each
/// live `pom.xml`; `repository`: path and POM of each POM of a Maven repository layout in the tree (see
/// [`super::maven_repository`]), from which transitive dependencies are resolved. Returns one output per
/// `pom.xml` (its packages, its project, its warnings).
pub fn resolve(
    poms: &[(String, Option<u32>, Pom)],
    repository: &[(String, Pom)],
) -> Vec<(String, Option<u32>, Output)> {
    let index = Poms::new(poms, repository);
    let mut results = Vec::new();
    for (path, layer, pom) in poms {
        let mut out = Output::default();
        let eff = index.effective(path, pom, &mut out.warnings);
        let location = Location::new(path.clone(), *layer);
        let managed = index.managed(&eff, 0, &mut out.warnings);
        // Declared dependencies: own, then inherited (a child's declaration wins).
        let mut deps: BTreeMap<(String, String), Package> = BTreeMap::new();
        let mut direct = Vec::new();
        for declared in eff.declared() {
            let (g, a, d) = match declared {
                Ok(x) => x,
                Err(d) => {
                    out.warnings.push(format!(
                        "dependency {}:{}: unresolved coordinates; skipped",
                        d.group, d.artifact
                    ));
                    continue;
                }
            };
            let mgmt = managed.get(&(g.clone(), a.clone()));
            let raw_version = if d.version.is_empty() {
                mgmt.map(|m| m.0.clone()).unwrap_or_default()
            } else {
                d.version.clone()
            };
            let version = match eff.interpolate(&raw_version) {
                Ok(v) if !v.is_empty() && !is_range(&v) => v,
                Ok(v) if is_range(&v) => {
                    out.warnings.push(format!("dependency {g}:{a}: version range {v} is resolved only by Maven; reported without a version"));
                    String::new()
                }
                Ok(_) => {
                    out.warnings.push(format!("dependency {g}:{a}: no version (managed by a POM not in the scanned tree); reported without a version"));
                    String::new()
                }
                Err(unresolved) => {
                    out.warnings.push(format!(
                        "dependency {g}:{a}: version {unresolved} not resolved; reported without a version"
                    ));
                    String::new()
                }
            };
            let scope =
                if d.scope.is_empty() { mgmt.map(|m| m.1.as_str()).unwrap_or("") } else { d.scope.as_str() };
            let name = format!("{g}:{a}");
            let mut pkg = Package::new(Ecosystem::Maven, &name, &version, location.clone(), "maven-pom");
            pkg.direct = Some(true);
            pkg.scope = match scope {
                "test" | "provided" => Scope::Dev,
                _ if d.optional == "true" => Scope::Optional,
                _ => Scope::Required,
            };
            if !scope.is_empty() {
                pkg.metadata.insert("maven_scope".into(), scope.to_string());
            }
            direct.push(super::maven_repository::Node {
                coords: (g.clone(), a.clone(), version),
                scope: pkg.scope,
                exclusions: d.exclusions.clone(),
                depth: 1,
            });
            deps.insert((g, a), pkg);
        }
        let declared: Vec<String> =
            deps.values().map(|p| purl(Ecosystem::Maven, &p.name, &p.version)).collect();
        super::maven_repository::transitive(
            &index,
            &location,
            &managed,
            direct,
            &mut deps,
            &mut out.warnings,
        );
        let group = eff.interpolate(eff.group()).unwrap_or_default();
        let version = eff.interpolate(eff.version()).unwrap_or_default();
        if !group.is_empty() && !pom.artifact.is_empty() {
            let mut project = Package::new(
                Ecosystem::Maven,
                format!("{group}:{}", pom.artifact),
                &version,
                location.clone(),
                "maven-pom",
            );
            project.dependencies = declared;
            project.dependencies.sort();
            out.projects.push(Project::new(project, parent_dir(path)));
        }
        out.packages = deps.into_values().collect();
        results.push((path.clone(), *layer, out));
    }
    results
}

/// Maven version ranges (`[1.0,2.0)`, `(,1.0]`): not one version.
pub(crate) fn is_range(v: &str) -> bool {
    v.starts_with('[') || v.starts_with('(')
}

/// `dir` joined with a relative path, `.` and `..` resolved; `None` above the root.
fn join(dir: &str, rel: &str) -> Option<String> {
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    for part in rel.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parsers::lang_common::testing::{no_panic_on_truncation, run};

    const PARENT: &[u8] = include_bytes!("../../tests/fixtures/maven/pom.xml");
    const CHILD: &[u8] = include_bytes!("../../tests/fixtures/maven/app/pom.xml");
    const BOM: &[u8] = include_bytes!("../../tests/fixtures/maven/bom/pom.xml");

    fn pom(path: &str, data: &[u8]) -> (String, Option<u32>, Pom) {
        (path.to_string(), Some(1), run(&MavenPom, path, data).unwrap().pom.unwrap())
    }

    #[test]
    fn parent_properties_management_and_boms() {
        let poms = [pom("pom.xml", PARENT), pom("app/pom.xml", CHILD), pom("bom/pom.xml", BOM)];
        let results = resolve(&poms, &[]);
        let (_, _, app) = results.iter().find(|(p, _, _)| p == "app/pom.xml").unwrap();
        let got: Vec<String> =
            app.packages.iter().map(|p| format!("{}@{} {:?}", p.name, p.version, p.scope)).collect();
        assert_eq!(
            got,
            [
                "com.example:shared-lib@2.4.0 Required",
                "com.fasterxml.jackson.core:jackson-databind@2.15.2 Required",
                "com.google.guava:guava@32.1.2-jre Optional",
                "junit:junit@4.13.2 Dev",
                "org.apache.commons:commons-lang3@3.12.0 Required",
                "org.slf4j:slf4j-api@2.0.9 Required",
                "org.unknown:remote-managed@ Required",
            ],
            "{:?}",
            app.warnings
        );
        assert_eq!(app.warnings.len(), 1, "{:?}", app.warnings);
        assert!(app.warnings[0].contains("org.unknown:remote-managed"));
        let project = &app.projects[0].package;
        assert_eq!((project.name.as_str(), project.version.as_str()), ("com.example:app", "2.4.0"));
        assert_eq!(app.packages[0].purl, "pkg:maven/com.example/shared-lib@2.4.0");
        // The parent's own dependencies: what it declares, not what it manages.
        let (_, _, parent) = results.iter().find(|(p, _, _)| p == "pom.xml").unwrap();
        let names: Vec<&str> = parent.packages.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["org.slf4j:slf4j-api"]);
        assert!(parent.warnings.is_empty(), "{:?}", parent.warnings);
    }

    #[test]
    fn a_parent_outside_the_tree_is_a_warning() {
        let results = resolve(&[pom("app/pom.xml", CHILD)], &[]);
        let (_, _, app) = &results[0];
        assert!(
            app.warnings.iter().any(|w| w.contains("com.example:parent:2.4.0 is not in the scanned tree"))
        );
        let commons = app.packages.iter().find(|p| p.name == "org.apache.commons:commons-lang3").unwrap();
        assert_eq!(commons.version, "", "the version comes from the missing parent");
    }

    #[test]
    fn malformed() {
        assert!(run(&MavenPom, "pom.xml", b"<settings></settings>").unwrap_err().0.contains("not <project>"));
        assert!(run(&MavenPom, "pom.xml", b"<project><dependencies></project>").is_err());
        assert!(run(&MavenPom, "pom.xml", b"hello").is_err());
    }

    #[test]
    fn truncated_input_does_not_panic() {
        no_panic_on_truncation(&MavenPom, "pom.xml", CHILD);
    }
}
