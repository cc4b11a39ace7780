//! `/api/v1/security-events`: security-relevant attempts the platform refused, for the police
//! auditor and the operator (Q1.2, Q20).

use axum::extract::State;
use chrono::{DateTime, Utc};
use lgsp_core::{Action, Resource};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ProblemDoc};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(security_events))
}

#[derive(Serialize, ToSchema)]
pub struct SecurityEvent {
    kind: String,
    actor: String,
    detail: String,
    at: DateTime<Utc>,
}

/// Refused attempts, newest first (auditor, operator).
#[utoipa::path(get, path = "/security-events", tag = "security",
    responses((status = 200, body = Vec<SecurityEvent>), (status = 403, body = ProblemDoc)))]
async fn security_events(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<axum::Json<Vec<SecurityEvent>>, ApiError> {
    caller.authorize(Action::Read, Resource::SecurityEvents)?;
    let events = state.store.security_events().await?;
    Ok(axum::Json(
        events
            .into_iter()
            .map(|(kind, actor, detail, at)| SecurityEvent {
                kind,
                actor,
                detail,
                at,
            })
            .collect(),
    ))
}
