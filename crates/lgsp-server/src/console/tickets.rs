//! The console's tickets (Q15.2.g, Q16.1.b, Q22.2, Q23): the list with deadlines and overdue
//! flags, a form to open one, and each ticket's thread with its documents and the steps the
//! person may take.

use askama::Template;
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use lgsp_core::catalog::DatasetId;
use lgsp_core::ticket::{standing, take_step, TicketKind, TicketStep};
use lgsp_core::{Actor, AgencyCode, Role, Text};
use lgsp_store::{Attachment, Ticket};
use serde::Deserialize;

use super::problem_page;
use crate::app::AppState;
use crate::attachments::{read_upload, MULTIPART_OVERHEAD};
use crate::auth::Caller;
use crate::error::{ApiError, ErrorCode};
use crate::extract::{Form, Path, Query};
use crate::portal::to_login;
use crate::portal::view::{date_time_vi, date_vi, render, Shell};
use crate::tickets::{self, due_day, OpenBody};

pub fn routes(max_upload_bytes: usize) -> Router<AppState> {
    Router::new()
        .route("/console/tickets", get(list).post(open))
        .route("/console/tickets/new", get(new_form))
        .route("/console/tickets/{id}", get(show))
        .route("/console/tickets/{id}/step", post(step))
        .route(
            "/console/tickets/{id}/attachments",
            post(upload).layer(DefaultBodyLimit::max(max_upload_bytes + MULTIPART_OVERHEAD)),
        )
}

/// A ticket as the list and the detail show it.
struct TicketRow {
    id: i64,
    kind: &'static str,
    subject: String,
    opener: String,
    assignee: String,
    about: Vec<String>,
    state: &'static str,
    state_class: &'static str,
    due: String,
    overdue: bool,
    escalated: Option<String>,
    created: String,
}

impl From<&Ticket> for TicketRow {
    fn from(t: &Ticket) -> Self {
        let mut about = Vec::new();
        if let Some(id) = t.about.sharing_request_id {
            about.push(format!("Yêu cầu chia sẻ số {id}"));
        }
        if let Some(id) = t.about.grant_id {
            about.push(format!("Quyền khai thác số {id}"));
        }
        if let Some(id) = t.about.service_id {
            about.push(format!("Dịch vụ số {id}"));
        }
        if let Some(id) = &t.about.dataset_id {
            about.push(format!("Bộ dữ liệu {id}"));
        }
        let mut assignee = match &t.assignee {
            Some(agency) => format!("Cơ quan {agency}"),
            None => "Sở Thông tin và Truyền thông".to_owned(),
        };
        if let Some(counterparty) = &t.counterparty {
            assignee.push_str(&format!(" (bên liên quan: cơ quan {counterparty})"));
        }
        Self {
            id: t.id,
            kind: t.kind.label_vi(),
            subject: t.subject.to_string(),
            opener: match &t.opener_agency {
                Some(agency) => format!("Cơ quan {agency}"),
                None => format!("Người dân ({})", t.opened_by),
            },
            assignee,
            about,
            state: t.state.label_vi(),
            state_class: t.state.as_str(),
            due: date_vi(due_day(t)),
            overdue: t.overdue,
            escalated: t.escalated_at.map(date_vi),
            created: date_vi(t.created_at),
        }
    }
}

#[derive(Template)]
#[template(path = "console/tickets.html")]
struct TicketsPage {
    shell: Shell,
    tickets: Vec<TicketRow>,
}

/// The sign-in page for visitors, `None` for signed-in people.
fn signed_out(caller: &Caller) -> Option<Response> {
    (caller.actor == Actor::Anonymous || caller.user.is_none()).then(to_login)
}

async fn list(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    if let Some(response) = signed_out(&caller) {
        return Ok(response);
    }
    let rows = tickets::visible(&state, &caller)
        .await?
        .iter()
        .map(TicketRow::from)
        .collect();
    Ok(render(
        StatusCode::OK,
        &TicketsPage {
            shell: Shell::new(&state.platform_name(), &caller),
            tickets: rows,
        },
    ))
}

struct Choice {
    value: String,
    label: String,
    selected: bool,
}

#[derive(Template)]
#[template(path = "console/ticket_new.html")]
struct NewTicketPage {
    shell: Shell,
    kinds: Vec<Choice>,
    assignees: Vec<Choice>,
    sharing_request: String,
    citizen: bool,
}

#[derive(Deserialize)]
struct NewQuery {
    #[serde(default)]
    sharing_request: Option<i64>,
    #[serde(default)]
    kind: Option<String>,
}

async fn new_form(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<NewQuery>,
) -> Result<Response, ApiError> {
    if let Some(response) = signed_out(&caller) {
        return Ok(response);
    }
    let role = caller.user.as_ref().map(|u| u.assignment.role());
    let citizen = role == Some(Role::Citizen);
    let own = caller
        .user
        .as_ref()
        .and_then(|u| u.assignment.agency().cloned());
    let kinds = TicketKind::ALL
        .into_iter()
        .filter(|k| !citizen || *k == TicketKind::DataUse)
        .map(|k| Choice {
            value: k.as_str().into(),
            label: k.label_vi().into(),
            selected: query.kind.as_deref() == Some(k.as_str()),
        })
        .collect();
    let mut assignees = Vec::new();
    if role != Some(Role::Operator) {
        assignees.push(Choice {
            value: String::new(),
            label: "Sở Thông tin và Truyền thông (đơn vị vận hành)".into(),
            selected: true,
        });
    }
    for agency in state.store.list_agencies().await? {
        if Some(&agency.code) != own.as_ref() {
            assignees.push(Choice {
                value: agency.code.to_string(),
                label: format!("{} ({})", agency.name, agency.code),
                selected: false,
            });
        }
    }
    Ok(render(
        StatusCode::OK,
        &NewTicketPage {
            shell: Shell::new(&state.platform_name(), &caller),
            kinds,
            assignees,
            sharing_request: query
                .sharing_request
                .map(|id| id.to_string())
                .unwrap_or_default(),
            citizen,
        },
    ))
}

#[derive(Deserialize)]
struct OpenForm {
    csrf: String,
    kind: String,
    subject: String,
    body: String,
    #[serde(default)]
    assignee: String,
    #[serde(default)]
    sharing_request: String,
    #[serde(default)]
    grant: String,
    #[serde(default)]
    service: String,
    #[serde(default)]
    dataset: String,
}

fn invalid(detail: String) -> ApiError {
    ApiError::new(ErrorCode::InvalidBody).detail(detail)
}

/// An optional number typed in a form.
fn number(value: &str, name: &str) -> Result<Option<i64>, ApiError> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    value
        .parse()
        .map(Some)
        .map_err(|_| invalid(format!("{name}: `{value}` is not a number")))
}

impl OpenForm {
    fn body(&self) -> Result<OpenBody, ApiError> {
        let text = |value: &str, name: &str| {
            Text::parse(value).map_err(|e| invalid(format!("{name}: {e}")))
        };
        let assignee = self.assignee.trim();
        let dataset = self.dataset.trim();
        Ok(OpenBody {
            kind: TicketKind::parse(&self.kind).map_err(|e| invalid(format!("kind: {e}")))?,
            subject: text(&self.subject, "subject")?,
            body: text(&self.body, "body")?,
            assignee: (!assignee.is_empty())
                .then(|| AgencyCode::parse(assignee))
                .transpose()
                .map_err(|e| invalid(format!("assignee: {e}")))?,
            grant_id: number(&self.grant, "grant")?,
            sharing_request_id: number(&self.sharing_request, "sharing_request")?,
            service_id: number(&self.service, "service")?,
            dataset_id: (!dataset.is_empty())
                .then(|| DatasetId::parse(dataset))
                .transpose()
                .map_err(|e| invalid(format!("dataset: {e}")))?,
        })
    }
}

/// Answers a console action: on to `next` when done, the problem page (back to `back`) when
/// refused.
fn answer<T>(
    state: &AppState,
    caller: &Caller,
    outcome: Result<T, ApiError>,
    next: impl FnOnce(T) -> String,
    back: String,
) -> Result<Response, ApiError> {
    match outcome {
        Ok(done) => Ok(Redirect::to(&next(done)).into_response()),
        Err(error) if !error.code().status().is_server_error() => {
            Ok(problem_page(state, caller, &error, back))
        }
        Err(error) => Err(error),
    }
}

async fn open(
    State(state): State<AppState>,
    caller: Caller,
    Form(form): Form<OpenForm>,
) -> Result<Response, ApiError> {
    if caller.web_session.is_none() {
        return Ok(to_login());
    }
    caller.check_csrf(Some(&form.csrf))?;
    let outcome = match form.body() {
        Ok(body) => tickets::open_ticket(&state, &caller, body).await,
        Err(error) => Err(error),
    };
    answer(
        &state,
        &caller,
        outcome,
        |d| format!("/console/tickets/{}", d.ticket.id),
        "/console/tickets/new".into(),
    )
}

struct ThreadRow {
    at: String,
    actor: String,
    step: &'static str,
    message: Option<String>,
}

struct AttachmentRow {
    href: String,
    filename: String,
    size: String,
    by: String,
    at: String,
}

impl AttachmentRow {
    fn new(base: &str, a: &Attachment) -> Self {
        Self {
            href: format!("{base}/attachments/{}", a.id),
            filename: a.filename.clone(),
            size: size_vi(a.size),
            by: a.uploaded_by.clone(),
            at: date_time_vi(a.created_at),
        }
    }
}

/// A file size for people: bytes, kB or MB with a decimal comma.
pub fn size_vi(bytes: i64) -> String {
    if bytes < 1024 {
        format!("{bytes} byte")
    } else if bytes < 1024 * 1024 {
        format!("{} kB", (bytes + 512) / 1024)
    } else {
        format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0)).replace('.', ",")
    }
}

/// A step the person may take, as a button.
struct StepButton {
    step: &'static str,
    label: &'static str,
    needs_message: bool,
}

#[derive(Template)]
#[template(path = "console/ticket.html")]
struct TicketPage {
    shell: Shell,
    t: TicketRow,
    body: String,
    thread: Vec<ThreadRow>,
    attachments: Vec<AttachmentRow>,
    may_comment: bool,
    steps: Vec<StepButton>,
}

async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    if let Some(response) = signed_out(&caller) {
        return Ok(response);
    }
    let detail = match tickets::readable_detail(&state, &caller, id).await {
        Ok(detail) => detail,
        Err(error) if error.code() == ErrorCode::ResourceNotFound => {
            return Ok(crate::portal::not_found_page(&state, &caller))
        }
        Err(error) if error.code() == ErrorCode::Forbidden => {
            return Ok(super::forbidden(&state, &caller))
        }
        Err(error) => return Err(error),
    };
    let ticket = &detail.ticket;
    let stands = standing(&caller.actor, &ticket.parties());
    let may = |step| take_step(stands, &ticket.parties(), ticket.state, step).is_ok();
    let steps = [
        TicketStep::Start,
        TicketStep::Resolve,
        TicketStep::Escalate,
        TicketStep::Reopen,
        TicketStep::Close,
    ]
    .into_iter()
    .filter(|s| may(*s))
    .map(|s| StepButton {
        step: s.as_str(),
        label: s.label_vi(),
        needs_message: s.needs_message(),
    })
    .collect();
    let base = format!("/api/v1/tickets/{id}");
    Ok(render(
        StatusCode::OK,
        &TicketPage {
            shell: Shell::new(&state.platform_name(), &caller),
            t: TicketRow::from(ticket),
            body: ticket.body.to_string(),
            thread: detail
                .thread
                .iter()
                .map(|e| ThreadRow {
                    at: date_time_vi(e.at),
                    actor: e.actor.clone(),
                    step: e.step.label_vi(),
                    message: e.message.clone(),
                })
                .collect(),
            attachments: detail
                .attachments
                .iter()
                .map(|a| AttachmentRow::new(&base, a))
                .collect(),
            may_comment: may(TicketStep::Comment),
            steps,
        },
    ))
}

#[derive(Deserialize)]
struct StepForm {
    csrf: String,
    step: String,
    #[serde(default)]
    message: String,
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
    let back = format!("/console/tickets/{id}");
    let outcome = match TicketStep::parse(&form.step) {
        Ok(TicketStep::Open) | Err(_) => {
            Err(ApiError::new(ErrorCode::InvalidRequest).detail("unknown step"))
        }
        Ok(step) => tickets::take(&state, &caller, id, step, Some(form.message)).await,
    };
    let next = back.clone();
    answer(&state, &caller, outcome, |_| next, back)
}

async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    multipart: Multipart,
) -> Result<Response, ApiError> {
    if caller.web_session.is_none() {
        return Ok(to_login());
    }
    let back = format!("/console/tickets/{id}");
    let read = read_upload(&state, &caller, multipart).await;
    let outcome =
        match read {
            Ok((file, fields)) => {
                let csrf = fields.iter().find(|(k, _)| k == "csrf").map(|(_, v)| v);
                caller.check_csrf(csrf.map(String::as_str))?;
                match file {
                    Some(file) => tickets::attach(&state, &caller, id, &file).await,
                    None => Err(ApiError::new(ErrorCode::InvalidAttachment)
                        .detail("choose a file to attach")),
                }
            }
            Err(error) => Err(error),
        };
    let next = back.clone();
    answer(&state, &caller, outcome, |_| next, back)
}
