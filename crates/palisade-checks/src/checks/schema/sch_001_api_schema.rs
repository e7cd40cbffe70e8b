//! PAL-SCH-001: Object does not match the Kubernetes API schema.

use crate::check::{Check, CheckMeta, Hit, K8sCx};
use crate::k8s::Object;
use palisade_core::findings::misconfig::Severity;

pub struct ApiSchema;

static META: CheckMeta = CheckMeta {
    id: "PAL-SCH-001",
    title: "Object does not match the Kubernetes API schema",
    severity: Severity::High,
    groups: &["kubernetes", "schema"],
    rationale: "The API server rejects an object with an unknown field (kubectl validates strictly by default), \
                a value of the wrong type, a missing required field or an invalid value: the deploy fails, or \
                with lenient validation the misspelt setting (imagePullPolicy under the wrong key) is silently \
                dropped. Catching it in the pull request is cheaper.",
    remediation: "Fix the field named in the message (the message suggests the declared field when the name is \
                  one edit away). Custom resources are validated against their CustomResourceDefinition when \
                  it is in the scanned set or given with --crd; without one they are skipped.",
    references: &["https://kubernetes.io/docs/reference/using-api/api-concepts/#field-validation"],
    peers: &["kubeconform:-strict", "kubeval:--strict"],
    ..CheckMeta::K8S
};

impl Check for ApiSchema {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        let Some(schemas) = crate::schema::for_minor(cx.version.minor) else { return };
        if let Some(violations) = crate::schema::validate(schemas, &obj.api_version, &obj.kind, &obj.root) {
            return report(violations, &format!("Kubernetes {} schema", schemas.version), out);
        }
        // A custom resource: its CRD from --crd now, or from the scan once every file is seen; without one
        // it is skipped quietly.
        let key = format!("{}/{}", obj.api_version, obj.kind);
        if let Some(s) = cx.opts.crd_schemas.0.get(&key) {
            return report(
                crate::schema::validate_custom(schemas, s, &obj.root),
                &format!("CRD schema of {key}"),
                out,
            );
        }
        if obj.api_version.contains('.') {
            let root = obj.root.clone();
            cx.relate(move |index, out| {
                if let Some(s) = index.crd(&key) {
                    report(
                        crate::schema::validate_custom(schemas, s, &root),
                        &format!("CRD schema of {key}"),
                        out,
                    );
                }
            });
        }
    }
}

fn report(violations: Vec<crate::schema::Violation>, source: &str, out: &mut Vec<Hit>) {
    for v in violations {
        let at = if v.path.is_empty() { String::new() } else { format!("{}: ", v.path) };
        out.push(Hit::pos(v.line, v.col, format!("{at}{} ({source})", v.message)));
    }
}

#[cfg(test)]
mod tests {
    use super::ApiSchema as C;
    use crate::testutil::{fixture_tests, hits};

    fixture_tests!(k8s, C,
        pass: "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels:\n    app.kubernetes.io/name: web\nspec:\n  replicas: 2\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n      creationTimestamp: null\n    spec:\n      containers:\n      - name: web\n        image: nginx:1.27\n        imagePullPolicy: IfNotPresent\n        ports:\n        - containerPort: 8080\n          protocol: TCP\n        resources:\n          limits: {cpu: 500m, memory: 128Mi}\n          requests: {cpu: 0.1, memory: 64Mi}\n        livenessProbe:\n          httpGet: {path: /, port: http}\n",
        fail: "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: nginx\n  imagePullPolicy: Always\n",
    );

    /// (line, column, message fragment) of every hit.
    fn found(yaml: &str) -> Vec<(u32, u32, String)> {
        let mut f: Vec<_> = hits(&C, yaml).into_iter().map(|h| (h.line, h.col, h.message)).collect();
        f.sort();
        f
    }

    #[test]
    fn unknown_field_with_line_column_and_suggestion() {
        let f = found(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: nginx\n  imagePullPolicy: Always\n",
        );
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!((f[0].0, f[0].1), (9, 3));
        assert!(f[0].2.starts_with("spec.imagePullPolicy: unknown field `imagePullPolicy`"), "{}", f[0].2);
        let f = found(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: nginx\n    imagepullpolicy: Always\n",
        );
        assert!(f[0].2.contains("did you mean `imagePullPolicy`"), "{}", f[0].2);
        assert_eq!((f[0].0, f[0].1), (9, 5));
    }

    #[test]
    fn wrong_type_missing_required_and_values() {
        let f = found(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  labels:\n    version: 1\nspec:\n  containers:\n  - image: nginx\n    ports:\n    - containerPort: \"80\"\n    - containerPort: 70000\n    imagePullPolicy: Sometimes\n    resources:\n      limits: {memory: 12MB}\n",
        );
        let msgs: Vec<String> = f.iter().map(|(l, c, m)| format!("{l}:{c} {m}")).collect();
        let want = [
            "6:14 metadata.labels.version: expected a string, got integer",
            "9:5 spec.containers[0]: missing required field `name`",
            "11:22 spec.containers[0].ports[0].containerPort: expected an integer, got string",
            "12:22 spec.containers[0].ports[1].containerPort: port 70000 is outside 1-65535",
            "13:22 spec.containers[0].imagePullPolicy: `Sometimes` is not one of Always, Never, IfNotPresent",
            "15:24 spec.containers[0].resources.limits.memory: `12MB` is not a quantity",
        ];
        assert_eq!(msgs.len(), want.len(), "{msgs:#?}");
        for (m, w) in msgs.iter().zip(want) {
            assert!(m.starts_with(w), "{m}\n  wanted {w}");
        }
    }

    const CRD: &str = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.example.com\nspec:\n  group: example.com\n  names: {kind: Widget, plural: widgets}\n  scope: Namespaced\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema:\n        type: object\n        properties:\n          spec:\n            type: object\n            required: [size]\n            properties:\n              size: {type: integer, format: int32}\n              mode: {type: string, enum: [fast, slow]}\n              extra: {type: object, x-kubernetes-preserve-unknown-fields: true}\n";

    #[test]
    fn custom_resources_against_a_crd_in_the_scan() {
        let cr = "---\napiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n  labels: {ok: \"yes\"}\nspec:\n  sise: 3\n  mode: medium\n  extra: {anything: [1, 2]}\n";
        let f = found(&format!("{CRD}{cr}"));
        let msgs: Vec<String> = f.iter().map(|(l, c, m)| format!("{l}:{c} {m}")).collect();
        assert_eq!(msgs.len(), 3, "{msgs:#?}");
        let want = [
            "31:3 spec.sise: unknown field `sise` (did you mean `size`?) (CRD schema of example.com/v1/Widget)",
            "31:3 spec: missing required field `size` in `spec`",
            "32:9 spec.mode: `medium` is not one of the allowed values",
        ];
        for (m, w) in msgs.iter().zip(want) {
            assert!(m.starts_with(w), "{m}\n  wanted {w}");
        }
        // Without the CRD the custom resource is skipped quietly.
        assert!(found(cr).is_empty());
        let valid = "---\napiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\nspec:\n  size: 3\n  mode: fast\n";
        assert!(found(&format!("{CRD}{valid}")).is_empty());
    }

    #[test]
    fn label_syntax_and_unknown_kinds() {
        let f = found(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  labels:\n    Bad_Prefix.io/x: ok\n    app: \"not ok\"\n",
        );
        assert_eq!(f.len(), 2, "{f:?}");
        assert_eq!((f[0].0, f[0].1), (6, 5));
        assert!(f[1].2.contains("label value `not ok` is invalid"), "{}", f[1].2);
        assert!(
            found("apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\nspec:\n  anything: 1\n")
                .is_empty()
        );
    }
}
