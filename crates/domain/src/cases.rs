//! Cases (诉求 / 工单): a problem raised is a problem handled.
//!
//! The life of a case: reported → accepted (立案) | rejected (with a reason) |
//! merged (a duplicate of another case) → assigned → in progress → resolved →
//! verified (核查) → closed (结案). A dissatisfied reporter may reopen within a
//! window; after closure the reporter rates 1–5 once per closure, and a rating
//! of 2 or less allows reopening. Every transition is an event (actor, time,
//! note); the store keeps them append-only.
//!
//! Also here: categories and priorities, deadlines in working hours and days
//! (weekends skipped, holidays and swapped working days as data), escalation
//! one level up the place hierarchy, routing rules as data, and the 接诉即办
//! KPIs in exact integer arithmetic. No I/O, no clock: times are given.

use crate::place::{str_enum, OrgKind, PlaceKind};
use std::collections::BTreeSet;

str_enum!(
    /// What a case is about.
    Category {
        Repair = "repair",
        Environment = "environment",
        Safety = "safety",
        Parking = "parking",
        Noise = "noise",
        NeighbourDispute = "neighbour_dispute",
        FeeComplaint = "fee_complaint",
        ServiceComplaint = "service_complaint",
        Suggestion = "suggestion",
        Other = "other",
    }
);

impl Category {
    /// A short description in English and Chinese (used by Open311 `services`).
    pub fn describe(self) -> (&'static str, &'static str) {
        match self {
            Category::Repair => ("Repair", "报修: broken doors, lifts, pipes, walls, lights"),
            Category::Environment => (
                "Environment",
                "环境卫生: bins, smells, greening, cleanliness",
            ),
            Category::Safety => (
                "Safety",
                "安全隐患: fire passages, falling objects, electric bikes",
            ),
            Category::Parking => ("Parking", "停车: blocked passages, parking order"),
            Category::Noise => (
                "Noise",
                "噪音扰民: barking dogs, renovation, square dancing",
            ),
            Category::NeighbourDispute => (
                "Neighbour dispute",
                "邻里纠纷: leaks between floors, shared spaces",
            ),
            Category::FeeComplaint => ("Fee complaint", "收费投诉: property fees, public revenue"),
            Category::ServiceComplaint => ("Service complaint", "服务投诉: the steward's service"),
            Category::Suggestion => ("Suggestion", "意见建议"),
            Category::Other => ("Other", "其他"),
        }
    }

    /// Disputes may become mediations (调解).
    pub fn is_dispute(self) -> bool {
        matches!(self, Category::Noise | Category::NeighbourDispute)
    }

    /// Complaints get the 12345-style 5 working days for resolution.
    pub fn is_complaint(self) -> bool {
        matches!(
            self,
            Category::Noise
                | Category::NeighbourDispute
                | Category::FeeComplaint
                | Category::ServiceComplaint
        )
    }
}

str_enum!(
    /// How urgent a case is.
    Priority { Urgent = "urgent", High = "high", Normal = "normal", Low = "low" }
);

str_enum!(
    /// Where a case was raised.
    Channel { Web = "web", Api = "api", Open311 = "open311", DoorKnock = "door_knock", Phone = "phone", Station = "station" }
);

impl Channel {
    /// Channels through which staff raise a case on someone's behalf.
    pub fn on_behalf(self) -> bool {
        matches!(self, Channel::DoorKnock | Channel::Phone | Channel::Station)
    }
}

str_enum!(
    /// The states of a case.
    Status {
        Reported = "reported",
        Accepted = "accepted",
        Rejected = "rejected",
        Merged = "merged",
        Assigned = "assigned",
        InProgress = "in_progress",
        Resolved = "resolved",
        Verified = "verified",
        Closed = "closed",
    }
);

impl Status {
    /// Still waiting for someone to act (counts in queues and escalation).
    pub fn is_open(self) -> bool {
        matches!(
            self,
            Status::Reported | Status::Accepted | Status::Assigned | Status::InProgress
        )
    }
    /// Never changes again.
    pub fn is_terminal(self) -> bool {
        matches!(self, Status::Rejected | Status::Merged)
    }
    /// Has been resolved (and possibly verified and closed).
    pub fn is_resolved(self) -> bool {
        matches!(self, Status::Resolved | Status::Verified | Status::Closed)
    }
    /// Open311 GeoReport v2 has two statuses: `open` (reported, being
    /// handled) and `closed` (resolved, or rejected/merged).
    pub fn open311(self) -> &'static str {
        if self.is_open() {
            "open"
        } else {
            "closed"
        }
    }
}

/// What someone asks to do to a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Accept,
    Reject {
        reason: String,
    },
    Merge {
        into: String,
    },
    Assign,
    Start,
    Resolve,
    Verify,
    Close,
    Reopen,
    Rate {
        stars: u8,
    },
    /// Moves the case one level up (by the sweep or 吹哨 on purpose).
    Escalate,
}

/// Who someone is to a case: its reporter, its handler (staff in scope),
/// both or neither. The web gate fills it from the policy; the rule of what
/// each standing may ask is here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Standing {
    pub reporter: bool,
    pub handler: bool,
    pub escalator: bool,
    /// May verify it (handlers, and building heads of its building).
    pub verifier: bool,
}

impl Standing {
    /// May the caller give this command (the state machine decides the rest)?
    pub fn may(&self, cmd: &Command) -> bool {
        match cmd {
            Command::Escalate => self.escalator,
            Command::Verify => self.verifier || self.reporter,
            Command::Reopen => self.handler || self.reporter,
            _ => self.handler,
        }
    }
}

impl Command {
    /// The event kind recorded for this command.
    pub fn event(&self) -> &'static str {
        match self {
            Command::Accept => "accepted",
            Command::Reject { .. } => "rejected",
            Command::Merge { .. } => "merged",
            Command::Assign => "assigned",
            Command::Start => "started",
            Command::Resolve => "resolved",
            Command::Verify => "verified",
            Command::Close => "closed",
            Command::Reopen => "reopened",
            Command::Rate { .. } => "rated",
            Command::Escalate => "escalated",
        }
    }
}

/// Days a reporter has to reopen after closure or after a low rating.
pub const REOPEN_WINDOW_MS: i64 = 7 * DAY_MS;
/// At most this many reopenings; then the case goes to mediation or the community.
pub const MAX_REOPENS: u32 = 3;
/// A rating at or below this allows reopening.
pub const REOPEN_RATING: u8 = 2;
/// A rating at or above this counts as satisfied.
pub const SATISFIED_RATING: u8 = 4;

/// What the state machine knows about a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseState {
    pub status: Status,
    /// The rating of the current closure, if given.
    pub rating: Option<u8>,
    pub rated_at: Option<i64>,
    pub closed_at: Option<i64>,
    pub reopens: u32,
    /// The level of the place hierarchy that holds the case now.
    pub level: PlaceKind,
    pub escalations: u32,
}

impl CaseState {
    pub fn new(level: PlaceKind) -> Self {
        CaseState {
            status: Status::Reported,
            rating: None,
            rated_at: None,
            closed_at: None,
            reopens: 0,
            level,
            escalations: 0,
        }
    }

    /// The invariants every reachable state keeps.
    pub fn is_consistent(&self) -> bool {
        let rating_ok = match self.rating {
            Some(r) => {
                (1..=5).contains(&r) && self.status == Status::Closed && self.rated_at.is_some()
            }
            None => self.rated_at.is_none(),
        };
        let closed_ok = self.status != Status::Closed || self.closed_at.is_some();
        rating_ok && closed_ok && self.reopens <= MAX_REOPENS
    }
}

/// Why a command was refused; `field` names what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct Refused {
    pub field: &'static str,
    pub reason: String,
}

fn refuse(field: &'static str, reason: impl Into<String>) -> Refused {
    Refused {
        field,
        reason: reason.into(),
    }
}

/// One level up for escalation: unit → building → compound → community →
/// street → district; `None` at the district (the top).
pub fn escalate_from(level: PlaceKind) -> Option<PlaceKind> {
    level.parent()
}

/// Applies `cmd` at time `now` and returns the new state, or why not.
pub fn apply(s: &CaseState, cmd: &Command, now: i64) -> Result<CaseState, Refused> {
    use Status::*;
    let mut n = s.clone();
    let not_from = |what: &str| {
        refuse(
            "action",
            format!("cannot {what} a case that is {}", s.status),
        )
    };
    match cmd {
        Command::Accept => match s.status {
            Reported => n.status = Accepted,
            _ => return Err(not_from("accept")),
        },
        Command::Reject { reason } => {
            if reason.trim().is_empty() {
                return Err(refuse("note", "a rejection needs a reason"));
            }
            match s.status {
                Reported | Accepted => n.status = Rejected,
                _ => return Err(not_from("reject")),
            }
        }
        Command::Merge { into } => {
            if into.trim().is_empty() {
                return Err(refuse("duplicate_of", "name the case this one duplicates"));
            }
            match s.status {
                Reported | Accepted => n.status = Merged,
                _ => return Err(not_from("merge")),
            }
        }
        Command::Assign => match s.status {
            Accepted | Assigned | InProgress => n.status = Assigned,
            _ => return Err(not_from("assign")),
        },
        Command::Start => match s.status {
            Assigned => n.status = InProgress,
            _ => return Err(not_from("start work on")),
        },
        Command::Resolve => match s.status {
            Assigned | InProgress => n.status = Resolved,
            _ => return Err(not_from("resolve")),
        },
        Command::Verify => match s.status {
            Resolved => n.status = Verified,
            _ => return Err(not_from("verify")),
        },
        Command::Close => match s.status {
            Verified => {
                n.status = Closed;
                n.closed_at = Some(now);
                n.rating = None;
                n.rated_at = None;
            }
            _ => return Err(not_from("close")),
        },
        Command::Reopen => {
            if !matches!(s.status, Resolved | Verified | Closed) {
                return Err(not_from("reopen"));
            }
            if s.reopens >= MAX_REOPENS {
                return Err(refuse("action", format!("the case was reopened {MAX_REOPENS} times already: ask the community for mediation")));
            }
            if s.status == Closed {
                let closed = s.closed_at.unwrap_or(now);
                let in_window =
                    now - closed <= REOPEN_WINDOW_MS && s.rating.is_none_or(|r| r <= REOPEN_RATING);
                let low_rating = matches!((s.rating, s.rated_at), (Some(r), Some(at)) if r <= REOPEN_RATING && now - at <= REOPEN_WINDOW_MS);
                if !(in_window || low_rating) {
                    return Err(refuse(
                        "action",
                        if s.rating.is_some_and(|r| r > REOPEN_RATING) {
                            format!("a case rated above {REOPEN_RATING} cannot be reopened")
                        } else {
                            "the reopening window (7 days) has passed".to_string()
                        },
                    ));
                }
            }
            n.status = Assigned;
            n.reopens += 1;
            n.closed_at = None;
            n.rating = None;
            n.rated_at = None;
        }
        Command::Rate { stars } => {
            if !(1..=5).contains(stars) {
                return Err(refuse("stars", format!("a rating is 1 to 5, not {stars}")));
            }
            if s.status != Closed {
                return Err(not_from("rate"));
            }
            if s.rating.is_some() {
                return Err(refuse("stars", "this closure has already been rated"));
            }
            n.rating = Some(*stars);
            n.rated_at = Some(now);
        }
        Command::Escalate => {
            if !s.status.is_open() {
                return Err(not_from("escalate"));
            }
            match escalate_from(s.level) {
                Some(up) => {
                    n.level = up;
                    n.escalations += 1;
                }
                None => return Err(refuse("action", "the case is already held by the district")),
            }
        }
    }
    Ok(n)
}

// ---------------------------------------------------------------------------
// Working time.

pub const HOUR_MS: i64 = 3_600_000;
pub const DAY_MS: i64 = 24 * HOUR_MS;
/// China Standard Time, UTC+8, no daylight saving.
pub const LOCAL_OFFSET_MS: i64 = 8 * HOUR_MS;
/// The working day: 09:00–18:00 local time (9 working hours).
pub const WORK_START_H: i64 = 9;
pub const WORK_END_H: i64 = 18;

/// Days since 1970-01-01 for a civil date (proleptic Gregorian).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day number.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Parses `YYYY-MM-DD` into a day number.
pub fn parse_date(s: &str) -> Option<i64> {
    let mut it = s.trim().splitn(3, '-');
    let y: i64 = it.next()?.parse().ok()?;
    let m: u32 = it.next()?.parse().ok()?;
    let d: u32 = it.next()?.parse().ok()?;
    if !(1..=12).contains(&m) || d == 0 || d > 31 {
        return None;
    }
    let day = days_from_civil(y, m, d);
    (civil_from_days(day) == (y, m, d)).then_some(day)
}

/// The working calendar: weekends are rest days, plus public holidays, minus
/// swapped working days (调休, a Saturday or Sunday that is worked). Data, not code.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Calendar {
    pub holidays: BTreeSet<i64>,
    pub workdays: BTreeSet<i64>,
}

impl Calendar {
    /// Builds a calendar from date strings; names the first bad one.
    pub fn from_dates(holidays: &[&str], workdays: &[&str]) -> Result<Calendar, String> {
        let parse = |v: &[&str]| -> Result<BTreeSet<i64>, String> {
            v.iter()
                .map(|s| parse_date(s).ok_or_else(|| format!("not a date: '{s}' (YYYY-MM-DD)")))
                .collect()
        };
        Ok(Calendar {
            holidays: parse(holidays)?,
            workdays: parse(workdays)?,
        })
    }

    /// Monday = 0 … Sunday = 6.
    pub fn weekday(day: i64) -> i64 {
        (day + 3).rem_euclid(7)
    }

    pub fn is_working_day(&self, day: i64) -> bool {
        if self.workdays.contains(&day) {
            return true;
        }
        Self::weekday(day) < 5 && !self.holidays.contains(&day)
    }
}

/// A time as ISO 8601 / W3C date-time in China Standard Time, e.g.
/// `2026-11-23T19:05:00+08:00` (what Open311 GeoReport v2 asks for).
pub fn format_iso(ms: i64) -> String {
    let local = ms + LOCAL_OFFSET_MS;
    let (y, m, d) = civil_from_days(local.div_euclid(DAY_MS));
    let secs = local.rem_euclid(DAY_MS) / 1000;
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}+08:00",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// Parses an ISO 8601 date-time with `Z` or a `±HH:MM` offset (fractions of
/// a second ignored), or a bare date (midnight, China Standard Time).
pub fn parse_iso(s: &str) -> Option<i64> {
    let s = s.trim();
    let (date, rest) = match s.split_once(['T', ' ']) {
        Some((d, r)) => (d, Some(r)),
        None => (s, None),
    };
    let day = parse_date(date)?;
    let Some(rest) = rest else {
        return Some(day_start(day));
    };
    let (time, offset_ms) =
        if let Some(t) = rest.strip_suffix('Z').or_else(|| rest.strip_suffix('z')) {
            (t, 0)
        } else if let Some(i) = rest.rfind(['+', '-']) {
            let (t, off) = rest.split_at(i);
            let sign = if off.starts_with('-') { -1 } else { 1 };
            let off = &off[1..];
            let (oh, om) = off
                .split_once(':')
                .unwrap_or((off.get(..2)?, off.get(2..).unwrap_or("0")));
            let (oh, om): (i64, i64) = (
                oh.parse().ok()?,
                if om.is_empty() { 0 } else { om.parse().ok()? },
            );
            if oh > 14 || om > 59 {
                return None;
            }
            (t, sign * (oh * HOUR_MS + om * 60_000))
        } else {
            return None;
        };
    let time = time.split('.').next()?;
    let mut it = time.split(':');
    let h: i64 = it.next()?.parse().ok()?;
    let mi: i64 = it.next()?.parse().ok()?;
    let se: i64 = it.next().map(|x| x.parse().ok()).unwrap_or(Some(0))?;
    if h > 23 || mi > 59 || se > 60 || it.next().is_some() {
        return None;
    }
    Some(day * DAY_MS + h * HOUR_MS + mi * 60_000 + se * 1000 - offset_ms)
}

/// The local day number of a time.
pub fn local_day(ms: i64) -> i64 {
    (ms + LOCAL_OFFSET_MS).div_euclid(DAY_MS)
}

/// The instant a local day begins.
pub fn day_start(day: i64) -> i64 {
    day * DAY_MS - LOCAL_OFFSET_MS
}

/// A time limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Span {
    /// Calendar hours (urgent matters do not wait for Monday).
    Hours(u32),
    /// Hours inside working days, 09:00–18:00.
    WorkingHours(u32),
    /// Whole working days: the deadline is the end of the n-th working day
    /// after the day of the start.
    WorkingDays(u32),
}

impl Span {
    pub fn describe(self) -> String {
        match self {
            Span::Hours(h) => format!("{h} hours"),
            Span::WorkingHours(h) => format!("{h} working hours"),
            Span::WorkingDays(d) => format!("{d} working days"),
        }
    }
}

/// Upper bound on spans so every computation terminates quickly.
pub const MAX_SPAN: u32 = 10_000;

/// The deadline `span` after `start`. Monotone in `start` and in the span.
pub fn deadline(start: i64, span: Span, cal: &Calendar) -> i64 {
    match span {
        Span::Hours(h) => start + h.min(MAX_SPAN) as i64 * HOUR_MS,
        Span::WorkingDays(n) => {
            let mut day = local_day(start);
            let mut left = n.min(MAX_SPAN);
            // Guard: at most MAX_SPAN * 7 + 400 days are walked (a calendar can't be all holidays forever).
            let mut guard = MAX_SPAN as i64 * 7 + 400;
            while left > 0 && guard > 0 {
                day += 1;
                guard -= 1;
                if cal.is_working_day(day) {
                    left -= 1;
                }
            }
            day_start(day + 1)
        }
        Span::WorkingHours(h) => {
            let mut left = h.min(MAX_SPAN) as i64 * HOUR_MS;
            let mut t = start;
            let mut guard = MAX_SPAN as i64 * 7 + 400;
            loop {
                let day = local_day(t);
                let (ws, we) = (
                    day_start(day) + WORK_START_H * HOUR_MS,
                    day_start(day) + WORK_END_H * HOUR_MS,
                );
                if cal.is_working_day(day) && t < we {
                    let from = t.max(ws);
                    if from + left <= we {
                        return from + left;
                    }
                    left -= we - from;
                }
                guard -= 1;
                if guard == 0 {
                    return t + left;
                }
                t = day_start(day + 1);
            }
        }
    }
}

/// Response and resolution limits for one category and priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// From report to accepted/rejected/merged.
    pub response: Span,
    /// From report to resolved.
    pub resolution: Span,
}

/// The default limits. Complaints: 5 working days to resolve (12345 style).
pub fn default_limits(category: Category, priority: Priority) -> Limits {
    match priority {
        Priority::Urgent => Limits {
            response: Span::Hours(1),
            resolution: Span::Hours(24),
        },
        Priority::High => Limits {
            response: Span::WorkingHours(4),
            resolution: Span::WorkingDays(3),
        },
        Priority::Normal if category.is_complaint() => Limits {
            response: Span::WorkingHours(9),
            resolution: Span::WorkingDays(5),
        },
        Priority::Normal if category == Category::Suggestion => Limits {
            response: Span::WorkingDays(2),
            resolution: Span::WorkingDays(15),
        },
        Priority::Normal => Limits {
            response: Span::WorkingHours(9),
            resolution: Span::WorkingDays(5),
        },
        Priority::Low => Limits {
            response: Span::WorkingDays(2),
            resolution: Span::WorkingDays(15),
        },
    }
}

/// After an escalation the receiving level gets this long before the next one.
pub const ESCALATION_GRACE: Span = Span::WorkingDays(2);

/// What a sweep decides for one open case.
pub fn is_overdue(status: Status, now: i64, response_due: i64, resolution_due: i64) -> bool {
    match status {
        Status::Reported => now > response_due || now > resolution_due,
        s if s.is_open() => now > resolution_due,
        _ => false,
    }
}

// ---------------------------------------------------------------------------
// Routing: rules as data.

/// Which kind of organisation handles a category, optionally only in one community.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutingRule {
    pub category: Category,
    pub org_kind: OrgKind,
    /// `None`: the default everywhere; `Some(id)`: this community's own rule.
    pub community_id: Option<String>,
}

/// The defaults: repairs and the environment to the steward, disputes to the
/// mediation committee, fee complaints to the owners' committee, the rest to
/// the compound's party branch or the residents' committee.
pub fn default_route(category: Category) -> OrgKind {
    match category {
        Category::Repair | Category::Environment | Category::Parking => OrgKind::Steward,
        Category::Noise | Category::NeighbourDispute => OrgKind::MediationCommittee,
        Category::FeeComplaint | Category::ServiceComplaint => OrgKind::OwnersCommittee,
        Category::Safety => OrgKind::CompoundBranch,
        Category::Suggestion | Category::Other => OrgKind::ResidentsCommittee,
    }
}

/// The handling organisation kind for `category` in `community`: the
/// community's own rule first, then a general rule, then the default.
pub fn route(category: Category, community: Option<&str>, rules: &[RoutingRule]) -> OrgKind {
    let own = rules.iter().find(|r| {
        r.category == category && r.community_id.is_some() && r.community_id.as_deref() == community
    });
    let general = rules
        .iter()
        .find(|r| r.category == category && r.community_id.is_none());
    own.or(general)
        .map(|r| r.org_kind)
        .unwrap_or_else(|| default_route(category))
}

// ---------------------------------------------------------------------------
// KPIs (接诉即办): exact rationals.

/// An exact ratio; `den == 0` means "no data".
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Ratio {
    pub num: i64,
    pub den: i64,
}

impl Ratio {
    /// Per mille, rounded half up; `None` without data.
    pub fn permille(self) -> Option<i64> {
        (self.den > 0).then(|| (self.num * 2000 + self.den) / (2 * self.den))
    }
    /// "87.5%" with one decimal, or "—".
    pub fn percent(self) -> String {
        match self.permille() {
            Some(p) => format!("{}.{}%", p / 10, p % 10),
            None => "—".into(),
        }
    }
}

/// One case as the KPIs see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KpiCase {
    pub status: Status,
    pub reported_at: i64,
    /// When it was first accepted, rejected or merged.
    pub responded_at: Option<i64>,
    pub response_due: i64,
    /// When it was (last) resolved.
    pub resolved_at: Option<i64>,
    pub resolution_due: i64,
    pub rating: Option<u8>,
    pub escalations: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Kpis {
    pub received: i64,
    /// Responded (accepted, rejected or merged) within the response limit / received.
    pub response_rate: Ratio,
    /// Resolved (resolved, verified or closed) / received minus rejected and merged.
    pub resolution_rate: Ratio,
    /// Ratings of 4 or 5 / ratings given.
    pub satisfaction_rate: Ratio,
    /// Median of (resolved_at − reported_at) in ms over resolved cases; a
    /// ratio because the median of an even count is a half.
    pub median_resolve_ms: Option<Ratio>,
    /// Open and past their deadline at `now`.
    pub overdue: i64,
    pub escalated: i64,
    pub open: i64,
}

pub fn kpis(cases: &[KpiCase], now: i64) -> Kpis {
    let received = cases.len() as i64;
    let responded = cases
        .iter()
        .filter(|c| c.responded_at.is_some_and(|t| t <= c.response_due))
        .count() as i64;
    let handled = cases.iter().filter(|c| !c.status.is_terminal()).count() as i64;
    let resolved = cases.iter().filter(|c| c.status.is_resolved()).count() as i64;
    let rated = cases.iter().filter(|c| c.rating.is_some()).count() as i64;
    let satisfied = cases
        .iter()
        .filter(|c| c.rating.is_some_and(|r| r >= SATISFIED_RATING))
        .count() as i64;
    let mut times: Vec<i64> = cases
        .iter()
        .filter(|c| c.status.is_resolved())
        .filter_map(|c| c.resolved_at.map(|r| r - c.reported_at))
        .collect();
    times.sort_unstable();
    let median = match times.len() {
        0 => None,
        n if n % 2 == 1 => Some(Ratio {
            num: times[n / 2],
            den: 1,
        }),
        n => Some(Ratio {
            num: times[n / 2 - 1] + times[n / 2],
            den: 2,
        }),
    };
    Kpis {
        received,
        response_rate: Ratio {
            num: responded,
            den: received,
        },
        resolution_rate: Ratio {
            num: resolved,
            den: handled,
        },
        satisfaction_rate: Ratio {
            num: satisfied,
            den: rated,
        },
        median_resolve_ms: median,
        overdue: cases
            .iter()
            .filter(|c| is_overdue(c.status, now, c.response_due, c.resolution_due))
            .count() as i64,
        escalated: cases.iter().filter(|c| c.escalations > 0).count() as i64,
        open: cases.iter().filter(|c| c.status.is_open()).count() as i64,
    }
}

// ---------------------------------------------------------------------------
// Photos.

/// Largest accepted photo.
pub const MAX_PHOTO_BYTES: usize = 5 * 1024 * 1024;
/// At most this many photos per case.
pub const MAX_PHOTOS: usize = 6;

/// The image type from its first bytes (PNG, JPEG or WebP only).
pub fn sniff_image(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some("image/png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// Checks a photo: a refusal names what is wrong.
pub fn check_photo(bytes: &[u8]) -> Result<&'static str, String> {
    if bytes.is_empty() {
        return Err("the photo is empty".into());
    }
    if bytes.len() > MAX_PHOTO_BYTES {
        return Err(format!(
            "the photo has {} bytes, more than the limit of {MAX_PHOTO_BYTES}",
            bytes.len()
        ));
    }
    sniff_image(bytes).ok_or_else(|| "not a PNG, JPEG or WebP image".to_string())
}

/// Bounds on case text.
pub const MAX_TEXT_CHARS: usize = 4000;
pub const MAX_NOTE_CHARS: usize = 2000;

pub fn check_text(field: &'static str, s: &str, max: usize, required: bool) -> Result<(), Refused> {
    let n = s.trim().chars().count();
    if required && n == 0 {
        return Err(refuse(field, "must not be empty"));
    }
    if n > max {
        return Err(refuse(field, format!("at most {max} characters (got {n})")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn st() -> CaseState {
        CaseState::new(PlaceKind::Building)
    }

    fn run(cmds: &[Command]) -> Result<CaseState, Refused> {
        let mut s = st();
        for (i, c) in cmds.iter().enumerate() {
            s = apply(&s, c, i as i64 * HOUR_MS)?;
        }
        Ok(s)
    }

    #[test]
    fn the_happy_path() {
        use Command::*;
        let s = run(&[
            Accept,
            Assign,
            Start,
            Resolve,
            Verify,
            Close,
            Rate { stars: 5 },
        ])
        .unwrap();
        assert_eq!(s.status, Status::Closed);
        assert_eq!(s.rating, Some(5));
        assert!(s.is_consistent());
    }

    #[test]
    fn forbidden_transitions() {
        use Command::*;
        let e = run(&[Resolve]).unwrap_err();
        assert_eq!(e.field, "action");
        assert!(
            e.reason.contains("cannot resolve a case that is reported"),
            "{e}"
        );
        assert!(run(&[Accept, Accept]).is_err());
        assert!(
            run(&[Reject { reason: "x".into() }, Accept]).is_err(),
            "rejected is terminal"
        );
        assert_eq!(
            run(&[Reject { reason: " ".into() }]).unwrap_err().field,
            "note"
        );
        assert_eq!(
            run(&[Merge { into: "".into() }]).unwrap_err().field,
            "duplicate_of"
        );
        assert!(
            run(&[Accept, Assign, Start, Resolve, Rate { stars: 4 }]).is_err(),
            "rating before closure"
        );
        assert!(run(&[Accept, Assign, Verify]).is_err());
    }

    #[test]
    fn rating_once_and_reopen_rules() {
        use Command::*;
        let closed = [Accept, Assign, Start, Resolve, Verify, Close];
        let e = run(&[&closed[..], &[Rate { stars: 4 }, Rate { stars: 5 }]].concat()).unwrap_err();
        assert_eq!(e.field, "stars");
        assert!(e.reason.contains("already been rated"));
        assert_eq!(
            run(&[&closed[..], &[Rate { stars: 6 }]].concat())
                .unwrap_err()
                .field,
            "stars"
        );
        assert_eq!(
            run(&[&closed[..], &[Rate { stars: 0 }]].concat())
                .unwrap_err()
                .field,
            "stars"
        );
        // Rated 4: cannot reopen.
        let e = run(&[&closed[..], &[Rate { stars: 4 }, Reopen]].concat()).unwrap_err();
        assert!(e.reason.contains("rated above 2"), "{e}");
        // Rated 2: reopen, and the new closure can be rated again.
        let s = run(&[
            &closed[..],
            &[
                Rate { stars: 2 },
                Reopen,
                Start,
                Resolve,
                Verify,
                Close,
                Rate { stars: 5 },
            ],
        ]
        .concat())
        .unwrap();
        assert_eq!(
            (s.status, s.rating, s.reopens),
            (Status::Closed, Some(5), 1)
        );
        // Unrated: reopen within the window only.
        let mut s = run(&closed).unwrap();
        let closed_at = s.closed_at.unwrap();
        assert!(apply(&s, &Reopen, closed_at + REOPEN_WINDOW_MS).is_ok());
        assert!(apply(&s, &Reopen, closed_at + REOPEN_WINDOW_MS + 1)
            .unwrap_err()
            .reason
            .contains("window"));
        // A low rating late restarts the window.
        s = apply(&s, &Rate { stars: 1 }, closed_at + REOPEN_WINDOW_MS + 5).unwrap();
        assert!(apply(&s, &Reopen, closed_at + REOPEN_WINDOW_MS + 10).is_ok());
    }

    #[test]
    fn reopens_are_bounded() {
        use Command::*;
        let mut s = run(&[Accept, Assign]).unwrap();
        for i in 0..MAX_REOPENS {
            s = apply(&s, &Resolve, 0).unwrap();
            s = apply(&s, &Reopen, 0).unwrap();
            assert_eq!(s.reopens, i + 1);
        }
        s = apply(&s, &Resolve, 0).unwrap();
        assert!(apply(&s, &Reopen, 0)
            .unwrap_err()
            .reason
            .contains("mediation"));
    }

    #[test]
    fn escalation_climbs_to_the_district() {
        let mut s = st();
        let mut levels = vec![];
        while let Ok(n) = apply(&s, &Command::Escalate, 0) {
            s = n;
            levels.push(s.level);
        }
        assert_eq!(
            levels,
            vec![
                PlaceKind::Compound,
                PlaceKind::Community,
                PlaceKind::Street,
                PlaceKind::District
            ]
        );
        assert_eq!(s.escalations, 4);
        assert!(apply(&s, &Command::Escalate, 0)
            .unwrap_err()
            .reason
            .contains("district"));
        let closed = run(&[Command::Accept, Command::Assign, Command::Resolve]).unwrap();
        assert!(
            apply(&closed, &Command::Escalate, 0).is_err(),
            "resolved cases do not escalate"
        );
    }

    fn at(y: i64, m: u32, d: u32, h: i64, min: i64) -> i64 {
        day_start(days_from_civil(y, m, d)) + h * HOUR_MS + min * 60_000
    }

    #[test]
    fn calendar_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(
            civil_from_days(days_from_civil(2026, 11, 23)),
            (2026, 11, 23)
        );
        assert_eq!(
            Calendar::weekday(days_from_civil(2026, 11, 23)),
            0,
            "2026-11-23 is a Monday"
        );
        assert_eq!(parse_date("2026-02-30"), None);
        assert_eq!(parse_date("2026-13-01"), None);
        assert!(Calendar::from_dates(&["2026-1-x"], &[])
            .unwrap_err()
            .contains("2026-1-x"));
    }

    #[test]
    fn iso_dates() {
        let t = at(2026, 11, 23, 19, 5);
        assert_eq!(format_iso(t), "2026-11-23T19:05:00+08:00");
        assert_eq!(parse_iso("2026-11-23T19:05:00+08:00"), Some(t));
        assert_eq!(parse_iso("2026-11-23T11:05:00Z"), Some(t));
        assert_eq!(parse_iso("2026-11-23T06:05:00.123-05:00"), Some(t));
        assert_eq!(parse_iso("2026-11-23"), Some(at(2026, 11, 23, 0, 0)));
        assert_eq!(parse_iso("2026-11-23T25:00:00Z"), None);
        assert_eq!(parse_iso("yesterday"), None);
        assert_eq!(
            parse_iso("2026-11-23T10:00:00"),
            None,
            "an offset is required"
        );
    }

    #[test]
    fn five_working_days_skip_weekends_and_holidays() {
        let cal = Calendar::default();
        // Friday 2026-11-27 15:00 → Mon, Tue, Wed, Thu, Fri → end of Friday 2026-12-04.
        assert_eq!(
            deadline(at(2026, 11, 27, 15, 0), Span::WorkingDays(5), &cal),
            at(2026, 12, 5, 0, 0)
        );
        // Reported on Saturday: Monday is day 1.
        assert_eq!(
            deadline(at(2026, 11, 28, 10, 0), Span::WorkingDays(1), &cal),
            at(2026, 12, 1, 0, 0)
        );
        // National Day week 2026: reported on 30 September → 8, 9, 10 (swapped Saturday), 12, 13 October.
        let cn = Calendar::china_2026();
        assert_eq!(
            deadline(at(2026, 9, 30, 10, 0), Span::WorkingDays(5), &cn),
            at(2026, 10, 14, 0, 0)
        );
    }

    #[test]
    fn working_hours() {
        let cal = Calendar::default();
        // Friday 16:00 + 4 working hours: 2 on Friday, 2 on Monday → Monday 11:00.
        assert_eq!(
            deadline(at(2026, 11, 27, 16, 0), Span::WorkingHours(4), &cal),
            at(2026, 11, 30, 11, 0)
        );
        // Before opening: starts at 09:00.
        assert_eq!(
            deadline(at(2026, 11, 23, 7, 0), Span::WorkingHours(1), &cal),
            at(2026, 11, 23, 10, 0)
        );
        // After closing: next morning.
        assert_eq!(
            deadline(at(2026, 11, 23, 20, 0), Span::WorkingHours(9), &cal),
            at(2026, 11, 24, 18, 0)
        );
        assert_eq!(
            deadline(at(2026, 11, 28, 3, 0), Span::Hours(24), &cal),
            at(2026, 11, 29, 3, 0)
        );
    }

    #[test]
    fn routing_is_data() {
        assert_eq!(route(Category::Repair, Some("c1"), &[]), OrgKind::Steward);
        assert_eq!(
            route(Category::Noise, Some("c1"), &[]),
            OrgKind::MediationCommittee
        );
        let rules = vec![
            RoutingRule {
                category: Category::Noise,
                org_kind: OrgKind::CoGovernanceTeam,
                community_id: Some("c1".into()),
            },
            RoutingRule {
                category: Category::Noise,
                org_kind: OrgKind::ResidentsCommittee,
                community_id: None,
            },
        ];
        assert_eq!(
            route(Category::Noise, Some("c1"), &rules),
            OrgKind::CoGovernanceTeam
        );
        assert_eq!(
            route(Category::Noise, Some("c2"), &rules),
            OrgKind::ResidentsCommittee
        );
        assert_eq!(
            route(Category::Repair, Some("c1"), &rules),
            OrgKind::Steward
        );
    }

    #[test]
    fn kpi_arithmetic() {
        let c = |status, responded: Option<i64>, resolved: Option<i64>, rating| KpiCase {
            status,
            reported_at: 0,
            responded_at: responded,
            response_due: 10,
            resolved_at: resolved,
            resolution_due: 100,
            rating,
            escalations: 0,
        };
        let cases = vec![
            c(Status::Closed, Some(5), Some(40), Some(5)),
            c(Status::Closed, Some(20), Some(60), Some(2)),
            c(Status::Resolved, Some(1), Some(10), None),
            c(Status::Rejected, Some(1), None, None),
            c(Status::Assigned, Some(3), None, None),
        ];
        let k = kpis(&cases, 200);
        assert_eq!(k.received, 5);
        assert_eq!(k.response_rate, Ratio { num: 4, den: 5 });
        assert_eq!(k.resolution_rate, Ratio { num: 3, den: 4 });
        assert_eq!(k.satisfaction_rate, Ratio { num: 1, den: 2 });
        assert_eq!(k.median_resolve_ms, Some(Ratio { num: 40, den: 1 }));
        assert_eq!((k.overdue, k.open), (1, 1));
        assert_eq!(Ratio { num: 2, den: 3 }.percent(), "66.7%");
        assert_eq!(Ratio { num: 1, den: 8 }.permille(), Some(125));
        assert_eq!(Ratio { num: 0, den: 0 }.percent(), "—");
        let even = kpis(&cases[..2], 0);
        assert_eq!(even.median_resolve_ms, Some(Ratio { num: 100, den: 2 }));
    }

    #[test]
    fn photos() {
        assert_eq!(check_photo(b"\x89PNG\r\n\x1a\nrest"), Ok("image/png"));
        assert_eq!(check_photo(&[0xFF, 0xD8, 0xFF, 0xE0]), Ok("image/jpeg"));
        assert_eq!(check_photo(b"RIFF\0\0\0\0WEBPVP8 "), Ok("image/webp"));
        assert!(check_photo(b"GIF89a").unwrap_err().contains("not a PNG"));
        assert!(check_photo(b"<svg").is_err());
        assert!(check_photo(&[]).is_err());
        let big = [&[0xFF, 0xD8, 0xFF][..], &vec![0u8; MAX_PHOTO_BYTES]].concat();
        assert!(check_photo(&big).unwrap_err().contains("limit"));
    }

    fn cmd() -> impl Strategy<Value = Command> {
        prop_oneof![
            Just(Command::Accept),
            Just(Command::Reject {
                reason: "dup".into()
            }),
            Just(Command::Merge { into: "c0".into() }),
            Just(Command::Assign),
            Just(Command::Start),
            Just(Command::Resolve),
            Just(Command::Verify),
            Just(Command::Close),
            Just(Command::Reopen),
            (0u8..7).prop_map(|stars| Command::Rate { stars }),
            Just(Command::Escalate),
        ]
    }

    proptest! {
        #[test]
        fn no_sequence_reaches_an_invalid_state(cmds in proptest::collection::vec((cmd(), 0i64..(10 * DAY_MS)), 0..60)) {
            let mut s = st();
            let mut now = 0;
            for (c, dt) in cmds {
                now += dt;
                if let Ok(n) = apply(&s, &c, now) {
                    prop_assert!(n.is_consistent(), "{n:?} after {c:?}");
                    prop_assert!(!s.status.is_terminal(), "a terminal state moved");
                    if let Command::Rate { .. } = c { prop_assert_eq!(n.status, Status::Closed) }
                    prop_assert!(n.level.depth() <= s.level.depth());
                    s = n;
                }
            }
        }

        #[test]
        fn deadlines_are_monotone(a in 1_700_000_000_000i64..1_900_000_000_000, d in 0i64..(30 * DAY_MS), n in 0u32..40, which in 0u8..3) {
            let cal = Calendar::china_2026();
            let span = match which { 0 => Span::Hours(n), 1 => Span::WorkingHours(n), _ => Span::WorkingDays(n) };
            let x = deadline(a, span, &cal);
            prop_assert!(x >= a);
            prop_assert!(deadline(a + d, span, &cal) >= x);
            let more = match span { Span::Hours(n) => Span::Hours(n + 1), Span::WorkingHours(n) => Span::WorkingHours(n + 1), Span::WorkingDays(n) => Span::WorkingDays(n + 1) };
            prop_assert!(deadline(a, more, &cal) > x);
        }
    }
}
