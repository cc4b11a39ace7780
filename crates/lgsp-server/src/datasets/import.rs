//! Importing a CSV file into a dataset's records, streaming and all or nothing: a blocking
//! reader validates rows one by one; valid rows cross a bounded channel into one database
//! transaction in batches; the transaction commits only if the whole file was valid. Memory
//! holds a batch and what uniqueness checks must remember, whatever the file's size. Used by
//! the API and by `lgsp import`. XLSX workbooks take the same path once read whole.

use std::collections::HashSet;
use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use lgsp_core::secret_guard::{Finding, SecretGuard, MAX_FINDINGS};
use lgsp_core::table_schema::CellValue;
use lgsp_store::{EncodedRows, ImportMode, RecordTable, Store, StoreError};
use serde::Serialize;

use super::validation::{validate_csv_counted, validate_xlsx, ReadError, Report};

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
    /// Q20.3: cells carry suspected state-secret markings; nothing was imported.
    #[error("suspected state-secret markings in {} rows", .0.rows.len())]
    StateSecret(Box<SecretWatch>),
}

/// The state-secret guard over an import (Q20.3): the header and every row, valid or not, cell
/// by cell. Remembers the flagged rows (the first [`MAX_FINDINGS`] findings') for quarantine.
/// A cell whose exact text was released by the auditors for this dataset passes.
#[derive(Debug)]
pub struct SecretWatch {
    guard: Arc<SecretGuard>,
    released: HashSet<String>,
    header: Vec<String>,
    pub findings: Vec<Finding>,
    /// Flagged rows: row number in the file and cells.
    pub rows: Vec<(usize, Vec<String>)>,
    /// SHA-256 of each flagged cell's text.
    pub fingerprints: Vec<String>,
}

impl SecretWatch {
    pub fn new(guard: Arc<SecretGuard>, released: HashSet<String>) -> Self {
        Self {
            guard,
            released,
            header: Vec::new(),
            findings: Vec::new(),
            rows: Vec::new(),
            fingerprints: Vec::new(),
        }
    }

    /// The header row (row 1 of the file).
    pub fn header(&mut self, header: &[String]) {
        self.header = header.to_vec();
        let cells: Vec<&str> = header.iter().map(String::as_str).collect();
        self.row(1, &cells);
    }

    pub fn row(&mut self, row_number: usize, cells: &[&str]) {
        if self.findings.len() >= MAX_FINDINGS {
            return;
        }
        let mut flagged = false;
        for (i, cell) in cells.iter().enumerate() {
            if !self.guard.may_contain(cell.as_bytes()) {
                continue;
            }
            let before = self.findings.len();
            let column = self
                .header
                .get(i)
                .filter(|h| !h.is_empty())
                .cloned()
                .unwrap_or_else(|| (i + 1).to_string());
            self.guard
                .scan_cell(cell, row_number, &column, &mut self.findings);
            if self.findings.len() > before {
                let fingerprint = crate::quarantine::sha256_hex(cell.as_bytes());
                if self.released.contains(&fingerprint) {
                    self.findings.truncate(before);
                } else {
                    flagged = true;
                    self.fingerprints.push(fingerprint);
                }
            }
        }
        if flagged {
            self.rows
                .push((row_number, cells.iter().map(|c| (*c).to_owned()).collect()));
        }
    }

    /// The flagged rows as held in quarantine: `{"header": [...], "rows": [{"row", "cells"}]}`.
    pub fn held_content(&self) -> Vec<u8> {
        let rows: Vec<serde_json::Value> = self
            .rows
            .iter()
            .map(|(row, cells)| serde_json::json!({"row": row, "cells": cells}))
            .collect();
        serde_json::to_vec(&serde_json::json!({"header": self.header, "rows": rows}))
            .unwrap_or_default()
    }
}

/// What an import reads.
pub enum Source {
    /// A CSV file, streamed.
    Csv(Box<dyn Read + Send>),
    /// An XLSX workbook, whole, and the sheet to read (the first when `None`).
    Xlsx {
        bytes: Vec<u8>,
        sheet: Option<String>,
    },
}

impl Source {
    /// `csv` or `xlsx`.
    pub fn format(&self) -> &'static str {
        match self {
            Self::Csv(_) => "csv",
            Self::Xlsx { .. } => "xlsx",
        }
    }
}

/// Whether `head`, a file's first bytes, start a zip archive (as every XLSX workbook does).
pub fn looks_like_xlsx(head: &[u8]) -> bool {
    head.starts_with(b"PK\x03\x04")
}

/// An import's progress, read while it runs: rows read (every
/// [`super::validation::PROGRESS_EVERY`] rows) and rows written (every batch).
#[derive(Debug, Default)]
pub struct Progress {
    pub read: AtomicU64,
    pub written: AtomicU64,
}

impl Progress {
    pub fn read(&self) -> u64 {
        self.read.load(Ordering::Relaxed)
    }

    pub fn written(&self) -> u64 {
        self.written.load(Ordering::Relaxed)
    }
}

pub async fn import_csv<R: Read + Send + 'static>(
    store: &Store,
    table: &RecordTable,
    mode: ImportMode,
    reader: R,
) -> Result<Imported, ImportError> {
    import_file(
        store,
        table,
        mode,
        Source::Csv(Box::new(reader)),
        std::sync::Arc::default(),
        None,
    )
    .await
}

/// Imports `source` into `table`'s records, all or nothing, keeping `progress` up to date.
/// With a `guard`, a file with a suspected state-secret marking is refused
/// ([`ImportError::StateSecret`]) whatever else it holds.
pub async fn import_file(
    store: &Store,
    table: &RecordTable,
    mode: ImportMode,
    source: Source,
    progress: std::sync::Arc<Progress>,
    guard: Option<Arc<SecretGuard>>,
) -> Result<Imported, ImportError> {
    let mut watch = match guard {
        Some(guard) => {
            let scope = format!("dataset:{}", table.dataset);
            Some(SecretWatch::new(
                guard,
                store.released_fingerprints(&scope).await?,
            ))
        }
        None => None,
    };
    // Whole batches cross the channel, already encoded for the database: a handoff per row
    // would cost more than the row, and encoding on the reading thread lets the database
    // write one batch while the next is read, checked and encoded.
    let mut import = store.begin_import(table, mode).await?;
    let encoder = import.encoder();
    let (batches_in, mut batches_out) =
        tokio::sync::mpsc::channel::<lgsp_store::Result<EncodedRows>>(2);
    let schema = table.schema.clone();
    let references = super::references::load(store, &schema).await?;
    let counter = progress.clone();
    let validation = tokio::task::spawn_blocking(move || {
        let mut batch = Vec::with_capacity(BATCH);
        // A closed channel means the import already failed; the report still completes.
        let send = |rows: Vec<Vec<CellValue>>| {
            let _ = batches_in.blocking_send(encoder.encode(rows));
        };
        let keep = |row| {
            batch.push(row);
            if batch.len() == BATCH {
                send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)));
            }
        };
        let report = match source {
            Source::Csv(reader) => validate_csv_counted(
                reader,
                &schema,
                references,
                Some(&counter.read),
                watch.as_mut(),
                keep,
            ),
            Source::Xlsx { bytes, sheet } => validate_xlsx(
                bytes,
                sheet.as_deref(),
                &schema,
                references,
                Some(&counter.read),
                watch.as_mut(),
                keep,
            ),
        };
        if !batch.is_empty() {
            send(batch);
        }
        report.map(|report| (report, watch))
    });
    let failure = import
        .insert_all(&mut batches_out, |rows| {
            progress.written.store(rows, Ordering::Relaxed)
        })
        .await
        .err();
    // After a failure the reader still runs to the end of the file for its report.
    while batches_out.recv().await.is_some() {}
    let (report, watch) = validation.await??;
    if let Some(watch) = watch.filter(|w| !w.findings.is_empty()) {
        // Dropping the import rolls its transaction back: the records stay as they were.
        return Err(ImportError::StateSecret(Box::new(watch)));
    }
    if let Some(error) = failure {
        return Err(error.into());
    }
    if !report.valid {
        // Dropping the import rolls its transaction back: the records stay as they were.
        return Err(ImportError::Invalid(report));
    }
    let rows = import.rows();
    progress.written.store(rows, Ordering::Relaxed);
    let changed_at = import.commit().await?;
    Ok(Imported {
        rows,
        changed_at,
        report,
    })
}
