//! `/api/v1/tickets`: problems, disputes, data-use questions and proposals to simplify
//! procedures raised between consumers, providers and the operator (Q15.2.g, Q16.1.b, Q17.4,
//! Q22.2, Q23), with a thread, attachments, a response deadline in working days
//! (`request_response_working_days`, skipping weekends and `holidays`) and escalation to the
//! operator — by the opener, or by the platform once the deadline passed. Every refusal of a
//! sharing request opens a dispute with the operator (Decree 47/2020 art. 48; [`dispute_on_refusal`]).
//!
//! Steps taken over HTTP are on the transparency log through `transparency::record_actions`;
//! the steps the platform takes by itself (automatic escalation) append their own leaf.

use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::header::LOCATION;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use lgsp_core::catalog::DatasetId;
use lgsp_core::sharing_request::Refusal;
use lgsp_core::ticket::{
    standing, take_step, TicketKind, TicketState, TicketStep, TicketStepError,
};
use lgsp_core::{AgencyCode, Role, Text};
use lgsp_store::{
    Attachment, NewTicket, SharingRequest, StoreError, Ticket, TicketAbout, TicketChange,
    TicketEvent, TicketMove,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::AppState;
use crate::attachments::{self, MULTIPART_OVERHEAD};
use crate::auth::Caller;
use crate::catalog::{today, Snapshot};
use crate::error::{ApiError, ErrorCode, ProblemDoc};
use crate::extract::{Json, Path, Query};

/// The owner kind of a ticket's attachments.
pub const ATTACHMENT_OWNER: &str = "ticket";

/// Who escalates a ticket whose deadline passed, in its thread.
pub const OVERDUE: &str = crate::sharing_requests::DEADLINE_ACTOR;

/// Who opens the dispute a refusal leads to, in its thread.
pub const ON_REFUSAL: &str = "lgsp:tu-choi-yeu-cau";

pub fn routes(max_upload_bytes: usize) -> OpenApiRouter<AppState> {
    let uploads = OpenApiRouter::new()
        .routes(routes!(upload))
        .layer(DefaultBodyLimit::max(max_upload_bytes + MULTIPART_OVERHEAD));
    OpenApiRouter::new()
        .merge(uploads)
        .routes(routes!(list_tickets, open))
        .routes(routes!(get_ticket))
        .routes(routes!(comment))
        .routes(routes!(start))
        .routes(routes!(resolve))
        .routes(routes!(reopen))
        .routes(routes!(close))
        .routes(routes!(escalate))
        .routes(routes!(download))
}

fn step_error(error: TicketStepError) -> ApiError {
    match error {
        TicketStepError::WrongRole(_) => {
            ApiError::new(ErrorCode::Forbidden).detail(error.to_string())
        }
        TicketStepError::WrongState { .. } => {
            ApiError::new(ErrorCode::InvalidTransition).detail(error.to_string())
        }
    }
}

fn invalid(detail: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::InvalidBody).detail(detail)
}

fn missing(detail: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::MissingReference).detail(detail)
}

/// What the opener writes.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenBody {
    pub kind: TicketKind,
    /// A short title.
    #[schema(value_type = String)]
    pub subject: Text,
    /// The problem, dispute or proposal in full.
    #[schema(value_type = String)]
    pub body: Text,
    /// The agency that answers (a provider); absent for the operator.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub assignee: Option<AgencyCode>,
    #[serde(default)]
    pub grant_id: Option<i64>,
    #[serde(default)]
    pub sharing_request_id: Option<i64>,
    #[serde(default)]
    pub service_id: Option<i64>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub dataset_id: Option<DatasetId>,
}

/// A ticket with its thread and its attachments.
#[derive(Debug, Serialize, ToSchema)]
pub struct TicketDetail {
    #[serde(flatten)]
    pub ticket: Ticket,
    pub thread: Vec<TicketEvent>,
    pub attachments: Vec<Attachment>,
}

/// A message with a step: required for comments, answers, reopening and escalation.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageBody {
    #[serde(default)]
    pub message: Option<String>,
}

/// The response deadline of something received now.
fn deadline(state: &AppState) -> chrono::DateTime<Utc> {
    state
        .settings
        .calendar()
        .deadline(Utc::now(), state.settings.request_response_working_days)
}

/// Checks that what a ticket is about exists; a sharing request must be one the opener's agency
/// takes part in.
async fn check_about(
    state: &AppState,
    opener: Option<&AgencyCode>,
    body: &OpenBody,
) -> Result<TicketAbout, ApiError> {
    let exists = |result: Result<(), StoreError>, what: String| match result {
        Ok(()) => Ok(()),
        Err(StoreError::NotFound(_)) => Err(missing(format!("{what} does not exist"))),
        Err(other) => Err(ApiError::from(other)),
    };
    if let Some(id) = body.grant_id {
        exists(
            state.store.get_grant(id).await.map(drop),
            format!("grant {id}"),
        )?;
    }
    if let Some(id) = body.sharing_request_id {
        match state.store.get_sharing_request(id).await {
            Ok(request) => {
                if opener.is_some_and(|a| *a != request.consumer && *a != request.provider) {
                    return Err(ApiError::new(ErrorCode::Forbidden).detail(format!(
                        "your agency is not a party to sharing request {id}"
                    )));
                }
            }
            Err(error) => exists(Err(error), format!("sharing request {id}"))?,
        }
    }
    if let Some(id) = body.service_id {
        exists(
            state.store.get_service(id).await.map(drop),
            format!("service {id}"),
        )?;
    }
    if let Some(id) = &body.dataset_id {
        let snapshot = Snapshot::load(state, today()).await?;
        if snapshot.dataset(id.as_str()).is_none() {
            return Err(missing(format!("dataset {id} is not in the catalog")));
        }
    }
    Ok(TicketAbout {
        grant_id: body.grant_id,
        sharing_request_id: body.sharing_request_id,
        service_id: body.service_id,
        dataset_id: body.dataset_id.as_ref().map(|d| d.as_str().to_owned()),
    })
}

/// Opens a ticket for `caller`: what the API and the console both do.
pub async fn open_ticket(
    state: &AppState,
    caller: &Caller,
    body: OpenBody,
) -> Result<TicketDetail, ApiError> {
    caller.require_person()?;
    let user = caller
        .user
        .as_ref()
        .ok_or_else(|| ApiError::new(ErrorCode::Forbidden))?;
    let opener_agency = match user.assignment.role() {
        Role::AgencyAdmin | Role::Operator => user.assignment.agency().cloned(),
        Role::Citizen if body.kind == TicketKind::DataUse => None,
        Role::Citizen => {
            return Err(ApiError::new(ErrorCode::Forbidden)
                .detail("citizens raise problems with the use of data (`data_use`) only"))
        }
        Role::Approver | Role::Auditor => {
            return Err(ApiError::new(ErrorCode::Forbidden)
                .detail("agency administrators, the operator and citizens open tickets"))
        }
    };
    if let Some(assignee) = &body.assignee {
        if opener_agency.as_ref() == Some(assignee) {
            return Err(invalid(
                "assignee: a ticket goes to another agency or the operator",
            ));
        }
        match state.store.get_agency(assignee).await {
            Ok(_) => {}
            Err(StoreError::NotFound(_)) => {
                return Err(missing(format!("agency {assignee} is not registered")))
            }
            Err(other) => return Err(other.into()),
        }
    } else if user.assignment.role() == Role::Operator {
        return Err(invalid(
            "assignee: the operator raises tickets with an agency; name it",
        ));
    }
    let about = check_about(state, opener_agency.as_ref(), &body).await?;
    let new = NewTicket {
        kind: body.kind,
        subject: body.subject,
        body: body.body,
        opener_agency,
        opened_by: caller.name(),
        assignee: body.assignee,
        counterparty: None,
        about,
        due_at: deadline(state),
    };
    let ticket = state.store.insert_ticket(&new).await.map_err(|e| match e {
        StoreError::Conflict(message) => ApiError::new(ErrorCode::Conflict).detail(message),
        other => other.into(),
    })?;
    tracing::info!(ticket = ticket.id, by = %caller.name(), "ticket opened");
    notify_answerer(
        state,
        &ticket,
        &format!("Phiếu số {} mới: {}", ticket.id, ticket.subject),
        &format!(
            "{} gửi phiếu «{}» ({}). Hạn trả lời: {}.",
            who(&ticket),
            ticket.subject,
            ticket.kind.label_vi(),
            crate::portal::view::date_vi(due_day(&ticket))
        ),
    )
    .await?;
    detail(state, ticket).await
}

/// The last day of the deadline, for people: `due_at` is the midnight that ends it.
pub fn due_day(ticket: &Ticket) -> chrono::DateTime<Utc> {
    ticket.due_at - chrono::Duration::seconds(1)
}

fn who(ticket: &Ticket) -> String {
    match &ticket.opener_agency {
        Some(agency) => format!("Cơ quan {agency}"),
        None => format!("Người dân ({})", ticket.opened_by),
    }
}

fn link(ticket: &Ticket) -> String {
    format!("/console/tickets/{}", ticket.id)
}

/// Notifies whoever answers: the assignee agency's administrators and, when the operator
/// answers or the ticket was escalated, the operators.
async fn notify_answerer(
    state: &AppState,
    ticket: &Ticket,
    subject: &str,
    body: &str,
) -> Result<(), ApiError> {
    let link = link(ticket);
    if let Some(agency) = &ticket.assignee {
        state
            .store
            .notify(Role::AgencyAdmin, Some(agency), subject, body, Some(&link))
            .await?;
    }
    if ticket.assignee.is_none() || ticket.escalated_at.is_some() {
        state
            .store
            .notify(Role::Operator, None, subject, body, Some(&link))
            .await?;
    }
    Ok(())
}

/// Notifies the opener's agency (or the citizen who opened it) and the other side of a
/// dispute.
async fn notify_opener(
    state: &AppState,
    ticket: &Ticket,
    subject: &str,
    body: &str,
) -> Result<(), ApiError> {
    let link = link(ticket);
    if ticket.opener_agency.is_none() {
        state
            .store
            .notify_person(&ticket.opened_by, subject, body, Some(&link))
            .await?;
    }
    for agency in [&ticket.opener_agency, &ticket.counterparty]
        .into_iter()
        .flatten()
    {
        state
            .store
            .notify(Role::AgencyAdmin, Some(agency), subject, body, Some(&link))
            .await?;
    }
    Ok(())
}

/// The dispute a refusal of `request` opens (Decree 47/2020 art. 48), stored with the refusal
/// in one transaction: the consumer agency is the opener and pursues it, the operator resolves
/// it, the provider takes part.
pub fn dispute_on_refusal(
    state: &AppState,
    request: &SharingRequest,
    refusal: &Refusal,
) -> Result<NewTicket, ApiError> {
    let text = |s: String| Text::parse(s).map_err(ApiError::internal);
    Ok(NewTicket {
        kind: TicketKind::Dispute,
        subject: text(format!("Yêu cầu chia sẻ số {} bị từ chối", request.id))?,
        body: text(format!(
            "Cơ quan {} đã từ chối yêu cầu chia sẻ dữ liệu số {} của cơ quan {}. Lý do: {}. \
             Căn cứ pháp lý: {}. Cơ quan khai thác có thể trao đổi, bổ sung tài liệu; Sở \
             Thông tin và Truyền thông xem xét, giải quyết (Điều 48 Nghị định 47/2020/NĐ-CP).",
            request.provider, request.id, request.consumer, refusal.reason, refusal.legal_basis
        ))?,
        opener_agency: Some(request.consumer.clone()),
        opened_by: ON_REFUSAL.to_owned(),
        assignee: None,
        counterparty: Some(request.provider.clone()),
        about: TicketAbout {
            sharing_request_id: Some(request.id),
            ..TicketAbout::default()
        },
        due_at: deadline(state),
    })
}

/// Tells the operator and both agencies of the dispute the refusal of `request` opened. The
/// refusal and its dispute are stored by then, so a notice that fails is logged, not answered.
pub async fn announce_dispute(state: &AppState, request: &SharingRequest) {
    let announced = async {
        let ticket = state
            .store
            .dispute_of_request(request.id)
            .await?
            .ok_or_else(|| ApiError::internal(anyhow::anyhow!("no dispute for the refusal")))?;
        tracing::info!(
            ticket = ticket.id,
            request = request.id,
            "dispute opened on refusal"
        );
        let reason = request.decision_reason.as_deref().unwrap_or_default();
        let basis = request.refusal_legal_basis.as_deref().unwrap_or_default();
        let subject = format!(
            "Từ chối yêu cầu chia sẻ số {}: phiếu tranh chấp số {}",
            request.id, ticket.id
        );
        let body = format!(
            "Cơ quan {} từ chối yêu cầu chia sẻ số {} của cơ quan {}. Lý do: {reason}. Căn cứ: \
             {basis}. Phiếu tranh chấp số {} đã được mở để Sở Thông tin và Truyền thông giải quyết.",
            request.provider, request.id, request.consumer, ticket.id
        );
        notify_answerer(state, &ticket, &subject, &body).await?;
        notify_opener(state, &ticket, &subject, &body).await
    }
    .await;
    if let Err(error) = announced {
        tracing::error!(request = request.id, error = ?error,
            "the dispute of a refusal could not be announced");
    }
}

async fn detail(state: &AppState, ticket: Ticket) -> Result<TicketDetail, ApiError> {
    let thread = state.store.ticket_events(ticket.id).await?;
    let attachments = state
        .store
        .attachments_of(ATTACHMENT_OWNER, ticket.id)
        .await?;
    Ok(TicketDetail {
        ticket,
        thread,
        attachments,
    })
}

/// Open a ticket (Q15.2.g, Q16.1.b, Q22.2): an agency administrator with another agency or the
/// operator, the operator with an agency, a citizen (`data_use` only). Optionally about a grant,
/// a sharing request of the opener's agency, a service or a dataset. The answer is due
/// `request_response_working_days` working days later.
#[utoipa::path(post, path = "/tickets", tag = "tickets", request_body = OpenBody,
    responses((status = 201, body = TicketDetail), (status = 401, body = ProblemDoc),
        (status = 403, body = ProblemDoc), (status = 409, body = ProblemDoc, description = "`conflict`: a second dispute about one request"),
        (status = 422, body = ProblemDoc, description = "`invalid_body`, `unknown_field`, `missing_reference`")))]
async fn open(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<OpenBody>,
) -> Result<impl IntoResponse, ApiError> {
    let detail = open_ticket(&state, &caller, body).await?;
    Ok((
        StatusCode::CREATED,
        [(LOCATION, format!("/api/v1/tickets/{}", detail.ticket.id))],
        axum::Json(detail),
    ))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct TicketQuery {
    /// `open`, `in_progress`, `resolved` or `closed`.
    state: Option<String>,
    /// `technical`, `dispute`, `data_use` or `simplification`.
    kind: Option<String>,
}

/// Tickets the caller takes part in (the operator and the auditor: all), newest first. Tickets
/// past their deadline are escalated first.
#[utoipa::path(get, path = "/tickets", tag = "tickets", params(TicketQuery),
    responses((status = 200, body = Vec<Ticket>), (status = 400, body = ProblemDoc),
        (status = 401, body = ProblemDoc)))]
async fn list_tickets(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<TicketQuery>,
) -> Result<axum::Json<Vec<Ticket>>, ApiError> {
    caller.require_person()?;
    let bad = |what: &str| ApiError::new(ErrorCode::InvalidParameter).detail(what.to_owned());
    let wanted_state = query
        .state
        .as_deref()
        .map(TicketState::parse)
        .transpose()
        .map_err(|_| bad("state: one of `open`, `in_progress`, `resolved`, `closed`"))?;
    let wanted_kind = query
        .kind
        .as_deref()
        .map(TicketKind::parse)
        .transpose()
        .map_err(|_| bad("kind: one of `technical`, `dispute`, `data_use`, `simplification`"))?;
    Ok(axum::Json(
        visible(&state, &caller)
            .await?
            .into_iter()
            .filter(|t| wanted_state.is_none_or(|s| t.state == s))
            .filter(|t| wanted_kind.is_none_or(|k| t.kind == k))
            .collect(),
    ))
}

/// The tickets `caller` may read, newest first, after escalating those past their deadline.
pub async fn visible(state: &AppState, caller: &Caller) -> Result<Vec<Ticket>, ApiError> {
    escalate_overdue(state).await?;
    let Some(user) = &caller.user else {
        return Ok(Vec::new());
    };
    let tickets = match user.assignment.role() {
        Role::Operator | Role::Auditor => state.store.list_tickets(None).await?,
        Role::AgencyAdmin => match user.assignment.agency() {
            Some(agency) => state.store.list_tickets(Some(agency)).await?,
            None => Vec::new(),
        },
        Role::Citizen => state.store.tickets_opened_by(&caller.name()).await?,
        Role::Approver => Vec::new(),
    };
    Ok(tickets
        .into_iter()
        .filter(|t| standing(&caller.actor, &t.parties()).may_read())
        .collect())
}

/// Loads a ticket the caller may read, escalated first if its deadline passed.
pub async fn readable(state: &AppState, caller: &Caller, id: i64) -> Result<Ticket, ApiError> {
    caller.require_person()?;
    escalate_overdue(state).await?;
    let ticket = state.store.get_ticket(id).await?;
    if !standing(&caller.actor, &ticket.parties()).may_read() {
        return Err(ApiError::new(ErrorCode::Forbidden).detail("you take no part in this ticket"));
    }
    Ok(ticket)
}

/// A ticket with its thread and attachments, for a caller who may read it.
pub async fn readable_detail(
    state: &AppState,
    caller: &Caller,
    id: i64,
) -> Result<TicketDetail, ApiError> {
    let ticket = readable(state, caller, id).await?;
    detail(state, ticket).await
}

#[utoipa::path(get, path = "/tickets/{id}", tag = "tickets",
    params(("id" = i64, Path, description = "Ticket number")),
    responses((status = 200, body = TicketDetail), (status = 403, body = ProblemDoc),
        (status = 404, body = ProblemDoc)))]
async fn get_ticket(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<axum::Json<TicketDetail>, ApiError> {
    Ok(axum::Json(readable_detail(&state, &caller, id).await?))
}

/// Takes `step` on ticket `id` for `caller`, with `message`: what the API and the console both
/// do.
pub async fn take(
    state: &AppState,
    caller: &Caller,
    id: i64,
    step: TicketStep,
    message: Option<String>,
) -> Result<TicketDetail, ApiError> {
    let ticket = readable(state, caller, id).await?;
    let stands = standing(&caller.actor, &ticket.parties());
    let to = take_step(stands, &ticket.parties(), ticket.state, step).map_err(step_error)?;
    let message = match message.as_deref().map(str::trim).filter(|m| !m.is_empty()) {
        Some(m) => Some(Text::parse(m).map_err(|e| invalid(format!("message: {e}")))?),
        None if step.needs_message() => {
            return Err(invalid(format!(
                "message: the step `{}` needs a message",
                step.as_str()
            )))
        }
        None => None,
    };
    let change = match step {
        TicketStep::Reopen => TicketChange::Due(deadline(state)),
        TicketStep::Escalate => TicketChange::Escalate {
            due_at: deadline(state),
        },
        _ => TicketChange::None,
    };
    let moved = state
        .store
        .move_ticket(
            id,
            TicketMove {
                step,
                from: ticket.state,
                to,
                change,
                message: message.as_ref().map(Text::as_str),
            },
            &caller.name(),
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict(m) => ApiError::new(ErrorCode::InvalidTransition).detail(m),
            other => other.into(),
        })?;
    tracing::info!(ticket = id, step = step.as_str(), by = %caller.name(), "ticket step");
    let subject = format!("Phiếu số {}: {}", moved.id, step.label_vi().to_lowercase());
    let body = format!(
        "{} — {}{}",
        moved.subject,
        step.label_vi(),
        message
            .as_ref()
            .map(|m| format!(": {m}"))
            .unwrap_or_default()
    );
    if stands.opener {
        notify_answerer(state, &moved, &subject, &body).await?;
    } else {
        notify_opener(state, &moved, &subject, &body).await?;
        if stands.counterparty {
            notify_answerer(state, &moved, &subject, &body).await?;
        }
    }
    detail(state, moved).await
}

/// Escalates every ticket awaiting an agency's answer past its deadline (Q23): the operator
/// takes it over with a new deadline, is notified, and the step is logged. Each ticket is
/// escalated once whichever node gets there first (compare-and-set in the store), so it may run
/// on reads and periodically on every node.
pub async fn escalate_overdue(state: &AppState) -> Result<usize, ApiError> {
    let mut escalated = 0;
    for ticket in state.store.overdue_tickets_to_escalate().await? {
        let message = format!(
            "Quá hạn trả lời ({}) nên tự động chuyển Sở Thông tin và Truyền thông.",
            crate::portal::view::date_vi(due_day(&ticket))
        );
        let moved = match state
            .store
            .move_ticket(
                ticket.id,
                TicketMove {
                    step: TicketStep::Escalate,
                    from: ticket.state,
                    to: ticket.state,
                    change: TicketChange::Escalate {
                        due_at: deadline(state),
                    },
                    message: Some(&message),
                },
                OVERDUE,
            )
            .await
        {
            Ok(moved) => moved,
            // Another node, or a step in between, got there first.
            Err(StoreError::Conflict(_)) => continue,
            Err(other) => return Err(other.into()),
        };
        let entry = json!({
            "v": 1,
            "kind": "action",
            "time": Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            "request_id": "",
            "actor": OVERDUE,
            "method": "POST",
            "route": "/api/v1/tickets/{id}/escalate",
            "ticket": moved.id,
            "status": 200,
        });
        state.log.append(&entry).await?;
        tracing::info!(
            ticket = moved.id,
            "overdue ticket escalated to the operator"
        );
        let subject = format!("Phiếu số {} quá hạn, chuyển Sở TTTT", moved.id);
        let body = format!("{} — {message}", moved.subject);
        notify_answerer(state, &moved, &subject, &body).await?;
        notify_opener(state, &moved, &subject, &body).await?;
        escalated += 1;
    }
    Ok(escalated)
}

/// Escalates overdue tickets every `interval`, so that nobody has to open a page for it.
pub async fn keep_escalating(state: AppState, interval: std::time::Duration) {
    let mut every = tokio::time::interval(interval);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        if let Err(error) = escalate_overdue(&state).await {
            tracing::warn!(error = ?error, "could not escalate overdue tickets");
        }
    }
}

/// Add to the thread (any party, until the ticket is closed). `message` required.
#[utoipa::path(post, path = "/tickets/{id}/comments", tag = "tickets", request_body = MessageBody,
    params(("id" = i64, Path, description = "Ticket number")),
    responses((status = 200, body = TicketDetail), (status = 403, body = ProblemDoc),
        (status = 404, body = ProblemDoc), (status = 409, body = ProblemDoc, description = "`invalid_transition`: closed"),
        (status = 422, body = ProblemDoc, description = "`invalid_body`: no message")))]
async fn comment(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<MessageBody>,
) -> Result<axum::Json<TicketDetail>, ApiError> {
    Ok(axum::Json(
        take(&state, &caller, id, TicketStep::Comment, body.message).await?,
    ))
}

/// Take an open ticket up (the assignee agency or the operator).
#[utoipa::path(post, path = "/tickets/{id}/start", tag = "tickets", request_body = MessageBody,
    params(("id" = i64, Path, description = "Ticket number")),
    responses((status = 200, body = TicketDetail), (status = 403, body = ProblemDoc),
        (status = 404, body = ProblemDoc), (status = 409, body = ProblemDoc)))]
async fn start(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<MessageBody>,
) -> Result<axum::Json<TicketDetail>, ApiError> {
    Ok(axum::Json(
        take(&state, &caller, id, TicketStep::Start, body.message).await?,
    ))
}

/// Answer a ticket (the assignee agency or the operator); `message` required.
#[utoipa::path(post, path = "/tickets/{id}/resolve", tag = "tickets", request_body = MessageBody,
    params(("id" = i64, Path, description = "Ticket number")),
    responses((status = 200, body = TicketDetail), (status = 403, body = ProblemDoc),
        (status = 404, body = ProblemDoc), (status = 409, body = ProblemDoc),
        (status = 422, body = ProblemDoc)))]
async fn resolve(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<MessageBody>,
) -> Result<axum::Json<TicketDetail>, ApiError> {
    Ok(axum::Json(
        take(&state, &caller, id, TicketStep::Resolve, body.message).await?,
    ))
}

/// Reopen an answered ticket (the opener), saying why; a new deadline runs.
#[utoipa::path(post, path = "/tickets/{id}/reopen", tag = "tickets", request_body = MessageBody,
    params(("id" = i64, Path, description = "Ticket number")),
    responses((status = 200, body = TicketDetail), (status = 403, body = ProblemDoc),
        (status = 404, body = ProblemDoc), (status = 409, body = ProblemDoc),
        (status = 422, body = ProblemDoc)))]
async fn reopen(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<MessageBody>,
) -> Result<axum::Json<TicketDetail>, ApiError> {
    Ok(axum::Json(
        take(&state, &caller, id, TicketStep::Reopen, body.message).await?,
    ))
}

/// Close a ticket (the opener or the operator); final.
#[utoipa::path(post, path = "/tickets/{id}/close", tag = "tickets", request_body = MessageBody,
    params(("id" = i64, Path, description = "Ticket number")),
    responses((status = 200, body = TicketDetail), (status = 403, body = ProblemDoc),
        (status = 404, body = ProblemDoc), (status = 409, body = ProblemDoc)))]
async fn close(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<MessageBody>,
) -> Result<axum::Json<TicketDetail>, ApiError> {
    Ok(axum::Json(
        take(&state, &caller, id, TicketStep::Close, body.message).await?,
    ))
}

/// Escalate a ticket awaiting an agency's answer to the operator (the opener), saying why
/// (Q23); once. The operator's deadline runs from now.
#[utoipa::path(post, path = "/tickets/{id}/escalate", tag = "tickets", request_body = MessageBody,
    params(("id" = i64, Path, description = "Ticket number")),
    responses((status = 200, body = TicketDetail), (status = 403, body = ProblemDoc),
        (status = 404, body = ProblemDoc), (status = 409, body = ProblemDoc),
        (status = 422, body = ProblemDoc)))]
async fn escalate(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<MessageBody>,
) -> Result<axum::Json<TicketDetail>, ApiError> {
    Ok(axum::Json(
        take(&state, &caller, id, TicketStep::Escalate, body.message).await?,
    ))
}

/// Attaches `file` to ticket `id` for a party taking part, until it is closed: what the API and
/// the console both do.
pub async fn attach(
    state: &AppState,
    caller: &Caller,
    id: i64,
    file: &lgsp_store::NewAttachment,
) -> Result<Attachment, ApiError> {
    let ticket = readable(state, caller, id).await?;
    let stands = standing(&caller.actor, &ticket.parties());
    take_step(stands, &ticket.parties(), ticket.state, TicketStep::Comment).map_err(step_error)?;
    let attached = state.store.attach(ATTACHMENT_OWNER, id, file).await?;
    tracing::info!(ticket = id, attachment = attached.id, by = %caller.name(), "ticket attachment");
    Ok(attached)
}

/// Attach a document to a ticket (any party, until it is closed): `multipart/form-data` with one
/// part `file` — PDF, PNG, JPEG, DOCX, XLSX, ODT, ODS, CSV, JSON or plain text, at most
/// `max_upload_bytes`.
#[utoipa::path(post, path = "/tickets/{id}/attachments", tag = "tickets",
    params(("id" = i64, Path, description = "Ticket number")),
    request_body(content_type = "multipart/form-data", description = "`file`: the document"),
    responses((status = 201, body = Attachment), (status = 403, body = ProblemDoc),
        (status = 404, body = ProblemDoc), (status = 409, body = ProblemDoc),
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

/// Download a ticket's attachment (anyone who may read the ticket).
#[utoipa::path(get, path = "/tickets/{id}/attachments/{attachment}", tag = "tickets",
    params(("id" = i64, Path, description = "Ticket number"),
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
