//! Party members at home, end to end on SQLite and PostgreSQL: `gongzhi
//! import party-members` through the real binary (errors by row, all or
//! nothing, re-import writes nothing), then over HTTP: the member checks in,
//! the branch confirms (never their own), the receipt code is checked
//! publicly (a fake one is 404), the employer contact sees it, the figures
//! count it, and another compound's branch sees none of it.

use gongzhi_domain::place::MemberRole;
use gongzhi_domain::policy::Role;
use gongzhi_store::{auth, register, Db};
use gongzhi_testkit::{both, fresh_url, Kind};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::Row;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const PW: &str = "correct horse battery";

const ROSTER: &str = "district,street,community,compound,building,unit,number,kind,area_m2,area_basis,owner_key,owner_name,phone\n\
璧山区,璧城街道,北街社区,人社局家属院,1栋,1单元,101,flat,80.00,registered,o1,张三,\n\
璧山区,璧城街道,北街社区,人社局家属院,1栋,1单元,102,flat,80.00,registered,o2,李四,\n\
璧山区,璧城街道,北街社区,人社局家属院,1栋,1单元,103,flat,80.00,registered,o3,赵六,\n\
璧山区,璧城街道,秀湖社区,秋实学府,2栋,,201,flat,90.00,registered,o4,王五,\n";

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn gongzhi(args: &[&str], file: &Path, url: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gongzhi"))
        .args(args)
        .arg(file)
        .args(["--database-url", url])
        .output()
        .unwrap()
}

fn ok_json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

async fn count(db: &Db, sql: &str) -> i64 {
    sqlx::query(sql)
        .fetch_one(db.reader())
        .await
        .unwrap()
        .try_get::<i64, _>(0)
        .unwrap()
}

async fn code_of(db: &Db, name: &str) -> (String, String) {
    let r = sqlx::query("SELECT id, code FROM places WHERE kind = 'compound' AND name = $1")
        .bind(name)
        .fetch_one(db.reader())
        .await
        .unwrap();
    (r.try_get("id").unwrap(), r.try_get("code").unwrap())
}

async fn imports_with_errors_by_row_and_all_or_nothing(kind: Kind) {
    let (url, _dir) = fresh_url(kind).await;
    let tmp = tempfile::tempdir().unwrap();
    ok_json(&gongzhi(
        &["import", "roster"],
        &write(tmp.path(), "r.csv", ROSTER),
        &url,
    ));
    let db = Db::connect(&url).await.unwrap();
    let (_, a) = code_of(&db, "人社局家属院").await;
    let (_, b) = code_of(&db, "秋实学府").await;
    let header = "compound,building,unit,number,name,phone,status,employer,joined_on";
    // problems found in the file itself
    let bad = format!(
        "{header}\n{a},1栋,1单元,101,张三,13800138000,in_service,区人社局,2001-07-01\n\
         {a},1栋,1单元,102,李四,,member,,\n\
         {a},1栋,1单元,103,赵六,,in_service,,\n\
         {a},1栋,1单元,101,张三,,retired,,\n"
    );
    let out = gongzhi(
        &["import", "party-members"],
        &write(tmp.path(), "bad.csv", &bad),
        &url,
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    for want in [
        "row 3: status: 'member' is not a status",
        "row 4: employer: is required for an in-service member",
        "row 5: name: the same person as row 2",
        "nothing was imported",
    ] {
        assert!(err.contains(want), "{want}: {err}");
    }
    // problems only the register can see: an unknown compound or part
    let unknown = format!(
        "{header}\n{a},1栋,1单元,101,张三,,retired,,\n{a},1栋,1单元,999,钱七,,retired,,\nnope,1栋,,1,孙八,,retired,,\n"
    );
    let out = gongzhi(
        &["import", "party-members"],
        &write(tmp.path(), "unknown.csv", &unknown),
        &url,
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("row 3: number: no part 1栋1单元999"), "{err}");
    assert!(
        err.contains("row 4: compound: no compound with the code 'nope'"),
        "{err}"
    );
    assert_eq!(count(&db, "SELECT COUNT(*) FROM party_members").await, 0);
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM organisations WHERE kind = 'employer_unit'"
        )
        .await,
        0
    );
    // a good file; again: nothing written; a dry run of a change: nothing written
    let good = format!(
        "\u{feff}{header}\n{a},1栋,1单元,101,张三,13800138000,in_service,区人社局,2001-07-01\n\
         {a},1栋,1单元,102,李四,,retired,,\n{b},2栋,,201,王五,,in_service,某科技公司,\n"
    );
    let f = write(tmp.path(), "good.csv", &good);
    let r = ok_json(&gongzhi(&["import", "party-members"], &f, &url));
    assert_eq!(
        (
            r["members_created"].as_i64(),
            r["employers_created"].as_i64()
        ),
        (Some(3), Some(2))
    );
    let audit = count(&db, "SELECT COUNT(*) FROM audit_log").await;
    let r = ok_json(&gongzhi(&["import", "party-members"], &f, &url));
    assert_eq!(
        (
            r["members_unchanged"].as_i64(),
            r["members_created"].as_i64()
        ),
        (Some(3), Some(0))
    );
    assert_eq!(count(&db, "SELECT COUNT(*) FROM audit_log").await, audit);
    let changed = good.replace("李四,,retired", "李四,,flowing");
    let out = Command::new(env!("CARGO_BIN_EXE_gongzhi"))
        .args(["import", "party-members"])
        .arg(write(tmp.path(), "changed.csv", &changed))
        .args(["--dry-run", "--database-url", &url])
        .output()
        .unwrap();
    let r = ok_json(&out);
    assert_eq!(
        (r["members_updated"].as_i64(), r["dry_run"].as_bool()),
        (Some(1), Some(true))
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM party_members WHERE status = 'flowing'"
        )
        .await,
        0
    );
    // the audit trail names the part, never the member or their status
    let after: Vec<String> =
        sqlx::query("SELECT after_json FROM audit_log WHERE entity = 'party_member'")
            .fetch_all(db.reader())
            .await
            .unwrap()
            .iter()
            .map(|r| {
                r.try_get::<Option<String>, _>(0)
                    .unwrap()
                    .unwrap_or_default()
            })
            .collect();
    assert_eq!(after.len(), 3);
    assert!(
        after
            .iter()
            .all(|a| !a.contains("张三") && !a.contains("in_service")),
        "{after:?}"
    );
    db.close().await;
}

both!(imports_with_errors_by_row_and_all_or_nothing);

struct World {
    url: String,
    _dir: Option<PathBuf>,
    _tmp: tempfile::TempDir,
    base: String,
    a_id: String,
    b_id: String,
}

/// The roster and members imported; users: `sec_a`/`sec_b` (branch
/// secretaries of A and B), `zhang` (张三, an in-service member of A),
/// `zhang_sec` (张三 again, as a secretary of A), `hr` (the contact of
/// 张三's employer unit).
async fn world(kind: Kind) -> World {
    let (url, dir) = fresh_url(kind).await;
    let tmp = tempfile::tempdir().unwrap();
    ok_json(&gongzhi(
        &["import", "roster"],
        &write(tmp.path(), "r.csv", ROSTER),
        &url,
    ));
    let db = Db::connect(&url).await.unwrap();
    let (a_id, a) = code_of(&db, "人社局家属院").await;
    let (b_id, b) = code_of(&db, "秋实学府").await;
    let members = format!(
        "compound,building,unit,number,name,phone,status,employer,joined_on\n\
         {a},1栋,1单元,101,张三,13800138000,in_service,区人社局,2001-07-01\n\
         {a},1栋,1单元,102,李四,,retired,,\n{b},2栋,,201,王五,,in_service,某科技公司,\n"
    );
    ok_json(&gongzhi(
        &["import", "party-members"],
        &write(tmp.path(), "m.csv", &members),
        &url,
    ));
    let zhang: String = sqlx::query("SELECT m.person_id FROM party_members m JOIN people p ON p.id = m.person_id WHERE p.name = '张三'")
        .fetch_one(db.reader())
        .await
        .unwrap()
        .try_get(0)
        .unwrap();
    let employer: String = sqlx::query(
        "SELECT id FROM organisations WHERE kind = 'employer_unit' AND name = '区人社局'",
    )
    .fetch_one(db.reader())
    .await
    .unwrap()
    .try_get(0)
    .unwrap();
    let h = auth::hash_password(PW).unwrap();
    let (a2, b2) = (a_id.clone(), b_id.clone());
    let home = register::get_place(&db, &a_id).await.unwrap();
    db.write(move |tx| {
        let (h, a, b, zhang, employer, home) = (
            h.clone(),
            a2.clone(),
            b2.clone(),
            zhang.clone(),
            employer.clone(),
            home.clone(),
        );
        Box::pin(async move {
            for (name, place) in [("sec_a", &a), ("sec_b", &b)] {
                let u = auth::create_user(tx, "t", name, &h, None).await?;
                auth::add_grant(tx, "t", &u, Role::BranchSecretary, Some(place), None).await?;
            }
            let u = auth::create_user(tx, "t", "zhang", &h, Some(&zhang)).await?;
            auth::add_grant(tx, "t", &u, Role::Owner, Some(&a), None).await?;
            // 张三 is also the branch's deputy: still not for their own check-in
            let u = auth::create_user(tx, "t", "zhang_sec", &h, Some(&zhang)).await?;
            auth::add_grant(tx, "t", &u, Role::BranchSecretary, Some(&a), None).await?;
            let hr = register::create_person(
                tx,
                "t",
                register::NewPerson {
                    name: "人事处刘",
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
                &employer,
                &hr.id,
                MemberRole::Staff,
                None,
                None,
                (0, None),
            )
            .await?;
            auth::create_user(tx, "t", "hr-liu", &h, Some(&hr.id)).await?;
            Ok(())
        })
    })
    .await
    .unwrap();
    // two micro-grids of A: flat 101 (张三's) and flat 103 (no member)
    for (g, number) in [("g-101", "101"), ("g-103", "103")] {
        sqlx::query("INSERT INTO grids (id, kind, name, place_id, parent_id, worker_person_id, created_at) VALUES ($1, 'micro', $1, $2, NULL, NULL, 0)")
            .bind(g)
            .bind(&a_id)
            .execute(db.reader())
            .await
            .unwrap();
        sqlx::query("INSERT INTO grid_parts (grid_id, part_id) SELECT $1, id FROM parts WHERE compound_id = $2 AND number = $3")
            .bind(g)
            .bind(&a_id)
            .bind(number)
            .execute(db.reader())
            .await
            .unwrap();
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        gongzhi_web::serve_on(db, listener, gongzhi_web::Config::default()).await
    });
    World {
        url,
        _dir: dir,
        _tmp: tmp,
        base,
        a_id,
        b_id,
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
    assert_eq!(r.status(), StatusCode::OK, "{user}");
    c
}

async fn call(c: &reqwest::Client, post: bool, url: String, body: Value) -> (StatusCode, Value) {
    let r = if post {
        c.post(url).json(&body).send().await.unwrap()
    } else {
        c.get(url).send().await.unwrap()
    };
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}

async fn check_in_receipt_employer_and_figures(kind: Kind) {
    let w = world(kind).await;
    let (sec_a, sec_b, zhang, hr) = (
        login(&w, "sec_a").await,
        login(&w, "sec_b").await,
        login(&w, "zhang").await,
        login(&w, "hr-liu").await,
    );
    let url = |p: &str| format!("{}{p}", w.base);
    // the member sees their record; the branch of A sees its members, B none of them
    let (s, me) = call(&zhang, false, url("/api/v1/party/me"), Value::Null).await;
    assert_eq!(s, StatusCode::OK, "{me}");
    assert_eq!(
        (
            me["member"]["status"].as_str(),
            me["member"]["checkin"].as_str()
        ),
        (Some("in_service"), Some("none"))
    );
    let (s, list) = call(
        &sec_a,
        false,
        url(&format!("/api/v1/places/{}/party-members", w.a_id)),
        Value::Null,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(list["members"].as_array().unwrap().len(), 2);
    assert_eq!(list["members"][0]["phone"], "138****8000");
    let (s, _) = call(
        &sec_b,
        false,
        url(&format!("/api/v1/places/{}/party-members", w.a_id)),
        Value::Null,
    )
    .await;
    assert_eq!(
        s,
        StatusCode::NOT_FOUND,
        "a foreign branch cannot see members"
    );
    let (s, _) = call(
        &zhang,
        false,
        url(&format!("/api/v1/places/{}/party-members", w.a_id)),
        Value::Null,
    )
    .await;
    assert_eq!(
        s,
        StatusCode::FORBIDDEN,
        "an owner cannot list party members"
    );
    let (s, _) = call(&hr, false, url("/api/v1/party/me"), Value::Null).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "not a member");
    // check in; once a year
    let (s, c) = call(&zhang, true, url("/api/v1/party/check-ins"), json!({})).await;
    assert_eq!(s, StatusCode::CREATED, "{c}");
    let checkin = c["id"].as_str().unwrap().to_string();
    let (s, again) = call(&zhang, true, url("/api/v1/party/check-ins"), json!({})).await;
    assert_eq!(s, StatusCode::CONFLICT, "{again}");
    // a retired member does not check in (paper form refused), a foreign member is unknown
    let members = list["members"].as_array().unwrap();
    let li = members.iter().find(|m| m["status"] == "retired").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (s, e) = call(
        &sec_a,
        true,
        url(&format!("/api/v1/places/{}/party-check-ins", w.a_id)),
        json!({"member_id": li}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    let (s, e) = call(
        &sec_b,
        true,
        url(&format!("/api/v1/places/{}/party-check-ins", w.b_id)),
        json!({"member_id": li}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert!(e.to_string().contains("member_id"), "{e}");
    // the member cannot confirm; the foreign branch cannot; the branch of A can, once
    let confirm = url(&format!("/api/v1/party/check-ins/{checkin}/confirm"));
    let (s, _) = call(&zhang, true, confirm.clone(), json!({})).await;
    assert_eq!(
        s,
        StatusCode::NOT_FOUND,
        "a member cannot confirm their own check-in"
    );
    let (s, e) = call(
        &login(&w, "zhang_sec").await,
        true,
        confirm.clone(),
        json!({}),
    )
    .await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "nobody confirms their own: {e}"
    );
    assert!(e.to_string().contains("own check-in"), "{e}");
    let (s, _) = call(&sec_b, true, confirm.clone(), json!({})).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, ok) = call(&sec_a, true, confirm.clone(), json!({})).await;
    assert_eq!(s, StatusCode::OK, "{ok}");
    let code = ok["receipt_code"].as_str().unwrap().to_string();
    assert_eq!(code.len(), 8);
    let (s, _) = call(&sec_a, true, confirm, json!({})).await;
    assert_eq!(s, StatusCode::CONFLICT);
    // anyone checks the code (any case, with a dash); a fake one is a 404 problem
    let anon = reqwest::Client::new();
    let typed = format!("{}-{}", &code[..4], &code[4..]).to_lowercase();
    let (s, r) = call(
        &anon,
        false,
        url(&format!("/api/v1/public/check-in-receipts/{typed}")),
        Value::Null,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(
        (
            r["valid"].as_bool(),
            r["member"].as_str(),
            r["compound"].as_str()
        ),
        (Some(true), Some("张*"), Some("人社局家属院"))
    );
    let fake = if code.starts_with('Z') { "Y" } else { "Z" }.to_string() + &code[1..];
    for c in [fake.as_str(), "not-a-code", "IIIIIIII"] {
        let r = anon
            .get(url(&format!("/api/v1/public/check-in-receipts/{c}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{c}");
        assert_eq!(r.headers()["content-type"], "application/problem+json");
    }
    // the member sees the code; the employer contact sees the receipt; nobody else's
    let (_, me) = call(&zhang, false, url("/api/v1/party/me"), Value::Null).await;
    assert_eq!(
        (
            me["receipt_code"].as_str(),
            me["member"]["checkin"].as_str()
        ),
        (Some(code.as_str()), Some("confirmed"))
    );
    let (s, er) = call(
        &hr,
        false,
        url("/api/v1/party/employer-receipts"),
        Value::Null,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(er["receipts"].as_array().unwrap().len(), 1, "{er}");
    assert_eq!(
        (
            er["receipts"][0]["code"].as_str(),
            er["receipts"][0]["member"].as_str()
        ),
        (Some(code.as_str()), Some("张三"))
    );
    let (_, none) = call(
        &sec_b,
        false,
        url("/api/v1/party/employer-receipts"),
        Value::Null,
    )
    .await;
    assert_eq!(none["receipts"].as_array().unwrap().len(), 0);
    // the figures: A has 2 members, 1 in service, checked in; B is not A's
    let (s, st) = call(
        &sec_a,
        false,
        url(&format!("/api/v1/places/{}/party-stats", w.a_id)),
        Value::Null,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{st}");
    for (k, v) in [
        ("members", 2),
        ("in_service", 1),
        ("retired", 1),
        ("checked_in", 1),
        ("checkin_rate_permille", 1000),
        ("micro_grids", 2),
        ("micro_grids_with_member", 1),
    ] {
        assert_eq!(st[k].as_i64(), Some(v), "{k}: {st}");
    }
    // per child place: the building holds both members
    assert_eq!(st["children"][0]["name"], "1栋");
    assert_eq!(st["children"][0]["members"], 2);
    assert_eq!(st["children"][0]["micro_grids"], 0);
    let (s, _) = call(
        &sec_a,
        false,
        url(&format!("/api/v1/places/{}/party-stats", w.b_id)),
        Value::Null,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = call(
        &anon,
        false,
        url(&format!("/api/v1/places/{}/party-stats", w.a_id)),
        Value::Null,
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

both!(check_in_receipt_employer_and_figures);

/// The session's CSRF token, as every page carries it.
async fn csrf(c: &reqwest::Client, base: &str) -> String {
    let html = c
        .get(format!("{base}/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    html.split("name=\"csrf-token\" content=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or_default()
        .to_string()
}

async fn page(c: &reqwest::Client, url: String) -> (StatusCode, String) {
    let r = c.get(url).send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

async fn form(
    c: &reqwest::Client,
    base: &str,
    path: &str,
    fields: &[(&str, &str)],
) -> (StatusCode, String) {
    let token = csrf(c, base).await;
    let mut all = vec![("csrf", token.as_str())];
    all.extend_from_slice(fields);
    let r = c
        .post(format!("{base}{path}"))
        .header("origin", base)
        .form(&all)
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

async fn pages_refuse_what_the_api_refuses(kind: Kind) {
    let w = world(kind).await;
    let (sec_a, sec_b, zhang, zhang_sec) = (
        login(&w, "sec_a").await,
        login(&w, "sec_b").await,
        login(&w, "zhang").await,
        login(&w, "zhang_sec").await,
    );
    let b = &w.base;
    // the member's page offers the check-in; the branch console of A is A's alone
    let (s, html) = page(&zhang, format!("{b}/party")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains("id=\"check-in-form\"") && html.contains("张三"),
        "{html}"
    );
    let (s, _) = page(&sec_b, format!("{b}/places/{}/party", w.a_id)).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "a foreign branch's console");
    let (s, _) = page(&zhang, format!("{b}/places/{}/party", w.a_id)).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "an owner has no console");
    let (s, html) = page(&sec_a, format!("{b}/places/{}/party", w.a_id)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains("138****8000") && !html.contains("13800138000"),
        "phones masked"
    );
    // a receipt page before any receipt: an error page in the reader's language
    let (s, html) = page(&zhang, format!("{b}/party/receipt")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(html.contains("还没有回执"), "{html}");
    // the member checks in through the page; twice is refused
    let (s, _) = form(&zhang, b, "/party/check-in", &[]).await;
    assert!(s.is_redirection() || s == StatusCode::OK, "{s}");
    let (s, _) = form(&zhang, b, "/party/check-in", &[]).await;
    assert_eq!(s, StatusCode::CONFLICT);
    let db = Db::connect(&w.url).await.unwrap();
    let checkin: String = sqlx::query("SELECT id FROM party_checkins")
        .fetch_one(db.reader())
        .await
        .unwrap()
        .try_get(0)
        .unwrap();
    // B's branch cannot confirm A's check-in through its own console; 张三 not their own
    let (s, _) = form(
        &sec_b,
        b,
        &format!("/places/{}/party/confirm", w.b_id),
        &[("checkin_id", &checkin)],
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, html) = form(
        &zhang_sec,
        b,
        &format!("/places/{}/party/confirm", w.a_id),
        &[("checkin_id", &checkin)],
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    let (s, _) = form(
        &sec_a,
        b,
        &format!("/places/{}/party/confirm", w.a_id),
        &[("checkin_id", &checkin)],
    )
    .await;
    assert!(s.is_redirection() || s == StatusCode::OK, "{s}");
    // a paper form for a member of another compound is refused, naming no one
    let wang: String = sqlx::query("SELECT m.id FROM party_members m JOIN people p ON p.id = m.person_id WHERE p.name = '王五'")
        .fetch_one(db.reader())
        .await
        .unwrap()
        .try_get(0)
        .unwrap();
    let (s, html) = form(
        &sec_a,
        b,
        &format!("/places/{}/party/paper", w.a_id),
        &[("member_id", &wang)],
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!html.contains("王五"), "{html}");
    assert_eq!(count(&db, "SELECT COUNT(*) FROM party_checkins").await, 1);
    // the public check page: a bad code is a 404 page, no login needed
    let (s, html) = page(
        &reqwest::Client::new(),
        format!("{b}/check-in-receipts?code=ZZZZZZZZ"),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(html.contains("id=\"check-unknown\""), "{html}");
    db.close().await;
}

both!(pages_refuse_what_the_api_refuses);
