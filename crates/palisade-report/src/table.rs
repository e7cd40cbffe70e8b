//! The human summary: a header naming the artifact and OS, then the packages as tables, then warnings.
//!
//! Packages are grouped like Trivy groups its targets, so that 1,000+ packages stay readable: per ecosystem,
//! every file that yielded two or more packages (a lockfile, a dpkg database) gets its own table titled with
//! its path; the files that yielded one package each (`node_modules/*/package.json`, Go binaries, jars) are
//! merged into one table per ecosystem with a location column. Images add a layer column. Colour is off
//! unless [`TableOptions::color`] says so (the CLI sets it only for a terminal).

use crate::ReportError;
use comfy_table::{Attribute, Cell, Color, ContentArrangement, Table, presets};
use palisade_core::{ArtifactKind, Ecosystem, Package, ScanReport};
use std::collections::BTreeMap;
use std::io::Write;

/// How many warnings are printed in full; the count is always printed.
const MAX_WARNINGS_SHOWN: usize = 20;

/// Presentation options for the table output.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TableOptions {
    /// Use ANSI colour and bold (only for a terminal).
    pub color: bool,
    /// Wrap tables to this many columns (the terminal width); `None` never wraps.
    pub width: Option<u16>,
}

/// One table: packages of one ecosystem from one file, or from many single-package files.
struct Group<'a> {
    ecosystem: Ecosystem,
    /// `Some(path)` for a one-file group.
    path: Option<&'a str>,
    files: usize,
    packages: Vec<&'a Package>,
}

/// Write the summary.
pub fn render(report: &ScanReport, opts: &TableOptions, out: &mut dyn Write) -> Result<(), ReportError> {
    let style = Style { color: opts.color };
    let a = &report.artifact;
    writeln!(out, "{} {} ({})", style.bold("Artifact:"), a.name, a.kind)?;
    if let Some(id) = &a.id {
        writeln!(out, "{} {id}", style.bold("ID:"))?;
    }
    if let Some(d) = a.repo_digests.first() {
        writeln!(out, "{} {d}", style.bold("Digest:"))?;
    }
    if let Some(p) = &a.platform {
        writeln!(out, "{} {p}", style.bold("Platform:"))?;
    }
    match &report.os {
        Some(os) => {
            let mut line = format!("{} {}", os.id, os.version_id).trim().to_string();
            if let Some(pretty) = &os.pretty_name {
                line = format!("{pretty} [{line}]");
            }
            if os.distroless {
                line.push_str(" (distroless)");
            }
            writeln!(out, "{} {line}", style.bold("OS:"))?;
        }
        None => writeln!(out, "{} not detected", style.bold("OS:"))?,
    }

    let mut per_eco: BTreeMap<Ecosystem, usize> = BTreeMap::new();
    for p in &report.packages {
        *per_eco.entry(p.ecosystem).or_default() += 1;
    }
    let summary: Vec<String> = per_eco.iter().map(|(e, n)| format!("{e} {n}")).collect();
    if report.packages.is_empty() {
        writeln!(out, "{} none found", style.bold("Packages:"))?;
    } else {
        writeln!(out, "{} {} ({})", style.bold("Packages:"), report.packages.len(), summary.join(", "))?;
    }

    let with_layer = a.kind == ArtifactKind::Image || report.packages.iter().any(|p| layer(p).is_some());
    for g in groups(&report.packages) {
        writeln!(out)?;
        let title = match g.path {
            Some(path) => format!("{} {path} ({})", g.ecosystem, plural(g.packages.len(), "package")),
            None => format!(
                "{} ({}, {})",
                g.ecosystem,
                plural(g.files, "file"),
                plural(g.packages.len(), "package")
            ),
        };
        writeln!(out, "{}", style.bold(&title))?;
        let mut headers = vec!["Name", "Version"];
        if g.path.is_none() {
            headers.push("Location");
        }
        if with_layer {
            headers.push("Layer");
        }
        let mut t = new_table(opts);
        t.set_header(headers.into_iter().map(|h| style.header(h)));
        for p in &g.packages {
            let mut row = vec![Cell::new(&p.name), Cell::new(&p.version)];
            if g.path.is_none() {
                row.push(Cell::new(p.location().map(|l| l.path.as_str()).unwrap_or("-")));
            }
            if with_layer {
                row.push(Cell::new(layer(p).map(|n| n.to_string()).unwrap_or_else(|| "-".into())));
            }
            t.add_row(row);
        }
        writeln!(out, "{t}")?;
    }

    writeln!(out)?;
    writeln!(out, "{} {}", style.bold("Warnings:"), report.warnings.len())?;
    for w in report.warnings.iter().take(MAX_WARNINGS_SHOWN) {
        writeln!(out, "  - {w}")?;
    }
    if report.warnings.len() > MAX_WARNINGS_SHOWN {
        writeln!(out, "  ... and {} more (see the JSON report)", report.warnings.len() - MAX_WARNINGS_SHOWN)?;
    }
    Ok(())
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 { format!("1 {word}") } else { format!("{n} {word}s") }
}

fn layer(p: &Package) -> Option<u32> {
    p.location().and_then(|l| l.layer)
}

fn new_table(opts: &TableOptions) -> Table {
    let mut t = Table::new();
    t.load_style(presets::UTF8_FULL_CONDENSED);
    if opts.color {
        t.enforce_styling();
    } else {
        t.force_no_tty();
    }
    match opts.width {
        Some(w) => {
            t.set_width(w);
            t.set_content_arrangement(ContentArrangement::Dynamic);
        }
        None => {
            t.set_content_arrangement(ContentArrangement::Disabled);
        }
    }
    t
}

/// Group packages per ecosystem and primary file; single-package files of an ecosystem share one group.
fn groups(packages: &[Package]) -> Vec<Group<'_>> {
    let mut by_file: BTreeMap<(Ecosystem, &str), Vec<&Package>> = BTreeMap::new();
    for p in packages {
        let path = p.location().map(|l| l.path.as_str()).unwrap_or("");
        by_file.entry((p.ecosystem, path)).or_default().push(p);
    }
    let mut out: Vec<Group<'_>> = Vec::new();
    let mut singles: BTreeMap<Ecosystem, Group<'_>> = BTreeMap::new();
    for ((eco, path), pkgs) in by_file {
        if pkgs.len() >= 2 {
            out.push(Group { ecosystem: eco, path: Some(path), files: 1, packages: pkgs });
        } else {
            let g = singles.entry(eco).or_insert_with(|| Group {
                ecosystem: eco,
                path: None,
                files: 0,
                packages: Vec::new(),
            });
            g.files += 1;
            g.packages.extend(pkgs);
        }
    }
    for (_, mut g) in singles {
        if g.files == 1
            && let Some(p) = g.packages.first()
        {
            // One file with one package: title it with its path like any other file.
            g.path = Some(p.location().map(|l| l.path.as_str()).unwrap_or(""));
        }
        out.push(g);
    }
    for g in &mut out {
        g.packages.sort_by(|a, b| (&a.name, &a.version).cmp(&(&b.name, &b.version)));
    }
    out.sort_by(|a, b| (a.ecosystem, a.path.is_none(), a.path).cmp(&(b.ecosystem, b.path.is_none(), b.path)));
    out
}

struct Style {
    color: bool,
}

impl Style {
    fn bold(&self, s: &str) -> String {
        if self.color { format!("\x1b[1m{s}\x1b[0m") } else { s.to_string() }
    }

    fn header(&self, s: &str) -> Cell {
        let c = Cell::new(s);
        if self.color { c.add_attribute(Attribute::Bold).fg(Color::Cyan) } else { c }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_core::{ArtifactInfo, Location, OsInfo, Warning};

    fn pkg(eco: Ecosystem, name: &str, path: &str, layer: Option<u32>) -> Package {
        Package::new(eco, name, "1.0", Location::new(path, layer), "test")
    }

    fn render_str(r: &ScanReport, opts: TableOptions) -> String {
        let mut buf = Vec::new();
        render(r, &opts, &mut buf).unwrap();
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn groups_files_and_merges_single_package_files() {
        let mut r =
            ScanReport::new(ArtifactInfo::new(ArtifactKind::Image, "alpine:3.19"), "2026-01-01T00:00:00Z");
        r.os = Some(OsInfo { id: "alpine".into(), version_id: "3.19.1".into(), ..Default::default() });
        r.packages = vec![
            pkg(Ecosystem::Apk, "musl", "lib/apk/db/installed", Some(0)),
            pkg(Ecosystem::Apk, "busybox", "lib/apk/db/installed", Some(0)),
            pkg(Ecosystem::Npm, "a", "app/node_modules/a/package.json", Some(2)),
            pkg(Ecosystem::Npm, "b", "app/node_modules/b/package.json", Some(2)),
            pkg(Ecosystem::Golang, "stdlib", "usr/bin/tool", Some(1)),
        ];
        r.warnings.push(Warning::new("dpkg", "bad record").at("var/lib/dpkg/status", Some(1)));
        let text = render_str(&r, TableOptions::default());
        assert!(text.contains("Artifact: alpine:3.19 (image)"), "{text}");
        assert!(text.contains("OS: alpine 3.19.1"), "{text}");
        assert!(text.contains("Packages: 5 (apk 2, npm 2, golang 1)"), "{text}");
        assert!(text.contains("apk lib/apk/db/installed (2 packages)"), "{text}");
        assert!(text.contains("npm (2 files, 2 packages)"), "{text}");
        assert!(text.contains("golang usr/bin/tool (1 package)"), "{text}");
        assert!(text.contains("app/node_modules/b/package.json"), "{text}");
        assert!(text.contains("Layer"), "{text}");
        assert!(text.contains("Warnings: 1\n  - dpkg: var/lib/dpkg/status (layer 1): bad record"), "{text}");
        // Sorted by name inside a table: busybox before musl.
        assert!(text.find("busybox").unwrap() < text.find("musl").unwrap());
        assert!(!text.contains('\x1b'), "no colour by default");
    }

    #[test]
    fn colour_only_when_asked() {
        let mut r = ScanReport::new(ArtifactInfo::new(ArtifactKind::Fs, "."), "2026-01-01T00:00:00Z");
        r.packages = vec![pkg(Ecosystem::Cargo, "serde", "Cargo.lock", None)];
        let plain = render_str(&r, TableOptions::default());
        assert!(!plain.contains("Layer"), "no layer column outside images: {plain}");
        let coloured = render_str(&r, TableOptions { color: true, width: Some(80) });
        assert!(coloured.contains("\x1b[1m"), "{coloured}");
    }

    #[test]
    fn empty_report() {
        let r = ScanReport::new(ArtifactInfo::new(ArtifactKind::Rootfs, "/mnt"), "2026-01-01T00:00:00Z");
        let text = render_str(&r, TableOptions::default());
        assert!(text.contains("OS: not detected"));
        assert!(text.contains("Packages: none found"));
        assert!(text.contains("Warnings: 0"));
    }

    #[test]
    fn many_packages_stay_in_few_tables() {
        let mut r = ScanReport::new(ArtifactInfo::new(ArtifactKind::Fs, "."), "2026-01-01T00:00:00Z");
        for i in 0..1500 {
            r.packages.push(pkg(Ecosystem::Npm, &format!("p{i}"), "package-lock.json", None));
        }
        for i in 0..300 {
            r.packages.push(pkg(
                Ecosystem::Npm,
                &format!("q{i}"),
                &format!("node_modules/q{i}/package.json"),
                None,
            ));
        }
        let g = groups(&r.packages);
        assert_eq!(g.len(), 2);
        let text = render_str(&r, TableOptions::default());
        assert!(text.contains("npm package-lock.json (1500 packages)"));
        assert!(text.contains("npm (300 files, 300 packages)"));
    }
}
