//! The transparency log (Q4, Q6.4, Q15.1.b, Q15.2.e): every exchange and every workflow or
//! administrative action becomes one leaf of an RFC 6962 Merkle tree (`lgsp-tlog`), served as
//! C2SP `tlog-tiles` with signed checkpoints, so that anyone holding a checkpoint can verify
//! that nothing logged was later changed or removed.
//!
//! Appends go through one committer task per node that gathers whatever leaves are waiting
//! into one durable transaction (group commit): a request waits for its leaf's commit, and its
//! response carries the leaf's index in `LGSP-Log-Index`. A second task signs a checkpoint at
//! most once a second while entries arrive.

pub mod routes;
pub mod verify;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use lgsp_store::{ExchangeEntry, Store, StoreError};
use lgsp_tlog::{Checkpoint, NoteSigner};
use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot};

use crate::app::AppState;
use crate::error::{ApiError, ErrorCode};
use crate::keys::Keyring;

pub use routes::routes;

/// The index of the leaf that records a request.
pub const LOG_INDEX: HeaderName = HeaderName::from_static("lgsp-log-index");

/// The most leaves committed in one transaction.
const MAX_BATCH: usize = 20_000;

struct Pending {
    entry: Vec<u8>,
    /// The exchange the entry records, indexed in the same transaction.
    exchange: Option<ExchangeEntry>,
    done: oneshot::Sender<Result<u64, String>>,
}

/// A node's handle on the log: appends wait for their leaf to be durably committed.
#[derive(Clone)]
pub struct TransparencyLog {
    sender: mpsc::Sender<Pending>,
    /// The log's origin line in checkpoints, e.g. `lgsp.hanam.gov.vn/log`.
    pub origin: Arc<str>,
}

/// A leaf that could not be committed.
#[derive(Debug, thiserror::Error)]
#[error("the transparency log could not commit: {0}")]
pub struct LogError(String);

impl From<LogError> for ApiError {
    fn from(error: LogError) -> Self {
        tracing::error!(error = %error, "a request could not be recorded");
        ApiError::new(ErrorCode::StorageUnavailable)
            .detail("the transparency log could not record this request; try again")
    }
}

impl TransparencyLog {
    /// Starts the committer task on the current runtime.
    pub fn start(store: Store, origin: &str) -> Self {
        let (sender, receiver) = mpsc::channel(MAX_BATCH);
        tokio::spawn(commit_batches(store, receiver));
        Self {
            sender,
            origin: origin.into(),
        }
    }

    /// Appends one leaf, the canonical JSON of `entry`; returns its index once committed.
    pub async fn append(&self, entry: &Value) -> Result<u64, LogError> {
        self.send(entry, None).await
    }

    /// Appends the leaf of an exchange, and indexes the exchange for the console in the same
    /// transaction; returns the leaf's index once committed.
    pub async fn append_exchange(
        &self,
        entry: &Value,
        exchange: ExchangeEntry,
    ) -> Result<u64, LogError> {
        self.send(entry, Some(exchange)).await
    }

    async fn send(&self, entry: &Value, exchange: Option<ExchangeEntry>) -> Result<u64, LogError> {
        let (done, committed) = oneshot::channel();
        let pending = Pending {
            entry: canonical_json(entry).into_bytes(),
            exchange,
            done,
        };
        self.sender
            .send(pending)
            .await
            .map_err(|_| LogError("the committer has stopped".into()))?;
        committed
            .await
            .map_err(|_| LogError("the committer has stopped".into()))?
            .map_err(LogError)
    }
}

/// Commits whatever leaves are waiting, in arrival order, one transaction at a time.
async fn commit_batches(store: Store, mut receiver: mpsc::Receiver<Pending>) {
    let mut batch = Vec::new();
    while receiver.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let entries: Vec<Vec<u8>> = batch
            .iter_mut()
            .map(|p| std::mem::take(&mut p.entry))
            .collect();
        let exchanges: Vec<ExchangeEntry> = batch
            .iter_mut()
            .enumerate()
            .filter_map(|(offset, p)| {
                let mut exchange = p.exchange.take()?;
                exchange.log_index = offset as i64;
                Some(exchange)
            })
            .collect();
        let outcome = store.append_log(&entries, &exchanges).await;
        metrics::counter!("lgsp_log_leaves_total").increment(entries.len() as u64);
        metrics::histogram!("lgsp_log_batch_leaves").record(entries.len() as f64);
        for (offset, pending) in batch.drain(..).enumerate() {
            let reply = match &outcome {
                Ok(first) => Ok(first + offset as u64),
                Err(error) => Err(describe(error)),
            };
            // A caller that went away no longer needs the index; the leaf stays.
            let _ = pending.done.send(reply);
        }
        if let Err(error) = &outcome {
            tracing::error!(error = ?error, "transparency log append failed");
        }
    }
}

fn describe(error: &StoreError) -> String {
    match error {
        StoreError::Database(inner) => inner.to_string(),
        other => other.to_string(),
    }
}

/// JSON with object keys sorted and no insignificant whitespace, so that a leaf's bytes
/// follow from its content alone (RFC 8785's ordering for the ASCII keys used here).
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::with_capacity(512);
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut members: Vec<(&String, &Value)> = map.iter().collect();
            members.sort_unstable_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (n, (key, member)) in members.into_iter().enumerate() {
                if n > 0 {
                    out.push(',');
                }
                write_string(key, out);
                out.push(':');
                write_canonical(member, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (n, item) in items.iter().enumerate() {
                if n > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        Value::String(text) => write_string(text, out),
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// A JSON string as serde_json writes it.
fn write_string(text: &str, out: &mut String) {
    // Serialising a `str` into a `String` cannot fail.
    if let Ok(quoted) = serde_json::to_string(text) {
        out.push_str(&quoted);
    }
}

/// The log's origin: the public host and `/log`, or `lgsp.invalid/log` when none is set.
pub fn origin(public_url: Option<&str>) -> String {
    let host = public_url
        .and_then(|url| url.split_once("://").map(|(_, rest)| rest))
        .map(|rest| rest.trim_end_matches('/'))
        .filter(|rest| !rest.is_empty())
        .unwrap_or("lgsp.invalid");
    format!("{host}/log")
}

/// The signer of checkpoints: the platform's active key under the log's origin.
pub fn signer(keys: &Keyring, origin: &str) -> Result<NoteSigner, lgsp_tlog::NoteError> {
    keys.active().note_signer(origin)
}

/// Signs a checkpoint for the log's current size if none covers it yet; returns its size.
pub async fn sign_checkpoint(state: &AppState) -> Result<Option<u64>, ApiError> {
    let size = state.store.log_size().await?;
    let latest = state.store.latest_checkpoint().await?;
    if latest.is_some_and(|c| c.size >= size) {
        return Ok(None);
    }
    let root = state.store.log_root(size).await?;
    let checkpoint = Checkpoint {
        origin: state.log.origin.to_string(),
        size,
        root,
    };
    let note = signer(&state.keys, &state.log.origin)
        .and_then(|s| s.sign(&checkpoint.text()))
        .map_err(ApiError::internal)?;
    state.store.record_checkpoint(size, &note).await?;
    Ok(Some(size))
}

/// Signs checkpoints every `interval` while the log grows.
pub async fn keep_checkpoints(state: AppState, interval: Duration) {
    let mut every = tokio::time::interval(interval);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        if let Err(error) = sign_checkpoint(&state).await {
            tracing::warn!(error = ?error, "could not sign a checkpoint");
        }
    }
}

/// Who made a request, filled in by the [`crate::auth::Caller`] extractor for the log.
#[derive(Clone, Default)]
pub struct ActorSlot(Arc<Mutex<Option<String>>>);

impl ActorSlot {
    pub fn set(&self, name: String) {
        if let Ok(mut slot) = self.0.lock() {
            *slot = Some(name);
        }
    }

    fn get(&self) -> String {
        self.0
            .lock()
            .ok()
            .and_then(|slot| slot.clone())
            .unwrap_or_else(|| "anonymous".into())
    }
}

/// Records every request that changes something (any method but GET, HEAD, OPTIONS) — every
/// workflow step and administrative action, allowed or refused — as one leaf, and holds the
/// response until the leaf is committed.
pub async fn record_actions(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    if request.method().is_safe() {
        return next.run(request).await;
    }
    let slot = ActorSlot::default();
    request.extensions_mut().insert(slot.clone());
    let method = request.method().to_string();
    let route = request.extensions().get::<MatchedPath>().map_or_else(
        || request.uri().path().to_owned(),
        |m| m.as_str().to_owned(),
    );
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let mut response = next.run(request).await;
    let entry = json!({
        "v": 1,
        "kind": "action",
        "time": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "request_id": request_id,
        "actor": slot.get(),
        "method": method,
        "route": route,
        "status": response.status().as_u16(),
    });
    match state.log.append(&entry).await {
        Ok(index) => {
            response
                .headers_mut()
                .insert(LOG_INDEX, HeaderValue::from(index));
            response
        }
        Err(error) => ApiError::from(error).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn q6_4_canonical_json_sorts_keys_at_every_depth_and_keeps_escapes() {
        let value = json!({
            "z": [1, {"b": null, "a": "Hà \"Nam\"\n"}],
            "a": {"y": 2.5, "x": true},
            "m": "",
        });
        assert_eq!(
            canonical_json(&value),
            r#"{"a":{"x":true,"y":2.5},"m":"","z":[1,{"a":"Hà \"Nam\"\n","b":null}]}"#
        );
        assert_eq!(canonical_json(&json!([])), "[]");
        assert_eq!(canonical_json(&json!({})), "{}");
    }
}
