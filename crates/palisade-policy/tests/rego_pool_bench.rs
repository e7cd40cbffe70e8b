//! Measurement behind `EnginePool` (run with `--run-ignored only --no-capture`): evaluating a compiled
//! Gatekeeper template on the PSS fixture Pods by cloning the compiled prototype engine for every evaluation,
//! against reusing one engine (what the pool does per thread).

mod corpus;

use std::time::Instant;

/// The first document of a YAML file, as JSON.
fn doc(p: &std::path::Path) -> serde_json::Value {
    palisade_policy::bundle::load_yaml(&std::fs::read_to_string(p).unwrap()).remove(0).unwrap().to_json()
}

/// Every `*.yaml` object under `dir` (the PSS fixture Pods).
fn yaml_objects(dir: std::path::PathBuf) -> Vec<serde_json::Value> {
    let mut objects = Vec::new();
    let mut stack = vec![dir];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "yaml") {
                objects.push(doc(&p));
            }
        }
    }
    objects
}

#[test]
#[ignore = "measurement; prints timings"]
fn clone_per_evaluation_against_reuse() {
    let Some(gk) = corpus::unpack("gatekeeper-general.tar.gz") else { return };
    let Some(pods) = corpus::unpack_from("k8s", "psa-testdata.tar.gz") else { return };
    let tpl = std::fs::read_to_string(gk.join("library/general/allowedrepos/template.yaml")).unwrap();
    let tdoc = palisade_policy::bundle::load_yaml(&tpl).remove(0).unwrap().to_json();
    let rego = tdoc.pointer("/spec/targets/0/rego").unwrap().as_str().unwrap();
    let mut proto = regorus::Engine::new();
    proto.set_rego_v0(true);
    proto.add_policy("t.rego".into(), rego.into()).unwrap();
    let mut inputs = Vec::new();
    for v in yaml_objects(pods) {
        let input =
            serde_json::json!({"review": {"object": v}, "parameters": {"repos": ["registry.k8s.io/"]}});
        inputs.push(regorus::Value::from(input));
    }
    // Warm up: the first evaluation prepares the engine.
    proto.set_input(inputs[0].clone());
    proto.eval_rule("data.k8sallowedrepos.violation".into()).unwrap();
    let t = Instant::now();
    for i in &inputs {
        let mut e = proto.clone();
        e.set_input(i.clone());
        e.eval_rule("data.k8sallowedrepos.violation".into()).unwrap();
    }
    let clone = t.elapsed();
    let mut e = proto.clone();
    let t = Instant::now();
    for i in &inputs {
        e.set_input(i.clone());
        e.eval_rule("data.k8sallowedrepos.violation".into()).unwrap();
    }
    let reuse = t.elapsed();
    let n = inputs.len() as u32;
    println!("{n} pods: clone per evaluation {:?}/eval, reused engine {:?}/eval", clone / n, reuse / n);
}

/// Per-object latency of every `library/general` template (first sample constraint each, only those whose
/// match selects the object) on the PSS fixture Pods, one thread.
#[test]
#[ignore = "measurement; prints timings"]
fn per_object_latency_of_the_gatekeeper_general_bundle() {
    use palisade_policy::engine::{Budget, Origin, Policy, SourceLocation, Subject};
    let Some(gk) = corpus::unpack("gatekeeper-general.tar.gz") else { return };
    let Some(pods) = corpus::unpack_from("k8s", "psa-testdata.tar.gz") else { return };
    let started = Instant::now();
    let mut policies = Vec::new();
    let general = gk.join("library/general");
    for e in std::fs::read_dir(&general).unwrap().flatten() {
        let suite = e.path().join("suite.yaml");
        if !suite.is_file() {
            continue;
        }
        let s = doc(&suite);
        let t = &s["tests"][0];
        let mut errors = Vec::new();
        let tpath = e.path().join(t["template"].as_str().unwrap());
        let Some(template) = palisade_policy::engine::rego::gatekeeper::compile_template(
            &tpath,
            &doc(&tpath),
            0,
            None,
            &mut errors,
        ) else {
            continue;
        };
        let c = doc(&e.path().join(t["constraint"].as_str().unwrap()));
        policies.push(template.constrain(&c, SourceLocation::default()));
    }
    let compile = started.elapsed();
    let mut subjects = Vec::new();
    subjects.extend(yaml_objects(pods).into_iter().map(|o| Subject::object(o, Origin::default())));
    let budget = Budget::default();
    let mut times = Vec::with_capacity(subjects.len());
    let all = Instant::now();
    for s in &subjects {
        let t = Instant::now();
        for p in policies.iter().filter(|p| p.selects(s)) {
            std::hint::black_box(p.evaluate(s, &budget));
        }
        times.push(t.elapsed());
    }
    let total = all.elapsed();
    times.sort();
    let pct = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
    println!(
        "{} templates compiled in {compile:?}; {} pods: p50 {:?}, p99 {:?}, {:.0} objects/s on one thread",
        policies.len(),
        subjects.len(),
        pct(0.5),
        pct(0.99),
        subjects.len() as f64 / total.as_secs_f64()
    );
}

/// Probe: the RVM (regorus' bytecode VM) against the interpreter on every `library/general` template and
/// the PSS fixture Pods: same results? how fast?
#[test]
#[ignore = "measurement; prints timings"]
fn rvm_against_interpreter() {
    use regorus::languages::rego::compiler::Compiler;
    use regorus::rvm::vm::RegoVM;
    let Some(gk) = corpus::unpack("gatekeeper-general.tar.gz") else { return };
    let Some(pods) = corpus::unpack_from("k8s", "psa-testdata.tar.gz") else { return };
    let objects = yaml_objects(pods);
    let (mut ti, mut tv, mut agree, mut differ, mut failed) = (0.0, 0.0, 0, 0, 0);
    for e in std::fs::read_dir(gk.join("library/general")).unwrap().flatten() {
        let suite = e.path().join("suite.yaml");
        if !suite.is_file() {
            continue;
        }
        let s = doc(&suite);
        let t = &s["tests"][0];
        let tdoc = doc(&e.path().join(t["template"].as_str().unwrap()));
        let Some(rego) = tdoc.pointer("/spec/targets/0/rego").and_then(|v| v.as_str()) else { continue };
        let c = doc(&e.path().join(t["constraint"].as_str().unwrap()));
        let params = c.pointer("/spec/parameters").cloned().unwrap_or(serde_json::json!({}));
        let pkg = rego.lines().find_map(|l| l.trim().strip_prefix("package ")).unwrap().trim().to_string();
        let mut engine = regorus::Engine::new();
        engine.set_rego_v0(true);
        if let Err(e) = engine.add_policy("t.rego".into(), rego.into()) {
            println!("{pkg}: skipped, does not load as written: {e}");
            continue;
        }
        for (i, lib) in
            tdoc.pointer("/spec/targets/0/libs").and_then(|v| v.as_array()).into_iter().flatten().enumerate()
        {
            engine.add_policy(format!("lib{i}.rego"), lib.as_str().unwrap().into()).unwrap();
        }
        let entry = format!("data.{pkg}.violation");
        let program = engine
            .compile_with_entrypoint(&entry.as_str().into())
            .map_err(|e| e.to_string())
            .and_then(|cp| Compiler::compile_from_policy(&cp, &[entry.as_str()]).map_err(|e| e.to_string()));
        let program = match program {
            Ok(p) => p,
            Err(err) => {
                failed += 1;
                println!("{pkg}: RVM compile failed: {err}");
                continue;
            }
        };
        let mut vm = RegoVM::new();
        vm.load_program(program);
        let inputs: Vec<regorus::Value> = objects
            .iter()
            .map(|o| {
                regorus::Value::from(
                    serde_json::json!({"review": {"object": o, "operation": "CREATE"}, "parameters": params}),
                )
            })
            .collect();
        let t0 = Instant::now();
        let a: Vec<_> = inputs
            .iter()
            .map(|i| {
                engine.set_input(i.clone());
                engine.eval_rule(entry.clone()).map_err(|e| e.to_string())
            })
            .collect();
        let d_i = t0.elapsed().as_secs_f64();
        let t0 = Instant::now();
        let b: Vec<_> = inputs
            .iter()
            .map(|i| {
                vm.set_input(i.clone());
                vm.execute().map_err(|e| e.to_string())
            })
            .collect();
        let d_v = t0.elapsed().as_secs_f64();
        ti += d_i;
        tv += d_v;
        let (mut ok, mut bad) = (0, 0);
        for (x, y) in a.iter().zip(&b) {
            let same = match (x, y) {
                (Ok(x), Ok(y)) => {
                    x == y
                        || (*x == regorus::Value::Undefined
                            && y.as_set().map(|s| s.is_empty()).unwrap_or(false))
                }
                _ => false,
            };
            if same {
                ok += 1
            } else {
                if bad == 0 {
                    println!("{pkg}: first difference: interp {x:?} rvm {y:?}");
                }
                bad += 1
            }
        }
        agree += ok;
        differ += bad;
        println!(
            "{pkg}: interp {:.1} µs, rvm {:.1} µs per pod, {ok} agree, {bad} differ",
            d_i * 1e6 / inputs.len() as f64,
            d_v * 1e6 / inputs.len() as f64
        );
    }
    println!(
        "total: interp {ti:.3} s, rvm {tv:.3} s; {agree} agree, {differ} differ, {failed} failed to compile"
    );
}
