//! The records part of a dataset's page: its schema, a preview table with equality filters,
//! the download links (carrying the same filters) and ready-to-paste API calls. Read through
//! the same query engine, access check and personal-field rule as the records API.

use lgsp_core::catalog::{DataKind, DatasetId};
use lgsp_core::record_query::{cell_text, Filter, Op, RecordQuery};
use lgsp_core::table_schema::{parse_cell, FieldType};
use lgsp_core::{may_see_personal_fields, Action, AgencyCode, Resource};

use crate::app::AppState;
use crate::auth::Caller;
use crate::catalog::PublishedDataset;
use crate::error::ApiError;

/// Rows shown on the page.
const ROWS: usize = 20;

pub struct SchemaRow {
    pub name: String,
    pub title: String,
    pub kind: &'static str,
    pub rules: String,
    pub personal: bool,
}

pub struct FilterInput {
    pub name: String,
    pub label: String,
    pub value: String,
}

pub struct Preview {
    pub schema: Vec<SchemaRow>,
    pub filters: Vec<FilterInput>,
    /// Column labels and rows of the preview.
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
    pub total: u64,
    /// `field=eq.value&…` for the links.
    pub query: String,
    pub filter_error: Option<String>,
    pub hidden_personal: bool,
    pub curl: String,
    pub ckan: String,
    pub code_list: bool,
}

fn kind_vi(kind: FieldType) -> &'static str {
    match kind {
        FieldType::String => "Chuỗi ký tự",
        FieldType::Integer => "Số nguyên",
        FieldType::Number => "Số thực",
        FieldType::Boolean => "Đúng/Sai",
        FieldType::Date => "Ngày",
        FieldType::Datetime => "Ngày giờ",
        FieldType::Time => "Giờ",
        FieldType::Year => "Năm",
        FieldType::Geopoint => "Tọa độ (kinh độ, vĩ độ)",
    }
}

/// The preview for `caller`, or `None` when the caller may not read the records or the dataset
/// has none yet. `params` are the page's query parameters: `field=value` filters.
pub async fn preview(
    state: &AppState,
    caller: &Caller,
    dataset: &PublishedDataset,
    params: &[(String, String)],
    base: &str,
) -> Result<Option<Preview>, ApiError> {
    let Ok(owner) = AgencyCode::parse(&dataset.owner) else {
        return Ok(None);
    };
    let resource = Resource::Records {
        owner: &owner,
        access: dataset.dataset.access_level,
    };
    if caller.authorize(Action::Read, resource).is_err() {
        return Ok(None);
    }
    let id: &DatasetId = &dataset.dataset.id;
    let Some(table) = state.store.record_table(id).await? else {
        return Ok(None);
    };
    let personal = may_see_personal_fields(&caller.actor, &owner);
    let visible: Vec<(usize, &lgsp_core::table_schema::Field)> = table
        .schema
        .fields
        .iter()
        .enumerate()
        .filter(|(_, f)| personal || !f.personal)
        .collect();
    let code_list = dataset.data_kinds.contains(&DataKind::CodeList);
    let mut query = RecordQuery::all(chrono::Utc::now());
    if code_list {
        query.effective_on = Some(crate::catalog::today());
    }
    query.limit = Some(ROWS);
    let mut filters = Vec::new();
    let mut links = Vec::new();
    let mut filter_error = None;
    for (_, field) in &visible {
        let value = params
            .iter()
            .find(|(k, _)| k == &field.name)
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default();
        if !value.is_empty() {
            match parse_cell(field, &value) {
                Ok(cell) => {
                    links.push((field.name.clone(), format!("eq.{}", cell_text(&cell))));
                    query.filters.push(Filter {
                        field: field.name.clone(),
                        op: Op::Eq,
                        negated: false,
                        values: vec![cell],
                    });
                }
                Err(why) => {
                    filter_error = Some(format!(
                        "Giá trị lọc của trường “{}” không hợp lệ: {why}",
                        field.title.as_deref().unwrap_or(&field.name)
                    ))
                }
            }
        }
        filters.push(FilterInput {
            name: field.name.clone(),
            label: field.title.clone().unwrap_or_else(|| field.name.clone()),
            value,
        });
    }
    let records = state.store.records(&table, &query).await?;
    let total = state.store.count_records(&table, &query).await?;
    let query_string = serde_urlencoded::to_string(&links).unwrap_or_default();
    let api = format!("{base}/api/v1/datasets/{id}/records");
    let mut example = links.clone();
    example.push(("limit".into(), "20".into()));
    let curl = format!(
        "curl '{api}?{}'",
        serde_urlencoded::to_string(&example).unwrap_or_default()
    );
    let ckan = format!("{base}/api/3/action/datastore_search?resource_id={id}&limit=20");
    Ok(Some(Preview {
        schema: table
            .schema
            .fields
            .iter()
            .map(|f| SchemaRow {
                name: f.name.clone(),
                title: f.title.clone().unwrap_or_default(),
                kind: kind_vi(f.kind),
                rules: rules(f),
                personal: f.personal,
            })
            .collect(),
        filters,
        columns: visible
            .iter()
            .map(|(_, f)| f.title.clone().unwrap_or_else(|| f.name.clone()))
            .collect(),
        rows: records
            .iter()
            .map(|r| {
                visible
                    .iter()
                    .map(|(i, f)| match (&r.values[*i], f.kind) {
                        (lgsp_core::table_schema::CellValue::Date(d), _) => {
                            d.format("%d/%m/%Y").to_string()
                        }
                        (lgsp_core::table_schema::CellValue::Boolean(b), _) => {
                            if *b { "Có" } else { "Không" }.to_owned()
                        }
                        (value, _) => cell_text(value),
                    })
                    .collect()
            })
            .collect(),
        total,
        query: query_string,
        filter_error,
        hidden_personal: !personal && table.schema.fields.iter().any(|f| f.personal),
        curl,
        ckan,
        code_list,
    }))
}

/// The field's constraints in words.
fn rules(field: &lgsp_core::table_schema::Field) -> String {
    let c = &field.constraints;
    let mut rules = Vec::new();
    if c.required {
        rules.push("bắt buộc".to_owned());
    }
    if c.unique {
        rules.push("không trùng".to_owned());
    }
    if let Some(min) = &c.minimum {
        rules.push(format!("tối thiểu {min}"));
    }
    if let Some(max) = &c.maximum {
        rules.push(format!("tối đa {max}"));
    }
    if let Some(n) = c.min_length {
        rules.push(format!("dài ít nhất {n} ký tự"));
    }
    if let Some(n) = c.max_length {
        rules.push(format!("dài tối đa {n} ký tự"));
    }
    if let Some(p) = &c.pattern {
        rules.push(format!("mẫu {p}"));
    }
    if let Some(values) = &c.allowed {
        let values: Vec<String> = values
            .iter()
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
            .collect();
        rules.push(format!("một trong: {}", values.join(", ")));
    }
    rules.join("; ")
}
