//! What every page shows around its content, and the formatting people read: Vietnamese labels,
//! dates as dd/mm/yyyy in Viet Nam time (UTC+7).

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use chrono::{DateTime, FixedOffset, Utc};
use lgsp_core::{authorize, Action, Actor, ConnectionModel, Readiness, Resource};
use lgsp_store::{Agency, System};

use crate::auth::Caller;
use crate::error::ApiError;

/// Viet Nam's time zone, UTC+7 all year.
fn vietnam() -> FixedOffset {
    FixedOffset::east_opt(7 * 3600).expect("UTC+7 is a valid offset")
}

/// `dd/mm/yyyy` in Viet Nam time.
pub fn date_vi(at: DateTime<Utc>) -> String {
    at.with_timezone(&vietnam()).format("%d/%m/%Y").to_string()
}

/// `dd/mm/yyyy HH:MM` in Viet Nam time.
pub fn date_time_vi(at: DateTime<Utc>) -> String {
    at.with_timezone(&vietnam())
        .format("%d/%m/%Y %H:%M")
        .to_string()
}

/// A duration for people: "2 ngày 3 giờ", "1 giờ 5 phút", "12 phút", "dưới 1 phút".
pub fn duration_vi(seconds: i64) -> String {
    let minutes = seconds.max(0) / 60;
    let (days, hours, minutes) = (minutes / 1440, minutes / 60 % 24, minutes % 60);
    match (days, hours, minutes) {
        (0, 0, 0) => "dưới 1 phút".into(),
        (0, 0, m) => format!("{m} phút"),
        (0, h, 0) => format!("{h} giờ"),
        (0, h, m) => format!("{h} giờ {m} phút"),
        (d, 0, _) => format!("{d} ngày"),
        (d, h, _) => format!("{d} ngày {h} giờ"),
    }
}

pub struct UserView {
    pub full_name: String,
    pub role_label: &'static str,
    pub agency: Option<String>,
}

pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub hint: &'static str,
}

/// The frame of every page: platform name, the signed-in person, role-aware navigation.
pub struct Shell {
    pub platform_name: String,
    pub user: Option<UserView>,
    pub console_nav: Vec<NavItem>,
    /// The session's CSRF token, for the sign-out form.
    pub csrf_token: String,
}

impl Shell {
    pub fn new(platform_name: &str, caller: &Caller) -> Self {
        let user = caller.user.as_ref().map(|user| UserView {
            full_name: user.full_name.to_string(),
            role_label: user.assignment.role().label_vi(),
            agency: user.assignment.agency().map(ToString::to_string),
        });
        Self {
            platform_name: platform_name.to_owned(),
            user,
            console_nav: console_nav(&caller.actor),
            csrf_token: caller
                .web_session
                .as_ref()
                .map(|session| session.csrf_token.clone())
                .unwrap_or_default(),
        }
    }
}

/// Console entries the actor may open, asked of the same policy the API uses.
fn console_nav(actor: &Actor) -> Vec<NavItem> {
    let mut items = Vec::new();
    if authorize(actor, Action::Read, Resource::Console).is_err() {
        return items;
    }
    let own = match actor {
        Actor::Person { assignment, .. } => assignment.agency(),
        _ => None,
    };
    if authorize(actor, Action::Read, Resource::Statistics(None)).is_ok()
        || own
            .is_some_and(|a| authorize(actor, Action::Read, Resource::Statistics(Some(a))).is_ok())
    {
        items.push(NavItem {
            href: "/console/dashboard",
            label: "Biểu đồ thống kê",
            hint: "Lượt trao đổi, độ trễ, tỷ lệ lỗi, bộ dữ liệu được khai thác, yêu cầu, phản ánh, tỷ lệ hoạt động; biểu đồ, bảng số liệu, CSV",
        });
    }
    if authorize(actor, Action::Read, Resource::Agency(None)).is_ok() {
        items.push(NavItem {
            href: "/console/agencies",
            label: "Cơ quan",
            hint: "Cơ quan và cán bộ đầu mối",
        });
    }
    if authorize(actor, Action::Read, Resource::Proposal(None)).is_ok() {
        items.push(NavItem {
            href: "/console/proposals",
            label: "Đề nghị về danh mục",
            hint: "Bổ sung, chỉnh sửa, rút CSDL khỏi danh mục (Điều 5 Quy chế)",
        });
    }
    if authorize(actor, Action::Read, Resource::System(None)).is_ok() {
        items.push(NavItem {
            href: "/console/systems",
            label: "Hệ thống thông tin",
            hint: "Cấp độ an toàn, mô hình kết nối, mức sẵn sàng",
        });
    }
    let handles_reports = match actor {
        Actor::Person { assignment, .. } => assignment.agency().is_some_and(|agency| {
            let reports = Resource::ErrorReports {
                owner: agency,
                access: lgsp_core::catalog::AccessLevel::Open,
            };
            authorize(actor, Action::Read, reports).is_ok()
        }),
        _ => false,
    };
    if handles_reports {
        items.push(NavItem {
            href: "/console/error-reports",
            label: "Phản ánh sai sót",
            hint: "Phản ánh của người dân, cơ quan về sai sót trong dữ liệu của cơ quan",
        });
    }
    // Services and grants of the person's own agency (the operator and the auditor see all).
    let own_agency = match actor {
        Actor::Person { assignment, .. } => assignment.agency(),
        _ => None,
    };
    if let Some(agency) = own_agency {
        let draft = Resource::Service {
            owner: agency,
            published: false,
        };
        if authorize(actor, Action::Read, draft).is_ok() {
            items.push(NavItem {
                href: "/console/services",
                label: "Quản lý dịch vụ",
                hint: "Đăng ký, công bố dịch vụ, hướng dẫn kết nối, kiểm tra đáp ứng kỹ thuật",
            });
        }
        let grants = Resource::Grant {
            provider: agency,
            consumer: agency,
        };
        if authorize(actor, Action::Read, grants).is_ok() {
            items.push(NavItem {
                href: "/console/grants",
                label: "Quyền khai thác",
                hint: "Quyền khai thác dữ liệu đã cấp: tạm dừng, khôi phục, chấm dứt",
            });
        }
        let requests = Resource::SharingRequest {
            provider: agency,
            consumer: agency,
        };
        if authorize(actor, Action::Read, requests).is_ok() {
            items.push(NavItem {
                href: "/console/sharing-requests",
                label: "Yêu cầu chia sẻ",
                hint: "Yêu cầu khai thác dữ liệu: gửi, chấp thuận, trả lại, từ chối có lý do và căn cứ",
            });
        }
    }
    let own_exchanges = own_agency.is_some_and(|agency| {
        let grants = Resource::Grant {
            provider: agency,
            consumer: agency,
        };
        authorize(actor, Action::Read, grants).is_ok()
    });
    if own_exchanges || authorize(actor, Action::Read, Resource::SecurityEvents).is_ok() {
        items.push(NavItem {
            href: "/console/exchanges",
            label: "Nhật ký trao đổi",
            hint: "Các lần trao đổi dữ liệu qua cổng LGSP của cơ quan, kể cả yêu cầu bị từ chối",
        });
        items.push(NavItem {
            href: "/console/reports/exchanges",
            label: "Báo cáo trao đổi",
            hint: "Số lần trao đổi theo cơ quan khai thác, dịch vụ, bộ dữ liệu trong kỳ; tải CSV, XLSX",
        });
        items.push(NavItem {
            href: "/console/maintenance",
            label: "Tạm ngừng cung cấp",
            hint:
                "Thông báo bảo trì, sự cố; tạm dừng, khôi phục mọi quyền khai thác của một dịch vụ",
        });
        items.push(NavItem {
            href: "/console/usage-reports",
            label: "Báo cáo tình hình khai thác",
            hint:
                "Yêu cầu và trả lời báo cáo việc sử dụng dữ liệu được chia sẻ, kèm số liệu thực tế",
        });
    }
    let consents = match actor {
        Actor::Person { assignment, .. } => {
            assignment.role() == lgsp_core::Role::Citizen
                || (assignment.role() == lgsp_core::Role::AgencyAdmin
                    && assignment.agency().is_some())
        }
        _ => false,
    };
    if consents {
        items.push(NavItem {
            href: "/console/consents",
            label: "Đồng ý chia sẻ dữ liệu",
            hint: "Sự đồng ý của người dân cho chia sẻ dữ liệu cá nhân giữa các cơ quan, và các lần dữ liệu được khai thác",
        });
    }
    if authorize(actor, Action::Read, Resource::Monitoring).is_ok() {
        items.push(NavItem {
            href: "/console/monitoring",
            label: "Giám sát hệ thống kết nối",
            hint: "Trạng thái hoạt động, tỷ lệ hoạt động trong tháng và mức sẵn sàng kết nối của các hệ thống",
        });
    }
    if authorize(actor, Action::Read, Resource::AnnualReport).is_ok() {
        items.push(NavItem {
            href: "/console/annual-report",
            label: "Báo cáo năm",
            hint: "Báo cáo UBND tỉnh tình hình thực hiện Quy chế trước ngày 15 tháng 12 hằng năm",
        });
    }
    if authorize(actor, Action::Read, Resource::Quarantine).is_ok() {
        items.push(NavItem {
            href: "/console/quarantine",
            label: "Tạm giữ nghi bí mật nhà nước",
            hint: "Nội dung nghi chứa dấu độ mật bị chặn khi nhập, trao đổi hoặc tải lên: xác nhận hoặc giải phóng",
        });
    }
    items.push(NavItem {
        href: "/console/imports",
        label: "Nhập dữ liệu",
        hint: "Nạp tệp CSV hoặc XLSX vào cơ sở dữ liệu dùng chung của cơ quan",
    });
    if authorize(actor, Action::Read, Resource::Webhook(None)).is_ok() {
        items.push(NavItem {
            href: "/console/webhooks",
            label: "Nhận thay đổi dữ liệu",
            hint: "Các địa chỉ webhook nhận thay đổi của cơ sở dữ liệu dùng chung, tình trạng gửi",
        });
    }
    items.push(NavItem {
        href: "/console/tickets",
        label: "Phiếu hỗ trợ",
        hint: "Sự cố, tranh chấp, vướng mắc về sử dụng dữ liệu, đề xuất đơn giản hóa thủ tục",
    });
    items.push(NavItem {
        href: "/console/notifications",
        label: "Thông báo",
        hint: "Các bước của quy trình liên quan đến bạn",
    });
    items
}

/// Renders a page, or a bare 500 if the template fails.
pub fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(error) => ApiError::internal(error).into_response(),
    }
}

pub struct AgencyRow {
    pub code: String,
    pub name: String,
    pub kind: &'static str,
    pub parent: Option<String>,
    pub officer_name: String,
    pub officer_title: String,
    pub officer_phone: String,
    pub officer_email: String,
    pub updated: String,
}

impl From<Agency> for AgencyRow {
    fn from(a: Agency) -> Self {
        Self {
            code: a.code.to_string(),
            name: a.name.to_string(),
            kind: a.kind.label_vi(),
            parent: a.parent.map(|p| p.to_string()),
            officer_name: a.focal_officer.name.to_string(),
            officer_title: a.focal_officer.title.to_string(),
            officer_phone: a.focal_officer.phone.to_string(),
            officer_email: a.focal_officer.email.to_string(),
            updated: date_vi(a.updated_at),
        }
    }
}

pub struct SystemRow {
    pub agency: String,
    pub code: String,
    pub name: String,
    pub base_url: String,
    pub security_level: u8,
    pub connection: String,
    pub readiness: &'static str,
    pub readiness_class: &'static str,
    pub findings: Vec<String>,
    pub updated: String,
}

impl From<System> for SystemRow {
    fn from(s: System) -> Self {
        let connection = match &s.connection {
            ConnectionModel::Lgsp => "Qua nền tảng LGSP".to_owned(),
            ConnectionModel::Other { description } => format!("Kênh khác: {description}"),
        };
        let readiness = match s.readiness {
            Readiness::Unassessed => "Chưa đánh giá",
            Readiness::Ready => "Sẵn sàng kết nối",
            Readiness::NeedsUpgrade { .. } => "Cần nâng cấp",
        };
        Self {
            agency: s.agency.to_string(),
            code: s.code.to_string(),
            name: s.name.to_string(),
            base_url: s.base_url.to_string(),
            security_level: s.security_level.get(),
            connection,
            readiness,
            readiness_class: s.readiness.as_str(),
            findings: s
                .readiness
                .findings()
                .iter()
                .map(ToString::to_string)
                .collect(),
            updated: date_vi(s.updated_at),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_dd_mm_yyyy_in_vietnam_time() {
        let late_evening_utc = DateTime::parse_from_rfc3339("2026-12-14T18:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(date_vi(late_evening_utc), "15/12/2026");
        assert_eq!(date_time_vi(late_evening_utc), "15/12/2026 01:30");
    }

    #[test]
    fn durations_read_in_days_hours_and_minutes() {
        assert_eq!(duration_vi(0), "dưới 1 phút");
        assert_eq!(duration_vi(59), "dưới 1 phút");
        assert_eq!(duration_vi(12 * 60 + 5), "12 phút");
        assert_eq!(duration_vi(3600), "1 giờ");
        assert_eq!(duration_vi(3900), "1 giờ 5 phút");
        assert_eq!(duration_vi(2 * 86_400 + 3 * 3600 + 59), "2 ngày 3 giờ");
        assert_eq!(duration_vi(86_400 + 120), "1 ngày");
    }
}
