//! The demo city, built from the five reports in `seeds/` (see DOMAIN.md).
//!
//! Everything here is deterministic: the same binary always loads the same
//! city (only ids, timestamps and the password salt differ). Variety comes from
//! a seeded linear congruential generator, never from the clock.
//!
//! What comes from the reports and what is invented:
//! - Place names, compound names, the household counts 606 (精城名典) and 539
//!   (金缘上城A区), 116 (人社局家属院), Qianshan Meilin's buildings 2 and 6 (two
//!   elevators each), the 72 m² shop, the 146 in-service party members of
//!   东方新天地 in 5 building groups, the 7-member branch of 人社局家属院 (2
//!   retired, 5 in-service), Honggu's property management committees and joint
//!   branches for small compounds: from the reports.
//! - Every person's name and phone number is invented (generated): the
//!   reports name real people, and a demo must not attach made-up personal
//!   data to them. Roles follow the reports (e.g. the property manager is a
//!   vice convener in Qianshan Meilin; the branch secretary chairs the owners'
//!   committee in Jingcheng Mingdian).
//! - Where a report does not say which street or community a compound is in,
//!   or names no company, the choice below is marked "invented".
//! - Building layouts, areas, shops and parking spaces are invented but
//!   plausible; they are sized to match the household counts the reports give.

use gongzhi_domain::money::Area;
use gongzhi_domain::place::{
    AreaBasis, FiveMemberType, GridKind, MemberRole, OrgKind, OwnerKind, PartKind, PlaceKind,
    ResidentRelation,
};
use gongzhi_domain::policy::Role;
use gongzhi_domain::roster::{place_key, CrossCheck, RosterRow};
use gongzhi_store::register::{self, NewPerson, PartFilter, Place};
use gongzhi_store::{auth, import, Db, StoreError, Tx};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::sync::Arc;

/// The password of every demo login.
pub const DEMO_PASSWORD: &str = "gongzhi-demo";
/// The actor recorded in the audit trail for everything the demo creates.
const ACTOR: &str = "demo";

// ---------------------------------------------------------------- the city, as data

#[derive(Clone, Copy)]
struct Bld {
    no: u32,
    units: u32,
    first_floor: u32,
    floors: u32,
    per_floor: u32,
}

const fn bld(no: u32, units: u32, first_floor: u32, floors: u32, per_floor: u32) -> Bld {
    Bld {
        no,
        units,
        first_floor,
        floors,
        per_floor,
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Body {
    /// An owners' committee 业委会 of this many members.
    Committee(usize),
    /// A property management committee 物管会 (no owners' committee yet).
    Pmc(usize),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Branch {
    /// The compound's own party branch, with this name.
    Own(&'static str),
    /// A joint branch anchored here that also spans the compound with this code.
    Joint(&'static str, &'static str),
    /// Served by the joint branch anchored on the compound with this code.
    InJoint(&'static str),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ParkingMode {
    /// Sold to owners (many to flat owners), the rest held by the developer.
    Normal,
    /// The developer mortgaged the garage: buyers cannot register their
    /// spaces, so the developer stays owner of record (contract area).
    Mortgaged,
}

struct Spec {
    city: &'static str,
    district: &'static str,
    street: &'static str,
    community: &'static str,
    name: &'static str,
    code: &'static str,
    /// Prefix of owner keys (unique per compound).
    prefix: &'static str,
    /// One line for the summary.
    story: &'static str,
    buildings: Vec<Bld>,
    /// Flats that are not exclusive parts (building, unit, number).
    omit: &'static [(u32, u32, u32)],
    /// Flat areas in hundredths of m², by position on the floor.
    layouts: &'static [i64],
    /// Shops: (building, area in hundredths), numbered S01… per building.
    shops: &'static [(u32, i64)],
    parking: u32,
    parking_mode: ParkingMode,
    developer: Option<&'static str>,
    unsold_flats_permille: u64,
    unsold_parking_permille: u64,
    surveyed_permille: u64,
    contract_permille: u64,
    body: Body,
    branch: Branch,
    /// The branch secretary also chairs the owners' committee (交叉任职).
    cross_appointed: bool,
    steward: &'static str,
    /// The first shop belongs to the owner of this flat (building, unit, number).
    first_shop_owner_flat: Option<(u32, u32, u32)>,
    seed: u64,
}

fn specs() -> Vec<Spec> {
    vec![
        // 000 Qijiang: 綦江区文龙街道的千山美林小区. The community is not stated;
        // the report quotes the party secretary of 文龙街道九龙社区 on these
        // problems, so the compound is placed there (assumption).
        Spec {
            city: "重庆市",
            district: "綦江区",
            street: "文龙街道",
            community: "九龙社区",
            name: "千山美林",
            code: "qianshan-meilin",
            prefix: "qsml",
            story: "五员共治 five-member team; elevator renewal in buildings 2 and 6 (4 elevators, building 6 needs 3/4)",
            buildings: vec![bld(1, 2, 1, 11, 2), bld(2, 2, 1, 11, 2), bld(3, 2, 1, 11, 2), bld(4, 2, 1, 11, 2), bld(5, 2, 1, 11, 2), bld(6, 2, 1, 11, 2), bld(7, 2, 1, 11, 2)],
            omit: &[],
            layouts: &[9856, 12134],
            shops: &[(1, 4520), (1, 3860), (1, 5280), (1, 6135), (1, 4010), (1, 8690)],
            parking: 80,
            parking_mode: ParkingMode::Normal,
            developer: Some("重庆千山置业有限公司"), // invented
            unsold_flats_permille: 10,
            unsold_parking_permille: 250,
            surveyed_permille: 60,
            contract_permille: 20,
            body: Body::Committee(5),
            branch: Branch::Own("千山美林小区党支部"),
            cross_appointed: false,
            steward: "綦江美林物业服务有限公司", // invented
            first_shop_owner_flat: None,
            seed: 1,
        },
        // 000 Qijiang: 通惠街道的东方新天地小区; 通惠社区党总支 (report).
        Spec {
            city: "重庆市",
            district: "綦江区",
            street: "通惠街道",
            community: "通惠社区",
            name: "东方新天地",
            code: "dongfang-xintiandi",
            prefix: "dfxtd",
            story: "146 in-service party members in 5 building groups; garage mortgaged by the developer",
            buildings: vec![bld(1, 2, 1, 12, 2), bld(2, 2, 1, 12, 2), bld(3, 2, 1, 12, 2), bld(4, 2, 1, 12, 2), bld(5, 2, 1, 12, 2)],
            omit: &[],
            layouts: &[8820, 10465],
            shops: &[],
            parking: 60,
            parking_mode: ParkingMode::Mortgaged,
            developer: Some("綦江东方新天地置业有限公司"), // invented
            unsold_flats_permille: 0,
            unsold_parking_permille: 0,
            surveyed_permille: 50,
            contract_permille: 30,
            body: Body::Committee(5),
            branch: Branch::Own("东方新天地小区党支部"),
            cross_appointed: false,
            steward: "綦江通达物业服务有限公司", // invented
            first_shop_owner_flat: None,
            seed: 2,
        },
        // 001 Honggu: 御景华庭小区, 华龙街道龙源社区 (report).
        Spec {
            city: "兰州市",
            district: "红古区",
            street: "华龙街道",
            community: "龙源社区",
            name: "御景华庭",
            code: "yujing-huating",
            prefix: "yjht",
            story: "barking-dog complaint: grid worker → joint team → mediation in the deliberation hall",
            buildings: vec![bld(1, 2, 1, 6, 2), bld(2, 2, 1, 6, 2), bld(3, 2, 1, 6, 2), bld(4, 2, 1, 6, 2), bld(5, 2, 1, 6, 2), bld(6, 2, 1, 6, 2)],
            omit: &[],
            layouts: &[7640, 9215],
            shops: &[],
            parking: 0,
            parking_mode: ParkingMode::Normal,
            developer: Some("兰州御景房地产开发有限公司"), // invented
            unsold_flats_permille: 20,
            unsold_parking_permille: 0,
            surveyed_permille: 80,
            contract_permille: 20,
            body: Body::Pmc(5),
            branch: Branch::Own("御景华庭小区党支部"),
            cross_appointed: false,
            steward: "兰州华龙物业服务有限公司", // invented
            first_shop_owner_flat: None,
            seed: 3,
        },
        // 001 Honggu: the two 信义小区 pilots 西苑小区 and 恒富花园小区. The
        // report does not say where they are; placed in 华龙街道龙源社区
        // (invented). Small compounds: one joint party branch (联合建).
        Spec {
            city: "兰州市",
            district: "红古区",
            street: "华龙街道",
            community: "龙源社区",
            name: "西苑小区",
            code: "xiyuan",
            prefix: "xy",
            story: "信义小区 trust-model pilot (fund belongs to owners, steward paid a fixed share)",
            buildings: vec![bld(1, 2, 1, 6, 2), bld(2, 2, 1, 6, 2), bld(3, 2, 1, 6, 2), bld(4, 2, 1, 6, 2)],
            omit: &[],
            layouts: &[6980, 8350],
            shops: &[],
            parking: 0,
            parking_mode: ParkingMode::Normal,
            developer: None,
            unsold_flats_permille: 0,
            unsold_parking_permille: 0,
            surveyed_permille: 60,
            contract_permille: 0,
            body: Body::Committee(3),
            branch: Branch::Joint("西苑恒富花园联合党支部", "hengfu-huayuan"),
            cross_appointed: false,
            steward: "红古信义物业服务有限公司", // invented
            first_shop_owner_flat: None,
            seed: 4,
        },
        Spec {
            city: "兰州市",
            district: "红古区",
            street: "华龙街道",
            community: "龙源社区",
            name: "恒富花园",
            code: "hengfu-huayuan",
            prefix: "hfhy",
            story: "信义小区 trust-model pilot; shares a joint party branch with Xiyuan",
            buildings: vec![bld(1, 3, 1, 6, 2), bld(2, 3, 1, 6, 2), bld(3, 3, 1, 6, 2)],
            omit: &[],
            layouts: &[8125, 9630],
            shops: &[],
            parking: 0,
            parking_mode: ParkingMode::Normal,
            developer: None,
            unsold_flats_permille: 0,
            unsold_parking_permille: 0,
            surveyed_permille: 60,
            contract_permille: 10,
            body: Body::Committee(5),
            branch: Branch::InJoint("xiyuan"),
            cross_appointed: false,
            steward: "红古信义物业服务有限公司", // invented; same trust-model steward
            first_shop_owner_flat: None,
            seed: 5,
        },
        // 001 Honggu: 煤电六小区 物管会, with 华龙街道振兴社区党委 (report).
        Spec {
            city: "兰州市",
            district: "红古区",
            street: "华龙街道",
            community: "振兴社区",
            name: "煤电六小区",
            code: "meidian-liu",
            prefix: "md6",
            story: "property management committee; facade insulation repair with 6 door-knocking squads",
            buildings: vec![bld(1, 2, 1, 5, 2), bld(2, 2, 1, 5, 2), bld(3, 2, 1, 5, 2), bld(4, 2, 1, 5, 2), bld(5, 2, 1, 5, 2), bld(6, 2, 1, 5, 2)],
            omit: &[],
            layouts: &[5860, 6745],
            shops: &[],
            parking: 0,
            parking_mode: ParkingMode::Normal,
            developer: None,
            unsold_flats_permille: 0,
            unsold_parking_permille: 0,
            surveyed_permille: 100,
            contract_permille: 0,
            body: Body::Pmc(5),
            branch: Branch::Own("煤电六小区党支部"),
            cross_appointed: false,
            steward: "红古煤电物业服务有限公司", // invented
            first_shop_owner_flat: None,
            seed: 6,
        },
        // 002 Chengdu: 成都市郫都区双柏社区精城名典小区 (report). The street is
        // not stated; 郫筒街道 is an assumption.
        // 606 households: 6 buildings × 2 units × 3 flats a floor; building 1
        // has shops on the ground floor (2F–17F flats: 96), buildings 2–6 have
        // 17 floors of flats (102 each): 96 + 5 × 102 = 606.
        Spec {
            city: "成都市",
            district: "郫都区",
            street: "郫筒街道",
            community: "双柏社区",
            name: "精城名典",
            code: "jingcheng-mingdian",
            prefix: "jcmd",
            story: "public revenue ~300,000 yuan returned to 606 households by area (72 m² shop × 4 yuan = 288 yuan)",
            buildings: vec![bld(1, 2, 2, 16, 3), bld(2, 2, 1, 17, 3), bld(3, 2, 1, 17, 3), bld(4, 2, 1, 17, 3), bld(5, 2, 1, 17, 3), bld(6, 2, 1, 17, 3)],
            omit: &[],
            layouts: &[8947, 7236, 11852],
            shops: &[(1, 7200), (1, 4550), (1, 8830), (1, 3620), (1, 5175), (1, 12040), (1, 6300), (1, 4480), (1, 9615), (1, 3990), (1, 5560), (1, 7385)],
            parking: 150,
            parking_mode: ParkingMode::Normal,
            developer: Some("成都精城置业有限公司"), // invented
            unsold_flats_permille: 0,
            unsold_parking_permille: 250,
            surveyed_permille: 40,
            contract_permille: 10,
            body: Body::Committee(7),
            branch: Branch::Own("精城名典小区党支部"),
            cross_appointed: true,
            steward: "郫都安居物业服务有限公司", // invented
            first_shop_owner_flat: Some((1, 1, 201)),
            seed: 7,
        },
        // 002 Chengdu: 武侯区晋阳街道吉福社区云锦城市花园小区: 4 buildings, 9 shops,
        // 4 of them restaurants (report).
        Spec {
            city: "成都市",
            district: "武侯区",
            street: "晋阳街道",
            community: "吉福社区",
            name: "云锦城市花园",
            code: "yunjin-chengshi-huayuan",
            prefix: "yjcs",
            story: "4 buildings, 9 shops (4 restaurants): the fume-pipe dispute settled from 12 opinions",
            buildings: vec![bld(1, 2, 2, 11, 2), bld(2, 2, 2, 11, 2), bld(3, 2, 2, 11, 2), bld(4, 2, 2, 11, 2)],
            omit: &[],
            layouts: &[9240, 10785],
            shops: &[(1, 8560), (1, 6240), (2, 11320), (2, 5480), (3, 7690), (3, 4870), (4, 9930), (4, 6015), (4, 3880)],
            parking: 0,
            parking_mode: ParkingMode::Normal,
            developer: None,
            unsold_flats_permille: 0,
            unsold_parking_permille: 0,
            surveyed_permille: 40,
            contract_permille: 10,
            body: Body::Committee(5),
            branch: Branch::Own("云锦城市花园小区党支部"),
            cross_appointed: false,
            steward: "成都锦晋物业服务有限公司", // invented
            first_shop_owner_flat: None,
            seed: 8,
        },
        // 003 Bishan: 秋实学府 (built 2018, next to a school and a hospital).
        // Street and community are not stated: 璧城街道 / 秀湖社区 (invented).
        Spec {
            city: "重庆市",
            district: "璧山区",
            street: "璧城街道",
            community: "秀湖社区",
            name: "秋实学府",
            code: "qiushi-xuefu",
            prefix: "qsxf",
            story: "branch scores the steward before it is paid; police mediation room; owners' committee as a legal entity",
            buildings: vec![bld(1, 2, 1, 15, 2), bld(2, 2, 1, 15, 2), bld(3, 2, 1, 15, 2), bld(4, 2, 1, 15, 2), bld(5, 2, 1, 15, 2), bld(6, 2, 1, 15, 2)],
            omit: &[],
            layouts: &[9580, 12864],
            shops: &[(1, 6850), (1, 5420), (2, 7310), (2, 4960), (3, 8840), (3, 6125)],
            parking: 120,
            parking_mode: ParkingMode::Normal,
            developer: Some("重庆秋实置业有限公司"), // invented
            unsold_flats_permille: 40,
            unsold_parking_permille: 300,
            surveyed_permille: 100,
            contract_permille: 150,
            body: Body::Committee(7),
            branch: Branch::Own("秋实学府小区党支部"),
            cross_appointed: true,
            steward: "璧山秋实物业服务有限公司", // invented
            first_shop_owner_flat: None,
            seed: 9,
        },
        // 003 Bishan: 人社局家属院 (2008, 116 households). A member of 璧城街道党工委
        // lives there, so the street is 璧城街道; the community is invented.
        Spec {
            city: "重庆市",
            district: "璧山区",
            street: "璧城街道",
            community: "北街社区",
            name: "人社局家属院",
            code: "renshe-jiashuyuan",
            prefix: "rsj",
            story: "116 households; 7-member branch (2 retired, 5 in-service members) since 2019",
            buildings: vec![bld(1, 2, 1, 7, 2), bld(2, 2, 1, 7, 2), bld(3, 2, 1, 5, 3), bld(4, 2, 1, 5, 3)],
            omit: &[],
            layouts: &[8460, 9935, 7210],
            shops: &[],
            parking: 0,
            parking_mode: ParkingMode::Normal,
            developer: None,
            unsold_flats_permille: 0,
            unsold_parking_permille: 0,
            surveyed_permille: 30,
            contract_permille: 0,
            body: Body::Committee(5),
            branch: Branch::Own("人社局家属院小区党支部"),
            cross_appointed: true,
            steward: "璧山城安物业服务有限公司", // invented
            first_shop_owner_flat: None,
            seed: 10,
        },
        // 003 Bishan: 宏康浩宇 (handed over 15 years ago, 3 km from 人社局家属院).
        // Street and community are invented (璧泉街道 / 金剑社区, as in the store's
        // roster test fixture).
        Spec {
            city: "重庆市",
            district: "璧山区",
            street: "璧泉街道",
            community: "金剑社区",
            name: "宏康浩宇",
            code: "hongkang-haoyu",
            prefix: "hkhy",
            story: "the 'eight sights' named by owners' vote; retired members keep order; committee runs as an entity",
            buildings: vec![bld(1, 2, 1, 8, 2), bld(2, 2, 1, 8, 2), bld(3, 2, 1, 8, 2), bld(4, 2, 1, 8, 2), bld(5, 2, 1, 8, 2)],
            omit: &[],
            layouts: &[8870, 10520],
            shops: &[],
            parking: 30,
            parking_mode: ParkingMode::Normal,
            developer: Some("重庆宏康房地产开发有限公司"), // invented
            unsold_flats_permille: 0,
            unsold_parking_permille: 200,
            surveyed_permille: 50,
            contract_permille: 20,
            body: Body::Committee(5),
            branch: Branch::Own("宏康浩宇小区党支部"),
            cross_appointed: true,
            steward: "璧山康雅保洁服务有限公司", // invented: itemised outsourcing (cleaning)
            first_shop_owner_flat: None,
            seed: 11,
        },
        // 004 Pingli: 城关镇东关社区金缘上城小区, A区 539 households (report).
        // Buildings 1–5: 2 units × 18 floors × 2 = 72; 6–7: 2 units × 15
        // floors × 3 = 90; building 1 unit 1 flat 102 is the property-service
        // room (a common part): 5 × 72 + 2 × 90 − 1 = 539.
        Spec {
            city: "安康市",
            district: "平利县",
            street: "城关镇",
            community: "东关社区",
            name: "金缘上城A区",
            code: "jinyuan-shangcheng-a",
            prefix: "jysc",
            story: "539 households self-manage a 5M+ yuan maintenance fund: use the interest, keep the principal",
            buildings: vec![bld(1, 2, 1, 18, 2), bld(2, 2, 1, 18, 2), bld(3, 2, 1, 18, 2), bld(4, 2, 1, 18, 2), bld(5, 2, 1, 18, 2), bld(6, 2, 1, 15, 3), bld(7, 2, 1, 15, 3)],
            omit: &[(1, 1, 102)],
            layouts: &[9125, 11860, 8340],
            shops: &[(7, 6580), (7, 4725), (7, 8260), (7, 5310)],
            parking: 60,
            parking_mode: ParkingMode::Normal,
            developer: Some("平利金缘房地产开发有限公司"), // invented
            unsold_flats_permille: 0,
            unsold_parking_permille: 300,
            surveyed_permille: 40,
            contract_permille: 10,
            body: Body::Committee(7),
            branch: Branch::Own("金缘上城网格党支部"),
            cross_appointed: true,
            steward: "平利金缘红色物业服务有限公司", // invented (the report's 红色物业)
            first_shop_owner_flat: None,
            seed: 12,
        },
        // 004 Pingli: 南城社区美佳星座小区 ("several hundred households").
        Spec {
            city: "安康市",
            district: "平利县",
            street: "城关镇",
            community: "南城社区",
            name: "美佳星座",
            code: "meijia-xingzuo",
            prefix: "mjxz",
            story: "seven-step method: facade repair from the maintenance fund with ≥70% signed consent",
            buildings: vec![bld(1, 2, 1, 18, 2), bld(2, 2, 1, 18, 2), bld(3, 2, 1, 18, 2), bld(4, 2, 1, 18, 2)],
            omit: &[],
            layouts: &[9460, 11275],
            shops: &[(1, 5840), (1, 4690), (2, 7120), (2, 3950)],
            parking: 40,
            parking_mode: ParkingMode::Normal,
            developer: Some("平利美佳置业有限公司"), // invented
            unsold_flats_permille: 10,
            unsold_parking_permille: 250,
            surveyed_permille: 60,
            contract_permille: 20,
            body: Body::Committee(5),
            branch: Branch::Own("美佳星座小区党支部"),
            cross_appointed: false,
            steward: "平利美佳物业服务有限公司", // invented
            first_shop_owner_flat: None,
            seed: 13,
        },
    ]
}

/// The party body of a street (街道党工委, or a town's 镇党委).
fn street_committee_name(street: &str) -> String {
    if street.ends_with('镇') {
        format!("{street}党委")
    } else {
        format!("{street}党工委")
    }
}

/// The community party body: 通惠社区 has a general branch 党总支 (report 000).
fn community_committee_name(community: &str) -> String {
    if community == "通惠社区" {
        format!("{community}党总支")
    } else {
        format!("{community}党委")
    }
}

/// Partner units 共建单位 per community. Those marked "report" are named in the
/// reports; the rest are invented.
fn partner_units(community: &str) -> &'static [&'static str] {
    match community {
        "九龙社区" => &["綦江区应急管理局", "綦江区科技局"], // report: the conveners' employers
        "通惠社区" => &["通惠街道社区卫生服务中心"],         // invented
        "龙源社区" => &["红古区综合行政执法局"],             // invented (report: 执法单位)
        "振兴社区" => &["红古区住房和城乡建设局"],           // invented
        "双柏社区" => &["郫都区消防救援大队"],               // invented
        "吉福社区" => &["成都知食社区营造促进中心"], // report (a social organisation in Wuhou)
        "秀湖社区" => &["璧山中学"],                 // report: a retired teacher's school
        "北街社区" => &["璧山区人力资源和社会保障局"], // report: the 家属院's agency
        "金剑社区" => &["璧山区文化馆"],             // invented
        "东关社区" => &["平利县城关镇社区工作指导中心"], // report
        "南城社区" => &["平利县人民医院", "平利县城关小学"], // invented (report: 20+ partner units)
        _ => &[],
    }
}

// ---------------------------------------------------------------- deterministic variety

/// A 64-bit LCG (Knuth's MMIX constants); the high bits are used.
#[derive(Clone)]
struct Lcg(u64);

impl Lcg {
    fn new(seed: u64) -> Lcg {
        let mut l = Lcg(seed
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .wrapping_add(0x2545_F491_4F6C_DD1D));
        l.next();
        l
    }
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn permille(&mut self, p: u64) -> bool {
        self.below(1000) < p
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }
}

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾",
    "肖", "田", "董", "袁", "潘", "蒋", "蔡", "余", "杜", "叶", "程", "苏", "魏", "吕", "丁", "任",
    "沈", "姚", "卢", "钟", "谭", "陆", "范", "廖", "夏", "付", "方", "邹", "熊", "秦", "江", "雷",
    "龙", "陶", "贺", "龚", "万", "向",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "秀", "英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟",
    "涛", "明", "超", "兰", "霞", "平", "刚", "桂", "华", "建", "国", "志", "红", "玉", "德", "文",
    "斌", "宇", "浩", "凯", "鑫", "琴", "燕", "兵", "晨", "阳", "婷", "雪", "梅", "海", "波", "立",
    "新", "春", "林", "晓", "东", "俊", "荣", "淑", "珍", "福", "成", "清", "永", "光", "安",
];
const MOBILE_PREFIXES: &[&str] = &[
    "138", "139", "135", "136", "137", "150", "151", "152", "158", "159", "182", "183", "187",
    "188", "177", "199", "133", "153", "180", "189",
];
const COMPANIES: &[&str] = &[
    "鑫源商贸有限公司",
    "惠民便利店有限公司",
    "川香餐饮管理有限公司",
    "康宁大药房有限公司",
    "天天鲜果业有限公司",
    "乐家家居有限公司",
];

fn gen_name(rng: &mut Lcg) -> String {
    let mut s = rng.pick(SURNAMES).to_string();
    let n = if rng.permille(700) { 2 } else { 1 };
    for _ in 0..n {
        s.push_str(rng.pick::<&str>(GIVEN));
    }
    s
}

fn gen_mobile(rng: &mut Lcg) -> String {
    format!("{}{:08}", rng.pick(MOBILE_PREFIXES), rng.below(100_000_000))
}

/// Midnight (Beijing time) of a calendar date, in Unix milliseconds.
fn day_ms(y: i64, m: i64, d: i64) -> i64 {
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    days * 86_400_000 - 8 * 3_600_000
}

// ---------------------------------------------------------------- roster rows

fn building_name(no: u32) -> String {
    format!("{no}栋")
}
fn unit_name(no: u32) -> String {
    format!("{no}单元")
}
const GARAGE: &str = "地下车库";

/// The roster rows of one compound (row numbers are set later).
fn compound_rows(spec: &Spec) -> Vec<RosterRow> {
    let mut rng = Lcg::new(spec.seed);
    let mut rows: Vec<RosterRow> = Vec::new();
    let mut next_owner = 0usize;
    let mut new_key = |prefix: &str| {
        next_owner += 1;
        format!("{prefix}-{next_owner:04}")
    };
    let dev_key = format!("{}-developer", spec.prefix);
    let dev_phone = |rng: &mut Lcg| {
        format!(
            "0{}-{:08}",
            10 + rng.below(90),
            60_000_000 + rng.below(30_000_000)
        )
    };
    let developer_phone = dev_phone(&mut rng);
    let base = |building: String,
                unit: String,
                number: String,
                kind: PartKind,
                area: i64,
                basis: AreaBasis| RosterRow {
        row: 0,
        district: spec.district.into(),
        street: spec.street.into(),
        community: spec.community.into(),
        compound: spec.name.into(),
        building,
        unit,
        number,
        kind,
        area: Area(area),
        area_basis: basis,
        owner_key: String::new(),
        owner_name: String::new(),
        owner_kind: OwnerKind::Person,
        phone: String::new(),
    };
    let basis_for = |rng: &mut Lcg| {
        let r = rng.below(1000);
        if r < spec.contract_permille {
            AreaBasis::Contract
        } else if r < spec.contract_permille + spec.surveyed_permille {
            AreaBasis::Surveyed
        } else {
            AreaBasis::Registered
        }
    };

    // Flats.
    for b in &spec.buildings {
        let b_offset = ((b.no as i64 * 53) % 120) - 60;
        for u in 1..=b.units {
            for floor in b.first_floor..b.first_floor + b.floors {
                for idx in 1..=b.per_floor {
                    let number = floor * 100 + idx;
                    if spec.omit.contains(&(b.no, u, number)) {
                        continue;
                    }
                    let area = spec.layouts[(idx as usize - 1) % spec.layouts.len()] + b_offset;
                    let mut r = base(
                        building_name(b.no),
                        unit_name(u),
                        number.to_string(),
                        PartKind::Flat,
                        area,
                        AreaBasis::Registered,
                    );
                    match spec.developer {
                        Some(dev) if rng.permille(spec.unsold_flats_permille) => {
                            // Unsold: not registered to a buyer yet; surveyed area.
                            r.area_basis = AreaBasis::Surveyed;
                            r.owner_key = dev_key.clone();
                            r.owner_name = dev.into();
                            r.owner_kind = OwnerKind::Developer;
                            r.phone = developer_phone.clone();
                        }
                        _ => {
                            r.area_basis = basis_for(&mut rng);
                            r.owner_key = new_key(spec.prefix);
                            if rng.permille(60) {
                                r.owner_kind = OwnerKind::CoOwners;
                                r.owner_name =
                                    format!("{}、{}", gen_name(&mut rng), gen_name(&mut rng));
                            } else {
                                r.owner_name = gen_name(&mut rng);
                            }
                            if !rng.permille(80) {
                                r.phone = gen_mobile(&mut rng);
                            }
                        }
                    }
                    rows.push(r);
                }
            }
        }
    }
    let flat_count = rows.len();

    // Shops, directly under their building.
    let mut per_building: BTreeMap<u32, u32> = BTreeMap::new();
    for (i, (bno, area)) in spec.shops.iter().enumerate() {
        let n = per_building.entry(*bno).or_default();
        *n += 1;
        let mut r = base(
            building_name(*bno),
            String::new(),
            format!("S{:02}", *n),
            PartKind::Shop,
            *area,
            AreaBasis::Registered,
        );
        let owner_flat = if i == 0 {
            spec.first_shop_owner_flat
        } else {
            None
        };
        if let Some((fb, fu, fnum)) = owner_flat {
            let flat = rows[..flat_count]
                .iter()
                .find(|f| {
                    f.building == building_name(fb)
                        && f.unit == unit_name(fu)
                        && f.number == fnum.to_string()
                })
                .expect("the shop owner's flat exists")
                .clone();
            r.owner_key = flat.owner_key;
            r.owner_name = flat.owner_name;
            r.owner_kind = flat.owner_kind;
            r.phone = flat.phone;
        } else if spec.developer.is_some() && rng.permille(120) {
            r.owner_key = dev_key.clone();
            r.owner_name = spec.developer.unwrap_or_default().into();
            r.owner_kind = OwnerKind::Developer;
            r.phone = developer_phone.clone();
            r.area_basis = AreaBasis::Surveyed;
        } else if rng.permille(250) {
            r.owner_key = new_key(spec.prefix);
            r.owner_name = rng.pick(COMPANIES).to_string();
            r.owner_kind = OwnerKind::Company;
            r.phone = gen_mobile(&mut rng);
        } else {
            r.owner_key = new_key(spec.prefix);
            r.owner_name = gen_name(&mut rng);
            r.phone = gen_mobile(&mut rng);
        }
        rows.push(r);
    }

    // Parking spaces, under the garage. Many belong to flat owners (an owner
    // with two parts), some to the developer, a few to people without a flat.
    let mut has_parking: HashSet<String> = HashSet::new();
    for i in 1..=spec.parking {
        let area = if rng.permille(200) { 1380 } else { 1250 };
        let mut r = base(
            GARAGE.into(),
            String::new(),
            format!("B1-{i:03}"),
            PartKind::Parking,
            area,
            AreaBasis::Registered,
        );
        let dev = spec.developer.unwrap_or_default();
        if spec.parking_mode == ParkingMode::Mortgaged {
            r.owner_key = dev_key.clone();
            r.owner_name = dev.into();
            r.owner_kind = OwnerKind::Developer;
            r.phone = developer_phone.clone();
            r.area_basis = AreaBasis::Contract;
        } else if spec.developer.is_some() && rng.permille(spec.unsold_parking_permille) {
            r.owner_key = dev_key.clone();
            r.owner_name = dev.into();
            r.owner_kind = OwnerKind::Developer;
            r.phone = developer_phone.clone();
        } else if rng.permille(800) {
            // A flat owner (person) who has no space yet.
            let mut found = None;
            for _ in 0..50 {
                let f = &rows[rng.below(flat_count as u64) as usize];
                if f.owner_kind == OwnerKind::Person && !has_parking.contains(&f.owner_key) {
                    found = Some(f.clone());
                    break;
                }
            }
            let f = found.unwrap_or_else(|| rows[0].clone());
            has_parking.insert(f.owner_key.clone());
            r.owner_key = f.owner_key;
            r.owner_name = f.owner_name;
            r.owner_kind = f.owner_kind;
            r.phone = f.phone;
            if rng.permille(100) {
                r.area_basis = AreaBasis::Surveyed;
            }
        } else {
            r.owner_key = new_key(spec.prefix);
            r.owner_name = gen_name(&mut rng);
            r.phone = gen_mobile(&mut rng);
        }
        rows.push(r);
    }
    rows
}

// ---------------------------------------------------------------- the loaded register

/// A part as loaded: the register's id and the roster row it came from.
#[derive(Clone)]
struct LoadedPart {
    id: String,
    owner_id: String,
    row: RosterRow,
}

struct LoadedCompound {
    spec: usize,
    place: Place,
    community: Place,
    street: Place,
    /// Residential buildings, in order (not the garage).
    buildings: Vec<Place>,
    flats: Vec<LoadedPart>,
    shops: Vec<LoadedPart>,
    parking: Vec<LoadedPart>,
}

struct World {
    specs: Vec<Spec>,
    compounds: Vec<LoadedCompound>,
    /// Streets and communities in order of first appearance.
    streets: Vec<Place>,
    communities: Vec<(Place, Place)>,
}

/// What was built, for the summary.
#[derive(Default)]
struct Built {
    people: usize,
    organisations: usize,
    memberships: usize,
    residents: usize,
    grids: usize,
    /// Per compound code: (micro-grids, organisations anchored there).
    per_compound: HashMap<String, (usize, usize)>,
    logins: Vec<(String, String)>,
}

fn err(msg: impl Into<String>) -> StoreError {
    StoreError::Config(format!("demo: {}", msg.into()))
}

// ---------------------------------------------------------------- loading

pub async fn load(db: &Db) -> anyhow::Result<String> {
    let started = std::time::Instant::now();
    // Argon2 is slow: hash once, off the runtime, and reuse for every login.
    let hash = tokio::task::spawn_blocking(|| auth::hash_password(DEMO_PASSWORD)).await??;
    tracing::debug!(
        ms = started.elapsed().as_millis() as u64,
        "demo: password hashed"
    );

    let specs = specs();
    // 1. The top of the hierarchy, with each compound's pinyin code. The roster
    //    import finds these by their names and adds buildings, units and parts.
    let tops: Arc<Vec<[&'static str; 5]>> = Arc::new(
        specs
            .iter()
            .map(|s| [s.district, s.street, s.community, s.name, s.code])
            .collect(),
    );
    let places: BTreeMap<String, Place> = db
        .write(move |tx| {
            let tops = tops.clone();
            Box::pin(async move { create_tops(tx, &tops).await })
        })
        .await?;

    // 2. Parts and owners of record, through the roster import (all or nothing).
    let mut rows: Vec<RosterRow> = Vec::new();
    let mut cross = CrossCheck::default();
    for spec in &specs {
        for mut r in compound_rows(spec) {
            r.row = rows.len() + 2;
            if let Some(e) = cross.check(&r).first() {
                anyhow::bail!("demo roster is inconsistent: {e}");
            }
            rows.push(r);
        }
    }
    let total_rows = rows.len();
    let report = import::import_roster(db, ACTOR, rows.clone(), false, Arc::new(|_| {})).await?;
    tracing::debug!(
        ms = started.elapsed().as_millis() as u64,
        parts = report.parts_created,
        "demo: roster imported"
    );
    anyhow::ensure!(
        report.parts_created == total_rows,
        "demo: expected {total_rows} new parts, the import created {}",
        report.parts_created
    );

    // 3. Read the register back: ids of buildings, parts and owners.
    let mut by_compound: HashMap<&str, Vec<RosterRow>> = HashMap::new();
    for r in rows {
        let code = specs
            .iter()
            .find(|s| s.name == r.compound && s.community == r.community)
            .map(|s| s.code)
            .unwrap_or_default();
        by_compound.entry(code).or_default().push(r);
    }
    let mut compounds = Vec::new();
    let mut streets: Vec<Place> = Vec::new();
    let mut communities: Vec<(Place, Place)> = Vec::new();
    for (i, spec) in specs.iter().enumerate() {
        let place = register::place_by_code(db, spec.code).await?;
        let street = places[&place_key(&[spec.district, spec.street])].clone();
        let community = places[&place_key(&[spec.district, spec.street, spec.community])].clone();
        if !streets.iter().any(|s| s.id == street.id) {
            streets.push(street.clone());
        }
        if !communities.iter().any(|(c, _)| c.id == community.id) {
            communities.push((community.clone(), street.clone()));
        }
        let mut buildings = Vec::new();
        for child in register::children(db, Some(&place)).await? {
            if child.name != GARAGE {
                buildings.push(register::get_place(db, &child.id).await?);
            }
        }
        let views = register::parts_under(db, &place, &PartFilter::All, true, 5000, 0).await?;
        let mut ids: HashMap<(String, String, String), (String, String)> = HashMap::new();
        for v in views {
            let owner = v.owner.map(|o| o.id).unwrap_or_default();
            ids.insert(
                (v.building, v.unit.unwrap_or_default(), v.number),
                (v.id, owner),
            );
        }
        let (mut flats, mut shops, mut parking) = (Vec::new(), Vec::new(), Vec::new());
        for r in by_compound.remove(spec.code).unwrap_or_default() {
            let (id, owner_id) = ids
                .get(&(r.building.clone(), r.unit.clone(), r.number.clone()))
                .cloned()
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "demo: part {} {} {} {} was not imported",
                        spec.name,
                        r.building,
                        r.unit,
                        r.number
                    )
                })?;
            let lp = LoadedPart {
                id,
                owner_id,
                row: r,
            };
            match lp.row.kind {
                PartKind::Flat => flats.push(lp),
                PartKind::Shop => shops.push(lp),
                PartKind::Parking => parking.push(lp),
            }
        }
        compounds.push(LoadedCompound {
            spec: i,
            place,
            community,
            street,
            buildings,
            flats,
            shops,
            parking,
        });
    }
    let world = Arc::new(World {
        specs,
        compounds,
        streets,
        communities,
    });
    tracing::debug!(
        ms = started.elapsed().as_millis() as u64,
        "demo: register read back"
    );

    // 4. People, residents, grids, organisations and logins: one transaction.
    let w = world.clone();
    let built = db
        .write(move |tx| {
            let w = w.clone();
            let hash = hash.clone();
            Box::pin(async move { populate(tx, &w, &hash).await })
        })
        .await?;
    tracing::debug!(
        ms = started.elapsed().as_millis() as u64,
        "demo: people, grids, organisations and logins written"
    );

    let mut text = summary(&world, &built, started.elapsed());
    text.push_str(&crate::demo_books::load(db).await?);
    // Votes (issue 4): separate file, same store functions as the API.
    text.push_str(&crate::demo_votes::load(db).await?);
    // Party members at home (issue 12): separate file, the CLI's and API's commands.
    text.push_str(&crate::demo_party::load(db, DEMO_PASSWORD).await?);
    // Points and the points store (issue 13).
    text.push_str(&crate::demo_points::load(db, DEMO_PASSWORD).await?);
    Ok(text)
}

/// Creates districts, streets, communities and compounds (with their codes).
async fn create_tops(
    tx: &mut Tx,
    tops: &[[&'static str; 5]],
) -> Result<BTreeMap<String, Place>, StoreError> {
    let mut made: BTreeMap<String, Place> = BTreeMap::new();
    for t in tops {
        let kinds = [
            PlaceKind::District,
            PlaceKind::Street,
            PlaceKind::Community,
            PlaceKind::Compound,
        ];
        for depth in 0..4 {
            let key = place_key(&t[..=depth]);
            if made.contains_key(&key) {
                continue;
            }
            let parent = (depth > 0).then(|| made[&place_key(&t[..depth])].clone());
            let code = (depth == 3).then_some(t[4]);
            let p =
                register::create_place(tx, ACTOR, parent.as_ref(), kinds[depth], t[depth], code)
                    .await?;
            made.insert(key, p);
        }
    }
    Ok(made)
}

/// Picks residents among the owners of a compound's flats, each flat once.
struct Picker {
    used: HashSet<usize>,
}

impl Picker {
    /// A flat owned by one person (not co-owners, not the developer), in
    /// `building` when given, not picked before.
    fn take(&mut self, c: &LoadedCompound, building: Option<&str>, rng: &mut Lcg) -> Option<usize> {
        let n = c.flats.len();
        if n == 0 {
            return None;
        }
        let start = rng.below(n as u64) as usize;
        (0..n)
            .map(|k| (start + k) % n)
            .find(|&i| {
                let f = &c.flats[i].row;
                !self.used.contains(&i)
                    && f.owner_kind == OwnerKind::Person
                    && (building.is_none() || building == Some(f.building.as_str()))
            })
            .inspect(|&i| {
                self.used.insert(i);
            })
    }
}

struct Pop<'a> {
    tx: &'a mut Tx,
    rng: Lcg,
    built: Built,
}

impl Pop<'_> {
    async fn person(
        &mut self,
        name: &str,
        phone: Option<&str>,
        home: &Place,
        consent: bool,
    ) -> Result<String, StoreError> {
        self.built.people += 1;
        let v = register::create_person(
            self.tx,
            ACTOR,
            NewPerson {
                name,
                phone,
                id_number: None,
                home,
                consent_publish_name: consent,
            },
        )
        .await?;
        Ok(v.id)
    }

    /// A new person with a generated name and mobile.
    async fn new_person(&mut self, home: &Place, consent: bool) -> Result<String, StoreError> {
        let name = gen_name(&mut self.rng);
        let phone = gen_mobile(&mut self.rng);
        self.person(&name, Some(&phone), home, consent).await
    }

    /// The owner of a flat, as a person living there.
    async fn owner_resident(
        &mut self,
        c: &LoadedCompound,
        flat: usize,
        consent: bool,
    ) -> Result<String, StoreError> {
        let f = &c.flats[flat];
        let phone = (!f.row.phone.is_empty()).then_some(f.row.phone.as_str());
        let pid = self
            .person(&f.row.owner_name, phone, &c.place, consent)
            .await?;
        self.resident(&pid, &f.id, ResidentRelation::Owner).await?;
        Ok(pid)
    }

    /// Picks an owner-occupied flat (in `building` if given) and makes its owner a person.
    async fn pick_owner(
        &mut self,
        c: &LoadedCompound,
        picker: &mut Picker,
        building: Option<&str>,
        consent: bool,
    ) -> Result<String, StoreError> {
        let i = picker
            .take(c, building, &mut self.rng)
            .or_else(|| picker.take(c, None, &mut self.rng))
            .ok_or_else(|| err(format!("no owner-occupied flat left in {}", c.place.name)))?;
        self.owner_resident(c, i, consent).await
    }

    async fn resident(
        &mut self,
        person: &str,
        part: &str,
        rel: ResidentRelation,
    ) -> Result<(), StoreError> {
        self.built.residents += 1;
        register::add_resident(self.tx, ACTOR, person, part, rel).await?;
        Ok(())
    }

    async fn org(
        &mut self,
        kind: OrgKind,
        name: &str,
        place: &Place,
        parent: Option<&str>,
        spans: &[Place],
    ) -> Result<String, StoreError> {
        self.built.organisations += 1;
        register::create_org(self.tx, ACTOR, kind, name, place, parent, spans).await
    }

    async fn member(
        &mut self,
        org: &str,
        person: &str,
        role: MemberRole,
        term: (i64, Option<i64>),
    ) -> Result<(), StoreError> {
        self.built.memberships += 1;
        register::add_member(self.tx, ACTOR, org, person, role, None, None, term).await?;
        Ok(())
    }

    async fn team_member(
        &mut self,
        org: &str,
        person: &str,
        role: MemberRole,
        t: FiveMemberType,
        building: Option<&str>,
        term: (i64, Option<i64>),
    ) -> Result<(), StoreError> {
        self.built.memberships += 1;
        register::add_member(self.tx, ACTOR, org, person, role, Some(t), building, term).await?;
        Ok(())
    }

    async fn grid(
        &mut self,
        kind: GridKind,
        name: &str,
        place: &Place,
        parent: Option<&str>,
        worker: Option<&str>,
    ) -> Result<String, StoreError> {
        self.built.grids += 1;
        register::create_grid(self.tx, ACTOR, kind, name, place, parent, worker).await
    }
}

/// Officers of a community, reused across its compounds.
struct CommunityOfficers {
    party_committee: String,
    deputy: String,
    /// A committee member (社区两委成员): supervisor 监察人 / vice convener.
    member: String,
    grid: String,
}

/// A micro-grid to be: flats (indices into the compound's flats) over a place.
struct GridPlan {
    name: String,
    place: Place,
    flats: Vec<usize>,
}

/// Micro-grids of 30–100 households along building lines: a building of 30–100
/// flats is one grid; a larger one is split by unit (or evenly); small
/// neighbouring buildings are joined in a grid over the compound.
fn plan_micro_grids(c: &LoadedCompound) -> Result<Vec<GridPlan>, StoreError> {
    use gongzhi_domain::place::{
        MICRO_GRID_MAX_HOUSEHOLDS as MAX, MICRO_GRID_MIN_HOUSEHOLDS as MIN,
    };
    let mut plans: Vec<GridPlan> = Vec::new();
    let mut pending: (Vec<String>, Vec<usize>) = (Vec::new(), Vec::new());
    for b in &c.buildings {
        let flats: Vec<usize> = (0..c.flats.len())
            .filter(|&i| c.flats[i].row.building == b.name)
            .collect();
        let n = flats.len();
        if n == 0 {
            continue;
        }
        if n < MIN || !pending.1.is_empty() {
            pending.0.push(b.name.clone());
            pending.1.extend(flats);
            if pending.1.len() >= MIN {
                if pending.1.len() > MAX {
                    return Err(err(format!(
                        "buildings {:?} of {} do not make a micro-grid",
                        pending.0, c.place.name
                    )));
                }
                let (names, fl) = std::mem::take(&mut pending);
                let place = if names.len() == 1 {
                    b.clone()
                } else {
                    c.place.clone()
                };
                plans.push(GridPlan {
                    name: format!("{}微网格", names.join("、")),
                    place,
                    flats: fl,
                });
            }
            continue;
        }
        if n <= MAX {
            plans.push(GridPlan {
                name: format!("{}微网格", b.name),
                place: b.clone(),
                flats,
            });
            continue;
        }
        let mut units: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for &i in &flats {
            units
                .entry(c.flats[i].row.unit.clone())
                .or_default()
                .push(i);
        }
        if units.values().all(|u| (MIN..=MAX).contains(&u.len())) {
            for (u, fl) in units {
                plans.push(GridPlan {
                    name: format!("{}{}微网格", b.name, u),
                    place: b.clone(),
                    flats: fl,
                });
            }
        } else {
            let k = n.div_ceil(MAX);
            for j in 0..k {
                let fl = flats[j * n / k..(j + 1) * n / k].to_vec();
                plans.push(GridPlan {
                    name: format!("{}微网格{}", b.name, j + 1),
                    place: b.clone(),
                    flats: fl,
                });
            }
        }
    }
    if !pending.1.is_empty() {
        // Leftover small buildings join the last grid when it is over the compound and has room.
        match plans.last_mut() {
            Some(last)
                if last.place.id == c.place.id && last.flats.len() + pending.1.len() <= MAX =>
            {
                last.name = format!(
                    "{}、{}",
                    last.name.trim_end_matches("微网格"),
                    pending.0.join("、")
                ) + "微网格";
                last.flats.extend(pending.1);
            }
            _ => {
                return Err(err(format!(
                    "buildings {:?} of {} are too small for a micro-grid",
                    pending.0, c.place.name
                )))
            }
        }
    }
    Ok(plans)
}

async fn populate(tx: &mut Tx, w: &World, hash: &str) -> Result<Built, StoreError> {
    let mut p = Pop {
        tx,
        rng: Lcg::new(2025),
        built: Built::default(),
    };

    // Terms (Beijing dates).
    let street_term = (day_ms(2021, 9, 1), None);
    let community_term = (day_ms(2021, 10, 1), Some(day_ms(2026, 10, 1)));

    // Streets: the party working committee (Bishan's first level).
    let mut street_orgs: HashMap<String, (String, String)> = HashMap::new();
    for s in &w.streets {
        let org = p
            .org(
                OrgKind::StreetPartyCommittee,
                &street_committee_name(&s.name),
                s,
                None,
                &[],
            )
            .await?;
        let secretary = p.new_person(s, true).await?;
        let member = p.new_person(s, false).await?;
        p.member(&org, &secretary, MemberRole::Secretary, street_term)
            .await?;
        p.member(&org, &member, MemberRole::Member, street_term)
            .await?;
        street_orgs.insert(s.id.clone(), (org, member));
    }

    // Communities: party committee, residents' committee, mediation committee,
    // partner units and the community grid (the secretary is its worker).
    let mut officers: HashMap<String, CommunityOfficers> = HashMap::new();
    for (c, street) in &w.communities {
        let parent = street_orgs[&street.id].0.clone();
        let party = p
            .org(
                OrgKind::CommunityPartyCommittee,
                &community_committee_name(&c.name),
                c,
                Some(&parent),
                &[],
            )
            .await?;
        let secretary = p.new_person(c, true).await?;
        let deputy = p.new_person(c, false).await?;
        let member = p.new_person(c, false).await?;
        p.member(&party, &secretary, MemberRole::Secretary, community_term)
            .await?;
        p.member(&party, &deputy, MemberRole::DeputySecretary, community_term)
            .await?;
        p.member(&party, &member, MemberRole::Member, community_term)
            .await?;
        let rc = p
            .org(
                OrgKind::ResidentsCommittee,
                &format!("{}居民委员会", c.name),
                c,
                None,
                &[],
            )
            .await?;
        p.member(&rc, &secretary, MemberRole::Chair, community_term)
            .await?; // 一肩挑
        p.member(&rc, &member, MemberRole::Member, community_term)
            .await?;
        let med = p
            .org(
                OrgKind::MediationCommittee,
                &format!("{}人民调解委员会", c.name),
                c,
                None,
                &[],
            )
            .await?;
        let med_chair = p.new_person(c, false).await?;
        let mediator = p.new_person(c, false).await?;
        p.member(&med, &med_chair, MemberRole::Chair, community_term)
            .await?;
        p.member(&med, &mediator, MemberRole::Mediator, community_term)
            .await?;
        p.member(&med, &deputy, MemberRole::Mediator, community_term)
            .await?;
        for unit in partner_units(&c.name) {
            let org = p.org(OrgKind::PartnerUnit, unit, c, None, &[]).await?;
            let contact = p.new_person(c, false).await?;
            p.member(
                &org,
                &contact,
                MemberRole::Staff,
                (day_ms(2024, 3, 1), None),
            )
            .await?;
        }
        let grid = p
            .grid(
                GridKind::Community,
                &format!("{}网格", c.name),
                c,
                None,
                Some(&secretary),
            )
            .await?;
        officers.insert(
            c.id.clone(),
            CommunityOfficers {
                party_committee: party,
                deputy,
                member,
                grid,
            },
        );
    }

    // Compounds.
    let mut joint_branches: HashMap<&str, String> = HashMap::new();
    let mut demo_ids: HashMap<&'static str, String> = HashMap::new();
    for c in &w.compounds {
        let spec = &w.specs[c.spec];
        let off = &officers[&c.community.id];
        let orgs_before = p.built.organisations;
        let mut picker = Picker {
            used: HashSet::new(),
        };
        let branch_term = match spec.district {
            "璧山区" => (day_ms(2024, 1, 15), Some(day_ms(2029, 1, 15))),
            "平利县" => (day_ms(2023, 4, 1), Some(day_ms(2028, 4, 1))), // 金缘上城网格党支部: April 2023 (report)
            _ => (day_ms(2023, 6, 1), Some(day_ms(2028, 6, 1))),
        };
        let committee_term = (day_ms(2022, 6, 18), Some(day_ms(2027, 6, 18))); // at most 5 years
        let pmc_term = (day_ms(2024, 7, 1), Some(day_ms(2026, 7, 1)));

        // Jingcheng Mingdian's demo owner (flat + the 72 m² shop) lives in their flat.
        if let Some((b, u, n)) = spec.first_shop_owner_flat {
            let i = c
                .flats
                .iter()
                .position(|f| {
                    f.row.building == building_name(b)
                        && f.row.unit == unit_name(u)
                        && f.row.number == n.to_string()
                })
                .ok_or_else(|| err("the demo owner's flat is missing"))?;
            picker.used.insert(i);
            let pid = p.owner_resident(c, i, false).await?;
            demo_ids.insert("owner_person", pid);
            demo_ids.insert("owner_id", c.flats[i].owner_id.clone());
            demo_ids.insert(
                "owner_flat",
                format!(
                    "{}{}{}",
                    c.flats[i].row.building, c.flats[i].row.unit, c.flats[i].row.number
                ),
            );
        }

        // Grids: compound grid (a professional grid worker) and micro-grids, each
        // with a worker who lives in it (在地党员、楼栋长、热心业主).
        let compound_worker = p.new_person(&c.place, false).await?;
        let cgrid = p
            .grid(
                GridKind::Compound,
                &format!("{}网格", c.place.name),
                &c.place,
                Some(&off.grid),
                Some(&compound_worker),
            )
            .await?;
        let plans = plan_micro_grids(c)?;
        let mut micro_workers: Vec<(String, String, String)> = Vec::new(); // (grid id, name, worker)
        for plan in &plans {
            let start = p.rng.below(plan.flats.len() as u64) as usize;
            let idx = plan
                .flats
                .iter()
                .copied()
                .cycle()
                .skip(start)
                .take(plan.flats.len())
                .find(|&i| {
                    !picker.used.contains(&i) && c.flats[i].row.owner_kind == OwnerKind::Person
                });
            let worker = match idx {
                Some(i) => {
                    picker.used.insert(i);
                    p.owner_resident(c, i, false).await?
                }
                None => p.new_person(&c.place, false).await?,
            };
            let gid = p
                .grid(
                    GridKind::Micro,
                    &plan.name,
                    &plan.place,
                    Some(&cgrid),
                    Some(&worker),
                )
                .await?;
            let ids: Vec<String> = plan.flats.iter().map(|&i| c.flats[i].id.clone()).collect();
            if let Some(warning) = register::assign_parts(p.tx, ACTOR, &gid, &ids).await? {
                return Err(err(format!("{} {}: {warning}", c.place.name, plan.name)));
            }
            micro_workers.push((gid, plan.name.clone(), worker));
        }

        // Party: compound branch (or joint branch) and building party groups.
        let branch_id = match spec.branch {
            Branch::Own(name) => {
                p.org(
                    OrgKind::CompoundBranch,
                    name,
                    &c.place,
                    Some(&off.party_committee),
                    &[],
                )
                .await?
            }
            Branch::Joint(name, other) => {
                let other_place = w
                    .compounds
                    .iter()
                    .find(|x| w.specs[x.spec].code == other)
                    .map(|x| x.place.clone())
                    .ok_or_else(|| err(format!("no compound {other}")))?;
                let id = p
                    .org(
                        OrgKind::CompoundBranch,
                        name,
                        &c.place,
                        Some(&off.party_committee),
                        &[other_place],
                    )
                    .await?;
                joint_branches.insert(spec.code, id.clone());
                id
            }
            Branch::InJoint(anchor) => joint_branches
                .get(anchor)
                .cloned()
                .ok_or_else(|| err(format!("joint branch of {anchor} not created yet")))?,
        };
        let mut branch_secretary = None;
        if !matches!(spec.branch, Branch::InJoint(_)) {
            let secretary = p.pick_owner(c, &mut picker, None, true).await?;
            p.member(&branch_id, &secretary, MemberRole::Secretary, branch_term)
                .await?;
            // 人社局家属院: 7 members, 2 retired and 5 in-service (report).
            let others = if spec.code == "renshe-jiashuyuan" {
                6
            } else {
                3
            };
            for k in 0..others {
                let m = p.pick_owner(c, &mut picker, None, false).await?;
                p.member(
                    &branch_id,
                    &m,
                    if k == 0 {
                        MemberRole::DeputySecretary
                    } else {
                        MemberRole::Member
                    },
                    branch_term,
                )
                .await?;
            }
            branch_secretary = Some(secretary);
        }
        let mut group_leaders: HashMap<String, String> = HashMap::new();
        for (bi, b) in c.buildings.iter().enumerate() {
            let group = p
                .org(
                    OrgKind::BuildingPartyGroup,
                    &format!("{}{}党小组", c.place.name, b.name),
                    b,
                    Some(&branch_id),
                    &[],
                )
                .await?;
            let leader = p.pick_owner(c, &mut picker, Some(&b.name), false).await?;
            p.member(&group, &leader, MemberRole::Chair, branch_term)
                .await?;
            // 东方新天地: 146 in-service members (leaders included) grouped by
            // building into 5 groups (report 000).
            let members = if spec.code == "dongfang-xintiandi" {
                let rest = 146 - c.buildings.len();
                rest / c.buildings.len() + usize::from(bi < rest % c.buildings.len())
            } else {
                1
            };
            for _ in 0..members {
                let m = p.pick_owner(c, &mut picker, Some(&b.name), false).await?;
                p.member(&group, &m, MemberRole::Member, branch_term)
                    .await?;
            }
            group_leaders.insert(b.id.clone(), leader);
        }

        // Owners' committee (or property management committee).
        let (body_kind, body_name, size, term) = match spec.body {
            Body::Committee(n) => (
                OrgKind::OwnersCommittee,
                format!("{}业主委员会", c.place.name),
                n,
                committee_term,
            ),
            Body::Pmc(n) => (
                OrgKind::PropertyManagementCommittee,
                format!("{}物业管理委员会", c.place.name),
                n,
                pmc_term,
            ),
        };
        let body = p.org(body_kind, &body_name, &c.place, None, &[]).await?;
        let chair = match (spec.body, spec.cross_appointed, &branch_secretary) {
            (Body::Committee(_), true, Some(s)) => s.clone(), // 党支部书记兼业委会主任
            (Body::Pmc(_), _, _) => off.member.clone(), // a community-committee member chairs the 物管会
            _ => p.pick_owner(c, &mut picker, None, true).await?,
        };
        p.member(&body, &chair, MemberRole::Chair, term).await?;
        let mut body_members = vec![chair.clone()];
        for k in 1..size {
            let m = p.pick_owner(c, &mut picker, None, false).await?;
            p.member(
                &body,
                &m,
                if k == 1 {
                    MemberRole::ViceChair
                } else {
                    MemberRole::Member
                },
                term,
            )
            .await?;
            body_members.push(m);
        }

        // The steward: the property-service company, its manager and staff.
        let steward = p
            .org(OrgKind::Steward, spec.steward, &c.place, None, &[])
            .await?;
        let manager = p.new_person(&c.place, true).await?;
        p.member(
            &steward,
            &manager,
            MemberRole::Manager,
            (day_ms(2023, 1, 1), Some(day_ms(2025, 12, 31))),
        )
        .await?;
        let mut staff = Vec::new();
        for _ in 0..2 {
            let s = p.new_person(&c.place, false).await?;
            p.member(&steward, &s, MemberRole::Staff, (day_ms(2023, 1, 1), None))
                .await?;
            staff.push(s);
        }

        // The supervision group: the community-committee member as 监察人,
        // a committee member and residents.
        let sup_name = if spec.code == "qianshan-meilin" {
            format!("{}电梯改造监督小组", c.place.name)
        } else {
            format!("{}监督小组", c.place.name)
        };
        let sup = p
            .org(OrgKind::SupervisionGroup, &sup_name, &c.place, None, &[])
            .await?;
        let sup_term = (committee_term.0, None);
        p.member(&sup, &off.member, MemberRole::Supervisor, sup_term)
            .await?;
        p.member(
            &sup,
            &body_members[body_members.len() - 1],
            MemberRole::Supervisor,
            sup_term,
        )
        .await?;
        // Qianshan Meilin: former opponents from building 6 joined the group (report).
        let from = if spec.code == "qianshan-meilin" {
            Some("6栋")
        } else {
            None
        };
        for _ in 0..2 {
            let r = p.pick_owner(c, &mut picker, from, false).await?;
            p.member(&sup, &r, MemberRole::Supervisor, sup_term).await?;
        }

        // Qianshan Meilin's five-member co-governance team (report 000).
        if spec.code == "qianshan-meilin" {
            let team_term = (day_ms(2025, 7, 14), None); // the first mobilisation meeting
            let team = p
                .org(
                    OrgKind::CoGovernanceTeam,
                    "千山美林“五员共治”班子",
                    &c.place,
                    None,
                    &[],
                )
                .await?;
            use FiveMemberType::*;
            // Chief convener: an in-service party member (a district bureau's
            // party committee member) living in the compound.
            let chief = p.pick_owner(c, &mut picker, None, true).await?;
            p.team_member(
                &team,
                &chief,
                MemberRole::ChiefConvener,
                InServicePartyMember,
                None,
                team_term,
            )
            .await?;
            p.team_member(
                &team,
                &manager,
                MemberRole::ViceConvener,
                PropertyStaff,
                None,
                team_term,
            )
            .await?;
            p.team_member(
                &team,
                &off.member,
                MemberRole::ViceConvener,
                CommunityCommitteeMember,
                None,
                team_term,
            )
            .await?;
            p.team_member(
                &team,
                &chair,
                MemberRole::ViceConvener,
                OwnersCommitteeMember,
                None,
                team_term,
            )
            .await?;
            p.team_member(
                &team,
                &compound_worker,
                MemberRole::Member,
                GridWorker,
                None,
                team_term,
            )
            .await?;
            p.team_member(
                &team,
                &body_members[1],
                MemberRole::Member,
                OwnersCommitteeMember,
                None,
                team_term,
            )
            .await?;
            p.team_member(
                &team,
                &staff[0],
                MemberRole::Member,
                PropertyStaff,
                None,
                team_term,
            )
            .await?;
            let member = p.pick_owner(c, &mut picker, None, false).await?;
            p.team_member(
                &team,
                &member,
                MemberRole::Member,
                InServicePartyMember,
                None,
                team_term,
            )
            .await?;
            // A building convener per building: the building's party-group leader
            // (in-service members), building 3's micro-grid worker.
            for b in &c.buildings {
                let (person, t) = match micro_workers
                    .iter()
                    .find(|(_, n, _)| *n == format!("{}微网格", b.name))
                {
                    Some((_, _, wk)) if b.name == "3栋" => (wk.clone(), GridWorker),
                    _ => (group_leaders[&b.id].clone(), InServicePartyMember),
                };
                p.team_member(
                    &team,
                    &person,
                    MemberRole::BuildingConvener,
                    t,
                    Some(&b.id),
                    team_term,
                )
                .await?;
            }
        }

        // Qiushi Xuefu: police officers living there run a police mediation
        // room with the branch and the committee (report 003); anchored on the
        // community like every mediation body.
        if spec.code == "qiushi-xuefu" {
            let room = p
                .org(
                    OrgKind::MediationCommittee,
                    "秋实学府民警调解室",
                    &c.community,
                    None,
                    &[],
                )
                .await?;
            for k in 0..3 {
                let m = p.pick_owner(c, &mut picker, None, false).await?;
                p.member(
                    &room,
                    &m,
                    if k == 0 {
                        MemberRole::Chair
                    } else {
                        MemberRole::Mediator
                    },
                    (day_ms(2020, 5, 1), None),
                )
                .await?;
            }
        }

        // A few more residents: tenants and family members (no consent).
        for _ in 0..2 {
            if let Some(i) = picker.take(c, None, &mut p.rng) {
                let t = p.new_person(&c.place, false).await?;
                p.resident(&t, &c.flats[i].id, ResidentRelation::Tenant)
                    .await?;
            }
        }
        if let Some(i) = picker.take(c, None, &mut p.rng) {
            p.owner_resident(c, i, false).await?;
            let fam = p.new_person(&c.place, false).await?;
            p.resident(&fam, &c.flats[i].id, ResidentRelation::Family)
                .await?;
        }

        if spec.code == "jingcheng-mingdian" {
            let (gid, gname, gworker) = micro_workers
                .iter()
                .find(|(_, n, _)| n == "1栋微网格")
                .cloned()
                .ok_or_else(|| err("1栋微网格 missing"))?;
            demo_ids.insert("grid_id", gid);
            demo_ids.insert("grid_name", gname);
            demo_ids.insert("grid_worker", gworker);
            demo_ids.insert("committee", chair.clone());
            demo_ids.insert("steward", manager.clone());
            demo_ids.insert("supervisor", off.member.clone());
            demo_ids.insert("community_person", off.deputy.clone());
            demo_ids.insert("compound", c.place.id.clone());
            demo_ids.insert("community", c.community.id.clone());
        }
        if spec.code == "qianshan-meilin" {
            demo_ids.insert("street", c.street.id.clone());
            demo_ids.insert("street_person", street_orgs[&c.street.id].1.clone());
        }
        p.built.per_compound.insert(
            spec.code.to_string(),
            (plans.len(), p.built.organisations - orgs_before),
        );
    }

    // Logins.
    let id = |k: &str| {
        demo_ids
            .get(k)
            .cloned()
            .ok_or_else(|| err(format!("demo id {k} missing")))
    };
    // (login, its person, its grants: role, scope, micro-grid), by demo-id key.
    #[allow(clippy::type_complexity)]
    let logins: [(&str, Option<&str>, &[(Role, Option<&str>, Option<&str>)]); 8] = [
        ("admin", None, &[(Role::Admin, None, None)]),
        (
            "street",
            Some("street_person"),
            &[(Role::StreetAdmin, Some("street"), None)],
        ),
        (
            "community",
            Some("community_person"),
            &[(Role::CommunityStaff, Some("community"), None)],
        ),
        (
            "grid",
            Some("grid_worker"),
            &[(Role::GridWorker, Some("compound"), Some("grid_id"))],
        ),
        (
            "committee",
            Some("committee"),
            &[
                (Role::CommitteeMember, Some("compound"), None),
                (Role::BranchSecretary, Some("compound"), None),
            ],
        ),
        (
            "steward",
            Some("steward"),
            &[(Role::Steward, Some("compound"), None)],
        ),
        (
            "supervisor",
            Some("supervisor"),
            &[(Role::Supervisor, Some("compound"), None)],
        ),
        (
            "owner",
            Some("owner_person"),
            &[(Role::Owner, Some("compound"), None)],
        ),
    ];
    let mut owner = String::new();
    for (login, person, grants) in logins {
        let person = person.map(id).transpose()?;
        let user = auth::create_user(p.tx, ACTOR, login, hash, person.as_deref()).await?;
        for (role, scope, grid) in grants {
            let scope = scope.map(id).transpose()?;
            let grid = grid.map(id).transpose()?;
            auth::add_grant(p.tx, ACTOR, &user, *role, scope.as_deref(), grid.as_deref()).await?;
        }
        if login == "owner" {
            owner = user;
        }
    }
    auth::link_owner(p.tx, ACTOR, &owner, &id("owner_id")?).await?;

    let grid_name = id("grid_name")?;
    let owner_flat = id("owner_flat")?;
    p.built.logins = vec![
        ("admin".into(), "admin: everything, everywhere (register, changes, access, audit)".into()),
        ("street".into(), "street_admin of 綦江区文龙街道: all of 九龙社区 and 千山美林 (register, changes, access, audit)".into()),
        ("community".into(), "community_staff of 郫都区双柏社区: all of 精城名典 (register, changes, access, audit)".into()),
        ("grid".into(), format!("grid_worker in 精城名典: the compound's structure; owners and residents of micro-grid {grid_name} only")),
        ("committee".into(), "committee_member (and branch secretary) of 精城名典: register (masked) and audit trail, read-only".into()),
        ("steward".into(), "steward (property manager) of 精城名典: register (masked), read-only".into()),
        ("supervisor".into(), "supervisor (community-committee member, 监察人) of 精城名典: register (masked) and audit trail".into()),
        ("owner".into(), format!("owner in 精城名典: structure only (places, parts, areas); linked to the owner of flat {owner_flat} and the 72.00 m² shop S01")),
    ];
    Ok(p.built)
}

fn summary(w: &World, b: &Built, took: std::time::Duration) -> String {
    let mut s = String::new();
    let (mut flats, mut shops, mut parking) = (0, 0, 0);
    for c in &w.compounds {
        flats += c.flats.len();
        shops += c.shops.len();
        parking += c.parking.len();
    }
    let micro: usize = b.per_compound.values().map(|v| v.0).sum();
    let _ = writeln!(s, "Demo city from the five reports: {} compounds, {flats} households (flats), {shops} shops, {parking} parking spaces.", w.compounds.len());
    let _ = writeln!(
        s,
        "{} grids ({micro} micro-grids of 30–100 households), {} organisations, {} memberships, {} people, {} residents. Loaded in {:.1} s.",
        b.grids,
        b.organisations,
        b.memberships,
        b.people,
        b.residents,
        took.as_secs_f64()
    );
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "Compounds (code  name  place: flats / shops / parking, micro-grids):"
    );
    for c in &w.compounds {
        let spec = &w.specs[c.spec];
        let (m, _) = b.per_compound.get(spec.code).copied().unwrap_or_default();
        let _ = writeln!(
            s,
            "  {:<26}{}  {}{} {} {}: {} flats / {} shops / {} parking, {} micro-grids",
            spec.code,
            c.place.name,
            spec.city,
            spec.district,
            c.street.name,
            c.community.name,
            c.flats.len(),
            c.shops.len(),
            c.parking.len(),
            m
        );
        let _ = writeln!(s, "  {:<26}{}", "", spec.story);
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "Logins (password for all: {DEMO_PASSWORD}):");
    for (user, what) in &b.logins {
        let _ = writeln!(s, "  {user:<12}{what}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn household_counts_match_the_reports() {
        let specs = specs();
        let flats = |code: &str| {
            let s = specs.iter().find(|s| s.code == code).unwrap();
            compound_rows(s)
                .iter()
                .filter(|r| r.kind == PartKind::Flat)
                .count()
        };
        assert_eq!(flats("jingcheng-mingdian"), 606);
        assert_eq!(flats("jinyuan-shangcheng-a"), 539);
        assert_eq!(flats("renshe-jiashuyuan"), 116);
        let total: usize = specs.iter().map(|s| compound_rows(s).len()).sum();
        assert!(total < 5000, "{total} parts");
    }

    #[test]
    fn rows_are_valid_and_deterministic() {
        for s in specs() {
            let a = compound_rows(&s);
            assert_eq!(a, compound_rows(&s));
            let mut cc = CrossCheck::default();
            for r in &a {
                assert!(cc.check(r).is_empty(), "{}", s.code);
                assert!(
                    r.phone.is_empty() || gongzhi_domain::mask::valid_phone(&r.phone),
                    "{}",
                    r.phone
                );
                assert!(r.area.0 > 0);
            }
            let devs: HashSet<&str> = a
                .iter()
                .filter(|r| r.owner_kind == OwnerKind::Developer)
                .map(|r| r.owner_key.as_str())
                .collect();
            assert!(devs.len() <= 1, "one key per developer");
        }
    }

    #[test]
    fn dates() {
        assert_eq!(day_ms(1970, 1, 1), -8 * 3_600_000);
        assert_eq!(day_ms(2025, 7, 14), 1_752_422_400_000);
    }
}
