//! The kernel sensor's record: the fixed layout `bpf/sensor.bpf.c` writes to the ring buffer, parsed without
//! `unsafe` (explicit offsets, little-endian as on every target the object is built for).
//!
//! A record is a header of [`HEADER_LEN`] bytes, then up to two NUL-terminated strings: `s1` (a path, the
//! exec filename, the source of a mount, a Unix socket path) and, only when `len2` is non-zero, `s2` at
//! `HEADER_LEN + S1_LEN` (the second path of a rename, the exec's argv, the mount target with its fstype at
//! `S1_LEN` inside it). The proc connector fallback produces the same [`Record`] with fewer fields set.

use thiserror::Error;

/// Bytes before `s1`; `sizeof(struct record) - S1_LEN - S2_LEN` in the C program.
pub const HEADER_LEN: usize = 152;
/// Size of the `s1` region (a path is truncated to this, NUL included).
pub const S1_LEN: usize = 512;
/// Size of the `s2` region.
pub const S2_LEN: usize = 1024;

/// What a record reports (the C program's `K_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RecordKind {
    Exec,
    Fork,
    Exit,
    Open,
    Rename,
    Unlink,
    Mkdir,
    Connect,
    Accept,
    Listen,
    Bind,
    Setuid,
    Setgid,
    Capset,
    Ptrace,
    Mount,
    Module,
    /// A DNS answer seen on a socket (UDP from port 53): the message in `s2`, the server in `raddr`.
    Dns,
}

impl RecordKind {
    /// Every kind, in the order of their codes (`K_EXEC` = 1 … `K_DNS` = 18 in `bpf/sensor.bpf.c`).
    pub const ALL: [RecordKind; 18] = {
        use RecordKind::*;
        [
            Exec, Fork, Exit, Open, Rename, Unlink, Mkdir, Connect, Accept, Listen, Bind, Setuid, Setgid,
            Capset, Ptrace, Mount, Module, Dns,
        ]
    };

    fn from_u32(v: u32) -> Option<Self> {
        Self::ALL.get((v as usize).checked_sub(1)?).copied()
    }

    /// The kind's code in the kernel records.
    pub fn code(self) -> u32 {
        Self::ALL.iter().position(|k| *k == self).map_or(0, |i| i as u32 + 1)
    }

    /// The event type (`Event::syscall`) records of this kind become, as rules name it.
    pub fn event_type(self) -> &'static str {
        use RecordKind::*;
        match self {
            Exec => "execve",
            Fork => "clone",
            Exit => "procexit",
            Open => "openat",
            Rename => "renameat2",
            Unlink => "unlinkat",
            Mkdir => "mkdirat",
            Connect => "connect",
            Accept => "accept4",
            Listen => "listen",
            Bind => "bind",
            Setuid => "setuid",
            Setgid => "setgid",
            Capset => "capset",
            Ptrace => "ptrace",
            Mount => "mount",
            Module => "finit_module",
            Dns => "dns",
        }
    }
}

/// One kernel record, fields as the C program fills them (meaning of `a0..a2` depends on the kind).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Record {
    pub kind: Option<RecordKind>,
    pub pid: u32,
    pub tid: u32,
    pub ppid: u32,
    pub uid: u32,
    pub gid: u32,
    pub vpid: u32,
    pub mntns: u32,
    /// cgroup v2 id of the calling task; 0 when the source does not know it.
    pub cgroup_id: u64,
    /// `CLOCK_BOOTTIME` nanoseconds (eBPF) or 0 (stamp on receipt).
    pub boot_ns: u64,
    pub result: Option<i64>,
    pub a0: u64,
    pub a1: u64,
    pub a2: u64,
    pub loginuid: u32,
    pub tty: u32,
    pub family: u8,
    pub proto: u8,
    pub exe_upper_layer: bool,
    pub lport: u16,
    pub rport: u16,
    pub laddr: [u8; 16],
    pub raddr: [u8; 16],
    pub comm: String,
    pub pidns_level: u32,
    /// For a relative open the kernel could not judge by its text: the directory it starts from, for the
    /// agent to judge ([`crate::sensor::quiet_dirs`]).
    pub dir_key: Option<DirKey>,
    pub s1: String,
    /// The `s2` region as read (argv keeps its NULs).
    pub s2: Vec<u8>,
    /// The container, attributed by the reader thread as the record arrives (while the runtime's state
    /// still exists: `runc run` removes it when the container exits).
    pub container: Option<crate::event::Container>,
}

/// A directory as the kernel names it for [`crate::sensor::quiet_dirs`]: the mount's unique id (statx's
/// `STATX_MNT_ID_UNIQUE`), the directory's inode, and the generation of paths the open saw (bumped by
/// every rename and mount-table change).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DirKey {
    pub mnt: u64,
    pub ino: u64,
    pub generation: u64,
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum RecordError {
    #[error("kernel record of {0} bytes is shorter than its {HEADER_LEN}-byte header")]
    Short(usize),
    #[error("kernel record has unknown kind {0}")]
    Kind(u32),
}

fn u16_at(b: &[u8], o: usize) -> u16 {
    u16::from_le_bytes([b[o], b[o + 1]])
}
fn u32_at(b: &[u8], o: usize) -> u32 {
    u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]])
}
fn u64_at(b: &[u8], o: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[o..o + 8]);
    u64::from_le_bytes(a)
}

/// Text up to the first NUL (lossy UTF-8: paths are bytes).
pub fn c_str(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}

impl Record {
    /// Parse one ring-buffer record.
    pub fn parse(b: &[u8]) -> Result<Record, RecordError> {
        if b.len() < HEADER_LEN {
            return Err(RecordError::Short(b.len()));
        }
        let kind_raw = u32_at(b, 0);
        let kind = RecordKind::from_u32(kind_raw).ok_or(RecordError::Kind(kind_raw))?;
        let flags = b[94];
        let len1 = usize::from(u16_at(b, 88)).min(S1_LEN);
        let len2 = usize::from(u16_at(b, 90)).min(S2_LEN);
        let body = &b[HEADER_LEN..];
        let s1 = if len2 > 0 { &body[..S1_LEN.min(body.len())] } else { &body[..len1.min(body.len())] };
        let s2 = if len2 > 0 && body.len() > S1_LEN {
            &body[S1_LEN..(S1_LEN + len2).min(body.len())]
        } else {
            &[][..]
        };
        let mut laddr = [0u8; 16];
        laddr.copy_from_slice(&b[100..116]);
        let mut raddr = [0u8; 16];
        raddr.copy_from_slice(&b[116..132]);
        Ok(Record {
            kind: Some(kind),
            pid: u32_at(b, 4),
            tid: u32_at(b, 8),
            ppid: u32_at(b, 12),
            uid: u32_at(b, 16),
            gid: u32_at(b, 20),
            vpid: u32_at(b, 24),
            mntns: u32_at(b, 28),
            cgroup_id: u64_at(b, 32),
            boot_ns: u64_at(b, 40),
            result: (flags & 2 != 0).then(|| u64_at(b, 48) as i64),
            a0: u64_at(b, 56),
            a1: u64_at(b, 64),
            a2: u64_at(b, 72),
            loginuid: u32_at(b, 80),
            tty: u32_at(b, 84),
            family: b[92],
            proto: b[93],
            exe_upper_layer: flags & 1 != 0,
            lport: u16_at(b, 96),
            rport: u16_at(b, 98),
            laddr,
            raddr,
            comm: c_str(&b[132..148]),
            pidns_level: u32_at(b, 148),
            // F_DIR_KEY: mount and inode in raddr, the generation in laddr
            dir_key: (flags & 4 != 0).then(|| DirKey {
                mnt: u64_at(b, 116),
                ino: u64_at(b, 124),
                generation: u64_at(b, 100),
            }),
            s1: c_str(s1),
            s2: s2.to_vec(),
            container: None,
        })
    }

    /// The exec's argv (NUL-separated in `s2`).
    pub fn argv(&self) -> Vec<String> {
        split_nul(&self.s2)
    }

    /// The mount target and file-system type (`s2` and `s2[S1_LEN..]`).
    pub fn mount_target_fstype(&self) -> (String, String) {
        let target = c_str(&self.s2);
        let fstype = if self.s2.len() > S1_LEN { c_str(&self.s2[S1_LEN..]) } else { String::new() };
        (target, fstype)
    }
}

/// NUL-separated strings (`/proc/PID/cmdline`, the exec record's argv); empty trailing items dropped.
pub fn split_nul(b: &[u8]) -> Vec<String> {
    let mut out: Vec<String> =
        b.split(|&c| c == 0).map(|s| String::from_utf8_lossy(s).into_owned()).collect();
    while out.last().is_some_and(|s| s.is_empty()) {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(kind: u32) -> Vec<u8> {
        let mut b = vec![0u8; HEADER_LEN];
        b[0..4].copy_from_slice(&kind.to_le_bytes());
        b[4..8].copy_from_slice(&42u32.to_le_bytes());
        b[32..40].copy_from_slice(&234u64.to_le_bytes());
        b[132..135].copy_from_slice(b"cat");
        b
    }

    #[test]
    fn open_record_with_one_string() {
        let mut b = header(4);
        b[48..56].copy_from_slice(&(-13i64).to_le_bytes());
        b[94] = 2;
        b[88..90].copy_from_slice(&12u16.to_le_bytes());
        b.extend_from_slice(b"/etc/shadow\0");
        let r = Record::parse(&b).unwrap();
        assert_eq!(r.kind, Some(RecordKind::Open));
        assert_eq!((r.pid, r.cgroup_id, r.comm.as_str()), (42, 234, "cat"));
        assert_eq!(r.result, Some(-13));
        assert_eq!(r.s1, "/etc/shadow");
        assert!(r.s2.is_empty());
        assert_eq!(r.dir_key, None);
    }

    #[test]
    fn relative_open_carries_its_directory() {
        let mut b = header(4);
        b[94] = 2 | 4;
        b[100..108].copy_from_slice(&7u64.to_le_bytes());
        b[116..124].copy_from_slice(&1234u64.to_le_bytes());
        b[124..132].copy_from_slice(&5678u64.to_le_bytes());
        b[88..90].copy_from_slice(&5u16.to_le_bytes());
        b.extend_from_slice(b"file\0");
        let r = Record::parse(&b).unwrap();
        assert_eq!(r.dir_key, Some(DirKey { mnt: 1234, ino: 5678, generation: 7 }));
        assert_eq!(r.s1, "file");
    }

    #[test]
    fn exec_record_with_argv() {
        let mut b = header(1);
        b[88..90].copy_from_slice(&8u16.to_le_bytes());
        b[90..92].copy_from_slice(&14u16.to_le_bytes());
        b[94] = 1;
        let mut s1 = vec![0u8; S1_LEN];
        s1[..7].copy_from_slice(b"/bin/sh");
        b.extend_from_slice(&s1);
        b.extend_from_slice(b"sh\0-c\0echo hi\0");
        let r = Record::parse(&b).unwrap();
        assert_eq!(r.s1, "/bin/sh");
        assert!(r.exe_upper_layer);
        assert_eq!(r.result, None);
        assert_eq!(r.argv(), ["sh", "-c", "echo hi"]);
    }

    #[test]
    fn malformed_records_are_errors() {
        assert_eq!(Record::parse(&[0u8; 10]), Err(RecordError::Short(10)));
        assert_eq!(Record::parse(&header(99)), Err(RecordError::Kind(99)));
        // a length field larger than the record is clamped, not trusted
        let mut b = header(4);
        b[88..90].copy_from_slice(&u16::MAX.to_le_bytes());
        b.extend_from_slice(b"/x");
        assert_eq!(Record::parse(&b).unwrap().s1, "/x");
    }
}
