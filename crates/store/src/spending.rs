//! What a vote authorises to be spent from the maintenance fund (Civil Code
//! art. 278 (5): using the fund is decided by the owners).
//!
//! The amount and purpose are fixed while the vote is a draft — before it
//! opens, so the owners vote on them — and never change (`vote_spending` is
//! append-only, one row per vote). A disbursement from the maintenance fund
//! names a passed vote of its compound that authorised spending; all the
//! live (not voided, not expired) disbursements naming that vote together
//! never exceed its amount ([`check_in`], inside the request's transaction,
//! under the books' lock).

use crate::audit::{self, Entry};
use crate::db::{self, Db, Tx};
use crate::error::StoreError;
use crate::register::Place;
use gongzhi_domain::money::Fen;
use serde::Serialize;
use serde_json::json;

/// A vote's spending authorisation.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Spending {
    pub vote_id: String,
    pub compound_id: String,
    /// Fen.
    pub amount: i64,
    pub purpose: String,
    pub set_by: String,
    pub set_at: i64,
}

fn from_row(r: &sqlx::any::AnyRow) -> Result<Spending, StoreError> {
    Ok(Spending {
        vote_id: db::s(r, "vote_id")?,
        compound_id: db::s(r, "compound_id")?,
        amount: db::i(r, "amount")?,
        purpose: db::s(r, "purpose")?,
        set_by: db::s(r, "set_by")?,
        set_at: db::i(r, "set_at")?,
    })
}

/// Fixes what a draft vote authorises: `amount` fen from the maintenance
/// fund for `purpose`. Once only, and only before the vote opens.
pub async fn authorise(
    db: &Db,
    user: &str,
    vote_id: &str,
    amount: i64,
    purpose: &str,
) -> Result<Spending, StoreError> {
    let purpose = purpose.trim().to_string();
    if purpose.is_empty() || purpose.chars().count() > gongzhi_domain::ledger::MAX_TEXT {
        return Err(StoreError::invalid(
            "purpose",
            "is required (1 to 500 characters)",
        ));
    }
    if amount <= 0 || amount > gongzhi_domain::ledger::MAX_AMOUNT {
        return Err(StoreError::invalid(
            "amount",
            "must be greater than zero and at most 10,000,000,000.00",
        ));
    }
    let (user, vote_id) = (user.to_string(), vote_id.to_string());
    db.write(move |tx| {
        let (user, vote_id, purpose) = (user.clone(), vote_id.clone(), purpose.clone());
        Box::pin(async move { authorise_in(tx, &user, &vote_id, amount, &purpose).await })
    })
    .await
}

/// [`authorise`] inside the caller's transaction (after the checks of the
/// amount and purpose): the vote is a draft of a compound or a building in
/// it, and authorises nothing yet.
pub async fn authorise_in(
    tx: &mut Tx,
    user: &str,
    vote_id: &str,
    amount: i64,
    purpose: &str,
) -> Result<Spending, StoreError> {
    let v = sqlx::query("SELECT scope_path, status FROM votes WHERE id = $1")
        .bind(vote_id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| StoreError::not_found(format!("vote '{vote_id}'")))?;
    let status = db::s(&v, "status")?;
    if status != "draft" {
        return Err(StoreError::Conflict(format!(
            "the vote is {status}: what it authorises is fixed before it opens"
        )));
    }
    let scope = db::s(&v, "scope_path")?;
    let compound = crate::scope::compound_of_scope(tx, &scope)
        .await?
        .ok_or_else(|| {
            StoreError::invalid(
                "vote_id",
                "only a vote of a compound (or a building in it) authorises spending its maintenance fund",
            )
        })?;
    if get_in(tx, vote_id).await?.is_some() {
        return Err(StoreError::Conflict(format!(
            "vote '{vote_id}' already authorises spending; it is never changed"
        )));
    }
    let s = Spending {
        vote_id: vote_id.to_string(),
        compound_id: compound.id.clone(),
        amount,
        purpose: purpose.to_string(),
        set_by: user.to_string(),
        set_at: db::now_ms(),
    };
    sqlx::query("INSERT INTO vote_spending (vote_id, compound_id, amount, purpose, set_by, set_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(&s.vote_id)
        .bind(&s.compound_id)
        .bind(s.amount)
        .bind(&s.purpose)
        .bind(&s.set_by)
        .bind(s.set_at)
        .execute(&mut **tx)
        .await?;
    audit::record(
        tx,
        Entry {
            actor: format!("user:{user}"),
            action: "vote.spending.authorise".into(),
            entity: "vote".into(),
            entity_id: vote_id.to_string(),
            scope_path: scope,
            before: None,
            after: Some(json!(s)),
        },
    )
    .await?;
    Ok(s)
}

async fn get_in(tx: &mut Tx, vote_id: &str) -> Result<Option<Spending>, StoreError> {
    fetch(&mut **tx, vote_id).await
}

/// A vote's spending authorisation, if it has one.
pub async fn get(db: &Db, vote_id: &str) -> Result<Option<Spending>, StoreError> {
    fetch(db.reader(), vote_id).await
}

async fn fetch<'e, E>(ex: E, vote_id: &str) -> Result<Option<Spending>, StoreError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query("SELECT * FROM vote_spending WHERE vote_id = $1")
        .bind(vote_id)
        .fetch_optional(ex)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// Inside a disbursement request's transaction (books locked): the vote
/// authorised spending from this compound's maintenance fund, and `amount`
/// fits in what is left of it. Refusals name `vote_id` or `amount`.
pub async fn check_in(
    tx: &mut Tx,
    compound: &Place,
    vote_id: &str,
    amount: i64,
) -> Result<(), StoreError> {
    let s = get_in(tx, vote_id)
        .await?
        .filter(|s| s.compound_id == compound.id)
        .ok_or_else(|| {
            StoreError::invalid(
                "vote_id",
                "the vote did not authorise spending from this compound's maintenance fund (an amount and purpose fixed before it opened)",
            )
        })?;
    let r = sqlx::query("SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) AS used FROM fund_disbursements WHERE vote_id = $1 AND compound_id = $2 AND state NOT IN ('voided', 'expired')")
        .bind(vote_id)
        .bind(&compound.id)
        .fetch_one(&mut **tx)
        .await?;
    let used = db::i(&r, "used")?;
    gongzhi_domain::flows::within_authorisation(s.amount, used, amount).map_err(|remaining| {
        StoreError::invalid(
            "amount",
            format!(
                "the vote authorised {} yuan for '{}'; {} yuan is already requested under it, so at most {} yuan remains",
                Fen(s.amount),
                s.purpose,
                Fen(used),
                Fen(remaining)
            ),
        )
    })
}
