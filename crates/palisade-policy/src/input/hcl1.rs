//! HCL1 input (`--parser hcl1`), in the shape conftest's HCL1 parser (hashicorp/hcl v1 decoded into a
//! generic value) gives: attributes by name; every block, and every object value, as a list of objects; a
//! block's labels nest as one-key objects in lists (`resource "a" "b" {…}` is
//! `{"resource": [{"a": [{"b": [{…}]}]}]}`), each block adding one entry to its type's list. The files are
//! read with `hcl-rs` (HCL1's configuration syntax is the subset of HCL2 these files use); literals are JSON
//! values and `"${…}"` strings stay text, as HCL1 leaves interpolations unevaluated.

use super::InputError;
use super::hcl::{expr_json, key_text, parse_body};
use hcl::{Body, Expression};
use serde_json::{Map, Value};

pub fn parse(text: &str) -> Result<Value, InputError> {
    Ok(Value::Object(body_json(&parse_body(text)?)))
}

fn body_json(body: &Body) -> Map<String, Value> {
    let mut out = Map::new();
    for a in body.attributes() {
        out.insert(a.key.to_string(), value(&a.expr));
    }
    for b in body.blocks() {
        let mut entry = Value::Array(vec![Value::Object(body_json(&b.body))]);
        for label in b.labels.iter().rev() {
            let mut m = Map::new();
            m.insert(label.as_str().to_string(), entry);
            entry = Value::Array(vec![Value::Object(m)]);
        }
        let Value::Array(items) = entry else { continue };
        match out.entry(b.identifier.to_string()).or_insert_with(|| Value::Array(Vec::new())) {
            Value::Array(list) => list.extend(items),
            other => *other = Value::Array(items),
        }
    }
    out
}

/// An attribute's value: objects (at any depth) become one-element lists of objects, as HCL1 decodes them.
fn value(e: &Expression) -> Value {
    match e {
        Expression::Object(o) => {
            let mut m = Map::new();
            for (k, v) in o {
                m.insert(key_text(k), value(v));
            }
            Value::Array(vec![Value::Object(m)])
        }
        Expression::Array(items) => Value::Array(items.iter().map(value).collect()),
        Expression::Parenthesis(inner) => value(inner),
        other => expr_json(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn blocks_and_objects_are_lists_like_hcl1() {
        let text = r#"
provider "google" {
  project = "instrumenta"
}
resource "a" "x" {
  n = 1
  cluster = "${google_container_cluster.primary.name}"
  metadata = { k = "v" }
  master_auth {
    username = ""
  }
}
resource "b" "y" {}
"#;
        assert_eq!(
            parse(text).expect("hcl1"),
            json!({
                "provider": [{"google": [{"project": "instrumenta"}]}],
                "resource": [
                    {"a": [{"x": [{"n": 1, "cluster": "${google_container_cluster.primary.name}",
                        "metadata": [{"k": "v"}], "master_auth": [{"username": ""}]}]}]},
                    {"b": [{"y": [{}]}]},
                ],
            })
        );
        let e = parse("resource \"a\" {\n  x = \n}\n").expect_err("bad");
        assert!(!e.message.is_empty(), "{e:?}");
    }
}
