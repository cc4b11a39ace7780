//! Health probes of registered systems (Q6.1, Q7.5): which probes are due (taken by one node
//! per round), what each probe found, the run of failures that raises an alert and the monthly
//! availability kept for the operator's reports.

use chrono::{DateTime, Utc};
use lgsp_core::{AgencyCode, SystemCode};
use serde::Serialize;

use crate::{on_pool, Result, Store, StoreError, Timestamp};

/// A probe this node took: the system and the URL to ask.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DueProbe {
    pub system_id: i64,
    pub agency: String,
    pub code: String,
    pub name: String,
    pub health_url: String,
}

/// What one probe found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Probe {
    pub probed_at: DateTime<Utc>,
    /// The system answered 2xx in time.
    pub up: bool,
    /// The HTTP status of the answer, when there was one.
    pub status_code: Option<i32>,
    /// Why the probe failed without an answer (connection refused, timeout…).
    pub error: Option<String>,
    pub latency_millis: i32,
}

/// What a probe changed in the system's state, for whom to tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HealthChange {
    /// Nothing to tell.
    None,
    /// This failure reached the threshold: the outage is alerted (once).
    Alert { consecutive_failures: i32 },
    /// The system answers again after an alerted outage (told once).
    Recovered,
}

/// Probes and successful probes of one system in one month (`YYYY-MM`, in Viet Nam).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MonthlyAvailability {
    pub month: String,
    pub probes: i32,
    pub up: i32,
}

/// A system's current health as its probes left it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HealthStatus {
    pub agency: String,
    pub code: String,
    pub name: String,
    pub health_url: Option<String>,
    /// `None` until the first probe (or for a system without a health URL).
    pub up: Option<bool>,
    pub consecutive_failures: i32,
    pub last_probe_at: Option<DateTime<Utc>>,
    /// The outage the focal officer was told of, while it lasts.
    pub alerted_at: Option<DateTime<Utc>>,
    /// The readiness assessment (Q21.3): `unassessed`, `ready` or `needs_upgrade`.
    pub readiness_status: String,
    /// Probes and successful ones in the month asked about.
    pub month_probes: i32,
    pub month_up: i32,
}

/// Probes and successful probes of one system over several months.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SystemAvailability {
    pub agency: String,
    pub code: String,
    pub name: String,
    pub probes: i64,
    pub up: i64,
}

/// The month `at` falls in, in Viet Nam, as availability is kept (so a month's figures are the
/// month people in the province mean; months kept before 29/11/2026 were UTC months).
pub fn month_of(at: Timestamp) -> String {
    at.with_timezone(&lgsp_core::calendar::VIETNAM)
        .format("%Y-%m")
        .to_string()
}

const SELECT_STATUS: &str = "
    SELECT a.code AS agency, s.code, s.name, s.health_url, h.up,
           COALESCE(h.consecutive_failures, 0) AS consecutive_failures, h.last_probe_at,
           h.alerted_at, s.readiness_status,
           COALESCE(m.probes, 0) AS month_probes, COALESCE(m.up, 0) AS month_up
    FROM systems s JOIN agencies a ON a.id = s.agency_id
    LEFT JOIN system_health h ON h.system_id = s.id
    LEFT JOIN system_availability m ON m.system_id = s.id AND m.month = $1";

impl Store {
    /// Takes the probes due at `at` by moving each one's next probe to `next`: a concurrent
    /// node finds nothing due until then (on PostgreSQL the condition is re-checked on the row
    /// another taker updated first). Systems given a health URL since the last round are due
    /// at once.
    pub async fn take_due_probes(&self, at: Timestamp, next: Timestamp) -> Result<Vec<DueProbe>> {
        let taken: Vec<DueProbe> = on_pool!(self, |pool| {
            let mut tx = pool.begin_with(self.begin_write()).await?;
            sqlx::query(
                "INSERT INTO system_health (system_id, next_probe_at)
                 SELECT id, $1 FROM systems WHERE health_url IS NOT NULL
                 ON CONFLICT (system_id) DO NOTHING",
            )
            .bind(at)
            .execute(&mut *tx)
            .await?;
            let ids: Vec<i64> = sqlx::query_scalar(
                "UPDATE system_health SET next_probe_at = $2
                 WHERE next_probe_at <= $1
                   AND system_id IN (SELECT id FROM systems WHERE health_url IS NOT NULL)
                 RETURNING system_id",
            )
            .bind(at)
            .bind(next)
            .fetch_all(&mut *tx)
            .await?;
            let mut taken = Vec::with_capacity(ids.len());
            for id in ids {
                let probe: DueProbe = sqlx::query_as(
                    "SELECT s.id AS system_id, a.code AS agency, s.code, s.name, s.health_url
                     FROM systems s JOIN agencies a ON a.id = s.agency_id WHERE s.id = $1",
                )
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
                taken.push(probe);
            }
            tx.commit().await?;
            taken
        });
        Ok(taken)
    }

    /// Records a probe of system `system_id`, counts it in its month and updates the run of
    /// failures, in one transaction; says whether an outage is to be alerted (the
    /// `failures_before_alert`-th failure in a row, once per outage) or its end told.
    pub async fn record_probe(
        &self,
        system_id: i64,
        probe: &Probe,
        failures_before_alert: u32,
    ) -> Result<HealthChange> {
        let change = on_pool!(self, |pool| {
            let mut tx = pool.begin_with(self.begin_write()).await?;
            sqlx::query(
                "INSERT INTO system_probes (system_id, probed_at, up, status_code, error,
                     latency_millis)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(system_id)
            .bind(probe.probed_at)
            .bind(probe.up)
            .bind(probe.status_code)
            .bind(probe.error.as_deref())
            .bind(probe.latency_millis)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO system_availability (system_id, month, probes, up)
                 VALUES ($1, $2, 1, $3)
                 ON CONFLICT (system_id, month)
                 DO UPDATE SET probes = system_availability.probes + 1,
                               up = system_availability.up + excluded.up",
            )
            .bind(system_id)
            .bind(month_of(probe.probed_at))
            .bind(i32::from(probe.up))
            .execute(&mut *tx)
            .await?;
            let (failures, alerted): (i32, Option<Timestamp>) = sqlx::query_as(
                "SELECT consecutive_failures, alerted_at FROM system_health WHERE system_id = $1",
            )
            .bind(system_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound("system health"))?;
            let failures = if probe.up { 0 } else { failures + 1 };
            let threshold = i32::try_from(failures_before_alert.max(1)).unwrap_or(i32::MAX);
            let (change, alerted) = match (probe.up, alerted) {
                (true, Some(_)) => (HealthChange::Recovered, None),
                (false, None) if failures >= threshold => (
                    HealthChange::Alert {
                        consecutive_failures: failures,
                    },
                    Some(probe.probed_at),
                ),
                (true, None) => (HealthChange::None, None),
                (false, alerted) => (HealthChange::None, alerted),
            };
            sqlx::query(
                "UPDATE system_health SET last_probe_at = $2, up = $3, consecutive_failures = $4,
                     alerted_at = $5
                 WHERE system_id = $1",
            )
            .bind(system_id)
            .bind(probe.probed_at)
            .bind(probe.up)
            .bind(failures)
            .bind(alerted)
            .execute(&mut *tx)
            .await?;
            // The outage as the annual report counts it (Q17.6): from alert to recovery.
            match change {
                HealthChange::Alert { .. } => {
                    sqlx::query(
                        "INSERT INTO system_outages (system_id, started_at) VALUES ($1, $2)
                         ON CONFLICT DO NOTHING",
                    )
                    .bind(system_id)
                    .bind(probe.probed_at)
                    .execute(&mut *tx)
                    .await?;
                }
                HealthChange::Recovered => {
                    sqlx::query(
                        "UPDATE system_outages SET ended_at = $2
                         WHERE system_id = $1 AND ended_at IS NULL",
                    )
                    .bind(system_id)
                    .bind(probe.probed_at)
                    .execute(&mut *tx)
                    .await?;
                }
                HealthChange::None => {}
            }
            tx.commit().await?;
            change
        });
        Ok(change)
    }

    /// Every system with its health and its availability in `month`, by agency and code.
    pub async fn list_health(&self, month: &str) -> Result<Vec<HealthStatus>> {
        let rows: Vec<HealthStatus> = on_pool!(self, |pool| {
            sqlx::query_as(&format!("{SELECT_STATUS} ORDER BY a.code, s.code"))
                .bind(month)
                .fetch_all(pool)
                .await?
        });
        Ok(rows)
    }

    /// One system's health, its newest `limit` probes and its availability per month (newest
    /// first).
    pub async fn system_health(
        &self,
        agency: &AgencyCode,
        code: &SystemCode,
        month: &str,
        limit: i64,
    ) -> Result<(HealthStatus, Vec<Probe>, Vec<MonthlyAvailability>)> {
        let found = on_pool!(self, |pool| {
            let status: Option<HealthStatus> = sqlx::query_as(&format!(
                "{SELECT_STATUS} WHERE a.code = $2 AND s.code = $3"
            ))
            .bind(month)
            .bind(agency.as_str())
            .bind(code.as_str())
            .fetch_optional(pool)
            .await?;
            let probes: Vec<Probe> = sqlx::query_as(
                "SELECT p.probed_at, p.up, p.status_code, p.error, p.latency_millis
                 FROM system_probes p JOIN systems s ON s.id = p.system_id
                 JOIN agencies a ON a.id = s.agency_id
                 WHERE a.code = $1 AND s.code = $2 ORDER BY p.id DESC LIMIT $3",
            )
            .bind(agency.as_str())
            .bind(code.as_str())
            .bind(limit)
            .fetch_all(pool)
            .await?;
            let months: Vec<MonthlyAvailability> = sqlx::query_as(
                "SELECT m.month, m.probes, m.up
                 FROM system_availability m JOIN systems s ON s.id = m.system_id
                 JOIN agencies a ON a.id = s.agency_id
                 WHERE a.code = $1 AND s.code = $2 ORDER BY m.month DESC",
            )
            .bind(agency.as_str())
            .bind(code.as_str())
            .fetch_all(pool)
            .await?;
            (status, probes, months)
        });
        let (status, probes, months) = found;
        Ok((
            status.ok_or(StoreError::NotFound("system"))?,
            probes,
            months,
        ))
    }

    /// Each probed system's probes and successful ones in the months `first` to `last`
    /// (`YYYY-MM`, both included), optionally of one agency's systems, by agency and code.
    pub async fn availability_between(
        &self,
        first: &str,
        last: &str,
        agency: Option<&str>,
    ) -> Result<Vec<SystemAvailability>> {
        Ok(on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT a.code AS agency, s.code, s.name,
                        CAST(SUM(m.probes) AS BIGINT) AS probes, CAST(SUM(m.up) AS BIGINT) AS up
                 FROM system_availability m JOIN systems s ON s.id = m.system_id
                 JOIN agencies a ON a.id = s.agency_id
                 WHERE m.month >= $1 AND m.month <= $2 AND ($3 IS NULL OR a.code = $3)
                 GROUP BY a.code, s.code, s.name ORDER BY a.code, s.code",
            )
            .bind(first)
            .bind(last)
            .bind(agency)
            .fetch_all(pool)
            .await?
        }))
    }

    /// Forgets raw probes made before `before` (monthly availability stays).
    pub async fn prune_probes(&self, before: Timestamp) -> Result<u64> {
        let pruned = on_pool!(self, |pool| {
            sqlx::query("DELETE FROM system_probes WHERE probed_at < $1")
                .bind(before)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(pruned)
    }
}

#[cfg(test)]
mod tests {
    use super::month_of;
    use chrono::{TimeZone, Utc};

    #[test]
    fn q7_5_availability_months_are_vietnamese_months() {
        // 17:30 UTC on 30 November is 00:30 on 1 December in Viet Nam.
        let at = Utc.with_ymd_and_hms(2026, 11, 30, 17, 30, 0).unwrap();
        assert_eq!(month_of(at), "2026-12");
        let at = Utc.with_ymd_and_hms(2026, 11, 30, 16, 59, 59).unwrap();
        assert_eq!(month_of(at), "2026-11");
    }
}
