//! From a process's cgroup to a container id: `/proc/PID/cgroup` parsing and the path conventions of the
//! container runtimes. Pure functions over text; [`super::Attributor`] does the I/O.
//!
//! Path forms recognised (last component first, then its parents):
//! - systemd scopes `docker-<id>.scope`, `cri-containerd-<id>.scope`, `crio-<id>.scope`, `libpod-<id>.scope`;
//! - cgroupfs `/docker/<id>`, `/libpod_parent/libpod-<id>`, `/kubepods/<qos>/pod<uid>/<id>` (and the
//!   systemd `kubepods-…-pod<uid>.slice` form), where `<id>` is 64 hex digits;
//! - runtimes that name the cgroup after an arbitrary container id: `runc run ID` (`/<ID>`) and containerd
//!   (`/<namespace>/<ID>`). Those are only containers when the runtime's state confirms it, so they come back
//!   as [`Candidate::Unconfirmed`].

/// What a cgroup path says about the container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Candidate {
    /// The root cgroup (or none): a host process.
    Host,
    /// The path names a container id by a runtime's convention.
    Container { id: String, runtime: Option<&'static str>, pod_uid: Option<String> },
    /// Last component (and its parent, for containerd's `/<ns>/<id>`) that may be a container id:
    /// confirmed or not by the runtimes' state directories.
    Unconfirmed { id: String, namespace: Option<String> },
}

/// The cgroup path to attribute by, from `/proc/PID/cgroup` text: the cgroup v2 (`0::`) path when it is not
/// the root, else the first non-root path of the v1 `name=systemd`, `pids`, `cpu`/`cpuacct`, `devices`
/// hierarchies, and `memory` only on hosts without cgroup v2 (sandboxes put whole machines in a memory
/// cgroup). `None` when the text has no usable line.
pub fn select_path(proc_cgroup: &str) -> Option<String> {
    let mut unified = None;
    let mut v1: Vec<(usize, &str)> = Vec::new();
    const ORDER: [&str; 6] = ["name=systemd", "pids", "cpu", "cpuacct", "devices", "memory"];
    for line in proc_cgroup.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(_), Some(controllers), Some(path)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        if controllers.is_empty() {
            unified = Some(path);
            continue;
        }
        for c in controllers.split(',') {
            if let Some(rank) = ORDER.iter().position(|o| *o == c) {
                v1.push((rank, path));
            }
        }
    }
    if let Some(p) = unified.filter(|p| *p != "/") {
        return Some(p.to_string());
    }
    v1.sort_by_key(|(rank, _)| *rank);
    // with a cgroup v2 line present, the memory hierarchy is not a container's (sandboxes move whole
    // machines into one memory cgroup); without one, it is the last resort
    let memory_rank = ORDER.len() - 1;
    if let Some((_, p)) = v1.iter().find(|(rank, p)| *p != "/" && (unified.is_none() || *rank != memory_rank))
    {
        return Some(p.to_string());
    }
    (unified.is_some() || !v1.is_empty()).then(|| "/".to_string())
}

fn is_hex64(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The pod uid in `pod<uid>` or `kubepods-<qos>-pod<uid>.slice` (systemd writes `_` for `-`).
fn pod_uid(component: &str) -> Option<String> {
    let c = component.strip_suffix(".slice").unwrap_or(component);
    let at = c.rfind("pod")?;
    let uid = &c[at + 3..];
    (uid.len() >= 32 && uid.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-' || b == b'_'))
        .then(|| uid.replace('_', "-"))
}

/// Classify a cgroup path.
pub fn classify(path: &str) -> Candidate {
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    let Some(last) = parts.last() else { return Candidate::Host };
    let pod = parts
        .iter()
        .find_map(|p| if p.starts_with("kubepods") || p.starts_with("pod") { pod_uid(p) } else { None });
    let stem = last.strip_suffix(".scope").unwrap_or(last);
    const PREFIXES: [(&str, &str); 5] = [
        ("cri-containerd-", "containerd"),
        ("containerd-", "containerd"),
        ("docker-", "docker"),
        ("crio-", "cri-o"),
        ("libpod-", "podman"),
    ];
    for (prefix, runtime) in PREFIXES {
        if let Some(id) = stem.strip_prefix(prefix).filter(|id| is_hex64(id)) {
            return Candidate::Container { id: id.to_string(), runtime: Some(runtime), pod_uid: pod };
        }
    }
    if is_hex64(stem) {
        let parent = parts.len().checked_sub(2).map(|i| parts[i]);
        let runtime = match parent {
            Some("docker") => Some("docker"),
            Some("libpod_parent") => Some("podman"),
            _ => None,
        };
        return Candidate::Container { id: stem.to_string(), runtime, pod_uid: pod };
    }
    if stem.ends_with(".slice") || stem.ends_with(".service") || stem == "init.scope" {
        return Candidate::Host;
    }
    let namespace = (parts.len() == 2).then(|| parts[0].to_string());
    Candidate::Unconfirmed { id: stem.to_string(), namespace }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn hybrid_host_prefers_unified_and_skips_the_sandbox_memory_cgroup() {
        let host = "9:name=systemd:/\n4:memory:/process_api/ae3b\n1:cpu:/\n0::/\n";
        assert_eq!(select_path(host).as_deref(), Some("/"));
        let runc = "9:name=systemd:/t1\n4:memory:/process_api/ae3b/t1\n0::/t1\n";
        assert_eq!(select_path(runc).as_deref(), Some("/t1"));
        let v1_only = "4:memory:/x/y\n3:pids:/docker/abc\n";
        assert_eq!(select_path(v1_only).as_deref(), Some("/docker/abc"));
        assert_eq!(select_path("garbage"), None);
    }

    #[test]
    fn runtime_conventions() {
        let c = |runtime: Option<&'static str>, pod: Option<&str>| Candidate::Container {
            id: ID.into(),
            runtime,
            pod_uid: pod.map(String::from),
        };
        assert_eq!(classify(&format!("/system.slice/docker-{ID}.scope")), c(Some("docker"), None));
        assert_eq!(classify(&format!("/docker/{ID}")), c(Some("docker"), None));
        assert_eq!(classify(&format!("/machine.slice/libpod-{ID}.scope")), c(Some("podman"), None));
        assert_eq!(
            classify(&format!("/kubepods/burstable/pod0b6a4a2e-1111-2222-3333-444455556666/{ID}")),
            c(None, Some("0b6a4a2e-1111-2222-3333-444455556666"))
        );
        assert_eq!(
            classify(&format!(
                "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod0b6a4a2e_1111_2222_3333_444455556666.slice/cri-containerd-{ID}.scope"
            )),
            c(Some("containerd"), Some("0b6a4a2e-1111-2222-3333-444455556666"))
        );
        assert_eq!(classify("/"), Candidate::Host);
        assert_eq!(classify("/system.slice/ssh.service"), Candidate::Host);
        assert_eq!(
            classify("/t-sensor1"),
            Candidate::Unconfirmed { id: "t-sensor1".into(), namespace: None }
        );
        assert_eq!(
            classify("/test/c1"),
            Candidate::Unconfirmed { id: "c1".into(), namespace: Some("test".into()) }
        );
    }
}
