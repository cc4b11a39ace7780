//! Server-side sessions of signed-in people, and the failed sign-in counter.

use serde::Serialize;

use crate::users::User;
use crate::{now, on_pool, Result, Store, StoreError, Timestamp};

/// Where a session is used: a browser (cookie) or an API client (bearer token).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionKind {
    Web,
    Api,
}

impl SessionKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Web => "web",
            Self::Api => "api",
        }
    }

    fn parse(value: &str) -> Result<Self> {
        match value {
            "web" => Ok(Self::Web),
            "api" => Ok(Self::Api),
            other => Err(StoreError::Corrupt(format!("unknown session kind {other}"))),
        }
    }
}

/// A live session and the account it belongs to.
#[derive(Debug, Clone)]
pub struct Session {
    pub kind: SessionKind,
    pub user: User,
    pub csrf_token: String,
    pub expires_at: Timestamp,
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    kind: String,
    csrf_token: String,
    expires_at: Timestamp,
    username: String,
}

impl Store {
    /// Stores a session under the hash of its token (the token itself is never stored).
    pub async fn create_session(
        &self,
        token_hash: &str,
        user: &User,
        kind: SessionKind,
        csrf_token: &str,
        expires_at: Timestamp,
    ) -> Result<()> {
        on_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO sessions (token_hash, user_id, kind, csrf_token, created_at, expires_at)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(token_hash)
            .bind(user.id)
            .bind(kind.as_str())
            .bind(csrf_token)
            .bind(now())
            .bind(expires_at)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// The live session with this token hash, if any: expired sessions and sessions of disabled
    /// accounts are not returned.
    pub async fn find_session(&self, token_hash: &str) -> Result<Option<Session>> {
        let row: Option<SessionRow> = on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT s.kind, s.csrf_token, s.expires_at, u.username
                 FROM sessions s JOIN users u ON u.id = s.user_id
                 WHERE s.token_hash = $1 AND u.disabled_at IS NULL",
            )
            .bind(token_hash)
            .fetch_optional(pool)
            .await?
        });
        let Some(row) = row else { return Ok(None) };
        if row.expires_at <= now() {
            self.delete_session(token_hash).await?;
            return Ok(None);
        }
        let user = self
            .get_user(&lgsp_core::Username::parse(&row.username)?)
            .await?;
        Ok(Some(Session {
            kind: SessionKind::parse(&row.kind)?,
            user,
            csrf_token: row.csrf_token,
            expires_at: row.expires_at,
        }))
    }

    pub async fn delete_session(&self, token_hash: &str) -> Result<()> {
        on_pool!(self, |pool| {
            sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                .bind(token_hash)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Removes expired sessions; returns how many.
    pub async fn purge_expired_sessions(&self) -> Result<u64> {
        let done = on_pool!(self, |pool| {
            sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
                .bind(now())
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(done)
    }

    /// Failed sign-ins recorded under `key` and when the last one happened.
    pub async fn login_failures(&self, key: &str) -> Result<Option<(u32, Timestamp)>> {
        let row: Option<(i64, Timestamp)> = on_pool!(self, |pool| {
            sqlx::query_as("SELECT failures, last_failure_at FROM login_throttle WHERE key = $1")
                .bind(key)
                .fetch_optional(pool)
                .await?
        });
        Ok(row.map(|(failures, at)| (u32::try_from(failures).unwrap_or(u32::MAX), at)))
    }

    /// Counts one more failed sign-in under `key`; returns the new count.
    pub async fn record_login_failure(&self, key: &str) -> Result<u32> {
        let failures: i64 = on_pool!(self, |pool| {
            sqlx::query_scalar(
                "INSERT INTO login_throttle (key, failures, last_failure_at) VALUES ($1, 1, $2)
                 ON CONFLICT (key) DO UPDATE
                 SET failures = login_throttle.failures + 1, last_failure_at = $2
                 RETURNING failures",
            )
            .bind(key)
            .bind(now())
            .fetch_one(pool)
            .await?
        });
        Ok(u32::try_from(failures).unwrap_or(u32::MAX))
    }

    pub async fn clear_login_failures(&self, key: &str) -> Result<()> {
        on_pool!(self, |pool| {
            sqlx::query("DELETE FROM login_throttle WHERE key = $1")
                .bind(key)
                .execute(pool)
                .await?;
        });
        Ok(())
    }
}
