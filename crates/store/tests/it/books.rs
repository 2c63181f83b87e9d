//! The fund's books on both databases: balances, the cash rule under
//! concurrency, idempotency, two-party approval, expiry, and the Merkle log
//! written in the same transaction.

use gongzhi_domain::ledger::{leaf_bytes, AccountCode, Ledger, TransferKind};
use gongzhi_domain::merkle::{self, Tree};
use gongzhi_domain::policy::Role;
use gongzhi_store::fund::{self, Idem, NewDisbursement, NewTransfer};
use gongzhi_store::register::{self, Place};
use gongzhi_store::{tlog, Db, StoreError};
use gongzhi_testkit::both;
use gongzhi_testkit::{fresh, Kind};

async fn compound(db: &Db) -> Place {
    let names = ["綦江区", "古南街道", "沙溪社区", "Jingcheng Mingdian"];
    gongzhi_testkit::compound_by_hand(db, names, "jingcheng-mingdian").await
}

fn income(amount: i64) -> NewTransfer {
    NewTransfer {
        kind: TransferKind::Posted,
        debit: AccountCode::Bank,
        credit: AccountCode::FeeIncome,
        amount,
        code: "fee".into(),
        memo: "property fees".into(),
        pending_id: None,
        link: None,
        vote_id: None,
        by_user: "steward-1".into(),
        by_role: "steward".into(),
        timeout_at: None,
    }
}

fn idem(k: &str, h: &str) -> Idem {
    Idem::new(k, h.into()).unwrap()
}

/// Spends `amount` from the bank the only way money leaves: a disbursement
/// approved by a committee member (reserves) and a supervisor (posts).
async fn spend_all(db: &Db, c: &Place, amount: i64, key: &str) {
    let d = fund::request_disbursement(db, "u1", c, idem(key, "r"), disb(amount))
        .await
        .unwrap();
    let id = serde_json::json!(d.value)["disbursement"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    fund::approve(
        db,
        "cm",
        &[Role::CommitteeMember],
        c,
        &id,
        idem(&format!("{key}-1"), "a"),
    )
    .await
    .unwrap();
    fund::approve(
        db,
        "sv",
        &[Role::Supervisor],
        c,
        &id,
        idem(&format!("{key}-2"), "a"),
    )
    .await
    .unwrap();
}

fn disb(amount: i64) -> NewDisbursement {
    NewDisbursement {
        purpose: "corridor light bulb, building 3".into(),
        payee: "Sanxia Electric".into(),
        amount,
        category: AccountCode::ExpenseRepair,
        source: AccountCode::Bank,
        documents: vec!["invoice 0042".into()],
        link: None,
        vote_id: None,
    }
}

/// Replays every stored transfer through the domain ledger and checks it
/// against the stored balances and the stored leaves.
async fn audit_books(db: &Db, c: &Place) -> Ledger {
    let origin = fund::origin(c.code.as_deref().unwrap_or_default());
    let ts = fund::entries(db, &c.id, 0, 10_000).await.unwrap();
    let mut l = Ledger::new();
    let mut tree = Tree::new();
    for (i, e) in ts.iter().enumerate() {
        assert_eq!(e.seq(), i as u64, "dense log positions");
        if let Some(t) = e.as_transfer() {
            l.apply(t).unwrap();
            tree.push(&leaf_bytes(&origin, t));
        } else {
            tree.push(&e.leaf_bytes(&origin));
        }
    }
    assert_eq!(l.sums(), (0, 0));
    for a in fund::accounts(db, &c.id).await.unwrap() {
        assert_eq!(l.balance(a.code), a.balance, "{}", a.code);
    }
    let stored = tlog::tree(db, &c.id, ts.len() as i64).await.unwrap();
    assert_eq!(
        stored.root(),
        tree.root(),
        "stored leaves are the hashes of the entries"
    );
    l
}

async fn books_balance_and_cash_rule(kind: Kind) {
    let f = fresh(kind).await;
    let c = compound(&f.db).await;
    let out = fund::record_transfer(&f.db, &c, idem("k1", "h1"), income(100_000))
        .await
        .unwrap();
    assert!(!out.replayed);
    assert_eq!(serde_json::json!(out.value)["log_size"], 1);
    // money never leaves by a transfer recorded directly
    let mut spend = income(100_000);
    spend.debit = AccountCode::ExpenseOther;
    spend.credit = AccountCode::Bank;
    let e = fund::record_transfer(&f.db, &c, idem("k2", "h2"), spend)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, StoreError::Invalid { field, .. } if field == "debit"),
        "{e}"
    );
    // the cash rule: reserving more than the bank holds is refused
    let d = fund::request_disbursement(&f.db, "u1", &c, idem("k3", "h3"), disb(100_001))
        .await
        .unwrap();
    let id = serde_json::json!(d.value)["disbursement"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let e = fund::approve(
        &f.db,
        "cm",
        &[Role::CommitteeMember],
        &c,
        &id,
        idem("k3a", "h"),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&e, StoreError::Invalid { field, .. } if field == "amount"),
        "{e}"
    );
    spend_all(&f.db, &c, 100_000, "k3b").await;
    let bad = NewTransfer {
        amount: 0,
        ..income(0)
    };
    let e = fund::record_transfer(&f.db, &c, idem("k4", "h4"), bad)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, StoreError::Invalid { field, .. } if field == "amount"),
        "{e}"
    );
    let l = audit_books(&f.db, &c).await;
    assert_eq!(
        l.balance(AccountCode::Bank)
            .posted(gongzhi_domain::ledger::Normal::Debit),
        0
    );
    // the log refuses edits
    let e = sqlx::query("UPDATE fund_transfers SET amount = 1")
        .execute(f.db.reader())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("append-only"), "{e}");
    let e = sqlx::query("DELETE FROM fund_leaves")
        .execute(f.db.reader())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("append-only"), "{e}");
}

async fn principal_needs_a_vote(kind: Kind) {
    let f = fresh(kind).await;
    let c = compound(&f.db).await;
    let mut t = income(5_000_000_00);
    t.debit = AccountCode::MaintenanceBank;
    t.credit = AccountCode::MaintenancePrincipal;
    fund::record_transfer(&f.db, &c, idem("p1", "x"), t)
        .await
        .unwrap();
    let mut d = disb(1000);
    d.source = AccountCode::MaintenancePrincipal;
    let e = fund::request_disbursement(&f.db, "u1", &c, idem("p2", "y"), d.clone())
        .await
        .unwrap_err();
    assert!(
        matches!(&e, StoreError::Invalid { field, .. } if field == "vote_id"),
        "{e}"
    );
    // the interest too: spending it needs a passed vote linked to it (the
    // checks of the vote itself: fund2.rs `principal_spending_checks_its_vote`)
    d.source = AccountCode::MaintenanceInterest;
    let e = fund::request_disbursement(&f.db, "u1", &c, idem("p3", "y"), d)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, StoreError::Invalid { field, .. } if field == "vote_id"),
        "{e}"
    );
    assert!(
        e.to_string()
            .contains("maintenance fund needs a passed vote"),
        "{e}"
    );
}

async fn fifty_concurrent_withdrawals_of_sixty_percent(kind: Kind) {
    let f = fresh(kind).await;
    let c = compound(&f.db).await;
    fund::record_transfer(&f.db, &c, idem("seed", "s"), income(1_000_000))
        .await
        .unwrap();
    // fifty requests of 60% each, then all fifty first approvals (each
    // reserves its amount) at once: only one reservation fits
    let mut ids = Vec::new();
    for i in 0..50 {
        let d =
            fund::request_disbursement(&f.db, "u1", &c, idem(&format!("r{i}"), "r"), disb(600_000))
                .await
                .unwrap();
        ids.push(
            serde_json::json!(d.value)["disbursement"]["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let mut handles = Vec::new();
    for (i, id) in ids.into_iter().enumerate() {
        let (db, c) = (f.db.clone(), c.clone());
        handles.push(tokio::spawn(async move {
            fund::approve(
                &db,
                &format!("cm{i}"),
                &[Role::CommitteeMember],
                &c,
                &id,
                Idem::new(&format!("w{i}"), "w".into()).unwrap(),
            )
            .await
        }));
    }
    let mut ok = 0;
    for h in handles {
        match h.await.unwrap() {
            Ok(_) => ok += 1,
            Err(StoreError::Invalid { field, .. }) => assert_eq!(field, "amount"),
            Err(e) => panic!("unexpected error: {e}"),
        }
    }
    assert_eq!(ok, 1, "exactly one withdrawal of 60% succeeds");
    let l = audit_books(&f.db, &c).await;
    assert_eq!(
        l.balance(AccountCode::Bank)
            .available(gongzhi_domain::ledger::Normal::Debit),
        400_000,
        "one 60% reservation holds"
    );
}

async fn same_idempotency_key_concurrently(kind: Kind) {
    let f = fresh(kind).await;
    let c = compound(&f.db).await;
    let mut handles = Vec::new();
    for _ in 0..20 {
        let (db, c) = (f.db.clone(), c.clone());
        handles.push(tokio::spawn(async move {
            fund::record_transfer(
                &db,
                &c,
                Idem::new("same", "body-a".into()).unwrap(),
                income(5_00),
            )
            .await
        }));
    }
    let mut ids = Vec::new();
    let mut fresh_count = 0;
    for h in handles {
        let o = h.await.unwrap().unwrap();
        if !o.replayed {
            fresh_count += 1;
        }
        ids.push(
            serde_json::json!(o.value)["transfer"]["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    assert_eq!(fresh_count, 1);
    ids.dedup();
    assert_eq!(ids.len(), 1, "every call answers with the first transfer");
    assert_eq!(
        fund::transfers(&f.db, &c.id, 0, 100).await.unwrap().len(),
        1
    );
    let e = fund::record_transfer(&f.db, &c, idem("same", "body-b"), income(6_00))
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Conflict(_)), "{e}");
}

async fn two_party_approval(kind: Kind) {
    let f = fresh(kind).await;
    let c = compound(&f.db).await;
    fund::record_transfer(&f.db, &c, idem("seed", "s"), income(10_000))
        .await
        .unwrap();
    let r = fund::request_disbursement(&f.db, "steward", &c, idem("r1", "r"), disb(3_50))
        .await
        .unwrap();
    let id = serde_json::json!(r.value)["disbursement"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    // an owner cannot approve
    let e = fund::approve(&f.db, "owner", &[Role::Owner], &c, &id, idem("a0", "a"))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, StoreError::Invalid { field, .. } if field == "role"),
        "{e}"
    );
    // first approval: committee member reserves
    let a1 = fund::approve(
        &f.db,
        "alice",
        &[Role::CommitteeMember, Role::Supervisor],
        &c,
        &id,
        idem("a1", "a"),
    )
    .await
    .unwrap();
    assert_eq!(
        serde_json::json!(a1.value)["disbursement"]["state"],
        "pending"
    );
    assert_eq!(serde_json::json!(a1.value)["transfer"]["kind"], "pending");
    let bank = fund::accounts(&f.db, &c.id)
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.code == AccountCode::Bank)
        .unwrap();
    assert_eq!((bank.posted, bank.available), (10_000, 10_000 - 3_50));
    // the same person again, even holding the other role: never posts
    let e = fund::approve(
        &f.db,
        "alice",
        &[Role::CommitteeMember, Role::Supervisor],
        &c,
        &id,
        idem("a2", "a"),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(e, StoreError::Conflict(ref m) if m.contains("different person")),
        "{e}"
    );
    // a different person in the same role: refused
    let e = fund::approve(
        &f.db,
        "bob",
        &[Role::CommitteeMember],
        &c,
        &id,
        idem("a3", "a"),
    )
    .await
    .unwrap_err();
    assert!(e.to_string().contains("supervisor"), "{e}");
    // two supervisors racing: exactly one posts
    let mut hs = Vec::new();
    for who in ["carol", "dave", "erin"] {
        let (db, c, id) = (f.db.clone(), c.clone(), id.clone());
        hs.push(tokio::spawn(async move {
            fund::approve(
                &db,
                who,
                &[Role::Supervisor],
                &c,
                &id,
                Idem::new(&format!("race-{who}"), "a".into()).unwrap(),
            )
            .await
        }));
    }
    let mut posted = 0;
    for h in hs {
        match h.await.unwrap() {
            Ok(o) => {
                assert_eq!(
                    serde_json::json!(o.value)["disbursement"]["state"],
                    "posted"
                );
                posted += 1
            }
            Err(StoreError::Conflict(m)) => assert!(m.contains("already posted"), "{m}"),
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(posted, 1);
    let e = fund::void(
        &f.db,
        "alice",
        "committee_member",
        &c,
        &id,
        "too late",
        idem("v1", "v"),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, StoreError::Conflict(_)));
    let l = audit_books(&f.db, &c).await;
    assert_eq!(l.balance(AccountCode::ExpenseRepair).debits_posted, 3_50);
    assert_eq!(
        l.balance(AccountCode::Bank)
            .available(gongzhi_domain::ledger::Normal::Debit),
        10_000 - 3_50
    );
    // per-compound policy: committee + steward
    let p =
        gongzhi_domain::ledger::ApprovalPolicy::new(Role::CommitteeMember, Role::Steward).unwrap();
    fund::set_policy(&f.db, "admin", &c, p, 60_000)
        .await
        .unwrap();
    let r = fund::request_disbursement(&f.db, "steward", &c, idem("r2", "r2"), disb(1_00))
        .await
        .unwrap();
    let id2 = serde_json::json!(r.value)["disbursement"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    fund::approve(&f.db, "sam", &[Role::Steward], &c, &id2, idem("b1", "b"))
        .await
        .unwrap();
    let e = fund::approve(&f.db, "sue", &[Role::Supervisor], &c, &id2, idem("b2", "b"))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("committee_member"), "{e}");
    // void releases the reservation
    let v = fund::void(
        &f.db,
        "alice",
        "committee_member",
        &c,
        &id2,
        "wrong payee",
        idem("v2", "v"),
    )
    .await
    .unwrap();
    assert_eq!(
        serde_json::json!(v.value)["disbursement"]["state"],
        "voided"
    );
    assert_eq!(
        serde_json::json!(v.value)["transfer"]["kind"],
        "void_pending"
    );
    audit_books(&f.db, &c).await;
}

async fn expiry_releases_the_reservation(kind: Kind) {
    let f = fresh(kind).await;
    let c = compound(&f.db).await;
    fund::record_transfer(&f.db, &c, idem("seed", "s"), income(10_000))
        .await
        .unwrap();
    let r = fund::request_disbursement(&f.db, "steward", &c, idem("r1", "r"), disb(9_000))
        .await
        .unwrap();
    let id = serde_json::json!(r.value)["disbursement"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    fund::approve(
        &f.db,
        "alice",
        &[Role::CommitteeMember],
        &c,
        &id,
        idem("a1", "a"),
    )
    .await
    .unwrap();
    assert_eq!(
        fund::expire_due(&f.db, &c, gongzhi_store::db::now_ms())
            .await
            .unwrap(),
        0
    );
    let later = gongzhi_store::db::now_ms() + fund::DEFAULT_PENDING_TIMEOUT_MS + 1;
    assert_eq!(fund::expire_due(&f.db, &c, later).await.unwrap(), 1);
    let d = fund::disbursements(&f.db, &c.id, 10).await.unwrap();
    assert_eq!(d[0].state.as_str(), "expired");
    let e = fund::approve(&f.db, "bob", &[Role::Supervisor], &c, &id, idem("a2", "a"))
        .await
        .unwrap_err();
    assert!(
        matches!(e, StoreError::Conflict(ref m) if m.contains("expired")),
        "{e}"
    );
    let l = audit_books(&f.db, &c).await;
    assert_eq!(
        l.balance(AccountCode::Bank)
            .available(gongzhi_domain::ledger::Normal::Debit),
        10_000
    );
}

async fn checkpoint_and_proofs(kind: Kind) {
    let f = fresh(kind).await;
    let c = compound(&f.db).await;
    for i in 0..7 {
        fund::record_transfer(&f.db, &c, idem(&format!("k{i}"), "h"), income(100 + i))
            .await
            .unwrap();
    }
    let key = ed25519_dalek::SigningKey::from_bytes(&[9u8; 32]);
    let (cp, note) = tlog::checkpoint(&f.db, &key, &c.id, "jingcheng-mingdian")
        .await
        .unwrap();
    assert_eq!(cp.size, 7);
    let body = merkle::open_note(&note, tlog::KEY_NAME, &key.verifying_key()).unwrap();
    assert_eq!(merkle::Checkpoint::parse_body(body).unwrap(), cp);
    let t = tlog::tree(&f.db, &c.id, 7).await.unwrap();
    let old_root = t.root_at(3).unwrap();
    merkle::verify_consistency(
        3,
        7,
        &t.consistency_proof(3, 7).unwrap(),
        &old_root,
        &cp.root,
    )
    .unwrap();
    let leaf = t.leaf_hashes()[5];
    merkle::verify_inclusion(&leaf, 5, 7, &t.inclusion_proof(5, 7).unwrap(), &cp.root).unwrap();
}

both!(
    books_balance_and_cash_rule,
    principal_needs_a_vote,
    fifty_concurrent_withdrawals_of_sixty_percent,
    same_idempotency_key_concurrently,
    two_party_approval,
    expiry_releases_the_reservation,
    checkpoint_and_proofs
);

async fn billing_payments_and_collection(kind: Kind) {
    use gongzhi_domain::place::PartKind;
    use gongzhi_store::billing::{self, Rates};
    use gongzhi_testkit::Rows;
    let f = fresh(kind).await;
    let mut rows = Rows::new("平利县", "城关镇", "三里垭社区");
    for (i, (number, kind, area)) in [
        ("101", PartKind::Flat, 8950),
        ("102", PartKind::Flat, 9025),
        ("S-1", PartKind::Shop, 7200),
        ("P-01", PartKind::Parking, 1200),
    ]
    .into_iter()
    .enumerate()
    {
        let (key, name) = (format!("o-{i}"), format!("业主{i}"));
        rows.part("金元尚城A区", "1", number, kind, area, (&key, &name, ""));
    }
    let rows = rows.rows();
    gongzhi_store::import::import_roster(&f.db, "t", rows, false, std::sync::Arc::new(|_| {}))
        .await
        .unwrap();
    let code = register::public_compounds(&f.db).await.unwrap()[0]
        .code
        .clone();
    let c = register::place_by_code(&f.db, &code).await.unwrap();
    let rates = Rates {
        flat: 150,
        shop: 400,
        parking: 0,
    };
    let e = billing::bill_run(
        &f.db,
        "s",
        "steward",
        &c,
        "2026-13",
        rates.clone(),
        idem("b0", "b"),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&e, StoreError::Invalid { field, .. } if field == "period"),
        "{e}"
    );
    let run = billing::bill_run(
        &f.db,
        "s",
        "steward",
        &c,
        "2026-11",
        rates.clone(),
        idem("b1", "b"),
    )
    .await
    .unwrap();
    // 89.50 × 1.50 = 134.25; 90.25 × 1.50 = 135.375 → 135.38; the 72.00 m² shop × 4.00 = 288.00; parking at 0 not billed
    assert_eq!(serde_json::json!(run.value)["bills"], 3);
    assert_eq!(
        serde_json::json!(run.value)["total"],
        134_25 + 135_38 + 288_00
    );
    let e = billing::bill_run(&f.db, "s", "steward", &c, "2026-11", rates, idem("b2", "b"))
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Conflict(_)), "{e}");
    let owner: String = sqlx::query_scalar(
        "SELECT o.id FROM owners o JOIN parts p ON p.owner_id = o.id WHERE p.number = 'S-1'",
    )
    .fetch_one(f.db.reader())
    .await
    .unwrap();
    let bills = billing::bills_of_owner(&f.db, &owner).await.unwrap();
    assert_eq!(bills.len(), 1);
    assert_eq!(bills[0].amount, 288_00);
    let e = billing::record_payment(
        &f.db,
        "s",
        "steward",
        &c,
        &bills[0].id,
        288_01,
        "cash",
        idem("p0", "p"),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&e, StoreError::Invalid { field, .. } if field == "amount"),
        "{e}"
    );
    let e = billing::record_payment(
        &f.db,
        "s",
        "steward",
        &c,
        &bills[0].id,
        100,
        "cheque",
        idem("p1", "p"),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&e, StoreError::Invalid { field, .. } if field == "method"),
        "{e}"
    );
    let p = billing::record_payment(
        &f.db,
        "s",
        "steward",
        &c,
        &bills[0].id,
        288_00,
        "bank_transfer",
        idem("p2", "p"),
    )
    .await
    .unwrap();
    assert_eq!(serde_json::json!(p.value)["outstanding"], 0);
    let col = billing::collection(&f.db, &c.id, "2026-11").await.unwrap();
    assert_eq!(
        (col.bills, col.billed, col.paid, col.in_arrears),
        (3, 557_63, 288_00, 2)
    );
    assert_eq!(col.collection_rate_bp, 288_00 * 10_000 / 557_63);
    let accts = fund::accounts(&f.db, &c.id).await.unwrap();
    let get = |code: AccountCode| accts.iter().find(|a| a.code == code).unwrap().posted;
    assert_eq!(get(AccountCode::Bank), 288_00);
    assert_eq!(get(AccountCode::OwnerReceivables), 557_63 - 288_00);
    assert_eq!(get(AccountCode::FeeIncome), 557_63);
    // a dividend of 4 yuan per m² from advertising revenue: the shop gets 288.00
    let mut ads = income(100_000_00);
    ads.credit = AccountCode::RevenueAdvertising;
    fund::record_transfer(&f.db, &c, idem("ads", "a"), ads)
        .await
        .unwrap();
    let total = gongzhi_domain::fund_calc::dividend_total_at_rate(&[8950, 9025, 7200, 1200], 400);
    let e = billing::dividend_run(
        &f.db,
        "c",
        "committee_member",
        &c,
        total,
        AccountCode::Bank,
        idem("d0", "d"),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&e, StoreError::Invalid { field, .. } if field == "source"),
        "{e}"
    );
    let d = billing::dividend_run(
        &f.db,
        "c",
        "committee_member",
        &c,
        total,
        AccountCode::RevenueAdvertising,
        idem("d1", "d"),
    )
    .await
    .unwrap();
    assert_eq!(serde_json::json!(d.value)["parts"], 4);
    let st = billing::dividend_statement(&f.db, &owner).await.unwrap();
    assert_eq!(
        (st.len(), st[0].number.as_str(), st[0].amount),
        (1, "S-1", 288_00)
    );
    let lines: i64 =
        sqlx::query_scalar("SELECT CAST(SUM(amount) AS BIGINT) FROM fund_dividend_lines")
            .fetch_one(f.db.reader())
            .await
            .unwrap();
    assert_eq!(lines, total, "the statement lines sum to the dividend");
    audit_books(&f.db, &c).await;
}

both!(billing_payments_and_collection);

/// The kinds of the log's entries, in order ("transfer:<kind>" or the
/// record's type).
async fn entry_kinds(db: &Db, c: &Place) -> Vec<String> {
    use gongzhi_domain::book_entries::Entry;
    fund::entries(db, &c.id, 0, 10_000)
        .await
        .unwrap()
        .iter()
        .map(|e| match e {
            Entry::Transfer(t) => format!("transfer:{}", t.kind),
            Entry::Record(r) => r.body.kind().to_string(),
        })
        .collect()
}

async fn typed_entries_and_matter_steps(kind: Kind) {
    use gongzhi_domain::book_entries::{Entry, RecordBody};
    use gongzhi_domain::procedure;
    use gongzhi_store::matters;
    let f = fresh(kind).await;
    let c = compound(&f.db).await;
    fund::record_transfer(&f.db, &c, idem("seed", "s"), income(10_000))
        .await
        .unwrap();
    let r = fund::request_disbursement(&f.db, "steward", &c, idem("r1", "r"), disb(3_50))
        .await
        .unwrap();
    let id = serde_json::json!(r.value)["disbursement"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    fund::approve(
        &f.db,
        "alice",
        &[Role::CommitteeMember],
        &c,
        &id,
        idem("a1", "a"),
    )
    .await
    .unwrap();
    fund::approve(&f.db, "bob", &[Role::Supervisor], &c, &id, idem("a2", "a"))
        .await
        .unwrap();
    let r2 = fund::request_disbursement(&f.db, "steward", &c, idem("r2", "r2"), disb(1_00))
        .await
        .unwrap();
    let id2 = serde_json::json!(r2.value)["disbursement"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    fund::void(
        &f.db,
        "alice",
        "committee_member",
        &c,
        &id2,
        "duplicate",
        idem("v", "v"),
    )
    .await
    .unwrap();
    assert_eq!(
        entry_kinds(&f.db, &c).await,
        [
            "transfer:posted",
            "disbursement_request",
            "transfer:pending",
            "approval",
            "transfer:post_pending",
            "approval",
            "disbursement_request",
            "void"
        ]
    );
    let about = fund::records_about(&f.db, &c.id, &format!("disbursement:{id}"))
        .await
        .unwrap();
    assert_eq!(about.len(), 3);
    match &about[2].body {
        RecordBody::Approval { step, role, .. } => {
            assert_eq!(*step, 2);
            assert_eq!(role, "supervisor");
            assert_eq!(about[2].by_user, "bob");
        }
        other => panic!("{other:?}"),
    }

    // a matter in the compound's scope: each step is a leaf of its log,
    // written in the step's own transaction
    let seven = procedure::builtins()
        .into_iter()
        .find(|p| p.key == "seven_step")
        .unwrap();
    let (cc, p) = (c.clone(), seven.clone());
    let m =
        f.db.write(move |tx| {
            let (cc, p) = (cc.clone(), p.clone());
            Box::pin(async move {
                let m = matters::create_matter(tx, "user:g1", &cc, "电梯加装", &p).await?;
                matters::record_step(
                    tx,
                    "user:g1",
                    &m.id,
                    "raise",
                    &[Role::GridWorker],
                    "buildings 2 and 6 ask for lifts",
                    None,
                    gongzhi_store::db::now_ms(),
                )
                .await?;
                Ok(m)
            })
        })
        .await
        .unwrap();
    let kinds = entry_kinds(&f.db, &c).await;
    assert_eq!(kinds.last().unwrap(), "matter_step");
    let es = fund::entries(&f.db, &c.id, 8, 1).await.unwrap();
    match &es[0] {
        Entry::Record(r) => {
            assert_eq!(r.by_user, "g1");
            match &r.body {
                RecordBody::MatterStep {
                    matter_id,
                    title,
                    step_key,
                    produces,
                    ..
                } => {
                    assert_eq!(matter_id, &m.id);
                    assert_eq!(title, "电梯加装");
                    assert_eq!(step_key, "raise");
                    assert_eq!(produces, "note");
                }
                other => panic!("{other:?}"),
            }
        }
        other => panic!("{other:?}"),
    }
    // a refused step writes no leaf (same transaction)
    let (mid, cc2) = (m.id.clone(), c.clone());
    let e =
        f.db.write(move |tx| {
            let mid = mid.clone();
            Box::pin(async move {
                matters::record_step(
                    tx,
                    "user:o1",
                    &mid,
                    "triage",
                    &[Role::Owner],
                    "",
                    None,
                    gongzhi_store::db::now_ms(),
                )
                .await
            })
        })
        .await;
    assert!(e.is_err());
    assert_eq!(entry_kinds(&f.db, &cc2).await.len(), 9);

    // a matter over the community (above any compound) goes to no
    // compound's log
    let community = register::get_place(&f.db, c.parent_id.as_deref().unwrap())
        .await
        .unwrap();
    let before = fund::books(&f.db, &c.id).await.unwrap().log_size;
    f.db.write(move |tx| {
        let (community, p) = (community.clone(), seven.clone());
        Box::pin(async move {
            let m = matters::create_matter(tx, "user:s1", &community, "社区停车", &p).await?;
            matters::record_step(
                tx,
                "user:s1",
                &m.id,
                "raise",
                &[Role::CommitteeMember],
                "",
                None,
                gongzhi_store::db::now_ms(),
            )
            .await
        })
    })
    .await
    .unwrap();
    assert_eq!(fund::books(&f.db, &c.id).await.unwrap().log_size, before);
    audit_books(&f.db, &c).await;
}

both!(typed_entries_and_matter_steps);
