//! The operator's page of the annual report (Q17.6): choose the year, download the report in
//! each format, preview it, and mark it as sent to the People's Committee.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::{Datelike, NaiveDate};
use lgsp_core::{Action, Resource, Text};
use serde::Deserialize;

use super::{problem_page, refusal};
use crate::annual_report::reminder::{deadline, reminder, Reminder};
use crate::annual_report::render::Format;
use crate::annual_report::routes::{parse_format, report_file, submit, year_of, SubmissionBody};
use crate::annual_report::{first_year, vietnam_date};
use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorCode};
use crate::extract::{Form, Path, Query};
use crate::portal::to_login;
use crate::portal::view::{date_time_vi, render, Shell};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console/annual-report", get(page))
        .route("/console/annual-report/{year}/download", get(download))
        .route("/console/annual-report/{year}/submission", post(mark_sent))
}

/// The reminder the operator's console shows today, if any: this year's report from
/// 1 November until it is marked sent. `None` for anyone who may not build the report.
pub async fn current_reminder(
    state: &AppState,
    caller: &Caller,
) -> Result<Option<Reminder>, ApiError> {
    if caller
        .authorize(Action::Read, Resource::AnnualReport)
        .is_err()
    {
        return Ok(None);
    }
    let today = vietnam_date(state.clock.now());
    if today.month() < 11 {
        return Ok(None);
    }
    let sent = state
        .store
        .annual_report_submission(today.year())
        .await?
        .is_some();
    Ok(reminder(today, sent))
}

struct FormatLink {
    href: String,
    label: &'static str,
    id: String,
}

struct SentView {
    by: String,
    at: String,
    number: Option<String>,
    date: Option<String>,
    log_index: Option<i64>,
}

#[derive(Template)]
#[template(path = "console/annual_report.html")]
struct Page {
    shell: Shell,
    year: i32,
    years: Vec<i32>,
    deadline: String,
    reminder: Option<String>,
    late: bool,
    downloads: Vec<FormatLink>,
    preview: String,
    sent: Option<SentView>,
}

#[derive(Deserialize)]
struct YearQuery {
    #[serde(default)]
    year: Option<i32>,
}

async fn page(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<YearQuery>,
) -> Result<Response, ApiError> {
    if let Some(response) = refusal(&state, &caller, Resource::AnnualReport) {
        return Ok(response);
    }
    let today = vietnam_date(state.clock.now());
    let year = match query.year {
        Some(year) => match year_of(&state, year) {
            Ok(year) => year,
            Err(error) => {
                return Ok(problem_page(
                    &state,
                    &caller,
                    &error,
                    "/console/annual-report".into(),
                ))
            }
        },
        None => today.year(),
    };
    let submission = state.store.annual_report_submission(year).await?;
    let reminder = if year == today.year() {
        reminder(today, submission.is_some())
    } else {
        None
    };
    let downloads = Format::ALL
        .into_iter()
        .filter(|f| *f != Format::Html)
        .map(|f| FormatLink {
            href: format!(
                "/console/annual-report/{year}/download?format={}",
                f.extension()
            ),
            label: f.label(),
            id: format!("tai-{}", f.extension()),
        })
        .collect();
    let first = first_year(&state.settings);
    Ok(render(
        StatusCode::OK,
        &Page {
            shell: Shell::new(&state.platform_name(), &caller),
            year,
            years: (first..=today.year()).rev().collect(),
            deadline: deadline(year).format("%d/%m/%Y").to_string(),
            late: reminder.as_ref().is_some_and(Reminder::is_late),
            reminder: reminder.map(|r| r.message()),
            downloads,
            preview: format!("/console/annual-report/{year}/download?format=html"),
            sent: submission.map(|s| SentView {
                by: s.submitted_by,
                at: date_time_vi(s.submitted_at),
                number: s.document_number,
                date: s.document_date.map(|d| d.format("%d/%m/%Y").to_string()),
                log_index: s.log_index,
            }),
        },
    ))
}

#[derive(Deserialize)]
struct FormatQuery {
    format: String,
}

async fn download(
    State(state): State<AppState>,
    caller: Caller,
    Path(year): Path<i32>,
    Query(query): Query<FormatQuery>,
) -> Result<Response, ApiError> {
    if let Some(response) = refusal(&state, &caller, Resource::AnnualReport) {
        return Ok(response);
    }
    let year = year_of(&state, year)?;
    report_file(&state, year, parse_format(&query.format)?).await
}

#[derive(Deserialize)]
struct SentForm {
    csrf: String,
    #[serde(default)]
    document_number: String,
    /// `YYYY-MM-DD` (a date input); empty for none.
    #[serde(default)]
    document_date: String,
}

async fn mark_sent(
    State(state): State<AppState>,
    caller: Caller,
    Path(year): Path<i32>,
    Form(form): Form<SentForm>,
) -> Result<Response, ApiError> {
    if caller.web_session.is_none() {
        return Ok(to_login());
    }
    caller.check_csrf(Some(&form.csrf))?;
    let back = format!("/console/annual-report?year={year}");
    let number = form.document_number.trim();
    let date = form.document_date.trim();
    let body = (|| {
        Ok::<_, ApiError>(SubmissionBody {
            document_number: (!number.is_empty())
                .then(|| Text::parse(number))
                .transpose()
                .map_err(|e| {
                    ApiError::new(ErrorCode::InvalidBody).detail(format!("document_number: {e}"))
                })?,
            document_date: (!date.is_empty())
                .then(|| date.parse::<NaiveDate>())
                .transpose()
                .map_err(|_| {
                    ApiError::new(ErrorCode::InvalidBody)
                        .detail(format!("document_date: `{date}` is not a date"))
                })?,
        })
    })();
    let done = match body {
        Ok(body) => submit(&state, &caller, year, body).await,
        Err(error) => Err(error),
    };
    match done {
        Ok(_) => Ok(Redirect::to(&back).into_response()),
        Err(error) if !error.code().status().is_server_error() => {
            Ok(problem_page(&state, &caller, &error, back))
        }
        Err(error) => Err(error),
    }
}
