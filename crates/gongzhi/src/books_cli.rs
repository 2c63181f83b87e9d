//! `gongzhi verify` — an owner's independent check of a compound's public
//! books — and `gongzhi export books` (hledger, beancount, CSV).
//!
//! verify trusts nothing the server says without checking it:
//! 1. the checkpoint's signature against the pinned key (`--key`, or the key
//!    remembered in `--state`; otherwise the served key, trusted on first use
//!    and said so);
//! 2. every entry re-encoded to its leaf and the tree root recomputed against
//!    the signed root (the first entry whose leaf differs from the log's is
//!    named);
//! 3. every entry replayed through the ledger rules (balances sum to zero,
//!    cash never below zero, pending resolved once) and every served balance
//!    compared with the replay;
//! 4. with `--state`, a consistency proof from the last verified checkpoint.

use anyhow::{anyhow, bail, Context};
use gongzhi_domain::book_entries::Entry;
use gongzhi_domain::ledger::{AccountCode, Balance, Ledger, Transfer, TransferKind};
use gongzhi_domain::merkle::{self, Checkpoint, Hash, Tree};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::Path;
use std::process::ExitCode;

#[derive(Debug, Serialize, Deserialize)]
struct State {
    origin: String,
    size: u64,
    root: String,
    vkey: String,
}

struct Client {
    http: reqwest::Client,
    base: String,
    code: String,
}

impl Client {
    fn new(from: &str, code: &str) -> Client {
        Client {
            http: reqwest::Client::new(),
            base: from.trim_end_matches('/').to_string(),
            code: code.to_string(),
        }
    }
    fn public(&self, rest: &str) -> String {
        format!(
            "{}/api/v1/public/compounds/{}/books/{rest}",
            self.base, self.code
        )
    }
    async fn text(&self, url: &str) -> anyhow::Result<String> {
        let r = self
            .http
            .get(url)
            .send()
            .await
            .with_context(|| format!("fetching {url}"))?;
        let s = r.status();
        let t = r.text().await?;
        if !s.is_success() {
            bail!("{url} answered {s}: {t}");
        }
        Ok(t)
    }
    async fn json(&self, url: &str) -> anyhow::Result<Value> {
        let t = self.text(url).await?;
        serde_json::from_str(&t).with_context(|| format!("{url}: not JSON"))
    }
    async fn entries(&self, at_least: u64) -> anyhow::Result<Vec<Entry>> {
        let mut out: Vec<Entry> = Vec::new();
        loop {
            let v = self
                .json(&self.public(&format!("entries?from={}&limit=10000", out.len())))
                .await?;
            let page = v["entries"]
                .as_array()
                .ok_or_else(|| anyhow!("entries: no list"))?;
            if page.is_empty() {
                break;
            }
            for t in page {
                let t: Entry = serde_json::from_value(t.clone())
                    .with_context(|| format!("entry {}: malformed", out.len()))?;
                out.push(t);
            }
            if out.len() as u64 >= at_least && page.len() < 10000 {
                break;
            }
        }
        Ok(out)
    }
    async fn leaves(&self, size: u64) -> anyhow::Result<Vec<Hash>> {
        let mut out = Vec::new();
        while (out.len() as u64) < size {
            let v = self
                .json(&self.public(&format!("leaves?from={}&limit=10000", out.len())))
                .await?;
            let page = v["leaves"]
                .as_array()
                .ok_or_else(|| anyhow!("leaves: no list"))?;
            if page.is_empty() {
                break;
            }
            for h in page {
                out.push(
                    h.as_str()
                        .and_then(merkle::from_hex)
                        .ok_or_else(|| anyhow!("leaf {}: malformed hash", out.len()))?,
                );
            }
        }
        Ok(out)
    }
}

fn hashes(v: &Value) -> anyhow::Result<Vec<Hash>> {
    v["proof"]
        .as_array()
        .ok_or_else(|| anyhow!("proof: no list"))?
        .iter()
        .map(|h| {
            h.as_str()
                .and_then(merkle::from_hex)
                .ok_or_else(|| anyhow!("proof: malformed hash"))
        })
        .collect()
}

pub async fn verify(
    from: &str,
    code: &str,
    key: Option<&str>,
    state_file: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    match verify_inner(from, code, key, state_file).await {
        Ok(summary) => {
            println!("{summary}");
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("FAIL: {e:#}");
            Ok(ExitCode::from(1))
        }
    }
}

async fn verify_inner(
    from: &str,
    code: &str,
    key: Option<&str>,
    state_file: Option<&Path>,
) -> anyhow::Result<String> {
    let c = Client::new(from, code);
    let old: Option<State> = match state_file {
        Some(p) if p.exists() => Some(
            serde_json::from_str(&std::fs::read_to_string(p)?)
                .with_context(|| format!("{}: not a verify state file", p.display()))?,
        ),
        _ => None,
    };
    let mut notes = Vec::new();
    let vkey = match (key, &old) {
        (Some(k), _) => k.to_string(),
        (None, Some(s)) => s.vkey.clone(),
        (None, None) => {
            let v = c
                .json(&format!("{}/api/v1/public/books/key", c.base))
                .await?;
            notes.push("key not pinned: trusting the server's key on first use (pin it with --key or --state)".to_string());
            v["vkey"]
                .as_str()
                .ok_or_else(|| anyhow!("key: no vkey"))?
                .to_string()
        }
    };
    let (name, vk) = merkle::parse_verifier_key(&vkey).map_err(|e| anyhow!("key: {e}"))?;
    let note = c.text(&c.public("checkpoint")).await?;
    let body = merkle::open_note(&note, &name, &vk).map_err(|e| anyhow!("checkpoint: {e}"))?;
    let cp = Checkpoint::parse_body(body).map_err(|e| anyhow!("checkpoint: {e}"))?;
    let origin = gongzhi_store::fund::origin(code);
    if cp.origin != origin {
        bail!("checkpoint: origin '{}' is not '{origin}'", cp.origin);
    }
    // consistency with the last verified checkpoint
    if let Some(s) = &old {
        if s.origin != cp.origin {
            bail!(
                "state: remembered origin '{}' is not '{}'",
                s.origin,
                cp.origin
            );
        }
        let old_root = merkle::from_hex(&s.root).ok_or_else(|| anyhow!("state: malformed root"))?;
        if cp.size < s.size {
            bail!(
                "consistency: the log shrank from {} to {} entries",
                s.size,
                cp.size
            );
        }
        let p = c
            .json(&c.public(&format!("proof/consistency?old={}&new={}", s.size, cp.size)))
            .await;
        let proof = if s.size == cp.size {
            Vec::new()
        } else {
            hashes(&p?)?
        };
        merkle::verify_consistency(s.size, cp.size, &proof, &old_root, &cp.root)
            .map_err(|e| anyhow!("consistency proof from size {} to {}: {e}: the log was rewritten since it was last verified", s.size, cp.size))?;
    }
    let accounts = c.json(&c.public("accounts")).await?;
    let acc_size = accounts["log_size"]
        .as_u64()
        .ok_or_else(|| anyhow!("accounts: no log_size"))?;
    let entries = c.entries(cp.size.max(acc_size)).await?;
    if (entries.len() as u64) < cp.size {
        bail!(
            "entries: the server served {} entries, the checkpoint has {}",
            entries.len(),
            cp.size
        );
    }
    let mut tree = Tree::new();
    for (i, t) in entries.iter().take(cp.size as usize).enumerate() {
        if t.seq() != i as u64 {
            bail!(
                "entry {i}: has position {} (entries must be dense and in order)",
                t.seq()
            );
        }
        tree.push(&t.leaf_bytes(&origin));
    }
    if tree.root() != cp.root {
        // name the first entry whose leaf differs from the log's
        let leaves = c.leaves(cp.size).await?;
        for (i, h) in tree.leaf_hashes().iter().enumerate() {
            if leaves.get(i) != Some(h) {
                bail!(
                    "entry {i} ({}): its content does not match leaf {i} of the signed log",
                    entries[i].describe()
                );
            }
        }
        bail!(
            "root: the entries hash to {} but the signed checkpoint says {}",
            merkle::hex(&tree.root()),
            merkle::hex(&cp.root)
        );
    }
    // money moved only as the procedures move it: every outflow an approved
    // disbursement (or a published emergency use), every other transfer an
    // inflow or a procedure's own entry
    gongzhi_domain::flows::check_log(&entries[..cp.size as usize])
        .map_err(|f| anyhow!(f.reason))?;
    // replay the rules, then compare balances at the accounts' log size
    let mut ledger = Ledger::new();
    for (i, t) in entries
        .iter()
        .take(acc_size as usize)
        .enumerate()
        .filter_map(|(i, e)| Some((i, e.as_transfer()?)))
    {
        ledger
            .apply(t)
            .map_err(|e| anyhow!("entry {i} (id {}): breaks the ledger rules: {e}", t.id))?;
    }
    if ledger.sums() != (0, 0) {
        bail!("balances: debits and credits do not sum to zero");
    }
    let served = accounts["accounts"]
        .as_array()
        .ok_or_else(|| anyhow!("accounts: no list"))?;
    let mut seen = Vec::new();
    for a in served {
        let code = a["code"]
            .as_str()
            .and_then(AccountCode::parse)
            .ok_or_else(|| anyhow!("accounts: unknown code {}", a["code"]))?;
        let b: Balance = serde_json::from_value(a.clone())
            .with_context(|| format!("account {code}: malformed"))?;
        if b != ledger.balance(code) {
            bail!(
                "account {code}: served balance {:?} is not the replayed {:?}",
                b,
                ledger.balance(code)
            );
        }
        seen.push(code);
    }
    for (code, b) in &ledger.balances {
        if *b != Balance::default() && !seen.contains(code) {
            bail!("account {code}: missing from the served balances");
        }
    }
    if let Some(p) = state_file {
        let s = State {
            origin: cp.origin.clone(),
            size: cp.size,
            root: merkle::hex(&cp.root),
            vkey: vkey.clone(),
        };
        let tmp = p.with_extension("tmp");
        std::fs::write(&tmp, serde_json::to_string_pretty(&s)?)?;
        std::fs::rename(&tmp, p)?;
    }
    let mut out = String::new();
    for n in notes {
        out.push_str(&format!("note: {n}\n"));
    }
    out.push_str(&format!(
        "ok: {} — {} entries, root {} signed by {}, {} balances match{}",
        cp.origin,
        cp.size,
        merkle::hex(&cp.root),
        name,
        seen.len(),
        if old.is_some() {
            ", consistent with the last verified checkpoint"
        } else {
            ""
        }
    ));
    Ok(out)
}

// ---------------------------------------------------------------------------
// export
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Hledger,
    Beancount,
    Csv,
}

/// The ledger-tool account name of a code, e.g. `Assets:Bank`,
/// `Expenses:Repair`, `Income:FeeIncome`.
pub fn account_name(code: AccountCode) -> String {
    use AccountCode::*;
    let root = match code {
        Bank | MaintenanceBank | OwnerReceivables | GatewayClearing => "Assets",
        DividendsPayable | StewardPayable => "Liabilities",
        MaintenancePrincipal | MaintenanceInterest | OpeningBalance => "Equity",
        StewardRemuneration => "Expenses",
        c if c.is_expense() => "Expenses",
        _ => "Income",
    };
    let leaf = code
        .as_str()
        .strip_prefix("expense_")
        .unwrap_or(code.as_str());
    let camel: String = leaf
        .split('_')
        .map(|w| {
            let mut ch = w.chars();
            ch.next()
                .map(|f| f.to_ascii_uppercase().to_string() + ch.as_str())
                .unwrap_or_default()
        })
        .collect();
    format!("{root}:{camel}")
}

/// `YYYY-MM-DD` of a millisecond timestamp in China Standard Time (UTC+8).
pub fn date(ms: i64) -> String {
    gongzhi_domain::fund_calc::date_of_ms(ms)
}

fn money(fen: i64) -> String {
    gongzhi_domain::money::format_hundredths(fen)
}

fn clean(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() || c == '"' || c == ';' {
                ' '
            } else {
                c
            }
        })
        .collect::<String>()
        .trim()
        .to_string()
}

/// The posted effect of an entry: (debit, credit, amount), or None for
/// reservations and their release.
fn posted_effect(t: &Transfer) -> Option<(AccountCode, AccountCode, i64)> {
    matches!(t.kind, TransferKind::Posted | TransferKind::PostPending)
        .then_some((t.debit, t.credit, t.amount))
}

pub fn render(format: Format, code: &str, entries: &[Transfer]) -> String {
    use gongzhi_domain::roster::csv_cell;
    let mut used: Vec<AccountCode> = entries.iter().flat_map(|t| [t.debit, t.credit]).collect();
    used.sort();
    used.dedup();
    let first_date = entries
        .first()
        .map(|t| date(t.at))
        .unwrap_or_else(|| "2000-01-01".into());
    let mut out = String::new();
    match format {
        Format::Csv => {
            let mut w = csv::Writer::from_writer(Vec::new());
            w.write_record([
                "seq",
                "id",
                "date",
                "kind",
                "debit",
                "credit",
                "amount",
                "code",
                "memo",
                "pending_id",
                "link",
                "vote_id",
                "by_role",
            ])
            .unwrap();
            for t in entries {
                // Text cells are neutralised against formula injection; the
                // amount stays a number.
                let text = |v: &str| csv_cell(v).into_owned();
                w.write_record([
                    t.seq.to_string(),
                    text(&t.id),
                    date(t.at),
                    text(&t.kind.to_string()),
                    text(&t.debit.to_string()),
                    text(&t.credit.to_string()),
                    money(t.amount),
                    text(&t.code),
                    text(&t.memo),
                    text(t.pending_id.as_deref().unwrap_or_default()),
                    text(t.link.as_deref().unwrap_or_default()),
                    text(t.vote_id.as_deref().unwrap_or_default()),
                    text(&t.by_role),
                ])
                .unwrap();
            }
            out = String::from_utf8(w.into_inner().unwrap()).unwrap();
        }
        Format::Hledger => {
            out.push_str(&format!(
                "; Gongzhi public books of {code}: {} entries (posted effects only)\n",
                entries.len()
            ));
            out.push_str("commodity 1000.00 CNY\n\n");
            for a in &used {
                out.push_str(&format!("account {}\n", account_name(*a)));
            }
            out.push('\n');
            for t in entries {
                if let Some((d, c, amt)) = posted_effect(t) {
                    out.push_str(&format!(
                        "{} * {}: {}  ; seq:{}, id:{}\n",
                        date(t.at),
                        clean(&t.code),
                        clean(&t.memo),
                        t.seq,
                        t.id
                    ));
                    out.push_str(&format!("    {}    {} CNY\n", account_name(d), money(amt)));
                    out.push_str(&format!(
                        "    {}    {} CNY\n\n",
                        account_name(c),
                        money(-amt)
                    ));
                }
            }
        }
        Format::Beancount => {
            out.push_str(&format!(
                "; Gongzhi public books of {code}: {} entries (posted effects only)\n",
                entries.len()
            ));
            out.push_str(
                "option \"operating_currency\" \"CNY\"\noption \"tolerance_multiplier\" \"0\"\n\n",
            );
            for a in &used {
                out.push_str(&format!("{first_date} open {} CNY\n", account_name(*a)));
            }
            out.push('\n');
            for t in entries {
                if let Some((d, c, amt)) = posted_effect(t) {
                    out.push_str(&format!(
                        "{} * \"{}\" \"{}\"\n  seq: {}\n  id: \"{}\"\n",
                        date(t.at),
                        clean(&t.code),
                        clean(&t.memo),
                        t.seq,
                        t.id
                    ));
                    out.push_str(&format!("  {}  {} CNY\n", account_name(d), money(amt)));
                    out.push_str(&format!("  {}  {} CNY\n\n", account_name(c), money(-amt)));
                }
            }
        }
    }
    out
}

pub async fn export(
    from: &str,
    code: &str,
    format: Format,
    out: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let c = Client::new(from, code);
    let accounts = c.json(&c.public("accounts")).await?;
    let size = accounts["log_size"].as_u64().unwrap_or(0);
    let mut entries = c.entries(size).await?;
    entries.truncate(size as usize);
    // only transfers are postings; the other entries move no money
    let transfers: Vec<Transfer> = entries
        .into_iter()
        .filter_map(|e| match e {
            Entry::Transfer(t) => Some(t),
            Entry::Record(_) => None,
        })
        .collect();
    let text = render(format, code, &transfers);
    match out {
        Some(p) => std::fs::write(p, text).with_context(|| format!("writing {}", p.display()))?,
        None => print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transfer(code: &str, memo: &str, link: &str) -> Transfer {
        Transfer {
            seq: 2,
            id: "t".into(),
            kind: TransferKind::Pending,
            debit: AccountCode::MaintenancePrincipal,
            credit: AccountCode::MaintenanceBank,
            amount: 100,
            code: code.into(),
            memo: memo.into(),
            pending_id: None,
            link: Some(link.into()),
            vote_id: None,
            by_user: "u".into(),
            by_role: "committee_member".into(),
            at: 0,
            timeout_at: None,
        }
    }

    #[test]
    fn csv_export_neutralises_formula_cells() {
        let t = transfer("-fee", "=HYPERLINK(\"http://x\",\"点我\")", "@SUM(A1)");
        let text = render(Format::Csv, "c", &[t]);
        let mut r = csv::Reader::from_reader(text.as_bytes());
        let row = r.records().next().unwrap().unwrap();
        assert_eq!(&row[6], "1.00", "amounts stay numbers");
        assert_eq!(&row[7], "'-fee");
        assert_eq!(&row[8], "'=HYPERLINK(\"http://x\",\"点我\")");
        assert_eq!(&row[10], "'@SUM(A1)");
        assert_eq!(&row[12], "committee_member");
    }

    #[test]
    fn dates_and_names() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(16 * 3_600_000), "1970-01-02", "UTC+8");
        assert_eq!(date(1_795_000_000_000), "2026-11-18");
        assert_eq!(account_name(AccountCode::ExpenseRepair), "Expenses:Repair");
        assert_eq!(
            account_name(AccountCode::MaintenanceInterest),
            "Equity:MaintenanceInterest"
        );
        assert_eq!(account_name(AccountCode::FeeIncome), "Income:FeeIncome");
        assert_eq!(money(-5), "-0.05");
    }
}
