//! Quarantine: every packet of one container dropped while its processes keep running (for forensics),
//! until released.
//!
//! A table of its own, `inet palisade_quarantine`, hooks input, output and forward ahead of everything
//! else (priority -300, before the firewall's chains) and drops all but loopback, with a counter. The
//! firewall table is left as it is, so a release restores exactly what was enforced before. Quarantining
//! twice is the same as once.

use crate::netns::Netns;
use crate::nft::{self, NftError};
use serde::Serialize;
use std::fmt::Write;

/// The quarantine table.
pub const TABLE: &str = "palisade_quarantine";

/// The ruleset that cuts a namespace off.
pub fn script() -> String {
    let mut s = nft::delete_table_script(TABLE);
    let _ = writeln!(s, "table inet {TABLE} {{");
    for (chain, lo) in [("input", Some("iif")), ("output", Some("oif")), ("forward", None)] {
        let _ = writeln!(s, "  chain {chain} {{");
        let _ = writeln!(s, "    type filter hook {chain} priority -300; policy accept;");
        if let Some(lo) = lo {
            let _ = writeln!(s, "    {lo} \"lo\" accept");
        }
        let _ = writeln!(s, "    counter drop comment \"quarantine {chain}\"");
        let _ = writeln!(s, "  }}");
    }
    let _ = writeln!(s, "}}");
    s
}

/// Packets and bytes dropped since the quarantine began.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Dropped {
    pub packets: u64,
    pub bytes: u64,
}

/// Cut `ns` off.
pub fn quarantine(ns: &Netns) -> Result<(), NftError> {
    nft::apply(ns, &script())
}

/// Lift the quarantine of `ns`: what it dropped, or `None` when it was not quarantined.
pub fn release(ns: &Netns) -> Result<Option<Dropped>, NftError> {
    let Some(dropped) = status(ns)? else { return Ok(None) };
    nft::apply(ns, &nft::delete_table_script(TABLE))?;
    Ok(Some(dropped))
}

/// What the quarantine of `ns` dropped so far, or `None` when it is not quarantined.
pub fn status(ns: &Netns) -> Result<Option<Dropped>, NftError> {
    Ok(nft::list_table(ns, TABLE)?.map(|table| {
        nft::rule_counters(&table, "quarantine ")
            .into_iter()
            .fold(Dropped::default(), |d, (_, p, b)| Dropped { packets: d.packets + p, bytes: d.bytes + b })
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_everything_but_loopback_ahead_of_the_firewall() {
        let s = script();
        assert!(s.starts_with("table inet palisade_quarantine {}\ndelete table inet palisade_quarantine\n"));
        assert_eq!(s.matches("counter drop").count(), 3, "{s}");
        assert!(
            s.contains("type filter hook output priority -300; policy accept;\n    oif \"lo\" accept"),
            "{s}"
        );
        assert!(
            s.contains("type filter hook forward priority -300; policy accept;\n    counter drop"),
            "{s}"
        );
    }
}
