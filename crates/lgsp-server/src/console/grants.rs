//! The console's grants page (Q13.1, Q15.1.c): the grants on the person's agency's resources and
//! those its systems hold, with suspension, resumption and termination, each with its reason.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use lgsp_core::exchange::{GrantStep, Target};
use lgsp_core::{Action, Resource, Text};
use lgsp_store::{GrantFilter, GrantRecord};
use serde::Deserialize;

use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorCode};
use crate::extract::{Form, Path};
use crate::grants;
use crate::portal::to_login;
use crate::portal::view::{date_vi, render, Shell};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console/grants", get(list))
        .route("/console/grants/{id}/step", post(take_step))
}

struct GrantRow {
    id: i64,
    consumer: String,
    target: String,
    provider: String,
    fields: String,
    purposes: String,
    validity: String,
    quota: String,
    status: &'static str,
    status_class: &'static str,
    reason: Option<String>,
    until: Option<String>,
    source: &'static str,
    basis: &'static str,
    may_suspend: bool,
    may_resume: bool,
    may_terminate: bool,
}

impl GrantRow {
    fn new(record: &GrantRecord, may_update: bool) -> Self {
        let grant = &record.grant;
        let status = &grant.status;
        let possible = |step: GrantStep| may_update && status.take(step).is_ok();
        let any_reason = || GrantStep::Suspend {
            reason: Text::parse("x").expect("a non-empty text"),
        };
        let target = match &grant.target {
            Target::Service {
                provider,
                code,
                version,
            } => format!(
                "Dịch vụ {}/{}/{code}/{version}",
                provider.agency, provider.code
            ),
            Target::Dataset { id } => format!("Bộ dữ liệu {id}"),
        };
        let validity = match grant.validity.until {
            Some(until) => format!("{} – {}", date_vi(grant.validity.from), date_vi(until)),
            None => format!("Từ {}", date_vi(grant.validity.from)),
        };
        Self {
            id: grant.id,
            consumer: format!("{}/{}", grant.consumer.agency, grant.consumer.code),
            target,
            provider: record.provider.to_string(),
            fields: grant.fields.as_slice().join(", "),
            purposes: grant
                .purposes
                .as_slice()
                .iter()
                .map(|p| p.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            validity,
            quota: grant.per_minute.map_or_else(
                || "Không giới hạn".to_owned(),
                |n| format!("{n} yêu cầu/phút"),
            ),
            status: status.label_vi(),
            status_class: status.as_str(),
            reason: status.reason().map(ToString::to_string),
            until: record
                .suspended_until
                .filter(|_| status.as_str() == "suspended")
                .map(crate::portal::view::date_time_vi),
            source: match record.source {
                lgsp_core::exchange::GrantSource::Direct => "Cấp trực tiếp",
                lgsp_core::exchange::GrantSource::Subscription => "Đăng ký chia sẻ mặc định",
                lgsp_core::exchange::GrantSource::Request { .. } => "Theo đề nghị chia sẻ",
            },
            basis: grant.basis.label_vi(),
            may_suspend: possible(any_reason()),
            may_resume: possible(GrantStep::Resume),
            may_terminate: possible(GrantStep::Terminate {
                reason: Text::parse("x").expect("a non-empty text"),
            }),
        }
    }
}

#[derive(Template)]
#[template(path = "console/grants.html")]
struct GrantsPage {
    shell: Shell,
    grants: Vec<GrantRow>,
}

async fn list(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    let agency = match super::caller_agency(&state, &caller) {
        Ok(agency) => agency,
        Err(page) => return Ok(*page),
    };
    let own = Resource::Grant {
        provider: &agency,
        consumer: &agency,
    };
    if let Some(response) = super::refusal(&state, &caller, own) {
        return Ok(response);
    }
    let rows = state
        .store
        .list_grants(&GrantFilter::default())
        .await?
        .iter()
        .filter(|g| caller.authorize(Action::Read, grants::resource(g)).is_ok())
        .map(|g| {
            let may_update = caller
                .authorize(Action::Update, grants::resource(g))
                .is_ok();
            GrantRow::new(g, may_update)
        })
        .collect();
    Ok(render(
        StatusCode::OK,
        &GrantsPage {
            shell: Shell::new(&state.platform_name(), &caller),
            grants: rows,
        },
    ))
}

#[derive(Deserialize)]
pub struct StepForm {
    csrf: String,
    step: String,
    #[serde(default)]
    reason: String,
    /// The planned end of a suspension, `YYYY-MM-DDTHH:MM` in Vietnam time (a
    /// `datetime-local` input); empty for none.
    #[serde(default)]
    until: String,
}

/// A `datetime-local` value in Vietnam time, or `invalid_body` naming `field`.
pub fn local_time(
    field: &str,
    value: &str,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, ApiError> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    chrono::NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M")
        .ok()
        .and_then(|t| t.and_local_timezone(lgsp_core::calendar::VIETNAM).single())
        .map(|t| Some(t.with_timezone(&chrono::Utc)))
        .ok_or_else(|| {
            ApiError::new(ErrorCode::InvalidBody)
                .detail(format!("{field}: `{value}` is not a date and time"))
        })
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
    let back = "/console/grants".to_owned();
    let reason = || {
        Text::parse(&form.reason)
            .map_err(|e| ApiError::new(ErrorCode::InvalidBody).detail(format!("reason: {e}")))
    };
    let step = match form.step.as_str() {
        "suspend" => reason().map(|reason| GrantStep::Suspend { reason }),
        "resume" => Ok(GrantStep::Resume),
        "terminate" => reason().map(|reason| GrantStep::Terminate { reason }),
        _ => Err(ApiError::new(ErrorCode::InvalidRequest).detail("unknown step")),
    };
    let taken = match (step, local_time("until", &form.until)) {
        (Ok(step), Ok(until)) => grants::take(&state, &caller, id, step, until).await,
        (Err(error), _) | (_, Err(error)) => Err(error),
    };
    super::after_form(&state, &caller, taken, back)
}
