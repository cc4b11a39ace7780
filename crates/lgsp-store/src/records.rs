//! Records of hosted datasets: one typed table per dataset, created from its Table Schema, in
//! which each record version keeps the system-time interval it was current in, so that any
//! query can be asked *as of* a past instant (Circular 13/2017: "current or as of a time").
//!
//! Table and column names come from validated identifiers (dataset ids, Table Schema field
//! names: `[a-z0-9_]`) and are quoted besides; values are always bound parameters.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use lgsp_core::catalog::DatasetId;
use lgsp_core::table_schema::{CellValue, FieldType, TableSchema};
use sqlx::types::Json;
use sqlx::Row;

use crate::{now, on_pool, Backend, Result, Store, StoreError};

/// A dataset's table of records.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordTable {
    pub dataset: DatasetId,
    pub table: String,
    pub schema: TableSchema,
    pub last_change_at: Option<DateTime<Utc>>,
}

/// Records to read: as of an instant, where fields equal values, in insertion order.
#[derive(Debug, Clone)]
pub struct RecordQuery {
    pub as_of: DateTime<Utc>,
    /// `(field name, value)` pairs that must all hold; the names must be the schema's.
    pub equals: Vec<(String, CellValue)>,
    pub limit: usize,
    pub offset: usize,
}

fn column_type(kind: FieldType, backend: Backend) -> &'static str {
    match (backend, kind) {
        (Backend::Sqlite, FieldType::Integer | FieldType::Year | FieldType::Boolean) => "INTEGER",
        (Backend::Sqlite, FieldType::Number) => "REAL",
        (Backend::Sqlite, _) => "TEXT",
        (Backend::Postgres, FieldType::Integer) => "BIGINT",
        (Backend::Postgres, FieldType::Year) => "INTEGER",
        (Backend::Postgres, FieldType::Number) => "DOUBLE PRECISION",
        (Backend::Postgres, FieldType::Boolean) => "BOOLEAN",
        (Backend::Postgres, FieldType::Date) => "DATE",
        (Backend::Postgres, FieldType::Datetime) => "TIMESTAMPTZ",
        (Backend::Postgres, FieldType::Time) => "TIME",
        (Backend::Postgres, FieldType::String | FieldType::Geopoint) => "TEXT",
    }
}

/// Binds a cell as its field's type, so that even a NULL is typed for the column.
macro_rules! bind_cell {
    ($query:expr, $kind:expr, $value:expr) => {{
        let query = $query;
        match ($kind, $value) {
            (FieldType::Integer, CellValue::Integer(v)) => query.bind(Some(*v)),
            (FieldType::Integer, _) => query.bind(None::<i64>),
            (FieldType::Year, CellValue::Year(v)) => query.bind(Some(*v)),
            (FieldType::Year, _) => query.bind(None::<i32>),
            (FieldType::Number, CellValue::Number(v)) => query.bind(Some(*v)),
            (FieldType::Number, _) => query.bind(None::<f64>),
            (FieldType::Boolean, CellValue::Boolean(v)) => query.bind(Some(*v)),
            (FieldType::Boolean, _) => query.bind(None::<bool>),
            (FieldType::Date, CellValue::Date(v)) => query.bind(Some(*v)),
            (FieldType::Date, _) => query.bind(None::<NaiveDate>),
            (FieldType::Datetime, CellValue::Datetime(v)) => query.bind(Some(*v)),
            (FieldType::Datetime, _) => query.bind(None::<DateTime<Utc>>),
            (FieldType::Time, CellValue::Time(v)) => query.bind(Some(*v)),
            (FieldType::Time, _) => query.bind(None::<NaiveTime>),
            (FieldType::Geopoint, CellValue::Geopoint([lon, lat])) => {
                query.bind(Some(format!("{lon},{lat}")))
            }
            (FieldType::String, CellValue::String(v)) => query.bind(Some(v.clone())),
            (FieldType::String | FieldType::Geopoint, _) => query.bind(None::<String>),
        }
    }};
}

/// Reads column `i` of a row as the field's type.
macro_rules! read_cell {
    ($row:expr, $i:expr, $kind:expr) => {{
        let row = $row;
        let i = $i;
        let value: Option<CellValue> = match $kind {
            FieldType::Integer => row.try_get::<Option<i64>, _>(i)?.map(CellValue::Integer),
            FieldType::Year => row.try_get::<Option<i32>, _>(i)?.map(CellValue::Year),
            FieldType::Number => row.try_get::<Option<f64>, _>(i)?.map(CellValue::Number),
            FieldType::Boolean => row.try_get::<Option<bool>, _>(i)?.map(CellValue::Boolean),
            FieldType::Date => row.try_get::<Option<NaiveDate>, _>(i)?.map(CellValue::Date),
            FieldType::Datetime => row
                .try_get::<Option<DateTime<Utc>>, _>(i)?
                .map(CellValue::Datetime),
            FieldType::Time => row.try_get::<Option<NaiveTime>, _>(i)?.map(CellValue::Time),
            FieldType::String => row.try_get::<Option<String>, _>(i)?.map(CellValue::String),
            FieldType::Geopoint => row.try_get::<Option<String>, _>(i)?.and_then(|text| {
                let (lon, lat) = text.split_once(',')?;
                Some(CellValue::Geopoint([lon.parse().ok()?, lat.parse().ok()?]))
            }),
        };
        value.unwrap_or(CellValue::Null)
    }};
}

#[derive(sqlx::FromRow)]
struct TableRow {
    dataset_id: String,
    table_name: String,
    table_schema: Json<TableSchema>,
    last_change_at: Option<DateTime<Utc>>,
}

impl TryFrom<TableRow> for RecordTable {
    type Error = StoreError;
    fn try_from(row: TableRow) -> Result<Self> {
        Ok(Self {
            dataset: DatasetId::parse(&row.dataset_id)?,
            table: row.table_name,
            schema: row.table_schema.0,
            last_change_at: row.last_change_at,
        })
    }
}

impl Store {
    /// The records table of a dataset, if it has one.
    pub async fn record_table(&self, dataset: &DatasetId) -> Result<Option<RecordTable>> {
        let row: Option<TableRow> = on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT dataset_id, table_name, table_schema, last_change_at
                 FROM dataset_tables WHERE dataset_id = $1",
            )
            .bind(dataset.as_str())
            .fetch_optional(pool)
            .await?
        });
        row.map(RecordTable::try_from).transpose()
    }

    /// Creates the typed table of a dataset from its schema, with indexes on the primary key
    /// and on the foreign keys. A dataset has one table; changing its schema is another step.
    pub async fn create_record_table(
        &self,
        dataset: &DatasetId,
        schema: &TableSchema,
    ) -> Result<RecordTable> {
        if self.record_table(dataset).await?.is_some() {
            return Err(StoreError::Conflict(format!(
                "dataset {dataset} already has a table of records"
            )));
        }
        let table = format!("ds_{}", dataset.as_str().replace('-', "_"));
        let backend = self.backend();
        let id_column = match backend {
            Backend::Sqlite => "_id INTEGER PRIMARY KEY",
            Backend::Postgres => "_id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
        };
        let time = match backend {
            Backend::Sqlite => "TEXT",
            Backend::Postgres => "TIMESTAMPTZ",
        };
        let mut columns = vec![
            id_column.to_owned(),
            format!("_valid_from {time} NOT NULL"),
            format!("_valid_to {time}"),
        ];
        columns.extend(
            schema
                .fields
                .iter()
                .map(|f| format!("\"{}\" {}", f.name, column_type(f.kind, backend))),
        );
        let mut statements = vec![format!("CREATE TABLE \"{table}\" ({})", columns.join(", "))];
        statements.push(format!(
            "CREATE INDEX \"{table}_current\" ON \"{table}\" (_valid_to, _valid_from)"
        ));
        let mut keys: Vec<&Vec<String>> = vec![&schema.primary_key];
        keys.extend(schema.foreign_keys.iter().map(|fk| &fk.fields));
        for (n, key) in keys.into_iter().filter(|k| !k.is_empty()).enumerate() {
            let quoted: Vec<String> = key.iter().map(|c| format!("\"{c}\"")).collect();
            statements.push(format!(
                "CREATE INDEX \"{table}_key{n}\" ON \"{table}\" ({}, _valid_to)",
                quoted.join(", ")
            ));
        }
        on_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            for statement in &statements {
                sqlx::query(statement).execute(&mut *tx).await?;
            }
            sqlx::query(
                "INSERT INTO dataset_tables (dataset_id, table_name, table_schema, created_at)
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(dataset.as_str())
            .bind(&table)
            .bind(Json(schema))
            .bind(now())
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        });
        self.record_table(dataset)
            .await?
            .ok_or(StoreError::NotFound("record table"))
    }

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
        let key_match: Vec<String> = table
            .schema
            .primary_key
            .iter()
            .enumerate()
            .map(|(n, name)| format!("\"{name}\" = ${}", n + 2))
            .collect();
        let close_key = format!(
            "UPDATE \"{}\" SET _valid_to = $1 WHERE _valid_to IS NULL AND {}",
            table.table,
            key_match.join(" AND ")
        );
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
        let fields = &table.schema.fields;
        let names: Vec<String> = fields.iter().map(|f| format!("\"{}\"", f.name)).collect();
        let placeholders: Vec<String> = (0..fields.len()).map(|i| format!("${}", i + 2)).collect();
        Ok(RecordImport {
            tx,
            mode,
            close_key,
            duplicates,
            table: table.clone(),
            at,
            insert: format!(
                "INSERT INTO \"{}\" (_valid_from, {}) VALUES ($1, {})",
                table.table,
                names.join(", "),
                placeholders.join(", ")
            ),
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

    /// The records current at `query.as_of` that match its equalities.
    pub async fn records(
        &self,
        table: &RecordTable,
        query: &RecordQuery,
    ) -> Result<Vec<Vec<CellValue>>> {
        let fields = &table.schema.fields;
        let mut conditions = vec![
            "_valid_from <= $1".to_owned(),
            "(_valid_to IS NULL OR _valid_to > $1)".to_owned(),
        ];
        let mut kinds = Vec::with_capacity(query.equals.len());
        for (n, (name, value)) in query.equals.iter().enumerate() {
            let field = fields
                .iter()
                .find(|f| &f.name == name)
                .ok_or_else(|| StoreError::MissingReference(format!("no field `{name}`")))?;
            conditions.push(format!("\"{}\" = ${}", field.name, n + 2));
            kinds.push((field.kind, value));
        }
        let names: Vec<String> = fields.iter().map(|f| format!("\"{}\"", f.name)).collect();
        let sql = format!(
            "SELECT {} FROM \"{}\" WHERE {} ORDER BY _id LIMIT {} OFFSET {}",
            names.join(", "),
            table.table,
            conditions.join(" AND "),
            query.limit.min(1_000_000),
            query.offset
        );
        let records = on_pool!(self, |pool| {
            let mut select = sqlx::query(&sql).bind(query.as_of);
            for (kind, value) in &kinds {
                select = bind_cell!(select, *kind, *value);
            }
            let rows = select.fetch_all(pool).await?;
            let mut records = Vec::with_capacity(rows.len());
            for row in &rows {
                let mut record = Vec::with_capacity(fields.len());
                for (i, field) in fields.iter().enumerate() {
                    record.push(read_cell!(row, i, field.kind));
                }
                records.push(record);
            }
            records
        });
        Ok(records)
    }
}

enum ImportTx {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
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
    /// Ends the current version of one primary key (upsert).
    close_key: String,
    /// Counts primary keys with more than one current version.
    duplicates: String,
    table: RecordTable,
    at: DateTime<Utc>,
    insert: String,
    rows: u64,
}

impl RecordImport {
    /// Adds rows (typed values in schema order).
    pub async fn insert(&mut self, rows: &[Vec<CellValue>]) -> Result<()> {
        let fields = &self.table.schema.fields;
        let key: Vec<usize> = self
            .table
            .schema
            .primary_key
            .iter()
            .filter_map(|name| fields.iter().position(|f| &f.name == name))
            .collect();
        let upsert = self.mode == ImportMode::Upsert;
        let (insert, close_key, at) = (&self.insert, &self.close_key, self.at);
        on_tx!(self, |tx| {
            for row in rows {
                if upsert {
                    let mut close = sqlx::query(close_key).bind(at);
                    for &i in &key {
                        close = bind_cell!(close, fields[i].kind, &row[i]);
                    }
                    close.execute(&mut **tx).await?;
                }
                let mut query = sqlx::query(insert).bind(at);
                for (field, value) in fields.iter().zip(row) {
                    query = bind_cell!(query, field.kind, value);
                }
                query.execute(&mut **tx).await?;
            }
        });
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
        });
        match self.tx {
            ImportTx::Sqlite(tx) => tx.commit().await?,
            ImportTx::Postgres(tx) => tx.commit().await?,
        }
        Ok(at)
    }
}
