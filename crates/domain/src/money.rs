//! Money in integer fen and areas in integer hundredths of a square metre.
//!
//! Nothing in Gongzhi holds money or area in floating point. Both types parse
//! from and print to decimal strings with exactly two decimals ("89.50").

use serde::{Deserialize, Serialize};
use std::fmt;

/// An amount of money in fen (0.01 yuan). May be negative (a balance change).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Fen(pub i64);

/// A floor area in hundredths of a square metre. Never negative.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Area(pub i64);

/// Why a decimal string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecimalError {
    #[error("is empty")]
    Empty,
    #[error("'{0}' is not a decimal number")]
    NotANumber(String),
    #[error("'{0}' has more than two decimals")]
    TooManyDecimals(String),
    #[error("'{0}' is too large")]
    TooLarge(String),
    #[error("'{0}' is negative")]
    Negative(String),
    #[error("'{0}' must be greater than zero")]
    Zero(String),
}

/// Parses a decimal string with at most two decimals into hundredths.
/// Accepts an optional leading '-'; no exponent, no thousands separators.
pub fn parse_hundredths(s: &str) -> Result<i64, DecimalError> {
    let t = s.trim();
    if t.is_empty() {
        return Err(DecimalError::Empty);
    }
    let (neg, body) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let (int_part, frac_part) = match body.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (body, None),
    };
    let bad = || DecimalError::NotANumber(t.to_string());
    if int_part.is_empty() && frac_part.is_none_or(str::is_empty) {
        return Err(bad());
    }
    if !int_part.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let frac = frac_part.unwrap_or("");
    if frac_part.is_some() && frac.is_empty() {
        return Err(bad());
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    if frac.len() > 2 {
        return Err(DecimalError::TooManyDecimals(t.to_string()));
    }
    let too_large = || DecimalError::TooLarge(t.to_string());
    let whole: i64 = if int_part.is_empty() {
        0
    } else {
        int_part.parse().map_err(|_| too_large())?
    };
    let mut cents: i64 = 0;
    for (i, b) in frac.bytes().enumerate() {
        let d = i64::from(b - b'0');
        cents += if i == 0 { d * 10 } else { d };
    }
    let v = whole
        .checked_mul(100)
        .and_then(|w| w.checked_add(cents))
        .ok_or_else(too_large)?;
    Ok(if neg { -v } else { v })
}

/// Formats hundredths as a decimal string with exactly two decimals.
pub fn format_hundredths(v: i64) -> String {
    let sign = if v < 0 { "-" } else { "" };
    let a = v.unsigned_abs();
    format!("{sign}{}.{:02}", a / 100, a % 100)
}

impl Fen {
    pub fn parse(s: &str) -> Result<Fen, DecimalError> {
        parse_hundredths(s).map(Fen)
    }
    pub fn yuan(y: i64) -> Fen {
        Fen(y * 100)
    }
}

impl fmt::Display for Fen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_hundredths(self.0))
    }
}

impl Area {
    /// Parses an area: strictly positive, at most two decimals.
    pub fn parse(s: &str) -> Result<Area, DecimalError> {
        let v = parse_hundredths(s)?;
        if v < 0 {
            return Err(DecimalError::Negative(s.trim().to_string()));
        }
        if v == 0 {
            return Err(DecimalError::Zero(s.trim().to_string()));
        }
        Ok(Area(v))
    }
}

impl fmt::Display for Area {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_hundredths(self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_and_refuses() {
        assert_eq!(Area::parse("89.5"), Ok(Area(8950)));
        assert_eq!(Area::parse("89.50"), Ok(Area(8950)));
        assert_eq!(Area::parse("72"), Ok(Area(7200)));
        assert_eq!(Area::parse(" 0.01 "), Ok(Area(1)));
        assert!(matches!(
            Area::parse("1.234"),
            Err(DecimalError::TooManyDecimals(_))
        ));
        assert!(matches!(Area::parse("-3"), Err(DecimalError::Negative(_))));
        assert!(matches!(Area::parse("0.00"), Err(DecimalError::Zero(_))));
        assert!(matches!(Area::parse(""), Err(DecimalError::Empty)));
        assert!(matches!(
            Area::parse("1e3"),
            Err(DecimalError::NotANumber(_))
        ));
        assert!(matches!(
            Area::parse("12."),
            Err(DecimalError::NotANumber(_))
        ));
        assert!(matches!(Area::parse("."), Err(DecimalError::NotANumber(_))));
        assert!(matches!(
            Area::parse("1,000"),
            Err(DecimalError::NotANumber(_))
        ));
        assert!(matches!(
            Area::parse("99999999999999999999"),
            Err(DecimalError::TooLarge(_))
        ));
        assert_eq!(Fen::parse("-0.05"), Ok(Fen(-5)));
        assert_eq!(Fen(-5).to_string(), "-0.05");
        assert_eq!(Fen(28800).to_string(), "288.00");
    }

    proptest! {
        #[test]
        fn format_then_parse_round_trips(v in -1_000_000_000_000i64..1_000_000_000_000i64) {
            prop_assert_eq!(parse_hundredths(&format_hundredths(v)), Ok(v));
        }
    }
}
