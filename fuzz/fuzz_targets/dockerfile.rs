//! The Dockerfile parser (with its recovery from bad instructions and unclosed heredocs).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = palisade_checks::dockerfile::Dockerfile::parse(&text);
});
