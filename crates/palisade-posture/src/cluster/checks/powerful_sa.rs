//! PAL-CLU-002: a workload runs as a service account that RBAC analysis finds High or Critical risks for
//! (`palisade rbac analyze`): whoever compromises the workload inherits them.

use super::{ClusterCheck, Cx, Hit};
use crate::rbac::model::SubjectKind;
use palisade_core::Severity;

pub const CHECK: ClusterCheck = ClusterCheck {
    id: "PAL-CLU-002",
    title: "Workload runs as a powerful service account",
    severity: Severity::High,
    remediation: "Give the workload its own service account with only the permissions it needs; see `palisade rbac analyze`.",
    run,
};

fn run<'a>(cx: &Cx<'a>) -> Vec<Hit<'a>> {
    let mut out = Vec::new();
    for d in &cx.dump.objects {
        let o = &d.object;
        let Some(pod) = o.pod() else { continue };
        if crate::rbac::model::controller_owned(o) {
            continue;
        }
        let ns = o.namespace.clone().unwrap_or_else(|| "default".into());
        let sa_node = pod.spec.get("serviceAccountName").or_else(|| pod.spec.get("serviceAccount"));
        let sa = sa_node.and_then(|n| n.as_str()).filter(|s| !s.is_empty()).unwrap_or("default");
        let risks: Vec<&crate::rbac::RbacFinding> = cx
            .analysis
            .findings
            .iter()
            .filter(|f| {
                f.severity >= Severity::High
                    && f.subject.kind == SubjectKind::ServiceAccount
                    && f.subject.namespace.as_deref() == Some(ns.as_str())
                    && f.subject.name == sa
            })
            .collect();
        if risks.is_empty() {
            continue;
        }
        let severity = risks.iter().map(|f| f.severity).max();
        let what: Vec<String> = risks.iter().map(|f| format!("{} {} ({})", f.id, f.title, f.scope)).collect();
        out.push(Hit {
            object: d,
            line: sa_node.map(|n| n.line).unwrap_or(pod.spec.line),
            message: format!("runs as ServiceAccount {ns}/{sa}, which has: {}", what.join("; ")),
            severity,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::ids;

    #[test]
    fn fires_for_a_workload_whose_service_account_reads_secrets() {
        let base = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: x}\nspec: {serviceAccountName: SA, containers: [{name: a, image: a}]}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: r, namespace: x}\nrules: [{apiGroups: [\"\"], resources: [secrets], verbs: [list]}]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: b, namespace: x}\nroleRef: {kind: Role, name: r}\nsubjects: [{kind: ServiceAccount, name: app, namespace: x}]\n";
        assert_eq!(ids(&base.replace("SA", "app"), None), ["PAL-CLU-002"]);
        assert!(ids(&base.replace("SA", "other"), None).is_empty());
    }
}
