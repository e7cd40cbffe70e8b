//! Kubernetes' CEL URL library: `url()`, `isURL()` and the methods `getScheme`, `getHost`, `getHostname`,
//! `getPort`, `getEscapedPath`, `getQuery`. Only absolute URLs and absolute paths are URLs, as in Go's
//! `url.ParseRequestURI`.

use super::{fail, string_arg};
use cel::extractors::This;
use cel::objects::{Key, Map, Opaque};
use cel::{Context, ExecutionError, Value};
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    pub text: String,
    pub scheme: String,
    /// `host[:port]` as written.
    pub host: String,
    pub path: String,
    pub query: String,
}

impl Opaque for Url {
    fn runtime_type_name(&self) -> &str {
        "kubernetes.URL"
    }
    fn json(&self) -> Option<serde_json::Value> {
        Some(serde_json::Value::String(self.text.clone()))
    }
}

pub fn parse(s: &str) -> Option<Url> {
    if s.is_empty() || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return None;
    }
    let (scheme, rest) = match s.split_once(':') {
        Some((scheme, rest))
            if scheme.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) =>
        {
            (scheme.to_string(), rest)
        }
        _ if s.starts_with('/') => (String::new(), s),
        _ => return None,
    };
    let rest = rest.split_once('#').map(|(a, _)| a).unwrap_or(rest);
    let (rest, query) =
        rest.split_once('?').map(|(a, q)| (a, q.to_string())).unwrap_or((rest, String::new()));
    let (host, path) = match rest.strip_prefix("//") {
        Some(r) => match r.find('/') {
            Some(i) => (r[..i].to_string(), r[i..].to_string()),
            None => (r.to_string(), String::new()),
        },
        None if !scheme.is_empty() && !rest.starts_with('/') => (String::new(), rest.to_string()),
        None => (String::new(), rest.to_string()),
    };
    let host = host.rsplit_once('@').map(|(_, h)| h.to_string()).unwrap_or(host);
    Some(Url { text: s.to_string(), scheme, host, path, query })
}

fn url_of(function: &str, v: &Value) -> Result<Url, ExecutionError> {
    match v {
        Value::Opaque(o) => o.downcast_ref::<Url>().cloned().ok_or_else(|| fail(function, "not a URL")),
        other => Err(fail(function, format!("expected a URL, got {:?}", other.type_of()))),
    }
}

fn split_host(host: &str) -> (&str, &str) {
    if let Some(rest) = host.strip_prefix('[') {
        return match rest.split_once(']') {
            Some((h, p)) => (h, p.strip_prefix(':').unwrap_or("")),
            None => (rest, ""),
        };
    }
    match host.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => (h, p),
        _ => (host, ""),
    }
}

fn url(s: Value) -> Result<Value, ExecutionError> {
    let text = string_arg("url", &s)?;
    parse(text)
        .map(|u| Value::Opaque(Arc::new(u)))
        .ok_or_else(|| fail("url", format!("invalid URL {text:?}")))
}

fn is_url(s: Value) -> Result<Value, ExecutionError> {
    Ok(Value::Bool(parse(string_arg("isURL", &s)?).is_some()))
}

fn text(s: &str) -> Value {
    Value::String(Arc::new(s.to_string()))
}

fn get_scheme(This(u): This<Value>) -> Result<Value, ExecutionError> {
    Ok(text(&url_of("getScheme", &u)?.scheme))
}

fn get_host(This(u): This<Value>) -> Result<Value, ExecutionError> {
    Ok(text(&url_of("getHost", &u)?.host))
}

fn get_hostname(This(u): This<Value>) -> Result<Value, ExecutionError> {
    let u = url_of("getHostname", &u)?;
    Ok(text(split_host(&u.host).0))
}

fn get_port(This(u): This<Value>) -> Result<Value, ExecutionError> {
    let u = url_of("getPort", &u)?;
    Ok(text(split_host(&u.host).1))
}

fn get_escaped_path(This(u): This<Value>) -> Result<Value, ExecutionError> {
    Ok(text(&url_of("getEscapedPath", &u)?.path))
}

/// The query as a map from key to the list of its values (not percent-decoded beyond `+`).
fn get_query(This(u): This<Value>) -> Result<Value, ExecutionError> {
    let u = url_of("getQuery", &u)?;
    let mut map: HashMap<Key, Vec<Value>> = HashMap::new();
    for pair in u.query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        map.entry(Key::String(Arc::new(k.replace('+', " ")))).or_default().push(text(&v.replace('+', " ")));
    }
    let map = map.into_iter().map(|(k, v)| (k, Value::List(Arc::new(v)))).collect();
    Ok(Value::Map(Map { map: Arc::new(map) }))
}

pub(super) fn register(ctx: &mut Context, r: &mut dyn FnMut(Result<(), cel::DeclarationError>)) {
    r(ctx.add_function("url", url));
    r(ctx.add_function("isURL", is_url));
    r(ctx.add_function("getScheme", get_scheme));
    r(ctx.add_function("getHost", get_host));
    r(ctx.add_function("getHostname", get_hostname));
    r(ctx.add_function("getPort", get_port));
    r(ctx.add_function("getEscapedPath", get_escaped_path));
    r(ctx.add_function("getQuery", get_query));
}

#[cfg(test)]
mod tests {
    use super::super::tests::eval;
    use cel::Value;

    #[test]
    fn urls() {
        let t = |e: &str| assert_eq!(eval(e), Ok(Value::Bool(true)), "{e}");
        t("url('https://example.com:8443/a/b?x=1&x=2').getScheme() == 'https'");
        t("url('https://example.com:8443/a/b').getHost() == 'example.com:8443'");
        t("url('https://example.com:8443/a/b').getHostname() == 'example.com'");
        t("url('https://[::1]:80/').getHostname() == '::1' && url('https://[::1]:80/').getPort() == '80'");
        t("url('https://example.com/a/b').getEscapedPath() == '/a/b'");
        t("url('https://e.com/?x=1&x=2&y=3').getQuery()['x'] == ['1', '2']");
        t("isURL('/path') && !isURL('not a url') && !isURL('relative/path')");
    }
}
