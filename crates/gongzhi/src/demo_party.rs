//! The reports' party members at home: 人社局家属院's 7-member branch (2
//! retired, 5 in service, all but one checked in) and 东方新天地's 146
//! in-service members in 5 building groups, all checked in — through the
//! same import and check-in commands as the CLI and the API. Logins:
//! `member` (an in-service member whose check-in waits for the branch),
//! `branch` (the secretary of 人社局家属院) and `employer` (the contact of
//! 璧山区人力资源和社会保障局, who sees the receipts).

use gongzhi_domain::party::{MemberStatus, PartyRow};
use gongzhi_domain::place::MemberRole;
use gongzhi_domain::policy::Role;
use gongzhi_store::party::{self, Channel};
use gongzhi_store::{auth, db, register, Db, StoreError};
use std::fmt::Write;

const ACTOR: &str = "demo";
const EMPLOYER: &str = "璧山区人力资源和社会保障局";
/// 东方新天地's members work at these units (round robin).
const UNITS: [&str; 5] = [
    "綦江区人民医院",
    "綦江区教育委员会",
    "通惠街道办事处",
    "綦江区税务局",
    "重庆綦江农村商业银行",
];

fn row(
    i: usize,
    code: &str,
    f: &(String, String, String),
    name: String,
    status: MemberStatus,
    employer: Option<&str>,
) -> PartyRow {
    PartyRow {
        row: i + 2,
        compound: code.into(),
        building: f.0.clone(),
        unit: f.1.clone(),
        number: f.2.clone(),
        name,
        phone: format!("139{:08}", 23_000_000 + i),
        status,
        employer: employer.map(str::to_string),
        joined_on: Some(format!("{}-07-01", 1985 + i % 30)),
    }
}

pub async fn load(db: &Db, password: &str) -> Result<String, StoreError> {
    let year = party::year_of(db::now_ms());
    let renshe = register::place_by_code(db, "renshe-jiashuyuan").await?;
    let dongfang = register::place_by_code(db, "dongfang-xintiandi").await?;
    let mut rows = Vec::new();
    let names = [
        "刘建华",
        "陈玉兰",
        "周国强",
        "吴秀英",
        "郑卫东",
        "王淑芬",
        "冯志刚",
    ];
    for (i, f) in party::flats_for_import(db, &renshe.id, 7)
        .await?
        .iter()
        .enumerate()
    {
        // 2 retired, 5 in service
        let (status, employer) = if i < 2 {
            (MemberStatus::Retired, None)
        } else {
            (MemberStatus::InService, Some(EMPLOYER))
        };
        rows.push(row(
            i,
            "renshe-jiashuyuan",
            f,
            names[i].to_string(),
            status,
            employer,
        ));
    }
    // 精城名典 (the demo's main compound: its `committee` login is the
    // branch secretary): 8 in service, 4 retired
    let jingcheng = register::place_by_code(db, "jingcheng-mingdian").await?;
    let base = rows.len();
    for (i, f) in party::flats_for_import(db, &jingcheng.id, 12)
        .await?
        .iter()
        .enumerate()
    {
        let (status, employer) = if i % 3 == 2 {
            (MemberStatus::Retired, None)
        } else {
            (MemberStatus::InService, Some(UNITS[i % UNITS.len()]))
        };
        let name = format!("精城党员{:02}", i + 1);
        rows.push(row(
            base + i,
            "jingcheng-mingdian",
            f,
            name,
            status,
            employer,
        ));
    }
    let base = rows.len();
    for (i, f) in party::flats_for_import(db, &dongfang.id, 146)
        .await?
        .iter()
        .enumerate()
    {
        let unit = UNITS[i % UNITS.len()];
        let name = format!("党员{:03}", i + 1);
        rows.push(row(
            base + i,
            "dongfang-xintiandi",
            f,
            name,
            MemberStatus::InService,
            Some(unit),
        ));
    }
    let total = rows.len();
    let report = party::import_members(db, ACTOR, rows, false)
        .await?
        .map_err(|e| StoreError::invalid("party members", format!("{e:?}")))?;
    // check-ins: every in-service member but the `member` login's, confirmed
    let mut waiting = None;
    let mut confirmed = 0;
    for place in [&renshe, &jingcheng, &dongfang] {
        for m in party::members_under(db, place, year, 10_000).await? {
            if m.status != MemberStatus::InService.as_str() {
                continue;
            }
            let channel = if confirmed % 3 == 0 {
                Channel::Paper
            } else {
                Channel::Online
            };
            let c = party::request_checkin(db, ACTOR, &m.id, year, channel).await?;
            if place.id == renshe.id && waiting.is_none() {
                waiting = Some(m.person_id);
                continue;
            }
            party::confirm_checkin(db, ACTOR, None, &c.id).await?;
            confirmed += 1;
        }
    }
    let member_person = waiting.ok_or_else(|| StoreError::invalid("demo", "no member to wait"))?;
    // the branch of 人社局家属院 and the employer's contact
    let employer = party::employer_unit_by_name(db, EMPLOYER)
        .await?
        .ok_or_else(|| StoreError::invalid("demo", "no employer unit"))?;
    let hash = auth::hash_password(password)?;
    let renshe2 = renshe.clone();
    db.write(move |tx| {
        let (hash, renshe, member_person, employer) = (
            hash.clone(),
            renshe2.clone(),
            member_person.clone(),
            employer.clone(),
        );
        Box::pin(async move {
            let u = auth::create_user(tx, ACTOR, "member", &hash, Some(&member_person)).await?;
            auth::add_grant(tx, ACTOR, &u, Role::Owner, Some(&renshe.id), None).await?;
            let u = auth::create_user(tx, ACTOR, "branch", &hash, None).await?;
            auth::add_grant(tx, ACTOR, &u, Role::BranchSecretary, Some(&renshe.id), None).await?;
            let contact = register::create_person(
                tx,
                ACTOR,
                register::NewPerson {
                    name: "人社局组织人事科",
                    phone: None,
                    id_number: None,
                    home: &renshe,
                    consent_publish_name: false,
                },
            )
            .await?;
            register::add_member(
                tx,
                ACTOR,
                &employer,
                &contact.id,
                MemberRole::Staff,
                None,
                None,
                (0, None),
            )
            .await?;
            auth::create_user(tx, ACTOR, "employer", &hash, Some(&contact.id)).await?;
            Ok(())
        })
    })
    .await?;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Party members: {total} imported ({} employer units); {confirmed} check-ins confirmed with receipts, 1 waiting (人社局家属院)",
        report.employers_created
    );
    let _ = writeln!(s, "  member      an in-service party member of 人社局家属院: /api/v1/party/me (check-in waiting for the branch)");
    let _ = writeln!(s, "  branch      branch secretary of 人社局家属院: members, check-ins to confirm, /api/v1/places/ID/party-stats");
    let _ = writeln!(s, "  employer    contact of {EMPLOYER}: its members' receipts at /api/v1/party/employer-receipts");
    Ok(s)
}
