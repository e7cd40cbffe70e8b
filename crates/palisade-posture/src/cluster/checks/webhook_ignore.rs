//! PAL-CLU-003: an admission webhook with `failurePolicy: Ignore`: while the webhook is down (or made to time
//! out) every request it should judge is admitted unchecked.

use super::{ClusterCheck, Cx, Hit};
use palisade_checks::yaml::Node;
use palisade_core::Severity;

pub const CHECK: ClusterCheck = ClusterCheck {
    id: "PAL-CLU-003",
    title: "Admission webhook fails open",
    severity: Severity::Medium,
    remediation: "Set failurePolicy: Fail on webhooks that enforce security policy, with enough replicas and a PodDisruptionBudget to keep them up.",
    run,
};

fn run<'a>(cx: &Cx<'a>) -> Vec<Hit<'a>> {
    let mut out = Vec::new();
    for d in &cx.dump.objects {
        let kind = d.object.kind.as_str();
        if kind != "ValidatingWebhookConfiguration" && kind != "MutatingWebhookConfiguration" {
            continue;
        }
        for w in d.object.root.get("webhooks").map(Node::as_seq).unwrap_or(&[]) {
            let Some(fp) = w.get("failurePolicy") else { continue };
            if fp.as_str() == Some("Ignore") {
                let name = w.get("name").and_then(Node::as_str).unwrap_or("?");
                out.push(Hit {
                    object: d,
                    line: fp.line,
                    message: format!("webhook {name} has failurePolicy: Ignore"),
                    severity: None,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::ids;

    #[test]
    fn fires_on_ignore_and_not_on_fail() {
        let w = "apiVersion: admissionregistration.k8s.io/v1\nkind: MutatingWebhookConfiguration\nmetadata: {name: m}\nwebhooks: [{name: a.example.com, failurePolicy: POLICY, sideEffects: None, admissionReviewVersions: [v1], clientConfig: {url: \"https://a\"}}]\n";
        assert_eq!(ids(&w.replace("POLICY", "Ignore"), None), ["PAL-CLU-003"]);
        assert!(ids(&w.replace("POLICY", "Fail"), None).is_empty());
    }
}
