//! The one error type of the crate.

use std::path::PathBuf;

/// What went wrong while building, opening, querying or updating the database.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("database {path}: {source}")]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    /// The file is not a Palisade vulnerability database, or one of another schema version.
    #[error("database {path}: {message}")]
    Schema { path: PathBuf, message: String },
    /// An advisory source could not be read at all (a single bad advisory is only a warning).
    #[error("advisory source {path}: {message}")]
    Source { path: PathBuf, message: String },
    /// A stored record could not be decoded (the file is damaged or was written by another version).
    #[error("database {path}: corrupt record: {message}")]
    Corrupt { path: PathBuf, message: String },
    #[error("build: {0}")]
    Build(String),
    #[error("update {url}: {message}")]
    Http { url: String, message: String },
    #[error("update {url}: checksum mismatch: expected {expected}, got {actual}")]
    Checksum { url: String, expected: String, actual: String },
}

impl DbError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        DbError::Io { path: path.into(), source }
    }

    pub(crate) fn sql(path: impl Into<PathBuf>, source: rusqlite::Error) -> Self {
        DbError::Sqlite { path: path.into(), source }
    }
}
