//! The dashboards' figures (Q7.5, Q15.2.e, Q17.6, Q21.3): exchanges per day, agency and
//! service with their outcomes and latency percentiles (from the exchange index's daily
//! rollups, written with the log's leaves), the most used datasets, datasets overdue for an
//! update, sharing requests, error reports and their time to fix, tickets, and the connected
//! systems' availability (from monitoring) — province-wide or for one agency, over a period.
//!
//! One [`Dashboard`] feeds the console's page (`/console/dashboard`: charts with their tables
//! and CSV), the JSON API (`/api/v1/statistics/dashboard`) and, reduced to what anyone may
//! know, the portal's statistics page (`/statistics`, `/api/v1/statistics/public`).

use std::collections::{BTreeMap, HashMap};

use axum::extract::State;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use lgsp_core::catalog::AccessLevel;
use lgsp_core::quality::ReportState;
use lgsp_core::sharing_request::RequestState;
use lgsp_core::{Action, Actor, AgencyCode, Resource, Role};
use lgsp_report::{Cell, Chart, ChartKind, Series};
use lgsp_store::{ExchangeCounts, RollupKey, RollupRow, RollupScope, ServiceFilter};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::AppState;
use crate::auth::Caller;
use crate::catalog::today;
use crate::catalog::Snapshot;
use crate::error::{ApiError, ErrorCode, ProblemDoc};
use crate::extract::Query;
use crate::provider::report::Period;

/// The period a dashboard shows when none is asked: the last 30 days, today included.
pub const DEFAULT_DAYS: i64 = 30;
/// How many services, datasets and agencies the ranking charts draw (the tables and CSV list
/// every one).
const CHART_TOP: usize = 15;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(dashboard_api))
        .routes(routes!(public_api))
}

/// The dashboard's filters, as the console's form and the API take them.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DashboardQuery {
    /// First day, `YYYY-MM-DD` (Viet Nam's day); with `to`. Default: 29 days before today.
    pub from: Option<String>,
    /// Last day, included; at most 366 days after `from`. Default: today.
    pub to: Option<String>,
    /// One agency's figures: the exchanges in which it is the provider or the consumer, its
    /// datasets, requests, reports, tickets and systems. Default: the province (operator,
    /// approver, auditor) or the caller's agency (an agency's administrator, who may ask for
    /// no other).
    pub agency: Option<String>,
    /// `json` (API default), `html` (console default) or `csv` (one chart's table, see
    /// `chart`).
    pub format: Option<String>,
    /// With `format=csv`: which table — `exchanges-per-day`, `latency`, `rates`, `providers`,
    /// `consumers`, `services`, `datasets`, `availability`, `stale-datasets`,
    /// `sharing-requests`, `error-reports`, `tickets`.
    pub chart: Option<String>,
}

impl DashboardQuery {
    /// The period asked for, or the last [`DEFAULT_DAYS`] days.
    pub fn period(&self) -> Result<Period, ApiError> {
        let blank = |v: &Option<String>| v.as_deref().is_none_or(|t| t.trim().is_empty());
        if blank(&self.from) && blank(&self.to) {
            let last = today();
            return Ok(Period {
                first: last - Duration::days(DEFAULT_DAYS - 1),
                last,
            });
        }
        Period::parse(self.from.as_deref(), self.to.as_deref())
    }

    /// The agency asked for (`None`: none, or left blank).
    pub fn agency(&self) -> Result<Option<AgencyCode>, ApiError> {
        match self.agency.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(code) => AgencyCode::parse(code).map(Some).map_err(|e| {
                ApiError::new(ErrorCode::InvalidParameter)
                    .detail(format!("`agency`: {e}"))
                    .with("parameter", serde_json::json!("agency"))
            }),
        }
    }
}

/// Whose figures the caller reads: the agency asked for or, for an agency's administrator, their
/// own; `None` (the province) for the operator, the approver and the auditor.
pub fn scope(caller: &Caller, asked: Option<AgencyCode>) -> Result<Option<AgencyCode>, ApiError> {
    if caller.actor == Actor::Anonymous {
        return Err(ApiError::new(ErrorCode::AuthenticationRequired));
    }
    let province_wide = matches!(
        caller.actor.role(),
        Some(Role::Operator | Role::Approver | Role::Auditor)
    );
    let agency = match asked {
        Some(agency) => Some(agency),
        None if province_wide => None,
        None => Some(
            caller
                .user
                .as_ref()
                .and_then(|u| u.assignment.agency().cloned())
                .ok_or_else(|| {
                    ApiError::new(ErrorCode::Forbidden)
                        .detail("the dashboard shows an agency's figures to its own people")
                })?,
        ),
    };
    caller
        .authorize(Action::Read, Resource::Statistics(agency.as_ref()))
        .map_err(|_| {
            ApiError::new(ErrorCode::Forbidden)
                .detail("an agency's administrators read their own agency's figures only")
        })?;
    Ok(agency)
}

/// Exchanges and how they ended, with latency percentiles.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Figures {
    pub exchanges: i64,
    /// Answered (no refusal code, status below 400).
    pub ok: i64,
    /// Refused: a 4xx status or a refusal code (no grant, quota, purpose…).
    pub refusals: i64,
    /// Failed: a 5xx status (provider unreachable, timeout…).
    pub errors: i64,
    /// Shares of all exchanges, 0 to 1.
    pub refusal_rate: f64,
    pub error_rate: f64,
    pub response_bytes: i64,
    /// Latency percentiles in milliseconds, estimated from a histogram with 1-2-5 buckets;
    /// absent without exchanges.
    pub latency_p50_ms: Option<f64>,
    pub latency_p95_ms: Option<f64>,
    pub latency_p99_ms: Option<f64>,
    pub latency_mean_ms: Option<f64>,
}

impl From<&ExchangeCounts> for Figures {
    fn from(c: &ExchangeCounts) -> Self {
        let (refusal_rate, error_rate) = c.rates();
        let ms = |q: f64| c.latency_quantile(q).map(|us| round(us / 1000.0, 1));
        Self {
            exchanges: c.exchanges,
            ok: c.ok,
            refusals: c.refusals,
            errors: c.errors,
            refusal_rate,
            error_rate,
            response_bytes: c.response_bytes,
            latency_p50_ms: ms(0.50),
            latency_p95_ms: ms(0.95),
            latency_p99_ms: ms(0.99),
            latency_mean_ms: (c.exchanges > 0)
                .then(|| round(c.latency_micros as f64 / c.exchanges as f64 / 1000.0, 1)),
        }
    }
}

fn round(x: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (x * scale).round() / scale
}

/// One day's figures.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DayFigures {
    pub day: NaiveDate,
    #[serde(flatten)]
    pub figures: Figures,
}

/// The figures of one agency, service or dataset (`key`), with its name.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KeyFigures {
    /// Agency code, `agency/system/service/version`, or empty when unknown (a refused
    /// request whose caller or target was not known).
    pub key: String,
    pub name: String,
    #[serde(flatten)]
    pub figures: Figures,
}

/// A dataset's use in the period.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DatasetUse {
    pub id: String,
    pub title: String,
    pub owner: String,
    /// Reads by systems through the platform (exchanges).
    pub reads: i64,
    /// Downloads of the whole dataset by people and visitors (CSV, XLSX, data package…).
    pub downloads: i64,
}

/// A dataset whose promised update is overdue (Q7.5).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StaleDataset {
    pub id: String,
    pub title: String,
    pub owner: String,
    /// The promised update frequency, in Vietnamese.
    pub frequency: String,
    /// The last change of its records (absent: never loaded).
    pub last_change: Option<NaiveDate>,
    /// The last day the update was on time.
    pub due_by: Option<NaiveDate>,
}

/// Sharing requests (Q16.1).
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct RequestFigures {
    /// Submitted in the period.
    pub received: i64,
    /// Approved, refused in the period (their last step).
    pub approved: i64,
    pub refused: i64,
    /// Waiting for the provider now, and of those past their answer period.
    pub pending: i64,
    pub overdue: i64,
    /// The overdue ones.
    pub overdue_requests: Vec<OverdueRequest>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OverdueRequest {
    pub id: i64,
    pub consumer: String,
    pub provider: String,
    pub respond_by: Option<DateTime<Utc>>,
}

/// Error reports on data (Q16.2.c) and their time to fix.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct ErrorReportFigures {
    /// Received in the period.
    pub received: i64,
    /// Fixed, rejected in the period.
    pub fixed: i64,
    pub rejected: i64,
    /// Not yet fixed or rejected now.
    pub unresolved: i64,
    /// Of those fixed in the period: hours from the report to the fix.
    pub time_to_fix_median_hours: Option<f64>,
    pub time_to_fix_mean_hours: Option<f64>,
}

/// Support tickets and disputes.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct TicketFigures {
    /// Opened in the period.
    pub opened: i64,
    /// Awaiting an answer now, and of those past their deadline.
    pub open: i64,
    pub overdue: i64,
}

/// A connected system's availability in the months the period touches (probes are kept per
/// month, UTC).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SystemAvailabilityFigures {
    pub agency: String,
    pub system: String,
    pub name: String,
    pub probes: i64,
    pub up: i64,
    /// Share of successful probes, in percent with two decimals.
    pub availability_percent: Option<f64>,
}

/// Everything the dashboard shows.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Dashboard {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// `None`: the province.
    pub agency: Option<String>,
    pub agency_name: Option<String>,
    pub totals: Figures,
    /// Every day of the period, in order (days without exchanges count zero).
    pub days: Vec<DayFigures>,
    /// Per provider agency and per consumer agency, most exchanges first.
    pub providers: Vec<KeyFigures>,
    pub consumers: Vec<KeyFigures>,
    /// Per service, most exchanges first.
    pub services: Vec<KeyFigures>,
    /// The most used datasets: reads by systems and downloads.
    pub datasets: Vec<DatasetUse>,
    pub stale_datasets: Vec<StaleDataset>,
    pub sharing_requests: RequestFigures,
    pub error_reports: ErrorReportFigures,
    pub tickets: TicketFigures,
    pub availability: Vec<SystemAvailabilityFigures>,
}

/// How many datasets the dashboard ranks.
const TOP_DATASETS: usize = 20;

fn key_figures(rows: Vec<RollupRow>, name: impl Fn(&str) -> String) -> Vec<KeyFigures> {
    rows.into_iter()
        .map(|row| KeyFigures {
            name: name(&row.key),
            figures: Figures::from(&row.counts),
            key: row.key,
        })
        .collect()
}

/// Sums by key as rows, most exchanges first.
fn ranked(sums: HashMap<String, ExchangeCounts>) -> Vec<RollupRow> {
    let mut rows: Vec<RollupRow> = sums
        .into_iter()
        .map(|(key, counts)| RollupRow { key, counts })
        .collect();
    rows.sort_by(|a, b| {
        b.counts
            .exchanges
            .cmp(&a.counts.exchanges)
            .then_with(|| a.key.cmp(&b.key))
    });
    rows
}

/// Reads the dashboard of `agency` (`None`: the province) over `period`.
pub async fn build(
    state: &AppState,
    period: Period,
    agency: Option<&AgencyCode>,
) -> Result<Dashboard, ApiError> {
    let store = &state.store;
    let rollups = RollupScope {
        first: period.first,
        last: period.last,
        agency: agency.map(AgencyCode::as_str),
    };
    let agencies: HashMap<String, String> = store
        .list_agencies()
        .await?
        .into_iter()
        .map(|a| (a.code.to_string(), a.name.to_string()))
        .collect();
    let agency_name = |code: &str| match code {
        "" => "Không xác định".to_owned(),
        code => agencies.get(code).cloned().unwrap_or_default(),
    };
    let services: HashMap<String, String> = store
        .list_services(&ServiceFilter::default())
        .await?
        .into_iter()
        .map(|s| {
            (
                format!(
                    "{}/{}/{}/{}",
                    s.provider.agency, s.provider.code, s.code, s.version
                ),
                s.name.to_string(),
            )
        })
        .collect();

    // One pass for the totals and the rankings, one for the days.
    let mut totals = ExchangeCounts::default();
    let mut by_provider: HashMap<String, ExchangeCounts> = HashMap::new();
    let mut by_consumer: HashMap<String, ExchangeCounts> = HashMap::new();
    let mut by_target: HashMap<String, ExchangeCounts> = HashMap::new();
    for route in store.exchange_routes(&rollups).await? {
        totals.merge(&route.counts);
        for (map, key) in [
            (&mut by_provider, route.provider),
            (&mut by_consumer, route.consumer),
            (&mut by_target, route.target),
        ] {
            map.entry(key).or_default().merge(&route.counts);
        }
    }
    let totals = Figures::from(&totals);
    let by_day: HashMap<String, ExchangeCounts> = store
        .exchange_rollups(&rollups, RollupKey::Day)
        .await?
        .into_iter()
        .map(|r| (r.key, r.counts))
        .collect();
    let days = period
        .first
        .iter_days()
        .take_while(|d| *d <= period.last)
        .map(|day| DayFigures {
            figures: Figures::from(
                &by_day
                    .get(&day.format("%Y-%m-%d").to_string())
                    .cloned()
                    .unwrap_or_default(),
            ),
            day,
        })
        .collect();
    let providers = key_figures(ranked(by_provider), agency_name);
    let consumers = key_figures(ranked(by_consumer), agency_name);
    let targets = ranked(by_target);
    let mut reads: HashMap<String, i64> = HashMap::new();
    let mut service_rows = Vec::new();
    for row in targets {
        match row.key.strip_prefix("dataset:") {
            Some(id) => {
                reads.insert(id.to_owned(), row.counts.exchanges);
            }
            None => service_rows.push(row),
        }
    }
    let services = key_figures(service_rows, |key| match key {
        "" => "Không xác định".to_owned(),
        key => services.get(key).cloned().unwrap_or_default(),
    });

    let snapshot = Snapshot::load(state, today()).await?;
    let owned = |owner: &str| agency.is_none_or(|a| a.as_str() == owner);
    let downloads: HashMap<String, i64> = store
        .dataset_downloads(period.first, period.last)
        .await?
        .into_iter()
        .collect();
    let mut datasets: Vec<DatasetUse> = snapshot
        .datasets
        .iter()
        .filter_map(|d| {
            let id = d.dataset.id.as_str();
            let read = reads.get(id).copied().unwrap_or(0);
            // An agency sees its own datasets' downloads, and the datasets it read or whose
            // reads it served (already scoped by the rollups).
            let downloaded = if owned(&d.owner) {
                downloads.get(id).copied().unwrap_or(0)
            } else {
                0
            };
            (read + downloaded > 0).then(|| DatasetUse {
                id: id.to_owned(),
                title: d.dataset.title.to_string(),
                owner: d.owner.clone(),
                reads: read,
                downloads: downloaded,
            })
        })
        .collect();
    datasets.sort_by(|a, b| {
        (b.reads + b.downloads)
            .cmp(&(a.reads + a.downloads))
            .then_with(|| a.id.cmp(&b.id))
    });
    datasets.truncate(TOP_DATASETS);
    let stale_datasets = snapshot
        .datasets
        .iter()
        .filter(|d| d.stale && owned(&d.owner))
        .map(|d| StaleDataset {
            id: d.dataset.id.to_string(),
            title: d.dataset.title.to_string(),
            owner: d.owner.clone(),
            frequency: d.dataset.update_frequency.label_vi().to_owned(),
            last_change: d.last_change_at.map(lgsp_store::vietnam_day),
            due_by: d.due_by,
        })
        .collect();

    let (start, end) = period.bounds();
    let within = |at: DateTime<Utc>| at >= start && at < end;
    let mut sharing_requests = RequestFigures::default();
    for r in store.list_sharing_requests(agency, None).await? {
        sharing_requests.received += i64::from(within(r.created_at));
        match r.state {
            RequestState::Approved if within(r.updated_at) => sharing_requests.approved += 1,
            RequestState::Refused if within(r.updated_at) => sharing_requests.refused += 1,
            RequestState::Pending => {
                sharing_requests.pending += 1;
                if r.overdue {
                    sharing_requests.overdue += 1;
                    sharing_requests.overdue_requests.push(OverdueRequest {
                        id: r.id,
                        consumer: r.consumer.to_string(),
                        provider: r.provider.to_string(),
                        respond_by: r.respond_by,
                    });
                }
            }
            _ => {}
        }
    }
    let mut error_reports = ErrorReportFigures::default();
    let mut fix_hours = Vec::new();
    for r in store.error_reports_to(agency).await? {
        error_reports.received += i64::from(within(r.created_at));
        let resolved_within = r.resolved_at.is_some_and(within);
        match r.state {
            ReportState::Fixed if resolved_within => {
                error_reports.fixed += 1;
                if let Some(seconds) = r.time_to_fix_seconds {
                    fix_hours.push(seconds as f64 / 3600.0);
                }
            }
            ReportState::Rejected if resolved_within => error_reports.rejected += 1,
            ReportState::Open | ReportState::Acknowledged => error_reports.unresolved += 1,
            _ => {}
        }
    }
    if !fix_hours.is_empty() {
        fix_hours.sort_by(f64::total_cmp);
        let n = fix_hours.len();
        let median = if n % 2 == 1 {
            fix_hours[n / 2]
        } else {
            (fix_hours[n / 2 - 1] + fix_hours[n / 2]) / 2.0
        };
        error_reports.time_to_fix_median_hours = Some(round(median, 1));
        error_reports.time_to_fix_mean_hours =
            Some(round(fix_hours.iter().sum::<f64>() / n as f64, 1));
    }
    let mut tickets = TicketFigures::default();
    for t in store.list_tickets(agency).await? {
        tickets.opened += i64::from(within(t.created_at));
        if t.state.awaits_answer() {
            tickets.open += 1;
            tickets.overdue += i64::from(t.overdue);
        }
    }
    let availability = store
        .availability_between(
            &period.first.format("%Y-%m").to_string(),
            &period.last.format("%Y-%m").to_string(),
            agency.map(AgencyCode::as_str),
        )
        .await?
        .into_iter()
        .map(|a| SystemAvailabilityFigures {
            availability_percent: (a.probes > 0)
                .then(|| round(a.up as f64 * 100.0 / a.probes as f64, 2)),
            agency: a.agency,
            system: a.code,
            name: a.name,
            probes: a.probes,
            up: a.up,
        })
        .collect();

    Ok(Dashboard {
        from: period.first,
        to: period.last,
        agency: agency.map(ToString::to_string),
        agency_name: agency.map(|a| agency_name(a.as_str())),
        totals,
        days,
        providers,
        consumers,
        services,
        datasets,
        stale_datasets,
        sharing_requests,
        error_reports,
        tickets,
        availability,
    })
}

/// One chart of the dashboard with its table: what the page draws and what the CSV holds.
pub struct Section {
    /// Its name in `?chart=` and its anchor on the page.
    pub name: &'static str,
    pub title: String,
    /// The chart, and whether it is drawn as horizontal bars (rankings).
    pub chart: Option<(Chart, bool)>,
    pub columns: Vec<&'static str>,
    pub rows: Vec<Vec<Cell>>,
}

impl Section {
    /// The chart as inline SVG.
    pub fn svg(&self) -> Option<String> {
        self.chart.as_ref().map(|(chart, horizontal)| {
            if *horizontal {
                lgsp_report::svg::render_horizontal(chart)
            } else {
                lgsp_report::svg::render(chart)
            }
        })
    }
}

fn day_vi(day: NaiveDate) -> String {
    day.format("%d/%m/%Y").to_string()
}

fn optional(x: Option<f64>, decimals: u8) -> Cell {
    x.map_or(Cell::Empty, |x| Cell::Decimal(x, decimals))
}

fn counts_cells(f: &Figures) -> Vec<Cell> {
    vec![
        Cell::Integer(f.exchanges),
        Cell::Integer(f.ok),
        Cell::Integer(f.refusals),
        Cell::Integer(f.errors),
        optional(f.latency_p95_ms, 1),
    ]
}

fn ranking(
    name: &'static str,
    title: &str,
    first_column: &'static str,
    rows: &[KeyFigures],
) -> Section {
    let top: Vec<&KeyFigures> = rows.iter().take(CHART_TOP).collect();
    let label = |k: &KeyFigures| match (k.key.as_str(), k.name.as_str()) {
        ("", _) => "Không xác định".to_owned(),
        (key, "") => key.to_owned(),
        // The table beside the chart gives the code.
        (_, name) => name.to_owned(),
    };
    let chart = Chart {
        kind: ChartKind::Bars,
        caption: title.to_owned(),
        unit: "lượt trao đổi".into(),
        categories: top.iter().map(|k| label(k)).collect(),
        series: vec![
            Series {
                name: "Thành công".into(),
                values: top.iter().map(|k| k.figures.ok as f64).collect(),
            },
            Series {
                name: "Bị từ chối".into(),
                values: top.iter().map(|k| k.figures.refusals as f64).collect(),
            },
            Series {
                name: "Lỗi".into(),
                values: top.iter().map(|k| k.figures.errors as f64).collect(),
            },
        ],
    };
    Section {
        name,
        title: title.to_owned(),
        chart: (!rows.is_empty()).then_some((chart, true)),
        columns: vec![
            first_column,
            "Tên",
            "Tổng",
            "Thành công",
            "Bị từ chối",
            "Lỗi",
            "Độ trễ p95 (ms)",
        ],
        rows: rows
            .iter()
            .map(|k| {
                let mut cells = vec![
                    Cell::Text(if k.key.is_empty() {
                        "Không xác định".into()
                    } else {
                        k.key.clone()
                    }),
                    Cell::Text(k.name.clone()),
                ];
                cells.extend(counts_cells(&k.figures));
                cells
            })
            .collect(),
    }
}

impl Dashboard {
    /// The dashboard's charts and tables, in the page's order.
    pub fn sections(&self) -> Vec<Section> {
        let day_labels: Vec<String> = self
            .days
            .iter()
            .map(|d| d.day.format("%d/%m").to_string())
            .collect();
        let per_day = |f: fn(&Figures) -> f64| -> Vec<f64> {
            self.days.iter().map(|d| f(&d.figures)).collect()
        };
        let lines = |caption: &str, unit: &str, series: Vec<Series>| Chart {
            kind: ChartKind::Lines,
            caption: caption.to_owned(),
            unit: unit.to_owned(),
            categories: day_labels.clone(),
            series,
        };
        let series = |name: &str, values: Vec<f64>| Series {
            name: name.to_owned(),
            values,
        };
        let nan = |x: Option<f64>| x.unwrap_or(f64::NAN);
        let mut sections = vec![
            Section {
                name: "exchanges-per-day",
                title: "Lượt trao đổi dữ liệu theo ngày".into(),
                chart: Some((
                    lines(
                        "Lượt trao đổi dữ liệu theo ngày",
                        "lượt trao đổi",
                        vec![
                            series("Tổng", per_day(|f| f.exchanges as f64)),
                            series("Thành công", per_day(|f| f.ok as f64)),
                            series("Bị từ chối", per_day(|f| f.refusals as f64)),
                            series("Lỗi", per_day(|f| f.errors as f64)),
                        ],
                    ),
                    false,
                )),
                columns: vec!["Ngày", "Tổng", "Thành công", "Bị từ chối", "Lỗi"],
                rows: self
                    .days
                    .iter()
                    .map(|d| {
                        vec![
                            Cell::Text(day_vi(d.day)),
                            Cell::Integer(d.figures.exchanges),
                            Cell::Integer(d.figures.ok),
                            Cell::Integer(d.figures.refusals),
                            Cell::Integer(d.figures.errors),
                        ]
                    })
                    .collect(),
            },
            Section {
                name: "latency",
                title: "Độ trễ qua cổng (p50, p95, p99)".into(),
                chart: Some((
                    lines(
                        "Độ trễ qua cổng theo ngày",
                        "mili giây",
                        vec![
                            series("p50", per_day(|f| f.latency_p50_ms.unwrap_or(f64::NAN))),
                            series("p95", per_day(|f| f.latency_p95_ms.unwrap_or(f64::NAN))),
                            series("p99", per_day(|f| f.latency_p99_ms.unwrap_or(f64::NAN))),
                        ],
                    ),
                    false,
                )),
                columns: vec!["Ngày", "p50 (ms)", "p95 (ms)", "p99 (ms)"],
                rows: self
                    .days
                    .iter()
                    .map(|d| {
                        vec![
                            Cell::Text(day_vi(d.day)),
                            optional(d.figures.latency_p50_ms, 1),
                            optional(d.figures.latency_p95_ms, 1),
                            optional(d.figures.latency_p99_ms, 1),
                        ]
                    })
                    .collect(),
            },
            Section {
                name: "rates",
                title: "Tỷ lệ bị từ chối và tỷ lệ lỗi".into(),
                chart: Some((
                    lines(
                        "Tỷ lệ bị từ chối và tỷ lệ lỗi theo ngày",
                        "%",
                        vec![
                            series("Bị từ chối (%)", per_day(|f| f.refusal_rate * 100.0)),
                            series("Lỗi (%)", per_day(|f| f.error_rate * 100.0)),
                        ],
                    ),
                    false,
                )),
                columns: vec!["Ngày", "Tổng", "Tỷ lệ bị từ chối", "Tỷ lệ lỗi"],
                rows: self
                    .days
                    .iter()
                    .map(|d| {
                        vec![
                            Cell::Text(day_vi(d.day)),
                            Cell::Integer(d.figures.exchanges),
                            Cell::Percent(d.figures.refusal_rate),
                            Cell::Percent(d.figures.error_rate),
                        ]
                    })
                    .collect(),
            },
            ranking(
                "providers",
                "Theo cơ quan cung cấp",
                "Cơ quan cung cấp",
                &self.providers,
            ),
            ranking(
                "consumers",
                "Theo cơ quan khai thác",
                "Cơ quan khai thác",
                &self.consumers,
            ),
            ranking("services", "Theo dịch vụ", "Dịch vụ", &self.services),
        ];
        let top: Vec<&DatasetUse> = self.datasets.iter().take(CHART_TOP).collect();
        sections.push(Section {
            name: "datasets",
            title: "Bộ dữ liệu được khai thác nhiều nhất".into(),
            chart: (!top.is_empty()).then(|| {
                (
                    Chart {
                        kind: ChartKind::Bars,
                        caption: "Bộ dữ liệu được khai thác nhiều nhất".into(),
                        unit: "lượt".into(),
                        categories: top.iter().map(|d| d.title.clone()).collect(),
                        series: vec![
                            series(
                                "Lượt đọc qua nền tảng",
                                top.iter().map(|d| d.reads as f64).collect(),
                            ),
                            series("Lượt tải", top.iter().map(|d| d.downloads as f64).collect()),
                        ],
                    },
                    true,
                )
            }),
            columns: vec![
                "Mã",
                "Bộ dữ liệu",
                "Cơ quan chủ quản",
                "Lượt đọc qua nền tảng",
                "Lượt tải",
            ],
            rows: self
                .datasets
                .iter()
                .map(|d| {
                    vec![
                        Cell::Text(d.id.clone()),
                        Cell::Text(d.title.clone()),
                        Cell::Text(d.owner.clone()),
                        Cell::Integer(d.reads),
                        Cell::Integer(d.downloads),
                    ]
                })
                .collect(),
        });
        sections.push(Section {
            name: "availability",
            title: "Tỷ lệ hoạt động của hệ thống kết nối".into(),
            chart: (!self.availability.is_empty()).then(|| {
                (
                    Chart {
                        kind: ChartKind::Bars,
                        caption: "Tỷ lệ hoạt động của hệ thống kết nối".into(),
                        unit: "%".into(),
                        categories: self
                            .availability
                            .iter()
                            .map(|a| format!("{} ({}/{})", a.name, a.agency, a.system))
                            .collect(),
                        series: vec![series(
                            "Tỷ lệ hoạt động (%)",
                            self.availability
                                .iter()
                                .map(|a| nan(a.availability_percent))
                                .collect(),
                        )],
                    },
                    true,
                )
            }),
            columns: vec![
                "Cơ quan",
                "Hệ thống",
                "Tên",
                "Lần kiểm tra",
                "Hoạt động",
                "Tỷ lệ hoạt động",
            ],
            rows: self
                .availability
                .iter()
                .map(|a| {
                    vec![
                        Cell::Text(a.agency.clone()),
                        Cell::Text(a.system.clone()),
                        Cell::Text(a.name.clone()),
                        Cell::Integer(a.probes),
                        Cell::Integer(a.up),
                        a.availability_percent
                            .map_or(Cell::Empty, |p| Cell::Percent(p / 100.0)),
                    ]
                })
                .collect(),
        });
        sections.push(Section {
            name: "stale-datasets",
            title: "Bộ dữ liệu chậm cập nhật".into(),
            chart: None,
            columns: vec![
                "Mã",
                "Bộ dữ liệu",
                "Cơ quan chủ quản",
                "Tần suất cập nhật",
                "Cập nhật lần cuối",
                "Hạn cập nhật",
            ],
            rows: self
                .stale_datasets
                .iter()
                .map(|d| {
                    vec![
                        Cell::Text(d.id.clone()),
                        Cell::Text(d.title.clone()),
                        Cell::Text(d.owner.clone()),
                        Cell::Text(d.frequency.clone()),
                        d.last_change
                            .map_or(Cell::Text("Chưa nạp dữ liệu".into()), |d| {
                                Cell::Text(day_vi(d))
                            }),
                        d.due_by.map_or(Cell::Empty, |d| Cell::Text(day_vi(d))),
                    ]
                })
                .collect(),
        });
        let r = &self.sharing_requests;
        let mut request_rows = vec![
            figure("Tiếp nhận trong kỳ", r.received),
            figure("Chấp thuận trong kỳ", r.approved),
            figure("Từ chối trong kỳ", r.refused),
            figure("Đang chờ trả lời", r.pending),
            figure("Quá hạn trả lời", r.overdue),
        ];
        request_rows.extend(r.overdue_requests.iter().map(|o| {
            vec![
                Cell::Text(format!(
                    "Quá hạn: yêu cầu số {} của {} gửi {}{}",
                    o.id,
                    o.consumer,
                    o.provider,
                    o.respond_by
                        .map(|at| format!(
                            ", hạn trả lời {}",
                            crate::portal::view::date_time_vi(at)
                        ))
                        .unwrap_or_default()
                )),
                Cell::Empty,
            ]
        }));
        sections.push(Section {
            name: "sharing-requests",
            title: "Yêu cầu chia sẻ dữ liệu".into(),
            chart: None,
            columns: vec!["Chỉ tiêu", "Số lượng"],
            rows: request_rows,
        });
        let e = &self.error_reports;
        sections.push(Section {
            name: "error-reports",
            title: "Phản ánh sai sót dữ liệu và thời gian khắc phục".into(),
            chart: None,
            columns: vec!["Chỉ tiêu", "Số lượng"],
            rows: vec![
                figure("Tiếp nhận trong kỳ", e.received),
                figure("Đã khắc phục trong kỳ", e.fixed),
                figure("Không chấp nhận trong kỳ", e.rejected),
                figure("Chưa xử lý xong", e.unresolved),
                vec![
                    Cell::Text("Thời gian khắc phục trung vị (giờ)".into()),
                    optional(e.time_to_fix_median_hours, 1),
                ],
                vec![
                    Cell::Text("Thời gian khắc phục trung bình (giờ)".into()),
                    optional(e.time_to_fix_mean_hours, 1),
                ],
            ],
        });
        let t = &self.tickets;
        sections.push(Section {
            name: "tickets",
            title: "Phiếu hỗ trợ, khiếu nại".into(),
            chart: None,
            columns: vec!["Chỉ tiêu", "Số lượng"],
            rows: vec![
                figure("Mở trong kỳ", t.opened),
                figure("Đang chờ trả lời", t.open),
                figure("Quá hạn trả lời", t.overdue),
            ],
        });
        sections
    }
}

fn figure(label: &str, n: i64) -> Vec<Cell> {
    vec![Cell::Text(label.to_owned()), Cell::Integer(n)]
}

/// A section's table as CSV (UTF-8 with a byte-order mark so that spreadsheets read the
/// diacritics): numbers without grouping, decimals with a point, percentages in percent.
pub fn csv(section: &Section) -> Result<Vec<u8>, ApiError> {
    let mut writer = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    writer
        .write_record(&section.columns)
        .map_err(ApiError::internal)?;
    for row in &section.rows {
        let cells: Vec<String> = row
            .iter()
            .map(|cell| match cell {
                Cell::Text(text) => text.clone(),
                Cell::Integer(n) => n.to_string(),
                Cell::Decimal(x, decimals) => format!("{x:.*}", usize::from(*decimals)),
                Cell::Percent(x) => format!("{:.2}", x * 100.0),
                Cell::Empty => String::new(),
            })
            .collect();
        writer.write_record(&cells).map_err(ApiError::internal)?;
    }
    writer.into_inner().map_err(ApiError::internal)
}

/// The CSV download of the table `chart` of `dashboard`, or `invalid_parameter`.
pub fn csv_download(dashboard: &Dashboard, chart: Option<&str>) -> Result<Response, ApiError> {
    let sections = dashboard.sections();
    let names: Vec<&str> = sections.iter().map(|s| s.name).collect();
    let section = chart
        .and_then(|name| sections.iter().find(|s| s.name == name))
        .ok_or_else(|| {
            ApiError::new(ErrorCode::InvalidParameter)
                .detail(format!("`chart`: one of {}", names.join(", ")))
                .with("parameter", serde_json::json!("chart"))
        })?;
    let name = format!(
        "thong-ke_{}_{}_{}_{}",
        section.name,
        dashboard.agency.as_deref().unwrap_or("toan-tinh"),
        dashboard.from,
        dashboard.to
    );
    Ok((
        [
            (CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}.csv\""),
            ),
        ],
        csv(section)?,
    )
        .into_response())
}

/// The dashboard's figures (Q7.5, Q15.2.e): exchanges per day, per provider and consumer
/// agency and per service, with outcomes and latency percentiles; the most used datasets;
/// datasets overdue for an update; sharing requests; error reports and their time to fix;
/// tickets; connected systems' availability. The operator, the approver and the auditor read
/// the province's or any agency's; an agency's administrators their own agency's only
/// (another agency: 403). `format=csv&chart=<name>` downloads one table.
#[utoipa::path(get, path = "/statistics/dashboard", tag = "statistics", params(DashboardQuery),
    responses((status = 200, body = Dashboard, description = "JSON, or `text/csv` with `format=csv`"),
        (status = 400, body = ProblemDoc, description = "`invalid_period`, `invalid_parameter`"),
        (status = 401, body = ProblemDoc), (status = 403, body = ProblemDoc)))]
async fn dashboard_api(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<DashboardQuery>,
) -> Result<Response, ApiError> {
    let agency = scope(&caller, query.agency()?)?;
    let period = query.period()?;
    let format = query.format.as_deref().unwrap_or("json");
    if !["json", "csv"].contains(&format) {
        return Err(ApiError::new(ErrorCode::InvalidParameter)
            .detail("`format`: json or csv")
            .with("parameter", serde_json::json!("format")));
    }
    let dashboard = build(&state, period, agency.as_ref()).await?;
    if format == "csv" {
        return csv_download(&dashboard, query.chart.as_deref());
    }
    Ok(axum::Json(dashboard).into_response())
}

/// The platform's open statistics, for anyone.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublicStatistics {
    /// The last 30 days, today included.
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Datasets in the catalog in force today, and of those open data and public data.
    pub datasets: i64,
    pub open_datasets: i64,
    pub public_datasets: i64,
    /// Published services.
    pub services: i64,
    /// Agencies with at least one information system connected to the platform.
    pub agencies_connected: i64,
    /// Systems registered.
    pub systems: i64,
    /// Downloads of whole datasets and exchanges through the platform in the period.
    pub downloads: i64,
    pub exchanges: i64,
    /// Open and public datasets by downloads in the period, most first.
    pub most_downloaded: Vec<DatasetUse>,
}

/// Reads the open statistics.
pub async fn public_statistics(state: &AppState) -> Result<PublicStatistics, ApiError> {
    let to = today();
    let from = to - Duration::days(DEFAULT_DAYS - 1);
    let snapshot = Snapshot::load(state, to).await?;
    let openness = |d: &crate::catalog::PublishedDataset| d.dataset.access_level;
    let count = |level: AccessLevel| {
        snapshot
            .datasets
            .iter()
            .filter(|d| openness(d) == level)
            .count() as i64
    };
    let systems = state.store.list_systems(None).await?;
    let mut connected: Vec<String> = systems.iter().map(|s| s.agency.to_string()).collect();
    connected.sort_unstable();
    connected.dedup();
    let services = state
        .store
        .list_services(&ServiceFilter {
            state: Some(lgsp_core::service::ServiceState::Published),
            ..ServiceFilter::default()
        })
        .await?;
    let downloads: BTreeMap<String, i64> = state
        .store
        .dataset_downloads(from, to)
        .await?
        .into_iter()
        .collect();
    let mut most_downloaded: Vec<DatasetUse> = snapshot
        .datasets
        .iter()
        .filter(|d| matches!(openness(d), AccessLevel::Open | AccessLevel::Public))
        .filter_map(|d| {
            let n = downloads.get(d.dataset.id.as_str()).copied()?;
            Some(DatasetUse {
                id: d.dataset.id.to_string(),
                title: d.dataset.title.to_string(),
                owner: d.owner_name.clone(),
                reads: 0,
                downloads: n,
            })
        })
        .collect();
    most_downloaded.sort_by(|a, b| b.downloads.cmp(&a.downloads).then_with(|| a.id.cmp(&b.id)));
    most_downloaded.truncate(10);
    let total = state
        .store
        .exchange_rollups(
            &RollupScope {
                first: from,
                last: to,
                agency: None,
            },
            RollupKey::Total,
        )
        .await?;
    Ok(PublicStatistics {
        from,
        to,
        datasets: snapshot.datasets.len() as i64,
        open_datasets: count(AccessLevel::Open),
        public_datasets: count(AccessLevel::Public),
        services: services.len() as i64,
        agencies_connected: connected.len() as i64,
        systems: systems.len() as i64,
        downloads: downloads.values().sum(),
        exchanges: total.first().map_or(0, |r| r.counts.exchanges),
        most_downloaded,
    })
}

/// The platform's open statistics over the last 30 days: datasets in the catalog (open and
/// public), published services, agencies connected, downloads and exchanges, the most
/// downloaded open datasets. Anyone may read them.
#[utoipa::path(get, path = "/statistics/public", tag = "statistics",
    responses((status = 200, body = PublicStatistics)))]
async fn public_api(
    State(state): State<AppState>,
) -> Result<axum::Json<PublicStatistics>, ApiError> {
    Ok(axum::Json(public_statistics(&state).await?))
}
