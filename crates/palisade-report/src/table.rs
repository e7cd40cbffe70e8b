//! The human summary: a header naming the artifact and OS, then the packages as tables, then the findings
//! (vulnerabilities, secrets, misconfigurations), then warnings.
//!
//! Packages are grouped like Trivy groups its targets, so that 1,000+ packages stay readable: per ecosystem,
//! every file that yielded two or more packages (a lockfile, a dpkg database) gets its own table titled with
//! its path; the files that yielded one package each (`node_modules/*/package.json`, Go binaries, jars) are
//! merged into one table per ecosystem with a location column. Images add a layer column. Colour is off
//! unless [`TableOptions::color`] says so (the CLI sets it only for a terminal).
//!
//! Findings follow the packages (or replace them, with [`TableOptions::hide_packages`]): vulnerabilities one
//! table per target file with a Trivy-like `Total: N (CRITICAL: a, HIGH: b, ...)` line, then secrets, then
//! misconfigurations. Totals count active findings; suppressed ones are listed after each section with their
//! reason. Text from the scanned artifact is printed with control characters escaped, so a hostile path or
//! message cannot drive the terminal.

use crate::ReportError;
use crate::findings::{
    SEVERITY_NAMES, clean, misconfig_target, rank, resource_text, secret_layer_text, truncate, vuln_target,
};
use comfy_table::{Attribute, Cell, Color, ContentArrangement, Table, presets};
use palisade_core::findings::vuln::VulnFinding;
use palisade_core::{ArtifactKind, Ecosystem, Package, ScanReport};
use std::collections::BTreeMap;
use std::io::Write;

/// How many warnings are printed in full; the count is always printed.
const MAX_WARNINGS_SHOWN: usize = 20;

/// How many characters of a vulnerability title or misconfiguration message a table cell shows.
const MAX_TEXT: usize = 80;

/// Presentation options for the table output.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TableOptions {
    /// Use ANSI colour and bold (only for a terminal).
    pub color: bool,
    /// Wrap tables to this many columns (the terminal width); `None` never wraps.
    pub width: Option<u16>,
    /// Leave out the package tables (the header still counts packages). The CLI sets this when finding
    /// scanners ran and the user did not ask for the package list.
    pub hide_packages: bool,
    /// Finding scanners that ran: their sections are printed even when they found nothing. A section with
    /// findings is always printed.
    pub scanners: ScannersRan,
}

/// Which finding scanners a scan ran (see [`TableOptions::scanners`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScannersRan {
    pub vuln: bool,
    pub secret: bool,
    pub misconfig: bool,
    pub license: bool,
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
    writeln!(out, "{} {} ({})", style.bold("Artifact:"), clean(&a.name), a.kind)?;
    if let Some(id) = &a.id {
        writeln!(out, "{} {}", style.bold("ID:"), clean(id))?;
    }
    if let Some(d) = a.repo_digests.first() {
        writeln!(out, "{} {}", style.bold("Digest:"), clean(d))?;
    }
    if let Some(p) = &a.platform {
        writeln!(out, "{} {}", style.bold("Platform:"), clean(p))?;
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
            match &os.end_of_life {
                Some(e) if e.ended => {
                    line.push_str(&format!(" — END OF LIFE since {}: no more security fixes", e.date));
                }
                Some(e) => line.push_str(&format!(" (security support until {})", e.date)),
                None => {}
            }
            writeln!(out, "{} {}", style.bold("OS:"), clean(&line))?;
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

    if !report.not_inventoried.is_empty() {
        writeln!(
            out,
            "{} {} (formats Palisade does not read; their packages are not listed):",
            style.bold("Not inventoried:"),
            plural(report.not_inventoried.len(), "manifest")
        )?;
        for n in &report.not_inventoried {
            writeln!(out, "  - {}: {} ({})", clean(&n.path), clean(&n.format), clean(&n.hint))?;
        }
    }

    if !report.gaps.is_empty() {
        writeln!(out, "{} the results below do not cover everything:", style.bold("INCOMPLETE:"))?;
        for g in &report.gaps {
            writeln!(out, "  - {}", clean(&g.to_string()))?;
        }
    }

    let with_layer = a.kind == ArtifactKind::Image || report.packages.iter().any(|p| layer(p).is_some());
    let package_groups = if opts.hide_packages { Vec::new() } else { groups(&report.packages) };
    for g in package_groups {
        writeln!(out)?;
        let title = match g.path {
            Some(path) => {
                format!("{} {} ({})", g.ecosystem, clean(path), plural(g.packages.len(), "package"))
            }
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
        for chunk in g.packages.chunks(TABLE_ROWS) {
            let mut t = new_table(opts);
            t.set_header(headers.iter().map(|h| style.header(h)));
            for p in chunk {
                let mut row = vec![Cell::new(clean(&p.name)), Cell::new(clean(&p.version))];
                if g.path.is_none() {
                    row.push(Cell::new(clean(p.location().map(|l| l.path.as_str()).unwrap_or("-"))));
                }
                if with_layer {
                    row.push(Cell::new(layer(p).map(|n| n.to_string()).unwrap_or_else(|| "-".into())));
                }
                t.add_row(row);
            }
            writeln!(out, "{t}")?;
        }
    }

    if !report.vulnerabilities.is_empty() || opts.scanners.vuln {
        render_vulns(report, opts, &style, out)?;
    }
    if !report.secrets.is_empty() || opts.scanners.secret {
        render_secrets(report, opts, &style, out)?;
    }
    if !report.misconfigurations.is_empty() || opts.scanners.misconfig {
        render_misconfigs(report, opts, &style, out)?;
    }
    if !report.licenses.is_empty() || opts.scanners.license {
        render_licenses(report, opts, &style, out)?;
    }

    if let Some(policy) = &report.policy {
        render_policy(policy, opts, &style, out)?;
    }

    writeln!(out)?;
    writeln!(out, "{} {}", style.bold("Warnings:"), report.warnings.len())?;
    for w in report.warnings.iter().take(MAX_WARNINGS_SHOWN) {
        writeln!(out, "  - {}", clean(&w.to_string()))?;
    }
    if report.warnings.len() > MAX_WARNINGS_SHOWN {
        writeln!(out, "  ... and {} more (see the JSON report)", report.warnings.len() - MAX_WARNINGS_SHOWN)?;
    }
    Ok(())
}

/// `Total: N (CRITICAL: a, HIGH: b, MEDIUM: c, LOW: d, UNKNOWN: e)`; `INFO` is listed only when counted.
fn total_line<'a>(severities: impl Iterator<Item = &'a str>) -> String {
    let mut counts = [0usize; 6];
    let mut total = 0;
    for s in severities {
        total += 1;
        let i = match rank(s) {
            5 => 0,
            4 => 1,
            3 => 2,
            2 => 3,
            1 => 4,
            _ => 5,
        };
        if let Some(c) = counts.get_mut(i) {
            *c += 1;
        }
    }
    let parts: Vec<String> = SEVERITY_NAMES
        .iter()
        .zip(counts)
        .filter(|(name, n)| **name != "INFO" || *n > 0)
        .map(|(name, n)| format!("{name}: {n}"))
        .collect();
    format!("Total: {total} ({})", parts.join(", "))
}

/// A severity cell, coloured when colour is on.
fn severity_cell(severity: &str, style: &Style) -> Cell {
    colored_cell(severity.to_ascii_uppercase(), severity, style)
}

/// A cell with `text`, coloured as `severity` is.
fn colored_cell(text: String, severity: &str, style: &Style) -> Cell {
    let c = Cell::new(text);
    if !style.color {
        return c;
    }
    match rank(severity) {
        5 => c.fg(Color::Red).add_attribute(Attribute::Bold),
        4 => c.fg(Color::Red),
        3 => c.fg(Color::Yellow),
        2 => c.fg(Color::Blue),
        _ => c,
    }
}

/// Print the suppressed findings of a section as a short list.
fn suppressed_list(items: &[(String, &str)], style: &Style, out: &mut dyn Write) -> Result<(), ReportError> {
    if items.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    writeln!(out, "{} {}", style.bold("Suppressed:"), items.len())?;
    for (what, reason) in items {
        writeln!(out, "  - {}: {}", clean(what), clean(reason))?;
    }
    Ok(())
}

fn render_vulns(
    report: &ScanReport,
    opts: &TableOptions,
    style: &Style,
    out: &mut dyn Write,
) -> Result<(), ReportError> {
    let active: Vec<&VulnFinding> = report.vulnerabilities.iter().filter(|v| v.is_active()).collect();
    writeln!(out)?;
    let total = total_line(active.iter().map(|v| v.severity.as_str()));
    let title = total.replacen("Total:", "Vulnerabilities:", 1);
    writeln!(out, "{}", style.bold(&title))?;
    let mut by_target: BTreeMap<&str, Vec<&VulnFinding>> = BTreeMap::new();
    for v in &active {
        by_target.entry(vuln_target(v, report)).or_default().push(v);
    }
    for (target, mut vulns) in by_target {
        vulns.sort_by(|a, b| {
            (&a.package_name, std::cmp::Reverse(a.severity), &a.id).cmp(&(
                &b.package_name,
                std::cmp::Reverse(b.severity),
                &b.id,
            ))
        });
        let mut ecos: Vec<String> = vulns.iter().map(|v| v.ecosystem.to_string()).collect();
        ecos.dedup();
        ecos.sort();
        ecos.dedup();
        writeln!(out)?;
        writeln!(out, "{}", style.bold(&format!("{} ({})", clean(target), ecos.join(", "))))?;
        writeln!(out, "{}", total_line(vulns.iter().map(|v| v.severity.as_str())))?;
        let mut t = new_table(opts);
        t.set_header(
            ["Package", "Vulnerability", "Severity", "Status", "Installed", "Fixed", "Title"]
                .into_iter()
                .map(|h| style.header(h)),
        );
        for v in vulns {
            t.add_row(vec![
                Cell::new(clean(&v.package_name)),
                Cell::new(clean(&v.id)),
                severity_cell(v.severity.as_str(), style),
                Cell::new(v.status.to_string()),
                Cell::new(clean(&v.installed_version)),
                Cell::new(clean(v.fixed_version.as_deref().unwrap_or("-"))),
                Cell::new(clean(&truncate(v.title.as_deref().unwrap_or(""), MAX_TEXT))),
            ]);
        }
        writeln!(out, "{t}")?;
    }
    let suppressed: Vec<(String, &str)> = report
        .vulnerabilities
        .iter()
        .filter_map(|v| {
            v.suppressed
                .as_deref()
                .map(|r| (format!("{} in {} {}", v.id, v.package_name, v.package_version), r))
        })
        .collect();
    suppressed_list(&suppressed, style, out)
}

fn render_secrets(
    report: &ScanReport,
    opts: &TableOptions,
    style: &Style,
    out: &mut dyn Write,
) -> Result<(), ReportError> {
    let active: Vec<_> = report.secrets.iter().filter(|s| s.is_active()).collect();
    writeln!(out)?;
    let total = total_line(active.iter().map(|s| s.severity.as_str()));
    writeln!(out, "{}", style.bold(&total.replacen("Total:", "Secrets:", 1)))?;
    if !active.is_empty() {
        let with_layer = active.iter().any(|s| s.layer.is_some() || s.deleted_in_layer.is_some());
        let with_commit = active.iter().any(|s| s.commit.is_some());
        let mut headers = vec!["Rule", "Severity", "Location"];
        if with_layer {
            headers.push("Layer");
        }
        if with_commit {
            headers.push("Commit");
        }
        headers.push("Match");
        let mut t = new_table(opts);
        t.set_header(headers.into_iter().map(|h| style.header(h)));
        for s in active {
            let mut row = vec![
                Cell::new(clean(&s.rule_id)),
                severity_cell(s.severity.as_str(), style),
                Cell::new(clean(&format!("{}:{}", s.path, s.line))),
            ];
            if with_layer {
                let l = secret_layer_text(s);
                row.push(Cell::new(if l.is_empty() { "-".to_string() } else { l }));
            }
            if with_commit {
                // Short id, day and author: enough to find the commit with `git show`.
                let c = s.commit.as_ref().map(|c| {
                    let id: String = c.id.chars().take(12).collect();
                    let day: String = c.date.chars().take(10).collect();
                    format!("{id} {day} {}", c.author)
                });
                row.push(Cell::new(clean(c.as_deref().unwrap_or("-"))));
            }
            row.push(Cell::new(clean(&s.redacted)));
            t.add_row(row);
        }
        writeln!(out, "{t}")?;
    }
    let suppressed: Vec<(String, &str)> = report
        .secrets
        .iter()
        .filter_map(|s| {
            s.suppressed.as_deref().map(|r| (format!("{} at {}:{}", s.rule_id, s.path, s.line), r))
        })
        .collect();
    suppressed_list(&suppressed, style, out)
}

fn render_misconfigs(
    report: &ScanReport,
    opts: &TableOptions,
    style: &Style,
    out: &mut dyn Write,
) -> Result<(), ReportError> {
    let active: Vec<_> = report.misconfigurations.iter().filter(|m| m.is_active()).collect();
    writeln!(out)?;
    let total = total_line(active.iter().map(|m| m.severity.as_str()));
    writeln!(out, "{}", style.bold(&total.replacen("Total:", "Misconfigurations:", 1)))?;
    for chunk in active.chunks(TABLE_ROWS) {
        let mut t = new_table(opts);
        t.set_header(
            ["Check", "Severity", "Location", "Resource", "Message"].into_iter().map(|h| style.header(h)),
        );
        for &m in chunk {
            let loc = if m.line > 0 {
                format!("{}:{}", misconfig_target(m, report), m.line)
            } else {
                misconfig_target(m, report).to_string()
            };
            let res = resource_text(m);
            t.add_row(vec![
                Cell::new(clean(&m.check_id)),
                severity_cell(m.severity.as_str(), style),
                Cell::new(clean(&loc)),
                Cell::new(if res.is_empty() { "-".to_string() } else { clean(&res) }),
                Cell::new(clean(&truncate(&m.message, MAX_TEXT))),
            ]);
        }
        writeln!(out, "{t}")?;
    }
    let suppressed: Vec<(String, &str)> = report
        .misconfigurations
        .iter()
        .filter_map(|m| {
            m.suppressed
                .as_deref()
                .map(|r| (format!("{} at {}:{}", m.check_id, misconfig_target(m, report), m.line), r))
        })
        .collect();
    suppressed_list(&suppressed, style, out)
}

/// Every licence found, like Trivy's licence table; the total counts them by severity (from the category),
/// and a second line says how many fail the licence policy.
fn render_licenses(
    report: &ScanReport,
    opts: &TableOptions,
    style: &Style,
    out: &mut dyn Write,
) -> Result<(), ReportError> {
    writeln!(out)?;
    let total = total_line(report.licenses.iter().map(|l| l.severity.as_str()));
    writeln!(out, "{}", style.bold(&total.replacen("Total:", "Licenses:", 1)))?;
    let failing = report.licenses.iter().filter(|l| l.is_active()).count();
    writeln!(out, "Failing the licence policy: {failing}")?;
    if !report.licenses.is_empty() {
        let mut t = new_table(opts);
        t.set_header(
            ["Package / file", "License", "Category", "Severity", "Source", "Fails"]
                .into_iter()
                .map(|h| style.header(h)),
        );
        for l in &report.licenses {
            let mut source = l.path.clone();
            if let Some(layer) = l.layer {
                source.push_str(&format!(" (layer {layer})"));
            }
            let fails = match (&l.failed_rule, &l.suppressed) {
                (Some(_), Some(_)) => "waived".to_string(),
                (Some(r), None) => r.clone(),
                (None, _) => "-".to_string(),
            };
            t.add_row(vec![
                Cell::new(clean(&truncate(&l.subject(), MAX_TEXT))),
                Cell::new(clean(&truncate(l.license(), MAX_TEXT))),
                Cell::new(clean(&l.category)),
                severity_cell(l.severity.as_str(), style),
                Cell::new(clean(&truncate(&source, MAX_TEXT))),
                Cell::new(clean(&fails)),
            ]);
        }
        writeln!(out, "{t}")?;
    }
    let suppressed: Vec<(String, &str)> = report
        .licenses
        .iter()
        .filter_map(|l| {
            l.suppressed.as_deref().map(|r| (format!("{} under {}", l.subject(), l.license()), r))
        })
        .collect();
    suppressed_list(&suppressed, style, out)
}

fn render_policy(
    policy: &palisade_core::findings::policy::PolicyResult,
    opts: &TableOptions,
    style: &Style,
    out: &mut dyn Write,
) -> Result<(), ReportError> {
    writeln!(out)?;
    let version = if policy.version.is_empty() { String::new() } else { format!(" {}", policy.version) };
    let failing = policy.failing().count();
    writeln!(
        out,
        "{}",
        style.bold(&format!(
            "Policy {}{version}: {} decisions ({failing} failing), {} files not loaded",
            policy.bundle,
            policy.decisions.len(),
            policy.errors.len()
        ))
    )?;
    if !policy.decisions.is_empty() {
        let mut t = new_table(opts);
        t.set_header(["Action", "Policy", "Rule", "Object", "Message"].into_iter().map(|h| style.header(h)));
        for d in &policy.decisions {
            let action = match d.outcome {
                palisade_core::findings::policy::Outcome::Error => "error".to_string(),
                _ => format!("{:?}", d.action).to_ascii_lowercase(),
            };
            t.add_row(vec![
                colored_cell(action.to_ascii_uppercase(), crate::findings::decision_severity(d), style),
                Cell::new(clean(&d.policy)),
                Cell::new(clean(&d.rule)),
                Cell::new(clean(&d.object.to_string())),
                Cell::new(clean(&truncate(&d.message, MAX_TEXT))),
            ]);
        }
        writeln!(out, "{t}")?;
    }
    for e in &policy.errors {
        writeln!(out, "  - not loaded: {}", clean(e))?;
    }
    for u in &policy.unsupported {
        writeln!(out, "  - not run: {}", clean(u))?;
    }
    Ok(())
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 { format!("1 {word}") } else { format!("{n} {word}s") }
}

fn layer(p: &Package) -> Option<u32> {
    p.location().and_then(|l| l.layer)
}

/// Rows per table: a longer list is printed as several tables of this many rows (the same columns), so the
/// cells held to lay out a table do not grow with a million packages or findings.
const TABLE_ROWS: usize = 10_000;

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
        let coloured = render_str(&r, TableOptions { color: true, width: Some(80), ..Default::default() });
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

    fn findings_text(opts: TableOptions) -> String {
        render_str(&crate::test_fixtures::findings_report(), opts)
    }

    #[test]
    fn findings_sections_follow_packages() {
        let text = findings_text(TableOptions::default());
        // Vulnerabilities: totals count active findings only (the suppressed medium is left out).
        assert!(
            text.contains("Vulnerabilities: 3 (CRITICAL: 1, HIGH: 1, MEDIUM: 0, LOW: 1, UNKNOWN: 0)"),
            "{text}"
        );
        assert!(
            text.contains("app/lib/log4j-core-2.14.1.jar (maven)\nTotal: 1 (CRITICAL: 1, HIGH: 0"),
            "{text}"
        );
        assert!(
            text.contains("var/lib/dpkg/status (deb)\nTotal: 1 (CRITICAL: 0, HIGH: 0, MEDIUM: 0, LOW: 1"),
            "{text}"
        );
        for col in ["Package", "Vulnerability", "Severity", "Status", "Installed", "Fixed", "Title"] {
            assert!(text.contains(col), "{col}: {text}");
        }
        assert!(text.contains("CVE-2023-0464") && text.contains("affected"), "{text}");
        assert!(text.contains("Suppressed: 1\n  - CVE-2022-37434 in zlib1g 1.0.0: not reachable"), "{text}");
        // Secrets: location, layer history, redacted match.
        assert!(text.contains("Secrets: 1 (CRITICAL: 1,"), "{text}");
        assert!(text.contains("app/config/settings.env:12"), "{text}");
        assert!(text.contains("layer 1, deleted in layer 2"), "{text}");
        assert!(text.contains("ghp_R4*****"), "{text}");
        assert!(
            text.contains("  - github-pat at home/dev/.git-credentials:3: test fixture credential"),
            "{text}"
        );
        // Misconfigurations.
        assert!(text.contains("Misconfigurations: 2 (CRITICAL: 0, HIGH: 1, MEDIUM: 1,"), "{text}");
        assert!(text.contains("deploy/web.yaml:21"), "{text}");
        assert!(text.contains("Deployment prod/web container app"), "{text}");
        assert!(
            text.contains("  - PAL-K8S-014 at deploy/web.yaml:30: accepted risk, ticket SEC-12"),
            "{text}"
        );
        // Order: vulnerabilities, secrets, misconfigurations, warnings.
        let pos = |s: &str| text.find(s).unwrap_or(usize::MAX);
        assert!(pos("Vulnerabilities:") < pos("Secrets:"));
        assert!(pos("Secrets:") < pos("Misconfigurations:"));
        assert!(pos("Misconfigurations:") < pos("Warnings:"));
    }

    #[test]
    fn sections_of_scanners_that_found_nothing() {
        let mut r = ScanReport::new(ArtifactInfo::new(ArtifactKind::Fs, "."), "2026-01-01T00:00:00Z");
        r.packages = vec![pkg(Ecosystem::Cargo, "serde", "Cargo.lock", None)];
        let plain = render_str(&r, TableOptions::default());
        assert!(!plain.contains("Vulnerabilities") && !plain.contains("Secrets"), "{plain}");
        let opts = TableOptions {
            hide_packages: true,
            scanners: ScannersRan { vuln: true, secret: true, misconfig: false, license: false },
            ..Default::default()
        };
        let text = render_str(&r, opts);
        assert!(text.contains("Packages: 1 (cargo 1)"), "the header still counts packages: {text}");
        assert!(!text.contains("serde"), "package tables hidden: {text}");
        assert!(
            text.contains("Vulnerabilities: 0 (CRITICAL: 0, HIGH: 0, MEDIUM: 0, LOW: 0, UNKNOWN: 0)"),
            "{text}"
        );
        assert!(text.contains("Secrets: 0 ("), "{text}");
        assert!(!text.contains("Misconfigurations"), "{text}");
    }

    #[test]
    fn hostile_text_cannot_drive_the_terminal() {
        let text = render_str(&crate::test_fixtures::hostile_report(), TableOptions::default());
        assert!(!text.contains('\x1b') && !text.contains('\x07') && !text.contains('\0'), "{text:?}");
        assert!(!text.contains('\r'), "{text:?}");
        assert!(text.contains("\\u{1b}[31m"), "escapes are shown: {text}");
        let coloured = render_str(
            &crate::test_fixtures::hostile_report(),
            TableOptions { color: true, ..Default::default() },
        );
        assert!(!coloured.contains("\x1b[31m"), "only our own colour codes: {coloured:?}");
    }
}
