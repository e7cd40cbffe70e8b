//! Fallback source: the netlink proc connector (`NETLINK_CONNECTOR`, group `CN_IDX_PROC`). It reports
//! fork, exec, uid/gid changes and exit, without files or network; the image and argv are read from
//! `/proc` when the event arrives (racy for processes that exit at once).

use crate::sensor::Queue;
use crate::sensor::record::{Record, RecordKind};
use netlink_sys::{Socket, SocketAddr, protocols::NETLINK_CONNECTOR};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use std::os::fd::AsFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

const CN_IDX_PROC: u32 = 1;
const CN_VAL_PROC: u32 = 1;
const PROC_CN_MCAST_LISTEN: u32 = 1;
const NLMSG_DONE: u16 = 3;
const NLMSG_HDR: usize = 16;
const CN_MSG: usize = 20;
/// `what`, `cpu`, `timestamp_ns` of `struct proc_event`.
const EVENT_HDR: usize = 16;

const PROC_EVENT_FORK: u32 = 0x1;
const PROC_EVENT_EXEC: u32 = 0x2;
const PROC_EVENT_UID: u32 = 0x4;
const PROC_EVENT_GID: u32 = 0x40;
const PROC_EVENT_EXIT: u32 = 0x8000_0000;

/// Subscribe to process events; the reader thread sends records until `stop`.
pub fn start(mut queue: Queue, stop: Arc<AtomicBool>) -> Result<JoinHandle<()>, String> {
    let mut socket = Socket::new(NETLINK_CONNECTOR).map_err(|e| format!("netlink connector socket: {e}"))?;
    socket
        .bind(&SocketAddr::new(std::process::id(), CN_IDX_PROC))
        .map_err(|e| format!("binding the proc connector (needs CAP_NET_ADMIN): {e}"))?;
    let _ = socket.set_rx_buf_sz(8 * 1024 * 1024);
    let mut msg = Vec::with_capacity(NLMSG_HDR + CN_MSG + 4);
    msg.extend_from_slice(&((NLMSG_HDR + CN_MSG + 4) as u32).to_ne_bytes());
    msg.extend_from_slice(&NLMSG_DONE.to_ne_bytes());
    msg.extend_from_slice(&0u16.to_ne_bytes()); // flags
    msg.extend_from_slice(&0u32.to_ne_bytes()); // seq
    msg.extend_from_slice(&std::process::id().to_ne_bytes());
    msg.extend_from_slice(&CN_IDX_PROC.to_ne_bytes());
    msg.extend_from_slice(&CN_VAL_PROC.to_ne_bytes());
    msg.extend_from_slice(&0u32.to_ne_bytes()); // seq
    msg.extend_from_slice(&0u32.to_ne_bytes()); // ack
    msg.extend_from_slice(&4u16.to_ne_bytes()); // len
    msg.extend_from_slice(&0u16.to_ne_bytes()); // flags
    msg.extend_from_slice(&PROC_CN_MCAST_LISTEN.to_ne_bytes());
    socket.send(&msg, 0).map_err(|e| format!("proc connector listen request: {e}"))?;
    let me = std::process::id();
    let handle = std::thread::Builder::new()
        .name("proc-connector".into())
        .spawn(move || {
            let stats = queue.stats.clone();
            let mut buf = Vec::with_capacity(64 * 1024);
            while !stop.load(Ordering::Relaxed) {
                let ready = {
                    let mut fds = [PollFd::new(socket.as_fd(), PollFlags::POLLIN)];
                    poll(&mut fds, PollTimeout::from(100u16)).unwrap_or(0)
                };
                if ready == 0 {
                    continue;
                }
                buf.clear();
                match socket.recv(&mut buf, 0) {
                    Ok(_) => {}
                    Err(e) if e.raw_os_error() == Some(nix::libc::ENOBUFS) => {
                        stats.source_drops.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                    Err(e) => {
                        tracing::warn!("proc connector: {e}");
                        continue;
                    }
                }
                for record in parse_messages(&buf).into_iter().filter(|r| r.pid != me) {
                    stats.received.fetch_add(1, Ordering::Relaxed);
                    queue.push(complete(record));
                }
            }
        })
        .map_err(|e| format!("starting the proc connector thread: {e}"))?;
    Ok(handle)
}

fn u32_at(b: &[u8], o: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(o..o + 4)?.try_into().ok()?))
}

/// The records in one datagram (several netlink messages may be batched).
pub fn parse_messages(b: &[u8]) -> Vec<Record> {
    let mut out = Vec::new();
    let mut off = 0;
    while let Some(len) = u32_at(b, off).map(|l| l as usize) {
        if len < NLMSG_HDR || off + len > b.len() {
            break;
        }
        if let Some(r) = parse_event(&b[off + NLMSG_HDR + CN_MSG.min(len - NLMSG_HDR)..off + len]) {
            out.push(r);
        }
        off += (len + 3) & !3;
    }
    out
}

fn parse_event(e: &[u8]) -> Option<Record> {
    let what = u32_at(e, 0)?;
    let d = EVENT_HDR;
    let mut r = Record::default();
    match what {
        PROC_EVENT_FORK => {
            let (parent_tgid, child_pid, child_tgid) =
                (u32_at(e, d + 4)?, u32_at(e, d + 8)?, u32_at(e, d + 12)?);
            if child_pid != child_tgid {
                return None;
            }
            r.kind = Some(RecordKind::Fork);
            r.pid = parent_tgid;
            r.tid = parent_tgid;
            r.a0 = u64::from(child_tgid);
        }
        PROC_EVENT_EXEC => {
            r.kind = Some(RecordKind::Exec);
            r.tid = u32_at(e, d)?;
            r.pid = u32_at(e, d + 4)?;
        }
        PROC_EVENT_UID | PROC_EVENT_GID => {
            r.kind = Some(if what == PROC_EVENT_UID { RecordKind::Setuid } else { RecordKind::Setgid });
            r.tid = u32_at(e, d)?;
            r.pid = u32_at(e, d + 4)?;
            r.a0 = u64::from(u32_at(e, d + 12)?); // effective id
        }
        PROC_EVENT_EXIT => {
            let (pid, tgid) = (u32_at(e, d)?, u32_at(e, d + 4)?);
            if pid != tgid {
                return None;
            }
            r.kind = Some(RecordKind::Exit);
            r.pid = tgid;
            r.tid = pid;
            r.a0 = u64::from(u32_at(e, d + 8)?);
            r.ppid = u32_at(e, d + 20).unwrap_or(0);
        }
        _ => return None,
    }
    r.loginuid = u32::MAX;
    Some(r)
}

/// Fill comm, parent and ids from `/proc/PID/status` (the connector's events carry only pids).
fn complete(mut r: Record) -> Record {
    let Ok(status) = std::fs::read_to_string(format!("/proc/{}/status", r.pid)) else { return r };
    for line in status.lines() {
        let mut it = line.split_whitespace();
        match it.next() {
            Some("Name:") => r.comm = it.next().unwrap_or_default().to_string(),
            Some("PPid:") if r.ppid == 0 => r.ppid = it.next().and_then(|v| v.parse().ok()).unwrap_or(0),
            Some("Uid:") => r.uid = it.nth(1).and_then(|v| v.parse().ok()).unwrap_or(0),
            Some("Gid:") => r.gid = it.nth(1).and_then(|v| v.parse().ok()).unwrap_or(0),
            _ => {}
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(what: u32, data: &[u32]) -> Vec<u8> {
        let len = NLMSG_HDR + CN_MSG + EVENT_HDR + data.len() * 4;
        let mut m = vec![0u8; NLMSG_HDR + CN_MSG];
        m[..4].copy_from_slice(&(len as u32).to_ne_bytes());
        m.extend_from_slice(&what.to_ne_bytes());
        m.extend_from_slice(&[0u8; 12]);
        for v in data {
            m.extend_from_slice(&v.to_ne_bytes());
        }
        m
    }

    #[test]
    fn fork_exec_exit_and_threads() {
        let mut b = message(PROC_EVENT_FORK, &[10, 10, 11, 11]);
        b.extend(message(PROC_EVENT_FORK, &[10, 10, 12, 11])); // a thread: skipped
        b.extend(message(PROC_EVENT_EXEC, &[11, 11]));
        b.extend(message(PROC_EVENT_EXIT, &[11, 11, 256, 17, 10, 10]));
        let r = parse_messages(&b);
        let kinds: Vec<_> = r.iter().map(|r| r.kind.unwrap()).collect();
        assert_eq!(kinds, [RecordKind::Fork, RecordKind::Exec, RecordKind::Exit]);
        assert_eq!((r[0].pid, r[0].a0), (10, 11));
        assert_eq!((r[2].a0, r[2].ppid), (256, 10));
        // truncated input ends the parse, no panic
        assert!(parse_messages(&b[..30]).is_empty());
    }
}
