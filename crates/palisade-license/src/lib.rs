//! Licence compliance: what licences the packages and files of an artifact are under, and whether a policy
//! allows them.
//!
//! - [`normalize`]: declared strings (`GPL-2+`, `Apache 2.0`, `MIT/X11`) → SPDX expressions, raw text kept.
//! - [`category`]: SPDX id → category (forbidden … unencumbered, unknown), from `data/categories.tsv`.
//! - [`policy`]: allow/deny lists, category gates and the unknown action, with expression semantics.
//! - [`detect`]: licence texts in files and source headers matched against the SPDX licence texts.
//! - [`texts`]: the SPDX licence texts in the compact form `build.rs` makes at compile time.
//! - [`debian`]: Debian `copyright` files (DEP-5 and free-form).
//! - [`cargo`], [`nuget`]: the licences of crate sources' `Cargo.toml` and of NuGet packages' `.nuspec`.
//! - [`sink`]: the file sink that collects copyright and licence files during the one artifact walk, and
//!   [`sink::LicenseSink::finish`], which turns them and the inventory into findings.

pub mod cargo;
pub mod category;
pub mod debian;
pub mod detect;
pub mod normalize;
pub mod nuget;
pub mod policy;
pub mod sink;
pub mod texts;

mod bigrams;

pub use category::Category;
pub use normalize::{Normalized, normalize, normalize_dep5};
pub use policy::{Decision, Policy, UnknownAction};
pub use sink::{LicenseSink, Outcome};
