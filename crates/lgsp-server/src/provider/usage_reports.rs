//! Usage reports (Q15.1.b): a provider asks a consumer to report how it uses the data of a
//! grant — questions, the period asked about and a deadline in working days; the consumer
//! agency's administrator answers. Beside the answer every party sees the consumer's measured
//! use in that period from the exchange index (per day, per purpose, the fields served,
//! volumes); an answer still missing at the deadline is flagged overdue.

use axum::extract::State;
use axum::http::header::LOCATION;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};
use lgsp_core::exchange::Target;
use lgsp_core::{Action, AgencyCode, Role, Text};
use lgsp_store::{
    ExchangeScope, ExchangeStat, GrantRecord, NewUsageReport, StoreError, UsageReport,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::report::totals;
use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorCode, ProblemDoc};
use crate::extract::{Json, Path};
use crate::grants;

/// The most questions one request asks.
pub const MAX_QUESTIONS: usize = 20;
/// The longest answer to one question, in characters.
pub const MAX_ANSWER_CHARS: usize = 4000;
/// The longest deadline, in working days.
pub const MAX_WORKING_DAYS: u32 = 60;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, ask))
        .routes(routes!(get_report))
        .routes(routes!(answer))
}

/// A usage-report request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AskBody {
    /// The grant whose use is asked about.
    pub grant: i64,
    /// 1 to 20 questions.
    #[schema(value_type = Vec<String>)]
    pub questions: Vec<Text>,
    /// The period of use asked about. Default: from the grant's start.
    #[serde(default)]
    pub period_from: Option<DateTime<Utc>>,
    /// Default: now.
    #[serde(default)]
    pub period_to: Option<DateTime<Utc>>,
    /// Working days the consumer has to answer (weekends and configured holidays skipped),
    /// 1 to 60. Default: the setting `request_response_working_days`.
    #[serde(default)]
    pub working_days: Option<u32>,
}

/// The consumer's measured use in the period asked about, from the exchange index.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeasuredUse {
    /// Per day (Vietnam's) and purpose.
    pub per_day: Vec<ExchangeStat>,
    /// Per purpose over the period.
    pub per_purpose: Vec<ExchangeStat>,
    /// The fields every served exchange under the grant carried: the gateway passes exactly
    /// the grant's fields.
    pub fields: Vec<String>,
    pub served: i64,
    pub refused: i64,
    pub bytes: i64,
}

/// A request with what the platform measured and whether the answer is overdue.
#[derive(Debug, Serialize, ToSchema)]
pub struct UsageReportDetail {
    #[serde(flatten)]
    pub report: UsageReport,
    /// No answer and the deadline passed.
    pub overdue: bool,
    pub measured: MeasuredUse,
}

/// What the caller may do with a report: read it (both sides, operator, auditor).
fn readable(caller: &Caller, report: &UsageReport) -> bool {
    match (
        AgencyCode::parse(&report.provider),
        AgencyCode::parse(&report.consumer_agency),
    ) {
        (Ok(provider), Ok(consumer)) => caller
            .authorize(
                Action::Read,
                lgsp_core::Resource::Grant {
                    provider: &provider,
                    consumer: &consumer,
                },
            )
            .is_ok(),
        _ => false,
    }
}

/// Whether the caller administers the consumer agency of the report: who answers.
fn answers_for(caller: &Caller, report: &UsageReport) -> bool {
    caller.user.as_ref().is_some_and(|u| {
        u.assignment.role() == Role::AgencyAdmin
            && u.assignment
                .agency()
                .is_some_and(|a| a.as_str() == report.consumer_agency)
    })
}

/// Records a request: what the API and the console both do.
pub async fn ask_report(
    state: &AppState,
    caller: &Caller,
    body: AskBody,
) -> Result<UsageReport, ApiError> {
    let grant = match grants::allowed(state, caller, body.grant, Action::Update).await {
        Err(e) if e.code() == ErrorCode::ResourceNotFound => {
            return Err(ApiError::new(ErrorCode::MissingReference)
                .detail(format!("grant {} does not exist", body.grant)))
        }
        other => other?,
    };
    let invalid = |detail: &str| ApiError::new(ErrorCode::InvalidBody).detail(detail.to_owned());
    if body.questions.is_empty() || body.questions.len() > MAX_QUESTIONS {
        return Err(invalid("questions: 1 to 20 questions"));
    }
    let now = lgsp_store::now();
    let period_from = body.period_from.unwrap_or(grant.grant.validity.from);
    let period_to = body.period_to.unwrap_or(now);
    if period_to <= period_from {
        return Err(invalid("period_to: must be later than period_from"));
    }
    let days = body
        .working_days
        .unwrap_or(state.settings.request_response_working_days);
    if days == 0 || days > MAX_WORKING_DAYS {
        return Err(invalid("working_days: 1 to 60"));
    }
    let due_at = state.settings.calendar().deadline(now, days);
    let report = state
        .store
        .insert_usage_report(
            &NewUsageReport {
                grant_id: grant.grant.id,
                questions: body.questions.iter().map(ToString::to_string).collect(),
                period_from,
                period_to,
                due_at,
            },
            &caller.name(),
        )
        .await?;
    state
        .store
        .notify(
            Role::AgencyAdmin,
            Some(&grant.grant.consumer.agency),
            &format!("Yêu cầu báo cáo tình hình khai thác số {}", report.id),
            &format!(
                "{} đề nghị báo cáo tình hình khai thác dữ liệu theo quyền khai thác số {} \
                 (từ {} đến {}), hạn trả lời {}.",
                grant.provider,
                grant.grant.id,
                crate::portal::view::date_vi(period_from),
                crate::portal::view::date_vi(period_to),
                crate::portal::view::date_time_vi(due_at)
            ),
            Some(&format!("/console/usage-reports/{}", report.id)),
        )
        .await?;
    tracing::info!(report = report.id, grant = grant.grant.id, by = %caller.name(),
        "usage report asked");
    Ok(report)
}

/// Ask a consumer to report on its use of a grant (Q15.1.b): questions, the period asked
/// about and a deadline in working days. The grant's provider agency's administrator or the
/// operator; the consumer agency is notified.
#[utoipa::path(post, path = "/usage-reports", tag = "provider", request_body = AskBody,
    responses((status = 201, body = UsageReport), (status = 401, body = ProblemDoc),
        (status = 403, body = ProblemDoc),
        (status = 422, body = ProblemDoc, description = "`invalid_body`, `missing_reference`")))]
async fn ask(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<AskBody>,
) -> Result<impl IntoResponse, ApiError> {
    let report = ask_report(&state, &caller, body).await?;
    let location = format!("/api/v1/usage-reports/{}", report.id);
    Ok((
        StatusCode::CREATED,
        [(LOCATION, location)],
        axum::Json(report),
    ))
}

/// The requests the caller may read, newest first.
pub async fn visible(state: &AppState, caller: &Caller) -> Result<Vec<UsageReport>, ApiError> {
    if caller.actor == lgsp_core::Actor::Anonymous {
        return Err(ApiError::new(ErrorCode::AuthenticationRequired));
    }
    Ok(state
        .store
        .list_usage_reports(None)
        .await?
        .into_iter()
        .filter(|r| readable(caller, r))
        .collect())
}

/// A report listed, with whether its answer is overdue.
#[derive(Debug, Serialize, ToSchema)]
pub struct UsageReportItem {
    #[serde(flatten)]
    pub report: UsageReport,
    pub overdue: bool,
}

/// Usage-report requests in which the caller's agency asks or answers (all for the operator
/// and the auditor), newest first, each flagged when overdue.
#[utoipa::path(get, path = "/usage-reports", tag = "provider",
    responses((status = 200, body = Vec<UsageReportItem>), (status = 401, body = ProblemDoc)))]
async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<axum::Json<Vec<UsageReportItem>>, ApiError> {
    let now = Utc::now();
    Ok(axum::Json(
        visible(&state, &caller)
            .await?
            .into_iter()
            .map(|report| UsageReportItem {
                overdue: report.is_overdue(now),
                report,
            })
            .collect(),
    ))
}

/// The target as the exchange index names it.
fn target_label(target: &Target) -> String {
    match target {
        Target::Service {
            provider,
            code,
            version,
        } => format!("{}/{}/{code}/{version}", provider.agency, provider.code),
        Target::Dataset { id } => format!("dataset:{id}"),
    }
}

/// The consumer's use of the grant in the period asked about.
pub async fn measure(
    state: &AppState,
    report: &UsageReport,
    grant: &GrantRecord,
) -> Result<MeasuredUse, ApiError> {
    let target = target_label(&grant.grant.target);
    let per_day = state
        .store
        .exchange_stats(&ExchangeScope {
            from: report.period_from,
            to: report.period_to,
            provider: None,
            consumer_agency: Some(grant.grant.consumer.agency.as_str()),
            consumer_system: Some(grant.grant.consumer.code.as_str()),
            target: Some(&target),
        })
        .await?;
    let mut per_purpose: std::collections::BTreeMap<Option<String>, ExchangeStat> =
        std::collections::BTreeMap::new();
    for row in &per_day {
        let sum = per_purpose
            .entry(row.purpose.clone())
            .or_insert_with(|| ExchangeStat {
                day: String::new(),
                served: 0,
                refused: 0,
                bytes: 0,
                ..row.clone()
            });
        sum.served += row.served;
        sum.refused += row.refused;
        sum.bytes += row.bytes;
    }
    let all = totals(&per_day);
    Ok(MeasuredUse {
        served: all.iter().map(|t| t.served).sum(),
        refused: all.iter().map(|t| t.refused).sum(),
        bytes: all.iter().map(|t| t.bytes).sum(),
        per_purpose: per_purpose.into_values().collect(),
        fields: grant.grant.fields.as_slice().to_vec(),
        per_day,
    })
}

/// A request the caller may read, with the measured use.
pub async fn detail(
    state: &AppState,
    caller: &Caller,
    id: i64,
) -> Result<UsageReportDetail, ApiError> {
    if caller.actor == lgsp_core::Actor::Anonymous {
        return Err(ApiError::new(ErrorCode::AuthenticationRequired));
    }
    let report = state.store.get_usage_report(id).await?;
    if !readable(caller, &report) {
        return Err(ApiError::new(ErrorCode::Forbidden));
    }
    let grant = state.store.get_grant(report.grant_id).await?;
    let measured = measure(state, &report, &grant).await?;
    Ok(UsageReportDetail {
        overdue: report.is_overdue(Utc::now()),
        report,
        measured,
    })
}

#[utoipa::path(get, path = "/usage-reports/{id}", tag = "provider",
    params(("id" = i64, Path, description = "Usage report id")),
    responses((status = 200, body = UsageReportDetail), (status = 403, body = ProblemDoc),
        (status = 404, body = ProblemDoc)))]
async fn get_report(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<axum::Json<UsageReportDetail>, ApiError> {
    Ok(axum::Json(detail(&state, &caller, id).await?))
}

/// The consumer's answers.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerBody {
    /// One answer per question, in order; each 1 to 4000 characters.
    pub answers: Vec<String>,
}

/// Records the consumer's answers: what the API and the console both do.
pub async fn answer_report(
    state: &AppState,
    caller: &Caller,
    id: i64,
    body: AnswerBody,
) -> Result<UsageReport, ApiError> {
    if caller.actor == lgsp_core::Actor::Anonymous {
        return Err(ApiError::new(ErrorCode::AuthenticationRequired));
    }
    let report = state.store.get_usage_report(id).await?;
    if !answers_for(caller, &report) {
        return Err(ApiError::new(ErrorCode::Forbidden)
            .detail("the consumer agency's administrators answer"));
    }
    if report.answered_at.is_some() {
        return Err(ApiError::new(ErrorCode::InvalidTransition)
            .detail(format!("usage report {id} is already answered")));
    }
    let answers: Vec<String> = body.answers.iter().map(|a| a.trim().to_owned()).collect();
    if answers.len() != report.questions.0.len() {
        return Err(ApiError::new(ErrorCode::InvalidBody).detail(format!(
            "answers: one per question ({} asked)",
            report.questions.0.len()
        )));
    }
    if let Some(n) = answers
        .iter()
        .position(|a| a.is_empty() || a.chars().count() > MAX_ANSWER_CHARS)
    {
        return Err(ApiError::new(ErrorCode::InvalidBody)
            .detail(format!("answers[{n}]: 1 to {MAX_ANSWER_CHARS} characters")));
    }
    let answered = state
        .store
        .answer_usage_report(id, &answers, &caller.name())
        .await
        .map_err(|e| match e {
            StoreError::Conflict(message) => {
                ApiError::new(ErrorCode::InvalidTransition).detail(message)
            }
            other => other.into(),
        })?;
    let provider = AgencyCode::parse(&report.provider).map_err(ApiError::internal)?;
    state
        .store
        .notify(
            Role::AgencyAdmin,
            Some(&provider),
            &format!("Đã có báo cáo tình hình khai thác số {id}"),
            &format!(
                "{} đã trả lời yêu cầu báo cáo tình hình khai thác số {id}{}.",
                report.consumer_agency,
                if report.is_overdue(answered.answered_at.unwrap_or_else(Utc::now)) {
                    " (quá hạn)"
                } else {
                    ""
                }
            ),
            Some(&format!("/console/usage-reports/{id}")),
        )
        .await?;
    tracing::info!(report = id, by = %caller.name(), "usage report answered");
    Ok(answered)
}

/// Answer a usage-report request: the consumer agency's administrator, once, one answer per
/// question. A late answer is accepted and stays visibly late.
#[utoipa::path(post, path = "/usage-reports/{id}/answer", tag = "provider",
    request_body = AnswerBody,
    params(("id" = i64, Path, description = "Usage report id")),
    responses((status = 200, body = UsageReport), (status = 403, body = ProblemDoc),
        (status = 404, body = ProblemDoc),
        (status = 409, body = ProblemDoc, description = "`invalid_transition`: already answered"),
        (status = 422, body = ProblemDoc, description = "`invalid_body`")))]
async fn answer(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<AnswerBody>,
) -> Result<axum::Json<UsageReport>, ApiError> {
    Ok(axum::Json(answer_report(&state, &caller, id, body).await?))
}
