//! Go `go.sum`: checksums of the modules a build downloaded.
//!
//! Used for modules whose `go.mod` predates Go 1.17: before module graph pruning, `go.mod` lists only the
//! direct requirements, and the indirect ones are found only in `go.sum`. A line `module version h1:hash`
//! means the module's content was downloaded; `module version/go.mod h1:hash` only its `go.mod` (for version
//! selection), so those lines are not packages. `go.sum` can hold several versions of one module (versions
//! considered during selection): the highest is kept, as minimal version selection picks it.
//!
//! After the walk, [`reconcile`] compares each `go.sum` with the `go.mod` beside it: with `go 1.17` or later
//! the `go.mod` is complete and the `go.sum` adds nothing; before, the modules the `go.mod` requires are
//! taken from it and the rest from `go.sum` as indirect dependencies. A `go.sum` without a `go.mod` is kept.

use super::lang_common::{MAX_FILE_SIZE, file_name};
use crate::{Input, Output, ParseError, Parser};
use palisade_artifact::FileMeta;
use palisade_core::{Ecosystem, Package};
use std::collections::{BTreeMap, BTreeSet};

/// Parser for `go.sum` (id `go-sum`).
pub struct GoSum;

/// (major, minor, patch, is release, rest) of `v1.2.3[-pre][+meta]`, for picking the highest.
fn version_key(v: &str) -> (u64, u64, u64, bool, String) {
    let core = v.trim_start_matches('v');
    let (nums, rest) = match core.find(['-', '+']) {
        Some(i) => (&core[..i], &core[i..]),
        None => (core, ""),
    };
    let mut it = nums.split('.').map(|n| n.parse::<u64>().unwrap_or(0));
    let (a, b, c) = (it.next().unwrap_or(0), it.next().unwrap_or(0), it.next().unwrap_or(0));
    (a, b, c, !rest.starts_with('-'), rest.to_string())
}

impl Parser for GoSum {
    fn id(&self) -> &'static str {
        "go-sum"
    }

    fn wants(&self, meta: &FileMeta) -> bool {
        meta.size <= MAX_FILE_SIZE
            && file_name(meta.path) == "go.sum"
            && !meta.path.contains("pkg/mod/")
            && !meta.path.starts_with("vendor/")
            && !meta.path.contains("/vendor/")
    }

    fn parse(&self, input: &Input, out: &mut Output) -> Result<(), ParseError> {
        let text = input.text()?;
        let mut best: BTreeMap<&str, &str> = BTreeMap::new();
        let mut lines = 0;
        for (n, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() {
                continue;
            }
            let fields: Vec<&str> = line.split_whitespace().collect();
            let [module, version, hash] = fields.as_slice() else {
                return Err(ParseError::new(format!("line {}: expected `module version hash`", n + 1)));
            };
            if !hash.contains(':') || !version.starts_with('v') {
                return Err(ParseError::new(format!("line {}: expected `module version h1:hash`", n + 1)));
            }
            lines += 1;
            if version.ends_with("/go.mod") {
                continue;
            }
            let e = best.entry(module).or_insert(version);
            if version_key(version) > version_key(e) {
                *e = version;
            }
        }
        if lines == 0 && !text.trim().is_empty() {
            return Err(ParseError::new("no checksum lines: not a go.sum"));
        }
        for (module, version) in best {
            let mut p = Package::new(Ecosystem::Golang, module, version, input.location(), self.id());
            p.direct = Some(false);
            out.packages.push(p);
        }
        Ok(())
    }
}

/// Complete or drop a `go.sum`'s packages against the `go.mod` beside it (see the module doc).
pub fn reconcile(go_sum: &mut Output, go_mod: Option<&Output>) {
    let Some(go_mod) = go_mod else { return };
    let directive = go_mod
        .projects
        .iter()
        .map(|p| &p.package)
        .chain(&go_mod.packages)
        .find_map(|p| p.metadata.get("go_directive"));
    let pruned = directive.is_some_and(|d| {
        let mut it = d.split('.').map(|n| n.parse::<u32>().unwrap_or(0));
        (it.next().unwrap_or(0), it.next().unwrap_or(0)) >= (1, 17)
    });
    if pruned {
        go_sum.packages.clear();
        return;
    }
    let required: BTreeSet<&str> = go_mod
        .packages
        .iter()
        .flat_map(|p| std::iter::once(p.name.as_str()).chain(p.metadata.get("replaces").map(String::as_str)))
        .collect();
    let own: BTreeSet<&str> = go_mod.projects.iter().map(|p| p.package.name.as_str()).collect();
    go_sum.packages.retain(|p| !required.contains(p.name.as_str()) && !own.contains(p.name.as_str()));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parsers::go_mod::GoMod;
    use crate::parsers::lang_common::testing::{get, no_panic_on_truncation, run};

    const SUM: &[u8] = include_bytes!("../../tests/fixtures/go/go116/go.sum");
    const MOD: &[u8] = include_bytes!("../../tests/fixtures/go/go116/go.mod");

    #[test]
    fn highest_downloaded_version_per_module() {
        let out = run(&GoSum, "go.sum", SUM).unwrap();
        let names: Vec<String> = out.packages.iter().map(|p| format!("{}@{}", p.name, p.version)).collect();
        assert_eq!(
            names,
            [
                "github.com/davecgh/go-spew@v1.1.1",
                "github.com/stretchr/testify@v1.7.0",
                "golang.org/x/text@v0.3.7",
                "gopkg.in/yaml.v3@v0.0.0-20210107192922-496545a6307b"
            ]
        );
        assert_eq!(get(&out, "golang.org/x/text", "v0.3.7").direct, Some(false));
    }

    #[test]
    fn go_116_adds_indirect_modules_go_117_adds_none() {
        let go_mod = run(&GoMod, "go.mod", MOD).unwrap();
        let mut sum = run(&GoSum, "go.sum", SUM).unwrap();
        reconcile(&mut sum, Some(&go_mod));
        let names: Vec<&str> = sum.packages.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["github.com/davecgh/go-spew", "gopkg.in/yaml.v3"], "go.mod's requirements win");
        let text = String::from_utf8_lossy(MOD).replace("go 1.16", "go 1.17");
        let go_117 = run(&GoMod, "go.mod", text.as_bytes()).unwrap();
        let mut sum = run(&GoSum, "go.sum", SUM).unwrap();
        reconcile(&mut sum, Some(&go_117));
        assert!(sum.packages.is_empty());
    }

    #[test]
    fn malformed() {
        assert!(run(&GoSum, "go.sum", b"hello world\n").is_err());
        assert!(run(&GoSum, "go.sum", b"a b c\n").is_err());
        assert!(run(&GoSum, "go.sum", b"").unwrap().packages.is_empty());
    }

    #[test]
    fn truncated_input_does_not_panic() {
        no_panic_on_truncation(&GoSum, "go.sum", SUM);
    }
}
