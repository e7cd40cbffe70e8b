//! `palisade runtime rules check` and `palisade runtime replay` on the real binary: Falco rules files
//! (the repository's fixtures, and the official rules when the corpus is present), recorded events as
//! JSON lines, alerts as Falco JSON, exit codes, and errors that name the file, line and rule.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../palisade-runtime/tests/fixtures")
}

fn palisade() -> Command {
    Command::cargo_bin("palisade").unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn rules_check_reports_every_error_with_file_line_and_rule() {
    let broken = fixtures().join("broken_rules.yaml");
    let out = palisade()
        .args(["runtime", "rules", "check"])
        .arg(&broken)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("broken_rules.yaml:1: rule 'Unknown field'")
            && text.contains("nonexistent field proc.nosuchfield"),
        "{text}"
    );
    assert!(
        text.contains("broken_rules.yaml:7: rule 'Bad priority': Invalid priority level: LOUD"),
        "{text}"
    );
    assert!(text.contains("2 errors"), "{text}");
}

#[test]
fn rules_check_lists_rules_and_json_describes_them() {
    let demo = fixtures().join("demo_rules.yaml");
    let out = palisade()
        .args(["runtime", "rules", "check", "--strict", "--palisade-rules"])
        .arg(&demo)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("Warning       enabled  Demo shell in container  [execve,execveat]"), "{text}");
    assert!(text.contains("4 rules (4 enabled)"), "{text}");
    let out = palisade()
        .args(["runtime", "rules", "check", "--format", "json"])
        .arg(&demo)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        doc["rules"][0]["details"]["condition_compiled"],
        "((evt.type in (execve, execveat) and container.id != host and proc.name in (sh, bash, zsh) and proc.tty != 0) and not (proc.pname = kubelet and proc.cmdline startswith \"sh -c /healthz\"))"
    );
    assert_eq!(doc["errors"].as_array().map(Vec::len), Some(0));
}

#[test]
fn replay_prints_falco_json_alerts_and_sets_the_exit_code() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let file = dir.path().join("alerts.jsonl");
    let metrics = dir.path().join("metrics.txt");
    let out = palisade()
        .args(["runtime", "replay", "--palisade-rules", "--exit-code", "3", "--rules"])
        .arg(fixtures().join("demo_rules.yaml"))
        .arg("--events")
        .arg(fixtures().join("events.jsonl"))
        .arg("--output-file")
        .arg(&file)
        .arg("--metrics-file")
        .arg(&metrics)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("events.jsonl:4: not an event"), "{stderr}");
    assert!(stderr.contains("5 events, 3 alerts, 1 unreadable lines"), "{stderr}");
    let alerts: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let rules: Vec<&str> = alerts.iter().filter_map(|a| a["rule"].as_str()).collect();
    assert_eq!(
        rules,
        [
            "Demo shell in container",
            "Read Kubernetes service account token",
            "Unexpected outbound connection from container"
        ]
    );
    let shell = &alerts[0];
    assert_eq!(shell["priority"], "Warning");
    assert_eq!(shell["output_fields"]["container.id"], "4f2c1e9a7b3d");
    assert_eq!(shell["output_fields"]["k8s.pod.name"], "web-0");
    assert_eq!(shell["source"], "syscall");
    assert!(shell["output"].as_str().is_some_and(|o| o.ends_with("Shell in container (user=root process=bash parent=containerd-shim container=4f2c1e9a7b3d image=docker.io/library/debian)")), "{shell}");
    assert_eq!(std::fs::read_to_string(&file).unwrap_or_default().lines().count(), 3);
    let m = std::fs::read_to_string(&metrics).unwrap_or_default();
    assert!(
        m.contains(r#"palisade_runtime_alerts_total{rule="Demo shell in container",priority="Warning"} 1"#),
        "{m}"
    );
    assert!(m.contains("palisade_runtime_events_total 5"), "{m}");
    // Without --exit-code alerts do not fail the run; --min-priority filters.
    let quiet = palisade()
        .args(["runtime", "replay", "--palisade-rules", "--min-priority", "warning", "--rules"])
        .arg(fixtures().join("demo_rules.yaml"))
        .arg("--events")
        .arg(fixtures().join("events.jsonl"))
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(quiet.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&quiet.stdout).lines().count(), 2);
}

#[test]
fn replay_against_the_official_rules() {
    let tarball = Path::new("/work/shared/data/runtime/falco-rules.tar.gz");
    if !tarball.exists() {
        println!("SKIP: {} is absent", tarball.display());
        return;
    }
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let f = std::fs::File::open(tarball).unwrap_or_else(|e| panic!("{e}"));
    tar::Archive::new(flate2::read::GzDecoder::new(f)).unpack(dir.path()).unwrap_or_else(|e| panic!("{e}"));
    let stable = dir.path().join("falco-rules/rules/falco_rules.yaml");
    let out = palisade()
        .args(["runtime", "replay", "--rules"])
        .arg(&stable)
        .arg("--events")
        .arg(fixtures().join("events.jsonl"))
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(r#""rule":"Terminal shell in container""#), "{text}");
}

#[test]
fn a_policy_bundle_carries_runtime_rules_that_override_palisade_lists() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let bundle = dir.path().join("policies");
    std::fs::create_dir_all(bundle.join("runtime")).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(
        bundle.join("palisade-policy.yaml"),
        "apiVersion: palisade.dev/v1\nkind: PolicyBundle\nmetadata:\n  name: site\n  version: 1.0.0\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    // The site allows port 4444, and adds its own rule.
    std::fs::write(
        bundle.join("runtime/site_rules.yaml"),
        "- list: palisade_allowed_outbound_ports\n  items: [53, 80, 443, 4444]\n\n- rule: Site cat in container\n  desc: cat ran\n  condition: evt.type in (open, openat, openat2) and container.id != host and proc.name = cat\n  output: cat opened %fd.name\n  priority: INFO\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    // Data files of the bundle are not rules.
    std::fs::write(bundle.join("values.yaml"), "replicas: 3\n").unwrap_or_else(|e| panic!("{e}"));
    let out = palisade()
        .args(["runtime", "replay", "--palisade-rules", "--bundle"])
        .arg(&bundle)
        .arg("--events")
        .arg(fixtures().join("events.jsonl"))
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let rules: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|a| a["rule"].as_str().map(str::to_string))
        .collect();
    assert_eq!(rules, ["Read Kubernetes service account token", "Site cat in container"], "{stderr}");
}

#[test]
fn a_rules_directory_loads_its_files_in_name_order() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    std::fs::copy(fixtures().join("demo_rules.yaml"), dir.path().join("10-demo.yaml"))
        .unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(
        dir.path().join("20-local.yaml"),
        "- rule: Demo shell in container\n  enabled: false\n  override:\n    enabled: replace\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.path().join("notes.txt"), "not rules").unwrap_or_else(|e| panic!("{e}"));
    let out = palisade()
        .args(["runtime", "rules", "check"])
        .arg(dir.path())
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("disabled Demo shell in container"), "{text}");
}
