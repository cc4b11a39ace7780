//! The portal's open statistics (*Thống kê*): datasets in the catalog and how many are open,
//! published services, agencies connected, downloads and exchanges of the last 30 days, the
//! most downloaded open datasets. Anyone may read them; nothing about one agency's exchanges.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use lgsp_report::group_thousands;

use super::view::{render, Shell};
use crate::app::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::statistics::{public_statistics, DatasetUse};

struct Figure {
    id: &'static str,
    label: &'static str,
    value: String,
}

#[derive(Template)]
#[template(path = "statistics.html")]
struct Page {
    shell: Shell,
    period: String,
    figures: Vec<Figure>,
    most_downloaded: Vec<(DatasetUse, String)>,
}

pub async fn page(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    let s = public_statistics(&state).await?;
    let figure = |id, label, n: i64| Figure {
        id,
        label,
        value: group_thousands(n),
    };
    Ok(render(
        StatusCode::OK,
        &Page {
            shell: Shell::new(&state.platform_name(), &caller),
            period: format!(
                "{} – {}",
                s.from.format("%d/%m/%Y"),
                s.to.format("%d/%m/%Y")
            ),
            figures: vec![
                figure("so-bo-du-lieu", "Bộ dữ liệu trong danh mục", s.datasets),
                figure("so-du-lieu-mo", "Bộ dữ liệu mở", s.open_datasets),
                figure(
                    "so-du-lieu-cong-khai",
                    "Bộ dữ liệu công khai",
                    s.public_datasets,
                ),
                figure("so-dich-vu", "Dịch vụ chia sẻ đã công bố", s.services),
                figure(
                    "so-co-quan-ket-noi",
                    "Cơ quan đã kết nối",
                    s.agencies_connected,
                ),
                figure("so-he-thong", "Hệ thống thông tin đã đăng ký", s.systems),
                figure("so-luot-tai", "Lượt tải dữ liệu (30 ngày)", s.downloads),
                figure(
                    "so-luot-trao-doi",
                    "Lượt trao đổi qua nền tảng (30 ngày)",
                    s.exchanges,
                ),
            ],
            most_downloaded: s
                .most_downloaded
                .into_iter()
                .map(|d| {
                    let n = group_thousands(d.downloads);
                    (d, n)
                })
                .collect(),
        },
    ))
}
