//! Single-threaded scan throughput: `cargo run --release -p palisade-secrets --example throughput -- DIR`.
//! Reads every regular file under DIR into memory first (not timed), then times `Scanner::scan_bytes`
//! over all of them on one thread and prints MB/s and the number of findings.

use palisade_secrets::{Config, Scanner};
use std::path::{Path, PathBuf};
use std::time::Instant;

fn collect(dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        let p = e.path();
        let Ok(ft) = e.file_type() else { continue };
        if ft.is_dir() {
            if p.file_name().is_some_and(|n| n == ".git" || n == "target") {
                continue;
            }
            collect(&p, out);
        } else if ft.is_file()
            && let Ok(data) = std::fs::read(&p)
        {
            out.push((p.display().to_string(), data));
        }
    }
}

fn main() {
    let dir = std::env::args().nth(1).map(PathBuf::from).unwrap_or_else(|| PathBuf::from("."));
    let mut files = Vec::new();
    collect(&dir, &mut files);
    let scanner = match Scanner::new(&Config::default()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    let bytes: usize = files.iter().map(|(_, d)| d.len()).sum();
    let passes = if bytes < 256 * 1024 * 1024 { (256 * 1024 * 1024 / bytes.max(1)).clamp(1, 50) } else { 1 };
    let start = Instant::now();
    let mut findings = 0usize;
    for _ in 0..passes {
        findings = 0;
        for (path, data) in &files {
            findings += scanner.scan_bytes(path, data).len();
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let mb = (bytes * passes) as f64 / 1e6;
    println!(
        "{} files, {:.1} MB x {passes} passes in {secs:.3} s: {:.0} MB/s single-threaded, {findings} findings, {} rules",
        files.len(),
        bytes as f64 / 1e6,
        mb / secs,
        scanner.rule_count()
    );
}
