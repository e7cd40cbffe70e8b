//! Conformance on the official Falco rules (`/work/shared/data/runtime/falco-rules.tar.gz`): the stable
//! ruleset loads with no error and no warning and with the labelled counts; incubating and sandbox
//! results are printed. Skips with a message when the corpus is absent.

mod corpus;

use palisade_runtime::rules::Ruleset;

#[test]
fn official_rulesets_load() {
    let Some(dir) = corpus::extract("falco-rules.tar.gz") else { return };
    let rules_dir = dir.path().join("falco-rules/rules");
    let labels = corpus::labels(&dir.path().join("falco-rules/labels.jsonl"));
    let mut stacked = Vec::new();
    for file in ["falco_rules.yaml", "falco-incubating_rules.yaml", "falco-sandbox_rules.yaml"] {
        let path = rules_dir.join(file);
        stacked.push(path.clone());
        let label = labels.iter().find(|l| l["file"].as_str().is_some_and(|f| f.ends_with(file)));
        match Ruleset::load(&[path]) {
            Ok(rs) => {
                println!(
                    "{file}: loaded, {} rules ({} enabled), {} macros, {} lists, {} warnings",
                    rs.rules().len(),
                    rs.enabled_count(),
                    rs.macros.len(),
                    rs.lists.len(),
                    rs.warnings.len()
                );
                for w in &rs.warnings {
                    println!("  warning: {w}");
                }
                if let Some(l) = label {
                    assert_eq!(
                        rs.rules().len() as u64,
                        l["rules"].as_u64().unwrap_or(0),
                        "{file} rule count"
                    );
                    assert_eq!(
                        rs.enabled_count() as u64,
                        l["rules_enabled"].as_u64().unwrap_or(0),
                        "{file} enabled"
                    );
                    assert_eq!(rs.macros.len() as u64, l["macros"].as_u64().unwrap_or(0), "{file} macros");
                    assert_eq!(rs.lists.len() as u64, l["lists"].as_u64().unwrap_or(0), "{file} lists");
                }
                if file == "falco_rules.yaml" {
                    assert!(rs.warnings.is_empty(), "the stable ruleset must load without warnings");
                }
            }
            Err(e) => {
                println!("{file}: {} errors", e.errors.len());
                for m in &e.errors {
                    println!("  error: {m}");
                }
                assert_ne!(file, "falco_rules.yaml", "the stable ruleset must load: {e}");
            }
        }
    }
    match Ruleset::load(&stacked) {
        Ok(rs) => println!(
            "stable+incubating+sandbox stacked: {} rules, {} enabled",
            rs.rules().len(),
            rs.enabled_count()
        ),
        Err(e) => println!("stable+incubating+sandbox stacked: {} errors", e.errors.len()),
    }
}
