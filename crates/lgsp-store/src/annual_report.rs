//! What the annual report to the People's Committee (Q17.6) reads: the value of each figure
//! from the query the report prints beside it, the refusals it lists, and the record of the
//! report being sent (migration `0023_annual_report`).

use chrono::NaiveDate;
use serde::Serialize;
use sqlx::Row;

use crate::{on_pool, Result, Store, StoreError, Timestamp};

/// The value of one figure query: a count, a measure, or nothing to measure (`NULL`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FigureValue {
    Integer(i64),
    Decimal(f64),
    Null,
}

impl FigureValue {
    pub fn as_f64(self) -> Option<f64> {
        match self {
            Self::Integer(n) => Some(n as f64),
            Self::Decimal(x) => Some(x),
            Self::Null => None,
        }
    }
}

/// A sharing request refused in the period, as the report lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct RefusedRequest {
    pub id: i64,
    pub provider_code: String,
    pub consumer_code: String,
    pub consumer_name: String,
    pub reason: String,
    pub legal_basis: String,
    pub refused_at: Timestamp,
}

/// The operator's record that a year's report was sent to the People's Committee.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AnnualReportSubmission {
    pub year: i32,
    /// The username of the operator who marked it sent.
    pub submitted_by: String,
    pub submitted_at: chrono::DateTime<chrono::Utc>,
    /// The document's number as sent, e.g. "125/BC-STTTT".
    pub document_number: Option<String>,
    /// The document's date as sent.
    pub document_date: Option<NaiveDate>,
    /// The leaf of the transparency log that records the submission.
    pub log_index: Option<i64>,
}

impl Store {
    /// Runs one figure query of the annual report: a `SELECT` of one row and one column, a
    /// `BIGINT`, a `DOUBLE PRECISION` or `NULL`. The SQL comes from the report's own builder
    /// (or a test re-running it), never from a request.
    pub async fn figure_value(&self, sql: &str) -> Result<FigureValue> {
        let value = on_pool!(self, |pool| {
            let row = sqlx::query(sql).fetch_one(pool).await?;
            match row.try_get::<Option<i64>, _>(0) {
                Ok(Some(n)) => FigureValue::Integer(n),
                Ok(None) => FigureValue::Null,
                Err(_) => match row.try_get::<Option<f64>, _>(0)? {
                    Some(x) => FigureValue::Decimal(x),
                    None => FigureValue::Null,
                },
            }
        });
        Ok(value)
    }

    /// Sharing requests refused in `[from, to)`, oldest first, with the reason and legal basis
    /// the provider gave.
    pub async fn refused_requests(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<RefusedRequest>> {
        Ok(on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT r.id, r.provider_code, r.consumer_code, a.name AS consumer_name,
                        COALESCE(e.reason, r.decision_reason, '') AS reason,
                        COALESCE(r.refusal_legal_basis, '') AS legal_basis, e.at AS refused_at
                 FROM sharing_request_events e
                 JOIN sharing_requests r ON r.id = e.request_id
                 JOIN agencies a ON a.code = r.consumer_code
                 WHERE e.to_state = 'refused' AND e.at >= $1 AND e.at < $2
                 ORDER BY e.at, r.id",
            )
            .bind(from)
            .bind(to)
            .fetch_all(pool)
            .await?
        }))
    }

    /// The record of `year`'s report being sent, if it was.
    pub async fn annual_report_submission(
        &self,
        year: i32,
    ) -> Result<Option<AnnualReportSubmission>> {
        Ok(on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT year, submitted_by, submitted_at, document_number, document_date,
                        log_index
                 FROM annual_report_submissions WHERE year = $1",
            )
            .bind(year)
            .fetch_optional(pool)
            .await?
        }))
    }

    /// Records that `submission.year`'s report was sent; a year is marked once
    /// ([`StoreError::Conflict`] the second time).
    pub async fn record_annual_report_submission(
        &self,
        submission: &AnnualReportSubmission,
    ) -> Result<AnnualReportSubmission> {
        let stored = on_pool!(self, |pool| {
            sqlx::query_as(
                "INSERT INTO annual_report_submissions
                     (year, submitted_by, submitted_at, document_number, document_date, log_index)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 RETURNING year, submitted_by, submitted_at, document_number, document_date,
                           log_index",
            )
            .bind(submission.year)
            .bind(&submission.submitted_by)
            .bind(submission.submitted_at)
            .bind(&submission.document_number)
            .bind(submission.document_date)
            .bind(submission.log_index)
            .fetch_one(pool)
            .await
            .map_err(StoreError::on_constraint(format!(
                "the report of {} is already marked as sent",
                submission.year
            )))?
        });
        Ok(stored)
    }
}
