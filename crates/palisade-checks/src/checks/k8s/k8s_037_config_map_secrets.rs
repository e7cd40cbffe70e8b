//! PAL-K8S-037: Credentials stored in a ConfigMap.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, Hit, K8sCx};
#[allow(unused_imports)]
use crate::k8s::Object;
#[allow(unused_imports)]
use crate::yaml::Node;
use palisade_core::findings::misconfig::Severity;

pub struct ConfigMapSecrets;

static META: CheckMeta = CheckMeta {
    id: "PAL-K8S-037",
    title: "Credentials stored in a ConfigMap",
    severity: Severity::High,
    groups: &["kubernetes", "secrets"],
    rationale: "ConfigMaps are not treated as secret: they are readable by more subjects and are not encrypted at rest.",
    remediation: "Move credentials into a Secret (or an external secret store).",
    references: &["CIS Kubernetes 5.4.1"],
    peers: &["polaris:sensitiveConfigmapContent"],
    ..CheckMeta::K8S
};

impl Check for ConfigMapSecrets {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        if obj.kind != "ConfigMap" {
            return;
        }
        for (k, v) in obj.root.get("data").map(Node::as_map).unwrap_or(&[]) {
            let val = v.scalar_text().unwrap_or_default();
            let key_hit =
                secret_like(&k.name) && !val.trim().is_empty() && !val.contains('\n') && val.len() < 200;
            let val_hit = secret_value(&val);
            if key_hit || val_hit {
                out.push(Hit::pos(
                    k.line,
                    k.col,
                    format!("ConfigMap key {:?} looks like a credential; move it to a Secret", k.name),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ConfigMapSecrets as C;

    const FAIL: &str = r#"apiVersion: v1
kind: ConfigMap
metadata: {name: c, namespace: apps}
data:
  db_password: hunter2
"#;
    const PASS: &str = r#"apiVersion: v1
kind: ConfigMap
metadata: {name: c, namespace: apps}
data:
  log_level: debug
"#;

    crate::testutil::fixture_tests!(k8s, C, pass: PASS, fail: FAIL);
}
