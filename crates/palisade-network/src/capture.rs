//! Packet capture in a container's network namespace, into pcap files bounded by time and size and
//! rotated.
//!
//! An `AF_PACKET` socket opened inside the namespace sees every packet of its interfaces, both ways
//! (loopback is left out unless asked for by name: it would show each packet twice). Packets are written
//! with `pcap-file` (Ethernet link type, microsecond timestamps, cut at the snap length) to
//! `DIR/PREFIX-NNN.pcap`; a file that reaches the file size limit is closed and the next one started, and
//! only the newest files are kept. The capture stops at its duration, at its total size, or when asked
//! ([`Running::stop`]; a response rule's trigger or a signal).

use crate::netns::{Netns, NetnsError};
use nix::sys::socket::{
    AddressFamily, LinkAddr, SockFlag, SockProtocol, SockType, recvfrom, setsockopt, socket, sockopt,
};
use nix::sys::time::TimeVal;
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use serde::Serialize;
use std::fs::File;
use std::io::BufWriter;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};
use thiserror::Error;

/// Bytes of the pcap file header and of each packet record header.
const FILE_HEADER: u64 = 24;
const RECORD_HEADER: u64 = 16;

/// What to capture and its bounds.
#[derive(Debug, Clone)]
pub struct CaptureConfig {
    pub netns: Netns,
    /// Directory the files go to (created if missing).
    pub dir: PathBuf,
    /// File name prefix (a plain name: letters, digits, `-`, `_`, `.`).
    pub prefix: String,
    /// Only this interface of the namespace (`eth0`, `lo`); every one but `lo` when `None`.
    pub interface: Option<String>,
    /// Stop after this long.
    pub duration: Duration,
    /// Stop when this many bytes were written, all files together.
    pub max_bytes: u64,
    /// Start a new file when the current one would grow past this.
    pub file_bytes: u64,
    /// Keep at most this many files (the oldest are deleted).
    pub max_files: usize,
    /// Bytes kept of each packet.
    pub snaplen: u32,
}

impl CaptureConfig {
    /// A capture of `netns` into `dir` with the default bounds: 60 s, 100 MB in files of 10 MB, 10 files.
    pub fn new(netns: Netns, dir: PathBuf) -> CaptureConfig {
        CaptureConfig {
            netns,
            dir,
            prefix: "capture".into(),
            interface: None,
            duration: Duration::from_secs(60),
            max_bytes: 100_000_000,
            file_bytes: 10_000_000,
            max_files: 10,
            snaplen: 65535,
        }
    }
}

/// Why a capture ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stopped {
    Duration,
    MaxBytes,
    Requested,
}

/// What a capture wrote.
#[derive(Debug, Clone, Serialize)]
pub struct CaptureSummary {
    /// Files kept, oldest first.
    pub files: Vec<PathBuf>,
    /// Files deleted by rotation.
    pub rotated_out: usize,
    pub packets: u64,
    /// Bytes written, headers included.
    pub bytes: u64,
    pub stopped: Stopped,
}

#[derive(Debug, Error)]
pub enum CaptureError {
    #[error(transparent)]
    Netns(#[from] NetnsError),
    #[error("capture in network namespace {ns}: {what}: {source}")]
    Socket { ns: String, what: &'static str, source: nix::Error },
    #[error("capture in network namespace {ns}: no interface {name:?} there")]
    NoInterface { ns: String, name: String },
    #[error("capture file {path}: {source}")]
    File { path: String, source: std::io::Error },
    #[error("capture file {path}: {source}")]
    Pcap { path: String, source: pcap_file::pcap::PcapWriteError },
    #[error("capture: {0}")]
    Config(String),
}

/// The packet socket, and the interfaces it keeps packets of.
struct Tap {
    fd: OwnedFd,
    only: Option<u32>,
    loopback: Option<u32>,
}

fn open_tap(config: &CaptureConfig) -> Result<Tap, CaptureError> {
    let ns = config.netns.to_string();
    let interface = config.interface.clone();
    config.netns.run(move || -> Result<Tap, CaptureError> {
        let sock_err = |what, source| CaptureError::Socket { ns: ns.clone(), what, source };
        let fd = socket(AddressFamily::Packet, SockType::Raw, SockFlag::SOCK_CLOEXEC, SockProtocol::EthAll)
            .map_err(|e| sock_err("AF_PACKET socket", e))?;
        setsockopt(&fd, sockopt::ReceiveTimeout, &TimeVal::new(0, 100_000))
            .map_err(|e| sock_err("receive timeout", e))?;
        let only = match &interface {
            Some(name) => Some(
                nix::net::if_::if_nametoindex(name.as_str())
                    .map_err(|_| CaptureError::NoInterface { ns: ns.clone(), name: name.clone() })?,
            ),
            None => None,
        };
        let loopback = nix::net::if_::if_nametoindex("lo").ok();
        Ok(Tap { fd, only, loopback })
    })?
}

/// The files of one capture, rotated.
struct Files<'a> {
    config: &'a CaptureConfig,
    kept: Vec<PathBuf>,
    rotated_out: usize,
    next: usize,
    current: Option<(PcapWriter<BufWriter<File>>, u64, PathBuf)>,
}

impl Files<'_> {
    fn open_next(&mut self) -> Result<(), CaptureError> {
        self.close()?;
        let path = self.config.dir.join(format!("{}-{:03}.pcap", self.config.prefix, self.next));
        self.next += 1;
        let file_err = |source| CaptureError::File { path: path.display().to_string(), source };
        let file = File::create(&path).map_err(file_err)?;
        let header = PcapHeader { snaplen: self.config.snaplen, ..PcapHeader::default() };
        let writer = PcapWriter::with_header(BufWriter::new(file), header)
            .map_err(|source| CaptureError::Pcap { path: path.display().to_string(), source })?;
        self.kept.push(path.clone());
        self.current = Some((writer, FILE_HEADER, path));
        while self.kept.len() > self.config.max_files.max(1) {
            let old = self.kept.remove(0);
            std::fs::remove_file(&old)
                .map_err(|source| CaptureError::File { path: old.display().to_string(), source })?;
            self.rotated_out += 1;
        }
        Ok(())
    }

    fn close(&mut self) -> Result<(), CaptureError> {
        if let Some((mut writer, _, path)) = self.current.take() {
            writer
                .flush()
                .map_err(|source| CaptureError::Pcap { path: path.display().to_string(), source })?;
        }
        Ok(())
    }

    /// Write one packet; the bytes it took in the file.
    fn write(&mut self, time: Duration, data: &[u8], orig_len: u32) -> Result<u64, CaptureError> {
        let record = RECORD_HEADER + data.len() as u64;
        let full = self
            .current
            .as_ref()
            .is_none_or(|(_, size, _)| *size + record > self.config.file_bytes && *size > FILE_HEADER);
        let mut added = record;
        if full {
            self.open_next()?;
            added += FILE_HEADER;
        }
        let Some((writer, size, path)) = self.current.as_mut() else { return Ok(0) };
        let packet = PcapPacket::new(time, orig_len, data)
            .map_err(|e| CaptureError::Config(format!("packet of {} bytes: {e}", data.len())))?;
        writer
            .write_packet(&packet)
            .map_err(|source| CaptureError::Pcap { path: path.display().to_string(), source })?;
        *size += record;
        Ok(added)
    }
}

fn valid_prefix(prefix: &str) -> bool {
    !prefix.is_empty()
        && !prefix.starts_with('.')
        && prefix.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Check the configuration, create the directory and open the packet socket in the namespace.
fn prepare(config: &CaptureConfig) -> Result<Tap, CaptureError> {
    if !valid_prefix(&config.prefix) {
        return Err(CaptureError::Config(format!(
            "file prefix {:?} must be a plain name (letters, digits, '-', '_', '.')",
            config.prefix
        )));
    }
    if config.max_bytes == 0 || config.file_bytes <= FILE_HEADER + RECORD_HEADER || config.snaplen == 0 {
        return Err(CaptureError::Config(
            "the size limits and the snap length must leave room for a packet".into(),
        ));
    }
    std::fs::create_dir_all(&config.dir)
        .map_err(|source| CaptureError::File { path: config.dir.display().to_string(), source })?;
    open_tap(config)
}

/// Capture until a bound is reached or `stop` turns true.
pub fn capture(config: &CaptureConfig, stop: &AtomicBool) -> Result<CaptureSummary, CaptureError> {
    let tap = prepare(config)?;
    record(config, &tap, stop)
}

/// The capture loop on an open socket.
fn record(config: &CaptureConfig, tap: &Tap, stop: &AtomicBool) -> Result<CaptureSummary, CaptureError> {
    // Numbering goes on after the files an earlier capture with this prefix left: they are never overwritten.
    let next = files(&config.dir, &config.prefix)
        .map_err(|source| CaptureError::File { path: config.dir.display().to_string(), source })?
        .iter()
        .filter_map(|p| file_number(p, &config.prefix))
        .max()
        .map_or(0, |n| n + 1);
    let mut files = Files { config, kept: Vec::new(), rotated_out: 0, next, current: None };
    // The first file from the start: a capture that sees nothing still leaves a (valid, empty) pcap.
    files.open_next()?;
    let started = Instant::now();
    let mut buf = vec![0u8; 256 * 1024];
    let (mut packets, mut bytes) = (0u64, FILE_HEADER);
    let stopped = loop {
        if stop.load(Ordering::Relaxed) {
            break Stopped::Requested;
        }
        if started.elapsed() >= config.duration {
            break Stopped::Duration;
        }
        let (len, addr) = match recvfrom::<LinkAddr>(tap.fd.as_raw_fd(), &mut buf) {
            Ok(got) => got,
            Err(nix::Error::EAGAIN | nix::Error::EINTR) => continue,
            Err(source) => {
                return Err(CaptureError::Socket { ns: config.netns.to_string(), what: "receive", source });
            }
        };
        let ifindex = addr.map(|a| a.ifindex() as u32);
        let wanted = match tap.only {
            Some(only) => ifindex == Some(only),
            None => ifindex.is_none() || ifindex != tap.loopback,
        };
        if !wanted {
            continue;
        }
        let kept = len.min(config.snaplen as usize);
        if bytes + RECORD_HEADER + kept as u64 > config.max_bytes {
            break Stopped::MaxBytes;
        }
        let time = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
        let orig_len = u32::try_from(len).unwrap_or(u32::MAX);
        bytes += files.write(time, &buf[..kept], orig_len)?;
        packets += 1;
    };
    files.close()?;
    Ok(CaptureSummary { files: files.kept, rotated_out: files.rotated_out, packets, bytes, stopped })
}

/// A capture running on a thread of its own.
pub struct Running {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<Result<CaptureSummary, CaptureError>>,
}

impl Running {
    /// Start capturing: the socket is open when this returns (a bad configuration or namespace is an
    /// error here), packets are written on a thread until [`Running::stop`] or a bound.
    pub fn start(config: CaptureConfig) -> Result<Running, CaptureError> {
        let tap = prepare(&config)?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("capture".into())
            .spawn(move || record(&config, &tap, &flag))
            .map_err(|source| CaptureError::File { path: "<capture thread>".into(), source })?;
        Ok(Running { stop, thread })
    }

    /// Whether the capture ended by itself (a bound was reached or it failed).
    pub fn finished(&self) -> bool {
        self.thread.is_finished()
    }

    /// Stop and return what was written.
    pub fn stop(self) -> Result<CaptureSummary, CaptureError> {
        self.stop.store(true, Ordering::Relaxed);
        match self.thread.join() {
            Ok(result) => result,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
}

/// The number of a file `PREFIX-NNN.pcap`.
fn file_number(path: &Path, prefix: &str) -> Option<usize> {
    let name = path.file_name()?.to_str()?;
    name.strip_prefix(prefix)?.strip_prefix('-')?.strip_suffix(".pcap")?.parse().ok()
}

/// The pcap files of a capture directory for `prefix`, oldest first.
pub fn files(dir: &Path, prefix: &str) -> std::io::Result<Vec<PathBuf>> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| file_number(p, prefix).is_some())
        .collect();
    found.sort_by_key(|p| file_number(p, prefix));
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_keeps_the_newest_files_within_their_size() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = CaptureConfig::new(Netns::Pid(1), dir.path().to_path_buf());
        config.file_bytes = 200;
        config.max_files = 2;
        let mut files = Files { config: &config, kept: Vec::new(), rotated_out: 0, next: 0, current: None };
        let data = [0xabu8; 100];
        for i in 0..5u64 {
            files.write(Duration::from_secs(1_700_000_000 + i), &data, 100).unwrap();
        }
        files.close().unwrap();
        // 24 + 116 fits one packet per 200-byte file: five files written, the three oldest rotated out.
        assert_eq!(files.rotated_out, 3);
        let names: Vec<String> =
            files.kept.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
        assert_eq!(names, ["capture-003.pcap", "capture-004.pcap"]);
        assert_eq!(super::files(dir.path(), "capture").unwrap(), files.kept);
        for f in &files.kept {
            assert_eq!(std::fs::metadata(f).unwrap().len(), 24 + 16 + 100);
        }
    }

    #[test]
    fn prefixes_must_be_plain_names() {
        assert!(valid_prefix("web-7d9f.c1_x"));
        for bad in ["", "../x", "a/b", ".hidden"] {
            assert!(!valid_prefix(bad), "{bad}");
        }
    }
}
