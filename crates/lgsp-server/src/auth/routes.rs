//! `/api/v1/auth/*` for people, `/oauth/token` (alias `/token`) for systems, and the JWK Set.

use axum::extract::State;
use axum::http::header::{AUTHORIZATION, CACHE_CONTROL, PRAGMA};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use lgsp_core::Actor;
use lgsp_store::{SessionKind, User};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::caller::Caller;
use super::secrets::{constant_time_eq, sha256_hex};
use super::sign_in::{open_session, sign_in, SignInError};
use super::{jwt, secrets};
use crate::app::AppState;
use crate::error::{ApiError, ErrorCode, ProblemDoc};
use crate::extract::{Form, Json};

pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me))
}

/// Routes outside `/api/v1` whose paths are fixed by the public contract.
pub fn token_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(oauth_token))
        .routes(routes!(token_alias))
        .routes(routes!(jwks))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    username: String,
    password: String,
}

#[derive(Serialize, ToSchema)]
pub struct LoginResponse {
    /// Send as `Authorization: Bearer <token>`.
    token: String,
    token_type: &'static str,
    expires_at: chrono::DateTime<chrono::Utc>,
}

pub(crate) fn sign_in_error(error: SignInError) -> ApiError {
    match error {
        SignInError::Invalid => ApiError::new(ErrorCode::InvalidCredentials)
            .detail("the username or password is incorrect"),
        SignInError::Throttled { retry_after } => ApiError::new(ErrorCode::LoginThrottled)
            .detail(format!(
                "too many failed sign-ins: try again in {retry_after} s"
            ))
            .retry_after(retry_after),
        SignInError::Store(error) => error.into(),
    }
}

/// Sign a person in and get a token for API use.
#[utoipa::path(post, path = "/auth/login", tag = "auth", request_body = LoginRequest,
    responses(
        (status = 200, body = LoginResponse),
        (status = 401, body = ProblemDoc, description = "`invalid_credentials`"),
        (status = 429, body = ProblemDoc, description = "`login_throttled`"),
    ))]
async fn login(
    State(state): State<AppState>,
    Json(request): Json<LoginRequest>,
) -> Result<axum::Json<LoginResponse>, ApiError> {
    let user = sign_in(&state, &request.username, &request.password)
        .await
        .map_err(sign_in_error)?;
    let session = open_session(&state, &user, SessionKind::Api).await?;
    tracing::info!(user = %user.username, "signed in for API use");
    Ok(axum::Json(LoginResponse {
        token: session.token,
        token_type: "Bearer",
        expires_at: session.expires_at,
    }))
}

/// End the API session of the bearer token.
#[utoipa::path(post, path = "/auth/logout", tag = "auth",
    responses((status = 204), (status = 401, body = ProblemDoc)))]
async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Result<StatusCode, ApiError> {
    let token = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .filter(|token| !token.contains('.'))
        .ok_or_else(|| ApiError::new(ErrorCode::AuthenticationRequired))?;
    let hash = sha256_hex(token);
    if state.store.find_session(&hash).await?.is_none() {
        return Err(ApiError::new(ErrorCode::InvalidToken));
    }
    state.store.delete_session(&hash).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Me {
    Anonymous,
    Person {
        #[serde(flatten)]
        user: User,
    },
    System {
        agency: String,
        system: String,
    },
}

/// Who the caller is.
#[utoipa::path(get, path = "/auth/me", tag = "auth", responses((status = 200, body = Me)))]
async fn me(caller: Caller) -> axum::Json<Me> {
    axum::Json(match (caller.actor, caller.user) {
        (Actor::Person { .. }, Some(user)) => Me::Person { user },
        (Actor::System(id), _) => Me::System {
            agency: id.agency.to_string(),
            system: id.code.to_string(),
        },
        _ => Me::Anonymous,
    })
}

/// The OAuth2 client-credentials request (RFC 6749 §4.4), as a form.
#[derive(Deserialize, ToSchema)]
pub struct TokenRequest {
    grant_type: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    scope: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct TokenResponse {
    access_token: String,
    token_type: &'static str,
    expires_in: u32,
    scope: &'static str,
}

/// The only scope issued: calls through the exchange gateway.
const GATEWAY_SCOPE: &str = "gateway";

/// Get an access token for a system (OAuth2 client credentials; HTTP Basic or form fields).
#[utoipa::path(post, path = "/oauth/token", tag = "auth",
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, body = TokenResponse),
        (status = 400, body = ProblemDoc, description = "`invalid_request`, `unsupported_grant_type`, `invalid_scope`"),
        (status = 401, body = ProblemDoc, description = "`invalid_client`"),
    ))]
async fn oauth_token(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(request): Form<TokenRequest>,
) -> Result<Response, ApiError> {
    issue_token(state, headers, request).await
}

/// Alias of `/oauth/token` for integrations written for WSO2-based provincial gateways.
#[utoipa::path(post, path = "/token", tag = "auth",
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, body = TokenResponse), (status = 401, body = ProblemDoc)))]
async fn token_alias(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(request): Form<TokenRequest>,
) -> Result<Response, ApiError> {
    issue_token(state, headers, request).await
}

async fn issue_token(
    state: AppState,
    headers: HeaderMap,
    request: TokenRequest,
) -> Result<Response, ApiError> {
    let invalid_request = |why: &str| ApiError::new(ErrorCode::InvalidRequest).detail(why);
    let invalid_client =
        || ApiError::new(ErrorCode::InvalidClient).detail("client authentication failed");
    match request.grant_type.as_deref() {
        None => return Err(invalid_request("`grant_type` is required")),
        Some("client_credentials") => {}
        Some(_) => {
            return Err(ApiError::new(ErrorCode::UnsupportedGrantType)
                .detail("only `client_credentials` is supported"))
        }
    }
    if let Some(scope) = request.scope.as_deref() {
        if scope.split_whitespace().any(|s| s != GATEWAY_SCOPE) {
            return Err(ApiError::new(ErrorCode::InvalidScope)
                .detail(format!("the only scope is `{GATEWAY_SCOPE}`")));
        }
    }
    let basic = headers
        .get(AUTHORIZATION)
        .map(|value| parse_basic(value).ok_or_else(invalid_client))
        .transpose()?;
    let (client_id, secret) = match (basic, request.client_id, request.client_secret) {
        (Some(_), _, Some(_)) => {
            return Err(invalid_request(
                "authenticate with HTTP Basic or with form fields, not both",
            ))
        }
        (Some((id, secret)), form_id, None) => {
            if form_id.is_some_and(|form_id| form_id != id) {
                return Err(invalid_request(
                    "`client_id` differs from the Basic credentials",
                ));
            }
            (id, secret)
        }
        (None, Some(id), Some(secret)) => (id, secret),
        (None, _, _) => return Err(invalid_client()),
    };
    let (client, hash) = match state.store.client_credentials(&client_id).await {
        Ok(found) => found,
        Err(lgsp_store::StoreError::NotFound(_)) => return Err(invalid_client()),
        Err(other) => return Err(other.into()),
    };
    if client.revoked_at.is_some() || !constant_time_eq(&sha256_hex(&secret), &hash) {
        return Err(invalid_client());
    }
    let now = chrono::Utc::now().timestamp();
    let lifetime = state.settings.token_seconds;
    let claims = jwt::ClientClaims {
        iss: jwt::ISSUER.into(),
        sub: client.client_id.clone(),
        aud: jwt::AUDIENCE.into(),
        iat: now,
        nbf: now,
        exp: now + i64::from(lifetime),
        jti: secrets::random_token(),
        scope: GATEWAY_SCOPE.into(),
        agency: client.system.agency.to_string(),
        system: client.system.code.to_string(),
    };
    let token = jwt::issue(state.keys.active(), &claims);
    tracing::info!(client = %client.client_id, "issued an access token");
    let mut response = axum::Json(TokenResponse {
        access_token: token,
        token_type: "Bearer",
        expires_in: lifetime,
        scope: GATEWAY_SCOPE,
    })
    .into_response();
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
        .headers_mut()
        .insert(PRAGMA, HeaderValue::from_static("no-cache"));
    Ok(response)
}

/// `Basic base64(client_id:client_secret)`.
fn parse_basic(value: &HeaderValue) -> Option<(String, String)> {
    let encoded = value.to_str().ok()?.strip_prefix("Basic ")?;
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

/// The platform's public keys (RFC 7517), for verifying tokens and signatures.
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "auth",
    responses((status = 200, description = "JWK Set", content_type = "application/json")))]
async fn jwks(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(CACHE_CONTROL, "public, max-age=300")],
        axum::Json(state.keys.jwks()),
    )
}
