//! Source rewrites that work around regorus 0.14 parser defects (dependencies.md P5) before a module is
//! compiled. Each keeps every line where it was, so positions in messages stay right.
//!
//! - Defect 2: a line ending in a reference followed by a line starting with `(` is parsed as one call
//!   (`x.y\n(a - b) > 1` becomes `x.y(a - b) > 1`). OPA reads two expressions; a `;` is added at the end of
//!   the first line (when it carries no comment).
//! - Defect 3: v0 rules with several bodies, `head { … } { … }`, are rejected. Each `} {` line that closes
//!   one body and opens the next becomes `} head {`, one rule per body, which OPA treats the same.
//! - `sprintf` with fewer arguments than verbs fails in regorus; OPA (Go's `fmt`) writes `%!v(MISSING)` for
//!   each missing one. A call with a literal format and a literal argument array gets the missing
//!   arguments appended as the strings OPA would print (only for `%v` and `%s`).

/// Apply the rewrites for `v0` or v1 modules; `None` when nothing changed.
pub fn rewrite(text: &str, v0: bool) -> Option<String> {
    let fixed = if v0 { rewrite_v0(text) } else { None };
    let base = fixed.as_deref().unwrap_or(text);
    match rewrite_sprintf(base) {
        Some(t) => Some(t),
        None => fixed,
    }
}

/// Skip a string literal starting at `i` (a `"`); the index after its closing quote.
fn skip_string(b: &[u8], mut i: usize) -> usize {
    i += 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            b'\n' => return i,
            _ => i += 1,
        }
    }
    i
}

/// The `sprintf` rewrite (see the module docs).
pub fn rewrite_sprintf(text: &str) -> Option<String> {
    let b = text.as_bytes();
    let mut inserts: Vec<(usize, String)> = Vec::new();
    let mut from = 0;
    while let Some(pos) = text[from..].find("sprintf(") {
        let start = from + pos + "sprintf(".len();
        from = start;
        let mut i = start;
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if b.get(i) != Some(&b'"') {
            continue;
        }
        let end_fmt = skip_string(b, i);
        let format = &text[i + 1..end_fmt.saturating_sub(1)];
        let mut verbs = Vec::new();
        let mut chars = format.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '%' {
                // Flags, width and precision, then the verb.
                let mut verb = None;
                for n in chars.by_ref() {
                    if n.is_ascii_alphabetic() || n == '%' {
                        verb = Some(n);
                        break;
                    }
                }
                match verb {
                    Some('%') | None => {}
                    Some(v) => verbs.push(v),
                }
            }
        }
        let mut j = end_fmt;
        while j < b.len() && (b[j].is_ascii_whitespace() || b[j] == b',') {
            j += 1;
        }
        if b.get(j) != Some(&b'[') {
            continue;
        }
        // Count the array's top-level elements and find its `]`.
        let (mut depth, mut k, mut elements, mut seen) = (0usize, j, 0usize, false);
        let close = loop {
            let Some(&c) = b.get(k) else { break None };
            match c {
                b'"' => {
                    seen = true;
                    k = skip_string(b, k);
                    continue;
                }
                b'[' | b'{' | b'(' => {
                    depth += 1;
                    if depth > 1 {
                        seen = true;
                    }
                }
                b']' | b'}' | b')' => {
                    depth -= 1;
                    if depth == 0 {
                        break Some(k);
                    }
                }
                b',' if depth == 1 => {
                    elements += 1;
                    seen = false;
                }
                c if !c.is_ascii_whitespace() => seen = true,
                _ => {}
            }
            k += 1;
        };
        let Some(close) = close else { continue };
        if seen {
            elements += 1;
        }
        if verbs.len() <= elements || !verbs[elements..].iter().all(|v| *v == 'v' || *v == 's') {
            continue;
        }
        let mut add = String::new();
        for v in &verbs[elements..] {
            if elements > 0 || !add.is_empty() {
                add.push_str(", ");
            }
            add.push_str(&format!("\"%!{v}(MISSING)\""));
        }
        inserts.push((close, add));
    }
    if inserts.is_empty() {
        return None;
    }
    let mut out = text.to_string();
    for (at, add) in inserts.into_iter().rev() {
        out.insert_str(at, &add);
    }
    Some(out)
}

/// The v0-only rewrites (defects 2 and 3).
pub fn rewrite_v0(text: &str) -> Option<String> {
    let lines: Vec<&str> = text.split('\n').collect();
    let mut out: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    let mut changed = false;
    let mut last_code: Option<usize> = None;
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim();
        if t.starts_with('(')
            && let Some(p) = last_code
        {
            let prev = lines[p].trim_end();
            let ends_ref =
                prev.chars().last().is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == ']');
            if ends_ref && !prev.contains('#') && !prev.trim_start().starts_with("package ") {
                out[p].push(';');
                changed = true;
            }
        }
        if t == "} {" {
            let indent = line.len() - line.trim_start().len();
            let head = lines[..i].iter().rev().find(|l| {
                let lt = l.trim_end();
                l.len() - l.trim_start().len() == indent && lt.ends_with('{') && lt.trim() != "} {"
            });
            if let Some(head) = head {
                let head = head.trim().trim_end_matches('{').trim_end();
                let head = head.strip_prefix("} ").unwrap_or(head);
                out[i] = format!("{}}} {head} {{", &line[..indent]);
                changed = true;
            }
        }
        if !t.is_empty() && !t.starts_with('#') {
            last_code = Some(i);
        }
    }
    changed.then(|| out.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use regorus::Engine;

    fn eval(text: &str, query: &str) -> regorus::Value {
        let mut e = Engine::new();
        e.set_rego_v0(true);
        e.add_policy("p.rego".into(), text.into()).unwrap();
        e.set_input(regorus::Value::from(serde_json::json!({"a": 5, "b": 1, "k": "RC"})));
        e.eval_rule(query.into()).unwrap()
    }

    #[test]
    fn ref_then_parenthesis_is_two_expressions() {
        let v0 = "package p\nok {\n  input.a\n  (input.a - input.b) >= 4\n}\n";
        let fixed = rewrite_v0(v0).unwrap();
        assert_eq!(fixed.lines().count(), v0.lines().count());
        assert_eq!(eval(&fixed, "data.p.ok"), regorus::Value::from(true));
    }

    #[test]
    fn multi_body_rules_become_one_rule_per_body() {
        let v0 = "package p\nf(x) = y {\n  x == \"Pod\"\n  y := 1\n} {\n  x == \"RC\"\n  y := 2\n}\nv := f(input.k)\n";
        let fixed = rewrite_v0(v0).unwrap();
        assert_eq!(fixed.lines().count(), v0.lines().count());
        assert_eq!(eval(&fixed, "data.p.v"), regorus::Value::from(2));
        assert_eq!(rewrite_v0("package p\nx := 1\n"), None);
    }

    #[test]
    fn sprintf_missing_arguments_print_as_in_go() {
        let v0 = "package p\nm := sprintf(\"a %v b %v c %s\", [input.a])\nn := sprintf(\"%d%%\", [1])\n";
        let fixed = rewrite(v0, true).unwrap();
        assert_eq!(eval(&fixed, "data.p.m"), regorus::Value::from("a 5 b %!v(MISSING) c %!s(MISSING)"));
        assert_eq!(eval(&fixed, "data.p.n"), regorus::Value::from("1%"));
        assert_eq!(rewrite("package p\nm := sprintf(\"%v\", [[1, 2]])\n", false), None);
    }
}
