//! `thread.*`: the calling thread (ids, capabilities).

use super::{FieldDef, FieldType as T, absent, def, num, owned};
use crate::event::EventKind;

pub(super) const FIELDS: &[FieldDef] = &[
    def("thread.tid", T::Num, |c, _| num(c.event.process.tid)),
    def("thread.vtid", T::Num, absent),
    def("thread.ismain", T::Bool, |c, _| {
        Some(super::Val::Bool(c.event.process.tid == 0 || c.event.process.tid == c.event.process.pid))
    }),
    def("thread.exectime", T::Num, absent),
    def("thread.totexectime", T::Num, absent),
    def("thread.cgroups", T::Str, absent),
    def("thread.cpu", T::Num, absent),
    def("thread.cpu.user", T::Num, absent),
    def("thread.cpu.system", T::Num, absent),
    def("thread.vmsize", T::Num, absent),
    def("thread.vmrss", T::Num, absent),
    def("thread.cap_permitted", T::Str, |c, _| {
        c.event.process.cap_permitted.and_then(|m| owned(cap_names(m)))
    }),
    def("thread.cap_inheritable", T::Str, absent),
    def("thread.cap_effective", T::Str, |c, _| match &c.event.kind {
        EventKind::Capset { effective } => owned(cap_names(*effective)),
        _ => c.event.process.cap_effective.and_then(|m| owned(cap_names(m))),
    }),
];

/// Capability mask → `CAP_CHOWN CAP_SYS_ADMIN …` (Falco's spelling).
pub(crate) fn cap_names(mask: u64) -> String {
    const CAPS: &[&str] = &[
        "CAP_CHOWN",
        "CAP_DAC_OVERRIDE",
        "CAP_DAC_READ_SEARCH",
        "CAP_FOWNER",
        "CAP_FSETID",
        "CAP_KILL",
        "CAP_SETGID",
        "CAP_SETUID",
        "CAP_SETPCAP",
        "CAP_LINUX_IMMUTABLE",
        "CAP_NET_BIND_SERVICE",
        "CAP_NET_BROADCAST",
        "CAP_NET_ADMIN",
        "CAP_NET_RAW",
        "CAP_IPC_LOCK",
        "CAP_IPC_OWNER",
        "CAP_SYS_MODULE",
        "CAP_SYS_RAWIO",
        "CAP_SYS_CHROOT",
        "CAP_SYS_PTRACE",
        "CAP_SYS_PACCT",
        "CAP_SYS_ADMIN",
        "CAP_SYS_BOOT",
        "CAP_SYS_NICE",
        "CAP_SYS_RESOURCE",
        "CAP_SYS_TIME",
        "CAP_SYS_TTY_CONFIG",
        "CAP_MKNOD",
        "CAP_LEASE",
        "CAP_AUDIT_WRITE",
        "CAP_AUDIT_CONTROL",
        "CAP_SETFCAP",
        "CAP_MAC_OVERRIDE",
        "CAP_MAC_ADMIN",
        "CAP_SYSLOG",
        "CAP_WAKE_ALARM",
        "CAP_BLOCK_SUSPEND",
        "CAP_AUDIT_READ",
        "CAP_PERFMON",
        "CAP_BPF",
        "CAP_CHECKPOINT_RESTORE",
    ];
    CAPS.iter()
        .enumerate()
        .filter(|(i, _)| mask & (1u64 << i) != 0)
        .map(|(_, n)| *n)
        .collect::<Vec<_>>()
        .join(" ")
}
