//! Differential test of the Rego engine (regorus) against real OPA, through PyPI
//! `opa-golib-python-bindings` (OPA's Go library in a c-shared object; `tests/opa_eval.py` drives it).
//!
//! Both evaluate `violation` of every gatekeeper-library `library/general` template with Rego (OPA
//! reads the templates after a mechanical v0 → v1 rewrite, as the bindings parse v1 only) on:
//! every gator suite case object (with its parameters and inventory), and every Pod Security Standards
//! fixture Pod (shared data `k8s/psa-testdata.tar.gz`, 4,537 Pods) that the suite's first constraint selects.
//! Every disagreement is printed; the test fails on any disagreement not listed in [`KNOWN`] (each one is
//! explained in docs/policy-conformance.md). Skips with a message when python3 cannot import the bindings.

mod corpus;

use palisade_policy::engine::rego::compat;
use palisade_policy::engine::rego::gatekeeper::{self, review};
use palisade_policy::engine::{Origin, Policy, SourceLocation, Subject};
use regorus::unstable::{Rule, RuleHead};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// Templates where regorus and OPA disagree, with the reason (see docs/policy-conformance.md).
const KNOWN: &[(&str, &str)] = &[];

/// The index of the `]` that closes the `[` at `open` (strings skipped).
fn closing_bracket(text: &str, open: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    if bytes.get(open) != Some(&b'[') {
        return None;
    }
    let (mut depth, mut in_str, mut escaped) = (0usize, false, false);
    for (i, &b) in bytes.iter().enumerate().skip(open) {
        if in_str {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_str = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_str = true,
            b'[' | b'{' | b'(' => depth += 1,
            b']' | b'}' | b')' => {
                depth -= 1;
                if depth == 0 {
                    return (b == b']').then_some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Rewrite a Rego v0 module as v1: `if` before every rule body, `contains` for partial-set heads.
fn v0_to_v1(path: &str, text: &str) -> Result<String, String> {
    // The v0 parser fixes first (regorus must parse multi-body rules for the rewrite below). OPA reads the
    // fixed text; each fix leaves OPA's result unchanged (a `;` between two expressions, one rule per body).
    // Palisade's `sprintf` fix is not applied here: OPA sees the template's own call.
    let fixed = compat::rewrite_v0(text);
    let text = fixed.as_deref().unwrap_or(text);
    let mut engine = regorus::Engine::new();
    engine.set_rego_v0(true);
    engine.add_policy(path.into(), text.into()).map_err(|e| e.to_string())?;
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    for module in engine.get_modules().iter() {
        let mut starts: Vec<usize> = module.policy.iter().map(|r| r.span().start as usize).collect();
        starts.sort();
        for rule in &module.policy {
            let Rule::Spec { head, bodies, span } = rule.as_ref() else { continue };
            // A body's `{` is before the next rule starts.
            let limit = starts.iter().copied().find(|&s| s > span.start as usize).unwrap_or(text.len());
            let mut search_from = match head {
                RuleHead::Set { span, refr, key: Some(_) } => {
                    // regorus's span of the key can be short: find the bracketed key in the text.
                    let start = refr.span().start as usize;
                    let open = refr.span().end as usize;
                    let Some(close) = closing_bracket(text, open) else { continue };
                    let key = &text[open + 1..close];
                    edits.push((start, close + 1, format!("{} contains {key}", refr.span().text())));
                    close.max(span.end as usize)
                }
                RuleHead::Set { span, .. } | RuleHead::Compr { span, .. } | RuleHead::Func { span, .. } => {
                    span.end as usize
                }
            };
            for b in bodies {
                if let Some(a) = &b.assign {
                    search_from = search_from.max(a.value.span().end as usize);
                }
                let Some(at) =
                    text.get(search_from..limit).and_then(|t| t.find('{')).map(|i| i + search_from)
                else {
                    continue;
                };
                edits.push((at, at, "if ".into()));
                search_from = (b.query.span.end as usize).max(at + 1);
            }
        }
    }
    edits.sort_by_key(|e| std::cmp::Reverse(e.0));
    let mut out = text.to_string();
    for (start, end, with) in edits {
        out.replace_range(start..end, &with);
    }
    Ok(out)
}

fn python_has_bindings() -> bool {
    Command::new("python3")
        .args(["-c", "import opa_bindings"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn docs(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap();
    palisade_policy::bundle::load_yaml(&text)
        .into_iter()
        .filter_map(Result::ok)
        .map(|n| n.to_json())
        .collect()
}

fn messages(v: &Value) -> Vec<String> {
    let mut m: Vec<String> = v
        .as_array()
        .into_iter()
        .flatten()
        .map(|i| match &i["msg"] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect();
    m.sort();
    m
}

#[test]
fn regorus_agrees_with_opa_on_gatekeeper_templates() {
    if !python_has_bindings() {
        eprintln!("skipping: python3 cannot import opa_bindings (pip install opa-golib-python-bindings)");
        return;
    }
    let Some(gk) = corpus::unpack("gatekeeper-general.tar.gz") else { return };
    let pods = corpus::unpack_from("k8s", "psa-testdata.tar.gz");
    let mut pod_objects: Vec<(String, Value)> = Vec::new();
    if let Some(root) = &pods {
        let mut stack = vec![root.clone()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap().flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|x| x == "yaml") {
                    for v in docs(&p) {
                        pod_objects.push((p.strip_prefix(root).unwrap().display().to_string(), v));
                    }
                }
            }
        }
        pod_objects.sort_by(|a, b| a.0.cmp(&b.0));
    }
    let mut groups: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    let mut jobs = Vec::new();
    let mut ours: BTreeMap<String, Result<Vec<String>, String>> = BTreeMap::new();
    let mut not_compared: Vec<String> = Vec::new();
    // Per PSS Pod: seconds regorus took for every template whose constraint selects it.
    let mut our_time: BTreeMap<String, f64> = BTreeMap::new();
    let general = gk.join("library/general");
    let mut suites: Vec<_> =
        std::fs::read_dir(&general).unwrap().flatten().map(|e| e.path().join("suite.yaml")).collect();
    suites.sort();
    for suite_path in suites.iter().filter(|p| p.is_file()) {
        let dir = suite_path.parent().unwrap();
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        let suite = docs(suite_path).remove(0);
        let Some(tests) = suite["tests"].as_array() else { continue };
        let tpath = dir.join(tests[0]["template"].as_str().unwrap());
        let tdoc = docs(&tpath).remove(0);
        let mut errors = Vec::new();
        let Some(template) = gatekeeper::compile_template(&tpath, &tdoc, 0, None, &mut errors) else {
            not_compared.push(format!("{name}: regorus does not load it: {errors:?}"));
            continue;
        };
        let rego =
            tdoc.pointer("/spec/targets/0/rego").and_then(Value::as_str).map(str::to_owned).or_else(|| {
                tdoc.pointer("/spec/targets/0/code").and_then(Value::as_array).and_then(|c| {
                    c.iter()
                        .find(|c| c["engine"] == "Rego")
                        .and_then(|c| c.pointer("/source/rego"))
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                })
            });
        let Some(rego) = rego else { continue };
        let libs: Vec<String> = tdoc
            .pointer("/spec/targets/0/libs")
            .and_then(Value::as_array)
            .map(|l| l.iter().filter_map(Value::as_str).map(str::to_owned).collect())
            .unwrap_or_default();
        let mut modules = Vec::new();
        let mut convert_error = None;
        for (i, src) in std::iter::once(rego).chain(libs).enumerate() {
            match v0_to_v1(&format!("{name}-{i}.rego"), &src) {
                Ok(v1) => modules.push((format!("{name}-{i}.rego"), v1)),
                Err(e) => convert_error = Some(e),
            }
        }
        if let Some(e) = convert_error {
            not_compared.push(format!("{name}: v0 -> v1 rewrite failed: {e}"));
            continue;
        }
        groups.insert(name.clone(), modules);
        let query = format!("{}.violation", template.package);
        for (ti, test) in tests.iter().enumerate() {
            let cdoc = docs(&dir.join(test["constraint"].as_str().unwrap())).remove(0);
            let policy = template.constrain(&cdoc, SourceLocation::default());
            let params = cdoc.pointer("/spec/parameters").cloned().unwrap_or(json!({}));
            for case in test["cases"].as_array().into_iter().flatten() {
                let opath = dir.join(case["object"].as_str().unwrap());
                let obj = docs(&opath).remove(0);
                let subject = if obj["kind"] == "AdmissionReview" {
                    Subject::from_admission_request(&obj["request"], Origin::default()).unwrap()
                } else {
                    Subject::object(obj, Origin::default())
                };
                let inv: Vec<Value> = case["inventory"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .flat_map(|p| docs(&dir.join(p.as_str().unwrap())))
                    .collect();
                let data = (!inv.is_empty()).then(|| gatekeeper::inventory(inv.iter()));
                let id = format!("{name}/{ti}/{}", case["name"].as_str().unwrap_or(""));
                let r = policy.violations_with(&subject, &Default::default(), data.as_ref()).map(|mut m| {
                    m.sort();
                    m
                });
                ours.insert(id.clone(), r);
                let input = json!({"review": review(&subject), "parameters": params});
                jobs.push(json!({"id": id, "group": name, "query": query, "input": input, "data": data}));
            }
            if ti > 0 {
                continue;
            }
            for (pod_path, pod) in &pod_objects {
                let subject = Subject::object(pod.clone(), Origin::default());
                if !policy.selects(&subject) {
                    continue;
                }
                let id = format!("{name}/pss/{pod_path}");
                let started = std::time::Instant::now();
                let r = policy.violations(&subject, &Default::default());
                *our_time.entry(pod_path.clone()).or_default() += started.elapsed().as_secs_f64();
                let r = r.map(|mut m| {
                    m.sort();
                    m
                });
                ours.insert(id.clone(), r);
                let input = json!({"review": review(&subject), "parameters": params});
                jobs.push(json!({"id": id, "group": name, "query": query, "input": input}));
            }
        }
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/opa_eval.py");
    let mut child =
        Command::new("python3").arg(&script).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
    let request = json!({"groups": groups, "jobs": jobs});
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(request.to_string().as_bytes()));
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(output.status.success(), "opa_eval.py failed");
    let theirs: Value = serde_json::from_slice(&output.stdout).unwrap();
    let mut disagreements: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut agree = 0;
    for (id, mine) in &ours {
        let t = &theirs[id];
        let opa: Result<Vec<String>, String> = if let Some(e) = t["error"].as_str() {
            Err(e.to_string())
        } else if t["undefined"] == true {
            Ok(Vec::new())
        } else {
            Ok(messages(&t["value"]))
        };
        let same = match (mine, &opa) {
            (Ok(a), Ok(b)) => a == b,
            (Err(_), Err(_)) => true,
            _ => false,
        };
        if same {
            agree += 1;
        } else {
            let template = id.split('/').next().unwrap().to_string();
            disagreements.entry(template).or_default().push(format!("{id}: regorus {mine:?}, OPA {opa:?}"));
        }
    }
    println!(
        "regorus vs OPA: {agree}/{} evaluations agree ({} gatekeeper templates, {} PSS pods)",
        ours.len(),
        groups.len(),
        pod_objects.len()
    );
    for n in &not_compared {
        println!("  not compared: {n}");
    }
    println!("{}", speed_line(&our_time, &theirs["_timing"]));
    let known: BTreeSet<&str> = KNOWN.iter().map(|(t, _)| *t).collect();
    let mut unexpected = Vec::new();
    for (template, list) in &disagreements {
        println!(
            "  {template}: {} disagreements{}",
            list.len(),
            if known.contains(template.as_str()) { " (known)" } else { "" }
        );
        for d in list.iter().take(3) {
            println!("    {d}");
        }
        if !known.contains(template.as_str()) {
            unexpected.push(template.clone());
        }
    }
    assert!(unexpected.is_empty(), "unexplained disagreements in {unexpected:?}");
}

/// `timing: …` — per PSS Pod, the time of every gatekeeper template evaluation that selects it, regorus (as
/// Palisade calls it) against OPA (each call through the bindings, so it includes their JSON marshalling):
/// p50, p99 and the ratio of the totals. `bench/policy.sh` prints this line from a release build.
fn speed_line(ours: &BTreeMap<String, f64>, opa: &Value) -> String {
    let mut theirs: BTreeMap<String, f64> = BTreeMap::new();
    for (id, t) in opa.as_object().into_iter().flatten() {
        if let (Some((_, pod)), Some(t)) = (id.split_once("/pss/"), t.as_f64()) {
            *theirs.entry(pod.to_string()).or_default() += t;
        }
    }
    let stats = |m: &BTreeMap<String, f64>| {
        let mut v: Vec<f64> = m.values().copied().collect();
        v.sort_by(f64::total_cmp);
        let at =
            |q: f64| v.get(((v.len() as f64 * q).ceil() as usize).max(1) - 1).copied().unwrap_or(0.0) * 1e6;
        (at(0.5), at(0.99), v.iter().sum::<f64>())
    };
    let (o50, o99, ot) = stats(ours);
    let (t50, t99, tt) = stats(&theirs);
    format!(
        "timing: gatekeeper general on {} PSS Pods: regorus p50 {o50:.0} µs, p99 {o99:.0} µs, total {ot:.2} s; \
         OPA (bindings) p50 {t50:.0} µs, p99 {t99:.0} µs, total {tt:.2} s; OPA/regorus {:.2}x",
        ours.len(),
        if ot > 0.0 { tt / ot } else { 0.0 }
    )
}

#[test]
fn rewrite_v0_to_v1() {
    let v0 = "package p\nviolation[{\"msg\": m, \"d\": [1]}] { m := \"x\" }\nf(x) = y { y := x } else = z { z := 1 }\nok { true }\n";
    let v1 = v0_to_v1("p.rego", v0).unwrap();
    assert_eq!(
        v1,
        "package p\nviolation contains {\"msg\": m, \"d\": [1]} if { m := \"x\" }\nf(x) = y if { y := x } else = z if { z := 1 }\nok if { true }\n"
    );
    let mut e = regorus::Engine::new();
    e.add_policy("p.rego".into(), v1).unwrap();
}
