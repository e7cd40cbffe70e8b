//! Image-hardening checks through the real binary: a root filesystem on disk and a two-layer docker-archive
//! (a tool deleted by the later layer is not reported; findings name the layer that added the file), every
//! output format, and the `[image]` allow-lists of the check config.

use assert_cmd::Command;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

fn palisade() -> Command {
    Command::cargo_bin("palisade").unwrap()
}

fn json_findings(args: &[&str]) -> Vec<(String, String, Option<u64>)> {
    let out = palisade().args(args).args(["--format", "json"]).output().unwrap();
    assert!(out.status.code().is_some_and(|c| c < 2), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut found: Vec<(String, String, Option<u64>)> = v["misconfigurations"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|m| {
            (
                m["check_id"].as_str().unwrap().to_string(),
                m["file"].as_str().unwrap().to_string(),
                m["layer"].as_u64(),
            )
        })
        .collect();
    found.sort();
    found
}

fn chmod(p: &Path, mode: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A small root filesystem with one of each problem.
fn rootfs() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    let r = d.path();
    for dir in ["usr/bin", "var/www", "tmp", "root/.ssh", "etc/ssh"] {
        std::fs::create_dir_all(r.join(dir)).unwrap();
    }
    for (f, mode) in [
        ("usr/bin/curl", 0o755),
        ("usr/bin/dash", 0o755),
        ("usr/bin/passwd", 0o4755),
        ("usr/bin/ls", 0o755),
        ("root/.ssh/authorized_keys", 0o600),
        ("etc/ssh/ssh_host_ed25519_key", 0o600),
        ("etc/ssh/ssh_host_ed25519_key.pub", 0o644),
    ] {
        std::fs::write(r.join(f), "x").unwrap();
        chmod(&r.join(f), mode);
    }
    std::os::unix::fs::symlink("dash", r.join("usr/bin/sh")).unwrap();
    chmod(&r.join("var/www"), 0o777);
    chmod(&r.join("tmp"), 0o1777);
    d
}

#[test]
fn rootfs_hardening_findings_name_each_file() {
    let d = rootfs();
    let root = d.path().to_str().unwrap();
    let found =
        json_findings(&["scan", "rootfs", root, "--scanners", "misconfig", "--checks", "image-hardening"]);
    let ids: Vec<(&str, &str)> = found.iter().map(|(id, f, _)| (id.as_str(), f.as_str())).collect();
    assert_eq!(
        ids,
        [
            ("PAL-IMG-005", "usr/bin/dash"),
            ("PAL-IMG-007", "usr/bin/curl"),
            ("PAL-IMG-009", "usr/bin/passwd"),
            ("PAL-IMG-010", "var/www"),
            ("PAL-IMG-012", "etc/ssh/ssh_host_ed25519_key"),
            ("PAL-IMG-012", "root/.ssh/authorized_keys"),
        ]
    );
    assert!(found.iter().all(|(_, _, layer)| layer.is_none()), "no layers on disk");
}

#[test]
fn allow_lists_from_the_check_config() {
    let d = rootfs();
    let root = d.path().to_str().unwrap();
    let cfg = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        cfg.path(),
        "[image]\nallowed_tools = [\"curl\", \"dash\"]\nallowed_paths = [\"usr/bin/passwd\", \"var/**\", \"var\", \"root/.ssh/*\"]\n",
    )
    .unwrap();
    let found = json_findings(&[
        "scan",
        "rootfs",
        root,
        "--scanners",
        "misconfig",
        "--checks",
        "image-hardening",
        "--check-config",
        cfg.path().to_str().unwrap(),
    ]);
    let ids: Vec<&str> = found.iter().map(|(_, f, _)| f.as_str()).collect();
    assert_eq!(ids, ["etc/ssh/ssh_host_ed25519_key"]);
}

#[test]
fn every_output_format_carries_the_file() {
    let d = rootfs();
    let root = d.path().to_str().unwrap();
    for format in ["table", "sarif", "junit"] {
        let out = palisade()
            .args([
                "scan",
                "rootfs",
                root,
                "--scanners",
                "misconfig",
                "--checks",
                "PAL-IMG-009",
                "--format",
                format,
            ])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("PAL-IMG-009") && text.contains("usr/bin/passwd"), "{format}: {text}");
    }
}

/// A docker-archive with a base layer and a layer that deletes curl and adds a setuid file.
fn image(dir: &Path) -> std::path::PathBuf {
    fn layer(entries: &[(&str, tar::EntryType, u32, u64, &str)]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, ty, mode, uid, link) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(*ty);
            h.set_mode(*mode);
            h.set_uid(*uid);
            h.set_gid(0);
            h.set_size(if *ty == tar::EntryType::Regular { 1 } else { 0 });
            if *ty == tar::EntryType::Symlink {
                h.set_link_name(link).unwrap();
            }
            h.set_path(name).unwrap();
            h.set_cksum();
            let data: &[u8] = if *ty == tar::EntryType::Regular { b"x" } else { b"" };
            b.append(&h, data).unwrap();
        }
        b.into_inner().unwrap()
    }
    use tar::EntryType::{Directory as D, Regular as F};
    let l0 = layer(&[
        ("usr/", D, 0o755, 0, ""),
        ("usr/bin/", D, 0o755, 0, ""),
        ("usr/bin/curl", F, 0o755, 0, ""),
        ("usr/bin/wget", F, 0o755, 0, ""),
        ("app/", D, 0o777, 0, ""),
    ]);
    let l1 = layer(&[
        ("usr/bin/.wh.curl", F, 0o644, 0, ""),
        ("usr/bin/sudo", F, 0o4755, 0, ""),
        ("usr/local/", D, 0o755, 1000, ""),
        ("app/", D, 0o755, 0, ""),
    ]);
    let sha = |b: &[u8]| format!("sha256:{}", hex::encode(Sha256::digest(b)));
    let config = serde_json::json!({
        "architecture": "amd64", "os": "linux", "created": "2020-01-01T00:00:00Z",
        "config": {"Cmd": ["/usr/sbin/sshd", "-D"], "ExposedPorts": {"22/tcp": {}}},
        "rootfs": {"type": "layers", "diff_ids": [sha(&l0), sha(&l1)]},
        "history": [{"created_by": "base"}, {"created_by": "RUN hardening"}]
    });
    let config = serde_json::to_vec(&config).unwrap();
    let manifest = serde_json::json!([{"Config": "config.json", "RepoTags": ["test/img:1"], "Layers": ["l0.tar", "l1.tar"]}]);
    let path = dir.join("img.tar");
    let mut b = tar::Builder::new(std::fs::File::create(&path).unwrap());
    for (name, data) in [
        ("manifest.json", serde_json::to_vec(&manifest).unwrap()),
        ("config.json", config),
        ("l0.tar", l0),
        ("l1.tar", l1),
    ] {
        let mut h = tar::Header::new_gnu();
        h.set_mode(0o644);
        h.set_size(data.len() as u64);
        h.set_path(name).unwrap();
        h.set_cksum();
        b.append(&h, &data[..]).unwrap();
    }
    b.finish().unwrap();
    path
}

#[test]
fn image_findings_carry_the_layer_and_skip_what_a_later_layer_removed() {
    let d = tempfile::tempdir().unwrap();
    let img = image(d.path());
    let found = json_findings(&[
        "scan",
        "image",
        "--input",
        img.to_str().unwrap(),
        "--scanners",
        "misconfig",
        "--checks",
        "image-hardening",
    ]);
    let files: Vec<(&str, &str, Option<u64>)> =
        found.iter().map(|(id, f, l)| (id.as_str(), f.as_str(), *l)).collect();
    assert_eq!(
        files,
        [
            ("PAL-IMG-001", "", None),
            ("PAL-IMG-002", "", None),
            ("PAL-IMG-003", "", None),
            ("PAL-IMG-007", "usr/bin/wget", Some(0)),
            ("PAL-IMG-009", "usr/bin/sudo", Some(1)),
            ("PAL-IMG-011", "usr/local", Some(1)),
            ("PAL-IMG-013", "", None),
            ("PAL-IMG-014", "", None),
        ],
        "curl was deleted by layer 1 and app/ made 0755 there"
    );
}
