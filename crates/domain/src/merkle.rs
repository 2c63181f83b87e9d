//! The tamper-evident log of a compound's books: an append-only RFC 6962
//! Merkle tree (Certificate Transparency hashing), inclusion and consistency
//! proofs, and C2SP `tlog-checkpoint` notes signed with Ed25519.
//!
//! Hashing (RFC 6962 §2.1): a leaf hashes as `SHA-256(0x00 ‖ data)`, an
//! interior node as `SHA-256(0x01 ‖ left ‖ right)`, the empty tree as
//! `SHA-256("")`. A tree of `n > 1` leaves splits at `k`, the largest power
//! of two smaller than `n`. The proofs are those of RFC 6962 §2.1.1/§2.1.2
//! and are verified with the algorithms of RFC 9162 §2.1.3.2/§2.1.4.2.
//!
//! This is a small, self-contained implementation (about as long as the
//! glue a crate would need) tested against the Certificate Transparency
//! reference vectors and, by property tests, for every size and index.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ed25519_dalek::{Signer, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};

pub type Hash = [u8; 32];

/// `SHA-256(0x00 ‖ data)`.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(data);
    h.finalize().into()
}

/// `SHA-256(0x01 ‖ left ‖ right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The root of the empty tree: `SHA-256("")`.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// The largest power of two strictly smaller than `n` (`n >= 2`).
fn split_point(n: usize) -> usize {
    debug_assert!(n >= 2);
    let mut k = 1;
    while k << 1 < n {
        k <<= 1;
    }
    k
}

/// The Merkle tree hash (MTH) of a list of leaf hashes.
pub fn root_from_leaf_hashes(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        n => {
            let k = split_point(n);
            node_hash(
                &root_from_leaf_hashes(&leaves[..k]),
                &root_from_leaf_hashes(&leaves[k..]),
            )
        }
    }
}

/// Incremental tree: keeps the leaf hashes and the compact range (one hash
/// per set bit of the size) so that the current root costs `O(log n)`.
#[derive(Debug, Clone, Default)]
pub struct Tree {
    leaves: Vec<Hash>,
    /// Roots of perfect subtrees, left to right, sizes strictly decreasing.
    range: Vec<(usize, Hash)>,
}

impl Tree {
    pub fn new() -> Tree {
        Tree::default()
    }
    pub fn from_leaf_hashes(leaves: Vec<Hash>) -> Tree {
        let mut t = Tree::new();
        for h in leaves {
            t.push_hash(h);
        }
        t
    }
    pub fn len(&self) -> usize {
        self.leaves.len()
    }
    pub fn is_empty(&self) -> bool {
        self.leaves.is_empty()
    }
    pub fn leaf_hashes(&self) -> &[Hash] {
        &self.leaves
    }
    pub fn push(&mut self, data: &[u8]) {
        self.push_hash(leaf_hash(data));
    }
    pub fn push_hash(&mut self, h: Hash) {
        self.leaves.push(h);
        let mut cur = (1usize, h);
        while let Some(&(size, left)) = self.range.last() {
            if size != cur.0 {
                break;
            }
            self.range.pop();
            cur = (size * 2, node_hash(&left, &cur.1));
        }
        self.range.push(cur);
    }
    /// The root of the whole tree.
    pub fn root(&self) -> Hash {
        let mut it = self.range.iter().rev();
        match it.next() {
            None => empty_root(),
            Some(&(_, first)) => it.fold(first, |acc, (_, left)| node_hash(left, &acc)),
        }
    }
    /// The root of the first `size` leaves.
    pub fn root_at(&self, size: usize) -> Option<Hash> {
        (size <= self.len()).then(|| root_from_leaf_hashes(&self.leaves[..size]))
    }
    /// Inclusion proof of leaf `index` in the tree of the first `size` leaves.
    pub fn inclusion_proof(&self, index: usize, size: usize) -> Option<Vec<Hash>> {
        (index < size && size <= self.len()).then(|| inclusion_path(index, &self.leaves[..size]))
    }
    /// Consistency proof from the tree of `old` leaves to that of `new`.
    pub fn consistency_proof(&self, old: usize, new: usize) -> Option<Vec<Hash>> {
        if old > new || new > self.len() {
            return None;
        }
        if old == 0 || old == new {
            return Some(Vec::new());
        }
        Some(subproof(old, &self.leaves[..new], true))
    }
}

/// RFC 6962 PATH(m, D[n]).
fn inclusion_path(m: usize, d: &[Hash]) -> Vec<Hash> {
    let n = d.len();
    if n <= 1 {
        return Vec::new();
    }
    let k = split_point(n);
    if m < k {
        let mut p = inclusion_path(m, &d[..k]);
        p.push(root_from_leaf_hashes(&d[k..]));
        p
    } else {
        let mut p = inclusion_path(m - k, &d[k..]);
        p.push(root_from_leaf_hashes(&d[..k]));
        p
    }
}

/// RFC 6962 SUBPROOF(m, D[n], b).
fn subproof(m: usize, d: &[Hash], b: bool) -> Vec<Hash> {
    let n = d.len();
    if m == n {
        return if b {
            Vec::new()
        } else {
            vec![root_from_leaf_hashes(d)]
        };
    }
    let k = split_point(n);
    if m <= k {
        let mut p = subproof(m, &d[..k], b);
        p.push(root_from_leaf_hashes(&d[k..]));
        p
    } else {
        let mut p = subproof(m - k, &d[k..], false);
        p.push(root_from_leaf_hashes(&d[..k]));
        p
    }
}

// ---------------------------------------------------------------------------
// Roots and proofs from cached perfect subtrees
// ---------------------------------------------------------------------------

/// A perfect subtree of the log: `(level, idx)` covers the `2^level` leaves
/// from `idx · 2^level`. Level 0 is a leaf. A log that stores the hash of
/// every perfect subtree as it completes (at most one new one per level per
/// append) answers any root or proof from `O(log² n)` stored hashes instead
/// of rehashing all leaves.
pub type NodeKey = (u32, u64);

/// The perfect subtrees whose hashes compose MTH(D[lo..hi]) under RFC 6962
/// splitting (every range that splitting reaches is aligned).
pub fn range_keys(lo: u64, hi: u64, out: &mut Vec<NodeKey>) {
    let n = hi - lo;
    if n == 0 {
        return;
    }
    if n.is_power_of_two() && lo.is_multiple_of(n) {
        out.push((n.trailing_zeros(), lo / n));
        return;
    }
    let k = split_point(n as usize) as u64;
    range_keys(lo, lo + k, out);
    range_keys(lo + k, hi, out);
}

/// MTH(D[lo..hi]) from perfect-subtree hashes; None when one is missing.
pub fn range_hash(lo: u64, hi: u64, node: &dyn Fn(NodeKey) -> Option<Hash>) -> Option<Hash> {
    let n = hi - lo;
    if n == 0 {
        return Some(empty_root());
    }
    if n.is_power_of_two() && lo.is_multiple_of(n) {
        return node((n.trailing_zeros(), lo / n));
    }
    let k = split_point(n as usize) as u64;
    Some(node_hash(
        &range_hash(lo, lo + k, node)?,
        &range_hash(lo + k, hi, node)?,
    ))
}

/// The ranges whose MTH an inclusion proof of leaf `m` in a tree of `n`
/// leaves consists of, in proof order (RFC 6962 PATH).
pub fn inclusion_ranges(m: u64, n: u64) -> Vec<(u64, u64)> {
    fn go(m: u64, lo: u64, hi: u64, out: &mut Vec<(u64, u64)>) {
        let n = hi - lo;
        if n <= 1 {
            return;
        }
        let k = split_point(n as usize) as u64;
        if m < k {
            go(m, lo, lo + k, out);
            out.push((lo + k, hi));
        } else {
            go(m - k, lo + k, hi, out);
            out.push((lo, lo + k));
        }
    }
    let mut out = Vec::new();
    if m < n {
        go(m, 0, n, &mut out);
    }
    out
}

/// The ranges of a consistency proof from `m` to `n` leaves (RFC 6962
/// SUBPROOF), in proof order; empty when `m` is 0 or `n`.
pub fn consistency_ranges(m: u64, n: u64) -> Vec<(u64, u64)> {
    fn go(m: u64, lo: u64, hi: u64, b: bool, out: &mut Vec<(u64, u64)>) {
        let n = hi - lo;
        if m == n {
            if !b {
                out.push((lo, hi));
            }
            return;
        }
        let k = split_point(n as usize) as u64;
        if m <= k {
            go(m, lo, lo + k, b, out);
            out.push((lo + k, hi));
        } else {
            go(m - k, lo + k, hi, false, out);
            out.push((lo, lo + k));
        }
    }
    let mut out = Vec::new();
    if m > 0 && m < n {
        go(m, 0, n, true, &mut out);
    }
    out
}

/// Every perfect subtree the given ranges need.
pub fn keys_of(ranges: &[(u64, u64)]) -> Vec<NodeKey> {
    let mut out = Vec::new();
    for (lo, hi) in ranges {
        range_keys(*lo, *hi, &mut out);
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// Why a proof did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("index {index} is not below tree size {size}")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("old size {old} is larger than new size {new}")]
    SizesOutOfOrder { old: u64, new: u64 },
    #[error("the proof has the wrong number of hashes")]
    WrongLength,
    #[error("the proof does not lead to the expected root")]
    RootMismatch,
}

/// Verifies that `leaf` is leaf `index` of the tree of `size` with `root`
/// (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(
    leaf: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let (mut fnum, mut snum) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if snum == 0 {
            return Err(ProofError::WrongLength);
        }
        if fnum & 1 == 1 || fnum == snum {
            r = node_hash(p, &r);
            if fnum & 1 == 0 {
                while fnum & 1 == 0 && fnum != 0 {
                    fnum >>= 1;
                    snum >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fnum >>= 1;
        snum >>= 1;
    }
    if snum != 0 {
        return Err(ProofError::WrongLength);
    }
    if &r == root {
        Ok(())
    } else {
        Err(ProofError::RootMismatch)
    }
}

/// Verifies that the tree of `old` leaves with `old_root` is a prefix of the
/// tree of `new` leaves with `new_root` (RFC 9162 §2.1.4.2).
pub fn verify_consistency(
    old: u64,
    new: u64,
    proof: &[Hash],
    old_root: &Hash,
    new_root: &Hash,
) -> Result<(), ProofError> {
    if old > new {
        return Err(ProofError::SizesOutOfOrder { old, new });
    }
    if old == new {
        return if proof.is_empty() {
            if old_root == new_root {
                Ok(())
            } else {
                Err(ProofError::RootMismatch)
            }
        } else {
            Err(ProofError::WrongLength)
        };
    }
    if old == 0 {
        return if proof.is_empty() {
            Ok(())
        } else {
            Err(ProofError::WrongLength)
        };
    }
    if proof.is_empty() {
        return Err(ProofError::WrongLength);
    }
    let mut path: Vec<Hash> = proof.to_vec();
    if old.is_power_of_two() {
        path.insert(0, *old_root);
    }
    let (mut fnum, mut snum) = (old - 1, new - 1);
    while fnum & 1 == 1 {
        fnum >>= 1;
        snum >>= 1;
    }
    let (mut fr, mut sr) = (path[0], path[0]);
    for c in &path[1..] {
        if snum == 0 {
            return Err(ProofError::WrongLength);
        }
        if fnum & 1 == 1 || fnum == snum {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fnum & 1 == 0 {
                while fnum & 1 == 0 && fnum != 0 {
                    fnum >>= 1;
                    snum >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fnum >>= 1;
        snum >>= 1;
    }
    if snum != 0 {
        return Err(ProofError::WrongLength);
    }
    if &fr == old_root && &sr == new_root {
        Ok(())
    } else {
        Err(ProofError::RootMismatch)
    }
}

// ---------------------------------------------------------------------------
// Checkpoints: C2SP tlog-checkpoint bodies in C2SP signed notes.
// ---------------------------------------------------------------------------

/// A checkpoint: the log's origin line, its size and root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
}

impl Checkpoint {
    /// The note body: `origin\nsize\nbase64(root)\n`.
    pub fn body(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            B64.encode(self.root)
        )
    }

    pub fn parse_body(body: &str) -> Result<Checkpoint, NoteError> {
        let mut lines = body.split('\n');
        let origin = lines
            .next()
            .filter(|o| !o.is_empty())
            .ok_or(NoteError::Malformed("origin line"))?;
        let size = lines
            .next()
            .and_then(|s| (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())).then_some(s))
            .and_then(|s| s.parse::<u64>().ok())
            .ok_or(NoteError::Malformed("size line"))?;
        let root = lines
            .next()
            .and_then(|r| B64.decode(r).ok())
            .and_then(|v| <Hash>::try_from(v.as_slice()).ok())
            .ok_or(NoteError::Malformed("root hash line"))?;
        Ok(Checkpoint {
            origin: origin.to_string(),
            size,
            root,
        })
    }
}

/// Why a signed note was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    #[error("malformed note: {0}")]
    Malformed(&'static str),
    #[error("no signature by key '{0}' with the pinned key hash")]
    NoSignature(String),
    #[error("the signature by '{0}' does not verify")]
    BadSignature(String),
    #[error("malformed verifier key: {0}")]
    BadKey(&'static str),
}

/// The 4-byte key hash of C2SP signed-note: `SHA-256(name ‖ "\n" ‖ 0x01 ‖ pub)[..4]`.
pub fn key_hash(name: &str, key: &VerifyingKey) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update([0x01]);
    h.update(key.as_bytes());
    let d = h.finalize();
    [d[0], d[1], d[2], d[3]]
}

/// The verifier key string `name+hexhash+base64(0x01 ‖ pub)`.
pub fn verifier_key(name: &str, key: &VerifyingKey) -> String {
    let mut raw = vec![0x01u8];
    raw.extend_from_slice(key.as_bytes());
    let kh = key_hash(name, key);
    format!(
        "{name}+{:02x}{:02x}{:02x}{:02x}+{}",
        kh[0],
        kh[1],
        kh[2],
        kh[3],
        B64.encode(raw)
    )
}

/// Parses a verifier key string back into its name and public key.
pub fn parse_verifier_key(vkey: &str) -> Result<(String, VerifyingKey), NoteError> {
    let mut parts = vkey.trim().splitn(3, '+');
    let name = parts
        .next()
        .filter(|n| !n.is_empty())
        .ok_or(NoteError::BadKey("name"))?;
    let hash = parts.next().ok_or(NoteError::BadKey("key hash"))?;
    let raw = parts
        .next()
        .and_then(|k| B64.decode(k).ok())
        .ok_or(NoteError::BadKey("key"))?;
    if raw.len() != 33 || raw[0] != 0x01 {
        return Err(NoteError::BadKey("not an Ed25519 key"));
    }
    let key = VerifyingKey::from_bytes(raw[1..].try_into().expect("32 bytes"))
        .map_err(|_| NoteError::BadKey("point"))?;
    let kh = key_hash(name, &key);
    if hash != format!("{:02x}{:02x}{:02x}{:02x}", kh[0], kh[1], kh[2], kh[3]) {
        return Err(NoteError::BadKey("key hash does not match the key"));
    }
    Ok((name.to_string(), key))
}

/// Signs `body` as a C2SP signed note with one Ed25519 signature line.
pub fn sign_note(body: &str, name: &str, key: &SigningKey) -> String {
    let sig = key.sign(body.as_bytes());
    let mut raw = key_hash(name, &key.verifying_key()).to_vec();
    raw.extend_from_slice(&sig.to_bytes());
    format!("{body}\n\u{2014} {name} {}\n", B64.encode(raw))
}

/// Opens a signed note: finds the signature of `name` with `key` and checks
/// it. Returns the body.
pub fn open_note<'a>(note: &'a str, name: &str, key: &VerifyingKey) -> Result<&'a str, NoteError> {
    let split = note
        .rfind("\n\n")
        .ok_or(NoteError::Malformed("no blank line before the signatures"))?;
    let body = &note[..split + 1];
    let sigs = &note[split + 2..];
    let kh = key_hash(name, key);
    for line in sigs.lines() {
        let Some(rest) = line.strip_prefix("\u{2014} ") else {
            return Err(NoteError::Malformed("signature line"));
        };
        let Some((who, b64)) = rest.split_once(' ') else {
            return Err(NoteError::Malformed("signature line"));
        };
        if who != name {
            continue;
        }
        let raw = B64
            .decode(b64)
            .map_err(|_| NoteError::Malformed("signature base64"))?;
        if raw.len() != 68 || raw[..4] != kh {
            continue;
        }
        let sig = ed25519_dalek::Signature::from_bytes(raw[4..].try_into().expect("64 bytes"));
        return key
            .verify(body.as_bytes(), &sig)
            .map(|_| body)
            .map_err(|_| NoteError::BadSignature(name.to_string()));
    }
    Err(NoteError::NoSignature(name.to_string()))
}

pub fn hex(h: &Hash) -> String {
    h.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn from_hex(s: &str) -> Option<Hash> {
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn cached_subtrees_give_the_same_roots_and_proofs() {
        let leaves: Vec<Hash> = (0u32..70).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        let t = Tree::from_leaf_hashes(leaves.clone());
        // every perfect subtree, as a log would store them
        let mut nodes = std::collections::HashMap::new();
        for level in 0..8u32 {
            let w = 1usize << level;
            for idx in 0..leaves.len() / w {
                nodes.insert(
                    (level, idx as u64),
                    root_from_leaf_hashes(&leaves[idx * w..(idx + 1) * w]),
                );
            }
        }
        let get = |k: NodeKey| nodes.get(&k).copied();
        for n in 1..=70u64 {
            assert_eq!(range_hash(0, n, &get), t.root_at(n as usize), "root {n}");
            for m in 0..n {
                let p: Vec<Hash> = inclusion_ranges(m, n)
                    .iter()
                    .map(|(a, b)| range_hash(*a, *b, &get).unwrap())
                    .collect();
                assert_eq!(
                    Some(p),
                    t.inclusion_proof(m as usize, n as usize),
                    "inclusion {m}/{n}"
                );
            }
            for m in 0..=n {
                let p: Vec<Hash> = consistency_ranges(m, n)
                    .iter()
                    .map(|(a, b)| range_hash(*a, *b, &get).unwrap())
                    .collect();
                assert_eq!(
                    Some(p),
                    t.consistency_proof(m as usize, n as usize),
                    "consistency {m}/{n}"
                );
            }
        }
        // a missing subtree is reported, not guessed
        assert_eq!(range_hash(0, 64, &|_| None), None);
        let keys = keys_of(&inclusion_ranges(5, 1_000_000));
        assert!(keys.len() <= 400, "{} keys", keys.len());
    }

    use super::*;
    use proptest::prelude::*;

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// The Certificate Transparency reference leaves and roots
    /// (certificate-transparency merkle_tree_test vectors).
    const LEAVES: [&str; 8] = [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ];
    const ROOTS: [&str; 8] = [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];

    #[test]
    fn reference_vectors() {
        assert_eq!(
            hex(&empty_root()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        let mut t = Tree::new();
        for (i, l) in LEAVES.iter().enumerate() {
            t.push(&unhex(l));
            assert_eq!(hex(&t.root()), ROOTS[i], "root of size {}", i + 1);
            assert_eq!(hex(&root_from_leaf_hashes(t.leaf_hashes())), ROOTS[i]);
        }
    }

    #[test]
    fn reference_inclusion_and_consistency_shapes() {
        let t = Tree::from_leaf_hashes(LEAVES.iter().map(|l| leaf_hash(&unhex(l))).collect());
        // RFC 6962 §2.1.3 example: the proof for d0 in the 7-leaf tree is [b, h, l].
        assert_eq!(t.inclusion_proof(0, 7).unwrap().len(), 3);
        assert_eq!(t.inclusion_proof(6, 7).unwrap().len(), 2);
        // consistency 3 → 7 is [c, d, g, l]; 4 → 7 is [l]; 6 → 7 is [i, j, k].
        assert_eq!(t.consistency_proof(3, 7).unwrap().len(), 4);
        assert_eq!(t.consistency_proof(4, 7).unwrap().len(), 1);
        assert_eq!(t.consistency_proof(6, 7).unwrap().len(), 3);
        assert_eq!(
            hex(&t.consistency_proof(4, 7).unwrap()[0]),
            hex(&root_from_leaf_hashes(&t.leaf_hashes()[4..7]))
        );
    }

    #[test]
    fn wrong_proofs_are_refused() {
        let t = Tree::from_leaf_hashes((0..10u8).map(|i| leaf_hash(&[i])).collect());
        let root = t.root();
        let p = t.inclusion_proof(3, 10).unwrap();
        assert_eq!(verify_inclusion(&leaf_hash(&[3]), 3, 10, &p, &root), Ok(()));
        assert_eq!(
            verify_inclusion(&leaf_hash(&[4]), 3, 10, &p, &root),
            Err(ProofError::RootMismatch)
        );
        assert_eq!(
            verify_inclusion(&leaf_hash(&[3]), 10, 10, &p, &root),
            Err(ProofError::IndexOutOfRange {
                index: 10,
                size: 10
            })
        );
        assert_eq!(
            verify_inclusion(&leaf_hash(&[3]), 3, 10, &p[..p.len() - 1], &root),
            Err(ProofError::WrongLength)
        );
        let c = t.consistency_proof(5, 10).unwrap();
        let r5 = t.root_at(5).unwrap();
        assert_eq!(verify_consistency(5, 10, &c, &r5, &root), Ok(()));
        assert_eq!(
            verify_consistency(5, 10, &c, &root, &root),
            Err(ProofError::RootMismatch)
        );
        assert_eq!(
            verify_consistency(10, 5, &c, &r5, &root),
            Err(ProofError::SizesOutOfOrder { old: 10, new: 5 })
        );
    }

    #[test]
    fn signed_checkpoint_round_trip_and_tamper() {
        let key = SigningKey::from_bytes(&[7u8; 32]);
        let cp = Checkpoint {
            origin: "gongzhi.example/books/jingcheng-mingdian".into(),
            size: 5,
            root: leaf_hash(b"x"),
        };
        let note = sign_note(&cp.body(), "gongzhi.example", &key);
        assert!(note.contains("\n\n\u{2014} gongzhi.example "));
        let vkey = verifier_key("gongzhi.example", &key.verifying_key());
        let (name, pubkey) = parse_verifier_key(&vkey).unwrap();
        let body = open_note(&note, &name, &pubkey).unwrap();
        assert_eq!(Checkpoint::parse_body(body).unwrap(), cp);
        let tampered = note.replacen("\n5\n", "\n6\n", 1);
        assert_eq!(
            open_note(&tampered, &name, &pubkey),
            Err(NoteError::BadSignature(name.clone()))
        );
        let other = SigningKey::from_bytes(&[8u8; 32]).verifying_key();
        assert_eq!(
            open_note(&note, &name, &other),
            Err(NoteError::NoSignature(name.clone()))
        );
        assert!(parse_verifier_key(&vkey.replacen('+', "x+", 1)).is_err());
        assert!(Checkpoint::parse_body("o\n-1\nAAAA\n").is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        #[test]
        fn proofs_verify_for_every_size_and_index(n in 1usize..48) {
            let t = Tree::from_leaf_hashes((0..n as u32).map(|i| leaf_hash(&i.to_be_bytes())).collect());
            for size in 1..=n {
                let root = t.root_at(size).unwrap();
                for i in 0..size {
                    let p = t.inclusion_proof(i, size).unwrap();
                    prop_assert_eq!(verify_inclusion(&t.leaf_hashes()[i], i as u64, size as u64, &p, &root), Ok(()));
                }
                for old in 0..=size {
                    let p = t.consistency_proof(old, size).unwrap();
                    let old_root = t.root_at(old).unwrap();
                    prop_assert_eq!(verify_consistency(old as u64, size as u64, &p, &old_root, &root), Ok(()));
                }
            }
            prop_assert_eq!(t.root(), root_from_leaf_hashes(t.leaf_hashes()));
        }

        #[test]
        fn a_changed_leaf_changes_the_root(n in 1usize..200, which in 0usize..200, byte in 0u8..255) {
            let which = which % n;
            let data: Vec<Vec<u8>> = (0..n).map(|i| vec![(i % 251) as u8, 7]).collect();
            let t = Tree::from_leaf_hashes(data.iter().map(|d| leaf_hash(d)).collect());
            let mut changed = data.clone();
            changed[which][1] = if byte == 7 { 8 } else { byte };
            let t2 = Tree::from_leaf_hashes(changed.iter().map(|d| leaf_hash(d)).collect());
            prop_assert_ne!(t.root(), t2.root());
            // and the old inclusion proof no longer verifies the changed leaf
            let p = t.inclusion_proof(which, n).unwrap();
            prop_assert!(verify_inclusion(&t2.leaf_hashes()[which], which as u64, n as u64, &p, &t.root()).is_err());
        }
    }
}
