//! Publishing every dataset's changes to NATS JetStream (`--nats URL`): one message per change
//! on subject `lgsp.changes.<dataset>` in stream `LGSP_CHANGES`, in order, with
//! `Nats-Msg-Id: <dataset>:<seq>` so that JetStream drops a change sent twice (after a lost
//! acknowledgement or a restart). A cursor per dataset in the database says what was
//! published; it moves only past changes JetStream acknowledged.
//!
//! The message is the change as the public change feed shows it (personal fields left out:
//! the event stream is infrastructure, not a channel to one agency).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use async_nats::jetstream::{self, stream};
use bytes::Bytes;
use lgsp_core::catalog::DatasetId;
use lgsp_store::ChangePage;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::app::AppState;
use crate::datasets::change_docs;

/// The stream that holds the changes.
pub const STREAM: &str = "LGSP_CHANGES";
/// Subjects are `lgsp.changes.<dataset id>` (dataset ids never contain `.`, `*` or `>`).
pub const SUBJECT_PREFIX: &str = "lgsp.changes.";
/// The cursor's name in storage.
const SINK: &str = "nats";
/// Changes published per round trip of acknowledgements.
const WINDOW: u32 = 256;

/// A connection to NATS with JetStream.
#[derive(Clone)]
pub struct Publisher {
    jetstream: jetstream::Context,
    stream_ready: Arc<AtomicBool>,
    /// How long the stream keeps messages when this node creates it.
    max_age: std::time::Duration,
}

impl Publisher {
    /// Connects to `url`. The connection is made in the background and re-made when lost, so
    /// a NATS server that is down delays publication but does not stop the platform. A stream
    /// created by this node keeps messages for `retention_days`, as long as the change feed.
    pub async fn connect(url: &str, retention_days: u32) -> anyhow::Result<Self> {
        let client = async_nats::ConnectOptions::new()
            .name("lgsp")
            .retry_on_initial_connect()
            .connect(url)
            .await
            .map_err(|e| anyhow::anyhow!("cannot use the NATS URL: {e}"))?;
        Ok(Self {
            jetstream: jetstream::new(client),
            stream_ready: Arc::new(AtomicBool::new(false)),
            max_age: std::time::Duration::from_secs(u64::from(retention_days) * 24 * 3600),
        })
    }

    /// Creates the stream if it does not exist (once per process; again after a failure).
    async fn ensure_stream(&self) -> anyhow::Result<()> {
        if self.stream_ready.load(Ordering::Acquire) {
            return Ok(());
        }
        self.jetstream
            .get_or_create_stream(stream::Config {
                name: STREAM.into(),
                subjects: vec![format!("{SUBJECT_PREFIX}>")],
                description: Some("Changes of the hosted datasets of LGSP".into()),
                max_age: self.max_age,
                ..Default::default()
            })
            .await
            .map_err(|e| anyhow::anyhow!("cannot create the stream {STREAM}: {e}"))?;
        self.stream_ready.store(true, Ordering::Release);
        Ok(())
    }

    /// Takes datasets with unpublished changes (as many as there are free permits) and
    /// starts publishing each.
    pub(super) async fn start_due(
        &self,
        state: &AppState,
        permits: &Arc<Semaphore>,
        running: &mut JoinSet<()>,
    ) -> lgsp_store::Result<()> {
        state.store.ensure_publication_cursors(SINK).await?;
        let at = lgsp_store::now();
        for dataset in state
            .store
            .due_publications(SINK, at, super::CLAIMS_PER_POLL)
            .await?
        {
            let Ok(permit) = Arc::clone(permits).try_acquire_owned() else {
                break;
            };
            let token = uuid::Uuid::now_v7().to_string();
            let until = at + super::lease(state);
            let Some((published, failures)) = state
                .store
                .claim_publication(SINK, &dataset, &token, at, until)
                .await?
            else {
                continue;
            };
            let (state, publisher) = (state.clone(), self.clone());
            running.spawn(async move {
                if let Err(error) = publisher
                    .publish(&state, &dataset, published, &token)
                    .await
                {
                    tracing::warn!(%dataset, error = %format!("{error:#}"), "NATS publication failed");
                    let retry_at = lgsp_store::now() + super::retry_delay(&state, failures + 1);
                    let _ = state
                        .store
                        .fail_publication(SINK, &dataset, &token, &format!("{error:#}"), retry_at)
                        .await;
                }
                drop(permit);
            });
        }
        Ok(())
    }

    /// Publishes a dataset's changes after `published` in order, moving the cursor after each
    /// window of acknowledged messages.
    async fn publish(
        &self,
        state: &AppState,
        dataset: &str,
        published: i64,
        token: &str,
    ) -> anyhow::Result<()> {
        let store = &state.store;
        self.ensure_stream().await.inspect_err(|_| {
            self.stream_ready.store(false, Ordering::Release);
        })?;
        let Some(table) = store.record_table(&DatasetId::parse(dataset)?).await? else {
            store.release_publication(SINK, dataset, token).await?;
            return Ok(());
        };
        let subject = format!("{SUBJECT_PREFIX}{dataset}");
        let mut cursor = published;
        loop {
            let changes = match store.changes(&table, cursor, WINDOW).await? {
                ChangePage::Changes { changes, .. } => changes,
                ChangePage::Expired { pruned_seq, .. } => {
                    // Changes were pruned before they could be published: say so, and go on
                    // from the oldest kept (a gap the consumers can see in the sequence).
                    tracing::error!(
                        dataset,
                        from = cursor,
                        to = pruned_seq,
                        "changes pruned before publication to NATS"
                    );
                    cursor = pruned_seq;
                    continue;
                }
            };
            if changes.is_empty() {
                store.release_publication(SINK, dataset, token).await?;
                return Ok(());
            }
            // Send the whole window, then wait for the acknowledgements in order: JetStream
            // stores messages from one connection in the order they were sent.
            let mut acks = Vec::with_capacity(changes.len());
            for doc in change_docs(&table, &changes, false) {
                let seq = doc.seq();
                let mut headers = async_nats::HeaderMap::new();
                headers.insert(
                    async_nats::header::NATS_MESSAGE_ID,
                    format!("{dataset}:{seq}"),
                );
                let payload = Bytes::from(serde_json::to_vec(&doc)?);
                let ack = self
                    .jetstream
                    .publish_with_headers(subject.clone(), headers, payload)
                    .await;
                acks.push((seq, ack));
            }
            let mut acknowledged = cursor;
            let mut failure = None;
            for (seq, ack) in acks {
                let result = match ack {
                    Ok(future) => future.await.map(|_| ()).map_err(|e| e.to_string()),
                    Err(error) => Err(error.to_string()),
                };
                match result {
                    Ok(()) if failure.is_none() => acknowledged = seq,
                    Ok(()) => {}
                    Err(error) => {
                        failure.get_or_insert(error);
                    }
                }
            }
            if acknowledged > cursor {
                let until = lgsp_store::now() + super::lease(state);
                if !store
                    .advance_publication(SINK, dataset, token, acknowledged, until)
                    .await?
                {
                    return Ok(());
                }
                cursor = acknowledged;
            }
            if let Some(error) = failure {
                anyhow::bail!(
                    "JetStream did not acknowledge change {}: {error}",
                    cursor + 1
                );
            }
        }
    }
}
