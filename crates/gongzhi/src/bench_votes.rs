//! `gongzhi bench votes`: the tally of a large vote in the domain; freezing a
//! 10,000-part compound's electorate, recording its ballots and closing;
//! ballots cast through the real HTTP API by concurrent owners; and the
//! close (tally from the database) of a vote with `ballots` stored ballots.

use gongzhi_domain::ballot::Channel;
use gongzhi_domain::money::Area;
use gongzhi_domain::vote::{tally, Ballot, Choice, Matter, Part, Rule};
use std::sync::Arc;
use std::time::Instant;

fn e(x: impl std::fmt::Display) -> anyhow::Error {
    anyhow::anyhow!("{x}")
}

/// One compound of `parts` flats (buildings of 5 units × 50 flats), every
/// 10th owner holding two flats.
fn one_compound(name: &str, parts: usize) -> String {
    use std::fmt::Write as _;
    let mut s = String::from("district,street,community,compound,building,unit,number,kind,area_m2,area_basis,owner_key,owner_name,phone\n");
    for k in 0..parts {
        let (building, unit, flat) = (k / 250 + 1, (k % 250) / 50 + 1, k % 50);
        let area = 6000 + (k * 37 % 9000);
        let owner = if k % 10 == 1 { k - 1 } else { k };
        let _ = writeln!(s, "测试区,测试街道,测试社区,{name},{building},{unit},{}{:02},flat,{}.{:02},registered,o-{owner},业主{owner},", flat / 2 + 1, flat % 2 + 1, area / 100, area % 100);
    }
    s
}

pub async fn run(
    ballots: usize,
    url: Option<String>,
    http_seconds: u64,
    clients: usize,
) -> anyhow::Result<()> {
    // 1. Domain: `ballots` + 10 % owners, each one part; exactly `ballots`
    // of them vote (the last tenth abstains from voting).
    let t = Instant::now();
    let parts: Vec<Part> = (0..ballots + ballots / 10)
        .map(|i| {
            Part::new(
                format!("p{i}"),
                Area(6000 + (i as i64 * 37) % 9000),
                format!("o-{i}"),
            )
        })
        .collect();
    let bs: Vec<Ballot> = (0..ballots)
        .map(|i| {
            Ballot::new(
                format!("o-{i}"),
                if i % 3 == 0 { Choice::No } else { Choice::Yes },
            )
        })
        .collect();
    let gen = t.elapsed();
    let rule = Rule::CivilCode {
        matter: Matter::Ordinary,
    };
    let mut best = f64::MAX;
    let mut passed = false;
    for _ in 0..3 {
        let t = Instant::now();
        let r = tally(&parts, &bs, &rule).map_err(e)?;
        best = best.min(t.elapsed().as_secs_f64());
        passed = r.passed;
    }
    println!("domain tally: {} parts, {} ballots (generated in {:.2} s): best of 3 {:.3} s ({:.0} ballots/s), passed={passed}", parts.len(), bs.len(), gen.as_secs_f64(), best, bs.len() as f64 / best);

    // 2. Database: a 10,000-part compound.
    let dir = std::env::temp_dir().join(format!("gongzhi-bench-votes-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let url = url.unwrap_or_else(|| format!("sqlite://{}", dir.join("gongzhi.db").display()));
    let db = gongzhi_store::Db::connect(&url).await.map_err(e)?;
    let rows = crate::roster_cli::read_roster(one_compound("万户小区", 10_000).as_bytes())
        .map_err(|x| e(&x[0]))?;
    gongzhi_store::import::import_roster(&db, "bench", rows, false, Arc::new(|_| {}))
        .await
        .map_err(e)?;
    let compounds = gongzhi_store::register::public_compounds(&db)
        .await
        .map_err(e)?;
    let now = gongzhi_store::db::now_ms();
    let mut results = Vec::new();
    for c in &compounds {
        let place = gongzhi_store::register::place_by_code(&db, &c.code)
            .await
            .map_err(e)?;
        let t = Instant::now();
        let v = open_vote(&db, place, now).await?;
        let freeze = t.elapsed();
        let el = gongzhi_store::votes::electorate(&db, &v.id)
            .await
            .map_err(e)?;
        let mut owners: Vec<String> = el.iter().map(|x| x.owner_id.clone()).collect();
        owners.dedup();
        let id = v.id.clone();
        let n = owners.len();
        let t = Instant::now();
        for chunk in owners.chunks(500) {
            let (id, chunk) = (id.clone(), chunk.to_vec());
            db.write(move |tx| {
                let (id, chunk) = (id.clone(), chunk.clone());
                Box::pin(async move {
                    for (i, o) in chunk.iter().enumerate() {
                        gongzhi_store::votes::cast(
                            tx,
                            online(
                                &id,
                                o,
                                if i % 3 == 0 { Choice::No } else { Choice::Yes },
                                now + 1,
                            ),
                        )
                        .await?;
                    }
                    Ok::<_, gongzhi_store::StoreError>(())
                })
            })
            .await
            .map_err(e)?;
        }
        let cast = t.elapsed();
        let t = Instant::now();
        let r = close_vote(&db, &id, now + 2).await?;
        let close = t.elapsed();
        results.push((el.len(), n, freeze, cast, close, r.passed));
    }
    println!("database ({}):", db.display_url());
    for (parts, owners, freeze, cast, close, passed) in results {
        println!(
            "  compound of {parts} parts / {owners} owners: freeze electorate {:.3} s; {owners} ballots in 500-ballot transactions {:.2} s ({:.0} ballots/s); close (load + tally + record + audit) {:.3} s; passed={passed}",
            freeze.as_secs_f64(),
            cast.as_secs_f64(),
            owners as f64 / cast.as_secs_f64(),
            close.as_secs_f64()
        );
    }
    let place = gongzhi_store::register::place_by_code(&db, &compounds[0].code)
        .await
        .map_err(e)?;
    http_cast(&db, place.clone(), http_seconds, clients).await?;
    recast_reads(&db, place).await?;
    let big = big_vote(&db, ballots).await?;
    println!(
        "  vote of {} parts / {} ballots: bulk-load register {:.1} s; freeze electorate (create + open) {:.2} s; bulk-load ballots {:.1} s; close (load + tally + record + audit) {:.2} s; voted {} of {} owners, passed={}",
        big.parts, big.tally.voted_headcount, big.register.as_secs_f64(), big.freeze.as_secs_f64(), big.ballots.as_secs_f64(), big.close.as_secs_f64(), big.tally.voted_headcount, big.tally.total_headcount, big.tally.passed
    );
    db.close().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// Creates and opens (freezing the electorate) an online vote over `place`
/// under the Civil Code's ordinary rule, open from `now` for a day.
async fn open_vote(
    db: &gongzhi_store::Db,
    place: gongzhi_store::register::Place,
    now: i64,
) -> anyhow::Result<gongzhi_store::votes::VoteView> {
    db.write(move |tx| {
        let place = place.clone();
        Box::pin(async move {
            let v = gongzhi_store::votes::create_vote(
                tx,
                "bench",
                gongzhi_store::votes::NewVote {
                    title: "bench",
                    place: &place,
                    rule: Rule::CivilCode {
                        matter: Matter::Ordinary,
                    },
                    opens_at: now - 1000,
                    closes_at: now + 86_400_000,
                    channels: vec![Channel::Online],
                },
            )
            .await?;
            gongzhi_store::votes::open_vote(tx, "bench", &v.id, 3, now).await
        })
    })
    .await
    .map_err(e)
}

async fn close_vote(
    db: &gongzhi_store::Db,
    id: &str,
    now: i64,
) -> anyhow::Result<gongzhi_domain::vote::Tally> {
    let id = id.to_string();
    let (_, t) = db
        .write(move |tx| {
            let id = id.clone();
            Box::pin(async move { gongzhi_store::votes::close_vote(tx, "bench", &id, now).await })
        })
        .await
        .map_err(e)?;
    Ok(t)
}

/// [`open_vote`], and the owners of its electorate (sorted, once each).
async fn open_with_owners(
    db: &gongzhi_store::Db,
    place: gongzhi_store::register::Place,
    now: i64,
) -> anyhow::Result<(gongzhi_store::votes::VoteView, Vec<String>)> {
    let v = open_vote(db, place, now).await?;
    let el = gongzhi_store::votes::electorate(db, &v.id)
        .await
        .map_err(e)?;
    let mut owners: Vec<String> = el.iter().map(|x| x.owner_id.clone()).collect();
    owners.sort();
    owners.dedup();
    Ok((v, owners))
}

/// An online ballot cast by the bench.
fn online<'a>(
    vote_id: &'a str,
    owner_id: &'a str,
    choice: Choice,
    now: i64,
) -> gongzhi_store::votes::Cast<'a> {
    gongzhi_store::votes::Cast {
        vote_id,
        owner_id,
        choice,
        channel: Channel::Online,
        cast_by: "bench",
        proxy_holder: None,
        evidence_id: None,
        now,
    }
}

/// The most owner accounts the HTTP bench creates.
const HTTP_OWNERS: usize = 5_000;

/// Ballots through the real HTTP API: a vote opened over `place`, up to
/// [`HTTP_OWNERS`] owners of its electorate given accounts linked to them
/// and API tokens, the axum server on a loopback port, and `clients`
/// concurrent clients each POSTing `/api/v1/votes/{id}/ballots` with the
/// next owner's bearer token for `seconds` (owners past the last start
/// again: their new ballot replaces the earlier one, both kept).
async fn http_cast(
    db: &gongzhi_store::Db,
    place: gongzhi_store::register::Place,
    seconds: u64,
    clients: usize,
) -> anyhow::Result<()> {
    let now = gongzhi_store::db::now_ms();
    let (v, mut owners) = open_with_owners(db, place, now).await?;
    owners.truncate(HTTP_OWNERS);
    let hash = gongzhi_store::auth::hash_password("bench password").map_err(e)?;
    let t = Instant::now();
    let mut tokens: Vec<String> = Vec::with_capacity(owners.len());
    for (c, chunk) in owners.chunks(500).enumerate() {
        let (chunk, hash) = (chunk.to_vec(), hash.clone());
        let toks = db
            .write(move |tx| {
                let (chunk, hash) = (chunk.clone(), hash.clone());
                Box::pin(async move {
                    let mut out = Vec::with_capacity(chunk.len());
                    for (i, o) in chunk.iter().enumerate() {
                        let name = format!("owner{}", c * 500 + i);
                        let uid = gongzhi_store::auth::create_user(tx, "bench", &name, &hash, None)
                            .await?;
                        gongzhi_store::auth::link_owner(tx, "bench", &uid, o).await?;
                        let (_, tok) =
                            gongzhi_store::auth::create_api_token(tx, "bench", &uid, "bench")
                                .await?;
                        out.push(tok);
                    }
                    Ok::<_, gongzhi_store::StoreError>(out)
                })
            })
            .await
            .map_err(e)?;
        tokens.extend(toks);
    }
    let accounts = t.elapsed();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let sdb = db.clone();
    tokio::spawn(async move {
        gongzhi_web::serve_on(sdb, listener, gongzhi_web::Config::default()).await
    });
    let url = format!("{base}/api/v1/votes/{}/ballots", v.id);
    let tokens = Arc::new(tokens);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let start = Instant::now();
    let deadline = start + std::time::Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (c, url, tokens, next) = (
            reqwest::Client::new(),
            url.clone(),
            tokens.clone(),
            next.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut refused = 0usize;
            while Instant::now() < deadline {
                let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let choice = if k % 3 == 0 { "no" } else { "yes" };
                let t = Instant::now();
                let r = c
                    .post(&url)
                    .bearer_auth(&tokens[k % tokens.len()])
                    .json(&serde_json::json!({ "choice": choice }))
                    .send()
                    .await?;
                let status = r.status();
                let body = r.text().await?;
                match status.as_u16() {
                    201 => lat.push(t.elapsed().as_secs_f64()),
                    // The re-cast limit (per minute, or in all).
                    429 | 422 if body.contains("owner_id") => refused += 1,
                    _ => anyhow::bail!("ballot refused: {status} {body}"),
                }
            }
            Ok::<_, anyhow::Error>((lat, refused))
        }));
    }
    let mut all = Vec::new();
    let mut refused = 0usize;
    for t in tasks {
        let (lat, r) = t.await??;
        all.extend(lat);
        refused += r;
    }
    let took = start.elapsed().as_secs_f64();
    all.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0.0)
            * 1000.0
    };
    let turnout = gongzhi_store::votes::turnout(db, &v.id).await.map_err(e)?;
    anyhow::ensure!(
        turnout.ballots_cast as usize == all.len(),
        "{} ballots stored for {} accepted",
        turnout.ballots_cast,
        all.len()
    );
    let tally = close_vote(db, &v.id, gongzhi_store::db::now_ms()).await?;
    println!(
        "  HTTP API: {} owner accounts linked with tokens in {:.1} s; POST /api/v1/votes/{{id}}/ballots with {clients} clients for {took:.1} s: {} ballots = {:.0} ballots/s; p50 {:.1} ms, p99 {:.1} ms; {refused} re-casts refused by the limit; stored {} ballots, {} owners voted",
        tokens.len(), accounts.as_secs_f64(), all.len(), all.len() as f64 / took, pct(0.5), pct(0.99), turnout.ballots_cast, tally.voted_headcount
    );
    Ok(())
}

/// Owners who re-cast in [`recast_reads`], each up to the cap.
const RECASTERS: usize = 1_000;

/// Public reads before and after a flood of re-casts: a vote over `place`
/// with one ballot per owner (bulk-loaded), then [`RECASTERS`] owners
/// re-casting up to the cap of 20 ballots (through `votes::cast`, a minute
/// apart in simulated time, so the limit lets them), the anonymous board's
/// first page and its 304, and turnout, timed (median of 20) before and
/// after; the last line is one owner trying to flood in real time.
async fn recast_reads(
    db: &gongzhi_store::Db,
    place: gongzhi_store::register::Place,
) -> anyhow::Result<()> {
    use gongzhi_domain::ballot::MAX_BALLOTS_PER_OWNER;
    let now = gongzhi_store::db::now_ms();
    let (v, owners) = open_with_owners(db, place, now).await?;
    gongzhi_store::votes::bench_ballots(db, &v.id, &owners, now)
        .await
        .map_err(e)?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let sdb = db.clone();
    tokio::spawn(async move {
        gongzhi_web::serve_on(sdb, listener, gongzhi_web::Config::default()).await
    });
    let board = format!("{base}/api/v1/public/votes/{}/board", v.id);
    let client = reqwest::Client::new();
    let measure = |label: &'static str| {
        let (client, board, db, id) = (client.clone(), board.clone(), db.clone(), v.id.clone());
        async move {
            let median = |mut v: Vec<f64>| {
                v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
                v[v.len() / 2] * 1000.0
            };
            let (mut page, mut cond, mut turnout) = (Vec::new(), Vec::new(), Vec::new());
            let (mut bytes, mut cast) = (0, 0);
            for _ in 0..20 {
                let t = Instant::now();
                let r = client.get(&board).send().await?;
                let tag = r.headers()["etag"].to_str()?.to_string();
                bytes = r.bytes().await?.len();
                page.push(t.elapsed().as_secs_f64());
                let t = Instant::now();
                let r = client
                    .get(&board)
                    .header("if-none-match", &tag)
                    .send()
                    .await?;
                anyhow::ensure!(r.status().as_u16() == 304, "no 304: {}", r.status());
                cond.push(t.elapsed().as_secs_f64());
                let t = Instant::now();
                cast = gongzhi_store::votes::turnout(&db, &id)
                    .await
                    .map_err(e)?
                    .ballots_cast;
                turnout.push(t.elapsed().as_secs_f64());
            }
            println!(
                "    {label}: {cast} ballots stored; board first page {bytes} bytes in {:.1} ms, 304 with its ETag in {:.1} ms; turnout {:.1} ms",
                median(page), median(cond), median(turnout)
            );
            Ok::<_, anyhow::Error>(())
        }
    };
    println!(
        "  re-cast flood on a vote of {} owners, each with one ballot (median of 20):",
        owners.len()
    );
    measure("before").await?;
    let t = Instant::now();
    let flooders: Vec<String> = owners.iter().take(RECASTERS).cloned().collect();
    for k in 1..MAX_BALLOTS_PER_OWNER {
        for chunk in flooders.chunks(500) {
            let (id, chunk) = (v.id.clone(), chunk.to_vec());
            db.write(move |tx| {
                let (id, chunk) = (id.clone(), chunk.clone());
                Box::pin(async move {
                    for o in &chunk {
                        gongzhi_store::votes::cast(
                            tx,
                            online(
                                &id,
                                o,
                                if k % 2 == 0 { Choice::Yes } else { Choice::No },
                                now + k * 61_000,
                            ),
                        )
                        .await?;
                    }
                    Ok::<_, gongzhi_store::StoreError>(())
                })
            })
            .await
            .map_err(e)?;
        }
    }
    let recasts = flooders.len() * (MAX_BALLOTS_PER_OWNER as usize - 1);
    println!(
        "    {} owners re-cast {} times each ({recasts} superseded ballots) in {:.1} s",
        flooders.len(),
        MAX_BALLOTS_PER_OWNER - 1,
        t.elapsed().as_secs_f64()
    );
    measure("after").await?;
    // One owner re-casting as fast as it can, in real time.
    let (mut ok, mut refused) = (0, 0);
    let t = Instant::now();
    let owner = owners[RECASTERS.min(owners.len() - 1)].clone();
    while t.elapsed().as_secs_f64() < 1.0 {
        let (id, o) = (v.id.clone(), owner.clone());
        let r = db
            .write(move |tx| {
                let (id, o) = (id.clone(), o.clone());
                Box::pin(async move {
                    gongzhi_store::votes::cast(
                        tx,
                        online(&id, &o, Choice::Yes, gongzhi_store::db::now_ms()),
                    )
                    .await
                })
            })
            .await;
        match r {
            Ok(_) => ok += 1,
            Err(gongzhi_store::StoreError::RateLimited { .. }) => refused += 1,
            Err(x) => return Err(e(x)),
        }
    }
    println!("    one owner re-casting flat out for 1 s: {ok} re-casts accepted, {refused} refused (429)");
    close_vote(db, &v.id, gongzhi_store::db::now_ms()).await?;
    Ok(())
}

pub struct BigVote {
    pub parts: usize,
    pub register: std::time::Duration,
    pub freeze: std::time::Duration,
    pub ballots: std::time::Duration,
    pub close: std::time::Duration,
    pub tally: gongzhi_domain::vote::Tally,
}

/// A vote of exactly `ballots` ballots tallied from the database: a compound
/// of `ballots` + 10 % one-flat owners bulk-loaded, the vote opened for real
/// (electorate frozen by `votes::open_vote`), one ballot for each of the
/// first `ballots` owners bulk-loaded, then `votes::close_vote` (the path the
/// server takes at close) timed.
pub async fn big_vote(db: &gongzhi_store::Db, ballots: usize) -> anyhow::Result<BigVote> {
    let n = ballots + ballots / 10;
    let rows = crate::roster_cli::read_roster(one_compound("百万户小区", 1).as_bytes())
        .map_err(|x| e(&x[0]))?;
    gongzhi_store::import::import_roster(db, "bench", rows, false, Arc::new(|_| {}))
        .await
        .map_err(e)?;
    let code = gongzhi_store::register::public_compounds(db)
        .await
        .map_err(e)?
        .into_iter()
        .find(|c| c.name == "百万户小区")
        .ok_or_else(|| e("the bench compound was not imported"))?
        .code;
    let place = gongzhi_store::register::place_by_code(db, &code)
        .await
        .map_err(e)?;
    let building = gongzhi_store::register::children(db, Some(&place))
        .await
        .map_err(e)?[0]
        .id
        .clone();
    let now = gongzhi_store::db::now_ms();
    let t = Instant::now();
    let owners = gongzhi_store::votes::bench_register(db, &place.id, &building, n - 1, now)
        .await
        .map_err(e)?;
    let register = t.elapsed();
    let t = Instant::now();
    let v = open_vote(db, place, now).await?;
    let freeze = t.elapsed();
    let t = Instant::now();
    gongzhi_store::votes::bench_ballots(db, &v.id, &owners[..ballots.min(owners.len())], now + 1)
        .await
        .map_err(e)?;
    let ballots_t = t.elapsed();
    let t = Instant::now();
    let tally = close_vote(db, &v.id, now + 2).await?;
    Ok(BigVote {
        parts: n,
        register,
        freeze,
        ballots: ballots_t,
        close: t.elapsed(),
        tally,
    })
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn the_big_vote_loader_stores_and_counts_every_ballot() {
        let dir =
            std::env::temp_dir().join(format!("gongzhi-bench-votes-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let db = gongzhi_store::Db::connect(&format!("sqlite://{}", dir.join("t.db").display()))
            .await
            .unwrap();
        let big = super::big_vote(&db, 30).await.unwrap();
        assert_eq!(big.parts, 33);
        assert_eq!(big.tally.total_headcount, 33);
        assert_eq!(big.tally.voted_headcount, 30);
        // 10 of the 30 vote no: 20 yes of 33 owners.
        assert_eq!(big.tally.yes_headcount, 20);
        db.close().await;
        let _ = std::fs::remove_dir_all(&dir);
    }
}
