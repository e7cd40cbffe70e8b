//! SBOM input: CycloneDX and SPDX JSON (through the lenient reader).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = palisade_inventory::sbom::read(data, "fuzz.json");
});
