//! Issue 10 through the real binary: the false alarms named in the issue, laid out as they are found in
//! installed software, give no secret finding, while a real credential beside them is still reported; the
//! RBAC and binding fixtures of `palisade-checks/tests/fixtures/issue10` give the expected checks.

use serde_json::Value;
use std::path::Path;
use std::process::Command;

fn json(args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(args)
        .args(["--format", "json", "--quiet"])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stderr)))
}

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap_or(root)).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(p, text).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn named_secret_false_alarms_are_silent_in_a_rootfs() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let root = dir.path();
    let site = "usr/lib/python3/dist-packages";
    write(
        root,
        &format!("{site}/cryptography/x509/oid.py"),
        "    OID_CLIENT_AUTH = ExtendedKeyUsageOID.CLIENT_AUTH\n",
    );
    write(
        root,
        &format!("{site}/requests-2.32.3.dist-info/RECORD"),
        "requests/auth.py,sha256=kyOBDn3Ujj3oGU_h7pLfJmOH7n1Lk9tSYr3OQV1fj6k,10186\noauthlib/oauth2/rfc6749/tokens.py,sha256=9PEl2hvF9vcDN3WQ9d1hY8gtlQ8zF2VQrxO8TvjS_0s,11097\n",
    );
    write(
        root,
        "usr/lib/python3.11/urllib/request.py",
        "__all__ = [\n    'HTTPPasswordMgrWithPriorAuth', 'AbstractBasicAuthHandler',\n    'HTTPBasicAuthHandler', 'ProxyBasicAuthHandler', 'AbstractDigestAuthHandler',\n]\n",
    );
    let certs = "mozilla/ACCVRAIZ1.crt, mozilla/Actalis_Authentication_Root_CA.crt, mozilla/AffirmTrust_Commercial.crt";
    write(
        root,
        "var/cache/debconf/config.dat",
        &format!("Name: ca-certificates/enable_crts\nValue: {certs}\n"),
    );
    write(root, "var/lib/dpkg/info/ca-certificates.config", &format!("CERTS_LIST=\"{certs}\"\n"));
    write(
        root,
        "usr/share/doc/libreadline8/USAGE",
        "X-Authentication-Warning: wijiji.santafe.edu: rms set sender to rms@gnu.org using -f\n",
    );
    write(root, "srv/app/locale/nb.json", "{\n  \"one_time_password\": \"Engangskode:\"\n}\n");
    // A real-looking credential beside them, under a *_pass name.
    write(root, "srv/app/.env", "PG_PASS=Mla0NkAKY12iE2\n");
    let r = json(&["scan", "rootfs", &root.to_string_lossy(), "--scanners", "secret"]);
    let found: Vec<(String, String)> = r["secrets"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[])
        .iter()
        .map(|s| {
            (s["rule_id"].as_str().unwrap_or("").to_string(), s["path"].as_str().unwrap_or("").to_string())
        })
        .collect();
    assert_eq!(found, vec![("generic-password".to_string(), "srv/app/.env".to_string())], "{found:?}");
}

#[test]
fn rbac_is_matched_by_api_group_and_admin_edit_bindings_are_reported() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../palisade-checks/tests/fixtures/issue10");
    let ids = |file: &str| -> Vec<String> {
        let r = json(&["scan", "config", &dir.join(file).to_string_lossy()]);
        let mut v: Vec<String> = r["misconfigurations"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or(&[])
            .iter()
            .filter_map(|m| m["check_id"].as_str().map(str::to_string))
            .collect();
        v.sort();
        v.dedup();
        v
    };
    assert_eq!(ids("rbac-named-group.yaml"), vec!["PAL-K8S-082"]);
    assert!(ids("rbac-resource-names.yaml").is_empty());
    assert_eq!(ids("binding-edit.yaml"), vec!["PAL-K8S-108"]);
    assert!(ids("kind-cluster.yaml").is_empty());
    let pod = ids("pod-seccomp-unconfined.yaml");
    assert!(pod.contains(&"PAL-PSS-009".to_string()), "{pod:?}");
    for absent in ["PAL-PSS-017", "PAL-K8S-045", "PAL-K8S-047"] {
        assert!(!pod.contains(&absent.to_string()), "{absent} in {pod:?}");
    }
}
