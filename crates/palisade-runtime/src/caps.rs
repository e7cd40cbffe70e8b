//! Linux capability names and masks (`CAP_*`, bit numbers of `capability.h`), shared by the rule fields
//! (`thread.cap_*`) and the profiles.

pub(crate) const NAMES: [&str; 41] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
];

/// Names of the bits set in `mask` (unknown high bits as `CAP_<n>`).
pub fn names(mask: u64) -> Vec<String> {
    (0..64)
        .filter(|b| mask & (1u64 << b) != 0)
        .map(|b| NAMES.get(b).map_or_else(|| format!("CAP_{b}"), |n| (*n).to_string()))
        .collect()
}

/// The bit of a capability name (`CAP_NET_RAW`, `net_raw` and `CAP_13` are accepted).
pub fn bit(name: &str) -> Option<u32> {
    let upper = name.to_ascii_uppercase();
    let full = if upper.starts_with("CAP_") { upper } else { format!("CAP_{upper}") };
    if let Some(i) = NAMES.iter().position(|n| *n == full) {
        return u32::try_from(i).ok();
    }
    full.strip_prefix("CAP_").and_then(|n| n.parse::<u32>().ok()).filter(|b| *b < 64)
}

/// The mask of a list of names (unknown names ignored: profiles are validated first).
pub fn mask<S: AsRef<str>>(names: &[S]) -> u64 {
    names.iter().filter_map(|n| bit(n.as_ref())).fold(0, |m, b| m | (1u64 << b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_bits_agree() {
        assert_eq!(names(1 << 13 | 1), ["CAP_CHOWN", "CAP_NET_RAW"]);
        assert_eq!(bit("net_raw"), Some(13));
        assert_eq!(bit("CAP_BPF"), Some(39));
        assert_eq!(bit("CAP_63"), Some(63));
        assert_eq!(bit("CAP_NOPE"), None);
        assert_eq!(mask(&["CAP_CHOWN", "CAP_NET_RAW"]), 1 << 13 | 1);
    }
}
