//! `/api/v1/reports/annual/{year}`: the report as a file or its figures as JSON, and the
//! record that it was sent. The operator's only.

use axum::extract::State;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{Datelike, NaiveDate};
use lgsp_core::{Action, Resource, Text};
use lgsp_store::{AnnualReportSubmission, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::reminder::{deadline, reminder};
use super::render::{format_names, render, Format};
use super::{build, check_year, first_year, vietnam_date};
use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorCode, ProblemDoc};
use crate::extract::{Json, Path, Query};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(annual_report))
        .routes(routes!(mark_submitted))
}

/// Checks `year` against today's date on the platform's clock.
pub fn year_of(state: &AppState, year: i32) -> Result<i32, ApiError> {
    check_year(
        year,
        vietnam_date(state.clock.now()),
        first_year(&state.settings),
    )
    .map_err(|error| {
        ApiError::new(ErrorCode::InvalidReportYear).detail(format!("no report for {year}: {error}"))
    })
}

/// The report of `year` as a file of `format`, to download.
pub async fn report_file(
    state: &AppState,
    year: i32,
    format: Format,
) -> Result<Response, ApiError> {
    let today = vietnam_date(state.clock.now());
    let document = build(&state.store, &state.settings, year, today).await?;
    let body = render(format, &document).map_err(ApiError::internal)?;
    let disposition = match format {
        Format::Html => "inline",
        _ => "attachment",
    };
    Ok((
        [
            (CONTENT_TYPE, format.content_type().to_owned()),
            (
                CONTENT_DISPOSITION,
                format!("{disposition}; filename=\"{}\"", format.file_name(year)),
            ),
        ],
        body,
    )
        .into_response())
}

/// The format asked for, or a problem naming those there are.
pub fn parse_format(name: &str) -> Result<Format, ApiError> {
    Format::parse(name).ok_or_else(|| {
        ApiError::new(ErrorCode::InvalidParameter)
            .detail(format!("`format`: {}", format_names()))
            .with("parameter", json!("format"))
    })
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    /// `docx`, `pdf`, `xlsx` or `html` for the document; none: its figures as JSON.
    format: Option<String>,
}

/// One figure of the report and the query that computes it on the store.
#[derive(Serialize, ToSchema)]
pub struct FigureView {
    /// The figure's reference in the document: table, row, column ("B1.10.2").
    pub id: String,
    pub label: String,
    /// As the document shows it (Vietnamese number format).
    pub value: String,
    /// SQL that both SQLite and PostgreSQL run to recompute it.
    pub query: String,
}

/// The year's report in figures, its deadline and whether it was sent.
#[derive(Serialize, ToSchema)]
pub struct AnnualReportSummary {
    pub year: i32,
    /// 15 December of the year.
    pub deadline: NaiveDate,
    /// The deadline is near or past and the report is not marked sent (from 1 November).
    pub reminder: Option<String>,
    pub submission: Option<AnnualReportSubmission>,
    pub figures: Vec<FigureView>,
}

/// The annual report to the People's Committee (Q17.6): as DOCX, PDF, XLSX or HTML with
/// `format`, or its figures with their queries as JSON. Operator only.
#[utoipa::path(get, path = "/reports/annual/{year}", tag = "reports",
    params(("year" = i32, Path, description = "The year reported on (Viet Nam's calendar)"),
        ReportQuery),
    responses((status = 200, body = AnnualReportSummary,
            description = "JSON, or the document with `format` (Content-Disposition names the file)"),
        (status = 400, body = ProblemDoc, description = "`invalid_parameter`"),
        (status = 401, body = ProblemDoc), (status = 403, body = ProblemDoc),
        (status = 422, body = ProblemDoc, description = "`invalid_report_year`")))]
async fn annual_report(
    State(state): State<AppState>,
    caller: Caller,
    Path(year): Path<i32>,
    Query(query): Query<ReportQuery>,
) -> Result<Response, ApiError> {
    caller.authorize(Action::Read, Resource::AnnualReport)?;
    let year = year_of(&state, year)?;
    if let Some(name) = query.format.as_deref() {
        let format = parse_format(name)?;
        return report_file(&state, year, format).await;
    }
    let today = vietnam_date(state.clock.now());
    let document = build(&state.store, &state.settings, year, today).await?;
    let submission = state.store.annual_report_submission(year).await?;
    let reminder = (today.year() == year)
        .then(|| reminder(today, submission.is_some()))
        .flatten()
        .map(|r| r.message());
    Ok(axum::Json(AnnualReportSummary {
        year,
        deadline: deadline(year),
        reminder,
        submission,
        figures: document
            .figures
            .into_iter()
            .map(|f| FigureView {
                id: f.id,
                label: f.label,
                value: f.value,
                query: f.query,
            })
            .collect(),
    })
    .into_response())
}

/// The report as sent: its number and date, if the operator gives them.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmissionBody {
    /// The number of the document as sent, e.g. "125/BC-STTTT".
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub document_number: Option<Text>,
    /// The date of the document as sent.
    #[serde(default)]
    pub document_date: Option<NaiveDate>,
}

/// Records that `year`'s report was sent, in the transparency log and in storage.
pub async fn submit(
    state: &AppState,
    caller: &Caller,
    year: i32,
    body: SubmissionBody,
) -> Result<AnnualReportSubmission, ApiError> {
    caller.authorize(Action::Create, Resource::AnnualReport)?;
    let year = year_of(state, year)?;
    if state.store.annual_report_submission(year).await?.is_some() {
        return Err(already_sent(year));
    }
    let at = state.clock.now();
    let number = body.document_number.map(|n| n.to_string());
    let entry = json!({
        "v": 1,
        "kind": "step",
        "time": at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "actor": caller.name(),
        "route": "/api/v1/reports/annual/{year}/submission",
        "step": "submit_annual_report",
        "year": year,
        "document_number": number,
        "document_date": body.document_date.map(|d| d.to_string()),
    });
    let index = state.log.append(&entry).await?;
    let submission = AnnualReportSubmission {
        year,
        submitted_by: caller.name(),
        submitted_at: at,
        document_number: number,
        document_date: body.document_date,
        log_index: i64::try_from(index).ok(),
    };
    match state
        .store
        .record_annual_report_submission(&submission)
        .await
    {
        Ok(stored) => {
            tracing::info!(year, "annual report marked as sent");
            Ok(stored)
        }
        Err(StoreError::Conflict(_)) => Err(already_sent(year)),
        Err(other) => Err(other.into()),
    }
}

fn already_sent(year: i32) -> ApiError {
    ApiError::new(ErrorCode::ReportAlreadySubmitted)
        .detail(format!("the report of {year} is already marked as sent"))
}

/// Marks the year's report as sent to the People's Committee (Q17.6): who and when, and the
/// document's number and date as sent. Once per year. Operator only.
#[utoipa::path(post, path = "/reports/annual/{year}/submission", tag = "reports",
    params(("year" = i32, Path, description = "The year reported on")),
    request_body = SubmissionBody,
    responses((status = 201, body = AnnualReportSubmission),
        (status = 401, body = ProblemDoc), (status = 403, body = ProblemDoc),
        (status = 409, body = ProblemDoc, description = "`report_already_submitted`"),
        (status = 422, body = ProblemDoc, description = "`invalid_report_year`, `invalid_body`")))]
async fn mark_submitted(
    State(state): State<AppState>,
    caller: Caller,
    Path(year): Path<i32>,
    Json(body): Json<SubmissionBody>,
) -> Result<(StatusCode, axum::Json<AnnualReportSubmission>), ApiError> {
    let stored = submit(&state, &caller, year, body).await?;
    Ok((StatusCode::CREATED, axum::Json(stored)))
}
