//! Content held by the state-secret guard (Q1.2, Q20.3) and the auditor's decision on it.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use lgsp_core::secret_guard::{Finding, QuarantineSource, QuarantineState};
use serde::Serialize;
use sqlx::types::Json;

use crate::{now, on_pool, Result, Store, StoreError, Timestamp};

/// Content to hold, with where it came from and what the guard found.
#[derive(Debug, Clone)]
pub struct NewQuarantine {
    pub source: QuarantineSource,
    /// Where released content passes again: `dataset:<id>`, `service:<label>`, `attachment`.
    pub scope: String,
    pub dataset_id: Option<String>,
    pub import_job: Option<String>,
    pub request_id: Option<String>,
    /// `agency/system/service/version`.
    pub service: Option<String>,
    /// `agency/system`.
    pub consumer: Option<String>,
    /// The agency told of the decision.
    pub agency_code: Option<String>,
    pub submitted_by: String,
    pub media_type: String,
    pub filename: Option<String>,
    pub content: Vec<u8>,
    /// The size of the content held.
    pub content_bytes: i64,
    pub content_sha256: String,
    /// SHA-256 digests of the flagged units.
    pub fingerprints: Vec<String>,
    pub findings: Vec<Finding>,
}

/// A quarantined item as auditors see it (without its content).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QuarantineItem {
    pub id: i64,
    pub source: QuarantineSource,
    pub source_label: &'static str,
    pub scope: String,
    pub dataset_id: Option<String>,
    pub import_job: Option<String>,
    pub request_id: Option<String>,
    pub service: Option<String>,
    pub consumer: Option<String>,
    pub agency_code: Option<String>,
    pub submitted_by: String,
    pub media_type: String,
    pub filename: Option<String>,
    /// Whether the content is still held (it is erased on confirmation).
    pub content_held: bool,
    pub content_bytes: i64,
    pub content_sha256: String,
    pub findings: Vec<Finding>,
    pub state: QuarantineState,
    pub state_label: &'static str,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    source: String,
    scope: String,
    dataset_id: Option<String>,
    import_job: Option<String>,
    request_id: Option<String>,
    service: Option<String>,
    consumer: Option<String>,
    agency_code: Option<String>,
    submitted_by: String,
    media_type: String,
    filename: Option<String>,
    content_held: bool,
    content_bytes: i64,
    content_sha256: String,
    findings: Json<Vec<Finding>>,
    state: String,
    decided_by: Option<String>,
    decided_at: Option<Timestamp>,
    note: Option<String>,
    created_at: Timestamp,
}

impl TryFrom<Row> for QuarantineItem {
    type Error = StoreError;
    fn try_from(row: Row) -> Result<Self> {
        let source = QuarantineSource::parse(&row.source)?;
        let state = QuarantineState::parse(&row.state)?;
        Ok(Self {
            id: row.id,
            source,
            source_label: source.label_vi(),
            scope: row.scope,
            dataset_id: row.dataset_id,
            import_job: row.import_job,
            request_id: row.request_id,
            service: row.service,
            consumer: row.consumer,
            agency_code: row.agency_code,
            submitted_by: row.submitted_by,
            media_type: row.media_type,
            filename: row.filename,
            content_held: row.content_held,
            content_bytes: row.content_bytes,
            content_sha256: row.content_sha256,
            findings: row.findings.0,
            state,
            state_label: state.label_vi(),
            decided_by: row.decided_by,
            decided_at: row.decided_at,
            note: row.note,
            created_at: row.created_at,
        })
    }
}

const SELECT: &str = "
    SELECT id, source, scope, dataset_id, import_job, request_id, service, consumer,
           agency_code, submitted_by, media_type, filename, content IS NOT NULL AS content_held,
           content_bytes, content_sha256, findings, state, decided_by, decided_at, note,
           created_at
    FROM quarantine";

impl Store {
    /// Holds `item` and notifies every auditor, in one transaction; returns its id.
    pub async fn hold_in_quarantine(
        &self,
        item: &NewQuarantine,
        subject: &str,
        body: &str,
    ) -> Result<i64> {
        let at = now();
        let id = on_pool!(self, |pool| {
            let mut tx = pool.begin_with(self.begin_write()).await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO quarantine (source, scope, dataset_id, import_job, request_id,
                     service, consumer, agency_code, submitted_by, media_type, filename, content,
                     content_bytes, content_sha256, fingerprints, findings, state, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
                     'held', $17)
                 RETURNING id",
            )
            .bind(item.source.as_str())
            .bind(&item.scope)
            .bind(&item.dataset_id)
            .bind(&item.import_job)
            .bind(&item.request_id)
            .bind(&item.service)
            .bind(&item.consumer)
            .bind(&item.agency_code)
            .bind(&item.submitted_by)
            .bind(&item.media_type)
            .bind(&item.filename)
            .bind(&item.content)
            .bind(item.content_bytes)
            .bind(&item.content_sha256)
            .bind(Json(&item.fingerprints))
            .bind(Json(&item.findings))
            .bind(at)
            .fetch_one(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO notifications (user_id, subject, body, link, created_at)
                 SELECT id, $1, $2, $3, $4 FROM users
                 WHERE role = 'auditor' AND disabled_at IS NULL",
            )
            .bind(subject)
            .bind(body)
            .bind(format!("/console/quarantine/{id}"))
            .bind(at)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            id
        });
        Ok(id)
    }

    /// Quarantined items, newest first, optionally in one state (at most 500).
    pub async fn list_quarantine(
        &self,
        state: Option<QuarantineState>,
    ) -> Result<Vec<QuarantineItem>> {
        let rows: Vec<Row> = on_pool!(self, |pool| {
            sqlx::query_as(&format!(
                "{SELECT} WHERE ($1 IS NULL OR state = $1) ORDER BY id DESC LIMIT 500"
            ))
            .bind(state.map(QuarantineState::as_str))
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(QuarantineItem::try_from).collect()
    }

    pub async fn get_quarantine(&self, id: i64) -> Result<QuarantineItem> {
        let row: Option<Row> = on_pool!(self, |pool| {
            sqlx::query_as(&format!("{SELECT} WHERE id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        row.ok_or(StoreError::NotFound("quarantined item"))?
            .try_into()
    }

    /// The content held for item `id`, `None` once erased.
    pub async fn quarantine_content(&self, id: i64) -> Result<Option<Vec<u8>>> {
        let row: Option<(Option<Vec<u8>>,)> = on_pool!(self, |pool| {
            sqlx::query_as("SELECT content FROM quarantine WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        Ok(row.ok_or(StoreError::NotFound("quarantined item"))?.0)
    }

    /// Decides on a held item: `confirmed` erases its content, `released` keeps it for the
    /// record. The sender and the agency concerned are notified in the same transaction. A decision
    /// taken meanwhile by another auditor makes this one a conflict.
    pub async fn decide_quarantine(
        &self,
        id: i64,
        to: QuarantineState,
        by: &str,
        note: &str,
        notice: (&str, &str),
    ) -> Result<QuarantineItem> {
        let at = now();
        let item = self.get_quarantine(id).await?;
        on_pool!(self, |pool| {
            let mut tx = pool.begin_with(self.begin_write()).await?;
            let moved = sqlx::query(
                "UPDATE quarantine
                 SET state = $2, decided_by = $3, decided_at = $4, note = $5,
                     content = CASE WHEN $2 = 'confirmed' THEN NULL ELSE content END
                 WHERE id = $1 AND state = 'held'",
            )
            .bind(id)
            .bind(to.as_str())
            .bind(by)
            .bind(at)
            .bind(note)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if moved != 1 {
                return Err(StoreError::Conflict(format!(
                    "quarantined item {id} was already decided"
                )));
            }
            // The person who sent it (a username; systems have none) and the administrators
            // of the agency concerned.
            sqlx::query(
                "INSERT INTO notifications (user_id, subject, body, link, created_at)
                 SELECT u.id, $3, $4, NULL, $5 FROM users u LEFT JOIN agencies a ON a.id = u.agency_id
                 WHERE u.disabled_at IS NULL
                   AND (u.username = $1 OR (u.role = 'agency_admin' AND a.code = $2))",
            )
            .bind(&item.submitted_by)
            .bind(&item.agency_code)
            .bind(notice.0)
            .bind(notice.1)
            .bind(at)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        });
        self.get_quarantine(id).await
    }

    /// The fingerprints of content released in `scope`: content with these digests passes.
    pub async fn released_fingerprints(&self, scope: &str) -> Result<HashSet<String>> {
        let rows: Vec<(Json<Vec<String>>,)> = on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT fingerprints FROM quarantine WHERE scope = $1 AND state = 'released'",
            )
            .bind(scope)
            .fetch_all(pool)
            .await?
        });
        Ok(rows.into_iter().flat_map(|(f,)| f.0).collect())
    }
}
