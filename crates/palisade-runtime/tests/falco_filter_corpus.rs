//! Conformance on libsinsp's filter parser and compiler tests (`falco-libs-filter-tests.tar.gz`):
//! `parse` (accept/reject, with the re-parse variants upstream runs), `compile` (field and operator
//! checks against the real field set, or with the mock `c.*` fields) and `eval_mock` (boolean
//! precedence and string escapes). Prints pass counts per type and every miss; requires ≥ 95% for
//! parse and for compile.

mod corpus;

use palisade_runtime::event::{Event, EventKind, Process};
use palisade_runtime::rules::compile::{self, Scope};
use palisade_runtime::rules::fields::{Ctx, FieldDef, FieldType, Val};
use palisade_runtime::rules::parser;
use std::borrow::Cow;

/// The mock field set of libsinsp's compiler tests.
fn mock_fields() -> Vec<FieldDef> {
    vec![
        FieldDef {
            name: "c.true",
            ty: FieldType::Str,
            arg: palisade_runtime::rules::fields::ArgKind::None,
            extract: |_, _| Some(Val::Str(Cow::Borrowed("1"))),
        },
        FieldDef {
            name: "c.false",
            ty: FieldType::Str,
            arg: palisade_runtime::rules::fields::ArgKind::None,
            extract: |_, _| Some(Val::Str(Cow::Borrowed("0"))),
        },
        FieldDef {
            name: "c.buffer",
            ty: FieldType::Bytes,
            arg: palisade_runtime::rules::fields::ArgKind::None,
            extract: |_, _| None,
        },
        FieldDef {
            name: "c.singlequote",
            ty: FieldType::Str,
            arg: palisade_runtime::rules::fields::ArgKind::None,
            extract: |_, _| Some(Val::Str(Cow::Borrowed("hello 'quoted'"))),
        },
        FieldDef {
            name: "c.doublequote",
            ty: FieldType::Str,
            arg: palisade_runtime::rules::fields::ArgKind::None,
            extract: |_, _| Some(Val::Str(Cow::Borrowed("hello \"quoted\""))),
        },
    ]
}

fn compile_case(cond: &str, mock: &[FieldDef]) -> Result<(compile::Filter, usize), String> {
    let e = parser::parse(cond).map_err(|e| e.to_string())?;
    let scope = Scope { extra_fields: mock, ..Scope::default() };
    let e = compile::expand(&e, &scope)?;
    let mut warnings = Vec::new();
    let f = compile::compile(&e, &scope, &mut warnings)?;
    Ok((f, warnings.len()))
}

#[test]
fn libsinsp_filter_cases() {
    let Some(dir) = corpus::extract("falco-libs-filter-tests.tar.gz") else { return };
    let labels = corpus::labels(&dir.path().join("falco-libs-filter-tests/labels.jsonl"));
    let mock = mock_fields();
    let event = Event {
        time_ns: 1,
        kind: EventKind::Other { syscall: "getpid".into() },
        result: Some(0),
        process: Process::default(),
        ancestors: vec![],
        container: None,
    };
    let ctx = Ctx::new(&event, "test");
    let mut stats: std::collections::BTreeMap<&str, (usize, usize)> = Default::default();
    let mut misses = Vec::new();
    for l in &labels {
        let ty = l["type"].as_str().unwrap_or("");
        let cond = l["condition"].as_str().unwrap_or("");
        let expect = l["expect"].as_str().map(str::to_string).unwrap_or_else(|| l["expect"].to_string());
        let verdict: Result<(), String> = match ty {
            "parse" => {
                let r = parser::parse(cond);
                match (expect.as_str(), r) {
                    ("accept", Ok(_)) => {
                        if l["note"].is_null() {
                            let variants =
                                [format!(" {cond} "), cond.replace(' ', "\n"), cond.replace(' ', "\t")];
                            match variants.iter().find(|v| parser::parse(v).is_err()) {
                                Some(v) => Err(format!("variant {v:?} rejected")),
                                None => Ok(()),
                            }
                        } else {
                            Ok(())
                        }
                    }
                    ("reject", Err(e)) => match l["error"].as_str() {
                        Some(want) if want != e.message => {
                            Err(format!("error {:?}, want {want:?}", e.message))
                        }
                        _ => Ok(()),
                    },
                    ("accept", Err(e)) => Err(format!("rejected: {e}")),
                    (_, Ok(_)) => Err("accepted".into()),
                    (_, Err(e)) => Err(format!("unexpected: {e}")),
                }
            }
            "compile" => {
                let fields: &[FieldDef] =
                    if l["factory"].as_str().is_some_and(|f| f.starts_with("mock")) { &mock } else { &[] };
                match (expect.as_str(), compile_case(cond, fields)) {
                    ("accept", Ok((_, w))) => match l["warnings"].as_u64() {
                        Some(want) if want as usize != w => Err(format!("{w} warnings, want {want}")),
                        _ => Ok(()),
                    },
                    ("reject", Err(_)) => Ok(()),
                    ("accept", Err(e)) => Err(format!("rejected: {e}")),
                    (_, Ok(_)) => Err("accepted".into()),
                    (_, Err(e)) => Err(format!("unexpected: {e}")),
                }
            }
            "eval_mock" => match compile_case(cond, &mock) {
                Ok((f, _)) => {
                    let got = f.eval(&ctx);
                    if got.to_string() == expect {
                        Ok(())
                    } else {
                        Err(format!("evaluated {got}, want {expect}"))
                    }
                }
                Err(e) => Err(format!("did not compile: {e}")),
            },
            _ => continue,
        };
        let s = stats
            .entry(match ty {
                "parse" => "parse",
                "compile" => "compile",
                _ => "eval_mock",
            })
            .or_default();
        s.1 += 1;
        match verdict {
            Ok(()) => s.0 += 1,
            Err(m) => misses.push(format!("{ty} {expect} {cond:?}: {m}")),
        }
    }
    for (ty, (pass, total)) in &stats {
        println!("falco-libs-filter-tests {ty}: {pass}/{total} pass");
    }
    for m in &misses {
        println!("  MISS {m}");
    }
    for ty in ["parse", "compile"] {
        let (pass, total) = stats.get(ty).copied().unwrap_or((0, 0));
        assert!(total > 0 && pass * 100 >= total * 95, "{ty} conformance below 95%: {pass}/{total}");
    }
}
