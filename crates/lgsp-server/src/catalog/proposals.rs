//! `/api/v1/catalog/proposals`: the written procedure of Q5.2. Each handler asks
//! `lgsp_core::proposal::take_step` whether the caller's role may take the step from the
//! proposal's state, checks the change against the registry, records the step and notifies the
//! parties.

use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE, LOCATION};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use lgsp_core::catalog::EntryContent;
use lgsp_core::proposal::{take_step, Decision, ProposalAction, ProposalState, Step, StepError};
use lgsp_core::{Action, AgencyCode, Resource, Role, Text};
use lgsp_store::{EntryStatus, NewAttachment, Proposal, StepChanges, StoreError};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::letters::{read_upload, ProposalForm, Upload};
use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorCode, ProblemDoc};
use crate::extract::{Json, Path, Query};

pub fn routes(max_upload_bytes: usize) -> OpenApiRouter<AppState> {
    // Uploads carry a letter: they get the upload limit instead of the JSON one.
    let uploads = OpenApiRouter::new()
        .routes(routes!(list_proposals, submit_proposal))
        .routes(routes!(resubmit_proposal))
        .layer(DefaultBodyLimit::max(max_upload_bytes + 64 * 1024));
    OpenApiRouter::new()
        .merge(uploads)
        .routes(routes!(get_proposal))
        .routes(routes!(proposal_letter))
        .routes(routes!(return_proposal))
        .routes(routes!(forward_proposals))
        .routes(routes!(approve_proposal))
        .routes(routes!(reject_proposal))
}

fn step_error(error: StepError) -> ApiError {
    match error {
        StepError::WrongRole(_) => ApiError::new(ErrorCode::Forbidden).detail(error.to_string()),
        StepError::WrongState { .. } => {
            ApiError::new(ErrorCode::InvalidTransition).detail(error.to_string())
        }
    }
}

/// A lost race between two steps on the same proposal is a wrong state too.
fn race_error(error: StoreError) -> ApiError {
    match error {
        StoreError::Conflict(message) => {
            ApiError::new(ErrorCode::InvalidTransition).detail(message)
        }
        other => other.into(),
    }
}

/// The proposal `id` and the state `step` leads it to, if the caller may take the step now.
async fn proposal_for_step(
    state: &AppState,
    caller: &Caller,
    id: i64,
    step: Step,
) -> Result<(Proposal, ProposalState), ApiError> {
    caller.require_person()?;
    let proposal = state.store.get_proposal(id).await?;
    let to = take_step(&caller.actor, &proposal.agency, Some(proposal.state), step)
        .map_err(step_error)?;
    Ok((proposal, to))
}

/// The proposing agency: the caller's, if the caller is an agency administrator.
fn proposer(caller: &Caller) -> Result<AgencyCode, ApiError> {
    caller.require_person()?;
    caller
        .user
        .as_ref()
        .filter(|u| u.assignment.role() == Role::AgencyAdmin)
        .and_then(|u| u.assignment.agency().cloned())
        .ok_or_else(|| step_error(StepError::WrongRole(Step::Submit)))
}

/// Refuses and records anything classified as a state secret (Q1.2).
async fn refuse_state_secrets(
    state: &AppState,
    caller: &Caller,
    form: &ProposalForm,
) -> Result<(), ApiError> {
    let entry_secret = match &form.change {
        ProposalAction::Add { entry } | ProposalAction::Modify { entry } => entry.state_secret(),
        ProposalAction::Withdraw { .. } => None,
    };
    let letter_secret = form.letter_classification.is_state_secret().then(|| {
        format!(
            "the letter is classified `{}`",
            form.letter_classification.as_str()
        )
    });
    let Some(what) = entry_secret.or(letter_secret) else {
        return Ok(());
    };
    state
        .store
        .record_security_event("state_secret_refused", &caller.name(), &what)
        .await?;
    tracing::warn!(actor = %caller.name(), %what, "state-secret registration refused");
    Err(ApiError::new(ErrorCode::StateSecretNotAllowed).detail(what))
}

/// Checks a proposed change against the registry and the catalog as they stand.
async fn check_change(
    state: &AppState,
    proposer: &AgencyCode,
    change: &ProposalAction,
) -> Result<(), ApiError> {
    let code = change.code();
    let latest = match state.store.entry_history(code).await {
        Ok(history) => history.into_iter().last(),
        Err(StoreError::NotFound(_)) => None,
        Err(other) => return Err(other.into()),
    };
    match (change, &latest) {
        (ProposalAction::Add { .. }, Some(_)) => {
            return Err(ApiError::new(ErrorCode::Conflict)
                .detail(format!("the catalog already has an entry {code}")))
        }
        (ProposalAction::Modify { .. } | ProposalAction::Withdraw { .. }, None) => {
            return Err(ApiError::new(ErrorCode::MissingReference)
                .detail(format!("the catalog has no entry {code}")))
        }
        (_, Some(version)) if version.status == EntryStatus::Withdrawn => {
            return Err(ApiError::new(ErrorCode::Conflict)
                .detail(format!("catalog entry {code} has been withdrawn")))
        }
        (_, Some(version)) if &version.content.owner != proposer => {
            return Err(ApiError::new(ErrorCode::Forbidden)
                .detail(format!("catalog entry {code} belongs to another agency")))
        }
        _ => {}
    }
    if let ProposalAction::Add { entry } | ProposalAction::Modify { entry } = change {
        check_entry(state, proposer, entry).await?;
    }
    Ok(())
}

async fn check_entry(
    state: &AppState,
    proposer: &AgencyCode,
    entry: &EntryContent,
) -> Result<(), ApiError> {
    if &entry.owner != proposer {
        return Err(ApiError::new(ErrorCode::Forbidden)
            .detail("an agency proposes entries it owns: `owner` must be your agency"));
    }
    match state
        .store
        .get_system(&entry.owner, &entry.managing_system)
        .await
    {
        Ok(_) => {}
        Err(StoreError::NotFound(_)) => {
            return Err(ApiError::new(ErrorCode::MissingReference).detail(format!(
                "system {} is not registered under agency {}",
                entry.managing_system, entry.owner
            )))
        }
        Err(other) => return Err(other.into()),
    }
    for dataset in &entry.datasets {
        if let Some(holder) = state.store.dataset_entry(&dataset.id).await? {
            if holder != entry.code {
                return Err(ApiError::new(ErrorCode::Conflict).detail(format!(
                    "dataset id {} is used by catalog entry {holder}",
                    dataset.id
                )));
            }
        }
    }
    Ok(())
}

async fn store_letter(
    state: &AppState,
    caller: &Caller,
    upload: &mut Upload,
) -> Result<Option<i64>, ApiError> {
    let Some(letter) = upload.letter.take() else {
        return Ok(None);
    };
    if letter.content.len() > state.settings.max_upload_bytes {
        return Err(ApiError::new(ErrorCode::PayloadTooLarge));
    }
    let stored = state
        .store
        .insert_attachment(&NewAttachment {
            sha256: letter.sha256,
            media_type: "application/pdf".into(),
            filename: letter.filename,
            content: letter.content,
            uploaded_by: caller.name(),
        })
        .await?;
    Ok(Some(stored.id))
}

fn link(id: i64) -> String {
    format!("/console/proposals/{id}")
}

/// Submit a proposal to add, modify or withdraw a catalog entry (agency administrators, for
/// their own agency). `multipart/form-data` with a `proposal` part (JSON, see `ProposalForm`)
/// and a `letter` part (the official letter, PDF).
#[utoipa::path(post, path = "/catalog/proposals", tag = "catalog",
    request_body(content_type = "multipart/form-data", description = "`proposal`: ProposalForm as JSON; `letter`: PDF"),
    responses(
        (status = 201, body = Proposal),
        (status = 403, body = ProblemDoc), (status = 409, body = ProblemDoc),
        (status = 413, body = ProblemDoc),
        (status = 422, body = ProblemDoc, description = "`invalid_body`, `invalid_attachment`, `missing_reference`, `state_secret_not_allowed`"),
    ))]
async fn submit_proposal(
    State(state): State<AppState>,
    caller: Caller,
    multipart: Multipart,
) -> Result<impl IntoResponse, ApiError> {
    let agency = proposer(&caller)?;
    take_step(&caller.actor, &agency, None, Step::Submit).map_err(step_error)?;
    let mut upload = read_upload(multipart).await?;
    if let Some(letter) = &upload.letter {
        let pdf = "application/pdf";
        crate::attachments::guard(&state, &caller, &letter.content, pdf, &letter.filename).await?;
    }
    let form = upload.form.take().ok_or_else(|| {
        ApiError::new(ErrorCode::InvalidBody).detail("the `proposal` part is missing")
    })?;
    refuse_state_secrets(&state, &caller, &form).await?;
    check_change(&state, &agency, &form.change).await?;
    let letter_id = store_letter(&state, &caller, &mut upload)
        .await?
        .ok_or_else(|| {
            ApiError::new(ErrorCode::InvalidAttachment)
                .detail("the official letter (`letter`, PDF) is required")
        })?;
    let proposal = state
        .store
        .insert_proposal(
            &agency,
            &form.change,
            &form.reason,
            letter_id,
            &caller.name(),
        )
        .await?;
    state
        .store
        .notify(
            Role::Operator,
            None,
            &format!("Đề nghị số {} cần xem xét", proposal.id),
            &format!(
                "{agency} đề nghị {} mục {}: {}",
                form.change.label_vi().to_lowercase(),
                form.change.code(),
                form.reason
            ),
            Some(&link(proposal.id)),
        )
        .await?;
    tracing::info!(proposal = proposal.id, by = %caller.name(), "catalog proposal submitted");
    let location = format!("/api/v1/catalog/proposals/{}", proposal.id);
    Ok((
        StatusCode::CREATED,
        [(LOCATION, location)],
        axum::Json(proposal),
    ))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ProposalFilter {
    #[param(value_type = Option<String>)]
    agency: Option<AgencyCode>,
    #[param(value_type = Option<String>)]
    state: Option<ProposalState>,
}

/// Proposals the caller may see, newest first.
#[utoipa::path(get, path = "/catalog/proposals", tag = "catalog", params(ProposalFilter),
    responses((status = 200, body = Vec<Proposal>), (status = 401, body = ProblemDoc)))]
async fn list_proposals(
    State(state): State<AppState>,
    caller: Caller,
    Query(filter): Query<ProposalFilter>,
) -> Result<axum::Json<Vec<Proposal>>, ApiError> {
    let own = caller
        .user
        .as_ref()
        .filter(|u| u.assignment.role() == Role::AgencyAdmin)
        .and_then(|u| u.assignment.agency().cloned());
    let agency = filter.agency.or(own);
    caller.authorize(Action::Read, Resource::Proposal(agency.as_ref()))?;
    Ok(axum::Json(
        state
            .store
            .list_proposals(agency.as_ref(), filter.state)
            .await?,
    ))
}

async fn visible_proposal(
    state: &AppState,
    caller: &Caller,
    id: i64,
) -> Result<Proposal, ApiError> {
    caller.require_person()?;
    let proposal = state.store.get_proposal(id).await?;
    caller.authorize(Action::Read, Resource::Proposal(Some(&proposal.agency)))?;
    Ok(proposal)
}

#[utoipa::path(get, path = "/catalog/proposals/{id}", tag = "catalog",
    params(("id" = i64, Path, description = "Proposal number")),
    responses((status = 200, body = Proposal), (status = 404, body = ProblemDoc)))]
async fn get_proposal(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<axum::Json<Proposal>, ApiError> {
    Ok(axum::Json(visible_proposal(&state, &caller, id).await?))
}

/// The official letter of a proposal, as uploaded (its SHA-256 is in the proposal).
#[utoipa::path(get, path = "/catalog/proposals/{id}/letter", tag = "catalog",
    params(("id" = i64, Path, description = "Proposal number")),
    responses((status = 200, content_type = "application/pdf", description = "The letter"),
        (status = 404, body = ProblemDoc)))]
async fn proposal_letter(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<impl IntoResponse, ApiError> {
    let proposal = visible_proposal(&state, &caller, id).await?;
    let (letter, content) = state.store.attachment(proposal.letter.id).await?;
    Ok((
        [
            (CONTENT_TYPE, letter.media_type),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", letter.filename),
            ),
        ],
        content,
    ))
}

/// Send a returned proposal again, revised (the proposing agency). Same parts as a
/// submission; the letter may be left out to keep the earlier one.
#[utoipa::path(post, path = "/catalog/proposals/{id}/resubmit", tag = "catalog",
    params(("id" = i64, Path, description = "Proposal number")),
    request_body(content_type = "multipart/form-data", description = "`proposal`: ProposalForm as JSON; `letter`: PDF (optional)"),
    responses((status = 200, body = Proposal), (status = 403, body = ProblemDoc),
        (status = 409, body = ProblemDoc, description = "`invalid_transition`")))]
async fn resubmit_proposal(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    multipart: Multipart,
) -> Result<axum::Json<Proposal>, ApiError> {
    let (proposal, to) = proposal_for_step(&state, &caller, id, Step::Resubmit).await?;
    let mut upload = read_upload(multipart).await?;
    if let Some(letter) = &upload.letter {
        let pdf = "application/pdf";
        crate::attachments::guard(&state, &caller, &letter.content, pdf, &letter.filename).await?;
    }
    let form = upload.form.take().ok_or_else(|| {
        ApiError::new(ErrorCode::InvalidBody).detail("the `proposal` part is missing")
    })?;
    refuse_state_secrets(&state, &caller, &form).await?;
    if form.change.code() != proposal.action.code() {
        return Err(ApiError::new(ErrorCode::InvalidBody).detail(
            "a resubmission concerns the same catalog entry; submit a new proposal for another",
        ));
    }
    check_change(&state, &proposal.agency, &form.change).await?;
    let letter_id = store_letter(&state, &caller, &mut upload).await?;
    let changes = StepChanges {
        comment: Some(form.reason.to_string()),
        action: Some(form.change),
        reason: Some(form.reason),
        letter_id,
    };
    let updated = state
        .store
        .take_proposal_step(
            id,
            proposal.state,
            Step::Resubmit,
            to,
            &caller.name(),
            &changes,
        )
        .await
        .map_err(race_error)?;
    state
        .store
        .notify(
            Role::Operator,
            None,
            &format!("Đề nghị số {id} đã được gửi lại"),
            &format!("{} đã chỉnh sửa và gửi lại đề nghị.", proposal.agency),
            Some(&link(id)),
        )
        .await?;
    Ok(axum::Json(updated))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnForm {
    /// What the agency must revise (mandatory).
    comment: Text,
}

/// Return a proposal to its agency for revision (operator).
#[utoipa::path(post, path = "/catalog/proposals/{id}/return", tag = "catalog",
    params(("id" = i64, Path, description = "Proposal number")), request_body = ReturnForm,
    responses((status = 200, body = Proposal), (status = 403, body = ProblemDoc),
        (status = 409, body = ProblemDoc, description = "`invalid_transition`")))]
async fn return_proposal(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(form): Json<ReturnForm>,
) -> Result<axum::Json<Proposal>, ApiError> {
    let (proposal, to) = proposal_for_step(&state, &caller, id, Step::Return).await?;
    let changes = StepChanges {
        comment: Some(form.comment.to_string()),
        ..StepChanges::default()
    };
    let updated = state
        .store
        .take_proposal_step(
            id,
            proposal.state,
            Step::Return,
            to,
            &caller.name(),
            &changes,
        )
        .await
        .map_err(race_error)?;
    state
        .store
        .notify(
            Role::AgencyAdmin,
            Some(&proposal.agency),
            &format!("Đề nghị số {id} được trả lại để chỉnh sửa"),
            form.comment.as_str(),
            Some(&link(id)),
        )
        .await?;
    Ok(axum::Json(updated))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmissionForm {
    /// The proposals to forward together (at least one).
    proposals: Vec<i64>,
    /// The operator's recommendation to the approver (mandatory).
    recommendation: Text,
}

#[derive(serde::Serialize, ToSchema)]
pub struct SubmissionCreated {
    submission: i64,
    proposals: Vec<Proposal>,
}

/// Forward one or more reviewed proposals to the approver as one submission with a
/// recommendation (operator). All or none.
#[utoipa::path(post, path = "/catalog/submissions", tag = "catalog", request_body = SubmissionForm,
    responses((status = 201, body = SubmissionCreated), (status = 403, body = ProblemDoc),
        (status = 409, body = ProblemDoc, description = "`invalid_transition`")))]
async fn forward_proposals(
    State(state): State<AppState>,
    caller: Caller,
    Json(form): Json<SubmissionForm>,
) -> Result<impl IntoResponse, ApiError> {
    caller.require_person()?;
    let mut ids = form.proposals.clone();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Err(ApiError::new(ErrorCode::InvalidBody).detail("name at least one proposal"));
    }
    let mut proposals = Vec::with_capacity(ids.len());
    for &id in &ids {
        let proposal = state.store.get_proposal(id).await?;
        take_step(
            &caller.actor,
            &proposal.agency,
            Some(proposal.state),
            Step::Forward,
        )
        .map_err(step_error)?;
        proposals.push(proposal);
    }
    let submission = state
        .store
        .forward_proposals(&ids, &form.recommendation, &caller.name())
        .await
        .map_err(race_error)?;
    state
        .store
        .notify(
            Role::Approver,
            None,
            &format!(
                "Sở TTTT trình {} đề nghị về danh mục CSDL dùng chung",
                ids.len()
            ),
            form.recommendation.as_str(),
            Some(&link(ids[0])),
        )
        .await?;
    let mut forwarded = Vec::with_capacity(ids.len());
    for proposal in proposals {
        state
            .store
            .notify(
                Role::AgencyAdmin,
                Some(&proposal.agency),
                &format!("Đề nghị số {} đã được trình UBND tỉnh", proposal.id),
                form.recommendation.as_str(),
                Some(&link(proposal.id)),
            )
            .await?;
        forwarded.push(state.store.get_proposal(proposal.id).await?);
    }
    tracing::info!(submission, count = ids.len(), by = %caller.name(), "proposals forwarded");
    Ok((
        StatusCode::CREATED,
        axum::Json(SubmissionCreated {
            submission,
            proposals: forwarded,
        }),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApprovalForm {
    decision: Decision,
    #[serde(default)]
    comment: Option<Text>,
}

/// Approve a forwarded proposal by a decision (approver). The catalog changes from the
/// decision's effective date.
#[utoipa::path(post, path = "/catalog/proposals/{id}/approve", tag = "catalog",
    params(("id" = i64, Path, description = "Proposal number")), request_body = ApprovalForm,
    responses((status = 200, body = Proposal), (status = 403, body = ProblemDoc),
        (status = 409, body = ProblemDoc, description = "`invalid_transition`, `conflict`")))]
async fn approve_proposal(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(form): Json<ApprovalForm>,
) -> Result<axum::Json<Proposal>, ApiError> {
    let comment = form.comment.as_ref().map(Text::as_str);
    decide(&state, &caller, id, Step::Approve, &form.decision, comment).await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectionForm {
    /// Number of the decision that refuses, e.g. "1235/QĐ-UBND".
    number: Text,
    date: chrono::NaiveDate,
    /// Why (mandatory).
    reason: Text,
}

/// Reject a forwarded proposal (approver), with the decision and the reason.
#[utoipa::path(post, path = "/catalog/proposals/{id}/reject", tag = "catalog",
    params(("id" = i64, Path, description = "Proposal number")), request_body = RejectionForm,
    responses((status = 200, body = Proposal), (status = 403, body = ProblemDoc),
        (status = 409, body = ProblemDoc, description = "`invalid_transition`")))]
async fn reject_proposal(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(form): Json<RejectionForm>,
) -> Result<axum::Json<Proposal>, ApiError> {
    let decision = Decision {
        number: form.number,
        date: form.date,
        effective_date: form.date,
    };
    decide(
        &state,
        &caller,
        id,
        Step::Reject,
        &decision,
        Some(form.reason.as_str()),
    )
    .await
}

async fn decide(
    state: &AppState,
    caller: &Caller,
    id: i64,
    step: Step,
    decision: &Decision,
    comment: Option<&str>,
) -> Result<axum::Json<Proposal>, ApiError> {
    let (proposal, _) = proposal_for_step(state, caller, id, step).await?;
    let approve = step == Step::Approve;
    let decided = state
        .store
        .decide_proposal(id, approve, decision, &caller.name(), comment)
        .await
        .map_err(|error| match error {
            // Still forwarded: the catalog refused the change (e.g. a dataset id taken since).
            StoreError::Conflict(message) if !message.contains("not waiting") => {
                ApiError::new(ErrorCode::Conflict).detail(message)
            }
            other => race_error(other),
        })?;
    let subject = if approve {
        format!(
            "Đề nghị số {id} đã được phê duyệt (Quyết định số {}, hiệu lực từ {})",
            decision.number,
            decision.effective_date.format("%d/%m/%Y")
        )
    } else {
        format!(
            "Đề nghị số {id} không được phê duyệt (Quyết định số {})",
            decision.number
        )
    };
    let body = comment.unwrap_or_default();
    for (role, agency) in [
        (Role::AgencyAdmin, Some(&proposal.agency)),
        (Role::Operator, None),
    ] {
        state
            .store
            .notify(role, agency, &subject, body, Some(&link(id)))
            .await?;
    }
    // This node's search sees the change now; other nodes within a second (`keep_current`).
    if approve {
        if let Err(error) = super::search::rebuild(state).await {
            tracing::warn!(error = ?error, "search index not rebuilt after a decision");
        }
    }
    tracing::info!(proposal = id, step = step.as_str(), by = %caller.name(), "catalog proposal decided");
    Ok(axum::Json(decided))
}
