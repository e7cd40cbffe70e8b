//! Real containerd and podman for tests, each in a private temp state directory with its own socket (never
//! the system paths), killed and removed on drop, also when the test fails. Also used by the CLI crate's
//! end-to-end test (included there by path).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The Debian-built image every engine test imports.
pub fn fixture(name: &str) -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.fixtures").join(name);
    if p.is_file() {
        Some(p)
    } else {
        eprintln!("skipping: fixture {} is absent (built by .ci/fixtures.sh)", p.display());
        None
    }
}

/// Effective uid 0 (from /proc, no libc call).
pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("Uid:")).map(|l| l.split_whitespace().nth(2) == Some("0"))
        })
        .unwrap_or(false)
}

pub fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join(name)).find(|p| p.is_file())
}

/// True when every tool is installed and we are root; else says why and returns false.
pub fn can_run(what: &str, tools: &[&str]) -> bool {
    if !is_root() {
        eprintln!("skipping: {what} needs root");
        return false;
    }
    let missing: Vec<&str> = tools.iter().copied().filter(|t| on_path(t).is_none()).collect();
    if !missing.is_empty() {
        eprintln!("skipping: {what} needs {} (apt-get install containerd podman runc)", missing.join(", "));
        return false;
    }
    true
}

fn wait_for_socket(sock: &Path, child: &mut Child, what: &str, log: &Path) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !sock.exists() {
        if let Ok(Some(st)) = child.try_wait() {
            panic!(
                "{what} exited ({st}) before serving: {}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        assert!(Instant::now() < deadline, "{what} did not create {} within 30 s", sock.display());
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn check(out: std::io::Result<Output>, what: &str) -> Output {
    let out = out.unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}): {}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A containerd daemon with private root, state and socket.
pub struct Containerd {
    child: Child,
    pub sock: PathBuf,
    dir: tempfile::TempDir,
}

impl Containerd {
    /// `None` (with a message) when containerd cannot be run here.
    pub fn start() -> Option<Containerd> {
        if !can_run("containerd test", &["containerd", "ctr"]) {
            return None;
        }
        let dir = tempfile::Builder::new().prefix("pal-ctd-").tempdir().expect("tempdir");
        let d = dir.path();
        let cfg = d.join("config.toml");
        std::fs::write(
            &cfg,
            format!(
                "version = 2\ndisabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n\
                 [plugins.\"io.containerd.internal.v1.opt\"]\n  path = \"{}\"\n",
                d.join("opt").display()
            ),
        )
        .expect("write config");
        let sock = d.join("c.sock");
        let log = d.join("containerd.log");
        let mut child = Command::new("containerd")
            .arg("--config")
            .arg(&cfg)
            .arg("--root")
            .arg(d.join("root"))
            .arg("--state")
            .arg(d.join("state"))
            .arg("--address")
            .arg(&sock)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log"))
            .spawn()
            .expect("start containerd");
        wait_for_socket(&sock, &mut child, "containerd", &log);
        Some(Containerd { child, sock, dir })
    }

    pub fn ctr(&self, ns: &str, args: &[&str]) -> Output {
        check(
            Command::new("ctr")
                .arg("--address")
                .arg(&self.sock)
                .args(["--namespace", ns])
                .args(args)
                .output(),
            &format!("ctr {}", args.join(" ")),
        )
    }

    /// Import an image archive into namespace `ns` without unpacking it.
    pub fn import(&self, ns: &str, archive: &Path, extra: &[&str]) {
        let mut args = vec!["images", "import", "--no-unpack"];
        args.extend_from_slice(extra);
        let a = archive.to_str().expect("utf-8 path");
        args.push(a);
        self.ctr(ns, &args);
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Containerd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// podman with private storage (vfs), run root and tmp dir; optionally its API service.
pub struct Podman {
    service: Option<Child>,
    pub sock: PathBuf,
    dir: tempfile::TempDir,
}

impl Podman {
    pub fn new() -> Option<Podman> {
        if !can_run("podman test", &["podman", "runc"]) {
            return None;
        }
        let dir = tempfile::Builder::new().prefix("pal-pod-").tempdir().expect("tempdir");
        let sock = dir.path().join("p.sock");
        Some(Podman { service: None, sock, dir })
    }

    /// The global flags that keep podman in this directory and working on this kind of machine.
    pub fn flags(&self) -> Vec<String> {
        let d = self.dir.path();
        vec![
            format!("--root={}", d.join("root").display()),
            format!("--runroot={}", d.join("runroot").display()),
            format!("--tmpdir={}", d.join("tmp").display()),
            "--storage-driver=vfs".into(),
            "--runtime=runc".into(),
            "--cgroup-manager=cgroupfs".into(),
            "--events-backend=file".into(),
        ]
    }

    pub fn cmd(&self) -> Command {
        let mut c = Command::new("podman");
        c.args(self.flags()).stdin(Stdio::null());
        c
    }

    pub fn load(&self, archive: &Path) {
        check(self.cmd().arg("load").arg("--quiet").arg("--input").arg(archive).output(), "podman load");
    }

    /// Start `podman system service` on [`Podman::sock`].
    pub fn serve(&mut self) {
        let log = self.dir.path().join("service.log");
        let mut child = self
            .cmd()
            .args(["system", "service", "--time=0"])
            .arg(format!("unix://{}", self.sock.display()))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log"))
            .spawn()
            .expect("start podman system service");
        wait_for_socket(&self.sock, &mut child, "podman system service", &log);
        self.service = Some(child);
    }

    /// A script that runs podman with this storage, for the `podman save` fallback.
    pub fn wrapper(&self) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let p = self.dir.path().join("podman-wrapper");
        let flags: Vec<String> = self.flags().iter().map(|f| format!("'{f}'")).collect();
        std::fs::write(&p, format!("#!/bin/sh\nexec podman {} \"$@\"\n", flags.join(" ")))
            .expect("write wrapper");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        p
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Podman {
    fn drop(&mut self) {
        if let Some(c) = &mut self.service {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A unix socket that accepts connections and answers each with a line of junk (not an engine).
pub struct JunkServer {
    pub sock: PathBuf,
    _dir: tempfile::TempDir,
}

impl JunkServer {
    pub fn start(reply: &'static [u8]) -> JunkServer {
        use std::io::Write;
        let dir = tempfile::tempdir().expect("tempdir");
        let sock = dir.path().join("junk.sock");
        let l = std::os::unix::net::UnixListener::bind(&sock).expect("bind");
        // The thread ends with the process; it only ever serves this socket.
        std::thread::spawn(move || {
            for mut c in l.incoming().flatten() {
                if !reply.is_empty() {
                    let _ = c.write_all(reply);
                    drop(c);
                } else {
                    // Silent: hold the connection open, say nothing.
                    std::thread::spawn(move || {
                        std::thread::sleep(Duration::from_secs(60));
                        drop(c);
                    });
                }
            }
        });
        JunkServer { sock, _dir: dir }
    }
}
