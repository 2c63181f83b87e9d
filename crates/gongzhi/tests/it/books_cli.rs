//! `gongzhi verify` and `gongzhi export books` through the real binary
//! against a real server (`gongzhi serve`) on SQLite and PostgreSQL: verify
//! passes on whole books, follows the log with --state, and catches an
//! amount edited behind the server's back; the exports are accepted by
//! `hledger check -s` and `bean-check` and give the server's balances.
//! hledger and bean-check must be installed (.ci/run installs them): their
//! absence fails these tests.

use gongzhi_domain::ledger::{AccountCode, TransferKind};
use gongzhi_domain::policy::Role;
use gongzhi_store::fund::{self, Idem, NewDisbursement, NewTransfer};
use gongzhi_store::register::Place;
use gongzhi_store::Db;
use gongzhi_testkit::both;
use gongzhi_testkit::{fresh_url, Kind};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Output};

const CODE: &str = "jingcheng-mingdian";

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_gongzhi"))
}

struct Server(Child);
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[allow(clippy::zombie_processes)] // the child is killed and waited for by `Server`'s drop
async fn serve(url: &str, dir: &Path) -> (Server, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    let child = bin()
        .args([
            "serve",
            "--listen",
            &listen,
            "--database-url",
            url,
            "--data-dir",
        ])
        .arg(dir)
        .env("GONGZHI_LOG", "warn")
        .spawn()
        .unwrap();
    let base = format!("http://{listen}");
    for _ in 0..200 {
        if reqwest::get(format!("{base}/healthz"))
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return (Server(child), base);
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("server did not start");
}

/// A fresh database of `kind` (SQLite: a file in the returned directory,
/// which the server's data dir shares) with the compound of [`setup`].
async fn fresh_compound(kind: Kind) -> (Db, Place, String, tempfile::TempDir) {
    let (url, _) = fresh_url(kind).await;
    let dir = tempfile::tempdir().unwrap();
    let url = if kind == Kind::Sqlite {
        format!("sqlite://{}", dir.path().join("gongzhi.db").display())
    } else {
        url
    };
    let db = Db::connect(&url).await.unwrap();
    let c = setup(&db).await;
    (db, c, url, dir)
}

async fn setup(db: &Db) -> Place {
    gongzhi_testkit::compound_by_hand(db, ["武侯区", "簇桥街道", "锦城社区", "晶城名邸"], CODE)
        .await
}

fn tr(debit: AccountCode, credit: AccountCode, amount: i64, code: &str, memo: &str) -> NewTransfer {
    NewTransfer {
        kind: TransferKind::Posted,
        debit,
        credit,
        amount,
        code: code.into(),
        memo: memo.into(),
        pending_id: None,
        link: None,
        vote_id: None,
        by_user: "steward".into(),
        by_role: "steward".into(),
        timeout_at: None,
    }
}

async fn some_books(db: &Db, c: &Place, tag: &str) {
    use AccountCode::*;
    let k = |n: &str| Idem::new(&format!("{tag}-{n}"), "h".into()).unwrap();
    fund::record_transfer(
        db,
        c,
        k("fee"),
        tr(Bank, FeeIncome, 1_234_567_89, "fee", "2026 property fees"),
    )
    .await
    .unwrap();
    fund::record_transfer(
        db,
        c,
        k("ads"),
        tr(
            Bank,
            RevenueAdvertising,
            48_000_00,
            "revenue",
            "lift advertising",
        ),
    )
    .await
    .unwrap();
    fund::record_transfer(
        db,
        c,
        k("mf"),
        tr(
            MaintenanceBank,
            MaintenancePrincipal,
            5_000_000_00,
            "opening",
            "maintenance fund",
        ),
    )
    .await
    .unwrap();
    fund::record_transfer(
        db,
        c,
        k("int"),
        tr(
            MaintenanceBank,
            MaintenanceInterest,
            200_000_00,
            "interest",
            "bank interest 2026",
        ),
    )
    .await
    .unwrap();
    let d = fund::request_disbursement(
        db,
        "steward",
        c,
        k("bulb"),
        NewDisbursement {
            purpose: "corridor light bulb; \"B3\"".into(),
            payee: "Sanxia Electric".into(),
            amount: 35_00,
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
    fund::approve(db, "alice", &[Role::CommitteeMember], c, &id, k("a1"))
        .await
        .unwrap();
    fund::approve(db, "bob", &[Role::Supervisor], c, &id, k("a2"))
        .await
        .unwrap();
}

fn verify(base: &str, extra: &[&str]) -> Output {
    bin()
        .args(["verify", "--from", base, "--compound", CODE])
        .args(extra)
        .output()
        .unwrap()
}

fn out(o: &Output) -> String {
    format!(
        "status {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

async fn verify_catches_tampering(kind: Kind) {
    let (db, c, url, dir) = fresh_compound(kind).await;
    some_books(&db, &c, "one").await;
    let (_srv, base) = serve(&url, dir.path()).await;
    let state = dir.path().join("verify-state.json");
    let st = state.to_str().unwrap();
    let o = verify(&base, &["--state", st]);
    assert!(o.status.success(), "{}", out(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout)
            .contains("ok: gongzhi/books/jingcheng-mingdian — 9 entries"),
        "{}",
        out(&o)
    );
    let remembered: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&state).unwrap()).unwrap();
    assert_eq!(
        remembered["size"], 9,
        "4 transfers, request, pending + approval, post + approval"
    );
    // the key in the data dir, not in the database
    assert!(dir.path().join("books-signing.key").exists());
    // the log grows; verify follows it with a consistency proof
    some_books(&db, &c, "two").await;
    let o = verify(&base, &["--state", st]);
    assert!(o.status.success(), "{}", out(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("consistent with the last verified checkpoint"),
        "{}",
        out(&o)
    );
    // a wrong pinned key fails
    let other = ed25519_dalek::SigningKey::from_bytes(&[3u8; 32]).verifying_key();
    let vk = gongzhi_domain::merkle::verifier_key("gongzhi", &other);
    let o = verify(&base, &["--key", &vk]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("checkpoint"),
        "{}",
        out(&o)
    );

    // edit the amount of a stored disbursement request (a non-transfer
    // entry, leaf 4) behind the server's back
    let drop_rec = match kind {
        Kind::Sqlite => "DROP TRIGGER fund_records_no_update",
        Kind::Postgres => "DROP TRIGGER fund_records_no_update ON fund_records",
    };
    sqlx::raw_sql(drop_rec).execute(db.reader()).await.unwrap();
    let edit = "UPDATE fund_records SET body_json = REPLACE(body_json, '\"amount\":3500', '\"amount\":350') WHERE seq = 4";
    let n = sqlx::query(edit).execute(db.reader()).await.unwrap();
    assert_eq!(n.rows_affected(), 1);
    let o = verify(&base, &["--state", st]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("FAIL: entry 4 ")
            && err.contains("disbursement_request")
            && err.contains("does not match leaf 4"),
        "{}",
        out(&o)
    );
    // put it back: whole again
    sqlx::query("UPDATE fund_records SET body_json = REPLACE(body_json, '\"amount\":350,', '\"amount\":3500,') WHERE seq = 4")
        .execute(db.reader())
        .await
        .unwrap();
    let o = verify(&base, &["--state", st]);
    assert!(o.status.success(), "{}", out(&o));

    // edit a stored amount behind the server's back
    match kind {
        Kind::Sqlite => {
            sqlx::raw_sql("DROP TRIGGER fund_transfers_no_update; UPDATE fund_transfers SET amount = amount + 100 WHERE seq = 1").execute(db.reader()).await.unwrap();
        }
        Kind::Postgres => {
            sqlx::raw_sql("DROP TRIGGER fund_transfers_no_update ON fund_transfers; UPDATE fund_transfers SET amount = amount + 100 WHERE seq = 1").execute(db.reader()).await.unwrap();
        }
    }
    let o = verify(&base, &["--state", st]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("FAIL: entry 1 ") && err.contains("does not match leaf 1"),
        "{}",
        out(&o)
    );
    db.close().await;
}

/// A transfer written into the database behind the procedures' backs — a
/// bare `expense_repair ← bank` with its own valid leaf, so the server signs
/// a checkpoint over it — is named by `gongzhi verify`; so is one that moves
/// maintenance-fund interest into revenue.
async fn verify_names_a_bare_outflow(kind: Kind) {
    let (db, c, url, dir) = fresh_compound(kind).await;
    some_books(&db, &c, "one").await;
    let (_srv, base) = serve(&url, dir.path()).await;
    let o = verify(&base, &[]);
    assert!(o.status.success(), "{}", out(&o));
    // the refusal at the door: a direct outflow is not recorded at all
    let e = fund::record_transfer(
        &db,
        &c,
        Idem::new("bare-api", "h".into()).unwrap(),
        tr(
            AccountCode::ExpenseRepair,
            AccountCode::Bank,
            1_000_00,
            "repair",
            "no approval",
        ),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&e, gongzhi_store::StoreError::Invalid { field, .. } if field == "debit"),
        "{e}"
    );
    // behind the door: the same transfer appended with a valid leaf
    let bare = |debit, credit| {
        let c = c.clone();
        let db = db.clone();
        async move {
            db.write_locked(move |tx| {
                let c = c.clone();
                Box::pin(async move {
                    let mut books = fund::lock(tx, &c.id).await?;
                    fund::append(
                        tx,
                        &c,
                        &mut books,
                        tr(debit, credit, 1_000_00, "repair", "bare"),
                    )
                    .await
                })
            })
            .await
            .unwrap()
        }
    };
    let t = bare(AccountCode::ExpenseRepair, AccountCode::Bank).await;
    let o = verify(&base, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!("FAIL: entry {} (id {}", t.seq, t.id))
            && err.contains("money left a bank account without an approved disbursement"),
        "{}",
        out(&o)
    );
    db.close().await;
}

async fn verify_names_a_principal_shift(kind: Kind) {
    let (db, c, url, dir) = fresh_compound(kind).await;
    some_books(&db, &c, "one").await;
    let (_srv, base) = serve(&url, dir.path()).await;
    // maintenance-fund interest moved into ordinary revenue (no cash leaves a
    // bank account, but no procedure writes it: two approvals could then
    // spend it from `bank` without the owners' vote)
    let cc = c.clone();
    let t = db
        .write_locked(move |tx| {
            let c = cc.clone();
            Box::pin(async move {
                let mut books = fund::lock(tx, &c.id).await?;
                let shift = tr(
                    AccountCode::MaintenanceInterest,
                    AccountCode::RevenueOther,
                    1_000_00,
                    "transfer",
                    "interest to revenue",
                );
                fund::append(tx, &c, &mut books, shift).await
            })
        })
        .await
        .unwrap();
    let o = verify(&base, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!("FAIL: entry {} (id {}", t.seq, t.id))
            && err.contains("a transfer no procedure writes"),
        "{}",
        out(&o)
    );
    db.close().await;
}

fn tool(cmd: &str, args: &[&str]) -> Output {
    Command::new(cmd).args(args).output().unwrap_or_else(|e| {
        panic!("{cmd} is required for this test (install it: .ci/run does): {e}")
    })
}

/// The server's posted balances, debit-positive, by export account name.
async fn server_balances(base: &str) -> BTreeMap<String, i64> {
    let v: serde_json::Value = reqwest::get(format!(
        "{base}/api/v1/public/compounds/{CODE}/books/accounts"
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let mut m = BTreeMap::new();
    for a in v["accounts"].as_array().unwrap() {
        let code = AccountCode::parse(a["code"].as_str().unwrap()).unwrap();
        let b = a["debits_posted"].as_i64().unwrap() - a["credits_posted"].as_i64().unwrap();
        if b != 0 {
            m.insert(name(code), b);
        }
    }
    m
}

fn name(code: AccountCode) -> String {
    // mirrors books_cli::account_name
    use AccountCode::*;
    let root = match code {
        Bank | MaintenanceBank | OwnerReceivables => "Assets",
        DividendsPayable => "Liabilities",
        MaintenancePrincipal | MaintenanceInterest | OpeningBalance => "Equity",
        c if c.is_expense() => "Expenses",
        _ => "Income",
    };
    let leaf = code
        .as_str()
        .strip_prefix("expense_")
        .unwrap_or(code.as_str());
    let camel: String = leaf
        .split('_')
        .map(|w| w[..1].to_uppercase() + &w[1..])
        .collect();
    format!("{root}:{camel}")
}

fn fen(s: &str) -> i64 {
    gongzhi_domain::money::parse_hundredths(s.trim().trim_end_matches("CNY").trim())
        .unwrap_or_else(|e| panic!("'{s}': {e}"))
}

async fn exports_pass_the_real_tools(kind: Kind) {
    let (db, c, url, dir) = fresh_compound(kind).await;
    some_books(&db, &c, "one").await;
    let (_srv, base) = serve(&url, dir.path()).await;
    let want = server_balances(&base).await;
    assert_eq!(
        want.get("Assets:Bank"),
        Some(&(1_234_567_89 + 48_000_00 - 35_00))
    );
    let export = |fmt: &str| {
        let p = dir.path().join(format!("books.{fmt}"));
        let o = bin()
            .args([
                "export",
                "books",
                "--from",
                &base,
                "--compound",
                CODE,
                "--format",
                fmt,
                "--out",
            ])
            .arg(&p)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", out(&o));
        (
            p.to_str().unwrap().to_string(),
            std::fs::read_to_string(&p).unwrap(),
        )
    };

    // hledger: strict check, then balances
    let (hl, text) = export("hledger");
    assert!(
        text.contains("1234567.89 CNY") && text.contains("-35.00 CNY"),
        "{text}"
    );
    let o = tool("hledger", &["check", "-s", "-f", &hl]);
    assert!(o.status.success(), "hledger check -s: {}\n{text}", out(&o));
    let o = tool("hledger", &["bal", "-f", &hl, "--flat", "-N", "-O", "csv"]);
    assert!(o.status.success(), "{}", out(&o));
    let mut got = BTreeMap::new();
    for line in String::from_utf8_lossy(&o.stdout).lines().skip(1) {
        let cols: Vec<&str> = line.split("\",\"").map(|c| c.trim_matches('"')).collect();
        let v = fen(cols[1]);
        if v != 0 {
            got.insert(cols[0].to_string(), v);
        }
    }
    assert_eq!(got, want, "hledger balances are the server's");

    // beancount
    let (bc, text) = export("beancount");
    assert!(text.contains("option \"tolerance_multiplier\" \"0\""));
    let o = tool("bean-check", &[&bc]);
    assert!(o.status.success(), "bean-check: {}\n{text}", out(&o));
    let script = "import sys\nfrom beancount import loader\nfrom beancount.core import data\nentries, errors, _ = loader.load_file(sys.argv[1])\nassert not errors, errors\nb = {}\nfor e in entries:\n    if isinstance(e, data.Transaction):\n        for p in e.postings:\n            b[p.account] = b.get(p.account, 0) + p.units.number\nfor k, v in sorted(b.items()):\n    print(f'{k} {v:.2f}')\n";
    let o = tool("python3", &["-c", script, &bc]);
    assert!(o.status.success(), "{}", out(&o));
    let mut got = BTreeMap::new();
    for line in String::from_utf8_lossy(&o.stdout).lines() {
        let (a, v) = line.split_once(' ').unwrap();
        let v = fen(v);
        if v != 0 {
            got.insert(a.to_string(), v);
        }
    }
    assert_eq!(got, want, "beancount balances are the server's");

    // csv: every entry, amounts with two decimals
    let (_, text) = export("csv");
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let rows: Vec<csv::StringRecord> = r.records().map(|x| x.unwrap()).collect();
    assert_eq!(rows.len(), 6);
    for row in &rows {
        let a = &row[6];
        assert!(
            a.split_once('.').is_some_and(|(_, d)| d.len() == 2),
            "two decimals: {a}"
        );
    }
    assert_eq!(&rows[4][3], "pending");
    db.close().await;
}

both!(
    verify_catches_tampering,
    exports_pass_the_real_tools,
    verify_names_a_bare_outflow,
    verify_names_a_principal_shift
);

/// The demo's books verify, and their exports pass hledger and bean-check.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_books_verify_and_export() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    let o = bin()
        .args(["demo", "--load-only", "--data-dir"])
        .arg(&data)
        .env("GONGZHI_LOG", "warn")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", out(&o));
    let summary = String::from_utf8_lossy(&o.stdout);
    assert!(summary.contains("(72.00 m²) gets 288.00"), "{summary}");
    let url = format!("sqlite://{}", data.join("gongzhi.db").display());
    let (_srv, base) = serve(&url, &data).await;
    for code in ["jingcheng-mingdian", "jinyuan-shangcheng-a"] {
        let o = bin()
            .args(["verify", "--from", &base, "--compound", code])
            .output()
            .unwrap();
        assert!(o.status.success(), "{code}: {}", out(&o));
        for (fmt, cmd) in [("hledger", "hledger"), ("beancount", "bean-check")] {
            let p = dir.path().join(format!("{code}.{fmt}"));
            let o = bin()
                .args([
                    "export",
                    "books",
                    "--from",
                    &base,
                    "--compound",
                    code,
                    "--format",
                    fmt,
                    "--out",
                ])
                .arg(&p)
                .output()
                .unwrap();
            assert!(o.status.success(), "{}", out(&o));
            let p = p.to_str().unwrap();
            let o = if cmd == "hledger" {
                tool(cmd, &["check", "-s", "-f", p])
            } else {
                tool(cmd, &[p])
            };
            assert!(o.status.success(), "{cmd} on {code}: {}", out(&o));
        }
    }
    // the maintenance fund's principal is untouched, the interest spent by vote
    let v: serde_json::Value = reqwest::get(format!(
        "{base}/api/v1/public/compounds/jinyuan-shangcheng-a/books/accounts"
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let posted = |code: &str| {
        v["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["code"] == code)
            .unwrap()["posted"]
            .as_i64()
            .unwrap()
    };
    assert_eq!(posted("maintenance_principal"), 5_200_000_00);
    assert_eq!(
        posted("maintenance_interest"),
        200_000_00 - 86_000_00 - 18_000_00,
        "interest spent by vote, and an emergency lift repair"
    );
    let d: serde_json::Value = reqwest::get(format!(
        "{base}/api/v1/public/compounds/jinyuan-shangcheng-a/books/disbursements"
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let lift = d["disbursements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["emergency"] == "elevator_stopped")
        .expect("the emergency use is on the public board");
    assert_eq!(lift["state"], "posted");
    assert_eq!(lift["second_role"], "steward");
    // the interest was spent by a real, passed vote of the compound
    let gym = d["disbursements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["source"] == "maintenance_interest" && x["emergency"].is_null())
        .expect("the facilities bought from the interest");
    let vote_id = gym["vote_id"].as_str().expect("linked to a vote");
    let rec: serde_json::Value =
        reqwest::get(format!("{base}/api/v1/public/votes/{vote_id}/record.json"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert_eq!(rec["format"], "gongzhi.vote/1");
    assert!(
        rec["ballots"].as_array().unwrap().len() > 300,
        "a compound-wide vote"
    );
    // the demo owner's dividend statement and paid bills
    let owner = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let r = owner
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({"username": "owner", "password": "gongzhi-demo"}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let me: serde_json::Value = owner
        .get(format!("{base}/api/v1/me/books"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        me["dividends"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["area_m2"] == "72.00" && l["amount"] == "288.00"),
        "{me}"
    );
    assert!(
        me["bills"]
            .as_array()
            .unwrap()
            .iter()
            .all(|b| b["outstanding"] == "0.00"),
        "{me}"
    );
    // the light bulb: posted, approved in two roles
    let d: serde_json::Value = reqwest::get(format!(
        "{base}/api/v1/public/compounds/jingcheng-mingdian/books/disbursements"
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let bulb = d["disbursements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["purpose"].as_str().unwrap().contains("light bulb"))
        .unwrap();
    assert_eq!(
        (
            bulb["state"].as_str(),
            bulb["first_role"].as_str(),
            bulb["second_role"].as_str()
        ),
        (Some("posted"), Some("committee_member"), Some("supervisor"))
    );
}

/// SIGKILL in the middle of a stream of acknowledged payments: after the
/// restart every acknowledged payment is present once, the books balance,
/// and the log is consistent with the checkpoint verified before the kill.
async fn sigkill_mid_stream(kind: Kind) {
    let (db, c, url, dir) = fresh_compound(kind).await;
    let h = gongzhi_store::auth::hash_password("steward password").unwrap();
    let cid = c.id.clone();
    db.write(move |tx| {
        let (h, cid) = (h.clone(), cid.clone());
        Box::pin(async move {
            let u = gongzhi_store::auth::create_user(tx, "t", "steward", &h, None).await?;
            gongzhi_store::auth::add_grant(tx, "t", &u, Role::Steward, Some(&cid), None).await?;
            Ok(())
        })
    })
    .await
    .unwrap();
    db.close().await;
    let (srv, base) = serve(&url, dir.path()).await;
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let r = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({"username": "steward", "password": "steward password"}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let pay = |i: usize| serde_json::json!({"debit": "bank", "credit": "fee_income", "amount": format!("{}.{:02}", 100 + i, i % 100), "code": "fee", "memo": format!("payment {i}")});
    let url_t = format!("{base}/api/v1/compounds/{CODE}/books/transfers");
    // some payments, then a verified checkpoint
    let mut acked: Vec<(usize, String)> = Vec::new();
    for i in 0..20 {
        let r = client
            .post(&url_t)
            .header("Idempotency-Key", format!("pay-{i}"))
            .json(&pay(i))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), reqwest::StatusCode::CREATED);
        let v: serde_json::Value = r.json().await.unwrap();
        acked.push((i, v["transfer"]["id"].as_str().unwrap().to_string()));
    }
    let state = dir.path().join("state.json");
    let o = verify(&base, &["--state", state.to_str().unwrap()]);
    assert!(o.status.success(), "{}", out(&o));
    // a stream of payments from 4 clients; SIGKILL the server in the middle
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut hs = Vec::new();
    for w in 0..4usize {
        let (client, url_t, stop) = (client.clone(), url_t.clone(), stop.clone());
        hs.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            let mut i = 1000 + w * 10_000;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let body = serde_json::json!({"debit": "bank", "credit": "fee_income", "amount": "88.50", "code": "fee", "memo": format!("payment {i}")});
                match client.post(&url_t).header("Idempotency-Key", format!("pay-{i}")).json(&body).send().await {
                    Ok(r) if r.status() == reqwest::StatusCode::CREATED => {
                        let v: serde_json::Value = r.json().await.unwrap_or_default();
                        if let Some(id) = v["transfer"]["id"].as_str() {
                            mine.push((i, id.to_string()));
                        }
                    }
                    _ => break,
                }
                i += 1;
            }
            mine
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    let mut srv = srv;
    srv.0.kill().unwrap(); // SIGKILL
    srv.0.wait().unwrap();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut streamed = 0;
    for h in hs {
        let mine = h.await.unwrap();
        streamed += mine.len();
        acked.extend(mine);
    }
    assert!(
        streamed > 0,
        "some payments were acknowledged before the kill"
    );
    // restart on the same database and key
    let (_srv2, base2) = serve(&url, dir.path()).await;
    let o = verify(&base2, &["--state", state.to_str().unwrap()]);
    assert!(o.status.success(), "after SIGKILL: {}", out(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("consistent with the last verified checkpoint")
    );
    let v: serde_json::Value = reqwest::get(format!(
        "{base2}/api/v1/public/compounds/{CODE}/books/transfers?limit=10000"
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let ts = v["transfers"].as_array().unwrap();
    for (i, id) in &acked {
        let n = ts.iter().filter(|t| t["id"] == id.as_str()).count();
        assert_eq!(n, 1, "acknowledged payment {i} ({id}) present once");
        let memo = format!("payment {i}");
        assert_eq!(
            ts.iter().filter(|t| t["memo"] == memo.as_str()).count(),
            1,
            "payment {i} recorded once"
        );
    }
}

both!(sigkill_mid_stream);
