//! Outputs end to end: a file, the syslog datagram socket (a socket bound by the test), an HTTP webhook
//! (a local server that fails once, so the retry is exercised), the per-rule rate limit and the
//! Prometheus counters.

use palisade_runtime::output::file::FileOutput;
use palisade_runtime::output::syslog::Syslog;
use palisade_runtime::output::webhook::{Webhook, WebhookConfig};
use palisade_runtime::output::{Alert, Emitted, Metrics, Outputs};
use palisade_runtime::rules::Priority;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

fn alert(rule: &str, priority: &str) -> Alert {
    Alert {
        time: "2026-12-06T09:31:18.000000000Z".into(),
        rule: rule.into(),
        priority: priority.into(),
        output: format!("09:31:18.000000000: {priority} {rule} fired"),
        output_fields: [("proc.name".to_string(), serde_json::Value::String("bash".into()))].into(),
        tags: vec!["container".into()],
        hostname: "node-1".into(),
        source: "syscall".into(),
    }
}

#[test]
fn file_output_rate_limit_priority_and_metrics() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("alerts.jsonl");
    let metrics = Arc::new(Metrics::new());
    let mut out = Outputs::new(metrics.clone());
    out.add(Box::new(FileOutput::open(&path, true).unwrap_or_else(|e| panic!("{e}"))));
    out.set_rate_limit(0.001, 2.0);
    out.set_min_priority(Priority::Notice);
    assert_eq!(out.emit(&alert("A", "Warning")), Emitted::Sent);
    assert_eq!(out.emit(&alert("A", "Warning")), Emitted::Sent);
    assert_eq!(out.emit(&alert("A", "Warning")), Emitted::RateLimited);
    assert_eq!(out.emit(&alert("B", "Critical")), Emitted::Sent);
    assert_eq!(out.emit(&alert("C", "Informational")), Emitted::BelowPriority);
    out.close();
    let lines: Vec<Alert> = std::fs::read_to_string(&path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(lines.iter().map(|a| a.rule.as_str()).collect::<Vec<_>>(), ["A", "A", "B"]);
    let text = metrics.encode();
    assert!(text.contains(r#"palisade_runtime_alerts_total{rule="A",priority="Warning"} 2"#), "{text}");
    assert!(text.contains(r#"palisade_runtime_alerts_rate_limited_total{rule="A"} 1"#), "{text}");
}

#[test]
fn syslog_rfc5424_over_a_datagram_socket() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let sock_path = dir.path().join("log.sock");
    let server = std::os::unix::net::UnixDatagram::bind(&sock_path).unwrap_or_else(|e| panic!("{e}"));
    server.set_read_timeout(Some(Duration::from_secs(5))).ok();
    let mut out = Outputs::new(Arc::new(Metrics::new()));
    out.add(Box::new(Syslog::connect(&sock_path).unwrap_or_else(|e| panic!("{e}"))));
    assert_eq!(out.emit(&alert("Terminal shell in container", "Notice")), Emitted::Sent);
    let mut buf = vec![0u8; 65536];
    let n = server.recv(&mut buf).unwrap_or_else(|e| panic!("{e}"));
    let msg = String::from_utf8_lossy(&buf[..n]).to_string();
    // user facility (1) * 8 + notice (5) = 13
    assert!(msg.starts_with("<13>1 2026-12-06T09:31:18.000000000Z node-1 palisade "), "{msg}");
    assert!(msg.contains(r#""rule":"Terminal shell in container""#), "{msg}");
    // A socket nobody listens on is a clear error.
    let missing =
        Syslog::connect(&dir.path().join("nope.sock")).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(missing.contains("syslog output") && missing.contains("nope.sock"), "{missing}");
}

/// A one-thread HTTP server: answers 500 to the first request, 200 to the others; returns the bodies.
fn serve(listener: TcpListener, requests: usize) -> std::thread::JoinHandle<Vec<String>> {
    std::thread::spawn(move || {
        let mut bodies = Vec::new();
        for i in 0..requests {
            let Ok((stream, _)) = listener.accept() else { break };
            stream.set_read_timeout(Some(Duration::from_secs(5))).ok();
            let mut reader = BufReader::new(stream);
            let mut len = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0u8; len];
            reader.read_exact(&mut body).ok();
            bodies.push(String::from_utf8_lossy(&body).to_string());
            let status = if i == 0 { "500 Internal Server Error" } else { "200 OK" };
            let mut s = reader.into_inner();
            let _ = write!(s, "HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        }
        bodies
    })
}

#[test]
fn webhook_retries_and_delivers_in_order() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    let server = serve(listener, 3);
    let metrics = Arc::new(Metrics::new());
    let mut cfg = WebhookConfig::new(format!("http://127.0.0.1:{port}/alerts"));
    cfg.backoff = Duration::from_millis(10);
    let mut out = Outputs::new(metrics.clone());
    out.add(Box::new(Webhook::start(cfg, metrics.clone()).unwrap_or_else(|e| panic!("{e}"))));
    assert_eq!(out.emit(&alert("A", "Warning")), Emitted::Sent);
    assert_eq!(out.emit(&alert("B", "Warning")), Emitted::Sent);
    out.close();
    let bodies = server.join().unwrap_or_default();
    assert_eq!(bodies.len(), 3, "one retry after the 500, then the second alert");
    assert!(
        bodies[0].contains(r#""rule":"A""#)
            && bodies[1].contains(r#""rule":"A""#)
            && bodies[2].contains(r#""rule":"B""#)
    );
    assert!(!metrics.encode().contains("palisade_runtime_output_errors_total{output=\"webhook\"}"));
    assert!(Webhook::start(WebhookConfig::new("ftp://x"), metrics).is_err());
}

#[test]
fn slack_webhook_posts_text_and_attachment() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    let server = serve(listener, 2);
    let metrics = Arc::new(Metrics::new());
    let mut cfg = WebhookConfig::new(format!("http://127.0.0.1:{port}/services/T/B/X"));
    cfg.backoff = Duration::from_millis(10);
    cfg.slack = true;
    let mut out = Outputs::new(metrics.clone());
    out.add(Box::new(Webhook::start(cfg, metrics).unwrap_or_else(|e| panic!("{e}"))));
    assert_eq!(out.emit(&alert("DLP card", "Critical")), Emitted::Sent);
    out.close();
    let bodies = server.join().unwrap_or_default();
    assert_eq!(bodies.len(), 2, "retried after the 500");
    let v: serde_json::Value = serde_json::from_str(&bodies[1]).unwrap_or_default();
    assert!(v["text"].as_str().is_some_and(|t| !t.is_empty()), "{v}");
    assert_eq!(v["attachments"][0]["color"], "#d40000");
    assert_eq!(v["attachments"][0]["fields"][0]["value"], "DLP card");
}
