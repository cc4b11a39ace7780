//! Importing a CSV file into a dataset's records, streaming and all or nothing: a blocking
//! reader validates rows one by one; valid rows cross a bounded channel into one database
//! transaction in batches; the transaction commits only if the whole file was valid. Memory
//! holds a batch and what uniqueness checks must remember, whatever the file's size. Used by
//! the API and by `lgsp import`.

use std::io::Read;

use chrono::{DateTime, Utc};
use lgsp_core::table_schema::CellValue;
use lgsp_store::{ImportMode, RecordTable, Store, StoreError};
use serde::Serialize;

use super::validation::{validate_csv, ReadError, Report};

/// Rows inserted per batch.
const BATCH: usize = 5_000;

/// A committed import.
#[derive(Debug, Serialize)]
pub struct Imported {
    /// Rows the file brought in.
    pub rows: u64,
    pub changed_at: DateTime<Utc>,
    pub report: Report,
}

/// Why nothing was imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error("{} errors in {} rows", .0.stats.errors, .0.stats.rows)]
    Invalid(Report),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the import task failed")]
    Task(#[from] tokio::task::JoinError),
}

pub async fn import_csv<R: Read + Send + 'static>(
    store: &Store,
    table: &RecordTable,
    mode: ImportMode,
    reader: R,
) -> Result<Imported, ImportError> {
    let (rows_in, mut rows_out) = tokio::sync::mpsc::channel::<Vec<CellValue>>(4 * BATCH);
    let schema = table.schema.clone();
    let references = super::references::load(store, &schema).await?;
    let validation = tokio::task::spawn_blocking(move || {
        validate_csv(reader, &schema, references, |row| {
            // A closed channel means the import already failed; the report still completes.
            let _ = rows_in.blocking_send(row);
        })
    });
    let mut import = store.begin_import(table, mode).await?;
    let mut batch = Vec::with_capacity(BATCH);
    let mut failure = None;
    while let Some(row) = rows_out.recv().await {
        batch.push(row);
        if batch.len() == BATCH && failure.is_none() {
            failure = import.insert(&batch).await.err();
            batch.clear();
        }
    }
    let report = validation.await??;
    if let Some(error) = failure {
        return Err(error.into());
    }
    if !report.valid {
        // Dropping the import rolls its transaction back: the records stay as they were.
        return Err(ImportError::Invalid(report));
    }
    import.insert(&batch).await?;
    let rows = import.rows();
    let changed_at = import.commit().await?;
    Ok(Imported {
        rows,
        changed_at,
        report,
    })
}
