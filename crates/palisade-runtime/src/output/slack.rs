//! The Slack-compatible webhook body of an alert (Slack incoming webhooks; Mattermost and Rocket.Chat
//! accept the same shape): `text` is the alert's output line, one attachment coloured by priority lists
//! the rule, priority, host and the output fields.

use super::Alert;
use crate::rules::Priority;
use serde_json::json;

fn color(priority: &str) -> &'static str {
    match Priority::parse(priority) {
        Some(Priority::Emergency | Priority::Alert | Priority::Critical | Priority::Error) => "#d40000",
        Some(Priority::Warning) => "#f2a900",
        Some(Priority::Notice) => "#2f80ed",
        _ => "#8c8c8c",
    }
}

/// The JSON body for a Slack-compatible webhook.
pub fn payload(alert: &Alert) -> String {
    let mut fields = vec![
        json!({"title": "rule", "value": alert.rule, "short": true}),
        json!({"title": "priority", "value": alert.priority, "short": true}),
        json!({"title": "hostname", "value": alert.hostname, "short": true}),
        json!({"title": "time", "value": alert.time, "short": true}),
    ];
    for (k, v) in &alert.output_fields {
        let value = match v {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        fields.push(json!({"title": k, "value": value, "short": value.len() < 40}));
    }
    json!({
        "text": alert.output,
        "attachments": [{
            "fallback": alert.output,
            "color": color(&alert.priority),
            "fields": fields,
        }],
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn slack_body_has_text_and_coloured_fields() {
        let alert = Alert {
            time: "2026-12-06T00:00:00.000000000Z".into(),
            rule: "DLP card".into(),
            priority: "Critical".into(),
            output: "00:00:00.000000000: Critical card in flow".into(),
            output_fields: BTreeMap::from([(
                "workload".into(),
                serde_json::Value::String("shop/web".into()),
            )]),
            tags: vec![],
            hostname: "node-1".into(),
            source: "network".into(),
        };
        let v: serde_json::Value = serde_json::from_str(&payload(&alert)).unwrap();
        assert_eq!(v["text"], "00:00:00.000000000: Critical card in flow");
        assert_eq!(v["attachments"][0]["color"], "#d40000");
        assert_eq!(v["attachments"][0]["fields"][4]["value"], "shop/web");
    }
}
