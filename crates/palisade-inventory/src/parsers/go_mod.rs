//! `go.mod` (Go module file, <https://go.dev/ref/mod#go-mod-file>): the modules a Go project requires.
//!
//! Reads `require` directives in single-line and block form. A trailing `// indirect` comment marks a
//! transitive requirement (`direct = Some(false)`); every other requirement is direct. `replace` directives
//! are applied: a replacement by another module (`a => b v1.2.3`) reports `b` at `v1.2.3` (metadata
//! `replaces` = the original path); a replacement by a local directory (`a => ../a`) keeps `a` at its required
//! version and says so: the directory in metadata `replaced_by_path`, the purl qualifier `replaced_by`, and the
//! replacement's directory (resolved against the `go.mod`'s) as a second location, so a finding on it shows
//! that the code built is the local copy. A replacement whose left side names a version only applies to that
//! version. `exclude`, `retract`, `toolchain` and `godebug` do not change what is
//! built from this file and are ignored. The `go` directive is recorded in metadata `go_directive`. A verb Go
//! does not know makes the file invalid (an error naming the line, as `go mod` reports it); a file without a
//! `module` directive is read with a warning.
//!
//! The project's own module (`module` directive) is the file's root project, without a version (a `go.mod`
//! has none), depending on the direct requirements (after replacement).
//!
//! `go.mod` files under a module cache (`pkg/mod/`) or a `vendor/` directory belong to dependencies, not to a
//! project, and are not wanted.

use crate::{Input, Output, ParseError, Parser, Project, parent_dir};
use palisade_artifact::FileMeta;
use palisade_core::{Ecosystem, Package};

/// The `go.mod` parser.
pub struct GoMod;

/// Larger `go.mod` files are not plausible.
const MAX_SIZE: u64 = 4 * 1024 * 1024;

impl Parser for GoMod {
    fn id(&self) -> &'static str {
        "go-mod"
    }

    fn wants(&self, meta: &FileMeta) -> bool {
        meta.file_name() == "go.mod"
            && meta.size < MAX_SIZE
            && !meta.path.contains("pkg/mod/")
            && !meta.path.starts_with("vendor/")
            && !meta.path.contains("/vendor/")
    }

    fn parse(&self, input: &Input, out: &mut Output) -> Result<(), ParseError> {
        let file = parse_go_mod(input.text()?)?;
        let location = input.location();
        for req in &file.requires {
            let replacement = file.replaces.iter().find(|r| {
                r.old_path == req.path && r.old_version.as_deref().is_none_or(|v| v == req.version)
            });
            let mut pkg = match replacement {
                Some(Replace { new: Target::Module { path, version }, .. }) => {
                    let mut p = Package::new(Ecosystem::Golang, path, version, location.clone(), self.id());
                    p.metadata.insert("replaces".into(), req.path.clone());
                    p
                }
                Some(Replace { new: Target::Dir(dir), .. }) => {
                    let mut p =
                        Package::new(Ecosystem::Golang, &req.path, &req.version, location.clone(), self.id());
                    p.purl = palisade_core::package::build_purl(
                        Ecosystem::Golang,
                        &req.path,
                        &req.version,
                        &[("replaced_by", dir)],
                    );
                    p.metadata.insert("replaced_by_path".into(), dir.clone());
                    if let Some(local) = local_dir(parent_dir(input.path), dir) {
                        p.locations.push(palisade_core::Location::new(local, input.layer));
                    }
                    p
                }
                None => Package::new(Ecosystem::Golang, &req.path, &req.version, location.clone(), self.id()),
            };
            pkg.direct = Some(!req.indirect);
            if let Some(go) = &file.go {
                pkg.metadata.insert("go_directive".into(), go.clone());
            }
            out.packages.push(pkg);
        }
        if file.module.as_deref().is_none_or(str::is_empty) {
            out.warnings.push("no `module` directive: not a complete go.mod".into());
        }
        if let Some(module) = file.module.as_deref().filter(|m| !m.is_empty()) {
            let mut project = Package::new(Ecosystem::Golang, module, "", location, self.id());
            project.dependencies =
                out.packages.iter().filter(|p| p.direct == Some(true)).map(|p| p.purl.clone()).collect();
            project.dependencies.sort();
            project.dependencies.dedup();
            if let Some(go) = &file.go {
                project.metadata.insert("go_directive".into(), go.clone());
            }
            out.projects.push(Project::new(project, parent_dir(input.path)));
        }
        Ok(())
    }
}

/// One `require` entry.
#[derive(Debug, PartialEq)]
struct Require {
    path: String,
    version: String,
    indirect: bool,
}

/// Right-hand side of a `replace`.
#[derive(Debug, PartialEq)]
enum Target {
    Module { path: String, version: String },
    Dir(String),
}

#[derive(Debug, PartialEq)]
struct Replace {
    old_path: String,
    old_version: Option<String>,
    new: Target,
}

#[derive(Debug, Default)]
struct GoModFile {
    module: Option<String>,
    go: Option<String>,
    requires: Vec<Require>,
    replaces: Vec<Replace>,
}

/// Parse the directives this parser cares about; a malformed `require` or `replace` line is an error
/// naming the line.
fn parse_go_mod(text: &str) -> Result<GoModFile, ParseError> {
    let mut file = GoModFile::default();
    // The verb of the block we are in, if any.
    let mut block: Option<String> = None;
    for (idx, raw) in text.lines().enumerate() {
        let lineno = idx + 1;
        let (code, comment) = split_comment(raw);
        let tokens = tokenize(code).map_err(|e| ParseError::new(format!("line {lineno}: {e}")))?;
        if tokens.is_empty() {
            continue;
        }
        let (verb, args): (String, &[String]) = match &block {
            Some(v) => {
                if matches!(tokens.as_slice(), [only] if only == ")") {
                    block = None;
                    continue;
                }
                (v.clone(), &tokens[..])
            }
            None => {
                let Some((verb, rest)) = tokens.split_first() else { continue };
                if matches!(rest, [only] if only == "(") {
                    block = Some(verb.clone());
                    continue;
                }
                (verb.clone(), rest)
            }
        };
        match verb.as_str() {
            "module" => file.module = args.first().cloned(),
            "go" => file.go = args.first().cloned(),
            "require" => {
                let [path, version] = args else {
                    return Err(ParseError::new(format!(
                        "line {lineno}: require wants `path version`, got {} token(s)",
                        args.len()
                    )));
                };
                let indirect = comment.is_some_and(|c| {
                    c.split(';').any(|part| part.trim() == "indirect")
                        || c.trim_start().starts_with("indirect")
                });
                file.requires.push(Require { path: path.clone(), version: version.clone(), indirect });
            }
            "replace" => file.replaces.push(
                parse_replace(args).map_err(|e| ParseError::new(format!("line {lineno}: replace: {e}")))?,
            ),
            // These do not change what is built from this file.
            "exclude" | "retract" | "toolchain" | "godebug" | "tool" | "ignore" => {}
            other => {
                return Err(ParseError::new(format!(
                    "line {lineno}: unknown directive {:?}: not a go.mod",
                    other.chars().take(40).collect::<String>()
                )));
            }
        }
    }
    if block.is_some() {
        return Err(ParseError::new("unterminated `(` block at end of file"));
    }
    Ok(file)
}

/// The directory a local `replace` points at, relative to the artifact root (`None` when it leaves the root or
/// is absolute on the build machine).
fn local_dir(dir: &str, target: &str) -> Option<String> {
    if target.starts_with('/') {
        return None;
    }
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    for part in target.split('/') {
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

/// `old [v] => new [v]`
fn parse_replace(args: &[String]) -> Result<Replace, String> {
    let arrow = args.iter().position(|a| a == "=>").ok_or("no `=>`")?;
    let (left, right) = (&args[..arrow], args.get(arrow + 1..).unwrap_or_default());
    let (old_path, old_version) = match left {
        [p] => (p.clone(), None),
        [p, v] => (p.clone(), Some(v.clone())),
        _ => return Err(format!("left side wants `path [version]`, got {} token(s)", left.len())),
    };
    let new = match right {
        [p] => Target::Dir(p.clone()),
        [p, v] => Target::Module { path: p.clone(), version: v.clone() },
        _ => return Err(format!("right side wants `path [version]`, got {} token(s)", right.len())),
    };
    Ok(Replace { old_path, old_version, new })
}

/// Split a line at a `//` comment that is not inside a quoted string.
fn split_comment(line: &str) -> (&str, Option<&str>) {
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        match quote {
            Some(q) => {
                if escaped {
                    escaped = false;
                } else if c == '\\' && q == '"' {
                    escaped = true;
                } else if c == q {
                    quote = None;
                }
            }
            None => {
                if c == '"' || c == '`' {
                    quote = Some(c);
                } else if c == '/' && line[i..].starts_with("//") {
                    return (&line[..i], Some(&line[i + 2..]));
                }
            }
        }
    }
    (line, None)
}

/// Split into tokens: bare words, `"interpreted"` and `` `raw` `` strings, `(`, `)` and `=>`.
fn tokenize(code: &str) -> Result<Vec<String>, String> {
    let mut tokens = Vec::new();
    let mut chars = code.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '(' || c == ')' {
            chars.next();
            tokens.push(c.to_string());
        } else if c == '"' {
            chars.next();
            let mut s = String::new();
            loop {
                match chars.next() {
                    None => return Err("unterminated quoted string".into()),
                    Some('"') => break,
                    Some('\\') => match chars.next() {
                        Some(e) => s.push(e),
                        None => return Err("unterminated quoted string".into()),
                    },
                    Some(ch) => s.push(ch),
                }
            }
            tokens.push(s);
        } else if c == '`' {
            chars.next();
            let mut s = String::new();
            loop {
                match chars.next() {
                    None => return Err("unterminated raw string".into()),
                    Some('`') => break,
                    Some(ch) => s.push(ch),
                }
            }
            tokens.push(s);
        } else {
            let mut s = String::new();
            while let Some(&ch) = chars.peek() {
                if ch.is_whitespace() || ch == '(' || ch == ')' || ch == '"' || ch == '`' {
                    break;
                }
                s.push(ch);
                chars.next();
            }
            tokens.push(s);
        }
    }
    Ok(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Output, ParseError> {
        let mut out = Output::default();
        GoMod.parse(&Input { path: "src/app/go.mod", layer: Some(2), data: text.as_bytes() }, &mut out)?;
        Ok(out)
    }

    fn find<'a>(out: &'a Output, name: &str) -> &'a Package {
        out.packages.iter().find(|p| p.name == name).unwrap_or_else(|| panic!("{name} missing"))
    }

    const SAMPLE: &str = r#"// A comment
module example.com/app

go 1.21

toolchain go1.21.5

require github.com/single/line v1.0.0

require (
	golang.org/x/net v0.17.0
	golang.org/x/text v0.13.0 // indirect
	"github.com/quoted/mod" v2.1.0+incompatible
	github.com/replaced/one v1.0.0
	github.com/replaced/local v0.5.0 // indirect; some note
	github.com/replaced/pinned v1.1.0
)

replace github.com/replaced/one => github.com/fork/one v1.0.1

replace (
	github.com/replaced/local => ../local
	github.com/replaced/pinned v1.0.0 => github.com/other/pinned v9.9.9
)

exclude golang.org/x/net v0.1.0
retract v0.9.0
"#;

    #[test]
    fn requires_replaces_and_indirect() {
        let out = parse(SAMPLE).unwrap();
        assert_eq!(out.packages.len(), 7);
        let single = find(&out, "github.com/single/line");
        assert_eq!((single.version.as_str(), single.direct), ("v1.0.0", Some(true)));
        assert_eq!(single.purl, "pkg:golang/github.com/single/line@v1.0.0");
        assert_eq!(single.locations[0].path, "src/app/go.mod");
        assert_eq!(single.locations[0].layer, Some(2));
        assert_eq!(single.found_by, "go-mod");
        assert_eq!(single.metadata.get("go_directive").map(String::as_str), Some("1.21"));
        assert_eq!(find(&out, "golang.org/x/net").direct, Some(true));
        assert_eq!(find(&out, "golang.org/x/text").direct, Some(false));
        assert_eq!(find(&out, "github.com/quoted/mod").version, "v2.1.0+incompatible");

        let fork = find(&out, "github.com/fork/one");
        assert_eq!(fork.version, "v1.0.1");
        assert_eq!(fork.metadata.get("replaces").map(String::as_str), Some("github.com/replaced/one"));
        assert!(!out.packages.iter().any(|p| p.name == "github.com/replaced/one"));

        let local = find(&out, "github.com/replaced/local");
        assert_eq!((local.version.as_str(), local.direct), ("v0.5.0", Some(false)));
        assert_eq!(local.metadata.get("replaced_by_path").map(String::as_str), Some("../local"));
        // Issue 13: the local replacement shows in the purl and as a location.
        assert!(local.purl.ends_with("?replaced_by=..%2Flocal"), "{}", local.purl);
        assert_eq!(local.locations[1].path, "src/local");

        // The replace names v1.0.0 but v1.1.0 is required: not applied.
        assert_eq!(find(&out, "github.com/replaced/pinned").version, "v1.1.0");
        assert!(!out.packages.iter().any(|p| p.name == "github.com/other/pinned"));
        // The module itself is not a dependency: it is the root project, depending on the direct requirements.
        assert!(!out.packages.iter().any(|p| p.name == "example.com/app"));
        assert_eq!(out.projects.len(), 1);
        let app = &out.projects[0];
        assert_eq!((app.package.name.as_str(), app.package.version.as_str()), ("example.com/app", ""));
        assert_eq!((app.package.purl.as_str(), app.dir.as_str()), ("pkg:golang/example.com/app", "src/app"));
        assert_eq!(
            app.package.dependencies,
            [
                "pkg:golang/github.com/fork/one@v1.0.1",
                "pkg:golang/github.com/quoted/mod@v2.1.0%2Bincompatible",
                "pkg:golang/github.com/replaced/pinned@v1.1.0",
                "pkg:golang/github.com/single/line@v1.0.0",
                "pkg:golang/golang.org/x/net@v0.17.0"
            ]
        );
    }

    #[test]
    fn module_only_file_has_no_packages() {
        let out = parse("module example.com/x\n\ngo 1.22\n").unwrap();
        assert!(out.packages.is_empty());
        assert_eq!(out.projects[0].package.name, "example.com/x");
        assert!(out.projects[0].package.dependencies.is_empty());
        let no_module = parse("go 1.22\n").unwrap();
        assert!(no_module.projects.is_empty(), "no module directive, no project");
        assert_eq!(no_module.warnings.len(), 1);
    }

    #[test]
    fn malformed_files_are_errors() {
        let err = parse("module x\nrequire (\n  golang.org/x/net\n)\n").unwrap_err();
        assert!(err.0.contains("line 3"), "{err}");
        assert!(
            parse("module x\nrequire (\n golang.org/x/net v1.0.0\n").unwrap_err().0.contains("unterminated")
        );
        assert!(parse("replace a b\n").unwrap_err().0.contains("=>"));
        // Issue 13: a file that is not a go.mod is an error, not an empty module.
        assert!(parse("<html><body>not found</body></html>\n").unwrap_err().0.contains("unknown directive"));
        assert!(parse("module x\nfrobnicate y\n").unwrap_err().0.contains("line 2"));
        assert!(parse("replace a => \n").is_err());
        assert!(parse("require \"unterminated v1\n").is_err());
        let bad =
            GoMod.parse(&Input { path: "go.mod", layer: None, data: b"\xff\xfe\0" }, &mut Output::default());
        assert!(bad.is_err());
    }

    #[test]
    fn wants_only_project_go_mod() {
        let meta = |path| FileMeta { path, size: 100, mode: 0o644, layer: None };
        assert!(GoMod.wants(&meta("go.mod")));
        assert!(GoMod.wants(&meta("src/app/go.mod")));
        assert!(!GoMod.wants(&meta("root/go/pkg/mod/golang.org/x/net@v0.1.0/go.mod")));
        assert!(!GoMod.wants(&meta("src/app/vendor/github.com/a/b/go.mod")));
        assert!(!GoMod.wants(&meta("src/app/go.sum")));
    }
}
