//! PAL-IMG-012: SSH host keys or authorized_keys baked into the image.

use crate::check::{Check, CheckMeta, DfCx, Hit};
use crate::image::ImageInput;
use palisade_artifact::NodeKind;
use palisade_core::findings::misconfig::Severity;

pub struct SshKeys;

static META: CheckMeta = CheckMeta {
    id: "PAL-IMG-012",
    title: "SSH host key or authorized_keys in the image",
    severity: Severity::High,
    rationale: "A host private key in an image is shared by every container and everyone who can pull the \
                image, so any of them can impersonate the host. An authorized_keys file grants whoever holds \
                the matching key a login into every container started from it.",
    remediation: "Do not ship an SSH server or keys in the image; generate host keys at start-up if an SSH \
                  server is really needed, and inject authorized keys at run time. Allow a path with [image] \
                  allowed_paths.",
    references: &["CIS Docker 4.10", "StackRox: Secure Shell (ssh) Port Exposed"],
    peers: &[],
    ..CheckMeta::IMG
};

impl Check for SshKeys {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn image(&self, img: &ImageInput<'_>, cx: &DfCx<'_>, out: &mut Vec<Hit>) {
        let Some(fs) = img.fs else { return };
        for e in fs.entries.iter().filter(|e| e.kind == NodeKind::File) {
            let (dir, name) = (e.dir(), e.name());
            let msg = if dir == "etc/ssh" && name.starts_with("ssh_host_") && name.ends_with("_key") {
                format!("SSH host private key {} is baked into the image", e.shown())
            } else if (dir == ".ssh" || dir.ends_with("/.ssh")) && name.starts_with("authorized_keys") {
                format!("{} grants SSH logins with the keys baked into the image", e.shown())
            } else {
                continue;
            };
            if !cx.opts.image.path_allowed(&e.path) {
                out.push(Hit::file(e, msg));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::SshKeys as C;
    use crate::image::fixture::fs;
    use crate::testutil::fs_hits;

    #[test]
    fn fires_on_fail_fixture() {
        let f = fs(&[
            ("etc/ssh/ssh_host_ed25519_key", 'f', 0o600, 0, None),
            ("root/.ssh/authorized_keys", 'f', 0o600, 0, None),
            ("home/app/.ssh/authorized_keys2", 'f', 0o600, 0, None),
        ]);
        assert_eq!(fs_hits(&C, &f).len(), 3);
    }

    #[test]
    fn silent_on_pass_fixture() {
        let f = fs(&[
            ("etc/ssh/ssh_host_ed25519_key.pub", 'f', 0o644, 0, None),
            ("etc/ssh/ssh_config", 'f', 0o644, 0, None),
        ]);
        assert!(fs_hits(&C, &f).is_empty());
    }
}
