//! The kernel-side filter: which records the eBPF programs send, computed by the agent from what reads
//! them (loaded rules, profiles, the recorder) and written to the `interest` map at start; and where the
//! DNS answer programs are attached ([`DnsScope`]).
//!
//! What is filtered costs the workload almost nothing: the exit program returns after one array lookup
//! (kinds), or, for an open, after copying the path and comparing its first 32 bytes with a prefix table
//! and its last 32 bytes with a suffix table (one pair of tables for read-only opens, one for opens that
//! may write). Filtered records are counted (`palisade_runtime_kernel_filtered_total`).
//!
//! The layout mirrors `struct interest` of `bpf/sensor.bpf.c`: change both together.

use super::record::RecordKind;
use std::collections::BTreeSet;

/// Prefixes (and, apart, suffixes) a kernel path table holds.
pub const MAX_PATTERNS: usize = 16;
/// Bytes of a prefix or suffix the kernel compares (longer ones are cut, which only widens them).
pub const PATTERN_BYTES: usize = 32;
/// Size of `struct pathset`.
const PATHSET_SIZE: usize = 16 + 2 * MAX_PATTERNS * PATTERN_BYTES * 2;
/// Size of `struct interest`.
pub const INTEREST_SIZE: usize = 16 + 2 * PATHSET_SIZE;

/// Paths an open must have to be sent: it starts with one of `prefixes` or ends with one of `suffixes`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PathSet {
    pub prefixes: BTreeSet<String>,
    pub suffixes: BTreeSet<String>,
}

impl PathSet {
    /// The table as the kernel gets it: at most [`MAX_PATTERNS`] prefixes and as many suffixes of at most
    /// [`PATTERN_BYTES`] bytes, widened (cut, merged with a neighbour into their common part) to fit;
    /// `None` when they cannot fit without matching everything.
    pub fn kernel_table(&self) -> Option<PathSet> {
        let prefixes = fit(self.prefixes.iter().map(|p| p.as_bytes().to_vec()))?;
        // suffixes: the same on reversed bytes
        let rev = |s: &[u8]| s.iter().rev().copied().collect::<Vec<u8>>();
        let suffixes = fit(self.suffixes.iter().map(|s| rev(s.as_bytes())))?;
        let text = |v: Vec<u8>| String::from_utf8_lossy(&v).into_owned();
        Some(PathSet {
            prefixes: prefixes.into_iter().map(text).collect(),
            suffixes: suffixes.into_iter().map(|s| text(rev(&s))).collect(),
        })
    }

    fn describe(&self) -> String {
        let mut parts: Vec<String> = self.prefixes.iter().map(|p| format!("{p}…")).collect();
        parts.extend(self.suffixes.iter().map(|s| format!("…{s}")));
        parts.join(" ")
    }
}

/// Cut each pattern (bytes in comparison order) to [`PATTERN_BYTES`], drop those another one covers and
/// merge neighbours sharing the longest start until at most [`MAX_PATTERNS`] are left.
fn fit(patterns: impl Iterator<Item = Vec<u8>>) -> Option<Vec<Vec<u8>>> {
    let mut v: Vec<Vec<u8>> = patterns
        .map(|mut p| {
            p.truncate(PATTERN_BYTES);
            p
        })
        .collect();
    loop {
        v.sort();
        v.dedup();
        // a pattern covered by a shorter one is redundant
        let mut kept: Vec<Vec<u8>> = Vec::new();
        for p in v {
            if !kept.last().is_some_and(|k| p.starts_with(k)) {
                kept.push(p);
            }
        }
        v = kept;
        if v.len() <= MAX_PATTERNS {
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
    Some(v)
}

/// Where the two DNS answer programs (`cgroup_skb`) are attached. The kernel runs its cgroup-BPF hook on
/// every packet of a cgroup that has a program, so where they are attached is what they cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DnsScope {
    /// On the cgroup v2 root: every process of the node.
    Node,
    /// On each container's cgroup as the container is seen, detached when its cgroup is removed.
    Containers,
    /// Not at all: nothing reads DNS names.
    Off,
}

/// What the sensor sends. [`Interest::everything`] is the unfiltered stream (`runtime record`, the
/// agent's `--record`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interest {
    /// `None`: every record.
    pub kinds: Option<BTreeSet<RecordKind>>,
    /// Read-only opens (no write, create, truncate or tmpfile flag) of an absolute path with no `//` or
    /// `/.` are sent only when the path is in this set; `None`: all are sent. Relative paths are judged
    /// by their directory ([`crate::sensor::quiet_dirs`]); paths with `.`/`..` components are always sent.
    pub read_paths: Option<PathSet>,
    /// The same for the other opens (any of `O_WRONLY`, `O_RDWR`, `O_CREAT`, `O_TRUNC`, `O_TMPFILE`).
    pub write_paths: Option<PathSet>,
    /// Processes outside the initial pid namespace (containers) get every record (behaviour learning
    /// and profile checks need every open of a container).
    pub containers_full: bool,
    /// Where DNS answers are captured.
    pub dns: DnsScope,
}

impl Default for Interest {
    fn default() -> Self {
        Interest::everything()
    }
}

impl Interest {
    pub fn everything() -> Interest {
        Interest {
            kinds: None,
            read_paths: None,
            write_paths: None,
            containers_full: false,
            dns: DnsScope::Node,
        }
    }

    pub fn is_everything(&self) -> bool {
        self.kinds.is_none() && self.read_paths.is_none() && self.write_paths.is_none()
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
        put(&mut b, 0, 1);
        put(&mut b, 4, kinds);
        put(&mut b, 8, u32::from(self.containers_full));
        put(&mut b, 12, 0);
        pathset(&mut b[16..16 + PATHSET_SIZE], self.read_paths.as_ref());
        pathset(&mut b[16 + PATHSET_SIZE..], self.write_paths.as_ref());
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
        let opens = |what: &str, set: &Option<PathSet>| match set.as_ref().and_then(PathSet::kernel_table) {
            None => format!("every {what} open"),
            Some(p) if p.prefixes.is_empty() && p.suffixes.is_empty() => format!("no {what} open"),
            Some(p) => format!("{what} opens of {}", p.describe()),
        };
        let dns = match self.dns {
            DnsScope::Node => "DNS answers of the node",
            DnsScope::Containers => "DNS answers of containers",
            DnsScope::Off => "no DNS answers",
        };
        format!(
            "{kinds}; {}; {}; {dns}{}",
            opens("read-only", &self.read_paths),
            opens("writing", &self.write_paths),
            if self.containers_full { "; every event of containers" } else { "" }
        )
    }
}

fn put(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_ne_bytes());
}

/// One `struct pathset`: active, nprefixes, nsuffixes, pad, then the prefixes (bytes from the start of
/// 32, mask 0xff over them) and the suffixes (right-aligned in their 32 bytes, as the kernel compares the
/// path's last 32 bytes).
fn pathset(b: &mut [u8], set: Option<&PathSet>) {
    let Some(table) = set.and_then(PathSet::kernel_table) else { return };
    put(b, 0, 1);
    put(b, 4, table.prefixes.len() as u32);
    put(b, 8, table.suffixes.len() as u32);
    for (i, p) in table.prefixes.iter().enumerate() {
        let at = 16 + i * PATTERN_BYTES * 2;
        b[at..at + p.len()].copy_from_slice(p.as_bytes());
        b[at + PATTERN_BYTES..at + PATTERN_BYTES + p.len()].fill(0xff);
    }
    for (i, s) in table.suffixes.iter().enumerate() {
        let at = 16 + (MAX_PATTERNS + i) * PATTERN_BYTES * 2;
        let start = PATTERN_BYTES - s.len();
        b[at + start..at + PATTERN_BYTES].copy_from_slice(s.as_bytes());
        b[at + PATTERN_BYTES + start..at + 2 * PATTERN_BYTES].fill(0xff);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(prefixes: &[&str], suffixes: &[&str]) -> PathSet {
        PathSet {
            prefixes: prefixes.iter().map(|s| s.to_string()).collect(),
            suffixes: suffixes.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn with(prefixes: &[&str]) -> PathSet {
        paths(prefixes, &[])
    }

    #[test]
    fn everything_is_all_zero() {
        assert!(Interest::everything().to_bytes().iter().all(|b| *b == 0));
    }

    #[test]
    fn layout_matches_the_kernel_struct() {
        let i = Interest {
            kinds: Some([RecordKind::Exec, RecordKind::Open].into()),
            read_paths: Some(with(&["/etc", "/root/"])),
            write_paths: Some(paths(&["/etc/"], &["/syslog"])),
            containers_full: false,
            dns: DnsScope::Containers,
        };
        let b = i.to_bytes();
        assert_eq!(INTEREST_SIZE, 4144, "sizeof(struct interest)");
        let u = |at: usize| u32::from_ne_bytes(b[at..at + 4].try_into().unwrap());
        assert_eq!((u(0), u(4), u(8)), (1, (1 << 1) | (1 << 4), 0));
        // read pathset at 16: active, 2 prefixes, no suffix
        assert_eq!((u(16), u(20), u(24)), (1, 2, 0));
        assert_eq!(&b[32..36], b"/etc");
        assert_eq!(&b[64..68], &[0xff; 4]);
        assert_eq!(b[68], 0);
        assert_eq!(&b[96..102], b"/root/");
        // write pathset at 16 + 2064: one prefix, one suffix right-aligned in slot 16
        let w = 16 + PATHSET_SIZE;
        assert_eq!((u(w), u(w + 4), u(w + 8)), (1, 1, 1));
        assert_eq!(&b[w + 16..w + 21], b"/etc/");
        let s = w + 16 + MAX_PATTERNS * 64;
        assert_eq!(&b[s + 25..s + 32], b"/syslog");
        assert_eq!(b[s + 24], 0);
        assert_eq!(&b[s + 57..s + 64], &[0xff; 7]);
        assert_eq!(b[s + 56], 0);
    }

    #[test]
    fn no_table_is_an_inactive_pathset() {
        let i = Interest {
            kinds: Some([RecordKind::Exec].into()),
            read_paths: None,
            write_paths: Some(paths(&[], &[])),
            containers_full: true,
            dns: DnsScope::Off,
        };
        let b = i.to_bytes();
        let u = |at: usize| u32::from_ne_bytes(b[at..at + 4].try_into().unwrap());
        assert_eq!(u(8), 1, "containers_full");
        assert_eq!(u(16), 0, "read opens: all sent");
        assert_eq!((u(16 + PATHSET_SIZE), u(20 + PATHSET_SIZE)), (1, 0), "writing opens: none sent");
    }

    #[test]
    fn prefixes_are_cut_deduplicated_and_merged_to_fit() {
        let long = "/var/run/secrets/kubernetes.io/serviceaccount/token";
        let table = |s: PathSet| s.kernel_table().map(|t| t.prefixes.into_iter().collect::<Vec<_>>());
        assert_eq!(table(with(&[long])).unwrap(), vec![&long[..32]]);
        assert_eq!(table(with(&["/etc", "/etc/shadow", "/root"])).unwrap(), vec!["/etc", "/root"]);
        let many: Vec<String> = (0..20).map(|i| format!("/etc/file{i:02}")).collect();
        let refs: Vec<&str> = many.iter().map(String::as_str).collect();
        let got = table(with(&refs)).unwrap();
        assert!(got.len() <= MAX_PATTERNS);
        for p in &many {
            assert!(got.iter().any(|g| p.starts_with(g.as_str())), "{p} not covered by {got:?}");
        }
        assert_eq!(table(with(&["/a", "/b"])).unwrap(), vec!["/a", "/b"]);
        let disjoint: Vec<String> = (0..20).map(|i| format!("{}x", char::from(b'a' + i))).collect();
        let refs: Vec<&str> = disjoint.iter().map(String::as_str).collect();
        assert_eq!(table(with(&refs)), None, "no common start: no filter");
    }

    #[test]
    fn suffixes_are_cut_from_the_left_and_merged_by_their_end() {
        let long = "/a-very-long-directory-name/and-a-long-file-name.log";
        let t = paths(&[], &[long, "/x.log", "/syslog"]).kernel_table().unwrap();
        let got: Vec<String> = t.suffixes.into_iter().collect();
        assert!(got.contains(&long[long.len() - 32..].to_string()), "{got:?}");
        assert!(got.contains(&"/syslog".to_string()) && got.contains(&"/x.log".to_string()), "{got:?}");
        let many: Vec<String> = (0..20).map(|i| format!("/f{i:02}.log")).collect();
        let refs: Vec<&str> = many.iter().map(String::as_str).collect();
        let t = paths(&[], &refs).kernel_table().unwrap();
        assert!(t.suffixes.len() <= MAX_PATTERNS);
        for s in &many {
            assert!(t.suffixes.iter().any(|g| s.ends_with(g.as_str())), "{s} not covered by {t:?}");
        }
    }
}
