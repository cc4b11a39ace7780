//! Pushing change feeds out (Q5.3.b): webhook subscriptions with their delivery log, and
//! per-dataset cursors of publication to an event stream. Work is shared between nodes by
//! leases: a node takes a subscription or cursor with a conditional UPDATE that succeeds only
//! while nobody else's lease is running, and every later write names its lease token, so a node
//! whose lease ran out cannot move a cursor another node now owns.

use lgsp_core::webhook::{WebhookState, WebhookTarget};

use crate::{now, on_pool, Result, Store, StoreError, Timestamp};

/// A webhook subscription as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Webhook {
    pub id: String,
    pub dataset: String,
    /// The subscribing agency.
    pub agency: String,
    pub target: WebhookTarget,
    pub state: WebhookState,
    /// The last change the receiver acknowledged; the next delivery starts after it.
    pub delivered_seq: i64,
    /// Consecutive failed deliveries (0 after a success).
    pub failures: i64,
    pub next_attempt_at: Timestamp,
    pub last_error: Option<String>,
    pub created_by: String,
    /// The creator's role: the subscription reads the dataset with that role's rights in
    /// its agency.
    pub creator_role: String,
    pub created_at: Timestamp,
    pub dead_at: Option<Timestamp>,
}

#[derive(sqlx::FromRow)]
struct WebhookRow {
    id: String,
    dataset_id: String,
    agency_code: String,
    target_url: String,
    state: String,
    delivered_seq: i64,
    failures: i64,
    next_attempt_at: Timestamp,
    last_error: Option<String>,
    created_by: String,
    creator_role: String,
    created_at: Timestamp,
    dead_at: Option<Timestamp>,
}

impl TryFrom<WebhookRow> for Webhook {
    type Error = StoreError;
    fn try_from(row: WebhookRow) -> Result<Self> {
        Ok(Self {
            state: WebhookState::parse(&row.state)
                .ok_or_else(|| StoreError::Corrupt(format!("webhook state {}", row.state)))?,
            id: row.id,
            dataset: row.dataset_id,
            agency: row.agency_code,
            target: WebhookTarget::stored(row.target_url),
            delivered_seq: row.delivered_seq,
            failures: row.failures,
            next_attempt_at: row.next_attempt_at,
            last_error: row.last_error,
            created_by: row.created_by,
            creator_role: row.creator_role,
            created_at: row.created_at,
            dead_at: row.dead_at,
        })
    }
}

const WEBHOOK_COLUMNS: &str = "id, dataset_id, agency_code, target_url, state, delivered_seq, \
    failures, next_attempt_at, last_error, created_by, creator_role, created_at, dead_at";

/// A subscription to create.
#[derive(Debug, Clone)]
pub struct NewWebhook {
    pub id: String,
    pub dataset: String,
    pub agency: String,
    pub target: WebhookTarget,
    /// Deliveries start after this change.
    pub since: i64,
    pub created_by: String,
    pub creator_role: String,
}

/// One delivery attempt.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Delivery {
    pub id: i64,
    pub webhook_id: String,
    pub attempted_at: Timestamp,
    pub from_seq: i64,
    pub to_seq: i64,
    /// `delivered` (the receiver answered 2xx) or `failed`.
    pub outcome: String,
    /// The receiver's HTTP status, when it answered.
    pub status: Option<i32>,
    /// Why it failed, when it did.
    pub error: Option<String>,
    pub duration_ms: i64,
}

/// A delivery attempt to record.
#[derive(Debug, Clone)]
pub struct NewDelivery<'a> {
    pub webhook_id: &'a str,
    pub attempted_at: Timestamp,
    pub from_seq: i64,
    pub to_seq: i64,
    pub delivered: bool,
    pub status: Option<u16>,
    pub error: Option<&'a str>,
    pub duration_ms: i64,
}

/// What a failed delivery did to its subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    /// It will be tried again at the time set.
    Retry { failures: i64 },
    /// Too many consecutive failures: the subscription is dead.
    Dead { failures: i64 },
    /// The lease was lost (another node took over, or the subscription was deleted).
    LeaseLost,
}

/// Why a subscription could not be reactivated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reactivation {
    Reactivated,
    NotDead,
    NotFound,
}

impl Store {
    /// Records a new subscription. Refused with `Conflict` when the agency already has a
    /// live one to the same URL for the dataset.
    pub async fn create_webhook(&self, new: &NewWebhook) -> Result<Webhook> {
        let sql = format!(
            "INSERT INTO webhooks (id, dataset_id, agency_code, target_url, state, delivered_seq,
                 next_attempt_at, created_by, creator_role, created_at)
             VALUES ($1, $2, $3, $4, 'active', $5, $6, $7, $8, $6)
             RETURNING {WEBHOOK_COLUMNS}"
        );
        let at = now();
        let row: WebhookRow = on_pool!(self, |pool| {
            sqlx::query_as(&sql)
                .bind(&new.id)
                .bind(&new.dataset)
                .bind(&new.agency)
                .bind(new.target.as_str())
                .bind(new.since)
                .bind(at)
                .bind(&new.created_by)
                .bind(&new.creator_role)
                .fetch_one(pool)
                .await
                .map_err(StoreError::on_constraint(
                    "this agency already has a subscription to this URL for the dataset",
                ))?
        });
        row.try_into()
    }

    /// A live (not deleted) subscription of a dataset.
    pub async fn webhook(&self, dataset: &str, id: &str) -> Result<Option<Webhook>> {
        let sql = format!(
            "SELECT {WEBHOOK_COLUMNS} FROM webhooks
             WHERE dataset_id = $1 AND id = $2 AND state <> 'deleted'"
        );
        let row: Option<WebhookRow> = on_pool!(self, |pool| {
            sqlx::query_as(&sql)
                .bind(dataset)
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        row.map(Webhook::try_from).transpose()
    }

    /// Live subscriptions, of one dataset and/or one agency when given, oldest first.
    pub async fn webhooks(
        &self,
        dataset: Option<&str>,
        agency: Option<&str>,
    ) -> Result<Vec<Webhook>> {
        let sql = format!(
            "SELECT {WEBHOOK_COLUMNS} FROM webhooks
             WHERE state <> 'deleted' AND ($1 IS NULL OR dataset_id = $1)
               AND ($2 IS NULL OR agency_code = $2)
             ORDER BY created_at, id"
        );
        let rows: Vec<WebhookRow> = on_pool!(self, |pool| {
            sqlx::query_as(&sql)
                .bind(dataset)
                .bind(agency)
                .fetch_all(pool)
                .await?
        });
        rows.into_iter().map(Webhook::try_from).collect()
    }

    /// Ends a subscription (its delivery log stays). False when there was none.
    pub async fn delete_webhook(&self, dataset: &str, id: &str) -> Result<bool> {
        let done = on_pool!(self, |pool| {
            sqlx::query(
                "UPDATE webhooks SET state = 'deleted', deleted_at = $3
                 WHERE dataset_id = $1 AND id = $2 AND state <> 'deleted'",
            )
            .bind(dataset)
            .bind(id)
            .bind(now())
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(done == 1)
    }

    /// Makes a dead subscription active again, due now, from its cursor.
    pub async fn reactivate_webhook(&self, dataset: &str, id: &str) -> Result<Reactivation> {
        let done = on_pool!(self, |pool| {
            sqlx::query(
                "UPDATE webhooks SET state = 'active', failures = 0, next_attempt_at = $3,
                     last_error = NULL, dead_at = NULL
                 WHERE dataset_id = $1 AND id = $2 AND state = 'dead'",
            )
            .bind(dataset)
            .bind(id)
            .bind(now())
            .execute(pool)
            .await?
            .rows_affected()
        });
        if done == 1 {
            return Ok(Reactivation::Reactivated);
        }
        Ok(match self.webhook(dataset, id).await? {
            Some(_) => Reactivation::NotDead,
            None => Reactivation::NotFound,
        })
    }

    /// Active subscriptions with changes to deliver, due at `at` and not leased: up to
    /// `limit` ids, the longest waiting first.
    pub async fn due_webhooks(&self, at: Timestamp, limit: i64) -> Result<Vec<String>> {
        Ok(on_pool!(self, |pool| {
            sqlx::query_scalar(
                "SELECT w.id FROM webhooks w JOIN dataset_tables d ON d.dataset_id = w.dataset_id
                 WHERE w.state = 'active' AND w.next_attempt_at <= $1
                   AND w.delivered_seq < d.last_seq
                   AND (w.lease_until IS NULL OR w.lease_until < $1)
                 ORDER BY w.next_attempt_at LIMIT $2",
            )
            .bind(at)
            .bind(limit)
            .fetch_all(pool)
            .await?
        }))
    }

    /// Takes a subscription for delivery under `token` until `until`, if it is still active,
    /// due and nobody else holds it at `at`.
    pub async fn claim_webhook(
        &self,
        id: &str,
        token: &str,
        at: Timestamp,
        until: Timestamp,
    ) -> Result<Option<Webhook>> {
        let sql = format!(
            "UPDATE webhooks SET lease_token = $2, lease_until = $4
             WHERE id = $1 AND state = 'active' AND next_attempt_at <= $3
               AND (lease_until IS NULL OR lease_until < $3)
             RETURNING {WEBHOOK_COLUMNS}"
        );
        let row: Option<WebhookRow> = on_pool!(self, |pool| {
            sqlx::query_as(&sql)
                .bind(id)
                .bind(token)
                .bind(at)
                .bind(until)
                .fetch_optional(pool)
                .await?
        });
        row.map(Webhook::try_from).transpose()
    }

    /// Moves a leased subscription's cursor after a delivered batch and extends the lease.
    /// False when the lease was lost (the batch will be delivered again: at least once) or
    /// the subscription was deleted meanwhile (nothing more is sent).
    pub async fn advance_webhook(
        &self,
        id: &str,
        token: &str,
        delivered_seq: i64,
        until: Timestamp,
    ) -> Result<bool> {
        let done = on_pool!(self, |pool| {
            sqlx::query(
                "UPDATE webhooks SET delivered_seq = $3, failures = 0, last_error = NULL,
                     lease_until = $4
                 WHERE id = $1 AND lease_token = $2 AND delivered_seq < $3
                   AND state = 'active'",
            )
            .bind(id)
            .bind(token)
            .bind(delivered_seq)
            .bind(until)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(done == 1)
    }

    /// Records a failed delivery on a leased subscription and lets it go: it is tried again
    /// at `retry_at`, or dies when this is failure number `max_failures` in a row.
    pub async fn fail_webhook(
        &self,
        id: &str,
        token: &str,
        error: &str,
        retry_at: Timestamp,
        max_failures: i64,
    ) -> Result<AfterFailure> {
        let row: Option<(i64, String)> = on_pool!(self, |pool| {
            sqlx::query_as(
                "UPDATE webhooks SET failures = failures + 1, last_error = $3,
                     next_attempt_at = $4,
                     state = CASE WHEN state = 'active' AND failures + 1 >= $5 THEN 'dead'
                                  ELSE state END,
                     dead_at = CASE WHEN state = 'active' AND failures + 1 >= $5 THEN $6
                                    ELSE dead_at END,
                     lease_token = NULL, lease_until = NULL
                 WHERE id = $1 AND lease_token = $2
                 RETURNING failures, state",
            )
            .bind(id)
            .bind(token)
            .bind(error)
            .bind(retry_at)
            .bind(max_failures)
            .bind(now())
            .fetch_optional(pool)
            .await?
        });
        Ok(match row {
            None => AfterFailure::LeaseLost,
            Some((failures, state)) if state == "dead" => AfterFailure::Dead { failures },
            Some((failures, _)) => AfterFailure::Retry { failures },
        })
    }

    /// Stops a leased subscription at once, with the reason (it may no longer receive).
    pub async fn kill_webhook(&self, id: &str, token: &str, reason: &str) -> Result<()> {
        on_pool!(self, |pool| {
            sqlx::query(
                "UPDATE webhooks SET state = 'dead', last_error = $3, dead_at = $4,
                     lease_token = NULL, lease_until = NULL
                 WHERE id = $1 AND lease_token = $2 AND state = 'active'",
            )
            .bind(id)
            .bind(token)
            .bind(reason)
            .bind(now())
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Gives up a lease (nothing more to deliver for now).
    pub async fn release_webhook(&self, id: &str, token: &str) -> Result<()> {
        on_pool!(self, |pool| {
            sqlx::query(
                "UPDATE webhooks SET lease_token = NULL, lease_until = NULL
                 WHERE id = $1 AND lease_token = $2",
            )
            .bind(id)
            .bind(token)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    pub async fn record_delivery(&self, delivery: &NewDelivery<'_>) -> Result<()> {
        on_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO webhook_deliveries (webhook_id, attempted_at, from_seq, to_seq,
                     outcome, status, error, duration_ms)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(delivery.webhook_id)
            .bind(delivery.attempted_at)
            .bind(delivery.from_seq)
            .bind(delivery.to_seq)
            .bind(if delivery.delivered {
                "delivered"
            } else {
                "failed"
            })
            .bind(delivery.status.map(i32::from))
            .bind(delivery.error)
            .bind(delivery.duration_ms)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// A subscription's latest delivery attempts, newest first.
    pub async fn webhook_deliveries(&self, webhook_id: &str, limit: i64) -> Result<Vec<Delivery>> {
        Ok(on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT id, webhook_id, attempted_at, from_seq, to_seq, outcome, status, error,
                     duration_ms
                 FROM webhook_deliveries WHERE webhook_id = $1 ORDER BY id DESC LIMIT $2",
            )
            .bind(webhook_id)
            .bind(limit)
            .fetch_all(pool)
            .await?
        }))
    }

    /// Forgets delivery attempts older than `days` days; returns how many went.
    pub async fn prune_webhook_deliveries(&self, days: u32) -> Result<u64> {
        let before = now() - chrono::Duration::days(i64::from(days));
        Ok(on_pool!(self, |pool| {
            sqlx::query("DELETE FROM webhook_deliveries WHERE attempted_at < $1")
                .bind(before)
                .execute(pool)
                .await?
                .rows_affected()
        }))
    }

    /// Gives every dataset with records a publication cursor for `sink` if it has none yet,
    /// starting at the oldest change still kept. Returns how many were added.
    pub async fn ensure_publication_cursors(&self, sink: &str) -> Result<u64> {
        Ok(on_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO change_publications (sink, dataset_id, published_seq, next_attempt_at)
                 SELECT $1, d.dataset_id, d.pruned_seq, $2 FROM dataset_tables d
                 WHERE NOT EXISTS (SELECT 1 FROM change_publications p
                                   WHERE p.sink = $1 AND p.dataset_id = d.dataset_id)
                 ON CONFLICT DO NOTHING",
            )
            .bind(sink)
            .bind(now())
            .execute(pool)
            .await?
            .rows_affected()
        }))
    }

    /// Datasets with changes not yet published to `sink`, due at `at` and not leased.
    pub async fn due_publications(
        &self,
        sink: &str,
        at: Timestamp,
        limit: i64,
    ) -> Result<Vec<String>> {
        Ok(on_pool!(self, |pool| {
            sqlx::query_scalar(
                "SELECT p.dataset_id FROM change_publications p
                 JOIN dataset_tables d ON d.dataset_id = p.dataset_id
                 WHERE p.sink = $1 AND p.next_attempt_at <= $2 AND p.published_seq < d.last_seq
                   AND (p.lease_until IS NULL OR p.lease_until < $2)
                 ORDER BY p.next_attempt_at LIMIT $3",
            )
            .bind(sink)
            .bind(at)
            .bind(limit)
            .fetch_all(pool)
            .await?
        }))
    }

    /// Takes a dataset's publication cursor under `token` until `until`; returns the last
    /// change published and the consecutive failures so far.
    pub async fn claim_publication(
        &self,
        sink: &str,
        dataset: &str,
        token: &str,
        at: Timestamp,
        until: Timestamp,
    ) -> Result<Option<(i64, i64)>> {
        Ok(on_pool!(self, |pool| {
            sqlx::query_as(
                "UPDATE change_publications SET lease_token = $3, lease_until = $5
                 WHERE sink = $1 AND dataset_id = $2 AND next_attempt_at <= $4
                   AND (lease_until IS NULL OR lease_until < $4)
                 RETURNING published_seq, failures",
            )
            .bind(sink)
            .bind(dataset)
            .bind(token)
            .bind(at)
            .bind(until)
            .fetch_optional(pool)
            .await?
        }))
    }

    /// Moves a leased cursor after published changes and extends the lease. False when the
    /// lease was lost.
    pub async fn advance_publication(
        &self,
        sink: &str,
        dataset: &str,
        token: &str,
        published_seq: i64,
        until: Timestamp,
    ) -> Result<bool> {
        let done = on_pool!(self, |pool| {
            sqlx::query(
                "UPDATE change_publications SET published_seq = $4, failures = 0,
                     last_error = NULL, lease_until = $5
                 WHERE sink = $1 AND dataset_id = $2 AND lease_token = $3 AND published_seq < $4",
            )
            .bind(sink)
            .bind(dataset)
            .bind(token)
            .bind(published_seq)
            .bind(until)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(done == 1)
    }

    /// Records a failed publication and lets the cursor go until `retry_at`.
    pub async fn fail_publication(
        &self,
        sink: &str,
        dataset: &str,
        token: &str,
        error: &str,
        retry_at: Timestamp,
    ) -> Result<i64> {
        let failures: Option<i64> = on_pool!(self, |pool| {
            sqlx::query_scalar(
                "UPDATE change_publications SET failures = failures + 1, last_error = $4,
                     next_attempt_at = $5, lease_token = NULL, lease_until = NULL
                 WHERE sink = $1 AND dataset_id = $2 AND lease_token = $3
                 RETURNING failures",
            )
            .bind(sink)
            .bind(dataset)
            .bind(token)
            .bind(error)
            .bind(retry_at)
            .fetch_optional(pool)
            .await?
        });
        Ok(failures.unwrap_or(0))
    }

    /// Gives up a publication lease.
    pub async fn release_publication(&self, sink: &str, dataset: &str, token: &str) -> Result<()> {
        on_pool!(self, |pool| {
            sqlx::query(
                "UPDATE change_publications SET lease_token = NULL, lease_until = NULL
                 WHERE sink = $1 AND dataset_id = $2 AND lease_token = $3",
            )
            .bind(sink)
            .bind(dataset)
            .bind(token)
            .execute(pool)
            .await?;
        });
        Ok(())
    }
}
