//! The console's consents page (Q15.2.h; Decree 13/2023 art. 11, 12). A citizen gives consent
//! to share their records with another agency, sees what each consent covers — data, purpose,
//! processor, term — revokes it, and sees every exchange about them. An agency administrator
//! sees the consents in which the agency provides or consumes, identity numbers masked.

use std::collections::HashMap;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use chrono::{NaiveDate, Utc};
use lgsp_core::catalog::{AccessLevel, DatasetId};
use lgsp_core::consent::{ConsentPurpose, ConsentState};
use lgsp_core::exchange::{GrantFields, PurposeCode};
use lgsp_core::service::ServiceState;
use lgsp_core::{Actor, AgencyCode, CitizenId, Role, SystemCode, Text};
use lgsp_store::{Consent, RequestTarget, ServiceFilter};
use serde::Deserialize;

use crate::app::AppState;
use crate::auth::Caller;
use crate::catalog::{today, Snapshot};
use crate::consents::{self, ConsentBody};
use crate::error::{ApiError, ErrorCode};
use crate::extract::{Form, Path};
use crate::grants::TargetRef;
use crate::portal::to_login;
use crate::portal::view::{date_time_vi, date_vi, render, Shell};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console/consents", get(page).post(give))
        .route("/console/consents/{id}/revoke", post(revoke))
}

struct ConsentRow {
    id: i64,
    subject: String,
    provider: String,
    target: String,
    processor: String,
    fields: String,
    purpose: String,
    term: String,
    state: &'static str,
    state_class: &'static str,
    may_revoke: bool,
}

impl ConsentRow {
    fn new(c: &Consent, citizen: bool) -> Self {
        let state = c.state(Utc::now());
        let target = match &c.target {
            RequestTarget::Service { .. } => format!("Dịch vụ “{}”", c.target_name),
            RequestTarget::Dataset { id } => format!("Bộ dữ liệu {id}"),
        };
        let processor = match &c.consumer_system {
            Some(system) => format!("{} — hệ thống {system}", c.consumer_name),
            None => format!("{} — mọi hệ thống của cơ quan", c.consumer_name),
        };
        // The exclusive end is the first instant of the next day: show the last day itself.
        let last_day = c.valid_until - chrono::Duration::seconds(1);
        Self {
            id: c.id,
            subject: format!(
                "{} (CCCD {})",
                c.subject_name,
                c.citizen_id
                    .as_ref()
                    .map_or_else(|| "—".to_owned(), CitizenId::masked)
            ),
            provider: c.provider_name.clone(),
            target,
            processor,
            fields: c.fields.as_slice().join(", "),
            purpose: format!("{} — {}", c.purpose.code.as_str(), c.purpose.text),
            term: format!("{} – {}", date_vi(c.valid_from), date_vi(last_day)),
            state: state.label_vi(),
            state_class: match state {
                ConsentState::Active => "active",
                ConsentState::Expired => "suspended",
                ConsentState::Revoked => "terminated",
            },
            may_revoke: citizen && state != ConsentState::Revoked,
        }
    }
}

struct ExchangeRow {
    log_index: i64,
    at: String,
    consumer: String,
    target: String,
    purpose: String,
    outcome: String,
    allowed: bool,
}

struct Choice {
    value: String,
    label: String,
}

#[derive(Template)]
#[template(path = "console/consents.html")]
struct ConsentsPage {
    shell: Shell,
    citizen: bool,
    citizen_id: Option<String>,
    consents: Vec<ConsentRow>,
    exchanges: Vec<ExchangeRow>,
    targets: Vec<Choice>,
    agencies: Vec<Choice>,
}

/// Whether the caller is a citizen (who gives consent) rather than an agency administrator
/// (who reads the consents concerning the agency).
fn is_citizen(caller: &Caller) -> bool {
    matches!(&caller.actor, Actor::Person { assignment, .. } if assignment.role() == Role::Citizen)
}

async fn page(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    if caller.actor == Actor::Anonymous {
        return Ok(to_login());
    }
    let consents = match consents::visible(&state, &caller).await {
        Ok(consents) => consents,
        Err(error) if error.code() == ErrorCode::Forbidden => {
            return Ok(super::forbidden(&state, &caller))
        }
        Err(error) => return Err(error),
    };
    let citizen = is_citizen(&caller);
    let citizen_id = caller
        .user
        .as_ref()
        .and_then(|u| u.citizen_id.as_ref())
        .map(CitizenId::masked);
    let agencies = state.store.list_agencies().await?;
    let names: HashMap<String, String> = agencies
        .iter()
        .map(|a| (a.code.to_string(), a.name.to_string()))
        .collect();
    let (exchanges, targets) = if citizen && citizen_id.is_some() {
        let exchanges = consents::my_exchanges(&state, &caller)
            .await?
            .into_iter()
            .map(|e| {
                let agency = e.consumer_agency.clone().unwrap_or_default();
                ExchangeRow {
                    log_index: e.log_index,
                    at: date_time_vi(e.at),
                    consumer: format!(
                        "{} ({agency}){}",
                        names.get(&agency).map_or("", String::as_str),
                        e.consumer_system
                            .map(|s| format!(" — hệ thống {s}"))
                            .unwrap_or_default()
                    ),
                    target: e.target.unwrap_or_default(),
                    purpose: e.purpose.unwrap_or_default(),
                    outcome: match &e.refusal {
                        None if e.status < 400 => "Đã cung cấp dữ liệu".to_owned(),
                        Some(code) => format!("Bị từ chối ({code})"),
                        None => format!("Không thành công ({})", e.status),
                    },
                    allowed: e.refusal.is_none() && e.status < 400,
                }
            })
            .collect();
        (exchanges, consent_targets(&state).await?)
    } else {
        (Vec::new(), Vec::new())
    };
    Ok(render(
        StatusCode::OK,
        &ConsentsPage {
            shell: Shell::new(&state.platform_name(), &caller),
            citizen,
            citizen_id,
            consents: consents
                .iter()
                .map(|c| ConsentRow::new(c, citizen))
                .collect(),
            exchanges,
            targets,
            agencies: agencies
                .iter()
                .map(|a| Choice {
                    value: a.code.to_string(),
                    label: format!("{} ({})", a.name, a.code),
                })
                .collect(),
        },
    ))
}

/// What a citizen can consent to: published services, and datasets of personal data with
/// hosted records.
async fn consent_targets(state: &AppState) -> Result<Vec<Choice>, ApiError> {
    let mut choices: Vec<Choice> = state
        .store
        .list_services(&ServiceFilter {
            state: Some(ServiceState::Published),
            ..ServiceFilter::default()
        })
        .await?
        .into_iter()
        .map(|s| Choice {
            value: format!("service:{}", s.id),
            label: format!("Dịch vụ “{}” — {}", s.name, s.provider_name),
        })
        .collect();
    let snapshot = Snapshot::load(state, today()).await?;
    for published in snapshot
        .datasets
        .iter()
        .filter(|d| d.dataset.access_level == AccessLevel::Personal)
    {
        if state
            .store
            .record_table(&published.dataset.id)
            .await?
            .is_some()
        {
            choices.push(Choice {
                value: format!("dataset:{}", published.dataset.id),
                label: format!(
                    "Bộ dữ liệu “{}” — {}",
                    published.dataset.title, published.owner_name
                ),
            });
        }
    }
    Ok(choices)
}

#[derive(Deserialize)]
pub struct ConsentForm {
    csrf: String,
    target: String,
    consumer: String,
    #[serde(default)]
    consumer_system: String,
    /// Field names (datasets) or JSON pointers (services), comma-separated; empty: all.
    #[serde(default)]
    fields: String,
    purpose_code: String,
    purpose_text: String,
    /// `dd/mm/yyyy`.
    until: String,
}

fn invalid(field: &str, message: impl std::fmt::Display) -> ApiError {
    ApiError::new(ErrorCode::InvalidBody).detail(format!("{field}: {message}"))
}

impl ConsentForm {
    fn parse(&self) -> Result<ConsentBody, ApiError> {
        let target = match self.target.split_once(':') {
            Some(("service", id)) => TargetRef::Service {
                id: id
                    .parse()
                    .map_err(|_| invalid("target", "unknown service"))?,
            },
            Some(("dataset", id)) => TargetRef::Dataset {
                id: DatasetId::parse(id).map_err(|e| invalid("target", e))?,
            },
            _ => return Err(invalid("target", "choose a service or a dataset")),
        };
        let consumer_system = match self.consumer_system.trim() {
            "" => None,
            code => Some(SystemCode::parse(code).map_err(|e| invalid("consumer_system", e))?),
        };
        let named: Vec<String> = self
            .fields
            .split([',', '\n'])
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .map(str::to_owned)
            .collect();
        let fields = match named.is_empty() {
            true => None,
            false => Some(GrantFields::new(named).map_err(|e| invalid("fields", e))?),
        };
        Ok(ConsentBody {
            target,
            consumer: AgencyCode::parse(self.consumer.trim())
                .map_err(|e| invalid("consumer", e))?,
            consumer_system,
            fields,
            purpose: ConsentPurpose {
                code: PurposeCode::parse(self.purpose_code.trim())
                    .map_err(|e| invalid("purpose_code", e))?,
                text: Text::parse(self.purpose_text.trim())
                    .map_err(|e| invalid("purpose_text", e))?,
            },
            until: NaiveDate::parse_from_str(self.until.trim(), "%d/%m/%Y")
                .map_err(|_| invalid("until", "a date as dd/mm/yyyy"))?,
        })
    }
}

const BACK: &str = "/console/consents";

async fn give(
    State(state): State<AppState>,
    caller: Caller,
    Form(form): Form<ConsentForm>,
) -> Result<Response, ApiError> {
    if caller.web_session.is_none() {
        return Ok(to_login());
    }
    caller.check_csrf(Some(&form.csrf))?;
    let given = match form.parse() {
        Ok(body) => consents::give(&state, &caller, body).await,
        Err(error) => Err(error),
    };
    answer(&state, &caller, given.map(|_| ()))
}

#[derive(Deserialize)]
pub struct RevokeForm {
    csrf: String,
}

async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Form(form): Form<RevokeForm>,
) -> Result<Response, ApiError> {
    if caller.web_session.is_none() {
        return Ok(to_login());
    }
    caller.check_csrf(Some(&form.csrf))?;
    let revoked = consents::revoke(&state, &caller, id).await;
    answer(&state, &caller, revoked.map(|_| ()))
}

/// Back to the page after a step, or the page saying in Vietnamese why it was refused.
fn answer(
    state: &AppState,
    caller: &Caller,
    done: Result<(), ApiError>,
) -> Result<Response, ApiError> {
    super::after_form(state, caller, done, BACK.to_owned())
}
