//! Records of hosted datasets: one typed table per dataset, created from its Table Schema, in
//! which each record version keeps the system-time interval it was current in, so that any
//! query can be asked *as of* a past instant (Circular 13/2017: "current or as of a time").
//!
//! Table and column names come from validated identifiers (dataset ids, Table Schema field
//! names: `[a-z0-9_]`) and are quoted besides; values are always bound parameters.

use chrono::{DateTime, Utc};
use lgsp_core::catalog::DatasetId;
use lgsp_core::table_schema::{FieldType, TableSchema};
use sqlx::types::Json;

use crate::{now, on_pool, Backend, Result, Store, StoreError};

/// A dataset's table of records.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordTable {
    pub dataset: DatasetId,
    pub table: String,
    pub schema: TableSchema,
    pub last_change_at: Option<DateTime<Utc>>,
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

/// Creates a table of records for `schema`, with indexes on the primary key and on the
/// foreign keys.
fn table_statements(table: &str, schema: &TableSchema, backend: Backend) -> Vec<String> {
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
    statements
}

// The modules below use the macros above.
mod change;
mod changes;
mod import;
mod query;

pub use change::{cell_text, SchemaChange, SchemaConflict};
pub use changes::{Change, ChangeOp, ChangePage};
pub use import::{EncodedRows, ImportMode, RecordImport, RowEncoder};
pub use query::Record;

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

    /// When the records of each loaded dataset last changed (datasets never loaded are absent
    /// or have none).
    pub async fn record_last_changes(&self) -> Result<Vec<(DatasetId, Option<DateTime<Utc>>)>> {
        let rows: Vec<(String, Option<DateTime<Utc>>)> = on_pool!(self, |pool| {
            sqlx::query_as("SELECT dataset_id, last_change_at FROM dataset_tables")
                .fetch_all(pool)
                .await?
        });
        rows.into_iter()
            .map(|(id, at)| Ok((DatasetId::parse(&id)?, at)))
            .collect()
    }

    /// Creates the typed table of a dataset from its schema, with indexes on the primary key
    /// and on the foreign keys. A dataset has one table; [`Store::change_record_table`] changes its schema.
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
        let statements = table_statements(&table, schema, self.backend());
        on_pool!(self, |pool| {
            let mut tx = pool.begin_with(self.begin_write()).await?;
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
}
