//! Conformance on Falco's rule-loader unit tests (`falco-engine-tests.tar.gz`, `type: rule_load` and
//! `type: condition_warning`). Each rule-load case loads one extracted rules file and checks success,
//! error and warning substrings, compiled conditions, `describe_rule` values and enabled-rule counts.
//! Prints the pass count and every miss; requires at least 95% of rule-load cases.

mod corpus;

use palisade_runtime::rules::{Ruleset, lint, parser};
use serde_json::Value;

fn json_at(mut v: &Value, path: &[Value]) -> Option<Value> {
    for (i, p) in path.iter().enumerate() {
        if p.as_str() == Some("size()") && i == path.len() - 1 {
            return v.as_array().map(|a| Value::from(a.len()));
        }
        v = match p {
            Value::String(k) => v.get(k)?,
            Value::Number(n) => v.get(usize::try_from(n.as_u64()?).ok()?)?,
            _ => return None,
        };
    }
    Some(v.clone())
}

fn run_case(label: &Value, root: &std::path::Path) -> Result<(), String> {
    let file = label["rules_file"].as_str().ok_or("no rules_file")?;
    let text = std::fs::read_to_string(root.join("falco-engine-tests").join(file))
        .map_err(|e| format!("{file}: {e}"))?;
    let name = label["load_filename"].as_str().unwrap_or("rules.yaml");
    let result = Ruleset::from_sources(&[(name, &text)]);
    let (errors, warnings): (Vec<String>, Vec<String>) = match &result {
        Ok(rs) => (Vec::new(), rs.warnings.iter().map(|w| w.message.clone()).collect()),
        Err(e) => (
            e.errors.iter().map(|m| m.message.clone()).collect(),
            e.warnings.iter().map(|w| w.message.clone()).collect(),
        ),
    };
    let expect_ok = label["expect_load"] == "ok";
    if expect_ok != result.is_ok() {
        return Err(format!("expected load {}, got errors {errors:?}", label["expect_load"]));
    }
    for s in label["errors_contain"].as_array().into_iter().flatten().filter_map(Value::as_str) {
        if !errors.iter().any(|e| e.contains(s)) {
            return Err(format!("no error contains {s:?}; errors: {errors:?}"));
        }
    }
    for s in label["warnings_contain"].as_array().into_iter().flatten().filter_map(Value::as_str) {
        if !warnings.iter().any(|w| w.contains(s)) {
            return Err(format!("no warning contains {s:?}; warnings: {warnings:?}"));
        }
    }
    for s in label["warnings_absent"].as_array().into_iter().flatten().filter_map(Value::as_str) {
        if warnings.iter().any(|w| w.contains(s)) {
            return Err(format!("a warning contains {s:?}: {warnings:?}"));
        }
    }
    if let Some(h) = label["has_warnings"].as_bool()
        && h == warnings.is_empty()
    {
        return Err(format!("has_warnings {h}, got {warnings:?}"));
    }
    let Ok(rs) = result else { return Ok(()) };
    if let Some(map) = label["compiled_conditions"].as_object() {
        for (rule, want) in map {
            let got = rs.rules().iter().find(|r| &r.name == rule).map(|r| r.compiled_condition.clone());
            if got.as_deref() != want.as_str() {
                return Err(format!("compiled condition of {rule}: want {want}, got {got:?}"));
            }
        }
    }
    for d in label["describe_rule"].as_array().into_iter().flatten() {
        let desc = rs.describe(d["rule_name"].as_str());
        let path = d["path"].as_array().cloned().unwrap_or_default();
        let got = json_at(&desc, &path);
        if got.as_ref() != Some(&d["equals"]) {
            return Err(format!("describe {path:?}: want {}, got {got:?}", d["equals"]));
        }
    }
    for n in label["num_rules"].as_array().into_iter().flatten() {
        let want = n["count"].as_u64().unwrap_or(u64::MAX);
        if rs.enabled_count() as u64 != want {
            return Err(format!("enabled rules: want {want}, got {}", rs.enabled_count()));
        }
    }
    Ok(())
}

#[test]
fn falco_rule_loader_cases() {
    let Some(dir) = corpus::extract("falco-engine-tests.tar.gz") else { return };
    let labels = corpus::labels(&dir.path().join("falco-engine-tests/labels.jsonl"));
    let (mut pass, mut total, mut misses) = (0, 0, Vec::new());
    let (mut wpass, mut wtotal) = (0, 0);
    for l in &labels {
        match l["type"].as_str() {
            Some("rule_load") => {
                total += 1;
                match run_case(l, dir.path()) {
                    Ok(()) => pass += 1,
                    Err(m) => misses.push(format!("{}: {m}", l["test"].as_str().unwrap_or("?"))),
                }
            }
            Some("condition_warning") => {
                wtotal += 1;
                let cond = l["condition"].as_str().unwrap_or("");
                let mut w = Vec::new();
                if let Ok(e) = parser::parse(cond) {
                    lint(&e, &mut w);
                }
                if (l["expect"] == "warning") != w.is_empty() {
                    wpass += 1;
                } else {
                    misses.push(format!(
                        "{} ({cond}): expected {}, got {w:?}",
                        l["test"].as_str().unwrap_or("?"),
                        l["expect"]
                    ));
                }
            }
            _ => {}
        }
    }
    println!("falco-engine-tests rule_load: {pass}/{total} pass");
    println!("falco-engine-tests condition_warning: {wpass}/{wtotal} pass");
    for m in &misses {
        println!("  MISS {m}");
    }
    assert!(total > 0, "no rule_load labels");
    assert!(pass * 100 >= total * 95, "rule_load conformance below 95%: {pass}/{total}");
}
