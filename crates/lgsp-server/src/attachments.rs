//! Files attached to records — a ticket's documents, a sharing request's supporting papers:
//! read from a `multipart/form-data` part `file`, checked (not empty, at most
//! `max_upload_bytes`, of a type people exchange documents in, recognised from the bytes, not
//! from what the sender declares), stored in the database with their SHA-256, and served back
//! as downloads.

use axum::extract::multipart::{Multipart, MultipartError};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use lgsp_store::{Attachment, NewAttachment};
use sha2::{Digest, Sha256};

use lgsp_core::Actor;

use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorCode};
use crate::quarantine;

/// Extra room the multipart framing takes beyond the file itself.
pub const MULTIPART_OVERHEAD: usize = 64 * 1024;

fn multipart_error(error: MultipartError) -> ApiError {
    if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(ErrorCode::PayloadTooLarge)
    } else {
        ApiError::new(ErrorCode::MalformedMultipart).detail(error.body_text())
    }
}

/// A part of a console form besides the file, kept as text.
pub type FormFields = Vec<(String, String)>;

/// Reads `caller`'s upload: the part `file` and, for console forms, any text parts beside it.
/// A form sent without choosing a file has an empty `file` part: `None` then. A file that
/// carries a suspected state-secret marking is held for the auditors and refused (451,
/// `quarantine::guard_attachment`).
pub async fn read_upload(
    state: &AppState,
    caller: &Caller,
    mut multipart: Multipart,
) -> Result<(Option<NewAttachment>, FormFields), ApiError> {
    let uploaded_by = &caller.name();
    let max_bytes = state.settings.max_upload_bytes;
    let mut file = None;
    let mut fields = Vec::new();
    while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "file" {
            let filename = field.file_name().unwrap_or_default().to_owned();
            let declared = field.content_type().map(str::to_owned);
            let content = field.bytes().await.map_err(multipart_error)?.to_vec();
            if filename.is_empty() && content.is_empty() {
                continue;
            }
            file = Some(check(
                &filename,
                declared.as_deref(),
                content,
                uploaded_by,
                max_bytes,
            )?);
        } else {
            let value = field.text().await.map_err(multipart_error)?;
            fields.push((name, value));
        }
    }
    if let Some(file) = &file {
        guard(
            state,
            caller,
            &file.content,
            &file.media_type,
            &file.filename,
        )
        .await?;
    }
    Ok((file, fields))
}

/// Holds a document from `caller` that carries a suspected state-secret marking and answers
/// 451 (`quarantine::guard_attachment`); lets any other through.
pub async fn guard(
    state: &AppState,
    caller: &Caller,
    content: &[u8],
    media_type: &str,
    filename: &str,
) -> Result<(), ApiError> {
    let agency = match &caller.actor {
        Actor::Person { assignment, .. } => assignment.agency().map(|a| a.to_string()),
        Actor::System(id) => Some(id.agency.to_string()),
        Actor::Anonymous => None,
    };
    quarantine::guard_attachment(
        state,
        quarantine::Upload {
            bytes: content,
            media_type,
            filename: Some(filename),
            submitted_by: &caller.name(),
            agency: agency.as_deref(),
        },
    )
    .await
}

/// The one file of an API upload; anything but a `file` part is refused.
pub async fn read_file(
    state: &AppState,
    caller: &Caller,
    multipart: Multipart,
) -> Result<NewAttachment, ApiError> {
    let (file, fields) = read_upload(state, caller, multipart).await?;
    if let Some((name, _)) = fields.first() {
        return Err(ApiError::new(ErrorCode::MalformedMultipart).detail(format!(
            "unexpected part `{name}`: send the document as `file`"
        )));
    }
    file.ok_or_else(|| {
        ApiError::new(ErrorCode::InvalidAttachment).detail("send the document as the part `file`")
    })
}

/// The media types taken, by what the bytes are; ZIP-based office documents by extension.
fn sniff(filename: &str, content: &[u8]) -> Option<&'static str> {
    let extension = filename
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    if content.starts_with(b"%PDF-") {
        return Some("application/pdf");
    }
    if content.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some("image/png");
    }
    if content.starts_with(b"\xff\xd8\xff") {
        return Some("image/jpeg");
    }
    if content.starts_with(b"PK\x03\x04") {
        return match extension.as_str() {
            "docx" => {
                Some("application/vnd.openxmlformats-officedocument.wordprocessingml.document")
            }
            "xlsx" => Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            "odt" => Some("application/vnd.oasis.opendocument.text"),
            "ods" => Some("application/vnd.oasis.opendocument.spreadsheet"),
            _ => None,
        };
    }
    let text = std::str::from_utf8(content).ok()?;
    if text.contains('\0') {
        return None;
    }
    match extension.as_str() {
        "csv" => Some("text/csv"),
        "json" => serde_json::from_str::<serde_json::Value>(text)
            .is_ok()
            .then_some("application/json"),
        "txt" | "md" | "" => Some("text/plain"),
        _ => None,
    }
}

/// Whether a declared media type agrees with what the bytes are (browsers declare
/// `application/octet-stream` for types they do not know, and any `text/*` for text).
fn agrees(declared: &str, sniffed: &str) -> bool {
    let declared = declared.split(';').next().unwrap_or_default().trim();
    declared == sniffed
        || declared == "application/octet-stream"
        || (declared.starts_with("text/")
            && (sniffed.starts_with("text/") || sniffed == "application/json"))
        || (declared == "application/vnd.ms-excel" && sniffed == "text/csv")
}

/// Checks an uploaded file and prepares it for storage.
pub fn check(
    filename: &str,
    declared: Option<&str>,
    content: Vec<u8>,
    uploaded_by: &str,
    max_bytes: usize,
) -> Result<NewAttachment, ApiError> {
    let invalid = |why: String| ApiError::new(ErrorCode::InvalidAttachment).detail(why);
    if content.len() > max_bytes {
        return Err(ApiError::new(ErrorCode::PayloadTooLarge).detail(format!(
            "the file has {} bytes; at most {max_bytes} are taken",
            content.len()
        )));
    }
    if content.is_empty() {
        return Err(invalid("the file is empty".into()));
    }
    let filename: String = filename
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '/' | '\\' | '"'))
        .take(200)
        .collect();
    let filename = if filename.trim().is_empty() {
        "tai-lieu".to_owned()
    } else {
        filename
    };
    let media_type = sniff(&filename, &content).ok_or_else(|| {
        invalid(
            "the file type is not taken: PDF, PNG, JPEG, DOCX, XLSX, ODT, ODS, CSV, JSON or plain \
             text"
                .into(),
        )
    })?;
    if let Some(declared) = declared.filter(|d| !agrees(d, media_type)) {
        return Err(invalid(format!(
            "the file is declared `{declared}` but its content is `{media_type}`"
        )));
    }
    let sha256 = Sha256::digest(&content)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok(NewAttachment {
        sha256,
        media_type: media_type.to_owned(),
        filename,
        content,
        uploaded_by: uploaded_by.to_owned(),
    })
}

/// A stored attachment as a download: its recorded type, never rendered in place, with the
/// file name in RFC 6266/8187 form so Vietnamese names survive.
pub fn download(attachment: &Attachment, content: Vec<u8>) -> Response {
    let ascii: String = attachment
        .filename
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = attachment
        .filename
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    (
        [
            (CONTENT_TYPE, attachment.media_type.clone()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"),
            ),
            (X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        ],
        content,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checked(name: &str, declared: Option<&str>, content: &[u8]) -> Result<String, ErrorCode> {
        check(name, declared, content.to_vec(), "someone", 1024)
            .map(|a| a.media_type)
            .map_err(|e| e.code())
    }

    #[test]
    fn q15_2_g_attachments_are_typed_by_content_and_limited_in_size() {
        assert_eq!(
            checked("cv.pdf", Some("application/pdf"), b"%PDF-1.7"),
            Ok("application/pdf".into())
        );
        assert_eq!(
            checked("so-lieu.csv", Some("text/csv"), "so,tên\n1,Hà\n".as_bytes()),
            Ok("text/csv".into())
        );
        assert_eq!(
            checked("ghi-chu.txt", None, "Kính gửi Sở".as_bytes()),
            Ok("text/plain".into())
        );
        assert_eq!(
            checked("a.json", None, b"{\"a\": 1}"),
            Ok("application/json".into())
        );
        assert_eq!(
            checked("a.json", None, b"{\"a\": "),
            Err(ErrorCode::InvalidAttachment)
        );
        // An executable, a PDF declared as something else, HTML, an empty file, too large.
        assert_eq!(
            checked("setup.exe", None, b"MZ\x90\x00\x03\x00"),
            Err(ErrorCode::InvalidAttachment)
        );
        assert_eq!(
            checked("cv.pdf", Some("text/html"), b"%PDF-1.7"),
            Err(ErrorCode::InvalidAttachment)
        );
        assert_eq!(
            checked("a.html", Some("text/html"), b"<script>alert(1)</script>"),
            Err(ErrorCode::InvalidAttachment)
        );
        assert_eq!(
            checked("a.txt", None, b""),
            Err(ErrorCode::InvalidAttachment)
        );
        assert_eq!(
            checked("a.txt", None, &[b'a'; 1025]),
            Err(ErrorCode::PayloadTooLarge)
        );
        assert_eq!(
            checked("bang.xlsx", None, b"PK\x03\x04rest"),
            Ok("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".into())
        );
        assert_eq!(
            checked("x.zip", None, b"PK\x03\x04rest"),
            Err(ErrorCode::InvalidAttachment)
        );
        let named = check("../\"Công văn\".pdf", None, b"%PDF-1".to_vec(), "a", 10).unwrap();
        assert_eq!(named.filename, "..Công văn.pdf");
        assert_eq!(named.sha256.len(), 64);
    }
}
