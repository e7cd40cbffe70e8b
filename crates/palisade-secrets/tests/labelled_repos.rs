//! Conformance on the small labelled trees in `/work/shared/data/secrets/`: detect-secrets' `test_data`
//! (files with planted secrets, files without, inline allow-list pragmas) and gitleaks' `small` repository
//! (a key committed in its history). The expectations are the files' own labels (names, comments) read by
//! hand; detect-secrets' `baseline.file` is its own output, not ground truth, so it is not used.
//! Skips with a message when the data or `tar` is absent.

use palisade_core::Progress;
use palisade_secrets::{Config, HistoryOptions, Scanner, scan_git_history};
use std::path::{Path, PathBuf};

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/secrets").join(name)
}

/// Unpack `tarball` into a temporary directory with the system `tar`.
fn unpack(name: &str) -> Option<tempfile::TempDir> {
    let tarball = data(name);
    if !tarball.exists() {
        println!("SKIP: {} not found", tarball.display());
        return None;
    }
    let dir = tempfile::tempdir().ok()?;
    let ok = std::process::Command::new("tar")
        .arg("xzf")
        .arg(&tarball)
        .arg("-C")
        .arg(dir.path())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        println!("SKIP: cannot unpack {} with tar", tarball.display());
        return None;
    }
    Some(dir)
}

fn scanner() -> Scanner {
    Scanner::new(&Config::default()).unwrap_or_else(|e| panic!("built-in rules: {e}"))
}

/// (line, rule, suppressed) of every finding in `root/rel`.
fn scan(s: &Scanner, root: &Path, rel: &str) -> Vec<(u32, String, bool)> {
    let data = std::fs::read(root.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    s.scan_bytes(rel, &data)
        .into_iter()
        .map(|m| (m.line, m.rule_id.to_string(), m.suppressed.is_some()))
        .collect()
}

#[test]
fn detect_secrets_test_data() {
    let Some(dir) = unpack("detect-secrets-testdata.tar.gz") else { return };
    let root = dir.path().join("detect-secrets/test_data");
    let s = scanner();

    for clean in ["files/file_with_no_secrets.py", "files/tmp/file_with_no_secrets.py"] {
        assert_eq!(scan(&s, &root, clean), vec![], "{clean}");
    }
    assert_eq!(scan(&s, &root, "files/private_key"), vec![(1, "private-key-openssh".into(), false)]);

    // Lines 4-5 hold a base64 secret and a hex secret; 8-9 are AWS's documented example key pair
    // (published, so not a leak); 1-2 are a short hex value and an `id`; line 6 is a URL password for
    // example.com, a host reserved for documentation (RFC 2606): an example, not a credential.
    let each = scan(&s, &root, "each_secret.py");
    let lines: Vec<u32> = each.iter().filter(|f| !f.2).map(|f| f.0).collect();
    assert_eq!(lines, vec![4, 5], "{each:?}");

    // `# pragma: allowlist secret` (detect-secrets' marker) suppresses, visibly.
    let with = scan(&s, &root, "files/file_with_secrets.py");
    assert!(with.iter().any(|f| f.0 == 4 && f.2), "{with:?}");
    let tmp = scan(&s, &root, "files/tmp/file_with_secrets.py");
    assert!(tmp.iter().any(|f| f.0 == 3 && !f.2), "{tmp:?}");

    // config.yaml: `AKIATESTTESTTESTTEST` is filler, line 12 carries the pragma, line 16 is labelled an id.
    let yaml = scan(&s, &root, "config.yaml");
    assert!(yaml.iter().all(|f| f.2), "{yaml:?}");
    assert!(yaml.iter().any(|f| f.0 == 12), "{yaml:?}");
}

#[test]
fn gitleaks_small_repo_history() {
    let Some(dir) = unpack("gitleaks-testdata.tar.gz") else { return };
    let repo = dir.path().join("gitleaks-testdata/testdata/repos/small");
    // The data set stores `.git` as `dotGit`.
    if let Err(e) = std::fs::rename(repo.join("dotGit"), repo.join(".git")) {
        panic!("{}: {e}", repo.display());
    }
    let findings = scan_git_history(&repo, &scanner(), &Progress::default(), &HistoryOptions::default())
        .unwrap_or_else(|e| panic!("{}: {e}", repo.display()))
        .findings;
    let aws: Vec<_> = findings.iter().filter(|f| f.rule_id == "aws-access-key-id").collect();
    assert!(!aws.is_empty(), "{findings:?}");
    for f in &aws {
        assert_eq!(f.redacted, "AKIA*****");
        assert!(f.commit.as_ref().is_some_and(|c| c.id.len() == 40), "{f:?}");
        assert!(f.path.ends_with(".go"), "{f:?}");
    }
}
