//! Throw-away PostgreSQL databases for test suites: each run creates one with a unique name and
//! drops it afterwards, so no test relies on what another left behind.

use sqlx::postgres::PgPoolOptions;
use sqlx::Executor;

use crate::Result;

/// The server tests connect to when `TEST_POSTGRES_URL` is not set.
pub const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A database created for one test run.
pub struct ScratchDatabase {
    admin_url: String,
    name: String,
}

impl ScratchDatabase {
    /// Creates `lgsp_test_<uuid>` on the server of `TEST_POSTGRES_URL` (or
    /// [`DEFAULT_ADMIN_URL`]).
    pub async fn create() -> Result<Self> {
        let admin_url =
            std::env::var("TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_ADMIN_URL.into());
        let name = format!("lgsp_test_{}", uuid_like());
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .connect(&admin_url)
            .await?;
        pool.execute(format!("CREATE DATABASE {name}").as_str())
            .await?;
        pool.close().await;
        Ok(Self { admin_url, name })
    }

    /// The URL of the scratch database.
    pub fn url(&self) -> String {
        let base = self.admin_url.rsplit_once('/').map_or("", |(base, _)| base);
        format!("{base}/{}", self.name)
    }

    /// Drops the database, closing any connection still open to it.
    pub async fn drop_database(self) -> Result<()> {
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .connect(&self.admin_url)
            .await?;
        pool.execute(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name).as_str())
            .await?;
        pool.close().await;
        Ok(())
    }
}

/// A name part unique across concurrent test processes: time, process id and a counter.
fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "{nanos:x}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}
