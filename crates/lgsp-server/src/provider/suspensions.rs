//! Suspending every grant on a resource at once (Decree 47/2020 art. 43: "for all consumers"
//! on upgrade, maintenance or force majeure) and resuming exactly those grants.
//!
//! The grants move to `suspended` in one transaction, each with its history entry; the change
//! moves the access revision, so the gateway refuses (`grant_suspended`) from the next
//! request. The planned end is shown to the consumers; the grants stay suspended until the
//! provider resumes them, because only the provider knows the system is back. Resuming
//! resumes only the grants this suspension suspended and that nobody resumed, suspended or
//! terminated one by one since.

use axum::extract::State;
use axum::http::header::LOCATION;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};
use lgsp_core::{Action, Role, Text};
use lgsp_store::{ResourceSuspension, StoreError, SuspensionCause};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{consumer_agencies, provider_resource, provider_target, resource_label};
use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorCode, ProblemDoc};
use crate::extract::{Json, Path};
use crate::grants::TargetRef;
use crate::portal::view::date_time_vi;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, suspend))
        .routes(routes!(resume))
}

/// Every grant on a resource to suspend.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuspendBody {
    pub target: TargetRef,
    pub cause: SuspensionCause,
    /// The reason every consumer is told.
    #[schema(value_type = String)]
    pub reason: Text,
    /// When the provider expects to resume; shown, not acted on.
    #[serde(default)]
    pub planned_end: Option<DateTime<Utc>>,
}

/// A suspension and the grants a step on it moved.
#[derive(Debug, Serialize, ToSchema)]
pub struct SuspensionOutcome {
    pub suspension: ResourceSuspension,
    /// The grants suspended (or resumed) by this step.
    pub grants: Vec<i64>,
}

/// Checks a planned end and suspends every active grant on the resource: what the API and the
/// console both do.
pub async fn suspend_all(
    state: &AppState,
    caller: &Caller,
    body: SuspendBody,
) -> Result<SuspensionOutcome, ApiError> {
    let target = provider_target(state, caller, &body.target, Action::Update).await?;
    if body.planned_end.is_some_and(|end| end <= Utc::now()) {
        return Err(
            ApiError::new(ErrorCode::InvalidBody).detail("planned_end: must be later than now")
        );
    }
    let (suspension, grants) = state
        .store
        .suspend_resource(
            &target.provider,
            &target.on,
            body.cause,
            &body.reason,
            body.planned_end,
            &caller.name(),
        )
        .await?;
    let until = body
        .planned_end
        .map(|end| format!(" Dự kiến khôi phục: {}.", date_time_vi(end)))
        .unwrap_or_default();
    let label = resource_label(&target);
    for agency in consumer_agencies(state, &target.on).await? {
        state
            .store
            .notify(
                Role::AgencyAdmin,
                Some(&agency),
                &format!("Tạm dừng khai thác {label}"),
                &format!(
                    "{} tạm dừng mọi quyền khai thác {label} ({}). Lý do: {}.{until}",
                    target.provider,
                    body.cause.label_vi().to_lowercase(),
                    body.reason
                ),
                Some("/console/grants"),
            )
            .await?;
    }
    tracing::info!(suspension = suspension.id, grants = grants.len(), by = %caller.name(),
        "every grant on a resource suspended");
    Ok(SuspensionOutcome { suspension, grants })
}

/// Suspend every active grant on a service or hosted dataset at once (Q15.1.c; Decree 47 art.
/// 43), for maintenance or force majeure; the gateway refuses them from the next request
/// (`grant_suspended`). The provider agency's administrator or the operator. Every consumer
/// agency holding a grant on the resource is notified.
#[utoipa::path(post, path = "/resource-suspensions", tag = "provider", request_body = SuspendBody,
    responses((status = 201, body = SuspensionOutcome), (status = 401, body = ProblemDoc),
        (status = 403, body = ProblemDoc),
        (status = 422, body = ProblemDoc, description = "`invalid_body`, `missing_reference`")))]
async fn suspend(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<SuspendBody>,
) -> Result<impl IntoResponse, ApiError> {
    let outcome = suspend_all(&state, &caller, body).await?;
    let location = format!("/api/v1/resource-suspensions/{}", outcome.suspension.id);
    Ok((
        StatusCode::CREATED,
        [(LOCATION, location)],
        axum::Json(outcome),
    ))
}

/// Suspensions of the caller's agency's resources (every agency's for the operator and the
/// auditor), newest first.
#[utoipa::path(get, path = "/resource-suspensions", tag = "provider",
    responses((status = 200, body = Vec<ResourceSuspension>), (status = 401, body = ProblemDoc)))]
async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<axum::Json<Vec<ResourceSuspension>>, ApiError> {
    if caller.actor == lgsp_core::Actor::Anonymous {
        return Err(ApiError::new(ErrorCode::AuthenticationRequired));
    }
    let all = state.store.list_resource_suspensions(None).await?;
    Ok(axum::Json(
        all.into_iter().filter(|s| readable(&caller, s)).collect(),
    ))
}

fn readable(caller: &Caller, suspension: &ResourceSuspension) -> bool {
    lgsp_core::AgencyCode::parse(&suspension.provider).is_ok_and(|provider| {
        caller
            .authorize(Action::Read, provider_resource(&provider))
            .is_ok()
    })
}

/// Resumes a suspension's grants: what the API and the console both do.
pub async fn resume_all(
    state: &AppState,
    caller: &Caller,
    id: i64,
) -> Result<SuspensionOutcome, ApiError> {
    if caller.actor == lgsp_core::Actor::Anonymous {
        return Err(ApiError::new(ErrorCode::AuthenticationRequired));
    }
    let suspension = state.store.get_resource_suspension(id).await?;
    let provider =
        lgsp_core::AgencyCode::parse(&suspension.provider).map_err(ApiError::internal)?;
    caller.authorize(Action::Update, provider_resource(&provider))?;
    let grants = state
        .store
        .resume_resource(id, &caller.name())
        .await
        .map_err(|e| match e {
            StoreError::Conflict(message) => {
                ApiError::new(ErrorCode::InvalidTransition).detail(message)
            }
            other => other.into(),
        })?;
    let on = match (suspension.service_id, &suspension.dataset_id) {
        (Some(id), _) => TargetRef::Service { id },
        (None, Some(dataset)) => TargetRef::Dataset {
            id: lgsp_core::catalog::DatasetId::parse(dataset).map_err(ApiError::internal)?,
        },
        (None, None) => {
            return Err(ApiError::internal(anyhow::anyhow!(
                "suspension {id} has no resource"
            )))
        }
    };
    let target = crate::grants::resolve(state, &on).await?;
    let label = resource_label(&target);
    for agency in consumer_agencies(state, &target.on).await? {
        state
            .store
            .notify(
                Role::AgencyAdmin,
                Some(&agency),
                &format!("Khôi phục khai thác {label}"),
                &format!(
                    "{} đã khôi phục các quyền khai thác {label} bị tạm dừng ({}).",
                    suspension.provider, suspension.reason
                ),
                Some("/console/grants"),
            )
            .await?;
    }
    tracing::info!(suspension = id, grants = grants.len(), by = %caller.name(),
        "a resource's suspended grants resumed");
    Ok(SuspensionOutcome {
        suspension: state.store.get_resource_suspension(id).await?,
        grants,
    })
}

/// Resume the grants a suspension suspended and that are still suspended by it; grants
/// suspended, resumed or terminated one by one since are left as they are. Once only
/// (`invalid_transition` after).
#[utoipa::path(post, path = "/resource-suspensions/{id}/resume", tag = "provider",
    params(("id" = i64, Path, description = "Suspension id")),
    responses((status = 200, body = SuspensionOutcome), (status = 403, body = ProblemDoc),
        (status = 404, body = ProblemDoc),
        (status = 409, body = ProblemDoc, description = "`invalid_transition`: already resumed")))]
async fn resume(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<axum::Json<SuspensionOutcome>, ApiError> {
    Ok(axum::Json(resume_all(&state, &caller, id).await?))
}
