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
