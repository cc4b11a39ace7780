//! `/api/v1/users`: people's accounts and the roles they act in.

use axum::extract::State;
use axum::http::{header::LOCATION, StatusCode};
use axum::response::IntoResponse;
use lgsp_core::identity::RoleAssignment;
use lgsp_core::{Action, AgencyCode, CitizenId, Email, Password, Resource, Role, Text, Username};
use lgsp_store::{NewUser, User, UserPatch};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::AppState;
use crate::auth::{password, Caller};
use crate::error::{ApiError, ErrorCode, ProblemDoc};
use crate::extract::{present, Json, Path, Query};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(get_user, update_user))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct UserFilter {
    /// Only the accounts of this agency.
    #[param(value_type = Option<String>)]
    agency: Option<AgencyCode>,
}

/// Accounts the caller may see: all for the operator and auditor, its own agency's for an
/// agency administrator.
#[utoipa::path(get, path = "/users", tag = "users", params(UserFilter),
    responses((status = 200, body = Vec<User>), (status = 401, body = ProblemDoc)))]
async fn list_users(
    State(state): State<AppState>,
    caller: Caller,
    Query(filter): Query<UserFilter>,
) -> Result<axum::Json<Vec<User>>, ApiError> {
    let agency = match (&filter.agency, caller.user.as_ref()) {
        (Some(agency), _) => Some(agency.clone()),
        // An agency administrator without a filter sees its own agency.
        (None, Some(user)) if user.assignment.role() == Role::AgencyAdmin => {
            user.assignment.agency().cloned()
        }
        (None, _) => None,
    };
    caller.authorize(
        Action::Read,
        Resource::User {
            agency: agency.as_ref(),
            role: None,
            username: None,
        },
    )?;
    Ok(axum::Json(state.store.list_users(agency.as_ref()).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserCreate {
    username: Username,
    full_name: Text,
    email: Option<Email>,
    role: Role,
    /// Required for `agency_admin`, forbidden for `citizen`.
    #[schema(value_type = Option<String>)]
    agency: Option<AgencyCode>,
    /// At least 12 characters.
    #[schema(value_type = String, min_length = 12)]
    password: Password,
    /// A citizen's identity number (CCCD, 12 digits); only for `citizen`.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    citizen_id: Option<CitizenId>,
}

/// Only a citizen's account holds an identity number.
fn check_citizen_id(role: Role, citizen_id: Option<&CitizenId>) -> Result<(), ApiError> {
    if citizen_id.is_some() && role != Role::Citizen {
        return Err(ApiError::new(ErrorCode::InvalidBody)
            .detail("citizen_id: only a citizen's account holds a citizen identity number"));
    }
    Ok(())
}

/// Create an account. The operator creates any; an agency administrator creates the
/// administrators of its own agency.
#[utoipa::path(post, path = "/users", tag = "users", request_body = UserCreate,
    responses((status = 201, body = User), (status = 403, body = ProblemDoc),
        (status = 409, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
async fn create_user(
    State(state): State<AppState>,
    caller: Caller,
    Json(request): Json<UserCreate>,
) -> Result<impl IntoResponse, ApiError> {
    let assignment = RoleAssignment::new(request.role, request.agency)
        .map_err(|e| ApiError::new(ErrorCode::InvalidBody).detail(e.0))?;
    check_citizen_id(assignment.role(), request.citizen_id.as_ref())?;
    caller.authorize(
        Action::Create,
        Resource::User {
            agency: assignment.agency(),
            role: Some(assignment.role()),
            username: None,
        },
    )?;
    let secret = request.password;
    let password_hash = tokio::task::spawn_blocking(move || password::hash(secret.expose()))
        .await
        .map_err(ApiError::internal)?;
    let created = state
        .store
        .insert_user(&NewUser {
            username: request.username,
            full_name: request.full_name,
            email: request.email,
            assignment,
            password_hash,
            citizen_id: request.citizen_id,
        })
        .await?;
    tracing::info!(user = %created.username, role = created.assignment.role().as_str(), by = %caller.name(), "account created");
    let location = format!("/api/v1/users/{}", created.username);
    Ok((
        StatusCode::CREATED,
        [(LOCATION, location)],
        axum::Json(created),
    ))
}

fn user_resource(user: &User) -> Resource<'_> {
    Resource::User {
        agency: user.assignment.agency(),
        role: Some(user.assignment.role()),
        username: Some(&user.username),
    }
}

#[utoipa::path(get, path = "/users/{username}", tag = "users",
    params(("username" = String, Path, description = "Username")),
    responses((status = 200, body = User), (status = 404, body = ProblemDoc)))]
async fn get_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(username): Path<Username>,
) -> Result<axum::Json<User>, ApiError> {
    caller.require_person()?;
    let user = state.store.get_user(&username).await?;
    caller.authorize(Action::Read, user_resource(&user))?;
    Ok(axum::Json(user))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserUpdate {
    full_name: Option<Text>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    email: Option<Option<Email>>,
    role: Option<Role>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    agency: Option<Option<AgencyCode>>,
    disabled: Option<bool>,
    #[schema(value_type = Option<String>, min_length = 12)]
    password: Option<Password>,
    /// A citizen's identity number (CCCD, 12 digits); only for `citizen`.
    #[schema(value_type = Option<String>)]
    citizen_id: Option<CitizenId>,
}

/// Change an account: name, e-mail, role and agency, password, or disable it (which ends its
/// sessions). Nobody disables their own account.
#[utoipa::path(patch, path = "/users/{username}", tag = "users", request_body = UserUpdate,
    params(("username" = String, Path, description = "Username")),
    responses((status = 200, body = User), (status = 403, body = ProblemDoc),
        (status = 404, body = ProblemDoc), (status = 409, body = ProblemDoc)))]
async fn update_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(username): Path<Username>,
    Json(update): Json<UserUpdate>,
) -> Result<axum::Json<User>, ApiError> {
    caller.require_person()?;
    let current = state.store.get_user(&username).await?;
    caller.authorize(Action::Update, user_resource(&current))?;
    let assignment = if update.role.is_some() || update.agency.is_some() {
        let role = update.role.unwrap_or(current.assignment.role());
        let agency = match update.agency {
            Some(agency) => agency,
            None => current.assignment.agency().cloned(),
        };
        let assignment = RoleAssignment::new(role, agency)
            .map_err(|e| ApiError::new(ErrorCode::InvalidBody).detail(e.0))?;
        caller.authorize(
            Action::Create,
            Resource::User {
                agency: assignment.agency(),
                role: Some(assignment.role()),
                username: None,
            },
        )?;
        Some(assignment)
    } else {
        None
    };
    let role = assignment
        .as_ref()
        .map_or(current.assignment.role(), RoleAssignment::role);
    check_citizen_id(role, update.citizen_id.as_ref())?;
    if update.disabled == Some(true) && caller.user.as_ref().map(|u| &u.username) == Some(&username)
    {
        return Err(
            ApiError::new(ErrorCode::Conflict).detail("you cannot disable your own account")
        );
    }
    let password_hash = match update.password {
        Some(secret) => Some(
            tokio::task::spawn_blocking(move || password::hash(secret.expose()))
                .await
                .map_err(ApiError::internal)?,
        ),
        None => None,
    };
    let patch = UserPatch {
        full_name: update.full_name,
        email: update.email,
        assignment,
        disabled: update.disabled,
        password_hash,
        citizen_id: update.citizen_id,
    };
    let updated = state.store.update_user(&username, &patch).await?;
    tracing::info!(user = %username, by = %caller.name(), "account updated");
    Ok(axum::Json(updated))
}
