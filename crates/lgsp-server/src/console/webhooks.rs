//! The console's page of webhook subscriptions: an agency's people see their agency's
//! subscriptions to datasets' changes, their state and the latest deliveries, and can bring a
//! dead one back. The operator and the auditor see every agency's.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use lgsp_core::webhook::WebhookState;
use lgsp_core::{Action, Actor, AgencyCode, Resource, Role};
use serde::Deserialize;

use super::refusal;
use crate::app::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::Form;
use crate::portal::to_login;
use crate::portal::view::{date_time_vi, render, Shell};

pub fn routes() -> Router<AppState> {
    Router::new().route("/console/webhooks", get(page)).route(
        "/console/webhooks/{dataset}/{webhook}/reactivate",
        post(reactivate),
    )
}

/// How many recent deliveries the page shows per subscription.
const RECENT: i64 = 5;

struct DeliveryRow {
    at: String,
    seq: String,
    ok: bool,
    result: String,
    duration: String,
}

struct WebhookRow {
    id: String,
    dataset: String,
    agency: String,
    url: String,
    dead: bool,
    state: &'static str,
    delivered_seq: i64,
    last_seq: i64,
    last_error: Option<String>,
    created: String,
    deliveries: Vec<DeliveryRow>,
    may_reactivate: bool,
}

#[derive(Template)]
#[template(path = "console/webhooks.html")]
struct WebhooksPage {
    shell: Shell,
    webhooks: Vec<WebhookRow>,
    /// Whose subscriptions: the agency's code, or none for all agencies.
    agency: Option<String>,
}

/// What a delivery error or a stop reason says, in Vietnamese.
fn error_vi(error: &str) -> String {
    match error {
        "timed out" => "Quá thời gian chờ phản hồi".into(),
        "could not connect" => "Không kết nối được tới địa chỉ nhận".into(),
        "the request failed" => "Lỗi khi gửi".into(),
        "the subscribing agency may no longer read this dataset" => {
            "Cơ quan không còn quyền đọc cơ sở dữ liệu này".into()
        }
        other if other.starts_with("HTTP ") => format!("Hệ thống nhận trả lời {other}"),
        other if other.starts_with("the changes after") => {
            "Các thay đổi chưa gửi đã quá thời hạn lưu giữ; cần tải lại toàn bộ dữ liệu và đăng ký lại"
                .into()
        }
        _ => "Lỗi khi gửi".into(),
    }
}

/// Whose subscriptions the caller sees: `None` for all agencies.
fn scope(caller: &Caller) -> Option<AgencyCode> {
    match caller.actor.role() {
        Some(Role::Operator | Role::Auditor) => None,
        _ => caller
            .user
            .as_ref()
            .and_then(|u| u.assignment.agency().cloned()),
    }
}

async fn page(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    let agency = scope(&caller);
    if let Some(response) = refusal(&state, &caller, Resource::Webhook(agency.as_ref())) {
        return Ok(response);
    }
    let scope_text = agency.as_ref().map(ToString::to_string);
    let list = state.store.webhooks(None, scope_text.as_deref()).await?;
    let mut rows = Vec::with_capacity(list.len());
    for webhook in list {
        let last_seq = state
            .store
            .change_bounds(&webhook.dataset)
            .await?
            .map_or(0, |(_, last)| last);
        let deliveries = state
            .store
            .webhook_deliveries(&webhook.id, RECENT)
            .await?
            .into_iter()
            .map(|d| {
                let ok = d.outcome == "delivered";
                DeliveryRow {
                    at: date_time_vi(d.attempted_at),
                    seq: if d.from_seq == d.to_seq {
                        d.from_seq.to_string()
                    } else {
                        format!("{}–{}", d.from_seq, d.to_seq)
                    },
                    ok,
                    result: match (&d.error, d.status) {
                        (None, Some(status)) => format!("Thành công (HTTP {status})"),
                        (None, None) => "Thành công".into(),
                        (Some(error), _) => error_vi(error),
                    },
                    duration: format!("{} ms", d.duration_ms),
                }
            })
            .collect();
        let may_reactivate = webhook.state == WebhookState::Dead
            && AgencyCode::parse(&webhook.agency).is_ok_and(|a| {
                caller
                    .authorize(Action::Update, Resource::Webhook(Some(&a)))
                    .is_ok()
            });
        rows.push(WebhookRow {
            id: webhook.id,
            dataset: webhook.dataset,
            agency: webhook.agency,
            url: webhook.target.to_string(),
            dead: webhook.state == WebhookState::Dead,
            state: webhook.state.label_vi(),
            delivered_seq: webhook.delivered_seq,
            last_seq,
            last_error: webhook.last_error.as_deref().map(error_vi),
            created: date_time_vi(webhook.created_at),
            deliveries,
            may_reactivate,
        });
    }
    Ok(render(
        StatusCode::OK,
        &WebhooksPage {
            shell: Shell::new(&state.platform_name(), &caller),
            webhooks: rows,
            agency: scope_text,
        },
    ))
}

#[derive(Deserialize)]
struct ReactivateForm {
    csrf: String,
}

/// The page's "reactivate" button: the same rules as the API's reactivation.
async fn reactivate(
    State(state): State<AppState>,
    caller: Caller,
    Path((dataset, webhook)): Path<(String, String)>,
    Form(form): Form<ReactivateForm>,
) -> Result<Response, ApiError> {
    if caller.actor == Actor::Anonymous || caller.web_session.is_none() {
        return Ok(to_login());
    }
    caller.check_csrf(Some(&form.csrf))?;
    let Some(found) = state.store.webhook(&dataset, &webhook).await? else {
        return Ok(crate::portal::not_found_page(&state, &caller));
    };
    let agency = AgencyCode::parse(&found.agency).map_err(ApiError::internal)?;
    caller.authorize(Action::Update, Resource::Webhook(Some(&agency)))?;
    let kept = state
        .store
        .change_bounds(&dataset)
        .await?
        .is_some_and(|(pruned, _)| found.delivered_seq >= pruned);
    if kept {
        state.store.reactivate_webhook(&dataset, &webhook).await?;
        tracing::info!(%webhook, %dataset, by = %caller.name(), "webhook reactivated");
    }
    Ok(Redirect::to("/console/webhooks").into_response())
}
