//! The watch HTTP server on a real socket: health, readiness, metrics, push events queued, a full queue
//! refused with 503 (the registry sends again), bad envelopes refused, and a clean stop.

use palisade_watch::metrics::Metrics;
use palisade_watch::server::{self, Shared};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

#[test]
fn events_health_metrics_and_stop() {
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    let shared = Arc::new(Shared { metrics: Metrics::new(), ready: AtomicBool::new(false), events: tx });
    let stop = Arc::new(AtomicBool::new(false));
    let (addr, handle) = server::spawn(
        "127.0.0.1:0".parse().expect("addr"),
        shared.clone(),
        stop.clone(),
        Duration::from_secs(5),
    )
    .expect("serving");
    let agent = palisade_core::http::agent(Duration::from_secs(5));
    let get = |path: &str| {
        let mut r = agent.get(&format!("http://{addr}{path}")).call().expect("GET");
        (r.status().as_u16(), r.body_mut().read_to_string().unwrap_or_default())
    };
    let post = |body: &str| {
        let mut r = agent
            .post(&format!("http://{addr}/events"))
            .header("Content-Type", palisade_watch::events::MEDIA_TYPE)
            .send(body)
            .expect("POST");
        (r.status().as_u16(), r.body_mut().read_to_string().unwrap_or_default())
    };
    assert_eq!(get("/healthz"), (200, "ok\n".into()));
    assert_eq!(get("/readyz").0, 503, "not ready before the first poll");
    shared.ready.store(true, Ordering::SeqCst);
    assert_eq!(get("/readyz").0, 200);
    assert_eq!(get("/nope").0, 404);

    let events = include_str!("fixtures/events.json");
    // Two manifest pushes, room for one: the first is queued, then 503.
    let (code, body) = post(events);
    assert_eq!(code, 503, "{body}");
    assert_eq!(rx.try_recv().expect("one queued").repository, "team/app");
    assert_eq!(post("not an envelope").0, 400);
    let (_, metrics) = get("/metrics");
    assert!(metrics.contains("palisade_watch_events_total 1"), "{metrics}");
    assert!(metrics.contains("palisade_watch_events_dropped_total 1"), "{metrics}");

    stop.store(true, Ordering::SeqCst);
    handle.join().expect("thread").expect("served");
    assert!(!shared.ready.load(Ordering::SeqCst), "not ready once stopped");
    assert!(agent.get(&format!("http://{addr}/healthz")).call().is_err(), "no longer listening");
}
