//! Services of provider systems (Q7.2, Q8.1): registration, lifecycle, conformance checks.

use chrono::{DateTime, Utc};
use lgsp_core::catalog::SharingMode;
use lgsp_core::conformance::CheckResult;
use lgsp_core::service::{
    check_upstream, LifecycleStep, Methods, OpenApiDocument, ServiceCode, ServiceDocs, ServiceSpec,
    ServiceState, ServiceVersion, ShareableFields, UpstreamError,
};
use lgsp_core::{AgencyCode, HttpUrl, SystemCode, SystemId, Text};
use serde::Serialize;
use sqlx::types::Json;

use crate::{now, on_pool, Result, Store, StoreError, Timestamp};

/// A registered service.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Service {
    pub id: i64,
    pub provider: SystemId,
    /// The provider agency's name, for provenance (Q14).
    #[serde(skip)]
    pub provider_name: String,
    pub code: ServiceCode,
    pub version: ServiceVersion,
    pub name: Text,
    pub upstream_url: HttpUrl,
    pub methods: Methods,
    /// Served at `…/openapi.json`.
    #[serde(skip)]
    pub openapi: OpenApiDocument,
    pub shareable_fields: ShareableFields,
    pub sharing_mode: SharingMode,
    /// The connection guide (Q8.1), also served as text at `…/docs`.
    pub docs: ServiceDocs,
    pub state: ServiceState,
    /// The provider system's base URL as registered now: the only origin the upstream may be
    /// on (see [`Service::upstream`]).
    #[serde(skip)]
    pub system_base_url: HttpUrl,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
}

impl Service {
    /// The upstream to forward to, checked against the provider system's registered origin as
    /// it stands now (the system's base URL may have changed since the service was
    /// registered). The gateway calls this before every forward.
    pub fn upstream(&self) -> Result<&HttpUrl, UpstreamError> {
        check_upstream(&self.system_base_url, &self.upstream_url).map(|()| &self.upstream_url)
    }

    /// The core's name for this service as a grant target.
    pub fn target(&self) -> lgsp_core::exchange::Target {
        lgsp_core::exchange::Target::Service {
            provider: self.provider.clone(),
            code: self.code.clone(),
            version: self.version.clone(),
        }
    }
}

/// One lifecycle step taken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServiceEvent {
    pub step: String,
    pub from_state: Option<ServiceState>,
    pub to_state: ServiceState,
    pub actor: String,
    pub at: DateTime<Utc>,
}

/// A stored conformance check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServiceCheck {
    pub id: i64,
    pub service_id: i64,
    pub passed: bool,
    /// How long the probe GET took, if it was made.
    pub latency_ms: Option<i64>,
    pub results: Vec<CheckResult>,
    pub checked_by: String,
    pub checked_at: DateTime<Utc>,
}

/// Which services to list; `None` means any.
#[derive(Debug, Clone, Default)]
pub struct ServiceFilter {
    pub agency: Option<AgencyCode>,
    pub system: Option<SystemCode>,
    pub state: Option<ServiceState>,
    pub sharing_mode: Option<SharingMode>,
}

#[derive(sqlx::FromRow)]
struct ServiceRow {
    id: i64,
    agency_code: String,
    agency_name: String,
    system_code: String,
    system_base_url: String,
    code: String,
    version: String,
    name: String,
    upstream_url: String,
    methods: Json<Methods>,
    openapi: Json<serde_json::Value>,
    shareable_fields: Json<ShareableFields>,
    sharing_mode: String,
    docs: String,
    state: String,
    created_by: String,
    created_at: Timestamp,
    updated_at: Timestamp,
    published_at: Option<Timestamp>,
}

impl TryFrom<ServiceRow> for Service {
    type Error = StoreError;
    fn try_from(row: ServiceRow) -> Result<Self> {
        Ok(Self {
            id: row.id,
            provider: SystemId {
                agency: AgencyCode::parse(&row.agency_code)?,
                code: SystemCode::parse(&row.system_code)?,
            },
            provider_name: row.agency_name,
            code: ServiceCode::parse(&row.code)?,
            version: ServiceVersion::parse(&row.version)?,
            name: Text::parse(&row.name)?,
            upstream_url: HttpUrl::parse(&row.upstream_url)?,
            methods: row.methods.0,
            openapi: OpenApiDocument::parse(row.openapi.0)?,
            shareable_fields: row.shareable_fields.0,
            sharing_mode: SharingMode::parse(&row.sharing_mode)?,
            docs: ServiceDocs::parse(&row.docs)?,
            state: ServiceState::parse(&row.state)?,
            system_base_url: HttpUrl::parse(&row.system_base_url)?,
            created_by: row.created_by,
            created_at: row.created_at,
            updated_at: row.updated_at,
            published_at: row.published_at,
        })
    }
}

const SELECT_SERVICE: &str = "
    SELECT v.id, a.code AS agency_code, a.name AS agency_name, s.code AS system_code,
           s.base_url AS system_base_url,
           v.code, v.version, v.name, v.upstream_url, v.methods, v.openapi, v.shareable_fields,
           v.sharing_mode, v.docs, v.state, v.created_by, v.created_at, v.updated_at,
           v.published_at
    FROM services v JOIN systems s ON s.id = v.system_id JOIN agencies a ON a.id = s.agency_id";

#[derive(sqlx::FromRow)]
struct EventRow {
    step: String,
    from_state: Option<String>,
    to_state: String,
    actor: String,
    at: Timestamp,
}

#[derive(sqlx::FromRow)]
struct CheckRow {
    id: i64,
    service_id: i64,
    passed: bool,
    latency_ms: Option<i64>,
    results: Json<Vec<CheckResult>>,
    checked_by: String,
    checked_at: Timestamp,
}

impl From<CheckRow> for ServiceCheck {
    fn from(row: CheckRow) -> Self {
        Self {
            id: row.id,
            service_id: row.service_id,
            passed: row.passed,
            latency_ms: row.latency_ms,
            results: row.results.0,
            checked_by: row.checked_by,
            checked_at: row.checked_at,
        }
    }
}

/// Records a lifecycle event inside the transaction `$tx`.
macro_rules! insert_event {
    ($tx:expr, $id:expr, $step:expr, $from:expr, $to:expr, $actor:expr, $at:expr) => {
        sqlx::query(
            "INSERT INTO service_events (service_id, step, from_state, to_state, actor, at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind($id)
        .bind($step)
        .bind($from)
        .bind($to)
        .bind($actor)
        .bind($at)
        .execute(&mut *$tx)
        .await?
    };
}

impl Store {
    /// Registers a draft service of `provider`. The caller has checked the upstream against
    /// the provider system (see [`check_upstream`]).
    pub async fn insert_service(
        &self,
        provider: &SystemId,
        spec: &ServiceSpec,
        actor: &str,
    ) -> Result<Service> {
        let system_id = self.system_row_id(provider).await?;
        let at = now();
        let id: i64 = on_pool!(self, |pool| {
            let mut tx = pool.begin_with(self.begin_write()).await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO services (system_id, code, version, name, upstream_url, methods,
                     openapi, shareable_fields, sharing_mode, docs, state, created_by,
                     created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'draft', $11, $12, $12)
                 RETURNING id",
            )
            .bind(system_id)
            .bind(spec.code.as_str())
            .bind(spec.version.as_str())
            .bind(spec.name.as_str())
            .bind(spec.upstream_url.as_str())
            .bind(Json(&spec.methods))
            .bind(Json(spec.openapi.as_value()))
            .bind(Json(&spec.shareable_fields))
            .bind(spec.sharing_mode.as_str())
            .bind(spec.docs.as_str())
            .bind(actor)
            .bind(at)
            .fetch_one(&mut *tx)
            .await
            .map_err(StoreError::on_constraint(format!(
                "system {}/{} already has service {} {}",
                provider.agency, provider.code, spec.code, spec.version
            )))?;
            insert_event!(tx, id, "register", None::<&str>, "draft", actor, at);
            tx.commit().await?;
            id
        });
        self.get_service(id).await
    }

    pub async fn get_service(&self, id: i64) -> Result<Service> {
        let row: Option<ServiceRow> = on_pool!(self, |pool| {
            sqlx::query_as(&format!("{SELECT_SERVICE} WHERE v.id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        row.ok_or(StoreError::NotFound("service"))?.try_into()
    }

    /// The service a gateway path names: `/x/{agency}/{system}/{service}/{version}/…`. Any
    /// state: the caller serves only [`ServiceState::is_served`] ones.
    pub async fn find_service(
        &self,
        provider: &SystemId,
        code: &ServiceCode,
        version: &ServiceVersion,
    ) -> Result<Option<Service>> {
        let row: Option<ServiceRow> = on_pool!(self, |pool| {
            sqlx::query_as(&format!(
                "{SELECT_SERVICE} WHERE a.code = $1 AND s.code = $2 AND v.code = $3
                     AND v.version = $4"
            ))
            .bind(provider.agency.as_str())
            .bind(provider.code.as_str())
            .bind(code.as_str())
            .bind(version.as_str())
            .fetch_optional(pool)
            .await?
        });
        row.map(Service::try_from).transpose()
    }

    /// Services matching `filter`, by agency, system, code and version.
    pub async fn list_services(&self, filter: &ServiceFilter) -> Result<Vec<Service>> {
        let rows: Vec<ServiceRow> = on_pool!(self, |pool| {
            sqlx::query_as(&format!(
                "{SELECT_SERVICE}
                 WHERE ($1 IS NULL OR a.code = $1) AND ($2 IS NULL OR s.code = $2)
                   AND ($3 IS NULL OR v.state = $3) AND ($4 IS NULL OR v.sharing_mode = $4)
                 ORDER BY a.code, s.code, v.code, v.version"
            ))
            .bind(filter.agency.as_ref().map(AgencyCode::as_str))
            .bind(filter.system.as_ref().map(SystemCode::as_str))
            .bind(filter.state.map(ServiceState::as_str))
            .bind(filter.sharing_mode.map(SharingMode::as_str))
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(Service::try_from).collect()
    }

    /// Replaces the registration of a draft service (code and version may change too). A
    /// service that is no longer a draft is a conflict, and nothing changes.
    pub async fn replace_draft_service(
        &self,
        id: i64,
        spec: &ServiceSpec,
        actor: &str,
    ) -> Result<Service> {
        let current = self.get_service(id).await?;
        let at = now();
        on_pool!(self, |pool| {
            let mut tx = pool.begin_with(self.begin_write()).await?;
            let changed = sqlx::query(
                "UPDATE services SET code = $2, version = $3, name = $4, upstream_url = $5,
                     methods = $6, openapi = $7, shareable_fields = $8, sharing_mode = $9,
                     docs = $10, updated_at = $11
                 WHERE id = $1 AND state = 'draft'",
            )
            .bind(id)
            .bind(spec.code.as_str())
            .bind(spec.version.as_str())
            .bind(spec.name.as_str())
            .bind(spec.upstream_url.as_str())
            .bind(Json(&spec.methods))
            .bind(Json(spec.openapi.as_value()))
            .bind(Json(&spec.shareable_fields))
            .bind(spec.sharing_mode.as_str())
            .bind(spec.docs.as_str())
            .bind(at)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::on_constraint(format!(
                "system {}/{} already has service {} {}",
                current.provider.agency, current.provider.code, spec.code, spec.version
            )))?
            .rows_affected();
            if changed != 1 {
                return Err(StoreError::Conflict(format!(
                    "service {id} is no longer a draft"
                )));
            }
            insert_event!(tx, id, "edit", Some("draft"), "draft", actor, at);
            tx.commit().await?;
        });
        self.get_service(id).await
    }

    /// Moves a service from `from` to `to` by `step`, atomically: if another request moved it
    /// first, nothing changes and the answer is a conflict.
    pub async fn move_service(
        &self,
        id: i64,
        from: ServiceState,
        step: LifecycleStep,
        to: ServiceState,
        actor: &str,
    ) -> Result<Service> {
        let at = now();
        on_pool!(self, |pool| {
            let mut tx = pool.begin_with(self.begin_write()).await?;
            let moved = sqlx::query(
                "UPDATE services SET state = $3, updated_at = $4,
                     published_at = CASE WHEN $3 = 'published' THEN $4 ELSE published_at END
                 WHERE id = $1 AND state = $2",
            )
            .bind(id)
            .bind(from.as_str())
            .bind(to.as_str())
            .bind(at)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if moved != 1 {
                return Err(StoreError::Conflict(format!(
                    "service {id} is no longer {}",
                    from.as_str()
                )));
            }
            insert_event!(
                tx,
                id,
                step.as_str(),
                Some(from.as_str()),
                to.as_str(),
                actor,
                at
            );
            tx.commit().await?;
        });
        self.get_service(id).await
    }

    /// A service's lifecycle, oldest first.
    pub async fn service_events(&self, id: i64) -> Result<Vec<ServiceEvent>> {
        let rows: Vec<EventRow> = on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT step, from_state, to_state, actor, at FROM service_events
                 WHERE service_id = $1 ORDER BY id",
            )
            .bind(id)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(|r| {
                Ok(ServiceEvent {
                    step: r.step,
                    from_state: r
                        .from_state
                        .as_deref()
                        .map(ServiceState::parse)
                        .transpose()?,
                    to_state: ServiceState::parse(&r.to_state)?,
                    actor: r.actor,
                    at: r.at,
                })
            })
            .collect()
    }

    /// Stores the result of a conformance check.
    pub async fn record_service_check(
        &self,
        service_id: i64,
        results: &[CheckResult],
        latency_ms: Option<i64>,
        checked_by: &str,
    ) -> Result<ServiceCheck> {
        let passed = results.iter().all(|r| r.passed);
        let row: CheckRow = on_pool!(self, |pool| {
            sqlx::query_as(
                "INSERT INTO service_checks (service_id, passed, latency_ms, results, checked_by,
                     checked_at)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 RETURNING id, service_id, passed, latency_ms, results, checked_by, checked_at",
            )
            .bind(service_id)
            .bind(passed)
            .bind(latency_ms)
            .bind(Json(results))
            .bind(checked_by)
            .bind(now())
            .fetch_one(pool)
            .await
            .map_err(StoreError::on_constraint("conformance check"))?
        });
        Ok(row.into())
    }

    /// The newest conformance check of a service, if any.
    pub async fn latest_service_check(&self, service_id: i64) -> Result<Option<ServiceCheck>> {
        let row: Option<CheckRow> = on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT id, service_id, passed, latency_ms, results, checked_by, checked_at
                 FROM service_checks WHERE service_id = $1 ORDER BY id DESC LIMIT 1",
            )
            .bind(service_id)
            .fetch_optional(pool)
            .await?
        });
        Ok(row.map(ServiceCheck::from))
    }

    /// The row id of a registered system.
    pub(crate) async fn system_row_id(&self, system: &SystemId) -> Result<i64> {
        let id: Option<i64> = on_pool!(self, |pool| {
            sqlx::query_scalar(
                "SELECT s.id FROM systems s JOIN agencies a ON a.id = s.agency_id
                 WHERE a.code = $1 AND s.code = $2",
            )
            .bind(system.agency.as_str())
            .bind(system.code.as_str())
            .fetch_optional(pool)
            .await?
        });
        id.ok_or(StoreError::NotFound("system"))
    }
}
