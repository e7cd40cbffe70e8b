//! PAL-DF-009: Remote script piped into a shell.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, DfCx, Hit};
#[allow(unused_imports)]
use crate::dockerfile::{Dockerfile, split_image};
use palisade_core::findings::misconfig::Severity;

pub struct PipeToShell;

static META: CheckMeta = CheckMeta {
    id: "PAL-DF-009",
    title: "Remote script piped into a shell",
    severity: Severity::High,
    groups: &["dockerfile"],
    rationale: "curl | sh runs whatever the server (or a man in the middle) returns, with no integrity check.",
    remediation: "Download the script, verify its checksum or signature, then run it.",
    references: &["NSA/CISA: software supply chain"],
    peers: &[],
    ..CheckMeta::DF
};

impl Check for PipeToShell {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn dockerfile(&self, df: &Dockerfile, cx: &DfCx<'_>, out: &mut Vec<Hit>) {
        for i in df.all("RUN") {
            for p in i.pipelines() {
                let fetch = p.iter().position(|c| {
                    let n = norm(c);
                    is(&n, "curl") || is(&n, "wget")
                });
                let shell = p.iter().rposition(|c| {
                    let n = norm(c);
                    ["sh", "bash", "zsh", "ash", "dash", "ksh", "python", "python3", "perl", "ruby", "node"]
                        .iter()
                        .any(|s| is(&n, s))
                });
                if let (Some(f), Some(s)) = (fetch, shell)
                    && s > f
                {
                    out.push(Hit::pos(
                        i.line,
                        i.col,
                        "a downloaded script is piped into a shell; download, verify, then run",
                    ));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::PipeToShell as C;

    const FAIL: &str = r#"FROM alpine:3.20
RUN curl -fsSL https://get.example.com | sh
"#;
    const PASS: &str = r#"FROM alpine:3.20
RUN curl -fsSLo /tmp/i.sh https://get.example.com && sha256sum -c sums && sh /tmp/i.sh
"#;

    crate::testutil::fixture_tests!(dockerfile, C, pass: PASS, fail: FAIL);
}
