//! The auditors' quarantine pages (*Tạm giữ nghi bí mật nhà nước*, Q20.3): content the
//! state-secret guard blocked, what it found where, and the confirm or release decision with
//! its note.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use lgsp_core::secret_guard::{Location, QuarantineState};
use lgsp_core::{Resource, Text};
use lgsp_store::QuarantineItem;
use serde::Deserialize;

use super::refusal;
use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorCode};
use crate::extract::{Form, Path, Query};
use crate::portal::to_login;
use crate::portal::view::{date_time_vi, render, Shell};
use crate::quarantine::routes::decide;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console/quarantine", get(list))
        .route("/console/quarantine/{id}", get(detail))
        .route("/console/quarantine/{id}/decide", post(decide_form))
}

/// An item as the pages show it.
struct ItemView {
    id: i64,
    created: String,
    source: &'static str,
    origin: String,
    submitted_by: String,
    state: &'static str,
    state_class: &'static str,
    held: bool,
    content_held: bool,
    size: String,
    sha256: String,
    findings: Vec<FindingView>,
    decision: Option<String>,
}

struct FindingView {
    rule: String,
    matched: String,
    location: String,
}

fn location_vi(location: &Location) -> String {
    match location {
        Location::Line { line, column } => format!("dòng {line}, cột {column}"),
        Location::Field { pointer } => format!("trường {pointer}"),
        Location::Cell { row, column } => format!("hàng {row}, cột {column}"),
    }
}

impl From<QuarantineItem> for ItemView {
    fn from(item: QuarantineItem) -> Self {
        let origin = match (&item.dataset_id, &item.service) {
            (Some(dataset), _) => format!(
                "Bộ dữ liệu {dataset}{}",
                item.import_job
                    .as_deref()
                    .map(|j| format!(", lần nhập {j}"))
                    .unwrap_or_default()
            ),
            (None, Some(service)) => format!(
                "Dịch vụ {service}; hệ thống khai thác {}; mã yêu cầu {}",
                item.consumer.as_deref().unwrap_or("không rõ"),
                item.request_id.as_deref().unwrap_or("không rõ")
            ),
            _ => item
                .filename
                .as_deref()
                .map(|f| format!("Tệp {f}"))
                .unwrap_or_else(|| "Tệp tải lên".into()),
        };
        let decision = item.decided_at.map(|at| {
            format!(
                "{} — {} lúc {}: {}",
                item.state.label_vi(),
                item.decided_by.as_deref().unwrap_or(""),
                date_time_vi(at),
                item.note.as_deref().unwrap_or("")
            )
        });
        Self {
            id: item.id,
            created: date_time_vi(item.created_at),
            source: item.source_label,
            origin,
            submitted_by: item.submitted_by,
            state: item.state_label,
            state_class: match item.state {
                QuarantineState::Held => "open",
                QuarantineState::Confirmed => "rejected",
                QuarantineState::Released => "fixed",
            },
            held: item.state == QuarantineState::Held,
            content_held: item.content_held,
            size: format!("{} byte", item.content_bytes),
            sha256: item.content_sha256,
            findings: item
                .findings
                .iter()
                .map(|f| FindingView {
                    rule: f.rule.clone(),
                    matched: f.matched.clone(),
                    location: location_vi(&f.location),
                })
                .collect(),
            decision,
        }
    }
}

#[derive(Template)]
#[template(path = "console/quarantine.html")]
struct ListPage {
    shell: Shell,
    items: Vec<ItemView>,
    filter: String,
}

#[derive(Deserialize)]
struct ListParams {
    state: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<ListParams>,
) -> Result<Response, ApiError> {
    if let Some(response) = refusal(&state, &caller, Resource::Quarantine) {
        return Ok(response);
    }
    let filter = params
        .state
        .as_deref()
        .and_then(|s| QuarantineState::parse(s).ok());
    let items = state
        .store
        .list_quarantine(filter)
        .await?
        .into_iter()
        .map(ItemView::from)
        .collect();
    Ok(render(
        StatusCode::OK,
        &ListPage {
            shell: Shell::new(&state.platform_name(), &caller),
            items,
            filter: filter.map(|s| s.as_str().to_owned()).unwrap_or_default(),
        },
    ))
}

#[derive(Template)]
#[template(path = "console/quarantine_item.html")]
struct DetailPage {
    shell: Shell,
    item: ItemView,
}

async fn detail(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    if let Some(response) = refusal(&state, &caller, Resource::Quarantine) {
        return Ok(response);
    }
    let item = state.store.get_quarantine(id).await?;
    Ok(render(
        StatusCode::OK,
        &DetailPage {
            shell: Shell::new(&state.platform_name(), &caller),
            item: item.into(),
        },
    ))
}

#[derive(Deserialize)]
struct DecisionForm {
    csrf: String,
    decision: String,
    #[serde(default)]
    note: String,
}

async fn decide_form(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Form(form): Form<DecisionForm>,
) -> Result<Response, ApiError> {
    if caller.web_session.is_none() {
        return Ok(to_login());
    }
    caller.check_csrf(Some(&form.csrf))?;
    let back = format!("/console/quarantine/{id}");
    let to = match form.decision.as_str() {
        "confirm" => Ok(QuarantineState::Confirmed),
        "release" => Ok(QuarantineState::Released),
        _ => Err(ApiError::new(ErrorCode::InvalidRequest).detail("unknown decision")),
    };
    let note = Text::parse(&form.note)
        .map_err(|e| ApiError::new(ErrorCode::InvalidBody).detail(format!("note: {e}")));
    let decided = match (to, note) {
        (Ok(to), Ok(note)) => decide(&state, &caller, id, to, &note).await,
        (Err(error), _) | (_, Err(error)) => Err(error),
    };
    super::after_form(&state, &caller, decided, back)
}
