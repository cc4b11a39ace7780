//! `/api/v1/agencies`: the registry of agencies and their focal officers (Q8.2).

use axum::extract::State;
use axum::http::{header::LOCATION, StatusCode};
use axum::response::IntoResponse;
use lgsp_core::{Action, AgencyCode, AgencyKind, FocalOfficer, NewAgency, Resource, Text};
use lgsp_store::{Agency, AgencyPatch, FocalOfficerTerm};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ProblemDoc};
use crate::extract::{present, Json, Path};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_agencies, create_agency))
        .routes(routes!(get_agency, update_agency))
        .routes(routes!(change_focal_officer))
        .routes(routes!(focal_officer_history))
}

/// List every agency with its focal officer. Public (Q8.2, Q12).
#[utoipa::path(get, path = "/agencies", tag = "agencies",
    responses((status = 200, body = Vec<Agency>)))]
async fn list_agencies(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<axum::Json<Vec<Agency>>, ApiError> {
    caller.authorize(Action::Read, Resource::Agency(None))?;
    Ok(axum::Json(state.store.list_agencies().await?))
}

/// Register an agency; its focal officer is required (Q8.2). Operator only.
#[utoipa::path(post, path = "/agencies", tag = "agencies", request_body = NewAgency,
    responses(
        (status = 201, body = Agency),
        (status = 409, body = ProblemDoc, description = "`conflict`: the code is taken"),
        (status = 422, body = ProblemDoc, description = "`invalid_body`, `unknown_field`, `missing_reference`"),
    ))]
async fn create_agency(
    State(state): State<AppState>,
    caller: Caller,
    Json(agency): Json<NewAgency>,
) -> Result<impl IntoResponse, ApiError> {
    caller.authorize(Action::Create, Resource::Agency(None))?;
    let created = state.store.insert_agency(&agency).await?;
    tracing::info!(agency = %created.code, by = %caller.name(), "agency registered");
    let location = format!("/api/v1/agencies/{}", created.code);
    Ok((
        StatusCode::CREATED,
        [(LOCATION, location)],
        axum::Json(created),
    ))
}

#[utoipa::path(get, path = "/agencies/{code}", tag = "agencies",
    params(("code" = String, Path, description = "Agency code (QCVN 102:2016)")),
    responses((status = 200, body = Agency), (status = 404, body = ProblemDoc)))]
async fn get_agency(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<AgencyCode>,
) -> Result<axum::Json<Agency>, ApiError> {
    caller.authorize(Action::Read, Resource::Agency(Some(&code)))?;
    Ok(axum::Json(state.store.get_agency(&code).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgencyUpdate {
    name: Option<Text>,
    /// `null` detaches the agency from its parent.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    parent: Option<Option<AgencyCode>>,
    kind: Option<AgencyKind>,
}

/// Change an agency's name (operator or the agency's administrator), or its parent or kind
/// (operator only: that restructures the registry).
#[utoipa::path(patch, path = "/agencies/{code}", tag = "agencies", request_body = AgencyUpdate,
    params(("code" = String, Path, description = "Agency code")),
    responses((status = 200, body = Agency), (status = 404, body = ProblemDoc),
        (status = 409, body = ProblemDoc, description = "`conflict`: circular hierarchy")))]
async fn update_agency(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<AgencyCode>,
    Json(update): Json<AgencyUpdate>,
) -> Result<axum::Json<Agency>, ApiError> {
    caller.authorize(Action::Update, Resource::Agency(Some(&code)))?;
    if update.parent.is_some() || update.kind.is_some() {
        caller.authorize(Action::Create, Resource::Agency(None))?;
    }
    let patch = AgencyPatch {
        name: update.name,
        parent: update.parent,
        kind: update.kind,
    };
    let updated = state.store.update_agency(&code, &patch).await?;
    tracing::info!(agency = %code, by = %caller.name(), "agency updated");
    Ok(axum::Json(updated))
}

/// Appoint a new focal officer; the previous one stays in the history (Q8.2).
#[utoipa::path(put, path = "/agencies/{code}/focal-officer", tag = "agencies",
    request_body = FocalOfficer,
    params(("code" = String, Path, description = "Agency code")),
    responses((status = 200, body = Agency), (status = 404, body = ProblemDoc)))]
async fn change_focal_officer(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<AgencyCode>,
    Json(officer): Json<FocalOfficer>,
) -> Result<axum::Json<Agency>, ApiError> {
    caller.authorize(Action::Update, Resource::Agency(Some(&code)))?;
    let updated = state
        .store
        .change_focal_officer(&code, &officer, &caller.name())
        .await?;
    tracing::info!(agency = %code, by = %caller.name(), "focal officer changed");
    Ok(axum::Json(updated))
}

/// Every focal officer the agency has had, the current one first.
#[utoipa::path(get, path = "/agencies/{code}/focal-officer/history", tag = "agencies",
    params(("code" = String, Path, description = "Agency code")),
    responses((status = 200, body = Vec<FocalOfficerTerm>), (status = 404, body = ProblemDoc)))]
async fn focal_officer_history(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<AgencyCode>,
) -> Result<axum::Json<Vec<FocalOfficerTerm>>, ApiError> {
    caller.authorize(Action::Read, Resource::Agency(Some(&code)))?;
    Ok(axum::Json(state.store.focal_officer_history(&code).await?))
}
