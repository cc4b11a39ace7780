//! Grants (Q13.1, Q8.4–Q8.5, Q15.1.c): which consumer system may reach which service or hosted
//! dataset, for which fields and purposes, how long and how much. Created directly by the
//! operator or the provider, or by a consumer subscribing to a resource shared by default;
//! suspended (reversible) or terminated (final) with a reason, each change kept in history.

use std::num::NonZeroU32;

use axum::extract::State;
use axum::http::header::LOCATION;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};
use lgsp_core::catalog::{AccessLevel, DatasetId, SharingMode};
use lgsp_core::exchange::{
    dataset_fields, service_fields, FieldError, GrantBasis, GrantFields, GrantSource, GrantStep,
    Purposes, Validity,
};
use lgsp_core::service::ServiceState;
use lgsp_core::{Action, AgencyCode, Resource, SystemId, Text};
use lgsp_store::{GrantEvent, GrantFilter, GrantOn, GrantRecord, NewGrant, Service, StoreError};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::AppState;
use crate::auth::Caller;
use crate::catalog::{today, Snapshot};
use crate::error::{ApiError, ErrorCode, ProblemDoc};
use crate::extract::{Json, Path, Query};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_grants, create_grant))
        .routes(routes!(get_grant))
        .routes(routes!(suspend))
        .routes(routes!(resume))
        .routes(routes!(terminate))
        .routes(routes!(subscribe))
}

/// What a grant is asked on.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum TargetRef {
    /// A registered service, by its id.
    Service { id: i64 },
    /// A hosted dataset, by its id.
    Dataset {
        #[schema(value_type = String)]
        id: DatasetId,
    },
}

/// A target as found: who provides it, how it is shared, what it offers.
pub struct Resolved {
    pub on: GrantOn,
    pub provider: AgencyCode,
    pub sharing_mode: SharingMode,
    /// The service, for a service target.
    pub service: Option<Service>,
    /// A dataset's schema fields: (name, personal).
    pub dataset_fields: Vec<(String, bool)>,
    /// A dataset's access level.
    pub access_level: Option<AccessLevel>,
}

fn missing(what: String) -> ApiError {
    ApiError::new(ErrorCode::MissingReference).detail(what)
}

/// Finds the target a body names, or `missing_reference`.
pub async fn resolve(state: &AppState, target: &TargetRef) -> Result<Resolved, ApiError> {
    match target {
        TargetRef::Service { id } => {
            let service = match state.store.get_service(*id).await {
                Ok(service) => service,
                Err(StoreError::NotFound(_)) => {
                    return Err(missing(format!("service {id} does not exist")))
                }
                Err(other) => return Err(other.into()),
            };
            Ok(Resolved {
                on: GrantOn::Service(service.id),
                provider: service.provider.agency.clone(),
                sharing_mode: service.sharing_mode,
                service: Some(service),
                dataset_fields: Vec::new(),
                access_level: None,
            })
        }
        TargetRef::Dataset { id } => {
            let snapshot = Snapshot::load(state, today()).await?;
            let published = snapshot
                .dataset(id.as_str())
                .ok_or_else(|| missing(format!("dataset {id} is not in the catalog")))?;
            let provider = AgencyCode::parse(&published.owner).map_err(ApiError::internal)?;
            let table = state.store.record_table(id).await?.ok_or_else(|| {
                ApiError::new(ErrorCode::TargetUnavailable)
                    .detail(format!("dataset {id} has no hosted records to grant"))
            })?;
            Ok(Resolved {
                on: GrantOn::Dataset(id.clone()),
                provider,
                sharing_mode: published.dataset.sharing_mode,
                access_level: Some(published.dataset.access_level),
                service: None,
                dataset_fields: table
                    .schema
                    .fields
                    .iter()
                    .map(|f| (f.name.clone(), f.personal))
                    .collect(),
            })
        }
    }
}

impl Resolved {
    /// Whether a data subject can consent to sharing this target: any service (its answers
    /// are about whoever the request names), or a dataset of personal data.
    pub fn takes_consent(&self) -> bool {
        self.service.is_some() || self.access_level == Some(AccessLevel::Personal)
    }

    /// Checks asked-for fields against what the target offers.
    pub fn check_fields(&self, asked: &GrantFields) -> Result<GrantFields, ApiError> {
        let checked = match &self.service {
            Some(service) => service_fields(asked, service.shareable_fields.as_slice()),
            None => {
                let names: Vec<&str> = self
                    .dataset_fields
                    .iter()
                    .map(|(n, _)| n.as_str())
                    .collect();
                dataset_fields(asked, &names)
            }
        };
        checked.map_err(|e| match e {
            FieldError::NotShared(_) => {
                ApiError::new(ErrorCode::FieldNotShared).detail(e.to_string())
            }
            FieldError::Invalid(parse) => {
                ApiError::new(ErrorCode::InvalidBody).detail(format!("fields: {parse}"))
            }
        })
    }
}

/// The consumer system named in a body, or `missing_reference`.
async fn check_consumer(state: &AppState, consumer: &SystemId) -> Result<(), ApiError> {
    match state
        .store
        .get_system(&consumer.agency, &consumer.code)
        .await
    {
        Ok(_) => Ok(()),
        Err(StoreError::NotFound(_)) => Err(missing(format!(
            "system {}/{} is not registered",
            consumer.agency, consumer.code
        ))),
        Err(other) => Err(other.into()),
    }
}

/// A grant the operator or the provider creates directly.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantBody {
    /// The consumer system (`{"agency": …, "code": …}`).
    pub consumer: SystemId,
    pub target: TargetRef,
    /// JSON pointers within the service's shareable fields, or the dataset's field names; at
    /// least one.
    #[schema(value_type = Vec<String>)]
    pub fields: GrantFields,
    /// Purpose codes such as `TTHC`; at least one.
    #[schema(value_type = Vec<String>)]
    pub purposes: Purposes,
    /// Default: now.
    #[serde(default)]
    pub valid_from: Option<DateTime<Utc>>,
    /// Exclusive end; none for an open-ended grant.
    #[serde(default)]
    pub valid_until: Option<DateTime<Utc>>,
    /// Requests per minute; none for no quota.
    #[serde(default)]
    #[schema(value_type = Option<u32>, minimum = 1)]
    pub per_minute: Option<NonZeroU32>,
    /// `legal` (default): the law or the provider's decision allows the processing and the
    /// grant alone decides. `consent`: each exchange names its data subject in `LGSP-Subject`
    /// and needs that subject's consent in force (Q15.2.h; Decree 13/2023 art. 11); only on a
    /// service or a `personal` dataset.
    #[serde(default)]
    pub basis: GrantBasis,
}

/// A grant with its history of statuses.
#[derive(Debug, Serialize, ToSchema)]
pub struct GrantDetail {
    #[serde(flatten)]
    pub record: GrantRecord,
    pub history: Vec<GrantEvent>,
}

/// Create a grant directly (Q13.1). The provider agency's administrator or the operator. Fields
/// must be among what the target shares (`field_not_shared`); a retired service or a dataset
/// without hosted records takes no grant (`target_unavailable`).
#[utoipa::path(post, path = "/grants", tag = "grants", request_body = GrantBody,
    responses((status = 201, body = GrantRecord), (status = 403, body = ProblemDoc),
        (status = 409, body = ProblemDoc, description = "`target_unavailable`"),
        (status = 422, body = ProblemDoc, description = "`invalid_body`, `field_not_shared`, `missing_reference`")))]
async fn create_grant(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<GrantBody>,
) -> Result<impl IntoResponse, ApiError> {
    let target = resolve(&state, &body.target).await?;
    caller.authorize(
        Action::Create,
        Resource::Grant {
            provider: &target.provider,
            consumer: &body.consumer.agency,
        },
    )?;
    if target
        .service
        .as_ref()
        .is_some_and(|s| s.state == ServiceState::Retired)
    {
        return Err(ApiError::new(ErrorCode::TargetUnavailable)
            .detail("the service is retired and takes no new grants"));
    }
    if body.basis == GrantBasis::Consent && !target.takes_consent() {
        return Err(ApiError::new(ErrorCode::ConsentBasisNotApplicable).detail(
            "only a service or a dataset of access level `personal` is shared on consent",
        ));
    }
    check_consumer(&state, &body.consumer).await?;
    let fields = target.check_fields(&body.fields)?;
    let validity = Validity::new(body.valid_from.unwrap_or_else(Utc::now), body.valid_until)
        .map_err(|e| ApiError::new(ErrorCode::InvalidBody).detail(format!("valid_until: {e}")))?;
    let created = state
        .store
        .insert_grant(
            &NewGrant {
                consumer: body.consumer,
                provider: target.provider,
                on: target.on,
                fields,
                purposes: body.purposes,
                validity,
                per_minute: body.per_minute,
                source: GrantSource::Direct,
                basis: body.basis,
            },
            &caller.name(),
        )
        .await?;
    tracing::info!(grant = created.grant.id, by = %caller.name(), "grant created");
    Ok(created_response(created))
}

fn created_response(created: GrantRecord) -> impl IntoResponse {
    let location = format!("/api/v1/grants/{}", created.grant.id);
    (
        StatusCode::CREATED,
        [(LOCATION, location)],
        axum::Json(created),
    )
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct GrantQuery {
    /// Only grants to systems of this consumer agency.
    #[param(value_type = Option<String>)]
    consumer_agency: Option<AgencyCode>,
    /// Only grants on resources of this provider agency.
    #[param(value_type = Option<String>)]
    provider: Option<AgencyCode>,
    /// Only grants on this service.
    service: Option<i64>,
    /// Only grants on this dataset.
    #[param(value_type = Option<String>)]
    dataset: Option<DatasetId>,
    /// `active`, `suspended` or `terminated`.
    status: Option<String>,
}

/// The policy's resource for a grant.
pub fn resource(record: &GrantRecord) -> Resource<'_> {
    Resource::Grant {
        provider: &record.provider,
        consumer: &record.grant.consumer.agency,
    }
}

/// Grants the caller may see: a provider sees the grants on its resources, a consumer its own,
/// the operator and the auditor all of them.
#[utoipa::path(get, path = "/grants", tag = "grants", params(GrantQuery),
    responses((status = 200, body = Vec<GrantRecord>), (status = 401, body = ProblemDoc)))]
async fn list_grants(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<GrantQuery>,
) -> Result<axum::Json<Vec<GrantRecord>>, ApiError> {
    if caller.actor == lgsp_core::Actor::Anonymous {
        return Err(ApiError::new(ErrorCode::AuthenticationRequired));
    }
    if let Some(status) = &query.status {
        if !["active", "suspended", "terminated"].contains(&status.as_str()) {
            return Err(ApiError::new(ErrorCode::InvalidParameter)
                .detail("status: one of `active`, `suspended`, `terminated`"));
        }
    }
    let grants = state
        .store
        .list_grants(&GrantFilter {
            consumer_agency: query.consumer_agency,
            provider: query.provider,
            service_id: query.service,
            dataset: query.dataset,
            status: query.status,
            ..GrantFilter::default()
        })
        .await?;
    Ok(axum::Json(
        grants
            .into_iter()
            .filter(|g| caller.authorize(Action::Read, resource(g)).is_ok())
            .collect(),
    ))
}

/// Loads a grant the caller may take `action` on.
pub async fn allowed(
    state: &AppState,
    caller: &Caller,
    id: i64,
    action: Action,
) -> Result<GrantRecord, ApiError> {
    if caller.actor == lgsp_core::Actor::Anonymous {
        return Err(ApiError::new(ErrorCode::AuthenticationRequired));
    }
    let record = state.store.get_grant(id).await?;
    caller.authorize(action, resource(&record))?;
    Ok(record)
}

#[utoipa::path(get, path = "/grants/{id}", tag = "grants",
    params(("id" = i64, Path, description = "Grant id")),
    responses((status = 200, body = GrantDetail), (status = 404, body = ProblemDoc)))]
async fn get_grant(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<axum::Json<GrantDetail>, ApiError> {
    let record = allowed(&state, &caller, id, Action::Read).await?;
    let history = state.store.grant_events(id).await?;
    Ok(axum::Json(GrantDetail { record, history }))
}

/// The reason the consumer is told.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonBody {
    #[schema(value_type = String)]
    pub reason: Text,
}

/// Takes a status step: what the API and the console both do. `until` is the planned end of
/// a suspension (shown; the grant stays suspended until resumed).
pub async fn take(
    state: &AppState,
    caller: &Caller,
    id: i64,
    step: GrantStep,
    until: Option<DateTime<Utc>>,
) -> Result<GrantRecord, ApiError> {
    let record = allowed(state, caller, id, Action::Update).await?;
    if until.is_some_and(|until| until <= Utc::now()) {
        return Err(ApiError::new(ErrorCode::InvalidBody).detail("until: must be later than now"));
    }
    let name = step.as_str();
    let to = record
        .grant
        .status
        .take(step)
        .map_err(|e| ApiError::new(ErrorCode::InvalidTransition).detail(e.to_string()))?;
    let moved = state
        .store
        .move_grant(id, &record.grant.status, &to, until, &caller.name())
        .await
        .map_err(|e| match e {
            StoreError::Conflict(message) => {
                ApiError::new(ErrorCode::InvalidTransition).detail(message)
            }
            other => other.into(),
        })?;
    tracing::info!(grant = id, step = name, by = %caller.name(), "grant status changed");
    Ok(moved)
}

/// A suspension: the reason the consumer is told and, optionally, when the provider expects
/// to resume.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuspendBody {
    #[schema(value_type = String)]
    pub reason: Text,
    /// The planned end, shown to the consumer; the grant stays suspended until resumed.
    #[serde(default)]
    pub until: Option<DateTime<Utc>>,
}

/// Suspend an active grant (Q15.1.c; Decree 47 art. 43): the gateway refuses it from the next
/// request. Reversible. The reason is required and shown to the consumer, with the planned end
/// if given (`until`, in the future); resuming stays explicit.
#[utoipa::path(post, path = "/grants/{id}/suspend", tag = "grants", request_body = SuspendBody,
    params(("id" = i64, Path, description = "Grant id")),
    responses((status = 200, body = GrantRecord), (status = 403, body = ProblemDoc),
        (status = 404, body = ProblemDoc),
        (status = 409, body = ProblemDoc, description = "`invalid_transition`"),
        (status = 422, body = ProblemDoc, description = "`invalid_body`: no reason")))]
async fn suspend(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<SuspendBody>,
) -> Result<axum::Json<GrantRecord>, ApiError> {
    let step = GrantStep::Suspend {
        reason: body.reason,
    };
    Ok(axum::Json(
        take(&state, &caller, id, step, body.until).await?,
    ))
}

/// Resume a suspended grant.
#[utoipa::path(post, path = "/grants/{id}/resume", tag = "grants",
    params(("id" = i64, Path, description = "Grant id")),
    responses((status = 200, body = GrantRecord), (status = 403, body = ProblemDoc),
        (status = 404, body = ProblemDoc),
        (status = 409, body = ProblemDoc, description = "`invalid_transition`: not suspended (a terminated grant never resumes)")))]
async fn resume(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<axum::Json<GrantRecord>, ApiError> {
    Ok(axum::Json(
        take(&state, &caller, id, GrantStep::Resume, None).await?,
    ))
}

/// Terminate an active or suspended grant (Q15.1.c; Decree 47 art. 44). Final. The reason is
/// required and shown to the consumer.
#[utoipa::path(post, path = "/grants/{id}/terminate", tag = "grants", request_body = ReasonBody,
    params(("id" = i64, Path, description = "Grant id")),
    responses((status = 200, body = GrantRecord), (status = 403, body = ProblemDoc),
        (status = 404, body = ProblemDoc),
        (status = 409, body = ProblemDoc, description = "`invalid_transition`"),
        (status = 422, body = ProblemDoc, description = "`invalid_body`: no reason")))]
async fn terminate(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<ReasonBody>,
) -> Result<axum::Json<GrantRecord>, ApiError> {
    let step = GrantStep::Terminate {
        reason: body.reason,
    };
    Ok(axum::Json(take(&state, &caller, id, step, None).await?))
}

/// A consumer system subscribing to a resource shared by default.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionBody {
    pub consumer: SystemId,
    pub target: TargetRef,
    /// Why the consumer will use the data; at least one purpose code.
    #[schema(value_type = Vec<String>)]
    pub purposes: Purposes,
}

/// Subscribe a consumer system to a service or dataset shared by default (*chia sẻ mặc định*,
/// Decree 47 art. 34): an active grant at once, on every shareable field (for a dataset, every
/// field but personal ones), open-ended, without quota. The consumer system itself, its
/// agency's administrator or the operator. Subscribing again answers the same grant (200);
/// a suspended or terminated subscription is not renewed this way (409 `conflict`).
#[utoipa::path(post, path = "/subscriptions", tag = "grants", request_body = SubscriptionBody,
    responses((status = 201, body = GrantRecord), (status = 200, body = GrantRecord),
        (status = 403, body = ProblemDoc),
        (status = 409, body = ProblemDoc, description = "`not_subscribable`, `target_unavailable`, `conflict`"),
        (status = 422, body = ProblemDoc, description = "`invalid_body`, `missing_reference`")))]
async fn subscribe(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<SubscriptionBody>,
) -> Result<axum::response::Response, ApiError> {
    caller.authorize(
        Action::Create,
        Resource::Subscription {
            consumer: &body.consumer,
        },
    )?;
    let target = resolve(&state, &body.target).await?;
    if target.sharing_mode != SharingMode::Default {
        return Err(ApiError::new(ErrorCode::NotSubscribable).detail(format!(
            "the target is shared `{}`, not `default`",
            target.sharing_mode.as_str()
        )));
    }
    if let Some(service) = &target.service {
        if service.state != ServiceState::Published {
            return Err(ApiError::new(ErrorCode::TargetUnavailable).detail(format!(
                "the service is {}, not published",
                service.state.as_str()
            )));
        }
    }
    check_consumer(&state, &body.consumer).await?;
    let (service_id, dataset) = match &target.on {
        GrantOn::Service(id) => (Some(*id), None),
        GrantOn::Dataset(id) => (None, Some(id.clone())),
    };
    let existing = state
        .store
        .list_grants(&GrantFilter {
            consumer: Some(body.consumer.clone()),
            service_id,
            dataset,
            source: Some("subscription".into()),
            ..GrantFilter::default()
        })
        .await?;
    if let Some(found) = existing.into_iter().next() {
        if found.grant.status.is_active() {
            return Ok(axum::Json(found).into_response());
        }
        return Err(ApiError::new(ErrorCode::Conflict).detail(format!(
            "the subscription's grant {} is {}: ask the provider",
            found.grant.id,
            found.grant.status.as_str()
        )));
    }
    let offered: Vec<String> = match &target.service {
        Some(service) => service
            .shareable_fields
            .as_slice()
            .iter()
            .map(ToString::to_string)
            .collect(),
        None => target
            .dataset_fields
            .iter()
            .filter(|(_, personal)| !personal)
            .map(|(name, _)| name.clone())
            .collect(),
    };
    let fields = GrantFields::new(offered).map_err(|_| {
        ApiError::new(ErrorCode::TargetUnavailable)
            .detail("the dataset has no field but personal ones, which are not shared by default")
    })?;
    let created = state
        .store
        .insert_grant(
            &NewGrant {
                consumer: body.consumer,
                provider: target.provider,
                on: target.on,
                fields,
                purposes: body.purposes,
                validity: Validity::new(lgsp_store::now(), None).map_err(ApiError::internal)?,
                per_minute: None,
                source: GrantSource::Subscription,
                basis: GrantBasis::Legal,
            },
            &caller.name(),
        )
        .await?;
    tracing::info!(grant = created.grant.id, by = %caller.name(), "subscription granted");
    Ok(created_response(created).into_response())
}
