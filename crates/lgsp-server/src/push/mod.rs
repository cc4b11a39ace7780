//! Pushing change feeds out (Q5.3.b): webhook subscriptions receive a dataset's changes as
//! signed POSTs, and with `--nats` every change is also published to NATS JetStream. The
//! change feed (`dataset_changes`) is the source; each subscription, and each dataset for NATS,
//! has a cursor in the database, so a restart resumes where it stopped.
//!
//! Every node runs the dispatcher: each `push_poll_millis` it looks for subscriptions and
//! cursors that have changes to send, and takes each one with a lease (a conditional UPDATE in
//! storage that succeeds for one node only) before sending. The holder sends batches in order
//! and moves the cursor after each acknowledged batch, so delivery is at least once and in
//! order; a failed batch is tried again after an exponential backoff, spread at random
//! over its upper half (receivers down together are not all retried at once).

mod delivery;
pub mod nats;
mod webhooks;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::app::AppState;

pub use delivery::DeliveryBody;
pub use webhooks::routes;

/// How many subscriptions or cursors one node serves at once.
const CONCURRENCY: usize = 8;
/// How many due subscriptions or cursors one look takes at most.
const CLAIMS_PER_POLL: i64 = 32;

/// How long a lease lasts: long enough for a delivery to time out and be recorded; renewed
/// after every batch.
fn lease(state: &AppState) -> chrono::Duration {
    let seconds = state
        .settings
        .webhook_timeout_seconds
        .saturating_mul(3)
        .max(60);
    chrono::Duration::seconds(i64::try_from(seconds).unwrap_or(i64::MAX / 1000))
}

/// The wait before trying again after the `failures`-th consecutive failure: the exponential
/// backoff, spread at random over its upper half.
fn retry_delay(state: &AppState, failures: i64) -> chrono::Duration {
    let delay = lgsp_core::webhook::jittered(
        lgsp_core::webhook::retry_delay(
            u32::try_from(failures).unwrap_or(u32::MAX),
            Duration::from_millis(state.settings.push_retry_base_millis),
            Duration::from_secs(state.settings.push_retry_max_seconds),
        ),
        rand::random::<f64>(),
    );
    chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::hours(1))
}

/// Runs the dispatcher of this node until the task is aborted (which also stops the
/// deliveries it started).
pub async fn dispatch(state: AppState, nats: Option<nats::Publisher>) {
    let http = match delivery::client(&state) {
        Ok(client) => client,
        Err(error) => {
            tracing::error!(error = ?error, "cannot build the webhook HTTP client; no pushes");
            return;
        }
    };
    let permits = Arc::new(Semaphore::new(CONCURRENCY));
    let mut running = JoinSet::new();
    let mut every = tokio::time::interval(Duration::from_millis(state.settings.push_poll_millis));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        while running.try_join_next().is_some() {}
        if let Err(error) = delivery::start_due(&state, &http, &permits, &mut running).await {
            tracing::warn!(error = ?error, "could not look for webhook deliveries");
        }
        if let Some(publisher) = &nats {
            if let Err(error) = publisher.start_due(&state, &permits, &mut running).await {
                tracing::warn!(error = ?error, "could not look for changes to publish to NATS");
            }
        }
    }
}
