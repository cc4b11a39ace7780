//! Delivering a subscription's changes: batches in order, each one POST signed with RFC 9421
//! (`@method`, `@target-uri`, `content-digest`, `content-type`) under the platform key, with its
//! `Content-Digest`; the delivery log records every attempt.

use std::sync::Arc;
use std::time::Instant;

use lgsp_core::catalog::DatasetId;
use lgsp_core::http_signature::{Component, HttpMessage};
use lgsp_core::{authorize, may_see_personal_fields, Action, Actor, AgencyCode, Resource, Role};
use lgsp_core::{RoleAssignment, Username};
use lgsp_store::{AfterFailure, ChangePage, NewDelivery, Webhook};
use serde::Serialize;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::catalog::{today, Snapshot};
use crate::datasets::{change_docs, ChangeDoc};
use crate::signatures::{content_digest, sign};

/// The body of a delivery: a batch of consecutive changes of one dataset, as the change feed
/// shows them to the subscribing agency.
#[derive(Serialize, ToSchema)]
pub struct DeliveryBody {
    /// The subscription.
    pub webhook: String,
    pub dataset: String,
    /// The first and last change in this batch (the batch holds every change between).
    pub from_seq: i64,
    pub to_seq: i64,
    /// The newest change of the dataset when the batch was sent.
    pub last_seq: i64,
    pub changes: Vec<ChangeDoc>,
}

/// The HTTP client of deliveries: no redirects (a receiver answers itself), a timeout.
pub(super) fn client(state: &AppState) -> reqwest::Result<reqwest::Client> {
    let timeout = std::time::Duration::from_secs(state.settings.webhook_timeout_seconds);
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .connect_timeout(timeout)
        .user_agent(concat!("LGSP-webhooks/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// Takes due subscriptions (as many as there are free permits) and starts delivering each.
pub(super) async fn start_due(
    state: &AppState,
    http: &reqwest::Client,
    permits: &Arc<Semaphore>,
    running: &mut JoinSet<()>,
) -> lgsp_store::Result<()> {
    let at = lgsp_store::now();
    for id in state.store.due_webhooks(at, super::CLAIMS_PER_POLL).await? {
        let Ok(permit) = Arc::clone(permits).try_acquire_owned() else {
            break;
        };
        let token = uuid::Uuid::now_v7().to_string();
        let until = at + super::lease(state);
        let Some(webhook) = state.store.claim_webhook(&id, &token, at, until).await? else {
            continue;
        };
        let (state, http) = (state.clone(), http.clone());
        running.spawn(async move {
            let id = webhook.id.clone();
            if let Err(error) = deliver(&state, &http, webhook, &token).await {
                tracing::warn!(webhook = %id, error = ?error, "webhook delivery stopped");
                let _ = state.store.release_webhook(&id, &token).await;
            }
            drop(permit);
        });
    }
    Ok(())
}

/// Who a subscription reads the dataset as: its creator's role in the subscribing agency.
fn subscriber(webhook: &Webhook) -> Option<Actor> {
    let role = Role::ALL
        .into_iter()
        .find(|r| r.as_str() == webhook.creator_role)?;
    let agency = AgencyCode::parse(&webhook.agency).ok()?;
    Some(Actor::Person {
        username: Username::parse(&webhook.created_by).ok()?,
        assignment: RoleAssignment::new(role, Some(agency)).ok()?,
    })
}

/// Whether the subscriber may read the dataset now, and whether it sees personal fields.
async fn access(state: &AppState, webhook: &Webhook) -> anyhow::Result<Option<bool>> {
    let Some(actor) = subscriber(webhook) else {
        return Ok(None);
    };
    let snapshot = Snapshot::load(state, today())
        .await
        .map_err(|e| anyhow::anyhow!("cannot load the catalog: {e:?}"))?;
    let Some(found) = snapshot.dataset(&webhook.dataset) else {
        return Ok(None);
    };
    let owner = AgencyCode::parse(&found.owner)?;
    let resource = Resource::Records {
        owner: &owner,
        access: found.dataset.access_level,
    };
    if authorize(&actor, Action::Read, resource).is_err() {
        return Ok(None);
    }
    Ok(Some(may_see_personal_fields(&actor, &owner)))
}

/// Delivers a claimed subscription's pending changes batch by batch until it is up to date or
/// a delivery fails.
async fn deliver(
    state: &AppState,
    http: &reqwest::Client,
    webhook: Webhook,
    token: &str,
) -> anyhow::Result<()> {
    let store = &state.store;
    let Some(personal) = access(state, &webhook).await? else {
        store
            .kill_webhook(
                &webhook.id,
                token,
                "the subscribing agency may no longer read this dataset",
            )
            .await?;
        tracing::warn!(webhook = %webhook.id, "webhook stopped: no longer allowed to read");
        return Ok(());
    };
    let dataset = DatasetId::parse(&webhook.dataset)?;
    let Some(table) = store.record_table(&dataset).await? else {
        store.release_webhook(&webhook.id, token).await?;
        return Ok(());
    };
    let url = reqwest::Url::parse(webhook.target.as_str())?;
    let batch = state.settings.webhook_batch_size;
    let mut cursor = webhook.delivered_seq;
    let mut failures = webhook.failures;
    loop {
        let (changes, last_seq) = match store.changes(&table, cursor, batch).await? {
            ChangePage::Changes { changes, last_seq } => (changes, last_seq),
            ChangePage::Expired { pruned_seq, .. } => {
                let reason = format!(
                    "the changes after {cursor} are no longer kept (up to {pruned_seq} were \
                     pruned): download the records in full and subscribe again"
                );
                store.kill_webhook(&webhook.id, token, &reason).await?;
                return Ok(());
            }
        };
        let (Some(first), Some(last)) = (changes.first(), changes.last()) else {
            store.release_webhook(&webhook.id, token).await?;
            return Ok(());
        };
        let (from_seq, to_seq) = (first.seq, last.seq);
        let body = serde_json::to_vec(&DeliveryBody {
            webhook: webhook.id.clone(),
            dataset: webhook.dataset.clone(),
            from_seq,
            to_seq,
            last_seq,
            changes: change_docs(&table, &changes, personal),
        })?;
        let attempted_at = lgsp_store::now();
        let started = Instant::now();
        let outcome = post(state, http, &url, body).await;
        let duration_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        let (status, error) = match &outcome {
            Ok(status) if (200..300).contains(status) => (Some(*status), None),
            Ok(status) => (Some(*status), Some(format!("HTTP {status}"))),
            Err(error) => (None, Some(error.clone())),
        };
        store
            .record_delivery(&NewDelivery {
                webhook_id: &webhook.id,
                attempted_at,
                from_seq,
                to_seq,
                delivered: error.is_none(),
                status,
                error: error.as_deref(),
                duration_ms,
            })
            .await?;
        match error {
            None => {
                let until = lgsp_store::now() + super::lease(state);
                if !store
                    .advance_webhook(&webhook.id, token, to_seq, until)
                    .await?
                {
                    tracing::warn!(webhook = %webhook.id, "lease lost after a delivery");
                    return Ok(());
                }
                cursor = to_seq;
                failures = 0;
            }
            Some(error) => {
                let retry_at = lgsp_store::now() + super::retry_delay(state, failures + 1);
                let max = i64::from(state.settings.webhook_max_failures);
                match store
                    .fail_webhook(&webhook.id, token, &error, retry_at, max)
                    .await?
                {
                    AfterFailure::Dead { failures } => tracing::warn!(
                        webhook = %webhook.id, failures, %error,
                        "webhook dead after consecutive failures"
                    ),
                    AfterFailure::Retry { failures } => tracing::info!(
                        webhook = %webhook.id, failures, %error, "webhook delivery failed; will retry"
                    ),
                    AfterFailure::LeaseLost => {}
                }
                return Ok(());
            }
        }
    }
}

/// Sends one signed delivery; the receiver's status, or why there is none.
async fn post(
    state: &AppState,
    http: &reqwest::Client,
    url: &reqwest::Url,
    body: Vec<u8>,
) -> Result<u16, String> {
    const JSON: &str = "application/json";
    let digest = content_digest(&body);
    let message = HttpMessage::request("POST", url.as_str())
        .with_field("content-type", JSON)
        .with_field("content-digest", &digest);
    let components = vec![
        Component::Method,
        Component::TargetUri,
        Component::Field("content-digest".into()),
        Component::Field("content-type".into()),
    ];
    let created = chrono::Utc::now().timestamp();
    let signed = sign(state.keys.active(), &message, components, created)
        .map_err(|e| format!("cannot sign the delivery: {e}"))?;
    let response = http
        .post(url.clone())
        .header(reqwest::header::CONTENT_TYPE, JSON)
        .header("content-digest", digest)
        .header("signature-input", signed.signature_input)
        .header("signature", signed.signature)
        .body(body)
        .send()
        .await
        .map_err(|e| describe(&e))?;
    Ok(response.status().as_u16())
}

/// A short, stable description of a transport failure for the delivery log.
fn describe(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "timed out".into()
    } else if error.is_connect() {
        "could not connect".into()
    } else {
        "the request failed".into()
    }
}
