//! How money may move in a compound's books — the rules that keep owners'
//! money from moving alone.
//!
//! * Money leaves a bank account (`bank`, `maintenance_bank`) only through a
//!   disbursement: requested, reserved by a first approval and posted by a
//!   second approval of a different person (or the emergency procedure,
//!   published before any money moves). Maintenance-fund spending also names
//!   a passed vote (checked by the store against the vote's authorised
//!   amount).
//! * A transfer recorded directly (by the steward or staff) may only bring
//!   money in ([`inflow_allowed`]: fees received, revenue, interest,
//!   subsidies, a gateway's settlement, a refund) or exactly reverse an
//!   earlier direct inflow ([`check_reversal`], once).
//! * Everything else is written by a procedure of the store (billing runs,
//!   gateway payments, waivers, dividends, remuneration accruals) with a
//!   fixed shape ([`internal_shape`]).
//!
//! [`check_log`] replays a served log against these rules, so a transfer
//! inserted into the database behind the procedures' backs — even with a
//! valid leaf and a signed checkpoint over it — is named by `gongzhi verify`.

use crate::book_entries::{Entry, RecordBody};
use crate::ledger::{AccountCode, Transfer, TransferKind, EMERGENCY_CODE};
use std::collections::{HashMap, HashSet};

/// The code of a transfer that reverses an earlier direct inflow; its link
/// is `reverses:<transfer id>`.
pub const REVERSAL_CODE: &str = "reversal";
/// Codes only the procedures write.
pub const RESERVED_CODES: &[&str] = &[
    EMERGENCY_CODE,
    "disbursement",
    "billing",
    "waiver",
    "dividend",
    "dividend_credit",
    "remuneration",
    "gateway_payment",
];

/// What a directly recorded transfer is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Direct {
    /// Money coming in.
    Inflow,
    /// The exact reversal of the earlier direct inflow with this id.
    Reversal { of: String },
}

/// Why a transfer may not be recorded directly; `field()` names what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlowError {
    #[error("code: '{0}' is written only by its procedure, never recorded directly")]
    ReservedCode(String),
    #[error("debit: money leaves the owners' funds only through a disbursement approved by two people (or the published emergency procedure); a transfer recorded directly must bring money in (bank or maintenance_bank ← income, fees, revenue, interest, subsidies, a gateway settlement, a refund), not {credit} → {debit}")]
    NotAnInflow {
        debit: AccountCode,
        credit: AccountCode,
    },
    #[error("link: a reversal names the transfer it reverses as 'reverses:<transfer id>'")]
    ReversalLink,
    #[error("link: only a directly recorded inflow can be reversed")]
    NotReversible,
    #[error("link: transfer '{0}' is already reversed")]
    AlreadyReversed(String),
    #[error("amount: a reversal moves exactly the reversed amount back, between the same two accounts swapped")]
    ReversalMismatch,
}

impl FlowError {
    /// The field the refusal is about (the message starts with it).
    pub fn field(&self) -> &'static str {
        match self {
            FlowError::ReservedCode(_) => "code",
            FlowError::NotAnInflow { .. } => "debit",
            FlowError::ReversalLink | FlowError::NotReversible | FlowError::AlreadyReversed(_) => {
                "link"
            }
            FlowError::ReversalMismatch => "amount",
        }
    }
    /// The message without its leading field name.
    pub fn reason(&self) -> String {
        let m = self.to_string();
        match m.split_once(": ") {
            Some((_, r)) => r.to_string(),
            None => m,
        }
    }
}

/// The inflows a person may record directly: into `bank` from income,
/// receivables, subsidies, an opening balance, the gateway's clearing account
/// (settlement) or an expense (a refund); into `maintenance_bank` from the
/// fund's principal (owners' deposits), its interest, or subsidies.
pub fn inflow_allowed(debit: AccountCode, credit: AccountCode) -> bool {
    use AccountCode::*;
    match debit {
        Bank => {
            matches!(
                credit,
                FeeIncome
                    | OwnerReceivables
                    | RevenueAdvertising
                    | RevenueParking
                    | RevenueVenue
                    | RevenueOther
                    | Subsidies
                    | OpeningBalance
                    | GatewayClearing
            ) || (credit.is_expense() && credit != StewardRemuneration)
        }
        MaintenanceBank => matches!(
            credit,
            MaintenancePrincipal | MaintenanceInterest | Subsidies
        ),
        _ => false,
    }
}

/// Classifies a transfer someone asks to record directly.
pub fn check_direct(
    debit: AccountCode,
    credit: AccountCode,
    code: &str,
    link: Option<&str>,
) -> Result<Direct, FlowError> {
    let code = code.trim();
    if RESERVED_CODES.contains(&code) {
        return Err(FlowError::ReservedCode(code.to_string()));
    }
    if code == REVERSAL_CODE {
        let of = link
            .and_then(|l| l.trim().strip_prefix("reverses:"))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .ok_or(FlowError::ReversalLink)?;
        return Ok(Direct::Reversal { of: of.to_string() });
    }
    if inflow_allowed(debit, credit) {
        Ok(Direct::Inflow)
    } else {
        Err(FlowError::NotAnInflow { debit, credit })
    }
}

/// Checks a reversal against the transfer it reverses: a posted direct
/// inflow (not itself a reversal), the same amount, the accounts swapped.
pub fn check_reversal(
    original: &Transfer,
    debit: AccountCode,
    credit: AccountCode,
    amount: i64,
) -> Result<(), FlowError> {
    if original.kind != TransferKind::Posted
        || original.code == REVERSAL_CODE
        || !inflow_allowed(original.debit, original.credit)
    {
        return Err(FlowError::NotReversible);
    }
    if debit != original.credit || credit != original.debit || amount != original.amount {
        return Err(FlowError::ReversalMismatch);
    }
    Ok(())
}

/// A maintenance-fund request under a vote's authorisation: `used` fen are
/// already requested under it (live requests), `amount` more fit only while
/// the total stays within the `authorised` amount. `Err` holds what remains.
pub fn within_authorisation(authorised: i64, used: i64, amount: i64) -> Result<(), i64> {
    let remaining = authorised.saturating_sub(used).max(0);
    if amount <= remaining {
        Ok(())
    } else {
        Err(remaining)
    }
}

/// The posted transfers the store's procedures write besides direct inflows
/// and disbursements (by debit, credit and code).
pub fn internal_shape(t: &Transfer) -> bool {
    use AccountCode::*;
    t.kind == TransferKind::Posted
        && match (t.debit, t.credit, t.code.as_str()) {
            (OwnerReceivables, FeeIncome, "billing") => true,
            (GatewayClearing, OwnerReceivables, "gateway_payment") => true,
            (FeeIncome, OwnerReceivables, "waiver") => true,
            (d, DividendsPayable, "dividend") => {
                d.as_str().starts_with("revenue_") || d == Subsidies
            }
            (DividendsPayable, OwnerReceivables, "dividend_credit") => true,
            (StewardRemuneration, StewardPayable, "remuneration") => true,
            _ => false,
        }
}

/// Is this transfer money leaving a bank account (a reservation or a
/// posting; releasing a reservation is not)?
pub fn is_outflow(t: &Transfer) -> bool {
    t.credit.is_cash() && t.kind != TransferKind::VoidPending
}

/// A refusal of [`check_log`]: the position of the entry and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogFault {
    pub index: usize,
    pub reason: String,
}

struct Request {
    amount: i64,
    debit: AccountCode,
    credit: AccountCode,
    emergency: bool,
}

/// Replays a log's entries against the rules above:
/// * every outflow is a disbursement's reservation or posting that follows
///   its request (same amount and accounts) and is approved — step 1 for the
///   reservation, step 2 by a different person for the posting — or the
///   exact reversal of an earlier direct inflow;
/// * an emergency transfer follows a published emergency request;
/// * a maintenance-fund request names a vote or a declared emergency;
/// * every other posted transfer is a direct inflow or has the shape of a
///   procedure ([`internal_shape`]).
pub fn check_log(entries: &[Entry]) -> Result<(), LogFault> {
    let fault = |index: usize, e: &Entry, why: &str| LogFault {
        index,
        reason: format!("entry {index} ({}): {why}", e.describe()),
    };
    let mut requests: HashMap<String, Request> = HashMap::new();
    let mut published: HashSet<String> = HashSet::new();
    // transfer id → (entry index, disbursement link, step it needs)
    let mut awaiting: HashMap<String, (usize, String, u8)> = HashMap::new();
    // pending transfer id → (link, the first approver once approved)
    let mut reserved: HashMap<String, (String, Option<String>)> = HashMap::new();
    // posting transfer id → first approver (the second must differ)
    let mut posting_first: HashMap<String, String> = HashMap::new();
    let mut inflows: HashMap<String, Transfer> = HashMap::new();
    let mut reversed: HashSet<String> = HashSet::new();
    for (i, e) in entries.iter().enumerate() {
        match e {
            Entry::Record(r) => match &r.body {
                RecordBody::DisbursementRequest {
                    disbursement_id,
                    amount,
                    category,
                    source,
                    vote_id,
                    emergency,
                    ..
                } => {
                    let from_fund = matches!(
                        source,
                        AccountCode::MaintenancePrincipal | AccountCode::MaintenanceInterest
                    );
                    if from_fund
                        && emergency.is_none()
                        && vote_id.as_deref().is_none_or(|v| v.trim().is_empty())
                    {
                        return Err(fault(
                            i,
                            e,
                            "maintenance-fund spending requested without a vote or a declared emergency",
                        ));
                    }
                    let (debit, credit) = match source {
                        AccountCode::Bank => (*category, AccountCode::Bank),
                        fund => (*fund, AccountCode::MaintenanceBank),
                    };
                    requests.insert(
                        format!("disbursement:{disbursement_id}"),
                        Request {
                            amount: *amount,
                            debit,
                            credit,
                            emergency: emergency.is_some(),
                        },
                    );
                }
                RecordBody::Publication { subject, .. } => {
                    published.insert(subject.clone());
                }
                RecordBody::Approval {
                    disbursement_id,
                    step,
                    transfer_id: Some(tid),
                    ..
                } => {
                    let Some((_, link, need)) = awaiting.remove(tid) else {
                        continue;
                    };
                    if link != format!("disbursement:{disbursement_id}") || *step != need {
                        return Err(fault(
                            i,
                            e,
                            "an approval that does not match the transfer it names",
                        ));
                    }
                    if need == 1 {
                        if let Some(p) = reserved.get_mut(tid) {
                            p.1 = Some(r.by_user.clone());
                        }
                    } else if posting_first.get(tid) == Some(&r.by_user) {
                        return Err(fault(
                            i,
                            e,
                            "the second approval is by the same person as the first",
                        ));
                    }
                }
                _ => {}
            },
            Entry::Transfer(t) => {
                if t.code == EMERGENCY_CODE {
                    let ok = t.link.as_ref().is_some_and(|l| {
                        requests.get(l).is_some_and(|r| r.emergency) && published.contains(l)
                    });
                    if !ok {
                        return Err(fault(
                            i,
                            e,
                            "an emergency use without a published emergency request before it",
                        ));
                    }
                }
                if is_outflow(t) {
                    match t.kind {
                        TransferKind::Pending | TransferKind::PostPending => {
                            let link = t.link.clone().unwrap_or_default();
                            let Some(req) = requests.get(&link) else {
                                return Err(fault(
                                    i,
                                    e,
                                    "money left a bank account without a disbursement request before it",
                                ));
                            };
                            if req.amount != t.amount
                                || req.debit != t.debit
                                || req.credit != t.credit
                            {
                                return Err(fault(
                                    i,
                                    e,
                                    "money left a bank account in another amount or between other accounts than its disbursement request",
                                ));
                            }
                            if t.kind == TransferKind::Pending {
                                reserved.insert(t.id.clone(), (link.clone(), None));
                                awaiting.insert(t.id.clone(), (i, link, 1));
                            } else {
                                let pid = t.pending_id.clone().unwrap_or_default();
                                let first =
                                    match reserved.get(&pid) {
                                        Some((l, Some(first))) if *l == link => first.clone(),
                                        _ => return Err(fault(
                                            i,
                                            e,
                                            "a posting without its approved reservation before it",
                                        )),
                                    };
                                posting_first.insert(t.id.clone(), first);
                                awaiting.insert(t.id.clone(), (i, link, 2));
                            }
                        }
                        _ => {
                            let ok = t
                                .link
                                .as_deref()
                                .and_then(|l| l.strip_prefix("reverses:"))
                                .filter(|_| t.code == REVERSAL_CODE)
                                .and_then(|of| inflows.get(of).map(|o| (of, o)))
                                .filter(|(of, _)| !reversed.contains(*of))
                                .is_some_and(|(_, o)| {
                                    check_reversal(o, t.debit, t.credit, t.amount).is_ok()
                                });
                            if !ok {
                                return Err(fault(
                                    i,
                                    e,
                                    "money left a bank account without an approved disbursement (or the emergency procedure)",
                                ));
                            }
                            if let Some(of) =
                                t.link.as_deref().and_then(|l| l.strip_prefix("reverses:"))
                            {
                                reversed.insert(of.to_string());
                            }
                        }
                    }
                } else if t.kind == TransferKind::Posted {
                    if inflow_allowed(t.debit, t.credit)
                        && !RESERVED_CODES.contains(&t.code.as_str())
                    {
                        if t.code != REVERSAL_CODE {
                            inflows.insert(t.id.clone(), t.clone());
                        }
                    } else if !internal_shape(t) {
                        return Err(fault(
                            i,
                            e,
                            "a transfer no procedure writes (neither an inflow, a disbursement nor a procedure's own entry)",
                        ));
                    }
                }
            }
        }
    }
    if let Some((tid, (i, _, step))) = awaiting.iter().min_by_key(|(_, (i, _, _))| *i) {
        return Err(LogFault {
            index: *i,
            reason: format!(
                "entry {i} ({}): money left a bank account without the approval (step {step}) that names transfer {tid}",
                entries[*i].describe()
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::book_entries::Record;
    use AccountCode::*;

    fn tr(
        seq: u64,
        kind: TransferKind,
        debit: AccountCode,
        credit: AccountCode,
        amount: i64,
    ) -> Transfer {
        Transfer {
            seq,
            id: format!("t{seq}"),
            kind,
            debit,
            credit,
            amount,
            code: "fee".into(),
            memo: String::new(),
            pending_id: None,
            link: None,
            vote_id: None,
            by_user: "steward".into(),
            by_role: "steward".into(),
            at: 0,
            timeout_at: None,
        }
    }

    fn rec(seq: u64, by: &str, body: RecordBody) -> Entry {
        Entry::Record(Record {
            seq,
            id: format!("r{seq}"),
            by_user: by.into(),
            by_role: "x".into(),
            at: 0,
            body,
        })
    }

    fn request(seq: u64, amount: i64, source: AccountCode, vote: Option<&str>) -> Entry {
        rec(
            seq,
            "req",
            RecordBody::DisbursementRequest {
                disbursement_id: "d1".into(),
                purpose: "p".into(),
                payee: "x".into(),
                amount,
                category: ExpenseRepair,
                source,
                documents: vec![],
                vote_id: vote.map(str::to_string),
                emergency: None,
            },
        )
    }

    fn approval(seq: u64, by: &str, step: u8, tid: &str) -> Entry {
        rec(
            seq,
            by,
            RecordBody::Approval {
                disbursement_id: "d1".into(),
                step,
                role: "x".into(),
                transfer_id: Some(tid.into()),
            },
        )
    }

    /// income, request, reserve, approve, post, approve
    fn good_log() -> Vec<Entry> {
        let mut pending = tr(2, TransferKind::Pending, ExpenseRepair, Bank, 500);
        pending.code = "disbursement".into();
        pending.link = Some("disbursement:d1".into());
        let mut post = pending.clone();
        post.seq = 4;
        post.id = "t4".into();
        post.kind = TransferKind::PostPending;
        post.pending_id = Some("t2".into());
        vec![
            Entry::Transfer(tr(0, TransferKind::Posted, Bank, FeeIncome, 1000)),
            request(1, 500, Bank, None),
            Entry::Transfer(pending),
            approval(3, "alice", 1, "t2"),
            Entry::Transfer(post),
            approval(5, "bob", 2, "t4"),
        ]
    }

    #[test]
    fn direct_transfers_only_bring_money_in() {
        assert_eq!(
            check_direct(Bank, FeeIncome, "fee", None),
            Ok(Direct::Inflow)
        );
        assert_eq!(
            check_direct(Bank, GatewayClearing, "settlement", None),
            Ok(Direct::Inflow)
        );
        assert_eq!(
            check_direct(MaintenanceBank, MaintenanceInterest, "interest", None),
            Ok(Direct::Inflow)
        );
        for (d, c) in [
            (ExpenseRepair, Bank),
            (MaintenanceInterest, MaintenanceBank),
            (MaintenancePrincipal, MaintenanceBank),
            (StewardRemuneration, Bank),
            (DividendsPayable, Bank),
            (RevenueOther, MaintenancePrincipal),
            (ExpenseRepair, OwnerReceivables),
            (Bank, StewardRemuneration),
            (GatewayClearing, OwnerReceivables),
        ] {
            let e = check_direct(d, c, "x", None).unwrap_err();
            assert_eq!(e.field(), "debit", "{d} ← {c}");
        }
        assert_eq!(
            check_direct(Bank, FeeIncome, "emergency", None)
                .unwrap_err()
                .field(),
            "code"
        );
        assert_eq!(
            check_direct(Bank, FeeIncome, "reversal", Some("t1")).unwrap_err(),
            FlowError::ReversalLink
        );
        assert_eq!(
            check_direct(FeeIncome, Bank, "reversal", Some("reverses:t1")),
            Ok(Direct::Reversal { of: "t1".into() })
        );
    }

    #[test]
    fn an_authorisation_is_spent_up_to_its_amount() {
        assert_eq!(within_authorisation(3_000_00, 0, 3_000_00), Ok(()));
        assert_eq!(
            within_authorisation(3_000_00, 1_000_00, 2_000_01),
            Err(2_000_00)
        );
        assert_eq!(within_authorisation(3_000_00, 3_000_00, 1), Err(0));
        // over-spent data (it cannot happen, but a remainder is never negative)
        assert_eq!(within_authorisation(100, 200, 1), Err(0));
    }

    #[test]
    fn a_reversal_mirrors_a_direct_inflow() {
        let orig = tr(0, TransferKind::Posted, Bank, FeeIncome, 1000);
        assert!(check_reversal(&orig, FeeIncome, Bank, 1000).is_ok());
        assert_eq!(
            check_reversal(&orig, FeeIncome, Bank, 999),
            Err(FlowError::ReversalMismatch)
        );
        assert_eq!(
            check_reversal(&orig, ExpenseRepair, Bank, 1000),
            Err(FlowError::ReversalMismatch)
        );
        let spend = tr(0, TransferKind::Posted, ExpenseRepair, Bank, 1000);
        assert_eq!(
            check_reversal(&spend, Bank, ExpenseRepair, 1000),
            Err(FlowError::NotReversible)
        );
    }

    #[test]
    fn an_approved_disbursement_passes() {
        assert_eq!(check_log(&good_log()), Ok(()));
    }

    #[test]
    fn a_bare_outflow_is_named() {
        let mut log = good_log();
        log.push(Entry::Transfer(tr(
            6,
            TransferKind::Posted,
            ExpenseRepair,
            Bank,
            100,
        )));
        let f = check_log(&log).unwrap_err();
        assert_eq!(f.index, 6);
        assert!(
            f.reason.contains("without an approved disbursement"),
            "{}",
            f.reason
        );
    }

    #[test]
    fn an_outflow_needs_its_request_amount_and_approvals() {
        // no request before it
        let mut log = good_log();
        log.remove(1);
        assert_eq!(check_log(&log).unwrap_err().index, 1);
        // another amount than requested
        let mut log = good_log();
        log[1] = request(1, 400, Bank, None);
        assert!(check_log(&log)
            .unwrap_err()
            .reason
            .contains("another amount"));
        // the reservation never approved
        let log: Vec<Entry> = good_log().into_iter().take(3).collect();
        let f = check_log(&log).unwrap_err();
        assert_eq!(f.index, 2);
        assert!(f.reason.contains("step 1"), "{}", f.reason);
        // one person approving twice
        let mut log = good_log();
        log[5] = approval(5, "alice", 2, "t4");
        let f = check_log(&log).unwrap_err();
        assert_eq!(f.index, 5);
        assert!(f.reason.contains("same person"), "{}", f.reason);
        // the posting unapproved
        let log: Vec<Entry> = good_log().into_iter().take(5).collect();
        assert_eq!(check_log(&log).unwrap_err().index, 4);
    }

    #[test]
    fn maintenance_requests_name_a_vote_and_reversals_happen_once() {
        let mut log = good_log();
        log[1] = request(1, 500, MaintenancePrincipal, None);
        assert!(check_log(&log)
            .unwrap_err()
            .reason
            .contains("without a vote"));
        let orig = tr(0, TransferKind::Posted, Bank, FeeIncome, 1000);
        let mut rev = tr(1, TransferKind::Posted, FeeIncome, Bank, 1000);
        rev.code = REVERSAL_CODE.into();
        rev.link = Some("reverses:t0".into());
        let mut again = rev.clone();
        again.seq = 2;
        again.id = "t2".into();
        let mut log = vec![
            Entry::Transfer(orig.clone()),
            Entry::Transfer(orig.clone()),
            Entry::Transfer(rev),
        ];
        // give the second inflow its own id
        if let Entry::Transfer(t) = &mut log[1] {
            t.id = "t1b".into();
        }
        assert_eq!(check_log(&log), Ok(()));
        log.push(Entry::Transfer(again));
        assert_eq!(check_log(&log).unwrap_err().index, 3);
    }

    #[test]
    fn an_emergency_use_needs_its_published_request_first() {
        let mut t = tr(
            2,
            TransferKind::Pending,
            MaintenancePrincipal,
            MaintenanceBank,
            100,
        );
        t.code = EMERGENCY_CODE.into();
        t.link = Some("disbursement:d1".into());
        let emergency = |e: Option<&str>| {
            rec(
                0,
                "req",
                RecordBody::DisbursementRequest {
                    disbursement_id: "d1".into(),
                    purpose: "lift".into(),
                    payee: "x".into(),
                    amount: 100,
                    category: ExpenseRepair,
                    source: MaintenancePrincipal,
                    documents: vec![],
                    vote_id: None,
                    emergency: e.map(str::to_string),
                },
            )
        };
        let request = emergency(Some("elevator_stopped"));
        let publication = rec(
            1,
            "req",
            RecordBody::Publication {
                subject: "disbursement:d1".into(),
                title: "t".into(),
                summary: "s".into(),
            },
        );
        let transfer = Entry::Transfer(t);
        let approved = approval(3, "alice", 1, "t2");
        assert_eq!(
            check_log(&[
                request.clone(),
                publication.clone(),
                transfer.clone(),
                approved.clone()
            ]),
            Ok(())
        );
        // no publication, or the transfer before its request: refused
        let f = check_log(&[request.clone(), transfer.clone(), approved.clone()]).unwrap_err();
        assert_eq!(f.index, 1);
        assert!(f.reason.contains("emergency"), "{}", f.reason);
        assert!(check_log(&[transfer.clone(), request, publication.clone()]).is_err());
        // an ordinary request of the fund without a vote is refused itself
        let f = check_log(&[emergency(None), publication, transfer, approved]).unwrap_err();
        assert_eq!(f.index, 0);
    }

    #[test]
    fn only_procedures_write_other_shapes() {
        let mut t = tr(
            0,
            TransferKind::Posted,
            RevenueOther,
            MaintenancePrincipal,
            100,
        );
        assert_eq!(
            check_log(&[Entry::Transfer(t.clone())]).unwrap_err().index,
            0
        );
        t.debit = OwnerReceivables;
        t.credit = FeeIncome;
        t.code = "billing".into();
        assert_eq!(check_log(&[Entry::Transfer(t)]), Ok(()));
    }
}
