//! Masking personal data (PIPL): phones, ID numbers and names are masked in
//! every list and response; a full name is shown only with the person's consent.

/// `13812345678` → `138****5678`. Anything too short to mask keeps only its last
/// character visible.
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().filter(|c| !c.is_whitespace()).collect();
    if chars.is_empty() {
        return String::new();
    }
    if chars.len() >= 7 {
        let head: String = chars[..3].iter().collect();
        let tail: String = chars[chars.len() - 4..].iter().collect();
        format!("{head}****{tail}")
    } else {
        let tail = chars[chars.len() - 1];
        format!("{}{tail}", "*".repeat(chars.len() - 1))
    }
}

/// `110101199001011234` → `110***********1234`: region prefix and last four kept.
pub fn mask_id_number(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    if chars.len() <= 4 {
        return "*".repeat(chars.len());
    }
    let keep_head = if chars.len() >= 10 { 3 } else { 0 };
    let head: String = chars[..keep_head].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 4 - keep_head))
}

/// `张三丰` → `张**`; `Li Lei` → `L*****`. The first character stays.
pub fn mask_name(name: &str) -> String {
    let mut it = name.chars();
    match it.next() {
        None => String::new(),
        Some(first) => {
            let rest = it.count();
            if rest == 0 {
                first.to_string()
            } else {
                format!("{first}{}", "*".repeat(rest))
            }
        }
    }
}

/// A mainland mobile (11 digits starting with 1) or a landline of digits and
/// one optional '-' (7–13 digits in all).
pub fn valid_phone(phone: &str) -> bool {
    let p = phone.trim();
    let digits = p.chars().filter(|c| c.is_ascii_digit()).count();
    let dashes = p.chars().filter(|&c| c == '-').count();
    if p.chars().any(|c| !(c.is_ascii_digit() || c == '-')) || dashes > 1 {
        return false;
    }
    if dashes == 0 && digits == 11 && p.starts_with('1') {
        return true;
    }
    (7..=13).contains(&digits)
        && !p.starts_with('-')
        && !p.ends_with('-')
        && (dashes == 1 || digits <= 8)
}

/// A resident identity card number: 17 digits and a final digit or X (the
/// checksum itself is not verified, so that a typo in the register stays
/// correctable rather than blocking a household).
pub fn valid_id_number(id: &str) -> bool {
    let b = id.trim().as_bytes();
    b.len() == 18
        && b[..17].iter().all(u8::is_ascii_digit)
        && matches!(b[17], b'0'..=b'9' | b'X' | b'x')
}

/// Masks the mainland mobile numbers (`1[3-9]` and nine more digits, also
/// written with single spaces or dashes between digits) and resident ID
/// numbers (17 digits and a digit or X) in free text, as the register masks
/// them: `13812345678` → `138****5678`, `110101199001011234` →
/// `110***********1234`. A number is matched only whole: a longer run of
/// digits is left alone (it is neither). Everything else is kept as typed.
pub fn mask_text(text: &str) -> String {
    let c: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < c.len() {
        let starts = c[i].is_ascii_digit() && (i == 0 || !c[i - 1].is_ascii_digit());
        if !starts {
            out.push(c[i]);
            i += 1;
            continue;
        }
        if let Some(end) = id_number_at(&c, i) {
            let id: String = c[i..end].iter().collect();
            out.push_str(&mask_id_number(&id));
            i = end;
        } else if let Some((end, digits)) = mobile_at(&c, i) {
            out.push_str(&mask_phone(&digits));
            i = end;
        } else {
            // Not a number to mask: copy the whole run of digits.
            while i < c.len() && c[i].is_ascii_digit() {
                out.push(c[i]);
                i += 1;
            }
        }
    }
    out
}

/// The end of an ID number starting at `i`, if one is there whole.
fn id_number_at(c: &[char], i: usize) -> Option<usize> {
    let end = i + 18;
    let whole = end <= c.len()
        && c[i..end - 1].iter().all(char::is_ascii_digit)
        && matches!(c[end - 1], '0'..='9' | 'X' | 'x')
        && c.get(end).is_none_or(|n| !n.is_ascii_alphanumeric());
    whole.then_some(end)
}

/// The end and the digits of a mobile number starting at `i`, if one is
/// there whole (single spaces or dashes may separate its digits).
fn mobile_at(c: &[char], i: usize) -> Option<(usize, String)> {
    let mut digits = String::new();
    let mut j = i;
    while j < c.len() && digits.len() < 11 {
        if c[j].is_ascii_digit() {
            digits.push(c[j]);
            j += 1;
        } else if matches!(c[j], ' ' | '-')
            && !digits.is_empty()
            && c.get(j + 1).is_some_and(char::is_ascii_digit)
        {
            j += 1;
        } else {
            break;
        }
    }
    let b = digits.as_bytes();
    let whole = b.len() == 11
        && b[0] == b'1'
        && (b'3'..=b'9').contains(&b[1])
        && c.get(j).is_none_or(|n| !n.is_ascii_digit());
    whole.then_some((j, digits))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn masks() {
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(mask_phone("12345"), "****5");
        assert_eq!(mask_phone(""), "");
        assert_eq!(mask_id_number("110101199001011234"), "110***********1234");
        assert_eq!(mask_name("张三丰"), "张**");
        assert_eq!(mask_name("王"), "王");
    }

    #[test]
    fn id_numbers() {
        assert!(valid_id_number("11010119900101123X"));
        assert!(valid_id_number("110101199001011234"));
        assert!(!valid_id_number("11010119900101123"), "17 characters");
        assert!(!valid_id_number("1101011990010112YX"), "letter inside");
        assert!(!valid_id_number("11010119900101123Y"), "last is not X");
        assert!(!valid_id_number("一一0101199001011234"), "not ASCII");
    }

    #[test]
    fn phones() {
        assert!(valid_phone("13812345678"));
        assert!(valid_phone("023-85281234"));
        assert!(valid_phone("85281234"));
        assert!(!valid_phone("1381234567x"));
        assert!(!valid_phone("23812345678"));
        assert!(!valid_phone("12"));
        assert!(!valid_phone("023--8528"));
    }

    #[test]
    fn masks_numbers_in_text() {
        assert_eq!(mask_text("请打13812345678联系"), "请打138****5678联系");
        assert_eq!(mask_text("call 138 1234 5678."), "call 138****5678.");
        assert_eq!(mask_text("138-1234-5678"), "138****5678");
        assert_eq!(
            mask_text("身份证11010119900101123X。"),
            "身份证110***********123X。"
        );
        assert_eq!(mask_text("id 110101199001011234"), "id 110***********1234");
        assert_eq!(
            mask_text("a b 13812345678 and 13912345678"),
            "a b 138****5678 and 139****5678"
        );
        // Not numbers to mask: kept as typed.
        for keep in [
            "订单 213812345678",
            "12812345678",
            "1381234567",
            "楼 6-1-301，面积 89.50",
            "2026-11-20 19:30",
            "1101011990010112345",
            "",
            "no digits at all",
        ] {
            assert_eq!(mask_text(keep), keep);
        }
    }

    proptest! {
        #[test]
        fn text_never_shows_a_phone_or_id_whole(
            pre in "[^0-9]{0,12}",
            p in "1[3-9][0-9]{9}",
            sep in "[ -]?",
            id in "[0-9]{17}[0-9X]",
            post in "[^0-9a-zA-Z]{0,12}",
        ) {
            let spaced = format!("{}{sep}{}{sep}{}", &p[..3], &p[3..7], &p[7..]);
            let t = format!("{pre}{spaced}{post} / {pre}{id}{post}");
            let m = mask_text(&t);
            prop_assert!(!m.contains(&p), "{m}");
            prop_assert!(!m.contains(&id), "{m}");
            prop_assert!(m.contains(&mask_phone(&p)));
            prop_assert!(m.contains(&mask_id_number(&id)));
            // What is not a number is kept.
            prop_assert!(m.starts_with(&pre));
            prop_assert_eq!(mask_text(&m), m.clone(), "masking is idempotent");
        }

        #[test]
        fn text_without_numbers_is_kept(t in "[^0-9]{0,40}") {
            prop_assert_eq!(mask_text(&t), t);
        }
    }

    proptest! {
        #[test]
        fn masked_phone_never_shows_middle(p in "1[3-9][0-9]{9}") {
            let m = mask_phone(&p);
            prop_assert_eq!(m.len(), 11);
            prop_assert_eq!(&m[..3], &p[..3]);
            prop_assert_eq!(&m[3..7], "****");
            prop_assert_eq!(&m[7..], &p[7..]);
            // Only the first three and last four digits survive: no digit of
            // the middle is written anywhere.
            prop_assert_eq!(m.chars().filter(|c| c.is_ascii_digit()).count(), 7);
        }
    }
}
