//! Party members at home (党员回小区): the register of members by the part
//! they live in, their status and employer unit, the import file's rules,
//! and the check-in receipt's verification code.
//!
//! Party membership is sensitive personal information (PIPL art. 28): who
//! may see it is decided by `policy` (`Action::ReadParty`), never here.

use crate::mask::valid_phone;
use crate::roster::RowError;
use std::collections::HashMap;
use std::fmt;

/// The import file's columns, exactly (any order).
pub const COLUMNS: [&str; 9] = [
    "compound",
    "building",
    "unit",
    "number",
    "name",
    "phone",
    "status",
    "employer",
    "joined_on",
];

/// Longest accepted text in any field, in characters.
pub const MAX_FIELD_CHARS: usize = 100;

/// A member's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MemberStatus {
    /// 在职: works for an employer unit, checks in where they live.
    InService,
    /// 退休.
    Retired,
    /// 流动: away from home; the branch keeps in touch.
    Flowing,
}

impl MemberStatus {
    pub const ALL: [MemberStatus; 3] = [
        MemberStatus::InService,
        MemberStatus::Retired,
        MemberStatus::Flowing,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MemberStatus::InService => "in_service",
            MemberStatus::Retired => "retired",
            MemberStatus::Flowing => "flowing",
        }
    }

    pub fn parse(s: &str) -> Option<MemberStatus> {
        Self::ALL.into_iter().find(|m| m.as_str() == s)
    }

    /// In-service members check in where they live (下班回小区报到); the
    /// retired are at home already, the flowing away from it.
    pub fn checks_in(self) -> bool {
        self == MemberStatus::InService
    }
}

impl fmt::Display for MemberStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where each column sits in this file's header.
#[derive(Debug, Clone)]
pub struct Header {
    index: [usize; 9],
    width: usize,
}

impl Header {
    /// Maps a header: exactly [`COLUMNS`], in any order (a UTF-8 BOM on the
    /// first name is ignored); a missing, repeated or unknown column is an
    /// error of row 1.
    pub fn parse(names: &[&str]) -> Result<Header, Vec<RowError>> {
        let mut errors = Vec::new();
        let mut seen: HashMap<String, usize> = HashMap::new();
        for (i, raw) in names.iter().enumerate().take(64) {
            let name = raw
                .trim_start_matches('\u{feff}')
                .trim()
                .to_ascii_lowercase();
            if !COLUMNS.contains(&name.as_str()) {
                errors.push(err(1, &name, "unknown column (expected compound, building, unit, number, name, phone, status, employer, joined_on)"));
            } else if let Some(prev) = seen.insert(name.clone(), i) {
                errors.push(err(
                    1,
                    &name,
                    &format!("column appears twice (columns {} and {})", prev + 1, i + 1),
                ));
            }
        }
        if names.len() > 64 {
            errors.push(err(1, "header", "is too wide (more than 64 columns)"));
        }
        let mut index = [0usize; 9];
        for (k, col) in COLUMNS.iter().enumerate() {
            match seen.get(*col) {
                Some(&i) => index[k] = i,
                None => errors.push(err(1, col, "missing column in header")),
            }
        }
        if errors.is_empty() {
            Ok(Header {
                index,
                width: names.len(),
            })
        } else {
            Err(errors)
        }
    }
}

fn err(row: usize, field: &str, reason: &str) -> RowError {
    RowError {
        row,
        field: field.to_string(),
        reason: reason.to_string(),
    }
}

/// A valid row of the import file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartyRow {
    pub row: usize,
    /// The compound's code.
    pub compound: String,
    pub building: String,
    pub unit: String,
    pub number: String,
    pub name: String,
    pub phone: String,
    pub status: MemberStatus,
    /// The employer unit's name (in-service members only).
    pub employer: Option<String>,
    /// `YYYY-MM-DD`.
    pub joined_on: Option<String>,
}

impl PartyRow {
    /// Who the row is: the same person twice in one file is an error.
    pub fn person_key(&self) -> (String, String, String, String, String) {
        (
            self.compound.clone(),
            self.building.clone(),
            self.unit.clone(),
            self.number.clone(),
            self.name.clone(),
        )
    }
}

/// Checks one data row (`row` counted as a spreadsheet does: header = 1).
pub fn validate_row(h: &Header, row: usize, fields: &[&str]) -> Result<PartyRow, Vec<RowError>> {
    let mut errors = Vec::new();
    if fields.len() > h.width {
        errors.push(err(
            row,
            "row",
            &format!("has {} fields, the header {}", fields.len(), h.width),
        ));
    }
    let get = |k: usize| fields.get(h.index[k]).copied().unwrap_or("").trim();
    let mut text = |k: usize, required: bool| -> String {
        let v = get(k);
        if required && v.is_empty() {
            errors.push(err(row, COLUMNS[k], "is required"));
        } else if v.chars().count() > MAX_FIELD_CHARS {
            errors.push(err(
                row,
                COLUMNS[k],
                &format!("longer than {MAX_FIELD_CHARS} characters"),
            ));
        } else if v.chars().any(char::is_control) {
            errors.push(err(row, COLUMNS[k], "contains a control character"));
        }
        v.to_string()
    };
    let compound = text(0, true);
    let building = text(1, true);
    let unit = text(2, false);
    let number = text(3, true);
    let name = text(4, true);
    let phone = text(5, false);
    let status_s = text(6, true);
    let employer = text(7, false);
    let joined_on = text(8, false);
    if !phone.is_empty() && !valid_phone(&phone) {
        errors.push(err(
            row,
            "phone",
            &format!("'{phone}' is not a phone number"),
        ));
    }
    let status = MemberStatus::parse(&status_s.to_ascii_lowercase());
    match status {
        None if !status_s.is_empty() => errors.push(err(
            row,
            "status",
            &format!("'{status_s}' is not a status (in_service, retired or flowing)"),
        )),
        Some(MemberStatus::InService) if employer.is_empty() => {
            errors.push(err(row, "employer", "is required for an in-service member"))
        }
        Some(s) if s != MemberStatus::InService && !employer.is_empty() => errors.push(err(
            row,
            "employer",
            "must be empty unless the member is in service",
        )),
        _ => {}
    }
    if !joined_on.is_empty() && crate::cases::parse_date(&joined_on).is_none() {
        errors.push(err(
            row,
            "joined_on",
            &format!("'{joined_on}' is not a date (YYYY-MM-DD)"),
        ));
    }
    match status {
        Some(status) if errors.is_empty() => Ok(PartyRow {
            row,
            compound,
            building,
            unit,
            number,
            name,
            phone,
            status,
            employer: (!employer.is_empty()).then_some(employer),
            joined_on: (!joined_on.is_empty()).then_some(joined_on),
        }),
        _ => Err(errors),
    }
}

/// Finds the same person listed twice in one file.
#[derive(Default)]
pub struct CrossCheck {
    seen: HashMap<(String, String, String, String, String), usize>,
}

impl CrossCheck {
    pub fn check(&mut self, r: &PartyRow) -> Option<RowError> {
        self.seen
            .insert(r.person_key(), r.row)
            .map(|first| err(r.row, "name", &format!("the same person as row {first}")))
    }
}

/// The receipt code alphabet (Crockford's base 32: no I, L, O, U).
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Characters of a receipt code (40 random bits).
pub const RECEIPT_CODE_LEN: usize = 8;

/// A receipt's verification code from 5 random bytes, e.g. `7K3M-Q9PX`
/// without the dash: short enough to type from paper, too many to guess
/// (2⁴⁰) behind a rate-limited lookup.
pub fn receipt_code(random: [u8; 5]) -> String {
    let mut bits = random
        .iter()
        .fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
    let mut out = [0u8; RECEIPT_CODE_LEN];
    for c in out.iter_mut().rev() {
        *c = ALPHABET[(bits & 31) as usize];
        bits >>= 5;
    }
    String::from_utf8(out.to_vec()).expect("ASCII")
}

/// A code as typed (lowercase, with spaces or a dash) in its canonical
/// form, or `None` when it cannot be a receipt code.
pub fn normalise_receipt_code(s: &str) -> Option<String> {
    let c: String = s
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (c.len() == RECEIPT_CODE_LEN && c.bytes().all(|b| ALPHABET.contains(&b))).then_some(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> Header {
        Header::parse(&COLUMNS).unwrap()
    }

    fn row(fields: [&str; 9]) -> Result<PartyRow, Vec<RowError>> {
        validate_row(&header(), 2, &fields)
    }

    #[test]
    fn a_good_row_and_the_bad_ones_name_their_field() {
        let ok = row([
            "xq",
            "1栋",
            "1单元",
            "201",
            "张三",
            "13800138000",
            "in_service",
            "区人社局",
            "2001-07-01",
        ])
        .unwrap();
        assert_eq!(ok.status, MemberStatus::InService);
        assert_eq!(ok.employer.as_deref(), Some("区人社局"));
        let retired = row(["xq", "1栋", "", "201", "李四", "", "retired", "", ""]).unwrap();
        assert_eq!((retired.employer, retired.joined_on), (None, None));
        let cases: [([&str; 9], &str); 7] = [
            (
                ["xq", "1栋", "", "201", "a", "", "member", "", ""],
                "row 2: status: 'member' is not a status",
            ),
            (
                ["xq", "1栋", "", "201", "a", "", "in_service", "", ""],
                "row 2: employer: is required",
            ),
            (
                ["xq", "1栋", "", "201", "a", "", "retired", "x", ""],
                "row 2: employer: must be empty",
            ),
            (
                ["xq", "1栋", "", "201", "a", "12ab", "retired", "", ""],
                "row 2: phone: '12ab'",
            ),
            (
                ["xq", "1栋", "", "201", "a", "", "retired", "", "2001-02-30"],
                "row 2: joined_on: '2001-02-30'",
            ),
            (
                ["", "1栋", "", "201", "a", "", "retired", "", ""],
                "row 2: compound: is required",
            ),
            (
                ["xq", "1栋", "", "201", "", "", "retired", "", ""],
                "row 2: name: is required",
            ),
        ];
        for (fields, want) in cases {
            let e = row(fields).unwrap_err();
            assert!(e[0].to_string().starts_with(want), "{fields:?}: {e:?}");
        }
    }

    #[test]
    fn the_header_is_exactly_the_columns() {
        let mut names = COLUMNS.to_vec();
        names.reverse();
        assert!(Header::parse(&names).is_ok());
        let e = Header::parse(&COLUMNS[..8]).unwrap_err();
        assert_eq!(
            e[0].to_string(),
            "row 1: joined_on: missing column in header"
        );
        let mut extra = COLUMNS.to_vec();
        extra.push("party_branch");
        let e = Header::parse(&extra).unwrap_err();
        assert!(e[0]
            .to_string()
            .starts_with("row 1: party_branch: unknown column"));
        let mut twice = COLUMNS.to_vec();
        twice.push("name");
        let e = Header::parse(&twice).unwrap_err();
        assert!(e[0].reason.contains("twice"), "{e:?}");
    }

    #[test]
    fn only_in_service_members_check_in() {
        let checks: Vec<_> = MemberStatus::ALL.iter().map(|s| s.checks_in()).collect();
        assert_eq!(checks, [true, false, false]);
    }

    #[test]
    fn the_same_person_twice_is_refused() {
        let mut c = CrossCheck::default();
        let mut a = row(["xq", "1栋", "", "201", "张三", "", "retired", "", ""]).unwrap();
        assert!(c.check(&a).is_none());
        a.row = 7;
        assert_eq!(
            c.check(&a).unwrap().to_string(),
            "row 7: name: the same person as row 2"
        );
    }

    #[test]
    fn receipt_codes_round_trip_and_refuse_lookalikes() {
        let code = receipt_code([0xff, 0, 0x12, 0x34, 0x56]);
        assert_eq!(code.len(), RECEIPT_CODE_LEN);
        assert_ne!(code, receipt_code([0xfe, 0, 0x12, 0x34, 0x56]));
        let typed = format!("{}-{}", &code[..4], &code[4..]).to_lowercase();
        assert_eq!(
            normalise_receipt_code(&typed).as_deref(),
            Some(code.as_str())
        );
        assert_eq!(normalise_receipt_code("ABCDEFGI"), None); // I is not in the alphabet
        assert_eq!(normalise_receipt_code("ABC"), None);
        assert_eq!(receipt_code([0; 5]), "00000000");
    }
}
