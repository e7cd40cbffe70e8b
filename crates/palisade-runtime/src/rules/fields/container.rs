//! `container.*`: the container the process runs in (`host` for host processes, as in Falco).
//!
//! In Falco these fields come from the container plugin; Palisade's sensor attributes containers itself,
//! so they are built in. `container.id` is the 12-character short id, `container.full_id` the full one.

use super::{ArgKind, FieldDef, FieldType as T, Val, absent, def, def_arg, owned, s};
use crate::event::{Container, Event};
use std::borrow::Cow;

pub(super) const FIELDS: &[FieldDef] = &[
    def("container.id", T::Str, |c, _| s(short_id(c.event))),
    def("container.full_id", T::Str, |c, _| s(c.event.container.as_ref().map_or("host", |k| k.id.as_str()))),
    def("container.name", T::Str, |c, _| match &c.event.container {
        None => s("host"),
        Some(k) => k.name.as_deref().and_then(s),
    }),
    def("container.type", T::Str, |c, _| c.event.container.as_ref().and_then(|k| s(&k.runtime))),
    def("container.image", T::Str, |c, _| with(c.event, |k| k.image.as_deref())),
    def("container.image.id", T::Str, |c, _| with(c.event, |k| k.image_digest.as_deref())),
    def("container.image.digest", T::Str, |c, _| with(c.event, |k| k.image_digest.as_deref())),
    def("container.image.repository", T::Str, |c, _| {
        with(c.event, |k| k.image.as_deref().map(|i| split_image(i).0))
    }),
    def("container.image.tag", T::Str, |c, _| {
        with(c.event, |k| k.image.as_deref().and_then(|i| split_image(i).1))
    }),
    def("container.privileged", T::Bool, |c, _| c.event.container.as_ref().map(|k| Val::Bool(k.privileged))),
    def("container.mounts", T::Str, absent),
    def_arg("container.mount", T::Str, ArgKind::Required, absent),
    def_arg("container.mount.source", T::Str, ArgKind::Required, absent),
    def_arg("container.mount.dest", T::Str, ArgKind::Required, absent),
    def_arg("container.mount.mode", T::Str, ArgKind::Required, absent),
    def_arg("container.mount.rdwr", T::Str, ArgKind::Required, absent),
    def_arg("container.mount.propagation", T::Str, ArgKind::Required, absent),
    def("container.start_ts", T::Num, absent),
    def("container.duration", T::Num, absent),
    def("container.ip", T::Str, absent),
    def("container.cni.json", T::Str, absent),
    def("container.host_pid", T::Bool, absent),
    def("container.host_network", T::Bool, absent),
    def("container.host_ipc", T::Bool, absent),
    def("container.healthcheck", T::Str, absent),
    def("container.liveness_probe", T::Str, absent),
    def("container.readiness_probe", T::Str, absent),
    def("container.label", T::Str, absent),
    def("container.labels", T::Str, |c, _| {
        c.event.container.as_ref().and_then(|k| k.pod.as_ref()).map(|p| {
            Val::Str(Cow::Owned(
                p.labels.iter().map(|(k, v)| format!("{k}:{v}")).collect::<Vec<_>>().join(", "),
            ))
        })
    }),
    def("container.cgroup_id", T::Num, |c, _| {
        c.event.container.as_ref().and_then(|k| k.cgroup_id).and_then(|i| i64::try_from(i).ok()).map(Val::Num)
    }),
    def("container.user", T::Str, |c, _| c.event.process.user.clone().and_then(owned)),
];

/// Falco's `container.id`: the first 12 characters of the id, `host` outside containers.
pub(crate) fn short_id(ev: &Event) -> &str {
    match &ev.container {
        None => "host",
        Some(k) => k.id.get(..12).unwrap_or(&k.id),
    }
}

fn with<'a>(ev: &'a Event, f: impl Fn(&'a Container) -> Option<&'a str>) -> Option<Val<'a>> {
    ev.container.as_ref().and_then(f).map(|v| Val::Str(Cow::Borrowed(v)))
}

/// `repo[:tag][@digest]` → (repository, tag).
fn split_image(image: &str) -> (&str, Option<&str>) {
    let no_digest = image.split('@').next().unwrap_or(image);
    let slash = no_digest.rfind('/').map_or(0, |i| i + 1);
    match no_digest[slash..].rfind(':') {
        Some(i) => (&no_digest[..slash + i], Some(&no_digest[slash + i + 1..])),
        None => (no_digest, None),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn image_split() {
        assert_eq!(
            super::split_image("registry:5000/ns/app:1.2@sha256:ab"),
            ("registry:5000/ns/app", Some("1.2"))
        );
        assert_eq!(super::split_image("busybox"), ("busybox", None));
    }
}
