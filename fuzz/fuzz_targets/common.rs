//! Run every inventory parser that wants `path` on `data`.
use palisade_artifact::FileMeta;
use palisade_inventory::{Input, Output};

pub fn parse_as(path: &str, data: &[u8]) {
    let meta = FileMeta { path, size: data.len() as u64, mode: 0o644, layer: Some(0) };
    for p in palisade_inventory::registry::all() {
        if p.wants(&meta) {
            let mut out = Output::default();
            let _ = p.parse(&Input { path, layer: Some(0), data }, &mut out);
        }
    }
}

/// The first byte picks the file name, the rest is the content.
pub fn pick<'a>(names: &[&'a str], data: &'a [u8]) -> Option<(&'a str, &'a [u8])> {
    let (&first, rest) = data.split_first()?;
    Some((names[usize::from(first) % names.len()], rest))
}
