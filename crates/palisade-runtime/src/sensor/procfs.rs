//! What the kernel record does not carry, read from `/proc`: executable path, argv, cwd, session and
//! process group, and the parent chain. A pid table caches each process from its exec (or first sight) to
//! its exit, so ancestors are known even when their `/proc` entry is gone, and forks inherit their
//! parent's image as they do in the kernel.

use crate::event::ProcessRef;
use crate::sensor::record::split_nul;
use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

/// Most processes the table remembers; past it, the table is cleared (entries are re-read from `/proc`).
const MAX_ENTRIES: usize = 65536;
/// Parent chain depth reported in events.
pub const MAX_ANCESTORS: usize = 8;

/// One process as the table knows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProcInfo {
    pub ppid: u32,
    pub comm: String,
    pub exe: String,
    pub args: Vec<String>,
    pub cwd: Option<String>,
    pub sid: u32,
    pub vpgid: u32,
    pub start_ns: u64,
    pub exe_from_upper_layer: bool,
    /// `CapEff` and `CapPrm` of `/proc/PID/status`.
    pub cap_effective: Option<u64>,
    pub cap_permitted: Option<u64>,
}

/// The pid table.
pub struct ProcTable {
    root: PathBuf,
    procs: HashMap<u32, ProcInfo>,
    boot_time_ns: u64,
    ticks_per_sec: u64,
}

impl ProcTable {
    /// A table reading `proc_root` (normally `/proc`). `boot_time_ns` converts start times to the epoch.
    pub fn new(proc_root: impl Into<PathBuf>, boot_time_ns: u64) -> Self {
        let ticks = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK).ok().flatten().unwrap_or(100);
        ProcTable {
            root: proc_root.into(),
            procs: HashMap::new(),
            boot_time_ns,
            ticks_per_sec: ticks.max(1) as u64,
        }
    }

    /// The cached process, read from `/proc` on a miss (`None` when it is gone and was never seen).
    pub fn get(&mut self, pid: u32) -> Option<&ProcInfo> {
        if !self.procs.contains_key(&pid) {
            let info = self.read(pid)?;
            self.insert(pid, info);
        }
        self.procs.get(&pid)
    }

    fn insert(&mut self, pid: u32, info: ProcInfo) {
        if self.procs.len() >= MAX_ENTRIES {
            self.procs.clear();
        }
        self.procs.insert(pid, info);
    }

    /// An exec: the kernel's filename and argv, completed from `/proc` while the process still runs.
    pub fn exec(
        &mut self,
        pid: u32,
        ppid: u32,
        comm: &str,
        filename: &str,
        argv: Vec<String>,
        upper: bool,
    ) -> &ProcInfo {
        let live = self.read(pid);
        let cwd = live
            .as_ref()
            .and_then(|l| l.cwd.clone())
            .or_else(|| self.procs.get(&pid).and_then(|p| p.cwd.clone()));
        let exe = match live.as_ref().map(|l| l.exe.as_str()) {
            Some(e) if !e.is_empty() => e.to_string(),
            // a program re-executing itself (busybox applets): the image it had before the exec
            _ if filename == "/proc/self/exe" => {
                self.procs.get(&pid).map(|p| p.exe.clone()).unwrap_or_else(|| filename.to_string())
            }
            _ => absolute(filename, cwd.as_deref()),
        };
        let info = ProcInfo {
            ppid,
            comm: comm.to_string(),
            exe,
            args: if argv.is_empty() {
                live.as_ref().map(|l| l.args.clone()).unwrap_or_default()
            } else {
                argv
            },
            cwd,
            sid: live.as_ref().map_or(0, |l| l.sid),
            vpgid: live.as_ref().map_or(0, |l| l.vpgid),
            start_ns: live.as_ref().map_or(0, |l| l.start_ns),
            exe_from_upper_layer: upper,
            cap_effective: live.as_ref().and_then(|l| l.cap_effective),
            cap_permitted: live.as_ref().and_then(|l| l.cap_permitted),
        };
        self.insert(pid, info);
        &self.procs[&pid]
    }

    /// A fork: the child starts as a copy of its parent.
    pub fn fork(&mut self, parent: u32, child: u32) {
        if let Some(p) = self.get(parent).cloned() {
            self.insert(child, ProcInfo { ppid: parent, ..p });
        }
    }

    /// An exit: forget the process.
    pub fn exit(&mut self, pid: u32) {
        self.procs.remove(&pid);
    }

    /// The parent chain of a process whose parent is `ppid`, nearest first; argv only for the parent.
    pub fn ancestors(&mut self, mut ppid: u32) -> Vec<ProcessRef> {
        let mut out = Vec::new();
        while ppid != 0 && out.len() < MAX_ANCESTORS {
            let Some(p) = self.get(ppid) else { break };
            // argv for the parent only (Falco's `proc.pcmdline`); higher ancestors by name and path
            let args = if out.is_empty() { p.args.clone() } else { Vec::new() };
            out.push(ProcessRef { pid: ppid, comm: p.comm.clone(), exe: p.exe.clone(), args });
            let next = p.ppid;
            if next == ppid {
                break;
            }
            ppid = next;
        }
        out
    }

    /// The directory a relative path of a live process starts from: its cwd, or the directory fd
    /// `dirfd` (a syscall's directory argument as the sensor read it, see [`is_cwd`]).
    pub fn dir_path(&self, pid: u32, dirfd: u64) -> Option<String> {
        readlink(&dir_link(&self.root, pid, dirfd))
    }

    fn read(&self, pid: u32) -> Option<ProcInfo> {
        let dir = self.root.join(pid.to_string());
        let stat = std::fs::read_to_string(dir.join("stat")).ok()?;
        let (comm, fields) = parse_stat(&stat)?;
        let status = std::fs::read_to_string(dir.join("status")).unwrap_or_default();
        let innermost = |key: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(key))
                .and_then(|v| v.split_whitespace().last()?.parse().ok())
        };
        let field = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
        Some(ProcInfo {
            ppid: field(1) as u32,
            comm,
            exe: readlink(&dir.join("exe")).unwrap_or_default(),
            args: std::fs::read(dir.join("cmdline")).map(|b| split_nul(&b)).unwrap_or_default(),
            cwd: readlink(&dir.join("cwd")),
            sid: innermost("NSsid:").unwrap_or(field(3) as u32),
            vpgid: innermost("NSpgid:").unwrap_or(field(2) as u32),
            start_ns: self.boot_time_ns + field(19) * 1_000_000_000 / self.ticks_per_sec,
            exe_from_upper_layer: false,
            cap_effective: hex_field(&status, "CapEff:"),
            cap_permitted: hex_field(&status, "CapPrm:"),
        })
    }
}

/// `/proc/PID/stat`: the comm (between the first `(` and the last `)`) and the fields after it, from
/// `state` (index 0) on.
pub fn parse_stat(stat: &str) -> Option<(String, Vec<&str>)> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    if close < open {
        return None;
    }
    Some((stat[open + 1..close].to_string(), stat[close + 1..].split_whitespace().collect()))
}

fn hex_field(status: &str, key: &str) -> Option<u64> {
    status.lines().find_map(|l| l.strip_prefix(key)).and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
}

/// `openat`'s `AT_FDCWD`.
const AT_FDCWD: i32 = -100;

/// Whether a syscall's directory-fd argument, as the sensor read it from a register, names the cwd: the
/// fd is a C int and the register may not be sign-extended (`AT_FDCWD` arrives as 0xffffff9c).
pub fn is_cwd(dirfd: u64) -> bool {
    dirfd as i32 == AT_FDCWD
}

/// The magic link under `root` (`/proc`) naming the directory a relative path of `pid` starts from:
/// `PID/cwd`, or `PID/fd/N` for a directory fd.
pub fn dir_link(root: &Path, pid: u32, dirfd: u64) -> PathBuf {
    let dir = root.join(pid.to_string());
    if is_cwd(dirfd) { dir.join("cwd") } else { dir.join("fd").join((dirfd as i32).to_string()) }
}

fn readlink(p: &Path) -> Option<String> {
    let target = std::fs::read_link(p).ok()?;
    let s = target.to_string_lossy();
    Some(s.strip_suffix(" (deleted)").unwrap_or(&s).to_string())
}

/// `path` made absolute against `base` (when relative) and normalised lexically (`.`, `..`, `//`).
pub fn absolute(path: &str, base: Option<&str>) -> String {
    let joined = if path.starts_with('/') {
        PathBuf::from(path)
    } else {
        match base {
            Some(b) => Path::new(b).join(path),
            None => return path.to_string(),
        }
    };
    let mut out = PathBuf::from("/");
    for c in joined.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::ParentDir => {
                out.pop();
            }
            _ => {}
        }
    }
    out.to_string_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_with_spaces_and_parens_in_comm() {
        let (comm, f) = parse_stat("42 (a) b) S 1 42 42 0 -1").unwrap();
        assert_eq!(comm, "a) b");
        assert_eq!(f[1], "1");
        assert!(parse_stat("garbage").is_none());
    }

    #[test]
    fn paths_are_made_absolute() {
        assert_eq!(absolute("x/../y/./z", Some("/tmp")), "/tmp/y/z");
        assert_eq!(absolute("/etc//shadow", None), "/etc/shadow");
        assert_eq!(absolute("rel", None), "rel");
        assert_eq!(absolute("../../..", Some("/a")), "/");
    }

    #[test]
    fn this_process_and_its_parents() {
        let me = std::process::id();
        let mut t = ProcTable::new("/proc", 0);
        let info = t.get(me).unwrap().clone();
        assert!(!info.exe.is_empty() && info.cwd.is_some(), "{info:?}");
        let chain = t.ancestors(info.ppid);
        assert!(!chain.is_empty() && chain[0].pid == info.ppid);
        t.fork(me, u32::MAX - 1);
        assert_eq!(t.get(u32::MAX - 1).unwrap().exe, info.exe);
        t.exit(u32::MAX - 1);
        assert!(t.get(u32::MAX - 1).is_none());
    }
}
