//! PAL-K8S-062: Unexpected restartPolicy for a long-running workload.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, Hit, K8sCx};
#[allow(unused_imports)]
use crate::k8s::Object;
#[allow(unused_imports)]
use crate::yaml::Node;
use palisade_core::findings::misconfig::Severity;

pub struct RestartPolicy;

static META: CheckMeta = CheckMeta {
    id: "PAL-K8S-062",
    title: "restartPolicy is neither Always nor OnFailure",
    severity: Severity::Info,
    groups: &["kubernetes", "reliability"],
    rationale: "With restartPolicy Never a crashed container stays down (controllers reject it outright).",
    remediation: "Remove restartPolicy (defaults to Always) or set it to Always or OnFailure.",
    references: &["Kubernetes docs: pod lifecycle"],
    peers: &["kube-linter:restart-policy"],
    ..CheckMeta::K8S
};

impl Check for RestartPolicy {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        let Some(pod) = obj.pod() else { return };
        if let Some(r) =
            pod.spec.field("restartPolicy").filter(|r| !matches!(r.as_str(), Some("Always" | "OnFailure")))
        {
            out.push(Hit::at(
                r,
                format!(
                    "restartPolicy {} on a {}: failed containers are not restarted; use Always or OnFailure",
                    r.scalar_text().unwrap_or_default(),
                    obj.kind
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RestartPolicy as C;

    const FAIL: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: apps
spec:
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      restartPolicy: Never
      containers:
      - name: app
        image: registry.example.com/app:1.0
"#;
    const PASS: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: apps
spec:
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      restartPolicy: Always
      containers:
      - name: app
        image: registry.example.com/app:1.0
"#;

    crate::testutil::fixture_tests!(k8s, C, pass: PASS, fail: FAIL);
}
