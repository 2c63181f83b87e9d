//! The books of a compound's common fund: a double-entry ledger modelled on
//! TigerBeetle.
//!
//! * Every account has a fixed [`AccountCode`] (one account per code per
//!   compound). Its balance is four counters: debits and credits, pending and
//!   posted ([`Balance`]).
//! * Money moves only by immutable [`Transfer`]s of a positive number of fen
//!   from a debit account to a different credit account. Mistakes are
//!   corrected by new transfers, never by edits.
//! * Two-phase transfers: a `pending` transfer reserves the amount on both
//!   accounts; a later `post_pending` transfer posts it, or `void_pending`
//!   releases it (also used when it expires). A pending transfer is resolved
//!   at most once.
//! * Cash accounts (the bank accounts) can never go below zero: their posted
//!   credits plus pending credits never exceed their posted debits
//!   (TigerBeetle's `credits_must_not_exceed_debits`). The two maintenance
//!   fund accounts (principal, interest) likewise never go below zero
//!   (`debits_must_not_exceed_credits`).
//! * "Use the interest, keep the principal": a transfer that debits the
//!   maintenance fund principal is refused unless it names the passed vote
//!   that allows it.
//! * Two-party approval: see [`ApprovalPolicy`].
//!
//! Because every transfer has one debit and one credit of the same amount,
//! the sum of all accounts' (debits − credits) is always zero; a property
//! test checks it over random streams.

use crate::place::str_enum;
use crate::policy::Role;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Longest memo, purpose, payee.
pub const MAX_TEXT: usize = 500;

/// The largest single transfer: 10 billion yuan. Keeps every sum in `i64`.
pub const MAX_AMOUNT: i64 = 1_000_000_000_000;

str_enum!(
    /// The chart of accounts of one compound.
    AccountCode {
        Bank = "bank",
        MaintenanceBank = "maintenance_bank",
        MaintenancePrincipal = "maintenance_principal",
        MaintenanceInterest = "maintenance_interest",
        OwnerReceivables = "owner_receivables",
        FeeIncome = "fee_income",
        RevenueAdvertising = "revenue_advertising",
        RevenueParking = "revenue_parking",
        RevenueVenue = "revenue_venue",
        RevenueOther = "revenue_other",
        Subsidies = "subsidies",
        StewardRemuneration = "steward_remuneration",
        ExpenseRepair = "expense_repair",
        ExpenseCleaning = "expense_cleaning",
        ExpenseSecurity = "expense_security",
        ExpenseGreening = "expense_greening",
        ExpenseUtilities = "expense_utilities",
        ExpenseOther = "expense_other",
        DividendsPayable = "dividends_payable",
        OpeningBalance = "opening_balance",
        // remuneration owed to the steward, accrued each period, paid out
        // by a two-party approved disbursement
        StewardPayable = "steward_payable",
        // online payments received by a payment gateway and not yet settled
        // into `bank` (the gateway's settlement moves them, as a direct inflow)
        GatewayClearing = "gateway_clearing",
    }
);

str_enum!(
    /// Where a disbursement stands: requested → pending (first approval
    /// reserves the funds) → posted (second approval); or voided, or expired
    /// (its reservation timed out).
    DisbursementState {
        Requested = "requested",
        Pending = "pending",
        Posted = "posted",
        Voided = "voided",
        Expired = "expired",
    }
);

impl DisbursementState {
    /// Still waiting for an approval or a void.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            DisbursementState::Requested | DisbursementState::Pending
        )
    }
}

/// Which side an account's balance normally sits on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Normal {
    Debit,
    Credit,
}

impl AccountCode {
    /// Assets and expenses are debit-normal; income, liabilities and funds
    /// are credit-normal.
    pub fn normal(self) -> Normal {
        use AccountCode::*;
        match self {
            Bank | MaintenanceBank | OwnerReceivables | GatewayClearing | StewardRemuneration
            | ExpenseRepair | ExpenseCleaning | ExpenseSecurity | ExpenseGreening
            | ExpenseUtilities | ExpenseOther => Normal::Debit,
            _ => Normal::Credit,
        }
    }
    /// Cash: money really in a bank account. Never below zero.
    pub fn is_cash(self) -> bool {
        matches!(self, AccountCode::Bank | AccountCode::MaintenanceBank)
    }
    /// Accounts whose (normal-side) balance may never go below zero.
    pub fn must_not_go_negative(self) -> bool {
        self.is_cash()
            || matches!(
                self,
                AccountCode::MaintenancePrincipal
                    | AccountCode::MaintenanceInterest
                    | AccountCode::GatewayClearing
            )
    }
    /// The expense categories a disbursement may be booked to.
    pub fn is_expense(self) -> bool {
        self.as_str().starts_with("expense_") || self == AccountCode::StewardRemuneration
    }
}

/// An account's four counters, all in fen and never negative.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Balance {
    pub debits_pending: i64,
    pub debits_posted: i64,
    pub credits_pending: i64,
    pub credits_posted: i64,
}

impl Balance {
    /// Posted balance on the account's normal side.
    pub fn posted(&self, normal: Normal) -> i64 {
        match normal {
            Normal::Debit => self.debits_posted - self.credits_posted,
            Normal::Credit => self.credits_posted - self.debits_posted,
        }
    }
    /// What can still be spent: the posted balance less what pending
    /// transfers have reserved against it.
    pub fn available(&self, normal: Normal) -> i64 {
        match normal {
            Normal::Debit => self.debits_posted - self.credits_posted - self.credits_pending,
            Normal::Credit => self.credits_posted - self.debits_posted - self.debits_pending,
        }
    }
}

str_enum!(
    /// What a transfer does.
    TransferKind {
        Posted = "posted",
        Pending = "pending",
        PostPending = "post_pending",
        VoidPending = "void_pending",
    }
);

/// One immutable entry of the books. Also the content of a leaf of the
/// compound's Merkle log (see [`leaf_bytes`]): change any field and the
/// signed root no longer matches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Transfer {
    /// Position in the compound's log (0-based), assigned at write.
    pub seq: u64,
    pub id: String,
    pub kind: TransferKind,
    pub debit: AccountCode,
    pub credit: AccountCode,
    /// Fen, > 0. For `post_pending`/`void_pending`, the pending amount.
    pub amount: i64,
    /// What the money is for: `fee`, `disbursement`, `interest`, `dividend`,
    /// `opening`, `correction`, `revenue`, `remuneration`…
    pub code: String,
    pub memo: String,
    /// The pending transfer a `post_pending`/`void_pending` resolves.
    pub pending_id: Option<String>,
    /// The matter, vote, case or invoice this serves (free reference).
    pub link: Option<String>,
    /// The passed vote that allows spending maintenance-fund principal.
    pub vote_id: Option<String>,
    /// Who made or approved it, and in which role.
    pub by_user: String,
    pub by_role: String,
    /// Milliseconds since the epoch.
    pub at: i64,
    /// For `pending`: when it expires (ms since epoch).
    pub timeout_at: Option<i64>,
}

/// The exact bytes of a transfer's Merkle leaf: a versioned, fixed-order
/// JSON object. `origin` binds the leaf to one compound's log.
pub fn leaf_bytes(origin: &str, t: &Transfer) -> Vec<u8> {
    #[derive(Serialize)]
    struct LeafV1<'a> {
        v: u8,
        origin: &'a str,
        t: &'a Transfer,
    }
    serde_json::to_vec(&LeafV1 { v: 1, origin, t }).expect("a transfer always serialises")
}

/// Why a transfer was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    #[error("amount: {0} fen must be greater than zero")]
    AmountNotPositive(i64),
    #[error("amount: {0} fen is more than the largest transfer allowed")]
    AmountTooLarge(i64),
    #[error("credit: the debit and credit account are both '{0}'")]
    SameAccount(AccountCode),
    #[error("amount: account '{account}' has {available} fen available, {amount} fen would take it below zero")]
    InsufficientFunds {
        account: AccountCode,
        available: i64,
        amount: i64,
    },
    #[error("vote_id: spending maintenance fund principal needs a passed vote (use the interest, keep the principal)")]
    PrincipalNeedsVote,
    #[error("pending_id: pending transfer '{0}' does not exist")]
    PendingNotFound(String),
    #[error("pending_id: pending transfer '{0}' is already {1}")]
    PendingResolved(String, &'static str),
    #[error("pending_id: '{0}' must be given for {1} and only for it")]
    PendingIdMisuse(String, TransferKind),
    #[error("{0}: does not match the pending transfer")]
    PendingMismatch(&'static str),
}

/// A pending transfer and what became of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingState {
    pub debit: AccountCode,
    pub credit: AccountCode,
    pub amount: i64,
    pub resolved: Option<TransferKind>,
}

/// The books in memory: balances and pending transfers. Used by the store
/// (on the few accounts a write touches) and by `gongzhi verify` (replaying
/// every public entry).
#[derive(Debug, Clone, Default)]
pub struct Ledger {
    pub balances: BTreeMap<AccountCode, Balance>,
    pub pending: BTreeMap<String, PendingState>,
}

impl Ledger {
    pub fn new() -> Ledger {
        Ledger::default()
    }

    pub fn balance(&self, code: AccountCode) -> Balance {
        self.balances.get(&code).copied().unwrap_or_default()
    }

    /// Checks `t` against the rules and, if it passes, applies it.
    /// Nothing changes when it is refused.
    pub fn apply(&mut self, t: &Transfer) -> Result<(), LedgerError> {
        check_shape(t)?;
        match t.kind {
            TransferKind::Posted | TransferKind::Pending => {
                self.check_funds(t.debit, t.credit, t.amount)?;
                let pending = t.kind == TransferKind::Pending;
                let d = self.balances.entry(t.debit).or_default();
                if pending {
                    d.debits_pending += t.amount
                } else {
                    d.debits_posted += t.amount
                }
                let c = self.balances.entry(t.credit).or_default();
                if pending {
                    c.credits_pending += t.amount
                } else {
                    c.credits_posted += t.amount
                }
                if pending {
                    self.pending.insert(
                        t.id.clone(),
                        PendingState {
                            debit: t.debit,
                            credit: t.credit,
                            amount: t.amount,
                            resolved: None,
                        },
                    );
                }
            }
            TransferKind::PostPending | TransferKind::VoidPending => {
                let pid = t.pending_id.clone().unwrap_or_default();
                let p = self
                    .pending
                    .get(&pid)
                    .ok_or_else(|| LedgerError::PendingNotFound(pid.clone()))?;
                if let Some(r) = p.resolved {
                    return Err(LedgerError::PendingResolved(
                        pid,
                        if r == TransferKind::PostPending {
                            "posted"
                        } else {
                            "voided"
                        },
                    ));
                }
                if p.debit != t.debit || p.credit != t.credit {
                    return Err(LedgerError::PendingMismatch("debit"));
                }
                if p.amount != t.amount {
                    return Err(LedgerError::PendingMismatch("amount"));
                }
                let post = t.kind == TransferKind::PostPending;
                let d = self.balances.entry(t.debit).or_default();
                d.debits_pending -= t.amount;
                if post {
                    d.debits_posted += t.amount;
                }
                let c = self.balances.entry(t.credit).or_default();
                c.credits_pending -= t.amount;
                if post {
                    c.credits_posted += t.amount;
                }
                self.pending.get_mut(&pid).expect("checked above").resolved = Some(t.kind);
            }
        }
        Ok(())
    }

    fn check_funds(
        &self,
        debit: AccountCode,
        credit: AccountCode,
        amount: i64,
    ) -> Result<(), LedgerError> {
        // Crediting a debit-normal account, or debiting a credit-normal one,
        // lowers its balance.
        for (code, lowers) in [
            (credit, credit.normal() == Normal::Debit),
            (debit, debit.normal() == Normal::Credit),
        ] {
            if lowers && code.must_not_go_negative() {
                let available = self.balance(code).available(code.normal());
                if available < amount {
                    return Err(LedgerError::InsufficientFunds {
                        account: code,
                        available,
                        amount,
                    });
                }
            }
        }
        Ok(())
    }

    /// Σ(debits − credits) over all accounts, posted and pending separately.
    /// Always `(0, 0)`.
    pub fn sums(&self) -> (i64, i64) {
        self.balances.values().fold((0, 0), |(p, q), b| {
            (
                p + b.debits_posted - b.credits_posted,
                q + b.debits_pending - b.credits_pending,
            )
        })
    }
}

/// The code of a transfer made under the emergency procedure (Civil Code
/// art. 281): maintenance-fund spending without a vote, approved by the
/// compound's emergency roles and published as an emergency use. Only that
/// procedure writes it; `gongzhi verify` checks each such transfer follows
/// a published emergency request.
pub const EMERGENCY_CODE: &str = "emergency";

/// Checks what can be checked on a transfer alone.
pub fn check_shape(t: &Transfer) -> Result<(), LedgerError> {
    if t.amount <= 0 {
        return Err(LedgerError::AmountNotPositive(t.amount));
    }
    if t.amount > MAX_AMOUNT {
        return Err(LedgerError::AmountTooLarge(t.amount));
    }
    if t.debit == t.credit {
        return Err(LedgerError::SameAccount(t.debit));
    }
    let resolves = matches!(
        t.kind,
        TransferKind::PostPending | TransferKind::VoidPending
    );
    if resolves != t.pending_id.is_some() {
        return Err(LedgerError::PendingIdMisuse(
            t.pending_id.clone().unwrap_or_default(),
            t.kind,
        ));
    }
    if t.debit == AccountCode::MaintenancePrincipal
        && matches!(t.kind, TransferKind::Posted | TransferKind::Pending)
        && t.vote_id.as_deref().is_none_or(|v| v.trim().is_empty())
        && t.code != EMERGENCY_CODE
    {
        return Err(LedgerError::PrincipalNeedsVote);
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Two-party approval
// ---------------------------------------------------------------------------

/// Which two roles must approve a disbursement, configurable per compound
/// (e.g. owners' committee + supervisor, or committee + steward). The two
/// approvals must come from two different people, each approving in a
/// different one of the two roles. Either role may approve first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalPolicy {
    pub roles: [Role; 2],
}

impl Default for ApprovalPolicy {
    fn default() -> Self {
        ApprovalPolicy {
            roles: [Role::CommitteeMember, Role::Supervisor],
        }
    }
}

/// Why an approval was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApprovalError {
    #[error("role: approving needs one of the roles {0} and {1} over this compound")]
    NoRequiredRole(Role, Role),
    #[error("user: the second approval must come from a different person than the first")]
    SamePerson,
    #[error("role: the second approval must be in the role {0}, which the approver does not hold")]
    SecondRoleMissing(Role),
    #[error("role: both roles must be different")]
    SameRoles,
}

impl ApprovalPolicy {
    pub fn new(a: Role, b: Role) -> Result<ApprovalPolicy, ApprovalError> {
        if a == b {
            return Err(ApprovalError::SameRoles);
        }
        Ok(ApprovalPolicy { roles: [a, b] })
    }

    /// The role the first approver approves in (the first of the policy's
    /// roles they hold).
    pub fn first(&self, held: &[Role]) -> Result<Role, ApprovalError> {
        self.roles
            .iter()
            .copied()
            .find(|r| held.contains(r))
            .ok_or(ApprovalError::NoRequiredRole(self.roles[0], self.roles[1]))
    }

    /// The role the second approver approves in: the other role, held by a
    /// different person.
    pub fn second(
        &self,
        first_user: &str,
        first_role: Role,
        user: &str,
        held: &[Role],
    ) -> Result<Role, ApprovalError> {
        if first_user == user {
            return Err(ApprovalError::SamePerson);
        }
        let other = if first_role == self.roles[0] {
            self.roles[1]
        } else {
            self.roles[0]
        };
        if held.contains(&other) {
            Ok(other)
        } else {
            Err(ApprovalError::SecondRoleMissing(other))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use AccountCode::*;

    fn t(
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
            code: "test".into(),
            memo: String::new(),
            pending_id: None,
            link: None,
            vote_id: None,
            by_user: "u".into(),
            by_role: "steward".into(),
            at: 0,
            timeout_at: None,
        }
    }

    #[test]
    fn cash_never_goes_below_zero_and_pending_reserves() {
        let mut l = Ledger::new();
        l.apply(&t(0, TransferKind::Posted, Bank, FeeIncome, 10_000))
            .unwrap();
        assert_eq!(l.balance(Bank).posted(Normal::Debit), 10_000);
        assert_eq!(
            l.apply(&t(1, TransferKind::Posted, ExpenseRepair, Bank, 10_001)),
            Err(LedgerError::InsufficientFunds {
                account: Bank,
                available: 10_000,
                amount: 10_001
            })
        );
        l.apply(&t(2, TransferKind::Pending, ExpenseRepair, Bank, 6_000))
            .unwrap();
        assert_eq!(l.balance(Bank).available(Normal::Debit), 4_000);
        // a second 60% reservation cannot fit
        assert!(matches!(
            l.apply(&t(3, TransferKind::Pending, ExpenseRepair, Bank, 6_000)),
            Err(LedgerError::InsufficientFunds { .. })
        ));
        let mut post = t(4, TransferKind::PostPending, ExpenseRepair, Bank, 6_000);
        post.pending_id = Some("t2".into());
        l.apply(&post).unwrap();
        assert_eq!(l.balance(Bank).posted(Normal::Debit), 4_000);
        assert_eq!(l.balance(ExpenseRepair).posted(Normal::Debit), 6_000);
        // posting twice is refused
        assert_eq!(
            l.apply(&post),
            Err(LedgerError::PendingResolved("t2".into(), "posted"))
        );
        let mut void = post.clone();
        void.kind = TransferKind::VoidPending;
        assert_eq!(
            l.apply(&void),
            Err(LedgerError::PendingResolved("t2".into(), "posted"))
        );
        assert_eq!(l.sums(), (0, 0));
    }

    #[test]
    fn void_releases_and_mismatch_is_refused() {
        let mut l = Ledger::new();
        l.apply(&t(0, TransferKind::Posted, Bank, OpeningBalance, 500))
            .unwrap();
        l.apply(&t(1, TransferKind::Pending, ExpenseOther, Bank, 500))
            .unwrap();
        let mut bad = t(2, TransferKind::VoidPending, ExpenseOther, Bank, 499);
        bad.pending_id = Some("t1".into());
        assert_eq!(l.apply(&bad), Err(LedgerError::PendingMismatch("amount")));
        bad.amount = 500;
        l.apply(&bad).unwrap();
        assert_eq!(l.balance(Bank).available(Normal::Debit), 500);
        let mut missing = bad.clone();
        missing.pending_id = Some("nope".into());
        assert_eq!(
            l.apply(&missing),
            Err(LedgerError::PendingNotFound("nope".into()))
        );
        assert!(matches!(
            l.apply(&t(3, TransferKind::PostPending, ExpenseOther, Bank, 5)),
            Err(LedgerError::PendingIdMisuse(..))
        ));
    }

    #[test]
    fn shape_rules() {
        let mut l = Ledger::new();
        assert_eq!(
            l.apply(&t(0, TransferKind::Posted, Bank, FeeIncome, 0)),
            Err(LedgerError::AmountNotPositive(0))
        );
        assert_eq!(
            l.apply(&t(0, TransferKind::Posted, Bank, FeeIncome, -5)),
            Err(LedgerError::AmountNotPositive(-5))
        );
        assert_eq!(
            l.apply(&t(0, TransferKind::Posted, Bank, Bank, 5)),
            Err(LedgerError::SameAccount(Bank))
        );
        assert!(matches!(
            l.apply(&t(0, TransferKind::Posted, Bank, FeeIncome, MAX_AMOUNT + 1)),
            Err(LedgerError::AmountTooLarge(_))
        ));
        assert!(l.balances.is_empty());
    }

    #[test]
    fn use_the_interest_keep_the_principal() {
        let mut l = Ledger::new();
        l.apply(&t(
            0,
            TransferKind::Posted,
            MaintenanceBank,
            MaintenancePrincipal,
            5_000_000_00,
        ))
        .unwrap();
        l.apply(&t(
            1,
            TransferKind::Posted,
            MaintenanceBank,
            MaintenanceInterest,
            200_000_00,
        ))
        .unwrap();
        // spending interest: fine
        l.apply(&t(
            2,
            TransferKind::Posted,
            MaintenanceInterest,
            MaintenanceBank,
            150_000_00,
        ))
        .unwrap();
        // more interest than there is: refused, even though the bank has it
        assert!(matches!(
            l.apply(&t(
                3,
                TransferKind::Posted,
                MaintenanceInterest,
                MaintenanceBank,
                50_000_01
            )),
            Err(LedgerError::InsufficientFunds {
                account: MaintenanceInterest,
                ..
            })
        ));
        // principal without a vote: refused
        assert_eq!(
            l.apply(&t(
                4,
                TransferKind::Posted,
                MaintenancePrincipal,
                MaintenanceBank,
                100
            )),
            Err(LedgerError::PrincipalNeedsVote)
        );
        let mut voted = t(
            5,
            TransferKind::Posted,
            MaintenancePrincipal,
            MaintenanceBank,
            100,
        );
        voted.vote_id = Some("vote-1".into());
        l.apply(&voted).unwrap();
        // the emergency procedure (art. 281) needs no vote
        let mut emergency = t(
            6,
            TransferKind::Pending,
            MaintenancePrincipal,
            MaintenanceBank,
            100,
        );
        emergency.code = EMERGENCY_CODE.into();
        l.apply(&emergency).unwrap();
        assert_eq!(
            l.balance(MaintenancePrincipal).posted(Normal::Credit),
            5_000_000_00 - 100
        );
        assert_eq!(
            l.balance(MaintenancePrincipal).available(Normal::Credit),
            5_000_000_00 - 200
        );
    }

    #[test]
    fn two_party_approval() {
        let p = ApprovalPolicy::default();
        assert_eq!(
            p.first(&[Role::Owner]),
            Err(ApprovalError::NoRequiredRole(
                Role::CommitteeMember,
                Role::Supervisor
            ))
        );
        let r1 = p.first(&[Role::Supervisor]).unwrap();
        assert_eq!(r1, Role::Supervisor);
        // same person, even holding both roles
        assert_eq!(
            p.second("a", r1, "a", &[Role::CommitteeMember, Role::Supervisor]),
            Err(ApprovalError::SamePerson)
        );
        // different person, same role
        assert_eq!(
            p.second("a", r1, "b", &[Role::Supervisor]),
            Err(ApprovalError::SecondRoleMissing(Role::CommitteeMember))
        );
        assert_eq!(
            p.second("a", r1, "b", &[Role::CommitteeMember]),
            Ok(Role::CommitteeMember)
        );
        let steward = ApprovalPolicy::new(Role::CommitteeMember, Role::Steward).unwrap();
        assert_eq!(steward.first(&[Role::Steward]), Ok(Role::Steward));
        assert_eq!(
            ApprovalPolicy::new(Role::Steward, Role::Steward),
            Err(ApprovalError::SameRoles)
        );
    }

    #[test]
    fn leaf_bytes_bind_every_field() {
        let a = t(0, TransferKind::Posted, Bank, FeeIncome, 100);
        let mut b = a.clone();
        b.amount = 101;
        assert_ne!(leaf_bytes("o", &a), leaf_bytes("o", &b));
        assert_ne!(leaf_bytes("o", &a), leaf_bytes("p", &a));
        let s = String::from_utf8(leaf_bytes("o", &a)).unwrap();
        assert!(
            s.starts_with("{\"v\":1,\"origin\":\"o\",\"t\":{\"seq\":0,"),
            "{s}"
        );
    }

    fn code() -> impl Strategy<Value = AccountCode> {
        (0..AccountCode::ALL.len()).prop_map(|i| AccountCode::ALL[i])
    }

    proptest! {
        #[test]
        fn balances_always_sum_to_zero_and_cash_stays_non_negative(
            ops in proptest::collection::vec((0u8..4, code(), code(), 1i64..100_000, 0usize..50), 1..200)
        ) {
            let mut l = Ledger::new();
            let mut pendings: Vec<Transfer> = Vec::new();
            for (i, (op, d, c, amt, pick)) in ops.into_iter().enumerate() {
                let tr = match op {
                    0 => t(i as u64, TransferKind::Posted, d, c, amt),
                    1 => t(i as u64, TransferKind::Pending, d, c, amt),
                    k => {
                        if pendings.is_empty() { continue; }
                        let p = &pendings[pick % pendings.len()];
                        let mut r = t(i as u64, if k == 2 { TransferKind::PostPending } else { TransferKind::VoidPending }, p.debit, p.credit, p.amount);
                        r.pending_id = Some(p.id.clone());
                        r
                    }
                };
                let before = l.clone();
                match l.apply(&tr) {
                    Ok(()) => if tr.kind == TransferKind::Pending { pendings.push(tr) },
                    Err(_) => prop_assert_eq!(format!("{:?}", before.balances), format!("{:?}", l.balances)),
                }
                prop_assert_eq!(l.sums(), (0, 0));
                for code in AccountCode::ALL {
                    let b = l.balance(*code);
                    prop_assert!(b.debits_pending >= 0 && b.credits_pending >= 0);
                    if code.must_not_go_negative() {
                        prop_assert!(b.available(code.normal()) >= 0, "{} went below zero", code);
                    }
                }
            }
        }
    }
}
