//! Import jobs: every import (API, console, `lgsp import`) is a row of `dataset_imports` that
//! goes queued → running → succeeded | failed. While a job runs its progress lives in memory
//! ([`RunningImports`]): the import's transaction may hold the database's only write lock
//! (SQLite), so counters are written to the row when the job ends. A process that dies leaves
//! its job `running`; the next start marks it failed (`interrupted`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use lgsp_store::{ImportJob, ImportMode, ImportOutcome, RecordTable, Store, StoreError};
use serde::Serialize;
use utoipa::ToSchema;

use super::import::{import_file, ImportError, Imported, Progress, Source};
use super::validation::ReadError;
use crate::error::{ApiError, ErrorCode};

/// The progress of the imports this process is running, by job id.
#[derive(Debug, Default)]
pub struct RunningImports(Mutex<HashMap<String, Arc<Progress>>>);

impl RunningImports {
    fn track(&self, id: &str) -> Arc<Progress> {
        let progress = Arc::new(Progress::default());
        self.lock().insert(id.to_owned(), progress.clone());
        progress
    }

    fn forget(&self, id: &str) {
        self.lock().remove(id);
    }

    fn progress(&self, id: &str) -> Option<Arc<Progress>> {
        self.lock().get(id).cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Progress>>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

pub fn mode_name(mode: ImportMode) -> &'static str {
    match mode {
        ImportMode::Replace => "replace",
        ImportMode::Upsert => "upsert",
        ImportMode::Append => "append",
    }
}

/// Why the import failed, as the API answers it.
pub fn problem(error: ImportError) -> ApiError {
    match error {
        ImportError::Read(error) => match error {
            ReadError::NotUtf8 { .. } => {
                ApiError::new(ErrorCode::InvalidEncoding).detail(error.to_string())
            }
            ReadError::Empty => ApiError::new(ErrorCode::EmptyFile).detail(error.to_string()),
            ReadError::Spreadsheet(_) | ReadError::NoSuchSheet(_) => {
                ApiError::new(ErrorCode::InvalidSpreadsheet).detail(error.to_string())
            }
            ReadError::Io(io) if io.kind() == std::io::ErrorKind::FileTooLarge => {
                ApiError::new(ErrorCode::PayloadTooLarge).detail(io.to_string())
            }
            other => ApiError::new(ErrorCode::InvalidBody).detail(other.to_string()),
        },
        ImportError::Invalid(report) => ApiError::new(ErrorCode::ImportInvalid)
            .detail(format!(
                "{} errors in {} rows",
                report.stats.errors, report.stats.rows
            ))
            .with("report", serde_json::to_value(&report).unwrap_or_default()),
        ImportError::Store(error) => error.into(),
        ImportError::Task(error) => ApiError::internal(error),
        // `run_tracked` holds the rows first and answers with the quarantine's problem.
        ImportError::StateSecret(watch) => crate::quarantine::blocked(0, &watch.findings),
    }
}

/// What an import needs besides the store to enforce the state-secret guard (Q20.3): the
/// guard, and the transparency log that blocks are recorded on.
#[derive(Clone)]
pub struct Guarded {
    pub guard: Arc<lgsp_core::secret_guard::SecretGuard>,
    pub log: crate::transparency::TransparencyLog,
}

impl Guarded {
    pub fn of(state: &crate::app::AppState) -> Self {
        Self {
            guard: state.secret_guard.clone(),
            log: state.log.clone(),
        }
    }
}

/// Records a queued job; returns its id.
pub async fn create(
    store: &Store,
    table: &RecordTable,
    mode: ImportMode,
    format: &str,
    by: &str,
) -> Result<String, StoreError> {
    let id = uuid::Uuid::now_v7().to_string();
    store
        .create_import_job(&id, table.dataset.as_str(), mode_name(mode), format, by)
        .await?;
    Ok(id)
}

/// Runs job `id`: marks it running, imports `source`, records the outcome. `on_progress`
/// gets the job's progress to watch (e.g. to print it).
pub async fn run(
    store: &Store,
    running: &RunningImports,
    guarded: &Guarded,
    id: &str,
    table: &RecordTable,
    mode: ImportMode,
    source: Source,
) -> Result<Imported, ApiError> {
    let progress = running.track(id);
    let result = run_tracked(store, guarded, id, table, mode, source, progress).await;
    running.forget(id);
    result
}

/// Runs job `id` in the background (for `Prefer: respond-async` and the console).
pub fn spawn(
    state: &crate::app::AppState,
    id: String,
    table: RecordTable,
    mode: ImportMode,
    source: Source,
    by: String,
) {
    let state = state.clone();
    tokio::spawn(async move {
        let guarded = Guarded::of(&state);
        match run(
            &state.store,
            &state.imports,
            &guarded,
            &id,
            &table,
            mode,
            source,
        )
        .await
        {
            Ok(imported) => tracing::info!(
                dataset = %table.dataset, rows = imported.rows, job = id, by, "records imported"
            ),
            Err(error) => tracing::info!(
                dataset = %table.dataset, job = id, code = error.code().code(), "import failed"
            ),
        }
    });
}

/// [`run`] with a progress the caller watches.
pub async fn run_tracked(
    store: &Store,
    guarded: &Guarded,
    id: &str,
    table: &RecordTable,
    mode: ImportMode,
    source: Source,
    progress: Arc<Progress>,
) -> Result<Imported, ApiError> {
    store.start_import_job(id).await?;
    let result = import_file(
        store,
        table,
        mode,
        source,
        progress.clone(),
        Some(guarded.guard.clone()),
    )
    .await;
    let mut outcome = ImportOutcome {
        rows_read: progress.read(),
        rows_written: progress.written(),
        ..ImportOutcome::default()
    };
    let result = match result {
        Ok(imported) => {
            outcome.succeeded = true;
            outcome.rows_read = imported.report.stats.rows as u64;
            outcome.report = serde_json::to_string(&imported.report).ok();
            Ok(imported)
        }
        Err(error) => {
            if let ImportError::Invalid(report) = &error {
                outcome.rows_read = report.stats.rows as u64;
                outcome.report = serde_json::to_string(report).ok();
            }
            // Nothing was committed.
            outcome.rows_written = 0;
            let problem = match error {
                ImportError::StateSecret(watch) => {
                    crate::quarantine::hold_import(store, &guarded.log, table, id, &watch).await
                }
                other => problem(other),
            };
            outcome.error_code = Some(problem.code().code().to_owned());
            outcome.error_detail = problem.detail_text().map(str::to_owned);
            Err(problem)
        }
    };
    if let Err(error) = store.finish_import_job(id, &outcome).await {
        tracing::error!(job = id, %error, "cannot record how an import ended");
    }
    result
}

/// A job as the API shows it: `id`, `dataset`, `mode` (`replace`, `upsert`, `append`),
/// `format` (`csv`, `xlsx`), `state` (`queued`, `running`, `succeeded`, `failed`),
/// `rows_read`, `rows_written`, `error_code` and `error_detail` (why a failed job failed:
/// `import_invalid`, `interrupted`, …), `created_by`, `created_at`, `started_at`,
/// `finished_at`; and `report`, the Frictionless-shaped validation report once the file was
/// read.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobView {
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub job: ImportJob,
    #[schema(value_type = Option<Object>)]
    pub report: Option<serde_json::Value>,
}

impl JobView {
    /// The stored job, with the live progress of a job this process runs.
    pub fn new(mut job: ImportJob, running: &RunningImports) -> Self {
        if job.state == "running" {
            if let Some(progress) = running.progress(&job.id) {
                job.rows_read = i64::try_from(progress.read()).unwrap_or(i64::MAX);
                job.rows_written = i64::try_from(progress.written()).unwrap_or(i64::MAX);
            }
        }
        Self {
            report: job
                .report
                .as_deref()
                .and_then(|r| serde_json::from_str(r).ok()),
            job,
        }
    }
}
