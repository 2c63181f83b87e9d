//! Validation of roster rows: the CSV that brings a compound's parts and owners
//! of record into the register (`gongzhi import roster`).
//!
//! Rows are numbered as a spreadsheet shows them: the header is row 1, the
//! first data row is row 2. Every problem is reported as `row N: field: reason`,
//! and a file with any problem is refused whole.

use crate::mask::valid_phone;
use crate::money::Area;
use crate::place::{AreaBasis, OwnerKind, PartKind};
use std::collections::HashMap;
use std::fmt;

/// The columns of a roster, in the order the documentation lists them.
pub const COLUMNS: [&str; 13] = [
    "district",
    "street",
    "community",
    "compound",
    "building",
    "unit",
    "number",
    "kind",
    "area_m2",
    "area_basis",
    "owner_key",
    "owner_name",
    "phone",
];
/// Optional column: person (default), co_owners, company or developer.
pub const OPTIONAL_COLUMNS: [&str; 1] = ["owner_kind"];

/// Longest accepted text in any field, in characters (bounds everything we store).
pub const MAX_FIELD_CHARS: usize = 100;
/// A header wider than this (columns, or bytes of names) is not a roster.
pub const MAX_HEADER_COLUMNS: usize = 64;
pub const MAX_HEADER_BYTES: usize = 4096;

/// One problem in a roster, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub row: usize,
    pub field: String,
    pub reason: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "row {}: {}: {}", self.row, self.field, self.reason)
    }
}

/// Where each column sits in this file's header.
#[derive(Debug, Clone)]
pub struct Header {
    index: [usize; 13],
    owner_kind: Option<usize>,
    /// How many columns the header has: a row with more is refused.
    width: usize,
}

impl Header {
    /// Maps a header row (any order; a UTF-8 BOM on the first name is ignored).
    pub fn parse(names: &[&str]) -> Result<Header, Vec<RowError>> {
        let bytes: usize = names.iter().map(|n| n.len() + 1).sum();
        if names.len() > MAX_HEADER_COLUMNS || bytes > MAX_HEADER_BYTES {
            return Err(vec![RowError {
                row: 1,
                field: "header".into(),
                reason: format!(
                    "is too wide ({} columns, {bytes} bytes; at most {MAX_HEADER_COLUMNS} columns and {MAX_HEADER_BYTES} bytes)",
                    names.len()
                ),
            }]);
        }
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut errors = Vec::new();
        for (i, raw) in names.iter().enumerate() {
            let name = raw
                .trim_start_matches('\u{feff}')
                .trim()
                .to_ascii_lowercase();
            if let Some(prev) = seen.insert(name.clone(), i) {
                errors.push(RowError {
                    row: 1,
                    field: name.clone(),
                    reason: format!("column appears twice (columns {} and {})", prev + 1, i + 1),
                });
            }
        }
        let mut index = [0usize; 13];
        for (k, col) in COLUMNS.iter().enumerate() {
            match seen.get(*col) {
                Some(&i) => index[k] = i,
                None => errors.push(RowError {
                    row: 1,
                    field: (*col).to_string(),
                    reason: "missing column in header".into(),
                }),
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Header {
            index,
            owner_kind: seen.get("owner_kind").copied(),
            width: names.len(),
        })
    }
}

/// A valid roster row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterRow {
    pub row: usize,
    pub district: String,
    pub street: String,
    pub community: String,
    pub compound: String,
    pub building: String,
    /// Empty for parts directly under a building (shops, parking).
    pub unit: String,
    pub number: String,
    pub kind: PartKind,
    pub area: Area,
    pub area_basis: AreaBasis,
    pub owner_key: String,
    pub owner_name: String,
    pub owner_kind: OwnerKind,
    /// Empty when none was given.
    pub phone: String,
}

impl RosterRow {
    /// The part's identity across imports: its place path and number.
    pub fn part_key(&self) -> String {
        part_key(
            &[
                &self.district,
                &self.street,
                &self.community,
                &self.compound,
                &self.building,
                &self.unit,
            ],
            &self.number,
        )
    }
    /// The place names from district down to unit (unit may be empty).
    pub fn place_path(&self) -> [&str; 6] {
        [
            &self.district,
            &self.street,
            &self.community,
            &self.compound,
            &self.building,
            &self.unit,
        ]
    }
}

/// The natural key of a part: place names and number joined by U+001F, which
/// cannot appear in a validated field.
pub fn part_key(places: &[&str], number: &str) -> String {
    let mut s = places.join("\u{1f}");
    s.push('\u{1f}');
    s.push_str(number);
    s
}

/// The natural key of a place from its path of names.
pub fn place_key(names: &[&str]) -> String {
    names.join("\u{1f}")
}

fn text(row: usize, field: &str, v: &str, required: bool, errors: &mut Vec<RowError>) -> String {
    let t = v.trim();
    if required && t.is_empty() {
        errors.push(RowError {
            row,
            field: field.into(),
            reason: "is empty".into(),
        });
    } else if t.chars().count() > MAX_FIELD_CHARS {
        errors.push(RowError {
            row,
            field: field.into(),
            reason: format!("is longer than {MAX_FIELD_CHARS} characters"),
        });
    } else if t.chars().any(|c| c.is_control()) {
        errors.push(RowError {
            row,
            field: field.into(),
            reason: "contains a control character".into(),
        });
    }
    t.to_string()
}

/// Validates one data row. `row` is its spreadsheet row number.
pub fn validate_row(
    header: &Header,
    row: usize,
    fields: &[&str],
) -> Result<RosterRow, Vec<RowError>> {
    let mut errors = Vec::new();
    let get = |k: usize| fields.get(header.index[k]).copied().unwrap_or("");
    if fields.len() > header.width {
        errors.push(RowError {
            row,
            field: "row".into(),
            reason: format!(
                "has {} fields, the header has only {}",
                fields.len(),
                header.width
            ),
        });
        return Err(errors);
    }
    if fields.len() < header.index.iter().max().map_or(0, |m| m + 1) {
        errors.push(RowError {
            row,
            field: "row".into(),
            reason: format!("has {} fields, the header has more", fields.len()),
        });
        return Err(errors);
    }
    let district = text(row, "district", get(0), true, &mut errors);
    let street = text(row, "street", get(1), true, &mut errors);
    let community = text(row, "community", get(2), true, &mut errors);
    let compound = text(row, "compound", get(3), true, &mut errors);
    let building = text(row, "building", get(4), true, &mut errors);
    let unit = text(row, "unit", get(5), false, &mut errors);
    let number = text(row, "number", get(6), true, &mut errors);
    let kind_s = get(7).trim();
    let kind = PartKind::parse(kind_s);
    if kind.is_none() {
        let reason = if kind_s.is_empty() {
            "is empty".to_string()
        } else {
            format!("unknown kind '{kind_s}' (expected {})", PartKind::choices())
        };
        errors.push(RowError {
            row,
            field: "kind".into(),
            reason,
        });
    }
    let area = match Area::parse(get(8)) {
        Ok(a) => Some(a),
        Err(e) => {
            errors.push(RowError {
                row,
                field: "area_m2".into(),
                reason: e.to_string(),
            });
            None
        }
    };
    let basis_s = get(9).trim();
    let area_basis = AreaBasis::parse(basis_s);
    if area_basis.is_none() {
        let reason = if basis_s.is_empty() {
            "is empty".to_string()
        } else {
            format!(
                "unknown basis '{basis_s}' (expected {})",
                AreaBasis::choices()
            )
        };
        errors.push(RowError {
            row,
            field: "area_basis".into(),
            reason,
        });
    }
    let owner_key = text(row, "owner_key", get(10), true, &mut errors);
    let owner_name = text(row, "owner_name", get(11), true, &mut errors);
    let phone = get(12).trim().to_string();
    if !phone.is_empty() && !valid_phone(&phone) {
        errors.push(RowError {
            row,
            field: "phone".into(),
            reason: format!("'{phone}' is not a phone number"),
        });
    }
    let owner_kind = match header
        .owner_kind
        .map(|i| fields.get(i).copied().unwrap_or("").trim())
    {
        None | Some("") => Some(OwnerKind::Person),
        Some(s) => {
            let k = OwnerKind::parse(s);
            if k.is_none() {
                errors.push(RowError {
                    row,
                    field: "owner_kind".into(),
                    reason: format!(
                        "unknown owner kind '{s}' (expected {})",
                        OwnerKind::choices()
                    ),
                });
            }
            k
        }
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(RosterRow {
        row,
        district,
        street,
        community,
        compound,
        building,
        unit,
        number,
        kind: kind.expect("checked above"),
        area: area.expect("checked above"),
        area_basis: area_basis.expect("checked above"),
        owner_key,
        owner_name,
        owner_kind: owner_kind.expect("checked above"),
        phone,
    })
}

/// The row (spreadsheet numbering, the header is row 1) where a quoted field
/// opens and never closes, if one does. Quotes open a field only at its
/// start (RFC 4180); `""` inside a quoted field is a quote.
pub fn unclosed_quote(text: &str) -> Option<usize> {
    let (mut row, mut opened_at) = (1usize, 0usize);
    let (mut quoted, mut at_start) = (false, true);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                }
                '"' => quoted = false,
                '\n' => row += 1,
                _ => {}
            }
            continue;
        }
        match c {
            '"' if at_start => {
                quoted = true;
                opened_at = row;
            }
            '\n' => row += 1,
            _ => {}
        }
        at_start = matches!(c, ',' | '\n' | '\r');
    }
    quoted.then_some(opened_at)
}

/// A cell as it is written to any CSV export: text beginning with `=`, `+`,
/// `-`, `@`, a tab or a carriage return is prefixed with `'` (OWASP), so a
/// spreadsheet shows it as text instead of evaluating it as a formula.
pub fn csv_cell(v: &str) -> std::borrow::Cow<'_, str> {
    if v.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        std::borrow::Cow::Owned(format!("'{v}"))
    } else {
        std::borrow::Cow::Borrowed(v)
    }
}

/// Checks rows against each other: a part may appear once, and one owner key
/// names one owner (same name and kind everywhere it appears).
#[derive(Default)]
pub struct CrossCheck {
    parts: HashMap<String, usize>,
    owners: HashMap<String, (String, crate::place::OwnerKind, usize)>,
}

impl CrossCheck {
    pub fn check(&mut self, r: &RosterRow) -> Vec<RowError> {
        let mut errors = Vec::new();
        if let Some(first) = self.parts.insert(r.part_key(), r.row) {
            self.parts.insert(r.part_key(), first);
            errors.push(RowError {
                row: r.row,
                field: "number".into(),
                reason: format!("duplicate part '{}' (first at row {first})", r.number),
            });
        }
        match self.owners.get(&r.owner_key) {
            None => {
                self.owners.insert(
                    r.owner_key.clone(),
                    (r.owner_name.clone(), r.owner_kind, r.row),
                );
            }
            Some((name, kind, first)) => {
                if *name != r.owner_name {
                    errors.push(RowError {
                        row: r.row,
                        field: "owner_name".into(),
                        reason: format!(
                            "owner '{}' is named '{}' at row {first}",
                            r.owner_key, name
                        ),
                    });
                }
                if *kind != r.owner_kind {
                    errors.push(RowError {
                        row: r.row,
                        field: "owner_kind".into(),
                        reason: format!("owner '{}' is a {} at row {first}", r.owner_key, kind),
                    });
                }
            }
        }
        errors
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> Header {
        Header::parse(&COLUMNS).unwrap()
    }

    fn row(fields: [&str; 13]) -> Result<RosterRow, Vec<RowError>> {
        validate_row(&header(), 2, &fields)
    }

    const GOOD: [&str; 13] = [
        "璧山区",
        "璧泉街道",
        "金剑社区",
        "红康豪宇",
        "6",
        "1",
        "301",
        "flat",
        "89.50",
        "registered",
        "o-17",
        "张三",
        "13812345678",
    ];

    #[test]
    fn good_row() {
        let r = row(GOOD).unwrap();
        assert_eq!(r.area, Area(8950));
        assert_eq!(r.kind, PartKind::Flat);
        assert_eq!(r.owner_kind, OwnerKind::Person);
    }

    #[test]
    fn header_any_order_with_bom() {
        let mut names: Vec<String> = COLUMNS.iter().rev().map(|s| s.to_string()).collect();
        names[0] = format!("\u{feff}{}", names[0]);
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        assert!(Header::parse(&refs).is_ok());
        let missing: Vec<&str> = COLUMNS[..12].to_vec();
        let e = Header::parse(&missing).unwrap_err();
        assert_eq!(e[0].to_string(), "row 1: phone: missing column in header");
    }

    #[test]
    fn each_bad_field_is_named() {
        let cases: &[(usize, &str, &str)] = &[
            (8, "1.234", "row 2: area_m2: '1.234' has more than two decimals"),
            (8, "-5", "row 2: area_m2: '-5' is negative"),
            (8, "abc", "row 2: area_m2: 'abc' is not a decimal number"),
            (7, "castle", "row 2: kind: unknown kind 'castle' (expected flat, shop, parking)"),
            (9, "guessed", "row 2: area_basis: unknown basis 'guessed' (expected registered, surveyed, contract)"),
            (10, " ", "row 2: owner_key: is empty"),
            (12, "12ab", "row 2: phone: '12ab' is not a phone number"),
            (3, "", "row 2: compound: is empty"),
        ];
        for (i, v, want) in cases {
            let mut f = GOOD;
            f[*i] = v;
            let errs = row(f).unwrap_err();
            assert_eq!(errs.len(), 1, "{errs:?}");
            assert_eq!(errs[0].to_string(), *want);
        }
        let mut f = GOOD;
        f[5] = "";
        f[12] = "";
        assert!(row(f).is_ok(), "unit and phone may be empty");
    }

    #[test]
    fn rows_wider_than_the_header_are_refused() {
        let mut f: Vec<&str> = GOOD.to_vec();
        f.push("extra");
        let errs = validate_row(&header(), 7, &f).unwrap_err();
        assert_eq!(
            errs[0].to_string(),
            "row 7: row: has 14 fields, the header has only 13"
        );
    }

    #[test]
    fn wide_headers_are_refused() {
        let mut names: Vec<String> = COLUMNS.iter().map(|s| s.to_string()).collect();
        names.extend((0..60).map(|i| format!("x{i}")));
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let e = Header::parse(&refs).unwrap_err();
        assert!(
            e[0].to_string()
                .starts_with("row 1: header: is too wide (73 columns"),
            "{e:?}"
        );
        let long = "y".repeat(5000);
        let mut refs: Vec<&str> = COLUMNS.to_vec();
        refs.push(&long);
        assert!(Header::parse(&refs).unwrap_err()[0]
            .reason
            .contains("(14 columns"));
        let mut ok: Vec<String> = COLUMNS.iter().map(|s| s.to_string()).collect();
        ok.extend((0..51).map(|i| format!("x{i}")));
        let refs: Vec<&str> = ok.iter().map(String::as_str).collect();
        assert!(Header::parse(&refs).is_ok(), "64 columns are fine");
    }

    #[test]
    fn unclosed_quotes_are_found_with_their_row() {
        assert_eq!(unclosed_quote("a,b\n1,2\n"), None);
        assert_eq!(
            unclosed_quote("a,b\n\"x\"\"y\",2\n\"multi\nline\",3\n"),
            None
        );
        assert_eq!(unclosed_quote("a,b\n1,2\n3,\"open\n4,5\n"), Some(3));
        assert_eq!(unclosed_quote("\"a,b\n"), Some(1));
        assert_eq!(
            unclosed_quote("a,b\n1,x\"y\n"),
            None,
            "a quote inside a field is text"
        );
    }

    #[test]
    fn formula_cells_are_neutralised() {
        for v in ["=1+1", "+86", "-2", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(csv_cell(v), format!("'{v}"));
        }
        for v in ["张三", "", "1.00", "o-17", "a=b"] {
            assert_eq!(csv_cell(v), v);
        }
        // Formula-like text is data: stored as typed (only trimmed).
        let mut f = GOOD;
        f[11] = "=HYPERLINK(\"http://x\",\"y\")";
        f[10] = "@o-1";
        let r = row(f).unwrap();
        assert_eq!(r.owner_name, "=HYPERLINK(\"http://x\",\"y\")");
        assert_eq!(r.owner_key, "@o-1");
    }

    #[test]
    fn cross_checks() {
        let mut cc = CrossCheck::default();
        let a = row(GOOD).unwrap();
        assert!(cc.check(&a).is_empty());
        let mut b = a.clone();
        b.row = 3;
        assert_eq!(
            cc.check(&b)[0].to_string(),
            "row 3: number: duplicate part '301' (first at row 2)"
        );
        let mut c = a.clone();
        c.row = 4;
        c.number = "302".into();
        c.owner_name = "李四".into();
        assert_eq!(
            cc.check(&c)[0].to_string(),
            "row 4: owner_name: owner 'o-17' is named '张三' at row 2"
        );
    }
}
