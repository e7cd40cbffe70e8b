//! Conformance on a real Debian root filesystem (the debootstrap bookworm tree `.ci/fixtures.sh` builds):
//! the share of packages with a machine-readable copyright file whose licences all normalise to SPDX
//! licence-list ids, and the list of the rest (the figures in `docs/accuracy.md`). Skips when the fixture
//! is absent.

use palisade_artifact::{FileMeta, FileSink};
use palisade_core::Warnings;
use palisade_license::{LicenseSink, Policy};
use std::path::Path;

#[test]
fn bookworm_copyright_files() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.fixtures/rootfs-bookworm");
    let doc = root.join("usr/share/doc");
    let Ok(dirs) = std::fs::read_dir(&doc) else {
        eprintln!("skipped: {} is absent (run .ci/fixtures.sh)", doc.display());
        return;
    };
    let sink = LicenseSink::new(false);
    let warnings = Warnings::new();
    let mut files = 0;
    for d in dirs.flatten() {
        let path = d.path().join("copyright");
        // A package's doc directory may be a symlink to another package's; the copyright file is then shared.
        let Ok(data) = std::fs::read(&path) else { continue };
        let rel = format!("usr/share/doc/{}/copyright", d.file_name().to_string_lossy());
        let meta = FileMeta { path: &rel, size: data.len() as u64, mode: 0o644, layer: None };
        assert!(sink.wants(&meta), "{rel}");
        sink.accept(&meta, &data, &warnings);
        files += 1;
    }
    let out = sink.finish(&mut [], &Policy::default(), |_, _| true);
    let c = &out.debian;
    println!(
        "bookworm: {files} copyright files, {} machine-readable, {} of those with every licence a listed SPDX id \
         ({:.1}%); {} with every licence a valid SPDX expression, LicenseRef-Public-Domain and the like included \
         ({:.1}%)",
        c.machine_readable,
        c.all_listed_ids,
        100.0 * c.all_listed_ids as f64 / c.machine_readable.max(1) as f64,
        c.all_valid,
        100.0 * c.all_valid as f64 / c.machine_readable.max(1) as f64
    );
    for r in &c.rest {
        println!("  {r}");
    }
    assert_eq!(c.packages, files);
    assert!(c.machine_readable * 2 > files, "most bookworm copyright files are DEP-5");
    // Most of the rest are names Debian files define themselves (`BSLA`, `MIT-US-export`) or public domain,
    // which no SPDX id names; see docs/accuracy.md.
    assert!(c.all_listed_ids * 3 > c.machine_readable, "{c:?}");
    assert!(c.all_valid * 2 > c.machine_readable, "{c:?}");
}
