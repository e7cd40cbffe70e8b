//! Source rewrites that work around regorus 0.14 parser defects (dependencies.md P5) before a module is
//! compiled. Each keeps every line where it was, so positions in messages stay right.
//!
//! - Defect 2: a line ending in a reference followed by a line starting with `(` is parsed as one call
//!   (`x.y\n(a - b) > 1` becomes `x.y(a - b) > 1`). OPA reads two expressions; a `;` is added at the end of
//!   the first line (when it carries no comment).
//! - Defect 3: v0 rules with several bodies, `head { … } { … }`, are rejected. Each `} {` line that closes
//!   one body and opens the next becomes `} head {`, one rule per body, which OPA treats the same.

/// Apply every rewrite to `text` (a v0 module); returns `None` when nothing changed.
pub fn rewrite_v0(text: &str) -> Option<String> {
    let lines: Vec<&str> = text.split('\n').collect();
    let mut out: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    let mut changed = false;
    let mut last_code: Option<usize> = None;
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim();
        if t.starts_with('(')
            && let Some(p) = last_code
        {
            let prev = lines[p].trim_end();
            let ends_ref =
                prev.chars().last().is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == ']');
            if ends_ref && !prev.contains('#') && !prev.trim_start().starts_with("package ") {
                out[p].push(';');
                changed = true;
            }
        }
        if t == "} {" {
            let indent = line.len() - line.trim_start().len();
            let head = lines[..i].iter().rev().find(|l| {
                let lt = l.trim_end();
                l.len() - l.trim_start().len() == indent && lt.ends_with('{') && lt.trim() != "} {"
            });
            if let Some(head) = head {
                let head = head.trim().trim_end_matches('{').trim_end();
                let head = head.strip_prefix("} ").unwrap_or(head);
                out[i] = format!("{}}} {head} {{", &line[..indent]);
                changed = true;
            }
        }
        if !t.is_empty() && !t.starts_with('#') {
            last_code = Some(i);
        }
    }
    changed.then(|| out.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use regorus::Engine;

    fn eval(text: &str, query: &str) -> regorus::Value {
        let mut e = Engine::new();
        e.set_rego_v0(true);
        e.add_policy("p.rego".into(), text.into()).unwrap();
        e.set_input(regorus::Value::from(serde_json::json!({"a": 5, "b": 1, "k": "RC"})));
        e.eval_rule(query.into()).unwrap()
    }

    #[test]
    fn ref_then_parenthesis_is_two_expressions() {
        let v0 = "package p\nok {\n  input.a\n  (input.a - input.b) >= 4\n}\n";
        let fixed = rewrite_v0(v0).unwrap();
        assert_eq!(fixed.lines().count(), v0.lines().count());
        assert_eq!(eval(&fixed, "data.p.ok"), regorus::Value::from(true));
    }

    #[test]
    fn multi_body_rules_become_one_rule_per_body() {
        let v0 = "package p\nf(x) = y {\n  x == \"Pod\"\n  y := 1\n} {\n  x == \"RC\"\n  y := 2\n}\nv := f(input.k)\n";
        let fixed = rewrite_v0(v0).unwrap();
        assert_eq!(fixed.lines().count(), v0.lines().count());
        assert_eq!(eval(&fixed, "data.p.v"), regorus::Value::from(2));
        assert_eq!(rewrite_v0("package p\nx := 1\n"), None);
    }
}
