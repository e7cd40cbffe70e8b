//! Check every Kubernetes manifest and Dockerfile under a directory with the default check set and print
//! the findings as JSON: `cargo run --release -p palisade-checks --example check_dir -- DIR`.
//! Stand-in for `palisade scan config DIR --format json` in bench/config.sh until the CLI has it.

use palisade_checks::{CheckOptions, Engine, file_kind};
use std::io::Write as _;
use std::path::{Path, PathBuf};

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let Ok(t) = e.file_type() else { continue };
        let p = e.path();
        if t.is_dir() {
            walk(&p, out);
        } else if t.is_file() && file_kind(&p.to_string_lossy()).is_some() {
            out.push(p);
        }
    }
}

fn main() -> std::process::ExitCode {
    let Some(root) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: check_dir DIR");
        return std::process::ExitCode::from(2);
    };
    let engine = match Engine::new(&CheckOptions::default()) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("check_dir: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let mut files = Vec::new();
    walk(&root, &mut files);
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let chunk = files.len().div_ceil(threads).max(1);
    let results: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = files
            .chunks(chunk)
            .map(|part| {
                let engine = &engine;
                s.spawn(move || {
                    part.iter()
                        .filter_map(|p| {
                            let data = std::fs::read(p).ok()?;
                            let res = engine.check_file(&p.to_string_lossy(), &data);
                            Some((res.findings, res.errors.len()))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap_or_default()).collect()
    });
    let errors: usize = results.iter().map(|(_, e)| e).sum();
    let findings: Vec<_> =
        results.into_iter().flat_map(|(f, _)| f).filter(|f| f.suppressed.is_none()).collect();
    let doc = serde_json::json!({ "files": files.len(), "errors": errors, "misconfigurations": findings });
    // A closed pipe (`| head`) is not an error worth a panic.
    let _ = writeln!(std::io::stdout().lock(), "{doc}");
    std::process::ExitCode::SUCCESS
}
