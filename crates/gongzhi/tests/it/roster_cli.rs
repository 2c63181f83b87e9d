//! `gongzhi import roster` and the storage flags, through the real binary,
//! against SQLite and PostgreSQL.

use gongzhi_store::Db;
use gongzhi_testkit::both;
use gongzhi_testkit::{fresh_url, Kind};
use sqlx::Row;
use std::path::PathBuf;
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_gongzhi"))
}

fn write(dir: &std::path::Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

const GOOD: &str = "\u{feff}owner_key,owner_name,phone,district,street,community,compound,building,unit,number,kind,area_m2,area_basis\n\
o-1,张三,13812345678,平利县,城关镇,三里垭社区,金元尚城A区,1,1,101,flat,89.5,registered\n\
o-1,张三,,平利县,城关镇,三里垭社区,金元尚城A区,1,,P-01,parking,12.00,contract\n\
dev,开发商,,平利县,城关镇,三里垭社区,金元尚城A区,1,1,102,flat,90.25,surveyed\n\
dev,开发商,,平利县,城关镇,三里垭社区,金元尚城A区,1,1,103,flat,90.25,surveyed\n\
shop-9,某某商贸有限公司,023-85281234,平利县,城关镇,三里垭社区,金元尚城A区,1,,S-1,shop,72.00,registered\n";

fn import(url: &str, file: &std::path::Path, extra: &[&str]) -> Output {
    bin()
        .args(["import", "roster"])
        .arg(file)
        .args(["--database-url", url])
        .args(extra)
        .output()
        .unwrap()
}

async fn parts(url: &str) -> i64 {
    let db = Db::connect(url).await.unwrap();
    let n = sqlx::query("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM parts")
        .fetch_one(db.reader())
        .await
        .unwrap()
        .try_get::<i64, _>("n")
        .unwrap();
    db.close().await;
    n
}

fn report(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

async fn imports_then_reimport_changes_nothing(kind: Kind) {
    let (url, _dir) = fresh_url(kind).await;
    let tmp = tempfile::tempdir().unwrap();
    let f = write(tmp.path(), "r.csv", GOOD);
    let r = report(&import(&url, &f, &[]));
    assert_eq!(r["parts_created"], 5);
    assert_eq!(
        r["owners_created"], 3,
        "one buyer's two parts are one owner; the developer's unsold parts one owner"
    );
    let r = report(&import(&url, &f, &[]));
    assert_eq!(r["parts_unchanged"], 5);
    assert_eq!(r["parts_created"], 0);
    let changed = GOOD.replace("101,flat,89.5,", "101,flat,89.6,");
    let f2 = write(tmp.path(), "r2.csv", &changed);
    let r = report(&import(&url, &f2, &[]));
    assert_eq!(r["parts_updated"], 1);
    assert_eq!(parts(&url).await, 5);
}

async fn invalid_rows_are_all_reported_and_nothing_is_written(kind: Kind) {
    let (url, _dir) = fresh_url(kind).await;
    let tmp = tempfile::tempdir().unwrap();
    let bad = "district,street,community,compound,building,unit,number,kind,area_m2,area_basis,owner_key,owner_name,phone\n\
平利县,城关镇,三里垭社区,美嘉星座,1,1,101,flat,89.50,registered,o-1,张三,13812345678\n\
平利县,城关镇,三里垭社区,美嘉星座,1,1,102,flat,89.505,registered,o-2,李四,\n\
平利县,城关镇,三里垭社区,美嘉星座,1,1,103,villa,80,registered,o-3,王五,\n\
平利县,城关镇,三里垭社区,美嘉星座,1,1,104,flat,80,guessed,o-4,赵六,\n\
平利县,城关镇,三里垭社区,美嘉星座,1,1,101,flat,80,registered,o-5,钱七,\n\
平利县,城关镇,三里垭社区,,1,1,105,flat,80,registered,o-6,孙八,\n\
平利县,城关镇,三里垭社区,美嘉星座,1,1,106,flat,80,registered,o-7,周九,12ab\n\
平利县,城关镇,三里垭社区,美嘉星座,1,1,107,flat,-3,registered,o-8,吴十,\n";
    let f = write(tmp.path(), "bad.csv", bad);
    let out = import(&url, &f, &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    for want in [
        "row 3: area_m2: '89.505' has more than two decimals",
        "row 4: kind: unknown kind 'villa'",
        "row 5: area_basis: unknown basis 'guessed'",
        "row 6: number: duplicate part '101' (first at row 2)",
        "row 7: compound: is empty",
        "row 8: phone: '12ab' is not a phone number",
        "row 9: area_m2: '-3' is negative",
        "nothing was imported",
    ] {
        assert!(err.contains(want), "missing '{want}' in:\n{err}");
    }
    assert!(!err.contains("row 2:"), "row 2 is valid");
    // Nothing was written: the database was never even opened for a bad file,
    // and a good import afterwards starts from zero.
    let good = write(tmp.path(), "good.csv", GOOD);
    report(&import(&url, &good, &["--dry-run"]));
    assert_eq!(parts(&url).await, 0, "dry run writes nothing");
}

/// A hostile or broken CSV: extra fields, an unclosed quote, a huge header and
/// NUL are refused with their row; formula-like cells are data, stored as typed.
async fn hostile_csv_is_refused_or_kept_as_data(kind: Kind) {
    let (url, _dir) = fresh_url(kind).await;
    let tmp = tempfile::tempdir().unwrap();
    let head = "district,street,community,compound,building,unit,number,kind,area_m2,area_basis,owner_key,owner_name,phone\n";
    let row =
        "平利县,城关镇,三里垭社区,美嘉星座,1,1,101,flat,89.50,registered,o-1,张三,13812345678\n";
    let wide: String = (0..70).map(|i| format!("x{i},")).collect();
    for (name, text, want) in [
        (
            "extra.csv",
            format!(
                "{head}{row}{}",
                row.replace("101,", "102,").replace('\n', ",surplus\n")
            ),
            "row 3: row: has 14 fields, the header has only 13",
        ),
        (
            "quote.csv",
            format!(
                "{head}{row}{}",
                row.replace("张三", "\"李四").replace("101,", "102,")
            ),
            "row 3: row: unclosed quote",
        ),
        (
            "wide.csv",
            format!("{wide}{head}{row}"),
            "row 1: header: is too wide (83 columns",
        ),
        (
            "nul.csv",
            format!("{head}{}", row.replace("张三", "张\u{0}三")),
            "row 2: owner_name: contains a control character",
        ),
    ] {
        let f = write(tmp.path(), name, &text);
        let out = import(&url, &f, &[]);
        assert_eq!(out.status.code(), Some(2), "{name}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(want), "{name}: missing '{want}' in:\n{err}");
        assert!(err.contains("nothing was imported"), "{name}");
    }
    let formulas = format!(
        "{head}{}",
        row.replace("张三", "\"=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"")
            .replace("o-1", "@o-1")
            .replace(",1,1,", ",+1,-1,")
    );
    let f = write(tmp.path(), "formulas.csv", &formulas);
    report(&import(&url, &f, &[]));
    let db = Db::connect(&url).await.unwrap();
    let r = sqlx::query("SELECT name FROM owners")
        .fetch_one(db.reader())
        .await
        .unwrap();
    assert_eq!(
        r.try_get::<String, _>("name").unwrap(),
        "=HYPERLINK(\"http://x\",\"y\")"
    );
    let names: Vec<String> = sqlx::query("SELECT name FROM places ORDER BY path")
        .fetch_all(db.reader())
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get::<String, _>("name").unwrap())
        .collect();
    assert!(
        names.contains(&"+1".to_string()) && names.contains(&"-1".to_string()),
        "{names:?}"
    );
    db.close().await;
}

both!(
    hostile_csv_is_refused_or_kept_as_data,
    imports_then_reimport_changes_nothing,
    invalid_rows_are_all_reported_and_nothing_is_written
);

#[test]
fn dry_run_reports_without_writing_and_missing_columns_are_named() {
    let tmp = tempfile::tempdir().unwrap();
    let f = write(tmp.path(), "r.csv", GOOD);
    let out = bin()
        .args(["import", "roster"])
        .arg(&f)
        .arg("--dry-run")
        .arg("--data-dir")
        .arg(tmp.path())
        .output()
        .unwrap();
    let r = report(&out);
    assert_eq!(r["dry_run"], true);
    assert_eq!(r["parts_created"], 5);
    let again = bin()
        .args(["import", "roster"])
        .arg(&f)
        .arg("--dry-run")
        .arg("--data-dir")
        .arg(tmp.path())
        .output()
        .unwrap();
    assert_eq!(
        report(&again)["parts_created"],
        5,
        "the first dry run wrote nothing"
    );
    let nocol = write(tmp.path(), "n.csv", "district,street\nx,y\n");
    let out = bin()
        .args(["import", "roster"])
        .arg(&nocol)
        .arg("--data-dir")
        .arg(tmp.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("row 1: kind: missing column in header"));
    let latin1 = tmp.path().join("l.csv");
    std::fs::write(&latin1, b"district\xff\n").unwrap();
    let out = bin()
        .args(["import", "roster"])
        .arg(&latin1)
        .arg("--data-dir")
        .arg(tmp.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not UTF-8"));
}

#[test]
fn unknown_database_scheme_is_refused_and_creates_no_file() {
    let tmp = tempfile::tempdir().unwrap();
    let f = write(tmp.path(), "r.csv", GOOD);
    let target = tmp.path().join("x.db");
    let out = bin()
        .args(["import", "roster"])
        .arg(&f)
        .arg("--database-url")
        .arg(format!("mysql://{}", target.display()))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("unsupported database URL scheme 'mysql'")
    );
    assert!(!target.exists());
    let out = bin()
        .args(["serve", "--database-url", "redis://localhost/0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert_eq!(
        std::fs::read_dir(tmp.path()).unwrap().count(),
        1,
        "only the csv is there"
    );
}

#[test]
fn admin_create_user_validates_and_refuses_duplicates() {
    let tmp = tempfile::tempdir().unwrap();
    let run = |args: &[&str], stdin: &str| {
        use std::io::Write;
        let mut child = bin()
            .args(["admin", "create-user"])
            .args(args)
            .arg("--data-dir")
            .arg(tmp.path())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let ok = run(&["root", "--admin"], "a long enough password\n");
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("administrator"));
    assert!(
        tmp.path().join("gongzhi.db").exists(),
        "default database is data-dir/gongzhi.db"
    );
    let dup = run(&["root"], "a long enough password\n");
    assert!(!dup.status.success());
    assert!(String::from_utf8_lossy(&dup.stderr).contains("username 'root' is taken"));
    let short = run(&["other"], "short\n");
    assert!(
        String::from_utf8_lossy(&short.stderr).contains("password: must be at least 8 characters")
    );
    let bad = run(&["Bad Name"], "a long enough password\n");
    assert!(String::from_utf8_lossy(&bad.stderr).contains("username:"));
}
