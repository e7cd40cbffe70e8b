//! The runtime agent (real binary, eBPF sensor, Falco's stable rules) on what needs names and terminals:
//! a runc container resolves `kubernetes.default.svc.cluster.local` through a DNS server this test runs
//! (static busybox, so no libc hook could see it: the sensor reads the DNS answer) and connects to the
//! address it got, where a listener stands in for the API server: the `dns` event carries the name and its
//! address, the `connect` event the name, and Falco's "Contact K8S API Server From Container" fires for
//! that container. A shell started with a terminal (`runc run` of a `terminal: true` bundle under
//! `script`, which gives it a pty) raises "Terminal shell in container"; the same shell without a terminal
//! does not. With the stable rules and no recording, the DNS answer programs are on the container's cgroup
//! only (the rule that reads names is limited to containers): `bpftool cgroup` shows them there and not on
//! the cgroup root or the test's own cgroup, so host loopback traffic does not go through them, and the
//! rule still fires. Needs root, BTF, runc, busybox, `script` and the Falco rules corpus (and bpftool for
//! the cgroup part): skips otherwise.

mod support;

use serde_json::Value;
use std::net::{TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::containers::*;

const FALCO_RULES: &str = "/work/shared/data/runtime/falco-rules.tar.gz";
const API_NAME: &str = "kubernetes.default.svc.cluster.local";

fn stable_rules(dir: &Path) -> Option<PathBuf> {
    let corpus = std::env::var("PALISADE_FALCO_RULES").unwrap_or_else(|_| FALCO_RULES.to_string());
    if !Path::new(&corpus).is_file() {
        return None;
    }
    let ok = Command::new("tar").arg("-xzf").arg(&corpus).arg("-C").arg(dir).status().ok()?.success();
    let rules = dir.join("falco-rules/rules/falco_rules.yaml");
    (ok && rules.is_file()).then_some(rules)
}

/// A DNS server on `addr:53` answering every A query with 127.0.0.1 and every other query with no
/// address (so glibc's parallel AAAA query gets an answer too), until the socket is dropped.
fn dns_server(addr: &str) -> UdpSocket {
    let sock = UdpSocket::bind((addr, 53)).expect("bind the test DNS server");
    sock.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
    let server = sock.try_clone().unwrap();
    std::thread::spawn(move || {
        let mut buf = [0u8; 512];
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(120) {
            let Ok((n, peer)) = server.recv_from(&mut buf) else { continue };
            if n < 12 {
                continue;
            }
            // the question ends after its name (labels up to a zero byte), type and class
            let mut end = 12;
            while end < n && buf[end] != 0 {
                end += usize::from(buf[end]) + 1;
            }
            let end = end + 5;
            if end > n {
                continue;
            }
            let qtype = u16::from_be_bytes([buf[end - 4], buf[end - 3]]);
            let mut reply = buf[..end].to_vec();
            reply[2] = 0x81; // response, recursion desired
            reply[3] = 0x80; // recursion available, no error
            reply[6..12].copy_from_slice(&[0, u8::from(qtype == 1), 0, 0, 0, 0]);
            if qtype == 1 {
                // name pointer to the question, A, IN, TTL 60, 4 bytes
                reply.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, 1]);
            }
            let _ = server.send_to(&reply, peer);
        }
    });
    sock
}

/// The agent with Falco's stable rules, recording events and writing alerts; returns once it runs.
fn start_agent(tmp: &Path, rules: &Path, guard: &mut Guard) -> (PathBuf, PathBuf, Vec<String>) {
    let events = tmp.join("events.jsonl");
    let record = ["--containers-only".to_string(), "--record".into(), events.display().to_string()];
    let (alerts, log) = start_rules_agent(tmp, rules, guard, &record);
    (events, alerts, log)
}

/// The agent with Falco's stable rules and `extra` arguments, writing alerts; returns once it runs.
fn start_rules_agent(
    tmp: &Path,
    rules: &Path,
    guard: &mut Guard,
    extra: &[String],
) -> (PathBuf, Vec<String>) {
    let alerts = tmp.join("alerts.jsonl");
    let mut agent = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(["runtime", "agent", "--source", "ebpf"])
        .args(extra)
        .arg("--rules")
        .arg(rules)
        .arg("--output")
        .arg(format!("file:{}", alerts.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = stderr_lines(&mut agent);
    guard.child = Some(agent);
    let mut log = Vec::new();
    assert!(wait_for(&lines, "runtime sensor started", &mut log).is_some(), "{}", log.join("\n"));
    wait_for(&lines, "kernel sends:", &mut log);
    (alerts, log)
}

/// The program id of a `bpftool cgroup` line when it is one of this agent's (`ours`) DNS programs.
fn our_dns_program(line: &str, ours: &[u64]) -> Option<u64> {
    let id = line.split_whitespace().next()?.parse::<u64>().ok()?;
    (line.contains("dns_") && ours.contains(&id)).then_some(id)
}

fn short(id: &str) -> String {
    id.chars().take(12).collect()
}

fn alerts_of(alerts: &[Value], id: &str) -> Vec<String> {
    alerts
        .iter()
        .filter(|a| a["output_fields"]["container.id"].as_str() == Some(short(id).as_str()))
        .map(|a| a["rule"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// A busybox bundle on the host network whose resolver is a DNS server of this test's own and whose command
/// resolves [`API_NAME`] and connects to a stand-in API server (accepting and closing at once, so `nc` sees
/// the end of the connection), then runs `then`. The server and the stand-in live as long as the lab.
struct DnsLab {
    bundle: PathBuf,
    api_port: u16,
    _dns: UdpSocket,
    _api: TcpListener,
}

impl DnsLab {
    /// `octet`: the second byte of the DNS server's loopback address, one per test, so parallel runs do not
    /// share port 53.
    fn new(tmp: &Path, octet: u8, then: &str) -> DnsLab {
        let pid = std::process::id();
        let dns_addr = format!("127.{octet}.{}.{}", (pid >> 8) & 0xff, (pid & 0xff).max(1));
        let dns = dns_server(&dns_addr);
        let api = TcpListener::bind("127.0.0.1:0").unwrap();
        let api_port = api.local_addr().unwrap().port();
        let stand_in = api.try_clone().unwrap();
        std::thread::spawn(move || {
            for conn in stand_in.incoming() {
                drop(conn);
            }
        });
        let root = tmp.join("root");
        make_rootfs(&root);
        std::fs::write(root.join("etc/resolv.conf"), format!("nameserver {dns_addr}\n")).unwrap();
        std::fs::write(root.join("etc/hosts"), "127.0.0.1 localhost\n").unwrap();
        let bundle = tmp.join("bundle");
        write_bundle(&bundle, &root, &format!("nc -w 1 {API_NAME} {api_port} </dev/null; {then}"));
        host_network(&bundle);
        DnsLab { bundle, api_port, _dns: dns, _api: api }
    }
}

fn skip_reason() -> Option<String> {
    missing().or_else(|| (!which("script")).then(|| "script (bsdutils) not installed".into()))
}

#[test]
fn dns_names_reach_connect_events_and_the_api_server_rule() {
    if let Some(why) = skip_reason() {
        eprintln!("skipped: {why}");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let Some(rules) = stable_rules(tmp.path()) else {
        eprintln!("skipped: no Falco rules corpus at {FALCO_RULES}");
        return;
    };
    let pid = std::process::id();
    let lab = DnsLab::new(tmp.path(), 83, "true");
    let bundle = &lab.bundle;

    let mut guard = Guard { child: None, daemons: Vec::new(), cleanup: Vec::new() };
    let (events, alerts, log) = start_agent(tmp.path(), &rules, &mut guard);
    let id = format!("paln{pid}");
    guard.cleanup.push(vec!["runc".into(), "delete".into(), "--force".into(), id.clone()]);
    let out = Command::new("runc").args(["run", &id]).current_dir(bundle).output().unwrap();
    assert!(out.status.success(), "runc run: {}", String::from_utf8_lossy(&out.stderr));
    std::thread::sleep(Duration::from_millis(500));
    stop_agent(&mut guard, Duration::from_secs(60));

    let recorded: Vec<Value> = json_lines(&events)
        .into_iter()
        .filter(|e| e.pointer("/container/id").and_then(Value::as_str) == Some(id.as_str()))
        .collect();
    let kinds =
        || recorded.iter().map(|e| format!("{} {}", e["kind"], e["process"]["comm"])).collect::<Vec<_>>();
    let dns = recorded.iter().find(|e| e["kind"]["type"] == "dns_resolve" && e["kind"]["name"] == API_NAME);
    let dns = dns.unwrap_or_else(|| {
        panic!(
            "no dns event for {API_NAME} in {id}; its events:\n{}\nagent: {}",
            kinds().join("\n"),
            log.join("\n")
        )
    });
    assert_eq!(dns["kind"]["addresses"], serde_json::json!(["127.0.0.1"]), "{dns}");
    assert_eq!(dns["process"]["args"][0], "nc", "the answer is the resolving process's: {dns}");
    let connect = recorded
        .iter()
        .find(|e| {
            e["kind"]["type"] == "connect"
                && e["kind"]["remote_port"].as_u64() == Some(u64::from(lab.api_port))
        })
        .unwrap_or_else(|| panic!("no connect to the API stand-in; events:\n{}", kinds().join("\n")));
    assert_eq!(connect["kind"]["remote_name"], API_NAME, "{connect}");
    assert_eq!(connect["kind"]["remote_addr"], "127.0.0.1");

    let alerts = json_lines(&alerts);
    let fired = alerts_of(&alerts, &id);
    assert!(
        fired.iter().any(|r| r == "Contact K8S API Server From Container"),
        "no API-server alert for {id}: {fired:?}"
    );
    drop(lab);
}

/// `bpftool cgroup` output for the cgroup v2 directory `dir` (`effective`: with the programs inherited
/// from its parents).
fn cgroup_programs(dir: &Path, effective: bool) -> String {
    let mut cmd = Command::new("bpftool");
    cmd.args(["cgroup", "show"]).arg(dir);
    if effective {
        cmd.arg("effective");
    }
    let out = cmd.output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn dns_programs_are_attached_to_containers_only() {
    if let Some(why) = skip_reason().or_else(|| (!which("bpftool")).then(|| "bpftool not installed".into())) {
        eprintln!("skipped: {why}");
        return;
    }
    // the cgroup v2 mount (/sys/fs/cgroup, or /sys/fs/cgroup/unified on hybrid hosts)
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let Some(cgroup_root) = mountinfo.lines().find_map(|l| {
        let (left, right) = l.split_once(" - ")?;
        if right.split_whitespace().next()? != "cgroup2" {
            return None;
        }
        Some(PathBuf::from(left.split_whitespace().nth(4)?))
    }) else {
        eprintln!("skipped: no cgroup v2 hierarchy mounted");
        return;
    };
    let cgroup_root = cgroup_root.as_path();
    let tmp = tempfile::tempdir().unwrap();
    let Some(rules) = stable_rules(tmp.path()) else {
        eprintln!("skipped: no Falco rules corpus at {FALCO_RULES}");
        return;
    };
    let pid = std::process::id();
    // the name is resolved at once (the programs must be on the cgroup before the process runs), then the
    // container stays up while the test looks at the cgroups
    let lab = DnsLab::new(tmp.path(), 84, "sleep 4; true");
    let bundle = &lab.bundle;

    let mut guard = Guard { child: None, daemons: Vec::new(), cleanup: Vec::new() };
    let (alerts, log) = start_rules_agent(tmp.path(), &rules, &mut guard, &[]);
    // this agent's programs (another agent on the node would attach its own to the container too)
    let ours = agent_prog_ids(guard.child.as_ref().unwrap().id());
    let sends = log.iter().find(|l| l.contains("kernel sends:")).cloned().unwrap_or_default();
    assert!(sends.contains("DNS answers of containers"), "{sends}\n{}", log.join("\n"));
    let id = format!("pald{pid}");
    guard.cleanup.push(vec!["runc".into(), "delete".into(), "--force".into(), id.clone()]);
    let mut runc = Command::new("runc")
        .args(["run", &id])
        .current_dir(bundle)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // the container's cgroup: a directory named after its id (runc's default cgroup path)
    let started = Instant::now();
    let mut tree = String::new();
    let mut container_line = None;
    let mut prog_ids: Vec<u64> = Vec::new();
    while started.elapsed() < Duration::from_secs(3) && container_line.is_none() {
        std::thread::sleep(Duration::from_millis(100));
        let out = Command::new("bpftool").args(["cgroup", "tree"]).output().unwrap();
        tree = String::from_utf8_lossy(&out.stdout).into_owned();
        // a cgroup path line, then its programs indented below it
        let mut current = "";
        let mut names = Vec::new();
        prog_ids.clear();
        for line in tree.lines() {
            if line.starts_with('/') {
                current = line;
            } else if let Some(prog) = our_dns_program(line, &ours).filter(|_| current.contains(&id)) {
                names.push(line.split_whitespace().last().unwrap_or_default().to_string());
                prog_ids.push(prog);
            }
        }
        if names.iter().any(|n| n == "dns_ingress") && names.iter().any(|n| n == "dns_egress") {
            container_line = Some(current_path(&tree, &id));
        }
    }
    let container_cgroup = container_line.unwrap_or_else(|| {
        panic!("no DNS programs on {id}'s cgroup; bpftool cgroup tree:\n{tree}\n{}", log.join("\n"))
    });
    // not on the root, and not inherited by the test's own cgroup: host traffic does not pass through them
    let own = std::fs::read_to_string("/proc/self/cgroup")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("0::").map(str::to_string))
        .unwrap_or_default();
    let own_dir = cgroup_root.join(own.trim_start_matches('/'));
    for (what, dir, effective) in
        [("the cgroup root", cgroup_root, false), ("this test's cgroup", own_dir.as_path(), true)]
    {
        // only this agent's programs count: another test's agent may watch the host's DNS too
        let progs = cgroup_programs(dir, effective);
        let mine: Vec<&str> = progs.lines().filter(|l| our_dns_program(l, &ours).is_some()).collect();
        assert!(mine.is_empty(), "this agent's DNS programs on {what} ({}):\n{progs}", dir.display());
    }
    let container_ino = std::fs::metadata(container_cgroup.trim())
        .map(|m| std::os::unix::fs::MetadataExt::ino(&m))
        .unwrap_or_else(|e| panic!("{container_cgroup}: {e}"));
    // the container's cgroup is gone: the agent releases its links within a second or two (until then
    // they show the cgroup's id, or 0 once the kernel has released the cgroup)
    let defunct = || -> Vec<Value> {
        let out = Command::new("bpftool").args(["-j", "link", "show"]).output().unwrap();
        let links: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap_or_default();
        links
            .into_iter()
            .filter(|l| l["prog_id"].as_u64().is_some_and(|p| prog_ids.contains(&p)))
            .filter(|l| l["cgroup_id"].as_u64().is_some_and(|c| c == 0 || c == container_ino))
            .collect()
    };
    assert_eq!(prog_ids.len(), 2, "{tree}");
    assert_eq!(defunct().len(), 2, "the container's two links, by cgroup id {container_ino}");
    let status = runc.wait().unwrap();
    assert!(status.success(), "runc run failed");
    let exited = Instant::now();
    while !defunct().is_empty() && exited.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(defunct().is_empty(), "links of the exited container not released: {:?}", defunct());
    stop_agent(&mut guard, Duration::from_secs(60));
    let alerts = json_lines(&alerts);
    let fired = alerts_of(&alerts, &id);
    assert!(
        fired.iter().any(|r| r == "Contact K8S API Server From Container"),
        "no API-server alert for {id} (programs were on {container_cgroup}): {fired:?}"
    );
    drop(lab);
}

/// The ids of the BPF programs process `pid` holds (`prog_id:` in its descriptors' fdinfo).
fn agent_prog_ids(pid: u32) -> Vec<u64> {
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/fdinfo")) else { return Vec::new() };
    dir.flatten()
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .filter_map(|t| {
            t.lines().find_map(|l| l.strip_prefix("prog_id:").and_then(|v| v.trim().parse().ok()))
        })
        .collect()
}

/// The cgroup path line of `bpftool cgroup tree` output that names `id`.
fn current_path(tree: &str, id: &str) -> String {
    tree.lines().find(|l| l.starts_with('/') && l.contains(id)).unwrap_or_default().to_string()
}

#[test]
fn a_shell_with_a_terminal_raises_terminal_shell_in_container() {
    if let Some(why) = skip_reason() {
        eprintln!("skipped: {why}");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let Some(rules) = stable_rules(tmp.path()) else {
        eprintln!("skipped: no Falco rules corpus at {FALCO_RULES}");
        return;
    };
    let root = tmp.path().join("root");
    make_rootfs(&root);
    let with_tty = tmp.path().join("tty");
    write_bundle(&with_tty, &root, "true");
    let path = with_tty.join("config.json");
    let mut spec: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    spec["process"]["terminal"] = true.into();
    std::fs::write(&path, serde_json::to_vec_pretty(&spec).unwrap()).unwrap();
    let without = tmp.path().join("notty");
    write_bundle(&without, &root, "true");

    let mut guard = Guard { child: None, daemons: Vec::new(), cleanup: Vec::new() };
    let (_events, alerts, _log) = start_agent(tmp.path(), &rules, &mut guard);
    let pid = std::process::id();
    let (tty_id, plain_id) = (format!("palt{pid}"), format!("palp{pid}"));
    for id in [&tty_id, &plain_id] {
        guard.cleanup.push(vec!["runc".into(), "delete".into(), "--force".into(), id.clone()]);
    }
    // `script` gives runc a pty on its standard input, which a `terminal: true` container needs
    let out = Command::new("script")
        .args(["-q", "-e", "-c", &format!("runc run {tty_id}"), "/dev/null"])
        .current_dir(&with_tty)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "runc run with a terminal: {}", String::from_utf8_lossy(&out.stdout));
    let out = Command::new("runc").args(["run", &plain_id]).current_dir(&without).output().unwrap();
    assert!(out.status.success(), "runc run: {}", String::from_utf8_lossy(&out.stderr));
    std::thread::sleep(Duration::from_millis(500));
    stop_agent(&mut guard, Duration::from_secs(60));

    let alerts = json_lines(&alerts);
    let fired = alerts_of(&alerts, &tty_id);
    assert!(fired.iter().any(|r| r == "Terminal shell in container"), "{tty_id}: {fired:?}");
    let plain = alerts_of(&alerts, &plain_id);
    assert!(!plain.iter().any(|r| r == "Terminal shell in container"), "no terminal, yet: {plain:?}");
}

/// Let the bundle's container share the host's network namespace (to reach the test's DNS server and
/// listener on the host's loopback).
fn host_network(bundle: &Path) {
    let path = bundle.join("config.json");
    let mut spec: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    if let Some(ns) = spec.pointer_mut("/linux/namespaces").and_then(Value::as_array_mut) {
        ns.retain(|n| n["type"] != "network");
    }
    std::fs::write(&path, serde_json::to_vec_pretty(&spec).unwrap()).unwrap();
}
