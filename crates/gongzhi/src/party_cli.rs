//! `gongzhi import party-members`: read the CSV
//! (`compound,building,unit,number,name,phone,status,employer,joined_on`),
//! report every problem as `row N: field: reason`, then import all rows in
//! one transaction or nothing.

use gongzhi_domain::party::{validate_row, CrossCheck, Header, PartyRow};
use gongzhi_domain::roster::unclosed_quote;
use std::path::Path;
use std::process::ExitCode;

/// Reads and validates the file. Returns the rows, or every problem found.
pub fn read_members(bytes: &[u8]) -> Result<Vec<PartyRow>, Vec<String>> {
    let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    if let Some(row) = std::str::from_utf8(bytes).ok().and_then(unclosed_quote) {
        return Err(vec![format!(
            "row {row}: row: unclosed quote (a quoted field opens here and never closes)"
        )]);
    }
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(bytes);
    let header = match rdr.headers() {
        Ok(h) => {
            let names: Vec<&str> = h.iter().collect();
            Header::parse(&names)
                .map_err(|es| es.iter().map(ToString::to_string).collect::<Vec<_>>())?
        }
        Err(e) => return Err(vec![format!("row 1: header: {e}")]),
    };
    let (mut rows, mut errors, mut cross) = (Vec::new(), Vec::new(), CrossCheck::default());
    let mut record = csv::StringRecord::new();
    let mut row_no = 1usize;
    loop {
        row_no += 1;
        match rdr.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                if record.iter().all(|f| f.trim().is_empty()) {
                    continue;
                }
                let fields: Vec<&str> = record.iter().collect();
                match validate_row(&header, row_no, &fields) {
                    Ok(r) => {
                        errors.extend(cross.check(&r).map(|e| e.to_string()));
                        rows.push(r);
                    }
                    Err(es) => errors.extend(es.iter().map(ToString::to_string)),
                }
            }
            Err(e) => errors.push(format!(
                "row {row_no}: row: {}",
                e.to_string().replace('\n', " ")
            )),
        }
        if errors.len() > 10_000 {
            errors.push("… stopped after 10000 problems".into());
            break;
        }
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    }
}

fn refuse(errors: &[String], file: &Path) -> ExitCode {
    for e in errors {
        eprintln!("{e}");
    }
    eprintln!(
        "error: {} problem(s) in {}; nothing was imported",
        errors.len(),
        file.display()
    );
    ExitCode::from(2)
}

pub async fn run(file: &Path, dry_run: bool, url: &str) -> anyhow::Result<ExitCode> {
    let bytes =
        std::fs::read(file).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
    if std::str::from_utf8(&bytes).is_err() {
        eprintln!(
            "error: {} is not UTF-8 text (save the sheet as \"CSV UTF-8\")",
            file.display()
        );
        return Ok(ExitCode::from(2));
    }
    let rows = match read_members(&bytes) {
        Ok(r) => r,
        Err(errors) => return Ok(refuse(&errors, file)),
    };
    let db = gongzhi_store::Db::connect(url)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let out = gongzhi_store::party::import_members(&db, "cli:import", rows, dry_run)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"));
    db.close().await;
    match out? {
        Ok(report) => {
            println!("{}", serde_json::to_string_pretty(&report)?);
            Ok(ExitCode::SUCCESS)
        }
        Err(errors) => Ok(refuse(
            &errors.iter().map(ToString::to_string).collect::<Vec<_>>(),
            file,
        )),
    }
}
