//! `proc.*`: the process that made the call and its ancestors.
//!
//! Falco's conventions: `proc.name` is the command name, `proc.exe` is argv[0], `proc.exepath` the
//! executable's path, `proc.args` the arguments after argv[0], `proc.cmdline` = name + args. Ancestor
//! fields take a depth (`proc.aname[1]` is the parent, `[0]` the process itself); without one they list
//! every ancestor, and a check holds when it holds for one of them.

use super::{ArgKind, Ctx, FieldDef, FieldType as T, Val, absent, def, def_arg, index, num, owned, s};
use crate::event::{Process, ProcessRef};
use std::borrow::Cow;

pub(super) const FIELDS: &[FieldDef] = &[
    def("proc.pid", T::Num, |c, _| num(c.event.process.pid)),
    def("proc.vpid", T::Num, |c, _| num(c.event.process.vpid.unwrap_or(c.event.process.pid))),
    def("proc.ppid", T::Num, |c, _| num(c.event.process.ppid)),
    def("proc.vpgid", T::Num, |c, _| num(c.event.process.vpgid)),
    def("proc.pgid", T::Num, absent),
    def("proc.sid", T::Num, |c, _| num(c.event.process.sid)),
    def("proc.name", T::Str, |c, _| s(name(&c.event.process))),
    def("proc.exe", T::Str, |c, _| s(argv0(&c.event.process.args, &c.event.process.exe))),
    def("proc.exepath", T::Str, |c, _| s(&c.event.process.exe)),
    def("proc.args", T::Str, |c, _| owned(rest_args(&c.event.process.args))),
    def("proc.cmdline", T::Str, |c, _| owned(cmdline(name(&c.event.process), &c.event.process.args))),
    def("proc.exeline", T::Str, |c, _| {
        owned(cmdline(argv0(&c.event.process.args, &c.event.process.exe), &c.event.process.args))
    }),
    def("proc.cwd", T::Str, |c, _| c.event.process.cwd.as_deref().and_then(s)),
    def("proc.tty", T::Num, |c, _| num(c.event.process.tty)),
    def("proc.loginshellid", T::Num, absent),
    def("proc.nthreads", T::Num, absent),
    def("proc.nchilds", T::Num, absent),
    def("proc.env", T::Str, absent),
    def_arg("proc.aenv", T::Str, ArgKind::OptionalIndex, absent),
    def("proc.pname", T::Str, |c, _| c.event.ancestors.first().map(|a| Val::Str(Cow::Borrowed(ref_name(a))))),
    def("proc.pexe", T::Str, |c, _| {
        c.event.ancestors.first().map(|a| Val::Str(Cow::Borrowed(argv0(&a.args, &a.exe))))
    }),
    def("proc.pexepath", T::Str, |c, _| {
        c.event.ancestors.first().map(|a| Val::Str(Cow::Borrowed(a.exe.as_str())))
    }),
    def("proc.pcmdline", T::Str, |c, _| {
        c.event.ancestors.first().map(|a| Val::Str(Cow::Owned(cmdline(ref_name(a), &a.args))))
    }),
    def("proc.pargs", T::Str, |c, _| {
        c.event.ancestors.first().map(|a| Val::Str(Cow::Owned(rest_args(&a.args))))
    }),
    def("proc.pcwd", T::Str, absent),
    def("proc.pvpid", T::Num, absent),
    def("proc.ppid.duration", T::Num, absent),
    def("proc.ppid.ts", T::Num, absent),
    def_arg("proc.apid", T::Num, ArgKind::OptionalIndex, |c, a| {
        ancestor(c, a, |p| p.pid.to_string(), |p| p.pid.to_string())
    }),
    def_arg("proc.aname", T::Str, ArgKind::OptionalIndex, |c, a| {
        ancestor(c, a, |p| name(p).to_string(), |r| ref_name(r).to_string())
    }),
    def_arg("proc.aexe", T::Str, ArgKind::OptionalIndex, |c, a| {
        ancestor(c, a, |p| argv0(&p.args, &p.exe).to_string(), |r| argv0(&r.args, &r.exe).to_string())
    }),
    def_arg("proc.aexepath", T::Str, ArgKind::OptionalIndex, |c, a| {
        ancestor(c, a, |p| p.exe.clone(), |r| r.exe.clone())
    }),
    def_arg("proc.acmdline", T::Str, ArgKind::OptionalIndex, |c, a| {
        ancestor(c, a, |p| cmdline(name(p), &p.args), |r| cmdline(ref_name(r), &r.args))
    }),
    def("proc.sname", T::Str, absent),
    def("proc.vpgid.name", T::Str, absent),
    def("proc.vpgid.exe", T::Str, absent),
    def("proc.vpgid.exepath", T::Str, absent),
    def("proc.is_exe_upper_layer", T::Bool, |c, _| Some(Val::Bool(c.event.process.exe_from_upper_layer))),
    def("proc.is_exe_writable", T::Bool, |c, _| Some(Val::Bool(c.event.process.exe_writable))),
    def("proc.is_exe_from_memfd", T::Bool, |c, _| Some(Val::Bool(c.event.process.exe.starts_with("memfd:")))),
    def("proc.is_vpgid_leader", T::Bool, |c, _| {
        let p = &c.event.process;
        Some(Val::Bool(p.vpgid != 0 && p.vpid.unwrap_or(p.pid) == p.vpgid))
    }),
    def("proc.is_sid_leader", T::Bool, |c, _| {
        let p = &c.event.process;
        Some(Val::Bool(p.sid != 0 && p.vpid.unwrap_or(p.pid) == p.sid))
    }),
    def("proc.is_container_healthcheck", T::Bool, |_, _| Some(Val::Bool(false))),
    def("proc.is_container_liveness_probe", T::Bool, |_, _| Some(Val::Bool(false))),
    def("proc.is_container_readiness_probe", T::Bool, |_, _| Some(Val::Bool(false))),
    def("proc.pid.ts", T::Num, |c, _| num(i64::try_from(c.event.process.start_ns).unwrap_or(0))),
    def("proc.duration", T::Num, |c, _| {
        let p = &c.event.process;
        (p.start_ns > 0)
            .then(|| Val::Num(i64::try_from(c.event.time_ns.saturating_sub(p.start_ns)).unwrap_or(0)))
    }),
    def("proc.exe_ino", T::Num, absent),
    def("proc.exe_ino.ctime", T::Num, absent),
    def("proc.exe_ino.mtime", T::Num, absent),
    def("proc.exe_ino.ctime_duration_proc_start", T::Num, absent),
    def("proc.exe_ino.ctime_duration_pidns_start", T::Num, absent),
    def("proc.pidns_init_start_ts", T::Num, absent),
    def("proc.fdopencount", T::Num, absent),
    def("proc.fdlimit", T::Num, absent),
    def("proc.vmsize", T::Num, absent),
    def("proc.vmrss", T::Num, absent),
    def("proc.vmswap", T::Num, absent),
    def("proc.stdin.type", T::Str, absent),
    def("proc.stdout.type", T::Str, absent),
    def("proc.stderr.type", T::Str, absent),
    def("proc.stdin.name", T::Str, absent),
    def("proc.stdout.name", T::Str, absent),
    def("proc.stderr.name", T::Str, absent),
];

fn name(p: &Process) -> &str {
    if p.comm.is_empty() { super::basename(&p.exe) } else { &p.comm }
}

fn ref_name(r: &ProcessRef) -> &str {
    if r.comm.is_empty() { super::basename(&r.exe) } else { &r.comm }
}

fn argv0<'a>(args: &'a [String], exe: &'a str) -> &'a str {
    args.first().map(String::as_str).unwrap_or(exe)
}

fn rest_args(args: &[String]) -> String {
    args.iter().skip(1).map(String::as_str).collect::<Vec<_>>().join(" ")
}

fn cmdline(name: &str, args: &[String]) -> String {
    let rest = rest_args(args);
    if rest.is_empty() { name.to_string() } else { format!("{name} {rest}") }
}

/// An ancestor field: `[0]` is the process, `[n]` the n-th ancestor; no index lists all ancestors.
fn ancestor<'a>(
    c: &Ctx<'a>,
    arg: Option<&str>,
    own: impl Fn(&'a Process) -> String,
    anc: impl Fn(&'a ProcessRef) -> String,
) -> Option<Val<'a>> {
    match index(arg) {
        Some(0) => Some(Val::Str(Cow::Owned(own(&c.event.process)))),
        Some(n) => c.event.ancestors.get(n - 1).map(|a| Val::Str(Cow::Owned(anc(a)))),
        None if arg.is_some() => None,
        None => Some(Val::List(c.event.ancestors.iter().map(|a| Cow::Owned(anc(a))).collect())),
    }
}
