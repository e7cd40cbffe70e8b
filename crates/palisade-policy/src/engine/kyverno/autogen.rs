//! Auto-generated rules for Pod controllers, as Kyverno makes them: a rule that matches only `Pod`s also
//! applies to the Pod templates of Deployments, DaemonSets, StatefulSets, Jobs, ReplicaSets and
//! ReplicationControllers (rule `autogen-<name>`) and of CronJobs (`autogen-cronjob-<name>`). The policy
//! annotation `pod-policies.kyverno.io/autogen-controllers` narrows the controllers (`none` disables it).

use super::policy::{PodView, Rule};
use super::select::Selection;
use palisade_core::json::JsonPointer;
use serde_json::Value;

const ANNOTATION: &str = "pod-policies.kyverno.io/autogen-controllers";
const DEFAULT: &[&str] =
    &["DaemonSet", "Deployment", "Job", "StatefulSet", "ReplicaSet", "ReplicationController", "CronJob"];

/// The controllers to generate rules for, from the policy document.
pub fn controllers(policy: &Value) -> Vec<String> {
    match policy.at("/metadata/annotations").and_then(|a| a.get(ANNOTATION)).and_then(Value::as_str) {
        Some("none") => Vec::new(),
        Some(list) => list.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect(),
        None => DEFAULT.iter().map(|s| s.to_string()).collect(),
    }
}

/// Whether a rule selects Pods only (every filter's kinds are exactly `Pod`).
fn pod_only(s: &Selection) -> bool {
    !s.is_empty() && s.filters().all(|f| !f.kinds.is_empty() && f.kind_names().all(|k| k == "Pod"))
}

fn retarget(s: &Selection, kinds: &[String]) -> Selection {
    let mut s = s.clone();
    for f in s.filters_mut() {
        if !f.kinds.is_empty() {
            f.kinds = kinds.to_vec();
        }
    }
    s
}

/// The generated rules for `rule`, if it qualifies.
pub fn generate(rule: &Rule, controllers: &[String]) -> Vec<Rule> {
    if !pod_only(&rule.match_) || (!rule.exclude.is_empty() && !pod_only(&rule.exclude)) {
        return Vec::new();
    }
    let mut out = Vec::new();
    let templated: Vec<String> = controllers.iter().filter(|c| *c != "CronJob").cloned().collect();
    let make = |name: String, kinds: Vec<String>, view: PodView| Rule {
        name,
        match_: retarget(&rule.match_, &kinds),
        exclude: retarget(&rule.exclude, &kinds),
        preconditions: rule.preconditions.clone(),
        cel_preconditions: rule.cel_preconditions.clone(),
        context: rule.context.clone(),
        check: rule.check.clone(),
        message: rule.message.clone(),
        action: rule.action,
        view,
    };
    if !templated.is_empty() {
        out.push(make(format!("autogen-{}", rule.name), templated, PodView::Template));
    }
    if controllers.iter().any(|c| c == "CronJob") {
        out.push(make(format!("autogen-cronjob-{}", rule.name), vec!["CronJob".into()], PodView::CronJob));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Action;
    use crate::engine::kyverno::policy::Check;
    use serde_json::json;
    use std::sync::Arc;

    fn rule(kinds: Value) -> Rule {
        Rule {
            name: "r".into(),
            match_: Selection::parse(Some(&json!({"any": [{"resources": {"kinds": kinds}}]})), "match")
                .unwrap(),
            exclude: Selection::default(),
            preconditions: Value::Null,
            cel_preconditions: None,
            context: Vec::new(),
            check: Arc::new(Check::Deny(Value::Null)),
            message: String::new(),
            action: Action::Deny,
            view: PodView::Object,
        }
    }

    #[test]
    fn pod_rules_get_controller_rules() {
        let all = controllers(&json!({"metadata": {}}));
        let generated = generate(&rule(json!(["Pod"])), &all);
        let names: Vec<&str> = generated.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["autogen-r", "autogen-cronjob-r"]);
        assert_eq!(generated[0].view, PodView::Template);
        assert!(generated[0].match_.filters().all(|f| f.kinds.contains(&"Deployment".to_string())));
        assert_eq!(generated[1].view, PodView::CronJob);
        assert!(generate(&rule(json!(["Pod", "Service"])), &all).is_empty());
        let none = controllers(&json!({"metadata": {"annotations": {ANNOTATION: "none"}}}));
        assert!(generate(&rule(json!(["Pod"])), &none).is_empty());
        let only = controllers(&json!({"metadata": {"annotations": {ANNOTATION: "Deployment"}}}));
        assert_eq!(generate(&rule(json!(["Pod"])), &only).len(), 1);
    }
}
