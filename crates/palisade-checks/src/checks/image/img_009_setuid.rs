//! PAL-IMG-009: setuid or setgid executable in the image.

use crate::check::{Check, CheckMeta, DfCx, Hit};
use crate::image::ImageInput;
use palisade_artifact::NodeKind;
use palisade_core::findings::misconfig::Severity;

pub struct Setuid;

static META: CheckMeta = CheckMeta {
    id: "PAL-IMG-009",
    title: "setuid or setgid executable in the image",
    severity: Severity::Medium,
    rationale: "A setuid/setgid executable runs with its owner's or group's rights whatever user starts it: \
                one bug in it (or a writable path it trusts) is a privilege escalation to root inside the \
                container. Containers rarely need any.",
    remediation: "Remove the bits in the last stage (`RUN find / -xdev -perm /6000 -type f -exec chmod a-s {} +`) \
                  or remove the program; run with allowPrivilegeEscalation: false. Allow a path with [image] \
                  allowed_paths.",
    references: &["CIS Docker 4.8"],
    peers: &[],
    ..CheckMeta::IMG
};

impl Check for Setuid {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn image(&self, img: &ImageInput<'_>, cx: &DfCx<'_>, out: &mut Vec<Hit>) {
        let Some(fs) = img.fs else { return };
        for e in &fs.entries {
            if e.kind != NodeKind::File || e.mode & 0o6000 == 0 || e.mode & 0o111 == 0 {
                continue;
            }
            if cx.opts.image.path_allowed(&e.path) {
                continue;
            }
            let bits = match (e.mode & 0o4000 != 0, e.mode & 0o2000 != 0) {
                (true, true) => "setuid and setgid",
                (true, false) => "setuid",
                _ => "setgid",
            };
            let who = match (e.mode & 0o4000 != 0, e.uid, e.gid) {
                (true, Some(u), _) => format!(" (runs as uid {u})"),
                (false, _, Some(g)) => format!(" (runs with gid {g})"),
                _ => String::new(),
            };
            out.push(Hit::file(e, format!("{} is {bits}{who}, mode {:04o}", e.shown(), e.mode)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Setuid as C;
    use crate::image::fixture::fs;
    use crate::options::CheckOptions;
    use crate::testutil::{fs_hits, input_hits};

    #[test]
    fn fires_on_fail_fixture() {
        let f = fs(&[
            ("usr/bin/passwd", 'f', 0o4755, 0, None),
            ("usr/bin/chage", 'f', 0o2755, 0, None),
            ("srv/data", 'f', 0o4644, 0, None),
        ]);
        let hits = fs_hits(&C, &f);
        let files: Vec<_> = hits.iter().filter_map(|h| h.file.as_deref()).collect();
        assert_eq!(files, ["usr/bin/chage", "usr/bin/passwd"], "not executable: not reported");
        assert!(hits[1].message.contains("setuid (runs as uid 0), mode 4755"), "{}", hits[1].message);
        assert_eq!(hits[1].layer, Some(1));
    }

    #[test]
    fn silent_on_pass_fixture() {
        let f = fs(&[("usr/bin/ls", 'f', 0o755, 0, None), ("tmp", 'd', 0o1777, 0, None)]);
        assert!(fs_hits(&C, &f).is_empty());
        let mut opts = CheckOptions::default();
        opts.image.allowed_paths = vec!["/usr/bin/passwd".into()];
        let f = fs(&[("usr/bin/passwd", 'f', 0o4755, 0, None)]);
        assert!(input_hits(&C, &crate::image::ImageInput::fs(&f), &opts).is_empty());
    }
}
