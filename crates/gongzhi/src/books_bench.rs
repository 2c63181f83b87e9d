//! `gongzhi bench books`: transfers per second with the Merkle log written
//! in the same transaction, and the cost of verifying a large log.

use gongzhi_domain::ledger::{leaf_bytes, AccountCode, Ledger, Transfer, TransferKind};
use gongzhi_domain::merkle::{self, Tree};
use gongzhi_domain::place::PlaceKind;
use gongzhi_store::fund::{self, Idem, NewTransfer};
use gongzhi_store::register;
use std::time::Instant;

fn income(amount: i64) -> NewTransfer {
    NewTransfer {
        kind: TransferKind::Posted,
        debit: AccountCode::Bank,
        credit: AccountCode::FeeIncome,
        amount,
        code: "fee".into(),
        memo: "bench fee payment".into(),
        pending_id: None,
        link: None,
        vote_id: None,
        by_user: "bench".into(),
        by_role: "steward".into(),
        timeout_at: None,
    }
}

pub async fn run(
    transfers: usize,
    concurrency: usize,
    url: &str,
    leaves: usize,
) -> anyhow::Result<()> {
    let db = gongzhi_store::Db::connect(url)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let tag = gongzhi_store::db::new_id();
    let code = format!("bench-{}", &tag[tag.len() - 12..]);
    let code2 = code.clone();
    let c = db
        .write(move |tx| {
            let code = code2.clone();
            Box::pin(async move {
                let d = register::create_place(
                    tx,
                    "bench",
                    None,
                    PlaceKind::District,
                    &format!("bench {code}"),
                    None,
                )
                .await?;
                let s = register::create_place(tx, "bench", Some(&d), PlaceKind::Street, "s", None)
                    .await?;
                let cm =
                    register::create_place(tx, "bench", Some(&s), PlaceKind::Community, "c", None)
                        .await?;
                register::create_place(
                    tx,
                    "bench",
                    Some(&cm),
                    PlaceKind::Compound,
                    "bench compound",
                    Some(&code),
                )
                .await
            })
        })
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("books, {}", db.display_url());
    let t = Instant::now();
    for i in 0..transfers {
        fund::record_transfer(
            &db,
            &c,
            Idem::new(&format!("s{i}"), "b".into())?,
            income(100 + i as i64),
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let dt = t.elapsed().as_secs_f64();
    println!("  {transfers} transfers, 1 writer:      {dt:>7.2} s  ({:.0} transfers/s, each with its leaf, balances, idempotency key, audit entry)", transfers as f64 / dt);
    let t = Instant::now();
    let mut hs = Vec::new();
    for w in 0..concurrency {
        let (db, c) = (db.clone(), c.clone());
        let n = transfers / concurrency;
        hs.push(tokio::spawn(async move {
            for i in 0..n {
                fund::record_transfer(
                    &db,
                    &c,
                    Idem::new(&format!("c{w}-{i}"), "b".into()).unwrap(),
                    income(7),
                )
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            }
            anyhow::Ok(())
        }));
    }
    for h in hs {
        h.await??;
    }
    let dt = t.elapsed().as_secs_f64();
    let n = transfers / concurrency * concurrency;
    println!(
        "  {n} transfers, {concurrency} writers:      {dt:>7.2} s  ({:.0} transfers/s)",
        n as f64 / dt
    );

    // verify end to end over HTTP: the log just written
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let sdb = db.clone();
    tokio::spawn(async move {
        gongzhi_web::serve_on(sdb, listener, gongzhi_web::Config::default()).await
    });
    let t = Instant::now();
    let code_ok = crate::books_cli::verify(&base, &code, None, None).await?;
    println!(
        "  gongzhi verify of {} entries over HTTP: {:.2} s ({code_ok:?})",
        transfers + n,
        t.elapsed().as_secs_f64()
    );

    // the verifier's work on a large log, in memory
    let origin = fund::origin("bench");
    let t = Instant::now();
    let mut tree = Tree::new();
    let mut ledger = Ledger::new();
    for i in 0..leaves {
        let tr = Transfer {
            seq: i as u64,
            id: format!("{i:016}"),
            kind: TransferKind::Posted,
            debit: AccountCode::Bank,
            credit: AccountCode::FeeIncome,
            amount: 10_000 + (i as i64 % 977),
            code: "fee".into(),
            memo: "monthly property fee".into(),
            pending_id: None,
            link: None,
            vote_id: None,
            by_user: "0193f0c2-aaaa-7bbb-8ccc-000000000000".into(),
            by_role: "steward".into(),
            at: 1_795_000_000_000 + i as i64,
            timeout_at: None,
        };
        ledger.apply(&tr).map_err(|e| anyhow::anyhow!("{e}"))?;
        tree.push(&leaf_bytes(&origin, &tr));
    }
    let root = tree.root();
    let dt = t.elapsed().as_secs_f64();
    let t2 = Instant::now();
    let p = tree
        .consistency_proof(leaves / 2, leaves)
        .unwrap_or_default();
    merkle::verify_consistency(
        (leaves / 2) as u64,
        leaves as u64,
        &p,
        &tree.root_at(leaves / 2).unwrap_or(root),
        &root,
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    // the server's side of the same log: root and proofs from cached nodes
    // against a rebuild from every leaf
    let size = gongzhi_store::tlog::size(&db, &c.id).await?;
    let t = Instant::now();
    let root = gongzhi_store::tlog::root(&db, &c.id, size).await?;
    let (_, p, _) =
        gongzhi_store::tlog::inclusion(&db, &c.id, (size / 3) as u64, size as u64).await?;
    let cached = t.elapsed().as_secs_f64() * 1000.0;
    let t = Instant::now();
    let full = gongzhi_store::tlog::tree(&db, &c.id, size).await?;
    let rebuilt = t.elapsed().as_secs_f64() * 1000.0;
    anyhow::ensure!(
        full.root() == root && full.inclusion_proof(size as usize / 3, size as usize) == Some(p),
        "cached nodes disagree with the leaves"
    );
    println!("  server root + inclusion proof of a {size}-entry log: {cached:.1} ms from cached nodes ({rebuilt:.1} ms rebuilding from every leaf)");
    println!("  verifier work for {leaves} entries (encode, hash, root, replay the ledger): {dt:.2} s; a consistency proof {leaves}/2 → {leaves}: {:.1} ms", t2.elapsed().as_secs_f64() * 1000.0);
    db.close().await;
    Ok(())
}

/// A billing run over a compound of `parts` parts (area × rate for every
/// part, one bill row each, one transfer and one record in the log, the
/// steward's remuneration accrued in the same transaction).
pub async fn billing(url: &str, parts: usize) -> anyhow::Result<()> {
    use gongzhi_domain::money::Area;
    use gongzhi_domain::place::{AreaBasis, OwnerKind, PartKind};
    use gongzhi_domain::roster::RosterRow;
    let db = gongzhi_store::Db::connect(url)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let tag = gongzhi_store::db::new_id();
    let name = format!("billing bench {}", &tag[tag.len() - 12..]);
    let rows: Vec<RosterRow> = (0..parts)
        .map(|i| RosterRow {
            row: i + 2,
            district: format!("bench {name}"),
            street: "s".into(),
            community: "c".into(),
            compound: name.clone(),
            building: format!("{}", i / 500 + 1),
            unit: format!("{}", i / 100 % 5 + 1),
            number: format!("{}", i % 100 + 101),
            kind: if i % 20 == 0 {
                PartKind::Shop
            } else {
                PartKind::Flat
            },
            area: Area(6_000 + (i as i64 * 37) % 9_000),
            area_basis: AreaBasis::Registered,
            owner_key: format!("o-{i}"),
            owner_name: format!("业主{i}"),
            owner_kind: OwnerKind::Person,
            phone: String::new(),
        })
        .collect();
    let t = Instant::now();
    gongzhi_store::import::import_roster(&db, "bench", rows, false, std::sync::Arc::new(|_| {}))
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let import = t.elapsed().as_secs_f64();
    let code = gongzhi_store::register::public_compounds(&db)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .into_iter()
        .find(|c| c.name == name)
        .ok_or_else(|| anyhow::anyhow!("the bench compound was not imported"))?
        .code;
    let c = register::place_by_code(&db, &code)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    gongzhi_store::stewardship::set(
        &db,
        "bench",
        &c,
        gongzhi_store::stewardship::Settings {
            remuneration_mode: "trust".into(),
            remuneration_bp: 1200,
            lump_sum_fen: 0,
            emergency_roles: fund::DEFAULT_EMERGENCY_ROLES,
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let t = Instant::now();
    let run = gongzhi_store::billing::bill_run(
        &db,
        "bench",
        "steward",
        &c,
        "2026-11",
        gongzhi_store::billing::Rates {
            flat: 150,
            shop: 400,
            parking: 100,
        },
        Idem::new("bench-billing", "b".into())?,
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let dt = t.elapsed().as_secs_f64();
    println!(
        "  billing run of {} parts (one transaction: {} bills, 1 transfer + 1 record + remuneration in the log): {dt:.2} s ({:.0} parts/s; roster import {import:.2} s)",
        parts,
        run.value.bills,
        parts as f64 / dt
    );
    db.close().await;
    Ok(())
}
