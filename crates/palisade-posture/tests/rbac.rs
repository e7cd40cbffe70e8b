//! RBAC analysis on fixture dumps: every expected finding and nothing else; who-can/can answers against
//! hand-computed expectations.

use palisade_checks::dump::Dump;
use palisade_posture::rbac::model::{Rbac, Subject};
use palisade_posture::rbac::query::{ResourceQuery, can, who_can};
use palisade_posture::rbac::{analyze, grants::Scope};
use std::path::PathBuf;

fn load(name: &str) -> Rbac {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rbac").join(name);
    let dump = Dump::load(&[p]).unwrap();
    assert!(dump.errors.is_empty(), "{:?}", dump.errors);
    let rbac = Rbac::from_dump(&dump);
    assert!(rbac.errors.is_empty(), "{:?}", rbac.errors);
    rbac
}

fn scope(s: &str) -> String {
    match s {
        "" => "cluster-wide".into(),
        ns => format!("namespace {ns}"),
    }
}

#[test]
fn risky_dump_gives_every_expected_finding_and_nothing_else() {
    let rbac = load("risky.yaml");
    let a = analyze(&rbac, false);
    let mut got: Vec<(String, String, String, String)> = a
        .findings
        .iter()
        .map(|f| (f.id.to_string(), f.subject.to_string(), f.scope.to_string(), format!("{:?}", f.severity)))
        .collect();
    got.sort();
    let mut want: Vec<(String, String, String, String)> = [
        // Group ops is bound to cluster-admin: every resource rule fires, the wildcard at Critical
        ("PAL-RBAC-001", "Group:ops", "", "Critical"),
        ("PAL-RBAC-002", "Group:ops", "", "High"),
        ("PAL-RBAC-003", "Group:ops", "", "High"),
        ("PAL-RBAC-004", "Group:ops", "", "High"),
        ("PAL-RBAC-005", "Group:ops", "", "High"),
        ("PAL-RBAC-006", "Group:ops", "", "High"),
        ("PAL-RBAC-007", "Group:ops", "", "High"),
        ("PAL-RBAC-008", "Group:ops", "", "High"),
        ("PAL-RBAC-009", "Group:ops", "", "Critical"),
        // ci-bot: deployments cluster-wide, secrets and impersonate through aggregation
        ("PAL-RBAC-001", "User:ci-bot", "", "Critical"),
        ("PAL-RBAC-002", "User:ci-bot", "", "High"),
        ("PAL-RBAC-004", "User:ci-bot", "", "High"),
        ("PAL-RBAC-003", "Group:developers", "team-a", "High"),
        ("PAL-RBAC-004", "ServiceAccount:ci/builder", "kube-system", "High"),
        ("PAL-RBAC-004", "ServiceAccount:privileged-ns/ops", "privileged-ns", "High"),
        ("PAL-RBAC-005", "ServiceAccount:monitoring/prometheus", "", "High"),
        ("PAL-RBAC-006", "ServiceAccount:tokens/minter", "tokens", "High"),
        ("PAL-RBAC-007", "User:pki-admin", "", "High"),
        ("PAL-RBAC-008", "ServiceAccount:ops/installer", "", "High"),
        ("PAL-RBAC-009", "User:intern", "sandbox", "Medium"),
        ("PAL-RBAC-010", "Group:system:unauthenticated", "", "Critical"),
        ("PAL-RBAC-011", "ServiceAccount:team-b/default", "team-b", "Medium"),
        ("PAL-RBAC-001", "User:lead", "team-c", "Critical"),
    ]
    .iter()
    .map(|(id, s, sc, sev)| (id.to_string(), s.to_string(), scope(sc), sev.to_string()))
    .collect();
    want.sort();
    assert_eq!(got, want);

    // The chain names the binding, the role and the aggregated role the rule came from.
    let imp = a.findings.iter().find(|f| f.id == "PAL-RBAC-001" && f.subject.name == "ci-bot").unwrap();
    assert_eq!(imp.chains.len(), 1);
    assert_eq!(imp.chains[0].binding, "ClusterRoleBinding/ci-admin");
    assert_eq!(imp.chains[0].role, "ClusterRole/ci-deployer");
    assert_eq!(imp.chains[0].aggregated_from.as_deref(), Some("ci-impersonate"));
    assert!(imp.chains[0].binding_at.ends_with("risky.yaml:61"), "{}", imp.chains[0].binding_at);
    // CSR approval needs both grants; both are in the evidence.
    let csr = a.findings.iter().find(|f| f.id == "PAL-RBAC-007" && f.subject.name == "pki-admin").unwrap();
    assert_eq!(csr.chains.len(), 2);
    // A service account's finding names the workloads that run as it (the DaemonSet, not a Pod twice).
    let prom = a.findings.iter().find(|f| f.id == "PAL-RBAC-005" && f.subject.name == "prometheus").unwrap();
    let w: Vec<String> = prom.workloads.iter().map(ToString::to_string).collect();
    assert_eq!(w, ["DaemonSet/monitoring/node-exporter"]);
    let def = a.findings.iter().find(|f| f.id == "PAL-RBAC-011").unwrap();
    assert_eq!(def.workloads.iter().map(ToString::to_string).collect::<Vec<_>>(), ["Pod/team-b/naked"]);
    assert_eq!(a.dangling_bindings.len(), 1, "{:?}", a.dangling_bindings);
    assert!(a.dangling_bindings[0].starts_with("RoleBinding/team-a/ghost"));

    // Kubernetes' own bindings are judged when asked for.
    let all = analyze(&rbac, true);
    assert!(
        all.findings.iter().any(|f| f.subject.to_string() == "ServiceAccount:kube-system/foo-controller")
    );
    assert_eq!(all.findings.len(), a.findings.len() + 9);
}

#[test]
fn clean_dump_has_no_findings() {
    let rbac = load("clean.json");
    let a = analyze(&rbac, false);
    assert!(a.findings.is_empty(), "{:#?}", a.findings);
    assert_eq!(a.subjects.len(), 1);
    assert_eq!(a.subjects[0].workloads.len(), 1);
}

fn names(v: &[palisade_posture::rbac::query::Allowed]) -> Vec<String> {
    let mut n: Vec<String> = v.iter().map(|a| a.subject.to_string()).collect();
    n.sort();
    n
}

#[test]
fn who_can_matches_hand_computed_answers() {
    let rbac = load("risky.yaml");
    let q = |r: &str| ResourceQuery::parse(r).unwrap();
    // Cluster-wide: ClusterRoleBindings only (system bindings included: they are real permissions).
    assert_eq!(
        names(&who_can(&rbac, "get", &q("secrets"), None)),
        ["Group:ops", "ServiceAccount:kube-system/foo-controller", "User:ci-bot"]
    );
    assert_eq!(
        names(&who_can(&rbac, "create", &q("pods/exec"), Some("team-a"))),
        ["Group:developers", "Group:ops", "ServiceAccount:kube-system/foo-controller"]
    );
    // resourceNames-limited rules do not answer a request that names no object.
    assert_eq!(
        names(&who_can(&rbac, "get", &q("configmaps"), Some("team-a"))),
        ["Group:ops", "Group:system:unauthenticated", "ServiceAccount:kube-system/foo-controller"]
    );
    assert_eq!(
        names(&who_can(&rbac, "create", &q("deployments"), Some("team-a"))),
        [
            "Group:ops",
            "ServiceAccount:kube-system/foo-controller",
            "ServiceAccount:team-a/deployer",
            "User:ci-bot"
        ]
    );
    // apiGroup matters: deployments in another group is not the apps resource ci-bot may create.
    assert_eq!(
        names(&who_can(&rbac, "create", &q("deployments.example.com"), Some("team-a"))),
        ["Group:ops", "ServiceAccount:kube-system/foo-controller"]
    );
    let team_c = who_can(&rbac, "bind", &q("roles"), Some("team-c"));
    let lead = team_c.iter().find(|a| a.subject.name == "lead").unwrap();
    assert_eq!(lead.scope, Scope::Namespace("team-c".into()));
    assert!(who_can(&rbac, "bind", &q("roles"), Some("team-b")).iter().all(|a| a.subject.name != "lead"));
}

#[test]
fn can_follows_groups_and_service_account_identities() {
    let rbac = load("risky.yaml");
    let q = |r: &str| ResourceQuery::parse(r).unwrap();
    let sa = Subject::parse("ServiceAccount:team-a/deployer").unwrap();
    assert!(!can(&rbac, &sa, &[], "create", &q("deployments"), Some("team-a")).is_empty());
    assert!(can(&rbac, &sa, &[], "create", &q("deployments"), Some("team-b")).is_empty());
    let same = Subject::parse("system:serviceaccount:team-a:deployer").unwrap();
    assert_eq!(same, sa);
    let alice = Subject::parse("alice").unwrap();
    assert!(can(&rbac, &alice, &[], "create", &q("pods/exec"), Some("team-a")).is_empty());
    assert!(
        !can(&rbac, &alice, &["developers".into()], "create", &q("pods/exec"), Some("team-a")).is_empty()
    );
    let anon = Subject::parse("system:anonymous").unwrap();
    assert!(!can(&rbac, &anon, &[], "get", &q("configmaps"), None).is_empty());
    assert!(can(&rbac, &anon, &[], "list", &q("configmaps"), None).is_empty());
}

#[test]
fn malformed_bindings_are_named_and_skipped() {
    let mut d = Dump::default();
    d.add_text(
        "bad.yaml",
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: b, namespace: x}\nroleRef: {kind: Role, name: r}\nsubjects:\n- {kind: Robot, name: r2}\n- {kind: User, name: ok}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: c}\n",
    );
    let rbac = Rbac::from_dump(&d);
    assert_eq!(rbac.errors.len(), 2, "{:?}", rbac.errors);
    assert!(rbac.errors[0].starts_with("bad.yaml:6:"), "{:?}", rbac.errors);
    assert!(rbac.errors[1].contains("no roleRef"), "{:?}", rbac.errors);
    assert_eq!(rbac.bindings.len(), 1);
    assert_eq!(rbac.bindings[0].subjects.len(), 1);
}
