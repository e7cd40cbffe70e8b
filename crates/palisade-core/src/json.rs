//! JSON lookups on the evaluation paths.
//!
//! `serde_json::Value::pointer` unescapes every token with two `str::replace` calls, allocating two strings
//! per path segment. Policy matching looks up `/metadata/name`, `/kind` and the labels of every object for
//! every policy, where those allocations were a measurable share of an admission review
//! (`docs/benchmarks.md`, issue 15). [`JsonPointer::at`] answers the same as `pointer` and allocates only for
//! a token that holds an escape (`~0`, `~1`).

use serde_json::Value;
use std::borrow::Cow;

/// RFC 6901 lookups without allocating per segment.
pub trait JsonPointer {
    /// The value at `pointer` (`""` is the whole value; otherwise it must start with `/`), as
    /// [`Value::pointer`] answers it.
    fn at(&self, pointer: &str) -> Option<&Value>;
}

impl JsonPointer for Value {
    fn at(&self, pointer: &str) -> Option<&Value> {
        if pointer.is_empty() {
            return Some(self);
        }
        let rest = pointer.strip_prefix('/')?;
        rest.split('/').try_fold(self, |target, token| {
            let token: Cow<str> = if token.contains('~') {
                token.replace("~1", "/").replace("~0", "~").into()
            } else {
                token.into()
            };
            match target {
                Value::Object(map) => map.get(token.as_ref()),
                Value::Array(list) => array_index(&token).and_then(|i| list.get(i)),
                _ => None,
            }
        })
    }
}

/// An array index as RFC 6901 writes it: digits, no leading zero, no sign.
fn array_index(token: &str) -> Option<usize> {
    if token.starts_with('+') || (token.starts_with('0') && token.len() > 1) {
        return None;
    }
    token.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn answers_as_serde_json_pointer() {
        let v = json!({
            "metadata": {"name": "web", "labels": {"app.kubernetes.io/name": "x", "a~b": 1}},
            "items": [10, 20, {"k": true}],
            "": {"empty": 2},
        });
        for p in [
            "",
            "/metadata/name",
            "/metadata/labels/app.kubernetes.io~1name",
            "/metadata/labels/a~0b",
            "/items/0",
            "/items/2/k",
            "/items/3",
            "/items/01",
            "/items/+1",
            "/items/-",
            "/missing",
            "/metadata/name/deeper",
            "//empty",
            "/",
            "metadata",
            "/items/1/x",
        ] {
            assert_eq!(v.at(p), v.pointer(p), "{p}");
        }
    }
}
