//! Events per second through the official Falco rulesets on one thread, printed as a markdown table.
//!
//! `cargo run --release -p palisade-runtime --example falco_rules_bench [-- EVENTS]` (see
//! `bench/falco_rules.sh`). Rules come from `/work/shared/data/runtime/falco-rules.tar.gz` (or
//! `$PALISADE_RUNTIME_CORPUS`); the events are a synthetic mix of what a busy container does: process
//! starts, file opens (reads and writes), connections and other syscalls, with a few that alert.

use palisade_runtime::event::{Connection, Container, Event, EventKind, FileOpen, Pod, Process, ProcessRef};
use palisade_runtime::rules::{PALISADE_RULES, Ruleset};
use std::io::Read;
use std::time::Instant;

fn rules_files() -> Option<Vec<(String, String)>> {
    let dir = std::env::var_os("PALISADE_RUNTIME_CORPUS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| "/work/shared/data/runtime".into());
    let f = std::fs::File::open(dir.join("falco-rules.tar.gz")).ok()?;
    let mut ar = tar::Archive::new(flate2::read::GzDecoder::new(f));
    let mut out = Vec::new();
    for entry in ar.entries().ok()? {
        let mut e = entry.ok()?;
        let path = e.path().ok()?.to_string_lossy().to_string();
        if path.ends_with(".yaml") && path.contains("/rules/") {
            let mut s = String::new();
            e.read_to_string(&mut s).ok()?;
            out.push((path, s));
        }
    }
    // Falco's stacking order.
    out.sort_by_key(|(p, _)| {
        if p.ends_with("falco_rules.yaml") {
            0
        } else if p.contains("incubating") {
            1
        } else {
            2
        }
    });
    Some(out)
}

fn container() -> Container {
    Container {
        id: "4f2c1e9a7b3d5c6e8f0a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6".into(),
        runtime: "containerd".into(),
        image: Some("docker.io/library/nginx:1.27".into()),
        pod: Some(Pod { name: "web-0".into(), namespace: "shop".into(), ..Pod::default() }),
        ..Container::default()
    }
}

fn proc_(comm: &str, exe: &str, args: &[&str]) -> Process {
    Process {
        pid: 4242,
        tid: 4242,
        ppid: 1,
        comm: comm.into(),
        exe: exe.into(),
        args: args.iter().map(|s| s.to_string()).collect(),
        ..Process::default()
    }
}

fn ev(kind: EventKind, p: Process) -> Event {
    Event {
        time_ns: 1_796_549_478_000_000_000,
        kind,
        result: Some(3),
        process: p,
        ancestors: vec![ProcessRef {
            pid: 1,
            comm: "nginx".into(),
            exe: "/usr/sbin/nginx".into(),
            args: vec![],
        }],
        container: Some(container()),
    }
}

fn mix() -> Vec<(&'static str, Event)> {
    let open = |path: &str, flags: u32| {
        EventKind::Open(FileOpen { path: path.into(), raw_path: None, flags, mode: 0 })
    };
    let conn = |addr: &str, port: u16| {
        EventKind::Connect(Connection {
            protocol: "tcp".into(),
            local_addr: Some("10.1.0.5".into()),
            local_port: Some(40000),
            remote_addr: Some(addr.into()),
            remote_port: Some(port),
            remote_name: None,
        })
    };
    vec![
        ("execve", ev(EventKind::Execve, proc_("nginx", "/usr/sbin/nginx", &["nginx", "-g", "daemon off;"]))),
        ("execve", ev(EventKind::Execve, proc_("sh", "/bin/sh", &["sh", "-c", "date"]))),
        (
            "open (read)",
            ev(open("/usr/share/nginx/html/index.html", 0), proc_("nginx", "/usr/sbin/nginx", &["nginx"])),
        ),
        ("open (read)", ev(open("/etc/shadow", 0), proc_("cat", "/bin/cat", &["cat", "/etc/shadow"]))),
        (
            "open (write)",
            ev(open("/var/log/nginx/access.log", 0o2101), proc_("nginx", "/usr/sbin/nginx", &["nginx"])),
        ),
        ("connect", ev(conn("10.1.0.9", 5432), proc_("nginx", "/usr/sbin/nginx", &["nginx"]))),
        ("connect", ev(conn("93.184.216.34", 4444), proc_("nc", "/usr/bin/nc", &["nc"]))),
        (
            "other",
            ev(EventKind::Other { syscall: "read".into() }, proc_("nginx", "/usr/sbin/nginx", &["nginx"])),
        ),
    ]
}

fn main() {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(200_000);
    let Some(files) = rules_files() else {
        println!("SKIP: falco-rules.tar.gz is absent");
        return;
    };
    let mut sets: Vec<(&str, Vec<(String, String)>)> =
        vec![("stable", files[..1].to_vec()), ("stable+incubating+sandbox", files.clone())];
    let mut with_palisade = files.clone();
    with_palisade.push(("palisade_rules.yaml".into(), PALISADE_RULES.into()));
    sets.push(("all + palisade", with_palisade));
    let events = mix();
    println!("| ruleset | rules enabled | load ms | events | events/s (1 thread) | alerts |");
    println!("|---|---|---|---|---|---|");
    for (name, files) in &sets {
        let refs: Vec<(&str, &str)> = files.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        let t = Instant::now();
        let rs = match Ruleset::from_sources(&refs) {
            Ok(r) => r,
            Err(e) => {
                println!("| {name} | load failed: {e} |");
                continue;
            }
        };
        let load_ms = t.elapsed().as_secs_f64() * 1000.0;
        let t = Instant::now();
        let mut alerts = 0usize;
        for i in 0..n {
            alerts += rs.evaluate(&events[i % events.len()].1).len();
        }
        let secs = t.elapsed().as_secs_f64();
        println!(
            "| {name} | {} | {load_ms:.0} | {n} | {:.0} | {alerts} |",
            rs.enabled_count(),
            n as f64 / secs
        );
    }
    // Per event kind, full stack.
    let refs: Vec<(&str, &str)> = files.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let Ok(rs) = Ruleset::from_sources(&refs) else { return };
    println!();
    println!("| event (stable+incubating+sandbox) | events/s |");
    println!("|---|---|");
    for (kind, e) in &events {
        let m = n / 4;
        let t = Instant::now();
        for _ in 0..m {
            std::hint::black_box(rs.evaluate(e));
        }
        println!("| {kind} {} | {:.0} |", e.process.comm, m as f64 / t.elapsed().as_secs_f64());
    }
}
