//! End of security support of OS releases, from `data/os-eol.yaml` (compiled in, sources cited there).
//!
//! A release past its date gets no more security fixes from its distribution: vulnerabilities found after
//! that date are never fixed in it, so a clean scan of such an image means little. The CLI warns about it and
//! `--exit-on-eol` turns it into a gate.

use palisade_core::{EndOfLife, OsInfo};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::OnceLock;

const DATA: &str = include_str!("../data/os-eol.yaml");

#[derive(Debug, Deserialize)]
struct Distro {
    source: String,
    releases: BTreeMap<String, String>,
}

/// The table, parsed once. A malformed data file is a build defect caught by the tests; at run time it only
/// means no release is known.
fn table() -> &'static BTreeMap<String, Distro> {
    static TABLE: OnceLock<BTreeMap<String, Distro>> = OnceLock::new();
    TABLE.get_or_init(|| serde_saphyr::from_str(DATA).unwrap_or_default())
}

/// The release key of `os` in the table: Debian, RHEL family and Amazon Linux by major version, Ubuntu and
/// Alpine by major.minor. Debian without a VERSION_ID (testing/sid images) has no end of life.
fn release_key(os: &OsInfo) -> Option<String> {
    let ver = os.version_id.trim();
    let mut parts = ver.split('.');
    let major = parts.next().filter(|m| !m.is_empty())?;
    Some(match os.id.as_str() {
        "ubuntu" | "alpine" => format!("{major}.{}", parts.next()?),
        _ => major.to_string(),
    })
}

/// The end of life of `os`, judged on `today` (`YYYY-MM-DD`), when the release is in the table.
pub fn end_of_life(os: &OsInfo, today: time::Date) -> Option<EndOfLife> {
    let distro = table().get(os.id.trim())?;
    let date = distro.releases.get(&release_key(os)?)?;
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let day = time::Date::parse(date, &format).ok()?;
    Some(EndOfLife { date: date.clone(), ended: day < today, source: distro.source.clone() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn os(id: &str, ver: &str) -> OsInfo {
        OsInfo { id: id.into(), version_id: ver.into(), ..Default::default() }
    }

    #[test]
    fn data_file_parses_and_every_date_is_a_date() {
        let t = table();
        assert!(t.len() >= 8, "{:?}", t.keys());
        let format = time::macros::format_description!("[year]-[month]-[day]");
        for (id, d) in t {
            assert!(d.source.starts_with("https://"), "{id}");
            assert!(!d.releases.is_empty(), "{id}");
            for (rel, date) in &d.releases {
                assert!(time::Date::parse(date, &format).is_ok(), "{id} {rel}: {date}");
            }
        }
    }

    #[test]
    fn releases_are_found_by_their_version_prefix() {
        let today = date!(2026 - 12 - 06);
        let bullseye = end_of_life(&os("debian", "11"), today).unwrap();
        assert_eq!((bullseye.date.as_str(), bullseye.ended), ("2026-08-31", true));
        let bookworm = end_of_life(&os("debian", "12"), today).unwrap();
        assert!(!bookworm.ended);
        assert!(end_of_life(&os("debian", "12"), date!(2028 - 07 - 01)).unwrap().ended);
        assert!(end_of_life(&os("alpine", "3.18.4"), today).unwrap().ended);
        assert!(!end_of_life(&os("alpine", "3.23.1"), today).unwrap().ended);
        assert!(end_of_life(&os("ubuntu", "20.04"), today).unwrap().ended);
        assert!(!end_of_life(&os("ubuntu", "24.04"), today).unwrap().ended);
        assert!(end_of_life(&os("centos", "7.9.2009"), today).unwrap().ended);
        assert_eq!(end_of_life(&os("debian", ""), today), None, "sid has no VERSION_ID");
        assert_eq!(end_of_life(&os("gentoo", "2.14"), today), None);
        assert_eq!(end_of_life(&os("alpine", "3"), today), None);
    }

    #[test]
    fn the_last_day_is_still_supported() {
        assert!(!end_of_life(&os("debian", "11"), date!(2026 - 08 - 31)).unwrap().ended);
        assert!(end_of_life(&os("debian", "11"), date!(2026 - 09 - 01)).unwrap().ended);
    }
}
