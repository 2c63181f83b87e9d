//! iCalendar (RFC 5545) for meetings: one VEVENT per meeting in a
//! VCALENDAR, lines ended by CRLF and folded at 75 octets (never inside a
//! UTF-8 character), TEXT values escaped (backslash, semicolon, comma,
//! newline), times in UTC (`YYYYMMDDTHHMMSSZ`).

/// One event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Globally unique, e.g. `meeting-ID@gongzhi`.
    pub uid: String,
    /// When this iCalendar object was made (ms).
    pub dtstamp: i64,
    pub start: i64,
    pub end: i64,
    pub summary: String,
    pub location: String,
    pub description: String,
    /// e.g. `TOPIC`, `FOUR-PARTY`, `OWNERS-ASSEMBLY`.
    pub categories: Vec<String>,
}

/// `ms` since the epoch as an RFC 5545 UTC DATE-TIME.
pub fn utc(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = crate::cases::civil_from_days(days);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Escapes a TEXT value (RFC 5545 §3.3.11).
pub fn escape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' => {
                if chars.peek() != Some(&'\n') {
                    out.push_str("\\n");
                }
            }
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Folds one content line (§3.1): at most 75 octets per physical line, the
/// continuation lines starting with one space; a UTF-8 character is never
/// split. Every physical line ends with CRLF.
pub fn fold(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + line.len() / 70 * 3 + 2);
    let mut used = 0;
    let mut limit = 75;
    for c in line.chars() {
        let n = c.len_utf8();
        if used + n > limit {
            out.push_str("\r\n ");
            used = 1;
            limit = 75;
        }
        out.push(c);
        used += n;
    }
    out.push_str("\r\n");
    out
}

/// A VCALENDAR with the events.
pub fn calendar(events: &[Event]) -> String {
    let mut s = String::new();
    let mut line = |l: String| s.push_str(&fold(&l));
    line("BEGIN:VCALENDAR".into());
    line("VERSION:2.0".into());
    line("PRODID:-//Gongzhi//Gongzhi meetings//ZH".into());
    line("CALSCALE:GREGORIAN".into());
    line("METHOD:PUBLISH".into());
    for e in events {
        line("BEGIN:VEVENT".into());
        line(format!("UID:{}", e.uid));
        line(format!("DTSTAMP:{}", utc(e.dtstamp)));
        line(format!("DTSTART:{}", utc(e.start)));
        line(format!("DTEND:{}", utc(e.end)));
        line(format!("SUMMARY:{}", escape_text(&e.summary)));
        if !e.location.is_empty() {
            line(format!("LOCATION:{}", escape_text(&e.location)));
        }
        if !e.description.is_empty() {
            line(format!("DESCRIPTION:{}", escape_text(&e.description)));
        }
        if !e.categories.is_empty() {
            let cats: Vec<String> = e.categories.iter().map(|c| escape_text(c)).collect();
            line(format!("CATEGORIES:{}", cats.join(",")));
        }
        line("STATUS:CONFIRMED".into());
        line("END:VEVENT".into());
    }
    line("END:VCALENDAR".into());
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Undoes folding and escaping, as a reader would.
    fn unfold(s: &str) -> Vec<String> {
        s.replace("\r\n ", "")
            .split("\r\n")
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn utc_times() {
        assert_eq!(utc(0), "19700101T000000Z");
        assert_eq!(utc(1_709_222_399_000), "20240229T155959Z");
        assert_eq!(utc(1_752_422_400_000), "20250713T160000Z");
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            escape_text("议程; 一, 二\\三\r\n四\n五"),
            "议程\\; 一\\, 二\\\\三\\n四\\n五"
        );
    }

    #[test]
    fn lines_fold_at_75_octets_without_splitting_characters() {
        let long = format!("DESCRIPTION:{}", "电梯更新改造专题会".repeat(20));
        let folded = fold(&long);
        assert!(folded.ends_with("\r\n"));
        for l in folded.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(l.len() <= 75, "{} octets", l.len());
        }
        assert_eq!(folded.replace("\r\n ", "").trim_end(), long);
        assert_eq!(fold("SHORT"), "SHORT\r\n");
        let ascii = "X".repeat(200);
        let f = fold(&ascii);
        let lines: Vec<&str> = f.split("\r\n").collect();
        assert_eq!(lines[0].len(), 75);
        assert_eq!(lines[1].len(), 75);
        assert_eq!(f.replace("\r\n ", "").trim_end(), ascii);
    }

    #[test]
    fn a_calendar_with_one_event() {
        let e = Event {
            uid: "meeting-1@gongzhi".into(),
            dtstamp: 0,
            start: 1_752_422_400_000,
            end: 1_752_429_600_000,
            summary: "6栋电梯专题会, 第1次".into(),
            location: "千山美林议事厅".into(),
            description: "议程:\n1. 补贴; 2. 自筹".into(),
            categories: vec!["TOPIC".into()],
        };
        let s = calendar(&[e]);
        assert!(s.starts_with("BEGIN:VCALENDAR\r\n"));
        assert!(s.ends_with("END:VCALENDAR\r\n"));
        assert!(!s.replace("\r\n", "").contains('\n'), "CRLF only");
        let lines = unfold(&s);
        assert!(lines.contains(&"DTSTART:20250713T160000Z".to_string()));
        assert!(lines.contains(&"SUMMARY:6栋电梯专题会\\, 第1次".to_string()));
        assert!(lines.contains(&"DESCRIPTION:议程:\\n1. 补贴\\; 2. 自筹".to_string()));
        assert!(lines.contains(&"UID:meeting-1@gongzhi".to_string()));
        assert!(lines.contains(&"DTSTAMP:19700101T000000Z".to_string()));
    }
}
