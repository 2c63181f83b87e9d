//! Cases through real HTTP on SQLite and PostgreSQL: the life of a case,
//! photos, on-behalf raising, 吹哨 and the sweep, statistics, and every
//! failure path as problem+json.

use gongzhi_domain::cases::{Calendar, Category, Channel, Priority, DAY_MS};
use gongzhi_domain::place::{GridKind, OrgKind};
use gongzhi_domain::policy::Role;
use gongzhi_store::{auth, cases, db, register};
use gongzhi_testkit::both;
use gongzhi_testkit::http::{csrf, field, get, login_at, post};
use gongzhi_testkit::{pw_hash as hash, two_compounds, At, Fresh, Grid, Kind, Parts, User};
use reqwest::StatusCode;
use serde_json::{json, Value};

pub struct World {
    pub f: Fresh,
    pub base: String,
    pub a: register::Place,
    pub b: register::Place,
    pub building_a: String,
    pub steward_org: String,
}

/// Compounds A and B. Users: admin; owner (resident of A); owner_b (of B);
/// gridw (grid worker of A, one micro-grid); steward (steward of A); auditor (of A).
pub async fn world(kind: Kind) -> World {
    let (a, b) = (At::place("晶城名邸"), At::place("御景华庭"));
    let k = gongzhi_testkit::world(kind)
        .roster(two_compounds(20, |c, i| format!("业主{c}-{i}")))
        .grid(Grid::community("社区网格", "晶城名邸"))
        .grid(Grid::compound("A 网格", "晶城名邸", "社区网格"))
        .grid(Grid::micro("A-1", "晶城名邸", "A 网格", Parts::All))
        .users(&[
            ("admin", Role::Admin, At::Everywhere),
            ("owner", Role::Resident, a.clone()),
            ("owner_b", Role::Resident, b),
        ])
        .user(
            User::new("gridw")
                .role(Role::GridWorker, a.clone())
                .grid("A-1"),
        )
        .users(&[
            ("steward", Role::Steward, a.clone()),
            ("auditor", Role::Auditor, a.clone()),
        ])
        .org(OrgKind::Steward, "信义物业", a)
        .serve(gongzhi_web::Config::default())
        .await;
    let a = k.place("晶城名邸");
    let building_a = register::children(&k.f.db, Some(&a)).await.unwrap()[0]
        .id
        .clone();
    World {
        b: k.place("御景华庭"),
        building_a,
        steward_org: k.org("信义物业"),
        a,
        base: k.base,
        f: k.f,
    }
}

async fn login(w: &World, user: &str) -> reqwest::Client {
    login_at(&w.base, user).await
}

async fn act(w: &World, c: &reqwest::Client, id: &str, action: &str) -> (StatusCode, Value) {
    post(
        c,
        format!("{}/api/v1/cases/{id}/actions", w.base),
        json!({"action": action, "note": format!("{action} note")}),
    )
    .await
}

async fn lifecycle(kind: Kind) {
    let w = world(kind).await;
    let owner = login(&w, "owner").await;
    let steward = login(&w, "steward").await;
    let gridw = login(&w, "gridw").await;
    let url = format!("{}/api/v1/cases", w.base);
    // Bad input.
    let (s, v) = post(
        &owner,
        url.clone(),
        json!({"place_id": w.building_a, "category": "ufo", "description": "x"}),
    )
    .await;
    assert_eq!(
        (s, field(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "category"),
        "{v}"
    );
    let (s, v) = post(
        &owner,
        url.clone(),
        json!({"place_id": w.b.id, "category": "repair", "description": "x"}),
    )
    .await;
    assert_eq!(
        (s, field(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "place_id"),
        "{v}"
    );
    assert!(v["detail"]
        .as_str()
        .unwrap()
        .contains("not a place in your compound"));
    let (s, v) = post(
        &owner,
        url.clone(),
        json!({"place_id": "no-such-place", "category": "repair", "description": "x"}),
    )
    .await;
    assert_eq!(
        (s, field(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "place_id"),
        "unknown and foreign places look the same"
    );
    let (s, v) = post(
        &owner,
        url.clone(),
        json!({"place_id": w.building_a, "category": "repair", "description": "  "}),
    )
    .await;
    assert_eq!(
        (s, field(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "description")
    );
    let (s, v) = post(&owner, url.clone(), json!({"place_id": w.building_a, "category": "repair", "description": "x", "channel": "phone", "reporter_name": "张"})).await;
    assert_eq!(
        s,
        StatusCode::FORBIDDEN,
        "residents do not raise on behalf: {v}"
    );
    // Raise.
    let (s, v) = post(
        &owner,
        url.clone(),
        json!({"place_id": w.building_a, "category": "repair", "description": "1栋外墙开裂掉渣"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = v["id"].as_str().unwrap().to_string();
    assert_eq!(v["status"], "reported");
    assert_eq!(v["org_kind"], "steward");
    assert_eq!(
        v["org_id"],
        w.steward_org.as_str(),
        "routed to the compound's steward"
    );
    assert!(
        v["grid_id"].is_string(),
        "routed to the micro-grid by place"
    );
    assert!(
        v["resolution_due"].as_i64().unwrap() > v["reported_at"].as_i64().unwrap() + 5 * DAY_MS,
        "5 working days are at least 5 days"
    );
    // The work queue shows it.
    let (s, q) = get(
        &gridw,
        format!("{}/api/v1/places/{}/case-queue", w.base, w.a.id),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(q["cases"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["id"] == id.as_str()));
    assert_eq!(q["overdue"], 0);
    let (s, _) = get(
        &owner,
        format!("{}/api/v1/places/{}/case-queue", w.base, w.a.id),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "residents have no queue");
    // Residents cannot handle; transitions follow the state machine.
    assert_eq!(
        act(&w, &owner, &id, "accept").await.0,
        StatusCode::FORBIDDEN
    );
    let (s, v) = act(&w, &steward, &id, "resolve").await;
    assert_eq!(
        (s, field(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "action"),
        "{v}"
    );
    assert!(v["detail"]
        .as_str()
        .unwrap()
        .contains("cannot resolve a case that is reported"));
    let (s, v) = post(
        &steward,
        format!("{}/api/v1/cases/{id}/actions", w.base),
        json!({"action": "fly"}),
    )
    .await;
    assert_eq!((s, field(&v)), (StatusCode::UNPROCESSABLE_ENTITY, "action"));
    for a in ["accept", "assign", "start", "resolve"] {
        let (s, v) = act(&w, &steward, &id, a).await;
        assert_eq!(s, StatusCode::OK, "{a}: {v}");
    }
    // The reporter verifies; staff close; the reporter rates once.
    assert_eq!(act(&w, &owner, &id, "verify").await.0, StatusCode::OK);
    assert_eq!(act(&w, &owner, &id, "close").await.0, StatusCode::FORBIDDEN);
    assert_eq!(act(&w, &steward, &id, "close").await.0, StatusCode::OK);
    let rate = format!("{}/api/v1/cases/{id}/rating", w.base);
    assert_eq!(
        post(&steward, rate.clone(), json!({"stars": 5})).await.0,
        StatusCode::FORBIDDEN,
        "only the reporter rates"
    );
    let (s, v) = post(&owner, rate.clone(), json!({"stars": 9})).await;
    assert_eq!((s, field(&v)), (StatusCode::UNPROCESSABLE_ENTITY, "stars"));
    let (s, v) = post(
        &owner,
        rate.clone(),
        json!({"stars": 5, "comment": "两小时就修好了"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["case"]["rating"], 5);
    let (s, v) = post(&owner, rate.clone(), json!({"stars": 1})).await;
    assert_eq!(
        (s, field(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "stars"),
        "rating twice"
    );
    assert!(v["detail"].as_str().unwrap().contains("already been rated"));
    let (s, v) = act(&w, &owner, &id, "reopen").await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "rated 5: no reopening: {v}"
    );
    // The timeline: every transition, visible to the reporter; not to other compounds.
    let (s, v) = get(&owner, format!("{}/api/v1/cases/{id}", w.base)).await;
    assert_eq!(s, StatusCode::OK);
    let kinds: Vec<&str> = v["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "reported", "accepted", "assigned", "started", "resolved", "verified", "closed",
            "rated"
        ]
    );
    assert_eq!(v["timeline"][1]["note"], "accept note");
    let mine = get(&owner, format!("{}/api/v1/cases/mine", w.base)).await.1;
    assert_eq!(mine["cases"].as_array().unwrap().len(), 1);
    let other = login(&w, "owner_b").await;
    assert_eq!(
        get(&other, format!("{}/api/v1/cases/{id}", w.base)).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        act(&w, &other, &id, "reopen").await.0,
        StatusCode::NOT_FOUND
    );
    // Statistics: private (staff, auditors) and public (anonymous).
    let (s, st) = get(
        &login(&w, "auditor").await,
        format!("{}/api/v1/places/{}/case-stats", w.base, w.a.id),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{st}");
    assert_eq!(st["kpis"]["received"], 1);
    assert_eq!(st["kpis"]["satisfaction_rate"]["percent"], "100.0%");
    assert_eq!(
        get(
            &other,
            format!("{}/api/v1/places/{}/case-stats", w.base, w.a.id)
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    let anon = reqwest::Client::new();
    let r = anon
        .get(format!(
            "{}/api/v1/public/compounds/{}/case-stats",
            w.base,
            w.a.code.as_ref().unwrap()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let text = r.text().await.unwrap();
    assert!(
        text.contains("\"received\":1") && !text.contains("外墙") && !text.contains("user:"),
        "anonymous: {text}"
    );
    // a period at the edge of i64 is a field error, not a server fault
    let r = anon
        .get(format!(
            "{}/api/v1/public/compounds/{}/case-stats?to=-9223372036854775808",
            w.base,
            w.a.code.as_ref().unwrap()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("from"));
    assert_eq!(
        anon.get(format!(
            "{}/api/v1/public/compounds/nope/case-stats",
            w.base
        ))
        .send()
        .await
        .unwrap()
        .status(),
        StatusCode::NOT_FOUND
    );
    // Events are append-only in the database itself.
    let r = sqlx::query("UPDATE case_events SET note = 'x'")
        .execute(w.f.db.reader())
        .await;
    assert!(r.is_err(), "case_events must refuse updates");
    let r = sqlx::query("DELETE FROM case_events")
        .execute(w.f.db.reader())
        .await;
    assert!(r.is_err(), "case_events must refuse deletes");
}

async fn low_rating_reopens_and_reject_merge(kind: Kind) {
    let w = world(kind).await;
    let owner = login(&w, "owner").await;
    let steward = login(&w, "steward").await;
    let url = format!("{}/api/v1/cases", w.base);
    let mk = |d: &str| json!({"place_id": w.a.id, "category": "environment", "description": d});
    let id1 = post(&owner, url.clone(), mk("垃圾桶很臭")).await.1["id"]
        .as_str()
        .unwrap()
        .to_string();
    let id2 = post(&owner, url.clone(), mk("垃圾桶好臭")).await.1["id"]
        .as_str()
        .unwrap()
        .to_string();
    let id3 = post(&owner, url.clone(), mk("x")).await.1["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (s, v) = post(
        &steward,
        format!("{}/api/v1/cases/{id2}/actions", w.base),
        json!({"action": "merge", "duplicate_of": "nope"}),
    )
    .await;
    assert_eq!(
        (s, field(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "duplicate_of")
    );
    let (s, v) = post(
        &steward,
        format!("{}/api/v1/cases/{id2}/actions", w.base),
        json!({"action": "merge", "duplicate_of": id1}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["case"]["status"], "merged");
    let (s, v) = post(
        &steward,
        format!("{}/api/v1/cases/{id3}/actions", w.base),
        json!({"action": "reject"}),
    )
    .await;
    assert_eq!(
        (s, field(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "note"),
        "a rejection needs a reason"
    );
    assert_eq!(act(&w, &steward, &id3, "reject").await.0, StatusCode::OK);
    assert_eq!(
        act(&w, &steward, &id3, "accept").await.0,
        StatusCode::UNPROCESSABLE_ENTITY,
        "rejected is final"
    );
    for a in ["accept", "assign", "resolve", "verify", "close"] {
        assert_eq!(act(&w, &steward, &id1, a).await.0, StatusCode::OK, "{a}");
    }
    assert_eq!(
        post(
            &owner,
            format!("{}/api/v1/cases/{id1}/rating", w.base),
            json!({"stars": 2})
        )
        .await
        .0,
        StatusCode::OK
    );
    let (s, v) = act(&w, &owner, &id1, "reopen").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["case"]["status"], "assigned");
    assert_eq!(v["case"]["reopens"], 1);
    assert!(
        v["case"]["rating"].is_null(),
        "the next closure is rated afresh"
    );
    // Routing rules are data: the community sends environment cases to the co-governance team.
    let admin = login(&w, "admin").await;
    let community = w.a.path_ids()[2].clone();
    let (s, v) = post(
        &admin,
        format!("{}/api/v1/places/{community}/case-routes", w.base),
        json!({"category": "environment", "org_kind": "co_governance_team"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, v) = post(
        &admin,
        format!("{}/api/v1/places/{community}/case-routes", w.base),
        json!({"category": "environment", "org_kind": "nobody"}),
    )
    .await;
    assert_eq!(
        (s, field(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "org_kind")
    );
    assert_eq!(
        post(
            &steward,
            format!("{}/api/v1/places/{community}/case-routes", w.base),
            json!({"category": "environment", "org_kind": "steward"})
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    let v = post(&owner, url.clone(), mk("绿化带垃圾")).await.1;
    assert_eq!(v["org_kind"], "co_governance_team");
    let routes = get(
        &admin,
        format!("{}/api/v1/places/{community}/case-routes", w.base),
    )
    .await
    .1;
    assert!(routes["routes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["category"] == "noise" && r["org_kind"] == "mediation_committee"));
    let (_, k) = get(
        &admin,
        format!("{}/api/v1/places/{}/case-stats", w.base, w.a.id),
    )
    .await;
    assert_eq!(k["kpis"]["received"], 4);
    assert_eq!(
        k["kpis"]["response_rate"]["num"], 3,
        "accepted, merged and rejected in time: {k}"
    );
    assert_eq!(
        k["kpis"]["resolution_rate"]["den"], 2,
        "rejected and merged are not counted as handled"
    );
}

fn png() -> Vec<u8> {
    let mut v = b"\x89PNG\r\n\x1a\n".to_vec();
    v.extend_from_slice(&[7u8; 100]);
    v
}

async fn photos(kind: Kind) {
    let w = world(kind).await;
    let owner = login(&w, "owner").await;
    let v = post(&owner, format!("{}/api/v1/cases", w.base), json!({"place_id": w.a.id, "category": "safety", "description": "消防通道堵了", "priority": "urgent"})).await.1;
    let id = v["id"].as_str().unwrap().to_string();
    let url = format!("{}/api/v1/cases/{id}/photos", w.base);
    let r = owner.post(&url).body(png()).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["content_type"], "image/png");
    use sha2::Digest;
    assert_eq!(p["sha256"], hex::encode(sha2::Sha256::digest(png())));
    let back = owner
        .get(format!("{url}/{}", p["id"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(back.headers()["content-type"], "image/png");
    assert_eq!(back.bytes().await.unwrap().to_vec(), png());
    let r = owner
        .post(&url)
        .header("content-type", "image/png")
        .body(b"GIF89a....".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let v: Value = r.json().await.unwrap();
    assert_eq!(field(&v), "photo");
    let mut big = png();
    big.resize(5 * 1024 * 1024 + 10, 0);
    let r = owner.post(&url).body(big).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let v: Value = r.json().await.unwrap();
    assert_eq!(field(&v), "photo");
    let other = login(&w, "owner_b").await;
    assert_eq!(
        other.post(&url).body(png()).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    let t = get(&owner, format!("{}/api/v1/cases/{id}", w.base)).await.1;
    assert_eq!(t["photos"].as_array().unwrap().len(), 1);
    assert!(t["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["kind"] == "photo_added"));
}

/// A repair case at building A raised 30 days ago by phone: overdue.
async fn raise_overdue(w: &World) -> String {
    let place = register::get_place(&w.f.db, &w.building_a).await.unwrap();
    let old = db::now_ms() - 30 * DAY_MS;
    let nc = cases::NewCase {
        place,
        part_id: None,
        category: Category::Repair,
        priority: Priority::Normal,
        description: "路灯坏了".into(),
        address: None,
        lat: None,
        lon: None,
        channel: Channel::Phone,
        reporter_user_id: None,
        reporter_name: Some("李".into()),
        reporter_phone: None,
        consent_publish: false,
        raised_by: "test".into(),
    };
    w.f.db
        .write(move |tx| {
            let nc = nc.clone();
            Box::pin(async move { cases::raise_in(tx, &nc, &Calendar::default(), old).await })
        })
        .await
        .unwrap()
}

async fn on_behalf_whistle_and_sweep(kind: Kind) {
    let w = world(kind).await;
    let gridw = login(&w, "gridw").await;
    let steward = login(&w, "steward").await;
    let url = format!("{}/api/v1/cases", w.base);
    let (s, v) = post(&gridw, url.clone(), json!({"place_id": w.building_a, "category": "noise", "description": "狗叫扰民", "channel": "door_knock"})).await;
    assert_eq!(
        (s, field(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "reporter_name"),
        "{v}"
    );
    let (s, v) = post(&gridw, url.clone(), json!({"place_id": w.building_a, "category": "noise", "description": "狗叫扰民", "channel": "door_knock", "reporter_name": "王阿姨", "reporter_phone": "13912345678"})).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["channel"], "door_knock");
    assert!(v["reporter_user_id"].is_null());
    assert_eq!(v["reporter_phone"], "139****5678", "phones are masked");
    assert_eq!(v["org_kind"], "mediation_committee");
    let id = v["id"].as_str().unwrap().to_string();
    // 吹哨: the steward may not; the grid worker may; building → compound.
    assert_eq!(
        act(&w, &steward, &id, "escalate").await.0,
        StatusCode::FORBIDDEN
    );
    let (s, v) = act(&w, &gridw, &id, "escalate").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["case"]["level"], "compound");
    assert_eq!(v["case"]["holder_place_id"], w.a.id.as_str());
    assert_eq!(v["case"]["escalations"], 1);
    // An overdue case (raised 30 days ago) is escalated by the sweep, once.
    let old_id = raise_overdue(&w).await;
    let q = get(
        &gridw,
        format!("{}/api/v1/places/{}/case-queue", w.base, w.a.id),
    )
    .await
    .1;
    assert_eq!(
        q["cases"][0]["id"],
        old_id.as_str(),
        "soonest deadline first"
    );
    assert_eq!(q["cases"][0]["overdue"], true);
    assert_eq!(q["overdue"], 1);
    assert_eq!(
        post(
            &steward,
            format!("{}/api/v1/places/{}/case-sweep", w.base, w.a.id),
            json!({})
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    let (s, v) = post(
        &gridw,
        format!("{}/api/v1/places/{}/case-sweep", w.base, w.a.id),
        json!({}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["escalated"], 1);
    let (_, v) = post(
        &gridw,
        format!("{}/api/v1/places/{}/case-sweep", w.base, w.a.id),
        json!({}),
    )
    .await;
    assert_eq!(
        v["escalated"], 0,
        "the receiving level gets its grace period"
    );
    let c = cases::get(&w.f.db, &old_id).await.unwrap();
    assert_eq!((c.level.as_str(), c.escalations), ("compound", 1));
    assert!(
        c.resolution_due > db::now_ms(),
        "a new deadline at the receiving level"
    );
    let tl = cases::timeline(&w.f.db, &old_id).await.unwrap();
    assert_eq!(tl.last().unwrap().kind, "escalated");
    assert_eq!(
        tl.last().unwrap().note.as_deref(),
        Some("overdue: escalated automatically")
    );
}

async fn api_key(w: &World, user: &str) -> String {
    let c = login(w, user).await;
    let (_, v) = post(
        &c,
        format!("{}/api/v1/tokens", w.base),
        json!({"name": "open311"}),
    )
    .await;
    v["token"].as_str().unwrap().to_string()
}

/// Our own requests against the GeoReport v2 shapes, JSON and XML.
async fn open311_shapes(kind: Kind) {
    let w = world(kind).await;
    let key = api_key(&w, "owner").await;
    let code = w.a.code.clone().unwrap();
    let root = format!("{}/open311/v2", w.base);
    let c = reqwest::Client::new();
    let x = c.get(format!("{root}/services.xml")).send().await.unwrap();
    assert_eq!(x.headers()["content-type"], "text/xml; charset=utf-8");
    let x = x.text().await.unwrap();
    assert!(
        x.starts_with("<?xml")
            && x.contains("<services><service>")
            && x.contains("<service_code>repair</service_code>")
            && x.ends_with("</service></services>"),
        "{x}"
    );
    let r = c
        .post(format!("{root}/requests.json"))
        .form(&[
            ("jurisdiction_id", code.as_str()),
            ("service_code", "environment"),
            ("address_string", "3栋门口"),
            ("description", "垃圾桶满了"),
            ("api_key", key.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    let id = v[0]["service_request_id"].as_str().unwrap().to_string();
    let case = cases::get(&w.f.db, &id).await.unwrap();
    assert_eq!(
        (case.channel.as_str(), case.place_id.as_str()),
        ("open311", w.a.id.as_str())
    );
    // The case is a case like any other: the steward closes it, Open311 says closed.
    let steward = login(&w, "steward").await;
    for a in ["accept", "assign", "resolve"] {
        assert_eq!(act(&w, &steward, &id, a).await.0, StatusCode::OK);
    }
    let one: Value = c
        .get(format!("{root}/requests/{id}.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(one[0]["status"], "closed");
    assert_eq!(one[0]["status_notes"], "resolve note");
    assert!(
        one[0]["description"].is_null(),
        "no text to the public without consent"
    );
    let with_key: Value = c
        .get(format!("{root}/requests/{id}.json?api_key={key}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        with_key[0]["description"], "垃圾桶满了",
        "the reporter sees their text"
    );
    let x = c
        .get(format!("{root}/requests/{id}.xml"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        x.contains("<service_requests><request>")
            && x.contains(&format!("<service_request_id>{id}</service_request_id>"))
            && x.contains("<status>closed</status>"),
        "{x}"
    );
    assert!(
        x.contains("<requested_datetime>") && x.contains("+08:00</requested_datetime>"),
        "{x}"
    );
    // Errors.
    let r = c.get(format!("{root}/requests.json")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e[0]["code"], 400);
    assert!(e[0]["description"]
        .as_str()
        .unwrap()
        .contains("jurisdiction_id"));
    let r = c
        .post(format!("{root}/requests.json"))
        .form(&[
            ("jurisdiction_id", w.b.code.clone().unwrap().as_str()),
            ("service_code", "repair"),
            ("address_string", "x"),
            ("description", "x"),
            ("api_key", key.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::FORBIDDEN,
        "an api_key of compound A cannot post in B"
    );
    let r = c
        .post(format!("{root}/requests.json"))
        .form(&[
            ("jurisdiction_id", code.as_str()),
            ("service_code", "repair"),
            ("address_id", w.b.id.as_str()),
            ("description", "x"),
            ("api_key", key.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::BAD_REQUEST,
        "address_id outside the jurisdiction"
    );
    let x = c
        .get(format!("{root}/requests.xml?jurisdiction_id=nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(x.status(), StatusCode::NOT_FOUND);
    assert_eq!(x.text().await.unwrap(), format!("<?xml version=\"1.0\" encoding=\"utf-8\"?><errors><error><code>404</code><description>unknown jurisdiction_id 'nope'</description></error></errors>"));
    let listed: Value = c
        .get(format!(
            "{root}/requests.json?jurisdiction_id={code}&status=closed"
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    let listed: Value = c
        .get(format!(
            "{root}/requests.json?jurisdiction_id={code}&status=open"
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 0);
}

/// The independent client: the `georeport` package from PyPI (tests/open311/).
async fn open311_independent_client(kind: Kind) {
    let w = world(kind).await;
    let key = api_key(&w, "owner").await;
    let root_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let python = match std::env::var("GONGZHI_OPEN311_PYTHON") {
        Ok(p) if !p.is_empty() => p,
        _ => {
            let out = std::process::Command::new("bash")
                .arg(root_dir.join("tests/open311/setup.sh"))
                .output()
                .expect("run tests/open311/setup.sh");
            assert!(
                out.status.success(),
                "tests/open311/setup.sh failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8(out.stdout).unwrap().trim().to_string()
        }
    };
    let base = w.base.clone();
    let (code, building) = (w.a.code.clone().unwrap(), w.building_a.clone());
    let script = root_dir.join("tests/open311/client_test.py");
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(python)
            .arg(script)
            .arg(format!("{base}/open311/v2"))
            .arg(code)
            .arg(key)
            .arg(building)
            .output()
            .expect("run the client")
    })
    .await
    .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        out.status.success(),
        "Open311 client test failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains(" passed, 0 failed"), "{stdout}");
}

async fn mediation_org(w: &World, kind: OrgKind, name: &str) -> String {
    let community = register::get_place(&w.f.db, &w.a.path_ids()[2])
        .await
        .unwrap();
    let name = name.to_string();
    w.f.db
        .write(move |tx| {
            let (c, name) = (community.clone(), name.clone());
            Box::pin(async move { register::create_org(tx, "t", kind, &name, &c, None, &[]).await })
        })
        .await
        .unwrap()
}

/// A dispute becomes a mediation: parties masked, mediators from the
/// register, sessions, one outcome; every refusal as problem+json; the
/// statistics' "disputes mediated" come from the outcomes.
async fn mediation(kind: Kind) {
    let w = world(kind).await;
    let owner = login(&w, "owner").await;
    let owner_b = login(&w, "owner_b").await;
    let steward = login(&w, "steward").await;
    let committee = mediation_org(&w, OrgKind::MediationCommittee, "锦城社区人民调解委员会").await;
    let (s, v) = post(
        &owner,
        format!("{}/api/v1/cases", w.base),
        json!({"place_id": w.building_a, "category": "noise", "description": "邻居家的狗夜里一直叫"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = v["id"].as_str().unwrap().to_string();
    let (_, v) = post(
        &owner,
        format!("{}/api/v1/cases", w.base),
        json!({"place_id": w.building_a, "category": "repair", "description": "灯坏了"}),
    )
    .await;
    let repair = v["id"].as_str().unwrap().to_string();
    let med = |id: &str| format!("{}/api/v1/cases/{id}/mediation", w.base);
    let parties = json!([{"name": "王阿姨", "side": "applicant", "phone": "13912345678"}, {"name": "李先生", "side": "respondent"}]);
    let body = json!({"parties": parties, "mediator_org_ids": [committee]});
    // Not before the case is accepted; never for a repair.
    let (s, v) = post(&steward, med(&id), body.clone()).await;
    assert_eq!(
        (s, field(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "action"),
        "{v}"
    );
    act(&w, &steward, &id, "accept").await;
    act(&w, &steward, &repair, "accept").await;
    let (s, v) = post(&steward, med(&repair), body.clone()).await;
    assert_eq!(
        (s, field(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "category"),
        "{v}"
    );
    // Only staff over the case; others do not even see it.
    let (s, _) = post(&owner, med(&id), body.clone()).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = post(&owner_b, med(&id), body.clone()).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // Bad parties and mediators.
    let (s, v) = post(
        &steward,
        med(&id),
        json!({"parties": [{"name": "王阿姨"}], "mediator_org_ids": [committee]}),
    )
    .await;
    assert_eq!(
        (s, field(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "parties"),
        "{v}"
    );
    let (s, v) = post(
        &steward,
        med(&id),
        json!({"parties": parties, "mediator_org_ids": [w.steward_org]}),
    )
    .await;
    assert_eq!(
        (s, field(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "mediator_org_ids"),
        "{v}"
    );
    let (s, v) = post(
        &steward,
        med(&id),
        json!({"parties": parties, "mediator_org_ids": ["nope"]}),
    )
    .await;
    assert_eq!(
        (s, field(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "mediator_org_ids"),
        "{v}"
    );
    let (s, v) = post(&steward, med(&id), json!({"parties": [{"name": "王阿姨", "side": "judge"}, {"name": "李"}], "mediator_org_ids": [committee]})).await;
    assert_eq!(
        (s, field(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "parties.side"),
        "{v}"
    );
    let (s, v) = get(&steward, med(&id)).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
    // Opened: parties masked.
    let (s, v) = post(&steward, med(&id), body.clone()).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["mediation"]["status"], "open");
    assert_eq!(v["mediation"]["parties"][0]["name"], "王**");
    assert_eq!(v["mediation"]["parties"][0]["phone"], "139****5678");
    assert_eq!(v["mediation"]["mediators"][0]["org_id"], committee.as_str());
    assert!(!v.to_string().contains("13912345678"));
    let (s, v) = post(&steward, med(&id), body.clone()).await;
    assert_eq!(
        (s, field(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "case_id"),
        "once: {v}"
    );
    // An agreement needs a session first.
    let outcome = format!("{}/outcome", med(&id));
    let sessions = format!("{}/sessions", med(&id));
    let (s, v) = post(
        &steward,
        outcome.clone(),
        json!({"outcome": "agreement", "text": "协议"}),
    )
    .await;
    assert_eq!(
        (s, field(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "outcome"),
        "{v}"
    );
    let (s, v) = post(&steward, outcome.clone(), json!({"outcome": "truce"})).await;
    assert_eq!(
        (s, field(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "outcome"),
        "{v}"
    );
    let (s, v) = post(
        &steward,
        sessions.clone(),
        json!({"held_at": "yesterday", "place": "议事厅", "attendees": ["王阿姨"], "notes": "x"}),
    )
    .await;
    assert_eq!(
        (s, field(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "held_at"),
        "{v}"
    );
    let (s, v) = post(&steward, sessions.clone(), json!({"held_at": "2099-01-01T19:00:00+08:00", "place": "议事厅", "attendees": ["王阿姨"], "notes": "x"})).await;
    assert_eq!(
        (s, field(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "held_at"),
        "not in the future: {v}"
    );
    let (s, v) = post(&steward, sessions.clone(), json!({"held_at": "2026-01-05T19:00:00+08:00", "place": "议事厅", "attendees": [], "notes": "x"})).await;
    assert_eq!(
        (s, field(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "attendees"),
        "{v}"
    );
    let (s, _) = post(&owner, sessions.clone(), json!({"held_at": "2026-01-05T19:00:00+08:00", "place": "议事厅", "attendees": ["王阿姨"], "notes": "x"})).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, v) = post(&steward, sessions.clone(), json!({"held_at": "2026-01-05T19:00:00+08:00", "place": "议事厅", "attendees": ["王阿姨", "李先生", "调委会张主任"], "notes": "双方陈述，约定三日内答复"})).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(
        v["mediation"]["sessions"][0]["attendees"][2],
        "调委会张主任"
    );
    let (s, v) = post(
        &steward,
        outcome.clone(),
        json!({"outcome": "agreement", "text": "夜间把狗关在室内，白天遛狗拴绳"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["mediation"]["status"], "concluded");
    assert_eq!(v["mediation"]["outcome"]["kind"], "agreement");
    // Once: no second outcome, no session after it.
    let (s, v) = post(
        &steward,
        outcome.clone(),
        json!({"outcome": "failed", "text": "x"}),
    )
    .await;
    assert_eq!(
        (s, field(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "outcome"),
        "{v}"
    );
    let (s, v) = post(
        &steward,
        sessions.clone(),
        json!({"held_at": "2026-01-06", "place": "议事厅", "attendees": ["王阿姨"], "notes": "x"}),
    )
    .await;
    assert_eq!(
        (s, field(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "action"),
        "{v}"
    );
    // The reporter reads it; the timeline has the steps.
    let (s, v) = get(&owner, med(&id)).await;
    assert_eq!(
        (s, v["mediation"]["outcome"]["text"].as_str()),
        (StatusCode::OK, Some("夜间把狗关在室内，白天遛狗拴绳"))
    );
    let (_, v) = get(&owner, format!("{}/api/v1/cases/{id}", w.base)).await;
    let kinds: Vec<&str> = v["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.ends_with(&[
            "mediation_opened",
            "mediation_session",
            "mediation_concluded"
        ]),
        "{kinds:?}"
    );
    // The page shows it.
    let html = owner
        .get(format!("{}/cases/{id}", w.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("data-outcome=\"med.agreement\""), "{html}");
    assert!(
        html.contains("王**") && !html.contains("王阿姨（"),
        "parties masked on the page"
    );
    // Statistics: one dispute mediated, in the place's and the public numbers.
    let (_, v) = get(
        &steward,
        format!("{}/api/v1/places/{}/case-stats", w.base, w.a.id),
    )
    .await;
    assert_eq!(v["kpis"]["disputes_mediated"], 1, "{v}");
    assert_eq!(v["kpis"]["mediations"]["opened"], 1, "{v}");
    let (_, v) = get(
        &owner_b,
        format!(
            "{}/api/v1/public/compounds/{}/case-stats",
            w.base,
            w.a.code.clone().unwrap()
        ),
    )
    .await;
    assert_eq!(v["kpis"]["disputes_mediated"], 1, "{v}");
    let (_, v) = get(
        &owner_b,
        format!(
            "{}/api/v1/public/compounds/{}/case-stats",
            w.base,
            w.b.code.clone().unwrap()
        ),
    )
    .await;
    assert_eq!(v["kpis"]["disputes_mediated"], 0, "{v}");
    // Append-only in the database itself.
    assert!(sqlx::query("UPDATE mediation_outcomes SET kind = 'failed'")
        .execute(w.f.db.reader())
        .await
        .is_err());
    assert!(sqlx::query("DELETE FROM mediation_sessions")
        .execute(w.f.db.reader())
        .await
        .is_err());
}

/// Every change notifies the reporter (and the assignee where it concerns
/// them) in the same transaction; a refused change notifies nobody; a
/// resident never reads another's notifications; the dispatcher delivers
/// each delivery once over each channel and records the attempt.
async fn notifications(kind: Kind) {
    let w = world(kind).await;
    let owner = login(&w, "owner").await;
    let owner_b = login(&w, "owner_b").await;
    let steward = login(&w, "steward").await;
    let gridw_id = auth::user_id_by_name(&w.f.db, "gridw").await.unwrap();
    let owner_id = auth::user_id_by_name(&w.f.db, "owner").await.unwrap();
    let list = |c: &reqwest::Client, q: &str| {
        let (c, url) = (c.clone(), format!("{}/api/v1/notifications{q}", w.base));
        async move { get(&c, url).await.1 }
    };
    let (_, v) = post(
        &owner,
        format!("{}/api/v1/cases", w.base),
        json!({"place_id": w.building_a, "category": "repair", "description": "楼道灯不亮"}),
    )
    .await;
    let id = v["id"].as_str().unwrap().to_string();
    assert_eq!(
        list(&owner, "").await["unread"],
        0,
        "raising one's own case tells nobody"
    );
    act(&w, &steward, &id, "accept").await;
    let (s, v) = post(
        &steward,
        format!("{}/api/v1/cases/{id}/actions", w.base),
        json!({"action": "assign", "assignee_user_id": gridw_id}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    // A refused transition writes nothing, notifications included.
    let (s, _) = act(&w, &steward, &id, "close").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let v = list(&owner, "").await;
    assert_eq!(v["unread"], 2, "{v}");
    let kinds: Vec<&str> = v["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["event_kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, vec!["assigned", "accepted"], "newest first");
    let mut got = cases_deliveries(&w, &id).await;
    got.sort();
    let mut want = vec![];
    for (u, k) in [
        (&owner_id, "accepted"),
        (&owner_id, "assigned"),
        (&gridw_id, "assigned"),
    ] {
        for ch in ["in_app", "sms", "wechat"] {
            want.push((u.clone(), k.to_string(), ch.to_string()));
        }
    }
    want.sort();
    assert_eq!(
        got.iter()
            .map(|d| (d.0.clone(), d.1.clone(), d.2.clone()))
            .collect::<Vec<_>>(),
        want
    );
    // Nobody else's: another resident sees none and cannot mark them.
    let nid = v["notifications"][0]["id"].as_str().unwrap().to_string();
    let vb = list(&owner_b, "").await;
    assert_eq!(
        (
            vb["unread"].as_i64(),
            vb["notifications"].as_array().unwrap().len()
        ),
        (Some(0), 0)
    );
    let (s, _) = post(
        &owner_b,
        format!("{}/api/v1/notifications/{nid}/read", w.base),
        json!({}),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(list(&owner, "").await["unread"], 2);
    let gridw = login(&w, "gridw").await;
    let (s, _) = post(
        &gridw,
        format!("{}/api/v1/notifications/{nid}/read", w.base),
        json!({}),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "not even a colleague");
    assert_eq!(list(&gridw, "").await["unread"], 1);
    // Read.
    let r = owner
        .post(format!("{}/api/v1/notifications/{nid}/read", w.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        list(&owner, "?unread=true").await["notifications"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let html = owner
        .get(format!("{}/cases", w.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("<span id=\"unread-count\" class=\"tag\">1</span>"),
        "{html}"
    );
    let (s, v) = post(
        &owner,
        format!("{}/api/v1/notifications/read-all", w.base),
        json!({}),
    )
    .await;
    assert_eq!((s, v["marked"].as_i64()), (StatusCode::OK, Some(1)));
    assert_eq!(list(&owner, "").await["unread"], 0);
    // The dispatcher (in the background, every second) delivers each once.
    let mut done = false;
    for _ in 0..100 {
        let d = cases_deliveries(&w, &id).await;
        if d.iter().all(|x| x.3 == "sent") {
            assert!(d.iter().all(|x| x.4 == 1), "one attempt each: {d:?}");
            done = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(done, "delivered: {:?}", cases_deliveries(&w, &id).await);
    let again = gongzhi_store::notify::dispatch(
        &w.f.db,
        &gongzhi_store::notify::default_senders(None),
        db::now_ms(),
        100,
    )
    .await
    .unwrap();
    assert_eq!(again.sent, 0, "nothing is sent twice");
}

async fn cases_deliveries(w: &World, id: &str) -> Vec<(String, String, String, String, i64)> {
    gongzhi_store::notify::deliveries_of_case(&w.f.db, id)
        .await
        .unwrap()
}

/// A grid worker scoped to one micro-grid handles only that micro-grid's
/// cases, though the others are in the same compound; a building head (楼栋长)
/// raises on behalf, sees the queue and verifies in their building, nothing else.
async fn grid_scope_and_building_head(kind: Kind) {
    let w = world(kind).await;
    let grids = register::grids_of(&w.f.db, &w.a).await.unwrap();
    let compound_grid = grids
        .iter()
        .find(|g| g.kind == "compound")
        .unwrap()
        .id
        .clone();
    let kids = register::children(&w.f.db, Some(&w.a)).await.unwrap();
    let (b1, b2) = (
        w.building_a.clone(),
        kids.iter()
            .find(|k| k.id != w.building_a)
            .unwrap()
            .id
            .clone(),
    );
    let (a, h, b1c) = (w.a.clone(), hash(), b1.clone());
    w.f.db
        .write(move |tx| {
            let (a, h, b1, compound_grid) =
                (a.clone(), h.clone(), b1c.clone(), compound_grid.clone());
            Box::pin(async move {
                let other = register::create_grid(
                    tx,
                    "t",
                    GridKind::Micro,
                    "A-2",
                    &a,
                    Some(&compound_grid),
                    None,
                )
                .await?;
                let u = auth::create_user(tx, "t", "gridw2", &h, None).await?;
                auth::add_grant(tx, "t", &u, Role::GridWorker, Some(&a.id), Some(&other)).await?;
                let bh = auth::create_user(tx, "t", "bhead", &h, None).await?;
                assert!(
                    auth::add_grant(tx, "t", &bh, Role::BuildingHead, Some(&a.id), None)
                        .await
                        .is_err(),
                    "over a building only"
                );
                auth::add_grant(tx, "t", &bh, Role::BuildingHead, Some(&b1), None).await
            })
        })
        .await
        .unwrap();
    let owner = login(&w, "owner").await;
    let steward = login(&w, "steward").await;
    let gridw = login(&w, "gridw").await;
    let gridw2 = login(&w, "gridw2").await;
    let bhead = login(&w, "bhead").await;
    let url = format!("{}/api/v1/cases", w.base);
    let (s, v) = post(
        &owner,
        url.clone(),
        json!({"place_id": b1, "category": "repair", "description": "楼道灯不亮"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = v["id"].as_str().unwrap().to_string();
    assert!(v["grid_id"].is_string(), "{v}");
    // Outside the micro-grid: no accept, assign, resolve, not in the queue.
    for a in ["accept", "assign", "resolve", "escalate"] {
        let (s, v) = act(&w, &gridw2, &id, a).await;
        assert!(
            matches!(s, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
            "{a}: {s} {v}"
        );
    }
    let queue = |c: &reqwest::Client, place: &str| {
        let (c, u) = (
            c.clone(),
            format!("{}/api/v1/places/{place}/case-queue", w.base),
        );
        async move { get(&c, u).await }
    };
    let (s, v) = queue(&gridw2, &w.a.id).await;
    assert_eq!(
        (s, v["cases"].as_array().map(|a| a.len())),
        (StatusCode::OK, Some(0)),
        "{v}"
    );
    let (s, v) = get(
        &gridw2,
        format!("{}/api/v1/places/{}/cases", w.base, w.a.id),
    )
    .await;
    assert_eq!(
        (s, v["cases"].as_array().map(|a| a.len())),
        (StatusCode::OK, Some(0)),
        "{v}"
    );
    // Inside it: yes.
    let (_, v) = queue(&gridw, &w.a.id).await;
    assert_eq!(v["cases"].as_array().unwrap().len(), 1);
    let (s, v) = act(&w, &gridw, &id, "accept").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    // The building head: their building's queue, not the compound's nor the next building's.
    let (s, v) = queue(&bhead, &b1).await;
    assert_eq!(
        (s, v["cases"].as_array().map(|a| a.len())),
        (StatusCode::OK, Some(1)),
        "{v}"
    );
    let (s, _) = queue(&bhead, &w.a.id).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = queue(&bhead, &b2).await;
    assert!(
        matches!(s, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
        "{s}"
    );
    // Sees the case, cannot handle it.
    let (s, _) = get(&bhead, format!("{url}/{id}")).await;
    assert_eq!(s, StatusCode::OK);
    let (s, v) = act(&w, &bhead, &id, "assign").await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    // Raises on a resident's behalf in their building, not next door.
    let body = |place: &str| json!({"place_id": place, "category": "safety", "description": "楼道堆放杂物", "channel": "door_knock", "reporter_name": "张大爷"});
    let (s, v) = post(&bhead, url.clone(), body(&b1)).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, v) = post(&bhead, url.clone(), body(&b2)).await;
    assert_eq!(
        (s, field(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "place_id"),
        "{v}"
    );
    // A resident cannot raise on behalf.
    let (s, _) = post(&owner, url.clone(), body(&b1)).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // Verifies a resolved case in the building.
    for a in ["assign", "resolve"] {
        let (s, v) = act(&w, &steward, &id, a).await;
        assert_eq!(s, StatusCode::OK, "{a}: {v}");
    }
    let (s, v) = act(&w, &gridw2, &id, "verify").await;
    assert!(
        matches!(s, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
        "{s} {v}"
    );
    let (s, v) = act(&w, &bhead, &id, "verify").await;
    assert_eq!(
        (s, v["case"]["status"].as_str()),
        (StatusCode::OK, Some("verified")),
        "{v}"
    );
    let (s, _) = act(&w, &bhead, &id, "close").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

/// Token mode (a jurisdiction setting): POST requests.json answers
/// `[{"token", "service_notice"}]`, the request waits for acceptance, and
/// `tokens/{token}.json` gives the `service_request_id` once known; unknown
/// tokens answer 404 in the specification's error format, JSON and XML.
async fn open311_tokens(kind: Kind) {
    let w = world(kind).await;
    let key = api_key(&w, "owner").await;
    let code = w.a.code.clone().unwrap();
    let root = format!("{}/open311/v2", w.base);
    let c = reqwest::Client::new();
    let r = c
        .get(format!("{root}/tokens/no-such-token.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let v: Value = r.json().await.unwrap();
    assert!(
        v[0]["code"] == 404
            && v[0]["description"]
                .as_str()
                .unwrap()
                .contains("unknown token"),
        "{v}"
    );
    let r = c
        .get(format!("{root}/tokens/no-such-token.xml"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let x = r.text().await.unwrap();
    assert!(x.contains("<errors><error><code>404</code>"), "{x}");
    let create = |desc: &'static str| {
        let (c, root, code, key) = (c.clone(), root.clone(), code.clone(), key.clone());
        async move {
            let r = c
                .post(format!("{root}/requests.json"))
                .form(&[
                    ("jurisdiction_id", code.as_str()),
                    ("service_code", "repair"),
                    ("address_id", ""),
                    ("address_string", "1栋"),
                    ("description", desc),
                    ("api_key", key.as_str()),
                ])
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::OK);
            r.json::<Value>().await.unwrap()
        }
    };
    // By default: the id at once.
    let v = create("电梯停了").await;
    assert!(
        v[0]["service_request_id"].is_string() && v[0].get("token").is_none(),
        "{v}"
    );
    // Switching to tokens: staff who write the register, a known mode.
    let owner = login(&w, "owner").await;
    let admin = login(&w, "admin").await;
    let set = format!("{}/api/v1/places/{}/open311-answer", w.base, w.a.id);
    let put = |cl: &reqwest::Client, body: Value| {
        let (cl, set) = (cl.clone(), set.clone());
        async move {
            let r = cl.put(set).json(&body).send().await.unwrap();
            let s = r.status();
            (s, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    assert_eq!(
        put(&owner, json!({"answer": "token"})).await.0,
        StatusCode::FORBIDDEN
    );
    let (s, v) = put(&admin, json!({"answer": "later"})).await;
    assert_eq!(
        (s, field(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "answer"),
        "{v}"
    );
    let (s, v) = put(&admin, json!({"answer": "token"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let v = create("楼道灯不亮").await;
    assert!(v[0].get("service_request_id").is_none(), "{v}");
    let token = v[0]["token"].as_str().unwrap().to_string();
    assert!(v[0]["service_notice"].as_str().unwrap().contains("queued"));
    let tok = |t: &str, ext: &str| {
        let (c, u) = (c.clone(), format!("{root}/tokens/{t}.{ext}"));
        async move {
            let r = c.get(u).send().await.unwrap();
            (r.status(), r.text().await.unwrap())
        }
    };
    let (s, body) = tok(&token, "json").await;
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (s, v.clone()),
        (
            StatusCode::OK,
            json!([{"service_request_id": null, "token": token}])
        )
    );
    // Accepted by staff over the whole compound only.
    let steward = login(&w, "steward").await;
    let gridw = login(&w, "gridw").await;
    let (_, v) = get(
        &steward,
        format!("{}/api/v1/places/{}/open311-queue", w.base, w.a.id),
    )
    .await;
    assert_eq!(v["requests"].as_array().unwrap().len(), 1, "{v}");
    let accept = format!("{}/api/v1/open311-queue/{token}/accept", w.base);
    let (s, _) = post(&gridw, accept.clone(), json!({})).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = post(&owner, accept.clone(), json!({})).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, v) = post(&steward, accept.clone(), json!({})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let id = v["service_request_id"].as_str().unwrap().to_string();
    let (s, v) = post(&steward, accept.clone(), json!({})).await;
    assert_eq!(
        (s, field(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "token"),
        "once: {v}"
    );
    let (s, body) = tok(&token, "json").await;
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (s, v),
        (
            StatusCode::OK,
            json!([{"service_request_id": id, "token": token}])
        )
    );
    let (s, x) = tok(&token, "xml").await;
    assert_eq!(s, StatusCode::OK);
    assert!(x.contains(&format!("<service_requests><request><service_request_id>{id}</service_request_id><token>{token}</token></request></service_requests>")), "{x}");
    let r: Value = c
        .get(format!("{root}/requests/{id}.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (r[0]["service_request_id"].as_str(), r[0]["status"].as_str()),
        (Some(id.as_str()), Some("open")),
        "{r}"
    );
    // The reporter (the api_key's owner) owns the case.
    let (s, v) = get(&owner, format!("{}/api/v1/cases/{id}", w.base)).await;
    assert_eq!(
        (s, v["case"]["channel"].as_str()),
        (StatusCode::OK, Some("open311"))
    );
    // A rejected request's token answers 404, with the reason.
    let v = create("广告").await;
    let t2 = v[0]["token"].as_str().unwrap().to_string();
    let reject = format!("{}/api/v1/open311-queue/{t2}/reject", w.base);
    let (s, v) = post(&steward, reject.clone(), json!({"reason": " "})).await;
    assert_eq!(
        (s, field(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "reason"),
        "{v}"
    );
    let (s, _) = post(
        &steward,
        reject.clone(),
        json!({"reason": "广告，不属于诉求"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (s, body) = tok(&t2, "json").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(body.contains("广告，不属于诉求"), "{body}");
    let (_, v) = get(
        &steward,
        format!("{}/api/v1/places/{}/open311-queue", w.base, w.a.id),
    )
    .await;
    assert_eq!(v["requests"].as_array().unwrap().len(), 0, "{v}");
    // Back to ids.
    assert_eq!(put(&admin, json!({"answer": "id"})).await.0, StatusCode::OK);
    assert!(create("门禁坏了").await[0]["service_request_id"].is_string());
}

/// Writes on cases touch only what the actor may: an assignee must be able to
/// handle the case, a merge target must be the actor's, a grid worker's sweep
/// stays in their micro-grid. Free text shows phones and ID numbers masked.
async fn case_writes_stay_in_scope(kind: Kind) {
    let w = world(kind).await;
    let (admin, gridw, owner, owner_b, steward) = (
        login(&w, "admin").await,
        login(&w, "gridw").await,
        login(&w, "owner").await,
        login(&w, "owner_b").await,
        login(&w, "steward").await,
    );
    // A second micro-grid of A (no households) with its own grid worker.
    let (_, grids) = get(&admin, format!("{}/api/v1/places/{}/grids", w.base, w.a.id)).await;
    let compound_grid = grids["grids"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["kind"] == "compound")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (a, h) = (w.a.clone(), hash());
    w.f.db
        .write(move |tx| {
            let (a, h, cg) = (a.clone(), h.clone(), compound_grid.clone());
            Box::pin(async move {
                let g2 =
                    register::create_grid(tx, "t", GridKind::Micro, "A-2", &a, Some(&cg), None)
                        .await?;
                let u = auth::create_user(tx, "t", "gridw2", &h, None).await?;
                auth::add_grant(tx, "t", &u, Role::GridWorker, Some(&a.id), Some(&g2)).await
            })
        })
        .await
        .unwrap();
    let gridw2 = login(&w, "gridw2").await;
    let uid = |n: &str| {
        let (db, n) = (w.f.db.clone(), n.to_string());
        async move { auth::user_id_by_name(&db, &n).await.unwrap() }
    };
    let url = format!("{}/api/v1/cases", w.base);
    let (s, c1) = post(&owner, url.clone(), json!({"place_id": w.building_a, "category": "repair", "description": "楼道灯坏了，电话 138 1234 5678，身份证 11010119900101123X"})).await;
    assert_eq!(s, StatusCode::CREATED, "{c1}");
    let c1 = c1["id"].as_str().unwrap().to_string();
    let (s, cb) = post(
        &owner_b,
        url.clone(),
        json!({"place_id": w.b.id, "category": "repair", "description": "乙小区漏水"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{cb}");
    let cb = cb["id"].as_str().unwrap().to_string();
    assert_eq!(act(&w, &gridw, &c1, "accept").await.0, StatusCode::OK);
    // (b) Assignees who may not handle the case: an owner, B's owner, the other micro-grid's worker, no one.
    for who in [
        uid("owner").await,
        uid("owner_b").await,
        uid("gridw2").await,
        "nobody".to_string(),
    ] {
        let (s, v) = post(
            &gridw,
            format!("{url}/{c1}/actions"),
            json!({"action": "assign", "assignee_user_id": who}),
        )
        .await;
        assert_eq!(
            (s, field(&v)),
            (StatusCode::UNPROCESSABLE_ENTITY, "assignee_user_id"),
            "{who}: {v}"
        );
    }
    let c = cases::get(&w.f.db, &c1).await.unwrap();
    assert_eq!(
        (c.status().to_string(), c.assignee_user_id),
        ("accepted".to_string(), None),
        "nothing written"
    );
    let gw = uid("gridw").await;
    let (s, v) = post(
        &gridw,
        format!("{url}/{c1}/actions"),
        json!({"action": "assign", "assignee_user_id": gw}),
    )
    .await;
    assert_eq!(
        s,
        StatusCode::OK,
        "the micro-grid's own worker may be assigned: {v}"
    );
    // Case merges across compounds are refused, and nothing is written.
    let (s, c2) = post(
        &owner,
        url.clone(),
        json!({"place_id": w.building_a, "category": "repair", "description": "重复"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let c2 = c2["id"].as_str().unwrap().to_string();
    for actor in [&gridw, &admin] {
        let (s, v) = post(
            actor,
            format!("{url}/{c2}/actions"),
            json!({"action": "merge", "duplicate_of": cb}),
        )
        .await;
        assert_eq!(
            (s, field(&v)),
            (StatusCode::UNPROCESSABLE_ENTITY, "duplicate_of"),
            "{v}"
        );
    }
    assert_eq!(cases::get(&w.f.db, &c2).await.unwrap().duplicate_of, None);
    // (c) An overdue case of micro-grid A-1: A-2's worker's sweep leaves it alone.
    let old_id = raise_overdue(&w).await;
    let sweep = format!("{}/api/v1/places/{}/case-sweep", w.base, w.a.id);
    let (s, v) = post(&gridw2, sweep.clone(), json!({})).await;
    assert_eq!(
        (s, v["escalated"].as_i64()),
        (StatusCode::OK, Some(0)),
        "{v}"
    );
    assert_eq!(cases::get(&w.f.db, &old_id).await.unwrap().escalations, 0);
    let (_, v) = post(&gridw, sweep, json!({})).await;
    assert_eq!(v["escalated"], 1, "its own worker's sweep escalates it");
    // Free text: stored as typed, shown masked.
    let (_, v) = get(&owner, format!("{url}/{c1}")).await;
    let d = v["case"]["description"].as_str().unwrap();
    assert_eq!(d, "楼道灯坏了，电话 138****5678，身份证 110***********123X");
    let (s, m) = post(
        &steward,
        format!("{}/api/v1/matters", w.base),
        json!({"place_id": w.a.id, "title": "楼道照明", "procedure": "seven_step"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{m}");
    let comments = format!(
        "{}/api/v1/matters/{}/comments",
        w.base,
        m["id"].as_str().unwrap()
    );
    let (s, v) = post(
        &steward,
        comments.clone(),
        json!({"body": "有事找我：13912345678"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, v) = get(&owner, comments).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        v["comments"][0]["body"], "有事找我：139****5678",
        "another person sees it masked"
    );
    let page = owner
        .get(format!("{}/cases/{c1}", w.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("138****5678") && !page.contains("138 1234 5678"),
        "pages too"
    );
    // Door-to-door records: a household of B on a matter of A is refused, nothing written.
    let part_b = register::parts_under(&w.f.db, &w.b, &register::PartFilter::All, false, 1, 0)
        .await
        .unwrap()[0]
        .id
        .clone();
    let doors = format!(
        "{}/api/v1/matters/{}/door-records",
        w.base,
        m["id"].as_str().unwrap()
    );
    for c in [&admin, &gridw] {
        let (s, v) = post(
            c,
            doors.clone(),
            json!({"part_id": part_b, "visited_on": "2026-11-20", "opinion": "同意"}),
        )
        .await;
        assert!(
            s.is_client_error() && s != StatusCode::UNAUTHORIZED,
            "{s} {v}"
        );
    }
    let (_, v) = get(&admin, doors.clone()).await;
    assert_eq!(v["door_records"].as_array().map(Vec::len), Some(0), "{v}");
    // In scope it is recorded; its opinion, too, is shown masked.
    let part_a = register::parts_under(&w.f.db, &w.a, &register::PartFilter::All, false, 1, 0)
        .await
        .unwrap()[0]
        .id
        .clone();
    let (s, v) = post(
        &gridw,
        doors.clone(),
        json!({"part_id": part_a, "visited_on": "2026-11-20", "opinion": "同意，回电 13812345678"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (_, v) = get(&admin, doors).await;
    assert_eq!(
        v["door_records"][0]["opinion"], "同意，回电 138****5678",
        "{v}"
    );
    let raw: String = sqlx::query_scalar("SELECT description FROM cases WHERE id = $1")
        .bind(c1.clone())
        .fetch_one(w.f.db.reader())
        .await
        .unwrap();
    assert!(raw.contains("138 1234 5678"), "stored as typed");
}

/// The notifications page: the caller's own, newest first, the unread ones
/// marked, each linking to its case; another user's never shown; "mark all
/// read" refused without the form's CSRF field, done with it.
async fn notifications_page(kind: Kind) {
    let w = world(kind).await;
    let owner = login(&w, "owner").await;
    let owner_b = login(&w, "owner_b").await;
    let steward = login(&w, "steward").await;
    let page = |c: &reqwest::Client| {
        let (c, url) = (c.clone(), format!("{}/notifications?lang=en", w.base));
        async move {
            let r = c.get(url).send().await.unwrap();
            (r.status(), r.text().await.unwrap())
        }
    };
    let (_, v) = post(
        &owner,
        format!("{}/api/v1/cases", w.base),
        json!({"place_id": w.building_a, "category": "repair", "description": "楼道灯不亮"}),
    )
    .await;
    let id = v["id"].as_str().unwrap().to_string();
    let (s, html) = page(&owner).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("id=\"notifications-empty\""), "{html}");
    act(&w, &steward, &id, "accept").await;
    let gridw_id = auth::user_id_by_name(&w.f.db, "gridw").await.unwrap();
    let (s, v) = post(
        &steward,
        format!("{}/api/v1/cases/{id}/actions", w.base),
        json!({"action": "assign", "assignee_user_id": gridw_id}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, html) = page(&owner).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains(&format!("href=\"/cases/{id}\"")), "{html}");
    assert!(
        html.contains("<span id=\"unread-count\" class=\"tag\">2</span>"),
        "{html}"
    );
    assert_eq!(html.matches("class=\"note unread\"").count(), 2, "{html}");
    let (assigned, accepted) = (
        html.find("Assigned").unwrap(),
        html.find("Accepted").unwrap(),
    );
    assert!(assigned < accepted, "newest first: {html}");
    assert!(html.contains("name=\"csrf\""), "the form carries its token");
    // Another user sees none of them.
    let (s, html) = page(&owner_b).await;
    assert_eq!(s, StatusCode::OK);
    assert!(!html.contains(&id), "{html}");
    assert!(html.contains("id=\"notifications-empty\""), "{html}");
    // Without the CSRF field "mark all read" is refused and marks nothing.
    let read_all = format!("{}/notifications/read-all", w.base);
    for form in [vec![], vec![("csrf", "00".repeat(32))]] {
        let r = owner.post(&read_all).form(&form).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{form:?}");
    }
    let (_, v) = get(&owner, format!("{}/api/v1/notifications", w.base)).await;
    assert_eq!(v["unread"], 2, "{v}");
    // Another session's token is no good either.
    let token_b = csrf(&owner_b, &w.base).await;
    let r = owner
        .post(&read_all)
        .form(&[("csrf", token_b)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // With it: all read, back on the page.
    let token = csrf(&owner, &w.base).await;
    let r = owner
        .post(&read_all)
        .form(&[("csrf", token)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.url().path().ends_with("/notifications"), "{}", r.url());
    let html = r.text().await.unwrap();
    assert!(
        html.contains("<span id=\"unread-count\" class=\"tag\">0</span>"),
        "{html}"
    );
    assert!(!html.contains("class=\"note unread\""), "{html}");
    assert!(
        html.contains(&format!("href=\"/cases/{id}\"")),
        "read ones stay listed"
    );
    // Logged out: to the login page.
    let anon = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = anon
        .get(format!("{}/notifications", w.base))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_redirection());
    assert_eq!(r.headers()["location"], "/login");
}

both!(
    notifications_page,
    case_writes_stay_in_scope,
    open311_tokens,
    grid_scope_and_building_head,
    notifications,
    mediation,
    lifecycle,
    low_rating_reopens_and_reject_merge,
    photos,
    on_behalf_whistle_and_sweep,
    open311_shapes,
    open311_independent_client
);
