//! Kubernetes API schemas shipped with Palisade, and validation of an object against them.
//!
//! The schemas are generated from the `k8s-openapi` crate (its schemars JSON Schemas, one Kubernetes minor
//! version per build) by `tools/k8s-schemas/gen.py` and stored compactly, gzipped, in
//! `crates/palisade-checks/schemas/k8s-1.NN.json.gz`; they are embedded in the binary and decompressed on
//! first use, so nothing is downloaded at scan time. Compact form: `kinds` maps `apiVersion/Kind` to a
//! definition name; a definition node has `t` (type: `object`, `array`, `string`, `integer`, `number`,
//! `boolean`, `ios` int-or-string, `any`, `none`), `$` (a reference to another definition), `p`
//! (properties), `r` (required), `i` (items), `a` (additionalProperties), `f` (format), `u`
//! (x-kubernetes-preserve-unknown-fields), `e` (enum).
//!
//! [`validate`] walks a parsed document (with its positions) against a kind's schema and reports unknown
//! fields (objects with declared properties are closed, as the API server's strict field validation and
//! kubeconform's `-strict` treat them), wrong types, missing required fields, integers out of their format's
//! range, and a few value rules the OpenAPI documents do not carry (see [`value_rule`]).

use crate::yaml::{Node, Value};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::sync::OnceLock;

/// A compact schema node (see the module docs).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct S {
    #[serde(rename = "$")]
    pub reference: Option<String>,
    pub t: Option<String>,
    pub f: Option<String>,
    pub p: Option<BTreeMap<String, S>>,
    #[serde(rename = "r")]
    pub required: Option<Vec<String>>,
    pub i: Option<Box<S>>,
    pub a: Option<Box<S>>,
    #[serde(default)]
    pub u: bool,
    pub e: Option<Vec<serde_json::Value>>,
}

/// The schemas of one Kubernetes version.
#[derive(Debug, Deserialize)]
pub struct Schemas {
    pub version: String,
    pub source: String,
    /// `apiVersion/Kind` (`apps/v1/Deployment`, `v1/Pod`) -> definition name.
    pub kinds: HashMap<String, String>,
    pub defs: HashMap<String, S>,
}

/// Shipped versions: (minor, gzipped compact JSON).
const SHIPPED: &[(u32, &[u8])] = &[
    (33, include_bytes!("../schemas/k8s-1.33.json.gz")),
    (34, include_bytes!("../schemas/k8s-1.34.json.gz")),
    (35, include_bytes!("../schemas/k8s-1.35.json.gz")),
    (36, include_bytes!("../schemas/k8s-1.36.json.gz")),
    (37, include_bytes!("../schemas/k8s-1.37.json.gz")),
];

/// The Kubernetes minor versions whose schemas ship with Palisade.
pub fn shipped_minors() -> impl Iterator<Item = u32> {
    SHIPPED.iter().map(|(m, _)| *m)
}

/// The schemas used for Kubernetes `1.minor`: that version's, else the nearest shipped one (older targets
/// are validated against the oldest shipped schemas, newer against the newest). `None` only if the embedded
/// data cannot be read (a build defect, reported once by the caller).
pub fn for_minor(minor: u32) -> Option<&'static Schemas> {
    static LOADED: [OnceLock<Option<Schemas>>; SHIPPED.len()] = [const { OnceLock::new() }; SHIPPED.len()];
    let idx = SHIPPED.iter().rposition(|(m, _)| *m <= minor).unwrap_or(0);
    let (_, data) = SHIPPED.get(idx)?;
    LOADED
        .get(idx)?
        .get_or_init(|| {
            let mut text = Vec::new();
            flate2::read::GzDecoder::new(*data).read_to_end(&mut text).ok()?;
            serde_json::from_slice(&text).ok()
        })
        .as_ref()
}

impl S {
    /// Convert an OpenAPI v3 schema (a CRD version's `schema.openAPIV3Schema`) to the compact form.
    pub fn from_openapi(v: &serde_json::Value) -> S {
        let Some(m) = v.as_object() else { return S { t: Some("any".into()), ..S::default() } };
        if m.get("x-kubernetes-int-or-string").and_then(serde_json::Value::as_bool) == Some(true) {
            return S { t: Some("ios".into()), ..S::default() };
        }
        if ["oneOf", "anyOf", "allOf", "not"].iter().any(|k| m.contains_key(*k))
            && !m.contains_key("properties")
        {
            return S { t: Some("any".into()), ..S::default() };
        }
        let text = |k: &str| m.get(k).and_then(serde_json::Value::as_str).map(str::to_string);
        S {
            reference: None,
            t: Some(text("type").unwrap_or_else(|| "any".into())),
            f: text("format"),
            p: m.get("properties")
                .and_then(serde_json::Value::as_object)
                .map(|p| p.iter().map(|(k, v)| (k.clone(), S::from_openapi(v))).collect()),
            required: m
                .get("required")
                .and_then(serde_json::Value::as_array)
                .map(|r| r.iter().filter_map(|x| x.as_str().map(str::to_string)).collect()),
            i: m.get("items").map(|i| Box::new(S::from_openapi(i))),
            a: m.get("additionalProperties").map(|a| match a {
                serde_json::Value::Bool(false) => Box::new(S { t: Some("none".into()), ..S::default() }),
                serde_json::Value::Bool(true) => Box::new(S { t: Some("any".into()), ..S::default() }),
                other => Box::new(S::from_openapi(other)),
            }),
            u: m.get("x-kubernetes-preserve-unknown-fields").and_then(serde_json::Value::as_bool)
                == Some(true),
            e: m.get("enum").and_then(serde_json::Value::as_array).cloned(),
        }
    }
}

/// Custom resource schemas: `apiVersion/Kind` (`example.com/v1/Widget`) -> the served version's
/// `openAPIV3Schema`, from the CustomResourceDefinitions given with `--crd` or met in the scan.
#[derive(Debug, Clone, Default)]
pub struct CrdSchemas(pub std::sync::Arc<HashMap<String, S>>);

impl PartialEq for CrdSchemas {
    fn eq(&self, other: &Self) -> bool {
        std::sync::Arc::ptr_eq(&self.0, &other.0)
    }
}
impl Eq for CrdSchemas {}

/// The schemas a CustomResourceDefinition object declares: (`group/version/Kind`, schema) per version.
pub fn crd_schemas(root: &Node) -> Vec<(String, S)> {
    let spec = root.get("spec");
    let text = |n: Option<&Node>| n.and_then(Node::as_str).map(str::to_string);
    let Some(group) = text(spec.and_then(|s| s.get("group"))) else { return Vec::new() };
    let Some(kind) = text(spec.and_then(|s| s.path(&["names", "kind"]))) else { return Vec::new() };
    let mut out = Vec::new();
    for v in spec.and_then(|s| s.get("versions")).map(Node::as_seq).unwrap_or(&[]) {
        let (Some(name), Some(schema)) = (text(v.get("name")), v.path(&["schema", "openAPIV3Schema"])) else {
            continue;
        };
        out.push((format!("{group}/{name}/{kind}"), S::from_openapi(&schema.to_json())));
    }
    out
}

/// Validate a custom resource against its CRD's schema. `apiVersion`, `kind` and `metadata` are the API
/// server's own (a CRD schema need not declare them); `metadata` is checked against `ObjectMeta`.
pub fn validate_custom(schemas: &Schemas, s: &S, root: &Node) -> Vec<Violation> {
    let mut v = Walker { schemas, out: Vec::new() };
    let mut open = s.clone();
    let props = open.p.get_or_insert_with(BTreeMap::new);
    for k in ["apiVersion", "kind"] {
        props.entry(k.to_string()).or_insert(S { t: Some("string".into()), ..S::default() });
    }
    props.insert(
        "metadata".into(),
        S { reference: Some("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta".into()), ..S::default() },
    );
    v.node(&open, None, root, &mut String::new());
    v.out
}

/// One schema violation at a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub line: u32,
    pub col: u32,
    /// Dotted path of the offending field (`spec.template.spec.containers[0].imagePullPolicy`).
    pub path: String,
    pub message: String,
}

/// Validate the document `root` of kind `api_version/kind`. `None` when the kind has no shipped schema
/// (custom resources, kinds of other versions): it is skipped quietly.
pub fn validate(schemas: &Schemas, api_version: &str, kind: &str, root: &Node) -> Option<Vec<Violation>> {
    let def = schemas.kinds.get(&format!("{api_version}/{kind}"))?;
    let mut v = Walker { schemas, out: Vec::new() };
    v.def(def, root, &mut String::new());
    Some(v.out)
}

struct Walker<'a> {
    schemas: &'a Schemas,
    out: Vec<Violation>,
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Int(_) => "integer",
        Value::Float(_) => "number",
        Value::Str(_) => "string",
        Value::Seq(_) => "array",
        Value::Map(_) => "object",
    }
}

const QUANTITY: &str = "io.k8s.apimachinery.pkg.api.resource.Quantity";
const ANY_JSON: &str = "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON";

impl Walker<'_> {
    fn push(&mut self, node: &Node, path: &str, message: String) {
        self.out.push(Violation { line: node.line, col: node.col, path: path.to_string(), message });
    }

    fn def(&mut self, name: &str, node: &Node, path: &mut String) {
        // Any JSON value (a CRD schema's `enum`, `default`, `example`); k8s-openapi's schema says object.
        if name == ANY_JSON {
            return;
        }
        let Some(s) = self.schemas.defs.get(name) else { return };
        if name == QUANTITY {
            match &node.value {
                Value::Int(_) | Value::Float(_) | Value::Null => {}
                Value::Str(q) if is_quantity(q) => {}
                Value::Str(q) => {
                    self.push(node, path, format!("`{q}` is not a quantity (like 500m, 1.5, 128Mi, 1G)"))
                }
                other => self.push(node, path, format!("expected a quantity, got {}", kind_of(other))),
            }
            return;
        }
        self.node(s, Some(name), node, path);
    }

    fn node(&mut self, s: &S, def: Option<&str>, node: &Node, path: &mut String) {
        if let Some(r) = &s.reference {
            return self.def(r, node, path);
        }
        // `null` is "not set" for the API server.
        if matches!(node.value, Value::Null) {
            return;
        }
        let t = s.t.as_deref().unwrap_or("any");
        match (t, &node.value) {
            ("any", _) => {}
            ("object", Value::Map(entries)) => self.object(s, def, node, entries, path),
            ("array", Value::Seq(items)) => {
                if let Some(item) = &s.i {
                    for (n, it) in items.iter().enumerate() {
                        let len = path.len();
                        path.push_str(&format!("[{n}]"));
                        self.node(item, None, it, path);
                        path.truncate(len);
                    }
                }
            }
            ("string", Value::Str(_))
            | ("boolean", Value::Bool(_))
            | ("number", Value::Int(_) | Value::Float(_)) => {}
            ("integer", Value::Int(i)) => {
                let (lo, hi) = match s.f.as_deref() {
                    Some("int32") => (i64::from(i32::MIN), i64::from(i32::MAX)),
                    _ => (i64::MIN, i64::MAX),
                };
                if *i < lo || *i > hi {
                    self.push(
                        node,
                        path,
                        format!("{i} is out of range for {}", s.f.as_deref().unwrap_or("an integer")),
                    );
                }
            }
            ("ios", Value::Int(_) | Value::Str(_)) => {}
            ("ios", other) => {
                self.push(node, path, format!("expected an integer or a string, got {}", kind_of(other)))
            }
            (want, other) => {
                self.push(node, path, format!("expected {}, got {}", article(want), kind_of(other)))
            }
        }
        if let Some(allowed) = &s.e
            && let Some(text) = node.as_str()
            && !allowed.iter().any(|a| a.as_str() == Some(text))
        {
            self.push(node, path, format!("`{text}` is not one of the allowed values"));
        }
    }

    fn object(
        &mut self,
        s: &S,
        def: Option<&str>,
        node: &Node,
        entries: &[(crate::yaml::Key, Node)],
        path: &mut String,
    ) {
        let props = s.p.as_ref();
        for (k, v) in entries {
            let len = path.len();
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(&k.name);
            if let Some(p) = props.and_then(|p| p.get(&k.name)) {
                if let Some(msg) = def.and_then(|d| value_rule(d, &k.name, v)) {
                    self.push(v, path, msg);
                }
                self.node(p, None, v, path);
            } else if let Some(a) = &s.a {
                if a.t.as_deref() == Some("none") {
                    self.out.push(Violation {
                        line: k.line,
                        col: k.col,
                        path: path.clone(),
                        message: format!("unknown field `{}`", k.name),
                    });
                } else {
                    self.node(a, None, v, path);
                }
            } else if props.is_some() && !s.u {
                let known = suggestion(&k.name, props.map(|p| p.keys()).into_iter().flatten());
                self.out.push(Violation {
                    line: k.line,
                    col: k.col,
                    path: path.clone(),
                    message: format!("unknown field `{}`{known}", k.name),
                });
            }
            path.truncate(len);
        }
        if let Some(req) = &s.required {
            for r in req {
                // k8s-openapi makes `metadata` and most `spec`s of resources required (its types are not
                // `Option`); the upstream OpenAPI documents, and kubeconform, do not.
                if path.is_empty() && matches!(r.as_str(), "metadata" | "spec") {
                    continue;
                }
                if !entries.iter().any(|(k, _)| &k.name == r) {
                    let at = if path.is_empty() { "the object".to_string() } else { format!("`{path}`") };
                    self.push(node, path, format!("missing required field `{r}` in {at}"));
                }
            }
        }
        if def == Some("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta") {
            for field in ["labels"] {
                if let Some(Value::Map(labels)) = node.get(field).map(|n| &n.value) {
                    for (k, v) in labels {
                        if let Some(why) = label_key_error(&k.name) {
                            self.out.push(Violation {
                                line: k.line,
                                col: k.col,
                                path: format!("{path}.{field}.{}", k.name),
                                message: format!("label key `{}` is invalid: {why}", k.name),
                            });
                        }
                        if let Some(text) = v.as_str()
                            && let Some(why) = label_value_error(text)
                        {
                            self.push(
                                v,
                                &format!("{path}.{field}.{}", k.name),
                                format!("label value `{text}` is invalid: {why}"),
                            );
                        }
                    }
                }
            }
        }
    }
}

fn article(t: &str) -> String {
    match t {
        "object" | "array" | "integer" => format!("an {t}"),
        _ => format!("a {t}"),
    }
}

/// ` (did you mean `x`?)` when a declared field is one edit or a case change away.
fn suggestion<'a>(name: &str, known: impl Iterator<Item = &'a String>) -> String {
    let lower = name.to_ascii_lowercase();
    known
        .filter(|k| k.to_ascii_lowercase() == lower || edit_distance(k, name) <= 1)
        .map(|k| format!(" (did you mean `{k}`?)"))
        .next()
        .unwrap_or_default()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            cur.push((prev[j] + usize::from(ca != *cb)).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Value rules the API server enforces that the OpenAPI documents do not carry: enums of the most used
/// fields and port ranges. `def` is the definition holding `field`.
fn value_rule(def: &str, field: &str, v: &Node) -> Option<String> {
    let short = def.rsplit('.').next().unwrap_or(def);
    let one_of = |allowed: &[&str]| {
        let text = v.as_str()?;
        // An empty string is "not set": the API server applies the default.
        (!text.is_empty() && !allowed.contains(&text))
            .then(|| format!("`{text}` is not one of {}", allowed.join(", ")))
    };
    match (short, field) {
        ("Container" | "EphemeralContainer", "imagePullPolicy") => {
            one_of(&["Always", "Never", "IfNotPresent"])
        }
        ("PodSpec", "restartPolicy") => one_of(&["Always", "OnFailure", "Never"]),
        ("PodSpec", "dnsPolicy") => one_of(&["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"]),
        ("ContainerPort" | "ServicePort" | "EndpointPort", "protocol") => one_of(&["TCP", "UDP", "SCTP"]),
        ("ServiceSpec", "type") => one_of(&["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"]),
        ("ContainerPort", "containerPort") | ("ServicePort", "port") => {
            let p = v.as_i64()?;
            (!(1..=65535).contains(&p)).then(|| format!("port {p} is outside 1-65535"))
        }
        ("ContainerPort", "hostPort") | ("ServicePort", "nodePort") => {
            let p = v.as_i64()?;
            (!(0..=65535).contains(&p)).then(|| format!("port {p} is outside 0-65535"))
        }
        _ => None,
    }
}

/// `<signedNumber><suffix>` with a binary SI (`Ki`..`Ei`), decimal SI (`n u m k M G T P E`) or decimal
/// exponent (`e3`) suffix.
fn is_quantity(q: &str) -> bool {
    let s = q.strip_prefix(['+', '-']).unwrap_or(q);
    let digits = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(s.len());
    let (num, suffix) = s.split_at(digits);
    if num.is_empty() || num == "." || num.matches('.').count() > 1 {
        return false;
    }
    matches!(
        suffix,
        "" | "Ki" | "Mi" | "Gi" | "Ti" | "Pi" | "Ei" | "n" | "u" | "m" | "k" | "M" | "G" | "T" | "P" | "E"
    ) || suffix
        .strip_prefix(['e', 'E'])
        .map(|e| e.strip_prefix(['+', '-']).unwrap_or(e))
        .is_some_and(|e| !e.is_empty() && e.chars().all(|c| c.is_ascii_digit()))
}

fn name_part_error(n: &str) -> Option<&'static str> {
    if n.is_empty() || n.len() > 63 {
        return Some("the name part must be 1-63 characters");
    }
    let ok_inner = n.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    let ends = n.starts_with(|c: char| c.is_ascii_alphanumeric())
        && n.ends_with(|c: char| c.is_ascii_alphanumeric());
    (!(ok_inner && ends))
        .then_some("use alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric")
}

fn label_key_error(k: &str) -> Option<&'static str> {
    let (prefix, name) = match k.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, k),
    };
    if let Some(p) = prefix {
        let dns = !p.is_empty()
            && p.len() <= 253
            && p.split('.').all(|l| {
                !l.is_empty()
                    && l.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                    && !l.starts_with('-')
                    && !l.ends_with('-')
            });
        if !dns {
            return Some("the prefix must be a lowercase DNS subdomain");
        }
    }
    name_part_error(name)
}

fn label_value_error(v: &str) -> Option<&'static str> {
    if v.is_empty() { None } else { name_part_error(v) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities() {
        for ok in ["500m", "1", "1.5", "128Mi", "1G", "2e3", "+1Ki", ".5"] {
            assert!(is_quantity(ok), "{ok}");
        }
        for bad in ["", "1.2.3", "12MB", "Mi", "1 Gi", "abc"] {
            assert!(!is_quantity(bad), "{bad}");
        }
    }

    #[test]
    fn label_syntax() {
        assert_eq!(label_key_error("app.kubernetes.io/name"), None);
        assert!(label_key_error("App.IO/name").is_some());
        assert!(label_key_error("-bad").is_some());
        assert_eq!(label_value_error(""), None);
        assert!(label_value_error("has space").is_some());
    }

    #[test]
    fn every_shipped_version_loads() {
        for m in shipped_minors() {
            let s = for_minor(m).unwrap_or_else(|| panic!("1.{m} does not load"));
            assert_eq!(s.version, format!("1.{m}"));
            assert!(s.kinds.contains_key("apps/v1/Deployment") && s.kinds.contains_key("v1/Pod"));
        }
        assert_eq!(for_minor(20).map(|s| s.version.as_str()), Some("1.33"), "older targets use the oldest");
        assert_eq!(shipped_minors().count(), SHIPPED.len());
    }
}
