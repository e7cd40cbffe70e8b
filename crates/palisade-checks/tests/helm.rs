//! Helm charts in a scanned directory (tests/fixtures/helm/web): rendered with a real helm when one is
//! available (`.fixtures/bin/helm`, made by `.ci/helm.sh`, or `helm` on PATH), reported as not rendered
//! otherwise, and never parsed as YAML.

use palisade_checks::{CheckOptions, Engine, HelmBinary, scan_paths};
use std::path::PathBuf;

fn fixture() -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/helm").to_string_lossy().into_owned()
}

fn engine(helm: HelmBinary) -> Engine {
    let opts = CheckOptions { helm, k8s_version: Some("1.30".into()), ..CheckOptions::default() };
    Engine::new(&opts).unwrap_or_else(|e| panic!("{e}"))
}

/// A real helm: `.fixtures/bin/helm` of the workspace, else `helm` on PATH.
fn real_helm() -> Option<PathBuf> {
    let cached = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.fixtures/bin/helm");
    if cached.is_file() {
        return Some(cached);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join("helm")).find(|p| p.is_file())
}

#[test]
fn without_helm_a_chart_gets_one_warning_and_its_templates_are_not_parsed() {
    let out = scan_paths(engine(HelmBinary::Disabled), &[fixture()], &Default::default())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.warnings.len(), 1, "{:?}", out.warnings);
    let w = &out.warnings[0];
    assert_eq!(w.path.as_deref(), Some(format!("{}/web", fixture()).as_str()));
    assert!(w.message.contains("Helm chart \"web\" was not rendered") && w.message.contains("--helm"), "{w}");
    // Only the Service outside the chart is checked; values.yaml and the templates are not manifests.
    assert!(out.findings.iter().all(|f| f.file.ends_with("helm/service.yaml")), "{:?}", out.findings);
}

#[test]
fn an_explicit_helm_that_does_not_exist_is_an_error() {
    let opts = CheckOptions { helm: HelmBinary::Path("/nonexistent/helm".into()), ..CheckOptions::default() };
    let e = Engine::new(&opts).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(e.contains("/nonexistent/helm"), "{e}");
}

#[test]
fn a_chart_is_rendered_and_findings_point_at_its_templates() {
    let Some(helm) = real_helm() else {
        println!(
            "SKIP a_chart_is_rendered: no helm (run .ci/helm.sh to fetch one into .fixtures/bin, or put helm on PATH)"
        );
        return;
    };
    let out = scan_paths(engine(HelmBinary::Path(helm)), &[fixture()], &Default::default())
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(out.warnings.is_empty(), "{:?}", out.warnings);
    let deploy = format!("{}/web/templates/deployment.yaml", fixture());
    let f = |id: &str| out.findings.iter().filter(|f| f.check_id == id).collect::<Vec<_>>();
    let at = |id: &str| f(id).iter().map(|f| (f.file.clone(), f.line, f.column)).collect::<Vec<_>>();
    // The privileged flag comes from values.yaml through toYaml: no template line has it, so the line is the
    // rendered document's and the message says so.
    let privileged = f("PAL-PSS-002");
    assert_eq!(at("PAL-PSS-002"), [(deploy.clone(), 21, 25)], "{:?}", out.findings);
    assert_eq!(privileged[0].resource.as_ref().map(|r| r.name.as_str()), Some("release-name-web"));
    assert!(
        privileged[0].message.contains("line 21 of the output rendered from this template"),
        "{}",
        privileged[0].message
    );
    // Lines the template has (verbatim, or up to an action) are template positions: the container starts at
    // template line 21, the replicas value at line 11 (the template has a 3-line comment first).
    assert_eq!(at("PAL-K8S-049"), [(deploy.clone(), 21, 11)]);
    assert!(!f("PAL-K8S-049")[0].message.contains("Helm"));
    // A relational check (no HorizontalPodAutoscaler scales it) placed the same way.
    assert_eq!(at("PAL-K8S-052"), [(deploy.clone(), 11, 13)]);
    // The NetworkPolicy of the other template selects the Deployment's pods; the Service outside the chart
    // selects them too.
    assert!(f("PAL-K8S-074").is_empty(), "{:?}", f("PAL-K8S-074"));
    assert!(f("PAL-K8S-068").is_empty(), "{:?}", f("PAL-K8S-068"));
    // Nothing is reported on values.yaml, Chart.yaml, NOTES.txt or _helpers.tpl.
    let policy = format!("{}/web/templates/networkpolicy.yaml", fixture());
    let service = format!("{}/service.yaml", fixture());
    assert!(
        out.findings.iter().all(|f| [&deploy, &policy, &service].contains(&&f.file)),
        "{:?}",
        out.findings
    );
}
