//! `gongzhi bench votes`: the tally of a large vote in the domain, freezing a
//! 10,000-part compound's electorate, recording 10,000 ballots and closing
//! (tally from the database) on SQLite.

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
fn one_compound(parts: usize) -> String {
    use std::fmt::Write as _;
    let mut s = String::from("district,street,community,compound,building,unit,number,kind,area_m2,area_basis,owner_key,owner_name,phone\n");
    for k in 0..parts {
        let (building, unit, flat) = (k / 250 + 1, (k % 250) / 50 + 1, k % 50);
        let area = 6000 + (k * 37 % 9000);
        let owner = if k % 10 == 1 { k - 1 } else { k };
        let _ = writeln!(s, "测试区,测试街道,测试社区,万户小区,{building},{unit},{}{:02},flat,{}.{:02},registered,o-{owner},业主{owner},", flat / 2 + 1, flat % 2 + 1, area / 100, area % 100);
    }
    s
}

pub async fn run(ballots: usize, url: Option<String>) -> anyhow::Result<()> {
    // 1. Domain: `ballots` owners, each one part, 9 in 10 vote.
    let t = Instant::now();
    let parts: Vec<Part> = (0..ballots)
        .map(|i| {
            Part::new(
                format!("p{i}"),
                Area(6000 + (i as i64 * 37) % 9000),
                format!("o-{i}"),
            )
        })
        .collect();
    let bs: Vec<Ballot> = (0..ballots)
        .filter(|i| i % 10 != 9)
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
    let rows =
        crate::roster_cli::read_roster(one_compound(10_000).as_bytes()).map_err(|x| e(&x[0]))?;
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
        let v = db
            .write(move |tx| {
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
            .map_err(e)?;
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
                            gongzhi_store::votes::Cast {
                                vote_id: &id,
                                owner_id: o,
                                choice: if i % 3 == 0 { Choice::No } else { Choice::Yes },
                                channel: Channel::Online,
                                cast_by: "bench",
                                proxy_holder: None,
                                evidence_id: None,
                                now: now + 1,
                            },
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
        let id2 = id.clone();
        let (_, r) = db
            .write(move |tx| {
                let id = id2.clone();
                Box::pin(async move {
                    gongzhi_store::votes::close_vote(tx, "bench", &id, now + 2).await
                })
            })
            .await
            .map_err(e)?;
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
    db.close().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
