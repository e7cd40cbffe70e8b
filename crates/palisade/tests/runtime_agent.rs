//! The runtime agent on the real binary, the real kernel and real containers: `palisade runtime agent`
//! with its eBPF sensor records what happens in a runc container (busybox on an overlay root, so a binary
//! copied in lives in the upper layer) and a containerd container, and a host process; each event must be
//! attributed to the right container id (or to the host). Also `/metrics`, `/healthz` and a clean SIGTERM
//! shutdown that detaches the programs. Needs root, a BTF kernel, runc, containerd and busybox: skips with
//! a message otherwise.

mod support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::containers::*;

fn container_id(e: &Value) -> Option<&str> {
    e.pointer("/container/id").and_then(Value::as_str)
}

#[test]
fn agent_attributes_container_and_host_events() {
    if let Some(why) = missing() {
        eprintln!("skipped: {why}");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let tag = format!("pal{}", std::process::id());
    let lower = tmp.path().join("lower");
    make_rootfs(&lower);

    // runc container on an overlay root: files written in it land in the upper layer.
    let (upper, work, merged) =
        (tmp.path().join("upper"), tmp.path().join("work"), tmp.path().join("merged"));
    for d in [&upper, &work, &merged] {
        std::fs::create_dir_all(d).unwrap();
    }
    let opts =
        format!("lowerdir={},upperdir={},workdir={}", lower.display(), upper.display(), work.display());
    let mounted =
        Command::new("mount").args(["-t", "overlay", "overlay", "-o", &opts]).arg(&merged).status().unwrap();
    assert!(mounted.success(), "overlay mount");
    let mut guard = Guard {
        child: None,
        daemons: Vec::new(),
        cleanup: vec![vec!["umount".into(), "-l".into(), merged.display().to_string()]],
    };
    let runc_id = format!("{tag}-runc");
    guard.cleanup.push(vec!["runc".into(), "delete".into(), "--force".into(), runc_id.clone()]);
    let script = "cat /etc/shadow >/dev/null; echo x > /etc/palisade-test; echo y > /usr/bin/palisade-test; \
                  cp /bin/busybox /tmp/dropped && /tmp/dropped echo drift; nc -w 1 127.0.0.1 4444 </dev/null; \
                  cat /var/run/secrets/kubernetes.io/serviceaccount/token >/dev/null; true";
    let bundle = tmp.path().join("bundle");
    write_bundle(&bundle, &merged, script);
    let quiet_id = format!("{tag}-quiet");
    guard.cleanup.push(vec!["runc".into(), "delete".into(), "--force".into(), quiet_id.clone()]);
    let quiet_root = tmp.path().join("quiet-root");
    make_rootfs(&quiet_root);
    let quiet_bundle = tmp.path().join("quiet");
    write_bundle(&quiet_bundle, &quiet_root, "sleep 1");

    // the agent, with the Falco rulesets when the corpus is present
    let events = tmp.path().join("events.jsonl");
    let alerts = tmp.path().join("alerts.jsonl");
    let ctr_state = tmp.path().join("containerd");
    let rules = falco_rules(tmp.path());
    let mut agent = Command::new(env!("CARGO_BIN_EXE_palisade"));
    agent
        .args(["runtime", "agent", "--source", "ebpf", "--metrics-addr", "127.0.0.1:0", "--record"])
        .arg(&events)
        .arg("--runtime-root")
        .arg(ctr_state.join("state"));
    for r in &rules {
        agent.arg("--rules").arg(r);
    }
    if !rules.is_empty() {
        agent.arg("--palisade-rules").arg("--output").arg(format!("file:{}", alerts.display()));
    }
    let mut agent = agent.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let lines = stderr_lines(&mut agent);
    guard.child = Some(agent);
    let mut log = Vec::new();
    let metrics_line = wait_for(&lines, "metrics on http://", &mut log);
    let started = wait_for(&lines, "runtime sensor started", &mut log);
    assert!(started.is_some(), "agent did not start:\n{}", log.join("\n"));
    let addr =
        metrics_line.unwrap().split("http://").nth(1).unwrap().trim_end_matches("/metrics").to_string();
    assert!(started.unwrap().contains("source ebpf"));

    // a host process: read a file only this test knows
    let marker = tmp.path().join(format!("{tag}-host-marker"));
    std::fs::write(&marker, "x").unwrap();
    let host = Command::new("cat").arg(&marker).output().unwrap();
    assert!(host.status.success());

    let run = |id: &str, bundle: &Path| {
        let out = Command::new("runc").args(["run", id]).current_dir(bundle).output().unwrap();
        assert!(out.status.success(), "runc run {id}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let out = run(&runc_id, &bundle);
    assert!(out.contains("applet not found") || out.is_empty() || out.contains("drift"), "{out}");
    run(&quiet_id, &quiet_bundle);

    // containerd, when installed: the same shell, attributed through containerd's task directory
    let ctr_id = format!("{tag}-ctr");
    let ctr_ran =
        which("containerd") && which("ctr") && run_containerd(&ctr_state, &lower, &ctr_id, &mut guard);

    // health and metrics while running
    let health = http_get(&addr, "/healthz");
    assert!(health.starts_with("HTTP/1.1 200") && health.ends_with("ok\n"), "{health}");
    std::thread::sleep(Duration::from_millis(1500));
    let metrics = http_get(&addr, "/metrics");
    for name in [
        "palisade_runtime_events_total{type=\"execve\"}",
        "palisade_runtime_drops_total{source=\"kernel\"}",
        "palisade_runtime_queue_depth",
    ] {
        assert!(metrics.contains(name), "{name} missing from:\n{metrics}");
    }

    // SIGTERM: clean exit, programs detached
    let status = stop_agent(&mut guard, Duration::from_secs(30));
    drain(&lines, &mut log, Duration::from_millis(200));
    assert!(status.success(), "agent exit {status}:\n{}", log.join("\n"));
    assert!(log.iter().any(|l| l.contains("runtime sensor stopped")), "{}", log.join("\n"));
    let progs = Command::new("bpftool").args(["prog", "show"]).output();
    if let Ok(p) = progs {
        let text = String::from_utf8_lossy(&p.stdout);
        // other agents may run on a shared machine: ours were the ones with the recorded pid's maps; at
        // least check that the sensor's exec program does not outlive every agent
        if !Command::new("pgrep").args(["-f", "palisade runtime"]).output().is_ok_and(|o| o.status.success())
        {
            assert!(!text.contains("name on_exec"), "eBPF programs still attached after SIGTERM");
        }
    }

    // what was recorded
    let text = std::fs::read_to_string(&events).unwrap();
    let mut ours: Vec<Value> = Vec::new();
    let mut host_seen = None;
    for line in text.lines() {
        let e: Value =
            serde_json::from_str(line).unwrap_or_else(|err| panic!("bad event line {line}: {err}"));
        if line.contains(&tag) && e.pointer("/kind/path").and_then(Value::as_str) == marker.to_str() {
            host_seen = Some(e.clone());
        }
        if container_id(&e).is_some_and(|id| id.starts_with(&tag)) {
            ours.push(e);
        }
    }
    let host_seen = host_seen.expect("the host process's open of the marker file was not recorded");
    assert_eq!(host_seen["container"], Value::Null, "host process attributed to a container: {host_seen}");
    assert_eq!(host_seen["process"]["comm"], "cat");

    let find = |id: &str, what: &str, pred: &dyn Fn(&Value) -> bool| {
        ours.iter().find(|e| container_id(e) == Some(id) && pred(e)).cloned().unwrap_or_else(|| {
            let seen: Vec<String> = ours
                .iter()
                .filter(|e| container_id(e) == Some(id))
                .map(|e| format!("{} {} {}", e["kind"], e["process"]["comm"], e["result"]))
                .collect();
            let diag: Vec<String> = text
                .lines()
                .filter(|l| {
                    l.contains("palisade-test") || l.contains("pal-quiet") || l.contains("runc:[2:INIT]")
                })
                .take(6)
                .map(|l| l.chars().take(500).collect())
                .collect();
            panic!(
                "{what} in {id} not recorded; events naming the scenario:\n{}\nits events:\n{}\nagent:\n{}",
                diag.join("\n"),
                seen.join("\n"),
                log.join("\n")
            )
        })
    };
    let kind = |e: &Value| e["kind"]["type"].as_str().unwrap_or_default().to_string();
    let path = |e: &Value| e["kind"]["path"].as_str().unwrap_or_default().to_string();
    let write = |e: &Value| e["kind"]["flags"].as_u64().unwrap_or(0) & 3 != 0;

    let shell = find(&runc_id, "shell exec", &|e| kind(e) == "execve" && e["process"]["comm"] == "sh");
    assert_eq!(shell["container"]["runtime"], "runc");
    assert_eq!(shell["process"]["args"][0], "sh");
    assert!(shell["ancestors"].as_array().is_some_and(|a| !a.is_empty()), "{shell}");
    find(&runc_id, "read of /etc/shadow", &|e| {
        kind(e) == "open" && path(e) == "/etc/shadow" && !write(e) && e["result"].as_i64() >= Some(0)
    });
    find(&runc_id, "write below /etc", &|e| kind(e) == "open" && path(e) == "/etc/palisade-test" && write(e));
    find(&runc_id, "write below /usr/bin", &|e| {
        kind(e) == "open" && path(e) == "/usr/bin/palisade-test" && write(e)
    });
    let drift = find(&runc_id, "exec of the copied binary", &|e| {
        kind(e) == "execve" && e["process"]["exe"] == "/tmp/dropped"
    });
    assert_eq!(drift["process"]["exe_from_upper_layer"], true, "{drift}");
    assert_eq!(
        shell["process"]["exe_from_upper_layer"], false,
        "busybox from the image is not drift: {shell}"
    );
    let nc = find(&runc_id, "nc connect", &|e| kind(e) == "connect");
    assert_eq!(
        (nc["kind"]["remote_addr"].as_str(), nc["kind"]["remote_port"].as_u64()),
        (Some("127.0.0.1"), Some(4444))
    );
    assert_eq!(nc["kind"]["protocol"], "tcp");
    find(&runc_id, "read of the service-account token", &|e| {
        kind(e) == "open" && path(e) == "/var/run/secrets/kubernetes.io/serviceaccount/token"
    });
    find(&quiet_id, "quiet container's shell", &|e| kind(e) == "execve");
    assert!(
        !ours.iter().any(|e| container_id(e) == Some(quiet_id.as_str())
            && kind(e) == "open"
            && path(e) == "/etc/shadow"),
        "events of one container attributed to another"
    );
    if ctr_ran {
        let e = find(&ctr_id, "containerd container's read of /etc/shadow", &|e| {
            kind(e) == "open" && path(e) == "/etc/shadow"
        });
        assert_eq!(e["container"]["runtime"], "containerd");
    } else {
        eprintln!("containerd part skipped: containerd/ctr not installed or did not start");
    }
    eprintln!("{} events recorded, {} from the test's containers", text.lines().count(), ours.len());

    if rules.is_empty() {
        eprintln!("alert part skipped: no Falco rules corpus at {FALCO_RULES}");
        return;
    }
    let alerts: Vec<Value> = std::fs::read_to_string(&alerts)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad alert line {l}: {e}")))
        .collect();
    // Falco's container.id is the id's first 12 characters
    let short = |id: &str| id.chars().take(12).collect::<String>();
    let of = |a: &Value, id: &str| a["output_fields"]["container.id"].as_str() == Some(short(id).as_str());
    let alert_in = |id: &str, rule: &str| alerts.iter().any(|a| a["rule"] == rule && of(a, id));
    let fired = |id: &str| -> Vec<String> {
        alerts
            .iter()
            .filter(|a| of(a, id))
            .map(|a| a["rule"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    // stable and Palisade rules (sandbox rules are audit rules: they fire on any container start)
    let stable = |a: &Value| {
        a["tags"].as_array().is_some_and(|t| t.iter().any(|t| t == "maturity_stable" || t == "palisade"))
    };
    for rule in [
        "Read sensitive file untrusted",
        "Write below etc",
        "Write below binary dir",
        "Drop and execute new binary in container",
        "Read Kubernetes service account token",
    ] {
        assert!(
            alert_in(&runc_id, rule),
            "no '{rule}' alert for {runc_id}; its alerts: {:?}; {} alerts in all, e.g. {:?}",
            fired(&runc_id),
            alerts.len(),
            alerts.first()
        );
    }
    let quiet: Vec<&Value> = alerts.iter().filter(|a| of(a, &quiet_id) && stable(a)).collect();
    assert!(quiet.is_empty(), "the quiet container raised {quiet:?}");
    if ctr_ran {
        assert!(alert_in(&ctr_id, "Read sensitive file untrusted"), "containerd: {:?}", fired(&ctr_id));
    }
    eprintln!("{} alerts; {}: {:?}", alerts.len(), runc_id, fired(&runc_id));
}

const FALCO_RULES: &str = "/work/shared/data/runtime/falco-rules.tar.gz";

/// The stable, incubating and sandbox rulesets of the Falco rules corpus, unpacked under `dir` (the corpus
/// is read where it is, never copied into the repository). Empty when the corpus is absent.
fn falco_rules(dir: &Path) -> Vec<PathBuf> {
    let corpus = std::env::var("PALISADE_FALCO_RULES").unwrap_or_else(|_| FALCO_RULES.to_string());
    if !Path::new(&corpus).is_file() {
        return Vec::new();
    }
    let out = dir.join("falco-rules");
    std::fs::create_dir_all(&out).unwrap();
    let ok =
        Command::new("tar").arg("-xzf").arg(&corpus).arg("-C").arg(&out).status().is_ok_and(|s| s.success());
    if !ok {
        return Vec::new();
    }
    ["falco_rules.yaml", "falco-incubating_rules.yaml", "falco-sandbox_rules.yaml"]
        .iter()
        .map(|f| out.join("falco-rules/rules").join(f))
        .filter(|p| p.is_file())
        .collect()
}

/// Start containerd under `state` and run `cat /etc/shadow` in container `id` on `rootfs`. `false` when
/// containerd is not usable here (the caller reports a skip).
fn run_containerd(state: &Path, rootfs: &Path, id: &str, guard: &mut Guard) -> bool {
    let sock = state.join("containerd.sock");
    std::fs::create_dir_all(state).unwrap();
    let daemon = Command::new("containerd")
        .arg("--root")
        .arg(state.join("root"))
        .arg("--state")
        .arg(state.join("state"))
        .arg("--address")
        .arg(&sock)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let Ok(daemon) = daemon else { return false };
    guard.daemons.push(daemon);
    let deadline = Instant::now() + Duration::from_secs(20);
    while !sock.exists() {
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let ctr = |args: &[&str]| {
        Command::new("ctr")
            .arg("--address")
            .arg(&sock)
            .args(["-n", "palisade-test"])
            .args(args)
            .output()
            .unwrap()
    };
    let out = ctr(&[
        "run",
        "--rm",
        "--env",
        "PATH=/bin",
        "--rootfs",
        rootfs.to_str().unwrap(),
        id,
        "/bin/sh",
        "-c",
        "cat /etc/shadow >/dev/null",
    ]);
    if !out.status.success() {
        eprintln!("ctr run failed: {} (rootfs {})", String::from_utf8_lossy(&out.stderr), rootfs.display());
        return false;
    }
    true
}

/// Ten containers that exit at once (`sh -c 'exec cat /etc/shadow'`, then gone: runc removes their state and cgroup
/// right away): every one's exec and open are attributed to its own id, with the image, container and pod
/// names of its bundle's CRI annotations, even when the agent's reader
/// reaches their records after the state is gone (the state watcher learnt them when runc wrote it).
#[test]
fn agent_attributes_containers_that_exit_immediately() {
    if let Some(why) = missing() {
        eprintln!("skipped: {why}");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let tag = format!("pals{}", std::process::id());
    let root = tmp.path().join("root");
    make_rootfs(&root);
    let bundle = tmp.path().join("bundle");
    write_bundle(&bundle, &root, "exec cat /etc/shadow");
    // the annotations a CRI runtime (containerd's CRI plugin) writes into the bundle: image and pod
    let config = bundle.join("config.json");
    let mut spec: Value = serde_json::from_slice(&std::fs::read(&config).unwrap()).unwrap();
    spec["annotations"] = serde_json::json!({
        "io.kubernetes.cri.image-name": "registry.example/shop/web:1.2",
        "io.kubernetes.cri.container-name": "web",
        "io.kubernetes.cri.sandbox-name": "web-0",
        "io.kubernetes.cri.sandbox-namespace": "shop"
    });
    std::fs::write(&config, serde_json::to_vec_pretty(&spec).unwrap()).unwrap();
    let events = tmp.path().join("events.jsonl");
    let mut guard = Guard { child: None, daemons: Vec::new(), cleanup: Vec::new() };
    let mut agent = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(["runtime", "agent", "--source", "ebpf", "--containers-only", "--record"])
        .arg(&events)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = stderr_lines(&mut agent);
    guard.child = Some(agent);
    let mut log = Vec::new();
    assert!(wait_for(&lines, "runtime sensor started", &mut log).is_some(), "{}", log.join("\n"));
    let ids: Vec<String> = (0..10).map(|i| format!("{tag}-{i}")).collect();
    for id in &ids {
        guard.cleanup.push(vec!["runc".into(), "delete".into(), "--force".into(), id.clone()]);
        let out = Command::new("runc").args(["run", id]).current_dir(&bundle).output().unwrap();
        assert!(out.status.success(), "runc run {id}: {}", String::from_utf8_lossy(&out.stderr));
    }
    stop_agent(&mut guard, Duration::from_secs(60));
    let text = std::fs::read_to_string(&events).unwrap();
    let recorded: Vec<Value> = text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    for id in &ids {
        let of = |e: &&Value| container_id(e) == Some(id.as_str());
        let exec = recorded
            .iter()
            .filter(of)
            .find(|e| e["kind"]["type"] == "execve" && e["process"]["args"][0] == "cat");
        let open = recorded.iter().filter(of).find(|e| e["kind"]["path"] == "/etc/shadow");
        assert!(
            exec.is_some() && open.is_some(),
            "{id}: exec {} open {}; events of the containers:\n{}",
            exec.is_some(),
            open.is_some(),
            recorded
                .iter()
                .map(|e| format!("{} {} {}", e["kind"]["type"], e["process"]["comm"], e["container"]))
                .collect::<Vec<_>>()
                .join("\n")
        );
        let container = &exec.unwrap()["container"];
        assert_eq!(container["runtime"], "runc");
        assert_eq!(container["image"], "registry.example/shop/web:1.2", "{container}");
        assert_eq!((&container["name"], &container["pod"]["name"]), (&"web".into(), &"web-0".into()));
        assert_eq!(open.unwrap()["container"]["image"], "registry.example/shop/web:1.2");
    }
}
