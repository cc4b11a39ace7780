//! `/api/v1/sharing-requests`: a consumer agency asks a provider for a service or a hosted
//! dataset (Q13.1); the provider approves — the grants are created, never wider or longer
//! than asked — returns it for more information, or refuses with a reason and a legal basis
//! (Q15.1.a); the consumer amends and resubmits, or withdraws (Q16.1). Each handler asks
//! `lgsp_core::sharing_request::take_step` whether the caller may take the step from the
//! request's state; the store takes it by compare-and-set with its history entry, and the
//! transparency log records every step (`transparency::record_actions`).

use std::num::NonZeroU32;

use axum::extract::State;
use axum::http::header::LOCATION;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};
use lgsp_core::catalog::SharingMode;
use lgsp_core::exchange::{
    dataset_fields, service_fields, FieldError, GrantFields, GrantSource, Purposes, Validity,
};
use lgsp_core::service::{JsonPointer, ServiceState};
use lgsp_core::sharing_request::{
    take_step, Refusal, RequestPurpose, RequestState, RequestStep, RequestStepError,
};
use lgsp_core::{Action, AgencyCode, Resource, Role, SystemCode, SystemId, Text};
use lgsp_store::{
    NewGrant, RequestEvent, RequestTarget, RequestTerms, SharingRequest, StepChange, StoreError,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorCode, ProblemDoc};
use crate::extract::{Json, Path, Query};
use crate::grants::{resolve, ReasonBody, Resolved, TargetRef};

mod deadlines;
mod notices;

pub use deadlines::{escalate_overdue, keep_deadlines, respond_by, DEADLINE_ACTOR};
pub use notices::last_day_vi;
pub mod attachments;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_requests, submit))
        .routes(routes!(get_request))
        .routes(routes!(approve))
        .routes(routes!(return_request))
        .routes(routes!(resubmit))
        .routes(routes!(refuse))
        .routes(routes!(withdraw))
}

fn step_error(error: RequestStepError) -> ApiError {
    match error {
        RequestStepError::WrongRole(_) => {
            ApiError::new(ErrorCode::Forbidden).detail(error.to_string())
        }
        RequestStepError::WrongState { .. } => {
            ApiError::new(ErrorCode::InvalidTransition).detail(error.to_string())
        }
    }
}

/// A lost race between two steps on the same request is a wrong state too.
fn race_error(error: StoreError) -> ApiError {
    match error {
        StoreError::Conflict(message) => {
            ApiError::new(ErrorCode::InvalidTransition).detail(message)
        }
        other => other.into(),
    }
}

fn invalid(detail: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::InvalidBody).detail(detail)
}

/// What a consumer asks for, when submitting or resubmitting a request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestBody {
    pub target: TargetRef,
    /// Codes of the caller's agency's systems that will use the grant; at least one.
    #[schema(value_type = Vec<String>)]
    pub systems: Vec<SystemCode>,
    /// JSON pointers within the service's shareable fields, or the dataset's field names.
    #[schema(value_type = Vec<String>)]
    pub fields: GrantFields,
    /// Purpose code (as it will be sent in `LGSP-Purpose`) and the purpose in words.
    pub purpose: RequestPurpose,
    /// The legal basis of the request (e.g. the procedure's legal document).
    #[schema(value_type = String)]
    pub legal_basis: Text,
    /// Expected frequency and volume, e.g. "khoảng 200 lượt/ngày, giờ hành chính".
    #[schema(value_type = String)]
    pub expected_volume: Text,
    /// Until when access is asked for; in the future.
    pub valid_until: DateTime<Utc>,
}

/// A request with its history and the grants its approval created.
#[derive(Debug, Serialize, ToSchema)]
pub struct RequestDetail {
    #[serde(flatten)]
    pub request: SharingRequest,
    pub history: Vec<RequestEvent>,
    /// Ids of the grants created on approval, one per system.
    pub grants: Vec<i64>,
}

/// The agency the caller administers, if any.
fn own_agency(caller: &Caller) -> Option<AgencyCode> {
    caller
        .user
        .as_ref()
        .filter(|u| u.assignment.role() == Role::AgencyAdmin)
        .and_then(|u| u.assignment.agency().cloned())
}

/// Checks a body against the registry as it stands.
async fn terms_of(
    state: &AppState,
    consumer: AgencyCode,
    body: RequestBody,
) -> Result<(RequestTerms, Resolved), ApiError> {
    let target = resolve(state, &body.target).await?;
    if let Some(service) = &target.service {
        if service.state != ServiceState::Published {
            return Err(ApiError::new(ErrorCode::TargetUnavailable).detail(format!(
                "the service is {}, not published",
                service.state.as_str()
            )));
        }
    }
    if body.systems.is_empty() {
        return Err(invalid("systems: name at least one system of your agency"));
    }
    for (i, system) in body.systems.iter().enumerate() {
        if body.systems[..i].contains(system) {
            return Err(invalid(format!("systems: `{system}` is listed twice")));
        }
        match state.store.get_system(&consumer, system).await {
            Ok(_) => {}
            Err(StoreError::NotFound(_)) => {
                return Err(ApiError::new(ErrorCode::MissingReference)
                    .detail(format!("system {consumer}/{system} is not registered")))
            }
            Err(other) => return Err(other.into()),
        }
    }
    if body.valid_until <= Utc::now() {
        return Err(invalid("valid_until: must be in the future"));
    }
    let fields = target.check_fields(&body.fields)?;
    let terms = RequestTerms {
        consumer,
        systems: body.systems,
        provider: target.provider.clone(),
        target: RequestTarget::from(&target.on),
        fields,
        purpose: body.purpose,
        legal_basis: body.legal_basis,
        expected_volume: body.expected_volume,
        valid_until: body.valid_until,
    };
    Ok((terms, target))
}

/// Submit a sharing request (Q13.1). An administrator of the consumer agency, for its own
/// systems, on a published service or a hosted dataset; the fields must be among what the
/// target shares (`field_not_shared`). A request for a resource shared by default
/// (`sharing_mode: default`) without personal fields is approved at once, as asked, and its
/// history says so (actor `lgsp:chia-se-mac-dinh`).
#[utoipa::path(post, path = "/sharing-requests", tag = "sharing-requests", request_body = RequestBody,
    responses((status = 201, body = RequestDetail), (status = 401, body = ProblemDoc),
        (status = 403, body = ProblemDoc),
        (status = 409, body = ProblemDoc, description = "`target_unavailable`"),
        (status = 422, body = ProblemDoc, description = "`invalid_body`, `field_not_shared`, `missing_reference`")))]
async fn submit(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<RequestBody>,
) -> Result<impl IntoResponse, ApiError> {
    let detail = submit_request(&state, &caller, body).await?;
    let location = format!("/api/v1/sharing-requests/{}", detail.request.id);
    Ok((
        StatusCode::CREATED,
        [(LOCATION, location)],
        axum::Json(detail),
    ))
}

/// Submits a request for `caller`: what the API and the console both do.
pub async fn submit_request(
    state: &AppState,
    caller: &Caller,
    body: RequestBody,
) -> Result<RequestDetail, ApiError> {
    caller.require_person()?;
    let consumer = own_agency(caller)
        .ok_or_else(|| step_error(RequestStepError::WrongRole(RequestStep::Submit)))?;
    let (terms, target) = terms_of(state, consumer, body).await?;
    take_step(
        &caller.actor,
        &terms.consumer,
        &terms.provider,
        None,
        RequestStep::Submit,
    )
    .map_err(step_error)?;
    let deadline = respond_by(&state.settings, lgsp_store::now());
    let mut created = state
        .store
        .insert_sharing_request(&terms, deadline, &caller.name())
        .await?;
    tracing::info!(request = created.id, by = %caller.name(), "sharing request submitted");
    if granted_by_default(&target, &created.fields) {
        let validity = Validity::new(lgsp_store::now(), Some(created.valid_until))
            .map_err(|e| invalid(format!("valid_until: {e}")))?;
        let grants = new_grants(&created, &created.fields, validity, None)?;
        created = state
            .store
            .move_sharing_request(
                created.id,
                RequestStep::Approve,
                RequestState::Pending,
                RequestState::Approved,
                StepChange::Approve(&grants),
                DEFAULT_SHARING,
            )
            .await
            .map_err(race_error)?;
        tracing::info!(request = created.id, "sharing request granted by default");
        notices::tell(state, &created, RequestStep::Approve).await;
    } else {
        notices::tell(state, &created, RequestStep::Submit).await;
    }
    detail(state, created).await
}

async fn detail(state: &AppState, request: SharingRequest) -> Result<RequestDetail, ApiError> {
    let history = state.store.sharing_request_events(request.id).await?;
    let grants = state.store.sharing_request_grants(request.id).await?;
    Ok(RequestDetail {
        request,
        history,
        grants,
    })
}

fn resource(request: &SharingRequest) -> Resource<'_> {
    Resource::SharingRequest {
        provider: &request.provider,
        consumer: &request.consumer,
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RequestQuery {
    /// `pending`, `returned`, `approved`, `refused` or `withdrawn`.
    state: Option<String>,
}

/// Sharing requests the caller may see: an agency's administrators those it sent and those
/// addressed to it, the operator and the auditor all of them. Newest first.
#[utoipa::path(get, path = "/sharing-requests", tag = "sharing-requests", params(RequestQuery),
    responses((status = 200, body = Vec<SharingRequest>), (status = 400, body = ProblemDoc),
        (status = 401, body = ProblemDoc)))]
async fn list_requests(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<RequestQuery>,
) -> Result<axum::Json<Vec<SharingRequest>>, ApiError> {
    caller.require_person()?;
    let wanted = query
        .state
        .as_deref()
        .map(RequestState::parse)
        .transpose()
        .map_err(|_| {
            ApiError::new(ErrorCode::InvalidParameter)
                .detail("state: one of `pending`, `returned`, `approved`, `refused`, `withdrawn`")
        })?;
    Ok(axum::Json(visible(&state, &caller, wanted).await?))
}

/// The requests `caller` may read, optionally in one state, newest first.
pub async fn visible(
    state: &AppState,
    caller: &Caller,
    wanted: Option<RequestState>,
) -> Result<Vec<SharingRequest>, ApiError> {
    let agency = own_agency(caller);
    let requests = state
        .store
        .list_sharing_requests(agency.as_ref(), wanted)
        .await?;
    Ok(requests
        .into_iter()
        .filter(|r| caller.authorize(Action::Read, resource(r)).is_ok())
        .collect())
}

/// Loads a request the caller may read.
async fn readable(state: &AppState, caller: &Caller, id: i64) -> Result<SharingRequest, ApiError> {
    caller.require_person()?;
    let request = state.store.get_sharing_request(id).await?;
    caller.authorize(Action::Read, resource(&request))?;
    Ok(request)
}

#[utoipa::path(get, path = "/sharing-requests/{id}", tag = "sharing-requests",
    params(("id" = i64, Path, description = "Sharing request id")),
    responses((status = 200, body = RequestDetail), (status = 403, body = ProblemDoc),
        (status = 404, body = ProblemDoc)))]
async fn get_request(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<axum::Json<RequestDetail>, ApiError> {
    let request = readable(&state, &caller, id).await?;
    Ok(axum::Json(detail(&state, request).await?))
}

/// The request `id` and the state `step` leads it to, if the caller may take the step now.
async fn for_step(
    state: &AppState,
    caller: &Caller,
    id: i64,
    step: RequestStep,
) -> Result<(SharingRequest, RequestState), ApiError> {
    caller.require_person()?;
    let request = state.store.get_sharing_request(id).await?;
    let to = take_step(
        &caller.actor,
        &request.consumer,
        &request.provider,
        Some(request.state),
        step,
    )
    .map_err(step_error)?;
    Ok((request, to))
}

/// Takes the step in the store and answers the request as it now stands.
async fn record(
    state: &AppState,
    caller: &Caller,
    (request, to): (SharingRequest, RequestState),
    step: RequestStep,
    change: StepChange<'_>,
) -> Result<RequestDetail, ApiError> {
    let moved = state
        .store
        .move_sharing_request(request.id, step, request.state, to, change, &caller.name())
        .await
        .map_err(race_error)?;
    tracing::info!(request = moved.id, step = step.as_str(), by = %caller.name(),
        "sharing request step");
    notices::tell(state, &moved, step).await;
    detail(state, moved).await
}

/// What the provider grants: by default everything asked, for as long as asked.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApproveBody {
    /// Fields to grant: among those asked (for a service, equal to or inside one). Default:
    /// all asked.
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>)]
    pub fields: Option<GrantFields>,
    /// End of the grant: not later than asked. Default: as asked.
    #[serde(default)]
    pub valid_until: Option<DateTime<Utc>>,
    /// Requests per minute per system; none for no quota.
    #[serde(default)]
    #[schema(value_type = Option<u32>, minimum = 1)]
    pub per_minute: Option<NonZeroU32>,
}

/// Checks approved fields against those asked for: fewer is fine, more is not.
fn within_request(
    request: &SharingRequest,
    approved: &GrantFields,
) -> Result<GrantFields, ApiError> {
    let checked = match request.target {
        RequestTarget::Service { .. } => {
            let asked: Vec<JsonPointer> = request
                .fields
                .as_slice()
                .iter()
                .map(JsonPointer::parse)
                .collect::<Result<_, _>>()
                .map_err(ApiError::internal)?;
            service_fields(approved, &asked)
        }
        RequestTarget::Dataset { .. } => {
            let asked: Vec<&str> = request
                .fields
                .as_slice()
                .iter()
                .map(String::as_str)
                .collect();
            dataset_fields(approved, &asked)
        }
    };
    checked.map_err(|e| match e {
        FieldError::NotShared(field) => ApiError::new(ErrorCode::ApprovalExceedsRequest)
            .detail(format!("fields: `{field}` was not asked for")),
        FieldError::Invalid(parse) => invalid(format!("fields: {parse}")),
    })
}

/// Approve a pending request (Q13.1): one active grant per system the consumer named, on the
/// fields and until the end given — fewer and shorter than asked if the provider wishes, never
/// more (`approval_exceeds_request`). The provider agency's administrator or the operator.
#[utoipa::path(post, path = "/sharing-requests/{id}/approve", tag = "sharing-requests",
    request_body = ApproveBody, params(("id" = i64, Path, description = "Sharing request id")),
    responses((status = 200, body = RequestDetail), (status = 403, body = ProblemDoc),
        (status = 404, body = ProblemDoc),
        (status = 409, body = ProblemDoc, description = "`invalid_transition`, `target_unavailable`"),
        (status = 422, body = ProblemDoc, description = "`invalid_body`, `approval_exceeds_request`, `field_not_shared`")))]
async fn approve(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<ApproveBody>,
) -> Result<axum::Json<RequestDetail>, ApiError> {
    Ok(axum::Json(
        approve_request(&state, &caller, id, body).await?,
    ))
}

/// One grant per system the request names, for its purpose.
fn new_grants(
    request: &SharingRequest,
    fields: &GrantFields,
    validity: Validity,
    per_minute: Option<NonZeroU32>,
) -> Result<Vec<NewGrant>, ApiError> {
    let purposes = Purposes::new(vec![request.purpose.code.clone()]).map_err(ApiError::internal)?;
    Ok(request
        .systems
        .iter()
        .map(|system| NewGrant {
            consumer: SystemId {
                agency: request.consumer.clone(),
                code: system.clone(),
            },
            provider: request.provider.clone(),
            on: (&request.target).into(),
            fields: fields.clone(),
            purposes: purposes.clone(),
            validity,
            per_minute,
            source: GrantSource::Request { id: request.id },
            // A request states its legal basis; consent-based sharing is granted directly.
            basis: lgsp_core::exchange::GrantBasis::Legal,
        })
        .collect())
}

/// Who approves a request for a resource shared by default, in the request's history.
pub const DEFAULT_SHARING: &str = "lgsp:chia-se-mac-dinh";

/// Whether a request is granted at once: the target is shared by default (*chia sẻ mặc định*,
/// Decree 47 art. 34) and, for a dataset, no field asked for is personal — personal fields are
/// never shared by default, so such a request waits for the provider like any other.
fn granted_by_default(target: &Resolved, fields: &GrantFields) -> bool {
    target.sharing_mode == SharingMode::Default
        && fields.as_slice().iter().all(|asked| {
            !target
                .dataset_fields
                .iter()
                .any(|(name, personal)| *personal && name == asked)
        })
}

/// Approves request `id` on `body`'s terms: what the API and the console both do.
pub async fn approve_request(
    state: &AppState,
    caller: &Caller,
    id: i64,
    body: ApproveBody,
) -> Result<RequestDetail, ApiError> {
    let step = RequestStep::Approve;
    let (request, to) = for_step(state, caller, id, step).await?;
    let fields = match &body.fields {
        Some(approved) => within_request(&request, approved)?,
        None => request.fields.clone(),
    };
    let valid_until = body.valid_until.unwrap_or(request.valid_until);
    if valid_until > request.valid_until {
        return Err(
            ApiError::new(ErrorCode::ApprovalExceedsRequest).detail(format!(
                "valid_until: the request asks until {}",
                request.valid_until.to_rfc3339()
            )),
        );
    }
    let validity = Validity::new(lgsp_store::now(), Some(valid_until))
        .map_err(|e| invalid(format!("valid_until: {e}")))?;
    // The target may have changed since the request: grant only what it still shares.
    let target_ref = match &request.target {
        RequestTarget::Service { id } => TargetRef::Service { id: *id },
        RequestTarget::Dataset { id } => TargetRef::Dataset { id: id.clone() },
    };
    let target = resolve(state, &target_ref).await?;
    if target
        .service
        .as_ref()
        .is_some_and(|s| s.state == ServiceState::Retired)
    {
        return Err(ApiError::new(ErrorCode::TargetUnavailable)
            .detail("the service is retired and takes no new grants"));
    }
    let fields = target.check_fields(&fields)?;
    let grants = new_grants(&request, &fields, validity, body.per_minute)?;
    record(
        state,
        caller,
        (request, to),
        step,
        StepChange::Approve(&grants),
    )
    .await
}

/// Return a pending request to the consumer for more information, with the message it is
/// told. The provider agency's administrator or the operator.
#[utoipa::path(post, path = "/sharing-requests/{id}/return", tag = "sharing-requests",
    request_body = ReasonBody, params(("id" = i64, Path, description = "Sharing request id")),
    responses((status = 200, body = RequestDetail), (status = 403, body = ProblemDoc),
        (status = 404, body = ProblemDoc),
        (status = 409, body = ProblemDoc, description = "`invalid_transition`"),
        (status = 422, body = ProblemDoc, description = "`invalid_body`: no message")))]
async fn return_request(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<ReasonBody>,
) -> Result<axum::Json<RequestDetail>, ApiError> {
    Ok(axum::Json(
        return_request_with(&state, &caller, id, &body.reason).await?,
    ))
}

/// Returns request `id` with `message`: what the API and the console both do.
pub async fn return_request_with(
    state: &AppState,
    caller: &Caller,
    id: i64,
    message: &Text,
) -> Result<RequestDetail, ApiError> {
    let step = RequestStep::Return;
    let taken = for_step(state, caller, id, step).await?;
    record(state, caller, taken, step, StepChange::Return { message }).await
}

/// Resubmit a returned request with amended terms (the same target). An administrator of the
/// consumer agency.
#[utoipa::path(post, path = "/sharing-requests/{id}/resubmit", tag = "sharing-requests",
    request_body = RequestBody, params(("id" = i64, Path, description = "Sharing request id")),
    responses((status = 200, body = RequestDetail), (status = 403, body = ProblemDoc),
        (status = 404, body = ProblemDoc),
        (status = 409, body = ProblemDoc, description = "`invalid_transition`, `target_unavailable`"),
        (status = 422, body = ProblemDoc, description = "`invalid_body`, `field_not_shared`, `missing_reference`")))]
async fn resubmit(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<RequestBody>,
) -> Result<axum::Json<RequestDetail>, ApiError> {
    Ok(axum::Json(
        resubmit_request(&state, &caller, id, body).await?,
    ))
}

/// Resubmits returned request `id` with the terms of `body`: what the API and the console
/// both do.
pub async fn resubmit_request(
    state: &AppState,
    caller: &Caller,
    id: i64,
    body: RequestBody,
) -> Result<RequestDetail, ApiError> {
    let step = RequestStep::Resubmit;
    let taken = for_step(state, caller, id, step).await?;
    let (terms, _) = terms_of(state, taken.0.consumer.clone(), body).await?;
    if terms.target != taken.0.target {
        return Err(invalid(
            "target: a request's target does not change; withdraw it and submit a new one",
        ));
    }
    record(
        state,
        caller,
        taken,
        step,
        StepChange::Amend {
            terms: &terms,
            respond_by: respond_by(&state.settings, lgsp_store::now()),
        },
    )
    .await
}

/// A refusal as typed: both parts are checked by [`Refusal::new`], so that a missing one is
/// `refusal_reason_required` rather than a generic body error.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefuseBody {
    /// Why the request is refused; required.
    #[serde(default)]
    pub reason: Option<String>,
    /// The legal basis of the refusal; required.
    #[serde(default)]
    pub legal_basis: Option<String>,
}

/// Refuse a pending request (Q15.1.a): only with a reason and its legal basis
/// (`refusal_reason_required`), both shown to the consumer. The provider agency's
/// administrator or the operator.
#[utoipa::path(post, path = "/sharing-requests/{id}/refuse", tag = "sharing-requests",
    request_body = RefuseBody, params(("id" = i64, Path, description = "Sharing request id")),
    responses((status = 200, body = RequestDetail), (status = 403, body = ProblemDoc),
        (status = 404, body = ProblemDoc),
        (status = 409, body = ProblemDoc, description = "`invalid_transition`"),
        (status = 422, body = ProblemDoc, description = "`refusal_reason_required`")))]
async fn refuse(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<RefuseBody>,
) -> Result<axum::Json<RequestDetail>, ApiError> {
    Ok(axum::Json(refuse_request(&state, &caller, id, body).await?))
}

/// Refuses request `id` if `body` has a reason and a legal basis: what the API and the console
/// both do.
pub async fn refuse_request(
    state: &AppState,
    caller: &Caller,
    id: i64,
    body: RefuseBody,
) -> Result<RequestDetail, ApiError> {
    let step = RequestStep::Refuse;
    let taken = for_step(state, caller, id, step).await?;
    let refusal = Refusal::new(body.reason.as_deref(), body.legal_basis.as_deref())
        .map_err(|e| ApiError::new(ErrorCode::RefusalReasonRequired).detail(e.to_string()))?;
    // Every refusal goes to the body that resolves disputes (Decree 47/2020 art. 48).
    let dispute = crate::tickets::dispute_on_refusal(state, &taken.0, &refusal)?;
    let change = StepChange::Refuse {
        refusal: &refusal,
        dispute: &dispute,
    };
    let refused = record(state, caller, taken, step, change).await?;
    crate::tickets::announce_dispute(state, &refused.request).await;
    Ok(refused)
}

/// Withdraw a request not decided yet (pending or returned). An administrator of the consumer
/// agency.
#[utoipa::path(post, path = "/sharing-requests/{id}/withdraw", tag = "sharing-requests",
    params(("id" = i64, Path, description = "Sharing request id")),
    responses((status = 200, body = RequestDetail), (status = 403, body = ProblemDoc),
        (status = 404, body = ProblemDoc),
        (status = 409, body = ProblemDoc, description = "`invalid_transition`")))]
async fn withdraw(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<axum::Json<RequestDetail>, ApiError> {
    Ok(axum::Json(withdraw_request(&state, &caller, id).await?))
}

/// Withdraws request `id`: what the API and the console both do.
pub async fn withdraw_request(
    state: &AppState,
    caller: &Caller,
    id: i64,
) -> Result<RequestDetail, ApiError> {
    let step = RequestStep::Withdraw;
    let taken = for_step(state, caller, id, step).await?;
    record(state, caller, taken, step, StepChange::None).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use lgsp_core::catalog::DatasetId;
    use lgsp_store::GrantOn;

    fn dataset(mode: SharingMode) -> Resolved {
        Resolved {
            on: GrantOn::Dataset(DatasetId::parse("so-hoa-ho-tich").unwrap()),
            provider: AgencyCode::parse("000.00.03.H35").unwrap(),
            sharing_mode: mode,
            service: None,
            dataset_fields: vec![("so".into(), false), ("ho_ten".into(), true)],
            access_level: Some(lgsp_core::catalog::AccessLevel::Personal),
        }
    }

    fn fields(names: &[&str]) -> GrantFields {
        GrantFields::new(names.iter().map(|n| n.to_string()).collect()).unwrap()
    }

    #[test]
    fn q13_1_only_non_personal_fields_of_default_resources_are_granted_at_once() {
        assert!(granted_by_default(
            &dataset(SharingMode::Default),
            &fields(&["so"])
        ));
        assert!(!granted_by_default(
            &dataset(SharingMode::Default),
            &fields(&["so", "ho_ten"])
        ));
        assert!(!granted_by_default(
            &dataset(SharingMode::OnRequest),
            &fields(&["so"])
        ));
    }
}
