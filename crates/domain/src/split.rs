//! Splitting an amount of money into parts that always add up to the whole.
//!
//! Dividends from common-part income (Civil Code art. 282) and shared costs
//! (art. 283: "as agreed, otherwise by the share of exclusive area") are split
//! by floor area or equally. Money is integer fen, so an exact proportional
//! split usually leaves fractions of a fen; this module apportions them with
//! the **largest-remainder (Hamilton) method**:
//!
//! 1. every part gets the floor of its exact quota `total × wᵢ / Σw`;
//! 2. the fen still unassigned (fewer than the number of parts) go one each to
//!    the parts with the largest remainders `(total × wᵢ) mod Σw`.
//!
//! **Tie-break** (documented, deterministic): among parts with equal
//! remainders, the part with the **larger weight** gets the fen first; among
//! equal weights, the part with the **earlier index** does. So in an equal
//! split of 100 fen in three, the parts are `[34, 33, 33]`.
//!
//! Guarantees: the parts sum to `total` exactly; each part is the floor or the
//! floor + 1 of its exact quota (a quota that is a whole number of fen is paid
//! exactly, and a part of weight 0 gets 0). All intermediate arithmetic is in
//! `i128`; there is no floating point.

use std::cmp::Ordering;

/// Why a split was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SplitError {
    #[error("cannot split among zero parts: the list of weights is empty")]
    NoParts,
    #[error("weights[{index}]: weight {weight} is negative; weights must be zero or more")]
    NegativeWeight { index: usize, weight: i64 },
    #[error("all {count} weights are zero: there is nothing to split by")]
    AllZeroWeights { count: usize },
    #[error("total {total} fen is negative; only amounts of zero or more can be split")]
    NegativeTotal { total: i64 },
}

/// Splits `total` fen into `weights.len()` parts proportional to `weights`
/// (areas in hundredths of m², or all 1 for an equal split) by the
/// largest-remainder method.
///
/// Tie-break among equal remainders: larger weight first, then earlier index.
///
/// ```
/// use gongzhi_domain::split::split_by_weights;
/// // 10 fen by weights 1:1:1 → the first part gets the odd fen.
/// assert_eq!(split_by_weights(10, &[1, 1, 1]).unwrap(), vec![4, 3, 3]);
/// ```
///
/// Errors: empty `weights`, a negative weight, all weights zero, a negative
/// `total`.
pub fn split_by_weights(total: i64, weights: &[i64]) -> Result<Vec<i64>, SplitError> {
    if weights.is_empty() {
        return Err(SplitError::NoParts);
    }
    if total < 0 {
        return Err(SplitError::NegativeTotal { total });
    }
    if let Some((index, &weight)) = weights.iter().enumerate().find(|(_, w)| **w < 0) {
        return Err(SplitError::NegativeWeight { index, weight });
    }
    // At most usize::MAX weights of at most i64::MAX each: fits easily in i128.
    let sum: i128 = weights.iter().map(|&w| i128::from(w)).sum();
    if sum == 0 {
        return Err(SplitError::AllZeroWeights {
            count: weights.len(),
        });
    }
    let total_i = i128::from(total);

    let mut parts: Vec<i64> = Vec::with_capacity(weights.len());
    let mut remainders: Vec<i128> = Vec::with_capacity(weights.len());
    let mut assigned: i128 = 0;
    for &w in weights {
        let product = total_i * i128::from(w); // ≤ i64::MAX², fits in i128
        let floor = product / sum; // both non-negative: truncation is floor
        assigned += floor;
        // floor ≤ total because w ≤ sum, so it fits in i64.
        parts.push(floor as i64);
        remainders.push(product % sum);
    }
    // Σ remainders = (total − assigned) × sum and each remainder < sum, so
    // the leftover is smaller than the number of parts with a non-zero
    // remainder: parts with an exact quota (and weight-0 parts) never get +1.
    let leftover = (total_i - assigned) as usize;

    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|&a, &b| tie_break(a, b, &remainders, weights));
    for &i in order.iter().take(leftover) {
        parts[i] += 1;
    }
    Ok(parts)
}

/// Orders parts for the extra fen: larger remainder, then larger weight, then
/// earlier index.
fn tie_break(a: usize, b: usize, remainders: &[i128], weights: &[i64]) -> Ordering {
    remainders[b]
        .cmp(&remainders[a])
        .then(weights[b].cmp(&weights[a]))
        .then(a.cmp(&b))
}

/// Splits `total` fen into `n` equal parts; the odd fen go to the earliest
/// parts (the tie-break of [`split_by_weights`] with all weights 1).
///
/// ```
/// use gongzhi_domain::split::split_equally;
/// assert_eq!(split_equally(100, 3).unwrap(), vec![34, 33, 33]);
/// ```
pub fn split_equally(total: i64, n: usize) -> Result<Vec<i64>, SplitError> {
    if n == 0 {
        return Err(SplitError::NoParts);
    }
    split_by_weights(total, &vec![1; n])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::{Area, Fen};
    use proptest::prelude::*;

    #[test]
    fn chengdu_shop_gets_exactly_288_yuan() {
        // Report 002: a 72 m² shop at 4 yuan/m² receives 288 yuan. When the
        // pot is exactly 4 yuan × total area, every part gets area × 4 yuan.
        let areas = [
            Area::parse("72.00").unwrap().0,
            Area::parse("89.50").unwrap().0,
            Area::parse("120.37").unwrap().0,
            Area::parse("65.01").unwrap().0,
        ];
        let total_area: i64 = areas.iter().sum(); // hundredths of m²
                                                  // 4 yuan/m² = 400 fen per m² = 4 fen per hundredth of m².
        let total = total_area * 4;
        let parts = split_by_weights(total, &areas).unwrap();
        assert_eq!(parts[0], 28_800);
        assert_eq!(Fen(parts[0]).to_string(), "288.00");
        assert_eq!(parts, vec![28_800, 35_800, 48_148, 26_004]);
        assert_eq!(parts.iter().sum::<i64>(), total);
    }

    #[test]
    fn equal_split_gives_odd_fen_to_earliest() {
        assert_eq!(split_equally(100, 3).unwrap(), vec![34, 33, 33]);
        assert_eq!(split_equally(101, 3).unwrap(), vec![34, 34, 33]);
        assert_eq!(split_equally(99, 3).unwrap(), vec![33, 33, 33]);
        assert_eq!(split_equally(2, 5).unwrap(), vec![1, 1, 0, 0, 0]);
        assert_eq!(split_equally(0, 4).unwrap(), vec![0, 0, 0, 0]);
        assert_eq!(split_equally(7, 1).unwrap(), vec![7]);
    }

    #[test]
    fn largest_remainder_wins_before_weight() {
        // 10 by 1:2:3 → quotas 10/6, 20/6, 30/6 = 1.67, 3.33, 5 → floors 1, 3, 5
        // leftover 1 → remainder 4 (part 0) beats 2 (part 1).
        assert_eq!(split_by_weights(10, &[1, 2, 3]).unwrap(), vec![2, 3, 5]);
    }

    #[test]
    fn equal_remainders_go_to_larger_weight_then_earlier_index() {
        // 1 fen by 1:3 → quotas 0.25, 0.75: largest remainder (part 1).
        assert_eq!(split_by_weights(1, &[1, 3]).unwrap(), vec![0, 1]);
        // 3 fen by 2:4:2 (sum 8) → quotas 0.75, 1.5, 0.75 → floors 0,1,0;
        // remainders 6, 4, 6: leftover 2 → parts 0 and 2 (equal remainder 6).
        assert_eq!(split_by_weights(3, &[2, 4, 2]).unwrap(), vec![1, 1, 1]);
        // 1 fen by 1:2:2:1 (sum 6) → remainders 1, 2, 2, 1 → tie between
        // parts 1 and 2 (same weight) → earlier index 1.
        assert_eq!(
            split_by_weights(1, &[1, 2, 2, 1]).unwrap(),
            vec![0, 1, 0, 0]
        );
        // Equal remainders, different weights: 5 fen by 1:6:3 (sum 10) →
        // products 5, 30, 15 → floors 0, 3, 1, leftover 1; remainders 5, 0, 5
        // → the tie between parts 0 and 2 goes to the larger weight (part 2).
        assert_eq!(split_by_weights(5, &[1, 6, 3]).unwrap(), vec![0, 3, 2]);
    }

    #[test]
    fn zero_weight_gets_nothing() {
        assert_eq!(
            split_by_weights(10, &[0, 1, 0, 1]).unwrap(),
            vec![0, 5, 0, 5]
        );
        assert_eq!(
            split_by_weights(3, &[0, 1, 0, 1]).unwrap(),
            vec![0, 2, 0, 1]
        );
    }

    #[test]
    fn refuses_bad_input_and_says_why() {
        assert_eq!(split_by_weights(10, &[]), Err(SplitError::NoParts));
        assert_eq!(split_equally(10, 0), Err(SplitError::NoParts));
        assert_eq!(
            split_by_weights(10, &[3, -1]),
            Err(SplitError::NegativeWeight {
                index: 1,
                weight: -1
            })
        );
        assert_eq!(
            split_by_weights(10, &[0, 0]),
            Err(SplitError::AllZeroWeights { count: 2 })
        );
        assert_eq!(
            split_by_weights(-1, &[1]),
            Err(SplitError::NegativeTotal { total: -1 })
        );
        assert_eq!(
            SplitError::NegativeWeight {
                index: 1,
                weight: -1
            }
            .to_string(),
            "weights[1]: weight -1 is negative; weights must be zero or more"
        );
    }

    #[test]
    fn extreme_values_do_not_overflow() {
        let parts = split_by_weights(i64::MAX, &[i64::MAX, i64::MAX, 1]).unwrap();
        assert_eq!(
            parts.iter().map(|&p| i128::from(p)).sum::<i128>(),
            i128::from(i64::MAX)
        );
        let parts = split_equally(i64::MAX, 7).unwrap();
        assert_eq!(
            parts.iter().map(|&p| i128::from(p)).sum::<i128>(),
            i128::from(i64::MAX)
        );
    }

    proptest! {
        #[test]
        fn parts_sum_to_total_and_stay_within_floor_and_ceil(
            total in 0i64..=10_000_000_000,
            weights in prop::collection::vec(0i64..1_000_000, 1..40),
        ) {
            prop_assume!(weights.iter().any(|&w| w > 0));
            let parts = split_by_weights(total, &weights).unwrap();
            prop_assert_eq!(parts.len(), weights.len());
            prop_assert_eq!(parts.iter().sum::<i64>(), total);
            let sum: i128 = weights.iter().map(|&w| i128::from(w)).sum();
            for (p, w) in parts.iter().zip(&weights) {
                // floor(q) ≤ p ≤ ceil(q) where q = total × w / sum,
                // i.e. p × sum ≤ total × w + sum − 1 and p × sum ≥ total × w − sum + 1.
                let exact = i128::from(total) * i128::from(*w);
                let p = i128::from(*p);
                prop_assert!(p * sum > exact - sum, "part {} below floor of quota", p);
                prop_assert!(p * sum < exact + sum, "part {} above ceil of quota", p);
                if exact % sum == 0 {
                    prop_assert_eq!(p * sum, exact);
                }
            }
        }

        #[test]
        fn split_is_deterministic_and_follows_the_weights(
            total in 0i64..=1_000_000_000,
            weights in prop::collection::vec(1i64..10_000, 1..30),
        ) {
            let a = split_by_weights(total, &weights).unwrap();
            let b = split_by_weights(total, &weights).unwrap();
            prop_assert_eq!(&a, &b);
            // Monotone: a strictly larger weight never gets less.
            for i in 0..weights.len() {
                for j in 0..weights.len() {
                    if weights[i] > weights[j] {
                        prop_assert!(a[i] >= a[j]);
                    }
                    if weights[i] == weights[j] && i < j {
                        prop_assert!(a[i] >= a[j] && a[i] - a[j] <= 1);
                    }
                }
            }
        }

        #[test]
        fn equal_split_differs_by_at_most_one(total in 0i64..=1_000_000_000, n in 1usize..200) {
            let parts = split_equally(total, n).unwrap();
            prop_assert_eq!(parts.iter().sum::<i64>(), total);
            let max = *parts.iter().max().unwrap();
            let min = *parts.iter().min().unwrap();
            prop_assert!(max - min <= 1);
            // Non-increasing: the odd fen go to the earliest parts.
            prop_assert!(parts.windows(2).all(|w| w[0] >= w[1]));
        }
    }
}
