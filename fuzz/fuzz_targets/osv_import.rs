//! Advisory import: OSV JSON and YAML, Debian tracker and Alpine secdb documents.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else { return };
    let name = if first % 2 == 0 { "advisory.json" } else { "advisory.yaml" };
    let _ = palisade_vulndb::import::import_document(name, rest);
});
