//! Records as JSON, NDJSON, CSV, XLSX (with a source sheet) and Frictionless Data Packages
//! (a zip of `datapackage.json` and `data.csv`).
//!
//! Pages are rendered at once; downloads of every matching record stream: text formats go out
//! batch by batch as the store reads them, and the zip formats are written by a blocking task
//! to a temporary file that is then streamed, so memory holds a few batches whatever the size.

use std::io::Write;

use axum::body::{Body, Bytes};
use lgsp_core::record_query::cell_text;
use lgsp_core::table_schema::{CellValue, Field, TableSchema};
use lgsp_store::{Record, StoreError};
use serde_json::{json, Map, Value};
use tokio::sync::mpsc;

use crate::error::{ApiError, ErrorCode};

/// Rows an XLSX worksheet can hold below its header.
const XLSX_MAX_ROWS: u64 = 1_048_575;

/// How records are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Ndjson,
    Csv,
    Xlsx,
    DataPackage,
}

const XLSX_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

impl Format {
    /// `format=` wins over `Accept`; no preference is JSON.
    pub fn choose(parameter: Option<&str>, accept: Option<&str>) -> Result<Self, ApiError> {
        if let Some(name) = parameter {
            return match name {
                "json" => Ok(Self::Json),
                "ndjson" => Ok(Self::Ndjson),
                "csv" => Ok(Self::Csv),
                "xlsx" => Ok(Self::Xlsx),
                "datapackage" | "zip" => Ok(Self::DataPackage),
                _ => Err(ApiError::new(ErrorCode::InvalidParameter)
                    .detail("`format`: json, ndjson, csv, xlsx or datapackage")
                    .with("parameter", Value::from("format"))),
            };
        }
        let Some(accept) = accept else {
            return Ok(Self::Json);
        };
        for range in accept.split(',') {
            let media = range.split(';').next().unwrap_or_default().trim();
            let found = match media {
                "application/json" | "application/*" | "*/*" => Some(Self::Json),
                "application/x-ndjson" | "application/ndjson" => Some(Self::Ndjson),
                "text/csv" | "text/*" => Some(Self::Csv),
                XLSX_TYPE => Some(Self::Xlsx),
                "application/zip" => Some(Self::DataPackage),
                _ => None,
            };
            if let Some(format) = found {
                return Ok(format);
            }
        }
        Err(ApiError::new(ErrorCode::NotAcceptable).detail(
            "records come as application/json, application/x-ndjson, text/csv, XLSX or application/zip (Data Package)",
        ))
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Json => "application/json",
            Self::Ndjson => "application/x-ndjson",
            Self::Csv => "text/csv; charset=utf-8",
            Self::Xlsx => XLSX_TYPE,
            Self::DataPackage => "application/zip",
        }
    }

    /// Downloads come whole unless a `limit` is asked; JSON comes in pages.
    pub fn is_download(self) -> bool {
        self != Self::Json
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Ndjson => "ndjson",
            Self::Csv => "csv",
            Self::Xlsx => "xlsx",
            Self::DataPackage => "zip",
        }
    }
}

/// The fields shown, in order, with their positions in the schema.
#[derive(Clone)]
pub struct Columns {
    pub fields: Vec<(usize, Field)>,
}

impl Columns {
    pub fn object(&self, values: &[CellValue]) -> Map<String, Value> {
        self.fields
            .iter()
            .map(|(i, field)| {
                let value = serde_json::to_value(&values[*i]).unwrap_or(Value::Null);
                (field.name.clone(), value)
            })
            .collect()
    }

    /// The schema of what is shown (for Data Packages).
    pub fn schema(&self, full: &TableSchema) -> Value {
        let shown: Vec<&str> = self.fields.iter().map(|(_, f)| f.name.as_str()).collect();
        let mut schema = serde_json::to_value(full).unwrap_or(Value::Null);
        schema["fields"] = Value::Array(
            self.fields
                .iter()
                .map(|(_, f)| serde_json::to_value(f).unwrap_or(Value::Null))
                .collect(),
        );
        let keep = |names: &Value| {
            names
                .as_array()
                .is_some_and(|n| n.iter().all(|n| shown.contains(&n.as_str().unwrap_or(""))))
        };
        if let Some(object) = schema.as_object_mut() {
            if object.get("primaryKey").is_some_and(|k| !keep(k)) {
                object.remove("primaryKey");
            }
            if let Some(Value::Array(keys)) = object.get_mut("foreignKeys") {
                keys.retain(|k| keep(&k["fields"]));
            }
        }
        schema
    }

    fn csv_header(&self) -> Vec<u8> {
        let mut writer = csv::Writer::from_writer(Vec::new());
        let _ = writer.write_record(self.fields.iter().map(|(_, f)| f.name.as_str()));
        writer.into_inner().unwrap_or_default()
    }

    fn csv_rows(&self, records: &[Record]) -> Vec<u8> {
        let mut writer = csv::Writer::from_writer(Vec::with_capacity(records.len() * 64));
        for record in records {
            let _ = writer.write_record(
                self.fields
                    .iter()
                    .map(|(i, _)| cell_text(&record.values[*i])),
            );
        }
        writer.into_inner().unwrap_or_default()
    }

    fn ndjson_rows(&self, records: &[Record]) -> Vec<u8> {
        let mut out = Vec::with_capacity(records.len() * 96);
        for record in records {
            let _ = serde_json::to_writer(&mut out, &self.object(&record.values));
            out.push(b'\n');
        }
        out
    }
}

/// A page of records as one body.
pub fn page(format: Format, columns: &Columns, records: &[Record]) -> Vec<u8> {
    match format {
        Format::Json => {
            let objects: Vec<Map<String, Value>> =
                records.iter().map(|r| columns.object(&r.values)).collect();
            serde_json::to_vec(&objects).unwrap_or_default()
        }
        Format::Ndjson => columns.ndjson_rows(records),
        _ => {
            let mut body = columns.csv_header();
            body.extend(columns.csv_rows(records));
            body
        }
    }
}

type Batches = mpsc::Receiver<Result<Vec<Record>, StoreError>>;

/// Streams JSON, NDJSON or CSV as the batches arrive. A storage error mid-stream cuts the body
/// short (the client sees an incomplete transfer, never a silently truncated file).
pub fn stream_text(format: Format, columns: Columns, mut batches: Batches) -> Body {
    let (sender, receiver) = mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    tokio::spawn(async move {
        let opening = match format {
            Format::Json => b"[".to_vec(),
            Format::Csv => columns.csv_header(),
            _ => Vec::new(),
        };
        if sender.send(Ok(Bytes::from(opening))).await.is_err() {
            return;
        }
        let mut first = true;
        while let Some(batch) = batches.recv().await {
            let chunk = match batch {
                Ok(records) => match format {
                    Format::Json => {
                        let mut out = Vec::new();
                        for record in &records {
                            if !first {
                                out.push(b',');
                            }
                            first = false;
                            let _ =
                                serde_json::to_writer(&mut out, &columns.object(&record.values));
                        }
                        out
                    }
                    Format::Ndjson => columns.ndjson_rows(&records),
                    _ => columns.csv_rows(&records),
                },
                Err(error) => {
                    tracing::error!(%error, "records stream failed");
                    let _ = sender
                        .send(Err(std::io::Error::other("storage failed")))
                        .await;
                    return;
                }
            };
            if sender.send(Ok(Bytes::from(chunk))).await.is_err() {
                return;
            }
        }
        if format == Format::Json {
            let _ = sender.send(Ok(Bytes::from_static(b"]"))).await;
        }
    });
    Body::from_stream(tokio_stream(receiver))
}

fn tokio_stream<T: Send + 'static>(
    receiver: mpsc::Receiver<T>,
) -> impl futures_util::Stream<Item = T> + Send + 'static {
    futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|item| (item, receiver))
    })
}

/// What a download says about its source (the XLSX source sheet, `datapackage.json`).
pub struct Source {
    pub dataset_id: String,
    pub title: String,
    pub description: String,
    pub agency_code: String,
    pub agency_name: String,
    pub licence: String,
    pub url: String,
    pub query: String,
    pub citation: String,
    pub last_change: Option<chrono::DateTime<chrono::Utc>>,
    pub retrieved_at: chrono::DateTime<chrono::Utc>,
}

fn vietnam_time(at: chrono::DateTime<chrono::Utc>) -> String {
    let vietnam = chrono::FixedOffset::east_opt(7 * 3600).expect("UTC+7 is a valid offset");
    at.with_timezone(&vietnam)
        .format("%H:%M:%S ngày %d/%m/%Y")
        .to_string()
}

/// Writes an XLSX or Data Package to a temporary file from the batches, on a blocking thread,
/// and returns the open file (already unlinked, so nothing is left behind).
pub async fn write_archive(
    format: Format,
    columns: Columns,
    schema: TableSchema,
    source: Source,
    batches: Batches,
    temp_dir: std::path::PathBuf,
) -> Result<tokio::fs::File, ApiError> {
    let written = tokio::task::spawn_blocking(move || -> Result<std::fs::File, ApiError> {
        std::fs::create_dir_all(&temp_dir).map_err(ApiError::internal)?;
        let path = temp_dir.join(format!("download-{}.tmp", uuid::Uuid::now_v7()));
        let outcome = match format {
            Format::Xlsx => write_xlsx(&path, &columns, &source, batches),
            _ => write_data_package(&path, &columns, &schema, &source, batches),
        };
        let file = outcome.and_then(|()| std::fs::File::open(&path).map_err(ApiError::internal));
        let _ = std::fs::remove_file(&path);
        file
    })
    .await
    .map_err(ApiError::internal)??;
    Ok(tokio::fs::File::from_std(written))
}

fn write_xlsx(
    path: &std::path::Path,
    columns: &Columns,
    source: &Source,
    mut batches: Batches,
) -> Result<(), ApiError> {
    use rust_xlsxwriter::{Format as Style, Workbook};
    let fail = |e: rust_xlsxwriter::XlsxError| ApiError::internal(e);
    let mut workbook = Workbook::new();
    let bold = Style::new().set_bold();
    let sheet = workbook
        .add_worksheet_with_constant_memory()
        .map_err(fail)?;
    sheet.set_name("Dữ liệu").map_err(fail)?;
    for (c, (_, field)) in columns.fields.iter().enumerate() {
        sheet
            .write_string_with_format(0, c as u16, &field.name, &bold)
            .map_err(fail)?;
    }
    let mut row: u32 = 0;
    while let Some(batch) = batches.blocking_recv() {
        let records = batch?;
        for record in &records {
            row += 1;
            if u64::from(row) > XLSX_MAX_ROWS {
                return Err(ApiError::new(ErrorCode::ExportTooLarge).detail(format!(
                    "an XLSX sheet holds {XLSX_MAX_ROWS} rows: filter the records, page with `limit`/`after`, or download CSV"
                )));
            }
            for (c, (i, _)) in columns.fields.iter().enumerate() {
                let c = c as u16;
                match &record.values[*i] {
                    CellValue::Null => {}
                    CellValue::Integer(n) => {
                        sheet.write_number(row, c, *n as f64).map_err(fail)?;
                    }
                    CellValue::Number(n) if n.is_finite() => {
                        sheet.write_number(row, c, *n).map_err(fail)?;
                    }
                    CellValue::Year(y) => {
                        sheet.write_number(row, c, f64::from(*y)).map_err(fail)?;
                    }
                    CellValue::Boolean(b) => {
                        sheet.write_boolean(row, c, *b).map_err(fail)?;
                    }
                    other => {
                        sheet.write_string(row, c, cell_text(other)).map_err(fail)?;
                    }
                }
            }
        }
    }
    let about = workbook.add_worksheet();
    about.set_name("Nguồn dữ liệu").map_err(fail)?;
    let lines = [
        ("Bộ dữ liệu", source.title.clone()),
        ("Mã bộ dữ liệu", source.dataset_id.clone()),
        (
            "Cơ quan cung cấp",
            format!("{} ({})", source.agency_name, source.agency_code),
        ),
        ("Giấy phép", source.licence.clone()),
        ("Địa chỉ", source.url.clone()),
        ("Điều kiện truy vấn", source.query.clone()),
        (
            "Dữ liệu thay đổi lần cuối",
            source.last_change.map(vietnam_time).unwrap_or_default(),
        ),
        ("Thời điểm truy xuất", vietnam_time(source.retrieved_at)),
        ("Số bản ghi", row.to_string()),
        ("Trích dẫn", source.citation.clone()),
    ];
    about.set_column_width(0, 28).map_err(fail)?;
    about.set_column_width(1, 100).map_err(fail)?;
    for (r, (label, value)) in lines.iter().enumerate() {
        about
            .write_string_with_format(r as u32, 0, *label, &bold)
            .map_err(fail)?;
        about.write_string(r as u32, 1, value).map_err(fail)?;
    }
    workbook.save(path).map_err(fail)
}

fn write_data_package(
    path: &std::path::Path,
    columns: &Columns,
    schema: &TableSchema,
    source: &Source,
    mut batches: Batches,
) -> Result<(), ApiError> {
    use zip::write::SimpleFileOptions;
    let file = std::fs::File::create(path).map_err(ApiError::internal)?;
    let mut zip = zip::ZipWriter::new(std::io::BufWriter::new(file));
    let options = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    zip.start_file("data.csv", options)
        .map_err(ApiError::internal)?;
    zip.write_all(&columns.csv_header())
        .map_err(ApiError::internal)?;
    let mut rows = 0u64;
    while let Some(batch) = batches.blocking_recv() {
        let records = batch?;
        rows += records.len() as u64;
        zip.write_all(&columns.csv_rows(&records))
            .map_err(ApiError::internal)?;
    }
    let retrieved = source
        .retrieved_at
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let package = json!({
        "profile": "tabular-data-package",
        "name": source.dataset_id,
        "id": source.url,
        "title": source.title,
        "description": source.description,
        "homepage": source.url,
        "created": retrieved,
        "licenses": [licence(&source.licence)],
        "sources": [{
            "title": format!("{} ({})", source.agency_name, source.agency_code),
            "path": source.url,
        }],
        "lgsp:query": source.query,
        "lgsp:retrievedAt": retrieved,
        "lgsp:lastModified": source.last_change.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        "lgsp:citation": source.citation,
        "resources": [{
            "name": source.dataset_id,
            "path": "data.csv",
            "profile": "tabular-data-resource",
            "format": "csv",
            "mediatype": "text/csv",
            "encoding": "utf-8",
            "dialect": {"delimiter": ",", "header": true},
            "schema": columns.schema(schema),
            "stats": {"rows": rows},
        }],
    });
    zip.start_file("datapackage.json", options)
        .map_err(ApiError::internal)?;
    serde_json::to_writer_pretty(&mut zip, &package).map_err(ApiError::internal)?;
    let mut inner = zip.finish().map_err(ApiError::internal)?;
    inner.flush().map_err(ApiError::internal)?;
    Ok(())
}

/// A Data Package `licenses` member for the catalog's licence identifier.
fn licence(id: &str) -> Value {
    let path = match id {
        "CC-BY-4.0" => Some("https://creativecommons.org/licenses/by/4.0/"),
        "CC0-1.0" => Some("https://creativecommons.org/publicdomain/zero/1.0/"),
        "ODC-BY-1.0" => Some("https://opendatacommons.org/licenses/by/1-0/"),
        _ => None,
    };
    match path {
        Some(path) => json!({"name": id, "path": path, "title": id}),
        None => json!({"name": id, "title": id}),
    }
}
