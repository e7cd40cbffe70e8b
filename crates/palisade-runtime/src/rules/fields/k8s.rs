//! `k8s.*`: the Kubernetes pod of the container (from CRI labels).

use super::{ArgKind, FieldDef, FieldType as T, Val, absent, def, def_arg, s};
use crate::event::{Event, Pod};
use std::borrow::Cow;

pub(super) const FIELDS: &[FieldDef] = &[
    def("k8s.pod.name", T::Str, |c, _| pod(c.event).and_then(|p| s(&p.name))),
    def("k8s.ns.name", T::Str, |c, _| pod(c.event).and_then(|p| s(&p.namespace))),
    def("k8s.pod.id", T::Str, |c, _| pod(c.event).and_then(|p| p.uid.as_deref()).and_then(s)),
    def("k8s.pod.uid", T::Str, |c, _| pod(c.event).and_then(|p| p.uid.as_deref()).and_then(s)),
    def_arg("k8s.pod.label", T::Str, ArgKind::Required, |c, a| {
        pod(c.event).and_then(|p| p.labels.get(a?)).and_then(|v| s(v))
    }),
    def("k8s.pod.labels", T::Str, |c, _| {
        pod(c.event).map(|p| {
            Val::Str(Cow::Owned(
                p.labels.iter().map(|(k, v)| format!("{k}:{v}")).collect::<Vec<_>>().join(", "),
            ))
        })
    }),
    def("k8s.pod.ip", T::Str, absent),
    def("k8s.pod.cni.json", T::Str, absent),
    def("k8s.pod.sandbox_id", T::Str, absent),
    def("k8s.pod.full_sandbox_id", T::Str, absent),
    def("k8s.rc.name", T::Str, absent),
    def("k8s.rs.name", T::Str, absent),
    def("k8s.deployment.name", T::Str, absent),
    def("k8s.svc.name", T::Str, absent),
    def_arg("k8s.ns.label", T::Str, ArgKind::Required, absent),
];

fn pod(ev: &Event) -> Option<&Pod> {
    ev.container.as_ref()?.pod.as_ref()
}
