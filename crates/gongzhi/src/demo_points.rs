//! Pingli's points (积分制) and points store (积分超市), through the same
//! store commands as the API: 南城社区's and 东关社区's award rules; the two
//! grid heads' 400 points (南城社区, cleaning and volunteering) and 320
//! points (东关社区, patrol and fire watch) with their history; 南城社区's
//! store with items donated by partner units, one redemption handed over at
//! the station and one waiting; micro-wishes of 美佳星座 — the wheelchair
//! for a 70-year-old disabled resident claimed in halves by 南城社区's two
//! partner units, delivered and confirmed, one unclaimed wish resolved by
//! the community, one open on the wish wall. Logins: `volunteer` (a
//! resident of 美佳星座 with points, one redemption waiting), `station` (the
//! 初心驿站's staff over 南城社区, who hands redemptions over and records
//! wishes) and `partner` (the contact of 平利县人民医院, a partner unit).

use gongzhi_domain::place::MemberRole;
use gongzhi_domain::points::wishes::Flag;
use gongzhi_domain::points::RuleKind;
use gongzhi_domain::policy::Role;
use gongzhi_store::books::Idem;
use gongzhi_store::points;
use gongzhi_store::register::{self, Place};
use gongzhi_store::wishes::{self, NewWish};
use gongzhi_store::{auth, Db, StoreError};
use std::fmt::Write;

const ACTOR: &str = "demo";

async fn person(db: &Db, name: &str, home: &Place) -> Result<String, StoreError> {
    let (name, home) = (name.to_string(), home.clone());
    db.write(move |tx| {
        let (name, home) = (name.clone(), home.clone());
        Box::pin(async move {
            Ok(register::create_person(
                tx,
                ACTOR,
                register::NewPerson {
                    name: &name,
                    phone: None,
                    id_number: None,
                    home: &home,
                    consent_publish_name: false,
                },
            )
            .await?
            .id)
        })
    })
    .await
}

async fn awards(
    db: &Db,
    community: &Place,
    person: &str,
    list: &[(i64, &str)],
) -> Result<(), StoreError> {
    for (i, (pts, reason)) in list.iter().enumerate() {
        let idem = Idem::new(&format!("demo-{person}-{i}"), "demo".into())?;
        points::award(db, ACTOR, community, person, *pts, reason, idem).await?;
    }
    Ok(())
}

async fn community_of(db: &Db, code: &str) -> Result<(Place, Place), StoreError> {
    let compound = register::place_by_code(db, code).await?;
    let community = register::get_place(db, &points::community_of(&compound)?).await?;
    Ok((compound, community))
}

pub async fn load(db: &Db, password: &str) -> Result<String, StoreError> {
    let (meijia, nancheng) = community_of(db, "meijia-xingzuo").await?;
    let (jinyuan, dongguan) = community_of(db, "jinyuan-shangcheng-a").await?;
    for c in [&nancheng, &dongguan] {
        for (kind, pts) in [
            (RuleKind::VolunteerHour, 10),
            (RuleKind::Cleaning, 20),
            (RuleKind::Patrol, 20),
            (RuleKind::FireWatch, 20),
            (RuleKind::GarbageSorting, 5),
            (RuleKind::DoorToDoor, 10),
            (RuleKind::Commitment, 30),
        ] {
            points::set_rule(db, ACTOR, c, kind, pts).await?;
        }
    }
    // the two grid heads of the report
    let head_a = person(db, "南城社区网格长", &meijia).await?;
    awards(
        db,
        &nancheng,
        &head_a,
        &[
            (120, "小区环境卫生清扫（6次）"),
            (100, "志愿服务：防疫值守（10小时）"),
            (80, "垃圾分类督导（16次）"),
            (100, "入户走访独居老人（10户）"),
        ],
    )
    .await?;
    let head_b = person(db, "东关社区网格长", &jinyuan).await?;
    awards(
        db,
        &dongguan,
        &head_b,
        &[(200, "夜间巡逻（10次）"), (120, "防火巡查（6次）")],
    )
    .await?;
    // the volunteer login: 150 points, one redemption handed over, one waiting
    let volunteer = person(db, "美佳星座志愿者", &meijia).await?;
    awards(
        db,
        &nancheng,
        &volunteer,
        &[(100, "清洁楼道（5次）"), (80, "志愿服务（8小时）")],
    )
    .await?;
    let mut items = Vec::new();
    for (name, pts, stock) in [
        ("理发券一次（平利县城关镇红星理发店捐赠）", 50, 20),
        ("停车2小时券（平利美佳物业服务有限公司捐赠）", 20, 50),
        ("洗衣液一瓶（平利县供销社捐赠）", 30, 10),
        ("大米5公斤（平利县农村商业银行捐赠）", 120, 3),
    ] {
        items.push(points::create_item(db, ACTOR, &nancheng, name, pts, stock).await?);
    }
    let r = points::redeem(
        db,
        ACTOR,
        &volunteer,
        &items[0],
        Idem::new("demo-r1", "demo".into())?,
    )
    .await?;
    points::hand_over(db, ACTOR, &r.value.id).await?;
    points::redeem(
        db,
        ACTOR,
        &volunteer,
        &items[2],
        Idem::new("demo-r2", "demo".into())?,
    )
    .await?;

    // micro-wishes of 美佳星座, and 南城社区's partner units
    let units = wishes::partner_units_at(db, &nancheng.id).await?;
    let elder = person(db, "张德明", &meijia).await?;
    let family = person(db, "李秀珍", &meijia).await?;
    let alone = person(db, "王桂兰", &meijia).await?;
    let mut ids = Vec::new();
    for (who, need, reason, flags) in [
        (
            &elder,
            "轮椅一台",
            "70岁残疾老人，行动不便，出门就医困难",
            &[Flag::Disabled, Flag::ElderlyAlone][..],
        ),
        (
            &family,
            "冬季取暖用电暖器一台",
            "低保户，家中无取暖设备",
            &[Flag::LowIncome][..],
        ),
        (
            &alone,
            "每周上门理发一次",
            "独居老人，行动不便",
            &[Flag::ElderlyAlone][..],
        ),
    ] {
        let id = wishes::record(
            db,
            ACTOR,
            &meijia,
            NewWish {
                person_id: who,
                need,
                reason,
                flags,
            },
        )
        .await?;
        wishes::verify(db, ACTOR, &id).await?;
        ids.push(id);
    }
    // the wheelchair split among the units (the first takes the remainder)
    let paths = [nancheng.path.clone()];
    let n = units.len().max(1) as i64;
    for (i, u) in units.iter().enumerate() {
        let share = 1000 / n + if i == 0 { 1000 % n } else { 0 };
        wishes::claim(db, ACTOR, &ids[0], u, &paths, share).await?;
    }
    for u in &units {
        wishes::deliver(db, ACTOR, &ids[0], u).await?;
    }
    if !units.is_empty() {
        wishes::confirm(db, ACTOR, &ids[0]).await?;
    }
    wishes::resolve(db, ACTOR, &ids[1]).await?;

    let hash = auth::hash_password(password)?;
    let (m, n, v, un) = (
        meijia.clone(),
        nancheng.clone(),
        volunteer.clone(),
        units.first().cloned(),
    );
    db.write(move |tx| {
        let (hash, meijia, nancheng, volunteer, unit) =
            (hash.clone(), m.clone(), n.clone(), v.clone(), un.clone());
        Box::pin(async move {
            let u = auth::create_user(tx, ACTOR, "volunteer", &hash, Some(&volunteer)).await?;
            auth::add_grant(tx, ACTOR, &u, Role::Resident, Some(&meijia.id), None).await?;
            let u = auth::create_user(tx, ACTOR, "station", &hash, None).await?;
            auth::add_grant(tx, ACTOR, &u, Role::StationStaff, Some(&nancheng.id), None).await?;
            if let Some(unit) = unit {
                let contact = register::create_person(
                    tx,
                    ACTOR,
                    register::NewPerson {
                        name: "平利县人民医院党办",
                        phone: None,
                        id_number: None,
                        home: &meijia,
                        consent_publish_name: false,
                    },
                )
                .await?;
                register::add_member(
                    tx,
                    ACTOR,
                    &unit,
                    &contact.id,
                    MemberRole::Staff,
                    None,
                    None,
                    (0, None),
                )
                .await?;
                auth::create_user(tx, ACTOR, "partner", &hash, Some(&contact.id)).await?;
            }
            Ok(())
        })
    })
    .await?;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Points: 南城社区 and 东关社区 award rules; grid heads with 400 and 320 points; 南城社区's store with {} items, 2 redemptions (1 handed over)",
        items.len()
    );
    let _ = writeln!(s, "  volunteer   a resident of 美佳星座 with points: /points, /api/v1/me/points (one redemption waiting)");
    let _ = writeln!(
        s,
        "  station     初心驿站 staff of 南城社区: /places/ID/store (hand redemptions over)"
    );
    Ok(s)
}
