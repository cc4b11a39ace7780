//! Error reports on datasets (Q16.2.c): made by anyone who may read a dataset, moved by its
//! owner agency from open to fixed or rejected. Each change of state is a compare-and-set on
//! the state, and the notifications it causes are written in the same transaction.

use chrono::{DateTime, Utc};
use lgsp_core::catalog::{AccessLevel, DatasetId};
use lgsp_core::quality::error_report::{
    ReportDescription, ReportState, ReportStep, ReportTarget, TrackingCode,
};
use lgsp_core::{AgencyCode, Email, Role, Username};
use serde::Serialize;
use sqlx::types::Json;

use crate::{now, on_pool, Result, Store, StoreError};

/// A report as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ErrorReport {
    pub code: TrackingCode,
    pub dataset: DatasetId,
    /// The agency that owned the dataset when the report was made: it handles the report.
    pub owner: AgencyCode,
    /// The dataset's access level when the report was made.
    pub access: AccessLevel,
    /// The record's primary-key values, as an object.
    pub record_key: Option<serde_json::Value>,
    pub field: Option<String>,
    pub description: ReportDescription,
    /// The signed-in person who reported it; `None` for a citizen who did not sign in.
    pub reporter: Option<Username>,
    pub contact_email: Option<Email>,
    pub state: ReportState,
    /// Why it was rejected.
    pub reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub acknowledged_by: Option<String>,
    /// When it was fixed or rejected.
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolved_by: Option<String>,
    /// From the report to the fix, once fixed.
    pub time_to_fix_seconds: Option<i64>,
}

/// A report to record.
pub struct NewErrorReport<'a> {
    pub code: &'a TrackingCode,
    pub dataset: &'a DatasetId,
    pub owner: &'a AgencyCode,
    pub access: AccessLevel,
    pub target: &'a ReportTarget,
    pub description: &'a ReportDescription,
    /// The account id of the signed-in reporter.
    pub reporter: Option<i64>,
    pub contact_email: Option<&'a Email>,
}

/// An in-app notification to write with a change.
pub struct Notice<'a> {
    pub subject: &'a str,
    pub body: &'a str,
    pub link: &'a str,
}

#[derive(sqlx::FromRow)]
struct ReportRow {
    code: String,
    dataset_id: String,
    owner_agency: String,
    access_level: String,
    record_key: Option<Json<serde_json::Value>>,
    field_name: Option<String>,
    description: String,
    reporter: Option<String>,
    contact_email: Option<String>,
    state: String,
    reason: Option<String>,
    created_at: DateTime<Utc>,
    acknowledged_at: Option<DateTime<Utc>>,
    acknowledged_by: Option<String>,
    resolved_at: Option<DateTime<Utc>>,
    resolved_by: Option<String>,
    time_to_fix_seconds: Option<i64>,
}

impl TryFrom<ReportRow> for ErrorReport {
    type Error = StoreError;
    fn try_from(r: ReportRow) -> Result<Self> {
        Ok(Self {
            code: TrackingCode::parse(&r.code)?,
            dataset: DatasetId::parse(&r.dataset_id)?,
            owner: AgencyCode::parse(&r.owner_agency)?,
            access: AccessLevel::parse(&r.access_level)?,
            record_key: r.record_key.map(|json| json.0),
            field: r.field_name,
            description: ReportDescription::parse(&r.description)?,
            reporter: r.reporter.map(Username::parse).transpose()?,
            contact_email: r.contact_email.map(Email::parse).transpose()?,
            state: ReportState::parse(&r.state)?,
            reason: r.reason,
            created_at: r.created_at,
            acknowledged_at: r.acknowledged_at,
            acknowledged_by: r.acknowledged_by,
            resolved_at: r.resolved_at,
            resolved_by: r.resolved_by,
            time_to_fix_seconds: r.time_to_fix_seconds,
        })
    }
}

const SELECT: &str = "SELECT r.code, r.dataset_id, r.owner_agency, r.access_level, r.record_key,
    r.field_name, r.description, u.username AS reporter, r.contact_email, r.state, r.reason,
    r.created_at, r.acknowledged_at, r.acknowledged_by, r.resolved_at, r.resolved_by,
    r.time_to_fix_seconds
    FROM error_reports r LEFT JOIN users u ON u.id = r.reporter_user_id";

/// Whole seconds from `from` to `to`, never negative.
fn seconds_between(from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
    (to - from).num_seconds().max(0)
}

impl Store {
    /// Records a report and notifies every active administrator of the owner agency, in one
    /// transaction. A tracking code already taken is a [`StoreError::Conflict`] (the caller
    /// draws another).
    pub async fn create_error_report(
        &self,
        report: &NewErrorReport<'_>,
        notice: &Notice<'_>,
    ) -> Result<ErrorReport> {
        let at = now();
        on_pool!(self, |pool| {
            let mut tx = pool.begin_with(self.begin_write()).await?;
            sqlx::query(
                "INSERT INTO error_reports (code, dataset_id, owner_agency, access_level,
                     record_key, field_name, description, reporter_user_id, contact_email,
                     state, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'open', $10)",
            )
            .bind(report.code.as_str())
            .bind(report.dataset.as_str())
            .bind(report.owner.as_str())
            .bind(report.access.as_str())
            .bind(report.target.record_key_json().map(Json))
            .bind(report.target.field())
            .bind(report.description.as_str())
            .bind(report.reporter)
            .bind(report.contact_email.map(Email::as_str))
            .bind(at)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::on_constraint("the tracking code is taken"))?;
            sqlx::query(
                "INSERT INTO notifications (user_id, subject, body, link, created_at)
                 SELECT u.id, $3, $4, $5, $6 FROM users u JOIN agencies a ON a.id = u.agency_id
                 WHERE u.role = $1 AND a.code = $2 AND u.disabled_at IS NULL",
            )
            .bind(Role::AgencyAdmin.as_str())
            .bind(report.owner.as_str())
            .bind(notice.subject)
            .bind(notice.body)
            .bind(notice.link)
            .bind(at)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        });
        self.error_report(report.code).await
    }

    /// One report by its tracking code.
    pub async fn error_report(&self, code: &TrackingCode) -> Result<ErrorReport> {
        let sql = format!("{SELECT} WHERE r.code = $1");
        let row: Option<ReportRow> = on_pool!(self, |pool| {
            sqlx::query_as(&sql)
                .bind(code.as_str())
                .fetch_optional(pool)
                .await?
        });
        row.ok_or(StoreError::NotFound("error report"))?.try_into()
    }

    /// The reports on a dataset, newest first.
    pub async fn error_reports_of_dataset(&self, dataset: &DatasetId) -> Result<Vec<ErrorReport>> {
        let sql = format!("{SELECT} WHERE r.dataset_id = $1 ORDER BY r.created_at DESC, r.id DESC");
        let rows: Vec<ReportRow> = on_pool!(self, |pool| {
            sqlx::query_as(&sql)
                .bind(dataset.as_str())
                .fetch_all(pool)
                .await?
        });
        rows.into_iter().map(ErrorReport::try_from).collect()
    }

    /// The reports addressed to an agency (every agency's with `None`), open ones first, then
    /// acknowledged, then resolved; newest first within each.
    pub async fn error_reports_to(&self, owner: Option<&AgencyCode>) -> Result<Vec<ErrorReport>> {
        let sql = format!(
            "{SELECT} WHERE ($1 IS NULL OR r.owner_agency = $1)
             ORDER BY CASE r.state WHEN 'open' THEN 0 WHEN 'acknowledged' THEN 1 ELSE 2 END,
                      r.created_at DESC, r.id DESC
             LIMIT 1000"
        );
        let rows: Vec<ReportRow> = on_pool!(self, |pool| {
            sqlx::query_as(&sql)
                .bind(owner.map(AgencyCode::as_str))
                .fetch_all(pool)
                .await?
        });
        rows.into_iter().map(ErrorReport::try_from).collect()
    }

    /// Moves `report` by `step` to `to` if it is still in the state it was read in, records
    /// who did it and when (and, when fixed, the time to fix), and notifies the reporter, if
    /// signed in, in the same transaction. `None` when another step got there first.
    pub async fn move_error_report(
        &self,
        report: &ErrorReport,
        step: &ReportStep,
        to: ReportState,
        actor: &str,
        notice: &Notice<'_>,
    ) -> Result<Option<ErrorReport>> {
        let at = now();
        let (acknowledged_at, resolved_at) = match to {
            ReportState::Acknowledged => (Some(at), None),
            _ => (None, Some(at)),
        };
        let time_to_fix =
            (to == ReportState::Fixed).then(|| seconds_between(report.created_at, at));
        let moved = on_pool!(self, |pool| {
            let mut tx = pool.begin_with(self.begin_write()).await?;
            let moved = sqlx::query(
                "UPDATE error_reports SET state = $3,
                     acknowledged_at = COALESCE($4, acknowledged_at),
                     acknowledged_by = CASE WHEN $4 IS NULL THEN acknowledged_by ELSE $6 END,
                     resolved_at = $5,
                     resolved_by = CASE WHEN $5 IS NULL THEN NULL ELSE $6 END,
                     reason = $7, time_to_fix_seconds = $8
                 WHERE code = $1 AND state = $2",
            )
            .bind(report.code.as_str())
            .bind(report.state.as_str())
            .bind(to.as_str())
            .bind(acknowledged_at)
            .bind(resolved_at)
            .bind(actor)
            .bind(step.reason().map(|r| r.as_str()))
            .bind(time_to_fix)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if moved == 1 {
                sqlx::query(
                    "INSERT INTO notifications (user_id, subject, body, link, created_at)
                     SELECT r.reporter_user_id, $2, $3, $4, $5 FROM error_reports r
                     JOIN users u ON u.id = r.reporter_user_id
                     WHERE r.code = $1 AND u.disabled_at IS NULL",
                )
                .bind(report.code.as_str())
                .bind(notice.subject)
                .bind(notice.body)
                .bind(notice.link)
                .bind(at)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            moved
        });
        if moved == 0 {
            return Ok(None);
        }
        self.error_report(&report.code).await.map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_to_fix_is_whole_seconds_and_never_negative() {
        let created = DateTime::parse_from_rfc3339("2026-03-01T08:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let fixed = DateTime::parse_from_rfc3339("2026-03-02T09:30:15.900Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(seconds_between(created, fixed), 25 * 3600 + 30 * 60 + 15);
        assert_eq!(seconds_between(fixed, created), 0);
    }
}
