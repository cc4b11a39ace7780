//! The console's sharing-requests page (Q13.1, Q15.1.a, Q16.1): the requests the person's agency
//! sent and those addressed to it, with the steps the person may take — approve as asked,
//! return for more information, refuse with a reason and a legal basis, withdraw — and the form
//! with which an agency's administrator submits a request, with its documents. A refused
//! request links to the dispute its refusal opened.

use askama::Template;
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use lgsp_core::sharing_request::{take_step, RequestStep};
use lgsp_core::{Actor, Resource, Role, Text};
use lgsp_store::{RequestTarget, SharingRequest};
use serde::Deserialize;

use super::problem_page;
use crate::app::AppState;
use crate::attachments::{read_upload, FormFields, MULTIPART_OVERHEAD};
use crate::auth::Caller;
use crate::error::{ApiError, ErrorCode};
use crate::extract::{Form, Path};
use crate::portal::to_login;
use crate::portal::view::{render, Shell};
use crate::sharing_requests::attachments::{self as documents, ATTACHMENT_OWNER};
use crate::sharing_requests::{self as requests, ApproveBody, RefuseBody, RequestBody};

pub fn routes(max_upload_bytes: usize) -> Router<AppState> {
    let uploads = DefaultBodyLimit::max(max_upload_bytes + MULTIPART_OVERHEAD);
    Router::new()
        .route(
            "/console/sharing-requests",
            get(list).post(submit).layer(uploads),
        )
        .route("/console/sharing-requests/{id}/step", post(step))
        .route(
            "/console/sharing-requests/{id}/resubmit",
            post(resubmit).layer(uploads),
        )
        .route(
            "/console/sharing-requests/{id}/attachments",
            post(attach).layer(uploads),
        )
}

/// A document of a request, as a link.
struct DocumentRow {
    href: String,
    filename: String,
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
    /// Pending or returned, and the person is on either side (or the operator).
    may_attach: bool,
    documents: Vec<DocumentRow>,
    /// The dispute the refusal opened.
    dispute: Option<i64>,
    /// Returned, and the person administers the consumer agency: the amend form is shown,
    /// filled with the request's terms.
    may_resubmit: bool,
    amend: AmendForm,
}

/// A returned request's terms as the amend form's initial values.
struct AmendForm {
    /// `dataset:<id>` or `service:<number>`, as the submit form names a target.
    target: String,
    systems: Vec<String>,
    fields: String,
    purpose_code: String,
    purpose_text: String,
    legal_basis: String,
    expected_volume: String,
    /// The last day of access, `yyyy-mm-dd` for the date picker.
    last_day: String,
}

impl AmendForm {
    fn new(request: &SharingRequest) -> Self {
        Self {
            target: target_value(&request.target),
            systems: request.systems.iter().map(|s| s.to_string()).collect(),
            fields: request.fields.as_slice().join(", "),
            purpose_code: request.purpose.code.as_str().to_owned(),
            purpose_text: request.purpose.text.to_string(),
            legal_basis: request.legal_basis.to_string(),
            expected_volume: request.expected_volume.to_string(),
            last_day: last_day(request).format("%Y-%m-%d").to_string(),
        }
    }
}

/// The last day of access asked for: access ends at the start of the next day in Vietnam (see
/// `request_body`).
fn last_day(request: &SharingRequest) -> chrono::NaiveDate {
    (request.valid_until - chrono::Duration::seconds(1))
        .with_timezone(&lgsp_core::calendar::VIETNAM)
        .date_naive()
}

/// How the forms name a target: `dataset:<id>` or `service:<number>`.
fn target_value(target: &RequestTarget) -> String {
    match target {
        RequestTarget::Service { id } => format!("service:{id}"),
        RequestTarget::Dataset { id } => format!("dataset:{id}"),
    }
}

/// A dataset or service another agency shares, as a choice of the request form.
struct TargetChoice {
    value: String,
    label: String,
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
            valid_until: last_day(request).format("%d/%m/%Y").to_string(),
            state: request.state.label_vi(),
            state_class: request.state.as_str(),
            decision_reason: request.decision_reason.clone(),
            refusal_legal_basis: request.refusal_legal_basis.clone(),
            respond_by: requests::last_day_vi(request),
            overdue: request.overdue,
            escalated: request.escalated_at.is_some(),
            may_decide: may(RequestStep::Approve),
            may_withdraw: may(RequestStep::Withdraw),
            may_attach: may(RequestStep::Approve) || may(RequestStep::Withdraw),
            documents: Vec::new(),
            dispute: None,
            may_resubmit: may(RequestStep::Resubmit),
            amend: AmendForm::new(request),
        }
    }
}

#[derive(Template)]
#[template(path = "console/sharing_requests.html")]
struct RequestsPage {
    shell: Shell,
    requests: Vec<RequestRow>,
    /// The systems of the person's agency, when they may submit requests.
    systems: Vec<(String, String)>,
    /// What the agency may ask for: other agencies' published datasets and services.
    datasets: Vec<TargetChoice>,
    services: Vec<TargetChoice>,
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
    let mut rows = Vec::new();
    for request in requests::visible(&state, &caller, None).await? {
        let mut row = RequestRow::new(&request, &caller.actor);
        row.documents = state
            .store
            .attachments_of(ATTACHMENT_OWNER, request.id)
            .await?
            .into_iter()
            .map(|a| DocumentRow {
                href: format!(
                    "/api/v1/sharing-requests/{}/attachments/{}",
                    request.id, a.id
                ),
                filename: a.filename,
            })
            .collect();
        row.dispute = state
            .store
            .dispute_of_request(request.id)
            .await?
            .map(|t| t.id);
        rows.push(row);
    }
    let admin = caller
        .user
        .as_ref()
        .is_some_and(|u| u.assignment.role() == Role::AgencyAdmin);
    let (systems, datasets, services) = if admin {
        let systems = state
            .store
            .list_systems(Some(&agency))
            .await?
            .into_iter()
            .map(|s| (s.code.to_string(), s.name.to_string()))
            .collect();
        let (datasets, services) = target_choices(&state, &agency).await?;
        (systems, datasets, services)
    } else {
        Default::default()
    };
    Ok(render(
        StatusCode::OK,
        &RequestsPage {
            shell: Shell::new(&state.platform_name(), &caller),
            requests: rows,
            systems,
            datasets,
            services,
        },
    ))
}

/// The datasets in today's catalog and the published services of agencies other than `own`.
async fn target_choices(
    state: &AppState,
    own: &lgsp_core::AgencyCode,
) -> Result<(Vec<TargetChoice>, Vec<TargetChoice>), ApiError> {
    let catalog = crate::catalog::Snapshot::load(state, crate::catalog::today()).await?;
    let datasets = catalog
        .datasets
        .iter()
        .filter(|d| d.owner != own.as_str())
        .map(|d| TargetChoice {
            value: format!("dataset:{}", d.dataset.id),
            label: format!("{} — {}", d.dataset.title, d.owner_name),
        })
        .collect();
    let filter = lgsp_store::ServiceFilter {
        state: Some(lgsp_core::service::ServiceState::Published),
        ..Default::default()
    };
    let services = state
        .store
        .list_services(&filter)
        .await?
        .into_iter()
        .filter(|s| &s.provider.agency != own)
        .map(|s| TargetChoice {
            value: format!("service:{}", s.id),
            label: format!("{} (phiên bản {}) — {}", s.name, s.version, s.provider_name),
        })
        .collect();
    Ok((datasets, services))
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

/// The form's text fields as the API's request body: one system per checked box, fields
/// separated by commas or line breaks, the end date (`yyyy-mm-dd` from the date picker) as the
/// end of that day in Vietnam.
fn request_body(fields: &FormFields) -> Result<RequestBody, ApiError> {
    let one = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default()
    };
    let invalid = |detail: String| ApiError::new(ErrorCode::InvalidBody).detail(detail);
    let target = match one("target").split_once(':') {
        Some(("service", id)) => serde_json::json!({"kind": "service", "id": id.parse::<i64>()
            .map_err(|_| invalid("target: a service is named by its number".into()))?}),
        Some(("dataset", id)) => serde_json::json!({"kind": "dataset", "id": id}),
        _ => return Err(invalid("target: choose a dataset or a service".into())),
    };
    let systems: Vec<&str> = fields
        .iter()
        .filter(|(k, _)| k == "systems")
        .map(|(_, v)| v.trim())
        .collect();
    let asked = one("fields");
    let wanted: Vec<&str> = asked
        .split([',', '\n'])
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .collect();
    let until = chrono::NaiveDate::parse_from_str(&one("valid_until"), "%Y-%m-%d")
        .map_err(|_| invalid("valid_until: choose the date access ends".into()))?;
    let until = until
        .succ_opt()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .and_then(|d| d.and_local_timezone(lgsp_core::calendar::VIETNAM).single())
        .ok_or_else(|| invalid("valid_until: out of range".into()))?
        .to_utc();
    let body = serde_json::json!({
        "target": target,
        "systems": systems,
        "fields": wanted,
        "purpose": {"code": one("purpose_code"), "text": one("purpose_text")},
        "legal_basis": one("legal_basis"),
        "expected_volume": one("expected_volume"),
        "valid_until": until,
    });
    serde_json::from_value(body).map_err(|e| invalid(e.to_string()))
}

/// Submits a request from the console, then attaches the chosen document, if any.
async fn submit(
    State(state): State<AppState>,
    caller: Caller,
    multipart: Multipart,
) -> Result<Response, ApiError> {
    if caller.web_session.is_none() {
        return Ok(to_login());
    }
    let back = "/console/sharing-requests".to_owned();
    let outcome = match read_upload(&state, &caller, multipart).await {
        Ok((file, fields)) => {
            let csrf = fields.iter().find(|(k, _)| k == "csrf").map(|(_, v)| v);
            caller.check_csrf(csrf.map(String::as_str))?;
            match request_body(&fields) {
                Ok(body) => match requests::submit_request(&state, &caller, body).await {
                    Ok(detail) => match file {
                        Some(file) => documents::attach(&state, &caller, detail.request.id, &file)
                            .await
                            .map(drop),
                        None => Ok(()),
                    },
                    Err(error) => Err(error),
                },
                Err(error) => Err(error),
            }
        }
        Err(error) => Err(error),
    };
    match outcome {
        Ok(()) => Ok(Redirect::to(&back).into_response()),
        Err(error) if !error.code().status().is_server_error() => {
            Ok(problem_page(&state, &caller, &error, back))
        }
        Err(error) => Err(error),
    }
}

/// Resubmits a returned request with the amended terms from the console, then attaches the
/// chosen document, if any.
async fn resubmit(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    multipart: Multipart,
) -> Result<Response, ApiError> {
    if caller.web_session.is_none() {
        return Ok(to_login());
    }
    let back = "/console/sharing-requests".to_owned();
    let outcome = async {
        let (file, fields) = read_upload(&state, &caller, multipart).await?;
        let csrf = fields.iter().find(|(k, _)| k == "csrf").map(|(_, v)| v);
        caller.check_csrf(csrf.map(String::as_str))?;
        let body = request_body(&fields)?;
        requests::resubmit_request(&state, &caller, id, body).await?;
        if let Some(file) = file {
            documents::attach(&state, &caller, id, &file).await?;
        }
        Ok::<(), ApiError>(())
    }
    .await;
    match outcome {
        Ok(()) => Ok(Redirect::to(&back).into_response()),
        Err(error) if !error.code().status().is_server_error() => {
            Ok(problem_page(&state, &caller, &error, back))
        }
        Err(error) => Err(error),
    }
}

/// Attaches a document to a pending or returned request from the console.
async fn attach(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    multipart: Multipart,
) -> Result<Response, ApiError> {
    if caller.web_session.is_none() {
        return Ok(to_login());
    }
    let back = "/console/sharing-requests".to_owned();
    let outcome =
        match read_upload(&state, &caller, multipart).await {
            Ok((file, fields)) => {
                let csrf = fields.iter().find(|(k, _)| k == "csrf").map(|(_, v)| v);
                caller.check_csrf(csrf.map(String::as_str))?;
                match file {
                    Some(file) => documents::attach(&state, &caller, id, &file)
                        .await
                        .map(drop),
                    None => Err(ApiError::new(ErrorCode::InvalidAttachment)
                        .detail("choose a file to attach")),
                }
            }
            Err(error) => Err(error),
        };
    match outcome {
        Ok(()) => Ok(Redirect::to(&back).into_response()),
        Err(error) if !error.code().status().is_server_error() => {
            Ok(problem_page(&state, &caller, &error, back))
        }
        Err(error) => Err(error),
    }
}
