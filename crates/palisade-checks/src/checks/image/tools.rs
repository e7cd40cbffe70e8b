//! The tool catalogue of the image-hardening checks (PAL-IMG-005 to 008): which executable names count as a
//! shell, a package manager, a network tool or a build/debug tool, and how one is found in an image's
//! `PATH` directories.
//!
//! A name matches a tool when it is the tool's name, optionally followed by a version (`pip3`, `pip3.11`,
//! `gcc-12`). Regular executable files in [`crate::image::BIN_DIRS`] are reported. A symlink there (`sh ->
//! dash`, `nc -> /etc/alternatives/nc`, `sh -> /bin/busybox`) is reported only when it does not lead to an
//! executable of the same kind that is itself reported, so one tool gives one finding.

use crate::check::{DfCx, Hit};
use crate::image::{FsEntry, ImageFs};
use palisade_artifact::NodeKind;

/// A class of tools.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Shell,
    PackageManager,
    Network,
    Build,
}

impl Kind {
    /// The catalogue entries of this kind.
    pub fn names(self) -> &'static [&'static str] {
        match self {
            Kind::Shell => {
                &["sh", "bash", "rbash", "dash", "ash", "zsh", "ksh", "mksh", "pdksh", "csh", "tcsh", "fish"]
            }
            Kind::PackageManager => &[
                "apt",
                "apt-get",
                "aptitude",
                "dpkg",
                "apk",
                "yum",
                "dnf",
                "microdnf",
                "tdnf",
                "rpm",
                "zypper",
                "pip",
                "easy_install",
                "npm",
                "yarn",
                "pnpm",
                "gem",
            ],
            Kind::Network => &[
                "curl",
                "wget",
                "nc",
                "nc.openbsd",
                "nc.traditional",
                "ncat",
                "netcat",
                "socat",
                "nmap",
                "telnet",
                "ssh",
                "sshd",
                "scp",
                "sftp",
                "dropbear",
                "ftp",
                "tftp",
                "tcpdump",
            ],
            Kind::Build => {
                &["gcc", "cc", "g++", "c++", "clang", "clang++", "tcc", "make", "gdb", "strace", "ltrace"]
            }
        }
    }

    /// How findings name the class.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Shell => "shell",
            Kind::PackageManager => "package manager",
            Kind::Network => "network tool",
            Kind::Build => "compiler or debugger",
        }
    }
}

/// The catalogue tool `name` is, in this class (`pip3.11` -> `pip`).
/// Variants named `tool.flavour` (`nc.openbsd`) are that tool.
pub fn tool_of(kind: Kind, name: &str) -> Option<&'static str> {
    let found = kind.names().iter().copied().find(|tool| {
        name.strip_prefix(tool).is_some_and(|rest| {
            let v = rest.strip_prefix('-').unwrap_or(rest);
            rest.is_empty()
                || (v.starts_with(|c: char| c.is_ascii_digit())
                    && v.chars().all(|c| c.is_ascii_digit() || c == '.'))
        })
    })?;
    found.split('.').next()
}

/// One tool found: the entry and the catalogue name.
pub struct Found<'a> {
    pub entry: &'a FsEntry,
    pub tool: &'static str,
}

/// The tools of one class in the final filesystem, minus the allowed names (the config's `allowed_tools`,
/// and `also_allowed`) and allowed paths.
pub fn find<'a>(
    fs: &'a ImageFs,
    kind: Kind,
    cx: &DfCx<'_>,
    also_allowed: &dyn Fn(&str) -> bool,
) -> Vec<Found<'a>> {
    let opts = &cx.opts.image;
    let allowed = |e: &FsEntry, tool: &str| {
        opts.tool_allowed(tool)
            || opts.tool_allowed(e.name())
            || also_allowed(tool)
            || opts.path_allowed(&e.path)
    };
    let is_tool_file = |e: &FsEntry| e.kind == NodeKind::File && e.mode & 0o111 != 0 && e.in_bin_dir();
    let mut out = Vec::new();
    for e in fs.entries.iter().filter(|e| e.in_bin_dir()) {
        let Some(tool) = tool_of(kind, e.name()) else { continue };
        match e.kind {
            NodeKind::File if is_tool_file(e) => {}
            NodeKind::Symlink => {
                let end = fs.resolve(e);
                // The link leads to an executable of the same class: that one is reported (or allowed).
                if is_tool_file(end) && tool_of(kind, end.name()).is_some() {
                    continue;
                }
            }
            _ => continue,
        }
        if !allowed(e, tool) {
            out.push(Found { entry: e, tool });
        }
    }
    out
}

/// Report the tools of one class.
pub fn report(
    fs: &ImageFs,
    kind: Kind,
    cx: &DfCx<'_>,
    also_allowed: &dyn Fn(&str) -> bool,
    out: &mut Vec<Hit>,
) {
    for f in find(fs, kind, cx, also_allowed) {
        let via = match f.entry.link_target.as_deref() {
            Some(t) => format!(" (a link to {t})"),
            None => String::new(),
        };
        out.push(Hit::file(
            f.entry,
            format!(
                "{} `{}` is in the final image at {}{via}; remove it (build in an earlier stage, copy only the \
                 artifact) or allow it with [image] allowed_tools",
                kind.label(),
                f.tool,
                f.entry.shown()
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_with_versions_match_and_lookalikes_do_not() {
        assert_eq!(tool_of(Kind::PackageManager, "pip3.11"), Some("pip"));
        assert_eq!(tool_of(Kind::PackageManager, "pip3"), Some("pip"));
        assert_eq!(tool_of(Kind::Build, "gcc-12"), Some("gcc"));
        assert_eq!(tool_of(Kind::Shell, "shred"), None);
        assert_eq!(tool_of(Kind::Network, "ssh-keygen"), None);
        assert_eq!(tool_of(Kind::PackageManager, "dpkg-deb"), None);
        assert_eq!(tool_of(Kind::Network, "nc.openbsd"), Some("nc"));
    }
}
