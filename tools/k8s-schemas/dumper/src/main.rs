//! Print `{"kinds": [[apiVersion, kind, schema]], "defs": {...}}` for the resource types in `types.rs`.

mod types;

fn main() {
    let mut g = schemars::SchemaGenerator::default();
    let kinds = types::dump(&mut g);
    let defs = g.definitions().clone();
    let out = serde_json::json!({ "kinds": kinds, "defs": defs });
    println!("{out}");
}
