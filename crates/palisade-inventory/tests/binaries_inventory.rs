//! End to end through [`Inventory`] with every registered parser: Go and `cargo auditable` binaries, Java
//! archives and `go.mod` in, packages out, and no parser tripping over another's files.

use palisade_artifact::{FileMeta, FileSink};
use palisade_core::{Ecosystem, Warnings};
use palisade_inventory::Inventory;
use std::io::{Cursor, Write};

fn fixture(rel: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{rel}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn feed(inv: &Inventory, warnings: &Warnings, path: &str, mode: u32, data: &[u8]) {
    let meta = FileMeta { path, size: data.len() as u64, mode, layer: Some(0) };
    assert!(inv.wants(&meta), "{path} not wanted");
    inv.accept(&meta, data, warnings);
}

fn war() -> Vec<u8> {
    let opts = zip::write::SimpleFileOptions::default();
    let mut lib = zip::ZipWriter::new(Cursor::new(Vec::new()));
    lib.start_file("META-INF/maven/org.yaml/snakeyaml/pom.properties", opts).unwrap();
    lib.write_all(b"groupId=org.yaml\nartifactId=snakeyaml\nversion=1.33\n").unwrap();
    let lib = lib.finish().unwrap().into_inner();
    let mut war = zip::ZipWriter::new(Cursor::new(Vec::new()));
    war.start_file("WEB-INF/lib/snakeyaml-1.33.jar", opts).unwrap();
    war.write_all(&lib).unwrap();
    war.finish().unwrap().into_inner()
}

#[test]
fn binaries_archives_and_go_mod() {
    let inv = Inventory::new(None);
    let w = Warnings::new();
    feed(&inv, &w, "usr/local/bin/hello", 0o755, &fixture("go/hello-linux-amd64"));
    feed(&inv, &w, "usr/bin/auditable-hello", 0o755, &fixture("rust-auditable/auditable-hello"));
    let script = format!("#!/bin/sh\n{}exec /usr/local/bin/hello \"$@\"\n", "# comment\n".repeat(200));
    feed(&inv, &w, "usr/bin/some-script", 0o755, script.as_bytes());
    feed(&inv, &w, "srv/app.war", 0o644, &war());
    feed(&inv, &w, "src/app/go.mod", 0o644, b"module example.com/app\n\nrequire golang.org/x/net v0.17.0\n");
    let res = inv.finish(|_, _| true);
    assert!(w.is_empty(), "{:?}", w.into_vec());

    let found: Vec<_> =
        res.packages.iter().map(|p| (p.found_by.as_str(), p.ecosystem, p.purl.as_str())).collect();
    let has = |by: &str, eco: Ecosystem, purl: &str| {
        assert!(found.contains(&(by, eco, purl)), "{by} {purl} missing from {found:#?}");
    };
    has("go-binary", Ecosystem::Golang, "pkg:golang/stdlib@v1.19.8");
    has("go-binary", Ecosystem::Golang, "pkg:golang/example.com/greet@v1.2.3");
    has("cargo-auditable", Ecosystem::Cargo, "pkg:cargo/itoa@1.0.18");
    has("java-archive", Ecosystem::Maven, "pkg:maven/org.yaml/snakeyaml@1.33");
    has("go-mod", Ecosystem::Golang, "pkg:golang/golang.org/x/net@v0.17.0");
    // Each binary is claimed by its own parser only.
    assert!(res.packages.iter().all(|p| p.found_by != "go-binary" || p.locations[0].path.ends_with("hello")));
    assert!(
        res.packages
            .iter()
            .filter(|p| p.found_by == "cargo-auditable")
            .all(|p| p.locations[0].path == "usr/bin/auditable-hello")
    );
    // Go: 3 modules and stdlib; Rust: itoa; Java: snakeyaml; go.mod: x/net. The binaries' own modules and the
    // go.mod module are the root projects.
    assert_eq!(res.packages.len(), 4 + 1 + 1 + 1, "{found:#?}");
    let projects: Vec<_> = res.projects.iter().map(|p| (p.found_by.as_str(), p.purl.as_str())).collect();
    assert_eq!(
        projects,
        [
            ("cargo-auditable", "pkg:cargo/auditable-hello@0.3.1"),
            ("go-mod", "pkg:golang/example.com/app"),
            ("go-binary", "pkg:golang/example.com/hello@(devel)"),
        ]
    );
}

#[test]
fn corrupt_inputs_become_warnings() {
    let inv = Inventory::new(None);
    let w = Warnings::new();
    let go = fixture("go/hello-linux-amd64");
    feed(&inv, &w, "usr/local/bin/hello", 0o755, &go[..go.len() / 3]);
    feed(&inv, &w, "srv/broken.jar", 0o644, b"PK\x03\x04 definitely not a zip archive");
    let res = inv.finish(|_, _| true);
    assert!(res.packages.is_empty(), "{:?}", res.packages);
    let warnings = w.into_vec();
    let sources: Vec<_> = warnings.iter().map(|w| w.source.as_str()).collect();
    assert!(sources.contains(&"go-binary"), "{warnings:?}");
    assert!(sources.contains(&"java-archive"), "{warnings:?}");
    assert!(warnings.iter().all(|w| w.path.is_some()));
}
