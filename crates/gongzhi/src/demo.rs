//! The demo city, built from the five reports.

use gongzhi_store::Db;

pub async fn load(_db: &Db) -> anyhow::Result<String> {
    Ok(String::new())
}
