//! The state-secret guard at work (Q1.2, Q20.2–3): content in which
//! [`lgsp_core::secret_guard`] finds a suspected state-secret marking is refused with 451
//! `state_secret_suspected`, held in quarantine, put on the transparency log and announced to
//! the auditors (the provincial police), who confirm or release it under
//! `/api/v1/quarantine`.
//!
//! What a decision means:
//! - **confirmed** — it is a state secret. The content is erased at once (the platform must
//!   not hold state secrets, Q1.2); its SHA-256, size, origin and findings stay as the record.
//!   Auditors who need the content for their case download it before confirming.
//! - **released** — it is not a state secret. The content is kept for the record, and the same
//!   content passes the guard from then on in the same scope: the same cells in a new import
//!   into the same dataset, the same body to or from the same service, the same attachment.
//!   Nothing is replayed: the importer runs the import again, the consumer sends its request
//!   again. The agency concerned is notified of either decision.

pub mod documents;
pub mod routes;

use lgsp_core::secret_guard::{Finding, QuarantineSource, SecretGuard};
use lgsp_store::{NewQuarantine, Store};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::app::AppState;
use crate::error::{ApiError, ErrorCode};
use crate::transparency::TransparencyLog;

pub use routes::routes;

/// SHA-256 of `bytes` in hex: content digests and fingerprints of flagged units.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The problem a blocked import or exchange is answered with.
pub fn blocked(id: i64, findings: &[Finding]) -> ApiError {
    let first = findings
        .first()
        .map(|f| format!(": `{}` at {}", f.matched, f.location))
        .unwrap_or_default();
    ApiError::new(ErrorCode::StateSecretSuspected)
        .detail(format!(
            "the content carries a suspected state-secret marking{first}; it is held for the \
             security auditors as item {id}"
        ))
        .with("quarantine", json!(id))
        .with("findings", json!(findings))
}

/// Holds `item` in quarantine, notifies the auditors, records the hold on the transparency
/// log; returns the problem to answer with.
pub async fn hold(state: &AppState, item: NewQuarantine) -> ApiError {
    hold_on(&state.store, &state.log, item).await
}

/// [`hold`] with the store and log given (e.g. by `lgsp import`, which has no server state).
pub async fn hold_on(store: &Store, log: &TransparencyLog, item: NewQuarantine) -> ApiError {
    match try_hold(store, log, &item).await {
        Ok(id) => blocked(id, &item.findings),
        Err(error) => error,
    }
}

async fn try_hold(
    store: &Store,
    log: &TransparencyLog,
    item: &NewQuarantine,
) -> Result<i64, ApiError> {
    let origin = match item.source {
        QuarantineSource::Import => format!(
            "nhập dữ liệu vào bộ dữ liệu {}",
            item.dataset_id.as_deref().unwrap_or("?")
        ),
        QuarantineSource::ExchangeRequest => format!(
            "yêu cầu của hệ thống {} tới dịch vụ {}",
            item.consumer.as_deref().unwrap_or("?"),
            item.service.as_deref().unwrap_or("?")
        ),
        QuarantineSource::ExchangeResponse => format!(
            "trả lời của dịch vụ {} cho hệ thống {}",
            item.service.as_deref().unwrap_or("?"),
            item.consumer.as_deref().unwrap_or("?")
        ),
        QuarantineSource::Attachment => format!(
            "tệp đính kèm {}",
            item.filename.as_deref().unwrap_or("không tên")
        ),
    };
    let rules: Vec<&str> = item.findings.iter().map(|f| f.rule.as_str()).collect();
    let body = format!(
        "Nội dung nghi chứa dấu độ mật bí mật nhà nước đã bị chặn và tạm giữ: {origin}, do {} gửi. \
         Đề nghị kiểm tra, xác nhận hoặc giải phóng.",
        item.submitted_by
    );
    let id = store
        .hold_in_quarantine(item, "Nội dung nghi chứa bí mật nhà nước bị tạm giữ", &body)
        .await?;
    record(
        log,
        json!({
            "event": "held",
            "quarantine": id,
            "source": item.source.as_str(),
            "scope": item.scope,
            "request_id": item.request_id,
            "rules": rules,
            "actor": item.submitted_by,
            "content_sha256": item.content_sha256,
        }),
    )
    .await?;
    tracing::warn!(
        quarantine = id,
        source = item.source.as_str(),
        scope = %item.scope,
        by = %item.submitted_by,
        "suspected state secret blocked and held"
    );
    Ok(id)
}

/// Appends a quarantine step to the transparency log. The leaf names the item, its origin
/// and the rules, never the content.
async fn record(log: &TransparencyLog, mut entry: serde_json::Value) -> Result<u64, ApiError> {
    if let Some(map) = entry.as_object_mut() {
        map.insert("v".into(), json!(1));
        map.insert("kind".into(), json!("quarantine"));
        map.insert(
            "time".into(),
            json!(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)),
        );
    }
    Ok(log.append(&entry).await?)
}

/// What an attachment scan is told about the upload.
pub struct Upload<'a> {
    pub bytes: &'a [u8],
    pub media_type: &'a str,
    pub filename: Option<&'a str>,
    /// Who uploaded it: a username or a system.
    pub submitted_by: &'a str,
    /// The uploader's agency, told of the auditors' decision.
    pub agency: Option<&'a str>,
}

/// Scans an uploaded attachment (text, CSV, JSON, PDF text; see [`documents`]) and, if it
/// carries a suspected marking not released before, holds it and answers 451. For whoever
/// accepts uploads: call it before storing the file.
pub async fn guard_attachment(state: &AppState, upload: Upload<'_>) -> Result<(), ApiError> {
    let findings = documents::scan(
        &state.secret_guard,
        upload.bytes,
        upload.media_type,
        upload.filename,
    );
    if findings.is_empty() {
        return Ok(());
    }
    let digest = sha256_hex(upload.bytes);
    if state
        .store
        .released_fingerprints("attachment")
        .await?
        .contains(&digest)
    {
        return Ok(());
    }
    Err(hold(
        state,
        NewQuarantine {
            source: QuarantineSource::Attachment,
            scope: "attachment".into(),
            dataset_id: None,
            import_job: None,
            request_id: None,
            service: None,
            consumer: None,
            agency_code: upload.agency.map(str::to_owned),
            submitted_by: upload.submitted_by.to_owned(),
            media_type: upload.media_type.to_owned(),
            filename: upload.filename.map(str::to_owned),
            content: upload.bytes.to_vec(),
            content_bytes: upload.bytes.len() as i64,
            content_sha256: digest.clone(),
            fingerprints: vec![digest],
            findings,
        },
    )
    .await)
}

/// The guard of a node, built from the settings (checked when they were loaded).
pub fn guard(settings: &crate::settings::Settings) -> anyhow::Result<SecretGuard> {
    Ok(settings.secret_guard()?)
}

/// A blocked import's flagged rows, held in quarantine; returns the problem the job fails with.
pub async fn hold_import(
    store: &Store,
    log: &TransparencyLog,
    table: &lgsp_store::RecordTable,
    job: &str,
    watch: &crate::datasets::import::SecretWatch,
) -> ApiError {
    let submitted_by = match store.import_job(table.dataset.as_str(), job).await {
        Ok(Some(found)) => found.created_by,
        _ => "unknown".into(),
    };
    let content = watch.held_content();
    hold_on(
        store,
        log,
        NewQuarantine {
            source: QuarantineSource::Import,
            scope: format!("dataset:{}", table.dataset),
            dataset_id: Some(table.dataset.to_string()),
            import_job: Some(job.to_owned()),
            request_id: None,
            service: None,
            consumer: None,
            agency_code: None,
            submitted_by,
            media_type: "application/json".into(),
            filename: None,
            content_bytes: content.len() as i64,
            content_sha256: sha256_hex(&content),
            content,
            fingerprints: watch.fingerprints.clone(),
            findings: watch.findings.clone(),
        },
    )
    .await
}
