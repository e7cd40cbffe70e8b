//! Conditions on the predicate of a verified attestation: `spec.signatures.attestations[].gate` (another
//! Gate of the bundle, judged on what the predicate says) or `.conditions` (Kyverno conditions on the
//! predicate JSON, the same check as Kyverno's `verifyImages[].attestations[].conditions`).
//!
//! ```yaml
//! attestations:
//!   - {type: vuln, maxAge: 7d, gate: no-critical}        # the scan result in the predicate, judged by gate no-critical
//!   - {type: cyclonedx, maxAge: 30d, gate: no-critical}  # the SBOM's packages, matched against the vulnerability DB
//!   - type: https://slsa.dev/provenance/v1
//!     conditions: {all: [{key: "{{ buildDefinition.buildType }}", operator: Equals, value: "https://acme.io/ci@v1"}]}
//! ```
//!
//! What a gate judges, by predicate type:
//! - `vuln` (cosign's vulnerability predicate, as `scan image --attest` writes it): the Palisade scan report
//!   in `scanner.result`, as if that scan had just run;
//! - `cyclonedx` / `spdxjson`: the SBOM's inventory, matched against the vulnerability DB by the matcher the
//!   binary installs ([`set_sbom_matcher`]); without a matcher, or without a usable DB, the attestation fails
//!   (an SBOM nobody matched proves nothing);
//! - any other type takes `conditions` only (a load error otherwise).
//!
//! The referenced gate's own `deny` findings are the failures (its `warn` and `audit` decisions are not); it
//! must not have a `signatures` section itself (so references cannot loop).

use super::Gate;
use crate::engine::{Action, Budget, Outcome, Subject, SubjectKind};
use palisade_signing::statement::predicate_type;
use serde_json::Value;
use std::sync::{Arc, OnceLock, RwLock};

/// Turns an SBOM predicate (CycloneDX or SPDX JSON, named for messages) into a Palisade scan report (JSON)
/// with its vulnerabilities matched.
pub type SbomMatcher = dyn Fn(&Value, &str) -> Result<Value, String> + Send + Sync;

static SBOM_MATCHER: RwLock<Option<Arc<SbomMatcher>>> = RwLock::new(None);

/// Install the SBOM matcher (the binary does, with the vulnerability DB of the command), replacing any.
pub fn set_sbom_matcher(f: Arc<SbomMatcher>) {
    if let Ok(mut m) = SBOM_MATCHER.write() {
        *m = Some(f);
    }
}

/// Most failures listed per attestation before "and N more".
const MAX_LISTED: usize = 5;

/// What the predicate of one attestation entry must pass.
#[derive(Debug)]
pub(super) enum PredicateCheck {
    /// Another gate of the bundle, resolved after every gate compiled.
    Gate { name: String, target: OnceLock<Arc<Gate>> },
    /// Kyverno conditions on the predicate JSON.
    Conditions(Value),
}

/// What the predicate is read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reading {
    ScanResult,
    Sbom,
    Json,
}

fn reading(uri: &str) -> Reading {
    let is = |short: &str| predicate_type(short).is_some_and(|u| u == uri);
    if is("vuln") {
        Reading::ScanResult
    } else if is("cyclonedx") || is("spdxjson") || uri == "https://spdx.dev/Document/v2.3" {
        Reading::Sbom
    } else {
        Reading::Json
    }
}

impl PredicateCheck {
    /// From an entry's `gate` and `conditions` (at most one) for predicate type `uri`; `what` names the
    /// entry in errors.
    pub fn compile(
        gate: Option<&str>,
        conditions: Option<&Value>,
        uri: &str,
        what: &str,
    ) -> Result<Option<Self>, String> {
        match (gate, conditions) {
            (Some(_), Some(_)) => Err(format!("{what}: give gate or conditions, not both")),
            (Some(g), None) => {
                if reading(uri) == Reading::Json {
                    return Err(format!(
                        "{what}.gate: a gate judges scan results and SBOMs (types vuln, cyclonedx, spdxjson), not {uri} predicates: use conditions"
                    ));
                }
                if g.is_empty() {
                    return Err(format!("{what}.gate: empty"));
                }
                Ok(Some(Self::Gate { name: g.to_string(), target: OnceLock::new() }))
            }
            (None, Some(c)) => {
                // A malformed condition list is a load error, not a failure at every admission.
                validate(c).map_err(|e| format!("{what}.conditions: {e}"))?;
                Ok(Some(Self::Conditions(c.clone())))
            }
            (None, None) => Ok(None),
        }
    }

    /// The gate this check names, to be resolved once the bundle's gates are compiled.
    pub fn gate_reference(&self) -> Option<(&str, &OnceLock<Arc<Gate>>)> {
        match self {
            Self::Gate { name, target } => Some((name, target)),
            Self::Conditions(_) => None,
        }
    }

    /// Why the predicate (of type `uri`, verified for `image`) fails: empty when it passes.
    pub fn failures(&self, uri: &str, predicate: &Value, image: &str) -> Vec<String> {
        let mut out = match self {
            Self::Conditions(c) => match crate::engine::kyverno::conditions::failing(c, predicate) {
                Ok(f) => f.into_iter().map(|m| format!("condition {m}")).collect(),
                Err(e) => vec![format!("the conditions cannot be evaluated: {e}")],
            },
            Self::Gate { name, target } => match target.get() {
                None => vec![format!("gate {name:?} is not in the bundle")],
                Some(gate) => match report_of(uri, predicate, image) {
                    Err(e) => vec![format!("gate {name:?} cannot judge it: {e}")],
                    Ok(report) => judge(gate, report),
                },
            },
        };
        if out.len() > MAX_LISTED {
            let more = out.len() - MAX_LISTED;
            out.truncate(MAX_LISTED);
            out.push(format!("and {more} more"));
        }
        let by = match self {
            Self::Conditions(_) => "its conditions".to_string(),
            Self::Gate { name, .. } => format!("gate {name:?}"),
        };
        if out.is_empty() {
            return out;
        }
        vec![format!("the {uri} attestation's predicate fails {by}: {}", out.join("; "))]
    }
}

/// The shape of Kyverno conditions: a list, or `{all: [...], any: [...]}`, of `{key, operator, value}`
/// with a known operator.
fn validate(c: &Value) -> Result<(), String> {
    let lists: Vec<(String, &Value)> = match c {
        Value::Array(_) => vec![(String::new(), c)],
        Value::Object(m) => {
            if let Some(k) = m.keys().find(|k| *k != "all" && *k != "any") {
                return Err(format!("{k}: only all and any are allowed"));
            }
            m.iter().map(|(k, v)| (k.clone(), v)).collect()
        }
        _ => return Err("a list of conditions or {all: [...], any: [...]}".into()),
    };
    for (name, list) in lists {
        let Some(items) = list.as_array() else { return Err(format!("{name}: not a list")) };
        for (i, item) in items.iter().enumerate() {
            if item.get("key").is_none() {
                return Err(format!("{name}[{i}]: no key"));
            }
            let op = item.get("operator").and_then(Value::as_str).unwrap_or("Equals");
            crate::engine::kyverno::conditions::operate(op, &Value::Null, &Value::Null)
                .map_err(|e| format!("{name}[{i}].operator: {e}"))?;
        }
    }
    Ok(())
}

/// The scan report a gate judges for this predicate.
fn report_of(uri: &str, predicate: &Value, image: &str) -> Result<Value, String> {
    match reading(uri) {
        Reading::ScanResult => {
            let result = predicate
                .pointer("/scanner/result")
                .filter(|r| r.get("artifact").is_some())
                .ok_or("the predicate's scanner.result is not a Palisade scan report")?;
            Ok(result.clone())
        }
        Reading::Sbom => match SBOM_MATCHER.read().ok().and_then(|m| m.clone()) {
            Some(m) => m(predicate, &format!("the SBOM attested for {image}")),
            None => Err("no vulnerability matcher in this process to match the SBOM's packages".into()),
        },
        Reading::Json => Err(format!("{uri} predicates are not scan results or SBOMs")),
    }
}

/// The deny decisions of `gate` on `report`, as `rule: message`.
fn judge(gate: &Gate, report: Value) -> Vec<String> {
    let subject = Subject {
        memo: Default::default(),
        kind: SubjectKind::ScanReport,
        value: report,
        origin: Default::default(),
        admission: Default::default(),
    };
    gate.judge(&subject, &subject.value, false, Budget::default().deadline)
        .into_iter()
        .filter(|d| d.action == Action::Deny && matches!(d.outcome, Outcome::Violation | Outcome::Error))
        .map(|d| format!("{}: {}", d.rule, d.message))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn conditions_name_the_failing_condition() {
        let c = json!({"all": [
            {"key": "{{ builder.id }}", "operator": "Equals", "value": "ci"},
            {"key": "{{ length(findings) }}", "operator": "LessThan", "value": 2, "message": "too many findings"}
        ]});
        let check =
            PredicateCheck::compile(None, Some(&c), "https://acme.io/p", "x").expect("ok").expect("some");
        let ok = json!({"builder": {"id": "ci"}, "findings": [1]});
        assert!(check.failures("https://acme.io/p", &ok, "img").is_empty());
        let bad = json!({"builder": {"id": "laptop"}, "findings": [1, 2, 3]});
        let f = check.failures("https://acme.io/p", &bad, "img");
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].contains("fails its conditions"), "{f:?}");
        assert!(f[0].contains("all[0]: {{ builder.id }} Equals ci (key is laptop)"), "{f:?}");
        assert!(
            f[0].contains("all[1]: {{ length(findings) }} LessThan 2 (key is 3): too many findings"),
            "{f:?}"
        );
    }

    #[test]
    fn compile_refuses_gates_on_plain_json_and_bad_conditions() {
        let e = PredicateCheck::compile(Some("g"), None, "https://acme.io/p", "a[0]").expect_err("json");
        assert!(e.contains("a[0].gate: a gate judges scan results"), "{e}");
        let e =
            PredicateCheck::compile(None, Some(&json!("x")), "https://acme.io/p", "a[0]").expect_err("bad");
        assert!(e.starts_with("a[0].conditions:"), "{e}");
        let e = PredicateCheck::compile(Some("g"), Some(&json!([])), "https://cyclonedx.org/bom", "a[0]")
            .expect_err("both");
        assert!(e.contains("not both"), "{e}");
        assert!(
            PredicateCheck::compile(Some("g"), None, "https://cyclonedx.org/bom", "a").expect("ok").is_some()
        );
    }

    #[test]
    fn an_unresolved_gate_and_a_foreign_scan_result_fail_closed() {
        let check =
            PredicateCheck::compile(Some("g"), None, "https://cosign.sigstore.dev/attestation/vuln/v1", "a")
                .expect("ok")
                .expect("some");
        let f = check.failures("https://cosign.sigstore.dev/attestation/vuln/v1", &json!({}), "img");
        assert!(f[0].contains("gate \"g\" is not in the bundle"), "{f:?}");
        assert!(
            report_of(
                "https://cosign.sigstore.dev/attestation/vuln/v1",
                &json!({"scanner": {"result": {}}}),
                "i"
            )
            .is_err()
        );
    }
}
