//! The register: places, parts, owners of record, people and residents, grids
//! and organisations. Reads take an already-authorised scope; the web layer
//! asks the policy first.

use crate::audit::{self, Entry};
use crate::db::{self, Db, Tx};
use crate::error::StoreError;
use gongzhi_domain::mask::{mask_id_number, mask_phone};
use gongzhi_domain::place::{
    check_membership, micro_grid_size_warning, FiveMemberType, GridKind, MemberRole, OrgKind,
    PlaceKind, ResidentRelation,
};
use serde::Serialize;
use serde_json::json;
use sqlx::any::AnyRow;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Place {
    pub id: String,
    pub kind: String,
    pub name: String,
    pub parent_id: Option<String>,
    /// Compounds carry a short stable code (pinyin slug).
    pub code: Option<String>,
    #[serde(skip)]
    pub path: String,
}

impl Place {
    /// Ids from the top of the hierarchy down to this place.
    pub fn path_ids(&self) -> Vec<String> {
        path_ids(&self.path)
    }
}

/// The rows of a per-place table (settings, Open311 answers, procedures…) that
/// belong to the place at `path` or one of its ancestors, each with its depth
/// (0 = the top of the path; the deepest row is the nearest place's, which
/// wins). `select` is a query up to and including `place_id IN`, with `$1..`
/// bound from `binds`; the path's place ids follow, then `order`.
pub(crate) async fn rows_along_path(
    db: &Db,
    path: &str,
    select: &str,
    binds: &[&str],
    order: &str,
) -> Result<Vec<(usize, AnyRow)>, StoreError> {
    let ids = path_ids(path);
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "{select} ({}) {order}",
        db::in_placeholders(binds.len() + 1, ids.len())
    );
    let mut q = sqlx::query(&sql);
    for b in binds {
        q = q.bind(b.to_string());
    }
    for id in &ids {
        q = q.bind(id.clone());
    }
    q.fetch_all(db.reader())
        .await?
        .into_iter()
        .map(|r| {
            let pid = db::s(&r, "place_id")?;
            let depth = ids.iter().position(|i| *i == pid).unwrap_or(0);
            Ok((depth, r))
        })
        .collect()
}

/// Materialised paths are pure: the helpers live in the domain, here under
/// their old names.
pub use gongzhi_domain::place::{path_ids, subtree};

pub(crate) fn place_from(r: &AnyRow) -> Result<Place, StoreError> {
    Ok(Place {
        id: db::s(r, "id")?,
        kind: db::s(r, "kind")?,
        name: db::s(r, "name")?,
        parent_id: db::os(r, "parent_id")?,
        code: db::os(r, "code")?,
        path: db::s(r, "path")?,
    })
}

pub(crate) const PLACE_COLS: &str = "id, kind, name, parent_id, code, path";

pub async fn get_place(db: &Db, id: &str) -> Result<Place, StoreError> {
    let r = sqlx::query(&format!("SELECT {PLACE_COLS} FROM places WHERE id = $1"))
        .bind(id)
        .fetch_optional(db.reader())
        .await?
        .ok_or_else(|| StoreError::not_found(format!("place '{id}'")))?;
    place_from(&r)
}

pub async fn place_by_code(db: &Db, code: &str) -> Result<Place, StoreError> {
    let r = sqlx::query(&format!("SELECT {PLACE_COLS} FROM places WHERE code = $1"))
        .bind(code)
        .fetch_optional(db.reader())
        .await?
        .ok_or_else(|| StoreError::not_found(format!("compound '{code}'")))?;
    place_from(&r)
}

/// The places on the path to `place`, top first, including itself.
pub async fn ancestors(db: &Db, place: &Place) -> Result<Vec<Place>, StoreError> {
    let ids = place.path_ids();
    let sql = format!(
        "SELECT {PLACE_COLS} FROM places WHERE id IN ({})",
        db::in_placeholders(1, ids.len())
    );
    let mut q = sqlx::query(&sql);
    for id in &ids {
        q = q.bind(id.clone());
    }
    let rows = q.fetch_all(db.reader()).await?;
    let mut places: Vec<Place> = rows.iter().map(place_from).collect::<Result<_, _>>()?;
    places.sort_by_key(|p| p.path.len());
    Ok(places)
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PlaceSummary {
    pub id: String,
    pub kind: String,
    pub name: String,
    pub code: Option<String>,
    /// Exclusive parts anywhere below this place.
    pub parts: i64,
}

/// Children of a place (or the districts when `parent` is None), with part counts.
pub async fn children(db: &Db, parent: Option<&Place>) -> Result<Vec<PlaceSummary>, StoreError> {
    // One statement for the children and their subtree part counts (the
    // subtree range of `subtree()`, spelt in SQL), instead of one count query
    // per child.
    const SQL: &str = "SELECT c.id, c.kind, c.name, c.code, \
         (SELECT CAST(COUNT(*) AS BIGINT) FROM parts pt JOIN places d ON d.id = pt.place_id \
          WHERE d.path >= c.path AND d.path < SUBSTR(c.path, 1, LENGTH(c.path) - 1) || '0') AS parts \
         FROM places c WHERE ";
    let rows = match parent {
        Some(p) => {
            sqlx::query(&format!("{SQL}c.parent_id = $1"))
                .bind(p.id.clone())
                .fetch_all(db.reader())
                .await?
        }
        None => {
            sqlx::query(&format!("{SQL}c.parent_id IS NULL"))
                .fetch_all(db.reader())
                .await?
        }
    };
    let mut out = rows
        .iter()
        .map(|r| {
            Ok(PlaceSummary {
                id: db::s(r, "id")?,
                kind: db::s(r, "kind")?,
                name: db::s(r, "name")?,
                code: db::os(r, "code")?,
                parts: db::i(r, "parts")?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    out.sort_by(|a, b| natural_cmp(&a.name, &b.name));
    Ok(out)
}

/// Orders "2" before "10" and "6-1" before "6-12".
pub fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    let key = |s: &str| -> (Option<u64>, String) {
        let digits: String = s.chars().take_while(|c| c.is_ascii_digit()).collect();
        (digits.parse().ok(), s.to_string())
    };
    let (na, sa) = key(a);
    let (nb, sb) = key(b);
    match (na, nb) {
        (Some(x), Some(y)) if x != y => x.cmp(&y),
        _ => sa.cmp(&sb),
    }
}

pub async fn count_parts_under(db: &Db, p: &Place) -> Result<i64, StoreError> {
    let r = sqlx::query(
        "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM parts WHERE place_id IN (SELECT id FROM places WHERE path >= $1 AND path < $2)",
    )
    .bind(subtree(&p.path).0)
    .bind(subtree(&p.path).1)
    .fetch_one(db.reader())
    .await?;
    db::i(&r, "n")
}

/// Creates a place under `parent` (or a district when None). The kind must be
/// the next level down; names are unique among siblings.
pub async fn create_place(
    tx: &mut Tx,
    actor: &str,
    parent: Option<&Place>,
    kind: PlaceKind,
    name: &str,
    code: Option<&str>,
) -> Result<Place, StoreError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(StoreError::invalid("name", "must be 1 to 100 characters"));
    }
    let expected = parent.map(|p| PlaceKind::parse(&p.kind).and_then(PlaceKind::child));
    match (parent, expected) {
        (None, _) if kind != PlaceKind::District => {
            return Err(StoreError::invalid(
                "parent_id",
                format!("a {kind} needs a parent place"),
            ))
        }
        (Some(p), Some(Some(want))) if want != kind => {
            return Err(StoreError::invalid(
                "kind",
                format!("a {} contains {want}s, not {kind}s", p.kind),
            ))
        }
        (Some(p), Some(None)) => {
            return Err(StoreError::invalid(
                "parent_id",
                format!("a {} has no child places", p.kind),
            ))
        }
        _ => {}
    }
    if code.is_some() && kind != PlaceKind::Compound {
        return Err(StoreError::invalid("code", "only compounds have a code"));
    }
    let parent_key = match parent {
        Some(p) => {
            let r = sqlx::query("SELECT natural_key FROM places WHERE id = $1")
                .bind(p.id.clone())
                .fetch_one(&mut **tx)
                .await?;
            Some(db::s(&r, "natural_key")?)
        }
        None => None,
    };
    let natural_key = match &parent_key {
        Some(k) => format!("{k}\u{1f}{name}"),
        None => name.to_string(),
    };
    let id = db::new_id();
    let path = format!(
        "{}{}/",
        parent.map_or("/".to_string(), |p| p.path.clone()),
        id
    );
    let code = match (kind, code) {
        (PlaceKind::Compound, Some(c)) => Some(c.to_string()),
        (PlaceKind::Compound, None) => Some(compound_code(tx, name).await?),
        _ => None,
    };
    if let Some(c) = &code {
        if !c
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            || c.is_empty()
            || c.len() > 64
        {
            return Err(StoreError::invalid(
                "code",
                format!("'{c}' must be lowercase letters, digits and '-'"),
            ));
        }
    }
    let res = sqlx::query(
        "INSERT INTO places (id, kind, name, parent_id, natural_key, path, code, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)",
    )
    .bind(id.clone())
    .bind(kind.as_str())
    .bind(name.to_string())
    .bind(parent.map(|p| p.id.clone()))
    .bind(natural_key)
    .bind(path.clone())
    .bind(code.clone())
    .bind(db::now_ms())
    .execute(&mut **tx)
    .await
    .map_err(StoreError::from);
    if let Err(e) = res {
        if e.is_unique_violation() {
            return Err(StoreError::Conflict(format!(
                "a place named '{name}' or with code {code:?} already exists here"
            )));
        }
        return Err(e);
    }
    let place = Place {
        id: id.clone(),
        kind: kind.as_str().into(),
        name: name.into(),
        parent_id: parent.map(|p| p.id.clone()),
        code,
        path: path.clone(),
    };
    audit::record(
        tx,
        Entry {
            actor: actor.into(),
            action: "place.create".into(),
            entity: "place".into(),
            entity_id: id,
            scope_path: path,
            before: None,
            after: Some(json!(place)),
        },
    )
    .await?;
    Ok(place)
}

/// A compound's code: a slug of its name when the name is Latin, else "xq-"
/// and a short hash of the name; made unique with a numeric suffix.
pub async fn compound_code(tx: &mut Tx, name: &str) -> Result<String, StoreError> {
    let mut base = gongzhi_domain::place::slugify(name);
    if base.len() < 3 {
        use sha2::Digest;
        let h = sha2::Sha256::digest(name.as_bytes());
        base = format!("xq-{}", &hex::encode(h)[..8]);
    }
    let mut candidate = base.clone();
    for n in 2..1000 {
        let taken = sqlx::query("SELECT id FROM places WHERE code = $1")
            .bind(candidate.clone())
            .fetch_optional(&mut **tx)
            .await?;
        if taken.is_none() {
            return Ok(candidate);
        }
        candidate = format!("{base}-{n}");
    }
    Err(StoreError::Conflict(format!(
        "no free code for compound '{name}'"
    )))
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CompoundListing {
    pub code: String,
    pub name: String,
}

/// Every compound's code and name: public, no personal data.
pub async fn public_compounds(db: &Db) -> Result<Vec<CompoundListing>, StoreError> {
    let rows = sqlx::query(
        "SELECT code, name FROM places WHERE kind = 'compound' AND code IS NOT NULL ORDER BY code",
    )
    .fetch_all(db.reader())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(CompoundListing {
                code: db::s(r, "code")?,
                name: db::s(r, "name")?,
            })
        })
        .collect()
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OwnerRef {
    pub id: String,
    pub name: String,
    pub kind: String,
    /// Masked: `138****5678`.
    pub phone: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PartView {
    pub id: String,
    pub number: String,
    pub kind: String,
    /// Area in m² with two decimals.
    pub area_m2: String,
    pub area_basis: String,
    pub building: String,
    pub unit: Option<String>,
    /// Present only when the caller may read the register.
    pub owner: Option<OwnerRef>,
    pub grid_id: Option<String>,
}

/// Which parts a read may see.
#[derive(Debug, Clone)]
pub enum PartFilter {
    All,
    Grids(Vec<String>),
}

/// Parts below a place, ordered by building, unit and number; owners included
/// only when `with_owners` (register access), phones masked.
pub async fn parts_under(
    db: &Db,
    place: &Place,
    filter: &PartFilter,
    with_owners: bool,
    limit: i64,
    offset: i64,
) -> Result<Vec<PartView>, StoreError> {
    let mut sql = String::from(
        "SELECT pt.id, pt.number, pt.kind, pt.area_centi, pt.area_basis, pl.kind AS place_kind, pl.name AS place_name, \
         par.name AS parent_name, o.id AS owner_id, o.name AS owner_name, o.kind AS owner_kind, o.phone AS owner_phone, gp.grid_id \
         FROM parts pt JOIN places pl ON pl.id = pt.place_id LEFT JOIN places par ON par.id = pl.parent_id \
         JOIN owners o ON o.id = pt.owner_id LEFT JOIN grid_parts gp ON gp.part_id = pt.id WHERE pl.path >= $1 AND pl.path < $2",
    );
    let mut n = 3;
    if let PartFilter::Grids(g) = filter {
        if g.is_empty() {
            return Ok(vec![]);
        }
        sql.push_str(&format!(
            " AND gp.grid_id IN ({})",
            db::in_placeholders(n, g.len())
        ));
        n += g.len();
    }
    sql.push_str(&format!(
        " ORDER BY pt.natural_key LIMIT ${n} OFFSET ${}",
        n + 1
    ));
    let (lo, hi) = subtree(&place.path);
    let mut q = sqlx::query(&sql).bind(lo).bind(hi);
    if let PartFilter::Grids(g) = filter {
        for id in g {
            q = q.bind(id.clone());
        }
    }
    let rows = q
        .bind(limit.clamp(1, 5000))
        .bind(offset.max(0))
        .fetch_all(db.reader())
        .await?;
    let mut out: Vec<PartView> = rows
        .iter()
        .map(|r| {
            let place_kind = db::s(r, "place_kind")?;
            let (building, unit) = if place_kind == "unit" {
                (
                    db::os(r, "parent_name")?.unwrap_or_default(),
                    Some(db::s(r, "place_name")?),
                )
            } else {
                (db::s(r, "place_name")?, None)
            };
            Ok(PartView {
                id: db::s(r, "id")?,
                number: db::s(r, "number")?,
                kind: db::s(r, "kind")?,
                area_m2: gongzhi_domain::money::format_hundredths(db::i(r, "area_centi")?),
                area_basis: db::s(r, "area_basis")?,
                building,
                unit,
                owner: if with_owners {
                    Some(OwnerRef {
                        id: db::s(r, "owner_id")?,
                        name: db::s(r, "owner_name")?,
                        kind: db::s(r, "owner_kind")?,
                        phone: db::os(r, "owner_phone")?.map(|p| mask_phone(&p)),
                    })
                } else {
                    None
                },
                grid_id: db::os(r, "grid_id")?,
            })
        })
        .collect::<Result<_, StoreError>>()?;
    out.sort_by(|a, b| {
        natural_cmp(&a.building, &b.building)
            .then_with(|| {
                natural_cmp(
                    a.unit.as_deref().unwrap_or(""),
                    b.unit.as_deref().unwrap_or(""),
                )
            })
            .then_with(|| natural_cmp(&a.number, &b.number))
    });
    Ok(out)
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OwnerDetail {
    pub id: String,
    pub owner_key: String,
    pub name: String,
    pub kind: String,
    pub phone: Option<String>,
    /// Parts of this owner, with the compound path of each (for scope checks).
    pub parts: Vec<OwnedPart>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OwnedPart {
    pub id: String,
    pub number: String,
    pub kind: String,
    pub area_m2: String,
    #[serde(skip)]
    pub place_path: String,
}

pub async fn get_owner(db: &Db, id: &str) -> Result<OwnerDetail, StoreError> {
    let r = sqlx::query("SELECT id, owner_key, name, kind, phone FROM owners WHERE id = $1")
        .bind(id)
        .fetch_optional(db.reader())
        .await?
        .ok_or_else(|| StoreError::not_found(format!("owner '{id}'")))?;
    let parts = sqlx::query(
        "SELECT pt.id, pt.number, pt.kind, pt.area_centi, pl.path FROM parts pt JOIN places pl ON pl.id = pt.place_id WHERE pt.owner_id = $1 ORDER BY pt.natural_key",
    )
    .bind(id)
    .fetch_all(db.reader())
    .await?;
    Ok(OwnerDetail {
        id: db::s(&r, "id")?,
        owner_key: db::s(&r, "owner_key")?,
        name: db::s(&r, "name")?,
        kind: db::s(&r, "kind")?,
        phone: db::os(&r, "phone")?.map(|p| mask_phone(&p)),
        parts: parts
            .iter()
            .map(|p| {
                Ok(OwnedPart {
                    id: db::s(p, "id")?,
                    number: db::s(p, "number")?,
                    kind: db::s(p, "kind")?,
                    area_m2: gongzhi_domain::money::format_hundredths(db::i(p, "area_centi")?),
                    place_path: db::s(p, "path")?,
                })
            })
            .collect::<Result<_, StoreError>>()?,
    })
}

// ---------------------------------------------------------------- people

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PersonView {
    pub id: String,
    pub name: String,
    /// Masked.
    pub phone: Option<String>,
    /// Masked.
    pub id_number: Option<String>,
}

pub struct NewPerson<'a> {
    pub name: &'a str,
    pub phone: Option<&'a str>,
    pub id_number: Option<&'a str>,
    pub home: &'a Place,
    pub consent_publish_name: bool,
}

pub async fn create_person(
    tx: &mut Tx,
    actor: &str,
    p: NewPerson<'_>,
) -> Result<PersonView, StoreError> {
    let name = p.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(StoreError::invalid("name", "must be 1 to 100 characters"));
    }
    if let Some(ph) = p.phone.filter(|s| !s.trim().is_empty()) {
        if !gongzhi_domain::mask::valid_phone(ph) {
            return Err(StoreError::invalid(
                "phone",
                format!("'{ph}' is not a phone number"),
            ));
        }
    }
    if let Some(idn) = p.id_number.filter(|s| !s.trim().is_empty()) {
        if !gongzhi_domain::mask::valid_id_number(idn) {
            return Err(StoreError::invalid(
                "id_number",
                "must be 18 characters: 17 digits and a digit or X",
            ));
        }
    }
    let id = db::new_id();
    sqlx::query("INSERT INTO people (id, name, phone, id_number, consent_publish_name, home_place_id, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7)")
        .bind(id.clone())
        .bind(name.to_string())
        .bind(p.phone.filter(|s| !s.trim().is_empty()).map(|s| s.trim().to_string()))
        .bind(p.id_number.filter(|s| !s.trim().is_empty()).map(|s| s.trim().to_string()))
        .bind(i64::from(p.consent_publish_name))
        .bind(p.home.id.clone())
        .bind(db::now_ms())
        .execute(&mut **tx)
        .await?;
    let view = PersonView {
        id: id.clone(),
        name: name.into(),
        phone: p.phone.filter(|s| !s.trim().is_empty()).map(mask_phone),
        id_number: p
            .id_number
            .filter(|s| !s.trim().is_empty())
            .map(mask_id_number),
    };
    audit::record(
        tx,
        Entry {
            actor: actor.into(),
            action: "person.create".into(),
            entity: "person".into(),
            entity_id: id,
            scope_path: p.home.path.clone(),
            before: None,
            after: Some(json!(view)),
        },
    )
    .await?;
    Ok(view)
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ResidentView {
    pub id: String,
    pub person: PersonView,
    pub part_id: String,
    pub part_number: String,
    pub relation: String,
}

pub async fn add_resident(
    tx: &mut Tx,
    actor: &str,
    person_id: &str,
    part_id: &str,
    relation: ResidentRelation,
) -> Result<String, StoreError> {
    let part = sqlx::query(
        "SELECT pl.path FROM parts pt JOIN places pl ON pl.id = pt.place_id WHERE pt.id = $1",
    )
    .bind(part_id.to_string())
    .fetch_optional(&mut **tx)
    .await?
    .ok_or_else(|| StoreError::invalid("part_id", format!("no part '{part_id}'")))?;
    let exists = sqlx::query("SELECT id FROM people WHERE id = $1")
        .bind(person_id.to_string())
        .fetch_optional(&mut **tx)
        .await?;
    if exists.is_none() {
        return Err(StoreError::invalid(
            "person_id",
            format!("no person '{person_id}'"),
        ));
    }
    let id = db::new_id();
    let now = db::now_ms();
    sqlx::query("INSERT INTO residents (id, person_id, part_id, relation, since, until, created_at) VALUES ($1,$2,$3,$4,$5,NULL,$6)")
        .bind(id.clone())
        .bind(person_id.to_string())
        .bind(part_id.to_string())
        .bind(relation.as_str())
        .bind(now)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    audit::record(
        tx,
        Entry {
            actor: actor.into(),
            action: "resident.add".into(),
            entity: "resident".into(),
            entity_id: id.clone(),
            scope_path: db::s(&part, "path")?,
            before: None,
            after: Some(json!({"person_id": person_id, "part_id": part_id, "relation": relation})),
        },
    )
    .await?;
    Ok(id)
}

/// Residents living in parts below a place, masked.
pub async fn residents_under(
    db: &Db,
    place: &Place,
    filter: &PartFilter,
    limit: i64,
) -> Result<Vec<ResidentView>, StoreError> {
    let mut sql = String::from(
        "SELECT r.id, r.relation, r.part_id, pt.number, p.id AS person_id, p.name, p.phone, p.id_number FROM residents r \
         JOIN parts pt ON pt.id = r.part_id JOIN places pl ON pl.id = pt.place_id JOIN people p ON p.id = r.person_id \
         LEFT JOIN grid_parts gp ON gp.part_id = pt.id WHERE pl.path >= $1 AND pl.path < $2 AND r.until IS NULL",
    );
    let mut n = 3;
    if let PartFilter::Grids(g) = filter {
        if g.is_empty() {
            return Ok(vec![]);
        }
        sql.push_str(&format!(
            " AND gp.grid_id IN ({})",
            db::in_placeholders(n, g.len())
        ));
        n += g.len();
    }
    sql.push_str(&format!(" ORDER BY pt.natural_key, p.name LIMIT ${n}"));
    let (lo, hi) = subtree(&place.path);
    let mut q = sqlx::query(&sql).bind(lo).bind(hi);
    if let PartFilter::Grids(g) = filter {
        for id in g {
            q = q.bind(id.clone());
        }
    }
    let rows = q.bind(limit.clamp(1, 5000)).fetch_all(db.reader()).await?;
    rows.iter()
        .map(|r| {
            Ok(ResidentView {
                id: db::s(r, "id")?,
                person: PersonView {
                    id: db::s(r, "person_id")?,
                    name: db::s(r, "name")?,
                    phone: db::os(r, "phone")?.map(|p| mask_phone(&p)),
                    id_number: db::os(r, "id_number")?.map(|p| mask_id_number(&p)),
                },
                part_id: db::s(r, "part_id")?,
                part_number: db::s(r, "number")?,
                relation: db::s(r, "relation")?,
            })
        })
        .collect()
}

// ---------------------------------------------------------------- grids

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct GridView {
    pub id: String,
    pub kind: String,
    pub name: String,
    pub place_id: String,
    pub parent_id: Option<String>,
    pub worker: Option<PersonView>,
    /// Households (parts) in the grid: for micro-grids, directly; above, summed.
    pub households: i64,
    /// Set when a micro-grid is outside 30–100 households.
    pub warning: Option<String>,
}

pub async fn create_grid(
    tx: &mut Tx,
    actor: &str,
    kind: GridKind,
    name: &str,
    place: &Place,
    parent_id: Option<&str>,
    worker_person_id: Option<&str>,
) -> Result<String, StoreError> {
    let place_kind = PlaceKind::parse(&place.kind).ok_or_else(|| {
        StoreError::invalid("place_id", format!("unknown place kind '{}'", place.kind))
    })?;
    let parent_kind = match parent_id {
        None => None,
        Some(pid) => {
            // The parent grid lies over this place or one above it, never
            // over another compound.
            let r = sqlx::query(
                "SELECT g.kind, pl.path FROM grids g JOIN places pl ON pl.id = g.place_id WHERE g.id = $1",
            )
            .bind(pid.to_string())
            .fetch_optional(&mut **tx)
            .await?
            .filter(|r| db::s(r, "path").is_ok_and(|p| place.path.starts_with(&p)))
            .ok_or_else(|| StoreError::invalid("parent_id", format!("no grid '{pid}' over this place")))?;
            let k = db::s(&r, "kind")?;
            Some(GridKind::parse(&k).ok_or_else(|| {
                StoreError::invalid("parent_id", format!("grid '{pid}' has unknown kind '{k}'"))
            })?)
        }
    };
    kind.check_placement(place_kind, parent_kind)
        .map_err(|(field, why)| StoreError::invalid(field, why))?;
    let id = db::new_id();
    sqlx::query("INSERT INTO grids (id, kind, name, place_id, parent_id, worker_person_id, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7)")
        .bind(id.clone())
        .bind(kind.as_str())
        .bind(name.trim().to_string())
        .bind(place.id.clone())
        .bind(parent_id.map(str::to_string))
        .bind(worker_person_id.map(str::to_string))
        .bind(db::now_ms())
        .execute(&mut **tx)
        .await?;
    audit::record(tx, Entry { actor: actor.into(), action: "grid.create".into(), entity: "grid".into(), entity_id: id.clone(), scope_path: place.path.clone(), before: None, after: Some(json!({"kind": kind, "name": name, "place_id": place.id, "parent_id": parent_id, "worker_person_id": worker_person_id})) }).await?;
    Ok(id)
}

/// Puts parts into a micro-grid. A part is in at most one micro-grid, and
/// must lie below the grid's place. Returns the size warning, if any.
pub async fn assign_parts(
    tx: &mut Tx,
    actor: &str,
    grid_id: &str,
    part_ids: &[String],
) -> Result<Option<String>, StoreError> {
    let g = sqlx::query(
        "SELECT g.kind, pl.path FROM grids g JOIN places pl ON pl.id = g.place_id WHERE g.id = $1",
    )
    .bind(grid_id.to_string())
    .fetch_optional(&mut **tx)
    .await?
    .ok_or_else(|| StoreError::not_found(format!("grid '{grid_id}'")))?;
    if db::s(&g, "kind")? != "micro" {
        return Err(StoreError::invalid(
            "grid_id",
            "parts are assigned to micro-grids only",
        ));
    }
    let gpath = db::s(&g, "path")?;
    for (i, chunk) in part_ids.chunks(500).enumerate() {
        let sql = format!(
            "SELECT pt.id, pl.path, gp.grid_id FROM parts pt JOIN places pl ON pl.id = pt.place_id LEFT JOIN grid_parts gp ON gp.part_id = pt.id WHERE pt.id IN ({})",
            db::in_placeholders(1, chunk.len())
        );
        let mut q = sqlx::query(&sql);
        for id in chunk {
            q = q.bind(id.clone());
        }
        let rows = q.fetch_all(&mut **tx).await?;
        for (j, id) in chunk.iter().enumerate() {
            let field = format!("part_ids[{}]", i * 500 + j);
            let r = rows
                .iter()
                .find(|r| db::s(r, "id").ok().as_deref() == Some(id.as_str()));
            let Some(r) = r else {
                return Err(StoreError::invalid(field, format!("no part '{id}'")));
            };
            if !db::s(r, "path")?.starts_with(&gpath) {
                return Err(StoreError::invalid(
                    field,
                    "part lies outside the grid's place",
                ));
            }
            if let Some(other) = db::os(r, "grid_id")? {
                if other != grid_id {
                    return Err(StoreError::invalid(
                        field,
                        format!("part is already in micro-grid '{other}'"),
                    ));
                }
            }
        }
        let fresh: Vec<&String> = chunk
            .iter()
            .filter(|id| {
                rows.iter().any(|r| {
                    db::s(r, "id").ok().as_deref() == Some(id.as_str())
                        && db::os(r, "grid_id").ok().flatten().is_none()
                })
            })
            .collect();
        if !fresh.is_empty() {
            let sql = format!(
                "INSERT INTO grid_parts (grid_id, part_id) VALUES {}",
                db::values_placeholders(fresh.len(), 2)
            );
            let mut q = sqlx::query(&sql);
            for id in fresh {
                q = q.bind(grid_id.to_string()).bind(id.clone());
            }
            q.execute(&mut **tx).await?;
        }
    }
    let n = db::i(
        &sqlx::query("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM grid_parts WHERE grid_id = $1")
            .bind(grid_id.to_string())
            .fetch_one(&mut **tx)
            .await?,
        "n",
    )?;
    audit::record(
        tx,
        Entry {
            actor: actor.into(),
            action: "grid.assign_parts".into(),
            entity: "grid".into(),
            entity_id: grid_id.into(),
            scope_path: gpath,
            before: None,
            after: Some(json!({"part_ids": part_ids, "households": n})),
        },
    )
    .await?;
    Ok(micro_grid_size_warning(n as usize))
}

/// Grids over a place (community or compound), with their sizes and warnings.
pub async fn grids_of(db: &Db, place: &Place) -> Result<Vec<GridView>, StoreError> {
    let rows = sqlx::query(
        "SELECT g.id, g.kind, g.name, g.place_id, g.parent_id, p.id AS pid, p.name AS pname, p.phone AS pphone, \
         (SELECT CAST(COUNT(*) AS BIGINT) FROM grid_parts gp WHERE gp.grid_id = g.id) AS direct \
         FROM grids g JOIN places pl ON pl.id = g.place_id LEFT JOIN people p ON p.id = g.worker_person_id \
         WHERE (pl.path >= $1 AND pl.path < $2) OR g.place_id = $3 ORDER BY g.kind, g.name",
    )
    .bind(subtree(&place.path).0)
    .bind(subtree(&place.path).1)
    .bind(place.id.clone())
    .fetch_all(db.reader())
    .await?;
    let mut grids: Vec<GridView> = rows
        .iter()
        .map(|r| {
            let kind = db::s(r, "kind")?;
            let direct = db::i(r, "direct")?;
            Ok(GridView {
                id: db::s(r, "id")?,
                warning: if kind == "micro" {
                    micro_grid_size_warning(direct as usize)
                } else {
                    None
                },
                kind,
                name: db::s(r, "name")?,
                place_id: db::s(r, "place_id")?,
                parent_id: db::os(r, "parent_id")?,
                worker: match db::os(r, "pid")? {
                    Some(pid) => Some(PersonView {
                        id: pid,
                        name: db::s(r, "pname")?,
                        phone: db::os(r, "pphone")?.map(|p| mask_phone(&p)),
                        id_number: None,
                    }),
                    None => None,
                },
                households: direct,
            })
        })
        .collect::<Result<_, StoreError>>()?;
    // Roll micro-grid sizes up to compound and community grids.
    for _ in 0..2 {
        let sums: Vec<(String, i64)> = grids
            .iter()
            .filter_map(|g| g.parent_id.clone().map(|p| (p, g.households)))
            .collect();
        for g in grids.iter_mut().filter(|g| g.kind != "micro") {
            g.households = sums
                .iter()
                .filter(|(p, _)| *p == g.id)
                .map(|(_, n)| n)
                .sum();
        }
    }
    grids.sort_by(|a, b| {
        a.kind
            .cmp(&b.kind)
            .then_with(|| natural_cmp(&a.name, &b.name))
    });
    Ok(grids)
}

pub async fn grid_place(db: &Db, grid_id: &str) -> Result<(Place, String), StoreError> {
    let r = sqlx::query("SELECT place_id, kind FROM grids WHERE id = $1")
        .bind(grid_id.to_string())
        .fetch_optional(db.reader())
        .await?
        .ok_or_else(|| StoreError::not_found(format!("grid '{grid_id}'")))?;
    Ok((
        get_place(db, &db::s(&r, "place_id")?).await?,
        db::s(&r, "kind")?,
    ))
}

// ---------------------------------------------------------------- organisations

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OrgView {
    pub id: String,
    pub kind: String,
    pub name: String,
    pub place_id: String,
    pub parent_id: Option<String>,
    /// Further places a joint branch spans.
    pub also_spans: Vec<String>,
    pub members: Vec<MemberView>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MemberView {
    pub id: String,
    pub person: PersonView,
    pub role: String,
    pub member_type: Option<String>,
    pub building_id: Option<String>,
    pub term_start: i64,
    pub term_end: Option<i64>,
}

pub async fn create_org(
    tx: &mut Tx,
    actor: &str,
    kind: OrgKind,
    name: &str,
    place: &Place,
    parent_id: Option<&str>,
    also_spans: &[Place],
) -> Result<String, StoreError> {
    if name.trim().is_empty() {
        return Err(StoreError::invalid("name", "is empty"));
    }
    let anchor = kind.anchor();
    if place.kind != anchor.as_str() {
        return Err(StoreError::invalid(
            "place_id",
            format!("a {kind} belongs to a {anchor}, not a {}", place.kind),
        ));
    }
    if !also_spans.is_empty() && kind != OrgKind::CompoundBranch {
        return Err(StoreError::invalid(
            "also_spans",
            "only a (joint) compound branch spans several compounds",
        ));
    }
    for (i, p) in also_spans.iter().enumerate() {
        if p.kind != "compound" {
            return Err(StoreError::invalid(
                format!("also_spans[{i}]"),
                "a joint branch spans compounds",
            ));
        }
    }
    if let Some(pid) = parent_id {
        // The parent serves this place: anchored on it or above it, or (a
        // joint branch) spanning it.
        let r = sqlx::query(
            "SELECT o.kind, pl.path FROM organisations o JOIN places pl ON pl.id = o.place_id WHERE o.id = $1 \
             UNION ALL SELECT o.kind, pl.path FROM organisations o JOIN organisation_places op ON op.org_id = o.id \
             JOIN places pl ON pl.id = op.place_id WHERE o.id = $1",
        )
        .bind(pid.to_string())
        .fetch_all(&mut **tx)
        .await?
        .into_iter()
        .find(|r| db::s(r, "path").is_ok_and(|p| place.path.starts_with(&p)));
        let Some(r) = r else {
            return Err(StoreError::invalid(
                "parent_id",
                format!("no organisation '{pid}' over this place"),
            ));
        };
        let pk = db::s(&r, "kind")?;
        if let Some(want) = kind.party_parent() {
            if pk != want.as_str() {
                return Err(StoreError::invalid(
                    "parent_id",
                    format!("a {kind} reports to a {want}, not a {pk}"),
                ));
            }
        }
    }
    let id = db::new_id();
    sqlx::query("INSERT INTO organisations (id, kind, name, place_id, parent_id, created_at) VALUES ($1,$2,$3,$4,$5,$6)")
        .bind(id.clone())
        .bind(kind.as_str())
        .bind(name.trim().to_string())
        .bind(place.id.clone())
        .bind(parent_id.map(str::to_string))
        .bind(db::now_ms())
        .execute(&mut **tx)
        .await?;
    for p in also_spans {
        sqlx::query("INSERT INTO organisation_places (org_id, place_id) VALUES ($1,$2)")
            .bind(id.clone())
            .bind(p.id.clone())
            .execute(&mut **tx)
            .await?;
    }
    audit::record(tx, Entry { actor: actor.into(), action: "organisation.create".into(), entity: "organisation".into(), entity_id: id.clone(), scope_path: place.path.clone(), before: None, after: Some(json!({"kind": kind, "name": name, "place_id": place.id, "parent_id": parent_id, "also_spans": also_spans.iter().map(|p| p.id.clone()).collect::<Vec<_>>()})) }).await?;
    Ok(id)
}

#[allow(clippy::too_many_arguments)]
pub async fn add_member(
    tx: &mut Tx,
    actor: &str,
    org_id: &str,
    person_id: &str,
    role: MemberRole,
    member_type: Option<FiveMemberType>,
    building_id: Option<&str>,
    term: (i64, Option<i64>),
) -> Result<String, StoreError> {
    let o = sqlx::query("SELECT o.kind, pl.path FROM organisations o JOIN places pl ON pl.id = o.place_id WHERE o.id = $1")
        .bind(org_id.to_string())
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| StoreError::not_found(format!("organisation '{org_id}'")))?;
    let kind = OrgKind::parse(&db::s(&o, "kind")?)
        .ok_or_else(|| StoreError::Config("unknown organisation kind in database".into()))?;
    check_membership(kind, role, member_type, building_id.is_some(), term).map_err(|msg| {
        let (f, r) = msg.split_once(": ").unwrap_or(("role", msg.as_str()));
        StoreError::invalid(f, r)
    })?;
    if sqlx::query("SELECT id FROM people WHERE id = $1")
        .bind(person_id.to_string())
        .fetch_optional(&mut **tx)
        .await?
        .is_none()
    {
        return Err(StoreError::invalid(
            "person_id",
            format!("no person '{person_id}'"),
        ));
    }
    let path = db::s(&o, "path")?;
    if let Some(b) = building_id {
        let r = sqlx::query("SELECT kind, path FROM places WHERE id = $1")
            .bind(b.to_string())
            .fetch_optional(&mut **tx)
            .await?;
        match r {
            Some(r)
                if db::s(&r, "kind")? == "building" && db::s(&r, "path")?.starts_with(&path) => {}
            _ => {
                return Err(StoreError::invalid(
                    "building_id",
                    "must be a building of the organisation's compound",
                ))
            }
        }
    }
    let id = db::new_id();
    sqlx::query("INSERT INTO memberships (id, org_id, person_id, role, member_type, building_id, term_start, term_end, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)")
        .bind(id.clone())
        .bind(org_id.to_string())
        .bind(person_id.to_string())
        .bind(role.as_str())
        .bind(member_type.map(|t| t.as_str().to_string()))
        .bind(building_id.map(str::to_string))
        .bind(term.0)
        .bind(term.1)
        .bind(db::now_ms())
        .execute(&mut **tx)
        .await?;
    audit::record(tx, Entry { actor: actor.into(), action: "membership.add".into(), entity: "membership".into(), entity_id: id.clone(), scope_path: path, before: None, after: Some(json!({"org_id": org_id, "person_id": person_id, "role": role, "member_type": member_type, "building_id": building_id, "term_start": term.0, "term_end": term.1})) }).await?;
    Ok(id)
}

/// Organisations anchored at or below `place`, or spanning it (joint
/// branches), and those above it that serve it (street/community bodies).
pub async fn orgs_for(db: &Db, place: &Place) -> Result<Vec<OrgView>, StoreError> {
    let ids = place.path_ids();
    let mut sql = String::from(
        "SELECT DISTINCT o.id, o.kind, o.name, o.place_id, o.parent_id FROM organisations o JOIN places pl ON pl.id = o.place_id \
         LEFT JOIN organisation_places op ON op.org_id = o.id LEFT JOIN places sp ON sp.id = op.place_id \
         WHERE (pl.path >= $1 AND pl.path < $2) OR (sp.path >= $1 AND sp.path < $2)",
    );
    if !ids.is_empty() {
        sql.push_str(&format!(
            " OR o.place_id IN ({})",
            db::in_placeholders(3, ids.len())
        ));
    }
    let (lo, hi) = subtree(&place.path);
    let mut q = sqlx::query(&sql).bind(lo).bind(hi);
    for id in &ids {
        q = q.bind(id.clone());
    }
    let rows = q.fetch_all(db.reader()).await?;
    let mut out = Vec::new();
    for r in &rows {
        out.push(org_view(db, r).await?);
    }
    out.sort_by(|a, b| a.kind.cmp(&b.kind).then_with(|| a.name.cmp(&b.name)));
    Ok(out)
}

pub async fn get_org(db: &Db, id: &str) -> Result<(OrgView, Place), StoreError> {
    let r =
        sqlx::query("SELECT id, kind, name, place_id, parent_id FROM organisations WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(db.reader())
            .await?
            .ok_or_else(|| StoreError::not_found(format!("organisation '{id}'")))?;
    let v = org_view(db, &r).await?;
    let p = get_place(db, &v.place_id).await?;
    Ok((v, p))
}

async fn org_view(db: &Db, r: &AnyRow) -> Result<OrgView, StoreError> {
    let id = db::s(r, "id")?;
    let spans = sqlx::query("SELECT place_id FROM organisation_places WHERE org_id = $1")
        .bind(id.clone())
        .fetch_all(db.reader())
        .await?;
    let members = sqlx::query(
        "SELECT m.id, m.role, m.member_type, m.building_id, m.term_start, m.term_end, p.id AS pid, p.name, p.phone \
         FROM memberships m JOIN people p ON p.id = m.person_id WHERE m.org_id = $1 ORDER BY m.created_at",
    )
    .bind(id.clone())
    .fetch_all(db.reader())
    .await?;
    Ok(OrgView {
        id,
        kind: db::s(r, "kind")?,
        name: db::s(r, "name")?,
        place_id: db::s(r, "place_id")?,
        parent_id: db::os(r, "parent_id")?,
        also_spans: spans
            .iter()
            .map(|s| db::s(s, "place_id"))
            .collect::<Result<_, _>>()?,
        members: members
            .iter()
            .map(|m| {
                Ok(MemberView {
                    id: db::s(m, "id")?,
                    person: PersonView {
                        id: db::s(m, "pid")?,
                        name: db::s(m, "name")?,
                        phone: db::os(m, "phone")?.map(|p| mask_phone(&p)),
                        id_number: None,
                    },
                    role: db::s(m, "role")?,
                    member_type: db::os(m, "member_type")?,
                    building_id: db::os(m, "building_id")?,
                    term_start: db::i(m, "term_start")?,
                    term_end: db::oi(m, "term_end")?,
                })
            })
            .collect::<Result<_, StoreError>>()?,
    })
}

pub async fn person_home(db: &Db, person_id: &str) -> Result<Place, StoreError> {
    let r = sqlx::query("SELECT home_place_id FROM people WHERE id = $1")
        .bind(person_id.to_string())
        .fetch_optional(db.reader())
        .await?
        .ok_or_else(|| StoreError::not_found(format!("person '{person_id}'")))?;
    let home =
        db::os(&r, "home_place_id")?.ok_or_else(|| StoreError::not_found("person's home place"))?;
    get_place(db, &home).await
}

/// Every place a person is known at: their home place and the places of the
/// parts they live in now. A write that names a person must have all of them
/// in the writer's scope (a link must not carry someone out of another
/// compound into one the writer can read).
pub async fn person_places(db: &Db, person_id: &str) -> Result<Vec<Place>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {PLACE_COLS} FROM places WHERE id IN (\
         SELECT home_place_id FROM people WHERE id = $1 \
         UNION SELECT pt.place_id FROM residents r JOIN parts pt ON pt.id = r.part_id \
         WHERE r.person_id = $1 AND r.until IS NULL) ORDER BY path"
    ))
    .bind(person_id.to_string())
    .fetch_all(db.reader())
    .await?;
    if rows.is_empty() {
        return Err(StoreError::not_found(format!("person '{person_id}'")));
    }
    rows.iter().map(place_from).collect()
}

pub async fn part_place(db: &Db, part_id: &str) -> Result<Place, StoreError> {
    let r = sqlx::query("SELECT place_id FROM parts WHERE id = $1")
        .bind(part_id.to_string())
        .fetch_optional(db.reader())
        .await?
        .ok_or_else(|| StoreError::not_found(format!("part '{part_id}'")))?;
    get_place(db, &db::s(&r, "place_id")?).await
}

// Commands: each takes `&Db` and owns its transaction (the API calls them;
// the roster import and the demo compose the `Tx` functions above in their
// own transactions).

/// Creates a place one level below `parent` ([`create_place`]).
pub async fn add_place(
    db: &Db,
    actor: &str,
    parent: Option<&Place>,
    kind: PlaceKind,
    name: &str,
    code: Option<&str>,
) -> Result<Place, StoreError> {
    let args = (
        actor.to_string(),
        parent.cloned(),
        name.to_string(),
        code.map(str::to_string),
    );
    db.write_with(args, move |tx, (actor, parent, name, code)| {
        Box::pin(async move {
            create_place(tx, &actor, parent.as_ref(), kind, &name, code.as_deref()).await
        })
    })
    .await
}

/// Registers a person ([`create_person`]).
pub async fn add_person(db: &Db, actor: &str, p: NewPerson<'_>) -> Result<PersonView, StoreError> {
    let args = (
        (actor.to_string(), p.name.to_string(), p.home.clone()),
        (p.phone.map(str::to_string), p.id_number.map(str::to_string)),
    );
    let consent = p.consent_publish_name;
    db.write_with(args, move |tx, ((actor, name, home), (phone, idn))| {
        Box::pin(async move {
            let p = NewPerson {
                name: &name,
                phone: phone.as_deref(),
                id_number: idn.as_deref(),
                home: &home,
                consent_publish_name: consent,
            };
            create_person(tx, &actor, p).await
        })
    })
    .await
}

/// Records that a person lives in a part ([`add_resident`]); the row's id.
pub async fn move_in(
    db: &Db,
    actor: &str,
    person_id: &str,
    part_id: &str,
    relation: ResidentRelation,
) -> Result<String, StoreError> {
    let args = (
        actor.to_string(),
        person_id.to_string(),
        part_id.to_string(),
    );
    db.write_with(args, move |tx, (actor, person, part)| {
        Box::pin(async move { add_resident(tx, &actor, &person, &part, relation).await })
    })
    .await
}

/// Creates a grid ([`create_grid`]); its id.
pub async fn add_grid(
    db: &Db,
    actor: &str,
    kind: GridKind,
    name: &str,
    place: &Place,
    parent_id: Option<&str>,
    worker_person_id: Option<&str>,
) -> Result<String, StoreError> {
    let args = (
        (actor.to_string(), name.to_string(), place.clone()),
        (
            parent_id.map(str::to_string),
            worker_person_id.map(str::to_string),
        ),
    );
    db.write_with(args, move |tx, ((actor, name, place), (parent, worker))| {
        Box::pin(async move {
            let (parent, worker) = (parent.as_deref(), worker.as_deref());
            create_grid(tx, &actor, kind, &name, &place, parent, worker).await
        })
    })
    .await
}

/// Assigns parts to a micro-grid ([`assign_parts`]); a warning, if any.
pub async fn assign_to_grid(
    db: &Db,
    actor: &str,
    grid_id: &str,
    part_ids: &[String],
) -> Result<Option<String>, StoreError> {
    let args = (actor.to_string(), grid_id.to_string(), part_ids.to_vec());
    db.write_with(args, |tx, (actor, id, parts)| {
        Box::pin(async move { assign_parts(tx, &actor, &id, &parts).await })
    })
    .await
}

/// Creates an organisation anchored on a place ([`create_org`]); its id.
pub async fn add_org(
    db: &Db,
    actor: &str,
    kind: OrgKind,
    name: &str,
    place: &Place,
    parent_id: Option<&str>,
    also_spans: &[Place],
) -> Result<String, StoreError> {
    let args = (
        (actor.to_string(), name.to_string(), place.clone()),
        (parent_id.map(str::to_string), also_spans.to_vec()),
    );
    db.write_with(args, move |tx, ((actor, name, place), (parent, spans))| {
        Box::pin(async move {
            create_org(tx, &actor, kind, &name, &place, parent.as_deref(), &spans).await
        })
    })
    .await
}

/// Adds a member to an organisation ([`add_member`]); the membership's id.
#[allow(clippy::too_many_arguments)]
pub async fn join_org(
    db: &Db,
    actor: &str,
    org_id: &str,
    person_id: &str,
    role: MemberRole,
    member_type: Option<FiveMemberType>,
    building_id: Option<&str>,
    term: (i64, Option<i64>),
) -> Result<String, StoreError> {
    let args = (
        (actor.to_string(), org_id.to_string(), person_id.to_string()),
        building_id.map(str::to_string),
    );
    db.write_with(args, move |tx, ((actor, org, person), building)| {
        Box::pin(async move {
            let building = building.as_deref();
            add_member(tx, &actor, &org, &person, role, member_type, building, term).await
        })
    })
    .await
}
