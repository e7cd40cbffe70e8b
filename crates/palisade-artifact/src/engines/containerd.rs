//! containerd over its gRPC socket ([`super::containerd_api`]): the images service says what a name points to,
//! the content service serves the blobs.
//!
//! The name is looked up as given and in its fully qualified form (`alpine:3.19` is stored as
//! `docker.io/library/alpine:3.19`), in one namespace. From the image's target descriptor
//! [`image::resolve`] (shared with OCI layouts and registries) follows indexes, picks the platform and reads
//! the manifest and config; each layer blob is then streamed from the content service straight into the
//! layer reader, one gRPC stream per layer, nothing written to disk. Blobs the store does not hold (an index
//! pulled for one platform only) are reported before any layer is read, so another source can be tried.

use super::containerd_api::{self as api, Client, ReadContentResponse};
use super::{Found, Miss, STREAM_IDLE};
use crate::image::{self, BlobSource, Descriptor, DocKind, MAX_JSON, TopDocument};
use crate::layer::Blob;
use crate::{ArtifactError, Options};
use palisade_core::Warnings;
use std::io::{self, Read};
use std::path::PathBuf;
use std::time::Duration;
use tokio::runtime::Handle;
use tonic::codec::Streaming;
use tonic::metadata::MetadataValue;
use tonic::{Code, Status};

fn status_text(s: &Status) -> String {
    let m = s.message().trim();
    if m.is_empty() { format!("{:?}", s.code()) } else { format!("{:?}: {m}", s.code()) }
}

/// The names to look up: as given, then fully qualified the way docker and containerd's clients spell it.
fn candidates(reference: &str) -> Vec<String> {
    let mut v = vec![reference.to_string()];
    if let Ok(r) = reference.parse::<oci_client::Reference>() {
        let full = r.whole();
        if !v.contains(&full) {
            v.push(full);
        }
    }
    v
}

/// containerd's content store in one namespace.
struct ContentStore {
    handle: Handle,
    client: Client,
    timeout: Duration,
    endpoint: String,
}

impl ContentStore {
    /// The blob's size.
    fn info(&self, digest: &str) -> Result<i64, Status> {
        self.handle.block_on(async {
            match tokio::time::timeout(self.timeout, self.client.info(digest)).await {
                Ok(r) => r.map(|i| i.size),
                Err(_) => Err(Status::deadline_exceeded("no answer")),
            }
        })
    }

    fn open(&self, digest: &str) -> Result<BlobReader, Status> {
        self.handle.block_on(async {
            match tokio::time::timeout(self.timeout, self.client.read(digest)).await {
                Ok(r) => r.map(|s| BlobReader::new(self.handle.clone(), digest, s)),
                Err(_) => Err(Status::deadline_exceeded("no answer")),
            }
        })
    }
}

impl BlobSource for ContentStore {
    fn read_document(&self, desc: &Descriptor, _kind: DocKind) -> Result<Vec<u8>, String> {
        let size = self.info(&desc.digest).map_err(|s| format!("{}: {}", desc.digest, status_text(&s)))?;
        if image::too_large(size) {
            return Err(format!("{} is {size} bytes, too large for a JSON document", desc.digest));
        }
        let mut out = Vec::new();
        let r = self.open(&desc.digest).map_err(|s| status_text(&s))?;
        r.take(MAX_JSON + 1).read_to_end(&mut out).map_err(|e| format!("{}: {e}", desc.digest))?;
        if out.len() as u64 > MAX_JSON {
            return Err(format!("{} is larger than {MAX_JSON} bytes", desc.digest));
        }
        Ok(out)
    }

    fn open_layer(&self, digest: &str) -> io::Result<Blob> {
        let s = self
            .open(digest)
            .map_err(|s| io::Error::other(format!("{}: {}", self.endpoint, status_text(&s))))?;
        Ok(Blob::Stream(Box::new(s)))
    }
}

/// A content-service stream as [`Read`], for the layer reader's threads.
struct BlobReader {
    handle: Handle,
    digest: String,
    stream: Streaming<ReadContentResponse>,
    chunk: Vec<u8>,
    pos: usize,
    /// Bytes received so far: where the next chunk must start.
    received: i64,
    done: bool,
}

impl BlobReader {
    fn new(handle: Handle, digest: &str, stream: Streaming<ReadContentResponse>) -> Self {
        BlobReader {
            handle,
            digest: digest.to_string(),
            stream,
            chunk: Vec::new(),
            pos: 0,
            received: 0,
            done: false,
        }
    }
}

impl Read for BlobReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos >= self.chunk.len() {
            if self.done {
                return Ok(0);
            }
            // The timer must be made inside the runtime: build it in the future, not before.
            let stream = &mut self.stream;
            let next =
                self.handle.block_on(async { tokio::time::timeout(STREAM_IDLE, stream.message()).await });
            match next {
                Err(_) => {
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!("containerd sent nothing for {} s", STREAM_IDLE.as_secs()),
                    ));
                }
                Ok(Err(s)) => return Err(io::Error::other(format!("containerd: {}", status_text(&s)))),
                Ok(Ok(None)) => self.done = true,
                Ok(Ok(Some(m))) => {
                    // Chunks follow each other: anything else would splice the blob.
                    if m.offset != self.received {
                        return Err(io::Error::new(
                            io::ErrorKind::InvalidData,
                            format!(
                                "containerd sent {} bytes of {} at offset {}, expected offset {}",
                                m.data.len(),
                                self.digest,
                                m.offset,
                                self.received
                            ),
                        ));
                    }
                    self.received =
                        self.received.saturating_add(i64::try_from(m.data.len()).unwrap_or(i64::MAX));
                    self.chunk = m.data;
                    self.pos = 0;
                }
            }
        }
        let n = buf.len().min(self.chunk.len() - self.pos);
        buf[..n].copy_from_slice(&self.chunk[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Look `reference` up in containerd and scan it.
pub(crate) fn scan(
    reference: &str,
    opts: &Options,
    sink: &dyn crate::FileSink,
    warnings: &Warnings,
) -> Result<Found, Miss> {
    let address = opts.engines.containerd_endpoint();
    let path = PathBuf::from(address.strip_prefix("unix://").unwrap_or(&address));
    if !path.is_absolute() {
        return Err(Miss::Failed(format!("address `{address}` is not a unix socket path")));
    }
    if std::fs::symlink_metadata(&path).is_err() {
        return Err(Miss::Absent(format!("no socket at {}", path.display())));
    }
    let endpoint = format!("unix://{}", path.display());
    let namespace = opts.engines.containerd_ns();
    let ns = MetadataValue::try_from(namespace.as_str())
        .map_err(|_| Miss::Failed(format!("namespace `{namespace}` is not a valid name")))?;
    let rt = super::runtime(true)?;
    let timeout = opts.engines.timeout();
    let channel = rt
        .block_on(async { tokio::time::timeout(timeout, api::connect(path)).await })
        .map_err(|_| Miss::Failed(format!("{endpoint}: no answer within {} s", timeout.as_secs())))?
        .map_err(|e| connect_error(&endpoint, &e))?;
    let client = Client::new(channel, ns);

    let mut found = None;
    for name in candidates(reference) {
        let got = rt
            .block_on(async { tokio::time::timeout(timeout, client.get_image(&name)).await })
            .map_err(|_| Miss::Failed(format!("{endpoint}: no answer within {} s", timeout.as_secs())))?;
        match got {
            Ok(img) => {
                found = Some(img);
                break;
            }
            Err(s) if s.code() == Code::NotFound => {}
            Err(s) => return Err(Miss::Failed(rpc_error(&endpoint, &s))),
        }
    }
    let Some(img) = found else {
        return Err(Miss::NotFound(format!("no image `{reference}` in namespace {namespace} at {endpoint}")));
    };
    let Some(target) = img.target else {
        return Err(Miss::Failed(format!("image {} has no target descriptor", img.name)));
    };
    tracing::debug!("{reference}: containerd has {} -> {} ({})", img.name, target.digest, target.media_type);
    if image::blob_path(&target.digest).is_none() {
        return Err(Miss::Failed(format!(
            "image {} points to a malformed digest `{}`",
            img.name, target.digest
        )));
    }
    let store = ContentStore { handle: rt.handle().clone(), client, timeout, endpoint: endpoint.clone() };
    let desc = Descriptor {
        media_type: target.media_type.clone(),
        digest: target.digest.clone(),
        size: target.size,
        ..Default::default()
    };
    let failed = |e: String| Miss::Failed(format!("image {}: {e}", img.name));
    let top = store.read_document(&desc, DocKind::Manifest).map_err(failed)?;
    image::check_digest(&target.digest, &top, "image target", reference, warnings);
    let top = TopDocument { bytes: top, digest: Some(target.digest.clone()), names: vec![img.name.clone()] };
    let (mut info, layers, _) =
        image::resolve(&store, top, reference, reference, opts, warnings).map_err(|e| {
            Miss::Failed(match e {
                ArtifactError::NoMatchingPlatform { requested, available, .. } => format!(
                    "image {} has no {requested} image (available: {available}); choose one with --platform",
                    img.name
                ),
                other => other.to_string(),
            })
        })?;
    // Every layer must be in the store before anything reaches the sink: a partial pull is a clean miss.
    for l in &layers {
        match store.info(&l.blob) {
            Ok(_) => {}
            Err(s) if s.code() == Code::NotFound => {
                return Err(failed(format!(
                    "layer {} is not in the content store (pulled for another platform, or garbage-collected)",
                    l.blob
                )));
            }
            Err(s) => return Err(failed(format!("layer {}: {}", l.blob, status_text(&s)))),
        }
    }
    info.repo_tags = vec![img.name.clone()];
    info.repo_digests = vec![format!("{}@{}", super::repository(&img.name), target.digest)];
    let tree = image::read_layers(|d: &str| store.open_layer(d), &layers, &mut info, opts, sink, warnings);
    drop(store);
    rt.shutdown_timeout(Duration::from_secs(1));
    Ok((info, tree))
}

fn connect_error(endpoint: &str, e: &tonic::transport::Error) -> Miss {
    // tonic wraps the io error; walk the chain for its kind.
    let mut src: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = src {
        if let Some(io) = s.downcast_ref::<io::Error>() {
            return match io.kind() {
                io::ErrorKind::NotFound => Miss::Absent(format!("no socket at {endpoint}")),
                io::ErrorKind::PermissionDenied => {
                    Miss::Failed(format!("permission denied on {endpoint} (run with access to the socket)"))
                }
                io::ErrorKind::ConnectionRefused => Miss::Failed(format!(
                    "connection refused at {endpoint} (a stale socket? is containerd running?)"
                )),
                io::ErrorKind::BrokenPipe
                | io::ErrorKind::ConnectionReset
                | io::ErrorKind::UnexpectedEof
                | io::ErrorKind::InvalidData => {
                    Miss::Failed(format!("{endpoint} is not a containerd gRPC server ({io})"))
                }
                _ => Miss::Failed(format!("cannot connect to {endpoint}: {io}")),
            };
        }
        src = s.source();
    }
    Miss::Failed(format!("cannot connect to {endpoint}: {e}"))
}

fn rpc_error(endpoint: &str, s: &Status) -> String {
    match s.code() {
        Code::Unavailable | Code::Unknown | Code::Internal => {
            format!("{endpoint} is not a containerd gRPC server, or it failed ({})", status_text(s))
        }
        Code::PermissionDenied | Code::Unauthenticated => format!("{endpoint}: {}", status_text(s)),
        _ => format!("{endpoint}: images service: {}", status_text(s)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_qualified() {
        assert_eq!(candidates("alpine:3.19"), vec!["alpine:3.19", "docker.io/library/alpine:3.19"]);
        assert_eq!(candidates("docker.io/library/alpine:3.19"), vec!["docker.io/library/alpine:3.19"]);
        assert_eq!(candidates("localhost:5000/app"), vec!["localhost:5000/app", "localhost:5000/app:latest"]);
    }

    #[test]
    fn absent_socket_is_skipped() {
        let d = tempfile::tempdir().expect("tempdir");
        let opts = Options {
            engines: super::super::Engines {
                containerd_address: Some(d.path().join("c.sock").display().to_string()),
                ..Default::default()
            },
            ..Options::default()
        };
        let sink = crate::testutil::Recorder::all();
        let r = scan("x", &opts, &sink, &Warnings::new());
        assert!(matches!(r, Err(Miss::Absent(_))), "{r:?}");
    }
}
