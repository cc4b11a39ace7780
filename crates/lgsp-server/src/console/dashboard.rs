//! The dashboard (*Thống kê, giám sát*, Q7.5, Q15.2.e): the figures of
//! [`crate::statistics`] as charts, each with its table beside it and a CSV download, over a
//! period and for the province or one agency. An agency's administrators see their own
//! agency's; asking for another's is refused.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use lgsp_core::{Actor, Role};
use lgsp_report::{group_thousands, Cell};

use super::{forbidden, problem_page};
use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorCode};
use crate::extract::Query;
use crate::portal::to_login;
use crate::portal::view::{render, Shell};
use crate::statistics::{self, DashboardQuery};

pub fn routes() -> Router<AppState> {
    Router::new().route("/console/dashboard", get(page))
}

/// A summary figure at the top of the page.
struct Tile {
    id: &'static str,
    label: &'static str,
    value: String,
}

/// A section as the page shows it.
struct SectionView {
    name: &'static str,
    title: String,
    svg: Option<String>,
    columns: Vec<&'static str>,
    /// Cells as people read them, and whether each is a number (right-aligned).
    rows: Vec<Vec<(String, bool)>>,
    csv: String,
}

struct AgencyOption {
    code: String,
    name: String,
    selected: bool,
}

#[derive(Template)]
#[template(path = "console/dashboard.html")]
struct Page {
    shell: Shell,
    from: String,
    to: String,
    period: String,
    /// The agency whose figures are shown, if one.
    scope: Option<String>,
    /// The agencies the person may choose from; empty for an agency's administrator.
    agencies: Vec<AgencyOption>,
    tiles: Vec<Tile>,
    sections: Vec<SectionView>,
}

fn ms(x: Option<f64>) -> String {
    x.map_or_else(
        || "–".to_owned(),
        |x| format!("{} ms", lgsp_report::decimal_comma(x, 1)),
    )
}

async fn page(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<DashboardQuery>, ApiError>,
) -> Result<Response, ApiError> {
    if caller.actor == Actor::Anonymous {
        return Ok(to_login());
    }
    let back = "/console/dashboard".to_owned();
    let query = match query {
        Ok(Query(query)) => query,
        Err(error) => return Ok(problem_page(&state, &caller, &error, back)),
    };
    let asked = match query.agency() {
        Ok(asked) => asked,
        Err(error) => return Ok(problem_page(&state, &caller, &error, back)),
    };
    let agency = match statistics::scope(&caller, asked) {
        Ok(agency) => agency,
        Err(error) if error.code() == ErrorCode::Forbidden => {
            return Ok(forbidden(&state, &caller))
        }
        Err(error) => return Ok(problem_page(&state, &caller, &error, back)),
    };
    let period = match query.period() {
        Ok(period) => period,
        Err(error) => return Ok(problem_page(&state, &caller, &error, back)),
    };
    let dashboard = statistics::build(&state, period, agency.as_ref()).await?;
    match query.format.as_deref() {
        None | Some("html") => {}
        Some("csv") => {
            return match statistics::csv_download(&dashboard, query.chart.as_deref()) {
                Ok(download) => Ok(download),
                Err(error) => Ok(problem_page(&state, &caller, &error, back)),
            }
        }
        Some(_) => {
            let error = ApiError::new(ErrorCode::InvalidParameter).detail("`format`: html or csv");
            return Ok(problem_page(&state, &caller, &error, back));
        }
    }
    let province_wide = matches!(
        caller.actor.role(),
        Some(Role::Operator | Role::Approver | Role::Auditor)
    );
    let agencies = if province_wide {
        state
            .store
            .list_agencies()
            .await?
            .into_iter()
            .map(|a| AgencyOption {
                selected: dashboard.agency.as_deref() == Some(a.code.as_str()),
                code: a.code.to_string(),
                name: a.name.to_string(),
            })
            .collect()
    } else {
        Vec::new()
    };
    let from = dashboard.from.format("%Y-%m-%d").to_string();
    let to = dashboard.to.format("%Y-%m-%d").to_string();
    let mut link = format!("/console/dashboard?from={from}&to={to}");
    if let Some(agency) = &dashboard.agency {
        link.push_str(&format!("&agency={agency}"));
    }
    let t = &dashboard.totals;
    let percent = |x: f64| Cell::Percent(x).display();
    let tiles = vec![
        Tile {
            id: "tong-trao-doi",
            label: "Lượt trao đổi",
            value: group_thousands(t.exchanges),
        },
        Tile {
            id: "ty-le-thanh-cong",
            label: "Thành công",
            value: if t.exchanges > 0 {
                percent(t.ok as f64 / t.exchanges as f64)
            } else {
                "–".into()
            },
        },
        Tile {
            id: "ty-le-tu-choi",
            label: "Bị từ chối",
            value: percent(t.refusal_rate),
        },
        Tile {
            id: "ty-le-loi",
            label: "Lỗi",
            value: percent(t.error_rate),
        },
        Tile {
            id: "do-tre-p50",
            label: "Độ trễ p50",
            value: ms(t.latency_p50_ms),
        },
        Tile {
            id: "do-tre-p95",
            label: "Độ trễ p95",
            value: ms(t.latency_p95_ms),
        },
        Tile {
            id: "do-tre-p99",
            label: "Độ trễ p99",
            value: ms(t.latency_p99_ms),
        },
        Tile {
            id: "yeu-cau-qua-han",
            label: "Yêu cầu chia sẻ quá hạn",
            value: group_thousands(dashboard.sharing_requests.overdue),
        },
    ];
    let sections = dashboard
        .sections()
        .into_iter()
        .map(|s| SectionView {
            svg: s.svg(),
            csv: format!("{link}&format=csv&chart={}", s.name),
            name: s.name,
            title: s.title,
            columns: s.columns,
            rows: s
                .rows
                .iter()
                .map(|row| {
                    row.iter()
                        .map(|c| (c.display(), !matches!(c, Cell::Text(_))))
                        .collect()
                })
                .collect(),
        })
        .collect();
    Ok(render(
        StatusCode::OK,
        &Page {
            shell: Shell::new(&state.platform_name(), &caller),
            period: format!(
                "{} – {}",
                dashboard.from.format("%d/%m/%Y"),
                dashboard.to.format("%d/%m/%Y")
            ),
            from,
            to,
            scope: dashboard.agency_name.clone().map(|name| {
                format!(
                    "{name} ({})",
                    dashboard.agency.as_deref().unwrap_or_default()
                )
            }),
            agencies,
            tiles,
            sections,
        },
    ))
}
