//! `/api/v1/sharing-requests/{id}/attachments`: the documents supporting a request — the
//! assignment letter, the procedure's legal basis, the provider's notes — attached by either
//! side (or the operator) while the request awaits a decision, read by anyone who may read the
//! request. Stored as any attachment (`crate::attachments`).

use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use lgsp_core::sharing_request::RequestState;
use lgsp_core::{Action, Resource, Role};
use lgsp_store::{Attachment, NewAttachment, SharingRequest};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::AppState;
use crate::attachments::{self, MULTIPART_OVERHEAD};
use crate::auth::Caller;
use crate::error::{ApiError, ErrorCode, ProblemDoc};
use crate::extract::Path;

/// The owner kind of a sharing request's attachments.
pub const ATTACHMENT_OWNER: &str = "sharing_request";

pub fn routes(max_upload_bytes: usize) -> OpenApiRouter<AppState> {
    let uploads = OpenApiRouter::new()
        .routes(routes!(list, upload))
        .layer(DefaultBodyLimit::max(max_upload_bytes + MULTIPART_OVERHEAD));
    OpenApiRouter::new()
        .merge(uploads)
        .routes(routes!(download))
}

async fn readable(state: &AppState, caller: &Caller, id: i64) -> Result<SharingRequest, ApiError> {
    caller.require_person()?;
    let request = state.store.get_sharing_request(id).await?;
    caller.authorize(
        Action::Read,
        Resource::SharingRequest {
            provider: &request.provider,
            consumer: &request.consumer,
        },
    )?;
    Ok(request)
}

/// Attaches `file` to request `id`: an administrator of either agency or the operator, while
/// the request is pending or returned. What the API and the console both do.
pub async fn attach(
    state: &AppState,
    caller: &Caller,
    id: i64,
    file: &NewAttachment,
) -> Result<Attachment, ApiError> {
    let request = readable(state, caller, id).await?;
    let party = caller.user.as_ref().is_some_and(|u| {
        u.assignment.role() == Role::Operator
            || (u.assignment.role() == Role::AgencyAdmin
                && u.assignment
                    .agency()
                    .is_some_and(|a| *a == request.consumer || *a == request.provider))
    });
    if !party {
        return Err(ApiError::new(ErrorCode::Forbidden)
            .detail("the request's agencies and the operator attach documents"));
    }
    if !matches!(
        request.state,
        RequestState::Pending | RequestState::Returned
    ) {
        return Err(ApiError::new(ErrorCode::InvalidTransition).detail(format!(
            "the request is {}; documents are attached before the decision (after a refusal, \
             to its dispute ticket)",
            request.state.as_str()
        )));
    }
    let attached = state.store.attach(ATTACHMENT_OWNER, id, file).await?;
    tracing::info!(request = id, attachment = attached.id, by = %caller.name(),
        "sharing request attachment");
    Ok(attached)
}

/// The documents attached to a request, oldest first (without their bytes).
#[utoipa::path(get, path = "/sharing-requests/{id}/attachments", tag = "sharing-requests",
    params(("id" = i64, Path, description = "Sharing request id")),
    responses((status = 200, body = Vec<Attachment>), (status = 403, body = ProblemDoc),
        (status = 404, body = ProblemDoc)))]
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<axum::Json<Vec<Attachment>>, ApiError> {
    readable(&state, &caller, id).await?;
    Ok(axum::Json(
        state.store.attachments_of(ATTACHMENT_OWNER, id).await?,
    ))
}

/// Attach a document to a pending or returned request (either agency's administrator or the
/// operator): `multipart/form-data` with one part `file` — PDF, PNG, JPEG, DOCX, XLSX, ODT, ODS,
/// CSV, JSON or plain text, at most `max_upload_bytes`.
#[utoipa::path(post, path = "/sharing-requests/{id}/attachments", tag = "sharing-requests",
    params(("id" = i64, Path, description = "Sharing request id")),
    request_body(content_type = "multipart/form-data", description = "`file`: the document"),
    responses((status = 201, body = Attachment), (status = 403, body = ProblemDoc),
        (status = 404, body = ProblemDoc),
        (status = 409, body = ProblemDoc, description = "`invalid_transition`: decided"),
        (status = 413, body = ProblemDoc, description = "`payload_too_large`"),
        (status = 422, body = ProblemDoc, description = "`invalid_attachment`")))]
async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    multipart: Multipart,
) -> Result<Response, ApiError> {
    readable(&state, &caller, id).await?;
    let file = attachments::read_file(&state, &caller, multipart).await?;
    let attached = attach(&state, &caller, id, &file).await?;
    Ok((StatusCode::CREATED, axum::Json(attached)).into_response())
}

/// Download a request's attachment (anyone who may read the request).
#[utoipa::path(get, path = "/sharing-requests/{id}/attachments/{attachment}",
    tag = "sharing-requests",
    params(("id" = i64, Path, description = "Sharing request id"),
        ("attachment" = i64, Path, description = "Attachment id")),
    responses((status = 200, description = "The document, as uploaded"),
        (status = 403, body = ProblemDoc), (status = 404, body = ProblemDoc)))]
async fn download(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, attachment)): Path<(i64, i64)>,
) -> Result<Response, ApiError> {
    readable(&state, &caller, id).await?;
    let (info, content) = state
        .store
        .owned_attachment(ATTACHMENT_OWNER, id, attachment)
        .await?;
    Ok(attachments::download(&info, content))
}
