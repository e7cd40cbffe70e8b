//! Sensor events → connection observations for the connection graph (`palisade_network::graph`).
//!
//! A `connect` is the client side of a flow, an `accept` the server side; Unix sockets, raw sockets and
//! events without a peer address are left out. Workloads are named from the pod (namespace and the
//! `app.kubernetes.io/name` or `app` label, else the pod name), else the container's name, else its id
//! (short for a generated 64-digit id); host processes are `host`.

use crate::event::{Container, Event, EventKind};
use palisade_network::graph::{Graph, Observation, Side};
use std::collections::VecDeque;
use std::net::IpAddr;

/// `-EINPROGRESS`: a non-blocking connect under way, not a failure.
const EINPROGRESS: i64 = -115;

/// The workload name of a container (or `host`).
pub fn workload(container: Option<&Container>) -> String {
    let Some(c) = container else { return "host".into() };
    if let Some(pod) = &c.pod {
        let app = pod.labels.get("app.kubernetes.io/name").or_else(|| pod.labels.get("app"));
        return format!("{}/{}", pod.namespace, app.unwrap_or(&pod.name));
    }
    match &c.name {
        Some(name) if !name.is_empty() => name.clone(),
        // Runtimes' generated ids are 64 hex digits: the usual 12 are enough to tell them apart.
        _ if c.id.len() == 64 && c.id.bytes().all(|b| b.is_ascii_hexdigit()) => c.id[..12].to_string(),
        _ => c.id.clone(),
    }
}

/// The observation an event stands for, if it is a TCP/UDP connect or accept with a peer address.
pub fn observation(event: &Event) -> Option<Observation> {
    let (side, conn) = match &event.kind {
        EventKind::Connect(c) => (Side::Client, c),
        EventKind::Accept(c) => (Side::Server, c),
        _ => return None,
    };
    if conn.protocol != "tcp" && conn.protocol != "udp" {
        return None;
    }
    let remote: IpAddr = conn.remote_addr.as_deref()?.parse().ok()?;
    let local = match (conn.local_addr.as_deref().and_then(|a| a.parse().ok()), conn.local_port) {
        (Some(addr), Some(port)) => Some((addr, port)),
        _ => None,
    };
    let ok = match event.result {
        None => true,
        Some(r) => r >= 0 || (side == Side::Client && r == EINPROGRESS),
    };
    Some(Observation {
        time_ns: event.time_ns,
        workload: workload(event.container.as_ref()),
        side,
        protocol: conn.protocol.clone(),
        local,
        remote: (remote, conn.remote_port?),
        remote_name: conn.remote_name.clone(),
        ok,
    })
}

/// The agent's recent connections, for its `/graph` endpoint: the newest `capacity` observations (older ones
/// are dropped and counted), drawn into a graph on request.
#[derive(Debug)]
pub struct FlowLog {
    observations: VecDeque<Observation>,
    capacity: usize,
    /// Observations dropped because the log was full.
    pub dropped: u64,
}

impl FlowLog {
    pub fn new(capacity: usize) -> FlowLog {
        FlowLog { observations: VecDeque::new(), capacity: capacity.max(1), dropped: 0 }
    }

    /// Keep the event's observation, if it is a connect or accept.
    pub fn push(&mut self, event: &Event) {
        let Some(o) = observation(event) else { return };
        if self.observations.len() == self.capacity {
            self.observations.pop_front();
            self.dropped += 1;
        }
        self.observations.push_back(o);
    }

    pub fn graph(&self) -> Graph {
        Graph::build(&self.observations)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Connection, Pod, Process};

    fn connect(result: Option<i64>, protocol: &str) -> Event {
        Event {
            time_ns: 5,
            kind: EventKind::Connect(Connection {
                protocol: protocol.into(),
                local_addr: Some("10.0.0.2".into()),
                local_port: Some(40000),
                remote_addr: Some("10.0.0.3".into()),
                remote_port: Some(5432),
                remote_name: None,
            }),
            result,
            process: Process::default(),
            ancestors: vec![],
            container: Some(Container {
                id: "0123456789abcdef".into(),
                pod: Some(Pod {
                    name: "web-7d9f-x2x9z".into(),
                    namespace: "shop".into(),
                    labels: [("app".to_string(), "web".to_string())].into(),
                    ..Pod::default()
                }),
                ..Container::default()
            }),
        }
    }

    #[test]
    fn connects_become_client_observations_of_the_pod_workload() {
        let o = observation(&connect(Some(EINPROGRESS), "tcp")).unwrap();
        assert_eq!(o.workload, "shop/web");
        assert_eq!((o.side, o.ok, o.remote.1), (Side::Client, true, 5432));
        assert!(!observation(&connect(Some(-111), "tcp")).unwrap().ok);
        assert!(observation(&connect(Some(0), "unix")).is_none());
        assert_eq!(workload(None), "host");
        let generated = Container { id: "0123456789abcdef".repeat(4), ..Container::default() };
        assert_eq!(workload(Some(&generated)), "0123456789ab");
        let named = Container { id: "web-1".into(), ..Container::default() };
        assert_eq!(workload(Some(&named)), "web-1");
    }

    #[test]
    fn the_flow_log_keeps_the_newest_observations() {
        let mut log = FlowLog::new(2);
        for i in 0..3 {
            let mut e = connect(Some(0), "tcp");
            e.time_ns = i;
            log.push(&e);
        }
        log.push(&connect(Some(0), "unix"));
        assert_eq!(log.dropped, 1);
        let graph = log.graph();
        assert_eq!(graph.edges.len(), 1);
        assert_eq!((graph.edges[0].connections, graph.edges[0].first_seen_ns), (2, 1));
    }
}
