//! `/api/v1/datasets/{id}/schema` and `/api/v1/datasets/{id}/records`: a dataset's Table
//! Schema, imports that replace its records, and reads as of any instant.

use axum::body::Body;
use axum::extract::State;
use axum::http::header::{
    ACCEPT, CONTENT_DISPOSITION, CONTENT_RANGE, CONTENT_TYPE, ETAG, IF_NONE_MATCH, LINK, VARY,
};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::TryStreamExt;
use lgsp_core::catalog::{DataKind, DatasetId};
use lgsp_core::record_query::RecordQuery;
use lgsp_core::table_schema::TableSchema;
use lgsp_core::{may_see_personal_fields, Action, AgencyCode, Resource};
use lgsp_store::{ImportMode, RecordTable, SchemaChange};
use serde::{Deserialize, Serialize};
use sha2::Digest;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::downloads::{self, Columns, Format, Source};
use super::import::{import_csv, ImportError, Imported};
use super::provenance::Provenance;
use super::validation::ReadError;
use crate::app::AppState;
use crate::auth::Caller;
use crate::catalog::{today, PublishedDataset, Snapshot};
use crate::ckan::base_url;
use crate::error::{ApiError, ErrorCode, ProblemDoc};
use crate::extract::{Json, Path, Query};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(define_schema))
        .routes(routes!(import_records, read_records))
}

/// The dataset's owner and access level, from the catalog in force.
async fn published(
    state: &AppState,
    id: &DatasetId,
) -> Result<
    (
        AgencyCode,
        lgsp_core::catalog::AccessLevel,
        PublishedDataset,
    ),
    ApiError,
> {
    let snapshot = Snapshot::load(state, today()).await?;
    let found = snapshot.dataset(id.as_str()).ok_or_else(|| {
        ApiError::new(ErrorCode::ResourceNotFound)
            .detail(format!("dataset {id} is not in the catalog"))
    })?;
    let owner = AgencyCode::parse(&found.owner).map_err(ApiError::internal)?;
    Ok((owner, found.dataset.access_level, found.clone()))
}

/// The dataset's owner and publication, if `caller` may take `action` on its records.
async fn allowed(
    state: &AppState,
    caller: &Caller,
    id: &DatasetId,
    action: Action,
) -> Result<(AgencyCode, PublishedDataset), ApiError> {
    let (owner, access, dataset) = published(state, id).await?;
    caller.authorize(
        action,
        Resource::Records {
            owner: &owner,
            access,
        },
    )?;
    Ok((owner, dataset))
}

async fn table(state: &AppState, id: &DatasetId) -> Result<RecordTable, ApiError> {
    state.store.record_table(id).await?.ok_or_else(|| {
        ApiError::new(ErrorCode::ResourceNotFound).detail(format!(
            "dataset {id} has no schema yet: PUT its Table Schema first"
        ))
    })
}

#[derive(Serialize, ToSchema)]
pub struct SchemaDefined {
    dataset: String,
    #[schema(value_type = Object)]
    schema: TableSchema,
}

/// Give a dataset its Frictionless Table Schema, which creates its table of records (201), or
/// change it (200): every current record must fit the new schema (else 422
/// `schema_change_conflict` naming the rows, and nothing changes); then columns are added,
/// dropped or retyped in one transaction, past versions kept with their time intervals. Foreign
/// keys must reference code lists (else 400 `invalid_foreign_key`). The owner agency's
/// administrator, or the operator.
#[utoipa::path(put, path = "/datasets/{id}/schema", tag = "datasets",
    params(("id" = String, Path, description = "Dataset id")),
    request_body(content = Object, description = "A Frictionless Table Schema"),
    responses((status = 201, body = SchemaDefined), (status = 200, body = SchemaDefined),
        (status = 400, body = ProblemDoc, description = "`invalid_foreign_key`"),
        (status = 403, body = ProblemDoc),
        (status = 404, body = ProblemDoc), (status = 409, body = ProblemDoc),
        (status = 422, body = ProblemDoc, description = "`schema_change_conflict` with `conflicts` and `total`")))]
async fn define_schema(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<DatasetId>,
    Json(schema): Json<TableSchema>,
) -> Result<impl IntoResponse, ApiError> {
    allowed(&state, &caller, &id, Action::Update).await?;
    super::references::check(&state, &schema).await?;
    let (status, table) = if state.store.record_table(&id).await?.is_some() {
        match state.store.change_record_table(&id, &schema).await? {
            SchemaChange::Applied(table) => (StatusCode::OK, table),
            SchemaChange::Refused { total, conflicts } => {
                return Err(ApiError::new(ErrorCode::SchemaChangeConflict)
                    .detail(format!(
                "{total} problems in the current records under the new schema; nothing was changed"
            ))
                    .with("total", serde_json::json!(total))
                    .with(
                        "conflicts",
                        serde_json::to_value(&conflicts).unwrap_or_default(),
                    ))
            }
        }
    } else {
        (
            StatusCode::CREATED,
            state.store.create_record_table(&id, &schema).await?,
        )
    };
    tracing::info!(dataset = %id, by = %caller.name(), "dataset schema defined");
    Ok((
        status,
        axum::Json(SchemaDefined {
            dataset: table.dataset.to_string(),
            schema: table.schema,
        }),
    ))
}

fn read_error(error: ReadError) -> ApiError {
    match error {
        ReadError::NotUtf8 { .. } => {
            ApiError::new(ErrorCode::InvalidEncoding).detail(error.to_string())
        }
        ReadError::Io(io) if io.kind() == std::io::ErrorKind::FileTooLarge => {
            ApiError::new(ErrorCode::PayloadTooLarge)
        }
        other => ApiError::new(ErrorCode::InvalidBody).detail(other.to_string()),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportParams {
    mode: Option<String>,
}

/// Import a CSV file (UTF-8 with or without BOM; comma, semicolon or tab; quoted fields; CRLF)
/// into a dataset's records, all or nothing: the file streams through validation into one
/// transaction that commits only if every row is valid. `replace` (default) makes the file the
/// whole content; `upsert` replaces rows by primary key and adds the others; `append` adds rows
/// and refuses keys that exist.
#[utoipa::path(post, path = "/datasets/{id}/records", tag = "datasets",
    params(("id" = String, Path, description = "Dataset id"),
        ("mode" = Option<String>, Query, description = "`replace` (default), `upsert` or `append`")),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, description = "`rows`, `changed_at` and the validation `report`"), (status = 403, body = ProblemDoc),
        (status = 409, body = ProblemDoc, description = "`conflict`: appended keys exist"),
        (status = 413, body = ProblemDoc),
        (status = 422, body = ProblemDoc, description = "`import_invalid` with a `report`, `invalid_encoding`")))]
async fn import_records(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<DatasetId>,
    Query(params): Query<ImportParams>,
    body: Body,
) -> Result<axum::Json<Imported>, ApiError> {
    let mode = match params.mode.as_deref() {
        None | Some("replace") => ImportMode::Replace,
        Some("upsert") => ImportMode::Upsert,
        Some("append") => ImportMode::Append,
        Some(_) => {
            return Err(ApiError::new(ErrorCode::InvalidParameter)
                .detail("`mode` is `replace` (default), `upsert` or `append`"))
        }
    };
    allowed(&state, &caller, &id, Action::Update).await?;
    let table = table(&state, &id).await?;

    // The body streams into a blocking CSV reader; valid rows come back over a bounded
    // channel and go into the import's transaction in batches.
    let limit = state.settings.max_import_bytes;
    let mut seen = 0u64;
    let stream = body
        .into_data_stream()
        .map_err(std::io::Error::other)
        .and_then(move |chunk| {
            seen += chunk.len() as u64;
            let outcome = if seen > limit {
                Err(std::io::Error::new(
                    std::io::ErrorKind::FileTooLarge,
                    "the file is too large",
                ))
            } else {
                Ok(chunk)
            };
            std::future::ready(outcome)
        });
    let reader = tokio_util::io::SyncIoBridge::new(tokio_util::io::StreamReader::new(stream));
    let imported = import_csv(&state.store, &table, mode, reader)
        .await
        .map_err(|error| match error {
            ImportError::Read(error) => read_error(error),
            ImportError::Invalid(report) => ApiError::new(ErrorCode::ImportInvalid)
                .detail(format!(
                    "{} errors in {} rows",
                    report.stats.errors, report.stats.rows
                ))
                .with("report", serde_json::to_value(&report).unwrap_or_default()),
            ImportError::Store(error) => error.into(),
            ImportError::Task(error) => ApiError::internal(error),
        })?;
    let rows = imported.rows;
    tracing::info!(dataset = %id, rows, by = %caller.name(), "records imported");
    Ok(axum::Json(imported))
}

/// Read a dataset's records with the query language of DESIGN.md: `select=a,b`,
/// `{field}=[not.]op.value` (`eq`, `neq`, `gt`, `gte`, `lt`, `lte`, `like`, `ilike` with `*`
/// wildcards, `in.(a,b)`, `is.null|true|false`), `order=a.desc,b.nullsfirst`, `limit`,
/// `offset` or keyset `after` (from the `Link: rel="next"` header), `as_of` (RFC 3339 or a
/// date), `Prefer: count=exact` → `Content-Range`. JSON comes in pages (default 100); CSV,
/// NDJSON, XLSX (with a source sheet) and Data Package zips, by `format=` or `Accept`, hold
/// every matching record unless `limit` is given, and stream. Code lists answer with the
/// entries in effect on the `as_of` day. Open and public datasets need no account; personal
/// fields are shown to, and filterable by, only the owner and the operator.
#[utoipa::path(get, path = "/datasets/{id}/records", tag = "datasets",
    params(("id" = String, Path, description = "Dataset id"),
        ("select" = Option<String>, Query, description = "Fields to return, comma-separated"),
        ("order" = Option<String>, Query, description = "`field[.asc|.desc][.nullsfirst|.nullslast]`, comma-separated"),
        ("as_of" = Option<String>, Query, description = "RFC 3339 instant or date (Viet Nam midnight)"),
        ("limit" = Option<usize>, Query, description = "1–10000; JSON default 100, downloads default all"),
        ("offset" = Option<usize>, Query, description = "Rows to skip"),
        ("after" = Option<String>, Query, description = "Keyset cursor from the previous page's `Link` header"),
        ("format" = Option<String>, Query, description = "json, ndjson, csv, xlsx or datapackage"),
        ("Prefer" = Option<String>, Header, description = "`count=exact` adds the total to `Content-Range`")),
    responses((status = 200, description = "Records (JSON objects, or the chosen format)"),
        (status = 304, description = "Unchanged since the given ETag"),
        (status = 400, body = ProblemDoc, description = "`invalid_parameter` naming the parameter"),
        (status = 401, body = ProblemDoc), (status = 403, body = ProblemDoc),
        (status = 404, body = ProblemDoc), (status = 406, body = ProblemDoc),
        (status = 413, body = ProblemDoc, description = "`export_too_large` for XLSX")))]
async fn read_records(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    uri: axum::http::Uri,
    Path(id): Path<DatasetId>,
) -> Result<Response, ApiError> {
    let (owner, dataset) = allowed(&state, &caller, &id, Action::Read).await?;
    let table = table(&state, &id).await?;
    let mut params: Vec<(String, String)> =
        serde_urlencoded::from_str(uri.query().unwrap_or_default()).map_err(|_| {
            ApiError::new(ErrorCode::InvalidParameter).detail("the query string is malformed")
        })?;
    let original = params.clone();
    for (_, value) in params.iter_mut().filter(|(name, _)| name == "after") {
        // Cursors travel as base64url; an undecodable one is left for the parser to refuse.
        use base64::Engine;
        if let Some(text) = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(value.as_bytes())
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
        {
            *value = text;
        }
    }
    let parameter = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let accept = headers.get(ACCEPT).and_then(|v| v.to_str().ok());
    let format = Format::choose(parameter("format"), accept)?;
    let mut query =
        RecordQuery::parse(&table.schema, &params, chrono::Utc::now()).map_err(|e| {
            ApiError::new(ErrorCode::InvalidParameter)
                .detail(e.to_string())
                .with("parameter", serde_json::Value::String(e.parameter))
        })?;
    if format.is_download() && parameter("limit").is_none() {
        query.limit = None;
    }
    if dataset.data_kinds.contains(&DataKind::CodeList) {
        // A code list is asked which entries were in effect on a day (business time), as the
        // platform knows it now: entries are often recorded after they take effect.
        query.effective_on = Some(vietnam_day(query.as_of));
        query.as_of = chrono::Utc::now();
    }
    let personal = may_see_personal_fields(&caller.actor, &owner);
    let columns = columns(&table.schema, &query, personal)?;
    let count_exact = headers
        .get_all("prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| p.trim() == "count=exact");

    // The answer depends on the data's last change, the query, the format and what the
    // caller may see.
    let etag = {
        let key = format!(
            "{id}|{:?}|{}|{format:?}|{count_exact}|{personal}",
            table.last_change_at,
            uri.query().unwrap_or_default()
        );
        let digest = sha2::Sha256::digest(key.as_bytes());
        let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
        format!("W/\"{hex}\"")
    };
    let base = base_url(&state, &headers);
    let retrieved_at = chrono::Utc::now();
    let provenance = Provenance {
        dataset: &dataset,
        last_change: table.last_change_at,
        retrieved_at,
        base: &base,
    };
    let unchanged = headers
        .get(IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut extra: Vec<(HeaderName, String)> = Vec::new();
    let mut response = if unchanged {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let total = if count_exact {
            Some(state.store.count_records(&table, &query).await?)
        } else {
            None
        };
        let body = match (query.limit, format) {
            (Some(limit), _) => {
                let records = state.store.records(&table, &query).await?;
                let first = query.offset;
                let range = match records.len() {
                    0 => "*".to_owned(),
                    n => format!("{first}-{}", first + n - 1),
                };
                let total_text = total.map_or("*".to_owned(), |t| t.to_string());
                extra.push((CONTENT_RANGE, format!("{range}/{total_text}")));
                if let (true, Some(last)) = (records.len() == limit, records.last()) {
                    let cursor = query.cursor_after(&table.schema, &last.values, last.row);
                    let next = next_link(&base, &id, &original, &cursor.encode());
                    extra.push((LINK, format!("<{next}>; rel=\"next\"")));
                }
                match format {
                    Format::Xlsx | Format::DataPackage => {
                        let (sender, batches) = tokio::sync::mpsc::channel(1);
                        let _ = sender.send(Ok(records)).await;
                        drop(sender);
                        archive(&state, format, &columns, &table, &provenance, &uri, batches)
                            .await?
                    }
                    _ => Body::from(downloads::page(format, &columns, &records)),
                }
            }
            (None, Format::Xlsx | Format::DataPackage) => {
                let batches = state.store.stream_records(&table, &query);
                archive(&state, format, &columns, &table, &provenance, &uri, batches).await?
            }
            (None, _) => {
                if let Some(total) = total {
                    extra.push((CONTENT_RANGE, format!("*/{total}")));
                }
                let batches = state.store.stream_records(&table, &query);
                downloads::stream_text(format, columns.clone(), batches)
            }
        };
        if count_exact {
            extra.push((
                HeaderName::from_static("preference-applied"),
                "count=exact".into(),
            ));
        }
        let mut response = Response::new(body);
        response.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static(format.content_type()),
        );
        if format.is_download() {
            extra.push((
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"{id}.{}\"", format.extension()),
            ));
        }
        response
    };
    let out = response.headers_mut();
    for (name, value) in provenance.headers() {
        out.insert(name, value);
    }
    for (name, value) in extra {
        if let Ok(value) = HeaderValue::from_str(&value) {
            out.insert(name, value);
        }
    }
    if let Ok(value) = HeaderValue::from_str(&etag) {
        out.insert(ETAG, value);
    }
    out.insert(
        VARY,
        HeaderValue::from_static("Accept, Prefer, Authorization, Cookie"),
    );
    Ok(response)
}

/// The fields the answer shows: the selection (or all), without personal fields for callers
/// who may not see them — who may not filter or order by them either, since that would reveal
/// their values.
fn columns(schema: &TableSchema, query: &RecordQuery, personal: bool) -> Result<Columns, ApiError> {
    let hidden =
        |name: &str| !personal && schema.fields.iter().any(|f| f.name == name && f.personal);
    let refuse = |parameter: &str, name: &str| {
        ApiError::new(ErrorCode::Forbidden)
            .detail(format!(
                "`{parameter}`: `{name}` holds personal data, shown only to the owner agency"
            ))
            .with("parameter", serde_json::Value::from(parameter))
    };
    for filter in &query.filters {
        if hidden(&filter.field) {
            return Err(refuse(&filter.field, &filter.field));
        }
    }
    for key in &query.order {
        if hidden(&key.field) {
            return Err(refuse("order", &key.field));
        }
    }
    let fields = match &query.select {
        Some(names) => {
            let mut fields = Vec::new();
            for name in names {
                if hidden(name) {
                    return Err(refuse("select", name));
                }
                if let Some(i) = schema.fields.iter().position(|f| &f.name == name) {
                    fields.push((i, schema.fields[i].clone()));
                }
            }
            fields
        }
        None => schema
            .fields
            .iter()
            .enumerate()
            .filter(|(_, f)| personal || !f.personal)
            .map(|(i, f)| (i, f.clone()))
            .collect(),
    };
    Ok(Columns { fields })
}

/// The day an instant falls on in Viet Nam (UTC+7).
fn vietnam_day(at: chrono::DateTime<chrono::Utc>) -> chrono::NaiveDate {
    let vietnam = chrono::FixedOffset::east_opt(7 * 3600).expect("UTC+7 is a valid offset");
    at.with_timezone(&vietnam).date_naive()
}

/// The same query continued after `cursor` (base64url, opaque to clients).
fn next_link(base: &str, id: &DatasetId, params: &[(String, String)], cursor: &str) -> String {
    use base64::Engine;
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(cursor);
    let mut next: Vec<(&str, &str)> = params
        .iter()
        .filter(|(k, _)| k != "after" && k != "offset")
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    next.push(("after", &token));
    let query = serde_urlencoded::to_string(&next).unwrap_or_default();
    format!("{base}/api/v1/datasets/{id}/records?{query}")
}

async fn archive(
    state: &AppState,
    format: Format,
    columns: &Columns,
    table: &RecordTable,
    provenance: &Provenance<'_>,
    uri: &axum::http::Uri,
    batches: tokio::sync::mpsc::Receiver<lgsp_store::Result<Vec<lgsp_store::Record>>>,
) -> Result<Body, ApiError> {
    let d = provenance.dataset;
    let source = Source {
        dataset_id: d.dataset.id.to_string(),
        title: d.dataset.title.to_string(),
        description: d.dataset.description.to_string(),
        agency_code: d.owner.clone(),
        agency_name: d.owner_name.clone(),
        licence: d.dataset.licence.to_string(),
        url: format!("{}/dataset/{}", provenance.base, d.dataset.id),
        query: uri.query().unwrap_or_default().to_owned(),
        citation: provenance.citation(),
        last_change: provenance.last_change,
        retrieved_at: provenance.retrieved_at,
    };
    let file = downloads::write_archive(
        format,
        columns.clone(),
        table.schema.clone(),
        source,
        batches,
        state.settings.data_dir.join("tmp"),
    )
    .await?;
    Ok(Body::from_stream(tokio_util::io::ReaderStream::new(file)))
}
