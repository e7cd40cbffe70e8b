//! Timing of image verification for `bench/signing.sh`:
//! `verify_bench REF@DIGEST (KEY.pub | --keyless ROOT IDENTITY ISSUER) N [--insecure] [--push-bundle FILE]`.
//! Prints one markdown row per case: uncached `verify_image` (a new registry client each time, as a CLI
//! run), uncached through one reused client (as the webhook holds it), and cached `VerifyCache::verify`.
//! `--push-bundle FILE` first attaches the Sigstore bundle FILE to the image as a referrer (a keyless
//! signature made elsewhere, e.g. by sigstore-js against @sigstore/mock).

use palisade_signing::keyless::{IdentityMatch, KeylessPolicy, TrustedRoot};
use palisade_signing::keys::PublicKey;
use palisade_signing::registry::{Registry, parse_reference};
use palisade_signing::{Requirement, VerifyCache, VerifyPolicy, store, verify};
use std::time::{Duration, Instant};

fn row(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let pct = |p: f64| samples[((samples.len() as f64 - 1.0) * p).round() as usize];
    let mean = samples.iter().sum::<Duration>() / samples.len() as u32;
    println!(
        "| {name} | {} | {:.3} | {:.3} | {:.3} |",
        samples.len(),
        mean.as_secs_f64() * 1e3,
        pct(0.5).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3
    );
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: verify_bench REF (KEY.pub | --keyless ROOT IDENTITY ISSUER) N [--insecure] [--push-bundle FILE]";
    let insecure = args.iter().any(|a| a == "--insecure");
    let (reference, mut policy, n) = match args.as_slice() {
        [_, r, flag, root, id, issuer, n, ..] if flag == "--keyless" => {
            let root = TrustedRoot::load(std::path::Path::new(root))?;
            let keyless = KeylessPolicy {
                identity: IdentityMatch::Exact(id.clone()),
                issuer: issuer.clone(),
                root: std::sync::Arc::new(root),
            };
            let p = VerifyPolicy {
                keys: Vec::new(),
                keyless: vec![keyless],
                requirement: Requirement::Signature,
                insecure,
                timeout: Duration::from_secs(30),
                budget: None,
            };
            (r.clone(), p, n.parse::<usize>()?)
        }
        [_, r, k, n, ..] => (
            r.clone(),
            VerifyPolicy::signature(PublicKey::load(std::path::Path::new(k))?),
            n.parse::<usize>()?,
        ),
        _ => return Err(usage.into()),
    };
    policy.insecure = insecure;
    if let Some(i) = args.iter().position(|a| a == "--push-bundle") {
        let file = args.get(i + 1).ok_or(usage)?;
        let bundle = palisade_signing::bundle::Bundle::parse(&std::fs::read(file)?)?;
        let reg = Registry::for_reference(&parse_reference(&reference)?, insecure)?;
        let subject = store::resolve(&reg, &reference)?;
        store::write_bundle_referrer(&reg, &subject, &bundle, palisade_signing::bundle::SIGN_PREDICATE_TYPE)?;
    }
    println!("| case | runs | mean ms | p50 ms | p99 ms |");
    println!("|---|---|---|---|---|");
    let mut fresh = Vec::new();
    for _ in 0..n {
        let t = Instant::now();
        palisade_signing::verify_image(&reference, &policy)?;
        fresh.push(t.elapsed());
    }
    row("uncached, new client per call (CLI)", fresh);
    let reg = Registry::for_reference(&parse_reference(&reference)?, insecure)?;
    let mut reused = Vec::new();
    for _ in 0..n {
        let t = Instant::now();
        let subject = store::resolve(&reg, &reference)?;
        verify::verify_subject(&reg, &subject, &policy)?;
        reused.push(t.elapsed());
    }
    row("uncached, one client reused (webhook)", reused);
    let cache = VerifyCache::new(Duration::from_secs(300));
    cache.verify(&reference, &policy)?;
    let mut cached = Vec::new();
    for _ in 0..n * 100 {
        let t = Instant::now();
        cache.verify(&reference, &policy)?;
        cached.push(t.elapsed());
    }
    row("cached (digest reference)", cached);
    Ok(())
}
