//! From a parsed condition to an evaluable [`Filter`]: macros and lists are inlined, every field is
//! resolved against the field table and every value is checked and converted for its field's type
//! (`evt.cpu contains 1` and `thread.cpu = 1.0` are errors), as Falco's compiler does.

use super::ast::{Expr, JoinItem, Operand, Quant, Rhs};
use super::fields::{self, ArgKind, Ctx, FieldDef, FieldType, Val};
use super::glob::glob_match;
use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::net::IpAddr;

/// Macros (parsed, not yet expanded) and lists (items already resolved) visible to a condition.
#[derive(Default)]
pub struct Scope<'a> {
    pub macros: HashMap<&'a str, &'a Expr>,
    pub lists: HashMap<&'a str, &'a [String]>,
    /// Extra fields (tests add mock fields here).
    pub extra_fields: &'a [FieldDef],
    /// Cache slot of each (field, argument) compiled so far (see [`Ctx::cache`]).
    pub slots: RefCell<HashMap<(String, Option<String>), usize>>,
}

impl Scope<'_> {
    /// How many cache slots the compiled conditions use.
    pub fn slot_count(&self) -> usize {
        self.slots.borrow().len()
    }
}

/// A compile error or warning message.
pub type Message = String;

/// Inline macros and lists. Errors name the undefined macro or list.
pub fn expand(expr: &Expr, scope: &Scope<'_>) -> Result<Expr, Message> {
    expand_inner(expr, scope, &mut Vec::new())
}

fn expand_list(items: &[String], scope: &Scope<'_>) -> Vec<String> {
    let mut out = Vec::with_capacity(items.len());
    for i in items {
        match scope.lists.get(i.as_str()) {
            Some(inner) => out.extend(inner.iter().cloned()),
            None => out.push(i.clone()),
        }
    }
    out
}

fn expand_inner<'s>(expr: &Expr, scope: &Scope<'s>, stack: &mut Vec<&'s str>) -> Result<Expr, Message> {
    Ok(match expr {
        Expr::And(c) => Expr::And(c.iter().map(|e| expand_inner(e, scope, stack)).collect::<Result<_, _>>()?),
        Expr::Or(c) => Expr::Or(c.iter().map(|e| expand_inner(e, scope, stack)).collect::<Result<_, _>>()?),
        Expr::Not(e) => Expr::Not(Box::new(expand_inner(e, scope, stack)?)),
        Expr::Ident(name) => {
            let Some((key, body)) = scope.macros.get_key_value(name.as_str()) else {
                return Err(format!("Undefined macro '{name}' used in filter."));
            };
            if stack.contains(key) {
                return Err(format!("Macro '{name}' refers to itself (a reference cycle)"));
            }
            stack.push(key);
            let e = expand_inner(body, scope, stack)?;
            stack.pop();
            e
        }
        Expr::Unary { .. } => expr.clone(),
        Expr::Binary { lhs, op, quant, rhs } => {
            let rhs = match rhs {
                Rhs::List(items) => Rhs::List(expand_list(items, scope)),
                Rhs::ListRef(name) => match scope.lists.get(name.as_str()) {
                    Some(items) => Rhs::List(expand_list(items, scope)),
                    None => return Err(format!("Undefined list '{name}' used in filter.")),
                },
                other => other.clone(),
            };
            Expr::Binary { lhs: lhs.clone(), op: op.clone(), quant: *quant, rhs }
        }
    })
}

/// A compiled, evaluable condition.
#[derive(Debug)]
pub enum Filter {
    And(Vec<Filter>),
    Or(Vec<Filter>),
    Not(Box<Filter>),
    Check(Box<Check>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Exists,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Contains,
    IContains,
    BContains,
    StartsWith,
    BStartsWith,
    EndsWith,
    Glob,
    IGlob,
    Regex,
    In,
    Intersects,
    PMatch,
}

impl Op {
    fn parse(op: &str) -> Option<Op> {
        Some(match op {
            "exists" => Op::Exists,
            "=" | "==" => Op::Eq,
            "!=" => Op::Ne,
            "<" => Op::Lt,
            "<=" => Op::Le,
            ">" => Op::Gt,
            ">=" => Op::Ge,
            "contains" => Op::Contains,
            "icontains" => Op::IContains,
            "bcontains" => Op::BContains,
            "startswith" => Op::StartsWith,
            "bstartswith" => Op::BStartsWith,
            "endswith" => Op::EndsWith,
            "glob" => Op::Glob,
            "iglob" => Op::IGlob,
            "regex" => Op::Regex,
            "in" => Op::In,
            "intersects" => Op::Intersects,
            "pmatch" => Op::PMatch,
            _ => return None,
        })
    }
}

/// A value source: a field, a transformer or `join`.
#[derive(Debug)]
enum Source {
    Field { def: FieldDef, arg: Option<String>, slot: usize },
    Lower(Box<Source>),
    Upper(Box<Source>),
    B64(Box<Source>),
    Basename(Box<Source>),
    Len(Box<Source>),
    Join { sep: String, items: Vec<JoinPart> },
    GetOpt { inner: Box<Source>, optstring: String, opt: Option<String> },
}

#[derive(Debug)]
enum JoinPart {
    Source(Source),
    Literal(String),
}

/// A condition value converted for the field's type.
#[derive(Debug)]
enum Value {
    Str(String),
    Num(i64),
    Bool(bool),
    Ip(IpAddr),
    Net(IpAddr, u8),
    Bytes(Vec<u8>),
    Regex(Box<regex::Regex>),
}

#[derive(Debug)]
enum Right {
    None,
    Values(Vec<Value>),
    /// `in` over many strings: a set.
    StrSet(HashSet<String>),
    Source(Source),
}

/// One field check.
#[derive(Debug)]
pub struct Check {
    lhs: Source,
    ty: FieldType,
    op: Op,
    quant: Option<Quant>,
    right: Right,
}

/// The type a source yields.
fn source_type(src: &Source) -> FieldType {
    match src {
        Source::Field { def, .. } => def.ty,
        Source::Len(_) => FieldType::Num,
        _ => FieldType::Str,
    }
}

fn resolve_field(name: &str, arg: Option<&str>, scope: &Scope<'_>) -> Result<Source, Message> {
    let (def, implied) = match scope.extra_fields.iter().find(|f| f.name == name) {
        Some(f) => (*f, None),
        None => match fields::lookup(name) {
            Some((f, implied)) => (*f, implied),
            None => return Err(format!("filter_check called with nonexistent field {name}")),
        },
    };
    let arg = match (implied, arg) {
        (Some(_), Some(_)) => return Err(format!("field '{name}' does not accept a second argument")),
        (Some(a), None) => Some(a),
        (None, a) => a.map(str::to_string),
    };
    match (def.arg, &arg) {
        (ArgKind::None, Some(_)) => return Err(format!("field '{name}' does not accept an argument")),
        (ArgKind::Required, None) => return Err(format!("field '{name}' requires an argument")),
        (ArgKind::OptionalIndex, Some(a))
            if def.name.starts_with("proc.a") && a.trim().parse::<usize>().is_err() =>
        {
            return Err(format!("field '{name}' needs a numeric argument, got '{a}'"));
        }
        _ => {}
    }
    let slot = {
        let mut slots = scope.slots.borrow_mut();
        let next = slots.len();
        *slots.entry((def.name.to_string(), arg.clone())).or_insert(next)
    };
    Ok(Source::Field { def, arg, slot })
}

fn compile_operand(o: &Operand, scope: &Scope<'_>, allow_val: bool) -> Result<Source, Message> {
    match o {
        Operand::Field { name, arg } => resolve_field(name, arg.as_deref(), scope),
        Operand::Transform { name, arg } => {
            let inner = compile_operand(arg, scope, false)?;
            let ty = source_type(&inner);
            let text_only = |t: &str| -> Result<(), Message> {
                if matches!(ty, FieldType::Str | FieldType::Bytes) {
                    Ok(())
                } else {
                    Err(format!("transformer '{t}' is not supported on a field of type {}", ty.name()))
                }
            };
            Ok(match name.as_str() {
                "val" if allow_val => inner,
                "tolower" => {
                    text_only("tolower")?;
                    Source::Lower(Box::new(inner))
                }
                "toupper" => {
                    text_only("toupper")?;
                    Source::Upper(Box::new(inner))
                }
                "b64" => {
                    text_only("b64")?;
                    Source::B64(Box::new(inner))
                }
                "basename" => {
                    text_only("basename")?;
                    Source::Basename(Box::new(inner))
                }
                "len" => Source::Len(Box::new(inner)),
                other => return Err(format!("unknown transformer '{other}'")),
            })
        }
        Operand::Join { sep, items } => {
            let mut parts = Vec::with_capacity(items.len());
            for i in items {
                parts.push(match i {
                    JoinItem::Operand(o) => JoinPart::Source(compile_operand(o, scope, false)?),
                    JoinItem::Literal(l) => JoinPart::Literal(l.clone()),
                });
            }
            Ok(Source::Join { sep: sep.clone(), items: parts })
        }
        Operand::GetOpt { field, optstring, opt } => {
            let inner = compile_operand(field, scope, false)?;
            if source_type(&inner) != FieldType::Str {
                return Err(format!("transformer 'getopt' needs a string field, not {field}"));
            }
            let Some(opt) = opt else {
                return Err(format!(
                    "'getopt({field}, \"{optstring}\")' needs the option to extract, as in [o]"
                ));
            };
            Ok(Source::GetOpt {
                inner: Box::new(inner),
                optstring: optstring.clone(),
                opt: Some(opt.clone()),
            })
        }
    }
}

/// The value of option `opt` in a command line parsed with getopt(3)'s `optstring` (`""` for a flag that
/// takes no value), `None` when the option is not given.
fn getopt_value(cmdline: &str, optstring: &str, opt: &str) -> Option<String> {
    let takes_value =
        |c: char| optstring.find(c).is_some_and(|i| optstring[i + c.len_utf8()..].starts_with(':'));
    let mut args = cmdline.split_whitespace();
    while let Some(a) = args.next() {
        if a == "--" {
            break;
        }
        let Some(flags) = a.strip_prefix('-').filter(|f| !f.is_empty() && !f.starts_with('-')) else {
            continue;
        };
        for (i, c) in flags.char_indices() {
            if !optstring.contains(c) {
                continue;
            }
            let value = if takes_value(c) {
                let rest = &flags[i + c.len_utf8()..];
                if rest.is_empty() { args.next().unwrap_or("").to_string() } else { rest.to_string() }
            } else {
                String::new()
            };
            if opt.starts_with(c) && opt.len() == c.len_utf8() {
                return Some(value);
            }
            if takes_value(c) {
                break;
            }
        }
    }
    None
}

/// Integer as libsinsp parses it for numeric fields: decimal or `0x` hex, no fraction.
fn parse_num(v: &str) -> Option<i64> {
    let t = v.trim();
    let (neg, body) = match t.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let n = if let Some(h) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        i64::from_str_radix(h, 16).ok()?
    } else if !body.is_empty() && body.bytes().all(|c| c.is_ascii_digit()) {
        body.parse::<i64>().or_else(|_| body.parse::<u64>().map(|u| u as i64)).ok()?
    } else {
        return None;
    };
    Some(if neg { -n } else { n })
}

fn parse_net(v: &str) -> Option<(IpAddr, u8)> {
    let (a, bits) = match v.split_once('/') {
        Some((a, b)) => (a, Some(b.parse::<u8>().ok()?)),
        None => (v, None),
    };
    let ip: IpAddr = a.parse().ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let bits = bits.unwrap_or(max);
    (bits <= max).then_some((ip, bits))
}

fn in_net(addr: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (addr, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = if bits == 0 { 0 } else { u32::MAX << (32 - u32::from(bits)) };
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = if bits == 0 { 0 } else { u128::MAX << (128 - u32::from(bits)) };
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

fn parse_hex(v: &str) -> Option<Vec<u8>> {
    if v.is_empty() || !v.len().is_multiple_of(2) || !v.bytes().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    (0..v.len()).step_by(2).map(|i| u8::from_str_radix(v.get(i..i + 2)?, 16).ok()).collect()
}

fn convert(ty: FieldType, op: Op, v: &str, field: &str) -> Result<Value, Message> {
    let bad = |what: &str| format!("'{v}' is not a valid {what} value for field {field}");
    Ok(match op {
        Op::Regex => {
            let r = regex::Regex::new(&format!("^(?:{v})$"))
                .map_err(|e| format!("invalid regex '{v}' for field {field}: {e}"))?;
            Value::Regex(Box::new(r))
        }
        Op::BContains | Op::BStartsWith => Value::Bytes(parse_hex(v).ok_or_else(|| bad("hex bytes"))?),
        Op::IContains | Op::IGlob => Value::Str(v.to_lowercase()),
        _ => match ty {
            FieldType::Str | FieldType::Bytes => Value::Str(v.to_string()),
            FieldType::Num => Value::Num(parse_num(v).ok_or_else(|| bad("number"))?),
            FieldType::Bool => match v {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                _ => return Err(bad("bool")),
            },
            FieldType::Ip => Value::Ip(v.parse().map_err(|_| bad("IP address"))?),
            FieldType::Net => {
                let (n, b) = parse_net(v).ok_or_else(|| bad("IP network"))?;
                Value::Net(n, b)
            }
        },
    })
}

/// Compile an expanded condition. Warnings (values that look like fields, regexes that could be
/// plain operators) are appended to `warnings`.
pub fn compile(expr: &Expr, scope: &Scope<'_>, warnings: &mut Vec<Message>) -> Result<Filter, Message> {
    Ok(match expr {
        Expr::And(c) => Filter::And(c.iter().map(|e| compile(e, scope, warnings)).collect::<Result<_, _>>()?),
        Expr::Or(c) => Filter::Or(c.iter().map(|e| compile(e, scope, warnings)).collect::<Result<_, _>>()?),
        Expr::Not(e) => Filter::Not(Box::new(compile(e, scope, warnings)?)),
        Expr::Ident(name) => return Err(format!("Undefined macro '{name}' used in filter.")),
        Expr::Unary { lhs, op: _ } => {
            let src = compile_operand(lhs, scope, false)?;
            let ty = source_type(&src);
            Filter::Check(Box::new(Check { lhs: src, ty, op: Op::Exists, quant: None, right: Right::None }))
        }
        Expr::Binary { lhs, op, quant, rhs } => {
            let src = compile_operand(lhs, scope, false)?;
            let ty = source_type(&src);
            let field = lhs.to_string();
            let Some(o) = Op::parse(op) else {
                return Err(format!("'{op}' is not a supported comparison operator"));
            };
            if !ty.allows(op) {
                return Err(format!(
                    "operator '{op}' is not supported on field {field} of type {}",
                    ty.name()
                ));
            }
            let right = match rhs {
                Rhs::Operand(r) => Right::Source(compile_operand(r, scope, true)?),
                Rhs::Value(v) => {
                    lint_value(o, v, warnings);
                    Right::Values(vec![convert(ty, o, v, &field)?])
                }
                Rhs::List(items) => {
                    if quant.is_none() && matches!(o, Op::In | Op::Intersects) && ty == FieldType::Str {
                        Right::StrSet(items.iter().cloned().collect())
                    } else {
                        Right::Values(
                            items.iter().map(|v| convert(ty, o, v, &field)).collect::<Result<_, _>>()?,
                        )
                    }
                }
                Rhs::ListRef(name) => return Err(format!("Undefined list '{name}' used in filter.")),
            };
            Filter::Check(Box::new(Check { lhs: src, ty, op: o, quant: *quant, right }))
        }
    })
}

/// Warnings on a compared value: it names a field (probably meant as `val(…)`), or a regex that is
/// really a literal match.
fn lint_value(op: Op, v: &str, warnings: &mut Vec<Message>) {
    let looks_like_field = |s: &str| fields::lookup(s).is_some();
    let mut flagged = looks_like_field(v);
    if !flagged
        && let Some((t, rest)) = v.split_once('(')
        && let Some(inner) = rest.strip_suffix(')')
    {
        flagged = super::parser::TRANSFORMERS.contains(&t) && looks_like_field(inner);
    }
    if flagged {
        warnings.push(format!(
            "string '{v}' is compared as a literal but looks like a field; use val({v}) to compare with the field's value"
        ));
    }
    if op == Op::Regex {
        let mut core = v.strip_prefix('^').unwrap_or(v);
        core = core.strip_suffix('$').unwrap_or(core);
        for p in [".*", ".+", ".?"] {
            core = core.strip_prefix(p).unwrap_or(core);
            core = core.strip_suffix(p).unwrap_or(core);
        }
        if !core.is_empty() && !core.chars().any(|c| "\\.^$|?*+()[]{}".contains(c)) {
            warnings.push(format!(
                "regex '{v}' matches a literal: a string operator (=, startswith, endswith, contains) is cheaper"
            ));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Evaluation

fn extract<'a>(src: &Source, ctx: &Ctx<'a>) -> Option<Val<'a>> {
    fn text<'a>(v: Val<'a>, f: impl Fn(&str) -> String) -> Option<Val<'a>> {
        match v {
            Val::Str(s) => Some(Val::Str(Cow::Owned(f(&s)))),
            Val::List(l) => Some(Val::List(l.iter().map(|s| Cow::Owned(f(s))).collect())),
            other => Some(Val::Str(Cow::Owned(f(&other.render())))),
        }
    }
    match src {
        Source::Field { def, arg, .. } => (def.extract)(ctx, arg.as_deref()),
        Source::Lower(s) => text(extract(s, ctx)?, str::to_lowercase),
        Source::Upper(s) => text(extract(s, ctx)?, str::to_uppercase),
        Source::B64(s) => text(extract(s, ctx)?, |t| {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD
                .decode(t.trim())
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default()
        }),
        Source::Basename(s) => text(extract(s, ctx)?, |t| fields::basename(t).to_string()),
        Source::Len(s) => Some(Val::Num(match extract(s, ctx)? {
            Val::Str(t) => t.len() as i64,
            Val::List(l) => l.len() as i64,
            other => other.render().len() as i64,
        })),
        Source::Join { sep, items } => {
            let mut parts = Vec::with_capacity(items.len());
            for i in items {
                match i {
                    JoinPart::Literal(l) => parts.push(l.clone()),
                    JoinPart::Source(s) => parts.push(extract(s, ctx)?.render()),
                }
            }
            Some(Val::Str(Cow::Owned(parts.join(sep))))
        }
        Source::GetOpt { inner, optstring, opt } => {
            let v = extract(inner, ctx)?.render();
            getopt_value(&v, optstring, opt.as_deref()?).map(|s| Val::Str(Cow::Owned(s)))
        }
    }
}

/// Run `f` on a source's value, reading a field through the context's per-event cache when there is one.
fn with_value<R>(src: &Source, ctx: &Ctx<'_>, f: impl FnOnce(Option<&Val<'_>>) -> R) -> R {
    match src {
        Source::Field { def, arg, slot } => match ctx.cache.and_then(|c| c.get(*slot)) {
            Some(cell) => f(cell.get_or_init(|| (def.extract)(ctx, arg.as_deref())).as_ref()),
            None => f((def.extract)(ctx, arg.as_deref()).as_ref()),
        },
        other => f(extract(other, ctx).as_ref()),
    }
}

impl Filter {
    /// Evaluate on one event.
    pub fn eval(&self, ctx: &Ctx<'_>) -> bool {
        match self {
            Filter::And(c) => c.iter().all(|f| f.eval(ctx)),
            Filter::Or(c) => c.iter().any(|f| f.eval(ctx)),
            Filter::Not(f) => !f.eval(ctx),
            Filter::Check(c) => c.eval(ctx),
        }
    }
}

impl Check {
    fn eval(&self, ctx: &Ctx<'_>) -> bool {
        with_value(&self.lhs, ctx, |lhs| {
            let Some(lhs) = lhs else {
                return false;
            };
            if self.op == Op::Exists {
                return true;
            }
            match lhs {
                Val::List(items) => items.iter().any(|s| self.eval_one(&Val::Str(Cow::Borrowed(s)), ctx)),
                v => self.eval_one(v, ctx),
            }
        })
    }

    fn eval_one(&self, lhs: &Val<'_>, ctx: &Ctx<'_>) -> bool {
        match &self.right {
            Right::None => true,
            Right::StrSet(set) => match lhs {
                Val::Str(s) => set.contains(s.as_ref()),
                other => set.contains(&other.render()),
            },
            Right::Source(src) => {
                let Some(r) = extract(src, ctx) else {
                    return false;
                };
                let rv = match (&r, self.ty) {
                    (Val::Num(n), _) => Value::Num(*n),
                    (Val::Bool(b), _) => Value::Bool(*b),
                    (other, FieldType::Num) => match parse_num(&other.render()) {
                        Some(n) => Value::Num(n),
                        None => return false,
                    },
                    (other, _) => Value::Str(other.render()),
                };
                let op = if self.op == Op::In || self.op == Op::Intersects { Op::Eq } else { self.op };
                compare(lhs, op, &rv)
            }
            Right::Values(values) => {
                let op = match self.op {
                    Op::In | Op::Intersects => Op::Eq,
                    o => o,
                };
                if self.op == Op::PMatch {
                    let Val::Str(s) = lhs else { return false };
                    return values.iter().any(|v| match v {
                        Value::Str(p) => pmatch(s, p),
                        _ => false,
                    });
                }
                match self.quant {
                    Some(Quant::AllOf) => !values.is_empty() && values.iter().all(|v| compare(lhs, op, v)),
                    Some(Quant::OneOf) => values.iter().filter(|v| compare(lhs, op, v)).count() == 1,
                    _ => values.iter().any(|v| compare(lhs, op, v)),
                }
            }
        }
    }
}

/// `pmatch`: the path is the prefix directory itself or below it.
fn pmatch(path: &str, prefix: &str) -> bool {
    let p = prefix.trim_end_matches('/');
    path == p
        || (path.starts_with(p) && path.as_bytes().get(p.len()) == Some(&b'/'))
        || (p.is_empty() && path.starts_with('/'))
}

fn compare(lhs: &Val<'_>, op: Op, rhs: &Value) -> bool {
    match (lhs, rhs) {
        (Val::Num(a), Value::Num(b)) => match op {
            Op::Eq => a == b,
            Op::Ne => a != b,
            Op::Lt => a < b,
            Op::Le => a <= b,
            Op::Gt => a > b,
            Op::Ge => a >= b,
            _ => false,
        },
        (Val::Bool(a), Value::Bool(b)) => match op {
            Op::Eq => a == b,
            Op::Ne => a != b,
            _ => false,
        },
        (Val::Str(s), Value::Ip(ip)) => match s.parse::<IpAddr>() {
            Ok(a) => (op == Op::Eq) == (a == *ip),
            Err(_) => false,
        },
        (Val::Str(s), Value::Net(n, bits)) => match s.parse::<IpAddr>() {
            Ok(a) => (op == Op::Eq) == in_net(a, *n, *bits),
            Err(_) => false,
        },
        (Val::Str(s), Value::Bytes(b)) => {
            let sb = s.as_bytes();
            match op {
                Op::BContains => b.is_empty() || sb.windows(b.len()).any(|w| w == b.as_slice()),
                Op::BStartsWith => sb.starts_with(b),
                _ => false,
            }
        }
        (Val::Str(s), Value::Regex(r)) => r.is_match(s),
        (Val::Str(s), Value::Str(v)) => {
            let s = s.as_ref();
            match op {
                Op::Eq => s == v,
                Op::Ne => s != v,
                Op::Lt => s < v.as_str(),
                Op::Le => s <= v.as_str(),
                Op::Gt => s > v.as_str(),
                Op::Ge => s >= v.as_str(),
                Op::Contains => s.contains(v.as_str()),
                Op::IContains => s.to_lowercase().contains(v.as_str()),
                Op::StartsWith => s.starts_with(v.as_str()),
                Op::EndsWith => s.ends_with(v.as_str()),
                Op::Glob => glob_match(v, s),
                Op::IGlob => glob_match(v, &s.to_lowercase()),
                _ => false,
            }
        }
        (Val::Num(a), Value::Str(v)) => {
            compare(&Val::Str(Cow::Owned(a.to_string())), op, &Value::Str(v.clone()))
        }
        _ => false,
    }
}

// ---------------------------------------------------------------------------------------------
// Event-type analysis

/// The event types a condition can match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EvtTypes {
    /// Only these.
    Only(BTreeSet<String>),
    /// Every type except these (an empty set: any type).
    Except(BTreeSet<String>),
}

impl EvtTypes {
    pub fn any() -> Self {
        EvtTypes::Except(BTreeSet::new())
    }

    fn not(self) -> Self {
        match self {
            EvtTypes::Only(s) => EvtTypes::Except(s),
            EvtTypes::Except(s) => EvtTypes::Only(s),
        }
    }

    fn and(self, o: Self) -> Self {
        use EvtTypes::*;
        match (self, o) {
            (Only(a), Only(b)) => Only(a.intersection(&b).cloned().collect()),
            (Only(a), Except(b)) | (Except(b), Only(a)) => Only(a.difference(&b).cloned().collect()),
            (Except(a), Except(b)) => Except(a.union(&b).cloned().collect()),
        }
    }

    fn or(self, o: Self) -> Self {
        self.not().and(o.not()).not()
    }
}

/// Which `evt.type` values an expanded condition can match (for the rule index).
pub fn evt_types(e: &Expr) -> EvtTypes {
    match e {
        Expr::And(c) => c.iter().map(evt_types).fold(EvtTypes::any(), EvtTypes::and),
        Expr::Or(c) => c.iter().map(evt_types).fold(EvtTypes::Only(BTreeSet::new()), EvtTypes::or),
        Expr::Not(e) => match evt_types(e) {
            // Only `evt.type` checks are exact; a negated non-type check still allows every type.
            t if is_type_only(e) => t.not(),
            _ => EvtTypes::any(),
        },
        Expr::Binary { lhs: Operand::Field { name, arg: None }, op, quant: None, rhs }
            if name == "evt.type" =>
        {
            match (op.as_str(), rhs) {
                ("=" | "==", Rhs::Value(v)) => EvtTypes::Only([v.clone()].into()),
                ("!=", Rhs::Value(v)) => EvtTypes::Except([v.clone()].into()),
                ("in" | "intersects", Rhs::List(items)) => EvtTypes::Only(items.iter().cloned().collect()),
                _ => EvtTypes::any(),
            }
        }
        _ => EvtTypes::any(),
    }
}

/// Whether a condition's truth depends on `evt.type` alone (so negating it negates the type set).
fn is_type_only(e: &Expr) -> bool {
    match e {
        Expr::And(c) | Expr::Or(c) => c.iter().all(is_type_only),
        Expr::Not(e) => is_type_only(e),
        Expr::Binary { lhs: Operand::Field { name, arg: None }, quant: None, .. } => name == "evt.type",
        _ => false,
    }
}

/// A resolved field, for output templates.
#[derive(Debug)]
pub struct FieldSource(Source);

impl FieldSource {
    /// The value rendered as text, `None` when absent.
    pub fn render(&self, ctx: &Ctx<'_>) -> Option<String> {
        extract(&self.0, ctx).map(|v| v.render())
    }
}

/// Resolve `name[arg]` against the field table.
pub fn field_source(name: &str, arg: Option<&str>, scope: &Scope<'_>) -> Result<FieldSource, Message> {
    resolve_field(name, arg, scope).map(FieldSource)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::parser::parse;

    fn types(c: &str) -> EvtTypes {
        evt_types(&parse(c).unwrap())
    }

    #[test]
    fn evt_type_sets() {
        assert_eq!(
            types("evt.type in (open, openat) and proc.name = x"),
            EvtTypes::Only(["open".into(), "openat".into()].into())
        );
        assert_eq!(types("proc.name = x"), EvtTypes::any());
        assert_eq!(types("not evt.type = open"), EvtTypes::Except(["open".into()].into()));
        assert_eq!(types("not (evt.type = open and proc.name = x)"), EvtTypes::any());
        assert_eq!(types("evt.type = a or evt.type = b"), EvtTypes::Only(["a".into(), "b".into()].into()));
    }

    #[test]
    fn getopt_in_a_condition() {
        let ev = crate::event::Event {
            time_ns: 0,
            kind: crate::event::EventKind::Execve,
            result: Some(0),
            process: crate::event::Process {
                comm: "iptables".into(),
                args: ["iptables", "-t", "nat", "-A", "X"].map(String::from).to_vec(),
                ..Default::default()
            },
            ancestors: vec![],
            container: None,
        };
        let scope = Scope::default();
        let check = |c: &str| {
            let e = expand(&parse(c).unwrap(), &scope).unwrap();
            compile(&e, &scope, &mut Vec::new()).unwrap().eval(&Ctx::new(&ev, "h"))
        };
        assert!(check("getopt(proc.args, \"t:A:\")[t] = nat"));
        assert!(!check("getopt(proc.args, \"t:A:\")[A] = nat"));
        assert!(
            compile(&parse("getopt(proc.pid, \"t:\")[t] = x").unwrap(), &scope, &mut Vec::new()).is_err()
        );
    }

    #[test]
    fn getopt_values() {
        assert_eq!(getopt_value("-n -t nat -A X", "nt:A:", "t").as_deref(), Some("nat"));
        assert_eq!(getopt_value("-ntnat", "nt:", "t").as_deref(), Some("nat"));
        assert_eq!(getopt_value("-n", "nt:", "n").as_deref(), Some(""));
        assert_eq!(getopt_value("-x", "nt:", "t"), None);
    }

    #[test]
    fn networks_and_numbers() {
        assert!(in_net("10.1.2.3".parse().unwrap(), "10.0.0.0".parse().unwrap(), 8));
        assert!(!in_net("11.1.2.3".parse().unwrap(), "10.0.0.0".parse().unwrap(), 8));
        assert_eq!(parse_num("0x10"), Some(16));
        assert_eq!(parse_num("1.0"), None);
        assert!(pmatch("/etc/shadow", "/etc"));
        assert!(!pmatch("/etcx", "/etc"));
    }
}
