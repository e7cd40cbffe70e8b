//! Enforcement's fail-safe parts on the real kernel, without containers: the probe, and the responder's
//! guarantees with a fanotify permission mark on a file of the test's own and a real process opening it.
//! - deciders that never answer: the open is allowed at the deadline, with an alert and a metric;
//! - a full deciders' queue: the open is allowed at once, counted;
//! - the agent's group closed while a process waits (what an agent crash does): the process goes on.
//!   Needs root (CAP_SYS_ADMIN for fanotify); skips otherwise.

use palisade_runtime::enforce::alert::{AlertSink, DEADLINE};
use palisade_runtime::enforce::fanotify::{Group, read_loop};
use palisade_runtime::enforce::responder::{Job, Kind, Responder, run_deadline};
use palisade_runtime::enforce::stats::{MechanismLabels, Stats};
use palisade_runtime::enforce::{kill::Killer, probe};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::sync_channel;
use std::time::{Duration, Instant};

fn root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .is_ok_and(|s| s.lines().any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(2) == Some("0")))
}

#[test]
fn probe_finds_fanotify_and_reports_every_facility() {
    if !root() {
        eprintln!("skipped: not root");
        return;
    }
    probe::fanotify().expect("fanotify permission events work on the project's kernels");
    let (lsm, kprobe, over) = probe::bpf_facilities();
    let (killer, signal) = Killer::start();
    for (name, r) in
        [("bpf_lsm", &lsm), ("kprobe", &kprobe), ("bpf_override_return", &over), ("bpf_send_signal", &signal)]
    {
        eprintln!("{name}: {r:?}");
    }
    let built_without_bpf =
        signal.as_ref().err().is_some_and(|e| e.contains("this build has no eBPF object"));
    if std::path::Path::new("/sys/kernel/btf/vmlinux").exists() && !built_without_bpf {
        // feasibility §2: bpf_send_signal from tp_btf kills here; kprobes and BPF-LSM do not load
        assert!(signal.is_ok(), "{signal:?}");
        assert_eq!(killer.mechanism(), "bpf_send_signal");
        assert_eq!(killer.in_kernel_kills(), (0, 0), "the self-test's kill is not counted");
        if !std::path::Path::new("/sys/kernel/tracing/kprobe_events").exists() {
            assert!(kprobe.is_err(), "kprobe attached on a kernel without kprobe_events");
        }
    }
}

/// A file marked for open permission events, a reader thread feeding `jobs`, the deadline thread.
struct Setup {
    _dir: tempfile::TempDir,
    file: std::path::PathBuf,
    stats: Arc<Stats>,
    alerts: std::sync::mpsc::Receiver<palisade_runtime::output::Alert>,
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
    group: Option<Arc<Group>>,
}

impl Drop for Setup {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

fn setup(deadline: Duration, queue: usize) -> (Setup, std::sync::mpsc::Receiver<Job>) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("protected");
    std::fs::write(&file, "data\n").unwrap();
    let group = Arc::new(Group::new(Kind::Open).unwrap());
    group.mark_inode(&file).unwrap();
    let responder = Arc::new(Responder::new(deadline));
    let stats = Arc::new(Stats::default());
    let (atx, alerts) = sync_channel(16);
    let sink = Arc::new(AlertSink::new(atx));
    let stop = Arc::new(AtomicBool::new(false));
    let (jtx, jrx) = sync_channel(queue);
    let mut threads = Vec::new();
    {
        let (g, r, s, st) = (group.clone(), responder.clone(), stats.clone(), stop.clone());
        threads.push(std::thread::spawn(move || read_loop(g, r, jtx, st, s)));
    }
    {
        let (r, s, a, st) = (responder.clone(), stats.clone(), sink.clone(), stop.clone());
        threads.push(std::thread::spawn(move || run_deadline(&r, &s, &a, &st)));
    }
    (Setup { _dir: dir, file, stats, alerts, stop, threads, group: Some(group) }, jrx)
}

fn timed_cat(file: &std::path::Path) -> (bool, Duration) {
    let t = Instant::now();
    let out = Command::new("cat").arg(file).output().unwrap();
    (out.status.success() && out.stdout == b"data\n", t.elapsed())
}

#[test]
fn stalled_deciders_mean_allow_at_the_deadline_with_alert_and_metric() {
    if !root() {
        eprintln!("skipped: not root");
        return;
    }
    let deadline = Duration::from_millis(150);
    // the jobs receiver is held and never read: deciders that never answer
    let (s, _stalled) = setup(deadline, 64);
    let (ok, took) = timed_cat(&s.file);
    assert!(ok, "the open was not allowed");
    assert!(took >= deadline, "answered before the deadline ({took:?}): nobody decided");
    assert!(took < deadline + Duration::from_secs(2), "answered long after the deadline: {took:?}");
    let timeouts = s.stats.deadline.get_or_create(&MechanismLabels { mechanism: "open".into() }).get();
    assert_eq!(timeouts, 1);
    let alert = s.alerts.recv_timeout(Duration::from_secs(1)).expect("no deadline alert");
    assert_eq!(alert.rule, DEADLINE);
    assert!(alert.output.contains("protected"), "{}", alert.output);
    eprintln!("open answered after {took:?} with a {deadline:?} deadline");
}

#[test]
fn full_queue_means_allow_at_once() {
    if !root() {
        eprintln!("skipped: not root");
        return;
    }
    // a rendezvous queue nobody receives from is always full; a deadline too long to be what answers
    let (s, _rx) = setup(Duration::from_secs(30), 0);
    let (ok, took) = timed_cat(&s.file);
    assert!(ok && took < Duration::from_secs(10), "{ok} {took:?}");
    assert_eq!(s.stats.queue_full.get_or_create(&MechanismLabels { mechanism: "open".into() }).get(), 1);
    assert_eq!(s.stats.deadline.get_or_create(&MechanismLabels { mechanism: "open".into() }).get(), 0);
}

#[test]
fn closing_the_group_releases_a_waiting_process() {
    if !root() {
        eprintln!("skipped: not root");
        return;
    }
    let (mut s, _rx) = setup(Duration::from_secs(60), 64);
    let file = s.file.clone();
    let cat = std::thread::spawn(move || timed_cat(&file));
    std::thread::sleep(Duration::from_millis(500));
    assert!(!cat.is_finished(), "the open was answered although nobody decided and the deadline is 60 s");
    // what the kernel does when the agent dies: the group's last descriptor goes, pending events are allowed
    s.stop.store(true, Ordering::Relaxed);
    for t in s.threads.drain(..) {
        let _ = t.join();
    }
    // the reader held the event in the responder, which the reader thread's Arc kept; drop everything
    drop(s.group.take());
    let (ok, took) = cat.join().unwrap();
    assert!(ok, "the process was not released");
    assert!(took < Duration::from_secs(30), "{took:?}");
}

/// A decider that takes `0` to answer, and then refuses everything.
struct Stalled(Duration);

impl palisade_runtime::verdict::Decider for Stalled {
    fn decide(&self, _: &palisade_runtime::verdict::Request<'_>) -> palisade_runtime::verdict::Verdict {
        std::thread::sleep(self.0);
        palisade_runtime::verdict::Verdict::Deny { rule: "stalled".into(), reason: "too late".into() }
    }

    fn network(&self, _: &palisade_runtime::Container) -> Option<palisade_runtime::verdict::NetworkPolicy> {
        None
    }
}

fn which(tool: &str) -> bool {
    std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .chain([std::path::PathBuf::from("/usr/sbin")])
        .any(|d| d.join(tool).is_file())
}

/// The whole enforcer with a decider that stalls (2 s, then "deny") on a real runc container: every exec
/// waits the deadline and runs; the deadline is counted and alerted, the late refusal ignored.
#[test]
fn stalled_decider_in_a_container_delays_by_the_deadline_and_blocks_nothing() {
    if !root() || !which("runc") || !std::path::Path::new("/bin/busybox").exists() {
        eprintln!("skipped: needs root, runc and /bin/busybox");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let rootfs = tmp.path().join("rootfs");
    for d in ["bin", "proc", "sys", "dev", "etc", "tmp", "usr/bin"] {
        std::fs::create_dir_all(rootfs.join(d)).unwrap();
    }
    std::fs::copy("/bin/busybox", rootfs.join("bin/busybox")).unwrap();
    for a in ["sh", "sleep", "echo"] {
        std::os::unix::fs::symlink("busybox", rootfs.join("bin").join(a)).unwrap();
    }
    std::fs::copy("/bin/busybox", rootfs.join("usr/bin/touch")).unwrap();
    let bundle = tmp.path().join("bundle");
    std::fs::create_dir_all(&bundle).unwrap();
    assert!(Command::new("runc").arg("spec").current_dir(&bundle).status().unwrap().success());
    let config = bundle.join("config.json");
    let mut spec: serde_json::Value = serde_json::from_slice(&std::fs::read(&config).unwrap()).unwrap();
    spec["process"]["terminal"] = false.into();
    spec["process"]["args"] = serde_json::json!([
        "sh",
        "-c",
        "while [ ! -e /go ]; do sleep 0.1; done; /usr/bin/touch /tmp/marker; echo done=$?"
    ]);
    spec["root"] = serde_json::json!({ "path": rootfs, "readonly": false });
    std::fs::write(&config, serde_json::to_vec(&spec).unwrap()).unwrap();
    let id = format!("enfstall{}", std::process::id());
    struct Runc(String, Option<std::process::Child>);
    impl Drop for Runc {
        fn drop(&mut self) {
            if let Some(c) = self.1.as_mut() {
                let _ = c.kill();
                let _ = c.wait();
            }
            let _ = Command::new("runc").args(["delete", "--force", &self.0]).output();
        }
    }
    let child = Command::new("runc")
        .args(["run", &id])
        .current_dir(&bundle)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut runc = Runc(id.clone(), Some(child));
    // wait until runc has written its state (the enforcer finds running containers through it)
    let end = Instant::now() + Duration::from_secs(30);
    while !Command::new("runc")
        .args(["state", &id])
        .output()
        .unwrap()
        .stdout
        .windows(9)
        .any(|w| w == b"\"running\"")
    {
        assert!(Instant::now() < end, "container did not start");
        std::thread::sleep(Duration::from_millis(50));
    }

    let deadline = Duration::from_millis(100);
    let config = palisade_runtime::enforce::EnforceConfig { deadline, ..Default::default() };
    let mut enforcer =
        palisade_runtime::enforce::Enforcer::start(&config, Arc::new(Stalled(Duration::from_secs(2))))
            .unwrap();
    if enforcer.facilities.fanotify.is_err() {
        eprintln!("skipped: fanotify unavailable");
        return;
    }
    assert!(enforcer.is_marked(&id), "the running container was not marked at start");
    let t = Instant::now();
    std::fs::write(rootfs.join("go"), "").unwrap();
    let out = runc.1.take().unwrap().wait_with_output().unwrap();
    let took = t.elapsed();
    let out = String::from_utf8_lossy(&out.stdout);
    assert!(out.contains("done=0"), "the exec was refused or did not run: {out}");
    assert!(rootfs.join("tmp/marker").exists());
    assert!(took >= deadline, "{took:?}");
    assert!(took < Duration::from_secs(20), "{took:?}");
    let expired = enforcer.stats.deadline.get_or_create(&MechanismLabels { mechanism: "exec".into() }).get();
    assert!(expired >= 1, "no exec answered at the deadline");
    let alerts = enforcer.take_alerts();
    assert!(alerts.iter().any(|a| a.rule == DEADLINE && a.output.contains("/usr/bin/touch")), "{alerts:?}");
    enforcer.stop();
    eprintln!("{expired} execs allowed at the deadline; the container's script took {took:?}");
}
