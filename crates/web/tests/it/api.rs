//! API tests through real HTTP on a random port, a fresh database per test,
//! each run on SQLite and on PostgreSQL.

use gongzhi_domain::place::GridKind;
use gongzhi_domain::policy::Role;
use gongzhi_store::register;
use gongzhi_testkit::both;
use gongzhi_testkit::http::{client, get_text as get, login_at, PW};
use gongzhi_testkit::{add_user, two_compounds, At, Fresh, Grid, Kind, Parts, User};
use reqwest::StatusCode;
use serde_json::{json, Value};

const METRICS_TOKEN: &str = "metrics-secret";

struct World {
    _f: Fresh,
    base: String,
    a: register::Place,
    b: register::Place,
}

/// Two compounds A (晶城名邸) and B (御景华庭) in one community; users:
/// admin; committee (committee member of A); owner (owner role over A);
/// gridw (grid worker of A, one micro-grid).
async fn world(kind: Kind) -> World {
    let a = At::place("晶城名邸");
    let k = gongzhi_testkit::world(kind)
        .roster(two_compounds(40, |c, i| {
            format!("{}业主{i}", if c == 0 { "甲" } else { "乙" })
        }))
        .grid(Grid::community("社区网格", "晶城名邸"))
        .grid(Grid::compound("A 网格", "晶城名邸", "社区网格"))
        .grid(Grid::micro("A-1", "晶城名邸", "A 网格", Parts::First(10)))
        .users(&[
            ("admin", Role::Admin, At::Everywhere),
            ("committee", Role::CommitteeMember, a.clone()),
            ("owner", Role::Owner, a.clone()),
        ])
        .user(User::new("gridw").role(Role::GridWorker, a).grid("A-1"))
        .serve(gongzhi_web::Config {
            login_per_account: 5,
            metrics_token: Some(METRICS_TOKEN.into()),
            ..Default::default()
        })
        .await;
    assert!(k.warnings["A-1"]
        .as_ref()
        .unwrap()
        .contains("fewer than 30"));
    let a = k.place("晶城名邸");
    let a2 = a.clone();
    k.f.db
        .write(move |tx| {
            let a = a2.clone();
            Box::pin(async move {
                let cg =
                    register::create_grid(tx, "t", GridKind::Compound, "A grid", &a, None, None)
                        .await;
                assert!(cg.is_err(), "a compound grid needs its community grid");
                let g =
                    register::create_grid(tx, "t", GridKind::Micro, "A-1", &a, None, None).await;
                assert!(g.is_err());
                Ok(())
            })
        })
        .await
        .unwrap();
    World {
        a,
        b: k.place("御景华庭"),
        base: k.base,
        _f: k.f,
    }
}

async fn login(w: &World, user: &str) -> reqwest::Client {
    login_at(&w.base, user).await
}

async fn health_and_docs(kind: Kind) {
    let w = world(kind).await;
    let c = client();
    assert_eq!(
        get(&c, format!("{}/healthz", w.base)).await.0,
        StatusCode::OK
    );
    assert_eq!(
        get(&c, format!("{}/readyz", w.base)).await.0,
        StatusCode::OK
    );
    let (s, doc) = get(&c, format!("{}/api/openapi.json", w.base)).await;
    assert_eq!(s, StatusCode::OK);
    let doc: Value = serde_json::from_str(&doc).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    for p in [
        "/api/v1/places/{id}/parts",
        "/api/v1/auth/login",
        "/api/v1/grants",
        "/api/v1/public/compounds",
    ] {
        assert!(doc["paths"].get(p).is_some(), "openapi lacks {p}");
    }
    let m = c
        .get(format!("{}/metrics", w.base))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        m.contains(
            "gongzhi_http_requests_total{method=\"GET\",route=\"/readyz\",status=\"200\"} 1"
        ),
        "{m}"
    );
    assert!(m.contains("gongzhi_database_up 1"));
    let r = c
        .get(format!("{}/api/v1/nope", w.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    assert!(r.headers().contains_key("x-request-id"));
    let (s, body) = get(&c, format!("{}/api/v1/public/compounds", w.base)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        body.contains("晶城名邸") && !body.contains("业主"),
        "public list has names of compounds, no people"
    );
    // the API reference for people: every operation of the document on one
    // page, request bodies' fields resolved, no script, headings translated
    let r = c
        .get(format!("{}/api/docs?lang=en", w.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let html = r.text().await.unwrap();
    let mut ops = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            ops += 1;
            let m = method.to_uppercase();
            assert!(
                html.contains(&format!("data-method=\"{m}\" data-path=\"{path}\"")),
                "/api/docs lacks {m} {path}"
            );
        }
    }
    assert!(ops > 100, "{ops} operations");
    // every tag under a name a person reads, not its code
    for op in doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|i| i.as_object().unwrap().values())
    {
        let tag = op["tags"][0].as_str().unwrap();
        assert!(
            !html.contains(&format!("<h2>{tag}</h2>")),
            "tag '{tag}' shown as its code on /api/docs"
        );
    }
    let disb = html
        .split("data-path=\"/api/v1/compounds/{code}/books/disbursements\"")
        .nth(1)
        .unwrap();
    let disb = disb.split("</article>").next().unwrap();
    for f in ["purpose", "payee", "amount", "category"] {
        assert!(disb.contains(&format!("data-field=\"{f}\"")), "{f}: {disb}");
    }
    assert!(html.contains("<h1 id=\"api-docs\">API reference</h1>"));
    assert!(!html.contains("<script>") && !html.contains(" style="));
    // (a fresh client: `?lang=en` above set the language cookie on `c`)
    let (s, zh) = get(&client(), format!("{}/api/docs", w.base)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(zh.contains("接口文档"), "zh-CN by default");
}

async fn login_rules(kind: Kind) {
    let w = world(kind).await;
    let c = client();
    let r = c.get(format!("{}/api/v1/me", w.base)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], 401);
    let bad = c
        .post(format!("{}/api/v1/auth/login", w.base))
        .json(&json!({"username": "admin", "password": "wrong password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);
    let unknown = c
        .post(format!("{}/api/v1/auth/login", w.base))
        .json(&json!({"username": "nobody", "password": "wrong password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    let (b1, b2): (Value, Value) = (bad.json().await.unwrap(), unknown.json().await.unwrap());
    assert_eq!(
        b1["detail"], b2["detail"],
        "unknown users and wrong passwords look the same"
    );
    let ok = c
        .post(format!("{}/api/v1/auth/login", w.base))
        .json(&json!({"username": "admin", "password": PW}))
        .send()
        .await
        .unwrap();
    let cookie = ok.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let me: Value = c
        .get(format!("{}/api/v1/me", w.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["user"]["username"], "admin");
    // Per-account limit (5 failures from one IP in this test's config): then refused even with the right password.
    for _ in 0..4 {
        c.post(format!("{}/api/v1/auth/login", w.base))
            .json(&json!({"username": "committee", "password": "nope nope"}))
            .send()
            .await
            .unwrap();
    }
    let r = c
        .post(format!("{}/api/v1/auth/login", w.base))
        .json(&json!({"username": "committee", "password": PW}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "5th attempt still allowed");
    // Only failures count, and a success clears them: five failures from this IP lock it out for this account.
    for _ in 0..5 {
        c.post(format!("{}/api/v1/auth/login", w.base))
            .json(&json!({"username": "committee", "password": "nope nope"}))
            .send()
            .await
            .unwrap();
    }
    let r = c
        .post(format!("{}/api/v1/auth/login", w.base))
        .json(&json!({"username": "committee", "password": PW}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().contains_key("retry-after"));
    // Logout ends the session.
    c.post(format!("{}/api/v1/auth/logout", w.base))
        .send()
        .await
        .unwrap();
    assert_eq!(
        c.get(format!("{}/api/v1/me", w.base))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );
}

async fn tokens(kind: Kind) {
    let w = world(kind).await;
    let c = login(&w, "committee").await;
    let r: Value = c
        .post(format!("{}/api/v1/tokens", w.base))
        .json(&json!({"name": "script"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = r["token"].as_str().unwrap().to_string();
    let plain = reqwest::Client::new();
    let me = plain
        .get(format!("{}/api/v1/me", w.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    let bad = plain
        .get(format!("{}/api/v1/me", w.base))
        .bearer_auth("gzt_forged")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);
    let empty = c
        .post(format!("{}/api/v1/tokens", w.base))
        .json(&json!({"name": ""}))
        .send()
        .await
        .unwrap();
    assert_eq!(empty.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

/// A user of compound A cannot read compound B's private data through any endpoint.
async fn compounds_are_isolated(kind: Kind) {
    let w = world(kind).await;
    let admin = login(&w, "admin").await;
    let (_, b_parts) = get(&admin, format!("{}/api/v1/places/{}/parts", w.base, w.b.id)).await;
    let b_parts: Value = serde_json::from_str(&b_parts).unwrap();
    let b_owner = b_parts["parts"][0]["owner"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let b_part = b_parts["parts"][0]["id"].as_str().unwrap().to_string();
    let (_, orgs) = {
        let r: Value = admin
            .post(format!("{}/api/v1/organisations", w.base))
            .json(
                &json!({"kind": "owners_committee", "name": "御景华庭业委会", "place_id": w.b.id}),
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        ((), r["id"].as_str().unwrap().to_string())
    };
    let c = login(&w, "committee").await;
    // Own compound: visible, phones masked.
    let (s, body) = get(&c, format!("{}/api/v1/places/{}/parts", w.base, w.a.id)).await;
    assert_eq!(s, StatusCode::OK);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["parts"].as_array().unwrap().len(), 40);
    let phone = v["parts"][0]["owner"]["phone"].as_str().unwrap();
    assert!(phone.len() == 11 && &phone[3..7] == "****", "{phone}");
    assert!(!body.contains("13901000000"), "full phone leaked");
    let a_owner = v["parts"][0]["owner"]["id"].as_str().unwrap();
    let (s, page) = get(&c, format!("{}/owners/{a_owner}", w.base)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        page.contains("甲业主") && page.contains("139****") && !page.contains("13901000000"),
        "{page}"
    );
    let (s, o) = get(&c, format!("{}/api/v1/owners/{a_owner}", w.base)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(o.contains("\"phone\":\"139****"), "{o}");
    // Every endpoint over B answers 404 (existence not confirmed) or 403, without B's data.
    let urls = [
        format!("/api/v1/places/{}", w.b.id),
        format!("/api/v1/places/{}/parts", w.b.id),
        format!("/api/v1/places/{}/residents", w.b.id),
        format!("/api/v1/places/{}/grids", w.b.id),
        format!("/api/v1/places/{}/organisations", w.b.id),
        format!("/api/v1/places/{}/audit", w.b.id),
        format!("/api/v1/owners/{b_owner}"),
        format!("/api/v1/organisations/{orgs}"),
        format!("/places/{}", w.b.id),
        format!("/owners/{b_owner}"),
    ];
    for u in &urls {
        let (s, body) = get(&c, format!("{}{u}", w.base)).await;
        assert!(
            s == StatusCode::NOT_FOUND || s == StatusCode::FORBIDDEN,
            "{u}: {s}"
        );
        assert!(
            !body.contains("乙业主") && !body.contains("御景华庭"),
            "{u} leaked B: {body}"
        );
    }
    let writes = [
        (
            "/api/v1/people",
            json!({"name": "x", "home_place_id": w.b.id}),
        ),
        (
            "/api/v1/places",
            json!({"parent_id": w.b.id, "kind": "building", "name": "9"}),
        ),
        (
            "/api/v1/organisations",
            json!({"kind": "steward", "name": "x", "place_id": w.b.id}),
        ),
        (
            "/api/v1/residents",
            json!({"person_id": "x", "part_id": b_part, "relation": "tenant"}),
        ),
        (
            "/api/v1/grants",
            json!({"username": "owner", "role": "committee_member", "place_id": w.b.id}),
        ),
    ];
    for (u, body) in writes {
        let r = c
            .post(format!("{}{u}", w.base))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(
            matches!(r.status(), StatusCode::NOT_FOUND | StatusCode::FORBIDDEN),
            "{u}: {}",
            r.status()
        );
    }
    // The top-level list shows A only.
    let (_, places) = get(&c, format!("{}/api/v1/places", w.base)).await;
    assert!(places.contains("晶城名邸") && !places.contains("御景华庭"));
}

/// A resident (owner role) sees the structure of their compound but cannot act as staff.
async fn residents_are_not_staff(kind: Kind) {
    let w = world(kind).await;
    let c = login(&w, "owner").await;
    let (s, body) = get(&c, format!("{}/api/v1/places/{}/parts", w.base, w.a.id)).await;
    assert_eq!(s, StatusCode::OK);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["owners_visible"], false);
    assert!(v["parts"][0]["owner"].is_null());
    assert!(!body.contains("甲业主") && !body.contains("****"));
    for u in ["residents", "grids", "organisations", "audit"] {
        let (s, _) = get(&c, format!("{}/api/v1/places/{}/{u}", w.base, w.a.id)).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{u}");
    }
    let r = c
        .post(format!("{}/api/v1/people", w.base))
        .json(&json!({"name": "x", "home_place_id": w.a.id}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = c
        .post(format!("{}/api/v1/grants", w.base))
        .json(&json!({"username": "owner", "role": "admin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = c
        .post(format!("{}/api/v1/grants", w.base))
        .json(&json!({"username": "owner", "role": "committee_member", "place_id": w.a.id}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

async fn grid_workers_see_their_grid(kind: Kind) {
    let w = world(kind).await;
    let c = login(&w, "gridw").await;
    let (s, body) = get(&c, format!("{}/api/v1/places/{}/parts", w.base, w.a.id)).await;
    assert_eq!(s, StatusCode::OK);
    let v: Value = serde_json::from_str(&body).unwrap();
    let parts = v["parts"].as_array().unwrap();
    assert_eq!(parts.len(), 10, "only the micro-grid's parts");
    assert!(parts
        .iter()
        .all(|p| !p["owner"].is_null() && !p["grid_id"].is_null()));
    let (_, grids) = get(&c, format!("{}/api/v1/places/{}/grids", w.base, w.a.id)).await;
    let g: Value = serde_json::from_str(&grids).unwrap();
    assert_eq!(g["grids"].as_array().unwrap().len(), 1);
    assert!(g["grids"][0]["warning"]
        .as_str()
        .unwrap()
        .contains("fewer than 30"));
}

async fn bad_input_names_the_field(kind: Kind) {
    let w = world(kind).await;
    let c = login(&w, "admin").await;
    let post = |body: Value| {
        let c = c.clone();
        let url = format!("{}/api/v1/places", w.base);
        async move {
            let r = c.post(url).json(&body).send().await.unwrap();
            let s = r.status();
            if !s.is_success() {
                assert_eq!(r.headers()["content-type"], "application/problem+json");
            }
            (s, r.json::<Value>().await.unwrap())
        }
    };
    let (s, v) = post(json!({"parent_id": w.a.id, "kind": "tower", "name": "7"})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["errors"][0]["field"], "kind");
    let (s, v) = post(json!({"parent_id": w.a.id, "kind": "building"})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["errors"][0]["field"], "name", "{v}");
    let (s, v) = post(json!({"parent_id": w.a.id, "kind": "building", "name": 7})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["errors"][0]["field"], "name", "{v}");
    let (s, v) = post(json!({"parent_id": w.a.id, "kind": "unit", "name": "7"})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["errors"][0]["field"], "kind");
    let (s, _) = post(json!({"parent_id": w.a.id, "kind": "building", "name": "1"})).await;
    assert_eq!(s, StatusCode::CONFLICT, "building 1 exists");
    let (s, v) = post(json!({"parent_id": w.a.id, "kind": "building", "name": "7"})).await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(v["kind"], "building");
    let r = c
        .post(format!("{}/api/v1/people", w.base))
        .json(&json!({"name": "王五", "phone": "12345", "home_place_id": w.a.id}))
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["errors"][0]["field"], "phone");
    let r = c.post(format!("{}/api/v1/people", w.base)).json(&json!({"name": "王五", "phone": "13812345678", "id_number": "11010119900101123X", "home_place_id": w.a.id})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["phone"], "138****5678");
    assert_eq!(v["id_number"], "110***********123X");
    // The write is in the audit trail with who and after.
    let (_, audit) = get(&c, format!("{}/api/v1/places/{}/audit", w.base, w.a.id)).await;
    let a: Value = serde_json::from_str(&audit).unwrap();
    let e = a["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "person.create")
        .expect("audited");
    assert!(e["actor"].as_str().unwrap().starts_with("user:"));
    assert!(
        !audit.contains("13812345678"),
        "audit keeps masked data only"
    );
}

async fn organisations_and_teams(kind: Kind) {
    let w = world(kind).await;
    let c = login(&w, "admin").await;
    let mk = |body: Value, url: &'static str| {
        let c = c.clone();
        let base = w.base.clone();
        async move {
            let r = c
                .post(format!("{base}{url}"))
                .json(&body)
                .send()
                .await
                .unwrap();
            (r.status(), r.json::<Value>().await.unwrap())
        }
    };
    let (s, team) = mk(
        json!({"kind": "co_governance_team", "name": "五员共治队", "place_id": w.a.id}),
        "/api/v1/organisations",
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let (_, p) = mk(
        json!({"name": "李四", "home_place_id": w.a.id}),
        "/api/v1/people",
    )
    .await;
    let team_id = team["id"].as_str().unwrap();
    let url: &'static str =
        Box::leak(format!("/api/v1/organisations/{team_id}/members").into_boxed_str());
    let (s, v) = mk(json!({"person_id": p["id"], "role": "chief_convener"}), url).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["errors"][0]["field"], "member_type");
    let (s, _) = mk(json!({"person_id": p["id"], "role": "chief_convener", "member_type": "in_service_party_member"}), url).await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, v) = mk(
        json!({"kind": "building_party_group", "name": "x", "place_id": w.a.id}),
        "/api/v1/organisations",
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["errors"][0]["field"], "place_id");
    let (_, org) = get(&c, format!("{}/api/v1/organisations/{team_id}", w.base)).await;
    let org: Value = serde_json::from_str(&org).unwrap();
    assert_eq!(org["members"][0]["member_type"], "in_service_party_member");
}

/// NUL and other control characters never reach the database (a 500 on
/// PostgreSQL before): JSON fields answer 422 naming the JSON path; the path,
/// query strings, page forms and Open311 forms are refused as well.
async fn control_characters_are_refused(kind: Kind) {
    let w = world(kind).await;
    let plain = client();
    let post_json = |c: &reqwest::Client, url: String, body: Value| {
        let c = c.clone();
        async move {
            let r = c.post(url).json(&body).send().await.unwrap();
            let ct = r.headers()["content-type"].to_str().unwrap().to_string();
            (r.status(), ct, r.json::<Value>().await.unwrap())
        }
    };
    // Unauthenticated: the login's username.
    let (s, ct, v) = post_json(
        &plain,
        format!("{}/api/v1/auth/login", w.base),
        json!({"username": "ad\u{0}min", "password": PW}),
    )
    .await;
    assert_eq!(
        (s, v["errors"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("username")),
        "{v}"
    );
    assert_eq!(ct, "application/problem+json");
    let admin = login(&w, "admin").await;
    for (url, body, want) in [
        ("/api/v1/tokens", json!({"name": "cron\u{0}"}), "name"),
        (
            "/api/v1/places",
            json!({"parent_id": w.a.id, "kind": "building", "name": "9\u{0}栋"}),
            "name",
        ),
        (
            "/api/v1/places",
            json!({"parent_id": w.a.id, "kind": "building", "name": "esc\u{1b}[31m"}),
            "name",
        ),
        (
            "/api/v1/people",
            json!({"name": "del\u{7f}", "home_place_id": w.a.id}),
            "name",
        ),
        (
            "/api/v1/organisations",
            json!({"kind": "compound_branch", "name": "x", "place_id": w.a.id, "also_spans": [w.b.id, "b\u{0}"]}),
            "also_spans[1]",
        ),
    ] {
        let (s, _, v) = post_json(&admin, format!("{}{url}", w.base), body).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{url}: {v}");
        assert_eq!(v["errors"][0]["field"], want, "{url}: {v}");
    }
    let (_, places) = get(&admin, format!("{}/api/v1/places/{}", w.base, w.a.id)).await;
    assert!(!places.contains("9\\u0000"), "nothing was written");
    // Line feed, tab and carriage return are text.
    let (s, _, v) = post_json(
        &admin,
        format!("{}/api/v1/tokens", w.base),
        json!({"name": "nightly\timport"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    // A path segment and a query parameter.
    let r = admin
        .get(format!("{}/api/v1/places/%00", w.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["errors"][0]["field"], "path");
    let r = admin
        .get(format!(
            "{}/api/v1/places/{}/parts?limit=5&sort=a%00b",
            w.base, w.a.id
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["errors"][0]["field"], "sort");
    // Open311: a query parameter that reaches SQL, and a form field; the spec's error format.
    let r = plain
        .get(format!(
            "{}/open311/v2/requests.json?jurisdiction_id=%00",
            w.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v[0]["code"], 400);
    assert!(
        v[0]["description"]
            .as_str()
            .unwrap()
            .starts_with("jurisdiction_id"),
        "{v}"
    );
    let r = plain
        .post(format!("{}/open311/v2/requests.xml", w.base))
        .form(&[
            ("api_key", "k"),
            ("jurisdiction_id", "x"),
            ("service_code", "repair"),
            ("description", "漏水\u{0}"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let xml = r.text().await.unwrap();
    assert!(
        xml.contains("<code>400</code>") && xml.contains("description"),
        "{xml}"
    );
    // The login page's form: a page in the user's language, no 500.
    let r = plain
        .post(format!("{}/login", w.base))
        .form(&[("username", "ad\u{0}min"), ("password", PW)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("输入含有不允许的控制字符: username"),
        "{html}"
    );
    let r = plain
        .post(format!("{}/login", w.base))
        .header("cookie", "gz_lang=en")
        .form(&[("username", "admin"), ("password", "pw\u{1}")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("control character that is not allowed: password"));
}

/// Users (by username) with a grant, for the tests below.
async fn grant_user(w: &World, name: &str, role: Role, place: &str) {
    add_user(&w._f.db, name, role, Some(place), None).await;
}

/// Writes that name other objects check each against the writer's scope: a
/// user over compound A passing an id from compound B gets 404/403/422 and
/// nothing is written.
async fn writes_stay_in_scope(kind: Kind) {
    let w = world(kind).await;
    grant_user(&w, "staff_a", Role::CommunityStaff, &w.a.id).await;
    let admin = login(&w, "admin").await;
    let staff = login(&w, "staff_a").await;
    let post_as = |c: &reqwest::Client, url: String, body: Value| {
        let c = c.clone();
        async move {
            let r = c.post(url).json(&body).send().await.unwrap();
            (r.status(), r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let api = |p: &str| format!("{}/api/v1{p}", w.base);
    // A person of B (made by the administrator) and one of A.
    let (s, pb) = post_as(
        &admin,
        api("/people"),
        json!({"name": "乙住户", "phone": "13900001111", "home_place_id": w.b.id}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{pb}");
    let pb = pb["id"].as_str().unwrap().to_string();
    let (s, pa) = post_as(
        &staff,
        api("/people"),
        json!({"name": "甲住户", "home_place_id": w.a.id}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{pa}");
    let pa = pa["id"].as_str().unwrap().to_string();
    let part = |p: &register::Place| {
        let (db, p) = (w._f.db.clone(), p.clone());
        async move {
            register::parts_under(&db, &p, &register::PartFilter::All, false, 1, 0)
                .await
                .unwrap()[0]
                .id
                .clone()
        }
    };
    let (part_a, part_b) = (part(&w.a).await, part(&w.b).await);
    // (a) resident links: B's person into A's flat; A's person into B's flat.
    let (s, v) = post_as(
        &staff,
        api("/residents"),
        json!({"person_id": pb, "part_id": part_a, "relation": "tenant"}),
    )
    .await;
    assert_eq!(
        (s, v["errors"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("person_id")),
        "{v}"
    );
    let (s, _) = post_as(
        &staff,
        api("/residents"),
        json!({"person_id": pa, "part_id": part_b, "relation": "tenant"}),
    )
    .await;
    assert!(
        s == StatusCode::NOT_FOUND || s == StatusCode::FORBIDDEN,
        "{s}"
    );
    let (_, res) = get(&staff, api(&format!("/places/{}/residents", w.a.id))).await;
    assert!(
        !res.contains("乙住户") && !res.contains(&pb),
        "B's person never shows in A: {res}"
    );
    let (s, v) = post_as(
        &staff,
        api("/residents"),
        json!({"person_id": pa, "part_id": part_a, "relation": "tenant"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "in scope still works: {v}");
    // Memberships: B's person into A's organisation.
    let (s, org) = post_as(
        &staff,
        api("/organisations"),
        json!({"kind": "co_governance_team", "name": "甲队", "place_id": w.a.id}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{org}");
    let members = api(&format!(
        "/organisations/{}/members",
        org["id"].as_str().unwrap()
    ));
    let (s, v) = post_as(
        &staff,
        members.clone(),
        json!({"person_id": pb, "role": "member", "member_type": "owners_committee_member"}),
    )
    .await;
    assert_eq!(
        (s, v["errors"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("person_id")),
        "{v}"
    );
    // Organisations: a parent in B.
    let (_, org_b) = post_as(
        &admin,
        api("/organisations"),
        json!({"kind": "co_governance_team", "name": "乙队", "place_id": w.b.id}),
    )
    .await;
    let (s, v) = post_as(&staff, api("/organisations"), json!({"kind": "co_governance_team", "name": "甲二队", "place_id": w.a.id, "parent_id": org_b["id"]})).await;
    assert_eq!(
        (s, v["errors"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("parent_id")),
        "{v}"
    );
    // Grids: a worker from B; a parent grid over B.
    let community = w.a.path_ids()[2].clone();
    let (_, grids) = get(&admin, api(&format!("/places/{community}/grids"))).await;
    let grids: Value = serde_json::from_str(&grids).unwrap();
    let cgrid = grids["grids"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["kind"] == "community")
        .unwrap()["id"]
        .clone();
    let (s, gb) = post_as(
        &admin,
        api("/grids"),
        json!({"kind": "compound", "name": "乙网格", "place_id": w.b.id, "parent_id": cgrid}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{gb}");
    let (s, v) = post_as(
        &staff,
        api("/grids"),
        json!({"kind": "micro", "name": "A-9", "place_id": w.a.id, "parent_id": gb["id"]}),
    )
    .await;
    assert_eq!(
        (s, v["errors"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("parent_id")),
        "{v}"
    );
    let (_, mine) = get(&admin, api(&format!("/places/{}/grids", w.a.id))).await;
    let compound_grid = serde_json::from_str::<Value>(&mine).unwrap()["grids"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["kind"] == "compound")
        .unwrap()["id"]
        .clone();
    let (s, v) = post_as(&staff, api("/grids"), json!({"kind": "micro", "name": "A-9", "place_id": w.a.id, "parent_id": compound_grid, "worker_person_id": pb})).await;
    assert_eq!(
        (s, v["errors"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("worker_person_id")),
        "{v}"
    );
    let (_, after) = get(&admin, api(&format!("/places/{}/grids", w.a.id))).await;
    assert!(!after.contains("A-9"), "no grid was written: {after}");
    // Grid parts: a flat of B into A's micro-grid.
    let micro = serde_json::from_str::<Value>(&after).unwrap()["grids"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["kind"] == "micro")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (s, v) = post_as(
        &staff,
        api(&format!("/grids/{micro}/parts")),
        json!({"part_ids": [part_b]}),
    )
    .await;
    assert_eq!(
        (s, v["errors"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("part_ids[0]")),
        "{v}"
    );
    // A's audit trail records none of the refused writes.
    let (_, audit) = get(&admin, api(&format!("/places/{}/audit?limit=500", w.a.id))).await;
    assert!(!audit.contains(&pb), "no write names B's person: {audit}");
}

/// A database that cannot be reached is a 503 problem with Retry-After —
/// never a 404 "not found" (the look-ups of a compound, a vote… used to turn
/// every failure into one) — and `/readyz` says so.
async fn database_outage_is_503(kind: Kind) {
    let w = world(kind).await;
    let c = client();
    let code = w.a.code.clone().unwrap();
    let (s, _) = get(
        &c,
        format!("{}/api/v1/public/compounds/{code}/books/accounts", w.base),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    w._f.db.close().await;
    for url in [
        format!("{}/api/v1/public/compounds/{code}/books/accounts", w.base),
        format!("{}/api/v1/public/compounds/nope/books/accounts", w.base),
        format!(
            "{}/api/v1/public/votes/0193f1e2-0000-7000-8000-000000000000/board",
            w.base
        ),
    ] {
        let r = c.get(&url).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE, "{url}");
        assert_eq!(r.headers()["content-type"], "application/problem+json");
        assert_eq!(r.headers()["retry-after"], "5");
    }
    let (s, _) = get(&c, format!("{}/readyz", w.base)).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
}

both!(
    database_outage_is_503,
    health_and_docs,
    login_rules,
    tokens,
    compounds_are_isolated,
    residents_are_not_staff,
    grid_workers_see_their_grid,
    bad_input_names_the_field,
    organisations_and_teams,
    control_characters_are_refused,
    writes_stay_in_scope
);
