//! `gongzhi bench cases`: cases raised per second through the API, a work
//! queue's latency with many cases in the database, and the escalation sweep.
//! Figures go into BENCHMARKS.md; never run by the test suite.

use gongzhi_domain::cases::Calendar;
use gongzhi_store::cases::{self, ListFilter};
use gongzhi_store::db::{self, Db};
use gongzhi_store::register;
use std::sync::Arc;
use std::time::Instant;

fn e(x: impl std::fmt::Display) -> anyhow::Error {
    anyhow::anyhow!("{x}")
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    v.get(((v.len() as f64 * p) as usize).min(v.len().saturating_sub(1)))
        .copied()
        .unwrap_or(0.0)
        * 1000.0
}

pub async fn run(url: &str, bulk: usize, seconds: u64, concurrency: usize) -> anyhow::Result<()> {
    let db = Db::connect(url).await.map_err(e)?;
    let rows = crate::roster_cli::read_roster(crate::bench::synthetic_roster(10_000).as_bytes())
        .map_err(|x| e(&x[0]))?;
    gongzhi_store::import::import_roster(&db, "bench", rows, false, Arc::new(|_| {}))
        .await
        .map_err(e)?;
    let hash = gongzhi_store::auth::hash_password("bench password").map_err(e)?;
    let compound = register::place_by_code(
        &db,
        &register::public_compounds(&db).await.map_err(e)?[0].code,
    )
    .await
    .map_err(e)?;
    let c2 = compound.clone();
    db.write(move |tx| {
        let (hash, c) = (hash.clone(), c2.clone());
        Box::pin(async move {
            let id = gongzhi_store::auth::create_user(tx, "bench", "bench", &hash, None).await?;
            gongzhi_store::auth::add_grant(
                tx,
                "bench",
                &id,
                gongzhi_domain::policy::Role::GridWorker,
                Some(&c.id),
                None,
            )
            .await
        })
    })
    .await
    .map_err(e)?;
    let mut buildings = Vec::new();
    for c in register::public_compounds(&db).await.map_err(e)? {
        let p = register::place_by_code(&db, &c.code).await.map_err(e)?;
        for b in register::children(&db, Some(&p)).await.map_err(e)? {
            buildings.push(register::get_place(&db, &b.id).await.map_err(e)?);
        }
    }
    println!(
        "cases benchmark on {} ({} buildings)",
        db.display_url(),
        buildings.len()
    );

    // 1. Cases raised per second through the API (each: auth, policy, routing, deadlines, event, audit).
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let sdb = db.clone();
    tokio::spawn(async move {
        gongzhi_web::serve_on(sdb, listener, gongzhi_web::Config::default()).await
    });
    let client = reqwest::Client::builder().cookie_store(true).build()?;
    let r = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({"username": "bench", "password": "bench password"}))
        .send()
        .await?;
    anyhow::ensure!(r.status().is_success(), "bench login failed");
    let token: serde_json::Value = client
        .post(format!("{base}/api/v1/tokens"))
        .json(&serde_json::json!({"name": "bench"}))
        .send()
        .await?
        .json()
        .await?;
    let token = token["token"].as_str().unwrap_or_default().to_string();
    let deadline = Instant::now() + std::time::Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for k in 0..concurrency {
        let (url, token, place) = (
            format!("{base}/api/v1/cases"),
            token.clone(),
            buildings[k % 20].id.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let c = reqwest::Client::new();
            let mut lat = Vec::new();
            while Instant::now() < deadline {
                let t = Instant::now();
                let r = c.post(&url).bearer_auth(&token).json(&serde_json::json!({"place_id": place, "category": "repair", "description": "bench: 楼道灯不亮"})).send().await?;
                anyhow::ensure!(r.status().as_u16() == 201, "raise failed: {}", r.status());
                let _ = r.bytes().await;
                lat.push(t.elapsed().as_secs_f64());
            }
            Ok::<_, anyhow::Error>(lat)
        }));
    }
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await??);
    }
    let n = lat.len();
    println!("  POST /api/v1/cases: {n} in {seconds} s with {concurrency} clients = {:.0} cases/s; p50 {:.1} ms, p99 {:.1} ms", n as f64 / seconds as f64, pct(&mut lat, 0.5), pct(&mut lat, 0.99));

    // 2. Bulk cases straight into the table (90% closed, 10% open, spread over every building).
    let t0 = Instant::now();
    let now = db::now_ms();
    let mut made = 0usize;
    while made < bulk {
        let k = 500.min(bulk - made);
        cases::bulk_synthetic(&db, &buildings, made, k, now)
            .await
            .map_err(e)?;
        made += k;
    }
    // Fresh statistics, as autovacuum would gather after such a load (without
    // them PostgreSQL guesses the queue's selectivity and sorts a compound's
    // every open case: see BENCHMARKS.md).
    cases::analyze(&db).await.map_err(e)?;
    let total = cases::count(&db).await.map_err(e)?;
    println!(
        "  bulk-loaded {bulk} cases in {:.1} s ({total} in the database, 1 in 10 open)",
        t0.elapsed().as_secs_f64()
    );

    // 3. A worker's queue: open cases of one building, soonest deadline first, 50 per page.
    let mut lat = Vec::new();
    let f = ListFilter {
        open_only: true,
        ..Default::default()
    };
    for i in 0..300 {
        let b = &buildings[(i * 7) % buildings.len()];
        let t = Instant::now();
        let q = cases::list_under(&db, &b.path, &f, 50, 0)
            .await
            .map_err(e)?;
        lat.push(t.elapsed().as_secs_f64());
        anyhow::ensure!(!q.is_empty(), "empty queue");
    }
    println!(
        "  queue of one building (open, by deadline, 50): p50 {:.2} ms, p99 {:.2} ms",
        pct(&mut lat, 0.5),
        pct(&mut lat, 0.99)
    );
    let mut lat = Vec::new();
    for _ in 0..30 {
        let t = Instant::now();
        cases::list_under(&db, &compound.path, &f, 50, 0)
            .await
            .map_err(e)?;
        lat.push(t.elapsed().as_secs_f64());
    }
    println!(
        "  queue of a whole compound (open, by deadline, 50): p50 {:.2} ms, p99 {:.2} ms",
        pct(&mut lat, 0.5),
        pct(&mut lat, 0.99)
    );

    // 4. The escalation sweep over everything: find the overdue among all open cases and escalate them.
    let cal = Calendar::china_2026();
    let root = format!("/{}/", compound.path_ids()[0]);
    let t = Instant::now();
    let n = cases::sweep(&db, &root, "bench", &cal, now, 500)
        .await
        .map_err(e)?;
    println!(
        "  escalation sweep over ~{} open cases: {n} escalated in {:.1} s ({:.0} escalations/s)",
        total / 10,
        t.elapsed().as_secs_f64(),
        n as f64 / t.elapsed().as_secs_f64().max(1e-9)
    );
    let t = Instant::now();
    let n2 = cases::sweep(&db, &root, "bench", &cal, now, 500)
        .await
        .map_err(e)?;
    println!(
        "  second sweep (nothing due): {n2} escalated in {:.2} s",
        t.elapsed().as_secs_f64()
    );
    db.close().await;
    Ok(())
}
