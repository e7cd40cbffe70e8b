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
    crate::caps::NAMES
        .iter()
        .enumerate()
        .filter(|(i, _)| mask & (1u64 << i) != 0)
        .map(|(_, n)| *n)
        .collect::<Vec<_>>()
        .join(" ")
}
