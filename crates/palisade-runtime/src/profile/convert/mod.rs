//! Profiles in other tools' formats: [`neuvector`] (`NvSecurityRule`: process, file and network rules)
//! and [`networkpolicy`] (Kubernetes `NetworkPolicy` from the learned connections). Each converter
//! returns YAML documents; what the target cannot express is listed in a comment at the top of the
//! document rather than dropped silently.

pub mod networkpolicy;
pub mod neuvector;

/// A document with leading comment lines.
pub(crate) fn document(notes: &[String], value: &serde_json::Value) -> Result<String, String> {
    let mut out = String::new();
    for n in notes {
        out.push_str("# ");
        out.push_str(n);
        out.push('\n');
    }
    out.push_str(&serde_saphyr::to_string(value).map_err(|e| e.to_string())?);
    Ok(out)
}
