//! XML input (`quick-xml`), in the shape conftest's parser (clbanning/mxj's `NewMapXml`) gives: the root
//! element as the one key; an element's attributes as `-name` keys (names as written, prefixes kept), its
//! child elements by local name (an element repeated under one parent becomes a list), its text as the value
//! when it has neither attributes nor children, else as `#text`; every value is a string (an empty element
//! is `""`). Comments, processing instructions and the DOCTYPE are skipped; entities a DTD declares are
//! never expanded (a reference to one is an error), so entity-expansion bombs cannot grow the input.

use super::{InputError, MAX_DEPTH, line_col};
use quick_xml::XmlVersion;
use quick_xml::events::Event;
use serde_json::{Map, Value};

/// One element being read: its name, attributes and children so far, and its text.
struct Frame {
    name: String,
    fields: Map<String, Value>,
    text: String,
}

pub fn parse(text: &str) -> Result<Value, InputError> {
    let mut reader = quick_xml::Reader::from_str(text);
    let mut stack: Vec<Frame> = Vec::new();
    let mut root: Option<(String, Value)> = None;
    let err = |pos: u64, message: String| {
        let (line, column) = line_col(text, usize::try_from(pos).unwrap_or(usize::MAX));
        InputError::new(line, column, message)
    };
    loop {
        let pos = reader.buffer_position();
        let event =
            reader.read_event().map_err(|e| err(reader.error_position(), format!("invalid XML: {e}")))?;
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let name = e.local_name().as_ref().to_string();
                if root.is_some() && stack.is_empty() {
                    return Err(err(pos, format!("a second root element <{name}>")));
                }
                let mut fields = Map::new();
                for a in e.attributes() {
                    let a = a.map_err(|x| err(pos, format!("invalid attribute in <{name}>: {x}")))?;
                    let value = a
                        .normalized_value(XmlVersion::Implicit1_0)
                        .map_err(|x| err(pos, format!("attribute value in <{name}>: {x}")))?;
                    let key = format!("-{}", a.key.as_ref() as &str);
                    fields.insert(key, Value::String(value.into_owned()));
                }
                stack.push(Frame { name, fields, text: String::new() });
                if stack.len() > MAX_DEPTH {
                    return Err(err(pos, format!("elements nested deeper than {MAX_DEPTH} levels")));
                }
                if matches!(event, Event::Empty(_)) {
                    close(&mut stack, &mut root);
                }
            }
            Event::End(_) => close(&mut stack, &mut root),
            Event::Text(t) => {
                if let Some(f) = stack.last_mut() {
                    f.text.push_str(&t.xml10_content());
                }
            }
            Event::CData(t) => {
                if let Some(f) = stack.last_mut() {
                    f.text.push_str(t.as_ref());
                }
            }
            Event::GeneralRef(r) => {
                let raw: &str = r.as_ref();
                let reference = format!("&{raw};");
                let value = quick_xml::escape::unescape(&reference).map_err(|_| {
                    err(pos, format!("entity {reference} is not predefined (DTD entities are not expanded)"))
                })?;
                if let Some(f) = stack.last_mut() {
                    f.text.push_str(&value);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if let Some(open) = stack.last() {
        return Err(err(reader.buffer_position(), format!("element <{}> is not closed", open.name)));
    }
    let (name, value) = root.ok_or_else(|| InputError::new(1, 1, "no root element"))?;
    let mut out = Map::new();
    out.insert(name, value);
    Ok(Value::Object(out))
}

/// End the innermost element: its value goes to its parent (a repeated name becomes a list) or is the root.
fn close(stack: &mut Vec<Frame>, root: &mut Option<(String, Value)>) {
    let Some(f) = stack.pop() else { return };
    let text = f.text.trim();
    let value = if f.fields.is_empty() {
        Value::String(text.to_string())
    } else {
        let mut fields = f.fields;
        if !text.is_empty() {
            fields.insert("#text".into(), Value::String(text.to_string()));
        }
        Value::Object(fields)
    };
    let Some(parent) = stack.last_mut() else {
        *root = Some((f.name, value));
        return;
    };
    match parent.fields.get_mut(&f.name) {
        Some(Value::Array(items)) => items.push(value),
        Some(existing) => {
            let first = existing.take();
            *existing = Value::Array(vec![first, value]);
        }
        None => {
            parent.fields.insert(f.name, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn elements_attributes_text_and_lists_like_mxj() {
        let text = r#"<?xml version="1.0"?>
<!-- a comment -->
<project xmlns="urn:x" a:b="1">
  <name>demo &amp; co</name>
  <plugins>
    <plugin><artifactId>one</artifactId><version>1</version></plugin>
    <plugin><artifactId>two</artifactId><empty/></plugin>
  </plugins>
  <tag kind="k">text<![CDATA[<raw>]]></tag>
</project>"#;
        assert_eq!(
            parse(text).expect("xml"),
            json!({"project": {
                "-xmlns": "urn:x", "-a:b": "1", "name": "demo & co",
                "plugins": {"plugin": [{"artifactId": "one", "version": "1"}, {"artifactId": "two", "empty": ""}]},
                "tag": {"-kind": "k", "#text": "text<raw>"},
            }})
        );
    }

    #[test]
    fn hostile_xml_is_an_error_not_an_expansion_or_a_panic() {
        let laughs = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<lolz>&lol3;</lolz>"#;
        let e = parse(laughs).expect_err("entities are not expanded");
        assert_eq!(e.line, 7, "{e:?}");
        assert!(e.message.contains("&lol3;"), "{e:?}");
        let deep = "<a>".repeat(100_000);
        let e = parse(&deep).expect_err("too deep");
        assert!(e.message.contains("nested deeper"), "{e:?}");
        let e = parse(
            "<a>
  <b></c>
</a>",
        )
        .expect_err("mismatched");
        assert_eq!(e.line, 2, "{e:?}");
        assert!(parse("").is_err() && parse("<a/><b/>").is_err() && parse("<a>").is_err());
    }
}
