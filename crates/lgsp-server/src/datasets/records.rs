//! `/api/v1/datasets/{id}/schema` and `/api/v1/datasets/{id}/records`: a dataset's Table
//! Schema, imports that replace its records, and reads as of any instant.

use axum::body::Body;
use axum::extract::State;
use axum::http::header::{ETAG, IF_NONE_MATCH};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::TryStreamExt;
use lgsp_core::catalog::DatasetId;
use lgsp_core::record_query::RecordQuery;
use lgsp_core::table_schema::TableSchema;
use lgsp_core::{may_see_personal_fields, Action, AgencyCode, Resource};
use lgsp_store::{ImportMode, RecordTable};
use serde::{Deserialize, Serialize};
use sha2::Digest;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

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

/// Give a dataset its Frictionless Table Schema, which creates its table of records
/// (the owner agency's administrator, or the operator).
#[utoipa::path(put, path = "/datasets/{id}/schema", tag = "datasets",
    params(("id" = String, Path, description = "Dataset id")),
    request_body(content = Object, description = "A Frictionless Table Schema"),
    responses((status = 201, body = SchemaDefined), (status = 403, body = ProblemDoc),
        (status = 404, body = ProblemDoc), (status = 409, body = ProblemDoc),
        (status = 422, body = ProblemDoc)))]
async fn define_schema(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<DatasetId>,
    Json(schema): Json<TableSchema>,
) -> Result<impl IntoResponse, ApiError> {
    allowed(&state, &caller, &id, Action::Update).await?;
    let created = state.store.create_record_table(&id, &schema).await?;
    tracing::info!(dataset = %id, by = %caller.name(), "dataset schema defined");
    Ok((
        StatusCode::CREATED,
        axum::Json(SchemaDefined {
            dataset: created.dataset.to_string(),
            schema: created.schema,
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

/// Read a dataset's records as of an instant (default now), filtered by `{field}=eq.{value}`.
/// Open and public datasets need no account; personal fields are shown only to the owner and
/// the operator.
#[utoipa::path(get, path = "/datasets/{id}/records", tag = "datasets",
    params(("id" = String, Path, description = "Dataset id"),
        ("as_of" = Option<String>, Query, description = "RFC 3339 instant"),
        ("limit" = Option<usize>, Query, description = "1–10000, default 100"),
        ("offset" = Option<usize>, Query, description = "Rows to skip")),
    responses((status = 200, description = "Records as JSON objects"), (status = 400, body = ProblemDoc),
        (status = 401, body = ProblemDoc), (status = 404, body = ProblemDoc)))]
async fn read_records(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    uri: axum::http::Uri,
    Path(id): Path<DatasetId>,
) -> Result<Response, ApiError> {
    let (owner, dataset) = allowed(&state, &caller, &id, Action::Read).await?;
    let table = table(&state, &id).await?;
    let params: Vec<(String, String)> = serde_urlencoded::from_str(uri.query().unwrap_or_default())
        .map_err(|_| {
            ApiError::new(ErrorCode::InvalidParameter).detail("the query string is malformed")
        })?;
    let query = RecordQuery::parse(&table.schema, &params, chrono::Utc::now()).map_err(|e| {
        ApiError::new(ErrorCode::InvalidParameter)
            .detail(e.to_string())
            .with("parameter", serde_json::Value::String(e.parameter))
    })?;
    let records = state.store.records(&table, &query).await?;
    let personal = may_see_personal_fields(&caller.actor, &owner);
    // The answer depends on the data's last change, the query and what the caller may see.
    let etag = {
        let key = format!(
            "{id}|{:?}|{}|{personal}",
            table.last_change_at,
            uri.query().unwrap_or_default()
        );
        let digest = sha2::Sha256::digest(key.as_bytes());
        format!(
            "W/\"{}\"",
            digest[..12]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        )
    };
    let provenance = Provenance {
        dataset: &dataset,
        last_change: table.last_change_at,
        retrieved_at: chrono::Utc::now(),
        base: &base_url(&state, &headers),
    };
    let unchanged = headers
        .get(IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut response = if unchanged {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let body: Vec<serde_json::Map<String, serde_json::Value>> = records
            .into_iter()
            .map(|record| {
                let record = record.values;
                table
                    .schema
                    .fields
                    .iter()
                    .zip(record)
                    .filter(|(field, _)| personal || !field.personal)
                    .map(|(field, value)| {
                        (
                            field.name.clone(),
                            serde_json::to_value(value).unwrap_or(serde_json::Value::Null),
                        )
                    })
                    .collect()
            })
            .collect();
        axum::Json(body).into_response()
    };
    let out = response.headers_mut();
    for (name, value) in provenance.headers() {
        out.insert(name, value);
    }
    if let Ok(value) = HeaderValue::from_str(&etag) {
        out.insert(ETAG, value);
    }
    Ok(response)
}
