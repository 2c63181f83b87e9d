//! Owners' votes: creation, opening (the electorate frozen in the same
//! transaction), ballots (append-only; an owner's newest ballot is current),
//! evidence files, live turnout, closing (counted by the domain's
//! [`gongzhi_domain::vote::tally`]) and the published `gongzhi.vote/1` record.
//! The web layer decides who may call what; these functions enforce the
//! vote's own rules (states, window, channels, electorate, proxy limit).

use crate::audit::{self, Entry};
use crate::db::{self, Db, Tx};
use crate::error::StoreError;
use crate::register::{self, natural_cmp, Place};
use gongzhi_domain::ballot::{self, Channel, VoteStatus, DEFAULT_PROXY_LIMIT};
use gongzhi_domain::mask::mask_name;
use gongzhi_domain::money::{format_hundredths, Area};
use gongzhi_domain::questions::Question;
use gongzhi_domain::vote::{self, Ballot, Choice, Part, Rule, Tally, VoteRecord};
use rand::Rng;
use serde::Serialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;
use std::collections::HashMap;

/// The community setting naming how many owners one proxy holder may represent.
pub const PROXY_LIMIT_SETTING: &str = "vote.proxy_limit";

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VoteView {
    pub id: String,
    pub place_id: String,
    pub title: String,
    #[schema(value_type = Object)]
    pub rule: Rule,
    /// The rule in words.
    pub rule_text: String,
    pub opens_at: i64,
    pub closes_at: i64,
    #[schema(value_type = Vec<String>)]
    pub channels: Vec<Channel>,
    #[schema(value_type = String)]
    pub status: VoteStatus,
    /// Frozen at opening.
    pub proxy_limit: Option<i64>,
    /// m², two decimals; frozen at opening.
    pub total_area: Option<String>,
    pub total_headcount: Option<i64>,
    pub opened_at: Option<i64>,
    pub closed_at: Option<i64>,
    /// The tally at close: all six counts and every condition; for a vote
    /// with questions, the `gongzhi.vote/2` report (per question and option).
    pub result: Option<Value>,
    /// A vote with questions (an election, a naming vote): its questions as
    /// the `gongzhi.vote/2` record spells them; absent for a yes/no vote.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub questions: Option<Vec<Question>>,
    #[serde(skip)]
    pub scope_path: String,
}

const VOTE_COLS: &str = "id, place_id, scope_path, title, rule_json, opens_at, closes_at, channels, status, proxy_limit, total_area, total_heads, opened_at, closed_at, result_json, questions_json";

fn vote_from(r: &AnyRow) -> Result<VoteView, StoreError> {
    let rule: Rule = serde_json::from_str(&db::s(r, "rule_json")?)
        .map_err(|e| StoreError::Config(format!("stored rule: {e}")))?;
    let channels = db::s(r, "channels")?
        .split(',')
        .filter_map(Channel::parse)
        .collect();
    let status = VoteStatus::parse(&db::s(r, "status")?)
        .ok_or_else(|| StoreError::Config("stored vote status".into()))?;
    Ok(VoteView {
        id: db::s(r, "id")?,
        place_id: db::s(r, "place_id")?,
        title: db::s(r, "title")?,
        rule_text: rule.to_string(),
        rule,
        opens_at: db::i(r, "opens_at")?,
        closes_at: db::i(r, "closes_at")?,
        channels,
        status,
        proxy_limit: db::oi(r, "proxy_limit")?,
        total_area: db::oi(r, "total_area")?.map(format_hundredths),
        total_headcount: db::oi(r, "total_heads")?,
        opened_at: db::oi(r, "opened_at")?,
        closed_at: db::oi(r, "closed_at")?,
        result: db::os(r, "result_json")?.and_then(|s| serde_json::from_str(&s).ok()),
        questions: match db::os(r, "questions_json")? {
            Some(q) => Some(
                serde_json::from_str(&q)
                    .map_err(|e| StoreError::Config(format!("stored questions: {e}")))?,
            ),
            None => None,
        },
        scope_path: db::s(r, "scope_path")?,
    })
}

pub struct NewVote<'a> {
    pub title: &'a str,
    /// A building or a compound.
    pub place: &'a Place,
    pub rule: Rule,
    pub opens_at: i64,
    pub closes_at: i64,
    pub channels: Vec<Channel>,
}

/// Creates a vote in draft.
pub async fn create_vote(tx: &mut Tx, actor: &str, v: NewVote<'_>) -> Result<VoteView, StoreError> {
    let title = v.title.trim();
    if title.is_empty() || title.chars().count() > 200 {
        return Err(StoreError::invalid("title", "1 to 200 characters"));
    }
    if !matches!(v.place.kind.as_str(), "building" | "compound") {
        return Err(StoreError::invalid(
            "place_id",
            format!(
                "a vote's scope is a building or a compound, not a {}",
                v.place.kind
            ),
        ));
    }
    v.rule
        .validate()
        .map_err(|e| StoreError::invalid("rule", e.to_string()))?;
    if v.closes_at <= v.opens_at {
        return Err(StoreError::invalid(
            "closes_at",
            "the window must close after it opens",
        ));
    }
    let channels = ballot::parse_channels(
        &v.channels
            .iter()
            .map(|c| c.as_str().to_string())
            .collect::<Vec<_>>(),
    )
    .map_err(|e| StoreError::invalid("channels", e))?;
    let id = db::new_id();
    let now = db::now_ms();
    let rule_json = serde_json::to_string(&v.rule).expect("a rule serializes");
    let ch = channels
        .iter()
        .map(|c| c.as_str())
        .collect::<Vec<_>>()
        .join(",");
    sqlx::query(
        "INSERT INTO votes (id, place_id, scope_path, title, rule_json, opens_at, closes_at, channels, status, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(id.clone())
    .bind(v.place.id.clone())
    .bind(v.place.path.clone())
    .bind(title.to_string())
    .bind(rule_json)
    .bind(v.opens_at)
    .bind(v.closes_at)
    .bind(ch)
    .bind(VoteStatus::Draft.as_str())
    .bind(actor.to_string())
    .bind(now)
    .execute(&mut **tx)
    .await?;
    let view = vote_in_tx(tx, &id).await?;
    audit::record(
        tx,
        Entry {
            actor: actor.into(),
            action: "vote.create".into(),
            entity: "vote".into(),
            entity_id: id,
            scope_path: v.place.path.clone(),
            before: None,
            after: Some(json!(view)),
        },
    )
    .await?;
    Ok(view)
}

pub(crate) async fn vote_in_tx(tx: &mut Tx, id: &str) -> Result<VoteView, StoreError> {
    let r = sqlx::query(&format!("SELECT {VOTE_COLS} FROM votes WHERE id = $1"))
        .bind(id.to_string())
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| StoreError::not_found(format!("vote '{id}'")))?;
    vote_from(&r)
}

pub async fn get_vote(db: &Db, id: &str) -> Result<VoteView, StoreError> {
    let r = sqlx::query(&format!("SELECT {VOTE_COLS} FROM votes WHERE id = $1"))
        .bind(id.to_string())
        .fetch_optional(db.reader())
        .await?
        .ok_or_else(|| StoreError::not_found(format!("vote '{id}'")))?;
    vote_from(&r)
}

/// Votes whose scope is at or below `place`, newest first.
pub async fn votes_under(db: &Db, place: &Place) -> Result<Vec<VoteView>, StoreError> {
    let (lo, hi) = crate::register::subtree(&place.path);
    let rows = sqlx::query(&format!("SELECT {VOTE_COLS} FROM votes WHERE scope_path >= $1 AND scope_path < $2 ORDER BY id DESC LIMIT 500"))
        .bind(lo)
        .bind(hi)
        .fetch_all(db.reader())
        .await?;
    rows.iter().map(vote_from).collect()
}

/// The votes an owner is in the frozen electorate of, newest first.
pub async fn votes_of_owners(db: &Db, owner_ids: &[String]) -> Result<Vec<VoteView>, StoreError> {
    if owner_ids.is_empty() {
        return Ok(vec![]);
    }
    let sql = format!(
        "SELECT {} FROM votes v WHERE v.id IN (SELECT DISTINCT vote_id FROM vote_electorate WHERE owner_id IN ({})) ORDER BY v.id DESC LIMIT 500",
        VOTE_COLS.split(", ").map(|c| format!("v.{c}")).collect::<Vec<_>>().join(", "),
        db::in_placeholders(1, owner_ids.len())
    );
    let mut q = sqlx::query(&sql);
    for o in owner_ids {
        q = q.bind(o.clone());
    }
    q.fetch_all(db.reader())
        .await?
        .iter()
        .map(vote_from)
        .collect()
}

/// A setting of a place or the nearest ancestor that has it.
pub async fn setting(db: &Db, place_path: &str, name: &str) -> Result<Option<String>, StoreError> {
    let rows = register::rows_along_path(
        db,
        place_path,
        "SELECT place_id, value FROM settings WHERE name = $1 AND place_id IN",
        &[name],
        "",
    )
    .await?;
    rows.iter()
        .max_by_key(|(depth, _)| *depth)
        .map(|(_, r)| db::s(r, "value"))
        .transpose()
}

/// Sets a place's setting (audited with before/after). `vote.proxy_limit`
/// must be a whole number from 1 to 100.
pub(crate) async fn set_setting(
    tx: &mut Tx,
    actor: &str,
    place: &Place,
    name: &str,
    value: &str,
) -> Result<(), StoreError> {
    if name == PROXY_LIMIT_SETTING {
        match value.trim().parse::<i64>() {
            Ok(n) if (1..=100).contains(&n) => {}
            _ => return Err(StoreError::invalid("value", "a whole number from 1 to 100")),
        }
    } else {
        return Err(StoreError::invalid(
            "name",
            format!("unknown setting '{name}' (expected {PROXY_LIMIT_SETTING})"),
        ));
    }
    let before = sqlx::query("SELECT value FROM settings WHERE place_id = $1 AND name = $2")
        .bind(place.id.clone())
        .bind(name.to_string())
        .fetch_optional(&mut **tx)
        .await?
        .map(|r| db::s(&r, "value"))
        .transpose()?;
    if before.is_some() {
        sqlx::query(
            "UPDATE settings SET value = $1, updated_at = $2 WHERE place_id = $3 AND name = $4",
        )
        .bind(value.trim().to_string())
        .bind(db::now_ms())
        .bind(place.id.clone())
        .bind(name.to_string())
        .execute(&mut **tx)
        .await?;
    } else {
        sqlx::query(
            "INSERT INTO settings (place_id, name, value, updated_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(place.id.clone())
        .bind(name.to_string())
        .bind(value.trim().to_string())
        .bind(db::now_ms())
        .execute(&mut **tx)
        .await?;
    }
    audit::record(
        tx,
        Entry {
            actor: actor.into(),
            action: "setting.set".into(),
            entity: "setting".into(),
            entity_id: format!("{}:{name}", place.id),
            scope_path: place.path.clone(),
            before: before.map(|b| json!({ "value": b })),
            after: Some(json!({ "value": value.trim() })),
        },
    )
    .await
}

/// Opens a draft vote: freezes the electorate — every exclusive part in
/// scope with its area and owner of record — and the proxy limit, in this
/// same transaction.
/// `now` is the time of opening (ms): after the window's close it is refused.
pub async fn open_vote(
    tx: &mut Tx,
    actor: &str,
    id: &str,
    proxy_limit: i64,
    now: i64,
) -> Result<VoteView, StoreError> {
    let v = vote_in_tx(tx, id).await?;
    if v.status != VoteStatus::Draft {
        return Err(StoreError::Conflict(format!(
            "the vote is {}; only a draft can be opened",
            v.status
        )));
    }
    if now >= v.closes_at {
        return Err(StoreError::Conflict(
            "the vote's window has already closed".into(),
        ));
    }
    let (lo, hi) = crate::register::subtree(&v.scope_path);
    let rows = sqlx::query(
        "SELECT pt.id, pt.number, pt.area_centi, pt.owner_id, pl.kind AS place_kind, pl.name AS place_name, par.name AS parent_name \
         FROM parts pt JOIN places pl ON pl.id = pt.place_id LEFT JOIN places par ON par.id = pl.parent_id \
         WHERE pl.path >= $1 AND pl.path < $2",
    )
    .bind(lo)
    .bind(hi)
    .fetch_all(&mut **tx)
    .await?;
    if rows.is_empty() {
        return Err(StoreError::Conflict(
            "there are no exclusive parts in the vote's scope: the electorate would be empty"
                .into(),
        ));
    }
    let mut parts: Vec<(String, String, i64, String)> = Vec::with_capacity(rows.len());
    for r in &rows {
        let label = part_label(r)?;
        parts.push((
            db::s(r, "id")?,
            label,
            db::i(r, "area_centi")?,
            db::s(r, "owner_id")?,
        ));
    }
    parts.sort_by(|a, b| natural_cmp(&a.1, &b.1).then_with(|| a.0.cmp(&b.0)));
    // Labels must be unique in the record; a clash (two buildings of one
    // name) is resolved by suffixing the part id.
    let mut seen: HashMap<String, usize> = HashMap::new();
    for p in &parts {
        *seen.entry(p.1.clone()).or_default() += 1;
    }
    for p in parts.iter_mut() {
        if seen[&p.1] > 1 {
            p.1 = format!("{}#{}", p.1, &p.0[p.0.len() - 6..]);
        }
    }
    let mut refs: HashMap<String, String> = HashMap::new();
    let mut total_area: i64 = 0;
    for p in &parts {
        let n = refs.len() + 1;
        refs.entry(p.3.clone()).or_insert_with(|| format!("o-{n}"));
        total_area += p.2;
    }
    for chunk in parts.chunks(500) {
        let sql = format!(
            "INSERT INTO vote_electorate (vote_id, part_id, part_label, area_centi, owner_id, owner_ref) VALUES {}",
            db::values_placeholders(chunk.len(), 6)
        );
        let mut q = sqlx::query(&sql);
        for p in chunk {
            q = q
                .bind(id.to_string())
                .bind(p.0.clone())
                .bind(p.1.clone())
                .bind(p.2)
                .bind(p.3.clone())
                .bind(refs[&p.3].clone());
        }
        q.execute(&mut **tx).await?;
    }
    let heads = refs.len() as i64;
    sqlx::query("UPDATE votes SET status = $1, opened_at = $2, total_area = $3, total_heads = $4, proxy_limit = $5 WHERE id = $6")
        .bind(VoteStatus::Open.as_str())
        .bind(now)
        .bind(total_area)
        .bind(heads)
        .bind(proxy_limit)
        .bind(id.to_string())
        .execute(&mut **tx)
        .await?;
    let view = vote_in_tx(tx, id).await?;
    audit::record(tx, Entry {
        actor: actor.into(),
        action: "vote.open".into(),
        entity: "vote".into(),
        entity_id: id.into(),
        scope_path: v.scope_path.clone(),
        before: Some(json!({"status": v.status})),
        after: Some(json!({"status": view.status, "parts": parts.len(), "total_area": view.total_area, "total_headcount": heads, "proxy_limit": proxy_limit})),
    })
    .await?;
    Ok(view)
}

/// The proxy limit for a new vote over `place`: the nearest `vote.proxy_limit`
/// setting, else [`DEFAULT_PROXY_LIMIT`].
pub async fn proxy_limit_for(db: &Db, place_path: &str) -> Result<i64, StoreError> {
    Ok(setting(db, place_path, PROXY_LIMIT_SETTING)
        .await?
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_PROXY_LIMIT))
}

#[derive(Debug, Clone, Serialize)]
pub struct Elector {
    pub part_id: String,
    pub part_label: String,
    pub area_centi: i64,
    pub owner_id: String,
    pub owner_ref: String,
}

pub(crate) async fn electorate_from<'e, E: sqlx::Executor<'e, Database = sqlx::Any>>(
    ex: E,
    vote_id: &str,
) -> Result<Vec<Elector>, StoreError> {
    let rows = sqlx::query("SELECT part_id, part_label, area_centi, owner_id, owner_ref FROM vote_electorate WHERE vote_id = $1")
        .bind(vote_id.to_string())
        .fetch_all(ex)
        .await?;
    let mut out: Vec<Elector> = rows
        .iter()
        .map(|r| {
            Ok(Elector {
                part_id: db::s(r, "part_id")?,
                part_label: db::s(r, "part_label")?,
                area_centi: db::i(r, "area_centi")?,
                owner_id: db::s(r, "owner_id")?,
                owner_ref: db::s(r, "owner_ref")?,
            })
        })
        .collect::<Result<_, StoreError>>()?;
    out.sort_by(|a, b| natural_cmp(&a.part_label, &b.part_label));
    Ok(out)
}

/// A part's label, `building-unit-number` (or `building-number`), from a row
/// with `number`, `place_kind`, `place_name` and `parent_name`.
pub(crate) fn part_label(r: &AnyRow) -> Result<String, StoreError> {
    let number = db::s(r, "number")?;
    Ok(if db::s(r, "place_kind")? == "unit" {
        format!(
            "{}-{}-{}",
            db::os(r, "parent_name")?.unwrap_or_default(),
            db::s(r, "place_name")?,
            number
        )
    } else {
        format!("{}-{}", db::s(r, "place_name")?, number)
    })
}

/// The frozen electorate, parts in label order.
pub async fn electorate(db: &Db, vote_id: &str) -> Result<Vec<Elector>, StoreError> {
    electorate_from(db.reader(), vote_id).await
}

/// Which of `owner_ids` are in the frozen electorate of `vote_id` (sorted),
/// through the (vote, owner) index rather than the whole electorate.
pub async fn electors_among(
    db: &Db,
    vote_id: &str,
    owner_ids: &[String],
) -> Result<Vec<String>, StoreError> {
    let mut out = Vec::new();
    for chunk in owner_ids.chunks(500) {
        let sql = format!(
            "SELECT DISTINCT owner_id FROM vote_electorate WHERE vote_id = $1 AND owner_id IN ({})",
            db::in_placeholders(2, chunk.len())
        );
        let mut q = sqlx::query(&sql).bind(vote_id.to_string());
        for o in chunk {
            q = q.bind(o.clone());
        }
        for r in q.fetch_all(db.reader()).await? {
            out.push(db::s(&r, "owner_id")?);
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EvidenceView {
    pub id: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
}

/// Stores an evidence file (a scanned paper ballot, a signed proxy) for a
/// vote, with its SHA-256.
pub async fn add_evidence(
    tx: &mut Tx,
    actor: &str,
    vote_id: &str,
    content_type: &str,
    bytes: &[u8],
) -> Result<EvidenceView, StoreError> {
    let v = vote_in_tx(tx, vote_id).await?;
    ballot::check_evidence(content_type, bytes).map_err(|e| StoreError::invalid("file", e))?;
    let ct = ballot::media_type(content_type);
    let sha = hex::encode(Sha256::digest(bytes));
    let id = db::new_id();
    sqlx::query("INSERT INTO vote_evidence (id, vote_id, content_type, size, sha256, bytes_hex, uploaded_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
        .bind(id.clone())
        .bind(vote_id.to_string())
        .bind(ct.clone())
        .bind(bytes.len() as i64)
        .bind(sha.clone())
        .bind(hex::encode(bytes))
        .bind(actor.to_string())
        .bind(db::now_ms())
        .execute(&mut **tx)
        .await?;
    let view = EvidenceView {
        id: id.clone(),
        content_type: ct,
        size: bytes.len() as i64,
        sha256: sha,
    };
    audit::record(
        tx,
        Entry {
            actor: actor.into(),
            action: "vote.evidence".into(),
            entity: "vote_evidence".into(),
            entity_id: id,
            scope_path: v.scope_path,
            before: None,
            after: Some(json!(view)),
        },
    )
    .await?;
    Ok(view)
}

/// An evidence file's metadata and bytes.
pub async fn get_evidence(
    db: &Db,
    vote_id: &str,
    id: &str,
) -> Result<(EvidenceView, Vec<u8>), StoreError> {
    let r = sqlx::query("SELECT id, content_type, size, sha256, bytes_hex FROM vote_evidence WHERE id = $1 AND vote_id = $2")
        .bind(id.to_string())
        .bind(vote_id.to_string())
        .fetch_optional(db.reader())
        .await?
        .ok_or_else(|| StoreError::not_found(format!("evidence '{id}'")))?;
    let bytes = hex::decode(db::s(&r, "bytes_hex")?)
        .map_err(|e| StoreError::Config(format!("stored evidence: {e}")))?;
    Ok((
        EvidenceView {
            id: db::s(&r, "id")?,
            content_type: db::s(&r, "content_type")?,
            size: db::i(&r, "size")?,
            sha256: db::s(&r, "sha256")?,
        },
        bytes,
    ))
}

pub struct Cast<'a> {
    pub vote_id: &'a str,
    pub owner_id: &'a str,
    pub choice: Choice,
    pub channel: Channel,
    /// Online: the owner's own user (linked through `owner_accounts`, checked
    /// by the caller); paper and proxy: the worker who recorded it.
    pub cast_by: &'a str,
    /// Proxy only: who holds the written authorisation.
    pub proxy_holder: Option<&'a str>,
    /// Paper and proxy: the scan of the ballot or of the authorisation.
    pub evidence_id: Option<&'a str>,
    pub now: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Receipt {
    pub ballot_id: String,
    /// Printed on the board; the owner keeps it to check their ballot.
    pub receipt: String,
    pub seq: i64,
    /// The ballot this one replaces as the owner's current ballot.
    pub supersedes: Option<String>,
    #[schema(value_type = String)]
    pub channel: Channel,
    #[schema(value_type = String)]
    pub choice: Choice,
}

fn receipt_code() -> String {
    const ALPHABET: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
    let mut rng = rand::thread_rng();
    (0..10)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

/// The N of an opaque owner key `o-N` (the owner's place in the natural
/// order of first parts); 0 if it is not one.
fn ref_ord(owner_ref: &str) -> i64 {
    owner_ref
        .strip_prefix("o-")
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// The domain's re-cast limit ([`ballot::check_recast`]) for the owner's
/// next ballot, counted from `vote_ballots` in the cast's transaction:
/// `cast` ballots so far, and the times of their re-casts in the window.
async fn check_recast(tx: &mut Tx, c: &Cast<'_>, cast: i64) -> Result<(), StoreError> {
    let recent = if cast > 1 {
        sqlx::query("SELECT cast_at FROM vote_ballots WHERE vote_id = $1 AND owner_id = $2 AND seq > 1 AND cast_at > $3")
            .bind(c.vote_id.to_string())
            .bind(c.owner_id.to_string())
            .bind(c.now - ballot::RECAST_WINDOW_MS)
            .fetch_all(&mut **tx)
            .await?
            .iter()
            .map(|r| db::i(r, "cast_at"))
            .collect::<Result<Vec<_>, _>>()?
    } else {
        vec![]
    };
    match ballot::check_recast(cast, &recent, c.now) {
        Ok(()) => Ok(()),
        Err(e @ ballot::RecastRefusal::TooSoon { .. }) => Err(StoreError::RateLimited {
            field: "owner_id".into(),
            retry_after_secs: e.retry_after_secs().unwrap_or(1),
            reason: e.to_string(),
        }),
        Err(e) => Err(StoreError::invalid("owner_id", e.to_string())),
    }
}

/// Refuses a ballot unless the vote is open.
pub(crate) fn check_open(status: VoteStatus) -> Result<(), StoreError> {
    match status {
        VoteStatus::Draft => Err(StoreError::Conflict("the vote is not open yet".into())),
        VoteStatus::Closed => Err(StoreError::Conflict(
            "the vote is closed; no more ballots are accepted".into(),
        )),
        VoteStatus::Open => Ok(()),
    }
}

/// A user's own online ballot ([`cast_for_user`]).
pub struct OwnBallot<'a> {
    pub user_id: &'a str,
    pub vote_id: &'a str,
    /// Which of the user's owners votes; needed only when several of them
    /// are in the electorate.
    pub owner_id: Option<&'a str>,
    pub choice: Choice,
    /// The user's audit name.
    pub cast_by: &'a str,
    pub now: i64,
}

/// Casts a user's own online ballot in one transaction: the vote must be
/// open (409); the owner is `owner_id` if given (it must be linked to the
/// account, else 403), else the user's one owner in the frozen electorate
/// (none linked: 403; none in the electorate or several: `owner_id`); then
/// [`cast`] with its own checks (window, channel, re-cast limit). The API,
/// the vote page and the demo all cast through here.
pub async fn cast_for_user(db: &Db, b: OwnBallot<'_>) -> Result<Receipt, StoreError> {
    cast_for_user_with(db, b, None).await
}

/// [`cast_for_user`]; with `answers`, the ballot answers the vote's
/// questions ([`crate::vote_questions::cast_answers`]).
pub(crate) async fn cast_for_user_with(
    db: &Db,
    b: OwnBallot<'_>,
    answers: Option<Answered>,
) -> Result<Receipt, StoreError> {
    let args = (
        b.user_id.to_string(),
        b.vote_id.to_string(),
        b.cast_by.to_string(),
        b.owner_id.map(str::to_string),
        answers,
    );
    let (choice, now) = (b.choice, b.now);
    db.write_with(
        args,
        move |tx, (user_id, vote_id, cast_by, owner_id, answers)| {
            Box::pin(async move {
                check_open(vote_in_tx(tx, &vote_id).await?.status)?;
                let owner_id = casting_owner(tx, &user_id, &vote_id, owner_id).await?;
                let c = Cast {
                    vote_id: &vote_id,
                    owner_id: &owner_id,
                    choice,
                    channel: Channel::Online,
                    cast_by: &cast_by,
                    proxy_holder: None,
                    evidence_id: None,
                    now,
                };
                cast_or_answer(tx, c, answers).await
            })
        },
    )
    .await
}

/// A ballot's answers to a vote's questions: `(question id, option ids)`.
pub(crate) type Answered = Vec<(String, Vec<String>)>;

async fn cast_or_answer(
    tx: &mut Tx,
    c: Cast<'_>,
    answers: Option<Answered>,
) -> Result<Receipt, StoreError> {
    match answers {
        Some(a) => crate::vote_questions::cast_answers(tx, c, a).await,
        None => cast(tx, c).await,
    }
}

/// The owner in whose name `user_id` casts online (see [`cast_for_user`]).
pub(crate) async fn casting_owner(
    tx: &mut Tx,
    user_id: &str,
    vote_id: &str,
    owner_id: Option<String>,
) -> Result<String, StoreError> {
    let linked: Vec<String> = sqlx::query("SELECT owner_id FROM owner_accounts WHERE user_id = $1")
        .bind(user_id.to_string())
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(|r| db::s(r, "owner_id"))
        .collect::<Result<_, _>>()?;
    if let Some(o) = owner_id {
        if !linked.contains(&o) {
            return Err(StoreError::Forbidden("only the owner may cast an online ballot: this owner is not linked to your account".into()));
        }
        return Ok(o);
    }
    let mine = sqlx::query("SELECT DISTINCT owner_id FROM vote_electorate WHERE vote_id = $1 AND owner_id IN (SELECT owner_id FROM owner_accounts WHERE user_id = $2) ORDER BY owner_id")
        .bind(vote_id.to_string())
        .bind(user_id.to_string())
        .fetch_all(&mut **tx)
        .await?;
    match mine.as_slice() {
        [one] => db::s(one, "owner_id"),
        [] if linked.is_empty() => Err(StoreError::Forbidden("only an owner may cast an online ballot: your account is not linked to an owner of record".into())),
        [] => Err(StoreError::invalid("owner_id", "none of the owners linked to your account is in this vote's electorate")),
        _ => Err(StoreError::invalid("owner_id", "several of your owners are in this vote; say which one votes")),
    }
}

/// Records one ballot ([`cast`]) in its own transaction: a worker's paper
/// or proxy ballot with its evidence.
pub async fn record_ballot(db: &Db, c: Cast<'_>) -> Result<Receipt, StoreError> {
    record_ballot_with(db, c, None).await
}

/// [`record_ballot`]; with `answers`, the ballot answers the vote's
/// questions ([`crate::vote_questions::cast_answers`]).
pub(crate) async fn record_ballot_with(
    db: &Db,
    c: Cast<'_>,
    answers: Option<Answered>,
) -> Result<Receipt, StoreError> {
    let args = (
        c.vote_id.to_string(),
        c.owner_id.to_string(),
        c.cast_by.to_string(),
        c.proxy_holder.map(str::to_string),
        c.evidence_id.map(str::to_string),
        answers,
    );
    let (choice, channel, now) = (c.choice, c.channel, c.now);
    db.write_with(
        args,
        move |tx, (vote_id, owner_id, cast_by, holder, evidence, answers)| {
            Box::pin(async move {
                let c = Cast {
                    vote_id: &vote_id,
                    owner_id: &owner_id,
                    choice,
                    channel,
                    cast_by: &cast_by,
                    proxy_holder: holder.as_deref(),
                    evidence_id: evidence.as_deref(),
                    now,
                };
                cast_or_answer(tx, c, answers).await
            })
        },
    )
    .await
}

/// Casts (or recasts) an owner's ballot. A new ballot before close becomes
/// the owner's current one (`vote_current_ballots`, written in this
/// transaction); the earlier stays, superseded. Re-casting is limited by the
/// domain's [`ballot::check_recast`] (counted here from `vote_ballots`):
/// too many in the window → [`StoreError::RateLimited`]; too many in all →
/// invalid `owner_id`.
pub async fn cast(tx: &mut Tx, c: Cast<'_>) -> Result<Receipt, StoreError> {
    cast_checked(tx, c, false).await
}

/// [`cast`]; `answers` says the caller appends the ballot's answers
/// ([`crate::vote_questions::cast_answers`]): a vote with questions takes
/// only such ballots, a yes/no vote never.
pub(crate) async fn cast_checked(
    tx: &mut Tx,
    c: Cast<'_>,
    answers: bool,
) -> Result<Receipt, StoreError> {
    let v = vote_in_tx(tx, c.vote_id).await?;
    check_open(v.status)?;
    match (v.questions.is_some(), answers) {
        (true, false) => {
            return Err(StoreError::invalid(
                "answers",
                "this vote has questions: the ballot answers them (answers), not yes/no",
            ))
        }
        (false, true) => {
            return Err(StoreError::invalid(
                "answers",
                "this vote has no questions: the ballot is a choice (yes, no, abstain)",
            ))
        }
        _ => {}
    }
    if !ballot::in_window(v.opens_at, v.closes_at, c.now) {
        return Err(StoreError::Conflict(format!(
            "outside the voting window (ballots are accepted from {} to {}, ms since epoch)",
            v.opens_at, v.closes_at
        )));
    }
    if !v.channels.contains(&c.channel) {
        return Err(StoreError::invalid(
            "channel",
            format!("this vote does not accept {} ballots", c.channel),
        ));
    }
    let owner_ref = sqlx::query(
        "SELECT owner_ref FROM vote_electorate WHERE vote_id = $1 AND owner_id = $2 LIMIT 1",
    )
    .bind(c.vote_id.to_string())
    .bind(c.owner_id.to_string())
    .fetch_optional(&mut **tx)
    .await?;
    let Some(owner_ref) = owner_ref else {
        return Err(StoreError::invalid(
            "owner_id",
            "this owner is not in the vote's electorate",
        ));
    };
    let owner_ord = ref_ord(&db::s(&owner_ref, "owner_ref")?);
    // The owner's ballots so far, from the append-only record itself.
    let prev = sqlx::query("SELECT id, seq FROM vote_ballots WHERE vote_id = $1 AND owner_id = $2 ORDER BY seq DESC LIMIT 1")
        .bind(c.vote_id.to_string())
        .bind(c.owner_id.to_string())
        .fetch_optional(&mut **tx)
        .await?;
    let (supersedes, seq) = match &prev {
        Some(r) => (Some(db::s(r, "id")?), db::i(r, "seq")? + 1),
        None => (None, 1),
    };
    check_recast(tx, &c, seq - 1).await?;
    let mut holder = None;
    if matches!(c.channel, Channel::Paper | Channel::Proxy) {
        let Some(eid) = c.evidence_id else {
            return Err(StoreError::invalid(
                "evidence_id",
                format!("a {} ballot needs its evidence file", c.channel),
            ));
        };
        let found = sqlx::query("SELECT id FROM vote_evidence WHERE id = $1 AND vote_id = $2")
            .bind(eid.to_string())
            .bind(c.vote_id.to_string())
            .fetch_optional(&mut **tx)
            .await?;
        if found.is_none() {
            return Err(StoreError::invalid(
                "evidence_id",
                "no such evidence file in this vote",
            ));
        }
    }
    if c.channel == Channel::Proxy {
        let h = c.proxy_holder.map(str::trim).unwrap_or("");
        if h.is_empty() || h.chars().count() > 100 {
            return Err(StoreError::invalid(
                "proxy_holder",
                "the proxy holder's name (1 to 100 characters) is needed",
            ));
        }
        holder = Some(h.to_string());
        let limit = v.proxy_limit.unwrap_or(DEFAULT_PROXY_LIMIT);
        let held = db::i(
            &sqlx::query(
                "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM vote_current_ballots cb JOIN vote_ballots b ON b.id = cb.ballot_id \
                 WHERE cb.vote_id = $1 AND cb.owner_id <> $2 AND b.channel = $3 AND b.proxy_holder = $4",
            )
            .bind(c.vote_id.to_string())
            .bind(c.owner_id.to_string())
            .bind(Channel::Proxy.as_str())
            .bind(h.to_string())
            .fetch_one(&mut **tx)
            .await?,
            "n",
        )?;
        if held >= limit {
            return Err(StoreError::invalid(
                "proxy_holder",
                format!(
                    "'{h}' already represents {held} owners in this vote; the limit is {limit}"
                ),
            ));
        }
    }
    let id = db::new_id();
    let receipt = receipt_code();
    sqlx::query(
        "INSERT INTO vote_ballots (id, vote_id, owner_id, seq, choice, channel, receipt, cast_by, proxy_holder, evidence_id, supersedes, cast_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(id.clone())
    .bind(c.vote_id.to_string())
    .bind(c.owner_id.to_string())
    .bind(seq)
    .bind(c.choice.as_str())
    .bind(c.channel.as_str())
    .bind(receipt.clone())
    .bind(c.cast_by.to_string())
    .bind(holder.clone())
    .bind(c.evidence_id.map(str::to_string))
    .bind(supersedes.clone())
    .bind(c.now)
    .execute(&mut **tx)
    .await?;
    // The owner's current ballot, in the same transaction as the append:
    // moved forward on a re-cast, else inserted (a plain INSERT for a first
    // ballot takes no predicate lock on PostgreSQL, unlike an upsert's
    // conflict check, so concurrent first ballots do not fail to serialize).
    let moved = if seq > 1 {
        sqlx::query("UPDATE vote_current_ballots SET ballot_id = $1, seq = $2, cast_at = $3 WHERE vote_id = $4 AND owner_id = $5")
            .bind(id.clone())
            .bind(seq)
            .bind(c.now)
            .bind(c.vote_id.to_string())
            .bind(c.owner_id.to_string())
            .execute(&mut **tx)
            .await?
            .rows_affected()
    } else {
        0
    };
    if moved == 0 {
        sqlx::query("INSERT INTO vote_current_ballots (vote_id, owner_id, ballot_id, seq, owner_ord, cast_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(c.vote_id.to_string())
            .bind(c.owner_id.to_string())
            .bind(id.clone())
            .bind(seq)
            .bind(owner_ord)
            .bind(c.now)
            .execute(&mut **tx)
            .await?;
    }
    let r = Receipt {
        ballot_id: id.clone(),
        receipt,
        seq,
        supersedes,
        channel: c.channel,
        choice: c.choice,
    };
    audit::record(tx, Entry {
        actor: c.cast_by.into(),
        action: if seq > 1 { "vote.ballot.replace".into() } else { "vote.ballot".into() },
        entity: "vote_ballot".into(),
        entity_id: id,
        scope_path: v.scope_path,
        before: None,
        after: Some(json!({"vote_id": c.vote_id, "owner_id": c.owner_id, "receipt": r.receipt, "seq": seq, "supersedes": r.supersedes, "channel": c.channel, "choice": c.choice, "proxy_holder": holder, "evidence_id": c.evidence_id})),
    })
    .await?;
    Ok(r)
}

#[derive(Debug, Clone)]
pub struct StoredBallot {
    pub id: String,
    pub owner_id: String,
    pub seq: i64,
    pub choice: Choice,
    pub channel: Channel,
    pub receipt: String,
    pub proxy_holder: Option<String>,
    pub cast_at: i64,
    pub current: bool,
}

const BALLOT_COLS: &str =
    "b.id, b.owner_id, b.seq, b.choice, b.channel, b.receipt, b.proxy_holder, b.cast_at";

fn ballot_from(r: &AnyRow, current: bool) -> Result<StoredBallot, StoreError> {
    Ok(StoredBallot {
        id: db::s(r, "id")?,
        owner_id: db::s(r, "owner_id")?,
        seq: db::i(r, "seq")?,
        choice: Choice::parse(&db::s(r, "choice")?)
            .ok_or_else(|| StoreError::Config("stored choice".into()))?,
        channel: Channel::parse(&db::s(r, "channel")?)
            .ok_or_else(|| StoreError::Config("stored channel".into()))?,
        receipt: db::s(r, "receipt")?,
        proxy_holder: db::os(r, "proxy_holder")?,
        cast_at: db::i(r, "cast_at")?,
        current,
    })
}

/// Every owner's current ballot, through `vote_current_ballots` (never
/// reading superseded ballots).
pub(crate) async fn current_ballots<'e, E: sqlx::Executor<'e, Database = sqlx::Any>>(
    ex: E,
    vote_id: &str,
) -> Result<Vec<StoredBallot>, StoreError> {
    sqlx::query(&format!("SELECT {BALLOT_COLS} FROM vote_current_ballots cb JOIN vote_ballots b ON b.id = cb.ballot_id WHERE cb.vote_id = $1 ORDER BY cb.owner_ord"))
        .bind(vote_id.to_string())
        .fetch_all(ex)
        .await?
        .iter()
        .map(|r| ballot_from(r, true))
        .collect()
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Turnout {
    pub total_area: String,
    pub voted_area: String,
    pub total_headcount: i64,
    pub voted_headcount: i64,
    /// Ballots cast, including superseded ones.
    pub ballots_cast: i64,
}

/// Live turnout (area and heads) from the frozen electorate and current
/// ballots. Choices are not revealed before close. Reads the current-ballot
/// table only: its cost does not grow with superseded ballots.
pub async fn turnout(db: &Db, vote_id: &str) -> Result<Turnout, StoreError> {
    let el = sqlx::query("SELECT CAST(COALESCE(SUM(area_centi), 0) AS BIGINT) AS area, CAST(COUNT(DISTINCT owner_id) AS BIGINT) AS heads FROM vote_electorate WHERE vote_id = $1")
        .bind(vote_id.to_string())
        .fetch_one(db.reader())
        .await?;
    // An owner's current seq is how many ballots they have cast.
    let cur = sqlx::query("SELECT CAST(COUNT(*) AS BIGINT) AS heads, CAST(COALESCE(SUM(seq), 0) AS BIGINT) AS n_cast FROM vote_current_ballots WHERE vote_id = $1")
        .bind(vote_id.to_string())
        .fetch_one(db.reader())
        .await?;
    let voted = sqlx::query("SELECT CAST(COALESCE(SUM(e.area_centi), 0) AS BIGINT) AS area FROM vote_current_ballots cb JOIN vote_electorate e ON e.vote_id = cb.vote_id AND e.owner_id = cb.owner_id WHERE cb.vote_id = $1")
        .bind(vote_id.to_string())
        .fetch_one(db.reader())
        .await?;
    Ok(Turnout {
        total_area: format_hundredths(db::i(&el, "area")?),
        voted_area: format_hundredths(db::i(&voted, "area")?),
        total_headcount: db::i(&el, "heads")?,
        voted_headcount: db::i(&cur, "heads")?,
        ballots_cast: db::i(&cur, "n_cast")?,
    })
}

fn build_record(v: &VoteView, el: &[Elector], current: &[StoredBallot]) -> VoteRecord {
    let parts = el
        .iter()
        .map(|e| {
            Part::new(
                e.part_label.clone(),
                Area(e.area_centi),
                e.owner_ref.clone(),
            )
        })
        .collect();
    let ref_of: HashMap<&str, &str> = el
        .iter()
        .map(|e| (e.owner_id.as_str(), e.owner_ref.as_str()))
        .collect();
    let mut ballots: Vec<Ballot> = current
        .iter()
        .filter_map(|b| {
            ref_of
                .get(b.owner_id.as_str())
                .map(|r| Ballot::new(*r, b.choice))
        })
        .collect();
    ballots.sort_by_key(|b| {
        b.owner
            .trim_start_matches("o-")
            .parse::<u64>()
            .unwrap_or(u64::MAX)
    });
    VoteRecord {
        title: v.title.clone(),
        rule: v.rule,
        parts,
        ballots,
    }
}

/// Closes an open vote at `now` (ms): counts it with the domain's `tally`,
/// stores the result and the published record, and appends both to the
/// audit trail.
pub async fn close_vote(
    tx: &mut Tx,
    actor: &str,
    id: &str,
    now: i64,
) -> Result<(VoteView, Tally), StoreError> {
    let v = vote_in_tx(tx, id).await?;
    if v.status != VoteStatus::Open {
        return Err(StoreError::Conflict(format!(
            "the vote is {}; only an open vote can be closed",
            v.status
        )));
    }
    let el = electorate_from(&mut **tx, id).await?;
    let current = current_ballots(&mut **tx, id).await?;
    let record = build_record(&v, &el, &current);
    let t = vote::tally(&record.parts, &record.ballots, &record.rule)
        .map_err(|e| StoreError::Conflict(format!("the vote cannot be counted: {e}")))?;
    let (format, record_json, result) = match &v.questions {
        // A vote with questions publishes gongzhi.vote/2; `t` stays its
        // turnout (every ballot takes part, none says yes).
        Some(questions) => {
            crate::vote_questions::close_record(tx, &v, questions, &el, record).await?
        }
        None => (
            vote::RECORD_FORMAT,
            record.to_json(),
            serde_json::to_value(&t).expect("a tally serializes"),
        ),
    };
    sqlx::query("UPDATE votes SET status = $1, closed_at = $2, result_json = $3, record_json = $4 WHERE id = $5")
        .bind(VoteStatus::Closed.as_str())
        .bind(now)
        .bind(result.to_string())
        .bind(record_json.clone())
        .bind(id.to_string())
        .execute(&mut **tx)
        .await?;
    let record_sha = hex::encode(Sha256::digest(record_json.as_bytes()));
    audit::record_many(tx, vec![
        Entry {
            actor: actor.into(),
            action: "vote.close".into(),
            entity: "vote".into(),
            entity_id: id.into(),
            scope_path: v.scope_path.clone(),
            before: Some(json!({"status": v.status})),
            after: Some(json!({"status": "closed", "result": result})),
        },
        Entry {
            actor: actor.into(),
            action: "vote.publish".into(),
            entity: "vote".into(),
            entity_id: id.into(),
            scope_path: v.scope_path.clone(),
            before: None,
            after: Some(json!({"format": format, "sha256": record_sha, "url": format!("/api/v1/public/votes/{id}/record.json")})),
        },
    ])
    .await?;
    let view = vote_in_tx(tx, id).await?;
    Ok((view, t))
}

/// The published record of a closed vote (exactly what was counted).
pub async fn record_json(db: &Db, id: &str) -> Result<String, StoreError> {
    let r = sqlx::query("SELECT status, record_json FROM votes WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(db.reader())
        .await?
        .ok_or_else(|| StoreError::not_found(format!("vote '{id}'")))?;
    match db::os(&r, "record_json")? {
        Some(j) if db::s(&r, "status")? == VoteStatus::Closed.as_str() => Ok(j),
        _ => Err(StoreError::Conflict(
            "the vote is not closed yet; its record is published at close".into(),
        )),
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BoardRow {
    pub receipt: String,
    /// The owner's parts in scope.
    pub parts: Vec<String>,
    /// Masked unless the owner consented to publication.
    pub name: String,
    #[schema(value_type = String)]
    pub channel: Channel,
    pub cast_at: i64,
    /// The owner's n-th ballot in this vote (n − 1 earlier ones were replaced).
    pub seq: i64,
    /// False for a ballot replaced by a later one of the same owner.
    pub current: bool,
    /// Shown only once the vote is closed (a yes/no vote's; null in a vote
    /// with questions).
    #[schema(value_type = Option<String>)]
    pub choice: Option<Choice>,
    /// A vote with questions, once closed: what the ballot chose, e.g.
    /// `{"q1": ["c1", "c4"]}` (as in the published `gongzhi.vote/2` record).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub answers: Option<serde_json::Value>,
}

/// Which ballots a board page lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BoardView {
    /// Each owner's current ballot (one row per owner who voted).
    Current,
    /// Every ballot, the replaced ones too, each owner's in order.
    All,
}

/// The default and the largest number of rows of a board page.
pub const BOARD_PAGE_DEFAULT: i64 = 100;
pub const BOARD_PAGE_MAX: i64 = 500;

/// Where a board page starts: after the row with this cursor (from the
/// previous page's `next`): `N` (current view: the owner's place o-N) or
/// `N.S` (every ballot: the owner's place, then the ballot's seq).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BoardCursor {
    pub ord: i64,
    pub seq: i64,
}

impl BoardCursor {
    pub fn parse(s: &str) -> Option<BoardCursor> {
        let (ord, seq) = match s.split_once('.') {
            Some((o, q)) => (o.parse().ok()?, q.parse().ok()?),
            None => (s.parse().ok()?, i64::MAX),
        };
        (ord >= 0 && seq >= 0).then_some(BoardCursor { ord, seq })
    }
    fn render(self, view: BoardView) -> String {
        match view {
            BoardView::Current => self.ord.to_string(),
            BoardView::All => format!("{}.{}", self.ord, self.seq),
        }
    }
}

/// One page of the public board.
#[derive(Debug, Clone)]
pub struct BoardPage {
    pub rows: Vec<BoardRow>,
    /// The cursor of the next page; `None` on the last one.
    pub next: Option<String>,
}

/// A page of the public board: ballots by receipt code and part, owners in
/// the natural order of their first part, names masked unless the owner
/// consented, choices only after close. Reads `limit` rows through the
/// current-ballot table's (vote, owner_ord) index, so a page costs the same
/// however many ballots were replaced. `vote` is the (opened) vote.
pub async fn board_page(
    db: &Db,
    vote: &VoteView,
    view: BoardView,
    after: Option<BoardCursor>,
    limit: i64,
) -> Result<BoardPage, StoreError> {
    let limit = limit.clamp(1, BOARD_PAGE_MAX);
    let after = after.unwrap_or(BoardCursor { ord: -1, seq: 0 });
    let rows = match view {
        BoardView::Current => {
            sqlx::query(&format!("SELECT cb.owner_ord, {BALLOT_COLS}, CAST(1 AS BIGINT) AS is_current FROM vote_current_ballots cb JOIN vote_ballots b ON b.id = cb.ballot_id \
                 WHERE cb.vote_id = $1 AND cb.owner_ord > $2 ORDER BY cb.owner_ord LIMIT $3"))
            .bind(vote.id.clone())
            .bind(after.ord)
            .bind(limit + 1)
            .fetch_all(db.reader())
            .await?
        }
        BoardView::All => {
            sqlx::query(&format!("SELECT cb.owner_ord, {BALLOT_COLS}, CAST(CASE WHEN b.seq = cb.seq THEN 1 ELSE 0 END AS BIGINT) AS is_current \
                 FROM vote_current_ballots cb JOIN vote_ballots b ON b.vote_id = cb.vote_id AND b.owner_id = cb.owner_id \
                 WHERE cb.vote_id = $1 AND cb.owner_ord >= $2 AND (cb.owner_ord > $2 OR b.seq > $3) ORDER BY cb.owner_ord, b.seq LIMIT $4"))
            .bind(vote.id.clone())
            .bind(after.ord)
            .bind(after.seq)
            .bind(limit + 1)
            .fetch_all(db.reader())
            .await?
        }
    };
    let more = rows.len() as i64 > limit;
    let mut ballots = Vec::with_capacity(rows.len());
    for r in rows.iter().take(limit as usize) {
        let b = ballot_from(r, db::i(r, "is_current")? == 1)?;
        ballots.push((db::i(r, "owner_ord")?, b));
    }
    let next = more.then(|| ballots.last()).flatten().map(|(ord, b)| {
        BoardCursor {
            ord: *ord,
            seq: b.seq,
        }
        .render(view)
    });
    let mut owner_ids: Vec<String> = ballots.iter().map(|(_, b)| b.owner_id.clone()).collect();
    owner_ids.sort();
    owner_ids.dedup();
    let mut parts_of: HashMap<String, Vec<String>> = HashMap::new();
    let mut names: HashMap<String, (String, bool)> = HashMap::new();
    for chunk in owner_ids.chunks(500) {
        let sql = format!(
            "SELECT owner_id, part_label FROM vote_electorate WHERE vote_id = $1 AND owner_id IN ({})",
            db::in_placeholders(2, chunk.len())
        );
        let mut q = sqlx::query(&sql).bind(vote.id.clone());
        for o in chunk {
            q = q.bind(o.clone());
        }
        for r in q.fetch_all(db.reader()).await? {
            parts_of
                .entry(db::s(&r, "owner_id")?)
                .or_default()
                .push(db::s(&r, "part_label")?);
        }
        let sql = format!(
            "SELECT id, name, consent_publish_name FROM owners WHERE id IN ({})",
            db::in_placeholders(1, chunk.len())
        );
        let mut q = sqlx::query(&sql);
        for o in chunk {
            q = q.bind(o.clone());
        }
        for r in q.fetch_all(db.reader()).await? {
            names.insert(
                db::s(&r, "id")?,
                (db::s(&r, "name")?, db::i(&r, "consent_publish_name")? != 0),
            );
        }
    }
    for p in parts_of.values_mut() {
        p.sort_by(|a, b| natural_cmp(a, b));
    }
    let closed = vote.status == VoteStatus::Closed;
    // A closed vote with questions shows each ballot's answers, not a choice.
    let with_questions = vote.questions.is_some();
    let mut answers_of: HashMap<String, serde_json::Value> = HashMap::new();
    if closed && with_questions {
        let ids: Vec<String> = ballots.iter().map(|(_, b)| b.id.clone()).collect();
        for chunk in ids.chunks(500) {
            let sql = format!(
                "SELECT ballot_id, answers_json FROM vote_ballot_answers WHERE ballot_id IN ({})",
                db::in_placeholders(1, chunk.len())
            );
            let mut q = sqlx::query(&sql);
            for id in chunk {
                q = q.bind(id.clone());
            }
            for r in q.fetch_all(db.reader()).await? {
                let v = serde_json::from_str(&db::s(&r, "answers_json")?)
                    .map_err(|e| StoreError::Config(format!("stored answers: {e}")))?;
                answers_of.insert(db::s(&r, "ballot_id")?, v);
            }
        }
    }
    let rows = ballots
        .into_iter()
        .map(|(_, b)| {
            let (name, consent) = names.get(&b.owner_id).cloned().unwrap_or_default();
            BoardRow {
                receipt: b.receipt,
                parts: parts_of.get(&b.owner_id).cloned().unwrap_or_default(),
                name: if consent { name } else { mask_name(&name) },
                channel: b.channel,
                cast_at: b.cast_at,
                seq: b.seq,
                current: b.current,
                choice: (closed && !with_questions).then_some(b.choice),
                answers: answers_of.remove(&b.id),
            }
        })
        .collect();
    Ok(BoardPage { rows, next })
}

/// An opened vote for its public board (a draft has none: not found).
pub async fn board_vote(db: &Db, id: &str) -> Result<VoteView, StoreError> {
    let v = get_vote(db, id).await?;
    if v.status == VoteStatus::Draft {
        return Err(StoreError::not_found(format!("vote '{id}'")));
    }
    Ok(v)
}

/// The whole public board, every ballot, page after page (for exports,
/// the demo and tests; the API serves it a page at a time).
pub async fn board(db: &Db, id: &str) -> Result<(VoteView, Vec<BoardRow>), StoreError> {
    let v = board_vote(db, id).await?;
    let mut rows = Vec::new();
    let mut after = None;
    loop {
        let page = board_page(db, &v, BoardView::All, after, BOARD_PAGE_MAX).await?;
        rows.extend(page.rows);
        match page.next.as_deref().and_then(BoardCursor::parse) {
            Some(c) => after = Some(c),
            None => break,
        }
    }
    Ok((v, rows))
}

/// The owner's current ballot in a vote, if any.
pub async fn current_ballot_of(
    db: &Db,
    vote_id: &str,
    owner_id: &str,
) -> Result<Option<StoredBallot>, StoreError> {
    sqlx::query(&format!("SELECT {BALLOT_COLS} FROM vote_current_ballots cb JOIN vote_ballots b ON b.id = cb.ballot_id WHERE cb.vote_id = $1 AND cb.owner_id = $2"))
        .bind(vote_id.to_string())
        .bind(owner_id.to_string())
        .fetch_optional(db.reader())
        .await?
        .map(|r| ballot_from(&r, true))
        .transpose()
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PartShare {
    pub part: String,
    pub area: String,
    pub amount_fen: i64,
    /// Yuan with two decimals.
    pub amount: String,
}

/// Splits `amount_fen − subsidy_fen` across the frozen electorate's parts,
/// by area or equally, by largest remainder (ties: larger weight, then
/// earlier part in label order). The shares always sum to the total.
pub async fn apportion(
    db: &Db,
    vote_id: &str,
    amount_fen: i64,
    subsidy_fen: i64,
    by_area: bool,
) -> Result<(i64, Vec<PartShare>), StoreError> {
    if amount_fen < 0 {
        return Err(StoreError::invalid("amount_fen", "must be zero or more"));
    }
    if subsidy_fen < 0 {
        return Err(StoreError::invalid("subsidy_fen", "must be zero or more"));
    }
    if subsidy_fen > amount_fen {
        return Err(StoreError::invalid(
            "subsidy_fen",
            "the subsidy is larger than the amount",
        ));
    }
    let total = amount_fen - subsidy_fen;
    let el = electorate(db, vote_id).await?;
    if el.is_empty() {
        return Err(StoreError::Conflict(
            "the electorate is frozen when the vote opens; open it first".into(),
        ));
    }
    let weights: Vec<i64> = el
        .iter()
        .map(|e| if by_area { e.area_centi } else { 1 })
        .collect();
    let shares = gongzhi_domain::split::split_by_weights(total, &weights)
        .map_err(|e| StoreError::invalid("amount_fen", e.to_string()))?;
    Ok((
        total,
        el.iter()
            .zip(shares)
            .map(|(e, s)| PartShare {
                part: e.part_label.clone(),
                area: format_hundredths(e.area_centi),
                amount_fen: s,
                amount: format_hundredths(s),
            })
            .collect(),
    ))
}

/// Rows per multi-row INSERT in the bench loaders (12 columns at most: under
/// SQLite's and PostgreSQL's parameter limits).
const BENCH_ROWS: usize = 2_000;

/// For benchmarks only: `n` synthetic owners, each holding one flat (area
/// 60.00–149.99 m²) numbered from 1000 in `building` of `compound`, written
/// straight into the tables with multi-row INSERTs, 100,000 rows per
/// transaction (no audit: they are not a real register). Returns the owner
/// ids in flat order.
pub async fn bench_register(
    db: &Db,
    compound_id: &str,
    building_id: &str,
    n: usize,
    now: i64,
) -> Result<Vec<String>, StoreError> {
    let owners: Vec<String> = (0..n).map(|_| db::new_id()).collect();
    for (t, tchunk) in owners.chunks(50 * BENCH_ROWS).enumerate() {
        let (tchunk, dbc) = (tchunk.to_vec(), db.clone());
        let (compound_id, building_id) = (compound_id.to_string(), building_id.to_string());
        db.write(move |tx| {
            let (tchunk, db2) = (tchunk.clone(), dbc.clone());
            let (compound_id, building_id) = (compound_id.clone(), building_id.clone());
            Box::pin(async move {
                for (c, chunk) in tchunk.chunks(BENCH_ROWS).enumerate() {
                    let base = t * 50 * BENCH_ROWS + c * BENCH_ROWS;
                    let sql = format!("INSERT INTO owners (id, owner_key, name, kind, phone, consent_publish_name, created_at) VALUES {}", db2.bulk_values(chunk.len(), 7));
                    let mut q = sqlx::query(&sql);
                    for (i, id) in chunk.iter().enumerate() {
                        q = q
                            .bind(id.clone())
                            .bind(format!("bench-{}", base + i))
                            .bind(format!("业主{}", base + i))
                            .bind("person")
                            .bind(None::<String>)
                            .bind(0i64)
                            .bind(now);
                    }
                    q.execute(&mut **tx).await?;
                    let sql = format!("INSERT INTO parts (id, place_id, compound_id, number, kind, area_centi, area_basis, owner_id, natural_key, created_at, updated_at) VALUES {}", db2.bulk_values(chunk.len(), 11));
                    let mut q = sqlx::query(&sql);
                    for (i, id) in chunk.iter().enumerate() {
                        let k = base + i;
                        q = q
                            .bind(db::new_id())
                            .bind(building_id.clone())
                            .bind(compound_id.clone())
                            .bind((k + 1_000).to_string())
                            .bind("flat")
                            .bind(6000 + (k as i64 * 37) % 9000)
                            .bind("registered")
                            .bind(id.clone())
                            .bind(format!("bench/{building_id}/{}", k + 1_000))
                            .bind(now)
                            .bind(now);
                    }
                    q.execute(&mut **tx).await?;
                }
                Ok(())
            })
        })
        .await?;
    }
    Ok(owners)
}

/// For benchmarks only: one online ballot (1 in 3 no, else yes) per owner
/// of `owners` in the open vote `vote_id`, written straight into
/// `vote_ballots` (and `vote_current_ballots`) with multi-row INSERTs (no window or electorate checks, no
/// audit: they are not real ballots).
pub async fn bench_ballots(
    db: &Db,
    vote_id: &str,
    owners: &[String],
    now: i64,
) -> Result<(), StoreError> {
    for tchunk in owners.chunks(50 * BENCH_ROWS) {
        let (tchunk, dbc, vote_id) = (tchunk.to_vec(), db.clone(), vote_id.to_string());
        db.write(move |tx| {
            let (tchunk, db2, vote_id) = (tchunk.clone(), dbc.clone(), vote_id.clone());
            Box::pin(async move {
                for chunk in tchunk.chunks(BENCH_ROWS) {
                    let sql = format!("INSERT INTO vote_ballots (id, vote_id, owner_id, seq, choice, channel, receipt, cast_by, cast_at) VALUES {}", db2.bulk_values(chunk.len(), 9));
                    let mut q = sqlx::query(&sql);
                    let ids: Vec<String> = chunk.iter().map(|_| db::new_id()).collect();
                    for (i, (o, id)) in chunk.iter().zip(&ids).enumerate() {
                        q = q
                            .bind(id.clone())
                            .bind(vote_id.clone())
                            .bind(o.clone())
                            .bind(1i64)
                            .bind(if i % 3 == 0 { "no" } else { "yes" })
                            .bind("online")
                            .bind(id.clone())
                            .bind("bench")
                            .bind(now);
                    }
                    q.execute(&mut **tx).await?;
                    // Their current ballots, as `cast` keeps them.
                    let sql = format!("INSERT INTO vote_current_ballots (vote_id, owner_id, ballot_id, seq, owner_ord, cast_at) \
                        SELECT b.vote_id, b.owner_id, b.id, b.seq, (SELECT CAST(SUBSTR(MIN(e.owner_ref), 3) AS BIGINT) FROM vote_electorate e WHERE e.vote_id = b.vote_id AND e.owner_id = b.owner_id), b.cast_at \
                        FROM vote_ballots b WHERE b.id IN ({})", db2.bulk_in(ids.len()));
                    let mut q = sqlx::query(&sql);
                    for id in ids {
                        q = q.bind(id);
                    }
                    q.execute(&mut **tx).await?;
                }
                Ok(())
            })
        })
        .await?;
    }
    Ok(())
}

// Commands: each takes `&Db` and owns its transaction (the API calls them).

/// Creates a vote (draft) ([`create_vote`]).
pub async fn create(db: &Db, actor: &str, v: NewVote<'_>) -> Result<VoteView, StoreError> {
    let args = (
        actor.to_string(),
        v.title.to_string(),
        v.place.clone(),
        v.channels,
    );
    let (rule, opens_at, closes_at) = (v.rule, v.opens_at, v.closes_at);
    db.write_with(args, move |tx, (actor, title, place, channels)| {
        Box::pin(async move {
            let v = NewVote {
                title: &title,
                place: &place,
                rule,
                opens_at,
                closes_at,
                channels,
            };
            create_vote(tx, &actor, v).await
        })
    })
    .await
}

/// Opens a draft vote ([`open_vote`]) with the proxy limit in force over
/// its scope (`vote.proxy_limit`, nearest place wins).
pub async fn open(db: &Db, actor: &str, v: &VoteView, now: i64) -> Result<VoteView, StoreError> {
    let limit = proxy_limit_for(db, &v.scope_path).await?;
    db.write_with((actor.to_string(), v.id.clone()), move |tx, (actor, id)| {
        Box::pin(async move { open_vote(tx, &actor, &id, limit, now).await })
    })
    .await
}

/// Closes an open vote ([`close_vote`]): counted, result published.
pub async fn close(
    db: &Db,
    actor: &str,
    id: &str,
    now: i64,
) -> Result<(VoteView, Tally), StoreError> {
    db.write_with(
        (actor.to_string(), id.to_string()),
        move |tx, (actor, id)| Box::pin(async move { close_vote(tx, &actor, &id, now).await }),
    )
    .await
}

/// Stores an evidence file ([`add_evidence`]).
pub async fn store_evidence(
    db: &Db,
    actor: &str,
    vote_id: &str,
    content_type: &str,
    bytes: &[u8],
) -> Result<EvidenceView, StoreError> {
    let args = (
        actor.to_string(),
        vote_id.to_string(),
        content_type.to_string(),
        bytes.to_vec(),
    );
    db.write_with(args, |tx, (actor, id, ct, bytes)| {
        Box::pin(async move { add_evidence(tx, &actor, &id, &ct, &bytes).await })
    })
    .await
}

/// Sets a place's setting ([`set_setting`]).
pub async fn put_setting(
    db: &Db,
    actor: &str,
    place: &Place,
    name: &str,
    value: &str,
) -> Result<(), StoreError> {
    let args = (
        actor.to_string(),
        place.clone(),
        name.to_string(),
        value.to_string(),
    );
    db.write_with(args, |tx, (actor, place, name, value)| {
        Box::pin(async move { set_setting(tx, &actor, &place, &name, &value).await })
    })
    .await
}
