//! The fund's governance on both databases: budgets adopted by a real
//! passed vote, budget vs actual, the vote check on principal spending.

use gongzhi_domain::book_entries::{BudgetLine, Entry, RecordBody};
use gongzhi_domain::ledger::{AccountCode, TransferKind};
use gongzhi_domain::place::PartKind;
use gongzhi_domain::policy::Role;
use gongzhi_domain::vote::Choice;
use gongzhi_store::fund::{self, Idem, NewDisbursement, NewTransfer};
use gongzhi_store::register::{self, Place};
use gongzhi_store::spending;
use gongzhi_store::{budget, db, Db, StoreError};
use gongzhi_testkit::both;
use gongzhi_testkit::{fresh, Kind, Rows};
use gongzhi_testkit::{spending_vote, vote};

fn idem(k: &str) -> Idem {
    Idem::new(k, format!("h-{k}")).unwrap()
}

/// Two compounds from a roster: 金元尚城A区 (4 parts) and 御景华庭 (1 part).
async fn compounds(db: &Db) -> (Place, Place) {
    let mut rows = Rows::new("平利县", "城关镇", "三里垭社区");
    for (i, (compound, number, kind, area)) in [
        ("金元尚城A区", "101", PartKind::Flat, 8950),
        ("金元尚城A区", "102", PartKind::Flat, 9025),
        ("金元尚城A区", "S-1", PartKind::Shop, 7200),
        ("金元尚城A区", "P-01", PartKind::Parking, 1200),
        ("御景华庭", "201", PartKind::Flat, 10000),
    ]
    .into_iter()
    .enumerate()
    {
        let (key, name) = (format!("o-{i}"), format!("业主{i}"));
        rows.part(compound, "1", number, kind, area, (&key, &name, ""));
    }
    let rows = rows.rows();
    gongzhi_store::import::import_roster(db, "t", rows, false, std::sync::Arc::new(|_| {}))
        .await
        .unwrap();
    let mut a = None;
    let mut b = None;
    for c in register::public_compounds(db).await.unwrap() {
        let p = register::place_by_code(db, &c.code).await.unwrap();
        if p.name == "金元尚城A区" {
            a = Some(p)
        } else {
            b = Some(p)
        }
    }
    (a.unwrap(), b.unwrap())
}

fn posted(debit: AccountCode, credit: AccountCode, amount: i64, vote: Option<&str>) -> NewTransfer {
    NewTransfer {
        kind: TransferKind::Posted,
        debit,
        credit,
        amount,
        code: "test".into(),
        memo: String::new(),
        pending_id: None,
        link: None,
        vote_id: vote.map(str::to_string),
        by_user: "s".into(),
        by_role: "steward".into(),
        timeout_at: None,
    }
}

fn field_of(e: &StoreError) -> String {
    match e {
        StoreError::Invalid { field, .. } => field.clone(),
        other => format!("not invalid: {other}"),
    }
}

async fn budget_by_vote_and_actual(kind: Kind) {
    use AccountCode::*;
    let f = fresh(kind).await;
    let (a, b) = compounds(&f.db).await;
    let lines = vec![
        BudgetLine {
            category: ExpenseRepair,
            amount: 100_000_00,
        },
        BudgetLine {
            category: ExpenseCleaning,
            amount: 50_000_00,
        },
    ];
    let year = 2026 + (db::now_ms() > gongzhi_domain::fund_calc::year_bounds_ms(2027).0) as i32;
    let adopt = |vote: String, key: &str, lines: Vec<BudgetLine>| {
        let (db, a) = (f.db.clone(), a.clone());
        let key = key.to_string();
        async move {
            budget::adopt(
                &db,
                "c1",
                "committee_member",
                &a,
                year,
                &vote,
                lines,
                idem(&key),
            )
            .await
        }
    };
    // refusals, each naming its field
    let e = adopt("no-such-vote".into(), "b0", lines.clone())
        .await
        .unwrap_err();
    assert_eq!(field_of(&e), "vote_id", "{e}");
    assert!(e.to_string().contains("no vote"), "{e}");
    let open = vote(&f.db, &a, Choice::Yes, false).await;
    let e = adopt(open, "b1", lines.clone()).await.unwrap_err();
    assert!(e.to_string().contains("open, not closed"), "{e}");
    let failed = vote(&f.db, &a, Choice::No, true).await;
    let e = adopt(failed, "b2", lines.clone()).await.unwrap_err();
    assert!(e.to_string().contains("did not pass"), "{e}");
    let elsewhere = vote(&f.db, &b, Choice::Yes, true).await;
    let e = adopt(elsewhere, "b3", lines.clone()).await.unwrap_err();
    assert!(
        e.to_string().contains("not a vote of this whole compound"),
        "{e}"
    );
    let passed = vote(&f.db, &a, Choice::Yes, true).await;
    let e = adopt(
        passed.clone(),
        "b4",
        vec![BudgetLine {
            category: Bank,
            amount: 1,
        }],
    )
    .await
    .unwrap_err();
    assert_eq!(field_of(&e), "lines[0].category");
    let e = adopt(
        passed.clone(),
        "b5",
        vec![lines[0].clone(), lines[0].clone()],
    )
    .await
    .unwrap_err();
    assert_eq!(field_of(&e), "lines[1].category");
    let e = budget::adopt(
        &f.db,
        "c1",
        "committee_member",
        &a,
        1999,
        &passed,
        lines.clone(),
        idem("b6"),
    )
    .await
    .unwrap_err();
    assert_eq!(field_of(&e), "year");
    assert_eq!(
        fund::books(&f.db, &a.id).await.unwrap().log_size,
        0,
        "nothing refused was logged"
    );

    // adopted: a leaf of the log
    let ok = adopt(passed.clone(), "b7", lines.clone()).await.unwrap();
    assert_eq!(serde_json::json!(ok.value)["log_size"], 1);
    let es = fund::entries(&f.db, &a.id, 0, 10).await.unwrap();
    match &es[0] {
        Entry::Record(r) => match &r.body {
            RecordBody::Budget {
                year: y,
                vote_id,
                lines: l,
                ..
            } => {
                assert_eq!((*y, vote_id, l), (year, &passed, &lines));
            }
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
    // replay with the same key
    let again = adopt(passed.clone(), "b7", lines.clone()).await.unwrap();
    assert!(again.replayed);

    // spending: 300.00 repair paid (two-party), a 10.00 correction back, 5.00 other
    fund::record_transfer(
        &f.db,
        &a,
        idem("fee"),
        posted(Bank, FeeIncome, 10_000_00, None),
    )
    .await
    .unwrap();
    let d = fund::request_disbursement(
        &f.db,
        "s",
        &a,
        idem("d1"),
        NewDisbursement {
            purpose: "楼道灯".into(),
            payee: "x".into(),
            amount: 300_00,
            category: ExpenseRepair,
            source: Bank,
            documents: vec![],
            link: None,
            vote_id: None,
        },
    )
    .await
    .unwrap();
    let id = serde_json::json!(d.value)["disbursement"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    fund::approve(&f.db, "c1", &[Role::CommitteeMember], &a, &id, idem("a1"))
        .await
        .unwrap();
    // reserved is not spent
    let r = budget::report(&f.db, &a.id, year).await.unwrap();
    assert_eq!(r.lines[0].actual, 0);
    fund::approve(&f.db, "s1", &[Role::Supervisor], &a, &id, idem("a2"))
        .await
        .unwrap();
    fund::record_transfer(
        &f.db,
        &a,
        idem("corr"),
        posted(Bank, ExpenseRepair, 10_00, None),
    )
    .await
    .unwrap();
    let d = fund::request_disbursement(
        &f.db,
        "s",
        &a,
        idem("d2"),
        NewDisbursement {
            purpose: "其他".into(),
            payee: "x".into(),
            amount: 5_00,
            category: ExpenseOther,
            source: Bank,
            documents: vec![],
            link: None,
            vote_id: None,
        },
    )
    .await
    .unwrap();
    let id = serde_json::json!(d.value)["disbursement"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    fund::approve(&f.db, "c1", &[Role::CommitteeMember], &a, &id, idem("o1"))
        .await
        .unwrap();
    fund::approve(&f.db, "s1", &[Role::Supervisor], &a, &id, idem("o2"))
        .await
        .unwrap();
    let r = budget::report(&f.db, &a.id, year).await.unwrap();
    assert_eq!(r.vote_id.as_deref(), Some(passed.as_str()));
    let get = |c: AccountCode| r.lines.iter().find(|l| l.category == c).unwrap().clone();
    assert_eq!(
        (get(ExpenseRepair).actual, get(ExpenseRepair).remaining),
        (290_00, 99_710_00)
    );
    assert_eq!(get(ExpenseRepair).used_bp, Some(29));
    assert_eq!(
        (get(ExpenseCleaning).budget, get(ExpenseCleaning).actual),
        (50_000_00, 0)
    );
    assert_eq!(
        (
            get(ExpenseOther).budget,
            get(ExpenseOther).remaining,
            get(ExpenseOther).used_bp
        ),
        (0, -5_00, None)
    );
    assert_eq!((r.total_budget, r.total_actual), (150_000_00, 295_00));
    // another year: same budget absent, nothing spent
    let r = budget::report(&f.db, &a.id, year - 1).await.unwrap();
    assert!(r.budget_id.is_none() && r.lines.is_empty());
    // a new adoption for the year supersedes (by a new vote)
    let passed2 = vote(&f.db, &a, Choice::Yes, true).await;
    adopt(
        passed2.clone(),
        "b8",
        vec![BudgetLine {
            category: ExpenseRepair,
            amount: 1_00,
        }],
    )
    .await
    .unwrap();
    let r = budget::report(&f.db, &a.id, year).await.unwrap();
    assert_eq!(r.vote_id.as_deref(), Some(passed2.as_str()));
    assert_eq!(r.total_budget, 1_00);
    assert!(r
        .lines
        .iter()
        .any(|l| l.category == ExpenseRepair && l.remaining < 0));
}

async fn principal_spending_checks_its_vote(kind: Kind) {
    use AccountCode::*;
    let f = fresh(kind).await;
    let (a, b) = compounds(&f.db).await;
    fund::record_transfer(
        &f.db,
        &a,
        idem("mf"),
        posted(MaintenanceBank, MaintenancePrincipal, 5_000_000_00, None),
    )
    .await
    .unwrap();
    // the fund is never spent by a transfer recorded directly, vote or not
    let spend = |v: Option<&str>| posted(MaintenancePrincipal, MaintenanceBank, 1_000_00, v);
    let e = fund::record_transfer(&f.db, &a, idem("p0"), spend(None))
        .await
        .unwrap_err();
    assert_eq!(field_of(&e), "debit");
    let open = vote(&f.db, &a, Choice::Yes, false).await;
    let failed = vote(&f.db, &a, Choice::No, true).await;
    let other = vote(&f.db, &b, Choice::Yes, true).await;
    // a disbursement from the fund is checked at request
    let req_from = |source: AccountCode, v: &str, k: &str, amount: i64| {
        let (db, a, v, k) = (f.db.clone(), a.clone(), v.to_string(), k.to_string());
        async move {
            fund::request_disbursement(
                &db,
                "s",
                &a,
                idem(&k),
                NewDisbursement {
                    purpose: "外墙修缮".into(),
                    payee: "x".into(),
                    amount,
                    category: ExpenseRepair,
                    source,
                    documents: vec![],
                    link: None,
                    vote_id: Some(v),
                },
            )
            .await
        }
    };
    let req = |v: &str, k: &str| req_from(MaintenancePrincipal, v, k, 2_000_00);
    for (v, why) in [
        ("", "needs a passed vote"),
        ("vote-1", "no vote 'vote-1'"),
        (failed.as_str(), "did not pass"),
        (open.as_str(), "not closed"),
        (other.as_str(), "not a vote of this compound"),
    ] {
        for source in [MaintenancePrincipal, MaintenanceInterest] {
            let e = req_from(source, v, "ri", 2_000_00).await.unwrap_err();
            assert_eq!(field_of(&e), "vote_id");
            assert!(e.to_string().contains(why), "{why}: {e}");
        }
    }
    // a passed vote that authorised no spending (a budget, a naming) is not
    // a licence to spend the fund
    let unrelated = vote(&f.db, &a, Choice::Yes, true).await;
    let e = req(&unrelated, "r0").await.unwrap_err();
    assert_eq!(field_of(&e), "vote_id");
    assert!(e.to_string().contains("did not authorise spending"), "{e}");
    // one that authorised 3,000.00 for the facade
    let passed = spending_vote(&f.db, &a, Choice::Yes, true, 3_000_00).await;
    // its amount and purpose are fixed: never set again, not after opening
    let e = spending::authorise(&f.db, "t", &passed, 9_000_00, "more")
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Conflict(_)), "{e}");
    let e = spending::authorise(&f.db, "t", &open, 9_000_00, "more")
        .await
        .unwrap_err();
    assert!(e.to_string().contains("fixed before it opens"), "{e}");
    assert_eq!(
        spending::get(&f.db, &passed).await.unwrap().unwrap().amount,
        3_000_00
    );
    // with it, interest is requested; none yet, so the first approval cannot reserve
    let d = req_from(MaintenanceInterest, &passed, "ri2", 1_000_00)
        .await
        .unwrap();
    let id = serde_json::json!(d.value)["disbursement"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let e = fund::approve(&f.db, "c1", &[Role::CommitteeMember], &a, &id, idem("ai"))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("maintenance_interest"), "{e}");
    // what is left of the authorisation: 2,000.00; more is refused
    let e = req_from(MaintenancePrincipal, &passed, "r1", 2_000_01)
        .await
        .unwrap_err();
    assert_eq!(field_of(&e), "amount");
    assert!(
        e.to_string().contains("at most 2000.00 yuan remains"),
        "{e}"
    );
    // voiding the interest request frees its share
    fund::void(
        &f.db,
        "c1",
        "committee_member",
        &a,
        &id,
        "no interest yet",
        idem("v1"),
    )
    .await
    .unwrap();
    let d = req_from(MaintenancePrincipal, &passed, "r2", 3_000_00)
        .await
        .unwrap();
    let id = serde_json::json!(d.value)["disbursement"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    fund::approve(&f.db, "c1", &[Role::CommitteeMember], &a, &id, idem("a1"))
        .await
        .unwrap();
    fund::approve(&f.db, "s1", &[Role::Supervisor], &a, &id, idem("a2"))
        .await
        .unwrap();
    // used up: not even one fen more under this vote
    let e = req_from(MaintenancePrincipal, &passed, "r3", 1)
        .await
        .unwrap_err();
    assert_eq!(field_of(&e), "amount");
    let p = fund::accounts(&f.db, &a.id)
        .await
        .unwrap()
        .into_iter()
        .find(|x| x.code == MaintenancePrincipal)
        .unwrap();
    assert_eq!(p.posted, 5_000_000_00 - 3_000_00);
}

both!(
    budget_by_vote_and_actual,
    principal_spending_checks_its_vote
);

async fn remuneration_trust_and_lump_sum(kind: Kind) {
    use gongzhi_store::billing::{self, Rates};
    use gongzhi_store::stewardship::{self, Settings};
    use AccountCode::*;
    let f = fresh(kind).await;
    let (a, _) = compounds(&f.db).await;
    let rates = Rates {
        flat: 150,
        shop: 400,
        parking: 100,
    };
    let bill = |period: &str, key: &str| {
        let (db, a, p, k, r) = (
            f.db.clone(),
            a.clone(),
            period.to_string(),
            key.to_string(),
            rates.clone(),
        );
        async move { billing::bill_run(&db, "s", "steward", &a, &p, r, idem(&k)).await }
    };
    // no mode yet: nothing accrued, and asking for it says why
    let run = bill("2026-09", "b9").await.unwrap();
    assert!(serde_json::json!(run.value)["remuneration"].is_null());
    let e = stewardship::accrue(&f.db, "s", "steward", &a, "2026-09")
        .await
        .unwrap_err();
    assert_eq!(field_of(&e), "remuneration_mode");
    let set = |mode: &str, bp: i64, lump: i64, roles: [Role; 2]| {
        let (db, a) = (f.db.clone(), a.clone());
        let s = Settings {
            remuneration_mode: mode.into(),
            remuneration_bp: bp,
            lump_sum_fen: lump,
            emergency_roles: roles,
        };
        async move { stewardship::set(&db, "user:c1", &a, s).await }
    };
    let roles = fund::DEFAULT_EMERGENCY_ROLES;
    assert_eq!(
        field_of(&set("percent", 1200, 0, roles).await.unwrap_err()),
        "remuneration_mode"
    );
    assert_eq!(
        field_of(&set("trust", 5001, 0, roles).await.unwrap_err()),
        "remuneration_percent"
    );
    assert_eq!(
        field_of(
            &set("trust", 1200, 0, [Role::Steward, Role::Steward])
                .await
                .unwrap_err()
        ),
        "emergency_roles"
    );
    set("trust", 1200, 0, roles).await.unwrap();
    // the billing run accrues 12 % of the period's fees in its transaction
    let run = bill("2026-10", "b10").await.unwrap();
    let total = serde_json::json!(run.value)["total"].as_i64().unwrap();
    assert_eq!(total, 13425 + 13538 + 28800 + 1200);
    let r = &serde_json::json!(run.value)["remuneration"];
    assert_eq!(r["basis"], total);
    assert_eq!(r["amount"], total * 12 / 100);
    assert_eq!(r["transfer"]["debit"], "steward_remuneration");
    assert_eq!(r["transfer"]["credit"], "steward_payable");
    let size = fund::books(&f.db, &a.id).await.unwrap().log_size;
    // idempotent per period: asking again writes nothing
    let again = stewardship::accrue(&f.db, "s", "steward", &a, "2026-10")
        .await
        .unwrap();
    assert!(again.already && again.amount == total * 12 / 100);
    assert_eq!(fund::books(&f.db, &a.id).await.unwrap().log_size, size);
    // a period billed before the mode was set is caught up once
    let late = stewardship::accrue(&f.db, "s", "steward", &a, "2026-09")
        .await
        .unwrap();
    assert!(!late.already);
    assert_eq!(late.amount, total * 12 / 100, "same parts, same rates");
    let e = stewardship::accrue(&f.db, "s", "steward", &a, "2026-12")
        .await
        .unwrap_err();
    assert_eq!(
        field_of(&e),
        "period",
        "trust: an unbilled period has no known income"
    );
    let e = stewardship::accrue(&f.db, "s", "steward", &a, "2026-1")
        .await
        .unwrap_err();
    assert_eq!(field_of(&e), "period");
    // lump sum (包干制): a fixed amount per period
    set("lump_sum", 1200, 5_000_00, roles).await.unwrap();
    let run = bill("2026-11", "b11").await.unwrap();
    assert_eq!(
        serde_json::json!(run.value)["remuneration"]["amount"],
        5_000_00
    );
    assert_eq!(
        serde_json::json!(run.value)["remuneration"]["mode"],
        "lump_sum"
    );
    let acc = fund::accounts(&f.db, &a.id).await.unwrap();
    let bal = |c: AccountCode| acc.iter().find(|x| x.code == c).map_or(0, |x| x.posted);
    let owed = 2 * (total * 12 / 100) + 5_000_00;
    assert_eq!(bal(StewardPayable), owed);
    assert_eq!(bal(StewardRemuneration), owed);
    // paying the steward out of the payable takes two parties
    fund::record_transfer(
        &f.db,
        &a,
        idem("cash"),
        posted(Bank, FeeIncome, 100_000_00, None),
    )
    .await
    .unwrap();
    let d = fund::request_disbursement(
        &f.db,
        "s",
        &a,
        idem("pay"),
        NewDisbursement {
            purpose: "steward remuneration 2026-09..11".into(),
            payee: "物业".into(),
            amount: owed,
            category: StewardPayable,
            source: Bank,
            documents: vec![],
            link: None,
            vote_id: None,
        },
    )
    .await
    .unwrap();
    let id = serde_json::json!(d.value)["disbursement"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    fund::approve(&f.db, "c1", &[Role::CommitteeMember], &a, &id, idem("p1"))
        .await
        .unwrap();
    fund::approve(&f.db, "s1", &[Role::Supervisor], &a, &id, idem("p2"))
        .await
        .unwrap();
    let acc = fund::accounts(&f.db, &a.id).await.unwrap();
    assert_eq!(
        acc.iter()
            .find(|x| x.code == StewardPayable)
            .unwrap()
            .posted,
        0
    );
}

async fn emergency_use_without_a_vote(kind: Kind) {
    use AccountCode::*;
    let f = fresh(kind).await;
    let (a, _) = compounds(&f.db).await;
    fund::record_transfer(
        &f.db,
        &a,
        idem("mf"),
        posted(MaintenanceBank, MaintenancePrincipal, 1_000_000_00, None),
    )
    .await
    .unwrap();
    let lift = |source: AccountCode| NewDisbursement {
        purpose: "2栋电梯停运，更换曳引机主板".into(),
        payee: "蒂森电梯".into(),
        amount: 18_000_00,
        category: ExpenseRepair,
        source,
        documents: vec!["维保单 0917".into()],
        link: None,
        vote_id: None,
    };
    let e = fund::request_emergency(
        &f.db,
        "s",
        &a,
        idem("e0"),
        lift(MaintenancePrincipal),
        "rain",
    )
    .await
    .unwrap_err();
    assert_eq!(field_of(&e), "emergency");
    let e = fund::request_emergency(&f.db, "s", &a, idem("e1"), lift(Bank), "elevator_stopped")
        .await
        .unwrap_err();
    assert_eq!(field_of(&e), "source");
    // without the emergency, principal needs a vote
    let e = fund::request_disbursement(&f.db, "s", &a, idem("e2"), lift(MaintenancePrincipal))
        .await
        .unwrap_err();
    assert_eq!(field_of(&e), "vote_id");
    let d = fund::request_emergency(
        &f.db,
        "s",
        &a,
        idem("e3"),
        lift(MaintenancePrincipal),
        "elevator_stopped",
    )
    .await
    .unwrap();
    let id = serde_json::json!(d.value)["disbursement"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        serde_json::json!(d.value)["disbursement"]["emergency"],
        "elevator_stopped"
    );
    // published at once: request and publication are leaves before any approval
    let es = fund::entries(&f.db, &a.id, 0, 100).await.unwrap();
    let kinds: Vec<String> = es
        .iter()
        .map(|e| match e {
            Entry::Transfer(t) => format!("transfer:{}", t.code),
            Entry::Record(r) => r.body.kind().to_string(),
        })
        .collect();
    assert_eq!(
        kinds,
        ["transfer:test", "disbursement_request", "publication"]
    );
    match &es[2] {
        Entry::Record(r) => match &r.body {
            RecordBody::Publication { subject, title, .. } => {
                assert_eq!(subject, &format!("disbursement:{id}"));
                assert!(title.contains("elevator_stopped"));
            }
            o => panic!("{o:?}"),
        },
        o => panic!("{o:?}"),
    }
    // its own approvers: committee + steward (a supervisor is not one)
    let e = fund::approve(&f.db, "v1", &[Role::Supervisor], &a, &id, idem("x"))
        .await
        .unwrap_err();
    assert_eq!(field_of(&e), "role");
    fund::approve(&f.db, "c1", &[Role::CommitteeMember], &a, &id, idem("a1"))
        .await
        .unwrap();
    let e = fund::approve(&f.db, "c1", &[Role::Steward], &a, &id, idem("a2"))
        .await
        .unwrap_err();
    assert!(
        matches!(e, StoreError::Conflict(_)),
        "same person twice: {e}"
    );
    let done = fund::approve(&f.db, "s1", &[Role::Steward], &a, &id, idem("a3"))
        .await
        .unwrap();
    assert_eq!(
        serde_json::json!(done.value)["disbursement"]["state"],
        "posted"
    );
    assert_eq!(
        serde_json::json!(done.value)["transfer"]["code"],
        "emergency"
    );
    let acc = fund::accounts(&f.db, &a.id).await.unwrap();
    assert_eq!(
        acc.iter()
            .find(|x| x.code == MaintenancePrincipal)
            .unwrap()
            .posted,
        1_000_000_00 - 18_000_00
    );
    // the code is the procedure's alone: a posted transfer cannot claim it
    // without a vote through the ordinary path either (vote checked)
    let mut fake = posted(MaintenancePrincipal, MaintenanceBank, 1_00, Some("no-vote"));
    fake.code = "disbursement".into();
    assert_eq!(
        field_of(
            &fund::record_transfer(&f.db, &a, idem("f"), fake.clone())
                .await
                .unwrap_err()
        ),
        "code"
    );
    fake.code = "emergency".into();
    fake.vote_id = None;
    assert_eq!(
        field_of(
            &fund::record_transfer(&f.db, &a, idem("g"), fake)
                .await
                .unwrap_err()
        ),
        "code"
    );
}

both!(
    remuneration_trust_and_lump_sum,
    emergency_use_without_a_vote
);

/// Compound A billed for 2026-10 (flat 1.50, shop 4.00, parking 1.00):
/// the bills by part number.
async fn billed(db: &Db, a: &Place) -> Vec<gongzhi_store::billing::Bill> {
    use gongzhi_store::billing::{self, Rates};
    billing::bill_run(
        db,
        "s",
        "steward",
        a,
        "2026-10",
        Rates {
            flat: 150,
            shop: 400,
            parking: 100,
        },
        idem("bill"),
    )
    .await
    .unwrap();
    let mut out = Vec::new();
    for o in sqlx::query("SELECT DISTINCT owner_id FROM fund_bills")
        .fetch_all(db.reader())
        .await
        .unwrap()
    {
        let id: String = sqlx::Row::try_get(&o, "owner_id").unwrap();
        out.extend(
            gongzhi_store::billing::bills_of_owner(db, &id)
                .await
                .unwrap(),
        );
    }
    out.sort_by_key(|b| b.amount);
    out
}

async fn sandbox_gateway_payments(kind: Kind) {
    use gongzhi_store::payments::{self, Callback, PaymentGateway, SandboxGateway};
    let f = fresh(kind).await;
    let (a, _) = compounds(&f.db).await;
    let bills = billed(&f.db, &a).await;
    let bill = &bills[1]; // the 89.50 m² flat: 134.25
    assert_eq!(bill.amount, 13425);
    let gw = SandboxGateway::from_secret(b"server secret");
    let e = payments::create_intent(&f.db, "u1", &a, &bill.id, Some(13426), &gw, idem("i0"))
        .await
        .unwrap_err();
    assert_eq!(field_of(&e), "amount");
    let i = payments::create_intent(&f.db, "u1", &a, &bill.id, None, &gw, idem("i1"))
        .await
        .unwrap();
    let intent = serde_json::json!(i.value)["intent"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(serde_json::json!(i.value)["intent"]["amount"], 13425);
    assert!(serde_json::json!(i.value)["checkout"]
        .as_str()
        .unwrap()
        .contains(&intent));
    let now = db::now_ms();
    let cb = |event: &str, amount: i64, at: i64| Callback {
        event_id: event.into(),
        intent_id: intent.clone(),
        amount,
        status: "paid".into(),
        at,
    };
    // forged: signed by another key, or the body changed after signing
    let other = SandboxGateway::from_secret(b"someone else");
    let (body, sig) = other.callback(&cb("ev1", 13425, now));
    let e = payments::confirm(&f.db, &gw, &body, &sig, now)
        .await
        .unwrap_err();
    assert_eq!(field_of(&e), "signature");
    let (body, sig) = gw.callback(&cb("ev1", 13425, now));
    let tampered = String::from_utf8(body.clone())
        .unwrap()
        .replace("13425", "1");
    let e = payments::confirm(&f.db, &gw, tampered.as_bytes(), &sig, now)
        .await
        .unwrap_err();
    assert_eq!(field_of(&e), "signature");
    assert!(gw.verify_callback(&body, "zz").is_err());
    // stale
    let (old, old_sig) = gw.callback(&cb("ev0", 13425, now - 11 * 60 * 1000));
    assert_eq!(
        field_of(
            &payments::confirm(&f.db, &gw, &old, &old_sig, now)
                .await
                .unwrap_err()
        ),
        "at"
    );
    // a wrong amount, properly signed
    let (wrong, wrong_sig) = gw.callback(&cb("ev9", 100, now));
    assert_eq!(
        field_of(
            &payments::confirm(&f.db, &gw, &wrong, &wrong_sig, now)
                .await
                .unwrap_err()
        ),
        "amount"
    );
    // the real one posts the payment
    let ok = serde_json::json!(payments::confirm(&f.db, &gw, &body, &sig, now)
        .await
        .unwrap());
    assert_eq!(ok["state"], "paid");
    assert_eq!(ok["receipt"]["outstanding"], 0);
    // replayed: refused, nothing posted
    let size = fund::books(&f.db, &a.id).await.unwrap().log_size;
    let e = payments::confirm(&f.db, &gw, &body, &sig, now)
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Conflict(_)), "{e}");
    // a second (new) event for the paid intent: idempotent, nothing posted
    let (again, again_sig) = gw.callback(&cb("ev2", 13425, now));
    let v = serde_json::json!(payments::confirm(&f.db, &gw, &again, &again_sig, now)
        .await
        .unwrap());
    assert_eq!(v["already"], true);
    assert_eq!(fund::books(&f.db, &a.id).await.unwrap().log_size, size);
    let paid = gongzhi_store::billing::bills_of_owner(&f.db, &bill.owner_id)
        .await
        .unwrap();
    assert_eq!(paid.iter().find(|b| b.id == bill.id).unwrap().paid, 13425);
    // a settled bill takes no new intent
    let e = payments::create_intent(&f.db, "u1", &a, &bill.id, None, &gw, idem("i2"))
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Conflict(_)), "{e}");
}

async fn hardship_waiver_and_dividend_credit(kind: Kind) {
    use gongzhi_store::billing;
    use gongzhi_store::payments;
    use AccountCode::*;
    let f = fresh(kind).await;
    let (a, _) = compounds(&f.db).await;
    let bills = billed(&f.db, &a).await;
    let shop = bills.iter().find(|b| b.amount == 28800).unwrap().clone();
    let flat = bills.iter().find(|b| b.amount == 13538).unwrap().clone();
    let e = payments::request_waiver(&f.db, "s", &a, &flat.id, 13539, "低保户")
        .await
        .unwrap_err();
    assert_eq!(field_of(&e), "amount");
    let e = payments::request_waiver(&f.db, "s", &a, &flat.id, 100, " ")
        .await
        .unwrap_err();
    assert_eq!(field_of(&e), "reason");
    let w = payments::request_waiver(&f.db, "s", &a, &flat.id, 13538, "低保户，经入户核实")
        .await
        .unwrap();
    // not a steward nor the branch
    let e = payments::approve_waiver(&f.db, "c1", &[Role::CommitteeMember], &a, &w.id)
        .await
        .unwrap_err();
    assert_eq!(field_of(&e), "role");
    let w1 = payments::approve_waiver(&f.db, "st", &[Role::Steward], &a, &w.id)
        .await
        .unwrap();
    assert_eq!(w1.state, "requested");
    // the same side again, and the same person in the other role: refused
    assert!(matches!(
        payments::approve_waiver(&f.db, "st2", &[Role::Steward], &a, &w.id)
            .await
            .unwrap_err(),
        StoreError::Conflict(_)
    ));
    assert!(matches!(
        payments::approve_waiver(
            &f.db,
            "st",
            &[Role::Steward, Role::BranchSecretary],
            &a,
            &w.id
        )
        .await
        .unwrap_err(),
        StoreError::Conflict(_)
    ));
    let w2 = payments::approve_waiver(&f.db, "br", &[Role::BranchSecretary], &a, &w.id)
        .await
        .unwrap();
    assert_eq!(w2.state, "granted");
    assert!(w2.transfer_id.is_some());
    let c = billing::collection(&f.db, &a.id, "2026-10").await.unwrap();
    assert_eq!(c.in_arrears, 3, "the waived bill is no longer in arrears");
    assert!(matches!(
        payments::approve_waiver(&f.db, "x", &[Role::Steward], &a, &w.id)
            .await
            .unwrap_err(),
        StoreError::Conflict(_)
    ));
    let e = gongzhi_store::billing::record_payment(
        &f.db,
        "s",
        "steward",
        &a,
        &flat.id,
        1,
        "cash",
        idem("pw"),
    )
    .await
    .unwrap_err();
    assert_eq!(
        field_of(&e),
        "amount",
        "nothing left to pay on a waived bill"
    );

    // a dividend credited against open fees: 720.00 by area over 26 375
    // hundredths of m²; the shop owes 288.00
    fund::record_transfer(
        &f.db,
        &a,
        idem("ads"),
        posted(Bank, RevenueAdvertising, 1_000_00, None),
    )
    .await
    .unwrap();
    let run = billing::dividend_run_with(
        &f.db,
        "c1",
        "committee_member",
        &a,
        1_000_00,
        RevenueAdvertising,
        true,
        idem("div"),
    )
    .await
    .unwrap();
    let credited = serde_json::json!(run.value)["credited"].as_i64().unwrap();
    let st = billing::dividend_statement(&f.db, &shop.owner_id)
        .await
        .unwrap();
    assert_eq!(st.len(), 1);
    let share = st[0].amount;
    assert_eq!(st[0].credited, share.min(28800));
    let after = billing::bills_of_owner(&f.db, &shop.owner_id)
        .await
        .unwrap();
    assert_eq!(after[0].paid, share.min(28800));
    // the waived flat had nothing open: its share is not credited
    let st = billing::dividend_statement(&f.db, &flat.owner_id)
        .await
        .unwrap();
    assert_eq!(st[0].credited, 0);
    assert_eq!(
        serde_json::json!(run.value)["credit_transfer"]["amount"],
        credited
    );
    assert_eq!(
        serde_json::json!(run.value)["credit_transfer"]["debit"],
        "dividends_payable"
    );
    let acc = fund::accounts(&f.db, &a.id).await.unwrap();
    let bal = |c: AccountCode| acc.iter().find(|x| x.code == c).map_or(0, |x| x.posted);
    assert_eq!(bal(DividendsPayable), 1_000_00 - credited);
    assert_eq!(
        bal(FeeIncome),
        13425 + 13538 + 28800 + 1200 - 13538,
        "the waiver left fee income"
    );
}

both!(
    sandbox_gateway_payments,
    hardship_waiver_and_dividend_credit
);

async fn cached_nodes_answer_like_the_leaves(kind: Kind) {
    use gongzhi_store::tlog;
    let f = fresh(kind).await;
    let (a, _) = compounds(&f.db).await;
    for i in 0..37 {
        fund::record_transfer(
            &f.db,
            &a,
            idem(&format!("t{i}")),
            posted(AccountCode::Bank, AccountCode::FeeIncome, 100 + i, None),
        )
        .await
        .unwrap();
    }
    let n: i64 = sqlx::query("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM fund_nodes")
        .fetch_one(f.db.reader())
        .await
        .map(|r| sqlx::Row::try_get(&r, "n").unwrap())
        .unwrap();
    assert_eq!(
        n,
        37 - 37u32.count_ones() as i64,
        "one node per completed perfect subtree"
    );
    let check = |label: &'static str| {
        let (db, id) = (f.db.clone(), a.id.clone());
        async move {
            let full = tlog::tree(&db, &id, 37).await.unwrap();
            for size in 1..=37u64 {
                assert_eq!(
                    tlog::root(&db, &id, size as i64).await.unwrap(),
                    full.root_at(size as usize).unwrap(),
                    "{label} root {size}"
                );
                for index in [0, size / 2, size - 1] {
                    let (leaf, p, root) = tlog::inclusion(&db, &id, index, size).await.unwrap();
                    assert_eq!(leaf, full.leaf_hashes()[index as usize]);
                    gongzhi_domain::merkle::verify_inclusion(&leaf, index, size, &p, &root)
                        .unwrap();
                    assert_eq!(
                        Some(p),
                        full.inclusion_proof(index as usize, size as usize),
                        "{label}"
                    );
                }
                let old = size / 3;
                let p = tlog::consistency(&db, &id, old, size).await.unwrap();
                assert_eq!(
                    Some(p),
                    full.consistency_proof(old as usize, size as usize),
                    "{label}"
                );
            }
        }
    };
    check("cached").await;
    // without the cache (a log begun before it), the leaves answer the same
    let drop = match kind {
        Kind::Sqlite => "DROP TRIGGER fund_nodes_no_delete",
        Kind::Postgres => "DROP TRIGGER fund_nodes_no_update ON fund_nodes",
    };
    sqlx::raw_sql(drop).execute(f.db.reader()).await.unwrap();
    sqlx::query("DELETE FROM fund_nodes WHERE level >= 2")
        .execute(f.db.reader())
        .await
        .unwrap();
    check("fallback").await;
}

both!(cached_nodes_answer_like_the_leaves);
