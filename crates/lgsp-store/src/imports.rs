//! Import jobs: one row per import into a hosted dataset, from queued to succeeded or failed.

use serde::Serialize;

use crate::{now, on_pool, Result, Store, Timestamp};

/// An import job as stored. `report` is the Frictionless-shaped validation report (JSON text)
/// once there is one; `error_code`/`error_detail` say why a failed job failed.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ImportJob {
    pub id: String,
    #[sqlx(rename = "dataset_id")]
    pub dataset: String,
    pub mode: String,
    pub format: String,
    pub state: String,
    pub rows_read: i64,
    pub rows_written: i64,
    #[serde(skip)]
    pub report: Option<String>,
    pub error_code: Option<String>,
    pub error_detail: Option<String>,
    pub created_by: String,
    pub created_at: Timestamp,
    pub started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
}

/// How a job ended.
#[derive(Debug, Clone, Default)]
pub struct ImportOutcome {
    pub succeeded: bool,
    pub rows_read: u64,
    pub rows_written: u64,
    pub report: Option<String>,
    pub error_code: Option<String>,
    pub error_detail: Option<String>,
}

const COLUMNS: &str = "id, dataset_id, mode, format, state, rows_read, rows_written, report, \
    error_code, error_detail, created_by, created_at, started_at, finished_at";

impl Store {
    /// Records a queued import job.
    pub async fn create_import_job(
        &self,
        id: &str,
        dataset: &str,
        mode: &str,
        format: &str,
        created_by: &str,
    ) -> Result<()> {
        on_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO dataset_imports (id, dataset_id, mode, format, state, created_by, created_at)
                 VALUES ($1, $2, $3, $4, 'queued', $5, $6)",
            )
            .bind(id)
            .bind(dataset)
            .bind(mode)
            .bind(format)
            .bind(created_by)
            .bind(now())
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Marks a job running (before its import transaction opens).
    pub async fn start_import_job(&self, id: &str) -> Result<()> {
        on_pool!(self, |pool| {
            sqlx::query(
                "UPDATE dataset_imports SET state = 'running', started_at = $2 WHERE id = $1",
            )
            .bind(id)
            .bind(now())
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Records how a job ended (after its import transaction committed or rolled back).
    pub async fn finish_import_job(&self, id: &str, outcome: &ImportOutcome) -> Result<()> {
        let state = if outcome.succeeded {
            "succeeded"
        } else {
            "failed"
        };
        on_pool!(self, |pool| {
            sqlx::query(
                "UPDATE dataset_imports SET state = $2, rows_read = $3, rows_written = $4,
                     report = $5, error_code = $6, error_detail = $7, finished_at = $8
                 WHERE id = $1",
            )
            .bind(id)
            .bind(state)
            .bind(i64::try_from(outcome.rows_read).unwrap_or(i64::MAX))
            .bind(i64::try_from(outcome.rows_written).unwrap_or(i64::MAX))
            .bind(&outcome.report)
            .bind(&outcome.error_code)
            .bind(&outcome.error_detail)
            .bind(now())
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// One job of a dataset.
    pub async fn import_job(&self, dataset: &str, id: &str) -> Result<Option<ImportJob>> {
        let sql =
            format!("SELECT {COLUMNS} FROM dataset_imports WHERE dataset_id = $1 AND id = $2");
        Ok(on_pool!(self, |pool| {
            sqlx::query_as(&sql)
                .bind(dataset)
                .bind(id)
                .fetch_optional(pool)
                .await?
        }))
    }

    /// A dataset's latest jobs, newest first.
    pub async fn import_jobs(&self, dataset: &str, limit: i64) -> Result<Vec<ImportJob>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM dataset_imports WHERE dataset_id = $1
             ORDER BY created_at DESC, id DESC LIMIT $2"
        );
        Ok(on_pool!(self, |pool| {
            sqlx::query_as(&sql)
                .bind(dataset)
                .bind(limit)
                .fetch_all(pool)
                .await?
        }))
    }

    /// Marks every job still queued or running as failed (`interrupted`): called at start,
    /// when no import of a previous process can still be running. Their transactions never
    /// committed, so the records are as before them. Returns how many were marked.
    pub async fn fail_interrupted_import_jobs(&self) -> Result<u64> {
        Ok(on_pool!(self, |pool| {
            sqlx::query(
                "UPDATE dataset_imports SET state = 'failed', error_code = 'interrupted',
                     error_detail = 'the process running the import stopped before it finished; nothing was changed',
                     finished_at = $1
                 WHERE state IN ('queued', 'running')",
            )
            .bind(now())
            .execute(pool)
            .await?
            .rows_affected()
        }))
    }
}
