//! The pages as a product, on SQLite and PostgreSQL: every role's menu holds
//! only links that role can use (and each answers 200), the home's tiles,
//! no page links a role to a page that refuses it, and browsers get error
//! pages in their language while /api/ keeps problem+json.

use gongzhi_domain::policy::Role;
use gongzhi_domain::roster::RosterRow;
use gongzhi_store::register;
use gongzhi_testkit::both;
use gongzhi_testkit::http::{browser, login_with};
use gongzhi_testkit::{At, Fresh, Grid, Kind, Parts, Rows, User};
use reqwest::StatusCode;

const HTML: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

struct World {
    _f: Fresh,
    base: String,
    compound: register::Place,
    owner_id: String,
}

fn roster() -> Vec<RosterRow> {
    let mut rows = Rows::new("成都市武侯区", "簇桥街道", "锦城社区");
    for i in 0..8 {
        rows.flat(
            "晶城名邸",
            &format!("{}", i % 2 + 1),
            &format!("{}", 101 + i),
            8950,
            &format!("o{i}"),
            &format!("业主{i}"),
            &format!("1390000{:04}", 1000 + i),
        );
    }
    rows.rows()
}

/// One compound; logins: owner (linked to an owner of record), gridw (a
/// micro-grid holding building 1's parts), community (staff of the
/// community), supervisor (of the compound).
async fn world(kind: Kind) -> World {
    let c = At::place("晶城名邸");
    let k = gongzhi_testkit::world(kind)
        .roster(roster())
        .grid(Grid::community("社区网格", "晶城名邸"))
        .grid(Grid::compound("A 网格", "晶城名邸", "社区网格"))
        .grid(Grid::micro(
            "A-1",
            "晶城名邸",
            "A 网格",
            Parts::Building("1".into()),
        ))
        .user(User::new("owner").role(Role::Owner, c.clone()).owner("o0"))
        .user(
            User::new("gridw")
                .role(Role::GridWorker, c.clone())
                .grid("A-1"),
        )
        .users(&[
            (
                "community",
                Role::CommunityStaff,
                At::community_of("晶城名邸"),
            ),
            ("supervisor", Role::Supervisor, c),
        ])
        .serve(gongzhi_web::Config::default())
        .await;
    let compound = k.place("晶城名邸");
    let owner_id = k.parts(&compound).await[0]
        .owner
        .as_ref()
        .unwrap()
        .id
        .clone();
    World {
        _f: k.f,
        base: k.base,
        compound,
        owner_id,
    }
}

async fn login(w: &World, user: &str) -> reqwest::Client {
    login_with(browser(), &w.base, user).await
}

/// A browser's GET: status, content type, body.
async fn browse(c: &reqwest::Client, url: String) -> (StatusCode, String, String) {
    let r = c.get(url).header("accept", HTML).send().await.unwrap();
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (r.status(), ct, r.text().await.unwrap())
}

/// The `data-key` → `href` of every menu entry of a page.
fn menu(html: &str) -> Vec<(String, String)> {
    let Some(nav) = html.split("<nav class=\"menu\"").nth(1) else {
        return vec![];
    };
    let nav = nav.split("</nav>").next().unwrap();
    nav.split("<a href=\"")
        .skip(1)
        .map(|a| {
            let href = a.split('"').next().unwrap().to_string();
            let key = a
                .split("data-key=\"")
                .nth(1)
                .and_then(|k| k.split('"').next())
                .unwrap()
                .to_string();
            (key, href)
        })
        .collect()
}

/// Every `href` of a page that starts with `prefix`.
fn links<'a>(html: &'a str, prefix: &str) -> Vec<&'a str> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .filter(|h| h.starts_with(prefix))
        .collect()
}

async fn menus_by_role(kind: Kind) {
    let w = world(kind).await;
    let code = w.compound.code.clone().unwrap();
    let expected: [(&str, &[&str]); 4] = [
        (
            "owner",
            &[
                "menu.home",
                "menu.household",
                "menu.books",
                "menu.votes",
                "menu.cases",
                "menu.notifications",
                "menu.report",
            ],
        ),
        (
            "gridw",
            &[
                "menu.home",
                "menu.queue",
                "menu.books",
                "menu.cases",
                "menu.notifications",
                "menu.report_for",
            ],
        ),
        (
            "community",
            &[
                "menu.home",
                "menu.queue",
                "menu.votes",
                "menu.matters",
                "menu.cases",
                "menu.notifications",
                "menu.party_branch",
                "menu.store",
                "menu.accounts",
                "menu.places",
            ],
        ),
        (
            "supervisor",
            &["menu.home", "menu.approvals", "menu.books", "menu.matters"],
        ),
    ];
    for (user, keys) in expected {
        let c = login(&w, user).await;
        let (s, ct, html) = browse(&c, format!("{}/", w.base)).await;
        assert_eq!(s, StatusCode::OK);
        assert!(ct.starts_with("text/html"), "{ct}");
        let m = menu(&html);
        let got: Vec<&str> = m.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(got, keys, "{user}'s menu");
        // Every entry answers 200 to that user, and every tile leads to one.
        for (key, href) in &m {
            let (s, _, _) = browse(&c, format!("{}{href}", w.base)).await;
            assert_eq!(s, StatusCode::OK, "{user}: {key} → {href}");
        }
        let tiles = html.split("id=\"summary\"").nth(1).unwrap_or("");
        let tiles = tiles.split("</div>").next().unwrap();
        for href in links(tiles, "/") {
            assert!(
                m.iter().any(|(_, h)| h == href),
                "{user}: tile {href} outside the menu"
            );
        }
    }
    // What the roles see on their home.
    let owner = login(&w, "owner").await;
    let (_, _, html) = browse(&owner, format!("{}/?lang=en", w.base)).await;
    assert!(html.contains(&format!("href=\"/owners/{}\"", w.owner_id)));
    assert!(html.contains("id=\"my-votes\""), "owner's open votes tile");
    assert!(html.contains("id=\"unread\""), "owner's notifications tile");
    assert!(html.contains("My household") && html.contains("Open votes"));
    assert!(html.contains("aria-current=\"page\""), "the home is marked");
    let sup = login(&w, "supervisor").await;
    let (_, _, html) = browse(&sup, format!("{}/", w.base)).await;
    assert!(html.contains(&format!("href=\"/compounds/{code}/books/queue\"")));
    assert!(html.contains("id=\"approvals\""), "approver's tile");
    assert!(!html.contains("id=\"cases-link\""), "{html}");
    // No menu for the logged out.
    let anon = reqwest::Client::new();
    let (_, _, html) = browse(&anon, format!("{}/login", w.base)).await;
    assert!(menu(&html).is_empty());
}

/// Pages link a role only to pages that answer it: a micro-grid worker's
/// place page named owners whose page answered 404 to them; /cases offered
/// staff without a compound grant the report form, which answered 403.
async fn no_link_refuses(kind: Kind) {
    let w = world(kind).await;
    let gridw = login(&w, "gridw").await;
    let (s, _, html) = browse(&gridw, format!("{}/places/{}", w.base, w.compound.id)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("业主0"), "the grid worker still sees names");
    for href in links(&html, "/owners/") {
        let (s, _, _) = browse(&gridw, format!("{}{href}", w.base)).await;
        assert_eq!(s, StatusCode::OK, "grid worker: {href}");
    }
    // Full register access still links the owner page.
    let staff = login(&w, "community").await;
    let (_, _, html) = browse(&staff, format!("{}/places/{}", w.base, w.compound.id)).await;
    let owners = links(&html, "/owners/");
    assert!(!owners.is_empty(), "staff see owner links");
    let (s, _, _) = browse(&staff, format!("{}{}", w.base, owners[0])).await;
    assert_eq!(s, StatusCode::OK);
    for user in ["community", "owner", "gridw"] {
        let c = login(&w, user).await;
        let (s, _, html) = browse(&c, format!("{}/cases", w.base)).await;
        assert_eq!(s, StatusCode::OK);
        for href in links(&html, "/cases/new") {
            let (s, _, _) = browse(&c, format!("{}{href}", w.base)).await;
            assert_eq!(s, StatusCode::OK, "{user}: {href}");
        }
    }
    let owner = login(&w, "owner").await;
    let (_, _, html) = browse(&owner, format!("{}/cases", w.base)).await;
    assert!(html.contains("id=\"report-link\""), "an owner may report");
}

/// Browsers get an error page in their language with a way back; the API
/// and non-browser clients keep problem+json.
async fn errors_as_pages(kind: Kind) {
    let w = world(kind).await;
    let owner = login(&w, "owner").await;
    // An unknown URL: a 404 page (axum's was empty).
    let (s, ct, html) = browse(&owner, format!("{}/no/such/page", w.base)).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(ct.starts_with("text/html"), "{ct}");
    assert!(html.contains("没有这个页面"), "{html}");
    assert!(html.contains("id=\"back-home\""));
    assert!(html.contains("data-key=\"menu.votes\""), "with the menu");
    let (_, _, html) = browse(&owner, format!("{}/no/such/page?lang=en", w.base)).await;
    assert!(html.contains("There is no such page"));
    let anon = reqwest::Client::new();
    let r = anon
        .get(format!("{}/nope", w.base))
        .header("accept", HTML)
        .header("accept-language", "zh-TW")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let html = r.text().await.unwrap();
    assert!(html.contains("沒有這個頁面"), "{html}");
    assert!(html.contains("href=\"/login\""), "a way to log in");
    assert!(!html.contains("id=\"logout\""), "no logout when logged out");
    // A page one may not use: 403 page (was problem+json).
    let code = w.compound.code.clone().unwrap();
    let queue = format!("{}/compounds/{code}/books/queue", w.base);
    let (s, ct, html) = browse(&owner, format!("{queue}?lang=en")).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(ct.starts_with("text/html"), "{ct}");
    assert!(html.contains("Not allowed here"), "{html}");
    assert!(html.contains("data-status=\"403\""));
    // An unknown compound's board: 404 page.
    let (s, ct, _) = browse(&owner, format!("{}/compounds/nope/books", w.base)).await;
    assert_eq!(
        (s, ct.starts_with("text/html")),
        (StatusCode::NOT_FOUND, true)
    );
    // The API, and clients that do not ask for HTML, keep problem+json.
    for url in [
        format!("{}/api/v1/nope", w.base),
        format!("{}/api/v1/places/nope", w.base),
    ] {
        let (s, ct, _) = browse(&owner, url).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        assert_eq!(ct, "application/problem+json");
    }
    let r = owner.get(queue).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        "application/problem+json"
    );
    // htmx keeps its fragments: no page swapped into a row.
    let r = owner
        .get(format!("{}/no/such/page", w.base))
        .header("accept", HTML)
        .header("hx-request", "true")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(!r.text().await.unwrap().contains("<html"));
}

both!(menus_by_role, no_link_refuses, errors_as_pages);
