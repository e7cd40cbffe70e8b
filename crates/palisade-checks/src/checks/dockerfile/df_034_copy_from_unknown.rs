//! PAL-DF-034: COPY --from references an unknown or the current stage.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, DfCx, Hit};
#[allow(unused_imports)]
use crate::dockerfile::{Dockerfile, split_image};
use palisade_core::findings::misconfig::Severity;

pub struct CopyFromUnknown;

static META: CheckMeta = CheckMeta {
    id: "PAL-DF-034",
    title: "COPY --from references an unknown or the current stage",
    severity: Severity::Medium,
    groups: &["dockerfile"],
    rationale: "COPY --from a name that is not an earlier stage pulls an image of that name from a registry, or fails.",
    remediation: "Reference an earlier stage by its AS name or use a fully qualified image reference.",
    references: &["hadolint DL3022", "hadolint DL3023"],
    peers: &["hadolint:DL3022", "hadolint:DL3023"],
    ..CheckMeta::DF
};

impl Check for CopyFromUnknown {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn dockerfile(&self, df: &Dockerfile, cx: &DfCx<'_>, out: &mut Vec<Hit>) {
        for i in df.all("COPY") {
            let Some(Some(from)) = i.flag("from") else { continue };
            let cur = i.stage.and_then(|s| df.stages.get(s));
            let earlier = |n: &str| {
                df.stages.iter().filter(|s| Some(s.index) < i.stage).any(|s| {
                    s.alias.as_deref().is_some_and(|a| a.eq_ignore_ascii_case(n)) || s.index.to_string() == n
                })
            };
            if cur.and_then(|c| c.alias.as_deref()).is_some_and(|a| a.eq_ignore_ascii_case(from)) {
                out.push(Hit::pos(i.line, i.col, format!("COPY --from={from} refers to the current stage")));
            } else if !earlier(from) && !from.contains(['/', ':', '.']) && !from.starts_with('$') {
                out.push(Hit::pos(i.line, i.col, format!("COPY --from={from} is not an earlier stage")));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::CopyFromUnknown as C;

    const FAIL: &str = r#"FROM alpine:3.20 AS build
FROM alpine:3.20
COPY --from=bulid /a /a
"#;
    const PASS: &str = r#"FROM alpine:3.20 AS build
FROM alpine:3.20
COPY --from=build /a /a
"#;

    crate::testutil::fixture_tests!(dockerfile, C, pass: PASS, fail: FAIL);
}
