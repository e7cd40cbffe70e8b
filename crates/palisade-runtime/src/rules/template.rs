//! Output templates: `Shell spawned (user=%user.name container=%container.id)`.
//!
//! Every `%field` (with an optional `[arg]`) is resolved against the field table at load time; an
//! unknown field is a load error. Rendering substitutes the event's values, `<NA>` when absent.

use super::compile::{self, Scope};
use super::fields::Ctx;

/// A compiled output template.
#[derive(Debug)]
pub struct Template {
    parts: Vec<Part>,
}

#[derive(Debug)]
enum Part {
    Literal(String),
    Field { name: String, source: compile::FieldSource },
}

impl Template {
    /// Compile `text`, checking every field.
    pub fn compile(text: &str, scope: &Scope<'_>) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut lit = String::new();
        let b = text.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'%' {
                let start = i + 1;
                let mut j = start;
                while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_' || b[j] == b'.') {
                    j += 1;
                }
                while j > start && b[j - 1] == b'.' {
                    j -= 1;
                }
                let name = &text[start..j];
                if name.contains('.') {
                    let mut arg = None;
                    let mut end = j;
                    if b.get(j) == Some(&b'[')
                        && let Some(close) = text[j..].find(']')
                    {
                        arg = Some(text[j + 1..j + close].to_string());
                        end = j + close + 1;
                    }
                    let source = compile::field_source(name, arg.as_deref(), scope)
                        .map_err(|e| format!("invalid output format '{text}': {e}"))?;
                    if !lit.is_empty() {
                        parts.push(Part::Literal(std::mem::take(&mut lit)));
                    }
                    parts.push(Part::Field { name: text[start..end].to_string(), source });
                    i = end;
                    continue;
                }
            }
            let ch_len = text[i..].chars().next().map_or(1, char::len_utf8);
            lit.push_str(&text[i..i + ch_len]);
            i += ch_len;
        }
        if !lit.is_empty() {
            parts.push(Part::Literal(lit));
        }
        Ok(Template { parts })
    }

    /// The `%field` names in order (Falco's `output_fields` keys).
    pub fn fields(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Field { name, .. } => Some(name.as_str()),
            Part::Literal(_) => None,
        })
    }

    /// Render on an event: the text, and each field's value (`None` when absent).
    pub fn render(&self, ctx: &Ctx<'_>) -> (String, Vec<(String, Option<String>)>) {
        let mut out = String::new();
        let mut fields = Vec::new();
        for p in &self.parts {
            match p {
                Part::Literal(l) => out.push_str(l),
                Part::Field { name, source } => {
                    let v = source.render(ctx);
                    out.push_str(v.as_deref().unwrap_or("<NA>"));
                    fields.push((name.clone(), v));
                }
            }
        }
        (out, fields)
    }
}
