//! Accounts for real people: sign-up by phone verified against the register,
//! invitations to a role, password recovery. The rules here are pure: phone
//! numbers, one-time codes and their limits, how a claimed address is
//! written, and what a claim becomes.

use crate::place::str_enum;

/// A one-time code lives this long.
pub const CODE_TTL_MS: i64 = 10 * 60 * 1000;
/// Wrong guesses before a code is dead.
pub const CODE_MAX_ATTEMPTS: i64 = 5;
/// A phone gets a new code at most once per this many ms …
pub const CODE_RESEND_MS: i64 = 60 * 1000;
/// … and at most this many in an hour.
pub const CODES_PER_PHONE_PER_HOUR: usize = 5;
/// One client address asks for at most this many codes in an hour.
pub const CODES_PER_IP_PER_HOUR: usize = 20;
/// Household claims one account files in a day.
pub const CLAIMS_PER_DAY: usize = 5;
/// An invitation is accepted within this many days.
pub const INVITATION_DAYS: i64 = 7;
/// Digits in a one-time code.
pub const CODE_DIGITS: u32 = 6;

const HOUR_MS: i64 = 3600 * 1000;
const DAY_MS: i64 = 24 * HOUR_MS;

str_enum!(
    /// What a one-time code is for.
    CodePurpose { Signup = "signup", Reset = "reset" }
);

str_enum!(
    /// Who the claimant is to the household.
    ClaimRelation { Owner = "owner", Family = "family", Tenant = "tenant" }
);

str_enum!(
    /// Where a household claim stands: `linked` (matched the register: the
    /// account is the owner's), `pending` (a family member or tenant at a
    /// known flat: the owner or staff confirms), `queued` (did not match: a
    /// person at the community checks it), then `approved` or `rejected`.
    ClaimStatus {
        Linked = "linked",
        Pending = "pending",
        Queued = "queued",
        Approved = "approved",
        Rejected = "rejected",
    }
);

impl ClaimStatus {
    /// Whether someone still has to decide.
    pub fn open(self) -> bool {
        matches!(self, ClaimStatus::Pending | ClaimStatus::Queued)
    }
}

/// A mainland mobile number as stored: 11 digits starting with 1, from input
/// that may carry spaces, dashes or a +86 / 0086 prefix. `None` otherwise.
pub fn normalise_phone(input: &str) -> Option<String> {
    let digits: String = input
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '(' | ')'))
        .collect();
    let digits = digits
        .strip_prefix("+86")
        .or_else(|| digits.strip_prefix("0086"))
        .unwrap_or(&digits);
    let ok = digits.len() == 11
        && digits.bytes().all(|b| b.is_ascii_digit())
        && digits.starts_with('1')
        && (b'3'..=b'9').contains(&digits.as_bytes()[1]);
    ok.then(|| digits.to_string())
}

/// Why a code is not sent now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooSoon {
    pub retry_after_secs: u64,
}

/// Whether a new code may go out now, given when the phone's (and the
/// client address's) earlier requests were made (ms, any order).
pub fn may_send_code(phone_recent: &[i64], ip_recent: &[i64], now: i64) -> Result<(), TooSoon> {
    let hour_ago = now - HOUR_MS;
    let wait = |oldest_in_window: i64| TooSoon {
        retry_after_secs: ((oldest_in_window + HOUR_MS - now).max(1000) / 1000) as u64,
    };
    if let Some(last) = phone_recent.iter().copied().max() {
        if now - last < CODE_RESEND_MS {
            return Err(TooSoon {
                retry_after_secs: ((last + CODE_RESEND_MS - now).max(1000) / 1000) as u64,
            });
        }
    }
    for (recent, cap) in [
        (phone_recent, CODES_PER_PHONE_PER_HOUR),
        (ip_recent, CODES_PER_IP_PER_HOUR),
    ] {
        let mut inside: Vec<i64> = recent.iter().copied().filter(|&t| t > hour_ago).collect();
        if inside.len() >= cap {
            inside.sort_unstable();
            return Err(wait(inside[inside.len() - cap]));
        }
    }
    Ok(())
}

/// Whether an account may file another claim, given its claims' times.
pub fn may_claim(recent: &[i64], now: i64) -> bool {
    recent.iter().filter(|&&t| t > now - DAY_MS).count() < CLAIMS_PER_DAY
}

/// A one-time code of [`CODE_DIGITS`] digits from random bits.
pub fn code_from(random: u64) -> String {
    format!(
        "{:0width$}",
        random % 10u64.pow(CODE_DIGITS),
        width = CODE_DIGITS as usize
    )
}

/// The ways a register may spell a building or unit that a person typed:
/// `1`, `1栋` and `1号楼` are the same building; `1` and `1单元` the same
/// unit. The typed form (squashed) comes first.
pub fn spellings(input: &str, suffixes: &[&str]) -> Vec<String> {
    let t: String = input.split_whitespace().collect();
    let base = suffixes
        .iter()
        .find_map(|s| t.strip_suffix(s))
        .filter(|b| !b.is_empty() && b.chars().all(|c| c.is_ascii_digit()))
        .unwrap_or(&t)
        .to_string();
    let mut out = vec![t.clone()];
    if !base.is_empty() && base.chars().all(|c| c.is_ascii_digit()) {
        out.push(base.clone());
        out.extend(suffixes.iter().map(|s| format!("{base}{s}")));
    }
    out.dedup();
    let mut seen = std::collections::BTreeSet::new();
    out.retain(|s| seen.insert(s.clone()));
    out
}

/// Building suffixes registers use.
pub const BUILDING_SUFFIXES: &[&str] = &["栋", "号楼", "幢"];
/// Unit suffixes registers use.
pub const UNIT_SUFFIXES: &[&str] = &["单元"];

/// A name compared without spaces (`张 三` = `张三`).
pub fn same_name(a: &str, b: &str) -> bool {
    let squash = |s: &str| -> String { s.split_whitespace().collect() };
    let (a, b) = (squash(a), squash(b));
    !a.is_empty() && a == b
}

/// What a claim becomes when filed: an owner whose flat and name match is
/// linked; a family member or tenant of a known flat waits for the owner or
/// staff; anything else waits for a person at the community.
pub fn claim_outcome(relation: ClaimRelation, flat_found: bool, name_matches: bool) -> ClaimStatus {
    match (relation, flat_found, name_matches) {
        (ClaimRelation::Owner, true, true) => ClaimStatus::Linked,
        (ClaimRelation::Family | ClaimRelation::Tenant, true, true) => ClaimStatus::Pending,
        _ => ClaimStatus::Queued,
    }
}

/// Why a claim may not be decided by someone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimRefusal {
    /// Nobody decides their own claim.
    OwnClaim,
    /// Only the community's staff, or the flat's owner for a family
    /// member's or tenant's claim.
    NotTheirs,
}

/// Who decides a claim: staff who may change the register over its
/// compound, or — for a family member or tenant — the owner of the flat;
/// never the claimant, whatever else they are.
pub fn may_decide_claim(
    is_claimant: bool,
    is_staff: bool,
    relation: ClaimRelation,
    owns_the_flat: bool,
) -> Result<(), ClaimRefusal> {
    if is_claimant {
        return Err(ClaimRefusal::OwnClaim);
    }
    let owner_may = owns_the_flat && relation != ClaimRelation::Owner;
    if is_staff || owner_may {
        Ok(())
    } else {
        Err(ClaimRefusal::NotTheirs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_are_normalised_or_refused() {
        assert_eq!(
            normalise_phone("138 0013 8000").as_deref(),
            Some("13800138000")
        );
        assert_eq!(
            normalise_phone("+86 138-0013-8000").as_deref(),
            Some("13800138000")
        );
        assert_eq!(
            normalise_phone("008613800138000").as_deref(),
            Some("13800138000")
        );
        for bad in [
            "",
            "1380013800",
            "23800138000",
            "12800138000",
            "1380013800a",
            "138001380001",
        ] {
            assert_eq!(normalise_phone(bad), None, "{bad}");
        }
    }

    #[test]
    fn codes_are_limited_per_phone_and_per_address() {
        let now = 10 * HOUR_MS;
        assert!(may_send_code(&[], &[], now).is_ok());
        // a resend within a minute waits for the rest of the minute
        let e = may_send_code(&[now - 20_000], &[], now).unwrap_err();
        assert_eq!(e.retry_after_secs, 40);
        // five in the last hour: the sixth waits until the oldest is an hour old
        let five: Vec<i64> = (1..=5).map(|i| now - i * 10 * 60 * 1000).collect();
        let e = may_send_code(&five, &[], now).unwrap_err();
        assert_eq!(e.retry_after_secs, 10 * 60);
        // older than an hour does not count
        let old: Vec<i64> = (0..10).map(|i| now - HOUR_MS - i).collect();
        assert!(may_send_code(&old, &[], now).is_ok());
        // twenty from one address, any phones
        let ip: Vec<i64> = (1..=20).map(|i| now - i * 1000).collect();
        assert!(may_send_code(&[], &ip, now).is_err());
        assert!(may_send_code(&[], &ip[..19], now).is_ok());
    }

    #[test]
    fn claims_are_limited_per_day() {
        let now = 3 * DAY_MS;
        let four: Vec<i64> = (1..=4).map(|i| now - i).collect();
        assert!(may_claim(&four, now));
        let five: Vec<i64> = (1..=5).map(|i| now - i).collect();
        assert!(!may_claim(&five, now));
        let yesterday: Vec<i64> = (1..=5).map(|i| now - DAY_MS - i).collect();
        assert!(may_claim(&yesterday, now));
    }

    #[test]
    fn claims_are_decided_by_staff_or_the_owner_never_the_claimant() {
        use ClaimRelation::*;
        assert_eq!(
            may_decide_claim(true, true, Owner, true),
            Err(ClaimRefusal::OwnClaim)
        );
        assert_eq!(may_decide_claim(false, true, Owner, false), Ok(()));
        assert_eq!(may_decide_claim(false, false, Family, true), Ok(()));
        assert_eq!(may_decide_claim(false, false, Tenant, true), Ok(()));
        // an owner does not decide another owner's claim on their flat
        assert_eq!(
            may_decide_claim(false, false, Owner, true),
            Err(ClaimRefusal::NotTheirs)
        );
        assert_eq!(
            may_decide_claim(false, false, Family, false),
            Err(ClaimRefusal::NotTheirs)
        );
    }

    #[test]
    fn codes_have_six_digits() {
        assert_eq!(code_from(0), "000000");
        assert_eq!(code_from(42), "000042");
        assert_eq!(code_from(u64::MAX), format!("{:06}", u64::MAX % 1_000_000));
    }

    #[test]
    fn addresses_are_written_as_the_register_does() {
        assert_eq!(
            spellings(" 1 ", BUILDING_SUFFIXES),
            ["1", "1栋", "1号楼", "1幢"]
        );
        assert_eq!(
            spellings("1栋", BUILDING_SUFFIXES),
            ["1栋", "1", "1号楼", "1幢"]
        );
        assert_eq!(spellings("A座", BUILDING_SUFFIXES), ["A座"]);
        assert_eq!(spellings("2", UNIT_SUFFIXES), ["2", "2单元"]);
        assert_eq!(spellings("", UNIT_SUFFIXES), [""]);
        assert!(same_name("张 三", "张三"));
        assert!(!same_name("张三", "张四"));
        assert!(!same_name(" ", ""));
    }

    #[test]
    fn a_claim_links_only_an_owner_whose_flat_and_name_match() {
        use ClaimRelation::*;
        assert_eq!(claim_outcome(Owner, true, true), ClaimStatus::Linked);
        assert_eq!(claim_outcome(Owner, true, false), ClaimStatus::Queued);
        assert_eq!(claim_outcome(Owner, false, false), ClaimStatus::Queued);
        assert_eq!(claim_outcome(Family, true, true), ClaimStatus::Pending);
        assert_eq!(claim_outcome(Tenant, true, false), ClaimStatus::Queued);
        assert!(ClaimStatus::Queued.open() && ClaimStatus::Pending.open());
        assert!(!ClaimStatus::Linked.open() && !ClaimStatus::Rejected.open());
    }
}
