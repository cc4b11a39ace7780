//! The outbox of e-mail notifications (`mail_outbox`): queued by [`Store::notify`] in the
//! transaction of the notification, taken by one node at a time, sent, retried or given up.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::{on_pool, Result, Store, Timestamp};

/// An e-mail to send (or sent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OutgoingMail {
    pub id: i64,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    /// The platform page the notice points to, relative to its public address.
    pub link: Option<String>,
    pub created_at: DateTime<Utc>,
    /// Tries made so far.
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    /// When the platform gave up (a permanent refusal, or too many tries).
    pub failed_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

/// How a try ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailAttempt {
    Sent,
    /// Try again at the given time.
    Retry {
        at: Timestamp,
        error: String,
    },
    /// Give up.
    Failed {
        error: String,
    },
}

const SELECT_MAIL: &str = "SELECT id, recipient, subject, body, link, created_at, attempts,
    next_attempt_at, sent_at, failed_at, last_error FROM mail_outbox";

impl Store {
    /// Takes up to `limit` messages due at `at`, oldest first, by moving their next attempt to
    /// `lease_until`: another node does not take them until then, and if this one dies they are
    /// due again. On PostgreSQL the outer condition is re-checked on the row a concurrent
    /// taker updated first, so each message goes to one node.
    pub async fn take_due_mail(
        &self,
        at: Timestamp,
        lease_until: Timestamp,
        limit: i64,
    ) -> Result<Vec<OutgoingMail>> {
        let taken: Vec<OutgoingMail> = on_pool!(self, |pool| {
            let mut tx = pool.begin_with(self.begin_write()).await?;
            let taken = sqlx::query_as(
                "UPDATE mail_outbox SET next_attempt_at = $2
                 WHERE id IN (SELECT id FROM mail_outbox
                              WHERE sent_at IS NULL AND failed_at IS NULL
                                AND next_attempt_at <= $1
                              ORDER BY id LIMIT $3)
                   AND sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $1
                 RETURNING id, recipient, subject, body, link, created_at, attempts,
                           next_attempt_at, sent_at, failed_at, last_error",
            )
            .bind(at)
            .bind(lease_until)
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?;
            tx.commit().await?;
            taken
        });
        Ok(taken)
    }

    /// Records how a try of message `id` at `at` ended.
    pub async fn record_mail_attempt(
        &self,
        id: i64,
        at: Timestamp,
        outcome: &MailAttempt,
    ) -> Result<()> {
        let (sent_at, failed_at, next, error) = match outcome {
            MailAttempt::Sent => (Some(at), None, None, None),
            MailAttempt::Retry { at: next, error } => (None, None, Some(*next), Some(error)),
            MailAttempt::Failed { error } => (None, Some(at), None, Some(error)),
        };
        on_pool!(self, |pool| {
            sqlx::query(
                "UPDATE mail_outbox
                 SET attempts = attempts + 1, sent_at = $2, failed_at = $3,
                     next_attempt_at = COALESCE($4, next_attempt_at), last_error = $5
                 WHERE id = $1",
            )
            .bind(id)
            .bind(sent_at)
            .bind(failed_at)
            .bind(next)
            .bind(error)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// The newest messages, sent or not, newest first (the operator's view of the outbox).
    pub async fn list_mail(&self, limit: i64) -> Result<Vec<OutgoingMail>> {
        let rows: Vec<OutgoingMail> = on_pool!(self, |pool| {
            sqlx::query_as(&format!("{SELECT_MAIL} ORDER BY id DESC LIMIT $1"))
                .bind(limit)
                .fetch_all(pool)
                .await?
        });
        Ok(rows)
    }

    /// Forgets messages sent or given up before `before`.
    pub async fn prune_mail(&self, before: Timestamp) -> Result<u64> {
        let pruned = on_pool!(self, |pool| {
            sqlx::query(
                "DELETE FROM mail_outbox
                 WHERE COALESCE(sent_at, failed_at) IS NOT NULL
                   AND COALESCE(sent_at, failed_at) < $1",
            )
            .bind(before)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(pruned)
    }
}
