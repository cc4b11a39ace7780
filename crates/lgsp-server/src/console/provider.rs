//! The console's pages of the provider's procedures (Q15.1.b, Q15.1.c, Q15.2.e): maintenance
//! announcements and suspensions of every grant on a resource (*Tạm ngừng cung cấp*), the
//! exchange report (*Báo cáo trao đổi*), and usage reports (*Báo cáo tình hình khai thác*).
//! Each form does what the API does, through the same functions.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::Utc;
use lgsp_core::catalog::DatasetId;
use lgsp_core::{AgencyCode, Role, Text};
use lgsp_store::{MaintenanceFilter, ServiceFilter, SuspensionCause};
use serde::Deserialize;

use super::grants::local_time;
use super::{problem_page, refusal};
use crate::app::AppState;
use crate::auth::Caller;
use crate::catalog::{today, Snapshot};
use crate::error::{ApiError, ErrorCode};
use crate::extract::{Form, Path, Query};
use crate::grants::TargetRef;
use crate::portal::to_login;
use crate::portal::view::{date_time_vi, date_vi, render, Shell};
use crate::provider::maintenance::{self, MaintenanceBody, Notice};
use crate::provider::provider_resource;
use crate::provider::report::{self, day_vi, Period};
use crate::provider::suspensions::{self, SuspendBody};
use crate::provider::usage_reports::{self, AnswerBody, AskBody};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console/maintenance", get(maintenance_page))
        .route("/console/maintenance/announce", post(announce))
        .route("/console/maintenance/{id}/cancel", post(cancel))
        .route("/console/suspensions", post(suspend_all))
        .route("/console/suspensions/{id}/resume", post(resume_all))
        .route("/console/reports/exchanges", get(report_page))
        .route("/console/usage-reports", get(usage_list).post(ask))
        .route("/console/usage-reports/{id}", get(usage_page))
        .route("/console/usage-reports/{id}/answer", post(answer))
}

/// The agency whose resources a page shows: the caller's, or `None` (all) for the operator
/// and the auditor; or the page to answer instead.
fn scope(state: &AppState, caller: &Caller) -> Result<Option<AgencyCode>, Box<Response>> {
    let agency = match caller.actor.role() {
        Some(Role::Operator | Role::Auditor) => None,
        _ => Some(super::caller_agency(state, caller)?),
    };
    let resource = match &agency {
        Some(agency) => provider_resource(agency),
        None => lgsp_core::Resource::SecurityEvents,
    };
    match refusal(state, caller, resource) {
        Some(page) => Err(Box::new(page)),
        None => Ok(agency),
    }
}

/// Runs a form's step: back to `back` when done, the problem page when refused.
async fn outcome<T>(
    state: &AppState,
    caller: &Caller,
    back: String,
    done: Result<T, ApiError>,
) -> Result<Response, ApiError> {
    super::after_form(state, caller, done, back)
}

/// A resource the provider can choose in a form: `service:<id>` or `dataset:<id>`.
struct Choice {
    value: String,
    label: String,
}

async fn choices(state: &AppState, agency: Option<&AgencyCode>) -> Result<Vec<Choice>, ApiError> {
    let mut found: Vec<Choice> = state
        .store
        .list_services(&ServiceFilter {
            agency: agency.cloned(),
            ..ServiceFilter::default()
        })
        .await?
        .iter()
        .filter(|s| s.state.is_served())
        .map(|s| Choice {
            value: format!("service:{}", s.id),
            label: format!(
                "Dịch vụ “{}” ({}/{}/{})",
                s.name, s.provider.code, s.code, s.version
            ),
        })
        .collect();
    let snapshot = Snapshot::load(state, today()).await?;
    found.extend(
        snapshot
            .datasets
            .iter()
            .filter(|d| agency.is_none_or(|a| d.owner == a.as_str()))
            .map(|d| Choice {
                value: format!("dataset:{}", d.dataset.id),
                label: format!("Bộ dữ liệu “{}” ({})", d.dataset.title, d.dataset.id),
            }),
    );
    Ok(found)
}

/// A form's `service:<id>` or `dataset:<id>`.
fn target_of(value: &str) -> Result<TargetRef, ApiError> {
    let invalid =
        || ApiError::new(ErrorCode::InvalidBody).detail("target: choose a service or a dataset");
    match value.split_once(':') {
        Some(("service", id)) => Ok(TargetRef::Service {
            id: id.parse().map_err(|_| invalid())?,
        }),
        Some(("dataset", id)) => Ok(TargetRef::Dataset {
            id: DatasetId::parse(id).map_err(|_| invalid())?,
        }),
        _ => Err(invalid()),
    }
}

fn text(field: &str, value: &str) -> Result<Text, ApiError> {
    Text::parse(value)
        .map_err(|e| ApiError::new(ErrorCode::InvalidBody).detail(format!("{field}: {e}")))
}

struct SuspensionRow {
    id: i64,
    resource: String,
    cause: &'static str,
    reason: String,
    planned_end: String,
    created: String,
    resumed: Option<String>,
}

#[derive(Template)]
#[template(path = "console/maintenance.html")]
struct MaintenancePage {
    shell: Shell,
    notices: Vec<Notice>,
    cancellable: Vec<i64>,
    suspensions: Vec<SuspensionRow>,
    choices: Vec<Choice>,
    may_act: bool,
}

async fn maintenance_page(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Response, ApiError> {
    let agency = match scope(&state, &caller) {
        Ok(agency) => agency,
        Err(page) => return Ok(*page),
    };
    let now = Utc::now();
    let windows = state
        .store
        .list_maintenance(&MaintenanceFilter {
            provider: agency.clone(),
            ..MaintenanceFilter::default()
        })
        .await?;
    let may_act = caller.actor.role() == Some(Role::Operator)
        || caller.actor.role() == Some(Role::AgencyAdmin);
    let suspensions = state
        .store
        .list_resource_suspensions(agency.as_ref())
        .await?
        .into_iter()
        .map(|s| SuspensionRow {
            id: s.id,
            resource: match (&s.service_id, &s.dataset_id) {
                (Some(id), _) => format!("Dịch vụ số {id}"),
                (None, Some(d)) => format!("Bộ dữ liệu {d}"),
                _ => String::new(),
            },
            cause: s.cause.label_vi(),
            reason: s.reason,
            planned_end: s
                .planned_end
                .map(date_time_vi)
                .unwrap_or_else(|| "—".into()),
            created: date_time_vi(s.created_at),
            resumed: s.resumed_at.map(date_time_vi),
        })
        .collect();
    Ok(render(
        StatusCode::OK,
        &MaintenancePage {
            shell: Shell::new(&state.platform_name(), &caller),
            cancellable: windows
                .iter()
                .filter(|w| w.cancelled_at.is_none() && w.ends_at > now)
                .map(|w| w.id)
                .collect(),
            notices: windows.iter().map(|w| Notice::new(w, now)).collect(),
            suspensions,
            choices: choices(&state, agency.as_ref()).await?,
            may_act,
        },
    ))
}

#[derive(Deserialize)]
pub struct AnnounceForm {
    csrf: String,
    target: String,
    #[serde(default)]
    starts_at: String,
    ends_at: String,
    description: String,
    #[serde(default)]
    force_majeure: Option<String>,
}

async fn announce(
    State(state): State<AppState>,
    caller: Caller,
    Form(form): Form<AnnounceForm>,
) -> Result<Response, ApiError> {
    if caller.web_session.is_none() {
        return Ok(to_login());
    }
    caller.check_csrf(Some(&form.csrf))?;
    let body = (|| {
        Ok::<_, ApiError>(MaintenanceBody {
            target: target_of(&form.target)?,
            starts_at: local_time("starts_at", &form.starts_at)?,
            ends_at: local_time("ends_at", &form.ends_at)?.ok_or_else(|| {
                ApiError::new(ErrorCode::InvalidBody).detail("ends_at: the expected restoration")
            })?,
            description: text("description", &form.description)?,
            force_majeure: form.force_majeure.is_some(),
        })
    })();
    let done = match body {
        Ok(body) => maintenance::announce_window(&state, &caller, body).await,
        Err(error) => Err(error),
    };
    outcome(&state, &caller, "/console/maintenance".into(), done).await
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

async fn cancel(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, ApiError> {
    if caller.web_session.is_none() {
        return Ok(to_login());
    }
    caller.check_csrf(Some(&form.csrf))?;
    let done = maintenance::cancel_window(&state, &caller, id).await;
    outcome(&state, &caller, "/console/maintenance".into(), done).await
}

#[derive(Deserialize)]
pub struct SuspendForm {
    csrf: String,
    target: String,
    cause: String,
    reason: String,
    #[serde(default)]
    planned_end: String,
}

async fn suspend_all(
    State(state): State<AppState>,
    caller: Caller,
    Form(form): Form<SuspendForm>,
) -> Result<Response, ApiError> {
    if caller.web_session.is_none() {
        return Ok(to_login());
    }
    caller.check_csrf(Some(&form.csrf))?;
    let body = (|| {
        Ok::<_, ApiError>(SuspendBody {
            target: target_of(&form.target)?,
            cause: match form.cause.as_str() {
                "maintenance" => SuspensionCause::Maintenance,
                "force_majeure" => SuspensionCause::ForceMajeure,
                _ => {
                    return Err(ApiError::new(ErrorCode::InvalidBody)
                        .detail("cause: maintenance or force_majeure"))
                }
            },
            reason: text("reason", &form.reason)?,
            planned_end: local_time("planned_end", &form.planned_end)?,
        })
    })();
    let done = match body {
        Ok(body) => suspensions::suspend_all(&state, &caller, body).await,
        Err(error) => Err(error),
    };
    outcome(&state, &caller, "/console/maintenance".into(), done).await
}

async fn resume_all(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, ApiError> {
    if caller.web_session.is_none() {
        return Ok(to_login());
    }
    caller.check_csrf(Some(&form.csrf))?;
    let done = suspensions::resume_all(&state, &caller, id).await;
    outcome(&state, &caller, "/console/maintenance".into(), done).await
}

/// A report row as the page shows it.
struct StatRow {
    day: String,
    consumer: String,
    target: String,
    purpose: String,
    served: i64,
    refused: i64,
    bytes: i64,
}

impl StatRow {
    fn new(stat: &lgsp_store::ExchangeStat) -> Self {
        let unknown = || "Không xác định".to_owned();
        Self {
            day: day_vi(&stat.day),
            consumer: match (&stat.consumer_agency, &stat.consumer_system) {
                (Some(agency), Some(system)) => format!("{agency}/{system}"),
                _ => unknown(),
            },
            target: stat.target.clone().unwrap_or_else(unknown),
            purpose: stat.purpose.clone().unwrap_or_else(|| "—".into()),
            served: stat.served,
            refused: stat.refused,
            bytes: stat.bytes,
        }
    }
}

#[derive(Template)]
#[template(path = "console/exchange_report.html")]
struct ReportPage {
    shell: Shell,
    from: String,
    to: String,
    period: String,
    provider: Option<String>,
    totals: Vec<StatRow>,
    rows: Vec<StatRow>,
    download: String,
}

#[derive(Deserialize)]
pub struct ReportForm {
    from: Option<String>,
    to: Option<String>,
    provider: Option<String>,
}

async fn report_page(
    State(state): State<AppState>,
    caller: Caller,
    Query(form): Query<ReportForm>,
) -> Result<Response, ApiError> {
    let own = match scope(&state, &caller) {
        Ok(agency) => agency,
        Err(page) => return Ok(*page),
    };
    let back = "/console/reports/exchanges".to_owned();
    let asked = match form
        .provider
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        Some(code) => match AgencyCode::parse(code) {
            Ok(code) => Some(code),
            Err(e) => {
                let error =
                    ApiError::new(ErrorCode::InvalidParameter).detail(format!("provider: {e}"));
                return Ok(problem_page(&state, &caller, &error, back));
            }
        },
        None => own,
    };
    let provider = match report::scope(&caller, asked) {
        Ok(provider) => provider,
        Err(error) => return Ok(problem_page(&state, &caller, &error, back)),
    };
    // Default: the current month so far.
    let today = today();
    let first_of_month = today.format("%Y-%m-01").to_string();
    let from = form.from.unwrap_or(first_of_month);
    let to = form.to.unwrap_or_else(|| today.to_string());
    let period = match Period::parse(Some(&from), Some(&to)) {
        Ok(period) => period,
        Err(error) => return Ok(problem_page(&state, &caller, &error, back)),
    };
    let built = report::build(&state, period, provider.as_ref(), None).await?;
    let download = format!(
        "/api/v1/reports/exchanges?from={}&to={}{}",
        period.first,
        period.last,
        provider
            .as_ref()
            .map(|p| format!("&provider={p}"))
            .unwrap_or_default()
    );
    Ok(render(
        StatusCode::OK,
        &ReportPage {
            shell: Shell::new(&state.platform_name(), &caller),
            from: period.first.to_string(),
            to: period.last.to_string(),
            period: format!(
                "{} – {}",
                period.first.format("%d/%m/%Y"),
                period.last.format("%d/%m/%Y")
            ),
            provider: provider.map(|p| p.to_string()),
            totals: built.totals.iter().map(StatRow::new).collect(),
            rows: built.rows.iter().map(StatRow::new).collect(),
            download,
        },
    ))
}

struct UsageRow {
    id: i64,
    grant_id: i64,
    provider: String,
    consumer: String,
    period: String,
    due: String,
    state: &'static str,
    state_class: &'static str,
}

fn usage_state(report: &lgsp_store::UsageReport) -> (&'static str, &'static str) {
    let now = Utc::now();
    match report.answered_at {
        Some(at) if at > report.due_at => ("Đã trả lời (quá hạn)", "suspended"),
        Some(_) => ("Đã trả lời", "active"),
        None if report.is_overdue(now) => ("Quá hạn trả lời", "terminated"),
        None => ("Chờ trả lời", "pending"),
    }
}

impl UsageRow {
    fn new(report: &lgsp_store::UsageReport) -> Self {
        let (state, state_class) = usage_state(report);
        Self {
            id: report.id,
            grant_id: report.grant_id,
            provider: report.provider.clone(),
            consumer: format!("{}/{}", report.consumer_agency, report.consumer_system),
            period: format!(
                "{} – {}",
                date_vi(report.period_from),
                date_vi(report.period_to)
            ),
            due: date_time_vi(report.due_at),
            state,
            state_class,
        }
    }
}

#[derive(Template)]
#[template(path = "console/usage_reports.html")]
struct UsageListPage {
    shell: Shell,
    reports: Vec<UsageRow>,
    may_ask: bool,
}

async fn usage_list(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    if let Err(page) = scope(&state, &caller) {
        return Ok(*page);
    }
    let reports = usage_reports::visible(&state, &caller).await?;
    Ok(render(
        StatusCode::OK,
        &UsageListPage {
            shell: Shell::new(&state.platform_name(), &caller),
            reports: reports.iter().map(UsageRow::new).collect(),
            may_ask: matches!(
                caller.actor.role(),
                Some(Role::Operator | Role::AgencyAdmin)
            ),
        },
    ))
}

#[derive(Deserialize)]
pub struct AskForm {
    csrf: String,
    grant: String,
    questions: String,
    #[serde(default)]
    working_days: String,
}

async fn ask(
    State(state): State<AppState>,
    caller: Caller,
    Form(form): Form<AskForm>,
) -> Result<Response, ApiError> {
    if caller.web_session.is_none() {
        return Ok(to_login());
    }
    caller.check_csrf(Some(&form.csrf))?;
    let invalid = |detail: &str| ApiError::new(ErrorCode::InvalidBody).detail(detail.to_owned());
    let body = (|| {
        let questions = form
            .questions
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| text("questions", l))
            .collect::<Result<Vec<_>, _>>()?;
        Ok::<_, ApiError>(AskBody {
            grant: form
                .grant
                .trim()
                .parse()
                .map_err(|_| invalid("grant: a grant number"))?,
            questions,
            period_from: None,
            period_to: None,
            working_days: match form.working_days.trim() {
                "" => None,
                n => Some(n.parse().map_err(|_| invalid("working_days: 1 to 60"))?),
            },
        })
    })();
    match body {
        Ok(body) => match usage_reports::ask_report(&state, &caller, body).await {
            Ok(report) => {
                Ok(Redirect::to(&format!("/console/usage-reports/{}", report.id)).into_response())
            }
            Err(e) => outcome::<()>(&state, &caller, "/console/usage-reports".into(), Err(e)).await,
        },
        Err(e) => outcome::<()>(&state, &caller, "/console/usage-reports".into(), Err(e)).await,
    }
}

struct QuestionRow {
    number: usize,
    question: String,
    answer: Option<String>,
}

#[derive(Template)]
#[template(path = "console/usage_report.html")]
struct UsagePage {
    shell: Shell,
    r: UsageRow,
    questions: Vec<QuestionRow>,
    answered: Option<String>,
    fields: String,
    per_day: Vec<StatRow>,
    per_purpose: Vec<StatRow>,
    served: i64,
    refused: i64,
    bytes: i64,
    may_answer: bool,
}

async fn usage_page(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    if caller.actor == lgsp_core::Actor::Anonymous {
        return Ok(to_login());
    }
    let detail = match usage_reports::detail(&state, &caller, id).await {
        Ok(detail) => detail,
        Err(error) if !error.code().status().is_server_error() => {
            return Ok(problem_page(
                &state,
                &caller,
                &error,
                "/console/usage-reports".into(),
            ))
        }
        Err(error) => return Err(error),
    };
    let report = &detail.report;
    let answers = report
        .answers
        .as_ref()
        .map(|a| a.0.clone())
        .unwrap_or_default();
    let may_answer = report.answered_at.is_none()
        && caller.user.as_ref().is_some_and(|u| {
            u.assignment.role() == Role::AgencyAdmin
                && u.assignment
                    .agency()
                    .is_some_and(|a| a.as_str() == report.consumer_agency)
        });
    Ok(render(
        StatusCode::OK,
        &UsagePage {
            shell: Shell::new(&state.platform_name(), &caller),
            r: UsageRow::new(report),
            questions: report
                .questions
                .0
                .iter()
                .enumerate()
                .map(|(n, q)| QuestionRow {
                    number: n + 1,
                    question: q.clone(),
                    answer: answers.get(n).cloned(),
                })
                .collect(),
            answered: report.answered_at.map(|at| {
                format!(
                    "{} lúc {}",
                    report.answered_by.clone().unwrap_or_default(),
                    date_time_vi(at)
                )
            }),
            fields: detail.measured.fields.join(", "),
            per_day: detail.measured.per_day.iter().map(StatRow::new).collect(),
            per_purpose: detail
                .measured
                .per_purpose
                .iter()
                .map(StatRow::new)
                .collect(),
            served: detail.measured.served,
            refused: detail.measured.refused,
            bytes: detail.measured.bytes,
            may_answer,
        },
    ))
}

async fn answer(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    if caller.web_session.is_none() {
        return Ok(to_login());
    }
    let csrf = form
        .iter()
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.as_str());
    caller.check_csrf(csrf)?;
    let answers = form
        .into_iter()
        .filter(|(k, _)| k == "answer")
        .map(|(_, v)| v)
        .collect();
    let done = usage_reports::answer_report(&state, &caller, id, AnswerBody { answers }).await;
    outcome(
        &state,
        &caller,
        format!("/console/usage-reports/{id}"),
        done,
    )
    .await
}
