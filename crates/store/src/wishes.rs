//! Micro-wishes (微心愿): recorded for a household, verified by the
//! community, shown on the public wish wall (name masked, no address),
//! claimed whole or in shares by partner units (共驻共建单位) serving the
//! community, delivered, confirmed; an unclaimed one resolved by the
//! community. Every change has its audit entry in the same transaction.

use crate::audit::{self, Entry};
use crate::db::{self, Db};
use crate::error::StoreError;
use crate::register::Place;
use gongzhi_domain::mask::{mask_name, mask_text};
use gongzhi_domain::points::wishes::{check_share, Flag, WishStatus, WHOLE};
use serde::Serialize;
use serde_json::json;

/// A wish to record.
pub struct NewWish<'a> {
    pub person_id: &'a str,
    pub need: &'a str,
    pub reason: &'a str,
    pub flags: &'a [Flag],
}

fn text(field: &str, v: &str) -> Result<String, StoreError> {
    let v = v.trim();
    if v.is_empty() || v.chars().count() > 500 {
        return Err(StoreError::invalid(field, "must be 1 to 500 characters"));
    }
    Ok(v.to_string())
}

/// Records a wish for a person living at or below `place` (else 422
/// `person_id`).
pub async fn record(
    db: &Db,
    actor: &str,
    place: &Place,
    w: NewWish<'_>,
) -> Result<String, StoreError> {
    let need = text("need", w.need)?;
    let reason = text("reason", w.reason)?;
    let community = crate::points::community_of(place)?;
    let flags = w
        .flags
        .iter()
        .map(|f| f.as_str())
        .collect::<Vec<_>>()
        .join(",");
    let args = (
        actor.to_string(),
        place.clone(),
        w.person_id.to_string(),
        need,
        reason,
        flags,
        community,
    );
    db.write(move |tx| {
        let (actor, place, person, need, reason, flags, community) = args.clone();
        Box::pin(async move {
            let n = sqlx::query("SELECT COUNT(*) AS n FROM people p JOIN places pl ON pl.id = p.home_place_id WHERE p.id = $1 AND pl.path LIKE $2")
                .bind(&person)
                .bind(format!("{}%", place.path))
                .fetch_one(&mut **tx)
                .await?;
            if db::i(&n, "n")? != 1 {
                return Err(StoreError::invalid("person_id", format!("no person '{person}' living here")));
            }
            let id = db::new_id();
            sqlx::query("INSERT INTO wishes (id, community_id, place_id, person_id, need, reason, flags, status, recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
                .bind(&id).bind(&community).bind(&place.id).bind(&person).bind(&need).bind(&reason).bind(&flags)
                .bind(WishStatus::Recorded.as_str()).bind(&actor).bind(db::now_ms())
                .execute(&mut **tx).await?;
            audit::record(tx, Entry { actor, action: "wish.record".into(), entity: "wish".into(), entity_id: id.clone(), scope_path: place.path.clone(), before: None, after: Some(json!({"need": mask_text(&need), "flags": flags})) }).await?;
            Ok(id)
        })
    })
    .await
}

/// A wish and the path of its place (for the access check).
pub async fn place_of(db: &Db, id: &str) -> Result<(String, WishStatus), StoreError> {
    let r = sqlx::query("SELECT place_id, status FROM wishes WHERE id = $1")
        .bind(id)
        .fetch_optional(db.reader())
        .await?
        .ok_or_else(|| StoreError::not_found(format!("wish '{id}'")))?;
    let s = db::s(&r, "status")?;
    Ok((
        db::s(&r, "place_id")?,
        WishStatus::parse(&s)
            .ok_or_else(|| StoreError::Config(format!("unknown wish status '{s}'")))?,
    ))
}

/// Moves a wish `from` one of these states `to` another, with `set` (a
/// column assignment) — 409 when it is not in one of them.
async fn step(
    db: &Db,
    actor: &str,
    id: &str,
    from: &'static [WishStatus],
    to: WishStatus,
    set: &'static str,
    action: &'static str,
) -> Result<(), StoreError> {
    let args = (actor.to_string(), id.to_string());
    db.write(move |tx| {
        let (actor, id) = args.clone();
        Box::pin(async move {
            let list = from.iter().map(|s| format!("'{}'", s.as_str())).collect::<Vec<_>>().join(",");
            let sql = format!("UPDATE wishes SET status = $1{set} WHERE id = $2 AND status IN ({list})");
            let n = sqlx::query(&sql).bind(to.as_str()).bind(&id).bind(db::now_ms()).execute(&mut **tx).await?.rows_affected();
            if n != 1 {
                return Err(StoreError::Conflict(format!("the wish cannot be {action} now")));
            }
            let path: String = db::s(&sqlx::query("SELECT pl.path FROM wishes w JOIN places pl ON pl.id = w.place_id WHERE w.id = $1").bind(&id).fetch_one(&mut **tx).await?, "path")?;
            audit::record(tx, Entry { actor, action: format!("wish.{action}"), entity: "wish".into(), entity_id: id.clone(), scope_path: path, before: None, after: Some(json!({"status": to.as_str()})) }).await?;
            Ok(())
        })
    })
    .await
}

/// The community verifies a recorded wish: it goes on the wish wall.
pub async fn verify(db: &Db, actor: &str, id: &str) -> Result<(), StoreError> {
    step(
        db,
        actor,
        id,
        &[WishStatus::Recorded],
        WishStatus::Verified,
        ", verified_at = $3",
        "verified",
    )
    .await
}

/// The household or its grid worker confirms receipt of a delivered wish.
pub async fn confirm(db: &Db, actor: &str, id: &str) -> Result<(), StoreError> {
    step(
        db,
        actor,
        id,
        &[WishStatus::Delivered],
        WishStatus::Fulfilled,
        ", fulfilled_at = $3",
        "confirmed",
    )
    .await
}

/// The community resolves a wish nobody (fully) claimed itself.
pub async fn resolve(db: &Db, actor: &str, id: &str) -> Result<(), StoreError> {
    step(
        db,
        actor,
        id,
        &[WishStatus::Verified],
        WishStatus::Fulfilled,
        ", fulfilled_at = $3, by_community = 1",
        "resolved",
    )
    .await
}

/// The partner units (kind `partner_unit`) the user's person is a current
/// member of, with the communities they serve: (org id, community paths).
pub async fn partner_units_of_user(
    db: &Db,
    user_id: &str,
) -> Result<Vec<(String, Vec<String>)>, StoreError> {
    let rows = sqlx::query(
        "SELECT o.id, pl.path FROM users u JOIN memberships m ON m.person_id = u.person_id \
         JOIN organisations o ON o.id = m.org_id AND o.kind = 'partner_unit' \
         JOIN places pl ON pl.id = o.place_id OR pl.id IN (SELECT place_id FROM organisation_places WHERE org_id = o.id) \
         WHERE u.id = $1 AND (m.term_end IS NULL OR m.term_end > $2) ORDER BY o.id",
    )
    .bind(user_id)
    .bind(db::now_ms())
    .fetch_all(db.reader())
    .await?;
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for r in rows {
        let (o, p) = (db::s(&r, "id")?, db::s(&r, "path")?);
        match out.last_mut() {
            Some((last, paths)) if *last == o => paths.push(p),
            _ => out.push((o, vec![p])),
        }
    }
    Ok(out)
}

/// A wish as the wall and partner units see it: the person's name masked,
/// no address.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WallWish {
    pub id: String,
    pub community: String,
    /// Masked, e.g. `王**`.
    pub person: String,
    pub need: String,
    pub reason: String,
    pub flags: Vec<String>,
    pub status: String,
    /// Per mille claimed so far.
    pub claimed_permille: i64,
}

/// The verified, unfulfilled wishes of the communities at `paths` (the
/// wall: one community; a partner unit: those it serves).
pub async fn wall(db: &Db, paths: &[String]) -> Result<Vec<WallWish>, StoreError> {
    if paths.is_empty() {
        return Ok(vec![]);
    }
    let cond = (0..paths.len())
        .map(|i| format!("c.path LIKE ${}", i + 1))
        .collect::<Vec<_>>()
        .join(" OR ");
    let sql = format!(
        "SELECT w.id, c.name AS community, p.name, w.need, w.reason, w.flags, w.status, \
         CAST(COALESCE((SELECT SUM(share_permille) FROM wish_claims k WHERE k.wish_id = w.id), 0) AS BIGINT) AS claimed \
         FROM wishes w JOIN places c ON c.id = w.community_id JOIN people p ON p.id = w.person_id \
         WHERE w.status IN ('verified', 'claimed', 'delivered') AND ({cond}) ORDER BY w.recorded_at, w.id LIMIT 500"
    );
    let mut q = sqlx::query(&sql);
    for p in paths {
        q = q.bind(format!("{p}%"));
    }
    let mut out = Vec::new();
    for r in q.fetch_all(db.reader()).await? {
        let flags = db::s(&r, "flags")?;
        out.push(WallWish {
            id: db::s(&r, "id")?,
            community: db::s(&r, "community")?,
            person: mask_name(&db::s(&r, "name")?),
            need: mask_text(&db::s(&r, "need")?),
            reason: mask_text(&db::s(&r, "reason")?),
            flags: flags
                .split(',')
                .filter(|f| !f.is_empty())
                .map(str::to_string)
                .collect(),
            status: db::s(&r, "status")?,
            claimed_permille: db::i(&r, "claimed")?,
        });
    }
    Ok(out)
}

/// A partner unit claims `share` per mille of a verified wish of a
/// community it serves (`paths`); the whole claimed, the wish is claimed.
pub async fn claim(
    db: &Db,
    actor: &str,
    id: &str,
    org: &str,
    paths: &[String],
    share: i64,
) -> Result<String, StoreError> {
    let args = (
        actor.to_string(),
        id.to_string(),
        org.to_string(),
        paths.to_vec(),
    );
    db.write(move |tx| {
        let (actor, id, org, paths) = args.clone();
        Box::pin(async move {
            let r = sqlx::query("SELECT w.status, c.path FROM wishes w JOIN places c ON c.id = w.community_id WHERE w.id = $1")
                .bind(&id).fetch_optional(&mut **tx).await?
                .ok_or_else(|| StoreError::not_found(format!("wish '{id}'")))?;
            let path = db::s(&r, "path")?;
            if !paths.iter().any(|p| path.starts_with(p.as_str())) {
                return Err(StoreError::not_found(format!("wish '{id}'")));
            }
            if db::s(&r, "status")? != WishStatus::Verified.as_str() {
                return Err(StoreError::Conflict("only a verified wish not yet fully claimed is claimed".into()));
            }
            let taken = sqlx::query("SELECT CAST(COALESCE(SUM(share_permille), 0) AS BIGINT) AS n FROM wish_claims WHERE wish_id = $1").bind(&id).fetch_one(&mut **tx).await?;
            let taken = db::i(&taken, "n")?;
            check_share(taken, share).map_err(|(f, r)| StoreError::invalid(f, r))?;
            let cid = db::new_id();
            sqlx::query("INSERT INTO wish_claims (id, wish_id, org_id, share_permille, claimed_by, claimed_at) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(&cid).bind(&id).bind(&org).bind(share).bind(&actor).bind(db::now_ms())
                .execute(&mut **tx).await
                .map_err(|e| { let e = StoreError::from(e); if e.is_unique_violation() { StoreError::Conflict("your unit has already claimed this wish".into()) } else { e } })?;
            if taken + share == WHOLE {
                sqlx::query("UPDATE wishes SET status = 'claimed' WHERE id = $1").bind(&id).execute(&mut **tx).await?;
            }
            audit::record(tx, Entry { actor, action: "wish.claim".into(), entity: "wish".into(), entity_id: id.clone(), scope_path: path, before: None, after: Some(json!({"org_id": org, "share_permille": share})) }).await?;
            Ok(cid)
        })
    })
    .await
}

/// A partner unit records the delivery of its share; every share
/// delivered, the wish is delivered (waiting for the household's receipt).
pub async fn deliver(db: &Db, actor: &str, id: &str, org: &str) -> Result<(), StoreError> {
    let args = (actor.to_string(), id.to_string(), org.to_string());
    db.write(move |tx| {
        let (actor, id, org) = args.clone();
        Box::pin(async move {
            let n = sqlx::query("UPDATE wish_claims SET delivered_at = $1 WHERE wish_id = $2 AND org_id = $3 AND delivered_at IS NULL AND wish_id IN (SELECT id FROM wishes WHERE status = 'claimed')")
                .bind(db::now_ms()).bind(&id).bind(&org).execute(&mut **tx).await?.rows_affected();
            if n != 1 {
                return Err(StoreError::Conflict("no undelivered share of your unit on a fully claimed wish".into()));
            }
            let left = sqlx::query("SELECT COUNT(*) AS n FROM wish_claims WHERE wish_id = $1 AND delivered_at IS NULL").bind(&id).fetch_one(&mut **tx).await?;
            if db::i(&left, "n")? == 0 {
                sqlx::query("UPDATE wishes SET status = 'delivered' WHERE id = $1").bind(&id).execute(&mut **tx).await?;
            }
            let path: String = db::s(&sqlx::query("SELECT pl.path FROM wishes w JOIN places pl ON pl.id = w.place_id WHERE w.id = $1").bind(&id).fetch_one(&mut **tx).await?, "path")?;
            audit::record(tx, Entry { actor, action: "wish.deliver".into(), entity: "wish".into(), entity_id: id.clone(), scope_path: path, before: None, after: Some(json!({"org_id": org})) }).await?;
            Ok(())
        })
    })
    .await
}

/// The wish figures of a place (its community or street): integers.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct WishStats {
    pub collected: i64,
    pub verified: i64,
    pub claimed: i64,
    pub fulfilled: i64,
    pub fulfilled_by_community: i64,
    /// Whole days from verification (publication) to fulfilment, summed
    /// over the fulfilled wishes (divide by `fulfilled` for the mean).
    pub days_to_fulfilment_total: i64,
}

pub async fn stats(db: &Db, place: &Place) -> Result<WishStats, StoreError> {
    let r = sqlx::query(
        "SELECT COUNT(*) AS collected, \
         COUNT(w.verified_at) AS verified, \
         COUNT(CASE WHEN EXISTS (SELECT 1 FROM wish_claims k WHERE k.wish_id = w.id) THEN 1 END) AS claimed, \
         COUNT(w.fulfilled_at) AS fulfilled, \
         COUNT(CASE WHEN w.by_community = 1 THEN 1 END) AS by_community, \
         CAST(COALESCE(SUM(CASE WHEN w.fulfilled_at IS NOT NULL THEN (w.fulfilled_at - w.verified_at) / 86400000 END), 0) AS BIGINT) AS days \
         FROM wishes w JOIN places pl ON pl.id = w.place_id WHERE pl.id = $1 OR pl.path LIKE $2",
    )
    .bind(&place.id)
    .bind(format!("{}%", place.path))
    .fetch_one(db.reader())
    .await?;
    Ok(WishStats {
        collected: db::i(&r, "collected")?,
        verified: db::i(&r, "verified")?,
        claimed: db::i(&r, "claimed")?,
        fulfilled: db::i(&r, "fulfilled")?,
        fulfilled_by_community: db::i(&r, "by_community")?,
        days_to_fulfilment_total: db::i(&r, "days")?,
    })
}

/// The partner units placed at a community, by name.
pub async fn partner_units_at(db: &Db, community_id: &str) -> Result<Vec<String>, StoreError> {
    let rows = sqlx::query(
        "SELECT id FROM organisations WHERE kind = 'partner_unit' AND place_id = $1 ORDER BY name",
    )
    .bind(community_id)
    .fetch_all(db.reader())
    .await?;
    rows.iter().map(|r| db::s(r, "id")).collect()
}
