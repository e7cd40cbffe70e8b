//! OpenVEX (v0.2.0 JSON, also the older v0.0.x shapes) statements that suppress vulnerability findings.
//!
//! A document holds `statements[]`; each names a `vulnerability` (`name` plus `aliases`), the `products` it is
//! about (`@id`, usually a purl, or `identifiers.purl`, each with optional `subcomponents`) and a `status`.
//! A statement covers a finding when one of the vulnerability names equals the finding's id or one of its
//! aliases, and the purl of a product or of a subcomponent covers the finding's purl (see [`crate::purl`]).
//! When several statements cover the same finding, the newest (`last_updated`, else `timestamp` of the
//! statement, else of the document; ties: later in the input) decides, as VEX statements override earlier
//! ones. `not_affected` and `fixed` suppress; `affected` and `under_investigation` do not.
//!
//! A `not_affected` statement without `justification` or `impact_statement` is invalid per the spec; it is
//! reported as a warning and does not suppress anything. Product ids that are not purls (for example an image
//! digest URL) match nothing, so an image-level statement needs `subcomponents` naming the packages.

use crate::PolicyError;
use crate::purl::PurlPattern;
use palisade_core::findings::vuln::VulnFinding;
use serde::Deserialize;
use std::path::Path;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

#[derive(Debug, Deserialize)]
struct RawDoc {
    #[serde(rename = "@id")]
    id: Option<String>,
    timestamp: Option<String>,
    #[serde(default)]
    statements: Option<Vec<RawStatement>>,
}

#[derive(Debug, Deserialize)]
struct RawStatement {
    vulnerability: Option<RawVuln>,
    #[serde(default)]
    products: Vec<RawProduct>,
    status: Option<String>,
    justification: Option<String>,
    impact_statement: Option<String>,
    timestamp: Option<String>,
    last_updated: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawVuln {
    /// v0.0.x: the vulnerability is a plain string.
    Name(String),
    Object {
        #[serde(rename = "@id")]
        id: Option<String>,
        name: Option<String>,
        #[serde(default)]
        aliases: Vec<String>,
    },
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawProduct {
    /// v0.0.x: products are plain purl strings.
    Id(String),
    Object(RawComponent),
}

#[derive(Debug, Deserialize)]
struct RawComponent {
    #[serde(rename = "@id")]
    id: Option<String>,
    #[serde(default)]
    identifiers: Option<RawIdentifiers>,
    #[serde(default)]
    subcomponents: Vec<RawComponent>,
}

#[derive(Debug, Deserialize)]
struct RawIdentifiers {
    purl: Option<String>,
}

/// Impact status of a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    NotAffected,
    Affected,
    Fixed,
    UnderInvestigation,
}

/// One usable statement.
#[derive(Debug, Clone)]
pub(crate) struct Statement {
    names: Vec<String>,
    products: Vec<PurlPattern>,
    status: Status,
    /// The text for `suppressed`.
    reason: String,
    time: Option<OffsetDateTime>,
    /// Position over every statement of every document, for tie breaks.
    order: usize,
}

/// The statements of every VEX document given.
#[derive(Debug, Default)]
pub(crate) struct VexSet {
    statements: Vec<Statement>,
}

fn parse_time(s: Option<&str>, what: &str, warnings: &mut Vec<String>) -> Option<OffsetDateTime> {
    let s = s?;
    match OffsetDateTime::parse(s.trim(), &Rfc3339) {
        Ok(t) => Some(t),
        Err(e) => {
            warnings.push(format!("{what}: timestamp {s:?} is not RFC 3339 ({e}); treated as oldest"));
            None
        }
    }
}

fn add_component(c: &RawComponent, out: &mut Vec<PurlPattern>) {
    let candidates = c.id.iter().chain(c.identifiers.as_ref().and_then(|i| i.purl.as_ref()));
    for cand in candidates {
        if cand.trim_start().starts_with("pkg:")
            && let Ok(p) = PurlPattern::parse(cand)
        {
            out.push(p);
        }
    }
    for sub in &c.subcomponents {
        add_component(sub, out);
    }
}

impl VexSet {
    /// Add one OpenVEX JSON document. Malformed JSON or a wrong shape is an error naming file and line;
    /// unusable statements become warnings.
    pub(crate) fn add_document(
        &mut self,
        path: &Path,
        text: &str,
        warnings: &mut Vec<String>,
    ) -> Result<(), PolicyError> {
        let doc: RawDoc = serde_json::from_str(text).map_err(|e| PolicyError::Syntax {
            path: path.to_path_buf(),
            line: e.line(),
            message: format!("not an OpenVEX document: {e}"),
        })?;
        let Some(statements) = doc.statements else {
            return Err(PolicyError::Syntax {
                path: path.to_path_buf(),
                line: 1,
                message: "not an OpenVEX document: no `statements` array".into(),
            });
        };
        let doc_id = doc.id.clone().unwrap_or_else(|| path.display().to_string());
        let doc_time = parse_time(doc.timestamp.as_deref(), &format!("{}", path.display()), warnings);
        for (i, st) in statements.into_iter().enumerate() {
            let what = format!("{} statement {}", path.display(), i + 1);
            let names: Vec<String> = match &st.vulnerability {
                Some(RawVuln::Name(n)) => vec![n.clone()],
                Some(RawVuln::Object { id, name, aliases }) => {
                    name.iter().chain(aliases.iter()).chain(id.iter()).cloned().collect()
                }
                None => Vec::new(),
            };
            let names: Vec<String> =
                names.into_iter().map(|n| n.trim().to_string()).filter(|n| !n.is_empty()).collect();
            if names.is_empty() {
                warnings.push(format!("{what}: no vulnerability name; statement skipped"));
                continue;
            }
            let status = match st.status.as_deref().map(str::trim) {
                Some("not_affected") => Status::NotAffected,
                Some("affected") => Status::Affected,
                Some("fixed") => Status::Fixed,
                Some("under_investigation") => Status::UnderInvestigation,
                Some(other) => {
                    warnings.push(format!("{what}: unknown status {other:?}; statement skipped"));
                    continue;
                }
                None => {
                    warnings.push(format!("{what}: no status; statement skipped"));
                    continue;
                }
            };
            let justification = st.justification.as_deref().map(str::trim).filter(|s| !s.is_empty());
            let impact = st.impact_statement.as_deref().map(str::trim).filter(|s| !s.is_empty());
            if status == Status::NotAffected && justification.is_none() && impact.is_none() {
                warnings.push(format!(
                    "{what}: not_affected for {} without justification or impact_statement; statement skipped",
                    names.join("/")
                ));
                continue;
            }
            let mut products = Vec::new();
            for p in &st.products {
                match p {
                    RawProduct::Id(id) => {
                        if let Ok(pat) = PurlPattern::parse(id) {
                            products.push(pat);
                        }
                    }
                    RawProduct::Object(c) => add_component(c, &mut products),
                }
            }
            if products.is_empty() {
                warnings
                    .push(format!("{what}: no product or subcomponent is a purl; statement matches nothing"));
            }
            let reason = match status {
                Status::NotAffected => {
                    format!("VEX {doc_id}: not_affected ({})", justification.or(impact).unwrap_or(""))
                }
                Status::Fixed => format!("VEX {doc_id}: fixed"),
                Status::Affected => format!("VEX {doc_id}: affected"),
                Status::UnderInvestigation => format!("VEX {doc_id}: under_investigation"),
            };
            let time = parse_time(st.last_updated.as_deref().or(st.timestamp.as_deref()), &what, warnings)
                .or(doc_time);
            let order = self.statements.len();
            self.statements.push(Statement { names, products, status, reason, time, order });
        }
        Ok(())
    }

    /// The suppression reason for `f`, when the newest statement covering it says not_affected or fixed.
    pub(crate) fn suppression(&self, f: &VulnFinding) -> Option<String> {
        let Ok(purl) = PurlPattern::parse(&f.purl) else {
            return None;
        };
        let newest = self
            .statements
            .iter()
            .filter(|s| {
                s.names.iter().any(|n| {
                    f.id.eq_ignore_ascii_case(n) || f.aliases.iter().any(|a| a.eq_ignore_ascii_case(n))
                })
            })
            .filter(|s| s.products.iter().any(|p| p.covers(&purl)))
            .max_by_key(|s| (s.time, s.order))?;
        matches!(newest.status, Status::NotAffected | Status::Fixed).then(|| newest.reason.clone())
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.statements.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(id: &str, aliases: &[&str], purl: &str) -> VulnFinding {
        let v = serde_json::json!({
            "id": id, "aliases": aliases, "package_name": "p", "package_version": "1", "ecosystem": "npm",
            "purl": purl, "installed_version": "1", "status": "fixed", "severity": "high",
            "matched_by": [], "advisory_sources": [],
        });
        serde_json::from_value(v).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn old_string_shapes_are_accepted() {
        let doc = r#"{"@id": "doc-1", "statements": [
            {"vulnerability": "CVE-2023-1", "products": ["pkg:npm/a@1.0.0"], "status": "not_affected",
             "impact_statement": "only used in tests"}]}"#;
        let mut set = VexSet::default();
        let mut warnings = Vec::new();
        set.add_document(Path::new("v.json"), doc, &mut warnings).unwrap_or_else(|e| panic!("{e}"));
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(
            set.suppression(&finding("CVE-2023-1", &[], "pkg:npm/a@1.0.0")).as_deref(),
            Some("VEX doc-1: not_affected (only used in tests)")
        );
        assert_eq!(set.suppression(&finding("CVE-2023-1", &[], "pkg:npm/a@1.0.1")), None);
        assert_eq!(set.suppression(&finding("CVE-2023-2", &[], "pkg:npm/a@1.0.0")), None);
    }

    #[test]
    fn identifiers_purl_and_doc_timestamp_ordering() {
        let doc = r#"{"timestamp": "2024-01-01T00:00:00Z", "statements": [
            {"vulnerability": {"name": "CVE-1"}, "products": [{"@id": "urn:x", "identifiers": {"purl": "pkg:pypi/b"}}],
             "status": "fixed", "timestamp": "2024-06-01T00:00:00Z"},
            {"vulnerability": {"name": "CVE-1"}, "products": [{"@id": "pkg:pypi/b"}], "status": "under_investigation"}]}"#;
        let mut set = VexSet::default();
        let mut warnings = Vec::new();
        set.add_document(Path::new("v.json"), doc, &mut warnings).unwrap_or_else(|e| panic!("{e}"));
        // The second statement inherits the older document timestamp, so the newer `fixed` wins.
        assert_eq!(
            set.suppression(&finding("CVE-1", &[], "pkg:pypi/b@2.0")).as_deref(),
            Some("VEX v.json: fixed")
        );
    }

    #[test]
    fn missing_fields_warn_and_bad_json_errors() {
        let doc = r#"{"statements": [{"products": ["pkg:npm/a"], "status": "fixed"},
            {"vulnerability": {"name": "CVE-1"}, "products": ["pkg:npm/a"]},
            {"vulnerability": {"name": "CVE-2"}, "products": [{"@id": "sha256:abc"}], "status": "fixed"}]}"#;
        let mut set = VexSet::default();
        let mut warnings = Vec::new();
        set.add_document(Path::new("v.json"), doc, &mut warnings).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(warnings.len(), 3, "{warnings:?}");
        assert!(warnings[0].contains("statement 1") && warnings[1].contains("no status"), "{warnings:?}");
        let err = set.add_document(Path::new("v.json"), "{\"statements\": [\n  1,\n]}", &mut warnings).err();
        let msg = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(msg.starts_with("v.json:2:") || msg.starts_with("v.json:3:"), "{msg}");
        let err = set.add_document(Path::new("v.json"), "{\"@id\": \"x\"}", &mut warnings).err();
        assert!(err.map(|e| e.to_string()).unwrap_or_default().contains("no `statements`"));
    }
}
