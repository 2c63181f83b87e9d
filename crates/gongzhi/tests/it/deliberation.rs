//! Deliberation through real HTTP on SQLite and PostgreSQL: matter pages
//! (steps done / current / upcoming, the htmx step form and its refusals),
//! the vote page's rule in words per language.

use gongzhi_domain::policy::Role;
use gongzhi_domain::roster::RosterRow;
use gongzhi_store::register;
use gongzhi_testkit::both;
use gongzhi_testkit::http::{field, form, get, login_at, post};
use gongzhi_testkit::{At, Fresh, Grid, Kind, Parts, Rows, User};
use reqwest::StatusCode;
use serde_json::{json, Value};

/// Compound 千山美林: building 6 with 8 flats (owners h0..h7, one flat each)
/// and building 7 with one (h8); compound 御景华庭 with one (hb).
fn roster() -> Vec<RosterRow> {
    let mut rows = Rows::new("綦江区", "文龙街道", "九龙社区");
    let mut add = |compound: &str, building: &str, number: String, key: String| {
        let area = 9856 + rows.len() as i64 * 10;
        rows.flat(
            compound,
            building,
            &number,
            area,
            &key,
            &format!("业主{key}"),
            "",
        );
    };
    for i in 0..8 {
        add("千山美林", "6", format!("{}", 101 + i), format!("h{i}"));
    }
    add("千山美林", "7", "101".into(), "h8".into());
    add("御景华庭", "1", "101".into(), "hb".into());
    rows.rows()
}

pub struct World {
    _f: Fresh,
    pub base: String,
    pub a: register::Place,
    pub b: register::Place,
    pub b6: register::Place,
    /// Part ids of building 6 in order 101..108, then 7-101, then B's.
    pub parts: Vec<String>,
}

/// Users: admin; committee (committee member of A); staff (community staff
/// of the community); gridw1 (grid worker of A, micro-grid G1 only); owner0..owner8
/// (owners of A, linked to h0..h8); resident_b (resident of B).
async fn world(kind: Kind) -> World {
    let a = At::place("千山美林");
    let mut k = gongzhi_testkit::world(kind)
        .roster(roster())
        .grid(Grid::community("社区", "千山美林"))
        .grid(Grid::compound("A", "千山美林", "社区"))
        .grid(Grid::micro("G1", "千山美林", "A", Parts::Range(0, 4)))
        .grid(Grid::micro("G2", "千山美林", "A", Parts::Range(4, 9)))
        .users(&[
            ("admin", Role::Admin, At::Everywhere),
            ("committee", Role::CommitteeMember, a.clone()),
            ("staff", Role::CommunityStaff, At::community_of("千山美林")),
        ])
        .user(
            User::new("gridw1")
                .role(Role::GridWorker, a.clone())
                .grid("G1"),
        );
    for i in 0..9 {
        k = k.user(
            User::new(&format!("owner{i}"))
                .role(Role::Owner, a.clone())
                .owner(&format!("h{i}")),
        );
    }
    let k = k
        .users(&[("resident_b", Role::Resident, At::place("御景华庭"))])
        .serve(gongzhi_web::Config::default())
        .await;
    let (a, b) = (k.place("千山美林"), k.place("御景华庭"));
    let b6 = k.building(&a, "6").await;
    let mut parts = Vec::new();
    for c in [&a, &b] {
        parts.extend(k.parts(c).await.into_iter().map(|p| p.id));
    }
    World {
        _f: k.f,
        base: k.base,
        a,
        b,
        b6,
        parts,
    }
}

async fn login(w: &World, user: &str) -> reqwest::Client {
    login_at(&w.base, user).await
}

async fn page(c: &reqwest::Client, url: String) -> (StatusCode, String) {
    let r = c.get(url).send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

/// The state a step shows on the page (`data-step="KEY" data-state="STATE"`).
fn step_state(html: &str, key: &str) -> String {
    let needle = format!("data-step=\"{key}\" data-state=\"");
    let at = html
        .find(&needle)
        .unwrap_or_else(|| panic!("no step {key}"));
    html[at + needle.len()..]
        .split('"')
        .next()
        .unwrap()
        .to_string()
}

async fn new_matter(c: &reqwest::Client, w: &World, place: &str, title: &str, p: Value) -> String {
    let (st, m) = post(
        c,
        format!("{}/api/v1/matters", w.base),
        json!({"place_id": place, "title": title, "procedure": p}),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{m}");
    m["id"].as_str().unwrap().to_string()
}

/// Matter pages: the list, the steps with their states, the htmx form
/// (recorded, refused for the wrong role and before the 15 days), and scope.
async fn matter_pages(kind: Kind) {
    let w = world(kind).await;
    let base = &w.base;
    let owner0 = login(&w, "owner0").await;
    let committee = login(&w, "committee").await;
    let outsider = login(&w, "resident_b").await;
    let id = new_matter(&owner0, &w, &w.b6.id, "6栋电梯更新", json!("seven_step")).await;

    let (st, html) = page(&owner0, format!("{base}/places/{}/matters", w.a.id)).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains(&format!("/matters/{id}")) && html.contains("6栋电梯更新"));
    assert!(
        html.contains("七步工作法") && html.contains("0/7"),
        "{html}"
    );
    let (st, html) = page(&owner0, format!("{base}/places/{}", w.a.id)).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains(&format!("/places/{}/matters", w.a.id)));

    let url = format!("{base}/matters/{id}");
    let (st, html) = page(&owner0, url.clone()).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(step_state(&html, "raise"), "current");
    assert_eq!(step_state(&html, "triage"), "upcoming");
    assert!(html.contains("公开提事") && html.contains("当前步骤"));
    assert!(html.contains("hx-post=\"/matters/") && html.contains("id=\"step-form\""));
    assert!(html.contains("距上一步至少 15 天"), "day limits shown");

    // The owner raises it through the htmx form: the section comes back.
    let (st, frag) = form(
        &owner0,
        format!("{url}/steps"),
        &[("step", "raise"), ("note", "电梯经常停运")],
        true,
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert!(frag.starts_with("<section id=\"matter-steps\""), "{frag}");
    assert!(frag.contains("id=\"step-recorded\""));
    assert_eq!(step_state(&frag, "raise"), "done");
    assert_eq!(step_state(&frag, "triage"), "current");
    assert!(frag.contains("电梯经常停运") && frag.contains("owner0") && frag.contains("(业主)"));
    assert!(
        frag.contains("id=\"not-yours\""),
        "an owner does not triage"
    );
    // Forcing it anyway is refused, with the reason in the section.
    let (_, frag) = form(&owner0, format!("{url}/steps"), &[("step", "triage")], true).await;
    assert!(frag.contains("id=\"step-error\""), "{frag}");
    assert!(frag.contains("may be done by"));
    assert_eq!(step_state(&frag, "triage"), "current");

    // The committee triages (plain form: redirect back) and deliberates.
    let (st, html) = form(
        &committee,
        format!("{url}/steps"),
        &[("step", "triage")],
        false,
    )
    .await;
    assert_eq!(st, StatusCode::OK, "followed the redirect");
    assert_eq!(step_state(&html, "triage"), "done");
    let (_, frag) = form(
        &committee,
        format!("{url}/steps"),
        &[("step", "deliberate"), ("note", "四方联席会议")],
        true,
    )
    .await;
    assert_eq!(step_state(&frag, "decide"), "current");
    assert!(
        frag.contains("最早可办理时间"),
        "the 15 days' earliest time"
    );
    assert!(
        frag.contains("id=\"step-vote\""),
        "a vote step offers the votes"
    );
    let (_, frag) = form(
        &committee,
        format!("{url}/steps"),
        &[("step", "decide")],
        true,
    )
    .await;
    assert!(frag.contains("at least 15 days"), "{frag}");
    assert_eq!(step_state(&frag, "decide"), "current");

    // Documents of done steps: by those who act in the step; checked files.
    let png = b"\x89PNG\r\n\x1a\n a photo of the stuck elevator".to_vec();
    let upload = |c: &reqwest::Client, step: &str, ct: &str, bytes: Vec<u8>| {
        c.post(format!(
            "{base}/api/v1/matters/{id}/steps/{step}/documents?name=停运照片.png"
        ))
        .header("content-type", ct.to_string())
        .body(bytes)
        .send()
    };
    let r = upload(&owner0, "raise", "image/png", png.clone())
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let doc: Value = r.json().await.unwrap();
    assert_eq!(doc["sha256"].as_str().unwrap().len(), 64);
    let r = upload(&owner0, "triage", "image/png", png.clone())
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "an owner does not act in triage"
    );
    let r = upload(&committee, "decide", "image/png", png.clone())
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "not done yet");
    let r = upload(&owner0, "raise", "image/png", b"not a png".to_vec())
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(field(&v), "file");
    let r = owner0
        .get(format!(
            "{base}/api/v1/matters/{id}/documents/{}",
            doc["id"].as_str().unwrap()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(r.bytes().await.unwrap().to_vec(), png);
    let (_, v) = get(&committee, format!("{base}/api/v1/matters/{id}/documents")).await;
    assert_eq!(v["documents"].as_array().unwrap().len(), 1);
    let (st, _) = get(
        &outsider,
        format!(
            "{base}/api/v1/matters/{id}/documents/{}",
            doc["id"].as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (_, html) = page(&owner0, url.clone()).await;
    assert!(html.contains("停运照片.png") && html.contains(&doc["sha256"].as_str().unwrap()[..12]));

    // English on request; outsiders see nothing.
    let (_, html) = page(&owner0, format!("{url}?lang=en")).await;
    assert!(html.contains("Current") && html.contains("Owner"), "{html}");
    let (st, html) = page(&outsider, url.clone()).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert!(!html.contains("6栋电梯更新"));
    let (st, _) = form(
        &outsider,
        format!("{url}/steps"),
        &[("step", "decide")],
        false,
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}

/// The vote page states its rule in the reader's language.
async fn vote_rule_in_words(kind: Kind) {
    let w = world(kind).await;
    let committee = login(&w, "committee").await;
    let owner0 = login(&w, "owner0").await;
    let now = gongzhi_store::db::now_ms();
    let (st, v) = post(&committee, format!("{}/api/v1/votes", w.base), json!({"title": "6栋电梯", "place_id": w.b6.id, "rule": {"kind": "custom", "base": "eligible", "area": null, "headcount": "3/4", "bound": "at_least", "turnout": false}, "opens_at": now - 1000, "closes_at": now + 86_400_000, "channels": ["online"]})).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let id = v["id"].as_str().unwrap();
    let (st, _) = post(
        &committee,
        format!("{}/api/v1/votes/{id}/open", w.base),
        json!({}),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let (_, html) = page(&owner0, format!("{}/votes/{id}", w.base)).await;
    assert!(
        html.contains("本地规则：同意 ≥ 全体业主人数的 3/4；不设参与率要求"),
        "{html}"
    );
    let (_, html) = page(&owner0, format!("{}/votes/{id}?lang=en", w.base)).await;
    assert!(html.contains("custom rule: approval ≥ 3/4 of all owners; no turnout requirement"));
    let (_, html) = page(&owner0, format!("{}/votes/{id}?lang=zh-TW", w.base)).await;
    assert!(html.contains("本地規則"));
}

fn now_ms() -> i64 {
    gongzhi_store::db::now_ms()
}

/// Comments, questionnaires, door-to-door records and coverage, with their
/// refusals: a person outside the scope, an out-of-scope household, another
/// grid's household, a closed questionnaire, bad answers.
async fn opinion_collection(kind: Kind) {
    let w = world(kind).await;
    let base = &w.base;
    let owner0 = login(&w, "owner0").await;
    let owner1 = login(&w, "owner1").await;
    let owner8 = login(&w, "owner8").await; // building 7: in the compound, not in building 6
    let committee = login(&w, "committee").await;
    let gridw1 = login(&w, "gridw1").await;
    let outsider = login(&w, "resident_b").await;
    let id = new_matter(&owner0, &w, &w.b6.id, "6栋电梯更新", json!("seven_step")).await;
    let m = format!("{base}/api/v1/matters/{id}");

    // Comments.
    let (st, c) = post(
        &owner0,
        format!("{m}/comments"),
        json!({"body": "支持加装，费用要公开"}),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{c}");
    assert_eq!(c["author"], "owner0");
    let (st, v) = post(
        &owner8,
        format!("{m}/comments"),
        json!({"body": "我也说两句"}),
    )
    .await;
    assert_eq!(
        st,
        StatusCode::FORBIDDEN,
        "building 7's owner is outside building 6: {v}"
    );
    let (st, _) = post(&outsider, format!("{m}/comments"), json!({"body": "x"})).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, v) = post(&owner0, format!("{m}/comments"), json!({"body": "  "})).await;
    assert_eq!((st, field(&v)), (StatusCode::UNPROCESSABLE_ENTITY, "body"));
    let (st, _) = post(
        &gridw1,
        format!("{m}/comments"),
        json!({"body": "已通知G1各户"}),
    )
    .await;
    assert_eq!(
        st,
        StatusCode::CREATED,
        "a grid worker over the scope may comment"
    );
    let (_, v) = get(&owner1, format!("{m}/comments")).await;
    let bodies: Vec<&str> = v["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, ["支持加装，费用要公开", "已通知G1各户"]);

    // Questionnaires.
    let qs = json!([
        {"text": "是否同意更新电梯？", "kind": "single", "options": ["同意", "反对"]},
        {"text": "您关心哪些方面？", "kind": "multiple", "options": ["费用", "工期", "噪音"]},
        {"text": "其他意见", "kind": "text"}
    ]);
    let later = now_ms() + 86_400_000;
    let (st, v) = post(
        &owner0,
        format!("{m}/questionnaires"),
        json!({"title": "意见征询", "questions": qs, "closes_at": later}),
    )
    .await;
    assert_eq!(
        st,
        StatusCode::FORBIDDEN,
        "an owner does not publish questionnaires: {v}"
    );
    let (st, v) = post(&committee, format!("{m}/questionnaires"), json!({"title": "意见征询", "questions": [{"text": "?", "kind": "single", "options": ["只有一个"]}], "closes_at": later})).await;
    assert_eq!(
        (st, field(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "questions[0].options")
    );
    let (st, v) = post(
        &committee,
        format!("{m}/questionnaires"),
        json!({"title": "意见征询", "questions": qs, "closes_at": now_ms() - 1}),
    )
    .await;
    assert_eq!(
        (st, field(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "closes_at")
    );
    let (st, q) = post(
        &committee,
        format!("{m}/questionnaires"),
        json!({"title": "意见征询", "questions": qs, "closes_at": later}),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{q}");
    let qurl = format!("{base}/api/v1/questionnaires/{}", q["id"].as_str().unwrap());
    let (st, v) = post(
        &owner0,
        format!("{qurl}/answers"),
        json!({"answers": [0, [0, 2], "希望公开招标"]}),
    )
    .await;
    assert_eq!(
        (st, v["seq"].as_i64()),
        (StatusCode::CREATED, Some(1)),
        "{v}"
    );
    let (st, v) = post(
        &owner0,
        format!("{qurl}/answers"),
        json!({"answers": [1, [1], "再想想"]}),
    )
    .await;
    assert_eq!(
        (st, v["replaced_earlier"].as_bool()),
        (StatusCode::CREATED, Some(true))
    );
    let (st, _) = post(
        &owner1,
        format!("{qurl}/answers"),
        json!({"answers": [0, [0], "支持"]}),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED);
    let (st, v) = post(
        &owner1,
        format!("{qurl}/answers"),
        json!({"answers": [5, [0], "x"]}),
    )
    .await;
    assert_eq!(
        (st, field(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "answers[0]")
    );
    let (st, v) = post(&owner1, format!("{qurl}/answers"), json!({"answers": [0]})).await;
    assert_eq!(
        (st, field(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "answers")
    );
    let (st, _) = post(
        &owner8,
        format!("{qurl}/answers"),
        json!({"answers": [0, [0], "x"]}),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (_, v) = get(&owner0, qurl.clone()).await;
    assert_eq!(
        v["questionnaire"]["respondents"], 2,
        "one current answer per person"
    );
    assert_eq!(v["questionnaire"]["counts"][0]["options"], json!([1, 1]));
    assert_eq!(v["questionnaire"]["counts"][1]["options"], json!([1, 1, 0]));
    assert_eq!(v["questionnaire"]["texts"][2], json!(["再想想", "支持"]));
    assert_eq!(v["my_answers"], json!([1, [1], "再想想"]));
    assert_eq!(v["open"], true);
    let (st, _) = post(&owner0, format!("{qurl}/close"), json!({})).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = post(&committee, format!("{qurl}/close"), json!({})).await;
    assert_eq!(st, StatusCode::OK);
    let (st, v) = post(
        &owner1,
        format!("{qurl}/answers"),
        json!({"answers": [1, [0], "改主意"]}),
    )
    .await;
    assert_eq!(
        st,
        StatusCode::CONFLICT,
        "a closed questionnaire takes no answers: {v}"
    );
    let (st, _) = post(&committee, format!("{qurl}/close"), json!({})).await;
    assert_eq!(st, StatusCode::CONFLICT);
    let (_, v) = get(&committee, format!("{m}/questionnaires")).await;
    assert_eq!(v["questionnaires"][0]["respondents"], 2);

    // Door-to-door records: a grid worker in their micro-grid only.
    let rec = |part: &str, date: &str| json!({"part_id": part, "visited_on": date, "opinion": "同意，希望尽快施工"});
    let (st, v) = post(
        &gridw1,
        format!("{m}/door-records"),
        rec(&w.parts[0], "2025-03-01"),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_eq!(
        (v["part"].as_str(), v["worker"].as_str()),
        (Some("6-1-101"), Some("gridw1"))
    );
    let (st, v) = post(
        &gridw1,
        format!("{m}/door-records"),
        rec(&w.parts[5], "2025-03-01"),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "another grid's household: {v}");
    let (st, v) = post(
        &committee,
        format!("{m}/door-records"),
        rec(&w.parts[8], "2025-03-01"),
    )
    .await;
    assert_eq!(
        (st, field(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "part_id"),
        "building 7 is outside the matter: {v}"
    );
    let (st, v) = post(
        &committee,
        format!("{m}/door-records"),
        rec(&w.parts[9], "2025-03-01"),
    )
    .await;
    assert_eq!(
        (st, field(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "part_id")
    );
    let (st, v) = post(
        &committee,
        format!("{m}/door-records"),
        rec(&w.parts[5], "2025-02-30"),
    )
    .await;
    assert_eq!(
        (st, field(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "visited_on")
    );
    let (st, _) = post(
        &owner0,
        format!("{m}/door-records"),
        rec(&w.parts[1], "2025-03-01"),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = post(
        &committee,
        format!("{m}/door-records"),
        rec(&w.parts[5], "2025-03-02"),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED);
    let (st, _) = post(
        &gridw1,
        format!("{m}/door-records"),
        rec(&w.parts[0], "2025-03-05"),
    )
    .await;
    assert_eq!(
        st,
        StatusCode::CREATED,
        "a second visit to the same household"
    );

    // Coverage: everyone's for the committee; G1's for its worker.
    let (_, c) = get(&committee, format!("{m}/coverage")).await;
    assert_eq!(
        (
            c["households"].as_i64(),
            c["reached"].as_i64(),
            c["not_reached"].as_i64()
        ),
        (Some(8), Some(2), Some(6)),
        "{c}"
    );
    assert_eq!(c["reached_parts"][0]["visits"], 2);
    assert_eq!(c["reached_parts"][0]["last_visit"], "2025-03-05");
    let (_, c) = get(&gridw1, format!("{m}/coverage")).await;
    assert_eq!(
        (c["households"].as_i64(), c["reached"].as_i64()),
        (Some(4), Some(1)),
        "{c}"
    );
    let not: Vec<&str> = c["not_reached_parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["part"].as_str().unwrap())
        .collect();
    assert_eq!(not, ["6-1-102", "6-1-103", "6-1-104"]);
    let (_, v) = get(&gridw1, format!("{m}/door-records")).await;
    assert_eq!(
        v["door_records"].as_array().unwrap().len(),
        2,
        "G1's records only"
    );
    let (st, _) = get(&owner0, format!("{m}/coverage")).await;
    assert_eq!(st, StatusCode::FORBIDDEN);

    // A paper ballot signed at the door is cast for the part's owner.
    let now = now_ms();
    let (st, v) = post(&committee, format!("{base}/api/v1/votes"), json!({"title": "外墙维修", "place_id": w.b6.id, "rule": {"kind": "custom", "base": "eligible", "area": null, "headcount": "7/10", "bound": "at_least", "turnout": false}, "opens_at": now - 1000, "closes_at": now + 86_400_000, "channels": ["paper"]})).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let vid = v["id"].as_str().unwrap().to_string();
    let (st, _) = post(
        &committee,
        format!("{base}/api/v1/votes/{vid}/open"),
        json!({}),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let ev: Value = gridw1
        .post(format!("{base}/api/v1/votes/{vid}/evidence"))
        .header("content-type", "image/png")
        .body(b"\x89PNG\r\n\x1a\n signed ballot".to_vec())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let eid = ev["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{ev}"))
        .to_string();
    let mut body = rec(&w.parts[1], "2025-03-06");
    body["ballot"] = json!({"vote_id": vid, "choice": "maybe", "evidence_id": eid});
    let (st, v) = post(&gridw1, format!("{m}/door-records"), body.clone()).await;
    assert_eq!(
        (st, field(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "ballot.choice")
    );
    body["ballot"]["choice"] = json!("yes");
    let (st, v) = post(&gridw1, format!("{m}/door-records"), body).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_eq!(v["ballot_receipt"].as_str().map(str::len), Some(10));
    let (_, t) = get(&committee, format!("{base}/api/v1/votes/{vid}")).await;
    assert_eq!(t["turnout"]["voted_headcount"], 1, "{t}");
}

/// Between `id="ID">` and the next `<`.
fn text_of(html: &str, id: &str) -> String {
    let needle = format!("id=\"{id}\">");
    let at = html.find(&needle).unwrap_or_else(|| panic!("no #{id}"));
    html[at + needle.len()..]
        .split('<')
        .next()
        .unwrap()
        .to_string()
}

/// The matter page's opinion sections and their forms.
async fn opinion_pages(kind: Kind) {
    let w = world(kind).await;
    let base = &w.base;
    let owner0 = login(&w, "owner0").await;
    let owner8 = login(&w, "owner8").await;
    let committee = login(&w, "committee").await;
    let gridw1 = login(&w, "gridw1").await;
    let id = new_matter(&owner0, &w, &w.b6.id, "6栋电梯更新", json!("seven_step")).await;
    let url = format!("{base}/matters/{id}");

    let (st, html) = form(
        &owner0,
        format!("{url}/comments"),
        &[("body", "请公开报价")],
        false,
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("请公开报价") && html.contains("id=\"comment-form\""));
    assert!(
        !html.contains("id=\"door-to-door\""),
        "owners do not see the door-to-door register"
    );
    let (_, html) = page(&owner8, url.clone()).await;
    assert!(html.contains("id=\"not-in-scope\"") && html.contains("请公开报价"));
    let (st, html) = form(&owner8, format!("{url}/comments"), &[("body", "x")], false).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{html}");

    let qs = json!([
        {"text": "是否同意？", "kind": "single", "options": ["同意", "反对"]},
        {"text": "关心什么？", "kind": "multiple", "options": ["费用", "工期", "噪音"]},
        {"text": "其他意见", "kind": "text"}
    ]);
    let (_, q) = post(
        &committee,
        format!("{base}/api/v1/matters/{id}/questionnaires"),
        json!({"title": "意见征询", "questions": qs, "closes_at": now_ms() + 86_400_000}),
    )
    .await;
    let qid = q["id"].as_str().unwrap();
    let answers = format!("{base}/questionnaires/{qid}/answers");
    let (st, html) = form(
        &owner0,
        answers.clone(),
        &[("q0", "0"), ("q1", "0"), ("q1", "2"), ("q2", "尽快")],
        false,
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("您已答卷") && html.contains("尽快"), "{html}");
    assert!(html.contains("class=\"respondents\">1<"));
    let (st, html) = form(&owner0, answers.clone(), &[("q1", "0"), ("q2", "x")], false).await;
    assert_eq!(
        st,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a single-choice question left blank"
    );
    assert!(html.contains("answers[0]"));
    let (st, _) = form(
        &owner8,
        answers.clone(),
        &[("q0", "1"), ("q1", "1"), ("q2", "x")],
        false,
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let outsider = login(&w, "resident_b").await;
    let (st, _) = form(&outsider, answers.clone(), &[("q0", "x")], false).await;
    assert_eq!(
        st,
        StatusCode::NOT_FOUND,
        "not even the shape of another compound's questionnaire"
    );

    // Publishing a questionnaire from the page (those who deliberate).
    let qform = |opts: &'static str| {
        vec![
            ("title", "施工时间征询"),
            ("closes", "2099-01-01T12:00"),
            ("q0_text", "哪个时段施工？"),
            ("q0_kind", "single"),
            ("q0_options", opts),
            ("q1_text", "其他建议"),
            ("q1_kind", "text"),
            ("q1_options", ""),
        ]
    };
    let (st, html) = form(
        &committee,
        format!("{url}/questionnaires"),
        &qform("上午\n下午"),
        false,
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        html.contains("施工时间征询") && html.contains("哪个时段施工？") && html.contains("下午")
    );
    let (st, html) = form(
        &committee,
        format!("{url}/questionnaires"),
        &qform("上午"),
        false,
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("questions[0].options"), "{html}");
    let (st, _) = form(
        &owner0,
        format!("{url}/questionnaires"),
        &qform("上午\n下午"),
        false,
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (_, v) = get(
        &owner0,
        format!("{base}/api/v1/matters/{id}/questionnaires"),
    )
    .await;
    assert_eq!(v["questionnaires"].as_array().unwrap().len(), 2);
    assert_eq!(v["questionnaires"][1]["questions"][1]["kind"], "text");

    let (_, html) = page(&gridw1, url.clone()).await;
    assert_eq!(text_of(&html, "cov-households"), "4", "G1 only");
    assert_eq!(text_of(&html, "cov-not-reached"), "4");
    let (st, html) = form(
        &gridw1,
        format!("{url}/door-records"),
        &[
            ("part_id", &w.parts[1]),
            ("visited_on", "2025-03-01"),
            ("opinion", "同意"),
        ],
        false,
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(text_of(&html, "cov-reached"), "1");
    assert_eq!(text_of(&html, "cov-not-reached"), "3");
    assert!(html.contains("6-1-102") && html.contains("同意"));
    let (st, _) = form(
        &gridw1,
        format!("{url}/door-records"),
        &[
            ("part_id", &w.parts[6]),
            ("visited_on", "2025-03-01"),
            ("opinion", "同意"),
        ],
        false,
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "another grid's household");
    let (_, html) = page(&committee, url.clone()).await;
    assert_eq!(text_of(&html, "cov-households"), "8");
    assert_eq!(text_of(&html, "cov-reached"), "1");
}

/// The independent iCalendar parser: PyPI `icalendar` in a venv (tests/ical/).
fn ical_python() -> String {
    if let Ok(p) = std::env::var("GONGZHI_ICAL_PYTHON") {
        if !p.is_empty() {
            return p;
        }
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = std::process::Command::new("bash")
        .arg(root.join("tests/ical/setup.sh"))
        .output()
        .expect("run tests/ical/setup.sh");
    assert!(
        out.status.success(),
        "tests/ical/setup.sh failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// Parses `ics` with the independent parser; returns its JSON report.
async fn parse_ics(ics: Vec<u8>) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("meeting.ics");
    std::fs::write(&file, ics).unwrap();
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/ical/parse_ics.py");
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(ical_python())
            .arg(script)
            .arg(&file)
            .output()
            .expect("run the parser")
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "parse_ics.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// 2025-07-14 19:00 China Standard Time.
const JULY_14_19H: i64 = 1_752_490_800_000;

/// Meetings: announced by those who deliberate, the owners' assembly's 15
/// days' notice, minutes with attendance and decisions, the iCalendar export
/// read back by an independent parser, and the pages.
async fn meetings(kind: Kind) {
    let w = world(kind).await;
    let base = &w.base;
    let owner0 = login(&w, "owner0").await;
    let committee = login(&w, "committee").await;
    let outsider = login(&w, "resident_b").await;
    let id = new_matter(&owner0, &w, &w.b6.id, "6栋电梯更新", json!("seven_step")).await;
    let long_item = "逐户说明老旧电梯更新的补贴政策、业主自筹部分的分摊办法（按专有面积，最大余数法）与施工期间的临时安排".to_string();
    let topic = json!({"matter_id": id, "kind": "topic", "title": "6栋电梯专题会, 第1次; 议补贴", "location": "千山美林议事厅",
        "agenda": ["补贴政策", long_item], "participants": [{"name": "张光伦", "role": "在职党员"}, {"name": "陈正军", "role": "物业"}, {"name": "业主代表", "role": ""}],
        "starts_at": JULY_14_19H, "ends_at": JULY_14_19H + 7_200_000});
    let url = format!("{base}/api/v1/meetings");
    let (st, _) = post(&owner0, url.clone(), topic.clone()).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "owners do not convene");
    let mut bad = topic.clone();
    bad["kind"] = json!("party");
    let (st, v) = post(&committee, url.clone(), bad).await;
    assert_eq!((st, field(&v)), (StatusCode::UNPROCESSABLE_ENTITY, "kind"));
    let mut bad = topic.clone();
    bad["ends_at"] = json!(JULY_14_19H);
    let (st, v) = post(&committee, url.clone(), bad).await;
    assert_eq!(
        (st, field(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "ends_at")
    );
    let (st, m) = post(&committee, url.clone(), topic).await;
    assert_eq!(st, StatusCode::CREATED, "{m}");
    let mid = m["id"].as_str().unwrap().to_string();

    // The owners' assembly: 15 days' notice, refused with a clear error otherwise.
    let now = now_ms();
    let day = 86_400_000;
    let assembly = |starts: i64| json!({"place_id": w.a.id, "kind": "owners_assembly", "title": "业主大会", "agenda": ["表决电梯更新"], "starts_at": starts, "ends_at": starts + 3 * 3_600_000});
    let (st, v) = post(&committee, url.clone(), assembly(now + 14 * day)).await;
    assert_eq!(
        (st, field(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "starts_at"),
        "{v}"
    );
    assert!(
        v["errors"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("at least 15 days ahead"),
        "{v}"
    );
    let (st, a) = post(&committee, url.clone(), assembly(now + 15 * day + 60_000)).await;
    assert_eq!(st, StatusCode::CREATED, "{a}");
    let aid = a["id"].as_str().unwrap().to_string();

    // Minutes with attendance and decisions.
    let minutes = |attended: Value| json!({"minutes": "介绍补贴政策，业主提问", "attended": attended, "decisions": ["成立监督小组", "下次会议公布报价"]});
    let (st, _) = post(
        &owner0,
        format!("{url}/{mid}/minutes"),
        minutes(json!([0, 2])),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, v) = post(
        &committee,
        format!("{url}/{mid}/minutes"),
        minutes(json!([0, 9])),
    )
    .await;
    assert_eq!(
        (st, field(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "attended")
    );
    let (st, v) = post(
        &committee,
        format!("{url}/{aid}/minutes"),
        minutes(json!([])),
    )
    .await;
    assert_eq!(st, StatusCode::CONFLICT, "not started: {v}");
    let (st, v) = post(
        &committee,
        format!("{url}/{mid}/minutes"),
        minutes(json!([2, 0])),
    )
    .await;
    assert_eq!(
        (st, v["seq"].as_i64()),
        (StatusCode::CREATED, Some(1)),
        "{v}"
    );
    let (_, v) = get(&owner0, format!("{url}/{mid}")).await;
    assert_eq!(v["minutes"]["attended"], json!([0, 2]));
    assert_eq!(v["minutes"]["decisions"][0], "成立监督小组");
    let (st, _) = get(&outsider, format!("{url}/{mid}")).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (_, v) = get(&owner0, format!("{base}/api/v1/matters/{id}/meetings")).await;
    assert_eq!(v["meetings"].as_array().unwrap().len(), 1);
    let (_, v) = get(&owner0, format!("{base}/api/v1/places/{}/meetings", w.a.id)).await;
    assert_eq!(v["meetings"].as_array().unwrap().len(), 2);

    // iCalendar, read back by an independent parser.
    let r = owner0.get(format!("{url}/{mid}.ics")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/calendar"));
    let ics = r.bytes().await.unwrap().to_vec();
    let text = String::from_utf8(ics.clone()).unwrap();
    assert!(text.contains("\r\n "), "long lines are folded: {text}");
    assert!(!text.replace("\r\n", "").contains('\n'), "CRLF only");
    let parsed = parse_ics(ics).await;
    assert_eq!(parsed["problems"], json!([]), "{parsed}");
    let ev = &parsed["events"][0];
    assert_eq!(ev["uid"], format!("meeting-{mid}@gongzhi"));
    assert_eq!(ev["dtstart"], "2025-07-14T11:00:00Z");
    assert_eq!(ev["dtend"], "2025-07-14T13:00:00Z");
    assert!(ev["dtstamp"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        ev["summary"], "6栋电梯专题会, 第1次; 议补贴",
        "escaped TEXT round-trips"
    );
    assert_eq!(ev["location"], "千山美林议事厅");
    assert_eq!(ev["categories"], json!(["TOPIC"]));
    let d = ev["description"].as_str().unwrap();
    assert!(
        d.contains(&format!("2. {long_item}")) && d.contains("\n1. 补贴政策\n"),
        "{d}"
    );
    assert!(
        d.contains("张光伦（在职党员）") && d.contains("议题：6栋电梯更新"),
        "{d}"
    );
    let (st, _) = get(&outsider, format!("{url}/{mid}.ics")).await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    // Pages: the meeting, and announcing from the matter page.
    let (_, html) = page(&owner0, format!("{base}/places/{}/matters", w.a.id)).await;
    assert!(
        html.contains(&format!("/meetings/{aid}")) && html.contains("业主大会"),
        "the place's meetings, with or without a matter"
    );
    let (st, html) = page(&owner0, format!("{base}/meetings/{mid}")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("专题会") && html.contains("成立监督小组"));
    assert_eq!(text_of(&html, "present"), "2");
    assert!(html.contains(&format!("/api/v1/meetings/{mid}.ics")));
    assert!(!html.contains("id=\"minutes-form\""));
    let (_, html) = page(&committee, format!("{base}/meetings/{mid}")).await;
    assert!(html.contains("id=\"minutes-form\""));
    let (_, html) = page(&owner0, format!("{base}/matters/{id}")).await;
    assert!(html.contains(&format!("/meetings/{mid}")) && !html.contains("id=\"announce-form\""));
    let (st, html) = form(
        &committee,
        format!("{base}/matters/{id}/meetings"),
        &[
            ("kind", "four_party"),
            ("title", "四方联席会"),
            ("location", "社区"),
            ("starts", "2025-08-01T15:00"),
            ("ends", "2025-08-01T17:00"),
            ("agenda", "电梯采购\n监督小组"),
            ("participants", "社区党委，王书记\n业委会,李主任"),
        ],
        false,
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{html}");
    assert!(
        html.contains("四方联席会") && html.contains("2025-08-01 15:00") && html.contains("李主任"),
        "{html}"
    );
    let (st, html) = form(
        &committee,
        format!("{base}/matters/{id}/meetings"),
        &[
            ("kind", "owners_assembly"),
            ("title", "业主大会"),
            ("starts", "2025-08-01T15:00"),
            ("ends", "2025-08-01T17:00"),
            ("agenda", "表决"),
        ],
        false,
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("15 days"), "{html}");
}

async fn put(c: &reqwest::Client, url: String, body: Value) -> (StatusCode, Value) {
    let r = c.put(url).json(&body).send().await.unwrap();
    let st = r.status();
    (st, r.json().await.unwrap_or(Value::Null))
}

/// A community's own procedures: defined by those who deliberate over the
/// place (not by owners), never shadowing a built-in, versions appended (a
/// matter keeps the version it copied), the nearest definition winning, and
/// seen only below the place that defined it.
async fn community_procedures(kind: Kind) {
    let w = world(kind).await;
    let base = &w.base;
    let (staff, committee, owner0, other) = (
        login(&w, "staff").await,
        login(&w, "committee").await,
        login(&w, "owner0").await,
        login(&w, "resident_b").await,
    );
    let community = w.a.path_ids()[2].clone();
    let (_, builtins) = get(&owner0, format!("{base}/api/v1/procedures")).await;
    let mut p = builtins["procedures"][0].clone();
    p["key"] = json!("courtyard_talk");
    p["name"] = json!("小院说事");
    let steps = p["steps"].as_array().unwrap().clone();
    let with_steps = |n: usize| {
        let mut q = p.clone();
        q["steps"] = json!(steps[..n]);
        q
    };
    let url = |place: &str, key: &str| format!("{base}/api/v1/places/{place}/procedures/{key}");

    // refusals: an owner; a key that disagrees; a built-in's key; no steps; bad key
    let (st, _) = put(&owner0, url(&community, "courtyard_talk"), with_steps(3)).await;
    assert!(
        st == StatusCode::FORBIDDEN || st == StatusCode::NOT_FOUND,
        "{st}"
    );
    let (st, e) = put(&staff, url(&community, "other_key"), with_steps(3)).await;
    assert_eq!(
        (st, field(&e)),
        (StatusCode::UNPROCESSABLE_ENTITY, "key"),
        "{e}"
    );
    let mut shadow = with_steps(3);
    shadow["key"] = json!("seven_step");
    let (st, e) = put(&staff, url(&community, "seven_step"), shadow).await;
    assert_eq!(
        (st, field(&e)),
        (StatusCode::UNPROCESSABLE_ENTITY, "procedure.key"),
        "{e}"
    );
    let (st, e) = put(&staff, url(&community, "courtyard_talk"), with_steps(0)).await;
    assert_eq!(
        (st, field(&e)),
        (StatusCode::UNPROCESSABLE_ENTITY, "procedure.steps"),
        "{e}"
    );
    let mut upper = with_steps(3);
    upper["key"] = json!("Courtyard");
    let (st, e) = put(&staff, url(&community, "Courtyard"), upper).await;
    assert_eq!(
        (st, field(&e)),
        (StatusCode::UNPROCESSABLE_ENTITY, "procedure.key"),
        "{e}"
    );
    // an unknown key cannot be followed
    let (st, e) = post(
        &owner0,
        format!("{base}/api/v1/matters"),
        json!({"place_id": w.b6.id, "title": "x", "procedure": "courtyard_talk"}),
    )
    .await;
    assert_eq!(
        (st, field(&e)),
        (StatusCode::UNPROCESSABLE_ENTITY, "procedure"),
        "{e}"
    );

    // the community defines it; a matter in a building below follows it
    let (st, d) = put(&staff, url(&community, "courtyard_talk"), with_steps(3)).await;
    assert_eq!(st, StatusCode::OK, "{d}");
    let m1 = new_matter(&owner0, &w, &w.b6.id, "楼道堆物", json!("courtyard_talk")).await;
    // a second version: new matters follow it, the first keeps its three steps
    let (st, _) = put(&staff, url(&community, "courtyard_talk"), with_steps(2)).await;
    assert_eq!(st, StatusCode::OK);
    let m2 = new_matter(&owner0, &w, &w.b6.id, "停车", json!("courtyard_talk")).await;
    let steps_of = |m: Value| m["procedure"]["steps"].as_array().unwrap().len();
    let (_, v1) = get(&owner0, format!("{base}/api/v1/matters/{m1}")).await;
    let (_, v2) = get(&owner0, format!("{base}/api/v1/matters/{m2}")).await;
    assert_eq!((steps_of(v1), steps_of(v2)), (3, 2));

    // compound A's committee overrides it for A only; B still sees the community's
    let (st, _) = put(&committee, url(&w.a.id, "courtyard_talk"), with_steps(1)).await;
    assert_eq!(st, StatusCode::OK);
    let (st, e) = put(&committee, url(&community, "courtyard_talk"), with_steps(1)).await;
    assert!(
        st == StatusCode::FORBIDDEN || st == StatusCode::NOT_FOUND,
        "{st} {e}"
    );
    let (_, la) = get(
        &owner0,
        format!("{base}/api/v1/places/{}/procedures", w.a.id),
    )
    .await;
    let local = la["local"].as_array().unwrap();
    assert_eq!(local.len(), 1, "{la}");
    assert_eq!(local[0]["place_id"], json!(w.a.id));
    assert_eq!(local[0]["procedure"]["steps"].as_array().unwrap().len(), 1);
    assert!(la["builtin"].as_array().unwrap().len() >= 3);
    let (st, lb) = get(
        &other,
        format!("{base}/api/v1/places/{}/procedures", w.b.id),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{lb}");
    let local = lb["local"].as_array().unwrap();
    assert_eq!(local.len(), 1, "{lb}");
    assert_eq!(local[0]["place_id"], json!(community));
    assert_eq!(local[0]["procedure"]["steps"].as_array().unwrap().len(), 2);
    let m3 = new_matter(&owner0, &w, &w.b6.id, "垃圾分类", json!("courtyard_talk")).await;
    let (_, v3) = get(&owner0, format!("{base}/api/v1/matters/{m3}")).await;
    assert_eq!(steps_of(v3), 1);
    // B's resident cannot look at A's procedures
    let (st, _) = get(
        &other,
        format!("{base}/api/v1/places/{}/procedures", w.a.id),
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}

both!(
    community_procedures,
    matter_pages,
    vote_rule_in_words,
    opinion_collection,
    opinion_pages,
    meetings
);
