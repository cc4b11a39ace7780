//! `/api/v1/quarantine`: the security auditors list held content, read it, and confirm it as a
//! state secret or release it. Nobody else may see or decide (403).

use axum::extract::State;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use lgsp_core::secret_guard::QuarantineState;
use lgsp_core::{Action, Resource, Text};
use lgsp_store::{QuarantineItem, StoreError};
use serde::Deserialize;
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorCode, ProblemDoc};
use crate::extract::{Json, Path, Query};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(get_item))
        .routes(routes!(content))
        .routes(routes!(confirm))
        .routes(routes!(release))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// `held`, `confirmed` or `released`; all when absent.
    state: Option<String>,
}

/// Held, confirmed and released items, newest first (at most 500; auditors only).
#[utoipa::path(get, path = "/quarantine", tag = "quarantine", params(ListParams),
    responses((status = 200, body = Vec<QuarantineItem>),
        (status = 400, body = ProblemDoc, description = "`invalid_parameter`: unknown state"),
        (status = 401, body = ProblemDoc), (status = 403, body = ProblemDoc)))]
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<ListParams>,
) -> Result<axum::Json<Vec<QuarantineItem>>, ApiError> {
    caller.authorize(Action::Read, Resource::Quarantine)?;
    let wanted = params
        .state
        .as_deref()
        .map(QuarantineState::parse)
        .transpose()
        .map_err(|_| {
            ApiError::new(ErrorCode::InvalidParameter)
                .detail("`state` is `held`, `confirmed` or `released`")
        })?;
    Ok(axum::Json(state.store.list_quarantine(wanted).await?))
}

/// One item: where it came from, what the guard found, its state and decision.
#[utoipa::path(get, path = "/quarantine/{id}", tag = "quarantine",
    params(("id" = i64, Path, description = "Item id")),
    responses((status = 200, body = QuarantineItem), (status = 401, body = ProblemDoc),
        (status = 403, body = ProblemDoc), (status = 404, body = ProblemDoc)))]
async fn get_item(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<axum::Json<QuarantineItem>, ApiError> {
    caller.authorize(Action::Read, Resource::Quarantine)?;
    Ok(axum::Json(state.store.get_quarantine(id).await?))
}

/// The content held, as it was sent (for an import: its flagged rows as JSON). Erased once the
/// item is confirmed (404).
#[utoipa::path(get, path = "/quarantine/{id}/content", tag = "quarantine",
    params(("id" = i64, Path, description = "Item id")),
    responses((status = 200, description = "The content, with its media type"),
        (status = 401, body = ProblemDoc), (status = 403, body = ProblemDoc),
        (status = 404, body = ProblemDoc, description = "`resource_not_found`: no such item, or its content was erased")))]
async fn content(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    caller.authorize(Action::Read, Resource::Quarantine)?;
    let item = state.store.get_quarantine(id).await?;
    let bytes = state.store.quarantine_content(id).await?.ok_or_else(|| {
        ApiError::new(ErrorCode::ResourceNotFound).detail(format!(
            "the content of item {id} was erased when it was confirmed as a state secret"
        ))
    })?;
    let filename = item.filename.as_deref().unwrap_or("noi-dung").replace(
        |c: char| !c.is_ascii_alphanumeric() && c != '.' && c != '-',
        "_",
    );
    Ok((
        [
            (CONTENT_TYPE, item.media_type),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"quarantine-{id}-{filename}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// The auditor's reasons for a decision.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    /// Why: e.g. the file reference of the case, or why the marking is not a state secret.
    #[schema(value_type = String)]
    pub note: Text,
}

/// Confirms a held item as a state secret: its content is erased, the record stays.
#[utoipa::path(post, path = "/quarantine/{id}/confirm", tag = "quarantine", request_body = DecisionBody,
    params(("id" = i64, Path, description = "Item id")),
    responses((status = 200, body = QuarantineItem), (status = 401, body = ProblemDoc),
        (status = 403, body = ProblemDoc), (status = 404, body = ProblemDoc),
        (status = 409, body = ProblemDoc, description = "`invalid_transition`: already decided"),
        (status = 422, body = ProblemDoc, description = "`invalid_body`: no note")))]
async fn confirm(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<DecisionBody>,
) -> Result<axum::Json<QuarantineItem>, ApiError> {
    Ok(axum::Json(
        decide(&state, &caller, id, QuarantineState::Confirmed, &body.note).await?,
    ))
}

/// Releases a held item: it is not a state secret, and the same content passes from now on.
#[utoipa::path(post, path = "/quarantine/{id}/release", tag = "quarantine", request_body = DecisionBody,
    params(("id" = i64, Path, description = "Item id")),
    responses((status = 200, body = QuarantineItem), (status = 401, body = ProblemDoc),
        (status = 403, body = ProblemDoc), (status = 404, body = ProblemDoc),
        (status = 409, body = ProblemDoc, description = "`invalid_transition`: already decided"),
        (status = 422, body = ProblemDoc, description = "`invalid_body`: no note")))]
async fn release(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<DecisionBody>,
) -> Result<axum::Json<QuarantineItem>, ApiError> {
    Ok(axum::Json(
        decide(&state, &caller, id, QuarantineState::Released, &body.note).await?,
    ))
}

/// Takes a decision, tells the agency concerned and records it on the transparency log: what
/// the API and the console both do.
pub async fn decide(
    state: &AppState,
    caller: &Caller,
    id: i64,
    to: QuarantineState,
    note: &Text,
) -> Result<QuarantineItem, ApiError> {
    caller.authorize(Action::Update, Resource::Quarantine)?;
    let item = state.store.get_quarantine(id).await?;
    if item.state != QuarantineState::Held {
        return Err(ApiError::new(ErrorCode::InvalidTransition).detail(format!(
            "item {id} is already {}: a decision is final",
            item.state.as_str()
        )));
    }
    let what = match item.source {
        lgsp_core::secret_guard::QuarantineSource::Import => "Dữ liệu nhập",
        lgsp_core::secret_guard::QuarantineSource::ExchangeRequest => "Yêu cầu trao đổi",
        lgsp_core::secret_guard::QuarantineSource::ExchangeResponse => "Dữ liệu trả lời",
        lgsp_core::secret_guard::QuarantineSource::Attachment => "Tệp đính kèm",
    };
    let notice = match to {
        QuarantineState::Released => (
            "Nội dung bị tạm giữ đã được giải phóng".to_owned(),
            format!(
                "{what} bị tạm giữ ngày {} (mục {id}) đã được cơ quan Công an kiểm tra và giải \
                 phóng: không thuộc bí mật nhà nước. Có thể gửi lại đúng nội dung này.",
                vietnam_date(item.created_at)
            ),
        ),
        _ => (
            "Nội dung bị tạm giữ được xác nhận thuộc bí mật nhà nước".to_owned(),
            format!(
                "{what} bị tạm giữ ngày {} (mục {id}) được cơ quan Công an xác nhận thuộc bí mật \
                 nhà nước và đã bị xóa khỏi nền tảng. Không được gửi nội dung này qua nền tảng.",
                vietnam_date(item.created_at)
            ),
        ),
    };
    let decided = state
        .store
        .decide_quarantine(
            id,
            to,
            &caller.name(),
            note.as_str(),
            (&notice.0, &notice.1),
        )
        .await
        .map_err(|error| match error {
            StoreError::Conflict(message) => {
                ApiError::new(ErrorCode::InvalidTransition).detail(message)
            }
            other => other.into(),
        })?;
    super::record(
        &state.log,
        json!({
            "event": to.as_str(),
            "quarantine": id,
            "source": decided.source.as_str(),
            "scope": decided.scope,
            "actor": caller.name(),
        }),
    )
    .await?;
    tracing::info!(quarantine = id, state = to.as_str(), by = %caller.name(), "quarantine decided");
    Ok(decided)
}

/// dd/mm/yyyy in Viet Nam's time.
pub fn vietnam_date(at: chrono::DateTime<chrono::Utc>) -> String {
    let vietnam = chrono::FixedOffset::east_opt(7 * 3600).expect("UTC+7 is a valid offset");
    at.with_timezone(&vietnam).format("%d/%m/%Y").to_string()
}
