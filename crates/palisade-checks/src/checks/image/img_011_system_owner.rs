//! PAL-IMG-011: File in a system path not owned by root.

use crate::check::{Check, CheckMeta, DfCx, Hit};
use crate::image::{ImageInput, SYSTEM_DIRS};
use palisade_artifact::NodeKind;
use palisade_core::findings::misconfig::Severity;

pub struct SystemOwner;

static META: CheckMeta = CheckMeta {
    id: "PAL-IMG-011",
    title: "System file not owned by root",
    severity: Severity::Medium,
    rationale: "The owner of a file can rewrite it and change its mode. A program, library or configuration \
                file under /bin, /sbin, /lib*, /usr, /etc or /boot owned by another user lets that user (the \
                one the container often runs as) replace what root and every other process runs.",
    remediation: "`COPY --chown=root:root` (or `chown -R root:root`) system paths; give the application user \
                  only its data directories. Allow a path with [image] allowed_paths.",
    references: &["NIST SP 800-190 4.1 (image configuration defects)"],
    peers: &[],
    ..CheckMeta::IMG
};

impl Check for SystemOwner {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn image(&self, img: &ImageInput<'_>, cx: &DfCx<'_>, out: &mut Vec<Hit>) {
        let Some(fs) = img.fs else { return };
        for e in &fs.entries {
            let top = e.path.split('/').next().unwrap_or("");
            let Some(uid) = e.uid.filter(|u| *u != 0) else { continue };
            if e.kind == NodeKind::Symlink
                || !SYSTEM_DIRS.contains(&top)
                || cx.opts.image.path_allowed(&e.path)
            {
                continue;
            }
            let what = if e.kind == NodeKind::Dir { "directory" } else { "file" };
            out.push(Hit::file(e, format!("{what} {} is owned by uid {uid}, not root", e.shown())));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::SystemOwner as C;
    use crate::image::fixture::fs;
    use crate::testutil::fs_hits;

    #[test]
    fn fires_on_fail_fixture() {
        let f = fs(&[("usr/local/bin/app", 'f', 0o755, 1000, None), ("etc/app", 'd', 0o755, 1000, None)]);
        let hits = fs_hits(&C, &f);
        assert_eq!(hits.len(), 2);
        assert!(hits[1].message.contains("/usr/local/bin/app is owned by uid 1000"), "{}", hits[1].message);
    }

    #[test]
    fn silent_on_pass_fixture() {
        let f = fs(&[
            ("usr/bin/ls", 'f', 0o755, 0, None),
            ("home/app/data", 'f', 0o644, 1000, None),
            ("usr/bin/x", 'l', 0o777, 1000, Some("ls")),
        ]);
        assert!(fs_hits(&C, &f).is_empty());
    }
}
