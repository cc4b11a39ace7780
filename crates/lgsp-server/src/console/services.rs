//! The console's services pages: the services of the person's agency (all of them for the
//! operator and the auditor), the registration form, lifecycle steps, the connection guide and
//! the conformance check with its result (Q7.2, Q8.1, Q21.3).

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use lgsp_core::service::LifecycleStep;
use lgsp_core::{Action, Actor, Resource};
use lgsp_store::{ServiceFilter, StoreError};
use serde::Deserialize;
use serde_json::{json, Value};

use super::refusal;
use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorCode};
use crate::extract::{Form, Path};
use crate::portal::services::{agency_names, ServiceCard};
use crate::portal::to_login;
use crate::portal::view::{date_time_vi, render, Shell};
use crate::services::{self, ServiceBody};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console/services", get(list).post(register))
        .route("/console/services/{id}", get(page))
        .route("/console/services/{id}/step", post(take_step))
        .route("/console/services/{id}/conformance", post(check))
}

/// A system a service may be registered on: `agency/code` and its name.
struct SystemOption {
    value: String,
    label: String,
}

/// The registration form's values, kept when a registration is refused.
#[derive(Default, Deserialize)]
pub struct RegisterForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    system: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    upstream_url: String,
    method_get: Option<String>,
    method_post: Option<String>,
    method_put: Option<String>,
    method_patch: Option<String>,
    method_delete: Option<String>,
    #[serde(default)]
    openapi: String,
    /// One JSON pointer a line.
    #[serde(default)]
    shareable_fields: String,
    #[serde(default)]
    sharing_mode: String,
    #[serde(default)]
    docs: String,
}

impl RegisterForm {
    fn methods(&self) -> Vec<&'static str> {
        [
            (&self.method_get, "GET"),
            (&self.method_post, "POST"),
            (&self.method_put, "PUT"),
            (&self.method_patch, "PATCH"),
            (&self.method_delete, "DELETE"),
        ]
        .into_iter()
        .filter(|(checked, _)| checked.is_some())
        .map(|(_, method)| method)
        .collect()
    }

    /// The API's body for this form.
    fn body(&self) -> Result<ServiceBody, ApiError> {
        let invalid = |detail: String| ApiError::new(ErrorCode::InvalidBody).detail(detail);
        let (agency, system) = self
            .system
            .split_once('/')
            .ok_or_else(|| invalid("system: choose a system".into()))?;
        let openapi: Value = serde_json::from_str(&self.openapi).map_err(|e| {
            ApiError::new(ErrorCode::InvalidOpenapi).detail(format!("not JSON: {e}"))
        })?;
        let fields: Vec<&str> = self
            .shareable_fields
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        serde_json::from_value(json!({
            "agency": agency,
            "system": system,
            "code": self.code.trim(),
            "version": self.version.trim(),
            "name": self.name,
            "upstream_url": self.upstream_url.trim(),
            "methods": self.methods(),
            "openapi": openapi,
            "shareable_fields": fields,
            "sharing_mode": self.sharing_mode,
            "docs": self.docs,
        }))
        .map_err(|e| invalid(e.to_string()))
    }
}

#[derive(Template)]
#[template(path = "console/services.html")]
struct ListPage {
    shell: Shell,
    services: Vec<ServiceCard>,
    systems: Vec<SystemOption>,
    form: RegisterForm,
    error: Option<(&'static str, Option<String>)>,
}

async fn list_page(
    state: &AppState,
    caller: &Caller,
    form: RegisterForm,
    error: Option<&ApiError>,
) -> Result<Response, ApiError> {
    let names = agency_names(state).await?;
    let services = state
        .store
        .list_services(&ServiceFilter {
            agency: super::own_agency(caller),
            ..ServiceFilter::default()
        })
        .await?
        .into_iter()
        .filter(|s| {
            caller
                .authorize(Action::Read, services::resource(s))
                .is_ok()
        })
        .map(|s| {
            let name = names.get(&s.provider.agency).map_or("", String::as_str);
            ServiceCard::new(&s, name)
        })
        .collect();
    let systems = state
        .store
        .list_systems(super::own_agency(caller).as_ref())
        .await?
        .into_iter()
        .filter(|s| {
            caller
                .authorize(
                    Action::Create,
                    Resource::Service {
                        owner: &s.agency,
                        published: false,
                    },
                )
                .is_ok()
        })
        .map(|s| SystemOption {
            value: format!("{}/{}", s.agency, s.code),
            label: format!("{} ({}) – {}", s.name, s.code, s.base_url),
        })
        .collect();
    let status = error.map_or(StatusCode::OK, |e| e.code().status());
    Ok(render(
        status,
        &ListPage {
            shell: Shell::new(&state.platform_name(), caller),
            services,
            systems,
            form,
            error: error.map(|e| {
                (
                    super::problem_vi(e.code()),
                    e.detail_text().map(str::to_owned),
                )
            }),
        },
    ))
}

async fn list(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    let agency = match super::caller_agency(&state, &caller) {
        Ok(agency) => agency,
        Err(page) => return Ok(*page),
    };
    let draft = Resource::Service {
        owner: &agency,
        published: false,
    };
    if let Some(response) = refusal(&state, &caller, draft) {
        return Ok(response);
    }
    let form = RegisterForm {
        version: "v1".into(),
        method_get: Some("on".into()),
        sharing_mode: "on_request".into(),
        ..RegisterForm::default()
    };
    list_page(&state, &caller, form, None).await
}

/// Takes the registration form: a draft service, then its page; or the form again with what
/// was wrong.
async fn register(
    State(state): State<AppState>,
    caller: Caller,
    Form(form): Form<RegisterForm>,
) -> Result<Response, ApiError> {
    if caller.actor == Actor::Anonymous || caller.web_session.is_none() {
        return Ok(to_login());
    }
    caller.check_csrf(Some(&form.csrf))?;
    let registered = match form.body() {
        Ok(body) => services::register(&state, &caller, body).await,
        Err(error) => Err(error),
    };
    match registered {
        Ok(service) => {
            Ok(Redirect::to(&format!("/console/services/{}", service.id)).into_response())
        }
        Err(error) if !error.code().status().is_server_error() => {
            list_page(&state, &caller, form, Some(&error)).await
        }
        Err(error) => Err(error),
    }
}

struct CheckRow {
    label: &'static str,
    passed: bool,
    detail: String,
}

#[derive(Template)]
#[template(path = "console/service.html")]
struct ServicePage {
    shell: Shell,
    s: ServiceCard,
    upstream: String,
    docs: String,
    steps: Vec<(&'static str, &'static str)>,
    may_check: bool,
    checked: Option<String>,
    latency: Option<i64>,
    checks: Vec<CheckRow>,
    history: Vec<String>,
}

async fn page(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    if let Some(response) = refusal(&state, &caller, Resource::Console) {
        return Ok(response);
    }
    let service = match state.store.get_service(id).await {
        Ok(service) => service,
        Err(StoreError::NotFound(_)) => return Ok(crate::portal::not_found_page(&state, &caller)),
        Err(other) => return Err(other.into()),
    };
    if let Some(response) = refusal(&state, &caller, services::resource(&service)) {
        return Ok(response);
    }
    let may_update = caller
        .authorize(Action::Update, services::resource(&service))
        .is_ok();
    let steps = [
        (LifecycleStep::Publish, "Công bố"),
        (LifecycleStep::Deprecate, "Ngừng khuyến nghị"),
        (LifecycleStep::Retire, "Ngừng cung cấp"),
    ]
    .into_iter()
    .filter(|(step, _)| may_update && lgsp_core::service::take_step(service.state, *step).is_ok())
    .map(|(step, label)| (step.as_str(), label))
    .collect();
    let latest = state.store.latest_service_check(id).await?;
    let history = state
        .store
        .service_events(id)
        .await?
        .into_iter()
        .map(|e| {
            format!(
                "{} — {} — {}",
                date_time_vi(e.at),
                e.to_state.label_vi(),
                e.actor
            )
        })
        .collect();
    let names = agency_names(&state).await?;
    let name = names
        .get(&service.provider.agency)
        .map_or("", String::as_str);
    Ok(render(
        StatusCode::OK,
        &ServicePage {
            shell: Shell::new(&state.platform_name(), &caller),
            s: ServiceCard::new(&service, name),
            upstream: service.upstream_url.to_string(),
            docs: service.docs.to_string(),
            steps,
            may_check: caller
                .authorize(Action::Assess, services::resource(&service))
                .is_ok(),
            checked: latest
                .as_ref()
                .map(|c| format!("{} ({})", date_time_vi(c.checked_at), c.checked_by)),
            latency: latest.as_ref().and_then(|c| c.latency_ms),
            checks: latest
                .map(|c| {
                    c.results
                        .into_iter()
                        .map(|r| CheckRow {
                            label: r.check.label_vi(),
                            passed: r.passed,
                            detail: r.detail,
                        })
                        .collect()
                })
                .unwrap_or_default(),
            history,
        },
    ))
}

#[derive(Deserialize)]
pub struct StepForm {
    csrf: String,
    step: String,
}

async fn take_step(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Form(form): Form<StepForm>,
) -> Result<Response, ApiError> {
    if caller.web_session.is_none() {
        return Ok(to_login());
    }
    caller.check_csrf(Some(&form.csrf))?;
    let step = match form.step.as_str() {
        "publish" => LifecycleStep::Publish,
        "deprecate" => LifecycleStep::Deprecate,
        "retire" => LifecycleStep::Retire,
        _ => {
            return Err(ApiError::new(ErrorCode::InvalidRequest).detail("unknown step"));
        }
    };
    let back = format!("/console/services/{id}");
    let taken = services::step(&state, &caller, id, step).await;
    super::after_form(&state, &caller, taken, back)
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

/// Runs the conformance check and shows the service's page with its result.
async fn check(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, ApiError> {
    if caller.web_session.is_none() {
        return Ok(to_login());
    }
    caller.check_csrf(Some(&form.csrf))?;
    let back = format!("/console/services/{id}");
    let checked = match services::allowed(&state, &caller, id, Action::Assess).await {
        Ok(service) => services::check_now(&state, &caller, &service).await,
        Err(error) => Err(error),
    };
    super::after_form(&state, &caller, checked, back)
}
