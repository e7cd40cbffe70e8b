//! PAL-IMG-010: World-writable file or directory outside the temporary directories.

use crate::check::{Check, CheckMeta, DfCx, Hit};
use crate::image::ImageInput;
use palisade_artifact::NodeKind;
use palisade_core::findings::misconfig::Severity;

pub struct WorldWritable;

static META: CheckMeta = CheckMeta {
    id: "PAL-IMG-010",
    title: "World-writable path in the image",
    severity: Severity::Medium,
    rationale: "Any user in the container can change a world-writable file, or add and replace files in a \
                world-writable directory: code, configuration or libraries another process (maybe root) \
                trusts. Only the temporary directories should be writable by all, and only with the sticky \
                bit.",
    remediation: "Remove write permission for others (`chmod o-w`), give the directory to the user that writes \
                  it, or mount a volume there at run time. Allow a path with [image] allowed_paths.",
    references: &["CIS Distribution Independent Linux 6.1.10 (no world-writable files)"],
    peers: &[],
    ..CheckMeta::IMG
};

/// Temporary directories: world-writable with the sticky bit by design.
const TEMP_DIRS: &[&str] = &["tmp", "var/tmp", "dev/shm", "run/lock", "var/lock"];

impl Check for WorldWritable {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn image(&self, img: &ImageInput<'_>, cx: &DfCx<'_>, out: &mut Vec<Hit>) {
        let Some(fs) = img.fs else { return };
        for e in &fs.entries {
            if matches!(e.kind, NodeKind::Symlink | NodeKind::Special) || e.mode & 0o002 == 0 {
                continue;
            }
            let sticky_temp =
                e.kind == NodeKind::Dir && e.mode & 0o1000 != 0 && TEMP_DIRS.contains(&e.path.as_str());
            let in_tmp = e.path.starts_with("tmp/");
            if sticky_temp || in_tmp || cx.opts.image.path_allowed(&e.path) {
                continue;
            }
            let what = if e.kind == NodeKind::Dir { "directory" } else { "file" };
            let sticky = if e.kind == NodeKind::Dir && e.mode & 0o1000 != 0 { " (sticky)" } else { "" };
            out.push(Hit::file(
                e,
                format!("{what} {} is world-writable, mode {:04o}{sticky}", e.shown(), e.mode),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::WorldWritable as C;
    use crate::image::fixture::fs;
    use crate::testutil::fs_hits;

    #[test]
    fn fires_on_fail_fixture() {
        let f = fs(&[
            ("var/www", 'd', 0o777, 0, None),
            ("etc/app.conf", 'f', 0o666, 0, None),
            ("var/tmp", 'd', 0o777, 0, None),
        ]);
        let files: Vec<_> = fs_hits(&C, &f).into_iter().filter_map(|h| h.file).collect();
        assert_eq!(
            files,
            ["etc/app.conf", "var/tmp", "var/www"],
            "a temp dir without sticky bit is reported"
        );
    }

    #[test]
    fn silent_on_pass_fixture() {
        let f = fs(&[
            ("tmp", 'd', 0o1777, 0, None),
            ("var/tmp", 'd', 0o1777, 0, None),
            ("tmp/x", 'f', 0o666, 0, None),
            ("usr/bin/sh", 'l', 0o777, 0, Some("dash")),
            ("dev/null", 's', 0o666, 0, None),
            ("etc/app.conf", 'f', 0o644, 0, None),
        ]);
        let hits = fs_hits(&C, &f);
        assert!(hits.is_empty(), "{hits:?}");
    }
}
