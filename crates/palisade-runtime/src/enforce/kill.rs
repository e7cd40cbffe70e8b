//! Kill on violation.
//!
//! In the kernel: `kill_on_exec` of `bpf/enforce.bpf.c` on `tp_btf/sched_process_exec` sends SIGKILL
//! from the exec'ing task itself when its executable is listed for its cgroup, so a listed program dies
//! before its first instruction, even where the pre-exec block does not reach (a mount not marked yet, a
//! kernel without fanotify permission events). At start the program proves itself on a child of the agent
//! (`sh -c 'read _; exec true'` listed by its thread group: it must die of SIGKILL at the exec). When it
//! cannot load or does not kill, kills are done from user space only (`kill(2)`).
//!
//! A process that already runs (an exec judged after the fact) is killed from user space at once; its
//! executable is then listed for its container, so the next exec of it there is killed in the kernel.

#[cfg(any(test, palisade_bpf))]
#[cfg(palisade_bpf)]
use std::time::{Duration, Instant};

pub struct Killer {
    #[cfg(palisade_bpf)]
    bpf: Option<imp::Bpf>,
    listed: usize,
}

/// Kill `pid` with SIGKILL from user space.
pub fn kill_now(pid: u32) -> Result<(), String> {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), nix::sys::signal::Signal::SIGKILL)
        .map_err(|e| format!("kill {pid}: {e}"))
}

impl Killer {
    /// A killer using user-space signals only.
    pub fn user_space() -> Killer {
        Killer {
            #[cfg(palisade_bpf)]
            bpf: None,
            listed: 0,
        }
    }

    /// Load and prove the in-kernel kill; on failure the killer works from user space and the error says
    /// why.
    pub fn start() -> (Killer, Result<(), String>) {
        #[cfg(palisade_bpf)]
        {
            match imp::Bpf::load_and_prove() {
                Ok(b) => (Killer { bpf: Some(b), listed: 0 }, Ok(())),
                Err(e) => (Killer::user_space(), Err(e)),
            }
        }
        #[cfg(not(palisade_bpf))]
        {
            (Killer::user_space(), Err(env!("PALISADE_BPF_UNAVAILABLE").to_string()))
        }
    }

    /// `bpf_send_signal` or `kill`.
    pub fn mechanism(&self) -> &'static str {
        #[cfg(palisade_bpf)]
        if self.bpf.is_some() {
            return "bpf_send_signal";
        }
        "kill"
    }

    /// Kill every later exec of the file with inode `ino` in cgroup `cgroup_id` in the kernel. `false`
    /// when there is no in-kernel kill.
    pub fn kill_execs_of(&mut self, cgroup_id: u64, ino: u64) -> Result<bool, String> {
        #[cfg(palisade_bpf)]
        if let Some(b) = self.bpf.as_mut() {
            b.list_exe(cgroup_id, ino)?;
            self.listed += 1;
            return Ok(true);
        }
        let _ = (cgroup_id, ino);
        Ok(false)
    }

    /// Executables listed for in-kernel kills so far.
    pub fn listed(&self) -> usize {
        self.listed
    }

    /// Processes the kernel side killed so far (by executable, by thread group).
    pub fn in_kernel_kills(&self) -> (u64, u64) {
        #[cfg(palisade_bpf)]
        if let Some(b) = self.bpf.as_ref() {
            return b.kills();
        }
        (0, 0)
    }
}

/// Wait for `child` at most `limit`; `None` when it is still running (it is then killed and reaped).
#[cfg(palisade_bpf)]
pub(crate) fn wait_limited(
    child: &mut std::process::Child,
    limit: Duration,
) -> Option<std::process::ExitStatus> {
    let end = Instant::now() + limit;
    loop {
        if let Ok(Some(s)) = child.try_wait() {
            return Some(s);
        }
        if Instant::now() > end {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[cfg(palisade_bpf)]
pub(crate) mod imp {
    use super::wait_limited;
    use aya::maps::{Array, HashMap, MapData};
    use aya::programs::BtfTracePoint;
    use aya::{Btf, Ebpf, EbpfLoader};
    use std::io::Write;
    use std::os::unix::process::ExitStatusExt;
    use std::process::{Command, Stdio};
    use std::time::Duration;

    pub static OBJECT: &[u8] = aya::include_bytes_aligned!(concat!(env!("OUT_DIR"), "/enforce.bpf.o"));

    pub fn load() -> Result<(Ebpf, Btf), String> {
        let btf = Btf::from_sys_fs().map_err(|e| format!("no kernel BTF: {e}"))?;
        let bpf = EbpfLoader::new()
            .btf(Some(&btf))
            .load(OBJECT)
            .map_err(|e| format!("loading the enforcement eBPF object: {e}"))?;
        Ok((bpf, btf))
    }

    pub struct Bpf {
        _obj: Ebpf,
        kill_exe: HashMap<MapData, [u64; 2], u32>,
        kills: Array<MapData, u64>,
    }

    impl Bpf {
        pub fn load_and_prove() -> Result<Bpf, String> {
            let (mut obj, btf) = load()?;
            let p: &mut BtfTracePoint = obj
                .program_mut("kill_on_exec")
                .ok_or("no kill_on_exec program")?
                .try_into()
                .map_err(|e| format!("kill_on_exec: {e}"))?;
            p.load("sched_process_exec", &btf).map_err(|e| format!("loading kill_on_exec: {e}"))?;
            p.attach().map_err(|e| format!("attaching kill_on_exec: {e}"))?;
            let mut tgids: HashMap<MapData, u32, u32> =
                HashMap::try_from(obj.take_map("kill_tgid").ok_or("no kill_tgid map")?)
                    .map_err(|e| format!("kill_tgid: {e}"))?;
            let kill_exe = HashMap::try_from(obj.take_map("kill_exe").ok_or("no kill_exe map")?)
                .map_err(|e| format!("kill_exe: {e}"))?;
            let kills = Array::try_from(obj.take_map("kills").ok_or("no kills map")?)
                .map_err(|e| format!("kills: {e}"))?;
            // the proof: a child listed by its thread group must die of SIGKILL when it execs
            let mut child = Command::new("/bin/sh")
                .args(["-c", "read _; exec true"])
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .map_err(|e| format!("self-test: cannot start /bin/sh: {e}"))?;
            tgids.insert(child.id(), 1, 0).map_err(|e| format!("self-test: kill_tgid: {e}"))?;
            if let Some(mut stdin) = child.stdin.take() {
                let _ = stdin.write_all(b"\n");
            }
            let status = wait_limited(&mut child, Duration::from_secs(5));
            let _ = tgids.remove(&child.id());
            match status {
                Some(s) if s.signal() == Some(9) => {}
                Some(s) => return Err(format!("self-test: the listed exec was not killed ({s})")),
                None => return Err("self-test: the child did not exit within 5 s".into()),
            }
            let mut b = Bpf { _obj: obj, kill_exe, kills };
            // the self-test's kill is not a violation
            b.reset();
            Ok(b)
        }

        pub fn list_exe(&mut self, cgroup_id: u64, ino: u64) -> Result<(), String> {
            self.kill_exe.insert([cgroup_id, ino], 1, 0).map_err(|e| format!("kill_exe: {e}"))
        }

        pub fn kills(&self) -> (u64, u64) {
            (self.kills.get(&0, 0).unwrap_or(0), self.kills.get(&1, 0).unwrap_or(0))
        }

        fn reset(&mut self) {
            let _ = self.kills.set(1, 0, 0);
        }
    }
}
