//! The demo's cases, from the reports: the barking dog mediated at Yujing
//! Huating (report 001), the smelly bins fixed in days at Qiushi Xuefu
//! (report 003), the wall repaired two hours after the branch called the
//! steward (Bishan's "solve at once", here at 精城名典 where the demo owner
//! lives), and a deterministic pile of resolved and rated cases across every
//! compound so the statistics mean something. Every case goes through the
//! same store functions as the API: each step is an event.

use gongzhi_domain::cases::{Calendar, Category, Channel, Command, Priority, DAY_MS, HOUR_MS};
use gongzhi_domain::mediation::{Outcome, Party, Session, Side};
use gongzhi_store::cases::{self, Extra, NewCase};
use gongzhi_store::db::{self, Db, Tx};
use gongzhi_store::mediation;
use gongzhi_store::register::{self, Place};
use gongzhi_store::{auth, StoreError};

const ACTOR: &str = "demo";

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn case(
    place: &Place,
    category: Category,
    channel: Channel,
    text: &str,
    reporter: Option<&str>,
    name: Option<&str>,
) -> NewCase {
    NewCase {
        place: place.clone(),
        part_id: None,
        category,
        priority: Priority::Normal,
        description: text.into(),
        address: None,
        lat: None,
        lon: None,
        channel,
        reporter_user_id: reporter.map(str::to_string),
        reporter_name: name.map(str::to_string),
        reporter_phone: None,
        consent_publish: false,
        raised_by: ACTOR.into(),
    }
}

/// Runs `steps` (command, note, hours after the report) on a case.
async fn steps(
    tx: &mut Tx,
    id: &str,
    t0: i64,
    cal: &Calendar,
    steps: &[(Command, &str, i64)],
) -> Result<(), StoreError> {
    for (cmd, note, h) in steps {
        let extra = Extra {
            note: (!note.is_empty()).then(|| note.to_string()),
            rating_comment: matches!(cmd, Command::Rate { .. }).then(|| note.to_string()),
            ..Default::default()
        };
        cases::act_in(tx, id, ACTOR, cmd, &extra, cal, t0 + h * HOUR_MS).await?;
    }
    Ok(())
}

async fn first_building(db: &Db, p: &Place) -> anyhow::Result<Place> {
    let kids = register::children(db, Some(p)).await?;
    let b = kids
        .iter()
        .find(|k| k.kind == "building")
        .ok_or_else(|| anyhow::anyhow!("{} has no building", p.name))?;
    Ok(register::get_place(db, &b.id).await?)
}

/// Loads the cases; returns a line for the demo summary.
pub async fn load(db: &Db) -> anyhow::Result<String> {
    let cal = Calendar::china_2026();
    let now = db::now_ms();
    let owner = auth::user_id_by_name(db, "owner").await?;
    let jc = register::place_by_code(db, "jingcheng-mingdian").await?;
    let yj = register::place_by_code(db, "yujing-huating").await?;
    let qs = register::place_by_code(db, "qiushi-xuefu").await?;
    let (jc_b, yj_b, qs_b) = (
        first_building(db, &jc).await?,
        first_building(db, &yj).await?,
        first_building(db, &qs).await?,
    );
    let compounds = register::public_compounds(db).await?;
    let mut all = Vec::new();
    for c in &compounds {
        let p = register::place_by_code(db, &c.code).await?;
        let b = first_building(db, &p).await.unwrap_or_else(|_| p.clone());
        all.push((p, b));
    }
    let n = db
        .write(move |tx| {
            let (cal, owner, jc_b, yj_b, qs_b, all) = (
                cal.clone(),
                owner.clone(),
                jc_b.clone(),
                yj_b.clone(),
                qs_b.clone(),
                all.clone(),
            );
            Box::pin(async move {
                use Command::*;
                let mut n = 0usize;
                // The wall: reported by the owner on the web, the branch calls the steward, repaired two hours later.
                let t0 = now - 12 * DAY_MS;
                let id = cases::raise_in(
                    tx,
                    &case(
                        &jc_b,
                        Category::Repair,
                        Channel::Web,
                        "单元门口外墙瓷砖松动掉落，怕砸到老人小孩",
                        Some(&owner),
                        None,
                    ),
                    &cal,
                    t0,
                )
                .await?;
                steps(
                    tx,
                    &id,
                    t0,
                    &cal,
                    &[
                        (Accept, "党支部书记立即电话通知物业", 0),
                        (Assign, "物业维修班", 0),
                        (Start, "拉警戒线，搭梯子", 1),
                        (Resolve, "两小时修复外墙，已清理碎片", 2),
                        (Verify, "业主确认已修好", 5),
                        (Close, "", 6),
                        (Rate { stars: 5 }, "两个小时就修好了，点赞", 7),
                    ],
                )
                .await?;
                n += 1;
                // The barking dog: the grid worker knocks on doors, the joint team mediates, an agreement.
                let t0 = now - 40 * DAY_MS;
                let id = cases::raise_in(
                    tx,
                    &case(
                        &yj_b,
                        Category::Noise,
                        Channel::DoorKnock,
                        "邻居家的狗夜里一直叫，老人睡不着",
                        None,
                        Some("王阿姨"),
                    ),
                    &cal,
                    t0,
                )
                .await?;
                steps(
                    tx,
                    &id,
                    t0,
                    &cal,
                    &[
                        (Accept, "网格员上报联合工作组", 2),
                        (Assign, "调委会", 3),
                        (Start, "在议事厅约双方调解", 48),
                    ],
                )
                .await?;
                // A real mediation record: parties, the community's mediation
                // committee (the case was routed to it), a session, the agreement.
                let committee = cases::get_tx(tx, &id, t0)
                    .await?
                    .org_id
                    .ok_or_else(|| StoreError::invalid("org_id", "no mediation committee"))?;
                let parties = [
                    Party {
                        name: "王阿姨".into(),
                        side: Side::Applicant,
                        phone: None,
                    },
                    Party {
                        name: "赵先生".into(),
                        side: Side::Respondent,
                        phone: None,
                    },
                ];
                mediation::open_in(tx, &id, ACTOR, &parties, &[committee], t0 + 49 * HOUR_MS)
                    .await?;
                mediation::add_session_in(
                    tx,
                    &id,
                    ACTOR,
                    &Session {
                        held_at: t0 + 70 * HOUR_MS,
                        place: "御景华庭议事厅".into(),
                        attendees: vec![
                            "王阿姨".into(),
                            "赵先生".into(),
                            "调委会调解员".into(),
                            "网格员".into(),
                            "楼栋长".into(),
                        ],
                        notes: "双方陈述；养狗住户同意整改，邻居同意给两周时间".into(),
                    },
                    t0 + 71 * HOUR_MS,
                )
                .await?;
                mediation::conclude_in(
                    tx,
                    &id,
                    ACTOR,
                    &Outcome::Agreement {
                        text: "夜间把狗关在室内，白天遛狗拴绳；两周后网格员回访；双方签字".into(),
                    },
                    t0 + 71 * HOUR_MS,
                )
                .await?;
                steps(
                    tx,
                    &id,
                    t0,
                    &cal,
                    &[
                        (
                            Resolve,
                            "调解达成协议：夜间把狗关在室内，白天遛狗拴绳；双方签字",
                            72,
                        ),
                        (Verify, "网格员回访，夜间安静", 168),
                        (Close, "", 170),
                    ],
                )
                .await?;
                n += 1;
                // The smelly bins: reported by phone, fixed in three days.
                let t0 = now - 25 * DAY_MS;
                let id = cases::raise_in(
                    tx,
                    &case(
                        &qs_b,
                        Category::Environment,
                        Channel::Phone,
                        "垃圾桶长期不清洗，夏天很臭",
                        None,
                        Some("李先生"),
                    ),
                    &cal,
                    t0,
                )
                .await?;
                steps(
                    tx,
                    &id,
                    t0,
                    &cal,
                    &[
                        (Accept, "", 1),
                        (Assign, "保洁公司", 2),
                        (Start, "更换新桶，每日冲洗", 24),
                        (Resolve, "垃圾桶已更换并每日清洗消毒", 72),
                        (Verify, "网格员核查，已无异味", 80),
                        (Close, "", 81),
                    ],
                )
                .await?;
                n += 1;
                // A pile of cases across every compound.
                let texts: [(Category, &str); 8] = [
                    (Category::Repair, "楼道灯不亮"),
                    (Category::Repair, "电梯按钮失灵"),
                    (Category::Environment, "绿化带有垃圾"),
                    (Category::Parking, "消防通道被占用停车"),
                    (Category::Safety, "楼道堆放杂物"),
                    (Category::ServiceComplaint, "保安夜间不巡逻"),
                    (Category::Suggestion, "建议增设快递柜"),
                    (Category::Noise, "装修噪音超时"),
                ];
                let mut rng = Rng(20261123);
                for (p, b) in &all {
                    for k in 0..24 {
                        let (cat, text) = texts[rng.below(texts.len() as u64) as usize];
                        let t0 = now
                            - (1 + rng.below(170)) as i64 * DAY_MS
                            - rng.below(10) as i64 * HOUR_MS;
                        let place = if k % 3 == 0 { p } else { b };
                        let channel = [
                            Channel::Web,
                            Channel::Phone,
                            Channel::DoorKnock,
                            Channel::Station,
                        ][rng.below(4) as usize];
                        let name = channel.on_behalf().then_some("居民");
                        let id = cases::raise_in(
                            tx,
                            &case(place, cat, channel, text, None, name),
                            &cal,
                            t0,
                        )
                        .await?;
                        n += 1;
                        let fate = rng.below(20);
                        let resolve_h = 2 + rng.below(150) as i64;
                        if t0 + (resolve_h + 10) * HOUR_MS > now || fate == 0 {
                            // Still open (some will be overdue).
                            if fate.is_multiple_of(2) {
                                steps(tx, &id, t0, &cal, &[(Accept, "", 1), (Assign, "", 2)])
                                    .await?;
                            }
                            continue;
                        }
                        if fate == 1 {
                            steps(
                                tx,
                                &id,
                                t0,
                                &cal,
                                &[(
                                    Reject {
                                        reason: "不属于小区事务，已告知拨打12345".into(),
                                    },
                                    "",
                                    3,
                                )],
                            )
                            .await?;
                            continue;
                        }
                        let stars = [5u8, 5, 4, 4, 4, 3, 5, 2, 5, 4][rng.below(10) as usize];
                        steps(
                            tx,
                            &id,
                            t0,
                            &cal,
                            &[
                                (Accept, "", 1 + rng.below(3) as i64),
                                (Assign, "", 4),
                                (Start, "", 5),
                                (Resolve, "已处理", resolve_h),
                                (Verify, "", resolve_h + 4),
                                (Close, "", resolve_h + 5),
                                (Rate { stars }, "", resolve_h + 8),
                            ],
                        )
                        .await?;
                    }
                }
                Ok(n)
            })
        })
        .await?;
    Ok(format!("{n} cases (the wall at 精城名典, the barking dog at 御景华庭, the smelly bins at 秋实学府, and resolved and rated cases in every compound)."))
}
