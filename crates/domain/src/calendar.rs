//! The working calendar as data: one text file per region and year (national
//! holidays and swapped working days), parsed here, merged into the
//! [`Calendar`] that deadlines count with. The built-in files live in
//! `crates/domain/calendars/` and are compiled in; a deployment adds or
//! corrects a year with a file of the same format in `DATA_DIR/calendars/`
//! (read by the server at start, see `gongzhi_web::calendar`).
//!
//! ```text
//! region cn
//! year 2026
//! holiday 2026-01-01 元旦
//! workday 2026-01-04 元旦调休
//! ```

use crate::cases::{civil_from_days, parse_date, Calendar};
use serde::Serialize;
use std::collections::BTreeMap;

/// The built-in calendar files: (file name, text).
pub const BUILTIN: &[(&str, &str)] = &[("cn-2026.txt", include_str!("../calendars/cn-2026.txt"))];

/// Lines a calendar file may have at the most (a year has 366 days).
const MAX_LINES: usize = 1_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DayKind {
    /// A public holiday: not a working day.
    Holiday,
    /// A weekend day that is worked (调休).
    Workday,
}

/// One listed day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Day {
    /// `YYYY-MM-DD`.
    pub date: String,
    pub kind: DayKind,
    pub name: String,
}

/// One region's year, as its file lists it (days in date order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Year {
    pub region: String,
    pub year: i64,
    pub days: Vec<Day>,
}

/// What is wrong with a calendar file, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarError {
    pub file: String,
    /// 1-based; 0 when the file as a whole is wrong.
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for CalendarError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

impl std::error::Error for CalendarError {}

/// Parses one calendar file. Every day must fall in the declared year, be
/// listed once, and a holiday may not be a swapped working day.
pub fn parse(file: &str, text: &str) -> Result<Year, CalendarError> {
    let err = |line: usize, message: String| CalendarError {
        file: file.to_string(),
        line,
        message,
    };
    let (mut region, mut year) = (None::<String>, None::<i64>);
    let mut days: BTreeMap<i64, Day> = BTreeMap::new();
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        if n > MAX_LINES {
            return Err(err(n, format!("more than {MAX_LINES} lines")));
        }
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut words = line.split_whitespace();
        let head = words.next().unwrap_or_default();
        match head {
            "region" => {
                let r = words.next().unwrap_or_default();
                if r.is_empty()
                    || r.len() > 16
                    || !r.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
                {
                    return Err(err(n, "region: a lowercase code, e.g. `cn`".into()));
                }
                region = Some(r.to_string());
            }
            "year" => {
                let y = words
                    .next()
                    .and_then(|y| y.parse::<i64>().ok())
                    .filter(|y| (1949..=2200).contains(y))
                    .ok_or_else(|| err(n, "year: a year between 1949 and 2200".into()))?;
                year = Some(y);
            }
            "holiday" | "workday" => {
                let y = year.ok_or_else(|| err(n, "a `year` line must come first".into()))?;
                let date = words.next().unwrap_or_default();
                let day = parse_date(date)
                    .ok_or_else(|| err(n, format!("not a date: '{date}' (YYYY-MM-DD)")))?;
                if civil_from_days(day).0 != y {
                    return Err(err(n, format!("{date} is not in {y}")));
                }
                let name: Vec<&str> = words.collect();
                let name = name.join(" ");
                if name.is_empty() || name.chars().count() > 40 {
                    return Err(err(n, "a name of 1 to 40 characters".into()));
                }
                let kind = if head == "holiday" {
                    DayKind::Holiday
                } else {
                    DayKind::Workday
                };
                if days.contains_key(&day) {
                    return Err(err(n, format!("{date} is listed twice")));
                }
                days.insert(
                    day,
                    Day {
                        date: date.to_string(),
                        kind,
                        name,
                    },
                );
            }
            other => {
                return Err(err(
                    n,
                    format!("unknown line '{other}' (expected region, year, holiday or workday)"),
                ))
            }
        }
    }
    let region = region.ok_or_else(|| err(0, "no `region` line".into()))?;
    let year = year.ok_or_else(|| err(0, "no `year` line".into()))?;
    Ok(Year {
        region,
        year,
        days: days.into_values().collect(),
    })
}

impl Calendar {
    /// The built-in calendar (`crates/domain/calendars/*.txt`: 2026's
    /// national holidays and swapped working days), without a data dir's
    /// corrections; a server counts with `gongzhi_web::calendar::current()`.
    pub fn china_2026() -> Calendar {
        to_calendar(&builtin())
    }
}

/// The built-in years, parsed.
pub fn builtin() -> Vec<Year> {
    BUILTIN
        .iter()
        .map(|(f, t)| parse(f, t).unwrap_or_else(|e| panic!("built-in calendar: {e}")))
        .collect()
}

/// `extra` years replace the built-in year of the same region and year, or
/// add to them; the result is sorted by region and year.
pub fn merge(builtin: Vec<Year>, extra: Vec<Year>) -> Vec<Year> {
    let mut by: BTreeMap<(String, i64), Year> = BTreeMap::new();
    for y in builtin.into_iter().chain(extra) {
        by.insert((y.region.clone(), y.year), y);
    }
    by.into_values().collect()
}

/// The working calendar of `years` (every region's listed days).
pub fn to_calendar(years: &[Year]) -> Calendar {
    let mut cal = Calendar::default();
    for y in years {
        for d in &y.days {
            let day = parse_date(&d.date).expect("parsed dates are valid");
            match d.kind {
                DayKind::Holiday => cal.holidays.insert(day),
                DayKind::Workday => cal.workdays.insert(day),
            };
        }
    }
    cal
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_year_is_the_calendar_deadlines_used() {
        let years = builtin();
        assert_eq!(years.len(), 1);
        assert_eq!((years[0].region.as_str(), years[0].year), ("cn", 2026));
        let cal = to_calendar(&years);
        assert_eq!(cal.holidays.len(), 33);
        assert_eq!(cal.workdays.len(), 6);
        // 2026-10-01 a holiday (Thursday), 2026-10-10 a worked Saturday
        assert!(!cal.is_working_day(parse_date("2026-10-01").unwrap()));
        assert!(cal.is_working_day(parse_date("2026-10-10").unwrap()));
        assert!(cal.is_working_day(parse_date("2026-10-09").unwrap()));
        assert!(!cal.is_working_day(parse_date("2026-10-11").unwrap()));
        assert_eq!(years[0].days[0].name, "元旦");
    }

    #[test]
    fn bad_files_name_the_line() {
        let cases = [
            ("holiday 2026-01-01 元旦", 1, "`year` line must come first"),
            (
                "region cn\nyear 2026\nholiday 2026-02-30 x",
                3,
                "not a date",
            ),
            (
                "region cn\nyear 2026\nholiday 2027-01-01 x",
                3,
                "is not in 2026",
            ),
            ("region cn\nyear 2026\nholiday 2026-01-01", 3, "a name"),
            (
                "region cn\nyear 2026\nholiday 2026-01-01 a\nworkday 2026-01-01 b",
                4,
                "listed twice",
            ),
            (
                "region cn\nyear 2026\nfestival 2026-01-01 a",
                3,
                "unknown line",
            ),
            ("region CN\n", 1, "lowercase"),
            ("year 1800\n", 1, "between 1949"),
            ("year 2026\n", 0, "no `region`"),
        ];
        for (text, line, want) in cases {
            let e = parse("t.txt", text).unwrap_err();
            assert_eq!(e.line, line, "{text}: {e}");
            assert!(e.message.contains(want), "{text}: {e}");
            assert!(e.to_string().starts_with(&format!("t.txt:{line}: ")));
        }
    }

    #[test]
    fn a_file_replaces_the_builtin_year_and_adds_others() {
        let fix = parse(
            "cn-2026.txt",
            "region cn\nyear 2026\nholiday 2026-03-02 x\n",
        )
        .unwrap();
        let next = parse(
            "cn-2027.txt",
            "region cn\nyear 2027\nholiday 2027-01-01 元旦\n",
        )
        .unwrap();
        let years = merge(builtin(), vec![next, fix]);
        assert_eq!(
            years.iter().map(|y| y.year).collect::<Vec<_>>(),
            [2026, 2027]
        );
        let cal = to_calendar(&years);
        assert!(!cal.is_working_day(parse_date("2026-03-02").unwrap()));
        // the replaced file's days are gone
        assert!(!cal.holidays.contains(&parse_date("2026-10-01").unwrap()));
        assert!(cal.holidays.contains(&parse_date("2027-01-01").unwrap()));
    }
}
