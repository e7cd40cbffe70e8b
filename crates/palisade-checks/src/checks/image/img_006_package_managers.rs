//! PAL-IMG-006: Package manager in the final image.

use super::tools::{self, Kind};
use crate::check::{Check, CheckMeta, DfCx, Hit};
use crate::image::ImageInput;
use palisade_core::findings::misconfig::Severity;

pub struct PackageManagers;

static META: CheckMeta = CheckMeta {
    id: "PAL-IMG-006",
    title: "Package manager in the final image",
    severity: Severity::Low,
    rationale: "A package manager (apt/dpkg, apk, yum/dnf/rpm, pip, npm, gem) lets an attacker install any \
                tool they need into a running container; an immutable image has no use for it.",
    remediation: "Install packages in a build stage and copy the result into a base without a package manager \
                  (distroless, scratch), or remove the package manager in the last step; or allow it with \
                  [image] allowed_tools.",
    references: &[
        "CIS Docker 4.3",
        "StackRox: Ubuntu Package Manager in Image",
        "StackRox: Alpine Linux Package Manager (apk) in Image",
        "StackRox: Red Hat Package Manager in Image",
    ],
    peers: &[],
    ..CheckMeta::IMG
};

impl Check for PackageManagers {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn image(&self, img: &ImageInput<'_>, cx: &DfCx<'_>, out: &mut Vec<Hit>) {
        let Some(fs) = img.fs else { return };
        tools::report(fs, Kind::PackageManager, cx, &|_| false, out);
    }
}

#[cfg(test)]
mod tests {
    use super::PackageManagers as C;
    use crate::image::fixture::fs;
    use crate::testutil::fs_hits;

    #[test]
    fn fires_on_fail_fixture() {
        let f = fs(&[
            ("usr/bin/apt-get", 'f', 0o755, 0, None),
            ("usr/bin/dpkg", 'f', 0o755, 0, None),
            ("usr/local/bin/pip3.12", 'f', 0o755, 0, None),
            ("usr/local/bin/npm", 'l', 0o777, 0, Some("../lib/node_modules/npm/bin/npm-cli.js")),
            ("sbin/apk", 'f', 0o755, 0, None),
            ("usr/share/doc/dpkg", 'f', 0o644, 0, None),
        ]);
        let files: Vec<_> = fs_hits(&C, &f).into_iter().filter_map(|h| h.file).collect();
        assert_eq!(
            files,
            ["sbin/apk", "usr/bin/apt-get", "usr/bin/dpkg", "usr/local/bin/npm", "usr/local/bin/pip3.12"]
        );
    }

    #[test]
    fn silent_on_pass_fixture() {
        let f = fs(&[("usr/bin/dpkg-deb", 'f', 0o755, 0, None), ("usr/bin/apt", 'f', 0o644, 0, None)]);
        assert!(fs_hits(&C, &f).is_empty(), "not a catalogue name / not executable");
    }
}
