//! YAML/JSON loading into a small DOM that keeps the line and column of every value.
//!
//! Built on the `saphyr-parser` event stream (the parser under `saphyr` 0.3), with Kubernetes semantics:
//! plain scalars resolve like YAML 1.1 / sigs.k8s.io/yaml (`yes`/`on` are booleans, `0755` is octal), map
//! keys are turned into strings (`on:` becomes the key `"true"`), merge keys (`<<`) are applied, duplicate
//! keys are an error. Untrusted input is bounded: nesting depth and alias expansion have hard limits, so an
//! alias bomb or a deeply nested document fails with an error instead of exhausting memory or the stack.
//! A syntax error in one document of a multi-document stream does not hide the other documents.

use saphyr_parser::{Event, Parser, ScalarStyle, Span};
use std::collections::HashMap;

/// Deepest allowed nesting of collections.
pub const MAX_DEPTH: usize = 128;
/// Most nodes alias expansion may create in one document (alias bombs).
pub const MAX_ALIAS_NODES: usize = 100_000;
/// Most nodes (scalars, sequences, maps) one document may hold: each costs about 70 bytes in the DOM, so a
/// 200 MB one-line flow sequence would take gigabytes. The largest real manifests (CRDs) hold tens of
/// thousands.
pub const MAX_NODES: usize = 1_000_000;

/// A value with its position (1-based line and column of where the value starts).
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub line: u32,
    pub col: u32,
}

/// A map key with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    pub name: String,
    pub line: u32,
    pub col: u32,
}

/// A YAML value. Maps keep document order.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Key, Node)>),
}

/// A load error: what is wrong and where (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    pub line: u32,
    pub col: u32,
    pub message: String,
}

impl std::fmt::Display for YamlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}, column {}: {}", self.line, self.col, self.message)
    }
}

impl Node {
    fn new(value: Value, line: u32, col: u32) -> Self {
        Node { value, line, col }
    }

    /// The value under `key` of a map.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(m) => m.iter().find(|(k, _)| k.name == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The map entry (key with position and value) under `key`.
    pub fn entry(&self, key: &str) -> Option<(&Key, &Node)> {
        match &self.value {
            Value::Map(m) => m.iter().find(|(k, _)| k.name == key).map(|(k, v)| (k, v)),
            _ => None,
        }
    }

    /// Follow a path of map keys.
    pub fn path(&self, keys: &[&str]) -> Option<&Node> {
        let mut cur = self;
        for k in keys {
            cur = cur.get(k)?;
        }
        Some(cur)
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Scalars rendered as text (strings, numbers, booleans); `None` for null and collections.
    pub fn scalar_text(&self) -> Option<String> {
        match &self.value {
            Value::Str(s) => Some(s.clone()),
            Value::Int(i) => Some(i.to_string()),
            Value::Float(f) => Some(f.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// Only a real boolean (as Kubernetes' typed decoder requires).
    pub fn as_bool(&self) -> Option<bool> {
        match self.value {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self.value {
            Value::Int(i) => Some(i),
            Value::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(f as i64),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> &[Node] {
        match &self.value {
            Value::Seq(s) => s,
            _ => &[],
        }
    }

    pub fn as_map(&self) -> &[(Key, Node)] {
        match &self.value {
            Value::Map(m) => m,
            _ => &[],
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }

    pub fn is_map(&self) -> bool {
        matches!(self.value, Value::Map(_))
    }

    /// `get(key)` that treats an explicit `null` like an absent key (Go pointers decode null to nil).
    pub fn field(&self, key: &str) -> Option<&Node> {
        self.get(key).filter(|n| !n.is_null())
    }

    /// Strings of a sequence of scalars.
    pub fn str_list(&self) -> Vec<String> {
        self.as_seq().iter().filter_map(Node::scalar_text).collect()
    }

    fn size(&self) -> usize {
        match &self.value {
            Value::Seq(s) => 1 + s.iter().map(Node::size).sum::<usize>(),
            Value::Map(m) => 1 + m.iter().map(|(_, v)| v.size()).sum::<usize>(),
            _ => 1,
        }
    }

    /// Convert to JSON (for debugging and config parsing).
    pub fn to_json(&self) -> serde_json::Value {
        match &self.value {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Int(i) => serde_json::Value::from(*i),
            Value::Float(f) => serde_json::Value::from(*f),
            Value::Str(s) => serde_json::Value::String(s.clone()),
            Value::Seq(s) => serde_json::Value::Array(s.iter().map(Node::to_json).collect()),
            Value::Map(m) => {
                serde_json::Value::Object(m.iter().map(|(k, v)| (k.name.clone(), v.to_json())).collect())
            }
        }
    }
}

/// One document of a stream: its root node, or the error that made it unreadable.
pub type DocResult = Result<Node, YamlError>;

/// Load every document of a YAML (or JSON) stream. Empty documents are skipped. If the stream as a whole
/// does not parse, it is split at `---` lines and each part is loaded alone, so one broken document does not
/// hide the others.
pub fn load_all(text: &str) -> Vec<DocResult> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    match load_stream(text, 0) {
        Ok((docs, warnings)) => docs.into_iter().map(Ok).chain(warnings.into_iter().map(Err)).collect(),
        Err(_) => {
            let mut out = Vec::new();
            for (offset, part) in split_documents(text) {
                match load_stream(part, offset) {
                    Ok((docs, warnings)) => {
                        out.extend(docs.into_iter().map(Ok));
                        out.extend(warnings.into_iter().map(Err));
                    }
                    Err(e) => out.push(Err(e)),
                }
            }
            out
        }
    }
}

/// Split at document markers (`---` at column 0) into (line offset, text) parts.
fn split_documents(text: &str) -> Vec<(u32, &str)> {
    let mut parts = Vec::new();
    let mut start = 0usize;
    let mut start_line = 0u32;
    let mut pos = 0usize;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let trimmed = line.trim_end();
        let is_marker = trimmed == "---" || trimmed.starts_with("--- ") || trimmed.starts_with("---\t");
        if is_marker && pos > start {
            parts.push((start_line, &text[start..pos]));
            start = pos;
            start_line = u32::try_from(i).unwrap_or(u32::MAX);
        }
        pos += line.len();
    }
    if start < text.len() {
        parts.push((start_line, &text[start..]));
    }
    parts
}

fn pos(span: &Span, line_offset: u32) -> (u32, u32) {
    let line = u32::try_from(span.start.line()).unwrap_or(u32::MAX).saturating_add(line_offset);
    let col = u32::try_from(span.start.col()).unwrap_or(u32::MAX).saturating_add(1);
    (line, col)
}

enum Frame {
    Seq {
        items: Vec<Node>,
        anchor: usize,
        line: u32,
        col: u32,
    },
    Map {
        entries: Vec<(Key, Node)>,
        /// Position of each key in `entries` (rebuilt after a merge key changes the order).
        index: HashMap<String, usize>,
        key: Option<Key>,
        merged: Vec<String>,
        anchor: usize,
        line: u32,
        col: u32,
    },
}

struct Builder {
    stack: Vec<Frame>,
    anchors: HashMap<usize, (Node, usize)>,
    docs: Vec<Node>,
    alias_nodes: usize,
    /// Nodes of the current document, for [`MAX_NODES`].
    nodes: usize,
    /// Problems that do not make the document unreadable (duplicate keys: the last value is kept, as the
    /// Kubernetes API server does).
    warnings: Vec<YamlError>,
}

/// The documents of a stream and the problems that did not make them unreadable.
type Loaded = (Vec<Node>, Vec<YamlError>);

fn load_stream(text: &str, line_offset: u32) -> Result<Loaded, YamlError> {
    let mut b = Builder {
        stack: Vec::new(),
        anchors: HashMap::new(),
        docs: Vec::new(),
        alias_nodes: 0,
        nodes: 0,
        warnings: Vec::new(),
    };
    let mut doc_has_root = false;
    for ev in Parser::new_from_str(text) {
        let (ev, span) = ev.map_err(|e| {
            let m = e.marker();
            YamlError {
                line: u32::try_from(m.line()).unwrap_or(u32::MAX).saturating_add(line_offset),
                col: u32::try_from(m.col()).unwrap_or(u32::MAX).saturating_add(1),
                message: e.info().to_string(),
            }
        })?;
        let (line, col) = pos(&span, line_offset);
        if matches!(ev, Event::Scalar(..) | Event::SequenceStart(..) | Event::MappingStart(..)) {
            b.nodes += 1;
            if b.nodes > MAX_NODES {
                return Err(YamlError {
                    line,
                    col,
                    message: format!("the document has more than {MAX_NODES} nodes; document skipped"),
                });
            }
        }
        match ev {
            Event::DocumentStart(_) => {
                b.anchors.clear();
                b.alias_nodes = 0;
                b.nodes = 0;
                doc_has_root = false;
            }
            Event::DocumentEnd => {
                if !doc_has_root {
                    continue;
                }
            }
            Event::Scalar(v, style, anchor, tag) => {
                let tag = tag.map(|t| t.suffix.clone());
                let value = resolve_scalar(&v, style, tag.as_deref());
                let node = Node::new(value, line, col);
                if anchor != 0 {
                    b.anchors.insert(anchor, (node.clone(), 1));
                }
                doc_has_root |= b.push(node)?;
            }
            Event::Alias(id) => {
                let Some((node, size)) = b.anchors.get(&id).cloned() else {
                    return Err(YamlError { line, col, message: format!("unknown alias (anchor id {id})") });
                };
                b.alias_nodes = b.alias_nodes.saturating_add(size);
                if b.alias_nodes > MAX_ALIAS_NODES {
                    return Err(YamlError {
                        line,
                        col,
                        message: format!(
                            "alias expansion exceeds {MAX_ALIAS_NODES} nodes (possible alias bomb); document skipped"
                        ),
                    });
                }
                doc_has_root |= b.push(node)?;
            }
            Event::SequenceStart(anchor, _) => {
                b.check_depth(line, col)?;
                b.stack.push(Frame::Seq { items: Vec::new(), anchor, line, col });
            }
            Event::MappingStart(anchor, _) => {
                b.check_depth(line, col)?;
                b.stack.push(Frame::Map {
                    entries: Vec::new(),
                    index: HashMap::new(),
                    key: None,
                    merged: Vec::new(),
                    anchor,
                    line,
                    col,
                });
            }
            Event::SequenceEnd => {
                if let Some(Frame::Seq { items, anchor, line, col }) = b.stack.pop() {
                    let node = Node::new(Value::Seq(items), line, col);
                    b.remember(anchor, &node);
                    doc_has_root |= b.push(node)?;
                }
            }
            Event::MappingEnd => {
                if let Some(Frame::Map { entries, anchor, line, col, .. }) = b.stack.pop() {
                    let node = Node::new(Value::Map(entries), line, col);
                    b.remember(anchor, &node);
                    doc_has_root |= b.push(node)?;
                }
            }
            Event::StreamStart | Event::StreamEnd | Event::Nothing => {}
        }
    }
    Ok((b.docs, b.warnings))
}

impl Builder {
    fn check_depth(&self, line: u32, col: u32) -> Result<(), YamlError> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(YamlError { line, col, message: format!("nesting deeper than {MAX_DEPTH} levels") });
        }
        Ok(())
    }

    fn remember(&mut self, anchor: usize, node: &Node) {
        if anchor != 0 {
            let size = node.size();
            self.anchors.insert(anchor, (node.clone(), size));
        }
    }

    /// Attach a finished node to its parent. Returns true when it became a document root.
    fn push(&mut self, node: Node) -> Result<bool, YamlError> {
        match self.stack.last_mut() {
            None => {
                if !node.is_null() {
                    self.docs.push(node);
                }
                Ok(true)
            }
            Some(Frame::Seq { items, .. }) => {
                items.push(node);
                Ok(false)
            }
            Some(Frame::Map { entries, index, key, merged, .. }) => {
                match key.take() {
                    None => {
                        let name = match &node.value {
                            Value::Str(s) => s.clone(),
                            Value::Int(i) => i.to_string(),
                            Value::Float(f) => f.to_string(),
                            Value::Bool(b) => b.to_string(),
                            Value::Null => "null".to_string(),
                            Value::Seq(_) | Value::Map(_) => {
                                return Err(YamlError {
                                    line: node.line,
                                    col: node.col,
                                    message: "complex (collection) mapping keys are not supported".into(),
                                });
                            }
                        };
                        *key = Some(Key { name, line: node.line, col: node.col });
                    }
                    Some(k) => {
                        if k.name == "<<" {
                            merge_into(entries, merged, node);
                            reindex(index, entries);
                        } else if let Some(i) = merged.iter().position(|m| *m == k.name) {
                            merged.remove(i);
                            entries.retain(|(e, _)| e.name != k.name);
                            entries.push((k, node));
                            reindex(index, entries);
                        } else if let Some(&i) = index.get(&k.name) {
                            // The API server keeps the last value: so do we, and say so.
                            if let Some(slot) = entries.get_mut(i) {
                                self.warnings.push(YamlError {
                                    line: k.line,
                                    col: k.col,
                                    message: format!(
                                        "duplicate key {:?} (first defined at line {}); the last value is used",
                                        k.name, slot.0.line
                                    ),
                                });
                                *slot = (k, node);
                            }
                        } else {
                            index.insert(k.name.clone(), entries.len());
                            entries.push((k, node));
                        }
                    }
                }
                Ok(false)
            }
        }
    }
}

/// Rebuild the key → position index of a map's entries.
fn reindex(index: &mut HashMap<String, usize>, entries: &[(Key, Node)]) {
    index.clear();
    for (i, (k, _)) in entries.iter().enumerate() {
        index.insert(k.name.clone(), i);
    }
}

/// YAML merge key: copy entries of the merged map(s) that the map does not define itself.
fn merge_into(entries: &mut Vec<(Key, Node)>, merged: &mut Vec<String>, node: Node) {
    let maps = match node.value {
        Value::Map(m) => vec![m],
        Value::Seq(s) => s
            .into_iter()
            .filter_map(|n| match n.value {
                Value::Map(m) => Some(m),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    for m in maps {
        for (k, v) in m {
            if !entries.iter().any(|(e, _)| e.name == k.name) {
                merged.push(k.name.clone());
                entries.push((k, v));
            }
        }
    }
}

/// Resolve a scalar the way Kubernetes' YAML decoder (YAML 1.1 rules) does.
fn resolve_scalar(v: &str, style: ScalarStyle, tag: Option<&str>) -> Value {
    if let Some(tag) = tag {
        match tag {
            "str" => return Value::Str(v.to_string()),
            "int" => return parse_int(v).map(Value::Int).unwrap_or_else(|| Value::Str(v.to_string())),
            "float" => {
                return v.parse::<f64>().map(Value::Float).unwrap_or_else(|_| Value::Str(v.to_string()));
            }
            "bool" => return parse_bool(v).map(Value::Bool).unwrap_or_else(|| Value::Str(v.to_string())),
            "null" => return Value::Null,
            _ => {}
        }
    }
    if style != ScalarStyle::Plain {
        return Value::Str(v.to_string());
    }
    match v {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        _ => {}
    }
    if let Some(b) = parse_bool(v) {
        return Value::Bool(b);
    }
    if let Some(i) = parse_int(v) {
        return Value::Int(i);
    }
    if let Some(f) = parse_float(v) {
        return Value::Float(f);
    }
    Value::Str(v.to_string())
}

fn parse_bool(v: &str) -> Option<bool> {
    match v {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => Some(true),
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => Some(false),
        _ => None,
    }
}

fn parse_int(v: &str) -> Option<i64> {
    let s = v.replace('_', "");
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s.strip_prefix('+').unwrap_or(&s)),
    };
    if body.is_empty() {
        return None;
    }
    let parsed = if let Some(h) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        i64::from_str_radix(h, 16).ok()
    } else if let Some(o) = body.strip_prefix("0o") {
        i64::from_str_radix(o, 8).ok()
    } else if let Some(b) = body.strip_prefix("0b") {
        i64::from_str_radix(b, 2).ok()
    } else if body.len() > 1 && body.starts_with('0') {
        // YAML 1.1: a leading zero means octal (`0755`).
        i64::from_str_radix(body, 8).ok()
    } else if body.bytes().all(|c| c.is_ascii_digit()) {
        body.parse::<i64>().ok()
    } else {
        None
    };
    parsed.map(|i| if neg { -i } else { i })
}

fn parse_float(v: &str) -> Option<f64> {
    match v {
        ".inf" | ".Inf" | ".INF" | "+.inf" => return Some(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return Some(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Some(f64::NAN),
        _ => {}
    }
    let ok = v.bytes().any(|c| c.is_ascii_digit())
        && v.bytes().all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-' | b'_'))
        && v.bytes().filter(|c| *c == b'.').count() <= 1;
    if ok { v.replace('_', "").parse::<f64>().ok() } else { None }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Node {
        let mut docs = load_all(text);
        assert_eq!(docs.len(), 1, "{docs:?}");
        match docs.remove(0) {
            Ok(n) => n,
            Err(e) => panic!("unexpected error {e}"),
        }
    }

    #[test]
    fn positions_and_multi_documents() {
        let docs = load_all("a: 1\n---\nkind: Pod\nspec:\n  x: [1, 2]\n");
        assert_eq!(docs.len(), 2);
        let d = docs[1].as_ref().ok().cloned().unwrap_or_else(|| panic!("doc"));
        let x = d.path(&["spec", "x"]).unwrap_or_else(|| panic!("x"));
        assert_eq!((x.line, x.col), (5, 6));
        assert_eq!(x.as_seq()[1].as_i64(), Some(2));
        assert_eq!(d.entry("spec").map(|(k, _)| k.line), Some(4));
    }

    #[test]
    fn yaml_1_1_isms() {
        let d = one("on: yes\nmode: 0755\nq: \"0755\"\noff: No\nt: !!str true\nhex: 0x1F\n");
        assert_eq!(d.get("true").and_then(Node::as_bool), Some(true));
        assert_eq!(d.get("mode").and_then(Node::as_i64), Some(0o755));
        assert_eq!(d.get("q").and_then(Node::as_str), Some("0755"));
        assert_eq!(d.get("false").and_then(Node::as_bool), Some(false));
        assert_eq!(d.get("t").and_then(Node::as_str), Some("true"));
        assert_eq!(d.get("hex").and_then(Node::as_i64), Some(31));
    }

    #[test]
    fn json_input() {
        let d = one("{\"kind\": \"Pod\", \"spec\": {\"hostPID\": true, \"n\": 1.5}}");
        assert_eq!(d.path(&["spec", "hostPID"]).and_then(Node::as_bool), Some(true));
        assert_eq!(d.path(&["spec", "n"]).map(|n| n.value.clone()), Some(Value::Float(1.5)));
    }

    /// A duplicate key is reported, and the document is still read with the last value (as the API server
    /// reads it), so a privileged Pod hidden behind a duplicate key is still checked.
    #[test]
    fn duplicate_keys_are_reported_and_the_last_value_kept() {
        let docs = load_all("a: 1\nb: 2\na: 3\n");
        assert_eq!(docs.len(), 2);
        let d = docs[0].as_ref().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(d.get("a").and_then(Node::scalar_text).as_deref(), Some("3"));
        let keys: Vec<_> = d.as_map().iter().map(|(k, _)| k.name.as_str()).collect();
        assert_eq!(keys, ["a", "b"]);
        let e = docs[1].as_ref().err().cloned().unwrap_or_else(|| panic!("expected a warning"));
        assert_eq!(e.line, 3);
        assert!(e.message.contains("duplicate key") && e.message.contains("last value"), "{e}");
    }

    /// Many keys: the duplicate check is a lookup, not a search per key.
    #[test]
    fn a_large_map_loads_in_linear_time() {
        let text: String = (0..200_000).map(|i| format!("k{i}: {i}\n")).collect();
        let start = std::time::Instant::now();
        let docs = load_all(&text);
        assert!(start.elapsed() < std::time::Duration::from_secs(10));
        assert_eq!(docs.len(), 1);
    }

    #[test]
    fn malformed_document_does_not_hide_others() {
        let docs = load_all("kind: A\n---\nkind: [B\n---\nkind: C\n");
        assert_eq!(docs.len(), 3);
        assert!(docs[0].is_ok() && docs[1].is_err() && docs[2].is_ok());
        let e = docs[1].as_ref().err().cloned().unwrap_or_else(|| panic!("err"));
        assert!(e.line >= 3, "{e}");
        assert_eq!(docs[2].as_ref().ok().and_then(|d| d.get("kind")).and_then(Node::as_str), Some("C"));
    }

    #[test]
    fn alias_bomb_is_stopped() {
        let mut s = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..9 {
            let p = i - 1;
            s.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let docs = load_all(&s);
        let e = docs[0].as_ref().err().cloned().unwrap_or_else(|| panic!("expected error"));
        assert!(e.message.contains("alias"), "{e}");
    }

    #[test]
    fn deep_nesting_is_stopped() {
        let s = "[".repeat(10_000);
        let docs = load_all(&s);
        assert!(docs.iter().all(Result::is_err) && !docs.is_empty());
        let ok = load_all(&format!("{}1{}", "[".repeat(50), "]".repeat(50)));
        assert!(ok[0].is_ok());
    }

    #[test]
    fn a_document_with_too_many_nodes_is_skipped_alone() {
        let mut s = format!("items: [{}x]\n", "a, ".repeat(MAX_NODES));
        s.push_str("---\nkind: Pod\n");
        let docs = load_all(&s);
        let e = docs.iter().find_map(|d| d.as_ref().err()).unwrap_or_else(|| panic!("expected an error"));
        assert!(e.message.contains("more than 1000000 nodes") && e.line == 1, "{e}");
        assert!(
            docs.iter().any(|d| d.as_ref().is_ok_and(|n| n.get("kind").is_some())),
            "the next document is kept"
        );
    }

    #[test]
    fn merge_keys_and_aliases() {
        let d = one("base: &b {p: 1, q: 2}\nd:\n  <<: *b\n  q: 3\n");
        assert_eq!(d.path(&["d", "p"]).and_then(Node::as_i64), Some(1));
        assert_eq!(d.path(&["d", "q"]).and_then(Node::as_i64), Some(3));
    }
}
