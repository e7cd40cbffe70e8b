//! JMESPath with the Kyverno custom functions the Kyverno test suites use: string functions (`split`,
//! `trim`, `trim_prefix`, `trim_suffix`, `replace`, `replace_all`, `to_upper`, `to_lower`, `truncate`,
//! `compare`, `equal_fold`, `regex_match`, `pattern_match`, `base64_decode`, `base64_encode`,
//! `path_canonicalize`), parsing (`parse_json`, `parse_yaml`), objects (`items`, `object_from_lists`,
//! `label_match`) and arithmetic (`add`, `subtract`, `multiply`, `divide`, `modulo`). One runtime is built
//! per process.

use jmespath::functions::{ArgumentType, CustomFunction, Signature};
use jmespath::{Context, ErrorReason, JmespathError, Rcvar, Runtime, Variable};
use std::sync::{Arc, OnceLock};

fn err(ctx: &Context<'_>, message: impl Into<String>) -> JmespathError {
    JmespathError::new(ctx.expression, ctx.offset, ErrorReason::Parse(message.into()))
}

fn s(v: &Rcvar) -> String {
    match &**v {
        Variable::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn string(v: impl Into<String>) -> Rcvar {
    Arc::new(Variable::String(v.into()))
}

fn json_to_var(v: serde_json::Value) -> Result<Rcvar, String> {
    Variable::try_from(v).map(Arc::new).map_err(|e| e.to_string())
}

type Body = dyn Fn(&[Rcvar], &Context<'_>) -> Result<Rcvar, JmespathError> + Send + Sync;

fn add(rt: &mut Runtime, name: &str, args: Vec<ArgumentType>, f: Box<Body>) {
    rt.register_function(
        name,
        Box::new(CustomFunction::new(
            Signature::new(args, None),
            Box::new(move |a: &[Rcvar], ctx: &mut Context<'_>| f(a, ctx)),
        )),
    );
}

fn number(v: &Rcvar, ctx: &Context<'_>) -> Result<f64, JmespathError> {
    match &**v {
        Variable::Number(n) => n.as_f64().ok_or_else(|| err(ctx, "not a number")),
        Variable::String(t) => match crate::engine::cel::library::quantity_value(t) {
            Some(q) => Ok(q),
            None => Err(err(ctx, format!("{t:?} is not a number"))),
        },
        other => Err(err(ctx, format!("{other} is not a number"))),
    }
}

fn num(x: f64) -> Rcvar {
    let n = if x.fract() == 0.0 && x.abs() < 9.0e15 {
        serde_json::Number::from(x as i64)
    } else {
        serde_json::Number::from_f64(x).unwrap_or_else(|| serde_json::Number::from(0))
    };
    Arc::new(Variable::Number(n))
}

/// Kyverno's wildcard match: `*` any run, `?` one character.
pub fn wildcard(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(sp) = star {
            pi = sp + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

fn base64_decode(t: &str) -> Option<String> {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let (mut buf, mut bits) = (0u32, 0);
    for c in t.bytes().filter(|c| !c.is_ascii_whitespace() && *c != b'=') {
        let v = A.iter().position(|&x| x == c)? as u32;
        buf = (buf << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
            buf &= (1 << bits) - 1;
        }
    }
    String::from_utf8(out).ok()
}

fn base64_encode(t: &str) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in t.as_bytes().chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn build() -> Runtime {
    use ArgumentType::{Any, Array, Object, String as Str};
    let mut rt = Runtime::new();
    rt.register_builtin_functions();
    add(
        &mut rt,
        "split",
        vec![Str, Str],
        Box::new(|a, _| {
            Ok(Arc::new(Variable::Array(s(&a[0]).split(s(&a[1]).as_str()).map(string).collect())))
        }),
    );
    add(
        &mut rt,
        "trim",
        vec![Str, Str],
        Box::new(|a, _| {
            let cut: Vec<char> = s(&a[1]).chars().collect();
            Ok(string(s(&a[0]).trim_matches(|c| cut.contains(&c))))
        }),
    );
    add(
        &mut rt,
        "trim_prefix",
        vec![Str, Str],
        Box::new(|a, _| {
            let (t, p) = (s(&a[0]), s(&a[1]));
            Ok(string(t.strip_prefix(p.as_str()).unwrap_or(&t)))
        }),
    );
    add(
        &mut rt,
        "trim_suffix",
        vec![Str, Str],
        Box::new(|a, _| {
            let (t, p) = (s(&a[0]), s(&a[1]));
            Ok(string(t.strip_suffix(p.as_str()).unwrap_or(&t)))
        }),
    );
    add(
        &mut rt,
        "replace",
        vec![Str, Str, Str, ArgumentType::Number],
        Box::new(|a, ctx| {
            let n = number(&a[3], ctx)?;
            let (t, from, to) = (s(&a[0]), s(&a[1]), s(&a[2]));
            Ok(string(if n < 0.0 { t.replace(&from, &to) } else { t.replacen(&from, &to, n as usize) }))
        }),
    );
    add(
        &mut rt,
        "replace_all",
        vec![Str, Str, Str],
        Box::new(|a, _| Ok(string(s(&a[0]).replace(&s(&a[1]), &s(&a[2]))))),
    );
    add(&mut rt, "to_upper", vec![Str], Box::new(|a, _| Ok(string(s(&a[0]).to_uppercase()))));
    add(&mut rt, "to_lower", vec![Str], Box::new(|a, _| Ok(string(s(&a[0]).to_lowercase()))));
    add(
        &mut rt,
        "truncate",
        vec![Str, ArgumentType::Number],
        Box::new(|a, ctx| {
            let n = number(&a[1], ctx)?.max(0.0) as usize;
            Ok(string(s(&a[0]).chars().take(n).collect::<String>()))
        }),
    );
    add(&mut rt, "compare", vec![Str, Str], Box::new(|a, _| Ok(num(s(&a[0]).cmp(&s(&a[1])) as i64 as f64))));
    add(
        &mut rt,
        "equal_fold",
        vec![Str, Str],
        Box::new(|a, _| Ok(Arc::new(Variable::Bool(s(&a[0]).to_lowercase() == s(&a[1]).to_lowercase())))),
    );
    add(
        &mut rt,
        "regex_match",
        vec![Str, Any],
        Box::new(|a, ctx| {
            let re = regex::Regex::new(&s(&a[0])).map_err(|e| err(ctx, format!("regex_match: {e}")))?;
            Ok(Arc::new(Variable::Bool(re.is_match(&s(&a[1])))))
        }),
    );
    add(
        &mut rt,
        "regex_replace_all",
        vec![Str, Any, Any],
        Box::new(|a, ctx| {
            let re = regex::Regex::new(&s(&a[0])).map_err(|e| err(ctx, format!("regex_replace_all: {e}")))?;
            Ok(string(re.replace_all(&s(&a[1]), s(&a[2]).as_str()).into_owned()))
        }),
    );
    add(
        &mut rt,
        "pattern_match",
        vec![Str, Any],
        Box::new(|a, _| Ok(Arc::new(Variable::Bool(wildcard(&s(&a[0]), &s(&a[1])))))),
    );
    add(
        &mut rt,
        "base64_decode",
        vec![Str],
        Box::new(|a, ctx| {
            base64_decode(&s(&a[0])).map(string).ok_or_else(|| err(ctx, "base64_decode: invalid input"))
        }),
    );
    add(&mut rt, "base64_encode", vec![Str], Box::new(|a, _| Ok(string(base64_encode(&s(&a[0]))))));
    add(
        &mut rt,
        "path_canonicalize",
        vec![Str],
        Box::new(|a, _| {
            let t = s(&a[0]);
            let mut parts: Vec<&str> = Vec::new();
            for p in t.split('/') {
                match p {
                    "" | "." => {}
                    ".." => {
                        parts.pop();
                    }
                    p => parts.push(p),
                }
            }
            let joined = parts.join("/");
            Ok(string(if t.starts_with('/') {
                format!("/{joined}")
            } else if joined.is_empty() {
                ".".into()
            } else {
                joined
            }))
        }),
    );
    add(
        &mut rt,
        "parse_json",
        vec![Str],
        Box::new(|a, ctx| {
            let v: serde_json::Value =
                serde_json::from_str(&s(&a[0])).map_err(|e| err(ctx, format!("parse_json: {e}")))?;
            json_to_var(v).map_err(|e| err(ctx, e))
        }),
    );
    add(
        &mut rt,
        "parse_yaml",
        vec![Str],
        Box::new(|a, ctx| {
            let text = s(&a[0]);
            let doc = palisade_checks::yaml::load_all(&text)
                .into_iter()
                .next()
                .transpose()
                .map_err(|e| err(ctx, format!("parse_yaml: {}", e.message)))?;
            json_to_var(doc.map(|d| d.to_json()).unwrap_or(serde_json::Value::Null)).map_err(|e| err(ctx, e))
        }),
    );
    add(
        &mut rt,
        "items",
        vec![Any, Str, Str],
        Box::new(|a, _| {
            let (kn, vn) = (s(&a[1]), s(&a[2]));
            let items: Vec<Rcvar> = match &*a[0] {
                Variable::Object(m) => m
                    .iter()
                    .map(|(k, v)| {
                        Arc::new(Variable::Object(
                            [(kn.clone(), string(k.clone())), (vn.clone(), v.clone())].into_iter().collect(),
                        ))
                    })
                    .collect(),
                Variable::Array(l) => l
                    .iter()
                    .enumerate()
                    .map(|(i, v)| {
                        Arc::new(Variable::Object(
                            [(kn.clone(), num(i as f64)), (vn.clone(), v.clone())].into_iter().collect(),
                        ))
                    })
                    .collect(),
                _ => Vec::new(),
            };
            Ok(Arc::new(Variable::Array(items)))
        }),
    );
    add(
        &mut rt,
        "object_from_lists",
        vec![Array, Array],
        Box::new(|a, _| {
            let keys = a[0].as_array().cloned().unwrap_or_default();
            let vals = a[1].as_array().cloned().unwrap_or_default();
            let m = keys
                .iter()
                .enumerate()
                .map(|(i, k)| (s(k), vals.get(i).cloned().unwrap_or_else(|| Arc::new(Variable::Null))))
                .collect();
            Ok(Arc::new(Variable::Object(m)))
        }),
    );
    add(
        &mut rt,
        "label_match",
        vec![Object, Object],
        Box::new(|a, _| {
            let want = a[0].as_object().cloned().unwrap_or_default();
            let have = a[1].as_object().cloned().unwrap_or_default();
            Ok(Arc::new(Variable::Bool(want.iter().all(|(k, v)| have.get(k).is_some_and(|h| s(h) == s(v))))))
        }),
    );
    let arith = |name: &'static str, f: fn(f64, f64) -> Option<f64>| -> Box<Body> {
        Box::new(move |a, ctx| {
            let (x, y) = (number(&a[0], ctx)?, number(&a[1], ctx)?);
            f(x, y).map(num).ok_or_else(|| err(ctx, format!("{name}: division by zero")))
        })
    };
    add(&mut rt, "add", vec![Any, Any], arith("add", |x, y| Some(x + y)));
    add(&mut rt, "subtract", vec![Any, Any], arith("subtract", |x, y| Some(x - y)));
    add(&mut rt, "multiply", vec![Any, Any], arith("multiply", |x, y| Some(x * y)));
    add(&mut rt, "divide", vec![Any, Any], arith("divide", |x, y| (y != 0.0).then(|| x / y)));
    add(&mut rt, "modulo", vec![Any, Any], arith("modulo", |x, y| (y != 0.0).then(|| x % y)));
    rt
}

fn runtime() -> &'static Runtime {
    static RT: OnceLock<Runtime> = OnceLock::new();
    RT.get_or_init(build)
}

/// Evaluate `expr` on `data`; errors carry JMESPath's message.
pub fn search(expr: &str, data: &serde_json::Value) -> Result<serde_json::Value, String> {
    thread_local! {
        // Compiled expressions, per thread (policies repeat the same few variables on every object).
        static CACHE: std::cell::RefCell<std::collections::HashMap<String, jmespath::Expression<'static>>> =
            std::cell::RefCell::new(std::collections::HashMap::new());
    }
    let compiled = CACHE.with(|c| -> Result<jmespath::Expression<'static>, String> {
        let mut c = c.borrow_mut();
        if let Some(e) = c.get(expr) {
            return Ok(e.clone());
        }
        let e = runtime().compile(expr).map_err(|e| e.to_string())?;
        if c.len() > 4096 {
            c.clear();
        }
        c.insert(expr.to_string(), e.clone());
        Ok(e)
    })?;
    let var = Variable::try_from(data).map_err(|e| e.to_string())?;
    let result = compiled.search(var).map_err(|e| e.to_string())?;
    serde_json::to_value(&*result).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn kyverno_functions() {
        let d = json!({"a": "x,y", "n": "1Gi", "m": {"k": "v"}, "img": "docker.io/nginx:1.2"});
        assert_eq!(search("split(a, ',')", &d).unwrap(), json!(["x", "y"]));
        assert_eq!(search("length(split(a, ','))", &d).unwrap(), json!(2));
        assert_eq!(search("divide('10', '4')", &d).unwrap(), json!(2.5));
        assert_eq!(search("items(m, 'key', 'value')", &d).unwrap(), json!([{"key": "k", "value": "v"}]));
        assert_eq!(search("pattern_match('docker.io/*', img)", &d).unwrap(), json!(true));
        assert_eq!(search("base64_decode('aGVsbG8=')", &d).unwrap(), json!("hello"));
        assert_eq!(search("base64_encode('hello')", &d).unwrap(), json!("aGVsbG8="));
        assert_eq!(search("path_canonicalize('/a/../b//c')", &d).unwrap(), json!("/b/c"));
        assert_eq!(search("parse_json('{\"x\": 1}').x", &d).unwrap(), json!(1));
        assert_eq!(search("to_upper(m.k)", &d).unwrap(), json!("V"));
        assert!(search("unknown_fn(a)", &d).is_err());
        assert!(wildcard("a*c?", "abbbcd") && !wildcard("a*c", "abd"));
    }
}
