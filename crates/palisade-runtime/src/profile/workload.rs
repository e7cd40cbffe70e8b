//! Which workload an event belongs to.
//!
//! Pods made by a controller carry the controller's labels, which give its kind and name without asking
//! the API server: `pod-template-hash` (a Deployment's ReplicaSet: the pod is `<deployment>-<hash>-<id>`),
//! `statefulset.kubernetes.io/pod-name` (`<statefulset>-<ordinal>`), `controller-revision-hash` with
//! `pod-template-generation` (a DaemonSet: `<daemonset>-<id>`), `job-name`. Without such labels the
//! workload is the container's image repository (tag and digest dropped, so an upgrade keeps its
//! profile), else its container name, else its id.

use crate::event::Container;
use crate::profile::model::{Workload, WorkloadKind};

/// The workload of a container.
pub fn identify(container: &Container) -> Workload {
    if let Some(pod) = &container.pod
        && let Some((kind, name)) = controller(&pod.name, &pod.labels)
    {
        let selector = pod
            .labels
            .iter()
            .filter(|(k, _)| !PER_POD_LABELS.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        return Workload { kind, name, namespace: Some(pod.namespace.clone()), selector };
    }
    let namespace = container.pod.as_ref().map(|p| p.namespace.clone());
    if let Some(image) = container.image.as_deref().filter(|i| !i.is_empty()) {
        return Workload {
            kind: WorkloadKind::Image,
            name: repository(image).to_string(),
            namespace,
            selector: Default::default(),
        };
    }
    let name = container.name.clone().filter(|n| !n.is_empty()).unwrap_or_else(|| container.id.clone());
    Workload { kind: WorkloadKind::Container, name, namespace, selector: Default::default() }
}

/// Labels that differ between pods of one controller.
const PER_POD_LABELS: [&str; 5] = [
    "pod-template-hash",
    "controller-revision-hash",
    "pod-template-generation",
    "statefulset.kubernetes.io/pod-name",
    "apps.kubernetes.io/pod-index",
];

fn controller(
    pod: &str,
    labels: &std::collections::BTreeMap<String, String>,
) -> Option<(WorkloadKind, String)> {
    let strip_last = |s: &str| s.rsplit_once('-').map(|(a, _)| a.to_string());
    if let Some(hash) = labels.get("pod-template-hash") {
        let marker = format!("-{hash}-");
        let name = match pod.find(&marker) {
            Some(i) => pod[..i].to_string(),
            None => strip_last(pod).and_then(|p| strip_last(&p))?,
        };
        return Some((WorkloadKind::Deployment, name));
    }
    if labels.contains_key("statefulset.kubernetes.io/pod-name") {
        return Some((WorkloadKind::StatefulSet, strip_last(pod)?));
    }
    if labels.contains_key("controller-revision-hash") && labels.contains_key("pod-template-generation") {
        return Some((WorkloadKind::DaemonSet, strip_last(pod)?));
    }
    if let Some(job) = labels.get("job-name").or_else(|| labels.get("batch.kubernetes.io/job-name")) {
        return Some((WorkloadKind::Job, job.clone()));
    }
    None
}

/// The repository of an image reference: `docker.io/library/nginx:1.27@sha256:…` → `docker.io/library/nginx`.
pub fn repository(image: &str) -> &str {
    let no_digest = image.split_once('@').map_or(image, |(r, _)| r);
    match no_digest.rsplit_once(':') {
        // a colon after the last slash is a tag; before it, a registry port
        Some((repo, tag)) if !tag.contains('/') => repo,
        _ => no_digest,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Pod;

    fn pod(name: &str, labels: &[(&str, &str)]) -> Container {
        Container {
            id: "c".into(),
            image: Some("registry:5000/shop/web:1.2@sha256:ab".into()),
            pod: Some(Pod {
                name: name.into(),
                namespace: "shop".into(),
                uid: None,
                annotations: Default::default(),
                labels: labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            }),
            ..Container::default()
        }
    }

    #[test]
    fn controllers_from_labels_then_image_then_name() {
        let w = identify(&pod("web-7d9f8c-x2x4z", &[("pod-template-hash", "7d9f8c"), ("app", "web")]));
        assert_eq!(w.key(), "shop/Deployment/web");
        assert_eq!(w.selector.iter().collect::<Vec<_>>(), [(&"app".to_string(), &"web".to_string())]);
        assert_eq!(
            identify(&pod("db-2", &[("statefulset.kubernetes.io/pod-name", "db-2")])).key(),
            "shop/StatefulSet/db"
        );
        let ds = pod("agent-k2l9p", &[("controller-revision-hash", "5f"), ("pod-template-generation", "1")]);
        assert_eq!(identify(&ds).key(), "shop/DaemonSet/agent");
        assert_eq!(identify(&pod("web-0", &[])).key(), "shop/Image/registry:5000/shop/web");
        let bare = Container { id: "abc".into(), name: Some("api".into()), ..Container::default() };
        assert_eq!(identify(&bare).key(), "Container/api");
        assert_eq!(identify(&Container { id: "abc".into(), ..Container::default() }).key(), "Container/abc");
        assert_eq!(repository("nginx"), "nginx");
        assert_eq!(repository("localhost:5000/nginx"), "localhost:5000/nginx");
        assert_eq!(identify(&pod("web-0", &[])).object_name(), "image-registry-5000-shop-web");
    }
}
