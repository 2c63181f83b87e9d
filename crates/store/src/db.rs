//! The database handle: one query path over SQLite and PostgreSQL.
//!
//! Queries are plain SQL with `$1`-style placeholders, which both SQLite and
//! PostgreSQL accept, run through sqlx's `Any` driver. Differences between the
//! engines are confined to this file (connection setup, how a write
//! transaction begins, which errors are retried) and to the optional
//! per-engine migration files.

use futures_core::future::BoxFuture;
use rand::Rng;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{Any, AnyPool, Executor, Row, Transaction};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::StoreError;

pub type Tx = Transaction<'static, Any>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The database. Cloning is cheap (pools are shared).
#[derive(Clone)]
pub struct Db {
    read: AnyPool,
    write: AnyPool,
    backend: Backend,
    url_for_display: String,
}

/// Writes that hit a serialization failure or deadlock are retried this many
/// times before the error reaches the caller.
pub const MAX_WRITE_ATTEMPTS: u32 = 8;

/// The file name of the default SQLite database inside the data dir.
pub const DEFAULT_DB_FILE: &str = "gongzhi.db";

/// Turns `--database-url` and `--data-dir` into one URL. With no URL the
/// database is the SQLite file `gongzhi.db` in the data dir.
pub fn resolve_url(database_url: Option<&str>, data_dir: &Path) -> String {
    match database_url {
        Some(u) if !u.trim().is_empty() => u.trim().to_string(),
        _ => format!("sqlite://{}", data_dir.join(DEFAULT_DB_FILE).display()),
    }
}

/// What a URL names, decided before anything is opened or created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Sqlite(PathBuf),
    Postgres(String),
}

/// Accepts `sqlite://PATH`, `sqlite:PATH`, `postgres://…` and `postgresql://…`.
/// Anything else is refused: nothing is ever created for an unknown scheme.
pub fn parse_url(url: &str) -> Result<Target, StoreError> {
    if let Some(rest) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    {
        let path = rest.split('?').next().unwrap_or("");
        if path.is_empty() || path == ":memory:" {
            return Err(StoreError::Config(format!(
                "database URL '{url}' names no file: use sqlite://PATH (in-memory databases are not supported)"
            )));
        }
        return Ok(Target::Sqlite(PathBuf::from(path)));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(Target::Postgres(url.to_string()));
    }
    let scheme = url.split_once(':').map_or(url, |(s, _)| s);
    Err(StoreError::Config(format!(
        "unsupported database URL scheme '{scheme}' in '{}': use sqlite://PATH or postgres://USER@HOST/DB",
        redact(url)
    )))
}

fn redact(url: &str) -> String {
    // Hide a password in user:password@host.
    if let (Some(scheme_end), Some(at)) = (url.find("://"), url.rfind('@')) {
        let creds = &url[scheme_end + 3..at];
        if let Some((user, _)) = creds.split_once(':') {
            return format!("{}{}:***{}", &url[..scheme_end + 3], user, &url[at..]);
        }
    }
    url.to_string()
}

fn sqlite_setup(
    conn: &mut sqlx::AnyConnection,
    _meta: sqlx::pool::PoolConnectionMetadata,
) -> BoxFuture<'_, Result<(), sqlx::Error>> {
    Box::pin(async move {
        conn.execute("PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; PRAGMA synchronous=FULL; PRAGMA busy_timeout=10000; PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY;")
            .await?;
        Ok(())
    })
}

impl Db {
    /// Opens (and for SQLite creates) the database, without migrating it:
    /// [`Db::connect`] (in `migrate.rs`, which depends on this file and not
    /// the other way round) opens and migrates.
    pub(crate) async fn open(url: &str) -> Result<Db, StoreError> {
        sqlx::any::install_default_drivers();
        let target = parse_url(url)?;
        let db = match &target {
            Target::Sqlite(path) => {
                if let Some(dir) = path.parent() {
                    if !dir.as_os_str().is_empty() {
                        std::fs::create_dir_all(dir).map_err(|e| {
                            StoreError::Config(format!(
                                "cannot create data dir {}: {e}",
                                dir.display()
                            ))
                        })?;
                    }
                }
                let conn_url = format!("sqlite://{}?mode=rwc", path.display());
                let setup = sqlite_setup;
                // SQLite has one writer: a single write connection serialises
                // writes in the process; `BEGIN IMMEDIATE` takes the lock up front.
                let write = AnyPoolOptions::new()
                    .max_connections(1)
                    .acquire_timeout(Duration::from_secs(60))
                    .after_connect(setup)
                    .connect(&conn_url)
                    .await?;
                let read = AnyPoolOptions::new()
                    .max_connections(8)
                    .after_connect(setup)
                    .connect(&conn_url)
                    .await?;
                Db {
                    read,
                    write,
                    backend: Backend::Sqlite,
                    url_for_display: format!("sqlite://{}", path.display()),
                }
            }
            Target::Postgres(u) => {
                let pool = AnyPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(30))
                    .connect(u)
                    .await?;
                Db {
                    read: pool.clone(),
                    write: pool,
                    backend: Backend::Postgres,
                    url_for_display: redact(u),
                }
            }
        };
        Ok(db)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn display_url(&self) -> &str {
        &self.url_for_display
    }

    /// The pool for reads.
    pub fn reader(&self) -> &AnyPool {
        &self.read
    }

    /// Begins a write transaction: `BEGIN IMMEDIATE` on SQLite, a serializable
    /// transaction on PostgreSQL.
    pub async fn begin_write(&self) -> Result<Tx, StoreError> {
        let stmt = match self.backend {
            Backend::Sqlite => "BEGIN IMMEDIATE",
            Backend::Postgres => "BEGIN ISOLATION LEVEL SERIALIZABLE",
        };
        Ok(self.write.begin_with(stmt).await?)
    }

    /// Runs `f` in a write transaction and commits it. On PostgreSQL (and the
    /// engines compatible with it) serialization failures and deadlocks
    /// (SQLSTATE 40001, 40P01) are retried up to [`MAX_WRITE_ATTEMPTS`] times
    /// with jittered backoff; `f` must therefore be safe to run again.
    pub async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send,
        F: for<'c> FnMut(&'c mut Tx) -> BoxFuture<'c, Result<T, StoreError>> + Send,
    {
        let stmt = match self.backend {
            Backend::Sqlite => "BEGIN IMMEDIATE",
            Backend::Postgres => "BEGIN ISOLATION LEVEL SERIALIZABLE",
        };
        self.run(stmt, f).await
    }

    /// [`Db::write`] for a store command: `args`, the command's own copy of
    /// its inputs, is cloned into `f` for each attempt (so a retried
    /// transaction starts from the same inputs), sparing each command the
    /// clone-per-attempt dance.
    pub async fn write_with<A, T, F>(&self, args: A, mut f: F) -> Result<T, StoreError>
    where
        A: Clone + Send + 'static,
        T: Send,
        F: for<'c> FnMut(&'c mut Tx, A) -> BoxFuture<'c, Result<T, StoreError>> + Send,
    {
        self.write(move |tx| f(tx, args.clone())).await
    }

    /// Like [`Db::write`], but on PostgreSQL at READ COMMITTED, for writes
    /// that serialise themselves by first locking one row (an `UPDATE` of it,
    /// e.g. a compound's `fund_books` row): once the lock is held every later
    /// statement sees the latest committed data, and concurrent writers wait
    /// for the lock instead of failing and exhausting their retries. SQLite:
    /// `BEGIN IMMEDIATE` as usual. Deadlocks are retried.
    pub async fn write_locked<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send,
        F: for<'c> FnMut(&'c mut Tx) -> BoxFuture<'c, Result<T, StoreError>> + Send,
    {
        let stmt = match self.backend {
            Backend::Sqlite => "BEGIN IMMEDIATE",
            Backend::Postgres => "BEGIN ISOLATION LEVEL READ COMMITTED",
        };
        self.run(stmt, f).await
    }

    /// The one retry loop: begin with `stmt`, run `f`, commit; retry
    /// serialization failures and deadlocks with jittered backoff.
    ///
    /// `f` returns a boxed future rather than being an `async` closure: with
    /// rustc 1.95 the future of an `AsyncFnMut(&mut Tx)` borrowed across this
    /// generic function cannot be proven `Send` ("implementation of `Send` is
    /// not general enough"), and every axum handler's future must be.
    async fn run<T, F>(&self, stmt: &'static str, mut f: F) -> Result<T, StoreError>
    where
        T: Send,
        F: for<'c> FnMut(&'c mut Tx) -> BoxFuture<'c, Result<T, StoreError>> + Send,
    {
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let mut tx = self.write.begin_with(stmt).await?;
            let result = match f(&mut tx).await {
                Ok(v) => tx.commit().await.map(|_| v).map_err(StoreError::from),
                Err(e) => {
                    let _ = tx.rollback().await;
                    Err(e)
                }
            };
            match result {
                Err(e) if e.is_retryable() && attempt < MAX_WRITE_ATTEMPTS => {
                    let base = 5u64 << attempt.min(6);
                    let jitter = rand::thread_rng().gen_range(0..=base);
                    tracing::debug!(attempt, "retrying write after serialization failure");
                    tokio::time::sleep(Duration::from_millis(base + jitter)).await;
                }
                other => return other,
            }
        }
    }

    /// True when the database answers.
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").fetch_one(&self.read).await.is_ok()
    }

    pub async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
    }
}

/// `$1, $2, …` placeholders for multi-row inserts: `rows` groups of `cols`.
pub fn values_placeholders(rows: usize, cols: usize) -> String {
    let mut s = String::with_capacity(rows * cols * 5);
    let mut n = 1;
    for r in 0..rows {
        if r > 0 {
            s.push(',');
        }
        s.push('(');
        for c in 0..cols {
            if c > 0 {
                s.push(',');
            }
            s.push('$');
            s.push_str(&n.to_string());
            n += 1;
        }
        s.push(')');
    }
    s
}

impl Db {
    /// Placeholders for a statement whose parameters are ALL a multi-row
    /// VALUES list. On SQLite these are anonymous `?`: SQLite looks up a
    /// named parameter (`$7`) by walking a list, so binding n named
    /// parameters costs O(n²) — measured at 77% of a bulk import's time.
    /// Anonymous `?` bind in O(1) each. PostgreSQL gets `$1…`.
    pub fn bulk_values(&self, rows: usize, cols: usize) -> String {
        match self.backend {
            Backend::Postgres => values_placeholders(rows, cols),
            Backend::Sqlite => {
                let one = format!("({})", vec!["?"; cols].join(","));
                vec![one; rows].join(",")
            }
        }
    }

    /// Placeholders for a statement whose only parameters are one IN list.
    pub fn bulk_in(&self, n: usize) -> String {
        match self.backend {
            Backend::Postgres => in_placeholders(1, n),
            Backend::Sqlite => vec!["?"; n].join(","),
        }
    }
}

/// `$start, $start+1, …` for an IN list of `n` items.
pub fn in_placeholders(start: usize, n: usize) -> String {
    (start..start + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(",")
}

pub(crate) fn s(row: &AnyRow, col: &str) -> Result<String, StoreError> {
    Ok(row.try_get::<String, _>(col)?)
}
pub(crate) fn os(row: &AnyRow, col: &str) -> Result<Option<String>, StoreError> {
    Ok(row.try_get::<Option<String>, _>(col)?)
}
pub(crate) fn i(row: &AnyRow, col: &str) -> Result<i64, StoreError> {
    Ok(row.try_get::<i64, _>(col)?)
}
pub(crate) fn oi(row: &AnyRow, col: &str) -> Result<Option<i64>, StoreError> {
    Ok(row.try_get::<Option<i64>, _>(col)?)
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A new time-ordered id (UUIDv7).
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            parse_url("sqlite:///tmp/x.db").unwrap(),
            Target::Sqlite("/tmp/x.db".into())
        );
        assert_eq!(
            parse_url("sqlite://rel/x.db").unwrap(),
            Target::Sqlite("rel/x.db".into())
        );
        assert!(matches!(
            parse_url("postgres://u@h/db").unwrap(),
            Target::Postgres(_)
        ));
        let e = parse_url("mysql://root:secret@h/db")
            .unwrap_err()
            .to_string();
        assert!(e.contains("unsupported database URL scheme 'mysql'"), "{e}");
        assert!(!e.contains("secret"), "password must not be printed: {e}");
        assert!(parse_url("sqlite://").is_err());
        assert!(parse_url("/just/a/path").is_err());
        assert_eq!(resolve_url(None, Path::new("/d")), "sqlite:///d/gongzhi.db");
    }

    #[test]
    fn placeholders() {
        assert_eq!(values_placeholders(2, 2), "($1,$2),($3,$4)");
        assert_eq!(in_placeholders(3, 2), "$3,$4");
    }
}
