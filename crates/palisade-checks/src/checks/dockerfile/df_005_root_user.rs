//! PAL-DF-005: Final stage runs as root.
//!
//! A `FROM scratch` image is no exception: with no USER its process runs as UID 0 (the runtime's default),
//! and scratch needs no passwd entry for a numeric `USER 65532`.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, DfCx, Hit};
#[allow(unused_imports)]
use crate::dockerfile::{Dockerfile, split_image};
use palisade_core::findings::misconfig::Severity;

pub struct RootUser;

static META: CheckMeta = CheckMeta {
    id: "PAL-DF-005",
    title: "Final stage runs as root",
    severity: Severity::High,
    groups: &["dockerfile"],
    rationale: "A container whose last USER is root (or that never sets USER) runs its process as UID 0.",
    remediation: "Add USER <non-root uid> to the final stage (create the user first if needed).",
    references: &["CIS Docker 4.1", "hadolint DL3002"],
    peers: &["hadolint:DL3002", "checkov:CKV_DOCKER_8", "checkov:CKV_DOCKER_3"],
    ..CheckMeta::DF
};

impl Check for RootUser {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn dockerfile(&self, df: &Dockerfile, cx: &DfCx<'_>, out: &mut Vec<Hit>) {
        let Some(last) = df.final_stage() else { return };
        match df.stage_instrs(last.index).filter(|i| i.kw == "USER").last() {
            Some(u) => {
                let user = u.words.first().map(|s| s.split(':').next().unwrap_or("")).unwrap_or("");
                if matches!(user, "root" | "0") {
                    out.push(Hit::pos(u.line, u.col, "the last USER is root; switch to a non-root user"));
                }
            }
            None if last.image == "scratch" => out.push(Hit::pos(
                last.line,
                last.col,
                "the final stage is FROM scratch and never sets USER, so it runs as UID 0; add a numeric USER (e.g. USER 65532: scratch needs no passwd entry)",
            )),
            None => out.push(Hit::pos(
                last.line,
                last.col,
                "the final stage never sets USER, so it runs as root; add USER <non-root>",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RootUser as C;

    const FAIL: &str = r#"FROM alpine:3.20
USER root
"#;
    const PASS: &str = r#"FROM alpine:3.20
USER 10001
"#;

    crate::testutil::fixture_tests!(dockerfile, C, pass: PASS, fail: FAIL);

    /// A scratch image without USER runs as UID 0 and is reported, saying why.
    #[test]
    fn scratch_without_user_runs_as_root() {
        use crate::testutil::df_hits;
        let h = df_hits(
            &C,
            "FROM golang:1.23 AS build\nRUN go build -o /app .\nFROM scratch\nCOPY --from=build /app /app\n",
        );
        assert_eq!(h.len(), 1);
        assert!(h[0].message.contains("scratch") && h[0].message.contains("UID 0"), "{}", h[0].message);
        assert!(df_hits(&C, "FROM scratch\nCOPY app /app\nUSER 65532\n").is_empty());
    }
}
