//! The syntax tree of a Falco condition, and its normalised text form.
//!
//! [`std::fmt::Display`] prints a tree the way Falco prints a compiled condition: `and`/`or` groups in
//! parentheses, values quoted and escaped only when they need it (`"curl 127.0.0.1"`), lists as
//! `(a, b)`. Macro references are [`Expr::Ident`] until the compiler inlines them.

use std::fmt;

/// A boolean expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    /// A bare identifier: a macro reference (or, unresolved, an error at compile time).
    Ident(String),
    /// `LHS exists`.
    Unary {
        lhs: Operand,
        op: String,
    },
    /// `LHS op [quantifier] RHS`.
    Binary {
        lhs: Operand,
        op: String,
        quant: Option<Quant>,
        rhs: Rhs,
    },
}

/// `oneof` / `anyof` / `allof` between an operator and a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quant {
    OneOf,
    AnyOf,
    AllOf,
}

impl Quant {
    pub fn as_str(self) -> &'static str {
        match self {
            Quant::OneOf => "oneof",
            Quant::AnyOf => "anyof",
            Quant::AllOf => "allof",
        }
    }

    pub fn parse(s: &str) -> Option<Quant> {
        match s {
            "oneof" => Some(Quant::OneOf),
            "anyof" => Some(Quant::AnyOf),
            "allof" => Some(Quant::AllOf),
            _ => None,
        }
    }
}

/// Something that yields a value from an event: a field, a transformer over one, or `join`.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Field {
        name: String,
        arg: Option<String>,
    },
    /// `tolower(…)`, `toupper(…)`, `b64(…)`, `basename(…)`, `len(…)`, and `val(…)` on the right-hand side.
    Transform {
        name: String,
        arg: Box<Operand>,
    },
    /// `join("sep", (item, …))`.
    Join {
        sep: String,
        items: Vec<JoinItem>,
    },
    /// `getopt(field, "optstring")[opt]`: the value of option `opt` in the field's command line.
    GetOpt {
        field: Box<Operand>,
        optstring: String,
        opt: Option<String>,
    },
}

/// An element of `join(…)`'s list.
#[derive(Debug, Clone, PartialEq)]
pub enum JoinItem {
    Operand(Operand),
    Literal(String),
}

/// The right-hand side of a binary check.
#[derive(Debug, Clone, PartialEq)]
pub enum Rhs {
    Value(String),
    List(Vec<String>),
    /// A bare identifier after a list operator or quantifier: a list name.
    ListRef(String),
    /// A field (through `val()`) or a transformer.
    Operand(Operand),
}

/// Quote and escape a value the way Falco prints it: only when it contains blanks, quotes or backslashes.
pub fn escape_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    let mut quote = false;
    for c in s.chars() {
        match c {
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            ' ' | '\'' => out.push(c),
            _ => {
                out.push(c);
                continue;
            }
        }
        quote = true;
    }
    if quote { format!("\"{out}\"") } else { out }
}

impl fmt::Display for Operand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Operand::Field { name, arg: None } => write!(f, "{name}"),
            Operand::Field { name, arg: Some(a) } => write!(f, "{name}[{a}]"),
            Operand::Transform { name, arg } => write!(f, "{name}({arg})"),
            Operand::Join { sep, items } => {
                write!(f, "join({}, (", escape_str(sep))?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    match item {
                        JoinItem::Operand(o) => write!(f, "{o}")?,
                        JoinItem::Literal(l) => write!(f, "{}", escape_str(l))?,
                    }
                }
                f.write_str("))")
            }
            Operand::GetOpt { field, optstring, opt } => {
                write!(f, "getopt({field}, \"{}\")", optstring.replace('\\', "\\\\").replace('"', "\\\""))?;
                match opt {
                    Some(o) => write!(f, "[{o}]"),
                    None => Ok(()),
                }
            }
        }
    }
}

fn write_list(f: &mut fmt::Formatter<'_>, items: &[String]) -> fmt::Result {
    f.write_str("(")?;
    for (i, v) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        f.write_str(&escape_str(v))?;
    }
    f.write_str(")")
}

impl fmt::Display for Rhs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rhs::Value(v) => f.write_str(&escape_str(v)),
            Rhs::List(items) => write_list(f, items),
            Rhs::ListRef(name) => f.write_str(name),
            Rhs::Operand(o) => write!(f, "{o}"),
        }
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::And(c) | Expr::Or(c) => {
                let sep = if matches!(self, Expr::And(_)) { " and " } else { " or " };
                f.write_str("(")?;
                for (i, e) in c.iter().enumerate() {
                    if i > 0 {
                        f.write_str(sep)?;
                    }
                    write!(f, "{e}")?;
                }
                f.write_str(")")
            }
            Expr::Not(e) => write!(f, "not {e}"),
            Expr::Ident(name) => f.write_str(name),
            Expr::Unary { lhs, op } => write!(f, "{lhs} {op}"),
            Expr::Binary { lhs, op, quant, rhs } => match quant {
                Some(q) => write!(f, "{lhs} {op} {} {rhs}", q.as_str()),
                None => write!(f, "{lhs} {op} {rhs}"),
            },
        }
    }
}

impl Expr {
    /// Visit every operand (left and right) in the tree.
    pub fn visit_operands<'a>(&'a self, out: &mut impl FnMut(&'a Operand)) {
        match self {
            Expr::And(c) | Expr::Or(c) => c.iter().for_each(|e| e.visit_operands(out)),
            Expr::Not(e) => e.visit_operands(out),
            Expr::Ident(_) => {}
            Expr::Unary { lhs, .. } => out(lhs),
            Expr::Binary { lhs, rhs, .. } => {
                out(lhs);
                if let Rhs::Operand(o) = rhs {
                    out(o);
                }
            }
        }
    }
}

impl Operand {
    /// The fields this operand reads (through transformers and `join`).
    pub fn fields<'a>(&'a self, out: &mut Vec<(&'a str, Option<&'a str>)>) {
        match self {
            Operand::Field { name, arg } => out.push((name, arg.as_deref())),
            Operand::Transform { arg, .. } => arg.fields(out),
            Operand::Join { items, .. } => {
                for i in items {
                    if let JoinItem::Operand(o) = i {
                        o.fields(out);
                    }
                }
            }
            Operand::GetOpt { field, .. } => field.fields(out),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_quotes_only_when_needed() {
        assert_eq!(escape_str("bash"), "bash");
        assert_eq!(escape_str("curl 127.0.0.1"), "\"curl 127.0.0.1\"");
        assert_eq!(escape_str("a\"b"), "\"a\\\"b\"");
    }
}
