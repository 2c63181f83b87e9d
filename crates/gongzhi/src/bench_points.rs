//! `gongzhi bench points`: point awards per second through the store
//! command (one transaction each: the lock, the transfer, its leaf, the
//! idempotency key, the audit entry), through the HTTP API
//! (`POST /api/v1/places/{id}/points/awards` with concurrent clients, one
//! staff token), and in a batch (the confirmed hours of a `batch`-person
//! activity posted set-based at once); then `racers` people racing for the
//! last 3 items of the store through the API (exactly 3 win, balances
//! conserved).

use gongzhi_domain::place::PlaceKind;
use gongzhi_domain::policy::Role;
use gongzhi_store::books::Idem;
use gongzhi_store::points::{self, BatchAward};
use gongzhi_store::register::{self, NewPerson, Place};
use gongzhi_store::{auth, Db, StoreError};
use std::sync::Arc;
use std::time::Instant;

fn e(x: impl std::fmt::Display) -> anyhow::Error {
    anyhow::anyhow!("{x}")
}

/// A district, street, community and compound made by hand; the community
/// and the compound.
async fn places(db: &Db) -> Result<(Place, Place), StoreError> {
    db.write(|tx| {
        Box::pin(async move {
            let d = register::create_place(tx, "bench", None, PlaceKind::District, "积分区", None)
                .await?;
            let s =
                register::create_place(tx, "bench", Some(&d), PlaceKind::Street, "积分街道", None)
                    .await?;
            let c = register::create_place(
                tx,
                "bench",
                Some(&s),
                PlaceKind::Community,
                "积分社区",
                None,
            )
            .await?;
            let k = register::create_place(
                tx,
                "bench",
                Some(&c),
                PlaceKind::Compound,
                "积分小区",
                Some("points-bench"),
            )
            .await?;
            Ok((c, k))
        })
    })
    .await
}

/// `n` people living in `home`, and for each a user with an API token
/// (resident of `home`) when `tokens`: (person ids, tokens).
async fn people(
    db: &Db,
    home: &Place,
    n: usize,
    tokens: bool,
    tag: &str,
) -> Result<(Vec<String>, Vec<String>), StoreError> {
    let hash = auth::hash_password("bench password")?;
    let mut ids = Vec::with_capacity(n);
    let mut toks = Vec::new();
    for (c, chunk) in (0..n).collect::<Vec<_>>().chunks(500).enumerate() {
        let (home, hash, chunk, tag) =
            (home.clone(), hash.clone(), chunk.to_vec(), tag.to_string());
        let (i, t) = db
            .write(move |tx| {
                let (home, hash, chunk, tag) =
                    (home.clone(), hash.clone(), chunk.clone(), tag.clone());
                Box::pin(async move {
                    let (mut ids, mut toks) = (Vec::new(), Vec::new());
                    for k in &chunk {
                        let p = register::create_person(
                            tx,
                            "bench",
                            NewPerson {
                                name: &format!("志愿者{k}"),
                                phone: None,
                                id_number: None,
                                home: &home,
                                consent_publish_name: false,
                            },
                        )
                        .await?;
                        if tokens {
                            let u = auth::create_user(
                                tx,
                                "bench",
                                &format!("{tag}-{c}-{k}"),
                                &hash,
                                Some(&p.id),
                            )
                            .await?;
                            auth::add_grant(tx, "bench", &u, Role::Resident, Some(&home.id), None)
                                .await?;
                            toks.push(auth::create_api_token(tx, "bench", &u, "bench").await?.1);
                        }
                        ids.push(p.id);
                    }
                    Ok((ids, toks))
                })
            })
            .await?;
        ids.extend(i);
        toks.extend(t);
    }
    Ok((ids, toks))
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

pub async fn run(
    url: &str,
    awards: usize,
    clients: usize,
    batch: usize,
    racers: usize,
) -> anyhow::Result<()> {
    let db = Db::connect(url).await.map_err(e)?;
    let (community, home) = places(&db).await.map_err(e)?;
    let (ids, _) = people(&db, &home, batch.max(awards), false, "p")
        .await
        .map_err(e)?;
    println!("points, {}", db.display_url());

    // 1. the store command, one after another
    let t = Instant::now();
    for (i, p) in ids.iter().cycle().take(awards).enumerate() {
        let idem = Idem::new(&format!("seq-{i}"), "bench".into()).map_err(e)?;
        points::award(&db, "bench", &community, p, 10, "巡逻", idem)
            .await
            .map_err(e)?;
    }
    let took = t.elapsed().as_secs_f64();
    println!(
        "  store command, sequential: {awards} awards in {took:.2} s = {:.0} awards/s",
        awards as f64 / took
    );

    // 2. the HTTP API, `clients` concurrent clients, one staff token
    let staff_token = {
        let hash = auth::hash_password("bench password").map_err(e)?;
        let c = community.id.clone();
        db.write(move |tx| {
            let (hash, c) = (hash.clone(), c.clone());
            Box::pin(async move {
                let u = auth::create_user(tx, "bench", "bench-staff", &hash, None).await?;
                auth::add_grant(tx, "bench", &u, Role::CommunityStaff, Some(&c), None).await?;
                Ok(auth::create_api_token(tx, "bench", &u, "bench").await?.1)
            })
        })
        .await
        .map_err(e)?
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let sdb = db.clone();
    tokio::spawn(async move {
        gongzhi_web::serve_on(sdb, listener, gongzhi_web::Config::default()).await
    });
    let award_url = format!("{base}/api/v1/places/{}/points/awards", community.id);
    let ids = Arc::new(ids);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let t = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (c, url, ids, next, tok) = (
            reqwest::Client::new(),
            award_url.clone(),
            ids.clone(),
            next.clone(),
            staff_token.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            loop {
                let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if k >= awards {
                    return Ok::<_, anyhow::Error>(lat);
                }
                let s = Instant::now();
                let r = c
                    .post(&url)
                    .bearer_auth(&tok)
                    .header("Idempotency-Key", format!("http-{k}"))
                    .json(&serde_json::json!({"person_id": ids[k % ids.len()], "points": 10, "reason": "志愿服务"}))
                    .send()
                    .await?;
                anyhow::ensure!(r.status() == 201, "award {k}: {}", r.status());
                lat.push(s.elapsed().as_secs_f64() * 1000.0);
            }
        }));
    }
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await??);
    }
    let took = t.elapsed().as_secs_f64();
    println!(
        "  HTTP API, {clients} clients: {awards} awards in {took:.2} s = {:.0} awards/s; p50 {:.1} ms, p99 {:.1} ms",
        awards as f64 / took,
        pct(&mut lat, 0.5),
        pct(&mut lat, 0.99)
    );

    // 3. a batch: the confirmed hours of a `batch`-person activity
    let list: Vec<BatchAward> = ids
        .iter()
        .take(batch)
        .map(|p| BatchAward {
            person_id: p.clone(),
            points: 30,
            reason: "志愿服务3小时".into(),
        })
        .collect();
    let t = Instant::now();
    let out = points::award_batch(
        &db,
        "bench",
        &community,
        list,
        Idem::new("batch", "bench".into()).map_err(e)?,
    )
    .await
    .map_err(e)?;
    let took = t.elapsed().as_secs_f64();
    anyhow::ensure!(out.value.awards == batch);
    println!(
        "  batch (1 transaction, set-based): {batch} awards in {:.1} ms = {:.0} awards/s",
        took * 1000.0,
        batch as f64 / took
    );

    // 4. racing redemptions for the last 3 items
    let (racers_ids, tokens) = people(&db, &home, racers, true, "racer").await.map_err(e)?;
    let list: Vec<BatchAward> = racers_ids
        .iter()
        .map(|p| BatchAward {
            person_id: p.clone(),
            points: 100,
            reason: "巡逻".into(),
        })
        .collect();
    points::award_batch(
        &db,
        "bench",
        &community,
        list,
        Idem::new("racers", "bench".into()).map_err(e)?,
    )
    .await
    .map_err(e)?;
    let item = points::create_item(&db, "bench", &community, "大米5公斤", 60, 3)
        .await
        .map_err(e)?;
    let before: i64 = points::balances(&db, &community.id)
        .await
        .map_err(e)?
        .iter()
        .filter(|(a, _)| a.starts_with("person:") || a == "held")
        .map(|(_, v)| v)
        .sum();
    let url = format!("{base}/api/v1/store/items/{item}/redemptions");
    let t = Instant::now();
    let mut tasks = Vec::new();
    for tok in tokens {
        let (c, url) = (reqwest::Client::new(), url.clone());
        tasks.push(tokio::spawn(async move {
            let s = Instant::now();
            let r = c
                .post(&url)
                .bearer_auth(&tok)
                .header("Idempotency-Key", "race")
                .send()
                .await?;
            Ok::<_, anyhow::Error>((r.status().as_u16(), s.elapsed().as_secs_f64() * 1000.0))
        }));
    }
    let (mut won, mut refused, mut lat) = (0, 0, Vec::new());
    for t in tasks {
        let (st, ms) = t.await??;
        match st {
            201 => won += 1,
            409 => refused += 1,
            other => anyhow::bail!("a racer got {other}"),
        }
        lat.push(ms);
    }
    let took = t.elapsed().as_secs_f64();
    let after = points::balances(&db, &community.id).await.map_err(e)?;
    let kept: i64 = after
        .iter()
        .filter(|(a, _)| a.starts_with("person:") || a == "held")
        .map(|(_, v)| v)
        .sum();
    let stock = points::get_item(&db, &item).await.map_err(e)?.stock;
    anyhow::ensure!(
        won == 3 && stock == 0 && kept == before && after.iter().map(|(_, v)| v).sum::<i64>() == 0,
        "won {won}, stock {stock}, {before} → {kept}"
    );
    println!(
        "  racing: {racers} people for the last 3 items through the API in {:.0} ms: {won} held, {refused} refused (409), stock 0, balances conserved; p50 {:.1} ms, p99 {:.1} ms",
        took * 1000.0,
        pct(&mut lat, 0.5),
        pct(&mut lat, 0.99)
    );
    db.close().await;
    Ok(())
}
