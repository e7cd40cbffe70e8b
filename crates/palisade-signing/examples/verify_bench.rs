//! Timing of image verification for `bench/signing.sh`: `verify_bench REF@DIGEST KEY.pub N [--insecure]`.
//! Prints one markdown row per case: uncached `verify_image` (a new registry client each time, as a CLI
//! run), uncached through one reused client (as the webhook holds it), and cached `VerifyCache::verify`.

use palisade_signing::keys::PublicKey;
use palisade_signing::registry::{Registry, parse_reference};
use palisade_signing::{VerifyCache, VerifyPolicy, store, verify};
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
    let (reference, key, n) = match args.as_slice() {
        [_, r, k, n, ..] => (r.clone(), k.clone(), n.parse::<usize>()?),
        _ => return Err("usage: verify_bench REF KEY.pub N [--insecure]".into()),
    };
    let insecure = args.iter().any(|a| a == "--insecure");
    let mut policy = VerifyPolicy::signature(PublicKey::load(std::path::Path::new(&key))?);
    policy.insecure = insecure;
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
