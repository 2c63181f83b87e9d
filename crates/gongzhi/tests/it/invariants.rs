//! Invariants over the whole demo city (ARCHITECTURE.md, "Invariants"), each
//! on SQLite and PostgreSQL. The demo loader itself (`src/demo*.rs`, what
//! `gongzhi demo --load-only` runs) builds the world, here on either engine.
//!
//! - `append_only_tables`: every table an append-only trigger of
//!   `crates/store/migrations/` guards refuses UPDATE and DELETE and keeps
//!   its row (the tables are read from the migration files).
//! - `no_secrets_at_rest`: no demo password, raw session or API token,
//!   unmasked phone or ID number (outside the register's protected columns)
//!   nor the books signing key in any text column of any table.
//! - `route_matrix`: every operation of `/api/openapi.json` and every page
//!   route × {anonymous, users of another compound, A's owner, A's staff}:
//!   401/403/404 as due, no foreign data in any body, no write by an
//!   outsider, no staff write by a resident.
//!
//! Cost: each test loads the demo city once per engine (a few seconds on
//! SQLite, more on PostgreSQL).

use crate::{demo, demo_cases};
use gongzhi_domain::policy::Role;
use gongzhi_store::{auth, db, register, Db};
use gongzhi_testkit::both;
use gongzhi_testkit::{fresh, scalar, Fresh, Kind};
use reqwest::StatusCode;
use serde_json::Value;
use sqlx::Row;
use std::collections::{BTreeMap, BTreeSet};

const A: &str = "qianshan-meilin";
const B: &str = "xiyuan";
/// The compound the demo keeps its books in (bills, disbursements, waivers…).
const BOOKS: &str = "jingcheng-mingdian";

async fn demo_world(kind: Kind) -> Fresh {
    let f = fresh(kind).await;
    demo::load(&f.db).await.expect("demo loads");
    demo_cases::load(&f.db).await.expect("demo cases load");
    f
}

/// Every table of the database (migrations' bookkeeping included).
async fn tables(db: &Db) -> Vec<String> {
    let sql = match db.backend() {
        db::Backend::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        }
        db::Backend::Postgres => {
            "SELECT table_name::text AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name"
        }
    };
    sqlx::query(sql)
        .fetch_all(db.reader())
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get::<String, _>("name").unwrap())
        .collect()
}

// ------------------------------------------------------------ append-only

/// The tables guarded by an append-only trigger, read from the migration
/// files: SQLite's `RAISE(ABORT, 't is append-only')`, PostgreSQL's
/// `… ON t FOR EACH ROW EXECUTE FUNCTION gongzhi_append_only()`.
fn append_only_from_migrations() -> (BTreeSet<String>, BTreeSet<String>) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../store/migrations");
    let (mut sqlite, mut postgres) = (BTreeSet::new(), BTreeSet::new());
    for e in std::fs::read_dir(&dir).unwrap() {
        let path = e.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(&path).unwrap();
        if name.ends_with(".sqlite.sql") {
            for part in text.split("RAISE(ABORT, '").skip(1) {
                if let Some(t) = part.split_once(" is append-only'") {
                    sqlite.insert(t.0.trim().to_string());
                }
            }
        } else if name.ends_with(".postgres.sql") {
            for stmt in text.split(';') {
                if stmt.contains("gongzhi_append_only()") && stmt.contains("CREATE TRIGGER") {
                    let t = stmt
                        .split_whitespace()
                        .skip_while(|w| *w != "ON")
                        .nth(1)
                        .unwrap_or_else(|| panic!("{name}: trigger without a table: {stmt}"));
                    postgres.insert(t.to_string());
                }
            }
        }
    }
    (sqlite, postgres)
}

/// Rows for the guarded tables the demo does not fill, through the store's
/// own functions, in compound A.
async fn fill_what_the_demo_leaves_empty(db: &Db) {
    use gongzhi_domain::book_entries::BudgetLine;
    use gongzhi_domain::deliberation::{Answer, Question, QuestionKind};
    use gongzhi_domain::ledger::AccountCode;
    use gongzhi_store::{audits, budget, cases, deliberation, fund, notify, procedures};
    let a = register::place_by_code(db, A).await.unwrap();
    let owner = auth::user_id_by_name(db, "owner").await.unwrap();
    let first = |sql: &'static str| {
        let a = a.clone();
        async move {
            sqlx::query(sql)
                .bind(&a.id)
                .bind(format!("{}%", a.path))
                .fetch_one(db.reader())
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"))
                .try_get::<String, _>(0)
                .unwrap()
        }
    };
    let case_id =
        first("SELECT id FROM cases WHERE place_id = $1 OR place_path LIKE $2 ORDER BY id").await;
    let matter_id =
        first("SELECT id FROM matters WHERE place_id = $1 OR scope_path LIKE $2 ORDER BY id").await;
    let now = db::now_ms();
    let (a2, o2) = (a.clone(), owner.clone());
    db.write(move |tx| {
        let (a, owner, case_id, matter_id) =
            (a2.clone(), o2.clone(), case_id.clone(), matter_id.clone());
        Box::pin(async move {
            let png = [
                &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A][..],
                &[0; 32],
            ]
            .concat();
            cases::add_photo_in(tx, &case_id, "user:t", png, now).await?;
            deliberation::add_comment(tx, &owner, "业主", &matter_id, "同意", now).await?;
            let q = Question {
                text: "是否同意".into(),
                kind: QuestionKind::Single,
                options: vec!["同意".into(), "不同意".into()],
            };
            let qid = deliberation::create_questionnaire(
                tx,
                "user:t",
                &matter_id,
                "意见征询",
                &[q],
                now + 86_400_000,
                now,
            )
            .await?;
            deliberation::answer(tx, &qid, &owner, &[Answer::One(0)], now).await?;
            let mut p = gongzhi_domain::procedure::builtins()[0].clone();
            p.key = "invariants_local".into();
            procedures::define(tx, "user:t", &a, &p).await?;
            Ok(())
        })
    })
    .await
    .unwrap();
    audits::record(
        db,
        "t",
        "supervisor",
        &a,
        audits::NewAudit {
            scope: audits::SCOPES[0].into(),
            period_from: "2025-01".into(),
            period_to: "2025-12".into(),
            audited_on: "2026-01-15".into(),
            summary: "无异常".into(),
            document_sha256: None,
        },
    )
    .await
    .unwrap();
    let passed = gongzhi_testkit::vote(db, &a, gongzhi_domain::vote::Choice::Yes, true).await;
    let year = 2026 + (now > gongzhi_domain::fund_calc::year_bounds_ms(2027).0) as i32;
    let lines = vec![BudgetLine {
        category: AccountCode::ExpenseRepair,
        amount: 100_000_00,
    }];
    budget::adopt(
        db,
        "t",
        "committee_member",
        &a,
        year,
        &passed,
        lines,
        fund::Idem::new("inv-budget", "h-inv-budget".into()).unwrap(),
    )
    .await
    .unwrap();
    // The notification outbox: one dispatch records attempts.
    notify::dispatch(db, &notify::default_senders(None), now, 50)
        .await
        .unwrap();
}

async fn append_only_tables(kind: Kind) {
    let (sqlite, postgres) = append_only_from_migrations();
    assert_eq!(sqlite, postgres, "both engines guard the same tables");
    assert!(sqlite.len() >= 20, "found only {sqlite:?}");
    let f = demo_world(kind).await;
    fill_what_the_demo_leaves_empty(&f.db).await;
    let mut empty = Vec::new();
    for t in &sqlite {
        let n = scalar(&f.db, &format!("SELECT COUNT(*) FROM {t}")).await;
        if n == 0 {
            empty.push(t.clone());
            continue;
        }
        // A text column to pick a row by and to try to change.
        let row = sqlx::query(&format!("SELECT * FROM {t} LIMIT 1"))
            .fetch_one(f.db.reader())
            .await
            .unwrap();
        let (col, val) = (0..row.len())
            .find_map(|i| {
                let v = row.try_get::<String, _>(i).ok()?;
                Some((sqlx::Column::name(&row.columns()[i]).to_string(), v))
            })
            .unwrap_or_else(|| panic!("{t}: no text column"));
        let msg = format!("{t} is append-only");
        let upd = sqlx::query(&format!(
            "UPDATE {t} SET {col} = {col} || 'x' WHERE {col} = $1"
        ))
        .bind(&val)
        .execute(f.db.reader())
        .await;
        let del = sqlx::query(&format!("DELETE FROM {t} WHERE {col} = $1"))
            .bind(&val)
            .execute(f.db.reader())
            .await;
        for (what, r) in [("UPDATE", upd), ("DELETE", del)] {
            match r {
                Ok(_) => panic!("{what} of {t} was allowed"),
                Err(e) => assert!(e.to_string().contains(&msg), "{what} {t}: {e}"),
            }
        }
        let after = scalar(&f.db, &format!("SELECT COUNT(*) FROM {t}")).await;
        assert_eq!(after, n, "{t}: row count changed");
        let same = sqlx::query(&format!("SELECT COUNT(*) FROM {t} WHERE {col} = $1"))
            .bind(&val)
            .fetch_one(f.db.reader())
            .await
            .unwrap()
            .try_get::<i64, _>(0)
            .unwrap();
        assert!(same >= 1, "{t}: the row is gone or changed");
    }
    assert!(
        empty.is_empty(),
        "append-only tables with no row to test with (add a row in fill_what_the_demo_leaves_empty): {empty:?}"
    );
}

both!(append_only_tables);

// ---------------------------------------------------------------- secrets

/// Columns that hold a person's real phone or ID number: the register's
/// own protected columns (read back only masked: `register.rs`, `cases.rs`,
/// `mediation.rs` mask on the way out). Everywhere else they must not occur.
const PROTECTED: [(&str, &str); 5] = [
    ("owners", "phone"),
    ("people", "phone"),
    ("people", "id_number"),
    ("cases", "reporter_phone"),
    ("mediation_parties", "phone"),
];

/// A server over `db` with its data dir (the books key file), on a random port.
async fn serve(db: &Db, dir: &std::path::Path) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (db, dir) = (db.clone(), dir.to_path_buf());
    tokio::spawn(async move {
        gongzhi_web::serve_on(
            db,
            listener,
            gongzhi_web::Config {
                data_dir: Some(dir),
                notify_every: None,
                sandbox_payments: true,
                ..Default::default()
            },
        )
        .await
    });
    base
}

/// Runs of ASCII letters and digits: a phone or ID number is a whole word.
fn words(s: &str) -> impl Iterator<Item = &str> {
    s.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
}

fn is_phone(w: &str) -> bool {
    w.len() == 11 && w.starts_with('1') && w.bytes().all(|b| b.is_ascii_digit())
}

fn is_id_number(w: &str) -> bool {
    w.len() == 18
        && w[..17].bytes().all(|b| b.is_ascii_digit())
        && matches!(w.as_bytes()[17], b'0'..=b'9' | b'X' | b'x')
}

async fn no_secrets_at_rest(kind: Kind) {
    use base64::Engine as _;
    let f = demo_world(kind).await;
    let dir = tempfile::tempdir().unwrap();
    let base = serve(&f.db, dir.path()).await;
    // Use the key: sign a checkpoint, render the books page.
    let c = reqwest::Client::new();
    for u in [
        format!("{base}/api/v1/public/compounds/{A}/books/checkpoint"),
        format!("{base}/compounds/{A}/books"),
    ] {
        let r = c.get(&u).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{u}");
    }
    // A session and an API token, raw values known only to the caller.
    let owner = auth::user_id_by_name(&f.db, "owner").await.unwrap();
    let session = auth::create_session(&f.db, &owner).await.unwrap();
    let o2 = owner.clone();
    let (_, token) =
        f.db.write(move |tx| {
            let o = o2.clone();
            Box::pin(async move { auth::create_api_token(tx, "t", &o, "scan").await })
        })
        .await
        .unwrap();
    let key_text = std::fs::read_to_string(dir.path().join(gongzhi_store::tlog::KEY_FILE))
        .expect("the server wrote its books key");
    let key = hex::decode(key_text.trim()).unwrap();
    let b64 = base64::engine::general_purpose::STANDARD;
    let b64url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let secrets: Vec<(&str, String)> = vec![
        ("demo password", demo::DEMO_PASSWORD.to_string()),
        ("session token", session.clone()),
        ("API token", token.clone()),
        ("books key (hex)", key_text.trim().to_lowercase()),
        ("books key (HEX)", key_text.trim().to_uppercase()),
        ("books key (base64)", b64.encode(&key)),
        ("books key (base64url)", b64url.encode(&key)),
        ("books key file (base64)", b64.encode(key_text.as_bytes())),
    ];
    let mut found = Vec::new();
    let (mut cells, mut protected_phones) = (0usize, 0usize);
    for t in tables(&f.db).await {
        let rows = sqlx::query(&format!("SELECT * FROM {t}"))
            .fetch_all(f.db.reader())
            .await
            .unwrap();
        for r in &rows {
            for (i, col) in r.columns().iter().enumerate() {
                let col = sqlx::Column::name(col);
                let Ok(v) = r.try_get::<String, _>(i) else {
                    continue;
                };
                cells += 1;
                for (what, s) in &secrets {
                    if v.contains(s.as_str()) {
                        found.push(format!("{t}.{col}: {what}"));
                    }
                }
                let protected = PROTECTED.contains(&(t.as_str(), col));
                for w in words(&v) {
                    if is_phone(w) || is_id_number(w) {
                        if protected {
                            protected_phones += 1;
                        } else {
                            found.push(format!("{t}.{col}: unmasked number {w} in {v:.120}"));
                        }
                    }
                }
            }
        }
    }
    found.sort();
    found.dedup();
    assert!(found.is_empty(), "secrets at rest:\n{}", found.join("\n"));
    // The scan saw the data: thousands of cells, and the register's real
    // numbers where they belong.
    assert!(cells > 10_000, "only {cells} text cells scanned");
    assert!(
        protected_phones > 100,
        "only {protected_phones} numbers in the protected columns"
    );
    // and it would have seen a leak: the same words in a free-text column.
    assert!(is_phone("13812345678") && is_id_number("11010519491231002X"));
    assert!(!is_phone("138****5678") && !is_phone("0193a7b2c3d4e"));
}

both!(no_secrets_at_rest);

// ----------------------------------------------------------- route matrix

/// The id of a row of compound A's for each kind of path parameter; `None`
/// when the demo has no such row (a made-up id is used then).
async fn ids_of(db: &Db, a: &register::Place) -> BTreeMap<&'static str, Option<String>> {
    let like = format!("{}%", a.path);
    let q: [(&str, &str); 31] = [
        ("owner", "SELECT owner_id AS v FROM parts WHERE compound_id = $1 AND $2 <> '' ORDER BY owner_id"),
        ("organisation", "SELECT o.id AS v FROM organisations o JOIN places p ON p.id = o.place_id WHERE p.id = $1 OR p.path LIKE $2 ORDER BY o.id"),
        ("grid", "SELECT g.id AS v FROM grids g JOIN places p ON p.id = g.place_id WHERE p.id = $1 OR p.path LIKE $2 ORDER BY g.id"),
        ("case", "SELECT id AS v FROM cases WHERE place_id = $1 OR place_path LIKE $2 ORDER BY id"),
        ("photo", "SELECT ph.id AS v FROM case_photos ph JOIN cases c ON c.id = ph.case_id WHERE c.place_id = $1 OR c.place_path LIKE $2 ORDER BY ph.id"),
        ("matter", "SELECT id AS v FROM matters WHERE place_id = $1 OR scope_path LIKE $2 ORDER BY id"),
        ("doc", "SELECT d.id AS v FROM matter_documents d JOIN matters m ON m.id = d.matter_id WHERE m.place_id = $1 OR m.scope_path LIKE $2 ORDER BY d.id"),
        ("questionnaire", "SELECT q.id AS v FROM questionnaires q JOIN matters m ON m.id = q.matter_id WHERE m.place_id = $1 OR m.scope_path LIKE $2 ORDER BY q.id"),
        ("vote", "SELECT id AS v FROM votes WHERE place_id = $1 OR scope_path LIKE $2 ORDER BY id"),
        ("evidence", "SELECT e.id AS v FROM vote_evidence e JOIN votes v ON v.id = e.vote_id WHERE v.place_id = $1 OR v.scope_path LIKE $2 ORDER BY e.id"),
        ("meeting", "SELECT id AS v FROM meetings WHERE place_id = $1 OR scope_path LIKE $2 ORDER BY id"),
        ("disbursement", "SELECT id AS v FROM fund_disbursements WHERE compound_id = $1 AND $2 <> '' ORDER BY id"),
        ("bill", "SELECT id AS v FROM fund_bills WHERE compound_id = $1 AND $2 <> '' ORDER BY id"),
        ("waiver", "SELECT id AS v FROM fund_waivers WHERE compound_id = $1 AND $2 <> '' ORDER BY id"),
        ("intent", "SELECT id AS v FROM fund_payment_intents WHERE compound_id = $1 AND $2 <> '' ORDER BY id"),
        ("notification", "SELECT n.id AS v FROM notifications n JOIN cases c ON c.id = n.case_id WHERE c.place_id = $1 OR c.place_path LIKE $2 ORDER BY n.id"),
        ("token", "SELECT token AS v FROM open311_queue WHERE place_id = $1 OR place_path LIKE $2 ORDER BY token"),
        ("period", "SELECT period AS v FROM fund_bills WHERE compound_id = $1 AND $2 <> '' ORDER BY period"),
        ("key", "SELECT key AS v FROM procedure_library WHERE place_id = $1 AND $2 <> '' ORDER BY key"),
        ("name", "SELECT name AS v FROM settings WHERE place_id = $1 AND $2 <> '' ORDER BY name"),
        ("part", "SELECT id AS v FROM parts WHERE compound_id = $1 AND $2 <> '' ORDER BY id"),
        ("checkin", "SELECT id AS v FROM party_checkins WHERE compound_id = $1 AND $2 <> '' ORDER BY id"),
        ("receipt", "SELECT r.code AS v FROM party_receipts r JOIN party_checkins c ON c.id = r.checkin_id WHERE c.compound_id = $1 AND $2 <> '' ORDER BY r.code"),
        ("claim", "SELECT id AS v FROM household_claims WHERE compound_id = $1 AND $2 <> '' ORDER BY id"),
        ("grant", "SELECT id AS v FROM grants WHERE place_id = $1 AND $2 <> '' ORDER BY id"),
        // the account of one of A's committee members
        ("user_id", "SELECT user_id AS v FROM grants WHERE place_id = $1 AND role = 'committee_member' AND $2 <> '' ORDER BY user_id"),
        ("store_item", "SELECT i.id AS v FROM store_items i JOIN places p ON p.id = i.place_id WHERE p.id = $1 OR p.path LIKE $2 ORDER BY i.id"),
        ("redemption", "SELECT r.id AS v FROM store_redemptions r JOIN store_items i ON i.id = r.item_id JOIN places p ON p.id = i.place_id WHERE p.id = $1 OR p.path LIKE $2 ORDER BY r.id"),
        ("wish", "SELECT w.id AS v FROM wishes w JOIN places p ON p.id = w.place_id WHERE p.id = $1 OR p.path LIKE $2 ORDER BY w.id"),
        ("points_transfer", "SELECT t.id AS v FROM points_transfers t JOIN places p ON p.id = t.community_id WHERE p.id = $1 OR p.path LIKE $2 ORDER BY t.id"),
        // an API token of one of A's committee members (not the resident's own)
        ("api_token", "SELECT t.id AS v FROM api_tokens t JOIN grants g ON g.user_id = t.user_id WHERE g.place_id = $1 AND g.role = 'committee_member' AND $2 <> '' ORDER BY t.id"),
    ];
    let mut m = BTreeMap::new();
    m.insert("place", Some(a.id.clone()));
    m.insert("code", a.code.clone());
    m.insert("step", Some("0".to_string()));
    m.insert("year", Some("2026".to_string()));
    // a user of A's (the demo's committee login)
    m.insert("username", Some("committee".to_string()));
    m.insert("rule_kind", Some("cleaning".to_string()));
    for (kind, sql) in q {
        let v = sqlx::query(sql)
            .bind(&a.id)
            .bind(&like)
            .fetch_optional(db.reader())
            .await
            .unwrap_or_else(|e| panic!("{kind}: {e}"))
            .map(|r| r.try_get::<String, _>("v").unwrap());
        m.insert(kind, v);
    }
    m
}

/// The kind of row a path parameter names, by the segment before it. A new
/// kind of parameter fails here until it is given a row of A's.
fn param_kind(prev: &str, param: &str) -> &'static str {
    match prev {
        "places" => "place",
        "owners" => "owner",
        "organisations" => "organisation",
        "grids" => "grid",
        "cases" => "case",
        "photos" => "photo",
        "matters" => "matter",
        "steps" => "step",
        "documents" => "doc",
        "questionnaires" => "questionnaire",
        "votes" => "vote",
        "evidence" => "evidence",
        "meetings" => "meeting",
        "compounds" => "code",
        "disbursements" => "disbursement",
        "bills" => "bill",
        "waivers" => "waiver",
        "pay" => "intent",
        "notifications" => "notification",
        "open311-queue" => "token",
        "collection" | "remuneration" => "period",
        "procedures" => "key",
        "settings" => "name",
        "v2" | "services" | "requests" | "tokens" if param == "file" => "file",
        "tokens" => "api_token",
        "users" if param == "id" => "user_id",
        "users" => "username",
        "accounts" => "user_id",
        "claims" => "claim",
        "grants" => "grant",
        "invitations" | "invite" => "invitation",
        "check-ins" => "checkin",
        "check-in-receipts" => "receipt",
        "calendar" => "year",
        "items" => "store_item",
        "redemptions" => "redemption",
        "transfers" => "points_transfer",
        "rules" => "rule_kind",
        "wishes" => "wish",
        _ => panic!("no row of A's for {{{param}}} after '{prev}': add it to param_kind/ids_of"),
    }
}

/// `path` with its parameters filled with A's rows; the kinds it used.
fn fill(path: &str, ids: &BTreeMap<&'static str, Option<String>>) -> (String, Vec<&'static str>) {
    let mut out = Vec::new();
    let mut kinds = Vec::new();
    let segs: Vec<&str> = path.split('/').collect();
    for (i, s) in segs.iter().enumerate() {
        let Some(param) = s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) else {
            out.push(s.to_string());
            continue;
        };
        let prev = if i > 0 { segs[i - 1] } else { "" };
        let kind = param_kind(prev, param);
        let id = |k: &str| {
            ids.get(k)
                .cloned()
                .flatten()
                .unwrap_or_else(|| "0193f1e2-0000-7000-8000-000000000000".into())
        };
        let v = match (kind, prev) {
            ("file", "v2") => "services.json".to_string(),
            ("file", "requests") => format!("{}.json", id("case")),
            ("file", "tokens") => format!("{}.json", id("token")),
            ("file", _) => "repair.json".to_string(),
            _ => id(kind),
        };
        kinds.push(kind);
        out.push(v);
    }
    (out.join("/"), kinds)
}

/// The page routes (GET) of the router, read from its source: every
/// `.route("…", get(…))` of `crates/web/src` and its feature folders.
fn page_routes() -> Vec<String> {
    let mut dirs = vec![std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../web/src")];
    let mut files = Vec::new();
    while let Some(dir) = dirs.pop() {
        for e in std::fs::read_dir(dir).unwrap() {
            let path = e.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.push(path);
            }
        }
    }
    assert!(files.len() > 20, "the web crate's sources: {files:?}");
    let mut out = BTreeSet::new();
    for f in files {
        let text = std::fs::read_to_string(f).unwrap();
        for part in text.split(".route(\"").skip(1) {
            let Some((path, rest)) = part.split_once('"') else {
                continue;
            };
            let call = rest.split(".route(").next().unwrap_or("");
            let is_get = call.trim_start_matches([',', ' ']).starts_with("get(");
            let infra = ["/api", "/assets", "/metrics"];
            if is_get && !infra.iter().any(|p| path.starts_with(p)) {
                out.insert(path.to_string());
            }
        }
    }
    out.into_iter().collect()
}

/// A user with `grants` over compound B (and a Bearer token).
async fn outsider(
    db: &Db,
    name: &str,
    b: &register::Place,
    grants: &[Role],
    owner: bool,
) -> String {
    let (b, name, grants) = (b.clone(), name.to_string(), grants.to_vec());
    let b_owner = if owner {
        sqlx::query("SELECT owner_id FROM parts WHERE compound_id = $1 ORDER BY id")
            .bind(&b.id)
            .fetch_optional(db.reader())
            .await
            .unwrap()
            .map(|r| r.try_get::<String, _>("owner_id").unwrap())
    } else {
        None
    };
    db.write(move |tx| {
        let (b, name, grants, b_owner) = (b.clone(), name.clone(), grants.clone(), b_owner.clone());
        Box::pin(async move {
            let u = auth::create_user(tx, "t", &name, "x", None).await?;
            for g in grants {
                auth::add_grant(tx, "t", &u, g, Some(&b.id), None).await?;
            }
            if let Some(o) = b_owner {
                auth::link_owner(tx, "t", &u, &o).await?;
            }
            Ok(auth::create_api_token(tx, "t", &u, "matrix").await?.1)
        })
    })
    .await
    .unwrap()
}

async fn token_of(db: &Db, login: &str) -> String {
    let u = auth::user_id_by_name(db, login).await.unwrap();
    db.write(move |tx| {
        let u = u.clone();
        Box::pin(async move { Ok(auth::create_api_token(tx, "t", &u, "matrix").await?.1) })
    })
    .await
    .unwrap()
}

/// Rows per table: what an outsider's refused write must leave as it was.
async fn counts(db: &Db) -> BTreeMap<String, i64> {
    let mut m = BTreeMap::new();
    for t in tables(db).await {
        let n = scalar(db, &format!("SELECT COUNT(*) FROM {t}")).await;
        m.insert(t, n);
    }
    m
}

/// A request body for `schema` (OpenAPI, from the code) that names A's rows
/// wherever a field takes an id, plausible values elsewhere, so
/// that an outsider's write gets past the body's check to the gate.
fn example(
    schema: &Value,
    doc: &Value,
    name: &str,
    ids: &BTreeMap<&'static str, Option<String>>,
) -> Value {
    use serde_json::json;
    if let Some(r) = schema["$ref"].as_str() {
        let key = r.rsplit('/').next().unwrap();
        return example(&doc["components"]["schemas"][key], doc, name, ids);
    }
    for k in ["oneOf", "anyOf", "allOf"] {
        if let Some(first) = schema[k].as_array().and_then(|v| v.first()) {
            return example(first, doc, name, ids);
        }
    }
    if let Some(e) = schema["enum"].as_array().and_then(|v| v.first()) {
        return e.clone();
    }
    // "`topic`, `four_party` or …", "community, compound or micro": the first
    // value a field's description lists.
    let listed = schema["description"].as_str().and_then(|d| {
        let first = match d.split_once('`') {
            Some((_, rest)) => rest.split('`').next()?,
            None => d.split([',', ' ']).next()?,
        };
        let word = |c: char| c.is_ascii_lowercase() || c == '_';
        (!first.is_empty() && first.chars().all(word) && (d.contains(',') || d.contains(" or ")))
            .then(|| json!(first))
    });
    if let (Some(v), Some("string")) = (&listed, schema["type"].as_str()) {
        return v.clone();
    }
    let id = |k: &str| json!(ids.get(k).cloned().flatten().unwrap_or_else(|| "x".into()));
    let day = 86_400_000;
    let now = db::now_ms();
    let ty = match &schema["type"] {
        Value::Array(t) => t.iter().find(|t| *t != "null").cloned().unwrap_or_default(),
        t => t.clone(),
    };
    match (ty.as_str().unwrap_or("object"), name) {
        (_, "questions") => json!([{"text": "q", "kind": "single", "options": ["a", "b"]}]),
        (_, "rule") => json!({"kind": "civil_code", "matter": "ordinary"}),
        (_, "answers") => json!([0]),
        (_, "part_ids") => json!([id("part")]),
        (_, "mediator_org_ids") => json!([id("organisation")]),
        (_, "channels") => json!(["online"]),
        ("object", _) => {
            // every field, optional ones too: a place or a matter is often optional
            let mut m = serde_json::Map::new();
            for (k, v) in schema["properties"].as_object().into_iter().flatten() {
                m.insert(k.clone(), example(v, doc, k, ids));
            }
            Value::Object(m)
        }
        ("array", _) => json!([example(&schema["items"], doc, name, ids)]),
        ("integer" | "number", "opens_at") => json!(now + day),
        ("integer" | "number", "closes_at") => json!(now + 20 * day),
        ("integer" | "number", "starts_at") => json!(now + 16 * day),
        ("integer" | "number", "ends_at") => json!(now + 17 * day),
        ("integer" | "number", "stars") => json!(5),
        ("integer" | "number", "year") => json!(2026),
        ("integer" | "number", _) => json!(100),
        ("boolean", _) => json!(false),
        (_, "place_id" | "home_place_id" | "compound_id" | "parent_id") => id("place"),
        (_, "part_id") => id("part"),
        (_, "owner_id") => id("owner"),
        (_, "vote_id") => id("vote"),
        (_, "evidence_id") => id("evidence"),
        (_, "matter_id") => id("matter"),
        (_, "case_id") => id("case"),
        (_, "grid_id") => id("grid"),
        (_, n) if n.starts_with("amount") || n.starts_with("rate") => json!("1.00"),
        (_, "audited_on" | "visited_on") => json!("2026-01-15"),
        (_, n) if n.starts_with("period") => json!("2026-01"),
        (_, "held_at") => json!("2026-11-20T19:30:00+08:00"),
        (_, "action") => json!("accept"),
        (_, "choice") => json!("yes"),
        (_, "channel") => json!("paper"),
        (_, "outcome") => json!("agreement"),
        (_, "method") => json!("cash"),
        (_, "scope") => json!("maintenance_fund"),
        (_, "relation") => json!("owner"),
        (_, "kind") => json!("topic"),
        (_, "by") => json!("area"),
        (_, "remuneration_mode") => json!("none"),
        (_, "role" | "approver_roles") => json!("committee_member"),
        (_, "code") => json!("fee"),
        (_, "debit") => json!("bank"),
        (_, "credit") => json!("fee_income"),
        (_, "category") => json!("expense_repair"),
        (_, "source") => json!("revenue_advertising"),
        (_, "procedure") => json!("seven_step"),
        (_, "username") => json!("b-owner"),
        (_, "answer") => json!("id"),
        _ => json!("x"),
    }
}

struct Answer {
    status: StatusCode,
    body: String,
}

async fn call(
    c: &reqwest::Client,
    method: &str,
    url: &str,
    token: Option<&str>,
    body: &Value,
) -> Answer {
    let mut rq = c.request(method.to_uppercase().parse().unwrap(), url);
    if let Some(t) = token {
        rq = rq.bearer_auth(t);
    }
    if method != "get" {
        rq = rq.json(body);
    }
    let r = rq
        .send()
        .await
        .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    Answer {
        status: r.status(),
        body: r.text().await.unwrap_or_default(),
    }
}

/// The writes an owner makes on their own compound's rows.
const RESIDENT_MAY: [&str; 10] = [
    "/api/v1/cases",
    "/api/v1/cases/{id}/rating",
    "/api/v1/cases/{id}/photos",
    "/api/v1/votes/{id}/ballots",
    "/api/v1/votes/{id}/apportion",
    "/api/v1/matters/{id}/comments",
    "/api/v1/questionnaires/{id}/answers",
    "/api/v1/notifications/{id}/read",
    "/api/v1/compounds/{code}/books/bills/{id}/intents",
    "/api/v1/payments/sandbox/pay/{id}",
];

/// A's values in an answer to an outsider, but for those they sent in the URL
/// themselves (a 404 may well repeat the path).
fn leaks(secrets: &[String], url: &str, r: &Answer, what: &str) -> Vec<String> {
    secrets
        .iter()
        .filter(|s| !url.contains(s.as_str()) && r.body.contains(s.as_str()))
        .map(|s| format!("{what}: A's '{s}' in the body ({})", r.status))
        .collect()
}

async fn route_matrix(kind: Kind) {
    let f = demo_world(kind).await;
    let db = &f.db;
    let a = register::place_by_code(db, A).await.unwrap();
    let b = register::place_by_code(db, B).await.unwrap();
    let books = register::place_by_code(db, BOOKS).await.unwrap();
    assert_ne!(
        a.path_ids()[2],
        b.path_ids()[2],
        "A and B lie in different communities"
    );
    assert_ne!(books.path_ids()[2], b.path_ids()[2]);
    // a photo, a questionnaire, a local procedure… in A too
    fill_what_the_demo_leaves_empty(db).await;
    let dir = tempfile::tempdir().unwrap();
    let base = serve(db, dir.path()).await;
    let c = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let doc: Value = c
        .get(format!("{base}/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    // Who asks.
    let outsiders = vec![
        (
            "b-owner",
            outsider(db, "b-owner", &b, &[Role::Owner], true).await,
        ),
        (
            "b-staff",
            outsider(
                db,
                "b-staff",
                &b,
                &[
                    Role::CommitteeMember,
                    Role::Steward,
                    Role::Supervisor,
                    Role::BranchSecretary,
                ],
                false,
            )
            .await,
        ),
    ];
    let mut insiders = Vec::new();
    for login in [
        "owner",
        "committee",
        "steward",
        "supervisor",
        "grid",
        "admin",
    ] {
        insiders.push((login, token_of(db, login).await));
    }
    let mut bad = Vec::new();
    for code in [A, BOOKS] {
        let w = Asking {
            db,
            base: &base,
            c: &c,
            doc: &doc,
            outsiders: &outsiders,
            insiders: &insiders,
        };
        bad.extend(matrix(&w, code).await);
    }
    assert!(
        bad.is_empty(),
        "{} violations:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

/// The server, its OpenAPI document, and who asks.
struct Asking<'a> {
    db: &'a Db,
    base: &'a str,
    c: &'a reqwest::Client,
    doc: &'a Value,
    outsiders: &'a [(&'static str, String)],
    insiders: &'a [(&'static str, String)],
}

/// The matrix over the rows of compound `code` (not B's).
async fn matrix(w: &Asking<'_>, code: &str) -> Vec<String> {
    let (db, base, c, doc, outsiders, insiders) =
        (w.db, w.base, w.c, w.doc, w.outsiders, w.insiders);
    let a = register::place_by_code(db, code).await.unwrap();
    let ids = ids_of(db, &a).await;
    // What B's users must never see: A's names, code, ids.
    let mut secrets_of_a: Vec<String> = vec![a.id.clone(), A.into(), a.name.clone()];
    for k in [
        "case",
        "matter",
        "vote",
        "meeting",
        "disbursement",
        "bill",
        "owner",
        "organisation",
        "grid",
    ] {
        if let Some(Some(v)) = ids.get(k) {
            secrets_of_a.push(v.clone());
        }
    }
    // Everything an outsider's write could name.
    let id = |k: &str| ids[k].clone().unwrap_or_default();
    let body = serde_json::json!({
        "place_id": a.id, "compound_id": a.id, "parent_id": a.id, "scope_id": a.id,
        "part_id": id("part"), "owner_id": id("owner"), "matter_id": id("matter"),
        "case_id": id("case"), "vote_id": id("vote"), "grid_id": id("grid"),
        "org_id": id("organisation"), "bill_id": id("bill"), "meeting_id": id("meeting"),
        "role": "committee_member", "name": "x", "title": "x", "description": "x",
        "note": "x", "body": "x", "text": "x", "amount": 100, "choice": "yes",
        "category": "repair", "kind": "owners_assembly", "value": "1",
    });

    let mut bad: Vec<String> = Vec::new();
    let mut real_2xx: BTreeSet<&'static str> = BTreeSet::new();
    let mut used: BTreeSet<&'static str> = BTreeSet::new();
    let mut ops = 0;
    let before = counts(db).await;
    let paths = doc["paths"].as_object().expect("openapi paths");
    let mut writes_later = Vec::new();
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            if !["get", "post", "put", "delete", "patch"].contains(&method.as_str()) {
                continue;
            }
            ops += 1;
            let tags: Vec<&str> = op["tags"]
                .as_array()
                .map(|t| t.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let public = tags.contains(&"public") || path.starts_with("/api/v1/public/");
            let (p, kinds) = fill(path, &ids);
            if method == "get" {
                used.extend(kinds.iter().copied());
            }
            let url = format!("{base}{p}");
            let what = format!("{} {path}", method.to_uppercase());
            // Logins, logout and one's own tokens and inbox are about oneself.
            let about_oneself = path.starts_with("/api/v1/auth/")
                || path == "/api/v1/tokens"
                || path == "/api/v1/me/password"
                || path == "/api/v1/notifications/read-all"
                // signing up, resetting one's password, claiming one's home
                || path.starts_with("/api/v1/signup")
                || path.starts_with("/api/v1/password-reset")
                || path == "/api/v1/me/claims";
            if method != "get" {
                if !about_oneself {
                    let schema = &op["requestBody"]["content"]["application/json"]["schema"];
                    let body = if schema.is_null() {
                        body.clone()
                    } else {
                        example(schema, doc, "", &ids)
                    };
                    writes_later.push((what, url, public, !kinds.is_empty(), body));
                }
                continue;
            }
            // anonymous
            let r = call(c, method, &url, None, &body).await;
            if r.status.is_server_error()
                || (!public && r.status != StatusCode::UNAUTHORIZED)
                || (public && matches!(r.status.as_u16(), 401 | 403))
            {
                bad.push(format!("anonymous {what}: {}", r.status));
            }
            // users of compound B
            for (who, tok) in outsiders {
                let r = call(c, method, &url, Some(tok), &body).await;
                let refused = matches!(r.status.as_u16(), 403 | 404);
                if r.status.is_server_error() || (!public && !kinds.is_empty() && !refused) {
                    bad.push(format!("{who} {what}: {}", r.status));
                }
                if !public {
                    bad.extend(leaks(&secrets_of_a, &url, &r, &format!("{who} {what}")));
                }
            }
            // A's own people: never 401 with a valid token, never a 500.
            for (who, tok) in insiders {
                let r = call(c, method, &url, Some(tok), &body).await;
                if r.status.is_server_error() || r.status == StatusCode::UNAUTHORIZED {
                    bad.push(format!("{who} {what}: {}", r.status));
                }
                if r.status.is_success() {
                    real_2xx.extend(kinds.iter().copied());
                }
            }
        }
    }
    // Writes, by anonymous and by B's users, on A's objects: refused, and
    // nothing written.
    let (mut gated, mut ungated) = (0, BTreeSet::new());
    for (what, url, public, on_a, body) in &writes_later {
        let method = what.split(' ').next().unwrap().to_lowercase();
        let r = call(c, &method, url, None, body).await;
        if r.status.is_server_error() || (!public && r.status != StatusCode::UNAUTHORIZED) {
            bad.push(format!("anonymous {what}: {}", r.status));
        }
        for (who, tok) in outsiders {
            let r = call(c, &method, url, Some(tok), body).await;
            gated += matches!(r.status.as_u16(), 403 | 404) as usize;
            if !matches!(r.status.as_u16(), 403 | 404) {
                ungated.insert(format!("{what} ({})", r.status.as_u16()));
            }
            // Refused by the gate, or by the body's check (which runs as the
            // request is read, before the handler; nothing is learnt of A).
            let refused = matches!(r.status.as_u16(), 400 | 403 | 404 | 422);
            if r.status.is_server_error() || r.status.is_success() || (*on_a && !public && !refused)
            {
                bad.push(format!("{who} {what}: {} {:.200}", r.status, r.body));
            }
        }
    }
    let after = counts(db).await;
    // A resident never acts as staff: of the writes on this compound's rows,
    // A's owner succeeds only in what an owner does.
    let (resident, tok) = &insiders[0];
    assert_eq!(*resident, "owner");
    for (what, url, _, _, body) in &writes_later {
        let method = what.split(' ').next().unwrap().to_lowercase();
        let r = call(c, &method, url, Some(tok), body).await;
        let path = what.split(' ').nth(1).unwrap();
        if r.status.is_server_error() || (r.status.is_success() && !RESIDENT_MAY.contains(&path)) {
            bad.push(format!("{resident} {what}: {} {:.200}", r.status, r.body));
        }
    }
    for (t, n) in &before {
        if after.get(t) != Some(n) {
            bad.push(format!(
                "outsiders' writes changed {t}: {n} → {:?} rows",
                after.get(t)
            ));
        }
    }

    // Pages (GET): anonymous is sent to log in or refused unless the page is
    // public; B's users see no page of A's and nothing of A's.
    let pages = page_routes();
    assert!(pages.len() >= 15, "{pages:?}");
    for path in &pages {
        let (p, kinds) = fill(path, &ids);
        used.extend(kinds.iter().copied());
        let url = format!("{base}{p}");
        let anon = call(c, "get", &url, None, &body).await;
        let public = anon.status.is_success();
        if anon.status.is_server_error()
            || !(public
                || anon.status.is_redirection()
                || matches!(anon.status.as_u16(), 401 | 403 | 404))
        {
            bad.push(format!("anonymous page {path}: {}", anon.status));
        }
        for (who, tok) in outsiders {
            let r = call(c, "get", &url, Some(tok), &body).await;
            if r.status.is_server_error() {
                bad.push(format!("{who} page {path}: {}", r.status));
            }
            // `/claim` lists every compound's public name and code to choose
            // from (what `/api/v1/public/compounds` serves to anyone).
            if !public && path != "/claim" {
                if !kinds.is_empty() && r.status.is_success() {
                    bad.push(format!("{who} page {path}: {}", r.status));
                }
                bad.extend(leaks(
                    &secrets_of_a,
                    &url,
                    &r,
                    &format!("{who} page {path}"),
                ));
            }
        }
        for (who, tok) in insiders {
            let r = call(c, "get", &url, Some(tok), &body).await;
            if r.status.is_server_error() {
                bad.push(format!("{who} page {path}: {}", r.status));
            }
            if r.status.is_success() {
                real_2xx.extend(kinds.iter().copied());
            }
        }
    }
    assert!(ops >= 100, "only {ops} operations in the OpenAPI document");
    // The ids are real: each kind of row the demo has was served to A's
    // people at least once (so the refusals above are not just unknown ids).
    let mut unproven: Vec<&str> = used
        .iter()
        .filter(|k| matches!(ids.get(*k), Some(Some(_))) && !real_2xx.contains(*k))
        .copied()
        .collect();
    unproven.retain(|k| !["step", "period", "key", "name"].contains(k));
    if !unproven.is_empty() {
        bad.push(format!(
            "A's people were served none of these rows: {unproven:?}"
        ));
    }
    let missing: Vec<_> = ids
        .iter()
        .filter(|(_, v)| v.is_none())
        .map(|(k, _)| *k)
        .collect();
    eprintln!(
        "route matrix over {code}: {ops} operations, {} pages; outsiders' writes refused by the gate: {gated} of {} (the others by the body's check: {ungated:?}); no demo row for {missing:?}",
        pages.len(),
        2 * writes_later.len()
    );
    bad
}

both!(route_matrix);
