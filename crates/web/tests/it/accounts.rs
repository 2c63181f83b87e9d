//! Accounts for real people over real HTTP, on SQLite and PostgreSQL: sign-up
//! by phone with a texted code (read from the logged SMS outbox), claims
//! against the register (a match links the owner, a mismatch waits for the
//! community), invitations to a role, resets that revoke every session, and
//! administering accounts within one's scope — with the failure paths: code
//! reuse and guessing, answers that do not reveal whether a phone has an
//! account, expired invitations, granting or administering above one's scope.

use gongzhi_domain::policy::Role;
use gongzhi_testkit::both;
use gongzhi_testkit::http;
use gongzhi_testkit::{At, Grid, Kind, Parts, Rows};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use std::path::PathBuf;

struct W {
    k: gongzhi_testkit::World,
    sms: PathBuf,
    _dir: tempfile::TempDir,
}

/// Two compounds of one community; staff over 晶城名邸, a grid worker there,
/// an administrator; owners 张三 (1栋 1 201) and 李四 (1栋 1 202) in 晶城名邸,
/// 王五 in 千山美林.
async fn world(kind: Kind) -> W {
    let dir = tempfile::tempdir().unwrap();
    let mut rows = Rows::new("綦江区", "古南街道", "北渡社区");
    rows.flat("晶城名邸", "1栋", "201", 9000, "o1", "张三", "")
        .flat("晶城名邸", "1栋", "202", 9000, "o2", "李四", "")
        .flat("千山美林", "2栋", "101", 8000, "o3", "王五", "");
    let k = gongzhi_testkit::world(kind)
        .roster(rows.rows())
        .grid(Grid::community("社区网格", "晶城名邸"))
        .grid(Grid::compound("A 网格", "晶城名邸", "社区网格"))
        .grid(Grid::micro("A-1", "晶城名邸", "A 网格", Parts::All))
        .grid(Grid::compound("B 网格", "千山美林", "社区网格"))
        .grid(Grid::micro("B-1", "千山美林", "B 网格", Parts::All))
        .users(&[
            ("admin", Role::Admin, At::Everywhere),
            ("staff", Role::CommunityStaff, At::place("晶城名邸")),
            ("staff2", Role::CommunityStaff, At::place("千山美林")),
            ("gridw", Role::GridWorker, At::place("晶城名邸")),
        ])
        .serve(gongzhi_web::Config {
            data_dir: Some(dir.path().to_path_buf()),
            notify_every: None,
            ..Default::default()
        })
        .await;
    W {
        k,
        sms: dir.path().join("sms.log"),
        _dir: dir,
    }
}

impl W {
    fn url(&self, p: &str) -> String {
        format!("{}{p}", self.k.base)
    }
    /// The texts sent to `phone`, oldest first.
    fn texts(&self, phone: &str) -> Vec<String> {
        std::fs::read_to_string(&self.sms)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .filter(|v| v["to"] == phone)
            .map(|v| v["text"].as_str().unwrap().to_string())
            .collect()
    }
    /// The code in the last text to `phone`.
    fn code(&self, phone: &str) -> String {
        let t = self.texts(phone).pop().expect("a text was sent");
        t.split(|c: char| !c.is_ascii_digit())
            .find(|w| w.len() == 6)
            .expect("a six-digit code in the text")
            .to_string()
    }
    async fn signup(&self, phone: &str, password: &str) -> Client {
        let c = http::client();
        http::post_ok(
            &c,
            self.url("/api/v1/signup/code"),
            json!({"phone": phone}),
            StatusCode::ACCEPTED,
        )
        .await;
        let code = self.code(phone);
        http::post_ok(
            &c,
            self.url("/api/v1/signup"),
            json!({"phone": phone, "code": code, "password": password}),
            StatusCode::CREATED,
        )
        .await;
        c
    }
}

/// Moves every code request two minutes into the past (past the resend limit).
async fn clock_back(w: &W) {
    sqlx::query("UPDATE phone_codes SET created_at = created_at - 120000")
        .execute(w.k.f.db.reader())
        .await
        .unwrap();
}

async fn get(c: &Client, url: String) -> (StatusCode, Value) {
    let r = c.get(url).send().await.unwrap();
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}

async fn login(w: &W, name: &str, pw: &str) -> (StatusCode, Value) {
    http::post(
        &http::client(),
        w.url("/api/v1/auth/login"),
        json!({"username": name, "password": pw}),
    )
    .await
}

async fn sign_up_claim_and_the_queue(kind: Kind) {
    let w = world(kind).await;
    let phone = "13800138000";
    // a wrong code is refused naming `code`, and counts as an attempt
    let c = http::client();
    http::post_ok(
        &c,
        w.url("/api/v1/signup/code"),
        json!({"phone": "138 0013 8000"}),
        StatusCode::ACCEPTED,
    )
    .await;
    let code = w.code(phone);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    http::refused(
        &c,
        w.url("/api/v1/signup"),
        json!({"phone": phone, "code": wrong, "password": "a long password"}),
        StatusCode::UNPROCESSABLE_ENTITY,
        "code",
    )
    .await;
    // a weak password is refused before the code is spent
    http::refused(
        &c,
        w.url("/api/v1/signup"),
        json!({"phone": phone, "code": code, "password": "short"}),
        StatusCode::UNPROCESSABLE_ENTITY,
        "password",
    )
    .await;
    let acc = http::post_ok(
        &c,
        w.url("/api/v1/signup"),
        json!({"phone": phone, "code": code, "password": "a long password"}),
        StatusCode::CREATED,
    )
    .await;
    let uid = acc["user_id"].as_str().unwrap().to_string();
    // the code is spent: using it again is refused
    http::refused(
        &http::client(),
        w.url("/api/v1/signup"),
        json!({"phone": phone, "code": code, "password": "another password"}),
        StatusCode::UNPROCESSABLE_ENTITY,
        "code",
    )
    .await;
    // logged in by the sign-up; and the phone logs in
    let (st, me) = get(&c, w.url("/api/v1/me")).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(me["owner_ids"], json!([]));
    assert_eq!(
        login(&w, "+86 138-0013-8000", "a long password").await.0,
        StatusCode::OK
    );

    // a matching claim links the owner at once ("1" and "1栋" are one building)
    let a = w.k.place("晶城名邸");
    let claim = http::post_ok(&c, w.url("/api/v1/me/claims"), json!({"compound": a.code, "building": "1", "unit": "1", "number": "201", "owner_name": "张 三"}), StatusCode::CREATED).await;
    assert_eq!(claim["status"], "linked", "{claim}");
    let (_, me) = get(&c, w.url("/api/v1/me")).await;
    assert_eq!(me["owner_ids"], json!([w.k.owner("o1").await]));
    // a wrong name goes to the queue, and says nothing about the flat
    let q = http::post_ok(&c, w.url("/api/v1/me/claims"), json!({"compound": a.id, "building": "1栋", "unit": "1", "number": "202", "owner_name": "王二"}), StatusCode::CREATED).await;
    assert_eq!(q["status"], "queued");
    assert_eq!(q["part_id"], Value::Null);
    let claim_id = q["id"].as_str().unwrap().to_string();
    // bad input names its field
    http::refused(
        &c,
        w.url("/api/v1/me/claims"),
        json!({"compound": "nowhere", "building": "1", "number": "1", "owner_name": "x"}),
        StatusCode::UNPROCESSABLE_ENTITY,
        "compound",
    )
    .await;
    http::refused(
        &c,
        w.url("/api/v1/me/claims"),
        json!({"compound": a.id, "building": " ", "number": "1", "owner_name": "x"}),
        StatusCode::UNPROCESSABLE_ENTITY,
        "building",
    )
    .await;
    http::refused(&c, w.url("/api/v1/me/claims"), json!({"compound": a.id, "building": "1", "number": "1", "owner_name": "x", "relation": "cousin"}), StatusCode::UNPROCESSABLE_ENTITY, "relation").await;

    // the community's queue: staff see it (names masked); a grid worker and
    // the other compound's staff do not; nobody decides their own claim
    let staff = w.k.login("staff").await;
    let (st, list) = get(&staff, w.url(&format!("/api/v1/places/{}/claims", a.id))).await;
    assert_eq!(st, StatusCode::OK);
    let claims = list["claims"].as_array().unwrap();
    assert_eq!(claims.len(), 1, "{list}");
    assert_eq!(claims[0]["owner_name"], "王*");
    let gridw = w.k.login("gridw").await;
    assert_eq!(
        get(&gridw, w.url(&format!("/api/v1/places/{}/claims", a.id)))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    let staff2 = w.k.login("staff2").await;
    assert_eq!(
        get(&staff2, w.url(&format!("/api/v1/places/{}/claims", a.id)))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    let dec = w.url(&format!("/api/v1/claims/{claim_id}/decision"));
    assert_eq!(
        http::post(&c, dec.clone(), json!({"approve": true}))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        http::post(&staff2, dec.clone(), json!({"approve": true}))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    // approving needs the flat; then the account speaks for 李四 too
    http::refused(
        &staff,
        dec.clone(),
        json!({"approve": true}),
        StatusCode::UNPROCESSABLE_ENTITY,
        "part_id",
    )
    .await;
    let parts = w.k.parts(&a).await;
    let p202 = parts.iter().find(|p| p.number == "202").unwrap().id.clone();
    let other = w.k.parts(&w.k.place("千山美林")).await[0].id.clone();
    http::refused(
        &staff,
        dec.clone(),
        json!({"approve": true, "part_id": other}),
        StatusCode::UNPROCESSABLE_ENTITY,
        "part_id",
    )
    .await;
    let done = http::post_ok(
        &staff,
        dec.clone(),
        json!({"approve": true, "part_id": p202, "note": "checked the deed"}),
        StatusCode::OK,
    )
    .await;
    assert_eq!(done["status"], "approved");
    let (_, me) = get(&c, w.url("/api/v1/me")).await;
    assert_eq!(me["owner_ids"].as_array().unwrap().len(), 2);
    assert_eq!(
        http::post(&staff, dec, json!({"approve": false})).await.0,
        StatusCode::CONFLICT
    );
    let (_, mine) = get(&c, w.url("/api/v1/me/claims")).await;
    assert_eq!(mine["claims"].as_array().unwrap().len(), 2);
    // the audit trail shows who decided
    let n: i64 = sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'claim.decide' AND actor = $1",
    )
    .bind(format!("user:{}", w.k.user("staff")))
    .fetch_one(w.k.f.db.reader())
    .await
    .unwrap();
    assert_eq!(n, 1);
    assert!(!uid.is_empty());

    // a family member of 张三 claims the flat: pending until the owner confirms
    let fam = w.signup("13800138001", "family password").await;
    let f = http::post_ok(&fam, w.url("/api/v1/me/claims"), json!({"compound": a.code, "building": "1栋", "unit": "1", "number": "201", "owner_name": "张三", "relation": "family", "claimant_name": "张小三"}), StatusCode::CREATED).await;
    assert_eq!(f["status"], "pending", "{f}");
    http::refused(&fam, w.url("/api/v1/me/claims"), json!({"compound": a.code, "building": "1栋", "unit": "1", "number": "201", "owner_name": "张三", "relation": "tenant"}), StatusCode::UNPROCESSABLE_ENTITY, "claimant_name").await;
    let fid = f["id"].as_str().unwrap();
    let (_, tc) = get(&c, w.url("/api/v1/me/claims/to-confirm")).await;
    assert_eq!(tc["claims"].as_array().unwrap().len(), 1, "{tc}");
    assert_eq!(tc["claims"][0]["claimant_name"], "张小三");
    // someone who owns another flat cannot confirm it; the owner can
    let (_, none) = get(&fam, w.url("/api/v1/me/claims/to-confirm")).await;
    assert_eq!(none["claims"], json!([]));
    let dec = w.url(&format!("/api/v1/claims/{fid}/decision"));
    assert_eq!(
        http::post(&fam, dec.clone(), json!({"approve": true}))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    let ok = http::post_ok(&c, dec, json!({"approve": true}), StatusCode::OK).await;
    assert_eq!(ok["status"], "approved");
    // the family member is now a resident of the flat on the register
    let p201 = parts.iter().find(|p| p.number == "201").unwrap().id.clone();
    let n: i64 = sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM residents r JOIN people pe ON pe.id = r.person_id WHERE r.part_id = $1 AND r.relation = 'family' AND pe.name = '张小三'")
        .bind(&p201)
        .fetch_one(w.k.f.db.reader())
        .await
        .unwrap();
    assert_eq!(n, 1);
}

async fn codes_reveal_nothing_and_are_limited(kind: Kind) {
    let w = world(kind).await;
    w.signup("13900139000", "a long password").await;
    // a minute later (the codes' clock moved back), the same question for a
    // phone with an account and one without gets the same answer
    clock_back(&w).await;
    let (st, body) = http::post(
        &http::client(),
        w.url("/api/v1/signup/code"),
        json!({"phone": "13900139000"}),
    )
    .await;
    assert_eq!(st, StatusCode::ACCEPTED);
    let (st2, body2) = http::post(
        &http::client(),
        w.url("/api/v1/signup/code"),
        json!({"phone": "13900139001"}),
    )
    .await;
    assert_eq!((st2, &body2), (st, &body));
    // the account's owner gets a note, not a code
    let t = w.texts("13900139000");
    assert_eq!(t.len(), 2);
    assert!(t[1].contains("已注册") && !t[1].contains("验证码"), "{t:?}");
    // a reset for a phone without an account texts nothing
    let r = http::client()
        .post(w.url("/api/v1/password-reset/code"))
        .json(&json!({"phone": "13600136000"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    assert!(w.texts("13600136000").is_empty());
    // a second code within a minute is refused with Retry-After
    let r = http::client()
        .post(w.url("/api/v1/signup/code"))
        .json(&json!({"phone": "13900139001"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().get("retry-after").is_some());
    // five wrong guesses kill a code: the right one is then refused too
    let c = http::client();
    let code = w.code("13900139001");
    for _ in 0..5 {
        let wrong = if code == "999999" { "123456" } else { "999999" };
        http::refused(
            &c,
            w.url("/api/v1/signup"),
            json!({"phone": "13900139001", "code": wrong, "password": "a long password"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "code",
        )
        .await;
    }
    http::refused(
        &c,
        w.url("/api/v1/signup"),
        json!({"phone": "13900139001", "code": code, "password": "a long password"}),
        StatusCode::UNPROCESSABLE_ENTITY,
        "code",
    )
    .await;
    http::refused(
        &http::client(),
        w.url("/api/v1/signup/code"),
        json!({"phone": "12345"}),
        StatusCode::UNPROCESSABLE_ENTITY,
        "phone",
    )
    .await;
}

async fn resets_revoke_every_session(kind: Kind) {
    let w = world(kind).await;
    let phone = "13500135000";
    let old = w.signup(phone, "a long password").await;
    assert_eq!(get(&old, w.url("/api/v1/me")).await.0, StatusCode::OK);
    clock_back(&w).await;
    http::post_ok(
        &http::client(),
        w.url("/api/v1/password-reset/code"),
        json!({"phone": phone}),
        StatusCode::ACCEPTED,
    )
    .await;
    let code = w.code(phone);
    http::refused(
        &http::client(),
        w.url("/api/v1/password-reset"),
        json!({"phone": phone, "code": code, "new_password": "short"}),
        StatusCode::UNPROCESSABLE_ENTITY,
        "new_password",
    )
    .await;
    let done = http::post_ok(
        &http::client(),
        w.url("/api/v1/password-reset"),
        json!({"phone": phone, "code": code, "new_password": "a new long password"}),
        StatusCode::OK,
    )
    .await;
    assert!(done["revoked"]["sessions"].as_u64().unwrap() >= 1, "{done}");
    assert_eq!(
        get(&old, w.url("/api/v1/me")).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        login(&w, phone, "a long password").await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        login(&w, phone, "a new long password").await.0,
        StatusCode::OK
    );
    http::refused(
        &http::client(),
        w.url("/api/v1/password-reset"),
        json!({"phone": phone, "code": code, "new_password": "a third password"}),
        StatusCode::UNPROCESSABLE_ENTITY,
        "code",
    )
    .await;

    // an administrator forces a reset: sessions end, login refused until reset
    let (_, me) = get(
        &login_client(&w, phone, "a new long password").await,
        w.url("/api/v1/me"),
    )
    .await;
    let uid = me["user"]["id"].as_str().unwrap().to_string();
    let admin = w.k.login("admin").await;
    let staff2 = w.k.login("staff2").await;
    assert_eq!(
        http::post(
            &staff2,
            w.url(&format!("/api/v1/users/{uid}/force-reset")),
            json!({})
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    let r = http::post_ok(
        &admin,
        w.url(&format!("/api/v1/users/{uid}/force-reset")),
        json!({}),
        StatusCode::OK,
    )
    .await;
    assert!(r["sessions"].as_u64().unwrap() >= 1);
    let (st, p) = login(&w, phone, "a new long password").await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{p}");
    // two minutes later (the codes' clock moved back), a reset by code lets the account in
    clock_back(&w).await;
    http::post_ok(
        &http::client(),
        w.url("/api/v1/password-reset/code"),
        json!({"phone": phone}),
        StatusCode::ACCEPTED,
    )
    .await;
    let code = w.code(phone);
    http::post_ok(
        &http::client(),
        w.url("/api/v1/password-reset"),
        json!({"phone": phone, "code": code, "new_password": "the fourth password"}),
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        login(&w, phone, "the fourth password").await.0,
        StatusCode::OK
    );
}

async fn login_client(w: &W, name: &str, pw: &str) -> Client {
    let c = http::client();
    http::post_ok(
        &c,
        w.url("/api/v1/auth/login"),
        json!({"username": name, "password": pw}),
        StatusCode::OK,
    )
    .await;
    c
}

async fn invitations_and_scope(kind: Kind) {
    let w = world(kind).await;
    let a = w.k.place("晶城名邸");
    let b = w.k.place("千山美林");
    let staff = w.k.login("staff").await;
    let phone = "13300133000";
    // only roles the inviter may grant, only within their scope
    http::refused(
        &staff,
        w.url("/api/v1/invitations"),
        json!({"phone": phone, "name": "赵六", "role": "sovereign", "place_id": a.id}),
        StatusCode::UNPROCESSABLE_ENTITY,
        "role",
    )
    .await;
    assert_eq!(
        http::post(
            &staff,
            w.url("/api/v1/invitations"),
            json!({"phone": phone, "name": "赵六", "role": "admin", "place_id": a.id})
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        http::post(
            &staff,
            w.url("/api/v1/invitations"),
            json!({"phone": phone, "name": "赵六", "role": "grid_worker", "place_id": b.id})
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    let street = a.parent_id.clone().unwrap(); // the community, above the staff's compound
    assert!(http::post(
        &staff,
        w.url("/api/v1/invitations"),
        json!({"phone": phone, "name": "赵六", "role": "grid_worker", "place_id": street})
    )
    .await
    .0
    .is_client_error());
    let gridw = w.k.login("gridw").await;
    assert_eq!(
        http::post(
            &gridw,
            w.url("/api/v1/invitations"),
            json!({"phone": phone, "name": "赵六", "role": "grid_worker", "place_id": a.id})
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    let inv = http::post_ok(
        &staff,
        w.url("/api/v1/invitations"),
        json!({"phone": phone, "name": "赵六", "role": "grid_worker", "place_id": a.id}),
        StatusCode::CREATED,
    )
    .await;
    let token = inv["token"].as_str().unwrap().to_string();
    assert!(w.texts(phone).last().unwrap().contains(&token));
    let (st, view) = get(
        &http::client(),
        w.url(&format!("/api/v1/public/invitations/{token}")),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(view["state"], "open");
    assert_eq!(view["phone"], "133****3000");
    assert_eq!(
        get(
            &http::client(),
            w.url("/api/v1/public/invitations/gzi_nothing")
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    // accepting without a password is refused; with one, the account is made and holds the role
    let c = http::client();
    http::refused(
        &c,
        w.url(&format!("/api/v1/public/invitations/{token}/accept")),
        json!({}),
        StatusCode::UNPROCESSABLE_ENTITY,
        "password",
    )
    .await;
    http::post_ok(
        &c,
        w.url(&format!("/api/v1/public/invitations/{token}/accept")),
        json!({"password": "a long password"}),
        StatusCode::CREATED,
    )
    .await;
    let (_, me) = get(&c, w.url("/api/v1/me")).await;
    assert_eq!(me["grants"][0]["role"], "grid_worker");
    assert_eq!(me["grants"][0]["place_id"], json!(a.id));
    assert_eq!(
        http::post(
            &http::client(),
            w.url(&format!("/api/v1/public/invitations/{token}/accept")),
            json!({"password": "a long password"})
        )
        .await
        .0,
        StatusCode::CONFLICT
    );
    // a grid worker of one micro-grid: the grid must lie in the place, and
    // only grid workers are scoped to one
    let (a1, b1) = (w.k.grid("A-1"), w.k.grid("B-1"));
    http::refused(&staff, w.url("/api/v1/invitations"), json!({"phone": "13300133002", "name": "孙八", "role": "grid_worker", "place_id": a.id, "grid_id": b1}), StatusCode::UNPROCESSABLE_ENTITY, "grid_id").await;
    http::refused(&staff, w.url("/api/v1/invitations"), json!({"phone": "13300133002", "name": "孙八", "role": "committee_member", "place_id": a.id, "grid_id": a1}), StatusCode::UNPROCESSABLE_ENTITY, "grid_id").await;
    let inv3 = http::post_ok(&staff, w.url("/api/v1/invitations"), json!({"phone": "13300133002", "name": "孙八", "role": "grid_worker", "place_id": a.id, "grid_id": a1}), StatusCode::CREATED).await;
    let c3 = http::client();
    http::post_ok(
        &c3,
        w.url(&format!(
            "/api/v1/public/invitations/{}/accept",
            inv3["token"].as_str().unwrap()
        )),
        json!({"password": "a long password"}),
        StatusCode::CREATED,
    )
    .await;
    let (_, me3) = get(&c3, w.url("/api/v1/me")).await;
    assert_eq!(me3["grants"][0]["grid_id"], json!(a1));
    // an expired invitation is refused
    let inv2 = http::post_ok(&staff, w.url("/api/v1/invitations"), json!({"phone": "13300133001", "name": "钱七", "role": "building_head", "place_id": w.k.building(&a, "1栋").await.id}), StatusCode::CREATED).await;
    sqlx::query("UPDATE invitations SET expires_at = 1 WHERE id = $1")
        .bind(inv2["id"].as_str().unwrap())
        .execute(w.k.f.db.reader())
        .await
        .unwrap();
    let t2 = inv2["token"].as_str().unwrap();
    http::refused(
        &http::client(),
        w.url(&format!("/api/v1/public/invitations/{t2}/accept")),
        json!({"password": "a long password"}),
        StatusCode::UNPROCESSABLE_ENTITY,
        "invitation",
    )
    .await;
    let (_, list) = get(
        &staff,
        w.url(&format!("/api/v1/places/{}/invitations", a.id)),
    )
    .await;
    let states: Vec<&str> = list["invitations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["expired", "accepted", "accepted"]);

    // the accounts below the compound: staff see roles, masked phones
    let (st, users) = get(&staff, w.url(&format!("/api/v1/places/{}/users", a.id))).await;
    assert_eq!(st, StatusCode::OK);
    let list = users["users"].as_array().unwrap();
    let new = list
        .iter()
        .find(|u| u["phone"] == "133****3000")
        .expect("the invited account is listed");
    assert!(!users.to_string().contains(phone), "phones are masked");
    let uid = new["id"].as_str().unwrap().to_string();
    let gid = new["grants"][0]["id"].as_str().unwrap().to_string();
    // another compound's staff cannot touch it; staff cannot disable themself
    let staff2 = w.k.login("staff2").await;
    assert_eq!(
        http::post(
            &staff2,
            w.url(&format!("/api/v1/users/{uid}/disable")),
            json!({})
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    let r = staff2
        .delete(w.url(&format!("/api/v1/grants/{gid}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        http::post(
            &staff,
            w.url(&format!("/api/v1/users/{}/disable", w.k.user("staff"))),
            json!({})
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    // nor can a compound's staff disable the administrator
    assert_eq!(
        http::post(
            &staff,
            w.url(&format!("/api/v1/users/{}/disable", w.k.user("admin"))),
            json!({})
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    // disabling ends the sessions; enabling lets the account in again
    let r = http::post_ok(
        &staff,
        w.url(&format!("/api/v1/users/{uid}/disable")),
        json!({}),
        StatusCode::OK,
    )
    .await;
    assert!(r["sessions"].as_u64().unwrap() >= 1);
    assert_eq!(
        get(&c, w.url("/api/v1/me")).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        login(&w, phone, "a long password").await.0,
        StatusCode::UNAUTHORIZED
    );
    http::post_ok(
        &staff,
        w.url(&format!("/api/v1/users/{uid}/enable")),
        json!({}),
        StatusCode::OK,
    )
    .await;
    assert_eq!(login(&w, phone, "a long password").await.0, StatusCode::OK);
    // revoking the grant: gone from the account, kept in the audit trail
    let r = staff
        .delete(w.url(&format!("/api/v1/grants/{gid}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let c = login_client(&w, phone, "a long password").await;
    let (_, me) = get(&c, w.url("/api/v1/me")).await;
    assert_eq!(me["grants"], json!([]));
    let n: i64 = sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'grant.revoke' AND entity_id = $1",
    )
    .bind(&gid)
    .fetch_one(w.k.f.db.reader())
    .await
    .unwrap();
    assert_eq!(n, 1);
}

both!(
    sign_up_claim_and_the_queue,
    codes_reveal_nothing_and_are_limited,
    resets_revoke_every_session,
    invitations_and_scope,
);
