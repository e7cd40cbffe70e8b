//! Where signatures and attestations live in the registry, in both of cosign's formats.
//!
//! - Tag scheme: the image `repo@sha256:<hex>` gets `repo:sha256-<hex>.sig` (one OCI manifest, one layer per
//!   signature: the simple-signing payload, media type `application/vnd.dev.cosign.simplesigning.v1+json`,
//!   the base64 signature in the `dev.cosignproject.cosign/signature` annotation) and `repo:sha256-<hex>.att`
//!   (one layer per attestation: a DSSE envelope, `application/vnd.dsse.envelope.v1+json`, with a
//!   `predicateType` annotation). A new signature is appended to the existing manifest, as cosign does.
//! - OCI 1.1 referrers: one artifact manifest per signature or attestation, `artifactType`
//!   `application/vnd.dev.sigstore.bundle.v0.3+json`, its one layer a Sigstore bundle ([`crate::bundle`]),
//!   `subject` the image. Read through the referrers API when the registry has it, else the referrers tag
//!   schema (`repo:sha256-<hex>`, an image index); written by pushing the manifest and updating that index
//!   tag, which is what a registry without the API (docker-registry 2.8) needs and what one with the API
//!   ignores.
//!
//! We add one unsigned hint of our own, `dev.palisade.key-id` (the signer's key id), so that a failed
//! verification can say "signed by another key" rather than only "does not verify"; it is never trusted.

use crate::bundle::{self, Bundle};
use crate::dsse::Envelope;
use crate::error::SignError;
use crate::keyless::Material;
use crate::registry::{self, MT_OCI_INDEX, MT_OCI_MANIFEST, Registry, sha256_digest};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use oci_client::Reference;
use serde_json::{Value, json};

pub const MT_SIMPLESIGNING: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
pub const MT_DSSE: &str = "application/vnd.dsse.envelope.v1+json";
pub const MT_EMPTY: &str = "application/vnd.oci.empty.v1+json";
pub const ANN_SIGNATURE: &str = "dev.cosignproject.cosign/signature";
pub const ANN_PREDICATE_TYPE: &str = "predicateType";
pub const ANN_KEY_ID: &str = "dev.palisade.key-id";
pub const ANN_BUNDLE_CONTENT: &str = "dev.sigstore.bundle.content";
pub const ANN_BUNDLE_PREDICATE_TYPE: &str = "dev.sigstore.bundle.predicateType";
pub const ANN_CERTIFICATE: &str = "dev.sigstore.cosign/certificate";
pub const ANN_CHAIN: &str = "dev.sigstore.cosign/chain";
pub const ANN_REKOR_BUNDLE: &str = "dev.sigstore.cosign/bundle";

/// Keyless material from a tag-scheme layer's annotations, when it has a certificate.
fn annotation_material(ann: Option<&Value>) -> Result<Option<Box<Material>>, String> {
    let get = |k: &str| ann.and_then(|a| a.get(k)).and_then(Value::as_str);
    match get(ANN_CERTIFICATE).filter(|c| !c.trim().is_empty()) {
        Some(cert) => Material::from_cosign_annotations(cert, get(ANN_CHAIN), get(ANN_REKOR_BUNDLE))
            .map(|m| Some(Box::new(m))),
        None => Ok(None),
    }
}

/// Which storage format to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// OCI 1.1 referrers with Sigstore bundles (cosign v3's default).
    #[default]
    Referrers,
    /// The `sha256-<hex>.sig` / `.att` tag scheme.
    Tag,
}

/// An image resolved to a digest.
#[derive(Debug, Clone)]
pub struct Subject {
    /// The reference as given.
    pub given: String,
    /// `registry/repository`, as cosign writes it in `docker-reference`.
    pub repository: String,
    /// The manifest (or index) digest.
    pub digest: String,
    pub media_type: String,
    pub size: usize,
    /// The tag the digest was resolved from, when the reference named a tag.
    pub resolved_from: Option<String>,
    repo: Reference,
}

impl Subject {
    /// `repository@digest`.
    pub fn pinned(&self) -> String {
        format!("{}@{}", self.repository, self.digest)
    }

    fn tag(&self, suffix: &str) -> Reference {
        let tag = format!("{}{suffix}", self.digest.replace(':', "-"));
        Reference::with_tag(self.repo.registry().to_string(), self.repo.repository().to_string(), tag)
    }

    fn by_digest(&self, digest: &str) -> Reference {
        Reference::with_digest(
            self.repo.registry().to_string(),
            self.repo.repository().to_string(),
            digest.into(),
        )
    }
}

/// Resolve `reference` (tag or digest) to the digest it names now.
pub fn resolve(reg: &Registry, reference: &str) -> Result<Subject, SignError> {
    let r = registry::parse_reference(reference)?;
    let m = reg.resolve(&r)?;
    let media_type = serde_json::from_slice::<Value>(&m.bytes)
        .ok()
        .and_then(|v| v.get("mediaType").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_else(|| MT_OCI_MANIFEST.to_string());
    let resolved_from = if r.digest().is_none() { Some(r.whole()) } else { None };
    Ok(Subject {
        given: reference.to_string(),
        repository: format!("{}/{}", r.registry(), r.repository()),
        digest: m.digest,
        media_type,
        size: m.bytes.len(),
        resolved_from,
        repo: r,
    })
}

/// One signature or attestation found for a subject, not yet verified.
#[derive(Debug, Clone)]
pub enum Found {
    /// A simple-signing payload and its signature (tag scheme).
    Simple {
        payload: Vec<u8>,
        signature: Vec<u8>,
        key_hint: Option<String>,
        source: String,
        /// Keyless material from cosign's certificate, chain and bundle annotations.
        material: Option<Box<Material>>,
    },
    /// A DSSE envelope (`.att` layer or a bundle's `dsseEnvelope`).
    Dsse {
        envelope: Envelope,
        key_hint: Option<String>,
        source: String,
        bundle: Option<Box<Bundle>>,
        /// Keyless material (the bundle's certificate and log entries, or cosign's annotations).
        material: Option<Box<Material>>,
    },
    /// Something in a signature location that cannot be read; `what` says which part.
    Malformed { what: String, detail: String, source: String },
}

// ---------------------------------------------------------------------------------------------------------
// Writing

fn config_blob(layer_digests: &[String]) -> Vec<u8> {
    // What cosign writes: an image config whose rootfs lists the layers.
    json!({
        "architecture": "", "created": "0001-01-01T00:00:00Z",
        "history": [{"created": "0001-01-01T00:00:00Z"}], "os": "",
        "rootfs": {"type": "layers", "diff_ids": layer_digests}, "config": {}
    })
    .to_string()
    .into_bytes()
}

/// Append a layer to the `.sig` / `.att` manifest of the subject (created when absent).
fn append_tag_layer(
    reg: &Registry,
    subject: &Subject,
    suffix: &str,
    media_type: &str,
    blob: &[u8],
    annotations: Value,
) -> Result<String, SignError> {
    let tag = subject.tag(suffix);
    let mut layers: Vec<Value> = match reg.manifest(&tag)? {
        Some(m) => serde_json::from_slice::<Value>(&m.bytes)
            .ok()
            .and_then(|v| v.get("layers").and_then(Value::as_array).cloned())
            .unwrap_or_default(),
        None => Vec::new(),
    };
    let digest = reg.push_blob(&tag, blob)?;
    let layer =
        json!({"mediaType": media_type, "size": blob.len(), "digest": digest, "annotations": annotations});
    if !layers.contains(&layer) {
        layers.push(layer);
    }
    let diff_ids: Vec<String> =
        layers.iter().filter_map(|l| l.get("digest").and_then(Value::as_str).map(str::to_string)).collect();
    let config = config_blob(&diff_ids);
    let config_digest = reg.push_blob(&tag, &config)?;
    let manifest = json!({
        "schemaVersion": 2, "mediaType": MT_OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": config.len(), "digest": config_digest},
        "layers": layers,
    });
    let bytes = serde_json::to_vec(&manifest).unwrap_or_default();
    reg.push_manifest(&tag, &bytes, MT_OCI_MANIFEST)?;
    Ok(tag.whole())
}

/// Store a simple-signing signature in the tag scheme.
pub fn write_signature_tag(
    reg: &Registry,
    subject: &Subject,
    payload: &[u8],
    signature: &[u8],
    key_id: &str,
) -> Result<String, SignError> {
    let ann = json!({ANN_SIGNATURE: B64.encode(signature), ANN_KEY_ID: key_id});
    append_tag_layer(reg, subject, ".sig", MT_SIMPLESIGNING, payload, ann)
}

/// Store a keyless simple-signing signature in the tag scheme as cosign v2 does: the signature, the PEM
/// signing certificate and chain, and the Rekor entry with its SET (`rekor_bundle`, cosign's
/// `dev.sigstore.cosign/bundle` JSON).
pub fn write_keyless_signature_tag(
    reg: &Registry,
    subject: &Subject,
    payload: &[u8],
    signature: &[u8],
    certificate_pem: &str,
    chain_pem: &str,
    rekor_bundle: &str,
) -> Result<String, SignError> {
    let ann = json!({
        ANN_SIGNATURE: B64.encode(signature),
        ANN_CERTIFICATE: certificate_pem,
        ANN_CHAIN: chain_pem,
        ANN_REKOR_BUNDLE: rekor_bundle,
    });
    append_tag_layer(reg, subject, ".sig", MT_SIMPLESIGNING, payload, ann)
}

/// Store a DSSE attestation in the tag scheme.
pub fn write_attestation_tag(
    reg: &Registry,
    subject: &Subject,
    envelope: &Envelope,
    predicate_type: &str,
    key_id: &str,
) -> Result<String, SignError> {
    let blob = serde_json::to_vec(envelope).unwrap_or_default();
    let ann = json!({ANN_SIGNATURE: "", ANN_PREDICATE_TYPE: predicate_type, ANN_KEY_ID: key_id});
    append_tag_layer(reg, subject, ".att", MT_DSSE, &blob, ann)
}

/// Store a Sigstore bundle as an OCI 1.1 referrer of the subject; returns the referrer's digest.
pub fn write_bundle_referrer(
    reg: &Registry,
    subject: &Subject,
    bundle: &Bundle,
    predicate_type: &str,
) -> Result<String, SignError> {
    let blob = serde_json::to_vec(bundle).unwrap_or_default();
    let repo = subject.by_digest(&subject.digest);
    let blob_digest = reg.push_blob(&repo, &blob)?;
    let empty = b"{}";
    let empty_digest = reg.push_blob(&repo, empty)?;
    let created = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let annotations = json!({
        ANN_BUNDLE_CONTENT: bundle.content_kind(),
        ANN_BUNDLE_PREDICATE_TYPE: predicate_type,
        "org.opencontainers.image.created": created,
    });
    let manifest = json!({
        "schemaVersion": 2, "mediaType": MT_OCI_MANIFEST, "artifactType": bundle::MEDIA_TYPE,
        "config": {"mediaType": MT_EMPTY, "size": 2, "digest": empty_digest},
        "layers": [{"mediaType": bundle::MEDIA_TYPE, "size": blob.len(), "digest": blob_digest}],
        "subject": {"mediaType": subject.media_type, "size": subject.size, "digest": subject.digest},
        "annotations": annotations,
    });
    let bytes = serde_json::to_vec(&manifest).unwrap_or_default();
    let digest = sha256_digest(&bytes);
    reg.push_manifest(&subject.by_digest(&digest), &bytes, MT_OCI_MANIFEST)?;
    // The referrers tag schema: add the new manifest to the subject's `sha256-<hex>` index.
    let index_tag = subject.tag("");
    let mut manifests: Vec<Value> = match reg.manifest(&index_tag)? {
        Some(m) => serde_json::from_slice::<Value>(&m.bytes)
            .ok()
            .and_then(|v| v.get("manifests").and_then(Value::as_array).cloned())
            .unwrap_or_default(),
        None => Vec::new(),
    };
    manifests.retain(|d| d.get("digest").and_then(Value::as_str) != Some(digest.as_str()));
    manifests.push(json!({
        "mediaType": MT_OCI_MANIFEST, "size": bytes.len(), "digest": digest,
        "artifactType": bundle::MEDIA_TYPE, "annotations": annotations,
    }));
    let index = json!({"schemaVersion": 2, "mediaType": MT_OCI_INDEX, "manifests": manifests});
    reg.push_manifest(&index_tag, &serde_json::to_vec(&index).unwrap_or_default(), MT_OCI_INDEX)?;
    Ok(digest)
}

// ---------------------------------------------------------------------------------------------------------
// Reading

fn malformed(what: &str, detail: impl Into<String>, source: &str) -> Found {
    Found::Malformed { what: what.into(), detail: detail.into(), source: source.into() }
}

/// Everything stored for the subject under the `.sig` or `.att` tag; `Ok(empty)` when the tag is absent.
fn read_tag(reg: &Registry, subject: &Subject, suffix: &str) -> Result<Vec<Found>, SignError> {
    let tag = subject.tag(suffix);
    let source = format!("tag {}", tag.tag().unwrap_or_default());
    let Some(m) = reg.manifest(&tag)? else { return Ok(Vec::new()) };
    let v: Value = match serde_json::from_slice(&m.bytes) {
        Ok(v) => v,
        Err(e) => return Ok(vec![malformed("signature manifest", format!("not JSON: {e}"), &source)]),
    };
    let Some(layers) = v.get("layers").and_then(Value::as_array) else {
        return Ok(vec![malformed("signature manifest", "no layers array", &source)]);
    };
    let mut out = Vec::new();
    for (i, l) in layers.iter().enumerate() {
        let src = format!("{source} layer {i}");
        let mt = l.get("mediaType").and_then(Value::as_str).unwrap_or_default();
        let Some(digest) = l.get("digest").and_then(Value::as_str) else {
            out.push(malformed("signature layer", "no digest", &src));
            continue;
        };
        let ann = l.get("annotations");
        let hint = ann.and_then(|a| a.get(ANN_KEY_ID)).and_then(Value::as_str).map(str::to_string);
        let blob = match reg.blob(&tag, digest) {
            Ok(b) => b,
            Err(e) => {
                out.push(malformed("signature layer", e.to_string(), &src));
                continue;
            }
        };
        let material = match annotation_material(ann) {
            Ok(m) => m,
            Err(e) => {
                out.push(malformed("certificate annotations", e, &src));
                continue;
            }
        };
        match (suffix, mt) {
            (".sig", MT_SIMPLESIGNING) => {
                let Some(sig_b64) = ann.and_then(|a| a.get(ANN_SIGNATURE)).and_then(Value::as_str) else {
                    out.push(malformed("signature layer", format!("no {ANN_SIGNATURE} annotation"), &src));
                    continue;
                };
                match B64.decode(sig_b64) {
                    Ok(signature) => out.push(Found::Simple {
                        payload: blob,
                        signature,
                        key_hint: hint,
                        source: src,
                        material,
                    }),
                    Err(e) => out.push(malformed("signature annotation", format!("not base64: {e}"), &src)),
                }
            }
            (".att", MT_DSSE) => match Envelope::parse(&blob) {
                Ok(envelope) => {
                    out.push(Found::Dsse { envelope, key_hint: hint, source: src, bundle: None, material })
                }
                Err(e) => out.push(malformed("attestation envelope", e, &src)),
            },
            _ => out.push(malformed("signature layer", format!("unexpected media type {mt:?}"), &src)),
        }
    }
    Ok(out)
}

/// Sigstore bundles attached to the subject as OCI referrers.
fn read_referrers(reg: &Registry, subject: &Subject) -> Result<Vec<Found>, SignError> {
    let subj = subject.by_digest(&subject.digest);
    let index = reg.referrers(&subj, Some(bundle::MEDIA_TYPE))?;
    let mut out = Vec::new();
    for d in index.get("manifests").and_then(Value::as_array).into_iter().flatten() {
        let Some(digest) = d.get("digest").and_then(Value::as_str) else { continue };
        let source = format!("referrer {digest}");
        let m = match reg.manifest(&subject.by_digest(digest))? {
            Some(m) => m,
            None => {
                out.push(malformed("referrer manifest", "listed in the referrers index but absent", &source));
                continue;
            }
        };
        let v: Value = match serde_json::from_slice(&m.bytes) {
            Ok(v) => v,
            Err(e) => {
                out.push(malformed("referrer manifest", format!("not JSON: {e}"), &source));
                continue;
            }
        };
        if v.pointer("/subject/digest").and_then(Value::as_str) != Some(subject.digest.as_str()) {
            out.push(malformed("referrer manifest", "its subject is not this image", &source));
            continue;
        }
        let Some(layer) = v.pointer("/layers/0/digest").and_then(Value::as_str) else {
            out.push(malformed("referrer manifest", "no bundle layer", &source));
            continue;
        };
        let blob = match reg.blob(&subj, layer) {
            Ok(b) => b,
            Err(e) => {
                out.push(malformed("bundle", e.to_string(), &source));
                continue;
            }
        };
        match Bundle::parse(&blob) {
            Ok(b) => match b.dsse_envelope.clone() {
                Some(envelope) => match Material::from_bundle(&b.verification_material) {
                    Ok(material) => {
                        let key_hint = b.key_hint();
                        let material = material.map(Box::new);
                        out.push(Found::Dsse {
                            envelope,
                            key_hint,
                            source,
                            bundle: Some(Box::new(b)),
                            material,
                        })
                    }
                    Err(e) => out.push(malformed("bundle", e, &source)),
                },
                None => out.push(malformed(
                    "bundle",
                    "no dsseEnvelope (message signatures are for blobs)",
                    &source,
                )),
            },
            Err(e) => out.push(malformed("bundle", e, &source)),
        }
    }
    Ok(out)
}

/// Which signatures to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Signature,
    Attestation,
}

/// What is stored for the subject in one format: the `.sig` (or `.att`) tag, or the referrers (bundles;
/// image signatures and attestations alike: the caller filters by predicate type).
pub fn read(reg: &Registry, subject: &Subject, format: Format, kind: Kind) -> Result<Vec<Found>, SignError> {
    match (format, kind) {
        (Format::Tag, Kind::Signature) => read_tag(reg, subject, ".sig"),
        (Format::Tag, Kind::Attestation) => read_tag(reg, subject, ".att"),
        (Format::Referrers, _) => read_referrers(reg, subject),
    }
}
