//! Votes with questions (an election and a naming question) through real
//! HTTP on SQLite and PostgreSQL: questions checked at creation, answers
//! checked at casting (online and paper), a re-cast replacing the answers,
//! the close publishing `gongzhi.vote/2` at the yes/no record's URL, and the
//! published record re-counted by the real `gongzhi audit vote` binary to
//! exactly the stored result.

use crate::votes::{login, upload, world};
use gongzhi_testkit::both;
use gongzhi_testkit::http::{csrf, get, post, post_ok, refused};
use gongzhi_testkit::Kind;
use reqwest::StatusCode;
use serde_json::{json, Value};

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR-a-scanned-ballot";

async fn page_html(c: &reqwest::Client, url: String) -> String {
    c.get(url).send().await.unwrap().text().await.unwrap()
}

fn questions() -> Value {
    json!([
        {"id": "q1", "title": "业主委员会委员", "seats": 2, "max_choices": 2,
         "options": [{"id": "c1", "label": "张三"}, {"id": "c2", "label": "李四"}, {"id": "c3", "label": "王五"}]},
        {"id": "q2", "title": "北门名称", "seats": 1, "max_choices": 1,
         "options": [{"id": "s1", "label": "秋实门"}, {"id": "s2", "label": "学府门"}]}
    ])
}

async fn election(kind: Kind) {
    let w = world(kind).await;
    let base = &w.base;
    let committee = login(&w, "committee").await;
    let gridw = login(&w, "gridw").await;
    let mut owner = Vec::new();
    for i in 0..8 {
        owner.push(login(&w, &format!("owner{i}")).await);
    }
    let now = crate::votes::now_ms();
    let rule = json!({"kind": "civil_code", "matter": "ordinary"});
    let body = json!({"title": "业主委员会选举", "place_id": w.a.id, "rule": rule,
        "opens_at": now - 1000, "closes_at": now + 3_600_000, "channels": ["online", "paper"],
        "questions": questions()});
    let votes_url = format!("{base}/api/v1/votes");

    // Questions are checked at creation, each broken rule named.
    let mut bad = body.clone();
    bad["questions"][0]["seats"] = json!(0);
    refused(
        &committee,
        votes_url.clone(),
        bad,
        StatusCode::UNPROCESSABLE_ENTITY,
        "questions[0].seats",
    )
    .await;
    let mut bad = body.clone();
    bad["questions"][0]["max_choices"] = json!(4);
    refused(
        &committee,
        votes_url.clone(),
        bad,
        StatusCode::UNPROCESSABLE_ENTITY,
        "questions[0].max_choices",
    )
    .await;
    let mut bad = body.clone();
    bad["questions"][1]["options"][1]["id"] = json!("s1");
    refused(
        &committee,
        votes_url.clone(),
        bad,
        StatusCode::UNPROCESSABLE_ENTITY,
        "questions[1].options[1].id",
    )
    .await;
    let mut bad = body.clone();
    bad["questions"][1]["id"] = json!("q1");
    refused(
        &committee,
        votes_url.clone(),
        bad,
        StatusCode::UNPROCESSABLE_ENTITY,
        "questions[1].id",
    )
    .await;
    let mut bad = body.clone();
    bad["questions"] = json!([]);
    refused(
        &committee,
        votes_url.clone(),
        bad,
        StatusCode::UNPROCESSABLE_ENTITY,
        "questions",
    )
    .await;
    let mut bad = body.clone();
    bad["questions"][0]["options"][0]["label"] = json!(" ");
    refused(
        &committee,
        votes_url.clone(),
        bad,
        StatusCode::UNPROCESSABLE_ENTITY,
        "questions[0].options[0].label",
    )
    .await;

    let v = post_ok(
        &committee,
        votes_url.clone(),
        body.clone(),
        StatusCode::CREATED,
    )
    .await;
    let id = v["id"].as_str().unwrap().to_string();
    assert_eq!(v["questions"], questions());
    post_ok(
        &committee,
        format!("{base}/api/v1/votes/{id}/open"),
        json!({}),
        StatusCode::OK,
    )
    .await;
    // A yes/no vote beside it, to check the two kinds of ballot are kept apart.
    let mut yes_no = body.clone();
    yes_no.as_object_mut().unwrap().remove("questions");
    let yn = post_ok(&committee, votes_url.clone(), yes_no, StatusCode::CREATED).await;
    let yn = yn["id"].as_str().unwrap().to_string();
    post_ok(
        &committee,
        format!("{base}/api/v1/votes/{yn}/open"),
        json!({}),
        StatusCode::OK,
    )
    .await;

    let ballots = format!("{base}/api/v1/votes/{id}/ballots");
    let answers = |q1: &[&str], q2: Option<&[&str]>| {
        let mut a = json!({"q1": q1});
        if let Some(q2) = q2 {
            a["q2"] = json!(q2);
        }
        json!({ "answers": a })
    };
    // Bad answers: 422 naming the question.
    let u = StatusCode::UNPROCESSABLE_ENTITY;
    refused(
        &owner[0],
        ballots.clone(),
        json!({"answers": {"q9": ["c1"]}}),
        u,
        "answers.q9",
    )
    .await;
    let v = refused(
        &owner[0],
        ballots.clone(),
        answers(&["c1", "c7"], None),
        u,
        "answers.q1",
    )
    .await;
    assert!(v.to_string().contains("unknown option 'c7'"), "{v}");
    let v = refused(
        &owner[0],
        ballots.clone(),
        answers(&["c1", "c2", "c3"], None),
        u,
        "answers.q1",
    )
    .await;
    assert!(v.to_string().contains("allows at most 2"), "{v}");
    let v = refused(
        &owner[0],
        ballots.clone(),
        answers(&["c2", "c2"], None),
        u,
        "answers.q1",
    )
    .await;
    assert!(v.to_string().contains("chosen twice"), "{v}");
    refused(
        &owner[0],
        ballots.clone(),
        json!({"choice": "yes"}),
        u,
        "answers",
    )
    .await;
    refused(&owner[0], ballots.clone(), json!({}), u, "choice").await;
    refused(
        &owner[0],
        format!("{base}/api/v1/votes/{yn}/ballots"),
        answers(&["c1"], None),
        u,
        "answers",
    )
    .await;
    // Nothing was cast by the refusals.
    let (_, v) = get(&owner[0], format!("{base}/api/v1/votes/{id}")).await;
    assert_eq!(v["turnout"]["ballots_cast"], 0, "{v}");

    // Online ballots; o0 changes their mind (the second is current).
    for (i, q1, q2) in [
        (0, &["c1", "c2"][..], Some(&["s1"][..])),
        (0, &["c1", "c3"], Some(&["s1"])),
        (1, &["c1"], Some(&["s1"])),
        (2, &["c1", "c3"], None),
        (3, &["c2", "c3"], Some(&[])),
        (6, &["c3", "c1"], Some(&["s1"])),
    ] {
        let r = post_ok(
            &owner[i],
            ballots.clone(),
            answers(q1, q2),
            StatusCode::CREATED,
        )
        .await;
        assert!(r["receipt"].as_str().is_some_and(|s| s.len() == 10), "{r}");
    }
    // A paper ballot for o4, with its scan.
    let (st, ev) = upload(&gridw, &w, &id, "image/png", PNG).await;
    assert_eq!(st, StatusCode::CREATED, "{ev}");
    let paper = |a: Value| json!({"owner_id": w.owners[4], "channel": "paper", "evidence_id": ev["id"], "answers": a});
    let recorded = format!("{base}/api/v1/votes/{id}/recorded-ballots");
    refused(
        &gridw,
        recorded.clone(),
        paper(json!({"q2": ["s1", "s2"]})),
        u,
        "answers.q2",
    )
    .await;
    post_ok(
        &gridw,
        recorded.clone(),
        paper(json!({"q1": ["c1", "c2"], "q2": ["s2"]})),
        StatusCode::CREATED,
    )
    .await;

    // o5 on the phone page: choose, review, confirm.
    let page = format!("{base}/votes/{id}");
    let html = page_html(&owner[5], format!("{page}?lang=en")).await;
    assert!(html.contains(r#"name="q:q1" value="c1""#), "{html}");
    assert!(html.contains("2 to be chosen; choose up to 2"), "{html}");
    let token = csrf(&owner[5], &page).await;
    let form = |extra: &[(&str, &str)]| {
        let mut f = vec![("csrf", token.as_str())];
        f.extend_from_slice(extra);
        owner[5]
            .post(format!("{page}/ballot"))
            .header("Origin", base.clone())
            .form(&f)
            .send()
    };
    let r = form(&[("q:q1", "c1"), ("q:q1", "c2"), ("q:q1", "c3")])
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("“业主委员会委员”: choose at most 2."),
        "in the reader's language: {html}"
    );
    let r = form(&[("q:q1", "c2"), ("q:q2", "s2")]).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Review your ballot") && html.contains("李四") && html.contains("学府门"),
        "{html}"
    );
    assert!(html.contains(r#"name="confirm""#), "{html}");
    let (_, v) = get(&owner[5], format!("{base}/api/v1/votes/{id}")).await;
    assert_eq!(
        v["turnout"]["voted_headcount"], 6,
        "a review casts nothing: {v}"
    );
    let r = form(&[("confirm", "1"), ("q:q1", "c2"), ("q:q2", "s2")])
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "redirected to the vote page");
    let html = page_html(&owner[5], page.clone()).await;
    assert!(
        html.contains(r#"id="my-answers""#) && html.contains("业主委员会委员: 李四"),
        "{html}"
    );

    // Close: the /2 result, and the published record at the same URL.
    let closed = post_ok(
        &committee,
        format!("{base}/api/v1/votes/{id}/close"),
        json!({}),
        StatusCode::OK,
    )
    .await;
    let result = &closed["vote"]["result"];
    // Electorate: 8 heads, 834.00 m². Voted: o0 89.50, o1 90.50, o2 91.50,
    // o3 92.50, o4 93.50, o5 94.50, o6 95.50 + 96.50: 7 heads, 744.00 m².
    assert_eq!(
        (
            &result["total_headcount"],
            &result["voted_headcount"],
            &result["voted_area"],
            &result["turnout_met"]
        ),
        (&json!(8), &json!(7), &json!("744.00"), &json!(true)),
        "{result}"
    );
    // c1: o0 o1 o2 o4 o6 (5 heads, 557.00); c3: o0 o2 o3 o6 (4 of 7,
    // 465.50 > 372.00); c2: o3 o4 o5 (3 of 7: not approved). q2: s1 o0 o1 o6.
    let q1 = &result["questions"][0];
    assert_eq!(
        q1["options"][0],
        json!({"id": "c1", "yes_area": "557.00", "yes_headcount": 5, "approval_met": true})
    );
    assert_eq!(
        q1["options"][2],
        json!({"id": "c3", "yes_area": "465.50", "yes_headcount": 4, "approval_met": true})
    );
    assert_eq!(q1["options"][1]["approval_met"], false);
    assert_eq!(
        (&q1["elected"], &q1["tie"]),
        (&json!(["c1", "c3"]), &json!(false))
    );
    let q2 = &result["questions"][1];
    assert_eq!(q2["options"][0]["yes_headcount"], 3);
    assert_eq!((&q2["elected"], &q2["tie"]), (&json!([]), &json!(false)));
    assert_eq!(closed["result"]["voted_headcount"], 7, "the turnout tally");

    let r = reqwest::get(format!("{base}/api/v1/public/votes/{id}/record.json"))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let text = r.text().await.unwrap();
    let record: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(record["format"], "gongzhi.vote/2");
    assert_eq!(record["questions"], questions());
    assert_eq!(
        record["ballots"].as_array().unwrap().len(),
        7,
        "current ballots only"
    );
    assert!(!text.contains(&w.owners[0]), "owners as opaque keys");
    assert!(
        text.contains(r#""answers":{"q1":["c1","c3"],"q2":["s1"]}"#),
        "o0's current answers: {text}"
    );
    // The public board shows each current ballot's answers (the record's,
    // ballot for ballot), never a yes/no choice.
    let board: Value = reqwest::get(format!("{base}/api/v1/public/votes/{id}/board"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let rows = board["ballots"].as_array().unwrap();
    assert_eq!(rows.len(), 7, "{board}");
    assert!(rows.iter().all(|r| r["choice"].is_null()), "{board}");
    let mut on_board: Vec<String> = rows.iter().map(|r| r["answers"].to_string()).collect();
    let mut in_record: Vec<String> = record["ballots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["answers"].to_string())
        .collect();
    on_board.sort();
    in_record.sort();
    assert_eq!(on_board, in_record);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("record.json");
    std::fs::write(&file, &text).unwrap();
    assert_eq!(
        &crate::cli::audit_vote_ok(&file).await,
        result,
        "the record re-audits to the stored result"
    );
    // Tampering changes the count: the audit is not a rubber stamp.
    std::fs::write(&file, text.replacen(r#"["c1","c3"]"#, r#"["c2","c3"]"#, 1)).unwrap();
    let audited = crate::cli::audit_vote_ok(&file).await;
    assert_ne!(&audited, result);
    // The result page: each option's area and heads, the elected marked.
    let html = page_html(&owner[5], format!("{page}?lang=zh-TW")).await;
    assert!(
        html.contains(r#"id="result-q1""#) && html.contains("當選") && html.contains("557.00"),
        "{html}"
    );
    assert!(html.contains("參與率達到要求"), "{html}");
    // After close, no more ballots.
    let (st, _) = post(&owner[5], ballots.clone(), answers(&["c1"], None)).await;
    assert_eq!(st, StatusCode::CONFLICT);
}

both!(election);
