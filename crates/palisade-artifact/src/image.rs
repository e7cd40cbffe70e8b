//! Local container images: docker-archive, OCI image layout and oci-archive.
//!
//! - docker-archive (`docker save`): `manifest.json` names the config and the layer files, in the old
//!   `<id>/layer.tar` layout or the newer `blobs/sha256/<hex>` one. Several images in one archive: the first
//!   is scanned (warning). Accepted as a tar (optionally gzip/zstd compressed) or as an unpacked directory.
//! - OCI layout directory: `oci-layout` + `index.json`; nested indexes are followed, the manifest is chosen
//!   by platform (`--platform`, default `linux/amd64`, or the only image there is).
//! - oci-archive: a tar of an OCI layout. Members are read in place (an index of member offsets is built by
//!   one pass over the headers; members are then read with positional reads), so nothing is unpacked.
//!   A compressed archive is first decompressed into an anonymous temp file.
//!
//! Names inside the archive are normalized; blob names come only from validated digests; symlinks inside a
//! layout directory or archive are resolved only when they stay inside it (and at most 8 deep). Layers are
//! read in parallel by [`crate::layer`] and merged in order into the [`FileTree`].

use crate::cache::{self, LayerCache};
use crate::layer::{self, Blob, LayerSpec, ReadSeek};
use crate::tree::FileTree;
use crate::{ArtifactError, FileSink, Options, paths, warn};
use palisade_core::{ArtifactInfo, ArtifactKind, HistoryEntry, ImageConfig, LayerInfo, Warnings};
use rayon::prelude::*;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::io::{self, Read, Seek};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Largest JSON document (manifest, index, config) read from an image.
pub(crate) const MAX_JSON: u64 = 16 << 20;
/// Link hops followed inside an archive before giving up.
const MAX_LINK_HOPS: usize = 8;

/// The on-disk format of a local image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    /// `docker save` output (tar or unpacked directory).
    DockerArchive,
    /// An OCI image layout directory.
    OciLayout,
    /// A tar of an OCI image layout.
    OciArchive,
}

impl std::fmt::Display for ImageFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ImageFormat::DockerArchive => "docker-archive",
            ImageFormat::OciLayout => "oci-layout",
            ImageFormat::OciArchive => "oci-archive",
        })
    }
}

/// Say what kind of image `path` is, or `None` when it is not one.
pub fn detect(path: &Path) -> Option<ImageFormat> {
    let md = std::fs::metadata(path).ok()?;
    if md.is_dir() {
        if path.join("oci-layout").is_file() {
            return Some(ImageFormat::OciLayout);
        }
        if path.join("manifest.json").is_file() {
            return Some(ImageFormat::DockerArchive);
        }
        return None;
    }
    let mut file = File::open(path).ok()?;
    let mut head = [0u8; 8];
    let n = file.read(&mut head).ok()?;
    drop(file);
    let file = File::open(path).ok()?;
    let names = match layer::sniff(head.get(..n)?) {
        layer::Compression::Plain => {
            // Seek past member contents: only the headers of a plain archive are read.
            let mut ar = tar::Archive::new(file);
            let Ok(entries) = ar.entries_with_seek() else { return None };
            marker_names(entries)
        }
        layer::Compression::Gzip => top_names(flate2::read::MultiGzDecoder::new(file)),
        layer::Compression::Zstd => top_names(zstd::stream::read::Decoder::new(file).ok()?),
    };
    if names.iter().any(|n| n == "manifest.json") {
        Some(ImageFormat::DockerArchive)
    } else if names.iter().any(|n| n == "oci-layout" || n == "index.json") {
        Some(ImageFormat::OciArchive)
    } else {
        None
    }
}

/// Normalized names of the marker files found in a tar stream (stops at the first error).
fn top_names(r: impl Read) -> Vec<String> {
    let mut ar = tar::Archive::new(r);
    match ar.entries() {
        Ok(entries) => marker_names(entries),
        Err(_) => Vec::new(),
    }
}

fn marker_names<R: Read>(entries: tar::Entries<'_, R>) -> Vec<String> {
    let mut out = Vec::new();
    for e in entries {
        let Ok(e) = e else { break };
        let name = paths::normalize(&String::from_utf8_lossy(&e.path_bytes())).unwrap_or_default();
        if matches!(name.as_str(), "manifest.json" | "oci-layout" | "index.json") {
            out.push(name);
        }
    }
    out
}

/// Where the members of a local image live.
pub(crate) enum Source {
    /// An unpacked directory (canonical path).
    Dir(PathBuf),
    /// A tar file: member name → what it is.
    Tar { file: Arc<File>, members: HashMap<String, Member> },
}

#[derive(Debug, Clone)]
pub(crate) enum Member {
    Data { offset: u64, size: u64 },
    Link(String),
}

/// A member of a tar file read with positional reads, so several can be read at once from one handle.
struct Section {
    file: Arc<File>,
    start: u64,
    pos: u64,
    end: u64,
}

impl Seek for Section {
    fn seek(&mut self, to: io::SeekFrom) -> io::Result<u64> {
        let len = self.end.saturating_sub(self.start);
        let rel = self.pos.saturating_sub(self.start);
        let new = match to {
            io::SeekFrom::Start(n) => Some(n),
            io::SeekFrom::End(d) => len.checked_add_signed(d),
            io::SeekFrom::Current(d) => rel.checked_add_signed(d),
        }
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before the start of the member"))?;
        self.pos = self.start.saturating_add(new);
        Ok(new)
    }
}

impl Read for Section {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = usize::try_from(self.end.saturating_sub(self.pos)).unwrap_or(usize::MAX);
        let want = buf.len().min(left);
        if want == 0 {
            return Ok(0);
        }
        let n = self.file.read_at(&mut buf[..want], self.pos)?;
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "archive member is truncated"));
        }
        self.pos += n as u64;
        Ok(n)
    }
}

impl Source {
    /// Open `path` (a docker-archive/oci-archive tar, compressed or not, or a directory).
    fn open(path: &Path, target: &str, opts: &Options, warnings: &Warnings) -> Result<Source, ArtifactError> {
        let target = target.to_string();
        let md = std::fs::metadata(path).map_err(|e| ArtifactError::io(&target, &e))?;
        if md.is_dir() {
            let canon = std::fs::canonicalize(path).map_err(|e| ArtifactError::io(&target, &e))?;
            return Ok(Source::Dir(canon));
        }
        let mut file = File::open(path).map_err(|e| ArtifactError::io(&target, &e))?;
        let mut head = [0u8; 8];
        let n = file.read(&mut head).map_err(|e| ArtifactError::io(&target, &e))?;
        let file = match layer::sniff(head.get(..n).unwrap_or_default()) {
            layer::Compression::Plain => File::open(path).map_err(|e| ArtifactError::io(&target, &e))?,
            c => {
                opts.stage(format!("decompressing {target}"));
                let raw = File::open(path).map_err(|e| ArtifactError::io(&target, &e))?;
                let dec: Box<dyn Read> = match c {
                    layer::Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(raw)),
                    _ => Box::new(
                        zstd::stream::read::Decoder::new(raw).map_err(|e| ArtifactError::io(&target, &e))?,
                    ),
                };
                let mut tmp = tempfile::tempfile().map_err(|e| ArtifactError::io("temporary file", &e))?;
                let cap = opts.limits.max_layer_bytes;
                let copied = io::copy(&mut dec.take(cap.saturating_add(1)), &mut tmp).map_err(|e| {
                    ArtifactError::NotAnImage {
                        target: target.clone(),
                        reason: format!("decompression failed: {e}"),
                    }
                })?;
                if copied > cap {
                    return Err(ArtifactError::NotAnImage {
                        target,
                        reason: format!("decompresses to more than {cap} bytes (limit max_layer_bytes)"),
                    });
                }
                tmp
            }
        };
        let file = Arc::new(file);
        let members = index_tar(&file, &target, warnings)?;
        Ok(Source::Tar { file, members })
    }

    /// Open a member for streaming; returns the reader and the member size.
    fn open_member(&self, name: &str) -> io::Result<(Box<dyn ReadSeek + Send>, u64)> {
        let norm = paths::normalize(name).filter(|n| !n.is_empty()).ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, format!("`{name}` escapes the archive"))
        })?;
        match self {
            Source::Dir(root) => {
                let p = std::fs::canonicalize(root.join(&norm))?;
                if !p.starts_with(root) {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidInput,
                        format!("`{name}` links outside the image directory"),
                    ));
                }
                let f = File::open(&p)?;
                let size = f.metadata()?.len();
                Ok((Box::new(f), size))
            }
            Source::Tar { file, members } => {
                let mut cur = norm;
                for _ in 0..MAX_LINK_HOPS {
                    match members.get(&cur) {
                        Some(Member::Data { offset, size }) => {
                            let s = Section {
                                file: file.clone(),
                                start: *offset,
                                pos: *offset,
                                end: offset.saturating_add(*size),
                            };
                            return Ok((Box::new(s), *size));
                        }
                        Some(Member::Link(t)) => cur = t.clone(),
                        None => {
                            return Err(io::Error::new(
                                io::ErrorKind::NotFound,
                                format!("`{cur}` is not in the archive"),
                            ));
                        }
                    }
                }
                Err(io::Error::new(io::ErrorKind::InvalidData, format!("`{name}`: too many links (loop?)")))
            }
        }
    }

    fn read_json<T: for<'de> Deserialize<'de>>(&self, name: &str) -> Result<(T, Vec<u8>), String> {
        let (r, size) = self.open_member(name).map_err(|e| format!("cannot read `{name}`: {e}"))?;
        if size > MAX_JSON {
            return Err(format!("`{name}` is {size} bytes, too large for a JSON document"));
        }
        let mut buf = Vec::new();
        r.take(MAX_JSON).read_to_end(&mut buf).map_err(|e| format!("cannot read `{name}`: {e}"))?;
        let v = serde_json::from_slice(&buf).map_err(|e| format!("`{name}` is not valid: {e}"))?;
        Ok((v, buf))
    }
}

/// One pass over the tar headers: where each member's data starts.
fn index_tar(
    file: &Arc<File>,
    target: &str,
    warnings: &Warnings,
) -> Result<HashMap<String, Member>, ArtifactError> {
    let mut members = HashMap::new();
    let mut handle = file.as_ref();
    handle.seek(io::SeekFrom::Start(0)).map_err(|e| ArtifactError::io(target, &e))?;
    let mut ar = tar::Archive::new(handle);
    let entries = ar.entries_with_seek().map_err(|e| ArtifactError::NotAnImage {
        target: target.into(),
        reason: format!("not a tar archive: {e}"),
    })?;
    for e in entries {
        let e = match e {
            Ok(e) => e,
            Err(err) => {
                if members.is_empty() {
                    return Err(ArtifactError::NotAnImage {
                        target: target.into(),
                        reason: format!("not a tar archive: {err}"),
                    });
                }
                warn(
                    warnings,
                    None,
                    None,
                    format!("{target}: archive is corrupt or truncated ({err}); using what was read"),
                );
                break;
            }
        };
        let raw = String::from_utf8_lossy(&e.path_bytes()).into_owned();
        let Some(name) = paths::normalize(&raw).filter(|n| !n.is_empty()) else {
            warn(
                warnings,
                Some(&raw),
                None,
                format!("{target}: archive member escapes the archive root; skipped"),
            );
            continue;
        };
        match e.header().entry_type() {
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                members.insert(name, Member::Data { offset: e.raw_file_position(), size: e.size() });
            }
            tar::EntryType::Symlink | tar::EntryType::Link => {
                let t =
                    e.link_name_bytes().map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
                // Symlinks are relative to the member's directory, hard links to the archive root.
                let joined = if e.header().entry_type() == tar::EntryType::Symlink && !t.starts_with('/') {
                    paths::join(paths::parent(&name), &t)
                } else {
                    t.clone()
                };
                match paths::normalize(&joined) {
                    Some(t) if !t.is_empty() => {
                        members.insert(name, Member::Link(t));
                    }
                    _ => warn(
                        warnings,
                        Some(&name),
                        None,
                        format!("{target}: link to `{t}` escapes the archive; ignored"),
                    ),
                }
            }
            _ => {}
        }
    }
    Ok(members)
}

// ---- JSON documents -------------------------------------------------------------------------------------

/// Accept `null`, a string or an array of strings.
fn lenient_vec<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum V {
        One(String),
        Many(Vec<String>),
    }
    Ok(match Option::<V>::deserialize(d)? {
        None => Vec::new(),
        Some(V::One(s)) => vec![s],
        Some(V::Many(v)) => v,
    })
}

#[derive(Debug, Deserialize)]
struct DockerManifestEntry {
    #[serde(rename = "Config")]
    config: String,
    #[serde(rename = "RepoTags", default, deserialize_with = "lenient_vec")]
    repo_tags: Vec<String>,
    #[serde(rename = "Layers", default)]
    layers: Vec<String>,
}

/// An OCI/Docker content descriptor.
#[derive(Debug, Clone, Deserialize, Default)]
pub(crate) struct Descriptor {
    #[serde(rename = "mediaType", default)]
    pub media_type: String,
    pub digest: String,
    #[serde(default)]
    pub size: i64,
    #[serde(default)]
    pub platform: Option<PlatformSpec>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize, Default, PartialEq, Eq)]
pub(crate) struct PlatformSpec {
    #[serde(default)]
    pub os: String,
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub variant: Option<String>,
}

impl std::fmt::Display for PlatformSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = self.variant.as_deref().filter(|v| !v.is_empty()) {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

impl PlatformSpec {
    /// Parse `os/arch[/variant]` (a bare `arch` means linux).
    pub(crate) fn parse(s: &str) -> PlatformSpec {
        let mut it = s.split('/');
        let (os, arch) = match (it.next(), it.next()) {
            (Some(a), None) => ("linux", a),
            (Some(o), Some(a)) => (o, a),
            _ => ("linux", "amd64"),
        };
        PlatformSpec { os: os.into(), architecture: arch.into(), variant: it.next().map(str::to_string) }
    }

    fn norm_arch(a: &str) -> &str {
        match a {
            "x86_64" | "x86-64" => "amd64",
            "aarch64" => "arm64",
            "i386" | "i686" => "386",
            other => other,
        }
    }

    /// Does this (available) platform satisfy `want`? A missing variant in `want` accepts any; arm64's
    /// default variant `v8` equals no variant.
    pub(crate) fn satisfies(&self, want: &PlatformSpec) -> bool {
        let norm_v = |arch: &str, v: &Option<String>| match (arch, v.as_deref()) {
            ("arm64", Some("v8")) | (_, Some("")) => None,
            (_, v) => v.map(str::to_string),
        };
        let (a, b) = (Self::norm_arch(&self.architecture), Self::norm_arch(&want.architecture));
        self.os.eq_ignore_ascii_case(&want.os)
            && a == b
            && (want.variant.is_none() || norm_v(a, &self.variant) == norm_v(b, &want.variant))
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct IndexDoc {
    #[serde(default)]
    pub manifests: Vec<Descriptor>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ManifestDoc {
    pub config: Descriptor,
    #[serde(default)]
    pub layers: Vec<Descriptor>,
}

#[derive(Debug, Deserialize, Default)]
struct ConfigDoc {
    #[serde(default)]
    architecture: Option<String>,
    #[serde(default)]
    os: Option<String>,
    #[serde(default)]
    variant: Option<String>,
    #[serde(default)]
    created: Option<String>,
    #[serde(default)]
    config: Option<ContainerConfig>,
    #[serde(default)]
    rootfs: Option<RootFs>,
    #[serde(default)]
    history: Vec<HistoryDoc>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct ContainerConfig {
    #[serde(default)]
    user: Option<String>,
    #[serde(default, deserialize_with = "lenient_vec")]
    env: Vec<String>,
    #[serde(default)]
    exposed_ports: Option<BTreeMap<String, serde_json::Value>>,
    #[serde(default, deserialize_with = "lenient_vec")]
    entrypoint: Vec<String>,
    #[serde(default, deserialize_with = "lenient_vec")]
    cmd: Vec<String>,
    #[serde(default)]
    working_dir: Option<String>,
    #[serde(default)]
    labels: Option<BTreeMap<String, String>>,
    #[serde(default)]
    healthcheck: Option<Healthcheck>,
}

#[derive(Debug, Deserialize, Default)]
struct Healthcheck {
    #[serde(rename = "Test", default, deserialize_with = "lenient_vec")]
    test: Vec<String>,
}

#[derive(Debug, Deserialize, Default)]
struct RootFs {
    #[serde(default)]
    diff_ids: Vec<String>,
}

#[derive(Debug, Deserialize, Default)]
struct HistoryDoc {
    #[serde(default)]
    created: Option<String>,
    #[serde(default)]
    created_by: Option<String>,
    #[serde(default)]
    comment: Option<String>,
    #[serde(default)]
    empty_layer: bool,
}

pub(crate) const MT_OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub(crate) const MT_DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub(crate) const MT_OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub(crate) const MT_DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";

pub(crate) fn is_index(mt: &str) -> bool {
    mt == MT_OCI_INDEX || mt == MT_DOCKER_LIST
}

/// The `blobs/<alg>/<hex>` name of a digest, if the digest is well formed.
pub(crate) fn blob_path(digest: &str) -> Option<String> {
    let (alg, hex) = digest.split_once(':')?;
    let alg_ok = !alg.is_empty()
        && alg.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || b"+._-".contains(&c));
    let hex_ok = !hex.is_empty()
        && hex.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'=' || c == b'_' || c == b'-');
    (alg_ok && hex_ok).then(|| format!("blobs/{alg}/{hex}"))
}

pub(crate) fn sha256_digest(data: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(data)))
}

/// An image manifest that may be chosen.
#[derive(Debug, Clone)]
pub(crate) struct Candidate {
    pub desc: Descriptor,
    /// Tags from annotations of the index entries on the way.
    pub names: Vec<String>,
}

/// Choose the image manifest for the requested platform. Attestation manifests are never chosen.
pub(crate) fn choose(
    target: &str,
    cands: Vec<Candidate>,
    requested: Option<&str>,
    warnings: &Warnings,
) -> Result<Candidate, ArtifactError> {
    let cands: Vec<Candidate> = cands
        .into_iter()
        .filter(|c| {
            c.desc.annotations.get("vnd.docker.reference.type").map(String::as_str)
                != Some("attestation-manifest")
                && c.desc.platform.as_ref().is_none_or(|p| p.os != "unknown")
        })
        .collect();
    let available = || {
        let v: Vec<String> =
            cands.iter().filter_map(|c| c.desc.platform.as_ref().map(|p| p.to_string())).collect();
        if v.is_empty() { "none".to_string() } else { v.join(", ") }
    };
    if cands.is_empty() {
        return Err(ArtifactError::NotAnImage {
            target: target.into(),
            reason: "the index lists no image manifest".into(),
        });
    }
    if requested.is_none() && cands.len() == 1 {
        return cands.into_iter().next().ok_or_else(|| unreachable_err(target));
    }
    let want = PlatformSpec::parse(requested.unwrap_or("linux/amd64"));
    let mut matching: Vec<&Candidate> =
        cands.iter().filter(|c| c.desc.platform.as_ref().is_some_and(|p| p.satisfies(&want))).collect();
    if matching.is_empty() {
        // Manifests without a platform in the index: accept them (the config is checked later).
        matching = cands.iter().filter(|c| c.desc.platform.is_none()).collect();
    }
    let Some(first) = matching.first() else {
        return Err(ArtifactError::NoMatchingPlatform {
            target: target.into(),
            requested: want.to_string(),
            available: available(),
        });
    };
    if matching.len() > 1 {
        warn(
            warnings,
            None,
            None,
            format!(
                "{target}: {} images match platform {want}; scanning {}",
                matching.len(),
                first.desc.digest
            ),
        );
    }
    Ok((*first).clone())
}

fn unreachable_err(target: &str) -> ArtifactError {
    ArtifactError::NotAnImage { target: target.into(), reason: "no image manifest".into() }
}

/// A layer to read: its spec and the name of its blob in the source.
pub(crate) struct PlannedLayer {
    pub spec: LayerSpec,
    pub blob: String,
}

/// Fill [`ArtifactInfo`] from a config document and the manifest's layer list.
pub(crate) fn build_info(
    target: &str,
    name: &str,
    config_bytes: &[u8],
    config_digest: String,
    layers: &[(Option<String>, Option<u64>, String)],
    requested_platform: Option<&str>,
    warnings: &Warnings,
) -> Result<(ArtifactInfo, Vec<PlannedLayer>), ArtifactError> {
    // One wrongly typed field (`"User": 5`) is dropped with a warning; the rest of the config is used.
    let (cfg, fixed): (ConfigDoc, _) = palisade_core::lenient::from_slice(config_bytes).map_err(|e| {
        ArtifactError::NotAnImage { target: target.into(), reason: format!("image config is not valid: {e}") }
    })?;
    for note in fixed {
        warn(warnings, None, None, format!("{target}: image config: {note}"));
    }
    let diff_ids = cfg.rootfs.as_ref().map(|r| r.diff_ids.clone()).unwrap_or_default();
    if diff_ids.len() != layers.len() {
        warn(
            warnings,
            None,
            None,
            format!(
                "{target}: manifest lists {} layers but the config has {} diff_ids",
                layers.len(),
                diff_ids.len()
            ),
        );
    }
    let created_by: Vec<Option<String>> =
        cfg.history.iter().filter(|h| !h.empty_layer).map(|h| h.created_by.clone()).collect();
    let mut info = ArtifactInfo::new(ArtifactKind::Image, name);
    info.id = Some(config_digest);
    let plat = PlatformSpec {
        os: cfg.os.clone().unwrap_or_default(),
        architecture: cfg.architecture.clone().unwrap_or_default(),
        variant: cfg.variant.clone(),
    };
    if !plat.os.is_empty() {
        info.platform = Some(plat.to_string());
        if let Some(req) = requested_platform
            && !plat.satisfies(&PlatformSpec::parse(req))
        {
            warn(warnings, None, None, format!("{target}: image is {plat}, not the requested {req}"));
        }
    }
    let mut planned = Vec::new();
    // A manifest may list one blob many times (5,000 times in a hostile image): it is read once, at its
    // first place, so its files and findings are not repeated; one warning per repeated blob says so.
    let mut first_of: HashMap<&str, (u32, u32)> = HashMap::new();
    for (i, (digest, size, blob)) in layers.iter().enumerate() {
        let index = u32::try_from(i).unwrap_or(u32::MAX);
        let diff_id = diff_ids.get(i).cloned();
        info.layers.push(LayerInfo {
            index,
            digest: digest.clone(),
            diff_id: diff_id.clone(),
            created_by: created_by.get(i).cloned().flatten(),
            size: *size,
        });
        let key = digest.as_deref().unwrap_or(blob.as_str());
        if let Some((_, repeats)) = first_of.get_mut(key) {
            *repeats += 1;
            continue;
        }
        first_of.insert(key, (index, 0));
        planned.push(PlannedLayer {
            spec: LayerSpec { index, digest: digest.clone(), diff_id },
            blob: blob.clone(),
        });
    }
    let mut repeated: Vec<(u32, u32, &str)> =
        first_of.iter().filter(|(_, (_, n))| *n > 0).map(|(k, (i, n))| (*i, *n, *k)).collect();
    repeated.sort_unstable();
    for (index, n, key) in repeated {
        warn(
            warnings,
            None,
            Some(index),
            format!("{target}: layer {index} ({key}) is listed {n} more times in the manifest; read once"),
        );
    }
    let c = cfg.config.unwrap_or_default();
    info.config = Some(ImageConfig {
        os: cfg.os,
        architecture: cfg.architecture,
        variant: cfg.variant,
        created: cfg.created,
        user: c.user,
        env: c.env,
        exposed_ports: c.exposed_ports.map(|m| m.into_keys().collect()).unwrap_or_default(),
        entrypoint: c.entrypoint,
        cmd: c.cmd,
        working_dir: c.working_dir.filter(|w| !w.is_empty()),
        labels: c.labels.unwrap_or_default(),
        healthcheck: c.healthcheck.map(|h| h.test).filter(|t| !t.is_empty()),
        history: cfg
            .history
            .into_iter()
            .map(|h| HistoryEntry {
                created: h.created,
                created_by: h.created_by,
                comment: h.comment,
                empty_layer: h.empty_layer,
            })
            .collect(),
    });
    Ok((info, planned))
}

/// The layer cache with this scan's part of the entry key, when the cache is used: when asked for and when
/// every sink can export its results.
fn layer_cache_for<'a>(opts: &'a Options, sink: &dyn FileSink) -> Option<(&'a LayerCache, String)> {
    opts.layer_cache.as_ref().zip(sink.cache_key()).map(|(c, k)| (c, format!("{k}\n{:?}", opts.limits)))
}

/// The blobs of `layers` whose results the layer cache holds for this scan: a source that has to fetch
/// blobs (a registry) need not fetch these. Should an entry vanish before it is read, the layer is fetched
/// then ([`read_layers_with`] opens it).
pub(crate) fn cached_blobs(layers: &[PlannedLayer], opts: &Options, sink: &dyn FileSink) -> HashSet<String> {
    let Some((cache, key)) = layer_cache_for(opts, sink) else { return HashSet::new() };
    layers
        .iter()
        .filter(|l| {
            l.spec
                .digest
                .as_deref()
                .or(l.spec.diff_id.as_deref())
                .is_some_and(|id| cache.contains(&LayerCache::key(id, &key)))
        })
        .map(|l| l.blob.clone())
        .collect()
}

/// Read all layers (in parallel), stream their files, merge them into the final tree, and fill in digests
/// the manifest did not give. A layer served from the cache must still have its blob (`open` succeeds).
pub(crate) fn read_layers<F>(
    open: F,
    layers: &[PlannedLayer],
    info: &mut ArtifactInfo,
    opts: &Options,
    sink: &dyn FileSink,
    warnings: &Warnings,
) -> FileTree
where
    F: Fn(&str) -> io::Result<Blob> + Sync,
{
    let present = |blob: &str| open(blob).is_ok();
    read_layers_with(&open, present, layers, info, opts, sink, warnings)
}

/// [`read_layers`], with `present` telling whether a layer's blob exists without opening it (a registry's
/// manifest lists its blobs: a cached layer is not downloaded to find out).
pub(crate) fn read_layers_with<F, P>(
    open: F,
    present: P,
    layers: &[PlannedLayer],
    info: &mut ArtifactInfo,
    opts: &Options,
    sink: &dyn FileSink,
    warnings: &Warnings,
) -> FileTree
where
    F: Fn(&str) -> io::Result<Blob> + Sync,
    P: Fn(&str) -> bool + Sync,
{
    let total = layers.len();
    opts.bump(|p| &p.layers_total, total as u64);
    let cache = layer_cache_for(opts, sink);
    let wrote = std::sync::atomic::AtomicBool::new(false);
    let outcomes: Vec<layer::LayerOutcome> = layers
        .par_iter()
        .map(|l| {
            opts.stage(format!("reading layer {}/{total}", l.spec.index + 1));
            let out = match &cache {
                Some((c, key)) => {
                    let out = cached_layer(&present, l, c, key, sink, warnings);
                    out.unwrap_or_else(|| {
                        let out = read_layer_from(&open, l, opts, sink, warnings);
                        if store_layer(&open, l, &out, c, key, sink, warnings) {
                            wrote.store(true, std::sync::atomic::Ordering::Relaxed);
                        }
                        out
                    })
                }
                None => read_layer_from(&open, l, opts, sink, warnings),
            };
            opts.bump(|p| &p.layers_done, 1);
            out
        })
        .collect();
    if let Some((c, _)) = &cache
        && wrote.into_inner()
        && let Err(e) = c.trim()
    {
        warn(warnings, None, None, format!("layer cache {}: cannot trim it: {e}", c.dir().display()));
    }
    let mut tree = FileTree::layered();
    for (l, out) in layers.iter().zip(&outcomes) {
        let idx = l.spec.index;
        tree.apply_layer(idx, &out.entries);
        if let Some(li) = info.layers.get_mut(idx as usize) {
            if li.digest.is_none() {
                li.digest = out.digest.clone();
            }
            if li.size.is_none() && out.stored_size > 0 {
                li.size = Some(out.stored_size);
            }
        }
    }
    tree
}

/// Open and read one layer, warning when it cannot be opened.
fn read_layer_from<F>(
    open: &F,
    l: &PlannedLayer,
    opts: &Options,
    sink: &dyn FileSink,
    warnings: &Warnings,
) -> layer::LayerOutcome
where
    F: Fn(&str) -> io::Result<Blob> + Sync,
{
    match open(&l.blob) {
        Ok(blob) => layer::read_blob(blob, &l.spec, opts, sink, warnings),
        Err(e) => {
            warn(
                warnings,
                None,
                Some(l.spec.index),
                format!("layer {}: cannot open blob `{}`: {e}; layer skipped", l.spec.index, l.blob),
            );
            layer::LayerOutcome::default()
        }
    }
}

/// A layer from the cache, when there is an entry for the digest the image names it by and its blob is
/// there. Entries were verified when written; see module `cache` for why the name is trusted here.
fn cached_layer<P>(
    present: &P,
    l: &PlannedLayer,
    cache: &LayerCache,
    sink_key: &str,
    sink: &dyn FileSink,
    warnings: &Warnings,
) -> Option<layer::LayerOutcome>
where
    P: Fn(&str) -> bool + Sync,
{
    let id = l.spec.digest.as_deref().or(l.spec.diff_id.as_deref())?;
    let hit = cache.get(&LayerCache::key(id, sink_key))?;
    // The blob must be there (a missing one is reported by the fresh read); its content is not re-hashed.
    if !present(&l.blob) {
        return None;
    }
    let index = l.spec.index;
    sink.import_layer(index, hit.sinks).ok()?;
    tracing::debug!("layer {index} ({id}): results from the layer cache");
    for mut w in hit.warnings {
        w.layer = Some(index);
        warnings.push(w);
    }
    Some(layer::LayerOutcome {
        entries: hit.entries.into_owned(),
        digest: Some(id.to_string()),
        stored_size: hit.stored_size,
        verified: true,
        bytes_read: 0,
    })
}

/// Keep what reading `l` produced in the cache, under the digest its content was verified to have; true
/// when an entry was written.
fn store_layer<F>(
    open: &F,
    l: &PlannedLayer,
    out: &layer::LayerOutcome,
    cache: &LayerCache,
    sink_key: &str,
    sink: &dyn FileSink,
    warnings: &Warnings,
) -> bool
where
    F: Fn(&str) -> io::Result<Blob> + Sync,
{
    let index = l.spec.index;
    let id = if out.verified {
        out.digest.clone()
    } else if out.bytes_read.saturating_mul(4) < out.stored_size {
        // Read by seeking, and the scanners wanted little of it: reading that again is cheaper than the
        // hashing an entry needs, so the layer is not cached.
        return false;
    } else {
        // Read by seeking: hash the blob in one sequential pass.
        match open(&l.blob) {
            Ok(Blob::Seekable(r)) => cache::hash_blob(r).ok(),
            _ => None,
        }
    };
    let Some(id) = id else { return false };
    if let Some(claimed) = out.digest.as_deref() {
        layer::check_layer_digest(&l.spec, claimed, &id, warnings);
    }
    let Some(sinks) = sink.export_layer(index) else { return false };
    let entry = cache::CachedLayer {
        format: cache::FORMAT,
        entries: std::borrow::Cow::Borrowed(&out.entries),
        warnings: warnings
            .of_layer(index)
            .into_iter()
            .map(|mut w| {
                w.layer = None;
                w
            })
            .collect(),
        stored_size: out.stored_size,
        sinks,
    };
    match cache.put(&LayerCache::key(&id, sink_key), &entry) {
        Ok(()) => true,
        Err(e) => {
            warn(warnings, None, None, format!("layer cache {}: cannot write: {e}", cache.dir().display()));
            false
        }
    }
}

/// Scan a local image (format auto-detected).
pub(crate) fn scan_archive(
    path: &Path,
    opts: &Options,
    sink: &dyn FileSink,
    warnings: &Warnings,
) -> Result<(ArtifactInfo, FileTree), ArtifactError> {
    let (mut info, tree) = scan_archive_as(path, &path.display().to_string(), opts, sink, warnings)?;
    info.source = Some("archive".into());
    Ok((info, tree))
}

/// Scan a local image file or directory, naming it `target` in messages and in the info (an image exported
/// from an engine into a temporary file is named by its reference, not by the temporary path).
pub(crate) fn scan_archive_as(
    path: &Path,
    target: &str,
    opts: &Options,
    sink: &dyn FileSink,
    warnings: &Warnings,
) -> Result<(ArtifactInfo, FileTree), ArtifactError> {
    let target = target.to_string();
    std::fs::metadata(path).map_err(|e| ArtifactError::io(&target, &e))?;
    let format = detect(path).ok_or_else(|| ArtifactError::NotAnImage {
        target: target.clone(),
        reason: "no manifest.json, oci-layout or index.json found".into(),
    })?;
    opts.stage(format!("opening {format} {target}"));
    let source = Source::open(path, &target, opts, warnings)?;
    let (mut info, layers) = match format {
        ImageFormat::DockerArchive => plan_docker(&source, &target, opts, warnings)?,
        ImageFormat::OciLayout | ImageFormat::OciArchive => plan_oci(&source, &target, opts, warnings)?,
    };
    let tree = match format {
        ImageFormat::DockerArchive => {
            let open = |blob: &str| source.open_member(blob).map(|(r, _)| Blob::Seekable(r));
            read_layers(open, &layers, &mut info, opts, sink, warnings)
        }
        ImageFormat::OciLayout | ImageFormat::OciArchive => {
            read_layers(|digest: &str| source.open_layer(digest), &layers, &mut info, opts, sink, warnings)
        }
    };
    Ok((info, tree))
}

fn plan_docker(
    source: &Source,
    target: &str,
    opts: &Options,
    warnings: &Warnings,
) -> Result<(ArtifactInfo, Vec<PlannedLayer>), ArtifactError> {
    let bad = |reason: String| ArtifactError::NotAnImage { target: target.into(), reason };
    let (entries, _): (Vec<DockerManifestEntry>, _) = source.read_json("manifest.json").map_err(bad)?;
    let Some(first) = entries.first() else {
        return Err(bad("manifest.json lists no image".into()));
    };
    if entries.len() > 1 {
        warn(
            warnings,
            None,
            None,
            format!(
                "{target}: archive holds {} images; scanning the first ({})",
                entries.len(),
                first.repo_tags.join(", ")
            ),
        );
    }
    let (_, config_bytes) = source.read_json::<serde_json::Value>(&first.config).map_err(bad)?;
    let config_digest = sha256_digest(&config_bytes);
    let layers: Vec<(Option<String>, Option<u64>, String)> = first
        .layers
        .iter()
        .map(|l| {
            let norm = paths::normalize(l).unwrap_or_default();
            let digest = norm
                .strip_prefix("blobs/")
                .and_then(|rest| rest.split_once('/'))
                .map(|(alg, hex)| format!("{alg}:{hex}"))
                .filter(|d| blob_path(d).is_some());
            let size = source.open_member(l).ok().map(|(_, s)| s);
            (digest, size, l.clone())
        })
        .collect();
    let (mut info, planned) = build_info(
        target,
        target,
        &config_bytes,
        config_digest,
        &layers,
        opts.platform.as_deref(),
        warnings,
    )?;
    info.repo_tags = first.repo_tags.clone();
    Ok((info, planned))
}

fn plan_oci(
    source: &Source,
    target: &str,
    opts: &Options,
    warnings: &Warnings,
) -> Result<(ArtifactInfo, Vec<PlannedLayer>), ArtifactError> {
    let bad = |reason: String| ArtifactError::NotAnImage { target: target.into(), reason };
    let (doc, index) = source.read_json::<serde_json::Value>("index.json").map_err(bad)?;
    if !doc.get("manifests").is_some_and(serde_json::Value::is_array) {
        return Err(bad("index.json lists no image manifest".into()));
    }
    let top = TopDocument { bytes: index, digest: None, names: Vec::new() };
    let (info, planned, _) = resolve(source, top, target, target, opts, warnings)?;
    Ok((info, planned))
}

impl BlobSource for Source {
    fn read_document(&self, desc: &Descriptor, _kind: DocKind) -> Result<Vec<u8>, String> {
        let path = blob_path(&desc.digest).ok_or_else(|| format!("bad digest `{}`", desc.digest))?;
        self.read_json::<serde_json::Value>(&path).map(|(_, bytes)| bytes)
    }

    fn open_layer(&self, digest: &str) -> io::Result<Blob> {
        let path = blob_path(digest).ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, format!("bad layer digest `{digest}`"))
        })?;
        self.open_member(&path).map(|(r, _)| Blob::Seekable(r))
    }
}

// ---- Images made of content-addressed blobs -------------------------------------------------------------

/// Where the documents and blobs of an OCI/Docker image come from: an OCI layout (directory or archive), a
/// registry, or containerd's content store. Index and platform resolution, the manifest, the config and the
/// layer plan are done once, in [`resolve`], for all of them; layers are then streamed through
/// [`BlobSource::open_layer`] by [`read_layers`].
pub(crate) trait BlobSource: Sync {
    /// The whole content of a manifest, an index or a config blob. Implementations refuse more than
    /// [`MAX_JSON`] bytes. Digests are checked by the caller.
    fn read_document(&self, desc: &Descriptor, kind: DocKind) -> Result<Vec<u8>, String>;
    /// A layer blob: a stream whose digest is verified while it is read, or a local seekable region.
    fn open_layer(&self, digest: &str) -> io::Result<Blob>;
}

/// What a document read through [`BlobSource::read_document`] is (registries serve the two from different
/// endpoints).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DocKind {
    /// An image manifest or an index.
    Manifest,
    /// An image config.
    Config,
}

/// The document an image starts from: an index or a manifest, with its digest when known.
pub(crate) struct TopDocument {
    pub bytes: Vec<u8>,
    pub digest: Option<String>,
    /// Names (tags) the image is known by; more come from index annotations.
    pub names: Vec<String>,
}

/// From the top document to the image to scan: nested indexes are followed and the manifest is chosen by
/// platform, then the manifest and config are read (digests checked) and the layers planned. Returns the
/// image info (named `name`), the layers (their blob name is their digest) and the chosen manifest digest.
pub(crate) fn resolve(
    src: &dyn BlobSource,
    top: TopDocument,
    target: &str,
    name: &str,
    opts: &Options,
    warnings: &Warnings,
) -> Result<(ArtifactInfo, Vec<PlannedLayer>, Option<String>), ArtifactError> {
    let bad = |reason: String| ArtifactError::NotAnImage { target: target.into(), reason };
    let doc: serde_json::Value =
        serde_json::from_slice(&top.bytes).map_err(|e| bad(format!("manifest is not JSON: {e}")))?;
    let (mbytes, mdigest, names) = if doc.get("manifests").is_some() {
        let index: IndexDoc =
            serde_json::from_value(doc).map_err(|e| bad(format!("index is not valid: {e}")))?;
        let mut cands = Vec::new();
        collect_index(src, &index, top.names, 0, &mut cands, target, warnings);
        let chosen = choose(target, cands, opts.platform.as_deref(), warnings)?;
        if too_large(chosen.desc.size) {
            return Err(bad(format!(
                "manifest {} is {} bytes, too large",
                chosen.desc.digest, chosen.desc.size
            )));
        }
        let bytes =
            src.read_document(&chosen.desc, DocKind::Manifest).map_err(|e| bad(format!("manifest: {e}")))?;
        check_digest(&chosen.desc.digest, &bytes, "manifest", target, warnings);
        (bytes, Some(chosen.desc.digest), chosen.names)
    } else {
        (top.bytes, top.digest, top.names)
    };
    let manifest: ManifestDoc =
        serde_json::from_slice(&mbytes).map_err(|e| bad(format!("manifest is not valid: {e}")))?;
    check_config_type(&manifest.config.media_type, target)?;
    if too_large(manifest.config.size) {
        return Err(bad(format!("config blob is {} bytes, too large", manifest.config.size)));
    }
    blob_path(&manifest.config.digest)
        .ok_or_else(|| bad(format!("bad digest `{}`", manifest.config.digest)))?;
    let cbytes =
        src.read_document(&manifest.config, DocKind::Config).map_err(|e| bad(format!("config: {e}")))?;
    check_digest(&manifest.config.digest, &cbytes, "config", target, warnings);
    let mut layers = Vec::new();
    for l in &manifest.layers {
        blob_path(&l.digest).ok_or_else(|| bad(format!("bad layer digest `{}`", l.digest)))?;
        layers.push((Some(l.digest.clone()), u64::try_from(l.size).ok(), l.digest.clone()));
    }
    let (mut info, planned) = build_info(
        target,
        name,
        &cbytes,
        manifest.config.digest.clone(),
        &layers,
        opts.platform.as_deref(),
        warnings,
    )?;
    info.repo_tags = names;
    Ok((info, planned, mdigest))
}

pub(crate) fn check_config_type(mt: &str, target: &str) -> Result<(), ArtifactError> {
    if mt.is_empty() || mt.contains("image.config") || mt.contains("container.image") {
        Ok(())
    } else {
        Err(ArtifactError::NotAnImage {
            target: target.into(),
            reason: format!("an OCI artifact with config type {mt}"),
        })
    }
}

pub(crate) fn check_digest(expected: &str, data: &[u8], what: &str, target: &str, warnings: &Warnings) {
    if expected.starts_with("sha256:") {
        let got = sha256_digest(data);
        if !expected.eq_ignore_ascii_case(&got) {
            warn(
                warnings,
                None,
                None,
                format!("{target}: {what} digest mismatch: expected {expected}, content hashes to {got}"),
            );
        }
    }
}

fn ref_names(d: &Descriptor) -> Vec<String> {
    ["io.containerd.image.name", "org.opencontainers.image.ref.name"]
        .iter()
        .filter_map(|k| d.annotations.get(*k).cloned())
        .take(1)
        .collect()
}

/// A declared document size over [`MAX_JSON`].
pub(crate) fn too_large(size: i64) -> bool {
    u64::try_from(size).is_ok_and(|s| s > MAX_JSON)
}

/// Walk an index (and nested indexes, at most 8 deep) collecting image manifests.
fn collect_index(
    src: &dyn BlobSource,
    index: &IndexDoc,
    names: Vec<String>,
    depth: usize,
    out: &mut Vec<Candidate>,
    target: &str,
    warnings: &Warnings,
) {
    for d in &index.manifests {
        let mut n = names.clone();
        for r in ref_names(d) {
            if !n.contains(&r) {
                n.push(r);
            }
        }
        // A descriptor without a media type may still point to an index: read it to find out.
        let mut sub = None;
        if d.media_type.is_empty() {
            match src
                .read_document(d, DocKind::Manifest)
                .map(|b| serde_json::from_slice::<serde_json::Value>(&b))
            {
                Ok(Ok(v)) if v.get("manifests").is_some() => sub = Some(Ok(v)),
                _ => {}
            }
        }
        if sub.is_none() && is_index(&d.media_type) {
            sub =
                Some(src.read_document(d, DocKind::Manifest).and_then(|b| {
                    serde_json::from_slice::<serde_json::Value>(&b).map_err(|e| e.to_string())
                }));
        }
        let Some(sub) = sub else {
            out.push(Candidate { desc: d.clone(), names: n });
            continue;
        };
        if depth >= MAX_LINK_HOPS {
            warn(warnings, None, None, format!("{target}: indexes nested too deep; {} ignored", d.digest));
            continue;
        }
        match sub.and_then(|v| serde_json::from_value::<IndexDoc>(v).map_err(|e| e.to_string())) {
            Ok(sub) => collect_index(src, &sub, n, depth + 1, out, target, warnings),
            Err(e) => warn(warnings, None, None, format!("{target}: nested index {} skipped: {e}", d.digest)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platform_matching() {
        let p = |s: &str| PlatformSpec::parse(s);
        assert!(p("linux/arm64/v8").satisfies(&p("linux/arm64")));
        assert!(p("linux/arm64").satisfies(&p("linux/arm64/v8")));
        assert!(!p("linux/arm/v6").satisfies(&p("linux/arm/v7")));
        assert!(p("linux/amd64").satisfies(&p("amd64")));
        assert!(!p("windows/amd64").satisfies(&p("linux/amd64")));
        assert_eq!(p("linux/arm/v7").to_string(), "linux/arm/v7");
    }

    #[test]
    fn blob_paths_are_validated() {
        assert_eq!(blob_path("sha256:abc123").as_deref(), Some("blobs/sha256/abc123"));
        assert_eq!(blob_path("sha256:../../etc/passwd"), None);
        assert_eq!(blob_path("../x:abc"), None);
        assert_eq!(blob_path("nocolon"), None);
    }

    fn cand(digest: &str, plat: Option<&str>) -> Candidate {
        Candidate {
            desc: Descriptor {
                digest: digest.into(),
                platform: plat.map(PlatformSpec::parse),
                ..Default::default()
            },
            names: vec![],
        }
    }

    #[test]
    fn choose_platform() {
        let w = Warnings::new();
        let c = vec![
            cand("a", Some("linux/arm64/v8")),
            cand("b", Some("linux/amd64")),
            cand("att", Some("unknown/unknown")),
        ];
        assert_eq!(choose("t", c.clone(), None, &w).map(|c| c.desc.digest).ok().as_deref(), Some("b"));
        assert_eq!(
            choose("t", c.clone(), Some("linux/arm64"), &w).map(|c| c.desc.digest).ok().as_deref(),
            Some("a")
        );
        let e = choose("t", c, Some("linux/s390x"), &w);
        match e {
            Err(ArtifactError::NoMatchingPlatform { available, .. }) => {
                assert!(available.contains("linux/arm64/v8"))
            }
            other => panic!("expected NoMatchingPlatform, got {other:?}"),
        }
        // A single image is used whatever its platform when none was asked for.
        let one = vec![cand("only", Some("linux/arm64"))];
        assert_eq!(choose("t", one, None, &w).map(|c| c.desc.digest).ok().as_deref(), Some("only"));
    }

    #[test]
    fn lenient_config_parsing() {
        let cfg = br#"{"architecture":"amd64","os":"linux","config":{"User":"app","Env":["A=1"],"Entrypoint":"/bin/sh",
            "Cmd":null,"ExposedPorts":{"80/tcp":{}},"Labels":{"k":"v"},"Healthcheck":{"Test":["CMD","true"]},"WorkingDir":""},
            "rootfs":{"type":"layers","diff_ids":["sha256:aa","sha256:bb"]},
            "history":[{"created_by":"ADD x"},{"created_by":"ENV a","empty_layer":true},{"created_by":"RUN y"}]}"#;
        let layers =
            vec![(Some("sha256:11".to_string()), Some(5), "b1".to_string()), (None, None, "b2".to_string())];
        let w = Warnings::new();
        let (info, planned) =
            build_info("t", "t", cfg, "sha256:cfg".into(), &layers, None, &w).expect("info");
        assert!(w.is_empty());
        let c = info.config.expect("config");
        assert_eq!(c.entrypoint, vec!["/bin/sh".to_string()]);
        assert!(c.cmd.is_empty());
        assert_eq!(c.exposed_ports, vec!["80/tcp".to_string()]);
        assert_eq!(c.working_dir, None);
        assert_eq!(c.healthcheck, Some(vec!["CMD".to_string(), "true".to_string()]));
        assert_eq!(info.layers[1].created_by.as_deref(), Some("RUN y"));
        assert_eq!(info.layers[1].diff_id.as_deref(), Some("sha256:bb"));
        assert_eq!(info.platform.as_deref(), Some("linux/amd64"));
        assert_eq!(planned[1].blob, "b2");
        assert!(build_info("t", "t", b"not json", "x".into(), &layers, None, &w).is_err());
    }

    /// `"User": 5` drops that field with a warning naming it, not the image.
    #[test]
    fn a_wrongly_typed_config_field_is_a_warning() {
        let cfg = br#"{"architecture":"amd64","os":"linux","config":{"User":5,"Env":["A=1"]},
            "rootfs":{"type":"layers","diff_ids":["sha256:aa"]}}"#;
        let layers = vec![(Some("sha256:11".to_string()), Some(5), "b1".to_string())];
        let w = Warnings::new();
        let (info, _) = build_info("t", "t", cfg, "sha256:cfg".into(), &layers, None, &w).expect("info");
        let c = info.config.expect("config");
        assert_eq!(c.user, None);
        assert_eq!(c.env, vec!["A=1".to_string()]);
        let w = w.into_vec();
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].message.contains("config.User"), "{w:?}");
    }
}
