//! Deliberation through real HTTP on SQLite and PostgreSQL: matter pages
//! (steps done / current / upcoming, the htmx step form and its refusals),
//! the vote page's rule in words per language.

use gongzhi_domain::money::Area;
use gongzhi_domain::place::{AreaBasis, GridKind, OwnerKind, PartKind};
use gongzhi_domain::policy::Role;
use gongzhi_domain::roster::RosterRow;
use gongzhi_store::testing::{fresh, Fresh, Kind};
use gongzhi_store::{auth, both, import, register};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::sync::Arc;

const PW: &str = "correct horse battery";

/// Compound 千山美林: building 6 with 8 flats (owners h0..h7, one flat each)
/// and building 7 with one (h8); compound 御景华庭 with one (hb).
fn roster() -> Vec<RosterRow> {
    let mut rows = Vec::new();
    let mut add = |compound: &str, building: &str, number: String, key: String| {
        rows.push(RosterRow {
            row: rows.len() + 2,
            district: "綦江区".into(),
            street: "文龙街道".into(),
            community: "九龙社区".into(),
            compound: compound.into(),
            building: building.into(),
            unit: "1".into(),
            number,
            kind: PartKind::Flat,
            area: Area(9856 + rows.len() as i64 * 10),
            area_basis: AreaBasis::Registered,
            owner_name: format!("业主{key}"),
            owner_key: key,
            owner_kind: OwnerKind::Person,
            phone: String::new(),
        })
    };
    for i in 0..8 {
        add("千山美林", "6", format!("{}", 101 + i), format!("h{i}"));
    }
    add("千山美林", "7", "101".into(), "h8".into());
    add("御景华庭", "1", "101".into(), "hb".into());
    rows
}

pub struct World {
    _f: Fresh,
    pub base: String,
    pub a: register::Place,
    pub b6: register::Place,
    /// Part ids of building 6 in order 101..108, then 7-101, then B's.
    pub parts: Vec<String>,
}

/// Users: admin; committee (committee member of A); staff (community staff
/// of the community); gridw1 (grid worker of A, micro-grid G1 only); owner0..owner8
/// (owners of A, linked to h0..h8); resident_b (resident of B).
async fn world(kind: Kind) -> World {
    let f = fresh(kind).await;
    import::import_roster(&f.db, "test", roster(), false, Arc::new(|_| {}))
        .await
        .unwrap();
    let comps = register::public_compounds(&f.db).await.unwrap();
    let find = |name: &str| comps.iter().find(|c| c.name == name).unwrap().code.clone();
    let a = register::place_by_code(&f.db, &find("千山美林"))
        .await
        .unwrap();
    let b = register::place_by_code(&f.db, &find("御景华庭"))
        .await
        .unwrap();
    let b6 = register::children(&f.db, Some(&a))
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.name == "6")
        .unwrap();
    let b6 = register::get_place(&f.db, &b6.id).await.unwrap();
    let mut parts = Vec::new();
    let mut owners = Vec::new();
    for c in [&a, &b] {
        for p in register::parts_under(&f.db, c, &register::PartFilter::All, true, 100, 0)
            .await
            .unwrap()
        {
            parts.push(p.id.clone());
            owners.push(p.owner.unwrap().id);
        }
    }
    let h = auth::hash_password(PW).unwrap();
    let (a2, b2, ps, os) = (a.clone(), b.clone(), parts.clone(), owners.clone());
    f.db.write(move |tx| {
        let (a, b, h, parts, owners) = (a2.clone(), b2.clone(), h.clone(), ps.clone(), os.clone());
        Box::pin(async move {
            let admin = auth::create_user(tx, "t", "admin", &h, None).await?;
            auth::add_grant(tx, "t", &admin, Role::Admin, None, None).await?;
            let c = auth::create_user(tx, "t", "committee", &h, None).await?;
            auth::add_grant(tx, "t", &c, Role::CommitteeMember, Some(&a.id), None).await?;
            let community = a.path_ids()[2].clone();
            let s = auth::create_user(tx, "t", "staff", &h, None).await?;
            auth::add_grant(tx, "t", &s, Role::CommunityStaff, Some(&community), None).await?;
            let cp = register::Place {
                id: community.clone(),
                kind: "community".into(),
                name: String::new(),
                parent_id: None,
                code: None,
                path: String::new(),
            };
            let cg = register::create_grid(tx, "t", GridKind::Community, "社区", &cp, None, None)
                .await?;
            let ag = register::create_grid(tx, "t", GridKind::Compound, "A", &a, Some(&cg), None)
                .await?;
            let g1 =
                register::create_grid(tx, "t", GridKind::Micro, "G1", &a, Some(&ag), None).await?;
            let g2 =
                register::create_grid(tx, "t", GridKind::Micro, "G2", &a, Some(&ag), None).await?;
            register::assign_parts(tx, "t", &g1, &parts[0..4]).await?;
            register::assign_parts(tx, "t", &g2, &parts[4..9]).await?;
            let w = auth::create_user(tx, "t", "gridw1", &h, None).await?;
            auth::add_grant(tx, "t", &w, Role::GridWorker, Some(&a.id), Some(&g1)).await?;
            for (i, o) in owners.iter().take(9).enumerate() {
                let u = auth::create_user(tx, "t", &format!("owner{i}"), &h, None).await?;
                auth::add_grant(tx, "t", &u, Role::Owner, Some(&a.id), None).await?;
                auth::link_owner(tx, "t", &u, o).await?;
            }
            let rb = auth::create_user(tx, "t", "resident_b", &h, None).await?;
            auth::add_grant(tx, "t", &rb, Role::Resident, Some(&b.id), None).await?;
            Ok(())
        })
    })
    .await
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let db = f.db.clone();
    tokio::spawn(async move {
        gongzhi_web::serve_on(db, listener, gongzhi_web::Config::default()).await
    });
    World {
        _f: f,
        base,
        a,
        b6,
        parts,
    }
}

async fn login(w: &World, user: &str) -> reqwest::Client {
    let c = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let r = c
        .post(format!("{}/api/v1/auth/login", w.base))
        .json(&json!({"username": user, "password": PW}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "login {user}");
    c
}

/// POSTs JSON; failures must be problem+json.
async fn post(c: &reqwest::Client, url: String, body: Value) -> (StatusCode, Value) {
    let r = c.post(url).json(&body).send().await.unwrap();
    let st = r.status();
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let v: Value = r.json().await.unwrap_or(Value::Null);
    if !st.is_success() {
        assert_eq!(ct, "application/problem+json", "{v}");
    }
    (st, v)
}

async fn get(c: &reqwest::Client, url: String) -> (StatusCode, Value) {
    let r = c.get(url).send().await.unwrap();
    (r.status(), r.json().await.unwrap_or(Value::Null))
}

async fn page(c: &reqwest::Client, url: String) -> (StatusCode, String) {
    let r = c.get(url).send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

/// Submits a page form; with `htmx` the `HX-Request` header is sent.
async fn form(
    c: &reqwest::Client,
    url: String,
    fields: &[(&str, &str)],
    htmx: bool,
) -> (StatusCode, String) {
    let mut r = c.post(url).form(fields);
    if htmx {
        r = r.header("HX-Request", "true");
    }
    let r = r.send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

fn field(v: &Value) -> &str {
    v["errors"][0]["field"].as_str().unwrap_or("")
}

/// The state a step shows on the page (`data-step="KEY" data-state="STATE"`).
fn step_state(html: &str, key: &str) -> String {
    let needle = format!("data-step=\"{key}\" data-state=\"");
    let at = html
        .find(&needle)
        .unwrap_or_else(|| panic!("no step {key}"));
    html[at + needle.len()..]
        .split('"')
        .next()
        .unwrap()
        .to_string()
}

async fn new_matter(c: &reqwest::Client, w: &World, place: &str, title: &str, p: Value) -> String {
    let (st, m) = post(
        c,
        format!("{}/api/v1/matters", w.base),
        json!({"place_id": place, "title": title, "procedure": p}),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{m}");
    m["id"].as_str().unwrap().to_string()
}

/// Matter pages: the list, the steps with their states, the htmx form
/// (recorded, refused for the wrong role and before the 15 days), and scope.
async fn matter_pages(kind: Kind) {
    let w = world(kind).await;
    let base = &w.base;
    let owner0 = login(&w, "owner0").await;
    let committee = login(&w, "committee").await;
    let outsider = login(&w, "resident_b").await;
    let id = new_matter(&owner0, &w, &w.b6.id, "6栋电梯更新", json!("seven_step")).await;

    let (st, html) = page(&owner0, format!("{base}/places/{}/matters", w.a.id)).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains(&format!("/matters/{id}")) && html.contains("6栋电梯更新"));
    assert!(
        html.contains("七步工作法") && html.contains("0/7"),
        "{html}"
    );
    let (st, html) = page(&owner0, format!("{base}/places/{}", w.a.id)).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains(&format!("/places/{}/matters", w.a.id)));

    let url = format!("{base}/matters/{id}");
    let (st, html) = page(&owner0, url.clone()).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(step_state(&html, "raise"), "current");
    assert_eq!(step_state(&html, "triage"), "upcoming");
    assert!(html.contains("公开提事") && html.contains("当前步骤"));
    assert!(html.contains("hx-post=\"/matters/") && html.contains("id=\"step-form\""));
    assert!(html.contains("距上一步至少 15 天"), "day limits shown");

    // The owner raises it through the htmx form: the section comes back.
    let (st, frag) = form(
        &owner0,
        format!("{url}/steps"),
        &[("step", "raise"), ("note", "电梯经常停运")],
        true,
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert!(frag.starts_with("<section id=\"matter-steps\""), "{frag}");
    assert!(frag.contains("id=\"step-recorded\""));
    assert_eq!(step_state(&frag, "raise"), "done");
    assert_eq!(step_state(&frag, "triage"), "current");
    assert!(frag.contains("电梯经常停运") && frag.contains("owner0") && frag.contains("(业主)"));
    assert!(
        frag.contains("id=\"not-yours\""),
        "an owner does not triage"
    );
    // Forcing it anyway is refused, with the reason in the section.
    let (_, frag) = form(&owner0, format!("{url}/steps"), &[("step", "triage")], true).await;
    assert!(frag.contains("id=\"step-error\""), "{frag}");
    assert!(frag.contains("may be done by"));
    assert_eq!(step_state(&frag, "triage"), "current");

    // The committee triages (plain form: redirect back) and deliberates.
    let (st, html) = form(
        &committee,
        format!("{url}/steps"),
        &[("step", "triage")],
        false,
    )
    .await;
    assert_eq!(st, StatusCode::OK, "followed the redirect");
    assert_eq!(step_state(&html, "triage"), "done");
    let (_, frag) = form(
        &committee,
        format!("{url}/steps"),
        &[("step", "deliberate"), ("note", "四方联席会议")],
        true,
    )
    .await;
    assert_eq!(step_state(&frag, "decide"), "current");
    assert!(
        frag.contains("最早可办理时间"),
        "the 15 days' earliest time"
    );
    assert!(
        frag.contains("id=\"step-vote\""),
        "a vote step offers the votes"
    );
    let (_, frag) = form(
        &committee,
        format!("{url}/steps"),
        &[("step", "decide")],
        true,
    )
    .await;
    assert!(frag.contains("at least 15 days"), "{frag}");
    assert_eq!(step_state(&frag, "decide"), "current");

    // English on request; outsiders see nothing.
    let (_, html) = page(&owner0, format!("{url}?lang=en")).await;
    assert!(html.contains("Current") && html.contains("Owner"), "{html}");
    let (st, html) = page(&outsider, url.clone()).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert!(!html.contains("6栋电梯更新"));
    let (st, _) = form(
        &outsider,
        format!("{url}/steps"),
        &[("step", "decide")],
        false,
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}

/// The vote page states its rule in the reader's language.
async fn vote_rule_in_words(kind: Kind) {
    let w = world(kind).await;
    let committee = login(&w, "committee").await;
    let owner0 = login(&w, "owner0").await;
    let now = gongzhi_store::db::now_ms();
    let (st, v) = post(&committee, format!("{}/api/v1/votes", w.base), json!({"title": "6栋电梯", "place_id": w.b6.id, "rule": {"kind": "custom", "base": "eligible", "area": null, "headcount": "3/4", "bound": "at_least", "turnout": false}, "opens_at": now - 1000, "closes_at": now + 86_400_000, "channels": ["online"]})).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let id = v["id"].as_str().unwrap();
    let (st, _) = post(
        &committee,
        format!("{}/api/v1/votes/{id}/open", w.base),
        json!({}),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let (_, html) = page(&owner0, format!("{}/votes/{id}", w.base)).await;
    assert!(
        html.contains("本地规则：同意 ≥ 全体业主人数的 3/4；不设参与率要求"),
        "{html}"
    );
    let (_, html) = page(&owner0, format!("{}/votes/{id}?lang=en", w.base)).await;
    assert!(html.contains("custom rule: approval ≥ 3/4 of all owners; no turnout requirement"));
    let (_, html) = page(&owner0, format!("{}/votes/{id}?lang=zh-TW", w.base)).await;
    assert!(html.contains("本地規則"));
    let _ = (get, field);
}

both!(matter_pages, vote_rule_in_words);
