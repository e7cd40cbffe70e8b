//! Enforcement on the real binary, the real kernel and real runc containers (`runtime agent --enforce`):
//! - protect: a denied program is refused before it runs (exit 126, the marker it would write never
//!   appears; also one dropped on `/dev`), allowed programs still run, a write to a protected path is refused while reads go on, a
//!   host process writing the same file through `/proc/PID/root` is left alone, the agent's own binary is
//!   never refused even when a rule names it;
//! - monitor (rules from a file with a bad line, reported with file and line): the same alerts, nothing
//!   refused;
//! - the agent SIGKILLed mid-run: execs and writes it refused go through afterwards (no mark outlives it);
//! - `--exec-enforcer kill`: a denied program that ran is killed, and the next exec of the same file
//!   dies of SIGKILL in the kernel (bpf_send_signal) before writing its marker.
//!
//! Rules are scoped to each test's containers, so agents of other tests (and other agents on the machine)
//! do not interfere. Needs root, a BTF kernel, runc and busybox: skips with a message otherwise.

mod support;

use serde_json::Value;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};
use support::containers::*;

/// The container's script: wait for `/go` (created once the agent watches the container), then try.
const SCRIPT: &str = "while [ ! -e /go ]; do sleep 0.1; done; \
    /usr/bin/touch /tmp/denied-marker; echo touch=$?; \
    cat /etc/passwd >/dev/null; echo cat=$?; \
    echo x >> /etc/protected.conf; echo write=$?; \
    cat /etc/protected.conf >/dev/null; echo read=$?; \
    cp /bin/busybox /dev/touch && /dev/touch /tmp/dev-marker; echo dev=$?; \
    if [ -e /palisade ]; then /palisade --version >/dev/null 2>&1; echo agent=$?; fi";

struct Scenario {
    tmp: tempfile::TempDir,
    id: String,
    rootfs: PathBuf,
    bundle: PathBuf,
}

fn scenario(name: &str, script: &str) -> Scenario {
    let tmp = tempfile::tempdir().unwrap();
    let id = format!("enf{}-{name}", std::process::id());
    let rootfs = tmp.path().join("rootfs");
    make_rootfs(&rootfs);
    // a program of its own inode (busybox dispatches on its name: `touch` touches)
    std::fs::copy(busybox(), rootfs.join("usr/bin/touch")).unwrap();
    std::fs::create_dir_all(rootfs.join("opt/bad")).unwrap();
    std::fs::copy(busybox(), rootfs.join("opt/bad/sleep")).unwrap();
    std::fs::hard_link(rootfs.join("opt/bad/sleep"), rootfs.join("opt/bad/touch")).unwrap();
    std::fs::write(rootfs.join("etc/protected.conf"), "setting=1\n").unwrap();
    let bundle = tmp.path().join("bundle");
    write_bundle(&bundle, &rootfs, script);
    Scenario { tmp, id, rootfs, bundle }
}

struct Agent {
    guard: Guard,
    lines: Receiver<String>,
    log: Vec<String>,
    alerts: PathBuf,
    metrics: String,
}

fn start_agent(s: &Scenario, args: &[&str]) -> Agent {
    let alerts = s.tmp.path().join("alerts.jsonl");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_palisade"));
    cmd.args(["runtime", "agent", "--source", "ebpf", "--containers-only", "--metrics-addr", "127.0.0.1:0"])
        .arg("--output")
        .arg(format!("file:{}", alerts.display()))
        .arg("--enforce")
        .args(args);
    let mut child = cmd.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let lines = stderr_lines(&mut child);
    let mut guard = Guard { child: Some(child), daemons: Vec::new(), cleanup: Vec::new() };
    guard.cleanup.push(vec!["runc".into(), "delete".into(), "--force".into(), s.id.clone()]);
    let mut log = Vec::new();
    let metrics = wait_for(&lines, "metrics on http://", &mut log);
    let chosen = wait_for(&lines, "palisade: enforcement: exec-block", &mut log);
    assert!(chosen.is_some(), "enforcement did not start:\n{}", log.join("\n"));
    let metrics = metrics.unwrap().split("http://").nth(1).unwrap().trim_end_matches("/metrics").to_string();
    Agent { guard, lines, log, alerts, metrics }
}

/// Start the container, wait until the agent watches it, let it go; its output.
fn run_watched(s: &Scenario, agent: &mut Agent, before_go: &dyn Fn(u32)) -> String {
    let child = Command::new("runc")
        .args(["run", &s.id])
        .current_dir(&s.bundle)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let container = ChildGuard(Some(child));
    let watching = wait_for(&agent.lines, &format!("watching container {}", s.id), &mut agent.log);
    assert!(watching.is_some(), "the agent never watched {}:\n{}", s.id, agent.log.join("\n"));
    before_go(init_pid(&s.id));
    std::fs::write(s.rootfs.join("go"), "").unwrap();
    let out = container.wait_output(Duration::from_secs(60));
    assert!(out.is_some(), "container {} did not finish", s.id);
    out.unwrap()
}

/// Kills the `runc run` when dropped early.
struct ChildGuard(Option<Child>);

impl ChildGuard {
    fn wait_output(mut self, limit: Duration) -> Option<String> {
        let mut child = self.0.take()?;
        let end = Instant::now() + limit;
        while child.try_wait().ok()?.is_none() {
            if Instant::now() > end {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let out = child.wait_with_output().ok()?;
        Some(format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Some(c) = self.0.as_mut() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn init_pid(id: &str) -> u32 {
    let out = Command::new("runc").args(["state", id]).output().unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    v["pid"].as_u64().unwrap_or(0) as u32
}

fn stop(agent: &mut Agent) {
    let child = agent.guard.child.as_mut().unwrap();
    sigterm(child);
    let end = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < end, "agent did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(100));
    };
    agent.guard.child = None;
    while let Ok(l) = agent.lines.recv_timeout(Duration::from_millis(200)) {
        agent.log.push(l);
    }
    assert!(status.success(), "agent exit {status}:\n{}", agent.log.join("\n"));
}

/// The agent's `/metrics` once every line of `needles` is in it (counters are updated by the agent's own
/// threads, a moment after the container's output is complete), or after 10 s as it then is.
fn metrics_with(agent: &Agent, needles: &[&str]) -> String {
    poll_metrics(agent, |m| needles.iter().all(|n| m.contains(n)))
}

/// Like [`metrics_with`], once any of `needles` is there.
fn metrics_with_any(agent: &Agent, needles: &[&str]) -> String {
    poll_metrics(agent, |m| needles.iter().any(|n| m.contains(n)))
}

fn poll_metrics(agent: &Agent, done: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let m = http_get(&agent.metrics, "/metrics");
        if done(&m) || Instant::now() > deadline {
            return m;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn alerts(agent: &Agent, id: &str) -> Vec<Value> {
    std::fs::read_to_string(&agent.alerts)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap_or_else(|e| panic!("bad alert line {l}: {e}")))
        .filter(|a| a["output_fields"]["container.id"].as_str().is_some_and(|c| id.starts_with(c)))
        .collect()
}

fn has(alerts: &[Value], rule: &str, path: &str) -> bool {
    alerts.iter().any(|a| a["rule"] == rule && a["output_fields"]["fd.name"] == path)
}

fn value(out: &str, key: &str) -> String {
    out.lines().find_map(|l| l.strip_prefix(&format!("{key}="))).unwrap_or("<missing>").to_string()
}

fn skip() -> bool {
    if let Some(why) = missing() {
        eprintln!("skipped: {why}");
        return true;
    }
    false
}

#[test]
fn protect_refuses_before_it_happens_and_leaves_the_rest_alone() {
    if skip() {
        return;
    }
    let s = scenario("protect", SCRIPT);
    // the agent's own binary inside the container (a hard link: the same file), named by a deny rule
    let own = std::fs::hard_link(env!("CARGO_BIN_EXE_palisade"), s.rootfs.join("palisade")).is_ok();
    let scope = format!("@{}", s.id);
    let mut agent = start_agent(
        &s,
        &[
            "--deny-exec",
            &format!("/usr/bin/touch{scope}"),
            "--deny-exec",
            &format!("/palisade{scope}"),
            "--deny-write",
            &format!("/etc/protected*{scope}"),
            "--deny-exec",
            &format!("/dev/*{scope}"),
        ],
    );
    let out = run_watched(&s, &mut agent, &|pid| {
        // a host process writing the container's file through its root: never acted on
        let host = Command::new("sh")
            .arg("-c")
            .arg(format!("echo host >> /proc/{pid}/root/etc/protected.conf"))
            .status()
            .unwrap();
        assert!(host.success(), "a host process was refused");
    });
    assert_eq!(value(&out, "touch"), "126", "the denied exec was not refused: {out}");
    assert!(out.contains("Operation not permitted"), "{out}");
    assert!(!s.rootfs.join("tmp/denied-marker").exists(), "the denied program ran");
    assert_eq!(value(&out, "cat"), "0", "an allowed program was refused: {out}");
    assert_eq!(value(&out, "write"), "1", "the protected write was not refused: {out}");
    assert_eq!(value(&out, "read"), "0", "a read of the write-protected file was refused: {out}");
    let conf = std::fs::read_to_string(s.rootfs.join("etc/protected.conf")).unwrap();
    assert_eq!(conf, "setting=1\nhost\n", "only the host's write went through");
    if own {
        assert_ne!(value(&out, "agent"), "126", "the agent's own binary was refused: {out}");
    }
    let expected = [
        "palisade_runtime_enforce_verdicts_total{mechanism=\"exec\",verdict=\"deny\"}",
        "palisade_runtime_enforce_verdicts_total{mechanism=\"open\",verdict=\"deny\"}",
        "palisade_runtime_enforce_mechanism{need=\"exec-block\",mechanism=\"fanotify\"} 1",
        "palisade_runtime_enforce_available{facility=\"fanotify\"} 1",
        "palisade_runtime_alerts_total{rule=\"Palisade exec denied\",priority=\"Warning\"}",
    ];
    let metrics = metrics_with(&agent, &expected);
    stop(&mut agent);
    for m in expected {
        assert!(metrics.contains(m), "{m} missing from:\n{metrics}");
    }
    if own {
        assert!(metrics.contains("reason=\"agent-binary\""), "{metrics}");
    }
    let ours = alerts(&agent, &s.id);
    assert!(has(&ours, "Palisade exec denied", "/usr/bin/touch"), "{ours:?}");
    assert!(has(&ours, "Palisade open denied", "/etc/protected.conf"), "{ours:?}");
    // /dev is marked for execs (a program dropped on a tmpfs there is refused like any other)
    assert_eq!(value(&out, "dev"), "126", "{out}");
    assert!(!s.rootfs.join("tmp/dev-marker").exists());
    assert!(has(&ours, "Palisade exec denied", "/dev/touch"), "{ours:?}");
    assert!(!has(&ours, "Palisade exec denied", "/palisade"), "{ours:?}");
}

#[test]
fn monitor_alerts_and_refuses_nothing() {
    if skip() {
        return;
    }
    let s = scenario("monitor", SCRIPT);
    // the rules from a file, one line of it bad: reported with file and line, the others loaded
    let rules = s.tmp.path().join("deny.rules");
    std::fs::write(
        &rules,
        format!("# monitor test\ndeny-exec /usr/bin/touch@{0}\nallow-everything /\ndeny-write /etc/protected*@{0}\n", s.id),
    )
    .unwrap();
    let mut agent =
        start_agent(&s, &["--enforce-mode", "monitor", "--enforce-rules", rules.to_str().unwrap()]);
    let bad = format!("{}:3: unknown action", rules.display());
    assert!(agent.log.iter().any(|l| l.contains(&bad)), "{bad} not reported:\n{}", agent.log.join("\n"));
    let out = run_watched(&s, &mut agent, &|_| {});
    stop(&mut agent);
    assert_eq!(value(&out, "touch"), "0", "{out}");
    assert!(s.rootfs.join("tmp/denied-marker").exists());
    assert_eq!(value(&out, "write"), "0", "{out}");
    let ours = alerts(&agent, &s.id);
    let monitored = "Palisade enforcement would deny (monitor)";
    assert!(has(&ours, monitored, "/usr/bin/touch"), "{ours:?}");
    assert!(has(&ours, monitored, "/etc/protected.conf"), "{ours:?}");
    assert!(!ours.iter().any(|a| a["rule"] == "Palisade exec denied" || a["rule"] == "Palisade open denied"));
}

#[test]
fn killed_agent_leaves_no_container_blocked() {
    if skip() {
        return;
    }
    let s = scenario("crash", SCRIPT);
    let scope = format!("@{}", s.id);
    let mut agent = start_agent(
        &s,
        &[
            "--deny-exec",
            &format!("/usr/bin/touch{scope}"),
            "--deny-write",
            &format!("/etc/protected*{scope}"),
        ],
    );
    let guard_child = &mut agent.guard.child;
    let out = {
        let child = Command::new("runc")
            .args(["run", &s.id])
            .current_dir(&s.bundle)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let container = ChildGuard(Some(child));
        let watching = wait_for(&agent.lines, &format!("watching container {}", s.id), &mut agent.log);
        assert!(watching.is_some(), "{}", agent.log.join("\n"));
        // the crash: SIGKILL, no chance to clean up
        let mut a = guard_child.take().unwrap();
        a.kill().unwrap();
        let status = a.wait().unwrap();
        assert_eq!(std::os::unix::process::ExitStatusExt::signal(&status), Some(9));
        std::fs::write(s.rootfs.join("go"), "").unwrap();
        container.wait_output(Duration::from_secs(60)).expect("container blocked after the agent died")
    };
    assert_eq!(value(&out, "touch"), "0", "an exec was refused after the agent died: {out}");
    assert!(s.rootfs.join("tmp/denied-marker").exists());
    assert_eq!(value(&out, "write"), "0", "a write was refused after the agent died: {out}");
}

#[test]
fn kill_mode_kills_at_exec_in_the_kernel() {
    if skip() {
        return;
    }
    // /opt/bad/sleep and /opt/bad/touch are one file (hard links)
    let script = "while [ ! -e /go ]; do sleep 0.1; done; \
        /opt/bad/sleep 30; echo first=$?; \
        /opt/bad/touch /tmp/second-marker; echo second=$?; \
        /usr/bin/touch /tmp/other-marker; echo other=$?";
    let s = scenario("kill", script);
    let mut agent =
        start_agent(&s, &["--exec-enforcer", "kill", "--deny-exec", &format!("/opt/bad/*@{}", s.id)]);
    let t = Instant::now();
    let out = run_watched(&s, &mut agent, &|_| {});
    let metrics = metrics_with_any(
        &agent,
        &[
            "palisade_runtime_enforce_kills_total{how=\"bpf_send_signal\"} 1",
            "palisade_runtime_enforce_available{facility=\"bpf_send_signal\"} 0",
        ],
    );
    stop(&mut agent);
    if metrics.contains("palisade_runtime_enforce_available{facility=\"bpf_send_signal\"} 0") {
        eprintln!("in-kernel part skipped: bpf_send_signal unavailable");
        return;
    }
    assert_eq!(value(&out, "first"), "137", "the running denied program was not killed: {out}");
    assert!(t.elapsed() < Duration::from_secs(30), "killed only when it ended");
    assert_eq!(value(&out, "second"), "137", "the listed executable was not killed at exec: {out}");
    assert!(!s.rootfs.join("tmp/second-marker").exists(), "the listed program ran before the kill");
    assert_eq!(value(&out, "other"), "0", "another program was killed: {out}");
    assert!(metrics.contains("palisade_runtime_enforce_kills_total{how=\"bpf_send_signal\"} 1"), "{metrics}");
    assert!(has(&alerts(&agent, &s.id), "Palisade process killed", "/opt/bad/sleep"));
}
