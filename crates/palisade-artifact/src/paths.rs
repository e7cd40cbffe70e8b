//! Path normalization for names found inside archives.
//!
//! Archive entry names are untrusted: they may be absolute, contain `.` and `..`, or repeat slashes. Every
//! name is turned into the form [`crate::FileMeta::path`] promises (relative, `/`-separated, no `.`/`..`),
//! and names that climb above the root are rejected.

/// Normalize an archive entry name. Absolute names are taken relative to the root. Returns `None` when the
/// name escapes the root (more `..` than directories above it). The root itself normalizes to `""`.
pub(crate) fn normalize(raw: &str) -> Option<String> {
    // Almost every entry name is already normal (`usr/bin/x`): copy it without splitting it.
    if is_normal(raw.as_bytes()) {
        return Some(raw.to_string());
    }
    let mut parts: Vec<&str> = Vec::new();
    for comp in raw.split('/') {
        match comp {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            c => parts.push(c),
        }
    }
    Some(parts.join("/"))
}

/// True when `raw` has no empty, `.` or `..` component and no leading or trailing `/`.
fn is_normal(raw: &[u8]) -> bool {
    !raw.is_empty() && raw.split(|&b| b == b'/').all(|c| !(c.is_empty() || c == b"." || c == b".."))
}

/// The parent directory of a normalized path (`""` for top-level names).
pub(crate) fn parent(path: &str) -> &str {
    path.rfind('/').map_or("", |i| &path[..i])
}

/// Join a normalized directory and a name.
pub(crate) fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() { name.to_string() } else { format!("{dir}/{name}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_harmless_names() {
        assert_eq!(normalize("./etc/passwd").as_deref(), Some("etc/passwd"));
        assert_eq!(normalize("/etc//os-release").as_deref(), Some("etc/os-release"));
        assert_eq!(normalize("usr/lib/../bin/sh").as_deref(), Some("usr/bin/sh"));
        assert_eq!(normalize("./").as_deref(), Some(""));
        assert_eq!(normalize("a/b/").as_deref(), Some("a/b"));
        assert_eq!(normalize("usr/bin/x").as_deref(), Some("usr/bin/x"));
        assert_eq!(normalize("a/./b").as_deref(), Some("a/b"));
        assert_eq!(normalize("a/b/.").as_deref(), Some("a/b"));
        assert_eq!(normalize(".hidden/..x/...").as_deref(), Some(".hidden/..x/..."));
        assert_eq!(normalize(".").as_deref(), Some(""));
        assert_eq!(normalize("").as_deref(), Some(""));
    }

    #[test]
    fn rejects_escaping_names() {
        assert_eq!(normalize("../etc/passwd"), None);
        assert_eq!(normalize("a/../../x"), None);
        assert_eq!(normalize("/../../root/.ssh/id_rsa"), None);
    }

    #[test]
    fn parent_and_join() {
        assert_eq!(parent("a/b/c"), "a/b");
        assert_eq!(parent("c"), "");
        assert_eq!(join("", "x"), "x");
        assert_eq!(join("a/b", "x"), "a/b/x");
    }
}
