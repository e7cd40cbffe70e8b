//! PAL-IMG-005: Shell in the final image beyond what the entrypoint needs.

use super::tools::{self, Kind};
use crate::check::{Check, CheckMeta, DfCx, Hit};
use crate::image::{ImageFs, ImageInput};
use palisade_core::ImageConfig;
use palisade_core::findings::misconfig::Severity;

pub struct Shells;

static META: CheckMeta = CheckMeta {
    id: "PAL-IMG-005",
    title: "Shell in the final image",
    severity: Severity::Low,
    rationale: "A shell lets whoever gets code execution in the container run arbitrary commands, chain tools \
                and keep a foothold. An image that needs no shell to start should not ship one.",
    remediation: "Build on a distroless or scratch base, or delete the shells in the last stage. A shell the \
                  entrypoint runs is allowed; allow others with [image] allowed_tools.",
    references: &["CIS Docker 4.3", "StackRox: Shell Spawned by Java Application (runtime counterpart)"],
    peers: &[],
    ..CheckMeta::IMG
};

/// The shells the config's entrypoint and command start: the program itself when it is a shell, `sh` for
/// the shell form (`/bin/sh -c ...`), and `sh` and `bash` for a `*.sh` script (its interpreter is not
/// read). Names reached through their symlinks (`sh -> dash`) count too.
fn needed(cfg: Option<&ImageConfig>, fs: &ImageFs) -> Vec<String> {
    let Some(cfg) = cfg else { return Vec::new() };
    let argv = if cfg.entrypoint.is_empty() { &cfg.cmd } else { &cfg.entrypoint };
    let mut names: Vec<String> = Vec::new();
    if let Some(prog) = argv.first() {
        let base = prog.rsplit('/').next().unwrap_or(prog);
        if tools::tool_of(Kind::Shell, base).is_some() {
            names.push(base.to_string());
        } else if base.ends_with(".sh") {
            names.extend(["sh".to_string(), "bash".to_string()]);
        }
    }
    let mut resolved = Vec::new();
    for n in &names {
        for e in fs.entries.iter().filter(|e| e.in_bin_dir() && e.name() == n) {
            resolved.push(fs.resolve(e).name().to_string());
        }
    }
    names.extend(resolved);
    names
}

impl Check for Shells {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn image(&self, img: &ImageInput<'_>, cx: &DfCx<'_>, out: &mut Vec<Hit>) {
        let Some(fs) = img.fs else { return };
        let needed = needed(img.config, fs);
        tools::report(
            fs,
            Kind::Shell,
            cx,
            &|t| needed.iter().any(|n| tools::tool_of(Kind::Shell, n) == Some(t)),
            out,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::Shells as C;
    use crate::image::{ImageInput, fixture::fs};
    use crate::options::CheckOptions;
    use crate::testutil::{fs_hits, input_hits};
    use palisade_core::ImageConfig;

    fn bookworm_like() -> crate::image::ImageFs {
        fs(&[
            ("usr/bin/bash", 'f', 0o755, 0, None),
            ("usr/bin/dash", 'f', 0o755, 0, None),
            ("usr/bin/sh", 'l', 0o777, 0, Some("dash")),
            ("usr/bin/rbash", 'l', 0o777, 0, Some("bash")),
            ("usr/bin/ls", 'f', 0o755, 0, None),
        ])
    }

    #[test]
    fn fires_on_fail_fixture() {
        let hits = fs_hits(&C, &bookworm_like());
        let files: Vec<_> = hits.iter().filter_map(|h| h.file.as_deref()).collect();
        assert_eq!(files, ["usr/bin/bash", "usr/bin/dash"], "links to reported shells are not repeated");
        assert!(hits[0].message.contains("/usr/bin/bash"), "{}", hits[0].message);
    }

    #[test]
    fn silent_on_pass_fixture() {
        assert!(fs_hits(&C, &fs(&[("usr/bin/app", 'f', 0o755, 0, None)])).is_empty());
    }

    #[test]
    fn the_entrypoint_shell_and_allow_list_are_not_reported() {
        let f = bookworm_like();
        let cfg =
            ImageConfig { cmd: vec!["/bin/sh".into(), "-c".into(), "run".into()], ..Default::default() };
        let img = ImageInput { config: Some(&cfg), ..ImageInput::fs(&f) };
        let hits = input_hits(&C, &img, &CheckOptions::default());
        let files: Vec<_> = hits.iter().filter_map(|h| h.file.as_deref()).collect();
        assert_eq!(files, ["usr/bin/bash"], "sh and the dash it links to are needed");
        let mut opts = CheckOptions::default();
        opts.image.allowed_tools = vec!["bash".into()];
        assert!(input_hits(&C, &img, &opts).is_empty());
    }
}
