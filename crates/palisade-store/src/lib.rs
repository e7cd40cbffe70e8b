//! The image store: what `palisade registry scan` found in each image, kept so that images are pulled once
//! and re-matched (`palisade rescan`) whenever the vulnerability DB changes.
//!
//! * [`Store::open`] opens SQLite (a file, WAL: concurrent readers and one writer) or PostgreSQL
//!   (`postgres://…`) through one sqlx `Any` pool, and applies the one set of migrations (`migrations/`)
//!   that both run.
//! * [`Store::put_image`] writes one image (digest, platform, repository, tags, created time, labels, base
//!   image, layers, OS, its packages and its zstd-compressed SBOM) in one transaction: a scan killed half
//!   way leaves no half-written image, and [`Store::has_image`] lets the next scan skip it.
//! * [`Store::rematch`] (module `rematch`) re-matches the stored packages against a vulnerability DB,
//!   incrementally: only packages whose advisories changed (per (ecosystem, package) fingerprints) are
//!   matched again, each distinct package once for every image holding it; per image it records what is new,
//!   fixed and unchanged, the scan result per DB version and the findings history.
//! * [`Store::images_by_risk`] (module [`risk`]: severity × exploitability × fixability × exposure) and
//!   [`Store::findings`] feed `palisade registry report`, with the DB's exploit data (KEV, EPSS) kept per
//!   vulnerability and refreshed by every re-match; [`Store::findings_over_time`] gives the trends of
//!   `palisade report --store`; [`Store::decide`]
//!   records decisions and waivers; [`Store::apply_retention`] enforces the retention settings.
//! * [`Store::enqueue`], [`Store::claim`] and [`Store::try_lease`] (module `queue`) split `palisade watch`'s
//!   work between replicas (`FOR UPDATE SKIP LOCKED` on PostgreSQL).

mod error;
mod ids;
mod images;
mod model;
pub mod queue;
mod rematch;
mod report;
pub mod retention;
pub mod risk;
mod store;
mod trend;

pub use error::StoreError;
pub use ids::image_id;
pub use model::{
    Decision, FindingRow, ImageChange, ImageRisk, NewImage, RematchSummary, Retention, StoredPackage,
};
pub use queue::{QueueCounts, QueuedImage};
pub use risk::{RiskFactors, RiskGroup};
pub use store::{Backend, Store, default_store_path};
