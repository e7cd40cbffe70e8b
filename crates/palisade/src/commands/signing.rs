//! `palisade keygen | sign | verify | attest | verify-attestation`: keys, image signatures and attestations
//! in cosign's storage formats (crate `palisade-signing`; see docs/signing.md).

use super::common::parse_duration;
use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use palisade_signing::keys::{self, KeyFormat, PrivateKey, PublicKey};
use palisade_signing::{Format, Requirement, SignOptions, VerifyPolicy, statement};
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

const VERIFY_EXIT_CODES: &str = "\
Exit codes:
  0   verified (the digest verified is printed)
  2   usage error, unreadable key, registry unreachable
  10  no signature / attestation for the digest (also: the tag was moved to a digest nobody signed)
  11  a signature by the given key does not match its payload: modified after signing
  12  signed, but not by the given key
  13  a valid signature over another digest (copied from another image)
  14  the signature manifest, payload, envelope or bundle is malformed
  15  attestation present but of the wrong age or condition
Keyless (--certificate-identity[-regexp], --certificate-oidc-issuer, --trusted-root):
  16  signed by another identity
  17  identity from another OIDC issuer
  18  the certificate does not chain to a CA of the trusted root (or is no code-signing certificate)
  19  signed outside the certificate's validity (expired or not yet valid at signing time)
  20  the embedded SCT is missing or does not verify with a CT log of the trusted root
  21  no transparency-log entry (or timestamp), or one that does not verify";

#[derive(Subcommand, Debug)]
pub enum SigningCommand {
    /// Generate an ECDSA P-256 key pair: PREFIX.key (cosign's encrypted format by default; password from
    /// PALISADE_PASSWORD or a prompt) and PREFIX.pub.
    Keygen(KeygenArgs),
    /// Sign an image: the reference is resolved to its digest, and the digest is signed.
    Sign(SignArgs),
    /// Verify an image's signature with a public key; prints the digest verified.
    #[command(after_help = VERIFY_EXIT_CODES)]
    Verify(VerifyArgs),
    /// Attach a signed in-toto attestation (a predicate file) to an image.
    Attest(AttestArgs),
    /// Verify an image's attestation of a type with a public key; prints the verified statement.
    #[command(after_help = VERIFY_EXIT_CODES)]
    VerifyAttestation(VerifyAttestationArgs),
    /// Verify a file against a Sigstore bundle (cosign verify-blob, sigstore-python/-js verify), with a key
    /// or keyless.
    #[command(after_help = VERIFY_EXIT_CODES)]
    VerifyBlob(VerifyBlobArgs),
}

/// Who signed: a public key, or (keyless) a certificate identity and issuer under a trusted root.
#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "Signer")]
pub struct SignerArgs {
    /// Public key file (PEM).
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// Keyless: the identity (e-mail or URI subject alternative name) the signing certificate must name.
    #[arg(long, value_name = "ID", conflicts_with = "key")]
    pub certificate_identity: Option<String>,
    /// Keyless: a regular expression the identity must match (unanchored, as cosign's: use ^…$).
    #[arg(long, value_name = "REGEX", conflicts_with_all = ["key", "certificate_identity"])]
    pub certificate_identity_regexp: Option<String>,
    /// Keyless: the OIDC issuer of the identity (exact), e.g. https://token.actions.githubusercontent.com.
    #[arg(long, value_name = "URL", conflicts_with = "key")]
    pub certificate_oidc_issuer: Option<String>,
    /// Keyless: the Sigstore trusted root (trusted_root.json) to verify offline against.
    #[arg(long, value_name = "FILE", conflicts_with = "key")]
    pub trusted_root: Option<PathBuf>,
}

impl SignerArgs {
    /// The keys and keyless policies these flags name (one of the two).
    pub fn resolve(&self) -> Result<(Vec<PublicKey>, Vec<palisade_signing::keyless::KeylessPolicy>)> {
        use palisade_signing::keyless::{IdentityMatch, KeylessPolicy, TrustedRoot};
        if let Some(k) = &self.key {
            return Ok((vec![PublicKey::load(k)?], Vec::new()));
        }
        let identity = match (&self.certificate_identity, &self.certificate_identity_regexp) {
            (Some(id), _) => IdentityMatch::Exact(id.clone()),
            (None, Some(re)) => IdentityMatch::regexp(re)
                .map_err(|e| anyhow::anyhow!("--certificate-identity-regexp: {e}"))?,
            (None, None) => bail!(
                "give --key FILE, or keyless --certificate-identity ID (or --certificate-identity-regexp RE) with --certificate-oidc-issuer URL and --trusted-root FILE"
            ),
        };
        let Some(issuer) = self.certificate_oidc_issuer.clone() else {
            bail!("keyless verification needs --certificate-oidc-issuer URL");
        };
        let Some(root) = &self.trusted_root else {
            bail!(
                "keyless verification needs --trusted-root FILE (cosign trusted-root create, or the Sigstore TUF repository's trusted_root.json)"
            );
        };
        let root = TrustedRoot::load(root).map_err(anyhow::Error::msg)?;
        Ok((Vec::new(), vec![KeylessPolicy { identity, issuer, root: std::sync::Arc::new(root) }]))
    }
}

#[derive(Args, Debug)]
pub struct VerifyBlobArgs {
    /// The file that was signed.
    pub file: PathBuf,
    /// The Sigstore bundle (JSON) of its signature.
    #[arg(long, value_name = "FILE")]
    pub bundle: PathBuf,
    #[command(flatten)]
    pub signer: SignerArgs,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum KeyFormatArg {
    /// `ENCRYPTED SIGSTORE PRIVATE KEY` (cosign today)
    Sigstore,
    /// `ENCRYPTED COSIGN PRIVATE KEY` (older cosign)
    Cosign,
    /// Unencrypted PKCS#8 `PRIVATE KEY`
    Pkcs8,
}

#[derive(Clone, Copy, Debug, ValueEnum, Default)]
pub enum FormatArg {
    /// OCI 1.1 referrers carrying Sigstore bundles (cosign v3's default)
    #[default]
    Referrers,
    /// The `sha256-<hex>.sig` / `.att` tag scheme (cosign v1/v2)
    Tag,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Self {
        match f {
            FormatArg::Referrers => Format::Referrers,
            FormatArg::Tag => Format::Tag,
        }
    }
}

#[derive(Args, Debug)]
pub struct KeygenArgs {
    /// Write PREFIX.key and PREFIX.pub.
    #[arg(long, value_name = "PREFIX", default_value = "cosign")]
    pub output_key_prefix: PathBuf,
    /// Private key format.
    #[arg(long, value_enum, default_value = "sigstore")]
    pub key_format: KeyFormatArg,
    /// Overwrite existing files.
    #[arg(long)]
    pub force: bool,
}

/// Registry options of every signing command.
#[derive(Args, Debug, Clone)]
pub struct RegistryArgs {
    /// Allow plain HTTP to the image's registry.
    #[arg(long)]
    pub insecure: bool,
    /// Bound on each registry request.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub registry_timeout: Duration,
}

/// Keyless signing: an OIDC identity token, Fulcio, Rekor and optionally a timestamp authority.
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Keyless signing")]
pub struct KeylessSignArgs {
    /// Keyless: the OIDC identity token (a JWT) in FILE, or `-` for stdin; default: $SIGSTORE_ID_TOKEN.
    #[arg(long, value_name = "FILE|-", conflicts_with = "key")]
    pub identity_token: Option<String>,
    /// Keyless: Fulcio's base URL.
    #[arg(long, value_name = "URL", default_value = "https://fulcio.sigstore.dev")]
    pub fulcio_url: String,
    /// Keyless: Rekor's base URL.
    #[arg(long, value_name = "URL", default_value = "https://rekor.sigstore.dev")]
    pub rekor_url: String,
    /// Keyless: also get an RFC 3161 timestamp of the signature from this timestamp authority.
    #[arg(long, value_name = "URL")]
    pub tsa_url: Option<String>,
}

impl KeylessSignArgs {
    /// The keyless options, when a token is given (flag or $SIGSTORE_ID_TOKEN); `None`: not keyless.
    fn options(&self, timeout: Duration) -> Result<Option<palisade_signing::keyless_sign::KeylessOptions>> {
        let token = match self.identity_token.as_deref() {
            Some("-") => {
                let mut t = String::new();
                std::io::Read::read_to_string(&mut std::io::stdin(), &mut t)
                    .context("reading the identity token from stdin")?;
                t
            }
            Some(path) => std::fs::read_to_string(path)
                .with_context(|| format!("{path}: cannot read the identity token"))?,
            None => match std::env::var("SIGSTORE_ID_TOKEN") {
                Ok(t) if !t.trim().is_empty() => t,
                _ => return Ok(None),
            },
        };
        if token.trim().is_empty() {
            bail!("the identity token is empty");
        }
        Ok(Some(palisade_signing::keyless_sign::KeylessOptions {
            identity_token: token.trim().to_string(),
            fulcio_url: self.fulcio_url.clone(),
            rekor_url: self.rekor_url.clone(),
            tsa_url: self.tsa_url.clone(),
            timeout,
        }))
    }
}

#[derive(Args, Debug)]
pub struct SignArgs {
    /// Image reference (tag or digest).
    pub image: String,
    /// Private key file (cosign's encrypted format or PKCS#8 PEM). Without it, signing is keyless.
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
    #[command(flatten)]
    pub keyless: KeylessSignArgs,
    /// Where to store the signature.
    #[arg(long, value_enum, default_value = "referrers")]
    pub format: FormatArg,
    /// Annotation for the signed payload (`key=value`, repeatable; tag format).
    #[arg(long = "annotation", short = 'a', value_name = "KEY=VALUE")]
    pub annotations: Vec<String>,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// Image reference (a tag is resolved to its digest first).
    pub image: String,
    #[command(flatten)]
    pub signer: SignerArgs,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

#[derive(Args, Debug)]
pub struct AttestArgs {
    /// Image reference (tag or digest).
    pub image: String,
    /// The predicate (JSON file): an SBOM, a scan result, a VEX document, ...
    #[arg(long, value_name = "FILE")]
    pub predicate: PathBuf,
    /// Predicate type: cyclonedx, spdxjson, vuln, openvex, slsaprovenance, custom, or a URI.
    #[arg(long = "type", value_name = "TYPE", default_value = "custom")]
    pub predicate_type: String,
    /// Private key file. Without it, signing is keyless.
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
    #[command(flatten)]
    pub keyless: KeylessSignArgs,
    /// Where to store the attestation.
    #[arg(long, value_enum, default_value = "referrers")]
    pub format: FormatArg,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

#[derive(Args, Debug)]
pub struct VerifyAttestationArgs {
    /// Image reference (a tag is resolved to its digest first).
    pub image: String,
    #[command(flatten)]
    pub signer: SignerArgs,
    /// Predicate type: cyclonedx, spdxjson, vuln, openvex, slsaprovenance, custom, or a URI.
    #[arg(long = "type", value_name = "TYPE", default_value = "custom")]
    pub predicate_type: String,
    /// Refuse attestations whose predicate is older than this (`7d`, `24h`, `90m`), by the predicate's own
    /// creation time.
    #[arg(long, value_name = "DURATION", value_parser = parse_age)]
    pub max_age: Option<Duration>,
    /// Judge the image by a policy bundle (directory or file) instead: every Gate whose scope selects the
    /// image checks its `signatures` section (keys, identities, attestations with maxAge and predicate
    /// gate/conditions), as `scan --policy` and the admission webhook do. Exit 15 on a deny, 10 when no
    /// policy of the bundle selects the image.
    #[arg(long, value_name = "PATH", conflicts_with_all = ["key", "certificate_identity", "certificate_identity_regexp", "max_age"])]
    pub policy: Option<PathBuf>,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

/// `7d` as well as everything [`parse_duration`] takes.
pub fn parse_age(s: &str) -> Result<Duration, String> {
    if let Some(days) = s.trim().strip_suffix('d')
        && let Ok(n) = days.parse::<u64>()
    {
        return Ok(Duration::from_secs(n * 86_400));
    }
    parse_duration(s)
}

pub fn run(cmd: SigningCommand) -> Result<ExitCode> {
    match cmd {
        SigningCommand::Keygen(a) => keygen(a),
        SigningCommand::Sign(a) => sign(a),
        SigningCommand::Verify(a) => verify(a),
        SigningCommand::Attest(a) => attest(a),
        SigningCommand::VerifyAttestation(a) => verify_attestation(a),
        SigningCommand::VerifyBlob(a) => verify_blob(a),
    }
}

/// The password: `PALISADE_PASSWORD` (may be empty), else a prompt on the terminal (twice when `confirm`).
fn password(confirm: bool) -> Result<Vec<u8>> {
    if let Some(p) = std::env::var_os("PALISADE_PASSWORD") {
        return Ok(p.into_encoded_bytes());
    }
    if !std::io::stdin().is_terminal() {
        bail!("the key is encrypted: set PALISADE_PASSWORD (no terminal to prompt on)");
    }
    let p = rpassword::prompt_password("Password for the private key: ").context("reading the password")?;
    if confirm {
        let again = rpassword::prompt_password("Again: ").context("reading the password")?;
        if again != p {
            bail!("the passwords differ");
        }
    }
    Ok(p.into_bytes())
}

/// Load a private key, asking for the password only when the file is encrypted.
pub fn load_private_key(path: &Path) -> Result<PrivateKey> {
    let text = std::fs::read_to_string(path).with_context(|| format!("{}: cannot read", path.display()))?;
    let pw = if keys::is_encrypted(&text) { Some(password(false)?) } else { None };
    Ok(PrivateKey::from_pem(&text, pw.as_deref(), &path.display().to_string())?)
}

fn keygen(a: KeygenArgs) -> Result<ExitCode> {
    let key_path = PathBuf::from(format!("{}.key", a.output_key_prefix.display()));
    let pub_path = PathBuf::from(format!("{}.pub", a.output_key_prefix.display()));
    for p in [&key_path, &pub_path] {
        if p.exists() && !a.force {
            bail!("{} exists; use --force to overwrite it", p.display());
        }
    }
    let format = match a.key_format {
        KeyFormatArg::Sigstore => KeyFormat::Sigstore,
        KeyFormatArg::Cosign => KeyFormat::Cosign,
        KeyFormatArg::Pkcs8 => KeyFormat::Pkcs8,
    };
    let pw = if format == KeyFormat::Pkcs8 { Vec::new() } else { password(true)? };
    let key = PrivateKey::generate()?;
    let pem = key.to_pem(format, &pw)?;
    write_private(&key_path, &pem)?;
    std::fs::write(&pub_path, key.public().to_pem()).with_context(|| format!("{}", pub_path.display()))?;
    eprintln!("Private key written to {}", key_path.display());
    eprintln!("Public key written to {} (key id {})", pub_path.display(), key.public().id());
    Ok(ExitCode::SUCCESS)
}

/// Write a private key readable by its owner only.
fn write_private(path: &Path, text: &str) -> Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("{}", path.display()))?;
    f.write_all(text.as_bytes()).with_context(|| format!("{}", path.display()))
}

fn options(format: FormatArg, reg: &RegistryArgs, annotations: &[String]) -> Result<SignOptions> {
    let mut map = BTreeMap::new();
    for a in annotations {
        let Some((k, v)) = a.split_once('=') else { bail!("--annotation {a:?}: expected KEY=VALUE") };
        map.insert(k.to_string(), v.to_string());
    }
    Ok(SignOptions { format: format.into(), insecure: reg.insecure, annotations: map })
}

fn resolved_note(from: &Option<String>) -> String {
    from.as_ref().map(|t| format!(" (resolved from {t})")).unwrap_or_default()
}

/// Keyless signing of `image`: the statement (`predicate_type`, `predicate`) signed with a Fulcio
/// certificate, logged in Rekor, attached as a referrer bundle.
fn sign_keyless(
    image: &str,
    opts: &palisade_signing::keyless_sign::KeylessOptions,
    format: FormatArg,
    reg: &RegistryArgs,
    predicate: Option<(&str, serde_json::Value)>,
) -> Result<ExitCode> {
    if matches!(format, FormatArg::Tag) && predicate.is_some() {
        bail!(
            "keyless attestations are written as Sigstore bundles (--format referrers); --format tag takes --key"
        );
    }
    let (registry, subject) = palisade_signing::sign::open_subject(image, reg.insecure)?;
    let (signed, location) = match (predicate, format) {
        (None, FormatArg::Tag) => {
            palisade_signing::keyless_sign::sign_subject_tag(&registry, &subject, opts)?
        }
        (None, FormatArg::Referrers) => {
            palisade_signing::keyless_sign::sign_subject(&registry, &subject, opts)?
        }
        (Some((ty, p)), _) => {
            palisade_signing::keyless_sign::attest_subject(&registry, &subject, ty, p, opts)?
        }
    };
    eprintln!(
        "Signed {}{} keylessly as {} (issuer {}) -> {location}",
        subject.pinned(),
        resolved_note(&subject.resolved_from),
        signed.identity,
        signed.issuer
    );
    println!("{}", subject.pinned());
    Ok(ExitCode::SUCCESS)
}

fn sign(a: SignArgs) -> Result<ExitCode> {
    let Some(key_path) = &a.key else {
        let Some(opts) = a.keyless.options(a.registry.registry_timeout)? else {
            bail!("give --key FILE, or sign keylessly with --identity-token FILE|- (or $SIGSTORE_ID_TOKEN)");
        };
        return sign_keyless(&a.image, &opts, a.format, &a.registry, None);
    };
    let key = load_private_key(key_path)?;
    let opts = options(a.format, &a.registry, &a.annotations)?;
    let s = palisade_signing::sign_image(&a.image, &key, &opts)?;
    eprintln!("Signed {}{} -> {}", s.subject.pinned(), resolved_note(&s.subject.resolved_from), s.location);
    println!("{}", s.subject.pinned());
    Ok(ExitCode::SUCCESS)
}

fn attest(a: AttestArgs) -> Result<ExitCode> {
    let Some(ptype) = statement::predicate_type(&a.predicate_type) else {
        bail!(
            "--type {:?}: expected one of {} or a URI",
            a.predicate_type,
            statement::PREDICATE_TYPES.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
        );
    };
    let text =
        std::fs::read(&a.predicate).with_context(|| format!("{}: cannot read", a.predicate.display()))?;
    let predicate: serde_json::Value = serde_json::from_slice(&text)
        .with_context(|| format!("{}: the predicate is not JSON", a.predicate.display()))?;
    let Some(key_path) = &a.key else {
        let Some(opts) = a.keyless.options(a.registry.registry_timeout)? else {
            bail!(
                "give --key FILE, or attest keylessly with --identity-token FILE|- (or $SIGSTORE_ID_TOKEN)"
            );
        };
        return sign_keyless(&a.image, &opts, a.format, &a.registry, Some((&ptype, predicate)));
    };
    let key = load_private_key(key_path)?;
    let opts = options(a.format, &a.registry, &[])?;
    let s = palisade_signing::attest_image(&a.image, &key, &ptype, predicate, &opts)?;
    eprintln!(
        "Attested {} ({ptype}){} -> {}",
        s.subject.pinned(),
        resolved_note(&s.subject.resolved_from),
        s.location
    );
    println!("{}", s.subject.pinned());
    Ok(ExitCode::SUCCESS)
}

fn verify_with(image: &str, policy: &VerifyPolicy) -> Result<ExitCode> {
    match palisade_signing::verify_image(image, policy) {
        Ok(v) => {
            let who = match &v.keyless {
                Some(s) => format!("{} (issuer {}), {}", s.identity, s.issuer, s.proof),
                None => format!("key {}", v.key_id.get(..16).unwrap_or(&v.key_id)),
            };
            eprintln!(
                "Verified {}@{}{}: signed by {who} ({})",
                v.repository,
                v.digest,
                resolved_note(&v.resolved_from),
                v.source
            );
            let out = match (&v.statement, &v.payload) {
                (Some(st), _) => serde_json::to_string_pretty(st)?,
                (None, Some(p)) => serde_json::to_string_pretty(p)?,
                (None, None) => String::new(),
            };
            println!("{out}");
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("palisade: verification failed: {e}");
            Ok(ExitCode::from(e.exit_code()))
        }
    }
}

fn verify_blob(a: VerifyBlobArgs) -> Result<ExitCode> {
    let (keys, keyless) = a.signer.resolve()?;
    let file = std::fs::read(&a.file).with_context(|| format!("{}: cannot read", a.file.display()))?;
    let bundle = std::fs::read(&a.bundle).with_context(|| format!("{}: cannot read", a.bundle.display()))?;
    let policy = palisade_signing::blob::BlobPolicy { keys, keyless };
    let name = a.file.display().to_string();
    match palisade_signing::blob::verify_blob(&name, &file, &bundle, &policy) {
        Ok(v) => {
            let how = v.keyless.as_ref().map(|s| format!(", {}", s.proof)).unwrap_or_default();
            eprintln!("Verified {name} ({}): signed by {}{how}", v.digest, v.signer);
            if let Some(st) = &v.statement {
                println!("{}", serde_json::to_string_pretty(st)?);
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("palisade: verification failed: {e}");
            Ok(ExitCode::from(e.exit_code()))
        }
    }
}

fn verify(a: VerifyArgs) -> Result<ExitCode> {
    let (keys, keyless) = a.signer.resolve()?;
    let policy = VerifyPolicy {
        keys,
        keyless,
        requirement: Requirement::Signature,
        insecure: a.registry.insecure,
        timeout: a.registry.registry_timeout,
        budget: None,
    };
    verify_with(&a.image, &policy)
}

fn verify_attestation(a: VerifyAttestationArgs) -> Result<ExitCode> {
    if let Some(bundle) = &a.policy {
        return verify_by_policy(&a.image, bundle, &a.registry);
    }
    let Some(ptype) = statement::predicate_type(&a.predicate_type) else {
        bail!("--type {:?}: expected a known short name or a URI", a.predicate_type);
    };
    let (keys, keyless) = a.signer.resolve()?;
    let policy = VerifyPolicy {
        keys,
        keyless,
        requirement: Requirement::Attestation { predicate_type: ptype, max_age: a.max_age },
        insecure: a.registry.insecure,
        timeout: a.registry.registry_timeout,
        budget: None,
    };
    verify_with(&a.image, &policy)
}

/// `verify-attestation IMAGE --policy BUNDLE`: the image (resolved to its digest) judged by the bundle's
/// gates the way the admission webhook judges an image it has no scan report for (a digest-only report:
/// signatures and attestations only), so the three places give the same answer.
fn verify_by_policy(image: &str, bundle: &Path, reg: &RegistryArgs) -> Result<ExitCode> {
    use palisade_policy::engine::{Action, Budget, Outcome, Subject, SubjectKind, evaluate_default};
    let compiled = palisade_policy::bundle::Bundle::read(bundle)
        .with_context(|| format!("reading the policy bundle {}", bundle.display()))?
        .compile();
    let (_, subject) = palisade_signing::sign::open_subject(image, reg.insecure)?;
    let pinned = subject.pinned();
    let report = Subject {
        memo: Default::default(),
        kind: SubjectKind::ScanReport,
        value: serde_json::json!({
            "artifact": {"kind": "image", "name": image, "repo_digests": [pinned]},
            "digest_only": true,
        }),
        origin: Default::default(),
        admission: Default::default(),
    };
    let mut failed = false;
    for e in &compiled.errors {
        eprintln!("palisade: policy {e}");
        failed |= !e.unsupported;
    }
    if !failed && !compiled.policies.iter().any(|p| p.selects(&report)) {
        // Nothing to check is not a pass: the image is outside every gate's scope.
        eprintln!(
            "palisade: verification failed: no policy of {} selects {pinned}: nothing was verified",
            bundle.display()
        );
        return Ok(ExitCode::from(10));
    }
    let decisions = evaluate_default(&compiled.policies, &report, &Budget::default());
    for d in &decisions {
        let action = serde_json::to_value(d.action)?;
        eprintln!("{} {}/{}: {}", action.as_str().unwrap_or("?"), d.policy, d.rule, d.message);
        failed |= d.action == Action::Deny && matches!(d.outcome, Outcome::Violation | Outcome::Error);
    }
    println!("{}", serde_json::to_string_pretty(&decisions)?);
    if failed {
        eprintln!(
            "palisade: verification failed: {pinned}{} is refused by the policy",
            resolved_note(&subject.resolved_from)
        );
        return Ok(ExitCode::from(15)); // as an attestation that fails its condition
    }
    eprintln!("Verified {pinned}{}: the policy's gates pass", resolved_note(&subject.resolved_from));
    Ok(ExitCode::SUCCESS)
}

/// `scan image … --attest --key KEY`: attach the SBOM and the scan result of the scanned digest.
#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "Attestation")]
pub struct ScanAttestOpts {
    /// After the scan, attach signed attestations to the digest scanned: the SBOM (CycloneDX predicate) and
    /// the scan result (cosign's vuln predicate wrapping the JSON report). Registry images only.
    #[arg(long, requires = "key")]
    pub attest: bool,
    /// Private key for --attest (password from PALISADE_PASSWORD or a prompt).
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// Where to store the attestations.
    #[arg(long, value_enum, default_value = "referrers")]
    pub attest_format: FormatArg,
}

/// Attest what a registry scan found, for the digest it scanned.
pub fn attest_scan(
    report: &palisade_core::ScanReport,
    opts: &ScanAttestOpts,
    insecure: bool,
    started: time::OffsetDateTime,
) -> Result<()> {
    let Some(key_path) = opts.key.as_deref().filter(|_| opts.attest) else { return Ok(()) };
    let Some(pinned) = report.artifact.repo_digests.first() else {
        bail!("--attest: the image did not come from a registry, so there is no registry digest to attest");
    };
    let key = load_private_key(key_path)?;
    let rfc3339 = |t: time::OffsetDateTime| {
        t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
    };
    let mut sbom = Vec::new();
    palisade_report::render(report, palisade_report::Format::CycloneDx, &mut sbom)?;
    let mut json = Vec::new();
    palisade_report::render(report, palisade_report::Format::Json, &mut json)?;
    let vuln = serde_json::json!({
        "invocation": {"parameters": null, "uri": "", "event_id": "", "builder.id": ""},
        "scanner": {
            "uri": "pkg:generic/palisade",
            "version": report.tool.version,
            "db": {"uri": "", "version": ""},
            "result": serde_json::from_slice::<serde_json::Value>(&json)?,
        },
        "metadata": {"scanStartedOn": rfc3339(started), "scanFinishedOn": rfc3339(time::OffsetDateTime::now_utc())},
    });
    let sign_opts = SignOptions { format: opts.attest_format.into(), insecure, annotations: BTreeMap::new() };
    let (reg, subject) = palisade_signing::sign::open_subject(pinned, sign_opts.insecure)?;
    for (ty, predicate) in [("cyclonedx", serde_json::from_slice(&sbom)?), ("vuln", vuln)] {
        let uri = statement::predicate_type(ty).unwrap_or_default();
        let s =
            palisade_signing::sign::attest_subject(&reg, &subject, &key, &uri, predicate, sign_opts.format)?;
        eprintln!("Attested {} ({uri}) -> {}", s.subject.pinned(), s.location);
    }
    Ok(())
}
