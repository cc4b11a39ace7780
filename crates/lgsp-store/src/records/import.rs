//! Imports: rows go into a dataset's table in one transaction, as new versions.

use std::fmt::Write;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use lgsp_core::table_schema::{CellValue, FieldType};

use super::RecordTable;
use crate::{now, Backend, Result, Store, StoreError};

impl Store {
    /// Starts an import into a dataset's records, in one transaction: nothing is visible to
    /// readers until [`RecordImport::commit`]; dropping the import rolls everything back.
    /// `Replace` ends every current version now; `Upsert` ends the current version of each
    /// incoming primary key; `Append` ends nothing. Every new version begins now.
    pub async fn begin_import(
        &self,
        table: &RecordTable,
        mode: ImportMode,
    ) -> Result<RecordImport> {
        if mode != ImportMode::Replace && table.schema.primary_key.is_empty() {
            return Err(StoreError::Conflict(
                "upsert and append need a primary key in the schema".into(),
            ));
        }
        let at = now();
        let close_all = format!(
            "UPDATE \"{}\" SET _valid_to = $1 WHERE _valid_to IS NULL",
            table.table
        );
        let replace = mode == ImportMode::Replace;
        let tx = match &self.pool {
            crate::Pool::Sqlite(pool) => {
                let mut tx = pool.begin().await?;
                // A bigger page cache for the index upkeep of a large import (64 MiB at most;
                // set back when the import ends).
                sqlx::query("PRAGMA cache_size = -65536")
                    .execute(&mut *tx)
                    .await?;
                if replace {
                    sqlx::query(&close_all).bind(at).execute(&mut *tx).await?;
                }
                ImportTx::Sqlite(tx)
            }
            crate::Pool::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                if replace {
                    sqlx::query(&close_all).bind(at).execute(&mut *tx).await?;
                }
                ImportTx::Postgres(tx)
            }
        };
        let key_columns: Vec<String> = table
            .schema
            .primary_key
            .iter()
            .map(|name| format!("\"{name}\""))
            .collect();
        let duplicates = format!(
            "SELECT COUNT(*) FROM (SELECT 1 FROM \"{}\" WHERE _valid_to IS NULL GROUP BY {} HAVING COUNT(*) > 1) AS repeated",
            table.table,
            key_columns.join(", ")
        );
        Ok(RecordImport {
            tx,
            mode,
            duplicates,
            table: table.clone(),
            at,
            rows: 0,
        })
    }

    /// Replaces the current records with `rows` in one step; returns the instant of the change.
    pub async fn replace_records(
        &self,
        table: &RecordTable,
        rows: &[Vec<CellValue>],
    ) -> Result<DateTime<Utc>> {
        let mut import = self.begin_import(table, ImportMode::Replace).await?;
        import.insert(rows).await?;
        import.commit().await
    }
}

/// SQLite's default page cache (about 2 MiB), restored after an import.
const SQLITE_CACHE_PAGES: i32 = -2000;

enum ImportTx {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

impl ImportTx {
    fn backend(&self) -> Backend {
        match self {
            Self::Sqlite(_) => Backend::Sqlite,
            Self::Postgres(_) => Backend::Postgres,
        }
    }
}

/// Runs `$body` with `$tx` bound to the import's transaction, whichever the backend.
macro_rules! on_tx {
    ($import:expr, |$tx:ident| $body:expr) => {
        match &mut $import.tx {
            ImportTx::Sqlite($tx) => $body,
            ImportTx::Postgres($tx) => $body,
        }
    };
}

/// How an import changes the current records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportMode {
    /// The file becomes the whole current content.
    Replace,
    /// Rows replace the current rows with the same primary key, or are added.
    Upsert,
    /// Rows are added; a primary key that already exists refuses the import.
    Append,
}

/// An import in progress: rows go in batch by batch, all in one transaction.
pub struct RecordImport {
    tx: ImportTx,
    mode: ImportMode,
    /// Counts primary keys with more than one current version.
    duplicates: String,
    table: RecordTable,
    at: DateTime<Utc>,
    rows: u64,
}

impl RecordImport {
    /// Adds rows (typed values in schema order). An upsert first ends, in one statement per
    /// chunk, the current versions of the rows' primary keys; the rows then go in as multi-row
    /// INSERTs on SQLite (prepared once per chunk size, within SQLite's bound-variable limit)
    /// and through `COPY ... FROM STDIN` on PostgreSQL.
    pub async fn insert(&mut self, rows: &[Vec<CellValue>]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let fields = &self.table.schema.fields;
        let key: Vec<usize> = self
            .table
            .schema
            .primary_key
            .iter()
            .filter_map(|name| fields.iter().position(|f| &f.name == name))
            .collect();
        let at = self.at;
        let backend = self.tx.backend();
        if self.mode == ImportMode::Upsert && !key.is_empty() {
            let per_chunk = (MAX_VARIABLES - 1) / key.len();
            for chunk in rows.chunks(per_chunk) {
                let close = close_keys_sql(&self.table, key.len(), chunk.len(), backend);
                on_tx!(self, |tx| {
                    let mut query = sqlx::query(&close).bind(at);
                    for row in chunk {
                        for &i in &key {
                            query = bind_cell!(query, fields[i].kind, &row[i]);
                        }
                    }
                    query.execute(&mut **tx).await?;
                });
            }
        }
        match &mut self.tx {
            ImportTx::Sqlite(tx) => {
                let per_chunk = (MAX_VARIABLES / (fields.len() + 1)).min(MAX_ROWS_PER_INSERT);
                for chunk in rows.chunks(per_chunk) {
                    let sql = insert_sql(&self.table, chunk.len());
                    let mut query = sqlx::query(&sql);
                    for row in chunk {
                        query = query.bind(at);
                        for (field, value) in fields.iter().zip(row) {
                            query = bind_cell!(query, field.kind, value);
                        }
                    }
                    query.execute(&mut **tx).await?;
                }
            }
            ImportTx::Postgres(tx) => {
                let names: Vec<String> = fields.iter().map(|f| format!("\"{}\"", f.name)).collect();
                let statement = format!(
                    "COPY \"{}\" (_valid_from, {}) FROM STDIN",
                    self.table.table,
                    names.join(", ")
                );
                let valid_from = at.format("%Y-%m-%d %H:%M:%S%.6f+00").to_string();
                let mut copy = tx.copy_in_raw(&statement).await?;
                let mut buffer = String::with_capacity(COPY_CHUNK_BYTES + 4096);
                for row in rows {
                    buffer.push_str(&valid_from);
                    for value in row {
                        buffer.push('\t');
                        copy_text(&mut buffer, value);
                    }
                    buffer.push('\n');
                    if buffer.len() >= COPY_CHUNK_BYTES {
                        copy.send(buffer.as_bytes()).await?;
                        buffer.clear();
                    }
                }
                if !buffer.is_empty() {
                    copy.send(buffer.as_bytes()).await?;
                }
                copy.finish().await?;
            }
        }
        self.rows += rows.len() as u64;
        Ok(())
    }

    /// How many rows went in so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Makes the import visible; returns the instant it took effect. An append that repeats a
    /// current primary key is refused and rolled back.
    pub async fn commit(mut self) -> Result<DateTime<Utc>> {
        let (dataset, at) = (self.table.dataset.to_string(), self.at);
        let check = (self.mode == ImportMode::Append).then(|| self.duplicates.clone());
        let backend = self.tx.backend();
        on_tx!(self, |tx| {
            if let Some(check) = &check {
                let repeated: i64 = sqlx::query_scalar(check).fetch_one(&mut **tx).await?;
                if repeated > 0 {
                    return Err(StoreError::Conflict(format!(
                        "{repeated} primary key(s) of the file already exist; use upsert to replace them"
                    )));
                }
            }
            sqlx::query("UPDATE dataset_tables SET last_change_at = $2 WHERE dataset_id = $1")
                .bind(&dataset)
                .bind(at)
                .execute(&mut **tx)
                .await?;
            super::changes::record_changes!(&mut **tx, &self.table, at, backend);
        });
        match self.tx {
            ImportTx::Sqlite(mut tx) => {
                sqlx::query(&format!("PRAGMA cache_size = {SQLITE_CACHE_PAGES}"))
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?
            }
            ImportTx::Postgres(tx) => tx.commit().await?,
        }
        Ok(at)
    }
}

/// Bound variables per statement: SQLite's limit since 3.32 (PostgreSQL allows 65535).
const MAX_VARIABLES: usize = 32_766;
/// Rows per multi-row INSERT on SQLite: beyond a few hundred, larger statements gain nothing.
const MAX_ROWS_PER_INSERT: usize = 500;
/// Bytes of COPY text sent to PostgreSQL at a time.
const COPY_CHUNK_BYTES: usize = 256 * 1024;

/// `rows` parenthesised lists of `width` placeholders, `($2, $3), ($4, $5)` numbered on from
/// `$first` on PostgreSQL; on SQLite anonymous `?`, bound in order: SQLite looks named and
/// numbered parameters up by a linear scan, which makes large statements quadratic.
pub(super) fn value_lists(rows: usize, width: usize, first: usize, backend: Backend) -> String {
    let mut sql = String::with_capacity(rows * width * 6);
    let mut n = first;
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for k in 0..width {
            if k > 0 {
                sql.push_str(", ");
            }
            match backend {
                Backend::Sqlite => sql.push('?'),
                Backend::Postgres => {
                    let _ = write!(sql, "${n}");
                }
            }
            n += 1;
        }
        sql.push(')');
    }
    sql
}

/// `INSERT INTO t (_valid_from, fields...) VALUES (?, ...), (?, ...)` for `rows` rows, on
/// SQLite.
fn insert_sql(table: &RecordTable, rows: usize) -> String {
    let fields = &table.schema.fields;
    let names: Vec<String> = fields.iter().map(|f| format!("\"{}\"", f.name)).collect();
    format!(
        "INSERT INTO \"{}\" (_valid_from, {}) VALUES {}",
        table.table,
        names.join(", "),
        value_lists(rows, fields.len() + 1, 1, Backend::Sqlite)
    )
}

/// Ends the current versions of `rows` primary keys (`key_len` columns each) at the first
/// parameter.
fn close_keys_sql(table: &RecordTable, key_len: usize, rows: usize, backend: Backend) -> String {
    let columns: Vec<String> = table
        .schema
        .primary_key
        .iter()
        .map(|name| format!("\"{name}\""))
        .collect();
    let at = match backend {
        Backend::Sqlite => "?",
        Backend::Postgres => "$1",
    };
    format!(
        "UPDATE \"{}\" SET _valid_to = {at} WHERE _valid_to IS NULL AND ({}) IN (VALUES {})",
        table.table,
        columns.join(", "),
        value_lists(rows, key_len, 2, backend)
    )
}

/// Appends a value in PostgreSQL's COPY text format: `\N` for NULL, backslash escapes for
/// the characters that delimit rows and columns, ISO dates and times, UTC timestamps with an
/// explicit offset.
fn copy_text(out: &mut String, value: &CellValue) {
    match value {
        CellValue::Null => out.push_str("\\N"),
        CellValue::String(text) => {
            for c in text.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '\t' => out.push_str("\\t"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    c => out.push(c),
                }
            }
        }
        CellValue::Integer(v) => {
            let _ = write!(out, "{v}");
        }
        CellValue::Year(v) => {
            let _ = write!(out, "{v}");
        }
        CellValue::Number(v) => copy_float(out, *v),
        CellValue::Boolean(v) => out.push(if *v { 't' } else { 'f' }),
        CellValue::Date(v) => {
            let _ = write!(out, "{}", v.format("%Y-%m-%d"));
        }
        CellValue::Datetime(v) => {
            let _ = write!(out, "{}", v.format("%Y-%m-%d %H:%M:%S%.6f+00"));
        }
        CellValue::Time(v) => {
            let _ = write!(out, "{}", v.format("%H:%M:%S%.6f"));
        }
        CellValue::Geopoint([lon, lat]) => {
            copy_float(out, *lon);
            out.push(',');
            copy_float(out, *lat);
        }
    }
}

fn copy_float(out: &mut String, v: f64) {
    if v.is_nan() {
        out.push_str("NaN");
    } else if v.is_infinite() {
        out.push_str(if v > 0.0 { "Infinity" } else { "-Infinity" });
    } else {
        let _ = write!(out, "{v}");
    }
}
