//! PAL-DF-024: npm, gem or go install without a version.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, DfCx, Hit};
#[allow(unused_imports)]
use crate::dockerfile::{Dockerfile, split_image};
use palisade_core::findings::misconfig::Severity;

pub struct LangPin;

static META: CheckMeta = CheckMeta {
    id: "PAL-DF-024",
    title: "npm, gem or go install without a version",
    severity: Severity::Low,
    groups: &["dockerfile"],
    rationale: "Unpinned language packages make builds unreproducible.",
    remediation: "Pin versions: npm i pkg@1.2.3, gem install pkg:1.2.3 (-v), go install pkg@v1.2.3.",
    references: &["hadolint DL3016", "hadolint DL3028", "hadolint DL3062"],
    peers: &["hadolint:DL3016", "hadolint:DL3028", "hadolint:DL3062"],
    ..CheckMeta::DF
};

impl Check for LangPin {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn dockerfile(&self, df: &Dockerfile, cx: &DfCx<'_>, out: &mut Vec<Hit>) {
        for (i, w) in run_cmds(df) {
            let bad = if is(&w, "npm") && matches!(sub(&w), Some("install" | "i" | "add")) {
                let pk = packages(&w, sub(&w).unwrap_or(""));
                pk.iter().any(|p| {
                    !p.trim_start_matches('@').contains('@') && !p.starts_with('.') && !p.contains('/')
                        || (p.starts_with('@') && !p[1..].contains('@'))
                })
            } else if is(&w, "gem") && sub(&w) == Some("install") {
                !has_opt(&w, &["-v", "--version"]) && packages(&w, "install").iter().any(|p| !p.contains(':'))
            } else if is(&w, "go") && matches!(sub(&w), Some("install" | "get")) {
                packages(&w, sub(&w).unwrap_or("")).iter().any(|p| go_unpinned(p))
            } else {
                false
            };
            if bad {
                out.push(Hit::pos(i.line, i.col, format!("{} install without a pinned version", w[0])));
            }
        }
    }
}

/// A remote Go package (its first path element has a dot: `github.com/x/y`, `golang.org/x/tools/...`) fetched
/// without a version or at a moving one (`@latest`, `@master`, `@main`, `@HEAD`, `@upgrade`, `@patch`).
/// Local packages (`.`, `./cmd/x`) build the checked-out module, and flag values (`-tags netgo`) are not
/// packages.
fn go_unpinned(p: &str) -> bool {
    let (path, version) = match p.split_once('@') {
        Some((path, v)) => (path, Some(v)),
        None => (p, None),
    };
    let remote = path.split('/').next().is_some_and(|first| first.contains('.') && !first.starts_with('.'));
    remote
        && version
            .is_none_or(|v| matches!(v, "latest" | "master" | "main" | "HEAD" | "upgrade" | "patch" | ""))
}

#[cfg(test)]
mod tests {
    use super::LangPin as C;

    const FAIL: &str = r#"FROM node:22
RUN npm install -g typescript
"#;
    const PASS: &str = r#"FROM node:22
RUN npm install -g typescript@5.6.2
"#;

    crate::testutil::fixture_tests!(dockerfile, C, pass: PASS, fail: FAIL);

    #[test]
    fn go_get_and_go_install() {
        use crate::testutil::df_hits;
        let run = |cmd: &str| df_hits(&C, &format!("FROM golang:1.23\nRUN {cmd}\n")).len();
        assert_eq!(run("go install golang.org/x/tools/gopls@latest"), 1);
        assert_eq!(run("go install github.com/go-delve/delve/cmd/dlv"), 1);
        assert_eq!(run("go get github.com/spf13/cobra"), 1);
        assert_eq!(run("go get -u github.com/spf13/cobra@master"), 1);
        assert_eq!(run("go install -tags netgo -ldflags '-s -w' golang.org/x/tools/gopls@v0.16.2"), 0);
        assert_eq!(run("go get github.com/spf13/cobra@v1.8.1"), 0);
        assert_eq!(run("go install ./cmd/server && go get ./..."), 0);
    }
}
