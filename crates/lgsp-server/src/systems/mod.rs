//! Information systems of agencies (Q7.1, Q9, Q10.2) and their readiness to connect (Q21.3).

use axum::extract::State;
use axum::http::{header::LOCATION, StatusCode};
use axum::response::IntoResponse;
use lgsp_core::{
    Action, AgencyCode, ConnectionModel, HttpUrl, NewSystem, Readiness, Resource, SecurityLevel,
    SystemCode, Text,
};
use lgsp_store::{System, SystemPatch};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ProblemDoc};
use crate::extract::{present, Json, Path, Query};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_all_systems))
        .routes(routes!(list_agency_systems, create_system))
        .routes(routes!(get_system, update_system))
        .routes(routes!(assess_system))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SystemFilter {
    /// Only the systems of this agency.
    #[param(value_type = Option<String>)]
    agency: Option<AgencyCode>,
}

/// Systems across agencies, for finding whom to connect to (Q7.1, Q7.3).
#[utoipa::path(get, path = "/systems", tag = "systems", params(SystemFilter),
    responses((status = 200, body = Vec<System>), (status = 401, body = ProblemDoc)))]
async fn list_all_systems(
    State(state): State<AppState>,
    caller: Caller,
    Query(filter): Query<SystemFilter>,
) -> Result<axum::Json<Vec<System>>, ApiError> {
    caller.authorize(Action::Read, Resource::System(filter.agency.as_ref()))?;
    Ok(axum::Json(
        state.store.list_systems(filter.agency.as_ref()).await?,
    ))
}

#[utoipa::path(get, path = "/agencies/{code}/systems", tag = "systems",
    params(("code" = String, Path, description = "Agency code")),
    responses((status = 200, body = Vec<System>), (status = 404, body = ProblemDoc)))]
async fn list_agency_systems(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<AgencyCode>,
) -> Result<axum::Json<Vec<System>>, ApiError> {
    caller.authorize(Action::Read, Resource::System(Some(&code)))?;
    state.store.get_agency(&code).await?;
    Ok(axum::Json(state.store.list_systems(Some(&code)).await?))
}

/// Register a system of the agency. Operator or the agency's administrator.
#[utoipa::path(post, path = "/agencies/{code}/systems", tag = "systems", request_body = NewSystem,
    params(("code" = String, Path, description = "Agency code")),
    responses((status = 201, body = System), (status = 404, body = ProblemDoc),
        (status = 409, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
async fn create_system(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<AgencyCode>,
    Json(system): Json<NewSystem>,
) -> Result<impl IntoResponse, ApiError> {
    caller.authorize(Action::Create, Resource::System(Some(&code)))?;
    let created = state.store.insert_system(&code, &system).await?;
    tracing::info!(agency = %code, system = %created.code, by = %caller.name(), "system registered");
    let location = format!("/api/v1/agencies/{code}/systems/{}", created.code);
    Ok((
        StatusCode::CREATED,
        [(LOCATION, location)],
        axum::Json(created),
    ))
}

#[utoipa::path(get, path = "/agencies/{code}/systems/{system}", tag = "systems",
    params(("code" = String, Path, description = "Agency code"),
           ("system" = String, Path, description = "System code")),
    responses((status = 200, body = System), (status = 404, body = ProblemDoc)))]
async fn get_system(
    State(state): State<AppState>,
    caller: Caller,
    Path((code, system)): Path<(AgencyCode, SystemCode)>,
) -> Result<axum::Json<System>, ApiError> {
    caller.authorize(Action::Read, Resource::System(Some(&code)))?;
    Ok(axum::Json(state.store.get_system(&code, &system).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SystemUpdate {
    name: Option<Text>,
    security_level: Option<SecurityLevel>,
    connection: Option<ConnectionModel>,
    base_url: Option<HttpUrl>,
    /// `null` removes the health URL.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    health_url: Option<Option<HttpUrl>>,
}

#[utoipa::path(patch, path = "/agencies/{code}/systems/{system}", tag = "systems",
    request_body = SystemUpdate,
    params(("code" = String, Path, description = "Agency code"),
           ("system" = String, Path, description = "System code")),
    responses((status = 200, body = System), (status = 404, body = ProblemDoc)))]
async fn update_system(
    State(state): State<AppState>,
    caller: Caller,
    Path((code, system)): Path<(AgencyCode, SystemCode)>,
    Json(update): Json<SystemUpdate>,
) -> Result<axum::Json<System>, ApiError> {
    caller.authorize(Action::Update, Resource::System(Some(&code)))?;
    let patch = SystemPatch {
        name: update.name,
        security_level: update.security_level,
        connection: update.connection,
        base_url: update.base_url,
        health_url: update.health_url,
    };
    let updated = state.store.update_system(&code, &system, &patch).await?;
    tracing::info!(agency = %code, system = %system, by = %caller.name(), "system updated");
    Ok(axum::Json(updated))
}

/// Record whether the system can connect, with findings when it needs upgrading (Q21.3).
/// Operator only.
#[utoipa::path(put, path = "/agencies/{code}/systems/{system}/readiness", tag = "systems",
    request_body = Readiness,
    params(("code" = String, Path, description = "Agency code"),
           ("system" = String, Path, description = "System code")),
    responses((status = 200, body = System), (status = 404, body = ProblemDoc),
        (status = 422, body = ProblemDoc, description = "`needs_upgrade` without findings")))]
async fn assess_system(
    State(state): State<AppState>,
    caller: Caller,
    Path((code, system)): Path<(AgencyCode, SystemCode)>,
    Json(readiness): Json<Readiness>,
) -> Result<axum::Json<System>, ApiError> {
    caller.authorize(Action::Assess, Resource::System(Some(&code)))?;
    let assessed = state
        .store
        .assess_system(&code, &system, &readiness, &caller.name())
        .await?;
    tracing::info!(agency = %code, system = %system, readiness = readiness.as_str(), "system assessed");
    Ok(axum::Json(assessed))
}
