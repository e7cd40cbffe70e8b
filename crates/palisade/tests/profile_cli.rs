//! `palisade profile …` on the real binary with no kernel: the recorded runc runs of
//! `palisade-runtime/tests/fixtures/profile` are learned, tested (exit codes, one line per violation,
//! JSON), diffed after an edit (exit codes by `--fail-on`), loaded from a policy bundle, converted, and
//! bad profiles are reported with their file and field.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../palisade-runtime/tests/fixtures/profile").join(name)
}

fn palisade(args: &[&str]) -> std::process::Output {
    Command::cargo_bin("palisade").unwrap_or_else(|e| panic!("{e}")).args(args).output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn learn_test_diff_convert() {
    let tmp = tempfile::tempdir().unwrap();
    let s = |p: &Path| p.display().to_string();
    let dir = tmp.path().join("profiles");
    let out = palisade(&["profile", "learn", "--events", &s(&fixture("learn.jsonl")), "-o", &s(&dir)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let file = dir.join("image-palisade.test-palprof30199.yaml");
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        std::fs::read_to_string(fixture("learned.yaml")).unwrap()
    );

    // CI replay: the learning run passes, the second run fails on the one unlisted program
    let ok = palisade(&["profile", "test", "--profile", &s(&dir), "--events", &s(&fixture("learn.jsonl"))]);
    assert_eq!(ok.status.code(), Some(0), "{}{}", text(&ok.stdout), text(&ok.stderr));
    let bad =
        palisade(&["profile", "test", "--profile", &s(&dir), "--events", &s(&fixture("monitor.jsonl"))]);
    assert_eq!(bad.status.code(), Some(1));
    let lines: Vec<String> = text(&bad.stdout).lines().map(String::from).collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].contains("monitor.jsonl:") && lines[0].contains("/bin/uname is not a profile process"),
        "{lines:?}"
    );
    let json = palisade(&[
        "profile",
        "test",
        "--profile",
        &s(&file),
        "--events",
        &s(&fixture("monitor.jsonl")),
        "--mode",
        "protect",
        "--format",
        "json",
        "--exit-code",
        "3",
    ]);
    assert_eq!(json.status.code(), Some(3));
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["violations"][0]["verdict"], "deny");
    assert_eq!(v["violations"][0]["alert"]["priority"], "Critical");

    // review: an edit that allows more fails `--fail-on widen`, one that only removes does not
    let base = std::fs::read_to_string(&file).unwrap();
    let wider = tmp.path().join("wider.yaml");
    std::fs::write(
        &wider,
        base.replace(
            "  files:\n",
            "  files:\n    - path: \"/data/**\"\n      access: write\n      class: data\n",
        ),
    )
    .unwrap();
    let d = palisade(&["profile", "diff", &s(&file), &s(&wider), "--fail-on", "widen"]);
    assert_eq!(d.status.code(), Some(1));
    assert!(text(&d.stdout).contains("+ files: /data/** (write, data)"), "{}", text(&d.stdout));
    let narrower = tmp.path().join("narrower.yaml");
    std::fs::write(
        &narrower,
        base.replace("    - path: \"/app/run.sh\"\n      access: read\n      class: data\n", ""),
    )
    .unwrap();
    let d =
        palisade(&["profile", "diff", &s(&file), &s(&narrower), "--fail-on", "widen", "--format", "json"]);
    assert_eq!(d.status.code(), Some(0), "{}", text(&d.stdout));
    let v: serde_json::Value = serde_json::from_slice(&d.stdout).unwrap();
    assert_eq!(
        (v["widens"].as_bool(), v["workloads"][0]["changes"][0]["op"].as_str()),
        (Some(false), Some("removed"))
    );
    assert_eq!(palisade(&["profile", "diff", &s(&file), &s(&narrower)]).status.code(), Some(1));
    assert_eq!(palisade(&["profile", "diff", &s(&file), &s(&file)]).status.code(), Some(0));

    // a policy bundle carries profiles under profiles/, global rules beside them
    let bundle = tmp.path().join("bundle");
    std::fs::create_dir_all(bundle.join("profiles")).unwrap();
    std::fs::write(
        bundle.join("palisade-policy.yaml"),
        "apiVersion: palisade.dev/v1\nkind: PolicyBundle\nmetadata: {name: b}\n",
    )
    .unwrap();
    std::fs::copy(&file, bundle.join("profiles/demo.yaml")).unwrap();
    std::fs::write(
        bundle.join("profiles/global.yaml"),
        "apiVersion: palisade.io/v1alpha1\nkind: PalisadeGlobalRules\nmetadata: {name: g}\nspec:\n  noShell: {enabled: false}\n",
    )
    .unwrap();
    let b =
        palisade(&["profile", "test", "--profile", &s(&bundle), "--events", &s(&fixture("monitor.jsonl"))]);
    assert_eq!(b.status.code(), Some(1), "{}", text(&b.stderr));
    assert!(text(&b.stderr).contains("1 violations, 1 profiles"), "{}", text(&b.stderr));

    // converters
    let nv = palisade(&["profile", "convert", "--to", "neuvector", &s(&file)]);
    assert!(nv.status.success() && text(&nv.stdout).contains("kind: NvSecurityRule"), "{}", text(&nv.stderr));
    let np = palisade(&["profile", "convert", "--to", "networkpolicy", &s(&dir)]);
    assert!(np.status.success() && text(&np.stdout).contains("kind: NetworkPolicy"), "{}", text(&np.stderr));
}

#[test]
fn bad_profiles_are_named_with_their_field() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("bad.yaml");
    std::fs::write(
        &p,
        "apiVersion: palisade.io/v1alpha1\nkind: PalisadeProfile\nmetadata: {name: x}\nspec:\n  workload: {kind: Image, name: x}\n  processes: [{path: \"/bin/[\"}]\n",
    )
    .unwrap();
    let out = palisade(&["profile", "test", "--profile", &p.display().to_string(), "--events", "/dev/null"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("bad.yaml") && err.contains("spec.processes[0].path"), "{err}");
}
