//! Real containers for the runtime tests: a busybox root filesystem, a runc bundle, a guard that kills
//! and cleans up what a test started (also when it fails), and line-by-line reading of an agent's stderr.

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub fn which(name: &str) -> bool {
    std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .chain(["/usr/sbin", "/sbin"].map(PathBuf::from))
        .any(|d| d.join(name).is_file())
}

/// Why this machine cannot run a test with BTF, runc and busybox, if it cannot.
pub fn missing() -> Option<String> {
    if !nix_is_root() {
        return Some("not root".into());
    }
    if !Path::new("/sys/kernel/btf/vmlinux").exists() {
        return Some("no kernel BTF".into());
    }
    for tool in ["runc", "busybox"] {
        if !which(tool) {
            return Some(format!("{tool} not installed"));
        }
    }
    None
}

pub fn nix_is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("Uid:")).map(|l| l.split_whitespace().nth(2) == Some("0"))
        })
        .unwrap_or(false)
}

pub fn busybox() -> PathBuf {
    ["/bin/busybox", "/usr/bin/busybox"].map(PathBuf::from).into_iter().find(|p| p.is_file()).unwrap()
}

/// A busybox root filesystem with the files the scenarios touch.
pub fn make_rootfs(dir: &Path) {
    for d in
        ["bin", "proc", "sys", "dev", "etc", "tmp", "usr/bin", "var/run/secrets/kubernetes.io/serviceaccount"]
    {
        std::fs::create_dir_all(dir.join(d)).unwrap();
    }
    std::fs::copy(busybox(), dir.join("bin/busybox")).unwrap();
    for applet in ["sh", "cat", "cp", "nc", "sleep", "echo", "true", "ls"] {
        std::os::unix::fs::symlink("busybox", dir.join("bin").join(applet)).unwrap();
    }
    std::fs::write(dir.join("etc/shadow"), "root:*:19000:0:99999:7:::\n").unwrap();
    std::fs::write(dir.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n").unwrap();
    std::fs::write(dir.join("var/run/secrets/kubernetes.io/serviceaccount/token"), "eyJ.test.token").unwrap();
}

/// A busybox root filesystem with `dirs` created and each of `applets` a hard link to busybox under `bin/`,
/// so each program's executable path is its own (`/bin/nc`, not `/bin/busybox`), and a root `/etc/passwd`.
pub fn applet_rootfs(dir: &Path, dirs: &[&str], applets: &[&str]) {
    for d in dirs.iter().chain(&["bin", "etc"]) {
        std::fs::create_dir_all(dir.join(d)).unwrap();
    }
    let bb = dir.join("bin/busybox");
    std::fs::copy(busybox(), &bb).unwrap();
    for a in applets {
        std::fs::hard_link(&bb, dir.join("bin").join(a)).unwrap();
    }
    std::fs::write(dir.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n").unwrap();
}

/// `config.json` of a bundle running `script` with `sh -c` on `root`.
pub fn write_bundle(bundle: &Path, root: &Path, script: &str) {
    std::fs::create_dir_all(bundle).unwrap();
    let out = Command::new("runc").arg("spec").current_dir(bundle).output().unwrap();
    assert!(out.status.success(), "runc spec: {}", String::from_utf8_lossy(&out.stderr));
    let path = bundle.join("config.json");
    let mut spec: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    spec["process"]["terminal"] = false.into();
    spec["process"]["args"] = serde_json::json!(["sh", "-c", script]);
    spec["root"] = serde_json::json!({ "path": root, "readonly": false });
    std::fs::write(&path, serde_json::to_vec_pretty(&spec).unwrap()).unwrap();
}

/// Kills what it holds when dropped (test failure included).
pub struct Guard {
    pub child: Option<Child>,
    pub daemons: Vec<Child>,
    pub cleanup: Vec<Vec<String>>,
}

impl Drop for Guard {
    fn drop(&mut self) {
        for c in self.child.iter_mut().chain(self.daemons.iter_mut()) {
            let _ = c.kill();
            let _ = c.wait();
        }
        for cmd in &self.cleanup {
            let _ = Command::new(&cmd[0]).args(&cmd[1..]).output();
        }
    }
}

pub fn sigterm(child: &Child) {
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
}

pub fn http_get(addr: &str, path: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

/// The agent's stderr, line by line, from a thread.
pub fn stderr_lines(child: &mut Child) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    rx
}

pub fn wait_for(rx: &mpsc::Receiver<String>, needle: &str, log: &mut Vec<String>) -> Option<String> {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
            log.push(line.clone());
            if line.contains(needle) {
                return Some(line);
            }
        }
    }
    None
}

/// Start an enforcing agent on container events with the profiles in `profiles`, alerts written to
/// `alerts`, held by `guard`; returns its stderr lines once exec enforcement has started (the test fails if
/// it does not), with what it printed so far in `log`.
pub fn start_enforcing_agent(
    profiles: &Path,
    alerts: &Path,
    guard: &mut Guard,
    log: &mut Vec<String>,
) -> mpsc::Receiver<String> {
    let mut agent = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(["runtime", "agent", "--source", "ebpf", "--containers-only", "--enforce", "--profiles"])
        .arg(profiles)
        .arg("--output")
        .arg(format!("file:{}", alerts.display()))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let lines = stderr_lines(&mut agent);
    guard.child = Some(agent);
    assert!(
        wait_for(&lines, "palisade: enforcement: exec-block", log).is_some(),
        "enforcement did not start:\n{}",
        log.join("\n")
    );
    lines
}

/// SIGTERM the guard's agent and wait up to `timeout` for it to exit (the test fails past it); the guard
/// no longer holds it afterwards. Returns its exit status.
pub fn stop_agent(guard: &mut Guard, timeout: Duration) -> std::process::ExitStatus {
    let agent = guard.child.as_mut().expect("an agent to stop");
    sigterm(agent);
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(s) = agent.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "agent did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(100));
    };
    guard.child = None;
    status
}

/// Add the lines still coming from `lines` to `log`, until none came for `quiet`.
pub fn drain(lines: &mpsc::Receiver<String>, log: &mut Vec<String>, quiet: Duration) {
    while let Ok(l) = lines.recv_timeout(quiet) {
        log.push(l);
    }
}

/// A JSON-lines file (the agent's `--output file:PATH` alerts, `--record` events), one value a line; an
/// absent file is empty.
pub fn json_lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("bad line in {}: {l}: {e}", path.display()))
        })
        .collect()
}
