//! PAL-DF-040: Interactive or system commands in RUN.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, DfCx, Hit};
#[allow(unused_imports)]
use crate::dockerfile::{Dockerfile, split_image};
use palisade_core::findings::misconfig::Severity;

pub struct UselessCommands;

static META: CheckMeta = CheckMeta {
    id: "PAL-DF-040",
    title: "Interactive or system commands in RUN",
    severity: Severity::Info,
    groups: &["dockerfile"],
    rationale: "ssh, vim, shutdown, service, ps, top, kill, mount and ifconfig make no sense during a build.",
    remediation: "Remove the command from RUN.",
    references: &["hadolint DL3001"],
    peers: &["hadolint:DL3001"],
    ..CheckMeta::DF
};

impl Check for UselessCommands {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn dockerfile(&self, df: &Dockerfile, cx: &DfCx<'_>, out: &mut Vec<Hit>) {
        for (i, w) in run_cmds(df) {
            if ["ssh", "vim", "shutdown", "service", "ps", "free", "top", "kill", "mount", "ifconfig", "nano"]
                .iter()
                .any(|c| is(&w, c))
            {
                out.push(Hit::pos(i.line, i.col, format!("{} makes no sense in a build step", w[0])));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::UselessCommands as C;

    const FAIL: &str = r#"FROM debian:12
RUN service nginx start
"#;
    const PASS: &str = r#"FROM debian:12
RUN nginx -t
"#;

    crate::testutil::fixture_tests!(dockerfile, C, pass: PASS, fail: FAIL);
}
