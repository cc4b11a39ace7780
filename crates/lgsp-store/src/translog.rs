//! Storage of the transparency log: one row per leaf holding its entry and the Merkle tree's
//! hashes its append stored (see `lgsp-tlog`), appended in batches under one lock and committed durably (on SQLite through a connection
//! of its own with `synchronous = FULL`; PostgreSQL commits synchronously), and the signed
//! checkpoints.

use std::collections::HashMap;

use lgsp_tlog::{Hash, ProofError};

use crate::exchanges::insert_exchanges;
use crate::rollups::upsert_rollups;
use crate::{now, on_pool, ExchangeEntry, Result, Store, StoreError, Timestamp};

/// Hashes read per statement: one parameter each, under SQLite's 32 766 and PostgreSQL's
/// 65 535 parameter limits.
const HASHES_PER_READ: usize = 8000;

/// A signed checkpoint as kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCheckpoint {
    pub size: u64,
    /// The C2SP signed note.
    pub note: String,
    pub signed_at: Timestamp,
}

fn push_hex(out: &mut String, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 15)]));
    }
}

/// The query reading the rows of the leaves that hold stored hashes `indexes`, and those leaves.
fn hash_query(backend: crate::Backend, indexes: &[u64]) -> (String, Vec<u64>) {
    let mut leaves: Vec<u64> = indexes
        .iter()
        .map(|&i| lgsp_tlog::stored_hash_position(i).0)
        .collect();
    leaves.sort_unstable();
    leaves.dedup();
    let sql = format!(
        "SELECT idx, hashes FROM log_entries WHERE idx IN ({})",
        crate::value_lists(leaves.len(), 1, 1, backend).replace(['(', ')'], "")
    );
    (sql, leaves)
}

/// The stored hashes `indexes` out of their leaves' rows.
fn pick_hashes(indexes: &[u64], rows: Vec<(i64, Vec<u8>)>) -> Result<HashMap<u64, Hash>> {
    let rows: HashMap<u64, Vec<u8>> = rows.into_iter().map(|(i, h)| (i as u64, h)).collect();
    indexes
        .iter()
        .filter_map(|&index| {
            let (leaf, offset) = lgsp_tlog::stored_hash_position(index);
            let hashes = rows.get(&leaf)?;
            Some(
                hashes
                    .get(offset * 32..offset * 32 + 32)
                    .ok_or_else(|| StoreError::Corrupt(format!("leaf {leaf} lacks hash {offset}")))
                    .and_then(to_hash)
                    .map(|hash| (index, hash)),
            )
        })
        .collect()
}

fn to_hash(bytes: &[u8]) -> Result<Hash> {
    Hash::try_from(bytes)
        .map_err(|_| StoreError::Corrupt("a stored log hash is not 32 bytes".into()))
}

fn proof_error(error: ProofError) -> StoreError {
    match error {
        ProofError::OutOfRange { index, size } => {
            StoreError::Conflict(format!("{index} is beyond the log's {size} entries"))
        }
        other => StoreError::Corrupt(other.to_string()),
    }
}

/// How a backend inserts a batch of leaves, numbered from `first`, in one statement whatever
/// the batch's size.
trait InsertLeaves {
    async fn insert_leaves(
        &mut self,
        first: i64,
        entries: &[Vec<u8>],
        hashes: &[Vec<u8>],
    ) -> Result<()>;
}

impl InsertLeaves for sqlx::SqliteConnection {
    /// SQLite binds no arrays: a JSON array of `[entry, hashes]` in hex that it unpacks.
    async fn insert_leaves(
        &mut self,
        first: i64,
        entries: &[Vec<u8>],
        hashes: &[Vec<u8>],
    ) -> Result<()> {
        let mut rows = String::with_capacity(entries.iter().map(|e| e.len() * 2 + 200).sum());
        rows.push('[');
        for (n, (entry, hashes)) in entries.iter().zip(hashes).enumerate() {
            if n > 0 {
                rows.push(',');
            }
            rows.push_str("[\"");
            push_hex(&mut rows, entry);
            rows.push_str("\",\"");
            push_hex(&mut rows, hashes);
            rows.push_str("\"]");
        }
        rows.push(']');
        sqlx::query(
            "INSERT INTO log_entries (idx, entry, hashes)
             SELECT $1 + key, unhex(value ->> 0), unhex(value ->> 1) FROM json_each($2)",
        )
        .bind(first)
        .bind(rows)
        .execute(self)
        .await?;
        Ok(())
    }
}

impl InsertLeaves for sqlx::PgConnection {
    /// PostgreSQL takes the entries and hashes as two `bytea[]` (binary, nothing to parse).
    async fn insert_leaves(
        &mut self,
        first: i64,
        entries: &[Vec<u8>],
        hashes: &[Vec<u8>],
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO log_entries (idx, entry, hashes)
             SELECT $1 + n - 1, e, h FROM unnest($2::bytea[], $3::bytea[]) WITH ORDINALITY AS u(e, h, n)",
        )
        .bind(first)
        .bind(entries)
        .bind(hashes)
        .execute(self)
        .await?;
        Ok(())
    }
}

impl Store {
    /// How many entries the log holds.
    pub async fn log_size(&self) -> Result<u64> {
        let size: i64 = on_pool!(self, |pool| {
            sqlx::query_scalar("SELECT size FROM log_state WHERE id = 1")
                .fetch_one(pool)
                .await?
        });
        Ok(size as u64)
    }

    /// Appends `entries` in one durable transaction, with the index rows of the `exchanges`
    /// they record (an exchange's `log_index`: which of `entries` records it, 0 for the first)
    /// and their daily rollups;
    /// returns the index of the first entry. Appends from several nodes serialise on the log's
    /// size row.
    pub async fn append_log(
        &self,
        entries: &[Vec<u8>],
        exchanges: &[ExchangeEntry],
    ) -> Result<u64> {
        if entries.is_empty() {
            return self.log_size().await;
        }
        let backend = self.backend();
        let leaves: Vec<Hash> = entries.iter().map(|e| lgsp_tlog::leaf_hash(e)).collect();
        on_pool!(pool = self.appender, |pool| {
            let mut tx = pool.begin().await?;
            // Taking the size row first is the lock (and, on SQLite, the write lock).
            let size: i64 = sqlx::query_scalar(
                "UPDATE log_state SET size = size + $1 WHERE id = 1 RETURNING size - $1",
            )
            .bind(entries.len() as i64)
            .fetch_one(&mut *tx)
            .await?;
            let size = size as u64;
            let edge = lgsp_tlog::edge_indexes(size);
            let mut known: HashMap<u64, Hash> = HashMap::with_capacity(edge.len());
            if !edge.is_empty() {
                let (sql, leaves_wanted) = hash_query(backend, &edge);
                let mut query = sqlx::query_as::<_, (i64, Vec<u8>)>(&sql);
                for &leaf in &leaves_wanted {
                    query = query.bind(leaf as i64);
                }
                let rows = query.fetch_all(&mut *tx).await?;
                known = pick_hashes(&edge, rows)?;
            }
            let stored = lgsp_tlog::stored_hashes_for(size, &leaves, &known)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            // Each leaf's row: its entry and the hashes its append stores, concatenated.
            let mut next_hash = 0;
            let hashes: Vec<Vec<u8>> = (0..entries.len())
                .map(|n| {
                    let count = lgsp_tlog::hashes_of_leaf(size + n as u64);
                    next_hash += count;
                    stored[next_hash - count..next_hash].concat()
                })
                .collect();
            InsertLeaves::insert_leaves(&mut *tx, size as i64, entries, &hashes).await?;
            insert_exchanges!(tx, backend, size as i64, exchanges);
            upsert_rollups!(tx, backend, exchanges);
            tx.commit().await?;
            Ok(size)
        })
    }

    /// The stored hashes at `indexes`.
    pub async fn log_hashes(&self, indexes: &[u64]) -> Result<HashMap<u64, Hash>> {
        let mut found = HashMap::with_capacity(indexes.len());
        for chunk in indexes.chunks(HASHES_PER_READ) {
            let (sql, leaves) = hash_query(self.backend(), chunk);
            let rows: Vec<(i64, Vec<u8>)> = on_pool!(self, |pool| {
                let mut query = sqlx::query_as(&sql);
                for &leaf in &leaves {
                    query = query.bind(leaf as i64);
                }
                query.fetch_all(pool).await?
            });
            found.extend(pick_hashes(chunk, rows)?);
        }
        Ok(found)
    }

    /// Entries `[from, to)`, in order.
    pub async fn log_entries(&self, from: u64, to: u64) -> Result<Vec<Vec<u8>>> {
        Ok(on_pool!(self, |pool| {
            sqlx::query_scalar(
                "SELECT entry FROM log_entries WHERE idx >= $1 AND idx < $2 ORDER BY idx",
            )
            .bind(from as i64)
            .bind(to as i64)
            .fetch_all(pool)
            .await?
        }))
    }

    /// The root hash of the log at `size` entries.
    pub async fn log_root(&self, size: u64) -> Result<Hash> {
        let known = self.log_hashes(&lgsp_tlog::edge_indexes(size)).await?;
        lgsp_tlog::tree_hash(size, &known).map_err(|e| StoreError::Corrupt(e.to_string()))
    }

    /// The proof that entry `index` is in the log at `size` entries.
    pub async fn log_inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>> {
        let indexes = lgsp_tlog::inclusion_indexes(index, size).map_err(proof_error)?;
        let known = self.log_hashes(&indexes).await?;
        lgsp_tlog::inclusion_proof(index, size, &known).map_err(proof_error)
    }

    /// The proof that the log at `new` entries extends the log at `old` entries.
    pub async fn log_consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash>> {
        let indexes = lgsp_tlog::consistency_indexes(old, new).map_err(proof_error)?;
        let known = self.log_hashes(&indexes).await?;
        lgsp_tlog::consistency_proof(old, new, &known).map_err(proof_error)
    }

    /// Keeps a signed checkpoint (once per size).
    pub async fn record_checkpoint(&self, size: u64, note: &str) -> Result<()> {
        on_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO log_checkpoints (size, note, signed_at) VALUES ($1, $2, $3)
                 ON CONFLICT (size) DO NOTHING",
            )
            .bind(size as i64)
            .bind(note)
            .bind(now())
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// The newest signed checkpoint.
    pub async fn latest_checkpoint(&self) -> Result<Option<StoredCheckpoint>> {
        let row: Option<(i64, String, Timestamp)> = on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT size, note, signed_at FROM log_checkpoints ORDER BY size DESC LIMIT 1",
            )
            .fetch_optional(pool)
            .await?
        });
        Ok(row.map(|(size, note, signed_at)| StoredCheckpoint {
            size: size as u64,
            note,
            signed_at,
        }))
    }
}
