//! Kubernetes `Secret` manifests: finds the values under `data:` and `stringData:` of the YAML document
//! around a `kind: Secret` line, without a YAML parser (works on templated and partly broken manifests).
//!
//! Only direct entries are reported; empty values (`""`, `''`, nothing), Helm/Go templates (`{{ ... }}`)
//! and shell/ESO placeholders (`${...}`) are skipped, as are values of 8 characters or fewer after
//! decoding the quotes (base64 of at most 6 bytes).

use memchr::memmem;

/// Half-size of the region searched for the document around a hit.
const MAX_DOC: usize = 64 * 1024;

/// Document bounds (`---` separators) around `pos`.
pub fn document_bounds(data: &[u8], pos: usize) -> (usize, usize) {
    let lo = pos.saturating_sub(MAX_DOC);
    let hi = pos.saturating_add(MAX_DOC).min(data.len());
    let before = data.get(lo..pos).unwrap_or_default();
    let start = memmem::rfind(before, b"\n---").map(|i| lo + i + 1).unwrap_or(lo);
    let after = data.get(pos..hi).unwrap_or_default();
    let end = memmem::find(after, b"\n---").map(|i| pos + i + 1).unwrap_or(hi);
    (start, end)
}

fn indent_of(line: &[u8]) -> usize {
    line.iter().take_while(|&&b| b == b' ' || b == b'\t').count()
}

/// Is the line `kind: Secret` exactly (any quoting, any case)?
fn is_secret_kind(line: &[u8]) -> bool {
    let t = trim(line);
    let Some(rest) = t.strip_prefix(b"kind:") else { return false };
    let v = unquote(trim(strip_comment(rest)));
    v.eq_ignore_ascii_case(b"secret")
}

fn trim(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(s.len());
    let end = s.iter().rposition(|b| !b.is_ascii_whitespace()).map_or(start, |e| e + 1);
    s.get(start..end.max(start)).unwrap_or_default()
}

fn strip_comment(s: &[u8]) -> &[u8] {
    match memmem::find(s, b" #") {
        Some(i) => s.get(..i).unwrap_or(s),
        None => s,
    }
}

fn unquote(s: &[u8]) -> &[u8] {
    if s.len() >= 2 {
        let (f, l) = (s.first().copied(), s.last().copied());
        if f == l && matches!(f, Some(b'"') | Some(b'\'')) {
            return s.get(1..s.len() - 1).unwrap_or_default();
        }
    }
    s
}

/// Spans (absolute byte ranges) of the secret values of the Secret document containing `pos`.
/// Returns the document start too, so callers can process each document once.
pub fn secret_values(data: &[u8], pos: usize) -> (usize, Vec<(usize, usize)>) {
    let (start, end) = document_bounds(data, pos);
    let doc = data.get(start..end).unwrap_or_default();
    // Split into lines with absolute offsets.
    let mut lines: Vec<(usize, &[u8])> = Vec::new();
    let mut off = 0;
    for l in doc.split(|&b| b == b'\n') {
        lines.push((start + off, l));
        off += l.len() + 1;
    }
    let mut out = Vec::new();
    if !lines.iter().any(|(_, l)| is_secret_kind(l)) {
        return (start, out);
    }
    let mut i = 0;
    while i < lines.len() {
        let Some(&(_, line)) = lines.get(i) else { break };
        let t = trim(line);
        let is_data = t.starts_with(b"data:") || t.starts_with(b"stringData:");
        let head_rest =
            t.splitn(2, |&b| b == b':').nth(1).map(|r| trim(strip_comment(r))).unwrap_or_default();
        if !is_data || !head_rest.is_empty() {
            i += 1;
            continue;
        }
        let data_indent = indent_of(line);
        let mut entry_indent: Option<usize> = None;
        i += 1;
        while let Some(&(abs, l)) = lines.get(i) {
            let tl = trim(l);
            if tl.is_empty() || tl.starts_with(b"#") {
                i += 1;
                continue;
            }
            let ind = indent_of(l);
            if ind <= data_indent {
                break;
            }
            match entry_indent {
                None => entry_indent = Some(ind),
                Some(e) if ind > e => {
                    // continuation of a block scalar handled below
                    i += 1;
                    continue;
                }
                Some(_) => {}
            }
            i += 1;
            let Some(colon) = memchr::memchr(b':', tl) else { continue };
            let raw_val = tl.get(colon + 1..).unwrap_or_default();
            let val = trim(strip_comment(raw_val));
            let (vabs, v) = if val == b"|" || val == b">" || val == b"|-" || val == b">-" {
                // Block scalar: the value is the next, more indented line.
                match lines.get(i) {
                    Some(&(nabs, nl)) if indent_of(nl) > ind => {
                        let nt = trim(nl);
                        (nabs + indent_of(nl), nt)
                    }
                    _ => continue,
                }
            } else {
                let inner = unquote(val);
                // absolute offset of the value inside the line
                let rel = memmem::find(l, inner).unwrap_or(0);
                (abs + rel, inner)
            };
            if v.len() <= 8
                || v.starts_with(b"{{")
                || v.starts_with(b"${")
                || memmem::find(v, b"{{").is_some()
            {
                continue;
            }
            out.push((vabs, vabs + v.len()));
        }
    }
    (start, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(doc: &str) -> Vec<String> {
        let pos = doc.find("kind").unwrap_or(0);
        let (_, spans) = secret_values(doc.as_bytes(), pos);
        spans.iter().map(|&(s, e)| doc.get(s..e).unwrap_or("?").to_string()).collect()
    }

    #[test]
    fn finds_data_and_string_data() {
        let doc = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: x\ndata:\n  password: UyFCXCpkJHpEc2I9\n  user: YWRtaW4=\nstringData:\n  token: \"abcdefghij\"\n";
        // `YWRtaW4=` (6 bytes) is below the length floor.
        assert_eq!(values(doc), vec!["UyFCXCpkJHpEc2I9", "abcdefghij"]);
    }

    #[test]
    fn block_scalar_and_order() {
        let doc = "apiVersion: v1\ndata:\n  .dockercfg: |\n    eyJhdXRocyI6e30K\nkind: Secret\n";
        assert_eq!(values(doc), vec!["eyJhdXRocyI6e30K"]);
    }

    #[test]
    fn skips_templates_empty_and_other_kinds() {
        let doc = "kind: Secret\ndata:\n  a: {{ .Values.x }}\n  b: \"\"\n  c:\n";
        assert!(values(doc).is_empty());
        let cm = "kind: ConfigMap\ndata:\n  password: UyFCXCpkJHpEc2I9\n";
        assert!(values(cm).is_empty());
        let es = "kind: ExternalSecret\nspec:\n  data:\n  - secretKey: password\n";
        assert!(values(es).is_empty());
    }

    #[test]
    fn separate_documents() {
        let doc =
            "kind: Secret\ndata:\n  a: c2VjcmV0c2VjcmV0\n---\nkind: ConfigMap\ndata:\n  b: bm90c2VjcmV0\n";
        assert_eq!(values(doc), vec!["c2VjcmV0c2VjcmV0"]);
    }
}
