//! Error reports in the portal (Q16.2.c): the "Báo lỗi dữ liệu" form on a dataset's page, and
//! the public tracking page a reporter opens with the code the form gave them.
//!
//! The form is for citizens without an account too. Signed-in people's forms carry their
//! session's CSRF token; a visitor's form carries a token bound to a short cookie (as the
//! sign-in form does), so another site cannot post it in their name.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::header::{CACHE_CONTROL, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use lgsp_core::catalog::DatasetId;
use lgsp_core::quality::error_report::{ReportDescription, ReportState, TrackingCode};
use lgsp_core::{Action, Actor, AgencyCode, Email, Resource};
use lgsp_store::ErrorReport;
use serde::Deserialize;

use super::view::{date_time_vi, duration_vi, render, Shell};
use crate::app::AppState;
use crate::auth::caller::cookie;
use crate::auth::secrets::{constant_time_eq, random_token};
use crate::auth::Caller;
use crate::catalog::{today, PublishedDataset, Snapshot};
use crate::error::{ApiError, ErrorCode};
use crate::error_reports::limit::ClientIp;
use crate::error_reports::{submit, Submission};
use crate::extract::Form;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/dataset/{id}/error-reports", post(submit_form))
        .route("/error-reports", get(lookup))
        .route("/error-reports/{code}", get(tracking_page))
}

/// Cookie of a visitor's report-form CSRF token.
const FORM_COOKIE: &str = "lgsp_report";

pub struct FieldOption {
    pub name: String,
    pub label: String,
    pub selected: bool,
}

pub struct KeyInput {
    pub name: String,
    pub label: String,
    pub value: String,
}

/// The "Báo lỗi dữ liệu" form of a dataset, as shown to one caller.
pub struct ReportForm {
    pub dataset: String,
    pub csrf: String,
    /// Not signed in: ask for a contact address (optional).
    pub anonymous: bool,
    pub fields: Vec<FieldOption>,
    pub key_inputs: Vec<KeyInput>,
    pub description: String,
    pub contact_email: String,
    pub error: Option<String>,
    pub max_chars: usize,
}

/// What was typed, to show again after an error.
#[derive(Default)]
struct Typed {
    description: String,
    field: String,
    key: Vec<(String, String)>,
    contact_email: String,
}

/// The form's CSRF token for `caller`, and the cookie to set for a visitor who has none yet.
fn form_token(state: &AppState, caller: &Caller, headers: &HeaderMap) -> (String, Option<String>) {
    if let Some(session) = &caller.web_session {
        return (session.csrf_token.clone(), None);
    }
    if let Some(existing) = cookie(headers, FORM_COOKIE).filter(|t| t.len() >= 32) {
        return (existing.to_owned(), None);
    }
    let token = random_token();
    let secure = if state.settings.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    let set = format!("{FORM_COOKIE}={token}; Path=/dataset; HttpOnly; SameSite=Strict{secure}");
    (token, Some(set))
}

/// Whether `caller` may report errors in `dataset`.
fn may_report(caller: &Caller, dataset: &PublishedDataset) -> bool {
    AgencyCode::parse(&dataset.owner).is_ok_and(|owner| {
        caller
            .authorize(
                Action::Create,
                Resource::ErrorReports {
                    owner: &owner,
                    access: dataset.dataset.access_level,
                },
            )
            .is_ok()
    })
}

async fn build_form(
    state: &AppState,
    caller: &Caller,
    dataset: &PublishedDataset,
    csrf: String,
    typed: Typed,
    error: Option<String>,
) -> Result<ReportForm, ApiError> {
    let schema = state
        .store
        .record_table(&dataset.dataset.id)
        .await?
        .map(|t| t.schema);
    let label = |name: &str| {
        schema
            .as_ref()
            .and_then(|s| s.fields.iter().find(|f| f.name == name))
            .and_then(|f| f.title.clone())
            .map_or_else(|| name.to_owned(), |title| format!("{title} ({name})"))
    };
    let fields = schema
        .iter()
        .flat_map(|s| &s.fields)
        .map(|f| FieldOption {
            name: f.name.clone(),
            label: label(&f.name),
            selected: f.name == typed.field,
        })
        .collect();
    let key_inputs = schema
        .iter()
        .flat_map(|s| &s.primary_key)
        .map(|name| KeyInput {
            name: name.clone(),
            label: label(name),
            value: typed
                .key
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
                .unwrap_or_default(),
        })
        .collect();
    Ok(ReportForm {
        dataset: dataset.dataset.id.to_string(),
        csrf,
        anonymous: caller.actor == Actor::Anonymous,
        fields,
        key_inputs,
        description: typed.description,
        contact_email: typed.contact_email,
        error,
        max_chars: ReportDescription::MAX_CHARS,
    })
}

/// The form for the dataset page (`None` when the caller may not report on it), with the
/// cookie to set on the page for a visitor.
pub async fn form_for(
    state: &AppState,
    caller: &Caller,
    dataset: &PublishedDataset,
    headers: &HeaderMap,
) -> Result<(Option<ReportForm>, Option<String>), ApiError> {
    if !may_report(caller, dataset) {
        return Ok((None, None));
    }
    let (csrf, set_cookie) = form_token(state, caller, headers);
    let form = build_form(state, caller, dataset, csrf, Typed::default(), None).await?;
    Ok((Some(form), set_cookie))
}

#[derive(Template)]
#[template(path = "error_reports/form_page.html")]
struct FormPage {
    shell: Shell,
    title: String,
    f: ReportForm,
}

/// Why a report was not taken, in Vietnamese.
fn problem_vi(error: &ApiError) -> String {
    match error.code() {
        ErrorCode::InvalidRecordReference => match error.extension("part").as_str() {
            Some("field") => "Trường dữ liệu đã chọn không có trong cấu trúc của bộ dữ liệu.".into(),
            _ => "Không tìm thấy bản ghi có khóa đã nhập: hãy kiểm tra lại giá trị khóa (đúng kiểu dữ liệu, đủ các trường khóa), hoặc để trống để phản ánh về cả bộ dữ liệu.".into(),
        },
        ErrorCode::TooManyReports => format!(
            "Bạn đã gửi quá nhiều phản ánh trong thời gian ngắn. Vui lòng thử lại sau {} giây hoặc đăng nhập để gửi tiếp.",
            error.retry_after_seconds().unwrap_or(60)
        ),
        ErrorCode::AuthenticationRequired => {
            "Bộ dữ liệu này không công khai: vui lòng đăng nhập để phản ánh.".into()
        }
        ErrorCode::Forbidden => "Bạn không có quyền phản ánh về bộ dữ liệu này hoặc bản ghi này.".into(),
        _ => "Không gửi được phản ánh. Vui lòng thử lại sau.".into(),
    }
}

async fn submit_form(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientIp,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let snapshot = Snapshot::load(&state, today()).await?;
    let Some(dataset) = snapshot.dataset(&id) else {
        return Ok(super::not_found_page(&state, &caller));
    };
    let value = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let typed = Typed {
        description: value("description"),
        field: value("field"),
        key: pairs
            .iter()
            .filter_map(|(k, v)| {
                k.strip_prefix("key.")
                    .map(|name| (name.to_owned(), v.clone()))
            })
            .collect(),
        contact_email: value("contact_email"),
    };
    let presented = value("csrf");
    let csrf_ok = match &caller.web_session {
        Some(_) => caller.check_csrf(Some(&presented)).is_ok(),
        None => cookie(&headers, FORM_COOKIE).is_some_and(|expected| {
            !presented.is_empty() && constant_time_eq(expected, &presented)
        }),
    };
    let (csrf, set_cookie) = form_token(&state, &caller, &headers);
    let again = |status: StatusCode, typed: Typed, message: String| {
        let state = state.clone();
        let caller = caller.clone();
        let csrf = csrf.clone();
        let set_cookie = set_cookie.clone();
        async move {
            let f = build_form(&state, &caller, dataset, csrf, typed, Some(message)).await?;
            let mut response = render(
                status,
                &FormPage {
                    shell: Shell::new(&state.platform_name(), &caller),
                    title: dataset.dataset.title.to_string(),
                    f,
                },
            );
            if let Some(value) = set_cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
                response.headers_mut().append(SET_COOKIE, value);
            }
            response
                .headers_mut()
                .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
            Ok::<_, ApiError>(response)
        }
    };
    if !csrf_ok {
        return again(
            StatusCode::FORBIDDEN,
            typed,
            "Phiên làm việc của biểu mẫu đã hết hạn. Vui lòng gửi lại.".into(),
        )
        .await;
    }
    let description = match ReportDescription::parse(&typed.description) {
        Ok(description) => description,
        Err(_) => {
            let message = format!(
                "Vui lòng mô tả sai sót (không quá {} ký tự).",
                ReportDescription::MAX_CHARS
            );
            return again(StatusCode::UNPROCESSABLE_ENTITY, typed, message).await;
        }
    };
    let contact_email = match typed.contact_email.trim() {
        "" => None,
        text => match Email::parse(text) {
            Ok(email) => Some(email),
            Err(_) => {
                let message = "Địa chỉ thư điện tử không hợp lệ.".into();
                return again(StatusCode::UNPROCESSABLE_ENTITY, typed, message).await;
            }
        },
    };
    let key: serde_json::Map<String, serde_json::Value> = typed
        .key
        .iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| (k.clone(), serde_json::Value::String(v.trim().to_owned())))
        .collect();
    let submission = Submission {
        description,
        record_key: (!key.is_empty()).then_some(serde_json::Value::Object(key)),
        field: Some(typed.field.clone()).filter(|f| !f.is_empty()),
        contact_email,
    };
    let id = DatasetId::parse(&id)
        .map_err(|e| ApiError::new(ErrorCode::InvalidParameter).detail(format!("dataset: {e}")))?;
    match submit(&state, &caller, client, &id, submission).await {
        Ok(report) => Ok(Redirect::to(&format!("/error-reports/{}", report.code)).into_response()),
        Err(error) if error.code().status().is_client_error() => {
            let mut response = again(error.code().status(), typed, problem_vi(&error)).await?;
            if let Some(seconds) = error.retry_after_seconds() {
                response
                    .headers_mut()
                    .insert(axum::http::header::RETRY_AFTER, HeaderValue::from(seconds));
            }
            Ok(response)
        }
        Err(error) => Err(error),
    }
}

#[derive(Deserialize)]
struct LookupParams {
    code: Option<String>,
}

/// `/error-reports?code=…`: the lookup form's target.
async fn lookup(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<LookupParams>,
) -> Response {
    match params.code.as_deref().map(TrackingCode::parse) {
        Some(Ok(code)) => Redirect::to(&format!("/error-reports/{code}")).into_response(),
        other => render(
            if other.is_some() {
                StatusCode::BAD_REQUEST
            } else {
                StatusCode::OK
            },
            &TrackingPage::lookup(&state, &caller, other.is_some()),
        ),
    }
}

pub struct HistoryStep {
    pub at: String,
    pub label: &'static str,
    pub note: Option<String>,
}

#[derive(Template)]
#[template(path = "error_reports/tracking.html")]
struct TrackingPage {
    shell: Shell,
    report: Option<TrackedReport>,
    /// A code was typed that is not one.
    bad_code: bool,
}

struct TrackedReport {
    code: String,
    dataset: String,
    dataset_title: Option<String>,
    target: Vec<String>,
    description: String,
    state: &'static str,
    state_class: &'static str,
    reason: Option<String>,
    time_to_fix: Option<String>,
    history: Vec<HistoryStep>,
}

impl TrackingPage {
    fn lookup(state: &AppState, caller: &Caller, bad_code: bool) -> Self {
        Self {
            shell: Shell::new(&state.platform_name(), caller),
            report: None,
            bad_code,
        }
    }
}

/// The state history of a report, oldest first, from its dates.
pub fn history(report: &ErrorReport) -> Vec<HistoryStep> {
    let mut steps = vec![HistoryStep {
        at: date_time_vi(report.created_at),
        label: ReportState::Open.label_vi(),
        note: None,
    }];
    if let Some(at) = report.acknowledged_at {
        steps.push(HistoryStep {
            at: date_time_vi(at),
            label: ReportState::Acknowledged.label_vi(),
            note: None,
        });
    }
    if let Some(at) = report.resolved_at {
        steps.push(HistoryStep {
            at: date_time_vi(at),
            label: report.state.label_vi(),
            note: report.reason.as_ref().map(|r| format!("Lý do: {r}")),
        });
    }
    steps
}

/// "Bản ghi: ma = 35", "Trường: ten" — what a report is about, for people.
pub fn target_lines(report: &ErrorReport) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(serde_json::Value::Object(key)) = &report.record_key {
        let parts: Vec<String> = key
            .iter()
            .map(|(name, value)| match value {
                serde_json::Value::String(text) => format!("{name} = {text}"),
                other => format!("{name} = {other}"),
            })
            .collect();
        lines.push(format!("Bản ghi: {}", parts.join(", ")));
    }
    if let Some(field) = &report.field {
        lines.push(format!("Trường: {field}"));
    }
    if lines.is_empty() {
        lines.push("Cả bộ dữ liệu".into());
    }
    lines
}

async fn tracking_page(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    let Ok(code) = TrackingCode::parse(&code) else {
        return Ok(render(
            StatusCode::NOT_FOUND,
            &TrackingPage::lookup(&state, &caller, true),
        ));
    };
    let report = match state.store.error_report(&code).await {
        Ok(report) => report,
        Err(lgsp_store::StoreError::NotFound(_)) => {
            return Ok(render(
                StatusCode::NOT_FOUND,
                &TrackingPage::lookup(&state, &caller, true),
            ))
        }
        Err(other) => return Err(other.into()),
    };
    let snapshot = Snapshot::load(&state, today()).await?;
    let tracked = TrackedReport {
        code: report.code.to_string(),
        dataset: report.dataset.to_string(),
        dataset_title: snapshot
            .dataset(report.dataset.as_str())
            .map(|d| d.dataset.title.to_string()),
        target: target_lines(&report),
        description: report.description.to_string(),
        state: report.state.label_vi(),
        state_class: report.state.as_str(),
        reason: report.reason.clone(),
        time_to_fix: report.time_to_fix_seconds.map(duration_vi),
        history: history(&report),
    };
    let mut response = render(
        StatusCode::OK,
        &TrackingPage {
            shell: Shell::new(&state.platform_name(), &caller),
            report: Some(tracked),
            bad_code: false,
        },
    );
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
