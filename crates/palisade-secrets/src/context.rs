//! Where a match stands: documentation, examples and test data.
//!
//! The broad (assignment) rules are the noisy kind: in a library's documentation and tests an assignment
//! with a real-looking value is an example of the shape (`'oauth_token_secret': '2kjshdfp92i34asdasd'` in a
//! docstring, `"NewPassword": "]35d/{pB9Fo9wJ"` in an API's examples, `http://user:pa%2Fssword@host/` in a
//! URL parser's tests). So the broad rules do not report in:
//!
//! - documentation and example files, and test data ([`example_path`]): a path component such as `docs`,
//!   `examples`, `tests`, `testdata`, or a file such as `README.md`, `test_client.py`, `url_test.go`,
//!   `examples-1.json`, a wheel's `METADATA`;
//! - documentation inside source files ([`doc_spans`]): Python docstrings (a triple-quoted string that is
//!   a statement of its own) and Perl POD blocks;
//! - lines that show a command or a session (`$ gcloud ... --admin-password=...`, `>>> Client(secret=...)`)
//!   or introduce an example (`Example api_key='...'`): [`example_line`].
//!
//! Provider rules (a format with a prefix, a checksum or a PEM frame) still report there: a key of a real
//! format in test data is worth knowing about, and `docs/accuracy.md` explains those found in clean trees.
//! `scan_examples = true` in the secrets config turns this off.

/// Directory names that hold documentation, examples or test data.
const EXAMPLE_DIRS: [&str; 17] = [
    "doc",
    "docs",
    "documentation",
    "example",
    "examples",
    "sample",
    "samples",
    "test",
    "tests",
    "testdata",
    "test_data",
    "test-data",
    "testing",
    "__tests__",
    "fixtures",
    "spec",
    "tests_async",
];

/// Extensions of documentation formats.
const DOC_EXTENSIONS: [&str; 7] = ["md", "markdown", "rst", "adoc", "asciidoc", "pod", "rdoc"];

/// File names (up to the first `.`, upper case) of package documentation: READMEs, change logs, a wheel's
/// `METADATA` and an sdist's `PKG-INFO` (which carry the README).
const DOC_NAMES: [&str; 7] = ["README", "CHANGELOG", "CHANGES", "HISTORY", "NEWS", "METADATA", "PKG-INFO"];

/// True when the path is documentation, an example or test data (see the module doc).
pub fn example_path(path: &str) -> bool {
    let mut parts = path.split('/').filter(|p| !p.is_empty()).peekable();
    while let Some(part) = parts.next() {
        let lower = part.to_ascii_lowercase();
        if parts.peek().is_some() {
            // A directory: `tests`, or one named for tests (`zip_sum_test`, `test_utils`).
            if EXAMPLE_DIRS.contains(&lower.as_str())
                || lower.ends_with("_test")
                || lower.ends_with("_tests")
                || lower.starts_with("test_")
            {
                return true;
            }
            continue;
        }
        return example_file(part, &lower);
    }
    false
}

/// The last component of a path: a documentation, example or test file.
fn example_file(name: &str, lower: &str) -> bool {
    let (stem, ext) = lower.rsplit_once('.').unwrap_or((lower, ""));
    let upper_stem = name.split('.').next().unwrap_or(name).to_ascii_uppercase();
    DOC_EXTENSIONS.contains(&ext)
        || DOC_NAMES.contains(&upper_stem.as_str())
        || lower.contains("example")
        // Test files by the conventions of the common test runners.
        || stem.starts_with("test_")
        || stem.ends_with("_test")
        || stem.ends_with("_tests")
        || stem.ends_with(".test")
        || stem.ends_with(".spec")
        || stem.ends_with("_spec")
        || stem == "conftest"
}

/// Byte ranges of documentation inside a source file: Python docstrings (`.py`, `.pyi`) and Perl POD
/// (`.pl`, `.pm`, `.pod`). Empty for other files.
pub fn doc_spans(file_name: &str, data: &[u8]) -> Vec<(usize, usize)> {
    let ext = file_name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    match ext.as_str() {
        "py" | "pyi" => python_docstrings(data),
        "pl" | "pm" | "pod" => perl_pod(data),
        _ => Vec::new(),
    }
}

/// Triple-quoted strings that stand as a statement of their own (the first thing on their line, after an
/// optional `r`/`u`/`b` prefix): docstrings. A triple-quoted string assigned or passed (`SQL = """...`) is
/// data and not included. Comments and one-line strings are skipped so that quotes in them do not count.
fn python_docstrings(data: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut i = 0usize;
    // Offset of the first non-blank byte of the current line, if any yet.
    let mut first: Option<usize> = None;
    while let Some(&b) = data.get(i) {
        match b {
            b'\n' => {
                first = None;
                i += 1;
            }
            b' ' | b'\t' | b'\r' => i += 1,
            b'#' => {
                i = memchr::memchr(b'\n', data.get(i..).unwrap_or_default()).map_or(data.len(), |n| i + n)
            }
            b'"' | b'\'' => {
                let start = *first.get_or_insert(i);
                let triple = data.get(i..i + 3) == Some(&[b, b, b][..]);
                let end =
                    if triple { string_end(data, i + 3, b, true) } else { string_end(data, i + 1, b, false) };
                let prefix = data.get(start..i).unwrap_or_default();
                if triple && prefix.len() <= 2 && prefix.iter().all(|c| b"rRuUbB".contains(c)) {
                    out.push((i, end));
                }
                i = end;
            }
            _ => {
                first.get_or_insert(i);
                i += 1;
            }
        }
    }
    out
}

/// The offset just past the string that started before `from` and is closed by `q` (three of them when
/// `triple`); a backslash escapes the next byte; a one-line string also ends at a newline.
fn string_end(data: &[u8], from: usize, q: u8, triple: bool) -> usize {
    let mut i = from;
    while let Some(&b) = data.get(i) {
        match b {
            b'\\' => i += 2,
            b'\n' if !triple => return i,
            _ if b == q && (!triple || data.get(i..i + 3) == Some(&[q, q, q][..])) => {
                return i + if triple { 3 } else { 1 };
            }
            _ => i += 1,
        }
    }
    data.len()
}

/// Perl POD: from a line starting with `=` and a letter (`=head1`, `=pod`, `=item`) to the line `=cut`.
fn perl_pod(data: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut open: Option<usize> = None;
    let mut pos = 0usize;
    for line in data.split(|&b| b == b'\n') {
        let directive = line.first() == Some(&b'=') && line.get(1).is_some_and(u8::is_ascii_alphabetic);
        match open {
            None if directive && !line.starts_with(b"=cut") => open = Some(pos),
            Some(start) if line.starts_with(b"=cut") => {
                out.push((start, pos + line.len()));
                open = None;
            }
            _ => {}
        }
        pos += line.len() + 1;
    }
    if let Some(start) = open {
        out.push((start, data.len()));
    }
    out
}

/// The start of the command a line belongs to: the first of the lines before it that end in a shell
/// continuation `\` (a `$ cmd \` example spread over several lines).
pub fn command_start(data: &[u8], line_start: usize) -> usize {
    let mut start = line_start;
    while start > 0 {
        let prev = data.get(..start - 1).unwrap_or_default();
        let prev_start = memchr::memrchr(b'\n', prev).map_or(0, |i| i + 1);
        let text = prev.get(prev_start..).unwrap_or_default().trim_ascii_end();
        if !text.ends_with(b"\\") {
            break;
        }
        start = prev_start;
    }
    start
}

/// True when the line shows an example: a shell or REPL prompt starts it (`$ cmd --password=...`,
/// `>>> f(token=...)`, `... token=...`), or the words `example` or `e.g.` come before the match on it.
/// `before` is the line's text before the match.
pub fn example_line(line: &[u8], before: &[u8]) -> bool {
    let trimmed = line.trim_ascii_start();
    // Comment markers a documented example may stand behind (`# $ export ...`, `// >>> ...`).
    let trimmed = trimmed.strip_prefix(b"#").or_else(|| trimmed.strip_prefix(b"//")).unwrap_or(trimmed);
    let trimmed = trimmed.trim_ascii_start();
    if trimmed.starts_with(b"$ ") || trimmed.starts_with(b">>> ") || trimmed.starts_with(b"... ") {
        return true;
    }
    let lower = before.to_ascii_lowercase();
    memchr::memmem::find(&lower, b"example").is_some() || memchr::memmem::find(&lower, b"e.g.").is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_paths() {
        for p in [
            "awscli/examples/iam/change-password.rst",
            "botocore/data/iam/2010-05-08/examples-1.json",
            "lib/third_party/kubernetes/config/kube_config_test.py",
            "src/net/url/url_test.go",
            "go/src/cmd/go/internal/modfetch/zip_sum_test/testdata/zip_sums.csv",
            "websocket/tests/test_url.py",
            "usr/share/doc/python3-pip/html/topics/authentication.md",
            "pyjwt-2.15.1.dist-info/METADATA",
            "PyJWT-2.6.0.egg-info/PKG-INFO",
            "node_modules/@npmcli/arborist/README.md",
            "web/src/login.spec.ts",
        ] {
            assert!(example_path(p), "{p}");
        }
        for p in [
            "app/config/settings.py",
            ".env",
            "deploy/values.yaml",
            "src/contest.py",
            "latest/config.json",
            "attestation/token.txt",
            "testimonials.yaml",
        ] {
            assert!(!example_path(p), "{p}");
        }
    }

    #[test]
    fn python_docstrings_only() {
        let src = "def f():\n    \"\"\"Use it:\n    >>> f(token='abc')\n    \"\"\"\n    SQL = \"\"\"select 1\"\"\"\n    s = '\"\"\"'  # \"\"\" in a comment\n    r'''raw doc'''\n";
        let spans = doc_spans("m.py", src.as_bytes());
        let texts: Vec<&str> = spans.iter().map(|&(s, e)| &src[s..e]).collect();
        assert_eq!(texts, vec!["\"\"\"Use it:\n    >>> f(token='abc')\n    \"\"\"", "'''raw doc'''"]);
        assert!(doc_spans("m.rs", src.as_bytes()).is_empty());
    }

    #[test]
    fn perl_pod_blocks() {
        let src = "my $x = 1;\n=head1 NAME\n\n password => 'geheim'\n\n=cut\nmy $y = 2;\n";
        let spans = doc_spans("Mod.pm", src.as_bytes());
        assert_eq!(spans.len(), 1);
        let (s, e) = spans[0];
        assert!(src[s..e].contains("geheim") && !src[s..e].contains("$y"));
    }

    #[test]
    fn example_lines() {
        assert!(example_line(
            b"   $ gcloud db create --admin-password=123Abpassdord",
            b"   $ gcloud db create --"
        ));
        assert!(example_line(b">>> Client(secret='x')", b">>> Client("));
        assert!(example_line(b"\"Example api_key='d5345c0e'\"", b"\"Example "));
        assert!(!example_line(b"API_KEY = 'd5345c0ecc68ae62'", b""));
        assert!(!example_line(b"export TOKEN=abc # see example below", b"export "));
    }

    #[test]
    fn continued_commands() {
        let text =
            b"examples: |\n  $ {command} db \\\n      --admin-password=123Abpassdord \\\n      --x=1\n";
        let third = text.iter().enumerate().filter(|(_, b)| **b == b'\n').nth(2).map(|(i, _)| i + 1);
        let second = text.iter().position(|b| *b == b'\n').map(|i| i + 1);
        let (Some(third), Some(second)) = (third, second) else { panic!("fixture lines") };
        assert_eq!(command_start(text, third), second);
        assert_eq!(command_start(text, second), second);
    }
}
