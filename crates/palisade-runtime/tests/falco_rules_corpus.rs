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

/// What the stable rules and Palisade's let the kernel filter: both open tables (the write table from
/// "Clear Log Activities" and the release_agent rule), DNS answers only for containers ("Contact K8S API
/// Server From Container" is limited to containers).
#[test]
fn stable_rules_give_narrow_kernel_tables() {
    use palisade_runtime::rules::PALISADE_RULES;
    use palisade_runtime::rules::interest::{DnsNeed, OpenClass};
    let Some(dir) = corpus::extract("falco-rules.tar.gz") else { return };
    let stable = std::fs::read_to_string(dir.path().join("falco-rules/rules/falco_rules.yaml")).unwrap();
    let rs = Ruleset::from_sources(&[("falco_rules.yaml", &stable), ("palisade_rules.yaml", PALISADE_RULES)])
        .unwrap();
    let read = rs.open_paths(OpenClass::ReadOnly).expect("a read-only table");
    assert!(read.prefixes.contains("/etc/shadow") && read.suffixes.is_empty(), "{read:?}");
    let write = rs.open_paths(OpenClass::Writing).expect("a write table");
    for p in ["/var/log/", "/dev/log/", "/etc/shadow"] {
        assert!(write.prefixes.contains(p), "{p} not in {write:?}");
    }
    for s in ["/syslog", "/auth.log", "release_agent"] {
        assert!(write.suffixes.contains(s), "{s} not in {write:?}");
    }
    assert!(!write.prefixes.iter().any(|p| "/tmp/x".starts_with(p.as_str())), "{write:?}");
    assert_eq!(rs.dns_names_needed(), DnsNeed::Containers);
    println!(
        "stable + Palisade: {} read-only prefixes; {} write prefixes, {} write suffixes",
        read.prefixes.len(),
        write.prefixes.len(),
        write.suffixes.len()
    );
}
