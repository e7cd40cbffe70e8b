//! Builtins regorus lacks that the policies Palisade runs need, registered with `Engine::add_extension`
//! on every engine before its modules load.
//!
//! - `strings.render_template(template, vars)`: substitutes `{{.name}}` placeholders (the subset of Go
//!   templates conftest policies use for messages); anything else in braces is left as written.
//! - conftest's `parse_config(parser, text)` for `yaml`, `json` and every parser of [`crate::input`].
//! - conftest's `parse_config_file(path)` and `parse_combined_config_files(paths)` read files: evaluation
//!   does no I/O, so they fail with an error saying so (a test using them fails, never passes silently).

use regorus::{Engine, Value};

/// Register Palisade's builtins on `engine`.
pub fn register(engine: &mut Engine) {
    // Registration fails only if the name already exists (a later regorus that implements it): keep theirs.
    let _ = engine.add_extension("strings.render_template".into(), 2, Box::new(render_template));
    let _ = engine.add_extension("parse_config".into(), 2, Box::new(parse_config));
    let _ = engine.add_extension("parse_config_file".into(), 1, Box::new(|_| no_io("parse_config_file")));
    let _ = engine.add_extension(
        "parse_combined_config_files".into(),
        1,
        Box::new(|_| no_io("parse_combined_config_files")),
    );
}

fn no_io(name: &str) -> anyhow::Result<Value> {
    anyhow::bail!("{name}: policies may not read files during evaluation (Palisade evaluates without I/O)")
}

fn parse_config(args: Vec<Value>) -> anyhow::Result<Value> {
    let [parser, text] = args.as_slice() else { anyhow::bail!("parse_config takes 2 arguments") };
    let parser = parser.as_string().map_err(|_| anyhow::anyhow!("parse_config: parser must be a string"))?;
    let text = text.as_string().map_err(|_| anyhow::anyhow!("parse_config: config must be a string"))?;
    match parser.as_ref() {
        "yaml" | "yml" | "json" => {
            let docs: Vec<serde_json::Value> = crate::bundle::load_yaml(text)
                .into_iter()
                .map(|d| d.map(|n| n.to_json()).map_err(|e| anyhow::anyhow!("parse_config: {e}")))
                .collect::<anyhow::Result<_>>()?;
            let v = match docs.len() {
                0 => serde_json::Value::Null,
                1 => docs.into_iter().next().unwrap_or_default(),
                _ => serde_json::Value::Array(docs),
            };
            Ok(Value::from(v))
        }
        other => match crate::input::parser_named(other) {
            Some(p) => (p.parse)(text).map(Value::from).map_err(|e| {
                anyhow::anyhow!("parse_config: {other}: {}:{}: {}", e.line, e.column, e.message)
            }),
            None => anyhow::bail!(
                "parse_config: the {other} parser is not supported (yaml, json, {})",
                crate::input::parsers().iter().map(|p| p.name).collect::<Vec<_>>().join(", ")
            ),
        },
    }
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

    #[test]
    fn parse_config_reads_yaml_and_file_reads_fail() {
        let mut e = Engine::new();
        register(&mut e);
        e.add_policy(
            "t.rego".into(),
            "package t\nx := parse_config(\"yaml\", \"a: 1\")\ny := parse_config_file(\"f.yaml\")\n".into(),
        )
        .unwrap();
        assert_eq!(e.eval_rule("data.t.x".into()).unwrap(), Value::from(serde_json::json!({"a": 1})));
        assert!(e.eval_rule("data.t.y".into()).is_err());
    }
}
