//! The operator's monitoring page (*Giám sát hệ thống kết nối*, Q7.5, Q21.3): every system
//! with whether it answers, its failures in a row, its availability this month and its
//! readiness to connect.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use lgsp_core::Resource;

use super::refusal;
use crate::app::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::monitoring::{monitoring_rows, HealthView};
use crate::portal::view::{date_time_vi, render, Shell};

pub fn routes() -> Router<AppState> {
    Router::new().route("/console/monitoring", get(page))
}

/// A system's row as the page shows it.
struct Row {
    agency: String,
    system: String,
    name: String,
    status: &'static str,
    status_class: &'static str,
    failures: i32,
    last_probe: String,
    availability: String,
    readiness: &'static str,
    readiness_class: String,
}

impl From<HealthView> for Row {
    fn from(view: HealthView) -> Self {
        let (status, status_class) = match view.status {
            "up" => ("Hoạt động", "ready"),
            "down" => ("Không hoạt động", "overdue"),
            "unknown" => ("Chưa kiểm tra", "open"),
            _ => ("Không giám sát", ""),
        };
        let readiness = match view.readiness.as_str() {
            "ready" => "Sẵn sàng kết nối",
            "needs_upgrade" => "Cần nâng cấp",
            _ => "Chưa đánh giá",
        };
        let availability = match view.month_availability_percent {
            Some(percent) => format!(
                "{}% ({}/{} lần)",
                format!("{percent:.2}").replace('.', ","),
                view.month_up,
                view.month_probes
            ),
            None => "—".to_owned(),
        };
        Self {
            agency: view.agency,
            system: view.system,
            name: view.name,
            status,
            status_class,
            failures: view.consecutive_failures,
            last_probe: view.last_probe_at.map(date_time_vi).unwrap_or_default(),
            availability,
            readiness,
            readiness_class: view.readiness,
        }
    }
}

#[derive(Template)]
#[template(path = "console/monitoring.html")]
struct Page {
    shell: Shell,
    month: String,
    rows: Vec<Row>,
}

async fn page(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    if let Some(response) = refusal(&state, &caller, Resource::Monitoring) {
        return Ok(response);
    }
    let now = chrono::Utc::now();
    Ok(render(
        StatusCode::OK,
        &Page {
            shell: Shell::new(&state.platform_name(), &caller),
            month: now.format("%m/%Y").to_string(),
            rows: monitoring_rows(&state)
                .await?
                .into_iter()
                .map(Row::from)
                .collect(),
        },
    ))
}
