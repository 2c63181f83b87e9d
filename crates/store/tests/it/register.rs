//! Store tests, each run on SQLite and on PostgreSQL.

use gongzhi_domain::money::Area;
use gongzhi_domain::place::{AreaBasis, OwnerKind, PartKind, PlaceKind};
use gongzhi_domain::roster::RosterRow;
use gongzhi_store::{audit, import, register, Db, StoreError};
use gongzhi_testkit::both;
use gongzhi_testkit::{fresh, scalar as count, Kind};
use std::sync::Arc;

fn row(
    n: usize,
    compound: &str,
    building: &str,
    number: &str,
    area: i64,
    owner: &str,
) -> RosterRow {
    RosterRow {
        row: n + 2,
        district: "璧山区".into(),
        street: "璧城街道".into(),
        community: "金剑社区".into(),
        compound: compound.into(),
        building: building.into(),
        unit: "1".into(),
        number: number.into(),
        kind: PartKind::Flat,
        area: Area(area),
        area_basis: AreaBasis::Registered,
        owner_key: owner.into(),
        owner_name: format!("业主{owner}"),
        owner_kind: OwnerKind::Person,
        phone: "13812345678".into(),
    }
}

fn rows() -> Vec<RosterRow> {
    (0..30)
        .map(|i| {
            row(
                i,
                "秋实学府",
                &format!("{}", i % 3 + 1),
                &format!("{}", 101 + i),
                8950 + i as i64,
                &format!("o-{i}"),
            )
        })
        .collect()
}

async fn import(db: &Db, rows: Vec<RosterRow>) -> import::ImportReport {
    import::import_roster(db, "test", rows, false, Arc::new(|_| {}))
        .await
        .expect("import")
}

async fn import_is_idempotent(kind: Kind) {
    let f = fresh(kind).await;
    let r1 = import(&f.db, rows()).await;
    assert_eq!(
        (r1.parts_created, r1.owners_created, r1.places_created),
        (30, 30, 4 + 3 + 3)
    );
    let audit_before = count(&f.db, "SELECT CAST(COUNT(*) AS BIGINT) FROM audit_log").await;
    let r2 = import(&f.db, rows()).await;
    assert_eq!(r2.parts_unchanged, 30);
    assert_eq!(
        r2.parts_created
            + r2.parts_updated
            + r2.owners_created
            + r2.owners_updated
            + r2.places_created,
        0
    );
    assert_eq!(
        count(&f.db, "SELECT CAST(COUNT(*) AS BIGINT) FROM audit_log").await,
        audit_before,
        "a no-op import writes nothing"
    );
    assert_eq!(
        count(&f.db, "SELECT CAST(COUNT(*) AS BIGINT) FROM parts").await,
        30
    );
}

async fn changed_area_and_owner_are_audited_updates(kind: Kind) {
    let f = fresh(kind).await;
    import(&f.db, rows()).await;
    let mut changed = rows();
    changed[0].area = Area(9000);
    changed[1].owner_key = "o-0".into();
    changed[1].owner_name = "业主o-0".into();
    let r = import(&f.db, changed).await;
    assert_eq!(r.parts_updated, 2);
    assert_eq!(r.parts_unchanged, 28);
    let compound = register::place_by_code(
        &f.db,
        &register::public_compounds(&f.db).await.unwrap()[0].code,
    )
    .await
    .unwrap();
    let entries = audit::list(&f.db, &compound.path, 100).await.unwrap();
    let updates: Vec<_> = entries
        .iter()
        .filter(|e| e.action == "part.update")
        .collect();
    assert_eq!(updates.len(), 2);
    let area_change = updates
        .iter()
        .find(|e| e.before.as_ref().unwrap()["area_centi"] == 8950)
        .expect("area change audited");
    assert_eq!(area_change.after.as_ref().unwrap()["area_centi"], 9000);
}

async fn audit_log_is_append_only(kind: Kind) {
    let f = fresh(kind).await;
    import(&f.db, rows()).await;
    let upd = sqlx::query("UPDATE audit_log SET actor = 'mallory'")
        .execute(f.db.reader())
        .await;
    assert!(upd.is_err(), "updating the audit trail must fail");
    let del = sqlx::query("DELETE FROM audit_log")
        .execute(f.db.reader())
        .await;
    assert!(del.is_err(), "deleting the audit trail must fail");
}

async fn places_follow_the_hierarchy(kind: Kind) {
    let f = fresh(kind).await;
    let d =
        f.db.write(|tx| {
            Box::pin(async move {
                register::create_place(tx, "t", None, PlaceKind::District, "綦江区", None).await
            })
        })
        .await
        .unwrap();
    let d2 = d.clone();
    let err =
        f.db.write(move |tx| {
            let d = d2.clone();
            Box::pin(async move {
                register::create_place(tx, "t", Some(&d), PlaceKind::Compound, "千山美林", None)
                    .await
            })
        })
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Invalid { field, .. } if field == "kind"),
        "{err}"
    );
    let err =
        f.db.write(|tx| {
            Box::pin(async move {
                register::create_place(tx, "t", None, PlaceKind::Street, "x", None).await
            })
        })
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Invalid { field, .. } if field == "parent_id"),
        "{err}"
    );
    let d3 = d.clone();
    let s =
        f.db.write(move |tx| {
            let d = d3.clone();
            Box::pin(async move {
                register::create_place(tx, "t", Some(&d), PlaceKind::Street, "古南街道", None).await
            })
        })
        .await
        .unwrap();
    let d4 = d.clone();
    let dup =
        f.db.write(move |tx| {
            let d = d4.clone();
            Box::pin(async move {
                register::create_place(tx, "t", Some(&d), PlaceKind::Street, "古南街道", None).await
            })
        })
        .await
        .unwrap_err();
    assert!(matches!(dup, StoreError::Conflict(_)), "{dup}");
    assert_eq!(s.path_ids(), vec![d.id.clone(), s.id.clone()]);
}

async fn concurrent_writes_all_land(kind: Kind) {
    // On PostgreSQL these serializable transactions conflict; the bounded
    // retry makes every one of them land exactly once.
    let f = fresh(kind).await;
    let d =
        f.db.write(|tx| {
            Box::pin(async move {
                register::create_place(tx, "t", None, PlaceKind::District, "成都市武侯区", None)
                    .await
            })
        })
        .await
        .unwrap();
    let mut handles = Vec::new();
    for i in 0..16 {
        let db = f.db.clone();
        let d = d.clone();
        handles.push(tokio::spawn(async move {
            db.write(move |tx| {
                let d = d.clone();
                Box::pin(async move {
                    // Read the siblings first: a read-then-write that serializable
                    // transactions running side by side will conflict on.
                    sqlx::query("SELECT COUNT(*) FROM places WHERE parent_id = $1")
                        .bind(d.id.clone())
                        .fetch_all(&mut **tx)
                        .await?;
                    register::create_place(
                        tx,
                        "t",
                        Some(&d),
                        PlaceKind::Street,
                        &format!("街道{i}"),
                        None,
                    )
                    .await
                })
            })
            .await
        }));
    }
    for h in handles {
        h.await.unwrap().unwrap();
    }
    assert_eq!(
        count(
            &f.db,
            "SELECT CAST(COUNT(*) AS BIGINT) FROM places WHERE kind = 'street'"
        )
        .await,
        16
    );
}

both!(
    import_is_idempotent,
    changed_area_and_owner_are_audited_updates,
    audit_log_is_append_only,
    places_follow_the_hierarchy,
    concurrent_writes_all_land
);

#[tokio::test]
async fn unknown_scheme_is_refused_and_creates_nothing() {
    let dir = std::env::temp_dir().join(format!("gz-scheme-{}", uuid_like()));
    let url = format!("mysql://{}/x.db", dir.display());
    let err = Db::connect(&url).await.err().expect("refused");
    assert!(
        err.to_string()
            .contains("unsupported database URL scheme 'mysql'"),
        "{err}"
    );
    assert!(!dir.exists());
}

#[tokio::test]
async fn migrations_run_once() {
    let f = fresh(Kind::Sqlite).await;
    let first = count(
        &f.db,
        "SELECT CAST(COUNT(*) AS BIGINT) FROM schema_migrations",
    )
    .await;
    assert!(first >= 1);
    let again = Db::connect(&f.url).await.expect("reopen");
    assert_eq!(
        count(
            &again,
            "SELECT CAST(COUNT(*) AS BIGINT) FROM schema_migrations"
        )
        .await,
        first,
        "reopening applies nothing again"
    );
}

fn uuid_like() -> String {
    format!(
        "{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}
