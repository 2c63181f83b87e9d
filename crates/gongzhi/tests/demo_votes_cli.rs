//! The demo's votes: `gongzhi demo --load-only` leaves two closed votes with
//! published records that the real `gongzhi audit vote` re-counts to the same
//! result (千山美林 building 6 crossing 3/4 of its households; 宏康浩宇's
//! eight sights under the Civil Code), and one open vote for the `owner` login.

use gongzhi_store::register;
use gongzhi_store::votes;
use gongzhi_store::Db;
use serde_json::Value;

async fn audit(file: &std::path::Path) -> Value {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_gongzhi"))
        .args(["audit", "vote"])
        .arg(file)
        .arg("--json")
        .output()
        .await
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_votes_are_published_and_audit_to_the_same_result() {
    let dir = tempfile::tempdir().unwrap();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_gongzhi"))
        .args(["demo", "--load-only", "--data-dir"])
        .arg(dir.path())
        .env("GONGZHI_LOG", "warn")
        .env_remove("GONGZHI_DATABASE_URL")
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("千山美林 6栋 elevator") && stdout.contains("宏康浩宇 eight sights"),
        "{stdout}"
    );

    let db = Db::connect(&format!(
        "sqlite://{}",
        dir.path().join("gongzhi.db").display()
    ))
    .await
    .unwrap();
    let check = |code: &'static str| {
        let db = db.clone();
        async move {
            let c = register::place_by_code(&db, code).await.unwrap();
            let vs = votes::votes_under(&db, &c).await.unwrap();
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
