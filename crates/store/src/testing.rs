//! Fresh databases for tests: a new SQLite file, or a new database on the
//! PostgreSQL server named by `GONGZHI_TEST_PG` (the test script starts a
//! throwaway cluster and sets it). No test is skipped for lack of a database:
//! without `GONGZHI_TEST_PG` the PostgreSQL variant fails and says why.

use crate::db::Db;
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

/// Runs a test body once per database kind: `both!(name);` after
/// `async fn name(kind: Kind)`.
#[macro_export]
macro_rules! both {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() { super::$name($crate::testing::Kind::Sqlite).await }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() { super::$name($crate::testing::Kind::Postgres).await }
        }
    )+};
}

/// For tests of what needs a decision: a real vote over `place`: created, opened, every owner votes `choice`
/// online, and (when `close`) closed and counted.
pub async fn vote(
    db: &Db,
    place: &crate::register::Place,
    choice: gongzhi_domain::vote::Choice,
    close: bool,
) -> String {
    vote_with(db, place, choice, close, None).await
}

/// [`vote`] on spending: before it opens, the vote authorises `amount` fen
/// from the maintenance fund (`crate::spending`).
pub async fn spending_vote(
    db: &Db,
    place: &crate::register::Place,
    choice: gongzhi_domain::vote::Choice,
    close: bool,
    amount: i64,
) -> String {
    vote_with(db, place, choice, close, Some(amount)).await
}

async fn vote_with(
    db: &Db,
    place: &crate::register::Place,
    choice: gongzhi_domain::vote::Choice,
    close: bool,
    spend: Option<i64>,
) -> String {
    let place = place.clone();
    db.write(move |tx| {
        let place = place.clone();
        Box::pin(async move {
            let now = crate::db::now_ms();
            let v = crate::votes::create_vote(
                tx,
                "t",
                crate::votes::NewVote {
                    title: "2027 年度预算",
                    place: &place,
                    rule: gongzhi_domain::vote::Rule::CivilCode {
                        matter: gongzhi_domain::vote::Matter::Ordinary,
                    },
                    opens_at: now - 1000,
                    closes_at: now + 3_600_000,
                    channels: vec![gongzhi_domain::ballot::Channel::Online],
                },
            )
            .await?;
            if let Some(amount) = spend {
                crate::spending::authorise_in(
                    tx,
                    "t",
                    &v.id,
                    amount,
                    "repairs decided by the owners",
                )
                .await?;
            }
            crate::votes::open_vote(tx, "t", &v.id, 3, now).await?;
            let owners =
                sqlx::query("SELECT DISTINCT owner_id FROM vote_electorate WHERE vote_id = $1")
                    .bind(&v.id)
                    .fetch_all(&mut **tx)
                    .await?;
            for o in owners {
                let owner_id: String = sqlx::Row::try_get(&o, "owner_id")?;
                crate::votes::cast(
                    tx,
                    crate::votes::Cast {
                        vote_id: &v.id,
                        owner_id: &owner_id,
                        choice,
                        channel: gongzhi_domain::ballot::Channel::Online,
                        cast_by: "t",
                        proxy_holder: None,
                        evidence_id: None,
                        now,
                    },
                )
                .await?;
            }
            if close {
                crate::votes::close_vote(tx, "t", &v.id, now).await?;
            }
            Ok(v.id)
        })
    })
    .await
    .unwrap()
}
