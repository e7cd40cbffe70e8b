//! PAL-DF-036: CMD or ENTRYPOINT in shell form.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, DfCx, Hit};
#[allow(unused_imports)]
use crate::dockerfile::{Dockerfile, split_image};
use palisade_core::findings::misconfig::Severity;

pub struct ShellFormCmd;

static META: CheckMeta = CheckMeta {
    id: "PAL-DF-036",
    title: "CMD or ENTRYPOINT in shell form",
    severity: Severity::Low,
    groups: &["dockerfile"],
    rationale: "The shell form runs the process under /bin/sh -c, so it does not receive SIGTERM and shuts down uncleanly.",
    remediation: "Use the exec (JSON array) form: CMD [\"app\", \"--flag\"].",
    references: &["hadolint DL3025"],
    peers: &["hadolint:DL3025"],
    ..CheckMeta::DF
};

impl Check for ShellFormCmd {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn dockerfile(&self, df: &Dockerfile, cx: &DfCx<'_>, out: &mut Vec<Hit>) {
        for i in df.all("CMD").chain(df.all("ENTRYPOINT")) {
            if !i.exec_form {
                out.push(Hit::pos(
                    i.line,
                    i.col,
                    format!("{} uses the shell form; use the JSON exec form", i.kw),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ShellFormCmd as C;

    const FAIL: &str = r#"FROM alpine:3.20
CMD python app.py
"#;
    const PASS: &str = r#"FROM alpine:3.20
CMD ["python", "app.py"]
"#;

    crate::testutil::fixture_tests!(dockerfile, C, pass: PASS, fail: FAIL);
}
