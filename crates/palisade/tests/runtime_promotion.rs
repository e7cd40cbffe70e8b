//! Automatic promotion discover → monitor → protect on the real binary, the real kernel and a real runc
//! container (`runtime agent --enforce --profiles DIR`, the mode state file's
//! `promotion: {after: 3s, to: monitor, protectAfter: 3s}`): the container repeats the same few programs;
//! the agent learns them, promotes the workload to monitor once it learned nothing new for 3 s, and to
//! protect once it raised no violation for 3 s more, recording both in the state file; then the container
//! runs a program it never ran before, which is refused before it runs and alerted with the container id.
//! Needs root, a BTF kernel, runc and busybox: skips with a message otherwise.

mod support;

use serde_json::Value;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::containers::*;

#[test]
fn quiet_workload_is_promoted_to_monitor_then_protect() {
    if let Some(why) = missing() {
        eprintln!("skipped: {why}");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let tag = format!("palpromo{}", std::process::id());
    let repo = format!("palisade.test/{tag}");
    let workload = format!("Image/{repo}");
    let root = tmp.path().join("root");
    applet_rootfs(&root, &["proc", "sys", "dev", "etc/app", "tmp"], &["sh", "cat", "sleep", "uname"]);
    std::fs::write(root.join("etc/app/app.conf"), "listen = 1\n").unwrap();
    let bundle = tmp.path().join("bundle");
    write_bundle(
        &bundle,
        &root,
        "while [ ! -e /go ]; do cat /etc/app/app.conf >/dev/null; sleep 0.2; done\n\
         /bin/uname -a >/dev/null && echo uname-ran || echo uname-refused\necho done\n",
    );
    let path = bundle.join("config.json");
    let mut spec: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    spec["annotations"] = serde_json::json!({ "io.containerd.image.name": format!("{repo}:1") });
    spec["process"]["env"] = serde_json::json!(["PATH=/bin"]);
    std::fs::write(&path, serde_json::to_vec_pretty(&spec).unwrap()).unwrap();

    let profiles = tmp.path().join("profiles");
    std::fs::create_dir_all(&profiles).unwrap();
    let state = profiles.join("modes.yaml");
    std::fs::write(
        &state,
        "apiVersion: palisade.io/v1alpha1\nkind: PalisadeModes\n\
         promotion: {after: 3s, to: monitor, protectAfter: 3s}\n",
    )
    .unwrap();
    let alerts_file = tmp.path().join("alerts.jsonl");
    let id = format!("{tag}-c");
    let mut guard = Guard {
        child: None,
        daemons: Vec::new(),
        cleanup: vec![vec!["runc".into(), "delete".into(), "--force".into(), id.clone()]],
    };
    let mut log = Vec::new();
    let lines = start_enforcing_agent(&profiles, &alerts_file, &mut guard, &mut log);
    let run = Command::new("runc")
        .args(["run", &id])
        .current_dir(&bundle)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    guard.daemons.push(run);
    let started = Instant::now();
    let monitor = wait_for(&lines, &format!("{workload} promoted to Monitor"), &mut log);
    assert!(monitor.is_some(), "never promoted to monitor:\n{}", log.join("\n"));
    let protect = wait_for(&lines, &format!("{workload} promoted to Protect"), &mut log);
    assert!(protect.is_some(), "never promoted to protect:\n{}", log.join("\n"));
    let took = started.elapsed();
    assert!(took >= Duration::from_secs(6), "promoted before two quiet periods: {took:?}");
    let recorded = std::fs::read_to_string(&state).unwrap();
    assert!(recorded.contains(&format!("\"{workload}\": protect")), "state file:\n{recorded}");
    let learned = std::fs::read_to_string(profiles.join(format!("image-{}.yaml", repo.replace('/', "-"))))
        .unwrap_or_else(|e| panic!("no learned profile ({e}):\n{}", log.join("\n")));
    assert!(learned.contains("name: \"cat\"") && !learned.contains("path: \"/bin/uname\""), "{learned}");

    // protect now: the program never seen is refused before it runs
    std::fs::write(root.join("go"), "").unwrap();
    let mut run = guard.daemons.pop().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while run.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "the container did not finish:\n{}", log.join("\n"));
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = run.wait_with_output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    stop_agent(&mut guard, Duration::from_secs(30));
    drain(&lines, &mut log, Duration::from_millis(200));
    let alerts: Vec<Value> = std::fs::read_to_string(&alerts_file)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad alert line {l}: {e}")))
        .filter(|a: &Value| a["output_fields"]["container.id"].as_str().is_some_and(|c| id.starts_with(c)))
        .collect();
    let ctx = || format!("container output:\n{text}\nalerts:\n{alerts:#?}\nagent:\n{}", log.join("\n"));
    assert!(text.contains("uname-refused") && text.contains("done"), "{}", ctx());
    assert!(
        alerts
            .iter()
            .any(|a| a["rule"] == "Palisade exec denied" && a["output_fields"]["fd.name"] == "/bin/uname"),
        "{}",
        ctx()
    );
    // nothing was alerted before the new program: the workload was quiet in monitor mode. Execs in the
    // container's first moments, before the agent has marked its mounts, are judged only after they ran
    // ("exec seen after it ran": a known gap of the entrypoint check, docs/runtime.md); under load the
    // container's shell can land there and be flagged by the global no-shell rule. Those are not the
    // workload's behaviour in monitor mode, so they are left out of this check.
    let late = |a: &Value| {
        a["output_fields"]["palisade.action"].as_str().is_some_and(|s| s.contains("after it ran"))
    };
    assert!(alerts.iter().filter(|a| !late(a)).all(|a| a.to_string().contains("uname")), "{}", ctx());
}
