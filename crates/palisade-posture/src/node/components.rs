//! What runs on the node, read from its files: the control plane's static Pod manifests (flags of each
//! component's command), and the kubelet (systemd unit and drop-ins with their environment files, the
//! `--config` file).

use super::tree::NodeTree;
use palisade_checks::yaml::{Node, load_all};

/// Directory of static Pod manifests (kubeadm's).
pub const MANIFESTS: &str = "/etc/kubernetes/manifests";

/// Command-line flags as given: `--name=value`, `--name value`, or `--name` alone.
#[derive(Debug, Clone, Default)]
pub struct Flags(pub Vec<(String, Option<String>)>);

impl Flags {
    /// Parse arguments; the last occurrence of a flag wins, as with Go's flag package.
    pub fn parse<S: AsRef<str>>(args: &[S]) -> Flags {
        let mut out: Vec<(String, Option<String>)> = Vec::new();
        let mut i = 0;
        while i < args.len() {
            let a = args[i].as_ref();
            if let Some(f) = a.strip_prefix("--").or_else(|| a.strip_prefix('-').filter(|s| s.len() > 1)) {
                let (name, value) = match f.split_once('=') {
                    Some((n, v)) => (n.to_string(), Some(v.to_string())),
                    None => match args.get(i + 1).map(AsRef::as_ref) {
                        Some(next) if !next.starts_with('-') => {
                            i += 1;
                            (f.to_string(), Some(next.to_string()))
                        }
                        _ => (f.to_string(), None),
                    },
                };
                out.retain(|(n, _)| *n != name);
                out.push((name, value));
            }
            i += 1;
        }
        Flags(out)
    }

    /// `Some(value)` when set (`Some("")` for a flag given without a value).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_deref().unwrap_or(""))
    }
}

/// A control plane component run as a static Pod.
#[derive(Debug, Clone)]
pub struct StaticPod {
    /// Manifest path on the node.
    pub manifest: String,
    pub flags: Flags,
    /// Container images (for versions).
    pub images: Vec<String>,
}

/// The kubelet as the node's files configure it.
#[derive(Debug, Clone, Default)]
pub struct Kubelet {
    /// The unit file and its drop-ins.
    pub service_files: Vec<String>,
    pub flags: Flags,
    /// `--config` (or kubeadm's default when present).
    pub config_path: Option<String>,
    pub config: Option<Node>,
}

impl Kubelet {
    /// A setting: the flag when given (flags win over the config file, as in the kubelet), else the config
    /// file's key, else `None`. The evidence says where it came from.
    pub fn setting(&self, flag: &str, key: &[&str]) -> (Option<String>, String) {
        if let Some(v) = self.flags.get(flag) {
            return (Some(v.to_string()), format!("flag --{flag}={v}"));
        }
        if let (Some(cfg), Some(path)) = (&self.config, &self.config_path)
            && !key.is_empty()
            && let Some(v) = cfg.path(key).and_then(Node::scalar_text)
        {
            return (Some(v.clone()), format!("{path}: {}: {v}", key.join(".")));
        }
        let where_ = match &self.config_path {
            Some(p) => format!("--{flag} not set and {} not in {p}", key.join(".")),
            None => format!("--{flag} not set"),
        };
        (None, where_)
    }
}

/// The components found on a node, and what could not be read.
#[derive(Debug, Default)]
pub struct Components {
    pub apiserver: Option<StaticPod>,
    pub controller_manager: Option<StaticPod>,
    pub scheduler: Option<StaticPod>,
    pub etcd: Option<StaticPod>,
    pub kubelet: Option<Kubelet>,
    pub errors: Vec<String>,
}

fn static_pod(tree: &NodeTree, name: &str, errors: &mut Vec<String>) -> Option<StaticPod> {
    let manifest = format!("{MANIFESTS}/{name}.yaml");
    let text = match tree.read(&manifest) {
        Ok(t) => t,
        Err(_) if !tree.exists(&manifest) => return None,
        Err(e) => {
            errors.push(e);
            return None;
        }
    };
    let mut pod = StaticPod { manifest: manifest.clone(), flags: Flags::default(), images: Vec::new() };
    for doc in load_all(&text) {
        let root = match doc {
            Ok(r) => r,
            Err(e) => {
                errors.push(format!("{manifest}:{}:{}: {}", e.line, e.col, e.message));
                continue;
            }
        };
        let containers = root.path(&["spec", "containers"]).map(Node::as_seq).unwrap_or(&[]);
        // The component's own container: the one whose command names it, else the first.
        let c = containers
            .iter()
            .find(|c| {
                c.get("command").map(Node::str_list).unwrap_or_default().iter().any(|a| a.ends_with(name))
            })
            .or_else(|| containers.first());
        for c in containers {
            if let Some(i) = c.get("image").and_then(Node::as_str) {
                pod.images.push(i.to_string());
            }
        }
        if let Some(c) = c {
            let mut args = c.get("command").map(Node::str_list).unwrap_or_default();
            args.extend(c.get("args").map(Node::str_list).unwrap_or_default());
            pod.flags = Flags::parse(&args);
        } else {
            errors.push(format!("{manifest}: no containers"));
        }
    }
    Some(pod)
}

/// Split a command line as systemd does (whitespace, double and single quotes).
fn split_words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut any = false;
    for ch in s.chars() {
        match (quote, ch) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => {
                quote = Some(ch);
                any = true;
            }
            (None, c) if c.is_whitespace() => {
                if !cur.is_empty() || any {
                    out.push(std::mem::take(&mut cur));
                }
                any = false;
            }
            (None, c) => cur.push(c),
        }
    }
    if !cur.is_empty() || any {
        out.push(cur);
    }
    out
}

/// `KEY=value` lines of an environment file or `Environment=` settings.
fn env_pairs(text: &str, env: &mut Vec<(String, String)>) {
    for w in split_words(text) {
        if let Some((k, v)) = w.split_once('=') {
            env.retain(|(n, _)| n != k);
            env.push((k.to_string(), v.to_string()));
        }
    }
}

fn expand(word: &str, env: &[(String, String)]) -> String {
    let name = word.trim_start_matches('$').trim_start_matches('{').trim_end_matches('}');
    if word.starts_with('$') {
        env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default()
    } else {
        word.to_string()
    }
}

/// Unit file locations, in systemd's order of precedence (lowest first).
const UNIT_DIRS: &[&str] = &["/lib/systemd/system", "/usr/lib/systemd/system", "/etc/systemd/system"];

fn kubelet(tree: &NodeTree, errors: &mut Vec<String>) -> Option<Kubelet> {
    let mut k = Kubelet::default();
    for d in UNIT_DIRS {
        let unit = format!("{d}/kubelet.service");
        if tree.exists(&unit) {
            k.service_files.push(unit);
        }
        let dropins = format!("{d}/kubelet.service.d");
        for n in tree.list(&dropins) {
            if n.ends_with(".conf") {
                k.service_files.push(format!("{dropins}/{n}"));
            }
        }
    }
    let mut env: Vec<(String, String)> = Vec::new();
    let mut exec = String::new();
    for f in &k.service_files {
        let text = match tree.read(f) {
            Ok(t) => t,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        // Continuation lines joined first.
        let joined = text.replace("\\\n", " ");
        for line in joined.lines().map(str::trim) {
            if let Some(v) = line.strip_prefix("Environment=") {
                env_pairs(v, &mut env);
            } else if let Some(v) = line.strip_prefix("EnvironmentFile=") {
                let path = v.trim().trim_start_matches('-');
                if let Ok(t) = tree.read(path) {
                    for l in t.lines().filter(|l| !l.trim_start().starts_with('#')) {
                        env_pairs(l, &mut env);
                    }
                }
            } else if let Some(v) = line.strip_prefix("ExecStart=") {
                // An empty ExecStart= resets the list; the last one runs.
                exec = v.trim().to_string();
            }
        }
    }
    let mut args = Vec::new();
    for w in split_words(&exec).into_iter().skip(1) {
        let x = expand(&w, &env);
        if w.starts_with('$') {
            args.extend(split_words(&x));
        } else {
            args.push(x);
        }
    }
    k.flags = Flags::parse(&args);
    let default_config = "/var/lib/kubelet/config.yaml";
    k.config_path = match k.flags.get("config") {
        Some(p) if !p.is_empty() => Some(p.to_string()),
        _ if tree.exists(default_config) => Some(default_config.to_string()),
        _ => None,
    };
    if let Some(p) = &k.config_path {
        match tree.read(p) {
            Ok(t) => match load_all(&t).into_iter().next() {
                Some(Ok(n)) => k.config = Some(n),
                Some(Err(e)) => errors.push(format!("{p}:{}:{}: {}", e.line, e.col, e.message)),
                None => errors.push(format!("{p}: empty")),
            },
            Err(e) => errors.push(e),
        }
    }
    (!k.service_files.is_empty() || k.config.is_some()).then_some(k)
}

impl Components {
    pub fn discover(tree: &NodeTree) -> Components {
        let mut c = Components::default();
        c.apiserver = static_pod(tree, "kube-apiserver", &mut c.errors);
        c.controller_manager = static_pod(tree, "kube-controller-manager", &mut c.errors);
        c.scheduler = static_pod(tree, "kube-scheduler", &mut c.errors);
        c.etcd = static_pod(tree, "etcd", &mut c.errors);
        c.kubelet = kubelet(tree, &mut c.errors);
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_parse_every_form_and_last_wins() {
        let f = Flags::parse(&["kube-apiserver", "--a=1", "--b", "2", "--c", "--a=3", "-v=2"]);
        assert_eq!(f.get("a"), Some("3"));
        assert_eq!(f.get("b"), Some("2"));
        assert_eq!(f.get("c"), Some(""));
        assert_eq!(f.get("v"), Some("2"));
        assert_eq!(f.get("d"), None);
    }

    #[test]
    fn words_split_as_systemd_does() {
        assert_eq!(
            split_words(r#"KUBELET_KUBEADM_ARGS="--x=1 --y=2" B='c d'"#),
            ["KUBELET_KUBEADM_ARGS=--x=1 --y=2", "B=c d"]
        );
    }
}
