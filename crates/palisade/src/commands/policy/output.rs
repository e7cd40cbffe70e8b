//! `policy eval` output, written as objects are evaluated.
//!
//! The driver ([`Stream`]) hands each evaluated object's decisions to a [`Sink`], in input order, and
//! drops them: the command holds only the counts the summary and the exit code need. `table` prints its rows
//! in chunks of [`TABLE_CHUNK`], `json` writes each decision into the `decisions` array as it comes (the
//! `errors` array follows it), `jsonl` writes one decision a line, and `sarif` its `results` array (the rule
//! list, a set of ids, follows). `junit` needs its failure count before the first test case, so it keeps a
//! compact line per object (name, failures, warnings as text), never the decisions' JSON.

use super::action_name;
use anyhow::Result;
use palisade_policy::engine::{Action, Decision, ObjectRef, Outcome};
use serde_json::json;
use std::collections::BTreeSet;
use std::io::Write;

/// Rows of one `table` chunk.
pub const TABLE_CHUNK: usize = 500;

/// Counts kept while streaming: what the summary line and the exit code need.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counts {
    pub inputs: usize,
    pub deny: usize,
    pub warn: usize,
    pub audit: usize,
    pub errors: usize,
}

impl Counts {
    fn add(&mut self, d: &Decision) {
        match (d.outcome, d.action) {
            (Outcome::Error, _) => self.errors += 1,
            (_, Action::Deny) => self.deny += 1,
            (_, Action::Warn) => self.warn += 1,
            (_, Action::Audit) => self.audit += 1,
        }
    }
}

/// Where one format writes.
pub trait Sink {
    /// The decisions about one object (possibly none), in input order.
    fn object(&mut self, object: &ObjectRef, decisions: &[Decision]) -> Result<()>;
    /// Close the document: `problems` are the inputs and policies that did not load.
    fn finish(&mut self, counts: &Counts, policies: usize, problems: &[String]) -> Result<()>;
}

fn failing(d: &Decision) -> bool {
    d.outcome == Outcome::Error || d.action == Action::Deny
}

/// `ACTION POLICY RULE OBJECT MESSAGE` tables of at most [`TABLE_CHUNK`] rows, then the summary line.
pub struct Table<W: Write> {
    pub w: W,
    rows: Vec<[String; 5]>,
}

impl<W: Write> Table<W> {
    pub fn new(w: W) -> Self {
        Table { w, rows: Vec::new() }
    }

    fn flush_rows(&mut self) -> Result<()> {
        if self.rows.is_empty() {
            return Ok(());
        }
        let mut table = comfy_table::Table::new();
        table
            .load_style(comfy_table::presets::UTF8_FULL_CONDENSED)
            .set_content_arrangement(comfy_table::ContentArrangement::Dynamic);
        table.set_header(["ACTION", "POLICY", "RULE", "OBJECT", "MESSAGE"]);
        for r in self.rows.drain(..) {
            table.add_row(r);
        }
        writeln!(self.w, "{table}")?;
        Ok(())
    }
}

impl<W: Write> Sink for Table<W> {
    fn object(&mut self, object: &ObjectRef, decisions: &[Decision]) -> Result<()> {
        for d in decisions {
            let action = if d.outcome == Outcome::Error { "error" } else { action_name(d.action) };
            self.rows.push([
                action.to_string(),
                d.policy.clone(),
                d.rule.clone(),
                object.to_string(),
                d.message.clone(),
            ]);
            if self.rows.len() >= TABLE_CHUNK {
                self.flush_rows()?;
            }
        }
        Ok(())
    }

    fn finish(&mut self, c: &Counts, policies: usize, _: &[String]) -> Result<()> {
        self.flush_rows()?;
        writeln!(
            self.w,
            "{} inputs, {policies} policies: {} denied, {} warnings, {} audit, {} errors",
            c.inputs, c.deny, c.warn, c.audit, c.errors
        )?;
        Ok(())
    }
}

/// `{"bundle": …, "decisions": [ … ], "errors": [ … ]}`, one decision a line.
pub struct Json<W: Write> {
    w: W,
    first: bool,
}

impl<W: Write> Json<W> {
    pub fn new(mut w: W, name: &str, version: &str) -> Result<Self> {
        write!(w, "{{\n  \"bundle\": {},\n  \"decisions\": [", json!({"name": name, "version": version}))?;
        Ok(Json { w, first: true })
    }
}

impl<W: Write> Sink for Json<W> {
    fn object(&mut self, _: &ObjectRef, decisions: &[Decision]) -> Result<()> {
        for d in decisions {
            self.w.write_all(if self.first { b"\n    " } else { b",\n    " })?;
            serde_json::to_writer(&mut self.w, d)?;
            self.first = false;
        }
        Ok(())
    }

    fn finish(&mut self, _: &Counts, _: usize, problems: &[String]) -> Result<()> {
        let close = if self.first { "]" } else { "\n  ]" };
        writeln!(self.w, "{close},\n  \"errors\": {}\n}}", serde_json::to_string(problems)?)?;
        Ok(())
    }
}

/// One decision a line (JSON Lines); nothing else on stdout.
pub struct JsonLines<W: Write>(pub W);

impl<W: Write> Sink for JsonLines<W> {
    fn object(&mut self, _: &ObjectRef, decisions: &[Decision]) -> Result<()> {
        for d in decisions {
            serde_json::to_writer(&mut self.0, d)?;
            self.0.write_all(b"\n")?;
        }
        Ok(())
    }

    fn finish(&mut self, _: &Counts, _: usize, _: &[String]) -> Result<()> {
        self.0.flush()?;
        Ok(())
    }
}

/// SARIF 2.1.0: results streamed, then the tool with the rule ids seen.
pub struct Sarif<W: Write> {
    w: W,
    rules: BTreeSet<String>,
    first: bool,
}

impl<W: Write> Sarif<W> {
    pub fn new(mut w: W) -> Result<Self> {
        write!(
            w,
            "{{\n  \"$schema\": \"https://json.schemastore.org/sarif-2.1.0.json\",\n  \"version\": \"2.1.0\",\n  \
             \"runs\": [{{\n    \"results\": ["
        )?;
        Ok(Sarif { w, rules: BTreeSet::new(), first: true })
    }
}

impl<W: Write> Sink for Sarif<W> {
    fn object(&mut self, object: &ObjectRef, decisions: &[Decision]) -> Result<()> {
        for d in decisions {
            let id = format!("{}/{}", d.policy, d.rule);
            let level = match (d.outcome, d.action) {
                (Outcome::Error, _) | (_, Action::Deny) => "error",
                (_, Action::Warn) => "warning",
                (_, Action::Audit) => "note",
            };
            let uri =
                object.origin.path.as_ref().map(|p| p.display().to_string()).unwrap_or_else(|| "-".into());
            let result = json!({
                "ruleId": id,
                "level": level,
                "message": {"text": format!("{object}: {}", d.message)},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri}}}],
            });
            self.w.write_all(if self.first { b"\n      " } else { b",\n      " })?;
            serde_json::to_writer(&mut self.w, &result)?;
            self.first = false;
            self.rules.insert(id);
        }
        Ok(())
    }

    fn finish(&mut self, _: &Counts, _: usize, _: &[String]) -> Result<()> {
        let rules: Vec<_> = self.rules.iter().map(|id| json!({"id": id, "name": id})).collect();
        let tool = json!({"driver": {
            "name": "palisade-policy", "version": env!("CARGO_PKG_VERSION"), "rules": rules,
        }});
        let close = if self.first { "]" } else { "\n    ]" };
        writeln!(self.w, "{close},\n    \"tool\": {}\n  }}]\n}}", serde_json::to_string(&tool)?)?;
        Ok(())
    }
}

/// One JUnit test case per input; failures are its deny decisions (and errors), warnings in system-out.
pub struct Junit<W: Write> {
    w: W,
    /// Per object: its name and its lines (`true` = failure), already rendered.
    cases: Vec<(String, Vec<(bool, String)>)>,
}

impl<W: Write> Junit<W> {
    pub fn new(w: W) -> Self {
        Junit { w, cases: Vec::new() }
    }
}

pub fn xml(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
        .map(|c| match c {
            '&' => "&amp;".to_string(),
            '<' => "&lt;".to_string(),
            '>' => "&gt;".to_string(),
            '"' => "&quot;".to_string(),
            '\'' => "&apos;".to_string(),
            c => c.to_string(),
        })
        .collect()
}

impl<W: Write> Sink for Junit<W> {
    fn object(&mut self, object: &ObjectRef, decisions: &[Decision]) -> Result<()> {
        let lines = decisions
            .iter()
            .map(|d| {
                let text = format!("{}/{}: {}", d.policy, d.rule, d.message);
                if failing(d) { (true, text) } else { (false, format!("{}: {text}", action_name(d.action))) }
            })
            .collect();
        self.cases.push((object.to_string(), lines));
        Ok(())
    }

    fn finish(&mut self, c: &Counts, _: usize, _: &[String]) -> Result<()> {
        let w = &mut self.w;
        writeln!(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>")?;
        writeln!(
            w,
            "<testsuites><testsuite name=\"palisade policy\" tests=\"{}\" failures=\"{}\">",
            self.cases.len(),
            c.deny + c.errors
        )?;
        for (name, lines) in &self.cases {
            writeln!(w, "  <testcase name=\"{}\" classname=\"policy\">", xml(name))?;
            for (fail, text) in lines {
                if *fail {
                    writeln!(w, "    <failure message=\"{}\"/>", xml(text))?;
                } else {
                    writeln!(w, "    <system-out>{}</system-out>", xml(text))?;
                }
            }
            writeln!(w, "  </testcase>")?;
        }
        writeln!(w, "</testsuite></testsuites>")?;
        Ok(())
    }
}

/// Counts every decision and hands each object's to the sink.
pub struct Stream<'a> {
    pub sink: &'a mut dyn Sink,
    pub counts: Counts,
    pub fail_on_warn: bool,
    /// Whether a decision fails the run (deny, error, or warn with `--fail-on-warn`).
    pub failed: bool,
}

impl Stream<'_> {
    pub fn object(&mut self, object: &ObjectRef, decisions: &[Decision]) -> Result<()> {
        self.counts.inputs += 1;
        for d in decisions {
            self.counts.add(d);
            self.failed |= failing(d) || (self.fail_on_warn && d.action == Action::Warn);
        }
        self.sink.object(object, decisions)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_policy::engine::{Language, Origin};

    fn decision(name: &str, action: Action, outcome: Outcome) -> Decision {
        Decision {
            language: Language::Rego,
            policy: "p".into(),
            rule: "r".into(),
            object: obj(name),
            message: format!("bad {name} <&>"),
            action,
            outcome,
            source: None,
            annotations: None,
        }
    }

    fn obj(name: &str) -> ObjectRef {
        ObjectRef {
            api_version: Some("v1".into()),
            kind: Some("Pod".into()),
            namespace: None,
            name: Some(name.into()),
            origin: Origin::default(),
        }
    }

    /// Feed two objects (one with a deny and a warning, one clean) and return the output.
    fn run(sink: &mut dyn Sink) -> Counts {
        let a = [
            decision("a", Action::Deny, Outcome::Violation),
            decision("a", Action::Warn, Outcome::Violation),
        ];
        let mut s = Stream { sink, counts: Counts::default(), fail_on_warn: false, failed: false };
        s.object(&obj("a"), &a).expect("a");
        s.object(&obj("b"), &[]).expect("b");
        let counts = s.counts;
        assert!(s.failed);
        s.sink.finish(&counts, 3, &["x.yaml:1:1: bad".into()]).expect("finish");
        counts
    }

    #[test]
    fn streamed_documents_are_valid_and_complete() {
        let mut j = Json::new(Vec::new(), "b", "1").expect("json");
        let c = run(&mut j);
        assert_eq!((c.inputs, c.deny, c.warn), (2, 1, 1));
        let v: serde_json::Value = serde_json::from_slice(&j.w).expect("valid JSON");
        assert_eq!(v["decisions"].as_array().map(Vec::len), Some(2));
        assert_eq!(v["errors"][0], "x.yaml:1:1: bad");
        assert_eq!(v["bundle"]["version"], "1");

        let mut s = Sarif::new(Vec::new()).expect("sarif");
        run(&mut s);
        let v: serde_json::Value = serde_json::from_slice(&s.w).expect("valid SARIF JSON");
        assert_eq!(v["runs"][0]["results"].as_array().map(Vec::len), Some(2));
        assert_eq!(v["runs"][0]["tool"]["driver"]["rules"][0]["id"], "p/r");

        let mut l = JsonLines(Vec::new());
        run(&mut l);
        let lines: Vec<&[u8]> = l.0.split(|b| *b == b'\n').filter(|l| !l.is_empty()).collect();
        assert_eq!(lines.len(), 2);
        assert!(lines.iter().all(|l| serde_json::from_slice::<serde_json::Value>(l).is_ok()));

        let mut u = Junit::new(Vec::new());
        run(&mut u);
        let x = String::from_utf8(u.w).expect("utf-8");
        assert!(x.contains("tests=\"2\" failures=\"1\"") && x.contains("&lt;&amp;&gt;"), "{x}");

        // Empty runs are valid documents too.
        let mut j = Json::new(Vec::new(), "", "").expect("json");
        j.finish(&Counts::default(), 0, &[]).expect("finish");
        assert!(serde_json::from_slice::<serde_json::Value>(&j.w).is_ok());
        let mut s = Sarif::new(Vec::new()).expect("sarif");
        s.finish(&Counts::default(), 0, &[]).expect("finish");
        assert!(serde_json::from_slice::<serde_json::Value>(&s.w).is_ok());
    }

    #[test]
    fn tables_are_written_in_chunks() {
        let mut t = Table::new(Vec::new());
        let many: Vec<Decision> =
            (0..TABLE_CHUNK + 1).map(|_| decision("a", Action::Deny, Outcome::Violation)).collect();
        t.object(&obj("a"), &many).expect("rows");
        assert!(!t.w.is_empty(), "a full chunk is written before the end");
        assert_eq!(t.rows.len(), 1);
        t.finish(&Counts { inputs: 1, deny: TABLE_CHUNK + 1, ..Counts::default() }, 1, &[]).expect("finish");
        let text = String::from_utf8(t.w).expect("utf-8");
        assert!(text.ends_with(&format!(
            "1 inputs, 1 policies: {} denied, 0 warnings, 0 audit, 0 errors\n",
            TABLE_CHUNK + 1
        )));
    }
}
