//! Each keyless verification step on its own, on bundles made by sigstore-js against @sigstore/mock
//! (tests/fixtures/keyless, see its README): what passes, and what each step refuses.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use palisade_signing::bundle::Bundle;
use palisade_signing::keyless::{
    self, IdentityMatch, KeylessError, KeylessPolicy, Material, Signed, TrustedRoot, cert::Leaf, chain, sct,
    tlog, tsa,
};
use std::path::PathBuf;
use std::sync::Arc;
use x509_cert::Certificate;
use x509_cert::der::Decode;

const SUBJECT: &str = "https://github.com/acme/app/.github/workflows/ci.yml@refs/heads/main";
const ISSUER: &str = "https://token.actions.githubusercontent.com";

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/keyless").join(name)
}

fn root(name: &str) -> TrustedRoot {
    TrustedRoot::load(&fixture(name)).expect("trusted root")
}

/// The material and the message signature of a blob bundle.
fn blob(name: &str) -> (Material, Vec<u8>) {
    let b = Bundle::parse(&std::fs::read(fixture(&format!("{name}.bundle.json"))).expect("read"))
        .expect("bundle");
    let m = Material::from_bundle(&b.verification_material).expect("material").expect("keyless");
    let sig = b.message_signature.as_ref().and_then(|s| s["signature"].as_str()).expect("signature");
    (m, B64.decode(sig).expect("b64"))
}

fn artifact() -> Vec<u8> {
    std::fs::read(fixture("artifact.txt")).expect("artifact")
}

fn policy(root_name: &str) -> KeylessPolicy {
    KeylessPolicy {
        identity: IdentityMatch::Exact(SUBJECT.into()),
        issuer: ISSUER.into(),
        root: Arc::new(root(root_name)),
    }
}

#[test]
fn trusted_root_reads_every_part() {
    let r = root("trusted_root.json");
    assert_eq!((r.cas.len(), r.tlogs.len(), r.ctlogs.len(), r.tsas.len()), (1, 1, 1, 1));
    assert_eq!(r.tsas[0].chain.len(), 2);
    assert!(r.tlogs.iter().chain(&r.ctlogs).all(|l| l.key.is_some() && l.log_id.len() == 32));
    assert!(r.cas[0].valid.start.is_some() && r.cas[0].valid.end.is_none());
    let e = TrustedRoot::load(&fixture("artifact.txt")).expect_err("not a root");
    assert!(e.contains("artifact.txt: trusted root JSON"), "{e}");
}

#[test]
fn cert_reads_identity_issuer_and_usage() {
    let (m, _) = blob("rekor");
    let leaf = Leaf::parse(&m.certificates[0]).expect("leaf");
    assert_eq!(leaf.identities, vec![SUBJECT.to_string()]);
    assert_eq!(leaf.issuer.as_deref(), Some(ISSUER));
    assert!(leaf.code_signing);
    assert_eq!(leaf.not_after - leaf.not_before, 600, "Fulcio-style 10-minute certificate");
    let e = Leaf::parse(&m.certificates[0][..100]).expect_err("truncated");
    assert!(e.contains("signing certificate: not DER X.509"), "{e}");
}

#[test]
fn chain_to_the_root_ca_only_and_only_while_it_is_valid() {
    let r = root("trusted_root.json");
    let (m, _) = blob("rekor");
    let leaf = Leaf::parse(&m.certificates[0]).expect("leaf");
    let path = chain::verify(&leaf, &[], &r, leaf.not_before + 1).expect("chains (P-384 CA)");
    assert_eq!(path.authority.name, "https://fulcio.mock.test");
    let e = chain::verify(&leaf, &[], &r, 0).err().expect("CA not yet valid in 1970");
    assert!(e.contains("was not valid at signing time"), "{e}");
    let (other, _) = blob("other-ca");
    let other = Leaf::parse(&other.certificates[0]).expect("leaf");
    let e = chain::verify(&other, &[], &r, other.not_before + 1).err().expect("foreign CA");
    assert!(e.contains("does not chain to a certificate authority of the trusted root"), "{e}");
    // The root certificate sent along as an "intermediate" is not trusted for it.
    let ca = Certificate::from_der(&root("other_root.json").cas[0].chain_der[0]).expect("ca");
    assert!(chain::verify(&other, &[ca], &r, other.not_before + 1).is_err());
}

#[test]
fn sct_verifies_with_the_ct_log_key_only() {
    let r = root("trusted_root.json");
    let (m, _) = blob("rekor");
    let leaf = Leaf::parse(&m.certificates[0]).expect("leaf");
    let issuer = chain::verify(&leaf, &[], &r, leaf.not_before + 1).expect("chain").issuer;
    assert_eq!(sct::verify(&leaf, &issuer, &r).expect("sct"), "https://ctfe.mock.test");
    let mut no_ct = r.clone();
    no_ct.ctlogs.clear();
    assert!(sct::verify(&leaf, &issuer, &no_ct).expect_err("no log").contains("SCT from unknown CT log"));
    // The right log id with another key: the signature over the precertificate fails.
    let mut wrong_key = r.clone();
    wrong_key.ctlogs[0].key = root("other_root.json").ctlogs[0].key.clone();
    assert!(
        sct::verify(&leaf, &issuer, &wrong_key)
            .expect_err("key")
            .contains("does not verify over the certificate")
    );
}

#[test]
fn tlog_entry_needs_its_log_its_signature_and_an_intact_proof() {
    let r = root("trusted_root.json");
    let (m, sig) = blob("rekor");
    let e = &m.tlog_entries[0];
    let leaf = Leaf::parse(&m.certificates[0]).expect("leaf");
    let (der, spki) = (leaf.der.clone(), leaf.spki().expect("spki"));
    let verify = |e: &tlog::Entry, r: &TrustedRoot, sig: &[u8]| tlog::verify(e, r, sig, &der, &spki);
    let t = verify(e, &r, &sig).expect("SET and checkpoint verify");
    assert_eq!(t, Some(e.integrated_time));
    let mut bad_set = e.clone();
    if let Some(s) = bad_set.set.as_mut() {
        let last = s.len() - 2;
        s[last] ^= 1;
    }
    assert!(verify(&bad_set, &r, &sig).expect_err("SET").contains("signed entry timestamp does not verify"));
    let mut moved = e.clone();
    moved.integrated_time += 1;
    assert!(verify(&moved, &r, &sig).is_err(), "the SET covers the integrated time");
    let mut only_proof = e.clone();
    only_proof.set = None;
    assert_eq!(verify(&only_proof, &r, &sig), Ok(Some(e.integrated_time)), "the checkpoint alone proves it");
    if let Some(p) = only_proof.proof.as_mut() {
        p.root_hash[0] ^= 1;
    }
    assert!(verify(&only_proof, &r, &sig).expect_err("root").contains("does not hash to the proof's root"));
    let (_, other_sig) = blob("expired");
    assert!(verify(e, &r, &other_sig).expect_err("other").contains("records another signature"));
    assert!(verify(e, &root("other_root.json"), &sig).expect_err("log").contains("does not list"));
    // The entry of this signature, presented with another certificate.
    let (other, _) = blob("other-ca");
    let other_leaf = Leaf::parse(&other.certificates[0]).expect("leaf");
    let e2 = tlog::verify(e, &r, &sig, &other_leaf.der, &other_leaf.spki().expect("spki")).expect_err("cert");
    assert!(e2.contains("records another certificate"), "{e2}");
}

#[test]
fn rfc3161_timestamp_over_the_signature_by_a_root_tsa() {
    let r = root("trusted_root.json");
    let (m, sig) = blob("tsa");
    let (t, name) = tsa::verify(&m.timestamps[0], &r, &sig).expect("timestamp");
    assert_eq!(name, "https://tsa.mock.test");
    let leaf = Leaf::parse(&m.certificates[0]).expect("leaf");
    assert!(t >= leaf.not_before - 1 && t <= leaf.not_after, "{t}");
    assert!(
        tsa::verify(&m.timestamps[0], &r, b"another")
            .expect_err("imprint")
            .contains("message imprint differs")
    );
    assert!(
        tsa::verify(&m.timestamps[0], &root("other_root.json"), &sig)
            .expect_err("tsa")
            .contains("not signed by a timestamp authority")
    );
    assert!(tsa::verify(&m.timestamps[0][..40], &r, &sig).is_err());
}

#[test]
fn whole_verification_and_its_failure_classes() {
    let p = policy("trusted_root.json");
    let (m, sig) = blob("rekor");
    let s = keyless::verify(&m, &sig, Signed::Message(&artifact()), &p).expect("verified");
    assert_eq!((s.identity.as_str(), s.issuer.as_str()), (SUBJECT, ISSUER));
    assert!(matches!(
        keyless::verify(&m, &sig, Signed::Message(b"other"), &p),
        Err(KeylessError::Signature(_))
    ));
    let (mt, sigt) = blob("tsa");
    assert!(
        keyless::verify(&mt, &sigt, Signed::Message(&artifact()), &p)
            .expect("tsa")
            .proof
            .starts_with("timestamp by")
    );
    let (me, sige) = blob("expired");
    assert!(matches!(
        keyless::verify(&me, &sige, Signed::Message(&artifact()), &p),
        Err(KeylessError::Expired(_))
    ));
    let (mo, sigo) = blob("other-ca");
    assert!(matches!(
        keyless::verify(&mo, &sigo, Signed::Message(&artifact()), &p),
        Err(KeylessError::Chain(_))
    ));
    let mut wrong = p.clone();
    wrong.identity = IdentityMatch::regexp("^mailto:").expect("re");
    assert!(matches!(
        keyless::verify(&m, &sig, Signed::Message(&artifact()), &wrong),
        Err(KeylessError::Identity(_))
    ));
    wrong = p.clone();
    wrong.issuer = "https://accounts.google.com".into();
    assert!(matches!(
        keyless::verify(&m, &sig, Signed::Message(&artifact()), &wrong),
        Err(KeylessError::Issuer(_))
    ));
    let mut bare = m.clone();
    bare.tlog_entries.clear();
    assert!(matches!(
        keyless::verify(&bare, &sig, Signed::Message(&artifact()), &p),
        Err(KeylessError::Proof(_))
    ));
}

/// Truncated or corrupted certificates, timestamps and log entries are errors, never panics.
#[test]
fn keyless_parsers_survive_truncation_and_corruption() {
    fn variants(doc: &[u8]) -> Vec<Vec<u8>> {
        let mut out: Vec<Vec<u8>> = (0..doc.len()).map(|n| doc[..n].to_vec()).collect();
        for i in 0..doc.len() {
            let mut d = doc.to_vec();
            d[i] ^= 0x81;
            out.push(d);
        }
        out
    }
    let r = root("trusted_root.json");
    let (m, sig) = blob("rekor");
    let leaf = Leaf::parse(&m.certificates[0]).expect("leaf");
    let issuer = chain::verify(&leaf, &[], &r, leaf.not_before + 1).expect("chain").issuer;
    let spki = leaf.spki().expect("spki");
    let mut parsed = 0;
    for v in variants(&m.certificates[0]) {
        if let Ok(l) = Leaf::parse(&v) {
            parsed += 1;
            let _ = sct::verify(&l, &issuer, &r);
        }
    }
    assert!(parsed > 0);
    let (mt, sigt) = blob("tsa");
    for v in variants(&mt.timestamps[0]) {
        let _ = tsa::verify(&v, &r, &sigt);
    }
    let e = &m.tlog_entries[0];
    for v in variants(&e.body) {
        let mut bad = e.clone();
        bad.body = v;
        assert!(tlog::verify(&bad, &r, &sig, &leaf.der, &spki).is_err());
    }
    // Any change to the signed part of the checkpoint (the note before its signature lines) is refused;
    // the whole note, cut or corrupted anywhere, never panics.
    if let Some(note) = e.proof.as_ref().and_then(|p| p.checkpoint.clone()) {
        let (body, sigs) = note.split_once("\n\n").expect("signed note");
        let with = |n: String| {
            let mut bad = e.clone();
            bad.set = None;
            if let Some(p) = bad.proof.as_mut() {
                p.checkpoint = Some(n);
            }
            tlog::verify(&bad, &r, &sig, &leaf.der, &spki)
        };
        for v in variants(body.as_bytes()) {
            assert!(with(format!("{}\n\n{sigs}", String::from_utf8_lossy(&v))).is_err());
        }
        for v in variants(note.as_bytes()) {
            let _ = with(String::from_utf8_lossy(&v).into_owned());
        }
    }
    let text = std::fs::read(fixture("trusted_root.json")).expect("root");
    for v in variants(&text).into_iter().step_by(7) {
        let _ = TrustedRoot::parse(&v);
    }
}
