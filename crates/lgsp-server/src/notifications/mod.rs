//! `/api/v1/notifications`: what the platform told a signed-in person (in-app notifications of
//! workflow steps).

use axum::extract::State;
use axum::http::StatusCode;
use lgsp_store::Notification;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ProblemDoc};
use crate::extract::Path;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_notifications))
        .routes(routes!(mark_read))
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
