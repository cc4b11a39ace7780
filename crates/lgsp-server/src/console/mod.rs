//! The signed-in console: an overview and the registries of agencies and systems, with
//! navigation that follows the person's role.

use askama::Template;
use axum::extract::Path;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use lgsp_core::proposal::ProposalAction;
use lgsp_core::{Action, Actor, Resource, Role};
use lgsp_store::Proposal;

pub mod annual_report;
mod consents;
mod dashboard;
mod error_reports;
mod exchanges;
mod grants;
mod imports;
mod monitoring;
mod provider;
mod quarantine;
mod services;
mod sharing_requests;
mod tickets;
mod webhooks;

use crate::app::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::portal::view::{render, AgencyRow, Shell, SystemRow};
use crate::portal::{to_login, MessagePage};

/// The console's pages; forms that carry documents take up to `max_upload_bytes`.
pub fn routes(max_upload_bytes: usize) -> Router<AppState> {
    Router::new()
        .route("/console", get(overview))
        .route("/console/agencies", get(agencies))
        .route("/console/systems", get(systems))
        .route("/console/proposals", get(proposals))
        .route("/console/proposals/{id}", get(proposal))
        .route("/console/notifications", get(notifications))
        .merge(imports::routes())
        .merge(error_reports::routes())
        .merge(services::routes())
        .merge(grants::routes())
        .merge(sharing_requests::routes(max_upload_bytes))
        .merge(tickets::routes(max_upload_bytes))
        .merge(exchanges::routes())
        .merge(provider::routes())
        .merge(webhooks::routes())
        .merge(consents::routes())
        .merge(quarantine::routes())
        .merge(monitoring::routes())
        .merge(annual_report::routes())
        .merge(dashboard::routes())
}

/// The page to answer instead when the caller may not see `resource`: anonymous visitors are
/// sent to sign in, others are told their role does not allow it.
fn refusal(state: &AppState, caller: &Caller, resource: Resource<'_>) -> Option<Response> {
    if caller.actor == Actor::Anonymous {
        return Some(to_login());
    }
    caller
        .authorize(Action::Read, Resource::Console)
        .and_then(|()| caller.authorize(Action::Read, resource))
        .err()
        .map(|_| forbidden(state, caller))
}

/// The page telling a signed-in person their role does not open this page.
/// The agency of the signed-in person, or the page to answer instead: the sign-in page for an
/// anonymous visitor, *forbidden* for someone attached to no agency.
fn caller_agency(
    state: &AppState,
    caller: &Caller,
) -> Result<lgsp_core::AgencyCode, Box<Response>> {
    if caller.actor == Actor::Anonymous {
        return Err(Box::new(to_login()));
    }
    caller
        .user
        .as_ref()
        .and_then(|u| u.assignment.agency().cloned())
        .ok_or_else(|| Box::new(forbidden(state, caller)))
}

fn forbidden(state: &AppState, caller: &Caller) -> Response {
    render(
        StatusCode::FORBIDDEN,
        &MessagePage {
            shell: Shell::new(&state.platform_name(), caller),
            heading: "Không có quyền truy cập",
            message: "Vai trò của bạn không được xem trang này.",
        },
    )
}

/// What a person reads when an action of the console is refused: one Vietnamese sentence per
/// problem code, the technical detail beside it.
fn problem_vi(code: crate::error::ErrorCode) -> &'static str {
    use crate::error::ErrorCode::*;
    match code {
        UpstreamNotAllowed => "Địa chỉ dịch vụ (upstream) phải nằm trên đúng máy chủ (giao thức, tên miền, cổng) của hệ thống đã đăng ký và không có tham số truy vấn.",
        InvalidOpenapi => "Tài liệu OpenAPI chưa hợp lệ: cần OpenAPI 3.0 hoặc 3.1 có info.title, info.version và paths.",
        InvalidBody | UnknownField | InvalidRequest | InvalidParameter | MalformedJson => "Thông tin nhập chưa hợp lệ.",
        Forbidden => "Bạn không có quyền thực hiện thao tác này.",
        Conflict => "Thao tác trùng với dữ liệu đã có.",
        MissingReference | ResourceNotFound => "Đối tượng được chọn không tồn tại.",
        StateSecretNotAllowed => "Nền tảng không tiếp nhận dữ liệu thuộc bí mật nhà nước.",
        StateSecretSuspected => "Nội dung nghi chứa dấu độ mật bí mật nhà nước nên đã bị chặn và tạm giữ để cơ quan Công an kiểm tra.",
        InvalidTransition => "Không thể thực hiện bước này ở trạng thái hiện tại.",
        NotEditable => "Dịch vụ đã công bố nên không sửa được; hãy đăng ký phiên bản mới.",
        FieldNotShared => "Có trường dữ liệu không thuộc danh sách được chia sẻ.",
        RefusalReasonRequired => "Từ chối yêu cầu chia sẻ phải nêu rõ lý do và căn cứ pháp lý.",
        MaintenanceNoticeTooShort => "Bảo trì, nâng cấp theo kế hoạch phải được thông báo trước ít nhất 7 ngày làm việc; nếu là sự cố bất khả kháng, hãy đánh dấu như vậy.",
        InvalidPeriod => "Kỳ báo cáo chưa hợp lệ: chọn từ ngày, đến ngày (không quá 366 ngày).",
        InvalidAttachment => "Tệp đính kèm không hợp lệ: chỉ nhận tệp PDF, ảnh PNG, JPEG, DOCX, XLSX, ODT, ODS, CSV, JSON hoặc văn bản, không rỗng.",
        PayloadTooLarge => "Tệp đính kèm vượt quá dung lượng cho phép.",
        ApprovalExceedsRequest => "Chỉ được chấp thuận trong phạm vi trường dữ liệu và thời hạn đã đề nghị.",
        NotACitizen => "Chỉ tài khoản người dân có số định danh cá nhân (CCCD) mới cho phép chia sẻ dữ liệu của mình.",
        TargetUnavailable => "Dịch vụ hoặc bộ dữ liệu này hiện không thể chia sẻ.",
        ConsentBasisNotApplicable => "Chỉ dịch vụ hoặc bộ dữ liệu cá nhân mới chia sẻ theo sự đồng ý của chủ thể dữ liệu.",
        _ => "Không thực hiện được yêu cầu.",
    }
}

#[derive(Template)]
#[template(path = "console/problem.html")]
struct ProblemPage {
    shell: Shell,
    message: &'static str,
    detail: Option<String>,
    back: String,
}

/// The page answering a refused console action, with the API's status.
/// The answer to a console form: back to `back` when it was `done`, the page telling the
/// person what to mend when they can (4xx), our own failure as an error.
fn after_form<T>(
    state: &AppState,
    caller: &Caller,
    done: Result<T, ApiError>,
    back: String,
) -> Result<Response, ApiError> {
    match done {
        Ok(_) => Ok(axum::response::Redirect::to(&back).into_response()),
        Err(error) if !error.code().status().is_server_error() => {
            Ok(problem_page(state, caller, &error, back))
        }
        Err(error) => Err(error),
    }
}

fn problem_page(state: &AppState, caller: &Caller, error: &ApiError, back: String) -> Response {
    let status = error.code().status();
    render(
        status,
        &ProblemPage {
            shell: Shell::new(&state.platform_name(), caller),
            message: problem_vi(error.code()),
            detail: (!status.is_server_error())
                .then(|| error.detail_text().map(str::to_owned))
                .flatten(),
            back,
        },
    )
}

#[derive(Template)]
#[template(path = "console/index.html")]
struct OverviewPage {
    shell: Shell,
    /// The annual report's deadline, for the operator from 1 November (Q17.6).
    reminder: Option<String>,
    late: bool,
}

async fn overview(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    if let Some(response) = refusal(&state, &caller, Resource::Console) {
        return Ok(response);
    }
    let reminder = annual_report::current_reminder(&state, &caller).await?;
    Ok(render(
        StatusCode::OK,
        &OverviewPage {
            shell: Shell::new(&state.platform_name(), &caller),
            late: reminder.as_ref().is_some_and(|r| r.is_late()),
            reminder: reminder.map(|r| r.message()),
        },
    ))
}

#[derive(Template)]
#[template(path = "console/agencies.html")]
struct AgenciesPage {
    shell: Shell,
    agencies: Vec<AgencyRow>,
}

async fn agencies(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    if let Some(response) = refusal(&state, &caller, Resource::Agency(None)) {
        return Ok(response);
    }
    let agencies = state.store.list_agencies().await?;
    Ok(render(
        StatusCode::OK,
        &AgenciesPage {
            shell: Shell::new(&state.platform_name(), &caller),
            agencies: agencies.into_iter().map(AgencyRow::from).collect(),
        },
    ))
}

#[derive(Template)]
#[template(path = "console/systems.html")]
struct SystemsPage {
    shell: Shell,
    systems: Vec<SystemRow>,
}

async fn systems(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    if let Some(response) = refusal(&state, &caller, Resource::System(None)) {
        return Ok(response);
    }
    let systems = state.store.list_systems(None).await?;
    Ok(render(
        StatusCode::OK,
        &SystemsPage {
            shell: Shell::new(&state.platform_name(), &caller),
            systems: systems.into_iter().map(SystemRow::from).collect(),
        },
    ))
}

struct ProposalRow {
    id: i64,
    agency: String,
    action: &'static str,
    code: String,
    overlaps: bool,
    state: &'static str,
    updated: String,
}

impl From<&Proposal> for ProposalRow {
    fn from(p: &Proposal) -> Self {
        let overlaps = match &p.action {
            ProposalAction::Add { entry } | ProposalAction::Modify { entry } => {
                entry.national_relation.overlaps
            }
            ProposalAction::Withdraw { .. } => false,
        };
        Self {
            id: p.id,
            agency: p.agency.to_string(),
            action: p.action.label_vi(),
            code: p.action.code().to_string(),
            overlaps,
            state: p.state.label_vi(),
            updated: crate::portal::view::date_time_vi(p.updated_at),
        }
    }
}

#[derive(Template)]
#[template(path = "console/proposals.html")]
struct ProposalsPage {
    shell: Shell,
    proposals: Vec<ProposalRow>,
}

/// The agency of an agency administrator: whose proposals and services they see; `None` for
/// roles that see all.
fn own_agency(caller: &Caller) -> Option<lgsp_core::AgencyCode> {
    caller
        .user
        .as_ref()
        .filter(|u| u.assignment.role() == Role::AgencyAdmin)
        .and_then(|u| u.assignment.agency().cloned())
}

async fn proposals(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    let agency = own_agency(&caller);
    if let Some(response) = refusal(&state, &caller, Resource::Proposal(agency.as_ref())) {
        return Ok(response);
    }
    let list = state.store.list_proposals(agency.as_ref(), None).await?;
    Ok(render(
        StatusCode::OK,
        &ProposalsPage {
            shell: Shell::new(&state.platform_name(), &caller),
            proposals: list.iter().map(ProposalRow::from).collect(),
        },
    ))
}

#[derive(Template)]
#[template(path = "console/proposal.html")]
struct ProposalPage {
    shell: Shell,
    p: ProposalRow,
    reason: String,
    letter_name: String,
    letter_sha256: String,
    relation: String,
    decision: Option<String>,
    events: Vec<String>,
}

async fn proposal(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    if let Some(response) = refusal(&state, &caller, Resource::Proposal(None)) {
        return Ok(response);
    }
    let found = match state.store.get_proposal(id).await {
        Ok(found) => found,
        Err(lgsp_store::StoreError::NotFound(_)) => {
            return Ok(crate::portal::not_found_page(&state, &caller))
        }
        Err(other) => return Err(other.into()),
    };
    if let Some(response) = refusal(&state, &caller, Resource::Proposal(Some(&found.agency))) {
        return Ok(response);
    }
    let relation = match &found.action {
        ProposalAction::Add { entry } | ProposalAction::Modify { entry } => entry
            .national_relation
            .databases
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; "),
        ProposalAction::Withdraw { .. } => String::new(),
    };
    let events = found
        .events
        .iter()
        .map(|e| {
            let mut line = format!(
                "{} — {} — {}",
                crate::portal::view::date_time_vi(e.at),
                e.step.label_vi(),
                e.actor
            );
            if let Some(comment) = &e.comment {
                line.push_str(&format!(": {comment}"));
            }
            line
        })
        .collect();
    Ok(render(
        StatusCode::OK,
        &ProposalPage {
            shell: Shell::new(&state.platform_name(), &caller),
            p: ProposalRow::from(&found),
            reason: found.reason.to_string(),
            letter_name: found.letter.filename.clone(),
            letter_sha256: found.letter.sha256.clone(),
            relation,
            decision: found.decision.as_ref().map(|d| {
                format!(
                    "Số {} ngày {}, hiệu lực từ {}",
                    d.number,
                    d.date.format("%d/%m/%Y"),
                    d.effective_date.format("%d/%m/%Y")
                )
            }),
            events,
        },
    ))
}

struct NotificationRow {
    subject: String,
    body: String,
    link: Option<String>,
    at: String,
}

#[derive(Template)]
#[template(path = "console/notifications.html")]
struct NotificationsPage {
    shell: Shell,
    notifications: Vec<NotificationRow>,
}

async fn notifications(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Response, ApiError> {
    if let Some(response) = refusal(&state, &caller, Resource::Console) {
        return Ok(response);
    }
    let user_id = caller.user.as_ref().map(|u| u.id).unwrap_or_default();
    let list = state.store.notifications(user_id).await?;
    Ok(render(
        StatusCode::OK,
        &NotificationsPage {
            shell: Shell::new(&state.platform_name(), &caller),
            notifications: list
                .into_iter()
                .map(|n| NotificationRow {
                    subject: n.subject,
                    body: n.body,
                    link: n.link,
                    at: crate::portal::view::date_time_vi(n.created_at),
                })
                .collect(),
        },
    ))
}
