//! `fd.*`: the file or socket the event is about.
//!
//! Files come from open/rename/unlink/mkdir events; sockets from connect/accept/listen/bind. For a
//! connect the client is the local end and the server the remote one; for accept it is the reverse.

use super::{FieldDef, FieldType as T, Val, absent, basename, connection, def, dirname, num, owned, s};
use crate::event::{Connection, Event, EventKind};
use std::borrow::Cow;

const O_DIRECTORY: u32 = 0o200000;

pub(super) const FIELDS: &[FieldDef] = &[
    def("fd.num", T::Num, |c, _| match &c.event.kind {
        EventKind::Open(_) => c.event.result.map(|r| Val::Num(if r < 0 { -1 } else { r })),
        _ => None,
    }),
    def("fd.type", T::Str, |c, _| fd_type(c.event).map(|(t, _)| Val::Str(Cow::Borrowed(t)))),
    def("fd.typechar", T::Str, |c, _| fd_type(c.event).map(|(_, ch)| Val::Str(Cow::Borrowed(ch)))),
    def("fd.name", T::Str, |c, _| name(c.event)),
    def("fd.nameraw", T::Str, |c, _| match &c.event.kind {
        EventKind::Open(o) => s(o.raw_path.as_deref().unwrap_or(&o.path)),
        _ => name(c.event),
    }),
    def("fd.directory", T::Str, |c, _| file(c.event).map(|p| Val::Str(Cow::Borrowed(dirname(p))))),
    def("fd.filename", T::Str, |c, _| file(c.event).map(|p| Val::Str(Cow::Borrowed(basename(p))))),
    def("fd.name_changed", T::Bool, |c, _| file(c.event).map(|_| Val::Bool(false))),
    def("fd.ip", T::Ip, |c, _| {
        conn(c.event).and_then(|k| k.remote_addr.as_deref().or(k.local_addr.as_deref())).and_then(s)
    }),
    def("fd.cip", T::Ip, |c, _| ends(c.event).and_then(|e| e.client.0).and_then(s)),
    def("fd.sip", T::Ip, |c, _| ends(c.event).and_then(|e| e.server.0).and_then(s)),
    def("fd.lip", T::Ip, |c, _| conn(c.event).and_then(|k| k.local_addr.as_deref()).and_then(s)),
    def("fd.rip", T::Ip, |c, _| conn(c.event).and_then(|k| k.remote_addr.as_deref()).and_then(s)),
    def("fd.net", T::Net, |c, _| {
        conn(c.event).and_then(|k| k.remote_addr.as_deref().or(k.local_addr.as_deref())).and_then(s)
    }),
    def("fd.cnet", T::Net, |c, _| ends(c.event).and_then(|e| e.client.0).and_then(s)),
    def("fd.snet", T::Net, |c, _| ends(c.event).and_then(|e| e.server.0).and_then(s)),
    def("fd.lnet", T::Net, |c, _| conn(c.event).and_then(|k| k.local_addr.as_deref()).and_then(s)),
    def("fd.rnet", T::Net, |c, _| conn(c.event).and_then(|k| k.remote_addr.as_deref()).and_then(s)),
    def("fd.port", T::Num, |c, _| conn(c.event).and_then(|k| k.remote_port.or(k.local_port)).and_then(num)),
    def("fd.cport", T::Num, |c, _| ends(c.event).and_then(|e| e.client.1).and_then(num)),
    def("fd.sport", T::Num, |c, _| ends(c.event).and_then(|e| e.server.1).and_then(num)),
    def("fd.lport", T::Num, |c, _| conn(c.event).and_then(|k| k.local_port).and_then(num)),
    def("fd.rport", T::Num, |c, _| conn(c.event).and_then(|k| k.remote_port).and_then(num)),
    def("fd.l4proto", T::Str, |c, _| conn(c.event).map(|k| Val::Str(Cow::Borrowed(k.protocol.as_str())))),
    def("fd.sockfamily", T::Str, |c, _| {
        conn(c.event).map(|k| Val::Str(Cow::Borrowed(if k.protocol == "unix" { "unix" } else { "ip" })))
    }),
    def("fd.is_server", T::Bool, |c, _| match &c.event.kind {
        EventKind::Accept(_) | EventKind::Listen(_) | EventKind::Bind(_) => Some(Val::Bool(true)),
        EventKind::Connect(_) => Some(Val::Bool(false)),
        _ => None,
    }),
    def("fd.connected", T::Bool, |c, _| match &c.event.kind {
        EventKind::Connect(_) | EventKind::Accept(_) => {
            Some(Val::Bool(c.event.result.is_none_or(|r| r >= 0 || r == -115)))
        }
        EventKind::Listen(_) | EventKind::Bind(_) => Some(Val::Bool(false)),
        _ => None,
    }),
    def("fd.cip.name", T::Str, |c, _| ends(c.event).and_then(|e| e.client.2).and_then(s)),
    def("fd.sip.name", T::Str, |c, _| ends(c.event).and_then(|e| e.server.2).and_then(s)),
    def("fd.lip.name", T::Str, absent),
    def("fd.rip.name", T::Str, |c, _| conn(c.event).and_then(|k| k.remote_name.as_deref()).and_then(s)),
    def("fd.dev", T::Num, absent),
    def("fd.dev.major", T::Num, absent),
    def("fd.dev.minor", T::Num, absent),
    def("fd.ino", T::Num, absent),
    def("fd.uid", T::Num, absent),
    def("fd.containername", T::Str, |c, _| {
        name(c.event).map(|n| {
            let id = super::container::short_id(c.event);
            Val::Str(Cow::Owned(format!("{id}:{}", n.render())))
        })
    }),
    def("fd.containerdirectory", T::Str, |c, _| {
        file(c.event)
            .map(|p| Val::Str(Cow::Owned(format!("{}:{}", super::container::short_id(c.event), dirname(p)))))
    }),
    def("fd.types", T::Str, |c, _| fd_type(c.event).map(|(t, _)| Val::List(vec![Cow::Borrowed(t)]))),
    def("fs.path.name", T::Str, |c, _| file(c.event).and_then(s)),
    def("fs.path.nameraw", T::Str, |c, _| file(c.event).and_then(s)),
    def("fs.path.source", T::Str, |c, _| match &c.event.kind {
        EventKind::Rename { from, .. } => s(from),
        _ => None,
    }),
    def("fs.path.target", T::Str, |c, _| match &c.event.kind {
        EventKind::Rename { to, .. } => s(to),
        _ => None,
    }),
    def("fdlist.nums", T::Str, absent),
    def("fdlist.names", T::Str, absent),
    def("fdlist.cips", T::Str, absent),
    def("fdlist.sips", T::Str, absent),
    def("fdlist.cports", T::Str, absent),
    def("fdlist.sports", T::Str, absent),
];

fn conn(ev: &Event) -> Option<&Connection> {
    connection(ev)
}

fn file(ev: &Event) -> Option<&str> {
    match &ev.kind {
        EventKind::Open(o) => Some(&o.path),
        EventKind::Unlink { path } | EventKind::Mkdir { path } => Some(path),
        EventKind::Rename { to, .. } => Some(to),
        _ => None,
    }
}

fn is_v6(addr: Option<&str>) -> bool {
    addr.is_some_and(|a| a.contains(':'))
}

/// `fd.type` and `fd.typechar`.
fn fd_type(ev: &Event) -> Option<(&'static str, &'static str)> {
    match &ev.kind {
        EventKind::Open(o) if o.flags & O_DIRECTORY != 0 => Some(("directory", "d")),
        EventKind::Open(_) | EventKind::Rename { .. } | EventKind::Unlink { .. } => Some(("file", "f")),
        EventKind::Mkdir { .. } => Some(("directory", "d")),
        _ => {
            let c = connection(ev)?;
            if c.protocol == "unix" {
                Some(("unix", "u"))
            } else if is_v6(c.remote_addr.as_deref().or(c.local_addr.as_deref())) {
                Some(("ipv6", "6"))
            } else {
                Some(("ipv4", "4"))
            }
        }
    }
}

fn name<'a>(ev: &'a Event) -> Option<Val<'a>> {
    if let Some(p) = file(ev) {
        return Some(Val::Str(Cow::Borrowed(p)));
    }
    let c = connection(ev)?;
    owned(tuple(c, ev))
}

type End<'a> = (Option<&'a str>, Option<u16>, Option<&'a str>);

struct Ends<'a> {
    client: End<'a>,
    server: End<'a>,
}

fn ends(ev: &Event) -> Option<Ends<'_>> {
    let c = connection(ev)?;
    let local: End<'_> = (c.local_addr.as_deref(), c.local_port, None);
    let remote: End<'_> = (c.remote_addr.as_deref(), c.remote_port, c.remote_name.as_deref());
    Some(match ev.kind {
        EventKind::Connect(_) => Ends { client: local, server: remote },
        _ => Ends { client: remote, server: local },
    })
}

fn endpoint(addr: Option<&str>, port: Option<u16>) -> String {
    let a = addr.unwrap_or("");
    let a = if a.contains(':') { format!("[{a}]") } else { a.to_string() };
    match port {
        Some(p) => format!("{a}:{p}"),
        None => a,
    }
}

/// Falco's socket `fd.name`: `client->server` (`10.0.0.2:41000->10.96.0.1:443`), or the path of a Unix socket.
pub(crate) fn tuple(c: &Connection, ev: &Event) -> String {
    if c.protocol == "unix" {
        return c.remote_addr.clone().or_else(|| c.local_addr.clone()).unwrap_or_default();
    }
    let local = endpoint(c.local_addr.as_deref(), c.local_port);
    let remote = endpoint(c.remote_addr.as_deref(), c.remote_port);
    match ev.kind {
        EventKind::Connect(_) => format!("{local}->{remote}"),
        EventKind::Accept(_) => format!("{remote}->{local}"),
        _ => local,
    }
}
