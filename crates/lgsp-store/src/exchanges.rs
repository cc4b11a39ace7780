//! An index of the gateway's exchanges by agency (migration `0011_exchanges`), derived from the
//! transparency log's leaves for the console's exchange log and written in the transaction that
//! appends them (`Store::append_log`).

use serde::Serialize;

use crate::{on_pool, Result, Store, Timestamp};

/// One exchange as the console lists it; the leaf at `log_index` is the authoritative record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct ExchangeEntry {
    pub log_index: i64,
    pub at: Timestamp,
    pub request_id: String,
    pub consumer_agency: Option<String>,
    pub consumer_system: Option<String>,
    pub provider_agency: Option<String>,
    /// `agency/system/service/version` or `dataset:<id>`.
    pub target: Option<String>,
    pub purpose: Option<String>,
    pub method: String,
    pub status: i32,
    /// The problem code of a refused or failed exchange.
    pub refusal: Option<String>,
    pub response_bytes: i64,
    pub latency_micros: i64,
    /// The salted hash of the data subject the exchange named (`LGSP-Subject`), if any.
    pub subject: Option<String>,
}

/// Rows per statement: enough for a busy second's batch in one or two.
pub(crate) const ROWS_PER_STATEMENT: usize = 64;

/// The statement inserting `rows` exchanges.
pub(crate) fn insert_sql(backend: crate::Backend, rows: usize) -> String {
    format!(
        "INSERT INTO exchanges (log_index, at, request_id, consumer_agency, consumer_system,
             provider_agency, target, purpose, method, status, refusal, response_bytes,
             latency_micros, subject)
         VALUES {}",
        crate::value_lists(rows, 14, 1, backend)
    )
}

/// Indexes exchanges inside the transaction `$tx` that appends their leaves from index
/// `$first`: the index is exactly as complete as the log. An entry's `log_index` says which
/// leaf of the batch records it (0 for the first).
macro_rules! insert_exchanges {
    ($tx:expr, $backend:expr, $first:expr, $entries:expr) => {
        for chunk in $entries.chunks($crate::exchanges::ROWS_PER_STATEMENT) {
            let sql = $crate::exchanges::insert_sql($backend, chunk.len());
            let mut query = sqlx::query(&sql);
            for e in chunk {
                query = query
                    .bind($first + e.log_index)
                    .bind(e.at)
                    .bind(&e.request_id)
                    .bind(&e.consumer_agency)
                    .bind(&e.consumer_system)
                    .bind(&e.provider_agency)
                    .bind(&e.target)
                    .bind(&e.purpose)
                    .bind(&e.method)
                    .bind(e.status)
                    .bind(&e.refusal)
                    .bind(e.response_bytes)
                    .bind(e.latency_micros)
                    .bind(&e.subject);
            }
            query.execute(&mut *$tx).await?;
        }
    };
}
pub(crate) use insert_exchanges;

impl Store {
    /// The latest `limit` exchanges in which `agency` was the consumer or the provider, newest
    /// first; `None`: every agency's.
    pub async fn list_exchanges(
        &self,
        agency: Option<&str>,
        limit: i64,
    ) -> Result<Vec<ExchangeEntry>> {
        Ok(on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT log_index, at, request_id, consumer_agency, consumer_system,
                        provider_agency, target, purpose, method, status, refusal,
                        response_bytes, latency_micros, subject
                 FROM exchanges
                 WHERE $1 IS NULL OR consumer_agency = $1 OR provider_agency = $1
                 ORDER BY log_index DESC LIMIT $2",
            )
            .bind(agency)
            .bind(limit)
            .fetch_all(pool)
            .await?
        }))
    }

    /// The latest `limit` exchanges that named the data subject whose salted hash is
    /// `subject`, newest first.
    pub async fn exchanges_about(&self, subject: &str, limit: i64) -> Result<Vec<ExchangeEntry>> {
        Ok(on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT log_index, at, request_id, consumer_agency, consumer_system,
                        provider_agency, target, purpose, method, status, refusal,
                        response_bytes, latency_micros, subject
                 FROM exchanges
                 WHERE subject = $1
                 ORDER BY log_index DESC LIMIT $2",
            )
            .bind(subject)
            .bind(limit)
            .fetch_all(pool)
            .await?
        }))
    }
}

/// Exchanges of one day (in Vietnam, `YYYY-MM-DD`), consumer system, target and purpose: the
/// rows of the provider's report (Q15.2.e).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExchangeStat {
    pub day: String,
    pub consumer_agency: Option<String>,
    pub consumer_system: Option<String>,
    pub provider_agency: Option<String>,
    /// `agency/system/service/version` or `dataset:<id>`.
    pub target: Option<String>,
    pub purpose: Option<String>,
    /// Exchanges answered (no refusal code).
    pub served: i64,
    /// Exchanges refused or failed (a problem code).
    pub refused: i64,
    /// Bytes of the answers served.
    pub bytes: i64,
}

/// Which exchanges a report counts: `[from, to)`, optionally one provider, consumer, target.
#[derive(Debug, Clone)]
pub struct ExchangeScope<'a> {
    pub from: Timestamp,
    pub to: Timestamp,
    pub provider: Option<&'a str>,
    pub consumer_agency: Option<&'a str>,
    pub consumer_system: Option<&'a str>,
    pub target: Option<&'a str>,
}

impl Store {
    /// Exchange counts per day (Vietnam's), consumer system, target and purpose in `scope`,
    /// from the exchange index; ordered by day, consumer, target, purpose.
    pub async fn exchange_stats(&self, scope: &ExchangeScope<'_>) -> Result<Vec<ExchangeStat>> {
        // Only the day's expression differs: the timestamp is text on SQLite.
        let day = match self.backend() {
            crate::Backend::Sqlite => "date(at, '+7 hours')",
            crate::Backend::Postgres => {
                "to_char((at AT TIME ZONE 'UTC') + interval '7 hours', 'YYYY-MM-DD')"
            }
        };
        let sql = format!(
            "SELECT {day} AS day, consumer_agency, consumer_system, provider_agency, target,
                    purpose,
                    CAST(SUM(CASE WHEN refusal IS NULL THEN 1 ELSE 0 END) AS BIGINT) AS served,
                    CAST(SUM(CASE WHEN refusal IS NULL THEN 0 ELSE 1 END) AS BIGINT) AS refused,
                    CAST(SUM(CASE WHEN refusal IS NULL THEN response_bytes ELSE 0 END) AS BIGINT)
                        AS bytes
             FROM exchanges
             WHERE at >= $1 AND at < $2 AND ($3 IS NULL OR provider_agency = $3)
               AND ($4 IS NULL OR consumer_agency = $4) AND ($5 IS NULL OR consumer_system = $5)
               AND ($6 IS NULL OR target = $6)
             GROUP BY 1, 2, 3, 4, 5, 6
             ORDER BY 1, 2, 3, 5, 6"
        );
        Ok(on_pool!(self, |pool| {
            sqlx::query_as(&sql)
                .bind(scope.from)
                .bind(scope.to)
                .bind(scope.provider)
                .bind(scope.consumer_agency)
                .bind(scope.consumer_system)
                .bind(scope.target)
                .fetch_all(pool)
                .await?
        }))
    }
}
