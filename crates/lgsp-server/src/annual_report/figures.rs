//! The figures of the annual report and the SQL behind each.
//!
//! Every figure is computed by running exactly the query the document prints beside it (its
//! [`FigureSource`]), so the document and its appendix cannot disagree. The queries use only
//! what SQLite and PostgreSQL both read the same way: parameters are inlined as literals, and
//! instants are compared with RFC 3339 literals in UTC (`'2025-12-31T17:00:00+00:00'`), which
//! PostgreSQL casts to `timestamptz` and which sort correctly against SQLite's RFC 3339 text.

use chrono::{DateTime, NaiveDate, SecondsFormat, TimeZone, Utc};
use futures_util::stream::{self, StreamExt, TryStreamExt};
use lgsp_report::{Cell, FigureSource};
use lgsp_store::{FigureValue, Store, StoreError};

/// Queries run at once: enough to use a pool's connections, few enough for a small machine.
const CONCURRENT_QUERIES: usize = 4;

/// Viet Nam's offset from UTC; the report's year runs on Viet Nam's calendar.
const VIETNAM_HOURS: i64 = 7;

/// One calendar year in Viet Nam, with the literals its queries compare against.
#[derive(Debug, Clone)]
pub struct Period {
    pub year: i32,
    /// 1 January 00:00 in Viet Nam, as a UTC instant.
    pub start: DateTime<Utc>,
    /// 1 January of the next year 00:00 in Viet Nam.
    pub end: DateTime<Utc>,
}

impl Period {
    pub fn year(year: i32) -> Self {
        Self {
            year,
            start: vietnam_midnight_of(year, 1),
            end: vietnam_midnight_of(year + 1, 1),
        }
    }

    /// The month `month` (1–12) of the year.
    pub fn month(&self, month: u32) -> (DateTime<Utc>, DateTime<Utc>) {
        let start = vietnam_midnight_of(self.year, month);
        let end = if month == 12 {
            self.end
        } else {
            vietnam_midnight_of(self.year, month + 1)
        };
        (start, end)
    }

    /// `at >= start AND at < end` on `column`.
    pub fn within(&self, column: &str) -> String {
        range(column, self.start, self.end)
    }

    /// Before the end of the year, on an instant column.
    pub fn before_end(&self, column: &str) -> String {
        format!("{column} < {}", instant(self.end))
    }

    /// The last day of the year, for date columns (the catalog's validity).
    pub fn last_day(&self) -> String {
        literal(&format!("{}-12-31", self.year))
    }

    /// `'YYYY-01'` and `'YYYY-12'`, for columns holding months.
    pub fn months(&self) -> (String, String) {
        (
            literal(&format!("{}-01", self.year)),
            literal(&format!("{}-12", self.year)),
        )
    }
}

fn vietnam_midnight_of(year: i32, month: u32) -> DateTime<Utc> {
    let day = NaiveDate::from_ymd_opt(year, month, 1).unwrap_or_default();
    Utc.from_utc_datetime(&day.and_hms_opt(0, 0, 0).unwrap_or_default())
        - chrono::Duration::hours(VIETNAM_HOURS)
}

/// `column >= 'from' AND column < 'to'`.
pub fn range(column: &str, from: DateTime<Utc>, to: DateTime<Utc>) -> String {
    format!(
        "{column} >= {} AND {column} < {}",
        instant(from),
        instant(to)
    )
}

/// An instant as an SQL literal both backends compare correctly: RFC 3339 in UTC.
pub fn instant(at: DateTime<Utc>) -> String {
    literal(&at.to_rfc3339_opts(SecondsFormat::Secs, false))
}

/// A string as an SQL literal.
pub fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// How a figure reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A count.
    Count,
    /// A share (the query returns a fraction), shown as a percentage.
    Share,
    /// A measure with one decimal (hours).
    Hours,
}

impl Kind {
    fn cell(self, value: FigureValue) -> Cell {
        match (self, value) {
            (_, FigureValue::Null) => Cell::Empty,
            (Kind::Count, FigureValue::Integer(n)) => Cell::Integer(n),
            (Kind::Count, FigureValue::Decimal(x)) => Cell::Integer(x.round() as i64),
            (Kind::Share, value) => Cell::Percent(value.as_f64().unwrap_or_default()),
            (Kind::Hours, value) => Cell::Decimal(value.as_f64().unwrap_or_default(), 1),
        }
    }
}

/// The figures of a document being planned: each query is registered with its label and
/// where its value goes, then all run together.
#[derive(Default)]
pub struct Plan {
    pending: Vec<Pending>,
}

struct Pending {
    label: String,
    kind: Kind,
    query: String,
    /// A difference of two figures planned before: computed from their values rather than by
    /// running `query` (which computes the same), so each count is scanned once.
    difference: Option<(Slot, Slot)>,
}

/// Where a planned figure's value will be found once the plan has run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot(usize);

impl Plan {
    /// Plans one figure.
    pub fn figure(&mut self, label: impl Into<String>, kind: Kind, query: String) -> Slot {
        self.pending.push(Pending {
            label: label.into(),
            kind,
            query,
            difference: None,
        });
        Slot(self.pending.len() - 1)
    }

    /// Plans the change from figure `before` to figure `after`: its query subtracts theirs.
    pub fn change(&mut self, label: impl Into<String>, after: Slot, before: Slot) -> Slot {
        let (a, b) = (&self.pending[after.0], &self.pending[before.0]);
        let pending = Pending {
            label: label.into(),
            kind: a.kind,
            query: format!("SELECT ({}) - ({})", a.query, b.query),
            difference: Some((after, before)),
        };
        self.pending.push(pending);
        Slot(self.pending.len() - 1)
    }

    /// Runs every planned query.
    pub async fn run(self, store: &Store) -> Result<Results, StoreError> {
        let queries: Vec<(Store, String)> = self
            .pending
            .iter()
            .filter(|p| p.difference.is_none())
            .map(|p| (store.clone(), p.query.clone()))
            .collect();
        let mut ran: Vec<FigureValue> = stream::iter(queries)
            .map(run_one)
            .buffered(CONCURRENT_QUERIES)
            .try_collect()
            .await?;
        ran.reverse();
        let mut values: Vec<FigureValue> = Vec::with_capacity(self.pending.len());
        for pending in &self.pending {
            let value = match pending.difference {
                None => ran.pop().unwrap_or(FigureValue::Null),
                Some((after, before)) => difference(values[after.0], values[before.0]),
            };
            values.push(value);
        }
        Ok(Results {
            pending: self.pending,
            values,
            sources: Vec::new(),
        })
    }
}

/// `after - before` as SQL computes it: `NULL` if either is.
fn difference(after: FigureValue, before: FigureValue) -> FigureValue {
    match (after, before) {
        (FigureValue::Integer(a), FigureValue::Integer(b)) => FigureValue::Integer(a - b),
        (a, b) => match (a.as_f64(), b.as_f64()) {
            (Some(a), Some(b)) => FigureValue::Decimal(a - b),
            _ => FigureValue::Null,
        },
    }
}

async fn run_one((store, query): (Store, String)) -> Result<FigureValue, StoreError> {
    store.figure_value(&query).await
}

/// The values of a plan that ran; taking a cell records its source for the appendix.
pub struct Results {
    pending: Vec<Pending>,
    values: Vec<FigureValue>,
    sources: Vec<FigureSource>,
}

impl Results {
    /// The value as a number (`None`: nothing to measure).
    pub fn value(&self, slot: Slot) -> Option<f64> {
        self.values[slot.0].as_f64()
    }

    /// The cell of a figure the document shows under reference `id`; records its source.
    /// The province's figures (table 1, `B1.…`, and the charts, `BĐ…`) are listed in the
    /// printed appendix too; each agency's, in the workbook only.
    pub fn cell(&mut self, slot: Slot, id: String) -> Cell {
        let pending = &self.pending[slot.0];
        let cell = pending.kind.cell(self.values[slot.0]);
        self.sources.push(FigureSource {
            printed: id.starts_with("B1.") || id.starts_with("BĐ"),
            id,
            label: pending.label.clone(),
            value: cell.display(),
            query: pending.query.clone(),
        });
        cell
    }

    /// The sources of every cell taken, in the order the document shows them.
    pub fn into_sources(self) -> Vec<FigureSource> {
        self.sources
    }
}

/// Whom a row counts: the whole province or one agency.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    Province,
    Agency(&'a str),
}

impl Scope<'_> {
    /// `AND column = 'code'` for an agency, nothing for the province.
    fn and(&self, column: &str) -> String {
        match self {
            Scope::Province => String::new(),
            Scope::Agency(code) => format!(" AND {column} = {}", literal(code)),
        }
    }

    fn is_province(&self) -> bool {
        matches!(self, Scope::Province)
    }
}

/// A row of the comparison tables: what it counts and its query for a scope and a year
/// (`None`: the row does not apply to the scope).
pub struct Row {
    pub label: &'static str,
    pub kind: Kind,
    pub query: fn(&Scope<'_>, &Period) -> Option<String>,
}

/// The rows every agency's table and the province's table show, in order.
pub const ROWS: &[Row] = &[
    Row {
        label: "Hệ thống thông tin đã đăng ký",
        kind: Kind::Count,
        query: |scope, p| {
            Some(format!(
                "SELECT COUNT(*) FROM systems s JOIN agencies a ON a.id = s.agency_id \
                 WHERE {}{}",
                p.before_end("s.created_at"),
                scope.and("a.code")
            ))
        },
    },
    Row {
        label: "– trong đó kết nối qua nền tảng (LGSP)",
        kind: Kind::Count,
        query: |scope, p| {
            Some(format!(
                "SELECT COUNT(*) FROM systems s JOIN agencies a ON a.id = s.agency_id \
                 WHERE {} AND s.connection_model = 'lgsp'{}",
                p.before_end("s.created_at"),
                scope.and("a.code")
            ))
        },
    },
    Row {
        label: "– đánh giá sẵn sàng kết nối",
        kind: Kind::Count,
        query: |scope, p| readiness(scope, p, "ready"),
    },
    Row {
        label: "– đánh giá cần nâng cấp",
        kind: Kind::Count,
        query: |scope, p| readiness(scope, p, "needs_upgrade"),
    },
    Row {
        label: "Tỷ lệ hoạt động của hệ thống (giám sát)",
        kind: Kind::Share,
        query: |scope, p| {
            let (first, last) = p.months();
            Some(format!(
                "SELECT CAST(SUM(m.up) AS DOUBLE PRECISION) / NULLIF(SUM(m.probes), 0) \
                 FROM system_availability m JOIN systems s ON s.id = m.system_id \
                 JOIN agencies a ON a.id = s.agency_id \
                 WHERE m.month >= {first} AND m.month <= {last}{}",
                scope.and("a.code")
            ))
        },
    },
    Row {
        label: "Sự cố ngừng hoạt động của hệ thống",
        kind: Kind::Count,
        query: |scope, p| {
            Some(format!(
                "SELECT COUNT(*) FROM system_outages o JOIN systems s ON s.id = o.system_id \
                 JOIN agencies a ON a.id = s.agency_id WHERE {}{}",
                p.within("o.started_at"),
                scope.and("a.code")
            ))
        },
    },
    Row {
        label: "Cơ sở dữ liệu dùng chung trong danh mục",
        kind: Kind::Count,
        query: |scope, p| {
            Some(format!(
                "SELECT COUNT(*) FROM catalog_versions v WHERE {}{}",
                catalog_valid(p),
                scope.and("v.owner_code")
            ))
        },
    },
    Row {
        label: "Bộ dữ liệu chia sẻ",
        kind: Kind::Count,
        query: |scope, p| {
            Some(format!(
                "SELECT COUNT(*) FROM catalog_datasets d \
                 JOIN catalog_versions v ON v.entry_id = d.entry_id WHERE {}{}",
                catalog_valid(p),
                scope.and("v.owner_code")
            ))
        },
    },
    Row {
        label: "Dịch vụ chia sẻ dữ liệu qua nền tảng",
        kind: Kind::Count,
        query: |scope, p| {
            Some(format!(
                "SELECT COUNT(*) FROM services v JOIN systems s ON s.id = v.system_id \
                 JOIN agencies a ON a.id = s.agency_id \
                 WHERE {} AND NOT EXISTS (SELECT 1 FROM service_events e \
                 WHERE e.service_id = v.id AND e.to_state = 'retired' AND {}){}",
                p.before_end("v.published_at"),
                p.before_end("e.at"),
                scope.and("a.code")
            ))
        },
    },
    Row {
        label: "Lượt trao đổi dữ liệu (cơ quan cung cấp)",
        kind: Kind::Count,
        query: |scope, p| {
            Some(format!(
                "SELECT COUNT(*) FROM exchanges WHERE {}{}",
                p.within("at"),
                scope.and("provider_agency")
            ))
        },
    },
    Row {
        label: "– trong đó bị từ chối hoặc lỗi",
        kind: Kind::Count,
        query: |scope, p| {
            Some(format!(
                "SELECT COUNT(*) FROM exchanges WHERE {} AND refusal IS NOT NULL{}",
                p.within("at"),
                scope.and("provider_agency")
            ))
        },
    },
    Row {
        label: "Cơ quan khai thác dữ liệu (khác nhau)",
        kind: Kind::Count,
        query: |scope, p| {
            Some(format!(
                "SELECT COUNT(DISTINCT consumer_agency) FROM exchanges \
                 WHERE {} AND refusal IS NULL{}",
                p.within("at"),
                scope.and("provider_agency")
            ))
        },
    },
    Row {
        label: "Lượt khai thác dữ liệu của cơ quan khác",
        kind: Kind::Count,
        query: |scope, p| {
            (!scope.is_province()).then(|| {
                format!(
                    "SELECT COUNT(*) FROM exchanges WHERE {}{}",
                    p.within("at"),
                    scope.and("consumer_agency")
                )
            })
        },
    },
    Row {
        label: "Đề nghị chia sẻ được chấp thuận",
        kind: Kind::Count,
        query: |scope, p| request_decisions(scope, p, "approved"),
    },
    Row {
        label: "Đề nghị chia sẻ bị từ chối",
        kind: Kind::Count,
        query: |scope, p| request_decisions(scope, p, "refused"),
    },
    Row {
        label: "Lượt tạm dừng chia sẻ",
        kind: Kind::Count,
        query: |scope, p| grant_steps(scope, p, "suspended"),
    },
    Row {
        label: "Lượt chấm dứt chia sẻ",
        kind: Kind::Count,
        query: |scope, p| grant_steps(scope, p, "terminated"),
    },
    Row {
        label: "Yêu cầu báo cáo tình hình sử dụng",
        kind: Kind::Count,
        query: |scope, p| {
            Some(format!(
                "SELECT COUNT(*) FROM usage_reports u JOIN grants g ON g.id = u.grant_id \
                 WHERE {}{}",
                p.within("u.requested_at"),
                scope.and("g.provider_code")
            ))
        },
    },
    Row {
        label: "Phản ánh sai sót dữ liệu nhận được",
        kind: Kind::Count,
        query: |scope, p| {
            Some(format!(
                "SELECT COUNT(*) FROM error_reports WHERE {}{}",
                p.within("created_at"),
                scope.and("owner_agency")
            ))
        },
    },
    Row {
        label: "– đã khắc phục trong năm",
        kind: Kind::Count,
        query: |scope, p| {
            Some(format!(
                "SELECT COUNT(*) FROM error_reports WHERE state = 'fixed' AND {}{}",
                p.within("resolved_at"),
                scope.and("owner_agency")
            ))
        },
    },
    Row {
        label: "Thời gian khắc phục trung bình (giờ)",
        kind: Kind::Hours,
        query: |scope, p| {
            Some(format!(
                "SELECT AVG(CAST(time_to_fix_seconds AS DOUBLE PRECISION)) / 3600 \
                 FROM error_reports WHERE state = 'fixed' AND {}{}",
                p.within("resolved_at"),
                scope.and("owner_agency")
            ))
        },
    },
    Row {
        label: "Vướng mắc (phiếu) phải giải quyết",
        kind: Kind::Count,
        query: |scope, p| {
            Some(format!(
                "SELECT COUNT(*) FROM tickets WHERE {}{}",
                p.within("created_at"),
                scope.and("assignee_agency")
            ))
        },
    },
    Row {
        label: "Vướng mắc (phiếu) cơ quan gửi",
        kind: Kind::Count,
        query: |scope, p| {
            (!scope.is_province()).then(|| {
                format!(
                    "SELECT COUNT(*) FROM tickets WHERE {}{}",
                    p.within("created_at"),
                    scope.and("opener_agency")
                )
            })
        },
    },
];

/// The row of [`ROWS`] counting exchanges the agency provided.
pub const EXCHANGES_ROW: usize = 9;
/// The row counting refused sharing requests.
pub const REFUSED_ROW: usize = 14;

fn readiness(scope: &Scope<'_>, p: &Period, status: &str) -> Option<String> {
    Some(format!(
        "SELECT COUNT(*) FROM systems s JOIN agencies a ON a.id = s.agency_id \
         WHERE {} AND s.readiness_status = {} AND {}{}",
        p.before_end("s.created_at"),
        literal(status),
        p.before_end("s.readiness_assessed_at"),
        scope.and("a.code")
    ))
}

/// Catalog versions in force on the last day of the year.
fn catalog_valid(p: &Period) -> String {
    let day = p.last_day();
    format!(
        "v.status = 'active' AND v.valid_from <= {day} AND (v.valid_to IS NULL OR v.valid_to > {day})"
    )
}

fn request_decisions(scope: &Scope<'_>, p: &Period, state: &str) -> Option<String> {
    Some(format!(
        "SELECT COUNT(*) FROM sharing_request_events e \
         JOIN sharing_requests r ON r.id = e.request_id WHERE e.to_state = {} AND {}{}",
        literal(state),
        p.within("e.at"),
        scope.and("r.provider_code")
    ))
}

fn grant_steps(scope: &Scope<'_>, p: &Period, status: &str) -> Option<String> {
    Some(format!(
        "SELECT COUNT(*) FROM grant_events e JOIN grants g ON g.id = e.grant_id \
         WHERE e.to_status = {} AND {}{}",
        literal(status),
        p.within("e.at"),
        scope.and("g.provider_code")
    ))
}

/// Exchanges in one month, province-wide.
pub fn exchanges_in(from: DateTime<Utc>, to: DateTime<Utc>) -> String {
    format!(
        "SELECT COUNT(*) FROM exchanges WHERE {}",
        range("at", from, to)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn q17_6_the_year_runs_on_vietnam_time() {
        let p = Period::year(2026);
        assert_eq!(p.start.to_rfc3339(), "2025-12-31T17:00:00+00:00");
        assert_eq!(p.end.to_rfc3339(), "2026-12-31T17:00:00+00:00");
        assert_eq!(
            p.within("at"),
            "at >= '2025-12-31T17:00:00+00:00' AND at < '2026-12-31T17:00:00+00:00'"
        );
        let (from, to) = p.month(2);
        assert_eq!(from.to_rfc3339(), "2026-01-31T17:00:00+00:00");
        assert_eq!(to.to_rfc3339(), "2026-02-28T17:00:00+00:00");
        assert_eq!(p.month(12).1, p.end);
    }

    #[test]
    fn literals_are_quoted() {
        assert_eq!(literal("O'Brien"), "'O''Brien'");
        assert_eq!(
            Scope::Agency("000.00.03.H35").and("a.code"),
            " AND a.code = '000.00.03.H35'"
        );
    }

    #[test]
    fn the_named_rows_are_the_ones_meant() {
        assert!(ROWS[EXCHANGES_ROW].label.starts_with("Lượt trao đổi"));
        assert!(ROWS[REFUSED_ROW].label.contains("từ chối"));
    }
}
