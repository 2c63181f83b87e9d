//! The working calendar the server counts deadlines with: the built-in years
//! (`crates/domain/calendars/`) corrected or extended by the data dir's
//! `calendars/*.txt`, read once at start; and its public API.

pub mod api;

use gongzhi_domain::calendar::{self, CalendarError, Year};
use gongzhi_domain::cases::Calendar;
use std::path::Path;
use std::sync::OnceLock;

static YEARS: OnceLock<Vec<Year>> = OnceLock::new();
static CURRENT: OnceLock<Calendar> = OnceLock::new();

/// The built-in years merged with `DATA_DIR/calendars/*.txt` (files in name
/// order; a file replaces the built-in year of its region and year). A
/// missing folder is no error; a malformed file is, naming its line.
pub fn load(data_dir: Option<&Path>) -> Result<Vec<Year>, CalendarError> {
    let mut extra = Vec::new();
    if let Some(dir) = data_dir.map(|d| d.join("calendars")).filter(|d| d.is_dir()) {
        let io = |file: &Path, e: std::io::Error| CalendarError {
            file: file.display().to_string(),
            line: 0,
            message: e.to_string(),
        };
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .map_err(|e| io(&dir, e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "txt"))
            .collect();
        files.sort();
        for f in files {
            let text = std::fs::read_to_string(&f).map_err(|e| io(&f, e))?;
            extra.push(calendar::parse(&f.display().to_string(), &text)?);
        }
    }
    Ok(calendar::merge(calendar::builtin(), extra))
}

/// Makes `years` the process's calendar. The first call wins (one server
/// per process serves one data dir); later calls are ignored.
pub fn install(years: Vec<Year>) {
    let cal = calendar::to_calendar(&years);
    if YEARS.set(years).is_ok() {
        let _ = CURRENT.set(cal);
    }
}

/// The calendar's years (the built-in ones when nothing was installed).
pub fn years() -> &'static [Year] {
    YEARS.get_or_init(calendar::builtin)
}

/// The working calendar deadlines count with.
pub fn current() -> &'static Calendar {
    CURRENT.get_or_init(|| calendar::to_calendar(years()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use gongzhi_domain::cases::parse_date;

    #[test]
    fn the_data_dir_corrects_and_extends_the_builtin_years() {
        let dir = tempfile::tempdir().unwrap();
        // no calendars/ folder: the built-in years
        let years = load(Some(dir.path())).unwrap();
        assert_eq!(years.iter().map(|y| y.year).collect::<Vec<_>>(), [2026]);
        let cals = dir.path().join("calendars");
        std::fs::create_dir(&cals).unwrap();
        std::fs::write(
            cals.join("cn-2027.txt"),
            "region cn\nyear 2027\nholiday 2027-01-01 元旦\n",
        )
        .unwrap();
        std::fs::write(cals.join("notes.md"), "not a calendar").unwrap();
        let years = load(Some(dir.path())).unwrap();
        assert_eq!(
            years.iter().map(|y| y.year).collect::<Vec<_>>(),
            [2026, 2027]
        );
        let cal = calendar::to_calendar(&years);
        assert!(!cal.is_working_day(parse_date("2027-01-01").unwrap()));
        assert!(!cal.is_working_day(parse_date("2026-10-01").unwrap()));
        // a malformed file stops the load, naming its line
        std::fs::write(
            cals.join("cn-2028.txt"),
            "region cn\nyear 2028\nholiday 2028-02-30 x\n",
        )
        .unwrap();
        let e = load(Some(dir.path())).unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.file.ends_with("cn-2028.txt"), "{e}");
        assert!(e.message.contains("not a date"), "{e}");
    }
}
