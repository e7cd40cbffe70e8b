//! Parser for the Falco condition language (the libsinsp filter grammar).
//!
//! ```text
//! or     := and ("or" and)*            "or"/"and" need a blank or "(" after them
//! and    := not ("and" not)*
//! not    := ("not" blank)* ("not(" or ")" | check)
//! check  := "(" or ")" | lhs cond | identifier            identifier = macro
//! lhs    := field | transformer "(" (field | transformer) ")" | join("sep", (item, …))
//! field  := name ("." name)+ ("[" (quoted | bare-arg) "]")?
//! cond   := "exists" | numop (number | rhs-op) | strop [quantifier] (string | rhs-op)
//!         | listop ("(" [string ("," string)*] ")" | rhs-op | identifier)
//! ```
//! Word operators (`contains`, `glob`, …) must be followed by a blank; `=`/`==`/`!=`/`<`… need not.
//! Strings are bare (no blanks, quotes, parentheses, `,` or `=`) or quoted with `'`/`"` and
//! backslash escapes. Nesting is limited to 100 levels.

use super::ast::{Expr, JoinItem, Operand, Quant, Rhs};

/// Deepest allowed recursion (as libsinsp).
pub const MAX_DEPTH: u32 = 100;

/// A parse error with the 1-based column where it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub message: String,
    pub col: usize,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (at column {})", self.message, self.col)
    }
}

impl std::error::Error for ParseError {}

const NUM_OPS: &[&str] = &["<=", "<", ">=", ">"];
const STR_OPS: &[&str] = &[
    "==",
    "=",
    "!=",
    "glob",
    "iglob",
    "contains",
    "icontains",
    "bcontains",
    "startswith",
    "bstartswith",
    "endswith",
    "regex",
];
const LIST_OPS: &[&str] = &["intersects", "in", "pmatch"];
/// Transformers allowed on the left-hand side and nested in other transformers.
pub const TRANSFORMERS: &[&str] = &["tolower", "toupper", "b64", "basename", "len"];

/// Parse a condition into a tree.
pub fn parse(input: &str) -> Result<Expr, ParseError> {
    if input.is_empty() {
        return Err(ParseError { message: "filter input string is empty".into(), col: 1 });
    }
    let mut p = Parser { s: input, b: input.as_bytes(), pos: 0, depth: 0, last: String::new() };
    let e = p.parse_or()?;
    if p.pos != p.b.len() {
        return Err(p.err(format!("unexpected token after '{}', expecting 'or', 'and'", p.last)));
    }
    Ok(e)
}

struct Parser<'a> {
    s: &'a str,
    b: &'a [u8],
    pos: usize,
    depth: u32,
    last: String,
}

fn is_blank(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\x08' | b'\r' | b'\n')
}

impl<'a> Parser<'a> {
    fn err(&self, message: impl Into<String>) -> ParseError {
        let col = self.s.get(..self.pos).map(|s| s.chars().count()).unwrap_or(self.pos) + 1;
        ParseError { message: message.into(), col }
    }

    fn enter(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth >= MAX_DEPTH {
            return Err(self.err(format!("exceeded max depth limit of {MAX_DEPTH}")));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    fn rest(&self) -> &'a [u8] {
        self.b.get(self.pos..).unwrap_or(&[])
    }

    fn blank(&mut self) -> bool {
        let start = self.pos;
        while self.peek().is_some_and(is_blank) {
            self.pos += 1;
        }
        self.pos > start
    }

    fn lit(&mut self, s: &str) -> bool {
        if self.rest().starts_with(s.as_bytes()) {
            self.pos += s.len();
            self.last = s.to_string();
            true
        } else {
            false
        }
    }

    fn lit_any(&mut self, list: &[&'static str]) -> Option<&'static str> {
        list.iter().copied().find(|s| self.lit(s))
    }

    /// An operator; word operators (`contains`, `glob`, …) must be followed by a blank.
    fn op_any(&mut self, list: &[&'static str]) -> Option<&'static str> {
        for op in list {
            let r = self.rest();
            if !r.starts_with(op.as_bytes()) {
                continue;
            }
            let word = op.bytes().all(|c| c.is_ascii_alphabetic());
            if word && !r.get(op.len()).copied().is_some_and(is_blank) {
                continue;
            }
            self.pos += op.len();
            self.last = op.to_string();
            return Some(op);
        }
        None
    }

    /// Take the longest run of bytes for which `ok` holds (at least one).
    fn take_while(&mut self, ok: impl Fn(u8) -> bool) -> Option<&'a str> {
        let start = self.pos;
        while self.peek().is_some_and(&ok) {
            self.pos += 1;
        }
        if self.pos == start {
            return None;
        }
        let t = self.s.get(start..self.pos)?;
        self.last = t.to_string();
        Some(t)
    }

    fn ident_at(&self, at: usize) -> usize {
        let b = self.b;
        let mut i = at;
        while b.get(i).is_some_and(u8::is_ascii_alphabetic) {
            i += 1;
        }
        if i == at {
            return at;
        }
        while b.get(i).is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_') {
            i += 1;
        }
        i
    }

    fn identifier(&mut self) -> Option<&'a str> {
        let end = self.ident_at(self.pos);
        if end == self.pos {
            return None;
        }
        let t = self.s.get(self.pos..end)?;
        self.pos = end;
        self.last = t.to_string();
        Some(t)
    }

    fn field_name(&mut self) -> Option<&'a str> {
        let mut end = self.ident_at(self.pos);
        if end == self.pos {
            return None;
        }
        let mut parts = 0;
        while self.b.get(end) == Some(&b'.') {
            let next = self.ident_at(end + 1);
            if next == end + 1 {
                break;
            }
            end = next;
            parts += 1;
        }
        if parts == 0 {
            return None;
        }
        let t = self.s.get(self.pos..end)?;
        self.pos = end;
        self.last = t.to_string();
        Some(t)
    }

    /// A `'`- or `"`-quoted string. As in libsinsp, a delimiter preceded by a backslash does not close it.
    fn quoted(&mut self) -> Result<Option<String>, ParseError> {
        let Some(delim) = self.peek().filter(|c| *c == b'"' || *c == b'\'') else {
            return Ok(None);
        };
        let start = self.pos;
        let mut prev = delim;
        let mut i = start + 1;
        while let Some(&c) = self.b.get(i) {
            if c == delim && prev != b'\\' {
                let raw = self.s.get(start..=i).unwrap_or("");
                self.pos = i + 1;
                let v = unescape(raw, delim).map_err(|m| self.err(m))?;
                self.last = raw.to_string();
                return Ok(Some(v));
            }
            prev = c;
            i += 1;
        }
        Ok(None)
    }

    fn bare_str(&mut self) -> Option<&'a str> {
        self.take_while(|c| !is_blank(c) && !matches!(c, b'(' | b')' | b'"' | b'\'' | b'=' | b','))
    }

    fn field_arg_bare(&mut self) -> Option<&'a str> {
        self.take_while(|c| !is_blank(c) && !matches!(c, b'[' | b']' | b'"' | b'\''))
    }

    fn number(&mut self) -> Option<&'a str> {
        let b = self.b;
        let start = self.pos;
        // hex: 0[xX][0-9a-zA-Z]+
        if b.get(start) == Some(&b'0') && matches!(b.get(start + 1), Some(b'x' | b'X')) {
            let mut i = start + 2;
            while b.get(i).is_some_and(u8::is_ascii_alphanumeric) {
                i += 1;
            }
            if i > start + 2 {
                self.pos = i;
                let t = self.s.get(start..i)?;
                self.last = t.to_string();
                return Some(t);
            }
        }
        // [+-]?[0-9]+\.?[0-9]*([eE][+-][0-9]+)?
        let mut i = start;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let d = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == d {
            return None;
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
        }
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if matches!(b.get(i), Some(b'e' | b'E')) && matches!(b.get(i + 1), Some(b'+' | b'-')) {
            let mut j = i + 2;
            let ds = j;
            while b.get(j).is_some_and(u8::is_ascii_digit) {
                j += 1;
            }
            if j > ds {
                i = j;
            }
        }
        self.pos = i;
        let t = self.s.get(start..i)?;
        self.last = t.to_string();
        Some(t)
    }

    fn parse_or(&mut self) -> Result<Expr, ParseError> {
        self.parse_chain("or", Self::parse_and, Expr::Or)
    }

    fn parse_and(&mut self) -> Result<Expr, ParseError> {
        self.parse_chain("and", Self::parse_not, Expr::And)
    }

    /// `operand (word operand)*` for `or` and `and`: after the word comes a blank, or `(` directly (an
    /// embedded parenthesised remainder, as libsinsp accepts).
    fn parse_chain(
        &mut self,
        word: &str,
        operand: fn(&mut Self) -> Result<Expr, ParseError>,
        combine: fn(Vec<Expr>) -> Expr,
    ) -> Result<Expr, ParseError> {
        self.enter()?;
        self.blank();
        let mut children = vec![operand(self)?];
        self.blank();
        while self.lit(word) {
            let child = if !self.blank() {
                if self.lit("(") {
                    self.embedded_remainder()?
                } else {
                    return Err(self.err(format!("expected blank or '(' after '{word}'")));
                }
            } else {
                operand(self)?
            };
            children.push(child);
            self.blank();
        }
        self.leave();
        Ok(if children.len() == 1 { children.remove(0) } else { combine(children) })
    }

    fn parse_not(&mut self) -> Result<Expr, ParseError> {
        self.enter()?;
        self.blank();
        let mut negate = false;
        loop {
            let r = self.rest();
            if r.starts_with(b"not") && r.get(3).copied().is_some_and(is_blank) {
                self.pos += 3;
                self.blank();
                negate = !negate;
            } else {
                break;
            }
        }
        let child = if self.lit("not(") {
            negate = !negate;
            self.embedded_remainder()?
        } else {
            self.parse_check()?
        };
        self.leave();
        Ok(if negate { Expr::Not(Box::new(child)) } else { child })
    }

    fn embedded_remainder(&mut self) -> Result<Expr, ParseError> {
        self.enter()?;
        self.blank();
        let e = self.parse_or()?;
        self.blank();
        if !self.lit(")") {
            return Err(self.err("expected a ')' token"));
        }
        self.leave();
        Ok(e)
    }

    fn parse_check(&mut self) -> Result<Expr, ParseError> {
        self.enter()?;
        self.blank();
        if self.lit("(") {
            let e = self.embedded_remainder()?;
            self.leave();
            return Ok(e);
        }
        if let Some(name) = self.field_name() {
            let lhs = self.field_remainder(name)?;
            let e = self.parse_condition(lhs)?;
            self.leave();
            return Ok(e);
        }
        if let Some(lhs) = self.lhs_transformer()? {
            let e = self.parse_condition(lhs)?;
            self.leave();
            return Ok(e);
        }
        if let Some(id) = self.identifier() {
            self.leave();
            return Ok(Expr::Ident(id.to_string()));
        }
        Err(self.err("expected a '(' token, a field check, or an identifier"))
    }

    fn field_remainder(&mut self, name: &str) -> Result<Operand, ParseError> {
        let mut arg = None;
        if self.lit("[") {
            let a = match self.quoted()? {
                Some(q) => q,
                None => match self.field_arg_bare() {
                    Some(b) => b.to_string(),
                    None => {
                        return Err(
                            self.err("expected a valid field argument: a quoted string or a bare string")
                        );
                    }
                },
            };
            if !self.lit("]") {
                return Err(self.err("expected a ']' token"));
            }
            arg = Some(a);
        }
        Ok(Operand::Field { name: name.to_string(), arg })
    }

    /// `name(` for one of `names`, with no blank before the parenthesis.
    fn transformer_open(&mut self, names: &[&'static str]) -> Option<&'static str> {
        for n in names {
            let r = self.rest();
            if r.starts_with(n.as_bytes()) && r.get(n.len()) == Some(&b'(') {
                self.pos += n.len() + 1;
                self.last = format!("{n}(");
                return Some(n);
            }
        }
        None
    }

    fn lhs_transformer(&mut self) -> Result<Option<Operand>, ParseError> {
        if self.transformer_open(&["join"]).is_some() {
            return self.join_remainder().map(Some);
        }
        if self.transformer_open(&["getopt"]).is_some() {
            return self.getopt_remainder().map(Some);
        }
        match self.transformer_open(TRANSFORMERS) {
            Some(name) => self.transformer_remainder(name).map(Some),
            None => Ok(None),
        }
    }

    /// After `name(`: a field or a nested transformer, then `)`.
    fn transformer_remainder(&mut self, name: &str) -> Result<Operand, ParseError> {
        self.enter()?;
        self.blank();
        let child = if self.transformer_open(&["join"]).is_some() {
            self.join_remainder()?
        } else if let Some(inner) = self.transformer_open(TRANSFORMERS) {
            self.transformer_remainder(inner)?
        } else if let Some(f) = self.field_name() {
            self.field_remainder(f)?
        } else {
            return Err(self.err(
                "expected a field or a nested valid transformer: 'val', 'tolower', 'toupper', 'b64', 'basename', 'len', 'join'",
            ));
        };
        self.blank();
        if !self.lit(")") {
            return Err(self.err("expected a ')' token closing the transformer"));
        }
        self.leave();
        Ok(Operand::Transform { name: name.to_string(), arg: Box::new(child) })
    }

    /// After `getopt(`: `field, "optstring")` and an optional `[option]`.
    fn getopt_remainder(&mut self) -> Result<Operand, ParseError> {
        self.enter()?;
        self.blank();
        let Some(f) = self.field_name() else {
            return Err(self.err("expected a field within 'getopt' transformer"));
        };
        let field = self.field_remainder(f)?;
        self.blank();
        if !self.lit(",") {
            return Err(self.err("expected a ',' after the 'getopt' field"));
        }
        self.blank();
        let Some(optstring) = self.quoted()? else {
            return Err(self.err("expected a quoted option string in 'getopt'"));
        };
        self.blank();
        if !self.lit(")") {
            return Err(self.err("expected a ')' token closing the transformer"));
        }
        self.last = "getopt".into();
        let mut opt = None;
        if self.lit("[") {
            let a = match self.quoted()? {
                Some(q) => q,
                None => match self.field_arg_bare() {
                    Some(b) => b.to_string(),
                    None => {
                        return Err(
                            self.err("expected a valid field argument: a quoted string or a bare string")
                        );
                    }
                },
            };
            if !self.lit("]") {
                return Err(self.err("expected a ']' token"));
            }
            opt = Some(a);
        }
        self.leave();
        Ok(Operand::GetOpt { field: Box::new(field), optstring, opt })
    }

    /// After `join(`: `"sep", (item, …))`.
    fn join_remainder(&mut self) -> Result<Operand, ParseError> {
        self.enter()?;
        self.blank();
        let Some(sep) = self.quoted()? else {
            return Err(self.err("expected a quoted separator in 'join'"));
        };
        self.blank();
        if !self.lit(",") {
            return Err(self.err("expected a ',' after the 'join' separator"));
        }
        self.blank();
        if !self.lit("(") {
            return Err(self.err("expected a '(' opening the 'join' list"));
        }
        self.blank();
        let mut items = Vec::new();
        if !self.lit(")") {
            loop {
                self.blank();
                let item = if let Some(q) = self.quoted()? {
                    JoinItem::Literal(q)
                } else if self.transformer_open(&["join"]).is_some() {
                    JoinItem::Operand(self.join_remainder()?)
                } else if let Some(t) = self.transformer_open(TRANSFORMERS) {
                    JoinItem::Operand(self.transformer_remainder(t)?)
                } else if let Some(f) = self.field_name() {
                    JoinItem::Operand(self.field_remainder(f)?)
                } else if let Some(n) = self.number() {
                    JoinItem::Literal(n.to_string())
                } else {
                    return Err(self.err("expected a field, a transformer or a literal in 'join'"));
                };
                items.push(item);
                self.blank();
                if self.lit(",") {
                    continue;
                }
                if self.lit(")") {
                    break;
                }
                return Err(self.err("expected ',' or ')' in 'join' list"));
            }
        }
        self.blank();
        if !self.lit(")") {
            return Err(self.err("expected a ')' token closing 'join'"));
        }
        self.leave();
        Ok(Operand::Join { sep, items })
    }

    /// `val(field)` or a transformer on the right-hand side, if one starts here.
    fn rhs_operand(&mut self) -> Result<Option<Operand>, ParseError> {
        self.blank();
        if self.transformer_open(&["val"]).is_some() {
            self.blank();
            let Some(f) = self.field_name() else {
                return Err(self.err("expected a field within 'val' transformer"));
            };
            let field = self.field_remainder(f)?;
            self.blank();
            if !self.lit(")") {
                return Err(self.err("expected a ')' token closing the transformer"));
            }
            return Ok(Some(Operand::Transform { name: "val".into(), arg: Box::new(field) }));
        }
        self.lhs_transformer()
    }

    fn parse_condition(&mut self, lhs: Operand) -> Result<Expr, ParseError> {
        self.enter()?;
        self.blank();
        if self.lit("exists") {
            self.leave();
            return Ok(Expr::Unary { lhs, op: "exists".into() });
        }
        self.blank();
        let e = if let Some(op) = self.lit_any(NUM_OPS) {
            let rhs = match self.rhs_operand()? {
                Some(o) => Rhs::Operand(o),
                None => match self.number() {
                    Some(n) => Rhs::Value(n.to_string()),
                    None => {
                        return Err(self.err(
                            "expected a number value or a field with a valid transformer: 'val', 'tolower', 'toupper', 'b64', 'basename', 'len', 'join'",
                        ));
                    }
                },
            };
            Expr::Binary { lhs, op: op.to_string(), quant: None, rhs }
        } else if let Some(op) = self.op_any(STR_OPS) {
            let had_blank = self.blank();
            if had_blank && let Some((quant, rhs)) = self.quantifier()? {
                Expr::Binary { lhs, op: op.to_string(), quant: Some(quant), rhs }
            } else {
                let rhs = self.str_value_or_operand()?;
                Expr::Binary { lhs, op: op.to_string(), quant: None, rhs }
            }
        } else if let Some(op) = self.lit_any(LIST_OPS) {
            let rhs = self.list_value_or_operand()?;
            Expr::Binary { lhs, op: op.to_string(), quant: None, rhs }
        } else {
            return Err(self.err(
                "expected a valid check operator: one of 'exists', '<=', '<', '>=', '>', '==', '=', '!=', 'glob', 'iglob', 'contains', 'icontains', 'bcontains', 'startswith', 'bstartswith', 'endswith', 'regex', 'intersects', 'in', 'pmatch'",
            ));
        };
        self.leave();
        Ok(e)
    }

    /// `oneof|anyof|allof` + blank + (`(`list`)` | list name); backtracks when it is just a value.
    fn quantifier(&mut self) -> Result<Option<(Quant, Rhs)>, ParseError> {
        let save = self.pos;
        for q in [Quant::OneOf, Quant::AnyOf, Quant::AllOf] {
            let w = q.as_str();
            if !self.rest().starts_with(w.as_bytes()) {
                continue;
            }
            self.pos += w.len();
            if !self.blank() {
                self.pos = save;
                return Ok(None);
            }
            if self.peek() == Some(b'(') {
                self.pos += 1;
                return Ok(Some((q, Rhs::List(self.list_remainder()?))));
            }
            let id_end = self.ident_at(self.pos);
            if id_end > self.pos {
                let id = self.s.get(self.pos..id_end).unwrap_or("");
                if id != "and" && id != "or" {
                    self.pos = id_end;
                    self.last = id.to_string();
                    return Ok(Some((q, Rhs::ListRef(id.to_string()))));
                }
            }
            self.pos = save;
            return Ok(None);
        }
        Ok(None)
    }

    fn str_value(&mut self) -> Result<Option<String>, ParseError> {
        self.blank();
        if let Some(q) = self.quoted()? {
            return Ok(Some(q));
        }
        Ok(self.bare_str().map(str::to_string))
    }

    fn str_value_or_operand(&mut self) -> Result<Rhs, ParseError> {
        if let Some(o) = self.rhs_operand()? {
            return Ok(Rhs::Operand(o));
        }
        match self.str_value()? {
            Some(v) => Ok(Rhs::Value(v)),
            None => Err(self.err(
                "expected a string value or a field with a valid transformer: 'val', 'tolower', 'toupper', 'b64', 'basename', 'len', 'join'",
            )),
        }
    }

    /// After `(`: `[value ("," value)*] ")"`.
    fn list_remainder(&mut self) -> Result<Vec<String>, ParseError> {
        let mut values = Vec::new();
        self.blank();
        if let Some(v) = self.str_value()? {
            values.push(v);
            self.blank();
            while self.lit(",") {
                match self.str_value()? {
                    Some(v) => values.push(v),
                    None => return Err(self.err("expected a string value")),
                }
                self.blank();
            }
        }
        if !self.lit(")") {
            return Err(self.err("expected a ')' token"));
        }
        Ok(values)
    }

    fn list_value_or_operand(&mut self) -> Result<Rhs, ParseError> {
        self.blank();
        if self.lit("(") {
            return Ok(Rhs::List(self.list_remainder()?));
        }
        if let Some(o) = self.rhs_operand()? {
            return Ok(Rhs::Operand(o));
        }
        if let Some(id) = self.identifier() {
            return Ok(Rhs::ListRef(id.to_string()));
        }
        Err(self.err(
            "expected a list, an identifier, or a field with a valid transformer: 'val', 'tolower', 'toupper', 'b64', 'basename', 'len', 'join'",
        ))
    }
}

/// A list item as Falco reads it once inlined in a condition: `"10.0.0.0/8"` (quotes included in the
/// YAML value) is the string `10.0.0.0/8`.
pub fn unquote(item: &str) -> String {
    let b = item.as_bytes();
    if b.len() >= 2
        && (b[0] == b'"' || b[0] == b'\'')
        && b[b.len() - 1] == b[0]
        && let Ok(v) = unescape(item, b[0])
    {
        return v;
    }
    item.to_string()
}

/// Decode a quoted string (delimiters included) with libsinsp's escapes.
fn unescape(raw: &str, delim: u8) -> Result<String, String> {
    let inner = raw.get(1..raw.len().saturating_sub(1)).unwrap_or("");
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some(' ') | Some('\\') => out.push('\\'),
            Some('/') => out.push('/'),
            Some('"') if delim == b'"' => out.push('"'),
            Some('\'') if delim == b'\'' => out.push('\''),
            Some('"') => return Err("invalid \\\" escape in '-quoted string".into()),
            Some('\'') => return Err("invalid \\' escape in \"-quoted string".into()),
            Some(o) => return Err(format!("unsupported string escape sequence: \\{o}")),
            None => return Err("unterminated escape sequence".into()),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence_and_printing() {
        let e = parse("a.b = 1 or c.d = x and not e").unwrap();
        assert_eq!(e.to_string(), "(a.b = 1 or (c.d = x and not e))");
        let e = parse("evt.type in (open,openat) and proc.aname[2] startswith oneof (sh, 'a b')").unwrap();
        assert_eq!(
            e.to_string(),
            "(evt.type in (open, openat) and proc.aname[2] startswith oneof (sh, \"a b\"))"
        );
    }

    #[test]
    fn rejects_with_messages() {
        assert_eq!(
            parse("evt.arg[] = value").unwrap_err().message,
            "expected a valid field argument: a quoted string or a bare string"
        );
        assert_eq!(parse("evt.arg[\"x\" = value").unwrap_err().message, "expected a ']' token");
        assert!(parse("a andb").is_err());
        assert!(parse("test.op containsvalue").is_err());
        let deep = "(".repeat(1000);
        assert!(parse(&deep).unwrap_err().message.contains("exceeded max depth limit of 100"));
    }

    #[test]
    fn quoting_and_escapes() {
        let e = parse(r#"c.s = "hello \"quoted\"""#).unwrap();
        assert_eq!(
            e,
            Expr::Binary {
                lhs: Operand::Field { name: "c.s".into(), arg: None },
                op: "=".into(),
                quant: None,
                rhs: Rhs::Value("hello \"quoted\"".into())
            }
        );
        assert!(parse(r#"test.str = "mixed \'""#).is_err());
    }
}
