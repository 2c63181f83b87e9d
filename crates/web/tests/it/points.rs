//! Points and the points store through real HTTP on SQLite and PostgreSQL:
//! awards with idempotency keys (the same key → one award), refusals naming
//! the field, scope (403 inside the world, 404 outside it), the caller's own
//! points newest first, reversals once, the log re-verified from the
//! transfers; the store: items, redemptions held, 409 out of stock or
//! balance short, hand-over by station staff, expired holds voided; racing
//! redemptions for the last 3 items → exactly 3, balances conserved.

use gongzhi_domain::merkle;
use gongzhi_domain::place::{MemberRole, OrgKind, PlaceKind};
use gongzhi_domain::points::{self as rules, Transfer, TransferKind};
use gongzhi_domain::policy::Role;
use gongzhi_store::books::Idem;
use gongzhi_store::register::{self, NewPerson, Place};
use gongzhi_store::{auth, points, tlog, Db};
use gongzhi_testkit::http::{form, get, get_text, post};
use gongzhi_testkit::{both, pw_hash, scalar, At, Kind, World, WorldBuilder};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use sqlx::Row;

/// 平利县 城关镇: 南城社区 (美佳星座) and 新城社区 (金缘上城A区). Users:
/// staff (community staff of 南城), station (station staff of 南城), gridw
/// (grid worker in 美佳星座), other (community staff of 新城).
async fn pingli(kind: Kind) -> World {
    pingli_places(kind)
        .users(&[
            ("staff", Role::CommunityStaff, At::place("南城社区")),
            ("station", Role::StationStaff, At::place("南城社区")),
            ("gridw", Role::GridWorker, At::place("美佳星座")),
            ("other", Role::CommunityStaff, At::place("新城社区")),
        ])
        .serve(gongzhi_web::Config::default())
        .await
}

/// The places of [`pingli`], without users.
fn pingli_places(kind: Kind) -> WorldBuilder {
    gongzhi_testkit::world(kind)
        .place(None, PlaceKind::District, "平利县", None)
        .place(Some("平利县"), PlaceKind::Street, "城关镇", None)
        .place(Some("城关镇"), PlaceKind::Community, "南城社区", None)
        .place(Some("城关镇"), PlaceKind::Community, "新城社区", None)
        .place(
            Some("南城社区"),
            PlaceKind::Compound,
            "美佳星座",
            Some("meijia-xingzuo"),
        )
        .place(
            Some("新城社区"),
            PlaceKind::Compound,
            "金缘上城A区",
            Some("jinyuan-a"),
        )
}

/// `n` residents of `home` (users `{prefix}-0…`, each linked to a new
/// person): their (user, person) ids.
async fn residents(db: &Db, home: &Place, prefix: &str, n: usize) -> Vec<(String, String)> {
    let (home, prefix) = (home.clone(), prefix.to_string());
    db.write(move |tx| {
        let (home, prefix) = (home.clone(), prefix.clone());
        Box::pin(async move {
            let mut out = Vec::new();
            for i in 0..n {
                let p = register::create_person(
                    tx,
                    "t",
                    NewPerson {
                        name: &format!("居民{prefix}{i}"),
                        phone: None,
                        id_number: None,
                        home: &home,
                        consent_publish_name: false,
                    },
                )
                .await?;
                let u =
                    auth::create_user(tx, "t", &format!("{prefix}-{i}"), &pw_hash(), Some(&p.id))
                        .await?;
                auth::add_grant(tx, "t", &u, Role::Resident, Some(&home.id), None).await?;
                out.push((u, p.id));
            }
            Ok(out)
        })
    })
    .await
    .unwrap()
}

async fn post_key(c: &Client, url: String, key: &str, body: Value) -> (StatusCode, Value, bool) {
    let r = c
        .post(url)
        .header("Idempotency-Key", key)
        .json(&body)
        .send()
        .await
        .unwrap();
    let st = r.status();
    let replayed = r.headers().contains_key("idempotent-replayed");
    if !st.is_success() {
        assert_eq!(
            r.headers()["content-type"],
            "application/problem+json",
            "errors are problem+json"
        );
    }
    (st, r.json().await.unwrap_or(Value::Null), replayed)
}

fn field(v: &Value) -> &str {
    v["errors"][0]["field"].as_str().unwrap_or("")
}

/// The community's log re-verified: one leaf per transfer, each leaf the
/// hash of the transfer's canonical bytes, the root the log serves equal to
/// the root recomputed from the transfers; every balance sums to zero and
/// no account but `issued` is below zero.
async fn verify_log(db: &Db, community: &str) {
    let rows = sqlx::query("SELECT seq, id, kind, debit, credit, amount, reason, link, by_user, at FROM points_transfers WHERE community_id = $1 ORDER BY seq")
        .bind(community)
        .fetch_all(db.reader())
        .await
        .unwrap();
    let leaves: Vec<merkle::Hash> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let t = Transfer {
                seq: r.try_get("seq").unwrap(),
                id: r.try_get("id").unwrap(),
                kind: TransferKind::parse(&r.try_get::<String, _>("kind").unwrap()).unwrap(),
                debit: r.try_get("debit").unwrap(),
                credit: r.try_get("credit").unwrap(),
                amount: r.try_get("amount").unwrap(),
                reason: r.try_get("reason").unwrap(),
                link: r.try_get("link").unwrap(),
                by_user: r.try_get("by_user").unwrap(),
                at: r.try_get("at").unwrap(),
            };
            assert_eq!(t.seq, i as i64, "dense sequence");
            merkle::leaf_hash(&rules::leaf_bytes(community, &t))
        })
        .collect();
    let size = scalar(
        db,
        &format!("SELECT log_size FROM points_books WHERE community_id = '{community}'"),
    )
    .await;
    assert_eq!(size, leaves.len() as i64);
    assert_eq!(tlog::leaves(db, community, 0, size).await.unwrap(), leaves);
    assert_eq!(
        tlog::root(db, community, size).await.unwrap(),
        merkle::root_from_leaf_hashes(&leaves)
    );
    let b = points::balances(db, community).await.unwrap();
    assert_eq!(b.iter().map(|(_, v)| v).sum::<i64>(), 0, "{b:?}");
    assert!(
        b.iter().all(|(a, v)| a == rules::ISSUED || *v >= 0),
        "{b:?}"
    );
}

async fn balance(c: &Client, base: &str) -> i64 {
    let (st, v) = get(c, format!("{base}/api/v1/me/points")).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v["balance"].as_i64().unwrap()
}

async fn awards_and_my_points(kind: Kind) {
    let w = pingli(kind).await;
    let db = &w.f.db;
    let south = w.place("南城社区");
    let north = w.place("新城社区");
    let res = residents(db, &w.place("美佳星座"), "res", 2).await;
    let far = residents(db, &w.place("金缘上城A区"), "far", 1).await;
    let url = |p: &Place| format!("{}/api/v1/places/{}/points/awards", w.base, p.id);
    let staff = w.login("staff").await;
    let body = json!({"person_id": res[0].1, "points": 400, "reason": "清洁楼道、志愿服务"});

    let (st, a, replayed) = post_key(&staff, url(&south), "k1", body.clone()).await;
    assert_eq!(st, StatusCode::CREATED, "{a}");
    assert!(!replayed);
    assert_eq!(
        (a["points"].as_i64(), a["seq"].as_i64()),
        (Some(400), Some(0))
    );
    // the same key: the same award, nothing added
    let (st, again, replayed) = post_key(&staff, url(&south), "k1", body.clone()).await;
    assert_eq!((st, replayed), (StatusCode::CREATED, true));
    assert_eq!(again["id"], a["id"]);
    assert_eq!(scalar(db, "SELECT COUNT(*) FROM points_transfers").await, 1);
    // the same key with another body is a conflict
    let (st, _, _) = post_key(
        &staff,
        url(&south),
        "k1",
        json!({"person_id": res[0].1, "points": 401, "reason": "x"}),
    )
    .await;
    assert_eq!(st, StatusCode::CONFLICT);
    // refusals name the field
    let (st, v) = post(&staff, url(&south), body.clone()).await;
    assert_eq!(
        (st, field(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "Idempotency-Key")
    );
    for (bad, f) in [
        (
            json!({"person_id": res[0].1, "points": 0, "reason": "x"}),
            "points",
        ),
        (
            json!({"person_id": res[0].1, "points": -50, "reason": "x"}),
            "points",
        ),
        (
            json!({"person_id": res[0].1, "points": 5, "reason": "  "}),
            "reason",
        ),
        (
            json!({"person_id": "nobody", "points": 5, "reason": "x"}),
            "person_id",
        ),
        (
            json!({"person_id": far[0].1, "points": 5, "reason": "x"}),
            "person_id",
        ),
    ] {
        let (st, v, _) = post_key(&staff, url(&south), "bad", bad).await;
        assert_eq!(
            (st, field(&v)),
            (StatusCode::UNPROCESSABLE_ENTITY, f),
            "{v}"
        );
    }
    // scope: in the world but not staff → 403; another community → 404
    for who in ["gridw", "station"] {
        let c = w.login(who).await;
        let (st, _, _) = post_key(&c, url(&south), "k9", body.clone()).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{who}");
    }
    let other = w.login("other").await;
    let (st, _, _) = post_key(&other, url(&south), "k9", body.clone()).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let r1 = w.login("res-0").await;
    let (st, _, _) = post_key(&r1, url(&south), "k9", body.clone()).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    // other community's staff award their own resident: a separate ledger
    let (st, _, _) = post_key(
        &other,
        url(&north),
        "n1",
        json!({"person_id": far[0].1, "points": 320, "reason": "巡逻、防火"}),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED);
    assert_eq!(scalar(db, "SELECT COUNT(*) FROM points_transfers").await, 2);

    // the caller's own points, newest first
    let (st, small, _) = post_key(
        &staff,
        url(&south),
        "k2",
        json!({"person_id": res[0].1, "points": 20, "reason": "垃圾分类 13812345678"}),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED);
    let (st, mine) = get(&r1, format!("{}/api/v1/me/points", w.base)).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(mine["balance"], 420);
    let e = mine["entries"].as_array().unwrap();
    assert_eq!(e.len(), 2);
    assert_eq!(
        (e[0]["points"].as_i64(), e[1]["points"].as_i64()),
        (Some(20), Some(400))
    );
    assert_eq!(
        e[0]["reason"], "垃圾分类 138****5678",
        "free text is masked"
    );
    let r2 = w.login("res-1").await;
    assert_eq!(balance(&r2, &w.base).await, 0);

    // a correction is a reversal, once; never an edit
    let rev = format!(
        "{}/api/v1/places/{}/points/transfers/{}/reversal",
        w.base,
        south.id,
        small["id"].as_str().unwrap()
    );
    let (st, v) = post(&staff, rev.clone(), json!({"reason": "录入错误"})).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_eq!(v["kind"], "reversal");
    let (st, _) = post(&staff, rev, json!({"reason": "again"})).await;
    assert_eq!(st, StatusCode::CONFLICT);
    assert_eq!(balance(&r1, &w.base).await, 400);
    let e = sqlx::query("UPDATE points_transfers SET amount = 1")
        .execute(db.reader())
        .await;
    assert!(e.unwrap_err().to_string().contains("append-only"));
    verify_log(db, &south.id).await;
    verify_log(db, &north.id).await;
}

async fn store_and_redemptions(kind: Kind) {
    let w = pingli(kind).await;
    let db = &w.f.db;
    let south = w.place("南城社区");
    let res = residents(db, &w.place("美佳星座"), "res", 2).await;
    let staff = w.login("staff").await;
    let station = w.login("station").await;
    let (r1, r2) = (w.login("res-0").await, w.login("res-1").await);
    post_key(
        &staff,
        format!("{}/api/v1/places/{}/points/awards", w.base, south.id),
        "a",
        json!({"person_id": res[0].1, "points": 400, "reason": "志愿服务"}),
    )
    .await;

    let items = format!("{}/api/v1/places/{}/store/items", w.base, south.id);
    let (st, v) = post(
        &r1,
        items.clone(),
        json!({"name": "理发券", "points": 150, "stock": 2}),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
    let (st, v) = post(
        &station,
        items.clone(),
        json!({"name": "理发券", "points": 150, "stock": -1}),
    )
    .await;
    assert_eq!((st, field(&v)), (StatusCode::UNPROCESSABLE_ENTITY, "stock"));
    let (st, v) = post(
        &station,
        items.clone(),
        json!({"name": "理发券", "points": 150, "stock": 2}),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let item = v["id"].as_str().unwrap().to_string();
    let (st, list) = get(&r1, items.clone()).await;
    assert_eq!(
        (st, list["items"][0]["stock"].as_i64()),
        (StatusCode::OK, Some(2))
    );
    let other = w.login("other").await;
    assert_eq!(get(&other, items).await.0, StatusCode::NOT_FOUND);

    let redeem = format!("{}/api/v1/store/items/{item}/redemptions", w.base);
    let (st, h1, _) = post_key(&r1, redeem.clone(), "x1", json!({})).await;
    assert_eq!(st, StatusCode::CREATED, "{h1}");
    assert_eq!(h1["status"], "held");
    let (st, again, replayed) = post_key(&r1, redeem.clone(), "x1", json!({})).await;
    assert_eq!(
        (st, replayed, &again["id"]),
        (StatusCode::CREATED, true, &h1["id"])
    );
    assert_eq!(balance(&r1, &w.base).await, 250);
    // balance short
    let (st, v, _) = post_key(&r2, redeem.clone(), "y1", json!({})).await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    assert!(
        v["detail"].as_str().unwrap().contains("balance short"),
        "{v}"
    );
    let (st, h2, _) = post_key(&r1, redeem.clone(), "x2", json!({})).await;
    assert_eq!(st, StatusCode::CREATED);
    // out of stock
    let (st, v, _) = post_key(&r1, redeem.clone(), "x3", json!({})).await;
    assert_eq!(st, StatusCode::CONFLICT);
    assert!(
        v["detail"].as_str().unwrap().contains("out of stock"),
        "{v}"
    );
    assert_eq!(balance(&r1, &w.base).await, 100);

    // hand-over: station staff only, once
    let hand = |id: &Value| {
        format!(
            "{}/api/v1/redemptions/{}/hand-over",
            w.base,
            id.as_str().unwrap()
        )
    };
    assert_eq!(
        post(&r1, hand(&h1["id"]), json!({})).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post(&other, hand(&h1["id"]), json!({})).await.0,
        StatusCode::NOT_FOUND
    );
    let (st, v) = post(&station, hand(&h1["id"]), json!({})).await;
    assert_eq!(
        (st, v["status"].as_str()),
        (StatusCode::OK, Some("handed_over")),
        "{v}"
    );
    assert_eq!(
        post(&station, hand(&h1["id"]), json!({})).await.0,
        StatusCode::CONFLICT
    );

    // an expired hold is voided: points and item returned
    sqlx::query("UPDATE store_redemptions SET deadline_at = 0 WHERE id = $1")
        .bind(h2["id"].as_str().unwrap())
        .execute(db.reader())
        .await
        .unwrap();
    assert_eq!(
        points::expire_holds(db, "job", gongzhi_store::db::now_ms())
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        points::expire_holds(db, "job", gongzhi_store::db::now_ms())
            .await
            .unwrap(),
        0
    );
    assert_eq!(balance(&r1, &w.base).await, 250);
    assert_eq!(
        scalar(
            db,
            &format!("SELECT stock FROM store_items WHERE id = '{item}'")
        )
        .await,
        1
    );
    assert_eq!(
        post(&station, hand(&h2["id"]), json!({})).await.0,
        StatusCode::CONFLICT
    );
    // a hold found expired at hand-over is voided too, and refused
    let (_, h3, _) = post_key(&r1, redeem.clone(), "x4", json!({})).await;
    sqlx::query("UPDATE store_redemptions SET deadline_at = 0 WHERE id = $1")
        .bind(h3["id"].as_str().unwrap())
        .execute(db.reader())
        .await
        .unwrap();
    let (st, v) = post(&station, hand(&h3["id"]), json!({})).await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    assert_eq!(balance(&r1, &w.base).await, 250);
    let b = points::balances(db, &south.id).await.unwrap();
    assert!(
        b.contains(&(rules::REDEEMED.into(), 150)) && b.contains(&(rules::HELD.into(), 0)),
        "{b:?}"
    );
    verify_log(db, &south.id).await;
}

async fn racing_redemptions_for_the_last_three(kind: Kind) {
    const N: usize = 24;
    let w = pingli(kind).await;
    let db = &w.f.db;
    let south = register::get_place(db, &w.place("南城社区").id)
        .await
        .unwrap();
    let res = residents(db, &w.place("美佳星座"), "res", N).await;
    for (i, (_, p)) in res.iter().enumerate() {
        let idem = Idem::new(&format!("seed{i}"), "h".into()).unwrap();
        points::award(db, "t", &south, p, 100, "巡逻", idem)
            .await
            .unwrap();
    }
    let item = points::create_item(db, "t", &south, "轮椅坐垫", 60, 3)
        .await
        .unwrap();
    let mut clients = Vec::new();
    for i in 0..N {
        clients.push(gongzhi_testkit::http::login_at(&w.base, &format!("res-{i}")).await);
    }
    let url = format!("{}/api/v1/store/items/{item}/redemptions", w.base);
    let tasks: Vec<_> = clients
        .into_iter()
        .map(|c| {
            let url = url.clone();
            tokio::spawn(async move { post_key(&c, url, "race", json!({})).await.0 })
        })
        .collect();
    let mut won = 0;
    for t in tasks {
        match t.await.unwrap() {
            StatusCode::CREATED => won += 1,
            StatusCode::CONFLICT => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(won, 3);
    assert_eq!(
        scalar(
            db,
            &format!("SELECT stock FROM store_items WHERE id = '{item}'")
        )
        .await,
        0
    );
    assert_eq!(
        scalar(db, "SELECT COUNT(*) FROM store_redemptions").await,
        3
    );
    let b = points::balances(db, &south.id).await.unwrap();
    let people: i64 = b
        .iter()
        .filter(|(a, _)| a.starts_with("person:"))
        .map(|(_, v)| v)
        .sum();
    assert_eq!(people, 100 * N as i64 - 180);
    assert!(b.contains(&(rules::HELD.into(), 180)), "{b:?}");
    verify_log(db, &south.id).await;
}

/// The pages: the resident's /points (balance, entries, redeem) and the
/// station's store desk (a new item, hand-over), in the three languages;
/// a page refusal is a message in the reader's language.
async fn pages_redeem_and_hand_over(kind: Kind) {
    let w = pingli(kind).await;
    let db = &w.f.db;
    let south = register::get_place(db, &w.place("南城社区").id)
        .await
        .unwrap();
    let res = residents(db, &w.place("美佳星座"), "res", 1).await;
    let idem = Idem::new("p1", "h".into()).unwrap();
    points::award(db, "t", &south, &res[0].1, 100, "清洁楼道", idem)
        .await
        .unwrap();
    let station = w.login("station").await;
    let desk = format!("{}/places/{}/store", w.base, south.id);
    let (st, html) = form(
        &station,
        desk.clone(),
        &[("name", "理发券"), ("points", "60"), ("stock", "x")],
        false,
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("请输入整数"), "{html}");
    let (st, _) = form(
        &station,
        desk.clone(),
        &[("name", "理发券"), ("points", "60"), ("stock", "1")],
        false,
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let item = points::items(db, &south.id).await.unwrap().remove(0);
    let r = w.login("res-0").await;
    let (st, html) = get_text(&r, format!("{}/points", w.base)).await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        html.contains("id=\"balance\">100<") && html.contains("理发券"),
        "{html}"
    );
    let (st, html) = form(
        &r,
        format!("{}/points/redeem", w.base),
        &[("item_id", &item.id), ("key", "k")],
        false,
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        html.contains("兑换成功") && html.contains("id=\"balance\">40<"),
        "{html}"
    );
    // the same rendering's key twice: one redemption
    form(
        &r,
        format!("{}/points/redeem", w.base),
        &[("item_id", &item.id), ("key", "k")],
        false,
    )
    .await;
    assert_eq!(
        scalar(db, "SELECT COUNT(*) FROM store_redemptions").await,
        1
    );
    // out of stock, in the reader's language
    let (st, html) = form(
        &r,
        format!("{}/points/redeem", w.base),
        &[("item_id", &item.id), ("key", "k2")],
        false,
    )
    .await;
    assert_eq!(st, StatusCode::CONFLICT);
    assert!(html.contains("该物品已兑完"), "{html}");
    for lang in ["zh-CN", "zh-TW", "en"] {
        for (c, url) in [
            (&r, format!("{}/points?lang={lang}", w.base)),
            (&station, format!("{desk}?lang={lang}")),
        ] {
            let (st, html) = get_text(c, url.clone()).await;
            assert_eq!(st, StatusCode::OK, "{url}");
            assert!(
                !html.contains("??") && !html.contains("points."),
                "{url}: {html}"
            );
        }
    }
    let (_, html) = get_text(&station, desk.clone()).await;
    assert!(
        html.contains("居*") && !html.contains("居民res-0"),
        "masked name: {html}"
    );
    let red: String = sqlx::query("SELECT id FROM store_redemptions")
        .fetch_one(db.reader())
        .await
        .unwrap()
        .try_get(0)
        .unwrap();
    assert_eq!(get_text(&r, desk.clone()).await.0, StatusCode::FORBIDDEN);
    let (st, html) = form(
        &station,
        format!("{desk}/hand-over"),
        &[("redemption_id", &red)],
        false,
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        html.contains("Handed over."),
        "the language chosen last: {html}"
    );
    let (_, html) = get_text(&r, format!("{}/points?lang=en", w.base)).await;
    assert!(html.contains("Picked up"), "{html}");
}

/// A 1,000-person batch posted set-based between single awards: the log's
/// leaves and cached nodes stay those one-by-one appends would write (the
/// root recomputed from the transfers matches); a batch naming someone of
/// another community posts nothing.
async fn batch_of_a_thousand(kind: Kind) {
    let w = pingli(kind).await;
    let db = &w.f.db;
    let south = register::get_place(db, &w.place("南城社区").id)
        .await
        .unwrap();
    let home = w.place("美佳星座");
    let h = home.clone();
    let people: Vec<String> = db
        .write(move |tx| {
            let home = h.clone();
            Box::pin(async move {
                let mut out = Vec::new();
                for i in 0..1000 {
                    let p = register::create_person(
                        tx,
                        "t",
                        NewPerson {
                            name: &format!("志愿者{i}"),
                            phone: None,
                            id_number: None,
                            home: &home,
                            consent_publish_name: false,
                        },
                    )
                    .await?;
                    out.push(p.id);
                }
                Ok(out)
            })
        })
        .await
        .unwrap();
    // three single awards first: the batch starts at an odd leaf
    for (i, p) in people.iter().take(3).enumerate() {
        points::award(
            db,
            "t",
            &south,
            p,
            5,
            "巡逻",
            Idem::new(&format!("s{i}"), "h".into()).unwrap(),
        )
        .await
        .unwrap();
    }
    let far = residents(db, &w.place("金缘上城A区"), "far", 1).await;
    let staff = w.login("staff").await;
    let url = format!("{}/api/v1/places/{}/points/awards/batch", w.base, south.id);
    let mut awards: Vec<Value> = people
        .iter()
        .map(|p| json!({"person_id": p, "points": 30, "reason": "志愿服务3小时"}))
        .collect();
    awards.push(json!({"person_id": far[0].1, "points": 30, "reason": "x"}));
    let (st, v, _) = post_key(&staff, url.clone(), "b0", json!({"awards": awards})).await;
    assert_eq!(
        (st, field(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "awards"),
        "{v}"
    );
    assert_eq!(scalar(db, "SELECT COUNT(*) FROM points_transfers").await, 3);
    awards.pop();
    awards[7]["points"] = json!(0);
    let (st, v, _) = post_key(&staff, url.clone(), "b1", json!({"awards": awards})).await;
    assert_eq!(
        (st, field(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "awards[7].points"),
        "{v}"
    );
    awards[7]["points"] = json!(30);
    let (st, v, _) = post_key(&staff, url.clone(), "b2", json!({"awards": awards})).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_eq!(
        (
            v["awards"].as_i64(),
            v["points"].as_i64(),
            v["first_seq"].as_i64()
        ),
        (Some(1000), Some(30_000), Some(3))
    );
    let (st, again, replayed) =
        post_key(&staff, url.clone(), "b2", json!({"awards": awards})).await;
    assert_eq!((st, replayed, again), (StatusCode::CREATED, true, v));
    let gw = w.login("gridw").await;
    assert_eq!(
        post_key(&gw, url, "b3", json!({"awards": awards})).await.0,
        StatusCode::FORBIDDEN
    );
    // and singles after it
    for (i, p) in people.iter().skip(10).take(5).enumerate() {
        points::award(
            db,
            "t",
            &south,
            p,
            1,
            "垃圾分类",
            Idem::new(&format!("t{i}"), "h".into()).unwrap(),
        )
        .await
        .unwrap();
    }
    assert_eq!(
        scalar(db, "SELECT COUNT(*) FROM points_transfers").await,
        1008
    );
    verify_log(db, &south.id).await;
    let b = points::balances(db, &south.id).await.unwrap();
    assert!(
        b.contains(&(rules::ISSUED.into(), -(15 + 30_000 + 5))),
        "{b:?}"
    );
    assert!(
        b.contains(&(rules::person_account(&people[0]), 35)),
        "{b:?}"
    );
    // every cached node is the hash of its two children
    let nodes = scalar(
        db,
        &format!(
            "SELECT COUNT(*) FROM fund_nodes WHERE compound_id = '{}'",
            south.id
        ),
    )
    .await;
    assert_eq!(
        nodes,
        1008 - i64::from(1008u32.count_ones()),
        "a node per completed subtree"
    );
    let tree = tlog::tree(db, &south.id, 1008).await.unwrap();
    assert_eq!(tree.len(), 1008);
}

/// A partner unit's member: a person living in `home`, a member of `org`,
/// with the login `name`.
async fn partner(db: &Db, name: &str, org: &str, home: &Place) {
    let (name, org, home) = (name.to_string(), org.to_string(), home.clone());
    db.write(move |tx| {
        let (name, org, home) = (name.clone(), org.clone(), home.clone());
        Box::pin(async move {
            let p = register::create_person(
                tx,
                "t",
                NewPerson {
                    name: &format!("{name}联络人"),
                    phone: None,
                    id_number: None,
                    home: &home,
                    consent_publish_name: false,
                },
            )
            .await?;
            register::add_member(
                tx,
                "t",
                &org,
                &p.id,
                MemberRole::Staff,
                None,
                None,
                (0, None),
            )
            .await?;
            auth::create_user(tx, "t", &name, &pw_hash(), Some(&p.id)).await?;
            Ok(())
        })
    })
    .await
    .unwrap();
}

/// Micro-wishes end to end: recorded (vulnerable flags) → verified → on
/// the public wall (name masked, no address) → claimed in shares by two
/// partner units of the community (a unit of another community sees none
/// of it and cannot claim) → delivered → confirmed; an unclaimed one
/// resolved by the community; the figures.
async fn wishes_flow_and_partner_scope(kind: Kind) {
    let w = pingli_places(kind)
        .users(&[
            ("staff", Role::CommunityStaff, At::place("南城社区")),
            ("gridw", Role::GridWorker, At::place("美佳星座")),
            ("other", Role::CommunityStaff, At::place("新城社区")),
        ])
        .org(
            OrgKind::PartnerUnit,
            "平利县人民医院",
            At::place("南城社区"),
        )
        .org(
            OrgKind::PartnerUnit,
            "平利县城关小学",
            At::place("南城社区"),
        )
        .org(
            OrgKind::PartnerUnit,
            "平利县供电公司",
            At::place("新城社区"),
        )
        .serve(gongzhi_web::Config::default())
        .await;
    let db = &w.f.db;
    let meijia = w.place("美佳星座");
    let res = residents(db, &meijia, "res", 2).await;
    let far = residents(db, &w.place("金缘上城A区"), "far", 1).await;
    partner(db, "hospital", &w.org("平利县人民医院"), &meijia).await;
    partner(db, "school", &w.org("平利县城关小学"), &meijia).await;
    partner(
        db,
        "power",
        &w.org("平利县供电公司"),
        &w.place("金缘上城A区"),
    )
    .await;
    let gw = w.login("gridw").await;
    let staff = w.login("staff").await;
    let url = format!("{}/api/v1/places/{}/wishes", w.base, meijia.id);
    let wheelchair = json!({"person_id": res[0].1, "need": "轮椅一台", "reason": "70岁残疾老人，行动不便", "flags": ["disabled", "elderly_alone"]});
    let (st, v) = post(
        &gw,
        url.clone(),
        json!({"person_id": res[0].1, "need": "x", "reason": "y", "flags": ["rich"]}),
    )
    .await;
    assert_eq!((st, field(&v)), (StatusCode::UNPROCESSABLE_ENTITY, "flags"));
    let (st, v) = post(
        &gw,
        url.clone(),
        json!({"person_id": far[0].1, "need": "x", "reason": "y"}),
    )
    .await;
    assert_eq!(
        (st, field(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "person_id")
    );
    let r = w.login("res-0").await;
    assert_eq!(
        post(&r, url.clone(), wheelchair.clone()).await.0,
        StatusCode::FORBIDDEN
    );
    let (st, v) = post(&gw, url.clone(), wheelchair).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let wish = v["id"].as_str().unwrap().to_string();
    let (_, v) = post(&gw, url.clone(), json!({"person_id": res[1].1, "need": "米面油", "reason": "低保户", "flags": ["low_income"]})).await;
    let rice = v["id"].as_str().unwrap().to_string();
    let wall_url = format!("{}/api/v1/public/places/{}/wish-wall", w.base, meijia.id);
    let anon = reqwest::Client::new();
    assert_eq!(
        get(&anon, wall_url.clone()).await.1["wishes"],
        json!([]),
        "not before verification"
    );
    let wurl = |id: &str, what: &str| format!("{}/api/v1/wishes/{id}/{what}", w.base);
    assert_eq!(
        post(&gw, wurl(&wish, "verify"), json!({})).await.0,
        StatusCode::FORBIDDEN
    );
    for id in [&wish, &rice] {
        assert_eq!(
            post(&staff, wurl(id, "verify"), json!({})).await.0,
            StatusCode::NO_CONTENT
        );
    }
    assert_eq!(
        post(&staff, wurl(&wish, "verify"), json!({})).await.0,
        StatusCode::CONFLICT
    );
    let (st, wall) = get(&anon, wall_url).await;
    assert_eq!(st, StatusCode::OK);
    let text = wall.to_string();
    assert_eq!(wall["wishes"].as_array().unwrap().len(), 2);
    assert!(
        text.contains("居*") && text.contains("轮椅一台") && text.contains("disabled"),
        "{text}"
    );
    assert!(
        !text.contains("居民res-0") && !text.contains("美佳星座") && !text.contains(&meijia.id),
        "no name, no address: {text}"
    );

    // partner units: only their communities' wishes
    let (hospital, school, power) = (
        w.login("hospital").await,
        w.login("school").await,
        w.login("power").await,
    );
    let mine = |c: &Client| {
        let (c, u) = (c.clone(), format!("{}/api/v1/partner/wishes", w.base));
        async move { get(&c, u).await.1["wishes"].as_array().unwrap().len() }
    };
    assert_eq!(mine(&hospital).await, 2);
    assert_eq!(mine(&power).await, 0);
    assert_eq!(mine(&staff).await, 0);
    let claims = wurl(&wish, "claims");
    let (st, _) = post(
        &power,
        claims.clone(),
        json!({"org_id": w.org("平利县供电公司"), "share_permille": 500}),
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND, "outside its communities");
    let (st, _) = post(
        &power,
        claims.clone(),
        json!({"org_id": w.org("平利县人民医院")}),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "not its unit");
    assert_eq!(
        post(
            &hospital,
            claims.clone(),
            json!({"org_id": w.org("平利县人民医院"), "share_permille": 500})
        )
        .await
        .0,
        StatusCode::CREATED
    );
    assert_eq!(
        post(
            &hospital,
            claims.clone(),
            json!({"org_id": w.org("平利县人民医院"), "share_permille": 100})
        )
        .await
        .0,
        StatusCode::CONFLICT
    );
    let (st, v) = post(
        &school,
        claims.clone(),
        json!({"org_id": w.org("平利县城关小学"), "share_permille": 600}),
    )
    .await;
    assert_eq!(
        (st, field(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "share_permille")
    );
    assert_eq!(
        post(
            &school,
            claims.clone(),
            json!({"org_id": w.org("平利县城关小学"), "share_permille": 500})
        )
        .await
        .0,
        StatusCode::CREATED
    );
    assert_eq!(
        post(&staff, wurl(&wish, "resolve"), json!({})).await.0,
        StatusCode::CONFLICT,
        "claimed: not the community's"
    );
    assert_eq!(
        post(&gw, wurl(&wish, "confirm"), json!({})).await.0,
        StatusCode::CONFLICT,
        "not delivered yet"
    );
    for (c, org) in [(&hospital, "平利县人民医院"), (&school, "平利县城关小学")] {
        assert_eq!(
            post(c, wurl(&wish, "delivery"), json!({"org_id": w.org(org)}))
                .await
                .0,
            StatusCode::NO_CONTENT
        );
    }
    assert_eq!(
        post(&gw, wurl(&wish, "confirm"), json!({})).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        post(&staff, wurl(&rice, "resolve"), json!({})).await.0,
        StatusCode::NO_CONTENT
    );

    let stats = format!("{}/api/v1/places/{}/wish-stats", w.base, meijia.id);
    let (st, v) = get(&staff, stats.clone()).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    for (k, n) in [
        ("collected", 2),
        ("verified", 2),
        ("claimed", 1),
        ("fulfilled", 2),
        ("fulfilled_by_community", 1),
    ] {
        assert_eq!(v[k].as_i64(), Some(n), "{k}: {v}");
    }
    let (_, v) = get(
        &staff,
        format!(
            "{}/api/v1/places/{}/wish-stats",
            w.base,
            w.place("南城社区").id
        ),
    )
    .await;
    assert_eq!(v["collected"], 2, "the community counts its compounds'");
    assert_eq!(get(&gw, stats.clone()).await.0, StatusCode::FORBIDDEN);
    assert_eq!(
        get(&w.login("other").await, stats).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(mine(&hospital).await, 0, "fulfilled wishes leave the wall");
}

both!(
    wishes_flow_and_partner_scope,
    batch_of_a_thousand,
    pages_redeem_and_hand_over,
    awards_and_my_points,
    store_and_redemptions,
    racing_redemptions_for_the_last_three
);
