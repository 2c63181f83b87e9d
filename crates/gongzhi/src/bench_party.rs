//! `gongzhi bench party`: importing N party members (one per flat of a
//! synthetic street of 100 compounds) and re-importing them unchanged; then
//! the street's party figures (`party-stats`: members, check-ins,
//! micro-grids with a member, per compound) computed repeatedly, p50/p99.

use gongzhi_domain::party::PartyRow;
use std::fmt::Write as _;
use std::time::Instant;

/// Compounds in the street; members are spread evenly over them.
const COMPOUNDS: usize = 100;

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

/// A roster of `rows` flats in one street: 100 compounds of 20 buildings.
fn roster(rows: usize) -> String {
    let per = rows.div_ceil(COMPOUNDS);
    let mut s = String::with_capacity(rows * 110);
    s.push_str("district,street,community,compound,building,unit,number,kind,area_m2,area_basis,owner_key,owner_name,phone\n");
    for i in 0..rows {
        let (c, k) = (i / per, i % per);
        let _ = writeln!(
            s,
            "基准区,基准街道,社区{},小区{c},{}栋,,{},flat,88.00,registered,p-{i},业主{i},",
            c / 10,
            k % 20 + 1,
            k / 20 + 101
        );
    }
    s
}

pub async fn run(rows: usize, url: &str, repeats: usize) -> anyhow::Result<()> {
    let e = |e: gongzhi_store::StoreError| anyhow::anyhow!("{e}");
    let db = gongzhi_store::Db::connect(url).await.map_err(e)?;
    let parsed = crate::roster_cli::read_roster(roster(rows).as_bytes())
        .map_err(|e| anyhow::anyhow!("synthetic roster invalid: {}", e[0]))?;
    gongzhi_store::import::import_roster(&db, "bench", parsed, false, std::sync::Arc::new(|_| {}))
        .await
        .map_err(e)?;
    let per = rows.div_ceil(COMPOUNDS);
    let mut codes = Vec::with_capacity(COMPOUNDS);
    let street = {
        let c0 = gongzhi_store::register::public_compounds(&db)
            .await
            .map_err(e)?;
        for c in &c0 {
            codes.push((c.name.clone(), c.code.clone()));
        }
        let any = gongzhi_store::register::place_by_code(&db, &c0[0].code)
            .await
            .map_err(e)?;
        let ancestors = gongzhi_store::register::ancestors(&db, &any)
            .await
            .map_err(e)?;
        ancestors
            .into_iter()
            .find(|p| p.kind == "street")
            .ok_or_else(|| anyhow::anyhow!("no street"))?
    };
    let code_of: std::collections::HashMap<String, String> = codes.into_iter().collect();
    let members = |changed: bool| -> Vec<PartyRow> {
        (0..rows)
            .map(|i| {
                let (c, k) = (i / per, i % per);
                let in_service = i % 3 != 0;
                PartyRow {
                    row: i + 2,
                    compound: code_of[&format!("小区{c}")].clone(),
                    building: format!("{}栋", k % 20 + 1),
                    unit: String::new(),
                    number: (k / 20 + 101).to_string(),
                    name: format!("业主{i}"),
                    phone: String::new(),
                    status: if changed && i == 0 {
                        gongzhi_domain::party::MemberStatus::Flowing
                    } else if in_service {
                        gongzhi_domain::party::MemberStatus::InService
                    } else {
                        gongzhi_domain::party::MemberStatus::Retired
                    },
                    employer: (in_service && !(changed && i == 0))
                        .then(|| format!("单位{}", i % 50)),
                    joined_on: None,
                }
            })
            .collect()
    };
    let t = Instant::now();
    let r = gongzhi_store::party::import_members(&db, "bench", members(false), false)
        .await
        .map_err(e)?
        .map_err(|e| anyhow::anyhow!("{}", e[0]))?;
    let t_import = t.elapsed();
    anyhow::ensure!(r.members_created == rows, "{r:?}");
    let t = Instant::now();
    let again = gongzhi_store::party::import_members(&db, "bench", members(false), false)
        .await
        .map_err(e)?
        .map_err(|e| anyhow::anyhow!("{}", e[0]))?;
    let t_again = t.elapsed();
    anyhow::ensure!(again.members_unchanged == rows, "{again:?}");
    let year = gongzhi_store::party::year_of(gongzhi_store::db::now_ms());
    let mut lat = Vec::with_capacity(repeats);
    let mut last = None;
    for _ in 0..repeats {
        let t = Instant::now();
        last = Some(
            gongzhi_store::party::stats(&db, &street, year)
                .await
                .map_err(e)?,
        );
        lat.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let s = last.ok_or_else(|| anyhow::anyhow!("no repeats"))?;
    anyhow::ensure!(s.members == rows as i64, "{} members counted", s.members);
    println!(
        "party members, {rows} in {COMPOUNDS} compounds of one street, {}",
        db.display_url()
    );
    println!(
        "  import (1 tx)       {:>8.2} s  ({:.0} members/s; {} people, {} employer units)",
        t_import.as_secs_f64(),
        rows as f64 / t_import.as_secs_f64(),
        r.people_created,
        r.employers_created
    );
    println!("  re-import (no-op)   {:>8.2} s", t_again.as_secs_f64());
    println!(
        "  party-stats of the street ({} children): p50 {:.1} ms, p99 {:.1} ms over {repeats} runs",
        s.children.len(),
        pct(&mut lat, 0.5),
        pct(&mut lat, 0.99)
    );
    db.close().await;
    Ok(())
}
