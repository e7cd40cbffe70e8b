//! `evt.*`: the event itself (type, direction, time, result, syscall arguments).

use super::{ArgKind, FieldDef, FieldType as T, Val, absent, def, def_arg, num, owned, s};
use crate::event::{Event, EventKind};
use std::borrow::Cow;

pub(super) const FIELDS: &[FieldDef] = &[
    def("evt.num", T::Num, absent),
    def("evt.time", T::Str, |c, _| owned(clock(c.event.time_ns, true))),
    def("evt.time.s", T::Str, |c, _| owned(clock(c.event.time_ns, false))),
    def("evt.time.iso8601", T::Str, |c, _| owned(iso8601(c.event.time_ns))),
    def("evt.datetime", T::Str, |c, _| owned(iso8601(c.event.time_ns))),
    def("evt.datetime.s", T::Str, |c, _| owned(iso8601(c.event.time_ns))),
    def("evt.rawtime", T::Num, |c, _| num(i64::try_from(c.event.time_ns).unwrap_or(i64::MAX))),
    def("evt.rawtime.s", T::Num, |c, _| num(i64::try_from(c.event.time_ns / 1_000_000_000).unwrap_or(0))),
    def("evt.rawtime.ns", T::Num, |c, _| num(i64::try_from(c.event.time_ns % 1_000_000_000).unwrap_or(0))),
    def("evt.reltime", T::Num, absent),
    def("evt.reltime.s", T::Num, absent),
    def("evt.reltime.ns", T::Num, absent),
    def("evt.pluginname", T::Str, absent),
    def("evt.plugininfo", T::Str, absent),
    def("evt.source", T::Str, |_, _| s("syscall")),
    def("evt.is_async", T::Bool, |_, _| Some(Val::Bool(false))),
    def("evt.asynctype", T::Str, absent),
    def("evt.hostname", T::Str, |c, _| s(c.hostname)),
    def("evt.latency", T::Num, absent),
    def("evt.latency.s", T::Num, absent),
    def("evt.latency.ns", T::Num, absent),
    def("evt.latency.quantized", T::Num, absent),
    def("evt.latency.human", T::Str, absent),
    def("evt.deltatime", T::Num, absent),
    def("evt.deltatime.s", T::Num, absent),
    def("evt.deltatime.ns", T::Num, absent),
    def("evt.outputtime", T::Num, |c, _| num(i64::try_from(c.event.time_ns).unwrap_or(i64::MAX))),
    def("evt.dir", T::Str, |_, _| s("<")),
    def("evt.type", T::Str, |c, _| s(c.event.syscall())),
    def_arg("evt.type.is", T::Num, ArgKind::Required, |c, a| num(i64::from(a == Some(c.event.syscall())))),
    def("syscall.type", T::Str, |c, _| s(c.event.syscall())),
    def("evt.category", T::Str, |c, _| s(category(c.event))),
    def("evt.cpu", T::Num, absent),
    def("evt.args", T::Str, |c, _| {
        owned(args(c.event).iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" "))
    }),
    def_arg("evt.arg", T::Str, ArgKind::Required, |c, a| arg(c.event, a?).map(|v| Val::Str(Cow::Owned(v)))),
    def_arg("evt.rawarg", T::Str, ArgKind::Required, |c, a| {
        arg(c.event, a?).map(|v| Val::Str(Cow::Owned(v)))
    }),
    def("evt.info", T::Str, |c, _| {
        owned(args(c.event).iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" "))
    }),
    def("evt.buffer", T::Bytes, absent),
    def("evt.buflen", T::Num, absent),
    def("evt.res", T::Str, |c, _| c.event.result.map(|r| Val::Str(Cow::Owned(res_name(r))))),
    def("evt.rawres", T::Num, |c, _| c.event.result.map(Val::Num)),
    def("evt.failed", T::Bool, |c, _| c.event.result.map(|r| Val::Bool(r < 0))),
    def("evt.is_io", T::Bool, |_, _| Some(Val::Bool(false))),
    def("evt.is_io_read", T::Bool, |_, _| Some(Val::Bool(false))),
    def("evt.is_io_write", T::Bool, |_, _| Some(Val::Bool(false))),
    def("evt.io_dir", T::Str, absent),
    def("evt.is_wait", T::Bool, |_, _| Some(Val::Bool(false))),
    def("evt.wait_latency", T::Num, absent),
    def("evt.is_syslog", T::Bool, |_, _| Some(Val::Bool(false))),
    def("evt.count", T::Num, |_, _| num(1)),
    def("evt.count.error", T::Num, |c, _| num(i64::from(c.event.result.is_some_and(|r| r < 0)))),
    def("evt.count.error.file", T::Num, absent),
    def("evt.count.error.net", T::Num, absent),
    def("evt.count.error.memory", T::Num, absent),
    def("evt.count.error.other", T::Num, absent),
    def("evt.count.exit", T::Num, |_, _| num(1)),
    def("evt.around", T::Num, absent),
    def_arg("evt.abspath", T::Str, ArgKind::OptionalIndex, |c, _| {
        path(c.event).map(|p| Val::Str(Cow::Borrowed(p)))
    }),
    def("evt.is_open_read", T::Bool, |c, _| open_flags(c.event).map(|f| Val::Bool(matches!(f & 3, 0 | 2)))),
    def("evt.is_open_write", T::Bool, |c, _| open_flags(c.event).map(|f| Val::Bool(matches!(f & 3, 1 | 2)))),
    def("evt.is_open_exec", T::Bool, |c, _| open_flags(c.event).map(|_| Val::Bool(false))),
    def("evt.is_open_create", T::Bool, |c, _| open_flags(c.event).map(|f| Val::Bool(f & O_CREAT != 0))),
];

const O_CREAT: u32 = 0o100;

fn open_flags(ev: &Event) -> Option<u32> {
    match &ev.kind {
        EventKind::Open(o) => Some(o.flags),
        _ => None,
    }
}

fn path(ev: &Event) -> Option<&str> {
    match &ev.kind {
        EventKind::Open(o) => Some(&o.path),
        EventKind::Unlink { path } | EventKind::Mkdir { path } => Some(path),
        EventKind::Rename { to, .. } => Some(to),
        _ => None,
    }
}

fn category(ev: &Event) -> &'static str {
    match &ev.kind {
        EventKind::Open(_)
        | EventKind::Rename { .. }
        | EventKind::Unlink { .. }
        | EventKind::Mkdir { .. } => "file",
        EventKind::Connect(_) | EventKind::Accept(_) | EventKind::Listen(_) | EventKind::Bind(_) => "net",
        EventKind::Execve | EventKind::Clone { .. } | EventKind::Exit { .. } => "process",
        _ => "other",
    }
}

/// `open(2)` flags as Falco prints them (`O_WRONLY|O_CREAT|O_TRUNC`).
pub(crate) fn open_flag_names(flags: u32) -> String {
    const NAMES: &[(u32, &str)] = &[
        (0o100, "O_CREAT"),
        (0o200, "O_EXCL"),
        (0o400, "O_NOCTTY"),
        (0o1000, "O_TRUNC"),
        (0o2000, "O_APPEND"),
        (0o4000, "O_NONBLOCK"),
        (0o10000, "O_DSYNC"),
        (0o40000, "O_DIRECT"),
        (0o100000, "O_LARGEFILE"),
        (0o200000, "O_DIRECTORY"),
        (0o400000, "O_NOFOLLOW"),
        (0o2000000, "O_CLOEXEC"),
        (0o10000000, "O_PATH"),
    ];
    let mut out = vec![match flags & 3 {
        0 => "O_RDONLY",
        1 => "O_WRONLY",
        _ => "O_RDWR",
    }];
    out.extend(NAMES.iter().filter(|(bit, _)| flags & bit != 0).map(|(_, n)| *n));
    out.join("|")
}

fn ptrace_request(r: i64) -> String {
    let name = match r {
        0 => "PTRACE_TRACEME",
        1 => "PTRACE_PEEKTEXT",
        2 => "PTRACE_PEEKDATA",
        3 => "PTRACE_PEEKUSR",
        4 => "PTRACE_POKETEXT",
        5 => "PTRACE_POKEDATA",
        6 => "PTRACE_POKEUSR",
        7 => "PTRACE_CONT",
        8 => "PTRACE_KILL",
        9 => "PTRACE_SINGLESTEP",
        12 => "PTRACE_GETREGS",
        13 => "PTRACE_SETREGS",
        16 => "PTRACE_ATTACH",
        17 => "PTRACE_DETACH",
        0x4206 => "PTRACE_SEIZE",
        0x4207 => "PTRACE_INTERRUPT",
        _ => return format!("{r}"),
    };
    name.to_string()
}

/// Falco's `evt.res`: `SUCCESS` or the errno name.
pub(crate) fn res_name(r: i64) -> String {
    if r >= 0 {
        return "SUCCESS".into();
    }
    let name = match -r {
        1 => "EPERM",
        2 => "ENOENT",
        3 => "ESRCH",
        4 => "EINTR",
        5 => "EIO",
        9 => "EBADF",
        11 => "EAGAIN",
        12 => "ENOMEM",
        13 => "EACCES",
        14 => "EFAULT",
        16 => "EBUSY",
        17 => "EEXIST",
        20 => "ENOTDIR",
        21 => "EISDIR",
        22 => "EINVAL",
        24 => "EMFILE",
        28 => "ENOSPC",
        30 => "EROFS",
        38 => "ENOSYS",
        110 => "ETIMEDOUT",
        111 => "ECONNREFUSED",
        113 => "EHOSTUNREACH",
        115 => "EINPROGRESS",
        n => return format!("E{n}"),
    };
    name.to_string()
}

/// The exit-event arguments of each event kind, named as Falco names them.
pub(crate) fn args(ev: &Event) -> Vec<(&'static str, String)> {
    let res = ev.result.map(|r| r.to_string()).unwrap_or_default();
    match &ev.kind {
        EventKind::Execve => {
            let p = &ev.process;
            let mut flags = Vec::new();
            if p.exe_writable {
                flags.push("EXE_WRITABLE");
            }
            if p.exe_from_upper_layer {
                flags.push("EXE_UPPER_LAYER");
            }
            vec![
                ("res", res),
                ("exe", p.args.first().cloned().unwrap_or_else(|| p.exe.clone())),
                ("args", p.args.iter().skip(1).cloned().collect::<Vec<_>>().join(" ")),
                ("tid", p.tid.to_string()),
                ("pid", p.pid.to_string()),
                ("ptid", p.ppid.to_string()),
                ("cwd", p.cwd.clone().unwrap_or_default()),
                ("comm", p.comm.clone()),
                ("uid", p.uid.to_string()),
                ("trusted_exepath", p.exe.clone()),
                ("flags", if flags.is_empty() { "0".into() } else { flags.join("|") }),
            ]
        }
        EventKind::Clone { child_pid } => vec![("res", child_pid.to_string())],
        EventKind::Exit { code } => vec![("status", code.to_string())],
        EventKind::Open(o) => vec![
            ("fd", res),
            ("dirfd", "AT_FDCWD".into()),
            ("name", o.path.clone()),
            ("flags", open_flag_names(o.flags)),
            ("mode", format!("{:o}", o.mode)),
        ],
        EventKind::Rename { from, to } => {
            vec![("res", res), ("oldpath", from.clone()), ("newpath", to.clone())]
        }
        EventKind::Unlink { path } => vec![("res", res), ("name", path.clone()), ("path", path.clone())],
        EventKind::Mkdir { path } => vec![("res", res), ("path", path.clone())],
        EventKind::Connect(c) | EventKind::Accept(c) | EventKind::Listen(c) | EventKind::Bind(c) => {
            vec![("res", res), ("tuple", super::fd::tuple(c, ev))]
        }
        EventKind::DnsResolve { name, addresses } => {
            vec![("name", name.clone()), ("addresses", addresses.join(","))]
        }
        EventKind::Setuid { uid } => vec![("res", res), ("uid", uid.to_string())],
        EventKind::Setgid { gid } => vec![("res", res), ("gid", gid.to_string())],
        EventKind::Capset { effective } => {
            vec![("res", res), ("cap_effective", super::thread::cap_names(*effective))]
        }
        EventKind::Ptrace { request, target_pid } => {
            vec![("res", res), ("request", ptrace_request(*request)), ("pid", target_pid.to_string())]
        }
        EventKind::Mount { source, target, fstype } => {
            vec![("res", res), ("dev", source.clone()), ("dir", target.clone()), ("type", fstype.clone())]
        }
        EventKind::ModuleLoad { name } => vec![("res", res), ("name", name.clone())],
        EventKind::Other { .. } => vec![("res", res)],
    }
}

/// One argument by name or by position.
fn arg(ev: &Event, key: &str) -> Option<String> {
    let all = args(ev);
    if let Ok(i) = key.parse::<usize>() {
        return all.into_iter().nth(i).map(|(_, v)| v);
    }
    all.into_iter().find(|(k, _)| *k == key).map(|(_, v)| v)
}

/// Wall-clock time of day (UTC) as Falco prints `evt.time`.
fn clock(ns: u64, with_ns: bool) -> String {
    let secs = ns / 1_000_000_000;
    let (h, m, s) = ((secs / 3600) % 24, (secs / 60) % 60, secs % 60);
    if with_ns {
        format!("{h:02}:{m:02}:{s:02}.{:09}", ns % 1_000_000_000)
    } else {
        format!("{h:02}:{m:02}:{s:02}")
    }
}

/// RFC 3339 UTC time with nanoseconds (`2026-12-06T09:31:18.123456789Z`), as in Falco's JSON `time`.
pub fn iso8601(ns: u64) -> String {
    let secs = i64::try_from(ns / 1_000_000_000).unwrap_or(0);
    let nanos = ns % 1_000_000_000;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil date from days since the epoch (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{nanos:09}Z", rem / 3600, (rem / 60) % 60, rem % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formatting() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000000000Z");
        assert_eq!(iso8601(1_796_549_478_000_000_001), "2026-12-06T09:31:18.000000001Z");
        assert_eq!(open_flag_names(0o1101), "O_WRONLY|O_CREAT|O_TRUNC");
        assert_eq!(res_name(-2), "ENOENT");
        assert_eq!(res_name(3), "SUCCESS");
    }
}
