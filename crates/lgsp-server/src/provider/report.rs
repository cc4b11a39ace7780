//! The provider's report on provision and exchange (Q15.2.e): exchanges through the gateway
//! per day, consumer system, service or dataset and purpose, served and refused, with the
//! bytes served, for any period — from the exchange index, which is written in the transaction
//! that appends the exchanges' leaves to the transparency log, so it counts exactly what the
//! log holds. As JSON, CSV or XLSX.

use axum::extract::State;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use lgsp_core::calendar::VIETNAM;
use lgsp_core::{Action, AgencyCode, Role};
use lgsp_store::{ExchangeScope, ExchangeStat};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::provider_resource;
use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorCode, ProblemDoc};
use crate::extract::Query;

/// The longest period one report covers.
pub const MAX_DAYS: i64 = 366;

const XLSX_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(exchange_report))
}

/// A report's period: whole days in Vietnam, both included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub first: NaiveDate,
    pub last: NaiveDate,
}

impl Period {
    /// Parses `from` and `to` (`YYYY-MM-DD`), or `invalid_period`.
    pub fn parse(from: Option<&str>, to: Option<&str>) -> Result<Self, ApiError> {
        let invalid = |detail: String| ApiError::new(ErrorCode::InvalidPeriod).detail(detail);
        let day = |name: &str, text: Option<&str>| {
            let text = text
                .filter(|t| !t.trim().is_empty())
                .ok_or_else(|| invalid(format!("`{name}` is missing")))?;
            NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
                .map_err(|_| invalid(format!("`{name}`: `{text}` is not a date YYYY-MM-DD")))
        };
        let first = day("from", from)?;
        let last = day("to", to)?;
        if first > last {
            return Err(invalid("`from` is after `to`".into()));
        }
        if (last - first).num_days() >= MAX_DAYS {
            return Err(invalid(format!(
                "a report covers at most {MAX_DAYS} days: split the period"
            )));
        }
        Ok(Self { first, last })
    }

    fn midnight(day: NaiveDate) -> DateTime<Utc> {
        day.and_hms_opt(0, 0, 0)
            .and_then(|t| t.and_local_timezone(VIETNAM).single())
            .map_or(DateTime::<Utc>::MIN_UTC, |t| t.with_timezone(&Utc))
    }

    /// The instants `[start, end)` the period covers.
    pub fn bounds(&self) -> (DateTime<Utc>, DateTime<Utc>) {
        (
            Self::midnight(self.first),
            Self::midnight(self.last + Duration::days(1)),
        )
    }
}

/// `YYYY-MM-DD` as `dd/mm/yyyy`.
pub fn day_vi(day: &str) -> String {
    NaiveDate::parse_from_str(day, "%Y-%m-%d")
        .map(|d| d.format("%d/%m/%Y").to_string())
        .unwrap_or_else(|_| day.to_owned())
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    /// First day, `YYYY-MM-DD` (Vietnam's day).
    pub from: Option<String>,
    /// Last day, included.
    pub to: Option<String>,
    /// The provider agency; default: the caller's agency (every provider for the operator and
    /// the auditor).
    #[param(value_type = Option<String>)]
    pub provider: Option<AgencyCode>,
    /// Only exchanges of this consumer agency.
    #[param(value_type = Option<String>)]
    pub consumer_agency: Option<AgencyCode>,
    /// `json` (default), `csv` or `xlsx`.
    pub format: Option<String>,
}

/// Exchange counts in a period.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExchangeReport {
    /// First day, `YYYY-MM-DD`.
    pub from: NaiveDate,
    /// Last day, included.
    pub to: NaiveDate,
    /// `None`: every provider.
    pub provider: Option<String>,
    pub consumer_agency: Option<String>,
    /// Per day, consumer system, target and purpose.
    pub rows: Vec<ExchangeStat>,
    /// Per consumer system and target over the period.
    pub totals: Vec<ExchangeStat>,
}

/// The provider whose exchanges the caller may read: the one asked for, or the caller's
/// agency; `None` (every provider) for the operator and the auditor only.
pub fn scope(caller: &Caller, asked: Option<AgencyCode>) -> Result<Option<AgencyCode>, ApiError> {
    if caller.actor == lgsp_core::Actor::Anonymous {
        return Err(ApiError::new(ErrorCode::AuthenticationRequired));
    }
    let provider = match asked {
        Some(provider) => Some(provider),
        None => match caller.actor.role() {
            Some(Role::Operator | Role::Auditor) => None,
            _ => Some(
                caller
                    .user
                    .as_ref()
                    .and_then(|u| u.assignment.agency().cloned())
                    .ok_or_else(|| {
                        ApiError::new(ErrorCode::Forbidden)
                            .detail("only a provider agency's people read its report")
                    })?,
            ),
        },
    };
    match &provider {
        Some(agency) => caller.authorize(Action::Read, provider_resource(agency))?,
        None => caller.authorize(Action::Read, lgsp_core::Resource::SecurityEvents)?,
    }
    Ok(provider)
}

/// Reads the report.
pub async fn build(
    state: &AppState,
    period: Period,
    provider: Option<&AgencyCode>,
    consumer_agency: Option<&AgencyCode>,
) -> Result<ExchangeReport, ApiError> {
    let (from, to) = period.bounds();
    let rows = state
        .store
        .exchange_stats(&ExchangeScope {
            from,
            to,
            provider: provider.map(AgencyCode::as_str),
            consumer_agency: consumer_agency.map(AgencyCode::as_str),
            consumer_system: None,
            target: None,
        })
        .await?;
    Ok(ExchangeReport {
        from: period.first,
        to: period.last,
        provider: provider.map(ToString::to_string),
        consumer_agency: consumer_agency.map(ToString::to_string),
        totals: totals(&rows),
        rows,
    })
}

/// Sums rows per consumer system and target (the day and the purpose left out).
pub fn totals(rows: &[ExchangeStat]) -> Vec<ExchangeStat> {
    let mut sums: std::collections::BTreeMap<_, ExchangeStat> = std::collections::BTreeMap::new();
    for row in rows {
        let key = (
            row.consumer_agency.clone(),
            row.consumer_system.clone(),
            row.provider_agency.clone(),
            row.target.clone(),
        );
        let sum = sums.entry(key).or_insert_with(|| ExchangeStat {
            day: String::new(),
            purpose: None,
            served: 0,
            refused: 0,
            bytes: 0,
            ..row.clone()
        });
        sum.served += row.served;
        sum.refused += row.refused;
        sum.bytes += row.bytes;
    }
    sums.into_values().collect()
}

fn or_unknown(value: &Option<String>) -> &str {
    value.as_deref().unwrap_or("Không xác định")
}

const HEADER: [&str; 9] = [
    "Ngày",
    "Cơ quan khai thác",
    "Hệ thống khai thác",
    "Cơ quan cung cấp",
    "Dịch vụ / bộ dữ liệu",
    "Mục đích",
    "Thành công",
    "Bị từ chối hoặc lỗi",
    "Dung lượng trả về (byte)",
];

fn text_cells(row: &ExchangeStat) -> [String; 6] {
    [
        day_vi(&row.day),
        or_unknown(&row.consumer_agency).to_owned(),
        or_unknown(&row.consumer_system).to_owned(),
        or_unknown(&row.provider_agency).to_owned(),
        or_unknown(&row.target).to_owned(),
        row.purpose.clone().unwrap_or_default(),
    ]
}

/// The daily rows as CSV with a Vietnamese header (UTF-8 with a byte-order mark, so that
/// spreadsheet programs read the diacritics).
pub fn csv(report: &ExchangeReport) -> Result<Vec<u8>, ApiError> {
    let mut writer = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    writer.write_record(HEADER).map_err(ApiError::internal)?;
    for row in &report.rows {
        let mut cells: Vec<String> = text_cells(row).into();
        cells.extend([
            row.served.to_string(),
            row.refused.to_string(),
            row.bytes.to_string(),
        ]);
        writer.write_record(&cells).map_err(ApiError::internal)?;
    }
    writer.into_inner().map_err(ApiError::internal)
}

/// A workbook: the totals per consumer and resource, the daily rows, and what the report is.
pub fn xlsx(report: &ExchangeReport) -> Result<Vec<u8>, ApiError> {
    use rust_xlsxwriter::{Format as Style, Workbook, Worksheet};
    let fail = |e: rust_xlsxwriter::XlsxError| ApiError::internal(e);
    let bold = Style::new().set_bold();
    let fill = |sheet: &mut Worksheet, rows: &[ExchangeStat], with_day: bool| {
        let skip = usize::from(!with_day);
        for (c, title) in HEADER.iter().enumerate().skip(skip) {
            sheet.write_string_with_format(0, (c - skip) as u16, *title, &bold)?;
        }
        for (r, row) in rows.iter().enumerate() {
            let r = r as u32 + 1;
            let cells = text_cells(row);
            for (c, cell) in cells.iter().enumerate().skip(skip) {
                sheet.write_string(r, (c - skip) as u16, cell)?;
            }
            let base = (cells.len() - skip) as u16;
            sheet.write_number(r, base, row.served as f64)?;
            sheet.write_number(r, base + 1, row.refused as f64)?;
            sheet.write_number(r, base + 2, row.bytes as f64)?;
        }
        sheet.set_column_width(4 - skip as u16, 48)?;
        Ok::<(), rust_xlsxwriter::XlsxError>(())
    };
    let mut workbook = Workbook::new();
    let summary = workbook.add_worksheet();
    summary.set_name("Tổng hợp").map_err(fail)?;
    fill(summary, &report.totals, false).map_err(fail)?;
    let daily = workbook.add_worksheet();
    daily.set_name("Theo ngày").map_err(fail)?;
    fill(daily, &report.rows, true).map_err(fail)?;
    let about = workbook.add_worksheet();
    about.set_name("Thông tin báo cáo").map_err(fail)?;
    let lines = [
        (
            "Báo cáo",
            "Tình hình cung cấp, trao đổi dữ liệu qua LGSP".to_owned(),
        ),
        (
            "Kỳ báo cáo",
            format!(
                "{} – {}",
                report.from.format("%d/%m/%Y"),
                report.to.format("%d/%m/%Y")
            ),
        ),
        (
            "Cơ quan cung cấp",
            report
                .provider
                .clone()
                .unwrap_or_else(|| "Tất cả".to_owned()),
        ),
        (
            "Cơ quan khai thác",
            report
                .consumer_agency
                .clone()
                .unwrap_or_else(|| "Tất cả".to_owned()),
        ),
        (
            "Nguồn số liệu",
            "Nhật ký minh bạch của nền tảng (các lần trao đổi qua cổng)".to_owned(),
        ),
    ];
    about.set_column_width(0, 24).map_err(fail)?;
    about.set_column_width(1, 70).map_err(fail)?;
    for (r, (label, value)) in lines.iter().enumerate() {
        about
            .write_string_with_format(r as u32, 0, *label, &bold)
            .map_err(fail)?;
        about.write_string(r as u32, 1, value).map_err(fail)?;
    }
    workbook.save_to_buffer().map_err(fail)
}

/// The report of exchanges of a provider's services and datasets (Q15.2.e) for a period:
/// per day, consumer system, service or dataset and purpose, served and refused, bytes served;
/// with totals per consumer system and resource. The provider agency's administrators read
/// their agency's; the operator and the auditor any (all providers when `provider` is left
/// out). `format=csv` or `xlsx` downloads it.
#[utoipa::path(get, path = "/reports/exchanges", tag = "provider", params(ReportQuery),
    responses((status = 200, body = ExchangeReport,
            description = "JSON, or `text/csv` / XLSX with `format`"),
        (status = 400, body = ProblemDoc, description = "`invalid_period`, `invalid_parameter`"),
        (status = 401, body = ProblemDoc), (status = 403, body = ProblemDoc)))]
async fn exchange_report(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<ReportQuery>,
) -> Result<Response, ApiError> {
    let provider = scope(&caller, query.provider)?;
    let period = Period::parse(query.from.as_deref(), query.to.as_deref())?;
    let format = query.format.as_deref().unwrap_or("json");
    if !["json", "csv", "xlsx"].contains(&format) {
        return Err(ApiError::new(ErrorCode::InvalidParameter)
            .detail("`format`: json, csv or xlsx")
            .with("parameter", serde_json::json!("format")));
    }
    let report = build(
        &state,
        period,
        provider.as_ref(),
        query.consumer_agency.as_ref(),
    )
    .await?;
    let name = format!(
        "bao-cao-trao-doi_{}_{}_{}",
        report.provider.as_deref().unwrap_or("tat-ca"),
        report.from,
        report.to
    );
    let download = |content_type: &'static str, extension: &str, body: Vec<u8>| {
        (
            [
                (CONTENT_TYPE, content_type.to_owned()),
                (
                    CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{name}.{extension}\""),
                ),
            ],
            body,
        )
            .into_response()
    };
    Ok(match format {
        "csv" => download("text/csv; charset=utf-8", "csv", csv(&report)?),
        "xlsx" => download(XLSX_TYPE, "xlsx", xlsx(&report)?),
        _ => axum::Json(report).into_response(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(result: Result<Period, ApiError>) -> &'static str {
        result.err().map_or("ok", |e| e.code().code())
    }

    #[test]
    fn q15_2_e_periods_are_whole_vietnamese_days_and_bounded() {
        let period = Period::parse(Some("2026-11-01"), Some("2026-11-30")).unwrap();
        let (start, end) = period.bounds();
        assert_eq!(start.to_rfc3339(), "2026-10-31T17:00:00+00:00");
        assert_eq!(end.to_rfc3339(), "2026-11-30T17:00:00+00:00");
        assert_eq!(
            code(Period::parse(Some("2026-11-01"), Some("2026-11-01"))),
            "ok"
        );
        for (from, to) in [
            (Some("2026-11-02"), Some("2026-11-01")),
            (Some("01/11/2026"), Some("2026-11-30")),
            (Some("2026-02-30"), Some("2026-03-01")),
            (None, Some("2026-11-30")),
            (Some("2026-11-01"), Some(" ")),
            (Some("2025-01-01"), Some("2026-01-02")),
        ] {
            assert_eq!(
                code(Period::parse(from, to)),
                "invalid_period",
                "{from:?} {to:?}"
            );
        }
        assert_eq!(
            code(Period::parse(Some("2024-01-01"), Some("2024-12-31"))),
            "ok"
        );
        assert_eq!(day_vi("2026-11-05"), "05/11/2026");
    }
}
