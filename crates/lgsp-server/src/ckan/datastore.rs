//! CKAN's `datastore_search` over hosted records, answered by the same query engine as
//! `/api/v1/datasets/{id}/records`: `resource_id` (the dataset id, or `{id}-records`), `q`
//! (text in any text field, or an object of field → text), `filters` (field → value or list),
//! `fields`, `sort`, `limit` (≤ 32000), `offset`, `include_total`. Like the rest of the CKAN
//! API it is the public, open-data face of the platform: open and public datasets only, and
//! never their personal fields.

use lgsp_core::catalog::{AccessLevel, DatasetId};
use lgsp_core::record_query::{Filter, Op, OrderKey, RecordQuery, Search};
use lgsp_core::table_schema::{parse_cell, CellValue, Field, FieldType};
use serde_json::{json, Map, Value};

use super::{CkanError, Params};
use crate::app::AppState;
use crate::catalog::{today, Snapshot};

const MAX_LIMIT: usize = 32_000;

fn ckan_type(kind: FieldType) -> &'static str {
    match kind {
        FieldType::String | FieldType::Geopoint => "text",
        FieldType::Integer | FieldType::Year => "int",
        FieldType::Number => "numeric",
        FieldType::Boolean => "bool",
        FieldType::Date => "date",
        FieldType::Datetime => "timestamp",
        FieldType::Time => "time",
    }
}

/// A filter value as the text the field parses (CKAN clients send numbers and booleans too).
fn text_of(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// An object parameter given as JSON or as a string holding JSON.
fn object(params: &Params, key: &str) -> Result<Option<Map<String, Value>>, CkanError> {
    let invalid = || CkanError::validation(format!("{key}: expected a JSON object"));
    match params.0.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(map)) => Ok(Some(map.clone())),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => match serde_json::from_str(s) {
            Ok(Value::Object(map)) => Ok(Some(map)),
            _ => Err(invalid()),
        },
        Some(_) => Err(invalid()),
    }
}

pub async fn datastore_search(
    state: &AppState,
    base: &str,
    params: &Params,
) -> Result<Value, CkanError> {
    let resource = params
        .str("resource_id")
        .or_else(|| params.str("id"))
        .ok_or_else(|| CkanError::validation("resource_id: Missing value"))?;
    let id = resource.strip_suffix("-records").unwrap_or(&resource);
    let not_found = || CkanError::not_found(format!("Resource \"{resource}\" was not found."));
    let snapshot = Snapshot::load(state, today()).await?;
    let dataset = snapshot.dataset(id).ok_or_else(not_found)?;
    if !matches!(
        dataset.dataset.access_level,
        AccessLevel::Open | AccessLevel::Public
    ) {
        return Err(CkanError::authorization(
            "Access denied: this dataset is not open; use /api/v1 with a grant",
        ));
    }
    let dataset_id = DatasetId::parse(id).map_err(|_| not_found())?;
    let table = state
        .store
        .record_table(&dataset_id)
        .await
        .map_err(crate::error::ApiError::from)?
        .ok_or_else(not_found)?;
    let visible: Vec<&Field> = table.schema.fields.iter().filter(|f| !f.personal).collect();
    let field = |name: &str, key: &str| {
        visible
            .iter()
            .copied()
            .find(|f| f.name == name)
            .ok_or_else(|| CkanError::validation(format!("{key}: field \"{name}\" not in table")))
    };

    let mut query = RecordQuery::all(chrono::Utc::now());
    if dataset
        .data_kinds
        .contains(&lgsp_core::catalog::DataKind::CodeList)
    {
        query.effective_on = Some(crate::catalog::today());
    }
    if let Some(filters) = object(params, "filters")? {
        for (name, value) in filters {
            let f = field(&name, "filters")?;
            let raw: Vec<String> = match &value {
                Value::Array(items) => items.iter().filter_map(text_of).collect(),
                other => text_of(other).into_iter().collect(),
            };
            if raw.is_empty() {
                return Err(CkanError::validation(format!(
                    "filters: \"{name}\" needs a value or a list of values"
                )));
            }
            let values = raw
                .iter()
                .map(|r| parse_cell(f, r))
                .collect::<Result<Vec<CellValue>, String>>()
                .map_err(|why| CkanError::validation(format!("filters: {name}: {why}")))?;
            let op = if values.len() == 1 { Op::Eq } else { Op::In };
            query.filters.push(Filter {
                field: f.name.clone(),
                op,
                negated: false,
                values,
            });
        }
    }
    match params.0.get("q") {
        None | Some(Value::Null) => {}
        Some(Value::String(text)) if text.trim_start().starts_with('{') => {
            let fields = object(params, "q")?.unwrap_or_default();
            search_fields(&mut query, &fields, &field)?;
        }
        Some(Value::Object(fields)) => search_fields(&mut query, fields, &field)?,
        Some(Value::String(text)) if !text.trim().is_empty() => {
            query.search = Some(Search {
                text: text.trim().to_owned(),
                fields: visible.iter().map(|f| f.name.clone()).collect(),
            });
        }
        Some(_) => {}
    }
    if let Some(sort) = params.str("sort").filter(|s| !s.trim().is_empty()) {
        for item in sort.split(',') {
            let mut words = item.split_whitespace();
            let name = words.next().unwrap_or_default();
            let descending = match words.next().map(str::to_ascii_lowercase).as_deref() {
                None | Some("asc") => false,
                Some("desc") => true,
                Some(other) => {
                    return Err(CkanError::validation(format!(
                        "sort: \"{other}\" is not asc or desc"
                    )))
                }
            };
            if name == "_id" {
                continue; // every order ends with _id
            }
            query.order.push(OrderKey {
                field: field(name, "sort")?.name.clone(),
                descending,
                nulls_first: None,
            });
        }
    }
    let limit = params.int("limit", 100, MAX_LIMIT)?;
    let offset = params.int("offset", 0, usize::MAX)?;
    query.limit = Some(limit);
    query.offset = offset;
    if params.str("records_format").is_some_and(|f| f != "objects") {
        return Err(CkanError::validation(
            "records_format: only \"objects\" is supported",
        ));
    }
    let selected: Vec<&Field> = match params.list("fields").or_else(|_| {
        Ok::<_, CkanError>(
            params
                .str("fields")
                .map(|s| s.split(',').map(|f| f.trim().to_owned()).collect())
                .unwrap_or_default(),
        )
    })? {
        names if names.is_empty() => visible.clone(),
        names => names
            .iter()
            .filter(|n| n.as_str() != "_id")
            .map(|n| field(n, "fields"))
            .collect::<Result<_, _>>()?,
    };
    let include_total = params
        .str("include_total")
        .is_none_or(|v| !matches!(v.as_str(), "false" | "False" | "0"));

    let records = state
        .store
        .records(&table, &query)
        .await
        .map_err(crate::error::ApiError::from)?;
    let total = if include_total {
        Some(
            state
                .store
                .count_records(&table, &query)
                .await
                .map_err(crate::error::ApiError::from)?,
        )
    } else {
        None
    };
    let positions: Vec<(usize, &Field)> = selected
        .iter()
        .map(|f| {
            let i = table.schema.fields.iter().position(|g| g.name == f.name);
            (i.unwrap_or_default(), *f)
        })
        .collect();
    let rows: Vec<Value> = records
        .iter()
        .map(|record| {
            let mut row = Map::new();
            row.insert("_id".into(), json!(record.row));
            for (i, f) in &positions {
                row.insert(
                    f.name.clone(),
                    serde_json::to_value(&record.values[*i]).unwrap_or(Value::Null),
                );
            }
            Value::Object(row)
        })
        .collect();
    let mut fields = vec![json!({"id": "_id", "type": "int"})];
    fields.extend(positions.iter().map(|(_, f)| {
        json!({
            "id": f.name,
            "type": ckan_type(f.kind),
            "info": {"label": f.title, "notes": f.description},
        })
    }));
    let start = format!("/api/3/action/datastore_search?resource_id={resource}");
    let mut result = json!({
        "resource_id": resource,
        "fields": fields,
        "records": rows,
        "limit": limit,
        "offset": offset,
        "records_format": "objects",
        "_links": {
            "start": start,
            "next": format!("{start}&offset={}", offset + limit),
        },
        "lgsp:source": format!("{base}/dataset/{id}"),
    });
    if let Some(total) = total {
        result["total"] = json!(total);
        result["total_was_estimated"] = json!(false);
    }
    Ok(result)
}

/// `q` as an object: each field must contain its text.
fn search_fields<'a>(
    query: &mut RecordQuery,
    fields: &Map<String, Value>,
    field: &impl Fn(&str, &str) -> Result<&'a Field, CkanError>,
) -> Result<(), CkanError> {
    for (name, text) in fields {
        let f = field(name, "q")?;
        let text = text_of(text).unwrap_or_default();
        if f.kind != FieldType::String {
            return Err(CkanError::validation(format!(
                "q: \"{name}\" is not a text field"
            )));
        }
        query.filters.push(Filter {
            field: f.name.clone(),
            op: Op::Ilike,
            negated: false,
            values: vec![CellValue::String(format!("*{}*", text.replace('*', "")))],
        });
    }
    Ok(())
}
