//! Every parser of registry-supplied or user-supplied signing data returns an error, never panics, on
//! truncated or corrupted input: each valid document is cut at every length and has each byte flipped.

use palisade_signing::bundle::Bundle;
use palisade_signing::dsse::Envelope;
use palisade_signing::keys::{KeyFormat, PrivateKey, PublicKey};
use palisade_signing::payload::SimpleSigning;
use palisade_signing::statement::Statement;

fn variants(doc: &[u8]) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = (0..doc.len()).map(|n| doc[..n].to_vec()).collect();
    for i in 0..doc.len() {
        for flip in [0x01u8, 0x20, 0x80] {
            let mut d = doc.to_vec();
            d[i] ^= flip;
            out.push(d);
        }
    }
    out
}

#[test]
fn parsers_survive_truncation_and_corruption() {
    let key = PrivateKey::generate().expect("key");
    let public = key.public();
    let payload = SimpleSigning::new("reg/app", &format!("sha256:{}", "ab".repeat(32)), None).to_bytes();
    let statement =
        Statement::new("reg/app", "sha256:abcd", "https://cyclonedx.org/bom", serde_json::json!({"a": [1]}))
            .to_bytes();
    let env = Envelope::sign("application/vnd.in-toto+json", &statement, &key);
    let env_bytes = serde_json::to_vec(&env).expect("json");
    let bundle = serde_json::to_vec(&Bundle::for_key(env, public.id())).expect("json");
    let mut checked = 0usize;
    for v in variants(&payload) {
        let _ = SimpleSigning::parse(&v);
        checked += 1;
    }
    for v in variants(&statement) {
        let _ = Statement::parse(&v).map(|s| s.created());
        checked += 1;
    }
    for v in variants(&env_bytes) {
        if let Ok(e) = Envelope::parse(&v) {
            let _ = e.verify(&public);
        }
        checked += 1;
    }
    for v in variants(&bundle) {
        let _ = Bundle::parse(&v);
        checked += 1;
    }
    let pubpem = public.to_pem().into_bytes();
    let pkcs8 = key.to_pem(KeyFormat::Pkcs8, b"").expect("pem").into_bytes();
    for v in variants(&pubpem).into_iter().chain(variants(&pkcs8)) {
        let text = String::from_utf8_lossy(&v);
        let _ = PublicKey::from_pem(&text, "k.pub");
        let _ = PrivateKey::from_pem(&text, None, "k.key");
        checked += 1;
    }
    // Signatures of any shape.
    for v in variants(&key.sign(b"m")) {
        assert!(!public.verify(b"m", &v) || v == key.sign(b"m"));
        checked += 1;
    }
    println!("{checked} hostile variants parsed without a panic");
}
