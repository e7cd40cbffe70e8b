//! The kernel-side filter: which records the eBPF programs send, computed by the agent from what reads
//! them (loaded rules, profiles, the recorder) and written to the `interest` map at start.
//!
//! What is filtered costs the workload almost nothing: the exit program returns after one array lookup
//! (kinds), or, for a read-only open, after copying the path and comparing its first 32 bytes with the
//! prefix table. Filtered records are counted (`palisade_runtime_kernel_filtered_total`).
//!
//! The layout mirrors `struct interest` of `bpf/sensor.bpf.c`: change both together.

use super::record::RecordKind;
use std::collections::BTreeSet;

/// Prefixes the kernel table holds.
pub const MAX_PREFIXES: usize = 16;
/// Bytes of a prefix the kernel compares (longer prefixes are cut, which only widens them).
pub const PREFIX_BYTES: usize = 32;
/// Size of `struct interest`.
pub const INTEREST_SIZE: usize = 24 + MAX_PREFIXES * PREFIX_BYTES * 2;

/// What the sensor sends. [`Interest::everything`] is the unfiltered stream (`runtime record`, the
/// agent's `--record`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interest {
    /// `None`: every record.
    pub kinds: Option<BTreeSet<RecordKind>>,
    /// Read-only opens (no write, create or truncate flag) of an absolute path with no `//` or `/.`
    /// are sent only when the path starts with one of these; `None`: all are sent. Writes, relative
    /// paths and paths with `.`/`..` components are always sent.
    pub read_prefixes: Option<BTreeSet<String>>,
    /// Processes outside the initial pid namespace (containers) get every record (behaviour learning
    /// and profile checks need every open of a container).
    pub containers_full: bool,
}

impl Default for Interest {
    fn default() -> Self {
        Interest::everything()
    }
}

impl Interest {
    pub fn everything() -> Interest {
        Interest { kinds: None, read_prefixes: None, containers_full: false }
    }

    pub fn is_everything(&self) -> bool {
        self.kinds.is_none() && self.read_prefixes.is_none()
    }

    /// The prefix table as the kernel gets it: at most [`MAX_PREFIXES`] of at most [`PREFIX_BYTES`]
    /// bytes, widened (cut, merged with a neighbour into their common start) to fit; `None` when they
    /// cannot fit without matching everything.
    pub fn kernel_prefixes(&self) -> Option<Vec<String>> {
        let set = self.read_prefixes.as_ref()?;
        let mut v: Vec<Vec<u8>> =
            set.iter().map(|p| p.as_bytes()[..p.len().min(PREFIX_BYTES)].to_vec()).collect();
        loop {
            v.sort();
            v.dedup();
            // a prefix covered by a shorter one is redundant
            let mut kept: Vec<Vec<u8>> = Vec::new();
            for p in v {
                if !kept.last().is_some_and(|k| p.starts_with(k)) {
                    kept.push(p);
                }
            }
            v = kept;
            if v.len() <= MAX_PREFIXES {
                break;
            }
            // merge the two neighbours sharing the longest start
            let (i, n) = (0..v.len() - 1)
                .map(|i| (i, v[i].iter().zip(&v[i + 1]).take_while(|(a, b)| a == b).count()))
                .max_by_key(|(_, n)| *n)?;
            if n == 0 {
                return None;
            }
            v[i].truncate(n);
            v.remove(i + 1);
        }
        if v.iter().any(|p| p.is_empty()) {
            return None;
        }
        Some(v.into_iter().map(|p| String::from_utf8_lossy(&p).into_owned()).collect())
    }

    /// The `interest` map's value.
    pub fn to_bytes(&self) -> [u8; INTEREST_SIZE] {
        let mut b = [0u8; INTEREST_SIZE];
        if self.is_everything() {
            return b;
        }
        let kinds = match &self.kinds {
            Some(k) => k.iter().fold(0u32, |m, k| m | (1 << k.code())),
            None => u32::MAX,
        };
        let prefixes = self.kernel_prefixes();
        let put = |b: &mut [u8], at: usize, v: u32| b[at..at + 4].copy_from_slice(&v.to_ne_bytes());
        put(&mut b, 0, 1);
        put(&mut b, 4, kinds);
        put(&mut b, 8, u32::from(prefixes.is_some()));
        put(&mut b, 12, prefixes.as_ref().map_or(0, |p| p.len() as u32));
        put(&mut b, 16, u32::from(self.containers_full));
        put(&mut b, 20, 0);
        for (i, p) in prefixes.iter().flatten().enumerate() {
            // word[4] then mask[4]: the prefix's bytes and 0xff over them, in memory order
            let at = 24 + i * PREFIX_BYTES * 2;
            b[at..at + p.len()].copy_from_slice(p.as_bytes());
            b[at + PREFIX_BYTES..at + PREFIX_BYTES + p.len()].fill(0xff);
        }
        b
    }

    /// One line for the agent's start message.
    pub fn describe(&self) -> String {
        if self.is_everything() {
            return "every event".into();
        }
        let kinds = match &self.kinds {
            Some(k) => k.iter().map(|k| k.event_type()).collect::<Vec<_>>().join(","),
            None => "all types".into(),
        };
        let opens = match self.kernel_prefixes() {
            None => "every read-only open".into(),
            Some(p) if p.is_empty() => "no read-only open".into(),
            Some(p) => format!("read-only opens under {}", p.join(" ")),
        };
        format!("{kinds}; {opens}{}", if self.containers_full { "; every event of containers" } else { "" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(prefixes: &[&str]) -> Interest {
        Interest {
            kinds: Some([RecordKind::Exec, RecordKind::Open].into()),
            read_prefixes: Some(prefixes.iter().map(|s| s.to_string()).collect()),
            containers_full: false,
        }
    }

    #[test]
    fn everything_is_all_zero() {
        assert!(Interest::everything().to_bytes().iter().all(|b| *b == 0));
    }

    #[test]
    fn layout_matches_the_kernel_struct() {
        let b = with(&["/etc", "/root/"]).to_bytes();
        let u = |at: usize| u32::from_ne_bytes(b[at..at + 4].try_into().unwrap());
        assert_eq!((u(0), u(4), u(8), u(12), u(16)), (1, (1 << 1) | (1 << 4), 1, 2, 0));
        assert_eq!(&b[24..28], b"/etc");
        assert_eq!(&b[56..60], &[0xff; 4]);
        assert_eq!(b[60], 0);
        assert_eq!(&b[88..94], b"/root/");
    }

    #[test]
    fn prefixes_are_cut_deduplicated_and_merged_to_fit() {
        let long = "/var/run/secrets/kubernetes.io/serviceaccount/token";
        assert_eq!(with(&[long]).kernel_prefixes().unwrap(), vec![&long[..32]]);
        assert_eq!(with(&["/etc", "/etc/shadow", "/root"]).kernel_prefixes().unwrap(), vec!["/etc", "/root"]);
        let many: Vec<String> = (0..20).map(|i| format!("/etc/file{i:02}")).collect();
        let refs: Vec<&str> = many.iter().map(String::as_str).collect();
        let got = with(&refs).kernel_prefixes().unwrap();
        assert!(got.len() <= MAX_PREFIXES);
        for p in &many {
            assert!(got.iter().any(|g| p.starts_with(g.as_str())), "{p} not covered by {got:?}");
        }
        assert_eq!(with(&["/a", "/b"]).kernel_prefixes().unwrap(), vec!["/a", "/b"]);
        let disjoint: Vec<String> = (0..20).map(|i| format!("{}x", char::from(b'a' + i))).collect();
        let refs: Vec<&str> = disjoint.iter().map(String::as_str).collect();
        assert_eq!(with(&refs).kernel_prefixes(), None, "no common start: no filter");
    }
}
