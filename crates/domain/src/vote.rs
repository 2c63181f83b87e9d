//! Owners' votes: the Civil Code's double majority, counted exactly.
//!
//! # The law
//!
//! **Civil Code art. 278** lists the matters the owners decide together and
//! sets the thresholds:
//!
//! * **Turnout (every matter):** owners holding **at least 2/3** of the total
//!   exclusive area **and at least 2/3** of the owner headcount take part.
//! * **Matters 6–8** (raise the maintenance fund; rebuild or alter buildings
//!   and facilities; change the use of common parts or run business on them)
//!   — [`Matter::Special`]: **at least 3/4** of the participating area **and at
//!   least 3/4** of the participating headcount agree.
//! * **Other matters** — [`Matter::Ordinary`]: **more than 1/2** of the
//!   participating area **and more than 1/2** of the participating headcount
//!   agree.
//!
//! **Civil Code art. 1259:** "以上" (*at least*) includes the bound, while
//! "过半数"/"超过" (*more than*) excludes it — so exactly half fails an
//! ordinary matter, and exactly 2/3 turnout or exactly 3/4 approval passes.
//!
//! **Counting** (Supreme People's Court interpretation on building ownership,
//! arts. 8–9): area is the exclusive part's registered area; headcount is one
//! per owner — all parts of one buyer count as one person, and all of the
//! developer's unsold parts together count as one person. Here every part
//! carries an owner key; the headcount is the number of *distinct* keys, and
//! the developer's unsold parts simply share the developer's key. An owner's
//! ballot carries the area of all their parts and one head. An abstention
//! counts as taking part (turnout), never as agreeing.
//!
//! Local compound rules often set their own thresholds (Qijiang building 6:
//! 3/4 of its households; Pingli: ≥ 70% of households signed); those are
//! [`Rule::Custom`].
//!
//! # Arithmetic
//!
//! Everything is integer: areas in hundredths of m² ([`Area`]), thresholds as
//! [`Fraction`]s, and every comparison is a cross-multiplication in `i128`
//! (`value × den ≥ base × num`). There is no floating point and no rounding.
//!
//! # Published records
//!
//! [`VoteRecord`] is the published JSON form of a vote (format
//! `gongzhi.vote/1`); [`audit_record`] re-counts a published record so that
//! anyone can check the announced result.

use crate::money::{format_hundredths, Area, DecimalError};
use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

/// The `format` value of a published vote record.
pub const RECORD_FORMAT: &str = "gongzhi.vote/1";

// ---------------------------------------------------------------------------
// Basic types
// ---------------------------------------------------------------------------

/// An owner's choice on the ballot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Choice {
    Yes,
    No,
    /// Takes part (counts for turnout) but neither agrees nor refuses.
    Abstain,
}

impl Choice {
    /// The record spelling: `yes`, `no`, `abstain`.
    pub fn as_str(self) -> &'static str {
        match self {
            Choice::Yes => "yes",
            Choice::No => "no",
            Choice::Abstain => "abstain",
        }
    }

    /// Parses the record spelling (exact, lower case).
    pub fn parse(s: &str) -> Option<Choice> {
        match s {
            "yes" => Some(Choice::Yes),
            "no" => Some(Choice::No),
            "abstain" => Some(Choice::Abstain),
            _ => None,
        }
    }
}

impl fmt::Display for Choice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A threshold as an exact fraction `num/den`, with `0 < num ≤ den`.
///
/// Written "3/4" in records. The fields are public for construction in
/// constants; [`tally`] re-checks them, so an invalid fraction built by hand
/// is refused, not miscounted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Fraction {
    pub num: u32,
    pub den: u32,
}

/// Why a fraction was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FractionError {
    #[error("'{0}' is not a fraction like \"3/4\"")]
    NotAFraction(String),
    #[error("'{0}' has a zero denominator")]
    ZeroDenominator(String),
    #[error("'{0}' is zero; a threshold must be greater than zero")]
    ZeroNumerator(String),
    #[error("'{0}' is greater than 1")]
    GreaterThanOne(String),
}

/// At least 2/3 — the turnout of Civil Code art. 278 (area and headcount).
pub const TURNOUT: Fraction = Fraction { num: 2, den: 3 };
/// More than 1/2 — approval for ordinary matters (art. 278).
pub const ORDINARY_MAJORITY: Fraction = Fraction { num: 1, den: 2 };
/// At least 3/4 — approval for matters 6–8 (art. 278).
pub const SPECIAL_MAJORITY: Fraction = Fraction { num: 3, den: 4 };

impl Fraction {
    /// A fraction `num/den`; refuses `den = 0`, `num = 0` and `num > den`.
    pub fn new(num: u32, den: u32) -> Result<Fraction, FractionError> {
        let text = || format!("{num}/{den}");
        if den == 0 {
            return Err(FractionError::ZeroDenominator(text()));
        }
        if num == 0 {
            return Err(FractionError::ZeroNumerator(text()));
        }
        if num > den {
            return Err(FractionError::GreaterThanOne(text()));
        }
        Ok(Fraction { num, den })
    }

    /// Parses "3/4": two unsigned decimal integers separated by '/', with
    /// optional surrounding whitespace, and nothing else.
    pub fn parse(s: &str) -> Result<Fraction, FractionError> {
        let t = s.trim();
        let bad = || FractionError::NotAFraction(t.to_string());
        let (n, d) = t.split_once('/').ok_or_else(bad)?;
        let digits = |x: &str| !x.is_empty() && x.bytes().all(|b| b.is_ascii_digit());
        if !digits(n) || !digits(d) {
            return Err(bad());
        }
        let num: u32 = n.parse().map_err(|_| bad())?;
        let den: u32 = d.parse().map_err(|_| bad())?;
        Fraction::new(num, den).map_err(|e| match e {
            // Keep the caller's spelling in the message.
            FractionError::ZeroDenominator(_) => FractionError::ZeroDenominator(t.to_string()),
            FractionError::ZeroNumerator(_) => FractionError::ZeroNumerator(t.to_string()),
            FractionError::GreaterThanOne(_) => FractionError::GreaterThanOne(t.to_string()),
            other => other,
        })
    }

    /// Re-checks a fraction that may have been built field by field.
    pub fn validate(self) -> Result<Fraction, FractionError> {
        Fraction::new(self.num, self.den)
    }
}

impl FromStr for Fraction {
    type Err = FractionError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Fraction::parse(s)
    }
}

impl TryFrom<String> for Fraction {
    type Error = FractionError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Fraction::parse(&s)
    }
}

impl From<Fraction> for String {
    fn from(f: Fraction) -> String {
        f.to_string()
    }
}

impl fmt::Display for Fraction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.num, self.den)
    }
}

/// Whether a threshold includes its bound (Civil Code art. 1259).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Bound {
    /// "以上": `value ≥ fraction × base` — the bound itself passes.
    AtLeast,
    /// "过半数"/"超过": `value > fraction × base` — the bound itself fails.
    MoreThan,
}

impl Bound {
    /// The comparison sign: `≥` or `>`.
    pub fn symbol(self) -> &'static str {
        match self {
            Bound::AtLeast => "≥",
            Bound::MoreThan => ">",
        }
    }
}

/// Which threshold of Civil Code art. 278 applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Matter {
    /// Matters 1–5 and 9: more than 1/2 of participating area and headcount.
    Ordinary,
    /// Matters 6–8: at least 3/4 of participating area and headcount.
    Special,
}

/// What a custom rule's fractions are taken of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Base {
    /// All eligible owners: the total area / total headcount.
    Eligible,
    /// The owners who took part: the voted area / voted headcount.
    Participants,
}

/// The rule a vote is decided by.
///
/// Serializes as in the record format:
/// `{"kind": "civil_code", "matter": "ordinary"}` or
/// `{"kind": "custom", "base": "eligible", "area": null, "headcount": "3/4",
///   "bound": "at_least", "turnout": false}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Rule {
    /// Civil Code art. 278: 2/3 turnout by area and headcount, then the
    /// double majority of the matter.
    CivilCode { matter: Matter },
    /// A local rule (e.g. Qijiang building 6: 3/4 of its households). Each
    /// present fraction must hold for the yes votes against the base, with
    /// the bound; `turnout` adds the art. 278 2/3 turnout. At least one of
    /// `area` and `headcount` must be present.
    Custom {
        base: Base,
        area: Option<Fraction>,
        headcount: Option<Fraction>,
        bound: Bound,
        turnout: bool,
    },
}

impl Rule {
    /// Checks a rule built by hand: a custom rule needs at least one fraction
    /// and its fractions must be valid.
    pub fn validate(&self) -> Result<(), VoteError> {
        if let Rule::Custom {
            area, headcount, ..
        } = *self
        {
            if area.is_none() && headcount.is_none() {
                return Err(VoteError::InvalidRule {
                    path: "rule".into(),
                    message: "a custom rule needs an area or a headcount fraction (both are null)"
                        .into(),
                });
            }
            for (name, f) in [("area", area), ("headcount", headcount)] {
                if let Some(f) = f {
                    f.validate().map_err(|e| VoteError::InvalidRule {
                        path: format!("rule.{name}"),
                        message: e.to_string(),
                    })?;
                }
            }
        }
        Ok(())
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Rule::CivilCode {
                matter: Matter::Ordinary,
            } => write!(
                f,
                "Civil Code art. 278, ordinary matter: turnout ≥ 2/3 of total area and of owners; \
                 approval > 1/2 of participating area and of participating owners"
            ),
            Rule::CivilCode {
                matter: Matter::Special,
            } => write!(
                f,
                "Civil Code art. 278, matters 6–8: turnout ≥ 2/3 of total area and of owners; \
                 approval ≥ 3/4 of participating area and of participating owners"
            ),
            Rule::Custom {
                base,
                area,
                headcount,
                bound,
                turnout,
            } => {
                let of = match base {
                    Base::Eligible => "all",
                    Base::Participants => "participating",
                };
                let mut parts = Vec::new();
                if let Some(a) = area {
                    parts.push(format!("{} {a} of {of} area", bound.symbol()));
                }
                if let Some(h) = headcount {
                    parts.push(format!("{} {h} of {of} owners", bound.symbol()));
                }
                write!(f, "custom rule: approval {}", parts.join(" and "))?;
                if turnout {
                    write!(f, "; turnout ≥ 2/3 of total area and of owners (art. 278)")
                } else {
                    write!(f, "; no turnout requirement")
                }
            }
        }
    }
}

/// One exclusive part (flat, shop, parking space) of the electorate.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Part {
    /// The part's label, unique in the electorate, e.g. "6-1-301".
    pub label: String,
    /// Registered (else surveyed, else contract) area; must be > 0.
    pub area: Area,
    /// The owner's key. All parts of one owner — and all the developer's
    /// unsold parts — share one key and so count as one head.
    pub owner: String,
}

impl Part {
    pub fn new(label: impl Into<String>, area: Area, owner: impl Into<String>) -> Part {
        Part {
            label: label.into(),
            area,
            owner: owner.into(),
        }
    }
}

/// One owner's ballot; it covers all of that owner's parts.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Ballot {
    pub owner: String,
    pub choice: Choice,
}

impl Ballot {
    pub fn new(owner: impl Into<String>, choice: Choice) -> Ballot {
        Ballot {
            owner: owner.into(),
            choice,
        }
    }
}

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/// Why a vote could not be counted. Every message says what is wrong and
/// where (`parts[3].area`, `ballots[5]`, `rule.headcount`…).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VoteError {
    #[error("parts: the electorate is empty; a vote needs at least one exclusive part")]
    EmptyElectorate,
    #[error("parts[{index}]: the part label is empty")]
    EmptyPartLabel { index: usize },
    #[error("parts[{index}]: part '{label}' has an empty owner key")]
    EmptyOwner { index: usize, label: String },
    #[error("parts[{index}]: part '{label}' has area {area}; an area must be greater than zero")]
    NonPositiveArea {
        index: usize,
        label: String,
        area: String,
    },
    #[error("parts[{index}]: part '{label}' is listed twice (first at parts[{first}])")]
    DuplicatePart {
        index: usize,
        first: usize,
        label: String,
    },
    #[error("parts: the total area is too large to count")]
    AreaTooLarge,
    #[error("ballots[{index}]: owner '{owner}' is not in the electorate")]
    UnknownOwner { index: usize, owner: String },
    #[error("ballots[{index}]: owner '{owner}' has already voted in ballots[{first}]")]
    DuplicateBallot {
        index: usize,
        first: usize,
        owner: String,
    },
    #[error("{path}: {message}")]
    InvalidRule { path: String, message: String },
    #[error("the record is not valid JSON: {0}")]
    Json(String),
    #[error("{path}: {message}")]
    InvalidRecord { path: String, message: String },
}

// ---------------------------------------------------------------------------
// Tally
// ---------------------------------------------------------------------------

/// Whether a condition is about turnout or approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Turnout,
    Approval,
}

/// One threshold that was checked, for display.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Condition {
    pub stage: Stage,
    /// E.g. "turnout: voted_area ≥ 2/3 of total_area".
    pub name: String,
    pub held: bool,
    /// The numbers compared, e.g. "800.00 of 1200.00 m²" or "7 of 10 owners".
    pub detail: String,
}

/// The result of counting a vote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tally {
    #[serde(serialize_with = "area_as_string")]
    pub total_area: Area,
    #[serde(serialize_with = "area_as_string")]
    pub voted_area: Area,
    #[serde(serialize_with = "area_as_string")]
    pub yes_area: Area,
    /// Distinct owners in the electorate.
    pub total_headcount: u64,
    /// Owners who cast a ballot (yes, no or abstain).
    pub voted_headcount: u64,
    pub yes_headcount: u64,
    pub turnout_met: bool,
    pub approval_met: bool,
    /// `turnout_met && approval_met`.
    pub passed: bool,
    /// Every threshold checked, turnout first, in a fixed order.
    pub conditions: Vec<Condition>,
}

pub(crate) fn area_as_string<S: Serializer>(a: &Area, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_hundredths(a.0))
}

/// `value ≥ f × base` (at least) or `value > f × base` (more than), exactly:
/// `value × den` against `base × num` in `i128`.
fn meets(value: i128, base: i128, f: Fraction, bound: Bound) -> bool {
    let lhs = value * i128::from(f.den);
    let rhs = base * i128::from(f.num);
    match bound {
        Bound::AtLeast => lhs >= rhs,
        Bound::MoreThan => lhs > rhs,
    }
}

/// The measured quantities, before any threshold.
pub(crate) struct Counts {
    pub(crate) total_area: i128,
    pub(crate) voted_area: i128,
    pub(crate) yes_area: i128,
    pub(crate) total_heads: u64,
    pub(crate) voted_heads: u64,
    pub(crate) yes_heads: u64,
}

#[derive(Clone, Copy)]
enum Measure {
    Area,
    Headcount,
}

impl Counts {
    fn check(
        &self,
        stage: Stage,
        measure: Measure,
        f: Fraction,
        bound: Bound,
        base: Base,
    ) -> Condition {
        let (value, base_value, value_name, base_name) = match (stage, measure, base) {
            (Stage::Turnout, Measure::Area, _) => {
                (self.voted_area, self.total_area, "voted_area", "total_area")
            }
            (Stage::Turnout, Measure::Headcount, _) => (
                i128::from(self.voted_heads),
                i128::from(self.total_heads),
                "voted_headcount",
                "total_headcount",
            ),
            (Stage::Approval, Measure::Area, Base::Eligible) => {
                (self.yes_area, self.total_area, "yes_area", "total_area")
            }
            (Stage::Approval, Measure::Area, Base::Participants) => {
                (self.yes_area, self.voted_area, "yes_area", "voted_area")
            }
            (Stage::Approval, Measure::Headcount, Base::Eligible) => (
                i128::from(self.yes_heads),
                i128::from(self.total_heads),
                "yes_headcount",
                "total_headcount",
            ),
            (Stage::Approval, Measure::Headcount, Base::Participants) => (
                i128::from(self.yes_heads),
                i128::from(self.voted_heads),
                "yes_headcount",
                "voted_headcount",
            ),
        };
        // Nobody voted: there is no approval to speak of, even where the
        // arithmetic (0 ≥ 3/4 × 0) would say so.
        let held = meets(value, base_value, f, bound)
            && !(stage == Stage::Approval && self.voted_heads == 0);
        let stage_name = match stage {
            Stage::Turnout => "turnout",
            Stage::Approval => "approval",
        };
        let detail = match measure {
            // Areas fit in i64: they are sums checked against i64::MAX.
            Measure::Area => format!(
                "{} of {} m²",
                format_hundredths(value as i64),
                format_hundredths(base_value as i64)
            ),
            Measure::Headcount => format!("{value} of {base_value} owners"),
        };
        Condition {
            stage,
            name: format!(
                "{stage_name}: {value_name} {} {f} of {base_name}",
                bound.symbol()
            ),
            held,
            detail,
        }
    }
}

/// Counts a vote.
///
/// `parts` is the electorate: every exclusive part with its area and owner
/// key. The total area is the sum of all parts; the total headcount is the
/// number of distinct owner keys (Supreme People's Court interpretation,
/// arts. 8–9: one buyer's many parts, or the developer's unsold parts, are
/// one head). Each ballot carries its owner's whole area and one head;
/// abstentions count toward turnout only.
///
/// Under [`Rule::CivilCode`] (art. 278, bounds per art. 1259):
/// * turnout: `voted_area × 3 ≥ total_area × 2` and
///   `voted_heads × 3 ≥ total_heads × 2`;
/// * ordinary: `yes_area × 2 > voted_area` and `yes_heads × 2 > voted_heads`;
/// * special (matters 6–8): `yes_area × 4 ≥ voted_area × 3` and
///   `yes_heads × 4 ≥ voted_heads × 3`.
///
/// Under [`Rule::Custom`] each present fraction must hold for the yes votes
/// against the base with the bound; the 2/3 turnout applies only if
/// `turnout` is true (otherwise `turnout_met` is true).
///
/// If nobody voted, approval is not met. `passed = turnout_met &&
/// approval_met`.
///
/// Errors: an empty electorate; a part with an empty label or owner, a
/// non-positive area, or a label listed twice; a ballot of an owner not in
/// the electorate, or a second ballot of one owner; an invalid rule.
pub fn tally(parts: &[Part], ballots: &[Ballot], rule: &Rule) -> Result<Tally, VoteError> {
    let electorate = Electorate::of(parts, rule)?;
    let areas = electorate.voter_areas(ballots.iter().map(|b| b.owner.as_str()))?;
    let (mut yes_area, mut yes_heads) = (0i128, 0u64);
    for (ballot, area) in ballots.iter().zip(&areas) {
        if ballot.choice == Choice::Yes {
            yes_area += area;
            yes_heads += 1;
        }
    }
    let counts = Counts {
        total_area: electorate.total_area,
        voted_area: areas.iter().sum(),
        yes_area,
        total_heads: electorate.owners.len() as u64,
        voted_heads: areas.len() as u64,
        yes_heads,
    };
    let (turnout_met, approval_met, conditions) = counts.decide(rule);
    Ok(Tally {
        total_area: Area(counts.total_area as i64),
        voted_area: Area(counts.voted_area as i64),
        yes_area: Area(yes_area as i64),
        total_headcount: counts.total_heads,
        voted_headcount: counts.voted_heads,
        yes_headcount: yes_heads,
        turnout_met,
        approval_met,
        passed: turnout_met && approval_met,
        conditions,
    })
}

/// A checked electorate: every owner key with the area of all its parts.
pub(crate) struct Electorate<'a> {
    pub(crate) owners: HashMap<&'a str, i128>,
    pub(crate) total_area: i128,
}

impl<'a> Electorate<'a> {
    /// Checks the parts (non-empty, labels and owners present and labels
    /// unique, areas positive) and the rule.
    pub(crate) fn of(parts: &'a [Part], rule: &Rule) -> Result<Electorate<'a>, VoteError> {
        if parts.is_empty() {
            return Err(VoteError::EmptyElectorate);
        }
        rule.validate()?;
        let mut labels: HashMap<&str, usize> = HashMap::with_capacity(parts.len());
        // Owner key → total area of the owner's parts.
        let mut owners: HashMap<&str, i128> = HashMap::new();
        let mut total_area: i128 = 0;
        for (index, part) in parts.iter().enumerate() {
            if part.label.is_empty() {
                return Err(VoteError::EmptyPartLabel { index });
            }
            if part.owner.is_empty() {
                return Err(VoteError::EmptyOwner {
                    index,
                    label: part.label.clone(),
                });
            }
            if part.area.0 <= 0 {
                return Err(VoteError::NonPositiveArea {
                    index,
                    label: part.label.clone(),
                    area: format_hundredths(part.area.0),
                });
            }
            if let Some(&first) = labels.get(part.label.as_str()) {
                return Err(VoteError::DuplicatePart {
                    index,
                    first,
                    label: part.label.clone(),
                });
            }
            labels.insert(&part.label, index);
            *owners.entry(&part.owner).or_insert(0) += i128::from(part.area.0);
            total_area += i128::from(part.area.0);
        }
        if total_area > i128::from(i64::MAX) {
            return Err(VoteError::AreaTooLarge);
        }
        Ok(Electorate { owners, total_area })
    }

    /// The area of each ballot's owner, in ballot order; refuses an owner
    /// not in the electorate and a second ballot of one owner.
    pub(crate) fn voter_areas<'b>(
        &self,
        voters: impl ExactSizeIterator<Item = &'b str>,
    ) -> Result<Vec<i128>, VoteError> {
        let mut seen: HashMap<&str, usize> = HashMap::with_capacity(voters.len());
        let mut areas = Vec::with_capacity(voters.len());
        for (index, owner) in voters.enumerate() {
            let Some(&area) = self.owners.get(owner) else {
                return Err(VoteError::UnknownOwner {
                    index,
                    owner: owner.to_string(),
                });
            };
            if let Some(&first) = seen.get(owner) {
                return Err(VoteError::DuplicateBallot {
                    index,
                    first,
                    owner: owner.to_string(),
                });
            }
            seen.insert(owner, index);
            areas.push(area);
        }
        Ok(areas)
    }
}

impl Counts {
    /// Applies the rule: `(turnout_met, approval_met, conditions)`, the
    /// conditions turnout first in a fixed order.
    pub(crate) fn decide(&self, rule: &Rule) -> (bool, bool, Vec<Condition>) {
        let mut turnout = Vec::new();
        let mut approval = Vec::new();
        let civil_turnout = |v: &mut Vec<Condition>| {
            for m in [Measure::Area, Measure::Headcount] {
                v.push(self.check(Stage::Turnout, m, TURNOUT, Bound::AtLeast, Base::Eligible));
            }
        };
        match *rule {
            Rule::CivilCode { matter } => {
                civil_turnout(&mut turnout);
                let (f, bound) = match matter {
                    Matter::Ordinary => (ORDINARY_MAJORITY, Bound::MoreThan),
                    Matter::Special => (SPECIAL_MAJORITY, Bound::AtLeast),
                };
                for m in [Measure::Area, Measure::Headcount] {
                    approval.push(self.check(Stage::Approval, m, f, bound, Base::Participants));
                }
            }
            Rule::Custom {
                base,
                area,
                headcount,
                bound,
                turnout: needs_turnout,
            } => {
                if needs_turnout {
                    civil_turnout(&mut turnout);
                }
                for (m, f) in [(Measure::Area, area), (Measure::Headcount, headcount)] {
                    if let Some(f) = f {
                        approval.push(self.check(Stage::Approval, m, f, bound, base));
                    }
                }
            }
        }
        let turnout_met = turnout.iter().all(|c| c.held);
        // `approval` is never empty (validated rule), and each approval
        // condition already fails when nobody voted.
        let approval_met = self.voted_heads > 0 && approval.iter().all(|c| c.held);
        turnout.extend(approval);
        (turnout_met, approval_met, turnout)
    }
}

// ---------------------------------------------------------------------------
// Published record (format gongzhi.vote/1)
// ---------------------------------------------------------------------------

/// A published vote record, format `gongzhi.vote/1`:
///
/// ```json
/// {"format": "gongzhi.vote/1", "title": "…",
///  "rule": {"kind": "civil_code", "matter": "ordinary"},
///  "parts":   [{"part": "6-1-301", "area": "89.50", "owner": "o-17"}],
///  "ballots": [{"owner": "o-17", "choice": "yes"}]}
/// ```
///
/// Areas are decimal strings with at most two decimals (written with exactly
/// two); a custom rule is
/// `{"kind": "custom", "base": "eligible"|"participants", "area": "3/4"|null,
/// "headcount": "3/4"|null, "bound": "at_least"|"more_than", "turnout": bool}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoteRecord {
    pub title: String,
    pub rule: Rule,
    pub parts: Vec<Part>,
    pub ballots: Vec<Ballot>,
}

#[derive(Serialize)]
pub(crate) struct WirePart<'a> {
    part: &'a str,
    area: String,
    owner: &'a str,
}

#[derive(Serialize)]
struct WireBallot<'a> {
    owner: &'a str,
    choice: Choice,
}

impl Serialize for VoteRecord {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let parts = wire_parts(&self.parts);
        let ballots: Vec<WireBallot<'_>> = self
            .ballots
            .iter()
            .map(|b| WireBallot {
                owner: &b.owner,
                choice: b.choice,
            })
            .collect();
        let mut st = s.serialize_struct("VoteRecord", 5)?;
        st.serialize_field("format", RECORD_FORMAT)?;
        st.serialize_field("title", &self.title)?;
        st.serialize_field("rule", &self.rule)?;
        st.serialize_field("parts", &parts)?;
        st.serialize_field("ballots", &ballots)?;
        st.end()
    }
}

/// The parts in their published form.
pub(crate) fn wire_parts(parts: &[Part]) -> Vec<WirePart<'_>> {
    parts
        .iter()
        .map(|p| WirePart {
            part: &p.label,
            area: format_hundredths(p.area.0),
            owner: &p.owner,
        })
        .collect()
}

/// Parses a record's JSON into its top-level object, checking the allowed
/// keys and that `format` is exactly `expected`.
pub(crate) fn record_object<'a>(
    value: &'a Value,
    expected: &str,
    keys: &[&str],
) -> Result<&'a Map<String, Value>, VoteError> {
    let obj = as_object(value, "record")?;
    only_keys(obj, "record", keys)?;
    match obj.get("format") {
        None => Err(invalid("format", format!("missing; expected '{expected}'"))),
        Some(Value::String(f)) if f == expected => Ok(obj),
        Some(Value::String(f)) => Err(invalid(
            "format",
            format!("expected '{expected}', found '{f}'"),
        )),
        Some(other) => Err(invalid(
            "format",
            format!(
                "expected the string '{expected}', found {}",
                type_name(other)
            ),
        )),
    }
}

/// Parses a record's `parts` (labels and owners non-empty, areas valid).
pub(crate) fn parse_parts(obj: &Map<String, Value>) -> Result<Vec<Part>, VoteError> {
    let parts_v = as_array(required(obj, "parts", "parts")?, "parts")?;
    let mut parts = Vec::with_capacity(parts_v.len());
    for (i, pv) in parts_v.iter().enumerate() {
        let path = format!("parts[{i}]");
        let po = as_object(pv, &path)?;
        only_keys(po, &path, &["part", "area", "owner"])?;
        let label = non_empty(po, "part", &path)?;
        let area_path = format!("{path}.area");
        let area_text = string_field(po, "area", &area_path)?;
        let area = Area::parse(area_text).map_err(|e| invalid(&area_path, area_message(e)))?;
        let owner = non_empty(po, "owner", &path)?;
        parts.push(Part {
            label: label.to_string(),
            area,
            owner: owner.to_string(),
        });
    }
    Ok(parts)
}

impl VoteRecord {
    /// Parses and validates the structure of a record (not yet the electorate
    /// rules: duplicate parts, unknown voters and double ballots are found by
    /// [`tally`], which [`audit_record`] runs next).
    pub fn from_json(json: &str) -> Result<VoteRecord, VoteError> {
        let value: Value =
            serde_json::from_str(json).map_err(|e| VoteError::Json(e.to_string()))?;
        let obj = record_object(
            &value,
            RECORD_FORMAT,
            &["format", "title", "rule", "parts", "ballots"],
        )?;
        let title = string_field(obj, "title", "title")?.to_string();
        let rule = parse_rule(required(obj, "rule", "rule")?)?;
        let parts = parse_parts(obj)?;

        let ballots_v = as_array(required(obj, "ballots", "ballots")?, "ballots")?;
        let mut ballots = Vec::with_capacity(ballots_v.len());
        for (i, bv) in ballots_v.iter().enumerate() {
            let path = format!("ballots[{i}]");
            let bo = as_object(bv, &path)?;
            only_keys(bo, &path, &["owner", "choice"])?;
            let owner = non_empty(bo, "owner", &path)?;
            let choice_path = format!("{path}.choice");
            let c = string_field(bo, "choice", &choice_path)?;
            let choice = Choice::parse(c).ok_or_else(|| {
                invalid(
                    &choice_path,
                    format!("unknown choice '{c}'; expected 'yes', 'no' or 'abstain'"),
                )
            })?;
            ballots.push(Ballot {
                owner: owner.to_string(),
                choice,
            });
        }

        Ok(VoteRecord {
            title,
            rule,
            parts,
            ballots,
        })
    }

    /// The record in its published JSON form (compact, keys in format order).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a vote record always serializes")
    }

    /// Counts this record's vote.
    pub fn tally(&self) -> Result<Tally, VoteError> {
        tally(&self.parts, &self.ballots, &self.rule)
    }
}

/// The published JSON form of a record; see [`VoteRecord`].
pub fn record_to_json(record: &VoteRecord) -> String {
    record.to_json()
}

pub(crate) fn invalid(path: &str, message: impl Into<String>) -> VoteError {
    VoteError::InvalidRecord {
        path: path.to_string(),
        message: message.into(),
    }
}

pub(crate) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

pub(crate) fn as_object<'a>(v: &'a Value, path: &str) -> Result<&'a Map<String, Value>, VoteError> {
    v.as_object()
        .ok_or_else(|| invalid(path, format!("expected an object, found {}", type_name(v))))
}

pub(crate) fn as_array<'a>(v: &'a Value, path: &str) -> Result<&'a Vec<Value>, VoteError> {
    v.as_array()
        .ok_or_else(|| invalid(path, format!("expected an array, found {}", type_name(v))))
}

pub(crate) fn only_keys(
    obj: &Map<String, Value>,
    path: &str,
    allowed: &[&str],
) -> Result<(), VoteError> {
    match obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(invalid(
            path,
            format!(
                "unknown field '{k}'; expected only {}",
                quoted_list(allowed)
            ),
        )),
        None => Ok(()),
    }
}

fn quoted_list(items: &[&str]) -> String {
    items
        .iter()
        .map(|i| format!("'{i}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) fn required<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<&'a Value, VoteError> {
    obj.get(key).ok_or_else(|| invalid(path, "missing"))
}

pub(crate) fn string_field<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<&'a str, VoteError> {
    let v = required(obj, key, path)?;
    v.as_str()
        .ok_or_else(|| invalid(path, format!("expected a string, found {}", type_name(v))))
}

pub(crate) fn non_empty<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    parent: &str,
) -> Result<&'a str, VoteError> {
    let path = format!("{parent}.{key}");
    let s = string_field(obj, key, &path)?;
    if s.trim().is_empty() {
        return Err(invalid(&path, "must not be empty"));
    }
    Ok(s)
}

fn area_message(e: DecimalError) -> String {
    match e {
        DecimalError::Negative(s) => {
            format!("'{s}' is negative; an area must be greater than zero")
        }
        DecimalError::Empty => "is empty; expected a decimal like \"89.50\"".to_string(),
        other => other.to_string(),
    }
}

/// Parses a keyword field against its allowed spellings.
fn keyword<T: Copy>(
    obj: &Map<String, Value>,
    key: &str,
    what: &str,
    options: &[(&str, T)],
) -> Result<T, VoteError> {
    let path = format!("rule.{key}");
    let s = string_field(obj, key, &path)?;
    options
        .iter()
        .find(|(name, _)| *name == s)
        .map(|(_, t)| *t)
        .ok_or_else(|| {
            let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
            invalid(
                &path,
                format!("unknown {what} '{s}'; expected {}", quoted_list(&names)),
            )
        })
}

fn optional_fraction(obj: &Map<String, Value>, key: &str) -> Result<Option<Fraction>, VoteError> {
    let path = format!("rule.{key}");
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => {
            Fraction::parse(s)
                .map(Some)
                .map_err(|e| VoteError::InvalidRule {
                    path,
                    message: e.to_string(),
                })
        }
        Some(other) => Err(VoteError::InvalidRule {
            path,
            message: format!(
                "expected a fraction string like \"3/4\" or null, found {}",
                type_name(other)
            ),
        }),
    }
}

pub(crate) fn parse_rule(v: &Value) -> Result<Rule, VoteError> {
    let obj = as_object(v, "rule")?;
    let kind = keyword(
        obj,
        "kind",
        "rule kind",
        &[("civil_code", 0u8), ("custom", 1u8)],
    )?;
    let rule = if kind == 0 {
        only_keys(obj, "rule", &["kind", "matter"])?;
        let matter = keyword(
            obj,
            "matter",
            "matter",
            &[("ordinary", Matter::Ordinary), ("special", Matter::Special)],
        )?;
        Rule::CivilCode { matter }
    } else {
        only_keys(
            obj,
            "rule",
            &["kind", "base", "area", "headcount", "bound", "turnout"],
        )?;
        let base = keyword(
            obj,
            "base",
            "base",
            &[
                ("eligible", Base::Eligible),
                ("participants", Base::Participants),
            ],
        )?;
        let area = optional_fraction(obj, "area")?;
        let headcount = optional_fraction(obj, "headcount")?;
        let bound = keyword(
            obj,
            "bound",
            "bound",
            &[("at_least", Bound::AtLeast), ("more_than", Bound::MoreThan)],
        )?;
        let turnout = match obj.get("turnout") {
            Some(Value::Bool(b)) => *b,
            None => return Err(invalid("rule.turnout", "missing; expected true or false")),
            Some(other) => {
                return Err(invalid(
                    "rule.turnout",
                    format!("expected true or false, found {}", type_name(other)),
                ))
            }
        };
        Rule::Custom {
            base,
            area,
            headcount,
            bound,
            turnout,
        }
    };
    rule.validate()?;
    Ok(rule)
}

// ---------------------------------------------------------------------------
// Audit
// ---------------------------------------------------------------------------

/// The re-count of a published record.
///
/// Serializes (for `gongzhi audit vote --json`) as one object with exactly
/// `total_area`, `voted_area`, `yes_area` (strings with two decimals),
/// `total_headcount`, `voted_headcount`, `yes_headcount` (integers),
/// `turnout_met`, `approval_met` and `passed` (booleans).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditReport {
    pub title: String,
    pub rule: Rule,
    pub tally: Tally,
}

impl Serialize for AuditReport {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let t = &self.tally;
        let mut st = s.serialize_struct("AuditReport", 9)?;
        st.serialize_field("total_area", &format_hundredths(t.total_area.0))?;
        st.serialize_field("voted_area", &format_hundredths(t.voted_area.0))?;
        st.serialize_field("yes_area", &format_hundredths(t.yes_area.0))?;
        st.serialize_field("total_headcount", &t.total_headcount)?;
        st.serialize_field("voted_headcount", &t.voted_headcount)?;
        st.serialize_field("yes_headcount", &t.yes_headcount)?;
        st.serialize_field("turnout_met", &t.turnout_met)?;
        st.serialize_field("approval_met", &t.approval_met)?;
        st.serialize_field("passed", &t.passed)?;
        st.end()
    }
}

/// Parses a published `gongzhi.vote/1` record and re-counts it.
///
/// Errors name the problem and where it is, e.g.
/// `parts[3].area: '1.234' has more than two decimals` or
/// `ballots[5]: owner 'o-99' is not in the electorate`.
pub fn audit_record(json: &str) -> Result<AuditReport, VoteError> {
    let record = VoteRecord::from_json(json)?;
    let tally = record.tally()?;
    Ok(AuditReport {
        title: record.title,
        rule: record.rule,
        tally,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> Area {
        Area::parse(s).unwrap()
    }

    #[test]
    fn fractions_parse_and_refuse() {
        assert_eq!(Fraction::parse("3/4"), Ok(Fraction { num: 3, den: 4 }));
        assert_eq!(Fraction::parse(" 1/1 "), Ok(Fraction { num: 1, den: 1 }));
        assert_eq!(Fraction::parse("6/8"), Ok(Fraction { num: 6, den: 8 }));
        assert_eq!(
            Fraction::parse("3/0"),
            Err(FractionError::ZeroDenominator("3/0".into()))
        );
        assert_eq!(
            Fraction::parse("0/4"),
            Err(FractionError::ZeroNumerator("0/4".into()))
        );
        assert_eq!(
            Fraction::parse("5/4"),
            Err(FractionError::GreaterThanOne("5/4".into()))
        );
        for bad in [
            "",
            "3",
            "3/",
            "/4",
            "3/4/5",
            "-3/4",
            "+3/4",
            "3 / 4",
            "0.75",
            "a/b",
            "99999999999/1",
        ] {
            assert!(
                matches!(Fraction::parse(bad), Err(FractionError::NotAFraction(_))),
                "{bad:?} should be refused"
            );
        }
        assert_eq!(
            Fraction::parse("5/4").unwrap_err().to_string(),
            "'5/4' is greater than 1"
        );
        assert_eq!(Fraction { num: 2, den: 3 }.to_string(), "2/3");
        assert_eq!(serde_json::to_string(&SPECIAL_MAJORITY).unwrap(), "\"3/4\"");
        assert!(serde_json::from_str::<Fraction>("\"4/3\"").is_err());
    }

    #[test]
    fn rule_serializes_in_record_shape() {
        let r = Rule::CivilCode {
            matter: Matter::Special,
        };
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            r#"{"kind":"civil_code","matter":"special"}"#
        );
        let r = Rule::Custom {
            base: Base::Eligible,
            area: None,
            headcount: Some(SPECIAL_MAJORITY),
            bound: Bound::AtLeast,
            turnout: false,
        };
        let j = serde_json::to_string(&r).unwrap();
        assert_eq!(
            j,
            r#"{"kind":"custom","base":"eligible","area":null,"headcount":"3/4","bound":"at_least","turnout":false}"#
        );
        assert_eq!(serde_json::from_str::<Rule>(&j).unwrap(), r);
    }

    #[test]
    fn ordinary_matter_simple_pass() {
        let parts = vec![
            Part::new("1-101", a("100"), "o1"),
            Part::new("1-102", a("100"), "o2"),
            Part::new("1-103", a("100"), "o3"),
        ];
        let ballots = vec![
            Ballot::new("o1", Choice::Yes),
            Ballot::new("o2", Choice::Yes),
        ];
        let t = tally(
            &parts,
            &ballots,
            &Rule::CivilCode {
                matter: Matter::Ordinary,
            },
        )
        .unwrap();
        assert_eq!(t.total_area, Area(30_000));
        assert_eq!(t.voted_area, Area(20_000));
        assert_eq!(
            (t.total_headcount, t.voted_headcount, t.yes_headcount),
            (3, 2, 2)
        );
        assert!(t.turnout_met && t.approval_met && t.passed);
        let names: Vec<&str> = t.conditions.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            vec![
                "turnout: voted_area ≥ 2/3 of total_area",
                "turnout: voted_headcount ≥ 2/3 of total_headcount",
                "approval: yes_area > 1/2 of voted_area",
                "approval: yes_headcount > 1/2 of voted_headcount",
            ]
        );
        assert_eq!(t.conditions[0].detail, "200.00 of 300.00 m²");
        assert_eq!(t.conditions[1].detail, "2 of 3 owners");
    }

    #[test]
    fn errors_name_what_and_where() {
        let rule = Rule::CivilCode {
            matter: Matter::Ordinary,
        };
        assert_eq!(
            tally(&[], &[], &rule).unwrap_err().to_string(),
            "parts: the electorate is empty; a vote needs at least one exclusive part"
        );
        let parts = vec![Part::new("A", a("1"), "o1"), Part::new("A", a("2"), "o2")];
        assert_eq!(
            tally(&parts, &[], &rule).unwrap_err().to_string(),
            "parts[1]: part 'A' is listed twice (first at parts[0])"
        );
        let parts = vec![Part::new("A", a("1"), "o1"), Part::new("B", Area(0), "o2")];
        assert_eq!(
            tally(&parts, &[], &rule).unwrap_err().to_string(),
            "parts[1]: part 'B' has area 0.00; an area must be greater than zero"
        );
        let parts = vec![Part::new("A", a("1"), "o1")];
        let ballots = vec![
            Ballot::new("o1", Choice::Yes),
            Ballot::new("o9", Choice::No),
        ];
        assert_eq!(
            tally(&parts, &ballots, &rule).unwrap_err().to_string(),
            "ballots[1]: owner 'o9' is not in the electorate"
        );
        let ballots = vec![
            Ballot::new("o1", Choice::Yes),
            Ballot::new("o1", Choice::No),
        ];
        assert_eq!(
            tally(&parts, &ballots, &rule).unwrap_err().to_string(),
            "ballots[1]: owner 'o1' has already voted in ballots[0]"
        );
        let custom = Rule::Custom {
            base: Base::Eligible,
            area: None,
            headcount: None,
            bound: Bound::AtLeast,
            turnout: false,
        };
        assert_eq!(
            tally(&parts, &[], &custom).unwrap_err().to_string(),
            "rule: a custom rule needs an area or a headcount fraction (both are null)"
        );
        let custom = Rule::Custom {
            base: Base::Eligible,
            area: Some(Fraction { num: 1, den: 0 }),
            headcount: None,
            bound: Bound::AtLeast,
            turnout: false,
        };
        assert_eq!(
            tally(&parts, &[], &custom).unwrap_err().to_string(),
            "rule.area: '1/0' has a zero denominator"
        );
    }

    const RECORD: &str = r#"{"format": "gongzhi.vote/1", "title": "Paint the gate",
        "rule": {"kind": "civil_code", "matter": "ordinary"},
        "parts": [{"part": "6-1-301", "area": "89.50", "owner": "o-17"},
                  {"part": "6-1-302", "area": "89.5", "owner": "o-18"},
                  {"part": "6-1-401", "area": "120", "owner": "o-17"}],
        "ballots": [{"owner": "o-17", "choice": "yes"}, {"owner": "o-18", "choice": "abstain"}]}"#;

    #[test]
    fn record_round_trips_and_audits() {
        let rec = VoteRecord::from_json(RECORD).unwrap();
        assert_eq!(rec.parts[1].area, Area(8950));
        let j = rec.to_json();
        assert!(j.starts_with(r#"{"format":"gongzhi.vote/1","title":"Paint the gate","rule":{"kind":"civil_code","matter":"ordinary"},"parts":[{"part":"6-1-301","area":"89.50","owner":"o-17"}"#), "{j}");
        assert_eq!(VoteRecord::from_json(&record_to_json(&rec)).unwrap(), rec);

        let report = audit_record(RECORD).unwrap();
        let v: Value = serde_json::to_value(&report).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "total_area": "299.00", "voted_area": "299.00", "yes_area": "209.50",
                "total_headcount": 2, "voted_headcount": 2, "yes_headcount": 1,
                "turnout_met": true, "approval_met": false, "passed": false
            })
        );
    }

    fn audit_err(json: &str) -> String {
        audit_record(json).unwrap_err().to_string()
    }

    fn with(parts: &str, ballots: &str, rule: &str) -> String {
        format!(
            r#"{{"format": "gongzhi.vote/1", "title": "t", "rule": {rule}, "parts": {parts}, "ballots": {ballots}}}"#
        )
    }

    const P: &str = r#"[{"part": "A", "area": "10.00", "owner": "o1"}]"#;
    const R: &str = r#"{"kind": "civil_code", "matter": "ordinary"}"#;

    #[test]
    fn record_errors_name_the_problem() {
        assert!(audit_err("{").starts_with("the record is not valid JSON: "));
        assert_eq!(
            audit_err("[]"),
            "record: expected an object, found an array"
        );
        assert_eq!(
            audit_err(r#"{"title": "t"}"#),
            "format: missing; expected 'gongzhi.vote/1'"
        );
        assert_eq!(
            audit_err(r#"{"format": "gongzhi.vote/2"}"#),
            "format: expected 'gongzhi.vote/1', found 'gongzhi.vote/2'"
        );
        let area = |s: &str| {
            audit_err(&with(
                &format!(r#"[{{"part": "A", "area": {s}, "owner": "o1"}}]"#),
                "[]",
                R,
            ))
        };
        assert_eq!(
            area("\"1.234\""),
            "parts[0].area: '1.234' has more than two decimals"
        );
        assert_eq!(
            area("\"-3\""),
            "parts[0].area: '-3' is negative; an area must be greater than zero"
        );
        assert_eq!(
            area("\"0\""),
            "parts[0].area: '0' must be greater than zero"
        );
        assert_eq!(
            area("89.5"),
            "parts[0].area: expected a string, found a number"
        );
        assert_eq!(
            area("\"abc\""),
            "parts[0].area: 'abc' is not a decimal number"
        );
        assert_eq!(
            audit_err(&with(P, r#"[{"owner": "o-99", "choice": "yes"}]"#, R)),
            "ballots[0]: owner 'o-99' is not in the electorate"
        );
        assert_eq!(
            audit_err(&with(
                P,
                r#"[{"owner": "o1", "choice": "yes"}, {"owner": "o1", "choice": "no"}]"#,
                R
            )),
            "ballots[1]: owner 'o1' has already voted in ballots[0]"
        );
        assert_eq!(
            audit_err(&with(P, r#"[{"owner": "o1", "choice": "maybe"}]"#, R)),
            "ballots[0].choice: unknown choice 'maybe'; expected 'yes', 'no' or 'abstain'"
        );
        assert_eq!(
            audit_err(&with(P, "[]", r#"{"kind": "majority"}"#)),
            "rule.kind: unknown rule kind 'majority'; expected 'civil_code', 'custom'"
        );
        assert_eq!(
            audit_err(&with(
                P,
                "[]",
                r#"{"kind": "civil_code", "matter": "huge"}"#
            )),
            "rule.matter: unknown matter 'huge'; expected 'ordinary', 'special'"
        );
        let custom = |base: &str, area: &str, bound: &str| {
            format!(
                r#"{{"kind": "custom", "base": "{base}", "area": {area}, "headcount": null, "bound": "{bound}", "turnout": false}}"#
            )
        };
        assert_eq!(
            audit_err(&with(P, "[]", &custom("everyone", "\"3/4\"", "at_least"))),
            "rule.base: unknown base 'everyone'; expected 'eligible', 'participants'"
        );
        assert_eq!(
            audit_err(&with(P, "[]", &custom("eligible", "\"3/4\"", "atleast"))),
            "rule.bound: unknown bound 'atleast'; expected 'at_least', 'more_than'"
        );
        assert_eq!(
            audit_err(&with(P, "[]", &custom("eligible", "\"4/3\"", "at_least"))),
            "rule.area: '4/3' is greater than 1"
        );
        assert_eq!(
            audit_err(&with(
                P,
                "[]",
                &custom("eligible", "\"three quarters\"", "at_least")
            )),
            "rule.area: 'three quarters' is not a fraction like \"3/4\""
        );
        assert_eq!(
            audit_err(&with(P, "[]", &custom("eligible", "0.75", "at_least"))),
            "rule.area: expected a fraction string like \"3/4\" or null, found a number"
        );
        assert_eq!(
            audit_err(&with(P, "[]", &custom("eligible", "null", "at_least"))),
            "rule: a custom rule needs an area or a headcount fraction (both are null)"
        );
        assert_eq!(
            audit_err(&with(
                r#"[{"part": "A", "area": "1", "owner": "o1"}, {"part": "A", "area": "2", "owner": "o2"}]"#,
                "[]",
                R
            )),
            "parts[1]: part 'A' is listed twice (first at parts[0])"
        );
        assert_eq!(
            audit_err(&with("[]", "[]", R)),
            "parts: the electorate is empty; a vote needs at least one exclusive part"
        );
        assert_eq!(
            audit_err(&with(
                r#"[{"part": "A", "area": "1", "owner": ""}]"#,
                "[]",
                R
            )),
            "parts[0].owner: must not be empty"
        );
        assert_eq!(
            audit_err(&with(
                r#"[{"part": "A", "area": "1", "ownr": "o1"}]"#,
                "[]",
                R
            )),
            "parts[0]: unknown field 'ownr'; expected only 'part', 'area', 'owner'"
        );
        assert_eq!(
            audit_err(&with(P, r#"[{"owner": "o1"}]"#, R)),
            "ballots[0].choice: missing"
        );
    }
}
