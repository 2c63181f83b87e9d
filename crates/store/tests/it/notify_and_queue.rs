//! Cases, part two, at the store: notification delivery through pluggable
//! senders (retries, attempts recorded, the logged sender's file) and the
//! work queue's index. Each test on SQLite and PostgreSQL.

use gongzhi_domain::cases::{Calendar, Category, Channel, Priority};
use gongzhi_domain::notify::{Channel as NotifyChannel, MAX_ATTEMPTS};
use gongzhi_store::cases::{self, NewCase};
use gongzhi_store::notify::{self, LoggedSender, Message, Sender};
use gongzhi_store::{db, import, register, Db};
use gongzhi_testkit::both;
use gongzhi_testkit::cases::accepted_case;
use gongzhi_testkit::{fresh, Kind, Rows};
use std::sync::Arc;

/// A compound with a building, a reporter and a case they raised, accepted by staff.
async fn world(db: &Db) -> (register::Place, String, String) {
    let mut rows = Rows::new("璧山区", "璧城街道", "金剑社区");
    for i in 0..12 {
        let (building, number) = (format!("{}", i % 3 + 1), format!("{}", 101 + i));
        let (key, name) = (format!("o-{i}"), format!("业主{i}"));
        rows.flat(
            "秋实学府",
            &building,
            &number,
            8950,
            &key,
            &name,
            "13812345678",
        );
    }
    import::import_roster(db, "t", rows.rows(), false, Arc::new(|_| {}))
        .await
        .unwrap();
    let c = register::public_compounds(db).await.unwrap();
    let compound = register::place_by_code(db, &c[0].code).await.unwrap();
    let b = register::children(db, Some(&compound)).await.unwrap()[0]
        .id
        .clone();
    let building = register::get_place(db, &b).await.unwrap();
    let (id, user) = accepted_case(db, building).await;
    (compound, id, user)
}

struct Broken;
impl Sender for Broken {
    fn channel(&self) -> NotifyChannel {
        NotifyChannel::Sms
    }
    fn send(&self, _m: &Message) -> Result<String, String> {
        Err("gateway down".into())
    }
}

/// A failing sender is retried up to the limit, every attempt recorded;
/// the other channels are delivered once; the logged sender writes its file.
async fn deliveries_retry_and_are_recorded(kind: Kind) {
    let f = fresh(kind).await;
    let (_, id, user) = world(&f.db).await;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("notifications.log");
    let senders: Vec<Arc<dyn Sender>> = vec![
        Arc::new(notify::InAppSender),
        Arc::new(Broken),
        Arc::new(LoggedSender::new(NotifyChannel::Wechat, Some(log.clone()))),
    ];
    let r = notify::dispatch(&f.db, &senders, db::now_ms(), 100)
        .await
        .unwrap();
    assert_eq!((r.sent, r.retrying, r.failed), (2, 1, 0));
    for _ in 1..MAX_ATTEMPTS {
        notify::dispatch(&f.db, &senders, db::now_ms(), 100)
            .await
            .unwrap();
    }
    let d = notify::deliveries_of_case(&f.db, &id).await.unwrap();
    let by = |ch: &str| d.iter().find(|x| x.2 == ch).unwrap().clone();
    assert_eq!(
        by("sms"),
        (
            user.clone(),
            "accepted".into(),
            "sms".into(),
            "failed".into(),
            MAX_ATTEMPTS
        )
    );
    assert_eq!((by("in_app").3.as_str(), by("in_app").4), ("sent", 1));
    assert_eq!((by("wechat").3.as_str(), by("wechat").4), ("sent", 1));
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(text.contains("\"channel\":\"wechat\"") && text.contains(&id));
    let r = notify::dispatch(&f.db, &senders, db::now_ms(), 100)
        .await
        .unwrap();
    assert_eq!(r, notify::DispatchReport::default(), "nothing left");
    assert!(sqlx::query("DELETE FROM notification_attempts")
        .execute(f.db.reader())
        .await
        .is_err());
}

/// The work queue's query uses an index on both engines: SQLite searches
/// `cases` through an index (never a full scan); PostgreSQL can use the
/// queue's partial indexes of migration 0005.
async fn queue_query_uses_an_index(kind: Kind) {
    let f = fresh(kind).await;
    let (compound, _, _) = world(&f.db).await;
    let filter = cases::ListFilter {
        open_only: true,
        ..Default::default()
    };
    let plan = cases::explain_list_under(&f.db, &compound.path, &filter)
        .await
        .unwrap();
    let text = plan.join("\n");
    match kind {
        Kind::Sqlite => {
            assert!(
                plan.iter().any(|l| l.starts_with("SEARCH c USING INDEX")),
                "{text}"
            );
            assert!(!plan.iter().any(|l| l.starts_with("SCAN c")), "{text}");
        }
        Kind::Postgres => {
            assert!(text.contains("cases_queue_"), "{text}");
            assert!(!text.contains("Seq Scan on cases"), "{text}");
        }
    }
    // And the query it explains answers the queue.
    let q = cases::list_under(&f.db, &compound.path, &filter, 50, 0)
        .await
        .unwrap();
    assert_eq!(q.len(), 1);
}

/// A case on a common area goes to the micro-grid anchored on that place, else
/// to the one micro-grid that holds all its parts; a place that several
/// micro-grids share goes to none (the compound's grid and staff own it), and
/// a case on a part goes to that part's micro-grid.
async fn common_area_cases_route_to_one_micro_grid(kind: Kind) {
    use gongzhi_domain::place::GridKind;
    let f = fresh(kind).await;
    let (compound, _, _) = world(&f.db).await;
    let mut buildings = register::children(&f.db, Some(&compound)).await.unwrap();
    buildings.sort_by(|a, b| a.name.cmp(&b.name));
    let mut b = Vec::new();
    let mut parts = Vec::new();
    for c in &buildings {
        let place = register::get_place(&f.db, &c.id).await.unwrap();
        let ps: Vec<String> =
            register::parts_under(&f.db, &place, &register::PartFilter::All, true, 100, 0)
                .await
                .unwrap()
                .into_iter()
                .map(|p| p.id)
                .collect();
        b.push(place);
        parts.push(ps);
    }
    let community = register::get_place(&f.db, &compound.path_ids()[2])
        .await
        .unwrap();
    let (c2, b2, p2) = (compound.clone(), b.clone(), parts.clone());
    let (g1, g2, g3) =
        f.db.write(move |tx| {
            let (compound, b, parts, community) =
                (c2.clone(), b2.clone(), p2.clone(), community.clone());
            Box::pin(async move {
                let cg = register::create_grid(
                    tx,
                    "t",
                    GridKind::Community,
                    "社区",
                    &community,
                    None,
                    None,
                )
                .await?;
                let ag = register::create_grid(
                    tx,
                    "t",
                    GridKind::Compound,
                    "小区",
                    &compound,
                    Some(&cg),
                    None,
                )
                .await?;
                let g1 = register::create_grid(
                    tx,
                    "t",
                    GridKind::Micro,
                    "G1",
                    &compound,
                    Some(&ag),
                    None,
                )
                .await?;
                let g2 = register::create_grid(
                    tx,
                    "t",
                    GridKind::Micro,
                    "G2",
                    &compound,
                    Some(&ag),
                    None,
                )
                .await?;
                let g3 =
                    register::create_grid(tx, "t", GridKind::Micro, "G3", &b[2], Some(&ag), None)
                        .await?;
                // G1: all of building 1 and one flat of building 2; G2: the rest
                let mut one: Vec<String> = parts[0].clone();
                one.push(parts[1][0].clone());
                let mut two: Vec<String> = parts[1][1..].to_vec();
                two.extend(parts[2].iter().cloned());
                register::assign_parts(tx, "t", &g1, &one).await?;
                register::assign_parts(tx, "t", &g2, &two).await?;
                Ok((g1, g2, g3))
            })
        })
        .await
        .unwrap();
    let raise = |place: register::Place, part: Option<String>| {
        let db = f.db.clone();
        async move {
            let id = db
                .write(move |tx| {
                    let (place, part) = (place.clone(), part.clone());
                    Box::pin(async move {
                        let nc = NewCase {
                            place,
                            part_id: part,
                            category: Category::Repair,
                            priority: Priority::Normal,
                            description: "公共区域报修".into(),
                            address: None,
                            lat: None,
                            lon: None,
                            channel: Channel::Web,
                            reporter_user_id: None,
                            reporter_name: Some("张三".into()),
                            reporter_phone: None,
                            consent_publish: false,
                            raised_by: "user:grid".into(),
                        };
                        cases::raise_in(tx, &nc, &Calendar::china_2026(), db::now_ms()).await
                    })
                })
                .await
                .unwrap();
            cases::get(&db, &id).await.unwrap().grid_id
        }
    };
    assert_eq!(
        raise(b[0].clone(), None).await,
        Some(g1.clone()),
        "building 1 lies in G1 alone"
    );
    assert_eq!(
        raise(b[1].clone(), None).await,
        None,
        "building 2 is split between G1 and G2"
    );
    assert_eq!(
        raise(compound.clone(), None).await,
        None,
        "the compound has several micro-grids"
    );
    assert_eq!(
        raise(b[2].clone(), None).await,
        Some(g3),
        "G3 is anchored on building 3"
    );
    assert_eq!(
        raise(b[1].clone(), Some(parts[1][0].clone())).await,
        Some(g1),
        "a flat goes to its own micro-grid"
    );
    assert_eq!(
        raise(b[1].clone(), Some(parts[1][1].clone())).await,
        Some(g2)
    );
}

both!(
    deliveries_retry_and_are_recorded,
    queue_query_uses_an_index,
    common_area_cases_route_to_one_micro_grid
);
