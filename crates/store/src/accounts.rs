//! Accounts for real people (issue 19): sign-up by phone with a one-time code,
//! household claims checked against the register (a match links the owner,
//! anything else waits in the community's queue), invitations to a role,
//! password recovery, and user administration below a place. Each command
//! owns its transaction and writes the audit trail in it. The rules (limits,
//! outcomes, address spelling) are `gongzhi_domain::accounts`.

use crate::audit::{self, Entry};
use crate::auth::{self, Revoked};
use crate::db::{self, Db, Tx};
use crate::error::StoreError;
use gongzhi_domain::accounts::{
    self as rules, ClaimRelation, ClaimStatus, CodePurpose, CODE_MAX_ATTEMPTS, CODE_TTL_MS,
    INVITATION_DAYS,
};
use gongzhi_domain::mask::{mask_name, mask_phone};
use gongzhi_domain::place::subtree;
use gongzhi_domain::policy::Role;
use rand::RngCore;
use serde::Serialize;
use serde_json::json;

const DAY_MS: i64 = 24 * 3600 * 1000;

fn code_hash(id: &str, code: &str) -> String {
    auth::token_hash(&format!("{id}:{code}"))
}

/// What to send to a phone that asked for a code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outgoing {
    /// The code to text.
    Code(String),
    /// Sign-up asked for a phone that has an account: tell its owner so
    /// (the answer to the asker is the same as for a new phone).
    AlreadyRegistered,
    /// Reset asked for a phone with no account: send nothing.
    Nothing,
}

/// Records a request for a code and decides what goes out. Limited per phone
/// and per client address (counted from the table, every request alike); the
/// answer never depends on whether the phone has an account.
pub async fn request_code(
    db: &Db,
    phone: &str,
    purpose: CodePurpose,
    ip: &str,
) -> Result<Outgoing, StoreError> {
    let phone = rules::normalise_phone(phone).ok_or_else(|| {
        StoreError::invalid("phone", "is not a mainland mobile number (11 digits)")
    })?;
    let args = (phone, ip.to_string());
    db.write_with(args, move |tx, (phone, ip)| {
        Box::pin(async move {
            let now = db::now_ms();
            let hour_ago = now - 3600 * 1000;
            let phone_recent = times(tx, "SELECT created_at FROM phone_codes WHERE phone = $1 AND created_at > $2", &phone, hour_ago).await?;
            let ip_recent = times(tx, "SELECT created_at FROM phone_codes WHERE ip = $1 AND created_at > $2", &ip, hour_ago).await?;
            rules::may_send_code(&phone_recent, &ip_recent, now).map_err(|w| {
                StoreError::RateLimited {
                    field: "phone".into(),
                    reason: "too many codes asked for; wait before asking again".into(),
                    retry_after_secs: w.retry_after_secs,
                }
            })?;
            let has_account = sqlx::query("SELECT id FROM users WHERE phone = $1")
                .bind(&phone)
                .fetch_optional(&mut **tx)
                .await?
                .is_some();
            let usable = match purpose {
                CodePurpose::Signup => !has_account,
                CodePurpose::Reset => has_account,
            };
            let id = db::new_id();
            let code = rules::code_from(rand::thread_rng().next_u64());
            sqlx::query("INSERT INTO phone_codes (id, phone, purpose, code_hash, ip, created_at, expires_at, attempts, used_at) VALUES ($1,$2,$3,$4,$5,$6,$7,0,$8)")
                .bind(&id)
                .bind(&phone)
                .bind(purpose.as_str())
                .bind(code_hash(&id, &code))
                .bind(&ip)
                .bind(now)
                .bind(now + CODE_TTL_MS)
                // a request that sends no code is spent at once: nothing verifies against it
                .bind((!usable).then_some(now))
                .execute(&mut **tx)
                .await?;
            Ok(match (usable, purpose) {
                (true, _) => Outgoing::Code(code),
                (false, CodePurpose::Signup) => Outgoing::AlreadyRegistered,
                (false, CodePurpose::Reset) => Outgoing::Nothing,
            })
        })
    })
    .await
}

async fn times(tx: &mut Tx, sql: &str, key: &str, since: i64) -> Result<Vec<i64>, StoreError> {
    let rows = sqlx::query(sql)
        .bind(key.to_string())
        .bind(since)
        .fetch_all(&mut **tx)
        .await?;
    rows.iter().map(|r| db::i(r, "created_at")).collect()
}

fn wrong_code() -> StoreError {
    StoreError::invalid("code", "is wrong or has expired; ask for a new one")
}

/// Checks `code` against the phone's newest live code for `purpose`,
/// counting the attempt (committed even when wrong; after
/// [`CODE_MAX_ATTEMPTS`] the code is dead). The id of the code when right.
async fn check_code(
    db: &Db,
    phone: &str,
    purpose: CodePurpose,
    code: &str,
) -> Result<String, StoreError> {
    let phone = rules::normalise_phone(phone).ok_or_else(wrong_code)?;
    let args = (phone, code.trim().to_string());
    let hit = db
        .write_with(args, move |tx, (phone, code)| {
            Box::pin(async move {
                let now = db::now_ms();
                let r = sqlx::query("SELECT id, attempts FROM phone_codes WHERE phone = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3 ORDER BY created_at DESC LIMIT 1")
                    .bind(&phone)
                    .bind(purpose.as_str())
                    .bind(now)
                    .fetch_optional(&mut **tx)
                    .await?;
                let Some(r) = r else { return Ok(None) };
                let id = db::s(&r, "id")?;
                if db::i(&r, "attempts")? >= CODE_MAX_ATTEMPTS {
                    return Ok(None);
                }
                sqlx::query("UPDATE phone_codes SET attempts = attempts + 1 WHERE id = $1")
                    .bind(&id)
                    .execute(&mut **tx)
                    .await?;
                let stored = sqlx::query("SELECT code_hash FROM phone_codes WHERE id = $1")
                    .bind(&id)
                    .fetch_one(&mut **tx)
                    .await?;
                Ok((db::s(&stored, "code_hash")? == code_hash(&id, &code)).then_some(id))
            })
        })
        .await?;
    hit.ok_or_else(wrong_code)
}

/// Spends a code once: a second use (a race, a replay) is refused.
async fn spend_code(tx: &mut Tx, code_id: &str) -> Result<(), StoreError> {
    let n = sqlx::query("UPDATE phone_codes SET used_at = $1 WHERE id = $2 AND used_at IS NULL")
        .bind(db::now_ms())
        .bind(code_id.to_string())
        .execute(&mut **tx)
        .await?
        .rows_affected();
    if n == 1 {
        Ok(())
    } else {
        Err(wrong_code())
    }
}

/// A new account.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NewAccount {
    pub user_id: String,
    pub username: String,
}

fn generated_username() -> String {
    let mut b = [0u8; 5];
    rand::thread_rng().fill_bytes(&mut b);
    format!("u{}", hex::encode(b))
}

async fn insert_phone_user(
    tx: &mut Tx,
    actor: &str,
    phone: &str,
    password_hash: &str,
) -> Result<NewAccount, StoreError> {
    if sqlx::query("SELECT id FROM users WHERE phone = $1")
        .bind(phone.to_string())
        .fetch_optional(&mut **tx)
        .await?
        .is_some()
    {
        return Err(StoreError::Conflict(
            "this phone already has an account: log in, or reset the password".into(),
        ));
    }
    let username = generated_username();
    let user_id = auth::create_user(tx, actor, &username, password_hash, None).await?;
    sqlx::query("UPDATE users SET phone = $1 WHERE id = $2")
        .bind(phone.to_string())
        .bind(&user_id)
        .execute(&mut **tx)
        .await?;
    Ok(NewAccount { user_id, username })
}

/// Signs a person up with a phone whose code they received. The account
/// logs in with the phone number (or the generated username).
pub async fn signup(
    db: &Db,
    phone: &str,
    code: &str,
    password_hash: &str,
) -> Result<NewAccount, StoreError> {
    let code_id = check_code(db, phone, CodePurpose::Signup, code).await?;
    let phone = rules::normalise_phone(phone).ok_or_else(wrong_code)?;
    let args = (code_id, phone, password_hash.to_string());
    db.write_with(args, |tx, (code_id, phone, hash)| {
        Box::pin(async move {
            spend_code(tx, &code_id).await?;
            let actor = format!("signup:{}", mask_phone(&phone));
            let acc = insert_phone_user(tx, &actor, &phone, &hash).await?;
            audit::record(
                tx,
                Entry {
                    actor,
                    action: "user.signup".into(),
                    entity: "user".into(),
                    entity_id: acc.user_id.clone(),
                    scope_path: "/".into(),
                    before: None,
                    after: Some(json!({"username": acc.username, "phone": mask_phone(&phone)})),
                },
            )
            .await?;
            Ok(acc)
        })
    })
    .await
}

/// Sets a new password with a reset code; every session and token of the
/// account is revoked with it, and a forced reset is cleared.
pub async fn reset_password(
    db: &Db,
    phone: &str,
    code: &str,
    password_hash: &str,
) -> Result<Revoked, StoreError> {
    let code_id = check_code(db, phone, CodePurpose::Reset, code).await?;
    let phone = rules::normalise_phone(phone).ok_or_else(wrong_code)?;
    let args = (code_id, phone, password_hash.to_string());
    db.write_with(args, |tx, (code_id, phone, hash)| {
        Box::pin(async move {
            spend_code(tx, &code_id).await?;
            let r = sqlx::query("SELECT id FROM users WHERE phone = $1")
                .bind(&phone)
                .fetch_optional(&mut **tx)
                .await?
                .ok_or_else(wrong_code)?;
            let uid = db::s(&r, "id")?;
            sqlx::query("UPDATE users SET must_reset = 0 WHERE id = $1")
                .bind(&uid)
                .execute(&mut **tx)
                .await?;
            let actor = format!("reset:{}", mask_phone(&phone));
            auth::change_password(tx, &actor, &uid, &hash).await
        })
    })
    .await
}

/// An administrator's forced reset: the account's sessions and tokens end
/// and it cannot log in until its owner resets the password by phone.
pub async fn force_reset(db: &Db, actor: &str, user_id: &str) -> Result<Revoked, StoreError> {
    let args = (actor.to_string(), user_id.to_string());
    db.write_with(args, |tx, (actor, uid)| {
        Box::pin(async move {
            let n = sqlx::query("UPDATE users SET must_reset = 1 WHERE id = $1")
                .bind(&uid)
                .execute(&mut **tx)
                .await?
                .rows_affected();
            if n == 0 {
                return Err(StoreError::not_found(format!("user '{uid}'")));
            }
            auth::revoke_all(tx, &actor, &uid, "forced_reset").await
        })
    })
    .await
}

/// Whether an account must reset its password before logging in.
pub async fn must_reset(db: &Db, user_id: &str) -> Result<bool, StoreError> {
    let r = sqlx::query("SELECT must_reset FROM users WHERE id = $1")
        .bind(user_id.to_string())
        .fetch_optional(db.reader())
        .await?;
    Ok(r.map(|r| db::i(&r, "must_reset")).transpose()?.unwrap_or(0) != 0)
}

/// The username of the account with this phone, if any (login by phone).
pub async fn username_of_phone(db: &Db, phone: &str) -> Result<Option<String>, StoreError> {
    let Some(phone) = rules::normalise_phone(phone) else {
        return Ok(None);
    };
    let r = sqlx::query("SELECT username FROM users WHERE phone = $1")
        .bind(phone)
        .fetch_optional(db.reader())
        .await?;
    r.map(|r| db::s(&r, "username")).transpose()
}

// ---- household claims ----

/// A household claim as its claimant and the community see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ClaimView {
    pub id: String,
    pub compound_id: String,
    pub compound_name: String,
    pub building: String,
    pub unit: String,
    pub number: String,
    /// The owner of record's name as the claimant wrote it (masked for staff lists).
    pub owner_name: String,
    pub claimant_name: String,
    pub relation: ClaimRelation,
    pub status: ClaimStatus,
    /// The flat the claim points at, when the register has it.
    pub part_id: Option<String>,
    pub note: Option<String>,
    pub created_at: i64,
    pub decided_at: Option<i64>,
}

/// What a person claims.
#[derive(Debug, Clone)]
pub struct ClaimInput {
    pub compound_id: String,
    pub building: String,
    pub unit: String,
    pub number: String,
    pub owner_name: String,
    pub claimant_name: String,
    pub relation: ClaimRelation,
}

fn required(field: &str, v: &str, max: usize) -> Result<String, StoreError> {
    let t = v.trim();
    if t.is_empty() {
        return Err(StoreError::invalid(field, "is required"));
    }
    if t.chars().count() > max {
        return Err(StoreError::invalid(
            field,
            format!("is longer than {max} characters"),
        ));
    }
    Ok(t.to_string())
}

/// Files a claim. An owner whose flat and name match the register is linked
/// at once (the account becomes the owner's); a family member or tenant of a
/// matching flat waits for the owner or staff; anything else waits in the
/// community's queue. The answer says only which of the three happened.
pub async fn claim(db: &Db, user_id: &str, input: ClaimInput) -> Result<ClaimView, StoreError> {
    let building: String = required("building", &input.building, 40)?
        .split_whitespace()
        .collect();
    let unit: String = input.unit.split_whitespace().collect();
    let number = required("number", &input.number, 20)?;
    let owner_name = required("owner_name", &input.owner_name, 60)?;
    let claimant_name = match input.relation {
        ClaimRelation::Owner => input.claimant_name.trim().to_string(),
        _ => required("claimant_name", &input.claimant_name, 60)?,
    };
    let compound = crate::register::get_place(db, &input.compound_id)
        .await
        .ok()
        .filter(|p| p.kind == "compound")
        .ok_or_else(|| StoreError::invalid("compound_id", "no such compound"))?;
    let args = (
        (
            user_id.to_string(),
            compound.id.clone(),
            compound.name.clone(),
        ),
        (building, unit, number),
        (owner_name, claimant_name, input.relation),
    );
    db.write_with(args, |tx, ((uid, cid, cname), (building, unit, number), (owner_name, claimant_name, relation))| {
        Box::pin(async move {
            let now = db::now_ms();
            let recent = times(tx, "SELECT created_at FROM household_claims WHERE user_id = $1 AND created_at > $2", &uid, now - DAY_MS).await?;
            if !rules::may_claim(&recent, now) {
                return Err(StoreError::RateLimited {
                    field: "claim".into(),
                    reason: "too many claims today; a person at the community will help".into(),
                    retry_after_secs: 3600,
                });
            }
            let nk = sqlx::query("SELECT natural_key FROM places WHERE id = $1")
                .bind(&cid)
                .fetch_one(&mut **tx)
                .await?;
            let compound_key = db::s(&nk, "natural_key")?;
            let mut keys = Vec::new();
            for b in rules::spellings(&building, rules::BUILDING_SUFFIXES) {
                for u in rules::spellings(&unit, rules::UNIT_SUFFIXES) {
                    keys.push(gongzhi_domain::roster::part_key(&[&compound_key, &b, &u], &number));
                }
            }
            let sql = format!("SELECT p.id, p.owner_id, o.name FROM parts p JOIN owners o ON o.id = p.owner_id WHERE p.natural_key IN ({}) AND p.kind = 'flat' ORDER BY p.natural_key LIMIT 1", db::in_placeholders(1, keys.len()));
            let mut q = sqlx::query(&sql);
            for k in &keys {
                q = q.bind(k.clone());
            }
            let part = q.fetch_optional(&mut **tx).await?;
            let (part_id, owner_id, matches) = match &part {
                Some(r) => (
                    Some(db::s(r, "id")?),
                    Some(db::s(r, "owner_id")?),
                    rules::same_name(&db::s(r, "name")?, &owner_name),
                ),
                None => (None, None, false),
            };
            let status = rules::claim_outcome(relation, part_id.is_some(), matches);
            // only a matching claim keeps the flat it points at: a mismatch
            // must not tell the claimant (or a queue reader) more than they wrote
            let kept_part = (status != ClaimStatus::Queued).then(|| part_id.clone()).flatten();
            let id = db::new_id();
            sqlx::query("INSERT INTO household_claims (id, user_id, compound_id, building, unit, number, owner_name, claimant_name, relation, part_id, status, decided_by, decided_at, note, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,NULL,$12,NULL,$13)")
                .bind(&id)
                .bind(&uid)
                .bind(&cid)
                .bind(&building)
                .bind(&unit)
                .bind(&number)
                .bind(&owner_name)
                .bind(&claimant_name)
                .bind(relation.as_str())
                .bind(kept_part.clone())
                .bind(status.as_str())
                .bind((status == ClaimStatus::Linked).then_some(now))
                .bind(now)
                .execute(&mut **tx)
                .await?;
            let scope = compound_path(tx, &cid).await?;
            if status == ClaimStatus::Linked {
                if let Some(owner) = &owner_id {
                    link_if_absent(tx, "register-match", &uid, owner).await?;
                }
            }
            audit::record(
                tx,
                Entry {
                    actor: format!("user:{uid}"),
                    action: "claim.file".into(),
                    entity: "household_claim".into(),
                    entity_id: id.clone(),
                    scope_path: scope,
                    before: None,
                    after: Some(json!({"status": status, "relation": relation, "part_id": kept_part})),
                },
            )
            .await?;
            Ok(ClaimView {
                id,
                compound_id: cid,
                compound_name: cname,
                building,
                unit,
                number,
                owner_name,
                claimant_name,
                relation,
                status,
                part_id: kept_part,
                note: None,
                created_at: now,
                decided_at: (status == ClaimStatus::Linked).then_some(now),
            })
        })
    })
    .await
}

async fn compound_path(tx: &mut Tx, id: &str) -> Result<String, StoreError> {
    let r = sqlx::query("SELECT path FROM places WHERE id = $1")
        .bind(id.to_string())
        .fetch_one(&mut **tx)
        .await?;
    db::s(&r, "path")
}

async fn link_if_absent(
    tx: &mut Tx,
    actor: &str,
    user_id: &str,
    owner_id: &str,
) -> Result<(), StoreError> {
    let there =
        sqlx::query("SELECT user_id FROM owner_accounts WHERE user_id = $1 AND owner_id = $2")
            .bind(user_id.to_string())
            .bind(owner_id.to_string())
            .fetch_optional(&mut **tx)
            .await?
            .is_some();
    if there {
        return Ok(());
    }
    auth::link_owner(tx, actor, user_id, owner_id).await
}

const CLAIM_COLS: &str = "c.id, c.compound_id, pl.name AS compound_name, c.building, c.unit, c.number, c.owner_name, c.claimant_name, c.relation, c.status, c.part_id, c.note, c.created_at, c.decided_at, c.user_id";

fn claim_row(r: &sqlx::any::AnyRow) -> Result<ClaimView, StoreError> {
    Ok(ClaimView {
        id: db::s(r, "id")?,
        compound_id: db::s(r, "compound_id")?,
        compound_name: db::s(r, "compound_name")?,
        building: db::s(r, "building")?,
        unit: db::s(r, "unit")?,
        number: db::s(r, "number")?,
        owner_name: db::s(r, "owner_name")?,
        claimant_name: db::s(r, "claimant_name")?,
        relation: ClaimRelation::parse(&db::s(r, "relation")?)
            .ok_or_else(|| StoreError::Config("bad claim relation".into()))?,
        status: ClaimStatus::parse(&db::s(r, "status")?)
            .ok_or_else(|| StoreError::Config("bad claim status".into()))?,
        part_id: db::os(r, "part_id")?,
        note: db::os(r, "note")?,
        created_at: db::i(r, "created_at")?,
        decided_at: db::oi(r, "decided_at")?,
    })
}

/// A person's own claims, newest first.
pub async fn my_claims(db: &Db, user_id: &str) -> Result<Vec<ClaimView>, StoreError> {
    let rows = sqlx::query(&format!("SELECT {CLAIM_COLS} FROM household_claims c JOIN places pl ON pl.id = c.compound_id WHERE c.user_id = $1 ORDER BY c.created_at DESC, c.id DESC LIMIT 50"))
        .bind(user_id.to_string())
        .fetch_all(db.reader())
        .await?;
    rows.iter().map(claim_row).collect()
}

/// The open claims (queued and pending) of the compounds at or below
/// `path`, oldest first; names masked.
pub async fn open_claims(db: &Db, path: &str, limit: i64) -> Result<Vec<ClaimView>, StoreError> {
    let (lo, hi) = subtree(path);
    let rows = sqlx::query(&format!("SELECT {CLAIM_COLS} FROM household_claims c JOIN places pl ON pl.id = c.compound_id WHERE pl.path >= $1 AND pl.path < $2 AND c.status IN ('queued','pending') ORDER BY c.created_at, c.id LIMIT $3"))
        .bind(lo)
        .bind(hi)
        .bind(limit.clamp(1, 500))
        .fetch_all(db.reader())
        .await?;
    rows.iter()
        .map(|r| {
            let mut c = claim_row(r)?;
            c.owner_name = mask_name(&c.owner_name);
            c.claimant_name = mask_name(&c.claimant_name);
            Ok(c)
        })
        .collect()
}

/// One claim with its compound's path and claimant (for the policy).
pub async fn claim_for_decision(
    db: &Db,
    id: &str,
) -> Result<(ClaimView, String, String), StoreError> {
    let r = sqlx::query(&format!("SELECT {CLAIM_COLS}, pl.path FROM household_claims c JOIN places pl ON pl.id = c.compound_id WHERE c.id = $1"))
        .bind(id.to_string())
        .fetch_optional(db.reader())
        .await?
        .ok_or_else(|| StoreError::not_found(format!("claim '{id}'")))?;
    Ok((claim_row(&r)?, db::s(&r, "path")?, db::s(&r, "user_id")?))
}

/// The owners of record a user's account speaks for, of the flat `part_id`.
pub async fn owns_part(db: &Db, user_id: &str, part_id: &str) -> Result<bool, StoreError> {
    let r = sqlx::query("SELECT p.id FROM parts p JOIN owner_accounts oa ON oa.owner_id = p.owner_id WHERE p.id = $1 AND oa.user_id = $2")
        .bind(part_id.to_string())
        .bind(user_id.to_string())
        .fetch_optional(db.reader())
        .await?;
    Ok(r.is_some())
}

/// Decides an open claim. Approving an owner's claim links the account to
/// the owner of record of `part_id` (staff choose the flat for a queued
/// claim); approving a family member's or tenant's records them as a
/// resident of the flat. A decided claim is never decided again.
pub async fn decide_claim(
    db: &Db,
    actor: &str,
    claim_id: &str,
    approve: bool,
    part_id: Option<&str>,
    note: Option<&str>,
) -> Result<ClaimView, StoreError> {
    let note = note
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_string);
    if note.as_ref().is_some_and(|n| n.chars().count() > 500) {
        return Err(StoreError::invalid("note", "is longer than 500 characters"));
    }
    let args = (
        (actor.to_string(), claim_id.to_string()),
        (part_id.map(str::to_string), note),
    );
    db.write_with(args, move |tx, ((actor, cid), (part_id, note))| {
        Box::pin(async move {
            let r = sqlx::query(&format!("SELECT {CLAIM_COLS}, pl.path FROM household_claims c JOIN places pl ON pl.id = c.compound_id WHERE c.id = $1"))
                .bind(&cid)
                .fetch_optional(&mut **tx)
                .await?
                .ok_or_else(|| StoreError::not_found(format!("claim '{cid}'")))?;
            let mut claim = claim_row(&r)?;
            let claimant = db::s(&r, "user_id")?;
            let path = db::s(&r, "path")?;
            if !claim.status.open() {
                return Err(StoreError::Conflict(format!("the claim is already {}", claim.status.as_str())));
            }
            let now = db::now_ms();
            let status = if approve {
                let part = part_id.or(claim.part_id.clone()).ok_or_else(|| {
                    StoreError::invalid("part_id", "choose the flat this claim is for")
                })?;
                let p = sqlx::query("SELECT id, owner_id, compound_id FROM parts WHERE id = $1")
                    .bind(&part)
                    .fetch_optional(&mut **tx)
                    .await?
                    .filter(|p| db::s(p, "compound_id").ok().as_deref() == Some(claim.compound_id.as_str()))
                    .ok_or_else(|| StoreError::invalid("part_id", "no such flat in the claim's compound"))?;
                match claim.relation {
                    ClaimRelation::Owner => {
                        link_if_absent(tx, &actor, &claimant, &db::s(&p, "owner_id")?).await?
                    }
                    rel => add_resident(tx, &claimant, &claim.claimant_name, &part, rel, now).await?,
                }
                claim.part_id = Some(part);
                ClaimStatus::Approved
            } else {
                ClaimStatus::Rejected
            };
            sqlx::query("UPDATE household_claims SET status = $1, part_id = $2, decided_by = $3, decided_at = $4, note = $5 WHERE id = $6")
                .bind(status.as_str())
                .bind(claim.part_id.clone())
                .bind(&actor)
                .bind(now)
                .bind(note.clone())
                .bind(&cid)
                .execute(&mut **tx)
                .await?;
            audit::record(
                tx,
                Entry {
                    actor: actor.clone(),
                    action: "claim.decide".into(),
                    entity: "household_claim".into(),
                    entity_id: cid.clone(),
                    scope_path: path,
                    before: Some(json!({"status": claim.status})),
                    after: Some(json!({"status": status, "part_id": claim.part_id, "note": note})),
                },
            )
            .await?;
            claim.status = status;
            claim.note = note;
            claim.decided_at = Some(now);
            Ok(claim)
        })
    })
    .await
}

/// Records a family member or tenant as a resident of the flat, creating
/// their person on the register when the account has none.
async fn add_resident(
    tx: &mut Tx,
    user_id: &str,
    name: &str,
    part_id: &str,
    relation: ClaimRelation,
    now: i64,
) -> Result<(), StoreError> {
    let u = sqlx::query("SELECT person_id, phone FROM users WHERE id = $1")
        .bind(user_id.to_string())
        .fetch_one(&mut **tx)
        .await?;
    let person = match db::os(&u, "person_id")? {
        Some(p) => p,
        None => {
            let pid = db::new_id();
            sqlx::query("INSERT INTO people (id, name, phone, id_number, consent_publish_name, home_place_id, created_at) VALUES ($1,$2,$3,NULL,0,(SELECT place_id FROM parts WHERE id = $4),$5)")
                .bind(&pid)
                .bind(name.to_string())
                .bind(db::os(&u, "phone")?)
                .bind(part_id.to_string())
                .bind(now)
                .execute(&mut **tx)
                .await?;
            sqlx::query("UPDATE users SET person_id = $1 WHERE id = $2")
                .bind(&pid)
                .bind(user_id.to_string())
                .execute(&mut **tx)
                .await?;
            pid
        }
    };
    sqlx::query("INSERT INTO residents (id, person_id, part_id, relation, since, until, created_at) VALUES ($1,$2,$3,$4,$5,NULL,$5)")
        .bind(db::new_id())
        .bind(person)
        .bind(part_id.to_string())
        .bind(relation.as_str())
        .bind(now)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

// ---- invitations ----

/// An invitation as staff and the invited person see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InvitationView {
    pub id: String,
    /// The invited phone, masked.
    pub phone: String,
    pub name: String,
    pub role: Role,
    pub place_id: Option<String>,
    pub place_name: Option<String>,
    pub grid_id: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    /// `open`, `accepted`, `expired` or `revoked`.
    pub state: String,
}

/// A new invitation: its link's secret is shown once.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NewInvitation {
    pub id: String,
    pub token: String,
    pub expires_at: i64,
}

/// Invites a phone to a role over a place (the caller has checked that the
/// inviter may grant it there).
#[allow(clippy::too_many_arguments)]
pub async fn invite(
    db: &Db,
    actor: &str,
    inviter_id: &str,
    phone: &str,
    name: &str,
    role: Role,
    place_id: Option<&str>,
    grid_id: Option<&str>,
) -> Result<NewInvitation, StoreError> {
    let phone = rules::normalise_phone(phone).ok_or_else(|| {
        StoreError::invalid("phone", "is not a mainland mobile number (11 digits)")
    })?;
    let name = required("name", name, 60)?;
    let args = (
        (actor.to_string(), inviter_id.to_string(), phone, name),
        (place_id.map(str::to_string), grid_id.map(str::to_string)),
    );
    db.write_with(args, move |tx, ((actor, inviter, phone, name), (place, grid))| {
        Box::pin(async move {
            let path = match &place {
                Some(p) => sqlx::query("SELECT path FROM places WHERE id = $1")
                    .bind(p)
                    .fetch_optional(&mut **tx)
                    .await?
                    .map(|r| db::s(&r, "path"))
                    .transpose()?
                    .ok_or_else(|| StoreError::invalid("place_id", format!("no place '{p}'")))?,
                None => "/".into(),
            };
            if let Some(g) = &grid {
                if role != Role::GridWorker {
                    return Err(StoreError::invalid("grid_id", "only grid workers are scoped to a micro-grid"));
                }
                let gp = sqlx::query("SELECT pl.path FROM grids g JOIN places pl ON pl.id = g.place_id WHERE g.id = $1")
                    .bind(g)
                    .fetch_optional(&mut **tx)
                    .await?
                    .map(|r| db::s(&r, "path"))
                    .transpose()?;
                if !gp.is_some_and(|gp| gp.starts_with(&path)) {
                    return Err(StoreError::invalid("grid_id", "no such micro-grid in this place"));
                }
            }
            let mut raw = [0u8; 24];
            rand::thread_rng().fill_bytes(&mut raw);
            let token = format!("gzi_{}", hex::encode(raw));
            let id = db::new_id();
            let now = db::now_ms();
            let expires_at = now + INVITATION_DAYS * DAY_MS;
            sqlx::query("INSERT INTO invitations (id, token_hash, phone, name, role, place_id, grid_id, invited_by, created_at, expires_at, accepted_at, accepted_user_id, revoked_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,NULL,NULL,NULL)")
                .bind(&id)
                .bind(auth::token_hash(&token))
                .bind(&phone)
                .bind(&name)
                .bind(role.as_str())
                .bind(place.clone())
                .bind(grid.clone())
                .bind(&inviter)
                .bind(now)
                .bind(expires_at)
                .execute(&mut **tx)
                .await?;
            audit::record(
                tx,
                Entry {
                    actor,
                    action: "invitation.create".into(),
                    entity: "invitation".into(),
                    entity_id: id.clone(),
                    scope_path: path,
                    before: None,
                    after: Some(json!({"role": role, "place_id": place, "grid_id": grid, "phone": mask_phone(&phone), "expires_at": expires_at})),
                },
            )
            .await?;
            Ok(NewInvitation { id, token, expires_at })
        })
    })
    .await
}

const INV_COLS: &str = "i.id, i.phone, i.name, i.role, i.place_id, pl.name AS place_name, i.grid_id, i.created_at, i.expires_at, i.accepted_at, i.revoked_at";

fn invitation_row(r: &sqlx::any::AnyRow, now: i64) -> Result<InvitationView, StoreError> {
    let state = if db::oi(r, "accepted_at")?.is_some() {
        "accepted"
    } else if db::oi(r, "revoked_at")?.is_some() {
        "revoked"
    } else if db::i(r, "expires_at")? <= now {
        "expired"
    } else {
        "open"
    };
    Ok(InvitationView {
        id: db::s(r, "id")?,
        phone: mask_phone(&db::s(r, "phone")?),
        name: db::s(r, "name")?,
        role: Role::parse(&db::s(r, "role")?)
            .ok_or_else(|| StoreError::Config("bad invitation role".into()))?,
        place_id: db::os(r, "place_id")?,
        place_name: db::os(r, "place_name")?,
        grid_id: db::os(r, "grid_id")?,
        created_at: db::i(r, "created_at")?,
        expires_at: db::i(r, "expires_at")?,
        state: state.into(),
    })
}

/// The invitation behind a link, whatever its state; unknown → not found.
pub async fn invitation_by_token(db: &Db, token: &str) -> Result<InvitationView, StoreError> {
    let r = sqlx::query(&format!("SELECT {INV_COLS} FROM invitations i LEFT JOIN places pl ON pl.id = i.place_id WHERE i.token_hash = $1"))
        .bind(auth::token_hash(token))
        .fetch_optional(db.reader())
        .await?
        .ok_or_else(|| StoreError::not_found("invitation"))?;
    invitation_row(&r, db::now_ms())
}

/// The invitations made over places at or below `path`, newest first.
pub async fn invitations_below(db: &Db, path: &str) -> Result<Vec<InvitationView>, StoreError> {
    let (lo, hi) = subtree(path);
    let rows = sqlx::query(&format!("SELECT {INV_COLS} FROM invitations i JOIN places pl ON pl.id = i.place_id WHERE pl.path >= $1 AND pl.path < $2 ORDER BY i.created_at DESC LIMIT 200"))
        .bind(lo)
        .bind(hi)
        .fetch_all(db.reader())
        .await?;
    let now = db::now_ms();
    rows.iter().map(|r| invitation_row(r, now)).collect()
}

/// Accepts an invitation: as `user_id` (already logged in) or, without one,
/// as a new account for the invited phone with `password_hash`. The grant is
/// added in the same transaction; an invitation is accepted once.
pub async fn accept_invitation(
    db: &Db,
    token: &str,
    user_id: Option<&str>,
    password_hash: Option<&str>,
) -> Result<(String, String), StoreError> {
    let args = (
        auth::token_hash(token),
        user_id.map(str::to_string),
        password_hash.map(str::to_string),
    );
    db.write_with(args, |tx, (th, uid, hash)| {
        Box::pin(async move {
            let now = db::now_ms();
            let r = sqlx::query("SELECT id, phone, role, place_id, grid_id, expires_at, accepted_at, revoked_at, invited_by FROM invitations WHERE token_hash = $1")
                .bind(&th)
                .fetch_optional(&mut **tx)
                .await?
                .ok_or_else(|| StoreError::not_found("invitation"))?;
            let inv = db::s(&r, "id")?;
            if db::oi(&r, "accepted_at")?.is_some() {
                return Err(StoreError::Conflict("the invitation has been accepted already".into()));
            }
            if db::oi(&r, "revoked_at")?.is_some() || db::i(&r, "expires_at")? <= now {
                return Err(StoreError::invalid("invitation", "has expired; ask for a new one"));
            }
            let phone = db::s(&r, "phone")?;
            let role = Role::parse(&db::s(&r, "role")?)
                .ok_or_else(|| StoreError::Config("bad invitation role".into()))?;
            let user = match (uid, hash) {
                (Some(u), _) => u,
                (None, Some(h)) => {
                    insert_phone_user(tx, &format!("invitation:{inv}"), &phone, &h)
                        .await?
                        .user_id
                }
                (None, None) => return Err(StoreError::invalid("password", "is required")),
            };
            let n = sqlx::query("UPDATE invitations SET accepted_at = $1, accepted_user_id = $2 WHERE id = $3 AND accepted_at IS NULL")
                .bind(now)
                .bind(&user)
                .bind(&inv)
                .execute(&mut **tx)
                .await?
                .rows_affected();
            if n != 1 {
                return Err(StoreError::Conflict("the invitation has been accepted already".into()));
            }
            let inviter = format!("user:{}", db::s(&r, "invited_by")?);
            let grant = auth::add_grant(
                tx,
                &inviter,
                &user,
                role,
                db::os(&r, "place_id")?.as_deref(),
                db::os(&r, "grid_id")?.as_deref(),
            )
            .await?;
            audit::record(
                tx,
                Entry {
                    actor: format!("user:{user}"),
                    action: "invitation.accept".into(),
                    entity: "invitation".into(),
                    entity_id: inv,
                    scope_path: "/".into(),
                    before: None,
                    after: Some(json!({"grant_id": grant, "user_id": user})),
                },
            )
            .await?;
            Ok((user, grant))
        })
    })
    .await
}

// ---- user administration ----

/// A person with an account, as staff over a place see them.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AccountView {
    pub id: String,
    pub username: String,
    /// Masked.
    pub phone: Option<String>,
    pub disabled: bool,
    pub must_reset: bool,
    /// Roles and where they hold them.
    pub grants: Vec<auth::GrantView>,
    /// Owners of record the account speaks for (ids).
    pub owners: Vec<String>,
}

/// Accounts with a role over a place at or below `path`, or linked to an
/// owner of a flat there: three statements, however many accounts.
pub async fn accounts_below(
    db: &Db,
    path: &str,
    limit: i64,
) -> Result<Vec<AccountView>, StoreError> {
    let (lo, hi) = subtree(path);
    let rows = sqlx::query(
        "SELECT u.id, u.username, u.phone, u.disabled, u.must_reset FROM users u WHERE u.id IN (\
           SELECT g.user_id FROM grants g JOIN places pl ON pl.id = g.place_id WHERE pl.path >= $1 AND pl.path < $2 \
           UNION SELECT oa.user_id FROM owner_accounts oa JOIN parts p ON p.owner_id = oa.owner_id JOIN places pl ON pl.id = p.compound_id WHERE pl.path >= $1 AND pl.path < $2) \
         ORDER BY u.username LIMIT $3",
    )
    .bind(&lo)
    .bind(&hi)
    .bind(limit.clamp(1, 1000))
    .fetch_all(db.reader())
    .await?;
    let mut out: Vec<AccountView> = rows
        .iter()
        .map(|r| {
            Ok(AccountView {
                id: db::s(r, "id")?,
                username: db::s(r, "username")?,
                phone: db::os(r, "phone")?.map(|p| mask_phone(&p)),
                disabled: db::i(r, "disabled")? != 0,
                must_reset: db::i(r, "must_reset")? != 0,
                grants: vec![],
                owners: vec![],
            })
        })
        .collect::<Result<_, StoreError>>()?;
    if out.is_empty() {
        return Ok(out);
    }
    let ids: Vec<String> = out.iter().map(|a| a.id.clone()).collect();
    let ph = db::in_placeholders(1, ids.len());
    let sql = format!(
        "SELECT g.user_id, g.id, g.role, g.place_id, p.name, p.kind, g.grid_id FROM grants g LEFT JOIN places p ON p.id = g.place_id WHERE g.user_id IN ({ph}) ORDER BY g.created_at"
    );
    type GrantRow = (
        String,
        String,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    let mut q = sqlx::query_as::<_, GrantRow>(&sql);
    for id in &ids {
        q = q.bind(id.clone());
    }
    let grants = q.fetch_all(db.reader()).await?;
    let sql = format!(
        "SELECT user_id, owner_id FROM owner_accounts WHERE user_id IN ({ph}) ORDER BY owner_id"
    );
    let mut q = sqlx::query_as::<_, (String, String)>(&sql);
    for id in &ids {
        q = q.bind(id.clone());
    }
    let owners = q.fetch_all(db.reader()).await?;
    let at: std::collections::HashMap<String, usize> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id.clone(), i))
        .collect();
    for (uid, id, role, place_id, place_name, place_kind, grid_id) in grants {
        if let Some(&i) = at.get(&uid) {
            out[i].grants.push(auth::GrantView {
                id,
                role,
                place_id,
                place_name,
                place_kind,
                grid_id,
            });
        }
    }
    for (uid, owner) in owners {
        if let Some(&i) = at.get(&uid) {
            out[i].owners.push(owner);
        }
    }
    Ok(out)
}

/// One grant with its place's path (for the policy), or not found.
pub async fn grant_with_path(
    db: &Db,
    grant_id: &str,
) -> Result<(String, Role, Vec<String>), StoreError> {
    let r = sqlx::query("SELECT g.user_id, g.role, p.path FROM grants g LEFT JOIN places p ON p.id = g.place_id WHERE g.id = $1")
        .bind(grant_id.to_string())
        .fetch_optional(db.reader())
        .await?
        .ok_or_else(|| StoreError::not_found(format!("grant '{grant_id}'")))?;
    let role =
        Role::parse(&db::s(&r, "role")?).ok_or_else(|| StoreError::Config("bad role".into()))?;
    Ok((
        db::s(&r, "user_id")?,
        role,
        crate::register::path_ids(&db::os(&r, "path")?.unwrap_or_default()),
    ))
}

/// Revokes a grant; the audit trail keeps what it was and who revoked it.
pub async fn revoke_grant(db: &Db, actor: &str, grant_id: &str) -> Result<(), StoreError> {
    let args = (actor.to_string(), grant_id.to_string());
    db.write_with(args, |tx, (actor, gid)| {
        Box::pin(async move {
            let r = sqlx::query("SELECT g.user_id, g.role, g.place_id, g.grid_id, p.path FROM grants g LEFT JOIN places p ON p.id = g.place_id WHERE g.id = $1")
                .bind(&gid)
                .fetch_optional(&mut **tx)
                .await?
                .ok_or_else(|| StoreError::not_found(format!("grant '{gid}'")))?;
            sqlx::query("DELETE FROM grants WHERE id = $1").bind(&gid).execute(&mut **tx).await?;
            audit::record(
                tx,
                Entry {
                    actor,
                    action: "grant.revoke".into(),
                    entity: "grant".into(),
                    entity_id: gid,
                    scope_path: db::os(&r, "path")?.unwrap_or_else(|| "/".into()),
                    before: Some(json!({"user_id": db::s(&r, "user_id")?, "role": db::s(&r, "role")?, "place_id": db::os(&r, "place_id")?, "grid_id": db::os(&r, "grid_id")?})),
                    after: None,
                },
            )
            .await
        })
    })
    .await
}

/// The paths of every place where a user holds a role or owns a flat (for
/// deciding who may administer the account).
pub async fn account_paths(db: &Db, user_id: &str) -> Result<Vec<Vec<String>>, StoreError> {
    let rows = sqlx::query_as::<_, (Option<String>,)>(
        "SELECT p.path FROM grants g LEFT JOIN places p ON p.id = g.place_id WHERE g.user_id = $1 \
         UNION SELECT pl.path FROM owner_accounts oa JOIN parts pa ON pa.owner_id = oa.owner_id JOIN places pl ON pl.id = pa.compound_id WHERE oa.user_id = $1",
    )
    .bind(user_id.to_string())
    .fetch_all(db.reader())
    .await?;
    Ok(rows
        .into_iter()
        .map(|(p,)| crate::register::path_ids(&p.unwrap_or_default()))
        .collect())
}

/// Deactivates (every session and token revoked) or reactivates an
/// account; its history stays.
pub async fn set_disabled(
    db: &Db,
    actor: &str,
    user_id: &str,
    disabled: bool,
) -> Result<Revoked, StoreError> {
    let args = (actor.to_string(), user_id.to_string());
    db.write_with(args, move |tx, (actor, uid)| {
        Box::pin(async move {
            let n = sqlx::query("UPDATE users SET disabled = $1 WHERE id = $2")
                .bind(i64::from(disabled))
                .bind(&uid)
                .execute(&mut **tx)
                .await?
                .rows_affected();
            if n == 0 {
                return Err(StoreError::not_found(format!("user '{uid}'")));
            }
            audit::record(
                tx,
                Entry {
                    actor: actor.clone(),
                    action: if disabled {
                        "user.disable"
                    } else {
                        "user.enable"
                    }
                    .into(),
                    entity: "user".into(),
                    entity_id: uid.clone(),
                    scope_path: "/".into(),
                    before: Some(json!({"disabled": !disabled})),
                    after: Some(json!({"disabled": disabled})),
                },
            )
            .await?;
            if disabled {
                auth::revoke_all(tx, &actor, &uid, "disabled").await
            } else {
                Ok(Revoked::default())
            }
        })
    })
    .await
}

/// Unlinks an account from an owner of record (audited; ballots already cast stay).
pub async fn unlink_owner(
    db: &Db,
    actor: &str,
    user_id: &str,
    owner_id: &str,
    scope_path: &str,
) -> Result<(), StoreError> {
    let args = (
        actor.to_string(),
        user_id.to_string(),
        owner_id.to_string(),
        scope_path.to_string(),
    );
    db.write_with(args, |tx, (actor, uid, oid, scope)| {
        Box::pin(async move {
            let n = sqlx::query("DELETE FROM owner_accounts WHERE user_id = $1 AND owner_id = $2")
                .bind(&uid)
                .bind(&oid)
                .execute(&mut **tx)
                .await?
                .rows_affected();
            if n == 0 {
                return Err(StoreError::not_found("link between this account and owner"));
            }
            audit::record(
                tx,
                Entry {
                    actor,
                    action: "owner.unlink_account".into(),
                    entity: "owner".into(),
                    entity_id: oid,
                    scope_path: scope,
                    before: Some(json!({"user_id": uid})),
                    after: None,
                },
            )
            .await
        })
    })
    .await
}

/// The phone an invitation was sent to (not found for an unknown link).
pub async fn invitation_phone(db: &Db, token: &str) -> Result<String, StoreError> {
    let r = sqlx::query("SELECT phone FROM invitations WHERE token_hash = $1")
        .bind(auth::token_hash(token))
        .fetch_optional(db.reader())
        .await?
        .ok_or_else(|| StoreError::not_found("invitation"))?;
    db::s(&r, "phone")
}

/// The phone an account signed up with, if any.
pub async fn phone_of(db: &Db, user_id: &str) -> Result<Option<String>, StoreError> {
    let r = sqlx::query("SELECT phone FROM users WHERE id = $1")
        .bind(user_id.to_string())
        .fetch_optional(db.reader())
        .await?;
    Ok(r.map(|r| db::os(&r, "phone")).transpose()?.flatten())
}

/// A flat a queued claim may be for: id and a label (building, unit,
/// number, the owner's name masked).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FlatChoice {
    pub part_id: String,
    pub label: String,
}

/// The flats of a compound with this number (at most 20), for staff
/// deciding a claim.
pub async fn flats_numbered(
    db: &Db,
    compound_id: &str,
    number: &str,
) -> Result<Vec<FlatChoice>, StoreError> {
    let rows = sqlx::query("SELECT p.id, p.number, pl.name AS pname, pl.kind AS pkind, pp.name AS ppname, o.name AS oname FROM parts p JOIN places pl ON pl.id = p.place_id LEFT JOIN places pp ON pp.id = pl.parent_id JOIN owners o ON o.id = p.owner_id WHERE p.compound_id = $1 AND p.number = $2 AND p.kind = 'flat' ORDER BY p.natural_key LIMIT 20")
        .bind(compound_id.to_string())
        .bind(number.trim().to_string())
        .fetch_all(db.reader())
        .await?;
    rows.iter()
        .map(|r| {
            let place = match (db::s(r, "pkind")?.as_str(), db::os(r, "ppname")?) {
                ("unit", Some(b)) => format!("{b} {}", db::s(r, "pname")?),
                _ => db::s(r, "pname")?,
            };
            Ok(FlatChoice {
                part_id: db::s(r, "id")?,
                label: format!(
                    "{place} {} · {}",
                    db::s(r, "number")?,
                    mask_name(&db::s(r, "oname")?)
                ),
            })
        })
        .collect()
}

/// The pending claims of family members and tenants on the flats of owner
/// `owner_id`, oldest first: for the owner (or their linked account) to
/// confirm or refuse.
pub async fn pending_for_owner(db: &Db, owner_id: &str) -> Result<Vec<ClaimView>, StoreError> {
    let rows = sqlx::query(&format!("SELECT {CLAIM_COLS} FROM household_claims c JOIN places pl ON pl.id = c.compound_id JOIN parts p ON p.id = c.part_id WHERE p.owner_id = $1 AND c.status = 'pending' ORDER BY c.created_at, c.id LIMIT 50"))
        .bind(owner_id.to_string())
        .fetch_all(db.reader())
        .await?;
    rows.iter().map(claim_row).collect()
}
