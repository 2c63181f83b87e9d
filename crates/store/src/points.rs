//! Points (积分) and the points store (积分超市): a community's double-entry
//! ledger (rules in `gongzhi_domain::points`), each transfer a leaf of the
//! community's tamper-evident log ([`crate::tlog`], keyed by the
//! community's id) written in the same transaction, with its audit entry.
//!
//! Concurrency: every write begins by updating the community's
//! `points_books` row ([`lock`]) inside [`Db::write_locked`]: on PostgreSQL a
//! row lock at READ COMMITTED, so writers of one community queue behind it
//! and then see the latest balances and stock; on SQLite the single writer.
//! A person's balance is debited only by a conditional update (`credits -
//! debits >= amount`) and stock only while above zero, and the database's
//! CHECK constraints refuse either going negative even so.

use crate::audit::{self, Entry};
use crate::books::{idem_lookup_in, idem_store_in, Idem, IdemTable, Outcome};
use crate::db::{self, Db, Tx};
use crate::error::StoreError;
use crate::register::Place;
use gongzhi_domain::mask::mask_text;
use gongzhi_domain::merkle;
use gongzhi_domain::points::{
    self, person_account, RedemptionStatus, Transfer, TransferKind, HELD, ISSUED, REDEEMED,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The community a place's points are kept in: the place itself or its
/// community ancestor (district → street → community → …).
pub fn community_of(place: &Place) -> Result<String, StoreError> {
    place.path_ids().get(2).cloned().ok_or_else(|| {
        StoreError::invalid(
            "id",
            "points are kept by a community: name a community or a place inside one",
        )
    })
}

fn refusal((field, reason): points::Refusal) -> StoreError {
    StoreError::invalid(field, reason)
}

/// The community's points books, locked for this transaction.
#[derive(Debug, Clone)]
pub struct Books {
    pub community_id: String,
    pub log_size: i64,
    pub hold_ms: i64,
    /// The community's place path (for audit entries).
    pub path: String,
}

/// Locks (creating on first use) the community's `points_books` row.
pub async fn lock(tx: &mut Tx, community_id: &str) -> Result<Books, StoreError> {
    let touch = "UPDATE points_books SET log_size = log_size WHERE community_id = $1";
    let n = sqlx::query(touch)
        .bind(community_id)
        .execute(&mut **tx)
        .await?
        .rows_affected();
    if n == 0 {
        sqlx::query("INSERT INTO points_books (community_id, log_size, hold_ms, created_at) VALUES ($1, 0, $2, $3) ON CONFLICT (community_id) DO NOTHING")
            .bind(community_id)
            .bind(points::DEFAULT_HOLD_MS)
            .bind(db::now_ms())
            .execute(&mut **tx)
            .await?;
        sqlx::query(touch)
            .bind(community_id)
            .execute(&mut **tx)
            .await?;
    }
    let r = sqlx::query("SELECT b.log_size, b.hold_ms, p.path FROM points_books b JOIN places p ON p.id = b.community_id WHERE b.community_id = $1")
        .bind(community_id)
        .fetch_one(&mut **tx)
        .await?;
    Ok(Books {
        community_id: community_id.to_string(),
        log_size: db::i(&r, "log_size")?,
        hold_ms: db::i(&r, "hold_ms")?,
        path: db::s(&r, "path")?,
    })
}

/// A transfer to post.
pub struct NewTransfer<'a> {
    pub kind: TransferKind,
    pub debit: String,
    pub credit: String,
    pub amount: i64,
    /// The person whose account is debited or credited, if any.
    pub person_id: Option<&'a str>,
    pub reason: String,
    pub link: Option<String>,
    pub reverses: Option<&'a str>,
    pub by_user: &'a str,
}

/// Posts one transfer: the debit (refused with 409 when an account that may
/// not go negative is short), the credit, the immutable row, its leaf.
pub async fn post(
    tx: &mut Tx,
    books: &mut Books,
    t: NewTransfer<'_>,
) -> Result<Transfer, StoreError> {
    let c = books.community_id.clone();
    if t.debit == t.credit {
        return Err(StoreError::invalid(
            "credit",
            "must differ from the debit account",
        ));
    }
    let debit = if points::may_go_negative(&t.debit) {
        "UPDATE points_accounts SET debits = debits + $3 WHERE community_id = $1 AND account = $2"
    } else {
        "UPDATE points_accounts SET debits = debits + $3 WHERE community_id = $1 AND account = $2 AND credits - debits >= $3"
    };
    let n = sqlx::query(debit)
        .bind(&c)
        .bind(&t.debit)
        .bind(t.amount)
        .execute(&mut **tx)
        .await?
        .rows_affected();
    if n == 0 {
        if points::may_go_negative(&t.debit) {
            credit_or_debit(tx, &c, &t.debit, None, t.amount, 0).await?;
        } else {
            return Err(StoreError::Conflict(format!(
                "balance short: the {} account has fewer than {} points",
                if t.debit.starts_with("person:") {
                    "person's"
                } else {
                    t.debit.as_str()
                },
                t.amount
            )));
        }
    }
    let credit_person = t.person_id.filter(|p| person_account(p) == t.credit);
    credit_or_debit(tx, &c, &t.credit, credit_person, 0, t.amount).await?;
    let transfer = Transfer {
        seq: books.log_size,
        id: db::new_id(),
        kind: t.kind,
        debit: t.debit,
        credit: t.credit,
        amount: t.amount,
        reason: t.reason,
        link: t.link,
        by_user: t.by_user.to_string(),
        at: db::now_ms(),
    };
    sqlx::query(
        "INSERT INTO points_transfers (id, community_id, seq, kind, debit, credit, amount, person_id, reason, link, reverses, by_user, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(&transfer.id)
    .bind(&c)
    .bind(transfer.seq)
    .bind(transfer.kind.as_str())
    .bind(&transfer.debit)
    .bind(&transfer.credit)
    .bind(transfer.amount)
    .bind(t.person_id.map(str::to_string))
    .bind(&transfer.reason)
    .bind(transfer.link.clone())
    .bind(t.reverses.map(str::to_string))
    .bind(&transfer.by_user)
    .bind(transfer.at)
    .execute(&mut **tx)
    .await
    .map_err(|e| {
        let e = StoreError::from(e);
        if e.is_unique_violation() {
            StoreError::Conflict("that transfer is already reversed".into())
        } else {
            e
        }
    })?;
    let leaf = merkle::leaf_hash(&points::leaf_bytes(&c, &transfer));
    crate::tlog::append_leaf(tx, &c, books.log_size, &leaf).await?;
    books.log_size += 1;
    sqlx::query("UPDATE points_books SET log_size = $1 WHERE community_id = $2")
        .bind(books.log_size)
        .bind(&c)
        .execute(&mut **tx)
        .await?;
    Ok(transfer)
}

/// Adds to an account's counters, creating it on first use.
async fn credit_or_debit(
    tx: &mut Tx,
    community_id: &str,
    account: &str,
    person_id: Option<&str>,
    debits: i64,
    credits: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO points_accounts (community_id, account, person_id, debits, credits) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (community_id, account) DO UPDATE SET debits = points_accounts.debits + $4, credits = points_accounts.credits + $5",
    )
    .bind(community_id)
    .bind(account)
    .bind(person_id.map(str::to_string))
    .bind(debits)
    .bind(credits)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// An award as answered (and replayed for the same key).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Award {
    pub id: String,
    pub community_id: String,
    pub person_id: String,
    pub points: i64,
    pub reason: String,
    /// The transfer's leaf index in the community's log.
    pub seq: i64,
    pub at: i64,
}

/// Awards `points` to a person in `community` (a manual award: the reason
/// is required). The same idempotency key answers the same award.
pub async fn award(
    db: &Db,
    actor: &str,
    community: &Place,
    person_id: &str,
    pts: i64,
    reason: &str,
    idem: Idem,
) -> Result<Outcome<Award>, StoreError> {
    points::check_award(pts, reason).map_err(refusal)?;
    let args = (
        actor.to_string(),
        community.clone(),
        person_id.to_string(),
        reason.trim().to_string(),
        idem,
    );
    db.write_locked(move |tx| {
        let (actor, community, person, reason, idem) = args.clone();
        Box::pin(async move {
            let mut books = lock(tx, &community.id).await?;
            if let Some(v) =
                idem_lookup_in(tx, IdemTable::Points, &community.id, &idem.key, &idem.request_hash).await?
            {
                return Ok(Outcome::replay(v));
            }
            let t = post(
                tx,
                &mut books,
                NewTransfer {
                    kind: TransferKind::Award,
                    debit: ISSUED.into(),
                    credit: person_account(&person),
                    amount: pts,
                    person_id: Some(&person),
                    reason: reason.clone(),
                    link: None,
                    reverses: None,
                    by_user: &actor,
                },
            )
            .await?;
            let a = Award {
                id: t.id.clone(),
                community_id: community.id.clone(),
                person_id: person.clone(),
                points: pts,
                reason: mask_text(&reason),
                seq: t.seq,
                at: t.at,
            };
            idem_store_in(tx, IdemTable::Points, &community.id, &idem.key, &idem.request_hash, &a).await?;
            audit::record(
                tx,
                Entry {
                    actor: actor.clone(),
                    action: "points.award".into(),
                    entity: "points_transfer".into(),
                    entity_id: t.id.clone(),
                    scope_path: community.path.clone(),
                    before: None,
                    after: Some(json!({"person_id": person, "points": pts, "reason": mask_text(&reason), "seq": t.seq})),
                },
            )
            .await?;
            Ok(Outcome::new(a))
        })
    })
    .await
}

/// Corrects an award by its exact reversal (once; refused with 409 when
/// the person has already spent the points).
pub async fn reverse(
    db: &Db,
    actor: &str,
    community: &Place,
    transfer_id: &str,
    reason: &str,
) -> Result<Transfer, StoreError> {
    points::check_award(1, reason).map_err(refusal)?;
    let args = (
        actor.to_string(),
        community.clone(),
        transfer_id.to_string(),
        reason.trim().to_string(),
    );
    db.write_locked(move |tx| {
        let (actor, community, id, reason) = args.clone();
        Box::pin(async move {
            let mut books = lock(tx, &community.id).await?;
            let r = sqlx::query("SELECT kind, debit, credit, amount, person_id FROM points_transfers WHERE id = $1 AND community_id = $2")
                .bind(&id)
                .bind(&community.id)
                .fetch_optional(&mut **tx)
                .await?
                .ok_or_else(|| StoreError::not_found(format!("points transfer '{id}'")))?;
            if db::s(&r, "kind")? != TransferKind::Award.as_str() {
                return Err(StoreError::invalid("transfer_id", "only an award is corrected by a reversal"));
            }
            let person = db::os(&r, "person_id")?;
            let t = post(
                tx,
                &mut books,
                NewTransfer {
                    kind: TransferKind::Reversal,
                    debit: db::s(&r, "credit")?,
                    credit: db::s(&r, "debit")?,
                    amount: db::i(&r, "amount")?,
                    person_id: person.as_deref(),
                    reason,
                    link: Some(format!("reverses:{id}")),
                    reverses: Some(&id),
                    by_user: &actor,
                },
            )
            .await?;
            audit::record(tx, Entry { actor: actor.clone(), action: "points.reverse".into(), entity: "points_transfer".into(), entity_id: t.id.clone(), scope_path: community.path.clone(), before: None, after: Some(json!({"reverses": id, "points": t.amount, "seq": t.seq})) }).await?;
            Ok(t)
        })
    })
    .await
}

/// One line of a person's points.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PointsEntry {
    pub id: String,
    pub community_id: String,
    /// `award`, `hold`, `release`, `reversal`.
    pub kind: String,
    /// Signed: positive when points came in.
    pub points: i64,
    pub reason: String,
    pub at: i64,
    pub seq: i64,
}

/// A person's balance (all communities) and entries, newest first.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MyPoints {
    pub balance: i64,
    pub entries: Vec<PointsEntry>,
}

pub async fn of_person(db: &Db, person_id: &str, limit: i64) -> Result<MyPoints, StoreError> {
    let account = person_account(person_id);
    let b = sqlx::query("SELECT CAST(COALESCE(SUM(credits - debits), 0) AS BIGINT) AS b FROM points_accounts WHERE person_id = $1")
        .bind(person_id)
        .fetch_one(db.reader())
        .await?;
    let rows = sqlx::query(
        "SELECT id, community_id, kind, credit, amount, reason, at, seq FROM points_transfers \
         WHERE person_id = $1 ORDER BY at DESC, seq DESC LIMIT $2",
    )
    .bind(person_id)
    .bind(limit.clamp(1, 1000))
    .fetch_all(db.reader())
    .await?;
    let mut entries = Vec::with_capacity(rows.len());
    for r in rows {
        let amount = db::i(&r, "amount")?;
        entries.push(PointsEntry {
            id: db::s(&r, "id")?,
            community_id: db::s(&r, "community_id")?,
            kind: db::s(&r, "kind")?,
            points: if db::s(&r, "credit")? == account {
                amount
            } else {
                -amount
            },
            reason: mask_text(&db::s(&r, "reason")?),
            at: db::i(&r, "at")?,
            seq: db::i(&r, "seq")?,
        });
    }
    Ok(MyPoints {
        balance: db::i(&b, "b")?,
        entries,
    })
}

/// Every account's balance of a community (credits − debits); they sum to
/// zero.
pub async fn balances(db: &Db, community_id: &str) -> Result<Vec<(String, i64)>, StoreError> {
    let rows = sqlx::query("SELECT account, credits - debits AS b FROM points_accounts WHERE community_id = $1 ORDER BY account")
        .bind(community_id)
        .fetch_all(db.reader())
        .await?;
    rows.iter()
        .map(|r| Ok((db::s(r, "account")?, db::i(r, "b")?)))
        .collect()
}

// ---------------------------------------------------------------------------
// The points store
// ---------------------------------------------------------------------------

/// Puts an item in the store of `place` (its community's points buy it).
pub async fn create_item(
    db: &Db,
    actor: &str,
    place: &Place,
    name: &str,
    pts: i64,
    stock: i64,
) -> Result<String, StoreError> {
    points::check_item(name, pts, stock).map_err(refusal)?;
    let community = community_of(place)?;
    let args = (
        actor.to_string(),
        place.clone(),
        community,
        name.trim().to_string(),
    );
    db.write(move |tx| {
        let (actor, place, community, name) = args.clone();
        Box::pin(async move {
            let id = db::new_id();
            sqlx::query("INSERT INTO store_items (id, place_id, community_id, name, points, stock, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
                .bind(&id)
                .bind(&place.id)
                .bind(&community)
                .bind(&name)
                .bind(pts)
                .bind(stock)
                .bind(&actor)
                .bind(db::now_ms())
                .execute(&mut **tx)
                .await?;
            audit::record(tx, Entry { actor, action: "store.item_create".into(), entity: "store_item".into(), entity_id: id.clone(), scope_path: place.path.clone(), before: None, after: Some(json!({"name": name, "points": pts, "stock": stock})) }).await?;
            Ok(id)
        })
    })
    .await
}

/// A store item.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Item {
    pub id: String,
    pub place_id: String,
    pub community_id: String,
    pub name: String,
    pub points: i64,
    pub stock: i64,
}

const ITEM_COLS: &str = "id, place_id, community_id, name, points, stock";

fn item_from(r: &sqlx::any::AnyRow) -> Result<Item, StoreError> {
    Ok(Item {
        id: db::s(r, "id")?,
        place_id: db::s(r, "place_id")?,
        community_id: db::s(r, "community_id")?,
        name: db::s(r, "name")?,
        points: db::i(r, "points")?,
        stock: db::i(r, "stock")?,
    })
}

pub async fn get_item(db: &Db, id: &str) -> Result<Item, StoreError> {
    let r = sqlx::query(&format!(
        "SELECT {ITEM_COLS} FROM store_items WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(db.reader())
    .await?
    .ok_or_else(|| StoreError::not_found(format!("store item '{id}'")))?;
    item_from(&r)
}

/// The items of a community's store, in stock first, by name.
pub async fn items(db: &Db, community_id: &str) -> Result<Vec<Item>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {ITEM_COLS} FROM store_items WHERE community_id = $1 ORDER BY stock = 0, name, id"
    ))
    .bind(community_id)
    .fetch_all(db.reader())
    .await?;
    rows.iter().map(item_from).collect()
}

/// A redemption as answered.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Redemption {
    pub id: String,
    pub item_id: String,
    pub points: i64,
    /// `held`, `handed_over` or `voided`.
    pub status: RedemptionStatus,
    /// Pick up before this time (ms since the epoch) or the hold is voided.
    pub deadline_at: i64,
}

/// The caller (`person_id`) redeems one of the item: the stock is taken
/// and the points held (409 when out of stock or the balance is short).
/// The same key answers the same redemption.
pub async fn redeem(
    db: &Db,
    actor: &str,
    person_id: &str,
    item_id: &str,
    idem: Idem,
) -> Result<Outcome<Redemption>, StoreError> {
    let item = get_item(db, item_id).await?;
    let args = (actor.to_string(), person_id.to_string(), item, idem);
    db.write_locked(move |tx| {
        let (actor, person, item, idem) = args.clone();
        Box::pin(async move {
            let mut books = lock(tx, &item.community_id).await?;
            let key = format!("{person}:{}", idem.key);
            if let Some(v) = idem_lookup_in(tx, IdemTable::Points, &item.community_id, &key, &idem.request_hash).await? {
                return Ok(Outcome::replay(v));
            }
            let r = sqlx::query("SELECT points FROM store_items WHERE id = $1")
                .bind(&item.id)
                .fetch_one(&mut **tx)
                .await?;
            let price = db::i(&r, "points")?;
            let taken = sqlx::query("UPDATE store_items SET stock = stock - 1 WHERE id = $1 AND stock > 0")
                .bind(&item.id)
                .execute(&mut **tx)
                .await?
                .rows_affected();
            if taken == 0 {
                return Err(StoreError::Conflict(format!("'{}' is out of stock", item.name)));
            }
            let id = db::new_id();
            let hold = post(
                tx,
                &mut books,
                NewTransfer {
                    kind: TransferKind::Hold,
                    debit: person_account(&person),
                    credit: HELD.into(),
                    amount: price,
                    person_id: Some(&person),
                    reason: item.name.clone(),
                    link: Some(format!("redemption:{id}")),
                    reverses: None,
                    by_user: &actor,
                },
            )
            .await?;
            let red = Redemption {
                id: id.clone(),
                item_id: item.id.clone(),
                points: price,
                status: RedemptionStatus::Held,
                deadline_at: hold.at + books.hold_ms,
            };
            sqlx::query("INSERT INTO store_redemptions (id, item_id, community_id, person_id, points, status, hold_transfer_id, deadline_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
                .bind(&id)
                .bind(&item.id)
                .bind(&item.community_id)
                .bind(&person)
                .bind(price)
                .bind(RedemptionStatus::Held.as_str())
                .bind(&hold.id)
                .bind(red.deadline_at)
                .bind(hold.at)
                .execute(&mut **tx)
                .await?;
            idem_store_in(tx, IdemTable::Points, &item.community_id, &key, &idem.request_hash, &red).await?;
            audit::record(tx, Entry { actor, action: "store.redeem".into(), entity: "store_redemption".into(), entity_id: id, scope_path: books.path.clone(), before: None, after: Some(json!({"item_id": item.id, "points": price, "seq": hold.seq})) }).await?;
            Ok(Outcome::new(red))
        })
    })
    .await
}

/// A redemption and the place of its item (for the access check).
pub async fn get_redemption(db: &Db, id: &str) -> Result<(Redemption, String), StoreError> {
    let r = sqlx::query("SELECT r.id, r.item_id, r.points, r.status, r.deadline_at, i.place_id FROM store_redemptions r JOIN store_items i ON i.id = r.item_id WHERE r.id = $1")
        .bind(id)
        .fetch_optional(db.reader())
        .await?
        .ok_or_else(|| StoreError::not_found(format!("redemption '{id}'")))?;
    Ok((redemption_from(&r)?, db::s(&r, "place_id")?))
}

fn redemption_from(r: &sqlx::any::AnyRow) -> Result<Redemption, StoreError> {
    let status = db::s(r, "status")?;
    Ok(Redemption {
        id: db::s(r, "id")?,
        item_id: db::s(r, "item_id")?,
        points: db::i(r, "points")?,
        status: RedemptionStatus::parse(&status)
            .ok_or_else(|| StoreError::Config(format!("unknown redemption status '{status}'")))?,
        deadline_at: db::i(r, "deadline_at")?,
    })
}

/// Resolves a held redemption inside the community's locked books: hands
/// it over (held → redeemed) or voids it (held → the person, the item back
/// in stock). 409 when it is no longer held.
async fn resolve(
    tx: &mut Tx,
    books: &mut Books,
    actor: &str,
    id: &str,
    hand_over: bool,
) -> Result<Redemption, StoreError> {
    let r = sqlx::query("SELECT id, item_id, person_id, points, status, deadline_at FROM store_redemptions WHERE id = $1")
        .bind(id)
        .fetch_one(&mut **tx)
        .await?;
    let mut red = redemption_from(&r)?;
    if red.status != RedemptionStatus::Held {
        return Err(StoreError::Conflict(format!(
            "the redemption is already {}",
            red.status
        )));
    }
    let person = db::s(&r, "person_id")?;
    let (credit, person_id, status) = if hand_over {
        (REDEEMED.to_string(), None, RedemptionStatus::HandedOver)
    } else {
        (
            person_account(&person),
            Some(person.as_str()),
            RedemptionStatus::Voided,
        )
    };
    let t = post(
        tx,
        books,
        NewTransfer {
            kind: if hand_over {
                TransferKind::Redeem
            } else {
                TransferKind::Release
            },
            debit: HELD.into(),
            credit,
            amount: red.points,
            person_id,
            reason: String::new(),
            link: Some(format!("redemption:{id}")),
            reverses: None,
            by_user: actor,
        },
    )
    .await?;
    if !hand_over {
        sqlx::query("UPDATE store_items SET stock = stock + 1 WHERE id = $1")
            .bind(&red.item_id)
            .execute(&mut **tx)
            .await?;
    }
    // resolved once: the row moves only from held (and the transfer id is unique)
    let n = sqlx::query("UPDATE store_redemptions SET status = $1, resolved_transfer_id = $2, resolved_by = $3 WHERE id = $4 AND status = 'held'")
        .bind(status.as_str())
        .bind(&t.id)
        .bind(actor)
        .bind(id)
        .execute(&mut **tx)
        .await?
        .rows_affected();
    if n != 1 {
        return Err(StoreError::Conflict(
            "the redemption is no longer held".into(),
        ));
    }
    audit::record(
        tx,
        Entry {
            actor: actor.into(),
            action: format!("store.{}", status.as_str()),
            entity: "store_redemption".into(),
            entity_id: id.into(),
            scope_path: books.path.clone(),
            before: Some(json!({"status": "held"})),
            after: Some(json!({"status": status.as_str(), "seq": t.seq})),
        },
    )
    .await?;
    red.status = status;
    Ok(red)
}

/// Station staff hand a held redemption over: its points are posted as
/// redeemed. A hold past its deadline is voided instead (both returned)
/// and the hand-over refused with 409.
pub async fn hand_over(db: &Db, actor: &str, id: &str) -> Result<Redemption, StoreError> {
    let (red, _) = get_redemption(db, id).await?;
    let community = sqlx::query("SELECT community_id FROM store_redemptions WHERE id = $1")
        .bind(id)
        .fetch_one(db.reader())
        .await
        .map_err(StoreError::from)
        .and_then(|r| db::s(&r, "community_id"))?;
    let expired = points::hold_expired(red.deadline_at, db::now_ms());
    let args = (actor.to_string(), id.to_string(), community);
    let out = db
        .write_locked(move |tx| {
            let (actor, id, community) = args.clone();
            Box::pin(async move {
                let mut books = lock(tx, &community).await?;
                resolve(tx, &mut books, &actor, &id, !expired).await
            })
        })
        .await?;
    if expired {
        return Err(StoreError::Conflict(
            "the pick-up deadline has passed: the hold is voided and the points returned".into(),
        ));
    }
    Ok(out)
}

/// Voids every hold whose deadline has passed (`now`), returning the points
/// and the item; one transaction per community. Returns how many.
pub async fn expire_holds(db: &Db, actor: &str, now: i64) -> Result<usize, StoreError> {
    let rows = sqlx::query("SELECT id, community_id FROM store_redemptions WHERE status = 'held' AND deadline_at <= $1 ORDER BY community_id")
        .bind(now)
        .fetch_all(db.reader())
        .await?;
    let mut by: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for r in &rows {
        by.entry(db::s(r, "community_id")?)
            .or_default()
            .push(db::s(r, "id")?);
    }
    let mut n = 0;
    for (community, ids) in by {
        let args = (actor.to_string(), community, ids);
        n += db
            .write_locked(move |tx| {
                let (actor, community, ids) = args.clone();
                Box::pin(async move {
                    let mut books = lock(tx, &community).await?;
                    let mut n = 0;
                    for id in &ids {
                        // a hold handed over meanwhile is left alone
                        match resolve(tx, &mut books, &actor, id, false).await {
                            Ok(_) => n += 1,
                            Err(StoreError::Conflict(_)) => {}
                            Err(e) => return Err(e),
                        }
                    }
                    Ok(n)
                })
            })
            .await?;
    }
    Ok(n)
}

/// A redemption as a list shows it: the item, the person (masked), where
/// it stands.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RedemptionRow {
    pub id: String,
    pub item: String,
    /// Masked, e.g. `张*`.
    pub person: String,
    pub points: i64,
    pub status: String,
    pub deadline_at: i64,
}

/// Whose redemptions a list shows.
pub enum Whose<'a> {
    Person(&'a str),
    /// The held redemptions of a community's store.
    HeldIn(&'a str),
}

/// Redemptions, newest first (at most 200).
pub async fn redemptions(db: &Db, whose: Whose<'_>) -> Result<Vec<RedemptionRow>, StoreError> {
    let (cond, v) = match whose {
        Whose::Person(p) => ("r.person_id = $1", p),
        Whose::HeldIn(c) => ("r.community_id = $1 AND r.status = 'held'", c),
    };
    let rows = sqlx::query(&format!(
        "SELECT r.id, i.name AS item, p.name AS person, r.points, r.status, r.deadline_at \
         FROM store_redemptions r JOIN store_items i ON i.id = r.item_id JOIN people p ON p.id = r.person_id \
         WHERE {cond} ORDER BY r.created_at DESC, r.id DESC LIMIT 200"
    ))
    .bind(v)
    .fetch_all(db.reader())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(RedemptionRow {
                id: db::s(r, "id")?,
                item: db::s(r, "item")?,
                person: gongzhi_domain::mask::mask_name(&db::s(r, "person")?),
                points: db::i(r, "points")?,
                status: db::s(r, "status")?,
                deadline_at: db::i(r, "deadline_at")?,
            })
        })
        .collect()
}

/// The communities a person's points and store are kept in: those of the
/// places they are known at (home, residences).
pub async fn communities_of_person(db: &Db, person_id: &str) -> Result<Vec<String>, StoreError> {
    let mut out: Vec<String> = crate::register::person_places(db, person_id)
        .await?
        .iter()
        .filter_map(|p| community_of(p).ok())
        .collect();
    out.sort();
    out.dedup();
    Ok(out)
}

/// One award rule: points per unit of a kind (per confirmed volunteer hour,
/// per patrol, per fulfilled commitment…).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Rule {
    pub kind: points::RuleKind,
    pub points: i64,
    pub set_at: i64,
}

/// Sets a community's rule for `kind` (a new row; the latest wins, earlier
/// ones stay as the record).
pub async fn set_rule(
    db: &Db,
    actor: &str,
    community: &Place,
    kind: points::RuleKind,
    pts: i64,
) -> Result<(), StoreError> {
    if !(0..=points::MAX_POINTS).contains(&pts) {
        return Err(StoreError::invalid(
            "points",
            format!("must be between 0 and {}", points::MAX_POINTS),
        ));
    }
    let args = (actor.to_string(), community.clone());
    db.write(move |tx| {
        let (actor, community) = args.clone();
        Box::pin(async move {
            let id = db::new_id();
            sqlx::query("INSERT INTO points_rules (id, community_id, kind, points, set_by, set_at) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(&id)
                .bind(&community.id)
                .bind(kind.as_str())
                .bind(pts)
                .bind(&actor)
                .bind(db::now_ms())
                .execute(&mut **tx)
                .await?;
            audit::record(tx, Entry { actor, action: "points.rule".into(), entity: "points_rule".into(), entity_id: id, scope_path: community.path.clone(), before: None, after: Some(json!({"kind": kind.as_str(), "points": pts})) }).await?;
            Ok(())
        })
    })
    .await
}

/// A community's rules in force (the latest of each kind).
pub async fn rules(db: &Db, community_id: &str) -> Result<Vec<Rule>, StoreError> {
    let rows = sqlx::query(
        "SELECT r.kind, r.points, r.set_at FROM points_rules r WHERE r.community_id = $1 \
         AND NOT EXISTS (SELECT 1 FROM points_rules n WHERE n.community_id = r.community_id AND n.kind = r.kind AND (n.set_at > r.set_at OR (n.set_at = r.set_at AND n.id > r.id))) \
         ORDER BY r.kind",
    )
    .bind(community_id)
    .fetch_all(db.reader())
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let k = db::s(&r, "kind")?;
        out.push(Rule {
            kind: points::RuleKind::parse(&k)
                .ok_or_else(|| StoreError::Config(format!("unknown rule kind '{k}'")))?,
            points: db::i(&r, "points")?,
            set_at: db::i(&r, "set_at")?,
        });
    }
    Ok(out)
}

/// One award of a batch (e.g. the confirmed hours of an activity).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BatchAward {
    pub person_id: String,
    pub points: i64,
    pub reason: String,
}

/// What a batch posted.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BatchPosted {
    pub awards: usize,
    pub points: i64,
    /// The first transfer's leaf index; the others follow in order.
    pub first_seq: i64,
    pub log_size: i64,
}

/// The most awards one batch posts.
pub const MAX_BATCH: usize = 10_000;

/// Posts many awards in one transaction, set-based: a few multi-row
/// statements for the transfers, the accounts, the leaves and the nodes of
/// the community's log (no statement per award). Every person must live in
/// the community (home place inside it), else nothing is posted. The same
/// key answers the same batch.
pub async fn award_batch(
    db: &Db,
    actor: &str,
    community: &Place,
    awards: Vec<BatchAward>,
    idem: Idem,
) -> Result<Outcome<BatchPosted>, StoreError> {
    if awards.is_empty() || awards.len() > MAX_BATCH {
        return Err(StoreError::invalid(
            "awards",
            format!("1 to {MAX_BATCH} awards"),
        ));
    }
    for (i, a) in awards.iter().enumerate() {
        points::check_award(a.points, &a.reason)
            .map_err(|(f, r)| StoreError::invalid(format!("awards[{i}].{f}"), r))?;
    }
    let args = (
        actor.to_string(),
        community.clone(),
        std::sync::Arc::new(awards),
        idem,
        db.clone(),
    );
    db.write_locked(move |tx| {
        let (actor, community, awards, idem, db) = args.clone();
        Box::pin(async move {
            let mut books = lock(tx, &community.id).await?;
            if let Some(v) =
                idem_lookup_in(tx, IdemTable::Points, &community.id, &idem.key, &idem.request_hash).await?
            {
                return Ok(Outcome::replay(v));
            }
            // every person lives in the community: one query per 500
            let mut people: Vec<&str> = awards.iter().map(|a| a.person_id.as_str()).collect();
            people.sort_unstable();
            people.dedup();
            let mut found = 0;
            for chunk in people.chunks(500) {
                let sql = format!(
                    "SELECT COUNT(*) AS n FROM people p JOIN places pl ON pl.id = p.home_place_id WHERE pl.path LIKE $1 AND p.id IN ({})",
                    db::in_placeholders(2, chunk.len())
                );
                let mut q = sqlx::query(&sql).bind(format!("{}%", community.path));
                for p in chunk {
                    q = q.bind(*p);
                }
                found += db::i(&q.fetch_one(&mut **tx).await?, "n")?;
            }
            if found != people.len() as i64 {
                return Err(StoreError::invalid(
                    "awards",
                    format!("{} of the people named do not live in this community", people.len() as i64 - found),
                ));
            }
            let at = db::now_ms();
            let first = books.log_size;
            let transfers: Vec<Transfer> = awards
                .iter()
                .enumerate()
                .map(|(i, a)| Transfer {
                    seq: first + i as i64,
                    id: db::new_id(),
                    kind: TransferKind::Award,
                    debit: ISSUED.into(),
                    credit: person_account(&a.person_id),
                    amount: a.points,
                    reason: a.reason.trim().to_string(),
                    link: None,
                    by_user: actor.clone(),
                    at,
                })
                .collect();
            for (chunk, src) in transfers.chunks(200).zip(awards.chunks(200)) {
                let sql = format!(
                    "INSERT INTO points_transfers (id, community_id, seq, kind, debit, credit, amount, person_id, reason, link, reverses, by_user, at) VALUES {}",
                    db.bulk_values(chunk.len(), 13)
                );
                let mut q = sqlx::query(&sql);
                for (t, a) in chunk.iter().zip(src) {
                    q = q
                        .bind(&t.id)
                        .bind(&community.id)
                        .bind(t.seq)
                        .bind(t.kind.as_str())
                        .bind(&t.debit)
                        .bind(&t.credit)
                        .bind(t.amount)
                        .bind(&a.person_id)
                        .bind(&t.reason)
                        .bind(None::<String>)
                        .bind(None::<String>)
                        .bind(&t.by_user)
                        .bind(t.at);
                }
                q.execute(&mut **tx).await?;
            }
            // the accounts: one row per person (summed), then the source
            let mut per: std::collections::BTreeMap<&str, i64> = Default::default();
            for a in awards.iter() {
                *per.entry(a.person_id.as_str()).or_default() += a.points;
            }
            let per: Vec<(&str, i64)> = per.into_iter().collect();
            for chunk in per.chunks(300) {
                let sql = format!(
                    "INSERT INTO points_accounts (community_id, account, person_id, debits, credits) VALUES {} \
                     ON CONFLICT (community_id, account) DO UPDATE SET credits = points_accounts.credits + excluded.credits",
                    db.bulk_values(chunk.len(), 5)
                );
                let mut q = sqlx::query(&sql);
                for (p, n) in chunk {
                    q = q.bind(&community.id).bind(person_account(p)).bind(*p).bind(0i64).bind(*n);
                }
                q.execute(&mut **tx).await?;
            }
            let total: i64 = per.iter().map(|(_, n)| n).sum();
            credit_or_debit(tx, &community.id, ISSUED, None, total, 0).await?;
            let leaves: Vec<merkle::Hash> = transfers
                .iter()
                .map(|t| merkle::leaf_hash(&points::leaf_bytes(&community.id, t)))
                .collect();
            crate::tlog::append_leaves(&db, tx, &community.id, first, &leaves).await?;
            books.log_size += transfers.len() as i64;
            sqlx::query("UPDATE points_books SET log_size = $1 WHERE community_id = $2")
                .bind(books.log_size)
                .bind(&community.id)
                .execute(&mut **tx)
                .await?;
            let out = BatchPosted { awards: transfers.len(), points: total, first_seq: first, log_size: books.log_size };
            idem_store_in(tx, IdemTable::Points, &community.id, &idem.key, &idem.request_hash, &out).await?;
            audit::record(tx, Entry { actor: actor.clone(), action: "points.award_batch".into(), entity: "points_books".into(), entity_id: community.id.clone(), scope_path: community.path.clone(), before: None, after: Some(json!({"awards": out.awards, "points": total, "first_seq": first})) }).await?;
            Ok(Outcome::new(out))
        })
    })
    .await
}
