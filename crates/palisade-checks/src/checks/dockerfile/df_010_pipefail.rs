//! PAL-DF-010: Pipe in RUN without pipefail.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, DfCx, Hit};
#[allow(unused_imports)]
use crate::dockerfile::{Dockerfile, has_pipe, split_image};
use palisade_core::findings::misconfig::Severity;

pub struct Pipefail;

static META: CheckMeta = CheckMeta {
    id: "PAL-DF-010",
    title: "Pipe in RUN without pipefail",
    severity: Severity::Low,
    groups: &["dockerfile"],
    rationale: "Without pipefail a failing command on the left of a pipe is ignored and the build goes on with a broken result.",
    remediation: "Add SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"] before the RUN, or start the command with set -o pipefail.",
    references: &["hadolint DL4006"],
    peers: &["hadolint:DL4006"],
    ..CheckMeta::DF
};

impl Check for Pipefail {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn dockerfile(&self, df: &Dockerfile, cx: &DfCx<'_>, out: &mut Vec<Hit>) {
        // Per stage: the shell is POSIX (pipefail applies) and whether SHELL set pipefail. Windows images
        // run `cmd` and PowerShell, which have no pipefail (PowerShell pipes objects and stops on
        // `$ErrorActionPreference = 'Stop'`): the check does not apply there.
        let mut shell: Vec<(bool, bool)> = std::iter::once((true, false))
            .chain(df.stages.iter().map(|s| (!windows_image(&s.image), false)))
            .collect();
        for i in &df.instructions {
            let st = i.stage.map_or(0, |s| s + 1);
            if i.kw == "SHELL" {
                if let Some(p) = shell.get_mut(st) {
                    let prog = i
                        .words
                        .first()
                        .map(|w| w.rsplit(['/', '\\']).next().unwrap_or(w).to_ascii_lowercase());
                    let posix = !prog.is_some_and(|p| {
                        p.starts_with("powershell") || p.starts_with("pwsh") || p.starts_with("cmd")
                    });
                    *p = (posix, i.words.iter().any(|w| w.contains("pipefail")));
                }
                continue;
            }
            if i.kw != "RUN" || i.onbuild || i.exec_form {
                continue;
            }
            let (posix, pipefail) = shell.get(st).copied().unwrap_or((true, false));
            if posix && !pipefail && !i.raw.contains("pipefail") && has_pipe(&i.raw) {
                out.push(Hit::pos(
                    i.line,
                    i.col,
                    "RUN uses a pipe without pipefail; set SHELL with -o pipefail",
                ));
            }
        }
    }
}

/// Windows base images, whose default shell is `cmd`.
fn windows_image(image: &str) -> bool {
    let i = image.to_ascii_lowercase();
    i.contains("/windows/")
        || i.contains("windows/servercore")
        || i.contains("nanoserver")
        || i.contains("-windowsservercore")
}

#[cfg(test)]
mod tests {
    use super::Pipefail as C;

    const FAIL: &str = r#"FROM alpine:3.20
RUN wget -O - https://x | tar xz
"#;
    const PASS: &str = r#"FROM alpine:3.20
SHELL ["/bin/ash", "-eo", "pipefail", "-c"]
RUN wget -O - https://x | tar xz
"#;

    crate::testutil::fixture_tests!(dockerfile, C, pass: PASS, fail: FAIL);

    #[test]
    fn powershell_groups_and_substitutions() {
        use crate::testutil::df_hits;
        // PowerShell and cmd have no pipefail.
        let ps = "FROM mcr.microsoft.com/powershell:lts-7.4-windowsservercore-ltsc2022\nSHELL [\"pwsh\", \"-Command\", \"$ErrorActionPreference = 'Stop';\"]\nRUN Get-ChildItem C:\\ | Select-Object Name\n";
        assert!(df_hits(&C, ps).is_empty());
        let cmd = "FROM mcr.microsoft.com/windows/servercore:ltsc2022\nRUN dir | findstr x\n";
        assert!(df_hits(&C, cmd).is_empty());
        // A later stage on Linux is checked again.
        assert_eq!(df_hits(&C, &format!("{ps}FROM alpine:3.20\nRUN a | b\n")).len(), 1);
        // Pipes after a group and inside $(...).
        assert_eq!(df_hits(&C, "FROM alpine:3.20\nRUN { echo a; echo b; } | sort > /x\n").len(), 1);
        assert_eq!(
            df_hits(&C, "FROM alpine:3.20\nRUN V=$(wget -qO- https://x | head -1) && echo $V\n").len(),
            1
        );
        assert!(df_hits(&C, "FROM alpine:3.20\nRUN test -f a || grep -E 'x|y' b\n").is_empty());
    }
}
