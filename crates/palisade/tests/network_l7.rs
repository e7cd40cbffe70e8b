//! The L7 inspector on real traffic: a client and a server network namespace joined by a veth pair,
//! busybox httpd and openssl s_server in the server namespace, iptables sending ports 8080 and 8443 to
//! NFQUEUE with `--queue-bypass`, and `palisade network inspect` bound to the queue inside the server
//! namespace. Checked: an allowed path passes and a forbidden one is dropped; a TLS connection to an
//! allowed server name passes and one to another name is dropped at its ClientHello; an HTTP/2 request to
//! a forbidden path raises an alert and an allowed one does not; a card number in a POST body raises a
//! DLP alert (alert mode: the request succeeds) and makes the request fail (drop mode); the counters are
//! served on /metrics; a response rule on the DLP alert sends its own alert; after the inspector is
//! killed, traffic passes (queue bypass). Needs root, `ip`, `iptables`, `curl` and `busybox` (and
//! `openssl` for the TLS part): skips with a message otherwise.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_palisade");

fn tool_ok(cmd: &str, args: &[&str]) -> bool {
    Command::new(cmd)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn missing() -> Option<String> {
    if !nix_is_root() {
        return Some("not root".into());
    }
    for (cmd, args) in [
        ("ip", &["-V"][..]),
        ("iptables", &["-V"][..]),
        ("curl", &["--version"][..]),
        ("busybox", &["true"][..]),
    ] {
        if !tool_ok(cmd, args) {
            return Some(format!("{cmd} not installed"));
        }
    }
    None
}

fn nix_is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("Uid:")).map(|l| l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

fn run(args: &[&str]) {
    let out = Command::new(args[0]).args(&args[1..]).output().expect("spawn");
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// Two namespaces joined by a veth pair; deleted, with the processes started in them, on drop.
struct Lab {
    client: String,
    server: String,
    children: Vec<Child>,
}

impl Drop for Lab {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = Command::new("kill").args(["-KILL", "--", &format!("-{}", c.id())]).status();
            let _ = c.kill();
            let _ = c.wait();
        }
        for ns in [&self.client, &self.server] {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}

impl Lab {
    /// `net` is the /24 prefix (`10.231.7`): client .1, server .2 and .3.
    fn new(tag: &str, net: &str) -> Option<Lab> {
        let lab = Lab { client: format!("{tag}c"), server: format!("{tag}s"), children: Vec::new() };
        if !tool_ok("ip", &["netns", "add", &lab.client]) || !tool_ok("ip", &["netns", "add", &lab.server]) {
            return None;
        }
        let (vc, vs) = (format!("{tag}a"), format!("{tag}b"));
        run(&["ip", "link", "add", &vc, "type", "veth", "peer", "name", &vs]);
        run(&["ip", "link", "set", &vc, "netns", &lab.client]);
        run(&["ip", "link", "set", &vs, "netns", &lab.server]);
        let c = |args: &[&str]| run(&[&["ip", "netns", "exec", &lab.client][..], args].concat());
        let s = |args: &[&str]| run(&[&["ip", "netns", "exec", &lab.server][..], args].concat());
        c(&["ip", "addr", "add", &format!("{net}.1/24"), "dev", &vc]);
        s(&["ip", "addr", "add", &format!("{net}.2/24"), "dev", &vs]);
        s(&["ip", "addr", "add", &format!("{net}.3/24"), "dev", &vs]);
        for (ns_run, dev) in [(&c as &dyn Fn(&[&str]), &vc), (&s as &dyn Fn(&[&str]), &vs)] {
            ns_run(&["ip", "link", "set", dev, "up"]);
            ns_run(&["ip", "link", "set", "lo", "up"]);
        }
        Some(lab)
    }

    fn spawn_in_server(&mut self, args: &[&str], stdout: Stdio) -> u32 {
        use std::os::unix::process::CommandExt;
        // A process group of its own, so that what it forks (httpd's per-connection children) goes too.
        let child = Command::new("ip")
            .args(["netns", "exec", &self.server])
            .args(args)
            .stdout(stdout)
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("spawn in server namespace");
        let pid = child.id();
        self.children.push(child);
        pid
    }

    /// curl from the client namespace: the HTTP status, or `000` when the request failed.
    fn curl(&self, url: &str, body: Option<&str>) -> String {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.client, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}"]);
        cmd.args(["--max-time", "3"]);
        if let Some(b) = body {
            cmd.args(["--data-binary", b]);
        }
        let out = cmd.arg(url).output().expect("curl");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    fn server_output(&self, args: &[&str]) -> String {
        let out =
            Command::new("ip").args(["netns", "exec", &self.server]).args(args).output().expect("spawn");
        String::from_utf8_lossy(&out.stdout).to_string()
    }
}

fn web_root(dir: &Path) {
    std::fs::create_dir_all(dir.join("api")).unwrap();
    std::fs::create_dir_all(dir.join("cgi-bin")).unwrap();
    std::fs::write(dir.join("api/hello"), "hello\n").unwrap();
    std::fs::write(dir.join("admin"), "secret admin page\n").unwrap();
    let cgi = dir.join("cgi-bin/pay");
    std::fs::write(&cgi, "#!/bin/sh\necho 'Content-Type: text/plain'\necho\ncat >/dev/null\necho paid\n")
        .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&cgi, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn wait_for(what: &str, timeout: Duration, mut ok: impl FnMut() -> bool) {
    let t = Instant::now();
    while !ok() {
        assert!(t.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn inspector_drops_forbidden_paths_and_card_numbers_and_fails_open() {
    if let Some(why) = missing() {
        eprintln!("skipped: {why}");
        return;
    }
    let pid = std::process::id();
    let tag = format!("l7{}", pid % 100_000);
    let net = format!("10.{}.{}", 200 + (pid % 50), pid % 250);
    let Some(mut lab) = Lab::new(&tag, &net) else {
        eprintln!("skipped: cannot create network namespaces");
        return;
    };
    let queue = (pid % 60_000 + 10).to_string();
    for chain in [
        ["-A", "INPUT", "--dport", "8080"],
        ["-A", "OUTPUT", "--sport", "8080"],
        ["-A", "INPUT", "--dport", "8443"],
        ["-A", "OUTPUT", "--sport", "8443"],
    ] {
        let status = Command::new("ip")
            .args([
                "netns",
                "exec",
                &lab.server,
                "iptables",
                chain[0],
                chain[1],
                "-p",
                "tcp",
                chain[2],
                chain[3],
            ])
            .args(["-j", "NFQUEUE", "--queue-num", &queue, "--queue-bypass"])
            .status()
            .unwrap();
        if !status.success() {
            eprintln!("skipped: iptables NFQUEUE target unavailable");
            return;
        }
    }
    let tmp = tempfile::tempdir().unwrap();
    let www = tmp.path().join("www");
    web_root(&www);
    let policy = tmp.path().join("l7.yaml");
    std::fs::write(
        &policy,
        format!(
            "workloads:\n\
             \x20 - name: shop/web\n    addresses: [{net}.2/32]\n    mode: protect\n    ports: {{ \"8080\": [http], \"8443\": [tls] }}\n\
             \x20   http: {{ methods: [GET, POST], paths: [\"/api/*\", \"/cgi-bin/*\"] }}\n    dlp: {{ card: alert }}\n\
             \x20   tls: {{ sni: [\"*.shop.example\"] }}\n\
             \x20 - name: shop/strict\n    addresses: [{net}.3/32]\n    mode: protect\n\
             \x20   http: {{ paths: [\"/api/*\", \"/cgi-bin/*\"] }}\n    dlp: {{ card: drop }}\n"
        ),
    )
    .unwrap();
    lab.spawn_in_server(
        &["busybox", "httpd", "-f", "-p", "8080", "-h", www.to_str().unwrap()],
        Stdio::null(),
    );
    let response = tmp.path().join("response.yaml");
    std::fs::write(
        &response,
        "kind: ResponseRules\ndedup: 60s\nrules:\n  - name: card-blocked\n    when: { rule: \"DLP card\", workload: \"shop/strict\" }\n    actions: [alert, capture]\n    capture: { duration: 3s, max_bytes: 1048576 }\n",
    )
    .unwrap();
    let pcaps = tmp.path().join("pcap");
    let (key, cert) = (tmp.path().join("key.pem"), tmp.path().join("cert.pem"));
    let tls_server = tool_ok(
        "openssl",
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=api.shop.example",
            "-keyout",
            key.to_str().unwrap(),
            "-out",
            cert.to_str().unwrap(),
        ],
    );
    if tls_server {
        lab.spawn_in_server(
            &[
                "openssl",
                "s_server",
                "-accept",
                "8443",
                "-cert",
                cert.to_str().unwrap(),
                "-key",
                key.to_str().unwrap(),
                "-www",
                "-quiet",
            ],
            Stdio::null(),
        );
    }
    let alerts = tmp.path().join("alerts.jsonl");
    let stdout = std::fs::File::create(tmp.path().join("stdout.jsonl")).unwrap();
    let metrics_port = (20_000 + pid % 20_000).to_string();
    let inspector = lab.spawn_in_server(
        &[
            BIN,
            "network",
            "inspect",
            "--queue",
            &queue,
            "--rules",
            policy.to_str().unwrap(),
            "--output-file",
            alerts.to_str().unwrap(),
            "--response",
            response.to_str().unwrap(),
            "--metrics-addr",
            &format!("127.0.0.1:{metrics_port}"),
            "--capture-dir",
            pcaps.to_str().unwrap(),
        ],
        Stdio::from(stdout),
    );
    wait_for("the inspector to bind its queue", Duration::from_secs(20), || {
        lab.server_output(&["cat", "/proc/net/netfilter/nfnetlink_queue"])
            .lines()
            .any(|l| l.split_whitespace().next() == Some(queue.as_str()))
    });

    let web = format!("http://{net}.2:8080");
    let strict = format!("http://{net}.3:8080");
    assert_eq!(lab.curl(&format!("{web}/api/hello"), None), "200", "allowed path passes");
    assert_eq!(lab.curl(&format!("{web}/admin"), None), "000", "forbidden path is dropped");
    assert_eq!(lab.curl(&format!("{web}/api/hello"), None), "200", "new connections still pass");
    let card = "name=jane&card=4111 1111 1111 1111&cvv=123";
    assert_eq!(
        lab.curl(&format!("{web}/cgi-bin/pay"), Some(card)),
        "200",
        "alert mode lets the card through"
    );
    assert_eq!(lab.curl(&format!("{strict}/cgi-bin/pay"), Some("name=jane&amount=10")), "200");
    assert_eq!(lab.curl(&format!("{strict}/cgi-bin/pay"), Some(card)), "000", "drop mode: the request fails");

    if tls_server {
        let https = |name: &str| {
            let out = Command::new("ip")
                .args(["netns", "exec", &lab.client, "curl", "-sk", "-o", "/dev/null", "-w", "%{http_code}"])
                .args(["--max-time", "3", "--resolve", &format!("{name}:8443:{net}.2")])
                .arg(format!("https://{name}:8443/"))
                .output()
                .expect("curl");
            String::from_utf8_lossy(&out.stdout).trim().to_string()
        };
        assert_eq!(https("api.shop.example"), "200", "allowed TLS server name");
        assert_eq!(https("evil.example"), "000", "forbidden TLS server name: the ClientHello is dropped");
    } else {
        eprintln!("TLS part skipped: openssl cannot make a certificate");
    }

    // HTTP/2 with prior knowledge (busybox answers in HTTP/1.1, so only the inspector's view is checked).
    let h2 = |path: &str| {
        let _ = Command::new("ip")
            .args(["netns", "exec", &lab.client, "curl", "-s", "-o", "/dev/null", "--http2-prior-knowledge"])
            .args(["--max-time", "2", &format!("{web}{path}")])
            .status();
    };
    h2("/api/h2-allowed");
    h2("/admin/h2-forbidden");

    let text = std::fs::read_to_string(&alerts).unwrap();
    let lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let find = |rule: &str, workload: &str| {
        lines.iter().find(|a| a["rule"] == rule && a["output_fields"]["workload"] == workload).cloned()
    };
    let path = find("L7 HTTP request not allowed", "shop/web").expect("path alert");
    assert_eq!(path["output_fields"]["http.path"], "/admin");
    assert_eq!(path["output_fields"]["action"], "drop");
    let alert = find("DLP card", "shop/web").expect("DLP alert in alert mode");
    assert_eq!(alert["output_fields"]["action"], "alert");
    assert_eq!(alert["output_fields"]["dlp.preview"], "************1111");
    assert!(!text.contains("4111 1111 1111 1111"), "alerts never carry the card number");
    if tls_server {
        let sni = find("L7 TLS server name not allowed", "shop/web").expect("SNI alert");
        assert_eq!(sni["output_fields"]["tls.sni"], "evil.example");
    }
    let h2_alerts: Vec<&serde_json::Value> =
        lines.iter().filter(|a| a["output_fields"]["proto"] == "http2").collect();
    assert_eq!(h2_alerts.len(), 1, "{h2_alerts:?}");
    assert_eq!(h2_alerts[0]["output_fields"]["http.path"], "/admin/h2-forbidden");
    let drop = find("DLP card", "shop/strict").expect("DLP alert in drop mode");
    assert_eq!(drop["output_fields"]["action"], "drop");
    assert_eq!(drop["priority"], "Critical");
    let response = lines.iter().find(|a| a["rule"] == "Response card-blocked").expect("response rule alert");
    assert_eq!(response["output_fields"]["workload"], "shop/strict");
    assert_eq!(response["output_fields"]["trigger.rule"], "DLP card");
    assert!(
        find("DLP card", "shop/web").is_some()
            && lines.iter().filter(|a| a["rule"] == "Response card-blocked").count() == 1
    );

    // The response rule's capture: a pcap of the workload's namespace, closed at its 3 s bound.
    let written = || -> Option<std::path::PathBuf> {
        std::fs::read_dir(&pcaps).ok()?.filter_map(|e| e.ok().map(|e| e.path())).find(|p| {
            p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("shop_strict-"))
                && std::fs::metadata(p).is_ok_and(|m| m.len() > 24)
        })
    };
    wait_for("the response capture to close", Duration::from_secs(20), || written().is_some());
    let pcap = written().unwrap();
    if tool_ok("tcpdump", &["--version"]) {
        let read = Command::new("tcpdump").arg("-nr").arg(&pcap).output().unwrap();
        assert!(read.status.success(), "tcpdump -r: {}", String::from_utf8_lossy(&read.stderr));
    }

    let metrics = lab.server_output(&["curl", "-s", &format!("http://127.0.0.1:{metrics_port}/metrics")]);
    assert!(metrics.contains("palisade_l7_flows_detected_total{protocol=\"http1\"}"), "{metrics}");
    let dropped = metrics
        .lines()
        .find_map(|l| l.strip_prefix("palisade_l7_packets_total{verdict=\"drop\"} "))
        .and_then(|v| v.trim().parse::<f64>().ok());
    assert!(dropped.is_some_and(|n| n > 0.0), "{metrics}");

    // Fail open: with the inspector gone the kernel bypasses the queue.
    let _ = Command::new("kill").args(["-9", &inspector.to_string()]).status();
    wait_for("the queue to be released", Duration::from_secs(10), || {
        !lab.server_output(&["cat", "/proc/net/netfilter/nfnetlink_queue"])
            .lines()
            .any(|l| l.split_whitespace().next() == Some(queue.as_str()))
    });
    assert_eq!(lab.curl(&format!("{web}/admin"), None), "200", "queue bypass after the inspector died");
    assert_eq!(lab.curl(&format!("{strict}/cgi-bin/pay"), Some(card)), "200");
}

fn network_fixture(rel: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../palisade-network/fixtures").join(rel)
}

fn palisade(args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
    use std::io::Write;
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run palisade");
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[test]
fn respond_replays_alerts_through_response_rules() {
    let rules = network_fixture("response/rules.yaml");
    let alert = |time: &str, rule: &str, priority: &str, fields: &str| {
        format!(
            r#"{{"time":"{time}","rule":"{rule}","priority":"{priority}","output":"x","output_fields":{{{fields}}},"tags":[],"hostname":"n","source":"network"}}"#
        )
    };
    let card = |t: &str| alert(t, "DLP card", "Critical", r#""workload":"shop/web""#);
    let alerts = [
        card("2026-12-06T10:00:00Z"),
        card("2026-12-06T10:01:00Z"),
        "not json".to_string(),
        card("2026-12-06T10:02:00Z"),
        alert(
            "2026-12-06T10:03:00Z",
            "Terminal shell in container",
            "Notice",
            r#""k8s.ns.name":"shop","k8s.pod.name":"web-1","proc.pid":"4242""#,
        ),
    ]
    .join("\n");
    let (ok, out, err) = palisade(
        &["network", "respond", "--response", rules.to_str().unwrap(), "--alerts", "-"],
        Some(&alerts),
    );
    assert!(ok, "{err}");
    assert!(err.contains("-:3: not an alert"), "{err}");
    let done: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let actions: Vec<(&str, &str)> =
        done.iter().map(|d| (d["response_rule"].as_str().unwrap(), d["action"].as_str().unwrap())).collect();
    assert_eq!(
        actions,
        [
            ("card-leak", "alert"),
            ("card-leak", "capture"),
            ("card-leak", "quarantine"),
            ("shell-in-container", "alert"),
            ("shell-in-container", "kill")
        ]
    );
    assert!(done.iter().all(|d| d["result"] == "ok"));
    assert_eq!(done[4]["workload"], "shop/web-1");

    // The same rules carried in a policy bundle.
    let bundle = tempfile::tempdir().unwrap();
    std::fs::copy(&rules, bundle.path().join("response.yaml")).unwrap();
    std::fs::write(bundle.path().join("README.md"), "not a rules file\n").unwrap();
    let (ok, out_bundle, err) = palisade(
        &["network", "respond", "--response-bundle", bundle.path().to_str().unwrap(), "--alerts", "-"],
        Some(&alerts),
    );
    assert!(ok, "{err}");
    assert_eq!(out_bundle, out);

    let (ok, _, err) = palisade(&["network", "respond", "--alerts", "-"], Some(""));
    assert!(!ok && err.contains("no response rules"), "{err}");
}

#[test]
fn detect_and_dlp_commands_on_fixtures() {
    let tls = network_fixture("protocol/tls13.bin");
    let (ok, out, err) =
        palisade(&["network", "detect", "--client", tls.to_str().unwrap(), "--port", "443"], None);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!((v["protocol"].as_str(), v["info"]["sni"].as_str()), (Some("tls"), Some("secure.example")));

    let mixed = network_fixture("dlp/mixed.txt");
    let (ok, out, err) =
        palisade(&["network", "dlp", "--sensors", "card,sqli", mixed.to_str().unwrap()], None);
    assert!(ok, "{err}");
    let sensors: Vec<String> = out
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["finding"]["sensor"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(sensors, ["card", "card", "sqli"]);
    assert!(err.contains("MB/s"), "{err}");
    let (ok, _, err) = palisade(&["network", "dlp", "--sensors", "cards", mixed.to_str().unwrap()], None);
    assert!(!ok && err.contains("unknown sensor \"cards\""), "{err}");
}
