//! Points (积分): a community's double-entry ledger kept like money, and its
//! points store (积分超市).
//!
//! * Accounts per community: [`ISSUED`] (where awarded points come from; its
//!   balance is the negative of all points in circulation), one account per
//!   person ([`person_account`]), [`HELD`] (points reserved by a redemption
//!   waiting to be handed over) and [`REDEEMED`] (points burned by handed-over
//!   redemptions).
//! * Points move only by immutable [`Transfer`]s of a positive amount from a
//!   debit account to a different credit account; an account's balance is its
//!   credits minus its debits. Every account but [`ISSUED`] never goes below
//!   zero ([`may_go_negative`]). Corrections are reversals (the same amount,
//!   the accounts swapped, naming the transfer reversed, once).
//! * A redemption holds (person → held), then is handed over (held →
//!   redeemed) or voided when refused or expired (held → person).
//!
//! Because each transfer debits and credits the same amount, the sum of all
//! balances of a community is always zero (a property test checks it).

use crate::place::str_enum;
use serde::{Deserialize, Serialize};

/// The source of awarded points.
pub const ISSUED: &str = "issued";
/// Points reserved by redemptions not yet handed over.
pub const HELD: &str = "held";
/// Points spent in the store.
pub const REDEEMED: &str = "redeemed";

/// The largest single award or price.
pub const MAX_POINTS: i64 = 1_000_000;
/// The largest stock one item is created with.
pub const MAX_STOCK: i64 = 1_000_000;
/// Longest reason or item name.
pub const MAX_TEXT: usize = 500;
/// How long a redemption holds the item and the points (7 days) unless the
/// community says otherwise.
pub const DEFAULT_HOLD_MS: i64 = 7 * 24 * 3600 * 1000;

/// The account of a person's points in a community.
pub fn person_account(person_id: &str) -> String {
    format!("person:{person_id}")
}

/// Only the issuing account may go below zero.
pub fn may_go_negative(account: &str) -> bool {
    account == ISSUED
}

str_enum!(
    /// Why points moved.
    TransferKind {
        Award = "award",
        Hold = "hold",
        Redeem = "redeem",
        Release = "release",
        Reversal = "reversal",
    }
);

str_enum!(
    /// Where a redemption stands: held → handed over, or voided (refused or
    /// its pick-up deadline passed).
    RedemptionStatus {
        Held = "held",
        HandedOver = "handed_over",
        Voided = "voided",
    }
);

str_enum!(
    /// What a community's award rules pay for (points per unit, as data).
    RuleKind {
        VolunteerHour = "volunteer_hour",
        Cleaning = "cleaning",
        Patrol = "patrol",
        FireWatch = "fire_watch",
        GarbageSorting = "garbage_sorting",
        DoorToDoor = "door_to_door",
        Commitment = "commitment",
    }
);

/// An immutable movement of points; `seq` is its leaf index in the
/// community's log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Transfer {
    pub seq: i64,
    pub id: String,
    pub kind: TransferKind,
    pub debit: String,
    pub credit: String,
    pub amount: i64,
    pub reason: String,
    /// The transfer this one reverses (kind `reversal`) or the redemption it
    /// belongs to (hold, redeem, release): `reverses:<id>` / `redemption:<id>`.
    pub link: Option<String>,
    pub by_user: String,
    pub at: i64,
}

/// The canonical bytes of a transfer's leaf in the community's log: compact
/// JSON in a fixed field order, integers and strings only, so a verifier
/// that re-encodes what it is served hashes the same bytes.
pub fn leaf_bytes(community_id: &str, t: &Transfer) -> Vec<u8> {
    #[derive(Serialize)]
    struct Leaf<'a> {
        v: u32,
        origin: String,
        seq: i64,
        id: &'a str,
        kind: &'a str,
        debit: &'a str,
        credit: &'a str,
        amount: i64,
        reason: &'a str,
        link: Option<&'a str>,
        by: &'a str,
        at: i64,
    }
    serde_json::to_vec(&Leaf {
        v: 1,
        origin: format!("gongzhi.points/{community_id}"),
        seq: t.seq,
        id: &t.id,
        kind: t.kind.as_str(),
        debit: &t.debit,
        credit: &t.credit,
        amount: t.amount,
        reason: &t.reason,
        link: t.link.as_deref(),
        by: &t.by_user,
        at: t.at,
    })
    .expect("a leaf serialises")
}

/// A refused input: (field, reason).
pub type Refusal = (&'static str, String);

fn check_amount(field: &'static str, v: i64) -> Result<(), Refusal> {
    if !(1..=MAX_POINTS).contains(&v) {
        return Err((field, format!("must be between 1 and {MAX_POINTS}")));
    }
    Ok(())
}

fn check_text(field: &'static str, v: &str) -> Result<(), Refusal> {
    if v.trim().is_empty() {
        return Err((field, "is required".into()));
    }
    if v.chars().count() > MAX_TEXT {
        return Err((field, format!("at most {MAX_TEXT} characters")));
    }
    Ok(())
}

/// A manual award: a positive number of points and a reason (listed
/// publicly, the person's name masked).
pub fn check_award(points: i64, reason: &str) -> Result<(), Refusal> {
    check_amount("points", points)?;
    check_text("reason", reason)
}

/// A store item: a name, a positive price and a stock of zero or more.
pub fn check_item(name: &str, points: i64, stock: i64) -> Result<(), Refusal> {
    check_text("name", name)?;
    check_amount("points", points)?;
    if !(0..=MAX_STOCK).contains(&stock) {
        return Err(("stock", format!("must be between 0 and {MAX_STOCK}")));
    }
    Ok(())
}

/// A redemption still held after its deadline is voided (its points and item
/// returned) rather than handed over.
pub fn hold_expired(deadline_at: i64, now: i64) -> bool {
    now >= deadline_at
}

/// The balances after applying transfers in order, refusing one that takes
/// an account other than [`ISSUED`] below zero (the rule the store enforces
/// with a conditional update; kept here as the reference the tests use).
pub fn apply(
    balances: &mut std::collections::BTreeMap<String, i64>,
    t: &Transfer,
) -> Result<(), Refusal> {
    if t.debit == t.credit {
        return Err(("credit", "must differ from the debit account".into()));
    }
    check_amount("points", t.amount)?;
    let d = balances.get(&t.debit).copied().unwrap_or(0);
    if !may_go_negative(&t.debit) && d < t.amount {
        return Err(("points", format!("balance short: {d} < {}", t.amount)));
    }
    balances.insert(t.debit.clone(), d - t.amount);
    *balances.entry(t.credit.clone()).or_insert(0) += t.amount;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn t(debit: &str, credit: &str, amount: i64) -> Transfer {
        Transfer {
            seq: 0,
            id: "t".into(),
            kind: TransferKind::Award,
            debit: debit.into(),
            credit: credit.into(),
            amount,
            reason: "r".into(),
            link: None,
            by_user: "u".into(),
            at: 0,
        }
    }

    #[test]
    fn inputs() {
        assert!(check_award(400, "清洁").is_ok());
        assert_eq!(check_award(0, "x").unwrap_err().0, "points");
        assert_eq!(check_award(-5, "x").unwrap_err().0, "points");
        assert_eq!(check_award(MAX_POINTS + 1, "x").unwrap_err().0, "points");
        assert_eq!(check_award(5, "  ").unwrap_err().0, "reason");
        assert_eq!(check_award(5, &"长".repeat(501)).unwrap_err().0, "reason");
        assert!(check_item("理发券", 50, 0).is_ok());
        assert_eq!(check_item("", 50, 1).unwrap_err().0, "name");
        assert_eq!(check_item("x", 0, 1).unwrap_err().0, "points");
        assert_eq!(check_item("x", 1, -1).unwrap_err().0, "stock");
        assert!(hold_expired(10, 10) && !hold_expired(10, 9));
    }

    #[test]
    fn no_person_goes_negative() {
        let mut b = BTreeMap::new();
        let p = person_account("p");
        apply(&mut b, &t(ISSUED, &p, 400)).unwrap();
        apply(&mut b, &t(&p, HELD, 300)).unwrap();
        assert_eq!(apply(&mut b, &t(&p, HELD, 101)).unwrap_err().0, "points");
        assert_eq!(b[&p], 100);
        assert_eq!(b[ISSUED], -400);
    }

    #[test]
    fn leaf_is_canonical() {
        let a = leaf_bytes("c1", &t(ISSUED, "person:p", 5));
        assert_eq!(a, leaf_bytes("c1", &t(ISSUED, "person:p", 5)));
        let s = String::from_utf8(a).unwrap();
        assert!(
            s.starts_with(r#"{"v":1,"origin":"gongzhi.points/c1","seq":0"#),
            "{s}"
        );
        assert_ne!(s.as_bytes(), leaf_bytes("c2", &t(ISSUED, "person:p", 5)));
    }

    proptest! {
        #[test]
        fn totals_always_balance(ops in proptest::collection::vec((0usize..4, 0usize..4, 1i64..500), 0..200)) {
            let accts = [ISSUED.to_string(), person_account("a"), person_account("b"), HELD.to_string()];
            let mut b = BTreeMap::new();
            for (d, c, n) in ops {
                let _ = apply(&mut b, &t(&accts[d], &accts[c], n));
                prop_assert_eq!(b.values().sum::<i64>(), 0);
                for (k, v) in &b {
                    prop_assert!(may_go_negative(k) || *v >= 0);
                }
            }
        }
    }
}

/// Micro-wishes (微心愿): where a wish stands and who is vulnerable.
pub mod wishes {
    use crate::place::str_enum;

    str_enum!(
        /// recorded → verified (on the wish wall) → claimed (shares reach
        /// the whole) → delivered (every share) → fulfilled (receipt
        /// confirmed, or resolved by the community).
        WishStatus {
            Recorded = "recorded",
            Verified = "verified",
            Claimed = "claimed",
            Delivered = "delivered",
            Fulfilled = "fulfilled",
        }
    );

    str_enum!(
        /// Vulnerable households, flagged on the wish.
        Flag {
            ElderlyAlone = "elderly_alone",
            Disabled = "disabled",
            LowIncome = "low_income",
        }
    );

    /// A whole wish, in per mille.
    pub const WHOLE: i64 = 1000;

    /// A claim of `share` per mille when `taken` is already claimed.
    pub fn check_share(taken: i64, share: i64) -> Result<(), super::Refusal> {
        if !(1..=WHOLE).contains(&share) {
            return Err(("share_permille", format!("must be between 1 and {WHOLE}")));
        }
        if taken + share > WHOLE {
            return Err((
                "share_permille",
                format!("only {} per mille is left to claim", WHOLE - taken),
            ));
        }
        Ok(())
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        #[test]
        fn shares_never_exceed_the_whole() {
            assert!(check_share(0, 1000).is_ok());
            assert!(check_share(334, 333).is_ok());
            assert_eq!(check_share(667, 334).unwrap_err().0, "share_permille");
            assert!(check_share(0, 0).is_err());
        }
    }
}
