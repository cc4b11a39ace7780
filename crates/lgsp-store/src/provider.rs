//! The provider's procedures (migration `0019_provider_procedures`): suspending every grant on
//! a resource at once and resuming them (Q15.1.c; Decree 47/2020 art. 43), maintenance windows
//! announced on the portal, and requests that a consumer report on its use of a grant
//! (Q15.1.b).

use chrono::{DateTime, Utc};
use lgsp_core::catalog::DatasetId;
use lgsp_core::exchange::Target;
use lgsp_core::{AgencyCode, Text};
use serde::Serialize;
use sqlx::types::Json;

use crate::grants::GrantOn;
use crate::{now, on_pool, Result, Store, StoreError, Timestamp};

/// Why every grant on a resource is suspended at once (Decree 47/2020 art. 43).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SuspensionCause {
    /// Upgrade or maintenance of the provider's system (*nâng cấp, bảo trì*).
    Maintenance,
    /// Force majeure (*sự kiện bất khả kháng*).
    ForceMajeure,
}

impl SuspensionCause {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Maintenance => "maintenance",
            Self::ForceMajeure => "force_majeure",
        }
    }

    pub fn label_vi(self) -> &'static str {
        match self {
            Self::Maintenance => "Nâng cấp, bảo trì",
            Self::ForceMajeure => "Sự kiện bất khả kháng",
        }
    }

    fn parse(text: &str) -> Result<Self> {
        match text {
            "maintenance" => Ok(Self::Maintenance),
            "force_majeure" => Ok(Self::ForceMajeure),
            other => Err(StoreError::Corrupt(format!("suspension cause {other}"))),
        }
    }
}

/// A suspension of every grant on one resource, resumed as one.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResourceSuspension {
    pub id: i64,
    pub provider: String,
    pub service_id: Option<i64>,
    pub dataset_id: Option<String>,
    pub cause: SuspensionCause,
    pub reason: String,
    /// When the provider expects to resume: shown; resuming stays explicit.
    pub planned_end: Option<DateTime<Utc>>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub resumed_by: Option<String>,
    pub resumed_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct SuspensionRow {
    id: i64,
    provider_code: String,
    service_id: Option<i64>,
    dataset_id: Option<String>,
    cause: String,
    reason: String,
    planned_end: Option<Timestamp>,
    created_by: String,
    created_at: Timestamp,
    resumed_by: Option<String>,
    resumed_at: Option<Timestamp>,
}

impl TryFrom<SuspensionRow> for ResourceSuspension {
    type Error = StoreError;
    fn try_from(row: SuspensionRow) -> Result<Self> {
        Ok(Self {
            id: row.id,
            provider: row.provider_code,
            service_id: row.service_id,
            dataset_id: row.dataset_id,
            cause: SuspensionCause::parse(&row.cause)?,
            reason: row.reason,
            planned_end: row.planned_end,
            created_by: row.created_by,
            created_at: row.created_at,
            resumed_by: row.resumed_by,
            resumed_at: row.resumed_at,
        })
    }
}

const SELECT_SUSPENSION: &str = "
    SELECT id, provider_code, service_id, dataset_id, cause, reason, planned_end, created_by,
           created_at, resumed_by, resumed_at
    FROM resource_suspensions";

/// Maintenance of a resource to be announced.
#[derive(Debug, Clone)]
pub struct NewMaintenance {
    pub provider: AgencyCode,
    pub on: GrantOn,
    pub starts_at: DateTime<Utc>,
    /// The expected restoration.
    pub ends_at: DateTime<Utc>,
    pub description: Text,
    pub force_majeure: bool,
}

/// A maintenance window announced on the portal; the gateway answers 503 inside it.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MaintenanceWindow {
    pub id: i64,
    #[sqlx(rename = "provider_code")]
    pub provider: String,
    pub service_id: Option<i64>,
    pub dataset_id: Option<String>,
    /// The service's name, for a service.
    pub service_name: Option<String>,
    pub starts_at: DateTime<Utc>,
    /// The expected restoration.
    pub ends_at: DateTime<Utc>,
    pub description: String,
    pub force_majeure: bool,
    pub announced_by: String,
    pub announced_at: DateTime<Utc>,
    pub cancelled_by: Option<String>,
    pub cancelled_at: Option<DateTime<Utc>>,
}

impl MaintenanceWindow {
    /// Whether the gateway refuses exchanges on the resource at `at`.
    pub fn covers(&self, at: DateTime<Utc>) -> bool {
        self.cancelled_at.is_none() && self.starts_at <= at && at < self.ends_at
    }
}

const SELECT_WINDOW: &str = "
    SELECT m.id, m.provider_code, m.service_id, m.dataset_id, v.name AS service_name,
           m.starts_at, m.ends_at, m.description, m.force_majeure, m.announced_by,
           m.announced_at, m.cancelled_by, m.cancelled_at
    FROM maintenance_windows m
    LEFT JOIN services v ON v.id = m.service_id";

/// Which maintenance windows to list; `None` means any.
#[derive(Debug, Clone, Default)]
pub struct MaintenanceFilter {
    pub provider: Option<AgencyCode>,
    pub service_id: Option<i64>,
    pub dataset: Option<DatasetId>,
    /// Only windows not cancelled that end after this time.
    pub ending_after: Option<DateTime<Utc>>,
}

/// A request that a consumer report on its use of a grant (Q15.1.b).
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UsageReport {
    pub id: i64,
    pub grant_id: i64,
    /// The provider agency asking.
    #[sqlx(rename = "provider_code")]
    pub provider: String,
    pub consumer_agency: String,
    pub consumer_system: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>))]
    pub questions: Json<Vec<String>>,
    /// The period of use asked about.
    pub period_from: DateTime<Utc>,
    pub period_to: DateTime<Utc>,
    /// The answer is due before this time.
    pub due_at: DateTime<Utc>,
    pub requested_by: String,
    pub requested_at: DateTime<Utc>,
    /// One answer per question, once answered.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Vec<String>>))]
    pub answers: Option<Json<Vec<String>>>,
    pub answered_by: Option<String>,
    pub answered_at: Option<DateTime<Utc>>,
}

impl UsageReport {
    /// Not answered and past its deadline at `at`.
    pub fn is_overdue(&self, at: DateTime<Utc>) -> bool {
        self.answered_at.is_none() && at >= self.due_at
    }
}

const SELECT_REPORT: &str = "
    SELECT r.id, r.grant_id, g.provider_code, ca.code AS consumer_agency,
           cs.code AS consumer_system, r.questions, r.period_from, r.period_to, r.due_at,
           r.requested_by, r.requested_at, r.answers, r.answered_by, r.answered_at
    FROM usage_reports r
    JOIN grants g ON g.id = r.grant_id
    JOIN systems cs ON cs.id = g.consumer_system_id
    JOIN agencies ca ON ca.id = cs.agency_id";

/// A usage-report request to be made.
#[derive(Debug, Clone)]
pub struct NewUsageReport {
    pub grant_id: i64,
    pub questions: Vec<String>,
    pub period_from: DateTime<Utc>,
    pub period_to: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
}

fn resource_ids(on: &GrantOn) -> (Option<i64>, Option<&str>) {
    match on {
        GrantOn::Service(id) => (Some(*id), None),
        GrantOn::Dataset(id) => (None, Some(id.as_str())),
    }
}

impl Store {
    /// Suspends every active grant on the resource `on` at once, with the reason the consumers
    /// are told; returns the suspension and the grants it suspended. Each grant's history
    /// records the step; the grants' change moves the access revision, so the gateway refuses
    /// from the next request.
    pub async fn suspend_resource(
        &self,
        provider: &AgencyCode,
        on: &GrantOn,
        cause: SuspensionCause,
        reason: &Text,
        planned_end: Option<DateTime<Utc>>,
        actor: &str,
    ) -> Result<(ResourceSuspension, Vec<i64>)> {
        let at = now();
        let (service_id, dataset_id) = resource_ids(on);
        let (id, grants) = on_pool!(self, |pool| {
            let mut tx = pool.begin_with(self.begin_write()).await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO resource_suspensions (provider_code, service_id, dataset_id, cause,
                     reason, planned_end, created_by, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            )
            .bind(provider.as_str())
            .bind(service_id)
            .bind(dataset_id)
            .bind(cause.as_str())
            .bind(reason.as_str())
            .bind(planned_end)
            .bind(actor)
            .bind(at)
            .fetch_one(&mut *tx)
            .await
            .map_err(StoreError::on_constraint("suspension"))?;
            let grants: Vec<i64> = sqlx::query_scalar(
                "UPDATE grants SET status = 'suspended', status_reason = $4, updated_at = $5,
                     suspended_until = $6, suspension_id = $7
                 WHERE status = 'active' AND provider_code = $1
                   AND (($2 IS NOT NULL AND service_id = $2) OR ($3 IS NOT NULL AND dataset_id = $3))
                 RETURNING id",
            )
            .bind(provider.as_str())
            .bind(service_id)
            .bind(dataset_id)
            .bind(reason.as_str())
            .bind(at)
            .bind(planned_end)
            .bind(id)
            .fetch_all(&mut *tx)
            .await?;
            for grant in &grants {
                sqlx::query(
                    "INSERT INTO grant_events (grant_id, from_status, to_status, reason, actor, at)
                     VALUES ($1, 'active', 'suspended', $2, $3, $4)",
                )
                .bind(grant)
                .bind(reason.as_str())
                .bind(actor)
                .bind(at)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            (id, grants)
        });
        let mut grants = grants;
        grants.sort_unstable();
        Ok((self.get_resource_suspension(id).await?, grants))
    }

    /// Resumes the grants the suspension `id` suspended and that are still suspended by it
    /// (not those suspended, resumed or terminated one by one since); returns them. A
    /// suspension resumes once: again is a conflict.
    pub async fn resume_resource(&self, id: i64, actor: &str) -> Result<Vec<i64>> {
        let at = now();
        let grants = on_pool!(self, |pool| {
            let mut tx = pool.begin_with(self.begin_write()).await?;
            let resumed = sqlx::query(
                "UPDATE resource_suspensions SET resumed_by = $2, resumed_at = $3
                 WHERE id = $1 AND resumed_at IS NULL",
            )
            .bind(id)
            .bind(actor)
            .bind(at)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if resumed != 1 {
                return Err(StoreError::Conflict(format!(
                    "suspension {id} is already resumed"
                )));
            }
            let grants: Vec<i64> = sqlx::query_scalar(
                "UPDATE grants SET status = 'active', status_reason = NULL, updated_at = $2,
                     suspended_until = NULL, suspension_id = NULL
                 WHERE suspension_id = $1 AND status = 'suspended'
                 RETURNING id",
            )
            .bind(id)
            .bind(at)
            .fetch_all(&mut *tx)
            .await?;
            for grant in &grants {
                sqlx::query(
                    "INSERT INTO grant_events (grant_id, from_status, to_status, reason, actor, at)
                     VALUES ($1, 'suspended', 'active', NULL, $2, $3)",
                )
                .bind(grant)
                .bind(actor)
                .bind(at)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            grants
        });
        let mut grants = grants;
        grants.sort_unstable();
        Ok(grants)
    }

    pub async fn get_resource_suspension(&self, id: i64) -> Result<ResourceSuspension> {
        let row: Option<SuspensionRow> = on_pool!(self, |pool| {
            sqlx::query_as(&format!("{SELECT_SUSPENSION} WHERE id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        row.ok_or(StoreError::NotFound("suspension"))?.try_into()
    }

    /// Suspensions of resources of `provider` (`None`: every provider's), newest first.
    pub async fn list_resource_suspensions(
        &self,
        provider: Option<&AgencyCode>,
    ) -> Result<Vec<ResourceSuspension>> {
        let rows: Vec<SuspensionRow> = on_pool!(self, |pool| {
            sqlx::query_as(&format!(
                "{SELECT_SUSPENSION} WHERE $1 IS NULL OR provider_code = $1 ORDER BY id DESC"
            ))
            .bind(provider.map(AgencyCode::as_str))
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(TryInto::try_into).collect()
    }

    /// Records an announced maintenance window; the gateway refuses inside it from the next
    /// request (the window moves the access revision).
    pub async fn insert_maintenance(
        &self,
        new: &NewMaintenance,
        actor: &str,
    ) -> Result<MaintenanceWindow> {
        let (service_id, dataset_id) = resource_ids(&new.on);
        let id: i64 = on_pool!(self, |pool| {
            sqlx::query_scalar(
                "INSERT INTO maintenance_windows (provider_code, service_id, dataset_id,
                     starts_at, ends_at, description, force_majeure, announced_by, announced_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
            )
            .bind(new.provider.as_str())
            .bind(service_id)
            .bind(dataset_id)
            .bind(new.starts_at)
            .bind(new.ends_at)
            .bind(new.description.as_str())
            .bind(new.force_majeure)
            .bind(actor)
            .bind(now())
            .fetch_one(pool)
            .await
            .map_err(StoreError::on_constraint("maintenance"))?
        });
        self.get_maintenance(id).await
    }

    pub async fn get_maintenance(&self, id: i64) -> Result<MaintenanceWindow> {
        let row: Option<MaintenanceWindow> = on_pool!(self, |pool| {
            sqlx::query_as(&format!("{SELECT_WINDOW} WHERE m.id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        row.ok_or(StoreError::NotFound("maintenance window"))
    }

    /// Maintenance windows matching `filter`, soonest first.
    pub async fn list_maintenance(
        &self,
        filter: &MaintenanceFilter,
    ) -> Result<Vec<MaintenanceWindow>> {
        Ok(on_pool!(self, |pool| {
            sqlx::query_as(&format!(
                "{SELECT_WINDOW}
                 WHERE ($1 IS NULL OR m.provider_code = $1) AND ($2 IS NULL OR m.service_id = $2)
                   AND ($3 IS NULL OR m.dataset_id = $3)
                   AND ($4 IS NULL OR (m.ends_at > $4 AND m.cancelled_at IS NULL))
                 ORDER BY m.starts_at, m.id"
            ))
            .bind(filter.provider.as_ref().map(AgencyCode::as_str))
            .bind(filter.service_id)
            .bind(filter.dataset.as_ref().map(DatasetId::as_str))
            .bind(filter.ending_after)
            .fetch_all(pool)
            .await?
        }))
    }

    /// Cancels a window not yet over (ending one under way restores the resource at once).
    pub async fn cancel_maintenance(&self, id: i64, actor: &str) -> Result<MaintenanceWindow> {
        let at = now();
        let cancelled = on_pool!(self, |pool| {
            sqlx::query(
                "UPDATE maintenance_windows SET cancelled_by = $2, cancelled_at = $3
                 WHERE id = $1 AND cancelled_at IS NULL AND ends_at > $3",
            )
            .bind(id)
            .bind(actor)
            .bind(at)
            .execute(pool)
            .await?
            .rows_affected()
        });
        if cancelled != 1 {
            self.get_maintenance(id).await?;
            return Err(StoreError::Conflict(format!(
                "maintenance window {id} is already cancelled or over"
            )));
        }
        self.get_maintenance(id).await
    }

    /// The windows on `target` not cancelled, as the gateway checks them per request (kept
    /// under the access revision; whether one covers a request is decided by its time).
    pub async fn maintenance_for(&self, target: &Target) -> Result<Vec<MaintenanceWindow>> {
        let (service, dataset) = match target {
            Target::Service {
                provider,
                code,
                version,
            } => (Some((provider, code, version)), None),
            Target::Dataset { id } => (None, Some(id)),
        };
        Ok(on_pool!(self, |pool| {
            sqlx::query_as(&format!(
                "{SELECT_WINDOW}
                 LEFT JOIN systems ps ON ps.id = v.system_id
                 LEFT JOIN agencies pa ON pa.id = ps.agency_id
                 WHERE m.cancelled_at IS NULL
                   AND (($1 IS NOT NULL AND pa.code = $1 AND ps.code = $2 AND v.code = $3
                         AND v.version = $4)
                        OR ($5 IS NOT NULL AND m.dataset_id = $5))
                 ORDER BY m.starts_at"
            ))
            .bind(service.map(|(p, _, _)| p.agency.as_str()))
            .bind(service.map(|(p, _, _)| p.code.as_str()))
            .bind(service.map(|(_, c, _)| c.as_str()))
            .bind(service.map(|(_, _, v)| v.as_str()))
            .bind(dataset.map(DatasetId::as_str))
            .fetch_all(pool)
            .await?
        }))
    }

    /// Records a usage-report request on a grant.
    pub async fn insert_usage_report(
        &self,
        new: &NewUsageReport,
        actor: &str,
    ) -> Result<UsageReport> {
        let id: i64 = on_pool!(self, |pool| {
            sqlx::query_scalar(
                "INSERT INTO usage_reports (grant_id, questions, period_from, period_to, due_at,
                     requested_by, requested_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            )
            .bind(new.grant_id)
            .bind(Json(&new.questions))
            .bind(new.period_from)
            .bind(new.period_to)
            .bind(new.due_at)
            .bind(actor)
            .bind(now())
            .fetch_one(pool)
            .await
            .map_err(StoreError::on_constraint("usage report"))?
        });
        self.get_usage_report(id).await
    }

    pub async fn get_usage_report(&self, id: i64) -> Result<UsageReport> {
        let row: Option<UsageReport> = on_pool!(self, |pool| {
            sqlx::query_as(&format!("{SELECT_REPORT} WHERE r.id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        row.ok_or(StoreError::NotFound("usage report"))
    }

    /// Usage-report requests in which `agency` is the provider or the consumer (`None`:
    /// every agency's), newest first.
    pub async fn list_usage_reports(
        &self,
        agency: Option<&AgencyCode>,
    ) -> Result<Vec<UsageReport>> {
        Ok(on_pool!(self, |pool| {
            sqlx::query_as(&format!(
                "{SELECT_REPORT}
                 WHERE $1 IS NULL OR g.provider_code = $1 OR ca.code = $1
                 ORDER BY r.id DESC"
            ))
            .bind(agency.map(AgencyCode::as_str))
            .fetch_all(pool)
            .await?
        }))
    }

    /// Records the consumer's answers, once: answering again is a conflict.
    pub async fn answer_usage_report(
        &self,
        id: i64,
        answers: &[String],
        actor: &str,
    ) -> Result<UsageReport> {
        let answered = on_pool!(self, |pool| {
            sqlx::query(
                "UPDATE usage_reports SET answers = $2, answered_by = $3, answered_at = $4
                 WHERE id = $1 AND answered_at IS NULL",
            )
            .bind(id)
            .bind(Json(answers))
            .bind(actor)
            .bind(now())
            .execute(pool)
            .await?
            .rows_affected()
        });
        if answered != 1 {
            self.get_usage_report(id).await?;
            return Err(StoreError::Conflict(format!(
                "usage report {id} is already answered"
            )));
        }
        self.get_usage_report(id).await
    }
}
