//! `gongzhi demo --load-only --data-dir DIR` end to end: the built binary loads
//! the demo city into a fresh SQLite file, prints the compounds and logins, and
//! refuses to load twice into the same directory. The database it leaves is
//! then checked against the reports (household counts, the 72 m² shop, grid
//! sizes, the five-member team, the joint branch) and against what the demo
//! says it built.

use gongzhi_store::register::{self, PartFilter, PartView, Place};
use gongzhi_store::{auth, Db};
use std::path::Path;
use std::process::Output;

/// (code, name) of every compound the demo builds.
const COMPOUNDS: [(&str, &str); 13] = [
    ("qianshan-meilin", "千山美林"),
    ("dongfang-xintiandi", "东方新天地"),
    ("yujing-huating", "御景华庭"),
    ("xiyuan", "西苑小区"),
    ("hengfu-huayuan", "恒富花园"),
    ("meidian-liu", "煤电六小区"),
    ("jingcheng-mingdian", "精城名典"),
    ("yunjin-chengshi-huayuan", "云锦城市花园"),
    ("qiushi-xuefu", "秋实学府"),
    ("renshe-jiashuyuan", "人社局家属院"),
    ("hongkang-haoyu", "宏康浩宇"),
    ("jinyuan-shangcheng-a", "金缘上城A区"),
    ("meijia-xingzuo", "美佳星座"),
];

const LOGINS: [&str; 8] = [
    "admin",
    "street",
    "community",
    "grid",
    "committee",
    "steward",
    "supervisor",
    "owner",
];

async fn demo(dir: &Path) -> Output {
    crate::cli::demo(dir).await
}

async fn compound(db: &Db, code: &str) -> Place {
    register::place_by_code(db, code)
        .await
        .unwrap_or_else(|e| panic!("compound {code}: {e}"))
}

async fn parts(db: &Db, place: &Place) -> Vec<PartView> {
    register::parts_under(db, place, &PartFilter::All, true, 5000, 0)
        .await
        .expect("parts")
}

fn of_kind<'a>(parts: &'a [PartView], kind: &str) -> Vec<&'a PartView> {
    parts.iter().filter(|p| p.kind == kind).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_loads_the_city_from_the_reports() {
    let dir = tempfile::tempdir().expect("temp dir");

    // The CLI: exit 0, and the summary names every compound code and login.
    let out = demo(dir.path()).await;
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    for (code, name) in COMPOUNDS {
        let line = stdout
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{code} ")))
            .unwrap_or_else(|| panic!("no line for {code} in:\n{stdout}"));
        assert!(
            line.contains(name),
            "{code} is listed without its name {name}: {line}"
        );
    }
    for login in LOGINS {
        assert!(
            stdout
                .lines()
                .any(|l| l.trim_start().starts_with(&format!("{login} "))),
            "login {login} missing from:\n{stdout}"
        );
    }
    assert!(
        stdout.contains("gongzhi-demo"),
        "the password is printed: {stdout}"
    );
    assert!(
        stdout.contains("606 flats") && stdout.contains("539 flats"),
        "{stdout}"
    );

    // A second load into the same directory is refused and changes nothing.
    let db_path = dir.path().join("gongzhi.db");
    let size_before = std::fs::metadata(&db_path)
        .expect("the database file exists")
        .len();
    let again = demo(dir.path()).await;
    assert_ne!(
        again.status.code(),
        Some(0),
        "a second demo load into the same dir must fail"
    );
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("already exists"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(std::fs::metadata(&db_path).unwrap().len(), size_before);

    let db = Db::connect(&format!("sqlite://{}", db_path.display()))
        .await
        .expect("open the demo database");

    // Every compound exists under its code and name, has a compound grid, and
    // every flat is in exactly one micro-grid of 30–100 households.
    let mut total_parts = 0;
    for (code, name) in COMPOUNDS {
        let c = compound(&db, code).await;
        assert_eq!(c.name, name);
        assert_eq!(c.kind, "compound");
        let ps = parts(&db, &c).await;
        total_parts += ps.len();
        let flats = of_kind(&ps, "flat");
        assert!(!flats.is_empty(), "{code} has flats");
        assert!(
            flats.iter().all(|f| f.grid_id.is_some()),
            "{code}: every flat is in a micro-grid"
        );
        assert!(
            ps.iter()
                .filter(|p| p.kind != "flat")
                .all(|p| p.grid_id.is_none()),
            "{code}: only flats count as households"
        );
        let grids = register::grids_of(&db, &c).await.expect("grids");
        let micro: Vec<_> = grids.iter().filter(|g| g.kind == "micro").collect();
        assert!(!micro.is_empty(), "{code} has micro-grids");
        for g in &micro {
            assert_eq!(
                g.warning, None,
                "{code} {}: {} households",
                g.name, g.households
            );
            assert!(
                (30..=100).contains(&g.households),
                "{code} {}: {}",
                g.name,
                g.households
            );
            assert!(g.worker.is_some(), "{code} {} has a grid worker", g.name);
        }
        let cg: Vec<_> = grids.iter().filter(|g| g.kind == "compound").collect();
        assert_eq!(cg.len(), 1, "{code}: one compound grid");
        assert_eq!(
            cg[0].households as usize,
            flats.len(),
            "{code}: the compound grid covers every flat"
        );
        assert!(micro
            .iter()
            .all(|g| g.parent_id.as_deref() == Some(cg[0].id.as_str())));
        // Ownership: areas are positive, owners present, phones masked.
        for p in &ps {
            let o = p
                .owner
                .as_ref()
                .expect("owners are shown with register access");
            assert!(
                o.phone.as_deref().into_iter().all(|ph| ph.contains("****")),
                "{code}: phone is masked: {ph:?}",
                ph = o.phone
            );
            assert_ne!(p.area_m2, "0.00");
        }
        let devs: std::collections::HashSet<&str> = ps
            .iter()
            .filter_map(|p| p.owner.as_ref())
            .filter(|o| o.kind == "developer")
            .map(|o| o.id.as_str())
            .collect();
        assert!(devs.len() <= 1, "{code}: one owner record per developer");
    }
    assert!(
        total_parts < 5000,
        "the demo stays small: {total_parts} parts"
    );

    // Chengdu (002): Jingcheng Mingdian's 606 households, all sold (no
    // developer flats), and the 72 m² shop whose owner also owns a flat.
    let jcmd = compound(&db, "jingcheng-mingdian").await;
    let ps = parts(&db, &jcmd).await;
    let flats = of_kind(&ps, "flat");
    assert_eq!(flats.len(), 606);
    assert!(flats
        .iter()
        .all(|f| f.owner.as_ref().unwrap().kind != "developer"));
    assert_eq!(of_kind(&ps, "shop").len(), 12);
    assert_eq!(of_kind(&ps, "parking").len(), 150);
    let shop = ps
        .iter()
        .find(|p| p.kind == "shop" && p.area_m2 == "72.00")
        .expect("the 72.00 m² shop");
    let shop_owner = register::get_owner(&db, &shop.owner.as_ref().unwrap().id)
        .await
        .unwrap();
    assert!(
        shop_owner.parts.iter().any(|p| p.kind == "flat"),
        "the shop owner also owns a flat"
    );
    let bases: std::collections::HashSet<&str> = ps.iter().map(|p| p.area_basis.as_str()).collect();
    assert!(
        bases.contains("registered") && bases.len() >= 2,
        "mostly registered, some surveyed/contract: {bases:?}"
    );
    let mut owners_with_parking = 0;
    for p in of_kind(&ps, "parking") {
        let o = p.owner.as_ref().unwrap();
        if o.kind == "person"
            && ps
                .iter()
                .any(|f| f.kind == "flat" && f.owner.as_ref().unwrap().id == o.id)
        {
            owners_with_parking += 1;
        }
    }
    assert!(
        owners_with_parking > 0,
        "some owners hold a flat and a parking space"
    );
    assert!(
        ps.iter()
            .any(|p| p.kind == "parking" && p.owner.as_ref().unwrap().kind == "developer"),
        "the developer holds unsold spaces"
    );

    // Pingli (004): Jinyuan Shangcheng A zone's 539 households; Bishan (003): 116.
    assert_eq!(
        of_kind(
            &parts(&db, &compound(&db, "jinyuan-shangcheng-a").await).await,
            "flat"
        )
        .len(),
        539
    );
    assert_eq!(
        of_kind(
            &parts(&db, &compound(&db, "renshe-jiashuyuan").await).await,
            "flat"
        )
        .len(),
        116
    );

    // Qijiang (000): buildings 2 and 6, and the five-member team.
    let qsml = compound(&db, "qianshan-meilin").await;
    let buildings: Vec<String> = register::children(&db, Some(&qsml))
        .await
        .unwrap()
        .into_iter()
        .filter(|b| b.name.ends_with('栋'))
        .map(|b| b.name)
        .collect();
    assert!(
        buildings.contains(&"2栋".to_string()) && buildings.contains(&"6栋".to_string()),
        "{buildings:?}"
    );
    let orgs = register::orgs_for(&db, &qsml).await.unwrap();
    let team = orgs
        .iter()
        .find(|o| o.kind == "co_governance_team")
        .expect("the five-member team");
    assert!(
        team.members.iter().all(|m| m.member_type.is_some()),
        "every team member has a five-member type"
    );
    assert_eq!(
        team.members
            .iter()
            .filter(|m| m.role == "chief_convener")
            .count(),
        1
    );
    assert!(
        team.members.iter().any(
            |m| m.role == "vice_convener" && m.member_type.as_deref() == Some("property_staff")
        ),
        "the property manager is a vice convener"
    );
    let conveners: std::collections::HashSet<&str> = team
        .members
        .iter()
        .filter(|m| m.role == "building_convener")
        .filter_map(|m| m.building_id.as_deref())
        .collect();
    assert_eq!(
        conveners.len(),
        buildings.len(),
        "a building convener per building"
    );
    let types: std::collections::HashSet<&str> = team
        .members
        .iter()
        .filter_map(|m| m.member_type.as_deref())
        .collect();
    assert_eq!(
        types.len(),
        5,
        "all five member types are represented: {types:?}"
    );
    for kind in [
        "compound_branch",
        "building_party_group",
        "owners_committee",
        "steward",
        "supervision_group",
        "community_party_committee",
        "street_party_committee",
        "mediation_committee",
        "partner_unit",
    ] {
        assert!(
            orgs.iter().any(|o| o.kind == kind),
            "Qianshan Meilin is served by a {kind}"
        );
    }

    // 146 in-service party members of Dongfang Xintiandi in 5 building groups.
    let dfx = compound(&db, "dongfang-xintiandi").await;
    let groups: Vec<_> = register::orgs_for(&db, &dfx)
        .await
        .unwrap()
        .into_iter()
        .filter(|o| o.kind == "building_party_group")
        .collect();
    assert_eq!(groups.len(), 5);
    assert_eq!(groups.iter().map(|g| g.members.len()).sum::<usize>(), 146);

    // Honggu (001): a joint branch spans the two trust pilots; 煤电六小区 has a
    // property management committee instead of an owners' committee.
    let xiyuan = compound(&db, "xiyuan").await;
    let hengfu = compound(&db, "hengfu-huayuan").await;
    let joint = register::orgs_for(&db, &hengfu)
        .await
        .unwrap()
        .into_iter()
        .find(|o| o.kind == "compound_branch")
        .expect("a branch serves Hengfu Huayuan");
    assert_eq!(joint.place_id, xiyuan.id);
    assert_eq!(joint.also_spans, vec![hengfu.id.clone()]);
    let md6 = register::orgs_for(&db, &compound(&db, "meidian-liu").await)
        .await
        .unwrap();
    assert!(md6
        .iter()
        .any(|o| o.kind == "property_management_committee"));
    assert!(!md6.iter().any(|o| o.kind == "owners_committee"));

    // Logins: each exists with the documented grants.
    for login in LOGINS {
        assert!(
            auth::find_user(&db, login).await.unwrap().is_some(),
            "user {login}"
        );
    }
    let admin = auth::find_user(&db, "admin").await.unwrap().unwrap();
    assert!(auth::verify_password(
        Some(&admin.password_hash),
        "gongzhi-demo"
    ));
    let grants = |name: &'static str| {
        let db = db.clone();
        async move {
            let id = auth::user_id_by_name(&db, name).await.unwrap();
            auth::grants_of(&db, &id).await.unwrap().1
        }
    };
    let a = grants("admin").await;
    assert!(a.iter().any(|g| g.role == "admin" && g.place_id.is_none()));
    let s = grants("street").await;
    assert!(s
        .iter()
        .any(|g| g.role == "street_admin" && g.place_kind.as_deref() == Some("street")));
    let c = grants("community").await;
    assert!(c
        .iter()
        .any(|g| g.role == "community_staff" && g.place_kind.as_deref() == Some("community")));
    let g = grants("grid").await;
    let gg = g
        .iter()
        .find(|g| g.role == "grid_worker")
        .expect("grid worker grant");
    assert_eq!(gg.place_id.as_deref(), Some(jcmd.id.as_str()));
    let micro = gg.grid_id.clone().expect("scoped to one micro-grid");
    let (_, kind) = register::grid_place(&db, &micro).await.unwrap();
    assert_eq!(kind, "micro");
    for (login, role) in [
        ("committee", "committee_member"),
        ("steward", "steward"),
        ("supervisor", "supervisor"),
        ("owner", "owner"),
    ] {
        let gs = grants(login).await;
        assert!(
            gs.iter()
                .any(|g| g.role == role && g.place_id.as_deref() == Some(jcmd.id.as_str())),
            "{login}: {role} over Jingcheng Mingdian"
        );
    }
    let owner_user = auth::user_id_by_name(&db, "owner").await.unwrap();
    assert_eq!(
        auth::owners_of_user(&db, &owner_user).await.unwrap(),
        vec![shop_owner.id.clone()],
        "the owner login is the 72 m² shop's owner"
    );
    db.close().await;
}
