//! Who is calling: a person (browser session or API token), a system (access token), or nobody.

use axum::extract::{FromRequestParts, OriginalUri};
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use lgsp_core::{authorize, Action, Actor, Resource, SystemCode, SystemId};
use lgsp_store::{SessionKind, User};

use super::secrets::{constant_time_eq, sha256_hex};
use crate::app::AppState;
use crate::error::{ApiError, ErrorCode};
use crate::gateway::access::Access;
use crate::transparency::ActorSlot;

/// Name of the cookie that carries a browser session token.
pub const SESSION_COOKIE: &str = "lgsp_session";
/// Header a browser script sends with unsafe API requests, carrying the session's CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Marks a route (as a route layer: `Extension(AnonymousChanges)`) whose unsafe API requests
/// anonymous callers may make, e.g. a citizen reporting an error in open data. Everywhere else
/// an anonymous change through the API is refused before the body is read.
#[derive(Debug, Clone, Copy)]
pub struct AnonymousChanges;

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub actor: Actor,
    /// The account of a signed-in person.
    pub user: Option<User>,
    /// Present when the person is signed in through a browser session.
    pub web_session: Option<WebSession>,
    /// The OAuth2 client whose access token a system presented.
    pub client_id: Option<String>,
}

#[derive(Debug, Clone)]
pub struct WebSession {
    pub token_hash: String,
    pub csrf_token: String,
}

impl Caller {
    pub fn anonymous() -> Self {
        Self {
            actor: Actor::Anonymous,
            user: None,
            web_session: None,
            client_id: None,
        }
    }

    fn person(user: User, web_session: Option<WebSession>) -> Self {
        Self {
            actor: Actor::Person {
                username: user.username.clone(),
                assignment: user.assignment.clone(),
            },
            user: Some(user),
            web_session,
            client_id: None,
        }
    }

    /// Asks the policy whether this caller may do `action` on `resource`.
    pub fn authorize(&self, action: Action, resource: Resource<'_>) -> Result<(), ApiError> {
        authorize(&self.actor, action, resource).map_err(ApiError::from)
    }

    /// Refuses anyone but a signed-in person, before anything is looked up, so that lookups do
    /// not reveal to outsiders what exists.
    pub fn require_person(&self) -> Result<(), ApiError> {
        match self.actor {
            Actor::Person { .. } => Ok(()),
            Actor::Anonymous => Err(ApiError::new(ErrorCode::AuthenticationRequired)),
            Actor::System(_) => Err(ApiError::new(ErrorCode::Forbidden)),
        }
    }

    /// The name recorded as the author of a change.
    pub fn name(&self) -> String {
        match &self.actor {
            Actor::Anonymous => "anonymous".into(),
            Actor::Person { username, .. } => username.to_string(),
            Actor::System(id) => format!("system:{}/{}", id.agency, id.code),
        }
    }

    /// Checks a CSRF token sent with a form or header against the browser session's.
    pub fn check_csrf(&self, presented: Option<&str>) -> Result<(), ApiError> {
        match (&self.web_session, presented) {
            (Some(session), Some(token)) if constant_time_eq(&session.csrf_token, token) => Ok(()),
            _ => Err(ApiError::new(ErrorCode::CsrfTokenInvalid)),
        }
    }
}

/// The value of cookie `name` in the request, if sent.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find_map(|(key, value)| (key == name).then_some(value))
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let caller = identify(parts, state).await;
        // The transparency log records who acted (see `transparency::record_actions`).
        if let (Ok(caller), Some(slot)) = (&caller, parts.extensions.get::<ActorSlot>()) {
            slot.set(caller.name());
        }
        caller
    }
}

/// Who is calling: a system by its bearer JWT, a person by an API token or a browser session.
async fn identify(parts: &mut Parts, state: &AppState) -> Result<Caller, ApiError> {
    {
        // Nested routers see a shortened path; the original one says whether this is the API.
        let path = parts
            .extensions
            .get::<OriginalUri>()
            .map_or(parts.uri.path(), |original| original.path());
        let api_change = path.starts_with("/api/") && !parts.method.is_safe();
        let anonymous_allowed = parts.extensions.get::<AnonymousChanges>().is_some();

        if parts.headers.contains_key(AUTHORIZATION) {
            let token = bearer(&parts.headers)?;
            return if token.matches('.').count() == 2 {
                let access = state.gateway.access.current(&state.store).await?;
                system_caller(state, &access, token).await
            } else {
                api_session_caller(state, token).await
            };
        }
        let session = match cookie(&parts.headers, SESSION_COOKIE) {
            Some(token) => {
                let token_hash = sha256_hex(token);
                state
                    .store
                    .find_session(&token_hash)
                    .await?
                    .filter(|session| session.kind == SessionKind::Web)
                    .map(|session| (token_hash, session))
            }
            None => None,
        };
        let Some((token_hash, session)) = session else {
            // Nobody changes anything through the API anonymously: refuse before the body is
            // even read, so the answer does not depend on it.
            if api_change && !anonymous_allowed {
                return Err(ApiError::new(ErrorCode::AuthenticationRequired));
            }
            return Ok(Caller::anonymous());
        };
        let caller = Caller::person(
            session.user,
            Some(WebSession {
                token_hash,
                csrf_token: session.csrf_token,
            }),
        );
        // A browser script changing something through the API must prove it was served by us.
        if api_change {
            let presented = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
            caller.check_csrf(presented)?;
        }
        Ok(caller)
    }
}

async fn api_session_caller(state: &AppState, token: &str) -> Result<Caller, ApiError> {
    let session = state
        .store
        .find_session(&sha256_hex(token))
        .await?
        .filter(|session| session.kind == SessionKind::Api)
        .ok_or_else(|| {
            ApiError::new(ErrorCode::InvalidToken).detail("the token is unknown or has expired")
        })?;
    Ok(Caller::person(session.user, None))
}

pub(crate) async fn system_caller(
    state: &AppState,
    access: &Access<'_>,
    token: &str,
) -> Result<Caller, ApiError> {
    let invalid = |why: String| ApiError::new(ErrorCode::InvalidToken).detail(why);
    let claims = state
        .gateway
        .tokens
        .verify(&state.keys, token, chrono::Utc::now().timestamp())
        .map_err(|e| invalid(e.to_string()))?;
    let Some(client) = access.client(&claims.sub).await? else {
        return Err(invalid("the client no longer exists".into()));
    };
    if client.revoked_at.is_some() {
        return Err(invalid("the client has been revoked".into()));
    }
    let system = SystemId {
        agency: client.system.agency.clone(),
        code: SystemCode::parse(&claims.system).map_err(|_| invalid("bad claims".into()))?,
    };
    if system != client.system {
        return Err(invalid("the token does not match its client".into()));
    }
    Ok(Caller {
        actor: Actor::System(system),
        user: None,
        web_session: None,
        client_id: Some(claims.sub),
    })
}

/// The token of `Authorization: Bearer <token>` when it has a JWT's shape (a system's access
/// token; API tokens of people have no dots).
pub(crate) fn system_token(headers: &HeaderMap) -> Option<&str> {
    bearer(headers)
        .ok()
        .filter(|token| token.matches('.').count() == 2)
}

/// The token of an `Authorization` field, or the problem a malformed one is answered with.
fn bearer(headers: &HeaderMap) -> Result<&str, ApiError> {
    headers
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .ok_or_else(|| {
            ApiError::new(ErrorCode::InvalidToken).detail("send `Authorization: Bearer <token>`")
        })
}
