//! The sensor's kernel-side filter on the real binary, kernel and runc containers: with rules loaded and no
//! recording, the agent tells the kernel which records it needs (event kinds, read-only opens by path
//! prefix). A rule reading a path outside every default prefix must still fire (its prefix reaches the
//! kernel map), the stable rules must still fire, what no rule reads must be filtered in the kernel (the
//! `palisade_runtime_kernel_filtered_total` counter), and a container whose behaviour is learned (profiles
//! in discover mode) must still have every open recorded. Opens that may write are filtered by the paths
//! the write rules need: a write below `/etc` in a container still alerts, host writes below `/tmp` are
//! dropped in the kernel; relative writes from a directory no rule reads are dropped once the agent has
//! judged the directory, and judged again after the directory is renamed. Needs root, a BTF kernel, runc
//! and busybox:
//! skips with a message otherwise.

mod support;

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;
use support::containers::*;

/// A rule on a path no default prefix covers.
const PROBE_RULE: &str = r#"
- rule: Read palisade probe file
  desc: a read-only open below /srv/palisade-probe/ in a container
  condition: evt.type in (open, openat) and evt.is_open_read = true and fd.name startswith /srv/palisade-probe/ and container.id != host
  output: probe file read (file=%fd.name container=%container.id)
  priority: WARNING
  tags: [palisade_test]
"#;

/// A write rule as Falco's "Write below etc" is written (its sandbox original has macros of its own).
const WRITE_RULE: &str = r#"
- rule: Write below etc in container
  desc: an open for writing below /etc in a container
  condition: evt.type in (open, openat, openat2) and evt.is_open_write = true and fd.name startswith /etc/ and container.id != host
  output: file below /etc opened for writing (file=%fd.name container=%container.id)
  priority: ERROR
  tags: [palisade_test]
- rule: Write of a kept file in container
  desc: an open for writing of a file named palisade-kept in a container (its name reaches the kernel table)
  condition: evt.type in (open, openat, openat2) and evt.is_open_write = true and fd.filename = palisade-kept and container.id != host
  output: kept file opened for writing (file=%fd.name container=%container.id)
  priority: ERROR
  tags: [palisade_test]
"#;

const FALCO_RULES: &str = "/work/shared/data/runtime/falco-rules.tar.gz";

struct Agent {
    guard: Guard,
    lines: std::sync::mpsc::Receiver<String>,
    log: Vec<String>,
    addr: String,
}

fn start_agent(args: &[String]) -> Agent {
    let mut agent = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(["runtime", "agent", "--source", "ebpf", "--metrics-addr", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = stderr_lines(&mut agent);
    let guard = Guard { child: Some(agent), daemons: Vec::new(), cleanup: Vec::new() };
    let mut log = Vec::new();
    let metrics = wait_for(&lines, "metrics on http://", &mut log);
    let started = wait_for(&lines, "runtime sensor started", &mut log);
    assert!(started.is_some_and(|l| l.contains("source ebpf")), "agent did not start:\n{}", log.join("\n"));
    let addr = metrics.unwrap().split("http://").nth(1).unwrap().trim_end_matches("/metrics").to_string();
    wait_for(&lines, "kernel sends:", &mut log);
    Agent { guard, lines, log, addr }
}

impl Agent {
    fn stop(&mut self) {
        let status = stop_agent(&mut self.guard, Duration::from_secs(60));
        drain(&self.lines, &mut self.log, Duration::from_millis(300));
        assert!(status.success(), "agent exit {status}:\n{}", self.log.join("\n"));
    }

    fn line(&self, needle: &str) -> String {
        self.log.iter().find(|l| l.contains(needle)).cloned().unwrap_or_default()
    }
}

fn run_container(id: &str, bundle: &Path, guard: &mut Guard) {
    guard.cleanup.push(vec!["runc".into(), "delete".into(), "--force".into(), id.into()]);
    let out = Command::new("runc").args(["run", id]).current_dir(bundle).output().unwrap();
    assert!(out.status.success(), "runc run {id}: {}", String::from_utf8_lossy(&out.stderr));
}

fn metric(text: &str, name: &str) -> u64 {
    text.lines()
        .find(|l| l.starts_with(name))
        .and_then(|l| l.split_whitespace().last())
        .and_then(|v| v.parse::<f64>().ok())
        .map_or(0, |v| v as u64)
}

#[test]
fn rules_widen_the_kernel_filter_and_the_rest_is_filtered() {
    if let Some(why) = missing() {
        eprintln!("skipped: {why}");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let tag = format!("palflt{}", std::process::id());
    let root = tmp.path().join("root");
    make_rootfs(&root);
    std::fs::create_dir_all(root.join("srv/palisade-probe")).unwrap();
    std::fs::write(root.join("srv/palisade-probe/data"), "probe").unwrap();
    std::fs::write(root.join("tmp/other"), "other").unwrap();
    let bundle = tmp.path().join("bundle");
    write_bundle(
        &bundle,
        &root,
        "cat /srv/palisade-probe/data >/dev/null; cat /etc/shadow >/dev/null; cat /tmp/other >/dev/null; true",
    );
    let rules = tmp.path().join("probe.yaml");
    std::fs::write(&rules, PROBE_RULE).unwrap();
    let alerts = tmp.path().join("alerts.jsonl");
    let mut args = stable_rules(tmp.path());
    let have_stable = !args.is_empty();
    args.extend([
        "--rules".to_string(),
        rules.display().to_string(),
        "--palisade-rules".into(),
        "--output".into(),
        format!("file:{}", alerts.display()),
    ]);
    let mut agent = start_agent(&args);
    let sends = agent.line("kernel sends:");
    assert!(
        sends.contains("/srv/palisade-probe/"),
        "the probe rule's prefix is not in the kernel map: {sends}"
    );
    assert!(!sends.contains("every read-only open"), "the filter is off: {sends}");

    // host opens no rule reads: filtered in the kernel
    let host_file = tmp.path().join("host-file");
    std::fs::write(&host_file, "x").unwrap();
    for _ in 0..200 {
        std::fs::read(&host_file).unwrap();
    }
    let id = format!("{tag}-c");
    run_container(&id, &bundle, &mut agent.guard);
    std::thread::sleep(Duration::from_millis(1500));
    let metrics = http_get(&agent.addr, "/metrics");
    agent.stop();
    let filtered = metric(&metrics, "palisade_runtime_kernel_filtered_total");
    assert!(
        filtered >= 200,
        "{filtered} records filtered in the kernel, expected the 200 host reads at least"
    );

    let alerts = json_lines(&alerts);
    let short: String = id.chars().take(12).collect();
    let fired = |rule: &str| {
        alerts.iter().any(|a| a["rule"] == rule && a["output_fields"]["container.id"] == short.as_str())
    };
    let names: Vec<&str> = alerts.iter().filter_map(|a| a["rule"].as_str()).collect();
    assert!(
        fired("Read palisade probe file"),
        "probe rule did not fire; alerts {names:?}\n{}",
        agent.log.join("\n")
    );
    if have_stable {
        assert!(fired("Read sensitive file untrusted"), "stable rule did not fire; alerts {names:?}");
    }
    eprintln!("{filtered} records filtered in the kernel; alerts {names:?}");
}

/// The stable rules unpacked in `dir`, as `--rules` arguments (none when the corpus is absent).
fn stable_rules(dir: &Path) -> Vec<String> {
    let stable = dir.join("falco_rules.yaml");
    let have = Path::new(FALCO_RULES).is_file() && {
        let out = Command::new("tar")
            .args(["-xzf", FALCO_RULES, "-O", "falco-rules/rules/falco_rules.yaml"])
            .output()
            .unwrap();
        out.status.success() && std::fs::write(&stable, &out.stdout).is_ok()
    };
    if !have {
        eprintln!("stable-rule part skipped: no Falco rules corpus at {FALCO_RULES}");
        return Vec::new();
    }
    vec!["--rules".to_string(), stable.display().to_string()]
}

#[test]
fn writes_are_filtered_by_the_paths_write_rules_need() {
    if let Some(why) = missing() {
        eprintln!("skipped: {why}");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let tag = format!("palwr{}", std::process::id());
    let root = tmp.path().join("root");
    make_rootfs(&root);
    let bundle = tmp.path().join("bundle");
    write_bundle(
        &bundle,
        &root,
        "echo x > /etc/palisade-write-test; echo y > /tmp/palisade-write-test; true",
    );
    let rules = tmp.path().join("write.yaml");
    std::fs::write(&rules, WRITE_RULE).unwrap();
    let alerts = tmp.path().join("alerts.jsonl");
    let mut args = stable_rules(tmp.path());
    args.extend([
        "--rules".to_string(),
        rules.display().to_string(),
        "--palisade-rules".into(),
        "--output".into(),
        format!("file:{}", alerts.display()),
    ]);
    let mut agent = start_agent(&args);
    let sends = agent.line("kernel sends:");
    assert!(
        sends.contains("writing opens of") && sends.contains(" /etc/…"),
        "no /etc/ write prefix: {sends}"
    );
    assert!(!sends.contains("every writing open"), "the write filter is off: {sends}");

    assert!(sends.contains("…/palisade-kept"), "no file-name suffix for the kept file: {sends}");

    // host writes below /tmp: those no rule reads are dropped in the kernel, those of a file name a rule
    // reads are delivered. The counters are the node's (other work moves them too), so the filtered burst
    // is run before and after the delivered one and the quieter of the two is compared.
    let counters = |agent: &Agent| {
        std::thread::sleep(Duration::from_millis(1200));
        let m = http_get(&agent.addr, "/metrics");
        (
            metric(&m, "palisade_runtime_kernel_filtered_total"),
            m.lines()
                .filter(|l| l.starts_with("palisade_runtime_events_total{") && l.contains("\"openat\""))
                .filter_map(|l| l.split_whitespace().last()?.parse::<f64>().ok())
                .sum::<f64>() as u64,
        )
    };
    const WRITES: u64 = 3000;
    // not below the `.tmpXXXX` test directory: a path with `/.` in it is always sent
    let scratch = tempfile::Builder::new().prefix("palisade-writes-").tempdir().unwrap();
    let scratch = scratch.path();
    let burst = |agent: &Agent, name: &str| {
        let (f0, o0) = counters(agent);
        for _ in 0..WRITES {
            std::fs::write(scratch.join(name), "x").unwrap();
        }
        let (f1, o1) = counters(agent);
        (f1 - f0, o1 - o0)
    };
    let (filtered1, dropped1) = burst(&agent, "w");
    let (_, kept) = burst(&agent, "palisade-kept");
    let (filtered2, dropped2) = burst(&agent, "w");
    let id = format!("{tag}-c");
    run_container(&id, &bundle, &mut agent.guard);
    std::thread::sleep(Duration::from_millis(1500));
    agent.stop();
    assert!(
        filtered1.max(filtered2) >= WRITES,
        "{filtered1} and {filtered2} records filtered in the kernel during {WRITES} writes below {}",
        scratch.display()
    );
    assert!(kept >= WRITES, "{kept} opens delivered during {WRITES} writes of the kept file");
    assert!(
        kept - dropped1.min(dropped2) >= WRITES / 2,
        "{dropped1} and {dropped2} opens delivered during {WRITES} writes no rule reads, {kept} during as many \
         of the kept file: they were not filtered"
    );

    let alerts = json_lines(&alerts);
    let short: String = id.chars().take(12).collect();
    let of_ours = |a: &&Value| a["output_fields"]["container.id"] == short.as_str();
    let files: Vec<&str> = alerts
        .iter()
        .filter(of_ours)
        .filter(|a| a["rule"] == "Write below etc in container")
        .filter_map(|a| a["output_fields"]["fd.name"].as_str())
        .collect();
    assert_eq!(files, ["/etc/palisade-write-test"], "alerts: {alerts:?}\n{}", agent.log.join("\n"));
    eprintln!(
        "{WRITES} host writes: {filtered1}/{filtered2} filtered and {dropped1}/{dropped2} delivered (node-wide); \
         {kept} delivered for the kept file"
    );
}

/// Opens that may write below DIR (written with the test's directory in place of DIR), host included.
const MOVED_RULE: &str = r#"
- rule: Write below the watched directory
  desc: an open for writing below a directory the test watches
  condition: evt.type in (open, openat, openat2) and evt.is_open_write = true and fd.name startswith DIR/
  output: watched file opened for writing (file=%fd.name)
  priority: ERROR
  tags: [palisade_test]
- rule: Write of the relative kept file
  desc: an open for writing of a file named palisade-rel-kept, host included (its name reaches the kernel table)
  condition: evt.type in (open, openat, openat2) and evt.is_open_write = true and fd.filename = palisade-rel-kept
  output: relative kept file opened for writing (file=%fd.name)
  priority: ERROR
  tags: [palisade_test]
"#;

#[test]
fn relative_opens_are_judged_by_their_directory() {
    if let Some(why) = missing() {
        eprintln!("skipped: {why}");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    // not below the `.tmpXXXX` test directory: kept plain, as the rule's prefix
    let scratch = tempfile::Builder::new().prefix("palisade-rel-").tempdir().unwrap();
    let scratch = scratch.path();
    let watched = scratch.join("watched");
    std::fs::create_dir_all(&watched).unwrap();
    std::fs::create_dir_all(scratch.join("quiet")).unwrap();
    let rules = tmp.path().join("rules.yaml");
    std::fs::write(
        &rules,
        format!("{WRITE_RULE}{}", MOVED_RULE.replace("DIR", &watched.display().to_string())),
    )
    .unwrap();
    let alerts = tmp.path().join("alerts.jsonl");
    let mut agent = start_agent(&[
        "--rules".to_string(),
        rules.display().to_string(),
        "--output".into(),
        format!("file:{}", alerts.display()),
    ]);
    let counters = |agent: &Agent| {
        std::thread::sleep(Duration::from_millis(1200));
        let m = http_get(&agent.addr, "/metrics");
        (metric(&m, "palisade_runtime_kernel_filtered_total"), metric(&m, "palisade_runtime_quiet_dirs"))
    };
    // a shell writing files by relative name in a directory no rule reads: after the first open (sent,
    // the directory judged quiet), dropped in the kernel; writes of the kept file name are still sent
    const WRITES: u64 = 2000;
    let shell = |script: &str| {
        let out =
            Command::new("sh").arg("-c").arg(script).current_dir(scratch.join("quiet")).output().unwrap();
        assert!(out.status.success(), "{script}: {}", String::from_utf8_lossy(&out.stderr));
    };
    let loop_writes =
        |name: &str| format!("i=0; while [ $i -lt {WRITES} ]; do echo x > {name}; i=$((i+1)); done");
    let (f0, _) = counters(&agent);
    shell(&loop_writes("w"));
    let (f1, quiet) = counters(&agent);
    shell(&loop_writes("palisade-rel-kept"));

    // a directory judged quiet and then moved below the watched one (a rename): its next relative write
    // is judged again and reaches the rule
    let go = tmp.path().join("go");
    let mut writer = Command::new("sh")
        .arg("-c")
        .arg(format!(
            // alive a moment after the last write: a relative path is resolved through /proc/PID/cwd
            "cd {dir}; echo x > before; echo x > before; while [ ! -e {go} ]; do sleep 0.05; done; echo x > after; \
             sleep 1",
            dir = scratch.join("quiet").display(),
            go = go.display()
        ))
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    std::fs::rename(scratch.join("quiet"), watched.join("moved")).unwrap();
    std::fs::write(&go, "").unwrap();
    assert!(writer.wait().unwrap().success());
    std::thread::sleep(Duration::from_millis(1500));
    agent.stop();

    assert!(quiet >= 1, "no directory judged quiet:\n{}", agent.log.join("\n"));
    // the counter is the node's (other tests add to it, never take from it)
    assert!(
        f1 - f0 >= WRITES - 10,
        "{} records filtered during {WRITES} relative writes no rule reads",
        f1 - f0
    );
    let alerts = json_lines(&alerts);
    let files = |rule: &str| -> Vec<&str> {
        alerts
            .iter()
            .filter(|a| a["rule"] == rule)
            .filter_map(|a| a["output_fields"]["fd.name"].as_str())
            .collect()
    };
    // every relative write of the kept name reached its rule, resolved against the directory
    let kept_path = scratch.join("quiet/palisade-rel-kept");
    let kept = files("Write of the relative kept file");
    assert_eq!(
        kept.iter().filter(|f| **f == kept_path.to_str().unwrap()).count() as u64,
        WRITES,
        "relative writes of the kept file delivered: its suffix was not applied"
    );
    let after = watched.join("moved/after");
    assert_eq!(
        files("Write below the watched directory"),
        [after.to_str().unwrap()],
        "the write after the directory moved did not alert:\n{}",
        agent.log.join("\n")
    );
    eprintln!("{} records filtered during {WRITES} relative writes; {quiet} quiet directories", f1 - f0);
}

#[test]
fn a_learning_container_still_gets_every_open() {
    if let Some(why) = missing() {
        eprintln!("skipped: {why}");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let tag = format!("pallrn{}", std::process::id());
    let repo = format!("palisade.test/{tag}");
    let root = tmp.path().join("root");
    make_rootfs(&root);
    std::fs::create_dir_all(root.join("srv/learn")).unwrap();
    std::fs::write(root.join("srv/learn/unusual.conf"), "x").unwrap();
    let bundle = tmp.path().join("bundle");
    write_bundle(&bundle, &root, "cat /srv/learn/unusual.conf >/dev/null; true");
    let path = bundle.join("config.json");
    let mut spec: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    spec["annotations"] = serde_json::json!({ "io.containerd.image.name": format!("{repo}:1") });
    std::fs::write(&path, serde_json::to_vec_pretty(&spec).unwrap()).unwrap();

    let profiles = tmp.path().join("profiles");
    // Palisade's rules alone: a narrow read-only open filter for everything but the containers
    let mut agent = start_agent(&[
        "--containers-only".into(),
        "--palisade-rules".into(),
        "--output".into(),
        format!("file:{}", tmp.path().join("alerts.jsonl").display()),
        "--profiles".into(),
        profiles.display().to_string(),
        "--mode".into(),
        "discover".into(),
    ]);
    let sends = agent.line("kernel sends:");
    assert!(sends.contains("every event of containers"), "{sends}");
    assert!(!sends.contains("every read-only open"), "the filter is off: {sends}");
    run_container(&format!("{tag}-c"), &bundle, &mut agent.guard);
    std::thread::sleep(Duration::from_millis(1500));
    agent.stop();
    let file = profiles.join(format!("image-{}.yaml", repo.replace('/', "-")));
    let yaml = std::fs::read_to_string(&file)
        .unwrap_or_else(|e| panic!("no profile {} ({e}); agent:\n{}", file.display(), agent.log.join("\n")));
    assert!(yaml.contains("\"/srv/learn/unusual.conf\""), "the learned profile misses the open:\n{yaml}");
}
