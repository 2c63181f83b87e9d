//! Votes through real HTTP on SQLite and PostgreSQL: create, open (frozen
//! electorate), online / paper / proxy ballots, replacement, the refusals,
//! live turnout, close, the public board, apportionment — and the published
//! record re-counted by the real `gongzhi audit vote` binary.

use gongzhi_domain::ballot::Channel;
use gongzhi_domain::policy::Role;
use gongzhi_domain::roster::RosterRow;
use gongzhi_domain::vote::Choice;
use gongzhi_store::{register, votes};
use gongzhi_testkit::both;
use gongzhi_testkit::http::{csrf, field, get, login_at, post};
use gongzhi_testkit::{At, Fresh, Kind, Rows, User};
use reqwest::StatusCode;
use serde_json::{json, Value};

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR-a-scanned-ballot";

/// Building 6 of A: 8 flats, 7 owners (o6 owns 107 and 108). Building 7 of
/// A: o7. Compound B: ob.
fn roster() -> Vec<RosterRow> {
    let names = ["赵一", "钱二", "孙三", "李四", "周五", "吴六", "郑七"];
    let mut rows = Rows::new("渝北区", "龙山街道", "千山社区");
    for i in 0..8usize {
        let owner = i.min(6);
        rows.flat(
            "千山美林",
            "6",
            &format!("{}", 101 + i),
            8950 + i as i64 * 100,
            &format!("o{owner}"),
            names[owner],
            "",
        );
    }
    rows.flat("千山美林", "7", "101", 9000, "o7", "王八", "");
    rows.flat("御景华庭", "1", "101", 9000, "ob", "冯九", "");
    rows.rows()
}

pub(crate) struct World {
    _f: Fresh,
    pub(crate) base: String,
    pub(crate) a: register::Place,
    b6: register::Place,
    pub(crate) owners: Vec<String>,
}

pub(crate) async fn world(kind: Kind) -> World {
    let a = At::place("千山美林");
    let mut k = gongzhi_testkit::world(kind).roster(roster()).users(&[
        ("admin", Role::Admin, At::Everywhere),
        ("committee", Role::CommitteeMember, a.clone()),
        ("gridw", Role::GridWorker, a.clone()),
        ("staffb", Role::CommunityStaff, At::place("御景华庭")),
        ("steward", Role::Steward, a.clone()),
        ("nobody", Role::Resident, a.clone()),
    ]);
    for i in 0..8 {
        k = k.user(
            User::new(&format!("owner{i}"))
                .role(Role::Owner, a.clone())
                .owner(&format!("o{i}")),
        );
    }
    let k = k.serve(gongzhi_web::Config::default()).await;
    let a = k.place("千山美林");
    let b6 = k.building(&a, "6").await;
    let mut owner_ids = Vec::new();
    for i in 0..8 {
        owner_ids.push(k.owner(&format!("o{i}")).await);
    }
    // 吴六 (o5) consents to publication of their name.
    sqlx::query("UPDATE owners SET consent_publish_name = 1 WHERE id = $1")
        .bind(owner_ids[5].clone())
        .execute(k.f.db.reader())
        .await
        .unwrap();
    World {
        _f: k.f,
        base: k.base,
        a,
        b6,
        owners: owner_ids,
    }
}

pub(crate) async fn login(w: &World, user: &str) -> reqwest::Client {
    login_at(&w.base, user).await
}

pub(crate) fn now_ms() -> i64 {
    gongzhi_store::db::now_ms()
}

pub(crate) async fn upload(
    c: &reqwest::Client,
    w: &World,
    vote: &str,
    ct: &str,
    bytes: &[u8],
) -> (StatusCode, Value) {
    let r = c
        .post(format!("{}/api/v1/votes/{vote}/evidence", w.base))
        .header("content-type", ct)
        .body(bytes.to_vec())
        .send()
        .await
        .unwrap();
    (r.status(), r.json().await.unwrap_or(Value::Null))
}

async fn full_vote(kind: Kind) {
    let w = world(kind).await;
    let base = &w.base;
    let admin = login(&w, "admin").await;
    let committee = login(&w, "committee").await;
    let gridw = login(&w, "gridw").await;
    let staffb = login(&w, "staffb").await;
    let nobody = login(&w, "nobody").await;
    let mut owner = Vec::new();
    for i in 0..8 {
        owner.push(login(&w, &format!("owner{i}")).await);
    }

    // The community sets a proxy limit of 2 for compound A.
    let r = admin
        .put(format!(
            "{base}/api/v1/places/{}/settings/vote.proxy_limit",
            w.a.id
        ))
        .json(&json!({"value": "0"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = admin
        .put(format!(
            "{base}/api/v1/places/{}/settings/vote.proxy_limit",
            w.a.id
        ))
        .json(&json!({"value": "2"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);

    let now = now_ms();
    let rule = json!({"kind": "custom", "base": "eligible", "area": null, "headcount": "3/4", "bound": "at_least", "turnout": false});
    let body = json!({"title": "6栋加装电梯", "place_id": w.b6.id, "rule": rule, "opens_at": now - 1000, "closes_at": now + 3_600_000, "channels": ["online", "paper", "proxy"]});
    // Refusals at creation.
    let (st, v) = post(&owner[0], format!("{base}/api/v1/votes"), body.clone()).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
    let (st, _) = post(&staffb, format!("{base}/api/v1/votes"), body.clone()).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let mut bad = body.clone();
    bad["channels"] = json!(["fax"]);
    let (st, v) = post(&committee, format!("{base}/api/v1/votes"), bad).await;
    assert_eq!(
        (st, field(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "channels")
    );
    let mut bad = body.clone();
    bad["rule"]["headcount"] = json!("5/4");
    let (st, v) = post(&committee, format!("{base}/api/v1/votes"), bad).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(field(&v).starts_with("rule"), "{v}");
    let mut bad = body.clone();
    bad["closes_at"] = json!(now - 5000);
    let (st, v) = post(&committee, format!("{base}/api/v1/votes"), bad).await;
    assert_eq!(
        (st, field(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "closes_at")
    );

    let (st, v) = post(&committee, format!("{base}/api/v1/votes"), body.clone()).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let id = v["id"].as_str().unwrap().to_string();
    assert_eq!(v["status"], "draft");

    // Not open yet.
    let (st, v) = post(
        &owner[0],
        format!("{base}/api/v1/votes/{id}/ballots"),
        json!({"choice": "yes"}),
    )
    .await;
    assert_eq!(st, StatusCode::CONFLICT, "not open yet: {v}");
    let (st, _) = post(&gridw, format!("{base}/api/v1/votes/{id}/open"), json!({})).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, v) = post(
        &committee,
        format!("{base}/api/v1/votes/{id}/open"),
        json!({}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "open");
    assert_eq!(v["total_headcount"], 7, "o6's two flats are one head");
    let total: i64 = (0..8).map(|i| 8950 + i * 100).sum();
    assert_eq!(
        v["total_area"],
        gongzhi_domain::money::format_hundredths(total)
    );
    assert_eq!(v["proxy_limit"], 2, "from the community setting");
    let (st, _) = post(
        &committee,
        format!("{base}/api/v1/votes/{id}/open"),
        json!({}),
    )
    .await;
    assert_eq!(st, StatusCode::CONFLICT);

    // Other compounds' staff do not even see it.
    let (st, _) = get(&staffb, format!("{base}/api/v1/votes/{id}")).await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    // Online: cast, then change before close (both kept).
    let (st, r1) = post(
        &owner[0],
        format!("{base}/api/v1/votes/{id}/ballots"),
        json!({"choice": "yes"}),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{r1}");
    assert_eq!(r1["seq"], 1);
    let (st, r2) = post(
        &owner[0],
        format!("{base}/api/v1/votes/{id}/ballots"),
        json!({"choice": "no"}),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED);
    assert_eq!(r2["seq"], 2);
    assert_eq!(r2["supersedes"], r1["ballot_id"]);
    assert_ne!(r1["receipt"], r2["receipt"]);
    let (st, v) = post(
        &owner[0],
        format!("{base}/api/v1/votes/{id}/ballots"),
        json!({"choice": "maybe"}),
    )
    .await;
    assert_eq!(
        (st, field(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "choice")
    );
    // Someone else's owner, a non-owner, an owner outside the electorate.
    let (st, v) = post(
        &owner[1],
        format!("{base}/api/v1/votes/{id}/ballots"),
        json!({"choice": "yes", "owner_id": w.owners[0]}),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
    let (st, v) = post(
        &nobody,
        format!("{base}/api/v1/votes/{id}/ballots"),
        json!({"choice": "yes"}),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
    let (st, v) = post(
        &owner[7],
        format!("{base}/api/v1/votes/{id}/ballots"),
        json!({"choice": "yes"}),
    )
    .await;
    assert_eq!(
        (st, field(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "owner_id"),
        "{v}"
    );
    let (st, v) = post(
        &committee,
        format!("{base}/api/v1/votes/{id}/ballots"),
        json!({"choice": "yes"}),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "staff are not owners: {v}");

    // Owner view: live turnout and their own current ballot.
    let (st, v) = get(&owner[0], format!("{base}/api/v1/votes/{id}")).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["turnout"]["voted_headcount"], 1);
    assert_eq!(v["turnout"]["ballots_cast"], 2);
    assert_eq!(v["turnout"]["voted_area"], "89.50");
    assert_eq!(v["my_ballots"][0]["choice"], "no");

    // Evidence: type and content checked, hash kept; scope enforced.
    let (st, v) = upload(&gridw, &w, &id, "text/html", b"<html>").await;
    assert_eq!(
        (st, field(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "file"),
        "{v}"
    );
    let (st, v) = upload(&gridw, &w, &id, "image/png", b"%PDF-1.4 not a png").await;
    assert_eq!((st, field(&v)), (StatusCode::UNPROCESSABLE_ENTITY, "file"));
    let (st, _) = upload(&staffb, &w, &id, "image/png", PNG).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = upload(&owner[1], &w, &id, "image/png", PNG).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, ev) = upload(&gridw, &w, &id, "image/png", PNG).await;
    assert_eq!(st, StatusCode::CREATED, "{ev}");
    use sha2::Digest;
    assert_eq!(ev["sha256"], hex::encode(sha2::Sha256::digest(PNG)));
    assert_eq!(ev["size"], PNG.len());
    let eid = ev["id"].as_str().unwrap().to_string();
    let r = gridw
        .get(format!("{base}/api/v1/votes/{id}/evidence/{eid}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.bytes().await.unwrap().as_ref(), PNG);

    // Paper ballot by the grid worker; staff outside the scope refused.
    let paper = |owner: &str, choice: &str| json!({"owner_id": owner, "choice": choice, "channel": "paper", "evidence_id": eid});
    let (st, _) = post(
        &staffb,
        format!("{base}/api/v1/votes/{id}/recorded-ballots"),
        paper(&w.owners[1], "yes"),
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let steward = login(&w, "steward").await;
    let (st, _) = post(
        &steward,
        format!("{base}/api/v1/votes/{id}/recorded-ballots"),
        paper(&w.owners[1], "yes"),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, v) = post(&gridw, format!("{base}/api/v1/votes/{id}/recorded-ballots"), json!({"owner_id": w.owners[1], "choice": "yes", "channel": "paper", "evidence_id": "nope"})).await;
    assert_eq!(
        (st, field(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "evidence_id")
    );
    let (st, v) = post(
        &gridw,
        format!("{base}/api/v1/votes/{id}/recorded-ballots"),
        paper(&w.owners[7], "yes"),
    )
    .await;
    assert_eq!(
        (st, field(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "owner_id"),
        "o7 lives in building 7"
    );
    let (st, v) = post(
        &gridw,
        format!("{base}/api/v1/votes/{id}/recorded-ballots"),
        paper(&w.owners[1], "yes"),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_eq!(v["channel"], "paper");

    // Written proxies: 王五 may hold 2 (the setting), not 3.
    let proxy = |owner: &str, holder: &str| json!({"owner_id": owner, "choice": "yes", "channel": "proxy", "evidence_id": eid, "proxy_holder": holder});
    for o in [2, 3] {
        let (st, v) = post(
            &committee,
            format!("{base}/api/v1/votes/{id}/recorded-ballots"),
            proxy(&w.owners[o], "王五"),
        )
        .await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
    }
    let (st, v) = post(
        &committee,
        format!("{base}/api/v1/votes/{id}/recorded-ballots"),
        proxy(&w.owners[4], "王五"),
    )
    .await;
    assert_eq!(
        (st, field(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "proxy_holder"),
        "{v}"
    );
    let (st, v) = post(
        &committee,
        format!("{base}/api/v1/votes/{id}/recorded-ballots"),
        json!({"owner_id": w.owners[4], "choice": "yes", "channel": "proxy", "evidence_id": eid}),
    )
    .await;
    assert_eq!(
        (st, field(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "proxy_holder")
    );
    let (st, _) = post(
        &committee,
        format!("{base}/api/v1/votes/{id}/recorded-ballots"),
        proxy(&w.owners[4], "陈六"),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED);
    for o in [5, 6] {
        let (st, _) = post(
            &owner[o],
            format!("{base}/api/v1/votes/{id}/ballots"),
            json!({"choice": "yes"}),
        )
        .await;
        assert_eq!(st, StatusCode::CREATED);
    }

    // The public board while open: receipts and parts, masked names, no choices
    // (every ballot, the replaced ones too: view=all).
    let (st, board) = get(
        &reqwest::Client::new(),
        format!("{base}/api/v1/public/votes/{id}/board?view=all"),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let rows = board["ballots"].as_array().unwrap();
    assert_eq!(rows.len(), 8, "o0's replaced ballot stays on the board");
    assert_eq!(rows.iter().filter(|r| r["current"] == true).count(), 7);
    assert!(rows.iter().all(|r| r["choice"].is_null()));
    assert!(rows.iter().any(|r| r["receipt"] == r2["receipt"]
        && r["name"] == "赵*"
        && r["parts"] == json!(["6-1-101"])));
    assert!(
        rows.iter().any(|r| r["name"] == "吴六"),
        "consented name in full"
    );
    assert!(rows
        .iter()
        .any(|r| r["name"] == "郑*" && r["parts"] == json!(["6-1-107", "6-1-108"])));
    assert!(!board.to_string().contains("赵一"));
    let (st, _) = get(
        &reqwest::Client::new(),
        format!("{base}/api/v1/public/votes/{id}/record.json"),
    )
    .await;
    assert_eq!(st, StatusCode::CONFLICT, "no record before close");

    // Apportionment: 30,000.00 yuan, 10,000.00 subsidy, across the 8 flats.
    let (st, v) = post(
        &owner[0],
        format!("{base}/api/v1/votes/{id}/apportion"),
        json!({"amount_fen": 3_000_000, "subsidy_fen": 1_000_000, "by": "area"}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let shares = v["shares"].as_array().unwrap();
    assert_eq!(shares.len(), 8);
    assert_eq!(
        shares
            .iter()
            .map(|s| s["amount_fen"].as_i64().unwrap())
            .sum::<i64>(),
        2_000_000
    );
    assert!(
        shares[7]["amount_fen"].as_i64() > shares[0]["amount_fen"].as_i64(),
        "larger flat pays more"
    );
    let (st, v) = post(
        &owner[0],
        format!("{base}/api/v1/votes/{id}/apportion"),
        json!({"amount_fen": 100, "by": "equal"}),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let eq: Vec<i64> = v["shares"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["amount_fen"].as_i64().unwrap())
        .collect();
    assert_eq!(
        eq,
        vec![13, 13, 13, 13, 12, 12, 12, 12],
        "equal remainders: earlier part first"
    );
    let (st, v) = post(
        &owner[0],
        format!("{base}/api/v1/votes/{id}/apportion"),
        json!({"amount_fen": 100, "by": "height"}),
    )
    .await;
    assert_eq!((st, field(&v)), (StatusCode::UNPROCESSABLE_ENTITY, "by"));
    let (st, v) = post(
        &owner[0],
        format!("{base}/api/v1/votes/{id}/apportion"),
        json!({"amount_fen": 100, "subsidy_fen": 200, "by": "area"}),
    )
    .await;
    assert_eq!(
        (st, field(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "subsidy_fen")
    );

    // Close: only who manages votes.
    let (st, _) = post(&gridw, format!("{base}/api/v1/votes/{id}/close"), json!({})).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, closed) = post(
        &committee,
        format!("{base}/api/v1/votes/{id}/close"),
        json!({}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{closed}");
    let res = &closed["result"];
    assert_eq!(res["total_headcount"], 7);
    assert_eq!(res["voted_headcount"], 7);
    assert_eq!(res["yes_headcount"], 6, "6 of 7 ≥ 3/4");
    assert_eq!(res["passed"], true);
    assert!(res["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["held"] == true));
    let (st, _) = post(
        &committee,
        format!("{base}/api/v1/votes/{id}/close"),
        json!({}),
    )
    .await;
    assert_eq!(st, StatusCode::CONFLICT);
    let (st, v) = post(
        &owner[0],
        format!("{base}/api/v1/votes/{id}/ballots"),
        json!({"choice": "yes"}),
    )
    .await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    assert!(v["detail"].as_str().unwrap().contains("closed"));
    let (st, _) = post(
        &gridw,
        format!("{base}/api/v1/votes/{id}/recorded-ballots"),
        paper(&w.owners[0], "yes"),
    )
    .await;
    assert_eq!(st, StatusCode::CONFLICT);

    // Result and publication in the audit trail.
    let (_, audit) = get(
        &committee,
        format!("{base}/api/v1/places/{}/audit?limit=200", w.a.id),
    )
    .await;
    let actions: Vec<&str> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for a in [
        "vote.create",
        "vote.open",
        "vote.ballot",
        "vote.ballot.replace",
        "vote.evidence",
        "vote.close",
        "vote.publish",
    ] {
        assert!(actions.contains(&a), "{a} in {actions:?}");
    }

    // The board now shows choices.
    let (_, board) = get(
        &reqwest::Client::new(),
        format!("{base}/api/v1/public/votes/{id}/board"),
    )
    .await;
    assert!(board["ballots"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["receipt"] == r2["receipt"] && r["choice"] == "no"));

    // The public record, re-counted by the real binary.
    let r = reqwest::get(format!("{base}/api/v1/public/votes/{id}/record.json"))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let text = r.text().await.unwrap();
    let record: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(record["format"], "gongzhi.vote/1");
    assert_eq!(record["parts"].as_array().unwrap().len(), 8);
    assert_eq!(
        record["ballots"].as_array().unwrap().len(),
        7,
        "current ballots only"
    );
    for n in ["赵一", "钱二", "吴六", "郑七"] {
        assert!(!text.contains(n), "no names in the record");
    }
    assert!(!text.contains(&w.owners[0]), "owners as opaque keys");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("record.json");
    std::fs::write(&file, &text).unwrap();
    let audited = crate::cli::audit_vote_ok(&file).await;
    for k in [
        "total_area",
        "voted_area",
        "yes_area",
        "total_headcount",
        "voted_headcount",
        "yes_headcount",
        "turnout_met",
        "approval_met",
        "passed",
    ] {
        assert_eq!(audited[k], res[k], "{k}");
    }
    // A tampered record is re-counted differently: the audit is not a rubber stamp.
    let tampered = text.replacen("\"choice\":\"yes\"", "\"choice\":\"no\"", 2);
    std::fs::write(&file, &tampered).unwrap();
    let out = crate::cli::audit_vote(&file).await;
    let audited: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(audited["yes_headcount"], 4);
    assert_eq!(audited["passed"], false);
}

/// A vote whose window has not opened refuses ballots; a vote's window that
/// closed refuses them too.
async fn outside_window(kind: Kind) {
    let w = world(kind).await;
    let base = &w.base;
    let committee = login(&w, "committee").await;
    let owner0 = login(&w, "owner0").await;
    let now = now_ms();
    let body = json!({"title": "未来的投票", "place_id": w.a.id, "rule": {"kind": "civil_code", "matter": "ordinary"}, "opens_at": now + 3_600_000, "closes_at": now + 7_200_000, "channels": ["online"]});
    let (st, v) = post(&committee, format!("{base}/api/v1/votes"), body).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let id = v["id"].as_str().unwrap().to_string();
    let (st, v) = post(
        &committee,
        format!("{base}/api/v1/votes/{id}/open"),
        json!({}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(
        v["total_headcount"], 8,
        "the compound's electorate includes building 7"
    );
    assert_eq!(v["proxy_limit"], 3, "the default without a setting");
    let (st, v) = post(
        &owner0,
        format!("{base}/api/v1/votes/{id}/ballots"),
        json!({"choice": "yes"}),
    )
    .await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    assert!(v["detail"]
        .as_str()
        .unwrap()
        .contains("outside the voting window"));
    // A channel the vote does not accept.
    let gridw = login(&w, "gridw").await;
    let (_, ev) = upload(&gridw, &w, &id, "image/png", PNG).await;
    let (st, v) = post(&gridw, format!("{base}/api/v1/votes/{id}/recorded-ballots"), json!({"owner_id": w.owners[0], "choice": "yes", "channel": "paper", "evidence_id": ev["id"]})).await;
    assert_eq!(st, StatusCode::CONFLICT, "window is checked first: {v}");
    // Close with no ballots: counted, failed, published.
    let (st, v) = post(
        &committee,
        format!("{base}/api/v1/votes/{id}/close"),
        json!({}),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["result"]["passed"], false);
    assert_eq!(v["result"]["voted_headcount"], 0);
    let (st, rec) = get(
        &reqwest::Client::new(),
        format!("{base}/api/v1/public/votes/{id}/record.json"),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(rec["ballots"], json!([]));
    // A draft has no public board.
    let body = json!({"title": "草稿", "place_id": w.b6.id, "rule": {"kind": "civil_code", "matter": "special"}, "opens_at": now, "closes_at": now + 1000, "channels": ["online"]});
    let (_, v) = post(&committee, format!("{base}/api/v1/votes"), body).await;
    let (st, _) = get(
        &reqwest::Client::new(),
        format!(
            "{base}/api/v1/public/votes/{}/board",
            v["id"].as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}

/// Linking an account to an owner of record: register writers over the
/// owner's parts only, once, to a known user.
async fn linking_accounts(kind: Kind) {
    let w = world(kind).await;
    let base = &w.base;
    let url = format!("{base}/api/v1/owners/{}/accounts", w.owners[0]);
    let (st, _) = post(
        &login(&w, "committee").await,
        url.clone(),
        json!({"username": "nobody"}),
    )
    .await;
    assert_eq!(
        st,
        StatusCode::FORBIDDEN,
        "a committee member does not change the register"
    );
    let (st, _) = post(
        &login(&w, "staffb").await,
        url.clone(),
        json!({"username": "nobody"}),
    )
    .await;
    assert_eq!(
        st,
        StatusCode::NOT_FOUND,
        "another compound's owner is not even confirmed"
    );
    let admin = login(&w, "admin").await;
    let (st, v) = post(&admin, url.clone(), json!({"username": "ghost"})).await;
    assert_eq!(
        (st, field(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "username")
    );
    let (st, _) = post(&admin, url.clone(), json!({"username": "nobody"})).await;
    assert_eq!(st, StatusCode::CREATED);
    let (st, _) = post(&admin, url, json!({"username": "nobody"})).await;
    assert_eq!(st, StatusCode::CONFLICT);
    let (_, me) = get(&login(&w, "nobody").await, format!("{base}/api/v1/me")).await;
    assert_eq!(me["owner_ids"], json!([w.owners[0]]));
}

/// A matter follows its procedure: order, roles over the scope, day limits;
/// steps are audited; other compounds do not see it.
async fn matters_follow_their_procedure(kind: Kind) {
    let w = world(kind).await;
    let base = &w.base;
    let owner0 = login(&w, "owner0").await;
    let committee = login(&w, "committee").await;
    let staffb = login(&w, "staffb").await;
    let (st, v) = get(&owner0, format!("{base}/api/v1/procedures")).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["procedures"].as_array().unwrap().len(), 3);
    let (st, v) = post(
        &owner0,
        format!("{base}/api/v1/matters"),
        json!({"place_id": w.b6.id, "title": "6栋电梯更新", "procedure": "no_such"}),
    )
    .await;
    assert_eq!(
        (st, field(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "procedure")
    );
    let (st, _) = post(
        &staffb,
        format!("{base}/api/v1/matters"),
        json!({"place_id": w.b6.id, "title": "x", "procedure": "seven_step"}),
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, m) = post(
        &owner0,
        format!("{base}/api/v1/matters"),
        json!({"place_id": w.b6.id, "title": "6栋电梯更新", "procedure": "seven_step"}),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{m}");
    let id = m["id"].as_str().unwrap().to_string();
    assert_eq!(m["next_step"], "raise");
    let steps = format!("{base}/api/v1/matters/{id}/steps");
    let (st, v) = post(&owner0, steps.clone(), json!({"step": "triage"})).await;
    assert_eq!(st, StatusCode::CONFLICT, "out of order: {v}");
    let (st, v) = post(
        &owner0,
        steps.clone(),
        json!({"step": "raise", "note": "电梯经常停运"}),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_eq!(v["role"], "owner");
    let (st, v) = post(&owner0, steps.clone(), json!({"step": "triage"})).await;
    assert_eq!(
        (st, field(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "step"),
        "an owner does not triage: {v}"
    );
    let (st, _) = post(&committee, steps.clone(), json!({"step": "triage"})).await;
    assert_eq!(st, StatusCode::CREATED);
    let (st, _) = post(
        &committee,
        steps.clone(),
        json!({"step": "deliberate", "note": "四方联席会议"}),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED);
    let (st, v) = post(&committee, steps.clone(), json!({"step": "decide"})).await;
    assert_eq!(
        st,
        StatusCode::CONFLICT,
        "the owners' meeting needs 15 days' notice: {v}"
    );
    assert!(v["detail"].as_str().unwrap().contains("15 days"));
    let (st, _) = get(&staffb, format!("{base}/api/v1/matters/{id}")).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (_, m) = get(&owner0, format!("{base}/api/v1/matters/{id}")).await;
    assert_eq!(m["steps"].as_array().unwrap().len(), 3);
    assert_eq!(m["next_step"], "decide");
    // A community's own procedure, with a vote attached to its step.
    let custom = json!({"key": "quick", "name": "快速表决", "steps": [{"key": "vote", "name": "表决", "roles": ["committee_member"], "produces": "vote"}]});
    let (st, m) = post(
        &committee,
        format!("{base}/api/v1/matters"),
        json!({"place_id": w.a.id, "title": "车位划线", "procedure": custom}),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{m}");
    let bad = json!({"key": "bad", "name": "bad", "steps": []});
    let (st, v) = post(
        &committee,
        format!("{base}/api/v1/matters"),
        json!({"place_id": w.a.id, "title": "x", "procedure": bad}),
    )
    .await;
    assert_eq!(
        (st, field(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "procedure")
    );
    let now = now_ms();
    let (_, vote) = post(&committee, format!("{base}/api/v1/votes"), json!({"title": "车位划线", "place_id": w.a.id, "rule": {"kind": "civil_code", "matter": "ordinary"}, "opens_at": now, "closes_at": now + 1000, "channels": ["online"]})).await;
    let mid = m["id"].as_str().unwrap();
    let (st, v) = post(
        &committee,
        format!("{base}/api/v1/matters/{mid}/steps"),
        json!({"step": "vote", "vote_id": "nope"}),
    )
    .await;
    assert_eq!(
        (st, field(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "vote_id")
    );
    let (st, v) = post(
        &committee,
        format!("{base}/api/v1/matters/{mid}/steps"),
        json!({"step": "vote", "vote_id": vote["id"]}),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let (st, _) = post(
        &committee,
        format!("{base}/api/v1/matters/{mid}/steps"),
        json!({"step": "vote"}),
    )
    .await;
    assert_eq!(st, StatusCode::CONFLICT, "complete");
    let (_, audit) = get(
        &committee,
        format!("{base}/api/v1/places/{}/audit?limit=200", w.a.id),
    )
    .await;
    let n = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "matter.step")
        .count();
    assert_eq!(n, 4);
}

/// Opens an online vote over `place` (open since a second ago, for an hour)
/// and returns its id.
async fn open_online_vote(w: &World, place: &register::Place) -> String {
    let committee = login(w, "committee").await;
    let now = now_ms();
    let body = json!({"title": "改票测试", "place_id": place.id, "rule": {"kind": "civil_code", "matter": "ordinary"}, "opens_at": now - 1000, "closes_at": now + 3_600_000, "channels": ["online", "paper"]});
    let (st, v) = post(&committee, format!("{}/api/v1/votes", w.base), body).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let id = v["id"].as_str().unwrap().to_string();
    let (st, v) = post(
        &committee,
        format!("{}/api/v1/votes/{id}/open", w.base),
        json!({}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    id
}

/// A ballot of `owner` cast through the store (as the demo and door-to-door
/// records do) at the simulated time `at`.
async fn cast_at(
    w: &World,
    vote: &str,
    owner: &str,
    choice: Choice,
    at: i64,
) -> Result<votes::Receipt, gongzhi_store::StoreError> {
    let (vote, owner) = (vote.to_string(), owner.to_string());
    w._f.db
        .write(move |tx| {
            let (vote, owner) = (vote.clone(), owner.clone());
            Box::pin(async move {
                votes::cast(
                    tx,
                    votes::Cast {
                        vote_id: &vote,
                        owner_id: &owner,
                        choice,
                        channel: Channel::Online,
                        cast_by: "test",
                        proxy_holder: None,
                        evidence_id: None,
                        now: at,
                    },
                )
                .await
            })
        })
        .await
}

/// An owner re-casts at most 3 times a minute (429 + Retry-After naming why)
/// and casts at most 20 ballots in a vote (422 naming why), through the API
/// and through the store alike; the refused ballot is not stored.
async fn recasting_is_limited(kind: Kind) {
    let w = world(kind).await;
    let base = &w.base;
    let id = open_online_vote(&w, &w.b6).await;
    let owner0 = login(&w, "owner0").await;
    let url = format!("{base}/api/v1/votes/{id}/ballots");
    for (k, choice) in ["yes", "no", "abstain", "yes"].iter().enumerate() {
        let (st, v) = post(&owner0, url.clone(), json!({ "choice": choice })).await;
        assert_eq!(st, StatusCode::CREATED, "ballot {}: {v}", k + 1);
    }
    let r = owner0
        .post(&url)
        .json(&json!({"choice": "no"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        "application/problem+json"
    );
    let wait: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "Retry-After {wait}");
    let v: Value = r.json().await.unwrap();
    assert_eq!(field(&v), "owner_id", "{v}");
    assert!(
        v["detail"]
            .as_str()
            .unwrap()
            .contains("at most 3 times in 60 seconds"),
        "{v}"
    );
    let (_, mine) = get(&owner0, format!("{base}/api/v1/votes/{id}")).await;
    assert_eq!(
        mine["turnout"]["ballots_cast"], 4,
        "the refused one is not stored"
    );
    assert_eq!(mine["my_ballots"][0]["choice"], "yes");
    // A paper ballot recorded for the same owner counts against the same limit.
    let gridw = login(&w, "gridw").await;
    let (_, ev) = upload(&gridw, &w, &id, "image/png", PNG).await;
    let (st, v) = post(&gridw, format!("{base}/api/v1/votes/{id}/recorded-ballots"), json!({"owner_id": w.owners[0], "choice": "no", "channel": "paper", "evidence_id": ev["id"]})).await;
    assert_eq!(
        (st, field(&v)),
        (StatusCode::TOO_MANY_REQUESTS, "owner_id"),
        "{v}"
    );
    // Another owner is not held up by owner0.
    let (st, v) = post(
        &login(&w, "owner1").await,
        url.clone(),
        json!({"choice": "yes"}),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");

    // Slowly, a minute apart (the store path: demo, door-to-door records),
    // owner2 reaches the cap of 20 ballots; the 21st is refused however late.
    let t0 = now_ms();
    for k in 0..20 {
        let choice = if k % 2 == 0 { Choice::Yes } else { Choice::No };
        cast_at(&w, &id, &w.owners[2], choice, t0 + k * 61_000)
            .await
            .unwrap_or_else(|e| panic!("ballot {}: {e}", k + 1));
    }
    let e = cast_at(&w, &id, &w.owners[2], Choice::Yes, t0 + 30 * 61_000)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, gongzhi_store::StoreError::Invalid { field, reason } if field == "owner_id" && reason.contains("the most allowed is 20")),
        "{e}"
    );
    let (st, v) = post(
        &login(&w, "owner2").await,
        url.clone(),
        json!({"choice": "no"}),
    )
    .await;
    assert_eq!(
        (st, field(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "owner_id"),
        "{v}"
    );
    assert!(
        v["detail"]
            .as_str()
            .unwrap()
            .contains("the most allowed is 20"),
        "{v}"
    );
    // In the store too, a fourth re-cast within a minute waits.
    let e = cast_at(&w, &id, &w.owners[1], Choice::No, t0 + 10)
        .await
        .map(|_| ())
        .and(
            cast_at(&w, &id, &w.owners[1], Choice::No, t0 + 20)
                .await
                .map(|_| ()),
        )
        .and(
            cast_at(&w, &id, &w.owners[1], Choice::No, t0 + 30)
                .await
                .map(|_| ()),
        );
    assert!(e.is_ok(), "{e:?}");
    let e = cast_at(&w, &id, &w.owners[1], Choice::Yes, t0 + 40)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, gongzhi_store::StoreError::RateLimited { field, retry_after_secs, .. } if field == "owner_id" && *retry_after_secs == 60),
        "{e}"
    );
    // History is append-only: every accepted ballot is kept, none edited.
    let (_, all) = votes::board(&w._f.db, &id).await.unwrap();
    assert_eq!(all.len(), 4 + 4 + 20);
    assert_eq!(all.iter().filter(|b| b.current).count(), 3);
}

/// After N re-casts the current ballot is the last one; turnout, the vote
/// read and the board's default page do not grow with superseded ballots;
/// the current-ballot table only moves forward.
async fn current_ballot_is_the_last(kind: Kind) {
    let w = world(kind).await;
    let base = &w.base;
    let id = open_online_vote(&w, &w.b6).await;
    let anon = reqwest::Client::new();
    let board_url = format!("{base}/api/v1/public/votes/{id}/board");
    let t0 = now_ms();
    for o in 0..3 {
        cast_at(&w, &id, &w.owners[o], Choice::Yes, t0)
            .await
            .unwrap();
    }
    let r = anon.get(&board_url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let before = r.text().await.unwrap();
    let (_, read_before) = get(
        &login(&w, "owner0").await,
        format!("{base}/api/v1/votes/{id}"),
    )
    .await;
    // owner0 re-casts 19 times, a minute apart.
    let mut last = None;
    for k in 1..20 {
        let choice = [Choice::No, Choice::Abstain, Choice::Yes][k as usize % 3];
        last = Some(
            cast_at(&w, &id, &w.owners[0], choice, t0 + k * 61_000)
                .await
                .unwrap(),
        );
    }
    let last = last.unwrap();
    assert_eq!(last.seq, 20);
    let cur = votes::current_ballot_of(&w._f.db, &id, &w.owners[0])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (cur.receipt.as_str(), cur.seq, cur.choice),
        (last.receipt.as_str(), 20, last.choice)
    );
    let (_, read) = get(
        &login(&w, "owner0").await,
        format!("{base}/api/v1/votes/{id}"),
    )
    .await;
    assert_eq!(read["my_ballots"][0]["receipt"], json!(last.receipt));
    assert_eq!(read["my_ballots"][0]["choice"], json!(last.choice));
    assert_eq!(read["turnout"]["voted_headcount"], 3);
    assert_eq!(read["turnout"]["ballots_cast"], 22);
    assert_eq!(
        read["turnout"]["voted_area"],
        read_before["turnout"]["voted_area"]
    );
    let r = anon.get(&board_url).send().await.unwrap();
    let after = r.text().await.unwrap();
    let (b0, b1): (Value, Value) = (
        serde_json::from_str(&before).unwrap(),
        serde_json::from_str(&after).unwrap(),
    );
    assert_eq!(b1["ballots"].as_array().unwrap().len(), 3, "{b1}");
    assert_eq!(b0["ballots"].as_array().unwrap().len(), 3);
    // Same rows; only owner0's receipt, time and seq (1 → 20) and the
    // ballots_cast count (3 → 22) changed.
    assert!(
        after.len() <= before.len() + 8,
        "{} bytes after 19 re-casts, {} before",
        after.len(),
        before.len()
    );
    let row0 = b1["ballots"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["receipt"] == json!(last.receipt))
        .unwrap();
    assert_eq!(
        (row0["seq"].clone(), row0["current"].clone()),
        (json!(20), json!(true))
    );
    assert_eq!(b1["turnout"]["ballots_cast"], 22);
    // Every ballot is still on the full board.
    let (_, all) = get(&anon, format!("{board_url}?view=all&limit=500")).await;
    assert_eq!(all["ballots"].as_array().unwrap().len(), 22);
    assert_eq!(
        all["ballots"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["current"] == true)
            .count(),
        3
    );
    // The close counts the last ballot.
    let committee = login(&w, "committee").await;
    let (st, closed) = post(
        &committee,
        format!("{base}/api/v1/votes/{id}/close"),
        json!({}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{closed}");
    assert_eq!(closed["result"]["voted_headcount"], 3);
    let (_, rec) = get(
        &anon,
        format!("{base}/api/v1/public/votes/{id}/record.json"),
    )
    .await;
    let rec_ballots = rec["ballots"].as_array().unwrap();
    assert_eq!(rec_ballots.len(), 3);
    assert_eq!(rec_ballots[0]["choice"], json!(last.choice), "{rec}");
    // The current-ballot table is an index that only moves forward.
    let db = &w._f.db;
    for (sql, why) in [
        ("DELETE FROM vote_current_ballots", "only moves forward"),
        (
            "UPDATE vote_current_ballots SET seq = 1 WHERE seq = 20",
            "only moves forward",
        ),
        ("UPDATE vote_ballots SET choice = 'yes'", "append-only"),
    ] {
        let mut tx = db.begin_write().await.unwrap();
        let e = sqlx::query(sql).execute(&mut *tx).await.unwrap_err();
        assert!(e.to_string().contains(why), "{sql}: {e}");
        tx.rollback().await.unwrap();
    }
}

/// Board pages: a bounded default and maximum, every ballot exactly once
/// across pages in both views, the refusals naming the parameter.
async fn board_pages(kind: Kind) {
    let w = world(kind).await;
    let base = &w.base;
    let id = open_online_vote(&w, &w.a).await;
    let t0 = now_ms();
    // All 8 owners vote; owners 0, 3 and 7 re-cast (once, once, three times).
    for (o, n) in [2, 1, 1, 2, 1, 1, 1, 4].iter().enumerate() {
        for _ in 0..*n {
            cast_at(&w, &id, &w.owners[o], Choice::Yes, t0)
                .await
                .unwrap();
        }
    }
    let total = 13;
    let anon = reqwest::Client::new();
    let board_url = format!("{base}/api/v1/public/votes/{id}/board");
    let walk = |view: &'static str, limit: usize| {
        let (anon, board_url) = (anon.clone(), board_url.clone());
        async move {
            let mut rows: Vec<Value> = Vec::new();
            let mut pages = 0;
            let mut url = format!("{board_url}?view={view}&limit={limit}");
            loop {
                let (st, page) = get(&anon, url.clone()).await;
                assert_eq!(st, StatusCode::OK, "{page}");
                let got = page["ballots"].as_array().unwrap();
                assert!(got.len() <= limit);
                rows.extend(got.iter().cloned());
                pages += 1;
                match page["next"].as_str() {
                    Some(n) => url = format!("{board_url}?view={view}&limit={limit}&after={n}"),
                    None => break,
                }
                assert!(pages < 50, "the pages never end");
            }
            (rows, pages)
        }
    };
    let (cur, pages) = walk("current", 3).await;
    assert_eq!(pages, 3, "8 owners in pages of 3");
    assert_eq!(cur.len(), 8);
    let receipts: std::collections::HashSet<_> = cur.iter().map(|r| r["receipt"].clone()).collect();
    assert_eq!(receipts.len(), 8, "each exactly once");
    assert!(cur.iter().all(|r| r["current"] == true));
    // In the order of the owners' first parts.
    let firsts: Vec<String> = cur
        .iter()
        .map(|r| r["parts"][0].as_str().unwrap().to_string())
        .collect();
    let mut sorted = firsts.clone();
    sorted.sort_by(|a, b| register::natural_cmp(a, b));
    assert_eq!(firsts, sorted);
    for limit in [1, 2, 5, 13, 100] {
        let (all, _) = walk("all", limit).await;
        assert_eq!(all.len(), total, "limit {limit}");
        let receipts: std::collections::HashSet<_> =
            all.iter().map(|r| r["receipt"].clone()).collect();
        assert_eq!(receipts.len(), total, "limit {limit}: each exactly once");
        assert_eq!(all.iter().filter(|r| r["current"] == true).count(), 8);
    }
    // The default page size is bounded, and so is the largest.
    let (_, page) = get(&anon, board_url.clone()).await;
    assert_eq!(page["limit"], 100);
    assert_eq!(page["view"], "current");
    assert!(page["next"].is_null());
    for (q, f) in [
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("limit=ten", "limit"),
        ("after=x.y", "after"),
        ("after=-3", "after"),
        ("view=everything", "view"),
    ] {
        let r = anon.get(format!("{board_url}?{q}")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{q}");
        assert_eq!(
            r.headers()["content-type"].to_str().unwrap(),
            "application/problem+json"
        );
        let v: Value = r.json().await.unwrap();
        assert_eq!(field(&v), f, "{q}: {v}");
    }
    let (st, page) = get(&anon, format!("{board_url}?limit=500")).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(page["ballots"].as_array().unwrap().len(), 8);
    // The OpenAPI document describes the parameters.
    let (_, api) = get(&anon, format!("{base}/api/openapi.json")).await;
    let params = api["paths"]["/api/v1/public/votes/{id}/board"]["get"]["parameters"].to_string();
    for p in ["\"limit\"", "\"after\"", "\"view\""] {
        assert!(params.contains(p), "{p} in {params}");
    }
}

/// Public reads carry an ETag: If-None-Match answers 304 with no body until
/// a new ballot (or the close) changes it.
async fn etags(kind: Kind) {
    let w = world(kind).await;
    let base = &w.base;
    let id = open_online_vote(&w, &w.b6).await;
    let anon = reqwest::Client::new();
    let board_url = format!("{base}/api/v1/public/votes/{id}/board");
    cast_at(&w, &id, &w.owners[0], Choice::Yes, now_ms())
        .await
        .unwrap();
    let r = anon.get(&board_url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let tag = r.headers()["etag"].to_str().unwrap().to_string();
    assert!(tag.starts_with('"') && tag.ends_with('"'), "{tag}");
    let cond = |url: String, tag: String| {
        let anon = anon.clone();
        async move {
            let r = anon
                .get(url)
                .header("if-none-match", tag)
                .send()
                .await
                .unwrap();
            let (st, etag) = (
                r.status(),
                r.headers()
                    .get("etag")
                    .map(|v| v.to_str().unwrap().to_string()),
            );
            (st, etag, r.bytes().await.unwrap().len())
        }
    };
    assert_eq!(
        cond(board_url.clone(), tag.clone()).await,
        (StatusCode::NOT_MODIFIED, Some(tag.clone()), 0)
    );
    assert_eq!(
        cond(board_url.clone(), format!("\"x\", W/{tag}")).await.0,
        StatusCode::NOT_MODIFIED
    );
    assert_eq!(
        cond(board_url.clone(), "\"other\"".into()).await.0,
        StatusCode::OK
    );
    // Another page has its own tag.
    let (st, other, _) = cond(format!("{board_url}?view=all"), tag.clone()).await;
    assert_eq!(st, StatusCode::OK);
    assert_ne!(other.unwrap(), tag);
    // A new ballot — even a re-cast that adds no row — changes it.
    cast_at(&w, &id, &w.owners[0], Choice::No, now_ms())
        .await
        .unwrap();
    let (st, new_tag, len) = cond(board_url.clone(), tag.clone()).await;
    assert_eq!(st, StatusCode::OK);
    assert!(len > 0);
    let new_tag = new_tag.unwrap();
    assert_ne!(new_tag, tag);
    assert_eq!(
        cond(board_url.clone(), new_tag.clone()).await.0,
        StatusCode::NOT_MODIFIED
    );
    // The owner's vote read too.
    let owner0 = login(&w, "owner0").await;
    let vote_url = format!("{base}/api/v1/votes/{id}");
    let r = owner0.get(&vote_url).send().await.unwrap();
    let vtag = r.headers()["etag"].to_str().unwrap().to_string();
    let r = owner0
        .get(&vote_url)
        .header("if-none-match", &vtag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_MODIFIED);
    cast_at(&w, &id, &w.owners[1], Choice::Yes, now_ms())
        .await
        .unwrap();
    let r = owner0
        .get(&vote_url)
        .header("if-none-match", &vtag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "turnout changed");
    // The close changes the board's; the published record has its own.
    let committee = login(&w, "committee").await;
    let (st, _) = post(
        &committee,
        format!("{base}/api/v1/votes/{id}/close"),
        json!({}),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let (st, closed_tag, _) = cond(board_url.clone(), new_tag.clone()).await;
    assert_eq!(st, StatusCode::OK);
    assert_ne!(closed_tag.unwrap(), new_tag);
    let rec_url = format!("{base}/api/v1/public/votes/{id}/record.json");
    let r = anon.get(&rec_url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let rtag = r.headers()["etag"].to_str().unwrap().to_string();
    assert_eq!(
        cond(rec_url, rtag.clone()).await,
        (StatusCode::NOT_MODIFIED, Some(rtag), 0)
    );
}

/// Migration 0010 fills `vote_current_ballots` from the ballots cast
/// before it: each owner's highest seq, in the owner's o-N order — the same
/// rows `votes::cast` keeps.
async fn migration_backfills_current_ballots(kind: Kind) {
    let w = world(kind).await;
    let id = open_online_vote(&w, &w.a).await;
    let t0 = now_ms();
    for (o, n) in [(0, 3), (2, 1), (5, 2), (7, 4)] {
        for k in 0..n {
            cast_at(&w, &id, &w.owners[o], Choice::Yes, t0 + k)
                .await
                .unwrap();
        }
    }
    let db = &w._f.db;
    let snapshot = || async {
        let rows = sqlx::query("SELECT vote_id, owner_id, ballot_id, seq, owner_ord, cast_at FROM vote_current_ballots ORDER BY owner_ord")
            .fetch_all(db.reader())
            .await
            .unwrap();
        use sqlx::Row;
        rows.iter()
            .map(|r| {
                (
                    r.get::<String, _>(0),
                    r.get::<String, _>(1),
                    r.get::<String, _>(2),
                    r.get::<i64, _>(3),
                    r.get::<i64, _>(4),
                    r.get::<i64, _>(5),
                )
            })
            .collect::<Vec<_>>()
    };
    let kept = snapshot().await;
    assert_eq!(kept.len(), 4);
    assert_eq!(
        kept.iter().map(|r| r.3).collect::<Vec<_>>(),
        vec![3, 1, 2, 4]
    );
    // As if the ballots had been cast before the table existed.
    let mut tx = db.begin_write().await.unwrap();
    sqlx::raw_sql("DROP TABLE vote_current_ballots")
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::raw_sql(include_str!("../../../store/migrations/0010_ballots.sql"))
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(snapshot().await, kept);
}

/// Concurrent re-casts by one owner: the limit is counted in each cast's
/// transaction, so exactly 4 ballots (1 + 3 re-casts) are accepted however
/// they race, the rest refused with 429, none lost or duplicated.
async fn concurrent_recasts_respect_the_limit(kind: Kind) {
    let w = world(kind).await;
    let id = open_online_vote(&w, &w.b6).await;
    let owner0 = login(&w, "owner0").await;
    let url = format!("{}/api/v1/votes/{id}/ballots", w.base);
    let tasks: Vec<_> = (0..6)
        .map(|_| {
            let (c, url) = (owner0.clone(), url.clone());
            tokio::spawn(async move { post(&c, url, json!({"choice": "yes"})).await })
        })
        .collect();
    let mut codes = Vec::new();
    for t in tasks {
        let (st, v) = t.await.unwrap();
        if st != StatusCode::CREATED {
            assert_eq!(field(&v), "owner_id", "{v}");
        }
        codes.push(st.as_u16());
    }
    codes.sort();
    assert_eq!(codes, vec![201, 201, 201, 201, 429, 429]);
    let (_, all) = get(
        &reqwest::Client::new(),
        format!("{}/api/v1/public/votes/{id}/board?view=all", w.base),
    )
    .await;
    let seqs: Vec<i64> = all["ballots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, vec![1, 2, 3, 4]);
    assert_eq!(all["turnout"]["ballots_cast"], 4);
    let cur = votes::current_ballot_of(&w._f.db, &id, &w.owners[0])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(cur.seq, 4);
}

/// The attack: another site's page posts the ballot form with an owner's
/// cookie. Refused cross-site and without the session's CSRF token; no
/// ballot is cast; the owner's own form still votes.
async fn ballot_form_refuses_forged_posts(kind: Kind) {
    let w = world(kind).await;
    let base = &w.base;
    let committee = login(&w, "committee").await;
    let owner0 = login(&w, "owner0").await;
    let now = now_ms();
    let body = json!({"title": "6栋加装电梯", "place_id": w.b6.id, "rule": {"kind": "civil_code", "matter": "ordinary"}, "opens_at": now - 1000, "closes_at": now + 3_600_000, "channels": ["online"]});
    let (st, v) = post(&committee, format!("{base}/api/v1/votes"), body).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let id = v["id"].as_str().unwrap().to_string();
    let (st, v) = post(
        &committee,
        format!("{base}/api/v1/votes/{id}/open"),
        json!({}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let page = format!("{base}/votes/{id}");
    let html = owner0
        .get(&page)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = csrf(&owner0, &page).await;
    assert_eq!(token.len(), 64);
    assert!(
        html.contains(&format!("name=\"csrf\" value=\"{token}\"")),
        "the ballot form carries the token: {html}"
    );
    let ballot = format!("{page}/ballot");
    #[allow(clippy::type_complexity)]
    let forged: [(&[(&str, &str)], Option<(&str, &str)>); 4] = [
        (
            &[("choice", "no"), ("csrf", &token)],
            Some(("Origin", "https://evil.example")),
        ),
        (
            &[("choice", "no"), ("csrf", &token)],
            Some(("Sec-Fetch-Site", "cross-site")),
        ),
        (&[("choice", "no")], None),
        (&[("choice", "no"), ("csrf", "0123")], None),
    ];
    for (fields, header) in forged {
        let mut r = owner0.post(&ballot).form(fields);
        if let Some((k, v)) = header {
            r = r.header(k, v);
        }
        let r = r.send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{fields:?} {header:?}");
    }
    let (_, v) = get(&owner0, format!("{base}/api/v1/votes/{id}")).await;
    assert_eq!(v["turnout"]["ballots_cast"], 0, "nothing was cast: {v}");
    let r = owner0
        .post(&ballot)
        .header("Origin", base.clone())
        .form(&[("choice", "yes"), ("csrf", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "redirected to the vote page");
    let (_, v) = get(&owner0, format!("{base}/api/v1/votes/{id}")).await;
    assert_eq!(v["turnout"]["ballots_cast"], 1, "{v}");
    assert_eq!(v["my_ballots"][0]["choice"], "yes", "{v}");
}

/// What a vote authorises from the maintenance fund is fixed before it
/// opens, by those who manage votes there, once; the owners see it on the
/// ballot page.
async fn spending_fixed_before_opening(kind: Kind) {
    let w = world(kind).await;
    let base = &w.base;
    let committee = login(&w, "committee").await;
    let owner0 = login(&w, "owner0").await;
    let now = now_ms();
    let body = json!({"title": "6栋外墙修缮", "place_id": w.b6.id, "rule": {"kind": "civil_code", "matter": "ordinary"}, "opens_at": now - 1000, "closes_at": now + 3_600_000, "channels": ["online"]});
    let (st, v) = post(&committee, format!("{base}/api/v1/votes"), body).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let id = v["id"].as_str().unwrap().to_string();
    let url = format!("{base}/api/v1/votes/{id}/spending");
    let put = |c: &reqwest::Client, body: Value| {
        let (c, url) = (c.clone(), url.clone());
        async move {
            let r = c.put(url).json(&body).send().await.unwrap();
            let s = r.status();
            (s, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (st, p) = put(&owner0, json!({"amount": "3000.00", "purpose": "外墙"})).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "an owner does not set it: {p}");
    let (st, p) = put(&committee, json!({"amount": "0", "purpose": "外墙"})).await;
    assert_eq!(
        (st, field(&p)),
        (StatusCode::UNPROCESSABLE_ENTITY, "amount"),
        "{p}"
    );
    let (st, p) = put(&committee, json!({"amount": "3000.00", "purpose": " "})).await;
    assert_eq!(
        (st, field(&p)),
        (StatusCode::UNPROCESSABLE_ENTITY, "purpose"),
        "{p}"
    );
    let (g, _) = get(&committee, url.clone()).await;
    assert_eq!(g, StatusCode::NOT_FOUND, "nothing authorised yet");
    let (st, p) = put(
        &committee,
        json!({"amount": "3000.00", "purpose": "6栋外墙空鼓修缮"}),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{p}");
    assert_eq!(p["spending"]["amount"], 300_000);
    let (st, p) = put(&committee, json!({"amount": "9000.00", "purpose": "更多"})).await;
    assert_eq!(st, StatusCode::CONFLICT, "fixed once: {p}");
    let (st, p) = post(
        &committee,
        format!("{base}/api/v1/votes/{id}/open"),
        json!({}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{p}");
    let (st, p) = get(&owner0, url.clone()).await;
    assert_eq!(
        (st, p["spending"]["purpose"].as_str()),
        (StatusCode::OK, Some("6栋外墙空鼓修缮")),
        "{p}"
    );
    let html = owner0
        .get(format!("{base}/votes/{id}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("id=\"vote-spending\"")
            && html.contains("<strong>3000.00</strong>")
            && html.contains("6栋外墙空鼓修缮"),
        "the ballot page shows what the vote authorises: {html}"
    );
}

/// The public board as a page (no login needed): a page at a time by its
/// next links, each ballot once, receipt codes and masked names, no choices
/// while open; an owner finds their receipt code with the search form; a bad
/// cursor or limit is refused; choices show after close; the vote page
/// links here rather than to the JSON.
async fn board_as_page(kind: Kind) {
    let w = world(kind).await;
    let base = &w.base;
    let id = open_online_vote(&w, &w.a).await;
    let t0 = now_ms();
    let mut receipts = Vec::new();
    for o in &w.owners {
        receipts.push(cast_at(&w, &id, o, Choice::No, t0).await.unwrap().receipt);
    }
    let anon = reqwest::Client::new();
    let page = |url: String| {
        let anon = anon.clone();
        async move {
            let r = anon.get(url).send().await.unwrap();
            (r.status(), r.text().await.unwrap())
        }
    };
    let codes = |html: &str| -> Vec<String> {
        html.split("<code class=\"receipt\">")
            .skip(1)
            .map(|s| s.split('<').next().unwrap().to_string())
            .collect()
    };
    let board = format!("{base}/votes/{id}/board");
    let (st, html) = page(format!("{board}?lang=en")).await;
    assert_eq!(st, StatusCode::OK, "{html}");
    assert!(
        html.contains("Public board") && html.contains(">Online<"),
        "{html}"
    );
    assert_eq!(codes(&html).len(), receipts.len(), "one page by default");
    let next = format!("href=\"/votes/{id}/board?after=");
    assert!(!html.contains(&next), "no next page");
    let (mut seen, mut pages, mut url) = (Vec::new(), 0, format!("{board}?limit=3"));
    loop {
        let (st, html) = page(url.clone()).await;
        assert_eq!(st, StatusCode::OK, "{html}");
        pages += 1;
        let got = codes(&html);
        assert!(!got.is_empty() && got.len() <= 3, "{got:?}");
        seen.extend(got);
        assert!(!html.contains("class=\"choice\""), "no choices while open");
        assert!(!html.contains("赵一"), "names masked");
        match html.split(&next).nth(1) {
            Some(rest) => {
                let q = rest.split('"').next().unwrap().replace("&amp;", "&");
                url = format!("{board}?after={q}");
            }
            None => break,
        }
    }
    assert_eq!(pages, receipts.len().div_ceil(3));
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), seen.len(), "each ballot once: {seen:?}");
    for r in &receipts {
        assert!(seen.contains(r), "{r} on the board");
    }
    // An owner finds their own receipt code; a wrong one is not there.
    let (st, html) = page(format!("{board}?lang=en&receipt=%20{}%20", receipts[4])).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(codes(&html), vec![receipts[4].clone()], "{html}");
    assert!(html.contains("Found on the board."), "{html}");
    let (st, html) = page(format!("{board}?lang=en&receipt=NOPE-0000")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(codes(&html).is_empty());
    assert!(
        html.contains("That receipt code is not on the board."),
        "{html}"
    );
    // A bad cursor or limit is refused; an unknown vote has no board.
    for q in ["after=x", "limit=0", "limit=501", "limit=a"] {
        let (st, html) = page(format!("{board}?{q}")).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{q}: {html}");
    }
    let (st, _) = page(format!("{base}/votes/nosuchvote/board")).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    // The vote page links the board page.
    let committee = login(&w, "committee").await;
    let html = committee
        .get(format!("{base}/votes/{id}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(&format!("href=\"/votes/{id}/board\"")),
        "{html}"
    );
    assert!(!html.contains("/api/v1/public/votes/"), "{html}");
    // A draft has no board (404), so its page does not link one.
    let now = now_ms();
    let body = json!({"title": "草案", "place_id": w.a.id, "rule": {"kind": "civil_code", "matter": "ordinary"}, "opens_at": now + 3_600_000, "closes_at": now + 7_200_000, "channels": ["online"]});
    let (st, v) = post(&committee, format!("{base}/api/v1/votes"), body).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let draft = v["id"].as_str().unwrap().to_string();
    let (st, _) = page(format!("{base}/votes/{draft}/board")).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let r = committee
        .get(format!("{base}/votes/{draft}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(!html.contains("id=\"board-link\""), "{html}");
    // After close the choices are shown.
    let (st, v) = post(
        &committee,
        format!("{base}/api/v1/votes/{id}/close"),
        json!({}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (_, html) = page(format!("{board}?lang=en&receipt={}", receipts[0])).await;
    assert!(html.contains("<dd class=\"choice\">No</dd>"), "{html}");
}

both!(
    board_as_page,
    ballot_form_refuses_forged_posts,
    spending_fixed_before_opening,
    concurrent_recasts_respect_the_limit,
    migration_backfills_current_ballots,
    full_vote,
    outside_window,
    linking_accounts,
    matters_follow_their_procedure,
    recasting_is_limited,
    current_ballot_is_the_last,
    board_pages,
    etags
);
