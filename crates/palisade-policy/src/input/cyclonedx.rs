//! CycloneDX input (`--parser cyclonedx`, JSON or XML), in the shape conftest's CycloneDX parser
//! (cyclonedx-go) gives: CycloneDX JSON as written; CycloneDX XML converted to the CycloneDX JSON shape —
//! `bomFormat`, `specVersion` (from the namespace), `serialNumber`, `version` (a number); attributes as
//! fields; list containers (`components`, `hashes`, `licenses`, `externalReferences`, `properties`,
//! `dependencies`, …) as arrays; `<hash alg>` as `{alg, content}`, `<property name>` as `{name, value}`,
//! `<licenses>` entries as `{license: …}` / `{expression: …}`, `<dependency ref>` as `{ref, dependsOn}`.
//! The XML is read by the `xml` parser (no entity expansion).

use super::InputError;
use serde_json::{Map, Value};

pub fn parse(text: &str) -> Result<Value, InputError> {
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if !trimmed.starts_with('<') {
        return serde_json::from_str(text)
            .map_err(|e| InputError::new(e.line(), e.column(), format!("CycloneDX JSON: {e}")));
    }
    let doc = super::xml::parse(text)?;
    let Some(Value::Object(bom)) = doc.get("bom").cloned().map(|b| match b {
        Value::String(_) => Value::Object(Map::new()),
        other => other,
    }) else {
        let root = doc.as_object().and_then(|m| m.keys().next().cloned()).unwrap_or_default();
        return Err(InputError::new(1, 1, format!("CycloneDX XML: the root element is <{root}>, not <bom>")));
    };
    let mut out = Map::new();
    out.insert("bomFormat".into(), Value::String("CycloneDX".into()));
    if let Some(Value::String(ns)) = bom.get("-xmlns") {
        let version = ns.rsplit('/').next().unwrap_or("");
        out.insert("specVersion".into(), Value::String(version.to_string()));
    }
    if let Some(Value::String(s)) = bom.get("-serialNumber") {
        out.insert("serialNumber".into(), Value::String(s.clone()));
    }
    if let Some(Value::String(v)) = bom.get("-version") {
        out.insert("version".into(), v.parse::<i64>().map_or_else(|_| Value::String(v.clone()), Value::from));
    }
    for (k, v) in &bom {
        if !k.starts_with('-') {
            out.insert(k.clone(), element(k, v));
        }
    }
    Ok(Value::Object(out))
}

/// Containers whose children become a JSON array: (container, child element).
const LISTS: &[(&str, &str)] = &[
    ("components", "component"),
    ("services", "service"),
    ("dependencies", "dependency"),
    ("hashes", "hash"),
    ("externalReferences", "reference"),
    ("properties", "property"),
    ("authors", "author"),
    ("vulnerabilities", "vulnerability"),
    ("compositions", "composition"),
    ("endpoints", "endpoint"),
    ("data", "classification"),
    ("ratings", "rating"),
    ("cwes", "cwe"),
    ("advisories", "advisory"),
    ("affects", "target"),
    ("versions", "version"),
    ("aggregate", "assembly"),
    ("assemblies", "assembly"),
    ("contact", "contact"),
    ("lifecycles", "lifecycle"),
    ("tags", "tag"),
];

/// One element's value, in the JSON shape.
fn element(name: &str, v: &Value) -> Value {
    if name == "licenses" {
        let Value::Object(m) = v else { return Value::Array(Vec::new()) };
        let mut out = Vec::new();
        for (k, items) in m {
            if k.starts_with('-') {
                continue;
            }
            for item in as_list(items) {
                let mut entry = Map::new();
                entry.insert(k.clone(), if k == "expression" { text_of(item) } else { object(k, item) });
                out.push(Value::Object(entry));
            }
        }
        return Value::Array(out);
    }
    if name == "tools" {
        // CycloneDX 1.4: a list of <tool>; 1.5: components and services.
        if let Value::Object(m) = v
            && m.contains_key("tool")
        {
            return Value::Array(as_list(&m["tool"]).into_iter().map(|t| object("tool", t)).collect());
        }
    }
    if let Some((_, child)) = LISTS.iter().find(|(c, _)| *c == name) {
        let Value::Object(m) = v else { return Value::Array(Vec::new()) };
        return Value::Array(
            m.get(*child).map(as_list).unwrap_or_default().into_iter().map(|c| object(child, c)).collect(),
        );
    }
    object(name, v)
}

fn as_list(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    }
}

fn text_of(v: &Value) -> Value {
    match v {
        Value::Object(m) => m.get("#text").cloned().unwrap_or(Value::String(String::new())),
        other => other.clone(),
    }
}

/// An element that is not a list container: text stays text; attributes and children become fields.
fn object(name: &str, v: &Value) -> Value {
    let Value::Object(m) = v else { return v.clone() };
    if name == "dependency" {
        let mut out = Map::new();
        if let Some(r) = m.get("-ref") {
            out.insert("ref".into(), r.clone());
        }
        let on: Vec<Value> = m
            .get("dependency")
            .map(as_list)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|d| d.get("-ref").cloned())
            .collect();
        if !on.is_empty() {
            out.insert("dependsOn".into(), Value::Array(on));
        }
        return Value::Object(out);
    }
    let mut out = Map::new();
    for (k, v) in m {
        if k.starts_with("-xmlns") {
            continue;
        }
        if let Some(attr) = k.strip_prefix('-') {
            out.insert(attr.to_string(), v.clone());
        } else if k == "#text" {
            let field = match name {
                "hash" => "content",
                "property" => "value",
                _ => "value",
            };
            out.insert(field.into(), v.clone());
        } else {
            out.insert(k.clone(), element(k, v));
        }
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_as_written_and_xml_in_the_json_shape() {
        let j = parse(r#"{"bomFormat": "CycloneDX", "metadata": {"component": {"version": "1"}}}"#)
            .expect("json");
        assert_eq!(j["metadata"]["component"]["version"], "1");
        let xml = r#"<?xml version="1.0"?>
<bom xmlns="http://cyclonedx.org/schema/bom/1.4" serialNumber="urn:uuid:1" version="1">
  <metadata><component type="container"><name>app</name><version>sha256:ab</version></component></metadata>
  <components>
    <component type="library" bom-ref="pkg:a">
      <name>a</name>
      <hashes><hash alg="SHA-256">00ff</hash></hashes>
      <licenses><license><id>MIT</id></license><expression>MIT OR Apache-2.0</expression></licenses>
      <properties><property name="k">v</property></properties>
    </component>
  </components>
  <dependencies><dependency ref="pkg:a"><dependency ref="pkg:b"/></dependency></dependencies>
</bom>"#;
        assert_eq!(
            parse(xml).expect("xml"),
            json!({
                "bomFormat": "CycloneDX", "specVersion": "1.4", "serialNumber": "urn:uuid:1", "version": 1,
                "metadata": {"component": {"type": "container", "name": "app", "version": "sha256:ab"}},
                "components": [{"type": "library", "bom-ref": "pkg:a", "name": "a",
                    "hashes": [{"alg": "SHA-256", "content": "00ff"}],
                    // Entries grouped by kind (the XML tree's objects do not keep element order).
                    "licenses": [{"expression": "MIT OR Apache-2.0"}, {"license": {"id": "MIT"}}],
                    "properties": [{"name": "k", "value": "v"}]}],
                "dependencies": [{"ref": "pkg:a", "dependsOn": ["pkg:b"]}],
            })
        );
        assert!(parse("{\n\"a\": }").expect_err("bad json").line == 2);
        assert!(parse("<project/>").expect_err("not a bom").message.contains("<project>"));
    }
}
