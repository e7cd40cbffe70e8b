//! Kyverno `PolicyException` (kyverno.io/v2): exempts the resources its `match` selects (and its
//! `conditions` accept) from the named rules of the named policies. Rule names also cover the rules
//! auto-generated from them (`autogen-<rule>`, `autogen-cronjob-<rule>`).

use super::conditions;
use super::select::Selection;
use crate::engine::Subject;
use palisade_core::json::JsonPointer;
use serde_json::Value;

#[derive(Debug)]
pub struct Exception {
    pub name: String,
    /// `(policy name, rule names)`.
    pub exceptions: Vec<(String, Vec<String>)>,
    pub match_: Selection,
    pub conditions: Value,
}

impl Exception {
    pub fn compile(doc: &Value) -> Result<Exception, String> {
        let spec = doc.get("spec").cloned().unwrap_or(Value::Null);
        let exceptions = spec
            .get("exceptions")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .map(|e| {
                        let policy = e.get("policyName").and_then(Value::as_str).unwrap_or("").to_string();
                        let rules = e
                            .get("ruleNames")
                            .and_then(Value::as_array)
                            .map(|r| r.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect())
                            .unwrap_or_default();
                        (policy, rules)
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(Exception {
            name: doc.at("/metadata/name").and_then(Value::as_str).unwrap_or("").to_string(),
            exceptions,
            match_: Selection::parse(spec.get("match"), "spec.match")?,
            conditions: spec.get("conditions").cloned().unwrap_or(Value::Null),
        })
    }

    /// Whether this exception names `policy` (plain or `namespace/name`).
    pub fn names_policy(&self, policy: &str) -> bool {
        self.exceptions.iter().any(|(p, _)| p == policy || p.rsplit('/').next() == Some(policy))
    }

    /// Whether the exception exempts `subject` from `rule` of `policy`.
    pub fn exempts(
        &self,
        policy: &str,
        rule: &str,
        subject: &Subject,
        data: &Value,
        roles: &[String],
        cluster_roles: &[String],
    ) -> bool {
        let base =
            rule.strip_prefix("autogen-cronjob-").or_else(|| rule.strip_prefix("autogen-")).unwrap_or(rule);
        let named = self.exceptions.iter().any(|(p, rules)| {
            (p == policy || p.rsplit('/').next() == Some(policy))
                && rules.iter().any(|r| r == rule || r == base)
        });
        named
            && self.match_.matches(subject, None, roles, cluster_roles)
            && conditions::evaluate(&self.conditions, data).unwrap_or(false)
    }
}
