//! Small helpers for the .NET XML files (`packages.config`, `Directory.Packages.props`): read every element
//! of some names with its attributes.

use crate::ParseError;
use quick_xml::XmlVersion;
use quick_xml::events::Event;
use std::collections::BTreeMap;

/// An element's local name and attributes.
pub type Element = (String, BTreeMap<String, String>);

/// Every element named one of `names` (local name, case-sensitive), in order, with its attributes (names
/// as written). `root` is the required root element. Errors name the byte offset of malformed XML.
pub fn elements(text: &str, root: &str, names: &[&str]) -> Result<Vec<Element>, ParseError> {
    let mut reader = quick_xml::Reader::from_str(text);
    let mut depth = 0usize;
    let mut saw_root = false;
    let mut out = Vec::new();
    loop {
        let event = reader
            .read_event()
            .map_err(|e| ParseError::new(format!("invalid XML at byte {}: {e}", reader.buffer_position())))?;
        let (e, is_start) = match event {
            Event::Start(e) => (e, true),
            Event::Empty(e) => (e, false),
            Event::End(_) => {
                depth = depth.saturating_sub(1);
                continue;
            }
            Event::Eof => break,
            _ => continue,
        };
        let name = e.local_name().as_ref().to_string();
        if depth == 0 {
            if name != root {
                return Err(ParseError::new(format!("root element is <{name}>, not <{root}>")));
            }
            saw_root = true;
        }
        if names.contains(&name.as_str()) {
            let mut attrs = BTreeMap::new();
            for a in e.attributes() {
                let a = a.map_err(|err| ParseError::new(format!("invalid attribute in <{name}>: {err}")))?;
                let value = a
                    .normalized_value(XmlVersion::Implicit1_0)
                    .map_err(|err| ParseError::new(format!("invalid attribute value in <{name}>: {err}")))?;
                attrs.insert(a.key.as_ref().to_string(), value.into_owned());
            }
            out.push((name, attrs));
        }
        if is_start {
            depth += 1;
            if depth > 64 {
                return Err(ParseError::new("elements nested deeper than 64 levels"));
            }
        }
    }
    if !saw_root {
        return Err(ParseError::new(format!("no <{root}> element")));
    }
    Ok(out)
}
