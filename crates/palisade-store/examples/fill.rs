//! `bench/rescan.sh`'s driver.
//!
//!   fill fill STORE DB N REPORT.json...   N images made from real inventories (saved JSON reports of the
//!                                         fixture images) with varied package versions, each stored with its
//!                                         CycloneDX SBOM, then matched once against DB (the state before a DB
//!                                         update)
//!   fill rescan STORE DB                  what `palisade rescan -f json` does (`Store::rematch`), without the
//!                                         rest of the CLI, so that the benchmark needs only this release build
//!
//! Image i is report i mod R; in variant v = i / R mod 64, about a third of its packages get another version
//! (a binNMU suffix `+bN` for OS packages, a different last version component for language packages), so the
//! store holds tens of thousands of distinct package versions, as a registry of many builds does.

use palisade_core::{Package, ScanReport};
use palisade_store::{NewImage, Store};
use sha2::{Digest, Sha256};
use std::time::Instant;

fn hash(parts: &[&str]) -> u64 {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    let d = h.finalize();
    u64::from_le_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]])
}

/// Another plausible version of the same package.
fn vary(p: &mut Package, variant: u64) {
    let n = variant % 7 + 1;
    let new = if p.ecosystem.is_os() {
        format!("{}+b{n}", p.version)
    } else {
        let cut = p.version.rfind(|c: char| !c.is_ascii_digit()).map_or(0, |i| i + 1);
        match p.version[cut..].parse::<u64>() {
            Ok(last) if cut < p.version.len() => format!("{}{}", &p.version[..cut], last + n),
            _ => return,
        }
    };
    p.purl = p.purl.replacen(&format!("@{}", p.version), &format!("@{new}"), 1);
    if let Some(src) = p.source.as_mut().filter(|s| s.version == p.version) {
        src.version = new.clone();
    }
    p.version = new;
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [mode, store, db] = args.as_slice()
        && mode == "rescan"
    {
        let db = palisade_vulndb::Db::open(std::path::Path::new(db))?;
        let summary = Store::open(store)?.rematch(&db)?;
        println!("{}", serde_json::to_string_pretty(&summary)?);
        return Ok(());
    }
    let [mode, store, db, n, reports @ ..] = args.as_slice() else {
        return Err("usage: fill fill STORE DB N REPORT.json... | fill rescan STORE DB".into());
    };
    if mode != "fill" {
        return Err(format!("{mode}: expected fill or rescan").into());
    }
    let n: usize = n.parse()?;
    let reports: Vec<ScanReport> = reports
        .iter()
        .map(|p| palisade_report::json::read(std::fs::File::open(p)?).map_err(|e| format!("{p}: {e}").into()))
        .collect::<Result<_, Box<dyn std::error::Error>>>()?;
    if reports.is_empty() {
        return Err("no reports".into());
    }
    let store = Store::open(store)?;
    let t = Instant::now();
    let (mut sbom_bytes, mut packages) = (0usize, 0usize);
    for i in 0..n {
        let base = &reports[i % reports.len()];
        let variant = (i / reports.len()) as u64 % 64;
        let mut r = base.clone();
        for p in r.packages.iter_mut() {
            if variant > 0 && hash(&[&p.name, &variant.to_string()]).is_multiple_of(3) {
                vary(p, variant);
            }
        }
        let digest = format!("sha256:{}", hex::encode(Sha256::digest(format!("image {i}").as_bytes())));
        let mut sbom = Vec::new();
        palisade_report::render(&r, palisade_report::Format::CycloneDx, &mut sbom)?;
        sbom_bytes += sbom.len();
        packages += r.packages.len();
        let labels = r.artifact.config.as_ref().map(|c| c.labels.clone()).unwrap_or_default();
        store.put_image(&NewImage {
            digest,
            platform: "linux/amd64".into(),
            repository: format!("bench.example/repo{}", i % 100),
            tags: vec![format!("build-{i}")],
            created: r.artifact.config.as_ref().and_then(|c| c.created.clone()),
            labels,
            base_image: None,
            layers: r.artifact.layers.iter().filter_map(|l| l.digest.clone()).collect(),
            os: r.os.clone(),
            packages: r.packages,
            sbom,
            sbom_format: "cyclonedx-json".into(),
        })?;
        if (i + 1) % 1000 == 0 {
            eprintln!("{} images stored ({:.1} s)", i + 1, t.elapsed().as_secs_f64());
        }
    }
    println!("stored_images={n}");
    println!("store_seconds={:.2}", t.elapsed().as_secs_f64());
    println!("packages_per_image={}", packages / n.max(1));
    println!("sbom_bytes_per_image={}", sbom_bytes / n.max(1));
    let db = palisade_vulndb::Db::open(std::path::Path::new(db))?;
    let s = store.rematch(&db)?;
    println!("first_match_seconds={:.2}", s.seconds);
    println!("distinct_packages={}", s.packages_matched);
    println!("package_keys={}", s.package_keys);
    Ok(())
}
