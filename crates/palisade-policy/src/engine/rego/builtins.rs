//! Builtins regorus lacks that the policies Palisade runs need, registered with `Engine::add_extension`
//! on every engine before its modules load.
//!
//! - `strings.render_template(template, vars)`: substitutes `{{.name}}` placeholders (the subset of Go
//!   templates conftest policies use for messages); anything else in braces is left as written.

use regorus::{Engine, Value};

/// Register Palisade's builtins on `engine`.
pub fn register(engine: &mut Engine) {
    // Registration fails only if the name already exists (a later regorus that implements it): keep theirs.
    let _ = engine.add_extension("strings.render_template".into(), 2, Box::new(render_template));
}

fn render_template(args: Vec<Value>) -> anyhow::Result<Value> {
    let [template, vars] = args.as_slice() else {
        anyhow::bail!("strings.render_template takes 2 arguments")
    };
    let template = template.as_string().map_err(|_| anyhow::anyhow!("template must be a string"))?;
    let vars = vars.as_object().map_err(|_| anyhow::anyhow!("vars must be an object"))?;
    let mut out = String::new();
    let mut rest: &str = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            rest = "";
            break;
        };
        let key = after[..end].trim();
        let value = key.strip_prefix('.').and_then(|k| vars.get(&Value::from(k)));
        match value {
            Some(Value::String(s)) => out.push_str(s.as_ref()),
            Some(v) => out.push_str(&v.to_json_str().unwrap_or_default()),
            None => out.push_str(&rest[start..start + 2 + end + 2]),
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(Value::from(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_template_substitutes_fields() {
        let mut e = Engine::new();
        register(&mut e);
        e.add_policy(
            "t.rego".into(),
            "package t\nx := strings.render_template(\"hi {{.name}} {{x}}\", {\"name\": \"bob\"})\n".into(),
        )
        .unwrap();
        let v = e.eval_rule("data.t.x".into()).unwrap();
        assert_eq!(v, Value::from("hi bob {{x}}"));
    }
}
