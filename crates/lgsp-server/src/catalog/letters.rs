//! Reading a proposal's multipart upload: the proposal as JSON and its official letter as PDF.

use axum::extract::multipart::{Multipart, MultipartError};
use axum::http::StatusCode;
use lgsp_core::catalog::Classification;
use lgsp_core::proposal::ProposalAction;
use lgsp_core::Text;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::error::{ApiError, ErrorCode};

/// The `proposal` part of a submission.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProposalForm {
    /// What is proposed: `{"action": "add" | "modify", "entry": {…}}` or
    /// `{"action": "withdraw", "code": "…"}`.
    pub change: ProposalAction,
    /// Why (mandatory, Q5.2).
    pub reason: Text,
    /// The classification stamped on the letter; state secrets are refused (Q1.2).
    #[serde(default)]
    pub letter_classification: Classification,
}

/// The official letter (*công văn*), checked to be a non-empty PDF.
pub struct Letter {
    pub filename: String,
    pub content: Vec<u8>,
    pub sha256: String,
}

/// What a proposal upload carried.
#[derive(Default)]
pub struct Upload {
    pub form: Option<ProposalForm>,
    pub letter: Option<Letter>,
}

fn multipart_error(error: MultipartError) -> ApiError {
    if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(ErrorCode::PayloadTooLarge)
    } else {
        ApiError::new(ErrorCode::MalformedMultipart).detail(error.body_text())
    }
}

/// Reads the parts `proposal` (JSON) and `letter` (PDF); any other part is refused so that a
/// misspelt part name is not silently ignored.
pub async fn read_upload(mut multipart: Multipart) -> Result<Upload, ApiError> {
    let mut upload = Upload::default();
    while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
        match field.name() {
            Some("proposal") => {
                let bytes = field.bytes().await.map_err(multipart_error)?;
                let form = serde_json::from_slice::<ProposalForm>(&bytes).map_err(|e| {
                    let code = if e.is_syntax() || e.is_eof() {
                        ErrorCode::MalformedJson
                    } else if e.to_string().contains("unknown field") {
                        ErrorCode::UnknownField
                    } else {
                        ErrorCode::InvalidBody
                    };
                    ApiError::new(code).detail(format!("proposal: {e}"))
                })?;
                upload.form = Some(form);
            }
            Some("letter") => {
                let filename = field.file_name().unwrap_or("cong-van.pdf").to_owned();
                let declared = field.content_type().map(str::to_owned);
                let content = field.bytes().await.map_err(multipart_error)?.to_vec();
                upload.letter = Some(check_pdf(filename, declared.as_deref(), content)?);
            }
            other => {
                return Err(ApiError::new(ErrorCode::MalformedMultipart).detail(format!(
                    "unexpected part `{}`: send `proposal` (JSON) and `letter` (PDF)",
                    other.unwrap_or_default()
                )))
            }
        }
    }
    Ok(upload)
}

/// A letter must be a PDF: declared so (or undeclared) and starting with the PDF signature.
fn check_pdf(
    filename: String,
    declared: Option<&str>,
    content: Vec<u8>,
) -> Result<Letter, ApiError> {
    let invalid = |why: &str| ApiError::new(ErrorCode::InvalidAttachment).detail(why);
    if content.is_empty() {
        return Err(invalid("the letter is empty"));
    }
    if declared.is_some_and(|t| t != "application/pdf" && t != "application/octet-stream") {
        return Err(invalid("the letter must be a PDF (application/pdf)"));
    }
    if !content.starts_with(b"%PDF-") {
        return Err(invalid("the letter is not a PDF file"));
    }
    let sha256 = Sha256::digest(&content)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let filename: String = filename
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '/' | '\\' | '"'))
        .take(200)
        .collect();
    Ok(Letter {
        filename,
        content,
        sha256,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_must_be_pdfs() {
        let ok = check_pdf(
            "cv.pdf".into(),
            Some("application/pdf"),
            b"%PDF-1.7 x".to_vec(),
        )
        .unwrap();
        assert_eq!(ok.sha256.len(), 64);
        assert!(check_pdf("cv.pdf".into(), None, Vec::new()).is_err());
        assert!(check_pdf(
            "cv.docx".into(),
            Some("application/msword"),
            b"%PDF-1.7".to_vec()
        )
        .is_err());
        assert!(check_pdf(
            "cv.pdf".into(),
            Some("application/pdf"),
            b"PK\x03\x04".to_vec()
        )
        .is_err());
        let named = check_pdf("../../etc/\"x\".pdf".into(), None, b"%PDF-1".to_vec()).unwrap();
        assert_eq!(named.filename, "....etcx.pdf");
    }
}
