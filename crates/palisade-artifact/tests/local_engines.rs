//! Images by name from real local engines: Debian's containerd and podman, each started in a private temp
//! directory with its own socket, the debootstrap fixture imported into it, then scanned through the
//! library and compared with a scan of the same archive. Needs root and `containerd`, `ctr`, `podman`,
//! `runc`; skips with a message otherwise. No test here talks to a network registry.

mod common;

use common::engines::{Containerd, JunkServer, Podman, fixture};
use common::*;
use palisade_artifact::{
    ArtifactError, Engines, FileMeta, FileSink, ImageSource, Options, PodmanCli, Scanned, Target, scan,
};
use palisade_core::Warnings;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

const NAME: &str = "palisade-fixture/bookworm";
const NS: &str = "palisade-test";

/// Records a hash of every file (not the content: the image is 170 MB).
#[derive(Default)]
struct Hashes(Mutex<BTreeMap<(String, Option<u32>), String>>);

impl FileSink for Hashes {
    fn wants(&self, _meta: &FileMeta) -> bool {
        true
    }
    fn accept(&self, meta: &FileMeta, data: &[u8], _w: &Warnings) {
        let h = hex::encode(Sha256::digest(data));
        self.0.lock().expect("lock").insert((meta.path.to_string(), meta.layer), h);
    }
}

type Files = BTreeMap<(String, Option<u32>), String>;

fn scan_hashes(target: &Target, opts: &Options) -> Result<(Scanned, Files), ArtifactError> {
    let sink = Hashes::default();
    let s = scan(target, opts, &sink)?;
    Ok((s, sink.0.into_inner().expect("lock")))
}

/// Engines that point nowhere real: every test says explicitly which engine it uses.
fn nowhere(dir: &Path) -> Engines {
    Engines {
        docker_host: Some(format!("unix://{}", dir.join("no-docker.sock").display())),
        podman_host: Some(format!("unix://{}", dir.join("no-podman.sock").display())),
        podman_cli: PodmanCli::Disabled,
        containerd_address: Some(dir.join("no-containerd.sock").display().to_string()),
        containerd_namespace: Some(NS.into()),
        timeout: Some(Duration::from_secs(20)),
    }
}

fn opts(sources: &[ImageSource], engines: Engines) -> Options {
    Options {
        platform: Some("linux/amd64".into()),
        image_sources: sources.to_vec(),
        engines,
        ..Options::default()
    }
}

fn by_name(name: &str) -> Target {
    Target::Image { reference: name.into() }
}

/// The engine's scan of the fixture must be the archive's: same image id, layers, files and tree.
fn assert_same_as_archive(archive: &Path, got: &(Scanned, Files), source: &str) {
    let (want, want_files) = scan_hashes(&Target::ImageArchive { path: archive.into() }, &Options::default())
        .expect("archive scan");
    let (s, files) = got;
    assert!(s.warnings.is_empty(), "{source}: {:#?}", s.warnings);
    assert_eq!(s.info.source.as_deref(), Some(source));
    assert_eq!(want.info.source.as_deref(), Some("archive"));
    assert_eq!(s.info.name, NAME);
    assert_eq!(s.info.id, want.info.id, "{source}: image id");
    assert_eq!(s.info.platform, want.info.platform);
    let diff_ids = |x: &Scanned| x.info.layers.iter().map(|l| l.diff_id.clone()).collect::<Vec<_>>();
    assert_eq!(diff_ids(s), diff_ids(&want), "{source}: layers");
    assert_eq!(s.info.config, want.info.config, "{source}: config");
    assert!(
        s.info.repo_tags.iter().any(|t| t == "docker.io/palisade-fixture/bookworm:latest"),
        "{source}: {:?}",
        s.info.repo_tags
    );
    assert!(!s.info.repo_digests.is_empty(), "{source}: the engine knows a repo digest");
    assert!(files.len() > 1000, "{source}: {} files", files.len());
    assert_eq!(files.len(), want_files.len(), "{source}: file count");
    assert!(files == &want_files, "{source}: file contents differ from the archive's");
    let status = ("var/lib/dpkg/status".to_string(), Some(0));
    assert!(files.contains_key(&status), "{source}: dpkg status streamed");
    assert!(s.tree.is_live("var/lib/dpkg/status", Some(0)));
}

#[test]
fn containerd_by_name_matches_the_archive() {
    let Some(archive) = fixture("bookworm.docker.tar") else { return };
    let Some(ctd) = Containerd::start() else { return };
    ctd.import(NS, &archive, &[]);
    let engines = Engines { containerd_address: Some(ctd.sock.display().to_string()), ..nowhere(ctd.dir()) };
    let got = scan_hashes(&by_name(NAME), &opts(&[ImageSource::Containerd], engines.clone())).expect("scan");
    assert_same_as_archive(&archive, &got, "containerd");
    assert_eq!(got.0.info.repo_tags, vec!["docker.io/palisade-fixture/bookworm:latest".to_string()]);
    assert!(got.0.info.repo_digests[0].starts_with("docker.io/palisade-fixture/bookworm@sha256:"));
    // The fully qualified name finds it too; another namespace does not have it.
    let full = scan_hashes(
        &by_name("docker.io/palisade-fixture/bookworm:latest"),
        &opts(&[ImageSource::Containerd], engines.clone()),
    );
    assert!(full.is_ok(), "{:?}", full.err());
    let other = Engines { containerd_namespace: Some("elsewhere".into()), ..engines };
    match scan_hashes(&by_name(NAME), &opts(&[ImageSource::Containerd], other)) {
        Err(ArtifactError::ImageNotFound { tried, .. }) => {
            assert!(
                tried.contains("containerd: no image") && tried.contains("namespace elsewhere"),
                "{tried}"
            )
        }
        other => panic!("expected ImageNotFound, got {:?}", other.map(|s| s.0.info)),
    }
}

#[test]
fn podman_socket_as_podman_and_as_docker_and_the_podman_binary_match_the_archive() {
    let Some(archive) = fixture("bookworm.docker.tar") else { return };
    let Some(mut pod) = Podman::new() else { return };
    pod.load(&archive);
    // The podman binary, no socket (the fallback).
    let engines = Engines { podman_cli: PodmanCli::Binary(pod.wrapper()), ..nowhere(pod.dir()) };
    let got = scan_hashes(&by_name(NAME), &opts(&[ImageSource::Podman], engines)).expect("podman save");
    assert_same_as_archive(&archive, &got, "podman");

    pod.serve();
    let sock = format!("unix://{}", pod.sock.display());
    // podman's API socket.
    let engines = Engines { podman_host: Some(sock.clone()), ..nowhere(pod.dir()) };
    let got = scan_hashes(&by_name(NAME), &opts(&[ImageSource::Podman], engines)).expect("podman API");
    assert_same_as_archive(&archive, &got, "podman");
    // The same socket as a Docker daemon (what DOCKER_HOST=unix://.../podman.sock does).
    let engines = Engines { docker_host: Some(sock), ..nowhere(pod.dir()) };
    let got = scan_hashes(&by_name(NAME), &opts(&[ImageSource::Docker], engines)).expect("docker API");
    assert_same_as_archive(&archive, &got, "docker");
}

/// A small image made in code, saved as an oci-archive (one platform) or a multi-platform index.
/// Returns the two archive paths and the digest of the arm64 layer blob.
fn small_images(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf, String) {
    let amd = Image::new(
        vec![Layer::gz(tar(&[E::Dir("etc/"), E::File("etc/os-release", b"ID=amd\n")]), "ADD amd")],
        "amd64",
    );
    let arm = Image::new(
        vec![Layer::gz(tar(&[E::Dir("etc/"), E::File("etc/os-release", b"ID=arm\n")]), "ADD arm")],
        "arm64",
    );
    let single = dir.join("single.oci.tar");
    write_tar(&oci_layout(&[&amd], "1"), &single);
    let multi = dir.join("multi.oci.tar");
    write_tar(&oci_layout(&[&amd, &arm], "1"), &multi);
    let arm_layer = sha(&arm.layers[0].blob);
    (single, multi, arm_layer)
}

#[test]
fn not_present_falls_through_to_the_next_source_and_every_miss_is_listed() {
    let Some(archive) = fixture("bookworm.docker.tar") else { return };
    let Some(ctd) = Containerd::start() else { return };
    let Some(mut pod) = Podman::new() else { return };
    pod.load(&archive);
    pod.serve();
    let work = tempfile::tempdir().expect("tempdir");
    let (single, _, _) = small_images(work.path());
    ctd.import(NS, &single, &["--base-name", "docker.io/palisade-test/small"]);
    let engines = Engines {
        podman_host: Some(format!("unix://{}", pod.sock.display())),
        containerd_address: Some(ctd.sock.display().to_string()),
        ..nowhere(work.path())
    };
    let local = [ImageSource::Docker, ImageSource::Podman, ImageSource::Containerd];

    // Only containerd has it: docker is absent (silently), podman says not found (silently).
    let sink = Rec::all();
    let s = scan(&by_name("palisade-test/small:1"), &opts(&local, engines.clone()), &sink).expect("scan");
    assert!(s.warnings.is_empty(), "{:#?}", s.warnings);
    assert_eq!(s.info.source.as_deref(), Some("containerd"));
    assert_eq!(sink.get("etc/os-release", Some(0)).as_deref(), Some(&b"ID=amd\n"[..]));

    // podman has the fixture and comes first.
    let s = scan(
        &by_name(NAME),
        &opts(&local, engines.clone()),
        &Rec { names: vec!["os-release"], ..Rec::default() },
    )
    .expect("scan");
    assert_eq!(s.info.source.as_deref(), Some("podman"));
    // With containerd first it is still podman's: containerd says not found.
    let order = [ImageSource::Containerd, ImageSource::Podman];
    let s = scan(
        &by_name(NAME),
        &opts(&order, engines.clone()),
        &Rec { names: vec!["os-release"], ..Rec::default() },
    )
    .expect("scan");
    assert_eq!(s.info.source.as_deref(), Some("podman"));
    assert!(s.warnings.is_empty(), "{:#?}", s.warnings);

    // Nowhere: one error naming what each source said, the registry included (a closed local port).
    let all = [ImageSource::Docker, ImageSource::Podman, ImageSource::Containerd, ImageSource::Remote];
    let missing = "127.0.0.1:9/palisade-test/missing:1";
    match scan(&by_name(missing), &opts(&all, engines), &Rec::all()) {
        Err(e @ ArtifactError::ImageNotFound { .. }) => {
            let text = e.to_string();
            assert!(text.starts_with(missing), "{text}");
            assert!(text.contains("docker: no socket at"), "{text}");
            assert!(text.contains("podman: "), "{text}");
            assert!(text.contains("containerd: no image"), "{text}");
            assert!(text.contains("remote: "), "{text}");
            assert!(text.contains("--image-src"), "{text}");
        }
        other => panic!("expected ImageNotFound, got {:?}", other.map(|s| s.info)),
    }
}

#[test]
fn socket_present_but_not_an_engine_is_a_warning_and_the_next_source_is_tried() {
    let Some(ctd) = Containerd::start() else { return };
    let work = tempfile::tempdir().expect("tempdir");
    let (single, _, _) = small_images(work.path());
    ctd.import(NS, &single, &["--base-name", "docker.io/palisade-test/small"]);
    let junk = JunkServer::start(b"hello, I am not an engine\n");
    let plain_file = work.path().join("not-a-socket");
    std::fs::write(&plain_file, b"").expect("write");
    let engines = Engines {
        docker_host: Some(format!("unix://{}", junk.sock.display())),
        podman_host: Some(format!("unix://{}", plain_file.display())),
        containerd_address: Some(ctd.sock.display().to_string()),
        ..nowhere(work.path())
    };
    let local = [ImageSource::Docker, ImageSource::Podman, ImageSource::Containerd];
    let s = scan(&by_name("palisade-test/small:1"), &opts(&local, engines), &Rec::all()).expect("scan");
    assert_eq!(s.info.source.as_deref(), Some("containerd"));
    let msgs: Vec<&str> = s.warnings.iter().map(|w| w.message.as_str()).collect();
    assert_eq!(msgs.len(), 2, "{msgs:#?}");
    assert!(msgs[0].contains("docker: ") && msgs[0].contains("not a Docker API server"), "{msgs:#?}");
    assert!(msgs[0].contains("trying podman"), "{msgs:#?}");
    assert!(msgs[1].contains("podman: ") && msgs[1].contains("connection refused"), "{msgs:#?}");
    assert!(msgs[1].contains("trying containerd"), "{msgs:#?}");

    // containerd's socket answered by something that is not containerd, then one that never answers.
    for (server, expect) in
        [(JunkServer::start(b"junk\n"), "not a containerd"), (JunkServer::start(b""), "no answer")]
    {
        let engines = Engines {
            containerd_address: Some(server.sock.display().to_string()),
            timeout: Some(Duration::from_secs(2)),
            ..nowhere(work.path())
        };
        let r =
            scan(&by_name("palisade-test/small:1"), &opts(&[ImageSource::Containerd], engines), &Rec::all());
        match r {
            Err(ArtifactError::ImageNotFound { tried, .. }) => assert!(tried.contains(expect), "{tried}"),
            other => panic!("expected ImageNotFound, got {:?}", other.map(|s| s.info)),
        }
    }
}

#[test]
fn containerd_multi_platform_index_is_resolved_with_platform() {
    let Some(ctd) = Containerd::start() else { return };
    let work = tempfile::tempdir().expect("tempdir");
    let (_, multi, arm_layer) = small_images(work.path());
    ctd.import(NS, &multi, &["--all-platforms", "--base-name", "docker.io/palisade-test/multi"]);
    let engines =
        Engines { containerd_address: Some(ctd.sock.display().to_string()), ..nowhere(work.path()) };
    let name = "palisade-test/multi:1";
    for (platform, id) in [("linux/amd64", "ID=amd\n"), ("linux/arm64", "ID=arm\n")] {
        let o =
            Options { platform: Some(platform.into()), ..opts(&[ImageSource::Containerd], engines.clone()) };
        let sink = Rec::all();
        let s = scan(&by_name(name), &o, &sink).expect("scan");
        assert!(s.warnings.is_empty(), "{platform}: {:#?}", s.warnings);
        assert_eq!(s.info.platform.as_deref(), Some(platform));
        assert_eq!(sink.get("etc/os-release", Some(0)).as_deref(), Some(id.as_bytes()), "{platform}");
        assert_eq!(s.info.layers.len(), 1);
    }
    let o = Options { platform: Some("linux/s390x".into()), ..opts(&[ImageSource::Containerd], engines) };
    match scan(&by_name(name), &o, &Rec::all()) {
        Err(ArtifactError::ImageNotFound { tried, .. }) => {
            assert!(tried.contains("linux/s390x") && tried.contains("linux/arm64"), "{tried}")
        }
        other => panic!("expected ImageNotFound, got {:?}", other.map(|s| s.info)),
    }

    // The arm64 layer blob is missing from the store (a partial pull): said before any layer is read. All
    // platforms are imported so that the removed layer is the only missing blob (imported without them, the
    // arm64 manifest itself is unreferenced and the garbage collector may remove it during the scan).
    ctd.import("partial", &multi, &["--all-platforms", "--base-name", "docker.io/palisade-test/multi"]);
    ctd.ctr("partial", &["content", "rm", &arm_layer]);
    let engines = Engines {
        containerd_address: Some(ctd.sock.display().to_string()),
        containerd_namespace: Some("partial".into()),
        ..nowhere(work.path())
    };
    let o = Options { platform: Some("linux/arm64".into()), ..opts(&[ImageSource::Containerd], engines) };
    let sink = Rec::all();
    match scan(&by_name(name), &o, &sink) {
        Err(ArtifactError::ImageNotFound { tried, .. }) => {
            assert!(tried.contains("containerd: image"), "{tried}")
        }
        other => panic!("expected ImageNotFound, got {:?}", other.map(|s| s.info)),
    }
    assert!(sink.keys().is_empty(), "nothing streamed from a partial image");
}
