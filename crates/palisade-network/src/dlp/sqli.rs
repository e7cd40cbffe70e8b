//! SQL injection signatures, matched case-insensitively on the percent-decoded text (libinjection-like
//! in spirit: each signature is a token sequence that benign requests do not contain, rather than a single
//! keyword). The set:
//!
//! | signature | matches |
//! |---|---|
//! | `tautology` | a quote or digit closing a value, then `OR`/`AND` and an always-true comparison (`' OR '1'='1`, `1 or 1=1`) |
//! | `union-select` | `UNION [ALL|DISTINCT] SELECT` (also with `/**/` comments between) |
//! | `stacked-query` | `;` then `DROP`/`DELETE`/`INSERT`/`UPDATE`/`SHUTDOWN`/`EXEC`/`ALTER`/`CREATE`/`TRUNCATE` |
//! | `comment-terminator` | a quote, optional `)`, then `--`, `#` or `/*` (ending the query early) |
//! | `time-delay` | `SLEEP(n)`, `BENCHMARK(`, `PG_SLEEP(`, `WAITFOR DELAY` |
//! | `schema-probe` | `INFORMATION_SCHEMA`, `@@VERSION`, `PG_CATALOG`, `SQLITE_MASTER`, `SYSOBJECTS` |
//! | `file-access` | `LOAD_FILE(`, `INTO OUTFILE`/`DUMPFILE` |
//!
//! Previews show the matched text (escaped, at most 48 bytes): attack strings are not personal data.

use super::{Kind, Pattern, Sensor, SensorId, snippet};

pub const SENSOR: Sensor = Sensor {
    id: SensorId::Sqli,
    title: "SQL injection",
    doc: "tautology, UNION SELECT, stacked query, comment terminator, time delay, schema probe, file access",
    kind: Kind::Waf(&[
        Pattern {
            name: "tautology",
            regex: r#"['"0-9)]\s*\b(?:or|and)\b\s*(?:'[0-9a-z]+'\s*=\s*'[0-9a-z]+|"[0-9a-z]+"\s*=\s*"[0-9a-z]+|[0-9]+\s*=\s*[0-9]+|true\b)"#,
            confirm: snippet,
        },
        Pattern {
            name: "union-select",
            regex: r"\bunion(?:\s|/\*.*?\*/)+(?:all(?:\s|/\*.*?\*/)+|distinct\s+)?select\b",
            confirm: snippet,
        },
        Pattern {
            name: "stacked-query",
            regex: r";\s*(?:drop|delete|insert|update|shutdown|exec|alter|create|truncate)\s",
            confirm: snippet,
        },
        Pattern { name: "comment-terminator", regex: r"'\s*\)*\s*(?:--|#|/\*)", confirm: snippet },
        Pattern {
            name: "time-delay",
            regex: r"\b(?:sleep\s*\(\s*[0-9]|benchmark\s*\(|pg_sleep\s*\(|waitfor\s+delay\b)",
            confirm: snippet,
        },
        Pattern {
            name: "schema-probe",
            regex: r"\binformation_schema\b|@@version\b|\bpg_catalog\b|\bsqlite_master\b|\bsysobjects\b",
            confirm: snippet,
        },
        Pattern {
            name: "file-access",
            regex: r"\bload_file\s*\(|\binto\s+(?:out|dump)file\b",
            confirm: snippet,
        },
    ]),
};

#[cfg(test)]
mod tests {
    use super::super::{Dlp, SensorId};

    fn hits(s: &str) -> Vec<String> {
        let dlp = Dlp::new(&[SensorId::Sqli]).unwrap();
        dlp.scan(s.as_bytes()).into_iter().map(|f| f.signature).collect()
    }

    #[test]
    fn classic_injections() {
        assert_eq!(hits("GET /item?id=1' OR '1'='1 HTTP/1.1"), ["tautology"]);
        assert_eq!(hits("/item?id=1%20or%201%3D1"), ["tautology"]);
        assert_eq!(hits("id=1 UNION/**/ALL SELECT password FROM users"), ["union-select"]);
        assert_eq!(hits("name=x'; DROP TABLE users;--"), ["stacked-query"]);
        assert_eq!(hits("user=admin'--"), ["comment-terminator"]);
        assert_eq!(hits("id=1 AND SLEEP(5)"), ["time-delay"]);
        assert_eq!(hits("q=select table_name from information_schema.tables"), ["schema-probe"]);
    }

    #[test]
    fn benign_text_is_not_sqli() {
        for ok in [
            "GET /search?q=rock+and+roll HTTP/1.1",
            "the union selected a new president",
            "O'Brien or O'Neil",
            "price=10; delivery=2",
            "SELECT is a keyword; we or they decide",
        ] {
            assert!(hits(ok).is_empty(), "{ok}: {:?}", hits(ok));
        }
    }
}
