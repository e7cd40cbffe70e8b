//! Rust executables built with `cargo auditable` (<https://github.com/rust-secure-code/cargo-auditable>):
//! the dependency tree embedded in the binary.
//!
//! The data is a zlib-compressed JSON document in the section `.dep-v0` (ELF and PE) or `__dep_v0`
//! (Mach-O): `{"packages": [{"name", "version", "source", "kind", "dependencies": [index...], "root"}]}`.
//! `kind` is `runtime` when absent, or `build` for build scripts' and proc-macros' dependencies.
//!
//! Choices:
//! - packages of kind `build` are not reported: their code is not in the binary (Trivy does the same).
//! - the root package (the binary's own crate) is the file's root project, not a package, with metadata
//!   `main = "true"`, like the main module of a Go binary; its direct runtime dependencies get
//!   `direct = Some(true)`, the others `Some(false)`.
//! - `dependencies` holds the purls of each package's runtime dependencies; metadata `source` is the
//!   recorded source (`crates.io`, `git`, `local`, `registry`, ...).
//!
//! The compressed section is read with the `object` crate and inflated with a 16 MiB cap. An executable
//! without the section yields nothing; a corrupt section, oversized or invalid JSON, or unreadable
//! executable headers are errors. Out-of-range dependency indices are warnings.

use crate::parsers::go_binary::{
    check_not_truncated, is_binary_candidate, is_executable_format, thin_slices,
};
use crate::{Input, Output, ParseError, Parser, Project, parent_dir};
use object::{Object, ObjectSection};
use palisade_artifact::FileMeta;
use palisade_core::{Ecosystem, Package};
use serde::Deserialize;
use std::io::Read;

/// The `cargo auditable` parser.
pub struct CargoAuditable;

/// Largest inflated JSON accepted.
const MAX_JSON: u64 = 16 * 1024 * 1024;
/// Section names used by `cargo auditable`.
const SECTIONS: &[&str] = &[".dep-v0", "__dep_v0"];

#[derive(Debug, Deserialize)]
struct VersionInfo {
    packages: Vec<AuditPackage>,
}

#[derive(Debug, Deserialize)]
struct AuditPackage {
    name: String,
    version: String,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    dependencies: Vec<usize>,
    #[serde(default)]
    root: bool,
}

impl AuditPackage {
    fn is_build_only(&self) -> bool {
        self.kind.as_deref() == Some("build")
    }
}

impl Parser for CargoAuditable {
    fn id(&self) -> &'static str {
        "cargo-auditable"
    }

    fn wants(&self, meta: &FileMeta) -> bool {
        is_binary_candidate(meta)
    }

    fn wants_after_probe(&self, _meta: &FileMeta, probe: &dyn palisade_artifact::Probe) -> bool {
        super::binary_probe::keep_binary(probe, &[".dep-v0"])
    }

    fn parse(&self, input: &Input, out: &mut Output) -> Result<(), ParseError> {
        if !is_executable_format(input.data) {
            return Ok(());
        }
        for slice in thin_slices(input.data)? {
            if let Some(compressed) = find_section(slice)? {
                let info = decode(compressed)?;
                self.emit(input, &info, out);
                return Ok(());
            }
        }
        Ok(())
    }
}

impl CargoAuditable {
    fn emit(&self, input: &Input, info: &VersionInfo, out: &mut Output) {
        let purl =
            |p: &AuditPackage| palisade_core::package::build_purl(Ecosystem::Cargo, &p.name, &p.version, &[]);
        let root_deps: Option<&[usize]> =
            info.packages.iter().find(|p| p.root).map(|p| p.dependencies.as_slice());
        for (idx, p) in info.packages.iter().enumerate() {
            if p.is_build_only() {
                continue;
            }
            let mut pkg = Package::new(Ecosystem::Cargo, &p.name, &p.version, input.location(), self.id());
            if let Some(src) = &p.source {
                pkg.metadata.insert("source".into(), src.clone());
            }
            if p.root {
                pkg.metadata.insert("main".into(), "true".into());
            } else if let Some(deps) = root_deps {
                pkg.direct = Some(deps.contains(&idx));
            }
            for &d in &p.dependencies {
                match info.packages.get(d) {
                    Some(dep) if dep.is_build_only() => {}
                    Some(dep) => pkg.dependencies.push(purl(dep)),
                    None => out.warnings.push(format!(
                        "dependency index {d} of {} {} is out of range ({} packages)",
                        p.name,
                        p.version,
                        info.packages.len()
                    )),
                }
            }
            if p.root {
                out.projects.push(Project::new(pkg, parent_dir(input.path)));
            } else {
                out.packages.push(pkg);
            }
        }
    }
}

/// The raw `.dep-v0` section of one single-architecture executable, if it has one.
fn find_section(data: &[u8]) -> Result<Option<&[u8]>, ParseError> {
    let file = object::File::parse(data)
        .map_err(|e| ParseError::new(format!("unreadable executable headers: {e}")))?;
    check_not_truncated(&file, data.len())?;
    for name in SECTIONS {
        if let Some(section) = file.section_by_name(name) {
            let bytes = section
                .data()
                .map_err(|e| ParseError::new(format!("section {name} out of the file's bounds: {e}")))?;
            return Ok(Some(bytes));
        }
    }
    Ok(None)
}

/// Inflate (capped) and deserialize.
fn decode(compressed: &[u8]) -> Result<VersionInfo, ParseError> {
    let mut json = Vec::new();
    flate2::read::ZlibDecoder::new(compressed)
        .take(MAX_JSON + 1)
        .read_to_end(&mut json)
        .map_err(|e| ParseError::new(format!("cargo auditable data: corrupt zlib stream: {e}")))?;
    if json.len() as u64 > MAX_JSON {
        return Err(ParseError::new(format!("cargo auditable data inflates to more than {MAX_JSON} bytes")));
    }
    serde_json::from_slice(&json)
        .map_err(|e| ParseError::new(format!("cargo auditable data: invalid dependency JSON: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::Compression;
    use flate2::write::ZlibEncoder;
    use std::io::Write;
    use std::path::PathBuf;

    fn fixture() -> Vec<u8> {
        let p =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rust-auditable/auditable-hello");
        std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    }

    fn parse(data: &[u8]) -> Result<Output, ParseError> {
        let mut out = Output::default();
        CargoAuditable
            .parse(&Input { path: "usr/local/bin/auditable-hello", layer: Some(4), data }, &mut out)?;
        Ok(out)
    }

    /// Built by tests/fixtures/rust-auditable/build.sh: crate `auditable-hello` 0.3.1 depending on `itoa`
    /// (runtime) and `autocfg` (build script only).
    #[test]
    fn real_binary() {
        let out = parse(&fixture()).unwrap();
        assert!(out.warnings.is_empty(), "{:?}", out.warnings);
        let names: Vec<_> = out.packages.iter().map(|p| format!("{}@{}", p.name, p.version)).collect();
        assert_eq!(names, ["itoa@1.0.18"]);
        // The binary's own crate is the root project.
        assert_eq!(out.projects.len(), 1);
        let root = &out.projects[0].package;
        assert_eq!(format!("{}@{}", root.name, root.version), "auditable-hello@0.3.1");
        assert!(root.is_binary_main());
        assert_eq!(root.metadata.get("source").map(String::as_str), Some("local"));
        assert_eq!(root.dependencies, ["pkg:cargo/itoa@1.0.18"]);
        let itoa = &out.packages[0];
        assert_eq!(itoa.purl, "pkg:cargo/itoa@1.0.18");
        assert_eq!(itoa.direct, Some(true));
        assert_eq!(itoa.found_by, "cargo-auditable");
        assert_eq!(itoa.locations[0].layer, Some(4));
        assert_eq!(itoa.metadata.get("source").map(String::as_str), Some("crates.io"));
    }

    #[test]
    fn binaries_without_audit_data_yield_nothing() {
        // This test executable is a Rust binary built without cargo auditable.
        let me = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        assert!(parse(&me).unwrap().packages.is_empty());
        assert!(parse(b"#!/bin/sh\nexit 0\n").unwrap().packages.is_empty());
    }

    fn zlib(data: &[u8]) -> Vec<u8> {
        let mut e = ZlibEncoder::new(Vec::new(), Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn decode_graph_and_warnings() {
        let json = br#"{"packages":[
            {"name":"app","version":"1.0.0","source":"local","dependencies":[1,3,9],"root":true},
            {"name":"serde","version":"1.0.200","source":"crates.io","dependencies":[2]},
            {"name":"serde_derive","version":"1.0.200","source":"crates.io","kind":"build"},
            {"name":"mygit","version":"0.1.0","source":"git","dependencies":[1]}
        ],"format":1}"#;
        let info = decode(&zlib(json)).unwrap();
        let mut out = Output::default();
        CargoAuditable.emit(&Input { path: "bin/app", layer: None, data: b"" }, &info, &mut out);
        let names: Vec<_> = out.packages.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["serde", "mygit"]);
        assert_eq!(out.projects[0].package.name, "app");
        assert_eq!(out.packages[0].direct, Some(true));
        assert!(out.packages[0].dependencies.is_empty(), "build-only deps are dropped from the graph");
        assert_eq!(out.packages[1].dependencies, ["pkg:cargo/serde@1.0.200"]);
        assert_eq!(out.packages[1].metadata.get("source").map(String::as_str), Some("git"));
        assert_eq!(out.warnings.len(), 1);
        assert!(out.warnings[0].contains("index 9"), "{:?}", out.warnings);
    }

    #[test]
    fn corrupt_data_is_an_error() {
        assert!(decode(b"not zlib at all").unwrap_err().0.contains("zlib"));
        let full = zlib(br#"{"packages":[]}"#);
        assert!(decode(&full[..full.len() / 2]).is_err());
        assert!(decode(&zlib(b"{\"packages\": 5}")).unwrap_err().0.contains("JSON"));
        assert!(decode(&zlib(b"[]")).is_err());
        // A compression bomb: 17 MiB of spaces inflate past the cap.
        let bomb = zlib(&vec![b' '; (MAX_JSON + 1024 * 1024) as usize]);
        assert!(bomb.len() < 100 * 1024);
        assert!(decode(&bomb).unwrap_err().0.contains("more than"));
    }

    #[test]
    fn corrupted_fixture_is_an_error() {
        let bin = fixture();
        // Truncated: the section table at the end of the file is gone.
        assert!(parse(&bin[..bin.len() / 2]).is_err());
        // Flip bytes inside the compressed section.
        let file = object::File::parse(&*bin).unwrap();
        let section = file.section_by_name(".dep-v0").unwrap();
        let (off, size) = section.file_range().unwrap();
        let mut bad = bin.clone();
        for b in &mut bad[off as usize + 2..(off + size) as usize] {
            *b ^= 0x5a;
        }
        assert!(parse(&bad).is_err());
    }
}
