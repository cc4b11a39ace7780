//! Maintenance of a resource announced on the portal (Decree 47/2020 art. 43): at least 7
//! working days ahead (weekends and configured holidays skipped) with the expected restoration
//! time; shorter notice only for force majeure, announced at once.
//!
//! Inside the window the gateway answers every exchange on the resource `503
//! under_maintenance` with `Retry-After` at the expected restoration, rather than suspending
//! the grants: the consumers' grants are untouched, the refusal says when to come back, and
//! the resource is served again at the announced restoration with nobody acting. A provider
//! that finishes early cancels the window; one that needs longer announces another (force
//! majeure when it follows at once). Windows are kept by the gateway under the access
//! revision (their table moves it), and whether one covers a request is decided by the
//! request's time.

use axum::extract::State;
use axum::http::header::LOCATION;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use chrono::{DateTime, Duration, Utc};
use lgsp_core::catalog::DatasetId;
use lgsp_core::{Action, AgencyCode, Role, Text};
use lgsp_store::{MaintenanceFilter, MaintenanceWindow, NewMaintenance, StoreError};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{consumer_agencies, provider_resource, provider_target, resource_label};
use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorCode, ProblemDoc};
use crate::extract::{Json, Path, Query};
use crate::grants::TargetRef;
use crate::portal::view::date_time_vi;

/// Working days of notice planned maintenance needs (Decree 47/2020 art. 43).
pub const NOTICE_WORKING_DAYS: u32 = 7;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, announce))
        .routes(routes!(cancel))
}

/// Maintenance to announce.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MaintenanceBody {
    pub target: TargetRef,
    /// When the resource stops being served. Default: now (force majeure only).
    #[serde(default)]
    pub starts_at: Option<DateTime<Utc>>,
    /// The expected restoration: the gateway serves the resource again from then.
    pub ends_at: DateTime<Utc>,
    /// What is done and why, published on the portal.
    #[schema(value_type = String)]
    pub description: Text,
    /// Force majeure: announced at once, without the 7 working days' notice.
    #[serde(default)]
    pub force_majeure: bool,
}

/// Checks the notice and records the window: what the API and the console both do.
pub async fn announce_window(
    state: &AppState,
    caller: &Caller,
    body: MaintenanceBody,
) -> Result<MaintenanceWindow, ApiError> {
    let target = provider_target(state, caller, &body.target, Action::Update).await?;
    let now = Utc::now();
    let starts_at = match (body.starts_at, body.force_majeure) {
        (Some(at), _) => at,
        (None, true) => now,
        (None, false) => {
            return Err(ApiError::new(ErrorCode::InvalidBody)
                .detail("starts_at: planned maintenance needs its start"))
        }
    };
    // A minute of leeway for the clocks of the caller and the platform.
    if starts_at < now - Duration::minutes(1) {
        return Err(ApiError::new(ErrorCode::InvalidBody).detail("starts_at: in the past"));
    }
    if body.ends_at <= starts_at {
        return Err(
            ApiError::new(ErrorCode::InvalidBody).detail("ends_at: must be later than starts_at")
        );
    }
    let calendar = state.settings.calendar();
    let notice = calendar.working_days_between(now, starts_at);
    if !body.force_majeure && notice < NOTICE_WORKING_DAYS {
        // The start of the 7th working day after today.
        let earliest = calendar.deadline(now, NOTICE_WORKING_DAYS) - Duration::days(1);
        return Err(ApiError::new(ErrorCode::MaintenanceNoticeTooShort)
            .detail(format!(
                "planned maintenance is announced at least {NOTICE_WORKING_DAYS} working days \
                 ahead; this start is {notice} working days away: start on or after {} \
                 (Vietnam time) or mark it force majeure",
                date_time_vi(earliest)
            ))
            .with("working_days", serde_json::json!(notice))
            .with("earliest_start", serde_json::json!(earliest)));
    }
    let window = state
        .store
        .insert_maintenance(
            &NewMaintenance {
                provider: target.provider.clone(),
                on: target.on.clone(),
                starts_at,
                ends_at: body.ends_at,
                description: body.description,
                force_majeure: body.force_majeure,
            },
            &caller.name(),
        )
        .await?;
    let label = resource_label(&target);
    let kind = if window.force_majeure {
        "Sự cố bất khả kháng"
    } else {
        "Bảo trì, nâng cấp"
    };
    for agency in consumer_agencies(state, &target.on).await? {
        state
            .store
            .notify(
                Role::AgencyAdmin,
                Some(&agency),
                &format!("{kind}: tạm ngừng {label}"),
                &format!(
                    "{} thông báo tạm ngừng cung cấp {label} từ {} đến {} (dự kiến khôi phục). {}",
                    target.provider,
                    date_time_vi(window.starts_at),
                    date_time_vi(window.ends_at),
                    window.description
                ),
                Some("/maintenance"),
            )
            .await?;
    }
    tracing::info!(window = window.id, by = %caller.name(), "maintenance announced");
    Ok(window)
}

/// Announce maintenance of a service or hosted dataset (Q15.1.c; Decree 47 art. 43),
/// published at once on the portal (`/maintenance` and the resource's page) and notified to
/// every consumer agency holding a grant on it. Planned maintenance starts at least 7 working
/// days after today (`maintenance_notice_too_short` otherwise, with `earliest_start`); force
/// majeure may start at once. Inside the window the gateway answers `503 under_maintenance`
/// with `Retry-After` at `ends_at`.
#[utoipa::path(post, path = "/maintenance", tag = "provider", request_body = MaintenanceBody,
    responses((status = 201, body = MaintenanceWindow), (status = 401, body = ProblemDoc),
        (status = 403, body = ProblemDoc),
        (status = 422, body = ProblemDoc, description = "`invalid_body`, `maintenance_notice_too_short`, `missing_reference`")))]
async fn announce(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<MaintenanceBody>,
) -> Result<impl IntoResponse, ApiError> {
    let window = announce_window(&state, &caller, body).await?;
    let location = format!("/api/v1/maintenance/{}", window.id);
    Ok((
        StatusCode::CREATED,
        [(LOCATION, location)],
        axum::Json(window),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct MaintenanceQuery {
    /// Only windows of this provider agency.
    #[param(value_type = Option<String>)]
    provider: Option<AgencyCode>,
    /// Only windows of this service.
    service: Option<i64>,
    /// Only windows of this dataset.
    #[param(value_type = Option<String>)]
    dataset: Option<DatasetId>,
    /// Also windows that are over or cancelled (default: only those not over).
    #[serde(default)]
    all: bool,
}

/// Maintenance windows, public as on the portal: by default those not cancelled and not over,
/// soonest first.
#[utoipa::path(get, path = "/maintenance", tag = "provider", params(MaintenanceQuery),
    responses((status = 200, body = Vec<MaintenanceWindow>), (status = 400, body = ProblemDoc)))]
async fn list(
    State(state): State<AppState>,
    Query(query): Query<MaintenanceQuery>,
) -> Result<axum::Json<Vec<MaintenanceWindow>>, ApiError> {
    Ok(axum::Json(
        state
            .store
            .list_maintenance(&MaintenanceFilter {
                provider: query.provider,
                service_id: query.service,
                dataset: query.dataset,
                ending_after: (!query.all).then(Utc::now),
            })
            .await?,
    ))
}

/// Cancels a window: what the API and the console both do.
pub async fn cancel_window(
    state: &AppState,
    caller: &Caller,
    id: i64,
) -> Result<MaintenanceWindow, ApiError> {
    if caller.actor == lgsp_core::Actor::Anonymous {
        return Err(ApiError::new(ErrorCode::AuthenticationRequired));
    }
    let window = state.store.get_maintenance(id).await?;
    let provider = AgencyCode::parse(&window.provider).map_err(ApiError::internal)?;
    caller.authorize(Action::Update, provider_resource(&provider))?;
    let cancelled = state
        .store
        .cancel_maintenance(id, &caller.name())
        .await
        .map_err(|e| match e {
            StoreError::Conflict(message) => {
                ApiError::new(ErrorCode::InvalidTransition).detail(message)
            }
            other => other.into(),
        })?;
    tracing::info!(window = id, by = %caller.name(), "maintenance cancelled");
    Ok(cancelled)
}

/// Cancel a maintenance window not yet over; one under way ends at once and the gateway
/// serves the resource again from the next request.
#[utoipa::path(post, path = "/maintenance/{id}/cancel", tag = "provider",
    params(("id" = i64, Path, description = "Maintenance window id")),
    responses((status = 200, body = MaintenanceWindow), (status = 403, body = ProblemDoc),
        (status = 404, body = ProblemDoc),
        (status = 409, body = ProblemDoc, description = "`invalid_transition`: cancelled or over")))]
async fn cancel(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<axum::Json<MaintenanceWindow>, ApiError> {
    Ok(axum::Json(cancel_window(&state, &caller, id).await?))
}

/// The gateway's check: `503 under_maintenance` with `Retry-After` at the expected restoration
/// when a window of the resource covers `at`.
pub fn check_open(windows: &[MaintenanceWindow], at: DateTime<Utc>) -> Result<(), ApiError> {
    let Some(window) = windows.iter().find(|w| w.covers(at)) else {
        return Ok(());
    };
    let seconds = (window.ends_at - at).num_seconds().max(1) as u64;
    Err(ApiError::new(ErrorCode::UnderMaintenance)
        .detail(format!(
            "the resource is under maintenance until {} (expected restoration): {}",
            window.ends_at.to_rfc3339(),
            window.description
        ))
        .with("restored_at", serde_json::json!(window.ends_at))
        .with("maintenance", serde_json::json!(window.id))
        .retry_after(seconds))
}

/// A window as the portal shows it, in Vietnamese.
pub struct Notice {
    pub id: i64,
    pub resource: String,
    pub link: Option<String>,
    pub provider: String,
    pub starts: String,
    pub ends: String,
    pub description: String,
    pub kind: &'static str,
    pub under_way: bool,
}

impl Notice {
    pub fn new(window: &MaintenanceWindow, at: DateTime<Utc>) -> Self {
        let (resource, link) = match (&window.service_id, &window.dataset_id) {
            (Some(id), _) => (
                format!(
                    "Dịch vụ “{}”",
                    window.service_name.as_deref().unwrap_or_default()
                ),
                Some(format!("/services/{id}")),
            ),
            (None, Some(dataset)) => (
                format!("Bộ dữ liệu {dataset}"),
                Some(format!("/dataset/{dataset}")),
            ),
            (None, None) => (String::new(), None),
        };
        Self {
            id: window.id,
            resource,
            link,
            provider: window.provider.clone(),
            starts: date_time_vi(window.starts_at),
            ends: date_time_vi(window.ends_at),
            description: window.description.clone(),
            kind: if window.force_majeure {
                "Sự cố bất khả kháng"
            } else {
                "Bảo trì, nâng cấp theo kế hoạch"
            },
            under_way: window.covers(at),
        }
    }
}

/// The notices of windows not over on a service or a dataset, for its portal page.
pub async fn notices_for(
    state: &AppState,
    service: Option<i64>,
    dataset: Option<&DatasetId>,
) -> Result<Vec<Notice>, ApiError> {
    let now = Utc::now();
    Ok(state
        .store
        .list_maintenance(&MaintenanceFilter {
            service_id: service,
            dataset: dataset.cloned(),
            ending_after: Some(now),
            ..MaintenanceFilter::default()
        })
        .await?
        .iter()
        .map(|w| Notice::new(w, now))
        .collect())
}
