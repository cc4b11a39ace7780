//! Imports: rows go into a dataset's table in one transaction, as new versions.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use lgsp_core::table_schema::{CellValue, FieldType};

use super::RecordTable;
use crate::{now, Result, Store, StoreError};

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
