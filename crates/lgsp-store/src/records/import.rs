//! Imports: rows go into a dataset's table in one transaction, as new versions.

use std::fmt::Write;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use lgsp_core::table_schema::{CellValue, FieldType};
use sqlx::postgres::PgArguments;
use sqlx::sqlite::SqliteArguments;
use sqlx::Arguments;

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
        let mut closed = 0;
        let mut rebuild = Vec::new();
        let tx = match &self.pool {
            crate::Pool::Sqlite(pool) => {
                let mut tx = pool.begin().await?;
                // A bigger page cache for the index upkeep of a large import (64 MiB at most;
                // set back when the import ends).
                sqlx::query("PRAGMA cache_size = -65536")
                    .execute(&mut *tx)
                    .await?;
                if replace {
                    closed = sqlx::query(&close_all)
                        .bind(at)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                }
                ImportTx::Sqlite(tx)
            }
            crate::Pool::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                if mode != ImportMode::Upsert {
                    rebuild = bulk_load(&mut tx, &table.table).await?;
                }
                if replace {
                    closed = sqlx::query(&close_all)
                        .bind(at)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
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
            closed,
            rebuild,
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

/// `COPY t (_valid_from, fields...) FROM STDIN`, in text format.
fn copy_statement(table: &RecordTable) -> String {
    let names: Vec<String> = table
        .schema
        .fields
        .iter()
        .map(|f| format!("\"{}\"", f.name))
        .collect();
    format!(
        "COPY \"{}\" (_valid_from, {}) FROM STDIN",
        table.table,
        names.join(", ")
    )
}

/// Prepares a bulk load on PostgreSQL: when the table holds no version at all (a dataset's
/// first import), it is locked and its primary key and indexes dropped, to be built once over
/// the loaded rows at commit — a third of the time of keeping them up row by row. Returns the
/// statements that rebuild them (empty when the table has rows, which keep their indexes). The
/// lock holds readers of the (empty) dataset until the first load commits; a failed load rolls
/// the drops back with everything else.
async fn bulk_load(
    tx: &mut sqlx::Transaction<'static, sqlx::Postgres>,
    table: &str,
) -> Result<Vec<String>> {
    let empty = format!("SELECT NOT EXISTS (SELECT 1 FROM \"{table}\")");
    if !sqlx::query_scalar::<_, bool>(&empty)
        .fetch_one(&mut **tx)
        .await?
    {
        return Ok(Vec::new());
    }
    sqlx::query(&format!("LOCK TABLE \"{table}\" IN ACCESS EXCLUSIVE MODE"))
        .execute(&mut **tx)
        .await?;
    // Another import may have loaded it while this one waited for the lock.
    if !sqlx::query_scalar::<_, bool>(&empty)
        .fetch_one(&mut **tx)
        .await?
    {
        return Ok(Vec::new());
    }
    let key: Option<String> = sqlx::query_scalar(
        "SELECT c.conname::text FROM pg_constraint c JOIN pg_class r ON r.oid = c.conrelid
         WHERE r.relname = $1 AND pg_table_is_visible(r.oid) AND c.contype = 'p'",
    )
    .bind(table)
    .fetch_optional(&mut **tx)
    .await?;
    let indexes: Vec<(String, String)> = sqlx::query_as(
        "SELECT i.relname::text, pg_get_indexdef(i.oid) FROM pg_index x
         JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class r ON r.oid = x.indrelid
         WHERE r.relname = $1 AND pg_table_is_visible(r.oid) AND NOT x.indisprimary",
    )
    .bind(table)
    .fetch_all(&mut **tx)
    .await?;
    let mut rebuild = Vec::new();
    if let Some(key) = key {
        sqlx::query(&format!(
            "ALTER TABLE \"{table}\" DROP CONSTRAINT \"{key}\""
        ))
        .execute(&mut **tx)
        .await?;
        rebuild.push(format!(
            "ALTER TABLE \"{table}\" ADD CONSTRAINT \"{key}\" PRIMARY KEY (_id)"
        ));
    }
    for (name, definition) in indexes {
        sqlx::query(&format!("DROP INDEX \"{name}\""))
            .execute(&mut **tx)
            .await?;
        rebuild.push(definition);
    }
    Ok(rebuild)
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
    /// Current versions the import ended so far.
    closed: u64,
    /// Statements that give the table back the indexes a bulk load dropped.
    rebuild: Vec<String>,
}

impl RecordImport {
    /// Adds rows (typed values in schema order); see [`RowEncoder`] and
    /// [`RecordImport::insert_encoded`], which an import that streams a file uses to prepare one
    /// batch while the previous one is written.
    pub async fn insert(&mut self, rows: &[Vec<CellValue>]) -> Result<()> {
        let encoded = self.encoder().encode(rows.to_vec())?;
        self.insert_encoded(encoded).await
    }

    /// What prepares rows for this import; it can run on another thread.
    pub fn encoder(&self) -> RowEncoder {
        let fields = &self.table.schema.fields;
        RowEncoder {
            kinds: fields.iter().map(|f| f.kind).collect(),
            key: self
                .table
                .schema
                .primary_key
                .iter()
                .filter_map(|name| fields.iter().position(|f| &f.name == name))
                .collect(),
            closes: self.mode == ImportMode::Upsert,
            backend: self.tx.backend(),
            at: self.at,
        }
    }

    /// Writes every batch `batches` brings until it closes, calling `written` with the rows
    /// written so far after each. On PostgreSQL a replace or an append streams all batches
    /// through one `COPY`, so the server never waits between batches.
    pub async fn insert_all(
        &mut self,
        batches: &mut tokio::sync::mpsc::Receiver<Result<EncodedRows>>,
        written: impl Fn(u64),
    ) -> Result<()> {
        if self.mode == ImportMode::Upsert || self.tx.backend() == Backend::Sqlite {
            return self.insert_each(batches, written).await;
        }
        let ImportTx::Postgres(tx) = &mut self.tx else {
            unreachable!("checked above")
        };
        let copy_of = |batch: Result<EncodedRows>| -> Result<String> {
            match batch?.body {
                Encoded::Postgres { copy, .. } => Ok(copy),
                Encoded::Sqlite { .. } => {
                    unreachable!("an encoder encodes for its import's backend")
                }
            }
        };
        // Nothing to copy for an empty file: no COPY at all.
        let Some(first) = batches.recv().await else {
            return Ok(());
        };
        let mut next = Some(first);
        let mut sink = tx.copy_in_raw(&copy_statement(&self.table)).await?;
        while let Some(batch) = next {
            let rows = batch.as_ref().map_or(0, |b| b.rows);
            let copy = copy_of(batch)?;
            for part in copy.as_bytes().chunks(COPY_CHUNK_BYTES) {
                sink.send(part).await?;
            }
            self.rows += rows as u64;
            written(self.rows);
            next = batches.recv().await;
        }
        sink.finish().await?;
        Ok(())
    }

    async fn insert_each(
        &mut self,
        batches: &mut tokio::sync::mpsc::Receiver<Result<EncodedRows>>,
        written: impl Fn(u64),
    ) -> Result<()> {
        while let Some(batch) = batches.recv().await {
            self.insert_encoded(batch?).await?;
            written(self.rows);
        }
        Ok(())
    }

    /// Writes rows prepared by [`RecordImport::encoder`]. An upsert first ends, in one statement
    /// per chunk, the current versions of the rows' primary keys; the rows then go in as
    /// multi-row INSERTs on SQLite (within SQLite's bound-variable limit) and through `COPY ...
    /// FROM STDIN` on PostgreSQL.
    pub async fn insert_encoded(&mut self, rows: EncodedRows) -> Result<()> {
        let key_len = self.table.schema.primary_key.len();
        match (&mut self.tx, rows.body) {
            (ImportTx::Sqlite(tx), Encoded::Sqlite { closes, inserts }) => {
                for (n, args) in closes {
                    let sql = close_keys_sql(&self.table, key_len, n, Backend::Sqlite);
                    self.closed += sqlx::query_with(&sql, args)
                        .execute(&mut **tx)
                        .await?
                        .rows_affected();
                }
                for (n, args) in inserts {
                    let sql = insert_sql(&self.table, n, self.at);
                    sqlx::query_with(&sql, args).execute(&mut **tx).await?;
                }
            }
            (ImportTx::Postgres(tx), Encoded::Postgres { closes, copy }) => {
                for (n, args) in closes {
                    let sql = close_keys_sql(&self.table, key_len, n, Backend::Postgres);
                    self.closed += sqlx::query_with(&sql, args)
                        .execute(&mut **tx)
                        .await?
                        .rows_affected();
                }
                if !copy.is_empty() {
                    let mut sink = tx.copy_in_raw(&copy_statement(&self.table)).await?;
                    for part in copy.as_bytes().chunks(COPY_CHUNK_BYTES) {
                        sink.send(part).await?;
                    }
                    sink.finish().await?;
                }
            }
            _ => unreachable!("an encoder encodes for its import's backend"),
        }
        self.rows += rows.rows as u64;
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
        let only_inserts = self.closed == 0;
        let rebuild = std::mem::take(&mut self.rebuild);
        on_tx!(self, |tx| {
            for statement in &rebuild {
                sqlx::query(statement).execute(&mut **tx).await?;
            }
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
            super::changes::record_changes!(&mut **tx, &self.table, at, backend, only_inserts);
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

/// Prepares rows for an import's backend, on whatever thread calls it: bound arguments for
/// SQLite (owning the rows' values, so nothing is copied again), COPY text for PostgreSQL.
#[derive(Debug, Clone)]
pub struct RowEncoder {
    kinds: Vec<FieldType>,
    /// The primary key's fields, by position.
    key: Vec<usize>,
    /// Whether the rows end the current versions of their keys (upsert).
    closes: bool,
    backend: Backend,
    at: DateTime<Utc>,
}

/// Rows ready for [`RecordImport::insert_encoded`].
pub struct EncodedRows {
    rows: usize,
    body: Encoded,
}

enum Encoded {
    Sqlite {
        /// Per statement: rows, then the instant and the rows' keys.
        closes: Vec<(usize, SqliteArguments<'static>)>,
        /// Per statement: rows, then their values.
        inserts: Vec<(usize, SqliteArguments<'static>)>,
    },
    Postgres {
        closes: Vec<(usize, PgArguments)>,
        copy: String,
    },
}

impl RowEncoder {
    pub fn encode(&self, rows: Vec<Vec<CellValue>>) -> Result<EncodedRows> {
        let count = rows.len();
        let key_chunks = |per_chunk: usize| -> Vec<Vec<Vec<CellValue>>> {
            if !self.closes || self.key.is_empty() {
                return Vec::new();
            }
            rows.chunks(per_chunk)
                .map(|chunk| {
                    chunk
                        .iter()
                        .map(|row| self.key.iter().map(|&i| row[i].clone()).collect())
                        .collect()
                })
                .collect()
        };
        let per_close = (MAX_VARIABLES - 1) / self.key.len().max(1);
        let body = match self.backend {
            Backend::Sqlite => {
                let mut closes = Vec::new();
                for chunk in key_chunks(per_close) {
                    let mut args = SqliteArguments::default();
                    args.add(self.at).map_err(sqlx::Error::Encode)?;
                    let n = chunk.len();
                    for key in chunk {
                        for (&i, value) in self.key.iter().zip(key) {
                            add_sqlite(&mut args, self.kinds[i], value)?;
                        }
                    }
                    closes.push((n, args));
                }
                let per_insert = (MAX_VARIABLES / self.kinds.len()).min(MAX_ROWS_PER_INSERT);
                let mut inserts = Vec::with_capacity(count / per_insert + 1);
                let mut rows = rows.into_iter().peekable();
                while rows.peek().is_some() {
                    let mut args = SqliteArguments::default();
                    let mut n = 0;
                    for row in rows.by_ref().take(per_insert) {
                        for (&kind, value) in self.kinds.iter().zip(row) {
                            add_sqlite(&mut args, kind, value)?;
                        }
                        n += 1;
                    }
                    inserts.push((n, args));
                }
                Encoded::Sqlite { closes, inserts }
            }
            Backend::Postgres => {
                let mut closes = Vec::new();
                for chunk in key_chunks(per_close) {
                    let mut args = PgArguments::default();
                    args.add(self.at).map_err(sqlx::Error::Encode)?;
                    let n = chunk.len();
                    for key in chunk {
                        for (&i, value) in self.key.iter().zip(key) {
                            add_postgres(&mut args, self.kinds[i], value)?;
                        }
                    }
                    closes.push((n, args));
                }
                let valid_from = self.at.format("%Y-%m-%d %H:%M:%S%.6f+00").to_string();
                let mut copy = String::with_capacity(count * 128);
                for row in &rows {
                    copy.push_str(&valid_from);
                    for value in row {
                        copy.push('\t');
                        copy_text(&mut copy, value);
                    }
                    copy.push('\n');
                }
                Encoded::Postgres { closes, copy }
            }
        };
        Ok(EncodedRows { rows: count, body })
    }
}

/// Adds `$value` to `$args` as `$kind`, moving owned text, so that even a NULL is typed for
/// the column (as `bind_cell!` binds).
macro_rules! add_cell {
    ($args:expr, $kind:expr, $value:expr) => {{
        let args = $args;
        match ($kind, $value) {
            (FieldType::Integer, CellValue::Integer(v)) => args.add(Some(v)),
            (FieldType::Integer, _) => args.add(None::<i64>),
            (FieldType::Year, CellValue::Year(v)) => args.add(Some(v)),
            (FieldType::Year, _) => args.add(None::<i32>),
            (FieldType::Number, CellValue::Number(v)) => args.add(Some(v)),
            (FieldType::Number, _) => args.add(None::<f64>),
            (FieldType::Boolean, CellValue::Boolean(v)) => args.add(Some(v)),
            (FieldType::Boolean, _) => args.add(None::<bool>),
            (FieldType::Date, CellValue::Date(v)) => add_date!(args, v),
            (FieldType::Date, _) => args.add(None::<NaiveDate>),
            (FieldType::Datetime, CellValue::Datetime(v)) => args.add(Some(v)),
            (FieldType::Datetime, _) => args.add(None::<DateTime<Utc>>),
            (FieldType::Time, CellValue::Time(v)) => args.add(Some(v)),
            (FieldType::Time, _) => args.add(None::<NaiveTime>),
            (FieldType::Geopoint, CellValue::Geopoint([lon, lat])) => {
                args.add(Some(format!("{lon},{lat}")))
            }
            (FieldType::String, CellValue::String(v)) => args.add(Some(v)),
            (FieldType::String | FieldType::Geopoint, _) => args.add(None::<String>),
        }
        .map_err(sqlx::Error::Encode)?;
        Ok(())
    }};
}

fn add_sqlite(
    args: &mut SqliteArguments<'static>,
    kind: FieldType,
    value: CellValue,
) -> Result<()> {
    // SQLite stores dates as the text sqlx writes for them (`%F`); written by hand here, as
    // chrono's formatter is the slowest part of binding a row.
    macro_rules! add_date {
        ($args:expr, $v:expr) => {
            match iso_date(&$v) {
                Some(text) => $args.add(Some(text)),
                None => $args.add(Some($v)),
            }
        };
    }
    add_cell!(args, kind, value)
}

fn add_postgres(args: &mut PgArguments, kind: FieldType, value: CellValue) -> Result<()> {
    macro_rules! add_date {
        ($args:expr, $v:expr) => {
            $args.add(Some($v))
        };
    }
    add_cell!(args, kind, value)
}

/// `YYYY-MM-DD` for years 0 to 9999, exactly as chrono's `%F` writes them; None for others.
fn iso_date(date: &NaiveDate) -> Option<String> {
    let mut text = String::with_capacity(10);
    push_date(&mut text, date)?;
    Some(text)
}

/// Appends `YYYY-MM-DD` (years 0 to 9999; None, appending nothing, for others). Written by
/// hand: chrono's formatter re-reads its format string for every value, the slowest part of
/// preparing a row.
fn push_date(out: &mut String, date: &NaiveDate) -> Option<()> {
    use chrono::Datelike;
    let year = u32::try_from(date.year()).ok().filter(|y| *y <= 9999)?;
    push_digits(out, year, 4);
    out.push('-');
    push_digits(out, date.month(), 2);
    out.push('-');
    push_digits(out, date.day(), 2);
    Some(())
}

/// Appends `HH:MM:SS.ffffff` (None, appending nothing, for a leap second).
fn push_time(out: &mut String, time: &NaiveTime) -> Option<()> {
    use chrono::Timelike;
    let micros = time.nanosecond() / 1000;
    if micros >= 1_000_000 {
        return None;
    }
    push_digits(out, time.hour(), 2);
    out.push(':');
    push_digits(out, time.minute(), 2);
    out.push(':');
    push_digits(out, time.second(), 2);
    out.push('.');
    push_digits(out, micros, 6);
    Some(())
}

/// `value` in `width` decimal digits, zero-padded.
fn push_digits(out: &mut String, value: u32, width: usize) {
    let mut digits = [b'0'; 10];
    let mut rest = value;
    for slot in digits[..width].iter_mut().rev() {
        *slot = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
    out.extend(digits[..width].iter().map(|&d| char::from(d)));
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

/// `INSERT INTO t (_valid_from, fields...) VALUES ('<at>', ?, ...), ...` for `rows` rows, on
/// SQLite. The import's instant is the same for every row, so it is written into the statement
/// (as the text sqlx binds a `DateTime<Utc>` as, which every query compares with) instead of
/// being bound a million times.
fn insert_sql(table: &RecordTable, rows: usize, at: DateTime<Utc>) -> String {
    let fields = &table.schema.fields;
    let names: Vec<String> = fields.iter().map(|f| format!("\"{}\"", f.name)).collect();
    let at = at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false);
    let placeholders = vec!["?"; fields.len()].join(", ");
    let row = format!("('{at}', {placeholders})");
    format!(
        "INSERT INTO \"{}\" (_valid_from, {}) VALUES {}",
        table.table,
        names.join(", "),
        vec![row; rows].join(", ")
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
            if push_date(out, v).is_none() {
                let _ = write!(out, "{}", v.format("%Y-%m-%d"));
            }
        }
        CellValue::Datetime(v) => {
            let (date, time) = (v.date_naive(), v.time());
            let start = out.len();
            let fast = push_date(out, &date).and_then(|()| {
                out.push(' ');
                push_time(out, &time)
            });
            if fast.is_some() {
                out.push_str("+00");
            } else {
                out.truncate(start);
                let _ = write!(out, "{}", v.format("%Y-%m-%d %H:%M:%S%.6f+00"));
            }
        }
        CellValue::Time(v) => {
            if push_time(out, v).is_none() {
                let _ = write!(out, "{}", v.format("%H:%M:%S%.6f"));
            }
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

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, NaiveTime, TimeZone, Utc};
    use lgsp_core::table_schema::CellValue;

    use super::{copy_text, iso_date};

    fn copied(value: CellValue) -> String {
        let mut out = String::new();
        copy_text(&mut out, &value);
        out
    }

    /// The hand-written formats are chrono's, wherever they apply, and chrono's elsewhere.
    #[test]
    fn dates_and_times_are_written_as_chrono_writes_them() {
        let days = [
            (0, 1, 1),
            (1, 2, 3),
            (999, 12, 31),
            (2024, 2, 29),
            (9999, 12, 31),
        ];
        for (y, m, d) in days {
            let date = NaiveDate::from_ymd_opt(y, m, d).unwrap();
            assert_eq!(iso_date(&date).unwrap(), date.format("%F").to_string());
            assert_eq!(
                copied(CellValue::Date(date)),
                date.format("%Y-%m-%d").to_string()
            );
            for (h, mi, s, nano) in [(0, 0, 0, 0), (23, 59, 59, 999_999_000), (8, 5, 3, 120_000)] {
                let at = Utc.from_utc_datetime(&date.and_hms_nano_opt(h, mi, s, nano).unwrap());
                assert_eq!(
                    copied(CellValue::Datetime(at)),
                    at.format("%Y-%m-%d %H:%M:%S%.6f+00").to_string()
                );
                let time = NaiveTime::from_hms_nano_opt(h, mi, s, nano).unwrap();
                assert_eq!(
                    copied(CellValue::Time(time)),
                    time.format("%H:%M:%S%.6f").to_string()
                );
            }
        }
        // Outside the fast path: years beyond four digits, before year 0, a leap second.
        for (y, m, d) in [(10000, 1, 1), (-44, 3, 15)] {
            let date = NaiveDate::from_ymd_opt(y, m, d).unwrap();
            assert_eq!(iso_date(&date), None);
            assert_eq!(
                copied(CellValue::Date(date)),
                date.format("%Y-%m-%d").to_string()
            );
            let at = Utc.from_utc_datetime(&date.and_hms_opt(1, 2, 3).unwrap());
            assert_eq!(
                copied(CellValue::Datetime(at)),
                at.format("%Y-%m-%d %H:%M:%S%.6f+00").to_string()
            );
        }
        let leap = NaiveTime::from_hms_nano_opt(23, 59, 59, 1_500_000_000).unwrap();
        assert_eq!(
            copied(CellValue::Time(leap)),
            leap.format("%H:%M:%S%.6f").to_string()
        );
    }
}
