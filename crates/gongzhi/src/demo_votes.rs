//! The demo's votes (issue 4), built through the same store functions as the
//! API: Qianshan Meilin building 6's elevator renewal under the local rule
//! "3/4 of the building's households" (crossing it), and Hongkang Haoyu's
//! "eight sights" names under the Civil Code's ordinary double majority —
//! both closed with their `gongzhi.vote/1` records published — plus one vote
//! left open in 精城名典 for the demo `owner` login to cast from a phone.
//!
//! Ballots are recorded as paper ballots (and two written proxies) by a grid
//! worker; the evidence files are stand-in PNG scans. Everything is
//! deterministic: who votes and how follows the electorate's order.

use crate::demo_matters::{day_ms, scan};
use gongzhi_domain::ballot::{Channel, DEFAULT_PROXY_LIMIT};
use gongzhi_domain::vote::{Base, Bound, Choice, Fraction, Matter, Rule};
use gongzhi_store::register::{self, Place};
use gongzhi_store::{votes, Db, StoreError};
use std::fmt::Write;

const ACTOR: &str = "demo";
const RECORDER: &str = "demo:grid-worker";

async fn child(db: &Db, parent: &Place, name: &str) -> anyhow::Result<Place> {
    let c = register::children(db, Some(parent))
        .await?
        .into_iter()
        .find(|c| c.name == name)
        .ok_or_else(|| anyhow::anyhow!("demo: no {name} in {}", parent.name))?;
    Ok(register::get_place(db, &c.id).await?)
}

/// How each owner of the electorate (in its order) votes: `None` = does not vote.
type Plan = dyn Fn(usize, usize) -> Option<Choice> + Send + Sync;

struct Run<'a> {
    title: &'a str,
    place: Place,
    rule: Rule,
    opens_at: i64,
    closes_at: i64,
    plan: &'a Plan,
    proxies: usize,
    /// What the vote authorises to be spent from the maintenance fund
    /// (fen, purpose), fixed before it opens.
    spending: Option<(i64, &'a str)>,
}

/// Creates, opens, fills and closes one vote; returns (id, tally summary).
async fn run(db: &Db, r: Run<'_>) -> anyhow::Result<(String, gongzhi_domain::vote::Tally)> {
    let (title, place, rule, opens_at, closes_at) = (
        r.title.to_string(),
        r.place.clone(),
        r.rule,
        r.opens_at,
        r.closes_at,
    );
    let spending = r.spending.map(|(a, p)| (a, p.to_string()));
    let v = db
        .write(move |tx| {
            let (title, place, spending) = (title.clone(), place.clone(), spending.clone());
            Box::pin(async move {
                let v = votes::create_vote(
                    tx,
                    ACTOR,
                    votes::NewVote {
                        title: &title,
                        place: &place,
                        rule,
                        opens_at,
                        closes_at,
                        channels: vec![Channel::Online, Channel::Paper, Channel::Proxy],
                    },
                )
                .await?;
                if let Some((amount, purpose)) = &spending {
                    gongzhi_store::spending::authorise_in(tx, ACTOR, &v.id, *amount, purpose)
                        .await?;
                }
                votes::open_vote(tx, ACTOR, &v.id, DEFAULT_PROXY_LIMIT, opens_at).await
            })
        })
        .await?;
    let el = votes::electorate(db, &v.id).await?;
    let mut owners: Vec<String> = Vec::new();
    for e in &el {
        if !owners.contains(&e.owner_id) {
            owners.push(e.owner_id.clone());
        }
    }
    let n = owners.len();
    let mut ballots: Vec<(String, Choice, Channel, i64)> = Vec::new();
    let mut proxies_left = r.proxies;
    for (i, o) in owners.iter().enumerate() {
        if let Some(c) = (r.plan)(i, n) {
            let channel = if proxies_left > 0 && i % 7 == 3 {
                proxies_left -= 1;
                Channel::Proxy
            } else {
                Channel::Paper
            };
            // Spread over the window's first days, in electorate order.
            let at = opens_at
                + 3_600_000
                + (i as i64) * ((closes_at - opens_at - 7_200_000) / (n as i64).max(1));
            ballots.push((o.clone(), c, channel, at));
        }
    }
    let id = v.id.clone();
    db.write(move |tx| {
        let (id, ballots) = (id.clone(), ballots.clone());
        Box::pin(async move {
            for (k, (owner, choice, channel, at)) in ballots.iter().enumerate() {
                let ev = votes::add_evidence(
                    tx,
                    RECORDER,
                    &id,
                    "image/png",
                    &scan(&format!("ballot {k}")),
                )
                .await?;
                let holder = (*channel == Channel::Proxy).then_some("业主代表 刘建国");
                votes::cast(
                    tx,
                    votes::Cast {
                        vote_id: &id,
                        owner_id: owner,
                        choice: *choice,
                        channel: *channel,
                        cast_by: RECORDER,
                        proxy_holder: holder,
                        evidence_id: Some(&ev.id),
                        now: *at,
                    },
                )
                .await?;
            }
            Ok::<_, StoreError>(())
        })
    })
    .await?;
    let (_, t) = close(db, &v.id, closes_at).await?;
    Ok((v.id, t))
}

/// Closes a demo vote at `at` (ms): counted and published.
pub(crate) async fn close(
    db: &Db,
    id: &str,
    at: i64,
) -> anyhow::Result<(votes::VoteView, gongzhi_domain::vote::Tally)> {
    let id = id.to_string();
    Ok(db
        .write(move |tx| {
            let id = id.clone();
            Box::pin(async move { votes::close_vote(tx, ACTOR, &id, at).await })
        })
        .await?)
}

/// 金缘上城A区: the owners' decision (Civil Code art. 278 (5), ordinary
/// double majority) to pay outdoor fitness equipment from the maintenance
/// fund's interest; closed and passed. Returns the vote id the disbursement
/// links to (the books refuse maintenance-fund spending without one).
pub(crate) async fn jinyuan_facilities(db: &Db) -> anyhow::Result<String> {
    let j = register::place_by_code(db, "jinyuan-shangcheng-a").await?;
    // 85% take part; of them one in six votes no.
    let plan = |i: usize, n: usize| {
        if i >= n * 17 / 20 {
            None
        } else if i.is_multiple_of(6) {
            Some(Choice::No)
        } else {
            Some(Choice::Yes)
        }
    };
    let (id, t) = run(
        db,
        Run {
            title: "金缘上城A区：使用维修资金利息购置室外健身器材和座椅",
            place: j,
            rule: Rule::CivilCode {
                matter: Matter::Ordinary,
            },
            opens_at: day_ms(2026, 3, 2),
            closes_at: day_ms(2026, 3, 17),
            plan: &plan,
            proxies: 2,
            spending: Some((86_000_00, "室外健身器材和座椅（维修资金利息）")),
        },
    )
    .await?;
    anyhow::ensure!(
        t.passed,
        "demo: the Jinyuan facilities vote must pass: {:?}",
        t.conditions
    );
    Ok(id)
}

/// Loads the demo votes; returns lines for the demo's summary.
pub async fn load(db: &Db) -> anyhow::Result<String> {
    let mut s = String::new();
    let _ = writeln!(s);
    let _ = writeln!(s, "Votes (public record: /api/v1/public/votes/ID/record.json; check it with `gongzhi audit vote FILE`):");

    // 千山美林 building 6: elevator renewal, 3/4 of the building's households.
    let qs = register::place_by_code(db, "qianshan-meilin").await?;
    let b6 = child(db, &qs, "6栋").await?;
    let three_quarters = Fraction::new(3, 4).map_err(|e| anyhow::anyhow!("{e}"))?;
    let elevator_rule = Rule::Custom {
        base: Base::Eligible,
        area: None,
        headcount: Some(three_quarters),
        bound: Bound::AtLeast,
        turnout: false,
    };
    // ⌈3n/4⌉ + 1 yes, then 2 no, 1 abstain, the rest do not vote.
    let elevator_plan = |i: usize, n: usize| {
        let yes = (3 * n).div_ceil(4) + 1;
        if i < yes {
            Some(Choice::Yes)
        } else if i < yes + 2 {
            Some(Choice::No)
        } else if i < yes + 3 {
            Some(Choice::Abstain)
        } else {
            None
        }
    };
    let (elevator_id, t) = run(
        db,
        Run {
            title: "千山美林6栋老旧电梯更新改造（按本栋户数四分之三同意）",
            place: b6,
            rule: elevator_rule,
            opens_at: day_ms(2025, 5, 6),
            closes_at: day_ms(2025, 5, 21),
            plan: &elevator_plan,
            proxies: 2,
            spending: None,
        },
    )
    .await?;
    anyhow::ensure!(
        t.passed,
        "demo: the building-6 elevator vote must cross 3/4"
    );
    let _ = writeln!(
        s,
        "  {elevator_id}  千山美林 6栋 elevator: {} of {} households yes (≥ 3/4) → passed",
        t.yes_headcount, t.total_headcount
    );

    // 宏康浩宇 "eight sights": names chosen by the owners, Civil Code ordinary.
    let hk = register::place_by_code(db, "hongkang-haoyu").await?;
    // 80% take part (by electorate order, every fifth stays home); of them 7 in 10 yes.
    let names_plan = |i: usize, _n: usize| match (i % 5, i % 10) {
        (4, _) => None,
        (_, 0) | (_, 6) => Some(Choice::No),
        (_, 8) => Some(Choice::Abstain),
        _ => Some(Choice::Yes),
    };
    let (id, t) = run(
        db,
        Run {
            title: "宏康浩宇“八景”命名",
            place: hk,
            rule: Rule::CivilCode {
                matter: Matter::Ordinary,
            },
            opens_at: day_ms(2024, 9, 2),
            closes_at: day_ms(2024, 9, 17),
            plan: &names_plan,
            proxies: 2,
            spending: None,
        },
    )
    .await?;
    anyhow::ensure!(
        t.passed,
        "demo: the eight-sights vote must pass: {:?}",
        t.conditions
    );
    let _ = writeln!(
        s,
        "  {id}  宏康浩宇 eight sights: turnout {}/{} m², {}/{} owners; yes {} m², {} owners → passed",
        gongzhi_domain::money::format_hundredths(t.voted_area.0),
        gongzhi_domain::money::format_hundredths(t.total_area.0),
        t.voted_headcount,
        t.total_headcount,
        gongzhi_domain::money::format_hundredths(t.yes_area.0),
        t.yes_headcount
    );

    // 精城名典: an open vote for the demo `owner` login.
    let jc = register::place_by_code(db, "jingcheng-mingdian").await?;
    let now = gongzhi_store::db::now_ms();
    let v = db
        .write(move |tx| {
            let jc = jc.clone();
            Box::pin(async move {
                let v = votes::create_vote(
                    tx,
                    ACTOR,
                    votes::NewVote {
                        title: "精城名典续聘物业服务企业",
                        place: &jc,
                        rule: Rule::CivilCode {
                            matter: Matter::Ordinary,
                        },
                        opens_at: now - 86_400_000,
                        closes_at: now + 14 * 86_400_000,
                        channels: vec![Channel::Online, Channel::Paper, Channel::Proxy],
                    },
                )
                .await?;
                votes::open_vote(tx, ACTOR, &v.id, DEFAULT_PROXY_LIMIT, now).await
            })
        })
        .await?;
    let _ = writeln!(
        s,
        "  {}  精城名典 steward renewal: open for 14 days — log in as `owner` and open /votes",
        v.id
    );
    s.push_str(&crate::demo_questions::load(db).await?);
    s.push_str(&crate::demo_matters::load(db, &elevator_id).await?);
    Ok(s)
}

#[cfg(test)]
mod tests {
    #[test]
    fn days() {
        assert_eq!(super::day_ms(1970, 1, 1), -8 * 3_600_000);
        assert_eq!(super::day_ms(2025, 7, 14), 1_752_422_400_000);
    }
}
