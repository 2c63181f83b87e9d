//! Fresh databases for tests: a new SQLite file, or a new database on the
//! PostgreSQL server named by `GONGZHI_TEST_PG` (the test script starts a
//! throwaway cluster and sets it). No test is skipped for lack of a database:
//! without `GONGZHI_TEST_PG` the PostgreSQL variant fails and says why.

use gongzhi_store::Db;
use sqlx::{Connection, Executor};
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Postgres,
}

pub struct Fresh {
    pub db: Db,
    pub url: String,
    dir: Option<PathBuf>,
}

impl Drop for Fresh {
    fn drop(&mut self) {
        if let Some(d) = &self.dir {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

/// A URL for a new, empty database of `kind` (created for PostgreSQL).
pub async fn fresh_url(kind: Kind) -> (String, Option<PathBuf>) {
    let tag = uuid::Uuid::now_v7().simple().to_string();
    match kind {
        Kind::Sqlite => {
            let dir = std::env::temp_dir().join(format!("gongzhi-test-{tag}"));
            std::fs::create_dir_all(&dir).expect("temp dir");
            (
                format!("sqlite://{}", dir.join("gongzhi.db").display()),
                Some(dir),
            )
        }
        Kind::Postgres => {
            let base = std::env::var("GONGZHI_TEST_PG").expect(
                "GONGZHI_TEST_PG is not set: run the suite with scripts/test.sh, which starts a throwaway PostgreSQL cluster",
            );
            sqlx::any::install_default_drivers();
            let mut conn = sqlx::AnyConnection::connect(&base)
                .await
                .expect("connect to GONGZHI_TEST_PG");
            let name = format!("gz_{tag}");
            conn.execute(format!("CREATE DATABASE {name}").as_str())
                .await
                .expect("create test database");
            let _ = conn.close().await;
            let url = match base.rsplit_once('/') {
                Some((head, tail)) => {
                    let query = tail
                        .split_once('?')
                        .map(|(_, q)| format!("?{q}"))
                        .unwrap_or_default();
                    format!("{head}/{name}{query}")
                }
                None => panic!("GONGZHI_TEST_PG must end in /DBNAME"),
            };
            (url, None)
        }
    }
}

pub async fn fresh(kind: Kind) -> Fresh {
    let (url, dir) = fresh_url(kind).await;
    let db = Db::connect(&url)
        .await
        .unwrap_or_else(|e| panic!("connect {url}: {e}"));
    Fresh { db, url, dir }
}

/// The first column of the one row `sql` answers, as an integer (a count).
pub async fn scalar(db: &Db, sql: &str) -> i64 {
    use sqlx::Row;
    sqlx::query(sql)
        .fetch_one(db.reader())
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .try_get::<i64, _>(0)
        .unwrap()
}
