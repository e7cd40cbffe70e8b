//! Check documentation generated from the registry: `docs/checks/README.md` (index) and one
//! `docs/checks/<ID>.md` per check. The lead wires a CI step that fails when the committed docs are stale.

use crate::check::{Check, Target};
use std::fmt::Write as _;
use std::io;
use std::path::Path;

/// The Markdown page of one check.
pub fn check_page(c: &dyn Check) -> String {
    let m = c.meta();
    let mut s = String::new();
    let _ = writeln!(s, "# {}: {}\n", m.id, m.title);
    let _ = writeln!(s, "- **Severity:** {}", m.severity);
    let target = match m.target {
        Target::Kubernetes => "Kubernetes manifests",
        Target::Dockerfile => "Dockerfiles",
        Target::Image => "images and root filesystems (config, final filesystem)",
    };
    let _ = writeln!(s, "- **Applies to:** {target}");
    let _ = writeln!(
        s,
        "- **Groups:** {}",
        m.groups.iter().map(|g| format!("`{g}`")).collect::<Vec<_>>().join(", ")
    );
    if let Some(p) = m.pss {
        let since = if p.since_minor == 0 {
            "all versions".to_string()
        } else {
            format!("Kubernetes 1.{}+", p.since_minor)
        };
        let _ = writeln!(s, "- **Pod Security Standards:** `{}` ({:?}, {since})", p.psa_id, p.level);
        if let Some(o) = p.overrides {
            let _ = writeln!(s, "- **Replaces at the restricted level:** `{o}`");
        }
    }
    let _ = writeln!(s, "\n## Why\n\n{}\n\n## Fix\n\n{}\n", m.rationale, m.remediation);
    if !m.references.is_empty() {
        let _ = writeln!(s, "## References\n");
        for r in m.references {
            let _ = writeln!(s, "- {r}");
        }
        s.push('\n');
    }
    if !m.peers.is_empty() {
        let _ = writeln!(s, "## Equivalent checks in other tools\n");
        for r in m.peers {
            let _ = writeln!(s, "- `{r}`");
        }
        s.push('\n');
    }
    let _ = writeln!(
        s,
        "## Suppress\n\nKubernetes: annotation `palisade.io/ignore: \"{}: <reason>\"`. Dockerfile: comment \
         `# palisade:ignore {}: <reason>` on the line before. Anywhere: a `[[suppress]]` entry in the config file.",
        m.id, m.id
    );
    s
}

/// The index page.
pub fn index_page(checks: &[&dyn Check]) -> String {
    let mut s = String::from(
        "# Palisade checks\n\nGenerated from the check registry (`palisade-checks`); do not edit by hand.\n\n\
         | ID | Title | Severity | Groups |\n|---|---|---|---|\n",
    );
    for c in checks {
        let m = c.meta();
        let _ = writeln!(
            s,
            "| [{}]({}.md) | {} | {} | {} |",
            m.id,
            m.id,
            m.title.replace('|', "\\|"),
            m.severity,
            m.groups.join(", ")
        );
    }
    s
}

/// Write `dir/README.md` and `dir/<ID>.md` for every registered check.
pub fn render_docs(dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let all = crate::registry();
    write_page(&dir.join("README.md"), &index_page(all))?;
    for c in all {
        write_page(&dir.join(format!("{}.md", c.meta().id)), &check_page(*c))?;
    }
    Ok(())
}

/// One page, replaced whole; a symlink or device planted in the directory is refused, not written through.
fn write_page(path: &Path, text: &str) -> io::Result<()> {
    use std::io::Write;
    let mut out = palisade_core::output::OutputFile::create(path).map_err(io::Error::other)?;
    out.write_all(text.as_bytes())?;
    out.finish().map_err(io::Error::other)
}

#[cfg(test)]
mod tests {
    #[test]
    fn renders_every_check() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        super::render_docs(dir.path()).unwrap_or_else(|e| panic!("{e}"));
        let index = std::fs::read_to_string(dir.path().join("README.md")).unwrap_or_default();
        for c in crate::registry() {
            assert!(index.contains(c.meta().id));
            let page =
                std::fs::read_to_string(dir.path().join(format!("{}.md", c.meta().id))).unwrap_or_default();
            assert!(page.contains(c.meta().remediation));
        }
    }
}
