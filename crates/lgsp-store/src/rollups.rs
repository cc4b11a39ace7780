//! Daily rollups of the exchange index (migration `0022_exchange_rollups`): per day in Viet Nam,
//! provider agency, consumer agency and target, how many exchanges, how they ended, the bytes
//! answered and a latency histogram in fixed buckets. `Store::append_log` groups a batch's
//! exchanges here and adds them with a handful of upserts in the transaction that appends
//! their leaves, so the rollups always equal a `GROUP BY` over `exchanges`; dashboards read a
//! year from them in milliseconds. Also the count of whole-dataset downloads per day.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::Serialize;

use crate::{on_pool, ExchangeEntry, Result, Store, Timestamp};

/// Exclusive upper bounds, in microseconds, of the latency histogram's buckets (1-2-5 steps
/// from 100 µs to 100 s); one more bucket holds 100 s and more.
pub const LATENCY_BUCKETS: [i64; 19] = [
    100,
    200,
    500,
    1_000,
    2_000,
    5_000,
    10_000,
    20_000,
    50_000,
    100_000,
    200_000,
    500_000,
    1_000_000,
    2_000_000,
    5_000_000,
    10_000_000,
    20_000_000,
    50_000_000,
    100_000_000,
];

/// How many buckets the histogram has (`h00` … `h19`).
pub const BUCKETS: usize = LATENCY_BUCKETS.len() + 1;

/// The bucket a latency falls in.
pub fn latency_bucket(latency_micros: i64) -> usize {
    LATENCY_BUCKETS
        .iter()
        .position(|&bound| latency_micros < bound)
        .unwrap_or(BUCKETS - 1)
}

/// How an exchange ended, as the rollups count it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Answered: no refusal code and a status below 400.
    Ok,
    /// Refused: a 4xx status, or a refusal code with a status below 500.
    Refused,
    /// Failed: a 5xx status (the provider or the platform failed).
    Error,
}

impl Outcome {
    pub fn of(status: i32, refusal: Option<&str>) -> Self {
        if status >= 500 {
            Self::Error
        } else if status >= 400 || refusal.is_some() {
            Self::Refused
        } else {
            Self::Ok
        }
    }
}

/// The day in Viet Nam an instant falls on.
pub fn vietnam_day(at: Timestamp) -> NaiveDate {
    at.with_timezone(&lgsp_core::calendar::VIETNAM).date_naive()
}

/// Sums over some exchanges.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExchangeCounts {
    pub exchanges: i64,
    pub ok: i64,
    pub errors: i64,
    pub refusals: i64,
    pub response_bytes: i64,
    /// The sum of the latencies, for the mean.
    pub latency_micros: i64,
    /// Exchanges per latency bucket ([`LATENCY_BUCKETS`]).
    pub latency_histogram: Vec<i64>,
}

impl ExchangeCounts {
    fn empty() -> Self {
        Self {
            latency_histogram: vec![0; BUCKETS],
            ..Self::default()
        }
    }

    fn add(&mut self, entry: &ExchangeEntry) {
        self.exchanges += 1;
        match Outcome::of(entry.status, entry.refusal.as_deref()) {
            Outcome::Ok => self.ok += 1,
            Outcome::Refused => self.refusals += 1,
            Outcome::Error => self.errors += 1,
        }
        self.response_bytes += entry.response_bytes;
        self.latency_micros += entry.latency_micros;
        self.latency_histogram[latency_bucket(entry.latency_micros)] += 1;
    }

    /// Adds other sums to these.
    pub fn merge(&mut self, other: &ExchangeCounts) {
        self.exchanges += other.exchanges;
        self.ok += other.ok;
        self.errors += other.errors;
        self.refusals += other.refusals;
        self.response_bytes += other.response_bytes;
        self.latency_micros += other.latency_micros;
        if self.latency_histogram.len() < other.latency_histogram.len() {
            self.latency_histogram
                .resize(other.latency_histogram.len(), 0);
        }
        for (sum, n) in self
            .latency_histogram
            .iter_mut()
            .zip(&other.latency_histogram)
        {
            *sum += n;
        }
    }

    /// The latency (µs) below which a share `q` of the exchanges fall, estimated from the
    /// histogram: the bucket holding the `q`-th exchange, interpolated geometrically inside it
    /// (linearly in the first). `None` without exchanges.
    pub fn latency_quantile(&self, q: f64) -> Option<f64> {
        let total: i64 = self.latency_histogram.iter().sum();
        if total == 0 {
            return None;
        }
        let rank = (q.clamp(0.0, 1.0) * total as f64).max(1.0);
        let mut below = 0.0;
        for (bucket, &count) in self.latency_histogram.iter().enumerate() {
            if count == 0 {
                continue;
            }
            let count = count as f64;
            if below + count >= rank {
                let share = (rank - below) / count;
                let upper = LATENCY_BUCKETS.get(bucket).copied().map(|b| b as f64);
                return Some(match (bucket, upper) {
                    (0, Some(upper)) => upper * share,
                    (_, Some(upper)) => {
                        let lower = LATENCY_BUCKETS[bucket - 1] as f64;
                        lower * (upper / lower).powf(share)
                    }
                    // Beyond the last bound: the bound is all that is known.
                    (_, None) => LATENCY_BUCKETS[LATENCY_BUCKETS.len() - 1] as f64,
                });
            }
            below += count;
        }
        None
    }

    /// The share of refused exchanges, of errors (0 without exchanges).
    pub fn rates(&self) -> (f64, f64) {
        if self.exchanges == 0 {
            return (0.0, 0.0);
        }
        let n = self.exchanges as f64;
        (self.refusals as f64 / n, self.errors as f64 / n)
    }
}

/// A batch's exchanges summed per day, provider, consumer and target (unknown: `""`).
type Groups<'a> = HashMap<(NaiveDate, &'a str, &'a str, &'a str), ExchangeCounts>;

pub(crate) fn group(entries: &[ExchangeEntry]) -> Groups<'_> {
    let mut groups: Groups<'_> = HashMap::new();
    // A batch is in time order, mostly within one day: convert each instant once per second.
    let mut last: Option<(i64, NaiveDate)> = None;
    for e in entries {
        let second = e.at.timestamp();
        let day = match last {
            Some((s, day)) if s == second => day,
            _ => {
                let day = vietnam_day(e.at);
                last = Some((second, day));
                day
            }
        };
        let key = (
            day,
            e.provider_agency.as_deref().unwrap_or(""),
            e.consumer_agency.as_deref().unwrap_or(""),
            e.target.as_deref().unwrap_or(""),
        );
        groups
            .entry(key)
            .or_insert_with(ExchangeCounts::empty)
            .add(e);
    }
    groups
}

/// Rollup rows per upsert statement (30 parameters each).
pub(crate) const ROWS_PER_UPSERT: usize = 32;
const COLUMNS: usize = 10 + BUCKETS;

fn bucket_columns() -> Vec<String> {
    (0..BUCKETS).map(|b| format!("h{b:02}")).collect()
}

/// The statement adding `rows` groups to the rollups.
pub(crate) fn upsert_sql(backend: crate::Backend, rows: usize) -> String {
    let buckets = bucket_columns();
    let sums: Vec<String> = [
        "exchanges",
        "ok",
        "errors",
        "refusals",
        "response_bytes",
        "latency_micros",
    ]
    .iter()
    .map(|c| c.to_string())
    .chain(buckets.iter().cloned())
    .map(|c| format!("{c} = exchange_days.{c} + excluded.{c}"))
    .collect();
    format!(
        "INSERT INTO exchange_days (day, provider_agency, consumer_agency, target, exchanges, ok,
             errors, refusals, response_bytes, latency_micros, {})
         VALUES {}
         ON CONFLICT (day, provider_agency, consumer_agency, target) DO UPDATE SET {}",
        buckets.join(", "),
        crate::value_lists(rows, COLUMNS, 1, backend),
        sums.join(", ")
    )
}

/// Adds the exchanges `$entries` to the daily rollups inside the transaction `$tx` that
/// appends them: grouped first, so a batch of thousands costs a few statements.
macro_rules! upsert_rollups {
    ($tx:expr, $backend:expr, $entries:expr) => {
        let groups: Vec<_> = $crate::rollups::group($entries).into_iter().collect();
        for chunk in groups.chunks($crate::rollups::ROWS_PER_UPSERT) {
            let sql = $crate::rollups::upsert_sql($backend, chunk.len());
            let mut query = sqlx::query(&sql);
            for ((day, provider, consumer, target), counts) in chunk {
                query = query
                    .bind(day.format("%Y-%m-%d").to_string())
                    .bind(*provider)
                    .bind(*consumer)
                    .bind(*target)
                    .bind(counts.exchanges)
                    .bind(counts.ok)
                    .bind(counts.errors)
                    .bind(counts.refusals)
                    .bind(counts.response_bytes)
                    .bind(counts.latency_micros);
                for n in &counts.latency_histogram {
                    query = query.bind(*n);
                }
            }
            query.execute(&mut *$tx).await?;
        }
    };
}
pub(crate) use upsert_rollups;

/// What the rollups are summed by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RollupKey {
    /// One row: the whole scope.
    Total,
    /// Per day (`YYYY-MM-DD`).
    Day,
    /// Per provider agency.
    Provider,
    /// Per consumer agency.
    Consumer,
    /// Per service (`agency/system/service/version`) or dataset (`dataset:<id>`).
    Target,
}

impl RollupKey {
    fn column(self) -> &'static str {
        match self {
            Self::Total => "''",
            Self::Day => "day",
            Self::Provider => "provider_agency",
            Self::Consumer => "consumer_agency",
            Self::Target => "target",
        }
    }
}

/// Which days and agencies the sums cover.
#[derive(Debug, Clone, Copy)]
pub struct RollupScope<'a> {
    /// First and last day (Viet Nam), both included.
    pub first: NaiveDate,
    pub last: NaiveDate,
    /// Only exchanges in which this agency was the provider or the consumer.
    pub agency: Option<&'a str>,
}

/// Sums for one value of a [`RollupKey`] (`""`: unknown, or the total).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RollupRow {
    pub key: String,
    #[serde(flatten)]
    pub counts: ExchangeCounts,
}

/// Sums over one provider, consumer and target (`""`: unknown).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RouteRollup {
    pub provider: String,
    pub consumer: String,
    pub target: String,
    pub counts: ExchangeCounts,
}

/// The rows of a [`RollupScope`]: `$1`, `$2` the days, `$3` the agency on either side.
const SCOPE: &str = "WHERE day >= $1 AND day <= $2
    AND ($3 IS NULL OR provider_agency = $3 OR consumer_agency = $3)";

impl RollupScope<'_> {
    fn days(&self) -> (String, String) {
        (
            self.first.format("%Y-%m-%d").to_string(),
            self.last.format("%Y-%m-%d").to_string(),
        )
    }
}

/// The sums a rollup query selects: the counters, then the histogram's buckets.
fn sum_columns() -> String {
    [
        "exchanges",
        "ok",
        "errors",
        "refusals",
        "response_bytes",
        "latency_micros",
    ]
    .iter()
    .map(|c| c.to_string())
    .chain(bucket_columns())
    .map(|c| format!("CAST(COALESCE(SUM({c}), 0) AS BIGINT)"))
    .collect::<Vec<_>>()
    .join(", ")
}

/// The [`ExchangeCounts`] in `$row` from column `$first` on, as [`sum_columns`] selects them.
macro_rules! counts_from {
    ($row:expr, $first:expr) => {{
        let n = |i: usize| $row.try_get::<i64, _>(i);
        ExchangeCounts {
            exchanges: n($first)?,
            ok: n($first + 1)?,
            errors: n($first + 2)?,
            refusals: n($first + 3)?,
            response_bytes: n($first + 4)?,
            latency_micros: n($first + 5)?,
            latency_histogram: ($first + 6..$first + 6 + BUCKETS)
                .map(n)
                .collect::<Result<_, _>>()?,
        }
    }};
}

impl Store {
    /// The exchanges of `scope` summed by `by`, from the daily rollups: days in order, other
    /// keys by exchanges (most first). The total is one row, zeros when nothing matched.
    pub async fn exchange_rollups(
        &self,
        scope: &RollupScope<'_>,
        by: RollupKey,
    ) -> Result<Vec<RollupRow>> {
        let (group, order) = match by {
            RollupKey::Total => ("", ""),
            RollupKey::Day => ("GROUP BY day", "ORDER BY 1"),
            _ => ("GROUP BY 1", "ORDER BY 2 DESC, 1"),
        };
        let sql = format!(
            "SELECT {key} AS key, {sums} FROM exchange_days {SCOPE} {group} {order}",
            key = by.column(),
            sums = sum_columns()
        );
        let (first, last) = scope.days();
        Ok(on_pool!(self, |pool| {
            use sqlx::Row;
            let rows = sqlx::query(&sql)
                .bind(&first)
                .bind(&last)
                .bind(scope.agency)
                .fetch_all(pool)
                .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(RollupRow {
                    key: row.try_get(0)?,
                    counts: counts_from!(row, 1),
                });
            }
            out
        }))
    }

    /// The exchanges of `scope` summed per provider, consumer and target over the whole
    /// period: one pass over the rollups from which the totals and every ranking follow (a
    /// year of the province is a few hundred groups).
    pub async fn exchange_routes(&self, scope: &RollupScope<'_>) -> Result<Vec<RouteRollup>> {
        let sql = format!(
            "SELECT provider_agency, consumer_agency, target, {sums} FROM exchange_days {SCOPE}
             GROUP BY provider_agency, consumer_agency, target",
            sums = sum_columns()
        );
        let (first, last) = scope.days();
        Ok(on_pool!(self, |pool| {
            use sqlx::Row;
            let rows = sqlx::query(&sql)
                .bind(&first)
                .bind(&last)
                .bind(scope.agency)
                .fetch_all(pool)
                .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(RouteRollup {
                    provider: row.try_get(0)?,
                    consumer: row.try_get(1)?,
                    target: row.try_get(2)?,
                    counts: counts_from!(row, 3),
                });
            }
            out
        }))
    }

    /// Counts a download of a whole dataset by a person or an anonymous visitor.
    pub async fn record_download(&self, dataset: &str, at: Timestamp) -> Result<()> {
        let day = vietnam_day(at).format("%Y-%m-%d").to_string();
        on_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO dataset_downloads (day, dataset_id, downloads) VALUES ($1, $2, 1)
                 ON CONFLICT (day, dataset_id)
                 DO UPDATE SET downloads = dataset_downloads.downloads + 1",
            )
            .bind(day)
            .bind(dataset)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Downloads per dataset between `first` and `last` (days in Viet Nam, included), most
    /// first.
    pub async fn dataset_downloads(
        &self,
        first: NaiveDate,
        last: NaiveDate,
    ) -> Result<Vec<(String, i64)>> {
        Ok(on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT dataset_id, CAST(SUM(downloads) AS BIGINT) FROM dataset_downloads
                 WHERE day >= $1 AND day <= $2 GROUP BY dataset_id ORDER BY 2 DESC, 1",
            )
            .bind(first.format("%Y-%m-%d").to_string())
            .bind(last.format("%Y-%m-%d").to_string())
            .fetch_all(pool)
            .await?
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(histogram: &[(usize, i64)]) -> ExchangeCounts {
        let mut c = ExchangeCounts::empty();
        for &(bucket, n) in histogram {
            c.latency_histogram[bucket] = n;
            c.exchanges += n;
        }
        c
    }

    #[test]
    fn latencies_fall_in_1_2_5_buckets() {
        assert_eq!(latency_bucket(0), 0);
        assert_eq!(latency_bucket(99), 0);
        assert_eq!(latency_bucket(100), 1);
        assert_eq!(latency_bucket(4_999), 5);
        assert_eq!(latency_bucket(5_000), 6);
        assert_eq!(latency_bucket(99_999_999), 18);
        assert_eq!(latency_bucket(100_000_000), 19);
        assert_eq!(latency_bucket(i64::MAX), 19);
    }

    #[test]
    fn quantiles_interpolate_inside_the_bucket() {
        // 100 exchanges between 10 and 20 ms: the median at the geometric middle.
        let c = counts(&[(7, 100)]);
        let p50 = c.latency_quantile(0.5).unwrap();
        assert!((p50 - 14_142.0).abs() < 1.0, "{p50}");
        assert!((c.latency_quantile(1.0).unwrap() - 20_000.0).abs() < 1e-6);
        // 90 fast (1–2 ms), 10 slow (0,5–1 s): p50 fast, p95 and p99 slow.
        let c = counts(&[(4, 90), (12, 10)]);
        assert!(c.latency_quantile(0.5).unwrap() < 2_000.0);
        let p95 = c.latency_quantile(0.95).unwrap();
        assert!((500_000.0..1_000_000.0).contains(&p95), "{p95}");
        assert_eq!(ExchangeCounts::empty().latency_quantile(0.5), None);
        assert_eq!(counts(&[(19, 3)]).latency_quantile(0.5), Some(1e8));
    }

    #[test]
    fn outcomes_are_ok_refused_or_error() {
        assert_eq!(Outcome::of(200, None), Outcome::Ok);
        assert_eq!(Outcome::of(304, None), Outcome::Ok);
        assert_eq!(Outcome::of(403, Some("no_grant")), Outcome::Refused);
        assert_eq!(Outcome::of(404, None), Outcome::Refused);
        assert_eq!(
            Outcome::of(200, Some("state_secret_suspected")),
            Outcome::Refused
        );
        assert_eq!(
            Outcome::of(502, Some("upstream_unreachable")),
            Outcome::Error
        );
        assert_eq!(Outcome::of(500, None), Outcome::Error);
    }
}
