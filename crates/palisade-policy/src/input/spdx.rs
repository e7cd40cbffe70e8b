//! SPDX tag-value input (`*.spdx`), in the shape conftest's SPDX parser gives (spdx/tools-golang's
//! tag-value reader, then its document as JSON: the SPDX JSON field names): `spdxVersion`, `dataLicense`,
//! `SPDXID`, `name`, `documentNamespace`, `comment`, `externalDocumentRefs`, `creationInfo`
//! (`creators`, `created`, `licenseListVersion`, `comment`), `packages`, `files`, `snippets`,
//! `hasExtractedLicensingInfos`, `relationships`, `annotations`. `<text>…</text>` values may span lines.
//! A file listed after a package is in `files` and its id in the package's `hasFiles`. An unknown tag, a
//! line that is not `Tag: value`, or an unclosed `<text>` is an error with its line.

use super::InputError;
use serde_json::{Map, Value, json};

/// The section the next tags belong to.
#[derive(Clone, Copy, PartialEq)]
enum Section {
    Document,
    Package,
    File,
    Snippet,
    License,
    Annotation,
    Review,
}

pub fn parse(text: &str) -> Result<Value, InputError> {
    let mut doc = Map::new();
    let mut creation = Map::new();
    let mut packages: Vec<Map<String, Value>> = Vec::new();
    let mut files: Vec<Map<String, Value>> = Vec::new();
    let mut snippets: Vec<Map<String, Value>> = Vec::new();
    let mut licenses: Vec<Map<String, Value>> = Vec::new();
    let mut relationships: Vec<Map<String, Value>> = Vec::new();
    let mut annotations: Vec<Map<String, Value>> = Vec::new();
    let mut reviews: Vec<Map<String, Value>> = Vec::new();
    let mut section = Section::Document;
    let mut file_owner: Option<usize> = None;

    for (line_no, tag, value) in tag_values(text)? {
        let err = |m: String| InputError::new(line_no, 1, m);
        let v = Value::String(value.clone());
        // Tags that open a section.
        match tag.as_str() {
            "PackageName" => {
                section = Section::Package;
                packages.push(Map::new());
                file_owner = Some(packages.len() - 1);
            }
            "FileName" => {
                section = Section::File;
                files.push(Map::new());
            }
            "SnippetSPDXID" => {
                section = Section::Snippet;
                snippets.push(Map::new());
            }
            "LicenseID" => {
                section = Section::License;
                licenses.push(Map::new());
            }
            "Annotator" => {
                section = Section::Annotation;
                annotations.push(Map::new());
            }
            "Reviewer" => {
                section = Section::Review;
                reviews.push(Map::new());
            }
            _ => {}
        }
        let current = |section: Section| section;
        let target: &mut Map<String, Value> = match current(section) {
            Section::Document => &mut doc,
            Section::Package => packages.last_mut().ok_or_else(|| err("no package".into()))?,
            Section::File => files.last_mut().ok_or_else(|| err("no file".into()))?,
            Section::Snippet => snippets.last_mut().ok_or_else(|| err("no snippet".into()))?,
            Section::License => licenses.last_mut().ok_or_else(|| err("no license".into()))?,
            Section::Annotation => annotations.last_mut().ok_or_else(|| err("no annotation".into()))?,
            Section::Review => reviews.last_mut().ok_or_else(|| err("no review".into()))?,
        };
        let push = |m: &mut Map<String, Value>, k: &str, v: Value| match m
            .entry(k.to_string())
            .or_insert_with(|| Value::Array(Vec::new()))
        {
            Value::Array(items) => items.push(v),
            other => *other = Value::Array(vec![v]),
        };
        match tag.as_str() {
            // Document and creation information (any section: tools-golang accepts them anywhere).
            "SPDXVersion" => {
                doc.insert("spdxVersion".into(), v);
            }
            "DataLicense" => {
                doc.insert("dataLicense".into(), v);
            }
            "DocumentName" => {
                doc.insert("name".into(), v);
            }
            "DocumentNamespace" => {
                doc.insert("documentNamespace".into(), v);
            }
            "DocumentComment" => {
                doc.insert("comment".into(), v);
            }
            "ExternalDocumentRef" => {
                let parts: Vec<&str> = value.split_whitespace().collect();
                let [id, uri, alg, sum] = parts.as_slice() else {
                    return Err(err(format!(
                        "ExternalDocumentRef needs an id, a URI and a checksum: {value}"
                    )));
                };
                push(
                    &mut doc,
                    "externalDocumentRefs",
                    json!({"externalDocumentId": id, "spdxDocument": uri,
                    "checksum": {"algorithm": alg.trim_end_matches(':'), "checksumValue": sum}}),
                );
            }
            "Creator" => push(&mut creation, "creators", v),
            "Created" => {
                creation.insert("created".into(), v);
            }
            "CreatorComment" => {
                creation.insert("comment".into(), v);
            }
            "LicenseListVersion" => {
                creation.insert("licenseListVersion".into(), v);
            }
            "Relationship" => {
                let parts: Vec<&str> = value.split_whitespace().collect();
                let [a, kind, b] = parts.as_slice() else {
                    return Err(err(format!("Relationship needs three parts: {value}")));
                };
                let mut r = Map::new();
                r.insert("spdxElementId".into(), json!(a));
                r.insert("relationshipType".into(), json!(kind));
                r.insert("relatedSpdxElement".into(), json!(b));
                relationships.push(r);
            }
            "RelationshipComment" => {
                let r = relationships
                    .last_mut()
                    .ok_or_else(|| err("RelationshipComment before a Relationship".into()))?;
                r.insert("comment".into(), v);
            }
            "SPDXID" => {
                target.insert("SPDXID".into(), v);
                if section == Section::File
                    && let Some(p) = file_owner.and_then(|i| packages.get_mut(i))
                {
                    push(p, "hasFiles", Value::String(value.clone()));
                }
            }
            // Package.
            "PackageName" | "SnippetName" | "LicenseName" => {
                target.insert("name".into(), v);
            }
            "PackageVersion" => {
                target.insert("versionInfo".into(), v);
            }
            "PackageFileName" => {
                target.insert("packageFileName".into(), v);
            }
            "PackageSupplier" => {
                target.insert("supplier".into(), v);
            }
            "PackageOriginator" => {
                target.insert("originator".into(), v);
            }
            "PackageDownloadLocation" => {
                target.insert("downloadLocation".into(), v);
            }
            "FilesAnalyzed" => {
                target.insert("filesAnalyzed".into(), Value::Bool(!value.eq_ignore_ascii_case("false")));
            }
            "PackageVerificationCode" => {
                let (code, excluded) = match value.split_once("(excludes:") {
                    Some((c, e)) => (c.trim(), Some(e.trim_end_matches(')').trim())),
                    None => (value.trim(), None),
                };
                let mut m = Map::new();
                m.insert("packageVerificationCodeValue".into(), json!(code));
                if let Some(e) = excluded {
                    m.insert("packageVerificationCodeExcludedFiles".into(), json!([e]));
                }
                target.insert("packageVerificationCode".into(), Value::Object(m));
            }
            "PackageChecksum" | "FileChecksum" => {
                let Some((alg, sum)) = value.split_once(':') else {
                    return Err(err(format!("{tag} is not ALGORITHM: VALUE: {value}")));
                };
                push(target, "checksums", json!({"algorithm": alg.trim(), "checksumValue": sum.trim()}));
            }
            "PackageHomePage" => {
                target.insert("homepage".into(), v);
            }
            "PackageSourceInfo" => {
                target.insert("sourceInfo".into(), v);
            }
            "PackageLicenseConcluded" | "LicenseConcluded" | "SnippetLicenseConcluded" => {
                target.insert("licenseConcluded".into(), v);
            }
            "PackageLicenseInfoFromFiles" => push(target, "licenseInfoFromFiles", v),
            "PackageLicenseDeclared" => {
                target.insert("licenseDeclared".into(), v);
            }
            "PackageLicenseComments" | "LicenseComments" | "SnippetLicenseComments" => {
                target.insert("licenseComments".into(), v);
            }
            "PackageCopyrightText" | "FileCopyrightText" | "SnippetCopyrightText" => {
                target.insert("copyrightText".into(), v);
            }
            "PackageSummary" => {
                target.insert("summary".into(), v);
            }
            "PackageDescription" => {
                target.insert("description".into(), v);
            }
            "PackageComment" | "FileComment" | "SnippetComment" | "LicenseComment" | "AnnotationComment"
            | "ReviewComment" => {
                target.insert("comment".into(), v);
            }
            "ExternalRef" => {
                let parts: Vec<&str> = value.splitn(3, char::is_whitespace).collect();
                let [cat, kind, loc] = parts.as_slice() else {
                    return Err(err(format!("ExternalRef needs a category, a type and a locator: {value}")));
                };
                push(
                    target,
                    "externalRefs",
                    json!({"referenceCategory": cat, "referenceType": kind,
                    "referenceLocator": loc.trim()}),
                );
            }
            "ExternalRefComment" => {
                if let Some(Value::Array(refs)) = target.get_mut("externalRefs")
                    && let Some(Value::Object(r)) = refs.last_mut()
                {
                    r.insert("comment".into(), v);
                }
            }
            "PackageAttributionText" | "FileAttributionText" | "SnippetAttributionText" => {
                push(target, "attributionTexts", v)
            }
            "PrimaryPackagePurpose" => {
                target.insert("primaryPackagePurpose".into(), v);
            }
            "ReleaseDate" => {
                target.insert("releaseDate".into(), v);
            }
            "BuiltDate" => {
                target.insert("builtDate".into(), v);
            }
            "ValidUntilDate" => {
                target.insert("validUntilDate".into(), v);
            }
            // File.
            "FileName" => {
                target.insert("fileName".into(), v);
            }
            "FileType" => push(target, "fileTypes", v),
            "LicenseInfoInFile" => push(target, "licenseInfoInFiles", v),
            "FileNotice" => {
                target.insert("noticeText".into(), v);
            }
            "FileContributor" => push(target, "fileContributors", v),
            // Snippet.
            "SnippetSPDXID" => {
                target.insert("SPDXID".into(), v);
            }
            "SnippetFromFileSPDXID" => {
                target.insert("snippetFromFile".into(), v);
            }
            "SnippetByteRange" | "SnippetLineRange" => push(target, "ranges", v),
            "LicenseInfoInSnippet" => push(target, "licenseInfoInSnippets", v),
            // Other licensing information.
            "LicenseID" => {
                target.insert("licenseId".into(), v);
            }
            "ExtractedText" => {
                target.insert("extractedText".into(), v);
            }
            "LicenseCrossReference" => push(target, "seeAlsos", v),
            // Annotations and reviews.
            "Annotator" => {
                target.insert("annotator".into(), v);
            }
            "AnnotationDate" => {
                target.insert("annotationDate".into(), v);
            }
            "AnnotationType" => {
                target.insert("annotationType".into(), v);
            }
            "SPDXREF" => {
                target.insert("spdxElementId".into(), v);
            }
            "Reviewer" => {
                target.insert("reviewer".into(), v);
            }
            "ReviewDate" => {
                target.insert("reviewDate".into(), v);
            }
            other => return Err(err(format!("unknown SPDX tag {other}"))),
        }
    }
    if !doc.contains_key("spdxVersion") {
        return Err(InputError::new(1, 1, "no SPDXVersion tag: not an SPDX tag-value document"));
    }
    if !creation.is_empty() {
        doc.insert("creationInfo".into(), Value::Object(creation));
    }
    for (key, list) in [
        ("packages", packages),
        ("files", files),
        ("snippets", snippets),
        ("hasExtractedLicensingInfos", licenses),
        ("relationships", relationships),
        ("annotations", annotations),
        ("reviews", reviews),
    ] {
        if !list.is_empty() {
            doc.insert(key.into(), Value::Array(list.into_iter().map(Value::Object).collect()));
        }
    }
    Ok(Value::Object(doc))
}

/// `(line, tag, value)` of each `Tag: value` line; `<text>…</text>` values may span lines.
fn tag_values(text: &str) -> Result<Vec<(usize, String, String)>, InputError> {
    let mut out = Vec::new();
    let mut lines = text.lines().enumerate();
    while let Some((i, line)) = lines.next() {
        let line_no = i + 1;
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let Some((tag, value)) = trimmed.split_once(':') else {
            return Err(InputError::new(line_no, 1, format!("not a Tag: value line: {trimmed}")));
        };
        let value = value.trim();
        let value = if let Some(start) = value.strip_prefix("<text>") {
            let mut buf = start.to_string();
            loop {
                if let Some(end) = buf.find("</text>") {
                    buf.truncate(end);
                    break buf;
                }
                let Some((_, next)) = lines.next() else {
                    return Err(InputError::new(line_no, 1, format!("<text> of {tag} is not closed")));
                };
                buf.push('\n');
                buf.push_str(next);
            }
        } else {
            value.to_string()
        };
        out.push((line_no, tag.trim().to_string(), value));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_values_in_the_spdx_json_shape() {
        let text = "SPDXVersion: SPDX-2.2\nDataLicense: CC0-1.0\nSPDXID: SPDXRef-DOCUMENT\nDocumentName: hello\n\
Creator: Person: Steve\nCreator: Tool: x\nCreated: 2021-08-26T01:46:00Z\n\n##### Package\nPackageName: hello\n\
SPDXID: SPDXRef-Package-hello\nPackageDownloadLocation: git+https://x\nFilesAnalyzed: true\n\
PackageChecksum: SHA1: abc\nExternalRef: PACKAGE-MANAGER purl pkg:generic/hello@1\n\
PackageCopyrightText: <text>Copyright\nSteve</text>\nFileName: /build/hello\nSPDXID: SPDXRef-hello-binary\n\
FileType: BINARY\nRelationship: SPDXRef-DOCUMENT DESCRIBES SPDXRef-Package-hello\n";
        assert_eq!(
            parse(text).expect("spdx"),
            json!({
                "spdxVersion": "SPDX-2.2", "dataLicense": "CC0-1.0", "SPDXID": "SPDXRef-DOCUMENT", "name": "hello",
                "creationInfo": {"creators": ["Person: Steve", "Tool: x"], "created": "2021-08-26T01:46:00Z"},
                "packages": [{"name": "hello", "SPDXID": "SPDXRef-Package-hello", "downloadLocation": "git+https://x",
                    "filesAnalyzed": true, "checksums": [{"algorithm": "SHA1", "checksumValue": "abc"}],
                    "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
                        "referenceLocator": "pkg:generic/hello@1"}],
                    "copyrightText": "Copyright\nSteve", "hasFiles": ["SPDXRef-hello-binary"]}],
                "files": [{"fileName": "/build/hello", "SPDXID": "SPDXRef-hello-binary", "fileTypes": ["BINARY"]}],
                "relationships": [{"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES",
                    "relatedSpdxElement": "SPDXRef-Package-hello"}],
            })
        );
    }

    #[test]
    fn malformed_tag_values_are_errors_with_their_line() {
        let e = parse("SPDXVersion: SPDX-2.2\nBogusTag: x\n").expect_err("unknown tag");
        assert_eq!(e.line, 2, "{e:?}");
        let e = parse("SPDXVersion: SPDX-2.2\nno colon here\n").expect_err("not tag-value");
        assert_eq!(e.line, 2, "{e:?}");
        let e = parse("SPDXVersion: SPDX-2.2\nDocumentComment: <text>open\n").expect_err("open text");
        assert_eq!(e.line, 2, "{e:?}");
        assert!(parse("DataLicense: x\n").is_err());
    }
}
