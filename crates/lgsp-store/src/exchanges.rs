//! An index of the gateway's exchanges by agency (migration `0011_exchanges`), derived from the
//! transparency log's leaves for the console's exchange log.

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
}

/// Columns per row, and rows per statement (SQLite allows 32 766 parameters).
const COLUMNS: usize = 13;
const ROWS_PER_STATEMENT: usize = 1000;

impl Store {
    /// Indexes exchanges whose leaves are committed; an index already present is kept.
    pub async fn index_exchanges(&self, entries: &[ExchangeEntry]) -> Result<()> {
        for chunk in entries.chunks(ROWS_PER_STATEMENT) {
            let rows: Vec<String> = (0..chunk.len())
                .map(|r| {
                    let params: Vec<String> = (1..=COLUMNS)
                        .map(|c| format!("${}", r * COLUMNS + c))
                        .collect();
                    format!("({})", params.join(", "))
                })
                .collect();
            let sql = format!(
                "INSERT INTO exchanges (log_index, at, request_id, consumer_agency,
                     consumer_system, provider_agency, target, purpose, method, status, refusal,
                     response_bytes, latency_micros)
                 VALUES {} ON CONFLICT (log_index) DO NOTHING",
                rows.join(", ")
            );
            on_pool!(self, |pool| {
                let mut query = sqlx::query(&sql);
                for e in chunk {
                    query = query
                        .bind(e.log_index)
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
                        .bind(e.latency_micros);
                }
                query.execute(pool).await?;
            });
        }
        Ok(())
    }

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
                        response_bytes, latency_micros
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
}
