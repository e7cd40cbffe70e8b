//! Java archives (`.jar`, `.war`, `.ear`, `.jpi`, `.hpi`, `.par`): the Maven artifacts they contain.
//!
//! The archive is opened as a zip from memory. Identification, in order:
//! 1. every `META-INF/maven/<group>/<artifact>/pom.properties` (`groupId`, `artifactId`, `version`; the path
//!    supplies group and artifact when the file omits them) gives one Maven package `group:artifact`. A
//!    shaded ("uber") jar has several.
//! 2. without any, the main section of `META-INF/MANIFEST.MF`: version from `Implementation-Version` or
//!    `Bundle-Version`; artifact from the file name (`name-1.2.3.jar`), else the last dot-separated part of
//!    `Bundle-SymbolicName`, else a one-word `Implementation-Title`; group from `Implementation-Vendor-Id`,
//!    else the `Bundle-SymbolicName` prefix when it ends with `.<artifact>`. Without a group the name is the
//!    bare artifact id.
//! 3. last, the file name alone: `log4j-core-2.14.1.jar` is `log4j-core` at `2.14.1` (split at the first `-`
//!    followed by a digit).
//!
//! Archives inside archives (`WEB-INF/lib/*.jar`, `BOOT-INF/lib/*.jar`, an ear's `lib/*.jar`, and any other
//! entry with one of the extensions above) are opened in turn, up to 4 levels below the scanned file. Their
//! packages keep the scanned file as location and record the chain in metadata `nested_path`
//! (`app.war!/WEB-INF/lib/x.jar`). Metadata `java_source` says which of the three steps identified a package.
//!
//! Limits against zip bombs: metadata entries are read up to 1 MiB, nested archives up to 256 MiB each, and
//! at most 512 MiB are decompressed per scanned file. A scanned file that is not a readable zip is an error;
//! an unreadable, oversized or too deeply nested inner entry is a warning and the rest is still read.

use crate::{Input, Output, ParseError, Parser};
use palisade_artifact::FileMeta;
use palisade_core::{Ecosystem, Package};
use std::collections::BTreeMap;
use std::io::{Cursor, Read, Seek};
use zip::ZipArchive;

/// The Java archive parser.
pub struct JavaArchive;

/// File extensions of Java archives (lower case).
const EXTENSIONS: &[&str] = &["jar", "war", "ear", "jpi", "hpi", "par"];
/// Largest scanned file.
const MAX_FILE_SIZE: u64 = 1024 * 1024 * 1024;

/// Resource limits for one scanned file.
#[derive(Debug, Clone, Copy)]
struct Limits {
    /// Nesting levels below the scanned file.
    max_depth: u32,
    /// Largest `pom.properties` or `MANIFEST.MF`.
    max_meta_entry: u64,
    /// Largest nested archive.
    max_nested_entry: u64,
    /// Total bytes decompressed for one scanned file.
    max_total: u64,
}

const LIMITS: Limits = Limits {
    max_depth: 4,
    max_meta_entry: 1024 * 1024,
    max_nested_entry: 256 * 1024 * 1024,
    max_total: 512 * 1024 * 1024,
};

fn has_java_extension(name: &str) -> bool {
    name.rsplit_once('.')
        .is_some_and(|(stem, ext)| !stem.is_empty() && EXTENSIONS.iter().any(|e| e.eq_ignore_ascii_case(ext)))
}

impl Parser for JavaArchive {
    fn id(&self) -> &'static str {
        "java-archive"
    }

    fn wants(&self, meta: &FileMeta) -> bool {
        meta.size < MAX_FILE_SIZE && has_java_extension(meta.file_name())
    }

    /// Archives are read through positioned reads: the central directory and the few metadata entries,
    /// never the whole (often tens of MB) file.
    fn parse_probe(
        &self,
        meta: &FileMeta,
        probe: &dyn palisade_artifact::Probe,
        out: &mut Output,
    ) -> Option<Result<(), ParseError>> {
        let reader = std::io::BufReader::with_capacity(
            64 * 1024,
            palisade_artifact::ProbeReader::new(probe, meta.size),
        );
        let input = Input { path: meta.path, layer: meta.layer, data: &[] };
        Some(self.parse_reader(reader, &input, out))
    }

    fn parse(&self, input: &Input, out: &mut Output) -> Result<(), ParseError> {
        self.parse_reader(Cursor::new(input.data), input, out)
    }
}

impl JavaArchive {
    /// Walk the archive read by `reader`; `input` names the file (its data is not used).
    fn parse_reader<R: Read + Seek>(
        &self,
        reader: R,
        input: &Input,
        out: &mut Output,
    ) -> Result<(), ParseError> {
        let mut walk =
            Walk { budget: LIMITS.max_total, limits: LIMITS, found: Vec::new(), warnings: Vec::new() };
        walk.archive(reader, input.path, None, 0)
            .map_err(|e| ParseError::new(format!("not a readable Java archive: {e}")))?;
        out.warnings.append(&mut walk.warnings);
        if walk.found.is_empty() {
            out.warnings.push(
                "no Maven package identified: no pom.properties, and neither the manifest nor the file name \
                 gives a version"
                    .into(),
            );
        }
        for f in walk.found {
            let name = match &f.group {
                Some(g) => format!("{g}:{}", f.artifact),
                None => f.artifact.clone(),
            };
            let mut p = Package::new(Ecosystem::Maven, name, f.version, input.location(), self.id());
            p.metadata.insert("java_source".into(), f.source.into());
            if let Some(n) = f.nested_path {
                p.metadata.insert("nested_path".into(), n);
            }
            p.licenses = f.licenses;
            out.packages.push(p);
        }
        Ok(())
    }
}

/// One identified artifact.
#[derive(Debug, Clone, PartialEq)]
struct Found {
    group: Option<String>,
    artifact: String,
    version: String,
    source: &'static str,
    nested_path: Option<String>,
    /// Licence names from the `pom.xml` beside `pom.properties`, or the manifest's `Bundle-License`.
    licenses: Vec<String>,
}

/// State of the walk over one scanned file and everything nested in it.
struct Walk {
    /// Bytes that may still be decompressed.
    budget: u64,
    limits: Limits,
    found: Vec<Found>,
    warnings: Vec<String>,
}

impl Walk {
    /// Scan one archive. `display` names it for messages (`a.war!/WEB-INF/lib/b.jar`); `nested` is the same
    /// for nested archives and `None` for the scanned file itself. Errors are about this archive as a whole.
    fn archive<R: Read + Seek>(
        &mut self,
        reader: R,
        display: &str,
        nested: Option<&str>,
        depth: u32,
    ) -> Result<(), String> {
        let mut zip = ZipArchive::new(reader).map_err(|e| e.to_string())?;
        let mut poms = Vec::new();
        let mut manifest = None;
        let mut inner = Vec::new();
        for i in 0..zip.len() {
            let Some(Ok(name)) = zip.name_for_index(i) else { continue };
            if name.ends_with('/') {
                continue;
            }
            if is_pom_properties(&name) {
                poms.push((i, name.to_string()));
            } else if name.eq_ignore_ascii_case("META-INF/MANIFEST.MF") {
                manifest = Some(i);
            } else if has_java_extension(name.rsplit('/').next().unwrap_or(&name)) {
                inner.push((i, name.to_string()));
            }
        }

        let file_name = display.rsplit(['/', '!']).next().unwrap_or(display);
        let mut identified = false;
        for (i, entry) in &poms {
            let bytes = match self.read_entry(&mut zip, *i, self.limits.max_meta_entry) {
                Ok(b) => b,
                Err(e) => {
                    self.warnings.push(format!("{display}!/{entry}: {e}"));
                    continue;
                }
            };
            let props = parse_properties(&String::from_utf8_lossy(&bytes));
            // META-INF/maven/<group>/<artifact>/pom.properties
            let mut parts = entry.split('/').skip(2);
            let (path_group, path_artifact) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
            let group = props.get("groupId").map(String::as_str).unwrap_or(path_group);
            let artifact = props.get("artifactId").map(String::as_str).unwrap_or(path_artifact);
            match props.get("version").filter(|v| !v.is_empty()) {
                Some(version) if !group.is_empty() && !artifact.is_empty() => {
                    identified = true;
                    let (group, artifact, version) =
                        (group.to_string(), artifact.to_string(), version.clone());
                    let pom_xml = format!("{}pom.xml", entry.trim_end_matches("pom.properties"));
                    let licenses = match zip.index_for_name(&pom_xml) {
                        Some(x) => match self.read_entry(&mut zip, x, self.limits.max_meta_entry) {
                            Ok(b) => pom_licenses(&String::from_utf8_lossy(&b)),
                            Err(e) => {
                                self.warnings.push(format!("{display}!/{pom_xml}: {e}"));
                                Vec::new()
                            }
                        },
                        None => Vec::new(),
                    };
                    self.found.push(Found {
                        group: Some(group),
                        artifact,
                        version,
                        source: "pom.properties",
                        nested_path: nested.map(str::to_string),
                        licenses,
                    });
                }
                _ => self.warnings.push(format!("{display}!/{entry}: no groupId/artifactId/version")),
            }
        }

        if !identified {
            let manifest = match manifest.map(|i| self.read_entry(&mut zip, i, self.limits.max_meta_entry)) {
                Some(Ok(bytes)) => parse_manifest(&String::from_utf8_lossy(&bytes)),
                Some(Err(e)) => {
                    self.warnings.push(format!("{display}!/META-INF/MANIFEST.MF: {e}"));
                    BTreeMap::new()
                }
                None => BTreeMap::new(),
            };
            // Without any identity there is nothing to say about this archive itself; its nested archives
            // may still identify.
            if let Some((group, artifact, version, source)) = identify_without_pom(file_name, &manifest) {
                let nested_path = nested.map(str::to_string);
                let licenses =
                    manifest.get("Bundle-License").map(|l| vec![l.trim().to_string()]).unwrap_or_default();
                self.found.push(Found { group, artifact, version, source, nested_path, licenses });
            }
        }

        for (i, entry) in inner {
            let child = format!("{display}!/{entry}");
            if depth >= self.limits.max_depth {
                self.warnings
                    .push(format!("{child}: nested deeper than {} archives, skipped", self.limits.max_depth));
                continue;
            }
            if self.budget == 0 {
                self.warnings.push(format!("{child}: decompression budget exhausted, skipped"));
                continue;
            }
            let bytes = match self.read_entry(&mut zip, i, self.limits.max_nested_entry) {
                Ok(b) => b,
                Err(e) => {
                    self.warnings.push(format!("{child}: {e}"));
                    continue;
                }
            };
            if let Err(e) = self.archive(Cursor::new(&bytes[..]), &child, Some(&child), depth + 1) {
                self.warnings.push(format!("{child}: not a readable archive: {e}"));
            }
        }
        Ok(())
    }

    /// Decompress entry `i`, refusing more than `cap` bytes or more than the remaining budget.
    fn read_entry<R: Read + Seek>(
        &mut self,
        zip: &mut ZipArchive<R>,
        i: usize,
        cap: u64,
    ) -> Result<Vec<u8>, String> {
        let limit = cap.min(self.budget);
        let mut file = zip.by_index(i).map_err(|e| e.to_string())?;
        let declared = file.size();
        if declared > cap {
            return Err(format!("{declared} bytes uncompressed, over the {cap}-byte limit"));
        }
        if declared > self.budget {
            return Err(format!("{declared} bytes uncompressed, over the remaining decompression budget"));
        }
        let mut buf = Vec::with_capacity(usize::try_from(declared.min(1024 * 1024)).unwrap_or(0));
        (&mut file).take(limit + 1).read_to_end(&mut buf).map_err(|e| e.to_string())?;
        let got = buf.len() as u64;
        self.budget = self.budget.saturating_sub(got);
        if got > limit {
            return Err(format!("decompresses to more than {limit} bytes (declared {declared}): skipped"));
        }
        Ok(buf)
    }
}

/// The `<name>` (else `<url>`) of each `<license>` under `<project><licenses>` of a `pom.xml`. A light scan,
/// not a full XML parse: Maven writes these elements plainly, and only the five predefined entities are
/// decoded.
fn pom_licenses(xml: &str) -> Vec<String> {
    let Some(start) = xml.find("<licenses>") else { return Vec::new() };
    let end = xml[start..].find("</licenses>").map(|e| start + e).unwrap_or(xml.len());
    let block = &xml[start..end];
    let tag = |s: &str, t: &str| -> Option<String> {
        let open = format!("<{t}>");
        let a = s.find(&open)? + open.len();
        let b = s[a..].find(&format!("</{t}>"))? + a;
        let v = s[a..b].trim();
        let v = v.strip_prefix("<![CDATA[").and_then(|v| v.strip_suffix("]]>")).unwrap_or(v);
        let v = v
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&amp;", "&");
        (!v.trim().is_empty()).then(|| v.split_whitespace().collect::<Vec<_>>().join(" "))
    };
    block
        .split("<license>")
        .skip(1)
        .filter_map(|l| {
            let l = l.split("</license>").next().unwrap_or(l);
            tag(l, "name").or_else(|| tag(l, "url"))
        })
        .collect()
}

/// `META-INF/maven/<group>/<artifact>/pom.properties`
fn is_pom_properties(name: &str) -> bool {
    let parts: Vec<&str> = name.split('/').collect();
    matches!(parts.as_slice(), ["META-INF", "maven", g, a, "pom.properties"] if !g.is_empty() && !a.is_empty())
}

/// Manifest or file-name identification: (group, artifact, version, source).
fn identify_without_pom(
    file_name: &str,
    manifest: &BTreeMap<String, String>,
) -> Option<(Option<String>, String, String, &'static str)> {
    let from_name = split_file_name(file_name);
    let get = |k: &str| manifest.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    let manifest_version = get("Implementation-Version").or_else(|| get("Bundle-Version"));
    if let Some(version) = manifest_version {
        let bsn = get("Bundle-SymbolicName").map(|b| b.split(';').next().unwrap_or(b).trim());
        // A symbolic name `org.example.widget` reads as group `org.example`, artifact `widget`.
        let bsn_split = bsn.map(|b| match b.rsplit_once('.') {
            Some((g, a)) if !g.is_empty() && !a.is_empty() => (Some(g), a),
            _ => (None, b),
        });
        let artifact = from_name
            .as_ref()
            .map(|(a, _)| a.clone())
            .or_else(|| bsn_split.map(|(_, a)| a.to_string()))
            .or_else(|| {
                get("Implementation-Title").filter(|t| !t.contains(char::is_whitespace)).map(str::to_string)
            })
            .unwrap_or_else(|| stem(file_name).to_string());
        let group = get("Implementation-Vendor-Id")
            .map(str::to_string)
            .or_else(|| bsn_split.filter(|(_, a)| *a == artifact).and_then(|(g, _)| g).map(str::to_string));
        return Some((group, artifact, version.to_string(), "MANIFEST.MF"));
    }
    from_name.map(|(artifact, version)| (None, artifact, version, "file name"))
}

fn stem(file_name: &str) -> &str {
    file_name.rsplit_once('.').map(|(s, _)| s).unwrap_or(file_name)
}

/// `log4j-core-2.14.1.jar` -> (`log4j-core`, `2.14.1`); `guava-31.1-jre.jar` -> (`guava`, `31.1-jre`).
fn split_file_name(file_name: &str) -> Option<(String, String)> {
    let stem = stem(file_name);
    let bytes = stem.as_bytes();
    let pos = bytes.windows(2).position(|w| w[0] == b'-' && w[1].is_ascii_digit())?;
    let (artifact, version) = (stem.get(..pos)?, stem.get(pos + 1..)?);
    (!artifact.is_empty()).then(|| (artifact.to_string(), version.to_string()))
}

/// The main section of a JAR manifest: `Name: value` lines, continuation lines start with one space; the
/// main section ends at the first blank line.
fn parse_manifest(text: &str) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    let mut last: Option<String> = None;
    for line in text.lines() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            break;
        }
        if let Some(cont) = line.strip_prefix(' ') {
            if let Some(v) = last.as_ref().and_then(|k| map.get_mut(k)) {
                let v: &mut String = v;
                v.push_str(cont);
            }
            continue;
        }
        if let Some((k, v)) = line.split_once(':') {
            let k = k.trim().to_string();
            map.insert(k.clone(), v.trim_start().to_string());
            last = Some(k);
        }
    }
    map
}

/// Java `.properties`: `key=value`, `key: value` or `key value`; `#`/`!` comments; a trailing backslash
/// continues the line; `\t`, `\n`, `\uXXXX` and other backslash escapes.
fn parse_properties(text: &str) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    let mut logical = String::new();
    for line in text.lines() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        let piece = line.trim_start();
        if logical.is_empty() && (piece.is_empty() || piece.starts_with('#') || piece.starts_with('!')) {
            continue;
        }
        let trailing = piece.bytes().rev().take_while(|&b| b == b'\\').count();
        if trailing % 2 == 1 {
            logical.push_str(piece.strip_suffix('\\').unwrap_or(piece));
            continue;
        }
        logical.push_str(piece);
        let (k, v) = split_property(&logical);
        map.insert(k, v);
        logical.clear();
    }
    if !logical.is_empty() {
        let (k, v) = split_property(&logical);
        map.insert(k, v);
    }
    map
}

fn split_property(line: &str) -> (String, String) {
    let mut key = String::new();
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(e) = chars.next() {
                    push_escape(&mut key, e, &mut chars);
                }
            }
            '=' | ':' => break,
            c if c.is_whitespace() => {
                while chars.peek().is_some_and(|c| c.is_whitespace()) {
                    chars.next();
                }
                if chars.peek().is_some_and(|&c| c == '=' || c == ':') {
                    chars.next();
                }
                break;
            }
            c => key.push(c),
        }
    }
    while chars.peek().is_some_and(|c| c.is_whitespace()) {
        chars.next();
    }
    let mut value = String::new();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(e) = chars.next() {
                push_escape(&mut value, e, &mut chars);
            }
        } else {
            value.push(c);
        }
    }
    (key, value)
}

fn push_escape(out: &mut String, e: char, chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    match e {
        't' => out.push('\t'),
        'n' => out.push('\n'),
        'r' => out.push('\r'),
        'f' => out.push('\u{c}'),
        'u' => {
            let hex: String = chars.by_ref().take(4).collect();
            match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                Some(c) => out.push(c),
                None => {
                    out.push('u');
                    out.push_str(&hex);
                }
            }
        }
        other => out.push(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use zip::write::SimpleFileOptions;

    /// Build a zip from (name, content) pairs; `stored` skips compression.
    fn zip_of(entries: &[(&str, &[u8])], stored: bool) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let method = if stored { zip::CompressionMethod::Stored } else { zip::CompressionMethod::Deflated };
        let opts = SimpleFileOptions::default().compression_method(method);
        for (name, data) in entries {
            w.start_file(*name, opts).unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    fn pom(g: &str, a: &str, v: &str) -> Vec<u8> {
        format!(
            "#Generated by Maven\n#Tue Mar 01 10:00:00 UTC 2022\ngroupId={g}\nartifactId={a}\nversion={v}\n"
        )
        .into_bytes()
    }

    fn parse_at(path: &str, data: &[u8]) -> Result<Output, ParseError> {
        let mut out = Output::default();
        JavaArchive.parse(&Input { path, layer: Some(3), data }, &mut out)?;
        Ok(out)
    }

    fn walk(data: &[u8], path: &str, limits: Limits) -> Walk {
        let mut w = Walk { budget: limits.max_total, limits, found: Vec::new(), warnings: Vec::new() };
        w.archive(Cursor::new(data), path, None, 0).unwrap();
        w
    }

    #[test]
    fn pom_xml_licences() {
        let xml = b"<project><licenses><license><name>The Apache Software License, Version 2.0</name>\
            <url>https://www.apache.org/licenses/LICENSE-2.0.txt</url></license>\
            <license><url>https://opensource.org/licenses/MIT</url></license></licenses></project>";
        let jar = zip_of(
            &[
                ("META-INF/maven/com.example/lib/pom.properties", &pom("com.example", "lib", "1.0")),
                ("META-INF/maven/com.example/lib/pom.xml", xml),
            ],
            false,
        );
        let out = parse_at("app/lib/lib-1.0.jar", &jar).unwrap();
        assert_eq!(
            out.packages[0].licenses,
            ["The Apache Software License, Version 2.0", "https://opensource.org/licenses/MIT"]
        );
        assert!(pom_licenses("<project><name>x</name></project>").is_empty());
        assert_eq!(pom_licenses("<licenses><license><name>A &amp; B</name></license></licenses>"), ["A & B"]);
    }

    #[test]
    fn pom_properties() {
        let jar = zip_of(
            &[
                ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\r\nImplementation-Version: 9.9\r\n"),
                (
                    "META-INF/maven/org.apache.logging.log4j/log4j-core/pom.properties",
                    &pom("org.apache.logging.log4j", "log4j-core", "2.14.1"),
                ),
                ("org/apache/logging/log4j/core/Logger.class", b"\xca\xfe\xba\xbe"),
            ],
            false,
        );
        let out = parse_at("app/lib/log4j-core-2.14.1.jar", &jar).unwrap();
        assert!(out.warnings.is_empty(), "{:?}", out.warnings);
        assert_eq!(out.packages.len(), 1);
        let p = &out.packages[0];
        assert_eq!(p.name, "org.apache.logging.log4j:log4j-core");
        assert_eq!(p.version, "2.14.1");
        assert_eq!(p.purl, "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1");
        assert_eq!(p.found_by, "java-archive");
        assert_eq!(p.locations[0].path, "app/lib/log4j-core-2.14.1.jar");
        assert_eq!(p.locations[0].layer, Some(3));
        assert_eq!(p.metadata.get("java_source").map(String::as_str), Some("pom.properties"));
        assert!(!p.metadata.contains_key("nested_path"));
    }

    #[test]
    fn shaded_jar_reports_every_pom() {
        let jar = zip_of(
            &[
                ("META-INF/maven/com.example/app/pom.properties", &pom("com.example", "app", "1.0.0")),
                (
                    "META-INF/maven/com.google.guava/guava/pom.properties",
                    // The path supplies group and artifact when the file omits them.
                    b"version=31.1-jre\n",
                ),
            ],
            false,
        );
        let out = parse_at("app.jar", &jar).unwrap();
        let names: Vec<_> = out.packages.iter().map(|p| format!("{}@{}", p.name, p.version)).collect();
        assert_eq!(names, ["com.example:app@1.0.0", "com.google.guava:guava@31.1-jre"]);
    }

    #[test]
    fn manifest_and_file_name_fallbacks() {
        let jar = zip_of(
            &[(
                "META-INF/MANIFEST.MF",
                b"Manifest-Version: 1.0\nBundle-SymbolicName: org.example.very.long.bundle.name.that.wraps.\n \
                  widget;singleton:=true\nBundle-Version: 3.2.1\n\nName: other/section\nImplementation-Version: 0\n",
            )],
            false,
        );
        let out = parse_at("plugins/widget.jar", &jar).unwrap();
        let p = &out.packages[0];
        assert_eq!(p.name, "org.example.very.long.bundle.name.that.wraps:widget");
        assert_eq!(p.version, "3.2.1");
        assert_eq!(p.metadata.get("java_source").map(String::as_str), Some("MANIFEST.MF"));

        let jar = zip_of(
            &[(
                "META-INF/MANIFEST.MF",
                b"Implementation-Title: commons-lang\nImplementation-Version: 2.6\nImplementation-Vendor-Id: commons-lang\n",
            )],
            false,
        );
        let out = parse_at("commons-lang-2.6.jar", &jar).unwrap();
        assert_eq!(
            (out.packages[0].name.as_str(), out.packages[0].version.as_str()),
            ("commons-lang:commons-lang", "2.6")
        );

        // Nothing inside: the file name.
        let jar = zip_of(&[("a/B.class", b"x")], false);
        let out = parse_at("lib/guava-31.1-jre.jar", &jar).unwrap();
        let p = &out.packages[0];
        assert_eq!((p.name.as_str(), p.version.as_str()), ("guava", "31.1-jre"));
        assert_eq!(p.purl, "pkg:maven/guava@31.1-jre");
        assert_eq!(p.metadata.get("java_source").map(String::as_str), Some("file name"));

        // Nothing at all: a warning, no package.
        let out = parse_at("lib/app.jar", &jar).unwrap();
        assert!(out.packages.is_empty());
        assert!(out.warnings[0].contains("no Maven package identified"), "{:?}", out.warnings);
    }

    #[test]
    fn nested_archives() {
        let lib = zip_of(&[("META-INF/maven/org.x/lib/pom.properties", &pom("org.x", "lib", "1.1"))], false);
        let deep =
            zip_of(&[("META-INF/maven/org.y/deep/pom.properties", &pom("org.y", "deep", "2.0"))], false);
        let mid = zip_of(&[("lib/deep-2.0.jar", &deep)], true);
        let war = zip_of(
            &[
                ("META-INF/maven/com.example/web/pom.properties", &pom("com.example", "web", "5")),
                ("WEB-INF/lib/lib-1.1.jar", &lib),
                ("WEB-INF/lib/mid.jar", &mid),
                ("WEB-INF/lib/broken.jar", b"this is not a zip"),
            ],
            false,
        );
        let out = parse_at("srv/app.war", &war).unwrap();
        let by_name = |n: &str| out.packages.iter().find(|p| p.name == n).unwrap();
        assert!(!by_name("com.example:web").metadata.contains_key("nested_path"));
        assert_eq!(
            by_name("org.x:lib").metadata.get("nested_path").map(String::as_str),
            Some("srv/app.war!/WEB-INF/lib/lib-1.1.jar")
        );
        assert_eq!(
            by_name("org.y:deep").metadata.get("nested_path").map(String::as_str),
            Some("srv/app.war!/WEB-INF/lib/mid.jar!/lib/deep-2.0.jar")
        );
        assert!(out.packages.iter().all(|p| p.locations[0].path == "srv/app.war"));
        // broken.jar is not a zip: a warning, not an error.
        assert_eq!(out.packages.len(), 3);
        assert!(
            out.warnings.iter().any(|w| w.contains("broken.jar: not a readable archive")),
            "{:?}",
            out.warnings
        );
        // mid.jar itself is not identified, which is no problem worth a warning.
        assert_eq!(out.warnings.len(), 1, "{:?}", out.warnings);
    }

    #[test]
    fn depth_limit() {
        let mut jar = zip_of(&[("META-INF/maven/g/a0/pom.properties", &pom("g", "a0", "1"))], false);
        for level in 1..=6 {
            let name = format!("META-INF/maven/g/a{level}/pom.properties");
            jar = zip_of(&[(&name, &pom("g", &format!("a{level}"), "1")), ("lib/inner.jar", &jar)], true);
        }
        let out = parse_at("outer.jar", &jar).unwrap();
        // outer (a6) plus 4 nested levels (a5..a2); a1 and a0 are too deep.
        assert_eq!(out.packages.len(), 5, "{:?}", out.packages);
        assert!(out.warnings.iter().any(|w| w.contains("nested deeper than 4")), "{:?}", out.warnings);
    }

    #[test]
    fn zip_bomb_limits() {
        let zeros = vec![0u8; 4 * 1024 * 1024];
        // A 4 MiB pom.properties: over the 1 MiB metadata cap.
        let jar = zip_of(&[("META-INF/maven/g/a/pom.properties", &zeros)], false);
        assert!(jar.len() < 64 * 1024);
        let out = parse_at("bomb-1.0.jar", &jar).unwrap();
        assert!(out.warnings.iter().any(|w| w.contains("limit")), "{:?}", out.warnings);
        // Falls back to the file name.
        assert_eq!(out.packages[0].version, "1.0");

        // Nested archives adding up past a small total budget.
        let inner = zip_of(&[("pad.bin", &zeros)], true);
        let outer = zip_of(&[("lib/a.jar", &inner), ("lib/b.jar", &inner), ("lib/c.jar", &inner)], false);
        let limits = Limits { max_total: 9 * 1024 * 1024, ..LIMITS };
        let w = walk(&outer, "outer.jar", limits);
        assert!(w.warnings.iter().any(|m| m.contains("budget")), "{:?}", w.warnings);
        // A nested archive over the per-entry cap.
        let limits = Limits { max_nested_entry: 1024 * 1024, ..LIMITS };
        let w = walk(&outer, "outer.jar", limits);
        assert_eq!(w.warnings.iter().filter(|m| m.contains("over the 1048576-byte limit")).count(), 3);
    }

    #[test]
    fn understated_sizes_are_caught_while_reading() {
        // Patch the declared uncompressed size (local and central headers) to 10 bytes.
        let big = vec![b'x'; 2 * 1024 * 1024];
        let mut jar = zip_of(&[("META-INF/maven/g/a/pom.properties", &big)], false);
        let needle = (2u32 * 1024 * 1024).to_le_bytes();
        let mut patched = 0;
        let mut i = 0;
        while i + 4 <= jar.len() {
            if jar[i..i + 4] == needle {
                jar[i..i + 4].copy_from_slice(&10u32.to_le_bytes());
                patched += 1;
            }
            i += 1;
        }
        assert!(patched >= 2);
        let out = parse_at("x-1.jar", &jar).unwrap();
        assert!(!out.warnings.is_empty(), "a lying size header must not go unnoticed");
    }

    #[test]
    fn garbage_and_truncated_are_errors() {
        assert!(parse_at("x.jar", b"").is_err());
        assert!(parse_at("x.jar", b"PK\x03\x04garbage").is_err());
        let jar = zip_of(&[("META-INF/maven/g/a/pom.properties", &pom("g", "a", "1"))], false);
        assert!(parse_at("x.jar", &jar[..jar.len() - 30]).is_err());
        let err = parse_at("x.jar", &jar[..jar.len() / 2]).unwrap_err();
        assert!(err.0.contains("not a readable Java archive"), "{err}");
    }

    #[test]
    fn properties_and_manifest_syntax() {
        let p = parse_properties("# c\n! c\n  a = 1\nb:2\nc 3\nlong=x\\\n   y\nesc=\\u0041\\tB\nempty=\n");
        assert_eq!(p["a"], "1");
        assert_eq!(p["b"], "2");
        assert_eq!(p["c"], "3");
        assert_eq!(p["long"], "xy");
        assert_eq!(p["esc"], "A\tB");
        assert_eq!(p["empty"], "");
        let m = parse_manifest("A: 1\r\nB: long\r\n  er\r\n\r\nA: 2\r\n");
        assert_eq!(m["A"], "1");
        assert_eq!(m["B"], "long er");
        assert_eq!(split_file_name("spring-boot-3.1.0-SNAPSHOT.jar").unwrap().1, "3.1.0-SNAPSHOT");
        assert_eq!(split_file_name("app.jar"), None);
        assert_eq!(split_file_name("-1.0.jar"), None);
    }

    #[test]
    fn wants_extensions() {
        let meta = |path| FileMeta { path, size: 1000, mode: 0o644, layer: None };
        for p in ["a.jar", "x/b.WAR", "c.ear", "d.jpi", "e.hpi", "f.par"] {
            assert!(JavaArchive.wants(&meta(p)), "{p}");
        }
        for p in ["a.zip", "jar", ".jar", "a.jar.sha1"] {
            assert!(!JavaArchive.wants(&meta(p)), "{p}");
        }
    }

    /// Real jars from Debian packages (`apt-get install liblog4j2-java`; guava and commons-io come with
    /// maven). Skipped when absent.
    #[test]
    fn debian_jars_if_present() {
        let cases = [
            ("/usr/share/java/log4j-core.jar", "org.apache.logging.log4j:log4j-core"),
            ("/usr/share/java/guava.jar", "com.google.guava:guava"),
            ("/usr/share/java/commons-io.jar", "commons-io:commons-io"),
        ];
        let mut seen = 0;
        for (path, name) in cases {
            let Ok(data) = std::fs::read(path) else {
                println!("skipped: {path} not installed");
                continue;
            };
            let out = parse_at(path.trim_start_matches('/'), &data).unwrap();
            let p =
                out.packages.iter().find(|p| p.name == name).unwrap_or_else(|| panic!("{name} in {path}"));
            assert!(p.version.chars().next().is_some_and(|c| c.is_ascii_digit()), "{}", p.version);
            seen += 1;
        }
        println!("{seen} Debian jars checked");
    }
}

#[cfg(test)]
mod probe_tests {
    use super::*;
    use palisade_artifact::Content;

    /// Reading a jar through positioned reads gives what reading it whole gives, nested jars included.
    #[test]
    fn probe_parse_equals_whole_parse() {
        let inner = {
            let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
            let o = zip::write::SimpleFileOptions::default();
            w.start_file("META-INF/maven/org.x/inner/pom.properties", o).unwrap();
            std::io::Write::write_all(&mut w, b"groupId=org.x\nartifactId=inner\nversion=1.0\n").unwrap();
            w.finish().unwrap().into_inner()
        };
        let outer = {
            let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
            let o = zip::write::SimpleFileOptions::default();
            w.start_file("META-INF/maven/org.x/app/pom.properties", o).unwrap();
            std::io::Write::write_all(&mut w, b"groupId=org.x\nartifactId=app\nversion=2.0\n").unwrap();
            w.start_file("WEB-INF/lib/inner-1.0.jar", o).unwrap();
            std::io::Write::write_all(&mut w, &inner).unwrap();
            w.finish().unwrap().into_inner()
        };
        let meta = FileMeta { path: "srv/app.war", size: outer.len() as u64, mode: 0o644, layer: None };
        let mut whole = Output::default();
        JavaArchive.parse(&Input { path: "srv/app.war", layer: None, data: &outer }, &mut whole).unwrap();
        let mut probed = Output::default();
        JavaArchive.parse_probe(&meta, &Content::bytes(&outer), &mut probed).unwrap().unwrap();
        assert_eq!(whole.packages.len(), 2);
        assert_eq!(probed.packages, whole.packages);
        let mut bad = Output::default();
        assert!(JavaArchive.parse_probe(&meta, &Content::bytes(b"not a zip"), &mut bad).unwrap().is_err());
    }
}
