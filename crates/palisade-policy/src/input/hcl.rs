//! HCL2 / Terraform input (`hcl-rs`), in the shape conftest's HCL2 parser gives: attributes by name; each
//! block under its type, then under each of its labels, as a list of bodies (blocks of the same type and
//! labels add to the list); literals as JSON values, every other expression (references, calls, templates
//! with interpolations, conditionals, `for`) as its source text wrapped in `${…}` (a quoted template as its
//! text without the quotes).

use super::InputError;
use hcl::{Body, Expression, ObjectKey};
use serde_json::{Map, Value};

pub fn parse(text: &str) -> Result<Value, InputError> {
    Ok(Value::Object(body_json(&parse_body(text)?)))
}

/// The file's HCL body (HCL1 files are read with the same syntax: see `hcl1`).
pub(super) fn parse_body(text: &str) -> Result<Body, InputError> {
    hcl::parse(text).map_err(|e| {
        let message = e.to_string();
        // hcl-rs reports `… in line L, col C` style positions inside its message.
        let (line, column) = position(&message).unwrap_or((0, 0));
        InputError::new(line, column, message.lines().next().unwrap_or("").to_string())
    })
}

/// `line:col` or `line L, col C` in an hcl-rs error message.
fn position(message: &str) -> Option<(usize, usize)> {
    let digits = |s: &str| -> Option<usize> {
        let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        s[..end].parse().ok()
    };
    if let Some(i) = message.find("line ") {
        let rest = &message[i + 5..];
        let line = digits(rest)?;
        let col = rest
            .find("col")
            .and_then(|j| digits(rest[j..].trim_start_matches(|c: char| !c.is_ascii_digit())));
        return Some((line, col.unwrap_or(0)));
    }
    let (line, rest) =
        message.split_once(':').filter(|(l, _)| l.trim().chars().all(|c| c.is_ascii_digit()))?;
    Some((line.trim().parse().ok()?, digits(rest).unwrap_or(0)))
}

fn body_json(body: &Body) -> Map<String, Value> {
    let mut out = Map::new();
    for a in body.attributes() {
        out.insert(a.key.to_string(), expr_json(&a.expr));
    }
    for b in body.blocks() {
        let mut slot = out.entry(b.identifier.to_string()).or_insert_with(|| Value::Object(Map::new()));
        for label in &b.labels {
            let Value::Object(m) = slot else { break };
            slot = m.entry(label.as_str().to_string()).or_insert_with(|| Value::Object(Map::new()));
        }
        // A block type first seen without labels holds the list itself.
        if matches!(slot, Value::Object(m) if m.is_empty()) {
            *slot = Value::Array(Vec::new());
        }
        if let Value::Array(items) = slot {
            items.push(Value::Object(body_json(&b.body)));
        }
    }
    out
}

/// An object key as text: an identifier or a string as written, any other expression as its source.
pub(super) fn key_text(k: &ObjectKey) -> String {
    match k {
        ObjectKey::Identifier(i) => i.to_string(),
        ObjectKey::Expression(Expression::String(s)) => s.clone(),
        other => other.to_string(),
    }
}

pub(super) fn expr_json(e: &Expression) -> Value {
    match e {
        Expression::Null => Value::Null,
        Expression::Bool(b) => Value::Bool(*b),
        Expression::Number(n) => serde_json::to_value(n).unwrap_or(Value::Null),
        Expression::String(s) => Value::String(s.clone()),
        Expression::Array(items) => Value::Array(items.iter().map(expr_json).collect()),
        Expression::Object(o) => Value::Object(o.iter().map(|(k, v)| (key_text(k), expr_json(v))).collect()),
        Expression::TemplateExpr(t) => {
            let s = t.to_string();
            Value::String(
                s.strip_prefix('"').and_then(|s| s.strip_suffix('"')).map(str::to_owned).unwrap_or(s),
            )
        }
        Expression::Parenthesis(inner) => expr_json(inner),
        other => Value::String(format!("${{{other}}}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn blocks_nest_by_labels_into_lists_like_conftest() {
        let text = r#"
resource "aws_alb_listener" "lb" {
  port     = 80
  protocol = "HTTP"
  tags = { owner = "devops", "cost-center" = 12 }
}
resource "aws_alb_listener" "lb2" {
  certificate_arn = var.cert
  name = "x-${var.env}"
}
resource "azurerm_managed_disk" "d" {
  encryption_settings {
    enabled = false
  }
}
variable "v" {}
"#;
        let v = parse(text).expect("hcl");
        assert_eq!(
            v,
            json!({
                "resource": {
                    "aws_alb_listener": {
                        "lb": [{"port": 80, "protocol": "HTTP", "tags": {"owner": "devops", "cost-center": 12}}],
                        "lb2": [{"certificate_arn": "${var.cert}", "name": "x-${var.env}"}],
                    },
                    "azurerm_managed_disk": {"d": [{"encryption_settings": [{"enabled": false}]}]},
                },
                "variable": {"v": [{}]},
            })
        );
        let e = parse("resource \"a\" {\n  x = \n}\n").expect_err("bad");
        assert!(!e.message.is_empty(), "{e:?}");
    }
}
