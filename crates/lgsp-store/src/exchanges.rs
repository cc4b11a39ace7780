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

/// Rows per statement: few enough that binding stays cheap (SQLite finds a parameter by a
/// linear scan of the statement's names), enough for a busy second's batch in one or two.
pub(crate) const ROWS_PER_STATEMENT: usize = 64;

/// The statement inserting `rows` exchanges.
pub(crate) fn insert_sql(rows: usize) -> String {
    const COLUMNS: usize = 14;
    let values: Vec<String> = (0..rows)
        .map(|r| {
            let params: Vec<String> = (1..=COLUMNS)
                .map(|c| format!("${}", r * COLUMNS + c))
                .collect();
            format!("({})", params.join(", "))
        })
        .collect();
    format!(
        "INSERT INTO exchanges (log_index, at, request_id, consumer_agency, consumer_system,
             provider_agency, target, purpose, method, status, refusal, response_bytes,
             latency_micros, subject)
         VALUES {}",
        values.join(", ")
    )
}

/// Indexes exchanges inside the transaction `$tx` that appends their leaves from index
/// `$first`: the index is exactly as complete as the log. An entry's `log_index` says which
/// leaf of the batch records it (0 for the first).
macro_rules! insert_exchanges {
    ($tx:expr, $first:expr, $entries:expr) => {
        for chunk in $entries.chunks($crate::exchanges::ROWS_PER_STATEMENT) {
            let sql = $crate::exchanges::insert_sql(chunk.len());
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
