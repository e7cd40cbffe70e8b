//! NuGet: the licence of the `.nuspec` of packages found in the tree, for the NuGet packages of the same id
//! and version (lockfiles, `*.deps.json` and `project.assets.json` carry none).
//!
//! Restored packages live in the global packages folder (`~/.nuget/packages/<id>/<version>/<id>.nuspec`, ids
//! in lower case) or in the other package folders a `project.assets.json` lists (`packageFolders`, with
//! each library's `path` `<id>/<version>` under them): every `<id>/<version>/<id>.nuspec` of the tree is
//! read, whichever folder it is in. From its `<metadata>`: `<license type="expression">` is the SPDX
//! expression; `<license type="file">` names a licence file of the package, matched as a licence text by
//! the sink; the deprecated `<licenseUrl>` is mapped when it is a well-known address
//! (`licenses.nuget.org/<expression>`, the .NET repositories' licence files, the URLs of
//! [`crate::normalize`]) and kept as written otherwise.

use quick_xml::events::Event;
use serde::{Deserialize, Serialize};

/// What a package declares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NuspecLicense {
    pub id: String,
    pub version: String,
    /// The licence: the expression, or the `licenseUrl` (mapped when known).
    pub license: Option<String>,
    /// `<license type="file">`: a file of the package.
    pub license_file: Option<String>,
}

/// Is `path` a package's `.nuspec` in a package folder (`<id>/<version>/<id>.nuspec`)?
pub fn is_nuspec(path: &str) -> bool {
    let Some(stem) = path.strip_suffix(".nuspec") else { return false };
    let mut parts = stem.rsplit('/');
    let (Some(file), Some(_version), Some(id)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    file.eq_ignore_ascii_case(id)
}

/// Well-known licence URLs of NuGet packages that name one licence.
const KNOWN_URLS: &[(&str, &str)] = &[
    ("github.com/dotnet/corefx/blob/master/license.txt", "MIT"),
    ("github.com/dotnet/runtime/blob/main/license.txt", "MIT"),
    ("github.com/dotnet/runtime/blob/master/license.txt", "MIT"),
    ("github.com/dotnet/aspnetcore/blob/main/license.txt", "MIT"),
    ("github.com/dotnet/efcore/blob/main/license.txt", "MIT"),
    ("github.com/aspnet/home/blob/master/license.txt", "Apache-2.0"),
    ("raw.github.com/jamesnk/newtonsoft.json/master/license.md", "MIT"),
    ("github.com/jamesnk/newtonsoft.json/blob/master/license.md", "MIT"),
];

/// The licence a `licenseUrl` names: `licenses.nuget.org/<expression>` (URL-encoded), one of
/// [`KNOWN_URLS`], else the URL as written (the normaliser maps `opensource.org`, `apache.org`, ...).
/// `None` for `aka.ms/deprecateLicenseUrl`, which NuGet writes beside a `<license>` element.
pub fn license_of_url(url: &str) -> Option<String> {
    let lower = url.trim().to_ascii_lowercase();
    let rest = lower.strip_prefix("https://").or_else(|| lower.strip_prefix("http://")).unwrap_or(&lower);
    let rest = rest.strip_prefix("www.").unwrap_or(rest).trim_end_matches('/');
    if rest == "aka.ms/deprecatelicenseurl" {
        return None;
    }
    if let Some(at) = url.to_ascii_lowercase().find("licenses.nuget.org/") {
        let expr = percent_decode(&url.trim()[at + "licenses.nuget.org/".len()..]);
        let expr = expr.trim_matches('/').trim();
        return (!expr.is_empty()).then(|| expr.to_string());
    }
    if let Some((_, id)) = KNOWN_URLS.iter().find(|(u, _)| *u == rest) {
        return Some(id.to_string());
    }
    Some(url.trim().to_string()).filter(|u| !u.is_empty())
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let Some(v) = s.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
        } else {
            out.push(if b[i] == b'+' { b' ' } else { b[i] });
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Read a `.nuspec`. `Ok(None)` when it has no id and version or declares no licence; an error naming the
/// byte offset for malformed XML.
pub fn parse(text: &str) -> Result<Option<NuspecLicense>, String> {
    let mut reader = quick_xml::Reader::from_str(text);
    let mut path: Vec<String> = Vec::new();
    let (mut id, mut version, mut url, mut expr, mut file) = (None, None, None, None, None);
    let mut license_type = String::new();
    let mut value = String::new();
    loop {
        let event = reader
            .read_event()
            .map_err(|e| format!("invalid XML at byte {}: {e}", reader.buffer_position()))?;
        match event {
            Event::Start(e) => {
                let name = e.local_name().as_ref().to_string();
                if name == "license" {
                    license_type = e
                        .attributes()
                        .flatten()
                        .find(|a| a.key.local_name().as_ref() == "type")
                        .map(|a| a.value.to_ascii_lowercase())
                        .unwrap_or_default();
                }
                path.push(name);
                value.clear();
                if path.len() > 64 {
                    return Err("elements nested deeper than 64 levels".into());
                }
            }
            Event::End(_) => {
                let in_metadata = path.len() == 3 && path[0] == "package" && path[1] == "metadata";
                let v = std::mem::take(&mut value).trim().to_string();
                if in_metadata && !v.is_empty() {
                    match path[2].as_str() {
                        "id" => id = Some(v),
                        "version" => version = Some(v),
                        "licenseUrl" => url = Some(v),
                        "license" if license_type == "file" => file = Some(v),
                        "license" => expr = Some(v),
                        _ => {}
                    }
                }
                path.pop();
            }
            Event::Text(t) => value.push_str(&t.xml10_content()),
            Event::CData(t) => value.push_str(t.as_ref()),
            Event::GeneralRef(r) => {
                let raw: &str = &r;
                if let Ok(v) = quick_xml::escape::unescape(&format!("&{raw};")) {
                    value.push_str(&v);
                }
            }
            Event::Eof => break,
            _ => {}
        }
        if value.len() > 1 << 20 {
            return Err(format!("text of <{}> over 1 MiB", path.join("/")));
        }
    }
    let (Some(id), Some(version)) = (id, version) else { return Ok(None) };
    let license = expr.or_else(|| url.as_deref().and_then(license_of_url));
    if license.is_none() && file.is_none() {
        return Ok(None);
    }
    Ok(Some(NuspecLicense { id, version, license, license_file: file }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nuspec_licences() {
        let n = parse(include_str!("../tests/fixtures/nuget/newtonsoft.json.nuspec")).unwrap().unwrap();
        assert_eq!(n.id, "Newtonsoft.Json");
        assert_eq!(n.version, "13.0.3");
        assert_eq!(n.license.as_deref(), Some("MIT"));
        let old = "<?xml version=\"1.0\"?><package xmlns=\"http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd\">\
                   <metadata><id>System.Buffers</id><version>4.5.1</version>\
                   <licenseUrl>https://github.com/dotnet/corefx/blob/master/LICENSE.TXT</licenseUrl></metadata></package>";
        assert_eq!(parse(old).unwrap().unwrap().license.as_deref(), Some("MIT"));
        let file = "<package><metadata><id>X</id><version>1.0.0</version><license type=\"file\">docs/LICENSE.txt</license>\
                    <licenseUrl>https://aka.ms/deprecateLicenseUrl</licenseUrl></metadata></package>";
        let f = parse(file).unwrap().unwrap();
        assert_eq!((f.license, f.license_file.as_deref()), (None, Some("docs/LICENSE.txt")));
        assert_eq!(
            parse("<package><metadata><id>X</id><version>1</version></metadata></package>").unwrap(),
            None
        );
        assert!(parse("<package><metadata><id>X</id></version>").unwrap_err().starts_with("invalid XML"));
    }

    #[test]
    fn licence_urls() {
        assert_eq!(license_of_url("https://licenses.nuget.org/MIT").as_deref(), Some("MIT"));
        assert_eq!(
            license_of_url("https://licenses.nuget.org/(MIT%20OR%20Apache-2.0)").as_deref(),
            Some("(MIT OR Apache-2.0)")
        );
        assert_eq!(license_of_url("https://aka.ms/deprecateLicenseUrl"), None);
        assert_eq!(
            license_of_url("http://www.apache.org/licenses/LICENSE-2.0").as_deref(),
            Some("http://www.apache.org/licenses/LICENSE-2.0")
        );
    }

    #[test]
    fn where_nuspecs_are() {
        assert!(is_nuspec("root/.nuget/packages/newtonsoft.json/13.0.3/newtonsoft.json.nuspec"));
        assert!(is_nuspec("usr/share/dotnet/packs/x/1.0/X.nuspec"));
        assert!(!is_nuspec("src/app/app.nuspec"));
        assert!(!is_nuspec("app.nuspec"));
    }
}
