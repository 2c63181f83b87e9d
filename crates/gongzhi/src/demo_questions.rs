//! The demo's votes with questions (issue 17), through the same store
//! functions as the API, both closed with their `gongzhi.vote/2` records
//! published: 秋实学府's first owners' committee election (9 candidates for
//! 7 seats, paper and online ballots) and 宏康浩宇's "eight sights" naming
//! vote (eight questions, one name each) that came before the yes/no vote
//! adopting the list. Deterministic: who votes and how follows the
//! electorate's order.

use crate::demo_matters::{day_ms, scan};
use gongzhi_domain::ballot::{Channel, DEFAULT_PROXY_LIMIT};
use gongzhi_domain::questions::{audit_any, Audit, Choice as Opt, Question, QuestionsTally};
use gongzhi_domain::vote::{Choice, Matter, Rule};
use gongzhi_store::register::{self, Place};
use gongzhi_store::{vote_questions, votes, Db, StoreError};
use std::fmt::Write;

const ACTOR: &str = "demo";
const RECORDER: &str = "demo:grid-worker";

/// An owner's answers by their place in the electorate's order (`i` of `n`);
/// `None`: does not vote.
type Plan = dyn Fn(usize, usize) -> Option<Vec<(String, Vec<String>)>> + Send + Sync;

fn question(id: &str, title: &str, seats: u32, max_choices: u32, labels: &[&str]) -> Question {
    Question {
        id: id.into(),
        title: title.into(),
        seats,
        max_choices,
        options: labels
            .iter()
            .enumerate()
            .map(|(j, l)| Opt {
                id: format!("c{}", j + 1),
                label: (*l).into(),
            })
            .collect(),
    }
}

/// Creates, opens, fills (every third ballot on paper with its scan, the
/// rest online) and closes a vote with questions; its `/2` result.
async fn run(
    db: &Db,
    title: &str,
    place: Place,
    qs: Vec<Question>,
    (opens_at, closes_at): (i64, i64),
    plan: &Plan,
) -> anyhow::Result<(String, QuestionsTally)> {
    let title = title.to_string();
    let v = db
        .write(move |tx| {
            let (title, place, qs) = (title.clone(), place.clone(), qs.clone());
            Box::pin(async move {
                let v = votes::create_vote(
                    tx,
                    ACTOR,
                    votes::NewVote {
                        title: &title,
                        place: &place,
                        rule: Rule::CivilCode {
                            matter: Matter::Ordinary,
                        },
                        opens_at,
                        closes_at,
                        channels: vec![Channel::Online, Channel::Paper],
                    },
                )
                .await?;
                vote_questions::set_questions(tx, ACTOR, &v.id, &qs).await?;
                votes::open_vote(tx, ACTOR, &v.id, DEFAULT_PROXY_LIMIT, opens_at).await
            })
        })
        .await?;
    let mut owners: Vec<String> = Vec::new();
    for e in votes::electorate(db, &v.id).await? {
        if !owners.contains(&e.owner_id) {
            owners.push(e.owner_id);
        }
    }
    let n = owners.len();
    let step = (closes_at - opens_at - 7_200_000) / (n as i64).max(1);
    let ballots: Vec<_> = owners
        .iter()
        .enumerate()
        .filter_map(|(i, o)| {
            let at = opens_at + 3_600_000 + i as i64 * step;
            plan(i, n).map(|a| (o.clone(), a, i % 3 == 0, at))
        })
        .collect();
    let id = v.id.clone();
    db.write(move |tx| {
        let (id, ballots) = (id.clone(), ballots.clone());
        Box::pin(async move {
            for (k, (owner, answers, paper, at)) in ballots.into_iter().enumerate() {
                let evidence = if paper {
                    let ev = votes::add_evidence(
                        tx,
                        RECORDER,
                        &id,
                        "image/png",
                        &scan(&format!("ballot {k}")),
                    )
                    .await?;
                    Some(ev.id)
                } else {
                    None
                };
                let c = votes::Cast {
                    vote_id: &id,
                    owner_id: &owner,
                    choice: Choice::Abstain,
                    channel: if paper {
                        Channel::Paper
                    } else {
                        Channel::Online
                    },
                    cast_by: if paper { RECORDER } else { ACTOR },
                    proxy_holder: None,
                    evidence_id: evidence.as_deref(),
                    now: at,
                };
                vote_questions::cast_answers(tx, c, answers).await?;
            }
            Ok::<_, StoreError>(())
        })
    })
    .await?;
    let (v, _) = crate::demo_votes::close(db, &v.id, closes_at).await?;
    // The published record re-audits to the stored result.
    let record = votes::record_json(db, &v.id).await?;
    let Audit::Questions { tally, .. } = audit_any(&record).map_err(|e| anyhow::anyhow!("{e}"))?
    else {
        anyhow::bail!("demo: {} did not publish gongzhi.vote/2", v.id);
    };
    anyhow::ensure!(
        v.result == Some(serde_json::to_value(&tally)?),
        "demo: {} re-audits to another result",
        v.id
    );
    Ok((v.id, tally))
}

/// Loads the demo's votes with questions; returns lines for the summary.
pub async fn load(db: &Db) -> anyhow::Result<String> {
    let mut s = String::new();

    // 秋实学府: the first owners' committee, 7 of 9 candidates. 85 % take
    // part; three in four choose 张秀兰…陈志刚 (the first seven), one in four
    // the first five, 赵丽 and 孙伟.
    let qx = register::place_by_code(db, "qiushi-xuefu").await?;
    let candidates = [
        "张秀兰",
        "李建国",
        "王芳",
        "刘洋",
        "黄敏",
        "周杰",
        "陈志刚",
        "赵丽",
        "孙伟",
    ];
    let election = vec![question(
        "q1",
        "秋实学府第一届业主委员会委员",
        7,
        7,
        &candidates,
    )];
    let plan = |i: usize, n: usize| {
        if i >= n * 17 / 20 {
            return None;
        }
        let picks: Vec<usize> = if i.is_multiple_of(4) {
            vec![1, 2, 3, 4, 5, 8, 9]
        } else {
            (1..=7).collect()
        };
        Some(vec![(
            "q1".to_string(),
            picks.iter().map(|p| format!("c{p}")).collect(),
        )])
    };
    let (id, t) = run(
        db,
        "秋实学府第一届业主委员会选举",
        qx,
        election,
        (day_ms(2025, 10, 9), day_ms(2025, 10, 24)),
        &plan,
    )
    .await?;
    let elected = &t.questions[0].elected;
    anyhow::ensure!(
        t.turnout_met && elected.len() == 7 && !t.questions[0].tie,
        "demo: 秋实学府 must elect 7: {t:?}"
    );
    let _ = writeln!(
        s,
        "  {id}  秋实学府 owners' committee election: {}/{} owners voted; 7 of 9 candidates elected (gongzhi.vote/2)",
        t.voted_headcount, t.total_headcount
    );

    // 宏康浩宇 "eight sights": one vote, eight questions, one name each.
    // 80 % take part; three in four choose the first name, the rest the
    // second or third; one in ten leaves the last sight unanswered.
    let hk = register::place_by_code(db, "hongkang-haoyu").await?;
    let sights = [
        ("北门", ["秋水门", "望山门", "迎宾门"]),
        ("中心花园", ["浩宇园", "宏康苑", "百花园"]),
        ("荷塘", ["听荷塘", "映月池", "清风塘"]),
        ("长廊", ["紫藤廊", "晚晴廊", "连心廊"]),
        ("健身广场", ["康乐场", "朝阳坪", "健身坪"]),
        ("银杏大道", ["金叶道", "银杏道", "秋韵道"]),
        ("儿童乐园", ["童趣园", "欢乐谷", "小天地"]),
        ("观景台", ["揽胜台", "望远台", "观澜台"]),
    ];
    let eight: Vec<Question> = sights
        .iter()
        .enumerate()
        .map(|(k, (sight, names))| {
            question(
                &format!("q{}", k + 1),
                &format!("{sight}的名称"),
                1,
                1,
                names,
            )
        })
        .collect();
    let plan = |i: usize, _n: usize| {
        if i % 5 == 4 {
            return None;
        }
        let answers = (1..=8)
            .filter(|q| !(*q == 8 && i % 10 == 3))
            .map(|q| {
                let pick = if (i + 3 * q).is_multiple_of(4) {
                    2 + i % 2
                } else {
                    1
                };
                (format!("q{q}"), vec![format!("c{pick}")])
            })
            .collect();
        Some(answers)
    };
    let (id, t) = run(
        db,
        "宏康浩宇“八景”名称征集（八个问题，每题选一个名称）",
        hk,
        eight,
        (day_ms(2024, 8, 5), day_ms(2024, 8, 20)),
        &plan,
    )
    .await?;
    let named = t.questions.iter().filter(|q| q.elected.len() == 1).count();
    anyhow::ensure!(
        t.turnout_met && named == 8,
        "demo: all eight sights must be named: {t:?}"
    );
    let _ = writeln!(
        s,
        "  {id}  宏康浩宇 eight sights, eight questions: {}/{} owners voted; 8 names chosen (gongzhi.vote/2)",
        t.voted_headcount, t.total_headcount
    );
    Ok(s)
}
