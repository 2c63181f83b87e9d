//! The typed entries of a compound's Merkle log. Owners rely on more than
//! the transfers: a disbursement request, each approval, a void, an adopted
//! budget, a billing run, a publication, a matter's step are all leaves, so
//! none of them can be changed or dropped without the signed root changing.
//!
//! Canonical encoding: every entry kind is a Rust struct with a fixed field
//! order and only integers, strings, booleans, lists and nulls (never
//! floats), serialised as compact JSON. A verifier parses a served entry into
//! these types and re-encodes it; whatever the server sent (key order,
//! spacing, extra fields), only the canonical bytes are hashed.
//!
//! * a transfer keeps its leaf `{"v":1,"origin":…,"t":{…}}`
//!   ([`crate::ledger::leaf_bytes`]), so logs written before typed entries
//!   still verify;
//! * every other entry is a [`Record`]: `{"v":2,"origin":…,"r":{"seq":…,
//!   "id":…,"by_user":…,"by_role":…,"at":…,"body":{"type":…,…}}}`.

use crate::ledger::{leaf_bytes, AccountCode, Transfer};
use serde::{Deserialize, Serialize};

/// One planned amount of an annual budget.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BudgetLine {
    /// An expense category (`expense_*` or `steward_remuneration`).
    pub category: AccountCode,
    /// Fen, ≥ 0.
    pub amount: i64,
}

/// What a non-transfer entry says. The `type` tag names the kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RecordBody {
    /// A disbursement was requested (before any approval).
    DisbursementRequest {
        disbursement_id: String,
        purpose: String,
        payee: String,
        amount: i64,
        category: AccountCode,
        source: AccountCode,
        documents: Vec<String>,
        vote_id: Option<String>,
        /// The declared emergency (maintenance-fund spending without a vote).
        emergency: Option<String>,
    },
    /// One approval of a disbursement (`step` 1 reserves, 2 posts).
    Approval {
        disbursement_id: String,
        step: u8,
        role: String,
        transfer_id: Option<String>,
    },
    /// A disbursement voided by a person, or expired (`by_user` "system").
    Void {
        disbursement_id: String,
        reason: String,
        transfer_id: Option<String>,
    },
    /// An annual budget adopted by a passed vote.
    Budget {
        budget_id: String,
        year: i32,
        vote_id: String,
        lines: Vec<BudgetLine>,
    },
    /// A fee billing run: every part billed area × rate for a period.
    BillingRun {
        period: String,
        bills: i64,
        total: i64,
        rate_flat: i64,
        rate_shop: i64,
        rate_parking: i64,
        transfer_id: String,
    },
    /// Something published to the owners (e.g. an emergency use).
    Publication {
        subject: String,
        title: String,
        summary: String,
    },
    /// A step of a matter in this compound's scope (including its
    /// publication steps: `produces` says what the step produced).
    MatterStep {
        matter_id: String,
        title: String,
        step_idx: i64,
        step_key: String,
        produces: String,
        role: String,
        note: String,
        vote_id: Option<String>,
    },
    /// An audit report recorded by an auditor.
    AuditReport {
        audit_id: String,
        scope: String,
        period_from: String,
        period_to: String,
        summary: String,
        document_sha256: Option<String>,
    },
}

impl RecordBody {
    /// The `type` tag.
    pub fn kind(&self) -> &'static str {
        match self {
            RecordBody::DisbursementRequest { .. } => "disbursement_request",
            RecordBody::Approval { .. } => "approval",
            RecordBody::Void { .. } => "void",
            RecordBody::Budget { .. } => "budget",
            RecordBody::BillingRun { .. } => "billing_run",
            RecordBody::Publication { .. } => "publication",
            RecordBody::MatterStep { .. } => "matter_step",
            RecordBody::AuditReport { .. } => "audit_report",
        }
    }
    /// What the entry is about, e.g. `disbursement:ID` (for look-ups).
    pub fn subject(&self) -> String {
        match self {
            RecordBody::DisbursementRequest {
                disbursement_id, ..
            }
            | RecordBody::Approval {
                disbursement_id, ..
            }
            | RecordBody::Void {
                disbursement_id, ..
            } => format!("disbursement:{disbursement_id}"),
            RecordBody::Budget { budget_id, .. } => format!("budget:{budget_id}"),
            RecordBody::BillingRun { period, .. } => format!("billing:{period}"),
            RecordBody::Publication { subject, .. } => subject.clone(),
            RecordBody::MatterStep { matter_id, .. } => format!("matter:{matter_id}"),
            RecordBody::AuditReport { audit_id, .. } => format!("audit:{audit_id}"),
        }
    }
}

/// A non-transfer entry of the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Record {
    /// Position in the compound's log (0-based).
    pub seq: u64,
    pub id: String,
    pub by_user: String,
    pub by_role: String,
    /// Milliseconds since the epoch.
    pub at: i64,
    pub body: RecordBody,
}

/// The origin line of a compound's log checkpoints.
pub fn origin(code: &str) -> String {
    format!("gongzhi/books/{code}")
}

/// The canonical leaf bytes of a record.
pub fn record_leaf_bytes(origin: &str, r: &Record) -> Vec<u8> {
    #[derive(Serialize)]
    struct LeafV2<'a> {
        v: u8,
        origin: &'a str,
        r: &'a Record,
    }
    serde_json::to_vec(&LeafV2 { v: 2, origin, r }).expect("a record always serialises")
}

/// Any entry of the log, as served publicly: `{"entry":"transfer",…}` or
/// `{"entry":"record",…}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "entry", rename_all = "snake_case")]
pub enum Entry {
    Transfer(Transfer),
    Record(Record),
}

impl Entry {
    pub fn seq(&self) -> u64 {
        match self {
            Entry::Transfer(t) => t.seq,
            Entry::Record(r) => r.seq,
        }
    }
    pub fn id(&self) -> &str {
        match self {
            Entry::Transfer(t) => &t.id,
            Entry::Record(r) => &r.id,
        }
    }
    /// The exact bytes of this entry's leaf.
    pub fn leaf_bytes(&self, origin: &str) -> Vec<u8> {
        match self {
            Entry::Transfer(t) => leaf_bytes(origin, t),
            Entry::Record(r) => record_leaf_bytes(origin, r),
        }
    }
    /// A short description for error messages.
    pub fn describe(&self) -> String {
        match self {
            Entry::Transfer(t) => format!(
                "id {}, transfer {} {} fen {} → {}",
                t.id, t.kind, t.amount, t.credit, t.debit
            ),
            Entry::Record(r) => format!("id {}, {} {}", r.id, r.body.kind(), r.body.subject()),
        }
    }
    pub fn as_transfer(&self) -> Option<&Transfer> {
        match self {
            Entry::Transfer(t) => Some(t),
            Entry::Record(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::TransferKind;

    fn approval() -> Record {
        Record {
            seq: 4,
            id: "r1".into(),
            by_user: "u1".into(),
            by_role: "committee_member".into(),
            at: 1_700_000_000_000,
            body: RecordBody::Approval {
                disbursement_id: "d1".into(),
                step: 1,
                role: "committee_member".into(),
                transfer_id: Some("t3".into()),
            },
        }
    }

    #[test]
    fn record_encoding_is_canonical_and_binds_every_field() {
        let r = approval();
        let s = String::from_utf8(record_leaf_bytes("o", &r)).unwrap();
        assert_eq!(
            s,
            "{\"v\":2,\"origin\":\"o\",\"r\":{\"seq\":4,\"id\":\"r1\",\"by_user\":\"u1\",\"by_role\":\"committee_member\",\"at\":1700000000000,\"body\":{\"type\":\"approval\",\"disbursement_id\":\"d1\",\"step\":1,\"role\":\"committee_member\",\"transfer_id\":\"t3\"}}}"
        );
        let mut other = r.clone();
        if let RecordBody::Approval { step, .. } = &mut other.body {
            *step = 2;
        }
        assert_ne!(record_leaf_bytes("o", &r), record_leaf_bytes("o", &other));
        assert_ne!(record_leaf_bytes("o", &r), record_leaf_bytes("p", &r));
    }

    #[test]
    fn served_json_in_any_key_order_reencodes_to_the_same_leaf() {
        let r = Entry::Record(approval());
        let shuffled = r#"{"body":{"transfer_id":"t3","role":"committee_member","step":1,"disbursement_id":"d1","type":"approval"},"at":1700000000000,"by_role":"committee_member","by_user":"u1","id":"r1","seq":4,"entry":"record"}"#;
        let back: Entry = serde_json::from_str(shuffled).unwrap();
        assert_eq!(back.leaf_bytes("o"), r.leaf_bytes("o"));
        // an extra field the server slipped in does not enter the leaf
        let extra = shuffled.replace("\"seq\":4", "\"seq\":4,\"x\":1");
        let back: Entry = serde_json::from_str(&extra).unwrap();
        assert_eq!(back.leaf_bytes("o"), r.leaf_bytes("o"));
        // an unknown type is refused
        let bad = shuffled.replace("\"approval\"", "\"bribe\"");
        assert!(serde_json::from_str::<Entry>(&bad).is_err());
    }

    #[test]
    fn a_transfer_entry_keeps_its_v1_leaf() {
        let t = Transfer {
            seq: 0,
            id: "t0".into(),
            kind: TransferKind::Posted,
            debit: AccountCode::Bank,
            credit: AccountCode::FeeIncome,
            amount: 100,
            code: "fee".into(),
            memo: String::new(),
            pending_id: None,
            link: None,
            vote_id: None,
            by_user: "u".into(),
            by_role: "steward".into(),
            at: 0,
            timeout_at: None,
        };
        let e = Entry::Transfer(t.clone());
        assert_eq!(e.leaf_bytes("o"), leaf_bytes("o", &t));
        let j = serde_json::to_value(&e).unwrap();
        assert_eq!(j["entry"], "transfer");
        assert_eq!(j["amount"], 100);
        let back: Entry = serde_json::from_value(j).unwrap();
        assert_eq!(back, e);
        assert_eq!(back.as_transfer(), Some(&t));
    }

    #[test]
    fn every_kind_round_trips() {
        let bodies = vec![
            RecordBody::DisbursementRequest {
                disbursement_id: "d".into(),
                purpose: "p".into(),
                payee: "x".into(),
                amount: 5,
                category: AccountCode::ExpenseRepair,
                source: AccountCode::Bank,
                documents: vec!["inv.pdf".into()],
                vote_id: None,
                emergency: Some("elevator_stopped".into()),
            },
            RecordBody::Void {
                disbursement_id: "d".into(),
                reason: "r".into(),
                transfer_id: None,
            },
            RecordBody::Budget {
                budget_id: "b".into(),
                year: 2026,
                vote_id: "v".into(),
                lines: vec![BudgetLine {
                    category: AccountCode::ExpenseCleaning,
                    amount: 100,
                }],
            },
            RecordBody::BillingRun {
                period: "2026-01".into(),
                bills: 3,
                total: 9,
                rate_flat: 1,
                rate_shop: 2,
                rate_parking: 3,
                transfer_id: "t".into(),
            },
            RecordBody::Publication {
                subject: "s".into(),
                title: "t".into(),
                summary: "x".into(),
            },
            RecordBody::MatterStep {
                matter_id: "m".into(),
                title: "t".into(),
                step_idx: 0,
                step_key: "raise".into(),
                produces: "note".into(),
                role: "grid_worker".into(),
                note: "n".into(),
                vote_id: None,
            },
            RecordBody::AuditReport {
                audit_id: "a".into(),
                scope: "maintenance_fund".into(),
                period_from: "2023-01".into(),
                period_to: "2025-12".into(),
                summary: "ok".into(),
                document_sha256: None,
            },
        ];
        for b in bodies {
            let mut r = approval();
            r.body = b;
            let e = Entry::Record(r);
            let j = serde_json::to_string(&e).unwrap();
            let back: Entry = serde_json::from_str(&j).unwrap();
            assert_eq!(back, e, "{j}");
            let kind = match &back {
                Entry::Record(r) => r.body.kind(),
                _ => unreachable!(),
            };
            assert!(j.contains(&format!("\"type\":\"{kind}\"")), "{j}");
        }
    }
}
