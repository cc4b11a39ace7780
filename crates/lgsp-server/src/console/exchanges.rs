//! The console's exchange log (*Nhật ký trao đổi*): the latest exchanges through the gateway in
//! which the person's agency was the consumer or the provider, each with its leaf in the
//! transparency log. The operator and the auditor see every agency's.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use lgsp_core::{AgencyCode, Resource, Role};

use super::refusal;
use crate::app::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::portal::view::{date_time_vi, render, Shell};

pub fn routes() -> Router<AppState> {
    Router::new().route("/console/exchanges", get(page))
}

/// How many exchanges the page lists.
const LATEST: i64 = 200;

struct ExchangeRow {
    log_index: i64,
    at: String,
    consumer: String,
    target: String,
    purpose: String,
    method: String,
    status: i32,
    ok: bool,
    result: String,
    bytes: i64,
    latency: String,
}

#[derive(Template)]
#[template(path = "console/exchanges.html")]
struct ExchangesPage {
    shell: Shell,
    rows: Vec<ExchangeRow>,
    agency: Option<String>,
}

/// What a refusal code means, in Vietnamese.
fn refusal_vi(code: &str) -> &'static str {
    match code {
        "authentication_required" | "invalid_token" => "Chưa xác thực hoặc token không hợp lệ",
        "forbidden" => "Không có quyền",
        "purpose_required" => "Thiếu mục đích sử dụng",
        "no_grant" => "Chưa được cấp quyền khai thác",
        "grant_suspended" => "Quyền khai thác đang tạm dừng",
        "grant_terminated" => "Quyền khai thác đã chấm dứt",
        "grant_not_in_force" => "Quyền khai thác chưa có hoặc đã hết hiệu lực",
        "purpose_not_granted" => "Mục đích không được cấp",
        "quota_exceeded" => "Vượt hạn mức số yêu cầu mỗi phút",
        "upstream_unreachable" => "Không kết nối được hệ thống cung cấp",
        "upstream_timeout" => "Hệ thống cung cấp quá thời gian trả lời",
        "upstream_response_too_large" => "Dữ liệu trả về quá lớn",
        "upstream_invalid_response" => "Dữ liệu trả về không lọc được theo quyền",
        "payload_too_large" => "Yêu cầu quá lớn",
        "resource_not_found" => "Không có dịch vụ",
        "method_not_allowed" => "Phương thức không được phép",
        "state_secret_suspected" => "Nghi chứa bí mật nhà nước: bị chặn và tạm giữ",
        _ => "Bị từ chối",
    }
}

async fn page(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    let agency: Option<AgencyCode> = match caller.actor.role() {
        Some(Role::Operator | Role::Auditor) => None,
        _ => caller
            .user
            .as_ref()
            .and_then(|u| u.assignment.agency().cloned()),
    };
    let resource = match &agency {
        Some(agency) => Resource::Grant {
            provider: agency,
            consumer: agency,
        },
        // Every agency's exchanges: those who read the audit records (operator, auditor).
        None => Resource::SecurityEvents,
    };
    if let Some(response) = refusal(&state, &caller, resource) {
        return Ok(response);
    }
    let scope = agency.as_ref().map(ToString::to_string);
    let rows = state
        .store
        .list_exchanges(scope.as_deref(), LATEST)
        .await?
        .into_iter()
        .map(|e| ExchangeRow {
            log_index: e.log_index,
            at: date_time_vi(e.at),
            consumer: match (e.consumer_agency, e.consumer_system) {
                (Some(agency), Some(system)) => format!("{agency}/{system}"),
                _ => "Không xác định".into(),
            },
            target: e.target.unwrap_or_else(|| "Không xác định".into()),
            purpose: e.purpose.unwrap_or_else(|| "—".into()),
            method: e.method,
            status: e.status,
            ok: e.refusal.is_none(),
            result: match &e.refusal {
                None => "Thành công".into(),
                Some(code) => refusal_vi(code).into(),
            },
            bytes: e.response_bytes,
            latency: format!("{:.1} ms", e.latency_micros as f64 / 1000.0),
        })
        .collect();
    Ok(render(
        StatusCode::OK,
        &ExchangesPage {
            shell: Shell::new(&state.platform_name(), &caller),
            rows,
            agency: scope,
        },
    ))
}
