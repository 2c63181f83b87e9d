//! Accounts, grants, sessions and API tokens. Passwords are Argon2id hashes;
//! session and API tokens are random and stored only as SHA-256 hashes.

use crate::audit::{self, Entry};
use crate::db::{self, Db, Tx};
use crate::error::StoreError;
use gongzhi_domain::policy::{Grant, Role};
use rand::RngCore;
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};

/// Sessions last 7 days.
pub const SESSION_TTL_MS: i64 = 7 * 24 * 3600 * 1000;
pub const MIN_PASSWORD_CHARS: usize = 8;

/// Argon2id with the crate's default (OWASP) parameters, in a work area
/// of the bounded [`crate::password`] pool. CPU-heavy: call it off the async
/// runtime, or use [`hash_password_async`].
pub fn hash_password(password: &str) -> Result<String, StoreError> {
    crate::password::pool().hash_blocking(password)
}

/// Verifies a password. With `hash == None` (unknown user) it verifies against
/// a fixed dummy hash so that unknown users cost the same time as known ones.
pub fn verify_password(hash: Option<&str>, password: &str) -> bool {
    let known = hash.is_some();
    let h = match hash {
        Some(h) => h,
        None => crate::password::dummy_hash(),
    };
    crate::password::pool().verify_blocking(h, password) && known
}

/// [`hash_password`] through the pool's bounded queue (at most as many at
/// once as cores; busy for longer than the queue's timeout → rate limited).
pub async fn hash_password_async(password: String) -> Result<String, StoreError> {
    crate::password::pool().hash(password).await
}

/// [`verify_password`] through the pool's bounded queue.
pub async fn verify_password_async(
    hash: Option<String>,
    password: String,
) -> Result<bool, StoreError> {
    crate::password::pool().verify(hash, password).await
}

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn random_token(prefix: &str) -> String {
    let mut b = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut b);
    format!("{prefix}{}", hex::encode(b))
}

pub fn validate_username(u: &str) -> Result<(), StoreError> {
    let ok = (3..=64).contains(&u.len())
        && u.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(StoreError::invalid(
            "username",
            "must be 3 to 64 characters: lowercase letters, digits, '.', '_' or '-'",
        ))
    }
}

pub fn validate_password(p: &str) -> Result<(), StoreError> {
    if p.chars().count() < MIN_PASSWORD_CHARS {
        return Err(StoreError::invalid(
            "password",
            format!("must be at least {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    if p.len() > 1024 {
        return Err(StoreError::invalid("password", "is longer than 1024 bytes"));
    }
    Ok(())
}

pub async fn create_user(
    tx: &mut Tx,
    actor: &str,
    username: &str,
    password_hash: &str,
    person_id: Option<&str>,
) -> Result<String, StoreError> {
    validate_username(username)?;
    let id = db::new_id();
    let r = sqlx::query("INSERT INTO users (id, username, password_hash, person_id, disabled, created_at) VALUES ($1,$2,$3,$4,0,$5)")
        .bind(id.clone())
        .bind(username.to_string())
        .bind(password_hash.to_string())
        .bind(person_id.map(str::to_string))
        .bind(db::now_ms())
        .execute(&mut **tx)
        .await
        .map_err(StoreError::from);
    if let Err(e) = r {
        if e.is_unique_violation() {
            return Err(StoreError::Conflict(format!(
                "username '{username}' is taken"
            )));
        }
        return Err(e);
    }
    audit::record(
        tx,
        Entry {
            actor: actor.into(),
            action: "user.create".into(),
            entity: "user".into(),
            entity_id: id.clone(),
            scope_path: "/".into(),
            before: None,
            after: Some(json!({"username": username, "person_id": person_id})),
        },
    )
    .await?;
    Ok(id)
}

pub struct UserAuth {
    pub id: String,
    pub password_hash: String,
    pub disabled: bool,
    /// An administrator forced a reset: no login until the password is reset by phone.
    pub must_reset: bool,
}

/// The account logging in as `login`: its username, or the mobile number it
/// signed up with.
pub async fn find_user(db: &Db, login: &str) -> Result<Option<UserAuth>, StoreError> {
    let phone = gongzhi_domain::accounts::normalise_phone(login);
    let r = sqlx::query("SELECT id, password_hash, disabled, must_reset FROM users WHERE username = $1 OR phone = $2")
        .bind(login.to_string())
        .bind(phone)
        .fetch_optional(db.reader())
        .await?;
    r.map(|r| {
        Ok(UserAuth {
            id: db::s(&r, "id")?,
            password_hash: db::s(&r, "password_hash")?,
            disabled: db::i(&r, "disabled")? != 0,
            must_reset: db::i(&r, "must_reset")? != 0,
        })
    })
    .transpose()
}

pub async fn user_id_by_name(db: &Db, username: &str) -> Result<String, StoreError> {
    find_user(db, username)
        .await?
        .map(|u| u.id)
        .ok_or_else(|| StoreError::not_found(format!("user '{username}'")))
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct GrantView {
    pub id: String,
    pub role: String,
    pub place_id: Option<String>,
    pub place_name: Option<String>,
    pub place_kind: Option<String>,
    pub grid_id: Option<String>,
}

pub async fn add_grant(
    tx: &mut Tx,
    actor: &str,
    user_id: &str,
    role: Role,
    place_id: Option<&str>,
    grid_id: Option<&str>,
) -> Result<String, StoreError> {
    let path = match place_id {
        Some(p) => {
            let r = sqlx::query("SELECT path FROM places WHERE id = $1")
                .bind(p.to_string())
                .fetch_optional(&mut **tx)
                .await?;
            db::s(
                &r.ok_or_else(|| StoreError::invalid("place_id", format!("no place '{p}'")))?,
                "path",
            )?
        }
        None if role == Role::Admin => "/".to_string(),
        None => {
            return Err(StoreError::invalid(
                "place_id",
                format!("a {role} is granted over a place"),
            ))
        }
    };
    if role == Role::BuildingHead {
        let kind = sqlx::query("SELECT kind FROM places WHERE id = $1")
            .bind(place_id.unwrap_or_default().to_string())
            .fetch_optional(&mut **tx)
            .await?
            .map(|r| db::s(&r, "kind"))
            .transpose()?;
        if kind.as_deref() != Some("building") {
            return Err(StoreError::invalid(
                "place_id",
                "a building head (楼栋长) is granted over their building",
            ));
        }
    }
    if grid_id.is_some() && role != Role::GridWorker {
        return Err(StoreError::invalid(
            "grid_id",
            "only grid workers are scoped to a grid",
        ));
    }
    if let Some(g) = grid_id {
        let r = sqlx::query("SELECT g.kind, pl.path FROM grids g JOIN places pl ON pl.id = g.place_id WHERE g.id = $1").bind(g.to_string()).fetch_optional(&mut **tx).await?;
        match r {
            Some(r) if db::s(&r, "path")?.starts_with(&path) => {}
            Some(_) => {
                return Err(StoreError::invalid(
                    "grid_id",
                    "the grid lies outside the granted place",
                ))
            }
            None => return Err(StoreError::invalid("grid_id", format!("no grid '{g}'"))),
        }
    }
    if sqlx::query("SELECT id FROM users WHERE id = $1")
        .bind(user_id.to_string())
        .fetch_optional(&mut **tx)
        .await?
        .is_none()
    {
        return Err(StoreError::invalid(
            "user_id",
            format!("no user '{user_id}'"),
        ));
    }
    let id = db::new_id();
    sqlx::query("INSERT INTO grants (id, user_id, role, place_id, grid_id, created_at) VALUES ($1,$2,$3,$4,$5,$6)")
        .bind(id.clone())
        .bind(user_id.to_string())
        .bind(role.as_str())
        .bind(place_id.map(str::to_string))
        .bind(grid_id.map(str::to_string))
        .bind(db::now_ms())
        .execute(&mut **tx)
        .await?;
    audit::record(
        tx,
        Entry {
            actor: actor.into(),
            action: "grant.add".into(),
            entity: "grant".into(),
            entity_id: id.clone(),
            scope_path: path,
            before: None,
            after: Some(
                json!({"user_id": user_id, "role": role, "place_id": place_id, "grid_id": grid_id}),
            ),
        },
    )
    .await?;
    Ok(id)
}

/// The grants of a user, with their scopes as id paths, for the policy.
pub async fn grants_of(db: &Db, user_id: &str) -> Result<(Vec<Grant>, Vec<GrantView>), StoreError> {
    let rows = sqlx::query(
        "SELECT g.id, g.role, g.place_id, g.grid_id, p.path, p.name, p.kind FROM grants g LEFT JOIN places p ON p.id = g.place_id WHERE g.user_id = $1 ORDER BY g.created_at",
    )
    .bind(user_id.to_string())
    .fetch_all(db.reader())
    .await?;
    let mut grants = Vec::new();
    let mut views = Vec::new();
    for r in &rows {
        let role_s = db::s(r, "role")?;
        let Some(role) = Role::parse(&role_s) else {
            continue;
        };
        let path = db::os(r, "path")?.unwrap_or_default();
        grants.push(Grant {
            role,
            scope: crate::register::path_ids(&path),
            grid: db::os(r, "grid_id")?,
        });
        views.push(GrantView {
            id: db::s(r, "id")?,
            role: role_s,
            place_id: db::os(r, "place_id")?,
            place_name: db::os(r, "name")?,
            place_kind: db::os(r, "kind")?,
            grid_id: db::os(r, "grid_id")?,
        });
    }
    Ok((grants, views))
}

pub async fn create_session(db: &Db, user_id: &str) -> Result<String, StoreError> {
    let token = random_token("");
    let now = db::now_ms();
    sqlx::query(
        "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1,$2,$3,$4)",
    )
    .bind(token_hash(&token))
    .bind(user_id.to_string())
    .bind(now)
    .bind(now + SESSION_TTL_MS)
    .execute(db.reader())
    .await?;
    Ok(token)
}

pub async fn session_user(db: &Db, token: &str) -> Result<Option<String>, StoreError> {
    let r = sqlx::query("SELECT s.user_id FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1 AND s.expires_at > $2 AND s.revoked_at IS NULL AND u.disabled = 0")
        .bind(token_hash(token))
        .bind(db::now_ms())
        .fetch_optional(db.reader())
        .await?;
    r.map(|r| db::s(&r, "user_id")).transpose()
}

pub async fn delete_session(db: &Db, token: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(token_hash(token))
        .execute(db.reader())
        .await?;
    Ok(())
}

/// An API token lives this many days unless its creator asks for fewer.
pub const TOKEN_DEFAULT_DAYS: i64 = 90;
/// No API token lives longer than this many days.
pub const TOKEN_MAX_DAYS: i64 = 365;
const DAY_MS: i64 = 24 * 3600 * 1000;
/// A token's `last_used_at` is written at most once per this many ms.
pub const TOKEN_TOUCH_MS: i64 = 60_000;

/// A new API token: the secret is shown once, only its hash is kept.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NewToken {
    pub id: String,
    pub token: String,
    pub name: String,
    pub expires_at: i64,
}

/// Creates an API token living [`TOKEN_DEFAULT_DAYS`].
pub async fn create_api_token(
    tx: &mut Tx,
    actor: &str,
    user_id: &str,
    name: &str,
) -> Result<(String, String), StoreError> {
    let t = create_api_token_for(tx, actor, user_id, name, None).await?;
    Ok((t.id, t.token))
}

/// Creates an API token living `days` (1 to [`TOKEN_MAX_DAYS`]; default
/// [`TOKEN_DEFAULT_DAYS`]).
pub(crate) async fn create_api_token_for(
    tx: &mut Tx,
    actor: &str,
    user_id: &str,
    name: &str,
    days: Option<i64>,
) -> Result<NewToken, StoreError> {
    let name = name.trim();
    if name.is_empty() || name.len() > 100 {
        return Err(StoreError::invalid("name", "must be 1 to 100 characters"));
    }
    let days = days.unwrap_or(TOKEN_DEFAULT_DAYS);
    if !(1..=TOKEN_MAX_DAYS).contains(&days) {
        return Err(StoreError::invalid(
            "expires_in_days",
            format!("must be 1 to {TOKEN_MAX_DAYS} days"),
        ));
    }
    let token = random_token("gzt_");
    let id = db::new_id();
    let now = db::now_ms();
    let expires_at = now + days * DAY_MS;
    sqlx::query("INSERT INTO api_tokens (token_hash, id, user_id, name, created_at, revoked_at, expires_at, last_used_at) VALUES ($1,$2,$3,$4,$5,NULL,$6,NULL)")
        .bind(token_hash(&token))
        .bind(id.clone())
        .bind(user_id.to_string())
        .bind(name.to_string())
        .bind(now)
        .bind(expires_at)
        .execute(&mut **tx)
        .await?;
    audit::record(
        tx,
        Entry {
            actor: actor.into(),
            action: "api_token.create".into(),
            entity: "api_token".into(),
            entity_id: id.clone(),
            scope_path: "/".into(),
            before: None,
            after: Some(json!({"user_id": user_id, "name": name, "expires_at": expires_at})),
        },
    )
    .await?;
    Ok(NewToken {
        id,
        token,
        name: name.to_string(),
        expires_at,
    })
}

/// The user of a live token (not revoked, not expired, user not disabled).
/// Records the use, at most once per [`TOKEN_TOUCH_MS`] per token (one
/// conditional UPDATE; concurrent requests write it once).
pub async fn token_user(db: &Db, token: &str) -> Result<Option<String>, StoreError> {
    let now = db::now_ms();
    let r = sqlx::query("SELECT t.id, t.user_id, t.last_used_at FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND t.expires_at > $2 AND u.disabled = 0")
        .bind(token_hash(token))
        .bind(now)
        .fetch_optional(db.reader())
        .await?;
    let Some(r) = r else { return Ok(None) };
    if db::oi(&r, "last_used_at")?.is_none_or(|t| t <= now - TOKEN_TOUCH_MS) {
        // Best effort: a busy database must not turn a valid token away.
        let touched = sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2 AND revoked_at IS NULL AND (last_used_at IS NULL OR last_used_at <= $3)")
            .bind(now)
            .bind(db::s(&r, "id")?)
            .bind(now - TOKEN_TOUCH_MS)
            .execute(db.reader())
            .await;
        if let Err(e) = touched {
            tracing::warn!(error = %e, "could not record an API token's last use");
        }
    }
    Ok(Some(db::s(&r, "user_id")?))
}

/// An API token as its owner sees it: never the secret nor its hash.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TokenView {
    pub id: String,
    pub name: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub last_used_at: Option<i64>,
}

/// A user's tokens that are not revoked (expired ones included), newest first.
pub async fn list_tokens(db: &Db, user_id: &str) -> Result<Vec<TokenView>, StoreError> {
    let rows = sqlx::query("SELECT id, name, created_at, expires_at, last_used_at FROM api_tokens WHERE user_id = $1 AND revoked_at IS NULL ORDER BY created_at DESC, id DESC")
        .bind(user_id.to_string())
        .fetch_all(db.reader())
        .await?;
    rows.iter()
        .map(|r| {
            Ok(TokenView {
                id: db::s(r, "id")?,
                name: db::s(r, "name")?,
                created_at: db::i(r, "created_at")?,
                expires_at: db::oi(r, "expires_at")?.unwrap_or(0),
                last_used_at: db::oi(r, "last_used_at")?,
            })
        })
        .collect()
}

/// Revokes one of `user_id`'s tokens. Someone else's, an unknown or an
/// already revoked token is not found.
pub(crate) async fn revoke_token(
    tx: &mut Tx,
    actor: &str,
    user_id: &str,
    token_id: &str,
) -> Result<(), StoreError> {
    let now = db::now_ms();
    let n = sqlx::query(
        "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(token_id.to_string())
    .bind(user_id.to_string())
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if n == 0 {
        return Err(StoreError::not_found(format!("API token '{token_id}'")));
    }
    audit::record(
        tx,
        Entry {
            actor: actor.into(),
            action: "api_token.revoke".into(),
            entity: "api_token".into(),
            entity_id: token_id.into(),
            scope_path: "/".into(),
            before: Some(json!({"revoked_at": null})),
            after: Some(json!({"user_id": user_id, "revoked_at": now})),
        },
    )
    .await
}

/// How many live credentials a revocation ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Revoked {
    pub tokens: u64,
    pub sessions: u64,
}

/// Revokes every live API token and session of `user_id` (`reason`: e.g.
/// `password_change`, `admin`), audited in the same transaction.
pub async fn revoke_all(
    tx: &mut Tx,
    actor: &str,
    user_id: &str,
    reason: &str,
) -> Result<Revoked, StoreError> {
    let now = db::now_ms();
    let mut revoked = Revoked::default();
    for (table, count) in [
        ("api_tokens", &mut revoked.tokens),
        ("sessions", &mut revoked.sessions),
    ] {
        *count = sqlx::query(&format!("UPDATE {table} SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL AND expires_at > $1"))
            .bind(now)
            .bind(user_id.to_string())
            .execute(&mut **tx)
            .await?
            .rows_affected();
    }
    audit::record(
        tx,
        Entry {
            actor: actor.into(),
            action: "user.revoke_credentials".into(),
            entity: "user".into(),
            entity_id: user_id.into(),
            scope_path: "/".into(),
            before: None,
            after: Some(json!({"reason": reason, "tokens": revoked.tokens, "sessions": revoked.sessions, "revoked_at": now})),
        },
    )
    .await?;
    Ok(revoked)
}

/// Sets a new password hash and revokes every token and session of the
/// user, in one transaction, audited (never the hash).
pub(crate) async fn change_password(
    tx: &mut Tx,
    actor: &str,
    user_id: &str,
    password_hash: &str,
) -> Result<Revoked, StoreError> {
    let n = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
        .bind(password_hash.to_string())
        .bind(user_id.to_string())
        .execute(&mut **tx)
        .await?
        .rows_affected();
    if n == 0 {
        return Err(StoreError::not_found(format!("user '{user_id}'")));
    }
    audit::record(
        tx,
        Entry {
            actor: actor.into(),
            action: "user.password_change".into(),
            entity: "user".into(),
            entity_id: user_id.into(),
            scope_path: "/".into(),
            before: None,
            after: None,
        },
    )
    .await?;
    revoke_all(tx, actor, user_id, "password_change").await
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UserView {
    pub id: String,
    pub username: String,
    pub person_id: Option<String>,
}

pub async fn get_user(db: &Db, id: &str) -> Result<UserView, StoreError> {
    let r = sqlx::query("SELECT id, username, person_id FROM users WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(db.reader())
        .await?
        .ok_or_else(|| StoreError::not_found(format!("user '{id}'")))?;
    Ok(UserView {
        id: db::s(&r, "id")?,
        username: db::s(&r, "username")?,
        person_id: db::os(&r, "person_id")?,
    })
}

/// Links an owner's account to their owner of record (needed to vote later).
pub async fn link_owner(
    tx: &mut Tx,
    actor: &str,
    user_id: &str,
    owner_id: &str,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO owner_accounts (user_id, owner_id) VALUES ($1,$2)")
        .bind(user_id.to_string())
        .bind(owner_id.to_string())
        .execute(&mut **tx)
        .await?;
    audit::record(
        tx,
        Entry {
            actor: actor.into(),
            action: "owner_account.link".into(),
            entity: "user".into(),
            entity_id: user_id.into(),
            scope_path: "/".into(),
            before: None,
            after: Some(json!({"owner_id": owner_id})),
        },
    )
    .await?;
    Ok(())
}

pub async fn owners_of_user(db: &Db, user_id: &str) -> Result<Vec<String>, StoreError> {
    let rows = sqlx::query("SELECT owner_id FROM owner_accounts WHERE user_id = $1")
        .bind(user_id.to_string())
        .fetch_all(db.reader())
        .await?;
    rows.iter().map(|r| db::s(r, "owner_id")).collect()
}

/// Links a user account to an owner of record ([`link_owner`]) and records
/// `owner.link_account` over the owner's place (`scope_path`), in one
/// transaction.
pub async fn link_owner_account(
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
    db.write_with(args, |tx, (actor, uid, id, scope)| {
        Box::pin(async move {
            link_owner(tx, &actor, &uid, &id).await?;
            let e = Entry {
                actor,
                action: "owner.link_account".into(),
                entity: "owner".into(),
                entity_id: id,
                scope_path: scope,
                before: None,
                after: Some(json!({"user_id": uid})),
            };
            audit::record(tx, e).await
        })
    })
    .await
}

// Commands: each takes `&Db` and owns its transaction.

/// Gives a user a role over a place or grid ([`add_grant`]); its id.
pub async fn grant(
    db: &Db,
    actor: &str,
    user_id: &str,
    role: Role,
    place_id: Option<&str>,
    grid_id: Option<&str>,
) -> Result<String, StoreError> {
    let args = (
        (actor.to_string(), user_id.to_string()),
        (place_id.map(str::to_string), grid_id.map(str::to_string)),
    );
    db.write_with(args, move |tx, ((actor, uid), (place, grid))| {
        Box::pin(async move {
            add_grant(tx, &actor, &uid, role, place.as_deref(), grid.as_deref()).await
        })
    })
    .await
}

/// Issues an API token ([`create_api_token_for`]).
pub async fn issue_token(
    db: &Db,
    actor: &str,
    user_id: &str,
    name: &str,
    days: Option<i64>,
) -> Result<NewToken, StoreError> {
    let args = (actor.to_string(), user_id.to_string(), name.to_string());
    db.write_with(args, move |tx, (actor, uid, name)| {
        Box::pin(async move { create_api_token_for(tx, &actor, &uid, &name, days).await })
    })
    .await
}

/// Revokes one of a user's tokens ([`revoke_token`]).
pub async fn revoke(db: &Db, actor: &str, user_id: &str, token_id: &str) -> Result<(), StoreError> {
    let args = (actor.to_string(), user_id.to_string(), token_id.to_string());
    db.write_with(args, |tx, (actor, uid, id)| {
        Box::pin(async move { revoke_token(tx, &actor, &uid, &id).await })
    })
    .await
}

/// Sets a user's password hash and revokes their tokens and sessions
/// ([`change_password`]).
pub async fn set_password(
    db: &Db,
    actor: &str,
    user_id: &str,
    password_hash: &str,
) -> Result<Revoked, StoreError> {
    let args = (
        actor.to_string(),
        user_id.to_string(),
        password_hash.to_string(),
    );
    db.write_with(args, |tx, (actor, uid, hash)| {
        Box::pin(async move { change_password(tx, &actor, &uid, &hash).await })
    })
    .await
}

/// Revokes every token and session of a user ([`revoke_all`]).
pub async fn revoke_credentials(
    db: &Db,
    actor: &str,
    user_id: &str,
    reason: &str,
) -> Result<Revoked, StoreError> {
    let args = (actor.to_string(), user_id.to_string(), reason.to_string());
    db.write_with(args, |tx, (actor, uid, reason)| {
        Box::pin(async move { revoke_all(tx, &actor, &uid, &reason).await })
    })
    .await
}
