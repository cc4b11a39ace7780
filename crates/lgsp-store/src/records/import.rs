//! Imports: rows go into a dataset's table in one transaction, as new versions.

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
                let mut tx = pool.begin_with(self.begin_write()).await?;
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
                let mut tx = pool.begin_with(self.begin_write()).await?;
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

/// `COPY t (_valid_from, fields...) FROM STDIN` in binary format.
fn copy_statement(table: &RecordTable) -> String {
    let names: Vec<String> = table
        .schema
        .fields
        .iter()
        .map(|f| format!("\"{}\"", f.name))
        .collect();
    format!(
        "COPY \"{}\" (_valid_from, {}) FROM STDIN (FORMAT binary)",
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
        // Nothing to copy for an empty file: no COPY at all.
        let Some(mut batch) = batches.recv().await else {
            return Ok(());
        };
        let mut sink = tx.copy_in_raw(&copy_statement(&self.table)).await?;
        sink.send(COPY_HEADER).await?;
        loop {
            let EncodedRows { rows, body } = batch?;
            let Encoded::Postgres { copy, .. } = body else {
                unreachable!("an encoder encodes for its import's backend")
            };
            for part in copy.chunks(COPY_CHUNK_BYTES) {
                sink.send(part).await?;
            }
            self.rows += rows as u64;
            written(self.rows);
            match batches.recv().await {
                Some(next) => batch = next,
                None => break,
            }
        }
        sink.send(COPY_TRAILER).await?;
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
                    sink.send(COPY_HEADER).await?;
                    for part in copy.chunks(COPY_CHUNK_BYTES) {
                        sink.send(part).await?;
                    }
                    sink.send(COPY_TRAILER).await?;
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
        let bulk = (!rebuild.is_empty()).then_some(self.rows as i64);
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
            super::changes::record_changes!(
                &mut **tx,
                &self.table,
                at,
                backend,
                only_inserts,
                bulk
            );
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
/// SQLite (owning the rows' values, so nothing is copied again), binary COPY tuples for
/// PostgreSQL (which the server reads without parsing numbers and times from text).
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
        /// Tuples in COPY's binary format (without its header and trailer).
        copy: Vec<u8>,
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
                let mut copy = Vec::with_capacity(count * 128);
                let columns = i16::try_from(self.kinds.len() + 1).unwrap_or(i16::MAX);
                for row in &rows {
                    copy.extend_from_slice(&columns.to_be_bytes());
                    copy.extend_from_slice(&8i32.to_be_bytes());
                    copy.extend_from_slice(&pg_micros(self.at).to_be_bytes());
                    for (&kind, value) in self.kinds.iter().zip(row) {
                        copy_binary(&mut copy, kind, value);
                    }
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
        crate::value_lists(rows, key_len, 2, backend)
    )
}

/// The binary COPY header: signature, no flags, no extension.
const COPY_HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";
/// The binary COPY trailer: a tuple of -1 fields.
const COPY_TRAILER: &[u8] = &(-1i16).to_be_bytes();

/// Microseconds since PostgreSQL's epoch, 2000-01-01 00:00:00 UTC.
fn pg_micros(at: DateTime<Utc>) -> i64 {
    let epoch = NaiveDate::from_ymd_opt(2000, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
        .expect("a valid date");
    (at - epoch).num_microseconds().unwrap_or(i64::MAX)
}

/// Appends one field in COPY's binary format: its length (-1 for NULL), then its value as
/// PostgreSQL's `send` functions write it for the column's type (`column_type`).
fn copy_binary(out: &mut Vec<u8>, kind: FieldType, value: &CellValue) {
    let mut field = |bytes: &[u8]| {
        out.extend_from_slice(&(bytes.len() as i32).to_be_bytes());
        out.extend_from_slice(bytes);
    };
    match (kind, value) {
        (FieldType::Integer, CellValue::Integer(v)) => field(&v.to_be_bytes()),
        (FieldType::Year, CellValue::Year(v)) => field(&v.to_be_bytes()),
        (FieldType::Number, CellValue::Number(v)) => field(&v.to_bits().to_be_bytes()),
        (FieldType::Boolean, CellValue::Boolean(v)) => field(&[u8::from(*v)]),
        (FieldType::Date, CellValue::Date(v)) => {
            let epoch = NaiveDate::from_ymd_opt(2000, 1, 1).expect("a valid date");
            let days = i32::try_from((*v - epoch).num_days()).unwrap_or(i32::MAX);
            field(&days.to_be_bytes())
        }
        (FieldType::Datetime, CellValue::Datetime(v)) => field(&pg_micros(*v).to_be_bytes()),
        (FieldType::Time, CellValue::Time(v)) => {
            use chrono::Timelike;
            let micros = i64::from(v.num_seconds_from_midnight()) * 1_000_000
                + i64::from(v.nanosecond() / 1000);
            field(&micros.to_be_bytes())
        }
        (FieldType::String, CellValue::String(v)) => field(v.as_bytes()),
        (FieldType::Geopoint, CellValue::Geopoint([lon, lat])) => {
            field(format!("{lon},{lat}").as_bytes())
        }
        _ => out.extend_from_slice(&(-1i32).to_be_bytes()),
    }
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, NaiveTime, TimeZone, Utc};
    use lgsp_core::table_schema::{CellValue, FieldType};

    use super::{copy_binary, iso_date, pg_micros};

    /// The hand-written date is chrono's `%F` wherever it applies.
    #[test]
    fn dates_are_written_as_chrono_writes_them() {
        for (y, m, d) in [
            (0, 1, 1),
            (1, 2, 3),
            (999, 12, 31),
            (2024, 2, 29),
            (9999, 12, 31),
        ] {
            let date = NaiveDate::from_ymd_opt(y, m, d).unwrap();
            assert_eq!(iso_date(&date).unwrap(), date.format("%F").to_string());
        }
        for (y, m, d) in [(10000, 1, 1), (-44, 3, 15)] {
            assert_eq!(iso_date(&NaiveDate::from_ymd_opt(y, m, d).unwrap()), None);
        }
    }

    fn binary(kind: FieldType, value: CellValue) -> Vec<u8> {
        let mut out = Vec::new();
        copy_binary(&mut out, kind, &value);
        out
    }

    /// Binary COPY fields as PostgreSQL's documentation gives them: times from 2000-01-01.
    #[test]
    fn binary_copy_fields_count_from_postgres_epoch() {
        let at = Utc.with_ymd_and_hms(2000, 1, 2, 0, 0, 1).unwrap();
        assert_eq!(pg_micros(at), 86_401_000_000);
        assert_eq!(
            binary(
                FieldType::Date,
                CellValue::Date(NaiveDate::from_ymd_opt(1999, 12, 31).unwrap())
            ),
            [0, 0, 0, 4, 0xff, 0xff, 0xff, 0xff]
        );
        assert_eq!(
            binary(
                FieldType::Time,
                CellValue::Time(NaiveTime::from_hms_opt(0, 0, 1).unwrap())
            ),
            [0, 0, 0, 8, 0, 0, 0, 0, 0, 0x0f, 0x42, 0x40]
        );
        assert_eq!(binary(FieldType::Integer, CellValue::Null), [0xff; 4]);
        assert_eq!(
            binary(FieldType::Boolean, CellValue::Boolean(true)),
            [0, 0, 0, 1, 1]
        );
        assert_eq!(
            binary(FieldType::String, CellValue::String("Hà".into())),
            [0, 0, 0, 3, b'H', 0xc3, 0xa0]
        );
    }
}
