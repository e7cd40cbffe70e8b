//! Connections enforced end to end on a veth: a runc container in a network namespace of its own, wired
//! to a "node" namespace by a veth pair (the lab of palisade-network's tests), and the real agent with
//! `--profiles --enforce --enforce-network`. The workload is learned in discover mode (its connection to
//! the node's port 8080 goes into the profile), switched to protect by `profile mode`: the listed
//! connection works, an unlisted one (port 9090) is refused and alerted with the container's id; switched
//! to monitor, both go through and the unlisted one is alerted; a clean stop of the agent removes the
//! firewall while the container still runs. Needs root, ip, nft, a BTF kernel, runc and busybox: skips
//! with a message otherwise.

#[path = "../../palisade-network/tests/support/lab.rs"]
mod lab;
mod support;

use lab::{Lab, echo_server};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::containers::*;

const APPLETS: [&str; 5] = ["sh", "cat", "nc", "sleep", "timeout"];

/// A busybox root filesystem whose applets are hard links (each program has its own executable path, as
/// a profile lists it), and the script the container runs: it waits for `/go`, then for each port of
/// `/app/ports` connects to the node, sends a line and prints `port-N-ok` when it came back, else
/// `port-N-refused`; then waits for `/stop`.
fn rootfs(dir: &Path, node: &str) {
    applet_rootfs(dir, &["proc", "sys", "dev", "tmp", "app"], &APPLETS);
    std::fs::write(
        dir.join("app/run.sh"),
        format!(
            "sleep 0.1\nwhile [ ! -e /go ]; do sleep 0.1; done\n\
             for p in $(cat /app/ports); do\n\
               r=$(echo palisade | nc -w 2 {node} $p 2>/dev/null)\n\
               if [ \"$r\" = palisade ]; then echo port-$p-ok; else echo port-$p-refused; fi\n\
             done\necho connections-done\n\
             while [ ! -e /stop ]; do sleep 0.1; done\n"
        ),
    )
    .unwrap();
}

/// A bundle running the script in the lab namespace `netns`, with an image name and a pod, as the CRI
/// annotations say it.
fn bundle(dir: &Path, root: &Path, netns: &str, image: &str) {
    write_bundle(dir, root, "");
    let path = dir.join("config.json");
    let mut spec: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    for ns in spec["linux"]["namespaces"].as_array_mut().unwrap() {
        if ns["type"] == "network" {
            ns["path"] = format!("/run/netns/{netns}").into();
        }
    }
    spec["annotations"] = serde_json::json!({
        "io.containerd.image.name": image,
        "io.kubernetes.cri.sandbox-name": "netdemo-0",
        "io.kubernetes.cri.sandbox-namespace": "palisade-test",
    });
    spec["process"]["env"] = serde_json::json!(["PATH=/bin"]);
    spec["process"]["args"] = serde_json::json!(["sh", "/app/run.sh"]);
    std::fs::write(&path, serde_json::to_vec_pretty(&spec).unwrap()).unwrap();
}

fn palisade(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_palisade")).args(args).output().unwrap()
}

/// The tables in namespace `netns`.
fn nft_tables(netns: &str) -> String {
    let out = Command::new("ip").args(["netns", "exec", netns, "nft", "list", "tables"]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// One run: the agent with `args`, container `id` started, `/go` written once `ready` appeared in the
/// agent's log, the container's connection lines collected; then the agent stopped cleanly while the
/// container still runs. Returns the container's output, the agent's log and the tables of the
/// namespace just before and just after the agent stopped.
struct Run {
    output: String,
    log: Vec<String>,
    tables_before_stop: String,
    tables_after_stop: String,
}

fn run(args: &[String], id: &str, root: &Path, bundle: &Path, netns: &str, ready: Option<&str>) -> Run {
    for f in ["go", "stop"] {
        let _ = std::fs::remove_file(root.join(f));
    }
    let mut guard = Guard {
        child: None,
        daemons: Vec::new(),
        cleanup: vec![vec!["runc".into(), "delete".into(), "--force".into(), id.into()]],
    };
    let mut agent = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(["runtime", "agent", "--source", "ebpf", "--containers-only"])
        .args(args)
        .env("PALISADE_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = stderr_lines(&mut agent);
    guard.child = Some(agent);
    let mut log = Vec::new();
    assert!(wait_for(&lines, "runtime sensor started", &mut log).is_some(), "agent:\n{}", log.join("\n"));
    let out_path = root.join(format!("../{id}.out"));
    let out_file = std::fs::File::create(&out_path).unwrap();
    let container = Command::new("runc")
        .args(["run", id])
        .current_dir(bundle)
        .stdin(Stdio::null())
        .stdout(out_file.try_clone().unwrap())
        .stderr(out_file)
        .spawn()
        .unwrap();
    guard.daemons.push(container);
    if let Some(needle) = ready {
        let line = wait_for(&lines, needle, &mut log);
        assert!(line.is_some(), "no {needle:?} in the agent's log:\n{}", log.join("\n"));
    } else {
        std::thread::sleep(Duration::from_millis(500));
    }
    std::fs::write(root.join("go"), "").unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let output = loop {
        let text = std::fs::read_to_string(&out_path).unwrap_or_default();
        if text.contains("connections-done") {
            break text;
        }
        assert!(Instant::now() < deadline, "container output:\n{text}\nagent:\n{}", log.join("\n"));
        std::thread::sleep(Duration::from_millis(100));
    };
    // the sensor's events reach the agent's checks asynchronously
    std::thread::sleep(Duration::from_millis(1500));
    let tables_before_stop = nft_tables(netns);
    let status = stop_agent(&mut guard, Duration::from_secs(60));
    drain(&lines, &mut log, Duration::from_millis(300));
    assert!(status.success(), "agent exit {status}:\n{}", log.join("\n"));
    let tables_after_stop = nft_tables(netns);
    std::fs::write(root.join("stop"), "").unwrap();
    let mut container: Child = guard.daemons.pop().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while container.try_wait().unwrap().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    guard.daemons.push(container);
    drop(guard);
    Run { output, log, tables_before_stop, tables_after_stop }
}

/// This workload's alerts in the alerts file.
fn alerts(file: &Path, workload: &str) -> Vec<Value> {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad alert line {l}: {e}")))
        .filter(|a: &Value| a["output_fields"]["palisade.workload"] == workload)
        .collect()
}

/// The "Connection not in profile" alerts for the node's `port` (the port is in the alert's message).
fn connection_alerts<'a>(alerts: &'a [Value], node: &str, port: u16) -> Vec<&'a Value> {
    let needle = format!("{node}:{port} is not in the profile");
    alerts
        .iter()
        .filter(|a| {
            a["rule"] == "Connection not in profile"
                && a["output"].as_str().is_some_and(|o| o.contains(&needle))
        })
        .collect()
}

#[test]
fn learned_connections_are_enforced_on_a_veth() {
    if let Some(why) = missing() {
        eprintln!("SKIP: {why}");
        return;
    }
    // addresses no other lab uses: the learned profile names the node's address
    let net = 201 + (std::process::id() % 50) as u8;
    let Some(lab) = Lab::new_in("nee", 1, net) else { return };
    let node = lab.node_addr().to_string();
    echo_server(&lab.node_ns(), 8080);
    echo_server(&lab.node_ns(), 9090);
    let netns = lab.pods[0].clone();
    let tmp = tempfile::tempdir().unwrap();
    let tag = format!("palnet{}", std::process::id());
    let repo = format!("palisade.test/{tag}");
    let image = format!("{repo}:1");
    let workload = format!("palisade-test/Image/{repo}");
    let root = tmp.path().join("root");
    rootfs(&root, &node);
    let bundle_dir = tmp.path().join("bundle");
    bundle(&bundle_dir, &root, &netns, &image);
    let profiles = tmp.path().join("profiles");
    let s = |p: &Path| p.display().to_string();
    let profile_file: PathBuf = profiles.join(format!("image-{}.yaml", repo.replace('/', "-")));

    // 1. learn: discover mode, the container reaches the node's 8080
    std::fs::write(root.join("app/ports"), "8080\n").unwrap();
    let learn = run(
        &["--profiles".into(), s(&profiles), "--mode".into(), "discover".into()],
        &format!("{tag}-learn"),
        &root,
        &bundle_dir,
        &netns,
        None,
    );
    assert!(learn.output.contains("port-8080-ok"), "{}", learn.output);
    let yaml = std::fs::read_to_string(&profile_file).unwrap_or_else(|e| {
        panic!("no profile {} ({e}); agent:\n{}", profile_file.display(), learn.log.join("\n"))
    });
    let peer = format!("- peer: {{cidr: \"{node}/32\"}}");
    assert!(yaml.contains(&peer) && yaml.contains("ports: [\"8080\"]"), "{peer} not learned:\n{yaml}");
    assert!(!yaml.contains("9090"), "{yaml}");

    // 2. review done: protect, with enforcement of execs, opens and connections
    let mode = |m: &str| {
        let state = s(&profiles.join("modes.yaml"));
        let out = palisade(&["profile", "mode", "--state", &state, "--workload", &workload, m]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    };
    mode("protect");
    std::fs::write(root.join("app/ports"), "8080 9090\n").unwrap();
    let alerts_file = tmp.path().join("protect.jsonl");
    let enforce_args = |alerts_file: &Path| -> Vec<String> {
        vec![
            "--profiles".into(),
            s(&profiles),
            "--enforce".into(),
            "--enforce-network".into(),
            "--output".into(),
            format!("file:{}", alerts_file.display()),
        ]
    };
    let protect_id = format!("{tag}-protect");
    let protect = run(
        &enforce_args(&alerts_file),
        &protect_id,
        &root,
        &bundle_dir,
        &netns,
        Some("firewall in Protect mode, 1 rules"),
    );
    let ctx = |r: &Run, file: &Path| {
        format!(
            "container:\n{}\nalerts:\n{}\nagent:\n{}",
            r.output,
            std::fs::read_to_string(file).unwrap_or_default(),
            r.log.join("\n")
        )
    };
    assert!(
        protect.output.contains("port-8080-ok"),
        "the listed connection failed; {}",
        ctx(&protect, &alerts_file)
    );
    assert!(
        protect.output.contains("port-9090-refused"),
        "the unlisted connection went through; {}",
        ctx(&protect, &alerts_file)
    );
    let got = alerts(&alerts_file, &workload);
    let refused = connection_alerts(&got, &node, 9090);
    assert!(!refused.is_empty(), "no alert for the refused connection; {}", ctx(&protect, &alerts_file));
    eprintln!("protect run:\n{}refused connection alert: {}", protect.output, refused[0]["output"]);
    let short_id: String = protect_id.chars().take(12).collect();
    assert_eq!(refused[0]["output_fields"]["container.id"], short_id.as_str(), "{:#?}", refused[0]);
    assert_eq!(refused[0]["output_fields"]["palisade.mode"], "protect", "{:#?}", refused[0]);
    assert!(connection_alerts(&got, &node, 8080).is_empty(), "the listed connection alerted: {got:#?}");
    assert!(protect.tables_before_stop.contains("table inet palisade"), "{}", protect.tables_before_stop);
    assert!(
        !protect.tables_after_stop.contains("palisade"),
        "a clean stop left the firewall: {}",
        protect.tables_after_stop
    );

    // 3. monitor: nothing refused, the unlisted connection alerted
    mode("monitor");
    let alerts_file = tmp.path().join("monitor.jsonl");
    let monitor = run(
        &enforce_args(&alerts_file),
        &format!("{tag}-monitor"),
        &root,
        &bundle_dir,
        &netns,
        Some("firewall in Monitor mode, 1 rules"),
    );
    assert!(
        monitor.output.contains("port-8080-ok") && monitor.output.contains("port-9090-ok"),
        "monitor mode refused a connection; {}",
        ctx(&monitor, &alerts_file)
    );
    let got = alerts(&alerts_file, &workload);
    let seen = connection_alerts(&got, &node, 9090);
    assert!(!seen.is_empty(), "no alert for the unlisted connection; {}", ctx(&monitor, &alerts_file));
    assert_eq!(seen[0]["output_fields"]["palisade.mode"], "monitor", "{:#?}", seen[0]);
    assert!(connection_alerts(&got, &node, 8080).is_empty(), "the listed connection alerted: {got:#?}");
    assert!(!monitor.tables_after_stop.contains("palisade"), "{}", monitor.tables_after_stop);
    let after = std::fs::read_to_string(&profile_file).unwrap();
    assert!(!after.contains("9090"), "protect and monitor must not learn:\n{after}");
}

/// An HTTP server on `port` in `ns` for the rest of the test: reads a request (head and `Content-Length`
/// body, 3 s at most) and answers `200 OK`.
fn http_server(ns: &palisade_network::netns::Netns, port: u16) {
    use std::io::{Read, Write};
    let listener = ns.run(move || std::net::TcpListener::bind(("0.0.0.0", port))).unwrap().unwrap();
    std::thread::spawn(move || {
        for mut s in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let _ = s.set_read_timeout(Some(Duration::from_secs(3)));
                let mut got = Vec::new();
                let mut buf = [0u8; 4096];
                while let Ok(n) = s.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    got.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&got);
                    if let Some(end) = text.find("\r\n\r\n") {
                        let len = text
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase().strip_prefix("content-length:")?.trim().parse().ok()
                            })
                            .unwrap_or(0usize);
                        if got.len() >= end + 4 + len {
                            let _ = s.write_all(
                                b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
                            );
                            break;
                        }
                    }
                }
            });
        }
    });
}

/// POST `body` from inside container `id` to `node`:8080; whether `200 OK` came back (5 s at most: a
/// blocked flow stalls, its packets dropped both ways).
fn post(id: &str, node: &str, body: &str) -> bool {
    let cmd = format!(
        "printf 'POST /api/orders HTTP/1.1\\r\\nHost: shop\\r\\nContent-Length: {}\\r\\n\\r\\n{body}' | timeout 5 nc -w 3 {node} 8080",
        body.len()
    );
    let out = Command::new("runc").args(["exec", id, "sh", "-c", &cmd]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).contains("200 OK")
}

/// The L7 chains in namespace `netns` (`iptables -S`).
fn l7_rules(netns: &str) -> String {
    let out = Command::new("ip").args(["netns", "exec", netns, "iptables", "-S"]).output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains("PALISADE-L7") || l.contains("palisade-l7"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// An agent started by [`l7_agent`]: its process in the guard, its log.
struct L7Agent {
    guard: Guard,
    lines: std::sync::mpsc::Receiver<String>,
    log: Vec<String>,
}

/// The agent with `--enforce --enforce-network --l7-policy POLICY` and `extra` flags, once `needle` is in
/// its log.
fn l7_agent(policy: &Path, alerts: &Path, extra: &[&str], needle: &str) -> L7Agent {
    let mut agent = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(["runtime", "agent", "--source", "ebpf", "--containers-only", "--enforce", "--enforce-network"])
        .arg("--l7-policy")
        .arg(policy)
        .arg("--output")
        .arg(format!("file:{}", alerts.display()))
        .args(extra)
        .env("PALISADE_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = stderr_lines(&mut agent);
    let mut a = L7Agent {
        guard: Guard { child: Some(agent), daemons: Vec::new(), cleanup: Vec::new() },
        lines,
        log: Vec::new(),
    };
    assert!(
        wait_for(&a.lines, needle, &mut a.log).is_some(),
        "no {needle:?} in the agent's log:\n{}",
        a.log.join("\n")
    );
    a
}

/// The agent runs the L7 inspector for a container whose workload the L7 policy names: a clean HTTP
/// request passes, one carrying a card number is dropped and alerted with the container's id; killed, the
/// agent leaves the queue rules and traffic passes (fail open) or not (`--l7-fail-closed`); the next agent
/// removes what the dead one left, and a clean stop removes its own rules.
#[test]
fn agent_inspects_l7_traffic_of_a_container_on_a_veth() {
    if let Some(why) = missing() {
        eprintln!("SKIP: {why}");
        return;
    }
    if !which("iptables") {
        eprintln!("SKIP: iptables not installed");
        return;
    }
    let net = 201 + ((std::process::id() + 25) % 50) as u8;
    let Some(lab) = Lab::new_in("nel7", 1, net) else { return };
    let node = lab.node_addr().to_string();
    http_server(&lab.node_ns(), 8080);
    let netns = lab.pods[0].clone();
    let tmp = tempfile::tempdir().unwrap();
    let tag = format!("pall7{}", std::process::id());
    let repo = format!("palisade.test/{tag}");
    let root = tmp.path().join("root");
    rootfs(&root, &node);
    std::fs::write(root.join("app/ports"), "").unwrap();
    let bundle_dir = tmp.path().join("bundle");
    bundle(&bundle_dir, &root, &netns, &format!("{repo}:1"));
    let id = format!("{tag}-web");
    let mut container_guard = Guard {
        child: None,
        daemons: Vec::new(),
        cleanup: vec![vec!["runc".into(), "delete".into(), "--force".into(), id.clone()]],
    };
    let container = Command::new("runc")
        .args(["run", &id])
        .current_dir(&bundle_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    container_guard.daemons.push(container);
    let deadline = Instant::now() + Duration::from_secs(20);
    while !Command::new("runc")
        .args(["state", &id])
        .output()
        .unwrap()
        .stdout
        .windows(9)
        .any(|w| w == b"\"running\"")
    {
        assert!(Instant::now() < deadline, "container {id} did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    let card = "card=4111 1111 1111 1111";
    assert!(post(&id, &node, "item=42") && post(&id, &node, card), "no inspection yet: both pass");

    let policy = tmp.path().join("l7.yaml");
    std::fs::write(
        &policy,
        format!("workloads:\n  - name: \"palisade-test/Image/{repo}\"\n    mode: protect\n    dlp: {{ card: drop }}\n"),
    )
    .unwrap();
    let alerts_file = tmp.path().join("alerts.jsonl");
    let started = format!("L7: container {id}: inspector started");

    // 1. the running container is found at start, its traffic inspected
    let mut a = l7_agent(&policy, &alerts_file, &["--metrics-addr", "127.0.0.1:0"], &started);
    let metrics_addr = a
        .log
        .iter()
        .find_map(|l| l.split("metrics on http://").nth(1))
        .map(|s| s.trim_end_matches("/metrics").to_string())
        .expect("the metrics address in the log");
    let ctx = |a: &L7Agent| {
        format!(
            "alerts:\n{}\nrules:\n{}\nagent:\n{}",
            std::fs::read_to_string(&alerts_file).unwrap_or_default(),
            l7_rules(&netns),
            a.log.join("\n")
        )
    };
    assert!(post(&id, &node, "item=42"), "a clean request was refused; {}", ctx(&a));
    assert!(!post(&id, &node, card), "a card number went through; {}", ctx(&a));
    let alerts: Vec<Value> = std::fs::read_to_string(&alerts_file)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|a: &Value| a["rule"] == "DLP card")
        .collect();
    assert_eq!(alerts.len(), 1, "one DLP alert expected; {}", ctx(&a));
    let f = &alerts[0]["output_fields"];
    assert_eq!(f["container.id"], id.chars().take(12).collect::<String>().as_str(), "{f}");
    assert_eq!(
        (f["action"].as_str(), f["dlp.preview"].as_str()),
        (Some("drop"), Some("************1111")),
        "{f}"
    );
    assert_eq!(f["palisade.workload"], format!("palisade-test/Image/{repo}").as_str(), "{f}");
    let metrics = http_get(&metrics_addr, "/metrics");
    for m in ["palisade_runtime_l7_inspectors 1", "palisade_runtime_l7_events_total{rule=\"DLP card\"} 1"] {
        assert!(metrics.contains(m), "{m} not in /metrics:\n{metrics}");
    }
    assert!(metrics.contains("palisade_runtime_l7_packets_total{verdict=\"drop\"}"), "{metrics}");

    // 2. killed: the rules stay, and fail open
    drop(a.guard);
    assert!(l7_rules(&netns).contains("--queue-bypass"), "{}", l7_rules(&netns));
    assert!(post(&id, &node, card), "a dead inspector must fail open");

    // 3. the next agent removes what the dead one left; fail closed, killed: traffic stops
    a = l7_agent(&policy, &alerts_file, &["--l7-fail-closed"], &started);
    assert!(
        a.log
            .iter()
            .any(|l| l.contains(&format!("L7: container {id}: removed queue rules an earlier agent left"))),
        "{}",
        ctx(&a)
    );
    let rules = l7_rules(&netns);
    let queueing: Vec<&str> = rules.lines().filter(|l| l.starts_with("-A PALISADE-L7-")).collect();
    assert!(
        queueing.len() == 4
            && queueing.iter().all(|l| l.contains("NFQUEUE") && !l.contains("--queue-bypass")),
        "fail-closed rules expected:\n{rules}"
    );
    assert!(post(&id, &node, "item=42"), "{}", ctx(&a));
    drop(a.guard);
    assert!(
        !post(&id, &node, "item=42"),
        "a dead fail-closed inspector must stop traffic; {}",
        l7_rules(&netns)
    );

    // 4. recovery, and a clean stop removes the rules
    a = l7_agent(&policy, &alerts_file, &[], &started);
    assert!(post(&id, &node, "item=42"), "{}", ctx(&a));
    let status = stop_agent(&mut a.guard, Duration::from_secs(30));
    drain(&a.lines, &mut a.log, Duration::from_millis(300));
    assert!(status.success(), "{}", a.log.join("\n"));
    assert_eq!(l7_rules(&netns), "", "a clean stop left rules; agent:\n{}", a.log.join("\n"));
    assert!(post(&id, &node, card), "no inspector, no rules: everything passes");
    std::fs::write(root.join("go"), "").unwrap();
    std::fs::write(root.join("stop"), "").unwrap();
    drop(container_guard);
}

/// A profile allowing every program under `/bin`, every file, and egress to `node`:8080 only, for
/// `workload`'s image `repo`, in `dir` (the agent's `--profiles`), its mode `mode` in the state file.
fn hand_profile(dir: &Path, repo: &str, node: &str, extra: &str, mode: &str) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join(format!("image-{}.yaml", repo.replace('/', "-"))),
        format!(
            "apiVersion: palisade.io/v1alpha1\nkind: PalisadeProfile\nmetadata:\n  name: \"{}\"\n\
             spec:\n  workload:\n    kind: Image\n    name: \"{repo}\"\n    namespace: palisade-test\n  processes:\n    - path: \"/bin/*\"\n\
             \x20 files:\n    - path: \"/**\"\n      access: readwrite\n  network:\n    egress:\n\
             \x20     - peer: {{cidr: \"{node}/32\"}}\n        protocol: tcp\n        ports: [\"8080\"]\n{extra}",
            repo.replace(['/', '.'], "-")
        ),
    )
    .unwrap();
    let state = dir.join("modes.yaml").display().to_string();
    let workload = format!("palisade-test/Image/{repo}");
    let out = palisade(&["profile", "mode", "--state", &state, "--workload", &workload, mode]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// Wait until the container's output file has `needle`; the output so far.
fn wait_output(path: &Path, needle: &str, ctx: &dyn Fn() -> String) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if text.contains(needle) {
            return text;
        }
        assert!(Instant::now() < deadline, "no {needle:?}; container output:\n{text}\n{}", ctx());
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The agent runs response rules on its own alerts: a container whose profile (protect mode) allows the
/// node's 8080 and not its 9090 tries 9090 three times; the firewall refuses each, the agent alerts
/// "Connection not in profile" each time, the first alert starts a bounded capture (response rule
/// `record-denied`) and the third quarantines the container (`cut-off`): its allowed connection then fails
/// too, while a neighbour pod still reaches the node and no longer reaches it; `network release` lifts the
/// quarantine; the capture is a pcap `tcpdump -r` reads, with the allowed connection and the neighbour's
/// attempts in it; an ingress connection the firewall refused (which no process sees) is alerted from the
/// firewall's violations set and reaches the response rules too; two more denials (five in the window) kill the container (rule `end-it`); `/metrics`
/// counts the actions.
#[test]
fn agent_response_rules_quarantine_and_capture_a_container_on_a_veth() {
    if let Some(why) = missing() {
        eprintln!("SKIP: {why}");
        return;
    }
    if !which("tcpdump") {
        eprintln!("SKIP: tcpdump not installed");
        return;
    }
    let net = 201 + ((std::process::id() + 12) % 50) as u8;
    let Some(lab) = Lab::new_in("neresp", 2, net) else { return };
    let node = lab.node_addr().to_string();
    echo_server(&lab.node_ns(), 8080);
    echo_server(&lab.node_ns(), 9090);
    let netns = lab.pods[0].clone();
    let tmp = tempfile::tempdir().unwrap();
    let tag = format!("palresp{}", std::process::id());
    let repo = format!("palisade.test/{tag}");
    let workload = format!("palisade-test/Image/{repo}");
    let root = tmp.path().join("root");
    applet_rootfs(&root, &["proc", "sys", "dev", "tmp", "app"], &APPLETS);
    std::fs::write(
        root.join("app/run.sh"),
        format!(
            "try() {{ r=$(echo palisade | timeout 5 nc -w 2 {node} $2 2>/dev/null)\n\
               if [ \"$r\" = palisade ]; then echo step-$1-port-$2-ok; else echo step-$1-port-$2-refused; fi; }}\n\
             wait_for() {{ while [ ! -e /$1 ]; do sleep 0.1; done; }}\n\
             wait_for go; try 1 8080; try 1 9090; echo step-1-done\n\
             wait_for s2; try 2 8080; try 2 9090; try 2 9090; echo step-2-done\n\
             wait_for s3; try 3 8080; echo step-3-done\n\
             wait_for s4; try 4 8080; echo step-4-done\n\
             wait_for s5; try 5 9090; try 5 9090; echo step-5-done\n\
             wait_for stop\n"
        ),
    )
    .unwrap();
    let bundle_dir = tmp.path().join("bundle");
    bundle(&bundle_dir, &root, &netns, &format!("{repo}:1"));
    let profiles = tmp.path().join("profiles");
    hand_profile(&profiles, &repo, &node, "", "protect");
    let policy = tmp.path().join("policy");
    std::fs::create_dir_all(&policy).unwrap();
    std::fs::write(
        policy.join("response.yaml"),
        format!(
            "apiVersion: palisade.dev/v1\nkind: ResponseRules\ndedup: 10m\nrules:\n\
             \x20 - name: record-denied\n    when: {{ rule: \"Connection not in profile\", workload: \"{workload}\" }}\n\
             \x20   actions: [capture]\n    capture: {{ duration: 120s, max_bytes: 1048576 }}\n\
             \x20 - name: cut-off\n    when: {{ rule: \"Connection not in profile\", workload: \"{workload}\", count: 3, within: 5m }}\n\
             \x20   actions: [alert, quarantine]\n\
             \x20 - name: ingress-refused\n    when: {{ rule: \"Palisade firewall refused connection\", workload: \"{workload}\" }}\n\
             \x20   actions: [alert]\n\
             \x20 - name: end-it\n    when: {{ rule: \"Connection not in profile\", workload: \"{workload}\", count: 5, within: 5m }}\n\
             \x20   actions: [kill]\n"
        ),
    )
    .unwrap();
    let captures = tmp.path().join("pcap");
    let alerts_file = tmp.path().join("alerts.jsonl");
    let id = format!("{tag}-web");
    let mut guard = Guard {
        child: None,
        daemons: Vec::new(),
        cleanup: vec![vec!["runc".into(), "delete".into(), "--force".into(), id.clone()]],
    };
    let mut agent = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(["runtime", "agent", "--source", "ebpf", "--containers-only", "--enforce", "--enforce-network"])
        .arg("--profiles")
        .arg(&profiles)
        .arg("--response-bundle")
        .arg(&policy)
        .arg("--capture-dir")
        .arg(&captures)
        .arg("--output")
        .arg(format!("file:{}", alerts_file.display()))
        .args(["--metrics-addr", "127.0.0.1:0"])
        .env("PALISADE_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = stderr_lines(&mut agent);
    guard.child = Some(agent);
    let mut log = Vec::new();
    assert!(wait_for(&lines, "runtime sensor started", &mut log).is_some(), "agent:\n{}", log.join("\n"));
    assert!(log.iter().any(|l| l.contains("response: 4 rules")), "{}", log.join("\n"));
    let metrics_addr = log
        .iter()
        .find_map(|l| l.split("metrics on http://").nth(1))
        .map(|s| s.trim_end_matches("/metrics").to_string())
        .expect("the metrics address in the log");
    let out_path = tmp.path().join("container.out");
    let out_file = std::fs::File::create(&out_path).unwrap();
    let container = Command::new("runc")
        .args(["run", &id])
        .current_dir(&bundle_dir)
        .stdin(Stdio::null())
        .stdout(out_file.try_clone().unwrap())
        .stderr(out_file)
        .spawn()
        .unwrap();
    guard.daemons.push(container);
    let needle = "firewall in Protect mode, 1 rules";
    assert!(wait_for(&lines, needle, &mut log).is_some(), "no {needle:?}:\n{}", log.join("\n"));
    // the agent's response lines first: a long log is cut in the middle by the test runner's report
    let ctx = |log: &[String]| {
        let responses: Vec<&str> =
            log.iter().map(String::as_str).filter(|l| l.contains("response") || l.contains("WARN")).collect();
        format!(
            "agent's response lines and warnings:\n{}\nalerts:\n{}\nagent:\n{}",
            responses.join("\n"),
            std::fs::read_to_string(&alerts_file).unwrap_or_default(),
            log.join("\n")
        )
    };

    // 1. a denied connection: refused by the firewall, alerted, and the capture starts
    std::fs::write(root.join("go"), "").unwrap();
    let out = wait_output(&out_path, "step-1-done", &|| ctx(&log));
    assert!(out.contains("step-1-port-8080-ok") && out.contains("step-1-port-9090-refused"), "{out}");
    let line = wait_for(&lines, "response: capturing", &mut log);
    assert!(line.is_some(), "no capture started; {}", ctx(&log));

    // an ingress connection the firewall refuses (no process sees it): read from the firewall's
    // violations set, alerted, and a trigger too
    let e = lab::exchange(&lab.pod_ns(1), lab.pod_addr(0), 7777).unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::ConnectionRefused, "{e}");
    let line = wait_for(&lines, "response ingress-refused: alert of", &mut log);
    assert!(line.is_some(), "the ingress refusal reached no response rule; {}", ctx(&log));

    // 2. two more: the third in the window quarantines
    std::fs::write(root.join("s2"), "").unwrap();
    let out = wait_output(&out_path, "step-2-done", &|| ctx(&log));
    assert!(out.contains("step-2-port-8080-ok"), "{out}");
    assert_eq!(out.matches("step-2-port-9090-refused").count(), 2, "{out}");
    let line = wait_for(&lines, "response: quarantined", &mut log);
    assert!(line.is_some(), "no quarantine; {}", ctx(&log));
    assert!(nft_tables(&netns).contains("table inet palisade_quarantine"), "{}", nft_tables(&netns));

    // the neighbour still reaches the node, and no longer reaches the quarantined pod (its SYNs are
    // dropped there: a timeout, where an open pod answers with a reset at once)
    lab::exchange(&lab.pod_ns(1), lab.node_addr(), 8080).expect("the neighbour lost the node");
    for _ in 0..2 {
        let e = lab::exchange(&lab.pod_ns(1), lab.pod_addr(0), 7777).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::TimedOut, "the quarantined pod answered: {e}");
    }

    // 3. quarantined: the allowed connection fails too
    std::fs::write(root.join("s3"), "").unwrap();
    let out = wait_output(&out_path, "step-3-done", &|| ctx(&log));
    assert!(out.contains("step-3-port-8080-refused"), "the quarantine let traffic through:\n{out}");

    // 4. released by command: traffic flows again
    let state = Command::new("runc").args(["state", &id]).output().unwrap();
    let pid = serde_json::from_slice::<Value>(&state.stdout).unwrap()["pid"].as_u64().unwrap();
    let released = palisade(&["network", "release", "--pid", &pid.to_string()]);
    let said =
        String::from_utf8_lossy(&released.stdout).into_owned() + &String::from_utf8_lossy(&released.stderr);
    assert!(released.status.success(), "{said}");
    eprintln!("release: {said}");
    std::fs::write(root.join("s4"), "").unwrap();
    let out = wait_output(&out_path, "step-4-done", &|| ctx(&log));
    assert!(out.contains("step-4-port-8080-ok"), "still cut off after the release:\n{out}");
    lab::exchange(&lab.pod_ns(1), lab.node_addr(), 8080).expect("the neighbour lost the node");

    // 5. two more denials (five in the window): the container is killed (its init, so all of it)
    std::fs::write(root.join("s5"), "").unwrap();
    let line = wait_for(&lines, "response: killed", &mut log);
    assert!(line.is_some(), "no kill; {}", ctx(&log));
    let mut runc_run = guard.daemons.pop().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while runc_run.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "the container still runs after the kill; {}", ctx(&log));
        std::thread::sleep(Duration::from_millis(100));
    }
    guard.daemons.push(runc_run);
    assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists(), "its init {pid} still runs");

    // counters
    let metrics = http_get(&metrics_addr, "/metrics");
    for m in [
        "palisade_runtime_response_triggers_total",
        "palisade_runtime_response_actions_total{rule=\"record-denied\",action=\"capture\",result=\"ok\"} 1",
        "palisade_runtime_response_actions_total{rule=\"record-denied\",action=\"capture\",result=\"deduplicated\"} 4",
        "palisade_runtime_response_actions_total{rule=\"cut-off\",action=\"quarantine\",result=\"ok\"} 1",
        "palisade_runtime_response_actions_total{rule=\"end-it\",action=\"kill\",result=\"ok\"} 1",
        "palisade_runtime_response_captures 1",
    ] {
        assert!(metrics.contains(m), "{m} not in /metrics:\n{metrics}");
    }

    // a clean stop ends the capture with its files complete
    let status = stop_agent(&mut guard, Duration::from_secs(60));
    drain(&lines, &mut log, Duration::from_millis(300));
    assert!(status.success(), "{}", log.join("\n"));
    // the alerts: five denials, one response alert
    let alerts: Vec<Value> = std::fs::read_to_string(&alerts_file)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let denied = alerts.iter().filter(|a| a["rule"] == "Connection not in profile").count();
    assert_eq!(denied, 5, "{}", ctx(&log));
    let response: Vec<&Value> = alerts.iter().filter(|a| a["rule"] == "Response cut-off").collect();
    assert_eq!(response.len(), 1, "{}", ctx(&log));
    let f = &response[0]["output_fields"];
    assert_eq!((f["workload"].as_str(), f["count"].as_u64()), (Some(workload.as_str()), Some(3)), "{f}");
    assert_eq!(f["container.id"], id.chars().take(12).collect::<String>().as_str(), "{f}");
    let refused: Vec<&Value> =
        alerts.iter().filter(|a| a["rule"] == "Palisade firewall refused connection").collect();
    assert_eq!(refused.len(), 1, "{}", ctx(&log));
    let f = &refused[0]["output_fields"];
    assert_eq!(f["fd.name"], format!("ingress tcp from {} to port 7777", lab.pod_addr(1)).as_str(), "{f}");
    assert_eq!(f["container.id"], id.chars().take(12).collect::<String>().as_str(), "{f}");
    assert_eq!(alerts.iter().filter(|a| a["rule"] == "Response ingress-refused").count(), 1);
    let pcaps: Vec<PathBuf> = std::fs::read_dir(&captures)
        .map(|d| {
            d.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "pcap")).collect()
        })
        .unwrap_or_default();
    assert!(!pcaps.is_empty(), "no pcap in {}; {}", captures.display(), log.join("\n"));
    let mut read = String::new();
    for p in &pcaps {
        let out = Command::new("tcpdump").args(["-nn", "-r"]).arg(p).output().unwrap();
        assert!(out.status.success(), "tcpdump -r {}: {}", p.display(), String::from_utf8_lossy(&out.stderr));
        read.push_str(&String::from_utf8_lossy(&out.stdout));
    }
    eprintln!("capture ({} files):\n{read}", pcaps.len());
    assert!(read.contains(&format!("{node}.8080")), "the allowed connection is not in the capture:\n{read}");
    assert!(
        read.contains(&format!("{}.7777", lab.pod_addr(0))),
        "the neighbour's attempts are not in the capture:\n{read}"
    );
    drop(guard);
}

/// L7 rules in the profile: a container whose profile (protect mode) allows HTTP paths `/api/*` only, in
/// its `spec.l7`, and no `--l7-policy`: the agent starts an inspector from the profile; a request for an
/// allowed path gets `200 OK`, one for `/admin` is dropped (the connection stalls) and alerted.
#[test]
fn agent_enforces_the_l7_rules_of_a_profile() {
    if let Some(why) = missing() {
        eprintln!("SKIP: {why}");
        return;
    }
    if !which("iptables") {
        eprintln!("SKIP: iptables not installed");
        return;
    }
    let net = 201 + ((std::process::id() + 37) % 50) as u8;
    let Some(lab) = Lab::new_in("nepl7", 1, net) else { return };
    let node = lab.node_addr().to_string();
    http_server(&lab.node_ns(), 8080);
    let netns = lab.pods[0].clone();
    let tmp = tempfile::tempdir().unwrap();
    let tag = format!("palpl7{}", std::process::id());
    let repo = format!("palisade.test/{tag}");
    let workload = format!("palisade-test/Image/{repo}");
    let root = tmp.path().join("root");
    applet_rootfs(
        &root,
        &["proc", "sys", "dev", "tmp", "app"],
        &["sh", "cat", "nc", "sleep", "timeout", "printf"],
    );
    std::fs::write(
        root.join("app/run.sh"),
        format!(
            "req() {{ r=$(printf \"GET $1 HTTP/1.1\\r\\nHost: shop\\r\\nContent-Length: 0\\r\\n\\r\\n\" | timeout 8 nc -w 5 {node} 8080 2>/dev/null)\n\
               case \"$r\" in *\"200 OK\"*) echo \"path $1 ok\";; *) echo \"path $1 blocked\";; esac; }}\n\
             while [ ! -e /go ]; do sleep 0.1; done\n\
             req /api/orders; req /admin; req /api/items; echo requests-done\n\
             while [ ! -e /stop ]; do sleep 0.1; done\n"
        ),
    )
    .unwrap();
    let bundle_dir = tmp.path().join("bundle");
    bundle(&bundle_dir, &root, &netns, &format!("{repo}:1"));
    let profiles = tmp.path().join("profiles");
    hand_profile(
        &profiles,
        &repo,
        &node,
        "  l7:\n    ports: {\"8080\": [http]}\n    http:\n      methods: [GET]\n      paths: [\"/api/*\"]\n",
        "protect",
    );
    let alerts_file = tmp.path().join("alerts.jsonl");
    let id = format!("{tag}-web");
    let mut guard = Guard {
        child: None,
        daemons: Vec::new(),
        cleanup: vec![vec!["runc".into(), "delete".into(), "--force".into(), id.clone()]],
    };
    let mut agent = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(["runtime", "agent", "--source", "ebpf", "--containers-only", "--enforce", "--enforce-network"])
        .arg("--profiles")
        .arg(&profiles)
        .arg("--output")
        .arg(format!("file:{}", alerts_file.display()))
        .env("PALISADE_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = stderr_lines(&mut agent);
    guard.child = Some(agent);
    let mut log = Vec::new();
    assert!(wait_for(&lines, "runtime sensor started", &mut log).is_some(), "agent:\n{}", log.join("\n"));
    let out_path = tmp.path().join("container.out");
    let out_file = std::fs::File::create(&out_path).unwrap();
    let container = Command::new("runc")
        .args(["run", &id])
        .current_dir(&bundle_dir)
        .stdin(Stdio::null())
        .stdout(out_file.try_clone().unwrap())
        .stderr(out_file)
        .spawn()
        .unwrap();
    guard.daemons.push(container);
    let needle =
        format!("L7: container {id}: inspector started for workload {workload} (rules from its profile");
    assert!(wait_for(&lines, &needle, &mut log).is_some(), "no {needle:?}:\n{}", log.join("\n"));
    std::fs::write(root.join("go"), "").unwrap();
    let ctx = |log: &[String]| {
        format!(
            "alerts:\n{}\nrules:\n{}\nagent:\n{}",
            std::fs::read_to_string(&alerts_file).unwrap_or_default(),
            l7_rules(&netns),
            log.join("\n")
        )
    };
    let out = wait_output(&out_path, "requests-done", &|| ctx(&log));
    assert!(out.contains("path /api/orders ok"), "an allowed path was refused:\n{out}\n{}", ctx(&log));
    assert!(out.contains("path /admin blocked"), "a forbidden path went through:\n{out}\n{}", ctx(&log));
    assert!(out.contains("path /api/items ok"), "{out}\n{}", ctx(&log));
    let status = stop_agent(&mut guard, Duration::from_secs(60));
    drain(&lines, &mut log, Duration::from_millis(300));
    assert!(status.success(), "{}", log.join("\n"));
    let alerts: Vec<Value> = std::fs::read_to_string(&alerts_file)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|a: &Value| a["rule"] == "L7 HTTP request not allowed")
        .collect();
    assert_eq!(alerts.len(), 1, "{}", ctx(&log));
    let f = &alerts[0]["output_fields"];
    assert_eq!((f["http.path"].as_str(), f["action"].as_str()), (Some("/admin"), Some("drop")), "{f}");
    assert_eq!(f["palisade.workload"], workload.as_str(), "{f}");
    assert_eq!(l7_rules(&netns), "", "a clean stop left queue rules");
    std::fs::write(root.join("stop"), "").unwrap();
    drop(guard);
}
