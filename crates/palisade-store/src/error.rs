//! Store errors: each names the store (path or URL without password) and what was being done.

/// An error reading or writing the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store {store}: cannot open: {source}")]
    Open {
        store: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("store {store}: applying migrations: {source}")]
    Migrate {
        store: String,
        #[source]
        source: sqlx::migrate::MigrateError,
    },
    #[error("store {store}: {context}: {source}")]
    Sql {
        store: String,
        context: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("store {store}: {context}: {message}")]
    Data { store: String, context: String, message: String },
    #[error("store {store}: vulnerability DB: {source}")]
    VulnDb {
        store: String,
        #[source]
        source: palisade_vulndb::DbError,
    },
    #[error("store: {0}")]
    Usage(String),
}
