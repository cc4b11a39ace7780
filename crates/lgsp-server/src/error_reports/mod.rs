//! Error reports on datasets (Q16.2.c, Q15.2.d): anyone who may read a dataset reports an error
//! in it, optionally in one record and field; the owner agency finds it in its inbox and moves it
//! open → acknowledged → fixed or rejected (with a reason); the reporter is told, and the time to
//! fix is recorded.
//!
//! `POST /api/v1/datasets/{id}/error-reports` (anonymous allowed on open and public data,
//! limited per client address), `GET` the same (the owner side), `GET /api/v1/error-reports`
//! (the caller's agency's inbox), `GET /api/v1/error-reports/{code}` (the tracking view: anyone
//! holding the code), `POST …/{code}/acknowledge|fix|reject`. The portal's form and tracking
//! page and the console's inbox call the same functions.

use axum::extract::State;
use axum::http::header::LOCATION;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Extension;
use chrono::{DateTime, Utc};
use lgsp_core::catalog::DatasetId;
use lgsp_core::quality::error_report::{
    ReportDescription, ReportState, ReportStep, ReportTarget, TargetError, TrackingCode,
};
use lgsp_core::record_query::{Filter, Op, RecordQuery};
use lgsp_core::{may_see_personal_fields, Action, Actor, AgencyCode, Email, Resource, Role, Text};
use lgsp_store::{ErrorReport, NewErrorReport, Notice, StoreError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub mod limit;

use crate::app::AppState;
use crate::auth::caller::AnonymousChanges;
use crate::auth::Caller;
use crate::catalog::{today, Snapshot};
use crate::error::{ApiError, ErrorCode, ProblemDoc};
use crate::extract::{Json, Path};
use limit::ClientIp;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(report_error, dataset_reports))
        // Citizens report errors in open data without an account.
        .route_layer(Extension(AnonymousChanges))
        .routes(routes!(inbox))
        .routes(routes!(tracking))
        .routes(routes!(acknowledge))
        .routes(routes!(fix))
        .routes(routes!(reject))
}

/// A new report, as the reporter writes it.
pub struct Submission {
    pub description: ReportDescription,
    /// The record's primary-key values, e.g. `{"ma": "13285"}`.
    pub record_key: Option<serde_json::Value>,
    pub field: Option<String>,
    pub contact_email: Option<Email>,
}

fn target_problem(error: TargetError) -> ApiError {
    ApiError::new(ErrorCode::InvalidRecordReference)
        .detail(error.to_string())
        .with("part", serde_json::json!(error.part))
}

/// Records a report on dataset `id` from `caller` (at `client`), after checking that the caller
/// may read the dataset, the anonymous limit, and the target against the dataset's schema and
/// current records; notifies the owner agency.
pub(crate) async fn submit(
    state: &AppState,
    caller: &Caller,
    client: ClientIp,
    id: &DatasetId,
    submission: Submission,
) -> Result<ErrorReport, ApiError> {
    let snapshot = Snapshot::load(state, today()).await?;
    let published = snapshot.dataset(id.as_str()).ok_or_else(|| {
        ApiError::new(ErrorCode::ResourceNotFound)
            .detail(format!("dataset {id} is not in the catalog"))
    })?;
    let owner = AgencyCode::parse(&published.owner).map_err(ApiError::internal)?;
    let access = published.dataset.access_level;
    caller.authorize(
        Action::Create,
        Resource::ErrorReports {
            owner: &owner,
            access,
        },
    )?;
    if caller.actor == Actor::Anonymous {
        state
            .report_limiter
            .admit(
                client.0,
                state.settings.error_reports_per_minute,
                std::time::Instant::now(),
            )
            .map_err(|seconds| {
                ApiError::new(ErrorCode::TooManyReports)
                    .detail(format!(
                        "too many error reports from this address: try again in {seconds} s, or sign in"
                    ))
                    .retry_after(seconds)
            })?;
    }
    let table = state.store.record_table(id).await?;
    let target = ReportTarget::parse(
        table.as_ref().map(|t| &t.schema),
        submission.record_key.as_ref(),
        submission.field.as_deref(),
    )
    .map_err(target_problem)?;
    if let (Some(key), Some(table)) = (target.record_key(), &table) {
        let personal_key = key.iter().any(|(name, _)| {
            table
                .schema
                .fields
                .iter()
                .any(|f| &f.name == name && f.personal)
        });
        // Looking a personal key up would tell outsiders whether that person is on record.
        if personal_key && !may_see_personal_fields(&caller.actor, &owner) {
            return Err(ApiError::new(ErrorCode::Forbidden).detail(
                "the record key is personal data: describe the record in the text instead",
            ));
        }
        let mut query = RecordQuery::all(Utc::now());
        query.limit = Some(1);
        query.filters = key
            .iter()
            .map(|(name, value)| Filter {
                field: name.clone(),
                op: Op::Eq,
                negated: false,
                values: vec![value.clone()],
            })
            .collect();
        if state.store.records(table, &query).await?.is_empty() {
            return Err(target_problem(TargetError {
                part: "record_key",
                message: "no current record of the dataset has this key".into(),
            }));
        }
    }
    let reporter = match (&caller.actor, &caller.user) {
        (Actor::Person { .. }, Some(user)) => Some(user.id),
        _ => None,
    };
    let title = published.dataset.title.to_string();
    let subject = format!("Phản ánh sai sót dữ liệu mới: {title}");
    let body = format!(
        "Bộ dữ liệu “{title}” ({id}) có phản ánh sai sót mới{}: {}",
        target_vi(&target),
        excerpt(submission.description.as_str())
    );
    let notice = Notice {
        subject: &subject,
        body: &body,
        link: "/console/error-reports",
    };
    // A taken code is drawn again: 60 random bits make a second clash unheard of.
    for _ in 0..3 {
        let code = TrackingCode::from_entropy(rand::random());
        let new = NewErrorReport {
            code: &code,
            dataset: id,
            owner: &owner,
            access,
            target: &target,
            description: &submission.description,
            reporter,
            contact_email: submission.contact_email.as_ref(),
        };
        match state.store.create_error_report(&new, &notice).await {
            Ok(report) => {
                tracing::info!(dataset = %id, code = %report.code, by = %caller.name(), "error report received");
                return Ok(report);
            }
            Err(StoreError::Conflict(_)) => continue,
            Err(other) => return Err(other.into()),
        }
    }
    Err(ApiError::internal(anyhow::anyhow!(
        "three tracking codes in a row were taken"
    )))
}

/// " (bản ghi ma = 35, trường ten)" — what a report is about, for notifications.
fn target_vi(target: &ReportTarget) -> String {
    let mut parts = Vec::new();
    if let Some(key) = target.record_key() {
        let key: Vec<String> = key
            .iter()
            .map(|(name, value)| format!("{name} = {}", lgsp_core::record_query::cell_text(value)))
            .collect();
        parts.push(format!("bản ghi {}", key.join(", ")));
    }
    if let Some(field) = target.field() {
        parts.push(format!("trường {field}"));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join(", "))
    }
}

/// The first 200 characters of a description, on one line.
fn excerpt(text: &str) -> String {
    let line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.char_indices().nth(200) {
        Some((end, _)) => format!("{}…", &line[..end]),
        None => line,
    }
}

/// The owner agency (or the operator) takes `step` on the report `code`.
pub(crate) async fn take_step(
    state: &AppState,
    caller: &Caller,
    code: &TrackingCode,
    step: ReportStep,
) -> Result<ErrorReport, ApiError> {
    caller.require_person()?;
    let report = state.store.error_report(code).await?;
    caller.authorize(
        Action::Update,
        Resource::ErrorReports {
            owner: &report.owner,
            access: report.access,
        },
    )?;
    let illegal = |state: ReportState| {
        ApiError::new(ErrorCode::InvalidTransition)
            .detail(format!(
                "the report is `{state}`: it cannot take the step `{}`",
                step.name()
            ))
            .with("state", serde_json::json!(state))
    };
    let to = report.state.take(&step).map_err(|e| illegal(e.from))?;
    let snapshot = Snapshot::load(state, today()).await?;
    let title = snapshot.dataset(report.dataset.as_str()).map_or_else(
        || report.dataset.to_string(),
        |d| d.dataset.title.to_string(),
    );
    let subject = format!("Phản ánh {}: {}", report.code, to.label_vi());
    let body = match &step {
        ReportStep::Acknowledge => format!(
            "Cơ quan chủ quản đã tiếp nhận và đang xử lý phản ánh của bạn về bộ dữ liệu “{title}”."
        ),
        ReportStep::Fix => format!(
            "Cơ quan chủ quản đã sửa dữ liệu theo phản ánh của bạn về bộ dữ liệu “{title}”. Cảm ơn bạn đã phản ánh."
        ),
        ReportStep::Reject { reason } => format!(
            "Cơ quan chủ quản không chấp nhận phản ánh của bạn về bộ dữ liệu “{title}”. Lý do: {reason}"
        ),
    };
    let link = format!("/error-reports/{}", report.code);
    let notice = Notice {
        subject: &subject,
        body: &body,
        link: &link,
    };
    match state
        .store
        .move_error_report(&report, &step, to, &caller.name(), &notice)
        .await?
    {
        Some(moved) => {
            tracing::info!(code = %moved.code, state = %moved.state, by = %caller.name(), "error report moved");
            Ok(moved)
        }
        // Someone else moved it meanwhile: say where it is now.
        None => Err(illegal(state.store.error_report(code).await?.state)),
    }
}

/// Whether `caller` handles reports addressed to `owner` (and so sees who made them).
pub(crate) fn handles(caller: &Caller, report: &ErrorReport) -> bool {
    caller
        .authorize(
            Action::Read,
            Resource::ErrorReports {
                owner: &report.owner,
                access: report.access,
            },
        )
        .is_ok()
}

/// A report as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportView {
    /// The tracking code.
    code: String,
    dataset: String,
    /// The record's primary-key values.
    #[schema(value_type = Option<Object>)]
    record_key: Option<serde_json::Value>,
    field: Option<String>,
    description: String,
    state: ReportState,
    /// The state in Vietnamese, as the portal shows it.
    state_label: &'static str,
    /// Why the report was rejected.
    reason: Option<String>,
    created_at: DateTime<Utc>,
    acknowledged_at: Option<DateTime<Utc>>,
    /// When it was fixed or rejected.
    resolved_at: Option<DateTime<Utc>>,
    /// From the report to the fix.
    time_to_fix_seconds: Option<i64>,
    /// The public page that tracks the report.
    tracking_url: String,
    /// Who reported and who handled it: for the owner agency and the operator only.
    #[serde(skip_serializing_if = "Option::is_none")]
    handling: Option<Handling>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Handling {
    /// The signed-in reporter's username; none for a citizen who did not sign in.
    reporter: Option<String>,
    contact_email: Option<String>,
    acknowledged_by: Option<String>,
    resolved_by: Option<String>,
}

impl ReportView {
    /// The report as `caller` may see it.
    pub fn of(report: ErrorReport, caller: &Caller) -> Self {
        let handling = handles(caller, &report).then(|| Handling {
            reporter: report.reporter.as_ref().map(ToString::to_string),
            contact_email: report.contact_email.as_ref().map(ToString::to_string),
            acknowledged_by: report.acknowledged_by.clone(),
            resolved_by: report.resolved_by.clone(),
        });
        Self {
            tracking_url: format!("/error-reports/{}", report.code),
            code: report.code.to_string(),
            dataset: report.dataset.to_string(),
            record_key: report.record_key,
            field: report.field,
            description: report.description.to_string(),
            state: report.state,
            state_label: report.state.label_vi(),
            reason: report.reason,
            created_at: report.created_at,
            acknowledged_at: report.acknowledged_at,
            resolved_at: report.resolved_at,
            time_to_fix_seconds: report.time_to_fix_seconds,
            handling,
        }
    }
}

/// A report as its author writes it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportRequest {
    /// What is wrong: 1 to 2000 characters.
    #[schema(value_type = String)]
    description: ReportDescription,
    /// The record, by its primary-key values: `{"ma": "13285"}`.
    #[schema(value_type = Option<Object>)]
    record_key: Option<serde_json::Value>,
    /// The field of the dataset's Table Schema.
    field: Option<String>,
    /// Where to reach the reporter (shown to the owner agency only).
    #[schema(value_type = Option<String>)]
    contact_email: Option<Email>,
}

/// Report an error in a dataset, optionally in one record (by its primary key) and field.
/// Anyone who may read the dataset, without signing in for open and public data (limited per
/// client address: 429 `too_many_reports`). The answer carries the tracking code; the owner
/// agency's administrators are notified.
#[utoipa::path(post, path = "/datasets/{id}/error-reports", tag = "error-reports",
    params(("id" = String, Path, description = "Dataset id")),
    request_body = ReportRequest,
    responses((status = 201, body = ReportView),
        (status = 401, body = ProblemDoc), (status = 403, body = ProblemDoc),
        (status = 404, body = ProblemDoc),
        (status = 422, body = ProblemDoc, description = "`invalid_record_reference` with `part`, or `invalid_body`"),
        (status = 429, body = ProblemDoc, description = "`too_many_reports`, with `Retry-After`")))]
async fn report_error(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientIp,
    Path(id): Path<DatasetId>,
    Json(request): Json<ReportRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let report = submit(
        &state,
        &caller,
        client,
        &id,
        Submission {
            description: request.description,
            record_key: request.record_key,
            field: request.field,
            contact_email: request.contact_email,
        },
    )
    .await?;
    let location = format!("/api/v1/error-reports/{}", report.code);
    Ok((
        StatusCode::CREATED,
        [(LOCATION, location)],
        axum::Json(ReportView::of(report, &caller)),
    ))
}

/// The reports on a dataset, newest first: its owner agency's administrators and the operator.
#[utoipa::path(get, path = "/datasets/{id}/error-reports", tag = "error-reports",
    params(("id" = String, Path, description = "Dataset id")),
    responses((status = 200, body = Vec<ReportView>), (status = 401, body = ProblemDoc),
        (status = 403, body = ProblemDoc), (status = 404, body = ProblemDoc)))]
async fn dataset_reports(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<DatasetId>,
) -> Result<axum::Json<Vec<ReportView>>, ApiError> {
    caller.require_person()?;
    let snapshot = Snapshot::load(&state, today()).await?;
    let published = snapshot.dataset(id.as_str()).ok_or_else(|| {
        ApiError::new(ErrorCode::ResourceNotFound)
            .detail(format!("dataset {id} is not in the catalog"))
    })?;
    let owner = AgencyCode::parse(&published.owner).map_err(ApiError::internal)?;
    caller.authorize(
        Action::Read,
        Resource::ErrorReports {
            owner: &owner,
            access: published.dataset.access_level,
        },
    )?;
    let reports = state.store.error_reports_of_dataset(&id).await?;
    Ok(axum::Json(
        reports
            .into_iter()
            .filter(|r| handles(&caller, r))
            .map(|r| ReportView::of(r, &caller))
            .collect(),
    ))
}

/// The agency whose inbox `caller` reads: its own for an agency administrator, every agency's
/// (`None`) for the operator; refused for anyone else.
pub(crate) fn inbox_of(caller: &Caller) -> Result<Option<AgencyCode>, ApiError> {
    caller.require_person()?;
    let assignment = match &caller.actor {
        Actor::Person { assignment, .. } => assignment,
        _ => return Err(ApiError::new(ErrorCode::Forbidden)),
    };
    let agency = assignment
        .agency()
        .cloned()
        .ok_or_else(|| ApiError::new(ErrorCode::Forbidden))?;
    caller.authorize(
        Action::Read,
        Resource::ErrorReports {
            owner: &agency,
            access: lgsp_core::catalog::AccessLevel::Open,
        },
    )?;
    Ok((assignment.role() != Role::Operator).then_some(agency))
}

/// The reports addressed to the caller's agency (every agency's for the operator): open ones
/// first, then acknowledged, then resolved.
#[utoipa::path(get, path = "/error-reports", tag = "error-reports",
    responses((status = 200, body = Vec<ReportView>), (status = 401, body = ProblemDoc),
        (status = 403, body = ProblemDoc)))]
async fn inbox(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<axum::Json<Vec<ReportView>>, ApiError> {
    let agency = inbox_of(&caller)?;
    let reports = state.store.error_reports_to(agency.as_ref()).await?;
    Ok(axum::Json(
        reports
            .into_iter()
            .map(|r| ReportView::of(r, &caller))
            .collect(),
    ))
}

/// Track a report by its code: anyone holding the code sees its state, dates and the reason
/// of a rejection — not who made it.
#[utoipa::path(get, path = "/error-reports/{code}", tag = "error-reports",
    params(("code" = String, Path, description = "Tracking code, e.g. PA-7K3M-9QXD-2F8T")),
    responses((status = 200, body = ReportView), (status = 400, body = ProblemDoc),
        (status = 404, body = ProblemDoc)))]
async fn tracking(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<TrackingCode>,
) -> Result<axum::Json<ReportView>, ApiError> {
    let report = state.store.error_report(&code).await?;
    Ok(axum::Json(ReportView::of(report, &caller)))
}

/// The owner agency acknowledges an open report: it is looking into it. The reporter, if signed
/// in, is notified.
#[utoipa::path(post, path = "/error-reports/{code}/acknowledge", tag = "error-reports",
    params(("code" = String, Path, description = "Tracking code")),
    responses((status = 200, body = ReportView), (status = 401, body = ProblemDoc),
        (status = 403, body = ProblemDoc), (status = 404, body = ProblemDoc),
        (status = 409, body = ProblemDoc, description = "`invalid_transition` with the current `state`")))]
async fn acknowledge(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<TrackingCode>,
) -> Result<axum::Json<ReportView>, ApiError> {
    let report = take_step(&state, &caller, &code, ReportStep::Acknowledge).await?;
    Ok(axum::Json(ReportView::of(report, &caller)))
}

/// The owner agency has corrected the data: the report is fixed and its time to fix recorded.
/// The reporter, if signed in, is notified.
#[utoipa::path(post, path = "/error-reports/{code}/fix", tag = "error-reports",
    params(("code" = String, Path, description = "Tracking code")),
    responses((status = 200, body = ReportView), (status = 401, body = ProblemDoc),
        (status = 403, body = ProblemDoc), (status = 404, body = ProblemDoc),
        (status = 409, body = ProblemDoc, description = "`invalid_transition` with the current `state`")))]
async fn fix(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<TrackingCode>,
) -> Result<axum::Json<ReportView>, ApiError> {
    let report = take_step(&state, &caller, &code, ReportStep::Fix).await?;
    Ok(axum::Json(ReportView::of(report, &caller)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectRequest {
    /// Why the data is right, shown to the reporter; required.
    #[schema(value_type = String)]
    reason: Text,
}

/// The owner agency finds the data right: the report is rejected with a reason the reporter is
/// shown (a missing or blank reason is 422 `invalid_body`). The reporter, if signed in, is
/// notified.
#[utoipa::path(post, path = "/error-reports/{code}/reject", tag = "error-reports",
    params(("code" = String, Path, description = "Tracking code")),
    request_body = RejectRequest,
    responses((status = 200, body = ReportView), (status = 401, body = ProblemDoc),
        (status = 403, body = ProblemDoc), (status = 404, body = ProblemDoc),
        (status = 409, body = ProblemDoc, description = "`invalid_transition` with the current `state`"),
        (status = 422, body = ProblemDoc, description = "`invalid_body`: no reason")))]
async fn reject(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<TrackingCode>,
    Json(request): Json<RejectRequest>,
) -> Result<axum::Json<ReportView>, ApiError> {
    let step = ReportStep::Reject {
        reason: request.reason,
    };
    let report = take_step(&state, &caller, &code, step).await?;
    Ok(axum::Json(ReportView::of(report, &caller)))
}
