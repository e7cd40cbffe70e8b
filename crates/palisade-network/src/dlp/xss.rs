//! Cross-site scripting signatures, matched case-insensitively on the percent-decoded text. The set:
//!
//! | signature | matches |
//! |---|---|
//! | `script-tag` | `<script` followed by `>` or whitespace |
//! | `event-handler` | inside a tag, an `on<event>=` attribute (`onerror`, `onload`, `onclick`, `onmouseover`, `onfocus`, … any `on` + letters) |
//! | `js-url` | `javascript:` or `vbscript:` URLs (also with whitespace or entities before the colon) |
//! | `active-tag` | `<iframe`, `<object`, `<embed`, `<svg … on…=`, `<base href`, `<meta http-equiv=refresh` |
//! | `dom-sink` | `document.cookie`, `document.write(`, `eval(`, `String.fromCharCode(` |
//! | `css-expression` | `expression(` in a style |
//!
//! Previews show the matched text (escaped, at most 48 bytes).

use super::{Kind, Pattern, Sensor, SensorId, snippet};

pub const SENSOR: Sensor = Sensor {
    id: SensorId::Xss,
    title: "Cross-site scripting",
    doc: "script tags, on* event handlers in tags, javascript: URLs, active tags, DOM sinks, CSS expressions",
    kind: Kind::Waf(&[
        Pattern { name: "script-tag", regex: r"<\s*script[\s>/]", confirm: snippet },
        Pattern {
            name: "event-handler",
            regex: r"<[a-z][^>]*?[\s/\x22']on[a-z]{3,20}\s*=",
            confirm: snippet,
        },
        Pattern { name: "js-url", regex: r"\b(?:java|vb)script\s*(?::|&colon;|&#0*58;)", confirm: snippet },
        Pattern {
            name: "active-tag",
            regex: r"<\s*(?:iframe|object|embed|applet)\b|<\s*base\s+href|<\s*meta[^>]+http-equiv\s*=\s*\x22?refresh",
            confirm: snippet,
        },
        Pattern {
            name: "dom-sink",
            regex: r"\bdocument\s*\.\s*(?:cookie|write\s*\()|\beval\s*\(|\bstring\s*\.\s*fromcharcode\s*\(",
            confirm: snippet,
        },
        Pattern { name: "css-expression", regex: r"\bexpression\s*\(", confirm: snippet },
    ]),
};

#[cfg(test)]
mod tests {
    use super::super::{Dlp, SensorId};

    fn hits(s: &str) -> Vec<String> {
        let dlp = Dlp::new(&[SensorId::Xss]).unwrap();
        dlp.scan(s.as_bytes()).into_iter().map(|f| f.signature).collect()
    }

    #[test]
    fn classic_payloads() {
        assert_eq!(hits("q=<script>alert(1)</script>"), ["script-tag"]);
        assert_eq!(hits("q=%3CScRiPt%3Ealert(1)%3C/script%3E"), ["script-tag"]);
        assert_eq!(hits(r#"<img src=x onerror=alert(1)>"#), ["event-handler"]);
        assert_eq!(hits(r#"<a href="JaVaScRiPt:alert(1)">"#), ["js-url"]);
        assert_eq!(hits("<iframe src=//evil>"), ["active-tag"]);
        assert_eq!(hits("x=document.cookie"), ["dom-sink"]);
    }

    #[test]
    fn benign_html_and_text() {
        for ok in [
            "<p class=\"note\">one more</p>",
            "the description of the script was long",
            "online=true&onion=1",
            "<a href=\"https://example.com/javascript-guide\">guide</a>",
        ] {
            assert!(hits(ok).is_empty(), "{ok}: {:?}", hits(ok));
        }
    }
}
