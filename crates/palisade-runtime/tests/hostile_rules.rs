//! Malformed input never panics: every prefix of every condition in the libsinsp corpus and of the rules
//! files in the fixtures, byte-flipped variants, deep nesting and binary garbage all end in a value or an
//! error naming the file.

mod corpus;

use palisade_runtime::rules::{Ruleset, parser};

fn prefixes(s: &str) -> impl Iterator<Item = &str> {
    (0..=s.len()).filter(|i| s.is_char_boundary(*i)).map(move |i| &s[..i])
}

#[test]
fn condition_prefixes_and_mutations_never_panic() {
    let mut conditions: Vec<String> = vec![
        "evt.type in (open, openat) and proc.aname[2] startswith oneof (sh, 'a b') and not fd.name pmatch (/etc)".into(),
        "join(\"-\", (tolower(fd.name), val(proc.name))) = x or len(proc.args) > 3".into(),
        "((((((((((a))))))))))".into(),
        "évt.type = ü and proc.name = \"ünïcödé\"".into(),
    ];
    if let Some(dir) = corpus::extract("falco-libs-filter-tests.tar.gz") {
        for l in corpus::labels(&dir.path().join("falco-libs-filter-tests/labels.jsonl")) {
            if let Some(c) = l["condition"].as_str() {
                conditions.push(c.to_string());
            }
        }
    }
    let mut parsed = 0usize;
    for c in &conditions {
        for p in prefixes(c) {
            parsed += usize::from(parser::parse(p).is_ok());
            // Each prefix also as a rule condition: the whole pipeline (expand, compile) must not panic.
            let rules = format!(
                "- rule: r\n  desc: d\n  condition: {}\n  output: o %proc.name\n  priority: INFO\n",
                serde_json::to_string(p).unwrap_or_default()
            );
            let _ = Ruleset::from_sources(&[("prefix.yaml", &rules)]);
        }
        let mut bytes = c.clone().into_bytes();
        for i in 0..bytes.len() {
            let orig = bytes[i];
            for b in [b'(', b')', b'"', b'\'', b'[', b']', b'\\', b' ', b','] {
                bytes[i] = b;
                if let Ok(s) = std::str::from_utf8(&bytes) {
                    let _ = parser::parse(s);
                }
            }
            bytes[i] = orig;
        }
    }
    println!("{} conditions, {parsed} prefixes parsed", conditions.len());
    let deep = format!("{}a{}", "(".repeat(100_000), ")".repeat(100_000));
    assert!(parser::parse(&deep).unwrap_err().message.contains("exceeded max depth limit of 100"));
}

#[test]
fn rules_file_prefixes_and_garbage_never_panic() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    for f in ["demo_rules.yaml", "broken_rules.yaml"] {
        let text = std::fs::read_to_string(dir.join(f)).unwrap_or_default();
        for p in prefixes(&text) {
            if let Err(e) = Ruleset::from_sources(&[(f, p)]) {
                assert!(e.errors.iter().all(|m| m.file == f), "{e}");
            }
        }
    }
    let garbage: Vec<&str> = vec![
        "",
        "\u{0}\u{1}\u{2}",
        "rule: not a list",
        "- 42",
        "- [a, b]",
        "- rule: x\n  condition: [1, 2]\n  output: {a: b}\n  desc: d\n  priority: INFO",
        "- list: l\n  items: {a: b}",
        "- macro: m\n  condition: m\n- rule: r\n  desc: d\n  condition: m\n  output: o\n  priority: INFO",
        "- rule: r\n  desc: d\n  condition: evt.type = open\n  output: o\n  priority: INFO\n  exceptions: [{name: e, fields: [proc.name, fd.name], values: [[a]]}]",
        "- rule: r\n  desc: d\n  condition: evt.type = open\n  output: o\n  priority: INFO\n  exceptions: [{name: e, fields: [proc.name], comps: [in], values: [[[a, b]]]}]",
        "- required_engine_version: [1]\n- required_plugin_versions: {a: b}",
        "- rule: r\n  override: 5",
    ];
    for g in garbage {
        match Ruleset::from_sources(&[("garbage.yaml", g)]) {
            Ok(_) => {}
            Err(e) => {
                assert!(e.errors.iter().all(|m| m.file == "garbage.yaml" && !m.message.is_empty()), "{e}")
            }
        }
    }
    // A macro that refers to itself is an error, not a stack overflow.
    let e = Ruleset::from_sources(&[(
        "cycle.yaml",
        "- macro: m\n  condition: m\n- rule: r\n  desc: d\n  condition: m\n  output: o\n  priority: INFO",
    )])
    .err();
    assert!(e.is_some_and(|e| e.errors.iter().any(|m| m.message.contains("refers to itself"))));
}
