//! The public portal: home page, the agency registry, signing in and out, and the pages shown
//! for unknown addresses.

use askama::Template;
use axum::extract::State;
use axum::http::header::{ACCEPT, CACHE_CONTROL, CONTENT_TYPE, LOCATION, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use lgsp_store::SessionKind;
use serde::Deserialize;

mod catalog;
pub mod error_reports;
mod preview;
pub mod services;
mod statistics;
mod transparency;
pub mod view;

use crate::app::AppState;
use crate::auth::caller::{cookie, SESSION_COOKIE};
use crate::auth::secrets::{constant_time_eq, random_token};
use crate::auth::sign_in::{open_session, sign_in, SignInError};
use crate::auth::Caller;
use crate::error::{ApiError, ErrorCode};
use crate::extract::Form;
use view::{render, AgencyRow, Shell};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/agencies", get(agencies))
        .route("/transparency", get(transparency::transparency))
        .route("/maintenance", get(maintenance))
        .route("/statistics", get(statistics::page))
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
        .route("/static/app.css", get(stylesheet))
        .merge(catalog::routes())
        .merge(error_reports::routes())
        .merge(services::routes())
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    shell: Shell,
    agency_count: usize,
    today: String,
}

async fn home(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    let agency_count = state.store.list_agencies().await?.len();
    Ok(render(
        StatusCode::OK,
        &HomePage {
            shell: Shell::new(&state.platform_name(), &caller),
            agency_count,
            today: view::date_time_vi(chrono::Utc::now()),
        },
    ))
}

#[derive(Template)]
#[template(path = "agencies.html")]
struct AgenciesPage {
    shell: Shell,
    agencies: Vec<AgencyRow>,
}

async fn agencies(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    let agencies = state.store.list_agencies().await?;
    Ok(render(
        StatusCode::OK,
        &AgenciesPage {
            shell: Shell::new(&state.platform_name(), &caller),
            agencies: agencies.into_iter().map(AgencyRow::from).collect(),
        },
    ))
}

/// Cookie of the sign-in form's CSRF token (the form is shown before any session exists).
const LOGIN_CSRF_COOKIE: &str = "lgsp_login";

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    shell: Shell,
    login_csrf: String,
    username: String,
    error: Option<String>,
}

fn login_page(
    state: &AppState,
    caller: &Caller,
    status: StatusCode,
    username: String,
    error: Option<String>,
) -> Response {
    let login_csrf = random_token();
    let mut response = render(
        status,
        &LoginPage {
            shell: Shell::new(&state.platform_name(), caller),
            login_csrf: login_csrf.clone(),
            username,
            error,
        },
    );
    let cookie = format!(
        "{LOGIN_CSRF_COOKIE}={login_csrf}; Path=/login; HttpOnly; SameSite=Strict{}",
        secure_attribute(state)
    );
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(SET_COOKIE, value);
    }
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn secure_attribute(state: &AppState) -> &'static str {
    if state.settings.secure_cookies() {
        "; Secure"
    } else {
        ""
    }
}

async fn login_form(State(state): State<AppState>, caller: Caller) -> Response {
    if caller.user.is_some() {
        return Redirect::to("/console").into_response();
    }
    login_page(&state, &caller, StatusCode::OK, String::new(), None)
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    csrf: String,
}

async fn login(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, ApiError> {
    let presented = cookie(&headers, LOGIN_CSRF_COOKIE);
    if !presented.is_some_and(|expected| constant_time_eq(expected, &form.csrf)) {
        return Ok(login_page(
            &state,
            &caller,
            StatusCode::FORBIDDEN,
            form.username,
            Some("Phiên làm việc của biểu mẫu đã hết hạn. Vui lòng đăng nhập lại.".into()),
        ));
    }
    let user = match sign_in(&state, &form.username, &form.password).await {
        Ok(user) => user,
        Err(SignInError::Invalid) => {
            return Ok(login_page(
                &state,
                &caller,
                StatusCode::UNAUTHORIZED,
                form.username,
                Some("Tên đăng nhập hoặc mật khẩu không đúng.".into()),
            ))
        }
        Err(SignInError::Throttled { retry_after }) => {
            let mut response = login_page(
                &state,
                &caller,
                StatusCode::TOO_MANY_REQUESTS,
                form.username,
                Some(format!(
                    "Bạn đã nhập sai nhiều lần. Vui lòng thử lại sau {retry_after} giây."
                )),
            );
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                HeaderValue::from(retry_after),
            );
            return Ok(response);
        }
        Err(SignInError::Store(error)) => return Err(error.into()),
    };
    // A session from before signing in (if any) is dropped: a new token every time.
    if let Some(old) = caller.web_session {
        state.store.delete_session(&old.token_hash).await?;
    }
    let session = open_session(&state, &user, SessionKind::Web).await?;
    tracing::info!(user = %user.username, "signed in to the console");
    let max_age = i64::from(state.settings.session_minutes) * 60;
    let session_cookie = format!(
        "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{}",
        session.token,
        secure_attribute(&state)
    );
    let clear_login =
        format!("{LOGIN_CSRF_COOKIE}=; Path=/login; HttpOnly; SameSite=Strict; Max-Age=0");
    let mut response = Redirect::to("/console").into_response();
    for value in [session_cookie, clear_login] {
        response.headers_mut().append(
            SET_COOKIE,
            HeaderValue::from_str(&value).map_err(ApiError::internal)?,
        );
    }
    Ok(response)
}

#[derive(Deserialize)]
struct LogoutForm {
    csrf: String,
}

async fn logout(
    State(state): State<AppState>,
    caller: Caller,
    Form(form): Form<LogoutForm>,
) -> Result<Response, ApiError> {
    if caller.web_session.is_none() {
        return Ok(Redirect::to("/").into_response());
    }
    caller.check_csrf(Some(&form.csrf))?;
    if let Some(session) = &caller.web_session {
        state.store.delete_session(&session.token_hash).await?;
    }
    tracing::info!(user = %caller.name(), "signed out");
    let mut response = Redirect::to("/").into_response();
    let clear = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    response.headers_mut().insert(
        SET_COOKIE,
        HeaderValue::from_str(&clear).map_err(ApiError::internal)?,
    );
    Ok(response)
}

async fn stylesheet() -> impl IntoResponse {
    (
        [
            (CONTENT_TYPE, "text/css; charset=utf-8"),
            (CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/app.css"),
    )
}

#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage {
    pub shell: Shell,
    pub heading: &'static str,
    pub message: &'static str,
}

/// Whether a request comes from a browser page rather than an API client.
pub fn wants_html(headers: &HeaderMap, path: &str) -> bool {
    !path.starts_with("/api/")
        && headers
            .get(ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"))
}

/// The "not found" page.
pub fn not_found_page(state: &AppState, caller: &Caller) -> Response {
    render(
        StatusCode::NOT_FOUND,
        &MessagePage {
            shell: Shell::new(&state.platform_name(), caller),
            heading: "Không tìm thấy trang",
            message: "Địa chỉ bạn mở không tồn tại hoặc đã được chuyển đi.",
        },
    )
}

/// Unknown addresses: a page for browsers, a problem for everyone else.
pub async fn not_found(State(state): State<AppState>, parts: Parts) -> Response {
    if wants_html(&parts.headers, parts.uri.path()) {
        return not_found_page(&state, &Caller::anonymous());
    }
    ApiError::new(ErrorCode::NotFound)
        .detail(format!("no route for {}", parts.uri.path()))
        .into_response()
}

/// A 404 problem for machine-readable addresses (DCAT documents and the like).
pub fn not_found_problem(detail: &str) -> Response {
    ApiError::new(ErrorCode::ResourceNotFound)
        .detail(detail)
        .into_response()
}

/// A request with a method the route does not take.
pub async fn method_not_allowed() -> Response {
    ApiError::new(ErrorCode::MethodNotAllowed).into_response()
}

/// A console address opened without signing in: go to the sign-in page.
pub fn to_login() -> Response {
    (StatusCode::SEE_OTHER, [(LOCATION, "/login")]).into_response()
}

#[derive(Template)]
#[template(path = "maintenance.html")]
struct MaintenancePage {
    shell: Shell,
    notices: Vec<crate::provider::maintenance::Notice>,
}

/// Maintenance announced and not over, soonest first (Decree 47/2020 art. 43: announced on
/// the portal).
async fn maintenance(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    let now = chrono::Utc::now();
    let notices = state
        .store
        .list_maintenance(&lgsp_store::MaintenanceFilter {
            ending_after: Some(now),
            ..lgsp_store::MaintenanceFilter::default()
        })
        .await?
        .iter()
        .map(|w| crate::provider::maintenance::Notice::new(w, now))
        .collect();
    Ok(render(
        StatusCode::OK,
        &MaintenancePage {
            shell: Shell::new(&state.platform_name(), &caller),
            notices,
        },
    ))
}
