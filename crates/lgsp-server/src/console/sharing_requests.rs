//! The console's sharing-requests page (Q13.1, Q15.1.a, Q16.1): the requests the person's agency
//! sent and those addressed to it, with the steps the person may take — approve as asked,
//! return for more information, refuse with a reason and a legal basis, withdraw.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use lgsp_core::sharing_request::{take_step, RequestStep};
use lgsp_core::{Actor, Resource, Text};
use lgsp_store::{RequestTarget, SharingRequest};
use serde::Deserialize;

use super::problem_page;
use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorCode};
use crate::extract::{Form, Path};
use crate::portal::to_login;
use crate::portal::view::{date_vi, render, Shell};
use crate::sharing_requests::{self as requests, ApproveBody, RefuseBody};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console/sharing-requests", get(list))
        .route("/console/sharing-requests/{id}/step", post(step))
}

struct RequestRow {
    id: i64,
    consumer: String,
    provider: String,
    target: String,
    fields: String,
    purpose: String,
    legal_basis: String,
    expected_volume: String,
    valid_until: String,
    state: &'static str,
    state_class: &'static str,
    decision_reason: Option<String>,
    refusal_legal_basis: Option<String>,
    /// The last day of the answer period, while pending.
    respond_by: Option<String>,
    overdue: bool,
    escalated: bool,
    may_decide: bool,
    may_withdraw: bool,
}

impl RequestRow {
    fn new(request: &SharingRequest, actor: &Actor) -> Self {
        let may = |step| {
            take_step(
                actor,
                &request.consumer,
                &request.provider,
                Some(request.state),
                step,
            )
            .is_ok()
        };
        Self {
            id: request.id,
            consumer: format!(
                "{} ({})",
                request.consumer,
                request
                    .systems
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            provider: request.provider.to_string(),
            target: match &request.target {
                RequestTarget::Service { id } => format!("Dịch vụ số {id}"),
                RequestTarget::Dataset { id } => format!("Bộ dữ liệu {id}"),
            },
            fields: request.fields.as_slice().join(", "),
            purpose: format!(
                "{} — {}",
                request.purpose.code.as_str(),
                request.purpose.text
            ),
            legal_basis: request.legal_basis.to_string(),
            expected_volume: request.expected_volume.to_string(),
            valid_until: date_vi(request.valid_until),
            state: request.state.label_vi(),
            state_class: request.state.as_str(),
            decision_reason: request.decision_reason.clone(),
            refusal_legal_basis: request.refusal_legal_basis.clone(),
            respond_by: requests::last_day_vi(request),
            overdue: request.overdue,
            escalated: request.escalated_at.is_some(),
            may_decide: may(RequestStep::Approve),
            may_withdraw: may(RequestStep::Withdraw),
        }
    }
}

#[derive(Template)]
#[template(path = "console/sharing_requests.html")]
struct RequestsPage {
    shell: Shell,
    requests: Vec<RequestRow>,
}

async fn list(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    let agency = match super::caller_agency(&state, &caller) {
        Ok(agency) => agency,
        Err(page) => return Ok(*page),
    };
    let own = Resource::SharingRequest {
        provider: &agency,
        consumer: &agency,
    };
    if let Some(response) = super::refusal(&state, &caller, own) {
        return Ok(response);
    }
    let rows = requests::visible(&state, &caller, None)
        .await?
        .iter()
        .map(|r| RequestRow::new(r, &caller.actor))
        .collect();
    Ok(render(
        StatusCode::OK,
        &RequestsPage {
            shell: Shell::new(&state.platform_name(), &caller),
            requests: rows,
        },
    ))
}

#[derive(Deserialize)]
pub struct StepForm {
    csrf: String,
    step: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    legal_basis: String,
}

async fn step(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Form(form): Form<StepForm>,
) -> Result<Response, ApiError> {
    if caller.web_session.is_none() {
        return Ok(to_login());
    }
    caller.check_csrf(Some(&form.csrf))?;
    let back = "/console/sharing-requests".to_owned();
    let taken = match form.step.as_str() {
        "approve" => requests::approve_request(&state, &caller, id, ApproveBody::default()).await,
        "return" => match Text::parse(&form.reason) {
            Ok(message) => requests::return_request_with(&state, &caller, id, &message).await,
            Err(e) => Err(ApiError::new(ErrorCode::InvalidBody).detail(format!("reason: {e}"))),
        },
        "refuse" => {
            let body = RefuseBody {
                reason: Some(form.reason),
                legal_basis: Some(form.legal_basis),
            };
            requests::refuse_request(&state, &caller, id, body).await
        }
        "withdraw" => requests::withdraw_request(&state, &caller, id).await,
        _ => Err(ApiError::new(ErrorCode::InvalidRequest).detail("unknown step")),
    };
    match taken {
        Ok(_) => Ok(Redirect::to(&back).into_response()),
        Err(error) if !error.code().status().is_server_error() => {
            Ok(problem_page(&state, &caller, &error, back))
        }
        Err(error) => Err(error),
    }
}
