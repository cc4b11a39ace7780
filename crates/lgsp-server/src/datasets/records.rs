//! `/api/v1/datasets/{id}/schema` and `/api/v1/datasets/{id}/records`: a dataset's Table
//! Schema, imports that replace its records, and reads as of any instant.

use axum::body::Body;
use axum::extract::State;
use axum::http::header::{
    ACCEPT, CONTENT_DISPOSITION, CONTENT_LOCATION, CONTENT_RANGE, CONTENT_TYPE, ETAG,
    IF_NONE_MATCH, LINK, LOCATION, VARY,
};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::TryStreamExt;
use lgsp_core::catalog::{AccessLevel, DataKind, DatasetId};
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
use super::import::{looks_like_xlsx, ImportError, Source as ImportSource};
use super::jobs::{self, problem, JobView};
use super::provenance::Provenance;
use super::validation::ReadError;
use crate::app::AppState;
use crate::auth::Caller;
use crate::catalog::{today, PublishedDataset, Snapshot};
use crate::ckan::base_url;
use crate::error::{ApiError, ErrorCode, ProblemDoc};
use crate::extract::{Json, Path, Query};
use crate::gateway::datasets::{bears_system_token, refused, Access, Exchange, RECORDS};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(define_schema))
        .routes(routes!(import_records, read_records))
        .routes(routes!(import_jobs))
        .routes(routes!(import_job))
}

/// The dataset's owner and access level, from the catalog in force.
pub(super) async fn published(
    state: &AppState,
    id: &DatasetId,
) -> Result<(AgencyCode, AccessLevel, PublishedDataset), ApiError> {
    let snapshot = Snapshot::load(state, today()).await?;
    let found = snapshot.dataset(id.as_str()).ok_or_else(|| {
        ApiError::new(ErrorCode::ResourceNotFound)
            .detail(format!("dataset {id} is not in the catalog"))
    })?;
    let owner = AgencyCode::parse(&found.owner).map_err(ApiError::internal)?;
    Ok((owner, found.dataset.access_level, found.clone()))
}

/// The dataset's owner and publication, if `caller` may take `action` on its records.
pub(crate) async fn allowed(
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

pub(crate) async fn table(state: &AppState, id: &DatasetId) -> Result<RecordTable, ApiError> {
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportParams {
    mode: Option<String>,
    sheet: Option<String>,
}

pub fn parse_mode(mode: Option<&str>) -> Result<ImportMode, ApiError> {
    match mode {
        None | Some("replace") => Ok(ImportMode::Replace),
        Some("upsert") => Ok(ImportMode::Upsert),
        Some("append") => Ok(ImportMode::Append),
        Some(_) => Err(ApiError::new(ErrorCode::InvalidParameter)
            .detail("`mode` is `replace` (default), `upsert` or `append`")),
    }
}

const XLSX_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

type ByteStream = std::pin::Pin<
    Box<dyn futures_util::Stream<Item = Result<axum::body::Bytes, std::io::Error>> + Send>,
>;

/// The body as a stream of at most `limit` bytes.
fn bounded(body: Body, limit: u64) -> ByteStream {
    let mut seen = 0u64;
    Box::pin(
        body.into_data_stream()
            .map_err(std::io::Error::other)
            .and_then(move |chunk| {
                seen += chunk.len() as u64;
                let outcome = if seen > limit {
                    Err(std::io::Error::new(
                        std::io::ErrorKind::FileTooLarge,
                        format!("the file is larger than the import limit ({limit} bytes)"),
                    ))
                } else {
                    Ok(chunk)
                };
                std::future::ready(outcome)
            }),
    )
}

/// Why the body could not be read: too large, or broken off.
fn body_error(e: std::io::Error) -> ApiError {
    if e.kind() == std::io::ErrorKind::FileTooLarge {
        ApiError::new(ErrorCode::PayloadTooLarge).detail(e.to_string())
    } else {
        ApiError::new(ErrorCode::InvalidBody).detail(e.to_string())
    }
}

/// The whole of `stream`, refused past `limit` bytes (`max_xlsx_bytes`).
async fn collect_bounded(mut stream: ByteStream, limit: u64) -> Result<Vec<u8>, ApiError> {
    use futures_util::StreamExt;
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(body_error)?;
        if (bytes.len() + chunk.len()) as u64 > limit {
            return Err(ApiError::new(ErrorCode::PayloadTooLarge).detail(format!(
                "an XLSX workbook is read whole, so it may be at most {limit} bytes \
                 (`max_xlsx_bytes`); send larger files as CSV, which streams"
            )));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// Writes `stream` to a new temporary file (for imports that run after the response).
async fn spool(mut stream: ByteStream, path: &std::path::Path) -> Result<(), ApiError> {
    use futures_util::StreamExt;
    use tokio::io::AsyncWriteExt;
    let mut file = tokio::fs::File::create(path)
        .await
        .map_err(ApiError::internal)?;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(body_error)?;
        file.write_all(&chunk).await.map_err(ApiError::internal)?;
    }
    file.flush().await.map_err(ApiError::internal)?;
    Ok(())
}

/// Import a CSV file (UTF-8 with or without BOM; comma, semicolon or tab; quoted fields; CRLF)
/// or an XLSX workbook (its first sheet, or `sheet`; first row = field names; formula cells
/// count by their cached value) into a dataset's records, all or nothing: the file goes
/// through validation into one transaction that commits only if every row is valid. CSV
/// streams; an XLSX workbook is read whole, so it is bounded by `max_xlsx_bytes`. XLSX is
/// recognised by its Content-Type or its zip signature. `replace` (default) makes the file the
/// whole content; `upsert` replaces rows by primary key and adds the others; `append` adds rows
/// and refuses keys that exist. Every import is a job (`Content-Location`); with
/// `Prefer: respond-async` the answer is 202 at once, with the job's `Location` to poll.
#[utoipa::path(post, path = "/datasets/{id}/records", tag = "datasets",
    params(("id" = String, Path, description = "Dataset id"),
        ("mode" = Option<String>, Query, description = "`replace` (default), `upsert` or `append`"),
        ("sheet" = Option<String>, Query, description = "XLSX: the sheet to read (default: the first)"),
        ("Prefer" = Option<String>, Header, description = "`respond-async`: answer 202 and import in the background")),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, description = "`rows`, `changed_at` and the validation `report`"),
        (status = 202, body = JobView, description = "Accepted: poll `Location`"),
        (status = 400, body = ProblemDoc, description = "`invalid_spreadsheet`, `empty_file`"),
        (status = 403, body = ProblemDoc),
        (status = 409, body = ProblemDoc, description = "`conflict`: appended keys exist"),
        (status = 413, body = ProblemDoc),
        (status = 422, body = ProblemDoc, description = "`import_invalid` with a `report`, `invalid_encoding`")))]
async fn import_records(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<DatasetId>,
    Query(params): Query<ImportParams>,
    body: Body,
) -> Result<Response, ApiError> {
    let mode = parse_mode(params.mode.as_deref())?;
    allowed(&state, &caller, &id, Action::Update).await?;
    let table = table(&state, &id).await?;
    let respond_async = headers
        .get_all("prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| p.trim().eq_ignore_ascii_case("respond-async"));
    let declared_xlsx = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(XLSX_TYPE));

    // The first chunk tells a zip archive (XLSX) from text (CSV).
    let mut stream = bounded(body, state.settings.max_import_bytes);
    let first = {
        use futures_util::StreamExt;
        match stream.next().await {
            Some(Ok(chunk)) => Some(chunk),
            Some(Err(e)) => {
                return Err(problem(ImportError::Read(ReadError::Io(e))));
            }
            None => None,
        }
    };
    let is_xlsx = declared_xlsx || first.as_deref().is_some_and(looks_like_xlsx);
    let stream: ByteStream = Box::pin(futures_util::StreamExt::chain(
        futures_util::stream::iter(first.map(Ok)),
        stream,
    ));
    let format = if is_xlsx { "xlsx" } else { "csv" };
    let source = if is_xlsx {
        let bytes = collect_bounded(stream, state.settings.max_xlsx_bytes).await?;
        ImportSource::Xlsx {
            bytes,
            sheet: params.sheet.clone(),
        }
    } else if respond_async {
        // The response goes before the import runs: the CSV body is saved first, to a file
        // unlinked once open (nothing is left behind if the process dies).
        let path = std::env::temp_dir().join(format!("lgsp-import-{}.csv", uuid::Uuid::now_v7()));
        let saved = spool(stream, &path).await;
        let opened = saved.and_then(|()| std::fs::File::open(&path).map_err(ApiError::internal));
        let _ = std::fs::remove_file(&path);
        ImportSource::Csv(Box::new(opened?))
    } else {
        // The body streams into a blocking CSV reader; valid rows come back over a bounded
        // channel and go into the import's transaction in batches.
        let reader = tokio_util::io::SyncIoBridge::new(tokio_util::io::StreamReader::new(stream));
        ImportSource::Csv(Box::new(reader))
    };
    let job = jobs::create(&state.store, &table, mode, format, &caller.name()).await?;
    let location = format!("/api/v1/datasets/{id}/imports/{job}");

    if respond_async {
        jobs::spawn(&state, job.clone(), table, mode, source, caller.name());
        let view = job_view(&state, &id, &job).await?;
        let mut response = (StatusCode::ACCEPTED, axum::Json(view)).into_response();
        if let Ok(value) = HeaderValue::from_str(&location) {
            response.headers_mut().insert(LOCATION, value);
        }
        return Ok(response);
    }
    let guarded = jobs::Guarded::of(&state);
    let imported = jobs::run(
        &state.store,
        &state.imports,
        &guarded,
        &job,
        &table,
        mode,
        source,
    )
    .await?;
    tracing::info!(dataset = %id, rows = imported.rows, job, by = %caller.name(), "records imported");
    let mut response = axum::Json(imported).into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(CONTENT_LOCATION, value);
    }
    Ok(response)
}

pub(crate) async fn job_view(
    state: &AppState,
    id: &DatasetId,
    job: &str,
) -> Result<JobView, ApiError> {
    let found = state
        .store
        .import_job(id.as_str(), job)
        .await?
        .ok_or_else(|| {
            ApiError::new(ErrorCode::ResourceNotFound)
                .detail(format!("dataset {id} has no import {job}"))
        })?;
    Ok(JobView::new(found, &state.imports))
}

/// One import job of a dataset: its state (`queued`, `running`, `succeeded`, `failed`), rows
/// read and written so far, and once the file was read its validation report (for the owner
/// agency's administrators and the operator).
#[utoipa::path(get, path = "/datasets/{id}/imports/{job}", tag = "datasets",
    params(("id" = String, Path, description = "Dataset id"), ("job" = String, Path, description = "Job id")),
    responses((status = 200, body = JobView), (status = 403, body = ProblemDoc),
        (status = 404, body = ProblemDoc)))]
async fn import_job(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, job)): Path<(DatasetId, String)>,
) -> Result<axum::Json<JobView>, ApiError> {
    allowed(&state, &caller, &id, Action::Update).await?;
    Ok(axum::Json(job_view(&state, &id, &job).await?))
}

#[derive(Serialize, ToSchema)]
pub struct JobList {
    imports: Vec<JobView>,
}

/// A dataset's latest 100 import jobs, newest first.
#[utoipa::path(get, path = "/datasets/{id}/imports", tag = "datasets",
    params(("id" = String, Path, description = "Dataset id")),
    responses((status = 200, body = JobList), (status = 403, body = ProblemDoc),
        (status = 404, body = ProblemDoc)))]
async fn import_jobs(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<DatasetId>,
) -> Result<axum::Json<JobList>, ApiError> {
    allowed(&state, &caller, &id, Action::Update).await?;
    let imports = state
        .store
        .import_jobs(id.as_str(), 100)
        .await?
        .into_iter()
        .map(|job| JobView::new(job, &state.imports))
        .collect();
    Ok(axum::Json(JobList { imports }))
}

/// Read a dataset's records with the query language of DESIGN.md: `select=a,b`,
/// `{field}=[not.]op.value` (`eq`, `neq`, `gt`, `gte`, `lt`, `lte`, `like`, `ilike` with `*`
/// wildcards, `in.(a,b)`, `is.null|true|false`), `order=a.desc,b.nullsfirst`, `limit`,
/// `offset` or keyset `after` (from the `Link: rel="next"` header), `as_of` (RFC 3339 or a
/// date), `Prefer: count=exact` → `Content-Range`. JSON comes in pages (default 100); CSV,
/// NDJSON, XLSX (with a source sheet) and Data Package zips, by `format=` or `Accept`, hold
/// every matching record unless `limit` is given, and stream. Code lists answer with the
/// entries in effect on the `as_of` day. Open and public datasets need no account; personal
/// fields are shown to, and filterable by, only the owner and the operator. A system reads
/// other levels under a grant on the dataset, with `LGSP-Purpose`: only the grant's fields;
/// refusals are `purpose_required`, `no_grant`, `grant_suspended`, `grant_terminated`,
/// `grant_not_in_force`, `purpose_not_granted`, `quota_exceeded`. Every read by a system, of
/// open and public data too, and every refused system token, is an exchange: signed
/// (`Content-Digest`, `Signature`), at most `gateway_max_response_bytes` (else
/// `export_too_large`: ask for pages), and recorded in the transparency log
/// (`LGSP-Log-Index`).
#[utoipa::path(get, path = "/datasets/{id}/records", tag = "datasets",
    params(("id" = String, Path, description = "Dataset id"),
        ("select" = Option<String>, Query, description = "Fields to return, comma-separated"),
        ("order" = Option<String>, Query, description = "`field[.asc|.desc][.nullsfirst|.nullslast]`, comma-separated"),
        ("as_of" = Option<String>, Query, description = "RFC 3339 instant or date (Viet Nam midnight)"),
        ("limit" = Option<usize>, Query, description = "1–10000; JSON default 100, downloads default all"),
        ("offset" = Option<usize>, Query, description = "Rows to skip"),
        ("after" = Option<String>, Query, description = "Keyset cursor from the previous page's `Link` header"),
        ("format" = Option<String>, Query, description = "json, ndjson, csv, xlsx or datapackage"),
        ("Prefer" = Option<String>, Header, description = "`count=exact` adds the total to `Content-Range`"),
        ("LGSP-Purpose" = Option<String>, Header, description = "A system reading under a grant: the purpose code")),
    responses((status = 200, description = "Records (JSON objects, or the chosen format)"),
        (status = 304, description = "Unchanged since the given ETag"),
        (status = 400, body = ProblemDoc, description = "`invalid_parameter` naming the parameter"),
        (status = 401, body = ProblemDoc), (status = 403, body = ProblemDoc),
        (status = 404, body = ProblemDoc), (status = 406, body = ProblemDoc),
        (status = 429, body = ProblemDoc, description = "`quota_exceeded` (a system under a grant)"),
        (status = 413, body = ProblemDoc, description = "`export_too_large` for XLSX")))]
async fn read_records(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    path: Result<Path<DatasetId>, ApiError>,
) -> Result<Response, ApiError> {
    let caller = match caller {
        Ok(caller) => caller,
        // A refused system token is a refused exchange, recorded as the gateway's are.
        Err(error) if bears_system_token(&headers) => {
            let id = path.ok().map(|Path(id)| id);
            return Ok(refused_read(&state, &headers, RECORDS, None, id.as_ref(), error).await);
        }
        Err(error) => return Err(error),
    };
    let lgsp_core::Actor::System(system) = &caller.actor else {
        let Path(id) = path?;
        let (owner, dataset) = allowed(&state, &caller, &id, Action::Read).await?;
        return read_as(&state, &caller, &headers, &uri, &id, owner, dataset, None).await;
    };
    // Every read by a system is an exchange (Q13.1, Q15.2.e): restricted data only through a
    // grant, open and public data freely, each recorded and signed; refusals too.
    let (id, (owner, level, dataset)) = match path {
        Ok(Path(id)) => match published(&state, &id).await {
            Ok(found) => (id, found),
            Err(error) => {
                let caller = Some(&caller);
                return Ok(refused_read(&state, &headers, RECORDS, caller, Some(&id), error).await);
            }
        },
        Err(error) => {
            return Ok(refused_read(&state, &headers, RECORDS, Some(&caller), None, error).await)
        }
    };
    let access = match level {
        AccessLevel::Open | AccessLevel::Public => Access::Open,
        _ => Access::Granted,
    };
    let exchange = Exchange {
        route: RECORDS,
        caller: &caller,
        system,
        headers: &headers,
        id: &id,
        owner: &owner,
        access,
    };
    Ok(exchange
        .run(&state, |granted| {
            read_as(
                &state,
                &caller,
                &headers,
                &uri,
                &id,
                owner.clone(),
                dataset,
                granted,
            )
        })
        .await)
}

/// Records a system's read on `route` refused before any decision (of dataset `id`, if the path
/// named one) and answers `error`.
pub(super) async fn refused_read(
    state: &AppState,
    headers: &HeaderMap,
    route: &'static str,
    caller: Option<&Caller>,
    id: Option<&DatasetId>,
    error: ApiError,
) -> Response {
    let owner = match id {
        Some(id) => published(state, id).await.ok().map(|(owner, ..)| owner),
        None => None,
    };
    refused(state, headers, route, caller, id, owner.as_ref(), error).await
}

/// Reads records for `caller`; with `granted`, only those fields (a system's grant).
#[allow(clippy::too_many_arguments)]
async fn read_as(
    state: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
    uri: &axum::http::Uri,
    id: &DatasetId,
    owner: AgencyCode,
    dataset: PublishedDataset,
    granted: Option<Vec<String>>,
) -> Result<Response, ApiError> {
    let (state, id, uri) = (state.clone(), id.clone(), uri.clone());
    let table = table(&state, &id).await?;
    let mut params = query_pairs(&uri)?;
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
    let columns = columns(&table.schema, &query, personal, granted.as_deref())?;
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
            "{id}|{:?}|{}|{format:?}|{count_exact}|{personal}|{granted:?}",
            table.last_change_at,
            uri.query().unwrap_or_default()
        );
        let digest = sha2::Sha256::digest(key.as_bytes());
        let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
        format!("W/\"{hex}\"")
    };
    let base = base_url(&state, headers);
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
        // A person's or a visitor's download of the dataset counts in the statistics; a
        // system's read is an exchange, counted with the log.
        if format.is_download() && !matches!(caller.actor, lgsp_core::Actor::System(_)) {
            if let Err(error) = state.store.record_download(id.as_str(), retrieved_at).await {
                tracing::warn!(%error, dataset = %id, "could not count a download");
            }
        }
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
/// their values. A system reading under a grant sees exactly the `granted` fields (personal
/// ones only if granted, Q6.3, Q8.5).
fn columns(
    schema: &TableSchema,
    query: &RecordQuery,
    personal: bool,
    granted: Option<&[String]>,
) -> Result<Columns, ApiError> {
    let hidden = |name: &str| match granted {
        Some(granted) => !granted.iter().any(|g| g == name),
        None => !personal && schema.fields.iter().any(|f| f.name == name && f.personal),
    };
    let refuse = |parameter: &str, name: &str| {
        let why = if granted.is_some() {
            format!("`{parameter}`: `{name}` is not a field of the grant")
        } else {
            format!("`{parameter}`: `{name}` holds personal data, shown only to the owner agency")
        };
        ApiError::new(ErrorCode::Forbidden)
            .detail(why)
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
            .filter(|(_, f)| !hidden(&f.name))
            .map(|(i, f)| (i, f.clone()))
            .collect(),
    };
    Ok(Columns { fields })
}

/// The query string's name/value pairs, in order.
pub(super) fn query_pairs(uri: &axum::http::Uri) -> Result<Vec<(String, String)>, ApiError> {
    serde_urlencoded::from_str(uri.query().unwrap_or_default()).map_err(|_| {
        ApiError::new(ErrorCode::InvalidParameter).detail("the query string is malformed")
    })
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
