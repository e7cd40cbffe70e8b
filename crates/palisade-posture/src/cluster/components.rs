//! The versions of the cluster's own components, read from a dump: each Node's status (kubelet, kube-proxy,
//! container runtime) and the images of control plane and add-on Pods (API server, controller manager,
//! scheduler, kube-proxy, etcd, CoreDNS). Each becomes a Go module package (the module the Go vulnerability
//! database files its advisories under), so the one vulnerability matcher judges them and the one CycloneDX
//! writer makes the cluster's bill of materials.

use palisade_checks::dump::{Dump, DumpObject};
use palisade_checks::yaml::Node;
use palisade_core::{Ecosystem, Location, Package};
use serde::Serialize;

/// One component at one version, and where it was seen.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Component {
    /// `kubelet`, `kube-apiserver`, `etcd`, `coredns`, `containerd`, …
    pub name: String,
    /// As the cluster reports it (`v1.33.1`, `3.5.21-0`, `containerd://1.7.27`).
    pub reported: String,
    /// Go module whose advisories apply.
    pub module: String,
    /// Module version (`v1.33.1`).
    pub version: String,
    /// `FILE:LINE (Node/name status.nodeInfo.kubeletVersion)`.
    pub seen: Vec<String>,
}

/// `v1.33.1` from `v1.33.1`, `1.33.1`, `3.5.21-0` (etcd's image suffix), `v1.33.1-eks-1234` (vendor
/// suffixes kept: they do not order below the release).
fn semver(v: &str) -> Option<String> {
    let v = v.trim().trim_start_matches('v');
    let core: String = v.chars().take_while(|c| c.is_ascii_digit() || *c == '.').collect();
    let parts: Vec<&str> = core.trim_end_matches('.').split('.').collect();
    if parts.len() < 2 || parts.iter().any(|p| p.is_empty()) {
        return None;
    }
    let mut p = parts.clone();
    while p.len() < 3 {
        p.push("0");
    }
    Some(format!("v{}", p[..3].join(".")))
}

/// The Go module of a component at a version.
fn module_of(name: &str, version: &str) -> Option<&'static str> {
    let major = version.trim_start_matches('v').split('.').next()?.parse::<u32>().ok()?;
    let minor = version.trim_start_matches('v').split('.').nth(1)?.parse::<u32>().ok()?;
    Some(match name {
        "kubelet" | "kube-proxy" | "kube-apiserver" | "kube-controller-manager" | "kube-scheduler" => {
            "k8s.io/kubernetes"
        }
        "etcd" if major == 3 && minor >= 5 => "go.etcd.io/etcd/server/v3",
        "etcd" => "go.etcd.io/etcd",
        "coredns" => "github.com/coredns/coredns",
        "containerd" if major >= 2 => "github.com/containerd/containerd/v2",
        "containerd" => "github.com/containerd/containerd",
        "cri-o" => "github.com/cri-o/cri-o",
        "docker" => "github.com/docker/docker",
        "runc" => "github.com/opencontainers/runc",
        _ => return None,
    })
}

/// Image name → component (`registry.k8s.io/kube-apiserver:v1.33.1`, `…/coredns/coredns:v1.12.0`,
/// `quay.io/coreos/etcd:v3.5.21`).
fn component_of_image(image: &str) -> Option<(&'static str, String)> {
    let image = image.split('@').next()?;
    let (repo, tag) = image.rsplit_once(':').filter(|(r, _)| !r.ends_with('/') && !r.contains("//"))?;
    if tag.contains('/') {
        return None;
    }
    let last = repo.rsplit('/').next()?;
    let name = match last {
        "kube-apiserver" | "kube-apiserver-amd64" | "kube-apiserver-arm64" => "kube-apiserver",
        "kube-controller-manager" | "kube-controller-manager-amd64" => "kube-controller-manager",
        "kube-scheduler" | "kube-scheduler-amd64" => "kube-scheduler",
        "kube-proxy" | "kube-proxy-amd64" => "kube-proxy",
        "etcd" | "etcd-amd64" => "etcd",
        "coredns" => "coredns",
        _ => return None,
    };
    Some((name, tag.to_string()))
}

fn at(d: &DumpObject, n: &Node, what: &str) -> String {
    format!("{}:{} ({} {what})", d.file, n.line, d.object.display())
}

/// Every component version of the dump, one entry per (component, version).
pub fn components(dump: &Dump) -> Vec<Component> {
    let mut found: Vec<Component> = Vec::new();
    let mut add = |name: &str, reported: &str, seen: String| {
        let Some(version) = semver(reported) else { return };
        let Some(module) = module_of(name, &version) else { return };
        match found.iter_mut().find(|c| c.name == name && c.version == version) {
            Some(c) => {
                if !c.seen.contains(&seen) {
                    c.seen.push(seen);
                }
            }
            None => found.push(Component {
                name: name.to_string(),
                reported: reported.to_string(),
                module: module.to_string(),
                version,
                seen: vec![seen],
            }),
        }
    };
    for d in &dump.objects {
        let o = &d.object;
        if o.kind == "Node" {
            if let Some(info) = o.root.path(&["status", "nodeInfo"]) {
                for (field, name) in [("kubeletVersion", "kubelet"), ("kubeProxyVersion", "kube-proxy")] {
                    if let Some(n) = info.get(field)
                        && let Some(v) = n.as_str().filter(|v| !v.is_empty())
                    {
                        add(name, v, at(d, n, &format!("status.nodeInfo.{field}")));
                    }
                }
                if let Some(n) = info.get("containerRuntimeVersion")
                    && let Some((rt, v)) = n.as_str().and_then(|s| s.split_once("://"))
                {
                    let name = match rt {
                        "containerd" => "containerd",
                        "cri-o" => "cri-o",
                        "docker" => "docker",
                        _ => continue,
                    };
                    add(name, v, at(d, n, "status.nodeInfo.containerRuntimeVersion"));
                }
            }
            continue;
        }
        let Some(pod) = o.pod() else { continue };
        for field in ["containers", "initContainers"] {
            for c in pod.spec.get(field).map(Node::as_seq).unwrap_or(&[]) {
                if let Some(img) = c.get("image")
                    && let Some((name, tag)) = img.as_str().and_then(component_of_image)
                {
                    add(name, &tag, at(d, img, "image"));
                }
            }
        }
    }
    found.sort();
    found
}

/// The components as Go module packages: one per (module, version), the components that ship it in
/// metadata `components`, where each was seen in `seen`, the dump files as locations.
pub fn packages(components: &[Component]) -> Vec<Package> {
    let mut out: Vec<Package> = Vec::new();
    for c in components {
        let file = |s: &str| s.split(':').next().unwrap_or(s).to_string();
        match out.iter_mut().find(|p| p.name == c.module && p.version == c.version) {
            Some(p) => {
                let names = p.metadata.entry("components".into()).or_default();
                names.push_str(&format!(",{}", c.name));
                let seen = p.metadata.entry("seen".into()).or_default();
                seen.push_str(&format!("; {}", c.seen.join("; ")));
                for s in &c.seen {
                    if !p.locations.iter().any(|l| l.path == file(s)) {
                        p.locations.push(Location::new(file(s), None));
                    }
                }
            }
            None => {
                let first = c.seen.first().map(|s| file(s)).unwrap_or_default();
                let mut p = Package::new(
                    Ecosystem::Golang,
                    &c.module,
                    &c.version,
                    Location::new(first, None),
                    "cluster-components",
                );
                p.metadata.insert("components".into(), c.name.clone());
                p.metadata.insert("seen".into(), c.seen.join("; "));
                out.push(p);
            }
        }
    }
    out.sort_by(|a, b| (&a.name, &a.version).cmp(&(&b.name, &b.version)));
    out
}

/// The cluster's version: the API server's, else the newest kubelet's (`1.33`).
pub fn cluster_version(components: &[Component]) -> Option<String> {
    let minor = |c: &Component| -> Option<(u32, u32)> {
        let mut it = c.version.trim_start_matches('v').split('.');
        Some((it.next()?.parse().ok()?, it.next()?.parse().ok()?))
    };
    let pick = components
        .iter()
        .filter(|c| c.name == "kube-apiserver")
        .filter_map(minor)
        .max()
        .or_else(|| components.iter().filter(|c| c.name == "kubelet").filter_map(minor).max())?;
    Some(format!("{}.{}", pick.0, pick.1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_and_images() {
        assert_eq!(semver("v1.33.1").as_deref(), Some("v1.33.1"));
        assert_eq!(semver("3.5.21-0").as_deref(), Some("v3.5.21"));
        assert_eq!(semver("1.7").as_deref(), Some("v1.7.0"));
        assert_eq!(semver("latest"), None);
        assert_eq!(
            component_of_image("registry.k8s.io/coredns/coredns:v1.12.0"),
            Some(("coredns", "v1.12.0".into()))
        );
        assert_eq!(component_of_image("localhost:5000/etcd"), None);
        assert_eq!(
            component_of_image("registry.k8s.io/etcd:3.5.21-0@sha256:abc"),
            Some(("etcd", "3.5.21-0".into()))
        );
        assert_eq!(module_of("containerd", "v2.1.0"), Some("github.com/containerd/containerd/v2"));
        assert_eq!(module_of("etcd", "v3.4.30"), Some("go.etcd.io/etcd"));
    }
}
