//! The demo's votes: `gongzhi demo --load-only` leaves two closed votes with
//! published records that the real `gongzhi audit vote` re-counts to the same
//! result (千山美林 building 6 crossing 3/4 of its households; 宏康浩宇's
//! eight sights under the Civil Code), and one open vote for the `owner` login.

use gongzhi_store::matters;
use gongzhi_store::register;
use gongzhi_store::votes;
use gongzhi_store::{deliberation, meetings};
use serde_json::Value;

async fn audit(file: &std::path::Path) -> Value {
    crate::cli::audit_vote_ok(file).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_votes_are_published_and_audit_to_the_same_result() {
    let dir = tempfile::tempdir().unwrap();
    let stdout = crate::cli::demo_ok(dir.path()).await;
    assert!(
        stdout.contains("千山美林 6栋 elevator") && stdout.contains("宏康浩宇 eight sights"),
        "{stdout}"
    );

    let db = crate::cli::demo_db(dir.path()).await;
    let check = |code: &'static str| {
        let db = db.clone();
        async move {
            let c = register::place_by_code(&db, code).await.unwrap();
            // The yes/no votes (the demo's votes with questions: demo_questions_cli).
            let vs: Vec<_> = votes::votes_under(&db, &c)
                .await
                .unwrap()
                .into_iter()
                .filter(|v| v.questions.is_none())
                .collect();
            assert_eq!(vs.len(), 1, "{code}");
            vs.into_iter().next().unwrap()
        }
    };

    // 千山美林 building 6: a custom rule of 3/4 of the building's households, crossed.
    let v = check("qianshan-meilin").await;
    assert_eq!(v.status.as_str(), "closed");
    let rule = serde_json::to_value(v.rule).unwrap();
    assert_eq!(rule["kind"], "custom");
    assert_eq!(rule["headcount"], "3/4");
    assert_eq!(rule["base"], "eligible");
    let res = v.result.clone().unwrap();
    let (yes, total) = (
        res["yes_headcount"].as_i64().unwrap(),
        res["total_headcount"].as_i64().unwrap(),
    );
    assert!(4 * yes >= 3 * total && total >= 40, "{yes} of {total}");
    assert_eq!(res["passed"], true);
    let file = dir.path().join("elevator.json");
    std::fs::write(&file, votes::record_json(&db, &v.id).await.unwrap()).unwrap();
    let a = audit(&file).await;
    for k in [
        "total_area",
        "voted_area",
        "yes_area",
        "total_headcount",
        "voted_headcount",
        "yes_headcount",
        "passed",
    ] {
        assert_eq!(a[k], res[k], "{k}");
    }
    // The electorate is building 6 only.
    let rec: Value = serde_json::from_str(&votes::record_json(&db, &v.id).await.unwrap()).unwrap();
    assert!(rec["parts"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["part"].as_str().unwrap().starts_with("6栋-")));

    // Its matter: the seven steps done, the vote linked as the decision, the
    // cost apportionment (200–300 yuan per household) as the result of
    // carrying it out, then the publication.
    let qs = register::place_by_code(&db, "qianshan-meilin")
        .await
        .unwrap();
    let ms = matters::matters_under(&db, &qs).await.unwrap();
    let m = ms
        .iter()
        .find(|m| m.title.contains("6栋老旧电梯"))
        .expect("the elevator matter");
    assert_eq!(m.procedure.key, "seven_step");
    let keys: Vec<&str> = m.steps.iter().map(|s| s.step_key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "raise",
            "triage",
            "deliberate",
            "decide",
            "carry_out",
            "publish",
            "report_back"
        ]
    );
    assert_eq!(m.next_step, None);
    assert_eq!(m.steps[3].vote_id.as_deref(), Some(v.id.as_str()));
    assert!(m
        .steps
        .iter()
        .enumerate()
        .all(|(i, s)| (s.vote_id.is_some()) == (i == 3)));
    assert!(
        m.steps[3].at - m.steps[2].at >= 15 * 86_400_000,
        "the vote 15 days after its announcement"
    );
    let (net, shares) = votes::apportion(&db, &v.id, 36_000_000, 34_900_000, true)
        .await
        .unwrap();
    assert_eq!(
        shares.len() as i64,
        total,
        "one share per household of building 6"
    );
    assert_eq!(shares.iter().map(|s| s.amount_fen).sum::<i64>(), net);
    assert!(shares
        .iter()
        .all(|s| (20_000..=30_000).contains(&s.amount_fen)));
    let min = shares.iter().map(|s| s.amount_fen).min().unwrap();
    let max = shares.iter().map(|s| s.amount_fen).max().unwrap();
    let note = &m.steps[4].note;
    assert!(
        note.contains(&format!(
            "每户 {}–{} 元",
            gongzhi_domain::money::format_hundredths(min),
            gongzhi_domain::money::format_hundredths(max)
        )),
        "{note}"
    );
    assert_eq!(m.steps[5].step_key, "publish");
    assert!(m.steps[5].note.contains("公示"));
    assert!(m.steps[5].at - m.steps[4].at <= 3 * 86_400_000);

    // 吉福社区's e管家 project list, decided by the residents' council.
    let yj = register::place_by_code(&db, "yunjin-chengshi-huayuan")
        .await
        .unwrap();
    let jifu = register::get_place(&db, yj.parent_id.as_deref().unwrap())
        .await
        .unwrap();
    let ms = matters::matters_under(&db, &jifu).await.unwrap();
    let m = ms
        .iter()
        .find(|m| m.procedure.key == "e_steward_project")
        .expect("the e管家 matter");
    assert_eq!(m.place_id, jifu.id);
    let keys: Vec<&str> = m.steps.iter().map(|s| s.step_key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "propose",
            "sort",
            "council_decides",
            "publish_list",
            "organisations_apply"
        ]
    );
    assert!(m.steps[2].note.contains("居民议事会议决项目清单"));
    assert_eq!(m.next_step.as_deref(), Some("deliver"));
    let council = meetings::meetings_of_matter(&db, &m.id).await.unwrap();
    assert_eq!(council.len(), 1);
    let minutes = council[0].minutes.as_ref().expect("the council's minutes");
    assert!(minutes.decisions[0].starts_with("项目清单"));

    // The elevator's six topic meetings, the last with minutes and attendance.
    let elevator = matters::matters_under(&db, &qs)
        .await
        .unwrap()
        .into_iter()
        .find(|m| m.title.contains("6栋老旧电梯"))
        .unwrap();
    let ms = meetings::meetings_of_matter(&db, &elevator.id)
        .await
        .unwrap();
    assert_eq!(ms.len(), 6);
    assert!(ms.iter().all(|x| x.starts_at < elevator.steps[3].at));
    assert_eq!(ms[5].minutes.as_ref().unwrap().attended.len(), 5);
    let docs = deliberation::documents_of(&db, &elevator.id).await.unwrap();
    assert_eq!(
        docs.iter()
            .map(|d| (d.step_idx, d.content_type.as_str()))
            .collect::<Vec<_>>(),
        [(4, "application/pdf"), (5, "image/png")],
        "the contract with carrying out, the notice with the publication"
    );

    // 美佳星座: the facade repair reached 70% by door-to-door signatures.
    let mj = register::place_by_code(&db, "meijia-xingzuo")
        .await
        .unwrap();
    let vs = votes::votes_under(&db, &mj).await.unwrap();
    assert_eq!(vs.len(), 1);
    let fv = &vs[0];
    assert_eq!(
        serde_json::to_value(fv.rule).unwrap(),
        serde_json::json!({"kind": "custom", "base": "eligible", "area": null, "headcount": "7/10", "bound": "at_least", "turnout": false})
    );
    let res = fv.result.clone().unwrap();
    assert_eq!(res["passed"], true);
    let (yes, total, voted) = (
        res["yes_headcount"].as_i64().unwrap(),
        res["total_headcount"].as_i64().unwrap(),
        res["voted_headcount"].as_i64().unwrap(),
    );
    assert!(10 * yes >= 7 * total && total > 100, "{yes} of {total}");
    let (_, board) = votes::board(&db, &fv.id).await.unwrap();
    assert!(board.iter().all(|b| b.channel.as_str() == "paper"));
    let file = dir.path().join("facade.json");
    std::fs::write(&file, votes::record_json(&db, &fv.id).await.unwrap()).unwrap();
    let a = audit(&file).await;
    assert_eq!(
        (a["passed"].clone(), a["yes_headcount"].as_i64()),
        (Value::Bool(true), Some(yes))
    );
    let fm = matters::matters_under(&db, &mj).await.unwrap();
    assert_eq!(fm.len(), 1);
    let fm = &fm[0];
    assert_eq!(fm.steps.len(), 7);
    assert_eq!(fm.steps[3].step_key, "decide");
    assert_eq!(fm.steps[3].vote_id.as_deref(), Some(fv.id.as_str()));
    // Every ballot came through a door-to-door record by a worker.
    let recs = deliberation::door_records_of(&db, &fm.id, &register::PartFilter::All)
        .await
        .unwrap();
    assert_eq!(recs.len() as i64, voted, "one door record per ballot");
    assert!(recs
        .iter()
        .all(|r| r.vote_id.as_deref() == Some(fv.id.as_str()) && r.ballot_receipt.is_some()));
    let receipts: std::collections::HashSet<_> = board.iter().map(|b| b.receipt.clone()).collect();
    assert!(recs
        .iter()
        .all(|r| receipts.contains(r.ballot_receipt.as_ref().unwrap())));
    let c = deliberation::coverage(&db, fm, &register::PartFilter::All)
        .await
        .unwrap();
    assert!(c.reached > 0 && c.not_reached > 0 && c.reached + c.not_reached == c.households);

    // 宏康浩宇 eight sights: Civil Code ordinary, passed on both majorities.
    let v = check("hongkang-haoyu").await;
    assert_eq!(
        serde_json::to_value(v.rule).unwrap(),
        serde_json::json!({"kind": "civil_code", "matter": "ordinary"})
    );
    let res = v.result.clone().unwrap();
    assert_eq!(
        (res["turnout_met"].clone(), res["approval_met"].clone()),
        (Value::Bool(true), Value::Bool(true))
    );
    let file = dir.path().join("sights.json");
    std::fs::write(&file, votes::record_json(&db, &v.id).await.unwrap()).unwrap();
    let a = audit(&file).await;
    for k in [
        "total_area",
        "voted_area",
        "yes_area",
        "total_headcount",
        "voted_headcount",
        "yes_headcount",
        "passed",
    ] {
        assert_eq!(a[k], res[k], "{k}");
    }
    let (_, board) = votes::board(&db, &v.id).await.unwrap();
    assert!(board.iter().any(|b| b.channel.as_str() == "proxy"));
    assert!(board.iter().all(|b| b.choice.is_some()));

    // 精城名典: open, for the demo owner.
    let v = check("jingcheng-mingdian").await;
    assert_eq!(v.status.as_str(), "open");
    let owner = gongzhi_store::auth::user_id_by_name(&db, "owner")
        .await
        .unwrap();
    let mine = gongzhi_store::auth::owners_of_user(&db, &owner)
        .await
        .unwrap();
    let el = votes::electorate(&db, &v.id).await.unwrap();
    assert!(
        el.iter().any(|e| mine.contains(&e.owner_id)),
        "the demo owner is in the open vote's electorate"
    );
}
