//! Every lockfile and language-metadata parser.
#![no_main]
use libfuzzer_sys::fuzz_target;
#[path = "common.rs"]
mod common;

const NAMES: &[&str] = &[
    "app/Cargo.lock",
    "app/package-lock.json",
    "app/npm-shrinkwrap.json",
    "app/yarn.lock",
    "app/pnpm-lock.yaml",
    "app/poetry.lock",
    "app/uv.lock",
    "app/Pipfile.lock",
    "app/requirements.txt",
    "app/composer.lock",
    "app/Gemfile.lock",
    "app/go.mod",
    "app/packages.lock.json",
    "app/app.deps.json",
    "app/package.json",
    "app/pyproject.toml",
    "node_modules/x/package.json",
    "usr/lib/python3/site-packages/x-1.0.dist-info/METADATA",
    "usr/share/gems/specifications/x-1.0.gemspec",
];

fuzz_target!(|data: &[u8]| {
    if let Some((path, rest)) = common::pick(NAMES, data) {
        common::parse_as(path, rest);
    }
});
