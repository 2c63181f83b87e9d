//! `gongzhi bench`: measured, repeatable benchmarks whose figures go into
//! BENCHMARKS.md. Never run as part of the test suite.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Instant;

/// Writes a synthetic roster: compounds of 5,000 parts (20 buildings × 5
/// units × 50 flats), every 10th owner also holding a parking space.
pub fn synthetic_roster(rows: usize) -> String {
    let mut s = String::with_capacity(rows * 120);
    s.push_str("district,street,community,compound,building,unit,number,kind,area_m2,area_basis,owner_key,owner_name,phone\n");
    let mut i = 0usize;
    while i < rows {
        let compound = i / 5000;
        let k = i % 5000;
        let (building, unit, flat) = (k / 250 + 1, (k % 250) / 50 + 1, k % 50);
        let number = format!("{}{:02}", flat / 2 + 1, flat % 2 + 1);
        let area = 6000 + (i * 37 % 9000);
        let _ = writeln!(
            s,
            "测试区,测试街道,社区{},小区{compound},{building},{unit},{number},flat,{}.{:02},registered,o-{i},业主{i},138{:08}",
            compound / 10,
            area / 100,
            area % 100,
            i % 100_000_000
        );
        i += 1;
    }
    s
}

pub async fn import(rows: usize, url: &str) -> anyhow::Result<()> {
    let t0 = Instant::now();
    let csv = synthetic_roster(rows);
    let t_gen = t0.elapsed();
    let t1 = Instant::now();
    let parsed = crate::roster_cli::read_roster(csv.as_bytes())
        .map_err(|e| anyhow::anyhow!("synthetic roster invalid: {}", e[0]))?;
    let t_parse = t1.elapsed();
    let db = gongzhi_store::Db::connect(url)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let t2 = Instant::now();
    let report =
        gongzhi_store::import::import_roster(&db, "bench", parsed, false, Arc::new(|_| {}))
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    let t_import = t2.elapsed();
    let parsed2 =
        crate::roster_cli::read_roster(csv.as_bytes()).map_err(|e| anyhow::anyhow!("{}", e[0]))?;
    let t3 = Instant::now();
    let again =
        gongzhi_store::import::import_roster(&db, "bench", parsed2, false, Arc::new(|_| {}))
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    let t_reimport = t3.elapsed();
    assert_eq!(again.parts_unchanged, rows, "re-import must change nothing");
    println!("roster import, {rows} rows, {}", db.display_url());
    println!("  generate CSV        {:>8.2} s", t_gen.as_secs_f64());
    println!("  parse + validate    {:>8.2} s", t_parse.as_secs_f64());
    println!(
        "  import (1 tx)       {:>8.2} s  ({:.0} rows/s; {} parts, {} owners, {} places)",
        t_import.as_secs_f64(),
        rows as f64 / t_import.as_secs_f64(),
        report.parts_created,
        report.owners_created,
        report.places_created
    );
    println!(
        "  validate+import     {:>8.2} s",
        (t_parse + t_import).as_secs_f64()
    );
    println!("  re-import (no-op)   {:>8.2} s", t_reimport.as_secs_f64());
    db.close().await;
    Ok(())
}

pub async fn api(seconds: u64, concurrency: usize) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("gongzhi-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let url = format!("sqlite://{}", dir.join("gongzhi.db").display());
    let db = gongzhi_store::Db::connect(&url)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let rows = crate::roster_cli::read_roster(synthetic_roster(10_000).as_bytes())
        .map_err(|e| anyhow::anyhow!("{}", e[0]))?;
    gongzhi_store::import::import_roster(&db, "bench", rows, false, Arc::new(|_| {}))
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let hash =
        gongzhi_store::auth::hash_password("bench password").map_err(|e| anyhow::anyhow!("{e}"))?;
    db.write(move |tx| {
        let hash = hash.clone();
        Box::pin(async move {
            let id = gongzhi_store::auth::create_user(tx, "bench", "bench", &hash, None).await?;
            gongzhi_store::auth::add_grant(
                tx,
                "bench",
                &id,
                gongzhi_domain::policy::Role::Admin,
                None,
                None,
            )
            .await
        })
    })
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let compound = gongzhi_store::register::public_compounds(&db)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?[0]
        .code
        .clone();
    let place = gongzhi_store::register::place_by_code(&db, &compound)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let building = gongzhi_store::register::children(&db, Some(&place))
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?[0]
        .id
        .clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let sdb = db.clone();
    tokio::spawn(async move {
        gongzhi_web::serve_on(sdb, listener, gongzhi_web::Config::default()).await
    });
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .pool_max_idle_per_host(concurrency)
        .build()?;
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
    for (label, path) in [
        (
            "GET /api/v1/places/{building}/parts?limit=50 (owners, masked phones)",
            format!("/api/v1/places/{building}/parts?limit=50"),
        ),
        (
            "GET /api/v1/places/{building}",
            format!("/api/v1/places/{building}"),
        ),
    ] {
        let deadline = Instant::now() + std::time::Duration::from_secs(seconds);
        let mut tasks = Vec::new();
        for _ in 0..concurrency {
            let c = reqwest::Client::new();
            let url = format!("{base}{path}");
            let token = token.clone();
            tasks.push(tokio::spawn(async move {
                let mut lat = Vec::new();
                while Instant::now() < deadline {
                    let t = Instant::now();
                    let r = c.get(&url).bearer_auth(&token).send().await;
                    match r {
                        Ok(r) if r.status().is_success() => {
                            let _ = r.bytes().await;
                            lat.push(t.elapsed().as_secs_f64());
                        }
                        _ => return Err(anyhow::anyhow!("request failed")),
                    }
                }
                Ok(lat)
            }));
        }
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await??);
        }
        all.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
        let pct = |p: f64| {
            all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
                .copied()
                .unwrap_or(0.0)
                * 1000.0
        };
        println!("{label}: {} requests in {seconds} s with {concurrency} clients = {:.0} req/s; p50 {:.2} ms, p99 {:.2} ms", all.len(), all.len() as f64 / seconds as f64, pct(0.5), pct(0.99));
    }
    db.close().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
