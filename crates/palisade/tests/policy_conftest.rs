//! Conformance: conftest's own acceptance cases (shared data, `policy/conftest-examples.tar.gz`), run with
//! the real binary. Each labelled `conftest test`/`conftest verify` command is translated to
//! `palisade policy eval`/`policy test` on a bundle made of the command's `--policy` files (and `--data`
//! files under `data/`). Every stated outcome is checked: the exit status, the deny/warn messages the output
//! must show, and the failure/warning counts; `--parser` is passed on. Cases Palisade does not run (input
//! formats `palisade_policy::input` does not register, conftest-only flags, network) are counted by reason; the counts are printed, and
//! every runnable case must pass. docs/policy-conformance.md lists the reasons.

#[path = "../../palisade-policy/tests/corpus/mod.rs"]
mod corpus;

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// The text of every `.rego` file a case's policy paths name (relative to the archive root `root`).
fn policy_text(root: &Path, l: &Value) -> String {
    let cwd = root.join(l["cwd"].as_str().unwrap_or("."));
    let mut paths: Vec<std::path::PathBuf> = l["policies"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|p| cwd.join(p))
        .collect();
    if let Some(d) = l["default_policy_dir"].as_str() {
        paths.push(root.join(d));
    }
    let mut text = String::new();
    while let Some(p) = paths.pop() {
        if p.is_dir() {
            paths.extend(std::fs::read_dir(&p).unwrap().flatten().map(|e| e.path()));
        } else if p.extension().is_some_and(|e| e == "rego") {
            text.push_str(&std::fs::read_to_string(&p).unwrap_or_default());
        }
    }
    text
}

/// Why a case is not run, or `None` when it is.
fn unsupported(root: &Path, l: &Value) -> Option<String> {
    let text = policy_text(root, l);
    if text.contains("parse_config_file") || text.contains("parse_combined_config_files") {
        return Some("conftest's file-reading builtins (Palisade evaluates without I/O)".into());
    }
    if l["self_contained"] != true {
        return Some(format!("needs {}", l["needs"]));
    }
    let sub = l["subcommand"].as_str().unwrap_or("");
    if sub != "test" && sub != "verify" {
        return Some(format!("conftest {sub} command"));
    }
    if l["commands"]
        .as_array()
        .is_some_and(|c| c.iter().any(|c| c.as_str().unwrap_or("").contains("bash -c")))
    {
        return Some("shell pipeline".into());
    }
    if let Some(p) = l["parser"].as_str()
        && !matches!(p, "yaml" | "json" | "dockerfile")
        && palisade_policy::input::parser_named(p).is_none()
    {
        return Some(format!("input format {p}"));
    }
    for input in l["inputs"].as_array().into_iter().flatten() {
        let i = input.as_str().unwrap_or("");
        let name = Path::new(i).file_name().and_then(|n| n.to_str()).unwrap_or("").to_ascii_lowercase();
        let ok = i == "-"
            || i.is_empty() // conftest (and policy eval) skip a blank file name
            || root.join(l["cwd"].as_str().unwrap_or(".")).join(i).is_dir()
            || l["parser"].is_string()
            || name.ends_with(".yaml")
            || name.ends_with(".yml")
            || name.ends_with(".json")
            || name == "dockerfile"
            // The other input formats policy eval reads (palisade_policy::input).
            || palisade_policy::input::parser_for_file(&name).is_some();
        if !ok {
            let ext = name.rsplit_once('.').map(|(_, e)| e.to_string()).unwrap_or(name.clone());
            return Some(format!("input format {ext}"));
        }
    }
    for f in l["flags"].as_array().into_iter().flatten() {
        let f = f.as_str().unwrap_or("");
        let known = ["--all-namespaces", "--combine", "--fail-on-warn", "--no-color", "--quiet"];
        if !known.contains(&f) && !f.starts_with("--rego-version") && !f.starts_with("--proto-file-dirs") {
            let flag = f.split([' ', '=']).next().unwrap_or(f);
            return Some(format!("conftest flag {flag}"));
        }
    }
    if l["config_file"].is_string() {
        return Some("conftest.toml".into());
    }
    None
}

fn copy_tree(from: &Path, to: &Path, keep: &dyn Fn(&Path) -> bool) {
    if from.is_dir() {
        for e in std::fs::read_dir(from).unwrap().flatten() {
            copy_tree(&e.path(), &to.join(e.file_name()), keep);
        }
    } else if keep(from) {
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(from, to).unwrap();
    }
}

/// Run one case; `Err` says what differs.
fn run_case(root: &Path, l: &Value) -> Result<(), String> {
    let cwd = root.join(l["cwd"].as_str().unwrap_or("."));
    let bundle = tempfile::tempdir().unwrap();
    let mut policies: Vec<String> =
        l["policies"].as_array().unwrap().iter().map(|p| p.as_str().unwrap().to_string()).collect();
    let default_dir = policies.is_empty();
    if default_dir {
        policies.push(l["default_policy_dir"].as_str().unwrap_or("policy").to_string());
    }
    for (i, p) in policies.iter().enumerate() {
        // The default policy folder is named from the archive root, `--policy` paths from `cwd`.
        let src = if default_dir { root.join(p) } else { cwd.join(p) };
        let name = src.file_name().unwrap().to_owned();
        let dest = if src.is_dir() {
            bundle.path().join(format!("p{i}"))
        } else {
            bundle.path().join(format!("p{i}")).join(name)
        };
        copy_tree(&src, &dest, &|f: &Path| f.extension().is_some_and(|e| e == "rego"));
    }
    for (i, d) in l["data"].as_array().unwrap().iter().enumerate() {
        let src = cwd.join(d.as_str().unwrap());
        let dest = bundle.path().join(format!("d{i}/data"));
        let dest = if src.is_dir() { dest } else { dest.join(src.file_name().unwrap()) };
        copy_tree(&src, &dest, &|f: &Path| {
            f.extension().is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
        });
    }
    let flags: Vec<&str> = l["flags"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_palisade"));
    cmd.current_dir(&cwd);
    let verify = l["subcommand"] == "verify";
    cmd.args(["policy", if verify { "test" } else { "eval" }, "--bundle"]).arg(bundle.path());
    cmd.args(["--format", "json"]);
    for f in &flags {
        if let Some(v) = f.strip_prefix("--rego-version=") {
            cmd.args(["--rego-version", v]);
        }
    }
    if !verify {
        for f in &flags {
            if matches!(*f, "--all-namespaces" | "--combine" | "--fail-on-warn")
                || f.starts_with("--proto-file-dirs=")
            {
                cmd.arg(f);
            }
        }
        for ns in l["namespaces"].as_array().unwrap() {
            cmd.args(["--namespace", ns.as_str().unwrap()]);
        }
        if let Some(p) = l["parser"].as_str() {
            cmd.args(["--parser", p]);
        }
        for i in l["inputs"].as_array().unwrap() {
            cmd.arg(i.as_str().unwrap());
        }
        if let Some(stdin) = l["stdin"].as_str() {
            cmd.stdin(std::fs::File::open(cwd.join(stdin)).unwrap());
        }
    } else {
        for ns in l["namespaces"].as_array().unwrap() {
            cmd.args(["--namespace", ns.as_str().unwrap()]);
        }
    }
    let out = cmd.output().unwrap();
    let status = out.status.code().unwrap_or(-1);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let mut problems = Vec::new();
    if let Some(want) = l["expect_status"].as_i64()
        && want != i64::from(status)
    {
        problems.push(format!("exit {status}, expected {want}"));
    }
    let json: Value = serde_json::from_str(&stdout).unwrap_or(Value::Null);
    let (failures, warnings, passed, texts) = if verify {
        let failed = json["failed"].as_u64().unwrap_or(0);
        let passed = json["passed"].as_u64().unwrap_or(0);
        (failed, 0, passed, vec![stdout.to_string()])
    } else {
        let d = json["decisions"].as_array().cloned().unwrap_or_default();
        let count = |a: &str| d.iter().filter(|d| d["action"] == a).count() as u64;
        let texts: Vec<String> = d.iter().map(|d| d["message"].as_str().unwrap_or("").to_string()).collect();
        (count("deny"), count("warn"), 0, texts)
    };
    if let Some(s) = l["summary"].as_object() {
        if let Some(f) = s.get("failures").and_then(Value::as_u64)
            && f != failures
        {
            problems.push(format!("{failures} failures, expected {f}"));
        }
        if let Some(w) = s.get("warnings").and_then(Value::as_u64)
            && w != warnings
        {
            problems.push(format!("{warnings} warnings, expected {w}"));
        }
        if verify
            && let Some(p) = s.get("passed").and_then(Value::as_u64)
            && p != passed
        {
            problems.push(format!("{passed} passed, expected {p}"));
        }
    }
    let summary_line = regex::Regex::new(r"^\d+ tests?, \d+ passed").unwrap();
    for m in l["output_matches"].as_array().unwrap().iter().filter_map(Value::as_str) {
        if summary_line.is_match(m) || (verify && m.starts_with("data.")) {
            continue; // conftest's own summary/trace wording: checked through the counts above
        }
        let plain = m.replace('\\', "");
        if !texts.iter().any(|t| t.contains(&plain)) && !stderr.contains(&plain) {
            problems.push(format!("no output matches {m:?}"));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{}; stdout: {}; stderr: {}",
            problems.join(", "),
            stdout.chars().take(400).collect::<String>(),
            stderr.chars().take(300).collect::<String>()
        ))
    }
}

#[test]
fn conftest_acceptance_cases() {
    let Some(root) = corpus::unpack("conftest-examples.tar.gz") else { return };
    let labels = corpus::labels(&root);
    let mut skipped: BTreeMap<String, usize> = BTreeMap::new();
    let (mut passed, mut failed) = (0, Vec::new());
    for l in &labels {
        if let Some(reason) = unsupported(&root, l) {
            *skipped.entry(reason).or_default() += 1;
            continue;
        }
        match run_case(&root, l) {
            Ok(()) => passed += 1,
            Err(e) => failed.push(format!("{} ({}): {e}", l["source"].as_str().unwrap(), l["test"])),
        }
    }
    let run = passed + failed.len();
    println!(
        "conftest examples: {passed}/{run} runnable cases pass; {} of {} not run:",
        labels.len() - run,
        labels.len()
    );
    for (reason, n) in &skipped {
        println!("  {n:3}  {reason}");
    }
    for f in &failed {
        println!("  FAIL {f}");
    }
    assert!(failed.is_empty(), "{} conftest cases fail", failed.len());
}
