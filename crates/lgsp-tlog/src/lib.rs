//! A transparency log: the Merkle tree of RFC 6962 / RFC 9162 over an append-only sequence of
//! entries, stored as the hashes of its complete subtrees, with inclusion and consistency
//! proofs, the C2SP `tlog-tiles` layout, and checkpoints as C2SP signed notes (Ed25519).
//!
//! Storage is the caller's: the log is a sequence of *stored hashes* — for every leaf, its hash
//! followed by the hashes of the complete subtrees it finishes — addressed by
//! [`stored_hash_index`]. Appending computes the new stored hashes ([`stored_hashes_for`]);
//! proofs and tree hashes read the few stored hashes they need through a [`HashReader`], in one
//! call, so a database-backed reader answers a proof at any size with one query.

mod note;
mod proof;
mod tile;

pub use note::{Checkpoint, NoteError, NoteSigner, NoteVerifier};
pub use proof::{verify_consistency, verify_inclusion, ProofError};
pub use tile::{decode_bundle, encode_bundle, Tile, TileError, TILE_HEIGHT, TILE_WIDTH};

use sha2::{Digest, Sha256};

/// A SHA-256 hash of a leaf or an interior node.
pub type Hash = [u8; 32];

/// The root of the empty tree: SHA-256 of nothing.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// The hash of a leaf: SHA-256(0x00 ‖ entry).
pub fn leaf_hash(entry: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0]);
    hasher.update(entry);
    hasher.finalize().into()
}

/// The hash of an interior node: SHA-256(0x01 ‖ left ‖ right).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([1]);
    hasher.update(left);
    hasher.update(right);
    hasher.finalize().into()
}

/// Reads stored hashes by their [`stored_hash_index`].
pub trait HashReader {
    /// The hashes at `indexes`, in the same order.
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, ReadError>;
}

/// A stored hash could not be read.
#[derive(Debug, thiserror::Error)]
#[error("stored hash unavailable: {0}")]
pub struct ReadError(pub String);

/// The hashes of a log kept in memory, in stored-hash order.
impl HashReader for [Hash] {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, ReadError> {
        indexes
            .iter()
            .map(|&i| {
                self.get(i as usize)
                    .copied()
                    .ok_or_else(|| ReadError(format!("index {i} beyond {}", self.len())))
            })
            .collect()
    }
}

impl HashReader for std::collections::HashMap<u64, Hash> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, ReadError> {
        indexes
            .iter()
            .map(|i| {
                self.get(i)
                    .copied()
                    .ok_or_else(|| ReadError(format!("index {i} not fetched")))
            })
            .collect()
    }
}

impl HashReader for Vec<Hash> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, ReadError> {
        self.as_slice().read_hashes(indexes)
    }
}

/// Where the hash of the complete subtree at `level` (0 = leaves) and position `n` in that
/// level is stored. Stored hashes are written in append order: leaf `m`'s hash, then the hash
/// of each subtree leaf `m` completes, lowest first. Before leaf `m` come `2m - popcount(m)`
/// hashes; the subtree `(level, n)` is completed by its last leaf `(n + 1)·2^level - 1`.
pub fn stored_hash_index(level: u8, n: u64) -> u64 {
    let last_leaf = ((n + 1) << level) - 1;
    2 * last_leaf - u64::from(last_leaf.count_ones()) + u64::from(level)
}

/// Which leaf's append stored hash `index`, and at which position among that leaf's hashes
/// (0 is the leaf's own hash, then the subtrees it completes) — for stores that keep each
/// leaf's stored hashes together with its entry.
pub fn stored_hash_position(index: u64) -> (u64, usize) {
    // Leaf m's hashes start at 2m - popcount(m), which grows with m; m lies in [index/2, index/2 + 64].
    let mut leaf = index / 2;
    while stored_hash_count(leaf + 1) <= index {
        leaf += 1;
    }
    while stored_hash_count(leaf) > index {
        leaf -= 1;
    }
    (leaf, (index - stored_hash_count(leaf)) as usize)
}

/// How many hashes appending leaf `leaf` stores: its own and one per subtree it completes.
pub fn hashes_of_leaf(leaf: u64) -> usize {
    1 + leaf.trailing_ones() as usize
}

/// How many hashes are stored for a log of `size` leaves.
pub fn stored_hash_count(size: u64) -> u64 {
    2 * size - u64::from(size.count_ones())
}

/// The stored hashes that appending `leaf_hashes` to a log of `size` leaves adds, in order
/// (they go at [`stored_hash_count`]`(size)` onwards). Hashes of earlier subtrees the new
/// leaves complete are read from `reader`, all in one call.
pub fn stored_hashes_for(
    size: u64,
    leaf_hashes: &[Hash],
    reader: &(impl HashReader + ?Sized),
) -> Result<Vec<Hash>, ReadError> {
    // Left siblings from before the batch are the complete subtrees of the old tree.
    let old = subtrees(0, size);
    let old_hashes = reader.read_hashes(
        &old.iter()
            .map(|&(level, n)| stored_hash_index(level, n))
            .collect::<Vec<_>>(),
    )?;
    // The stack of complete subtrees (level, hash) at the right edge, as in a compact range.
    let mut stack: Vec<(u8, Hash)> = old
        .iter()
        .map(|&(level, _)| level)
        .zip(old_hashes)
        .collect();
    let mut stored = Vec::with_capacity(leaf_hashes.len() * 2);
    for (offset, leaf) in leaf_hashes.iter().enumerate() {
        let m = size + offset as u64;
        let mut hash = *leaf;
        stored.push(hash);
        let mut level = 0u8;
        while (m >> level) & 1 == 1 {
            let (left_level, left) = stack.pop().expect("a left sibling for every set bit");
            debug_assert_eq!(left_level, level);
            hash = node_hash(&left, &hash);
            level += 1;
            stored.push(hash);
        }
        stack.push((level, hash));
    }
    Ok(stored)
}

/// Builds a tree's root leaf by leaf in memory proportional to the tree's height (a compact
/// range), for re-deriving a log from its entries.
#[derive(Debug, Clone, Default)]
pub struct TreeBuilder {
    size: u64,
    /// Complete subtrees along the right edge, largest first.
    edge: Vec<Hash>,
}

impl TreeBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the next leaf (its leaf hash).
    pub fn push(&mut self, leaf: Hash) {
        let mut hash = leaf;
        let mut level = 0;
        while (self.size >> level) & 1 == 1 {
            let left = self.edge.pop().expect("a left sibling for every set bit");
            hash = node_hash(&left, &hash);
            level += 1;
        }
        self.edge.push(hash);
        self.size += 1;
    }

    /// Leaves so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The root of the tree of the leaves so far.
    pub fn root(&self) -> Hash {
        match self.edge.split_last() {
            None => empty_root(),
            Some((last, earlier)) => earlier
                .iter()
                .rev()
                .fold(*last, |right, left| node_hash(left, &right)),
        }
    }
}

/// The maximal complete subtrees covering leaves `[lo, hi)`, left to right, as
/// `(level, n)`; `lo` must be a multiple of the largest power of two not above `hi - lo`
/// (true for every range the RFC 6962 recursion produces and for `lo = 0`).
fn subtrees(lo: u64, hi: u64) -> Vec<(u8, u64)> {
    let mut found = Vec::new();
    let mut start = lo;
    let mut rest = hi - lo;
    while rest > 0 {
        let level = 63 - rest.leading_zeros() as u8;
        found.push((level, start >> level));
        start += 1 << level;
        rest -= 1 << level;
    }
    found
}

/// The Merkle tree hash of leaves `[lo, hi)` (`hi > lo`), from stored hashes already read.
fn range_hash(parts: &[Hash]) -> Hash {
    let (last, earlier) = parts
        .split_last()
        .expect("a range has at least one subtree");
    earlier
        .iter()
        .rev()
        .fold(*last, |right, left| node_hash(left, &right))
}

/// The root hash of the log at `size` leaves.
pub fn tree_hash(size: u64, reader: &(impl HashReader + ?Sized)) -> Result<Hash, ReadError> {
    if size == 0 {
        return Ok(empty_root());
    }
    let parts = subtrees(0, size);
    let hashes = reader.read_hashes(
        &parts
            .iter()
            .map(|&(level, n)| stored_hash_index(level, n))
            .collect::<Vec<_>>(),
    )?;
    Ok(range_hash(&hashes))
}

/// The largest power of two strictly below `n` (`n >= 2`).
fn split_point(n: u64) -> u64 {
    1 << (63 - (n - 1).leading_zeros())
}

/// The ranges whose hashes make a proof, in proof order; each is resolved to stored hashes.
fn resolve(
    ranges: &[(u64, u64)],
    reader: &(impl HashReader + ?Sized),
) -> Result<Vec<Hash>, ReadError> {
    let parts: Vec<Vec<(u8, u64)>> = ranges.iter().map(|&(lo, hi)| subtrees(lo, hi)).collect();
    let indexes: Vec<u64> = parts
        .iter()
        .flatten()
        .map(|&(level, n)| stored_hash_index(level, n))
        .collect();
    let hashes = reader.read_hashes(&indexes)?;
    let mut at = 0;
    Ok(parts
        .iter()
        .map(|p| {
            let hash = range_hash(&hashes[at..at + p.len()]);
            at += p.len();
            hash
        })
        .collect())
}

/// The ranges of leaves whose hashes make the inclusion proof of leaf `index` in the tree of
/// `size` leaves, in proof order (RFC 9162 §2.1.3.1, unrolled).
fn inclusion_ranges(index: u64, size: u64) -> Result<Vec<(u64, u64)>, ProofError> {
    if index >= size {
        return Err(ProofError::OutOfRange { index, size });
    }
    // The recursion meets the ranges top down; the proof lists them bottom up.
    let mut ranges = Vec::new();
    let (mut lo, mut hi, mut m) = (0u64, size, index);
    while hi - lo > 1 {
        let k = split_point(hi - lo);
        if m < k {
            ranges.push((lo + k, hi));
            hi = lo + k;
        } else {
            ranges.push((lo, lo + k));
            lo += k;
            m -= k;
        }
    }
    ranges.reverse();
    Ok(ranges)
}

/// The ranges of leaves whose hashes make the consistency proof from `old` to `new` leaves,
/// in proof order (RFC 9162 §2.1.4.1, unrolled).
fn consistency_ranges(old: u64, new: u64) -> Result<Vec<(u64, u64)>, ProofError> {
    if old > new {
        return Err(ProofError::OutOfRange {
            index: old,
            size: new,
        });
    }
    let mut ranges = Vec::new();
    if old == 0 || old == new {
        return Ok(ranges);
    }
    let (mut lo, mut hi, mut m, mut whole) = (0u64, new, old, true);
    while m != hi - lo {
        let k = split_point(hi - lo);
        if m <= k {
            ranges.push((lo + k, hi));
            hi = lo + k;
        } else {
            ranges.push((lo, lo + k));
            lo += k;
            m -= k;
            whole = false;
        }
    }
    if !whole {
        ranges.push((lo, hi));
    }
    ranges.reverse();
    Ok(ranges)
}

fn range_indexes(ranges: &[(u64, u64)]) -> Vec<u64> {
    ranges
        .iter()
        .flat_map(|&(lo, hi)| subtrees(lo, hi))
        .map(|(level, n)| stored_hash_index(level, n))
        .collect()
}

/// The stored hashes [`tree_hash`] and [`stored_hashes_for`] read at `size`: those of the
/// complete subtrees along the tree's right edge. A store can fetch them first and answer
/// from a map (see the [`HashReader`] impl for `HashMap`).
pub fn edge_indexes(size: u64) -> Vec<u64> {
    range_indexes(&[(0, size)][..usize::from(size > 0)])
}

/// The stored hashes [`inclusion_proof`] reads.
pub fn inclusion_indexes(index: u64, size: u64) -> Result<Vec<u64>, ProofError> {
    Ok(range_indexes(&inclusion_ranges(index, size)?))
}

/// The stored hashes [`consistency_proof`] reads.
pub fn consistency_indexes(old: u64, new: u64) -> Result<Vec<u64>, ProofError> {
    Ok(range_indexes(&consistency_ranges(old, new)?))
}

/// The inclusion proof of leaf `index` in the tree of `size` leaves.
pub fn inclusion_proof(
    index: u64,
    size: u64,
    reader: &(impl HashReader + ?Sized),
) -> Result<Vec<Hash>, ProofError> {
    Ok(resolve(&inclusion_ranges(index, size)?, reader)?)
}

/// The consistency proof from the tree of `old` leaves to the tree of `new` leaves.
pub fn consistency_proof(
    old: u64,
    new: u64,
    reader: &(impl HashReader + ?Sized),
) -> Result<Vec<Hash>, ProofError> {
    Ok(resolve(&consistency_ranges(old, new)?, reader)?)
}

#[cfg(test)]
mod tests;
