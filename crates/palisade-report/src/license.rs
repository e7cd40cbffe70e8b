//! Licence strings from package metadata, sorted into what SBOM formats can carry.
//!
//! Package metadata holds anything: SPDX ids (`MIT`), SPDX expressions (`MIT OR Apache-2.0`), licence names
//! (`Apache License, Version 2.0`), URLs. SBOMs want SPDX ids or expressions where possible and free text
//! otherwise; [`classify`] decides which, with the `spdx` crate's licence list (strict syntax, deprecated ids
//! allowed since SPDX 2.3 and CycloneDX 1.6 both still list them). A string that is not SPDX is first
//! normalised by `palisade-license` (`Apache License 2.0` → `Apache-2.0`, `GPLv2+` → `GPL-2.0-or-later`);
//! only what that cannot read stays free text.

use spdx::{AdditionItem, Expression, LicenseItem, ParseMode};

/// One licence string, classified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum License {
    /// Exactly one SPDX licence id from the licence list, e.g. `MIT`.
    Id(String),
    /// A valid SPDX expression that is not a single listed id, e.g. `MIT OR Apache-2.0`,
    /// `LicenseRef-custom`. `refs` lists the `LicenseRef-...` ids it uses.
    Expression { text: String, refs: Vec<String> },
    /// Anything else: kept as free text.
    Name(String),
}

const MODE: ParseMode = ParseMode {
    allow_slash_as_or_operator: false,
    allow_imprecise_license_names: false,
    allow_postfix_plus_on_gpl: false,
    allow_deprecated: true,
    allow_unknown: false,
};

/// Classify one licence string; `None` for an empty one and for `NOASSERTION` / `NONE` (SPDX's words for
/// "not stated" and "no licence", which are not licences: an SBOM says NOASSERTION itself when nothing else
/// is declared).
pub(crate) fn classify(raw: &str) -> Option<License> {
    let s = raw.trim();
    if !s.is_empty() && Expression::parse_mode(s, MODE).is_err() {
        let normalised = palisade_license::normalize(s).and_then(|n| n.expression);
        if let Some(e) = normalised.filter(|e| Expression::parse_mode(e, MODE).is_ok()) {
            return classify_spdx(&e);
        }
    }
    classify_spdx(s)
}

fn classify_spdx(s: &str) -> Option<License> {
    if s.is_empty() || s.eq_ignore_ascii_case("NOASSERTION") || s.eq_ignore_ascii_case("NONE") {
        return None;
    }
    if let Some(id) = spdx::license_id(s).filter(|id| id.name == s) {
        return Some(License::Id(id.name.to_string()));
    }
    let Ok(expr) = Expression::parse_mode(s, MODE) else {
        return Some(License::Name(s.to_string()));
    };
    let mut refs = Vec::new();
    for r in expr.requirements() {
        if matches!(r.req.addition, Some(AdditionItem::Other(_))) {
            // `AdditionRef-` is SPDX 3 only.
            return Some(License::Name(s.to_string()));
        }
        if let LicenseItem::Other(lr) = &r.req.license {
            if lr.doc_ref.is_some() {
                // A reference into another SPDX document cannot be resolved from this one.
                return Some(License::Name(s.to_string()));
            }
            let id = format!("LicenseRef-{}", lr.lic_ref);
            if !refs.contains(&id) {
                refs.push(id);
            }
        }
    }
    Some(License::Expression { text: s.to_string(), refs })
}

/// True when CycloneDX 1.6 accepts `id` as `license.id` (its schema lists the SPDX licence list of 2024;
/// newer ids are valid SPDX but not schema-valid there).
pub(crate) fn is_cyclonedx_id(id: &str) -> bool {
    crate::cyclonedx_license_ids::IDS.binary_search(&id).is_ok()
}

/// True when `text` needs parentheses to be combined with `AND`.
pub(crate) fn is_compound(text: &str) -> bool {
    text.contains(' ')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_expressions_and_names() {
        assert_eq!(classify("MIT"), Some(License::Id("MIT".into())));
        assert_eq!(classify(" Apache-2.0 "), Some(License::Id("Apache-2.0".into())));
        // Deprecated but listed.
        assert_eq!(classify("GPL-2.0"), Some(License::Id("GPL-2.0".into())));
        assert_eq!(
            classify("MIT OR Apache-2.0"),
            Some(License::Expression { text: "MIT OR Apache-2.0".into(), refs: vec![] })
        );
        assert_eq!(
            classify("LicenseRef-acme AND MIT"),
            Some(License::Expression {
                text: "LicenseRef-acme AND MIT".into(),
                refs: vec!["LicenseRef-acme".into()]
            })
        );
        // `+` (or later) is valid SPDX syntax.
        assert!(matches!(classify("MIT+"), Some(License::Expression { .. })));
        assert_eq!(classify(""), None);
        assert_eq!(classify("NOASSERTION"), None);
        assert_eq!(classify(" none "), None);
    }

    #[test]
    fn cyclonedx_id_list() {
        assert!(is_cyclonedx_id("MIT") && is_cyclonedx_id("GPL-2.0") && is_cyclonedx_id("Apache-2.0"));
        // In the SPDX licence list the `spdx` crate carries, not in CycloneDX 1.6's schema.
        assert!(spdx::license_id("CC-PDM-1.0").is_some());
        assert!(!is_cyclonedx_id("CC-PDM-1.0"));
        assert!(!is_cyclonedx_id("mit"));
        let ids = crate::cyclonedx_license_ids::IDS;
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "sorted, no repeats");
    }

    #[test]
    fn cyclonedx_id_list_is_the_schema_enum() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/schemas/spdx.schema.json");
        let schema: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let mut want: Vec<&str> =
            schema["enum"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
        want.sort_unstable();
        assert_eq!(crate::cyclonedx_license_ids::IDS, want.as_slice());
    }

    #[test]
    fn invalid_strings_become_names() {
        for s in ["My Licence v7", "DocumentRef-x:LicenseRef-y", "(MIT"] {
            assert_eq!(classify(s), Some(License::Name(s.into())), "{s}");
        }
    }

    #[test]
    fn names_are_normalised_first() {
        assert_eq!(classify("mit"), Some(License::Id("MIT".into())));
        assert_eq!(classify("Apache License 2.0"), Some(License::Id("Apache-2.0".into())));
        assert_eq!(
            classify("MIT/Apache-2.0"),
            Some(License::Expression { text: "MIT OR Apache-2.0".into(), refs: vec![] })
        );
        assert_eq!(classify("GPLv2+"), Some(License::Id("GPL-2.0-or-later".into())));
    }
}
