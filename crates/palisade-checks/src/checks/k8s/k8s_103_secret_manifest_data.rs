//! PAL-K8S-103: Secret with literal data in a manifest.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, Hit, K8sCx};
#[allow(unused_imports)]
use crate::k8s::Object;
#[allow(unused_imports)]
use crate::yaml::Node;
use palisade_core::findings::misconfig::Severity;

pub struct SecretManifestData;

static META: CheckMeta = CheckMeta {
    id: "PAL-K8S-103",
    title: "Secret with literal data in a manifest",
    severity: Severity::Medium,
    groups: &["kubernetes", "secrets"],
    rationale: "A Secret manifest with data/stringData commits the (only base64-encoded) credential to version control.",
    remediation: "Generate Secrets at deploy time (sealed-secrets, External Secrets, SOPS) instead of committing them.",
    references: &["CIS Kubernetes 5.4.2"],
    peers: &[],
    ..CheckMeta::K8S
};

impl Check for SecretManifestData {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        if obj.kind != "Secret" {
            return;
        }
        for key in ["data", "stringData"] {
            if let Some(d) = obj
                .root
                .get(key)
                .filter(|d| d.as_map().iter().any(|(_, v)| v.scalar_text().is_some_and(|s| !s.is_empty())))
            {
                out.push(Hit::at(
                    d,
                    format!("Secret {:?} carries literal {key}; do not commit secret values", obj.name),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::SecretManifestData as C;

    const FAIL: &str = r#"apiVersion: v1
kind: Secret
metadata: {name: s, namespace: apps}
data:
  password: aHVudGVyMg==
"#;
    const PASS: &str = r#"apiVersion: v1
kind: Secret
metadata: {name: s, namespace: apps}
type: Opaque
"#;

    crate::testutil::fixture_tests!(k8s, C, pass: PASS, fail: FAIL);
}
