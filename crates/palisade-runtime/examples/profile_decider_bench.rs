//! Nanoseconds per answer of the profile decider (`profile::ProfileDecider`), one thread, printed as a
//! markdown table: permission-event questions (exec, open, connect) and whole-event judgements, against a
//! profile the size of a busy service (64 processes, 600 file rules of which 100 globs, 32 egress rules).
//!
//! `cargo run -p palisade-runtime --example profile_decider_bench [-- ITERATIONS]`; in a debug build the
//! figures are upper bounds (the release build is several times faster).

use palisade_network::rules::{Peer, PortRange, Protocol};
use palisade_runtime::event::{Container, Event, EventKind, FileOpen, Pod, Process};
use palisade_runtime::profile::ProfileDecider;
use palisade_runtime::profile::global::GlobalRules;
use palisade_runtime::profile::model::*;
use palisade_runtime::profile::modes::ModeState;
use palisade_runtime::verdict::{Access, Decider, Mode, Request};
use std::hint::black_box;
use std::time::Instant;

fn main() {
    let n: u32 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(200_000);
    let mut labels = std::collections::BTreeMap::new();
    labels.insert("pod-template-hash".to_string(), "5d8c".to_string());
    let container = Container {
        id: "4f2c1e9a7b3d".into(),
        runtime: "containerd".into(),
        pod: Some(Pod { name: "web-5d8c-x1".into(), namespace: "shop".into(), labels, ..Pod::default() }),
        ..Container::default()
    };
    let mut p = PalisadeProfile::new(Workload {
        kind: WorkloadKind::Deployment,
        name: "web".into(),
        namespace: Some("shop".into()),
        ..Workload::default()
    });
    for i in 0..60 {
        p.spec.processes.push(ProcessRule { path: format!("/usr/bin/tool{i}"), ..ProcessRule::default() });
    }
    for i in 0..4 {
        p.spec.processes.push(ProcessRule { path: format!("/opt/app{i}/bin/*"), ..ProcessRule::default() });
    }
    for i in 0..500 {
        p.spec.files.push(FileRule { path: format!("/etc/app/conf{i}.yaml"), ..FileRule::default() });
    }
    for i in 0..100 {
        p.spec.files.push(FileRule {
            path: format!("/var/lib/app{i}/**"),
            access: FileAccess::ReadWrite,
            ..FileRule::default()
        });
    }
    for i in 0..32u8 {
        p.spec.network.egress.push(NetEntry {
            peer: Peer::Cidr(format!("10.0.{i}.0/24").parse().unwrap()),
            protocol: Protocol::Tcp,
            ports: vec![PortSpec(PortRange::single(5432))],
            seen: Seen::default(),
        });
    }
    let d = ProfileDecider::new(&[p], GlobalRules::default(), ModeState::default(), Mode::Protect).unwrap();
    let addr = "10.0.31.7".parse().unwrap();
    let cases: [(&str, Access); 6] = [
        ("exec, allowed (literal path)", Access::Exec { path: "/usr/bin/tool59" }),
        ("exec, allowed (glob)", Access::Exec { path: "/opt/app3/bin/worker" }),
        ("exec, refused", Access::Exec { path: "/usr/bin/curl" }),
        ("open, allowed (literal path)", Access::Open { path: "/etc/app/conf499.yaml", write: false }),
        ("open, allowed (glob)", Access::Open { path: "/var/lib/app99/db/x", write: true }),
        ("connect, allowed (32nd rule)", Access::Connect { protocol: "tcp", addr, port: 5432 }),
    ];
    println!("| question ({n} each, one thread) | ns per answer |\n|---|---|");
    for (name, access) in cases {
        let req = Request { pid: 42, container: Some(&container), access };
        let t = Instant::now();
        for _ in 0..n {
            black_box(d.decide(black_box(&req)));
        }
        println!("| {name} | {:.0} |", t.elapsed().as_nanos() as f64 / f64::from(n));
    }
    let event = Event {
        time_ns: 1,
        kind: EventKind::Open(FileOpen {
            path: "/etc/app/conf7.yaml".into(),
            raw_path: None,
            flags: 0,
            mode: 0,
        }),
        result: Some(3),
        process: Process {
            pid: 42,
            comm: "tool1".into(),
            exe: "/usr/bin/tool1".into(),
            ..Process::default()
        },
        ancestors: vec![],
        container: Some(container.clone()),
    };
    let t = Instant::now();
    for _ in 0..n {
        black_box(d.judge(black_box(&event)));
    }
    println!(
        "| judge an open event (global rules + profile) | {:.0} |",
        t.elapsed().as_nanos() as f64 / f64::from(n)
    );
}
