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
    if std::path::Path::new("/sys/kernel/btf/vmlinux").exists() && option_env!("PALISADE_NO_BPF").is_none() {
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
