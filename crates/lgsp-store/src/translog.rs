//! Storage of the transparency log: entries in append order and the Merkle tree's stored
//! hashes (see `lgsp-tlog`), appended in batches under one lock and committed durably (SQLite
//! switches the appending connection to `synchronous = FULL`; PostgreSQL commits
//! synchronously), and the signed checkpoints.

use std::collections::HashMap;

use lgsp_tlog::{Hash, ProofError};

use crate::{now, on_pool, Result, Store, StoreError, Timestamp};

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

fn placeholders(count: usize, per_row: usize) -> String {
    (0..count)
        .map(|row| {
            let params: Vec<String> = (1..=per_row)
                .map(|p| format!("${}", row * per_row + p))
                .collect();
            format!("({})", params.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `["00ff…", …]`: byte strings as a JSON array of hex strings.
fn hex_array(values: &[&[u8]]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut json = String::with_capacity(values.iter().map(|v| v.len() * 2 + 3).sum::<usize>() + 2);
    json.push('[');
    for (n, value) in values.iter().enumerate() {
        if n > 0 {
            json.push(',');
        }
        json.push('"');
        for byte in *value {
            json.push(char::from(DIGITS[usize::from(byte >> 4)]));
            json.push(char::from(DIGITS[usize::from(byte & 15)]));
        }
        json.push('"');
    }
    json.push(']');
    json
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

    /// Appends `entries` in one durable transaction; returns the index of the first. Appends
    /// from several nodes serialise on the log's size row.
    pub async fn append_log(&self, entries: &[Vec<u8>]) -> Result<u64> {
        if entries.is_empty() {
            return self.log_size().await;
        }
        let sqlite = self.backend() == crate::Backend::Sqlite;
        let leaves: Vec<Hash> = entries.iter().map(|e| lgsp_tlog::leaf_hash(e)).collect();
        on_pool!(self, |pool| {
            let mut conn = pool.acquire().await?;
            if sqlite {
                sqlx::query("PRAGMA synchronous = FULL")
                    .execute(&mut *conn)
                    .await?;
            }
            let appended = async {
                let mut tx = sqlx::Connection::begin(&mut *conn).await?;
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
                    let sql = format!(
                        "SELECT idx, hash FROM log_hashes WHERE idx IN ({})",
                        placeholders(edge.len(), 1).replace(['(', ')'], "")
                    );
                    let mut query = sqlx::query_as::<_, (i64, Vec<u8>)>(&sql);
                    for &i in &edge {
                        query = query.bind(i as i64);
                    }
                    for (idx, hash) in query.fetch_all(&mut *tx).await? {
                        known.insert(idx as u64, to_hash(&hash)?);
                    }
                }
                let stored = lgsp_tlog::stored_hashes_for(size, &leaves, &known)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                let first_hash = lgsp_tlog::stored_hash_count(size);
                let entries: Vec<&[u8]> = entries.iter().map(Vec::as_slice).collect();
                let hashes: Vec<&[u8]> = stored.iter().map(|h| h.as_slice()).collect();
                for (table, column, first, values) in [
                    ("log_entries", "entry", size, &entries),
                    ("log_hashes", "hash", first_hash, &hashes),
                ] {
                    // One statement per table whatever the batch, its values one JSON array
                    // of hex strings that the database unpacks.
                    let sql = if sqlite {
                        format!(
                            "INSERT INTO {table} (idx, {column})
                             SELECT $1 + key, unhex(value) FROM json_each($2)"
                        )
                    } else {
                        format!(
                            "INSERT INTO {table} (idx, {column})
                             SELECT $1 + n - 1, decode(v, 'hex')
                             FROM json_array_elements_text($2::json) WITH ORDINALITY AS u(v, n)"
                        )
                    };
                    let query = sqlx::query(&sql).bind(first as i64).bind(hex_array(values));
                    query.execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok::<u64, StoreError>(size)
            }
            .await;
            if sqlite {
                sqlx::query("PRAGMA synchronous = NORMAL")
                    .execute(&mut *conn)
                    .await?;
            }
            appended
        })
    }

    /// The stored hashes at `indexes`.
    pub async fn log_hashes(&self, indexes: &[u64]) -> Result<HashMap<u64, Hash>> {
        let mut found = HashMap::with_capacity(indexes.len());
        for chunk in indexes.chunks(HASHES_PER_READ) {
            let sql = format!(
                "SELECT idx, hash FROM log_hashes WHERE idx IN ({})",
                placeholders(chunk.len(), 1).replace(['(', ')'], "")
            );
            let rows: Vec<(i64, Vec<u8>)> = on_pool!(self, |pool| {
                let mut query = sqlx::query_as(&sql);
                for &i in chunk {
                    query = query.bind(i as i64);
                }
                query.fetch_all(pool).await?
            });
            for (idx, hash) in rows {
                found.insert(idx as u64, to_hash(&hash)?);
            }
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
