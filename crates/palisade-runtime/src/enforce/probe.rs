//! The start-up probe: which enforcement facilities work on this kernel, found by trying each, and the
//! mechanism picked for each need (strongest first, as in the runtime feasibility notes §7).
//!
//! | need | picked, in order |
//! |---|---|
//! | block an exec before it runs | fanotify `FAN_OPEN_EXEC_PERM`; else kill after the exec |
//! | deny a file open | fanotify `FAN_OPEN_PERM`; else none (monitor only) |
//! | kill on violation | `bpf_send_signal` from `tp_btf/sched_process_exec`; else `kill(2)` |
//!
//! Tried and reported but not used by Palisade yet: BPF-LSM (`lsm/bprm_check_security`: load and attach a
//! program that returns the previous verdict), kprobes (attach a no-op to `security_bprm_check`) and
//! `bpf_override_return` (load only, never attached). On kernels where BPF-LSM works it is the preferred
//! in-kernel deny; here it does not load.
//!
//! fanotify is proved on a file of the agent's own: a `FAN_OPEN_PERM` mark, an open from a thread of the
//! agent answered `FAN_DENY` must fail with `EPERM`; the `FAN_OPEN_EXEC_PERM` mark must be accepted.

use crate::enforce::fanotify::Group;
use crate::enforce::responder::{Kind, respond};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

/// What the probe found: `Ok` works, `Err(why)` does not.
#[derive(Debug, Clone)]
pub struct Facilities {
    pub fanotify: Result<(), String>,
    pub bpf_send_signal: Result<(), String>,
    pub bpf_lsm: Result<(), String>,
    pub kprobe: Result<(), String>,
    pub bpf_override_return: Result<(), String>,
}

impl Facilities {
    pub fn all(&self) -> [(&'static str, &Result<(), String>); 5] {
        [
            ("fanotify", &self.fanotify),
            ("bpf_send_signal", &self.bpf_send_signal),
            ("bpf_lsm", &self.bpf_lsm),
            ("kprobe", &self.kprobe),
            ("bpf_override_return", &self.bpf_override_return),
        ]
    }

    /// One line per facility, for the agent's start-up notes.
    pub fn notes(&self) -> Vec<String> {
        self.all()
            .iter()
            .map(|(name, r)| match r {
                Ok(()) => format!("enforcement probe: {name}: works"),
                Err(e) => format!("enforcement probe: {name}: unavailable ({e})"),
            })
            .collect()
    }
}

/// Prove fanotify permission events on a file of our own.
pub fn fanotify() -> Result<(), String> {
    let group = Group::new(Kind::Open).map_err(|e| format!("fanotify_init(FAN_CLASS_CONTENT): {e}"))?;
    let path = std::env::temp_dir().join(format!("palisade-fanotify-probe-{}", std::process::id()));
    std::fs::write(&path, b"probe").map_err(|e| format!("{}: {e}", path.display()))?;
    let result = prove(&group, &path);
    drop(group);
    let _ = std::fs::remove_file(&path);
    result
}

fn prove(group: &Group, path: &std::path::Path) -> Result<(), String> {
    group.mark_inode(path).map_err(|e| format!("FAN_OPEN_PERM mark: {e}"))?;
    Group::new(Kind::Exec)
        .and_then(|g| g.mark_inode(path))
        .map_err(|e| format!("FAN_OPEN_EXEC_PERM mark: {e}"))?;
    let p = path.to_path_buf();
    let opener = std::thread::spawn(move || std::fs::File::open(&p).map(|_| ()));
    let end = Instant::now() + Duration::from_secs(2);
    let mut denied = false;
    while !denied && Instant::now() < end {
        let mut fds = [PollFd::new(group.fan.as_fd(), PollFlags::POLLIN)];
        if poll(&mut fds, PollTimeout::from(100u16)).unwrap_or(0) == 0 {
            continue;
        }
        for event in group.fan.read_events().unwrap_or_default() {
            respond(group, &event, false);
            denied = true;
        }
    }
    if !denied {
        // the open still waits: closing the group (by the caller) releases it
        return Err("no permission event within 2 s".into());
    }
    match opener.join() {
        Ok(Err(e)) if e.raw_os_error() == Some(nix::libc::EPERM) => Ok(()),
        Ok(Err(e)) => Err(format!("the denied open failed with {e}, not EPERM")),
        Ok(Ok(())) => Err("the denied open succeeded".into()),
        Err(_) => Err("the probe's opener thread panicked".into()),
    }
}

/// Try BPF-LSM, kprobes and `bpf_override_return` (see the module documentation).
#[cfg(palisade_bpf)]
pub fn bpf_facilities() -> (Result<(), String>, Result<(), String>, Result<(), String>) {
    use aya::programs::{KProbe, Lsm};
    let (mut obj, btf) = match crate::enforce::kill::imp::load() {
        Ok(o) => o,
        Err(e) => return (Err(e.clone()), Err(e.clone()), Err(e)),
    };
    let lsm = (|| {
        let p: &mut Lsm =
            obj.program_mut("probe_lsm").ok_or("no probe_lsm")?.try_into().map_err(|e| format!("{e}"))?;
        p.load("bprm_check_security", &btf)
            .map_err(|e| format!("load lsm/bprm_check_security: {}", chain(&e)))?;
        p.attach().map_err(|e| format!("attach lsm/bprm_check_security: {}", chain(&e)))?;
        Ok::<(), String>(())
    })();
    let kprobe = (|| {
        let p: &mut KProbe = obj
            .program_mut("probe_kprobe")
            .ok_or("no probe_kprobe")?
            .try_into()
            .map_err(|e| format!("{e}"))?;
        p.load().map_err(|e| format!("load kprobe: {}", chain(&e)))?;
        p.attach("security_bprm_check", 0)
            .map_err(|e| format!("attach kprobe/security_bprm_check: {}", chain(&e)))?;
        Ok::<(), String>(())
    })();
    let override_return = (|| {
        let p: &mut KProbe = obj
            .program_mut("probe_override")
            .ok_or("no probe_override")?
            .try_into()
            .map_err(|e| format!("{e}"))?;
        p.load().map_err(|e| format!("load a program calling bpf_override_return: {}", chain(&e)))?;
        Ok::<(), String>(())
    })();
    // dropping the object detaches and unloads every probe program
    drop(obj);
    (lsm, kprobe, override_return)
}

#[cfg(not(palisade_bpf))]
pub fn bpf_facilities() -> (Result<(), String>, Result<(), String>, Result<(), String>) {
    let e = env!("PALISADE_BPF_UNAVAILABLE").to_string();
    (Err(e.clone()), Err(e.clone()), Err(e))
}

#[cfg(palisade_bpf)]
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    // verifier logs run to many lines: keep the ones that say why, on one line
    let why: Vec<&str> = s
        .lines()
        .filter(|l| l.contains("os error") || l.contains("cannot") || l.contains("unknown func"))
        .collect();
    let one = if why.is_empty() { s.replace('\n', " | ") } else { why.join(" | ") };
    one.chars().take(300).collect()
}
