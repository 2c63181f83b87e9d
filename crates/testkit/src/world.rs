//! One builder for the worlds the tests stand on: a roster (compounds,
//! buildings, parts, owners), places made by hand, grids with their parts,
//! organisations and users with roles — built on a fresh database of either
//! kind and, when asked, served over HTTP on a random port.
//!
//! ```ignore
//! let w = world(kind)
//!     .roster(rows)
//!     .grid(Grid::community("社区网格", "晶城名邸"))
//!     .grid(Grid::compound("A 网格", "晶城名邸", "社区网格"))
//!     .grid(Grid::micro("A-1", "晶城名邸", "A 网格", Parts::All))
//!     .user(User::new("admin").role(Role::Admin, At::Everywhere))
//!     .user(User::new("gridw").role(Role::GridWorker, At::place("晶城名邸")).grid("A-1"))
//!     .serve(gongzhi_web::Config::default())
//!     .await;
//! let a = w.place("晶城名邸");
//! let c = w.login("gridw").await;
//! ```

use crate::fresh::{fresh, Fresh, Kind};
use crate::http::{self, PW};
use gongzhi_domain::money::Area;
use gongzhi_domain::place::{AreaBasis, GridKind, OrgKind, OwnerKind, PartKind, PlaceKind};
use gongzhi_domain::policy::Role;
use gongzhi_domain::roster::RosterRow;
use gongzhi_store::register::{self, PartFilter, PartView, Place};
use gongzhi_store::{auth, import, Db};
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

/// The Argon2 hash of [`PW`], computed once per test binary.
pub fn pw_hash() -> String {
    static H: OnceLock<String> = OnceLock::new();
    H.get_or_init(|| auth::hash_password(PW).unwrap()).clone()
}

/// Roster rows of one district, street and community: flats (unit 1,
/// registered area, owners who are persons) added in order, each with its
/// CSV row number.
pub struct Rows {
    district: String,
    street: String,
    community: String,
    rows: Vec<RosterRow>,
}

impl Rows {
    pub fn new(district: &str, street: &str, community: &str) -> Self {
        Rows {
            district: district.into(),
            street: street.into(),
            community: community.into(),
            rows: Vec::new(),
        }
    }

    /// How many rows so far.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// A flat `number` in `building` (unit 1) of `compound`, of `area`
    /// hundredths of m², owned by the person `owner_name` (key `owner_key`).
    #[allow(clippy::too_many_arguments)]
    pub fn flat(
        &mut self,
        compound: &str,
        building: &str,
        number: &str,
        area: i64,
        owner_key: &str,
        owner_name: &str,
        phone: &str,
    ) -> &mut Self {
        let owner = (owner_key, owner_name, phone);
        self.part(compound, building, number, PartKind::Flat, area, owner)
    }

    /// A part of `kind` (a flat in unit 1, anything else in no unit); the
    /// owner is a person: (key, name, phone).
    pub fn part(
        &mut self,
        compound: &str,
        building: &str,
        number: &str,
        kind: PartKind,
        area: i64,
        (owner_key, owner_name, phone): (&str, &str, &str),
    ) -> &mut Self {
        self.rows.push(RosterRow {
            row: self.rows.len() + 2,
            district: self.district.clone(),
            street: self.street.clone(),
            community: self.community.clone(),
            compound: compound.into(),
            building: building.into(),
            unit: if kind == PartKind::Flat { "1" } else { "" }.into(),
            number: number.into(),
            kind,
            area: Area(area),
            area_basis: AreaBasis::Registered,
            owner_key: owner_key.into(),
            owner_name: owner_name.into(),
            owner_kind: OwnerKind::Person,
            phone: phone.into(),
        });
        self
    }

    pub fn rows(&self) -> Vec<RosterRow> {
        self.rows.clone()
    }
}

/// Where a grant, a grid or an organisation lies.
#[derive(Clone, Debug)]
pub enum At {
    /// No place: a grant over everything (an administrator).
    Everywhere,
    /// A compound of the roster, or a place made with
    /// [`WorldBuilder::place`], by name.
    Place(String),
    /// The community the named compound lies in.
    CommunityOf(String),
}

impl At {
    pub fn place(name: &str) -> At {
        At::Place(name.into())
    }
    pub fn community_of(compound: &str) -> At {
        At::CommunityOf(compound.into())
    }
}

/// Which of a compound's parts (in the register's order) go into a grid.
#[derive(Clone, Debug)]
pub enum Parts {
    None,
    All,
    /// The first n.
    First(usize),
    /// Those from index `.0` up to, not including, `.1`.
    Range(usize, usize),
    /// Those of the named building.
    Building(String),
}

/// A grid to make: kind, name, place, parent grid (by name) and parts.
#[derive(Clone, Debug)]
pub struct Grid {
    kind: GridKind,
    name: String,
    at: At,
    parent: Option<String>,
    parts: Parts,
}

impl Grid {
    /// A community grid over the community of `compound`.
    pub fn community(name: &str, compound: &str) -> Grid {
        Grid {
            kind: GridKind::Community,
            name: name.into(),
            at: At::community_of(compound),
            parent: None,
            parts: Parts::None,
        }
    }
    /// A compound grid under the grid named `parent`.
    pub fn compound(name: &str, compound: &str, parent: &str) -> Grid {
        Grid {
            kind: GridKind::Compound,
            name: name.into(),
            at: At::place(compound),
            parent: Some(parent.into()),
            parts: Parts::None,
        }
    }
    /// A micro-grid under the grid named `parent`, holding `parts` of the
    /// compound.
    pub fn micro(name: &str, compound: &str, parent: &str, parts: Parts) -> Grid {
        Grid {
            kind: GridKind::Micro,
            name: name.into(),
            at: At::place(compound),
            parent: Some(parent.into()),
            parts,
        }
    }
}

/// A user to make (password [`PW`]): grants, in order, and linked owners of
/// record (by owner key).
#[derive(Clone, Debug)]
pub struct User {
    name: String,
    grants: Vec<(Role, At, Option<String>)>,
    owners: Vec<String>,
}

impl User {
    pub fn new(name: &str) -> User {
        User {
            name: name.into(),
            grants: Vec::new(),
            owners: Vec::new(),
        }
    }
    /// A grant of `role` over `at`.
    pub fn role(mut self, role: Role, at: At) -> User {
        self.grants.push((role, at, None));
        self
    }
    /// Narrows the last grant to the grid named `grid`.
    pub fn grid(mut self, grid: &str) -> User {
        self.grants.last_mut().expect("a grant to narrow").2 = Some(grid.into());
        self
    }
    /// Links the owner of record with `owner_key`.
    pub fn owner(mut self, owner_key: &str) -> User {
        self.owners.push(owner_key.into());
        self
    }
}

#[derive(Clone, Debug)]
struct NewPlace {
    parent: Option<String>,
    kind: PlaceKind,
    name: String,
    code: Option<String>,
}

#[derive(Clone, Debug)]
struct Org {
    kind: OrgKind,
    name: String,
    at: At,
}

/// What [`world`] builds; see the module's documentation.
pub struct WorldBuilder {
    kind: Kind,
    rows: Vec<RosterRow>,
    places: Vec<NewPlace>,
    grids: Vec<Grid>,
    users: Vec<User>,
    orgs: Vec<Org>,
}

/// Starts a world on a fresh database of `kind`.
pub fn world(kind: Kind) -> WorldBuilder {
    WorldBuilder {
        kind,
        rows: Vec::new(),
        places: Vec::new(),
        grids: Vec::new(),
        users: Vec::new(),
        orgs: Vec::new(),
    }
}

/// A built world: the database, the server's address (empty unless
/// served), and what was made, by name.
pub struct World {
    pub f: Fresh,
    pub base: String,
    places: BTreeMap<String, Place>,
    grids: BTreeMap<String, String>,
    users: BTreeMap<String, String>,
    orgs: BTreeMap<String, String>,
    /// The size warning of each micro-grid's parts, by grid name.
    pub warnings: BTreeMap<String, Option<String>>,
}

#[derive(Default)]
struct Made {
    places: BTreeMap<String, Place>,
    grids: BTreeMap<String, String>,
    users: BTreeMap<String, String>,
    orgs: BTreeMap<String, String>,
    warnings: BTreeMap<String, Option<String>>,
}

impl WorldBuilder {
    /// Imports these roster rows first (one import, as the CLI does).
    pub fn roster(mut self, rows: Vec<RosterRow>) -> Self {
        self.rows = rows;
        self
    }
    /// A place made by hand under the place named `parent` (made before it).
    pub fn place(
        mut self,
        parent: Option<&str>,
        kind: PlaceKind,
        name: &str,
        code: Option<&str>,
    ) -> Self {
        self.places.push(NewPlace {
            parent: parent.map(str::to_string),
            kind,
            name: name.into(),
            code: code.map(str::to_string),
        });
        self
    }
    pub fn grid(mut self, g: Grid) -> Self {
        self.grids.push(g);
        self
    }
    pub fn user(mut self, u: User) -> Self {
        self.users.push(u);
        self
    }
    /// Users with one grant each: (name, role, place).
    pub fn users(mut self, list: &[(&str, Role, At)]) -> Self {
        for (name, role, at) in list {
            self.users.push(User::new(name).role(*role, at.clone()));
        }
        self
    }
    /// An organisation of `kind` at `at`.
    pub fn org(mut self, kind: OrgKind, name: &str, at: At) -> Self {
        self.orgs.push(Org {
            kind,
            name: name.into(),
            at,
        });
        self
    }

    /// Builds the world without a server.
    pub async fn build(self) -> World {
        let f = fresh(self.kind).await;
        if !self.rows.is_empty() {
            import::import_roster(&f.db, "test", self.rows.clone(), false, Arc::new(|_| {}))
                .await
                .unwrap();
        }
        let mut places = BTreeMap::new();
        for c in register::public_compounds(&f.db).await.unwrap() {
            let p = register::place_by_code(&f.db, &c.code).await.unwrap();
            places.insert(c.name, p);
        }
        let mut parts = BTreeMap::new();
        for g in &self.grids {
            if let (At::Place(c), false) = (&g.at, matches!(g.parts, Parts::None)) {
                let all = register::parts_under(&f.db, &places[c], &PartFilter::All, true, 1000, 0)
                    .await
                    .unwrap();
                parts.insert(g.name.clone(), select(&all, &g.parts));
            }
        }
        let owner_keys: Vec<String> = self.users.iter().flat_map(|u| u.owners.clone()).collect();
        let owners = owner_ids(&f.db, &owner_keys).await;
        let spec = Arc::new((self, places, parts, owners));
        let made =
            f.db.write(move |tx| {
                let spec = spec.clone();
                Box::pin(async move {
                    let (b, places, parts, owners) = &*spec;
                    let mut m = Made {
                        places: places.clone(),
                        ..Made::default()
                    };
                    for p in &b.places {
                        let parent = p.parent.as_ref().map(|n| m.places[n].clone());
                        let made = register::create_place(
                            tx,
                            "t",
                            parent.as_ref(),
                            p.kind,
                            &p.name,
                            p.code.as_deref(),
                        )
                        .await?;
                        m.places.insert(p.name.clone(), made);
                    }
                    for g in &b.grids {
                        let place = grid_place(&m.places, &g.at);
                        let parent = g.parent.as_ref().map(|n| m.grids[n].clone());
                        let id = register::create_grid(
                            tx,
                            "t",
                            g.kind,
                            &g.name,
                            &place,
                            parent.as_deref(),
                            None,
                        )
                        .await?;
                        if let Some(ps) = parts.get(&g.name) {
                            let warn = register::assign_parts(tx, "t", &id, ps).await?;
                            m.warnings.insert(g.name.clone(), warn);
                        }
                        m.grids.insert(g.name.clone(), id);
                    }
                    let h = pw_hash();
                    for u in &b.users {
                        let id = auth::create_user(tx, "t", &u.name, &h, None).await?;
                        for (role, at, grid) in &u.grants {
                            let place = place_id(&m.places, at);
                            let grid = grid.as_ref().map(|g| m.grids[g].clone());
                            auth::add_grant(tx, "t", &id, *role, place.as_deref(), grid.as_deref())
                                .await?;
                        }
                        for o in &u.owners {
                            auth::link_owner(tx, "t", &id, &owners[o]).await?;
                        }
                        m.users.insert(u.name.clone(), id);
                    }
                    for o in &b.orgs {
                        let place = grid_place(&m.places, &o.at);
                        let id = register::create_org(tx, "t", o.kind, &o.name, &place, None, &[])
                            .await?;
                        m.orgs.insert(o.name.clone(), id);
                    }
                    Ok(m)
                })
            })
            .await
            .unwrap();
        World {
            f,
            base: String::new(),
            places: made.places,
            grids: made.grids,
            users: made.users,
            orgs: made.orgs,
            warnings: made.warnings,
        }
    }

    /// Builds the world and serves it with `config` on a random port.
    pub async fn serve(self, config: gongzhi_web::Config) -> World {
        let mut w = self.build().await;
        w.base = serve(&w.f.db, config).await;
        w
    }
}

/// Serves `db` with `config` on a random port of 127.0.0.1; the base URL.
pub async fn serve(db: &Db, config: gongzhi_web::Config) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let db = db.clone();
    tokio::spawn(async move { gongzhi_web::serve_on(db, listener, config).await });
    base
}

fn select(all: &[PartView], which: &Parts) -> Vec<String> {
    let ids = |it: &mut dyn Iterator<Item = &PartView>| it.map(|p| p.id.clone()).collect();
    match which {
        Parts::None => Vec::new(),
        Parts::All => ids(&mut all.iter()),
        Parts::First(n) => ids(&mut all.iter().take(*n)),
        Parts::Range(a, b) => ids(&mut all[*a..*b].iter()),
        Parts::Building(name) => ids(&mut all.iter().filter(|p| &p.building == name)),
    }
}

/// The id of each owner of record, by key.
async fn owner_ids(db: &Db, keys: &[String]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for k in keys {
        let r = sqlx::query("SELECT id FROM owners WHERE owner_key = $1")
            .bind(k.clone())
            .fetch_one(db.reader())
            .await
            .unwrap_or_else(|e| panic!("owner {k}: {e}"));
        out.insert(k.clone(), sqlx::Row::get::<String, _>(&r, "id"));
    }
    out
}

fn place_id(places: &BTreeMap<String, Place>, at: &At) -> Option<String> {
    match at {
        At::Everywhere => None,
        At::Place(n) => Some(places[n].id.clone()),
        At::CommunityOf(n) => Some(places[n].path_ids()[2].clone()),
    }
}

/// The place a grid or organisation is made over. A community is named by
/// its id and kind only (as the register's grid rules need no more).
fn grid_place(places: &BTreeMap<String, Place>, at: &At) -> Place {
    match at {
        At::Everywhere => panic!("a grid or organisation lies over a place"),
        At::Place(n) => places[n].clone(),
        At::CommunityOf(n) => Place {
            id: places[n].path_ids()[2].clone(),
            kind: "community".into(),
            name: String::new(),
            parent_id: None,
            code: None,
            path: String::new(),
        },
    }
}

impl World {
    /// The compound (of the roster) or hand-made place named `name`.
    pub fn place(&self, name: &str) -> Place {
        self.places
            .get(name)
            .unwrap_or_else(|| panic!("no place {name}"))
            .clone()
    }
    /// The id of the grid named `name`.
    pub fn grid(&self, name: &str) -> String {
        self.grids[name].clone()
    }
    /// The id of the user named `name`.
    pub fn user(&self, name: &str) -> String {
        self.users[name].clone()
    }
    /// The id of the organisation named `name`.
    pub fn org(&self, name: &str) -> String {
        self.orgs[name].clone()
    }
    /// The parts under `place` in the register's order, with their owners.
    pub async fn parts(&self, place: &Place) -> Vec<PartView> {
        register::parts_under(&self.f.db, place, &PartFilter::All, true, 1000, 0)
            .await
            .unwrap()
    }
    /// The building named `name` of `compound`.
    pub async fn building(&self, compound: &Place, name: &str) -> Place {
        let b = register::children(&self.f.db, Some(compound))
            .await
            .unwrap()
            .into_iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("no building {name}"));
        register::get_place(&self.f.db, &b.id).await.unwrap()
    }
    /// The id of the owner of record with `owner_key`.
    pub async fn owner(&self, owner_key: &str) -> String {
        owner_ids(&self.f.db, &[owner_key.to_string()]).await[owner_key].clone()
    }
    /// A client logged in as `user` on this world's server.
    pub async fn login(&self, user: &str) -> reqwest::Client {
        http::login_at(&self.base, user).await
    }
}

/// Makes the user `name` (password [`PW`]) with a grant of `role` over the
/// place with id `place` (everything when `None`), narrowed to `grid`; its id.
pub async fn add_user(
    db: &Db,
    name: &str,
    role: Role,
    place: Option<&str>,
    grid: Option<&str>,
) -> String {
    let (name, place, grid) = (
        name.to_string(),
        place.map(str::to_string),
        grid.map(str::to_string),
    );
    db.write(move |tx| {
        let (name, place, grid) = (name.clone(), place.clone(), grid.clone());
        Box::pin(async move {
            let u = auth::create_user(tx, "t", &name, &pw_hash(), None).await?;
            auth::add_grant(tx, "t", &u, role, place.as_deref(), grid.as_deref()).await?;
            Ok(u)
        })
    })
    .await
    .unwrap()
}

/// The roster of two compounds of 锦城社区, 晶城名邸 (`c0-…` owners) and
/// 御景华庭 (`c1-…`), `per_compound` flats each over two buildings, the
/// owners named by `owner_name(compound index, flat index)`.
pub fn two_compounds(
    per_compound: usize,
    owner_name: impl Fn(usize, usize) -> String,
) -> Vec<RosterRow> {
    let mut rows = Rows::new("成都市武侯区", "簇桥街道", "锦城社区");
    for (c, compound) in ["晶城名邸", "御景华庭"].iter().enumerate() {
        for i in 0..per_compound {
            rows.flat(
                compound,
                &format!("{}", i % 2 + 1),
                &format!("{}", 101 + i),
                8950 + i as i64,
                &format!("c{c}-o{i}"),
                &owner_name(c, i),
                &format!("139{c}{:07}", 1000000 + i),
            );
        }
    }
    rows.rows()
}

/// A compound made by hand (no roster) under a new district, street and
/// community: `names` = [district, street, community, compound].
pub async fn compound_by_hand(db: &Db, names: [&str; 4], code: &str) -> Place {
    let (names, code) = (names.map(str::to_string), code.to_string());
    db.write(move |tx| {
        let (names, code) = (names.clone(), code.clone());
        Box::pin(async move {
            let mut parent: Option<Place> = None;
            let kinds = [
                PlaceKind::District,
                PlaceKind::Street,
                PlaceKind::Community,
                PlaceKind::Compound,
            ];
            for (kind, name) in kinds.into_iter().zip(&names) {
                let code = (kind == PlaceKind::Compound).then_some(code.as_str());
                let p = register::create_place(tx, "t", parent.as_ref(), kind, name, code).await?;
                parent = Some(p);
            }
            Ok(parent.expect("four places"))
        })
    })
    .await
    .unwrap()
}
