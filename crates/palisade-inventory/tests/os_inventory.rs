//! End to end through [`Inventory`]: OS databases plus os-release in, distro purls out.

use palisade_artifact::{FileMeta, FileSink};
use palisade_core::Warnings;
use palisade_inventory::Inventory;

fn fixture(rel: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{rel}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn feed(inv: &Inventory, warnings: &Warnings, path: &str, data: &[u8]) {
    let meta = FileMeta { path, size: data.len() as u64, mode: 0o644, layer: Some(0) };
    assert!(inv.wants(&meta), "{path} not wanted");
    inv.accept(&meta, data, warnings);
}

#[test]
fn debian_purls() {
    let inv = Inventory::new(None);
    let w = Warnings::new();
    feed(&inv, &w, "etc/os-release", b"ID=debian\nVERSION_ID=\"12\"\n");
    feed(&inv, &w, "var/lib/dpkg/status", &fixture("dpkg/status"));
    let res = inv.finish(|_, _| true);
    assert!(w.is_empty(), "{:?}", w.into_vec());
    let purls: Vec<_> = res.packages.iter().map(|p| p.purl.as_str()).collect();
    assert!(
        purls.contains(
            &"pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12&upstream=openssl"
        ),
        "{purls:?}"
    );
    assert!(purls.iter().any(|p| p.starts_with("pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?")), "{purls:?}");
    assert!(!res.os.unwrap().distroless);
}

#[test]
fn distroless_is_flagged() {
    let inv = Inventory::new(None);
    let w = Warnings::new();
    feed(&inv, &w, "etc/os-release", b"ID=debian\nVERSION_ID=\"12\"\n");
    feed(&inv, &w, "var/lib/dpkg/status.d/libssl3", &fixture("dpkg/status.d/libssl3"));
    let meta =
        FileMeta { path: "var/lib/dpkg/status.d/libssl3.md5sums", size: 10, mode: 0o644, layer: Some(0) };
    assert!(!inv.wants(&meta));
    let res = inv.finish(|_, _| true);
    assert!(res.os.unwrap().distroless);
    assert_eq!(res.packages.len(), 1);
}

#[test]
fn alpine_and_rpm_purls() {
    let inv = Inventory::new(None);
    let w = Warnings::new();
    feed(&inv, &w, "etc/os-release", b"ID=alpine\nVERSION_ID=3.19.1\n");
    feed(&inv, &w, "lib/apk/db/installed", &fixture("apk/installed"));
    let res = inv.finish(|_, _| true);
    let crypto = res.packages.iter().find(|p| p.name == "libcrypto3").unwrap();
    assert_eq!(
        crypto.purl,
        "pkg:apk/alpine/libcrypto3@3.1.4-r5?arch=x86_64&distro=alpine-3.19.1&upstream=openssl"
    );

    let inv = Inventory::new(None);
    feed(&inv, &w, "etc/os-release", b"ID=\"rocky\"\nVERSION_ID=\"9.3\"\n");
    feed(&inv, &w, "var/lib/rpm/rpmdb.sqlite", &fixture("rpm/rpmdb.sqlite"));
    let res = inv.finish(|_, _| true);
    assert!(w.is_empty(), "{:?}", w.into_vec());
    let ssl = res.packages.iter().find(|p| p.name == "openssl-libs").unwrap();
    assert_eq!(ssl.purl, "pkg:rpm/rocky/openssl-libs@3.0.7-27.el9?arch=noarch&distro=rocky-9.3&epoch=1");
}
