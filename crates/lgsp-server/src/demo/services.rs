//! A demo service behind the gateway: Sở Kế hoạch và Đầu tư's look-up of investment projects,
//! shared by default, published with its connection guide (Q8.1). Its host is invented, like
//! every host of the demo: the service is registered, not reachable.

use lgsp_core::service::{
    LifecycleStep, OpenApiDocument, ServiceCode, ServiceDocs, ServiceSpec, ServiceState,
    ServiceVersion,
};
use lgsp_core::{AgencyCode, HttpUrl, SystemCode, SystemId, Text};
use lgsp_store::Store;
use serde_json::json;

const GUIDE: &str = "\
# Tra cứu dự án đầu tư trên địa bàn tỉnh

Dịch vụ do Sở Kế hoạch và Đầu tư cung cấp, chia sẻ mặc định cho hệ thống thông tin của các cơ \
quan nhà nước đã đăng ký kết nối qua LGSP.

## Các bước kết nối

1. Cơ quan khai thác đăng ký tài khoản kết nối (client) cho hệ thống của mình với Sở Thông tin \
và Truyền thông.
2. Đăng ký khai thác dịch vụ: `POST /api/v1/subscriptions` với mã hệ thống, mã dịch vụ và mục \
đích sử dụng (ví dụ `THONG_KE`).
3. Lấy token: `POST /oauth/token` với `grant_type=client_credentials`.
4. Gọi dịch vụ qua cổng: `GET /x/000.00.04.H35/du-an-dau-tu/tra-cuu-du-an/v1/du-an?huyen=347` \
kèm tiêu đề `Authorization: Bearer <token>` và `LGSP-Purpose: THONG_KE`.

## Dữ liệu trả về

Danh sách dự án (JSON, UTF-8): mã dự án, tên dự án, chủ đầu tư, tổng vốn (triệu đồng), tiến độ. \
Khi sử dụng, ghi rõ nguồn: Sở Kế hoạch và Đầu tư tỉnh Hà Nam và thời điểm khai thác.

## Liên hệ

Phòng Đầu tư, Sở Kế hoạch và Đầu tư: dautu@skhdt.hanam.gov.vn.";

fn spec() -> anyhow::Result<ServiceSpec> {
    Ok(ServiceSpec {
        code: ServiceCode::parse("tra-cuu-du-an")?,
        version: ServiceVersion::parse("v1")?,
        name: Text::parse("Tra cứu dự án đầu tư trên địa bàn tỉnh")?,
        upstream_url: HttpUrl::parse("https://duan.skhdt.hanam.gov.vn/lgsp/v1")?,
        methods: serde_json::from_value(json!(["GET"]))?,
        openapi: OpenApiDocument::parse(json!({
            "openapi": "3.1.0",
            "info": {"title": "Tra cứu dự án đầu tư", "version": "1.0.0"},
            "paths": {
                "/du-an": {"get": {
                    "summary": "Danh sách dự án theo huyện",
                    "parameters": [{"name": "huyen", "in": "query", "schema": {"type": "string"}}],
                    "responses": {"200": {"description": "Danh sách dự án"}}
                }},
                "/du-an/{ma}": {"get": {
                    "summary": "Một dự án theo mã",
                    "parameters": [{"name": "ma", "in": "path", "required": true,
                                    "schema": {"type": "string"}}],
                    "responses": {"200": {"description": "Dự án"}, "404": {"description": "Không có"}}
                }}
            }
        }))?,
        shareable_fields: serde_json::from_value(json!([
            "/ma_du_an",
            "/ten_du_an",
            "/chu_dau_tu",
            "/tong_von",
            "/tien_do"
        ]))?,
        sharing_mode: lgsp_core::catalog::SharingMode::Default,
        docs: ServiceDocs::parse(GUIDE)?,
        classification: Default::default(),
    })
}

/// Registers and publishes the demo service once.
pub async fn load(store: &Store) -> anyhow::Result<()> {
    let provider = SystemId {
        agency: AgencyCode::parse("000.00.04.H35")?,
        code: SystemCode::parse("du-an-dau-tu")?,
    };
    let spec = spec()?;
    if store
        .find_service(&provider, &spec.code, &spec.version)
        .await?
        .is_some()
    {
        return Ok(());
    }
    let service = store.insert_service(&provider, &spec, "demo").await?;
    store
        .move_service(
            service.id,
            ServiceState::Draft,
            LifecycleStep::Publish,
            ServiceState::Published,
            "demo",
        )
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_demo_service_parses_and_stays_on_its_system() {
        let spec = super::spec().unwrap();
        let base = lgsp_core::HttpUrl::parse("https://duan.skhdt.hanam.gov.vn").unwrap();
        assert_eq!(
            lgsp_core::service::check_upstream(&base, &spec.upstream_url),
            Ok(())
        );
    }
}
