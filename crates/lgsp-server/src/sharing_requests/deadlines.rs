//! The provider's answer period (Q16.1): a configured number of working days from submission or
//! resubmission (`request_response_working_days`, skipping weekends and `holidays`). A request
//! still pending after it is overdue; the platform escalates it to the operator, once per
//! period, with a step in its history, a leaf on the transparency log and notices.

use std::time::Duration;

use chrono::{DateTime, Utc};
use lgsp_core::sharing_request::RequestStep;
use lgsp_store::SharingRequest;
use serde_json::json;

use super::notices;
use crate::app::AppState;
use crate::error::ApiError;
use crate::settings::Settings;

/// Who takes the steps a deadline takes.
pub const DEADLINE_ACTOR: &str = "lgsp:qua-han";

/// The end of the answer period of a request submitted at `at`.
pub fn respond_by(settings: &Settings, at: DateTime<Utc>) -> DateTime<Utc> {
    settings
        .calendar()
        .deadline(at, settings.request_response_working_days)
}

/// Escalates the requests overdue at `at`; returns them with the index of the leaf that
/// records each escalation.
pub async fn escalate_overdue(
    state: &AppState,
    at: DateTime<Utc>,
) -> Result<Vec<(SharingRequest, u64)>, ApiError> {
    let escalated = state
        .store
        .escalate_overdue_requests(at, DEADLINE_ACTOR)
        .await?;
    let mut logged = Vec::with_capacity(escalated.len());
    for request in escalated {
        let entry = json!({
            "v": 1,
            "kind": "step",
            "time": at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            "actor": DEADLINE_ACTOR,
            "route": format!("/api/v1/sharing-requests/{}", request.id),
            "step": RequestStep::Escalate.as_str(),
        });
        let index = state.log.append(&entry).await?;
        tracing::info!(
            request = request.id,
            "overdue sharing request escalated to the operator"
        );
        notices::tell(state, &request, RequestStep::Escalate).await;
        logged.push((request, index));
    }
    Ok(logged)
}

/// Looks for overdue requests every minute.
pub async fn keep_deadlines(state: AppState) {
    let mut every = tokio::time::interval(Duration::from_secs(60));
    loop {
        every.tick().await;
        if let Err(error) = escalate_overdue(&state, Utc::now()).await {
            tracing::warn!(error = ?error, "could not escalate overdue sharing requests");
        }
    }
}
