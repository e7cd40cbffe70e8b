//! Local image formats end to end: docker-archive (both layouts, compressed, unpacked), OCI layout with
//! platform selection, oci-archive, and a hostile-archive corpus generated in code.

mod common;

use common::*;
use palisade_artifact::{ArtifactError, ImageFormat, Options, Target, detect, scan};
use palisade_core::{ArtifactKind, Progress};
use std::sync::Arc;

fn three_layer_image(arch: &str) -> Image {
    let base = tar(&[
        E::Dir("etc/"),
        E::File("etc/os-release", b"ID=alpine\nVERSION_ID=3.19.1\n"),
        E::File("etc/secret", b"password=hunter2"),
        E::Dir("usr/bin/"),
        E::Exec("usr/bin/app", b"\x7fELF-app"),
        E::Dir("d/"),
        E::File("d/old", b"old"),
        E::Symlink("etc/mtab", "/proc/mounts"),
    ]);
    let second = tar(&[
        E::File("etc/.wh.secret", b""),
        E::Dir("d/"),
        E::File("d/.wh..wh..opq", b""),
        E::File("d/new", b"new"),
        E::File("etc/os-release", b"ID=alpine\nVERSION_ID=3.19.2\n"),
    ]);
    let third = tar(&[E::Exec("bin/busybox", b"BUSYBOX"), E::Hardlink("bin/sh", "bin/busybox")]);
    Image::new(
        vec![
            Layer::gz(base, "ADD rootfs /"),
            Layer::plain(second, "RUN apk upgrade"),
            Layer::zst(third, "COPY busybox /bin/"),
        ],
        arch,
    )
}

fn check_three_layer_scan(img: &Image, s: &palisade_artifact::Scanned, rec: &Rec) {
    assert!(s.warnings.is_empty(), "{:#?}", s.warnings);
    assert_eq!(s.info.kind, ArtifactKind::Image);
    assert_eq!(s.info.id.as_deref(), Some(img.config_digest().as_str()));
    assert_eq!(s.info.layers.len(), 3);
    for (i, l) in s.info.layers.iter().enumerate() {
        assert_eq!(l.index, i as u32);
        assert_eq!(l.diff_id.as_deref(), Some(sha(&img.layers[i].tar).as_str()));
        assert_eq!(l.digest.as_deref(), Some(sha(&img.layers[i].blob).as_str()), "layer {i}");
    }
    assert_eq!(
        s.info.layers[0].created_by.as_deref(),
        Some("ADD rootfs /"),
        "empty_layer history must be skipped"
    );
    assert_eq!(s.info.layers[2].created_by.as_deref(), Some("COPY busybox /bin/"));
    let c = s.info.config.as_ref().expect("config");
    assert_eq!(c.user.as_deref(), Some("app"));
    assert_eq!(c.exposed_ports, vec!["8080/tcp".to_string()]);
    assert_eq!(c.entrypoint, vec!["/bin/app".to_string()]);
    assert_eq!(c.cmd, vec!["--serve".to_string()]);
    assert_eq!(c.working_dir.as_deref(), Some("/srv"));
    assert_eq!(c.labels.get("org.example").map(String::as_str), Some("yes"));
    assert_eq!(c.healthcheck.as_ref().map(Vec::len), Some(3));
    assert_eq!(c.history.len(), 4);
    assert_eq!(s.info.platform.as_deref(), Some(format!("linux/{}", img.arch).as_str()));

    // Every version was streamed with its layer...
    assert_eq!(rec.get("etc/os-release", Some(0)).as_deref(), Some(&b"ID=alpine\nVERSION_ID=3.19.1\n"[..]));
    assert_eq!(rec.get("etc/os-release", Some(1)).as_deref(), Some(&b"ID=alpine\nVERSION_ID=3.19.2\n"[..]));
    assert_eq!(rec.get("etc/secret", Some(0)).as_deref(), Some(&b"password=hunter2"[..]));
    assert_eq!(rec.get("bin/sh", Some(2)).as_deref(), Some(&b"BUSYBOX"[..]), "hard link resolved by content");
    // ...and the tree says which survive.
    let t = &s.tree;
    assert!(!t.is_live("etc/os-release", Some(0)));
    assert_eq!(t.removed_in("etc/os-release", Some(0)), Some(1));
    assert!(t.is_live("etc/os-release", Some(1)));
    assert!(!t.is_live("etc/secret", Some(0)));
    assert_eq!(t.removed_in("etc/secret", Some(0)), Some(1));
    assert!(!t.is_live("d/old", Some(0)));
    assert!(t.is_live("d/new", Some(1)));
    assert!(t.is_live("usr/bin/app", Some(0)));
    assert!(t.is_live("bin/sh", Some(2)));
    assert_eq!(t.symlink_target("etc/mtab"), Some("/proc/mounts"));
    // os-release, app, d/new, busybox, sh
    assert_eq!(t.len(), 5);
}

#[test]
fn docker_archive_blobs_layout() {
    let img = three_layer_image("amd64");
    let d = tempfile::tempdir().expect("tempdir");
    let p = d.path().join("img.tar");
    write_tar(&docker_archive(&img, &["example/app:1.0"], false), &p);
    assert_eq!(detect(&p), Some(ImageFormat::DockerArchive));
    let rec = Rec::all();
    let progress = Arc::new(Progress::new());
    let opts = Options { progress: Some(progress.clone()), ..Default::default() };
    let s = scan(&Target::ImageArchive { path: p }, &opts, &rec).expect("scan");
    check_three_layer_scan(&img, &s, &rec);
    assert_eq!(s.info.repo_tags, vec!["example/app:1.0".to_string()]);
    assert_eq!(Progress::get(&progress.layers_total), 3);
    assert_eq!(Progress::get(&progress.layers_done), 3);
    assert!(Progress::get(&progress.files_seen) >= 7);
    assert!(Progress::get(&progress.bytes_read) > 0);
}

#[test]
fn docker_archive_old_layout_plain_layers_compressed_archive_and_unpacked_dir() {
    let layers = vec![
        Layer::plain(tar(&[E::File("etc/os-release", b"ID=debian\n"), E::File("etc/x", b"1")]), "ADD x"),
        Layer::plain(tar(&[E::File("etc/.wh.x", b"")]), "RUN rm /etc/x"),
    ];
    let img = Image::new(layers, "amd64");
    let files = docker_archive(&img, &["old:latest"], true);
    let d = tempfile::tempdir().expect("tempdir");
    let plain = d.path().join("old.tar");
    write_tar(&files, &plain);
    let gz = d.path().join("old.tar.gz");
    std::fs::write(&gz, gzip(&std::fs::read(&plain).expect("read"))).expect("write");
    let unpacked = d.path().join("unpacked");
    write_dir(&files, &unpacked);
    for p in [plain, gz, unpacked] {
        assert_eq!(detect(&p), Some(ImageFormat::DockerArchive), "{}", p.display());
        let rec = Rec::all();
        let s = scan(&Target::ImageArchive { path: p.clone() }, &Options::default(), &rec).expect("scan");
        assert!(s.warnings.is_empty(), "{}: {:#?}", p.display(), s.warnings);
        assert_eq!(s.info.repo_tags, vec!["old:latest".to_string()]);
        // Old layout has no blob digest in the manifest: a plain tar's digest is its diff_id.
        assert_eq!(s.info.layers[0].digest, s.info.layers[0].diff_id);
        assert!(s.tree.is_live("etc/os-release", Some(0)));
        assert_eq!(s.tree.removed_in("etc/x", Some(0)), Some(1));
        assert_eq!(rec.get("etc/os-release", Some(0)).as_deref(), Some(&b"ID=debian\n"[..]));
    }
}

#[test]
fn oci_layout_and_archive_with_platforms() {
    let amd = three_layer_image("amd64");
    let arm = Image::new(vec![Layer::gz(tar(&[E::File("etc/os-release", b"ID=arm\n")]), "ADD arm")], "arm64");
    let files = oci_layout(&[&amd, &arm], "3.19");
    let d = tempfile::tempdir().expect("tempdir");
    let layout = d.path().join("layout");
    write_dir(&files, &layout);
    let archive = d.path().join("oci.tar");
    write_tar(&files, &archive);
    assert_eq!(detect(&layout), Some(ImageFormat::OciLayout));
    assert_eq!(detect(&archive), Some(ImageFormat::OciArchive));
    for p in [layout, archive] {
        // Default platform: linux/amd64.
        let rec = Rec::all();
        let s = scan(&Target::ImageArchive { path: p.clone() }, &Options::default(), &rec).expect("scan");
        check_three_layer_scan(&amd, &s, &rec);
        assert_eq!(s.info.repo_tags, vec!["3.19".to_string()]);
        // Explicit platform.
        let rec = Rec::all();
        let opts = Options { platform: Some("linux/arm64/v8".into()), ..Default::default() };
        let s = scan(&Target::ImageArchive { path: p.clone() }, &opts, &rec).expect("scan arm");
        assert_eq!(s.info.id.as_deref(), Some(arm.config_digest().as_str()));
        assert_eq!(s.info.platform.as_deref(), Some("linux/arm64"));
        assert_eq!(rec.get("etc/os-release", Some(0)).as_deref(), Some(&b"ID=arm\n"[..]));
        // No such platform: fatal, with the list.
        let opts = Options { platform: Some("linux/s390x".into()), ..Default::default() };
        match scan(&Target::ImageArchive { path: p.clone() }, &opts, &Rec::all()) {
            Err(e @ ArtifactError::NoMatchingPlatform { .. }) => {
                let m = e.to_string();
                assert!(
                    m.contains("linux/amd64") && m.contains("linux/arm64") && m.contains("--platform"),
                    "{m}"
                );
            }
            other => panic!("expected NoMatchingPlatform, got {other:?}"),
        }
    }
}

#[test]
fn not_images_and_missing_paths() {
    let d = tempfile::tempdir().expect("tempdir");
    let p = d.path().join("plain.tar");
    std::fs::write(&p, tar(&[E::File("hello.txt", b"hi")])).expect("write");
    assert_eq!(detect(&p), None);
    let e = scan(&Target::ImageArchive { path: p }, &Options::default(), &Rec::all());
    assert!(matches!(e, Err(ArtifactError::NotAnImage { .. })), "{e:?}");
    let junk = d.path().join("junk.bin");
    std::fs::write(&junk, b"\x00\x01 definitely not a tar").expect("write");
    assert_eq!(detect(&junk), None);
    assert_eq!(detect(d.path()), None);
    let e = scan(&Target::ImageArchive { path: d.path().join("nope.tar") }, &Options::default(), &Rec::all());
    assert!(matches!(e, Err(ArtifactError::NotFound { .. })), "{e:?}");
    // A manifest.json that is not JSON.
    let bad = d.path().join("bad.tar");
    write_tar(&[("manifest.json".to_string(), b"{nope".to_vec())].into_iter().collect(), &bad);
    let e = scan(&Target::ImageArchive { path: bad }, &Options::default(), &Rec::all());
    assert!(matches!(e, Err(ArtifactError::NotAnImage { .. })), "{e:?}");
}

/// The hostile corpus: each layer carries one kind of attack; the last layer is benign and must be scanned.
#[test]
fn hostile_archive_corpus() {
    let escape = tar(&[
        E::File("../../../../tmp/palisade-pwned", b"escape"),
        E::File("/etc/absolute-ok", b"abs"),
        E::Symlink("etc/shadow-link", "/etc/shadow"),
        E::Symlink("loop/a", "b"),
        E::Symlink("loop/b", "a"),
        E::Hardlink("etc/hl-out", "../../etc/shadow"),
        E::Hardlink("etc/hl-missing", "etc/nothing"),
        E::Fifo("dev/fifo"),
        E::File("etc/.wh...", b""),
    ]);
    let big: Vec<u8> = (0..300_000u32).flat_map(|i| (i.wrapping_mul(2_654_435_761)).to_le_bytes()).collect();
    let trunc_full = gzip(&tar(&[E::File("t/first", b"1"), E::File("t/big", &big), E::File("t/last", b"3")]));
    let truncated = Layer {
        tar: Vec::new(),
        blob: trunc_full[..trunc_full.len() / 2].to_vec(),
        created_by: "truncated".into(),
    };
    let zeros = vec![0u8; 80 << 20];
    let bomb = Layer::zst(tar(&[E::File("bomb/zeros", &zeros)]), "bomb");
    let many: Vec<String> = (0..50).map(|i| format!("many/f{i}")).collect();
    let many_entries: Vec<E> = many.iter().map(|n| E::File(n, b"x")).collect();
    let many = Layer::gz(tar(&many_entries), "many entries");
    let good = Layer::gz(tar(&[E::File("etc/os-release", b"ID=good\n")]), "good");
    let img = Image::new(vec![Layer::gz(escape, "escape"), truncated, bomb, many, good], "amd64");
    let mut files = oci_layout(&[&img], "hostile");
    // Tamper: the "many" layer's blob no longer matches its digest.
    let many_name = format!("blobs/sha256/{}", hexof(&sha(&img.layers[3].blob)));
    files.insert(many_name, gzip(&tar(&many_entries[..10])));
    let d = tempfile::tempdir().expect("tempdir");
    let p = d.path().join("hostile.tar");
    write_tar(&files, &p);

    let rec = Rec::all();
    // The 80 MiB bomb is under the default 4 GiB work floor (real files have long zero runs): lower it.
    let mut opts = Options::default();
    opts.limits.ratio_floor = 64 << 20;
    let s = scan(&Target::ImageArchive { path: p.clone() }, &opts, &rec).expect("hostile image still scans");
    let msgs: Vec<String> = s.warnings.iter().map(|w| w.to_string()).collect();
    let has = |needle: &str| msgs.iter().any(|m| m.contains(needle));
    assert!(has("../../../../tmp/palisade-pwned") && has("escapes the image root"), "{msgs:#?}");
    assert!(has("etc/hl-out") && has("hard link to `../../etc/shadow` escapes"), "{msgs:#?}");
    assert!(has("etc/hl-missing"), "{msgs:#?}");
    assert!(has("malformed whiteout"), "{msgs:#?}");
    assert!(
        msgs.iter().any(|m| m.contains("layer 1") && m.contains("truncated") && m.contains("t/big")),
        "{msgs:#?}"
    );
    assert!(msgs.iter().any(|m| m.contains("layer 2") && m.contains("decompression bomb")), "{msgs:#?}");
    assert!(msgs.iter().any(|m| m.contains("layer 3") && m.contains("digest mismatch")), "{msgs:#?}");
    assert!(!std::path::Path::new("/tmp/palisade-pwned").exists());
    // Benign content is scanned; nothing was read through links.
    assert_eq!(rec.get("etc/os-release", Some(4)).as_deref(), Some(&b"ID=good\n"[..]));
    assert_eq!(rec.get("etc/absolute-ok", Some(0)).as_deref(), Some(&b"abs"[..]));
    assert_eq!(rec.get("t/first", Some(1)).as_deref(), Some(&b"1"[..]));
    assert!(rec.get("bomb/zeros", Some(2)).is_none());
    assert!(
        rec.keys().iter().all(|(p, _)| !p.contains("shadow") && !p.contains("loop") && !p.contains("fifo"))
    );
    assert_eq!(s.tree.symlink_target("loop/a"), Some("b"));
    assert!(s.tree.is_live("etc/os-release", Some(4)));
    assert_eq!(s.info.layers.len(), 5);

    // Absurd entry count: with a limit of 5 the 10-file layer is cut short.
    let mut opts = Options::default();
    opts.limits.max_entries = 5;
    let s =
        scan(&Target::ImageArchive { path: d.path().join("hostile.tar") }, &opts, &Rec::all()).expect("scan");
    assert!(
        s.warnings.iter().any(|w| w.message.contains("layer 3") && w.message.contains("max_entries")),
        "{:#?}",
        s.warnings
    );
}

#[test]
fn outer_archive_link_loop_and_missing_layer() {
    let good = Layer::plain(tar(&[E::File("etc/os-release", b"ID=x\n")]), "good");
    let img = Image::new(vec![good], "amd64");
    let cfg_name = format!("{}.json", hexof(&img.config_digest()));
    let manifest = serde_json::to_vec(&serde_json::json!([{
        "Config": cfg_name, "RepoTags": ["loop:1"], "Layers": ["a/layer.tar", "missing/layer.tar", "ok/layer.tar"]}]))
    .expect("json");
    let outer = tar(&[
        E::File("manifest.json", &manifest),
        E::File(&cfg_name, &img.config),
        E::Symlink("a/layer.tar", "../b/layer.tar"),
        E::Symlink("b/layer.tar", "../a/layer.tar"),
        E::File("ok/layer.tar", &img.layers[0].blob),
        E::Symlink("evil/layer.tar", "../../../etc/passwd"),
    ]);
    let d = tempfile::tempdir().expect("tempdir");
    let p = d.path().join("loop.tar");
    std::fs::write(&p, outer).expect("write");
    let rec = Rec::all();
    let s = scan(&Target::ImageArchive { path: p }, &Options::default(), &rec).expect("scan");
    let msgs: Vec<String> = s.warnings.iter().map(|w| w.to_string()).collect();
    assert!(msgs.iter().any(|m| m.contains("layer 0") && m.contains("too many links")), "{msgs:#?}");
    assert!(msgs.iter().any(|m| m.contains("layer 1") && m.contains("not in the archive")), "{msgs:#?}");
    assert!(msgs.iter().any(|m| m.contains("evil/layer.tar") && m.contains("escapes")), "{msgs:#?}");
    assert_eq!(rec.get("etc/os-release", Some(2)).as_deref(), Some(&b"ID=x\n"[..]));
}

#[test]
fn dir_target_smoke() {
    let d = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(d.path().join("etc")).expect("mkdir");
    std::fs::write(d.path().join("etc/os-release"), "ID=x\n").expect("write");
    let rec = Rec::all();
    let s = scan(
        &Target::Dir { path: d.path().to_path_buf(), kind: ArtifactKind::Rootfs },
        &Options::default(),
        &rec,
    )
    .expect("scan");
    assert_eq!(s.info.kind, ArtifactKind::Rootfs);
    assert_eq!(s.tree.len(), 1);
    assert!(s.tree.is_live("etc/os-release", None));
    assert_eq!(rec.get("etc/os-release", None).as_deref(), Some(&b"ID=x\n"[..]));
}

/// A manifest listing one layer 500 times: the layer is read once (its files reach the sink once, at its
/// first place) and one warning says so; the other layers keep their indexes.
#[test]
fn a_layer_listed_many_times_is_read_once() {
    let secret = Layer::gz(tar(&[E::File("app/.env", b"KEY=1")]), "secret");
    let other = Layer::gz(tar(&[E::File("etc/os-release", b"ID=x\n")]), "other");
    let mut layers = vec![other];
    for _ in 0..500 {
        layers.push(Layer { tar: secret.tar.clone(), blob: secret.blob.clone(), created_by: "again".into() });
    }
    let img = Image::new(layers, "amd64");
    let files = oci_layout(&[&img], "rep");
    let d = tempfile::tempdir().expect("tempdir");
    let p = d.path().join("rep.tar");
    write_tar(&files, &p);
    let rec = Rec::all();
    let s = scan(&Target::ImageArchive { path: p }, &Options::default(), &rec).expect("scan");
    assert_eq!(rec.keys(), vec![("app/.env".to_string(), Some(1)), ("etc/os-release".to_string(), Some(0))]);
    let msgs: Vec<String> = s.warnings.iter().map(|w| w.to_string()).collect();
    assert_eq!(msgs.len(), 1, "{msgs:?}");
    assert!(msgs[0].contains("listed 499 more times"), "{msgs:?}");
    assert_eq!(s.info.layers.len(), 501);
    assert!(s.tree.is_live("app/.env", Some(1)));
}
