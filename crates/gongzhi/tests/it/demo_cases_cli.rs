//! The demo's cases: the stories from the reports are there with their
//! timelines, and every compound has statistics that mean something.

use gongzhi_store::cases::{self, ListFilter};
use gongzhi_store::{auth, db, register};

#[tokio::test]
async fn demo_has_the_reports_cases() {
    let dir = tempfile::tempdir().expect("temp dir");
    let stdout = crate::cli::demo_ok(dir.path()).await;
    assert!(
        stdout.contains("Cases: ") && stdout.contains("barking dog"),
        "{stdout}"
    );
    let db = crate::cli::demo_db(dir.path()).await;

    // The wall at 精城名典: the owner's own case, resolved two hours after the branch called the steward, rated 5.
    let owner = auth::user_id_by_name(&db, "owner").await.unwrap();
    let mine = cases::mine(&db, &owner, 10).await.unwrap();
    let wall = mine
        .iter()
        .find(|c| c.description.contains("外墙"))
        .expect("the wall case");
    assert_eq!(
        (wall.status.as_str(), wall.rating, wall.org_kind.as_str()),
        ("closed", Some(5), "steward")
    );
    let tl = cases::timeline(&db, &wall.id).await.unwrap();
    let at = |k: &str| tl.iter().find(|e| e.kind == k).unwrap().at;
    assert_eq!(at("resolved") - at("accepted"), 2 * 3_600_000, "two hours");

    // The barking dog at 御景华庭: raised door to door, mediated, agreement on the timeline.
    let yj = register::place_by_code(&db, "yujing-huating")
        .await
        .unwrap();
    let noise = cases::list_under(
        &db,
        &yj.path,
        &ListFilter {
            category: Some(gongzhi_domain::cases::Category::Noise),
            ..Default::default()
        },
        100,
        0,
    )
    .await
    .unwrap();
    let dog = noise
        .iter()
        .find(|c| c.description.contains("狗"))
        .expect("the barking dog");
    assert_eq!(
        (
            dog.channel.as_str(),
            dog.org_kind.as_str(),
            dog.status.as_str()
        ),
        ("door_knock", "mediation_committee", "closed")
    );
    assert!(cases::timeline(&db, &dog.id)
        .await
        .unwrap()
        .iter()
        .any(|e| e
            .note
            .as_deref()
            .is_some_and(|n| n.contains("调解达成协议"))));
    let m = gongzhi_store::mediation::get(&db, &dog.id)
        .await
        .unwrap()
        .expect("the barking dog is a mediation");
    assert_eq!(
        (m.status.as_str(), m.sessions.len(), m.parties.len()),
        ("concluded", 1, 2)
    );
    assert_eq!(m.parties[0].name, "王**", "parties masked");
    assert_eq!(m.mediators[0].kind, "mediation_committee");
    let o = m.outcome.unwrap();
    assert_eq!(o.kind, "agreement");
    assert!(o.text.unwrap().contains("夜间把狗关在室内"));
    let mc = gongzhi_store::mediation::counts_under(&db, &yj.path, 0, i64::MAX)
        .await
        .unwrap();
    assert_eq!(mc.mediated, 1);

    // The smelly bins at 秋实学府: fixed in three days.
    let qs = register::place_by_code(&db, "qiushi-xuefu").await.unwrap();
    let env = cases::list_under(
        &db,
        &qs.path,
        &ListFilter {
            category: Some(gongzhi_domain::cases::Category::Environment),
            ..Default::default()
        },
        100,
        0,
    )
    .await
    .unwrap();
    let bins = env
        .iter()
        .find(|c| c.description.contains("垃圾桶"))
        .expect("the smelly bins");
    assert_eq!(bins.resolved_at.unwrap() - bins.reported_at, 3 * 86_400_000);

    // Every compound has resolved and rated cases.
    let now = db::now_ms();
    for c in register::public_compounds(&db).await.unwrap() {
        let p = register::place_by_code(&db, &c.code).await.unwrap();
        let k = cases::stats(&db, &p.path, now - 366 * 86_400_000, now + 1, now)
            .await
            .unwrap();
        assert!(
            k.received >= 20 && k.satisfaction_rate.den >= 5 && k.resolution_rate.num >= 5,
            "{}: {k:?}",
            c.code
        );
    }
}
