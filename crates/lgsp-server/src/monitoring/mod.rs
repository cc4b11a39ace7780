//! Monitoring of connected systems (Q6.1, Q7.5, Q21.3): each registered system's health URL is
//! probed every `health_probe_seconds` by one of the nodes, every probe is recorded and counted
//! in the month's availability, and the agency's focal officer is told when a system fails
//! `health_failures_before_alert` probes in a row (once per outage) and when it answers again.

use std::time::{Duration, Instant};

use axum::extract::State;
use chrono::{DateTime, Utc};
use lgsp_core::{Action, AgencyCode, Resource, Role, SystemCode};
use lgsp_store::{month_of, DueProbe, HealthChange, HealthStatus, MonthlyAvailability, Probe};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ProblemDoc};
use crate::extract::Path;
use crate::portal::view::date_time_vi;

/// How long a system has to answer its health probe.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);
/// Probes shown with a system's health.
const RECENT_PROBES: i64 = 20;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(system_health))
        .routes(routes!(monitored_systems))
}

/// Asks one health URL: up when it answers 2xx within [`PROBE_TIMEOUT`]. Plain `http://` is
/// accepted: a health URL only says whether the system answers, it carries no data.
async fn probe(state: &AppState, url: &str, at: DateTime<Utc>) -> Probe {
    let started = Instant::now();
    let answer = state
        .gateway
        .client
        .get(url)
        .timeout(PROBE_TIMEOUT)
        .send()
        .await;
    let latency_millis = i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX);
    let (up, status_code, error) = match answer {
        Ok(response) => (
            response.status().is_success(),
            Some(i32::from(response.status().as_u16())),
            None,
        ),
        Err(error) if error.is_timeout() => (false, None, Some("timeout".to_owned())),
        Err(error) if error.is_connect() => (false, None, Some("connection failed".to_owned())),
        Err(error) => (false, None, Some(error.to_string())),
    };
    Probe {
        probed_at: at,
        up,
        status_code,
        error,
        latency_millis,
    }
}

/// Takes the probes due at `now` (none that another node took this round), runs them
/// concurrently, records them and tells the focal officers of outages and recoveries. Returns
/// how many systems were probed.
pub async fn probe_due(state: &AppState, now: DateTime<Utc>) -> Result<usize, ApiError> {
    let every = chrono::Duration::seconds(
        i64::try_from(state.settings.health_probe_seconds).unwrap_or(i64::MAX / 1000),
    );
    let due = state.store.take_due_probes(now, now + every).await?;
    let count = due.len();
    let mut running = tokio::task::JoinSet::new();
    for system in due {
        let state = state.clone();
        running.spawn(async move {
            let found = probe(&state, &system.health_url, now).await;
            (system, found)
        });
    }
    // One system's failure to record does not cost the others their round.
    let mut failed = None;
    while let Some(done) = running.join_next().await {
        let Ok((system, found)) = done else { continue };
        let recorded = async {
            let change = state
                .store
                .record_probe(
                    system.system_id,
                    &found,
                    state.settings.health_failures_before_alert,
                )
                .await?;
            tell(state, &system, &found, change).await
        };
        if let Err(error) = recorded.await {
            tracing::warn!(agency = %system.agency, system = %system.code, error = ?error,
                "could not record a health probe");
            failed = Some(error);
        }
    }
    match failed {
        Some(error) => Err(error),
        None => Ok(count),
    }
}

/// Notifies the agency's administrators and e-mails its focal officer of an outage or a
/// recovery.
async fn tell(
    state: &AppState,
    system: &DueProbe,
    found: &Probe,
    change: HealthChange,
) -> Result<(), ApiError> {
    let agency = AgencyCode::parse(&system.agency).map_err(lgsp_store::StoreError::from)?;
    let link = format!("/api/v1/systems/{}/{}/health", system.agency, system.code);
    let (subject, body) = match change {
        HealthChange::None => return Ok(()),
        HealthChange::Alert {
            consecutive_failures,
        } => {
            let cause = match (&found.status_code, &found.error) {
                (Some(code), _) => format!("trả về mã HTTP {code}"),
                (None, Some(error)) if error == "timeout" => {
                    "không trả lời trong thời gian cho phép".to_owned()
                }
                (None, _) => "không kết nối được".to_owned(),
            };
            (
                format!("Hệ thống {} không hoạt động", system.name),
                format!(
                    "Hệ thống {} ({}) của cơ quan không trả lời kiểm tra hoạt động {} lần liên tiếp; lần gần nhất lúc {}: {}. Địa chỉ kiểm tra: {}. Đề nghị đầu mối kỹ thuật kiểm tra và khắc phục; nền tảng sẽ thông báo khi hệ thống hoạt động trở lại.",
                    system.name,
                    system.code,
                    consecutive_failures,
                    date_time_vi(found.probed_at),
                    cause,
                    system.health_url
                ),
            )
        }
        HealthChange::Recovered => (
            format!("Hệ thống {} đã hoạt động trở lại", system.name),
            format!(
                "Hệ thống {} ({}) của cơ quan đã trả lời kiểm tra hoạt động bình thường lúc {}.",
                system.name,
                system.code,
                date_time_vi(found.probed_at)
            ),
        ),
    };
    state
        .store
        .notify(
            Role::AgencyAdmin,
            Some(&agency),
            &subject,
            &body,
            Some(&link),
        )
        .await?;
    tracing::info!(agency = %system.agency, system = %system.code, ?change, "system health notice sent");
    Ok(())
}

/// Probes what is due every few seconds, and prunes raw probes older than the retention
/// period every hour; forever.
pub async fn keep_probing(state: AppState) {
    let tick = Duration::from_secs(state.settings.health_probe_seconds.clamp(1, 10));
    let mut every = tokio::time::interval(tick);
    let mut pruned_at: Option<Instant> = None;
    loop {
        every.tick().await;
        if let Err(error) = probe_due(&state, Utc::now()).await {
            tracing::warn!(error = ?error, "could not probe systems' health");
        }
        if pruned_at.is_none_or(|at| at.elapsed() >= Duration::from_secs(3600)) {
            pruned_at = Some(Instant::now());
            let days = i64::from(state.settings.change_retention_days);
            match state
                .store
                .prune_probes(Utc::now() - chrono::Duration::days(days))
                .await
            {
                Ok(count) if count > 0 => tracing::info!(count, "old health probes pruned"),
                Ok(_) => {}
                Err(error) => tracing::warn!(error = ?error, "could not prune health probes"),
            }
        }
    }
}

/// A system's health: its current state, newest probes and availability per month.
#[derive(Serialize, ToSchema)]
pub struct SystemHealth {
    #[serde(flatten)]
    status: HealthView,
    /// The newest probes, newest first.
    probes: Vec<Probe>,
    /// Probes per month, newest first.
    availability: Vec<MonthlyAvailability>,
}

/// A system's state as the monitoring shows it.
#[derive(Serialize, ToSchema)]
pub struct HealthView {
    pub agency: String,
    pub system: String,
    pub name: String,
    pub health_url: Option<String>,
    /// `up`, `down`, `unknown` (not probed yet) or `unmonitored` (no health URL).
    pub status: &'static str,
    pub consecutive_failures: i32,
    pub last_probe_at: Option<DateTime<Utc>>,
    /// When the current outage was alerted to the agency.
    pub alerted_at: Option<DateTime<Utc>>,
    /// The readiness assessment (Q21.3): `unassessed`, `ready` or `needs_upgrade`.
    pub readiness: String,
    /// This month (UTC): probes, successful probes, and their share in percent.
    pub month: String,
    pub month_probes: i32,
    pub month_up: i32,
    pub month_availability_percent: Option<f64>,
}

impl HealthView {
    fn new(status: HealthStatus, month: &str) -> Self {
        let label = match (&status.health_url, status.up) {
            (None, _) => "unmonitored",
            (Some(_), None) => "unknown",
            (Some(_), Some(true)) => "up",
            (Some(_), Some(false)) => "down",
        };
        Self {
            status: label,
            month_availability_percent: percent(status.month_up, status.month_probes),
            agency: status.agency,
            system: status.code,
            name: status.name,
            health_url: status.health_url,
            consecutive_failures: status.consecutive_failures,
            last_probe_at: status.last_probe_at,
            alerted_at: status.alerted_at,
            readiness: status.readiness_status,
            month: month.to_owned(),
            month_probes: status.month_probes,
            month_up: status.month_up,
        }
    }
}

/// `up` of `probes` in percent, two decimals; none without probes.
pub fn percent(up: i32, probes: i32) -> Option<f64> {
    (probes > 0).then(|| (f64::from(up) * 10_000.0 / f64::from(probes)).round() / 100.0)
}

/// One system's health (Q7.5): whoever may read the system.
#[utoipa::path(get, path = "/systems/{agency}/{system}/health", tag = "systems",
    params(("agency" = String, Path, description = "Agency code"),
           ("system" = String, Path, description = "System code")),
    responses((status = 200, body = SystemHealth), (status = 401, body = ProblemDoc),
        (status = 403, body = ProblemDoc), (status = 404, body = ProblemDoc)))]
async fn system_health(
    State(state): State<AppState>,
    caller: Caller,
    Path((agency, system)): Path<(AgencyCode, SystemCode)>,
) -> Result<axum::Json<SystemHealth>, ApiError> {
    caller.authorize(Action::Read, Resource::System(Some(&agency)))?;
    let month = month_of(Utc::now());
    let (status, probes, availability) = state
        .store
        .system_health(&agency, &system, &month, RECENT_PROBES)
        .await?;
    Ok(axum::Json(SystemHealth {
        status: HealthView::new(status, &month),
        probes,
        availability,
    }))
}

/// Every system with its health, availability this month and readiness (Q7.5, Q21.3).
/// Operator and auditor.
#[utoipa::path(get, path = "/monitoring/systems", tag = "systems",
    responses((status = 200, body = Vec<HealthView>), (status = 401, body = ProblemDoc),
        (status = 403, body = ProblemDoc)))]
async fn monitored_systems(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<axum::Json<Vec<HealthView>>, ApiError> {
    caller.authorize(Action::Read, Resource::Monitoring)?;
    Ok(axum::Json(monitoring_rows(&state).await?))
}

/// Every system's health this month.
pub async fn monitoring_rows(state: &AppState) -> Result<Vec<HealthView>, ApiError> {
    let month = month_of(Utc::now());
    Ok(state
        .store
        .list_health(&month)
        .await?
        .into_iter()
        .map(|status| HealthView::new(status, &month))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn availability_is_a_percentage_with_two_decimals() {
        assert_eq!(percent(0, 0), None);
        assert_eq!(percent(2, 3), Some(66.67));
        assert_eq!(percent(5, 5), Some(100.0));
    }
}
