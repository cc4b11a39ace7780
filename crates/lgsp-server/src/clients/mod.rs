//! `/api/v1/clients`: OAuth2 client credentials of systems. Secrets are shown once, at creation
//! or rotation, and stored only as hashes.

use axum::extract::State;
use axum::http::{header::LOCATION, StatusCode};
use axum::response::IntoResponse;
use lgsp_core::{Action, AgencyCode, Resource, SystemCode, SystemId, Text};
use lgsp_store::{Client, NewClient};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::AppState;
use crate::auth::secrets::{random_token, sha256_hex};
use crate::auth::Caller;
use crate::error::{ApiError, ProblemDoc};
use crate::extract::{Json, Path, Query};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_clients, create_client))
        .routes(routes!(get_client, revoke_client))
        .routes(routes!(rotate_secret))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ClientFilter {
    /// Only the clients of this agency's systems.
    #[param(value_type = Option<String>)]
    agency: Option<AgencyCode>,
}

#[utoipa::path(get, path = "/clients", tag = "clients", params(ClientFilter),
    responses((status = 200, body = Vec<Client>), (status = 401, body = ProblemDoc)))]
async fn list_clients(
    State(state): State<AppState>,
    caller: Caller,
    Query(filter): Query<ClientFilter>,
) -> Result<axum::Json<Vec<Client>>, ApiError> {
    let agency = filter.agency.or_else(|| {
        caller
            .user
            .as_ref()
            .filter(|user| user.assignment.role() == lgsp_core::Role::AgencyAdmin)
            .and_then(|user| user.assignment.agency().cloned())
    });
    caller.authorize(Action::Read, Resource::Client(agency.as_ref()))?;
    Ok(axum::Json(state.store.list_clients(agency.as_ref()).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientCreate {
    #[schema(value_type = String)]
    agency: AgencyCode,
    #[schema(value_type = String)]
    system: SystemCode,
    /// What the credentials are for, e.g. "Kết nối hộ tịch – môi trường thật".
    name: Text,
}

/// A client with its secret, returned once.
#[derive(Serialize, ToSchema)]
pub struct IssuedClient {
    #[serde(flatten)]
    client: Client,
    /// Store it now: it cannot be shown again.
    client_secret: String,
}

/// Create credentials for a system. Operator or the system's agency administrator.
#[utoipa::path(post, path = "/clients", tag = "clients", request_body = ClientCreate,
    responses((status = 201, body = IssuedClient), (status = 403, body = ProblemDoc),
        (status = 404, body = ProblemDoc)))]
async fn create_client(
    State(state): State<AppState>,
    caller: Caller,
    Json(request): Json<ClientCreate>,
) -> Result<impl IntoResponse, ApiError> {
    caller.authorize(Action::Create, Resource::Client(Some(&request.agency)))?;
    let secret = random_token();
    let client = state
        .store
        .insert_client(&NewClient {
            client_id: new_client_id(&request.system),
            name: request.name,
            system: SystemId {
                agency: request.agency,
                code: request.system,
            },
            secret_hash: sha256_hex(&secret),
        })
        .await?;
    tracing::info!(client = %client.client_id, by = %caller.name(), "client created");
    let location = format!("/api/v1/clients/{}", client.client_id);
    Ok((
        StatusCode::CREATED,
        [(LOCATION, location)],
        axum::Json(IssuedClient {
            client,
            client_secret: secret,
        }),
    ))
}

/// A client id that names its system and cannot be guessed from it.
pub fn new_client_id(system: &SystemCode) -> String {
    let suffix: String = random_token()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(10)
        .collect();
    format!(
        "{}-{}",
        system.as_str().to_ascii_lowercase(),
        suffix.to_ascii_lowercase()
    )
}

async fn client_for(
    state: &AppState,
    caller: &Caller,
    id: &str,
    action: Action,
) -> Result<Client, ApiError> {
    caller.require_person()?;
    let client = state.store.get_client(id).await?;
    caller.authorize(action, Resource::Client(Some(&client.system.agency)))?;
    Ok(client)
}

#[utoipa::path(get, path = "/clients/{client_id}", tag = "clients",
    params(("client_id" = String, Path, description = "Client id")),
    responses((status = 200, body = Client), (status = 404, body = ProblemDoc)))]
async fn get_client(
    State(state): State<AppState>,
    caller: Caller,
    Path(client_id): Path<String>,
) -> Result<axum::Json<Client>, ApiError> {
    Ok(axum::Json(
        client_for(&state, &caller, &client_id, Action::Read).await?,
    ))
}

/// Revoke a client for good: its tokens stop working at once.
#[utoipa::path(delete, path = "/clients/{client_id}", tag = "clients",
    params(("client_id" = String, Path, description = "Client id")),
    responses((status = 200, body = Client), (status = 404, body = ProblemDoc)))]
async fn revoke_client(
    State(state): State<AppState>,
    caller: Caller,
    Path(client_id): Path<String>,
) -> Result<axum::Json<Client>, ApiError> {
    client_for(&state, &caller, &client_id, Action::Revoke).await?;
    let revoked = state.store.revoke_client(&client_id).await?;
    tracing::info!(client = %client_id, by = %caller.name(), "client revoked");
    Ok(axum::Json(revoked))
}

/// Replace a client's secret; the old one stops working.
#[utoipa::path(post, path = "/clients/{client_id}/secret", tag = "clients",
    params(("client_id" = String, Path, description = "Client id")),
    responses((status = 200, body = IssuedClient), (status = 404, body = ProblemDoc),
        (status = 409, body = ProblemDoc, description = "the client is revoked")))]
async fn rotate_secret(
    State(state): State<AppState>,
    caller: Caller,
    Path(client_id): Path<String>,
) -> Result<axum::Json<IssuedClient>, ApiError> {
    client_for(&state, &caller, &client_id, Action::Update).await?;
    let secret = random_token();
    let client = state
        .store
        .rotate_client_secret(&client_id, &sha256_hex(&secret))
        .await?;
    tracing::info!(client = %client_id, by = %caller.name(), "client secret rotated");
    Ok(axum::Json(IssuedClient {
        client,
        client_secret: secret,
    }))
}
