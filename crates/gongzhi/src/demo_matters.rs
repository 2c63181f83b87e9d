//! The demo's matters (issue 4), through the same store functions as the
//! API: Qianshan Meilin's building-6 elevator renewal walked through the
//! seven-step method — its owners' vote (3/4 of the building's households,
//! passed) linked as the deciding step, the cost apportionment after the
//! subsidy (200–300 yuan per household) as the result of carrying it out, and
//! the publication, with its six topic meetings —; Jifu community's e管家
//! project list decided by the residents' council, left at the delivery
//! step; and Meijia Xingzuo's facade repair (report 004), decided by ≥ 70%
//! of the households' signatures collected door to door: paper ballots
//! recorded by the micro-grid workers through door-to-door records.
//!
//! Dates follow report 000 (the subsidy notice in February, topic meetings
//! over two months) and report 002; names of people are not invented: the
//! actors are the bodies that act.

use gongzhi_domain::ballot::{Channel, DEFAULT_PROXY_LIMIT};
use gongzhi_domain::deliberation::MeetingKind;
use gongzhi_domain::money::format_hundredths;
use gongzhi_domain::policy::Role;
use gongzhi_domain::procedure;
use gongzhi_domain::vote::{Base, Bound, Choice, Fraction, Rule};
use gongzhi_store::deliberation::{self, DoorBallot, NewDoorRecord};
use gongzhi_store::meetings::{self, NewMeeting, Participant};
use gongzhi_store::register::{self, PartFilter, Place};
use gongzhi_store::{matters, votes, Db, StoreError};
use std::collections::HashMap;
use std::fmt::Write;

/// One step to record: key, actor, role, note, linked vote, time.
pub struct Walk {
    pub key: &'static str,
    pub actor: &'static str,
    pub role: Role,
    pub note: String,
    pub vote_id: Option<String>,
    pub at: i64,
}

/// A stand-in for a scanned paper ballot: a PNG signature and a label.
pub(crate) fn scan(label: &str) -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n".to_vec();
    b.extend_from_slice(label.as_bytes());
    b
}

/// Midnight (China Standard Time) of a civil date, in Unix milliseconds.
pub(crate) fn day_ms(y: i64, m: i64, d: i64) -> i64 {
    // Days from civil (Howard Hinnant), midnight China Standard Time.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe - 719_468) * 86_400_000 - 8 * 3_600_000
}

/// Raises a matter over `place` with a built-in procedure and records `steps`
/// in order, in one transaction; returns the matter's id.
pub async fn walk(
    db: &Db,
    place: &Place,
    title: &str,
    procedure_key: &str,
    steps: Vec<Walk>,
) -> anyhow::Result<String> {
    let p = procedure::builtins()
        .into_iter()
        .find(|p| p.key == procedure_key)
        .ok_or_else(|| anyhow::anyhow!("demo: no procedure {procedure_key}"))?;
    let (place, title) = (place.clone(), title.to_string());
    let steps = std::sync::Arc::new(steps);
    let m = db
        .write(move |tx| {
            let (place, title, p, steps) = (place.clone(), title.clone(), p.clone(), steps.clone());
            Box::pin(async move {
                let first = steps.first().map(|s| s.actor).unwrap_or("demo");
                let m = matters::create_matter(tx, first, &place, &title, &p).await?;
                for s in steps.iter() {
                    matters::record_step(
                        tx,
                        s.actor,
                        &m.id,
                        s.key,
                        &[s.role],
                        &s.note,
                        s.vote_id.as_deref(),
                        s.at,
                    )
                    .await?;
                }
                Ok(m)
            })
        })
        .await?;
    Ok(m.id)
}

/// The elevator's cost in fen: the renewal of building 6's two elevators and
/// the special subsidy for elevators over 15 years old (figures invented; the
/// report gives only the 200–300 yuan each household pays after the subsidy).
pub const ELEVATOR_COST_FEN: i64 = 36_000_000;
pub const ELEVATOR_SUBSIDY_FEN: i64 = 34_900_000;

/// Loads the demo matters; `elevator_vote` is building 6's closed vote.
pub async fn load(db: &Db, elevator_vote: &str) -> anyhow::Result<String> {
    let mut s = String::new();
    let _ = writeln!(s);
    let _ = writeln!(s, "Matters (pages: /places/ID/matters, /matters/ID):");

    let qs = register::place_by_code(db, "qianshan-meilin").await?;
    let b6 = register::children(db, Some(&qs))
        .await?
        .into_iter()
        .find(|c| c.name == "6栋")
        .ok_or_else(|| anyhow::anyhow!("demo: no 6栋 in 千山美林"))?;
    let b6 = register::get_place(db, &b6.id).await?;
    let v = votes::get_vote(db, elevator_vote).await?;
    let result = v
        .result
        .clone()
        .ok_or_else(|| anyhow::anyhow!("demo: the elevator vote is not closed"))?;
    let (yes, total) = (
        result["yes_headcount"].as_i64().unwrap_or(0),
        result["total_headcount"].as_i64().unwrap_or(0),
    );
    let (net, shares) = votes::apportion(
        db,
        elevator_vote,
        ELEVATOR_COST_FEN,
        ELEVATOR_SUBSIDY_FEN,
        true,
    )
    .await?;
    let min = shares.iter().map(|p| p.amount_fen).min().unwrap_or(0);
    let max = shares.iter().map(|p| p.amount_fen).max().unwrap_or(0);
    anyhow::ensure!(
        min >= 20_000 && max <= 30_000 && shares.iter().map(|p| p.amount_fen).sum::<i64>() == net,
        "demo: each household pays 200–300 yuan after the subsidy ({min}–{max} fen)"
    );
    let closed = v.closed_at.unwrap_or(v.closes_at);
    let apportionment = format!(
        "费用分摊：改造总价 {} 元，老旧电梯专项补贴 {} 元，业主自筹 {} 元按专有面积分摊到本栋 {} 户，每户 {}–{} 元（最大余数法，余数相同时面积大者、房号在前者先得一分），合计正好 {} 元。采购合同与分摊明细同步公开；原反对的业主加入监督小组。",
        format_hundredths(ELEVATOR_COST_FEN),
        format_hundredths(ELEVATOR_SUBSIDY_FEN),
        format_hundredths(net),
        shares.len(),
        format_hundredths(min),
        format_hundredths(max),
        format_hundredths(net),
    );
    let steps = vec![
        Walk {
            key: "raise",
            actor: "demo:千山美林物业服务中心",
            role: Role::CommitteeMember,
            note: "业主群通知：国家对使用15年以上的老旧电梯改造有专项补贴，征求意见，需要改造的业主报名。".into(),
            vote_id: None,
            at: day_ms(2025, 2, 10),
        },
        Walk {
            key: "triage",
            actor: "demo:千山美林“五员共治”班子",
            role: Role::CommitteeMember,
            note: "分事：2栋、6栋共4部电梯；6栋须本栋四分之三以上户数同意方可申报。".into(),
            vote_id: None,
            at: day_ms(2025, 2, 14),
        },
        Walk {
            key: "deliberate",
            actor: "demo:九龙社区",
            role: Role::CommunityStaff,
            note: "两个月内召开6次专题会，逐户解释补贴与自筹；公告6栋业主表决：2025-05-06至2025-05-21，线上、纸质与书面委托。".into(),
            vote_id: None,
            at: day_ms(2025, 4, 18),
        },
        Walk {
            key: "decide",
            actor: "demo:千山美林业委会",
            role: Role::CommitteeMember,
            note: format!("6栋 {yes}/{total} 户同意（本栋户数四分之三以上），表决通过。"),
            vote_id: Some(elevator_vote.to_string()),
            at: closed,
        },
        Walk {
            key: "carry_out",
            actor: "demo:綦江美林物业服务有限公司",
            role: Role::Steward,
            note: apportionment,
            vote_id: None,
            at: day_ms(2025, 6, 10),
        },
        Walk {
            key: "publish",
            actor: "demo:千山美林业委会",
            role: Role::CommitteeMember,
            note: "结果公示（小区公示栏与平台）：表决结果与可核验的表决记录、每户分摊金额、采购合同。".into(),
            vote_id: None,
            at: day_ms(2025, 6, 12),
        },
        Walk {
            key: "report_back",
            actor: "demo:千山美林网格员",
            role: Role::GridWorker,
            note: "新电梯投入使用；网格员入户回访，意见汇总反馈业委会与监督小组。".into(),
            vote_id: None,
            at: day_ms(2025, 9, 20),
        },
    ];
    let id = walk(db, &b6, "千山美林6栋老旧电梯更新改造", "seven_step", steps).await?;
    // The six topic meetings of the two months before the vote (report 000).
    let mut topics = Vec::new();
    for (k, (m, d)) in [(2, 20), (3, 6), (3, 20), (3, 31), (4, 10), (4, 17)]
        .iter()
        .enumerate()
    {
        topics.push(Meet {
            kind: MeetingKind::Topic,
            title: format!("6栋电梯更新专题会（第{}次）", k + 1),
            location: "千山美林小区议事厅".into(),
            agenda: vec![
                "老旧电梯专项补贴政策".into(),
                "业主自筹部分的分摊办法".into(),
                "业主疑问解答与意见收集".into(),
            ],
            participants: vec![
                ("“五员共治”班子".into(), "总召集人".into()),
                ("九龙社区".into(), "社区两委".into()),
                ("綦江美林物业服务有限公司".into(), "物业".into()),
                ("6栋楼栋召集人".into(), "楼栋召集人".into()),
                ("6栋业主代表".into(), "业主".into()),
            ],
            starts_at: day_ms(2025, *m, *d) + 19 * 3_600_000,
            minutes: (k == 5).then(|| {
                (
                    "六次专题会后形成共识：申请补贴，6栋发起业主表决（本栋户数四分之三同意）；原反对的业主加入监督小组。".to_string(),
                    vec![0, 1, 2, 3, 4],
                    vec![
                        "2025-05-06至2025-05-21发起6栋业主表决".to_string(),
                        "成立监督小组，原反对业主参加".to_string(),
                        "费用与合同全程公开".to_string(),
                    ],
                )
            }),
        });
    }
    meet(db, &b6, &id, topics).await?;
    // The contract and the notice, as documents of their steps (stand-ins).
    let mid = id.clone();
    db.write(move |tx| {
        let mid = mid.clone();
        Box::pin(async move {
            let contract = b"%PDF-1.4\n% stand-in: 6-building elevator renewal contract\n%%EOF\n";
            deliberation::add_document(
                tx,
                "demo:綦江美林物业服务有限公司",
                &mid,
                "carry_out",
                &[Role::Steward],
                "6栋电梯更新采购合同.pdf",
                "application/pdf",
                contract,
                day_ms(2025, 6, 10),
            )
            .await?;
            let notice = scan("publication notice: vote result and shares");
            deliberation::add_document(
                tx,
                "demo:千山美林业委会",
                &mid,
                "publish",
                &[Role::CommitteeMember],
                "结果公示（公示栏照片）.png",
                "image/png",
                &notice,
                day_ms(2025, 6, 12),
            )
            .await?;
            Ok::<_, StoreError>(())
        })
    })
    .await?;
    let _ = writeln!(
        s,
        "  {id}  千山美林 6栋 elevator: seven steps done; vote {elevator_vote} linked; {}–{} yuan per household after the subsidy",
        format_hundredths(min),
        format_hundredths(max)
    );

    // 吉福社区 (Chengdu, report 002): an e管家 project list decided by the residents' council.
    let yj = register::place_by_code(db, "yunjin-chengshi-huayuan").await?;
    let community = register::get_place(
        db,
        yj.parent_id
            .as_deref()
            .ok_or_else(|| anyhow::anyhow!("demo: a compound without a community"))?,
    )
    .await?;
    let steps = vec![
        Walk {
            key: "propose",
            actor: "demo:吉福社区居民",
            role: Role::Resident,
            note: "居民在 e管家 提出并评论：小区书屋、四点半课堂、楼道适老扶手、油烟管道改造。".into(),
            vote_id: None,
            at: day_ms(2025, 3, 3),
        },
        Walk {
            key: "sort",
            actor: "demo:吉福社区党委",
            role: Role::CommunityStaff,
            note: "社区党委梳理、汇总为4个候选项目，附预算与意见摘要。".into(),
            vote_id: None,
            at: day_ms(2025, 3, 17),
        },
        Walk {
            key: "council_decides",
            actor: "demo:吉福社区居民议事会",
            role: Role::CommunityStaff,
            note: "居民议事会议决项目清单：1. 小区书屋；2. 四点半课堂；3. 楼道适老扶手。油烟管道改造转由业主协商解决。".into(),
            vote_id: None,
            at: day_ms(2025, 3, 28),
        },
        Walk {
            key: "publish_list",
            actor: "demo:吉福社区居委会",
            role: Role::CommunityStaff,
            note: "项目清单在社区公示栏与 e管家 公示。".into(),
            vote_id: None,
            at: day_ms(2025, 3, 30),
        },
        Walk {
            key: "organisations_apply",
            actor: "demo:吉福社区居委会",
            role: Role::CommunityStaff,
            note: "社会组织线上报名承接：书屋与四点半课堂各1家，扶手项目2家比选。".into(),
            vote_id: None,
            at: day_ms(2025, 4, 15),
        },
    ];
    let id = walk(
        db,
        &community,
        "吉福社区2025年e管家保障资金项目清单",
        "e_steward_project",
        steps,
    )
    .await?;
    meet(
        db,
        &community,
        &id,
        vec![Meet {
            kind: MeetingKind::Topic,
            title: "吉福社区居民议事会：e管家项目清单".into(),
            location: "吉福社区党群服务中心".into(),
            agenda: vec!["审议4个候选项目".into(), "议决项目清单".into()],
            participants: vec![
                ("吉福社区党委".into(), "社区党组织".into()),
                ("居民议事会成员".into(), "议事会".into()),
                ("居民代表".into(), "居民".into()),
            ],
            starts_at: day_ms(2025, 3, 28) + 15 * 3_600_000,
            minutes: Some((
                "议事会逐项审议候选项目，表决形成项目清单。".into(),
                vec![0, 1, 2],
                vec![
                    "项目清单：小区书屋、四点半课堂、楼道适老扶手".into(),
                    "油烟管道改造转由业主协商解决".into(),
                ],
            )),
        }],
    )
    .await?;
    let _ = writeln!(
        s,
        "  {id}  吉福社区 e管家 project list: decided by the residents' council, published; delivery is next"
    );
    s.push_str(&facade(db).await?);
    Ok(s)
}

/// A demo meeting: minutes are (text, attended participant indices, decisions).
struct Meet {
    kind: MeetingKind,
    title: String,
    location: String,
    agenda: Vec<String>,
    participants: Vec<(String, String)>,
    starts_at: i64,
    minutes: Option<(String, Vec<usize>, Vec<String>)>,
}

/// Records meetings on a matter (each announced a week ahead).
async fn meet(db: &Db, place: &Place, matter_id: &str, ms: Vec<Meet>) -> anyhow::Result<()> {
    let (place, matter_id) = (place.clone(), matter_id.to_string());
    let ms = std::sync::Arc::new(ms);
    db.write(move |tx| {
        let (place, matter_id, ms) = (place.clone(), matter_id.clone(), ms.clone());
        Box::pin(async move {
            for m in ms.iter() {
                let participants: Vec<Participant> = m
                    .participants
                    .iter()
                    .map(|(name, role)| Participant {
                        name: name.clone(),
                        role: role.clone(),
                    })
                    .collect();
                let announced = m.starts_at - 7 * 86_400_000;
                let v = meetings::create_meeting(
                    tx,
                    NewMeeting {
                        actor: "demo",
                        place: &place,
                        matter_id: Some(&matter_id),
                        kind: m.kind,
                        title: &m.title,
                        location: &m.location,
                        agenda: &m.agenda,
                        participants: &participants,
                        starts_at: m.starts_at,
                        ends_at: m.starts_at + 2 * 3_600_000,
                        announced_at: announced,
                        now: announced,
                    },
                )
                .await?;
                if let Some((text, attended, decisions)) = &m.minutes {
                    meetings::record_minutes(
                        tx,
                        "demo",
                        &v.id,
                        text,
                        attended,
                        decisions,
                        m.starts_at + 2 * 3_600_000,
                    )
                    .await?;
                }
            }
            Ok::<_, StoreError>(())
        })
    })
    .await?;
    Ok(())
}

/// 美佳星座's facade repair: the seven steps, with the decision by ≥ 70% of
/// the households (owners) signing at the door — each signature a paper
/// ballot recorded by the household's micro-grid worker through a
/// door-to-door record — under the custom rule "7/10 of all owners, at least".
async fn facade(db: &Db) -> anyhow::Result<String> {
    let mj = register::place_by_code(db, "meijia-xingzuo").await?;
    let rule = Rule::Custom {
        base: Base::Eligible,
        area: None,
        headcount: Some(Fraction::new(7, 10).map_err(|e| anyhow::anyhow!("{e}"))?),
        bound: Bound::AtLeast,
        turnout: false,
    };
    let (opens_at, closes_at) = (day_ms(2024, 11, 1), day_ms(2024, 12, 1));
    let m2 = mj.clone();
    let v = db
        .write(move |tx| {
            let mj = m2.clone();
            Box::pin(async move {
                let v = votes::create_vote(
                    tx,
                    "demo",
                    votes::NewVote {
                        title: "美佳星座外墙维修使用专项维修资金（七成以上住户签字同意）",
                        place: &mj,
                        rule,
                        opens_at,
                        closes_at,
                        channels: vec![Channel::Paper],
                    },
                )
                .await?;
                votes::open_vote(tx, "demo", &v.id, DEFAULT_PROXY_LIMIT, opens_at).await
            })
        })
        .await?;
    // Raised, triaged and deliberated before the signatures are collected.
    let steps = vec![
        Walk {
            key: "raise",
            actor: "demo:南城社区党委",
            role: Role::CommitteeMember,
            note: "外墙瓷砖脱落，五年前曾砸落地面；几百户居民头顶悬着“瓷砖炸弹”，电梯也常停运。"
                .into(),
            vote_id: None,
            at: day_ms(2024, 10, 8),
        },
        Walk {
            key: "triage",
            actor: "demo:美佳星座业委会",
            role: Role::CommitteeMember,
            note: "分事：外墙维修须动用专项维修资金，需七成以上住户签字同意。".into(),
            vote_id: None,
            at: day_ms(2024, 10, 10),
        },
        Walk {
            key: "deliberate",
            actor: "demo:南城社区",
            role: Role::CommunityStaff,
            note: "社区议事：支部成员与网格员挨家挨户做工作、收集签字（2024-11-01至2024-11-30）。"
                .into(),
            vote_id: None,
            at: day_ms(2024, 10, 15),
        },
    ];
    let mid = walk(db, &mj, "美佳星座外墙维修", "seven_step", steps).await?;

    // Door to door: each owner's first flat, by its micro-grid's worker.
    let el = votes::electorate(db, &v.id).await?;
    let parts = register::parts_under(db, &mj, &PartFilter::All, true, 5000, 0).await?;
    let workers: HashMap<String, String> = register::grids_of(db, &mj)
        .await?
        .into_iter()
        .filter_map(|g| Some((g.id, g.worker?.name)))
        .collect();
    let mut owners: Vec<String> = Vec::new();
    for e in &el {
        if !owners.contains(&e.owner_id) {
            owners.push(e.owner_id.clone());
        }
    }
    let mut visits = Vec::new();
    for (i, o) in owners.iter().enumerate() {
        // 11 of every 15 sign yes, 1 declines, 1 abstains, 2 are not reached.
        let choice = match i % 15 {
            0..=10 => Choice::Yes,
            11 => Choice::No,
            12 => Choice::Abstain,
            _ => continue,
        };
        let Some(part) = parts
            .iter()
            .find(|p| p.kind == "flat" && p.owner.as_ref().is_some_and(|w| &w.id == o))
        else {
            continue;
        };
        let worker = part
            .grid_id
            .as_ref()
            .and_then(|g| workers.get(g))
            .cloned()
            .unwrap_or_else(|| "美佳星座网格员".into());
        let at = opens_at
            + 3_600_000
            + (i as i64) * ((closes_at - opens_at - 7_200_000) / owners.len() as i64);
        visits.push((part.id.clone(), worker, choice, at));
    }
    let (vid, mid2) = (v.id.clone(), mid.clone());
    db.write(move |tx| {
        let (vid, mid, visits) = (vid.clone(), mid2.clone(), visits.clone());
        Box::pin(async move {
            for (k, (part, worker, choice, at)) in visits.iter().enumerate() {
                let ev = votes::add_evidence(
                    tx,
                    "demo:grid-worker",
                    &vid,
                    "image/png",
                    &scan(&format!("facade signature {k}")),
                )
                .await?;
                let opinion = match choice {
                    Choice::Yes => "签字同意使用维修资金修缮外墙",
                    Choice::No => "不同意，担心维修资金不够",
                    Choice::Abstain => "弃权，由大家决定",
                };
                let day = gongzhi_domain::cases::format_iso(*at)[..10].to_string();
                deliberation::add_door_record(
                    tx,
                    NewDoorRecord {
                        matter_id: &mid,
                        part_id: part,
                        visited_on: &day,
                        opinion,
                        worker,
                        recorded_by: "demo:grid-worker",
                        ballot: Some(DoorBallot {
                            vote_id: &vid,
                            choice: *choice,
                            evidence_id: &ev.id,
                        }),
                        now: *at,
                    },
                )
                .await?;
            }
            Ok::<_, StoreError>(())
        })
    })
    .await?;
    let vid = v.id.clone();
    let (_, t) = db
        .write(move |tx| {
            let vid = vid.clone();
            Box::pin(async move { votes::close_vote(tx, "demo", &vid, closes_at).await })
        })
        .await?;
    anyhow::ensure!(
        t.passed,
        "demo: the facade repair must reach 70%: {:?}",
        t.conditions
    );
    let (yes, total) = (t.yes_headcount, t.total_headcount);
    let (mid3, vid) = (mid.clone(), v.id.clone());
    db.write(move |tx| {
        let (mid, vid) = (mid3.clone(), vid.clone());
        Box::pin(async move {
            let steps = [
                (
                    "decide",
                    "demo:美佳星座业委会",
                    Role::CommitteeMember,
                    format!("敲门行动收集签字：{yes}/{total} 户同意（七成以上），通过。"),
                    Some(vid),
                    closes_at,
                ),
                (
                    "carry_out",
                    "demo:平利美佳物业服务有限公司",
                    Role::Steward,
                    "使用专项维修资金修缮外墙，为楼房披上真石漆“新衣”。".to_string(),
                    None,
                    day_ms(2025, 3, 20),
                ),
                (
                    "publish",
                    "demo:美佳星座业委会",
                    Role::CommitteeMember,
                    "结果公示：签字统计、可核验的表决记录、维修资金使用明细。".to_string(),
                    None,
                    day_ms(2025, 3, 22),
                ),
                (
                    "report_back",
                    "demo:南城社区网格员",
                    Role::GridWorker,
                    "入户回访：外墙焕然一新，“心里的大石头落地了”。".to_string(),
                    None,
                    day_ms(2025, 6, 1),
                ),
            ];
            for (key, actor, role, note, vote, at) in steps {
                matters::record_step(tx, actor, &mid, key, &[role], &note, vote.as_deref(), at)
                    .await?;
            }
            Ok::<_, StoreError>(())
        })
    })
    .await?;
    let c =
        deliberation::coverage(db, &matters::get_matter(db, &mid).await?, &PartFilter::All).await?;
    Ok(format!(
        "  {mid}  美佳星座 facade repair: {yes}/{total} households signed yes at the door (≥ 7/10) → passed; vote {}; door-to-door reached {}/{} households\n",
        v.id, c.reached, c.households
    ))
}
