//! dpkg, apk and rpm (sqlite, bdb, ndb) databases.
#![no_main]
use libfuzzer_sys::fuzz_target;
#[path = "common.rs"]
mod common;

const NAMES: &[&str] = &[
    "var/lib/dpkg/status",
    "var/lib/dpkg/status.d/pkg",
    "lib/apk/db/installed",
    "var/lib/rpm/rpmdb.sqlite",
    "var/lib/rpm/Packages",
    "var/lib/rpm/Packages.db",
    "etc/os-release",
];

fuzz_target!(|data: &[u8]| {
    if let Some((path, rest)) = common::pick(NAMES, data) {
        common::parse_as(path, rest);
    }
});
