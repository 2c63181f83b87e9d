//! The fund's arithmetic: fees by area × rate, dividends by area, the
//! steward's remuneration. Integer fen only.

use crate::split::{split_by_weights, SplitError};

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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

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
