//! A private PostgreSQL cluster for tests: `initdb` in a temp dir owned by `postgres`, started with
//! `pg_ctl` on a free port, stopped (and its files removed) when dropped, even when the test fails.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub struct Postgres {
    pub url: String,
    bin: PathBuf,
    dir: tempfile::TempDir,
}

fn bin_dir() -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|p| p.join("initdb").exists() && p.join("pg_ctl").exists())
        .collect();
    dirs.sort();
    dirs.pop()
}

/// Run a PostgreSQL binary as the `postgres` user (initdb refuses root).
fn as_postgres(bin: &Path, args: &[&str]) -> std::io::Result<std::process::Output> {
    let me_root = Command::new("id").arg("-u").output().map(|o| o.stdout == b"0\n").unwrap_or(false);
    let mut cmd = if me_root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin);
        c
    } else {
        Command::new(bin)
    };
    cmd.args(args).stdin(Stdio::null()).output()
}

impl Postgres {
    /// Start a cluster, or `None` (with a message) when PostgreSQL is not installed.
    pub fn start() -> Option<Postgres> {
        let Some(bin) = bin_dir() else {
            eprintln!("SKIP: PostgreSQL binaries (/usr/lib/postgresql/*/bin) not installed");
            return None;
        };
        let dir = tempfile::Builder::new().prefix("palisade-pg").tempdir_in("/tmp").expect("tempdir");
        let _ = Command::new("chown").args(["-R", "postgres:postgres"]).arg(dir.path()).status();
        let data = dir.path().join("data");
        let out = as_postgres(
            &bin.join("initdb"),
            &[
                "-D",
                data.to_str().expect("utf-8"),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
                "-E",
                "UTF8",
            ],
        )
        .expect("run initdb");
        assert!(out.status.success(), "initdb: {}", String::from_utf8_lossy(&out.stderr));
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
            let opts = format!(
                "-p {port} -k {} -h 127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
                dir.path().display()
            );
            let log = dir.path().join("log");
            let out = as_postgres(
                &bin.join("pg_ctl"),
                &[
                    "-D",
                    data.to_str().expect("utf-8"),
                    "-l",
                    log.to_str().expect("utf-8"),
                    "-o",
                    &opts,
                    "-w",
                    "start",
                ],
            )
            .expect("run pg_ctl");
            if out.status.success() {
                return Some(Postgres {
                    url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
                    bin,
                    dir,
                });
            }
        }
        panic!("PostgreSQL did not start on any of 5 free ports");
    }

    /// A fresh database in the cluster, as a URL.
    pub fn database(&self, name: &str) -> String {
        let port = self.url.rsplit(':').next().and_then(|s| s.split('/').next()).expect("port").to_string();
        let out = as_postgres(
            &self.bin.join("createdb"),
            &["-h", "127.0.0.1", "-p", &port, "-U", "postgres", name],
        )
        .expect("createdb");
        assert!(out.status.success(), "createdb: {}", String::from_utf8_lossy(&out.stderr));
        format!("postgres://postgres@127.0.0.1:{port}/{name}")
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let data = self.dir.path().join("data");
        let _ = as_postgres(
            &self.bin.join("pg_ctl"),
            &["-D", data.to_str().unwrap_or(""), "-m", "immediate", "stop"],
        );
    }
}
