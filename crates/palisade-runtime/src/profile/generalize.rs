//! How learned paths and arguments are generalised into globs, so a profile describes behaviour and not
//! one run of it. The rules, applied to each `/`-separated segment of a path:
//!
//! 1. `/proc/<pid>/…` and `/proc/<pid>/task/<tid>/…` become `/proc/*/…` (pids change every run);
//! 2. anything below a temporary directory (`/tmp`, `/var/tmp`, `/dev/shm`) becomes `<dir>/**`;
//! 3. a segment of digits becomes `*`; a run of 8 or more hexadecimal characters holding both digits and
//!    letters (hashes, UUID parts, `mktemp` suffixes) becomes `*` within its segment;
//! 4. everything else is kept literally (glob characters escaped).
//!
//! When a profile is finished, a directory holding more than [`FANOUT`] learned files of one class
//! becomes `<dir>/*` with the union of their access ([`crate::profile::learn`]). Arguments are generalised
//! one by one with the same rules (an absolute path as a path, a number as `[0-9]*`), joined by spaces; a
//! program seen with more
//! than [`MAX_ARG_PATTERNS`] argument patterns gets `*` (any).
//!
//! Files are classified by where they live: secrets (`/etc/shadow`, `/run/secrets`, service-account tokens,
//! keys, SSH and cloud credentials), temp, system (`/proc`, `/sys`, `/dev`), binaries (`bin`, `sbin`,
//! `lib` directories), config (`/etc`, `*.conf`, `*.yaml`, …), and data (everything else).

use crate::profile::glob::escape;
use crate::profile::model::FileClass;

/// Files of one class in one directory before they are learned as `<dir>/*`.
pub const FANOUT: usize = 8;
/// Argument patterns of one program before it is learned as taking any arguments.
pub const MAX_ARG_PATTERNS: usize = 16;

const TEMP_DIRS: [&str; 3] = ["/tmp", "/var/tmp", "/dev/shm"];

fn hexish_run(seg: &str) -> Option<(usize, usize)> {
    let b = seg.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_alphanumeric() {
            i += 1;
            continue;
        }
        // a run starts at the segment's start or after a separator, and takes `-` between hex digits
        let start = i;
        while i < b.len()
            && (b[i].is_ascii_hexdigit() || (b[i] == b'-' && i + 1 < b.len() && b[i + 1].is_ascii_hexdigit()))
        {
            i += 1;
        }
        let at_boundary = i == b.len() || !b[i].is_ascii_alphanumeric();
        let hex: Vec<u8> = seg[start..i].bytes().filter(|c| *c != b'-').collect();
        if at_boundary
            && hex.len() >= 8
            && hex.iter().any(u8::is_ascii_digit)
            && hex.iter().any(u8::is_ascii_alphabetic)
        {
            return Some((start, i));
        }
        while i < b.len() && b[i].is_ascii_alphanumeric() {
            i += 1;
        }
    }
    None
}

fn segment(seg: &str) -> String {
    if !seg.is_empty() && seg.bytes().all(|c| c.is_ascii_digit()) {
        return "*".into();
    }
    match hexish_run(seg) {
        Some((a, b)) => format!("{}*{}", escape(&seg[..a]), segment(&seg[b..]).replace("**", "*")),
        None => escape(seg),
    }
}

/// A learned path as a glob.
pub fn path(p: &str) -> String {
    if !p.starts_with('/') {
        return escape(p);
    }
    for t in TEMP_DIRS {
        if p.len() > t.len() + 1 && p.starts_with(t) && p.as_bytes()[t.len()] == b'/' {
            return format!("{t}/**");
        }
    }
    let segs: Vec<&str> = p.split('/').collect();
    let mut out = Vec::with_capacity(segs.len());
    for (i, s) in segs.iter().enumerate() {
        let pid_slot =
            (i == 2 && segs[1] == "proc") || (i == 4 && segs[1] == "proc" && segs.get(3) == Some(&"task"));
        if pid_slot && !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit()) {
            out.push("*".to_string());
        } else if i == 0 {
            out.push(String::new());
        } else {
            out.push(segment(s));
        }
    }
    out.join("/")
}

/// A learned argument list (after argv[0]) as one pattern.
pub fn args(args: &[String]) -> String {
    args.iter()
        .map(|a| {
            if a.starts_with('/') {
                path(a)
            } else if !a.is_empty() && a.bytes().all(|c| c.is_ascii_digit()) {
                // a number: any number (`*` alone would stand for any arguments)
                "[0-9]*".to_string()
            } else {
                segment(a)
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The directory class of a path (or glob).
pub fn classify(p: &str) -> FileClass {
    let base = p.rsplit('/').next().unwrap_or(p);
    let secret = matches!(p, "/etc/shadow" | "/etc/gshadow" | "/etc/shadow-" | "/etc/gshadow-")
        || p.starts_with("/etc/sudoers")
        || p.starts_with("/run/secrets/")
        || p.starts_with("/var/run/secrets/")
        || p.contains("/.ssh/")
        || p.contains("/.aws/")
        || p.contains("/.kube/")
        || p.contains("/.docker/config.json")
        || p.contains("/.gnupg/")
        || base.ends_with(".key")
        || base.ends_with(".pem")
        || base.ends_with(".p12")
        || base.starts_with("id_rsa")
        || base.starts_with("id_ed25519");
    if secret {
        return FileClass::Secrets;
    }
    let under = |d: &str| p == d || p.starts_with(&format!("{d}/"));
    if TEMP_DIRS.iter().any(|t| under(t)) {
        return FileClass::Temp;
    }
    if ["/proc", "/sys", "/dev"].iter().any(|d| under(d)) {
        return FileClass::System;
    }
    let bins =
        ["/bin", "/sbin", "/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin", "/usr/libexec"];
    let libs = ["/lib", "/lib32", "/lib64", "/usr/lib", "/usr/lib32", "/usr/lib64", "/usr/local/lib"];
    if bins.iter().chain(libs.iter()).any(|d| under(d)) {
        return FileClass::Binaries;
    }
    let config_ext = [".conf", ".cfg", ".ini", ".yaml", ".yml", ".toml", ".properties", ".cnf"];
    if under("/etc") || config_ext.iter().any(|e| base.ends_with(e)) {
        return FileClass::Config;
    }
    FileClass::Data
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_generalise_by_the_documented_rules() {
        assert_eq!(path("/proc/4242/status"), "/proc/*/status");
        assert_eq!(path("/proc/42/task/43/comm"), "/proc/*/task/*/comm");
        assert_eq!(path("/proc/self/maps"), "/proc/self/maps");
        assert_eq!(path("/tmp/tmp.Xb3kd9/out.txt"), "/tmp/**");
        assert_eq!(path("/tmp"), "/tmp");
        assert_eq!(path("/var/log/app/12345.log"), "/var/log/app/12345.log");
        assert_eq!(path("/var/log/app/12345/x"), "/var/log/app/*/x");
        assert_eq!(path("/data/cache/3f2a9b7c1d.bin"), "/data/cache/*.bin");
        assert_eq!(path("/run/pod-0b1e2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d/x"), "/run/pod-*/x");
        assert_eq!(path("/etc/app.conf"), "/etc/app.conf");
        assert_eq!(path("/etc/we[ird]"), "/etc/we[[]ird[]]");
        assert_eq!(path("/opt/deadbeef"), "/opt/deadbeef", "letters only: not an id");
        assert_eq!(
            args(&["-w".into(), "1".into(), "127.0.0.1".into(), "4444".into()]),
            "-w [0-9]* 127.0.0.1 [0-9]*"
        );
        assert_eq!(args(&["-c".into(), "/proc/7/stat".into()]), "-c /proc/*/stat");
        assert_eq!(args(&[]), "");
    }

    #[test]
    fn classes() {
        assert_eq!(classify("/etc/shadow"), FileClass::Secrets);
        assert_eq!(classify("/var/run/secrets/kubernetes.io/serviceaccount/token"), FileClass::Secrets);
        assert_eq!(classify("/app/tls/server.key"), FileClass::Secrets);
        assert_eq!(classify("/etc/app/app.conf"), FileClass::Config);
        assert_eq!(classify("/srv/app.yaml"), FileClass::Config);
        assert_eq!(classify("/usr/lib/x86_64-linux-gnu/libc.so.6"), FileClass::Binaries);
        assert_eq!(classify("/bin/busybox"), FileClass::Binaries);
        assert_eq!(classify("/proc/*/status"), FileClass::System);
        assert_eq!(classify("/tmp/**"), FileClass::Temp);
        assert_eq!(classify("/srv/data/x.db"), FileClass::Data);
    }
}
