//! The demo's votes with questions: `gongzhi demo --load-only` leaves
//! 秋实学府's committee election (7 of 9 candidates elected, paper and
//! online ballots) and 宏康浩宇's eight-sights naming vote (eight questions,
//! one name each), closed, whose published `gongzhi.vote/2` records the real
//! `gongzhi audit vote` re-counts to exactly the stored result.

use gongzhi_domain::ballot::Channel;
use gongzhi_store::register;
use gongzhi_store::votes::{self, VoteView};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_published_v2_record_of_the_demo_re_audits() {
    let dir = tempfile::tempdir().unwrap();
    let stdout = crate::cli::demo_ok(dir.path()).await;
    assert!(
        stdout.contains("秋实学府 owners' committee election")
            && stdout.contains("宏康浩宇 eight sights, eight questions"),
        "{stdout}"
    );
    let db = crate::cli::demo_db(dir.path()).await;
    let with_questions = |code: &'static str| {
        let db = db.clone();
        async move {
            let c = register::place_by_code(&db, code).await.unwrap();
            let vs: Vec<VoteView> = votes::votes_under(&db, &c)
                .await
                .unwrap()
                .into_iter()
                .filter(|v| v.questions.is_some())
                .collect();
            assert_eq!(vs.len(), 1, "{code}");
            vs.into_iter().next().unwrap()
        }
    };
    let mut audited = 0;
    for code in ["qiushi-xuefu", "hongkang-haoyu"] {
        let v = with_questions(code).await;
        assert_eq!(v.status.as_str(), "closed", "{code}");
        let text = votes::record_json(&db, &v.id).await.unwrap();
        let record: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(record["format"], "gongzhi.vote/2", "{code}");
        let file = dir.path().join(format!("{code}.json"));
        std::fs::write(&file, &text).unwrap();
        let a = crate::cli::audit_vote_ok(&file).await;
        assert_eq!(
            Some(&a),
            v.result.as_ref(),
            "{code}: re-audits to the stored result"
        );
        audited += 1;

        let res = v.result.unwrap();
        assert_eq!(res["turnout_met"], true, "{code}");
        if code == "qiushi-xuefu" {
            let q = &res["questions"][0];
            assert_eq!(record["questions"][0]["seats"], 7);
            assert_eq!(q["options"].as_array().unwrap().len(), 9);
            assert_eq!(
                q["elected"],
                serde_json::json!(["c1", "c2", "c3", "c4", "c5", "c6", "c7"])
            );
            assert_eq!(q["tie"], false);
            let (_, rows) = votes::board(&db, &v.id).await.unwrap();
            for ch in [Channel::Paper, Channel::Online] {
                assert!(rows.iter().any(|r| r.channel == ch), "{code}: {ch} ballots");
            }
        } else {
            let qs = res["questions"].as_array().unwrap();
            assert_eq!(qs.len(), 8);
            assert!(
                qs.iter().all(|q| q["elected"] == serde_json::json!(["c1"])),
                "{res}"
            );
        }
    }
    assert_eq!(audited, 2);
}
