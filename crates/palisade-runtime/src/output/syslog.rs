//! Alerts to the local syslog daemon as RFC 5424 messages over its Unix datagram socket (`/dev/log`).
//!
//! `<PRI>1 TIMESTAMP HOSTNAME palisade PID alert - MSG`, facility `user`, severity from the priority
//! (Critical → 2, Warning → 4, …), the message being the alert's JSON.

use super::{Alert, OutputError, Sink};
use crate::rules::Priority;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};

/// The usual local syslog socket.
pub const DEFAULT_SOCKET: &str = "/dev/log";
const FACILITY_USER: u8 = 1;

pub struct Syslog {
    socket: UnixDatagram,
    path: PathBuf,
}

impl Syslog {
    pub fn connect(path: &Path) -> Result<Syslog, OutputError> {
        let socket = UnixDatagram::unbound().map_err(|e| OutputError::new("syslog", e))?;
        socket.connect(path).map_err(|e| OutputError::new("syslog", format!("{}: {e}", path.display())))?;
        Ok(Syslog { socket, path: path.to_path_buf() })
    }
}

/// RFC 5424 severity of a Falco priority.
pub fn severity(priority: &str) -> u8 {
    match Priority::parse(priority) {
        Some(Priority::Emergency) => 0,
        Some(Priority::Alert) => 1,
        Some(Priority::Critical) => 2,
        Some(Priority::Error) => 3,
        Some(Priority::Warning) => 4,
        Some(Priority::Notice) => 5,
        Some(Priority::Informational) | None => 6,
        Some(Priority::Debug) => 7,
    }
}

/// The RFC 5424 message for an alert.
pub fn format(alert: &Alert) -> String {
    let pri = FACILITY_USER * 8 + severity(&alert.priority);
    let host = if alert.hostname.is_empty() { "-" } else { alert.hostname.as_str() };
    format!("<{pri}>1 {} {host} palisade {} alert - {}", alert.time, std::process::id(), alert.to_json())
}

impl Sink for Syslog {
    fn name(&self) -> &str {
        "syslog"
    }

    fn send(&mut self, alert: &Alert) -> Result<(), OutputError> {
        self.socket
            .send(format(alert).as_bytes())
            .map(|_| ())
            .map_err(|e| OutputError::new("syslog", format!("{}: {e}", self.path.display())))
    }
}
