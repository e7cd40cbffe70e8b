//! A stand-in Kubernetes API server for the live `scan cluster` tests (no real API server can run on the
//! project's machines): real HTTPS (rustls; a CA, serving and client certificate made with rcgen), client
//! certificate or bearer-token authentication, and the paths kube-rs calls:
//! discovery (`/api`, `/apis`, `/api/v1`, `/apis/GROUP/VERSION`) and lists, cluster-wide or per namespace,
//! paginated with `limit`/`continue` as the API server does. The objects are recorded list bodies (the
//! items of dump fixtures). A kind can answer 403 or answer too late. Stopped when dropped.

use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How a kind answers its lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    Normal,
    /// 403 Forbidden, as RBAC answers a user who may not list it.
    Forbidden,
    /// Answers after this long.
    Slow(Duration),
}

/// One kind the server serves.
#[derive(Debug, Clone)]
pub struct Kind {
    /// `""` for the core group.
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    pub plural: &'static str,
    pub namespaced: bool,
    pub behaviour: Behaviour,
}

pub struct FakeApi {
    pub port: u16,
    pub ca: PathBuf,
    /// A client certificate (and key) the server accepts instead of the token.
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
    /// Every request path (with its query), in order.
    pub requests: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
}

impl Drop for FakeApi {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

struct State {
    kinds: Vec<Kind>,
    /// kind → items, as listed.
    items: BTreeMap<String, Vec<Value>>,
    token: String,
    requests: Arc<Mutex<Vec<String>>>,
}

impl FakeApi {
    /// Serve `kinds` with `objects` (items of any kinds; those of kinds not served are not reachable),
    /// accepting `Authorization: Bearer TOKEN`; certificates are written to `dir`.
    pub fn start(dir: &Path, token: &str, kinds: Vec<Kind>, objects: &[Value]) -> FakeApi {
        let pki = Pki::make(dir);
        let config = pki.server_config.clone();
        let mut items: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for o in objects {
            let kind = o["kind"].as_str().unwrap_or_default().to_string();
            // List items carry no apiVersion/kind, as the API server sends them.
            let mut item = o.clone();
            if let Some(m) = item.as_object_mut() {
                m.remove("apiVersion");
                m.remove("kind");
            }
            items.entry(kind).or_default().push(item);
        }
        let requests = Arc::new(Mutex::new(Vec::new()));
        let state = Arc::new(State { kinds, items, token: token.to_string(), requests: requests.clone() });
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        l.set_nonblocking(true).expect("nonblocking");
        let port = l.local_addr().expect("addr").port();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        std::thread::spawn(move || {
            while !stopping.load(Ordering::SeqCst) {
                match l.accept() {
                    Ok((s, _)) => {
                        let _ = s.set_nonblocking(false);
                        let (state, config) = (state.clone(), config.clone());
                        std::thread::spawn(move || serve_connection(s, config, &state));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        FakeApi { port, ca: pki.ca, client_cert: pki.client_cert, client_key: pki.client_key, requests, stop }
    }

    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    pub fn requested(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

fn serve_connection(s: TcpStream, config: Arc<rustls::ServerConfig>, state: &State) {
    let Ok(conn) = rustls::ServerConnection::new(config) else { return };
    let mut reader = BufReader::new(rustls::StreamOwned::new(conn, s));
    loop {
        let Some((path, headers)) = read_head(&mut reader) else { return };
        state.requests.lock().unwrap().push(path.clone());
        // rustls has verified a client certificate against the CA when there is one.
        let authorized = reader.get_ref().conn.peer_certificates().is_some()
            || headers.iter().any(|(k, v)| {
                k == "authorization" && v.strip_prefix("Bearer ") == Some(state.token.as_str())
            });
        let (code, body, delay) = if authorized { route(state, &path) } else { status(401, "Unauthorized") };
        if let Some(d) = delay {
            std::thread::sleep(d);
        }
        let reason = match code {
            200 => "OK",
            401 => "Unauthorized",
            403 => "Forbidden",
            _ => "Not Found",
        };
        let body = body.to_string();
        let w = reader.get_mut();
        let sent = write!(
            w,
            "HTTP/1.1 {code} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .and_then(|_| w.flush());
        if sent.is_err() {
            return;
        }
    }
}

/// The request path and lower-cased headers; `None` at the end of the connection.
fn read_head(r: &mut impl BufRead) -> Option<(String, Vec<(String, String)>)> {
    let mut first = String::new();
    if r.read_line(&mut first).ok()? == 0 {
        return None;
    }
    let path = first.split(' ').nth(1)?.to_string();
    let mut headers = Vec::new();
    let mut len = 0usize;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            let k = k.trim().to_ascii_lowercase();
            if k == "content-length" {
                len = v.trim().parse().unwrap_or(0);
            }
            headers.push((k, v.trim().to_string()));
        }
    }
    let mut body = vec![0; len];
    r.read_exact(&mut body).ok()?;
    Some((path, headers))
}

fn status(code: u16, reason: &str) -> (u16, Value, Option<Duration>) {
    (
        code,
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
               "message": format!("{reason} (stand-in API server)"), "reason": reason, "code": code}),
        None,
    )
}

fn route(state: &State, full: &str) -> (u16, Value, Option<Duration>) {
    let (path, query) = full.split_once('?').unwrap_or((full, ""));
    let q: BTreeMap<&str, &str> = query.split('&').filter_map(|p| p.split_once('=')).collect();
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let gv = |k: &Kind| {
        if k.group.is_empty() { k.version.to_string() } else { format!("{}/{}", k.group, k.version) }
    };
    let resources = |group: &str, version: &str| {
        let list: Vec<Value> = state
            .kinds
            .iter()
            .filter(|k| k.group == group && k.version == version)
            .map(|k| {
                json!({"name": k.plural, "singularName": k.kind.to_lowercase(), "namespaced": k.namespaced,
                       "kind": k.kind, "verbs": ["get", "list", "watch"]})
            })
            .collect();
        let group_version = if group.is_empty() { version.to_string() } else { format!("{group}/{version}") };
        json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": list})
    };
    match parts.as_slice() {
        ["api"] => {
            (200, json!({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []}), None)
        }
        ["apis"] => {
            let mut groups: BTreeMap<&str, Vec<String>> = BTreeMap::new();
            for k in state.kinds.iter().filter(|k| !k.group.is_empty()) {
                let v = groups.entry(k.group).or_default();
                if !v.contains(&gv(k)) {
                    v.push(gv(k));
                }
            }
            let groups: Vec<Value> = groups
                .into_iter()
                .map(|(name, versions)| {
                    let vs: Vec<Value> = versions
                        .iter()
                        .map(|g| json!({"groupVersion": g, "version": g.rsplit('/').next().unwrap()}))
                        .collect();
                    json!({"name": name, "versions": vs.clone(), "preferredVersion": vs[0]})
                })
                .collect();
            (200, json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}), None)
        }
        ["api", v] => (200, resources("", v), None),
        ["apis", g, v] => (200, resources(g, v), None),
        ["api", v, rest @ ..] => list(state, "", v, rest, &q),
        ["apis", g, v, rest @ ..] => list(state, g, v, rest, &q),
        _ => status(404, "NotFound"),
    }
}

/// `PLURAL` or `namespaces/NS/PLURAL`, one page of it.
fn list(
    state: &State,
    group: &str,
    version: &str,
    rest: &[&str],
    q: &BTreeMap<&str, &str>,
) -> (u16, Value, Option<Duration>) {
    let (ns, plural) = match rest {
        [plural] => (None, *plural),
        ["namespaces", ns, plural] => (Some(*ns), *plural),
        _ => return status(404, "NotFound"),
    };
    let Some(k) = state.kinds.iter().find(|k| k.group == group && k.version == version && k.plural == plural)
    else {
        return status(404, "NotFound");
    };
    let delay = match k.behaviour {
        Behaviour::Forbidden => return status(403, "Forbidden"),
        Behaviour::Slow(d) => Some(d),
        Behaviour::Normal => None,
    };
    let all: Vec<&Value> = state
        .items
        .get(k.kind)
        .into_iter()
        .flatten()
        .filter(|o| ns.is_none_or(|ns| o["metadata"]["namespace"].as_str() == Some(ns)))
        .collect();
    let start: usize = q.get("continue").and_then(|c| c.parse().ok()).unwrap_or(0);
    let limit: usize = q.get("limit").and_then(|l| l.parse().ok()).unwrap_or(usize::MAX);
    let end = start.saturating_add(limit).min(all.len());
    let page: Vec<&Value> = all.get(start..end).unwrap_or(&[]).to_vec();
    let mut meta = json!({"resourceVersion": "4711"});
    if end < all.len() {
        meta["continue"] = json!(end.to_string());
    }
    (
        200,
        json!({"kind": format!("{}List", k.kind), "apiVersion": if group.is_empty() { version.to_string() } else { format!("{group}/{version}") }, "metadata": meta, "items": page}),
        delay,
    )
}

/// The kinds of the stand-in cluster: the dump fixtures' kinds and the others `scan cluster` reads, with
/// NetworkPolicies forbidden and PodDisruptionBudgets slow; autoscaling is not served at all.
pub fn standard_kinds(slow: Duration) -> Vec<Kind> {
    use Behaviour::*;
    let k = |group, version, kind, plural, namespaced, behaviour| Kind {
        group,
        version,
        kind,
        plural,
        namespaced,
        behaviour,
    };
    vec![
        k("", "v1", "Namespace", "namespaces", false, Normal),
        k("", "v1", "Node", "nodes", false, Normal),
        k("", "v1", "Pod", "pods", true, Normal),
        k("", "v1", "Service", "services", true, Normal),
        k("", "v1", "ServiceAccount", "serviceaccounts", true, Normal),
        k("apps", "v1", "Deployment", "deployments", true, Normal),
        k("apps", "v1", "DaemonSet", "daemonsets", true, Normal),
        k("apps", "v1", "StatefulSet", "statefulsets", true, Normal),
        k("apps", "v1", "ReplicaSet", "replicasets", true, Normal),
        k("batch", "v1", "Job", "jobs", true, Normal),
        k("batch", "v1", "CronJob", "cronjobs", true, Normal),
        k("networking.k8s.io", "v1", "Ingress", "ingresses", true, Normal),
        k("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", true, Forbidden),
        k("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", true, Slow(slow)),
        k("rbac.authorization.k8s.io", "v1", "Role", "roles", true, Normal),
        k("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", false, Normal),
        k("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", true, Normal),
        k("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", false, Normal),
        k(
            "admissionregistration.k8s.io",
            "v1",
            "ValidatingWebhookConfiguration",
            "validatingwebhookconfigurations",
            false,
            Normal,
        ),
        k(
            "admissionregistration.k8s.io",
            "v1",
            "MutatingWebhookConfiguration",
            "mutatingwebhookconfigurations",
            false,
            Normal,
        ),
    ]
}

/// The objects of a YAML or JSON `List` (or one object) file.
pub fn list_items(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).expect("read fixture");
    let v: Value = serde_saphyr::from_str(&text).expect("fixture parses");
    match v.get("items") {
        Some(Value::Array(items)) => items.clone(),
        _ => vec![v],
    }
}

/// The certificates: a CA, the server's (for 127.0.0.1) and a client's, in PEM files under `dir`.
struct Pki {
    ca: PathBuf,
    client_cert: PathBuf,
    client_key: PathBuf,
    server_config: Arc<rustls::ServerConfig>,
}

impl Pki {
    fn make(dir: &Path) -> Pki {
        use rcgen::{
            BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
            KeyPair, KeyUsagePurpose,
        };
        use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
        std::fs::create_dir_all(dir).expect("pki dir");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.distinguished_name.push(DnType::CommonName, "stand-in API CA");
        ca_params.key_usages =
            vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
        let mut sp = CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap();
        sp.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let server_key = KeyPair::generate().unwrap();
        let server = sp.signed_by(&server_key, &ca).unwrap();
        let mut cp = CertificateParams::new(Vec::<String>::new()).unwrap();
        cp.distinguished_name.push(DnType::CommonName, "palisade-reader");
        cp.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let client_key = KeyPair::generate().unwrap();
        let client = cp.signed_by(&client_key, &ca).unwrap();
        let pki = Pki {
            ca: dir.join("ca.crt"),
            client_cert: dir.join("client.crt"),
            client_key: dir.join("client.key"),
            server_config: Arc::new({
                let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
                let mut roots = rustls::RootCertStore::empty();
                roots.add(ca.der().clone()).unwrap();
                let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                    Arc::new(roots),
                    provider.clone(),
                )
                .allow_unauthenticated()
                .build()
                .unwrap();
                let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der()));
                let mut config = rustls::ServerConfig::builder_with_provider(provider)
                    .with_safe_default_protocol_versions()
                    .unwrap()
                    .with_client_cert_verifier(verifier)
                    .with_single_cert(vec![server.der().clone(), ca.der().clone()], key)
                    .unwrap();
                config.alpn_protocols = vec![b"http/1.1".to_vec()];
                config
            }),
        };
        std::fs::write(&pki.ca, ca.pem()).unwrap();
        std::fs::write(&pki.client_cert, client.pem()).unwrap();
        std::fs::write(&pki.client_key, client_key.serialize_pem()).unwrap();
        pki
    }
}
