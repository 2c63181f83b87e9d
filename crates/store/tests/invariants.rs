//! Invariants of the store as table-driven tests (ARCHITECTURE.md,
//! "Invariants"), each on SQLite and PostgreSQL.
//!
//! - `dispatchers_race`: two notification dispatchers started at the same
//!   instant over the same ~200 pending deliveries send each exactly once
//!   (a counting `Sender`, and the append-only attempts table). ~1–3 s per
//!   engine.

use gongzhi_domain::cases::{Calendar, Category, Channel, Command, Priority};
use gongzhi_domain::money::Area;
use gongzhi_domain::notify::{Channel as NotifyChannel, CHANNELS};
use gongzhi_domain::place::{AreaBasis, OwnerKind, PartKind};
use gongzhi_domain::roster::RosterRow;
use gongzhi_store::cases::{self, Extra, NewCase};
use gongzhi_store::notify::{self, Message, Sender};
use gongzhi_store::testing::{fresh, Kind};
use gongzhi_store::{auth, both, db, import, register, Db};
use sqlx::Row;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// A compound with one resident's case, accepted by staff; returns the case id.
async fn one_case(db: &Db) -> String {
    let rows = (0..3)
        .map(|i| RosterRow {
            row: i + 2,
            district: "璧山区".into(),
            street: "璧城街道".into(),
            community: "金剑社区".into(),
            compound: "秋实学府".into(),
            building: "1".into(),
            unit: "1".into(),
            number: format!("{}", 101 + i),
            kind: PartKind::Flat,
            area: Area(8950),
            area_basis: AreaBasis::Registered,
            owner_key: format!("o-{i}"),
            owner_name: format!("业主{i}"),
            owner_kind: OwnerKind::Person,
            phone: "13812345678".into(),
        })
        .collect();
    import::import_roster(db, "t", rows, false, Arc::new(|_| {}))
        .await
        .unwrap();
    let c = register::public_compounds(db).await.unwrap();
    let compound = register::place_by_code(db, &c[0].code).await.unwrap();
    db.write(move |tx| {
        let compound = compound.clone();
        Box::pin(async move {
            let u = auth::create_user(tx, "t", "resident", "x", None).await?;
            let nc = NewCase {
                place: compound,
                part_id: None,
                category: Category::Repair,
                priority: Priority::Normal,
                description: "楼道灯不亮".into(),
                address: None,
                lat: None,
                lon: None,
                channel: Channel::Web,
                reporter_user_id: Some(u.clone()),
                reporter_name: None,
                reporter_phone: None,
                consent_publish: false,
                raised_by: format!("user:{u}"),
            };
            let cal = Calendar::china_2026();
            let id = cases::raise_in(tx, &nc, &cal, db::now_ms()).await?;
            cases::act_in(
                tx,
                &id,
                "user:staff",
                &Command::Accept,
                &Extra::default(),
                &cal,
                db::now_ms(),
            )
            .await?;
            Ok(id)
        })
    })
    .await
    .unwrap()
}

/// A real `Sender` that counts what it is handed, per delivery.
struct Counting {
    channel: NotifyChannel,
    seen: Arc<Mutex<HashMap<String, usize>>>,
}

impl Sender for Counting {
    fn channel(&self) -> NotifyChannel {
        self.channel
    }
    fn send(&self, m: &Message) -> Result<String, String> {
        *self
            .seen
            .lock()
            .unwrap()
            .entry(m.delivery_id.clone())
            .or_default() += 1;
        Ok("counted".into())
    }
}

async fn scalar(db: &Db, sql: &str) -> i64 {
    sqlx::query(sql)
        .fetch_one(db.reader())
        .await
        .unwrap()
        .try_get::<i64, _>(0)
        .unwrap()
}

/// Two dispatchers, started together over the same pending deliveries,
/// send each one exactly once and record exactly one attempt for it.
async fn dispatchers_race(kind: Kind) {
    let f = fresh(kind).await;
    let case_id = one_case(&f.db).await;
    const ROUNDS: usize = 3;
    const NOTIFICATIONS: usize = 67; // × 3 channels = 201 deliveries a round
    for round in 0..ROUNDS {
        // What the dispatcher of the accept left behind is dispatched first.
        let cid = case_id.clone();
        f.db.write(move |tx| {
            let cid = cid.clone();
            Box::pin(async move {
                for _ in 0..NOTIFICATIONS {
                    notify::enqueue(tx, &cid, "accepted", "accepted", None, "user:staff", 0)
                        .await?;
                }
                Ok(())
            })
        })
        .await
        .unwrap();
        let pending = scalar(
            &f.db,
            "SELECT COUNT(*) FROM notification_deliveries WHERE state = 'pending'",
        )
        .await;
        assert!(
            pending >= (NOTIFICATIONS * CHANNELS.len()) as i64,
            "round {round}: {pending} pending"
        );
        let seen = Arc::new(Mutex::new(HashMap::new()));
        let senders: Vec<Arc<dyn Sender>> = CHANNELS
            .iter()
            .map(|&channel| {
                Arc::new(Counting {
                    channel,
                    seen: seen.clone(),
                }) as Arc<dyn Sender>
            })
            .collect();
        let start = Arc::new(tokio::sync::Barrier::new(2));
        let run = |db: Db, senders: Vec<Arc<dyn Sender>>, start: Arc<tokio::sync::Barrier>| {
            tokio::spawn(async move {
                start.wait().await;
                notify::dispatch(&db, &senders, db::now_ms(), 10_000).await
            })
        };
        let a = run(f.db.clone(), senders.clone(), start.clone());
        let b = run(f.db.clone(), senders.clone(), start.clone());
        let (ra, rb) = (a.await.unwrap().unwrap(), b.await.unwrap().unwrap());
        assert_eq!(
            ra.sent + rb.sent,
            pending as u64,
            "round {round}: {ra:?} + {rb:?}"
        );
        assert_eq!(
            (ra.retrying, ra.failed, rb.retrying, rb.failed),
            (0, 0, 0, 0)
        );
        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen.len() as i64, pending, "round {round}");
        let twice: Vec<_> = seen.iter().filter(|(_, &n)| n != 1).collect();
        assert!(
            twice.is_empty(),
            "round {round}: sent more than once: {twice:?}"
        );
        let left = scalar(
            &f.db,
            "SELECT COUNT(*) FROM notification_deliveries WHERE state <> 'sent'",
        )
        .await;
        assert_eq!(left, 0, "round {round}: deliveries not sent");
        let attempts = sqlx::query(
            "SELECT delivery_id, COUNT(*) AS n FROM notification_attempts GROUP BY delivery_id",
        )
        .fetch_all(f.db.reader())
        .await
        .unwrap();
        let total = scalar(&f.db, "SELECT COUNT(*) FROM notification_deliveries").await;
        assert_eq!(attempts.len() as i64, total, "round {round}: one row each");
        for r in &attempts {
            let n: i64 = r.try_get("n").unwrap();
            let d: String = r.try_get("delivery_id").unwrap();
            assert_eq!(n, 1, "round {round}: delivery {d} has {n} attempts");
        }
    }
}

both!(dispatchers_race);
