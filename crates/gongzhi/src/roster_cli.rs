//! `gongzhi import roster`: read the CSV, validate every row (reporting each
//! problem as `row N: field: reason`), then import all rows in one transaction
//! or nothing.

use gongzhi_domain::roster::{unclosed_quote, validate_row, CrossCheck, Header, RosterRow};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

/// Reads and validates a roster. Returns the rows, or every problem found.
pub fn read_roster(bytes: &[u8]) -> Result<Vec<RosterRow>, Vec<String>> {
    let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    // The reader would take everything after an unclosed quote as one field.
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
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let mut cross = CrossCheck::default();
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
                        errors.extend(cross.check(&r).iter().map(ToString::to_string));
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
    let rows = match read_roster(&bytes) {
        Ok(r) => r,
        Err(errors) => {
            for e in &errors {
                eprintln!("{e}");
            }
            eprintln!(
                "error: {} problem(s) in {}; nothing was imported",
                errors.len(),
                file.display()
            );
            return Ok(ExitCode::from(2));
        }
    };
    let db = gongzhi_store::Db::connect(url)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let total = rows.len() as u64;
    let bar = if std::io::stderr().is_terminal() {
        ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr())
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} rows {elapsed_precise} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let b2 = bar.clone();
    let report = gongzhi_store::import::import_roster(
        &db,
        "cli:import",
        rows,
        dry_run,
        Arc::new(move |n| b2.set_position(n as u64)),
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    bar.finish_and_clear();
    println!("{}", serde_json::to_string_pretty(&report)?);
    db.close().await;
    Ok(ExitCode::SUCCESS)
}
