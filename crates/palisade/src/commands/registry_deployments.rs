//! `registry report --deployments FILE`: how many running pods use each stored image, from a
//! `kubectl get pods -A -o yaml` (or `-o json`) dump read with the one dump loader
//! (`palisade_checks::dump`). A pod counts for an image when one of its container statuses reports the
//! image's digest (`imageID`), or when one of its containers names the image's repository and one of its
//! tags. Only pods in phase `Running` count, each once per image. The count is the image's exposure factor in
//! the risk order (`palisade_store::risk`).

use palisade_checks::dump::Dump;
use palisade_store::ImageRisk;
use std::collections::{BTreeSet, HashMap};

/// Running pods per image digest and per `repository:tag`.
#[derive(Debug, Default)]
pub struct Deployments {
    by_digest: HashMap<String, BTreeSet<String>>,
    by_ref: HashMap<String, BTreeSet<String>>,
    /// Running pods seen.
    pub pods: usize,
}

impl Deployments {
    pub fn from_dump(dump: &Dump) -> Deployments {
        let mut d = Deployments::default();
        for o in dump.of_kind("Pod") {
            let root = &o.object.root;
            if root.path(&["status", "phase"]).and_then(|p| p.as_str()) != Some("Running") {
                continue;
            }
            d.pods += 1;
            let pod = format!("{}/{}", o.object.namespace.as_deref().unwrap_or(""), o.object.name);
            let statuses = root.path(&["status", "containerStatuses"]).map(|s| s.as_seq()).unwrap_or(&[]);
            for st in statuses {
                for field in ["imageID", "image"] {
                    if let Some(digest) = st.get(field).and_then(|v| v.as_str()).and_then(digest_of) {
                        d.by_digest.entry(digest.to_string()).or_default().insert(pod.clone());
                    }
                }
            }
            let containers = root.path(&["spec", "containers"]).map(|s| s.as_seq()).unwrap_or(&[]);
            for c in containers {
                let Some(image) = c.get("image").and_then(|v| v.as_str()) else { continue };
                if let Some(digest) = digest_of(image) {
                    d.by_digest.entry(digest.to_string()).or_default().insert(pod.clone());
                } else {
                    d.by_ref.entry(with_tag(image)).or_default().insert(pod.clone());
                }
            }
        }
        d
    }

    /// Running pods using `image` (by digest, or by repository and tag).
    pub fn pods_for(&self, image: &ImageRisk) -> usize {
        let mut pods: BTreeSet<&String> = BTreeSet::new();
        pods.extend(self.by_digest.get(&image.digest).into_iter().flatten());
        for tag in &image.tags {
            pods.extend(self.by_ref.get(&format!("{}:{tag}", image.repository)).into_iter().flatten());
        }
        pods.len()
    }
}

/// `sha256:…` of `name@sha256:…` or `docker-pullable://name@sha256:…`.
fn digest_of(reference: &str) -> Option<&str> {
    reference.rsplit_once('@').map(|(_, d)| d).filter(|d| d.starts_with("sha256:"))
}

/// A reference with its tag (`latest` when it has none).
fn with_tag(image: &str) -> String {
    let last = image.rsplit('/').next().unwrap_or(image);
    if last.contains(':') { image.to_string() } else { format!("{image}:latest") }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(digest: &str, repo: &str, tags: &[&str], risk: i64) -> ImageRisk {
        ImageRisk {
            digest: digest.into(),
            platform: "linux/amd64".into(),
            repository: repo.into(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            created: None,
            base_image: None,
            os: None,
            packages: 0,
            db_version: None,
            critical: 0,
            high: 0,
            medium: 0,
            low: 0,
            unknown: 0,
            fixable: 0,
            risk,
            risk_factors: palisade_store::RiskFactors { findings: risk, exposure: 1, ..Default::default() },
            top_reason: None,
            scanned_at: String::new(),
            running_pods: None,
        }
    }

    #[test]
    fn pods_are_counted_by_digest_and_by_tag() {
        let mut dump = Dump::default();
        dump.add_text("pods.yaml", include_str!("../../tests/fixtures/deployments/pods.yaml"));
        assert!(dump.errors.is_empty(), "{:?}", dump.errors);
        let d = Deployments::from_dump(&dump);
        assert_eq!(d.pods, 3, "the pending pod does not count");
        let app = image("sha256:aaaa", "r.internal:5000/team/app", &["v1"], 100);
        let lib = image("sha256:bbbb", "r.internal:5000/team/lib", &["2.0"], 1000);
        let unused = image("sha256:cccc", "r.internal:5000/team/old", &["v0"], 1000);
        // web-1 by imageID, web-2 by imageID and tag (once), job-1 by tag.
        assert_eq!(d.pods_for(&app), 3);
        assert_eq!(d.pods_for(&lib), 1);
        assert_eq!(d.pods_for(&unused), 0);
        let mut all = vec![unused, lib, app];
        for i in &mut all {
            i.set_running_pods(d.pods_for(i));
        }
        palisade_store::risk::order(&mut all);
        let order: Vec<&str> = all.iter().map(|i| i.digest.as_str()).collect();
        // lib 1000 × 2, unused 1000 × 1, app 100 × 4.
        assert_eq!(order, ["sha256:bbbb", "sha256:cccc", "sha256:aaaa"]);
    }
}
