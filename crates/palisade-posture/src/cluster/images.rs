//! The images a cluster runs: every container of every Pod not finished (`Succeeded`/`Failed`), with the
//! image its spec names and the digest its status reports (`imageID`, e.g.
//! `docker-pullable://host/repo@sha256:…`), attributed to the workload that owns the Pod (a ReplicaSet's
//! Pod to its Deployment, a Job's to its CronJob, when those are in the dump; a bare or static Pod to
//! itself). `scan cluster` looks them up in the image store.

use palisade_checks::dump::{Dump, DumpObject};
use palisade_checks::yaml::Node;
use std::collections::{BTreeMap, BTreeSet};

/// What every `scan cluster` warning about a running image that no scan covers says (the compliance
/// mappings with `running_images` fail on it).
pub const NOT_SCANNED: &str = "not scanned";

/// A workload running an image.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RunningIn {
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub container: String,
}

impl std::fmt::Display for RunningIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}/{} (container {})", self.kind, self.namespace, self.name, self.container)
    }
}

/// One image as the cluster runs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunningImage {
    /// The reference the Pod spec names (`nginx:1.25`, `host:5000/team/app@sha256:…`).
    pub reference: String,
    /// The manifest digest the runtime pulled (`sha256:…`), from the status or a digest reference.
    pub digest: Option<String>,
    /// The workloads (and containers) running it, sorted.
    pub running_in: BTreeSet<RunningIn>,
}

/// Every running image, by (reference, digest), in a stable order.
pub fn running_images(dump: &Dump) -> Vec<RunningImage> {
    let mut by: BTreeMap<(String, Option<String>), BTreeSet<RunningIn>> = BTreeMap::new();
    for d in dump.of_kind("Pod") {
        let root = &d.object.root;
        let phase = root.path(&["status", "phase"]).and_then(Node::as_str);
        if matches!(phase, Some("Succeeded" | "Failed")) {
            continue;
        }
        let Some(pod) = d.object.pod() else { continue };
        let (kind, name) = owner(dump, d);
        let namespace = d.object.namespace.clone().unwrap_or_else(|| "default".into());
        // Container name → imageID, from every status list.
        let mut ids: BTreeMap<&str, &str> = BTreeMap::new();
        for list in ["initContainerStatuses", "containerStatuses", "ephemeralContainerStatuses"] {
            for st in root.path(&["status", list]).map(Node::as_seq).unwrap_or(&[]) {
                if let (Some(n), Some(id)) =
                    (st.get("name").and_then(Node::as_str), st.get("imageID").and_then(Node::as_str))
                {
                    ids.insert(n, id);
                }
            }
        }
        for c in pod.containers() {
            let Some(image) = c.image().map(str::trim).filter(|i| !i.is_empty()) else { continue };
            let digest =
                ids.get(c.name).and_then(|id| digest_of(id)).or_else(|| digest_of(image)).map(str::to_string);
            by.entry((image.to_string(), digest)).or_default().insert(RunningIn {
                kind: kind.clone(),
                namespace: namespace.clone(),
                name: name.clone(),
                container: c.name.to_string(),
            });
        }
    }
    by.into_iter()
        .map(|((reference, digest), running_in)| RunningImage { reference, digest, running_in })
        .collect()
}

/// `sha256:…` of `name@sha256:…` or `docker-pullable://name@sha256:…`. A bare `sha256:…` imageID is the
/// image's config digest under Docker, not a manifest digest, so it is not taken.
pub fn digest_of(reference: &str) -> Option<&str> {
    reference.rsplit_once('@').map(|(_, d)| d).filter(|d| {
        d.len() == 71 && d.starts_with("sha256:") && d[7..].bytes().all(|b| b.is_ascii_hexdigit())
    })
}

/// The controller of `o` (kind, name), followed one more step for a ReplicaSet or a Job whose own controller
/// is in the dump; `o` itself when it has none (or only its Node: a static Pod).
fn owner(dump: &Dump, o: &DumpObject) -> (String, String) {
    let mut kind = o.object.kind.clone();
    let mut name = o.object.name.clone();
    let ns = o.object.namespace.as_deref();
    for _ in 0..2 {
        let Some((k, n)) = controller_of(dump, &kind, &name, ns, o) else { break };
        kind = k;
        name = n;
    }
    (kind, name)
}

fn controller_of(
    dump: &Dump,
    kind: &str,
    name: &str,
    ns: Option<&str>,
    pod: &DumpObject,
) -> Option<(String, String)> {
    let meta = if kind == pod.object.kind && name == pod.object.name {
        pod.object.metadata()
    } else {
        dump.of_kind(kind)
            .find(|d| d.object.name == name && d.object.namespace.as_deref() == ns)
            .and_then(|d| d.object.metadata())
    }?;
    let refs = meta.get("ownerReferences").map(Node::as_seq).unwrap_or(&[]);
    let r = refs
        .iter()
        .find(|r| r.get("controller").and_then(Node::as_bool) == Some(true))
        .or_else(|| refs.first())?;
    let k = r.get("kind").and_then(Node::as_str)?;
    let n = r.get("name").and_then(Node::as_str)?;
    (k != "Node").then(|| (k.to_string(), n.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pods_are_attributed_to_their_workloads() {
        let mut dump = Dump::default();
        dump.add_text("images.yaml", include_str!("../../tests/fixtures/cluster/running.yaml"));
        assert!(dump.errors.is_empty(), "{:?}", dump.errors);
        let images = running_images(&dump);
        let got: Vec<(String, Option<String>, Vec<String>)> = images
            .iter()
            .map(|i| {
                (
                    i.reference.clone(),
                    i.digest.clone(),
                    i.running_in.iter().map(ToString::to_string).collect(),
                )
            })
            .collect();
        let app = format!("sha256:{}", "a".repeat(64));
        let side = format!("sha256:{}", "b".repeat(64));
        assert_eq!(
            got,
            vec![
                (
                    "registry.example.com/shop/web:1.4.2".to_string(),
                    Some(app.clone()),
                    vec!["Deployment shop/web (container web)".to_string()]
                ),
                (
                    format!("registry.example.com/shop/sidecar@{side}"),
                    Some(side.clone()),
                    vec!["CronJob shop/backup (container sidecar)".to_string()]
                ),
                (
                    "registry.k8s.io/kube-apiserver:v1.30.2".to_string(),
                    None,
                    vec!["Pod kube-system/kube-apiserver-cp1 (container kube-apiserver)".to_string()]
                ),
                (
                    "registry.example.com/tools/debug:latest".to_string(),
                    None,
                    vec!["Pod shop/debug (container debug)".to_string()]
                ),
            ]
            .into_iter()
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect::<Vec<_>>()
        );
    }

    #[test]
    fn only_manifest_digests_are_taken() {
        let d = format!("sha256:{}", "c".repeat(64));
        assert_eq!(digest_of(&format!("docker-pullable://r/x@{d}")), Some(d.as_str()));
        assert_eq!(digest_of(&d), None);
        assert_eq!(digest_of("r/x@sha256:short"), None);
    }
}
