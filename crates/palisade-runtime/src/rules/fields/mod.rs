//! The field table: every `class.name` a condition or output may use, its type, whether it takes an
//! argument (`proc.aname[2]`, `evt.arg.flags`), and how it is read from an [`Event`].
//!
//! One file per field class (`evt`, `proc`, `thread`, `fd`, `user`, `group`, `container`, `k8s`), all
//! registered in [`CLASSES`]. Fields that Falco knows but a Palisade event cannot carry (`evt.cpu`,
//! `fd.dev`, …) are declared so rules using them load; they read as absent, and a check on an absent
//! field is false (as in Falco).

use crate::event::{Connection, Event, EventKind};
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::OnceLock;

mod container;
mod evt;
mod fd;
mod group;
mod k8s;
mod process;
mod thread;
mod user;

/// Every field class, in one place.
pub const CLASSES: &[&[FieldDef]] = &[
    evt::FIELDS,
    process::FIELDS,
    thread::FIELDS,
    fd::FIELDS,
    user::FIELDS,
    group::FIELDS,
    container::FIELDS,
    k8s::FIELDS,
];

/// The type of a field's value, which decides the operators it accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// Text (`charbuf`).
    Str,
    /// Integers, ports, times and durations.
    Num,
    Bool,
    /// Raw bytes (`bytebuf`).
    Bytes,
    /// An IP address.
    Ip,
    /// An IP network: condition values are CIDRs, the event's value is an address inside them.
    Net,
}

impl FieldType {
    pub fn name(self) -> &'static str {
        match self {
            FieldType::Str => "string",
            FieldType::Num => "number",
            FieldType::Bool => "bool",
            FieldType::Bytes => "bytebuf",
            FieldType::Ip => "ipaddr",
            FieldType::Net => "ipnet",
        }
    }

    /// Whether operator `op` applies to this type.
    pub fn allows(self, op: &str) -> bool {
        match self {
            FieldType::Str => !matches!(op, "bcontains" | "bstartswith"),
            FieldType::Num => {
                matches!(op, "=" | "==" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "intersects" | "exists")
            }
            FieldType::Bool | FieldType::Ip | FieldType::Net => {
                matches!(op, "=" | "==" | "!=" | "in" | "intersects" | "exists")
            }
            FieldType::Bytes => matches!(
                op,
                "=" | "=="
                    | "!="
                    | "contains"
                    | "in"
                    | "intersects"
                    | "startswith"
                    | "endswith"
                    | "bcontains"
                    | "bstartswith"
                    | "exists"
            ),
        }
    }
}

/// Whether and how a field takes an argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgKind {
    None,
    /// `field[N]` (a number) is allowed, not required.
    OptionalIndex,
    /// `field[KEY]` or `field.KEY` is required.
    Required,
}

/// What extraction sees: the event, facts about the node, and (during rule evaluation) a per-event cache
/// of field values, so a field many rules read (`proc.name`, `proc.cmdline`) is built once per event.
pub struct Ctx<'a> {
    pub event: &'a Event,
    pub hostname: &'a str,
    pub cache: Option<&'a [std::cell::OnceCell<Option<Val<'a>>>]>,
}

impl<'a> Ctx<'a> {
    /// A context without a cache.
    pub fn new(event: &'a Event, hostname: &'a str) -> Self {
        Ctx { event, hostname, cache: None }
    }
}

/// A field's value on one event.
#[derive(Debug, Clone, PartialEq)]
pub enum Val<'a> {
    Str(Cow<'a, str>),
    Num(i64),
    Bool(bool),
    /// A multi-valued field (`proc.aname` without index): a check holds when it holds for one element.
    List(Vec<Cow<'a, str>>),
}

impl Val<'_> {
    /// Text form, as rendered in outputs.
    pub fn render(&self) -> String {
        match self {
            Val::Str(s) => s.to_string(),
            Val::Num(n) => n.to_string(),
            Val::Bool(b) => b.to_string(),
            Val::List(l) => l.join(","),
        }
    }
}

/// Reads a field from an event; the argument (if any) comes from `field[arg]` or `field.arg`.
pub type Extractor = for<'a> fn(&Ctx<'a>, Option<&str>) -> Option<Val<'a>>;

/// One field.
#[derive(Clone, Copy)]
pub struct FieldDef {
    pub name: &'static str,
    pub ty: FieldType,
    pub arg: ArgKind,
    pub extract: Extractor,
}

impl std::fmt::Debug for FieldDef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FieldDef").field("name", &self.name).field("ty", &self.ty).finish()
    }
}

pub(crate) const fn def(name: &'static str, ty: FieldType, extract: Extractor) -> FieldDef {
    FieldDef { name, ty, arg: ArgKind::None, extract }
}

pub(crate) const fn def_arg(name: &'static str, ty: FieldType, arg: ArgKind, extract: Extractor) -> FieldDef {
    FieldDef { name, ty, arg, extract }
}

/// A field that exists in Falco but that Palisade events never carry.
pub(crate) fn absent<'a>(_: &Ctx<'a>, _: Option<&str>) -> Option<Val<'a>> {
    None
}

pub(crate) fn s<'a>(v: &'a str) -> Option<Val<'a>> {
    Some(Val::Str(Cow::Borrowed(v)))
}

pub(crate) fn owned<'a>(v: String) -> Option<Val<'a>> {
    Some(Val::Str(Cow::Owned(v)))
}

pub(crate) fn num<'a>(v: impl Into<i64>) -> Option<Val<'a>> {
    Some(Val::Num(v.into()))
}

/// The field table, built once: name → definition.
pub fn table() -> &'static HashMap<&'static str, &'static FieldDef> {
    static TABLE: OnceLock<HashMap<&'static str, &'static FieldDef>> = OnceLock::new();
    TABLE.get_or_init(|| CLASSES.iter().flat_map(|c| c.iter()).map(|f| (f.name, f)).collect())
}

/// Resolve a field name as written in a condition. `evt.arg.flags` resolves to `evt.arg` with the
/// argument `flags`. Returns the definition and the argument implied by the name.
pub fn lookup(name: &str) -> Option<(&'static FieldDef, Option<String>)> {
    let t = table();
    if let Some(f) = t.get(name) {
        return Some((f, None));
    }
    // `class.field.arg` form for fields taking a required argument.
    let mut cut = name.len();
    while let Some(i) = name[..cut].rfind('.') {
        if let Some(f) = t.get(&name[..i]).filter(|f| f.arg == ArgKind::Required) {
            return Some((f, Some(name[i + 1..].to_string())));
        }
        cut = i;
    }
    None
}

// ---- helpers shared by the classes ----

/// The connection of a network event.
pub(crate) fn connection(ev: &Event) -> Option<&Connection> {
    match &ev.kind {
        EventKind::Connect(c) | EventKind::Accept(c) | EventKind::Listen(c) | EventKind::Bind(c) => Some(c),
        _ => None,
    }
}

/// `dirname` of a path as Falco prints `fd.directory`.
pub(crate) fn dirname(p: &str) -> &str {
    match p.rfind('/') {
        Some(0) => "/",
        Some(i) => &p[..i],
        None => p,
    }
}

pub(crate) fn basename(p: &str) -> &str {
    match p.rfind('/') {
        Some(i) => &p[i + 1..],
        None => p,
    }
}

/// Parse a numeric argument (`proc.aname[2]`).
pub(crate) fn index(arg: Option<&str>) -> Option<usize> {
    arg.and_then(|a| a.trim().parse().ok())
}

/// Falco's time prefix of an output line (`09:31:18.123456789`).
pub fn evt_time(ns: u64) -> String {
    let secs = ns / 1_000_000_000;
    format!("{:02}:{:02}:{:02}.{:09}", (secs / 3600) % 24, (secs / 60) % 60, secs % 60, ns % 1_000_000_000)
}

/// RFC 3339 time of an event.
pub fn iso_time(ns: u64) -> String {
    evt::iso8601(ns)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_resolve() {
        let total: usize = CLASSES.iter().map(|c| c.len()).sum();
        assert_eq!(table().len(), total, "a field is declared twice");
        assert_eq!(
            lookup("evt.arg.flags").map(|(f, a)| (f.name, a)),
            Some(("evt.arg", Some("flags".into())))
        );
        assert!(lookup("proc.nosuchfield").is_none());
        assert_eq!(dirname("/etc/shadow"), "/etc");
        assert_eq!(dirname("/x"), "/");
        assert_eq!(basename("/usr/bin/nc"), "nc");
    }
}
