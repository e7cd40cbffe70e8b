//! File opens denied before they happen: `FAN_OPEN_PERM` on the containers' mounts.
//!
//! fanotify says which file is being opened but not how: the event's descriptor is opened with the
//! group's own flags. While the opening thread waits for the answer it is stopped inside its syscall, so
//! its arguments are still readable from `/proc/TID/syscall`: the flags of `open`, `openat`, `creat`
//! and `open_by_handle_at`, and for `openat2` the `flags` field of its `struct open_how`, read from
//! `/proc/TID/mem`. When the syscall is something else (an exec opening its binary or interpreter, a
//! kernel-internal open, `io_uring`), the mode is unknown; [`write_intent`] answers `None` and the caller
//! treats that as a write (refusing a read of a write-protected path is the safe side).

use std::os::unix::fs::FileExt;

// x86-64 syscall numbers.
#[cfg(target_arch = "x86_64")]
mod nr {
    pub const OPEN: u64 = 2;
    pub const CREAT: u64 = 85;
    pub const OPENAT: u64 = 257;
    pub const OPEN_BY_HANDLE_AT: u64 = 304;
    pub const OPENAT2: u64 = 437;
    pub const EXECVE: u64 = 59;
    pub const EXECVEAT: u64 = 322;
}
#[cfg(target_arch = "aarch64")]
mod nr {
    // no open or creat on arm64
    pub const OPEN: u64 = u64::MAX;
    pub const CREAT: u64 = u64::MAX - 1;
    pub const OPENAT: u64 = 56;
    pub const OPEN_BY_HANDLE_AT: u64 = 265;
    pub const OPENAT2: u64 = 437;
    pub const EXECVE: u64 = 221;
    pub const EXECVEAT: u64 = 281;
}

// Elsewhere the mode is never told (treated as a write).
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
mod nr {
    pub const OPEN: u64 = u64::MAX;
    pub const CREAT: u64 = u64::MAX - 1;
    pub const OPENAT: u64 = u64::MAX - 2;
    pub const OPEN_BY_HANDLE_AT: u64 = u64::MAX - 3;
    pub const OPENAT2: u64 = u64::MAX - 4;
    pub const EXECVE: u64 = u64::MAX - 5;
    pub const EXECVEAT: u64 = u64::MAX - 6;
}

const O_ACCMODE: u64 = 0o3;
const O_TRUNC: u64 = 0o1000;

/// Whether thread `tid`, stopped in an open, opens for writing; `None` when that cannot be told.
pub fn write_intent(tid: u32) -> Option<bool> {
    let text = std::fs::read_to_string(format!("/proc/{tid}/syscall")).ok()?;
    let (nr, args) = parse_syscall(&text)?;
    let flags = match nr {
        nr::OPEN => *args.get(1)?,
        nr::OPENAT | nr::OPEN_BY_HANDLE_AT => *args.get(2)?,
        nr::CREAT => return Some(true),
        nr::EXECVE | nr::EXECVEAT => return Some(false),
        nr::OPENAT2 => {
            let mem = std::fs::File::open(format!("/proc/{tid}/mem")).ok()?;
            let mut b = [0u8; 8];
            mem.read_exact_at(&mut b, *args.get(2)?).ok()?;
            u64::from_ne_bytes(b)
        }
        _ => return None,
    };
    Some(flags & O_ACCMODE != 0 || flags & O_TRUNC != 0)
}

/// `/proc/TID/syscall`: the number and the six arguments (hex), or `running`/`-1` when not in a syscall.
fn parse_syscall(text: &str) -> Option<(u64, Vec<u64>)> {
    let mut it = text.split_whitespace();
    let nr: u64 = it.next()?.parse().ok()?;
    let args = it
        .take(6)
        .map(|a| u64::from_str_radix(a.trim_start_matches("0x"), 16).ok())
        .collect::<Option<Vec<u64>>>()?;
    Some((nr, args))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syscall_lines() {
        let (nr, args) =
            parse_syscall("257 0xffffff9c 0x7ffd1000 0x241 0x1b6 0x0 0x0 0x7ffd0ff8 0x7f00\n").unwrap();
        assert_eq!(nr, 257);
        assert_eq!(args[2] & O_ACCMODE, 1);
        assert!(parse_syscall("running\n").is_none());
        assert!(parse_syscall("-1 0x7ffd 0x7f00\n").is_none());
    }

    #[test]
    fn own_blocked_read_is_not_a_write() {
        // this thread is not in an open: the answer is unknown, never a guess
        assert_eq!(write_intent(nix::unistd::gettid().as_raw() as u32), None);
    }
}
