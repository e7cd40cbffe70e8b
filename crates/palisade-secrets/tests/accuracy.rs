//! Accuracy on the labelled gitleaks example strings (`/work/shared/data/secrets/gitleaks-examples.jsonl`):
//! recall on true positives and false-positive rate on false positives, per gitleaks rule and per family.
//! Run with `cargo test -p palisade-secrets --test accuracy -- --nocapture` to see the table.
//! Skips (with a message) when the data set is absent.

use palisade_secrets::{Config, Scanner};
use std::collections::BTreeMap;
use std::path::PathBuf;

fn data_file() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/secrets/gitleaks-examples.jsonl")
}

#[derive(Default)]
struct Tally {
    tp: usize,
    tp_found: usize,
    fp: usize,
    fp_flagged: usize,
}

#[test]
fn gitleaks_examples_recall_and_false_positive_rate() {
    let path = data_file();
    let Ok(text) = std::fs::read_to_string(&path) else {
        println!("SKIP: {} not found; accuracy not measured", path.display());
        return;
    };
    let scanner = match Scanner::new(&Config::default()) {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    };
    // Gitleaks reuses one rule's true positives as a sibling rule's negatives (e.g. the Cloudflare API
    // token is a negative of the Cloudflare global key rule). A rule-agnostic scanner is right to flag
    // them, so such negatives are counted apart ("cross-labelled"), not as false positives.
    let tp_texts: std::collections::HashSet<String> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v.get("label").and_then(|x| x.as_str()) == Some("tp"))
        .filter_map(|v| v.get("text").and_then(|x| x.as_str()).map(str::to_string))
        .collect();
    let mut cross_labelled = 0usize;
    let mut per_rule: BTreeMap<String, Tally> = BTreeMap::new();
    let mut misses = Vec::new();
    let mut false_alarms = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let v: serde_json::Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(e) => panic!("line {}: {e}", n + 1),
        };
        let get = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or_default().to_string();
        let (rule, label, origin) = (get("rule"), get("label"), get("origin"));
        let mut sample = get("text");
        if origin == "sample-secret-value" {
            // Gitleaks wraps such values in assignment templates; use one of them.
            sample = format!("{}_token = \"{sample}\"", get("identifier").to_ascii_lowercase());
        }
        let file = match get("path") {
            // Not a name with "example" in it: such files are documentation, where the broad rules do not
            // report (`palisade_secrets::context`).
            p if p.is_empty() => "input.txt".to_string(),
            p => p,
        };
        let found: Vec<String> = scanner
            .scan_bytes(&file, sample.as_bytes())
            .into_iter()
            .filter(|m| m.suppressed.is_none())
            .map(|m| m.rule_id.to_string())
            .collect();
        if label == "fp" && tp_texts.contains(&get("text")) {
            cross_labelled += 1;
            continue;
        }
        let t = per_rule.entry(rule.clone()).or_default();
        if label == "tp" {
            t.tp += 1;
            if found.is_empty() {
                misses.push(format!("{rule}: {}", sample.chars().take(100).collect::<String>()));
            } else {
                t.tp_found += 1;
            }
        } else {
            t.fp += 1;
            if !found.is_empty() {
                t.fp_flagged += 1;
                false_alarms
                    .push(format!("{rule} -> {found:?}: {}", sample.chars().take(100).collect::<String>()));
            }
        }
    }
    let mut families: BTreeMap<String, Tally> = BTreeMap::new();
    for (rule, t) in &per_rule {
        let fam = rule.split('-').next().unwrap_or(rule).to_string();
        let f = families.entry(fam).or_default();
        f.tp += t.tp;
        f.tp_found += t.tp_found;
        f.fp += t.fp;
        f.fp_flagged += t.fp_flagged;
    }
    let pct = |a: usize, b: usize| {
        if b == 0 { "-".to_string() } else { format!("{:.1}%", 100.0 * a as f64 / b as f64) }
    };
    println!(
        "{:<16} {:>5} {:>7} {:>8} {:>5} {:>8} {:>8}",
        "family", "tp", "found", "recall", "fp", "flagged", "fp-rate"
    );
    let mut total = Tally::default();
    for (fam, t) in &families {
        println!(
            "{:<16} {:>5} {:>7} {:>8} {:>5} {:>8} {:>8}",
            fam,
            t.tp,
            t.tp_found,
            pct(t.tp_found, t.tp),
            t.fp,
            t.fp_flagged,
            pct(t.fp_flagged, t.fp)
        );
        total.tp += t.tp;
        total.tp_found += t.tp_found;
        total.fp += t.fp;
        total.fp_flagged += t.fp_flagged;
    }
    println!(
        "{:<16} {:>5} {:>7} {:>8} {:>5} {:>8} {:>8}",
        "TOTAL",
        total.tp,
        total.tp_found,
        pct(total.tp_found, total.tp),
        total.fp,
        total.fp_flagged,
        pct(total.fp_flagged, total.fp)
    );
    println!("negatives that are another rule's true positive (not counted): {cross_labelled}");
    println!("\nmissed true positives ({}):\n  {}", misses.len(), misses.join("\n  "));
    println!("\nflagged false positives ({}):\n  {}", false_alarms.len(), false_alarms.join("\n  "));
    let recall = total.tp_found as f64 / total.tp.max(1) as f64;
    assert!(total.tp > 300, "data set unexpectedly small: {} true positives", total.tp);
    assert!(recall >= 0.98, "recall {:.1}% is below 98%", 100.0 * recall);
}
