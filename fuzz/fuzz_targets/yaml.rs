//! The YAML loader of the config checks, and the checks on what it loads.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = palisade_checks::yaml::load_all(&text);
});
