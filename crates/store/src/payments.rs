//! Online payment of fee bills through a payment gateway, and hardship
//! waivers.
//!
//! A gateway plugs in behind [`PaymentGateway`]: it says how the payer pays
//! an intent and checks the signature of its callbacks. The sandbox gateway
//! (demo and tests) signs its callbacks with Ed25519. Confirming is
//! idempotent per intent (a second confirmation of a paid intent posts
//! nothing), a callback's event id is accepted once (a replay is refused),
//! a stale callback (more than ten minutes off) is refused, and a forged one
//! fails its signature.
//!
//! A hardship waiver (fees of a household in difficulty, Pingli) needs two
//! approvals by two people: the steward and the compound's party branch
//! (branch secretary). Granted, it moves the waived amount out of fee income
//! and the receivable (one transfer, one leaf).

use crate::audit::{self, Entry};
use crate::db::{self, Db};
use crate::error::StoreError;
use crate::fund::{self, Idem, NewTransfer, Outcome};
use crate::register::{self, Place};
use ed25519_dalek::{Signer, SigningKey, Verifier, VerifyingKey};
use gongzhi_domain::ledger::{AccountCode, ApprovalError, ApprovalPolicy, TransferKind};
use gongzhi_domain::policy::Role;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::Digest;

/// A gateway's callback, once its signature is checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Callback {
    /// Unique per event; a second delivery of the same event is a replay.
    pub event_id: String,
    pub intent_id: String,
    /// Fen.
    pub amount: i64,
    /// `paid` or `failed`.
    pub status: String,
    /// Milliseconds since the epoch.
    pub at: i64,
}

/// A payment gateway. Real gateways implement this; the sandbox ships.
pub trait PaymentGateway: Send + Sync {
    fn name(&self) -> &'static str;
    /// What the payer opens to pay an intent (a URL or QR payload).
    fn checkout(&self, intent_id: &str, amount: i64) -> String;
    /// Checks a callback's signature and reads it.
    fn verify_callback(&self, body: &[u8], signature: &str) -> Result<Callback, StoreError>;
}

/// The sandbox gateway: pays on request, signs its callbacks with its own
/// Ed25519 key (derived from a server secret so it survives restarts).
pub struct SandboxGateway {
    key: SigningKey,
}

impl SandboxGateway {
    pub fn from_secret(secret: &[u8]) -> SandboxGateway {
        let mut h = sha2::Sha256::new();
        h.update(b"gongzhi-sandbox-gateway/1\n");
        h.update(secret);
        SandboxGateway {
            key: SigningKey::from_bytes(&h.finalize().into()),
        }
    }
    pub fn verifying_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }
    /// The hex signature of a callback body.
    pub fn sign(&self, body: &[u8]) -> String {
        hex::encode(self.key.sign(body).to_bytes())
    }
    /// A signed callback: (body, signature).
    pub fn callback(&self, c: &Callback) -> (Vec<u8>, String) {
        let body = serde_json::to_vec(c).expect("a callback serialises");
        let sig = self.sign(&body);
        (body, sig)
    }
}

impl PaymentGateway for SandboxGateway {
    fn name(&self) -> &'static str {
        "sandbox"
    }
    fn checkout(&self, intent_id: &str, amount: i64) -> String {
        format!(
            "/api/v1/payments/sandbox/pay/{intent_id}?amount={}",
            gongzhi_domain::money::Fen(amount)
        )
    }
    fn verify_callback(&self, body: &[u8], signature: &str) -> Result<Callback, StoreError> {
        let sig = hex::decode(signature.trim())
            .ok()
            .and_then(|b| <[u8; 64]>::try_from(b).ok())
            .map(|b| ed25519_dalek::Signature::from_bytes(&b))
            .ok_or_else(|| StoreError::invalid("signature", "not a hex Ed25519 signature"))?;
        self.key
            .verifying_key()
            .verify(body, &sig)
            .map_err(|_| StoreError::invalid("signature", "does not match the callback"))?;
        serde_json::from_slice(body)
            .map_err(|e| StoreError::invalid("body", format!("not a callback: {e}")))
    }
}

/// How far a callback's time may be from ours.
pub const CALLBACK_WINDOW_MS: i64 = 10 * 60 * 1000;

/// Creates a payment intent for (part of) a bill: the payer then pays at
/// the gateway, whose signed callback confirms it. `payer` is the user.
pub async fn create_intent(
    db: &Db,
    payer: &str,
    compound: &Place,
    bill_id: &str,
    amount: Option<i64>,
    gateway: &dyn PaymentGateway,
    idem: Idem,
) -> Result<Outcome<Checkout>, StoreError> {
    let (payer, compound, bill_id) = (payer.to_string(), compound.clone(), bill_id.to_string());
    let gw = gateway.name();
    let out = db
        .write_locked(move |tx| {
            let (payer, compound, bill_id, idem) =
                (payer.clone(), compound.clone(), bill_id.clone(), idem.clone());
            Box::pin(async move {
                fund::lock(tx, &compound.id).await?;
                if let Some(v) =
                    fund::idem_lookup(tx, &compound.id, &idem.key, &idem.request_hash).await?
                {
                    return Ok(Outcome::replay(v));
                }
                let (_, outstanding) =
                    crate::billing::outstanding_in(tx, &compound.id, &bill_id).await?;
                let amount = amount.unwrap_or(outstanding);
                if outstanding <= 0 {
                    return Err(StoreError::Conflict(format!("bill '{bill_id}' is settled")));
                }
                if amount <= 0 || amount > outstanding {
                    return Err(StoreError::invalid(
                        "amount",
                        format!("must be between 0.01 and the {outstanding} fen outstanding"),
                    ));
                }
                let id = db::new_id();
                sqlx::query("INSERT INTO fund_payment_intents (id, compound_id, bill_id, amount, gateway, state, created_by, created_at) VALUES ($1, $2, $3, $4, $5, 'created', $6, $7)")
                    .bind(&id)
                    .bind(&compound.id)
                    .bind(&bill_id)
                    .bind(amount)
                    .bind(gw)
                    .bind(&payer)
                    .bind(db::now_ms())
                    .execute(&mut **tx)
                    .await?;
                let value = Intent {
                    intent: IntentView {
                        id,
                        bill_id,
                        amount,
                        gateway: gw.to_string(),
                        state: "created".into(),
                    },
                };
                fund::idem_store(tx, &compound.id, &idem.key, &idem.request_hash, &value).await?;
                Ok(Outcome::new(value))
            })
        })
        .await?;
    let intent = out.value.intent;
    let checkout = gateway.checkout(&intent.id, intent.amount);
    Ok(Outcome {
        value: Checkout { intent, checkout },
        replayed: out.replayed,
    })
}

/// A payment intent as created (what an idempotent replay reads back).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IntentView {
    pub id: String,
    pub bill_id: String,
    pub amount: i64,
    pub gateway: String,
    pub state: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Intent {
    intent: IntentView,
}

/// A payment intent and where its payer pays it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Checkout {
    pub intent: IntentView,
    /// The gateway's checkout URL for this intent.
    pub checkout: String,
}

/// What a gateway's callback did to its intent.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Confirmation {
    pub intent_id: String,
    /// paid or failed
    pub state: String,
    /// Paid before (the callback changed nothing); absent when failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub already: Option<bool>,
    /// The payment posted by this callback.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receipt: Option<crate::billing::Payment>,
}

/// The amount of a payment intent that `payer` created (someone else's
/// intent is not found: only its payer pays it).
pub async fn payer_intent_amount(db: &Db, id: &str, payer: &str) -> Result<i64, StoreError> {
    let r =
        sqlx::query("SELECT amount FROM fund_payment_intents WHERE id = $1 AND created_by = $2")
            .bind(id)
            .bind(payer)
            .fetch_optional(db.reader())
            .await?
            .ok_or_else(|| StoreError::not_found(format!("payment intent '{id}'")))?;
    db::i(&r, "amount")
}

/// Confirms a payment from a gateway's callback: signature, freshness,
/// event id once, intent amount; then the payment is posted against the
/// bill (one transfer) and the intent marked paid, in one transaction.
pub async fn confirm(
    db: &Db,
    gateway: &dyn PaymentGateway,
    body: &[u8],
    signature: &str,
    now: i64,
) -> Result<Confirmation, StoreError> {
    let cb = gateway.verify_callback(body, signature)?;
    if (cb.at - now).abs() > CALLBACK_WINDOW_MS {
        return Err(StoreError::invalid(
            "at",
            "the callback is stale or from the future (more than ten minutes off)",
        ));
    }
    let r =
        sqlx::query("SELECT compound_id FROM fund_payment_intents WHERE id = $1 AND gateway = $2")
            .bind(&cb.intent_id)
            .bind(gateway.name())
            .fetch_optional(db.reader())
            .await?
            .ok_or_else(|| StoreError::not_found(format!("payment intent '{}'", cb.intent_id)))?;
    let compound = register::get_place(db, &db::s(&r, "compound_id")?).await?;
    let gw = gateway.name();
    db.write_locked(move |tx| {
        let (cb, compound) = (cb.clone(), compound.clone());
        Box::pin(async move {
            let mut books = fund::lock(tx, &compound.id).await?;
            let seen = sqlx::query("SELECT intent_id FROM fund_gateway_events WHERE gateway = $1 AND event_id = $2")
                .bind(gw)
                .bind(&cb.event_id)
                .fetch_optional(&mut **tx)
                .await?;
            if seen.is_some() {
                return Err(StoreError::Conflict(format!(
                    "callback event '{}' was already received: a replay is refused",
                    cb.event_id
                )));
            }
            sqlx::query("INSERT INTO fund_gateway_events (gateway, event_id, intent_id, received_at) VALUES ($1, $2, $3, $4)")
                .bind(gw)
                .bind(&cb.event_id)
                .bind(&cb.intent_id)
                .bind(now)
                .execute(&mut **tx)
                .await?;
            let i = sqlx::query("SELECT bill_id, amount, state, created_by FROM fund_payment_intents WHERE id = $1")
                .bind(&cb.intent_id)
                .fetch_one(&mut **tx)
                .await?;
            let state = db::s(&i, "state")?;
            if state == "paid" {
                return Ok(Confirmation {
                    intent_id: cb.intent_id,
                    state: "paid".into(),
                    already: Some(true),
                    receipt: None,
                });
            }
            if cb.amount != db::i(&i, "amount")? {
                return Err(StoreError::invalid("amount", "does not match the payment intent"));
            }
            if cb.status != "paid" {
                sqlx::query("UPDATE fund_payment_intents SET state = 'failed', confirmed_at = $1 WHERE id = $2")
                    .bind(now)
                    .bind(&cb.intent_id)
                    .execute(&mut **tx)
                    .await?;
                return Ok(Confirmation {
                    intent_id: cb.intent_id,
                    state: "failed".into(),
                    already: None,
                    receipt: None,
                });
            }
            // Received by the gateway, not yet in the bank: the gateway's
            // settlement moves it from the clearing account to `bank`.
            let receipt = crate::billing::pay_into(
                tx,
                &compound,
                &mut books,
                &db::s(&i, "bill_id")?,
                cb.amount,
                "online",
                &db::s(&i, "created_by")?,
                gw,
                AccountCode::GatewayClearing,
                "gateway_payment",
            )
            .await?;
            sqlx::query("UPDATE fund_payment_intents SET state = 'paid', confirmed_at = $1, transfer_id = $2 WHERE id = $3")
                .bind(now)
                .bind(&receipt.transfer.id)
                .bind(&cb.intent_id)
                .execute(&mut **tx)
                .await?;
            Ok(Confirmation {
                intent_id: cb.intent_id,
                state: "paid".into(),
                already: Some(false),
                receipt: Some(receipt),
            })
        })
    })
    .await
}

// ---------------------------------------------------------------------------
// Hardship waivers
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Waiver {
    pub id: String,
    pub bill_id: String,
    pub amount: i64,
    pub reason: String,
    /// requested → granted (both approvals)
    pub state: String,
    pub steward_by: Option<String>,
    pub branch_by: Option<String>,
    pub transfer_id: Option<String>,
}

fn waiver_from(r: &sqlx::any::AnyRow) -> Result<Waiver, StoreError> {
    Ok(Waiver {
        id: db::s(r, "id")?,
        bill_id: db::s(r, "bill_id")?,
        amount: db::i(r, "amount")?,
        reason: db::s(r, "reason")?,
        state: db::s(r, "state")?,
        steward_by: db::os(r, "steward_by")?,
        branch_by: db::os(r, "branch_by")?,
        transfer_id: db::os(r, "transfer_id")?,
    })
}

/// Requests a hardship waiver of (part of) a bill.
pub async fn request_waiver(
    db: &Db,
    user: &str,
    compound: &Place,
    bill_id: &str,
    amount: i64,
    reason: &str,
) -> Result<Waiver, StoreError> {
    let reason = reason.trim().to_string();
    if reason.is_empty() || reason.chars().count() > fund::MAX_TEXT {
        return Err(StoreError::invalid(
            "reason",
            "is required (1 to 500 characters)",
        ));
    }
    if amount <= 0 {
        return Err(StoreError::invalid("amount", "must be greater than zero"));
    }
    let (user, compound, bill_id) = (user.to_string(), compound.clone(), bill_id.to_string());
    db.write_locked(move |tx| {
        let (user, compound, bill_id, reason) =
            (user.clone(), compound.clone(), bill_id.clone(), reason.clone());
        Box::pin(async move {
            fund::lock(tx, &compound.id).await?;
            let (_, outstanding) = crate::billing::outstanding_in(tx, &compound.id, &bill_id).await?;
            if amount > outstanding {
                return Err(StoreError::invalid("amount", format!("more than the {outstanding} fen outstanding")));
            }
            let id = db::new_id();
            let now = db::now_ms();
            sqlx::query("INSERT INTO fund_waivers (id, compound_id, bill_id, amount, reason, state, requested_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'requested', $6, $7, $7)")
                .bind(&id).bind(&compound.id).bind(&bill_id).bind(amount).bind(&reason).bind(&user).bind(now)
                .execute(&mut **tx).await?;
            let w = waiver_from(&sqlx::query("SELECT * FROM fund_waivers WHERE id = $1").bind(&id).fetch_one(&mut **tx).await?)?;
            audit::record(tx, Entry { actor: format!("user:{user}"), action: "fund.waiver.request".into(), entity: "fund_waiver".into(), entity_id: id, scope_path: compound.path.clone(), before: None, after: Some(json!(w)) }).await?;
            Ok(w)
        })
    })
    .await
}

/// One approval of a waiver, in the role the approver holds: the steward's
/// or the party branch's (branch secretary). Two different people; when both
/// have approved, the waiver is granted and booked.
pub async fn approve_waiver(
    db: &Db,
    user: &str,
    held: &[Role],
    compound: &Place,
    id: &str,
) -> Result<Waiver, StoreError> {
    let (user, held, compound, id) = (
        user.to_string(),
        held.to_vec(),
        compound.clone(),
        id.to_string(),
    );
    db.write_locked(move |tx| {
        let (user, held, compound, id) = (user.clone(), held.clone(), compound.clone(), id.clone());
        Box::pin(async move {
            let mut books = fund::lock(tx, &compound.id).await?;
            let r = sqlx::query("SELECT * FROM fund_waivers WHERE id = $1 AND compound_id = $2")
                .bind(&id)
                .bind(&compound.id)
                .fetch_optional(&mut **tx)
                .await?
                .ok_or_else(|| StoreError::not_found(format!("waiver '{id}'")))?;
            let mut w = waiver_from(&r)?;
            let before = w.clone();
            if w.state != "requested" {
                return Err(StoreError::Conflict(format!("waiver '{id}' is already {}", w.state)));
            }
            // Two parties, as for disbursements (`ledger::ApprovalPolicy`): the
            // steward and the party branch, two different people, either first.
            let policy = ApprovalPolicy::new(Role::Steward, Role::BranchSecretary)
                .expect("two different roles");
            let first = match (&w.steward_by, &w.branch_by) {
                (Some(u), _) => Some((u.clone(), Role::Steward)),
                (None, Some(u)) => Some((u.clone(), Role::BranchSecretary)),
                (None, None) => None,
            };
            let role = match &first {
                None => policy.first(&held),
                Some((u, r)) => policy.second(u, *r, &user, &held),
            }
            .map_err(|e| match (&e, &first) {
                // holds only the side that has already approved
                (ApprovalError::SecondRoleMissing(_), Some((_, r))) if held.contains(r) => {
                    StoreError::Conflict("this side has already approved".into())
                }
                _ => fund::approval_error(e),
            })?;
            let col = if role == Role::Steward {
                w.steward_by = Some(user.clone());
                "steward_by"
            } else {
                w.branch_by = Some(user.clone());
                "branch_by"
            };
            let now = db::now_ms();
            if w.steward_by.is_some() && w.branch_by.is_some() {
                let (period, outstanding) = crate::billing::outstanding_in(tx, &compound.id, &w.bill_id).await?;
                if w.amount > outstanding {
                    return Err(StoreError::Conflict(format!("the bill has only {outstanding} fen outstanding now")));
                }
                sqlx::query("UPDATE fund_bills SET waived = waived + $1 WHERE id = $2").bind(w.amount).bind(&w.bill_id).execute(&mut **tx).await?;
                let t = fund::append(tx, &compound, &mut books, NewTransfer {
                    kind: TransferKind::Posted,
                    debit: AccountCode::FeeIncome,
                    credit: AccountCode::OwnerReceivables,
                    amount: w.amount,
                    code: "waiver".into(),
                    memo: format!("hardship waiver, fees {period} (steward and party branch approved)"),
                    pending_id: None,
                    link: Some(format!("waiver:{}", w.id)),
                    vote_id: None,
                    by_user: user.clone(),
                    by_role: role.as_str().into(),
                    timeout_at: None,
                }).await?;
                w.state = "granted".into();
                w.transfer_id = Some(t.id);
            }
            sqlx::query(&format!("UPDATE fund_waivers SET {col} = $1, state = $2, transfer_id = $3, updated_at = $4 WHERE id = $5"))
                .bind(&user).bind(&w.state).bind(w.transfer_id.clone()).bind(now).bind(&w.id)
                .execute(&mut **tx).await?;
            audit::record(tx, Entry { actor: format!("user:{user}"), action: "fund.waiver.approve".into(), entity: "fund_waiver".into(), entity_id: w.id.clone(), scope_path: compound.path.clone(), before: Some(json!(before)), after: Some(json!(w)) }).await?;
            Ok(w)
        })
    })
    .await
}

/// Every waiver of the compound, newest first (private: reasons describe
/// households' hardship).
pub async fn waivers(db: &Db, compound_id: &str) -> Result<Vec<Waiver>, StoreError> {
    let rows = sqlx::query(
        "SELECT * FROM fund_waivers WHERE compound_id = $1 ORDER BY created_at DESC, id",
    )
    .bind(compound_id)
    .fetch_all(db.reader())
    .await?;
    rows.iter().map(waiver_from).collect()
}
