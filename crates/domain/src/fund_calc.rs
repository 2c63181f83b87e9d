//! The fund's arithmetic: fees by area × rate, dividends by area, the
//! steward's remuneration. Integer fen only.

use crate::split::{split_by_weights, SplitError};

/// A billing period: `YYYY-MM`, month 01 to 12.
pub fn valid_period(p: &str) -> bool {
    let b = p.as_bytes();
    b.len() == 7
        && b[4] == b'-'
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[5..].iter().all(u8::is_ascii_digit)
        && matches!(
            &p[5..],
            "01" | "02" | "03" | "04" | "05" | "06" | "07" | "08" | "09" | "10" | "11" | "12"
        )
}

/// The fee of one part for one period: `area (hundredths of m²) × rate (fen
/// per m² per period) / 100`, rounded half up to the fen.
///
/// ```
/// use gongzhi_domain::fund_calc::fee;
/// // 89.50 m² at 1.50 yuan/m² = 134.25 yuan
/// assert_eq!(fee(8950, 150), 13425);
/// // 90.25 m² at 1.55 yuan/m² = 139.8875 → 139.89
/// assert_eq!(fee(9025, 155), 13989);
/// ```
pub fn fee(area_centi: i64, rate_fen_per_m2: i64) -> i64 {
    let v = i128::from(area_centi.max(0)) * i128::from(rate_fen_per_m2.max(0));
    ((v + 50) / 100) as i64
}

/// A dividend of `total` fen shared by area among parts, by the largest
/// remainder: the parts sum to `total` exactly.
pub fn dividend_by_area(total: i64, areas_centi: &[i64]) -> Result<Vec<i64>, SplitError> {
    split_by_weights(total, areas_centi)
}

/// The dividend that pays exactly `rate` fen per m² to every part: the
/// total to distribute (each part's share is then its exact quota).
pub fn dividend_total_at_rate(areas_centi: &[i64], rate_fen_per_m2: i64) -> i64 {
    areas_centi.iter().map(|a| fee(*a, rate_fen_per_m2)).sum()
}

/// The steward's remuneration under the trust model (酬金制): `basis_points`
/// (1/100 of a percent) of the period's fee income, rounded down.
pub fn remuneration(fee_income: i64, basis_points: i64) -> i64 {
    (i128::from(fee_income.max(0)) * i128::from(basis_points.clamp(0, 10_000)) / 10_000) as i64
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// China Standard Time offset (UTC+8) in milliseconds: the books' days,
/// months and years are those of the compound.
pub const CST_MS: i64 = 8 * 3_600_000;

/// `[start, end)` in ms since the epoch of a calendar year in China time.
pub fn year_bounds_ms(year: i32) -> (i64, i64) {
    let start = days_from_civil(i64::from(year), 1, 1) * 86_400_000 - CST_MS;
    let end = days_from_civil(i64::from(year) + 1, 1, 1) * 86_400_000 - CST_MS;
    (start, end)
}

/// The calendar year (China time) of an instant (ms since the epoch; from 2000).
pub fn year_of_ms(ms: i64) -> i32 {
    let mut y = 2000;
    while year_bounds_ms(y + 1).0 <= ms {
        y += 1;
    }
    y
}

/// `[start, end)` in ms of a month `YYYY-MM` in China time.
pub fn month_bounds_ms(year: i32, month: u32) -> (i64, i64) {
    let (ny, nm) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    (
        days_from_civil(i64::from(year), month, 1) * 86_400_000 - CST_MS,
        days_from_civil(i64::from(ny), nm, 1) * 86_400_000 - CST_MS,
    )
}

/// One category's budget against what was spent.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BudgetVsActual {
    pub category: crate::ledger::AccountCode,
    pub budget: i64,
    pub actual: i64,
    /// budget − actual (negative: over budget).
    pub remaining: i64,
    /// actual / budget in basis points (None for a zero budget).
    pub used_bp: Option<i64>,
}

/// Budget vs actual per category: every budgeted category, then any
/// category with spending but no budget line (budget 0), in chart order.
pub fn budget_vs_actual(
    budget: &[(crate::ledger::AccountCode, i64)],
    actual: &[(crate::ledger::AccountCode, i64)],
) -> Vec<BudgetVsActual> {
    use std::collections::BTreeMap;
    let mut m: BTreeMap<crate::ledger::AccountCode, (i64, i64)> = BTreeMap::new();
    for (c, a) in budget {
        m.entry(*c).or_default().0 += a;
    }
    for (c, a) in actual {
        if *a != 0 || m.contains_key(c) {
            m.entry(*c).or_default().1 += a;
        }
    }
    m.into_iter()
        .map(|(category, (budget, actual))| BudgetVsActual {
            category,
            budget,
            actual,
            remaining: budget - actual,
            used_bp: (budget > 0)
                .then(|| (i128::from(actual) * 10_000 / i128::from(budget)) as i64),
        })
        .collect()
}

/// How often the maintenance fund is audited (Pingli: every 3 years).
pub const AUDIT_EVERY_YEARS: i64 = 3;

/// Parses `YYYY-MM-DD` (a real calendar date) into days since 1970-01-01.
pub fn parse_date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y: i64 = s[..4].parse().ok()?;
    let m: u32 = s[5..7].parse().ok()?;
    let d: u32 = s[8..].parse().ok()?;
    if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
        return None;
    }
    Some(days_from_civil(y, m, d))
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// The day (since 1970-01-01) an audit done on `day` falls due again:
/// the same date `AUDIT_EVERY_YEARS` later (29 February → 1 March).
pub fn audit_due_on(day: i64) -> i64 {
    let (y, m, d) = civil_from_days(day);
    let y2 = y + AUDIT_EVERY_YEARS;
    if d > days_in_month(y2, m) {
        days_from_civil(y2, m, days_in_month(y2, m)) + 1
    } else {
        days_from_civil(y2, m, d)
    }
}

/// (year, month, day) of a day number (Howard Hinnant's civil_from_days).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// The day number (China time) of a millisecond timestamp.
pub fn day_of_ms(ms: i64) -> i64 {
    (ms + CST_MS).div_euclid(86_400_000)
}

/// `YYYY-MM-DD` of a millisecond timestamp in China time (UTC+8).
pub fn date_of_ms(ms: i64) -> String {
    let (y, m, d) = civil_from_days(day_of_ms(ms));
    format!("{y:04}-{m:02}-{d:02}")
}

/// Whether the maintenance fund's audit is due on `today`: the last
/// recorded audit is at least three years old — or there is none at all.
pub fn audit_due(last_audit_day: Option<i64>, today: i64) -> bool {
    match last_audit_day {
        None => true,
        Some(d) => today >= audit_due_on(d),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn calendar_bounds_in_china_time() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        let (s, e) = year_bounds_ms(2026);
        // 2026-01-01 00:00 CST is 2025-12-31 16:00 UTC
        assert_eq!(s, 1_767_225_600_000 - CST_MS);
        assert_eq!(e - s, 365 * 86_400_000);
        let (ms, me) = month_bounds_ms(2024, 2);
        assert_eq!(me - ms, 29 * 86_400_000, "leap February");
        assert_eq!(month_bounds_ms(2026, 12).1, year_bounds_ms(2027).0);
    }

    #[test]
    fn the_audit_falls_due_after_three_years() {
        let d = |s: &str| parse_date(s).unwrap();
        assert_eq!(civil_from_days(d("2023-06-30")), (2023, 6, 30));
        assert!(!audit_due(Some(d("2023-06-30")), d("2026-06-29")));
        assert!(
            audit_due(Some(d("2023-06-30")), d("2026-06-30")),
            "three years is due"
        );
        assert!(audit_due(Some(d("2020-01-01")), d("2026-06-30")));
        assert!(audit_due(None, d("2026-06-30")), "never audited");
        assert_eq!(audit_due_on(d("2024-02-29")), d("2027-03-01"));
        assert_eq!(parse_date("2026-02-29"), None);
        assert_eq!(parse_date("2026-13-01"), None);
        assert_eq!(parse_date("26-01-01"), None);
        assert_eq!(day_of_ms(year_bounds_ms(2026).0), d("2026-01-01"));
    }

    #[test]
    fn budget_against_actual() {
        use crate::ledger::AccountCode::*;
        let r = budget_vs_actual(
            &[(ExpenseRepair, 100_000), (ExpenseCleaning, 50_000)],
            &[
                (ExpenseRepair, 25_000),
                (ExpenseOther, 300),
                (ExpenseGreening, 0),
            ],
        );
        assert_eq!(r.len(), 3);
        // chart order: repair, cleaning, …, other
        assert_eq!(r[0].category, ExpenseRepair);
        assert_eq!(
            (r[0].actual, r[0].remaining, r[0].used_bp),
            (25_000, 75_000, Some(2500))
        );
        assert_eq!(r[1].category, ExpenseCleaning);
        assert_eq!(
            (r[1].actual, r[1].remaining, r[1].used_bp),
            (0, 50_000, Some(0))
        );
        assert_eq!(r[2].category, ExpenseOther);
        assert_eq!((r[2].budget, r[2].remaining, r[2].used_bp), (0, -300, None));
    }

    #[test]
    fn the_shop_gets_288_yuan() {
        // a 72.00 m² shop at 4 yuan/m²
        assert_eq!(fee(7200, 400), 288_00);
        let areas = [7200, 8950, 9025, 12_000];
        let total = dividend_total_at_rate(&areas, 400);
        let parts = dividend_by_area(total, &areas).unwrap();
        assert_eq!(parts, vec![288_00, 358_00, 361_00, 480_00]);
        assert_eq!(remuneration(1_000_000, 1000), 100_000);
        assert_eq!(remuneration(999, 1000), 99);
    }

    proptest! {
        #[test]
        fn dividends_sum_to_the_total(total in 0i64..1_000_000_000, areas in proptest::collection::vec(1i64..100_000, 1..300)) {
            let parts = dividend_by_area(total, &areas).unwrap();
            prop_assert_eq!(parts.iter().sum::<i64>(), total);
        }
    }
}
