//! Hosted records of the demo: the administrative units code list of Hà Nam before and after
//! the 2025 rearrangement (Resolution 202/2025/QH15; Decision 19/2025/QĐ-TTg), with effective
//! dates and the crosswalk from old codes to new ones, so that a query as of 2024 shows the old
//! units and one as of 2026 the new.

use lgsp_core::catalog::DatasetId;
use lgsp_core::table_schema::TableSchema;
use lgsp_store::{ImportMode, Store};

use crate::datasets::import::import_csv;

const UNITS: &str = "don-vi-hanh-chinh";

fn units_schema() -> serde_json::Value {
    serde_json::json!({
        "fields": [
            {"name": "ma", "type": "string", "title": "Mã đơn vị hành chính",
             "constraints": {"required": true, "pattern": "[0-9]{2,5}"}},
            {"name": "ten", "type": "string", "title": "Tên đơn vị hành chính",
             "constraints": {"required": true}},
            {"name": "cap", "type": "string", "title": "Cấp",
             "constraints": {"required": true, "enum": ["tinh", "huyen", "xa"]}},
            {"name": "ma_cap_tren", "type": "string", "title": "Mã đơn vị cấp trên"},
            {"name": "effective_from", "type": "date", "title": "Có hiệu lực từ ngày",
             "constraints": {"required": true}},
            {"name": "effective_to", "type": "date", "title": "Hết hiệu lực từ ngày"},
            {"name": "ma_thay_the", "type": "string", "title": "Mã đơn vị thay thế (đối chiếu mã cũ – mã mới)"},
            {"name": "can_cu", "type": "string", "title": "Căn cứ pháp lý"}
        ],
        "primaryKey": "ma"
    })
}

/// One unit per line; the province's pre-2025 units end on 01/07/2025 and name their successor.
const UNITS_CSV: &str = "\
ma,ten,cap,ma_cap_tren,effective_from,effective_to,ma_thay_the,can_cu
35,Tỉnh Hà Nam,tinh,,1997-01-01,2025-07-01,37,Nghị quyết 202/2025/QH15
347,Thành phố Phủ Lý,huyen,35,1997-01-01,2025-07-01,13285,Quyết định 19/2025/QĐ-TTg
349,Thị xã Duy Tiên,huyen,35,1997-01-01,2025-07-01,13324,Quyết định 19/2025/QĐ-TTg
350,Thị xã Kim Bảng,huyen,35,1997-01-01,2025-07-01,13384,Quyết định 19/2025/QĐ-TTg
351,Huyện Thanh Liêm,huyen,35,1997-01-01,2025-07-01,37,Nghị quyết 202/2025/QH15
352,Huyện Bình Lục,huyen,35,1997-01-01,2025-07-01,37,Nghị quyết 202/2025/QH15
353,Huyện Lý Nhân,huyen,35,1997-01-01,2025-07-01,37,Nghị quyết 202/2025/QH15
37,Tỉnh Ninh Bình,tinh,,2025-07-01,,,Nghị quyết 202/2025/QH15
13285,Phường Phủ Lý,xa,37,2025-07-01,,,Quyết định 19/2025/QĐ-TTg
13324,Phường Duy Tiên,xa,37,2025-07-01,,,Quyết định 19/2025/QĐ-TTg
13384,Phường Kim Bảng,xa,37,2025-07-01,,,Quyết định 19/2025/QĐ-TTg
";

/// Gives the code list its schema and records, once (idempotent).
pub async fn load(store: &Store) -> anyhow::Result<()> {
    let id = DatasetId::parse(UNITS)?;
    if store.record_table(&id).await?.is_some() {
        return Ok(());
    }
    let schema: TableSchema = serde_json::from_value(units_schema())?;
    let table = store.create_record_table(&id, &schema).await?;
    import_csv(store, &table, ImportMode::Replace, UNITS_CSV.as_bytes())
        .await
        .map_err(|e| anyhow::anyhow!("the demo code list does not import: {e}"))?;
    Ok(())
}
