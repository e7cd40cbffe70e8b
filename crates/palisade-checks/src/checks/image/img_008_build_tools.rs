//! PAL-IMG-008: Compiler or debugger in the final image.

use super::tools::{self, Kind};
use crate::check::{Check, CheckMeta, DfCx, Hit};
use crate::image::ImageInput;
use palisade_core::findings::misconfig::Severity;

pub struct BuildTools;

static META: CheckMeta = CheckMeta {
    id: "PAL-IMG-008",
    title: "Compiler or debugger in the final image",
    severity: Severity::Medium,
    rationale: "A compiler (gcc, cc, make) lets an attacker build exploits inside the container; a debugger or \
                tracer (gdb, strace) lets them read the memory and secrets of other processes.",
    remediation: "Compile in a build stage and copy only the binaries into the final stage; or allow the tool \
                  with [image] allowed_tools.",
    references: &["CIS Docker 4.3", "StackRox: Compiler Tool Execution (runtime counterpart)"],
    peers: &[],
    ..CheckMeta::IMG
};

impl Check for BuildTools {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn image(&self, img: &ImageInput<'_>, cx: &DfCx<'_>, out: &mut Vec<Hit>) {
        let Some(fs) = img.fs else { return };
        tools::report(fs, Kind::Build, cx, &|_| false, out);
    }
}

#[cfg(test)]
mod tests {
    use super::BuildTools as C;
    use crate::image::fixture::fs;
    use crate::testutil::fs_hits;

    #[test]
    fn fires_on_fail_fixture() {
        let f = fs(&[
            ("usr/bin/gcc", 'l', 0o777, 0, Some("gcc-12")),
            ("usr/bin/gcc-12", 'f', 0o755, 0, None),
            ("usr/bin/make", 'f', 0o755, 0, None),
            ("usr/bin/strace", 'f', 0o755, 0, None),
        ]);
        let files: Vec<_> = fs_hits(&C, &f).into_iter().filter_map(|h| h.file).collect();
        assert_eq!(files, ["usr/bin/gcc-12", "usr/bin/make", "usr/bin/strace"]);
    }

    #[test]
    fn silent_on_pass_fixture() {
        assert!(fs_hits(&C, &fs(&[("usr/lib/gcc/x86_64-linux-gnu/12/cc1", 'f', 0o755, 0, None)])).is_empty());
    }
}
