//! Zero drift enforced before exec, on the real binary, the real kernel and real runc containers on overlay
//! roots (`runtime agent --enforce --profiles DIR`, the global rule `zeroDrift`, each container's mode
//! from its pod's `palisade.io/mode` annotation): in protect mode the
//! image's busybox applets and the image's own programs run, while a copy of busybox written to `/tmp`,
//! an image file made executable with `chmod +x` and an image program overwritten in the container are
//! refused before they run (exit 126, nothing printed) and alerted with the container id; in monitor mode
//! the same programs run and are alerted; a workload listed in
//! the rule's exceptions runs them with no alert. Needs root, a BTF kernel, runc, busybox and overlayfs:
//! skips with a message otherwise.

mod support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};
use support::containers::*;

/// Waits for `/go` (written once the agent watches the container), then runs image programs and
/// programs written in the container, each printing a marker when it runs.
const SCRIPT: &str = "while [ ! -e /go ]; do sleep 0.1; done\n\
    ls / >/dev/null; echo applet=$?\n\
    /opt/image/echo image-program-ran; echo image=$?\n\
    cp /bin/busybox /tmp/echo && /tmp/echo copy-ran; echo copy=$?\n\
    chmod +x /opt/plain/echo && /opt/plain/echo chmod-ran; echo chmod=$?\n\
    cp /bin/busybox /opt/image/echo && /opt/image/echo overwritten-ran; echo overwritten=$?\n\
    /bin/busybox true; echo after=$?\n";

/// One container on an overlay root over the shared image directory `lower`.
struct Overlay {
    merged: PathBuf,
    bundle: PathBuf,
    id: String,
    workload: String,
}

/// The image: busybox with symlinked applets, `/opt/image/echo` (a program of the image) and
/// `/opt/plain/echo` (the same bytes, not executable).
fn image(lower: &Path) {
    make_rootfs(lower);
    std::os::unix::fs::symlink("busybox", lower.join("bin/chmod")).unwrap();
    for d in ["opt/image", "opt/plain"] {
        std::fs::create_dir_all(lower.join(d)).unwrap();
    }
    std::fs::copy(busybox(), lower.join("opt/image/echo")).unwrap();
    std::fs::copy(busybox(), lower.join("opt/plain/echo")).unwrap();
    let mut perm = std::fs::metadata(lower.join("opt/plain/echo")).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perm, 0o644);
    std::fs::set_permissions(lower.join("opt/plain/echo"), perm).unwrap();
}

/// Mount an overlay for container `name` over `lower` (unmounted by `guard`) and write its bundle: image
/// `palisade.test/<tag>-<name>:1` in pod `palisade-test/drift-0`, annotated `palisade.io/mode: <mode>`. `None` when overlayfs cannot be mounted here.
fn overlay(
    tmp: &Path,
    lower: &Path,
    tag: &str,
    name: &str,
    mode: &str,
    guard: &mut Guard,
) -> Option<Overlay> {
    let dir = tmp.join(name);
    let (upper, work, merged) = (dir.join("upper"), dir.join("work"), dir.join("merged"));
    for d in [&upper, &work, &merged] {
        std::fs::create_dir_all(d).unwrap();
    }
    let opts =
        format!("lowerdir={},upperdir={},workdir={}", lower.display(), upper.display(), work.display());
    let mounted = Command::new("mount").args(["-t", "overlay", "overlay", "-o", &opts]).arg(&merged).status();
    if !mounted.is_ok_and(|s| s.success()) {
        return None;
    }
    guard.cleanup.push(vec!["umount".into(), "-l".into(), merged.display().to_string()]);
    // short ids (the first 12 characters, as alerts carry them) differ between the three containers
    let id = format!("d{}{name}", std::process::id());
    // deleted before any overlay is unmounted
    guard.cleanup.insert(0, vec!["runc".into(), "delete".into(), "--force".into(), id.clone()]);
    let bundle = dir.join("bundle");
    write_bundle(&bundle, &merged, SCRIPT);
    let path = bundle.join("config.json");
    let mut spec: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let repo = format!("palisade.test/{tag}-{name}");
    spec["annotations"] = serde_json::json!({
        "io.containerd.image.name": format!("{repo}:1"),
        "io.kubernetes.cri.sandbox-name": "drift-0",
        "io.kubernetes.cri.sandbox-namespace": "palisade-test",
    });
    spec["annotations"]["palisade.io/mode"] = mode.into();
    spec["process"]["env"] = serde_json::json!(["PATH=/bin"]);
    std::fs::write(&path, serde_json::to_vec_pretty(&spec).unwrap()).unwrap();
    Some(Overlay { merged, bundle, id, workload: format!("palisade-test/Image/{repo}") })
}

/// Run the container, let it go once the agent watches it; its output.
fn run(o: &Overlay, lines: &Receiver<String>, log: &mut Vec<String>) -> String {
    let mut child = Command::new("runc")
        .args(["run", &o.id])
        .current_dir(&o.bundle)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let watching = wait_for(lines, &format!("watching container {}", o.id), log);
    if watching.is_none() {
        let _ = child.kill();
        let _ = child.wait();
        panic!("the agent never watched {}:\n{}", o.id, log.join("\n"));
    }
    std::fs::write(o.merged.join("go"), "").unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("container {} did not finish:\n{}", o.id, log.join("\n"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn value(out: &str, key: &str) -> String {
    out.lines().find_map(|l| l.strip_prefix(&format!("{key}="))).unwrap_or("<missing>").to_string()
}

/// The alerts of container `id` whose `fd.name` or `proc.exepath` is `path`.
fn alerts_for<'a>(alerts: &'a [Value], id: &str, path: &str) -> Vec<&'a Value> {
    alerts
        .iter()
        .filter(|a| a["output_fields"]["container.id"].as_str().is_some_and(|c| id.starts_with(c)))
        .filter(|a| a["output_fields"]["fd.name"] == path || a["output_fields"]["proc.exepath"] == path)
        .collect()
}

#[test]
fn zero_drift_refuses_before_exec_in_protect_alerts_in_monitor_and_honours_exceptions() {
    if let Some(why) = missing() {
        eprintln!("skipped: {why}");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let tag = format!("paldrift{}", std::process::id());
    let lower = tmp.path().join("image");
    image(&lower);
    let mut guard = Guard { child: None, daemons: Vec::new(), cleanup: Vec::new() };
    let mut containers = Vec::new();
    for (name, mode) in [("protect", "protect"), ("monitor", "monitor"), ("exempt", "protect")] {
        match overlay(tmp.path(), &lower, &tag, name, mode, &mut guard) {
            Some(o) => containers.push(o),
            None => {
                eprintln!("skipped: overlayfs cannot be mounted here");
                return;
            }
        }
    }
    let [protect, monitor, exempt] = &containers[..] else { unreachable!() };
    let global = tmp.path().join("global.yaml");
    std::fs::write(
        &global,
        format!(
            "apiVersion: palisade.io/v1alpha1\nkind: PalisadeGlobalRules\nmetadata: {{name: test}}\n\
             spec:\n  zeroDrift: {{exceptions: [\"{}\"]}}\n",
            exempt.workload
        ),
    )
    .unwrap();
    let alerts_file = tmp.path().join("alerts.jsonl");
    let mut agent = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(["runtime", "agent", "--source", "ebpf", "--containers-only", "--enforce"])
        .arg("--profiles")
        .arg(tmp.path().join("profiles"))
        .arg("--global-rules")
        .arg(&global)
        .arg("--metrics-addr")
        .arg("127.0.0.1:0")
        .arg("--output")
        .arg(format!("file:{}", alerts_file.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = stderr_lines(&mut agent);
    guard.child = Some(agent);
    let mut log = Vec::new();
    let metrics = wait_for(&lines, "metrics on http://", &mut log);
    assert!(
        wait_for(&lines, "palisade: enforcement: exec-block fanotify", &mut log).is_some(),
        "fanotify exec enforcement did not start:\n{}",
        log.join("\n")
    );
    let metrics = metrics.unwrap().split("http://").nth(1).unwrap().trim_end_matches("/metrics").to_string();

    let outs: Vec<String> = containers.iter().map(|o| run(o, &lines, &mut log)).collect();
    let counters = http_get(&metrics, "/metrics");
    stop_agent(&mut guard, Duration::from_secs(30));
    drain(&lines, &mut log, Duration::from_millis(300));
    let alerts: Vec<Value> = std::fs::read_to_string(&alerts_file)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad alert line {l}: {e}")))
        .collect();
    let ctx = |out: &str| {
        let ours: Vec<String> =
            alerts.iter().filter(|a| a.to_string().contains(&tag)).map(Value::to_string).collect();
        format!("container output:\n{out}\nalerts:\n{}\nagent:\n{}", ours.join("\n"), log.join("\n"))
    };

    // protect: the image runs, what was written in the container does not (and never printed a thing)
    let out = &outs[0];
    for (key, code) in [("applet", "0"), ("image", "0"), ("after", "0")] {
        assert_eq!(value(out, key), code, "{key}; {}", ctx(out));
    }
    assert!(out.contains("image-program-ran"), "{}", ctx(out));
    for (key, marker) in [("copy", "copy-ran"), ("chmod", "chmod-ran"), ("overwritten", "overwritten-ran")] {
        assert_eq!(value(out, key), "126", "{key} was not refused; {}", ctx(out));
        assert!(!out.contains(marker), "{marker}: the refused program ran; {}", ctx(out));
    }
    assert!(out.contains("Operation not permitted"), "{}", ctx(out));
    for path in ["/tmp/echo", "/opt/plain/echo", "/opt/image/echo"] {
        let a = alerts_for(&alerts, &protect.id, path);
        assert!(
            a.iter().any(|a| a["rule"] == "Palisade exec denied"
                && a["output_fields"]["palisade.reason"] == "Drift: executable not from the image"),
            "no drift refusal of {path} for {}; {}",
            protect.id,
            ctx(out)
        );
    }
    assert!(counters.contains("palisade_runtime_enforce_drift_checks_total{origin=\"drift\"}"), "{counters}");
    assert!(counters.contains("palisade_runtime_enforce_drift_checks_total{origin=\"image\"}"), "{counters}");

    // monitor: everything runs, the drift is alerted with the container id
    let out = &outs[1];
    for (key, marker) in [("copy", "copy-ran"), ("chmod", "chmod-ran"), ("overwritten", "overwritten-ran")] {
        assert_eq!(value(out, key), "0", "{key}; {}", ctx(out));
        assert!(out.contains(marker), "{}", ctx(out));
    }
    for path in ["/tmp/echo", "/opt/plain/echo", "/opt/image/echo"] {
        let a = alerts_for(&alerts, &monitor.id, path);
        assert!(
            a.iter().any(|a| a["rule"] == "Palisade enforcement would deny (monitor)"
                && a["output_fields"]["palisade.reason"] == "Drift: executable not from the image"),
            "no drift alert for {path} in {}; {}",
            monitor.id,
            ctx(out)
        );
        assert!(!a.iter().any(|a| a["rule"] == "Palisade exec denied"), "{}", ctx(out));
    }

    // the exception: runs, and nothing about drift is said
    let out = &outs[2];
    for (key, marker) in [("copy", "copy-ran"), ("chmod", "chmod-ran"), ("overwritten", "overwritten-ran")] {
        assert_eq!(value(out, key), "0", "{key}; {}", ctx(out));
        assert!(out.contains(marker), "{}", ctx(out));
    }
    let drift_alerts: Vec<&Value> = alerts
        .iter()
        .filter(|a| a["output_fields"]["container.id"].as_str().is_some_and(|c| exempt.id.starts_with(c)))
        .filter(|a| a.to_string().contains("Drift"))
        .collect();
    assert!(drift_alerts.is_empty(), "the excepted workload was judged: {drift_alerts:?}");
}
