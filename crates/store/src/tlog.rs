//! A compound's append-only Merkle log (RFC 6962) of its books: stored leaf
//! hashes, roots and proofs computed from them, and the server's Ed25519
//! checkpoint key, which lives in a file in the data dir, never in the
//! database (whoever can change the database must not be able to sign).

use crate::db::{self, Db, Tx};
use crate::error::StoreError;
use ed25519_dalek::SigningKey;
use gongzhi_domain::merkle::{self, Checkpoint, Hash, NodeKey, Tree};
use std::collections::HashMap;
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
    // every perfect subtree this leaf completes (one per trailing 1 bit of
    // its index), from its stored left sibling
    let (mut cur, mut level, mut i) = (*leaf, 0u32, idx as u64);
    while i & 1 == 1 {
        let left = if level == 0 {
            sqlx::query("SELECT hash FROM fund_leaves WHERE compound_id = $1 AND idx = $2")
                .bind(compound_id)
                .bind((i - 1) as i64)
                .fetch_optional(&mut **tx)
                .await?
        } else {
            sqlx::query(
                "SELECT hash FROM fund_nodes WHERE compound_id = $1 AND level = $2 AND idx = $3",
            )
            .bind(compound_id)
            .bind(i64::from(level))
            .bind((i - 1) as i64)
            .fetch_optional(&mut **tx)
            .await?
        };
        // a log begun before cached nodes: its higher nodes stay uncached
        // (roots and proofs then fall back to the leaves)
        let Some(left) = left.and_then(|r| merkle::from_hex(&db::s(&r, "hash").ok()?)) else {
            break;
        };
        cur = merkle::node_hash(&left, &cur);
        level += 1;
        i >>= 1;
        sqlx::query(
            "INSERT INTO fund_nodes (compound_id, level, idx, hash) VALUES ($1, $2, $3, $4)",
        )
        .bind(compound_id)
        .bind(i64::from(level))
        .bind(i as i64)
        .bind(merkle::hex(&cur))
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Appends leaves `from..from + leaves.len()` in a few multi-row statements
/// (a batch: no statement per leaf), with every perfect subtree they
/// complete, as [`append_leaf`] would one by one. The older left siblings
/// needed are read once (committed before this transaction's lock).
pub async fn append_leaves(
    db: &Db,
    tx: &mut Tx,
    compound_id: &str,
    from: i64,
    leaves: &[Hash],
) -> Result<(), StoreError> {
    let n0 = from as u64;
    // the older subtrees the new nodes need, then the new nodes
    let mut old_keys: Vec<NodeKey> = completed(n0, leaves.len() as u64)
        .flat_map(|(level, j)| [(level - 1, 2 * j), (level - 1, 2 * j + 1)])
        .filter(|&(level, j)| ((j + 1) << level) <= n0)
        .collect();
    old_keys.sort_unstable();
    old_keys.dedup();
    let old = nodes(db, compound_id, &old_keys).await?;
    let mut made: HashMap<NodeKey, Hash> = HashMap::with_capacity(leaves.len() * 2);
    for (k, h) in leaves.iter().enumerate() {
        made.insert((0, n0 + k as u64), *h);
    }
    let mut new_nodes = Vec::with_capacity(leaves.len());
    for (level, j) in completed(n0, leaves.len() as u64) {
        if ((j + 1) << level) <= n0 {
            continue;
        }
        let get = |k: NodeKey| made.get(&k).or_else(|| old.get(&k)).copied();
        // a log begun before cached nodes: its higher nodes stay uncached
        let (Some(l), Some(r)) = (get((level - 1, 2 * j)), get((level - 1, 2 * j + 1))) else {
            continue;
        };
        let h = merkle::node_hash(&l, &r);
        made.insert((level, j), h);
        new_nodes.push((level, j, h));
    }
    for (k, chunk) in leaves.chunks(300).enumerate() {
        let sql = format!(
            "INSERT INTO fund_leaves (compound_id, idx, hash) VALUES {}",
            db.bulk_values(chunk.len(), 3)
        );
        let mut q = sqlx::query(&sql);
        for (i, h) in chunk.iter().enumerate() {
            q = q
                .bind(compound_id)
                .bind(from + (k * 300 + i) as i64)
                .bind(merkle::hex(h));
        }
        q.execute(&mut **tx).await?;
    }
    for chunk in new_nodes.chunks(250) {
        let sql = format!(
            "INSERT INTO fund_nodes (compound_id, level, idx, hash) VALUES {}",
            db.bulk_values(chunk.len(), 4)
        );
        let mut q = sqlx::query(&sql);
        for (level, j, h) in chunk {
            q = q
                .bind(compound_id)
                .bind(i64::from(*level))
                .bind(*j as i64)
                .bind(merkle::hex(h));
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

/// The perfect subtrees (level ≥ 1, index) completed by appending leaves
/// `n0..n0 + k`, lower levels first for each leaf, in leaf order.
fn completed(n0: u64, k: u64) -> impl Iterator<Item = NodeKey> {
    (n0..n0 + k).flat_map(|i| {
        (1..64u32)
            .take_while(move |l| (i >> (l - 1)) & 1 == 1)
            .map(move |l| (l, i >> l))
    })
}

/// The stored hashes of these perfect subtrees (leaves at level 0, cached
/// nodes above). Missing ones are absent from the map.
pub async fn nodes(
    db: &Db,
    compound_id: &str,
    keys: &[NodeKey],
) -> Result<HashMap<NodeKey, Hash>, StoreError> {
    let mut out = HashMap::with_capacity(keys.len());
    let mut levels: Vec<u32> = keys.iter().map(|k| k.0).collect();
    levels.sort_unstable();
    levels.dedup();
    // one statement for the leaves, one for every cached level; the lists
    // are integers we formatted: nothing from the caller
    let list = |level: u32| {
        keys.iter()
            .filter(|k| k.0 == level)
            .map(|k| k.1.to_string())
            .collect::<Vec<_>>()
            .join(",")
    };
    let mut sqls = Vec::new();
    if levels.first() == Some(&0) {
        sqls.push(format!(
            "SELECT 0 AS level, idx, hash FROM fund_leaves WHERE compound_id = $1 AND idx IN ({})",
            list(0)
        ));
    }
    let upper: Vec<String> = levels
        .iter()
        .filter(|l| **l > 0)
        .map(|l| format!("(level = {l} AND idx IN ({}))", list(*l)))
        .collect();
    if !upper.is_empty() {
        sqls.push(format!(
            "SELECT level, idx, hash FROM fund_nodes WHERE compound_id = $1 AND ({})",
            upper.join(" OR ")
        ));
    }
    for sql in sqls {
        for r in sqlx::query(&sql)
            .bind(compound_id)
            .fetch_all(db.reader())
            .await?
        {
            if let Some(h) = merkle::from_hex(&db::s(&r, "hash")?) {
                out.insert((db::i(&r, "level")? as u32, db::i(&r, "idx")? as u64), h);
            }
        }
    }
    Ok(out)
}

/// The MTH of each range, from cached nodes when they are all there, else
/// from the leaves of the first `size` entries.
async fn range_hashes(
    db: &Db,
    compound_id: &str,
    size: i64,
    ranges: &[(u64, u64)],
) -> Result<Vec<Hash>, StoreError> {
    let keys = merkle::keys_of(ranges);
    let got = nodes(db, compound_id, &keys).await?;
    if got.len() == keys.len() {
        let get = |k: NodeKey| got.get(&k).copied();
        return Ok(ranges
            .iter()
            .map(|(a, b)| merkle::range_hash(*a, *b, &get).expect("every key fetched"))
            .collect());
    }
    let leaves = leaves(db, compound_id, 0, size).await?;
    Ok(ranges
        .iter()
        .map(|(a, b)| merkle::root_from_leaf_hashes(&leaves[*a as usize..*b as usize]))
        .collect())
}

/// The root of the first `size` leaves.
pub async fn root(db: &Db, compound_id: &str, size: i64) -> Result<Hash, StoreError> {
    if size == 0 {
        return Ok(merkle::empty_root());
    }
    Ok(range_hashes(db, compound_id, size, &[(0, size as u64)]).await?[0])
}

/// Inclusion proof of leaf `index` in the tree of `size` leaves: (leaf
/// hash, proof, root).
pub async fn inclusion(
    db: &Db,
    compound_id: &str,
    index: u64,
    size: u64,
) -> Result<(Hash, Vec<Hash>, Hash), StoreError> {
    let mut ranges = merkle::inclusion_ranges(index, size);
    ranges.push((index, index + 1));
    ranges.push((0, size));
    let mut h = range_hashes(db, compound_id, size as i64, &ranges).await?;
    let root = h.pop().expect("root");
    let leaf = h.pop().expect("leaf");
    Ok((leaf, h, root))
}

/// Consistency proof from the tree of `old` leaves to that of `new`.
pub async fn consistency(
    db: &Db,
    compound_id: &str,
    old: u64,
    new: u64,
) -> Result<Vec<Hash>, StoreError> {
    range_hashes(
        db,
        compound_id,
        new as i64,
        &merkle::consistency_ranges(old, new),
    )
    .await
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

/// The current log size (number of leaves; 0 before the books are opened).
pub async fn size(db: &Db, compound_id: &str) -> Result<i64, StoreError> {
    let r = sqlx::query("SELECT log_size FROM fund_books WHERE compound_id = $1")
        .bind(compound_id)
        .fetch_optional(db.reader())
        .await?;
    r.map_or(Ok(0), |r| db::i(&r, "log_size"))
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
    let cp = Checkpoint {
        origin: gongzhi_domain::book_entries::origin(code),
        size: n as u64,
        root: root(db, compound_id, n).await?,
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
    fn a_batch_completes_the_subtrees_one_by_one_would() {
        // leaf 3 completes (1,1) and (2,0); leaf 5 completes (1,2)
        let got: Vec<NodeKey> = completed(3, 3).collect();
        assert_eq!(got, vec![(1, 1), (2, 0), (1, 2)]);
        assert_eq!(completed(0, 1).count(), 0);
        assert_eq!(completed(0, 8).count(), 7);
    }

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
