//! Reading a JSON document in which one field has the wrong type (`"User": 5` in an image config,
//! `"version": 5` in one CycloneDX component) without losing the rest of the document.
//!
//! [`from_slice`] first deserializes strictly. When that fails for a reason other than JSON syntax, the
//! document is read as a `serde_json::Value`, the failing field is found with `serde_path_to_error`, removed
//! (the target types give such fields a default) and reported, and deserialization is retried, for at most
//! [`MAX_FIXES`] fields.

use serde::de::DeserializeOwned;
use serde_json::Value;

/// Fields removed from one document at most; past that the document is an error.
pub const MAX_FIXES: usize = 32;

/// Deserialize `bytes`; wrongly typed fields are dropped, each with a message naming its path.
pub fn from_slice<T: DeserializeOwned>(bytes: &[u8]) -> Result<(T, Vec<String>), serde_json::Error> {
    let first = match serde_json::from_slice::<T>(bytes) {
        Ok(v) => return Ok((v, Vec::new())),
        Err(e) => e,
    };
    if first.is_syntax() || first.is_eof() || first.is_io() {
        return Err(first);
    }
    let Ok(mut value) = serde_json::from_slice::<Value>(bytes) else { return Err(first) };
    if !value.is_object() {
        return Err(first);
    }
    let mut notes = Vec::new();
    for _ in 0..MAX_FIXES {
        let err = match serde_path_to_error::deserialize::<_, T>(&value) {
            Ok(v) => return Ok((v, notes)),
            Err(e) => e,
        };
        let path = err.path().to_string();
        if !remove(&mut value, err.path()) {
            return Err(first);
        }
        notes.push(format!("{path}: {}; the field was ignored", err.inner()));
    }
    Err(first)
}

/// Remove the value at `path` (set an array element to null, drop an object member). False when the path
/// does not lead anywhere (nothing can be fixed).
fn remove(value: &mut Value, path: &serde_path_to_error::Path) -> bool {
    use serde_path_to_error::Segment;
    let segments: Vec<&Segment> = path.iter().collect();
    let Some((last, parents)) = segments.split_last() else { return false };
    let mut cur = value;
    for seg in parents {
        cur = match (seg, cur) {
            (Segment::Seq { index }, Value::Array(a)) => match a.get_mut(*index) {
                Some(v) => v,
                None => return false,
            },
            (Segment::Map { key }, Value::Object(o)) => match o.get_mut(key.as_str()) {
                Some(v) => v,
                None => return false,
            },
            _ => return false,
        };
    }
    match (last, cur) {
        (Segment::Map { key }, Value::Object(o)) => o.remove(key.as_str()).is_some(),
        (Segment::Seq { index }, Value::Array(a)) if *index < a.len() => {
            a.remove(*index);
            true
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize, Debug, Default)]
    #[serde(rename_all = "PascalCase")]
    struct Config {
        #[serde(default)]
        user: Option<String>,
        #[serde(default)]
        env: Vec<String>,
    }

    #[derive(Deserialize, Debug)]
    struct Doc {
        #[serde(default)]
        config: Config,
        #[serde(default)]
        items: Vec<Item>,
    }

    #[derive(Deserialize, Debug)]
    struct Item {
        name: String,
        #[serde(default)]
        version: Option<String>,
    }

    #[test]
    fn a_wrongly_typed_field_is_dropped_and_named() {
        let (d, notes) = from_slice::<Doc>(
            br#"{"config": {"User": 5, "Env": ["A=1"]}, "items": [{"name": "a", "version": 5}, {"name": "b", "version": "2"}]}"#,
        )
        .unwrap();
        assert_eq!(d.config.user, None);
        assert_eq!(d.config.env, ["A=1"]);
        assert_eq!(d.items.len(), 2);
        assert_eq!(d.items[1].version.as_deref(), Some("2"));
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(notes[0].starts_with("config.User: "), "{notes:?}");
        assert!(notes[1].starts_with("items[0].version: "), "{notes:?}");
    }

    #[test]
    fn syntax_errors_stay_errors_and_an_element_without_a_required_field_is_dropped() {
        assert!(from_slice::<Doc>(b"{\"config\": ").is_err());
        let (d, notes) = from_slice::<Doc>(br#"{"items": [{"version": "1"}, {"name": "b"}]}"#).unwrap();
        assert_eq!(d.items.len(), 1);
        assert_eq!(d.items[0].name, "b");
        assert!(notes[0].starts_with("items[0]: ") && notes[0].contains("name"), "{notes:?}");
        // Not an object at all where one is needed: no field to drop.
        assert!(from_slice::<Doc>(b"[1, 2]").is_err());
    }
}
