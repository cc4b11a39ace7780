//! The console's inbox of error reports (Q16.2.c): an agency's administrators see the reports on
//! their datasets (the operator sees every agency's), with who reported and how to reach them,
//! and acknowledge, fix or reject them (with a reason); the time to fix is shown.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use lgsp_core::quality::error_report::{ReportState, ReportStep, TrackingCode};
use lgsp_core::{Actor, Text};
use serde::Deserialize;

use crate::app::AppState;
use crate::auth::Caller;
use crate::catalog::{today, Snapshot};
use crate::error::{ApiError, ErrorCode};
use crate::error_reports::{inbox_of, take_step};
use crate::extract::Form;
use crate::portal::error_reports::{history, target_lines, HistoryStep};
use crate::portal::view::{duration_vi, render, Shell};
use crate::portal::{to_login, MessagePage};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console/error-reports", get(inbox_page))
        .route("/console/error-reports/{code}/{step}", post(step_form))
}

struct ReportRow {
    code: String,
    dataset: String,
    dataset_title: String,
    target: Vec<String>,
    description: String,
    reporter: String,
    contact_email: Option<String>,
    state: &'static str,
    state_class: &'static str,
    history: Vec<HistoryStep>,
    time_to_fix: Option<String>,
    can_acknowledge: bool,
    can_resolve: bool,
}

#[derive(Template)]
#[template(path = "console/error_reports.html")]
struct InboxPage {
    shell: Shell,
    csrf: String,
    all_agencies: bool,
    open: usize,
    reports: Vec<ReportRow>,
}

fn message(
    state: &AppState,
    caller: &Caller,
    status: StatusCode,
    heading: &'static str,
    text: &'static str,
) -> Response {
    render(
        status,
        &MessagePage {
            shell: Shell::new(&state.platform_name(), caller),
            heading,
            message: text,
        },
    )
}

async fn inbox_page(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    if caller.actor == Actor::Anonymous {
        return Ok(to_login());
    }
    let agency = match inbox_of(&caller) {
        Ok(agency) => agency,
        Err(_) => {
            return Ok(message(
                &state,
                &caller,
                StatusCode::FORBIDDEN,
                "Không có quyền truy cập",
                "Vai trò của bạn không được xem trang này.",
            ))
        }
    };
    let reports = state.store.error_reports_to(agency.as_ref()).await?;
    let snapshot = Snapshot::load(&state, today()).await?;
    let rows: Vec<ReportRow> = reports
        .iter()
        .map(|r| ReportRow {
            code: r.code.to_string(),
            dataset: r.dataset.to_string(),
            dataset_title: snapshot
                .dataset(r.dataset.as_str())
                .map_or_else(|| r.dataset.to_string(), |d| d.dataset.title.to_string()),
            target: target_lines(r),
            description: r.description.to_string(),
            reporter: r.reporter.as_ref().map_or_else(
                || "Người dân (không đăng nhập)".to_owned(),
                ToString::to_string,
            ),
            contact_email: r.contact_email.as_ref().map(ToString::to_string),
            state: r.state.label_vi(),
            state_class: r.state.as_str(),
            history: history(r),
            time_to_fix: r.time_to_fix_seconds.map(duration_vi),
            can_acknowledge: r.state == ReportState::Open,
            can_resolve: !r.state.is_final(),
        })
        .collect();
    Ok(render(
        StatusCode::OK,
        &InboxPage {
            shell: Shell::new(&state.platform_name(), &caller),
            csrf: caller
                .web_session
                .as_ref()
                .map(|s| s.csrf_token.clone())
                .unwrap_or_default(),
            all_agencies: agency.is_none(),
            open: reports
                .iter()
                .filter(|r| r.state == ReportState::Open)
                .count(),
            reports: rows,
        },
    ))
}

#[derive(Deserialize)]
struct StepForm {
    csrf: String,
    reason: Option<String>,
}

/// Takes a step from the inbox's buttons, then shows the inbox again.
async fn step_form(
    State(state): State<AppState>,
    caller: Caller,
    Path((code, step)): Path<(String, String)>,
    Form(form): Form<StepForm>,
) -> Result<Response, ApiError> {
    if caller.actor == Actor::Anonymous || caller.web_session.is_none() {
        return Ok(to_login());
    }
    caller.check_csrf(Some(&form.csrf))?;
    let Ok(code) = TrackingCode::parse(&code) else {
        return Ok(crate::portal::not_found_page(&state, &caller));
    };
    let step = match step.as_str() {
        "acknowledge" => ReportStep::Acknowledge,
        "fix" => ReportStep::Fix,
        "reject" => match form.reason.as_deref().map(Text::parse) {
            Some(Ok(reason)) => ReportStep::Reject { reason },
            _ => {
                return Ok(message(
                    &state,
                    &caller,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "Cần nêu lý do",
                    "Không chấp nhận phản ánh thì phải nêu lý do (không quá 500 ký tự) để người phản ánh được biết. Phản ánh chưa thay đổi.",
                ))
            }
        },
        _ => return Ok(crate::portal::not_found_page(&state, &caller)),
    };
    match take_step(&state, &caller, &code, step).await {
        Ok(report) => {
            Ok(Redirect::to(&format!("/console/error-reports#phan-anh-{}", report.code)).into_response())
        }
        Err(error) => Ok(match error.code() {
            ErrorCode::InvalidTransition => message(
                &state,
                &caller,
                StatusCode::CONFLICT,
                "Phản ánh đã ở bước khác",
                "Phản ánh này đã được xử lý sang bước khác nên không thực hiện được thao tác vừa chọn. Hãy tải lại danh sách.",
            ),
            ErrorCode::Forbidden => message(
                &state,
                &caller,
                StatusCode::FORBIDDEN,
                "Không có quyền truy cập",
                "Chỉ cơ quan chủ quản của bộ dữ liệu và Sở TTTT được xử lý phản ánh này.",
            ),
            ErrorCode::ResourceNotFound => crate::portal::not_found_page(&state, &caller),
            _ => return Err(error),
        }),
    }
}
