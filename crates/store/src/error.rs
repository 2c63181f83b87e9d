//! Store errors. Every variant says what was wrong and, where it can, where.

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0}")]
    Config(String),
    #[error("{what} not found")]
    NotFound { what: String },
    #[error("{field}: {reason}")]
    Invalid { field: String, reason: String },
    #[error("conflict: {0}")]
    Conflict(String),
    /// The caller may not do this (a rule with data, e.g. only an owner
    /// linked to the account casts its online ballot): HTTP 403.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// Refused for now (a rate limit): may succeed after `retry_after_secs`.
    #[error("{field}: {reason}")]
    RateLimited {
        field: String,
        reason: String,
        retry_after_secs: u64,
    },
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
}

impl StoreError {
    pub fn not_found(what: impl Into<String>) -> Self {
        StoreError::NotFound { what: what.into() }
    }
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        StoreError::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// The database cannot be reached (pool closed or timed out, I/O, TLS,
    /// a dropped connection): the request may succeed later.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            StoreError::Db(
                sqlx::Error::PoolTimedOut
                    | sqlx::Error::PoolClosed
                    | sqlx::Error::Io(_)
                    | sqlx::Error::Tls(_)
                    | sqlx::Error::WorkerCrashed
            )
        )
    }

    /// SQLSTATE 40001 (serialization failure) or 40P01 (deadlock): safe to retry.
    pub fn is_retryable(&self) -> bool {
        match self {
            StoreError::Db(sqlx::Error::Database(e)) => {
                matches!(e.code().as_deref(), Some("40001") | Some("40P01"))
            }
            _ => false,
        }
    }

    /// A unique-constraint violation (SQLite 2067/1555, PostgreSQL 23505).
    pub fn is_unique_violation(&self) -> bool {
        match self {
            StoreError::Db(sqlx::Error::Database(e)) => {
                matches!(
                    e.code().as_deref(),
                    Some("23505") | Some("2067") | Some("1555")
                ) || e.message().contains("UNIQUE constraint failed")
            }
            _ => false,
        }
    }
}
