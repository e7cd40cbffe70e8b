//! Behavioural profiles on the real binary, the real kernel and a real runc container: the agent learns a
//! workload in discover mode (a busybox script that starts a listener, reads its config, calls the
//! listener with `nc` and sleeps), exports its profile; `palisade profile mode` switches the workload to
//! monitor; on a second run the script also runs `/bin/uname`, and the agent raises exactly that alert. The
//! recorded events then go through the CI commands: `profile test` finds the same single violation in
//! the second run and none in the first, and `profile learn` from the first run's events gives the
//! profile the agent learned live (`profile diff` exits 0). A third run whose pod is annotated
//! `palisade.io/mode: discover` is learned, not judged: the annotation wins over the state file. Needs
//! root, a BTF kernel, runc and busybox: skips with a message otherwise.

mod support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::containers::*;

const APPLETS: [&str; 7] = ["sh", "cat", "nc", "sleep", "uname", "echo", "true"];

/// A busybox root filesystem whose applets are hard links, so each program's executable path is its own
/// (`/bin/nc`, not `/bin/busybox`) whether or not the sensor reads `/proc` before the process exits.
fn rootfs(dir: &Path) {
    applet_rootfs(dir, &["proc", "sys", "dev", "etc/app", "tmp", "app"], &APPLETS);
    std::fs::write(dir.join("etc/app/app.conf"), "listen = 1\n").unwrap();
}

/// A bundle on the host network (the listener is reached on 127.0.0.1) with an image name, in pod
/// `palisade-test/demo-0` as the CRI annotations say it, with a `palisade.io/mode` pod annotation when
/// `mode` is given.
fn bundle(dir: &Path, root: &Path, command: &str, image: &str, mode: Option<&str>) {
    write_bundle(dir, root, "");
    let command: Vec<&str> = command.split(' ').collect();
    let path = dir.join("config.json");
    let mut spec: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    if let Some(ns) = spec.pointer_mut("/linux/namespaces").and_then(Value::as_array_mut) {
        ns.retain(|n| n["type"] != "network");
    }
    spec["annotations"] = serde_json::json!({
        "io.containerd.image.name": image,
        "io.kubernetes.cri.sandbox-name": "demo-0",
        "io.kubernetes.cri.sandbox-namespace": "palisade-test",
    });
    if let Some(m) = mode {
        spec["annotations"]["palisade.io/mode"] = m.into();
    }
    spec["process"]["env"] = serde_json::json!(["PATH=/bin"]);
    spec["process"]["args"] = serde_json::json!(command);
    std::fs::write(&path, serde_json::to_vec_pretty(&spec).unwrap()).unwrap();
}

fn palisade(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_palisade")).args(args).output().unwrap()
}

/// Run the agent with `args`, run container `id` from `bundle`, stop the agent; its stderr.
fn agent_run(args: &[String], id: &str, bundle: &Path) -> Vec<String> {
    let mut guard = Guard {
        child: None,
        daemons: Vec::new(),
        cleanup: vec![vec!["runc".into(), "delete".into(), "--force".into(), id.into()]],
    };
    let mut agent = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(["runtime", "agent", "--source", "ebpf", "--containers-only"])
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = stderr_lines(&mut agent);
    guard.child = Some(agent);
    let mut log = Vec::new();
    assert!(wait_for(&lines, "runtime sensor started", &mut log).is_some(), "agent:\n{}", log.join("\n"));
    let out = Command::new("runc").args(["run", id]).current_dir(bundle).output().unwrap();
    assert!(out.status.success(), "runc run {id}: {}", String::from_utf8_lossy(&out.stderr));
    std::thread::sleep(Duration::from_millis(1500));
    let status = stop_agent(&mut guard, Duration::from_secs(60));
    drain(&lines, &mut log, Duration::from_millis(300));
    assert!(status.success(), "agent exit {status}:\n{}", log.join("\n"));
    log
}

fn profile_file(dir: &Path, image_repo: &str) -> PathBuf {
    let name = format!("image-{}", image_repo.replace('/', "-"));
    dir.join(format!("{name}.yaml"))
}

#[test]
fn learn_a_container_then_monitor_it() {
    if let Some(why) = missing() {
        eprintln!("skipped: {why}");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let tag = format!("palprof{}", std::process::id());
    let port = 20_000 + std::process::id() % 20_000;
    let repo = format!("palisade.test/{tag}");
    let image = format!("{repo}:1");
    let workload = format!("palisade-test/Image/{repo}");
    let root = tmp.path().join("root");
    rootfs(&root);
    let script = format!(
        "nc -l -p {port} >/dev/null &\nsleep 1\ncat /etc/app/app.conf >/dev/null\n\
         echo hello | nc -w 1 127.0.0.1 {port}\nwait\n"
    );
    let profiles = tmp.path().join("profiles");
    let s = |p: &Path| p.display().to_string();

    // 1. learn: discover mode
    let learn_bundle = tmp.path().join("learn");
    std::fs::write(root.join("app/run.sh"), &script).unwrap();
    bundle(&learn_bundle, &root, "sh /app/run.sh", &image, None);
    let events1 = tmp.path().join("learn.jsonl");
    let log = agent_run(
        &[
            "--profiles".into(),
            s(&profiles),
            "--mode".into(),
            "discover".into(),
            "--record".into(),
            s(&events1),
        ],
        &format!("{tag}-learn"),
        &learn_bundle,
    );
    let file = profile_file(&profiles, &repo);
    let yaml = std::fs::read_to_string(&file)
        .unwrap_or_else(|e| panic!("no profile {} ({e}); agent:\n{}", file.display(), log.join("\n")));
    for expected in [
        "kind: PalisadeProfile".to_string(),
        "name: \"nc\"".into(),
        "name: \"cat\"".into(),
        "name: \"sleep\"".into(),
        "- path: \"/etc/app/app.conf\"".into(),
        "- peer: {cidr: \"127.0.0.1/32\"}".into(),
        format!("ports: [\"{port}\"]"),
        "# seen ".into(),
    ] {
        assert!(yaml.contains(&expected), "{expected:?} not in the learned profile:\n{yaml}");
    }
    assert!(!yaml.contains("uname"), "{yaml}");
    eprintln!("learned profile:\n{yaml}");

    // 2. switch the workload to monitor by command; the second run also runs `/bin/uname` (by its path:
    // busybox's shell runs some applets in a fork without exec, which no exec-based profile can see)
    let state = profiles.join("modes.yaml");
    let out = palisade(&["profile", "mode", "--state", &s(&state), "--workload", &workload, "monitor"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let monitor_bundle = tmp.path().join("monitor");
    std::fs::write(root.join("app/run.sh"), format!("{script}/bin/uname -a >/dev/null\n")).unwrap();
    bundle(&monitor_bundle, &root, "sh /app/run.sh", &image, None);
    let events2 = tmp.path().join("monitor.jsonl");
    let alerts_file = tmp.path().join("alerts.jsonl");
    let monitor_id = format!("{tag}-monitor");
    let log = agent_run(
        &[
            "--profiles".into(),
            s(&profiles),
            "--record".into(),
            s(&events2),
            "--output".into(),
            format!("file:{}", alerts_file.display()),
        ],
        &monitor_id,
        &monitor_bundle,
    );
    // keep the recorded runs for the replay fixtures when asked
    if let Ok(dir) = std::env::var("PALISADE_KEEP_PROFILE_EVENTS") {
        for (src, name) in [(&events1, "learn.jsonl"), (&events2, "monitor.jsonl")] {
            let text = std::fs::read_to_string(src).unwrap();
            let kept: Vec<&str> = text.lines().filter(|l| l.contains(&tag)).collect();
            std::fs::write(Path::new(&dir).join(name), kept.join("\n") + "\n").unwrap();
        }
    }
    let alerts: Vec<Value> = std::fs::read_to_string(&alerts_file)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad alert line {l}: {e}")))
        .filter(|a: &Value| a["output_fields"]["palisade.workload"] == workload.as_str())
        .collect();
    assert_eq!(
        alerts.len(),
        1,
        "expected exactly the uname alert, got {alerts:#?}\nagent:\n{}",
        log.join("\n")
    );
    let a = &alerts[0];
    assert_eq!(a["rule"], "Process not in profile");
    assert_eq!(a["priority"], "Warning");
    assert_eq!(a["output_fields"]["proc.exepath"], "/bin/uname");
    assert_eq!(a["output_fields"]["palisade.mode"], "monitor");
    assert_eq!(a["output_fields"]["container.id"], monitor_id.chars().take(12).collect::<String>().as_str());
    assert_eq!(a["source"], "palisade-profile");
    assert_eq!(
        (a["output_fields"]["k8s.ns.name"].as_str(), a["output_fields"]["k8s.pod.name"].as_str()),
        (Some("palisade-test"), Some("demo-0"))
    );
    let after = std::fs::read_to_string(&file).unwrap();
    assert!(!after.contains("uname"), "monitor mode must not learn:\n{after}");

    // 3. CI: replay the recorded runs against the profile
    let ours = |out: &std::process::Output| -> Vec<String> {
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.contains(&workload))
            .map(String::from)
            .collect()
    };
    let test2 = palisade(&["profile", "test", "--profile", &s(&file), "--events", &s(&events2)]);
    let lines = ours(&test2);
    assert_eq!(lines.len(), 1, "{lines:?}\n{}", String::from_utf8_lossy(&test2.stderr));
    assert!(lines[0].contains("Process not in profile: /bin/uname is not a profile process"), "{lines:?}");
    assert_eq!(test2.status.code(), Some(1));
    let test1 = palisade(&["profile", "test", "--profile", &s(&file), "--events", &s(&events1)]);
    assert!(ours(&test1).is_empty(), "the learning run violates its own profile: {:?}", ours(&test1));

    // 4. learning from the recorded events gives what the agent learned live
    let offline = tmp.path().join("offline");
    let out = palisade(&["profile", "learn", "--events", &s(&events1), "-o", &s(&offline)]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = palisade(&["profile", "diff", &s(&file), &s(&profile_file(&offline, &repo))]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "offline and live profiles differ:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    // 5. the pod annotation wins over the state file: annotated `discover`, the same run is learned
    let discover_bundle = tmp.path().join("discover");
    bundle(&discover_bundle, &root, "sh /app/run.sh", &image, Some("discover"));
    let alerts_file = tmp.path().join("alerts3.jsonl");
    let log = agent_run(
        &["--profiles".into(), s(&profiles), "--output".into(), format!("file:{}", alerts_file.display())],
        &format!("{tag}-discover"),
        &discover_bundle,
    );
    let ours: Vec<String> = std::fs::read_to_string(&alerts_file)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains(&workload))
        .map(String::from)
        .collect();
    assert!(ours.is_empty(), "discover mode by annotation raised {ours:?}\nagent:\n{}", log.join("\n"));
    let learned = std::fs::read_to_string(&file).unwrap();
    assert!(
        learned.contains("- path: \"/bin/uname\""),
        "uname not learned:\n{learned}\nagent:\n{}",
        log.join("\n")
    );
}

/// Protect mode with `--enforce`: a profile learned from a run, the workload switched to protect, and the
/// next run's unlisted program and unlisted write are refused while the listed read still works.
#[test]
fn protect_refuses_what_the_profile_does_not_list() {
    if let Some(why) = missing() {
        eprintln!("skipped: {why}");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let tag = format!("palprot{}", std::process::id());
    let repo = format!("palisade.test/{tag}");
    let image = format!("{repo}:1");
    let root = tmp.path().join("root");
    rootfs(&root);
    // the protect run waits for /go, written once the agent watches the container
    std::fs::write(
        root.join("app/run.sh"),
        "while [ ! -e /go ]; do sleep 0.1; done\ncat /etc/app/app.conf\n\
         /bin/uname -a >/dev/null && echo uname-ran || echo uname-refused\n\
         echo x > /etc/app/new.conf && echo write-ran || echo write-refused\necho done\n",
    )
    .unwrap();
    let profiles = tmp.path().join("profiles");
    let s = |p: &Path| p.display().to_string();

    // learn a run in which uname and the write are not reached: /go exists, and a variant script
    std::fs::write(root.join("go"), "").unwrap();
    let learn_bundle = tmp.path().join("learn");
    bundle(&learn_bundle, &root, "sh /app/run.sh", &image, None);
    let script = std::fs::read_to_string(root.join("app/run.sh")).unwrap();
    std::fs::write(
        root.join("app/run.sh"),
        script.replace("/bin/uname", "true").replace("echo x >", "true ||"),
    )
    .unwrap();
    agent_run(
        &["--profiles".into(), s(&profiles), "--mode".into(), "discover".into()],
        &format!("{tag}-learn"),
        &learn_bundle,
    );
    std::fs::write(root.join("app/run.sh"), &script).unwrap();
    std::fs::remove_file(root.join("go")).unwrap();
    let workload = format!("palisade-test/Image/{repo}");
    let out = palisade(&[
        "profile",
        "mode",
        "--state",
        &s(&profiles.join("modes.yaml")),
        "--workload",
        &workload,
        "protect",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    // protect, enforced
    let id = format!("{tag}-protect");
    let protect_bundle = tmp.path().join("protect");
    bundle(&protect_bundle, &root, "sh /app/run.sh", &image, None);
    let alerts_file = tmp.path().join("alerts.jsonl");
    let mut guard = Guard {
        child: None,
        daemons: Vec::new(),
        cleanup: vec![vec!["runc".into(), "delete".into(), "--force".into(), id.clone()]],
    };
    let mut log = Vec::new();
    let lines = start_enforcing_agent(&profiles, &alerts_file, &mut guard, &mut log);
    let run = Command::new("runc")
        .args(["run", &id])
        .current_dir(&protect_bundle)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    guard.daemons.push(run);
    let watching = wait_for(&lines, &format!("watching container {id}"), &mut log);
    assert!(watching.is_some(), "the agent never watched {id}:\n{}", log.join("\n"));
    std::fs::write(root.join("go"), "").unwrap();
    let run = guard.daemons.pop().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut run = run;
    while run.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "the container did not finish:\n{}", log.join("\n"));
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = run.wait_with_output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    stop_agent(&mut guard, Duration::from_secs(30));
    drain(&lines, &mut log, Duration::from_millis(200));
    let alerts = std::fs::read_to_string(&alerts_file).unwrap_or_default();
    let ours: Vec<&str> = alerts.lines().filter(|l| l.contains(&tag)).collect();
    let ctx =
        || format!("container output:\n{text}\nalerts:\n{}\nagent:\n{}", ours.join("\n"), log.join("\n"));
    assert!(text.contains("listen = 1"), "the listed read was refused; {}", ctx());
    assert!(text.contains("uname-refused"), "the unlisted program ran; {}", ctx());
    assert!(text.contains("write-refused"), "the unlisted write happened; {}", ctx());
    assert!(text.contains("done"), "{}", ctx());
    // fanotify judges the open after an O_CREAT made the file: refused, it stays empty
    let created = std::fs::read_to_string(root.join("etc/app/new.conf")).unwrap_or_default();
    assert!(created.is_empty(), "the refused write wrote {created:?}");
}
