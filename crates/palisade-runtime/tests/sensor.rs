//! Each event source against the real kernel: start it, run a process that opens a file only this test
//! knows, and find the records. eBPF also reports a failed connect with its address. Skips with a message
//! when not root or when the source is unavailable here (no BTF, a build without the eBPF object).

use palisade_runtime::EventKind;
use palisade_runtime::sensor::enrich::Enricher;
use palisade_runtime::sensor::{Sensor, SensorConfig, SourceChoice};
use std::process::Command;
use std::time::{Duration, Instant};

fn root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("Uid:")).map(|l| l.split_whitespace().nth(2) == Some("0"))
        })
        .unwrap_or(false)
}

fn start(source: SourceChoice) -> Option<Sensor> {
    if !root() {
        eprintln!("skipped: not root");
        return None;
    }
    match Sensor::start(&SensorConfig { source, ..SensorConfig::default() }) {
        Ok(s) => Some(s),
        Err(e) => {
            eprintln!("skipped: {e}");
            None
        }
    }
}

/// Records until `pred` matches one of their events (or 20 s pass).
fn collect(
    sensor: &Sensor,
    enricher: &mut Enricher,
    pred: &dyn Fn(&palisade_runtime::Event) -> bool,
) -> Vec<palisade_runtime::Event> {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut out = Vec::new();
    while Instant::now() < deadline {
        if let Some(r) = sensor.recv_timeout(Duration::from_millis(100))
            && let Some(e) = enricher.event(&r)
        {
            let done = pred(&e);
            out.push(e);
            if done {
                break;
            }
        }
    }
    out
}

#[test]
fn ebpf_sees_exec_open_and_connect_of_a_host_process() {
    let Some(sensor) = start(SourceChoice::Ebpf) else { return };
    assert_eq!(sensor.source.name(), "ebpf");
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("ebpf-marker");
    std::fs::write(&marker, "x").unwrap();
    let script = format!("cat {} >/dev/null; exec 3<>/dev/tcp/127.0.0.1/9 || true", marker.display());
    // the connect fails (nothing listens on port 9), so bash's own status is not checked
    let _ = Command::new("bash").args(["-c", &script]).status().unwrap();
    let mut enricher = Enricher::new();
    let marker_s = marker.to_str().unwrap().to_string();
    let events = collect(
        &sensor,
        &mut enricher,
        &|e| matches!(&e.kind, EventKind::Connect(c) if c.remote_port == Some(9)),
    );
    let open = events
        .iter()
        .find(|e| matches!(&e.kind, EventKind::Open(o) if o.path == marker_s))
        .expect("open of the marker file not seen");
    assert_eq!(open.process.comm, "cat");
    assert!(open.result.is_some_and(|r| r >= 0), "{open:?}");
    assert!(open.container.is_none(), "a host process: {open:?}");
    assert!(open.process.exe.ends_with("/cat"), "{open:?}");
    assert!(!open.ancestors.is_empty(), "{open:?}");
    let exec =
        events.iter().find(|e| matches!(e.kind, EventKind::Execve) && e.process.pid == open.process.pid);
    assert!(
        exec.is_some_and(|e| e.process.args.iter().any(|a| a == &marker_s)),
        "exec of cat with its argv not seen"
    );
    let connect = events.iter().find_map(|e| match &e.kind {
        EventKind::Connect(c) if c.remote_port == Some(9) => Some((c.clone(), e.result)),
        _ => None,
    });
    let (c, result) = connect.expect("connect to 127.0.0.1:9 not seen");
    assert_eq!((c.protocol.as_str(), c.remote_addr.as_deref()), ("tcp", Some("127.0.0.1")));
    assert!(result.is_some_and(|r| r < 0), "nothing listens on port 9: the connect fails");
}

#[test]
fn proc_connector_sees_exec_and_exit() {
    let Some(sensor) = start(SourceChoice::ProcConnector) else { return };
    let mut child = Command::new("sleep").arg("0.3").spawn().unwrap();
    let pid = child.id();
    assert!(child.wait().unwrap().success());
    let mut enricher = Enricher::new();
    let events = collect(&sensor, &mut enricher, &|e| {
        matches!(e.kind, EventKind::Exit { .. }) && e.process.pid == pid
    });
    assert!(
        events.iter().any(|e| matches!(e.kind, EventKind::Execve) && e.process.pid == pid),
        "exec of sleep ({pid}) not seen"
    );
    assert!(events.iter().any(|e| matches!(e.kind, EventKind::Exit { code: 0 }) && e.process.pid == pid));
}
