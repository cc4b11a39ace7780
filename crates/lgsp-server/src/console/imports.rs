//! The console's upload page: an agency's people load a CSV file or an XLSX workbook into one
//! of their hosted datasets, then watch the import job and read its report in Vietnamese.

use askama::Template;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use lgsp_core::catalog::DatasetId;
use lgsp_core::{Action, Actor, AgencyCode, Resource};
use serde_json::Value;

use super::refusal;
use crate::app::AppState;
use crate::auth::Caller;
use crate::catalog::{today, Snapshot};
use crate::datasets::import::{looks_like_xlsx, Source};
use crate::datasets::{allowed, job_view, jobs, parse_mode, table};
use crate::error::{ApiError, ErrorCode};
use crate::portal::view::{date_time_vi, render, Shell};
use crate::portal::{to_login, MessagePage};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/console/imports",
            // The file streams to disk under `max_import_bytes`, not the small form limit.
            get(upload_page)
                .post(upload)
                .layer(DefaultBodyLimit::disable()),
        )
        .route("/console/imports/{dataset}/{job}", get(job_page))
}

struct DatasetOption {
    id: String,
    title: String,
}

#[derive(Template)]
#[template(path = "console/imports.html")]
struct UploadPage {
    shell: Shell,
    datasets: Vec<DatasetOption>,
}

/// Hosted datasets (with a Table Schema) whose records the caller may replace.
async fn importable(state: &AppState, caller: &Caller) -> Result<Vec<DatasetOption>, ApiError> {
    let snapshot = Snapshot::load(state, today()).await?;
    let mut options = Vec::new();
    for found in &snapshot.datasets {
        let Ok(owner) = AgencyCode::parse(&found.owner) else {
            continue;
        };
        let may = caller.authorize(
            Action::Update,
            Resource::Records {
                owner: &owner,
                access: found.dataset.access_level,
            },
        );
        if may.is_ok() && state.store.record_table(&found.dataset.id).await?.is_some() {
            options.push(DatasetOption {
                id: found.dataset.id.to_string(),
                title: found.dataset.title.to_string(),
            });
        }
    }
    Ok(options)
}

async fn upload_page(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    if let Some(response) = refusal(&state, &caller, Resource::Console) {
        return Ok(response);
    }
    let datasets = importable(&state, &caller).await?;
    Ok(render(
        StatusCode::OK,
        &UploadPage {
            shell: Shell::new(&state.platform_name(), &caller),
            datasets,
        },
    ))
}

fn message(
    state: &AppState,
    caller: &Caller,
    heading: &'static str,
    text: &'static str,
) -> Response {
    render(
        StatusCode::BAD_REQUEST,
        &MessagePage {
            shell: Shell::new(&state.platform_name(), caller),
            heading,
            message: text,
        },
    )
}

fn form_error(e: axum::extract::multipart::MultipartError) -> ApiError {
    ApiError::new(ErrorCode::MalformedMultipart).detail(e.body_text())
}

/// Takes the form (parts `csrf`, `dataset`, `mode`, `file`, in that order: the file is not
/// read before the CSRF token is checked), saves the file, starts the job and sends the
/// browser to the job's page.
async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    mut form: Multipart,
) -> Result<Response, ApiError> {
    use std::io::{Read, Seek, Write};
    if caller.actor == Actor::Anonymous || caller.web_session.is_none() {
        return Ok(to_login());
    }
    let (mut csrf_ok, mut dataset, mut mode) = (false, None, None);
    let mut saved: Option<(std::fs::File, String)> = None;
    while let Some(mut field) = form.next_field().await.map_err(form_error)? {
        match field.name() {
            Some("csrf") => {
                let token = field.text().await.map_err(form_error)?;
                caller.check_csrf(Some(&token))?;
                csrf_ok = true;
            }
            Some("dataset") => dataset = Some(field.text().await.map_err(form_error)?),
            Some("mode") => mode = Some(field.text().await.map_err(form_error)?),
            Some("file") if csrf_ok => {
                let name = field.file_name().unwrap_or_default().to_owned();
                // An unnamed temporary file: nothing is left behind, whatever happens.
                let mut file = tempfile_in_temp_dir()?;
                let mut size = 0u64;
                while let Some(chunk) = field.chunk().await.map_err(form_error)? {
                    size += chunk.len() as u64;
                    if size > state.settings.max_import_bytes {
                        return Ok(message(
                            &state,
                            &caller,
                            "Tệp quá lớn",
                            "Tệp vượt quá dung lượng tối đa được nhập.",
                        ));
                    }
                    file.write_all(&chunk).map_err(ApiError::internal)?;
                }
                saved = Some((file, name));
            }
            _ => {
                return Err(ApiError::new(ErrorCode::MalformedMultipart)
                    .detail("send `csrf`, `dataset`, `mode` and `file`, in that order"))
            }
        }
    }
    if !csrf_ok {
        caller.check_csrf(None)?;
    }
    let Some((mut file, name)) = saved else {
        return Ok(message(
            &state,
            &caller,
            "Chưa chọn tệp",
            "Hãy chọn một tệp CSV hoặc XLSX.",
        ));
    };
    let id = DatasetId::parse(dataset.as_deref().unwrap_or_default())
        .map_err(|e| ApiError::new(ErrorCode::InvalidParameter).detail(format!("dataset: {e}")))?;
    let mode = parse_mode(mode.as_deref())?;
    allowed(&state, &caller, &id, Action::Update).await?;
    let table = table(&state, &id).await?;

    file.rewind().map_err(ApiError::internal)?;
    let mut head = [0u8; 4];
    let head_len = file.read(&mut head).map_err(ApiError::internal)?;
    file.rewind().map_err(ApiError::internal)?;
    let xlsx = looks_like_xlsx(&head[..head_len]) || name.to_lowercase().ends_with(".xlsx");
    let source = if xlsx {
        let size = file.metadata().map_err(ApiError::internal)?.len();
        if size > state.settings.max_xlsx_bytes {
            return Ok(message(&state, &caller, "Tệp XLSX quá lớn",
                "Tệp XLSX được đọc toàn bộ vào bộ nhớ nên có giới hạn dung lượng; hãy lưu thành CSV để nhập tệp lớn."));
        }
        let mut bytes = Vec::with_capacity(size as usize);
        file.read_to_end(&mut bytes).map_err(ApiError::internal)?;
        Source::Xlsx { bytes, sheet: None }
    } else {
        Source::Csv(Box::new(file))
    };
    let job = jobs::create(&state.store, &table, mode, source.format(), &caller.name()).await?;
    jobs::spawn(&state, job.clone(), table, mode, source, caller.name());
    Ok(Redirect::to(&format!("/console/imports/{id}/{job}")).into_response())
}

/// A new temporary file, already unlinked.
fn tempfile_in_temp_dir() -> Result<std::fs::File, ApiError> {
    let path = std::env::temp_dir().join(format!("lgsp-upload-{}", uuid::Uuid::now_v7()));
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(ApiError::internal)?;
    let _ = std::fs::remove_file(&path);
    Ok(file)
}

struct ErrorRow {
    row: String,
    field: String,
    message: String,
}

#[derive(Template)]
#[template(path = "console/import_job.html")]
struct JobPage {
    shell: Shell,
    dataset: String,
    state: &'static str,
    running: bool,
    mode: &'static str,
    format: String,
    rows_read: i64,
    rows_written: i64,
    created: String,
    problem: Option<String>,
    errors: Vec<ErrorRow>,
    more: u64,
}

fn type_vi(kind: &str) -> &'static str {
    match kind {
        "integer" => "số nguyên",
        "number" => "số",
        "boolean" => "đúng/sai (true/false)",
        "date" => "ngày (YYYY-MM-DD)",
        "datetime" => "ngày giờ",
        "time" => "giờ (HH:MM:SS)",
        "year" => "năm",
        "geopoint" => "tọa độ",
        _ => "chuỗi ký tự",
    }
}

/// A report error in Vietnamese, with the field's own type where it matters.
fn error_vi(error: &Value, field_type: Option<&str>) -> String {
    match error["type"].as_str().unwrap_or_default() {
        "type-error" => format!(
            "Giá trị không đúng kiểu: cần {}",
            type_vi(field_type.unwrap_or_default())
        ),
        "constraint-error" => {
            "Giá trị vi phạm ràng buộc của trường (bắt buộc, giới hạn hoặc danh sách giá trị cho phép)".into()
        }
        "unique-error" => "Giá trị bị trùng với một dòng khác".into(),
        "primary-key" => "Khóa chính bị trống hoặc trùng với một dòng khác".into(),
        "foreign-key" => "Giá trị không có trong bảng được tham chiếu".into(),
        "missing-cell" => "Thiếu ô".into(),
        "extra-cell" => "Thừa ô ngoài các cột tiêu đề".into(),
        "blank-row" => "Dòng trống".into(),
        "blank-label" => "Cột tiêu đề để trống".into(),
        "duplicate-label" => "Tên cột bị lặp".into(),
        "incorrect-label" => "Tên cột không khớp với trường của cấu trúc".into(),
        "missing-label" => "Thiếu cột cho trường này".into(),
        "extra-label" => "Cột không có trong cấu trúc dữ liệu".into(),
        other => format!("Lỗi {other}"),
    }
}

fn problem_vi(code: &str) -> &'static str {
    match code {
        "import_invalid" => "Tệp có lỗi nên không dòng nào được ghi.",
        "invalid_encoding" => "Tệp không phải văn bản UTF-8: hãy lưu lại tệp với mã hóa UTF-8.",
        "empty_file" => "Tệp trống: cần có dòng tiêu đề ghi tên các trường.",
        "invalid_spreadsheet" => {
            "Không đọc được tệp XLSX (tệp hỏng hoặc không phải định dạng .xlsx)."
        }
        "conflict" => "Dữ liệu xung đột với dữ liệu đang có (ví dụ khóa đã tồn tại khi bổ sung).",
        "interrupted" => "Lượt nhập bị gián đoạn do dịch vụ dừng; dữ liệu không thay đổi.",
        "payload_too_large" => "Tệp quá lớn.",
        _ => "Không nhập được dữ liệu; dữ liệu không thay đổi.",
    }
}

async fn job_page(
    State(state): State<AppState>,
    caller: Caller,
    Path((dataset, job)): Path<(DatasetId, String)>,
) -> Result<Response, ApiError> {
    if let Some(response) = refusal(&state, &caller, Resource::Console) {
        return Ok(response);
    }
    allowed(&state, &caller, &dataset, Action::Update).await?;
    let table = table(&state, &dataset).await?;
    let view = job_view(&state, &dataset, &job).await?;
    let field_type = |name: &str| {
        table
            .schema
            .fields
            .iter()
            .find(|f| f.name == name)
            .and_then(|f| serde_json::to_value(f.kind).ok())
            .and_then(|v| v.as_str().map(str::to_owned))
    };
    let listed = view.report.as_ref().and_then(|r| r["errors"].as_array());
    let errors: Vec<ErrorRow> = listed
        .into_iter()
        .flatten()
        .take(500)
        .map(|e| {
            let field = e["fieldName"].as_str().unwrap_or_default();
            ErrorRow {
                row: e["rowNumber"]
                    .as_u64()
                    .map(|n| n.to_string())
                    .unwrap_or_else(|| "tiêu đề".into()),
                field: field.to_owned(),
                message: error_vi(e, field_type(field).as_deref()),
            }
        })
        .collect();
    let total = view
        .report
        .as_ref()
        .and_then(|r| r["stats"]["errors"].as_u64())
        .unwrap_or(0);
    let job = &view.job;
    let running = job.state == "queued" || job.state == "running";
    let page = JobPage {
        shell: Shell::new(&state.platform_name(), &caller),
        dataset: dataset.to_string(),
        state: match job.state.as_str() {
            "queued" => "Đang chờ",
            "running" => "Đang nhập",
            "succeeded" => "Thành công",
            _ => "Không thành công",
        },
        running,
        mode: match job.mode.as_str() {
            "upsert" => "Cập nhật theo khóa",
            "append" => "Bổ sung",
            _ => "Thay thế",
        },
        format: job.format.to_uppercase(),
        rows_read: job.rows_read,
        rows_written: job.rows_written,
        created: date_time_vi(job.created_at),
        problem: job.error_code.as_deref().map(|c| problem_vi(c).to_owned()),
        more: total.saturating_sub(errors.len() as u64),
        errors,
    };
    Ok(render(StatusCode::OK, &page))
}
