//! The demo's matters (issue 4), through the same store functions as the
//! API: Qianshan Meilin's building-6 elevator renewal walked through the
//! seven-step method — its owners' vote (3/4 of the building's households,
//! passed) linked as the deciding step, the cost apportionment after the
//! subsidy (200–300 yuan per household) as the result of carrying it out, and
//! the publication — and Jifu community's e管家 project list decided by the
//! residents' council, left at the delivery step.
//!
//! Dates follow report 000 (the subsidy notice in February, topic meetings
//! over two months) and report 002; names of people are not invented: the
//! actors are the bodies that act.

use crate::demo_votes::day_ms;
use gongzhi_domain::money::format_hundredths;
use gongzhi_domain::policy::Role;
use gongzhi_domain::procedure;
use gongzhi_store::register::{self, Place};
use gongzhi_store::{matters, votes, Db};
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
    let _ = writeln!(
        s,
        "  {id}  吉福社区 e管家 project list: decided by the residents' council, published; delivery is next"
    );
    Ok(s)
}
