//! Kubernetes' CEL format library: `format.dns1123Label()`, `format.dns1123Subdomain()`,
//! `format.dns1035Label()`, `format.qualifiedName()`, `format.labelValue()`, the `…Prefix()` forms
//! (a `generateName` prefix: a trailing `-` is allowed), `format.uri()`, `format.uuid()`, `format.byte()`,
//! `format.date()`, `format.datetime()`, `format.named(name)` (an optional format), and
//! `<format>.validate(value)`: `optional.none()` when the value is valid, else an optional list of errors.

use super::{fail, string_arg};
use cel::extractors::This;
use cel::objects::{Opaque, OptionalValue};
use cel::{Context, ExecutionError, Value};
use regex::Regex;
use std::sync::{Arc, OnceLock};

/// A named format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Format(pub &'static str);

impl Opaque for Format {
    fn runtime_type_name(&self) -> &str {
        "kubernetes.NamedFormat"
    }
}

const NAMES: &[&str] = &[
    "dns1123Label",
    "dns1123Subdomain",
    "dns1035Label",
    "qualifiedName",
    "dns1123LabelPrefix",
    "dns1123SubdomainPrefix",
    "dns1035LabelPrefix",
    "labelValue",
    "uri",
    "uuid",
    "byte",
    "date",
    "datetime",
];

fn re(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    // The patterns are constants of this file and compile.
    cell.get_or_init(|| Regex::new(pattern).unwrap_or_else(|_| Regex::new("$^").expect("empty regex")))
}

fn label(s: &str, max: usize, first_letter: bool) -> Vec<String> {
    static L1123: OnceLock<Regex> = OnceLock::new();
    static L1035: OnceLock<Regex> = OnceLock::new();
    let r = if first_letter {
        re(&L1035, "^[a-z]([-a-z0-9]*[a-z0-9])?$")
    } else {
        re(&L1123, "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
    };
    let mut errs = Vec::new();
    if s.len() > max {
        errs.push(format!("must be no more than {max} characters"));
    }
    if !r.is_match(s) {
        errs.push(if first_letter {
            "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character".into()
        } else {
            "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character".into()
        });
    }
    errs
}

fn subdomain(s: &str) -> Vec<String> {
    static R: OnceLock<Regex> = OnceLock::new();
    let r = re(&R, r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$");
    let mut errs = Vec::new();
    if s.len() > 253 {
        errs.push("must be no more than 253 characters".into());
    }
    if !r.is_match(s) {
        errs.push("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character".into());
    }
    errs
}

fn name_part(s: &str) -> bool {
    static R: OnceLock<Regex> = OnceLock::new();
    re(&R, "^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$").is_match(s)
}

/// Validate `s` against format `name`: the errors (empty = valid).
pub fn validate(name: &str, s: &str) -> Vec<String> {
    let prefix = |s: &str| s.strip_suffix('-').unwrap_or(s).to_string();
    match name {
        "dns1123Label" => label(s, 63, false),
        "dns1035Label" => label(s, 63, true),
        "dns1123LabelPrefix" => label(&prefix(s), 63, false),
        "dns1035LabelPrefix" => label(&prefix(s), 63, true),
        "dns1123Subdomain" => subdomain(s),
        "dns1123SubdomainPrefix" => subdomain(&prefix(s)),
        "qualifiedName" => {
            let (p, n) = match s.split_once('/') {
                Some((p, n)) => (Some(p), n),
                None => (None, s),
            };
            let mut errs = Vec::new();
            if let Some(p) = p {
                if p.is_empty() {
                    errs.push("prefix part must be non-empty".into());
                } else {
                    errs.extend(subdomain(p).into_iter().map(|e| format!("prefix part {e}")));
                }
            }
            if n.is_empty() || n.len() > 63 || !name_part(n) {
                errs.push("name part must consist of alphanumeric characters, '-', '_' or '.', must start and end with an alphanumeric character, and be at most 63 characters".into());
            }
            errs
        }
        "labelValue" => {
            if s.is_empty() || (s.len() <= 63 && name_part(s)) {
                Vec::new()
            } else {
                vec!["a valid label value must be 63 characters or less and must be empty or begin and end with an alphanumeric character with '-', '_' or '.' between".into()]
            }
        }
        "uri" => match super::url::parse(s) {
            Some(_) => Vec::new(),
            None => vec!["invalid URI".into()],
        },
        "uuid" => {
            static R: OnceLock<Regex> = OnceLock::new();
            let r = re(&R, "^(?i)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$");
            if r.is_match(s) { Vec::new() } else { vec!["does not match the UUID format".into()] }
        }
        "byte" => {
            static R: OnceLock<Regex> = OnceLock::new();
            let r = re(&R, "^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$");
            if r.is_match(s) { Vec::new() } else { vec!["invalid base64".into()] }
        }
        "date" => match is_date(s) {
            true => Vec::new(),
            false => vec!["invalid date (expected YYYY-MM-DD)".into()],
        },
        "datetime" => match time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339) {
            Ok(_) => Vec::new(),
            Err(e) => vec![format!("invalid RFC 3339 date-time: {e}")],
        },
        _ => vec![format!("unknown format {name:?}")],
    }
}

fn is_date(s: &str) -> bool {
    let f = time::macros::format_description!("[year]-[month]-[day]");
    s.len() == 10 && time::Date::parse(s, &f).is_ok()
}

fn named(n: Value) -> Result<Value, ExecutionError> {
    let name = string_arg("format.named", &n)?;
    Ok(Value::Opaque(Arc::new(match NAMES.iter().find(|x| **x == name) {
        Some(x) => OptionalValue::of(Value::Opaque(Arc::new(Format(x)))),
        None => OptionalValue::none(),
    })))
}

fn validate_fn(This(f): This<Value>, v: Value) -> Result<Value, ExecutionError> {
    let Value::Opaque(o) = &f else { return Err(fail("validate", "not a format")) };
    let Some(Format(name)) = o.downcast_ref::<Format>() else { return Err(fail("validate", "not a format")) };
    let errs = validate(name, string_arg("validate", &v)?);
    Ok(Value::Opaque(Arc::new(if errs.is_empty() {
        OptionalValue::none()
    } else {
        OptionalValue::of(Value::List(Arc::new(
            errs.into_iter().map(|e| Value::String(Arc::new(e))).collect(),
        )))
    })))
}

pub(super) fn register(ctx: &mut Context, r: &mut dyn FnMut(Result<(), cel::DeclarationError>)) {
    for name in NAMES {
        let value = Value::Opaque(Arc::new(Format(name)));
        r(ctx.add_function(&format!("format.{name}"), move || value.clone()));
    }
    r(ctx.add_function("format.named", named));
    r(ctx.add_function("validate", validate_fn));
}

#[cfg(test)]
mod tests {
    use super::super::tests::eval;
    use cel::Value;

    #[test]
    fn formats() {
        let t = |e: &str| assert_eq!(eval(e), Ok(Value::Bool(true)), "{e}");
        t("!format.dns1123Label().validate('my-name').hasValue()");
        t("format.dns1123Label().validate('My_Name').hasValue()");
        t("format.dns1123Label().validate('My_Name').value().size() == 1");
        t("!format.dns1123Subdomain().validate('a.b-c.example').hasValue()");
        t("!format.qualifiedName().validate('example.com/app_name').hasValue()");
        t("format.labelValue().validate('-bad').hasValue() && !format.labelValue().validate('').hasValue()");
        t("!format.uuid().validate('123e4567-e89b-12d3-a456-426614174000').hasValue()");
        t(
            "!format.date().validate('2024-02-29').hasValue() && format.date().validate('2023-02-29').hasValue()",
        );
        t("!format.datetime().validate('2024-01-01T10:00:00Z').hasValue()");
        t("format.named('uri').hasValue() && !format.named('nope').hasValue()");
        t("!format.named('dns1035Label').value().validate('abc').hasValue()");
        t("!format.dns1123LabelPrefix().validate('web-').hasValue()");
    }
}
