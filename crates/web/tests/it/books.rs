//! The fund's books through real HTTP on SQLite and PostgreSQL: public
//! books and proofs, idempotency, two-party approval, the cash rule under
//! concurrency, authorisation.

use gongzhi_domain::ledger::leaf_bytes;
use gongzhi_domain::merkle;
use gongzhi_domain::place::PlaceKind;
use gongzhi_domain::policy::Role;
use gongzhi_store::register;
use gongzhi_testkit::both;
use gongzhi_testkit::http::{csrf, login_at};
use gongzhi_testkit::{add_user, At, Fresh, Kind};
use reqwest::StatusCode;
use serde_json::{json, Value};

pub struct World {
    _f: Fresh,
    pub base: String,
}

/// One compound `jingcheng-mingdian` and another `yujing-huating`; users:
/// steward (steward of A), alice (committee member of A), bob (supervisor of
/// A), carol (committee member of A), owner (owner of A), other (steward of B).
async fn world(kind: Kind) -> World {
    world_with(kind, gongzhi_web::Config::default()).await
}

async fn world_with(kind: Kind, config: gongzhi_web::Config) -> World {
    let (a, b) = (At::place("晶城名邸"), At::place("御景华庭"));
    let k = gongzhi_testkit::world(kind)
        .place(None, PlaceKind::District, "武侯区", None)
        .place(Some("武侯区"), PlaceKind::Street, "簇桥街道", None)
        .place(Some("簇桥街道"), PlaceKind::Community, "锦城社区", None)
        .place(
            Some("锦城社区"),
            PlaceKind::Compound,
            "晶城名邸",
            Some("jingcheng-mingdian"),
        )
        .place(
            Some("锦城社区"),
            PlaceKind::Compound,
            "御景华庭",
            Some("yujing-huating"),
        )
        .users(&[
            ("steward", Role::Steward, a.clone()),
            ("alice", Role::CommitteeMember, a.clone()),
            ("bob", Role::Supervisor, a.clone()),
            ("carol", Role::CommitteeMember, a.clone()),
            ("owner", Role::Owner, a),
            ("other", Role::Steward, b),
        ])
        .serve(config)
        .await;
    World {
        _f: k.f,
        base: k.base,
    }
}

async fn login(w: &World, user: &str) -> reqwest::Client {
    login_at(&w.base, user).await
}

async fn post(
    c: &reqwest::Client,
    url: String,
    key: Option<&str>,
    body: Value,
) -> (StatusCode, Value) {
    let mut r = c.post(url).json(&body);
    if let Some(k) = key {
        r = r.header("Idempotency-Key", k);
    }
    let r = r.send().await.unwrap();
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}

async fn get(url: String) -> Value {
    let r = reqwest::get(url).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

const A: &str = "jingcheng-mingdian";

fn books(w: &World, rest: &str) -> String {
    format!("{}/api/v1/compounds/{A}/books/{rest}", w.base)
}
fn public(w: &World, rest: &str) -> String {
    format!("{}/api/v1/public/compounds/{A}/books/{rest}", w.base)
}

fn fee(amount: &str) -> Value {
    json!({"debit": "bank", "credit": "fee_income", "amount": amount, "code": "fee", "memo": "2026 fees"})
}

async fn bank(w: &World) -> (i64, i64) {
    let a = get(public(w, "accounts")).await;
    let b = a["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["code"] == "bank")
        .cloned()
        .unwrap_or(json!({"posted": 0, "available": 0}));
    (
        b["posted"].as_i64().unwrap(),
        b["available"].as_i64().unwrap(),
    )
}

async fn disbursement_flow_and_public_books(kind: Kind) {
    let w = world(kind).await;
    let steward = login(&w, "steward").await;
    // money in; replay; key reuse with another body
    let (s, first) = post(
        &steward,
        books(&w, "transfers"),
        Some("fee-1"),
        fee("1000.00"),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{first}");
    let (s, again) = post(
        &steward,
        books(&w, "transfers"),
        Some("fee-1"),
        fee("1000.00"),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(again["transfer"]["id"], first["transfer"]["id"]);
    let (s, p) = post(
        &steward,
        books(&w, "transfers"),
        Some("fee-1"),
        fee("999.00"),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "{p}");
    let (s, p) = post(&steward, books(&w, "transfers"), None, fee("1.00")).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(p["errors"][0]["field"], "Idempotency-Key");
    let (s, p) = post(
        &steward,
        books(&w, "transfers"),
        Some("bad"),
        json!({"debit": "wallet", "credit": "fee_income", "amount": "1.00", "code": "fee"}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(p["errors"][0]["field"], "debit");
    let (s, p) = post(&steward, books(&w, "transfers"), Some("bad2"), fee("1.001")).await;
    assert_eq!(
        (s, p["errors"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("amount"))
    );
    // money never leaves by a transfer recorded directly: not the
    // steward's, not staff's, not even within the balance
    for (k, body) in [
        (
            "out1",
            json!({"debit": "expense_repair", "credit": "bank", "amount": "1.00", "code": "x"}),
        ),
        (
            "out2",
            json!({"debit": "maintenance_interest", "credit": "maintenance_bank", "amount": "1.00", "code": "x"}),
        ),
        (
            "out3",
            json!({"debit": "steward_remuneration", "credit": "bank", "amount": "1.00", "code": "pay"}),
        ),
    ] {
        let (s, p) = post(&steward, books(&w, "transfers"), Some(k), body).await;
        assert_eq!(
            (s, p["errors"][0]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("debit")),
            "{k}: {p}"
        );
    }
    assert_eq!(bank(&w).await, (100_000, 100_000));
    // who may do what
    let owner = login(&w, "owner").await;
    let (s, _) = post(&owner, books(&w, "transfers"), Some("o1"), fee("1.00")).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let other = login(&w, "other").await;
    let (s, _) = post(&other, books(&w, "transfers"), Some("x1"), fee("1.00")).await;
    assert_eq!(
        s,
        StatusCode::NOT_FOUND,
        "another compound's steward does not even see it"
    );
    let (s, _) = post(
        &reqwest::Client::new(),
        books(&w, "transfers"),
        Some("x2"),
        fee("1.00"),
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);

    // a disbursement: request, two approvals by different people in different roles
    let body = json!({"purpose": "corridor light bulb, building 3", "payee": "Sanxia Electric", "amount": "35.00", "category": "expense_repair", "documents": ["invoice 0042", "photo of the bulb"]});
    let (s, d) = post(&steward, books(&w, "disbursements"), Some("d1"), body).await;
    assert_eq!(s, StatusCode::CREATED, "{d}");
    let id = d["disbursement"]["id"].as_str().unwrap().to_string();
    let approve = |c: reqwest::Client, k: &'static str| {
        let url = books(&w, &format!("disbursements/{id}/approve"));
        async move { post(&c, url, Some(k), json!({})).await }
    };
    let (s, p) = approve(owner.clone(), "ap0").await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{p}");
    let alice = login(&w, "alice").await;
    let (s, p) = approve(alice.clone(), "ap1").await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    assert_eq!(p["disbursement"]["state"], "pending");
    assert_eq!(bank(&w).await, (100_000, 100_000 - 3_500));
    let (s, p) = approve(alice.clone(), "ap2").await;
    assert_eq!(
        s,
        StatusCode::CONFLICT,
        "one person never approves twice: {p}"
    );
    let carol = login(&w, "carol").await;
    let (s, p) = approve(carol, "ap3").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "same role twice: {p}");
    assert_eq!(p["errors"][0]["field"], "role");
    let bob = login(&w, "bob").await;
    let (s, p) = approve(bob.clone(), "ap4").await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    assert_eq!(p["disbursement"]["state"], "posted");
    let (s, _) = approve(bob, "ap5").await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_eq!(bank(&w).await, (100_000 - 3_500, 100_000 - 3_500));

    // public: the board shows it with roles, no user ids
    let pd = get(public(&w, "disbursements")).await;
    assert_eq!(pd["disbursements"][0]["state"], "posted");
    assert_eq!(pd["disbursements"][0]["amount_yuan"], "35.00");
    assert_eq!(pd["disbursements"][0]["second_role"], "supervisor");
    assert!(pd["disbursements"][0].get("first_by").is_none());

    // public: checkpoint signed by the served key, entries hash to the root
    let key = get(format!("{}/api/v1/public/books/key", w.base)).await;
    let (name, vk) = merkle::parse_verifier_key(key["vkey"].as_str().unwrap()).unwrap();
    let note = reqwest::get(public(&w, "checkpoint"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let cp = merkle::Checkpoint::parse_body(merkle::open_note(&note, &name, &vk).unwrap()).unwrap();
    assert_eq!(cp.origin, format!("gongzhi/books/{A}"));
    assert_eq!(
        cp.size, 6,
        "fee, request, pending, approval, post, approval"
    );
    let ts = get(public(&w, "entries")).await;
    let mut tree = merkle::Tree::new();
    for t in ts["entries"].as_array().unwrap() {
        let e: gongzhi_domain::book_entries::Entry = serde_json::from_value(t.clone()).unwrap();
        tree.push(&e.leaf_bytes(&cp.origin));
    }
    assert_eq!(tree.root(), cp.root);
    assert_eq!(ts["entries"][1]["entry"], "record");
    assert_eq!(ts["entries"][1]["body"]["type"], "disbursement_request");
    assert_eq!(ts["entries"][5]["body"]["role"], "supervisor");
    // the transfers list keeps only transfers, at their log positions
    let only = get(public(&w, "transfers")).await;
    let seqs: Vec<u64> = only["transfers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, [0, 2, 4]);
    let t0: gongzhi_domain::ledger::Transfer =
        serde_json::from_value(only["transfers"][0].clone()).unwrap();
    assert_eq!(
        tree.leaf_hashes()[0],
        merkle::leaf_hash(&leaf_bytes(&cp.origin, &t0))
    );
    let leaves = get(public(&w, "leaves")).await;
    assert_eq!(leaves["leaves"][1], merkle::hex(&tree.leaf_hashes()[1]));
    // a range at the end of i64 is empty, not a server fault (found by the fuzzer)
    for rest in [
        "leaves?from=9223372036854775806",
        "leaves?from=9223372036854775807&limit=10000",
        "entries?from=9223372036854775806&limit=10000",
    ] {
        let far = get(public(&w, rest)).await;
        let list = far.get("leaves").or_else(|| far.get("entries"));
        assert_eq!(
            list.and_then(|l| l.as_array()).map(Vec::len),
            Some(0),
            "{rest}: {far}"
        );
    }
    let ip = get(public(&w, "proof/inclusion?index=1&size=6")).await;
    let proof: Vec<merkle::Hash> = ip["proof"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| merkle::from_hex(h.as_str().unwrap()).unwrap())
        .collect();
    merkle::verify_inclusion(&tree.leaf_hashes()[1], 1, 6, &proof, &cp.root).unwrap();
    let cpf = get(public(&w, "proof/consistency?old=1&new=6")).await;
    let proof: Vec<merkle::Hash> = cpf["proof"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| merkle::from_hex(h.as_str().unwrap()).unwrap())
        .collect();
    merkle::verify_consistency(1, 6, &proof, &tree.root_at(1).unwrap(), &cp.root).unwrap();
    let r = reqwest::get(public(&w, "proof/inclusion?index=0&size=9"))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = reqwest::get(format!(
        "{}/api/v1/public/compounds/nope/books/accounts",
        w.base
    ))
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // the public board page: no login, roles not names
    let r = reqwest::get(format!("{}/compounds/{A}/books?lang=en", w.base))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("corridor light bulb, building 3")
            && html.contains("Paid")
            && html.contains("committee member + Supervisor")
            && !html.contains("committee_member"),
        "{html}"
    );
    assert!(
        html.contains("gongzhi/books/jingcheng-mingdian") && html.contains("965.00"),
        "{html}"
    );
    let r = reqwest::get(format!("{}/compounds/nope/books", w.base))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // void of a pending disbursement releases the reservation
    let body = json!({"purpose": "second bulb", "payee": "Sanxia Electric", "amount": "10.00", "category": "expense_repair"});
    let (_, d) = post(&steward, books(&w, "disbursements"), Some("d2"), body).await;
    let id2 = d["disbursement"]["id"].as_str().unwrap().to_string();
    post(
        &alice,
        books(&w, &format!("disbursements/{id2}/approve")),
        Some("d2a"),
        json!({}),
    )
    .await;
    let (s, v) = post(
        &alice,
        books(&w, &format!("disbursements/{id2}/void")),
        Some("d2v"),
        json!({"reason": "duplicate"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(bank(&w).await, (100_000 - 3_500, 100_000 - 3_500));
    // the policy can be changed only by whoever manages access
    let r = alice
        .put(books(&w, "policy"))
        .json(&json!({"approver_roles": ["committee_member", "steward"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

async fn concurrent_withdrawals_and_keys(kind: Kind) {
    let w = world(kind).await;
    let steward = login(&w, "steward").await;
    let (s, _) = post(
        &steward,
        books(&w, "transfers"),
        Some("seed"),
        fee("10000.00"),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    // fifty requests of 60% each; their first approvals (which reserve the
    // money) all at once: exactly one fits
    let mut ids = Vec::new();
    for i in 0..50 {
        let body = json!({"purpose": format!("withdrawal {i}"), "payee": "x", "amount": "6000.00", "category": "expense_other"});
        let (s, d) = post(
            &steward,
            books(&w, "disbursements"),
            Some(&format!("r{i}")),
            body,
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{d}");
        ids.push(d["disbursement"]["id"].as_str().unwrap().to_string());
    }
    let alice = login(&w, "alice").await;
    let mut hs = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        let (c, url) = (
            alice.clone(),
            books(&w, &format!("disbursements/{id}/approve")),
        );
        hs.push(tokio::spawn(async move {
            post(&c, url, Some(&format!("w{i}")), json!({})).await.0
        }));
    }
    let mut created = 0;
    for h in hs {
        match h.await.unwrap() {
            StatusCode::CREATED => created += 1,
            StatusCode::UNPROCESSABLE_ENTITY => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(created, 1, "exactly one 60% withdrawal succeeds");
    assert_eq!(bank(&w).await, (1_000_000, 400_000));
    let mut hs = Vec::new();
    for _ in 0..20 {
        let (c, url) = (steward.clone(), books(&w, "transfers"));
        hs.push(tokio::spawn(async move {
            post(&c, url, Some("same-key"), fee("1.00")).await
        }));
    }
    let mut ids = std::collections::BTreeSet::new();
    for h in hs {
        let (s, v) = h.await.unwrap();
        assert!(s == StatusCode::CREATED || s == StatusCode::OK, "{s} {v}");
        ids.insert(v["transfer"]["id"].as_str().unwrap().to_string());
    }
    assert_eq!(ids.len(), 1, "one transfer for one key");
    assert_eq!(bank(&w).await, (1_000_100, 400_100));
}

async fn billing_endpoints(kind: Kind) {
    let w = world(kind).await;
    let steward = login(&w, "steward").await;
    let body =
        json!({"period": "2026-11", "rate_flat": "1.50", "rate_shop": "4.00", "rate_parking": "0"});
    let (s, p) = post(
        &steward,
        books(&w, "billing-runs"),
        Some("b1"),
        body.clone(),
    )
    .await;
    assert_eq!(
        (s, p["errors"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("rates")),
        "no parts, nothing to bill: {p}"
    );
    let (s, p) = post(
        &steward,
        books(&w, "billing-runs"),
        Some("b2"),
        json!({"period": "2026-11", "rate_flat": "-1", "rate_shop": "4.00", "rate_parking": "0"}),
    )
    .await;
    assert_eq!(
        (s, p["errors"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("rate_flat")),
        "{p}"
    );
    let owner = login(&w, "owner").await;
    let (s, _) = post(&owner, books(&w, "billing-runs"), Some("b3"), body).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = post(
        &steward,
        books(&w, "bills/nope/payments"),
        Some("p1"),
        json!({"amount": "1.00", "method": "cash"}),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let r = reqwest::get(public(&w, "collection/2026-13"))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let c = get(public(&w, "collection/2026-11")).await;
    assert_eq!(c["collection"]["bills"], 0);
}

both!(
    disbursement_flow_and_public_books,
    concurrent_withdrawals_and_keys,
    billing_endpoints
);

async fn form(c: &reqwest::Client, url: String, fields: &[(&str, &str)]) -> (StatusCode, String) {
    gongzhi_testkit::http::form(c, url, fields, true).await
}

/// The steward books a fee of 1000.00 and requests a disbursement of 35.00
/// (楼道灯泡): the steward's client and the disbursement's id.
async fn requested_disbursement(w: &World) -> (reqwest::Client, String) {
    let steward = login(w, "steward").await;
    let (s, _) = post(&steward, books(w, "transfers"), Some("f"), fee("1000.00")).await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, d) = post(
        &steward,
        books(w, "disbursements"),
        Some("q1"),
        json!({"purpose": "楼道灯泡", "payee": "三峡电器", "amount": "35.00", "category": "expense_repair", "documents": ["发票 0042"]}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{d}");
    let id = d["disbursement"]["id"].as_str().unwrap().to_string();
    (steward, id)
}

async fn approval_queue_page(kind: Kind) {
    let w = world(kind).await;
    let (steward, id) = requested_disbursement(&w).await;
    let queue = format!("{}/compounds/{A}/books/queue", w.base);
    let act = |what: &str| format!("{}/compounds/{A}/books/queue/{id}/{what}", w.base);

    // the committee member sees it with buttons
    let alice = login(&w, "alice").await;
    let html = alice
        .get(&queue)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("楼道灯泡") && html.contains("class=\"approve\""),
        "{html}"
    );
    assert!(html.contains("hx-post=\"/compounds/jingcheng-mingdian/books/queue/"));
    // the steward holds no approver role here (committee + supervisor): view only
    let html = steward
        .get(&queue)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("id=\"no-role\"") && !html.contains("class=\"approve\""),
        "{html}"
    );
    let (s, _) = form(&steward, act("approve"), &[("key", "s1")]).await;
    assert_eq!(s, StatusCode::OK);
    // an owner and a steward of another compound are refused the page
    let owner = login(&w, "owner").await;
    assert_eq!(
        owner.get(&queue).send().await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    let other = login(&w, "other").await;
    assert_eq!(
        other.get(&queue).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    let (s, _) = form(&other, act("approve"), &[("key", "o1")]).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // anonymous: no
    let anon = reqwest::get(&queue).await.unwrap().status();
    assert!(
        anon == StatusCode::UNAUTHORIZED || anon.is_redirection(),
        "{anon}"
    );

    // alice approves: the row comes back pending, naming her
    let (s, row) = form(&alice, act("approve"), &[("key", "a1")]).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        row.contains("data-state=\"pending\"") && row.contains("alice (业委会委员)"),
        "{row}"
    );
    // the same click again (same key): replayed, no error
    let (_, row) = form(&alice, act("approve"), &[("key", "a1")]).await;
    assert!(!row.contains("role=\"alert\""), "{row}");
    // alice again with a fresh key: refused, still pending
    let (_, row) = form(&alice, act("approve"), &[("key", "a2")]).await;
    assert!(
        row.contains("role=\"alert\"") && row.contains("different person"),
        "{row}"
    );
    assert!(row.contains("data-state=\"pending\""));
    // carol: same role as alice — refused
    let carol = login(&w, "carol").await;
    let (_, row) = form(&carol, act("approve"), &[("key", "c1")]).await;
    assert!(
        row.contains("role=\"alert\"") && row.contains("supervisor"),
        "{row}"
    );
    // bob (监督人) posts it
    let bob = login(&w, "bob").await;
    let (_, row) = form(&bob, act("approve"), &[("key", "b1")]).await;
    assert!(
        row.contains("data-state=\"posted\"") && row.contains("bob (监督人)"),
        "{row}"
    );
    assert!(!row.contains("class=\"approve\""));
    assert_eq!(bank(&w).await, (100_000 - 3_500, 100_000 - 3_500));
    // no longer in the queue; on the public board as paid
    let html = alice
        .get(&queue)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("id=\"queue-empty\""), "{html}");
    let board = reqwest::get(format!("{}/compounds/{A}/books", w.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(board.contains("楼道灯泡") && board.contains("data-state=\"posted\""));

    // void from the page needs a reason; then it is voided
    let (_, d2) = post(
        &steward,
        books(&w, "disbursements"),
        Some("q2"),
        json!({"purpose": "重复申请", "payee": "x", "amount": "1.00", "category": "expense_other"}),
    )
    .await;
    let id2 = d2["disbursement"]["id"].as_str().unwrap().to_string();
    let void2 = format!("{}/compounds/{A}/books/queue/{id2}/void", w.base);
    let (_, row) = form(&alice, void2.clone(), &[("key", "v1"), ("reason", " ")]).await;
    assert!(
        row.contains("role=\"alert\"") && row.contains("reason"),
        "{row}"
    );
    let (s, _) = form(&steward, void2.clone(), &[("key", "v2"), ("reason", "dup")]).await;
    assert_eq!(
        s,
        StatusCode::FORBIDDEN,
        "a steward holds no approver role here"
    );
    let (_, row) = form(&alice, void2, &[("key", "v3"), ("reason", "duplicate")]).await;
    assert!(row.contains("data-state=\"voided\""), "{row}");
}

both!(approval_queue_page);

/// The attack: a page on another site posts the approve form with the
/// victim's cookie (the idempotency key is the attacker's choice). Refused
/// when the browser says it is cross-site and whenever the session's CSRF
/// token is missing or wrong; nothing is approved; the real form still works.
async fn approval_refuses_forged_posts(kind: Kind) {
    let w = world(kind).await;
    let (_, id) = requested_disbursement(&w).await;
    let approve = format!("{}/compounds/{A}/books/queue/{id}/approve", w.base);
    let alice = login(&w, "alice").await;
    let token = csrf(&alice, &approve).await;
    assert_eq!(token.len(), 64, "every page carries the session's token");
    let forged = |fields: Vec<(&'static str, String)>,
                  headers: Vec<(&'static str, &'static str)>| {
        let mut r = alice
            .post(&approve)
            .header("HX-Request", "true")
            .form(&fields);
        for (k, v) in headers {
            r = r.header(k, v);
        }
        async move {
            let r = r.send().await.unwrap();
            let ct = r.headers()["content-type"].to_str().unwrap().to_string();
            (r.status(), ct, r.text().await.unwrap())
        }
    };
    let good = || vec![("key", "k1".to_string()), ("csrf", token.clone())];
    let cases = [
        (good(), vec![("Origin", "https://evil.example")]),
        (good(), vec![("Sec-Fetch-Site", "cross-site")]),
        (good(), vec![("Sec-Fetch-Site", "same-site")]),
        (vec![("key", "k1".to_string())], vec![]),
        (
            vec![("key", "k1".to_string()), ("csrf", "00".repeat(32))],
            vec![],
        ),
        (
            vec![("key", "k1".to_string()), ("csrf", String::new())],
            vec![],
        ),
    ];
    for (fields, headers) in cases {
        let what = format!("{fields:?} {headers:?}");
        let (s, ct, body) = forged(fields, headers).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{what}");
        assert!(ct.starts_with("text/html"), "{what}: {ct}");
        assert!(body.contains("403"), "{what}: {body}");
    }
    // another session's token is no good either
    let bob = login(&w, "bob").await;
    let bobs = csrf(&bob, &approve).await;
    assert_ne!(bobs, token, "the token is per session");
    let (s, _, _) = forged(vec![("key", "k1".into()), ("csrf", bobs)], vec![]).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // nothing was approved
    let queue = format!("{}/compounds/{A}/books/queue", w.base);
    let html = alice
        .get(&queue)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("data-state=\"requested\""), "{html}");
    assert!(!html.contains("alice (业委会委员)"), "{html}");
    assert!(
        html.contains(&format!("name=\"csrf\" value=\"{token}\"")),
        "the buttons' forms carry the token: {html}"
    );
    // the real form: same origin, the token as htmx sends it (header) or as a field
    let (s, _, row) = forged(
        vec![("key", "k1".into())],
        vec![("Sec-Fetch-Site", "same-origin")],
    )
    .await;
    assert_eq!(
        s,
        StatusCode::FORBIDDEN,
        "same origin still needs the token: {row}"
    );
    let r = alice
        .post(&approve)
        .header("HX-Request", "true")
        .header("Sec-Fetch-Site", "same-origin")
        .header("Origin", w.base.clone())
        .header("X-CSRF-Token", token.clone())
        .form(&[("key", "k1")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let row = r.text().await.unwrap();
    assert!(
        row.contains("data-state=\"pending\"") && row.contains("alice (业委会委员)"),
        "{row}"
    );
}

both!(approval_refuses_forged_posts);

/// Imports two parts into compound A (晶城名邸) so that owners can vote.
async fn parts_in_a(w: &World) -> register::Place {
    use gongzhi_domain::money::Area;
    use gongzhi_domain::place::{AreaBasis, OwnerKind, PartKind};
    use gongzhi_domain::roster::RosterRow;
    let row = |i: usize, number: &str| RosterRow {
        row: i + 2,
        district: "武侯区".into(),
        street: "簇桥街道".into(),
        community: "锦城社区".into(),
        compound: "晶城名邸".into(),
        building: "1".into(),
        unit: "1".into(),
        number: number.into(),
        kind: PartKind::Flat,
        area: Area(8950),
        area_basis: AreaBasis::Registered,
        owner_key: format!("o-{i}"),
        owner_name: format!("业主{i}"),
        owner_kind: OwnerKind::Person,
        phone: String::new(),
    };
    gongzhi_store::import::import_roster(
        &w._f.db,
        "t",
        vec![row(0, "101"), row(1, "102")],
        false,
        std::sync::Arc::new(|_| {}),
    )
    .await
    .unwrap();
    let a = register::place_by_code(&w._f.db, A).await.unwrap();
    assert_eq!(register::count_parts_under(&w._f.db, &a).await.unwrap(), 2);
    a
}

async fn budget_endpoints(kind: Kind) {
    use gongzhi_domain::vote::Choice;
    let w = world(kind).await;
    let a = parts_in_a(&w).await;
    let passed = gongzhi_testkit::vote(&w._f.db, &a, Choice::Yes, true).await;
    let failed = gongzhi_testkit::vote(&w._f.db, &a, Choice::No, true).await;
    let year = get(public(&w, "budget")).await["budget"]["year"]
        .as_i64()
        .unwrap();
    let body = |vote: &str| {
        json!({"year": year, "vote_id": vote, "lines": [
            {"category": "expense_repair", "amount": "1000.00"},
            {"category": "expense_cleaning", "amount": "500.00"}]})
    };
    let alice = login(&w, "alice").await;
    let steward = login(&w, "steward").await;
    let (s, p) = post(&steward, books(&w, "budgets"), Some("b0"), body(&passed)).await;
    assert_eq!(
        s,
        StatusCode::FORBIDDEN,
        "the steward does not adopt budgets: {p}"
    );
    let (s, p) = post(&alice, books(&w, "budgets"), Some("b1"), body(&failed)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert_eq!(p["errors"][0]["field"], "vote_id");
    let mut bad = body(&passed);
    bad["lines"][1]["amount"] = json!("5.001");
    let (s, p) = post(&alice, books(&w, "budgets"), Some("b2"), bad).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert_eq!(p["errors"][0]["field"], "lines[1].amount");
    let (s, p) = post(&alice, books(&w, "budgets"), None, body(&passed)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    let (s, p) = post(&alice, books(&w, "budgets"), Some("b3"), body(&passed)).await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    assert_eq!(p["record"]["body"]["type"], "budget");
    // spend 35.00 on repair
    let (s, _) = post(&steward, books(&w, "transfers"), Some("f"), fee("1000.00")).await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, d) = post(
        &steward,
        books(&w, "disbursements"),
        Some("r"),
        json!({"purpose": "repair", "payee": "x", "amount": "35.00", "category": "expense_repair"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{d}");
    let id = d["disbursement"]["id"].as_str().unwrap();
    let bob = login(&w, "bob").await;
    for (c, k) in [(&alice, "r1"), (&bob, "r2")] {
        let (s, p) = post(
            c,
            books(&w, &format!("disbursements/{id}/approve")),
            Some(k),
            json!({}),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{p}");
    }
    let r = get(public(&w, "budget")).await;
    let lines = r["budget"]["lines"].as_array().unwrap();
    assert_eq!(lines[0]["category"], "expense_repair");
    assert_eq!(
        (lines[0]["budget"].as_i64(), lines[0]["actual"].as_i64()),
        (Some(100_000), Some(3_500))
    );
    assert_eq!(lines[0]["remaining"], 96_500);
    assert_eq!(r["budget"]["vote_id"], passed);
    let r = reqwest::get(format!("{}?year=1999", public(&w, "budget")))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // on the public board
    let html = reqwest::get(format!("{}/compounds/{A}/books", w.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(&format!("<code id=\"budget-vote\">{passed}</code>")),
        "{html}"
    );
    assert!(html.contains("<tr data-category=\"expense_repair\"><td>维修支出</td><td class=\"num\">1000.00</td><td class=\"num\">35.00</td><td class=\"num\">965.00</td><td class=\"num\">3.50</td></tr>"), "{html}");
    // verify recomputes the budget leaf with the others
    let es = get(public(&w, "entries")).await;
    assert_eq!(es["entries"][0]["body"]["type"], "budget");
}

both!(budget_endpoints);

async fn emergency_and_settings_endpoints(kind: Kind) {
    let w = world(kind).await;
    let steward = login(&w, "steward").await;
    let alice = login(&w, "alice").await;
    let settings = format!("{}/api/v1/compounds/{A}/books/settings", w.base);
    // only the committee (or staff) sets how the books run
    let r = steward
        .put(&settings)
        .json(&json!({"remuneration_mode": "trust", "remuneration_percent": "12.00"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = alice
        .put(&settings)
        .json(&json!({"remuneration_mode": "trust", "remuneration_percent": "12.005"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["errors"][0]["field"], "remuneration_percent");
    let r = alice
        .put(&settings)
        .json(&json!({"remuneration_mode": "trust", "remuneration_percent": "12.00", "emergency_roles": ["committee_member", "nobody"]}))
        .send()
        .await
        .unwrap();
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["errors"][0]["field"], "emergency_roles[1]");
    let r = alice
        .put(&settings)
        .json(&json!({"remuneration_mode": "trust", "remuneration_percent": "12.00", "emergency_roles": ["committee_member", "steward"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["settings"]["remuneration_bp"], 1200);

    // an emergency use from the maintenance fund, no vote
    let (s, _) = post(
        &steward,
        books(&w, "transfers"),
        Some("mf"),
        json!({"debit": "maintenance_bank", "credit": "maintenance_interest", "amount": "50000.00", "code": "interest"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let lift = |e: &str| {
        json!({"purpose": "电梯停运", "payee": "电梯公司", "amount": "1800.00", "category": "expense_repair",
               "source": "maintenance_interest", "emergency": e})
    };
    let (s, p) = post(
        &steward,
        books(&w, "disbursements"),
        Some("e0"),
        lift("bored"),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(p["errors"][0]["field"], "emergency");
    let (s, p) = post(
        &steward,
        books(&w, "disbursements"),
        Some("e1"),
        lift("elevator_stopped"),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    let id = p["disbursement"]["id"].as_str().unwrap().to_string();
    // published at once, flagged on the public board before any approval
    let pd = get(public(&w, "disbursements")).await;
    assert_eq!(pd["disbursements"][0]["emergency"], "elevator_stopped");
    let es = get(public(&w, "entries")).await;
    assert_eq!(es["entries"][2]["body"]["type"], "publication");
    let approve = |c: reqwest::Client, key: &'static str| {
        let url = books(&w, &format!("disbursements/{id}/approve"));
        async move { post(&c, url, Some(key), json!({})).await }
    };
    // the emergency roles approve: committee and steward (not the supervisor)
    let bob = login(&w, "bob").await;
    let (s, p) = approve(bob, "b").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    let (s, _) = approve(alice, "a").await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, p) = approve(steward.clone(), "s").await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    assert_eq!(p["transfer"]["code"], "emergency");
    let board = reqwest::get(format!("{}/compounds/{A}/books", w.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        board.contains("data-state=\"posted\" data-emergency=\"elevator_stopped\""),
        "{board}"
    );
    // nobody posts the emergency code by hand
    let (s, p) = post(
        &steward,
        books(&w, "transfers"),
        Some("x"),
        json!({"debit": "expense_repair", "credit": "bank", "amount": "1.00", "code": "emergency"}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(p["errors"][0]["field"], "code");
}

both!(emergency_and_settings_endpoints);

/// A's parts billed for 2026-10 by the steward (flat 1.50, shop 4.00,
/// parking 1.00 per m²): the bill ids.
async fn billed_october(w: &World, steward: &reqwest::Client) -> Vec<String> {
    parts_in_a(w).await;
    let (s, p) = post(
        steward,
        books(w, "billing-runs"),
        Some("b"),
        json!({"period": "2026-10", "rate_flat": "1.50", "rate_shop": "4.00", "rate_parking": "1.00"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    sqlx::query("SELECT id FROM fund_bills ORDER BY id")
        .fetch_all(w._f.db.reader())
        .await
        .unwrap()
        .iter()
        .map(|r| sqlx::Row::try_get(r, "id").unwrap())
        .collect()
}

async fn gateway_and_waiver_endpoints(kind: Kind) {
    let w = world_with(
        kind,
        gongzhi_web::Config {
            sandbox_payments: true,
            ..Default::default()
        },
    )
    .await;
    let steward = login(&w, "steward").await;
    let bills = billed_october(&w, &steward).await;
    // an owner not owning the bill (no linked owner) cannot start paying it
    let owner = login(&w, "owner").await;
    let intents = |b: &str| books(&w, &format!("bills/{b}/intents"));
    let (s, _) = post(&owner, intents(&bills[0]), Some("i0"), json!({})).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, p) = post(&steward, intents(&bills[0]), Some("i1"), json!({})).await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    let intent = p["intent"]["id"].as_str().unwrap().to_string();
    assert_eq!(p["intent"]["amount"], 13425);
    // a forged callback is refused at the public endpoint
    let cb = format!("{}/api/v1/payments/sandbox/callback", w.base);
    let body = json!({"event_id": "e1", "intent_id": intent, "amount": 13425, "status": "paid", "at": gongzhi_store::db::now_ms()}).to_string();
    let http = reqwest::Client::new();
    let r = http
        .post(&cb)
        .body(body.clone())
        .header("Gongzhi-Signature", "00".repeat(64))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = http.post(&cb).body(body.clone()).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "no signature");
    // only the intent's payer pays it in the sandbox: not another user of the
    // compound, not another compound's steward
    let pay = format!("{}/api/v1/payments/sandbox/pay/{intent}", w.base);
    let other = login(&w, "other").await;
    for c in [&owner, &other] {
        let (s, p) = post(c, pay.clone(), None, json!({})).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{p}");
    }
    assert_eq!(
        get(public(&w, "collection/2026-10")).await["collection"]["paid"],
        0
    );
    // the sandbox pays: its signed callback confirms
    let (s, p) = post(&steward, pay, None, json!({})).await;
    assert_eq!(s, StatusCode::OK, "{p}");
    assert_eq!(p["confirmation"]["state"], "paid");
    // received by the gateway, not yet in the bank
    let acct = |a: &Value, code: &str| {
        a["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["code"] == code)
            .map_or(0, |x| x["posted"].as_i64().unwrap())
    };
    let a = get(public(&w, "accounts")).await;
    assert_eq!((acct(&a, "gateway_clearing"), acct(&a, "bank")), (13425, 0));
    // the gateway's settlement moves it into the bank, never more than it holds
    let settle = |amount: &str| json!({"debit": "bank", "credit": "gateway_clearing", "amount": amount, "code": "settlement", "memo": "sandbox settlement"});
    let (s, st) = post(
        &steward,
        books(&w, "transfers"),
        Some("st0"),
        settle("134.26"),
    )
    .await;
    assert_eq!(
        (s, st["errors"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("amount")),
        "{st}"
    );
    let (s, st) = post(
        &steward,
        books(&w, "transfers"),
        Some("st1"),
        settle("134.25"),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{st}");
    let a = get(public(&w, "accounts")).await;
    assert_eq!((acct(&a, "gateway_clearing"), acct(&a, "bank")), (0, 13425));
    // the very same callback delivered again: refused as a replay
    let r = http
        .post(&cb)
        .body(p["callback"]["body"].as_str().unwrap().to_string())
        .header(
            "Gongzhi-Signature",
            p["callback"]["signature"].as_str().unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let c = get(public(&w, "collection/2026-10")).await;
    assert_eq!(c["collection"]["paid"], 13425);

    // a hardship waiver: the steward and the party branch
    let (s, p) = post(
        &steward,
        books(&w, &format!("bills/{}/waivers", bills[1])),
        None,
        json!({"amount": "134.25", "reason": "低保户"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    let wid = p["waiver"]["id"].as_str().unwrap().to_string();
    let approve = books(&w, &format!("waivers/{wid}/approve"));
    let alice = login(&w, "alice").await;
    let (s, p) = post(&alice, approve.clone(), None, json!({})).await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a committee member is neither side: {p}"
    );
    let (s, p) = post(&steward, approve.clone(), None, json!({})).await;
    assert_eq!(s, StatusCode::OK, "{p}");
    assert_eq!(p["waiver"]["state"], "requested");
    let (s, _) = post(&steward, approve.clone(), None, json!({})).await;
    assert_eq!(s, StatusCode::CONFLICT);
}

both!(gateway_and_waiver_endpoints);

/// A default server has no payment gateway: nobody pays a bill online
/// without money, and the sandbox's endpoints do not exist.
async fn no_sandbox_by_default(kind: Kind) {
    let w = world(kind).await;
    let steward = login(&w, "steward").await;
    let bill = billed_october(&w, &steward).await.remove(0);
    let (s, p) = post(
        &steward,
        books(&w, &format!("bills/{bill}/intents")),
        Some("i"),
        json!({}),
    )
    .await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{p}");
    assert!(
        p["detail"].as_str().unwrap().contains("no payment gateway"),
        "{p}"
    );
    // the intent id of a real payment is irrelevant: the route is gone
    for url in ["payments/sandbox/pay/any", "payments/sandbox/callback"] {
        let (s, p) = post(
            &steward,
            format!("{}/api/v1/{url}", w.base),
            None,
            json!({}),
        )
        .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{url}: {p}");
    }
    let c = get(public(&w, "collection/2026-10")).await;
    assert_eq!(c["collection"]["paid"], 0);
    assert_eq!(bank(&w).await, (0, 0));
}

/// A direct inflow is corrected by its exact reversal, once; nothing else
/// is reversible, and a reversal's amount and accounts are the original's.
async fn reversals(kind: Kind) {
    let w = world(kind).await;
    let steward = login(&w, "steward").await;
    let (s, t) = post(&steward, books(&w, "transfers"), Some("f1"), fee("100.00")).await;
    assert_eq!(s, StatusCode::CREATED, "{t}");
    let tid = t["transfer"]["id"].as_str().unwrap().to_string();
    let rev = |amount: &str, link: &str| json!({"debit": "fee_income", "credit": "bank", "amount": amount, "code": "reversal", "link": link, "memo": "entered twice"});
    for (k, body, field) in [
        ("v0", rev("100.00", &tid), "link"),
        ("v1", rev("100.00", "reverses:nope"), "link"),
        ("v2", rev("99.00", &format!("reverses:{tid}")), "amount"),
    ] {
        let (s, p) = post(&steward, books(&w, "transfers"), Some(k), body).await;
        assert_eq!(
            (s, p["errors"][0]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(field)),
            "{k}: {p}"
        );
    }
    let (s, p) = post(
        &steward,
        books(&w, "transfers"),
        Some("v3"),
        rev("100.00", &format!("reverses:{tid}")),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    assert_eq!(bank(&w).await, (0, 0));
    let (s, p) = post(
        &steward,
        books(&w, "transfers"),
        Some("v4"),
        rev("100.00", &format!("reverses:{tid}")),
    )
    .await;
    assert_eq!(
        (s, p["errors"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("link")),
        "reversed once: {p}"
    );
    // the board lists every transfer of the year, outflows marked, by name
    let html = reqwest::get(format!("{}/compounds/{A}/books?lang=en", w.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("<span class=\"muted\" id=\"transfers-total\">2 transfers</span>"),
        "{html}"
    );
    assert!(
        html.contains("data-code=\"reversal\" class=\"outflow\"") && html.contains("Fee income"),
        "{html}"
    );
}

both!(no_sandbox_by_default, reversals);

async fn auditor_and_audit_flag(kind: Kind) {
    let w = world(kind).await;
    let a_id = register::place_by_code(&w._f.db, A).await.unwrap().id;
    add_user(&w._f.db, "auditor", Role::Auditor, Some(&a_id), None).await;
    let steward = login(&w, "steward").await;
    // no maintenance fund: no flag
    let a = get(public(&w, "audit")).await;
    assert_eq!(
        (
            a["audit"]["has_maintenance_fund"].as_bool(),
            a["audit"]["due"].as_bool()
        ),
        (Some(false), Some(false))
    );
    let (s, _) = post(
        &steward,
        books(&w, "transfers"),
        Some("mf"),
        json!({"debit": "maintenance_bank", "credit": "maintenance_principal", "amount": "5000000.00", "code": "opening"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, _) = post(&steward, books(&w, "transfers"), Some("f"), fee("100.00")).await;
    assert_eq!(s, StatusCode::CREATED);
    // a maintenance fund never audited: due, shown to owners and the committee
    let a = get(public(&w, "audit")).await;
    assert_eq!(a["audit"]["due"], true);
    let board = reqwest::get(format!("{}/compounds/{A}/books", w.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(board.contains("id=\"audit-due\""), "{board}");
    let alice = login(&w, "alice").await;
    let q = alice
        .get(format!("{}/compounds/{A}/books/queue", w.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(q.contains("id=\"audit-due\""));

    // the auditor reads everything, documents included…
    let auditor = login(&w, "auditor").await;
    let (s, d) = post(
        &steward,
        books(&w, "disbursements"),
        Some("d"),
        json!({"purpose": "楼道灯", "payee": "x", "amount": "35.00", "category": "expense_repair", "documents": ["发票 0042"]}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let id = d["disbursement"]["id"].as_str().unwrap().to_string();
    let r = auditor.get(books(&w, "private")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["disbursements"][0]["documents"][0], "发票 0042");
    // …but moves no money and approves nothing
    let (s, _) = post(
        &auditor,
        books(&w, &format!("disbursements/{id}/approve")),
        Some("x1"),
        json!({}),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = post(&auditor, books(&w, "transfers"), Some("x2"), fee("1.00")).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = post(
        &auditor,
        books(&w, "disbursements"),
        Some("x3"),
        json!({"purpose": "p", "payee": "x", "amount": "1.00", "category": "expense_other"}),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // an owner does not read the private books
    let owner = login(&w, "owner").await;
    assert_eq!(
        owner
            .get(books(&w, "private"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );
    // the auditor of A is nobody in B
    let other = format!("{}/api/v1/compounds/yujing-huating/books/private", w.base);
    assert_eq!(
        auditor.get(other).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );

    // recording an audit: the auditor only; fields checked
    let audit = |on: &str| {
        json!({"scope": "maintenance_fund", "period_from": "2023-01", "period_to": "2025-12", "audited_on": on,
               "summary": "账实相符", "document_sha256": "ab".repeat(32)})
    };
    let (s, _) = post(&alice, books(&w, "audits"), None, audit("2025-06-30")).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "the committee records no audit");
    let (s, p) = post(&auditor, books(&w, "audits"), None, audit("2099-01-01")).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(p["errors"][0]["field"], "audited_on");
    let (s, p) = post(&auditor, books(&w, "audits"), None, audit("2020-01-01")).await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    assert_eq!(p["record"]["body"]["type"], "audit_report");
    // more than three years ago: still due
    let a = get(public(&w, "audit")).await;
    assert_eq!(
        (
            a["audit"]["last_audit"].as_str(),
            a["audit"]["due"].as_bool()
        ),
        (Some("2020-01-01"), Some(true))
    );
    // a recent one: not due, next due three years on
    let recent = gongzhi_domain::fund_calc::civil_from_days(
        gongzhi_domain::fund_calc::day_of_ms(gongzhi_store::db::now_ms()) - 30,
    );
    let on = format!("{:04}-{:02}-{:02}", recent.0, recent.1, recent.2);
    let (s, _) = post(&auditor, books(&w, "audits"), None, audit(&on)).await;
    assert_eq!(s, StatusCode::CREATED);
    let a = get(public(&w, "audit")).await;
    assert_eq!(a["audit"]["due"], false);
    assert_eq!(a["audit"]["last_audit"].as_str(), Some(on.as_str()));
    let board = reqwest::get(format!("{}/compounds/{A}/books", w.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!board.contains("id=\"audit-due\"") && board.contains(&on));
}

both!(auditor_and_audit_flag);
