//! `/api/v1/datasets/{id}/webhooks`: an agency's subscriptions to a dataset's changes, their
//! delivery log, and bringing a dead one back.

use axum::extract::State;
use axum::http::header::LOCATION;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use lgsp_core::catalog::DatasetId;
use lgsp_core::webhook::{TargetError, WebhookState, WebhookTarget};
use lgsp_core::{Action, AgencyCode, Resource, Role};
use lgsp_store::{Delivery, NewWebhook, Reactivation, Webhook};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::AppState;
use crate::auth::Caller;
use crate::datasets::{allowed, table};
use crate::error::{ApiError, ErrorCode, ProblemDoc};
use crate::extract::{Json, Path, Query};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_webhook, list_webhooks))
        .routes(routes!(get_webhook, delete_webhook))
        .routes(routes!(reactivate_webhook))
        .routes(routes!(webhook_deliveries))
}

/// A subscription to create.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSubscription {
    /// Where deliveries go: an `https://` URL.
    url: String,
    /// Deliver the changes after this sequence number (default: the newest change now, so
    /// only changes from now on). Changes older than the retention period cannot be asked for.
    #[serde(default)]
    since: Option<i64>,
}

/// A subscription as the API shows it.
#[derive(Serialize, ToSchema)]
pub struct WebhookDoc {
    id: String,
    dataset: String,
    /// The subscribing agency.
    agency: String,
    url: String,
    state: WebhookState,
    /// The last change the receiver acknowledged; deliveries go on from the next one.
    delivered_seq: i64,
    /// The newest change of the dataset.
    last_seq: i64,
    /// Consecutive failed deliveries.
    failures: i64,
    /// When the next delivery will be tried, if changes are waiting.
    next_attempt_at: Option<chrono::DateTime<chrono::Utc>>,
    last_error: Option<String>,
    created_by: String,
    created_at: chrono::DateTime<chrono::Utc>,
    dead_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl WebhookDoc {
    fn new(webhook: Webhook, last_seq: i64) -> Self {
        let waiting = webhook.state == WebhookState::Active && webhook.delivered_seq < last_seq;
        Self {
            id: webhook.id,
            dataset: webhook.dataset,
            agency: webhook.agency,
            url: webhook.target.to_string(),
            state: webhook.state,
            delivered_seq: webhook.delivered_seq,
            last_seq,
            failures: webhook.failures,
            next_attempt_at: waiting.then_some(webhook.next_attempt_at),
            last_error: webhook.last_error,
            created_by: webhook.created_by,
            created_at: webhook.created_at,
            dead_at: webhook.dead_at,
        }
    }
}

/// One delivery attempt.
#[derive(Serialize, ToSchema)]
pub struct DeliveryDoc {
    attempted_at: chrono::DateTime<chrono::Utc>,
    /// The changes it carried.
    from_seq: i64,
    to_seq: i64,
    /// `delivered` (the receiver answered 2xx) or `failed`.
    outcome: String,
    /// The receiver's HTTP status, when it answered.
    status: Option<i32>,
    /// Why it failed: `HTTP <status>`, `timed out`, `could not connect`, ….
    error: Option<String>,
    duration_ms: i64,
}

impl From<Delivery> for DeliveryDoc {
    fn from(d: Delivery) -> Self {
        Self {
            attempted_at: d.attempted_at,
            from_seq: d.from_seq,
            to_seq: d.to_seq,
            outcome: d.outcome,
            status: d.status,
            error: d.error,
            duration_ms: d.duration_ms,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct DeliveriesDoc {
    /// Newest first.
    deliveries: Vec<DeliveryDoc>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DeliveriesQuery {
    /// 1–1000, default 100.
    limit: Option<i64>,
}

/// The dataset's newest change number; 404 when it has no records yet.
async fn last_seq(state: &AppState, dataset: &DatasetId) -> Result<(i64, i64), ApiError> {
    state
        .store
        .change_bounds(dataset.as_str())
        .await?
        .ok_or_else(|| {
            ApiError::new(ErrorCode::ResourceNotFound).detail(format!(
                "dataset {dataset} has no schema yet: PUT its Table Schema first"
            ))
        })
}

fn not_found(id: &str) -> ApiError {
    ApiError::new(ErrorCode::ResourceNotFound).detail(format!("no webhook subscription {id}"))
}

/// A subscription of the dataset that the caller may `action`.
async fn subscription(
    state: &AppState,
    caller: &Caller,
    dataset: &DatasetId,
    id: &str,
    action: Action,
) -> Result<Webhook, ApiError> {
    caller.require_person()?;
    let webhook = state
        .store
        .webhook(dataset.as_str(), id)
        .await?
        .ok_or_else(|| not_found(id))?;
    let agency = AgencyCode::parse(&webhook.agency).map_err(ApiError::internal)?;
    caller.authorize(action, Resource::Webhook(Some(&agency)))?;
    Ok(webhook)
}

/// Subscribe the caller's agency to a dataset's changes: every change after `since` is
/// POSTed to `url` in order, in batches (`application/json`: `webhook`, `dataset`, `from_seq`,
/// `to_seq`, `last_seq` and `changes` shaped as in the change feed), each signed with RFC 9421
/// (`Signature-Input`/`Signature`, label `sig1`, `alg="ed25519"`, `keyid` = a key of
/// `/.well-known/jwks.json`) over `@method`, `@target-uri`, `content-digest` and
/// `content-type`, with an RFC 9530 `Content-Digest`. A 2xx answer acknowledges the batch;
/// anything else is retried with exponential backoff, the same batch again (at least once),
/// and after `webhook_max_failures` consecutive failures the subscription is `dead` until
/// reactivated. An agency's administrator subscribes their agency, the operator theirs; both
/// must be able to read the dataset's records. Personal fields are sent only where the
/// subscriber may see them.
#[utoipa::path(post, path = "/datasets/{id}/webhooks", tag = "datasets",
    params(("id" = String, Path, description = "Dataset id")),
    request_body = NewSubscription,
    responses((status = 201, body = WebhookDoc),
        (status = 401, body = ProblemDoc), (status = 403, body = ProblemDoc),
        (status = 404, body = ProblemDoc),
        (status = 409, body = ProblemDoc, description = "`conflict`: the agency already subscribed this URL to the dataset"),
        (status = 410, body = ProblemDoc, description = "`changes_expired`: `since` is older than the changes kept"),
        (status = 422, body = ProblemDoc, description = "`invalid_webhook_url`, `insecure_webhook_url`, `invalid_body`")))]
async fn create_webhook(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<DatasetId>,
    Json(body): Json<NewSubscription>,
) -> Result<impl IntoResponse, ApiError> {
    caller.require_person()?;
    let user = caller
        .user
        .as_ref()
        .ok_or_else(|| ApiError::new(ErrorCode::Forbidden))?;
    let agency = user.assignment.agency().cloned().ok_or_else(|| {
        ApiError::new(ErrorCode::Forbidden)
            .detail("a subscription belongs to an agency, and your account belongs to none")
    })?;
    caller.authorize(Action::Create, Resource::Webhook(Some(&agency)))?;
    allowed(&state, &caller, &id, Action::Read).await?;
    let target = WebhookTarget::parse(&body.url, state.settings.webhook_allow_http_loopback)
        .map_err(|error| match error {
            TargetError::Invalid(message) => {
                ApiError::new(ErrorCode::InvalidWebhookUrl).detail(message)
            }
            TargetError::Insecure(message) => {
                ApiError::new(ErrorCode::InsecureWebhookUrl).detail(message)
            }
        })?;
    table(&state, &id).await?;
    let (pruned_seq, last_seq) = last_seq(&state, &id).await?;
    let since = body.since.unwrap_or(last_seq);
    if since < pruned_seq {
        return Err(ApiError::new(ErrorCode::ChangesExpired)
            .detail(format!(
                "changes up to {pruned_seq} are no longer kept: subscribe from {pruned_seq} or later"
            ))
            .with("oldest_seq", Value::from(pruned_seq + 1))
            .with("last_seq", Value::from(last_seq)));
    }
    if since > last_seq {
        return Err(ApiError::new(ErrorCode::InvalidBody).detail(format!(
            "since: the newest change of dataset {id} is {last_seq}"
        )));
    }
    let role = user.assignment.role();
    let webhook = state
        .store
        .create_webhook(&NewWebhook {
            id: uuid::Uuid::now_v7().to_string(),
            dataset: id.to_string(),
            agency: agency.to_string(),
            target,
            since,
            created_by: caller.name(),
            creator_role: role.as_str().to_owned(),
        })
        .await?;
    tracing::info!(webhook = %webhook.id, dataset = %id, by = %caller.name(), "webhook created");
    let location = format!("/api/v1/datasets/{id}/webhooks/{}", webhook.id);
    Ok((
        StatusCode::CREATED,
        [(LOCATION, location)],
        axum::Json(WebhookDoc::new(webhook, last_seq)),
    ))
}

/// The subscriptions to a dataset's changes: the caller's agency's (an agency's
/// administrator), or all of them (the operator, the auditor).
#[utoipa::path(get, path = "/datasets/{id}/webhooks", tag = "datasets",
    params(("id" = String, Path, description = "Dataset id")),
    responses((status = 200, body = Vec<WebhookDoc>),
        (status = 401, body = ProblemDoc), (status = 403, body = ProblemDoc),
        (status = 404, body = ProblemDoc)))]
async fn list_webhooks(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<DatasetId>,
) -> Result<axum::Json<Vec<WebhookDoc>>, ApiError> {
    caller.require_person()?;
    let scope = match caller.actor.role() {
        Some(Role::Operator | Role::Auditor) => None,
        _ => caller
            .user
            .as_ref()
            .and_then(|u| u.assignment.agency().cloned()),
    };
    caller.authorize(Action::Read, Resource::Webhook(scope.as_ref()))?;
    let (_, last_seq) = last_seq(&state, &id).await?;
    let scope = scope.map(|a| a.to_string());
    let list = state
        .store
        .webhooks(Some(id.as_str()), scope.as_deref())
        .await?;
    Ok(axum::Json(
        list.into_iter()
            .map(|w| WebhookDoc::new(w, last_seq))
            .collect(),
    ))
}

/// One subscription.
#[utoipa::path(get, path = "/datasets/{id}/webhooks/{webhook}", tag = "datasets",
    params(("id" = String, Path, description = "Dataset id"),
        ("webhook" = String, Path, description = "Subscription id")),
    responses((status = 200, body = WebhookDoc),
        (status = 401, body = ProblemDoc), (status = 403, body = ProblemDoc),
        (status = 404, body = ProblemDoc)))]
async fn get_webhook(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, webhook)): Path<(DatasetId, String)>,
) -> Result<axum::Json<WebhookDoc>, ApiError> {
    let found = subscription(&state, &caller, &id, &webhook, Action::Read).await?;
    let (_, last_seq) = last_seq(&state, &id).await?;
    Ok(axum::Json(WebhookDoc::new(found, last_seq)))
}

/// End a subscription: nothing more is delivered (its delivery log is kept).
#[utoipa::path(delete, path = "/datasets/{id}/webhooks/{webhook}", tag = "datasets",
    params(("id" = String, Path, description = "Dataset id"),
        ("webhook" = String, Path, description = "Subscription id")),
    responses((status = 204, description = "Ended"),
        (status = 401, body = ProblemDoc), (status = 403, body = ProblemDoc),
        (status = 404, body = ProblemDoc)))]
async fn delete_webhook(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, webhook)): Path<(DatasetId, String)>,
) -> Result<StatusCode, ApiError> {
    subscription(&state, &caller, &id, &webhook, Action::Revoke).await?;
    if !state.store.delete_webhook(id.as_str(), &webhook).await? {
        return Err(not_found(&webhook));
    }
    tracing::info!(%webhook, dataset = %id, by = %caller.name(), "webhook deleted");
    Ok(StatusCode::NO_CONTENT)
}

/// Bring a dead subscription back: delivery resumes at once from the first change the
/// receiver did not acknowledge. 409 `invalid_transition` when it is not dead; 410
/// `changes_expired` when those changes are no longer kept (subscribe anew after downloading
/// the records).
#[utoipa::path(post, path = "/datasets/{id}/webhooks/{webhook}/reactivate", tag = "datasets",
    params(("id" = String, Path, description = "Dataset id"),
        ("webhook" = String, Path, description = "Subscription id")),
    responses((status = 200, body = WebhookDoc),
        (status = 401, body = ProblemDoc), (status = 403, body = ProblemDoc),
        (status = 404, body = ProblemDoc), (status = 409, body = ProblemDoc),
        (status = 410, body = ProblemDoc)))]
async fn reactivate_webhook(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, webhook)): Path<(DatasetId, String)>,
) -> Result<axum::Json<WebhookDoc>, ApiError> {
    let found = subscription(&state, &caller, &id, &webhook, Action::Update).await?;
    let (pruned_seq, last_seq) = last_seq(&state, &id).await?;
    if found.delivered_seq < pruned_seq {
        return Err(ApiError::new(ErrorCode::ChangesExpired)
            .detail(format!(
                "the changes after {} are no longer kept: download the records in full and \
                 subscribe again",
                found.delivered_seq
            ))
            .with("oldest_seq", Value::from(pruned_seq + 1))
            .with("last_seq", Value::from(last_seq)));
    }
    match state
        .store
        .reactivate_webhook(id.as_str(), &webhook)
        .await?
    {
        Reactivation::Reactivated => {}
        Reactivation::NotDead => {
            return Err(ApiError::new(ErrorCode::InvalidTransition)
                .detail("only a dead subscription can be reactivated; this one is active"))
        }
        Reactivation::NotFound => return Err(not_found(&webhook)),
    }
    tracing::info!(%webhook, dataset = %id, by = %caller.name(), "webhook reactivated");
    let found = state
        .store
        .webhook(id.as_str(), &webhook)
        .await?
        .ok_or_else(|| not_found(&webhook))?;
    Ok(axum::Json(WebhookDoc::new(found, last_seq)))
}

/// The delivery log of a subscription, newest first: when each attempt was made, which
/// changes it carried, the receiver's status or the error, and how long it took.
#[utoipa::path(get, path = "/datasets/{id}/webhooks/{webhook}/deliveries", tag = "datasets",
    params(("id" = String, Path, description = "Dataset id"),
        ("webhook" = String, Path, description = "Subscription id"), DeliveriesQuery),
    responses((status = 200, body = DeliveriesDoc),
        (status = 400, body = ProblemDoc),
        (status = 401, body = ProblemDoc), (status = 403, body = ProblemDoc),
        (status = 404, body = ProblemDoc)))]
async fn webhook_deliveries(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, webhook)): Path<(DatasetId, String)>,
    Query(query): Query<DeliveriesQuery>,
) -> Result<axum::Json<DeliveriesDoc>, ApiError> {
    let limit = query.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::new(ErrorCode::InvalidParameter)
            .detail("`limit` is a number from 1 to 1000")
            .with("parameter", Value::from("limit")));
    }
    let found = subscription(&state, &caller, &id, &webhook, Action::Read).await?;
    let deliveries = state.store.webhook_deliveries(&found.id, limit).await?;
    Ok(axum::Json(DeliveriesDoc {
        deliveries: deliveries.into_iter().map(DeliveryDoc::from).collect(),
    }))
}
