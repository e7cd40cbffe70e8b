//! PAL-K8S-061: Job without ttlSecondsAfterFinished.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, Hit, K8sCx};
#[allow(unused_imports)]
use crate::k8s::Object;
#[allow(unused_imports)]
use crate::yaml::Node;
use palisade_core::findings::misconfig::Severity;

pub struct JobTtl;

static META: CheckMeta = CheckMeta {
    id: "PAL-K8S-061",
    title: "Job without ttlSecondsAfterFinished",
    severity: Severity::Info,
    groups: &["kubernetes", "reliability"],
    rationale: "Finished Jobs and their pods pile up in the cluster unless a TTL cleans them up.",
    remediation: "Set spec.ttlSecondsAfterFinished on standalone Jobs.",
    references: &["Kubernetes docs: TTL after finished"],
    peers: &["kube-linter:job-ttl-seconds-after-finished"],
    ..CheckMeta::K8S
};

impl Check for JobTtl {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        if obj.kind != "Job" {
            return;
        }
        let Some(spec) = obj.spec() else { return };
        if spec.field("ttlSecondsAfterFinished").is_none() {
            out.push(Hit::at(spec, "standalone Job has no ttlSecondsAfterFinished; set one"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::JobTtl as C;

    const FAIL: &str = r#"apiVersion: batch/v1
kind: Job
metadata: {name: j, namespace: apps}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: a, image: x:1}]
"#;
    const PASS: &str = r#"apiVersion: batch/v1
kind: Job
metadata: {name: j, namespace: apps}
spec:
  ttlSecondsAfterFinished: 600
  template:
    spec:
      restartPolicy: Never
      containers: [{name: a, image: x:1}]
"#;

    crate::testutil::fixture_tests!(k8s, C, pass: PASS, fail: FAIL);
}
