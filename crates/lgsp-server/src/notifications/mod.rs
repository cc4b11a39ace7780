//! `/api/v1/notifications`: what the platform told a signed-in person (in-app notifications of
//! workflow steps), and the operator's view of the e-mail outbox.

pub mod mail;
pub mod smtp;

use axum::extract::State;
use axum::http::StatusCode;
use lgsp_core::Role;
use lgsp_store::{Notification, OutgoingMail};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorCode, ProblemDoc};
use crate::extract::Path;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_notifications))
        .routes(routes!(mark_read))
        .routes(routes!(list_outbox))
}

fn user_id(caller: &Caller) -> Result<i64, ApiError> {
    caller.require_person()?;
    Ok(caller.user.as_ref().map(|u| u.id).unwrap_or_default())
}

/// The caller's notifications, newest first.
#[utoipa::path(get, path = "/notifications", tag = "notifications",
    responses((status = 200, body = Vec<Notification>), (status = 401, body = ProblemDoc)))]
async fn list_notifications(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<axum::Json<Vec<Notification>>, ApiError> {
    Ok(axum::Json(
        state.store.notifications(user_id(&caller)?).await?,
    ))
}

/// Mark one of the caller's notifications read.
#[utoipa::path(post, path = "/notifications/{id}/read", tag = "notifications",
    params(("id" = i64, Path, description = "Notification id")),
    responses((status = 204), (status = 404, body = ProblemDoc)))]
async fn mark_read(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    state
        .store
        .mark_notification_read(user_id(&caller)?, id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The newest 200 e-mails of the outbox — queued, sent, retried or given up, with the last
/// error — for the operator.
#[utoipa::path(get, path = "/notifications/outbox", tag = "notifications",
    responses((status = 200, body = Vec<OutgoingMail>), (status = 401, body = ProblemDoc),
        (status = 403, body = ProblemDoc)))]
async fn list_outbox(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<axum::Json<Vec<OutgoingMail>>, ApiError> {
    caller.require_person()?;
    if caller.actor.role() != Some(Role::Operator) {
        return Err(ApiError::new(ErrorCode::Forbidden).detail("the operator's view"));
    }
    Ok(axum::Json(state.store.list_mail(200).await?))
}
