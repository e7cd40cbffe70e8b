//! Container metadata from the runtimes' state on disk, without talking to a daemon.
//!
//! A container id is looked up under each state root: runc's state (`<root>/<id>/state.json`,
//! `<root>/<namespace>/<id>/state.json` as containerd's shims keep it under `/run/containerd/runc`) names
//! the OCI bundle (label `bundle=`), and containerd's task directories
//! (`<root>/io.containerd.runtime.v2.task/<namespace>/<id>/config.json`) are the bundle. The bundle's
//! `config.json` carries the CRI annotations: image name, container name, pod name, namespace and uid.
//! containerd's own metadata (bolt DB) is not read: a container started with `ctr run` has no image name
//! here.

use crate::event::{Container, Pod};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Where runtimes keep their state on a standard node.
pub fn default_roots() -> Vec<PathBuf> {
    [
        "/run/runc",
        "/run/containerd/runc",
        "/run/containerd",
        "/run/docker/runtime-runc",
        "/run/containers/storage/overlay-containers",
        "/var/lib/containers/storage/overlay-containers",
    ]
    .map(PathBuf::from)
    .to_vec()
}

/// The runtime a state root belongs to, by its path.
fn runtime_of(root: &Path) -> &'static str {
    let s = root.to_string_lossy();
    if s.contains("docker") {
        "docker"
    } else if s.contains("containers/storage") {
        "podman"
    } else if s.contains("containerd") {
        "containerd"
    } else {
        "runc"
    }
}

/// Find the OCI bundle config of container `id` (in containerd `namespace` when known).
pub fn find_config(roots: &[PathBuf], id: &str, namespace: Option<&str>) -> Option<(PathBuf, &'static str)> {
    if id.is_empty() || id.contains('/') || id == "." || id == ".." {
        return None;
    }
    for root in roots {
        let runtime = runtime_of(root);
        // podman: <root>/<id>/userdata/config.json
        let podman = root.join(id).join("userdata/config.json");
        if podman.is_file() {
            return Some((podman, "podman"));
        }
        // containerd task dir (a --state root or /run/containerd)
        let task_root = root.join("io.containerd.runtime.v2.task");
        for ns_dir in namespace_dirs(&task_root, namespace) {
            let config = ns_dir.join(id).join("config.json");
            if config.is_file() {
                return Some((config, "containerd"));
            }
        }
        // runc state: <root>/<id>/state.json or <root>/<ns>/<id>/state.json
        let mut states = vec![root.join(id).join("state.json")];
        states.extend(namespace_dirs(root, namespace).into_iter().map(|d| d.join(id).join("state.json")));
        for state in states {
            if let Some(bundle) = bundle_of_state(&state) {
                let config = bundle.join("config.json");
                if config.is_file() {
                    return Some((config, runtime));
                }
            }
        }
    }
    None
}

fn namespace_dirs(root: &Path, namespace: Option<&str>) -> Vec<PathBuf> {
    if let Some(ns) = namespace {
        return vec![root.join(ns)];
    }
    std::fs::read_dir(root)
        .map(|rd| rd.flatten().map(|e| e.path()).filter(|p| p.is_dir()).collect())
        .unwrap_or_default()
}

/// The bundle directory recorded in a runc `state.json` (`config.labels: ["bundle=…"]`).
fn bundle_of_state(state: &Path) -> Option<PathBuf> {
    let text = std::fs::read(state).ok()?;
    let v: Value = serde_json::from_slice(&text).ok()?;
    v.pointer("/config/labels")?
        .as_array()?
        .iter()
        .find_map(|l| l.as_str()?.strip_prefix("bundle=").map(PathBuf::from))
}

/// Build the container from its bundle's `config.json` (annotations, capabilities).
pub fn container_from_config(config: &Path, id: &str, runtime: &'static str) -> Result<Container, String> {
    let text = std::fs::read(config).map_err(|e| format!("{}: {e}", config.display()))?;
    let v: Value = serde_json::from_slice(&text).map_err(|e| format!("{}: {e}", config.display()))?;
    Ok(container_from_spec(&v, id, runtime))
}

/// The part of [`container_from_config`] that reads the parsed OCI runtime spec.
pub fn container_from_spec(spec: &Value, id: &str, runtime: &'static str) -> Container {
    let ann = |keys: &[&str]| {
        keys.iter().find_map(|k| spec.pointer("/annotations")?.get(*k)?.as_str().map(String::from))
    };
    let pod_name = ann(&["io.kubernetes.cri.sandbox-name", "io.kubernetes.pod.name"]);
    let pod_ns = ann(&["io.kubernetes.cri.sandbox-namespace", "io.kubernetes.pod.namespace"]);
    let pod = match (pod_name, pod_ns) {
        (Some(name), Some(namespace)) => Some(Pod {
            name,
            namespace,
            uid: ann(&["io.kubernetes.cri.sandbox-uid", "io.kubernetes.pod.uid"]),
            labels: Default::default(),
            // containerd passes the pod annotations its `pod_annotations` setting lists under their own
            // names; Palisade's (`palisade.io/mode`) are kept
            annotations: spec
                .pointer("/annotations")
                .and_then(Value::as_object)
                .map(|m| {
                    m.iter()
                        .filter(|(k, _)| k.starts_with("palisade.io/"))
                        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                        .collect()
                })
                .unwrap_or_default(),
        }),
        _ => None,
    };
    let image = ann(&[
        "io.kubernetes.cri.image-name",
        "io.containerd.image.name",
        "org.opencontainers.image.ref.name",
    ]);
    let image_digest = image.as_deref().and_then(|i| i.split_once('@')).map(|(_, d)| d.to_string());
    // Privileged as the runtimes write it: no masked paths and CAP_SYS_ADMIN in the bounding set.
    let masked = spec.pointer("/linux/maskedPaths").and_then(Value::as_array).is_some_and(|a| !a.is_empty());
    let sys_admin = spec
        .pointer("/process/capabilities/bounding")
        .and_then(Value::as_array)
        .is_some_and(|caps| caps.iter().any(|c| c.as_str() == Some("CAP_SYS_ADMIN")));
    Container {
        id: id.to_string(),
        runtime: runtime.to_string(),
        name: ann(&["io.kubernetes.cri.container-name", "io.kubernetes.container.name", "nerdctl/name"]),
        image,
        image_digest,
        privileged: sys_admin && !masked,
        cgroup_id: None,
        pod,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cri_annotations_fill_pod_image_and_name() {
        let spec = serde_json::json!({
            "annotations": {
                "io.kubernetes.cri.sandbox-name": "web-0",
                "io.kubernetes.cri.sandbox-namespace": "shop",
                "io.kubernetes.cri.sandbox-uid": "u-1",
                "io.kubernetes.cri.container-name": "nginx",
                "io.kubernetes.cri.image-name": "docker.io/library/nginx@sha256:abc",
                "palisade.io/mode": "monitor",
                "other.io/x": "y"
            },
            "linux": { "maskedPaths": ["/proc/kcore"] },
            "process": { "capabilities": { "bounding": ["CAP_SYS_ADMIN"] } }
        });
        let c = container_from_spec(&spec, "c1", "containerd");
        assert_eq!(c.name.as_deref(), Some("nginx"));
        assert_eq!(c.image_digest.as_deref(), Some("sha256:abc"));
        let pod = c.pod.unwrap();
        assert_eq!(
            (pod.name.as_str(), pod.namespace.as_str(), pod.uid.as_deref()),
            ("web-0", "shop", Some("u-1"))
        );
        assert_eq!(
            pod.annotations.iter().collect::<Vec<_>>(),
            [(&"palisade.io/mode".to_string(), &"monitor".to_string())]
        );
        assert!(!c.privileged);
        let bare = container_from_spec(&serde_json::json!({}), "c2", "runc");
        assert_eq!((bare.pod, bare.image, bare.privileged), (None, None, false));
    }

    #[test]
    fn runc_state_names_the_bundle() {
        let dir = tempfile::tempdir().unwrap();
        let bundle = dir.path().join("bundle");
        std::fs::create_dir_all(&bundle).unwrap();
        std::fs::write(
            bundle.join("config.json"),
            r#"{"annotations":{"io.kubernetes.pod.name":"p","io.kubernetes.pod.namespace":"n"}}"#,
        )
        .unwrap();
        let state_dir = dir.path().join("runc/c9");
        std::fs::create_dir_all(&state_dir).unwrap();
        std::fs::write(
            state_dir.join("state.json"),
            serde_json::json!({"config": {"labels": [format!("bundle={}", bundle.display())]}}).to_string(),
        )
        .unwrap();
        let roots = vec![dir.path().join("runc")];
        let (config, runtime) = find_config(&roots, "c9", None).unwrap();
        assert_eq!((config, runtime), (bundle.join("config.json"), "runc"));
        assert!(find_config(&roots, "../c9", None).is_none());
        assert!(find_config(&roots, "other", None).is_none());
        // a broken state file is "not found", not a panic
        std::fs::write(state_dir.join("state.json"), "{").unwrap();
        assert!(find_config(&roots, "c9", None).is_none());
    }
}
