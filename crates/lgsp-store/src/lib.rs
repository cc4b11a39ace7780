//! Storage of the LGSP on SQLite (the embedded default) or PostgreSQL (production).
//!
//! One [`Store`] serves both backends. The SQL is written once in the dialect both accept
//! (`$n` parameters, `RETURNING`, `ON CONFLICT`); [`on_pool!`] runs it on whichever pool is
//! active, so the two backends cannot drift apart query by query. Schemas differ only in types
//! and live in `migrations/sqlite` and `migrations/postgres`, embedded in the binary and applied
//! at start.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::SqliteSynchronous;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

mod agencies;
mod annual_report;
mod catalog;
mod clients;
mod consents;
mod error_reports;
mod exchanges;
mod grants;
mod health;
mod imports;
mod mail;
mod provider;
mod push;
mod quarantine;
mod records;
mod rollups;
pub mod scratch;
mod services;
mod sessions;
mod sharing_requests;
mod systems;
mod tickets;
mod translog;
mod users;

pub use agencies::{Agency, AgencyPatch, FocalOfficerTerm};
pub use annual_report::{AnnualReportSubmission, FigureValue, RefusedRequest};
pub use catalog::{
    Attachment, EntryStatus, EntryVersion, NewAttachment, Notification, Proposal, ProposalEvent,
    StepChanges, Submission,
};
pub use clients::{Client, NewClient};
pub use consents::{Consent, ConsentFilter, LiveConsent, NewConsent};
pub use error_reports::{ErrorReport, NewErrorReport, Notice};
pub use exchanges::{ExchangeEntry, ExchangeScope, ExchangeStat};
pub use grants::{GrantEvent, GrantFilter, GrantOn, GrantRecord, NewGrant, RevisionReader};
pub use health::{
    month_of, DueProbe, HealthChange, HealthStatus, MonthlyAvailability, Probe, SystemAvailability,
};
pub use imports::{ImportJob, ImportOutcome};
pub use mail::{MailAttempt, OutgoingMail};
pub use provider::{
    MaintenanceFilter, MaintenanceWindow, NewMaintenance, NewUsageReport, ResourceSuspension,
    SuspensionCause, UsageReport,
};
pub use push::{AfterFailure, Delivery, NewDelivery, NewWebhook, Reactivation, Webhook};
pub use quarantine::{NewQuarantine, QuarantineItem};
pub use records::{
    cell_text, Change, ChangeOp, ChangePage, EncodedRows, ImportMode, Record, RecordImport,
    RecordTable, RowEncoder, SchemaChange, SchemaConflict,
};
pub use rollups::{
    latency_bucket, vietnam_day, ExchangeCounts, Outcome, RollupKey, RollupRow, RollupScope,
    RouteRollup, BUCKETS, LATENCY_BUCKETS,
};
pub use services::{Service, ServiceCheck, ServiceEvent, ServiceFilter};
pub use sessions::{Session, SessionKind};
pub use sharing_requests::{RequestEvent, RequestTarget, RequestTerms, SharingRequest, StepChange};
pub use systems::{System, SystemPatch};
pub use tickets::{NewTicket, Ticket, TicketAbout, TicketChange, TicketEvent, TicketMove};
pub use translog::StoredCheckpoint;
pub use users::{NewUser, User, UserPatch};

/// A point in time, always UTC.
pub type Timestamp = chrono::DateTime<chrono::Utc>;

/// Runs `$body` with `$pool` bound to the active backend's pool (or, with `pool = …`, to
/// another of the store's pools). The body is compiled once per
/// backend, so every query is type-checked against both drivers.
macro_rules! on_pool {
    (pool = $pools:expr, |$pool:ident| $body:expr) => {
        match &$pools {
            $crate::Pool::Sqlite($pool) => $body,
            $crate::Pool::Postgres($pool) => $body,
        }
    };
    ($store:expr, |$pool:ident| $body:expr) => {
        $crate::on_pool!(pool = $store.pool, |$pool| $body)
    };
}
pub(crate) use on_pool;

/// `rows` parenthesised lists of `width` placeholders, `($2, $3), ($4, $5)` numbered on from
/// `$first` on PostgreSQL; on SQLite anonymous `?`, bound in order: SQLite looks named and
/// numbered parameters up by a linear scan, and the driver asks for every one, which makes
/// binding a large statement of `$n` quadratic.
pub(crate) fn value_lists(rows: usize, width: usize, first: usize, backend: Backend) -> String {
    let mut sql = String::with_capacity(rows * width * 6);
    let mut n = first;
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for k in 0..width {
            if k > 0 {
                sql.push_str(", ");
            }
            match backend {
                Backend::Sqlite => sql.push('?'),
                Backend::Postgres => {
                    sql.push('$');
                    sql.push_str(&n.to_string());
                }
            }
            n += 1;
        }
        sql.push(')');
    }
    sql
}

/// Which database engine a [`Store`] runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// What went wrong in storage. `NotFound`, `Conflict` and `MissingReference` carry messages safe
/// to show to the caller; the others are internal.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    MissingReference(String),
    #[error("stored value is invalid: {0}")]
    Corrupt(String),
    #[error("database error")]
    Database(#[from] sqlx::Error),
    #[error("migration failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl StoreError {
    /// Maps a unique-constraint violation to [`StoreError::Conflict`] with `message`, a
    /// foreign-key violation to [`StoreError::MissingReference`], and anything else unchanged.
    pub(crate) fn on_constraint(message: impl Into<String>) -> impl FnOnce(sqlx::Error) -> Self {
        move |error| match &error {
            sqlx::Error::Database(db) if db.is_unique_violation() => Self::Conflict(message.into()),
            sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
                Self::MissingReference("a referenced record does not exist".into())
            }
            _ => Self::Database(error),
        }
    }
}

impl From<lgsp_core::ParseError> for StoreError {
    fn from(error: lgsp_core::ParseError) -> Self {
        Self::Corrupt(error.0)
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The platform's storage.
#[derive(Clone)]
pub struct Store {
    pool: Pool,
    /// The connections that append to the transparency log: on SQLite one connection of its
    /// own that commits with `synchronous = FULL` (durable at each commit), while the others
    /// keep `NORMAL`; on PostgreSQL, whose commits are durable anyway, the same pool.
    appender: Pool,
    /// Whether notifications also queue an e-mail (the platform has an SMTP relay).
    mail: bool,
}

impl Store {
    /// Connects to `url`: `postgres://…` / `postgresql://…` for PostgreSQL, `sqlite://PATH` or a
    /// plain file path for SQLite (created if missing). Does not migrate.
    pub async fn connect(url: &str) -> Result<Self> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url)?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await?;
            Ok(Self {
                pool: Pool::Postgres(pool.clone()),
                appender: Pool::Postgres(pool),
                mail: false,
            })
        } else {
            let path = url.strip_prefix("sqlite://").unwrap_or(url);
            Self::open_sqlite(Path::new(path)).await
        }
    }

    /// Opens (creating if needed) a SQLite database file in WAL mode with foreign keys on.
    pub async fn open_sqlite(path: &Path) -> Result<Self> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        // A local file's connection cannot go stale: no round trip to test it on each acquire.
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .test_before_acquire(false)
            .connect_with(options.clone())
            .await?;
        let appender = SqlitePoolOptions::new()
            .max_connections(1)
            .test_before_acquire(false)
            .connect_with(options.synchronous(SqliteSynchronous::Full))
            .await?;
        Ok(Self {
            pool: Pool::Sqlite(pool),
            appender: Pool::Sqlite(appender),
            mail: false,
        })
    }

    /// Makes [`Store::notify`] queue an e-mail to the focal officer (or, for the provincial
    /// roles, to each person notified) beside the in-app notification.
    pub fn with_mail_outbox(mut self, on: bool) -> Self {
        self.mail = on;
        self
    }

    /// Applies the embedded migrations of the active backend that have not run yet.
    pub async fn migrate(&self) -> Result<()> {
        match &self.pool {
            Pool::Sqlite(pool) => sqlx::migrate!("migrations/sqlite").run(pool).await?,
            Pool::Postgres(pool) => sqlx::migrate!("migrations/postgres").run(pool).await?,
        }
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// The statement that begins a transaction that writes. On SQLite it is `BEGIN IMMEDIATE`,
    /// which takes the write lock at once (waiting up to the busy timeout): a deferred
    /// transaction that reads first fails with `SQLITE_BUSY_SNAPSHOT` at its first write if
    /// another connection committed in between, and no timeout helps it.
    pub(crate) fn begin_write(&self) -> &'static str {
        match self.backend() {
            Backend::Sqlite => "BEGIN IMMEDIATE",
            Backend::Postgres => "BEGIN",
        }
    }

    /// Answers whether the database can be reached and queried (`/readyz`).
    pub async fn ping(&self) -> Result<()> {
        on_pool!(self, |pool| {
            sqlx::query("SELECT 1").execute(pool).await?;
        });
        Ok(())
    }

    /// Closes every connection, waiting for queries in flight.
    pub async fn close(&self) {
        on_pool!(self, |pool| pool.close().await);
        on_pool!(pool = self.appender, |pool| pool.close().await)
    }
}

/// The current time, truncated to microseconds so that both backends store it exactly.
pub fn now() -> Timestamp {
    use chrono::{SubsecRound, Utc};
    Utc::now().trunc_subsecs(6)
}
