//! A compound's append-only Merkle log (RFC 6962) of its books: stored leaf
//! hashes, roots and proofs computed from them, and the server's Ed25519
//! checkpoint key, which lives in a file in the data dir, never in the
//! database (whoever can change the database must not be able to sign).

use crate::db::{self, Db, Tx};
use crate::error::StoreError;
use ed25519_dalek::SigningKey;
use gongzhi_domain::merkle::{self, Checkpoint, Hash, Tree};
use std::path::Path;

/// The name of the checkpoint key in signed notes.
pub const KEY_NAME: &str = "gongzhi";
/// The key file inside the data dir.
pub const KEY_FILE: &str = "books-signing.key";

pub async fn append_leaf(
    tx: &mut Tx,
    compound_id: &str,
    idx: i64,
    leaf: &Hash,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO fund_leaves (compound_id, idx, hash) VALUES ($1, $2, $3)")
        .bind(compound_id)
        .bind(idx)
        .bind(merkle::hex(leaf))
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The stored leaf hashes with `from <= idx < to`, in order.
pub async fn leaves(
    db: &Db,
    compound_id: &str,
    from: i64,
    to: i64,
) -> Result<Vec<Hash>, StoreError> {
    let rows = sqlx::query("SELECT idx, hash FROM fund_leaves WHERE compound_id = $1 AND idx >= $2 AND idx < $3 ORDER BY idx")
        .bind(compound_id)
        .bind(from)
        .bind(to)
        .fetch_all(db.reader())
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for (n, r) in rows.iter().enumerate() {
        let idx = db::i(r, "idx")?;
        if idx != from + n as i64 {
            return Err(StoreError::Config(format!(
                "the log of compound {compound_id} has a gap at leaf {}",
                from + n as i64
            )));
        }
        let h = db::s(r, "hash")?;
        out.push(
            merkle::from_hex(&h)
                .ok_or_else(|| StoreError::Config(format!("leaf {idx}: malformed hash")))?,
        );
    }
    Ok(out)
}

/// The current log size (number of leaves).
pub async fn size(db: &Db, compound_id: &str) -> Result<i64, StoreError> {
    Ok(crate::fund::books(db, compound_id).await?.log_size)
}

/// The tree of the first `size` leaves, rebuilt from the stored hashes.
pub async fn tree(db: &Db, compound_id: &str, size: i64) -> Result<Tree, StoreError> {
    let l = leaves(db, compound_id, 0, size).await?;
    if l.len() as i64 != size {
        return Err(StoreError::Config(format!(
            "the log of compound {compound_id} has {} leaves, expected {size}",
            l.len()
        )));
    }
    Ok(Tree::from_leaf_hashes(l))
}

/// The signed checkpoint note of the compound's log at its current size.
pub async fn checkpoint(
    db: &Db,
    key: &SigningKey,
    compound_id: &str,
    code: &str,
) -> Result<(Checkpoint, String), StoreError> {
    let n = size(db, compound_id).await?;
    let t = tree(db, compound_id, n).await?;
    let cp = Checkpoint {
        origin: crate::fund::origin(code),
        size: n as u64,
        root: t.root(),
    };
    let note = merkle::sign_note(&cp.body(), KEY_NAME, key);
    Ok((cp, note))
}

/// Loads the checkpoint key from `dir/books-signing.key` (a hex Ed25519
/// seed), creating it on first start (mode 0600).
pub fn load_or_create_key(dir: &Path) -> Result<SigningKey, StoreError> {
    let path = dir.join(KEY_FILE);
    match std::fs::read_to_string(&path) {
        Ok(s) => {
            let bytes = hex::decode(s.trim()).map_err(|_| {
                StoreError::Config(format!("{}: not a hex Ed25519 seed", path.display()))
            })?;
            let seed: [u8; 32] = bytes.try_into().map_err(|_| {
                StoreError::Config(format!("{}: the seed must be 32 bytes", path.display()))
            })?;
            Ok(SigningKey::from_bytes(&seed))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError::Config(format!("cannot create {}: {e}", dir.display())))?;
            let key = SigningKey::generate(&mut rand::rngs::OsRng);
            let tmp = dir.join(format!("{KEY_FILE}.tmp"));
            {
                use std::io::Write;
                let mut opts = std::fs::OpenOptions::new();
                opts.write(true).create(true).truncate(true);
                #[cfg(unix)]
                {
                    use std::os::unix::fs::OpenOptionsExt;
                    opts.mode(0o600);
                }
                let mut f = opts.open(&tmp).map_err(|e| {
                    StoreError::Config(format!("cannot write {}: {e}", tmp.display()))
                })?;
                f.write_all(hex::encode(key.to_bytes()).as_bytes())
                    .and_then(|_| f.sync_all())
                    .map_err(|e| {
                        StoreError::Config(format!("cannot write {}: {e}", tmp.display()))
                    })?;
            }
            std::fs::rename(&tmp, &path).map_err(|e| {
                StoreError::Config(format!("cannot create {}: {e}", path.display()))
            })?;
            tracing::info!(path = %path.display(), "created the books checkpoint key");
            Ok(key)
        }
        Err(e) => Err(StoreError::Config(format!(
            "cannot read {}: {e}",
            path.display()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_is_created_once_and_reloaded() {
        let dir = tempfile::tempdir().unwrap();
        let a = load_or_create_key(dir.path()).unwrap();
        let b = load_or_create_key(dir.path()).unwrap();
        assert_eq!(a.to_bytes(), b.to_bytes());
        std::fs::write(dir.path().join(KEY_FILE), "zz").unwrap();
        assert!(load_or_create_key(dir.path())
            .unwrap_err()
            .to_string()
            .contains("not a hex"));
    }
}
