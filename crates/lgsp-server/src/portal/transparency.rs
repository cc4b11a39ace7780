//! `/transparency`: the transparency log for everyone — the current signed checkpoint, how to
//! verify the log independently, and a form that checks an `LGSP-Log-Index` against the
//! checkpoint (the entry, its inclusion proof, and the verdict).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use lgsp_tlog::{verify_inclusion, Checkpoint, Hash};
use serde::Deserialize;

use super::view::{date_time_vi, render, Shell};
use crate::app::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::transparency::routes::{current_checkpoint, prove_entry, LoggedEntry};
use crate::transparency::signer;

#[derive(Deserialize)]
pub struct CheckParams {
    /// The index to check, as typed.
    index: Option<String>,
}

/// What the check found, ready to show.
struct CheckResult {
    index: u64,
    verified: bool,
    tree_size: u64,
    rows: Vec<(&'static str, String)>,
    proof: Vec<String>,
}

#[derive(Template)]
#[template(path = "transparency.html")]
struct TransparencyPage {
    shell: Shell,
    size: u64,
    root: String,
    signed_at: String,
    note: String,
    verifier_key: String,
    typed: String,
    error: Option<String>,
    result: Option<CheckResult>,
}

/// The Vietnamese rows shown for a logged entry.
fn describe(entry: &serde_json::Value) -> Vec<(&'static str, String)> {
    let text = |key: &str| match &entry[key] {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let time = chrono::DateTime::parse_from_rfc3339(&text("time"))
        .map(|t| date_time_vi(t.to_utc()))
        .unwrap_or_else(|_| text("time"));
    let kind = match text("kind").as_str() {
        "action" => "Thao tác quản trị, nghiệp vụ".to_owned(),
        "exchange" => "Trao đổi dữ liệu".to_owned(),
        "step" => "Bước nghiệp vụ do nền tảng tự thực hiện (quá hạn, chuyển xử lý)".to_owned(),
        other => other.to_owned(),
    };
    vec![
        ("Thời điểm", time),
        ("Loại", kind),
        ("Người, hệ thống thực hiện", text("actor")),
        ("Phương thức", text("method")),
        ("Đường dẫn", text("route")),
        ("Bước", text("step")),
        ("Mã trạng thái", text("status")),
        ("Mã yêu cầu", text("request_id")),
    ]
    .into_iter()
    .filter(|(_, value)| !value.is_empty())
    .collect()
}

fn check(entry: &LoggedEntry, state_key: &lgsp_tlog::NoteVerifier) -> bool {
    let Ok(checkpoint) = Checkpoint::open(&entry.checkpoint, state_key) else {
        return false;
    };
    let leaf = lgsp_tlog::leaf_hash(entry.entry.to_string().as_bytes());
    let proof: Option<Vec<Hash>> = entry
        .inclusion_proof
        .iter()
        .map(|h| BASE64.decode(h).ok()?.try_into().ok())
        .collect();
    proof.is_some_and(|proof| {
        verify_inclusion(
            entry.index,
            checkpoint.size,
            &leaf,
            &proof,
            &checkpoint.root,
        )
        .is_ok()
    })
}

pub async fn transparency(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<CheckParams>,
) -> Result<Response, ApiError> {
    let checkpoint = current_checkpoint(&state).await?;
    let signer = signer(&state.keys, &state.log.origin).map_err(ApiError::internal)?;
    let verifier_key = signer.verifier_key();
    let verifier = lgsp_tlog::NoteVerifier::parse(&verifier_key).map_err(ApiError::internal)?;
    let parsed = Checkpoint::open(&checkpoint.note, &verifier).map_err(ApiError::internal)?;
    let typed = params.index.unwrap_or_default().trim().to_owned();
    let (mut status, mut error, mut result) = (StatusCode::OK, None, None);
    if !typed.is_empty() {
        match typed.parse::<u64>() {
            Err(_) => {
                status = StatusCode::BAD_REQUEST;
                error = Some(format!(
                    "“{typed}” không phải là số thứ tự bản ghi (LGSP-Log-Index là một số tự nhiên)."
                ));
            }
            Ok(index) => match prove_entry(&state, index).await {
                Ok(entry) => {
                    result = Some(CheckResult {
                        index,
                        verified: check(&entry, &verifier),
                        tree_size: entry.tree_size,
                        rows: describe(&entry.entry),
                        proof: entry.inclusion_proof,
                    });
                }
                Err(e) if e.code() == crate::error::ErrorCode::ResourceNotFound => {
                    status = StatusCode::NOT_FOUND;
                    error = Some(format!(
                        "Nhật ký chưa có bản ghi số {index} (hiện có {} bản ghi).",
                        state.store.log_size().await?
                    ));
                }
                Err(e) => return Err(e),
            },
        }
    }
    Ok(render(
        status,
        &TransparencyPage {
            shell: Shell::new(&state.platform_name(), &caller),
            size: parsed.size,
            root: BASE64.encode(parsed.root),
            signed_at: date_time_vi(checkpoint.signed_at),
            note: checkpoint.note,
            verifier_key,
            typed,
            error,
            result,
        },
    ))
}
