//! Primary source: the eBPF programs of `bpf/sensor.bpf.c`, loaded with aya and read from their ring
//! buffer by one thread.
//!
//! The object is embedded at build time (see `build.rs`); a build without it reports why at start. The
//! kernel filter ([`crate::sensor::interest`]) is written to the `interest` map before anything is
//! attached. BTF tracepoints (exec, fork, exit) must attach; per-syscall exit tracepoints that the running
//! kernel lacks (e.g. `init_module` on a kernel without module support) are skipped and listed. tracefs is
//! mounted when it is not (the syscall tracepoints are attached by their tracefs id). The DNS answer
//! programs go where the interest's [`DnsScope`](crate::sensor::interest::DnsScope) says: the cgroup v2
//! root, each container's cgroup ([`crate::sensor::dns_cgroups`], kept up to date by the reader thread) or
//! nowhere. Dropping the loaded object (when the reader thread ends) detaches every program.

/// What was attached.
#[derive(Debug, Default, Clone)]
pub struct Attached {
    pub programs: usize,
    /// Tracepoints this kernel does not have.
    pub skipped: Vec<String>,
    /// Optional parts that could not be attached, with the reason (DNS answer capture).
    pub notes: Vec<String>,
}

#[cfg(not(palisade_bpf))]
pub fn start(
    _queue: crate::sensor::Queue,
    _stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    _interest: &crate::sensor::interest::Interest,
) -> Result<(std::thread::JoinHandle<()>, Attached), String> {
    Err(env!("PALISADE_BPF_UNAVAILABLE").to_string())
}

#[cfg(palisade_bpf)]
pub use imp::start;

#[cfg(palisade_bpf)]
pub(crate) mod imp {
    use super::Attached;
    use crate::sensor::Queue;
    use crate::sensor::dns_cgroups::DnsCgroups;
    use crate::sensor::interest::{DnsScope, INTEREST_SIZE, Interest};
    use crate::sensor::quiet_dirs::{QuietDirs, VerdictSink};
    use crate::sensor::record::{DirKey, Record};
    use aya::maps::{Array, MapData, PerCpuArray, RingBuf};
    use aya::programs::{BtfTracePoint, CgroupAttachMode, CgroupSkb, CgroupSkbAttachType, Program};
    use aya::{Btf, Ebpf, EbpfLoader};
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    use std::os::fd::AsFd;
    use std::path::Path;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::thread::JoinHandle;
    use std::time::{Duration, Instant};

    /// How long the reader sleeps when the ring buffer has not woken it: the latency of a quiet node's
    /// events.
    const POLL_MS: u16 = 10;

    static OBJECT: &[u8] = aya::include_bytes_aligned!(concat!(env!("OUT_DIR"), "/sensor.bpf.o"));

    /// BTF tracepoint programs and the tracepoint each one attaches to.
    const BTF_PROGRAMS: [(&str, &str); 3] = [
        ("on_exec", "sched_process_exec"),
        ("on_fork", "sched_process_fork"),
        ("on_exit", "sched_process_exit"),
    ];

    /// The kernel's `quiet_dirs` map (`struct dir_key` → `struct dir_verdict`), where the reader's
    /// judgements of directories go.
    struct KernelQuietDirs(aya::maps::HashMap<MapData, [u8; 16], [u8; 16]>);

    impl VerdictSink for KernelQuietDirs {
        fn put(&mut self, key: DirKey, quiet: u32) -> Result<(), String> {
            let mut k = [0u8; 16];
            k[..8].copy_from_slice(&key.mnt.to_ne_bytes());
            k[8..].copy_from_slice(&key.ino.to_ne_bytes());
            let mut v = [0u8; 16];
            v[..8].copy_from_slice(&key.generation.to_ne_bytes());
            v[8..12].copy_from_slice(&quiet.to_ne_bytes());
            self.0.insert(k, v, 0).map_err(|e| e.to_string())
        }
    }

    fn tracefs() -> Result<&'static Path, String> {
        for dir in ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"] {
            if Path::new(dir).join("events").is_dir() {
                return Ok(Path::new(dir));
            }
        }
        nix::mount::mount(
            Some("tracefs"),
            "/sys/kernel/tracing",
            Some("tracefs"),
            nix::mount::MsFlags::empty(),
            None::<&str>,
        )
        .map_err(|e| format!("tracefs is not mounted and mounting it on /sys/kernel/tracing failed: {e}"))?;
        Ok(Path::new("/sys/kernel/tracing"))
    }

    pub fn start(
        mut queue: Queue,
        stop: Arc<AtomicBool>,
        interest: &Interest,
    ) -> Result<(JoinHandle<()>, Attached), String> {
        let btf = Btf::from_sys_fs().map_err(|e| format!("no kernel BTF (/sys/kernel/btf/vmlinux): {e}"))?;
        let tracefs = tracefs()?;
        let me = std::process::id();
        let mut bpf =
            EbpfLoader::new().btf(Some(&btf)).override_global("agent_tgid", &me, true).load(OBJECT).map_err(
                |e| format!("loading the eBPF object (needs CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN): {e}"),
            )?;
        // the filter goes in before any program is attached, so no record escapes it
        {
            let map = bpf.map_mut("interest").ok_or("eBPF object has no `interest` map")?;
            let mut arr: Array<&mut MapData, [u8; INTEREST_SIZE]> =
                Array::try_from(map).map_err(|e| format!("interest map: {e}"))?;
            arr.set(0, interest.to_bytes(), 0).map_err(|e| format!("interest map: {e}"))?;
        }
        let mut attached = Attached::default();
        let (mut dns_programs, mut dns_errors) = (0usize, Vec::new());
        for (name, program) in bpf.programs_mut() {
            match program {
                Program::BtfTracePoint(p) => {
                    let tp = BTF_PROGRAMS
                        .iter()
                        .find(|(n, _)| *n == name)
                        .map(|(_, tp)| *tp)
                        .ok_or_else(|| format!("eBPF program {name}: no tracepoint known for it"))?;
                    load_btf(p, tp, &btf).map_err(|e| format!("attaching {name} to tp_btf/{tp}: {e}"))?;
                }
                Program::TracePoint(p) => {
                    // one program per syscall, at its exit
                    let Some(syscall) = name.strip_prefix("exit_") else {
                        return Err(format!("eBPF program {name}: unexpected name"));
                    };
                    let tp = format!("sys_exit_{syscall}");
                    if !tracefs.join("events/syscalls").join(&tp).is_dir() {
                        attached.skipped.push(format!("syscalls/{tp}"));
                        continue;
                    }
                    p.load().map_err(|e| format!("loading {name}: {e}"))?;
                    p.attach("syscalls", &tp)
                        .map_err(|e| format!("attaching {name} to syscalls/{tp}: {}", chain(&e)))?;
                }
                Program::CgroupSkb(_) if interest.dns != DnsScope::Node => continue,
                Program::CgroupSkb(p) => {
                    // DNS answers: optional, the sensor runs without them
                    match attach_skb(p, name) {
                        Ok(()) => dns_programs += 1,
                        Err(e) => dns_errors.push(format!("{name}: {e}")),
                    }
                    continue;
                }
                _ => return Err(format!("eBPF program {name}: unexpected program type")),
            }
            attached.programs += 1;
        }
        if dns_errors.is_empty() {
            attached.programs += dns_programs;
            if dns_programs > 0 {
                queue.stats.dns_cgroups.store(1, Ordering::Relaxed);
            }
        } else {
            attached.notes.push(format!(
                "eBPF: DNS answers not captured (no DNS names in events): {}",
                dns_errors.join("; ")
            ));
        }
        let mut dns = None;
        match interest.dns {
            DnsScope::Node => {}
            DnsScope::Off => attached.notes.push(
                "eBPF: DNS answers not captured: no loaded rule reads DNS names (fd.sip.name, fd.rip.name)"
                    .into(),
            ),
            DnsScope::Containers => match DnsCgroups::start(&mut bpf, queue.attributor()) {
                Ok(d) => {
                    attached.programs += 2;
                    attached.notes.append(&mut d.notes.clone());
                    dns = Some(d);
                }
                Err(e) => attached
                    .notes
                    .push(format!("eBPF: DNS answers not captured (no DNS names in events): {e}")),
            },
        }
        attached.skipped.sort();
        attached.skipped.dedup();
        let ring = RingBuf::try_from(bpf.take_map("events").ok_or("eBPF object has no `events` map")?)
            .map_err(|e| format!("ring buffer: {e}"))?;
        let counters: PerCpuArray<MapData, u64> =
            PerCpuArray::try_from(bpf.take_map("counters").ok_or("eBPF object has no `counters` map")?)
                .map_err(|e| format!("counters map: {e}"))?;
        // relative opens are judged by their directory only where opens are filtered at all
        let quiet = match (&interest.read_paths, &interest.write_paths) {
            (None, None) => None,
            (read, write) => {
                let map = bpf.take_map("quiet_dirs").ok_or("eBPF object has no `quiet_dirs` map")?;
                let map = aya::maps::HashMap::try_from(map).map_err(|e| format!("quiet_dirs map: {e}"))?;
                Some(QuietDirs::new(KernelQuietDirs(map), read.as_ref(), write.as_ref()))
            }
        };
        let handle = std::thread::Builder::new()
            .name("ebpf-reader".into())
            .spawn(move || {
                // owning the object keeps the programs attached; dropping it detaches them
                read_loop(ring, counters, queue, stop, bpf, dns, quiet);
            })
            .map_err(|e| format!("starting the reader thread: {e}"))?;
        Ok((handle, attached))
    }

    pub(crate) fn chain(e: &dyn std::error::Error) -> String {
        let mut s = e.to_string();
        let mut cur = e.source();
        while let Some(c) = cur {
            s.push_str(": ");
            s.push_str(&c.to_string());
            cur = c.source();
        }
        s
    }

    /// Attach a `cgroup_skb` program (`dns_ingress`, `dns_egress`) to the cgroup v2 root. Through a BPF
    /// link (kernels >= 5.7), which runs alongside any other program there; a link takes no mode flags
    /// (`EINVAL` with `BPF_F_ALLOW_MULTI`), hence `Single`.
    fn attach_skb(p: &mut CgroupSkb, name: &str) -> Result<(), String> {
        let root = crate::attribution::cgroup2_mount().ok_or("no cgroup v2 hierarchy mounted")?;
        let dir = std::fs::File::open(&root).map_err(|e| format!("{}: {e}", root.display()))?;
        let kind = if name.ends_with("ingress") {
            CgroupSkbAttachType::Ingress
        } else {
            CgroupSkbAttachType::Egress
        };
        p.load().map_err(|e| chain(&e))?;
        p.attach(&dir, kind, CgroupAttachMode::Single).map_err(|e| chain(&e))?;
        Ok(())
    }

    fn load_btf(p: &mut BtfTracePoint, tp: &str, btf: &Btf) -> Result<(), String> {
        p.load(tp, btf).map_err(|e| chain(&e))?;
        p.attach().map_err(|e| chain(&e))?;
        Ok(())
    }

    fn read_loop(
        mut ring: RingBuf<MapData>,
        counters: PerCpuArray<MapData, u64>,
        mut queue: Queue,
        stop: Arc<AtomicBool>,
        mut bpf: Ebpf,
        mut dns: Option<DnsCgroups>,
        mut quiet: Option<QuietDirs<KernelQuietDirs>>,
    ) {
        let stats = queue.stats.clone();
        let mut last_counters = Instant::now();
        loop {
            let stopping = stop.load(Ordering::Relaxed);
            while let Some(item) = ring.next() {
                stats.received.fetch_add(1, Ordering::Relaxed);
                match Record::parse(&item) {
                    Ok(r) => {
                        if let Some(q) = quiet.as_mut() {
                            q.on_record(&r);
                        }
                        let (pid, cgroup_id) = (r.pid, r.cgroup_id);
                        let container = queue.push(r);
                        if let Some(d) = dns.as_mut() {
                            d.on_record(&mut bpf, queue.attributor(), pid, cgroup_id, container);
                        }
                    }
                    Err(e) => {
                        stats.malformed.fetch_add(1, Ordering::Relaxed);
                        tracing::debug!("{e}");
                    }
                }
            }
            if stopping || last_counters.elapsed() > Duration::from_millis(500) {
                last_counters = Instant::now();
                let sum = |i: u32| counters.get(&i, 0).map(|v| v.iter().sum::<u64>()).unwrap_or(0);
                stats.kernel_drops.store(sum(1), Ordering::Relaxed);
                stats.kernel_filtered.store(sum(2), Ordering::Relaxed);
                if let Some(q) = quiet.as_ref() {
                    stats.quiet_dirs.store(q.quiet, Ordering::Relaxed);
                }
            }
            if stopping {
                break;
            }
            // syscall records wake the reader only once 256 KiB are waiting (a wake-up per record would
            // cost the workload a scheduler wake-up each); this timeout picks up the trickle. New cgroup
            // directories (the DNS programs' watch) wake it at once.
            match dns.as_ref().and_then(DnsCgroups::fd) {
                Some(fd) => {
                    let mut fds =
                        [PollFd::new(ring.as_fd(), PollFlags::POLLIN), PollFd::new(fd, PollFlags::POLLIN)];
                    let _ = poll(&mut fds, PollTimeout::from(POLL_MS));
                }
                None => {
                    let mut fds = [PollFd::new(ring.as_fd(), PollFlags::POLLIN)];
                    let _ = poll(&mut fds, PollTimeout::from(POLL_MS));
                }
            }
            if let Some(d) = dns.as_mut() {
                d.poll(&mut bpf, queue.attributor());
                stats.dns_cgroups.store(d.attached() as u64, Ordering::Relaxed);
            }
        }
    }
}
