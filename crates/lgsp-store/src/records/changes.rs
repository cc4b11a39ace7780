//! Change feeds: each committed import appends its changes to `dataset_changes` under the
//! dataset's sequence (strictly increasing, gap-free, in commit order). The changes are derived
//! set-based in SQL inside the import's transaction, from the versions the import closed
//! (`_valid_to` = its instant) and those it opened (`_valid_from` = its instant), joined on the
//! primary key: a key only opened is an insert, only closed a delete, both with different
//! values an update; a row that came back unchanged is no change. Without a primary key every
//! closed version is a delete and every opened one an insert. A change points at the version it
//! produced (for a delete, the closed one), which the versioned table keeps for good.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use lgsp_core::table_schema::{CellValue, FieldType};
use sqlx::Row;

use super::RecordTable;
use crate::{on_pool, Backend, Result, Store};

/// What happened to a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeOp {
    Insert,
    Update,
    Delete,
}

impl ChangeOp {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Insert => "insert",
            Self::Update => "update",
            Self::Delete => "delete",
        }
    }
}

/// One change of a dataset's records: the version's values in schema order (after the change;
/// for a delete, the version that ended).
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub seq: i64,
    pub op: ChangeOp,
    pub changed_at: DateTime<Utc>,
    pub values: Vec<CellValue>,
}

/// A page of a change feed, or why it cannot be given.
#[derive(Debug, Clone, PartialEq)]
pub enum ChangePage {
    /// Changes after the asked sequence number, in order; `last_seq` is the newest there is.
    Changes { changes: Vec<Change>, last_seq: i64 },
    /// Changes up to `pruned_seq` are gone: the caller must download everything again and
    /// follow from the newest sequence number.
    Expired { pruned_seq: i64, last_seq: i64 },
}

/// The statement that appends an import's changes: `$1` the dataset, `$2` the last sequence
/// number before it, `$3` the import's instant. Adds as many rows as changes.
pub(crate) fn derive_sql(table: &RecordTable, backend: Backend) -> String {
    let t = &table.table;
    // Written against the table itself (not derived tables) so that both engines use the
    // indexes: `(_valid_to, _valid_from)` for what the import closed and opened, `(key…,
    // _valid_to)` for the per-key lookups — linear in the rows the import touched.
    let closed = "o._valid_to = $3 AND o._valid_from < $3";
    let opened = "n._valid_from = $3 AND n._valid_to IS NULL";
    // Looking up a closed version by key: without statistics SQLite would rather range over
    // `_current` (every version the import closed, per key: quadratic) than seek `(key…,
    // _valid_to)`; a unary plus takes the `_valid_from` term out of its index choice.
    let closed_by_key = match backend {
        Backend::Sqlite => "o._valid_to = $3 AND +o._valid_from < $3",
        Backend::Postgres => closed,
    };
    let key = &table.schema.primary_key;
    let changes = if key.is_empty() {
        format!(
            "SELECT 0 AS ord, 'delete' AS op, o._id AS vid, CAST(NULL AS BIGINT) AS pid FROM \"{t}\" o
               WHERE {closed}
             UNION ALL
             SELECT 1, 'insert', n._id, CAST(NULL AS BIGINT) FROM \"{t}\" n WHERE {opened}"
        )
    } else {
        let same_key = key
            .iter()
            .map(|c| format!("o.\"{c}\" = n.\"{c}\""))
            .collect::<Vec<_>>()
            .join(" AND ");
        let differ = table
            .schema
            .fields
            .iter()
            .map(|f| format!("o.\"{0}\" IS DISTINCT FROM n.\"{0}\"", f.name))
            .collect::<Vec<_>>()
            .join(" OR ");
        format!(
            "SELECT 0 AS ord, 'delete' AS op, o._id AS vid, CAST(NULL AS BIGINT) AS pid FROM \"{t}\" o
               WHERE {closed} AND NOT EXISTS (SELECT 1 FROM \"{t}\" n WHERE {same_key} AND {opened})
             UNION ALL
             SELECT 1, 'update', n._id, o._id FROM \"{t}\" o JOIN \"{t}\" n ON {same_key} AND {opened}
               WHERE {closed} AND ({differ})
             UNION ALL
             SELECT 1, 'insert', n._id, CAST(NULL AS BIGINT) FROM \"{t}\" n
               WHERE {opened} AND NOT EXISTS (SELECT 1 FROM \"{t}\" o WHERE {same_key} AND {closed_by_key})"
        )
    };
    format!(
        "INSERT INTO dataset_changes (dataset_id, seq, op, version_id, previous_id, changed_at)
         SELECT $1, $2 + ROW_NUMBER() OVER (ORDER BY c.ord, c.vid), c.op, c.vid, c.pid, $3
         FROM ({changes}) c"
    )
}

/// Appends the changes of the import into `$table` at `$at` inside its transaction `$conn`
/// (after `dataset_tables` was updated, which holds the dataset's row until commit, so that
/// sequence numbers follow commit order). When the import ended no version (`$only_inserts`)
/// every version it opened is an insert; if their ids are consecutive, as they are when nothing
/// else writes the table meanwhile, one row with a `span` records them all (a first load of a
/// million rows writes one change row, not a million), else they are derived row by row.
macro_rules! record_changes {
    ($conn:expr, $table:expr, $at:expr, $backend:expr, $only_inserts:expr, $bulk:expr) => {{
        let dataset = $table.dataset.as_str();
        let last: i64 =
            sqlx::query_scalar("SELECT last_seq FROM dataset_tables WHERE dataset_id = $1")
                .bind(dataset)
                .fetch_one(&mut *$conn)
                .await?;
        let mut run = None;
        if $only_inserts {
            // After a bulk load into an empty table every row is the import's: the ends of the
            // primary key are enough (the count is the rows loaded).
            let (first, newest, count): (Option<i64>, Option<i64>, i64) = match $bulk {
                Some(rows) => {
                    let sql = format!("SELECT MIN(_id), MAX(_id) FROM \"{}\"", $table.table);
                    let (first, newest) = sqlx::query_as(&sql).fetch_one(&mut *$conn).await?;
                    (first, newest, rows)
                }
                None => {
                    let sql = format!(
                        "SELECT MIN(_id), MAX(_id), COUNT(*) FROM \"{}\" WHERE _valid_to IS NULL AND _valid_from = $1",
                        $table.table
                    );
                    sqlx::query_as(&sql).bind($at).fetch_one(&mut *$conn).await?
                }
            };
            run = match (first, newest) {
                (Some(first), Some(newest)) if newest - first + 1 == count => Some((first, count)),
                (None, _) => Some((0, 0)),
                _ => None,
            };
        }
        let added = match run {
            Some((_, 0)) => 0,
            Some((first, count)) => {
                sqlx::query(
                    "INSERT INTO dataset_changes (dataset_id, seq, op, version_id, changed_at, span)
                     VALUES ($1, $2, 'insert', $3, $4, $5)",
                )
                .bind(dataset)
                .bind(last + 1)
                .bind(first)
                .bind($at)
                .bind(count)
                .execute(&mut *$conn)
                .await?;
                count as u64
            }
            None => sqlx::query(&super::changes::derive_sql($table, $backend))
                .bind(dataset)
                .bind(last)
                .bind($at)
                .execute(&mut *$conn)
                .await?
                .rows_affected(),
        };
        sqlx::query("UPDATE dataset_tables SET last_seq = last_seq + $2 WHERE dataset_id = $1")
            .bind(dataset)
            .bind(added as i64)
            .execute(&mut *$conn)
            .await?;
    }};
}
pub(crate) use record_changes;

impl Store {
    /// A dataset's `(pruned_seq, last_seq)`: changes after the first are kept, the second is
    /// the newest. None when the dataset has no records table.
    pub async fn change_bounds(&self, dataset: &str) -> Result<Option<(i64, i64)>> {
        Ok(on_pool!(self, |pool| {
            sqlx::query_as("SELECT pruned_seq, last_seq FROM dataset_tables WHERE dataset_id = $1")
                .bind(dataset)
                .fetch_optional(pool)
                .await?
        }))
    }

    /// Up to `limit` changes of a dataset after sequence number `since`, in order.
    pub async fn changes(&self, table: &RecordTable, since: i64, limit: u32) -> Result<ChangePage> {
        let dataset = table.dataset.as_str();
        let columns: Vec<String> = table
            .schema
            .fields
            .iter()
            .map(|f| format!("t.\"{}\"", f.name))
            .collect();
        // A change row stands for `span` changes from `seq` on, made by the versions from
        // `version_id` on. The page starts at the row holding `since` (the newest at or before
        // it) and ends at `since + limit`, and each row joins only its versions inside that
        // window, so a page reads at most `limit` versions however long the runs are.
        let (greatest, least) = match self.backend() {
            Backend::Sqlite => ("max", "min"),
            Backend::Postgres => ("GREATEST", "LEAST"),
        };
        let sql = format!(
            "SELECT c.seq + (t._id - c.version_id) AS seq, c.op, c.changed_at, {columns}
             FROM dataset_changes c
             JOIN \"{table}\" t ON t._id >= c.version_id + {greatest}(0, $2 + 1 - c.seq)
               AND t._id < c.version_id + {least}(c.span, $2 + $3 + 1 - c.seq)
             WHERE c.dataset_id = $1 AND c.seq <= $2 + $3
               AND c.seq >= COALESCE((SELECT MAX(s.seq) FROM dataset_changes s
                                      WHERE s.dataset_id = $1 AND s.seq <= $2), 0)
             ORDER BY 1 LIMIT $3",
            columns = columns.join(", "),
            table = table.table
        );
        let fields = &table.schema.fields;
        on_pool!(self, |pool| {
            let (last_seq, pruned_seq): (i64, i64) = sqlx::query_as(
                "SELECT last_seq, pruned_seq FROM dataset_tables WHERE dataset_id = $1",
            )
            .bind(dataset)
            .fetch_one(pool)
            .await?;
            if since < pruned_seq {
                return Ok(ChangePage::Expired {
                    pruned_seq,
                    last_seq,
                });
            }
            let rows = sqlx::query(&sql)
                .bind(dataset)
                .bind(since)
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await?;
            let mut changes = Vec::with_capacity(rows.len());
            for row in &rows {
                let op = match row.try_get::<String, _>(1)?.as_str() {
                    "insert" => ChangeOp::Insert,
                    "update" => ChangeOp::Update,
                    _ => ChangeOp::Delete,
                };
                let mut values = Vec::with_capacity(fields.len());
                for (i, field) in fields.iter().enumerate() {
                    values.push(read_cell!(row, i + 3, field.kind));
                }
                changes.push(Change {
                    seq: row.try_get(0)?,
                    op,
                    changed_at: row.try_get(2)?,
                    values,
                });
            }
            Ok(ChangePage::Changes { changes, last_seq })
        })
    }

    /// Forgets changes older than `days` days, raising each dataset's `pruned_seq` to the newest
    /// of them (by sequence, so that what remains is always a suffix); returns how many went.
    pub async fn prune_changes(&self, days: u32) -> Result<u64> {
        let before = crate::now() - Duration::days(i64::from(days));
        on_pool!(self, |pool| {
            let mut tx = pool.begin_with(self.begin_write()).await?;
            sqlx::query(
                "UPDATE dataset_tables SET pruned_seq = (SELECT MAX(seq + span - 1) FROM dataset_changes c
                   WHERE c.dataset_id = dataset_tables.dataset_id AND c.changed_at < $1)
                 WHERE EXISTS (SELECT 1 FROM dataset_changes c
                   WHERE c.dataset_id = dataset_tables.dataset_id AND c.changed_at < $1)",
            )
            .bind(before)
            .execute(&mut *tx)
            .await?;
            // Counted in changes, not rows: a run stands for many.
            let pruned =
                "FROM dataset_changes WHERE seq <= (SELECT t.pruned_seq FROM dataset_tables t
                 WHERE t.dataset_id = dataset_changes.dataset_id)";
            let gone: i64 = sqlx::query_scalar(&format!(
                "SELECT CAST(COALESCE(SUM(span), 0) AS BIGINT) {pruned}"
            ))
            .fetch_one(&mut *tx)
            .await?;
            sqlx::query(&format!("DELETE {pruned}"))
                .execute(&mut *tx)
                .await?;
            let gone = gone as u64;
            tx.commit().await?;
            Ok(gone)
        })
    }
}
