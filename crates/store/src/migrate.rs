//! Embedded migrations, run at start. Each migration is one portable SQL file,
//! plus optional `.sqlite.sql` / `.postgres.sql` companions for what the two
//! engines spell differently (triggers). Applied versions are recorded in
//! `schema_migrations`; a database newer than this binary is refused.

use crate::db::{Backend, Db};
use crate::error::StoreError;
use sqlx::Row;

impl Db {
    /// Opens (and for SQLite creates) the database and runs the embedded
    /// migrations.
    pub async fn connect(url: &str) -> Result<Db, StoreError> {
        let db = Db::open(url).await?;
        run(&db).await?;
        Ok(db)
    }
}

struct Migration {
    version: i64,
    name: &'static str,
    common: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "register",
        common: include_str!("../migrations/0001_register.sql"),
        sqlite: include_str!("../migrations/0001_register.sqlite.sql"),
        postgres: include_str!("../migrations/0001_register.postgres.sql"),
    },
    Migration {
        version: 2,
        name: "votes",
        common: include_str!("../migrations/0002_votes.sql"),
        sqlite: include_str!("../migrations/0002_votes.sqlite.sql"),
        postgres: include_str!("../migrations/0002_votes.postgres.sql"),
    },
    Migration {
        version: 3,
        name: "cases",
        common: include_str!("../migrations/0003_cases.sql"),
        sqlite: include_str!("../migrations/0003_cases.sqlite.sql"),
        postgres: include_str!("../migrations/0003_cases.postgres.sql"),
    },
    Migration {
        version: 4,
        name: "fund",
        common: include_str!("../migrations/0004_fund.sql"),
        sqlite: include_str!("../migrations/0004_fund.sqlite.sql"),
        postgres: include_str!("../migrations/0004_fund.postgres.sql"),
    },
    Migration {
        version: 5,
        name: "cases2",
        common: include_str!("../migrations/0005_cases2.sql"),
        sqlite: include_str!("../migrations/0005_cases2.sqlite.sql"),
        postgres: include_str!("../migrations/0005_cases2.postgres.sql"),
    },
    Migration {
        version: 6,
        name: "deliberation",
        common: include_str!("../migrations/0006_deliberation.sql"),
        sqlite: include_str!("../migrations/0006_deliberation.sqlite.sql"),
        postgres: include_str!("../migrations/0006_deliberation.postgres.sql"),
    },
    Migration {
        version: 7,
        name: "fund2",
        common: include_str!("../migrations/0007_fund2.sql"),
        sqlite: include_str!("../migrations/0007_fund2.sqlite.sql"),
        postgres: include_str!("../migrations/0007_fund2.postgres.sql"),
    },
    Migration {
        version: 8,
        name: "procedures",
        common: include_str!("../migrations/0008_procedures.sql"),
        sqlite: include_str!("../migrations/0008_procedures.sqlite.sql"),
        postgres: include_str!("../migrations/0008_procedures.postgres.sql"),
    },
    Migration {
        version: 9,
        name: "auth",
        common: include_str!("../migrations/0009_auth.sql"),
        sqlite: include_str!("../migrations/0009_auth.sqlite.sql"),
        postgres: include_str!("../migrations/0009_auth.postgres.sql"),
    },
    Migration {
        version: 10,
        name: "ballots",
        common: include_str!("../migrations/0010_ballots.sql"),
        sqlite: include_str!("../migrations/0010_ballots.sqlite.sql"),
        postgres: include_str!("../migrations/0010_ballots.postgres.sql"),
    },
    Migration {
        version: 11,
        name: "spending",
        common: include_str!("../migrations/0011_spending.sql"),
        sqlite: include_str!("../migrations/0011_spending.sqlite.sql"),
        postgres: include_str!("../migrations/0011_spending.postgres.sql"),
    },
    Migration {
        version: 12,
        name: "party",
        common: include_str!("../migrations/0012_party.sql"),
        sqlite: include_str!("../migrations/0012_party.sqlite.sql"),
        postgres: include_str!("../migrations/0012_party.postgres.sql"),
    },
    Migration {
        version: 13,
        name: "questions",
        common: include_str!("../migrations/0013_questions.sql"),
        sqlite: include_str!("../migrations/0013_questions.sqlite.sql"),
        postgres: include_str!("../migrations/0013_questions.postgres.sql"),
    },
    Migration {
        version: 14,
        name: "points",
        common: include_str!("../migrations/0014_points.sql"),
        sqlite: include_str!("../migrations/0014_points.sqlite.sql"),
        postgres: include_str!("../migrations/0014_points.postgres.sql"),
    },
    Migration {
        version: 15,
        name: "accounts",
        common: include_str!("../migrations/0015_accounts.sql"),
        sqlite: include_str!("../migrations/0015_accounts.sqlite.sql"),
        postgres: include_str!("../migrations/0015_accounts.postgres.sql"),
    },
];

pub async fn run(db: &Db) -> Result<(), StoreError> {
    let mut tx = db.begin_write().await?;
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
    )
    .execute(&mut *tx)
    .await?;
    let rows = sqlx::query("SELECT version FROM schema_migrations")
        .fetch_all(&mut *tx)
        .await?;
    let applied: Vec<i64> = rows
        .iter()
        .map(|r| r.try_get::<i64, _>("version"))
        .collect::<Result<_, _>>()?;
    let newest = MIGRATIONS.last().map_or(0, |m| m.version);
    if let Some(v) = applied.iter().find(|v| **v > newest) {
        return Err(StoreError::Config(format!(
            "the database has schema version {v}, newer than this gongzhi ({newest}): upgrade gongzhi"
        )));
    }
    for m in MIGRATIONS {
        if applied.contains(&m.version) {
            continue;
        }
        tracing::info!(version = m.version, name = m.name, "applying migration");
        sqlx::raw_sql(m.common).execute(&mut *tx).await?;
        let extra = match db.backend() {
            Backend::Sqlite => m.sqlite,
            Backend::Postgres => m.postgres,
        };
        sqlx::raw_sql(extra).execute(&mut *tx).await?;
        sqlx::query(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
        )
        .bind(m.version)
        .bind(m.name)
        .bind(crate::db::now_ms())
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod order {
    /// Migrations run in the order listed and the last is the newest (the
    /// "database newer than this gongzhi" check relies on it): versions
    /// strictly ascend, so a merge that appends one out of order fails here.
    #[test]
    fn versions_strictly_ascend() {
        let v: Vec<i64> = super::MIGRATIONS.iter().map(|m| m.version).collect();
        assert!(v.windows(2).all(|w| w[0] < w[1]), "{v:?}");
    }
}
